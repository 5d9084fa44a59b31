//! Fuzzing of every parser that reads text grill did not write itself: bank files,
//! calibration files, transcripts and grader replies.
//!
//! Inputs start from real files (the shipped bank, the fixtures, a transcript built from
//! the library's own types, a valid reply to a real rubric) and are then edited at random,
//! structurally (as JSON or TOML values) and as raw bytes, so that most of them get past
//! the first syntax check and reach the validation behind it.
//!
//! The property everywhere: the parser returns, `Ok` or `Err`, and never panics. A panic is
//! caught and reported with the place it happened and the input shrunk to a minimal one.
//! Cheap invariants ride along: errors name their file, a loaded transcript survives a
//! save and a reload unchanged, a parsed grade's score is within 0..=100.
//!
//! Each target runs a fixed number of cases from a fixed seed, so a run on CI is the same
//! run every time and fits its time budget; `PROPTEST_CASES=20000 cargo test --test fuzz`
//! runs longer locally. Failures found are kept in `proptest-regressions/fuzz.txt` and
//! replayed first on every run.

use std::cell::{Cell, RefCell};
use std::fmt::Debug;
use std::io::Write;
use std::panic;
use std::path::{Path, PathBuf};
use std::sync::{LazyLock, Once};

use chrono::DateTime;
use grill::bank::{Bank, BankSource, Level, Rubric, Selection, parse_file};
use grill::eval::set;
use grill::grade::guard::{Marker, MarkerKind};
use grill::grade::{Assessment, Feedback, FlagHit, Grade, PointVerdict, Verdict};
use grill::grade::{partial, reply};

use grill::grade::record::GradeRecord;
use grill::grade::record::GraderInfo;
use grill::grade::record::StructuredMode;
use grill::grade::record::Usage;
use grill::session::{Clock, Options, Session, Step};
use grill::transcript::{SCHEMA_VERSION, SessionMode, Status, Store, Transcript, TranscriptError, Turn};
use proptest::collection::{btree_map, vec};
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::{Config, FileFailurePersistence, RngSeed, TestCaseError, TestRunner};
use serde_json::{Value, json};

/// The seed of every target: a CI run repeats the last one exactly.
const SEED: u64 = 0x6772_696c_6c21;

/// Where failures are kept, relative to the package root (cargo runs tests from there).
const REGRESSIONS: &str = "proptest-regressions/fuzz.txt";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

// ---------------------------------------------------------------------------------------
// The harness: a fixed budget, a fixed seed, panics caught with their location.

thread_local! {
    static QUIET: Cell<bool> = const { Cell::new(false) };
    static LAST_PANIC: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// The default hook would print every panic met while shrinking (thousands of lines); the
/// message and location are kept for the failure report instead. Panics outside a fuzzed
/// call, such as a test's own failure, still go to the default hook.
fn install_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let default = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if QUIET.get() {
                LAST_PANIC.set(Some(info.to_string()));
            } else {
                default(info);
            }
        }));
    });
}

/// Runs `f`; a panic becomes a test failure naming where it happened.
fn no_panic<T>(what: &str, f: impl FnOnce() -> T) -> Result<T, TestCaseError> {
    install_hook();
    QUIET.set(true);
    let out = panic::catch_unwind(panic::AssertUnwindSafe(f));
    QUIET.set(false);
    out.map_err(|_| TestCaseError::fail(format!("{what} panicked: {}", LAST_PANIC.take().unwrap_or_default())))
}

fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES").ok().and_then(|s| s.parse().ok()).unwrap_or(default)
}

/// Tallies of one target, printed at its end so a run's size can be quoted.
#[derive(Default)]
struct Tally {
    calls: Cell<u64>,
    ok: Cell<u64>,
    err: Cell<u64>,
}

impl Tally {
    fn outcome<T, E>(&self, r: &Result<T, E>) {
        let c = if r.is_ok() { &self.ok } else { &self.err };
        c.set(c.get() + 1);
    }
}

/// Runs `check` on `default_cases` inputs (or `PROPTEST_CASES`) and fails with the
/// smallest failing input found.
fn fuzz<S>(name: &str, default_cases: u32, strategy: S, check: impl Fn(S::Value, &Tally) -> Result<(), TestCaseError>)
where
    S: Strategy,
    S::Value: Debug,
{
    let cases = cases(default_cases);
    let config = Config {
        cases,
        source_file: Some(file!()),
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(REGRESSIONS))),
        rng_seed: RngSeed::Fixed(SEED),
        ..Config::default()
    };
    let tally = Tally::default();
    let started = std::time::Instant::now();
    let result = TestRunner::new(config).run(&strategy, |value| {
        tally.calls.set(tally.calls.get() + 1);
        check(value, &tally)
    });
    let secs = started.elapsed().as_secs_f64();
    match result {
        Ok(()) => {
            // Straight to stderr, past the test harness's capture, so that CI's log shows
            // how much was run.
            let line = format!(
                "fuzz {name}: {cases} cases passed ({} calls, {} Ok, {} Err), 0 panics, {secs:.1} s\n",
                tally.calls.get(),
                tally.ok.get(),
                tally.err.get()
            );
            let _ = std::io::stderr().write_all(line.as_bytes());
        }
        Err(e) => panic!("fuzz {name}: failed after {} calls in {secs:.1} s: {e}", tally.calls.get()),
    }
}

// ---------------------------------------------------------------------------------------
// Byte-level edits, for any text format.

/// Text that parsers tend to trip on.
const NASTY: &[&str] = &[
    "\0",
    "\u{1b}",
    "\u{1b}[2J\u{1b}[31m",
    "\r",
    "\r\n",
    "\t",
    "\u{7f}",
    "\u{feff}",
    "\u{202e}",
    "\u{300}",
    "é",
    "👍🏽",
    "\u{10ffff}",
    "\"",
    "'",
    "'''",
    "\"\"\"",
    "\\",
    "\\u",
    "\\uD800",
    "\\u0000",
    "=",
    "[",
    "]",
    "[[",
    "]]",
    "{",
    "}",
    ",",
    ":",
    "#",
    "\n",
    "[[question]]\n",
    "[[question.key_points]]\n",
    "[[question.follow_ups]]\n",
    "[[answer]]\n",
    "id = \"x\"\n",
    "id = \"\"\n",
    "weight = 9223372036854775807\n",
    "weight = -9223372036854775808\n",
    "99999999999999999999999999999",
    "-9223372036854775809",
    "18446744073709551616",
    "1e400",
    "-0",
    "0.5",
    "NaN",
    "nan",
    "inf",
    "true",
    "null",
    "[]",
    "{}",
    "\"\"",
    "<think>",
    "</think>",
    "```json\n",
    "```",
    "...",
    "…",
    "’",
    "“",
];

