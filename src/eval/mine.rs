//! `grill eval --set mine`: the answers the user confirmed or disputed, labelled with
//! their own verdicts, as a calibration set of their own. Building the cases and every
//! figure are plain functions of transcripts and outcomes; reading the folder and grading
//! are the command's.
//!
//! Definitions:
//! - a case is a turn whose grades hold the user's word (grader `self`); its labels are
//!   the user's NEWEST word on it: their verdict on each key point and their score;
//! - key-point agreement: Cohen's kappa between the grader's verdicts and the user's over
//!   met / partial / missed, as for the shipped set; precision and recall credit met and
//!   partial and leave out the points the user called partial;
//! - pairwise ordering: over every pair of answers the user scored differently (across
//!   questions: the user's scores share one scale), 1 when the grader orders them the same
//!   way, ½ on a tie, 0 otherwise;
//! - the key points most often wrong: per question and key point, how often the grader's
//!   verdict was not the user's;
//! - overruled: the grade the user reviewed against their word on it.

use std::collections::BTreeMap;

use serde::Serialize;

use super::metrics::{Agreement, Outcome, Prf, Ratio, cohen_kappa, kendall_tau_b};
use crate::ask::Prompt;
use crate::bank::Bank;
use crate::grade::record::GraderInfo;
use crate::grade::{Grade, Verdict};
use crate::transcript::{Transcript, Turn};

/// The word `--set` takes for this set. A folder of that name is `./mine`.
pub const RESERVED: &str = "mine";

/// One answer the user gave their own verdicts on.
#[derive(Debug, Clone, PartialEq)]
pub struct MineCase {
    /// The session's id.
    pub session: String,
    /// The transcript it is in, as shown.
    pub file: String,
    /// The turn's index in the session.
    pub turn: usize,
    /// What was asked, to rebuild the prompt from the bank.
    pub asked: Turn,
    /// The answer.
    pub text: String,
    /// The user's verdict on each key point, in their record's order.
    pub labels: Vec<(String, Verdict)>,
    /// The user's score.
    pub score: u8,
    /// The grade the user reviewed, when it was a graded one.
    pub reviewed: Option<Reviewed>,
}

impl MineCase {
    /// The bank question.
    pub fn question(&self) -> &str {
        &self.asked.question_id
    }

    /// What was asked, rebuilt from `bank` (checked when the set was built).
    pub fn prompt<'b>(&self, bank: &'b Bank) -> Result<Prompt<'b>, String> {
        bank.get(self.question())
            .map(|q| Prompt::for_turn(q, &self.asked))
            .ok_or_else(|| format!("`{}` is not in the bank in use", self.question()))
    }
}

/// The grade the user's word reviewed.
#[derive(Debug, Clone, PartialEq)]
pub struct Reviewed {
    /// Its index among the turn's grades.
    pub index: usize,
    /// Who gave it.
    pub grader: GraderInfo,
    /// What it said.
    pub outcome: Outcome,
}

/// Answers left out because their question is no longer in the bank.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LeftOut {
    /// The question id (or `id/follow-up` for a follow-up the bank no longer has).
    pub question: String,
    /// How many answers to it.
    pub answers: usize,
}

/// The user's own set.
#[derive(Debug, Clone, PartialEq)]
pub struct MineSet {
    /// Where it came from, for output.
    pub source: String,
    /// The cases, session by session in the order given, turns in order.
    pub cases: Vec<MineCase>,
    /// Answers with the user's word whose question the bank no longer has.
    pub left_out: Vec<LeftOut>,
}

impl MineSet {
    /// Sessions that gave at least one case.
    pub fn sessions(&self) -> usize {
        let mut ids: Vec<&str> = self.cases.iter().map(|c| c.file.as_str()).collect();
        ids.dedup();
        ids.len()
    }
}

