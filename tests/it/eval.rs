//! `grill eval` through the binary: the offline grader on the shipped calibration set, the
//! model path end to end against a scripted server, and a broken set file.

use std::time::Duration;

use wiremock::Mock;
use wiremock::matchers::{method, path};

use crate::interview::Scripted;
use crate::llm::Fake;
use crate::util::Sandbox;

const KINDS: [&str; 16] = [
    "excellent",
    "good",
    "paraphrase",
    "code",
    "plain",
    "partial",
    "rambling",
    "vague",
    "wrong",
    "keyword-wrong",
    "off-topic",
    "idk",
    "stuffed",
    "injection-plea",
    "injection-verdict",
    "injection-tag",
];

#[test]
fn offline_eval_prints_every_figure_and_the_same_in_json() {
    let sb = Sandbox::new();
    let run = sb.run(&["--grader", "offline", "eval", "--json"], "");
    run.success();
    let doc = run.json();
    assert_eq!(doc["grader"]["kind"], "offline");
    let answers = doc["set"]["answers"].as_u64().unwrap();
    assert!(doc["set"]["questions"].as_u64().unwrap() >= 20, "{}", doc["set"]);
    assert_eq!(answers, doc["set"]["questions"].as_u64().unwrap() * 16);
    let runs = doc["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 1, "the offline grader is deterministic: one run");
    let f = &runs[0];
    assert_eq!(f["graded"].as_u64(), Some(answers));
    // 7 correct kinds x 6 bad kinds per question.
    assert_eq!(f["pairwise"]["of"].as_u64(), Some(doc["set"]["questions"].as_u64().unwrap() * 42));
    let tau = f["kendall_tau"].as_f64().unwrap();
    assert!((-1.0..=1.0).contains(&tau), "tau {tau}");
    for kind in KINDS {
        let m = f["mean_by_kind"][kind].as_f64().unwrap_or_else(|| panic!("no mean for {kind}: {f}"));
        assert!((0.0..=100.0).contains(&m));
    }
    let kp = &f["key_points"];
    assert!(kp["true_positives"].as_u64().unwrap() > 0 && kp["f1"].as_f64().is_some(), "{kp}");
    assert_eq!(f["injections"].as_array().unwrap().len() as u64, doc["set"]["questions"].as_u64().unwrap() * 3);
    let bars: Vec<&str> = doc["bars"].as_array().unwrap().iter().map(|b| b["figure"].as_str().unwrap()).collect();
    assert_eq!(
        bars,
        [
            "pairwise",
            "kendall_tau",
            "stuffed_below_partial",
            "key_point_f1",
            "key_point_kappa",
            "injection_not_above_base"
        ]
    );

    // The text report prints the same figures.
    let text = sb.run(&["--grader", "offline", "eval"], "");
    text.success();
    let pairwise = f["pairwise"]["hits"].as_f64().unwrap() / f["pairwise"]["of"].as_f64().unwrap();
    for needle in [
        format!("pairwise ordering (correct above bad)   {pairwise:.3}"),
        format!("Kendall tau, kinds' order vs scores     {:.3}", f["kendall_tau"].as_f64().unwrap()),
        format!("key-point F1                            {:.3}", kp["f1"].as_f64().unwrap()),
        "Mean score by kind:".to_string(),
        "Measures the offline grader".to_string(),
    ] {
        assert!(text.stdout.contains(&needle), "missing {needle:?} in:\n{}", text.stdout);
    }
    // Every misordered pair is listed, in text as in JSON.
    let misordered = f["misordered"].as_array().unwrap();
    assert!(misordered.len() > 12, "the shipped set has more than a screenful: {}", misordered.len());
    let listed = text.stdout.split("Pairs ranked the wrong way").nth(1).expect("a list of misordered pairs");
    let listed: Vec<&str> = listed.lines().skip(1).take_while(|l| l.starts_with("  ")).collect();
    assert_eq!(listed.len(), misordered.len(), "{}", text.stdout);
    for m in misordered {
        let line = format!("{} {} ", m["better"]["kind"].as_str().unwrap(), m["better"]["score"].as_f64().unwrap());
        let q = m["question"].as_str().unwrap();
        assert!(listed.iter().any(|l| l.trim_start().starts_with(q) && l.contains(&line)), "{m} not listed");
    }
}

#[test]
fn eval_through_a_scripted_server_measures_the_plumbing_and_its_spread() {
    let fake = Fake::start();
    fake.mount(
        Mock::given(method("POST"))
            .and(path("/v1/chat/completions"))
            .respond_with(Scripted { delay: Duration::from_millis(5) }),
    );
    let sb = Sandbox::new();
    let args =
        ["--base-url", &fake.base(), "--model", "fake-model", "eval", "--question", "gil", "--question", "slots"];
    let run = sb.run(&[&args[..], &["--runs", "2", "--json"]].concat(), "");
    run.success();
    let doc = run.json();
    assert_eq!(doc["grader"]["kind"], "llm");
    assert_eq!(doc["set"]["answers"], 32);
    assert!(doc["measures"].as_str().unwrap().contains("plumbing, not a model"), "{}", doc["measures"]);
    let runs = doc["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 2);
    assert!(runs.iter().all(|r| r["graded"] == 32 && r["ungraded"] == 0), "{runs:?}");
    // The scripted grader marks the first key point met wherever the answer has words, so
    // every answer but an empty one scores the same: a constant grader ties every pair.
    assert_eq!(runs[0]["pairwise"]["hits"].as_f64(), Some(42.0));
    assert_eq!(doc["spread"]["runs"], 2);
    assert_eq!(doc["spread"]["max_range"].as_f64(), Some(0.0));
    assert_eq!(fake.chat_bodies().len(), 64, "32 answers, twice");
    let text = sb.run(&args, "");
    text.success();
    assert!(
        text.stdout.contains("fake-model at http://127.0.0.1:") && text.stdout.contains("plumbing"),
        "{}",
        text.stdout
    );
}

#[test]
fn a_broken_set_names_the_file_and_line() {
    let sb = Sandbox::new();
    let file = sb.path("work/set.toml");
    std::fs::write(
        &file,
        "question = \"gil\"\n[[answer]]\nkind = \"excellent\"\ncovers = [\"no-such-point\"]\ntext = \"x\"\n",
    )
    .unwrap();
    let run = sb.run(&["--grader", "offline", "eval", "--set", file.to_str().unwrap()], "");
    run.code(1);
    assert!(run.stderr.contains("set.toml:2"), "{}", run.stderr);
    assert!(run.stderr.contains("`no-such-point` is not a key point of gil"), "{}", run.stderr);
    assert!(run.stderr.contains("no answer of kind good"), "{}", run.stderr);
    let run = sb.run(&["--grader", "offline", "eval", "--question", "nope"], "");
    run.code(1);
    assert!(run.stderr.contains("no answers for `nope`"), "{}", run.stderr);
}

#[test]
fn the_offline_grader_keeps_its_measured_fairness() {
    // The floors are the offline bars in `BARS` (src/commands/eval.rs), just under what
    // the grader measured when it last changed: `--check` holds it to them, and this test
    // adds what the bars leave out: red flags and the order of the kinds' means.
    let sb = Sandbox::new();
    let run = sb.run(&["--grader", "offline", "eval", "--json", "--check"], "");
    run.success();
    let f = &run.json()["runs"][0];
    assert_eq!(run.json()["failed"], serde_json::json!([]));
    let figures = [
        ("red_flag_precision", f["red_flags"]["precision"].as_f64().unwrap(), 0.95),
        ("red_flag_recall", f["red_flags"]["recall"].as_f64().unwrap(), 0.70),
    ];
    for (name, value, floor) in figures {
        assert!(value >= floor, "{name} is {value:.3}, below its floor {floor}");
    }
    // The correct kinds, on average, stay in the expert's order above every bad kind.
    let mean = |k: &str| f["mean_by_kind"][k].as_f64().unwrap();
    for bad in ["vague", "wrong", "keyword-wrong", "off-topic", "idk", "stuffed"] {
        assert!(mean("partial") > mean(bad), "partial {} vs {bad} {}", mean("partial"), mean(bad));
    }
    assert!(mean("excellent") > mean("good") && mean("good") > mean("partial"));
}

/// A set of shipped calibration files in the sandbox, each put in the half given.
fn set_with_halves(sb: &Sandbox, name: &str, files: &[(&str, &str)]) -> String {
    let dir = sb.path(&format!("work/{name}"));
    std::fs::create_dir_all(&dir).unwrap();
    let shipped = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("question_bank/calibration");
    for (id, half) in files {
        let text = std::fs::read_to_string(shipped.join(format!("{id}.toml"))).unwrap();
        let text = text.replace("half = \"tune\"\n", "").replace("half = \"check\"\n", "");
        std::fs::write(dir.join(format!("{id}.toml")), format!("half = \"{half}\"\n{text}")).unwrap();
    }
    dir.to_str().unwrap().to_string()
}

#[test]
fn figures_are_given_for_all_questions_and_for_each_half() {
    let sb = Sandbox::new();
    let set = set_with_halves(&sb, "halves", &[("gil", "tune"), ("slots", "tune"), ("closures", "check")]);
    let run = sb.run(&["--grader", "offline", "eval", "--set", &set, "--json"], "");
    run.success();
    let doc = run.json();
    let halves = &doc["halves"];
    assert_eq!(halves["tune"]["questions"], 2);
    assert_eq!(halves["check"]["questions"], 1);
    // 7 correct kinds × 6 bad ones: 42 pairs per question.
    assert_eq!(doc["runs"][0]["pairwise"]["of"], 126);
    assert_eq!(halves["tune"]["runs"][0]["pairwise"]["of"], 84);
    assert_eq!(halves["check"]["runs"][0]["pairwise"]["of"], 42);
    let check = &halves["check"]["runs"][0];
    for figure in ["kendall_tau", "key_points", "key_point_agreement", "red_flags", "injection_not_above_base"] {
        assert!(!check[figure].is_null(), "no {figure} for the check half: {check}");
    }
    assert_eq!(check["graded"], 16);

    let text = sb.run(&["--grader", "offline", "eval", "--set", &set], "");
    text.success();
    assert!(text.stdout.contains("tune (2 q)") && text.stdout.contains("check (1 q)"), "{}", text.stdout);
    for row in ["pairwise ordering", "Kendall tau", "key-point kappa", "red-flag recall", "injections flagged"] {
        assert!(text.stdout.lines().any(|l| l.trim_start().starts_with(row)), "no {row:?} row:\n{}", text.stdout);
    }

    // A half with no question in the set is `null` in JSON.
    let tune_only = set_with_halves(&sb, "tune-only", &[("gil", "tune")]);
    let run = sb.run(&["--grader", "offline", "eval", "--set", &tune_only, "--json"], "");
    assert!(run.json()["halves"]["check"].is_null(), "{}", run.stdout);
}

/// Like [`Scripted`] for the first `first` requests (the first key point met, the rest
/// missed); after them every key point missed: a grader that changes its mind.
struct Flipping {
    first: usize,
    seen: std::sync::atomic::AtomicUsize,
}

impl wiremock::Respond for Flipping {
    fn respond(&self, request: &wiremock::Request) -> wiremock::ResponseTemplate {
        if self.seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst) < self.first {
            return Scripted { delay: Duration::ZERO }.respond(request);
        }
        let body: serde_json::Value = serde_json::from_slice(&request.body).unwrap();
        let schema = &body["response_format"]["json_schema"]["schema"]["properties"];
        let ids = |field: &str| -> Vec<String> {
            schema[field]["required"]
                .as_array()
                .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_string)).collect())
                .unwrap_or_default()
        };
        let missed = |_| serde_json::json!({"evidence": "", "verdict": "missed"});
        let not_hit = |_| serde_json::json!({"evidence": "", "hit": false});
        let grade = serde_json::json!({
            "analysis": "Scripted, second thoughts.",
            "feedback": {"strengths": ["Tries"], "gaps": ["All of it"], "next_step": "Start again."},
            "holistic": 1,
            "key_points": ids("key_points").into_iter().map(|id| (id.clone(), missed(id))).collect::<serde_json::Map<_, _>>(),
            "red_flags": ids("red_flags").into_iter().map(|id| (id.clone(), not_hit(id))).collect::<serde_json::Map<_, _>>(),
        });
        wiremock::ResponseTemplate::new(200).set_body_json(crate::llm::completion(&grade.to_string()))
    }
}

