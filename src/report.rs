//! How a failed command is told to the user: [`report`] asks the causes of an error in
//! turn (see [`Diagnose`]), prints `error:` once, the problem lines, a `caused by:` line
//! per cause and the `hint:`, and returns the exit status. It names every layer's error
//! type, so it sits at the top of the module graph, beside the commands.

use std::io::Write;

use crate::error::{Diagnose, ExitStatus, UserError};
use crate::style::Style;

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
