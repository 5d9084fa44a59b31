//! `grill review list|show|export|dispute`: past sessions.

use std::io::Write;

use crate::cli::{ExportFormat, ReviewCommand, ReviewExportArgs, ReviewListArgs, ReviewShowArgs, ShowFormat};
use crate::error::{ExitStatus, UserError};
use crate::review::index;
use crate::transcript::Store;
use crate::{export, render};

use super::Context;

pub mod dispute;
pub mod output;

/// Runs a review subcommand.
pub fn run(ctx: &Context, cmd: ReviewCommand) -> anyhow::Result<ExitStatus> {
    match cmd {
        ReviewCommand::List(args) => list(ctx, &args),
        ReviewCommand::Show(args) => show(ctx, &args),
        ReviewCommand::Export(args) => export(ctx, &args),
        ReviewCommand::Dispute(args) => dispute::run(ctx, &args),
    }
}

fn list(ctx: &Context, args: &ReviewListArgs) -> anyhow::Result<ExitStatus> {
    let store = Store::new(&ctx.settings.transcripts.value);
    let (all, bad) = index::load(&store);
    index::warn_skipped(&bad, &ctx.err_style);
    let bank = ctx.bank().ok();
    let topic_of = |id: &str| bank.as_ref().and_then(|b| b.get(id)).map(|q| q.topic.clone());
    let mut rows: Vec<_> = all
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
        let doc = output::ListOutput {
            schema: output::SCHEMA,
            sessions: rows.iter().map(|(p, t)| output::SessionRow::new(p, t)).collect(),
            skipped: output::skipped(&bad),
        };
        serde_json::to_writer_pretty(&mut out, &doc)?;
        writeln!(out)?;
    } else if rows.is_empty() && !bad.is_empty() {
        // "No sessions yet" would be wrong: there are some, and the warnings above name them.
        writeln!(out, "No readable sessions in {}.", store.dir().display())?;
    } else if rows.is_empty() {
        writeln!(out, "No sessions in {} yet: `grill` starts one.", store.dir().display())?;
    } else {
        let head =
            format!("{:<10} {:<17} {:<12} {:>8} {:>6}  questions", "id", "started", "status", "answered", "mean");
        writeln!(out, "{}", ctx.style.bold(&head))?;
        for (_, t) in &rows {
            let mean = t.mean_score().map_or("-".to_string(), |m| format!("{m:.0}"));
            let status = t.status.to_string();
            let started = t.started_at.format("%Y-%m-%d %H:%M");
            writeln!(
                out,
                "{:<10} {started:<17} {status:<12} {:>8} {mean:>6}  {}",
                t.id,
                t.answered(),
                crate::scrub::controls(&t.plan.join(", "))
            )?;
        }
    }
    Ok(if bad.is_empty() { ExitStatus::Success } else { ExitStatus::Error })
}

fn show(ctx: &Context, args: &ReviewShowArgs) -> anyhow::Result<ExitStatus> {
    let store = Store::new(&ctx.settings.transcripts.value);
    let path = index::find(&store, &args.session)?;
    let t = Store::load(&path)?;
    let mut out = std::io::stdout().lock();
    match args.format {
        ShowFormat::Json => {
            serde_json::to_writer_pretty(&mut out, &t)?;
            writeln!(out)?;
        }
        ShowFormat::Md => write!(out, "{}", export::markdown(&t, &ctx.bank()?))?,
        ShowFormat::Text => {
            write!(out, "{}", render::transcript(&ctx.style, &t, &ctx.bank()?))?;
            writeln!(out, "\n{}", ctx.style.dim(&format!("file: {}", path.display())))?;
        }
    }
    Ok(ExitStatus::Success)
}

fn export(ctx: &Context, args: &ReviewExportArgs) -> anyhow::Result<ExitStatus> {
    let store = Store::new(&ctx.settings.transcripts.value);
    let t = Store::load(&index::find(&store, &args.session)?)?;
    let bank = ctx.bank()?;
    let doc = match args.format {
        ExportFormat::Md => export::markdown(&t, &bank),
        ExportFormat::Html => export::html(&t, &bank),
    };
    match &args.output {
        Some(path) => {
            crate::util::write_atomic(path, doc.as_bytes())
                .map_err(|e| UserError::new(format!("cannot write {}: {e}", path.display())))?;
            eprintln!("wrote {}", path.display());
        }
        None => std::io::stdout().lock().write_all(doc.as_bytes())?,
    }
    Ok(ExitStatus::Success)
}
