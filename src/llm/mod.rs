//! The one HTTP client for OpenAI-compatible endpoints: chat completions with time-outs,
//! retries (exponential backoff with jitter, `Retry-After` honoured) on connection
//! errors, 429 and 5xx, and never on other 4xx; model listing; Ollama discovery; and the
//! per-endpoint memory of which structured-output mode works.

pub mod errors;
pub mod modes;
pub mod ollama;
pub mod protocol;

use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{AUTHORIZATION, HeaderValue, RETRY_AFTER};

use crate::config::Secret;
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
    /// How long a whole request may take.
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

/// The client. Cheap to clone; connections are pooled.
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    /// Where requests go.
    pub endpoint: Endpoint,
    limits: Limits,
    notify: Notify,
}

impl Client {
    /// A client for `endpoint`; `notify` is told about retries.
    pub fn new(endpoint: Endpoint, limits: Limits, notify: Notify) -> Client {
        let http = reqwest::Client::builder()
            .connect_timeout(limits.connect_timeout)
            .timeout(limits.timeout)
            .user_agent(concat!("grill/", env!("CARGO_PKG_VERSION")))
            .build()
            .expect("a client with these settings always builds");
        Client { http, endpoint, limits, notify }
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

    fn transport_error(&self, url: &str, e: reqwest::Error) -> LlmError {
        if e.is_timeout() {
            LlmError::Timeout { url: url.to_string(), after: self.limits.timeout }
        } else {
            // The innermost cause is the useful part ("Connection refused").
            let mut detail = e.to_string();
            let mut src = std::error::Error::source(&e);
            while let Some(s) = src {
                detail = s.to_string();
                src = s.source();
            }
            LlmError::Connect { url: url.to_string(), detail }
        }
    }

    /// Sends one request, retrying spurious failures; returns the body of a 2xx reply.
    async fn send(&self, path: &str, body: Option<&serde_json::Value>) -> Result<String, LlmError> {
        let url = self.endpoint.url(path);
        let mut attempt = 0;
        loop {
            let rb = match body {
                Some(b) => self.http.post(&url).json(b),
                None => self.http.get(&url),
            };
            let (error, retry_after) = match self.auth(rb).send().await {
                Err(e) => (self.transport_error(&url, e), None),
                Ok(resp) => {
                    let status = resp.status();
                    let retry_after = resp.headers().get(RETRY_AFTER).and_then(parse_retry_after);
                    let text = resp.text().await.map_err(|e| self.transport_error(&url, e))?;
                    if status.is_success() {
                        return Ok(text);
                    }
                    let message = error_message(&text);
                    let hint = self.status_hint(status.as_u16(), &message).await;
                    (LlmError::Status { url: url.clone(), status: status.as_u16(), message, hint }, retry_after)
                }
            };
            if !error.is_spurious() || attempt >= self.limits.retries {
                return Err(error);
            }
            let wait = backoff(attempt, self.limits.retry_base, retry_after, self.limits.retry_cap, fastrand::f64());
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

    async fn status_hint(&self, status: u16, message: &str) -> Option<String> {
        let lower = message.to_lowercase();
        match status {
            401 | 403 => Some(
                "check the API key in GRILL_API_KEY or OPENAI_API_KEY (`grill config` shows where it comes from)"
                    .into(),
            ),
            404 | 400
                if lower.contains("model")
                    && (lower.contains("not found")
                        || lower.contains("does not exist")
                        || lower.contains("unknown")) =>
            {
                let models = self.models_quietly().await;
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

    async fn models_quietly(&self) -> Vec<String> {
        let url = self.endpoint.url("models");
        match self.auth(self.http.get(&url)).timeout(Duration::from_secs(5)).send().await {
            Ok(r) if r.status().is_success() => r.text().await.map(|t| protocol::model_names(&t)).unwrap_or_default(),
            _ => Vec::new(),
        }
    }

    /// The models the server lists at `/models`.
    pub async fn models(&self) -> Result<Vec<String>, LlmError> {
        let body = self.send("models", None).await?;
        Ok(protocol::model_names(&body))
    }

    /// One chat completion.
    pub async fn chat(&self, request: &ChatRequest) -> Result<ChatReply, LlmError> {
        let body = serde_json::to_value(request).expect("a request always serialises");
        let text = self.send("chat/completions", Some(&body)).await?;
        ChatReply::parse(&text).map_err(LlmError::BadReply)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn retry_after_reads_seconds() {
        assert_eq!(parse_retry_after(&HeaderValue::from_static("2")), Some(Duration::from_secs(2)));
        assert_eq!(parse_retry_after(&HeaderValue::from_static("soon")), None);
    }
}
