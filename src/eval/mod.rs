//! `grill eval`: grade every answer of a labelled calibration set with the grader in use
//! and measure how fairly it ranks them. Loading the set is [`set`]; the figures are plain
//! functions in [`metrics`]; this module only grades.

pub mod metrics;
pub mod set;

use futures_util::StreamExt;

use crate::bank::Bank;
use crate::grade::Grade;
use crate::grade::grader::Grader;
use crate::session::Prompt;
use metrics::Outcome;
use set::CalibrationSet;

impl From<&crate::transcript::GradeRecord> for Outcome {
    fn from(r: &crate::transcript::GradeRecord) -> Outcome {
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

/// Grades every answer of `set` once, `jobs` at a time, calling `progress` after each;
/// `outcomes[q][c]` belongs to `set.questions[q].cases[c]`. The set was checked against
/// `bank` when it was loaded, so every question is there.
pub async fn grade_set(
    grader: &Grader,
    bank: &Bank,
    set: &CalibrationSet,
    jobs: usize,
    progress: &(dyn Fn() + Sync),
) -> Vec<Vec<Outcome>> {
    let work: Vec<(usize, usize)> =
        set.questions.iter().enumerate().flat_map(|(q, cq)| (0..cq.cases.len()).map(move |c| (q, c))).collect();
    let graded: Vec<((usize, usize), Outcome)> = futures_util::stream::iter(work)
        .map(|(q, c)| async move {
            let cq = &set.questions[q];
            let outcome = match bank.get(&cq.question) {
                Some(question) => {
                    let prompt = Prompt::main(question);
                    Outcome::from(&grader.grade(&prompt.asked(), &cq.cases[c].text).await)
                }
                None => Outcome::Ungraded(format!("`{}` is not in the bank in use", cq.question)),
            };
            progress();
            ((q, c), outcome)
        })
        .buffered(jobs.max(1))
        .collect()
        .await;
    let mut out: Vec<Vec<Outcome>> = set.questions.iter().map(|q| Vec::with_capacity(q.cases.len())).collect();
    for ((q, _), outcome) in graded {
        out[q].push(outcome);
    }
    out
}
