//! The verdicts' checklist on screen: drawn from [`crate::session::checklist`], redrawn
//! after every line of keys, and closed with the user's word (or nothing, at `q`).
//! `practice` opens it after an offline grade and at `:dispute`; `grill review dispute`
//! opens it on a saved session.

use std::io::{self, Write};

use crate::ask::Prompt;
use crate::bank::Rubric;
use crate::grade::record::GradeRecord;
use crate::grade::{Grade, Verdict};
use crate::scrub;
pub use crate::session::checklist::KEYS;
use crate::session::checklist::{Checklist, KEYS_SHORT, Reply};
use crate::style::{Style, wrap};
use crate::view;
use crate::words;

/// Where a point's text starts: after "  1  ✓ met      ".
const INDENT: &str = "                ";

/// Reads one line of keys (the argument is the prompt); `None` when the input ends.
pub type ReadLine<'a> = dyn FnMut(&str) -> io::Result<Option<String>> + 'a;

/// The prompt keys are typed at.
pub const PROMPT: &str = "keys> ";

/// Opens the checklist on `reviewed` (a graded record of the answer named `label`)
/// against `rubric`, and reads lines of keys until the user accepts or leaves. `echo` writes each line read back after the
/// prompt, for input that does not show itself (a script). Returns the user's word, with
/// the result already shown, or `None` when they left or the input ended.
pub fn review(
    out: &mut dyn Write,
    style: Style,
    label: &str,
    rubric: Rubric<'_>,
    reviewed: &GradeRecord,
    read: &mut ReadLine<'_>,
    echo: bool,
) -> io::Result<Option<Grade>> {
    let (Some(assessment), Some(theirs)) = (reviewed.grade.assessment(), reviewed.grade.score()) else {
        return Ok(None);
    };
    let who = view::grader_name(&reviewed.grader);
    let mut list = Checklist::new(rubric, assessment);
    let mut message: Option<String> = None;
    loop {
        write!(out, "{}", draw(style, label, &list, &who, theirs))?;
        if let Some(m) = message.take() {
            write!(out, "{m}")?;
        }
        out.flush()?;
        let Some(line) = read(PROMPT)? else {
            writeln!(out, "{}", style.dim(&format!("  (nothing recorded: {who}'s {} stands)", words::score(theirs))))?;
            return Ok(None);
        };
        if echo {
            writeln!(out, "{PROMPT}{}", scrub::controls(&line))?;
        }
        match list.apply(&line) {
            Reply::Changed => {}
            Reply::Help => message = Some(KEYS.lines().map(|l| format!("  {l}\n")).collect()),
            Reply::Invalid(why) => message = Some(format!("  {}\n", style.warn(&scrub::controls(&why)))),
            Reply::Quit => {
                let left = format!("  (left without recording anything: {who}'s {} stands)", words::score(theirs));
                writeln!(out, "{}", style.dim(&left))?;
                return Ok(None);
            }
            Reply::Accepted => {
                write!(out, "{}", result(style, &list, &who, theirs))?;
                return Ok(Some(list.grade()));
            }
        }
    }
}

/// The list as it stands: each key point with the user's verdict (and the grader's when
/// it differs), each red flag raised, the score, and the keys.
pub fn draw(style: Style, label: &str, list: &Checklist<'_>, who: &str, theirs: u8) -> String {
    let heading = format!("── Your verdicts on {} ", scrub::controls(label));
    let mut out = format!("\n{}\n", style.bold(&format!("{heading:─<60}")));
    for (i, p) in list.points().iter().enumerate() {
        let mark = format!("{:<9}", words::mark(p.verdict));
        let mark = match p.verdict {
            Verdict::Met => style.good(&mark),
            Verdict::Partial => style.warn(&mark),
            Verdict::Missed => style.bad(&mark),
        };
        let body = wrap(&scrub::controls(&p.text), INDENT);
        out.push_str(&format!("  {:<3}{mark}  {}", i + 1, body.trim_start()));
        if let Some(e) = &p.evidence {
            out.push_str(&dimmed(style, &wrap(&format!("“{}”", scrub::controls(e)), INDENT)));
        }
        if p.verdict != p.grader {
            let said = format!("({who} said {})", words::mark(p.grader));
            out.push_str(&dimmed(style, &wrap(&said, INDENT)));
        }
    }
    for (i, f) in list.flags().iter().enumerate() {
        let mark = if f.cleared {
            style.dim(&format!("{:<9}", "– cleared"))
        } else {
            style.bad(&format!("{:<9}", "! raised"))
        };
        let text = match f.severity {
            Some(s) => format!("{} ({s} red flag)", f.text),
            None => f.text.clone(),
        };
        let body = wrap(&scrub::controls(&text), INDENT);
        out.push_str(&format!("  {:<3}{mark}  {}", format!("f{}", i + 1), body.trim_start()));
        if let Some(e) = &f.evidence {
            out.push_str(&dimmed(style, &wrap(&format!("“{}”", scrub::controls(e)), INDENT)));
        }
    }
    out.push_str(&format!(
        "  {} {}  {}\n",
        style.bold("Score:"),
        words::score(list.score()),
        style.dim(&format!("({who} said {theirs})"))
    ));
    out.push_str(&format!("  {}\n", style.dim(KEYS_SHORT)));
    out
}

/// What the user's word came to: the score beside the grader's, and every change.
pub fn result(style: Style, list: &Checklist<'_>, who: &str, theirs: u8) -> String {
    let changes = list.changes();
    let score = words::score(list.score());
    if changes.is_empty() {
        return format!("  {} {score}, as {who} said.\n", style.bold("Confirmed:"));
    }
    let mut out =
        format!("  {} {score}  {}\n", style.bold("Your verdicts:"), style.dim(&format!("({who} said {theirs})")));
    for c in changes {
        out.push_str(&wrap(&scrub::controls(&c), "    "));
    }
    out
}

/// The answer a prompt asked for, as the checklist names it: "colours", "colours ›
/// screens".
pub fn label(prompt: &Prompt<'_>) -> String {
    match (prompt.follow_up, &prompt.generated) {
        (Some(f), _) => format!("{} › {}", prompt.question.id, f.id),
        (None, Some(_)) => format!("{} › follow-up asked by the model", prompt.question.id),
        (None, None) => prompt.question.id.clone(),
    }
}

/// Each line of already wrapped text dimmed, its indent kept plain.
fn dimmed(style: Style, text: &str) -> String {
    text.lines()
        .map(|l| {
            let body = l.trim_start();
            format!("{}{}\n", &l[..l.len() - body.len()], style.dim(body))
        })
        .collect()
}
