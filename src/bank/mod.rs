//! The question bank: questions with their rubrics, loaded from TOML (embedded or from a
//! folder), validated, and selected for a session.
//!
//! The format is described in `docs/bank-format.md`.

mod check;
pub mod examples;
pub(crate) mod parse;
mod select;

use std::collections::HashMap;
use std::fmt;
use std::path::PathBuf;

use serde::Serialize;

pub use check::minimum_problems;
pub use parse::parse_file;
pub use select::{Selection, SelectionError, select};

include!(concat!(env!("OUT_DIR"), "/embedded_bank.rs"));

/// How hard a question is meant to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Expected of a mid-level engineer.
    Mid,
    /// Expected of a senior engineer.
    Senior,
    /// Expected of a staff engineer.
    Staff,
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Level::Mid => "mid",
            Level::Senior => "senior",
            Level::Staff => "staff",
        })
    }
}

impl std::str::FromStr for Level {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "mid" => Ok(Level::Mid),
            "senior" => Ok(Level::Senior),
            "staff" => Ok(Level::Staff),
            other => Err(format!("unknown level `{other}`: expected mid, senior or staff")),
        }
    }
}

/// How badly a red flag counts against an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Caps the score: the answer would fail the question in a real interview.
    Critical,
    /// Lowers the score.
    Minor,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Critical => "critical",
            Severity::Minor => "minor",
        })
    }
}

/// A runnable code example shown with the reference answer.
#[derive(Debug, Clone, Serialize)]
pub struct Example {
    /// Python source.
    pub code: String,
    /// Exactly what the code prints, when it prints anything worth checking.
    pub output: Option<String>,
    /// Oldest CPython the example needs, as "3.12".
    pub min_python: Option<String>,
}

/// One thing a strong answer explains.
#[derive(Debug, Clone, Serialize)]
pub struct KeyPoint {
    /// Stable id, unique within its question or follow-up.
    pub id: String,
    /// The claim, as a grader reads it.
    pub point: String,
    /// Relative importance, 1 to 3.
    pub weight: u32,
    /// Phrasings the offline grader looks for.
    pub cues: Vec<String>,
}

/// A wrong or dangerous claim that counts against an answer.
#[derive(Debug, Clone, Serialize)]
pub struct RedFlag {
    /// Stable id, unique within its question or follow-up.
    pub id: String,
    /// The claim, as a grader reads it.
    pub point: String,
    /// How much it counts.
    pub severity: Severity,
    /// Phrasings the offline grader looks for.
    pub cues: Vec<String>,
}

/// What an answer is graded against: key points and red flags.
#[derive(Debug, Clone, Copy)]
pub struct Rubric<'a> {
    /// A strong answer in the bank's own words: one way to make the points, not the
    /// required wording.
    pub reference: &'a str,
    /// What the interviewer is really testing.
    pub testing: &'a str,
    /// What a strong answer covers.
    pub key_points: &'a [KeyPoint],
    /// What a strong answer must not claim.
    pub red_flags: &'a [RedFlag],
}

/// A question the interviewer may ask after the main one.
#[derive(Debug, Clone, Serialize)]
pub struct FollowUp {
    /// Stable id, unique within its question.
    pub id: String,
    /// What the interviewer asks.
    pub prompt: String,
    /// What the interviewer is really testing.
    pub testing: String,
    /// Ids of the parent's key points this follow-up digs into.
    pub probes: Vec<String>,
    /// A short strong answer.
    pub answer: String,
    /// What a strong answer to the follow-up covers.
    pub key_points: Vec<KeyPoint>,
    /// What an answer to the follow-up must not claim.
    pub red_flags: Vec<RedFlag>,
}

impl FollowUp {
    /// The rubric this follow-up's answers are graded against.
    pub fn rubric(&self) -> Rubric<'_> {
        Rubric {
            reference: &self.answer,
            testing: &self.testing,
            key_points: &self.key_points,
            red_flags: &self.red_flags,
        }
    }
}

/// Where a question was defined, for messages.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Origin {
    /// The file, as shown to the user (`question_bank/x.toml` or a path under `--bank`).
    pub file: String,
    /// 1-based line of the question's `[[question]]` header.
    pub line: usize,
    /// The folder of the user's that holds it; `None` for the built-in bank.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub folder: Option<PathBuf>,
}

