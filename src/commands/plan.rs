//! `grill plan`: readiness for an interview day. From the FSRS state of every question,
//! its predicted recall on the day if nothing more is practised, per topic (never-seen
//! questions count as 0), the questions most at risk, and how many reviews a day reach a
//! target (see [`crate::review::forecast`] for the model).

use std::io::Write;

use chrono::{DateTime, FixedOffset, NaiveDate};
use serde::Serialize;

use crate::bank::Bank;
use crate::cli::PlanArgs;
use crate::commands::review::output::Skipped;
use crate::config::{INTERVIEW_DATE, Sourced};
use crate::error::{ExitStatus, UserError};
use crate::render;
use crate::review::forecast::{self, Forecast};
use crate::review::schedule::Item;
use crate::style::Style;
use crate::util::now;

use super::Context;

/// The version of `grill plan --json`'s shape; bumped when a field is renamed, removed
/// or changes meaning.
pub const SCHEMA: &str = "grill.plan/1";

/// What `grill plan --json` prints.
#[derive(Debug, Serialize)]
pub struct PlanOutput<'a> {
    /// Always `"grill.plan/1"`.
    pub schema: &'static str,
    /// `interview` (the day), `days_left`, `target`, `recall` (mean predicted recall on
    /// the day, unseen questions as 0), `topics` (`topic`, `questions`, `unseen`,
    /// `recall`), `questions` (every reviewed question, lowest recall first:
    /// `question_id`, `topic`, `recall`, `stability`, `last_review`), `at_risk` (the ten
    /// lowest, unseen included), `reviews_per_day` (`null` when out of reach) and
    /// `assumes` (what that number assumes). Recalls are 0 to 1.
    #[serde(flatten)]
    pub forecast: &'a Forecast,
    /// Transcript files that could not be read, so every figure above is partial; when
    /// there are any, grill exits with 2.
    pub skipped: Vec<Skipped>,
}

/// Prints the forecast.
pub fn run(ctx: &Context, args: &PlanArgs) -> anyhow::Result<ExitStatus> {
    let bank = ctx.bank()?;
    if let Some(t) = &args.topic {
        super::require_topic(&bank, t)?;
    }
    let now = now();
    let Some(set) = &ctx.settings.interview_date else {
        return Err(UserError::new("no interview date to plan for")
            .hint("give one with --interview YYYY-MM-DD, or set `interview_date` (`grill config` shows the settings)")
            .into());
    };
    let day = interview_day(set, now)?;
    let history = ctx.history();
    let ended = history.ended();
    let items = history.schedule(&bank, None);
    let f = forecast_for(&bank, args.topic.as_deref(), &items, now, day, args.target);
    let mut out = std::io::stdout().lock();
    if args.json {
        let doc =
            PlanOutput { schema: SCHEMA, forecast: &f, skipped: super::review::output::skipped(&history.skipped) };
        serde_json::to_writer_pretty(&mut out, &doc)?;
        writeln!(out)?;
        return Ok(ended);
    }
    write!(out, "{}", text(&f, &ctx.style))?;
    Ok(ended)
}

/// The interview day set, checked to be after today; the error names where it was set.
pub(super) fn interview_day(set: &Sourced<NaiveDate>, now: DateTime<FixedOffset>) -> Result<NaiveDate, UserError> {
    let today = now.date_naive();
    if set.value > today {
        return Ok(set.value);
    }
    Err(UserError::new(format!(
        "the interview date {} ({}) is not after today ({today}): there is nothing left to plan",
        set.value,
        INTERVIEW_DATE.at(&set.source)
    ))
    .hint("give a day to come, e.g. --interview YYYY-MM-DD"))
}

/// The forecast for the interview day the settings set, at the default target: what
/// `grill stats` and `grill report` show beside their figures. `None` when no day is set;
/// `Err` says why the day set cannot be forecast (it is not after today).
pub(super) fn for_setting(
    ctx: &Context,
    bank: &Bank,
    topic: Option<&str>,
    items: &[Item],
    now: DateTime<FixedOffset>,
) -> Option<Result<Forecast, UserError>> {
    let set = ctx.settings.interview_date.as_ref()?;
    Some(interview_day(set, now).map(|day| forecast_for(bank, topic, items, now, day, forecast::DEFAULT_TARGET)))
}