/// A piece of text to insert; `Long` and `Nest` render large but print small.
#[derive(Debug, Clone)]
enum Piece {
    Byte(u8),
    Text(&'static str),
    /// A very long run of one character, then a small piece: a problem far out on a line.
    Long(char, usize, Box<Piece>),
    /// Deep nesting: `depth` openers, and the closers when `close`.
    Nest(&'static str, &'static str, usize, bool),
}

impl Piece {
    fn render(&self, out: &mut Vec<u8>) {
        match self {
            Piece::Byte(b) => out.push(*b),
            Piece::Text(t) => out.extend_from_slice(t.as_bytes()),
            Piece::Long(c, n, tail) => {
                out.extend(c.to_string().repeat(*n).bytes());
                tail.render(out);
            }
            Piece::Nest(open, close, depth, closed) => {
                out.extend(open.repeat(*depth).bytes());
                if *closed {
                    out.extend(close.repeat(*depth).bytes());
                }
            }
        }
    }
}

fn small_piece() -> impl Strategy<Value = Piece> {
    prop_oneof![
        prop_oneof![0u8..0x20, Just(0x7f), 0x80u8..=0xff].prop_map(Piece::Byte),
        proptest::sample::select(NASTY).prop_map(Piece::Text),
    ]
}

fn piece() -> impl Strategy<Value = Piece> {
    prop_oneof![
        6 => small_piece(),
        1 => (
            proptest::sample::select(&['x', ' ', 'é', '"'][..]),
            prop_oneof![Just(70_000usize), Just(65_536), 1usize..400],
            small_piece()
        )
            .prop_map(|(c, n, tail)| Piece::Long(c, n, Box::new(tail))),
        1 => (
            proptest::sample::select(&[("[", "]"), ("{", "}"), ("{\"a\":", "}"), ("a = [", "]"), ("x = {y = ", "}")][..]),
            prop_oneof![1usize..200, Just(5_000)],
            any::<bool>()
        )
            .prop_map(|((o, c), d, closed)| Piece::Nest(o, c, d, closed)),
    ]
}

#[derive(Debug, Clone)]
enum Edit {
    Flip(Index, u8),
    Truncate(Index),
    DeleteRange(Index, u8),
    DeleteLine(Index),
    DuplicateLine(Index),
    SwapLines(Index, Index),
    /// Swaps what follows `=` or `:` on two lines: a value moved to another field.
    SwapValues(Index, Index),
    Insert(Index, Piece),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        1 => (any::<Index>(), 1u8..=255).prop_map(|(i, m)| Edit::Flip(i, m)),
        1 => any::<Index>().prop_map(Edit::Truncate),
        1 => (any::<Index>(), any::<u8>()).prop_map(|(i, n)| Edit::DeleteRange(i, n)),
        1 => any::<Index>().prop_map(Edit::DeleteLine),
        1 => any::<Index>().prop_map(Edit::DuplicateLine),
        1 => (any::<Index>(), any::<Index>()).prop_map(|(a, b)| Edit::SwapLines(a, b)),
        1 => (any::<Index>(), any::<Index>()).prop_map(|(a, b)| Edit::SwapValues(a, b)),
        3 => (any::<Index>(), piece()).prop_map(|(i, p)| Edit::Insert(i, p)),
    ]
}

fn lines(bytes: &[u8]) -> Vec<Vec<u8>> {
    bytes.split_inclusive(|&b| b == b'\n').map(<[u8]>::to_vec).collect()
}

fn apply_edits(mut bytes: Vec<u8>, edits: &[Edit]) -> Vec<u8> {
    for e in edits {
        match e {
            Edit::Flip(i, mask) if !bytes.is_empty() => {
                let i = i.index(bytes.len());
                bytes[i] ^= mask;
            }
            Edit::Truncate(i) => bytes.truncate(i.index(bytes.len() + 1)),
            Edit::DeleteRange(i, n) if !bytes.is_empty() => {
                let start = i.index(bytes.len());
                let end = (start + usize::from(*n)).min(bytes.len());
                bytes.drain(start..end);
            }
            Edit::DeleteLine(i) | Edit::DuplicateLine(i) => {
                let mut ls = lines(&bytes);
                if !ls.is_empty() {
                    let i = i.index(ls.len());
                    if matches!(e, Edit::DeleteLine(_)) {
                        ls.remove(i);
                    } else {
                        ls.insert(i, ls[i].clone());
                    }
                    bytes = ls.concat();
                }
            }
            Edit::SwapLines(a, b) => {
                let mut ls = lines(&bytes);
                if !ls.is_empty() {
                    let (a, b) = (a.index(ls.len()), b.index(ls.len()));
                    ls.swap(a, b);
                    bytes = ls.concat();
                }
            }
            Edit::SwapValues(a, b) => {
                let mut ls = lines(&bytes);
                let sep = |l: &[u8]| l.iter().position(|&c| c == b'=' || c == b':');
                let with: Vec<usize> = (0..ls.len()).filter(|&i| sep(&ls[i]).is_some()).collect();
                if !with.is_empty() {
                    let (a, b) = (with[a.index(with.len())], with[b.index(with.len())]);
                    let (sa, sb) = (sep(&ls[a]).unwrap() + 1, sep(&ls[b]).unwrap() + 1);
                    let (ta, tb) = (ls[a][sa..].to_vec(), ls[b][sb..].to_vec());
                    ls[a].truncate(sa);
                    ls[a].extend(tb);
                    ls[b].truncate(sb);
                    ls[b].extend(ta);
                    bytes = ls.concat();
                }
            }
            Edit::Insert(i, p) => {
                let at = i.index(bytes.len() + 1);
                let mut piece = Vec::new();
                p.render(&mut piece);
                bytes.splice(at..at, piece);
            }
            _ => {}
        }
    }
    bytes
}

// ---------------------------------------------------------------------------------------
// Structural edits, on a JSON value (transcripts, replies; TOML through its JSON form).

/// Field names of the formats, so that added fields collide with real ones.
const KEYS: &[&str] = &[
    "id",
    "verdict",
    "evidence",
    "hit",
    "holistic",
    "analysis",
    "feedback",
    "key_points",
    "red_flags",
    "schema_version",
    "plan",
    "turns",
    "question_id",
    "follow_up_id",
    "generated_for",
    "grades",
    "status",
    "kind",
    "weight",
    "cues",
    "probes",
    "question",
    "answer",
    "base",
];

