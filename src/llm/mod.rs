//! The one HTTP client for OpenAI-compatible endpoints and Ollama: chat completions with
//! time-outs, retries (exponential backoff with jitter, `Retry-After` honoured) on
//! connection errors, 429 and 5xx, and never on other 4xx; model listing; Ollama discovery
//! and its native chat API; the per-endpoint memory of which structured-output mode
//! works; and the refusal of a reply to a prompt the server cut.
//!
//! A server is not trusted: every body is read in chunks up to a cap (a reply larger than
//! a grading could need is refused, never held in memory), one [`Deadline`] bounds all the
//! tries and waits of a piece of work, and every piece of server text leaves here scrubbed
//! (see [`crate::scrub`]).

pub mod check;
pub mod deadline;
pub mod errors;
pub mod modes;
pub mod ollama;
pub mod protocol;
pub mod speed;
pub mod stale;
pub mod stream;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderValue, RETRY_AFTER};

use crate::config::Secret;
pub use deadline::Deadline;
pub use errors::{LlmError, error_message};
pub use protocol::{ChatReply, ChatRequest, Message, Mode, Usage};

/// Where requests go, and the key they carry.
#[derive(Clone)]
pub struct Endpoint {
    /// The base URL without a trailing slash, e.g. `http://127.0.0.1:8080/v1`.
    pub base_url: String,
    api_key: Option<Secret>,
}

impl std::fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Endpoint").field("base_url", &self.base_url).field("api_key", &self.api_key).finish()
    }
}

impl Endpoint {
    /// An endpoint at `base_url`; `Err` says why the URL is not usable.
    pub fn new(base_url: &str, api_key: Option<Secret>) -> Result<Endpoint, String> {
        let base = base_url.trim().trim_end_matches('/');
        let url = reqwest::Url::parse(base).map_err(|e| format!("`{base}` is not a URL ({e})"))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(format!("`{base}` is not an http(s) URL"));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err("put credentials in GRILL_API_KEY, not in the URL".into());
        }
        Ok(Endpoint { base_url: base.to_string(), api_key })
    }

    /// `scheme://host:port`: what transcripts record (never a path, never the key).
    pub fn host(&self) -> String {
        match reqwest::Url::parse(&self.base_url) {
            Ok(u) => format!(
                "{}://{}{}",
                u.scheme(),
                u.host_str().unwrap_or("?"),
                u.port().map(|p| format!(":{p}")).unwrap_or_default()
            ),
            Err(_) => "?".into(),
        }
    }

    /// The server's root, where its own paths live (Ollama's `/api/...`, llama.cpp's
    /// `/props`): the base URL without a trailing `/v1`, any path before it kept, so a
    /// server behind a proxy's prefix is still found.
    pub fn root(&self) -> &str {
        let base = self.base_url.trim_end_matches('/');
        base.strip_suffix("/v1").unwrap_or(base)
    }

    fn url(&self, path: &str) -> String {
        format!("{}/{}", self.base_url, path.trim_start_matches('/'))
    }

    fn has_v1(&self) -> bool {
        self.base_url.ends_with("/v1") || self.base_url.contains("/v1/")
    }
}

/// Time-outs and retries.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// How long to wait for a connection.
    pub connect_timeout: Duration,
    /// How long a whole piece of work (a grading with its retries, waits, step-downs and
    /// repair) may take.
    pub timeout: Duration,
    /// Retries after the first try, for spurious errors only.
    pub retries: u32,
    /// First backoff; doubled on every retry, with jitter.
    pub retry_base: Duration,
    /// Longest single wait, `Retry-After` included.
    pub retry_cap: Duration,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            connect_timeout: Duration::from_secs(5),
            timeout: Duration::from_secs(120),
            retries: 3,
            retry_base: Duration::from_millis(500),
            retry_cap: Duration::from_secs(10),
        }
    }
}

/// The most of an error body read: its message is all that is used, and that is shown
/// cut to [`errors::MESSAGE_MAX`] bytes.
pub const ERROR_BODY_MAX: usize = 64 << 10;

/// The most of a model listing read: thousands of names fit.
pub const LISTING_MAX: usize = 1 << 20;

/// Bytes per token a reply's text is allowed: tokens average about four bytes, and JSON
/// escapes (`\u00e9` is six bytes for two) can stretch that; sixteen leaves room for any
/// honest reply.
const BYTES_PER_TOKEN: usize = 16;

