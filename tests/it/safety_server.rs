//! A hostile server: it echoes the API key in every status, body and header, sends
//! terminal escapes in its feedback, stalls, fails, and floods. Whatever it does, no key
//! and no control character leaves grill, a grading keeps to `--timeout`, a flood is
//! refused, and `eval` stops against a dead endpoint.

use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, Request, Respond, ResponseTemplate};

use crate::llm::{ANSWER, Fake, completion, grade_json, practise};
use crate::util::{Run, Sandbox, fixture_bank};

/// Not shaped like a key (no `sk-`, under 32 characters): only its registration as the
/// configured key can catch it.
const KEY: &str = "open-sesame-hostile-key";

/// A grade whose every free-text field carries the key, `Bearer <key>`, the key spelt in
/// JSON escapes (which only decode when the grade is parsed) and terminal escapes.
fn poisoned_grade() -> String {
    let mut g = grade_json("Blue and yellow pigments make green");
    g["analysis"] = json!(format!("Echo {KEY}; Authorization: Bearer {KEY}; ESCAPED_KEY"));
    g["feedback"] = json!({
        "strengths": [format!("\u{1b}]0;pwned\u{7}{KEY}"), "ESCAPES"],
        "gaps": [format!("Bearer {KEY}")],
        "next_step": format!("\u{1b}[2J\u{9b}31mRead {KEY} again ESCAPES")
    });
    // Escapes as JSON text inside the content: they become control characters (and the
    // key) only after grill parses the grade.
    g.to_string()
        .replace("ESCAPED_KEY", &KEY.chars().map(|c| format!("\\u{:04x}", c as u32)).collect::<String>())
        .replace("ESCAPES", "\\u001b]0;pwned\\u0007\\u001b[2J\\u009b31m")
}

/// Cycles through every status, each body and header echoing the key.
struct Hostile {
    seen: AtomicUsize,
    served: Mutex<Vec<u16>>,
}

impl Hostile {
    fn new() -> Hostile {
        Hostile { seen: AtomicUsize::new(0), served: Mutex::new(Vec::new()) }
    }
}

fn echoing(status: u16) -> ResponseTemplate {
    ResponseTemplate::new(status)
        .insert_header("x-echo", format!("Bearer {KEY}").as_str())
        .insert_header("www-authenticate", format!("Bearer realm=\"{KEY}\"").as_str())
}

impl Respond for Hostile {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        const CYCLE: [u16; 11] = [200, 503, 200, 429, 201, 500, 401, 200, 403, 400, 201];
        let n = self.seen.fetch_add(1, Ordering::SeqCst);
        let status = CYCLE[n % CYCLE.len()];
        self.served.lock().unwrap().push(status);
        let error = |m: String| json!({"error": {"message": m, "type": "invalid_request_error"}});
        match status {
            200 => echoing(200).set_body_json(completion(&poisoned_grade())),
            // A 2xx whose content is no grade: it is kept as the raw reply.
            201 => echoing(200).set_body_json(completion(&format!(
                "I will not grade. Your key is {KEY}, sent as Bearer {KEY}.\u{1b}]0;pwned\u{7}"
            ))),
            429 => echoing(429)
                .insert_header("retry-after", "0")
                .set_body_json(error(format!("Rate limit reached for key {KEY}"))),
            401 | 403 => echoing(status)
                .set_body_json(error(format!("Incorrect API key provided: {KEY} (Authorization: Bearer {KEY})"))),
            400 => echoing(400).set_body_json(error(format!("bad request\u{1b}[2J from {KEY}"))),
            s => echoing(s).set_body_string(format!("upstream failed for Bearer {KEY}\n{KEY}")),
        }
    }
}

/// Every file under `dir`, recursively.
fn files_under(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let p = entry.unwrap().path();
            if p.is_dir() { stack.push(p) } else { out.push(p) }
        }
    }
    out
}

