//! Ollama found on its own, `grill doctor`, and the API key never leaking.

use serde_json::json;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::llm::{ANSWER, Fake, ok_reply, practise};
use crate::util::{Sandbox, fixture_bank};

fn ollama() -> Fake {
    let fake = Fake::start();
    let tags = json!({"models": [
        {"name": "llama3.2:1b", "model": "llama3.2:1b", "modified_at": "2026-01-04T10:00:00Z"},
        {"name": "qwen2.5:0.5b", "model": "qwen2.5:0.5b", "modified_at": "2026-05-01T10:00:00Z"}
    ]});
    fake.mount(
        Mock::given(method("GET")).and(path("/api/tags")).respond_with(ResponseTemplate::new(200).set_body_json(tags)),
    );
    fake.mount(Mock::given(method("POST")).and(path("/v1/chat/completions")).respond_with(ok_reply()));
    fake
}

fn host_port(fake: &Fake) -> String {
    fake.server.uri().trim_start_matches("http://").to_string()
}

#[test]
fn ollama_is_found_through_ollama_host_and_its_newest_model_used() {
    let fake = ollama();
    let sb = Sandbox::new();
    let bank = fixture_bank();
    let run = sb.run_with(
        &[
            "--no-builtin-bank",
            "--bank",
            bank.to_str().unwrap(),
            "practice",
            "--question",
            "colours",
            "--follow-ups",
            "0",
        ],
        &format!("{ANSWER}\n"),
        &[("OLLAMA_HOST", &host_port(&fake))],
    );
    run.success();
    let want = format!("Grading with Ollama at {}, model qwen2.5:0.5b (the newest installed", fake.server.uri());
    assert!(run.stderr.contains(&want), "{}", run.stderr);
    assert_eq!(fake.chat_bodies()[0]["model"], "qwen2.5:0.5b");
    assert_eq!(sb.only_transcript()["turns"][0]["grades"][0]["grade"]["status"], "graded");

    // A configured model wins over the newest one.
    let sb = Sandbox::new();
    sb.run_with(
        &[
            "--no-builtin-bank",
            "--bank",
            bank.to_str().unwrap(),
            "--model",
            "llama3.2:1b",
            "practice",
            "--question",
            "colours",
            "--follow-ups",
            "0",
        ],
        &format!("{ANSWER}\n"),
        &[("OLLAMA_HOST", &host_port(&fake))],
    )
    .success();
    assert_eq!(fake.chat_bodies()[1]["model"], "llama3.2:1b");
}

#[test]
fn with_nothing_listening_the_offline_fallback_is_one_line() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let sb = Sandbox::new();
    let run =
        // Skipped, not quit: a session with nothing answered or skipped is not saved.
        sb.run_with(&["practice", "--question", "gil"], ":skip\n", &[("OLLAMA_HOST", &format!("127.0.0.1:{port}"))]);
    run.success();
    let lines: Vec<&str> = run.stderr.lines().filter(|l| l.contains("Grading offline")).collect();
    assert_eq!(
        lines,
        ["Grading offline (key-point coverage). For AI grading set GRILL_BASE_URL and GRILL_MODEL, or start Ollama."]
    );
    assert_eq!(sb.only_transcript()["grader"]["kind"], "offline");
}

#[test]
fn grader_llm_without_any_endpoint_is_a_clear_error() {
    let sb = Sandbox::new();
    let run = sb.run(&["--grader", "llm", "grade", "--question", "gil"], "an answer");
    run.code(1);
    assert!(run.stderr.contains("--grader llm: no endpoint is configured and no Ollama answers"), "{}", run.stderr);
    assert!(run.stderr.contains("hint: set GRILL_BASE_URL"), "{}", run.stderr);
}

