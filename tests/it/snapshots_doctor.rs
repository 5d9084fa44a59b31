//! `grill doctor` against the fake OpenAI-compatible server, text and `--json`, compared
//! whole against reviewed snapshots: ready only when a test grade parsed, and every
//! refusal a command would make shown as the failed check it is.

use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::llm::{Fake, completion};
use crate::util::Sandbox;

/// A fake listing `models` at `/v1/models` whose chat completions carry `content`.
fn server(models: &[&str], content: &str) -> Fake {
    let fake = Fake::start();
    let data: Vec<_> = models.iter().map(|m| json!({"id": m})).collect();
    fake.mount(
        Mock::given(method("GET"))
            .and(path("/v1/models"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": data}))),
    );
    fake.mount(
        Mock::given(method("POST"))
            .and(path("/v1/chat/completions"))
            .respond_with(ResponseTemplate::new(200).set_body_json(completion(content))),
    );
    fake
}

/// A grade of the built-in `gil` question as a model would write it.
fn gil_grade() -> String {
    let bank = grill::bank::Bank::embedded().unwrap();
    let gil = bank.get("gil").unwrap();
    let verdicts: Vec<_> =
        gil.key_points.iter().map(|k| json!({"evidence": "", "id": k.id, "verdict": "missed"})).collect();
    json!({"analysis": "short", "feedback": {"strengths": [], "gaps": [], "next_step": "x"}, "holistic": 1,
           "key_points": verdicts, "red_flags": []})
    .to_string()
}

/// Runs doctor against `fake` with `extra` arguments, text then `--json`; both exit with
/// `code`, and both come back redacted.
fn doctor(fake: &Fake, extra: &[&str], code: i32) -> (String, String) {
    let sb = Sandbox::new();
    let base = fake.base();
    let mut args = vec!["--base-url", base.as_str()];
    args.extend_from_slice(extra);
    args.push("doctor");
    let text = sb.run_with(&args, "", &[("GRILL_RETRY_BASE_MS", "10")]);
    text.code(code);
    assert_eq!(text.stderr, "", "doctor's findings go to standard output");
    args.push("--json");
    let json = sb.run_with(&args, "", &[("GRILL_RETRY_BASE_MS", "10")]);
    json.code(code);
    (redact(&sb, &text.stdout), redact(&sb, &json.stdout))
}

/// The sandbox's redactions, and the speed figures, which vary from run to run.
fn redact(sb: &Sandbox, text: &str) -> String {
    let rate = regex::Regex::new(r"\b\d+(\.\d+)? tokens/s").unwrap();
    let minutes = regex::Regex::new(r"\babout \d+ min\b").unwrap();
    let text = rate.replace_all(&sb.redact(text), "[RATE] tokens/s").into_owned();
    minutes.replace_all(&text, "about [DURATION]").into_owned()
}

#[test]
fn doctor_ready_against_a_server_that_grades() {
    let fake = server(&["fake-model"], &gil_grade());
    let (text, json) = doctor(&fake, &["--model", "fake-model"], 0);
    insta::assert_snapshot!("doctor_ready", text);
    insta::assert_snapshot!("doctor_ready_json", json);
}

#[test]
fn doctor_not_ready_with_no_model_configured_and_several_listed() {
    let fake = server(&["m1", "m2"], &gil_grade());
    let (text, json) = doctor(&fake, &[], 2);
    insta::assert_snapshot!("doctor_several_models", text);
    insta::assert_snapshot!("doctor_several_models_json", json);
    assert!(fake.chat_bodies().is_empty(), "no grading is tried without a model");
}

#[test]
fn doctor_not_ready_when_the_reply_is_not_json() {
    let fake = server(&["fake-model"], "The answer looks good to me.");
    let (text, json) = doctor(&fake, &["--model", "fake-model"], 2);
    insta::assert_snapshot!("doctor_reply_not_json", text);
    insta::assert_snapshot!("doctor_reply_not_json_json", json);
}

/// The same refusal doctor reports is what a command says.
#[test]
fn a_command_refuses_what_doctor_reports() {
    let fake = server(&["m1", "m2"], &gil_grade());
    let sb = Sandbox::new();
    let run = sb.run(&["--base-url", &fake.base(), "grade", "--question", "gil"], "an answer");
    run.code(1);
    insta::assert_snapshot!("several_models_refused", sb.redact(&run.stderr));
}

/// llama.cpp sends its own speed figures with every completion and its context at
/// `/props`: doctor takes both, and a context too small for a grading is a failed check
/// naming the flag that fixes it.
#[test]
fn doctor_reads_llama_cpp_timings_and_a_context_too_small() {
    let fake = Fake::start();
    fake.mount(
        Mock::given(method("GET"))
            .and(path("/v1/models"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": [{"id": "fake-model"}]}))),
    );
    let mut reply = completion(&gil_grade());
    reply["timings"] = json!({"prompt_per_second": 512.5, "predicted_per_second": 21.25});
    fake.mount(
        Mock::given(method("POST"))
            .and(path("/v1/chat/completions"))
            .respond_with(ResponseTemplate::new(200).set_body_json(reply)),
    );
    fake.mount(Mock::given(method("GET")).and(path("/props")).respond_with(
        ResponseTemplate::new(200).set_body_json(json!({"default_generation_settings": {"n_ctx": 2048}})),
    ));
    let (text, json) = doctor(&fake, &["--model", "fake-model"], 2);
    insta::assert_snapshot!("doctor_llama_cpp_small_context", text);
    insta::assert_snapshot!("doctor_llama_cpp_small_context_json", json);
}
