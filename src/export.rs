//! A transcript as a document: Markdown, or one self-contained HTML page (styles inline,
//! nothing fetched) that reads and prints well, with scores and verdicts visible at a
//! glance. Both are written from one view of the transcript.

use std::fmt::Write;

use crate::bank::{Bank, Severity};
use crate::grade::{Grade, Verdict};
use crate::render::grader_label;
use crate::scrub;

/// Text from a transcript or a bank without control characters: a document must not carry
/// escape sequences into the terminal that `cat`s it, or into a browser.
fn clean(s: &str) -> String {
    scrub::controls(s).into_owned()
}
use crate::transcript::Transcript;

struct PointView {
    text: String,
    verdict: Verdict,
    evidence: Option<String>,
    note: Option<String>,
}

struct GradeView {
    when: String,
    grader: String,
    score: Option<u8>,
    reason: Option<String>,
    points: Vec<PointView>,
    flags: Vec<(String, Severity, Option<String>)>,
    strengths: Vec<String>,
    gaps: Vec<String>,
    next_step: Option<String>,
    injection: Vec<String>,
}

struct TurnView {
    title: String,
    prompt: String,
    answer: Option<String>,
    skipped: bool,
    grades: Vec<GradeView>,
}

fn views(t: &Transcript, bank: &Bank) -> Vec<TurnView> {
    t.turns
        .iter()
        .enumerate()
        .map(|(i, turn)| {
            let q = bank.get(&turn.question_id);
            let fu = q.and_then(|q| turn.follow_up_id.as_deref().and_then(|f| q.follow_up(f)));
            let kp_text = |id: &str| {
                fu.map(|f| &f.key_points)
                    .or(q.map(|q| &q.key_points))
                    .and_then(|ks| ks.iter().find(|k| k.id == id))
                    .map_or_else(|| clean(id), |k| clean(&k.point))
            };
            let flag_text = |id: &str| {
                fu.map(|f| &f.red_flags)
                    .or(q.map(|q| &q.red_flags))
                    .and_then(|fs| fs.iter().find(|f| f.id == id))
                    .map_or_else(|| clean(id), |f| clean(&f.point))
            };
            let title = match (&turn.follow_up_id, &turn.generated_for) {
                (Some(f), _) => format!("{}. {} — follow-up {}", i + 1, clean(&turn.question_id), clean(f)),
                (None, Some(_)) => {
                    format!("{}. {} — follow-up asked by the model", i + 1, clean(&turn.question_id))
                }
                _ => format!("{}. {}", i + 1, clean(&turn.question_id)),
            };
            let grades = turn
                .grades
                .iter()
                .map(|g| {
                    let mut v = GradeView {
                        when: g.graded_at.format("%Y-%m-%d %H:%M").to_string(),
                        grader: clean(&grader_label(&g.grader)),
                        score: g.grade.score(),
                        reason: None,
                        points: vec![],
                        flags: vec![],
                        strengths: vec![],
                        gaps: vec![],
                        next_step: None,
                        injection: g
                            .injection
                            .iter()
                            .map(|m| format!("line {}: {}", m.line, clean(&m.excerpt)))
                            .collect(),
                    };
                    match &g.grade {
                        Grade::Ungraded { reason, .. } => v.reason = Some(clean(reason)),
                        Grade::Graded { assessment: a, .. } => {
                            v.points = a
                                .key_points
                                .iter()
                                .map(|p| PointView {
                                    text: kp_text(&p.id),
                                    verdict: p.verdict,
                                    evidence: p.evidence.as_deref().map(clean),
                                    note: p.note.as_deref().map(clean),
                                })
                                .collect();
                            v.flags = a
                                .red_flags
                                .iter()
                                .map(|f| (flag_text(&f.id), f.severity, f.evidence.as_deref().map(clean)))
                                .collect();
                            v.strengths = a.feedback.strengths.iter().map(|s| clean(s)).collect();
                            v.gaps = a.feedback.gaps.iter().map(|s| clean(s)).collect();
                            v.next_step = a.feedback.next_step.as_deref().map(clean);
                        }
                    }
                    v
                })
                .collect();
            TurnView {
                title,
                prompt: clean(&turn.prompt),
                answer: turn.answer.as_deref().map(clean),
                skipped: turn.skipped,
                grades,
            }
        })
        .collect()
}

