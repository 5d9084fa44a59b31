//! Grades: what a grader concluded about one answer, and the score formula.
//!
//! A grade is either [`Grade::Graded`], with a score computed here from the verdicts, or
//! [`Grade::Ungraded`] with the reason: an error never stands in for a score of 0.

pub mod grader;
pub mod guard;
pub mod llm;
pub mod offline;
pub mod partial;
pub mod record;
pub mod reply;
pub mod resolve;

use serde::{Deserialize, Serialize};

use crate::bank::{Rubric, Severity};

/// Points (out of 100) a critical red flag leaves at most.
pub const CRITICAL_CAP: f64 = 30.0;
/// Points each minor red flag, and each other wrong claim, takes away.
pub const MINOR_PENALTY: f64 = 10.0;
/// The fewest words a quote needs to count as evidence: one or two words show that a
/// term was used, not that a point was made.
pub const MIN_QUOTE_WORDS: usize = 3;

/// How well an answer covered one key point.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// Covered.
    Met,
    /// Touched on, not explained.
    Partial,
    /// Not covered.
    Missed,
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Verdict::Met => "met",
            Verdict::Partial => "partial",
            Verdict::Missed => "missed",
        })
    }
}

impl Verdict {
    /// The credit the score formula gives: met 1, partial 0.5, missed 0.
    pub fn credit(self) -> f64 {
        match self {
            Verdict::Met => 1.0,
            Verdict::Partial => 0.5,
            Verdict::Missed => 0.0,
        }
    }
}

/// The verdict on one key point.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PointVerdict {
    /// The key point's id.
    pub id: String,
    /// How well it was covered.
    pub verdict: Verdict,
    /// The part of the answer that shows it, quoted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence: Option<String>,
    /// Why the verdict differs from what the grader first said, when it does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// A model grader's one-line reason for the verdict.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// With several samples, how many gave the kept verdict ("2/3").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agreement: Option<String>,
}

impl PointVerdict {
    /// A verdict with nothing beside it.
    pub fn bare(id: &str, verdict: Verdict) -> PointVerdict {
        PointVerdict { id: id.to_string(), verdict, evidence: None, note: None, reason: None, agreement: None }
    }
}

/// A wrong technical claim in the answer that no red flag of the rubric names.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClaimError {
    /// The claim, quoted from the answer.
    pub quote: String,
    /// What is true instead, in one line.
    pub correction: String,
    /// The key point the claim contradicts, when it contradicts one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub point: Option<String>,
}

impl ClaimError {
    /// Whether this claim contradicts a key point's verdict: it names the point, or it
    /// quotes the same text as the point's evidence (one quote holds the other).
    pub fn contradicts(&self, p: &PointVerdict) -> bool {
        if self.point.as_deref() == Some(p.id.as_str()) {
            return true;
        }
        let fold = |s: &str| s.to_lowercase().split_whitespace().collect::<Vec<_>>().join(" ");
        let q = fold(&self.quote);
        let q = q.trim_matches(|c: char| c == '"' || c == '\'' || c.is_whitespace());
        if q.is_empty() {
            return false;
        }
        p.evidence.as_deref().is_some_and(|e| {
            e.split('…')
                .map(fold)
                .map(|e| e.trim_matches(|c: char| c == '"' || c == '\'' || c.is_whitespace()).to_string())
                .filter(|e| !e.is_empty())
                .any(|e| e.contains(q) || q.contains(e.as_str()))
        })
    }
}

/// A red flag the answer raised.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FlagHit {
    /// The red flag's id.
    pub id: String,
    /// Its severity, copied from the rubric so a transcript reads on its own.
    pub severity: Severity,
    /// The part of the answer that raised it, quoted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence: Option<String>,
}

/// What to tell the candidate.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Feedback {
    /// What the answer did well.
    #[serde(default)]
    pub strengths: Vec<String>,
    /// What it missed.
    #[serde(default)]
    pub gaps: Vec<String>,
    /// The one thing to study next.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_step: Option<String>,
}

/// A grader's verdicts on one answer, before scoring.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Assessment {
    /// One verdict per key point of the rubric, in rubric order.
    pub key_points: Vec<PointVerdict>,
    /// The red flags raised (those not raised are absent).
    #[serde(default)]
    pub red_flags: Vec<FlagHit>,
    /// Other wrong technical claims, each quoted with a correction.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<ClaimError>,
    /// An overall 0-5 rating. Older transcripts hold one; it never enters the score.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub holistic: Option<u8>,
    /// What to tell the candidate.
    #[serde(default)]
    pub feedback: Feedback,
    /// Observations about the answer itself ("reads as a list of terms").
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// A model grader's short reasoning.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub analysis: Option<String>,
}

