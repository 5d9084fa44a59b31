//! The OpenAI chat-completions wire format, as far as grill uses it, plus the model
//! listings of OpenAI-compatible servers and Ollama.

use serde::{Deserialize, Serialize};

/// One chat message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    /// "system", "user" or "assistant".
    pub role: String,
    /// The text.
    pub content: String,
}

impl Message {
    /// A system message.
    pub fn system(content: impl Into<String>) -> Message {
        Message { role: "system".into(), content: content.into() }
    }
    /// A user message.
    pub fn user(content: impl Into<String>) -> Message {
        Message { role: "user".into(), content: content.into() }
    }
    /// An assistant message.
    pub fn assistant(content: impl Into<String>) -> Message {
        Message { role: "assistant".into(), content: content.into() }
    }
}

/// How a request asks for structured output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// `response_format: json_schema` (strict): the server constrains output to the schema.
    JsonSchema,
    /// `response_format: json_object`: any JSON object.
    JsonObject,
    /// No `response_format`: the prompt alone asks for JSON.
    PromptOnly,
}

impl Mode {
    /// The next weaker mode, for a server that rejected this one.
    pub fn step_down(self) -> Option<Mode> {
        match self {
            Mode::JsonSchema => Some(Mode::JsonObject),
            Mode::JsonObject => Some(Mode::PromptOnly),
            Mode::PromptOnly => None,
        }
    }

    /// The name used in transcripts and `grill doctor`.
    pub fn name(self) -> &'static str {
        match self {
            Mode::JsonSchema => "json_schema",
            Mode::JsonObject => "json_object",
            Mode::PromptOnly => "prompt_only",
        }
    }
}

/// A chat-completions request body.
#[derive(Debug, Clone, Serialize)]
pub struct ChatRequest {
    /// The model name.
    pub model: String,
    /// The conversation.
    pub messages: Vec<Message>,
    /// 0 for repeatable grades.
    pub temperature: f32,
    /// Room for the reply; a reply that hits it is treated as cut off.
    pub max_tokens: u32,
    /// Discourages the loops small local models fall into under greedy decoding. Never
    /// sent with a schema: it would push away the repeated enum values and verbatim
    /// quotes a grade is made of, and the schema's bounds stop loops anyway.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub frequency_penalty: Option<f32>,
    /// A fixed sampling seed, for servers that take one (the others ignore it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// Structured output, when the mode asks for it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_format: Option<serde_json::Value>,
    /// Whether the reply is to come as a stream: server-sent events (the client then also
    /// asks for usage in the last event), or from Ollama's native API one JSON object a
    /// line; a server that does not stream answers with a whole reply, which is read as
    /// one.
    pub stream: bool,
}

/// Token counts, when the server reports them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    /// Tokens in the prompt.
    #[serde(default)]
    pub prompt_tokens: u64,
    /// Tokens in the reply.
    #[serde(default)]
    pub completion_tokens: u64,
    /// Prompt tokens served from the server's prompt cache.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cached_tokens: Option<u64>,
    /// Milliseconds spent loading the model before this request (Ollama).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub load_ms: Option<u64>,
    /// Milliseconds the server spent on the request, loading included (Ollama).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_ms: Option<u64>,
    /// Milliseconds from sending the request to the first piece of a streamed reply.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_token_ms: Option<u64>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct WireUsage {
    #[serde(default)]
    prompt_tokens: u64,
    #[serde(default)]
    completion_tokens: u64,
    #[serde(default)]
    prompt_tokens_details: Option<WireDetails>,
}

impl From<WireUsage> for Usage {
    fn from(u: WireUsage) -> Usage {
        Usage {
            prompt_tokens: u.prompt_tokens,
            completion_tokens: u.completion_tokens,
            cached_tokens: u.prompt_tokens_details.and_then(|d| d.cached_tokens),
            load_ms: None,
            total_ms: None,
            first_token_ms: None,
        }
    }
}

#[derive(Debug, Deserialize)]
struct WireDetails {
    #[serde(default)]
    cached_tokens: Option<u64>,
}

#[derive(Debug, Deserialize)]
struct WireChoice {
    message: WireMessage,
    #[serde(default)]
    finish_reason: Option<String>,
}