/// The most of a chat reply read for a request of `max_tokens`: the text it can hold plus
/// room for the JSON around it, and never less than 256 KiB, so that a server's verbose
/// envelope (logprobs, reasoning) still fits.
pub fn reply_cap(max_tokens: u32) -> usize {
    (max_tokens as usize * BYTES_PER_TOKEN + (16 << 10)).max(256 << 10)
}

/// How many times its text a streamed reply may take on the wire: every token comes in
/// its own event, an envelope of a hundred to three hundred bytes around a few bytes of
/// text. Only the text is held; this bounds what is read.
const STREAM_ENVELOPE: usize = 64;

/// The most of a streamed reply read, envelopes and all, where a whole reply is read up
/// to `reply_cap`.
fn stream_cap(reply_cap: usize) -> usize {
    reply_cap.saturating_mul(STREAM_ENVELOPE)
}

/// The most of a reply's text kept: what `max_tokens` tokens can honestly take.
pub fn content_cap(max_tokens: u32) -> usize {
    (max_tokens as usize * BYTES_PER_TOKEN).max(4 << 10)
}

/// Reads `resp`'s body chunk by chunk, keeping at most `cap` bytes. Returns the bytes and
/// whether that was the whole body; reading stops at the cap, so a body of any size costs
/// no more than `cap` bytes of memory.
pub(crate) async fn read_capped(resp: &mut reqwest::Response, cap: usize) -> Result<(Vec<u8>, bool), reqwest::Error> {
    let mut buf = Vec::with_capacity(resp.content_length().map_or(16 << 10, |n| n.min(cap as u64) as usize));
    while let Some(chunk) = resp.chunk().await? {
        let room = cap - buf.len();
        if chunk.len() > room {
            buf.extend_from_slice(&chunk[..room]);
            return Ok((buf, false));
        }
        buf.extend_from_slice(&chunk);
    }
    Ok((buf, true))
}

/// How long to wait before retry number `attempt` (0-based): the server's `Retry-After`
/// when it sent one, else `base * 2^attempt` scaled by a jitter factor in [0.5, 1.5);
/// never more than `cap`.
pub fn backoff(attempt: u32, base: Duration, retry_after: Option<Duration>, cap: Duration, jitter: f64) -> Duration {
    let wait = match retry_after {
        Some(ra) => ra,
        None => base.saturating_mul(1u32 << attempt.min(16)).mul_f64(0.5 + jitter.clamp(0.0, 1.0)),
    };
    wait.min(cap)
}

/// `Retry-After` as seconds or an HTTP date.
fn parse_retry_after(v: &HeaderValue) -> Option<Duration> {
    let s = v.to_str().ok()?.trim();
    if let Ok(secs) = s.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = chrono::DateTime::parse_from_rfc2822(s).ok()?;
    let delta = when.with_timezone(&chrono::Utc) - chrono::Utc::now();
    delta.to_std().ok()
}

/// Receives a line for the user: retries and similar notices.
pub type Notify = Arc<dyn Fn(String) + Send + Sync>;

/// Which chat API an endpoint speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Api {
    /// Not yet known: asked on the first chat.
    Unknown,
    /// Ollama's native `/api/chat`.
    Ollama,
    /// OpenAI-compatible `/chat/completions`.
    OpenAi,
}

/// Model loading shorter than this is not worth a line.
const LOAD_NOTICE: Duration = Duration::from_secs(1);

/// Bytes of prompt per token below which a server's prompt count means the prompt was
/// cut. Tokenizers run at 3.5 to 4.5 bytes a token on English, code and JSON, and at
/// fewer on other scripts; only odd text (long runs of one character) packs more than 6
/// into a token, and grill's own instructions and rubric, ordinary prose, are most of
/// every prompt. Chat templates add tokens, never remove them. So an honest count is
/// above bytes/6, while a prompt cut to a 4096-token window falls below it once the
/// prompt is over 24 KiB: a cut is missed only when it is small, and a whole prompt is
/// never refused. A count of 0 (a server that reports none) is not taken as a cut.
const TRUNCATED_BYTES_PER_TOKEN: usize = 6;

