//! One session, one writer. Every command that rewrites a transcript first takes an
//! advisory lock on a small file beside it (`.<transcript name>.lock`), so that two
//! processes never each rewrite the whole file from their own stale copy and lose the
//! other's answers. The lock file holds the holder's pid and command, for the message
//! the second writer shows.
//!
//! std's `File::try_lock` is enough: the OS releases the lock when its process dies, so a
//! lock file left behind by a crash is stale but harmless (the next writer takes it).

use std::fs::{self, File, OpenOptions, TryLockError};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::TranscriptError;

/// How long a second writer waits for the first before giving up.
pub const WAIT: Duration = Duration::from_secs(2);
const POLL: Duration = Duration::from_millis(50);

/// A held lock on one transcript; released (and its file removed) when dropped.
#[derive(Debug)]
pub struct SessionLock {
    path: PathBuf,
    // Held open for the lock's lifetime: closing it releases the lock.
    _file: File,
}

impl SessionLock {
    /// The lock file of `transcript`: hidden, and not `*.json`, so never listed as one.
    pub fn path_for(transcript: &Path) -> PathBuf {
        let name = transcript.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        transcript.with_file_name(format!(".{name}.lock"))
    }

    /// Takes the lock on `transcript` for `command` ("grill resume"), waiting up to
    /// `wait` for another holder to let go.
    pub fn acquire(transcript: &Path, command: &str, wait: Duration) -> Result<SessionLock, TranscriptError> {
        let deadline = Instant::now() + wait;
        loop {
            match SessionLock::try_acquire(transcript, command) {
                Err(TranscriptError::Locked { .. }) if Instant::now() < deadline => std::thread::sleep(POLL),
                other => return other,
            }
        }
    }

    /// Takes the lock on `transcript` if nobody holds it; else [`TranscriptError::Locked`]
    /// naming the holder.
    pub fn try_acquire(transcript: &Path, command: &str) -> Result<SessionLock, TranscriptError> {
        let path = SessionLock::path_for(transcript);
        let io = |error| TranscriptError::Io { path: path.clone(), error };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            fs::create_dir_all(dir).map_err(io)?;
        }
        // A holder removes the file as it lets go; whoever opened the old file meanwhile
        // holds a lock nobody else can see, so it starts over on the new one.
        for _ in 0..100 {
            let mut file =
                OpenOptions::new().read(true).write(true).create(true).truncate(false).open(&path).map_err(io)?;
            match file.try_lock() {
                Ok(()) => {}
                Err(TryLockError::WouldBlock) => {
                    let mut text = String::new();
                    let _ = file.take(200).read_to_string(&mut text);
                    return Err(TranscriptError::Locked { path: transcript.to_path_buf(), holder: holder(&text) });
                }
                Err(TryLockError::Error(e)) => return Err(io(e)),
            }
            if !same_file(&file, &path) {
                continue;
            }
            file.set_len(0).map_err(io)?;
            file.write_all(format!("{}\n{command}\n", std::process::id()).as_bytes()).map_err(io)?;
            return Ok(SessionLock { path, _file: file });
        }
        Err(io(std::io::Error::other("the lock file keeps being replaced")))
    }
}

impl Drop for SessionLock {
    fn drop(&mut self) {
        // Removed while still held, so the next writer never finds a file it could lock
        // while this one is letting go; a file left by a crash is harmless anyway.
        let _ = fs::remove_file(&self.path);
    }
}

/// "pid 123, grill resume" from a lock file's text.
fn holder(text: &str) -> String {
    let mut lines = text.lines();
    let pid = lines.next().map(str::trim).filter(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()));
    let command = lines.next().map(str::trim).filter(|c| !c.is_empty());
    match (pid, command) {
        (Some(p), Some(c)) => format!("pid {p}, {c}"),
        (Some(p), None) => format!("pid {p}"),
        _ => "a process that is starting".to_string(),
    }
}

#[cfg(unix)]
fn same_file(file: &File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (file.metadata(), fs::metadata(path)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

#[cfg(not(unix))]
fn same_file(_: &File, path: &Path) -> bool {
    path.exists()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_writer_is_refused_and_told_who_holds_the_session() {
        let dir = tempfile::tempdir().unwrap();
        let t = dir.path().join("s.json");
        let first = SessionLock::try_acquire(&t, "grill resume").unwrap();
        let err = SessionLock::acquire(&t, "grill regrade", Duration::ZERO).unwrap_err();
        let pid = std::process::id();
        assert_eq!(err.to_string(), format!("{} is in use by another grill (pid {pid}, grill resume)", t.display()));
        drop(first);
        assert!(!SessionLock::path_for(&t).exists(), "the lock file goes with the lock");
        let _again = SessionLock::try_acquire(&t, "grill regrade").unwrap();
    }

    #[test]
    fn a_stale_lock_file_is_taken_over() {
        let dir = tempfile::tempdir().unwrap();
        let t = dir.path().join("s.json");
        fs::write(SessionLock::path_for(&t), "999999\ngrill practice\n").unwrap();
        let _lock = SessionLock::try_acquire(&t, "grill resume").unwrap();
        let text = fs::read_to_string(SessionLock::path_for(&t)).unwrap();
        assert_eq!(text, format!("{}\ngrill resume\n", std::process::id()));
    }

    #[test]
    fn the_holder_is_read_defensively() {
        assert_eq!(holder("12\ngrill resume\n"), "pid 12, grill resume");
        assert_eq!(holder("12"), "pid 12");
        assert_eq!(holder(""), "a process that is starting");
        assert_eq!(holder("x\ny"), "a process that is starting");
    }
}