/// Builds the set from `(file, transcript)` pairs: every answered turn whose grades hold
/// the user's word, labelled with the newest such word. A turn whose question, follow-up
/// or targeted key point is no longer in `bank` is left out and counted.
pub fn from_transcripts<'t>(
    source: String,
    transcripts: impl IntoIterator<Item = (String, &'t Transcript)>,
    bank: &Bank,
) -> MineSet {
    let mut cases = Vec::new();
    let mut left_out: BTreeMap<String, usize> = BTreeMap::new();
    for (file, t) in transcripts {
        for (i, turn) in t.turns.iter().enumerate() {
            let Some(word) = turn.grades.iter().rev().find(|g| g.grader.is_user()) else { continue };
            let (GraderInfo::User { reviewed }, Grade::Graded { score, assessment }) = (&word.grader, &word.grade)
            else {
                continue;
            };
            let Some(text) = &turn.answer else { continue };
            if let Some(missing) = missing_from(bank, turn) {
                *left_out.entry(missing).or_default() += 1;
                continue;
            }
            let reviewed = turn
                .grades
                .get(*reviewed)
                .filter(|r| matches!(r.grade, Grade::Graded { .. }))
                .map(|r| Reviewed { index: *reviewed, grader: r.grader.clone(), outcome: Outcome::from(r) });
            cases.push(MineCase {
                session: t.id.clone(),
                file: file.clone(),
                turn: i,
                asked: turn.clone(),
                text: text.clone(),
                labels: assessment.key_points.iter().map(|v| (v.id.clone(), v.verdict)).collect(),
                score: *score,
                reviewed,
            });
        }
    }
    let left_out = left_out.into_iter().map(|(question, answers)| LeftOut { question, answers }).collect();
    MineSet { source, cases, left_out }
}

/// What of a turn's question the bank no longer has, named; `None` when it has it all.
fn missing_from(bank: &Bank, turn: &Turn) -> Option<String> {
    let id = &turn.question_id;
    let Some(q) = bank.get(id) else { return Some(id.clone()) };
    if let Some(f) = &turn.follow_up_id
        && q.follow_up(f).is_none()
    {
        return Some(format!("{id}/{f}"));
    }
    if let Some(k) = &turn.generated_for
        && !q.key_points.iter().any(|p| &p.id == k)
    {
        return Some(format!("{id}/{k}"));
    }
    None
}

/// The grader's verdict beside the user's, per key point the user judged and the grader
/// gave a verdict on: (id, the user's, the grader's).
fn beside<'a>(labels: &'a [(String, Verdict)], verdicts: &[(String, Verdict)]) -> Vec<(&'a str, Verdict, Verdict)> {
    labels
        .iter()
        .filter_map(|(id, mine)| {
            verdicts.iter().find(|(v, _)| v == id).map(|(_, theirs)| (id.as_str(), *mine, *theirs))
        })
        .collect()
}

/// Every figure of one grader's run over the set.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MineFigures {
    /// Answers graded.
    pub graded: usize,
    /// Answers the grader could not grade (left out of every figure).
    pub ungraded: usize,
    /// The grader's verdicts against the user's, met / partial / missed, chance-corrected.
    pub key_point_agreement: Agreement,
    /// Key points credited (met or partial) against those the user said met; the points
    /// the user called partial are left out.
    pub key_points: Prf,
    /// Pairs of answers the user scored differently that the grader orders the same way.
    pub pairwise: Ratio,
    /// Kendall tau-b between the user's scores and the grader's.
    pub kendall_tau: Option<f64>,
    /// The mean of (the grader's score - the user's): above 0, the grader is the more
    /// generous.
    pub mean_difference: Option<f64>,
}

