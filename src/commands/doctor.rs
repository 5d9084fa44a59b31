//! `grill doctor`: is AI grading going to work? The steps the grader resolution takes
//! (the same steps every command takes), then one timed grading, as a table (or
//! `--json`). Ready means a sample answer came back as a grade.

use std::io::Write;
use std::time::Instant;

use serde::Serialize;

use crate::ask::Prompt;
use crate::bank::Bank;
use crate::cli::JsonFlag;
use crate::config::GraderChoice;
use crate::error::{ExitStatus, UserError};
use crate::grade::Grade;
use crate::grade::record::GradeRecord;
use crate::grade::resolve::{Depth, Step, resolve};

use super::Context;

const SAMPLE_ANSWER: &str = "The GIL is a mutex in CPython: only one thread executes Python bytecode at a time. \
It exists because reference counting is not thread-safe, and it keeps C extensions simple. Blocking I/O releases \
it, so threads help I/O-bound work, but CPU-bound work needs multiprocessing.";

/// What `grill doctor --json` prints.
#[derive(Debug, Serialize)]
struct Report {
    /// Whether AI grading is ready: every check passed, the test grading included.
    ok: bool,
    /// The checks, in the order they were made.
    checks: Vec<Step>,
    /// What to do about the first check that failed, when there is something to say.
    hint: Option<String>,
}

/// Runs the checks and prints them.
pub fn run(ctx: &Context, args: &JsonFlag) -> anyhow::Result<ExitStatus> {
    if ctx.settings.grader.value == GraderChoice::Offline {
        return Err(UserError::new("the grader is set to offline: there is no endpoint to check")
            .hint("drop --grader offline (or GRILL_GRADER) to check AI grading")
            .into());
    }
    let rt = ctx.runtime()?;
    let resolution = rt.block_on(resolve(&ctx.settings, Depth::Check, ctx.notify()));
    let mut checks = resolution.steps;
    let mut hint = resolution.hint;
    let mut graded = false;
    // Only a model is checked further: an offline fallback has said why in its steps.
    if let Ok(chosen) = resolution.outcome
        && chosen.grader.uses_model()
    {
        let bank = Bank::embedded()?;
        let question = bank.get("gil").ok_or_else(|| anyhow::anyhow!("the built-in bank has no `gil` question"))?;
        let prompt = Prompt::main(question);
        let started = Instant::now();
        let record = rt.block_on(chosen.grader.grade(&prompt.asked(), SAMPLE_ANSWER));
        let took = started.elapsed().as_secs_f64();
        graded = matches!(record.grade, Grade::Graded { .. });
        if !graded && record.mode.is_some() && hint.is_none() {
            hint = Some(
                "the server answers, but the model's replies are not grades: try a larger or instruction-tuned model"
                    .into(),
            );
        }
        checks.extend(grading_checks(&record, took));
    }
    let report = Report { ok: graded && checks.iter().all(|c| c.ok), checks, hint };
    print(ctx, args, &report)?;
    Ok(if report.ok { ExitStatus::Success } else { ExitStatus::Error })
}

/// What the test grading showed: whether a structured-output mode produced a reply that
/// parsed as a grade (a mode the server accepts but whose replies do not parse does not
/// work), and the grading itself.
fn grading_checks(record: &GradeRecord, took: f64) -> [Step; 2] {
    let structured = match (record.mode, &record.grade) {
        (Some(m), Grade::Graded { .. }) => Step {
            name: "structured output",
            ok: true,
            detail: format!("{} works (remembered for this endpoint and model)", m.name()),
        },
        (Some(m), Grade::Ungraded { .. }) => Step {
            name: "structured output",
            ok: false,
            detail: format!("the server accepts {}, but its replies did not parse as a grade", m.name()),
        },
        (None, _) => Step { name: "structured output", ok: false, detail: "no mode produced a reply".into() },
    };
    let cached = record
        .usage
        .and_then(|u| u.cached_tokens)
        .map(|c| format!(", {c} prompt tokens from cache"))
        .unwrap_or_default();
    let grading = match &record.grade {
        Grade::Graded { score, .. } => Step {
            name: "test grading",
            ok: true,
            detail: format!("graded a sample answer: {score}/100 in {took:.1} s{cached}"),
        },
        Grade::Ungraded { reason, .. } => {
            Step { name: "test grading", ok: false, detail: format!("not graded after {took:.1} s: {reason}") }
        }
    };
    [structured, grading]
}

fn print(ctx: &Context, args: &JsonFlag, report: &Report) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    if args.json {
        serde_json::to_writer_pretty(&mut out, report)?;
        writeln!(out)?;
        return Ok(());
    }
    for c in &report.checks {
        let mark = if c.ok { ctx.style.good("✓") } else { ctx.style.bad("✗") };
        writeln!(out, "{mark} {:<18} {}", c.name, c.detail)?;
    }
    if let Some(h) = &report.hint {
        writeln!(out, "{} {h}", ctx.style.dim("hint:"))?;
    }
    if report.ok {
        writeln!(out, "AI grading is ready.")?;
    }
    Ok(())
}
