//! One view of a session, built once from a transcript and the bank, that the terminal,
//! the Markdown and the HTML are all rendered from, so the three cannot drift.
//!
//! Every string in a view has had its control characters removed: a transcript can be
//! edited by hand and a bank can come from anywhere, so text is cleaned here, once, even
//! though it was cleaned on the way in. Renderers still escape for their own format.

use serde::Serialize;

use crate::ask::Prompt;
use crate::bank::{Bank, Rubric, Severity};
use crate::grade::record::GradeRecord;
use crate::grade::record::GraderInfo;
use crate::grade::{Grade, PointVerdict, Verdict};
use crate::review::schedule::{Help, Rating};
use crate::scrub;
use crate::transcript::{Transcript, Turn};
use crate::words::{self, Band};

/// A whole session.
#[derive(Debug, Clone, Serialize)]
pub struct SessionView {
    /// "Session 4f26dc4a — 2026-12-01 18:19".
    pub title: String,
    /// Practice or interview.
    pub mode: String,
    /// Where the session stands, in words.
    pub status: String,
    /// Answers given.
    pub answered: usize,
    /// Mean of the latest scores, "72/100", when any answer is graded.
    pub mean: Option<String>,
    /// The session's grader.
    pub grader: String,
    /// The bank used.
    pub bank: String,
    /// Every turn, in order.
    pub turns: Vec<TurnView>,
}

/// One question or follow-up asked.
#[derive(Debug, Clone, Serialize)]
pub struct TurnView {
    /// "2. colours › follow-up screens".
    pub title: String,
    /// The question's id.
    pub question_id: String,
    /// The follow-up's id, or "asked by the model" for a generated one.
    pub follow_up: Option<String>,
    /// The text asked.
    pub prompt: String,
    /// The answer given.
    pub answer: Option<String>,
    /// The answer cut into prose and code, for the HTML.
    pub answer_blocks: Vec<Block>,
    /// Whether it was skipped.
    pub skipped: bool,
    /// The outcome in a word or a score: "72/100", "skipped", "not answered", "ungraded".
    pub result: String,
    /// The latest score's band, for its colour.
    pub band: Option<&'static str>,
    /// Hints shown before answering.
    pub hints_used: usize,
    /// Whether the reference answer was shown before answering (`:ref`).
    pub reference_shown_early: bool,
    /// For a graded main answer given after help, its review rating and why help held it
    /// down: "Rated again for review: reference shown before answering".
    pub rated_for_help: Option<String>,
    /// Whether the bank's question differs from the one asked.
    pub question_changed: bool,
    /// The strong answer, from the bank, when it still has the question.
    pub reference: Option<String>,
    /// The reference cut into prose and code, for the HTML.
    pub reference_blocks: Vec<Block>,
    /// Every grading, oldest first.
    pub grades: Vec<GradeView>,
}

/// A run of prose or of code (a Markdown fence's content) in an answer or a reference.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Block {
    /// Whether it is code.
    pub code: bool,
    /// The text, without the fence lines.
    pub text: String,
}

/// One grading of one answer.
#[derive(Debug, Clone, Serialize)]
pub struct GradeView {
    /// When, "2026-12-01 18:19".
    pub when: String,
    /// "grade 1 of 2", when the answer was graded more than once.
    pub which: Option<String>,
    /// Who graded, with the offline grader's caveat.
    pub grader: String,
    /// The score, when graded.
    pub score: Option<u8>,
    /// The score as shown, "72/100".
    pub score_text: Option<String>,
    /// The score's band, for its colour.
    pub band: Option<&'static str>,
    /// Why it is ungraded, when it is.
    pub ungraded: Option<String>,
    /// Text addressed to the grader, which earned nothing: "line 3: ...".
    pub injection: Vec<String>,
    /// Every key point with its verdict.
    pub points: Vec<PointView>,
    /// The red flags raised.
    pub flags: Vec<FlagView>,
    /// Observations about the answer itself.
    pub notes: Vec<String>,
    /// What went well.
    pub strengths: Vec<String>,
    /// What was missing, beyond the key points' own words.
    pub gaps: Vec<String>,
    /// The one thing to study next.
    pub next_step: Option<String>,
}

