//! What `grill eval --json` and `grill eval --set mine --json` print.

use serde::Serialize;

use crate::eval::metrics::{Flips, Outcome, RunFigures, Spread};
use crate::eval::mine::{LeftOut, MineFigures, Overruled, PointMisses};
use crate::grade::Verdict;
use crate::grade::record::GraderInfo;

/// The version of this shape; bumped when a field is renamed, removed or changes meaning.
pub const SCHEMA: &str = "grill.eval/2";

/// The figures of every run, and whether they reach the bars.
#[derive(Debug, Serialize)]
pub struct EvalOutput<'a> {
    /// Always `"grill.eval/2"`.
    pub schema: &'static str,
    /// The calibration set graded.
    pub set: SetOutput<'a>,
    /// Who graded, as in transcripts: `{"kind": "offline", "version"}` or `{"kind": "llm",
    /// "model", "endpoint", "prompts_hash"}`.
    pub grader: &'a GraderInfo,
    /// What the figures measure, in words: a model's figures measure the model, the prompt
    /// and grill's checks together; a scripted test server's only grill's side.
    pub measures: String,
    /// The figures of each run, in order (one run for the offline grader, which is
    /// deterministic). See `docs/calibration.md` for each figure.
    pub runs: &'a [RunFigures],
    /// The same figures over each half of the set (`tune`, `check`): the questions whose
    /// file names that half, run by run; `null` when no question has a half.
    pub halves: Option<HalvesOutput<'a>>,
    /// How much each answer's score moved between runs; `null` with a single run.
    pub spread: Option<&'a Spread>,
    /// How often key-point verdicts changed between runs (per answer and key point);
    /// `null` with a single run.
    pub flips: Option<&'a Flips>,
    /// The bars this grader is held to, in the report's order.
    pub bars: Vec<BarOutput>,
    /// The figures of the bars not met (what makes `--check` fail), in the same order.
    pub failed: Vec<&'static str>,
}

/// The figures of each half; a half no question is in is `null`.
#[derive(Debug, Serialize)]
pub struct HalvesOutput<'a> {
    /// The questions the grader was tuned looking at.
    pub tune: Option<HalfOutput<'a>>,
    /// The questions held out from tuning.
    pub check: Option<HalfOutput<'a>>,
}

/// One half of the set.
#[derive(Debug, Serialize)]
pub struct HalfOutput<'a> {
    /// Questions in it.
    pub questions: usize,
    /// Its figures, run by run, as in `runs`.
    pub runs: &'a [RunFigures],
}

/// The calibration set, in brief.
#[derive(Debug, Serialize)]
pub struct SetOutput<'a> {
    /// Where it came from: the shipped set, or the file given with `--set`.
    pub source: &'a str,
    /// Questions graded (after `--question`).
    pub questions: usize,
    /// Answers graded per run.
    pub answers: usize,
}

/// One bar and whether the grader reached it.
#[derive(Debug, Serialize)]
pub struct BarOutput {
    /// The figure, as named in each run: `pairwise`, `kendall_tau`,
    /// `stuffed_below_partial`, `key_point_f1` (the F1 of `key_points`),
    /// `key_point_kappa` (the kappa of `key_point_agreement`) or `injection_not_above_base`.
    pub figure: &'static str,
    /// The least acceptable value (a ratio's `hits / of`) for this grader: the offline
    /// grader is held to its own bars, a model to the project's (since `grill.eval/2`).
    pub at_least: f64,
    /// The figure's lowest value over the runs; `null` when a run could not compute it.
    pub lowest: Option<f64>,
    /// Whether every run reached it (a figure that could not be computed does not).
    pub met: bool,
    /// How far the lowest value is below the bar; `null` when it is not.
    pub short_by: Option<f64>,
}

/// The version of `grill eval --set mine --json`'s shape.
pub const MINE_SCHEMA: &str = "grill.eval-mine/1";

/// A grader measured against the user's own verdicts.
#[derive(Debug, Serialize)]
pub struct MineOutput<'a> {
    /// Always `"grill.eval-mine/1"`.
    pub schema: &'static str,
    /// The answers measured on.
    pub set: MineSetOutput<'a>,
    /// Who graded now, as in transcripts.
    pub grader: &'a GraderInfo,
    /// What the figures measure, in words.
    pub measures: String,
    /// The figures of each run, in order (one run for the offline grader).
    pub runs: &'a [MineFigures],
    /// The key points the grader's verdict most often differed from the user's on, over
    /// every run, worst first (ten at most).
    pub wrong_most: &'a [PointMisses],
    /// Per grader whose grade the user reviewed: how often the user overruled it.
    pub overruled: &'a [Overruled],
    /// Every answer measured on, with its labels and what the grader said of it.
    pub cases: Vec<MineCaseOutput<'a>>,
}

/// The user's own set, in brief.
#[derive(Debug, Serialize)]
pub struct MineSetOutput<'a> {
    /// Where it came from: the transcripts folder.
    pub source: &'a str,
    /// Sessions that gave at least one answer.
    pub sessions: usize,
    /// Answers measured on (after `--question`).
    pub answers: usize,
    /// Answers left out because the bank no longer has their question: `question`
    /// (`id/follow-up` for a follow-up), `answers`.
    pub left_out: &'a [LeftOut],
}

/// One answer of the user's set.
#[derive(Debug, Serialize)]
pub struct MineCaseOutput<'a> {
    /// The session's id.
    pub session: &'a str,
    /// The transcript.
    pub file: &'a str,
    /// The turn's index in the session, from 0.
    pub turn: usize,
    /// The bank question.
    pub question: &'a str,
    /// The bank follow-up asked; `null` for a main question or a generated follow-up.
    pub follow_up: Option<&'a str>,
    /// The user's score (their newest word on the answer).
    pub score: u8,
    /// The user's verdicts, the labels: `id`, `verdict`.
    pub labels: Vec<PointOutput<'a>>,
    /// The index among the turn's grades of the grade the user reviewed; `null` when it
    /// was not a graded one.
    pub reviewed: Option<usize>,
    /// What the grader said, run by run.
    pub graded: Vec<GradedOutput<'a>>,
}

/// A key point's verdict.
#[derive(Debug, Serialize)]
pub struct PointOutput<'a> {
    /// The key point.
    pub id: &'a str,
    /// `met`, `partial` or `missed`.
    pub verdict: Verdict,
}

/// A grader's outcome on one answer in one run.
#[derive(Debug, Serialize)]
pub struct GradedOutput<'a> {
    /// 0-100; `null` when ungraded.
    pub score: Option<u8>,
    /// Its verdicts; `null` when ungraded.
    pub key_points: Option<Vec<PointOutput<'a>>>,
    /// Why it is ungraded; `null` when graded.
    pub reason: Option<&'a str>,
}

impl<'a> From<&'a Outcome> for GradedOutput<'a> {
    fn from(o: &'a Outcome) -> GradedOutput<'a> {
        match o {
            Outcome::Graded { score, verdicts, .. } => GradedOutput {
                score: Some(*score),
                key_points: Some(verdicts.iter().map(|(id, verdict)| PointOutput { id, verdict: *verdict }).collect()),
                reason: None,
            },
            Outcome::Ungraded(reason) => GradedOutput { score: None, key_points: None, reason: Some(reason) },
        }
    }
}
