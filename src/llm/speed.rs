//! How fast the model behind an endpoint reads a prompt and writes a reply, and how much
//! context the server gives it: what `grill doctor` turns into the wait for a grade. The
//! arithmetic is here as plain functions; the requests are one small chat completion and
//! the servers' own descriptions of themselves (llama.cpp's `/props`, Ollama's
//! `/api/show`), each asked once, quietly.

use std::time::{Duration, Instant};

use serde::Deserialize;
use serde_json::json;

use super::{ChatRequest, Client, Deadline, LISTING_MAX, LlmError, Message, read_capped, reply_cap};

/// The known prompt of the measurement: short, so the time goes to writing, and asking
/// for a reply of a known length that any model writes without thinking.
const PROMPT: &str = "Count from 1 to 30, the numbers separated by spaces, and write nothing else.";
/// Room for the counted reply (about 60 tokens), not for an essay.
const REPLY_TOKENS: u32 = 80;

/// When the server does not say how fast it reads the prompt: prompt tokens are read in
/// batches, typically ten times or more as fast as tokens are written; taking eight times
/// makes the prediction err long rather than short.
pub const PROMPT_SPEEDUP: f64 = 8.0;

/// The Ollama server's context when it is not set: its documented default.
pub const OLLAMA_DEFAULT_CONTEXT: u64 = 4096;

/// What the measurement saw.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Measured {
    /// Prompt tokens, as the server counted them (0 when it did not say).
    pub prompt_tokens: u64,
    /// Reply tokens, as the server counted them (0 when it did not say).
    pub completion_tokens: u64,
    /// How long the request took, network included.
    pub elapsed: Duration,
    /// llama.cpp's own `timings.prompt_per_second`, when sent.
    pub prompt_per_second: Option<f64>,
    /// llama.cpp's own `timings.predicted_per_second`, when sent.
    pub predicted_per_second: Option<f64>,
}

/// Tokens per second, reading the prompt and writing the reply.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rates {
    /// Prompt tokens read per second.
    pub prompt: f64,
    /// Reply tokens written per second.
    pub generation: f64,
    /// Whether the server measured them itself (else they are estimated from the time
    /// the request took).
    pub from_server: bool,
}

fn positive(x: Option<f64>) -> Option<f64> {
    x.filter(|v| v.is_finite() && *v > 0.0)
}

impl Measured {
    /// The rates: the server's own figures when it sent them; else the reply's tokens over
    /// the whole time (the short prompt's reading counted as writing, which errs slow) and
    /// the prompt read [`PROMPT_SPEEDUP`] times as fast. `None` when nothing was counted.
    pub fn rates(&self) -> Option<Rates> {
        let secs = self.elapsed.as_secs_f64();
        let timed = (self.completion_tokens > 0 && secs > 0.0).then(|| self.completion_tokens as f64 / secs);
        let generation = positive(self.predicted_per_second).or(timed)?;
        let prompt = positive(self.prompt_per_second);
        Some(Rates {
            prompt: prompt.unwrap_or(generation * PROMPT_SPEEDUP),
            generation,
            from_server: prompt.is_some() && positive(self.predicted_per_second).is_some(),
        })
    }
}

/// Seconds a request of `prompt_tokens` with a reply of `reply_tokens` takes at `rates`.
pub fn seconds(rates: Rates, prompt_tokens: u64, reply_tokens: u64) -> f64 {
    prompt_tokens as f64 / rates.prompt + reply_tokens as f64 / rates.generation
}

/// A wait in words: "about 8 s", "about 40 s", "about 3 min".
pub fn wait(seconds: f64) -> String {
    if seconds < 10.0 {
        format!("about {} s", seconds.ceil().max(1.0) as u64)
    } else if seconds < 120.0 {
        format!("about {} s", ((seconds / 5.0).round() * 5.0) as u64)
    } else {
        format!("about {} min", (seconds / 60.0).round() as u64)
    }
}

