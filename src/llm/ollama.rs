//! Finding a local Ollama without configuration: a brief probe of `OLLAMA_HOST` (or
//! 127.0.0.1:11434), and the models it has installed.

use std::time::Duration;

use serde::Deserialize;

/// How long the probe may take in all: short, so start-up stays quick when nothing runs.
pub const PROBE_TIMEOUT: Duration = Duration::from_millis(700);

/// Ollama's base URL from `OLLAMA_HOST`, which may omit the scheme and the port, or name
/// a bind-all address that a client cannot connect to.
pub fn base_url(ollama_host: Option<&str>) -> String {
    let raw = ollama_host.map(str::trim).filter(|s| !s.is_empty()).unwrap_or("127.0.0.1:11434");
    let (scheme, rest) = match raw.split_once("://") {
        Some((s, r)) => (s, r),
        None => ("http", raw),
    };
    let rest = rest.trim_end_matches('/');
    let (host, port) = match rest.rsplit_once(':') {
        Some((h, p)) if p.chars().all(|c| c.is_ascii_digit()) && !p.is_empty() => (h, p),
        _ => (rest, "11434"),
    };
    let host = match host {
        "" | "0.0.0.0" => "127.0.0.1",
        "[::]" => "[::1]",
        h => h,
    };
    format!("{scheme}://{host}:{port}")
}

#[derive(Deserialize)]
struct Tags {
    #[serde(default)]
    models: Vec<Tag>,
}

#[derive(Deserialize)]
struct Tag {
    name: String,
    #[serde(default)]
    modified_at: Option<String>,
}

/// Asks Ollama at `base` for its installed models, newest first. `None` when nothing
/// that speaks Ollama's API answers within [`PROBE_TIMEOUT`].
pub async fn probe(base: &str) -> Option<Vec<String>> {
    let http = reqwest::Client::builder().connect_timeout(PROBE_TIMEOUT).timeout(PROBE_TIMEOUT).build().ok()?;
    let mut resp = http.get(format!("{base}/api/tags")).send().await.ok()?;
    if !resp.status().is_success() {
        return None;
    }
    let (bytes, whole) = super::read_capped(&mut resp, super::LISTING_MAX).await.ok()?;
    let tags: Tags = serde_json::from_slice(&bytes).ok().filter(|_| whole)?;
    let mut models = tags.models;
    models.sort_by(|a, b| b.modified_at.cmp(&a.modified_at));
    // Shown in the announcement and used as the model name: scrubbed like any server text.
    Some(models.into_iter().map(|m| crate::scrub::server_text(m.name.trim(), 200)).filter(|n| !n.is_empty()).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ollama_host_forms() {
        assert_eq!(base_url(None), "http://127.0.0.1:11434");
        assert_eq!(base_url(Some("")), "http://127.0.0.1:11434");
        assert_eq!(base_url(Some("localhost")), "http://localhost:11434");
        assert_eq!(base_url(Some("0.0.0.0")), "http://127.0.0.1:11434");
        assert_eq!(base_url(Some("0.0.0.0:9999")), "http://127.0.0.1:9999");
        assert_eq!(base_url(Some("https://box.lan:443/")), "https://box.lan:443");
        assert_eq!(base_url(Some("127.0.0.1:5000")), "http://127.0.0.1:5000");
    }
}
