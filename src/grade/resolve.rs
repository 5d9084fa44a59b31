//! Choosing the grader: one path from the settings to a [`Grader`], taken by every
//! command and by `grill doctor`.
//!
//! Each step the path takes (the endpoint and where it came from, the Ollama probe, the
//! model listing, the model and why) is recorded as a [`Step`], so `grill doctor` shows
//! exactly what a command would do, and cannot call ready a setup a command refuses.

use std::time::Instant;

use serde::Serialize;

use super::grader::Grader;
use super::llm::LlmGrader;
use crate::config::GraderChoice;
use crate::config::Settings;
use crate::llm::modes::ModeCache;
use crate::llm::{Client, Endpoint, Limits, LlmError, Notify, ollama};
use crate::prompts::{PromptError, Prompts};

/// How far to go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Depth {
    /// What a command needs: nothing is asked of the server that choosing the grader does
    /// not need (a configured model is taken as given).
    Use,
    /// What `grill doctor` needs besides: the server is always asked for its models, the
    /// model is checked against them, and structured output is negotiated afresh.
    Check,
}

/// One step of the resolution and how it went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Step {
    /// What was checked: "endpoint", "reachable", "models", "model", ...
    pub name: &'static str,
    /// Whether it went as AI grading needs.
    pub ok: bool,
    /// What was found, in words for the user.
    pub detail: String,
}

/// The grader chosen and the line that tells the user which one it is.
pub struct Chosen {
    /// The grader.
    pub grader: Grader,
    /// One line for the user.
    pub announcement: String,
}

/// Why no grader could be chosen.
#[derive(Debug)]
pub enum Refusal {
    /// The settings ask for what cannot be had (no model to choose, a bad URL, `--grader
    /// llm` with nothing to grade with): the user's to fix.
    Settings {
        /// What is wrong.
        message: String,
        /// What to do about it.
        hint: Option<String>,
    },
    /// The endpoint failed when asked for its models.
    Endpoint(LlmError),
    /// The prompt templates could not be loaded.
    Prompts(PromptError),
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::Settings { message, .. } => f.write_str(message),
            Refusal::Endpoint(e) => write!(f, "{e}"),
            Refusal::Prompts(e) => write!(f, "{e}"),
        }
    }
}

/// What [`resolve`] did and what came of it.
pub struct Resolution {
    /// Every step taken, in order.
    pub steps: Vec<Step>,
    /// What to do about the first step that failed, when there is something to say.
    pub hint: Option<String>,
    /// The grader, or why there is none.
    pub outcome: Result<Chosen, Refusal>,
}

#[derive(Default)]
struct Log {
    steps: Vec<Step>,
    hint: Option<String>,
}

impl Log {
    fn ok(&mut self, name: &'static str, detail: impl Into<String>) {
        self.steps.push(Step { name, ok: true, detail: detail.into() });
    }

    fn fail(&mut self, name: &'static str, detail: impl Into<String>, hint: Option<String>) {
        self.steps.push(Step { name, ok: false, detail: detail.into() });
        if self.hint.is_none() {
            self.hint = hint;
        }
    }

    /// Records a refusal of the settings as a failed step, and returns it.
    fn refuse(&mut self, name: &'static str, message: String, hint: String) -> Refusal {
        self.fail(name, message.clone(), Some(hint.clone()));
        Refusal::Settings { message, hint: Some(hint) }
    }
}

/// The time-outs and retries the settings ask for.
pub fn limits(settings: &Settings) -> Limits {
    let mut l = Limits {
        timeout: std::time::Duration::from_secs(settings.timeout.value.max(1)),
        connect_timeout: std::time::Duration::from_secs(settings.connect_timeout.value.max(1)),
        ..Limits::default()
    };
    // A knob for tests, so retries do not make them slow.
    if let Some(ms) = std::env::var("GRILL_RETRY_BASE_MS").ok().and_then(|v| v.parse().ok()) {
        l.retry_base = std::time::Duration::from_millis(ms);
    }
    l
}

