//! Errors from an endpoint, with the server's own message and a hint a user can act on.

use std::time::Duration;

/// What went wrong talking to an endpoint.
#[derive(Debug, thiserror::Error)]
pub enum LlmError {
    /// Nothing answered.
    #[error("cannot reach {url}: {detail}")]
    Connect {
        /// The URL tried.
        url: String,
        /// What the OS or client said.
        detail: String,
    },
    /// No usable reply before the deadline, all tries and waits included.
    #[error(
        "no reply from {url} within {} s (the --timeout limit, every try included){}",
        after.as_secs(),
        last.as_deref().map(|l| format!("; the last try: {l}")).unwrap_or_default()
    )]
    Timeout {
        /// The URL tried.
        url: String,
        /// The limit.
        after: Duration,
        /// What the last try ended with, when the deadline came between tries.
        last: Option<String>,
    },
    /// The reply was larger than grill reads; it was refused, not held in memory.
    #[error("the reply from {url} is larger than {}, the most grill reads for it; it was refused", size(*limit))]
    TooLarge {
        /// The URL tried.
        url: String,
        /// The cap, in bytes.
        limit: usize,
    },
    /// The server answered with an error status.
    #[error("{url} answered {status}: {message}")]
    Status {
        /// The URL tried.
        url: String,
        /// The HTTP status.
        status: u16,
        /// The server's message, from whichever error shape it uses.
        message: String,
        /// What to do about it.
        hint: Option<String>,
    },
    /// The reply could not be used.
    #[error("unusable reply: {0}")]
    BadReply(String),
    /// The server read far less of the prompt than was sent: it cut the prompt to fit its
    /// context window, so a grade would judge part of the question.
    #[error(
        "the server read only {read} tokens of a {sent_bytes}-byte prompt: it cut the prompt to fit its context \
         window, so the answer was not graded"
    )]
    Truncated {
        /// Prompt tokens the server reported.
        read: u64,
        /// Bytes of prompt sent.
        sent_bytes: usize,
        /// The context, in tokens, that would hold the prompt and the reply.
        needed: u32,
        /// Whether the server is Ollama (its fix differs).
        ollama: bool,
    },
}

impl LlmError {
    /// Whether the server refused the request's `response_format` (a schema, or JSON mode)
    /// rather than failing: the caller steps down to a plainer mode and asks again.
    pub fn rejects_mode(&self) -> bool {
        match self {
            LlmError::Status { status, message, .. } => {
                let m = message.to_lowercase();
                matches!(status, 400 | 422 | 500 | 501)
                    && [
                        "response_format",
                        "json_schema",
                        "json schema",
                        "schema",
                        "grammar",
                        "structured",
                        "not supported",
                        "unsupported",
                    ]
                    .iter()
                    .any(|w| m.contains(w))
            }
            _ => false,
        }
    }

    /// What to do about the error, when there is something to say.
    pub fn hint(&self) -> Option<String> {
        match self {
            LlmError::Connect { .. } => {
                Some("is the server running? Check the address with `grill config` or `grill doctor`".into())
            }
            LlmError::Timeout { .. } => {
                Some("local models can be slow: raise the limit with --timeout SECS (or GRILL_TIMEOUT)".into())
            }
            LlmError::Status { hint, .. } => hint.clone(),
            LlmError::TooLarge { .. } => {
                Some("the server sent far more than a grading needs: check the model and the server".into())
            }
            LlmError::BadReply(_) => None,
            LlmError::Truncated { needed, ollama: true, .. } => Some(format!(
                "raise Ollama's context to at least {needed} tokens: start it with OLLAMA_CONTEXT_LENGTH={needed}, \
                 or add `PARAMETER num_ctx {needed}` to the model's Modelfile; a model trained on a shorter \
                 context cannot hold this prompt"
            )),
            LlmError::Truncated { needed, ollama: false, .. } => Some(format!(
                "raise the server's context size to at least {needed} tokens (llama.cpp: --ctx-size {needed}; \
                 vLLM: --max-model-len {needed})"
            )),
        }
    }

