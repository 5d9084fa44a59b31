//! A summary of every transcript, cached in one file beside them so that listing and
//! statistics over thousands of sessions need not parse every transcript each time.
//! The cache is keyed by file name, size and modification time, rebuilt for whatever
//! changed, and can be deleted at any time: it holds nothing the transcripts do not.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::UNIX_EPOCH;

use chrono::{DateTime, FixedOffset, SubsecRound};
use serde::{Deserialize, Serialize};

use super::schedule::Help;
use crate::grade::record::GraderInfo;
use crate::grade::{Grade, Verdict};
use crate::transcript::{SessionMode, Status, Store, Transcript, TranscriptError, shown};

/// The cache's file name in the transcript folder (not `*.json`, so it is never taken
/// for a transcript).
pub const INDEX_FILE: &str = ".grill-index";
/// Bumped whenever [`Summary`] changes shape, so old caches are rebuilt.
/// Version 3: failures are kept without their path, so warnings name the file once.
/// Version 5: turns keep the help used before answering, which caps a review's rating.
/// Version 6: turns keep the confidence the user gave before the grade showed.
/// Version 7: sessions keep their mode and turns who gave the grade that counts, for
/// `grill report`.
const INDEX_VERSION: u32 = 7;

/// One turn, reduced to what lists, statistics and scheduling need. Ids are shared
/// (`Arc<str>`): thousands of sessions repeat the same few hundred.
#[derive(Debug, Clone, PartialEq)]
pub struct TurnSummary {
    /// The bank question.
    pub question_id: Arc<str>,
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
    pub missed: Vec<Arc<str>>,
    /// Key points the latest grade marked partial.
    pub partial: Vec<Arc<str>>,
    /// The help had before answering.
    pub help: Help,
    /// How sure the user said they were, 1 to 4, when asked.
    pub confidence: Option<u8>,
    /// Who gave the latest grade: `offline`, `self` (the user's own verdicts) or the
    /// model's name; `None` when there is no grade.
    pub grader: Option<Arc<str>>,
}

/// One session, reduced.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    /// The session id.
    pub id: String,
    /// When it started.
    pub started_at: DateTime<FixedOffset>,
    /// Where it stands.
    pub status: Status,
    /// Practice or interview.
    pub mode: SessionMode,
    /// The questions planned.
    pub plan: Vec<String>,
    /// Its turns.
    pub turns: Vec<TurnSummary>,
}