/// `Err` when `reply` reports reading far fewer prompt tokens than `request` holds: the
/// server cut the prompt to fit its context, and a grade of what is left would judge
/// part of the question.
fn check_prompt(request: &ChatRequest, reply: &ChatReply, ollama: bool) -> Result<(), LlmError> {
    let sent_bytes: usize = request.messages.iter().map(|m| m.content.len()).sum();
    let read = reply.usage.map_or(0, |u| u.prompt_tokens);
    let least = (sent_bytes / TRUNCATED_BYTES_PER_TOKEN) as u64;
    if read == 0 || read >= least {
        return Ok(());
    }
    let needed = ollama::context_for(&request.messages, request.max_tokens).div_ceil(1024) * 1024;
    Err(LlmError::Truncated { read, sent_bytes, needed, ollama })
}

/// The client. Cheap to clone; connections are pooled.
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    /// Where requests go.
    pub endpoint: Endpoint,
    limits: Limits,
    notify: Notify,
    /// Which chat API the endpoint speaks, shared by the clones.
    api: Arc<Mutex<Api>>,
}

impl Client {
    /// A client for `endpoint`; `notify` is told about retries.
    pub fn new(endpoint: Endpoint, limits: Limits, notify: Notify) -> Client {
        let http = reqwest::Client::builder()
            .connect_timeout(limits.connect_timeout)
            .timeout(limits.timeout)
            .pool_idle_timeout(stale::POOL_IDLE)
            .user_agent(concat!("grill/", env!("CARGO_PKG_VERSION")))
            .build()
            .expect("a client with these settings always builds");
        Client { http, endpoint, limits, notify, api: Arc::new(Mutex::new(Api::Unknown)) }
    }

    /// Marks the endpoint as Ollama (found by the discovery probe), so the first chat
    /// need not ask.
    pub fn assume_ollama(&self) {
        self.set_api(Api::Ollama);
    }

    fn set_api(&self, api: Api) {
        if let Ok(mut a) = self.api.lock() {
            *a = api;
        }
    }

    /// Whether the endpoint is Ollama: known, or asked once with `GET /api/version`.
    async fn is_ollama(&self) -> bool {
        let known = self.api.lock().map_or(Api::OpenAi, |a| *a);
        let api = match known {
            Api::Unknown if ollama::answers_version(self.endpoint.root()).await => Api::Ollama,
            Api::Unknown => Api::OpenAi,
            other => other,
        };
        self.set_api(api);
        api == Api::Ollama
    }

    fn auth(&self, rb: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match &self.endpoint.api_key {
            Some(key) => match HeaderValue::from_str(&format!("Bearer {}", key.expose())) {
                Ok(mut v) => {
                    v.set_sensitive(true);
                    rb.header(AUTHORIZATION, v)
                }
                Err(_) => rb,
            },
            None => rb,
        }
    }

    fn transport_error(&self, url: &str, e: reqwest::Error, deadline: &Deadline) -> LlmError {
        if e.is_timeout() && deadline.remaining().is_none_or(|left| left < Duration::from_millis(50)) {
            return LlmError::Timeout { url: url.to_string(), after: deadline.limit(), last: None };
        }
        // The innermost cause is the useful part ("Connection refused").
        let mut detail = e.to_string();
        let mut src = std::error::Error::source(&e);
        while let Some(s) = src {
            detail = s.to_string();
            src = s.source();
        }
        LlmError::Connect { url: url.to_string(), detail }
    }

    /// Sends one request, retrying spurious failures while `deadline` allows; returns the
    /// body of a 2xx reply, at most `cap` bytes. Errors come back scrubbed.
    async fn send(
        &self,
        url: String,
        body: Option<&serde_json::Value>,
        cap: usize,
        deadline: &Deadline,
    ) -> Result<String, LlmError> {
        let mut resp = self.open(&url, body, deadline).await?;
        self.read_whole(&url, &mut resp, cap, deadline).await
    }

    /// The body of a 2xx reply, at most `cap` bytes: refused unread when it says it is
    /// larger.
    async fn read_whole(
        &self,
        url: &str,
        resp: &mut reqwest::Response,
        cap: usize,
        deadline: &Deadline,
    ) -> Result<String, LlmError> {
        if resp.content_length().is_some_and(|n| n > cap as u64) {
            return Err(LlmError::TooLarge { url: url.to_string(), limit: cap }.scrubbed());
        }
        let (bytes, whole) =
            read_capped(resp, cap).await.map_err(|e| self.transport_error(url, e, deadline).scrubbed())?;
        if !whole {
            return Err(LlmError::TooLarge { url: url.to_string(), limit: cap }.scrubbed());
        }
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }

