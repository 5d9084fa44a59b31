//! `grill review list|show`: past sessions.

use std::io::Write;

use serde_json::json;

use crate::cli::{ReviewCommand, ReviewListArgs, ReviewShowArgs, ShowFormat};
use crate::error::ExitStatus;
use crate::render;
use crate::transcript::{Store, Transcript};

use super::Context;

/// Runs a review subcommand.
pub fn run(ctx: &Context, cmd: ReviewCommand) -> anyhow::Result<ExitStatus> {
    match cmd {
        ReviewCommand::List(args) => list(ctx, &args),
        ReviewCommand::Show(args) => show(ctx, &args),
    }
}

fn list(ctx: &Context, args: &ReviewListArgs) -> anyhow::Result<ExitStatus> {
    let store = Store::new(&ctx.settings.transcripts.value);
    let (all, bad) = store.list();
    for e in &bad {
        eprintln!("warning: skipped {e}");
    }
    let bank = ctx.bank().ok();
    let topic_of = |id: &str| bank.as_ref().and_then(|b| b.get(id)).map(|q| q.topic.clone());
    let mut rows: Vec<(std::path::PathBuf, Transcript)> = all
        .into_iter()
        .filter(|(_, t)| args.since.is_none_or(|d| t.started_at.date_naive() >= d))
        .filter(|(_, t)| {
            args.topic.as_ref().is_none_or(|topic| t.plan.iter().any(|id| topic_of(id).as_ref() == Some(topic)))
        })
        .collect();
    if let Some(n) = args.limit {
        let skip = rows.len().saturating_sub(n);
        rows.drain(..skip);
    }
    let mut out = std::io::stdout().lock();
    if args.json {
        let doc: Vec<_> = rows
            .iter()
            .map(|(p, t)| {
                json!({"id": t.id, "file": p, "started_at": t.started_at, "status": t.status,
                       "questions": t.plan, "turns": t.turns.len(), "answered": t.answered(),
                       "mean_score": t.mean_score().map(|m| (m * 10.0).round() / 10.0)})
            })
            .collect();
        serde_json::to_writer_pretty(&mut out, &doc)?;
        writeln!(out)?;
    } else if rows.is_empty() {
        writeln!(out, "No sessions in {} yet: `grill` starts one.", store.dir().display())?;
    } else {
        writeln!(
            out,
            "{}",
            ctx.style.bold(&format!(
                "{:<10} {:<17} {:<12} {:>8} {:>6}  questions",
                "id", "started", "status", "answered", "mean"
            ))
        )?;
        for (_, t) in &rows {
            let mean = t.mean_score().map_or("-".to_string(), |m| format!("{m:.0}"));
            let status = format!("{:?}", t.status);
            writeln!(
                out,
                "{:<10} {:<17} {:<12} {:>8} {:>6}  {}",
                t.id,
                t.started_at.format("%Y-%m-%d %H:%M"),
                status,
                t.answered(),
                mean,
                t.plan.join(", ")
            )?;
        }
    }
    Ok(if bad.is_empty() { ExitStatus::Success } else { ExitStatus::Error })
}

fn show(ctx: &Context, args: &ReviewShowArgs) -> anyhow::Result<ExitStatus> {
    let store = Store::new(&ctx.settings.transcripts.value);
    let path = store.find(&args.session)?;
    let t = Store::load(&path)?;
    let mut out = std::io::stdout().lock();
    match args.format {
        ShowFormat::Json => {
            serde_json::to_writer_pretty(&mut out, &t)?;
            writeln!(out)?;
        }
        ShowFormat::Text => {
            let bank = ctx.bank()?;
            write!(out, "{}", render::transcript(&ctx.style, &t, &bank))?;
            writeln!(out, "\n{}", ctx.style.dim(&format!("file: {}", path.display())))?;
        }
    }
    Ok(ExitStatus::Success)
}
