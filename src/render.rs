//! Grades and transcripts as text for the terminal, rendered from [`crate::view`], the
//! same view the Markdown and HTML exports are written from. One place, so `practice`,
//! `grade`, `interview` and `review show` say the same thing the same way.
//!
//! Every string in a view is already free of control characters (see [`crate::view`]).

use std::fmt::Write;

use crate::bank::{Bank, Rubric};
use crate::grade::record::GradeRecord;
use crate::grade::{PointVerdict, Verdict};
use crate::style::{Style, columns, wrap};
use crate::transcript::Transcript;
use crate::view::{self, GradeView, TurnView};
use crate::words::{self, Band};

/// Where a verdict's text starts: after "  ✓ met      ".
const POINT_INDENT: &str = "             ";

/// A grade as shown after an answer: the score, each key point with its verdict and the
/// evidence quoted for it, the red flags with theirs, the gaps and the next step.
pub fn grade(style: &Style, rubric: &Rubric<'_>, record: &GradeRecord) -> String {
    grade_view(style, &view::grade(Some(rubric), record))
}

/// One key point's verdict as a streamed grading settles it: the mark,
/// [`words::PROVISIONAL`] and the point on one line, the quote given for it under the
/// point, each cut to one line. The whole reply is still checked (a quote not in the
/// answer turns a verdict into a miss), so the grade screen that follows is the word. The
/// lines say so in words, which survive where colour does not (a pipe, `NO_COLOR`, a
/// screen reader), and are dimmed in a terminal: a preview that the grade screen repeats
/// in full colour.
pub fn early_point(style: &Style, rubric: &Rubric<'_>, p: &PointVerdict) -> String {
    let v = view::point(Some(rubric), p);
    let head = format!("  {} {}  ", v.mark, words::PROVISIONAL);
    let indent = head.chars().count();
    let mut out = format!("{}\n", style.dim(&format!("{head}{}", one_line(&v.text, indent))));
    if let Some(e) = &v.evidence {
        let _ = writeln!(out, "{}{}", " ".repeat(indent), style.dim(&quote(e, indent)));
    }
    out
}

/// `text` on one line after `indent` columns: cut at a word with "…" when it would not fit.
fn one_line(text: &str, indent: usize) -> String {
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let room = columns().saturating_sub(indent).max(1);
    if flat.chars().count() <= room {
        return flat;
    }
    let mut cut = String::new();
    for word in flat.split(' ') {
        if cut.chars().count() + word.chars().count() + 2 > room {
            break;
        }
        if !cut.is_empty() {
            cut.push(' ');
        }
        cut.push_str(word);
    }
    if cut.is_empty() {
        cut = flat.chars().take(room - 1).collect();
    }
    format!("{cut}…")
}

/// A score painted by its band.
fn painted(style: &Style, score: u8) -> String {
    let text = words::score(score);
    match Band::of(score) {
        Band::High => style.good(&text),
        Band::Middle => style.warn(&text),
        Band::Low => style.bad(&text),
    }
}

