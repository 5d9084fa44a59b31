//! Ollama: finding a local one without configuration (a brief probe of `OLLAMA_HOST`, or
//! 127.0.0.1:11434, and the models it has installed), telling one apart from other
//! servers, and its native chat API.
//!
//! Grading goes through the native `POST /api/chat` because the OpenAI-compatible
//! `/v1/chat/completions` ignores `num_ctx`: every request there runs at the server's
//! default context (4096 tokens), and a longer prompt is cut from the front without an
//! error. The native API takes the context per request, so it is sized to fit.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::protocol::{ChatReply, ChatRequest, Message, Usage};
use super::stream::{Decoder, Fault, Lines, prefix, stopped_with};

/// How long the probe may take in all: short, so start-up stays quick when nothing runs.
pub const PROBE_TIMEOUT: Duration = Duration::from_millis(700);

/// Ollama's base URL from `OLLAMA_HOST`, which may omit the scheme and the port, or name
/// a bind-all address that a client cannot connect to.
pub fn base_url(ollama_host: Option<&str>) -> String {
    let raw = ollama_host.map(str::trim).filter(|s| !s.is_empty()).unwrap_or("127.0.0.1:11434");
    let (scheme, rest) = match raw.split_once("://") {
        Some((s, r)) => (s, r),
        None => ("http", raw),
    };
    let rest = rest.trim_end_matches('/');
    let (host, port) = match rest.rsplit_once(':') {
        Some((h, p)) if p.chars().all(|c| c.is_ascii_digit()) && !p.is_empty() => (h, p),
        _ => (rest, "11434"),
    };
    let host = match host {
        "" | "0.0.0.0" => "127.0.0.1",
        "[::]" => "[::1]",
        h => h,
    };
    format!("{scheme}://{host}:{port}")
}

#[derive(Deserialize)]
struct Tags {
    #[serde(default)]
    models: Vec<Tag>,
}

#[derive(Deserialize)]
struct Tag {
    name: String,
    #[serde(default)]
    modified_at: Option<String>,
}

/// Asks Ollama at `base` for its installed models, newest first. `None` when nothing
/// that speaks Ollama's API answers within [`PROBE_TIMEOUT`].
pub async fn probe(base: &str) -> Option<Vec<String>> {
    let http = reqwest::Client::builder().connect_timeout(PROBE_TIMEOUT).timeout(PROBE_TIMEOUT).build().ok()?;
    let mut resp = http.get(format!("{base}/api/tags")).send().await.ok()?;
    if !resp.status().is_success() {
        return None;
    }
    let (bytes, whole) = super::read_capped(&mut resp, super::LISTING_MAX).await.ok()?;
    let tags: Tags = serde_json::from_slice(&bytes).ok().filter(|_| whole)?;
    let mut models = tags.models;
    models.sort_by(|a, b| b.modified_at.cmp(&a.modified_at));
    // Shown in the announcement and used as the model name: scrubbed like any server text.
    Some(models.into_iter().map(|m| crate::scrub::server_text(m.name.trim(), 200)).filter(|n| !n.is_empty()).collect())
}

/// Whether the server at `root` is Ollama: it answers `GET /api/version` with a version,
/// within [`PROBE_TIMEOUT`].
pub async fn answers_version(root: &str) -> bool {
    #[derive(Deserialize)]
    struct Version {
        version: String,
    }
    let Ok(http) = reqwest::Client::builder().connect_timeout(PROBE_TIMEOUT).timeout(PROBE_TIMEOUT).build() else {
        return false;
    };
    let Ok(mut resp) = http.get(format!("{root}/api/version")).send().await else { return false };
    if !resp.status().is_success() {
        return false;
    }
    match super::read_capped(&mut resp, 4 << 10).await {
        Ok((bytes, true)) => serde_json::from_slice::<Version>(&bytes).is_ok_and(|v| !v.version.is_empty()),
        _ => false,
    }
}

/// The context Ollama runs a request at when none is asked for (current releases), and
/// the least grill asks for.
pub const DEFAULT_CONTEXT: u32 = 4096;

