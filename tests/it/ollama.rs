//! Grading through Ollama's native API against a fake Ollama on 127.0.0.1 that speaks
//! `/api/version`, `/api/tags`, `/api/chat` (and `/v1`) in the documented shapes, streams
//! `/api/chat` as one JSON object a line when asked to, and cuts an over-long prompt from
//! the front as Ollama does; and the refusal of a grade of a cut prompt on any server.

use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, Request, Respond, ResponseTemplate};

use crate::llm::{ANSWER, Fake, completion, grade_json, practise};
use crate::util::{Run, Sandbox, fixture_bank};

const MODEL: &str = "qwen2.5:7b";

/// The fake's tokenizer: a token per 4 bytes of each message, rounded up, and 4 tokens
/// of chat template around each message.
fn tokens(messages: &Value) -> u64 {
    messages
        .as_array()
        .map(|ms| ms.iter().map(|m| m["content"].as_str().unwrap_or("").len().div_ceil(4) as u64 + 4).sum())
        .unwrap_or(0)
}

fn prompt_bytes(body: &Value) -> usize {
    body["messages"].as_array().unwrap().iter().map(|m| m["content"].as_str().unwrap().len()).sum()
}

/// What Ollama does with a chat request, in both of its APIs.
///
/// The context is the request's `options.num_ctx` (native API only: `/v1` ignores it),
/// else the server's default of 4096 tokens; never more than the model was trained on.
/// A prompt longer than the context is cut from the front, keeping its tail, and the
/// request still succeeds: `prompt_eval_count` (`usage.prompt_tokens` on `/v1`) is then
/// the context, not the prompt.
///
/// A native request with `"stream": true` is answered as `application/x-ndjson`: one
/// object a line, each with a piece of the text and `"done": false`, then the final
/// object with `"done": true`, `done_reason` and the counts. Otherwise the reply is that
/// final object alone, holding the whole text.
struct FakeOllama {
    /// The model's trained context length.
    trained: u64,
    /// Nanoseconds spent loading the model, reported on every reply.
    load_ns: u64,
    /// How a streamed reply goes.
    stream: Streams,
}

/// How the fake answers a native request that asks for a stream.
#[derive(Clone, Copy, PartialEq)]
enum Streams {
    /// As Ollama does.
    Full,
    /// Ignores the ask and answers with the whole object, as a server that does not
    /// stream would.
    Never,
    /// Stops after the first key point's object, without the final object (a crash, a
    /// proxy's time-out).
    Cut,
    /// Sends a few pieces, then an `{"error": ...}` line.
    Error,
}

/// The text of the fake's reply, in pieces of `size` characters.
fn pieces(content: &str, size: usize) -> Vec<String> {
    content.chars().collect::<Vec<_>>().chunks(size).map(|c| c.iter().collect()).collect()
}

