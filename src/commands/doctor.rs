//! `grill doctor`: is AI grading going to work? Endpoint, models, structured output and
//! one timed grading, as a table (or `--json`).

use std::io::Write;
use std::time::Instant;

use serde::Serialize;

use crate::bank::Bank;
use crate::cli::{GraderChoice, JsonFlag};
use crate::error::{ExitStatus, UserError};
use crate::grade::Grade;
use crate::grade::llm::LlmGrader;
use crate::llm::modes::ModeCache;
use crate::llm::{Client, Endpoint, ollama};
use crate::session::Prompt;

use super::Context;

const SAMPLE_ANSWER: &str = "The GIL is a mutex in CPython: only one thread executes Python bytecode at a time. \
It exists because reference counting is not thread-safe, and it keeps C extensions simple. Blocking I/O releases \
it, so threads help I/O-bound work, but CPU-bound work needs multiprocessing.";

#[derive(Serialize)]
struct Check {
    name: &'static str,
    ok: bool,
    detail: String,
}

/// Runs the checks and prints them.
pub fn run(ctx: &Context, args: &JsonFlag) -> anyhow::Result<ExitStatus> {
    let s = &ctx.settings;
    if s.grader.value == GraderChoice::Offline {
        return Err(UserError::new("the grader is set to offline: there is no endpoint to check")
            .hint("drop --grader offline (or GRILL_GRADER) to check AI grading")
            .into());
    }
    let rt = ctx.runtime()?;
    let mut checks: Vec<Check> = Vec::new();
    let (base, how) = match &s.base_url {
        Some(b) => (b.value.clone(), format!("from {}", b.source)),
        None => {
            let host = ollama::base_url(s.ollama_host.as_ref().map(|h| h.value.as_str()));
            if rt.block_on(ollama::probe(&host)).is_none() {
                checks.push(Check {
                    name: "endpoint",
                    ok: false,
                    detail: format!("none configured, and no Ollama answers at {host}"),
                });
                return finish(
                    ctx,
                    args,
                    checks,
                    Some("set GRILL_BASE_URL (e.g. http://127.0.0.1:8080/v1) and GRILL_MODEL, or start Ollama"),
                );
            }
            (format!("{host}/v1"), "Ollama, found on its own".to_string())
        }
    };
    let key = s.api_key.as_ref().map(|k| k.value.clone());
    let endpoint = match Endpoint::new(&base, key) {
        Ok(e) => e,
        Err(m) => {
            checks.push(Check { name: "endpoint", ok: false, detail: m });
            return finish(ctx, args, checks, None);
        }
    };
    checks.push(Check { name: "endpoint", ok: true, detail: format!("{base} ({how})") });
    let client = Client::new(endpoint, ctx.limits(), ctx.notify());

    let started = Instant::now();
    let models = match rt.block_on(client.models(&client.deadline())) {
        Ok(m) => m,
        Err(e) => {
            checks.push(Check { name: "reachable", ok: false, detail: e.to_string() });
            let hint = e.hint();
            return finish(ctx, args, checks, hint.as_deref());
        }
    };
    checks.push(Check {
        name: "reachable",
        ok: true,
        detail: format!("GET /models answered in {} ms", started.elapsed().as_millis()),
    });
    checks.push(Check {
        name: "models",
        ok: !models.is_empty(),
        detail: if models.is_empty() { "the server lists none".into() } else { models.join(", ") },
    });
    let model = match (&s.model, models.first()) {
        (Some(m), _) => {
            let listed = models.contains(&m.value);
            checks.push(Check {
                name: "model",
                ok: listed || models.is_empty(),
                detail: if listed {
                    format!("{} is listed", m.value)
                } else {
                    format!("{} is not among the listed models", m.value)
                },
            });
            m.value.clone()
        }
        (None, Some(first)) => {
            checks.push(Check { name: "model", ok: true, detail: format!("none configured; would use {first}") });
            first.clone()
        }
        (None, None) => {
            checks.push(Check { name: "model", ok: false, detail: "none configured and none listed".into() });
            return finish(ctx, args, checks, Some("set GRILL_MODEL"));
        }
    };

    let modes = ModeCache::fresh(s.data_dir.as_ref().map(|d| d.join("structured-output-modes.json")));
    let grader = LlmGrader::new(client, model, ctx.prompts()?, modes);
    let bank = Bank::embedded()?;
    let question = bank.get("gil").ok_or_else(|| anyhow::anyhow!("the built-in bank has no `gil` question"))?;
    let prompt = Prompt::main(question);
    let asked = prompt.asked();
    let started = Instant::now();
    let outcome = rt.block_on(grader.grade(&asked, SAMPLE_ANSWER));
    let took = started.elapsed();
    checks.push(Check {
        name: "structured output",
        ok: outcome.mode.is_some(),
        detail: match outcome.mode {
            Some(m) => format!("{} works (remembered for this endpoint and model)", m.name()),
            None => "no mode produced a reply".into(),
        },
    });
    let cached = outcome
        .usage
        .and_then(|u| u.cached_tokens)
        .map(|c| format!(", {c} prompt tokens from cache"))
        .unwrap_or_default();
    checks.push(Check {
        name: "test grading",
        ok: matches!(outcome.grade, Grade::Graded { .. }),
        detail: match &outcome.grade {
            Grade::Graded { score, .. } => {
                format!("graded a sample answer: {score}/100 in {:.1} s{cached}", took.as_secs_f64())
            }
            Grade::Ungraded { reason, .. } => format!("not graded after {:.1} s: {reason}", took.as_secs_f64()),
        },
    });
    finish(ctx, args, checks, None)
}

fn finish(ctx: &Context, args: &JsonFlag, checks: Vec<Check>, hint: Option<&str>) -> anyhow::Result<ExitStatus> {
    let ok = checks.iter().all(|c| c.ok);
    let mut out = std::io::stdout().lock();
    if args.json {
        serde_json::to_writer_pretty(&mut out, &serde_json::json!({"ok": ok, "checks": checks, "hint": hint}))?;
        writeln!(out)?;
    } else {
        for c in &checks {
            let mark = if c.ok { ctx.style.good("✓") } else { ctx.style.bad("✗") };
            writeln!(out, "{mark} {:<18} {}", c.name, c.detail)?;
        }
        if let Some(h) = hint {
            writeln!(out, "{} {h}", ctx.style.dim("hint:"))?;
        }
        if ok {
            writeln!(out, "AI grading is ready.")?;
        }
    }
    Ok(if ok { ExitStatus::Success } else { ExitStatus::Error })
}