/// Bytes per token assumed when sizing the context: tokenizers run at 3.5 to 4.5 bytes a
/// token on English, code and JSON, so at 3 the prompt fits with room to spare.
const BYTES_PER_TOKEN: usize = 3;

/// The context to ask for: the prompt (estimated from its bytes) plus the reply's room,
/// never below the server's default.
pub fn context_for(messages: &[Message], max_tokens: u32) -> u32 {
    let bytes: usize = messages.iter().map(|m| m.content.len()).sum();
    let prompt = u32::try_from(bytes.div_ceil(BYTES_PER_TOKEN)).unwrap_or(u32::MAX);
    prompt.saturating_add(max_tokens).max(DEFAULT_CONTEXT)
}

/// A `POST /api/chat` body.
#[derive(Debug, Clone, Serialize)]
pub struct Chat {
    model: String,
    messages: Vec<Message>,
    stream: bool,
    /// A JSON schema to constrain decoding to, or "json" for any JSON.
    #[serde(skip_serializing_if = "Option::is_none")]
    format: Option<serde_json::Value>,
    options: Options,
}

/// Per-request model parameters.
#[derive(Debug, Clone, Serialize)]
struct Options {
    num_ctx: u32,
    num_predict: u32,
    temperature: f32,
    #[serde(skip_serializing_if = "Option::is_none")]
    seed: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    frequency_penalty: Option<f32>,
}

impl Chat {
    /// The native request asking what `request` asks: the structured-output mode becomes
    /// `format` (the schema itself, or "json"), and the context is sized to the prompt.
    pub fn from_request(request: &ChatRequest) -> Chat {
        let format = request.response_format.as_ref().and_then(|f| match f["type"].as_str() {
            Some("json_schema") => f["json_schema"].get("schema").cloned(),
            Some("json_object") => Some(serde_json::Value::from("json")),
            _ => None,
        });
        Chat {
            model: request.model.clone(),
            messages: request.messages.clone(),
            stream: request.stream,
            format,
            options: Options {
                num_ctx: context_for(&request.messages, request.max_tokens),
                num_predict: request.max_tokens,
                temperature: request.temperature,
                seed: request.seed,
                frequency_penalty: request.frequency_penalty,
            },
        }
    }
}

/// The final object of a `/api/chat` reply (the whole reply when not streamed, the last
/// line when streamed), with the counts and durations it carries.
#[derive(Debug, Default, Deserialize)]
pub struct Final {
    #[serde(default)]
    model: Option<String>,
    #[serde(default)]
    message: Option<FinalMessage>,
    #[serde(default)]
    done_reason: Option<String>,
    #[serde(default)]
    prompt_eval_count: Option<u64>,
    #[serde(default)]
    prompt_eval_cached_count: Option<u64>,
    #[serde(default)]
    eval_count: Option<u64>,
    /// Nanoseconds.
    #[serde(default)]
    load_duration: Option<u64>,
    /// Nanoseconds.
    #[serde(default)]
    total_duration: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
struct FinalMessage {
    #[serde(default)]
    content: String,
    /// A thinking model's reasoning, when the server separates it.
    #[serde(default)]
    thinking: Option<String>,
}

impl Final {
    /// Parses a whole non-streamed reply; `Err` says what is wrong with it.
    pub fn parse(body: &str) -> Result<Final, String> {
        serde_json::from_str(body).map_err(|e| format!("the reply is not an Ollama chat reply ({e})"))
    }

