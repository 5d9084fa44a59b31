//! Runs the bank's code examples under every CPython (3.11 and later) on the machine, so a
//! reference answer never shows code that fails or output it does not print.

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::Bank;

/// The oldest CPython the bank's examples are checked against.
pub const OLDEST: (u32, u32) = (3, 11);
/// How long one example may run.
const TIMEOUT: Duration = Duration::from_secs(20);

/// A Python interpreter found on the machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interpreter {
    /// Major and minor version.
    pub version: (u32, u32),
    /// The program to run.
    pub program: String,
    /// Environment that selects it (for pyenv's shim).
    pub env: Vec<(String, String)>,
}

impl Interpreter {
    /// "3.12 (PYENV_VERSION=3.12.1 python)" and the like.
    pub fn describe(&self) -> String {
        let env: Vec<String> = self.env.iter().map(|(k, v)| format!("{k}={v} ")).collect();
        format!(
            "{}.{} ({}{})",
            self.version.0,
            self.version.1,
            env.concat(),
            self.program
        )
    }

    fn command(&self) -> Command {
        let mut c = Command::new(&self.program);
        c.envs(self.env.iter().map(|(k, v)| (k, v)));
        c
    }
}

/// Finds CPython 3.11+ interpreters: `python3`, `python3.N` on the PATH, and pyenv's
/// versions. One per minor version.
pub fn discover() -> Vec<Interpreter> {
    let mut candidates: Vec<(String, Vec<(String, String)>)> = vec![("python3".into(), vec![])];
    for minor in 11..=15 {
        candidates.push((format!("python3.{minor}"), vec![]));
    }
    if let Ok(out) = Command::new("pyenv")
        .args(["versions", "--bare"])
        .stderr(Stdio::null())
        .output()
    {
        for v in String::from_utf8_lossy(&out.stdout).lines().map(str::trim) {
            if v.chars().next().is_some_and(|c| c.is_ascii_digit()) && !v.contains('/') {
                candidates.push((
                    "python".into(),
                    vec![("PYENV_VERSION".into(), v.to_string())],
                ));
            }
        }
    }
    let mut found: Vec<Interpreter> = Vec::new();
    for (program, env) in candidates {
        let probe = Command::new(&program)
            .envs(env.iter().map(|(k, v)| (k, v)))
            .args(["-c", "import sys; print(sys.version_info[0], sys.version_info[1], sys.implementation.name)"])
            .stderr(Stdio::null())
            .output();
        let Ok(out) = probe else { continue };
        let text = String::from_utf8_lossy(&out.stdout);
        let parts: Vec<&str> = text.split_whitespace().collect();
        if let [maj, min, "cpython"] = parts.as_slice()
            && let (Ok(maj), Ok(min)) = (maj.parse(), min.parse())
            && (maj, min) >= OLDEST
            && !found.iter().any(|i| i.version == (maj, min))
        {
            found.push(Interpreter {
                version: (maj, min),
                program,
                env,
            });
        }
    }
    found.sort_by_key(|i| i.version);
    found
}

/// An example that did not do what the bank says.
#[derive(Debug, Clone)]
pub struct Failure {
    /// The question.
    pub question: String,
    /// Which of its examples (1-based).
    pub example: usize,
    /// Under which interpreter, if one ran.
    pub interpreter: Option<String>,
    /// What went wrong.
    pub message: String,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "[{}] example {}", self.question, self.example)?;
        if let Some(i) = &self.interpreter {
            write!(f, " under Python {i}")?;
        }
        write!(f, ": {}", self.message)
    }
}

/// What a run of every example found.
#[derive(Debug, Default)]
pub struct Report {
    /// Runs made (an example under one interpreter is one run).
    pub runs: usize,
    /// What failed.
    pub failures: Vec<Failure>,
}

fn parse_version(s: &str) -> Option<(u32, u32)> {
    let mut it = s.trim().split('.');
    Some((it.next()?.parse().ok()?, it.next()?.parse().ok()?))
}

/// Runs every example of `bank` under each interpreter from its `min_python` up.
pub fn run_all(bank: &Bank, interpreters: &[Interpreter], scratch: &Path) -> Report {
    let mut report = Report::default();
    for q in bank.questions() {
        for (n, ex) in q.examples.iter().enumerate() {
            let fail = |interpreter: Option<&Interpreter>, message: String| Failure {
                question: q.id.clone(),
                example: n + 1,
                interpreter: interpreter.map(Interpreter::describe),
                message,
            };
            let min = match ex.min_python.as_deref().map(parse_version) {
                None => OLDEST,
                Some(Some(v)) => v,
                Some(None) => {
                    report.failures.push(fail(
                        None,
                        format!(
                            "min_python {:?} is not a version like \"3.12\"",
                            ex.min_python
                        ),
                    ));
                    continue;
                }
            };
            let eligible: Vec<&Interpreter> =
                interpreters.iter().filter(|i| i.version >= min).collect();
            if eligible.is_empty() {
                report.failures.push(fail(
                    None,
                    format!(
                        "needs Python {}.{} or later, and none was found",
                        min.0, min.1
                    ),
                ));
                continue;
            }
            let file = scratch.join(format!("{}-{}.py", q.id, n + 1));
            if let Err(e) = std::fs::write(&file, &ex.code) {
                report
                    .failures
                    .push(fail(None, format!("cannot write {}: {e}", file.display())));
                continue;
            }
            for interp in eligible {
                report.runs += 1;
                if let Err(message) = run_one(interp, &file, scratch, ex.output.as_deref()) {
                    report.failures.push(fail(Some(interp), message));
                }
            }
        }
    }
    report
}

fn run_one(
    interp: &Interpreter,
    file: &Path,
    cwd: &Path,
    expected: Option<&str>,
) -> Result<(), String> {
    let mut child = interp
        .command()
        .arg("-I")
        .arg(file)
        .current_dir(cwd)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", interp.program))?;
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if started.elapsed() > TIMEOUT => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("still running after {} s", TIMEOUT.as_secs()));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(5)),
            Err(e) => return Err(e.to_string()),
        }
    };
    let mut stdout = String::new();
    let mut stderr = String::new();
    if let Some(mut s) = child.stdout.take() {
        let _ = s.read_to_string(&mut stdout);
    }
    if let Some(mut s) = child.stderr.take() {
        let _ = s.read_to_string(&mut stderr);
    }
    if !status.success() {
        let last = stderr.lines().last().unwrap_or("").to_string();
        return Err(format!("exited with {status}: {last}"));
    }
    if let Some(expected) = expected {
        let norm = |s: &str| s.replace("\r\n", "\n").trim_end().to_string();
        if norm(&stdout) != norm(expected) {
            return Err(format!(
                "printed\n{}\nbut the bank says it prints\n{}",
                norm(&stdout),
                norm(expected)
            ));
        }
    }
    Ok(())
}
