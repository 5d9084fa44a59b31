//! The figures `grill eval` reports, as plain functions of labelled, graded answers.
//!
//! Definitions (also in `docs/calibration.md`):
//! - pairwise ordering: over every question, every pair of a correct kind (excellent,
//!   good, paraphrase, code, plain, partial, rambling) and a bad kind (vague, wrong,
//!   keyword-wrong, off-topic, idk, stuffed);
//!   a pair counts 1 when the correct answer scores higher, ½ on a tie, 0 otherwise;
//! - Kendall tau-b per question between the kinds' tiers and the scores, then the mean;
//! - key-point precision and recall: a key point is credited when the grader says met or
//!   partial, and should be when the label covers it; points labelled `partly` are left out;
//! - key-point agreement: Cohen's kappa between the grader's verdicts and the labels over
//!   met / partial / missed (`covers` is met, `partly` partial, anything else missed);
//! - flip rate: over runs, the share of (answer, key point) verdicts that were not the same
//!   in every run.

use std::collections::BTreeMap;

use serde::Serialize;

use super::set::{CalQuestion, CalibrationSet, Half, Kind};
use crate::grade::Verdict;

/// What a grader said about one calibration answer.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// A score with its verdicts.
    Graded {
        /// 0-100.
        score: u8,
        /// Key point id and verdict.
        verdicts: Vec<(String, Verdict)>,
        /// Red flag ids raised.
        flags: Vec<String>,
        /// Whether the answer guard found text addressed to the grader.
        flagged: bool,
    },
    /// The grader could not grade it.
    Ungraded(String),
}

impl Outcome {
    /// The score, when graded.
    pub fn score(&self) -> Option<f64> {
        match self {
            Outcome::Graded { score, .. } => Some(f64::from(*score)),
            Outcome::Ungraded(_) => None,
        }
    }
}

/// A count out of a total.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Ratio {
    /// How many passed (ties in pairwise count ½).
    pub hits: f64,
    /// Out of how many.
    pub of: usize,
}

impl Ratio {
    /// The share, or `None` when there was nothing to count.
    pub fn value(&self) -> Option<f64> {
        (self.of > 0).then(|| self.hits / self.of as f64)
    }
}

/// Precision, recall and F1 with their counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Prf {
    /// Credited and labelled.
    pub true_positives: usize,
    /// Credited, not labelled.
    pub false_positives: usize,
    /// Labelled, not credited.
    pub false_negatives: usize,
    /// TP / (TP + FP).
    pub precision: Option<f64>,
    /// TP / (TP + FN).
    pub recall: Option<f64>,
    /// Harmonic mean of the two.
    pub f1: Option<f64>,
}

impl Prf {
    /// The figures of these counts.
    pub fn from_counts(tp: usize, fp: usize, fn_: usize) -> Prf {
        let div = |a: usize, b: usize| (b > 0).then(|| a as f64 / b as f64);
        let precision = div(tp, tp + fp);
        let recall = div(tp, tp + fn_);
        let f1 = match (precision, recall) {
            (Some(p), Some(r)) if p + r > 0.0 => Some(2.0 * p * r / (p + r)),
            (Some(_), Some(_)) => Some(0.0),
            _ => None,
        };
        Prf { true_positives: tp, false_positives: fp, false_negatives: fn_, precision, recall, f1 }
    }
}

/// Chance-corrected agreement of two raters over the same items.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Agreement {
    /// Items both rated.
    pub of: usize,
    /// The share of items rated the same.
    pub observed: Option<f64>,
    /// The share expected by chance, from each rater's own category shares.
    pub expected: Option<f64>,
    /// Cohen's kappa, (observed - expected) / (1 - expected); `None` when there is nothing
    /// to rate or chance alone agrees on every item (both raters use one category).
    pub kappa: Option<f64>,
}

