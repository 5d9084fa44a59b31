//! The checklist the user gives their own word on: a grader's verdict for every key point,
//! the red flags and wrong claims it raised, and the keys that confirm or change them.
//!
//! Pure: built from a rubric and the reviewed assessment, fed one typed line at a time,
//! it says what the line did and, once accepted, the user's [`Assessment`]. The terminal
//! (or a script) that types the lines and draws the list is the caller's.

use crate::bank::{Rubric, Severity};
use crate::grade::{Assessment, ClaimError, FlagHit, Grade, PointVerdict, Verdict};

/// The keys, as `?` shows them.
pub const KEYS: &str = "\
Enter     accept the verdicts as shown
2         cycle point 2: met → partial → missed → met
2m 2p 2x  set point 2 to met, partial or missed
f1        clear red flag 1, or restore it
1x 3p     several keys on one line
?         show these keys
q         leave without recording anything";

/// The one-line reminder under the list.
pub const KEYS_SHORT: &str =
    "Enter accepts · 2 cycles point 2 · 2m 2p 2x set it · f1 clears a flag · ? keys · q leaves";

/// One key point of the list.
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    /// The key point's id.
    pub id: String,
    /// What it says.
    pub text: String,
    /// What the grader said.
    pub grader: Verdict,
    /// What the user says (the grader's verdict until they change it).
    pub verdict: Verdict,
    /// What the grader quoted for it.
    pub evidence: Option<String>,
}

/// One red flag raised, or one wrong claim quoted, that the user may clear.
#[derive(Debug, Clone, PartialEq)]
pub struct Flag {
    /// What it says: the red flag's words, or the claim and its correction.
    pub text: String,
    /// A red flag's severity; `None` for a wrong claim (which costs like a minor flag).
    pub severity: Option<Severity>,
    /// The part of the answer that raised it.
    pub evidence: Option<String>,
    /// Whether the user cleared it.
    pub cleared: bool,
}

/// What one typed line did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// Verdicts or flags changed (or nothing did): draw the list again.
    Changed,
    /// `?`: show [`KEYS`].
    Help,
    /// A key that means nothing here, and why; nothing on the line was applied.
    Invalid(String),
    /// An empty line: the verdicts as shown are the user's word.
    Accepted,
    /// `q`: leave without recording anything.
    Quit,
}

/// A grader's verdicts under the user's review.
#[derive(Debug, Clone)]
pub struct Checklist<'r> {
    rubric: Rubric<'r>,
    reviewed: Assessment,
    points: Vec<Point>,
    /// The red flags raised, then the wrong claims quoted: `f1`, `f2`, … in that order.
    flags: Vec<Flag>,
}

/// One parsed key.
enum Key {
    Cycle(usize),
    Set(usize, Verdict),
    Flag(usize),
}

