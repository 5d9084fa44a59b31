//! `grill eval`: grade every answer of a labelled calibration set with the grader in use
//! and measure how fairly it ranks them. Loading the set is [`set`]; the figures are plain
//! functions in [`metrics`]; the user's own set, labelled with their verdicts from the
//! transcripts, and its figures are [`mine`]; this module only grades.

pub mod metrics;
pub mod mine;
pub mod set;

use futures_util::StreamExt;

use crate::ask::Prompt;
use crate::bank::Bank;
use crate::grade::Grade;
use crate::grade::grader::Grader;
use metrics::Outcome;
use set::CalibrationSet;

impl From<&crate::grade::record::GradeRecord> for Outcome {
    fn from(r: &crate::grade::record::GradeRecord) -> Outcome {
        match &r.grade {
            Grade::Graded { score, assessment } => Outcome::Graded {
                score: *score,
                verdicts: assessment.key_points.iter().map(|v| (v.id.clone(), v.verdict)).collect(),
                flags: assessment.red_flags.iter().map(|f| f.id.clone()).collect(),
                flagged: !r.injection.is_empty(),
            },
            Grade::Ungraded { reason, .. } => Outcome::Ungraded(reason.clone()),
        }
    }
}

/// How many answers in a row may fail at the endpoint itself before the run stops: one
/// failure can be a hiccup, three mean every other answer would fail (slowly, with
/// retries) the same way.
pub const ENDPOINT_FAILURES_TO_STOP: usize = 3;

/// The endpoint failed for [`ENDPOINT_FAILURES_TO_STOP`] answers in a row; the reason is
/// the last of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointDown {
    /// Why the last answer could not be graded.
    pub reason: String,
}

/// Counts endpoint failures in a row (in the order gradings end) and says when to stop.
#[derive(Debug, Default)]
pub struct FailureRun {
    in_a_row: usize,
    stopped: Option<String>,
}

impl FailureRun {
    /// Records one grading; `failure` is the reason when the endpoint itself failed.
    pub fn record(&mut self, failure: Option<&str>) {
        match failure {
            Some(reason) => {
                self.in_a_row += 1;
                if self.in_a_row >= ENDPOINT_FAILURES_TO_STOP && self.stopped.is_none() {
                    self.stopped = Some(reason.to_string());
                }
            }
            None => self.in_a_row = 0,
        }
    }

    /// Why the run stopped, once it has.
    pub fn stopped(&self) -> Option<&str> {
        self.stopped.as_deref()
    }
}

/// Grades every answer of `set` once, `jobs` at a time, calling `progress` after each;
/// `outcomes[q][c]` belongs to `set.questions[q].cases[c]`. The set was checked against
/// `bank` when it was loaded, so every question is there. Stops, without grading the
/// rest, once the endpoint has failed for several answers in a row.
pub async fn grade_set(
    grader: &Grader,
    bank: &Bank,
    set: &CalibrationSet,
    jobs: usize,
    progress: &(dyn Fn() + Sync),
) -> Result<Vec<Vec<Outcome>>, EndpointDown> {
    let work: Vec<(Result<Prompt<'_>, String>, &str)> = set
        .questions
        .iter()
        .flat_map(|cq| {
            let prompt =
                bank.get(&cq.question).map(Prompt::main).ok_or(format!("`{}` is not in the bank in use", cq.question));
            cq.cases.iter().map(move |c| (prompt.clone(), c.text.as_str()))
        })
        .collect();
    let mut graded = grade_answers(grader, &work, jobs, progress).await?.into_iter();
    Ok(set.questions.iter().map(|q| graded.by_ref().take(q.cases.len()).collect()).collect())
}

/// Grades each answer to what was asked, `jobs` at a time, calling `progress` after each;
/// the outcomes are in the order of `work`. An answer whose question could not be
/// rebuilt (`Err`, with the reason) is ungraded. Stops, without grading the rest, once
/// the endpoint has failed for several answers in a row.
pub async fn grade_answers(
    grader: &Grader,
    work: &[(Result<Prompt<'_>, String>, &str)],
    jobs: usize,
    progress: &(dyn Fn() + Sync),
) -> Result<Vec<Outcome>, EndpointDown> {
    let failures = std::sync::Mutex::new(FailureRun::default());
    let stopped = || failures.lock().map(|f| f.stopped().is_some()).unwrap_or(false);
    let graded: Vec<Outcome> = futures_util::stream::iter(work)
        .map(|(prompt, text)| {
            let failures = &failures;
            async move {
                if stopped() {
                    return Outcome::Ungraded("not graded: the endpoint is failing".into());
                }
                let outcome = match prompt {
                    Ok(prompt) => {
                        let (record, endpoint_failed) = grader.grade_reporting(&prompt.asked(), text).await;
                        let outcome = Outcome::from(&record);
                        if let Ok(mut f) = failures.lock() {
                            let reason = match (&outcome, endpoint_failed) {
                                (Outcome::Ungraded(r), true) => Some(r.as_str()),
                                _ => None,
                            };
                            f.record(reason);
                        }
                        outcome
                    }
                    Err(reason) => Outcome::Ungraded(reason.clone()),
                };
                progress();
                outcome
            }
        })
        .buffered(jobs.max(1))
        .collect()
        .await;
    if let Some(reason) = failures.lock().ok().and_then(|f| f.stopped().map(str::to_string)) {
        return Err(EndpointDown { reason });
    }
    Ok(graded)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn three_endpoint_failures_in_a_row_stop_the_run_and_a_success_resets_the_count() {
        let mut f = FailureRun::default();
        f.record(Some("down"));
        f.record(Some("down"));
        f.record(None);
        f.record(Some("down"));
        f.record(Some("down"));
        assert_eq!(f.stopped(), None);
        f.record(Some("still down"));
        assert_eq!(f.stopped(), Some("still down"));
        f.record(Some("later"));
        assert_eq!(f.stopped(), Some("still down"), "the first reason to stop is the one kept");
    }
}