/// Cohen's kappa over met / partial / missed: `pairs` is (label, verdict) per key point.
/// Cohen's rather than Scott's pi because the two raters are not interchangeable: a grader
/// may credit more generously than the labels do, and each is given its own marginals.
pub fn cohen_kappa(pairs: &[(Verdict, Verdict)]) -> Agreement {
    let idx = |v: Verdict| match v {
        Verdict::Met => 0,
        Verdict::Partial => 1,
        Verdict::Missed => 2,
    };
    let n = pairs.len();
    if n == 0 {
        return Agreement::default();
    }
    let (mut same, mut a, mut b) = (0usize, [0usize; 3], [0usize; 3]);
    for &(x, y) in pairs {
        same += usize::from(x == y);
        a[idx(x)] += 1;
        b[idx(y)] += 1;
    }
    let nf = n as f64;
    let observed = same as f64 / nf;
    let expected = (0..3).map(|i| (a[i] as f64 / nf) * (b[i] as f64 / nf)).sum::<f64>();
    let kappa = (expected < 1.0 - 1e-12).then(|| (observed - expected) / (1.0 - expected));
    Agreement { of: n, observed: Some(observed), expected: Some(expected), kappa }
}

/// The verdict a label stands for: `covers` is met, `partly` partial, anything else missed.
fn labelled(case: &super::set::Case, id: &str) -> Verdict {
    if case.covers.iter().any(|c| c == id) {
        Verdict::Met
    } else if case.partly.iter().any(|c| c == id) {
        Verdict::Partial
    } else {
        Verdict::Missed
    }
}

/// An injection answer against the answer it extends.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InjectionResult {
    /// The question.
    pub question: String,
    /// The injection kind.
    pub kind: Kind,
    /// The base kind.
    pub base: Kind,
    /// The base answer's score.
    pub base_score: f64,
    /// The injection answer's score.
    pub score: f64,
    /// Whether the answer guard flagged it.
    pub flagged: bool,
}

/// A pair of answers ranked the wrong way round (or tied), for the report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Misorder {
    /// The question.
    pub question: String,
    /// The kind that should score higher, and its score.
    pub better: KindScore,
    /// The kind that should score lower, and its score.
    pub worse: KindScore,
}

/// One answer of a misordered pair: an object rather than a `[kind, score]` pair, so a
/// script reads it by name.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct KindScore {
    /// The kind of answer.
    pub kind: Kind,
    /// Its score.
    pub score: f64,
}

/// Every figure of one run over the set.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunFigures {
    /// Answers graded.
    pub graded: usize,
    /// Answers the grader could not grade (left out of every figure).
    pub ungraded: usize,
    /// Correct kinds above bad kinds.
    pub pairwise: Ratio,
    /// Mean over questions of Kendall tau-b between tiers and scores.
    pub kendall_tau: Option<f64>,
    /// Questions whose stuffed answer scored strictly below the partial one.
    pub stuffed_below_partial: Ratio,
    /// Mean score per kind.
    pub mean_by_kind: BTreeMap<Kind, f64>,
    /// Key-point verdicts against the labels.
    pub key_points: Prf,
    /// Key-point verdicts against the labels, met / partial / missed, corrected for chance.
    pub key_point_agreement: Agreement,
    /// Red flags raised against the labels.
    pub red_flags: Prf,
    /// Injection answers that scored no higher than their base.
    pub injection_not_above_base: Ratio,
    /// Injection answers the answer guard flagged.
    pub injection_flagged: Ratio,
    /// Every injection answer with its base's score.
    pub injections: Vec<InjectionResult>,
    /// Correct/bad pairs ranked wrong or tied.
    pub misordered: Vec<Misorder>,
}

/// Computes the figures of one run: `outcomes[q][c]` is the outcome of `set.questions[q].cases[c]`.
pub fn figures(set: &CalibrationSet, outcomes: &[Vec<Outcome>]) -> RunFigures {
    figures_over(set.questions.iter().zip(outcomes))
}

