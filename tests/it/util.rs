//! A test builder over the `grill` binary: arguments, stdin and environment in, status,
//! stdout and stderr out, in an isolated temporary folder.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use tempfile::TempDir;

/// The test bank under `tests/fixtures/bank`.
pub fn fixture_bank() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/bank")
}

/// An isolated place to run grill: its own HOME, XDG folders and working directory.
pub struct Sandbox {
    pub dir: TempDir,
}

impl Sandbox {
    pub fn new() -> Sandbox {
        let dir = tempfile::tempdir().unwrap();
        for sub in ["home", "config", "data", "work"] {
            std::fs::create_dir_all(dir.path().join(sub)).unwrap();
        }
        Sandbox { dir }
    }

    pub fn path(&self, sub: &str) -> PathBuf {
        self.dir.path().join(sub)
    }

    /// Where sessions land by default: the data folder.
    pub fn transcripts(&self) -> PathBuf {
        self.path("data/grill/transcripts")
    }

    /// The transcripts written so far, parsed.
    pub fn transcript_files(&self) -> Vec<PathBuf> {
        let mut v: Vec<PathBuf> = std::fs::read_dir(self.transcripts())
            .map(|rd| {
                rd.filter_map(Result::ok)
                    .map(|e| e.path())
                    .filter(|p| p.extension().is_some_and(|x| x == "json"))
                    .collect()
            })
            .unwrap_or_default();
        v.sort();
        v
    }

    pub fn only_transcript(&self) -> serde_json::Value {
        let files = self.transcript_files();
        assert_eq!(files.len(), 1, "expected one transcript, found {files:?}");
        serde_json::from_slice(&std::fs::read(&files[0]).unwrap()).unwrap()
    }

    pub fn command(&self) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_grill"));
        c.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.path("home"))
            .env("XDG_CONFIG_HOME", self.path("config"))
            .env("XDG_DATA_HOME", self.path("data"))
            // Port 9 (discard) has no listener: no test finds a real Ollama by accident.
            .env("OLLAMA_HOST", "127.0.0.1:9")
            .current_dir(self.path("work"));
        c
    }

    /// Starts grill with `args` and every stream piped, for a test that feeds standard
    /// input bit by bit while it runs.
    pub fn spawn<S: AsRef<std::ffi::OsStr>>(&self, args: &[S]) -> std::process::Child {
        self.command().args(args).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap()
    }

    /// Runs grill with `args`, feeding `stdin`.
    pub fn run(&self, args: &[&str], stdin: &str) -> Run {
        self.run_with(args, stdin, &[])
    }

    pub fn run_with<S: AsRef<std::ffi::OsStr>>(&self, args: &[S], stdin: &str, env: &[(&str, &str)]) -> Run {
        let mut c = self.command();
        c.args(args).envs(env.iter().copied()).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = c.spawn().unwrap();
        let mut pipe = child.stdin.take().unwrap();
        let input = stdin.as_bytes().to_vec();
        let writer = std::thread::spawn(move || {
            let _ = pipe.write_all(&input);
        });
        let out = child.wait_with_output().unwrap();
        writer.join().unwrap();
        Run::from(out)
    }
}

/// What one run of grill did.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl From<Output> for Run {
    fn from(o: Output) -> Run {
        Run {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
}

impl Run {
    #[track_caller]
    pub fn success(&self) -> &Run {
        assert_eq!(self.code, 0, "exit {}\nstdout:\n{}\nstderr:\n{}", self.code, self.stdout, self.stderr);
        self
    }

    #[track_caller]
    pub fn code(&self, code: i32) -> &Run {
        assert_eq!(self.code, code, "exit {}\nstdout:\n{}\nstderr:\n{}", self.code, self.stdout, self.stderr);
        self
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not one JSON document ({e}):\n{}", self.stdout))
    }
}

impl Sandbox {
    /// `text` with what differs between runs replaced by placeholders, for snapshots:
    /// the sandbox's own folder, dates and times, session ids and durations.
    pub fn redact(&self, text: &str) -> String {
        let root = self.dir.path().display().to_string();
        let text = text.replace(&root, "[SANDBOX]");
        let rules: [(&str, &str); 4] = [
            (r"\d{4}-\d{2}-\d{2}[T ]\d{2}:?\d{2}(:?\d{2})?([.,]\d+)?([+-]\d{2}:\d{2}|Z)?", "[TIME]"),
            (r"\b[0-9a-f]{8}\b", "[ID]"),
            (r"\b\d+(\.\d+)? ?(ms|s)\b", "[DURATION]"),
            (r"\b127\.0\.0\.1:\d+", "127.0.0.1:[PORT]"),
        ];
        rules.iter().fold(text, |t, (pattern, with)| {
            regex::Regex::new(pattern).expect("a valid pattern").replace_all(&t, *with).into_owned()
        })
    }
}