fn mark(v: Verdict) -> &'static str {
    match v {
        Verdict::Met => "✓ met",
        Verdict::Partial => "~ partial",
        Verdict::Missed => "✗ missed",
    }
}

fn header(t: &Transcript) -> (String, String) {
    let title = format!("grill session {} — {}", clean(&t.id), t.started_at.format("%Y-%m-%d %H:%M"));
    let mean = t.mean_score().map_or("–".into(), |m| format!("{m:.0}/100"));
    let meta = format!(
        "{} · status: {:?} · answered: {} · mean score: {mean} · grader: {} · bank: {}",
        t.mode,
        t.status,
        t.answered(),
        clean(&t.grader.to_string()),
        clean(&t.bank.to_string())
    );
    (title, meta)
}

/// The session as Markdown.
pub fn markdown(t: &Transcript, bank: &Bank) -> String {
    let (title, meta) = header(t);
    let mut out = format!("# {title}\n\n{meta}\n");
    let cell = |s: &str| s.replace('|', "\\|").replace('\n', " ");
    for turn in views(t, bank) {
        let _ = writeln!(out, "\n## {}\n\n**Q:** {}\n", turn.title, turn.prompt);
        match (&turn.answer, turn.skipped) {
            (_, true) => out.push_str("*Skipped.*\n"),
            (Some(a), _) => {
                out.push_str("**Answer:**\n\n");
                for line in a.lines() {
                    let _ = writeln!(out, "> {line}");
                }
            }
            (None, _) => out.push_str("*Not answered.*\n"),
        }
        let n = turn.grades.len();
        for (i, g) in turn.grades.iter().enumerate() {
            let which = if n > 1 { format!(" (grade {} of {n}, {})", i + 1, g.when) } else { String::new() };
            match (g.score, &g.reason) {
                (Some(s), _) => {
                    let _ = writeln!(out, "\n**Score: {s}/100**{which} — {}", g.grader);
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
                    let _ = writeln!(out, "| {} | {} | {} |", cell(&p.text), mark(p.verdict), cell(&ev));
                }
            }
            for (text, sev, ev) in &g.flags {
                let _ = writeln!(
                    out,
                    "\n**Red flag ({sev:?}):** {text} {}",
                    ev.as_deref().map(|e| format!("— “{e}”")).unwrap_or_default()
                );
            }
            for s in &g.strengths {
                let _ = writeln!(out, "\n- Strength: {s}");
            }
            for s in &g.gaps {
                let _ = writeln!(out, "- Gap: {s}");
            }
            if let Some(ns) = &g.next_step {
                let _ = writeln!(out, "\n**Next step:** {ns}");
            }
        }
    }
    out
}