    /// Sends one request, retrying spurious failures while `deadline` allows; returns a
    /// 2xx reply with its body still to read. Errors come back scrubbed.
    async fn open(
        &self,
        url: &str,
        body: Option<&serde_json::Value>,
        deadline: &Deadline,
    ) -> Result<reqwest::Response, LlmError> {
        let url = url.to_string();
        let mut attempt = 0;
        let mut last: Option<String> = None;
        let mut resent = false;
        loop {
            // Each try gets the time left, so that the tries together keep to the limit.
            let Some(left) = deadline.remaining() else {
                return Err(LlmError::Timeout { url, after: deadline.limit(), last }.scrubbed());
            };
            let rb = match body {
                Some(b) => self.http.post(&url).json(b),
                None => self.http.get(&url),
            };
            let (error, retry_after) = match self.auth(rb).timeout(left).send().await {
                // A pooled connection the server closed while idle: once, silently, anew.
                Err(e) if !resent && stale::is_stale_connection(&e) => {
                    resent = true;
                    continue;
                }
                Err(e) => (self.transport_error(&url, e, deadline), None),
                Ok(mut resp) => {
                    let status = resp.status();
                    let retry_after = resp.headers().get(RETRY_AFTER).and_then(parse_retry_after);
                    if status.is_success() {
                        return Ok(resp);
                    }
                    // Only the message is used: a prefix of the body holds it.
                    let (bytes, _) = read_capped(&mut resp, ERROR_BODY_MAX).await.unwrap_or_default();
                    drop(resp);
                    let message = error_message(&String::from_utf8_lossy(&bytes));
                    let hint = self.status_hint(status.as_u16(), &message, deadline).await;
                    (LlmError::Status { url: url.clone(), status: status.as_u16(), message, hint }, retry_after)
                }
            };
            let error = error.scrubbed();
            if !error.is_spurious() || attempt >= self.limits.retries {
                return Err(error);
            }
            let wait = backoff(attempt, self.limits.retry_base, retry_after, self.limits.retry_cap, fastrand::f64());
            if !deadline.allows_wait_at(Instant::now(), wait) {
                // Waiting would use up the time left: stop now, saying what the last try got.
                last = Some(error.to_string());
                return Err(LlmError::Timeout { url, after: deadline.limit(), last }.scrubbed());
            }
            let left = self.limits.retries - attempt;
            (self.notify)(format!(
                "{error}; retrying in {:.1} s ({left} {} left)",
                wait.as_secs_f64(),
                if left == 1 { "try" } else { "tries" }
            ));
            tokio::time::sleep(wait).await;
            attempt += 1;
        }
    }

    async fn status_hint(&self, status: u16, message: &str, deadline: &Deadline) -> Option<String> {
        let lower = message.to_lowercase();
        match status {
            401 | 403 => Some(
                "check the API key in GRILL_API_KEY or OPENAI_API_KEY (`grill config` shows where it comes from)"
                    .into(),
            ),
            // llama.cpp: "the request exceeds the available context size"; vLLM and OpenAI:
            // "maximum context length is N tokens".
            400 | 413
                if lower.contains("context")
                    && (lower.contains("exceed")
                        || lower.contains("maximum context")
                        || lower.contains("too long")) =>
            {
                Some(
                    "the prompt does not fit the server's context window: raise its context size (llama.cpp: \
                     --ctx-size N; vLLM: --max-model-len N; Ollama: OLLAMA_CONTEXT_LENGTH=N)"
                        .into(),
                )
            }
            404 | 400
                if lower.contains("model")
                    && (lower.contains("not found")
                        || lower.contains("does not exist")
                        || lower.contains("unknown")) =>
            {
                let models = self.models_quietly(deadline).await;
                Some(if models.is_empty() {
                    "check the model name (--model or GRILL_MODEL)".into()
                } else {
                    format!("the server has: {}; choose one with --model or GRILL_MODEL", models.join(", "))
                })
            }
            404 if !self.endpoint.has_v1() => Some(format!(
                "OpenAI-compatible servers usually answer under /v1: try --base-url {}/v1",
                self.endpoint.base_url
            )),
            404 => Some("check the base URL: the server does not know this path".into()),
            _ => None,
        }
    }

