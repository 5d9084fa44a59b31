//! What `grill eval --json` prints.

use serde::Serialize;

use crate::eval::metrics::{Flips, RunFigures, Spread};
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
