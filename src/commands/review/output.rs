//! What `grill review list --json` prints.

use std::path::Path;

use chrono::{DateTime, FixedOffset};
use serde::Serialize;

use crate::review::index::Summary;
use crate::transcript::{Status, TranscriptError};

/// The version of this shape; bumped when a field is renamed, removed or changes meaning.
pub const SCHEMA: &str = "grill.review.list/1";

/// The sessions listed, and the files that could not be read.
#[derive(Debug, Serialize)]
pub struct ListOutput {
    /// Always `"grill.review.list/1"`.
    pub schema: &'static str,
    /// The sessions that pass the filters, oldest first.
    pub sessions: Vec<SessionRow>,
    /// Transcript files that could not be read; when there are any, grill exits with 2.
    pub skipped: Vec<Skipped>,
}

/// One session.
#[derive(Debug, Serialize)]
pub struct SessionRow {
    /// The session id (the last part of the file name).
    pub id: String,
    /// The transcript's path. Lossy: a file name need not be UTF-8, and JSON strings must be.
    pub file: String,
    /// When it started (RFC 3339, with the local offset of the time).
    pub started_at: DateTime<FixedOffset>,
    /// `in_progress`, `completed`, `quit` or `interrupted`.
    pub status: Status,
    /// The question ids planned, in order.
    pub questions: Vec<String>,
    /// Questions and follow-ups asked.
    pub turns: usize,
    /// Turns that hold an answer.
    pub answered: usize,
    /// Answers waiting for a grade (`grill regrade --pending` grades them).
    pub pending: usize,
    /// Mean of the latest scores of the graded answers, to one decimal; `null` when none
    /// is graded.
    pub mean_score: Option<f64>,
}

/// A transcript file left out.
#[derive(Debug, Serialize)]
pub struct Skipped {
    /// The file. Lossy, as `file` above.
    pub file: String,
    /// Why it could not be read.
    pub reason: String,
}

impl SessionRow {
    /// The row for the session summarised in `s`, read from `path`.
    pub fn new(path: &Path, s: &Summary) -> SessionRow {
        SessionRow {
            id: s.id.clone(),
            file: path.to_string_lossy().into_owned(),
            started_at: s.started_at,
            status: s.status,
            questions: s.plan.clone(),
            turns: s.turns.len(),
            answered: s.answered(),
            pending: s.turns.iter().filter(|x| x.pending).count(),
            mean_score: s.mean_score().map(|m| (m * 10.0).round() / 10.0),
        }
    }
}

/// The files in `bad`, as listed in `skipped` (shared with `grill stats --json`).
pub fn skipped(bad: &[TranscriptError]) -> Vec<Skipped> {
    bad.iter()
        .map(|e| Skipped {
            file: e.path().map_or_else(String::new, |p| p.to_string_lossy().into_owned()),
            reason: e.reason(),
        })
        .collect()
}
