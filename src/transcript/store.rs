//! The transcript folder: atomic writes, listing and lookup.
//!
//! Every save writes a temporary file in the same folder, syncs it to disk and renames it
//! over the transcript, so a crash at any point leaves either the previous or the new
//! version, never a torn file.

use std::fs;
use std::path::{Path, PathBuf};

use super::{SCHEMA_VERSION, Transcript};

/// A path as shown on a terminal: lossy for names that are not UTF-8, and without the
/// control characters a hostile file name could carry.
pub fn shown(path: &Path) -> String {
    crate::scrub::controls(&path.to_string_lossy()).into_owned()
}

/// Why a transcript could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum TranscriptError {
    /// The file system refused. (What the OS said is in the message, not a cause of its
    /// own, so it is not printed twice.)
    #[error("{}: {error}", shown(path))]
    Io {
        /// The file or folder concerned.
        path: PathBuf,
        /// What the OS said.
        error: std::io::Error,
    },
    /// The file is not a transcript (corrupt, truncated, or something else).
    #[error(
        "{}: not a valid transcript (line {line}, column {column}: {})",
        shown(path),
        crate::scrub::controls(message)
    )]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// 1-based line of the first problem.
        line: usize,
        /// 1-based column of the first problem.
        column: usize,
        /// What is wrong.
        message: String,
    },
    /// The file parses, but its parts contradict each other (a turn outside the plan, an
    /// empty id): using it would go wrong later, so it is refused whole.
    #[error("{}: not a valid transcript (field `{field}`: {})", shown(path), crate::scrub::controls(message))]
    Invalid {
        /// The file.
        path: PathBuf,
        /// The field at fault, as a path into the document (`turns[2].question_id`).
        field: String,
        /// What is wrong with it.
        message: String,
    },
    /// A file the index read earlier and could not use; `reason` is what it said then.
    #[error("{}: {}", shown(path), crate::scrub::controls(reason))]
    Unreadable {
        /// The file.
        path: PathBuf,
        /// Why, without the path.
        reason: String,
    },
    /// A FIFO, socket or device named like a transcript: reading it could block forever.
    #[error("{}: not a regular file", shown(path))]
    NotRegular {
        /// The file.
        path: PathBuf,
    },
    /// Written by a newer grill.
    #[error(
        "{}: schema version {version} is newer than this grill understands ({SCHEMA_VERSION}); upgrade grill to read it",
        shown(path)
    )]
    Newer {
        /// The file.
        path: PathBuf,
        /// Its schema version.
        version: u64,
    },
    /// Another grill process is writing this session.
    #[error("{} is in use by another grill ({})", shown(path), crate::scrub::controls(holder))]
    Locked {
        /// The transcript.
        path: PathBuf,
        /// Who holds it: "pid N, command".
        holder: String,
    },
    /// No transcript matches what the user named.
    #[error("no transcript matches `{}`", crate::scrub::controls(.0))]
    NotFound(String),
    /// What the user named is the beginning of several transcripts' ids.
    #[error("`{}` is ambiguous: it matches {} transcripts: {}", crate::scrub::controls(key), candidates.len(), candidates.join(", "))]
    Ambiguous {
        /// What the user named.
        key: String,
        /// The files it matches (already fit to show).
        candidates: Vec<String>,
    },
}

impl TranscriptError {
    /// The message without the file it is about, for the index to keep.
    pub fn reason(&self) -> String {
        let full = self.to_string();
        match self.path() {
            Some(p) => full.strip_prefix(&format!("{}: ", shown(p))).map(str::to_string).unwrap_or(full),
            None => full,
        }
    }

    /// The file concerned, when there is one.
    pub fn path(&self) -> Option<&Path> {
        match self {
            TranscriptError::Io { path, .. }
            | TranscriptError::Corrupt { path, .. }
            | TranscriptError::Invalid { path, .. }
            | TranscriptError::Unreadable { path, .. }
            | TranscriptError::NotRegular { path }
            | TranscriptError::Newer { path, .. }
            | TranscriptError::Locked { path, .. } => Some(path),
            TranscriptError::NotFound(_) | TranscriptError::Ambiguous { .. } => None,
        }
    }

    /// What to do about it, when there is something to say.
    pub fn hint(&self) -> Option<String> {
        match self {
            TranscriptError::Locked { .. } => Some(
                "wait for that grill to finish (or stop it), then try again; a lock whose process has died is released on its own"
                    .into(),
            ),
            TranscriptError::Ambiguous { .. } => Some("give more of the id, or the file name".into()),
            TranscriptError::NotFound(_) => Some("`grill review list` shows every session".into()),
            TranscriptError::Corrupt { .. } | TranscriptError::Invalid { .. } | TranscriptError::Unreadable { .. } => {
                Some("the file was changed outside grill; restore it from a backup or move it out of the folder".into())
            }
            _ => None,
        }
    }

