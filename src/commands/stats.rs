//! `grill stats`: progress per topic, trend, the weakest key points, and what is due.

use std::io::Write;

use crate::cli::StatsArgs;
use crate::error::ExitStatus;
use crate::render;
use crate::review::forecast::Forecast;
use crate::review::{schedule, stats};
use crate::util::now;

use super::Context;

pub mod output;

/// Prints the statistics.
pub fn run(ctx: &Context, args: &StatsArgs) -> anyhow::Result<ExitStatus> {
    let bank = ctx.bank()?;
    if let Some(t) = &args.topic {
        super::require_topic(&bank, t)?;
    }
    let history = ctx.history();
    let ended = history.ended();
    let topic = args.topic.as_deref();
    let st = stats::compute(&history.summaries, &bank, topic);
    let items = history.schedule(&bank, topic);
    let now = now();
    let due = schedule::due(&items, now);
    let next = items.iter().filter(|i| i.due > now).min_by_key(|i| i.due);
    // A day gone is said in the text, not an error: the rest of the figures still hold.
    let interview = super::plan::for_setting(ctx, &bank, topic, &items, now);
    let forecast: Option<Forecast> = interview.as_ref().and_then(|f| f.as_ref().ok()).cloned();

    let mut out = std::io::stdout().lock();
    if args.json {
        let doc = output::StatsOutput::new(
            &st,
            &due,
            &items,
            forecast.as_ref(),
            super::review::output::skipped(&history.skipped),
        );
        serde_json::to_writer_pretty(&mut out, &doc)?;
        writeln!(out)?;
        return Ok(ended);
    }
    if st.topics.is_empty() {
        writeln!(out, "No graded answers yet: `grill` starts a session.")?;
        return Ok(ended);
    }
    let s = &ctx.style;
    writeln!(
        out,
        "{}",
        s.bold(&format!("{:<16} {:>9} {:>8} {:>5}  trend (per session)", "topic", "questions", "answers", "mean"))
    )?;
    for t in &st.topics {
        let mean = t.mean.map_or("-".into(), |m| format!("{m:.0}"));
        writeln!(
            out,
            "{:<16} {:>9} {:>8} {:>5}  {}",
            t.topic,
            t.questions,
            t.answers,
            mean,
            stats::sparkline(&t.trend)
        )?;
    }
    if !st.weakest.is_empty() {
        writeln!(out, "\n{}", s.bold("Weakest key points"))?;
        for w in &st.weakest {
            let point = if w.point.is_empty() { w.key_point_id.clone() } else { w.point.clone() };
            let short: String = point.chars().take(90).collect();
            let more = if point.chars().count() > 90 { "…" } else { "" };
            let line = format!("missed “{short}{more}” in {} of {} answers to {}", w.missed, w.of, w.question_id);
            write!(out, "{}", render::hanging(&line, "  ", "    "))?;
        }
    }
    if !st.calibration.is_empty() {
        writeln!(out, "\n{}", s.bold("Confidence against grades (right: graded 65 or more)"))?;
        writeln!(out, "  {:<16} {:>7} {:>6} {:>6} {:>6}", "topic", "answers", "Brier", "sure", "right")?;
        for c in &st.calibration {
            let pct = |x: f64| format!("{:.0}%", x * 100.0);
            // Formatted like the percentages beside it, so the difference reads true.
            let points = c.bias() * 100.0;
            let verdict = match points {
                p if p > 10.0 => format!("over-confident by {p:.0} points"),
                p if p < -10.0 => format!("under-confident by {:.0} points", -p),
                _ => "about right".to_string(),
            };
            writeln!(
                out,
                "  {:<16} {:>7} {:>6.2} {:>6} {:>6}  {verdict}",
                c.topic,
                c.answers,
                c.brier,
                pct(c.confidence),
                pct(c.right)
            )?;
        }
    }
    if !items.is_empty() {
        writeln!(out, "\n{}", s.bold("Schedule (soonest first)"))?;
        let mut by_due: Vec<_> = items.iter().collect();
        by_due.sort_by_key(|i| (i.due, i.question_id.clone()));
        const SHOWN: usize = 10;
        for i in by_due.iter().take(SHOWN) {
            let last = i.last_score.map_or("skipped".into(), crate::words::score);
            writeln!(
                out,
                "  {:<28} {:>8}  {:<5}  {} review(s)  {}",
                i.question_id,
                last,
                i.last_rating.label(),
                i.reviews,
                when(i.due, now)
            )?;
            // Why help held the rating down, under it: a 100/100 rated again needs a reason.
            if let Some(why) = crate::words::held_down(i.last_help.hints, i.last_help.reference_shown) {
                let line = crate::words::rated_for_help(i.last_rating.label(), &why);
                write!(out, "{}", render::hanging(&line, "    ", "      "))?;
            }
        }
        if by_due.len() > SHOWN {
            writeln!(out, "  … and {} more (`grill stats --json` lists all)", by_due.len().saturating_sub(SHOWN))?;
        }
    }
    writeln!(out)?;
    match (due.len(), next) {
        (0, Some(n)) => {
            writeln!(out, "Nothing is due today; next: {} on {}.", n.question_id, n.due.format("%Y-%m-%d"))?
        }
        (0, None) => writeln!(out, "Nothing is due.")?,
        (n, _) => writeln!(out, "{n} question(s) due today: `grill practice --due` asks them, weakest first.")?,
    }
    match (&interview, &forecast) {
        (_, Some(f)) => write!(out, "\n{}", super::plan::summary(f))?,
        (Some(Err(e)), _) => writeln!(out, "\nNo forecast: {}.", e.message)?,
        _ => {}
    }
    Ok(ended)
}

/// When a question is due, relative to now: "due now", "due in 3 days".
fn when(due: chrono::DateTime<chrono::FixedOffset>, now: chrono::DateTime<chrono::FixedOffset>) -> String {
    if due <= now {
        return "due now".into();
    }
    let hours = (due - now).num_hours();
    match hours {
        0..24 => format!("due in {} h", hours.max(1)),
        _ => format!("due in {} day(s) ({})", hours.saturating_add(12) / 24, due.format("%Y-%m-%d")),
    }
}
