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
        format!("{}.{} ({}{})", self.version.0, self.version.1, env.concat(), self.program)
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
    // pyenv's versions, found on disk so that no `pyenv` command is needed.
    let pyenv_root = std::env::var_os("PYENV_ROOT")
        .map(std::path::PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".pyenv")));
    if let Some(root) = pyenv_root
        && let Ok(entries) = std::fs::read_dir(root.join("versions"))
    {
        let mut dirs: Vec<_> = entries.filter_map(Result::ok).map(|e| e.path()).collect();
        dirs.sort();
        for d in dirs {
            candidates.push((d.join("bin/python3").display().to_string(), vec![]));
        }
    }
    if let Ok(out) = Command::new("pyenv").args(["versions", "--bare"]).stderr(Stdio::null()).output() {
        for v in String::from_utf8_lossy(&out.stdout).lines().map(str::trim) {
            if v.chars().next().is_some_and(|c| c.is_ascii_digit()) && !v.contains('/') {
                candidates.push(("python".into(), vec![("PYENV_VERSION".into(), v.to_string())]));
            }
        }
    }
    let mut found: Vec<Interpreter> = Vec::new();
    for (program, env) in candidates {
        let probe = Command::new(&program)
            .envs(env.iter().map(|(k, v)| (k, v)))
            .args([
                "-c",
                "import sys; print(sys.version_info[0], sys.version_info[1], sys.implementation.name, sys.executable)",
            ])
            .stderr(Stdio::null())
            .output();
        let Ok(out) = probe else { continue };
        let text = String::from_utf8_lossy(&out.stdout);
        let parts: Vec<&str> = text.trim().splitn(4, ' ').collect();
        if let [maj, min, "cpython", exe] = parts.as_slice()
            && let (Ok(maj), Ok(min)) = (maj.parse(), min.parse())
            && (maj, min) >= OLDEST
            && !found.iter().any(|i| i.version == (maj, min))
        {
            // Run the interpreter itself rather than a version manager's shim: faster, and
            // the shim's choice cannot change under us.
            let (program, env) = if Path::new(exe).is_file() { (exe.to_string(), Vec::new()) } else { (program, env) };
            found.push(Interpreter { version: (maj, min), program, env });
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

/// Runs every example of `bank` under each interpreter from its `min_python` up, on as
/// many threads as the machine has cores (each run is a separate process).
pub fn run_all(bank: &Bank, interpreters: &[Interpreter], scratch: &Path) -> Report {
    struct Job<'a> {
        question: &'a str,
        example: usize,
        interpreter: &'a Interpreter,
        file: std::path::PathBuf,
        output: Option<&'a str>,
    }
    let mut report = Report::default();
    let mut jobs: Vec<Job<'_>> = Vec::new();
    for q in bank.questions() {
        for (n, ex) in q.examples.iter().enumerate() {
            let fail = |message: String| Failure { question: q.id.clone(), example: n + 1, interpreter: None, message };
            let min = match ex.min_python.as_deref().map(parse_version) {
                None => OLDEST,
                Some(Some(v)) => v,
                Some(None) => {
                    let given = crate::scrub::controls(ex.min_python.as_deref().unwrap_or_default());
                    let msg = format!("min_python \"{given}\" is not a version like \"3.12\"");
                    report.failures.push(fail(msg));
                    continue;
                }
            };
            let eligible: Vec<&Interpreter> = interpreters.iter().filter(|i| i.version >= min).collect();
            if eligible.is_empty() {
                let msg = format!("needs Python {}.{} or later, and none was found", min.0, min.1);
                report.failures.push(fail(msg));
                continue;
            }
            let file = scratch.join(format!("{}-{}.py", q.id, n + 1));
            if let Err(e) = std::fs::write(&file, &ex.code) {
                report.failures.push(fail(format!("cannot write {}: {e}", file.display())));
                continue;
            }
            for interpreter in eligible {
                jobs.push(Job {
                    question: &q.id,
                    example: n + 1,
                    interpreter,
                    file: file.clone(),
                    output: ex.output.as_deref(),
                });
            }
        }
    }
    report.runs = jobs.len();
    let next = std::sync::atomic::AtomicUsize::new(0);
    let failures = std::sync::Mutex::new(Vec::new());
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(job) = jobs.get(i) else { break };
                    if let Err(message) = run_one(job.interpreter, &job.file, scratch, job.output) {
                        let failure = Failure {
                            question: job.question.to_string(),
                            example: job.example,
                            interpreter: Some(job.interpreter.describe()),
                            message,
                        };
                        failures.lock().expect("no worker panics while holding it").push(failure);
                    }
                }
            });
        }
    });
    let mut failures = failures.into_inner().expect("the workers are done");
    failures.sort_by(|a, b| (&a.question, a.example, &a.interpreter).cmp(&(&b.question, b.example, &b.interpreter)));
    report.failures.extend(failures);
    report
}

fn run_one(interp: &Interpreter, file: &Path, cwd: &Path, expected: Option<&str>) -> Result<(), String> {
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
            return Err(format!("printed\n{}\nbut the bank says it prints\n{}", norm(&stdout), norm(expected)));
        }
    }
    Ok(())
}