impl Respond for FakeOllama {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let Ok(body) = serde_json::from_slice::<Value>(&req.body) else {
            return ResponseTemplate::new(400).set_body_json(json!({"error": "invalid request body"}));
        };
        let model = body["model"].as_str().unwrap_or("");
        if model != MODEL {
            return ResponseTemplate::new(404).set_body_json(json!({"error": format!("model '{model}' not found")}));
        }
        let native = req.url.path() == "/api/chat";
        let asked = if native { body["options"]["num_ctx"].as_u64() } else { None };
        let context = asked.unwrap_or(4096).min(self.trained);
        let prompt = tokens(&body["messages"]).min(context);
        let content = grade_json("Blue and yellow pigments make green").to_string();
        if !native {
            let mut reply = completion(&content);
            reply["model"] = json!(MODEL);
            reply["usage"] = json!({"prompt_tokens": prompt, "completion_tokens": 300, "total_tokens": prompt + 300});
            return ResponseTemplate::new(200).set_body_json(reply);
        }
        let last = |content: &str| {
            json!({
                "model": MODEL,
                "created_at": "2026-01-04T10:00:01.000000Z",
                "message": {"role": "assistant", "content": content},
                "done": true,
                "done_reason": "stop",
                "total_duration": self.load_ns + 1_100_000_000u64,
                "load_duration": self.load_ns,
                "prompt_eval_count": prompt,
                "prompt_eval_duration": 600_000_000u64,
                "eval_count": 300,
                "eval_duration": 500_000_000u64
            })
        };
        if body["stream"] != true || self.stream == Streams::Never {
            return ResponseTemplate::new(200).set_body_json(last(&content));
        }
        let text = match self.stream {
            Streams::Cut => content[..content.find("\"subtractive\"").unwrap() + 20].to_string(),
            Streams::Error => content[..40].to_string(),
            _ => content.clone(),
        };
        let mut lines: Vec<String> = pieces(&text, 7)
            .iter()
            .map(|piece| {
                json!({"model": MODEL, "created_at": "2026-01-04T10:00:00.500000Z",
                       "message": {"role": "assistant", "content": piece}, "done": false})
                .to_string()
            })
            .collect();
        match self.stream {
            Streams::Full => lines.push(last("").to_string()),
            Streams::Error => {
                lines.push(json!({"error": "llama runner process has terminated: exit status 2"}).to_string())
            }
            _ => {}
        }
        let ndjson = lines.iter().map(|l| format!("{l}\n")).collect::<String>();
        ResponseTemplate::new(200).set_body_raw(ndjson, "application/x-ndjson")
    }
}

/// A fake Ollama with `qwen2.5:7b` installed, trained on `trained` tokens of context.
fn ollama(trained: u64, load_ns: u64) -> Fake {
    ollama_streaming(trained, load_ns, Streams::Full)
}

/// [`ollama`], streaming as `stream` says.
fn ollama_streaming(trained: u64, load_ns: u64, stream: Streams) -> Fake {
    let fake = Fake::start();
    fake.mount(
        Mock::given(method("GET"))
            .and(path("/api/version"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"version": "0.12.6"}))),
    );
    let tags = json!({"models": [{
        "name": MODEL, "model": MODEL, "modified_at": "2026-01-04T10:00:00Z", "size": 4_683_087_332u64,
        "digest": "845dbda0ea48ed749caafd9e6037047aa19acfcfd82e704d7ca97d631a0b697e",
        "details": {"format": "gguf", "family": "qwen2", "parameter_size": "7.6B", "quantization_level": "Q4_K_M"}
    }]});
    fake.mount(
        Mock::given(method("GET")).and(path("/api/tags")).respond_with(ResponseTemplate::new(200).set_body_json(tags)),
    );
    fake.mount(
        Mock::given(method("GET"))
            .and(path("/v1/models"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"object": "list", "data": [{"id": MODEL}]}))),
    );
    fake.mount(Mock::given(method("POST")).and(path("/api/chat")).respond_with(FakeOllama {
        trained,
        load_ns,
        stream,
    }));
    fake.mount(Mock::given(method("POST")).and(path("/v1/chat/completions")).respond_with(FakeOllama {
        trained,
        load_ns,
        stream,
    }));
    fake
}

fn native_bodies(fake: &Fake) -> Vec<Value> {
    fake.requests()
        .iter()
        .filter(|r| r.url.path() == "/api/chat")
        .map(|r| serde_json::from_slice(&r.body).unwrap())
        .collect()
}

/// Practises `colours` once with `model` against the fake as a configured endpoint.
fn practise_with(sb: &Sandbox, fake: &Fake, model: &str, answer: &str) -> Run {
    let bank = fixture_bank();
    let base = fake.base();
    let args = ["--no-builtin-bank", "--bank", bank.to_str().unwrap(), "--base-url", &base, "--model", model];
    let mut all = args.to_vec();
    all.extend_from_slice(&["practice", "--question", "colours", "--follow-ups", "0"]);
    sb.run_with(&all, &format!("{answer}\n"), &[("GRILL_RETRY_BASE_MS", "10"), ("COLUMNS", "80")])
}