/// What in `text` must not be there: the key, and control characters (raw, or as JSON
/// escapes in a stored file).
fn offences(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    if text.contains(KEY) {
        found.push("the key".to_string());
    }
    if let Some(c) = text.chars().find(|&c| c.is_control() && c != '\n' && c != '\t' && c != '\r') {
        found.push(format!("control character U+{:04X}", c as u32));
    }
    let lower = text.to_lowercase();
    for esc in ["\\u001b", "\\u0007", "\\u009b"] {
        if let Some(at) = lower.find(esc) {
            let around: String = text[at.saturating_sub(200).min(at)..].chars().take(300).collect();
            found.push(format!("the JSON escape {esc} in …{around}…"));
        }
    }
    found
}

/// Fails naming every output and file that carries the key or a control character.
#[track_caller]
fn assert_clean(runs: &[(String, Run)], sb: &Sandbox) -> usize {
    let mut bad = Vec::new();
    for (what, run) in runs {
        for (stream, text) in [("stdout", &run.stdout), ("stderr", &run.stderr)] {
            for o in offences(text) {
                bad.push(format!("{what} {stream}: {o}\n{text}"));
            }
        }
    }
    let files = files_under(sb.dir.path());
    for f in &files {
        let text = String::from_utf8_lossy(&std::fs::read(f).unwrap()).into_owned();
        for o in offences(&text) {
            bad.push(format!("{}: {o}", f.display()));
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n\n"));
    files.len()
}

const ENV: [(&str, &str); 2] = [("GRILL_API_KEY", KEY), ("GRILL_RETRY_BASE_MS", "5")];

#[test]
fn a_server_echoing_the_key_and_escapes_leaks_neither_anywhere() {
    let fake = Fake::start();
    let hostile = Hostile::new();
    fake.mount(Mock::given(method("POST")).and(path("/v1/chat/completions")).respond_with(hostile));
    fake.mount(Mock::given(method("GET")).and(path("/v1/models")).respond_with(
        echoing(200).set_body_json(json!({"data": [{"id": "fake-model"}, {"id": format!("Bearer {KEY}")}]})),
    ));
    let sb = Sandbox::new();
    let bank = fixture_bank();
    let bank = bank.to_str().unwrap();
    let base = fake.base();
    let common = ["--no-builtin-bank", "--bank", bank, "--base-url", &base, "--model", "fake-model"];
    let with = |args: &[&'static str]| -> Vec<&str> { common.iter().copied().chain(args.iter().copied()).collect() };
    let answers = format!("{ANSWER}\n---\nScreens add light.\n---\nThe moon pulls the water.\n---\nSpring tides.\n");
    let out = sb.path("work/session.html");
    let md = sb.path("work/session.md");
    let mut runs: Vec<(String, Run)> = Vec::new();
    let plans: Vec<(Vec<&str>, &str)> = vec![
        (with(&["practice", "--question", "colours", "--question", "tides", "--follow-ups", "1"]), &answers),
        (with(&["grade", "--question", "colours"]), ANSWER),
        (with(&["grade", "--question", "colours", "--json"]), ANSWER),
        (
            with(&["interview", "--question", "colours", "--question", "tides", "--follow-ups", "1", "--jobs", "1"]),
            &answers,
        ),
        (with(&["regrade", "latest"]), ""),
        (with(&["regrade", "--pending"]), ""),
        (vec!["--base-url", &base, "doctor"], ""),
        (vec!["--base-url", &base, "--model", "fake-model", "doctor", "--json"], ""),
        (vec!["--no-builtin-bank", "--bank", bank, "review", "show", "latest"], ""),
        (vec!["--no-builtin-bank", "--bank", bank, "review", "show", "latest", "--format", "md"], ""),
        (
            vec![
                "--no-builtin-bank",
                "--bank",
                bank,
                "review",
                "export",
                "latest",
                "--format",
                "html",
                "-o",
                out.to_str().unwrap(),
            ],
            "",
        ),
        (
            vec![
                "--no-builtin-bank",
                "--bank",
                bank,
                "review",
                "export",
                "latest",
                "--format",
                "md",
                "-o",
                md.to_str().unwrap(),
            ],
            "",
        ),
        (vec!["--base-url", &base, "--model", "fake-model", "eval", "--question", "gil"], ""),
    ];
    for (args, stdin) in plans {
        let run = sb.run_with(&args, stdin, &ENV);
        runs.push((args.join(" "), run));
    }
    let files = assert_clean(&runs, &sb);

    // The hostile paths were really taken: every status was served, something was
    // graded, something was not, and the export was written.
    let served = fake.rt.block_on(fake.server.received_requests()).unwrap().len();
    assert!(served > 20, "only {served} requests reached the server");
    let printed: String = runs.iter().map(|(_, r)| format!("{}{}", r.stdout, r.stderr)).collect();
    assert!(printed.contains("[redacted]"), "echoes of the key were shown, redacted:\n{printed}");
    assert!(printed.contains("Not graded:") && printed.contains("Score:"), "{printed}");
    assert!(out.is_file() && md.is_file());
    assert!(files >= 4, "transcripts, exports and caches were scanned ({files} files)");
    let all = sb.transcript_files().iter().map(|f| std::fs::read_to_string(f).unwrap()).collect::<String>();
    for status in ["503", "429", "500", "401", "403", "400"] {
        assert!(
            printed.contains(&format!("answered {status}")) || all.contains(&format!("answered {status}")),
            "status {status} was met:\n{printed}"
        );
    }
    assert!(
        all.contains("\"raw_reply\": \"I will not grade. Your key is [redacted], sent as Bearer [redacted];pwned\""),
        "the raw reply is kept, scrubbed:\n{all}"
    );
}

#[test]
fn the_start_up_model_check_and_doctor_do_not_echo_the_key() {
    let fake = Fake::start();
    fake.mount(Mock::given(method("GET")).and(path("/v1/models")).respond_with(echoing(401).set_body_json(
        json!({"error": {"message": format!("Incorrect API key provided: {KEY}\u{1b}[2J {}", "flood ".repeat(20_000))}}),
    )));
    let sb = Sandbox::new();
    let bank = fixture_bank();
    let base = fake.base();
    let practice = sb.run_with(
        &[
            "--no-builtin-bank",
            "--bank",
            bank.to_str().unwrap(),
            "--base-url",
            &base,
            "practice",
            "--question",
            "colours",
        ],
        &format!("{ANSWER}\n"),
        &ENV,
    );
    let doctor = sb.run_with(&["--base-url", &base, "doctor"], "", &ENV);
    assert_clean(&[("practice".into(), practice), ("doctor".into(), doctor)], &sb);
    let doctor = sb.run_with(&["--base-url", &base, "doctor"], "", &ENV);
    doctor.code(2);
    let want = format!(
        "✗ reachable          {base}/models answered 401: Incorrect API key provided: [redacted][2J flood flood"
    );
    let line = doctor.stdout.lines().find(|l| l.starts_with("✗ reachable")).unwrap_or_default();
    assert!(line.starts_with(&want) && line.ends_with("more bytes cut]"), "{}", doctor.stdout);
    assert!(line.len() < 500, "the message is capped: {} bytes", line.len());
}

/// A server that takes a while and then fails, asking for a wait before each retry: per
/// request, 4 tries × 1.5 s plus 3 waits × 3 s came to 15 s for one answer.
#[test]
fn timeout_bounds_the_whole_grading_not_each_try() {
    let fake = Fake::start();
    fake.mount(
        Mock::given(method("POST")).respond_with(
            ResponseTemplate::new(503)
                .insert_header("retry-after", "3")
                .set_body_string("overloaded")
                .set_delay(Duration::from_millis(1500)),
        ),
    );
    let sb = Sandbox::new();
    let started = Instant::now();
    let run = practise(&sb, &fake.base(), ANSWER, &["--timeout", "2"]);
    let took = started.elapsed();
    run.success();
    let g = &sb.only_transcript()["turns"][0]["grades"][0]["grade"];
    assert_eq!(g["status"], "ungraded");
    let url = format!("{}/chat/completions", fake.base());
    assert_eq!(
        g["reason"].as_str().unwrap(),
        format!(
            "no reply from {url} within 2 s (the --timeout limit, every try included); the last try: {url} answered \
             503: overloaded (local models can be slow: raise the limit with --timeout SECS (or GRILL_TIMEOUT))"
        )
    );
    assert_eq!(fake.chat_bodies().len(), 1, "no retry is started that cannot finish in time");
    // A generous guard against the old per-try limit (15 s here), not a timing test.
    assert!(took < Duration::from_secs(10), "took {took:?}");
}

#[test]
fn a_stalled_reply_ends_at_the_deadline_across_step_downs() {
    // Each mode is rejected slowly, then the last one stalls: the deadline covers them all.
    let fake = Fake::start();
    let rejected = json!({"error": {"message": "response_format json_schema is not supported"}});
    fake.mount(
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(400).set_body_json(rejected).set_delay(Duration::from_millis(800))),
    );
    let sb = Sandbox::new();
    let started = Instant::now();
    let run = practise(&sb, &fake.base(), ANSWER, &["--timeout", "1"]);
    run.success();
    let g = &sb.only_transcript()["turns"][0]["grades"][0]["grade"];
    assert_eq!(g["status"], "ungraded");
    let url = format!("{}/chat/completions", fake.base());
    assert_eq!(
        g["reason"].as_str().unwrap(),
        format!(
            "no reply from {url} within 1 s (the --timeout limit, every try included) (local models can be slow: \
             raise the limit with --timeout SECS (or GRILL_TIMEOUT))"
        )
    );
    assert!(fake.chat_bodies().len() <= 2, "step-downs stop at the deadline");
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[test]
fn a_fifty_megabyte_reply_is_refused_and_the_transcript_stays_small() {
    let fake = Fake::start();
    let mut big = grade_json("Blue and yellow pigments make green");
    big["analysis"] = Value::String("flood ".repeat(50 << 20 >> 3));
    fake.mount(
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(200).set_body_json(completion(&big.to_string()))),
    );
    let sb = Sandbox::new();
    let run = practise(&sb, &fake.base(), ANSWER, &[]);
    run.success();
    let url = format!("{}/chat/completions", fake.base());
    let reason = format!(
        "the reply from {url} is larger than 256 KiB, the most grill reads for it; it was refused (the server sent \
         far more than a grading needs: check the model and the server)"
    );
    assert!(run.stdout.contains(&format!("Not graded: {reason}")), "{}", run.stdout);
    assert_eq!(sb.only_transcript()["turns"][0]["grades"][0]["grade"]["reason"], reason.as_str());
    assert_eq!(fake.chat_bodies().len(), 1, "a flood is not answered with a repair request");
    let size = std::fs::metadata(&sb.transcript_files()[0]).unwrap().len();
    assert!(size < 100_000, "the transcript is {size} bytes");
}

#[test]
fn a_fifty_megabyte_error_message_is_shown_capped() {
    let fake = Fake::start();
    let body = json!({"error": {"message": "x".repeat(50 << 20)}});
    fake.mount(Mock::given(method("POST")).respond_with(ResponseTemplate::new(400).set_body_json(body)));
    let sb = Sandbox::new();
    let run = practise(&sb, &fake.base(), ANSWER, &[]);
    run.success();
    let line = run.stdout.lines().find(|l| l.contains("Not graded:")).unwrap();
    assert!(line.len() < 800, "the shown error is {} bytes", line.len());
    let size = std::fs::metadata(&sb.transcript_files()[0]).unwrap().len();
    assert!(size < 100_000, "the transcript is {size} bytes");
}

#[test]
fn eval_against_a_dead_endpoint_stops_and_fails() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let sb = Sandbox::new();
    let base = format!("http://127.0.0.1:{port}/v1");
    let run = sb.run_with(
        &["--base-url", &base, "--model", "fake-model", "eval", "--jobs", "1"],
        "",
        &[("GRILL_RETRY_BASE_MS", "5")],
    );
    run.code(2);
    assert!(run.stdout.is_empty(), "no figures: {}", run.stdout);
    let want = format!(
        "error: stopped: http://127.0.0.1:{port} failed for 3 answers in a row, nothing was measured; the last error: \
         cannot reach {base}/chat/completions: Connection refused (os error 111) (is the server running? Check the \
         address with `grill config` or `grill doctor`)"
    );
    assert!(run.stderr.lines().any(|l| l == want), "{}", run.stderr);
}