/// One interview question with its rubric.
#[derive(Debug, Clone, Serialize)]
pub struct Question {
    /// Stable kebab-case id, unique across the bank.
    pub id: String,
    /// The topic, also the file it lives in.
    pub topic: String,
    /// How hard it is.
    pub level: Level,
    /// Free-form tags.
    pub tags: Vec<String>,
    /// What the interviewer asks.
    pub prompt: String,
    /// What the interviewer is really testing.
    pub testing: String,
    /// A strong answer in the bank's own words.
    pub reference_answer: String,
    /// Runnable examples that go with the reference answer.
    pub examples: Vec<Example>,
    /// The guides the question comes from.
    pub sources: Vec<String>,
    /// The CPython version the facts were checked against.
    pub python: Option<String>,
    /// What a strong answer covers.
    pub key_points: Vec<KeyPoint>,
    /// What a strong answer must not claim.
    pub red_flags: Vec<RedFlag>,
    /// Questions that may follow.
    pub follow_ups: Vec<FollowUp>,
    /// Where it was defined.
    #[serde(skip)]
    pub origin: Origin,
}

impl Question {
    /// The rubric the main answer is graded against.
    pub fn rubric(&self) -> Rubric<'_> {
        Rubric {
            reference: &self.reference_answer,
            testing: &self.testing,
            key_points: &self.key_points,
            red_flags: &self.red_flags,
        }
    }

    /// The follow-up with this id.
    pub fn follow_up(&self, id: &str) -> Option<&FollowUp> {
        self.follow_ups.iter().find(|f| f.id == id)
    }

    /// A short stable hash of what grading an answer to this question reads: the prompt,
    /// the rubric (what is tested, the key points with their weights and cues, the red
    /// flags) and the reference answer, and the same of each follow-up (whose turns
    /// record this hash too). Tags, sources, level and examples are left out: editing
    /// them changes no grade, so it must not mark past sessions as asked differently.
    pub fn content_hash(&self) -> String {
        let json = serde_json::to_vec(&hashed::Graded::of(self)).unwrap_or_default();
        crate::util::short_hash(&json)
    }

    /// Whether a turn that recorded `hash` was asked this question as it grades now.
    /// Transcripts written before [`Question::content_hash`] covered grading alone
    /// recorded a hash of the whole question; either is accepted, so upgrading marks no
    /// old session as changed, while any later edit still shows (it changes both).
    pub fn unchanged_since(&self, hash: &str) -> bool {
        hash == self.content_hash() || hash == hashed::whole(self)
    }
}

/// Where the bank came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BankSource {
    /// Compiled into the binary.
    Embedded,
    /// One folder, alone (`bank check DIR`, or `--no-builtin-bank` with one `--bank`).
    Dir(PathBuf),
    /// Folders layered over the built-in bank, or several folders without it.
    Layers {
        /// Whether the built-in bank is one of the layers (the first).
        builtin: bool,
        /// The folders, in order.
        dirs: Vec<PathBuf>,
    },
}

impl fmt::Display for BankSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BankSource::Embedded => f.write_str("built-in bank"),
            BankSource::Dir(p) => write!(f, "{}", p.display()),
            BankSource::Layers { builtin, dirs } => {
                let mut names: Vec<String> = dirs.iter().map(|d| d.display().to_string()).collect();
                if *builtin {
                    names.insert(0, "built-in bank".into());
                }
                f.write_str(&names.join(" + "))
            }
        }
    }
}

/// A problem found in a bank file, located as precisely as the file allows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// The file, as shown to the user.
    pub file: String,
    /// 1-based line, 0 when the problem concerns the whole file.
    pub line: usize,
    /// 1-based column, 0 when unknown.
    pub column: usize,
    /// The question concerned, when there is one.
    pub question: Option<String>,
    /// What is wrong, and what to do.
    pub message: String,
    /// The offending line of the file, for a caret display.
    #[serde(skip)]
    pub excerpt: Option<String>,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", crate::scrub::controls(&self.file))?;
        if self.line > 0 {
            write!(f, ":{}", self.line)?;
            if self.column > 0 {
                write!(f, ":{}", self.column)?;
            }
        }
        f.write_str(": ")?;
        if let Some(q) = &self.question {
            write!(f, "[{}] ", crate::scrub::controls(q))?;
        }
        f.write_str(&crate::scrub::controls(&self.message))?;
        if let Some(text) = &self.excerpt {
            let (shown, caret) = excerpt_around(text, self.column);
            write!(f, "\n    | {shown}\n    | {}^", " ".repeat(caret))?;
        }
        Ok(())
    }
}