    async fn models_quietly(&self, deadline: &Deadline) -> Vec<String> {
        let limit = deadline.clamp(Duration::from_secs(5));
        if limit.is_zero() {
            return Vec::new();
        }
        let url = self.endpoint.url("models");
        match self.auth(self.http.get(&url)).timeout(limit).send().await {
            Ok(mut r) if r.status().is_success() => match read_capped(&mut r, LISTING_MAX).await {
                Ok((bytes, true)) => protocol::model_names(&String::from_utf8_lossy(&bytes)),
                _ => Vec::new(),
            },
            _ => Vec::new(),
        }
    }

    /// A deadline for one piece of work: the configured `--timeout` from now.
    pub fn deadline(&self) -> Deadline {
        Deadline::after(self.limits.timeout)
    }

    /// The models the server lists at `/models`.
    pub async fn models(&self, deadline: &Deadline) -> Result<Vec<String>, LlmError> {
        let body = self.send(self.endpoint.url("models"), None, LISTING_MAX, deadline).await?;
        Ok(protocol::model_names(&body))
    }

    /// One chat completion, within `deadline`; the reply's text comes back scrubbed and
    /// cut to what `max_tokens` tokens can take. Ollama is asked through its native API
    /// (falling back to the OpenAI-compatible one where `/api/chat` is not found). A reply
    /// to a prompt the server cut is refused: see [`LlmError::Truncated`].
    pub async fn chat(&self, request: &ChatRequest, deadline: &Deadline) -> Result<ChatReply, LlmError> {
        self.chat_streaming(request, deadline, &mut |_| {}).await
    }

    /// [`Client::chat`], telling `on_text` the reply's text so far each time a streamed
    /// reply grows. That text is unscrubbed, for a parser to read, never to be shown; the
    /// reply returned is scrubbed as ever. A request with `stream` set that a server
    /// answers whole (not every server streams) is read whole, and `on_text` is not told.
    pub async fn chat_streaming(
        &self,
        request: &ChatRequest,
        deadline: &Deadline,
        on_text: &mut dyn FnMut(&str),
    ) -> Result<ChatReply, LlmError> {
        let ollama = self.is_ollama().await;
        let reply = if ollama {
            match self.ollama_chat(request, deadline, on_text).await {
                // Not Ollama's own API after all (a proxy, say): a missing model is
                // Ollama's to report, anything else missing means another server.
                Err(LlmError::Status { status: 404, message, .. }) if !message.to_lowercase().contains("model") => {
                    self.set_api(Api::OpenAi);
                    self.openai_chat(request, deadline, on_text).await?
                }
                other => other?,
            }
        } else {
            self.openai_chat(request, deadline, on_text).await?
        };
        check_prompt(request, &reply, ollama)?;
        Ok(reply)
    }

    async fn openai_chat(
        &self,
        request: &ChatRequest,
        deadline: &Deadline,
        on_text: &mut dyn FnMut(&str),
    ) -> Result<ChatReply, LlmError> {
        let mut body = serde_json::to_value(request).expect("a request always serialises");
        if request.stream {
            // Without it, a streamed reply comes without its token counts.
            body["stream_options"] = serde_json::json!({"include_usage": true});
        }
        let url = self.endpoint.url("chat/completions");
        let cap = reply_cap(request.max_tokens);
        let mut resp = self.open(&url, Some(&body), deadline).await?;
        let content_type = resp.headers().get(CONTENT_TYPE).and_then(|v| v.to_str().ok());
        let reply = if stream::is_event_stream(content_type) {
            self.read_stream(&url, &mut resp, cap, deadline, stream::Sse::new(cap), on_text).await?
        } else {
            let text = self.read_whole(&url, &mut resp, cap, deadline).await?;
            ChatReply::parse(&text).map_err(|e| LlmError::BadReply(e).scrubbed())?
        };
        Ok(reply.scrubbed(content_cap(request.max_tokens)))
    }

