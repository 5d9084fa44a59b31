//! `grill config`: the settings in force and where each came from. The API key is shown
//! only as set or unset.

use std::collections::BTreeMap;
use std::io::Write;

use serde::Serialize;

use crate::cli::JsonFlag;
use crate::config::{API_KEY, Entry, Kind, NOT_SET, Source, Value};
use crate::error::ExitStatus;

use super::Context;

/// What `grill config --json` prints.
#[derive(Debug, Serialize)]
struct Report {
    /// Every setting, by its config-file key.
    settings: BTreeMap<&'static str, Row>,
    /// The config file consulted.
    config_file: Option<ConfigFileRow>,
}

/// One setting as shown.
#[derive(Debug, Serialize)]
struct Row {
    /// The value in force, or what applies instead ("built-in"); `null` when unset.
    value: Option<String>,
    /// Where it came from: "command line", "environment (GRILL_MODEL)", "default (why)".
    source: String,
    /// Why the value cannot be used as it is.
    #[serde(skip_serializing_if = "Option::is_none")]
    problem: Option<String>,
}

#[derive(Debug, Serialize)]
struct ConfigFileRow {
    path: String,
    exists: bool,
}

/// A setting's row: its value as it may be shown (a key only as set, a URL without its
/// credentials, no control characters), and a problem when the value cannot be used.
fn row(entry: &Entry) -> Row {
    let setting = entry.setting;
    let Some(sourced) = &entry.value else {
        let value = (setting.default.shown != NOT_SET).then(|| setting.default.shown.to_string());
        return Row { value, source: Source::Default(setting.default.why).to_string(), problem: None };
    };
    let (value, problem) = match (&setting.kind, &sourced.value) {
        (_, Value::Secret(_)) => ("set".to_string(), None),
        // A URL may carry `user:key@`: it is shown without, and flagged, since such a URL
        // is refused for use.
        (Kind::Url, Value::Text(url)) => {
            let shown = display_url(url);
            let problem = (shown != *url).then(|| {
                "holds a user name or password, not shown; grill refuses such a URL: put the key in GRILL_API_KEY \
                 instead"
                    .to_string()
            });
            (shown, problem)
        }
        (_, Value::Text(t)) => (t.clone(), None),
        (_, Value::Path(p)) => (p.display().to_string(), None),
        (_, Value::Paths(ps)) => (ps.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", "), None),
        (_, Value::Switch(on)) => ((if *on { "on" } else { "off" }).to_string(), None),
        (_, Value::Grader(g)) => (g.name().to_string(), None),
        (_, Value::Seconds(n)) => (n.to_string(), None),
        (_, Value::Count(n)) => (n.to_string(), None),
    };
    Row { value: Some(crate::scrub::controls(&value).into_owned()), source: sourced.source.to_string(), problem }
}

/// Prints the resolved settings, every one with where it came from.
pub fn run(ctx: &Context, args: &JsonFlag) -> anyhow::Result<ExitStatus> {
    let s = &ctx.settings;
    let rows: Vec<(&'static str, Row)> = s.entries.iter().map(|e| (e.setting.key, row(e))).collect();
    let config_file =
        s.config_file.as_ref().map(|(p, exists)| ConfigFileRow { path: p.display().to_string(), exists: *exists });
    let mut out = std::io::stdout().lock();
    if args.json {
        let report = Report { settings: rows.into_iter().collect(), config_file };
        serde_json::to_writer_pretty(&mut out, &report)?;
        writeln!(out)?;
        return Ok(ExitStatus::Success);
    }
    writeln!(out, "{}", ctx.style.bold(&format!("{:<16} {:<44} {}", "setting", "value", "from")))?;
    for (key, row) in &rows {
        let value = row.value.as_deref().unwrap_or(NOT_SET);
        writeln!(out, "{key:<16} {value:<44} {}", row.source)?;
    }
    for (key, row) in &rows {
        if let Some(problem) = &row.problem {
            writeln!(out, "{} {key} {problem}", ctx.style.bad("warning:"))?;
        }
    }
    match config_file {
        Some(ConfigFileRow { path, exists: true }) => writeln!(out, "\nconfig file: {path}")?,
        Some(ConfigFileRow { path, exists: false }) => writeln!(out, "\nconfig file: {path} (not present)")?,
        None => writeln!(out, "\nconfig file: none (no config folder on this platform)")?,
    }
    if s.api_key.is_none() {
        let names = API_KEY.env.join(" or ");
        writeln!(out, "{}", ctx.style.dim(&format!("api_key is read from {names} (environment or .env)")))?;
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
