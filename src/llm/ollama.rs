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

/// The server's root (where `/api/...` lives) for a base URL that may end in `/v1`.
pub fn root(base_url: &str) -> &str {
    let base = base_url.trim_end_matches('/');
    base.strip_suffix("/v1").unwrap_or(base)
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
            stream: false,
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

    /// How long loading the model took, when it had to be loaded.
    pub fn load_time(&self) -> Option<Duration> {
        self.load_duration.map(Duration::from_nanos)
    }

    /// The reply as the OpenAI path returns it. `content` is the whole text, for a
    /// streamed reply whose pieces came before this final object; `None` takes the text
    /// from the object itself.
    pub fn into_reply(self, content: Option<String>) -> ChatReply {
        let message = self.message.unwrap_or_default();
        let content = content.unwrap_or(message.content);
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
        let f = Final::parse(body).unwrap();
        assert_eq!(f.load_time(), Some(Duration::from_millis(6100)));
        let r = f.into_reply(None);
        assert_eq!(r.content, "{}");
        assert_eq!(r.finish_reason.as_deref(), Some("stop"));
        let u = r.usage.unwrap();
        assert_eq!((u.prompt_tokens, u.completion_tokens, u.cached_tokens), (1200, 300, None));
        assert_eq!((u.load_ms, u.total_ms), (Some(6100), Some(7200)));
        let f = Final::parse(r#"{"message":{"content":"","thinking":"hm"},"done":true}"#).unwrap();
        let r = f.into_reply(None);
        assert_eq!((r.content.as_str(), r.usage), ("hm", None));
        assert!(Final::parse("<html>").unwrap_err().contains("not an Ollama chat reply"));
    }

    #[test]
    fn the_root_drops_v1() {
        assert_eq!(root("http://h:11434/v1"), "http://h:11434");
        assert_eq!(root("http://h:11434/v1/"), "http://h:11434");
        assert_eq!(root("http://h:11434"), "http://h:11434");
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
