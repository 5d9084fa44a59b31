//! Errors at the edge: how a failed command is told to the user, and its exit code.

use std::io::Write;

use crate::bank::{BankError, SelectionError};
use crate::config::ConfigError;
use crate::eval::set::CalibrationError;
use crate::style::Style;
use crate::transcript::TranscriptError;

/// How a command ended, as an exit code: 0 ok, 1 the user's input is at fault (a bad
/// bank, an unknown id), 2 something else failed (I/O, an endpoint), 130 interrupted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// Done.
    Success,
    /// The input was at fault; the message says what to change.
    Failure,
    /// Something unexpected failed.
    Error,
    /// Ctrl-C.
    Interrupted,
}

impl From<ExitStatus> for std::process::ExitCode {
    fn from(s: ExitStatus) -> Self {
        std::process::ExitCode::from(match s {
            ExitStatus::Success => 0,
            ExitStatus::Failure => 1,
            ExitStatus::Error => 2,
            ExitStatus::Interrupted => 130,
        })
    }
}

/// A mistake in what the user asked for, with a hint on what to do.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct UserError {
    /// What is wrong.
    pub message: String,
    /// What to do about it.
    pub hint: Option<String>,
}

impl UserError {
    /// An error with no hint.
    pub fn new(message: impl Into<String>) -> UserError {
        UserError { message: message.into(), hint: None }
    }

    /// Adds a hint.
    pub fn hint(mut self, hint: impl Into<String>) -> UserError {
        self.hint = Some(hint.into());
        self
    }
}

/// Prints `err` once, as `error:` with its causes and a hint, and picks the exit status.
pub fn report(err: &anyhow::Error, style: &Style) -> ExitStatus {
    let mut stderr = std::io::stderr().lock();
    if is_broken_pipe(err) {
        return ExitStatus::Success;
    }
    let _ = writeln!(stderr, "{} {err}", style.bad("error:"));
    let problems = err
        .downcast_ref::<BankError>()
        .map(|b| &b.problems)
        .or_else(|| err.downcast_ref::<CalibrationError>().map(|c| &c.problems));
    for p in problems.into_iter().flatten() {
        let _ = writeln!(stderr, "  {p}");
    }
    for cause in err.chain().skip(1) {
        let _ = writeln!(stderr, "  caused by: {cause}");
    }
    let hint = err.downcast_ref::<UserError>().and_then(|u| u.hint.clone()).or_else(|| {
        err.downcast_ref::<ConfigError>()
            .map(|_| "fix the file or variable named above, then run `grill config` to check".to_string())
            .or_else(|| err.downcast_ref::<TranscriptError>().and_then(TranscriptError::hint))
    });
    if let Some(h) = hint {
        let _ = writeln!(stderr, "  {} {h}", style.dim("hint:"));
    }
    let user_fault = err.downcast_ref::<UserError>().is_some()
        || err.downcast_ref::<BankError>().is_some()
        || err.downcast_ref::<CalibrationError>().is_some()
        || err.downcast_ref::<SelectionError>().is_some()
        || err.downcast_ref::<ConfigError>().is_some()
        || err.downcast_ref::<TranscriptError>().is_some_and(TranscriptError::user_fault);
    if user_fault { ExitStatus::Failure } else { ExitStatus::Error }
}

/// Whether the reader of standard output went away (`grill ... | head`): that ends the
/// command quietly. `serde_json` keeps the io::Error inside its own error, whose
/// `source()` skips it, so it is asked directly.
pub fn is_broken_pipe(err: &anyhow::Error) -> bool {
    use std::io::ErrorKind::BrokenPipe;
    err.chain().any(|c| {
        c.downcast_ref::<std::io::Error>().is_some_and(|e| e.kind() == BrokenPipe)
            || c.downcast_ref::<serde_json::Error>().is_some_and(|e| e.io_error_kind() == Some(BrokenPipe))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_broken_pipe_is_found_inside_json_and_context() {
        let pipe = || std::io::Error::from(std::io::ErrorKind::BrokenPipe);
        assert!(is_broken_pipe(&anyhow::Error::from(pipe())));
        assert!(is_broken_pipe(&anyhow::Error::from(serde_json::Error::io(pipe())).context("writing")));
        let other = serde_json::Error::io(std::io::Error::from(std::io::ErrorKind::PermissionDenied));
        assert!(!is_broken_pipe(&anyhow::Error::from(other)));
    }
}