    /// The reply as the OpenAI path returns it: the text is the object's message (for a
    /// streamed reply, [`Stream`] puts the pieces there).
    pub fn into_reply(self) -> ChatReply {
        let message = self.message.unwrap_or_default();
        let content = message.content;
        let content = if content.trim().is_empty() { message.thinking.unwrap_or(content) } else { content };
        let ms = |ns: Option<u64>| ns.map(|n| n / 1_000_000);
        let counted = self.prompt_eval_count.is_some() || self.eval_count.is_some();
        ChatReply {
            model: self.model,
            content,
            finish_reason: self.done_reason,
            usage: counted.then_some(Usage {
                prompt_tokens: self.prompt_eval_count.unwrap_or(0),
                completion_tokens: self.eval_count.unwrap_or(0),
                cached_tokens: self.prompt_eval_cached_count,
                load_ms: ms(self.load_duration),
                total_ms: ms(self.total_duration),
                first_token_ms: None,
            }),
        }
    }
}

/// One line of a streamed `/api/chat` reply: a piece of the text (`"done": false`), the
/// final object with the counts (`"done": true`), or an error the server stopped with.
#[derive(Deserialize)]
struct StreamLine {
    #[serde(default)]
    done: bool,
    #[serde(default)]
    error: Option<serde_json::Value>,
    #[serde(flatten)]
    object: Final,
}

/// A `/api/chat` reply streamed as one JSON object a line (NDJSON): each line's piece of
/// the message is added as it comes, and the line with `"done": true` ends the reply with
/// its counts. A reply sent whole on one line (a server that does not stream) is the same
/// reply with no pieces before it.
#[derive(Debug)]
pub struct Stream {
    lines: Lines,
    content: String,
    thinking: String,
    /// The object with `"done": true`, once it has come: nothing after it counts.
    last: Option<Final>,
    /// The most text kept, content and thinking together.
    max: usize,
}

impl Stream {
    /// A reader refusing a line, or text, longer than `max` bytes.
    pub fn new(max: usize) -> Stream {
        Stream { lines: Lines::new(max), content: String::new(), thinking: String::new(), last: None, max }
    }

    /// Adds one line; returns whether the text grew.
    fn push(&mut self, line: &str) -> Result<bool, Fault> {
        let line = line.trim();
        if line.is_empty() || self.last.is_some() {
            return Ok(false);
        }
        let parsed: StreamLine = serde_json::from_str(line)
            .map_err(|e| Fault::Bad(format!("a streamed line is not an Ollama chat object ({e}): {}", prefix(line))))?;
        if let Some(error) = parsed.error {
            return Err(stopped_with(error));
        }
        let mut object = parsed.object;
        let message = object.message.take().unwrap_or_default();
        let thinking = message.thinking.unwrap_or_default();
        if self.content.len() + self.thinking.len() + message.content.len() + thinking.len() > self.max {
            return Err(Fault::TooLarge);
        }
        self.content.push_str(&message.content);
        self.thinking.push_str(&thinking);
        if parsed.done {
            self.last = Some(object);
        }
        Ok(!message.content.is_empty())
    }
}

impl Decoder for Stream {
    fn feed(&mut self, bytes: &[u8]) -> Result<bool, Fault> {
        let mut grew = false;
        for line in self.lines.feed(bytes)? {
            grew |= self.push(&line)?;
        }
        Ok(grew)
    }

    fn text(&self) -> &str {
        &self.content
    }