fn esc(s: &str) -> String {
    clean(s).replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

const CSS: &str = "body{font:15px/1.5 system-ui,-apple-system,Segoe UI,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#1d1d1f}\
h1{font-size:1.5rem;margin-bottom:.2rem}.meta{color:#555;font-size:.9rem}\
section{border-top:1px solid #ddd;margin-top:1.5rem;padding-top:.5rem;break-inside:avoid-page}\
h2{font-size:1.15rem;display:flex;justify-content:space-between;align-items:center;gap:1rem}\
.score{font-weight:700;border-radius:1rem;padding:.1rem .7rem;color:#fff;white-space:nowrap}\
.hi{background:#2e7d32}.mid{background:#b26a00}.lo{background:#c62828}.none{background:#777}\
.q{font-weight:600}blockquote{margin:.5rem 0;padding:.5rem .8rem;background:#f6f6f6;border-left:4px solid #bbb;white-space:pre-wrap;font-family:ui-monospace,Menlo,monospace;font-size:.85rem}\
table{border-collapse:collapse;width:100%;margin:.5rem 0;font-size:.9rem}td,th{border:1px solid #ddd;padding:.3rem .5rem;vertical-align:top;text-align:left}\
td.met,td.partial,td.missed{white-space:nowrap}.met{color:#2e7d32;font-weight:600}.partial{color:#b26a00;font-weight:600}.missed{color:#c62828;font-weight:600}\
.flag{color:#c62828}.warn{color:#b26a00}.small{color:#666;font-size:.85rem}\
@media print{body{margin:0;max-width:none}.score{-webkit-print-color-adjust:exact;print-color-adjust:exact}}";

/// The session as one self-contained HTML page.
pub fn html(t: &Transcript, bank: &Bank) -> String {
    let (title, meta) = header(t);
    let mut out = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\">\
         <title>{}</title><style>{CSS}</style></head><body>\n<h1>{}</h1><p class=\"meta\">{}</p>\n",
        esc(&title),
        esc(&title),
        esc(&meta)
    );
    for turn in views(t, bank) {
        let latest = turn.grades.last();
        let badge = match latest.and_then(|g| g.score) {
            Some(s) => format!(
                "<span class=\"score {}\">{s}/100</span>",
                if s >= 70 {
                    "hi"
                } else if s >= 40 {
                    "mid"
                } else {
                    "lo"
                }
            ),
            None if turn.skipped => "<span class=\"score none\">skipped</span>".into(),
            None => "<span class=\"score none\">not graded</span>".into(),
        };
        let _ = writeln!(
            out,
            "<section><h2><span>{}</span>{badge}</h2><p class=\"q\">{}</p>",
            esc(&turn.title),
            esc(&turn.prompt)
        );
        if let Some(a) = &turn.answer {
            let _ = writeln!(out, "<blockquote>{}</blockquote>", esc(a));
        }
        let n = turn.grades.len();
        for (i, g) in turn.grades.iter().enumerate() {
            let which = if n > 1 { format!("grade {} of {n}, {} · ", i + 1, g.when) } else { String::new() };
            let _ = writeln!(out, "<p class=\"small\">{}{}</p>", esc(&which), esc(&g.grader));
            if let Some(r) = &g.reason {
                let _ = writeln!(out, "<p class=\"warn\">Not graded: {}</p>", esc(r));
            }
            for inj in &g.injection {
                let _ = writeln!(out, "<p class=\"flag\">⚠ Addressed to the grader, earned nothing: {}</p>", esc(inj));
            }
            if !g.points.is_empty() {
                out.push_str("<table><tr><th>key point</th><th>verdict</th><th>evidence</th></tr>\n");
                for p in &g.points {
                    let class = match p.verdict {
                        Verdict::Met => "met",
                        Verdict::Partial => "partial",
                        Verdict::Missed => "missed",
                    };
                    let ev = match (&p.evidence, &p.note) {
                        (_, Some(nt)) => format!("<span class=\"small\">{}</span>", esc(nt)),
                        (Some(e), None) => format!("“{}”", esc(e)),
                        (None, None) => String::new(),
                    };
                    let _ = writeln!(
                        out,
                        "<tr><td>{}</td><td class=\"{class}\">{}</td><td>{ev}</td></tr>",
                        esc(&p.text),
                        mark(p.verdict)
                    );
                }
                out.push_str("</table>\n");
            }
            for (text, sev, ev) in &g.flags {
                let ev = ev.as_deref().map(|e| format!(" — “{}”", esc(e))).unwrap_or_default();
                let _ = writeln!(out, "<p class=\"flag\">Red flag ({sev:?}): {}{ev}</p>", esc(text));
            }
            if !g.strengths.is_empty() || !g.gaps.is_empty() {
                out.push_str("<ul>");
                for s in &g.strengths {
                    let _ = write!(out, "<li>Strength: {}</li>", esc(s));
                }
                for s in &g.gaps {
                    let _ = write!(out, "<li>Gap: {}</li>", esc(s));
                }
                out.push_str("</ul>\n");
            }
            if let Some(ns) = &g.next_step {
                let _ = writeln!(out, "<p><b>Next step:</b> {}</p>", esc(ns));
            }
        }
        out.push_str("</section>\n");
    }
    out.push_str("</body></html>\n");
    out
}