    /// The error with every piece of server text in it made safe to show and store
    /// (see [`crate::scrub`]); the client returns no other kind.
    pub fn scrubbed(self) -> LlmError {
        use crate::scrub::server_text;
        match self {
            LlmError::Connect { url, detail } => {
                LlmError::Connect { url: server_text(&url, URL_MAX), detail: server_text(&detail, MESSAGE_MAX) }
            }
            LlmError::Timeout { url, after, last } => LlmError::Timeout {
                url: server_text(&url, URL_MAX),
                after,
                last: last.map(|l| server_text(&l, MESSAGE_MAX * 2)),
            },
            LlmError::Status { url, status, message, hint } => LlmError::Status {
                url: server_text(&url, URL_MAX),
                status,
                message: server_text(&message, MESSAGE_MAX),
                hint: hint.map(|h| server_text(&h, MESSAGE_MAX * 2)),
            },
            LlmError::TooLarge { url, limit } => LlmError::TooLarge { url: server_text(&url, URL_MAX), limit },
            LlmError::BadReply(why) => LlmError::BadReply(server_text(&why, BAD_REPLY_MAX)),
            t @ LlmError::Truncated { .. } => t,
        }
    }

    /// Whether trying again at once may help: connection trouble, 429 and 5xx. A
    /// time-out is not retried: a slow local model only gets slower with more requests.
    pub fn is_spurious(&self) -> bool {
        match self {
            LlmError::Connect { .. } => true,
            LlmError::Timeout { .. } => false,
            LlmError::TooLarge { .. } => false,
            LlmError::Status { status, .. } => *status == 429 || *status >= 500,
            LlmError::BadReply(_) => false,
            LlmError::Truncated { .. } => false,
        }
    }
}

impl crate::error::Diagnose for LlmError {
    /// An endpoint that fails is not the user's input at fault, even when a setting
    /// points at the wrong place: the hint says which setting to check.
    fn exit(&self) -> crate::error::ExitStatus {
        crate::error::ExitStatus::Error
    }

    fn hint(&self) -> Option<String> {
        LlmError::hint(self)
    }
}

/// The most of a server's error message shown: enough for any real message.
pub const MESSAGE_MAX: usize = 300;
const URL_MAX: usize = 300;
/// What a bad reply's description may quote of the reply.
const BAD_REPLY_MAX: usize = 1200;

/// A byte count for people: "256 KiB", "64 KiB", "3 MiB".
pub fn size(bytes: usize) -> String {
    if bytes >= 1 << 20 && bytes.is_multiple_of(1 << 20) {
        format!("{} MiB", bytes >> 20)
    } else if bytes >= 1 << 10 {
        format!("{} KiB", bytes.div_ceil(1 << 10))
    } else {
        format!("{bytes} bytes")
    }
}

/// The message inside an error body, whichever server sent it: OpenAI and llama.cpp
/// (`{"error":{"message":...}}`), Ollama (`{"error":"..."}`), vLLM
/// (`{"object":"error","message":...}`), FastAPI-style (`{"detail":...}`), or plain text.
pub fn error_message(body: &str) -> String {
    let trimmed = body.trim();
    if let Ok(v) = serde_json::from_str::<serde_json::Value>(trimmed) {
        let s = |v: &serde_json::Value| v.as_str().map(str::to_string);
        let found = v
            .get("error")
            .and_then(|e| e.get("message").and_then(s).or_else(|| s(e)))
            .or_else(|| v.get("message").and_then(s))
            .or_else(|| {
                v.get("detail").and_then(|d| {
                    s(d).or_else(|| d.as_array().and_then(|a| a.first()).and_then(|x| x.get("msg")).and_then(s))
                })
            });
        if let Some(m) = found {
            return m;
        }
    }
    // A body cut at the read cap is no longer JSON, but its message is still at the front.
    if trimmed.starts_with('{')
        && let Some(m) = cut_message(trimmed)
    {
        return m;
    }
    let first = trimmed.lines().next().unwrap_or("").trim();
    if first.is_empty() {
        "(empty body)".into()
    } else if first.starts_with('<') {
        "(an HTML page, not an API reply: is this the right address?)".into()
    } else {
        first.chars().take(300).collect()
    }
}

