//! The transcript folder: atomic writes, listing and lookup.
//!
//! Every save writes a temporary file in the same folder, syncs it to disk and renames it
//! over the transcript, so a crash at any point leaves either the previous or the new
//! version, never a torn file.

use std::fs;
use std::path::{Path, PathBuf};

use super::{SCHEMA_VERSION, Transcript};

/// Why a transcript could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum TranscriptError {
    /// The file system refused.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or folder concerned.
        path: PathBuf,
        /// What the OS said.
        source: std::io::Error,
    },
    /// The file is not a transcript (corrupt, truncated, or something else).
    #[error("{}:{line}:{column}: not a valid transcript: {message}", path.display())]
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
    /// Written by a newer grill.
    #[error("{}: schema version {version} is newer than this grill understands ({SCHEMA_VERSION}); upgrade grill to read it", path.display())]
    Newer {
        /// The file.
        path: PathBuf,
        /// Its schema version.
        version: u64,
    },
    /// No transcript matches what the user named.
    #[error("no transcript matches `{0}`")]
    NotFound(String),
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
    pub fn save(&self, t: &Transcript, path: &Path) -> Result<(), TranscriptError> {
        let mut json = serde_json::to_vec_pretty(t).expect("a transcript always serialises");
        json.push(b'\n');
        crate::util::write_atomic(path, &json)
            .map_err(|source| TranscriptError::Io { path: path.to_path_buf(), source })
    }

    /// Reads one transcript, accepting every schema version up to this build's.
    pub fn load(path: &Path) -> Result<Transcript, TranscriptError> {
        let bytes = fs::read(path).map_err(|source| TranscriptError::Io { path: path.to_path_buf(), source })?;
        parse(path, &bytes)
    }
}

fn parse(path: &Path, bytes: &[u8]) -> Result<Transcript, TranscriptError> {
    let corrupt = |e: serde_json::Error| TranscriptError::Corrupt {
        path: path.to_path_buf(),
        line: e.line(),
        column: e.column(),
        message: e.to_string(),
    };
    let value: serde_json::Value = serde_json::from_slice(bytes).map_err(corrupt)?;
    let version = value.get("schema_version").and_then(serde_json::Value::as_u64).unwrap_or(0);
    if version > u64::from(SCHEMA_VERSION) {
        return Err(TranscriptError::Newer { path: path.to_path_buf(), version });
    }
    serde_json::from_value(value).map_err(corrupt)
}
