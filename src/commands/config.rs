//! `grill config`: the settings in force and where each came from. The API key is shown
//! only as set or unset.

use std::io::Write;

use serde_json::json;

use crate::cli::JsonFlag;
use crate::config::{Source, Sourced};
use crate::error::ExitStatus;

use super::Context;

/// Prints the resolved settings.
pub fn run(ctx: &Context, args: &JsonFlag) -> anyhow::Result<ExitStatus> {
    let s = &ctx.settings;
    let show = |v: &Option<Sourced<String>>| v.as_ref().map(|v| (v.value.clone(), v.source.clone()));
    let rows: Vec<(&str, Option<(String, Source)>)> = vec![
        ("base_url", show(&s.base_url)),
        ("api_key", s.api_key.as_ref().map(|k| ("set".to_string(), k.source.clone()))),
        ("model", show(&s.model)),
        ("ollama_host", show(&s.ollama_host)),
        ("grader", Some((format!("{:?}", s.grader.value).to_lowercase(), s.grader.source.clone()))),
        (
            "bank",
            Some(match &s.bank {
                Some(b) => (b.value.display().to_string(), b.source.clone()),
                None => ("built-in".to_string(), Source::Default("no folder given")),
            }),
        ),
        ("transcripts", Some((s.transcripts.value.display().to_string(), s.transcripts.source.clone()))),
    ];
    let mut out = std::io::stdout().lock();
    let config_file = s.config_file.as_ref().map(|(p, exists)| (p.display().to_string(), *exists));
    if args.json {
        let mut settings = serde_json::Map::new();
        for (name, row) in &rows {
            settings.insert(
                name.to_string(),
                match row {
                    Some((value, source)) => json!({"value": value, "source": source.to_string()}),
                    None => json!({"value": null, "source": null}),
                },
            );
        }
        let doc = json!({
            "settings": settings,
            "config_file": config_file.map(|(p, exists)| json!({"path": p, "exists": exists})),
        });
        serde_json::to_writer_pretty(&mut out, &doc)?;
        writeln!(out)?;
        return Ok(ExitStatus::Success);
    }
    writeln!(out, "{}", ctx.style.bold(&format!("{:<12} {:<44} {}", "setting", "value", "from")))?;
    for (name, row) in rows {
        match row {
            Some((value, source)) => writeln!(out, "{name:<12} {value:<44} {source}")?,
            None => writeln!(out, "{name:<12} {:<44} {}", "(not set)", ctx.style.dim("-"))?,
        }
    }
    match config_file {
        Some((p, true)) => writeln!(out, "\nconfig file: {p}")?,
        Some((p, false)) => writeln!(out, "\nconfig file: {p} (not present)")?,
        None => writeln!(out, "\nconfig file: none (no config folder on this platform)")?,
    }
    if s.api_key.is_none() {
        writeln!(
            out,
            "{}",
            ctx.style.dim("api_key is read from GRILL_API_KEY or OPENAI_API_KEY (environment or .env)")
        )?;
    }
    Ok(ExitStatus::Success)
}
