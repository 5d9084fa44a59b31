//! Transcripts: the record of one session, saved as JSON after every answer and every
//! grade. The schema is versioned; every version that shipped keeps loading.

mod store;

use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};

use crate::bank::Selection;
use crate::grade::Grade;
use crate::grade::guard::Marker;
use crate::llm::{Mode, Usage};

pub use store::{Store, TranscriptError};

/// The schema this build writes. Version 1 (offline grades only) is the first that
/// shipped; version 2 adds model graders and per-grade mode, usage and injection
/// markers. Every older version still loads.
pub const SCHEMA_VERSION: u32 = 2;

/// Now, in local time with its offset, as transcripts record times.
pub fn now() -> DateTime<FixedOffset> {
    chrono::Local::now().fixed_offset()
}

/// Where a session stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Still being answered (or the process died: the file holds everything up to then).
    InProgress,
    /// Every planned question was asked.
    Completed,
    /// The user quit before the end.
    Quit,
    /// Interrupted with Ctrl-C.
    Interrupted,
}

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
}

impl std::fmt::Display for GraderInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            GraderInfo::Offline { version } => write!(f, "offline key-point grader ({version})"),
            GraderInfo::Llm { model, endpoint, .. } => write!(f, "{model} at {endpoint}"),
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
    pub mode: Option<Mode>,
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

/// One question or follow-up asked, and what happened.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Turn {
    /// The bank question.
    pub question_id: String,
    /// The follow-up, when this turn asked one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub follow_up_id: Option<String>,
    /// The text asked.
    pub prompt: String,
    /// Hash of the question (text and rubric) as asked, to notice later bank edits.
    pub question_hash: String,
    /// When it was asked.
    pub asked_at: DateTime<FixedOffset>,
    /// The answer; absent when skipped or not yet given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answer: Option<String>,
    /// When the answer was given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answered_at: Option<DateTime<FixedOffset>>,
    /// Whether the user skipped it.
    #[serde(default)]
    pub skipped: bool,
    /// Hints shown before answering.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hints: Vec<String>,
    /// Whether the reference answer was shown before answering.
    #[serde(default)]
    pub reference_shown_early: bool,
    /// Every grading of the answer, oldest first.
    #[serde(default)]
    pub grades: Vec<GradeRecord>,
}

impl Turn {
    /// The newest grade, if any.
    pub fn latest_grade(&self) -> Option<&GradeRecord> {
        self.grades.last()
    }
}

/// A whole session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Transcript {
    /// The schema this file follows.
    pub schema_version: u32,
    /// The grill that wrote it.
    pub grill_version: String,
    /// Short random id, also in the file name.
    pub id: String,
    /// When the session started.
    pub started_at: DateTime<FixedOffset>,
    /// When the file was last written.
    pub updated_at: DateTime<FixedOffset>,
    /// Where the session stands.
    pub status: Status,
    /// The grader used for the session's grades.
    pub grader: GraderInfo,
    /// The bank used: "built-in bank" or its folder.
    pub bank: String,
    /// What was asked for.
    pub selection: Selection,
    /// Follow-ups asked per question at most.
    pub follow_ups: usize,
    /// The questions planned, in order.
    pub plan: Vec<String>,
    /// What was asked and answered, in order.
    pub turns: Vec<Turn>,
}

impl Transcript {
    /// Mean of the latest scores of the graded turns.
    pub fn mean_score(&self) -> Option<f64> {
        let scores: Vec<f64> =
            self.turns.iter().filter_map(|t| t.latest_grade().and_then(|g| g.grade.score())).map(f64::from).collect();
        (!scores.is_empty()).then(|| scores.iter().sum::<f64>() / scores.len() as f64)
    }

    /// How many turns hold an answer.
    pub fn answered(&self) -> usize {
        self.turns.iter().filter(|t| t.answer.is_some()).count()
    }

    /// A short name for file names: the question's id, the topic, or "mixed".
    pub fn slug(&self, topic_of: impl Fn(&str) -> Option<String>) -> String {
        match self.plan.as_slice() {
            [one] => one.clone(),
            [] => "empty".to_string(),
            many => {
                let topics: Vec<Option<String>> = many.iter().map(|id| topic_of(id)).collect();
                match topics.first() {
                    Some(Some(t)) if topics.iter().all(|x| x.as_ref() == Some(t)) => t.clone(),
                    _ => "mixed".to_string(),
                }
            }
        }
    }
}
