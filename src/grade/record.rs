//! The saved record of one grading: who graded, when, how, and the grade.
//!
//! Graders write these and transcripts store them unchanged, so they live here, beside
//! the grade they carry, and the transcript re-exports them as part of its schema. Their
//! JSON is the transcript's: the structured-output mode and token counts are this
//! module's own types, converted from the client's at the grading edge, so a change in
//! the wire format never changes a file on disk.

use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};

use super::Grade;
use super::guard::Marker;

/// Which grader produced a grade.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum GraderInfo {
    /// The offline key-point grader.
    Offline {
        /// Its rules' version.
        version: String,
    },
    /// A model behind an OpenAI-compatible endpoint.
    Llm {
        /// The model name.
        model: String,
        /// `scheme://host:port` of the endpoint (never a key, never a path).
        endpoint: String,
        /// Hash of the prompt templates.
        prompts_hash: String,
    },
    /// The user's own word: a grader's checklist of verdicts, confirmed or corrected by
    /// the person who answered. It is kept beside the grade it reviewed, never over it.
    #[serde(rename = "self")]
    User {
        /// Which of the turn's grades (its index, oldest first) the user reviewed.
        reviewed: usize,
    },
}

impl GraderInfo {
    /// Whether this is the user's own word rather than a grader's.
    pub fn is_user(&self) -> bool {
        matches!(self, GraderInfo::User { .. })
    }
}

impl std::fmt::Display for GraderInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            GraderInfo::Offline { version } => write!(f, "offline key-point grader ({version})"),
            GraderInfo::Llm { model, endpoint, .. } => write!(f, "{model} at {endpoint}"),
            GraderInfo::User { .. } => f.write_str("your own verdicts"),
        }
    }
}

/// How a model grader asked for structured output, as transcripts record it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StructuredMode {
    /// `response_format: json_schema`.
    JsonSchema,
    /// `response_format: json_object`.
    JsonObject,
    /// No `response_format`: the prompt alone asked for JSON.
    PromptOnly,
}

impl StructuredMode {
    /// The name used in transcripts and `grill doctor`.
    pub fn name(self) -> &'static str {
        match self {
            StructuredMode::JsonSchema => "json_schema",
            StructuredMode::JsonObject => "json_object",
            StructuredMode::PromptOnly => "prompt_only",
        }
    }
}

impl From<crate::llm::Mode> for StructuredMode {
    fn from(m: crate::llm::Mode) -> StructuredMode {
        match m {
            crate::llm::Mode::JsonSchema => StructuredMode::JsonSchema,
            crate::llm::Mode::JsonObject => StructuredMode::JsonObject,
            crate::llm::Mode::PromptOnly => StructuredMode::PromptOnly,
        }
    }
}

/// Token counts of a grading request, when the server reported them.
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

impl From<crate::llm::Usage> for Usage {
    fn from(u: crate::llm::Usage) -> Usage {
        Usage {
            prompt_tokens: u.prompt_tokens,
            completion_tokens: u.completion_tokens,
            cached_tokens: u.cached_tokens,
            load_ms: u.load_ms,
            total_ms: u.total_ms,
            first_token_ms: u.first_token_ms,
        }
    }
}

/// One grading of one answer. A re-grade adds a record; none is ever replaced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GradeRecord {
    /// Who graded.
    pub grader: GraderInfo,
    /// When.
    pub graded_at: DateTime<FixedOffset>,
    /// How long grading took, in milliseconds.
    pub latency_ms: u64,
    /// The outcome.
    pub grade: Grade,
    /// The structured-output mode a model grader used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<StructuredMode>,
    /// Token counts, when the server reported them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<Usage>,
    /// Milliseconds spent waiting for the server (model graders).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_ms: Option<u64>,
    /// Text in the answer addressed to the grader; it earned nothing.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub injection: Vec<Marker>,
}

impl GradeRecord {
    /// The user's own word on the grade at index `reviewed`, given at `at`: no grader ran,
    /// so there is no mode, usage or server time to record.
    pub fn own_word(reviewed: usize, grade: Grade, at: DateTime<FixedOffset>) -> GradeRecord {
        GradeRecord {
            grader: GraderInfo::User { reviewed },
            graded_at: at,
            latency_ms: 0,
            grade,
            mode: None,
            usage: None,
            server_ms: None,
            injection: vec![],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The names on disk are the client's names: files written before the types were
    /// split keep loading, and new files read the same.
    #[test]
    fn mode_and_usage_keep_the_clients_json() {
        for m in [crate::llm::Mode::JsonSchema, crate::llm::Mode::JsonObject, crate::llm::Mode::PromptOnly] {
            let ours = StructuredMode::from(m);
            assert_eq!(serde_json::to_string(&ours).unwrap(), serde_json::to_string(&m).unwrap());
            assert_eq!(ours.name(), m.name());
        }
        // A transcript written before the durations were recorded still loads.
        let old: Usage = serde_json::from_str(r#"{"prompt_tokens":9,"completion_tokens":2}"#).unwrap();
        assert_eq!((old.load_ms, old.total_ms, old.first_token_ms), (None, None, None));
        let u = crate::llm::Usage {
            prompt_tokens: 9,
            completion_tokens: 2,
            cached_tokens: Some(8),
            load_ms: Some(6100),
            total_ms: Some(7200),
            first_token_ms: Some(800),
        };
        assert_eq!(serde_json::to_string(&Usage::from(u)).unwrap(), serde_json::to_string(&u).unwrap());
        let u = crate::llm::Usage { cached_tokens: None, load_ms: None, total_ms: None, first_token_ms: None, ..u };
        assert_eq!(serde_json::to_string(&Usage::from(u)).unwrap(), r#"{"prompt_tokens":9,"completion_tokens":2}"#);
    }
}