/// The forecast over the bank's questions (of `topic`, or all).
pub(super) fn forecast_for(
    bank: &Bank,
    topic: Option<&str>,
    items: &[Item],
    now: DateTime<FixedOffset>,
    day: NaiveDate,
    target: f64,
) -> Forecast {
    let pool: Vec<(&str, &str)> = bank
        .questions()
        .iter()
        .filter(|q| topic.is_none_or(|t| q.topic == t))
        .map(|q| (&*q.id, q.topic.as_str()))
        .collect();
    forecast::forecast(&pool, items, now, day, target)
}

/// A recall, 0 to 1, as a whole percentage.
fn percent(r: f64) -> String {
    format!("{:.0}%", r * 100.0)
}

/// The daily number in one sentence (also what `grill stats` shows).
pub(super) fn daily(f: &Forecast) -> String {
    let target = percent(f.target);
    match f.reviews_per_day {
        Some(0) => format!("Every question is at {target} or more on the day already."),
        Some(n) => format!("To have every question at {target} or more on the day: {n} review(s) a day."),
        None => format!(
            "No number of reviews a day brings every question to {target} by {}: even all of them every day \
             leaves some below (a lower --target is within reach).",
            f.interview
        ),
    }
}

/// The forecast in a few lines, for `grill stats`.
pub(super) fn summary(f: &Forecast) -> String {
    let unseen: usize = f.topics.iter().map(|t| t.unseen).sum();
    let questions: usize = f.topics.iter().map(|t| t.questions).sum();
    let mut out = render::hanging(
        &format!(
            "Interview on {}, in {} day(s): predicted recall {} on the day if you practise no more ({unseen} of \
             {questions} question(s) never answered count as 0).",
            f.interview,
            f.days_left,
            percent(f.recall)
        ),
        "",
        "",
    );
    if !f.at_risk.is_empty() {
        let few: Vec<&str> = f.at_risk.iter().take(5).map(String::as_str).collect();
        out += &render::hanging(&format!("Most at risk: {}.", few.join(", ")), "", "");
    }
    out += &render::hanging(&format!("{} `grill plan` shows more, and what this assumes.", daily(f)), "", "");
    out
}

/// The forecast as `grill plan` prints it.
fn text(f: &Forecast, s: &Style) -> String {
    let mut out = format!(
        "Interview on {}, in {} day(s). Predicted recall on the day if you practise no more:\n\n",
        f.interview, f.days_left
    );
    out += &format!("{}\n", s.bold(&format!("{:<16} {:>9} {:>7} {:>7}", "topic", "questions", "unseen", "recall")));
    for t in &f.topics {
        out += &format!("{:<16} {:>9} {:>7} {:>7}\n", t.topic, t.questions, t.unseen, percent(t.recall));
    }
    if f.topics.len() > 1 {
        let (n, unseen) = f.topics.iter().fold((0, 0), |(n, u), t| (n + t.questions, u + t.unseen));
        out += &format!("{:<16} {:>9} {:>7} {:>7}\n", "all", n, unseen, percent(f.recall));
    }
    if !f.at_risk.is_empty() {
        out += &format!("\n{}\n", s.bold("Most at risk (lowest predicted recall first)"));
        for id in &f.at_risk {
            let line = match f.questions.iter().find(|q| &q.question_id == id) {
                Some(q) => format!(
                    "  {:<28} {:>4}  stability {:.1} day(s), last reviewed {}",
                    id,
                    percent(q.recall),
                    q.stability,
                    q.last_review.format("%Y-%m-%d")
                ),
                None => format!("  {id:<28} {:>4}  never seen", percent(0.0)),
            };
            out += &line;
            out += "\n";
        }
    }
    out += "\n";
    out += &render::hanging(&daily(f), "", "");
    out += &render::hanging(&format!("This assumes {}.", f.assumes), "", "");
    out
}
