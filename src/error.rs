//! Errors at the edge: how a failed command is told to the user, and its exit code.
//!
//! One protocol: every layer's error type implements [`Diagnose`] (whose fault, what to
//! do), and [`report`] asks the causes of an error in turn, prints `error:` once, a
//! `caused by:` line per cause and the `hint:`, and returns the exit status.

use std::io::Write;

use crate::style::Style;

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

/// What an error says about itself at the top level: whose fault it is and what to do.
///
/// Each layer's error type answers for itself, beside its definition, so a new variant
/// gets its exit code and hint where it is written rather than in a list kept here.
pub trait Diagnose: std::error::Error {
    /// [`ExitStatus::Failure`] when the user's input is at fault (they can fix it and run
    /// again), [`ExitStatus::Error`] when something else failed.
    fn exit(&self) -> ExitStatus;

    /// What to do about it, when there is something to say.
    fn hint(&self) -> Option<String> {
        None
    }

    /// Lines listed under the message, one per problem (a bank's every bad field).
    fn details(&self) -> Vec<String> {
        Vec::new()
    }
}

impl Diagnose for UserError {
    fn exit(&self) -> ExitStatus {
        ExitStatus::Failure
    }

    fn hint(&self) -> Option<String> {
        self.hint.clone()
    }
}

/// Every type that implements [`Diagnose`], named once: a trait object cannot be asked
/// for another trait, so the causes of an error are matched against this list.
macro_rules! diagnosable {
    ($($t:ty),* $(,)?) => {
        /// The cause as a [`Diagnose`], when its type is one.
        fn diagnose<'e>(cause: &'e (dyn std::error::Error + 'static)) -> Option<&'e dyn Diagnose> {
            $(if let Some(d) = cause.downcast_ref::<$t>() {
                return Some(d);
            })*
            None
        }

        /// The same through anyhow, which also sees a typed value given to `.context()`
        /// (the chain shows such a value only as its text).
        fn diagnose_context(err: &anyhow::Error) -> Option<&dyn Diagnose> {
            $(if let Some(d) = err.downcast_ref::<$t>() {
                return Some(d);
            })*
            None
        }
    };
}

diagnosable!(
    UserError,
    crate::bank::BankError,
    crate::bank::SelectionError,
    crate::config::ConfigError,
    crate::eval::set::CalibrationError,
    crate::llm::LlmError,
    crate::prompts::PromptError,
    crate::transcript::TranscriptError,
);

/// How an error is told: its exit status, a hint and the problem lines. Each question is
/// answered by the outermost cause that has an answer, so context added on the way up
/// can override what a lower layer says, and an error no layer knows is
/// [`ExitStatus::Error`] with no hint.
#[derive(Debug, PartialEq, Eq)]
pub struct Diagnosis {
    /// The exit status.
    pub exit: ExitStatus,
    /// What to do.
    pub hint: Option<String>,
    /// One line per problem.
    pub details: Vec<String>,
}

impl Diagnosis {
    /// Asks each cause of `err`, outermost first.
    pub fn of(err: &anyhow::Error) -> Diagnosis {
        let mut known: Vec<&dyn Diagnose> = err.chain().filter_map(diagnose).collect();
        if err.chain().next().and_then(diagnose).is_none() {
            known.splice(0..0, diagnose_context(err));
        }
        Diagnosis {
            exit: known.first().map_or(ExitStatus::Error, |d| d.exit()),
            hint: known.iter().find_map(|d| d.hint()),
            details: known.iter().map(|d| d.details()).find(|d| !d.is_empty()).unwrap_or_default(),
        }
    }
}

/// Prints `err` once, as `error:` with its problems, causes and hint, and picks the exit
/// status. A broken pipe is not an error: the reader has what it wanted.
pub fn report(err: &anyhow::Error, style: &Style) -> ExitStatus {
    if is_broken_pipe(err) {
        return ExitStatus::Success;
    }
    let diagnosis = Diagnosis::of(err);
    let mut stderr = std::io::stderr().lock();
    let _ = writeln!(stderr, "{} {err}", style.bad("error:"));
    for line in &diagnosis.details {
        let _ = writeln!(stderr, "  {line}");
    }
    for cause in err.chain().skip(1) {
        let _ = writeln!(stderr, "  caused by: {cause}");
    }
    if let Some(h) = &diagnosis.hint {
        let _ = writeln!(stderr, "  {} {h}", style.dim("hint:"));
    }
    diagnosis.exit
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

    #[test]
    fn the_outermost_cause_that_answers_decides() {
        let endpoint = crate::llm::LlmError::Connect { url: "http://h/v1".into(), detail: "refused".into() };
        let d = Diagnosis::of(&anyhow::Error::from(endpoint).context("grading"));
        assert_eq!(d.exit, ExitStatus::Error);
        assert_eq!(
            d.hint.as_deref(),
            Some("is the server running? Check the address with `grill config` or `grill doctor`")
        );

        // A user error wrapped around an I/O error: the user's input decides.
        let inner = anyhow::Error::from(std::io::Error::other("disk"));
        let d = Diagnosis::of(&inner.context(UserError::new("bad file").hint("pick another")));
        assert_eq!(d, Diagnosis { exit: ExitStatus::Failure, hint: Some("pick another".into()), details: Vec::new() });

        // What no layer knows is not the user's fault.
        let d = Diagnosis::of(&anyhow::anyhow!("something broke"));
        assert_eq!(d, Diagnosis { exit: ExitStatus::Error, hint: None, details: Vec::new() });
    }
}