/// The figures of one run over the questions of one half, or `None` when no question is
/// in it (questions without a half count only in [`figures`]).
pub fn figures_of_half(set: &CalibrationSet, outcomes: &[Vec<Outcome>], half: Half) -> Option<RunFigures> {
    let mut of_half = set.questions.iter().zip(outcomes).filter(|(q, _)| q.half == half).peekable();
    of_half.peek()?;
    Some(figures_over(of_half))
}

fn figures_over<'a>(questions: impl Iterator<Item = (&'a CalQuestion, &'a Vec<Outcome>)>) -> RunFigures {
    let mut pairwise = Ratio::default();
    let mut taus = Vec::new();
    let mut stuffed = Ratio::default();
    let mut by_kind: BTreeMap<Kind, Vec<f64>> = BTreeMap::new();
    let (mut kp, mut rf) = ([0usize; 3], [0usize; 3]);
    let mut injections = Vec::new();
    let mut misordered = Vec::new();
    let mut agreement = Vec::new();
    let (mut graded, mut ungraded) = (0, 0);
    for (q, outs) in questions {
        let score_of = |k: Kind| q.cases.iter().position(|c| c.kind == k).and_then(|i| outs.get(i)?.score());
        for (case, out) in q.cases.iter().zip(outs) {
            let Outcome::Graded { score, verdicts, flags, .. } = out else {
                ungraded += 1;
                continue;
            };
            graded += 1;
            by_kind.entry(case.kind).or_default().push(f64::from(*score));
            if case.kind.is_injection() {
                continue;
            }
            for (id, v) in verdicts {
                agreement.push((labelled(case, id), *v));
                if case.partly.contains(id) {
                    continue;
                }
                let credited = *v != Verdict::Missed;
                let labelled = case.covers.contains(id);
                match (credited, labelled) {
                    (true, true) => kp[0] += 1,
                    (true, false) => kp[1] += 1,
                    (false, true) => kp[2] += 1,
                    (false, false) => {}
                }
            }
            for id in flags {
                if case.red_flags.contains(id) { rf[0] += 1 } else { rf[1] += 1 }
            }
            rf[2] += case.red_flags.iter().filter(|id| !flags.contains(id)).count();
        }
        let ranked: Vec<(Kind, f64)> =
            Kind::ALL.iter().filter(|k| k.tier().is_some()).filter_map(|&k| Some((k, score_of(k)?))).collect();
        for &(good, gs) in ranked.iter().filter(|(k, _)| k.is_correct()) {
            for &(bad, bs) in ranked.iter().filter(|(k, _)| !k.is_correct()) {
                pairwise.of += 1;
                pairwise.hits += if gs > bs {
                    1.0
                } else if gs == bs {
                    0.5
                } else {
                    0.0
                };
                if gs <= bs {
                    misordered.push(Misorder {
                        question: q.question.clone(),
                        better: KindScore { kind: good, score: gs },
                        worse: KindScore { kind: bad, score: bs },
                    });
                }
            }
        }
        let tiers: Vec<f64> = ranked.iter().map(|(k, _)| f64::from(k.tier().unwrap_or(0))).collect();
        let scores: Vec<f64> = ranked.iter().map(|(_, s)| *s).collect();
        if let Some(t) = kendall_tau_b(&tiers, &scores) {
            taus.push(t);
        }
        if let (Some(s), Some(p)) = (score_of(Kind::Stuffed), score_of(Kind::Partial)) {
            stuffed.of += 1;
            if s < p {
                stuffed.hits += 1.0;
            }
        }
        for case in q.cases.iter().filter(|c| c.kind.is_injection()) {
            let (Some(base), Some(score)) = (case.base, score_of(case.kind)) else { continue };
            let Some(base_score) = score_of(base) else { continue };
            let flagged = q
                .cases
                .iter()
                .position(|c| c.kind == case.kind)
                .and_then(|i| outs.get(i))
                .is_some_and(|o| matches!(o, Outcome::Graded { flagged: true, .. }));
            injections.push(InjectionResult {
                question: q.question.clone(),
                kind: case.kind,
                base,
                base_score,
                score,
                flagged,
            });
        }
    }
    let injection_not_above_base =
        Ratio { hits: injections.iter().filter(|i| i.score <= i.base_score).count() as f64, of: injections.len() };
    let injection_flagged =
        Ratio { hits: injections.iter().filter(|i| i.flagged).count() as f64, of: injections.len() };
    RunFigures {
        graded,
        ungraded,
        pairwise,
        kendall_tau: (!taus.is_empty()).then(|| taus.iter().sum::<f64>() / taus.len() as f64),
        stuffed_below_partial: stuffed,
        mean_by_kind: by_kind.into_iter().map(|(k, v)| (k, v.iter().sum::<f64>() / v.len() as f64)).collect(),
        key_points: Prf::from_counts(kp[0], kp[1], kp[2]),
        key_point_agreement: cohen_kappa(&agreement),
        red_flags: Prf::from_counts(rf[0], rf[1], rf[2]),
        injection_not_above_base,
        injection_flagged,
        injections,
        misordered,
    }
}

