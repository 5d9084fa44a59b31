//! Small helpers with no better home.

use sha2::{Digest, Sha256};

/// Now, in local time with its offset, as transcripts and grades record times.
///
/// `GRILL_NOW` (an RFC 3339 time) stands in for the clock, for tests only: schedules,
/// due lists and forecasts depend on the day, and this is the one place it is read. A
/// value that does not parse is ignored.
pub fn now() -> chrono::DateTime<chrono::FixedOffset> {
    std::env::var("GRILL_NOW")
        .ok()
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t.trim()).ok())
        .unwrap_or_else(|| chrono::Local::now().fixed_offset())
}

/// The first 16 hex digits of the SHA-256 of `bytes`: short, stable identifiers for
/// content recorded in transcripts.
pub fn short_hash(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    digest.iter().take(8).map(|b| format!("{b:02x}")).collect()
}

/// Levenshtein distance, for "did you mean" suggestions.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != *cb)).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// Writes `bytes` to `path` so that a crash leaves either the old or the new file, never
/// a torn one: a temporary file in the same folder, fsync, rename, then fsync of the
/// folder. The folder is created if missing.
pub fn write_atomic(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => std::path::Path::new("."),
    };
    std::fs::create_dir_all(dir)?;
    let mut tmp = tempfile::Builder::new().prefix(".grill-").suffix(".tmp").tempfile_in(dir)?;
    // Through the file itself: the wrapper adds the temporary path to errors, which
    // would name a file the user never sees.
    tmp.as_file_mut().write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    #[cfg(unix)]
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// Temporary files of [`write_atomic`] older than this are left over from a crash: a
/// live writer renames its file within moments of creating it.
pub const STALE_TEMP_AGE: std::time::Duration = std::time::Duration::from_secs(3600);

/// Removes the `.grill-*.tmp` files in `dir` last modified more than `age` ago (a crash
/// between creating one and renaming it leaves it behind). Returns how many went.
pub fn remove_stale_temps(dir: &std::path::Path, age: std::time::Duration) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else { return 0 };
    let now = std::time::SystemTime::now();
    let mut removed = 0usize;
    for entry in entries.filter_map(Result::ok) {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if !(name.starts_with(".grill-") && name.ends_with(".tmp")) {
            continue;
        }
        let Ok(meta) = entry.metadata() else { continue };
        let old = meta.modified().ok().and_then(|m| now.duration_since(m).ok()).is_some_and(|d| d > age);
        if meta.is_file() && old && std::fs::remove_file(entry.path()).is_ok() {
            removed = removed.saturating_add(1);
        }
    }
    removed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_old_temporary_files_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        let old = dir.path().join(".grill-old.tmp");
        let fresh = dir.path().join(".grill-fresh.tmp");
        let other = dir.path().join("old.tmp");
        for p in [&old, &fresh, &other] {
            std::fs::write(p, b"x").unwrap();
        }
        let two_hours_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(7200);
        for p in [&old, &other] {
            std::fs::File::options().write(true).open(p).unwrap().set_modified(two_hours_ago).unwrap();
        }
        assert_eq!(remove_stale_temps(dir.path(), STALE_TEMP_AGE), 1);
        assert!(!old.exists() && fresh.exists() && other.exists());
    }
}