    /// Reads a streamed reply through `decoder` as its pieces arrive, within the same
    /// deadline as a whole one (the request's time-out covers its body). The text is
    /// capped as a whole reply's is, and the envelopes around it at [`stream_cap`], so no
    /// stream costs more memory than a reply.
    async fn read_stream(
        &self,
        url: &str,
        resp: &mut reqwest::Response,
        cap: usize,
        deadline: &Deadline,
        mut decoder: impl stream::Decoder,
        on_text: &mut dyn FnMut(&str),
    ) -> Result<ChatReply, LlmError> {
        let too_large = || LlmError::TooLarge { url: url.to_string(), limit: cap }.scrubbed();
        let fault = |f: stream::Fault| match f {
            stream::Fault::TooLarge => too_large(),
            stream::Fault::Bad(why) => LlmError::BadReply(why).scrubbed(),
        };
        let mut read = 0usize;
        let limit = stream_cap(cap);
        if resp.content_length().is_some_and(|n| n > limit as u64) {
            return Err(LlmError::TooLarge { url: url.to_string(), limit }.scrubbed());
        }
        loop {
            let chunk = match resp.chunk().await {
                Ok(Some(chunk)) => chunk,
                Ok(None) => break,
                Err(e) => {
                    return Err(match self.transport_error(url, e, deadline) {
                        t @ LlmError::Timeout { .. } => t.scrubbed(),
                        // Cut in the middle: like a stream that ends without its terminator,
                        // what came is not a whole reply, and asking again may do better.
                        other => {
                            LlmError::BadReply(format!("the stream broke off before its end ({other})")).scrubbed()
                        }
                    });
                }
            };
            read += chunk.len();
            if read > limit {
                return Err(LlmError::TooLarge { url: url.to_string(), limit }.scrubbed());
            }
            if decoder.feed(&chunk).map_err(fault)? {
                on_text(decoder.text());
            }
        }
        decoder.finish().map_err(fault)
    }