/// One key point and its verdict.
#[derive(Debug, Clone, Serialize)]
pub struct PointView {
    /// What the key point says (its id when the bank no longer has it).
    pub text: String,
    /// Its weight, 1 when unknown.
    pub weight: u32,
    /// The verdict; serialised as its word, also the HTML class.
    pub verdict: Verdict,
    /// "✓ met".
    pub mark: String,
    /// The part of the answer quoted for it.
    pub evidence: Option<String>,
    /// Why the verdict differs from what the grader first said.
    pub note: Option<String>,
}

/// One key point's verdict as shown: the rubric's words for it (its id when the rubric no
/// longer has it), cleaned like everything in a view.
pub fn point(rubric: Option<&Rubric<'_>>, p: &PointVerdict) -> PointView {
    let k = rubric.and_then(|r| r.key_points.iter().find(|k| k.id == p.id));
    PointView {
        text: clean(k.map_or(p.id.as_str(), |k| k.point.as_str())),
        weight: k.map_or(1, |k| k.weight),
        verdict: p.verdict,
        mark: words::mark(p.verdict),
        evidence: p.evidence.as_deref().filter(|e| !e.trim().is_empty()).map(clean),
        note: {
            // Samples that disagreed are said on screen beside the verdict.
            let split = p.agreement.as_deref().filter(|a| a.split_once('/').is_some_and(|(k, n)| k != n));
            let split = split.map(|a| format!("samples disagreed: {a} gave this verdict"));
            match (p.note.as_deref().map(clean), split) {
                (Some(n), Some(s)) => Some(format!("{n}; {s}")),
                (n, s) => n.or(s),
            }
        },
    }
}

/// A red flag raised.
#[derive(Debug, Clone, Serialize)]
pub struct FlagView {
    /// What the red flag says.
    pub text: String,
    /// How much it counts.
    pub severity: Severity,
    /// The part of the answer that raised it.
    pub evidence: Option<String>,
}

fn clean(s: &str) -> String {
    scrub::controls(s).into_owned()
}

/// A grader's label, with the caveat the offline grader always carries: its score says
/// how much of the rubric an answer covers, never whether what it says is right.
pub fn grader_label(g: &GraderInfo) -> String {
    match g {
        GraderInfo::Offline { .. } => {
            "offline grader: measures key-point coverage from cues, not correctness".to_string()
        }
        GraderInfo::Llm { model, endpoint, .. } => format!("graded by {} at {}", clean(model), clean(endpoint)),
        GraderInfo::User { .. } => "your own verdicts: you confirmed or corrected the grader's checklist".to_string(),
    }
}

/// Who gave a grade, as the subject of a sentence: "the offline grader", "the model
/// qwen3:8b", "you".
pub fn grader_name(g: &GraderInfo) -> String {
    match g {
        GraderInfo::Offline { .. } => "the offline grader".to_string(),
        GraderInfo::Llm { model, .. } => format!("the model {}", clean(model)),
        GraderInfo::User { .. } => "you".to_string(),
    }
}

/// The label of the user's own word on a grade, saying what the grader had said: "your
/// own verdicts; the offline grader said 45".
pub fn own_word_label(reviewed: Option<&GradeRecord>) -> String {
    match reviewed.and_then(|r| r.grade.score().map(|s| (r, s))) {
        Some((r, score)) => format!("your own verdicts; {} said {score}", grader_name(&r.grader)),
        None => "your own verdicts".to_string(),
    }
}