/// How much context the server gives the model, and who said so.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContextSize {
    /// Tokens, prompt and reply together.
    pub tokens: u64,
    /// Where the figure comes from, in words.
    pub source: String,
}

#[derive(Deserialize)]
struct WireUsage {
    #[serde(default)]
    prompt_tokens: u64,
    #[serde(default)]
    completion_tokens: u64,
}

#[derive(Deserialize)]
struct WireTimings {
    #[serde(default)]
    prompt_per_second: Option<f64>,
    #[serde(default)]
    predicted_per_second: Option<f64>,
}

#[derive(Deserialize)]
struct WireReply {
    #[serde(default)]
    usage: Option<WireUsage>,
    #[serde(default)]
    timings: Option<WireTimings>,
}

/// llama.cpp's context from its `/props`: `default_generation_settings.n_ctx`.
pub fn llama_cpp_context(body: &str) -> Option<u64> {
    let v: serde_json::Value = serde_json::from_str(body).ok()?;
    v.get("default_generation_settings")?.get("n_ctx")?.as_u64().filter(|n| *n > 0)
}

/// The context an Ollama server gives `model`, from its `/api/show` body: what the server
/// is set to (`OLLAMA_CONTEXT_LENGTH` as seen here, else its default), no more than the
/// model was trained for (`model_info.<arch>.context_length`).
pub fn ollama_context(body: &str, server_setting: Option<u64>) -> Option<ContextSize> {
    let v: serde_json::Value = serde_json::from_str(body).ok()?;
    let info = v.get("model_info")?.as_object()?;
    let trained = info.iter().find(|(k, _)| k.ends_with(".context_length")).and_then(|(_, n)| n.as_u64());
    let (set, how) = match server_setting {
        Some(n) => (n, "OLLAMA_CONTEXT_LENGTH"),
        None => (OLLAMA_DEFAULT_CONTEXT, "Ollama's default; OLLAMA_CONTEXT_LENGTH is not set here"),
    };
    Some(match trained {
        Some(t) if t < set => ContextSize { tokens: t, source: "Ollama: the model's own limit".into() },
        _ => ContextSize { tokens: set, source: format!("Ollama: {how}") },
    })
}

impl Client {
    /// One small chat completion with a known prompt, timed: the counts and the server's
    /// own timings when it sends them (llama.cpp does).
    pub async fn measure(&self, model: &str, deadline: &Deadline) -> Result<Measured, LlmError> {
        let request = ChatRequest {
            model: model.to_string(),
            messages: vec![Message::user(PROMPT)],
            temperature: 0.0,
            max_tokens: REPLY_TOKENS,
            frequency_penalty: None,
            seed: None,
            response_format: None,
            stream: false,
        };
        let body = serde_json::to_value(&request).map_err(|e| LlmError::BadReply(e.to_string()))?;
        let started = Instant::now();
        let text =
            self.send(self.endpoint.url("chat/completions"), Some(&body), reply_cap(REPLY_TOKENS), deadline).await?;
        let elapsed = started.elapsed();
        let wire: WireReply = serde_json::from_str(&text)
            .map_err(|e| LlmError::BadReply(format!("the reply is not a chat completion ({e})")).scrubbed())?;
        let usage = wire.usage.unwrap_or(WireUsage { prompt_tokens: 0, completion_tokens: 0 });
        let timings = wire.timings.unwrap_or(WireTimings { prompt_per_second: None, predicted_per_second: None });
        Ok(Measured {
            prompt_tokens: usage.prompt_tokens,
            completion_tokens: usage.completion_tokens,
            elapsed,
            prompt_per_second: timings.prompt_per_second,
            predicted_per_second: timings.predicted_per_second,
        })
    }