/// The figures of one run: `outcomes[i]` is the grader's outcome on `cases[i]`.
pub fn figures(cases: &[MineCase], outcomes: &[Outcome]) -> MineFigures {
    let (mut graded, mut ungraded) = (0, 0);
    let mut agreement = Vec::new();
    let mut kp = [0usize; 3];
    let mut scores: Vec<(f64, f64)> = Vec::new();
    for (case, out) in cases.iter().zip(outcomes) {
        let Outcome::Graded { score, verdicts, .. } = out else {
            ungraded += 1;
            continue;
        };
        graded += 1;
        scores.push((f64::from(case.score), f64::from(*score)));
        for (_, mine, theirs) in beside(&case.labels, verdicts) {
            agreement.push((mine, theirs));
            match (mine, theirs != Verdict::Missed) {
                (Verdict::Partial, _) => {}
                (Verdict::Met, true) => kp[0] += 1,
                (Verdict::Missed, true) => kp[1] += 1,
                (Verdict::Met, false) => kp[2] += 1,
                (Verdict::Missed, false) => {}
            }
        }
    }
    let mut pairwise = Ratio::default();
    for (i, &(mine_a, theirs_a)) in scores.iter().enumerate() {
        for &(mine_b, theirs_b) in &scores[i + 1..] {
            if mine_a == mine_b {
                continue;
            }
            pairwise.of += 1;
            pairwise.hits += if theirs_a == theirs_b {
                0.5
            } else if (theirs_a > theirs_b) == (mine_a > mine_b) {
                1.0
            } else {
                0.0
            };
        }
    }
    let (mine, theirs): (Vec<f64>, Vec<f64>) = scores.iter().copied().unzip();
    MineFigures {
        graded,
        ungraded,
        key_point_agreement: cohen_kappa(&agreement),
        key_points: Prf::from_counts(kp[0], kp[1], kp[2]),
        pairwise,
        kendall_tau: kendall_tau_b(&mine, &theirs),
        mean_difference: (!scores.is_empty())
            .then(|| scores.iter().map(|(m, t)| t - m).sum::<f64>() / scores.len() as f64),
    }
}

/// How often a grader's verdict on one key point was not the user's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PointMisses {
    /// The question.
    pub question: String,
    /// The key point.
    pub key_point: String,
    /// Verdicts not the user's.
    pub wrong: usize,
    /// Verdicts compared.
    pub of: usize,
    /// Of the wrong ones, those that gave more credit than the user.
    pub higher: usize,
    /// Of the wrong ones, those that gave less.
    pub lower: usize,
}

/// The key points the grader got wrong at least once over every run
/// (`runs[r][i]` is run r's outcome on `cases[i]`), worst first: the most wrong, then the
/// fewest compared, then by question and key point.
pub fn wrong_most(cases: &[MineCase], runs: &[Vec<Outcome>]) -> Vec<PointMisses> {
    let mut by_point: BTreeMap<(&str, &str), PointMisses> = BTreeMap::new();
    for run in runs {
        for (case, out) in cases.iter().zip(run) {
            let Outcome::Graded { verdicts, .. } = out else { continue };
            for (id, mine, theirs) in beside(&case.labels, verdicts) {
                let m = by_point.entry((case.question(), id)).or_insert_with(|| PointMisses {
                    question: case.question().to_string(),
                    key_point: id.to_string(),
                    wrong: 0,
                    of: 0,
                    higher: 0,
                    lower: 0,
                });
                m.of += 1;
                if mine != theirs {
                    m.wrong += 1;
                    if theirs.credit() > mine.credit() { m.higher += 1 } else { m.lower += 1 }
                }
            }
        }
    }
    let mut v: Vec<PointMisses> = by_point.into_values().filter(|m| m.wrong > 0).collect();
    v.sort_by(|a, b| b.wrong.cmp(&a.wrong).then(a.of.cmp(&b.of)));
    v
}

/// How often one grader's grades were overruled by the user's word on them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Overruled {
    /// The grader whose grades the user reviewed.
    pub grader: GraderInfo,
    /// Answers whose grade by it the user reviewed.
    pub answers: usize,
    /// Of those, answers where the user changed at least one verdict.
    pub overruled: usize,
    /// Key-point verdicts the user changed, of `key_point_agreement.of`.
    pub changed: usize,
    /// Its verdicts against the user's word on them, chance-corrected.
    pub key_point_agreement: Agreement,
}

