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
    // A URL may carry `user:key@`: it is shown without, and flagged, since such a URL is
    // refused for use.
    let url = |v: &Option<Sourced<String>>| v.as_ref().map(|v| (display_url(&v.value), v.source.clone()));
    let with_userinfo = |v: &Option<Sourced<String>>| v.as_ref().is_some_and(|v| display_url(&v.value) != v.value);
    let mut notes: Vec<(&str, String)> = Vec::new();
    for (name, value) in [("base_url", &s.base_url), ("ollama_host", &s.ollama_host)] {
        if with_userinfo(value) {
            notes.push((
                name,
                "holds a user name or password, not shown; grill refuses such a URL: put the key in \
                 GRILL_API_KEY instead"
                    .to_string(),
            ));
        }
    }
    let rows: Vec<(&str, Option<(String, Source)>)> = vec![
        ("base_url", url(&s.base_url)),
        ("api_key", s.api_key.as_ref().map(|k| ("set".to_string(), k.source.clone()))),
        ("model", show(&s.model)),
        ("ollama_host", url(&s.ollama_host)),
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
    let rows: Vec<(&str, Option<(String, Source)>)> = rows
        .into_iter()
        .map(|(name, row)| (name, row.map(|(v, src)| (crate::scrub::controls(&v).into_owned(), src))))
        .collect();
    let mut out = std::io::stdout().lock();
    let config_file = s.config_file.as_ref().map(|(p, exists)| (p.display().to_string(), *exists));
    if args.json {
        let mut settings = serde_json::Map::new();
        for (name, row) in &rows {
            settings.insert(
                name.to_string(),
                match (row, notes.iter().find(|(n, _)| n == name)) {
                    (Some((value, source)), Some((_, note))) => {
                        json!({"value": value, "source": source.to_string(), "problem": note})
                    }
                    (Some((value, source)), None) => json!({"value": value, "source": source.to_string()}),
                    (None, _) => json!({"value": null, "source": null}),
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
    for (name, note) in &notes {
        writeln!(out, "{} {name} {note}", ctx.style.bad("warning:"))?;
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

/// A URL without its `user:password@`; also for a host given without a scheme
/// (`user:key@host:11434`), which does not parse as the URL it is meant to be.
fn display_url(raw: &str) -> String {
    match raw.rsplit_once('@') {
        Some((_, host)) if !raw.contains("://") => host.to_string(),
        _ => crate::scrub::url(raw),
    }
}

#[cfg(test)]
mod tests {
    use super::display_url;

    #[test]
    fn urls_are_shown_without_credentials() {
        assert_eq!(display_url("http://u:sk-key@host:8080/v1"), "http://host:8080/v1");
        assert_eq!(display_url("u:sk-key@host:11434"), "host:11434");
        assert_eq!(display_url("http://host:8080/v1"), "http://host:8080/v1");
        assert_eq!(display_url("localhost:11434"), "localhost:11434");
    }
}