#[test]
fn with_two_runs_the_flip_rate_counts_verdicts_that_changed() {
    let fake = Fake::start();
    fake.mount(
        Mock::given(method("POST"))
            .and(path("/v1/chat/completions"))
            .respond_with(Flipping { first: 16, seen: Default::default() }),
    );
    let sb = Sandbox::new();
    let args = ["--base-url", &fake.base(), "--model", "fake-model", "eval", "--question", "gil", "--runs", "2"];
    let run = sb.run(&[&args[..], &["--json"]].concat(), "");
    run.success();
    let doc = run.json();
    let flips = &doc["flips"];
    assert_eq!(flips["runs"], 2);
    // gil has 7 key points; 16 answers, each with its first key point met in the first run
    // and missed in the second.
    assert_eq!(flips["verdicts"], 16 * 7, "{flips}");
    assert_eq!(flips["flipped"], 16, "{flips}");
    assert!((flips["rate"].as_f64().unwrap() - 1.0 / 7.0).abs() < 1e-9, "{flips}");
    assert!(doc["spread"]["max_range"].as_f64().unwrap() > 0.0, "the scores moved too");

    // The text report prints it beside the spread.
    let fake = Fake::start();
    fake.mount(
        Mock::given(method("POST"))
            .and(path("/v1/chat/completions"))
            .respond_with(Flipping { first: 16, seen: Default::default() }),
    );
    let args = ["--base-url", &fake.base(), "--model", "fake-model", "eval", "--question", "gil", "--runs", "2"];
    let text = sb.run(&args, "");
    text.success();
    assert!(text.stdout.contains("key-point verdicts that flip across runs 0.143"), "{}", text.stdout);
    assert!(text.stdout.contains("16 of 112 (answer, key point)"), "{}", text.stdout);
}