    /// The context the server gives `model`, when it says: llama.cpp's `/props`, then
    /// Ollama's `/api/show` (with `ollama_setting`, the `OLLAMA_CONTEXT_LENGTH` in force).
    /// Each is asked once within `limit`; `None` when neither answers.
    pub async fn context_size(&self, model: &str, ollama_setting: Option<u64>, limit: Duration) -> Option<ContextSize> {
        let root = self.endpoint.root();
        if let Some(body) = self.quietly(self.http.get(format!("{root}/props")), limit).await
            && let Some(n) = llama_cpp_context(&body)
        {
            return Some(ContextSize { tokens: n, source: "llama.cpp's /props".into() });
        }
        let show = self.http.post(format!("{root}/api/show")).json(&json!({"model": model}));
        let body = self.quietly(show, limit).await?;
        ollama_context(&body, ollama_setting)
    }

    /// The body of a 2xx reply to `rb`, one try within `limit`; `None` for anything else.
    async fn quietly(&self, rb: reqwest::RequestBuilder, limit: Duration) -> Option<String> {
        let mut resp = self.auth(rb).timeout(limit).send().await.ok()?;
        if !resp.status().is_success() {
            return None;
        }
        let (bytes, whole) = read_capped(&mut resp, LISTING_MAX).await.ok()?;
        whole.then(|| String::from_utf8_lossy(&bytes).into_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn measured(completion: u64, secs: f64, timings: Option<(f64, f64)>) -> Measured {
        Measured {
            prompt_tokens: 30,
            completion_tokens: completion,
            elapsed: Duration::from_secs_f64(secs),
            prompt_per_second: timings.map(|t| t.0),
            predicted_per_second: timings.map(|t| t.1),
        }
    }

    #[test]
    fn the_servers_own_timings_win_over_the_clock() {
        let r = measured(60, 10.0, Some((400.0, 20.0))).rates().unwrap();
        assert_eq!(r, Rates { prompt: 400.0, generation: 20.0, from_server: true });
        // 2000 prompt tokens at 400/s and 500 reply tokens at 20/s.
        assert_eq!(seconds(r, 2000, 500), 5.0 + 25.0);
    }

    #[test]
    fn without_timings_the_reply_is_timed_and_the_prompt_read_eight_times_as_fast() {
        let r = measured(60, 5.0, None).rates().unwrap();
        assert_eq!(r, Rates { prompt: 96.0, generation: 12.0, from_server: false });
        // 1920 prompt tokens at 96/s, 600 reply tokens at 12/s.
        assert_eq!(seconds(r, 1920, 600), 20.0 + 50.0);
        // Nonsense timings are ignored, not divided by.
        assert_eq!(measured(60, 5.0, Some((0.0, f64::NAN))).rates().unwrap().generation, 12.0);
        assert_eq!(measured(0, 5.0, None).rates(), None);
    }

    #[test]
    fn waits_read_as_people_say_them() {
        assert_eq!(wait(0.2), "about 1 s");
        assert_eq!(wait(7.1), "about 8 s");
        assert_eq!(wait(41.0), "about 40 s");
        assert_eq!(wait(43.0), "about 45 s");
        assert_eq!(wait(170.0), "about 3 min");
    }

    #[test]
    fn context_sizes_of_llama_cpp_and_ollama() {
        assert_eq!(llama_cpp_context(r#"{"default_generation_settings":{"n_ctx":8192}}"#), Some(8192));
        assert_eq!(llama_cpp_context(r#"{"n_ctx":8192}"#), None);
        let show = r#"{"model_info":{"general.architecture":"qwen2","qwen2.context_length":32768}}"#;
        assert_eq!(ollama_context(show, None).unwrap().tokens, 4096);
        assert_eq!(ollama_context(show, Some(16384)).unwrap().tokens, 16384);
        let small = r#"{"model_info":{"llama.context_length":2048}}"#;
        assert_eq!(ollama_context(small, Some(8192)).unwrap().tokens, 2048);
        assert_eq!(ollama_context("{}", None), None);
    }
}