/// What a grader needs to know about the question asked. The session builds it from
/// what it asks; every grader reads it, so it lives here rather than with any one grader.
#[derive(Debug, Clone, Copy)]
pub struct Asked<'a> {
    /// Question id, for the prompt.
    pub id: &'a str,
    /// What was asked.
    pub prompt: &'a str,
    /// The reference answer.
    pub reference: &'a str,
    /// The rubric.
    pub rubric: Rubric<'a>,
}

/// The outcome of grading one answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "lowercase")]
pub enum Grade {
    /// The answer was graded; `score` comes from [`score`].
    Graded {
        /// 0 to 100.
        score: u8,
        /// The verdicts the score was computed from.
        #[serde(flatten)]
        assessment: Assessment,
    },
    /// The answer could not be graded; it is kept to be graded again.
    Ungraded {
        /// Why, in words for the user.
        reason: String,
        /// What the grader replied, when it replied something unusable.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        raw_reply: Option<String>,
    },
}

impl Grade {
    /// Scores an assessment against its rubric.
    pub fn graded(rubric: &Rubric<'_>, assessment: Assessment) -> Grade {
        Grade::Graded { score: score(rubric, &assessment), assessment }
    }

    /// The score, when graded.
    pub fn score(&self) -> Option<u8> {
        match self {
            Grade::Graded { score, .. } => Some(*score),
            Grade::Ungraded { .. } => None,
        }
    }

    /// The verdicts, when graded.
    pub fn assessment(&self) -> Option<&Assessment> {
        match self {
            Grade::Graded { assessment, .. } => Some(assessment),
            Grade::Ungraded { .. } => None,
        }
    }
}