fn grade_view(style: &Style, g: &GradeView) -> String {
    let mut out = String::new();
    if !g.injection.is_empty() {
        let _ = writeln!(out, "  {}", style.bad("⚠ text addressed to the grader was found; it earns nothing:"));
        for m in &g.injection {
            let _ = writeln!(out, "      {}", style.dim(m));
        }
    }
    if let Some(reason) = &g.ungraded {
        // One line, however long: the reason often holds a URL or a server's message,
        // which read (and copy) better whole.
        let _ = writeln!(out, "  {} {reason}", style.warn("Not graded:"));
        return out;
    }
    if let Some(score) = g.score {
        let grader = format!("({})", g.grader);
        // "  Score: 72/100  (" is 18 columns; the grader goes below when both do not fit.
        if 18 + grader.chars().count() > columns() {
            let _ = writeln!(out, "  {} {}", style.bold("Score:"), painted(style, score));
            out.push_str(&style_lines(style, &wrap(&grader, "  ")));
        } else {
            let _ = writeln!(out, "  {} {}  {}", style.bold("Score:"), painted(style, score), style.dim(&grader));
        }
    }
    for p in &g.points {
        let mark = format!("{:<9}", p.mark);
        let mark = match p.verdict {
            Verdict::Met => style.good(&mark),
            Verdict::Partial => style.warn(&mark),
            Verdict::Missed => style.bad(&mark),
        };
        let body = wrap(&p.text, POINT_INDENT);
        let _ = write!(out, "  {mark}  {}", body.trim_start());
        if let Some(e) = &p.evidence {
            let _ = writeln!(out, "{POINT_INDENT}{}", style.dim(&quote(e, POINT_INDENT.len())));
        }
        if let Some(note) = &p.note {
            out.push_str(&style_lines(style, &wrap(note, POINT_INDENT)));
        }
    }
    for f in &g.flags {
        let head = format!("! red flag ({}):", f.severity);
        let _ = writeln!(out, "  {} {}", style.bad(&head), f.text);
        if let Some(e) = &f.evidence {
            let _ = writeln!(out, "{POINT_INDENT}{}", style.dim(&quote(e, POINT_INDENT.len())));
        }
    }
    for note in &g.notes {
        out.push_str(&hang(note, "  note: "));
    }
    // Gaps the key points already name (the offline grader's are exactly those) would
    // only repeat the ✗ lines above.
    for gap in g.gaps.iter().filter(|gap| !g.points.iter().any(|p| &p.text == *gap)) {
        out.push_str(&hang(gap, "  Gap: "));
    }
    if let Some(next) = &g.next_step {
        out.push_str(&hang(next, "  Next: "));
    }
    out
}

/// Dims each line of already wrapped text, keeping its indent plain.
fn style_lines(style: &Style, text: &str) -> String {
    text.lines()
        .map(|l| {
            let body = l.trim_start();
            format!("{}{}\n", &l[..l.len() - body.len()], style.dim(body))
        })
        .collect()
}

/// Evidence quoted on one line: cut at a word with "…" when it would not fit after
/// `indent` columns.
fn quote(evidence: &str, indent: usize) -> String {
    // The marks take two columns of their own.
    format!("“{}”", one_line(evidence, indent + 2))
}

/// A whole transcript: every turn with its answer and every grade.
pub fn transcript(style: &Style, t: &Transcript, bank: &Bank) -> String {
    let s = view::session(t, bank);
    let mut out = String::new();
    let _ = writeln!(out, "{}", style.bold(&s.title));
    let mean = s.mean.as_deref().unwrap_or("-");
    let _ = writeln!(out, "{} · status: {}   answered: {}   mean score: {mean}", s.mode, s.status, s.answered);
    let _ = writeln!(out, "grader: {}   bank: {}", s.grader, s.bank);
    for turn in &s.turns {
        let _ = writeln!(out);
        let _ = writeln!(out, "{}", style.bold(&turn.title));
        out.push_str(&hang(&turn.prompt, "  Q: "));
        out.push_str(&answer(style, turn));
        if turn.question_changed {
            let _ = writeln!(out, "  {}", style.dim("(the question has changed in the bank since this session)"));
        }
        for g in &turn.grades {
            if let Some(which) = &g.which {
                let _ = writeln!(out, "  {}", style.dim(&format!("{which} ({})", g.when)));
            }
            out.push_str(&grade_view(style, g));
        }
        if let Some(rated) = &turn.rated_for_help {
            let _ = writeln!(out, "  {}", style.warn(rated));
        }
    }
    out
}

/// A turn's answer (or that it was skipped or not given) and the help used for it.
fn answer(style: &Style, turn: &TurnView) -> String {
    let mut out = String::new();
    match (&turn.answer, turn.skipped) {
        (_, true) => {
            let _ = writeln!(out, "  {}", style.dim("(skipped)"));
        }
        (Some(a), _) => {
            let _ = writeln!(out, "  {}", style.dim("Answer:"));
            out.push_str(&wrap(a, "    "));
        }
        (None, _) => {
            let _ = writeln!(out, "  {}", style.dim("(not answered)"));
        }
    }
    if let Some(help) = help_used(turn) {
        let _ = writeln!(out, "  {}", style.dim(&help));
    }
    out
}

