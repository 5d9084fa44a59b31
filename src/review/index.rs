//! A summary of every transcript, cached in one file beside them so that listing and
//! statistics over thousands of sessions need not parse every transcript each time.
//! The cache is keyed by file name, size and modification time, rebuilt for whatever
//! changed, and can be deleted at any time: it holds nothing the transcripts do not.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};

use crate::grade::{Grade, Verdict};
use crate::transcript::{Status, Store, Transcript, TranscriptError};

/// The cache's file name in the transcript folder (not `*.json`, so it is never taken
/// for a transcript).
pub const INDEX_FILE: &str = ".grill-index";
/// Bumped whenever [`Summary`] changes shape, so old caches are rebuilt.
const INDEX_VERSION: u32 = 1;

/// One turn, reduced to what lists, statistics and scheduling need.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TurnSummary {
    /// The bank question.
    pub question_id: String,
    /// Whether it was a follow-up (bank or generated).
    pub follow_up: bool,
    /// When the answer was given, if it was.
    pub answered_at: Option<DateTime<FixedOffset>>,
    /// Whether it was skipped.
    pub skipped: bool,
    /// The latest grade's score; `None` when ungraded or not graded yet.
    pub score: Option<u8>,
    /// Whether an answer waits for a grade (none yet, or the latest is ungraded).
    pub pending: bool,
    /// Key points the latest grade marked missed.
    pub missed: Vec<String>,
    /// Key points the latest grade marked partial.
    pub partial: Vec<String>,
}

/// One session, reduced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// The session id.
    pub id: String,
    /// When it started.
    pub started_at: DateTime<FixedOffset>,
    /// Where it stands.
    pub status: Status,
    /// The questions planned.
    pub plan: Vec<String>,
    /// Its turns.
    pub turns: Vec<TurnSummary>,
}

impl Summary {
    /// Summarises a transcript.
    pub fn of(t: &Transcript) -> Summary {
        let turns = t
            .turns
            .iter()
            .map(|turn| {
                let latest = turn.latest_grade().map(|g| &g.grade);
                let verdicts = |v: Verdict| -> Vec<String> {
                    latest
                        .and_then(Grade::assessment)
                        .map(|a| a.key_points.iter().filter(|k| k.verdict == v).map(|k| k.id.clone()).collect())
                        .unwrap_or_default()
                };
                TurnSummary {
                    question_id: turn.question_id.clone(),
                    follow_up: turn.follow_up_id.is_some() || turn.generated_for.is_some(),
                    answered_at: turn.answered_at,
                    skipped: turn.skipped,
                    score: latest.and_then(Grade::score),
                    pending: turn.answer.is_some() && !matches!(latest, Some(Grade::Graded { .. })),
                    missed: verdicts(Verdict::Missed),
                    partial: verdicts(Verdict::Partial),
                }
            })
            .collect();
        Summary { id: t.id.clone(), started_at: t.started_at, status: t.status, plan: t.plan.clone(), turns }
    }

    /// Mean of the latest scores of the graded turns.
    pub fn mean_score(&self) -> Option<f64> {
        let s: Vec<f64> = self.turns.iter().filter_map(|t| t.score).map(f64::from).collect();
        (!s.is_empty()).then(|| s.iter().sum::<f64>() / s.len() as f64)
    }

    /// How many turns hold an answer.
    pub fn answered(&self) -> usize {
        self.turns.iter().filter(|t| t.answered_at.is_some()).count()
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Entry {
    size: u64,
    modified_ns: u128,
    /// The summary, or why the file could not be read.
    summary: Result<Summary, String>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct Cache {
    version: u32,
    entries: HashMap<String, Entry>,
}

/// Every transcript's summary (oldest first, by start time) and every file that could
/// not be read, using and refreshing the cache.
pub fn load(store: &Store) -> (Vec<(PathBuf, Summary)>, Vec<TranscriptError>) {
    let dir = store.dir();
    let cache_path = dir.join(INDEX_FILE);
    let mut cache: Cache = std::fs::read(&cache_path)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .filter(|c: &Cache| c.version == INDEX_VERSION)
        .unwrap_or_default();
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return (Vec::new(), Vec::new()),
        Err(source) => return (Vec::new(), vec![TranscriptError::Io { path: dir.to_path_buf(), source }]),
    };
    let mut changed = false;
    let mut seen: std::collections::HashSet<String> = std::collections::HashSet::new();
    let mut ok = Vec::new();
    let mut bad = Vec::new();
    for entry in entries.filter_map(Result::ok) {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.ends_with(".json") {
            continue;
        }
        let Ok(meta) = entry.metadata() else { continue };
        let size = meta.len();
        let modified_ns =
            meta.modified().ok().and_then(|m| m.duration_since(UNIX_EPOCH).ok()).map_or(0, |d| d.as_nanos());
        let path = entry.path();
        let fresh = cache.entries.get(&name).is_some_and(|e| e.size == size && e.modified_ns == modified_ns);
        if !fresh {
            let summary = Store::load(&path).map(|t| Summary::of(&t)).map_err(|e| e.to_string());
            cache.entries.insert(name.clone(), Entry { size, modified_ns, summary });
            changed = true;
        }
        match &cache.entries[&name].summary {
            Ok(s) => ok.push((path, s.clone())),
            Err(message) => bad.push(TranscriptError::Corrupt { path, line: 0, column: 0, message: message.clone() }),
        }
        seen.insert(name);
    }
    if cache.entries.len() != seen.len() {
        cache.entries.retain(|k, _| seen.contains(k));
        changed = true;
    }
    if changed {
        cache.version = INDEX_VERSION;
        // The cache is an optimisation: failing to write it loses nothing.
        if let Ok(bytes) = serde_json::to_vec(&cache) {
            let _ = crate::util::write_atomic(&cache_path, &bytes);
        }
    }
    ok.sort_by(|a, b| a.1.started_at.cmp(&b.1.started_at).then_with(|| a.0.cmp(&b.0)));
    bad.sort_by_key(|e| e.to_string());
    (ok, bad)
}

/// The cache file of a transcript folder.
pub fn cache_path(dir: &Path) -> PathBuf {
    dir.join(INDEX_FILE)
}
