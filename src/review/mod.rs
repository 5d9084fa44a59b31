//! Learning from past sessions: the transcript index, statistics and the spaced-repetition
//! schedule. Everything here is derived from the transcripts.

pub mod forecast;
pub mod index;
pub mod report;
pub mod schedule;
pub mod stats;
