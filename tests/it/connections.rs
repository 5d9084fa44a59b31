//! The connection to an endpoint over a session: a pooled connection the server closed is
//! not the server's fault, and an endpoint that fails its check at the start is found out
//! before the first answer, not after it.

use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::llm::{ANSWER, Fake};
use crate::util::Sandbox;

/// A session against `base` whose check fails, from a script: what it says, and the
/// reason the answer is kept with.
fn failed_check(sb: &Sandbox, base: &str, command: &str) -> (String, String) {
    let bank = crate::util::fixture_bank();
    let args = [
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
