//! The terminal edge of a session: where answers come from (rustyline or blocks on
//! standard input), what is printed, and the interview's grading thread. The state machine
//! it drives is [`crate::session`], which knows nothing of terminals.

pub mod checklist;
pub mod command;
pub mod editor;
pub mod input;
pub mod interview;
pub mod practice;
mod turn;

pub use turn::NOT_SAVED;
