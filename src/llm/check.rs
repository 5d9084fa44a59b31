//! The check a session makes before its first question: does the endpoint answer at all?
//! One request for the model listing, no retries and a short deadline, so a server that
//! is down is found out before the candidate types an answer, not after.

use std::time::Duration;

use super::{Client, ERROR_BODY_MAX, error_message, read_capped};

/// How long the start check waits: a server that is up answers its model listing at
/// once, and the candidate is waiting for the first question.
pub const START_CHECK: Duration = Duration::from_millis(800);

impl Client {
    /// Asks for the model listing once, within `limit`. `Err` says, in words for the user
    /// and scrubbed, why the endpoint will not grade: nothing answers, no answer in time,
    /// the key is refused, or the server fails. Any other answer (a server that lists no
    /// models at this path, say, or one busy for a moment with a 429, which grading's own
    /// retries wait out) means the endpoint is there: grading will tell the rest.
    pub async fn check(&self, limit: Duration) -> Result<(), String> {
        let url = self.endpoint.url("models");
        let scrub = |s: String| crate::scrub::server_text(&s, super::errors::MESSAGE_MAX);
        let mut resp = match self.auth(self.http.get(&url)).timeout(limit).send().await {
            Ok(r) => r,
            Err(e) if e.is_timeout() => return Err(format!("no answer within {:.1} s", limit.as_secs_f64())),
            Err(e) => {
                let deadline = super::Deadline::after(limit);
                return Err(scrub(match self.transport_error(&url, e, &deadline) {
                    super::LlmError::Connect { detail, .. } => detail,
                    other => other.to_string(),
                }));
            }
        };
        let status = resp.status().as_u16();
        if !(status >= 500 || matches!(status, 401 | 403)) {
            return Ok(());
        }
        let (bytes, _) = read_capped(&mut resp, ERROR_BODY_MAX).await.unwrap_or_default();
        Err(scrub(format!("it answered {status}: {}", error_message(&String::from_utf8_lossy(&bytes)))))
    }
}