    /// Whether what the user typed is at fault (exit 1) rather than the files (exit 2).
    pub fn user_fault(&self) -> bool {
        matches!(self, TranscriptError::NotFound(_) | TranscriptError::Ambiguous { .. })
    }
}

impl crate::error::Diagnose for TranscriptError {
    fn exit(&self) -> crate::error::ExitStatus {
        if self.user_fault() { crate::error::ExitStatus::Failure } else { crate::error::ExitStatus::Error }
    }

    fn hint(&self) -> Option<String> {
        TranscriptError::hint(self)
    }
}

/// The folder that holds transcripts.
#[derive(Debug, Clone)]
pub struct Store {
    dir: PathBuf,
}

impl Store {
    /// A store over `dir` (created on first save).
    pub fn new(dir: impl Into<PathBuf>) -> Store {
        Store { dir: dir.into() }
    }

    /// The folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The file a new session is saved to: `<date>T<time>_<slug>_<id>.json`.
    pub fn path_for(&self, t: &Transcript, slug: &str) -> PathBuf {
        let slug: String =
            slug.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '-' }).take(40).collect();
        self.dir.join(format!("{}_{slug}_{}.json", t.started_at.format("%Y-%m-%dT%H%M%S"), t.id))
    }

    /// Writes `t` to `path` atomically (see [`crate::util::write_atomic`]).
    /// The file is stamped with this build's schema version, whatever `t` says: what is
    /// written is this build's schema.
    pub fn save(&self, t: &Transcript, path: &Path) -> Result<(), TranscriptError> {
        let io = |error| TranscriptError::Io { path: path.to_path_buf(), error };
        let stamped;
        let t = if t.schema_version == SCHEMA_VERSION {
            t
        } else {
            stamped = Transcript { schema_version: SCHEMA_VERSION, ..t.clone() };
            &stamped
        };
        let mut json = serde_json::to_vec_pretty(t).map_err(|e| io(std::io::Error::other(e)))?;
        json.push(b'\n');
        crate::util::write_atomic(path, &json).map_err(io)
    }

    /// Reads one transcript, accepting every schema version up to this build's (upgraded
    /// to this build's), and refusing one whose parts contradict each other.
    pub fn load(path: &Path) -> Result<Transcript, TranscriptError> {
        let io = |error| TranscriptError::Io { path: path.to_path_buf(), error };
        // Opening a FIFO blocks until a writer comes, which may be never.
        if !fs::metadata(path).map_err(io)?.is_file() {
            return Err(TranscriptError::NotRegular { path: path.to_path_buf() });
        }
        let bytes = fs::read(path).map_err(io)?;
        parse(path, &bytes)
    }
}

fn parse(path: &Path, bytes: &[u8]) -> Result<Transcript, TranscriptError> {
    let corrupt = |e: serde_json::Error| {
        let (line, column) = (e.line(), e.column());
        let full = e.to_string();
        // serde_json ends its message with the position, which the error carries already.
        let message = full.strip_suffix(&format!(" at line {line} column {column}")).unwrap_or(&full).to_string();
        TranscriptError::Corrupt { path: path.to_path_buf(), line, column, message }
    };
    let mut value: serde_json::Value = serde_json::from_slice(bytes).map_err(corrupt)?;
    let version = value.get("schema_version").and_then(serde_json::Value::as_u64).unwrap_or(0);
    if version > u64::from(SCHEMA_VERSION) {
        return Err(TranscriptError::Newer { path: path.to_path_buf(), version });
    }
    if version == 0 {
        let message = match value.get("schema_version") {
            Some(v) if v.as_u64() == Some(0) => "unknown schema version 0".to_string(),
            Some(_) => "is not a version number".to_string(),
            None => "is missing".to_string(),
        };
        return Err(TranscriptError::Invalid { path: path.to_path_buf(), field: "schema_version".into(), message });
    }
    let t: Transcript = if version == u64::from(SCHEMA_VERSION) {
        // Read from the bytes, not the `Value`, so a wrong field is reported with its
        // line and column.
        serde_json::from_slice(bytes).map_err(corrupt)?
    } else {
        super::migrate::upgrade(&mut value, version as u32);
        // A value has no lines: when the upgraded value does not read, the bytes are
        // read as they are to place the problem, which the steps (adding fields only)
        // never cause.
        serde_json::from_value(value).map_err(|e| match serde_json::from_slice::<Transcript>(bytes) {
            Err(located) => corrupt(located),
            Ok(_) => TranscriptError::Corrupt { path: path.to_path_buf(), line: 1, column: 1, message: e.to_string() },
        })?
    };
    validate(&t).map_err(|(field, message)| TranscriptError::Invalid { path: path.to_path_buf(), field, message })?;
    Ok(t)
}