impl<'r> Checklist<'r> {
    /// The list of `reviewed`'s verdicts on `rubric`'s key points, in rubric order (a point
    /// the grader gave no verdict counts as missed, as the score counts it).
    pub fn new(rubric: Rubric<'r>, reviewed: &Assessment) -> Checklist<'r> {
        let points = rubric
            .key_points
            .iter()
            .map(|k| {
                let v = reviewed.key_points.iter().find(|v| v.id == k.id);
                let grader = v.map_or(Verdict::Missed, |v| v.verdict);
                Point {
                    id: k.id.clone(),
                    text: k.point.clone(),
                    grader,
                    verdict: grader,
                    evidence: v.and_then(|v| v.evidence.clone()).filter(|e| !e.trim().is_empty()),
                }
            })
            .collect();
        let flags = reviewed
            .red_flags
            .iter()
            .map(|hit| Flag {
                text: rubric.red_flags.iter().find(|f| f.id == hit.id).map_or(hit.id.clone(), |f| f.point.clone()),
                severity: Some(hit.severity),
                evidence: hit.evidence.clone().filter(|e| !e.trim().is_empty()),
                cleared: false,
            })
            .chain(reviewed.errors.iter().map(|e| Flag {
                text: format!("wrong claim: \"{}\" ({})", e.quote, e.correction),
                severity: None,
                evidence: None,
                cleared: false,
            }))
            .collect();
        Checklist { rubric, reviewed: reviewed.clone(), points, flags }
    }

    /// The key points, numbered from 1 in this order.
    pub fn points(&self) -> &[Point] {
        &self.points
    }

    /// The red flags and wrong claims, numbered `f1`, `f2`, … in this order.
    pub fn flags(&self) -> &[Flag] {
        &self.flags
    }

    /// Applies one typed line: every key on it, or (when any is wrong) none of them.
    pub fn apply(&mut self, line: &str) -> Reply {
        let line = line.trim();
        match line {
            "" => return Reply::Accepted,
            "?" => return Reply::Help,
            "q" | "Q" => return Reply::Quit,
            _ => {}
        }
        let mut keys = Vec::new();
        for word in line.split(|c: char| c.is_whitespace() || c == ',').filter(|w| !w.is_empty()) {
            match self.parse(word) {
                Ok(k) => keys.push(k),
                Err(why) => return Reply::Invalid(why),
            }
        }
        for key in keys {
            match key {
                Key::Cycle(i) => {
                    let v = &mut self.points[i].verdict;
                    *v = match *v {
                        Verdict::Met => Verdict::Partial,
                        Verdict::Partial => Verdict::Missed,
                        Verdict::Missed => Verdict::Met,
                    };
                }
                Key::Set(i, v) => self.points[i].verdict = v,
                Key::Flag(i) => self.flags[i].cleared = !self.flags[i].cleared,
            }
        }
        Reply::Changed
    }

    fn parse(&self, word: &str) -> Result<Key, String> {
        let lower = word.to_lowercase();
        if matches!(lower.as_str(), "?" | "q") {
            return Err(format!("`{word}` goes on a line of its own"));
        }
        if let Some(n) = lower.strip_prefix('f') {
            let i = self.number(n, word)?;
            return match self.flags.len() {
                0 => Err(format!("`{word}`: no red flag was raised, so there is none to clear")),
                len if i > len => Err(format!("`{word}`: there is no flag {i}; flags are f1 to f{len}")),
                _ => Ok(Key::Flag(i - 1)),
            };
        }
        let digits = lower.trim_end_matches(|c: char| c.is_ascii_alphabetic());
        let verdict = match &lower[digits.len()..] {
            "" => None,
            "m" => Some(Verdict::Met),
            "p" => Some(Verdict::Partial),
            "x" => Some(Verdict::Missed),
            _ => return Err(format!("`{word}` is not a key: a point's number, then m, p or x (? shows the keys)")),
        };
        let i = self.number(digits, word)?;
        let len = self.points.len();
        if i > len {
            return Err(format!("`{word}`: there is no point {i}; points are 1 to {len}"));
        }
        Ok(verdict.map_or(Key::Cycle(i - 1), |v| Key::Set(i - 1, v)))
    }

    /// A 1-based number as typed in `word`.
    fn number(&self, digits: &str, word: &str) -> Result<usize, String> {
        match digits.parse::<usize>() {
            Ok(n) if n >= 1 => Ok(n),
            _ => Err(format!("`{word}` is not a key: a point's number, then m, p or x (? shows the keys)")),
        }
    }

    /// The user's word as an assessment: each key point's verdict (with the grader's
    /// evidence where the user kept its verdict, and a note where they changed it), the
    /// red flags and wrong claims they did not clear, and the grader's notes. The
    /// grader's feedback is left out: it was written about the grader's verdicts.
    pub fn assessment(&self) -> Assessment {
        let key_points = self
            .points
            .iter()
            .map(|p| {
                let theirs = self.reviewed.key_points.iter().find(|v| v.id == p.id);
                match theirs {
                    Some(v) if v.verdict == p.verdict => v.clone(),
                    _ if p.verdict == p.grader => PointVerdict::bare(&p.id, p.verdict),
                    _ => PointVerdict {
                        note: Some(format!("you changed {} to {}", p.grader, p.verdict)),
                        ..PointVerdict::bare(&p.id, p.verdict)
                    },
                }
            })
            .collect();
        let n_flags = self.reviewed.red_flags.len();
        let red_flags: Vec<FlagHit> = self
            .reviewed
            .red_flags
            .iter()
            .zip(&self.flags)
            .filter(|(_, f)| !f.cleared)
            .map(|(h, _)| h.clone())
            .collect();
        let errors: Vec<ClaimError> = self
            .reviewed
            .errors
            .iter()
            .zip(&self.flags[n_flags..])
            .filter(|(_, f)| !f.cleared)
            .map(|(e, _)| e.clone())
            .collect();
        Assessment {
            key_points,
            red_flags,
            errors,
            holistic: None,
            feedback: Default::default(),
            notes: self.reviewed.notes.clone(),
            analysis: None,
        }
    }

    /// The user's word as a grade, scored by the one formula.
    pub fn grade(&self) -> Grade {
        Grade::graded(&self.rubric, self.assessment())
    }

    /// The score the verdicts as they stand would earn.
    pub fn score(&self) -> u8 {
        crate::grade::score(&self.rubric, &self.assessment())
    }

    /// What the user changed, one line each: "missed → met: <the point>", "red flag
    /// cleared: <the flag>".
    pub fn changes(&self) -> Vec<String> {
        let points = self
            .points
            .iter()
            .filter(|p| p.verdict != p.grader)
            .map(|p| format!("{} → {}: {}", p.grader, p.verdict, p.text));
        let flags = self.flags.iter().filter(|f| f.cleared).map(|f| match f.severity {
            Some(_) => format!("red flag cleared: {}", f.text),
            None => format!("cleared: {}", f.text),
        });
        points.chain(flags).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bank::{KeyPoint, RedFlag};
    use crate::grade::Feedback;

    fn kp(id: &str, weight: u32) -> KeyPoint {
        KeyPoint { id: id.into(), point: format!("{id} matters."), weight, cues: vec![] }
    }

    fn assessment(v: &[(&str, Verdict)]) -> Assessment {
        Assessment {
            key_points: v
                .iter()
                .map(|(id, verdict)| PointVerdict {
                    evidence: Some(format!("quote for {id}")),
                    ..PointVerdict::bare(id, *verdict)
                })
                .collect(),
            red_flags: vec![FlagHit { id: "bad".into(), severity: Severity::Minor, evidence: Some("oops".into()) }],
            errors: vec![],
            holistic: None,
            feedback: Feedback { strengths: vec!["a".into()], gaps: vec![], next_step: Some("Study b.".into()) },
            notes: vec!["reads as a list".into()],
            analysis: Some("because".into()),
        }
    }

    fn fixture() -> ([KeyPoint; 3], [RedFlag; 1]) {
        let flag =
            RedFlag { id: "bad".into(), point: "Says the bad thing.".into(), severity: Severity::Minor, cues: vec![] };
        ([kp("a", 2), kp("b", 1), kp("c", 1)], [flag])
    }

    #[test]
    fn an_empty_line_accepts_the_graders_verdicts_as_they_are() {
        let (kps, flags) = fixture();
        let rubric = Rubric { reference: "", testing: "", key_points: &kps, red_flags: &flags };
        let reviewed = assessment(&[("a", Verdict::Met), ("b", Verdict::Missed), ("c", Verdict::Partial)]);
        let mut c = Checklist::new(rubric, &reviewed);
        assert_eq!(c.apply("  "), Reply::Accepted);
        let mine = c.assessment();
        assert_eq!(mine.key_points, reviewed.key_points, "evidence kept where the verdict stands");
        assert_eq!(mine.red_flags, reviewed.red_flags);
        assert_eq!(mine.notes, reviewed.notes);
        assert_eq!((mine.feedback, mine.analysis), (Feedback::default(), None));
        // 2 + 0.5 of 4 is 62.5, less 10 for the minor flag: the grader's own score.
        assert_eq!(c.score(), crate::grade::score(&rubric, &reviewed));
        assert_eq!(c.score(), 53);
        assert!(c.changes().is_empty());
    }

    #[test]
    fn keys_cycle_set_and_clear_and_the_score_follows() {
        let (kps, flags) = fixture();
        let rubric = Rubric { reference: "", testing: "", key_points: &kps, red_flags: &flags };
        let reviewed = assessment(&[("a", Verdict::Met), ("b", Verdict::Missed), ("c", Verdict::Partial)]);
        let mut c = Checklist::new(rubric, &reviewed);
        // A bare number cycles met → partial → missed → met.
        assert_eq!(c.apply("1"), Reply::Changed);
        assert_eq!(c.points()[0].verdict, Verdict::Partial);
        c.apply("1");
        assert_eq!(c.points()[0].verdict, Verdict::Missed);
        c.apply("1");
        assert_eq!(c.points()[0].verdict, Verdict::Met);
        // Several on one line, any case, commas allowed.
        assert_eq!(c.apply("2M, 3x f1"), Reply::Changed);
        let v: Vec<Verdict> = c.points().iter().map(|p| p.verdict).collect();
        assert_eq!(v, [Verdict::Met, Verdict::Met, Verdict::Missed]);
        assert!(c.flags()[0].cleared);
        assert_eq!(c.score(), 75);
        let mine = c.assessment();
        assert_eq!(mine.key_points[0], reviewed.key_points[0]);
        assert_eq!(
            mine.key_points[1],
            PointVerdict { note: Some("you changed missed to met".into()), ..PointVerdict::bare("b", Verdict::Met) }
        );
        assert_eq!(mine.key_points[2].note.as_deref(), Some("you changed partial to missed"));
        assert_eq!(mine.key_points[2].evidence, None, "the grader's quote was for its own verdict");
        assert!(mine.red_flags.is_empty());
        assert_eq!(
            c.changes(),
            ["missed → met: b matters.", "partial → missed: c matters.", "red flag cleared: Says the bad thing."]
        );
        // f1 again restores the flag.
        c.apply("f1");
        assert_eq!(c.assessment().red_flags, reviewed.red_flags);
        assert_eq!(c.grade().score(), Some(65));
    }

    #[test]
    fn a_wrong_key_changes_nothing_and_says_what_was_wrong() {
        let (kps, flags) = fixture();
        let rubric = Rubric { reference: "", testing: "", key_points: &kps, red_flags: &flags };
        let reviewed = assessment(&[("a", Verdict::Met), ("b", Verdict::Missed), ("c", Verdict::Partial)]);
        let mut c = Checklist::new(rubric, &reviewed);
        let cases = [
            ("2m 4x", "`4x`: there is no point 4; points are 1 to 3"),
            ("2z", "`2z` is not a key: a point's number, then m, p or x (? shows the keys)"),
            ("0", "`0` is not a key: a point's number, then m, p or x (? shows the keys)"),
            ("met", "`met` is not a key: a point's number, then m, p or x (? shows the keys)"),
            ("f2", "`f2`: there is no flag 2; flags are f1 to f1"),
            ("fx", "`fx` is not a key: a point's number, then m, p or x (? shows the keys)"),
            ("1m q", "`q` goes on a line of its own"),
        ];
        for (line, why) in cases {
            assert_eq!(c.apply(line), Reply::Invalid(why.into()), "{line}");
        }
        assert!(c.changes().is_empty(), "nothing on a wrong line is applied");
        assert_eq!(c.apply("?"), Reply::Help);
        assert_eq!(c.apply(" q "), Reply::Quit);
    }

    #[test]
    fn points_without_a_verdict_count_as_missed_and_errors_can_be_cleared() {
        let (kps, _) = fixture();
        let rubric = Rubric { reference: "", testing: "", key_points: &kps, red_flags: &[] };
        let mut reviewed = assessment(&[("a", Verdict::Met), ("invented", Verdict::Met)]);
        reviewed.red_flags.clear();
        reviewed.errors = vec![ClaimError {
            quote: "threads run in parallel".into(),
            correction: "not in CPython".into(),
            point: None,
        }];
        let mut c = Checklist::new(rubric, &reviewed);
        let ids: Vec<(&str, Verdict)> = c.points().iter().map(|p| (p.id.as_str(), p.grader)).collect();
        assert_eq!(ids, [("a", Verdict::Met), ("b", Verdict::Missed), ("c", Verdict::Missed)]);
        assert_eq!(c.flags()[0].text, "wrong claim: \"threads run in parallel\" (not in CPython)");
        assert_eq!(c.score(), 40);
        c.apply("f1 3p");
        assert!(c.assessment().errors.is_empty());
        assert_eq!(c.score(), 63);
        assert_eq!(
            c.changes(),
            ["missed → partial: c matters.", "cleared: wrong claim: \"threads run in parallel\" (not in CPython)"]
        );
        let empty = Checklist::new(rubric, &assessment(&[]));
        let mut empty = Checklist { flags: vec![], ..empty };
        assert_eq!(empty.apply("f1"), Reply::Invalid("`f1`: no red flag was raised, so there is none to clear".into()));
    }
}