#[test]
fn doctor_prints_the_table_against_a_server() {
    let fake = Fake::start();
    fake.mount(
        Mock::given(method("GET"))
            .and(path("/v1/models"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": [{"id": "fake-model"}]}))),
    );
    fake.mount(
        Mock::given(method("POST")).respond_with(
            ResponseTemplate::new(200).set_body_json(crate::llm::completion(
                &json!({"analysis": "", "feedback": {}, "holistic": 3, "key_points": [
            {"evidence": "only one thread executes Python bytecode at a time", "id": "what-it-is", "verdict": "met"}
        ], "red_flags": []})
                .to_string(),
            )),
        ),
    );
    let sb = Sandbox::new();
    let run = sb.run(&["--base-url", &fake.base(), "--model", "fake-model", "doctor"], "");
    // The fake's verdicts leave out most key points: the test grading fails validation,
    // and doctor says so.
    run.code(2);
    assert!(
        run.stdout.contains("✓ endpoint") && run.stdout.contains("✓ reachable") && run.stdout.contains("✓ models"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("✓ model              fake-model is listed"), "{}", run.stdout);
    // The server took json_schema, but no reply parsed as a grade: that mode does not work.
    assert!(
        run.stdout
            .contains("✗ structured output  the server accepts json_schema, but its replies did not parse as a grade"),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("ready"), "{}", run.stdout);
    assert!(run.stdout.contains("✗ test grading") && run.stdout.contains("failed validation twice"), "{}", run.stdout);
}

#[test]
fn doctor_passes_against_a_server_that_grades() {
    let fake = Fake::start();
    fake.mount(
        Mock::given(method("GET"))
            .and(path("/v1/models"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": [{"id": "fake-model"}]}))),
    );
    let bank = grill::bank::Bank::embedded().unwrap();
    let gil = bank.get("gil").unwrap();
    let verdicts: Vec<_> =
        gil.key_points.iter().map(|k| json!({"evidence": "", "id": k.id, "verdict": "missed"})).collect();
    let reply = json!({"analysis": "short", "feedback": {"strengths": [], "gaps": [], "next_step": "x"}, "holistic": 1, "key_points": verdicts, "red_flags": []});
    fake.mount(
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(200).set_body_json(crate::llm::completion(&reply.to_string()))),
    );
    let sb = Sandbox::new();
    let run = sb.run(&["--base-url", &fake.base(), "--model", "fake-model", "doctor", "--json"], "");
    run.success();
    let v = run.json();
    assert_eq!(v["ok"], true);
    let names: Vec<&str> = v["checks"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        ["endpoint", "reachable", "models", "model", "structured output", "test grading", "speed", "context"]
    );
    assert!(v["checks"][5]["detail"].as_str().unwrap().contains("640 prompt tokens from cache"), "{v}");
}

#[test]
fn doctor_against_nothing_fails_clearly() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let sb = Sandbox::new();
    let run = sb.run(&["--base-url", &format!("http://127.0.0.1:{port}/v1"), "doctor"], "");
    run.code(2);
    assert!(run.stdout.contains("✗ reachable") && run.stdout.contains("cannot reach"), "{}", run.stdout);
    assert!(run.stdout.contains("hint: is the server running?"), "{}", run.stdout);

    let run = sb.run_with(&["doctor"], "", &[("OLLAMA_HOST", &format!("127.0.0.1:{port}"))]);
    run.code(2);
    assert!(run.stdout.contains("✗ endpoint") && run.stdout.contains("no Ollama answers"), "{}", run.stdout);
}

#[test]
fn the_api_key_appears_in_no_output_and_no_file() {
    const KEY: &str = "sk-test-NEVER-PRINT-7f3a9c";
    let fake = Fake::start();
    // The key is sent where it belongs...
    fake.mount(
        Mock::given(method("POST"))
            .and(header("authorization", format!("Bearer {KEY}").as_str()))
            .respond_with(ok_reply())
            .with_priority(1),
    );
    fake.mount(Mock::given(method("POST")).respond_with(ResponseTemplate::new(418)).with_priority(2));
    fake.mount(
        Mock::given(method("GET"))
            .and(path("/v1/models"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": [{"id": "fake-model"}]}))),
    );
    let sb = Sandbox::new();
    std::fs::write(sb.path("work/.env"), format!("GRILL_API_KEY={KEY}\n")).unwrap();
    let mut outputs = Vec::new();
    let run = practise(&sb, &fake.base(), ANSWER, &[]);
    run.success();
    assert_eq!(sb.only_transcript()["turns"][0]["grades"][0]["grade"]["status"], "graded", "the key was sent");
    outputs.push(run);
    let base = fake.base();
    for args in [
        vec!["config"],
        vec!["config", "--json"],
        vec!["--base-url", &base, "--model", "fake-model", "doctor"],
        vec!["--base-url", &base, "--model", "fake-model", "doctor", "--json"],
        vec!["--base-url", &base, "--model", "fake-model", "grade", "--question", "gil", "--json"],
        vec!["review", "show", "latest"],
        vec!["review", "show", "latest", "--format", "json"],
        vec!["review", "list", "--json"],
    ] {
        outputs.push(sb.run(&args, ANSWER));
    }
    // ...and a refused key produces an error message that still does not echo it.
    let refusing = Fake::start();
    refusing.mount(
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(401).set_body_json(json!({"error": {"message": "Invalid API Key"}}))),
    );
    outputs.push(practise(&sb, &refusing.base(), ANSWER, &[]));

    for (i, run) in outputs.iter().enumerate() {
        assert!(!run.stdout.contains(KEY) && !run.stderr.contains(KEY), "run {i} printed the key");
    }
    let mut files = 0;
    let mut stack = vec![sb.dir.path().to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let p = entry.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.file_name().unwrap() != ".env" {
                files += 1;
                let bytes = std::fs::read(&p).unwrap();
                assert!(!String::from_utf8_lossy(&bytes).contains(KEY), "{} holds the key", p.display());
            }
        }
    }
    assert!(files >= 3, "two transcripts and the mode cache were written and scanned ({files} files)");
    assert!(sb.path("data/grill/structured-output-modes.json").is_file());
}