/// Checks what the types cannot: that the turns follow the plan and the ids are usable.
/// Sessions index the plan by the turns' questions, so a turn outside it would fail
/// there, after the file had been rewritten.
pub fn validate(t: &Transcript) -> Result<(), (String, String)> {
    let bad = |field: &str, message: String| Err((field.to_string(), message));
    if t.schema_version == 0 {
        return bad("schema_version", "unknown schema version 0".into());
    }
    if t.id.trim().is_empty() {
        return bad("id", "is empty".into());
    }
    if let Some((_, c)) =
        t.id.char_indices().find(|&(_, c)| c.is_whitespace() || crate::scrub::is_forbidden(c) || c == '/')
    {
        return bad("id", format!("holds {c:?}, which no session id has"));
    }
    if let Some(i) = t.plan.iter().position(|q| q.trim().is_empty()) {
        return bad(&format!("plan[{i}]"), "is empty".into());
    }
    if !t.turns.is_empty() && t.plan.is_empty() {
        return bad("plan", format!("is empty, but the session has {} turn(s)", t.turns.len()));
    }
    let mut reached = 0usize;
    for (i, turn) in t.turns.iter().enumerate() {
        let field = format!("turns[{i}].question_id");
        let Some(at) = t.plan.iter().position(|q| *q == turn.question_id) else {
            return bad(&field, format!("`{}` is not in the plan", turn.question_id));
        };
        if at < reached {
            return bad(
                &field,
                format!(
                    "`{}` is asked after `{}`, but the plan puts it first",
                    turn.question_id,
                    t.plan.get(reached).map_or("", String::as_str)
                ),
            );
        }
        reached = at;
        for (g, record) in turn.grades.iter().enumerate() {
            if let crate::grade::record::GraderInfo::User { reviewed } = record.grader {
                // The user's word reviews a grader's grade given before it.
                if reviewed >= g || turn.grades[reviewed].grader.is_user() {
                    return bad(
                        &format!("turns[{i}].grades[{g}].grader.reviewed"),
                        format!("is {reviewed}, but no grader's grade comes before it at that place"),
                    );
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn transcript(plan: &[&str], turns: &[&str]) -> serde_json::Value {
        let turns: Vec<_> = turns
            .iter()
            .map(|q| {
                serde_json::json!({"question_id": q, "prompt": "p", "question_hash": "h",
                    "asked_at": "2026-01-01T10:00:00+00:00"})
            })
            .collect();
        serde_json::json!({
            "schema_version": 3, "grill_version": "0.1.0", "id": "abcd1234",
            "started_at": "2026-01-01T10:00:00+00:00", "updated_at": "2026-01-01T10:00:00+00:00",
            "status": "quit", "grader": {"kind": "offline", "version": "offline-5"}, "bank": "built-in bank",
            "selection": {"topics": [], "questions": [], "level": null, "count": 1, "seed": 1},
            "follow_ups": 0, "plan": plan, "turns": turns
        })
    }

    fn check(v: serde_json::Value) -> Result<Transcript, String> {
        parse(Path::new("t.json"), &serde_json::to_vec(&v).unwrap()).map_err(|e| e.to_string())
    }

    #[test]
    fn a_consistent_transcript_loads() {
        assert!(check(transcript(&["a", "b"], &["a", "a", "b"])).is_ok());
        assert!(check(transcript(&[], &[])).is_ok());
    }

    /// The user's word must review a grader's grade given before it: an index that points
    /// forward, at itself or at another of the user's words names the field at fault.
    #[test]
    fn the_users_word_must_review_an_earlier_graders_grade() {
        let grade = |kind: serde_json::Value| {
            serde_json::json!({"grader": kind, "graded_at": "2026-01-01T10:01:00+00:00", "latency_ms": 0,
                "grade": {"status": "ungraded", "reason": "r"}})
        };
        let offline = serde_json::json!({"kind": "offline", "version": "offline-7"});
        let with = |grades: Vec<serde_json::Value>| {
            let mut v = transcript(&["a"], &["a"]);
            v["schema_version"] = 4.into();
            v["turns"][0]["grades"] = grades.into();
            check(v)
        };
        let mine = |n: usize| grade(serde_json::json!({"kind": "self", "reviewed": n}));
        assert!(with(vec![grade(offline.clone()), mine(0), grade(offline.clone()), mine(2)]).is_ok());
        for (grades, at, n) in [
            (vec![mine(0)], 0, 0),
            (vec![grade(offline.clone()), mine(1)], 1, 1),
            (vec![grade(offline.clone()), mine(0), mine(1)], 2, 1),
        ] {
            assert_eq!(
                with(grades).unwrap_err(),
                format!(
                    "t.json: not a valid transcript (field `turns[0].grades[{at}].grader.reviewed`: is {n}, but no \
                     grader's grade comes before it at that place)"
                )
            );
        }
    }

    #[test]
    fn turns_outside_the_plan_or_out_of_its_order_are_refused() {
        assert_eq!(
            check(transcript(&[], &["a"])).unwrap_err(),
            "t.json: not a valid transcript (field `plan`: is empty, but the session has 1 turn(s))"
        );
        assert_eq!(
            check(transcript(&["a"], &["a", "z"])).unwrap_err(),
            "t.json: not a valid transcript (field `turns[1].question_id`: `z` is not in the plan)"
        );
        assert_eq!(
            check(transcript(&["a", "b"], &["b", "a"])).unwrap_err(),
            "t.json: not a valid transcript (field `turns[1].question_id`: `a` is asked after `b`, but the plan puts it first)"
        );
    }

    #[test]
    fn empty_ids_and_unknown_versions_are_refused() {
        let mut v = transcript(&["a"], &[]);
        v["id"] = "".into();
        assert_eq!(check(v).unwrap_err(), "t.json: not a valid transcript (field `id`: is empty)");
        let mut v = transcript(&["a"], &[]);
        v["schema_version"] = 0.into();
        assert_eq!(
            check(v).unwrap_err(),
            "t.json: not a valid transcript (field `schema_version`: unknown schema version 0)"
        );
        let mut v = transcript(&["", "a"], &[]);
        v["plan"][0] = "".into();
        assert_eq!(check(v).unwrap_err(), "t.json: not a valid transcript (field `plan[0]`: is empty)");
    }

    fn fixture(name: &str) -> Vec<u8> {
        std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/transcripts").join(name)).unwrap()
    }

    #[test]
    fn older_schemas_load_as_the_current_one_and_save_as_it() {
        let dir = tempfile::tempdir().unwrap();
        for (name, id) in [("schema-v1.json", "6ab1a31b"), ("schema-v2.json", "4f26dc4a")] {
            let t = parse(Path::new(name), &fixture(name)).unwrap();
            assert_eq!(
                (t.id.as_str(), t.schema_version, t.mode),
                (id, SCHEMA_VERSION, super::super::SessionMode::Practice)
            );
            let path = dir.path().join(name);
            Store::new(dir.path()).save(&t, &path).unwrap();
            let saved: serde_json::Value = serde_json::from_slice(&fs::read(&path).unwrap()).unwrap();
            assert_eq!(saved["schema_version"], SCHEMA_VERSION, "{name} is stamped on save");
            assert_eq!(saved["mode"], "practice");
            assert_eq!(Store::load(&path).unwrap(), t, "{name} reads back the same");
        }
    }

    #[test]
    fn a_save_stamps_the_current_version_whatever_the_value_says() {
        let dir = tempfile::tempdir().unwrap();
        let mut t = check(transcript(&["a"], &["a"])).unwrap();
        t.schema_version = 1;
        let path = dir.path().join("t.json");
        Store::new(dir.path()).save(&t, &path).unwrap();
        assert_eq!(Store::load(&path).unwrap().schema_version, SCHEMA_VERSION);
    }

    #[test]
    fn a_wrong_field_in_an_older_schema_still_names_its_line() {
        let text = String::from_utf8(fixture("schema-v1.json")).unwrap().replacen(
            "\"follow_ups\": 1",
            "\"follow_ups\": \"one\"",
            1,
        );
        let e = parse(Path::new("t.json"), text.as_bytes()).unwrap_err();
        assert_eq!(
            e.to_string(),
            "t.json: not a valid transcript (line 23, column 21: invalid type: string \"one\", expected usize)"
        );
    }

    #[test]
    fn a_missing_or_odd_version_is_named() {
        let mut v = transcript(&["a"], &[]);
        v.as_object_mut().unwrap().remove("schema_version");
        assert_eq!(check(v).unwrap_err(), "t.json: not a valid transcript (field `schema_version`: is missing)");
        let mut v = transcript(&["a"], &[]);
        v["schema_version"] = "3".into();
        assert_eq!(
            check(v).unwrap_err(),
            "t.json: not a valid transcript (field `schema_version`: is not a version number)"
        );
    }

    #[test]
    fn a_syntax_error_names_its_line_and_column_once() {
        let e = parse(Path::new("t.json"), b"{\n  \"id\": }").unwrap_err();
        assert_eq!(e.to_string(), "t.json: not a valid transcript (line 2, column 9: expected value)");
        assert_eq!(e.reason(), "not a valid transcript (line 2, column 9: expected value)");
    }
}