/// The reviewed grades against the user's word, per grader (as the grader names itself,
/// so one model at one endpoint is one row), in the order first met.
pub fn overruled(cases: &[MineCase]) -> Vec<Overruled> {
    // Per grader: its name, the row so far, and (the user's, its) verdicts for kappa.
    type Row = (String, Overruled, Vec<(Verdict, Verdict)>);
    let mut rows: Vec<Row> = Vec::new();
    for case in cases {
        let Some(r) = &case.reviewed else { continue };
        let Outcome::Graded { verdicts, .. } = &r.outcome else { continue };
        let name = r.grader.to_string();
        let at = match rows.iter().position(|(n, ..)| *n == name) {
            Some(at) => at,
            None => {
                let empty = Overruled {
                    grader: r.grader.clone(),
                    answers: 0,
                    overruled: 0,
                    changed: 0,
                    key_point_agreement: Agreement::default(),
                };
                rows.push((name, empty, Vec::new()));
                rows.len() - 1
            }
        };
        let (_, row, pairs) = &mut rows[at];
        let compared = beside(&case.labels, verdicts);
        let changed = compared.iter().filter(|(_, mine, theirs)| mine != theirs).count();
        row.answers += 1;
        row.overruled += usize::from(changed > 0);
        row.changed += changed;
        pairs.extend(compared.iter().map(|&(_, mine, theirs)| (mine, theirs)));
    }
    rows.into_iter().map(|(_, row, pairs)| Overruled { key_point_agreement: cohen_kappa(&pairs), ..row }).collect()
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::grade::record::GradeRecord;
    use crate::grade::{Assessment, PointVerdict};

    fn bank() -> Bank {
        Bank::from_dir(Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/bank"))).unwrap()
    }

    fn record(grader: GraderInfo, score: u8, verdicts: &[(&str, Verdict)]) -> GradeRecord {
        let assessment = Assessment {
            key_points: verdicts.iter().map(|(id, v)| PointVerdict::bare(id, *v)).collect(),
            red_flags: vec![],
            errors: vec![],
            holistic: None,
            feedback: Default::default(),
            notes: vec![],
            analysis: None,
        };
        GradeRecord {
            grader,
            graded_at: "2026-01-01T10:00:00+00:00".parse().unwrap(),
            latency_ms: 0,
            grade: Grade::Graded { score, assessment },
            mode: None,
            usage: None,
            server_ms: None,
            injection: vec![],
        }
    }

    fn offline() -> GraderInfo {
        GraderInfo::Offline { version: "offline-7".into() }
    }

    fn mine(reviewed: usize) -> GraderInfo {
        GraderInfo::User { reviewed }
    }

    fn turn(question: &str, answer: Option<&str>, grades: Vec<GradeRecord>) -> Turn {
        Turn {
            question_id: question.into(),
            follow_up_id: None,
            generated_for: None,
            prompt: "p".into(),
            question_hash: "h".into(),
            asked_at: "2026-01-01T10:00:00+00:00".parse().unwrap(),
            answer: answer.map(str::to_string),
            answered_at: None,
            skipped: false,
            hints: vec![],
            reference_shown_early: false,
            grades,
            draft: None,
        }
    }

    fn session(id: &str, turns: Vec<Turn>) -> Transcript {
        let mut plan: Vec<String> = turns.iter().map(|t| t.question_id.clone()).collect();
        plan.dedup();
        serde_json::from_value(serde_json::json!({
            "schema_version": 4, "grill_version": "0.1.0", "id": id,
            "started_at": "2026-01-01T10:00:00+00:00", "updated_at": "2026-01-01T10:00:00+00:00",
            "status": "completed", "grader": {"kind": "offline", "version": "offline-7"}, "bank": "b",
            "selection": {"topics": [], "questions": [], "level": null, "count": 1, "seed": 1},
            "follow_ups": 0, "plan": plan, "turns": turns,
        }))
        .unwrap()
    }

    use Verdict::{Met, Missed, Partial};

    #[test]
    fn cases_are_the_turns_with_the_users_word_labelled_by_the_newest() {
        let tides = [("moon", Met), ("two-bulges", Missed), ("sun", Missed)];
        let a = session(
            "aaaa0001",
            vec![
                turn(
                    "tides",
                    Some("The Moon."),
                    vec![
                        record(offline(), 50, &tides),
                        record(mine(0), 60, &[("moon", Met), ("two-bulges", Partial), ("sun", Missed)]),
                        record(mine(0), 40, &[("moon", Partial), ("two-bulges", Missed), ("sun", Missed)]),
                    ],
                ),
                // Graded by a grader only: nothing of the user's to learn from.
                turn("tides", Some("Again."), vec![record(offline(), 50, &tides)]),
            ],
        );
        let b = session("bbbb0002", vec![turn("tides", Some("Wind."), vec![record(offline(), 0, &tides)])]);
        let gone = session(
            "cccc0003",
            vec![turn("retired", Some("x"), vec![record(offline(), 0, &[]), record(mine(0), 10, &[])])],
        );
        let set = from_transcripts(
            "s".into(),
            [("a.json".to_string(), &a), ("b.json".to_string(), &b), ("c.json".to_string(), &gone)],
            &bank(),
        );
        assert_eq!(set.cases.len(), 1);
        let c = &set.cases[0];
        assert_eq!((c.session.as_str(), c.turn, c.question(), c.text.as_str()), ("aaaa0001", 0, "tides", "The Moon."));
        assert_eq!(
            c.labels,
            vec![("moon".to_string(), Partial), ("two-bulges".to_string(), Missed), ("sun".to_string(), Missed)],
            "the newest word, exactly"
        );
        assert_eq!(c.score, 40);
        let reviewed = c.reviewed.as_ref().unwrap();
        assert_eq!((reviewed.index, &reviewed.grader), (0, &offline()));
        assert_eq!(set.left_out, vec![LeftOut { question: "retired".into(), answers: 1 }]);
        assert_eq!(set.sessions(), 1);
    }

    #[test]
    fn a_follow_up_the_bank_no_longer_has_is_left_out_and_one_it_has_is_asked_again() {
        let mut gone = turn("tides", Some("x"), vec![record(offline(), 0, &[]), record(mine(0), 0, &[])]);
        gone.follow_up_id = Some("no-such".into());
        let mut kept = gone.clone();
        kept.follow_up_id = Some("spring".into());
        let t = session("aaaa0001", vec![gone, kept]);
        let set = from_transcripts("s".into(), [("a.json".to_string(), &t)], &bank());
        assert_eq!(set.left_out, vec![LeftOut { question: "tides/no-such".into(), answers: 1 }]);
        let bank = bank();
        let prompt = set.cases[0].prompt(&bank).unwrap();
        assert_eq!(prompt.text(), "What is a spring tide?");
    }

    fn case(labels: &[(&str, Verdict)], score: u8) -> MineCase {
        let t = session(
            "aaaa0001",
            vec![turn("tides", Some("a"), vec![record(offline(), score, labels), record(mine(0), score, labels)])],
        );
        from_transcripts("s".into(), [("a.json".to_string(), &t)], &bank()).cases.remove(0)
    }

    fn graded(score: u8, verdicts: &[(&str, Verdict)]) -> Outcome {
        Outcome::Graded {
            score,
            verdicts: verdicts.iter().map(|(id, v)| (id.to_string(), *v)).collect(),
            flags: vec![],
            flagged: false,
        }
    }

    #[test]
    fn figures_compare_verdicts_and_the_order_of_scores_with_the_users() {
        let cases = [
            case(&[("moon", Met), ("sun", Missed)], 80),
            case(&[("moon", Partial), ("sun", Missed)], 40),
            case(&[("moon", Missed), ("sun", Missed)], 10),
        ];
        let outs = [
            graded(70, &[("moon", Met), ("sun", Missed)]),
            // Credits the sun the user did not: a false positive, scored above the first.
            graded(90, &[("moon", Met), ("sun", Met)]),
            graded(10, &[("moon", Missed), ("sun", Missed)]),
        ];
        let f = figures(&cases, &outs);
        assert_eq!((f.graded, f.ungraded), (3, 0));
        // Pairs the user scored apart: (80,40) reversed, (80,10) and (40,10) kept.
        assert_eq!(f.pairwise, Ratio { hits: 2.0, of: 3 });
        // Six verdicts, four the same: labels 1 met 1 partial 4 missed, grader 3 met 3 missed.
        let a = f.key_point_agreement;
        assert_eq!(a.of, 6);
        assert!((a.observed.unwrap() - 4.0 / 6.0).abs() < 1e-9, "{a:?}");
        assert!((a.expected.unwrap() - (1.0 / 6.0 * 3.0 / 6.0 + 4.0 / 6.0 * 3.0 / 6.0)).abs() < 1e-9, "{a:?}");
        // The partial label is left out of precision and recall.
        assert_eq!(
            (f.key_points.true_positives, f.key_points.false_positives, f.key_points.false_negatives),
            (1, 1, 0)
        );
        assert_eq!(f.mean_difference, Some((-10.0 + 50.0 + 0.0) / 3.0));
        let ungraded = figures(&cases, &[Outcome::Ungraded("down".into()), outs[1].clone(), outs[2].clone()]);
        assert_eq!((ungraded.graded, ungraded.ungraded, ungraded.pairwise.of), (2, 1, 1));
    }

    #[test]
    fn the_points_most_often_wrong_come_worst_first_with_their_direction() {
        let cases = vec![case(&[("moon", Met), ("sun", Missed), ("two-bulges", Partial)], 60); 3];
        let run = vec![
            graded(0, &[("moon", Missed), ("sun", Met), ("two-bulges", Partial)]),
            graded(0, &[("moon", Missed), ("sun", Missed), ("two-bulges", Met)]),
            graded(0, &[("moon", Met), ("sun", Missed), ("two-bulges", Partial)]),
        ];
        let t = wrong_most(&cases, &[run.clone(), run]);
        let rows: Vec<(&str, usize, usize, usize, usize)> =
            t.iter().map(|m| (m.key_point.as_str(), m.wrong, m.of, m.higher, m.lower)).collect();
        // Over two runs: moon twice missed of three, sun once too generous, two-bulges once.
        assert_eq!(rows, [("moon", 4, 6, 0, 4), ("sun", 2, 6, 2, 0), ("two-bulges", 2, 6, 2, 0)]);
        assert!(t.iter().all(|m| m.question == "tides"));
        let right = vec![graded(0, &[("moon", Met), ("sun", Missed), ("two-bulges", Partial)]); 3];
        assert_eq!(wrong_most(&cases, &[right]), vec![], "a point never wrong is not listed");
    }

    #[test]
    fn overruled_counts_the_reviewed_grades_the_user_changed_per_grader() {
        let labels = [("moon", Met), ("sun", Missed)];
        let model = GraderInfo::Llm { model: "m".into(), endpoint: "http://h:1".into(), prompts_hash: "x".into() };
        let t = session(
            "aaaa0001",
            vec![
                turn(
                    "tides",
                    Some("a"),
                    vec![record(offline(), 0, &[("moon", Missed), ("sun", Missed)]), record(mine(0), 60, &labels)],
                ),
                turn("tides", Some("b"), vec![record(offline(), 60, &labels), record(mine(0), 60, &labels)]),
                turn(
                    "tides",
                    Some("c"),
                    vec![
                        record(offline(), 60, &labels),
                        record(model, 90, &[("moon", Met), ("sun", Met)]),
                        record(mine(1), 60, &labels),
                    ],
                ),
            ],
        );
        let set = from_transcripts("s".into(), [("a.json".to_string(), &t)], &bank());
        let rows = overruled(&set.cases);
        assert_eq!(rows.len(), 2);
        assert_eq!((rows[0].grader.clone(), rows[0].answers, rows[0].overruled, rows[0].changed), (offline(), 2, 1, 1));
        assert_eq!(rows[0].key_point_agreement.of, 4);
        assert_eq!((rows[1].answers, rows[1].overruled, rows[1].changed), (1, 1, 1));
    }
}
