//! Remembers, per endpoint and model, which structured-output mode worked, so later runs
//! start with it instead of being rejected again. A small JSON file in the data folder;
//! losing it costs one step-down, nothing more.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::Mode;

/// The remembered modes.
#[derive(Debug, Default)]
pub struct ModeCache {
    path: Option<PathBuf>,
    modes: BTreeMap<String, Mode>,
}

fn key(base_url: &str, model: &str) -> String {
    format!("{base_url}|{model}")
}

impl ModeCache {
    /// Reads the cache at `path` (absent or unreadable: empty).
    pub fn load(path: Option<PathBuf>) -> ModeCache {
        let modes = path
            .as_ref()
            .and_then(|p| std::fs::read(p).ok())
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default();
        ModeCache { path, modes }
    }

    /// A cache that remembers nothing yet but saves to `path`: for checks that must
    /// negotiate from the top.
    pub fn fresh(path: Option<PathBuf>) -> ModeCache {
        ModeCache { path, modes: BTreeMap::new() }
    }

    /// The mode that worked last time, if any.
    pub fn get(&self, base_url: &str, model: &str) -> Option<Mode> {
        self.modes.get(&key(base_url, model)).copied()
    }

    /// Records the mode that worked; saved at once (failures to save are ignored: the
    /// cache is an optimisation).
    pub fn set(&mut self, base_url: &str, model: &str, mode: Mode) {
        if self.modes.insert(key(base_url, model), mode) == Some(mode) {
            return;
        }
        if let Some(p) = &self.path
            && let Ok(json) = serde_json::to_vec_pretty(&self.modes)
        {
            let _ = crate::util::write_atomic(p, &json);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_survive_a_reload() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("modes.json");
        let mut c = ModeCache::load(Some(path.clone()));
        assert_eq!(c.get("http://h/v1", "m"), None);
        c.set("http://h/v1", "m", Mode::JsonObject);
        let c = ModeCache::load(Some(path));
        assert_eq!(c.get("http://h/v1", "m"), Some(Mode::JsonObject));
        assert_eq!(c.get("http://h/v1", "other"), None);
    }
}