/// The answer, made `bytes` long with more of the same kind of prose.
fn long_answer(bytes: usize) -> String {
    let mut a = ANSWER.to_string();
    while a.len() < bytes {
        a.push_str(" Mixing paint removes light, so every pigment added darkens the mix a little more.");
    }
    a
}

fn grade(sb: &Sandbox) -> Value {
    let t = sb.only_transcript();
    let turn = &t["turns"][0];
    assert!(turn["answer"].as_str().unwrap().starts_with("Blue and yellow"), "the answer is kept: {turn}");
    turn["grades"][0].clone()
}

#[test]
fn ollama_is_asked_natively_with_the_context_sized_to_the_prompt_and_the_schema_in_format() {
    let fake = ollama(32768, 0);
    let sb = Sandbox::new();
    let answer = long_answer(20_000);
    let run = practise_with(&sb, &fake, MODEL, &answer);
    run.success();
    assert_eq!(grade(&sb)["grade"]["status"], "graded", "{}", run.stdout);
    let bodies = native_bodies(&fake);
    assert_eq!(bodies.len(), 1);
    assert!(fake.chat_bodies().is_empty(), "nothing went to /v1/chat/completions");
    let body = &bodies[0];
    // The prompt at 3 bytes a token, rounded up, plus the reply's room (859 tokens for
    // colours, as on the OpenAI path).
    let bytes = prompt_bytes(body);
    assert!(bytes > 20_000 && bytes < 40_000, "{bytes}");
    assert_eq!(body["options"]["num_predict"], 859);
    assert_eq!(body["options"]["num_ctx"], bytes.div_ceil(3) as u64 + 859);
    assert_eq!(body["options"]["temperature"], 0.0);
    assert_eq!(body["options"]["seed"], 7);
    assert_eq!(body["stream"], true, "a grading streams");
    assert_eq!(body["model"], MODEL);
    // The schema itself, not an OpenAI response_format around it.
    let format = &body["format"];
    assert_eq!(format["type"], "object");
    let points = format["properties"]["key_points"]["properties"].as_object().unwrap();
    assert_eq!(points.keys().collect::<Vec<_>>(), ["blue-yellow", "subtractive", "light-differs"]);
    assert_eq!(body.get("response_format"), None);

    // A shorter prompt gets a smaller context (never below the server's default of 4096,
    // which the colours prompt is already over).
    let sb = Sandbox::new();
    practise_with(&sb, &fake, MODEL, ANSWER).success();
    let body = &native_bodies(&fake)[1];
    assert_eq!(body["options"]["num_ctx"], (prompt_bytes(body).div_ceil(3) as u64 + 859).max(4096));
}

#[test]
fn counts_and_durations_land_in_the_transcript_and_loading_is_told_as_loading() {
    let fake = ollama(32768, 6_100_000_000);
    let sb = Sandbox::new();
    let run = practise_with(&sb, &fake, MODEL, ANSWER);
    run.success();
    let g = grade(&sb);
    let sent = native_bodies(&fake)[0].clone();
    assert_eq!(g["usage"]["prompt_tokens"], tokens(&sent["messages"]));
    assert_eq!(g["usage"]["completion_tokens"], 300);
    assert_eq!(g["usage"]["load_ms"], 6100);
    assert_eq!(g["usage"]["total_ms"], 7200);
    assert_eq!(g["usage"].get("cached_tokens"), None);
    let loading: Vec<&str> = run.stderr.lines().filter(|l| l.contains("loading")).collect();
    assert_eq!(loading, ["  warning: loading qwen2.5:7b ... 6.1 s"], "{}", run.stderr);

    // A model already in memory is not announced.
    let fake = ollama(32768, 20_000_000);
    let sb = Sandbox::new();
    let run = practise_with(&sb, &fake, MODEL, ANSWER);
    run.success();
    assert!(!run.stderr.contains("loading"), "{}", run.stderr);
    assert_eq!(grade(&sb)["usage"]["load_ms"], 20);
}

