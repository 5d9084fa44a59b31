//! Grades and transcripts as text for people. One place, so `practice`, `grade` and
//! `review show` say the same thing the same way.

use std::fmt::Write;

use crate::bank::{Bank, Rubric, Severity};
use crate::grade::{Grade, Verdict};
use crate::scrub::controls as c;
use crate::style::{Style, wrap};
use crate::transcript::{GradeRecord, GraderInfo, Transcript};

/// Width prose is wrapped to.
pub const WIDTH: usize = 88;

/// A grader's label, with the caveat the offline grader always carries.
pub fn grader_label(g: &GraderInfo) -> String {
    match g {
        GraderInfo::Offline { .. } => {
            "offline grader: key-point coverage from cues, not a model's judgement".to_string()
        }
        GraderInfo::Llm { model, endpoint, .. } => format!("graded by {} at {}", c(model), c(endpoint)),
    }
}

/// A grade, with each key point's verdict and the red flags raised. Every piece of text
/// from a transcript, a bank or a model goes through [`c`] (control characters out) even
/// though it was scrubbed on the way in: a transcript file can be edited by hand.
pub fn grade(style: &Style, rubric: &Rubric<'_>, record: &GradeRecord) -> String {
    let mut out = String::new();
    if !record.injection.is_empty() {
        let _ = writeln!(out, "  {}", style.bad("⚠ text addressed to the grader was found; it earns nothing:"));
        for m in &record.injection {
            let _ = writeln!(out, "      {}", style.dim(&format!("line {}: {}", m.line, c(&m.excerpt))));
        }
    }
    match &record.grade {
        Grade::Ungraded { reason, .. } => {
            let _ = writeln!(out, "  {} {}", style.warn("Not graded:"), c(reason));
        }
        Grade::Graded { score, assessment } => {
            let painted = match score {
                70.. => style.good(&format!("{score}/100")),
                40..70 => style.warn(&format!("{score}/100")),
                _ => style.bad(&format!("{score}/100")),
            };
            let _ = writeln!(
                out,
                "  {} {}  {}",
                style.bold("Score:"),
                painted,
                style.dim(&format!("({})", grader_label(&record.grader)))
            );
            for v in &assessment.key_points {
                let text = rubric.key_points.iter().find(|k| k.id == v.id).map_or(v.id.as_str(), |k| k.point.as_str());
                let mark = match v.verdict {
                    Verdict::Met => style.good("✓ met    "),
                    Verdict::Partial => style.warn("~ partial"),
                    Verdict::Missed => style.bad("✗ missed "),
                };
                let body = wrap(&c(text), WIDTH, "             ");
                let _ = write!(out, "  {mark}  {}", body.trim_start());
                if let Some(note) = &v.note {
                    let _ = writeln!(out, "             {}", style.dim(&c(note)));
                }
            }
            for hit in &assessment.red_flags {
                let text =
                    rubric.red_flags.iter().find(|f| f.id == hit.id).map_or(hit.id.as_str(), |f| f.point.as_str());
                let sev = match hit.severity {
                    Severity::Critical => "critical",
                    Severity::Minor => "minor",
                };
                let _ = writeln!(out, "  {} {}", style.bad(&format!("! red flag ({sev}):")), c(text));
                if let Some(e) = &hit.evidence {
                    let _ = writeln!(out, "      {}", style.dim(&format!("“{}”", c(e))));
                }
            }
            for note in &assessment.notes {
                let _ = writeln!(out, "  {} {}", style.warn("note:"), c(note));
            }
            if let Some(next) = &assessment.feedback.next_step {
                let _ = write!(out, "{}", wrap(&format!("Next: {}", c(next)), WIDTH, "  "));
            }
        }
    }
    out
}

/// A whole transcript: every turn with its answer and latest grade.
pub fn transcript(style: &Style, t: &Transcript, bank: &Bank) -> String {
    let mut out = String::new();
    let _ =
        writeln!(out, "{}", style.bold(&format!("Session {} — {}", c(&t.id), t.started_at.format("%Y-%m-%d %H:%M"))));
    let mean = t.mean_score().map_or("-".to_string(), |m| format!("{m:.0}/100"));
    let _ = writeln!(out, "{} · status: {:?}   answered: {}   mean score: {mean}", t.mode, t.status, t.answered());
    let _ = writeln!(out, "grader: {}   bank: {}", c(&t.grader.to_string()), c(&t.bank.to_string()));
    for (i, turn) in t.turns.iter().enumerate() {
        let _ = writeln!(out);
        let label = match &turn.follow_up_id {
            Some(f) => format!("{}. {} › follow-up {}", i + 1, c(&turn.question_id), c(f)),
            None => format!("{}. {}", i + 1, c(&turn.question_id)),
        };
        let _ = writeln!(out, "{}", style.bold(&label));
        out.push_str(&hanging(&turn.prompt, "  Q: "));
        match (&turn.answer, turn.skipped) {
            (_, true) => {
                let _ = writeln!(out, "  {}", style.dim("(skipped)"));
            }
            (Some(a), _) => {
                let _ = writeln!(out, "  {}", style.dim("Answer:"));
                let _ = write!(out, "{}", wrap(&c(a), WIDTH, "    "));
            }
            (None, _) => {
                let _ = writeln!(out, "  {}", style.dim("(not answered)"));
            }
        }
        if !turn.hints.is_empty() {
            let _ = writeln!(out, "  {}", style.dim(&format!("hints used: {}", turn.hints.len())));
        }
        let question = bank.get(&turn.question_id);
        let follow_up = question.and_then(|q| turn.follow_up_id.as_deref().and_then(|f| q.follow_up(f)));
        let rubric = follow_up.map(|f| f.rubric()).or_else(|| question.map(|q| q.rubric()));
        if let Some(q) = question
            && q.content_hash() != turn.question_hash
        {
            let _ = writeln!(out, "  {}", style.dim("(the question has changed in the bank since this session)"));
        }
        for (n, record) in turn.grades.iter().enumerate() {
            if turn.grades.len() > 1 {
                let _ = writeln!(
                    out,
                    "  {}",
                    style.dim(&format!(
                        "grade {} of {} ({})",
                        n + 1,
                        turn.grades.len(),
                        record.graded_at.format("%Y-%m-%d %H:%M")
                    ))
                );
            }
            match rubric {
                Some(r) => out.push_str(&grade(style, &r, record)),
                None => {
                    let _ =
                        writeln!(out, "  score: {}", record.grade.score().map_or("ungraded".into(), |s| s.to_string()));
                }
            }
        }
    }
    out
}