/// A turn's outcome in a word or a score.
pub fn result(turn: &Turn) -> String {
    match (turn.skipped, &turn.answer, turn.latest_grade().and_then(|g| g.grade.score())) {
        (true, _, _) => "skipped".into(),
        (_, None, _) if turn.draft.is_some() => "draft saved".into(),
        (_, None, _) => "not answered".into(),
        (_, Some(_), Some(s)) => words::score(s),
        (_, Some(_), None) => words::UNGRADED.into(),
    }
}

/// One grading, against `rubric` when the bank still has the question.
pub fn grade(rubric: Option<&Rubric<'_>>, record: &GradeRecord) -> GradeView {
    let mut v = GradeView {
        when: record.graded_at.format("%Y-%m-%d %H:%M").to_string(),
        which: None,
        grader: grader_label(&record.grader),
        score: record.grade.score(),
        score_text: record.grade.score().map(words::score),
        band: record.grade.score().map(|s| Band::of(s).name()),
        ungraded: None,
        injection: record.injection.iter().map(|m| format!("line {}: {}", m.line, clean(&m.excerpt))).collect(),
        points: vec![],
        flags: vec![],
        notes: vec![],
        strengths: vec![],
        gaps: vec![],
        next_step: None,
    };
    let a = match &record.grade {
        Grade::Ungraded { reason, .. } => {
            v.ungraded = Some(clean(reason));
            return v;
        }
        Grade::Graded { assessment, .. } => assessment,
    };
    v.points = a.key_points.iter().map(|p| point(rubric, p)).collect();
    v.flags = a
        .red_flags
        .iter()
        .map(|hit| FlagView {
            text: clean(
                rubric
                    .and_then(|r| r.red_flags.iter().find(|f| f.id == hit.id))
                    .map_or(hit.id.as_str(), |f| f.point.as_str()),
            ),
            severity: hit.severity,
            evidence: hit.evidence.as_deref().filter(|e| !e.trim().is_empty()).map(clean),
        })
        .collect();
    v.notes = a.notes.iter().map(|n| clean(n)).collect();
    v.notes.extend(a.errors.iter().map(|e| clean(&format!("wrong: \"{}\" ({})", e.quote, e.correction))));
    // A line of the model's feedback that is not a sentence gives way to grill's own,
    // built from the verdicts: the user is better served by a key point than by noise.
    let own = |wanted: &[Verdict]| -> Vec<String> {
        let mut pts: Vec<&PointView> = v.points.iter().filter(|p| wanted.contains(&p.verdict)).collect();
        pts.sort_by_key(|p| std::cmp::Reverse(p.weight));
        pts.into_iter().map(|p| p.text.clone()).collect()
    };
    v.strengths = sensible_or(&a.feedback.strengths, || own(&[Verdict::Met]));
    v.gaps = sensible_or(&a.feedback.gaps, || own(&[Verdict::Missed, Verdict::Partial]));
    v.next_step = match a.feedback.next_step.as_deref().map(str::trim) {
        Some(step) if words::is_sensible_prose(step) => Some(clean(step)),
        _ => own(&[Verdict::Missed]).into_iter().chain(own(&[Verdict::Partial])).next().map(|p| format!("Study: {p}")),
    };
    v
}

/// `lines` cleaned, or `fallback()` when any of them is not sensible prose.
fn sensible_or(lines: &[String], fallback: impl FnOnce() -> Vec<String>) -> Vec<String> {
    if lines.iter().all(|l| words::is_sensible_prose(l)) {
        lines.iter().map(|l| clean(l.trim())).collect()
    } else {
        fallback()
    }
}

/// The whole session.
pub fn session(t: &Transcript, bank: &Bank) -> SessionView {
    SessionView {
        title: format!("Session {} — {}", clean(&t.id), t.started_at.format("%Y-%m-%d %H:%M")),
        mode: t.mode.to_string(),
        status: t.status.to_string(),
        answered: t.answered(),
        // Rounded as `review list` and the session summary round it.
        mean: t.mean_score().map(|m| format!("{m:.0}/100")),
        grader: clean(&t.grader.to_string()),
        bank: clean(&t.bank),
        turns: t.turns.iter().enumerate().map(|(i, turn)| self::turn(i + 1, turn, bank)).collect(),
    }
}