    /// A stream that ends without its `"done": true` object was cut short: what came is
    /// not the whole reply, so it is not one.
    fn finish(mut self) -> Result<ChatReply, Fault> {
        if let Some(line) = self.lines.finish() {
            self.push(&line)?;
        }
        let Some(mut last) = self.last else {
            return Err(Fault::Bad(format!(
                "the stream ended before the reply was finished (no object with \"done\": true), after: {}",
                prefix(&self.content)
            )));
        };
        let thinking = (!self.thinking.is_empty()).then_some(self.thinking);
        last.message = Some(FinalMessage { content: self.content, thinking });
        Ok(last.into_reply())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(response_format: Option<serde_json::Value>) -> ChatRequest {
        ChatRequest {
            model: "qwen2.5:7b".into(),
            messages: vec![Message::system("s".repeat(3000)), Message::user("u".repeat(12_001))],
            temperature: 0.0,
            max_tokens: 1308,
            frequency_penalty: None,
            seed: Some(7),
            response_format,
            stream: false,
        }
    }

    #[test]
    fn the_native_request_carries_context_options_and_format() {
        let schema = serde_json::json!({"type": "object"});
        let r = request(Some(
            serde_json::json!({"type": "json_schema", "json_schema": {"name": "grade", "schema": schema}}),
        ));
        let body = serde_json::to_value(Chat::from_request(&r)).unwrap();
        // 15001 bytes at 3 a token, rounded up, plus the reply's 1308.
        assert_eq!(body["options"]["num_ctx"], 5001 + 1308);
        assert_eq!(body["options"]["num_predict"], 1308);
        assert_eq!(body["options"]["seed"], 7);
        assert_eq!(body["options"]["temperature"], 0.0);
        assert_eq!(body["format"], schema);
        assert_eq!(body["stream"], false);
        assert_eq!(body["options"].get("frequency_penalty"), None);
        let mut r = request(None);
        r.stream = true;
        assert_eq!(serde_json::to_value(Chat::from_request(&r)).unwrap()["stream"], true);
        let r = request(Some(serde_json::json!({"type": "json_object"})));
        assert_eq!(serde_json::to_value(Chat::from_request(&r)).unwrap()["format"], "json");
        let mut r = request(None);
        r.messages = vec![Message::user("hi")];
        let body = serde_json::to_value(Chat::from_request(&r)).unwrap();
        assert_eq!(body.get("format"), None);
        assert_eq!(body["options"]["num_ctx"], DEFAULT_CONTEXT);
    }

    #[test]
    fn the_final_object_becomes_a_chat_reply_with_counts_and_durations() {
        let body = r#"{"model":"qwen2.5:7b","created_at":"2024-01-01T00:00:00Z","message":{"role":"assistant","content":"{}"},
            "done":true,"done_reason":"stop","total_duration":7200000000,"load_duration":6100000000,
            "prompt_eval_count":1200,"prompt_eval_duration":1,"eval_count":300,"eval_duration":1}"#;
        let r = Final::parse(body).unwrap().into_reply();
        assert_eq!(r.content, "{}");
        assert_eq!(r.finish_reason.as_deref(), Some("stop"));
        let u = r.usage.unwrap();
        assert_eq!((u.prompt_tokens, u.completion_tokens, u.cached_tokens), (1200, 300, None));
        assert_eq!((u.load_ms, u.total_ms), (Some(6100), Some(7200)));
        let f = Final::parse(r#"{"message":{"content":"","thinking":"hm"},"done":true}"#).unwrap();
        let r = f.into_reply();
        assert_eq!((r.content.as_str(), r.usage), ("hm", None));
        assert!(Final::parse("<html>").unwrap_err().contains("not an Ollama chat reply"));
    }

    fn piece(content: &str) -> String {
        serde_json::json!({"model": "qwen2.5:7b", "created_at": "2026-01-04T10:00:00Z",
                           "message": {"role": "assistant", "content": content}, "done": false})
        .to_string()
    }

    const DONE: &str = r#"{"model":"qwen2.5:7b","created_at":"2026-01-04T10:00:01Z","message":{"role":"assistant","content":""},"done":true,"done_reason":"stop","total_duration":7200000000,"load_duration":6100000000,"prompt_eval_count":1200,"prompt_eval_duration":1,"eval_count":300,"eval_duration":1}"#;

    /// Reads `body` through a [`Stream`] in pieces of `step` bytes; the reply, and the text
    /// each time it grew.
    fn read(body: &str, step: usize) -> (Result<ChatReply, Fault>, Vec<String>) {
        let mut s = Stream::new(1 << 16);
        let mut seen = Vec::new();
        for bytes in body.as_bytes().chunks(step) {
            match s.feed(bytes) {
                Ok(true) => seen.push(s.text().to_string()),
                Ok(false) => {}
                Err(f) => return (Err(f), seen),
            }
        }
        (s.finish(), seen)
    }

    #[test]
    fn streamed_lines_assemble_into_the_reply_with_the_counts_of_the_done_object() {
        let body = format!("{}\n\n{}\r\n{}\n{DONE}\n", piece("{\"a\":"), piece(""), piece(" \"é\"}"));
        for step in 1..body.len() {
            let (reply, seen) = read(&body, step);
            let r = reply.unwrap();
            assert_eq!(r.content, "{\"a\": \"é\"}", "cut every {step} bytes");
            assert_eq!(r.finish_reason.as_deref(), Some("stop"));
            let u = r.usage.unwrap();
            assert_eq!((u.prompt_tokens, u.completion_tokens), (1200, 300));
            assert_eq!((u.load_ms, u.total_ms), (Some(6100), Some(7200)));
            assert_eq!(seen.last().map(String::as_str), Some("{\"a\": \"é\"}"));
        }
        // Fed whole, each piece is still told: the text grows once per read at most.
        assert_eq!(read(&body, 1 << 16).1, ["{\"a\": \"é\"}"]);
    }

    #[test]
    fn a_whole_reply_on_one_line_is_a_stream_of_one_object() {
        let whole = DONE.replace(r#""content":"""#, r#""content":"{}""#);
        let r = read(&whole, 7).0.unwrap();
        assert_eq!(r.content, "{}");
        assert_eq!(r.usage.unwrap().prompt_tokens, 1200);
        // Anything after the done object is not the reply.
        let r = read(&format!("{whole}\n{}\n", piece("late")), 1 << 16).0.unwrap();
        assert_eq!(r.content, "{}");
    }

    #[test]
    fn thinking_pieces_stand_in_for_an_empty_answer() {
        let think = r#"{"message":{"role":"assistant","content":"","thinking":"hm"},"done":false}"#;
        let (reply, seen) = read(&format!("{think}\n{DONE}"), 1 << 16);
        assert_eq!(reply.unwrap().content, "hm");
        assert!(seen.is_empty(), "thinking is not the answer's text");
    }

    #[test]
    fn a_stream_without_its_done_object_is_no_reply() {
        let (reply, _) = read(&format!("{}\n{}\n", piece("{\"key_points\": "), piece("{")), 5);
        assert_eq!(
            reply.unwrap_err(),
            Fault::Bad(
                "the stream ended before the reply was finished (no object with \"done\": true), after: \
                 {\"key_points\": {"
                    .into()
            )
        );
        assert!(matches!(read("", 1).0, Err(Fault::Bad(_))));
    }

    #[test]
    fn an_error_line_ends_the_stream_with_the_servers_message() {
        let (reply, seen) = read(&format!("{}\n{{\"error\":\"model runner crashed\"}}\n{DONE}\n", piece("{")), 3);
        assert_eq!(
            reply.unwrap_err(),
            Fault::Bad("the server stopped the stream with an error: model runner crashed".into())
        );
        assert_eq!(seen, ["{"]);
        match read("<html>\n", 100).0 {
            Err(Fault::Bad(why)) => assert!(why.starts_with("a streamed line is not an Ollama chat object"), "{why}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn text_or_a_line_past_the_cap_is_refused() {
        assert_eq!(Stream::new(8).feed(&[b' '; 9]), Err(Fault::TooLarge));
        // Lines under the cap whose text together is over it.
        let line = "{\"message\":{\"content\":\"0123456789\"}}\n";
        let mut s = Stream::new(40);
        for _ in 0..4 {
            assert_eq!(s.feed(line.as_bytes()), Ok(true));
        }
        assert_eq!(s.feed(line.as_bytes()), Err(Fault::TooLarge));
    }

    #[test]
    fn ollama_host_forms() {
        assert_eq!(base_url(None), "http://127.0.0.1:11434");
        assert_eq!(base_url(Some("")), "http://127.0.0.1:11434");
        assert_eq!(base_url(Some("localhost")), "http://localhost:11434");
        assert_eq!(base_url(Some("0.0.0.0")), "http://127.0.0.1:11434");
        assert_eq!(base_url(Some("0.0.0.0:9999")), "http://127.0.0.1:9999");
        assert_eq!(base_url(Some("https://box.lan:443/")), "https://box.lan:443");
        assert_eq!(base_url(Some("127.0.0.1:5000")), "http://127.0.0.1:5000");
    }
}