#[test]
fn a_prompt_ollama_cut_ends_ungraded_with_the_fix_named() {
    // The model was trained on 8192 tokens: Ollama runs the request at that, whatever
    // num_ctx asks, and cuts the prompt to fit.
    let fake = ollama(8192, 0);
    let sb = Sandbox::new();
    let run = practise_with(&sb, &fake, MODEL, &long_answer(60_000));
    run.success();
    let body = &native_bodies(&fake)[0];
    let bytes = prompt_bytes(body);
    let needed = (bytes.div_ceil(3) + 859).div_ceil(1024) * 1024;
    let g = grade(&sb);
    assert_eq!(g["grade"]["status"], "ungraded");
    assert_eq!(
        g["grade"]["reason"].as_str().unwrap(),
        format!(
            "the server read only 8192 tokens of a {bytes}-byte prompt: it cut the prompt to fit its context \
             window, so the answer was not graded (raise Ollama's context to at least {needed} tokens: start it \
             with OLLAMA_CONTEXT_LENGTH={needed}, or add `PARAMETER num_ctx {needed}` to the model's Modelfile; a \
             model trained on a shorter context cannot hold this prompt)"
        )
    );
    // The screen says it whole: the question, the refusal with the fix, no score. The
    // verdicts streamed before the counts came are shown, marked provisional: only the
    // final object says how much of the prompt was read.
    let screen = sb.redact(&run.stdout);
    let screen = regex::Regex::new(r"_[0-9a-f]{8}\.json").unwrap().replace_all(&screen, "_[ID].json");
    insta::assert_snapshot!(screen);
    assert_eq!(native_bodies(&fake).len(), 1, "a cut prompt is not sent again");
}

#[test]
fn a_prompt_cut_by_any_server_is_never_graded() {
    // An OpenAI-compatible server running at 4096 tokens that cuts rather than refuses.
    let fake = Fake::start();
    fake.mount(Mock::given(method("POST")).and(path("/v1/chat/completions")).respond_with(FakeOllama {
        trained: 4096,
        load_ns: 0,
        stream: Streams::Full,
    }));
    let sb = Sandbox::new();
    practise_with(&sb, &fake, MODEL, &long_answer(40_000)).success();
    let bytes = prompt_bytes(&fake.chat_bodies()[0]);
    let needed = (bytes.div_ceil(3) + 859).div_ceil(1024) * 1024;
    assert_eq!(
        grade(&sb)["grade"]["reason"].as_str().unwrap(),
        format!(
            "the server read only 4096 tokens of a {bytes}-byte prompt: it cut the prompt to fit its context \
             window, so the answer was not graded (raise the server's context size to at least {needed} tokens \
             (llama.cpp: --ctx-size {needed}; vLLM: --max-model-len {needed}))"
        )
    );

    // llama.cpp refuses instead, with a 400: the reason says what to raise.
    let fake = Fake::start();
    let refusal = json!({"error": {"code": 400, "message": "the request exceeds the available context size, try increasing it", "type": "exceed_context_size_error", "n_prompt_tokens": 10154, "n_ctx": 4096}});
    fake.mount(
        Mock::given(method("POST"))
            .and(path("/v1/chat/completions"))
            .respond_with(ResponseTemplate::new(400).set_body_json(refusal)),
    );
    let sb = Sandbox::new();
    practise(&sb, &fake.base(), &long_answer(40_000), &[]).success();
    let reason = grade(&sb)["grade"]["reason"].as_str().unwrap().to_string();
    assert_eq!(
        reason.replace(&fake.base(), "[BASE]"),
        "[BASE]/chat/completions answered 400: the request exceeds the available context size, try increasing it \
         (the prompt does not fit the server's context window: raise its context size (llama.cpp: --ctx-size N; \
         vLLM: --max-model-len N; Ollama: OLLAMA_CONTEXT_LENGTH=N))"
    );
    assert_eq!(fake.chat_bodies().len(), 1, "not retried, no step-down");
}

