//! A transcript as a document: Markdown, or one self-contained HTML page (styles inline,
//! nothing fetched) that reads and prints well, with scores and verdicts visible at a
//! glance. Both are written from [`crate::view`], the view the terminal shows too.

use std::fmt::Write;
use std::sync::LazyLock;

use handlebars::Handlebars;

use crate::bank::Bank;
use crate::transcript::Transcript;
use crate::view::{self, SessionView};

/// The HTML page's template. Handlebars escapes every value it writes, and every value
/// comes from the view (control characters already out), so nothing from a transcript,
/// a bank or a model reaches the page as markup.
const SESSION_HTML: &str = include_str!("templates/session.html.hbs");

static PAGES: LazyLock<Handlebars<'static>> = LazyLock::new(|| {
    let mut hb = Handlebars::new();
    // A field the template names but the view lacks is a bug, not an empty string.
    hb.set_strict_mode(true);
    hb.register_template_string("session", SESSION_HTML).expect("the session template parses");
    hb
});

/// The line under the title: mode, status, counts, grader and bank.
fn meta(s: &SessionView) -> String {
    format!(
        "{} · status: {} · answered: {} · mean score: {} · grader: {} · bank: {}",
        s.mode,
        s.status,
        s.answered,
        s.mean.as_deref().unwrap_or("–"),
        s.grader,
        s.bank
    )
}

/// The session as Markdown.
pub fn markdown(t: &Transcript, bank: &Bank) -> String {
    let s = view::session(t, bank);
    let mut out = format!("# grill {}\n\n{}\n", lowercase_first(&s.title), meta(&s));
    let cell = |s: &str| s.replace('|', "\\|").replace('\n', " ");
    for turn in &s.turns {
        let _ = writeln!(out, "\n## {}\n\n**Q:** {}\n", turn.title, turn.prompt);
        match (&turn.answer, turn.skipped) {
            (_, true) => out.push_str("*Skipped.*\n"),
            (Some(a), _) => {
                out.push_str("**Answer:**\n\n");
                for line in a.lines() {
                    // A bare ">" for a blank line: no trailing space for editors to strip.
                    let _ = if line.is_empty() { writeln!(out, ">") } else { writeln!(out, "> {line}") };
                }
            }
            (None, _) => out.push_str("*Not answered.*\n"),
        }
        if let Some(help) = crate::render::help_used(turn) {
            let _ = writeln!(out, "\n*{help}*");
        }
        for g in &turn.grades {
            let which = g.which.as_ref().map(|w| format!(" ({w}, {})", g.when)).unwrap_or_default();
            match (&g.score_text, &g.ungraded) {
                (Some(score), _) => {
                    let _ = writeln!(out, "\n**Score: {score}**{which} — {}", g.grader);
                }
                (None, reason) => {
                    let _ = writeln!(out, "\n**Not graded**{which}: {}", reason.as_deref().unwrap_or(""));
                }
            }
            for inj in &g.injection {
                let _ = writeln!(out, "\n⚠ Addressed to the grader, earned nothing: {}", cell(inj));
            }
            if !g.points.is_empty() {
                out.push_str("\n| key point | verdict | evidence |\n|---|---|---|\n");
                for p in &g.points {
                    let ev = match (&p.evidence, &p.note) {
                        (_, Some(n)) => n.clone(),
                        (Some(e), None) => format!("“{e}”"),
                        (None, None) => String::new(),
                    };
                    let _ = writeln!(out, "| {} | {} | {} |", cell(&p.text), p.mark, cell(&ev));
                }
            }
            for f in &g.flags {
                let ev = f.evidence.as_deref().map(|e| format!(" — “{e}”")).unwrap_or_default();
                let _ = writeln!(out, "\n**Red flag ({}):** {}{ev}", f.severity, f.text);
            }
            if !g.strengths.is_empty() || !g.gaps.is_empty() {
                out.push('\n');
            }
            for s in &g.strengths {
                let _ = writeln!(out, "- Strength: {s}");
            }
            for s in &g.gaps {
                let _ = writeln!(out, "- Gap: {s}");
            }
            if let Some(ns) = &g.next_step {
                let _ = writeln!(out, "\n**Next step:** {ns}");
            }
        }
        if let Some(rated) = &turn.rated_for_help {
            let _ = writeln!(out, "\n**{rated}**");
        }
        if let Some(r) = &turn.reference {
            let _ = writeln!(out, "\n**Reference answer:**\n\n{}", r.trim_end());
        }
    }
    out
}

/// "Session …" as it reads after "grill ".
fn lowercase_first(s: &str) -> String {
    let mut c = s.chars();
    c.next().map(|f| f.to_lowercase().chain(c).collect()).unwrap_or_default()
}

/// The session as one self-contained HTML page.
pub fn html(t: &Transcript, bank: &Bank) -> String {
    let s = view::session(t, bank);
    let data =
        serde_json::json!({"session": &s, "meta": meta(&s), "title": format!("grill {}", lowercase_first(&s.title))});
    // The template and the view are both compiled in: a failure is a bug, caught by the
    // tests, and the message says so rather than writing half a page.
    PAGES.render("session", &data).unwrap_or_else(|e| {
        let e = handlebars::html_escape(&e.to_string());
        format!("<!doctype html>\n<p>grill could not write this page (a bug: please report it): {e}</p>\n")
    })
}