fn turn(number: usize, turn: &Turn, bank: &Bank) -> TurnView {
    let question = bank.get(&turn.question_id);
    let prompt = question.map(|q| Prompt::for_turn(q, turn));
    let rubric = prompt.as_ref().map(Prompt::rubric);
    let follow_up = match (&turn.follow_up_id, &turn.generated_for) {
        (Some(f), _) => Some(clean(f)),
        (None, Some(_)) => Some("asked by the model".to_string()),
        (None, None) => None,
    };
    let title = match &follow_up {
        Some(f) => format!("{number}. {} › follow-up {f}", clean(&turn.question_id)),
        None => format!("{number}. {}", clean(&turn.question_id)),
    };
    // A question of the user's own folder says which file, so a reader can find it again.
    let title = match &turn.question_file {
        Some(file) => format!("{title} (from {})", clean(file)),
        None => title,
    };
    let answer = turn.answer.as_deref().map(clean);
    let reference = prompt.as_ref().map(|p| clean(p.reference()));
    TurnView {
        title,
        question_id: clean(&turn.question_id),
        follow_up,
        prompt: clean(&turn.prompt),
        answer_blocks: answer.as_deref().map(blocks).unwrap_or_default(),
        answer,
        skipped: turn.skipped,
        result: result(turn),
        band: turn.latest_grade().and_then(|g| g.grade.score()).map(|s| Band::of(s).name()),
        hints_used: turn.hints.len(),
        reference_shown_early: turn.reference_shown_early,
        rated_for_help: rated_for_help(turn),
        question_changed: question.is_some_and(|q| !q.unchanged_since(&turn.question_hash)),
        reference_blocks: reference.as_deref().map(blocks).unwrap_or_default(),
        reference,
        grades: turn
            .grades
            .iter()
            .enumerate()
            .map(|(i, g)| {
                let mut v = grade(rubric.as_ref(), g);
                v.which = (turn.grades.len() > 1).then(|| format!("grade {} of {}", i + 1, turn.grades.len()));
                if let GraderInfo::User { reviewed } = g.grader {
                    v.grader = own_word_label(turn.grades.get(reviewed));
                }
                v
            })
            .collect(),
    }
}

/// A graded main answer's review rating when help held it down, with why (follow-ups
/// and skips are not rated for help: the first are no review, the second are *again*).
fn rated_for_help(turn: &Turn) -> Option<String> {
    if turn.follow_up_id.is_some() || turn.generated_for.is_some() || turn.skipped || turn.answer.is_none() {
        return None;
    }
    let score = turn.latest_grade().and_then(|g| g.grade.score())?;
    let help = Help { hints: turn.hints.len(), reference_shown: turn.reference_shown_early };
    let why = words::held_down(help.hints, help.reference_shown)?;
    Some(words::rated_for_help(Rating::of_answer(score, help).label(), &why))
}

