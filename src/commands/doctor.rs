//! `grill doctor`: is AI grading going to work? The steps the grader resolution takes
//! (the same steps every command takes), then one timed grading, the wait a grade will
//! take on this model and whether the server's context holds a grading, as a table (or
//! `--json`). Ready means a sample answer came back as a grade and every check passed.

use std::io::Write;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::ask::Prompt;
use crate::bank::Bank;
use crate::cli::JsonFlag;
use crate::config::GraderChoice;
use crate::error::{ExitStatus, UserError};
use crate::grade::grader::Grader;
use crate::grade::llm::LlmGrader;
use crate::grade::record::GradeRecord;
use crate::grade::resolve::{Depth, Step, resolve};
use crate::grade::{Asked, Grade};
use crate::llm::speed::{self, ContextSize};

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
        if graded && let Grader::Llm(g) = &chosen.grader {
            let counted = record.usage.map(|u| u.prompt_tokens).filter(|n| *n > 0);
            let (steps, fix) = wait_checks(&rt, g, &prompt.asked(), counted);
            checks.extend(steps);
            if hint.is_none() {
                hint = fix;
            }
        }
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

/// How long the server's own descriptions (`/props`, `/api/show`) may take: they answer
/// at once when they exist.
const DESCRIBE_LIMIT: Duration = Duration::from_secs(2);

/// What a grade will cost on this model: its speed, measured with one small request, turned
/// into the wait for a typical grading (the real prompt for the sample question, as the
/// server counted it in the test grading, or else estimated from its length; and the
/// reply's room); and whether the server's context holds that grading. Returns the steps
/// and what to do about a context that is too small.
fn wait_checks(
    rt: &tokio::runtime::Runtime,
    g: &LlmGrader,
    asked: &Asked<'_>,
    counted: Option<u64>,
) -> (Vec<Step>, Option<String>) {
    let (prompt, reply) = match g.load(asked, SAMPLE_ANSWER) {
        Ok((estimated, reply)) => (counted.unwrap_or(estimated), reply),
        Err(e) => {
            return (
                vec![Step { name: "speed", ok: false, detail: format!("the prompt templates failed: {e}") }],
                None,
            );
        }
    };
    let speed = match rt.block_on(g.client.measure(&g.model, &g.client.deadline())) {
        Err(e) => Step { name: "speed", ok: false, detail: format!("not measured: {e}") },
        Ok(m) => match m.rates() {
            None => Step {
                name: "speed",
                ok: true,
                detail: "not measured: the server reports no token counts, so the wait for a grade is unknown".into(),
            },
            Some(r) => Step {
                name: "speed",
                ok: true,
                detail: format!(
                    "prompt {:.0} tokens/s, generation {:.1} tokens/s{}: {} per grade on this model; `grill \
                     interview` grades in the background",
                    r.prompt,
                    r.generation,
                    if r.from_server { "" } else { " (timed here, the prompt's rate estimated)" },
                    speed::wait(speed::seconds(r, prompt, reply)),
                ),
            },
        },
    };
    // The server's own setting, as far as it can be seen from here: Ollama reads it from
    // its environment, which is this one when the server was started from the same shell.
    let ollama = std::env::var("OLLAMA_CONTEXT_LENGTH").ok().and_then(|v| v.trim().parse().ok());
    let size = rt.block_on(g.client.context_size(&g.model, ollama, DESCRIBE_LIMIT));
    let (context, fix) = context_check(size, prompt, reply);
    (vec![speed, context], fix)
}

/// Whether a context of `size` holds a grading of `prompt` tokens and a reply of up to
/// `reply`; and, when it does not, what to do.
fn context_check(size: Option<ContextSize>, prompt: u64, reply: u64) -> (Step, Option<String>) {
    let need = prompt + reply;
    let grading = format!("~{prompt} prompt + up to {reply} reply tokens");
    match size {
        None => (
            Step {
                name: "context",
                ok: true,
                detail: format!("unknown: the server does not say; a grading needs about {need} tokens ({grading})"),
            },
            None,
        ),
        Some(c) if c.tokens >= need => (
            Step {
                name: "context",
                ok: true,
                detail: format!("{} tokens ({}) hold a grading ({grading})", c.tokens, c.source),
            },
            None,
        ),
        Some(c) => {
            let enough = need.next_power_of_two();
            let fix = if c.source.starts_with("llama.cpp") {
                format!("start llama-server with a larger context, e.g. `-c {enough}`")
            } else {
                format!("start the Ollama server with OLLAMA_CONTEXT_LENGTH={enough} (or a model that holds more)")
            };
            (
                Step {
                    name: "context",
                    ok: false,
                    detail: format!(
                        "{} tokens ({}), but a grading needs about {need} ({grading}): prompts would be cut",
                        c.tokens, c.source
                    ),
                },
                Some(fix),
            )
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_context_too_small_for_a_grading_fails_with_the_setting_to_change() {
        let llama = |n| Some(ContextSize { tokens: n, source: "llama.cpp's /props".into() });
        let (ok, fix) = context_check(llama(8192), 2000, 1500);
        assert!(ok.ok && fix.is_none(), "{ok:?}");
        let (small, fix) = context_check(llama(2048), 2000, 1500);
        assert!(!small.ok);
        assert_eq!(
            small.detail,
            "2048 tokens (llama.cpp's /props), but a grading needs about 3500 (~2000 prompt + up to 1500 reply \
             tokens): prompts would be cut"
        );
        assert_eq!(fix.as_deref(), Some("start llama-server with a larger context, e.g. `-c 4096`"));
        let ollama = Some(ContextSize { tokens: 4096, source: "Ollama: default".into() });
        let (_, fix) = context_check(ollama, 4000, 1500);
        assert_eq!(
            fix.as_deref(),
            Some("start the Ollama server with OLLAMA_CONTEXT_LENGTH=8192 (or a model that holds more)")
        );
        let (unknown, _) = context_check(None, 2000, 1500);
        assert!(unknown.ok && unknown.detail.starts_with("unknown"));
    }
}