#[test]
fn a_model_ollama_does_not_have_gives_its_message() {
    let fake = ollama(32768, 0);
    let sb = Sandbox::new();
    let run = practise_with(&sb, &fake, "x", ANSWER);
    run.success();
    let reason = grade(&sb)["grade"]["reason"].as_str().unwrap().to_string();
    assert_eq!(
        reason.replace(&fake.server.uri(), "[OLLAMA]"),
        "[OLLAMA]/api/chat answered 404: model 'x' not found (the server has: qwen2.5:7b; choose one with --model \
         or GRILL_MODEL)"
    );
    assert!(fake.chat_bodies().is_empty(), "a missing model is not a reason to try /v1");
}

#[test]
fn ollama_found_on_its_own_is_asked_natively_without_a_version_check() {
    let fake = ollama(32768, 0);
    let sb = Sandbox::new();
    let bank = fixture_bank();
    let host = fake.server.uri().trim_start_matches("http://").to_string();
    sb.run_with(
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
        &[("OLLAMA_HOST", &host)],
    )
    .success();
    assert_eq!(grade(&sb)["grade"]["status"], "graded");
    assert_eq!(native_bodies(&fake).len(), 1);
    assert!(!fake.requests().iter().any(|r| r.url.path() == "/api/version"));
}

#[test]
fn a_server_with_the_version_but_not_the_native_chat_is_asked_the_openai_way() {
    let fake = Fake::start();
    fake.mount(
        Mock::given(method("GET"))
            .and(path("/api/version"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"version": "0.12.6"}))),
    );
    fake.mount(
        Mock::given(method("POST"))
            .and(path("/api/chat"))
            .respond_with(ResponseTemplate::new(404).set_body_string("404 page not found")),
    );
    fake.mount(Mock::given(method("POST")).and(path("/v1/chat/completions")).respond_with(FakeOllama {
        trained: 32768,
        load_ns: 0,
        stream: Streams::Full,
    }));
    let sb = Sandbox::new();
    let run = practise_with(&sb, &fake, MODEL, ANSWER);
    run.success();
    assert_eq!(grade(&sb)["grade"]["status"], "graded", "{}", run.stdout);
    assert_eq!(fake.chat_bodies().len(), 1);
    assert_eq!(fake.chat_bodies()[0]["response_format"]["type"], "json_schema");
}

#[test]
fn the_native_path_scrubs_the_key_and_escapes_from_what_the_server_says() {
    const KEY: &str = "sk-ollama-test-0123456789abcdef";
    let fake = ollama(32768, 0);
    // A hostile server in front of Ollama echoes the key it was sent, with an escape.
    let echo = |req: &Request| {
        let auth = req.headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
        ResponseTemplate::new(404)
            .set_body_json(json!({"error": format!("model not found for {auth}\u{1b}]0;owned\u{7}")}))
    };
    fake.mount(Mock::given(method("POST")).and(path("/api/chat")).respond_with(echo).with_priority(1));
    let sb = Sandbox::new();
    let bank = fixture_bank();
    let base = fake.base();
    let args = ["--no-builtin-bank", "--bank", bank.to_str().unwrap(), "--base-url", &base, "--model", MODEL];
    let mut all = args.to_vec();
    all.extend_from_slice(&["practice", "--question", "colours", "--follow-ups", "0"]);
    let run = sb.run_with(&all, &format!("{ANSWER}\n"), &[("GRILL_API_KEY", KEY), ("GRILL_RETRY_BASE_MS", "10")]);
    run.success();
    let sent = fake.requests().into_iter().find(|r| r.url.path() == "/api/chat").unwrap();
    assert_eq!(sent.headers.get("authorization").unwrap().to_str().unwrap(), format!("Bearer {KEY}"));
    let reason = grade(&sb)["grade"]["reason"].as_str().unwrap().to_string();
    assert!(reason.contains("answered 404: model not found for Bearer [redacted]"), "{reason}");
    let file = std::fs::read_to_string(&sb.transcript_files()[0]).unwrap();
    for shown in [&run.stdout, &run.stderr, &file] {
        assert!(!shown.contains(KEY) && !shown.contains('\u{1b}') && !shown.contains('\u{7}'), "{shown}");
    }
}