/// Kendall's tau-b between two rankings, with ties in either; `None` when either side
/// is all ties (the coefficient is undefined).
pub fn kendall_tau_b(x: &[f64], y: &[f64]) -> Option<f64> {
    let n = x.len().min(y.len());
    let (mut concordant, mut discordant, mut ties_x, mut ties_y) = (0i64, 0i64, 0i64, 0i64);
    for i in 0..n {
        for j in i + 1..n {
            use std::cmp::Ordering::Equal;
            let (dx, dy) = (x[i].total_cmp(&x[j]), y[i].total_cmp(&y[j]));
            match (dx == Equal, dy == Equal) {
                (true, true) => {}
                (true, false) => ties_x += 1,
                (false, true) => ties_y += 1,
                (false, false) if dx == dy => concordant += 1,
                (false, false) => discordant += 1,
            }
        }
    }
    let denom = (((concordant + discordant + ties_x) * (concordant + discordant + ties_y)) as f64).sqrt();
    (denom > 0.0).then(|| (concordant - discordant) as f64 / denom)
}

/// How much scores moved between runs of the same grader.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Spread {
    /// Runs compared.
    pub runs: usize,
    /// Mean over answers of (highest - lowest score).
    pub mean_range: f64,
    /// The largest such range.
    pub max_range: f64,
    /// Mean over answers of the standard deviation of the score.
    pub mean_stdev: f64,
}

/// The spread of each answer's score over `runs[r][q][c]`.
pub fn spread(runs: &[Vec<Vec<Outcome>>]) -> Spread {
    let mut ranges = Vec::new();
    let mut stdevs = Vec::new();
    let Some(first) = runs.first() else {
        return Spread { runs: 0, mean_range: 0.0, max_range: 0.0, mean_stdev: 0.0 };
    };
    for (q, outs) in first.iter().enumerate() {
        for c in 0..outs.len() {
            let scores: Vec<f64> = runs.iter().filter_map(|r| r.get(q)?.get(c)?.score()).collect();
            if scores.len() < 2 {
                continue;
            }
            let (lo, hi) = scores.iter().fold((f64::MAX, f64::MIN), |(lo, hi), &s| (lo.min(s), hi.max(s)));
            let mean = scores.iter().sum::<f64>() / scores.len() as f64;
            let var = scores.iter().map(|s| (s - mean).powi(2)).sum::<f64>() / (scores.len() - 1) as f64;
            ranges.push(hi - lo);
            stdevs.push(var.sqrt());
        }
    }
    let mean = |v: &[f64]| if v.is_empty() { 0.0 } else { v.iter().sum::<f64>() / v.len() as f64 };
    Spread {
        runs: runs.len(),
        mean_range: mean(&ranges),
        max_range: ranges.iter().copied().fold(0.0, f64::max),
        mean_stdev: mean(&stdevs),
    }
}