impl Summary {
    /// Summarises a transcript. Times keep milliseconds, as the cache does, so a summary
    /// (and what `review list --json` prints of it) is the same whether it was read from
    /// the transcript or from the cache, and sessions started within one second still
    /// list in the order they started.
    pub fn of(t: &Transcript) -> Summary {
        let turns = t
            .turns
            .iter()
            .map(|turn| {
                let record = turn.latest_grade();
                let latest = record.map(|g| &g.grade);
                let verdicts = |v: Verdict| -> Vec<Arc<str>> {
                    latest
                        .and_then(Grade::assessment)
                        .map(|a| {
                            a.key_points.iter().filter(|k| k.verdict == v).map(|k| Arc::from(k.id.as_str())).collect()
                        })
                        .unwrap_or_default()
                };
                TurnSummary {
                    question_id: Arc::from(turn.question_id.as_str()),
                    follow_up: turn.follow_up_id.is_some() || turn.generated_for.is_some(),
                    answered_at: turn.answered_at.map(|a| a.trunc_subsecs(3)),
                    skipped: turn.skipped,
                    score: latest.and_then(Grade::score),
                    pending: turn.answer.is_some() && !matches!(latest, Some(Grade::Graded { .. })),
                    missed: verdicts(Verdict::Missed),
                    partial: verdicts(Verdict::Partial),
                    help: Help { hints: turn.hints.len(), reference_shown: turn.reference_shown_early },
                    confidence: turn.confidence,
                    grader: record.map(|g| grader_name(&g.grader)),
                }
            })
            .collect();
        Summary {
            id: t.id.clone(),
            started_at: t.started_at.trunc_subsecs(3),
            status: t.status,
            mode: t.mode,
            plan: t.plan.clone(),
            turns,
        }
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

/// Who graded, as one short name: what `grill report` counts answers by.
pub fn grader_name(g: &GraderInfo) -> Arc<str> {
    match g {
        GraderInfo::Offline { .. } => Arc::from(OFFLINE),
        GraderInfo::Llm { model, .. } => Arc::from(model.as_str()),
        GraderInfo::User { .. } => Arc::from(USER),
    }
}

/// [`grader_name`] of the offline grader.
pub const OFFLINE: &str = "offline";
/// [`grader_name`] of the user's own verdicts.
pub const USER: &str = "self";

/// The cache on disk: compact (ids interned in one string table, rows as arrays), since
/// reading it is most of what `review list` and `stats` do over thousands of sessions.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Cache {
    version: u32,
    strings: Vec<String>,
    /// (file name, size, modified ns, summary or why the file could not be read)
    entries: Vec<(String, u64, u64, Result<Row, String>)>,
}

/// A file found now: (name, size, modified ns, path, summary or why it failed).
type Seen = (String, u64, u64, PathBuf, Result<Summary, String>);

/// (id, started at: unix seconds, offset seconds, status, mode, plan, turns)
type Row = (u32, i64, i32, Status, SessionMode, Vec<u32>, Vec<TurnRow>);
/// (question, flags, answered at: unix seconds or 0, score or -1, missed, partial, hints,
/// confidence or 0, grader)
type TurnRow = (u32, u8, i64, i16, Vec<u32>, Vec<u32>, u32, u8, Option<u32>);

const FOLLOW_UP: u8 = 1;
const SKIPPED: u8 = 2;
const PENDING: u8 = 4;
const ANSWERED: u8 = 8;
const REFERENCE_SHOWN: u8 = 16;

#[derive(Default)]
struct Interner {
    strings: Vec<String>,
    ids: HashMap<String, u32>,
}

impl Interner {
    fn id(&mut self, s: &str) -> u32 {
        if let Some(&i) = self.ids.get(s) {
            return i;
        }
        let i = self.strings.len() as u32;
        self.strings.push(s.to_string());
        self.ids.insert(s.to_string(), i);
        i
    }
}

fn time_of(millis: i64, offset: i32) -> DateTime<FixedOffset> {
    let tz = FixedOffset::east_opt(offset).unwrap_or_else(|| FixedOffset::east_opt(0).expect("zero is a valid offset"));
    DateTime::from_timestamp_millis(millis).unwrap_or_default().with_timezone(&tz)
}

fn to_row(s: &Summary, i: &mut Interner) -> Row {
    let turns = s
        .turns
        .iter()
        .map(|t| {
            let flags = (if t.follow_up { FOLLOW_UP } else { 0 })
                | (if t.skipped { SKIPPED } else { 0 })
                | (if t.pending { PENDING } else { 0 })
                | (if t.answered_at.is_some() { ANSWERED } else { 0 })
                | (if t.help.reference_shown { REFERENCE_SHOWN } else { 0 });
            (
                i.id(&t.question_id),
                flags,
                t.answered_at.map_or(0, |a| a.timestamp_millis()),
                t.score.map_or(-1, i16::from),
                t.missed.iter().map(|m| i.id(m)).collect(),
                t.partial.iter().map(|m| i.id(m)).collect(),
                u32::try_from(t.help.hints).unwrap_or(u32::MAX),
                t.confidence.unwrap_or(0),
                t.grader.as_ref().map(|g| i.id(g)),
            )
        })
        .collect();
    let offset = s.started_at.offset().local_minus_utc();
    let plan = s.plan.iter().map(|p| i.id(p)).collect();
    (i.id(&s.id), s.started_at.timestamp_millis(), offset, s.status, s.mode, plan, turns)
}

fn from_row(r: &Row, strings: &[Arc<str>]) -> Option<Summary> {
    let s = |i: &u32| strings.get(*i as usize).cloned();
    let (id, started, offset, status, mode, plan, turns) = r;
    Some(Summary {
        id: s(id)?.to_string(),
        started_at: time_of(*started, *offset),
        status: *status,
        mode: *mode,
        plan: plan.iter().map(|i| s(i).map(|x| x.to_string())).collect::<Option<_>>()?,
        turns: turns
            .iter()
            .map(|(q, flags, at, score, missed, partial, hints, confidence, grader)| {
                Some(TurnSummary {
                    question_id: s(q)?,
                    follow_up: flags & FOLLOW_UP != 0,
                    answered_at: (flags & ANSWERED != 0).then(|| time_of(*at, *offset)),
                    skipped: flags & SKIPPED != 0,
                    score: u8::try_from(*score).ok(),
                    pending: flags & PENDING != 0,
                    missed: missed.iter().map(s).collect::<Option<_>>()?,
                    partial: partial.iter().map(s).collect::<Option<_>>()?,
                    help: Help { hints: *hints as usize, reference_shown: flags & REFERENCE_SHOWN != 0 },
                    confidence: (*confidence != 0).then_some(*confidence),
                    grader: match grader {
                        Some(g) => Some(s(g)?),
                        None => None,
                    },
                })
            })
            .collect::<Option<_>>()?,
    })
}

/// Every transcript's summary (oldest first, by start time) and every file that could
/// not be read, using and refreshing the cache.
pub fn load(store: &Store) -> (Vec<(PathBuf, Summary)>, Vec<TranscriptError>) {
    let dir = store.dir();
    let cache_path = dir.join(INDEX_FILE);
    let cache: Cache = std::fs::read(&cache_path)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .filter(|c: &Cache| c.version == INDEX_VERSION)
        .unwrap_or_default();
    let table: Vec<Arc<str>> = cache.strings.iter().map(|x| Arc::from(x.as_str())).collect();
    let known: HashMap<&str, (u64, u64, &Result<Row, String>)> =
        cache.entries.iter().map(|(n, size, m, r)| (n.as_str(), (*size, *m, r))).collect();
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return (Vec::new(), Vec::new()),
        Err(error) => return (Vec::new(), vec![TranscriptError::Io { path: dir.to_path_buf(), error }]),
    };
    crate::util::remove_stale_temps(dir, crate::util::STALE_TEMP_AGE);
    let mut changed = false;
    let mut bad = Vec::new();
    // What the cache will hold next time: every file seen now.
    let mut fresh_rows: Vec<Seen> = Vec::new();
    for entry in entries.filter_map(Result::ok) {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.ends_with(".json") {
            continue;
        }
        let path = entry.path();
        // Followed through symlinks: a link to a transcript is one.
        let meta = match std::fs::metadata(&path) {
            Ok(m) => m,
            Err(error) => {
                bad.push(TranscriptError::Io { path, error });
                continue;
            }
        };
        if !meta.is_file() {
            bad.push(TranscriptError::NotRegular { path });
            continue;
        }
        let size = meta.len();
        let modified =
            meta.modified().ok().and_then(|m| m.duration_since(UNIX_EPOCH).ok()).map_or(0, |d| d.as_nanos() as u64);
        let cached =
            known.get(name.as_str()).filter(|(s, m, _)| *s == size && *m == modified).and_then(|(_, _, r)| match r {
                Ok(row) => from_row(row, &table).map(Ok),
                Err(e) => Some(Err(e.clone())),
            });
        let summary = match cached {
            Some(s) => s,
            None => {
                changed = true;
                Store::load(&path).map(|t| Summary::of(&t)).map_err(|e| e.reason())
            }
        };
        fresh_rows.push((name, size, modified, path, summary));
    }
    let mut ok = Vec::new();
    if changed || fresh_rows.len() != cache.entries.len() {
        let mut interner = Interner::default();
        let entries = fresh_rows
            .iter()
            .map(|(n, size, m, _, r)| {
                (n.clone(), *size, *m, r.as_ref().map(|s| to_row(s, &mut interner)).map_err(Clone::clone))
            })
            .collect();
        let new = Cache { version: INDEX_VERSION, strings: interner.strings, entries };
        // The cache is an optimisation: failing to write it loses nothing.
        if let Ok(bytes) = serde_json::to_vec(&new) {
            let _ = crate::util::write_atomic(&cache_path, &bytes);
        }
    }
    for (_, _, _, path, summary) in fresh_rows {
        match summary {
            Ok(s) => ok.push((path, s)),
            Err(reason) => bad.push(TranscriptError::Unreadable { path, reason }),
        }
    }
    ok.sort_by(|a, b| a.1.started_at.cmp(&b.1.started_at).then_with(|| a.0.cmp(&b.0)));
    bad.sort_by_key(|e| e.to_string());
    (ok, bad)
}