/// Characters of a long line shown on each side of the column, so that a minified or
/// generated 70 KB line prints as one readable excerpt.
const EXCERPT_SIDE: usize = 40;

/// The part of `line` around the 1-based `column` (in characters), safe to print:
/// forbidden characters become U+FFFD one for one, so the caret stays aligned, and a long
/// line is cut to [`EXCERPT_SIDE`] characters each side, `…` marking the cuts. Returns
/// the text and how many characters precede the caret.
pub(crate) fn excerpt_around(line: &str, column: usize) -> (String, usize) {
    let total = line.chars().count();
    let at = column.saturating_sub(1).min(total);
    let start = at.saturating_sub(EXCERPT_SIDE);
    let end = at.saturating_add(EXCERPT_SIDE).min(total);
    let mut shown = String::new();
    let mut caret = at - start;
    if start > 0 {
        shown.push('…');
        caret = caret.saturating_add(1);
    }
    shown.extend(
        line.chars().skip(start).take(end - start).map(|c| if crate::scrub::is_forbidden(c) { '\u{FFFD}' } else { c }),
    );
    if end < total {
        shown.push('…');
    }
    (shown, caret)
}

/// Whether `s` is kebab-case (lowercase letters, digits and inner `-`): the form of every
/// id in a bank.
pub fn is_kebab(s: &str) -> bool {
    !s.is_empty()
        && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

/// A bank that could not be loaded: every problem found, in file order.
#[derive(Debug, thiserror::Error)]
#[error("the question bank ({source_name}) has {} problem(s)", problems.len())]
pub struct BankError {
    /// Where the bank came from, for the message.
    pub source_name: String,
    /// What is wrong.
    pub problems: Vec<Problem>,
}

impl crate::error::Diagnose for BankError {
    fn exit(&self) -> crate::error::ExitStatus {
        crate::error::ExitStatus::Failure
    }

    fn details(&self) -> Vec<String> {
        self.problems.iter().map(ToString::to_string).collect()
    }
}

/// The `*.toml` files of `dir`, sorted. Anything that is not a regular file (after
/// following a symlink) is skipped with a warning: reading a FIFO would block forever
/// and a folder cannot be read at all.
pub(crate) fn toml_files(dir: &std::path::Path) -> std::io::Result<Vec<PathBuf>> {
    let mut paths = Vec::new();
    for entry in std::fs::read_dir(dir)?.filter_map(Result::ok) {
        let path = entry.path();
        if path.extension().is_none_or(|x| x != "toml") {
            continue;
        }
        if std::fs::metadata(&path).is_ok_and(|m| m.is_file()) {
            paths.push(path);
        } else {
            let shown = path.display().to_string();
            eprintln!("warning: skipped {}: not a regular file", crate::scrub::controls(&shown));
        }
    }
    paths.sort();
    Ok(paths)
}

/// The built-in bank's files, named as the repository names them.
fn embedded_files() -> impl Iterator<Item = (String, String)> {
    EMBEDDED_BANK.iter().map(|(name, text)| (format!("question_bank/{name}"), text.to_string()))
}

/// The loaded, validated bank.
#[derive(Debug, Clone)]
pub struct Bank {
    questions: Vec<Question>,
    by_id: HashMap<String, usize>,
    source: BankSource,
}

impl Bank {
    /// Loads the bank compiled into the binary.
    pub fn embedded() -> Result<Bank, BankError> {
        Bank::from_files(embedded_files(), BankSource::Embedded)
    }

    /// Loads every `*.toml` file of a folder.
    pub fn from_dir(dir: &std::path::Path) -> Result<Bank, BankError> {
        Bank::load(Vec::new(), &[dir.to_path_buf()], BankSource::Dir(dir.to_path_buf()))
    }

    /// The bank in use: the built-in questions (unless `builtin` is off) and every folder's,
    /// in order. An id defined in two layers is an error naming both files, as within one.
    pub fn layered(builtin: bool, dirs: &[PathBuf]) -> Result<Bank, BankError> {
        let source = match (builtin, dirs) {
            (true, []) => return Bank::embedded(),
            (false, [one]) => return Bank::from_dir(one),
            (false, []) => {
                return Err(BankError {
                    source_name: "the bank".into(),
                    problems: vec![Problem {
                        file: "settings".into(),
                        line: 0,
                        column: 0,
                        question: None,
                        message: "no questions to ask: the built-in bank is left out (`--no-builtin-bank` or \
                                  `builtin_bank`) and no `--bank` folder is given"
                            .into(),
                        excerpt: None,
                    }],
                });
            }
            _ => BankSource::Layers { builtin, dirs: dirs.to_vec() },
        };
        let embedded = if builtin { embedded_files().collect() } else { Vec::new() };
        Bank::load(embedded, dirs, source)
    }

    /// Builds a bank from the built-in files given and every `*.toml` file of `dirs`,
    /// reporting every problem of every file.
    fn load(mut files: Vec<(String, String)>, dirs: &[PathBuf], source: BankSource) -> Result<Bank, BankError> {
        let source_name = source.to_string();
        let mut problems = Vec::new();
        let mut folder_of: HashMap<String, PathBuf> = HashMap::new();
        for dir in dirs {
            let shown_dir = dir.display().to_string();
            let fail = |message: String| Problem {
                file: shown_dir.clone(),
                line: 0,
                column: 0,
                question: None,
                message,
                excerpt: None,
            };
            let paths = match toml_files(dir) {
                Ok(paths) if paths.is_empty() => {
                    problems.push(fail("no *.toml question files in this folder".into()));
                    continue;
                }
                Ok(paths) => paths,
                Err(e) => {
                    problems.push(fail(format!("cannot read the folder: {e}")));
                    continue;
                }
            };
            for path in paths {
                let shown = path.display().to_string();
                let problem = |message: String| Problem {
                    file: shown.clone(),
                    line: 0,
                    column: 0,
                    question: None,
                    message,
                    excerpt: None,
                };
                match std::fs::read(&path) {
                    Ok(bytes) => match String::from_utf8(bytes) {
                        Ok(text) => {
                            folder_of.insert(shown.clone(), dir.clone());
                            files.push((shown, text));
                        }
                        Err(e) => problems.push(problem(format!(
                            "not UTF-8 text (invalid byte at offset {})",
                            e.utf8_error().valid_up_to()
                        ))),
                    },
                    Err(e) => problems.push(problem(format!("cannot read: {e}"))),
                }
            }
        }
        match Bank::from_files(files, source) {
            Ok(mut bank) if problems.is_empty() => {
                for q in &mut bank.questions {
                    q.origin.folder = folder_of.get(&q.origin.file).cloned();
                }
                Ok(bank)
            }
            Ok(_) => Err(BankError { source_name, problems }),
            Err(mut e) => {
                problems.append(&mut e.problems);
                Err(BankError { source_name, problems })
            }
        }
    }

    /// Builds a bank from (shown name, text) pairs, reporting every problem of every file.
    pub fn from_files(
        files: impl IntoIterator<Item = (String, String)>,
        source: BankSource,
    ) -> Result<Bank, BankError> {
        let mut questions: Vec<Question> = Vec::new();
        let mut problems = Vec::new();
        for (name, text) in files {
            let parsed = parse_file(&name, &text);
            problems.extend(parsed.problems);
            questions.extend(parsed.questions);
        }
        let mut by_id: HashMap<String, usize> = HashMap::new();
        for (i, q) in questions.iter().enumerate() {
            if let Some(&first) = by_id.get(&q.id) {
                let first = &questions[first].origin;
                problems.push(Problem {
                    file: q.origin.file.clone(),
                    line: q.origin.line,
                    column: 1,
                    question: Some(q.id.clone()),
                    message: format!("duplicate question id: first defined at {}:{}", first.file, first.line),
                    excerpt: None,
                });
            } else {
                by_id.insert(q.id.clone(), i);
            }
        }
        if problems.is_empty() {
            Ok(Bank { questions, by_id, source })
        } else {
            Err(BankError { source_name: source.to_string(), problems })
        }
    }

    /// Every question, in file order.
    pub fn questions(&self) -> &[Question] {
        &self.questions
    }

    /// The question with this id.
    pub fn get(&self, id: &str) -> Option<&Question> {
        self.by_id.get(id).map(|&i| &self.questions[i])
    }

    /// Where the bank came from.
    pub fn source(&self) -> &BankSource {
        &self.source
    }

    /// The topics, sorted, each once.
    pub fn topics(&self) -> Vec<&str> {
        let mut t: Vec<&str> = self.questions.iter().map(|q| q.topic.as_str()).collect();
        t.sort_unstable();
        t.dedup();
        t
    }

    /// Ids close to `wanted`, for "did you mean" hints.
    pub fn similar_ids(&self, wanted: &str) -> Vec<&str> {
        let mut scored: Vec<(usize, &str)> = self
            .questions
            .iter()
            .map(|q| (crate::util::edit_distance(wanted, &q.id), q.id.as_str()))
            .filter(|(d, id)| *d <= 3 || id.contains(wanted))
            .collect();
        scored.sort();
        scored.into_iter().take(3).map(|(_, id)| id).collect()
    }
}

/// What the question hashes cover, spelled out field by field so that a new field on
/// the bank's types changes no hash by accident.
mod hashed {
    use serde::Serialize;

    use super::{Example, FollowUp, KeyPoint, Level, Question, RedFlag, Severity};

    #[derive(Serialize)]
    struct Point<'a> {
        id: &'a str,
        point: &'a str,
        weight: u32,
        cues: &'a [String],
    }

    #[derive(Serialize)]
    struct Flag<'a> {
        id: &'a str,
        point: &'a str,
        severity: Severity,
        cues: &'a [String],
    }

    fn points(k: &[KeyPoint]) -> Vec<Point<'_>> {
        k.iter().map(|k| Point { id: &k.id, point: &k.point, weight: k.weight, cues: &k.cues }).collect()
    }

    fn flags(f: &[RedFlag]) -> Vec<Flag<'_>> {
        f.iter().map(|f| Flag { id: &f.id, point: &f.point, severity: f.severity, cues: &f.cues }).collect()
    }

    /// What grading reads.
    #[derive(Serialize)]
    pub(super) struct Graded<'a> {
        prompt: &'a str,
        testing: &'a str,
        reference_answer: &'a str,
        key_points: Vec<Point<'a>>,
        red_flags: Vec<Flag<'a>>,
        follow_ups: Vec<GradedFollowUp<'a>>,
    }

    #[derive(Serialize)]
    struct GradedFollowUp<'a> {
        id: &'a str,
        prompt: &'a str,
        testing: &'a str,
        answer: &'a str,
        key_points: Vec<Point<'a>>,
        red_flags: Vec<Flag<'a>>,
    }

    impl<'a> Graded<'a> {
        pub(super) fn of(q: &'a Question) -> Graded<'a> {
            Graded {
                prompt: &q.prompt,
                testing: &q.testing,
                reference_answer: &q.reference_answer,
                key_points: points(&q.key_points),
                red_flags: flags(&q.red_flags),
                follow_ups: q
                    .follow_ups
                    .iter()
                    .map(|f| GradedFollowUp {
                        id: &f.id,
                        prompt: &f.prompt,
                        testing: &f.testing,
                        answer: &f.answer,
                        key_points: points(&f.key_points),
                        red_flags: flags(&f.red_flags),
                    })
                    .collect(),
            }
        }
    }

    /// The first scheme: the whole question as it serialised when transcripts began to
    /// record hashes (schema 1 to 3), frozen here so those hashes keep matching.
    pub(super) fn whole<'q>(q: &'q Question) -> String {
        #[derive(Serialize)]
        struct Whole<'a> {
            id: &'a str,
            topic: &'a str,
            level: Level,
            tags: &'a [String],
            prompt: &'a str,
            testing: &'a str,
            reference_answer: &'a str,
            examples: Vec<Ex<'a>>,
            sources: &'a [String],
            python: &'a Option<String>,
            key_points: Vec<Point<'a>>,
            red_flags: Vec<Flag<'a>>,
            follow_ups: Vec<Follow<'a>>,
        }
        #[derive(Serialize)]
        struct Ex<'a> {
            code: &'a str,
            output: &'a Option<String>,
            min_python: &'a Option<String>,
        }
        #[derive(Serialize)]
        struct Follow<'a> {
            id: &'a str,
            prompt: &'a str,
            testing: &'a str,
            probes: &'a [String],
            answer: &'a str,
            key_points: Vec<Point<'a>>,
            red_flags: Vec<Flag<'a>>,
        }
        let ex = |e: &'q Example| Ex { code: &e.code, output: &e.output, min_python: &e.min_python };
        let follow = |f: &'q FollowUp| Follow {
            id: &f.id,
            prompt: &f.prompt,
            testing: &f.testing,
            probes: &f.probes,
            answer: &f.answer,
            key_points: points(&f.key_points),
            red_flags: flags(&f.red_flags),
        };
        let w = Whole {
            id: &q.id,
            topic: &q.topic,
            level: q.level,
            tags: &q.tags,
            prompt: &q.prompt,
            testing: &q.testing,
            reference_answer: &q.reference_answer,
            examples: q.examples.iter().map(ex).collect(),
            sources: &q.sources,
            python: &q.python,
            key_points: points(&q.key_points),
            red_flags: flags(&q.red_flags),
            follow_ups: q.follow_ups.iter().map(follow).collect(),
        };
        crate::util::short_hash(&serde_json::to_vec(&w).unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excerpts_of_long_lines_stay_short_and_point_at_the_column() {
        assert_eq!(excerpt_around("short line", 7), ("short line".to_string(), 6));
        let long = format!("{}X{}", "a".repeat(100_000), "b".repeat(100_000));
        let (shown, caret) = excerpt_around(&long, 100_001);
        assert_eq!(shown, format!("…{}X{}…", "a".repeat(40), "b".repeat(39)));
        assert_eq!(shown.chars().nth(caret), Some('X'));
        // Columns past the end, at 0 or at usize::MAX never overflow.
        assert_eq!(excerpt_around("ab", usize::MAX), ("ab".to_string(), 2));
        assert_eq!(excerpt_around("ab", 0), ("ab".to_string(), 0));
        assert_eq!(excerpt_around("a\u{1b}[2Jb", 1), ("a\u{FFFD}[2Jb".to_string(), 0));
    }

    fn fixture(id: &str) -> Question {
        let bank =
            Bank::from_dir(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/bank")).unwrap();
        bank.get(id).unwrap().clone()
    }

    /// The hashes the fixture transcripts (schema 1 and 2) recorded for these questions.
    #[test]
    fn hashes_recorded_the_first_way_still_match() {
        for (id, recorded) in [("colours", "289f302d4834e77a"), ("tides", "c054fbd61b4e70f1")] {
            let q = fixture(id);
            assert_eq!(hashed::whole(&q), recorded, "{id}");
            assert_ne!(q.content_hash(), recorded, "{id}: the new scheme differs");
            assert!(q.unchanged_since(recorded), "{id}");
            assert!(q.unchanged_since(&q.content_hash()), "{id}");
        }
    }

    #[test]
    fn only_what_grading_reads_changes_the_hash() {
        let q = fixture("colours");
        let (new, old) = (q.content_hash(), hashed::whole(&q));
        let mut edited = q.clone();
        edited.tags.push("art".into());
        edited.sources.push("a book".into());
        edited.level = Level::Staff;
        edited.python = Some("3.14".into());
        assert_eq!(edited.content_hash(), new, "tags, sources, level and python are not graded");
        assert!(edited.unchanged_since(&new));
        assert!(!edited.unchanged_since(&old), "an old session that predates a tag edit cannot tell it apart");
        let graded: [fn(&mut Question); 6] = [
            |q| q.prompt.push('?'),
            |q| q.testing.push('.'),
            |q| q.reference_answer.push('.'),
            |q| q.key_points[0].weight += 1,
            |q| q.key_points[0].cues.push("verdant".into()),
            |q| q.red_flags[0].severity = Severity::Minor,
        ];
        for (n, edit) in graded.iter().enumerate() {
            let mut e = q.clone();
            edit(&mut e);
            assert!(!e.unchanged_since(&new) && !e.unchanged_since(&old), "edit {n} changes grading");
        }
        let mut e = q.clone();
        e.follow_ups[0].key_points[0].point.push('.');
        assert!(!e.unchanged_since(&new), "a follow-up's rubric is graded too");
    }

    #[test]
    fn a_problem_at_a_huge_column_displays() {
        let p = Problem {
            file: "f.toml".into(),
            line: 1,
            column: usize::MAX,
            question: None,
            message: "bad".into(),
            excerpt: Some("x".repeat(70_000)),
        };
        let shown = p.to_string();
        assert!(shown.len() < 200, "{shown}");
    }
}