/// How often key-point verdicts changed between runs of the same grader.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Flips {
    /// Runs compared.
    pub runs: usize,
    /// (answer, key point) verdicts given in at least two runs.
    pub verdicts: usize,
    /// Those not the same in every run.
    pub flipped: usize,
    /// `flipped / verdicts`; `None` when nothing was compared.
    pub rate: Option<f64>,
}

/// The flip rate over `runs[r][q][c]`: per answer and key point, whether the verdict was
/// the same in every run that graded the answer (an ungraded run is left out).
pub fn flips(runs: &[Vec<Vec<Outcome>>]) -> Flips {
    let mut f = Flips { runs: runs.len(), ..Flips::default() };
    let Some(first) = runs.first() else { return f };
    for (q, outs) in first.iter().enumerate() {
        for c in 0..outs.len() {
            let mut by_point: BTreeMap<&str, Vec<Verdict>> = BTreeMap::new();
            for run in runs {
                if let Some(Outcome::Graded { verdicts, .. }) = run.get(q).and_then(|r| r.get(c)) {
                    for (id, v) in verdicts {
                        by_point.entry(id.as_str()).or_default().push(*v);
                    }
                }
            }
            for seen in by_point.values().filter(|v| v.len() >= 2) {
                f.verdicts += 1;
                if seen.iter().any(|v| *v != seen[0]) {
                    f.flipped += 1;
                }
            }
        }
    }
    f.rate = (f.verdicts > 0).then(|| f.flipped as f64 / f.verdicts as f64);
    f
}

#[cfg(test)]
mod tests {
    use super::super::set::{CalQuestion, Case, Half};
    use super::*;

    #[test]
    fn tau_b_is_one_for_the_same_order_and_minus_one_reversed() {
        assert_eq!(kendall_tau_b(&[1.0, 2.0, 3.0], &[10.0, 20.0, 30.0]), Some(1.0));
        assert_eq!(kendall_tau_b(&[1.0, 2.0, 3.0], &[30.0, 20.0, 10.0]), Some(-1.0));
        assert_eq!(kendall_tau_b(&[1.0, 1.0], &[3.0, 4.0]), None);
    }

    #[test]
    fn tau_b_handles_ties_on_both_sides() {
        // Tiers 3,2,1,1 against scores 90,50,0,0: the tied pair is tied on both sides.
        let t = kendall_tau_b(&[3.0, 2.0, 1.0, 1.0], &[90.0, 50.0, 0.0, 0.0]).unwrap();
        assert!((t - 1.0).abs() < 1e-9, "{t}");
        // Scores that tie what the tiers separate lower tau.
        let t = kendall_tau_b(&[3.0, 2.0, 1.0], &[50.0, 50.0, 0.0]).unwrap();
        assert!(t < 1.0 && t > 0.5, "{t}");
    }

    fn case(kind: Kind, covers: &[&str]) -> Case {
        Case {
            kind,
            text: String::new(),
            covers: covers.iter().map(|s| s.to_string()).collect(),
            partly: vec![],
            red_flags: vec![],
            base: kind.is_injection().then_some(Kind::Partial),
        }
    }

    fn graded(score: u8, met: &[&str]) -> Outcome {
        let verdicts = ["a", "b"]
            .iter()
            .map(|id| (id.to_string(), if met.contains(id) { Verdict::Met } else { Verdict::Missed }))
            .collect();
        Outcome::Graded { score, verdicts, flags: vec![], flagged: false }
    }