fn wild_leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        prop_oneof![Just(1e308), Just(-0.0), Just(0.5), Just(2.5), Just(5.000001), any::<f64>()]
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        proptest::sample::select(NASTY).prop_map(|s| Value::String(s.to_string())),
        proptest::sample::select(KEYS).prop_map(|s| Value::String(s.to_string())),
        ".{0,24}".prop_map(Value::String),
    ]
}

fn wild_value() -> impl Strategy<Value = Value> {
    wild_leaf().prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..4).prop_map(Value::Array),
            btree_map(proptest::sample::select(KEYS).prop_map(str::to_string), inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

#[derive(Debug, Clone)]
enum JsonEdit {
    Replace(Vec<Index>, Value),
    /// Empties a string, array or object; zeroes a number.
    Empty(Vec<Index>),
    Remove(Vec<Index>, Index),
    Duplicate(Vec<Index>, Index),
    /// Swaps two members: two fields of one object exchange their values.
    Swap(Vec<Index>, Index, Index),
    Add(Vec<Index>, String, Value),
    /// Wraps the value in `depth` arrays.
    Nest(Vec<Index>, usize),
}

fn path() -> impl Strategy<Value = Vec<Index>> {
    vec(any::<Index>(), 0..6)
}

fn json_edit() -> impl Strategy<Value = JsonEdit> {
    prop_oneof![
        (path(), wild_value()).prop_map(|(p, v)| JsonEdit::Replace(p, v)),
        path().prop_map(JsonEdit::Empty),
        (path(), any::<Index>()).prop_map(|(p, i)| JsonEdit::Remove(p, i)),
        (path(), any::<Index>()).prop_map(|(p, i)| JsonEdit::Duplicate(p, i)),
        (path(), any::<Index>(), any::<Index>()).prop_map(|(p, a, b)| JsonEdit::Swap(p, a, b)),
        (path(), proptest::sample::select(KEYS), wild_value()).prop_map(|(p, k, v)| JsonEdit::Add(p, k.into(), v)),
        (path(), prop_oneof![1usize..8, Just(200)]).prop_map(|(p, d)| JsonEdit::Nest(p, d)),
    ]
}

/// Walks down as far as the path and the value allow.
fn walk<'a>(v: &'a mut Value, path: &[Index]) -> &'a mut Value {
    let Some((i, rest)) = path.split_first() else { return v };
    let n = match &*v {
        Value::Array(a) => a.len(),
        Value::Object(m) => m.len(),
        _ => 0,
    };
    if n == 0 {
        return v;
    }
    let child = match v {
        Value::Array(a) => &mut a[i.index(n)],
        Value::Object(m) => m.values_mut().nth(i.index(n)).expect("index below len"),
        _ => unreachable!("only containers have members"),
    };
    walk(child, rest)
}