/// The score of an assessment, 0 to 100.
///
/// 1. Coverage: each key point earns its weight times its verdict's credit (met 1,
///    partial 0.5, missed 0); a point the answer also contradicts (a wrong claim that
///    names it or quotes its evidence) earns at most partial. Coverage is the earned
///    share of the total weight.
/// 2. Each minor red flag and each other wrong claim takes `MINOR_PENALTY` points off;
///    any critical red flag caps the result at `CRITICAL_CAP`. The result is rounded and
///    kept within 0..=100.
///
/// Nothing else enters it: an overall rating, where an old transcript holds one, does
/// not. Verdicts for ids the rubric does not have are ignored, and rubric key points
/// with no verdict count as missed, so a grader can never raise a score by inventing ids.
pub fn score(rubric: &Rubric<'_>, a: &Assessment) -> u8 {
    let total: f64 = rubric.key_points.iter().map(|k| f64::from(k.weight)).sum();
    let earned: f64 = rubric
        .key_points
        .iter()
        .map(|k| {
            let credit = a.key_points.iter().find(|v| v.id == k.id).map_or(0.0, |v| {
                let c = v.verdict.credit();
                if a.errors.iter().any(|e| e.contradicts(v)) { c.min(Verdict::Partial.credit()) } else { c }
            });
            f64::from(k.weight) * credit
        })
        .sum();
    let coverage = if total > 0.0 { earned / total } else { 0.0 };
    let mut points = 100.0 * coverage - MINOR_PENALTY * a.errors.len() as f64;
    let known = |id: &str| rubric.red_flags.iter().find(|f| f.id == id);
    let mut critical = false;
    for hit in &a.red_flags {
        match known(&hit.id).map(|f| f.severity) {
            Some(Severity::Minor) => points -= MINOR_PENALTY,
            Some(Severity::Critical) => critical = true,
            None => {}
        }
    }
    if critical {
        points = points.min(CRITICAL_CAP);
    }
    points.round().clamp(0.0, 100.0) as u8
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bank::{KeyPoint, RedFlag};

    fn kp(id: &str, weight: u32) -> KeyPoint {
        KeyPoint { id: id.into(), point: String::new(), weight, cues: vec!["x".into()] }
    }

    fn flag(id: &str, severity: Severity) -> RedFlag {
        RedFlag { id: id.into(), point: String::new(), severity, cues: vec!["x".into()] }
    }

    fn verdicts(v: &[(&str, Verdict)]) -> Assessment {
        Assessment {
            key_points: v.iter().map(|(id, verdict)| PointVerdict::bare(id, *verdict)).collect(),
            red_flags: vec![],
            errors: vec![],
            holistic: None,
            feedback: Feedback::default(),
            notes: vec![],
            analysis: None,
        }
    }

    fn rubric<'a>(kps: &'a [KeyPoint], flags: &'a [RedFlag]) -> Rubric<'a> {
        Rubric { reference: "", testing: "", key_points: kps, red_flags: flags }
    }

    #[test]
    fn coverage_is_weighted() {
        let kps = [kp("a", 2), kp("b", 1), kp("c", 1)];
        let r = rubric(&kps, &[]);
        assert_eq!(score(&r, &verdicts(&[("a", Verdict::Met), ("b", Verdict::Missed), ("c", Verdict::Missed)])), 50);
        assert_eq!(score(&r, &verdicts(&[("a", Verdict::Partial), ("b", Verdict::Met), ("c", Verdict::Met)])), 75);
        assert_eq!(score(&r, &verdicts(&[("a", Verdict::Met), ("b", Verdict::Met), ("c", Verdict::Met)])), 100);
    }

    #[test]
    fn missing_and_invented_ids_earn_nothing() {
        let kps = [kp("a", 1), kp("b", 1)];
        let r = rubric(&kps, &[]);
        assert_eq!(score(&r, &verdicts(&[("a", Verdict::Met), ("zzz", Verdict::Met)])), 50);
    }

    #[test]
    fn a_rating_never_enters_the_score() {
        let kps = [kp("a", 1), kp("b", 1)];
        let r = rubric(&kps, &[]);
        let mut a = verdicts(&[("a", Verdict::Met), ("b", Verdict::Missed)]);
        for h in [None, Some(0), Some(5), Some(200)] {
            a.holistic = h;
            assert_eq!(score(&r, &a), 50, "holistic {h:?}");
        }
    }

    fn error(quote: &str, point: Option<&str>) -> ClaimError {
        ClaimError { quote: quote.into(), correction: "no".into(), point: point.map(Into::into) }
    }

    #[test]
    fn an_error_costs_like_a_minor_flag_and_caps_the_point_it_contradicts() {
        let kps = [kp("a", 1), kp("b", 1)];
        let r = rubric(&kps, &[]);
        let mut a = verdicts(&[("a", Verdict::Met), ("b", Verdict::Met)]);
        a.key_points[0].evidence = Some("the GIL is released during I/O".into());
        // Unrelated to either point: only the penalty.
        a.errors = vec![error("threads never run in parallel", None)];
        assert_eq!(score(&r, &a), 90);
        // Quotes the same text as a's evidence: a earns at most partial, and the penalty.
        a.errors = vec![error("released during I/O", None)];
        assert_eq!(score(&r, &a), 65);
        // Names b: b earns at most partial.
        a.errors = vec![error("something else entirely", Some("b"))];
        assert_eq!(score(&r, &a), 65);
        // A missed point stays missed.
        a.key_points[1].verdict = Verdict::Missed;
        assert_eq!(score(&r, &a), 40);
    }

    #[test]
    fn red_flags_lower_and_cap() {
        let kps = [kp("a", 1)];
        let flags = [flag("m", Severity::Minor), flag("c", Severity::Critical)];
        let r = rubric(&kps, &flags);
        let mut a = verdicts(&[("a", Verdict::Met)]);
        a.red_flags.push(FlagHit { id: "m".into(), severity: Severity::Minor, evidence: None });
        assert_eq!(score(&r, &a), 90);
        a.red_flags.push(FlagHit { id: "c".into(), severity: Severity::Critical, evidence: None });
        assert_eq!(score(&r, &a), 30);
        let mut low = verdicts(&[("a", Verdict::Missed)]);
        low.red_flags.push(FlagHit { id: "m".into(), severity: Severity::Minor, evidence: None });
        assert_eq!(score(&r, &low), 0, "never below zero");
    }

    #[test]
    fn an_old_grade_with_a_rating_loads_with_its_stored_score() {
        // Saved before verdicts were voted or wrong claims quoted, when a 0-5 rating took 20%.
        let old = r#"{"status":"graded","score":72,"key_points":[{"id":"a","verdict":"met","evidence":"x y z"},
            {"id":"b","verdict":"missed"}],"red_flags":[],"holistic":3,"feedback":{"strengths":[],"gaps":[]},
            "analysis":"fine"}"#;
        let g: Grade = serde_json::from_str(old).unwrap();
        assert_eq!(g.score(), Some(72), "the stored score stands; nothing is recomputed on load");
        let a = g.assessment().unwrap();
        assert_eq!(a.holistic, Some(3));
        assert!(a.errors.is_empty());
        assert_eq!((a.key_points[0].reason.as_deref(), a.key_points[0].agreement.as_deref()), (None, None));
        let again = serde_json::to_string(&g).unwrap();
        assert!(
            again.contains("\"holistic\":3") && !again.contains("errors") && !again.contains("agreement"),
            "{again}"
        );
    }

    #[test]
    fn a_grade_round_trips_through_json() {
        let kps = [kp("a", 1)];
        let g = Grade::graded(&rubric(&kps, &[]), verdicts(&[("a", Verdict::Partial)]));
        let json = serde_json::to_string(&g).unwrap();
        assert!(json.contains("\"status\":\"graded\"") && json.contains("\"score\":50"), "{json}");
        assert_eq!(serde_json::from_str::<Grade>(&json).unwrap(), g);
        let u = Grade::Ungraded { reason: "timed out".into(), raw_reply: None };
        let json = serde_json::to_string(&u).unwrap();
        assert_eq!(serde_json::from_str::<Grade>(&json).unwrap(), u);
        assert_eq!(u.score(), None);
    }
}