    #[test]
    fn figures_count_pairs_ties_stuffing_points_and_injections() {
        let kinds = [Kind::Excellent, Kind::Partial, Kind::Stuffed, Kind::Idk, Kind::InjectionPlea];
        let set = CalibrationSet {
            source: "t".into(),
            questions: vec![CalQuestion {
                question: "q".into(),
                file: "f".into(),
                half: Half::Tune,
                cases: kinds
                    .iter()
                    .map(|&k| match k {
                        Kind::Excellent => case(k, &["a", "b"]),
                        Kind::Partial => case(k, &["a"]),
                        _ => case(k, &[]),
                    })
                    .collect(),
            }],
        };
        let outs = vec![vec![
            graded(100, &["a", "b"]),
            graded(40, &["a"]),
            graded(40, &["b"]),
            graded(0, &[]),
            graded(55, &["a"]),
        ]];
        let f = figures(&set, &outs);
        // excellent > stuffed, excellent > idk, partial = stuffed (½), partial > idk.
        assert_eq!(f.pairwise, Ratio { hits: 3.5, of: 4 });
        assert_eq!(f.stuffed_below_partial, Ratio { hits: 0.0, of: 1 });
        assert_eq!(f.misordered.len(), 1);
        // TP: excellent a, b; partial a. FP: stuffed b. The injection is not counted.
        assert_eq!((f.key_points.true_positives, f.key_points.false_positives), (3, 1));
        assert_eq!(f.key_points.false_negatives, 0);
        // Agreement over 8 verdicts, 7 the same; labels 3 met 5 missed, verdicts 4 and 4:
        // chance .5, kappa (.875 - .5) / .5.
        assert_eq!(f.key_point_agreement.of, 8);
        assert!(close(f.key_point_agreement.kappa, 0.75), "{:?}", f.key_point_agreement);
        assert_eq!(f.injection_not_above_base, Ratio { hits: 0.0, of: 1 });
        assert_eq!(f.mean_by_kind[&Kind::Excellent], 100.0);
    }

    #[test]
    fn ungraded_answers_are_left_out_and_counted() {
        let set = CalibrationSet {
            source: "t".into(),
            questions: vec![CalQuestion {
                question: "q".into(),
                file: "f".into(),
                half: Half::Tune,
                cases: vec![case(Kind::Good, &[]), case(Kind::Vague, &[])],
            }],
        };
        let f = figures(&set, &[vec![Outcome::Ungraded("down".into()), graded(10, &[])]]);
        assert_eq!((f.graded, f.ungraded), (1, 1));
        assert_eq!(f.pairwise.of, 0);
    }

    fn close(a: Option<f64>, b: f64) -> bool {
        a.is_some_and(|a| (a - b).abs() < 1e-9)
    }

    #[test]
    fn kappa_on_a_hand_counted_table() {
        use Verdict::{Met as M, Missed as X, Partial as P};
        // 10 items. Labels: 4 met, 2 partial, 4 missed. Verdicts agree on 3 met, 1 partial,
        // 3 missed; the rest: (M,P), (P,X), (X,M).
        let pairs = [(M, M), (M, M), (M, M), (M, P), (P, P), (P, X), (X, X), (X, X), (X, X), (X, M)];
        let a = cohen_kappa(&pairs);
        assert_eq!(a.of, 10);
        assert!(close(a.observed, 0.7));
        // Verdicts: 4 met, 2 partial, 4 missed. Chance: .4*.4 + .2*.2 + .4*.4 = .36.
        assert!(close(a.expected, 0.36));
        assert!(close(a.kappa, (0.7 - 0.36) / 0.64));
    }

    #[test]
    fn kappa_is_one_for_full_agreement_and_can_fall_below_zero() {
        use Verdict::{Met as M, Missed as X};
        assert!(close(cohen_kappa(&[(M, M), (X, X)]).kappa, 1.0));
        // Always the opposite: observed 0, chance .5, kappa -1.
        assert!(close(cohen_kappa(&[(M, X), (X, M)]).kappa, -1.0));
        // A grader that says met to everything agrees with half the labels by chance alone.
        let a = cohen_kappa(&[(M, M), (X, M)]);
        assert!(close(a.observed, 0.5) && close(a.expected, 0.5) && close(a.kappa, 0.0));
    }

