//! What `grill bank list|show|check --json` print.

use serde::Serialize;

use crate::bank::{Level, Problem, Question};

/// The version of `bank list`'s shape; bumped when a field is renamed, removed or changes
/// meaning. Likewise [`SHOW_SCHEMA`] and [`CHECK_SCHEMA`].
pub const LIST_SCHEMA: &str = "grill.bank.list/1";
/// The version of `bank show`'s shape.
pub const SHOW_SCHEMA: &str = "grill.bank.show/1";
/// The version of `bank check`'s shape.
pub const CHECK_SCHEMA: &str = "grill.bank.check/1";

/// The questions of the bank in use (of one topic, with `--topic`).
#[derive(Debug, Serialize)]
pub struct ListOutput<'a> {
    /// Always `"grill.bank.list/1"`.
    pub schema: &'static str,
    /// Where the bank came from: `"built-in bank"` or the folder given.
    pub source: String,
    /// The questions, in bank order.
    pub questions: Vec<QuestionRow<'a>>,
}

/// One question, in brief (`grill bank show ID --json` has all of it).
#[derive(Debug, Serialize)]
pub struct QuestionRow<'a> {
    /// Its id, as `--question` takes it.
    pub id: &'a str,
    /// Its topic, as `--topic` takes it.
    pub topic: &'a str,
    /// `mid`, `senior` or `staff`.
    pub level: Level,
    /// Free-form tags.
    pub tags: &'a [String],
    /// What the interviewer asks.
    pub prompt: &'a str,
    /// How many key points its rubric has.
    pub key_points: usize,
    /// How many follow-ups it has.
    pub follow_ups: usize,
    /// The file that defines it: `question_bank/<topic>.toml` for the built-in bank, or a
    /// path in one of your folders.
    pub file: &'a str,
}

impl<'a> QuestionRow<'a> {
    /// The row for `q`.
    pub fn new(q: &'a Question) -> QuestionRow<'a> {
        QuestionRow {
            id: &q.id,
            topic: &q.topic,
            level: q.level,
            tags: &q.tags,
            prompt: &q.prompt,
            key_points: q.key_points.len(),
            follow_ups: q.follow_ups.len(),
            file: &q.origin.file,
        }
    }
}

/// One question, whole: its own fields as the bank defines them, then where it is defined.
#[derive(Debug, Serialize)]
pub struct ShowOutput<'a> {
    /// Always `"grill.bank.show/1"`.
    pub schema: &'static str,
    /// The question's fields, at the top level: `id`, `topic`, `level`, `tags`, `prompt`,
    /// `testing`, `reference_answer`, `examples`, `sources`, `python`, `key_points`,
    /// `red_flags` and `follow_ups` (see `docs/bank-format.md`).
    #[serde(flatten)]
    pub question: &'a Question,
    /// The file it is defined in, as `bank check` names it.
    pub file: &'a str,
    /// The 1-based line of its `[[question]]` header.
    pub line: usize,
}

impl<'a> ShowOutput<'a> {
    /// The output for `q`.
    pub fn new(q: &'a Question) -> ShowOutput<'a> {
        ShowOutput { schema: SHOW_SCHEMA, question: q, file: &q.origin.file, line: q.origin.line }
    }
}

/// What `bank check` found.
#[derive(Debug, Serialize)]
pub struct CheckOutput<'a> {
    /// Always `"grill.bank.check/1"`.
    pub schema: &'static str,
    /// The bank checked: `"built-in bank"` or the folder given.
    pub source: &'a str,
    /// How many questions loaded; 0 when a problem kept the bank from loading.
    pub questions: usize,
    /// Every problem, by file and line: `file`, `line` (0 for the whole file), `column`
    /// (0 when unknown), `question` (the id concerned, or `null`) and `message`. When there
    /// are any, grill exits with 1.
    pub problems: &'a [Problem],
}