/// The grader the settings ask for: `--grader offline`; a configured endpoint; else a
/// local Ollama that answers a brief probe; else (for `auto`) the offline grader.
pub async fn resolve(settings: &Settings, depth: Depth, notify: Notify) -> Resolution {
    let mut log = Log::default();
    let outcome = choose(settings, depth, notify, &mut log).await;
    Resolution { steps: log.steps, hint: log.hint, outcome }
}

fn offline(announcement: impl Into<String>) -> Result<Chosen, Refusal> {
    Ok(Chosen { grader: Grader::Offline, announcement: announcement.into() })
}

/// How the endpoint was found, which decides how a model is chosen when none is set.
enum Found {
    /// Configured: the model is the configured one, or the only one the server lists.
    Configured,
    /// A local Ollama: the configured model, or the newest installed.
    Ollama { host: String, newest: Option<String> },
}

async fn choose(settings: &Settings, depth: Depth, notify: Notify, log: &mut Log) -> Result<Chosen, Refusal> {
    let insist = settings.grader.value == GraderChoice::Llm;
    if settings.grader.value == GraderChoice::Offline {
        log.ok("grader", format!("offline, from {}", settings.grader.source));
        return offline("Grading offline: key-point coverage from the rubric's cues (no model).");
    }
    let configured = settings.model.as_ref();
    let (base, how, found) = match &settings.base_url {
        Some(b) => (b.value.clone(), format!("from {}", b.source), Found::Configured),
        None => {
            let host = ollama::base_url(settings.ollama_host.as_ref().map(|h| h.value.as_str()));
            match ollama::probe(&host).await {
                None if insist => {
                    return Err(log.refuse(
                        "endpoint",
                        format!("--grader llm: no endpoint is configured and no Ollama answers at {host}"),
                        "set GRILL_BASE_URL (and GRILL_MODEL), or start Ollama and pull a model".into(),
                    ));
                }
                None => {
                    log.fail(
                        "endpoint",
                        format!("none configured, and no Ollama answers at {host}"),
                        Some(
                            "set GRILL_BASE_URL (e.g. http://127.0.0.1:8080/v1) and GRILL_MODEL, or start Ollama"
                                .into(),
                        ),
                    );
                    return offline(
                        "Grading offline (key-point coverage). For AI grading set GRILL_BASE_URL and GRILL_MODEL, or start Ollama.",
                    );
                }
                Some(installed) if installed.is_empty() && configured.is_none() => {
                    log.ok("endpoint", format!("{host}/v1 (Ollama, found on its own)"));
                    if insist {
                        return Err(log.refuse(
                            "model",
                            format!("--grader llm: Ollama answers but has no models at {host}"),
                            "set GRILL_BASE_URL (and GRILL_MODEL), or start Ollama and pull a model".into(),
                        ));
                    }
                    log.fail(
                        "model",
                        format!("none configured, and Ollama at {host} has none installed"),
                        Some("`ollama pull <model>` to grade with one".into()),
                    );
                    return offline(format!(
                        "Grading offline: Ollama at {host} has no models (`ollama pull <model>` to grade with one)."
                    ));
                }
                Some(installed) => (
                    format!("{host}/v1"),
                    "Ollama, found on its own".to_string(),
                    Found::Ollama { newest: installed.into_iter().next(), host },
                ),
            }
        }
    };
    let key = settings.api_key.as_ref().map(|k| k.value.clone());
    let endpoint = match Endpoint::new(&base, key) {
        Ok(e) => e,
        Err(m) => {
            return Err(log.refuse(
                "endpoint",
                format!("the base URL: {m}"),
                "set GRILL_BASE_URL to the server's address, e.g. http://127.0.0.1:8080/v1".into(),
            ));
        }
    };
    log.ok("endpoint", format!("{base} ({how})"));
    let client = Client::new(endpoint, limits(settings), notify);
    if matches!(found, Found::Ollama { .. }) {
        client.assume_ollama();
    }

    // The listing is asked for only when it decides something: the model to use (none is
    // configured, and no Ollama named its newest), or, for doctor, whether the server
    // answers and has the configured model.
    let newest = match &found {
        Found::Ollama { newest, .. } => newest.clone(),
        Found::Configured => None,
    };
    let listed = if depth == Depth::Check || (configured.is_none() && newest.is_none()) {
        let started = Instant::now();
        match client.models(&client.deadline()).await {
            Ok(models) => {
                log.ok("reachable", format!("GET /models answered in {} ms", started.elapsed().as_millis()));
                if models.is_empty() {
                    log.fail("models", "the server lists none", None);
                } else {
                    log.ok("models", models.join(", "));
                }
                Some(models)
            }
            Err(e) => {
                log.fail("reachable", e.to_string(), e.hint());
                return Err(Refusal::Endpoint(e));
            }
        }
    } else {
        None
    };

    let (model, why) = match (configured, newest, listed.as_deref()) {
        (Some(m), _, Some(listed)) if !listed.is_empty() && !listed.contains(&m.value) => {
            // Kept: the server may serve models it does not list; the test grading
            // shows whether it does.
            log.fail(
                "model",
                format!("{} is not among the listed models", m.value),
                Some(format!("choose one with --model or GRILL_MODEL: {}", listed.join(", "))),
            );
            (m.value.clone(), "configured")
        }
        (Some(m), _, Some(listed)) if !listed.is_empty() => {
            log.ok("model", format!("{} is listed (from {})", m.value, m.source));
            (m.value.clone(), "configured")
        }
        (Some(m), _, _) => {
            log.ok("model", format!("{} (from {})", m.value, m.source));
            (m.value.clone(), "configured")
        }
        (None, Some(newest), _) => {
            log.ok("model", format!("{newest} (the newest installed; set GRILL_MODEL to choose another)"));
            (newest, "the newest installed; set GRILL_MODEL to choose another")
        }
        (None, None, Some([one])) => {
            log.ok("model", format!("{one} (none configured; the only model the server lists)"));
            (one.clone(), "the only one listed")
        }
        (None, None, Some([])) => {
            return Err(log.refuse(
                "model",
                format!("none configured, and {base} lists no models"),
                "set the model with --model or GRILL_MODEL".into(),
            ));
        }
        (None, None, Some(many)) => {
            return Err(log.refuse(
                "model",
                "no model is configured, and the server has several".into(),
                format!("choose one with --model or GRILL_MODEL: {}", many.join(", ")),
            ));
        }
        (None, None, None) => {
            return Err(log.refuse(
                "model",
                "no model is configured".into(),
                "set the model with --model or GRILL_MODEL".into(),
            ));
        }
    };

    let prompts = match &settings.prompts {
        Some(dir) => match Prompts::from_dir(&dir.value) {
            Ok(p) => p,
            Err(e) => {
                log.fail("prompts", e.to_string(), None);
                return Err(Refusal::Prompts(e));
            }
        },
        None => Prompts::embedded(),
    };
    let cache = settings.data_dir.as_ref().map(|d| d.join("structured-output-modes.json"));
    let modes = match depth {
        Depth::Use => ModeCache::load(cache),
        Depth::Check => ModeCache::fresh(cache),
    };
    let mut grader = LlmGrader::new(client, model, prompts, modes);
    grader.samples = u32::try_from(settings.samples.value).unwrap_or(1).max(1);
    let announcement = match found {
        Found::Configured => format!("Grading with {} at {}.", grader.model, grader.client.endpoint.host()),
        Found::Ollama { host, .. } => format!("Grading with Ollama at {host}, model {} ({why}).", grader.model),
    };
    Ok(Chosen { grader: Grader::Llm(Box::new(grader)), announcement })
}
