//! The connection to an endpoint over a session: a pooled connection the server closed is
//! not the server's fault, and an endpoint that fails its check at the start is found out
//! before the first answer, not after it.

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::llm::{ANSWER, Fake, completion, grade_json, practise};
use crate::util::Sandbox;

/// What the raw server does with a request.
#[derive(Clone, Copy)]
enum Chat {
    /// Answers every request, but closes a kept-alive connection as soon as a second
    /// request arrives on it, without answering: what a server does that closed an idle
    /// connection just as the client reused it.
    ClosesReused,
    /// Answers the model listing; closes the connection on every chat request.
    NeverAnswers,
}

/// A plain HTTP/1.1 server on 127.0.0.1, with keep-alive; returns its base URL and the
/// runtime it runs on (dropped, it stops).
fn raw_server(chat: Chat) -> (String, tokio::runtime::Runtime) {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let listener = rt.block_on(TcpListener::bind("127.0.0.1:0")).unwrap();
    let port = listener.local_addr().unwrap().port();
    rt.spawn(async move {
        while let Ok((sock, _)) = listener.accept().await {
            tokio::spawn(serve(sock, chat));
        }
    });
    (format!("http://127.0.0.1:{port}/v1"), rt)
}

async fn serve(sock: tokio::net::TcpStream, chat: Chat) {
    let mut sock = BufReader::new(sock);
    let mut served = 0;
    loop {
        // The request line and headers, then as much body as Content-Length says.
        let mut head = String::new();
        loop {
            let mut line = String::new();
            match sock.read_line(&mut line).await {
                Ok(0) | Err(_) => return,
                Ok(_) if line == "\r\n" => break,
                Ok(_) => head.push_str(&line),
            }
        }
        let length = head
            .lines()
            .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length:").map(|n| n.trim().parse().unwrap_or(0)))
            .unwrap_or(0);
        let mut body = vec![0; length];
        if sock.read_exact(&mut body).await.is_err() {
            return;
        }
        let is_chat = head.starts_with("POST") && head.contains("/chat/completions");
        let close = match chat {
            Chat::ClosesReused => served > 0,
            Chat::NeverAnswers => is_chat,
        };
        if close {
            return;
        }
        let reply: Value = if is_chat {
            completion(&grade_json("Blue and yellow pigments make green").to_string())
        } else {
            serde_json::json!({"object": "list", "data": [{"id": "fake-model"}]})
        };
        let reply = reply.to_string();
        let response = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nconnection: keep-alive\r\ncontent-length: {}\r\n\r\n{reply}",
            reply.len()
        );
        if sock.get_mut().write_all(response.as_bytes()).await.is_err() {
            return;
        }
        served += 1;
    }
}

#[test]
fn a_kept_alive_connection_the_server_closed_is_sent_again_without_a_warning() {
    let (base, _server) = raw_server(Chat::ClosesReused);
    let sb = Sandbox::new();
    // The start check's listing leaves a kept-alive connection; the grading reuses it and
    // the server closes it unanswered.
    let run = practise(&sb, &base, ANSWER, &[]);
    run.success();
    assert_eq!(sb.redact(&run.stderr), "Grading with fake-model at http://127.0.0.1:[PORT].\n");
    assert_eq!(sb.only_transcript()["turns"][0]["grades"][0]["grade"]["status"], "graded");
}

#[test]
fn a_connection_closed_again_on_the_next_try_still_warns() {
    let (base, _server) = raw_server(Chat::NeverAnswers);
    let sb = Sandbox::new();
    let run = practise(&sb, &base, ANSWER, &[]);
    run.success();
    let warnings: Vec<&str> = run.stderr.lines().filter(|l| l.contains("warning:")).collect();
    // One silent resend, then the three retries of any connection fault, each said.
    assert_eq!(warnings.len(), 3, "{}", run.stderr);
    assert!(
        warnings.iter().all(|w| w.contains("/chat/completions: connection closed before message completed; retrying")),
        "{}",
        run.stderr
    );
    assert_eq!(sb.only_transcript()["turns"][0]["grades"][0]["grade"]["status"], "ungraded");
}

/// A session against `base` whose check fails, from a script: what it says, and the
/// reason the answer is kept with.
fn failed_check(sb: &Sandbox, base: &str, command: &str) -> (String, String) {
    let bank = crate::util::fixture_bank();
    let args = [
        "--no-builtin-bank",
        "--bank",
        bank.to_str().unwrap(),
        "--base-url",
        base,
        "--model",
        "fake-model",
        command,
        "--question",
        "colours",
        "--follow-ups",
        "0",
    ];
    let run = sb.run_with(&args, &format!("{ANSWER}\n"), &[("GRILL_RETRY_BASE_MS", "10")]);
    run.success();
    let shown = format!("stderr:\n{}\nstdout:\n{}", run.stderr, run.stdout);
    let t = sb.only_transcript();
    let grade = &t["turns"][0]["grades"][0]["grade"];
    assert_eq!(grade["status"], "ungraded", "{t}");
    assert!(t["turns"][0]["answer"].as_str().unwrap().starts_with("Blue and yellow"));
    let file = regex::Regex::new(r"_[0-9a-f]{8}\.json").unwrap();
    (file.replace_all(&sb.redact(&shown), "_[ID].json").into_owned(), sb.redact(grade["reason"].as_str().unwrap()))
}

#[test]
fn an_endpoint_that_does_not_answer_at_start_keeps_answers_ungraded() {
    let sb = Sandbox::new();
    let (shown, reason) = failed_check(&sb, "http://127.0.0.1:9/v1", "practice");
    insta::assert_snapshot!("start_check_refused", shown);
    assert_eq!(
        reason,
        "not sent: the endpoint http://127.0.0.1:[PORT]/v1 failed its check at the start (Connection refused (os \
         error 111))"
    );
}

#[test]
fn an_endpoint_whose_listing_fails_at_start_keeps_interview_answers_ungraded() {
    let fake = Fake::start();
    fake.mount(Mock::given(method("GET")).and(path("/v1/models")).respond_with(
        ResponseTemplate::new(500).set_body_json(serde_json::json!({"error": {"message": "model is loading"}})),
    ));
    let sb = Sandbox::new();
    let (shown, reason) = failed_check(&sb, &fake.base(), "interview");
    insta::assert_snapshot!("start_check_500", shown);
    assert_eq!(
        reason,
        "not sent: the endpoint http://127.0.0.1:[PORT]/v1 failed its check at the start (it answered 500: model is \
         loading)"
    );
    assert!(fake.chat_bodies().is_empty(), "no answer is sent to a grader the user did not choose");
}