fn apply_json_edits(v: &mut Value, edits: &[JsonEdit]) {
    for e in edits {
        match e {
            JsonEdit::Replace(p, new) => *walk(v, p) = new.clone(),
            JsonEdit::Empty(p) => {
                let t = walk(v, p);
                match t {
                    Value::String(s) => s.clear(),
                    Value::Array(a) => a.clear(),
                    Value::Object(m) => m.clear(),
                    Value::Number(_) => *t = json!(0),
                    _ => {}
                }
            }
            JsonEdit::Remove(p, i) => match walk(v, p) {
                Value::Array(a) if !a.is_empty() => {
                    a.remove(i.index(a.len()));
                }
                Value::Object(m) if !m.is_empty() => {
                    let key = m.keys().nth(i.index(m.len())).cloned().expect("index below len");
                    m.remove(&key);
                }
                _ => {}
            },
            JsonEdit::Duplicate(p, i) => {
                if let Value::Array(a) = walk(v, p)
                    && !a.is_empty()
                {
                    let i = i.index(a.len());
                    a.insert(i, a[i].clone());
                }
            }
            JsonEdit::Swap(p, x, y) => match walk(v, p) {
                Value::Array(a) if !a.is_empty() => {
                    let n = a.len();
                    a.swap(x.index(n), y.index(n));
                }
                Value::Object(m) if !m.is_empty() => {
                    let keys: Vec<String> = m.keys().cloned().collect();
                    let (kx, ky) = (&keys[x.index(keys.len())], &keys[y.index(keys.len())]);
                    let vx = m[kx].clone();
                    let vy = std::mem::replace(&mut m[ky], vx);
                    m[kx] = vy;
                }
                _ => {}
            },
            JsonEdit::Add(p, k, new) => match walk(v, p) {
                Value::Object(m) => {
                    m.insert(k.clone(), new.clone());
                }
                Value::Array(a) => a.push(new.clone()),
                _ => {}
            },
            JsonEdit::Nest(p, depth) => {
                let t = walk(v, p);
                for _ in 0..*depth {
                    *t = Value::Array(vec![t.take()]);
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// Real inputs to start from.

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn toml_files(dir: &Path) -> Vec<(String, String)> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("a readable folder").path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    paths.sort();
    paths.into_iter().map(|p| (p.strip_prefix(root()).unwrap_or(&p).display().to_string(), read(&p))).collect()
}

/// Bank files, smallest first (a shrunk failure lands on the smallest seed that fails).
static BANK_SEEDS: LazyLock<Vec<(String, String)>> = LazyLock::new(|| {
    let mut v = toml_files(&root().join("tests/fixtures/bank"));
    v.extend(toml_files(&root().join("tests/fixtures/broken")));
    v.extend(toml_files(&root().join("question_bank")));
    v.sort_by_key(|(_, t)| t.len());
    v
});

static CALIBRATION_SEEDS: LazyLock<Vec<(String, String)>> = LazyLock::new(|| {
    let mut v = toml_files(&root().join("question_bank/calibration"));
    v.sort_by_key(|(_, t)| t.len());
    v
});

static SHIPPED_BANK: LazyLock<Bank> = LazyLock::new(|| Bank::embedded().expect("the shipped bank loads"));

static SAMPLE_BANK: LazyLock<Bank> =
    LazyLock::new(|| Bank::from_dir(&root().join("tests/fixtures/bank")).expect("the sample bank loads"));

/// A schema-3 transcript using every optional field, as a session in progress.
fn current_transcript(waiting_for_grade: bool) -> Transcript {
    let q = SAMPLE_BANK.get("colours").expect("the sample bank has colours");
    let at = DateTime::parse_from_rfc3339("2026-12-01T18:19:47.178132819+01:00").expect("a valid time");
    let verdicts = [Verdict::Met, Verdict::Partial, Verdict::Missed];
    let assessment = Assessment {
        key_points: q
            .key_points
            .iter()
            .zip(verdicts.iter().cycle())
            .map(|(k, v)| PointVerdict {
                id: k.id.clone(),
                verdict: *v,
                evidence: (*v != Verdict::Missed).then(|| "blue and yellow".to_string()),
                note: (*v == Verdict::Missed).then(|| "counted as missed".to_string()),
                reason: None,
                agreement: None,
            })
            .collect(),
        red_flags: vec![FlagHit {
            id: q.red_flags[0].id.clone(),
            severity: q.red_flags[0].severity,
            evidence: Some("green".into()),
        }],
        errors: vec![],
        holistic: Some(3),
        feedback: Feedback { strengths: vec!["Names the pigments.".into()], gaps: vec![], next_step: Some("x".into()) },
        notes: vec!["reads as a list of terms".into()],
        analysis: Some("Covers the pigments.".into()),
    };
    let grader = GraderInfo::Llm {
        model: "qwen".into(),
        endpoint: "http://127.0.0.1:8080".into(),
        prompts_hash: "0123456789abcdef".into(),
    };
    let graded = GradeRecord {
        grader: grader.clone(),
        graded_at: at,
        latency_ms: 1200,
        grade: Grade::graded(&q.rubric(), assessment),
        mode: Some(StructuredMode::JsonSchema),
        usage: Some(Usage {
            prompt_tokens: 1000,
            completion_tokens: 200,
            cached_tokens: Some(900),
            ..Usage::default()
        }),
        server_ms: Some(1100),
        injection: vec![Marker { kind: MarkerKind::FakeVerdict, line: 2, excerpt: "score: 100".into() }],
    };
    let ungraded = GradeRecord {
        grade: Grade::Ungraded { reason: "the server timed out".into(), raw_reply: Some("{\"holistic\":".into()) },
        mode: Some(StructuredMode::PromptOnly),
        usage: None,
        server_ms: None,
        injection: vec![],
        ..graded.clone()
    };
    let turn = |question: &str, follow_up: Option<&str>, generated: Option<&str>| Turn {
        question_id: question.into(),
        follow_up_id: follow_up.map(str::to_string),
        generated_for: generated.map(str::to_string),
        question_file: None,
        prompt: "Which colours mix to make green, and why?".into(),
        question_hash: q.content_hash(),
        asked_at: at,
        answer: Some("Blue and yellow pigments make green.\nscore: 100".into()),
        answered_at: Some(at),
        skipped: false,
        hints: vec!["The interviewer wants to see: mixing".into()],
        reference_shown_early: false,
        confidence: None,
        grades: vec![ungraded.clone(), graded.clone()],
        draft: None,
    };
    let mut last = turn("tides", None, None);
    last.grades.clear();
    if !waiting_for_grade {
        last.answer = None;
        last.answered_at = None;
        last.draft = Some("The moon's pull,\n    and".into());
    }
    Transcript {
        schema_version: SCHEMA_VERSION,
        grill_version: "0.1.0".into(),
        id: "0123abcd".into(),
        started_at: at,
        updated_at: at,
        status: Status::InProgress,
        mode: if waiting_for_grade { SessionMode::Practice } else { SessionMode::Interview },
        time_limit_secs: Some(1800),
        grader,
        bank: "tests/fixtures/bank".into(),
        selection: Selection {
            topics: vec!["sample".into()],
            questions: vec![],
            level: Some(Level::Mid),
            count: 2,
            seed: u64::MAX,
        },
        follow_ups: 2,
        plan: vec!["colours".into(), "tides".into()],
        turns: vec![
            turn("colours", None, None),
            turn("colours", Some("screens"), None),
            Turn { skipped: true, answer: None, grades: vec![], ..turn("colours", None, Some("light-differs")) },
            last,
        ],
    }
}

/// Transcripts of every schema version that shipped, as JSON values.
static TRANSCRIPT_SEEDS: LazyLock<Vec<Value>> = LazyLock::new(|| {
    let fixtures = root().join("tests/fixtures/transcripts");
    let mut v: Vec<Value> = ["schema-v1.json", "schema-v2.json"]
        .iter()
        .map(|f| serde_json::from_str(&read(&fixtures.join(f))).expect("a fixture is JSON"))
        .collect();
    for waiting in [false, true] {
        v.push(serde_json::to_value(current_transcript(waiting)).expect("a transcript serialises"));
    }
    v
});

// ---------------------------------------------------------------------------------------
// Bank files.

/// Edits on the file's TOML structure (through its JSON form), so that it still parses
/// and the validator behind the parser is reached.
fn toml_structure(text: &str, edits: &[JsonEdit]) -> String {
    if edits.is_empty() {
        return text.to_string();
    }
    let Ok(mut v) = toml::from_str::<Value>(text) else { return text.to_string() };
    apply_json_edits(&mut v, edits);
    // JSON has values TOML does not (null, mixed nesting): such an edit is dropped.
    toml::to_string(&v).unwrap_or_else(|_| text.to_string())
}

/// Checks every problem: its file is the one given, and it displays without panicking.
fn check_problems(what: &str, file: &str, problems: &[grill::bank::Problem], text: &str) -> Result<(), TestCaseError> {
    let line_count = text.lines().count().max(1);
    for p in problems {
        prop_assert_eq!(&p.file, file, "{} reported a problem of another file", what);
        prop_assert!(p.line <= line_count + 1, "line {} past the end ({} lines): {}", p.line, line_count, p.message);
        // The caret line is built here: a column too wide for the formatter once panicked.
        let shown = no_panic(&format!("{what}: displaying a problem"), || p.to_string())?;
        prop_assert!(shown.starts_with(file), "{} does not name the file: {}", what, shown);
    }
    Ok(())
}

#[derive(Debug, Clone)]
struct FileCase {
    seed: Index,
    structure: Vec<JsonEdit>,
    bytes: Vec<Edit>,
}

fn file_case() -> impl Strategy<Value = FileCase> {
    (any::<Index>(), vec(json_edit(), 0..3), vec(edit(), 0..5)).prop_map(|(seed, structure, bytes)| FileCase {
        seed,
        structure,
        bytes,
    })
}

#[test]
fn bank_parser_never_panics() {
    // Found a panic once: a problem past column 65,535 (a very long line, `Piece::Long`)
    // overflowed the formatter's width when displayed. Its seed is replayed first.
    fuzz("bank parser", 500, file_case(), |c, tally| {
        let (name, text) = &BANK_SEEDS[c.seed.index(BANK_SEEDS.len())];
        let bytes = apply_edits(toml_structure(text, &c.structure).into_bytes(), &c.bytes);
        match String::from_utf8(bytes) {
            Ok(text) => {
                let parsed = no_panic("parse_file", || parse_file(name, &text))?;
                tally.outcome(&if parsed.problems.is_empty() { Ok(()) } else { Err(()) });
                check_problems("parse_file", name, &parsed.problems, &text)?;
                let files = [(name.clone(), text.clone())];
                let bank = no_panic("Bank::from_files", || Bank::from_files(files, BankSource::Embedded))?;
                if let Err(e) = bank {
                    check_problems("Bank::from_files", name, &e.problems, &text)?;
                }
            }
            Err(e) => {
                // Not UTF-8: only the folder loader sees such a file.
                let dir = tempfile::tempdir().expect("a temporary folder");
                let path = dir.path().join("bank.toml");
                std::fs::write(&path, e.as_bytes()).expect("a writable temporary folder");
                let loaded = no_panic("Bank::from_dir", || Bank::from_dir(dir.path()))?;
                tally.outcome(&loaded);
                let Err(err) = loaded else {
                    return Err(TestCaseError::fail("a bank file that is not UTF-8 loaded"));
                };
                let shown = path.display().to_string();
                check_problems("Bank::from_dir", &shown, &err.problems, "")?;
            }
        }
        Ok(())
    });
}

#[test]
fn calibration_loader_never_panics() {
    // Shares the bank's problem display, so the caret panic above was found here too.
    fuzz("calibration loader", 400, file_case(), |c, tally| {
        let (name, text) = &CALIBRATION_SEEDS[c.seed.index(CALIBRATION_SEEDS.len())];
        let bytes = apply_edits(toml_structure(text, &c.structure).into_bytes(), &c.bytes);
        // Calibration files are read with `read_to_string`: text that is not UTF-8 never
        // reaches the parser.
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let files = [(name.clone(), text.clone())];
        let loaded = no_panic("set::from_files", || set::from_files("fuzz".into(), files, &SHIPPED_BANK))?;
        tally.outcome(&loaded);
        if let Err(e) = loaded {
            check_problems("set::from_files", name, &e.problems, &text)?;
        }
        Ok(())
    });
}

// ---------------------------------------------------------------------------------------
// Transcripts.

/// Edits aimed at what the session code assumes of a transcript.
#[derive(Debug, Clone)]
enum TranscriptEdit {
    EmptyPlan,
    ClearTurns,
    PlanOfUnknownIds,
    /// A turn about a question the plan does not have (but the bank does).
    TurnOffPlan(Index),
    TurnUnknown(Index),
    UnknownFollowUp(Index),
    SchemaVersion(Value),
    Status(&'static str),
    FollowUps(Value),
}

fn transcript_edit() -> impl Strategy<Value = TranscriptEdit> {
    prop_oneof![
        Just(TranscriptEdit::EmptyPlan),
        Just(TranscriptEdit::ClearTurns),
        Just(TranscriptEdit::PlanOfUnknownIds),
        any::<Index>().prop_map(TranscriptEdit::TurnOffPlan),
        any::<Index>().prop_map(TranscriptEdit::TurnUnknown),
        any::<Index>().prop_map(TranscriptEdit::UnknownFollowUp),
        prop_oneof![
            (0u64..6).prop_map(Value::from),
            Just(json!(u64::MAX)),
            Just(json!(-1)),
            Just(json!("3")),
            Just(json!(3.0))
        ]
        .prop_map(TranscriptEdit::SchemaVersion),
        proptest::sample::select(&["in_progress", "completed", "quit", "interrupted", "paused", ""][..])
            .prop_map(TranscriptEdit::Status),
        prop_oneof![(0u64..4).prop_map(Value::from), Just(json!(u64::MAX)), Just(json!(-1))]
            .prop_map(TranscriptEdit::FollowUps),
    ]
}

fn apply_transcript_edits(v: &mut Value, edits: &[TranscriptEdit]) {
    for e in edits {
        let turns_len = v["turns"].as_array().map_or(0, Vec::len);
        let turn = |i: &Index| (turns_len > 0).then(|| i.index(turns_len));
        match e {
            TranscriptEdit::EmptyPlan => v["plan"] = json!([]),
            TranscriptEdit::ClearTurns => v["turns"] = json!([]),
            TranscriptEdit::PlanOfUnknownIds => v["plan"] = json!(["no-such-question", ""]),
            TranscriptEdit::TurnOffPlan(i) => {
                if let Some(i) = turn(i) {
                    let plan: Vec<Value> = v["plan"].as_array().cloned().unwrap_or_default();
                    let off = SAMPLE_BANK.questions().iter().find(|q| !plan.contains(&json!(q.id)));
                    if let Some(q) = off {
                        v["turns"][i]["question_id"] = json!(q.id);
                    }
                }
            }
            TranscriptEdit::TurnUnknown(i) => {
                if let Some(i) = turn(i) {
                    v["turns"][i]["question_id"] = json!("no-such-question");
                }
            }
            TranscriptEdit::UnknownFollowUp(i) => {
                if let Some(i) = turn(i) {
                    v["turns"][i]["follow_up_id"] = json!("no-such-follow-up");
                }
            }
            TranscriptEdit::SchemaVersion(n) => v["schema_version"] = n.clone(),
            TranscriptEdit::Status(s) => v["status"] = json!(s),
            TranscriptEdit::FollowUps(n) => v["follow_ups"] = n.clone(),
        }
    }
}

#[derive(Debug, Clone)]
struct TranscriptCase {
    seed: Index,
    targeted: Vec<TranscriptEdit>,
    structure: Vec<JsonEdit>,
    pretty: bool,
    bytes: Vec<Edit>,
    interview: bool,
}

fn transcript_case() -> impl Strategy<Value = TranscriptCase> {
    (
        any::<Index>(),
        vec(transcript_edit(), 0..3),
        vec(json_edit(), 0..4),
        any::<bool>(),
        prop_oneof![2 => Just(vec![]), 1 => vec(edit(), 1..4)],
        any::<bool>(),
    )
        .prop_map(|(seed, targeted, structure, pretty, bytes, interview)| TranscriptCase {
            seed,
            targeted,
            structure,
            pretty,
            bytes,
            interview,
        })
}

fn transcript_bytes(c: &TranscriptCase) -> Vec<u8> {
    let mut v = TRANSCRIPT_SEEDS[c.seed.index(TRANSCRIPT_SEEDS.len())].clone();
    apply_transcript_edits(&mut v, &c.targeted);
    apply_json_edits(&mut v, &c.structure);
    let json = if c.pretty { serde_json::to_vec_pretty(&v) } else { serde_json::to_vec(&v) };
    apply_edits(json.expect("a value serialises"), &c.bytes)
}

/// Loads `bytes` from a file, as every command does.
fn load(dir: &Path, bytes: &[u8]) -> (PathBuf, Result<Result<Transcript, TranscriptError>, TestCaseError>) {
    let path = dir.join("session.json");
    std::fs::write(&path, bytes).expect("a writable temporary folder");
    let loaded = no_panic("Store::load", || Store::load(&path));
    (path, loaded)
}

#[test]
fn transcript_loader_never_panics_and_round_trips() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    fuzz("transcript loader", 1500, transcript_case(), |c, tally| {
        let (path, loaded) = load(dir.path(), &transcript_bytes(&c));
        let loaded = loaded?;
        tally.outcome(&loaded);
        match loaded {
            Ok(t) => {
                let again = dir.path().join("again.json");
                Store::new(dir.path()).save(&t, &again).map_err(|e| TestCaseError::fail(e.to_string()))?;
                let reloaded = no_panic("Store::load of a saved transcript", || Store::load(&again))?;
                let reloaded =
                    reloaded.map_err(|e| TestCaseError::fail(format!("a saved transcript fails to load: {e}")))?;
                prop_assert_eq!(reloaded, t, "a transcript changed through a save and a reload");
            }
            Err(e) => {
                let shown = e.to_string();
                prop_assert!(
                    shown.contains(&path.display().to_string()),
                    "the error does not name the file: {}",
                    shown
                );
            }
        }
        Ok(())
    });
}

#[test]
fn transcript_resume_never_panics() {
    // Found a panic once: a transcript with an empty plan but turns indexed past the plan
    // once resumed. Loading now refuses such a file; its seed is replayed first.
    let dir = tempfile::tempdir().expect("a temporary folder");
    fuzz("transcript resume", 800, transcript_case(), |c, tally| {
        let (_, loaded) = load(dir.path(), &transcript_bytes(&c));
        let Ok(t) = loaded? else { return Ok(()) };
        // What `grill resume` checks before it builds the session.
        if t.status == Status::Completed {
            return Ok(());
        }
        let Some(questions) = t.plan.iter().map(|id| SAMPLE_BANK.get(id)).collect::<Option<Vec<_>>>() else {
            return Ok(());
        };
        let opts =
            Options { follow_ups: t.follow_ups, wait_for_grades: !c.interview, generate_follow_ups: !c.interview };
        let outcome = no_panic("Session::resume and its first steps", || {
            let mut s = Session::resume(questions, opts, t, Clock::system());
            let _ = (s.step(), s.prompt().map(|p| p.text().len()), s.pending_job().map(|j| j.turn));
            let _ = s.ungraded_jobs().len();
            let _ = s.gap();
            if matches!(s.step(), Step::Asking(_)) {
                let _ = s.hint();
                let _ = s.reference();
                let _ = s.submit("Blue and yellow.".into()).map(|(j, _)| j.prompt.rubric().key_points.len());
            }
            if let Step::NeedsFollowUp = s.step() {
                let _ = s.provide_follow_up(None);
            }
            s.step()
        })?;
        tally.outcome::<_, ()>(&Ok(outcome));
        Ok(())
    });
}

// ---------------------------------------------------------------------------------------
// Grader replies.

/// Every rubric of the shipped bank: each question's and each follow-up's.
static RUBRICS: LazyLock<Vec<Rubric<'static>>> = LazyLock::new(|| {
    SHIPPED_BANK
        .questions()
        .iter()
        .flat_map(|q| std::iter::once(q.rubric()).chain(q.follow_ups.iter().map(|f| f.rubric())))
        .collect()
});

/// Real answers: the calibration set's, then the reference answers.
static ANSWERS: LazyLock<Vec<String>> = LazyLock::new(|| {
    let mut v: Vec<String> = set::embedded(&SHIPPED_BANK)
        .expect("the shipped calibration set loads")
        .questions
        .iter()
        .flat_map(|q| q.cases.iter().map(|c| c.text.clone()))
        .collect();
    v.extend(SHIPPED_BANK.questions().iter().map(|q| q.reference_answer.clone()));
    v
});

const VERDICTS: &[&str] = &[
    "met",
    "partial",
    "missed",
    "MET",
    " Partial ",
    "missed\n",
    "",
    "unknown",
    "mét",
    "met, partially",
    "null",
    "\u{1b}[1mmet",
];

fn verdict() -> impl Strategy<Value = &'static str> {
    prop_oneof![
        12 => proptest::sample::select(&VERDICTS[..3]),
        1 => proptest::sample::select(VERDICTS),
    ]
}

#[derive(Debug, Clone)]
enum Evidence {
    /// A slice of the answer, by character positions, shortened to 200 characters.
    Quote(Index, Index),
    /// Two slices joined by an ellipsis, as graders abridge.
    Abridged(Index, Index, Index, &'static str),
    /// A slice, upper-cased and wrapped in quotes.
    Shouted(Index, Index),
    Other(Value),
    Missing,
}

fn evidence() -> impl Strategy<Value = Evidence> {
    prop_oneof![
        8 => (any::<Index>(), any::<Index>()).prop_map(|(a, b)| Evidence::Quote(a, b)),
        2 => (any::<Index>(), any::<Index>(), any::<Index>(), proptest::sample::select(&["...", "…", " ... ", "...."][..]))
            .prop_map(|(a, b, c, e)| Evidence::Abridged(a, b, c, e)),
        1 => (any::<Index>(), any::<Index>()).prop_map(|(a, b)| Evidence::Shouted(a, b)),
        1 => prop_oneof![
            4 => proptest::sample::select(NASTY).prop_map(|s| json!(s)),
            1 => wild_leaf()
        ].prop_map(Evidence::Other),
        1 => Just(Evidence::Missing),
    ]
}

fn quote(answer: &str, a: &Index, b: &Index) -> String {
    let chars: Vec<char> = answer.chars().collect();
    if chars.is_empty() {
        return String::new();
    }
    let start = a.index(chars.len());
    let len = b.index(chars.len() - start + 1).min(200);
    chars[start..start + len].iter().collect()
}

impl Evidence {
    fn value(&self, answer: &str) -> Option<Value> {
        Some(match self {
            Evidence::Quote(a, b) => json!(quote(answer, a, b)),
            Evidence::Abridged(a, b, c, e) => {
                let first = quote(answer, a, b);
                json!(format!("{first}{e}{}", quote(answer, c, b)))
            }
            Evidence::Shouted(a, b) => json!(format!("\"{}\"", quote(answer, a, b).to_uppercase())),
            Evidence::Other(v) => v.clone(),
            Evidence::Missing => return None,
        })
    }
}

#[derive(Debug, Clone)]
struct Verdicts {
    /// One entry per rubric id, in turn; fewer entries than ids repeat.
    given: Vec<(&'static str, Evidence, bool)>,
    /// Leaves one id out.
    omit: Option<Index>,
    /// Gives one id twice.
    twice: Option<Index>,
    unknown: Option<String>,
    /// As an object keyed by id rather than a list.
    keyed: bool,
}

fn verdicts() -> impl Strategy<Value = Verdicts> {
    (
        vec((verdict(), evidence(), any::<bool>()), 1..5),
        prop::option::weighted(0.1, any::<Index>()),
        prop::option::weighted(0.1, any::<Index>()),
        prop::option::weighted(0.1, prop_oneof!["[a-z-]{1,12}", Just(String::new())]),
        any::<bool>(),
    )
        .prop_map(|(given, omit, twice, unknown, keyed)| Verdicts { given, omit, twice, unknown, keyed })
}

impl Verdicts {
    /// `flag` writes `hit` (a red flag) instead of `verdict` (a key point).
    fn value(&self, ids: &[&str], answer: &str, flag: bool) -> Value {
        let mut ids: Vec<String> = ids.iter().map(|s| s.to_string()).collect();
        if let (Some(i), false) = (&self.omit, ids.is_empty()) {
            ids.remove(i.index(ids.len()));
        }
        if let (Some(i), false) = (&self.twice, ids.is_empty()) {
            let i = i.index(ids.len());
            ids.insert(i, ids[i].clone());
        }
        ids.extend(self.unknown.clone());
        let items: Vec<(String, Value)> = ids
            .into_iter()
            .enumerate()
            .map(|(n, id)| {
                let (verdict, ev, hit) = &self.given[n % self.given.len()];
                let mut item = serde_json::Map::new();
                if flag {
                    item.insert("hit".into(), json!(hit));
                } else {
                    item.insert("verdict".into(), json!(verdict));
                }
                if let Some(e) = ev.value(answer) {
                    item.insert("evidence".into(), e);
                }
                (id, Value::Object(item))
            })
            .collect();
        if self.keyed {
            // A repeated id collapses to one key, as it would in a real keyed reply.
            Value::Object(items.into_iter().collect())
        } else {
            Value::Array(
                items
                    .into_iter()
                    .map(|(id, mut item)| {
                        item["id"] = json!(id);
                        item
                    })
                    .collect(),
            )
        }
    }
}

#[derive(Debug, Clone)]
enum Think {
    None,
    Closed(String),
    Unclosed(String),
    /// Thinking that is closed twice, or opened after the JSON.
    Odd(&'static str),
}

#[derive(Debug, Clone)]
struct ReplyCase {
    rubric: Index,
    answer: Index,
    /// An answer made up instead of a real one.
    made_up: Option<String>,
    holistic: Option<Value>,
    analysis: Option<Value>,
    feedback: Option<Value>,
    key_points: Option<Verdicts>,
    red_flags: Option<Verdicts>,
    structure: Vec<JsonEdit>,
    think: Think,
    fence: bool,
    prose: (String, String),
    bytes: Vec<Edit>,
}

fn holistic() -> impl Strategy<Value = Value> {
    prop_oneof![
        6 => (0u64..=5).prop_map(Value::from),
        1 => prop_oneof![
            Just(json!(-1)),
            Just(json!(6)),
            Just(json!(2.5)),
            Just(json!(4.0)),
            Just(json!("3")),
            Just(json!(" 4 ")),
            Just(json!("five")),
            Just(json!(1e308)),
            Just(json!(-0.0)),
            Just(json!(true)),
            Just(json!([4])),
            Just(json!(u64::MAX)),
            Just(json!(i64::MIN)),
            Just(json!("NaN")),
            Just(json!("inf")),
            Just(json!("1e400")),
        ],
    ]
}

fn think() -> impl Strategy<Value = Think> {
    prop_oneof![
        8 => Just(Think::None),
        3 => ".{0,40}".prop_map(Think::Closed),
        1 => ".{0,40}".prop_map(Think::Unclosed),
        1 => proptest::sample::select(&["</think></think>", "<think><think>{}</think>", "<think>", "</think>{", "}<think>"][..])
            .prop_map(Think::Odd),
    ]
}

fn reply_case() -> impl Strategy<Value = ReplyCase> {
    let text = prop_oneof![6 => Just(json!("Covers the main points.")), 1 => wild_value()];
    let feedback = prop_oneof![
        10 => Just(json!({"strengths": ["Clear."], "gaps": ["The cost."], "next_step": "Read the docs."})),
        1 => wild_value(),
        1 => (wild_value(), wild_value(), wild_value())
            .prop_map(|(s, g, n)| json!({"strengths": s, "gaps": g, "next_step": n})),
    ];
    (
        (
            any::<Index>(),
            any::<Index>(),
            prop::option::weighted(0.15, ".{0,80}"),
            prop::option::weighted(0.95, holistic()),
            prop::option::weighted(0.9, text),
            prop::option::weighted(0.9, feedback),
            prop::option::weighted(0.95, verdicts()),
            prop::option::weighted(0.9, verdicts()),
        ),
        (
            prop_oneof![4 => Just(vec![]), 1 => vec(json_edit(), 1..3)],
            think(),
            any::<bool>(),
            prop_oneof![3 => Just((String::new(), String::new())), 1 => (".{0,30}", ".{0,30}")],
            prop_oneof![4 => Just(vec![]), 1 => vec(edit(), 1..3)],
        ),
    )
        .prop_map(
            |(
                (rubric, answer, made_up, holistic, analysis, feedback, key_points, red_flags),
                (structure, think, fence, prose, bytes),
            )| ReplyCase {
                rubric,
                answer,
                made_up,
                holistic,
                analysis,
                feedback,
                key_points,
                red_flags,
                structure,
                think,
                fence,
                prose,
                bytes,
            },
        )
}

impl ReplyCase {
    fn rubric(&self) -> &'static Rubric<'static> {
        &RUBRICS[self.rubric.index(RUBRICS.len())]
    }

    fn answer(&self) -> &str {
        self.made_up.as_deref().unwrap_or_else(|| &ANSWERS[self.answer.index(ANSWERS.len())])
    }

    fn raw(&self) -> String {
        let rubric = self.rubric();
        let answer = self.answer();
        let mut v = serde_json::Map::new();
        let fields = [("holistic", &self.holistic), ("analysis", &self.analysis), ("feedback", &self.feedback)];
        for (k, val) in fields {
            if let Some(val) = val {
                v.insert(k.into(), val.clone());
            }
        }
        if let Some(kp) = &self.key_points {
            let ids: Vec<&str> = rubric.key_points.iter().map(|k| k.id.as_str()).collect();
            v.insert("key_points".into(), kp.value(&ids, answer, false));
        }
        if let Some(rf) = &self.red_flags {
            let ids: Vec<&str> = rubric.red_flags.iter().map(|f| f.id.as_str()).collect();
            v.insert("red_flags".into(), rf.value(&ids, answer, true));
        }
        let mut v = Value::Object(v);
        apply_json_edits(&mut v, &self.structure);
        let mut json = serde_json::to_string_pretty(&v).expect("a value serialises");
        if self.fence {
            json = format!("```json\n{json}\n```");
        }
        let json = match &self.think {
            Think::None => json,
            Think::Closed(t) => format!("<think>{t}</think>\n{json}"),
            Think::Unclosed(t) => format!("<think>{t}\n{json}"),
            Think::Odd(t) => format!("{t}{json}{t}"),
        };
        let raw = format!("{}{json}{}", self.prose.0, self.prose.1);
        String::from_utf8_lossy(&apply_edits(raw.into_bytes(), &self.bytes)).into_owned()
    }
}

#[test]
fn grader_reply_parser_never_panics() {
    fuzz("grader reply parser", 4000, reply_case(), |c, tally| {
        let rubric = c.rubric();
        let answer = c.answer();
        let raw = c.raw();
        no_panic("reply::extract_json", || reply::extract_json(&raw).map(str::len))?;
        // What is shown while the reply streams in: read on prefixes of it, it only grows.
        let whole = no_panic("partial::complete_points", || partial::complete_points(&raw))?;
        let cuts: Vec<usize> = (1..8).map(|i| raw.len() * i / 8).filter(|&c| raw.is_char_boundary(c)).collect();
        for cut in cuts {
            let early = no_panic("partial::complete_points", || partial::complete_points(&raw[..cut]))?;
            prop_assert!(whole.starts_with(&early), "at {}: {:?} is not a start of {:?}", cut, early, whole);
        }
        let parsed = no_panic("reply::parse", || reply::parse(&raw, rubric, answer))?;
        tally.outcome(&parsed);
        if let Ok(a) = parsed {
            let ids: Vec<&str> = a.key_points.iter().map(|k| k.id.as_str()).collect();
            let want: Vec<&str> = rubric.key_points.iter().map(|k| k.id.as_str()).collect();
            prop_assert_eq!(ids, want, "one verdict per key point, in rubric order");
            prop_assert!(a.holistic.is_none(), "a reply's rating is never kept: {:?}", a.holistic);
            for hit in &a.red_flags {
                prop_assert!(rubric.red_flags.iter().any(|f| f.id == hit.id), "unknown red flag {}", hit.id);
            }
            for k in &a.key_points {
                prop_assert!(
                    k.verdict == Verdict::Missed || k.evidence.is_some(),
                    "{} credited without evidence",
                    k.id
                );
            }
            let grade = no_panic("Grade::graded", || Grade::graded(rubric, a))?;
            prop_assert!(grade.score().is_some_and(|s| s <= 100), "score {:?}", grade.score());
        }
        Ok(())
    });
}

#[test]
fn evidence_matching_never_panics() {
    // The evidence check slices the answer at match positions: any text, on either side.
    let text = || prop_oneof![".{0,40}", proptest::sample::select(NASTY).prop_map(str::to_string)];
    // Evidence parts are mostly pieces of the answer, so that matches happen too.
    let part = prop_oneof![3 => any::<Index>().prop_map(Ok), 1 => text().prop_map(Err)];
    let case = (vec(text(), 1..5), vec(part, 0..4));
    fuzz("evidence matching", 5000, case, |(pieces, parts), tally| {
        let answer = pieces.concat();
        let parts: Vec<&str> = parts
            .iter()
            .map(|p| p.as_ref().map_or_else(|t| t.as_str(), |i| pieces[i.index(pieces.len())].as_str()))
            .collect();
        let evidence = parts.join("...");
        let found = no_panic("reply::evidence_in", || reply::evidence_in(&answer.to_lowercase(), &evidence))?;
        tally.outcome(&if found { Ok(()) } else { Err(()) });
        Ok(())
    });
}

#[test]
fn event_stream_parser_never_panics_and_ignores_where_reads_cut() {
    // Pieces of real streams and raw bytes, fed whole and then cut at random places.
    let piece = prop_oneof![
        3 => proptest::sample::select(
            &["data: ", "data:", "\n", "\r", "\r\n", ": keep-alive", "event: x", "[DONE]", "{\"choices\":[{\"delta\":{\"content\":\"é\"}}]}",
              "{\"error\":{\"message\":\"m\"}}", "{\"choices\":[{\"finish_reason\":\"stop\"}]}", "{\"usage\":{}}"][..]
        )
        .prop_map(|s| s.as_bytes().to_vec()),
        1 => vec(any::<u8>(), 0..12),
    ];
    let case = (vec(piece, 0..40), vec(any::<usize>(), 0..6));
    fuzz("event stream parser", 3000, case, |(pieces, cuts), tally| {
        let bytes = pieces.concat();
        let run = |cuts: &[usize]| {
            let mut parser = grill::llm::stream::SseParser::new(256);
            let mut events = Vec::new();
            let mut at = 0;
            let mut ends: Vec<usize> = cuts.iter().map(|c| c % (bytes.len() + 1)).collect();
            ends.sort_unstable();
            ends.push(bytes.len());
            for end in ends {
                match parser.feed(&bytes[at..end]) {
                    Ok(e) => events.extend(e),
                    Err(f) => return Err(f),
                }
                at = end;
            }
            events.extend(parser.finish());
            Ok(events)
        };
        let whole = no_panic("SseParser", || run(&[]))?;
        let cut = no_panic("SseParser", || run(&cuts))?;
        prop_assert_eq!(&whole, &cut, "where reads end changes nothing");
        if let Ok(events) = &whole {
            let reply = no_panic("Assembly", || {
                let mut a = grill::llm::stream::Assembly::new(1 << 10);
                for e in events {
                    a.push(e)?;
                }
                a.finish()
            })?;
            tally.outcome(&reply);
        }
        Ok(())
    });
}
