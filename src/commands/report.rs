//! `grill report`: one self-contained HTML page of progress (inline styles and SVG, no
//! script, nothing fetched), built from the transcript index. The figures come from
//! [`crate::review::report`]; this shell reads the history, fills the template and
//! writes the file, never over one grill did not write.

use std::io::{Read, Write};
use std::path::Path;
use std::sync::LazyLock;

use handlebars::Handlebars;

use crate::cli::ReportArgs;
use crate::error::{ExitStatus, UserError};
use crate::review::report::{self, Inputs, ReportView};
use crate::review::stats;
use crate::util::now;

use super::Context;

/// The page's template. Handlebars escapes every value it writes, and the view has
/// already dropped control characters, so nothing from a transcript or a bank reaches
/// the page as markup.
const REPORT_HTML: &str = include_str!("../templates/report.html.hbs");

/// What marks a page as grill's own, so that writing it again may replace it.
const MARK: &str = r#"<meta name="generator" content="grill report">"#;

static PAGE: LazyLock<Handlebars<'static>> = LazyLock::new(|| {
    let mut hb = Handlebars::new();
    // A field the template names but the view lacks is a bug, not an empty string.
    hb.set_strict_mode(true);
    hb.register_template_string("report", REPORT_HTML).expect("the report template parses");
    hb
});

/// The page for `view`.
pub fn html(view: &ReportView) -> String {
    // The template and the view are both compiled in: a failure is a bug, caught by the
    // tests, and the page says so rather than being half written.
    PAGE.render("report", view).unwrap_or_else(|e| {
        let e = handlebars::html_escape(&e.to_string());
        format!("<!doctype html>\n{MARK}\n<p>grill could not write this page (a bug: please report it): {e}</p>\n")
    })
}

/// Whether the file at `path` may be replaced: it does not exist, or grill wrote it.
fn may_replace(path: &Path) -> Result<(), UserError> {
    let refuse = |why: &str| {
        UserError::new(format!("{} {why}: grill report leaves it as it is", path.display()))
            .hint("name another file with -o FILE, or move that one away")
    };
    match std::fs::symlink_metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(UserError::new(format!("cannot check {}: {e}", path.display()))),
        Ok(m) if !m.is_file() => Err(refuse("exists and is not a regular file")),
        Ok(_) => {
            // The mark is in the head: the first few kilobytes decide.
            let mut head = Vec::new();
            std::fs::File::open(path)
                .and_then(|f| f.take(4096).read_to_end(&mut head))
                .map_err(|e| UserError::new(format!("cannot read {}: {e}", path.display())))?;
            if String::from_utf8_lossy(&head).contains(MARK) {
                Ok(())
            } else {
                Err(refuse("exists and is not a grill report"))
            }
        }
    }
}

/// Writes the page.
pub fn run(ctx: &Context, args: &ReportArgs) -> anyhow::Result<ExitStatus> {
    let bank = ctx.bank()?;
    if let Some(t) = &args.topic {
        super::require_topic(&bank, t)?;
    }
    may_replace(&args.output)?;
    let history = ctx.history();
    // A file skipped makes every figure partial: the page says so, and so does the status.
    let ended = history.ended();
    let topic = args.topic.as_deref();
    // `--since` narrows the history shown, not the schedule.
    let items = history.schedule(&bank, topic);
    let skipped = history.skipped.len();
    let mut shown = history.summaries;
    if let Some(day) = args.since {
        shown.retain(|s| s.started_at.date_naive() >= day);
    }
    let st = stats::compute(&shown, &bank, topic);
    let now = now();
    let (forecast, no_forecast) = match super::plan::for_setting(ctx, &bank, topic, &items, now) {
        Some(Ok(f)) => (Some(f), None),
        Some(Err(e)) => (None, Some(e.message)),
        None => (None, None),
    };
    let view = report::build(&Inputs {
        sessions: &shown,
        bank: &bank,
        stats: &st,
        items: &items,
        forecast: forecast.as_ref(),
        no_forecast,
        topic,
        since: args.since,
        skipped,
        now,
    });
    let page = html(&view);
    crate::util::write_atomic(&args.output, page.as_bytes()).map_err(|e| {
        UserError::new(format!("cannot write {}: {e}", args.output.display()))
            .hint("check that its folder exists and is writable, or name another file with -o FILE")
    })?;
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "Wrote {}: {} session(s) with {} graded answer(s) in {} topic(s); {} review(s) due in the next {} days.",
        args.output.display(),
        view.sessions_counted,
        view.answers,
        view.topics.len(),
        view.due.total,
        view.due.days
    )?;
    Ok(ended)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bank::{Bank, BankSource};
    use crate::review::index::{Summary, TurnSummary};
    use crate::review::schedule::Help;
    use crate::transcript::{SessionMode, Status};

    #[test]
    fn the_template_renders_a_history_without_grades_and_escapes_what_it_is_given() {
        let bank = Bank::from_files(
            [("sample.toml".to_string(), include_str!("../../tests/fixtures/bank/sample.toml").to_string())],
            BankSource::Embedded,
        )
        .unwrap();
        let at = chrono::DateTime::parse_from_rfc3339("2026-12-01T10:00:00+00:00").unwrap();
        // An answer still waiting for its grade: no score, no mean, no grader.
        let waiting = Summary {
            id: "<b>\"x\"</b>".into(),
            started_at: at,
            status: Status::InProgress,
            mode: SessionMode::Interview,
            plan: vec!["colours".into()],
            turns: vec![TurnSummary {
                question_id: "colours".into(),
                follow_up: false,
                answered_at: Some(at),
                skipped: false,
                score: None,
                pending: true,
                missed: vec![],
                partial: vec![],
                help: Help::default(),
                confidence: None,
                grader: None,
            }],
        };
        let sessions = [waiting];
        let st = crate::review::stats::compute(&sessions, &bank, None);
        let view = report::build(&Inputs {
            sessions: &sessions,
            bank: &bank,
            stats: &st,
            items: &[],
            forecast: None,
            no_forecast: Some("the interview date 2026-11-01 is not after today".into()),
            topic: None,
            since: None,
            skipped: 0,
            now: at,
        });
        let page = html(&view);
        assert!(page.contains(MARK), "the page is marked as grill's own");
        assert!(!page.contains("could not write this page"), "{page}");
        assert!(page.contains("No graded answers yet"));
        assert!(page.contains(r#"<tr data-session="&lt;b&gt;&quot;x&quot;&lt;/b&gt;" data-mean="">"#), "{page}");
        assert!(page.contains("interview <span class=\"small\">(in progress)</span>"));
        assert!(page.contains("No forecast: the interview date 2026-11-01 is not after today."));
        assert!(!page.contains("<b>"));
    }
}
