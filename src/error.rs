//! The error protocol: exit statuses, the user's own mistakes, and [`Diagnose`], which
//! every layer's error type implements beside its definition (whose fault, what to do).
//! This module imports nothing of the crate, so every layer can use it; telling an error
//! to the user is the job of the `report` module, at the top.

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