/// The string after the first `"message":` of a JSON text that may be cut short.
fn cut_message(body: &str) -> Option<String> {
    let at = body.find("\"message\"")?;
    let rest = body[at + "\"message\"".len()..].trim_start().strip_prefix(':')?.trim_start().strip_prefix('"')?;
    let mut end = rest.len();
    let mut escaped = false;
    for (i, c) in rest.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            '"' => {
                end = i;
                break;
            }
            _ => {}
        }
    }
    let mut s = &rest[..end];
    // An escape the cut broke in two.
    if let Some(i) = s.rfind('\\')
        && s.len() - i < 6
    {
        s = &s[..i];
    }
    serde_json::from_str::<String>(&format!("\"{s}\"")).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_servers_error_shape_yields_its_message() {
        let openai = r#"{"error":{"message":"Incorrect API key provided","type":"invalid_request_error","code":"invalid_api_key"}}"#;
        assert_eq!(error_message(openai), "Incorrect API key provided");
        let llama = r#"{"error":{"code":401,"message":"Invalid API Key","type":"authentication_error"}}"#;
        assert_eq!(error_message(llama), "Invalid API Key");
        let ollama = r#"{"error":"model \"qwen\" not found, try pulling it first"}"#;
        assert_eq!(error_message(ollama), "model \"qwen\" not found, try pulling it first");
        let vllm = r#"{"object":"error","message":"The model `x` does not exist.","type":"NotFoundError","code":404}"#;
        assert_eq!(error_message(vllm), "The model `x` does not exist.");
        assert_eq!(error_message(r#"{"detail":"Not Found"}"#), "Not Found");
        assert_eq!(error_message(r#"{"detail":[{"msg":"field required"}]}"#), "field required");
        assert_eq!(error_message("Internal Server Error\ntrace"), "Internal Server Error");
        assert!(error_message("<html><body>502 Bad Gateway</body></html>").contains("HTML page"));
        assert_eq!(error_message(""), "(empty body)");
        assert_eq!(error_message(r#"{"error":{"message":"Invalid key \u00e9xx"#), "Invalid key éxx");
        assert_eq!(error_message(r#"{"error":{"message":"cut in an escape \u00"#), "cut in an escape ");
    }

    #[test]
    fn scrubbed_errors_carry_no_key_no_escapes_and_no_flood() {
        crate::scrub::secret("sk-errors-test-0123456789abcdef");
        let e = LlmError::Status {
            url: "http://h/v1/chat/completions".into(),
            status: 401,
            message: format!("bad key sk-errors-test-0123456789abcdef\x1b]0;pwned\x07 {}", "x".repeat(5000)),
            hint: Some("Bearer sk-errors-test-0123456789abcdef".into()),
        }
        .scrubbed();
        let shown = format!("{e} {}", e.hint().unwrap());
        assert!(!shown.contains("sk-errors-test") && !shown.contains('\x1b') && !shown.contains('\x07'), "{shown}");
        let LlmError::Status { message, .. } = &e else { unreachable!() };
        assert!(
            message.starts_with("bad key [redacted]]0;pwned xxx") && message.ends_with("more bytes cut]"),
            "{message}"
        );
        assert!(message.len() < MESSAGE_MAX + 40);
    }

    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(size(256 << 10), "256 KiB");
        assert_eq!(size(64 << 20), "64 MiB");
        assert_eq!(size(100), "100 bytes");
    }
}