#[derive(Debug, Deserialize)]
struct WireMessage {
    #[serde(default)]
    content: Option<String>,
    /// Some servers (and reasoning models) put their thinking here.
    #[serde(default)]
    reasoning_content: Option<String>,
}

#[derive(Debug, Deserialize)]
struct WireResponse {
    #[serde(default)]
    model: Option<String>,
    choices: Vec<WireChoice>,
    #[serde(default)]
    usage: Option<WireUsage>,
}

/// A chat-completions reply, reduced to what grill uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatReply {
    /// The model the server says answered.
    pub model: Option<String>,
    /// The text of the first choice.
    pub content: String,
    /// Why generation stopped ("stop", "length", ...).
    pub finish_reason: Option<String>,
    /// Token counts.
    pub usage: Option<Usage>,
}

impl ChatReply {
    /// Parses a reply body; `Err` carries what is wrong with it.
    pub fn parse(body: &str) -> Result<ChatReply, String> {
        let wire: WireResponse =
            serde_json::from_str(body).map_err(|e| format!("the reply is not a chat completion ({e})"))?;
        let choice = wire.choices.into_iter().next().ok_or("the reply has no choices")?;
        let content = choice.message.content.filter(|c| !c.trim().is_empty()).or(choice.message.reasoning_content);
        Ok(ChatReply {
            model: wire.model,
            content: content.unwrap_or_default(),
            finish_reason: choice.finish_reason,
            usage: wire.usage.map(Usage::from),
        })
    }
}

impl ChatReply {
    /// The reply with its text made safe to show and store, at most `max` bytes of it.
    pub fn scrubbed(self, max: usize) -> ChatReply {
        use crate::scrub::server_text;
        ChatReply {
            model: self.model.map(|m| server_text(&m, NAME_MAX)),
            content: server_text(&self.content, max),
            finish_reason: self.finish_reason.map(|f| server_text(&f, NAME_MAX)),
            usage: self.usage,
        }
    }
}

/// The longest model name (or other short label from a server) kept.
const NAME_MAX: usize = 200;

/// Model names from a `/models` (OpenAI: `data[].id`) or `/api/tags` (Ollama:
/// `models[].name`) listing; llama.cpp sends both.
pub fn model_names(body: &str) -> Vec<String> {
    #[derive(Deserialize)]
    struct Entry {
        #[serde(default)]
        id: Option<String>,
        #[serde(default)]
        name: Option<String>,
        #[serde(default)]
        model: Option<String>,
    }
    #[derive(Deserialize)]
    struct Listing {
        #[serde(default)]
        data: Vec<Entry>,
        #[serde(default)]
        models: Vec<Entry>,
    }
    let Ok(l) = serde_json::from_str::<Listing>(body) else { return Vec::new() };
    // The names are shown in hints and used as the model to ask for: scrubbed like any
    // server text.
    let mut names: Vec<String> = l
        .data
        .into_iter()
        .chain(l.models)
        .filter_map(|e| e.id.or(e.name).or(e.model))
        .map(|n| crate::scrub::server_text(n.trim(), NAME_MAX))
        .filter(|n| !n.is_empty())
        .collect();
    names.sort();
    names.dedup();
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_parse_with_usage_and_cached_tokens() {
        let body = r#"{"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"{}"},"finish_reason":"stop"}],
                       "usage":{"prompt_tokens":10,"completion_tokens":2,"prompt_tokens_details":{"cached_tokens":8}}}"#;
        let r = ChatReply::parse(body).unwrap();
        assert_eq!(r.content, "{}");
        assert_eq!(r.finish_reason.as_deref(), Some("stop"));
        assert_eq!(r.usage.unwrap().cached_tokens, Some(8));
        assert!(ChatReply::parse("<html>502</html>").unwrap_err().contains("not a chat completion"));
        assert!(ChatReply::parse(r#"{"choices":[]}"#).is_err());
    }

    #[test]
    fn model_listings_of_each_server_shape() {
        assert_eq!(model_names(r#"{"object":"list","data":[{"id":"b"},{"id":"a"}]}"#), ["a", "b"]);
        assert_eq!(model_names(r#"{"models":[{"name":"llama3.2:3b","model":"llama3.2:3b"}]}"#), ["llama3.2:3b"]);
        assert_eq!(model_names(r#"{"data":[{"id":"x"}],"models":[{"name":"x"}]}"#), ["x"]);
        assert!(model_names("nope").is_empty());
    }
}