/// "hints used: 2 · reference shown before answering", when any help was used.
pub fn help_used(turn: &TurnView) -> Option<String> {
    let mut parts = Vec::new();
    if turn.hints_used > 0 {
        parts.push(format!("hints used: {}", turn.hints_used));
    }
    if turn.reference_shown_early {
        parts.push("reference shown before answering".to_string());
    }
    (!parts.is_empty()).then(|| parts.join(" · "))
}

/// The report that closes an interview: every answer's verdicts, a table of scores, the
/// weakest key points (missed, heaviest first) and what to study next (the lowest-scoring
/// questions' next steps).
pub fn interview_report(style: &Style, t: &Transcript, bank: &Bank) -> String {
    let s = view::session(t, bank);
    let mut out = String::new();
    let _ = writeln!(out, "\n{}", style.bold(&format!("{:─<60}", "── Interview report ")));
    let mut weak: Vec<(u32, &str, &str)> = Vec::new();
    let mut next: Vec<(u8, &str, &str)> = Vec::new();
    let turns: Vec<&TurnView> = s.turns.iter().filter(|turn| bank.get(&turn.question_id).is_some()).collect();
    for turn in &turns {
        let Some(g) = turn.grades.last().filter(|_| turn.answer.is_some()) else { continue };
        let heading = match &turn.follow_up {
            Some(f) => format!("{} › {f}", turn.question_id),
            None => turn.question_id.clone(),
        };
        let _ = writeln!(out, "\n{}", style.bold(&heading));
        out.push_str(&hang(&turn.prompt, "  Q: "));
        out.push_str(&grade_view(style, g));
        for p in g.points.iter().filter(|p| p.verdict == Verdict::Missed) {
            weak.push((p.weight, &turn.question_id, &p.text));
        }
        if turn.follow_up.is_none()
            && let (Some(score), Some(step)) = (g.score, &g.next_step)
        {
            next.push((score, &turn.question_id, step));
        }
    }
    let _ = writeln!(out, "\n{}", style.bold("Scores"));
    for turn in &turns {
        let label = match &turn.follow_up {
            Some(f) => format!("  › {f}"),
            None => turn.question_id.clone(),
        };
        let _ = writeln!(out, "  {label:<48} {}", turn.result);
    }
    if let Some(mean) = &s.mean {
        let _ = writeln!(out, "  {:<48} {mean}", "mean of the graded answers");
    }
    if !weak.is_empty() {
        weak.sort_by_key(|w| std::cmp::Reverse(w.0));
        let _ = writeln!(out, "\n{}", style.bold("Weakest points (missed, heaviest first)"));
        for (_, q, point) in weak.iter().take(6) {
            out.push_str(&hang(&format!("{q}: {point}"), "  ✗ "));
        }
    }
    if !next.is_empty() {
        next.sort_by_key(|n| n.0);
        let _ = writeln!(out, "\n{}", style.bold("What to study next"));
        for (i, (score, q, step)) in next.iter().take(3).enumerate() {
            out.push_str(&hang(&format!("{q} ({}): {step}", words::score(*score)), &format!("  {}. ", i + 1)));
        }
    }
    out
}

/// `text` wrapped with `first` before its first line and as many spaces before the rest.
fn hang(text: &str, first: &str) -> String {
    hanging(text, first, &" ".repeat(first.chars().count()))
}

/// `text` wrapped to the output's width with `first` before its first line and `rest`
/// before the others. `first` must be plain text no wider than `rest`'s columns plus
/// the room the first line has spare.
pub fn hanging(text: &str, first: &str, rest: &str) -> String {
    let wrapped = wrap(text, rest);
    format!("{first}{}", &wrapped[rest.len().min(wrapped.len())..])
}