/// Prints one warning line per file that could not be used.
pub fn warn_skipped(bad: &[TranscriptError], style: &crate::style::Style) {
    for e in bad {
        eprintln!("{} skipped {e}", style.warn("warning:"));
    }
}

/// Finds the transcript the user named: `latest`, a path, a file name, or an id (or a
/// unique prefix of one). Ids and `latest` are looked up in the index, so naming a
/// session does not parse every transcript. A file that matches but cannot be read is
/// reported as such, not as missing.
pub fn find(store: &Store, key: &str) -> Result<PathBuf, TranscriptError> {
    let as_path = Path::new(key);
    if as_path.is_file() {
        return Ok(as_path.to_path_buf());
    }
    let in_dir = store.dir().join(key);
    if in_dir.is_file() {
        return Ok(in_dir);
    }
    let (all, bad) = load(store);
    if key == "latest" {
        return all.into_iter().last().map(|(p, _)| p).ok_or_else(|| TranscriptError::NotFound(key.into()));
    }
    let stem_matches = |p: &Path| {
        p.file_stem().is_some_and(|f| {
            let f = f.to_string_lossy();
            // `<date>T<time>_<slug>_<id>`: the id is the last part.
            f.starts_with(key) || f.rsplit('_').next().is_some_and(|id| id.starts_with(key))
        })
    };
    let exact: Vec<&PathBuf> = all.iter().filter(|(_, s)| s.id == key).map(|(p, _)| p).collect();
    if let [one] = exact.as_slice() {
        return Ok((*one).clone());
    }
    let good: Vec<&PathBuf> =
        all.iter().filter(|(p, s)| s.id.starts_with(key) || stem_matches(p)).map(|(p, _)| p).collect();
    let broken: Vec<TranscriptError> = bad.into_iter().filter(|e| e.path().is_some_and(&stem_matches)).collect();
    match (good.as_slice(), broken.len()) {
        ([one], 0) => Ok((*one).clone()),
        ([], 1) => Err(broken.into_iter().next().unwrap_or_else(|| TranscriptError::NotFound(key.into()))),
        ([], 0) => Err(TranscriptError::NotFound(key.into())),
        _ => {
            let mut candidates: Vec<String> = good
                .iter()
                .map(|p| p.as_path())
                .chain(broken.iter().filter_map(TranscriptError::path))
                .map(|p| p.file_name().map_or_else(|| shown(p), |n| shown(Path::new(n))))
                .collect();
            candidates.sort();
            Err(TranscriptError::Ambiguous { key: key.into(), candidates })
        }
    }
}