    /// `POST /api/chat`, streamed when `request` asks (one JSON object a line, read as it
    /// comes), else whole. Model loading is told apart from grading.
    async fn ollama_chat(
        &self,
        request: &ChatRequest,
        deadline: &Deadline,
        on_text: &mut dyn FnMut(&str),
    ) -> Result<ChatReply, LlmError> {
        let body = serde_json::to_value(ollama::Chat::from_request(request)).expect("a request always serialises");
        let url = format!("{}/api/chat", self.endpoint.root());
        let cap = reply_cap(request.max_tokens);
        let mut resp = self.open(&url, Some(&body), deadline).await?;
        let content_type = resp.headers().get(CONTENT_TYPE).and_then(|v| v.to_str().ok());
        // Ollama sends a stream as `application/x-ndjson` and a whole reply as
        // `application/json`; a whole reply is read whole, in whatever layout it comes.
        let reply = if stream::is_json(content_type) {
            let text = self.read_whole(&url, &mut resp, cap, deadline).await?;
            ollama::Final::parse(&text).map_err(|e| LlmError::BadReply(e).scrubbed())?.into_reply()
        } else {
            self.read_stream(&url, &mut resp, cap, deadline, ollama::Stream::new(cap), on_text).await?
        };
        let load = reply.usage.and_then(|u| u.load_ms).map(Duration::from_millis);
        if let Some(load) = load.filter(|d| *d > LOAD_NOTICE) {
            let model = crate::scrub::server_text(&request.model, 200);
            (self.notify)(format!("loading {model} ... {:.1} s", load.as_secs_f64()));
        }
        Ok(reply.scrubbed(content_cap(request.max_tokens)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_root_drops_v1_and_keeps_a_prefix() {
        let root = |base: &str| Endpoint::new(base, None).unwrap().root().to_string();
        assert_eq!(root("http://h:11434/v1"), "http://h:11434");
        assert_eq!(root("http://h:11434/v1/"), "http://h:11434");
        assert_eq!(root("http://h:11434"), "http://h:11434");
        assert_eq!(root("http://proxy/llama/v1"), "http://proxy/llama");
    }

    #[test]
    fn backoff_doubles_with_jitter_honours_retry_after_and_caps() {
        let base = Duration::from_millis(100);
        let cap = Duration::from_secs(10);
        assert_eq!(backoff(0, base, None, cap, 0.5), Duration::from_millis(100));
        assert_eq!(backoff(2, base, None, cap, 0.5), Duration::from_millis(400));
        assert_eq!(backoff(2, base, None, cap, 0.0), Duration::from_millis(200));
        assert_eq!(backoff(1, base, Some(Duration::from_secs(3)), cap, 0.9), Duration::from_secs(3));
        assert_eq!(backoff(1, base, Some(Duration::from_secs(60)), cap, 0.0), cap);
        assert_eq!(backoff(30, base, None, cap, 0.5), cap);
    }

    #[test]
    fn endpoints_validate_and_show_only_the_host() {
        let e = Endpoint::new("http://127.0.0.1:8080/v1/", Some(Secret::new("sk-x"))).unwrap();
        assert_eq!(e.base_url, "http://127.0.0.1:8080/v1");
        assert_eq!(e.host(), "http://127.0.0.1:8080");
        assert!(!format!("{e:?}").contains("sk-x"));
        assert!(Endpoint::new("localhost:8080", None).is_err());
        assert!(Endpoint::new("http://user:pw@host/v1", None).is_err());
    }

    #[test]
    fn reply_caps_follow_max_tokens_with_a_floor() {
        assert_eq!(reply_cap(1000), 256 << 10);
        assert_eq!(reply_cap(100_000), 100_000 * 16 + (16 << 10));
        assert_eq!(content_cap(1000), 16_000);
        assert_eq!(content_cap(10), 4 << 10);
    }

    /// A server streaming a 500 MB reply in chunks, with no Content-Length to refuse it
    /// by: the client must stop reading near the cap and hang up. Returns how many body
    /// bytes the server managed to hand over.
    fn streaming_server(total: usize) -> (u16, std::thread::JoinHandle<usize>) {
        flooding_server(total, "application/json", vec![b' '; 64 << 10])
    }

    /// A server sending `chunk` again and again as a body of type `content_type`.
    fn flooding_server(
        total: usize,
        content_type: &'static str,
        chunk: Vec<u8>,
    ) -> (u16, std::thread::JoinHandle<usize>) {
        use std::io::{Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let served = std::thread::spawn(move || {
            let (mut sock, _) = listener.accept().unwrap();
            let mut request = [0u8; 64 << 10];
            let _ = sock.read(&mut request);
            let head = format!("HTTP/1.1 200 OK\r\ncontent-type: {content_type}\r\ntransfer-encoding: chunked\r\n\r\n");
            if sock.write_all(head.as_bytes()).is_err() {
                return 0;
            }
            let size = format!("{:x}\r\n", chunk.len());
            let mut sent = 0;
            while sent < total {
                let ok = sock
                    .write_all(size.as_bytes())
                    .and_then(|_| sock.write_all(&chunk))
                    .and_then(|_| sock.write_all(b"\r\n"));
                if ok.is_err() {
                    break;
                }
                sent += chunk.len();
            }
            sent
        });
        (port, served)
    }

    #[test]
    fn a_streamed_flood_is_refused_after_about_the_cap() {
        let (port, served) = streaming_server(500 << 20);
        let (err, sent) = chat_with(port, served, false);
        assert_eq!(
            err.to_string(),
            format!(
                "the reply from http://127.0.0.1:{port}/v1/chat/completions is larger than 256 KiB, the most grill \
                 reads for it; it was refused"
            )
        );
        // What the sockets' buffers hold on top of the cap, not the 500 MB on offer.
        assert!(sent < 32 << 20, "the server handed over {sent} bytes");
    }

    #[test]
    fn a_flood_of_events_is_refused_at_the_text_cap_and_a_flood_of_comments_at_the_stream_cap() {
        let event = format!("data: {}\n\n", serde_json::json!({"choices": [{"delta": {"content": "x".repeat(1000)}}]}));
        let (port, served) = flooding_server(500 << 20, "text/event-stream", event.repeat(64).into_bytes());
        let (err, sent) = chat_with(port, served, true);
        assert!(err.to_string().contains("is larger than 256 KiB"), "{err}");
        assert!(sent < 32 << 20, "the server handed over {sent} bytes");
        let (port, served) = flooding_server(500 << 20, "text/event-stream", b": keep-alive\n\n".repeat(4096));
        let (err, sent) = chat_with(port, served, true);
        assert!(err.to_string().contains("is larger than 16 MiB"), "{err}");
        assert!(sent < 64 << 20, "the server handed over {sent} bytes");
    }

    #[test]
    fn an_ollama_stream_is_held_to_the_same_caps() {
        let line = format!("{}\n", serde_json::json!({"message": {"content": "x".repeat(1000)}, "done": false}));
        let (port, served) = flooding_server(500 << 20, "application/x-ndjson", line.repeat(64).into_bytes());
        let (err, sent) = chat_as(Api::Ollama, port, served, true);
        assert!(err.to_string().contains("/api/chat is larger than 256 KiB"), "{err}");
        assert!(sent < 32 << 20, "the server handed over {sent} bytes");
        let (port, served) = flooding_server(500 << 20, "application/x-ndjson", b"\n".repeat(64 << 10));
        let (err, sent) = chat_as(Api::Ollama, port, served, true);
        assert!(err.to_string().contains("is larger than 16 MiB"), "{err}");
        assert!(sent < 64 << 20, "the server handed over {sent} bytes");
    }

    /// One chat request to the server on `port`; its error, and how many bytes the server
    /// managed to hand over before the client hung up.
    fn chat_with(port: u16, served: std::thread::JoinHandle<usize>, stream: bool) -> (LlmError, usize) {
        chat_as(Api::OpenAi, port, served, stream)
    }

    /// [`chat_with`], asking as `api` speaks.
    fn chat_as(api: Api, port: u16, served: std::thread::JoinHandle<usize>, stream: bool) -> (LlmError, usize) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let endpoint = Endpoint::new(&format!("http://127.0.0.1:{port}/v1"), None).unwrap();
        let client = Client::new(endpoint, Limits::default(), Arc::new(|_| {}));
        // The server takes one connection: no probe for Ollama first.
        client.set_api(api);
        let request = ChatRequest {
            model: "m".into(),
            messages: vec![Message::user("hi")],
            temperature: 0.0,
            max_tokens: 1000,
            frequency_penalty: None,
            seed: None,
            response_format: None,
            stream,
        };
        let err = rt.block_on(client.chat(&request, &Deadline::after(Duration::from_secs(60)))).unwrap_err();
        drop(client);
        drop(rt);
        (err, served.join().unwrap())
    }

    fn reply_reading(prompt_tokens: u64) -> ChatReply {
        ChatReply {
            model: None,
            content: "{}".into(),
            finish_reason: Some("stop".into()),
            usage: Some(Usage { prompt_tokens, ..Usage::default() }),
        }
    }

    #[test]
    fn a_prompt_count_far_below_the_bytes_sent_is_a_cut_prompt() {
        let request = ChatRequest {
            model: "m".into(),
            messages: vec![Message::system("s".repeat(6000)), Message::user("u".repeat(30_000))],
            temperature: 0.0,
            max_tokens: 1308,
            frequency_penalty: None,
            seed: None,
            response_format: None,
            stream: false,
        };
        // 36000 bytes: an honest count is above 6000.
        assert!(check_prompt(&request, &reply_reading(9000), false).is_ok());
        assert!(check_prompt(&request, &reply_reading(6000), false).is_ok());
        assert!(check_prompt(&request, &reply_reading(0), false).is_ok(), "no count is no evidence");
        let e = check_prompt(&request, &reply_reading(4096), true).unwrap_err();
        assert_eq!(
            e.to_string(),
            "the server read only 4096 tokens of a 36000-byte prompt: it cut the prompt to fit its context window, \
             so the answer was not graded"
        );
        // 12000 + 1308 tokens, rounded up to 1024s.
        assert_eq!(
            e.hint().unwrap(),
            "raise Ollama's context to at least 13312 tokens: start it with OLLAMA_CONTEXT_LENGTH=13312, or add \
             `PARAMETER num_ctx 13312` to the model's Modelfile; a model trained on a shorter context cannot hold \
             this prompt"
        );
        let e = check_prompt(&request, &reply_reading(4096), false).unwrap_err();
        assert!(e.hint().unwrap().contains("llama.cpp: --ctx-size 13312"), "{:?}", e.hint());
    }

    #[test]
    fn retry_after_reads_seconds() {
        assert_eq!(parse_retry_after(&HeaderValue::from_static("2")), Some(Duration::from_secs(2)));
        assert_eq!(parse_retry_after(&HeaderValue::from_static("soon")), None);
    }
}
