//! What `grill stats --json` prints.

use serde::Serialize;

use crate::commands::review::output::Skipped;
use crate::review::forecast::Forecast;
use crate::review::schedule::Item;
use crate::review::stats::{Calibration, Stats, TopicStats, WeakPoint};

/// The version of this shape; bumped when a field is renamed, removed or changes meaning.
pub const SCHEMA: &str = "grill.stats/1";

/// Progress, weak points and the review schedule, for one topic (`--topic`) or all.
#[derive(Debug, Serialize)]
pub struct StatsOutput<'a> {
    /// Always `"grill.stats/1"`.
    pub schema: &'static str,
    /// Sessions with at least one graded answer in the topics counted.
    pub sessions: usize,
    /// Per topic, by name: `topic`, `questions` (distinct questions practised), `answers`
    /// (graded answers, follow-ups included), `mean` (their mean score, `null` when none)
    /// and `trend` (mean score per session, oldest first, the last 20 sessions).
    pub topics: &'a [TopicStats],
    /// The key points missed most often, worst first (at most 8): `question_id`,
    /// `key_point_id`, `point` (its text from the bank, empty when the bank no longer has
    /// it), `missed` and `of` (graded answers to the question).
    pub weakest: &'a [WeakPoint],
    /// Per topic with any answer given a confidence (`grill practice --confidence`):
    /// `topic`, `answers`, `brier` (mean squared gap between confidence and outcome, 0 at
    /// best), `confidence` (mean, as a probability: 1 to 4 read as 1/8, 3/8, 5/8, 7/8)
    /// and `right` (the share graded 65 or more).
    pub calibration: &'a [Calibration],
    /// How many questions are due for review now.
    pub due_today: usize,
    /// The ids of the questions due now (`grill practice --due` asks them).
    pub due: Vec<&'a str>,
    /// Every question reviewed, by id: `question_id`, `reviews`,
    /// `last_score` (`null` when the last review was a skip), `last_rating` (`again`,
    /// `hard`, `good` or `easy`; help caps it), `last_help` (`hints` shown and whether the
    /// reference was shown, `reference_shown`, before that answer), `first_review`,
    /// `last_review`, `due` (RFC 3339 times), `stability` (FSRS stability, in days) and
    /// `difficulty` (FSRS difficulty, 1 to 10).
    pub schedule: &'a [Item],
    /// The forecast for the `interview_date` setting at the default target, as `grill
    /// plan --json` prints it without `schema` and `skipped`; `null` when no date is set
    /// or the day has come.
    pub forecast: Option<&'a Forecast>,
    /// Transcript files that could not be read, so every figure above is partial; when
    /// there are any, grill exits with 2.
    pub skipped: Vec<Skipped>,
}

impl<'a> StatsOutput<'a> {
    /// The output for `st`, with the schedule `items` of which `due` are due now.
    pub fn new(
        st: &'a Stats,
        due: &[&'a Item],
        items: &'a [Item],
        forecast: Option<&'a Forecast>,
        skipped: Vec<Skipped>,
    ) -> StatsOutput<'a> {
        StatsOutput {
            schema: SCHEMA,
            sessions: st.sessions,
            topics: &st.topics,
            weakest: &st.weakest,
            calibration: &st.calibration,
            due_today: due.len(),
            due: due.iter().map(|i| i.question_id.as_str()).collect(),
            schedule: items,
            forecast,
            skipped,
        }
    }
}