/// `text` cut into prose paragraphs and code: a Markdown fence (```` ``` ````, with or
/// without a language) opens and closes code; blank lines separate paragraphs. An
/// unclosed fence runs to the end, as Markdown reads it.
pub fn blocks(text: &str) -> Vec<Block> {
    let mut out: Vec<Block> = Vec::new();
    let mut current: Vec<&str> = Vec::new();
    let mut in_code = false;
    let flush = |current: &mut Vec<&str>, code: bool, out: &mut Vec<Block>| {
        if !current.is_empty() {
            out.push(Block { code, text: current.join("\n") });
            current.clear();
        }
    };
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            flush(&mut current, in_code, &mut out);
            in_code = !in_code;
        } else if !in_code && line.trim().is_empty() {
            flush(&mut current, false, &mut out);
        } else {
            current.push(line);
        }
    }
    flush(&mut current, in_code, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bank::KeyPoint;
    use crate::grade::{Assessment, Feedback, PointVerdict};

    #[test]
    fn fences_become_code_blocks() {
        let text = "Use a lock:\n\n```python\nwith lock:\n    n += 1\n```\nThen it is safe.";
        assert_eq!(
            blocks(text),
            vec![
                Block { code: false, text: "Use a lock:".into() },
                Block { code: true, text: "with lock:\n    n += 1".into() },
                Block { code: false, text: "Then it is safe.".into() },
            ]
        );
        assert_eq!(blocks("```\nopen"), vec![Block { code: true, text: "open".into() }]);
    }

    #[test]
    fn the_offline_label_says_it_measures_coverage_not_correctness() {
        let label = grader_label(&GraderInfo::Offline { version: "1".into() });
        assert!(label.contains("offline"), "{label}");
        assert!(label.contains("coverage"), "{label}");
        assert!(label.contains("not correctness"), "{label}");
    }

    #[test]
    fn the_users_grade_says_whose_verdicts_they_are_and_what_the_grader_said() {
        let offline = record("Read more.", &[]);
        assert_eq!(own_word_label(Some(&offline)), "your own verdicts; the offline grader said 40");
        let model = GradeRecord {
            grader: GraderInfo::Llm {
                model: "qwen\u{1b}[31m3".into(),
                endpoint: "http://h:1".into(),
                prompts_hash: "x".into(),
            },
            ..offline.clone()
        };
        assert_eq!(own_word_label(Some(&model)), "your own verdicts; the model qwen[31m3 said 40");
        let ungraded = GradeRecord { grade: Grade::Ungraded { reason: "down".into(), raw_reply: None }, ..offline };
        assert_eq!(own_word_label(Some(&ungraded)), "your own verdicts");
        assert_eq!(own_word_label(None), "your own verdicts");
        assert_eq!(grader_name(&GraderInfo::User { reviewed: 0 }), "you");
    }

    fn record(next_step: &str, gaps: &[&str]) -> GradeRecord {
        let pv = |id: &str, verdict| PointVerdict::bare(id, verdict);
        GradeRecord {
            grader: GraderInfo::Offline { version: "1".into() },
            graded_at: chrono::DateTime::parse_from_rfc3339("2026-01-01T10:00:00+00:00").unwrap(),
            latency_ms: 0,
            grade: Grade::Graded {
                score: 40,
                assessment: Assessment {
                    key_points: vec![pv("a", Verdict::Met), pv("b", Verdict::Missed), pv("c", Verdict::Missed)],
                    red_flags: vec![],
                    errors: vec![],
                    holistic: None,
                    feedback: Feedback {
                        strengths: vec![],
                        gaps: gaps.iter().map(|g| g.to_string()).collect(),
                        next_step: Some(next_step.into()),
                    },
                    notes: vec![],
                    analysis: None,
                },
            },
            mode: None,
            usage: None,
            server_ms: None,
            injection: vec![],
        }
    }

    #[test]
    fn nonsense_feedback_gives_way_to_the_heaviest_missed_point() {
        let kp = |id: &str, point: &str, weight| KeyPoint { id: id.into(), point: point.into(), weight, cues: vec![] };
        let kps = [kp("a", "Alpha.", 1), kp("b", "Beta matters.", 1), kp("c", "Gamma matters most.", 3)];
        let rubric = Rubric { reference: "", testing: "", key_points: &kps, red_flags: &[] };
        let v = grade(Some(&rubric), &record("1.5.2.1.0", &["}} {"]));
        assert_eq!(v.next_step.as_deref(), Some("Study: Gamma matters most."));
        assert_eq!(v.gaps, vec!["Gamma matters most.", "Beta matters."]);
        let v = grade(Some(&rubric), &record("Read about additive mixing.", &["Light mixes differently."]));
        assert_eq!(v.next_step.as_deref(), Some("Read about additive mixing."));
        assert_eq!(v.gaps, vec!["Light mixes differently."]);
    }
}