/// The report that closes an interview: every answer's verdicts, a table of scores, the
/// weakest key points (missed, heaviest first) and what to study next (the lowest-scoring
/// questions' next steps).
pub fn interview_report(style: &Style, t: &Transcript, bank: &Bank) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "\n{}", style.bold(&format!("{:─<60}", "── Interview report ")));
    let mut rows: Vec<(String, String)> = Vec::new();
    let mut weak: Vec<(u32, String, String)> = Vec::new();
    let mut next: Vec<(u8, String, String)> = Vec::new();
    for turn in &t.turns {
        let Some(question) = bank.get(&turn.question_id) else { continue };
        let prompt = crate::ask::Prompt::for_turn(question, turn);
        let rubric = prompt.rubric();
        let label = match &turn.follow_up_id {
            Some(f) => format!("  › {}", c(f)),
            None => c(&turn.question_id).into_owned(),
        };
        let latest = turn.latest_grade();
        let result = match (turn.skipped, &turn.answer, latest.map(|g| &g.grade)) {
            (true, _, _) => "skipped".to_string(),
            (_, None, _) => "not answered".to_string(),
            (_, Some(_), Some(Grade::Graded { score, .. })) => format!("{score}/100"),
            (_, Some(_), Some(Grade::Ungraded { .. })) => "ungraded".to_string(),
            (_, Some(_), None) => "waiting for a grade".to_string(),
        };
        rows.push((label, result));
        let Some(record) = latest.filter(|_| turn.answer.is_some()) else { continue };
        let heading = match &turn.follow_up_id {
            Some(f) => format!("{} › {}", c(&turn.question_id), c(f)),
            None => c(&turn.question_id).into_owned(),
        };
        let _ = writeln!(out, "\n{}", style.bold(&heading));
        out.push_str(&hanging(&turn.prompt, "  Q: "));
        out.push_str(&grade(style, &rubric, record));
        if let Grade::Graded { score, assessment } = &record.grade {
            for v in assessment.key_points.iter().filter(|v| v.verdict == Verdict::Missed) {
                if let Some(k) = rubric.key_points.iter().find(|k| k.id == v.id) {
                    weak.push((k.weight, turn.question_id.clone(), k.point.clone()));
                }
            }
            if turn.follow_up_id.is_none()
                && let Some(step) = &assessment.feedback.next_step
            {
                next.push((*score, turn.question_id.clone(), step.clone()));
            }
        }
    }
    let _ = writeln!(out, "\n{}", style.bold("Scores"));
    for (label, result) in &rows {
        let _ = writeln!(out, "  {label:<48} {result}");
    }
    if let Some(mean) = t.mean_score() {
        let _ = writeln!(out, "  {:<48} {mean:.0}/100", "mean of the graded answers");
    }
    if !weak.is_empty() {
        weak.sort_by_key(|w| std::cmp::Reverse(w.0));
        let _ = writeln!(out, "\n{}", style.bold("Weakest points (missed, heaviest first)"));
        for (_, q, point) in weak.iter().take(6) {
            out.push_str(&hanging(&format!("{q}: {point}"), "  ✗ "));
        }
    }
    if !next.is_empty() {
        next.sort_by_key(|n| n.0);
        let _ = writeln!(out, "\n{}", style.bold("What to study next"));
        for (i, (score, q, step)) in next.iter().take(3).enumerate() {
            out.push_str(&hanging(&format!("{q} ({score}/100): {step}"), &format!("  {}. ", i + 1)));
        }
    }
    out
}

/// `text` (without control characters) wrapped with `first` before its first line and as
/// many spaces before the rest.
fn hanging(text: &str, first: &str) -> String {
    let rest = " ".repeat(first.chars().count());
    let wrapped = wrap(&c(text), WIDTH, &rest);
    format!("{first}{}", &wrapped[rest.len().min(wrapped.len())..])
}