#[test]
fn a_streamed_ollama_grade_shows_each_point_before_the_grade_screen() {
    let fake = ollama(32768, 0);
    let sb = Sandbox::new();
    let run = practise_with(&sb, &fake, MODEL, ANSWER);
    run.success();
    let sent = native_bodies(&fake)[0].clone();
    assert_eq!(sent["stream"], true);
    // Each point once, provisionally, in the order written, all before the grade screen.
    let out = &run.stdout;
    let at = |needle: &str| out.find(needle).unwrap_or_else(|| panic!("{needle:?} not in:\n{out}"));
    assert_eq!(out.matches("(provisional)").count(), 3, "{out}");
    assert!(at("✓ met (provisional)  Blue and yellow") < at("✓ met (provisional)  Pigments mix"), "{out}");
    assert!(at("✓ met (provisional)  Pigments mix") < at("✗ missed (provisional)  Light mixes"), "{out}");
    assert!(at("✗ missed (provisional)  Light mixes") < at("Score: 75/100"), "{out}");
    // The final object's counts are what the transcript records.
    let g = grade(&sb);
    assert_eq!(g["grade"]["score"], 75);
    let mut usage = g["usage"].clone();
    // The wait for the first piece is recorded, whatever it was.
    assert!(usage.as_object_mut().unwrap().remove("first_token_ms").is_some_and(|v| v.is_u64()), "{usage}");
    assert_eq!(
        usage,
        json!({"prompt_tokens": tokens(&sent["messages"]), "completion_tokens": 300, "load_ms": 0, "total_ms": 1100})
    );
}

#[test]
fn an_ollama_that_answers_a_streamed_request_whole_still_grades() {
    let fake = ollama_streaming(32768, 0, Streams::Never);
    let sb = Sandbox::new();
    let run = practise_with(&sb, &fake, MODEL, ANSWER);
    run.success();
    assert_eq!(native_bodies(&fake)[0]["stream"], true);
    assert!(!run.stdout.contains("(provisional)"), "{}", run.stdout);
    let g = grade(&sb);
    assert_eq!(g["grade"]["score"], 75);
    assert_eq!(g["usage"]["completion_tokens"], 300);
}

/// The words of `text` with every run of whitespace made one space: a reason reads the
/// same however the screen wrapped it.
fn words(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[test]
fn an_ollama_stream_without_its_done_object_is_repaired_then_left_ungraded_with_the_reason() {
    let fake = ollama_streaming(32768, 0, Streams::Cut);
    let sb = Sandbox::new();
    let run = practise_with(&sb, &fake, MODEL, ANSWER);
    run.success();
    let bodies = native_bodies(&fake);
    assert_eq!(bodies.len(), 2, "one repair request");
    let why = "the stream ended before the reply was finished (no object with \"done\": true)";
    let repair = bodies[1]["messages"].as_array().unwrap().last().unwrap()["content"].as_str().unwrap().to_string();
    assert!(repair.contains(why), "{repair}");
    assert!(words(&run.stdout).contains(&format!("Not graded: unusable reply: {why}")), "{}", run.stdout);
    assert_eq!(run.stdout.matches("✓ met (provisional)").count(), 1, "told once over both tries: {}", run.stdout);
    let g = &grade(&sb)["grade"];
    assert_eq!(g["status"], "ungraded", "{g}");
    assert!(g["reason"].as_str().unwrap().contains(why), "{g}");
}

#[test]
fn an_error_line_in_an_ollama_stream_ends_ungraded_with_the_servers_message() {
    let fake = ollama_streaming(32768, 0, Streams::Error);
    let sb = Sandbox::new();
    let run = practise_with(&sb, &fake, MODEL, ANSWER);
    run.success();
    let why = "the server stopped the stream with an error: llama runner process has terminated: exit status 2";
    assert!(words(&run.stdout).contains(&format!("Not graded: unusable reply: {why}")), "{}", run.stdout);
    let g = &grade(&sb)["grade"];
    assert_eq!(g["status"], "ungraded", "{g}");
    assert!(g["reason"].as_str().unwrap().contains(why), "{g}");
}