    #[test]
    fn kappa_is_undefined_when_empty_or_all_one_category() {
        assert_eq!(cohen_kappa(&[]), Agreement { of: 0, observed: None, expected: None, kappa: None });
        let a = cohen_kappa(&[(Verdict::Missed, Verdict::Missed); 3]);
        assert!(close(a.observed, 1.0) && close(a.expected, 1.0));
        assert_eq!(a.kappa, None, "chance alone agrees on every item");
    }

    #[test]
    fn figures_per_half_count_only_the_questions_of_that_half() {
        let q = |id: &str, half| CalQuestion {
            question: id.into(),
            file: "f".into(),
            half,
            cases: vec![case(Kind::Good, &["a"]), case(Kind::Vague, &[])],
        };
        let set = CalibrationSet {
            source: "t".into(),
            questions: vec![q("t1", Half::Tune), q("c1", Half::Check), q("t2", Half::Tune)],
        };
        let right = vec![graded(80, &["a"]), graded(10, &[])];
        let wrong = vec![graded(10, &[]), graded(80, &["a"])];
        let outs = vec![right.clone(), wrong, right];
        assert_eq!(figures(&set, &outs).pairwise, Ratio { hits: 2.0, of: 3 });
        let tune = figures_of_half(&set, &outs, Half::Tune).unwrap();
        assert_eq!((tune.pairwise, tune.graded), (Ratio { hits: 2.0, of: 2 }, 4));
        assert_eq!(tune.key_points.true_positives, 2);
        let check = figures_of_half(&set, &outs, Half::Check).unwrap();
        assert_eq!(check.pairwise, Ratio { hits: 0.0, of: 1 });
        assert_eq!(check.misordered.len(), 1);
        assert_eq!((check.key_points.false_negatives, check.key_points.false_positives), (1, 1));
        let tune_only = CalibrationSet { source: "t".into(), questions: vec![q("t1", Half::Tune)] };
        assert_eq!(figures_of_half(&tune_only, &outs[..1], Half::Check), None);
    }

    #[test]
    fn flips_count_verdicts_that_change_between_runs() {
        let run = |met: &[&str]| vec![vec![graded(50, met), graded(50, &["a"])]];
        // Answer 1: a flips (met, missed, met), b stays missed; answer 2 never changes.
        let f = flips(&[run(&["a"]), run(&[]), run(&["a"])]);
        assert_eq!(f, Flips { runs: 3, verdicts: 4, flipped: 1, rate: Some(0.25) });
        // Partial against met is a flip too; an ungraded run is left out.
        let partial = Outcome::Graded {
            score: 50,
            verdicts: vec![("a".into(), Verdict::Partial), ("b".into(), Verdict::Missed)],
            flags: vec![],
            flagged: false,
        };
        let down = Outcome::Ungraded("down".into());
        let f = flips(&[vec![vec![graded(50, &["a"]), down.clone()]], vec![vec![partial, graded(50, &[])]]]);
        assert_eq!((f.verdicts, f.flipped), (2, 1), "the second answer was graded once: nothing to compare");
    }

    #[test]
    fn flips_of_one_run_or_none_are_undefined() {
        assert_eq!(flips(&[]), Flips::default());
        let f = flips(&[vec![vec![graded(50, &["a"])]]]);
        assert_eq!((f.runs, f.verdicts, f.rate), (1, 0, None));
    }

    #[test]
    fn spread_measures_how_far_scores_move_between_runs() {
        let run = |s: u8| vec![vec![graded(s, &[]), graded(50, &[])]];
        let s = spread(&[run(60), run(80), run(70)]);
        assert_eq!(s.max_range, 20.0);
        assert_eq!(s.mean_range, 10.0);
        assert_eq!(s.runs, 3);
    }
}