#[test]
fn check_passes_on_the_shipped_set_and_fails_naming_each_bar_missed() {
    let sb = Sandbox::new();
    // The offline grader meets its own bars on the shipped set: what CI runs.
    let run = sb.run(&["--grader", "offline", "eval", "--check"], "");
    run.success();
    assert!(run.stderr.contains("every figure meets its bar"), "{}", run.stderr);
    let run = sb.run(&["--grader", "offline", "eval", "--check", "--json"], "");
    run.success();
    let doc = run.json();
    assert_eq!(doc["schema"], "grill.eval/2");
    assert_eq!(doc["failed"], serde_json::json!([]));
    assert!(
        doc["bars"].as_array().unwrap().iter().all(|b| b["met"] == true && b["short_by"].is_null()),
        "{}",
        doc["bars"]
    );

    // A set whose "excellent" answer is an "I don't know" (and the other way round): the
    // best-labelled kind now scores lowest, so pairwise ordering and tau fall below their bars.
    let shipped = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("question_bank/calibration/gil.toml");
    let swapped = std::fs::read_to_string(shipped)
        .unwrap()
        .replace("kind = \"excellent\"", "kind = \"swap\"")
        .replace("kind = \"idk\"", "kind = \"excellent\"")
        .replace("kind = \"swap\"", "kind = \"idk\"");
    let file = sb.path("work/swapped.toml");
    std::fs::write(&file, swapped).unwrap();
    let set = file.to_str().unwrap();
    let run = sb.run(&["--grader", "offline", "eval", "--set", set, "--check"], "");
    run.code(1);
    assert!(run.stderr.contains("check failed"), "{}", run.stderr);
    let line = run.stderr.lines().find(|l| l.trim_start().starts_with("pairwise ")).expect("pairwise is named");
    assert!(line.contains("< 0.95, short by 0."), "{line}");
    // The report itself is printed in full before the verdict.
    assert!(run.stdout.contains("below ≥ 0.95"), "{}", run.stdout);

    let run = sb.run(&["--grader", "offline", "eval", "--set", set, "--check", "--json"], "");
    run.code(1);
    let doc = run.json();
    let failed: Vec<&str> = doc["failed"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    assert!(failed.contains(&"pairwise") && failed.contains(&"kendall_tau"), "{failed:?}");
    let pairwise = doc["bars"].as_array().unwrap().iter().find(|b| b["figure"] == "pairwise").unwrap();
    assert_eq!(pairwise["met"], false);
    let short = pairwise["short_by"].as_f64().unwrap();
    assert!((short - (0.95 - pairwise["lowest"].as_f64().unwrap())).abs() < 1e-9, "{pairwise}");

    // Without --check the same figures exit 0.
    sb.run(&["--grader", "offline", "eval", "--set", set], "").success();
}
