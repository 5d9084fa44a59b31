//! Streamed gradings through the binary: a fake OpenAI-compatible server answers with
//! server-sent events (whole, through wiremock, or event by event from a raw socket), and
//! the tests check what the user reads and what the transcript keeps. Order of lines is
//! asserted, never timing.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;

use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::llm::{ANSWER, Fake, grade_json, ok_reply, practise};
use crate::util::{Sandbox, fixture_bank};

/// The events of a streamed chat completion whose text is `content`, cut into pieces of
/// `size` characters; with `end`, a finish chunk, a usage chunk and `[DONE]` follow. A
/// keep-alive comment and `\r\n` line ends come along, as some servers send them.
fn events(content: &str, size: usize, end: bool) -> Vec<String> {
    let chars: Vec<char> = content.chars().collect();
    let chunk = |delta: Value, finish: Value| {
        let c = json!({"id": "c1", "object": "chat.completion.chunk", "model": "fake-model",
                       "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]});
        format!("data: {c}\n\n")
    };
    let mut out = vec![chunk(json!({"role": "assistant", "content": ""}), Value::Null), ": keep-alive\n\n".into()];
    for piece in chars.chunks(size) {
        out.push(chunk(json!({"content": piece.iter().collect::<String>()}), Value::Null).replace("\n\n", "\r\n\r\n"));
    }
    if end {
        out.push(chunk(json!({}), json!("stop")));
        let usage = json!({"id": "c1", "object": "chat.completion.chunk", "model": "fake-model", "choices": [],
                           "usage": {"prompt_tokens": 2900, "completion_tokens": 321, "prompt_tokens_details": {"cached_tokens": 512}}});
        out.push(format!("data: {usage}\n\n"));
        out.push("data: [DONE]\n\n".into());
    }
    out
}

fn good_content() -> String {
    grade_json("Blue and yellow pigments make green").to_string()
}

fn streamed(events: &[String]) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_raw(events.concat(), "text/event-stream")
}

/// A server on 127.0.0.1 that answers each of `replies` chat requests with a chunked
/// event stream, one event per write (each flushed), so the client reads them as they
/// come rather than in one piece. Anything else (the probe for Ollama) gets a 404.
/// Returns the chat requests' bodies.
fn trickling_server(replies: Vec<Vec<String>>) -> (String, std::thread::JoinHandle<Vec<String>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://127.0.0.1:{}/v1", listener.local_addr().unwrap().port());
    let served = std::thread::spawn(move || {
        let mut bodies = Vec::new();
        let mut replies = replies.into_iter();
        let mut next = replies.next();
        while let Some(events) = &next {
            let (mut sock, _) = listener.accept().unwrap();
            let mut reader = BufReader::new(sock.try_clone().unwrap());
            let mut request_line = String::new();
            reader.read_line(&mut request_line).unwrap();
            let mut length = 0;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap() == 0 || line == "\r\n" {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap();
                }
            }
            let mut body = vec![0; length];
            reader.read_exact(&mut body).unwrap();
            if !request_line.starts_with("POST /v1/chat/completions ") {
                let _ = sock.write_all(b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
                continue;
            }
            bodies.push(String::from_utf8(body).unwrap());
            let head = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n";
            sock.write_all(head.as_bytes()).unwrap();
            for e in events {
                let _ = write!(sock, "{:x}\r\n{e}\r\n", e.len());
                let _ = sock.flush();
                std::thread::sleep(std::time::Duration::from_millis(2));
            }
            let _ = sock.write_all(b"0\r\n\r\n");
            next = replies.next();
        }
        bodies
    });
    (base, served)
}

/// `Sandbox::redact`, plus the id at the end of a transcript's file name (which `\b`
/// does not separate from `_`).
fn redact(sb: &Sandbox, text: &str) -> String {
    let text = sb.redact(text);
    regex::Regex::new(r"_[0-9a-f]{8}\.json").unwrap().replace_all(&text, "_[ID].json").into_owned()
}

fn practise_at(sb: &Sandbox, base: &str) -> crate::util::Run {
    let bank = fixture_bank();
    let args = [
        "--no-builtin-bank",
        "--bank",
        bank.to_str().unwrap(),
        "--base-url",
        base,
        "--model",
        "fake-model",
        "practice",
        "--question",
        "colours",
        "--follow-ups",
        "0",
    ];
    sb.run_with(&args, &format!("{ANSWER}\n"), &[("COLUMNS", "80"), ("GRILL_RETRY_BASE_MS", "10")])
}

#[test]
fn a_streamed_grade_shows_each_point_before_the_grade_screen() {
    let (base, served) = trickling_server(vec![events(&good_content(), 7, true)]);
    let sb = Sandbox::new();
    let run = practise_at(&sb, &base);
    run.success();
    let body: Value = serde_json::from_str(&served.join().unwrap()[0]).unwrap();
    assert_eq!(body["stream"], true);
    assert_eq!(body["stream_options"], json!({"include_usage": true}));
    // Each point once, provisionally, in the order written, all before the grade screen.
    let out = &run.stdout;
    let at = |needle: &str| out.find(needle).unwrap_or_else(|| panic!("{needle:?} not in:\n{out}"));
    assert_eq!(out.matches("(provisional)").count(), 3, "{out}");
    assert!(at("✓ met (provisional)  Blue and yellow") < at("✓ met (provisional)  Pigments mix"), "{out}");
    assert!(at("✓ met (provisional)  Pigments mix") < at("✗ missed (provisional)  Light mixes"), "{out}");
    assert!(at("✗ missed (provisional)  Light mixes") < at("Score: 75/100"), "{out}");
    insta::assert_snapshot!(redact(&sb, out));
    // The usage of the last chunk is what the transcript records.
    let g = &sb.only_transcript()["turns"][0]["grades"][0];
    assert_eq!(g["grade"]["score"], 75);
    let mut usage = g["usage"].clone();
    // The wait for the first piece is recorded, whatever it was.
    assert!(usage.as_object_mut().unwrap().remove("first_token_ms").is_some_and(|v| v.is_u64()), "{usage}");
    assert_eq!(usage, json!({"prompt_tokens": 2900, "completion_tokens": 321, "cached_tokens": 512}));
}

#[test]
fn a_stream_cut_before_its_end_is_repaired_then_left_ungraded_with_the_reason() {
    let fake = Fake::start();
    // Cut after the first key point's object: that much is shown, but it is no grade.
    let content = good_content();
    let cut = content.find("\"subtractive\"").unwrap() + 20;
    fake.mount(Mock::given(method("POST")).and(path("/v1/chat/completions")).respond_with(streamed(&events(
        &content[..cut],
        5,
        false,
    ))));
    let sb = Sandbox::new();
    let run = practise(&sb, &fake.base(), ANSWER, &[]);
    run.success();
    let bodies = fake.chat_bodies();
    assert_eq!(bodies.len(), 2, "one repair request");
    let repair = bodies[1]["messages"].as_array().unwrap().last().unwrap()["content"].as_str().unwrap().to_string();
    assert!(repair.contains("the stream ended before the reply was finished"), "{repair}");
    let why = "Not graded: unusable reply: the stream ended before the reply was finished (no [DONE] and no \
               finish_reason)";
    assert!(run.stdout.contains(why), "{}", run.stdout);
    assert_eq!(run.stdout.matches("✓ met (provisional)").count(), 1, "told once over both tries: {}", run.stdout);
    let g = &sb.only_transcript()["turns"][0]["grades"][0]["grade"];
    assert_eq!(g["status"], "ungraded", "{g}");
    assert!(g["reason"].as_str().unwrap().contains("the stream ended before the reply was finished"), "{g}");
}

#[test]
fn an_error_sent_mid_stream_is_no_grade() {
    let fake = Fake::start();
    let mut evs = events(&good_content()[..40], 8, false);
    evs.push("data: {\"error\": {\"message\": \"the model crashed\"}}\n\n".into());
    fake.mount(Mock::given(method("POST")).and(path("/v1/chat/completions")).respond_with(streamed(&evs)));
    let sb = Sandbox::new();
    let run = practise(&sb, &fake.base(), ANSWER, &[]);
    run.success();
    assert!(
        run.stdout
            .contains("Not graded: unusable reply: the server stopped the stream with an error: the model crashed"),
        "{}",
        run.stdout
    );
}

#[test]
fn a_server_that_answers_a_streamed_request_whole_still_grades() {
    let fake = Fake::start();
    fake.mount(Mock::given(method("POST")).and(path("/v1/chat/completions")).respond_with(ok_reply()));
    let sb = Sandbox::new();
    let run = practise(&sb, &fake.base(), ANSWER, &[]);
    run.success();
    assert_eq!(fake.chat_bodies()[0]["stream"], true);
    // Nothing to show early from a whole reply; the grade screen is as ever.
    assert!(!run.stdout.contains("(provisional)"), "{}", run.stdout);
    let g = &sb.only_transcript()["turns"][0]["grades"][0];
    assert_eq!(g["grade"]["score"], 75);
    assert_eq!(g["usage"]["cached_tokens"], 640);
}

#[test]
fn an_interview_streams_its_gradings_but_shows_nothing_until_the_report() {
    let fake = Fake::start();
    fake.mount(Mock::given(method("POST")).and(path("/v1/chat/completions")).respond_with(streamed(&events(
        &good_content(),
        9,
        true,
    ))));
    let sb = Sandbox::new();
    let bank = fixture_bank();
    let args = [
        "--no-builtin-bank",
        "--bank",
        bank.to_str().unwrap(),
        "--base-url",
        &fake.base(),
        "--model",
        "fake-model",
        "interview",
        "--question",
        "colours",
        "--follow-ups",
        "0",
    ];
    let run = sb.run_with(&args, &format!("{ANSWER}\n"), &[("GRILL_RETRY_BASE_MS", "10")]);
    run.success();
    assert!(!run.stdout.contains("(provisional)") && !run.stderr.contains("(provisional)"), "{}", run.stdout);
    assert_eq!(fake.chat_bodies()[0]["stream"], true);
    let g = &sb.only_transcript()["turns"][0]["grades"][0];
    assert_eq!(g["grade"]["score"], 75);
    assert_eq!(g["usage"]["completion_tokens"], 321);
}
