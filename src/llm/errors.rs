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
    /// No reply in time.
    #[error("no reply from {url} within {} s", after.as_secs())]
    Timeout {
        /// The URL tried.
        url: String,
        /// The limit.
        after: Duration,
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
}

impl LlmError {
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
            LlmError::BadReply(_) => None,
        }
    }

    /// Whether trying again at once may help: connection trouble, 429 and 5xx. A
    /// time-out is not retried: a slow local model only gets slower with more requests.
    pub fn is_spurious(&self) -> bool {
        match self {
            LlmError::Connect { .. } => true,
            LlmError::Timeout { .. } => false,
            LlmError::Status { status, .. } => *status == 429 || *status >= 500,
            LlmError::BadReply(_) => false,
        }
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
    let first = trimmed.lines().next().unwrap_or("").trim();
    if first.is_empty() {
        "(empty body)".into()
    } else if first.starts_with('<') {
        "(an HTML page, not an API reply: is this the right address?)".into()
    } else {
        first.chars().take(300).collect()
    }
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
    }
}
