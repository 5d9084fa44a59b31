//! One module per command. Each takes the resolved settings and its own arguments and
//! returns how it ended. This module holds what several commands share: the bank, the
//! grader in use, and grading with a spinner and Ctrl-C.

pub mod bank;
pub mod completions;
pub mod config;
pub mod doctor;
pub mod eval;
pub mod grade;
pub mod interview;
pub mod practice;
pub mod regrade;
pub mod resume;
pub mod review;
pub mod stats;

use std::io::IsTerminal;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

use crate::bank::Bank;
use crate::cli::GraderChoice;
use crate::config::Settings;
use crate::error::UserError;
use crate::grade::grader::Grader;
use crate::grade::llm::{Asked, LlmGrader};
use crate::llm::modes::ModeCache;
use crate::llm::{Client, Endpoint, Limits, Notify, ollama};
use crate::prompts::Prompts;
use crate::style::Style;
use crate::transcript::GradeRecord;

/// What every command works with.
pub struct Context {
    /// The settings in force.
    pub settings: Settings,
    /// How to paint standard output.
    pub style: Style,
    /// How to paint standard error.
    pub err_style: Style,
    /// The spinner on screen, if any, so notices can print around it.
    spinner: Arc<Mutex<Option<ProgressBar>>>,
}

/// Checks that `topic` is one of the bank's, naming them when it is not.
pub fn require_topic(bank: &Bank, topic: &str) -> Result<(), UserError> {
    if bank.topics().contains(&topic) {
        Ok(())
    } else {
        Err(UserError::new(format!("no topic `{topic}`")).hint(format!("topics are: {}", bank.topics().join(", "))))
    }
}

/// A grader and the line that tells the user which one it is.
pub struct Chosen {
    /// The grader.
    pub grader: Grader,
    /// One line for the user.
    pub announcement: String,
}

impl Context {
    /// A context over `settings`; colour only for a terminal, and never with `--no-color`
    /// or `NO_COLOR`.
    pub fn new(settings: Settings, no_color: bool) -> Context {
        let allowed = !no_color && std::env::var_os("NO_COLOR").is_none();
        Context {
            settings,
            style: Style::new(allowed && std::io::stdout().is_terminal()),
            err_style: Style::new(allowed && std::io::stderr().is_terminal()),
            spinner: Arc::new(Mutex::new(None)),
        }
    }

    /// The bank in use: the folder from the settings, or the built-in one.
    pub fn bank(&self) -> Result<Bank, crate::bank::BankError> {
        match &self.settings.bank {
            Some(dir) => Bank::from_dir(&dir.value),
            None => Bank::embedded(),
        }
    }

    /// A runtime for the network work of one command.
    pub fn runtime(&self) -> std::io::Result<tokio::runtime::Runtime> {
        tokio::runtime::Builder::new_current_thread().enable_all().build()
    }

    /// Prints a notice on standard error, around the spinner if one is showing.
    pub fn notify(&self) -> Notify {
        let spinner = self.spinner.clone();
        let style = self.err_style;
        Arc::new(move |msg: String| {
            let line = format!("  {} {msg}", style.warn("warning:"));
            match spinner.lock().ok().and_then(|s| s.clone()) {
                Some(pb) => pb.suspend(|| eprintln!("{line}")),
                None => eprintln!("{line}"),
            }
        })
    }

    fn limits(&self) -> Limits {
        let mut l = Limits {
            timeout: Duration::from_secs(self.settings.timeout.value.max(1)),
            connect_timeout: Duration::from_secs(self.settings.connect_timeout.value.max(1)),
            ..Limits::default()
        };
        // A knob for tests, so retries do not make them slow.
        if let Some(ms) = std::env::var("GRILL_RETRY_BASE_MS").ok().and_then(|v| v.parse().ok()) {
            l.retry_base = Duration::from_millis(ms);
        }
        l
    }

    /// The prompt templates in use.
    pub fn prompts(&self) -> anyhow::Result<Prompts> {
        Ok(match &self.settings.prompts {
            Some(dir) => Prompts::from_dir(&dir.value)?,
            None => Prompts::embedded(),
        })
    }

    fn llm_grader(
        &self,
        rt: &tokio::runtime::Runtime,
        base_url: &str,
        model: Option<String>,
    ) -> anyhow::Result<LlmGrader> {
        let key = self.settings.api_key.as_ref().map(|k| k.value.clone());
        let endpoint = Endpoint::new(base_url, key).map_err(|m| UserError::new(format!("the base URL: {m}")))?;
        let client = Client::new(endpoint, self.limits(), self.notify());
        let model = match model {
            Some(m) => m,
            None => {
                let models = rt.block_on(client.models(&client.deadline()))?;
                match models.as_slice() {
                    [one] => one.clone(),
                    [] => {
                        return Err(UserError::new(format!("{base_url} lists no models"))
                            .hint("set the model with --model or GRILL_MODEL")
                            .into());
                    }
                    many => {
                        return Err(UserError::new("no model is configured, and the server has several")
                            .hint(format!("choose one with --model or GRILL_MODEL: {}", many.join(", ")))
                            .into());
                    }
                }
            }
        };
        let modes = ModeCache::load(self.settings.data_dir.as_ref().map(|d| d.join("structured-output-modes.json")));
        Ok(LlmGrader::new(client, model, self.prompts()?, modes))
    }

    /// The grader the settings ask for: `--grader offline`; a configured endpoint; else a
    /// local Ollama that answers a brief probe; else (for `auto`) the offline grader.
    pub fn grader(&self, rt: &tokio::runtime::Runtime) -> anyhow::Result<Chosen> {
        let s = &self.settings;
        let model = s.model.as_ref().map(|m| m.value.clone());
        if s.grader.value == GraderChoice::Offline {
            return Ok(Chosen {
                grader: Grader::Offline,
                announcement: "Grading offline: key-point coverage from the rubric's cues (no model).".into(),
            });
        }
        if let Some(base) = &s.base_url {
            let g = self.llm_grader(rt, &base.value, model)?;
            let announcement = format!("Grading with {} at {}.", g.model, g.client.endpoint.host());
            return Ok(Chosen { grader: Grader::Llm(Box::new(g)), announcement });
        }
        let host = ollama::base_url(s.ollama_host.as_ref().map(|h| h.value.as_str()));
        let found = rt.block_on(ollama::probe(&host));
        match found {
            Some(models) if !models.is_empty() || model.is_some() => {
                let (model, how) = match model {
                    Some(m) => (m, "configured"),
                    None => (models[0].clone(), "the newest installed; set GRILL_MODEL to choose another"),
                };
                let g = self.llm_grader(rt, &format!("{host}/v1"), Some(model))?;
                let announcement = format!("Grading with Ollama at {host}, model {} ({how}).", g.model);
                Ok(Chosen { grader: Grader::Llm(Box::new(g)), announcement })
            }
            _ if s.grader.value == GraderChoice::Llm => {
                let why = if found.is_some() { "Ollama answers but has no models" } else { "no endpoint is configured and no Ollama answers" };
                Err(UserError::new(format!("--grader llm: {why} at {host}"))
                    .hint("set GRILL_BASE_URL (and GRILL_MODEL), or start Ollama and pull a model")
                    .into())
            }
            Some(_) => Ok(Chosen {
                grader: Grader::Offline,
                announcement: format!("Grading offline: Ollama at {host} has no models (`ollama pull <model>` to grade with one)."),
            }),
            None => Ok(Chosen {
                grader: Grader::Offline,
                announcement: "Grading offline (key-point coverage). For AI grading set GRILL_BASE_URL and GRILL_MODEL, or start Ollama.".into(),
            }),
        }
    }

    /// Grades one answer now: a spinner with elapsed time while a model works, and, in a
    /// terminal, Ctrl-C cancels the grading (the answer is kept as ungraded).
    pub fn grade(
        &self,
        rt: &tokio::runtime::Runtime,
        grader: &Grader,
        asked: &Asked<'_>,
        answer: &str,
        interactive: bool,
    ) -> GradeRecord {
        let started = Instant::now();
        let Grader::Llm(g) = grader else { return rt.block_on(grader.grade(asked, answer)) };
        let pb = ProgressBar::new_spinner();
        pb.set_style(
            ProgressStyle::with_template("  {spinner} {msg} {elapsed}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        pb.set_message(format!("grading with {}…", g.model));
        pb.enable_steady_tick(Duration::from_millis(120));
        if let Ok(mut s) = self.spinner.lock() {
            *s = Some(pb.clone());
        }
        let record = rt.block_on(async {
            if interactive {
                tokio::select! {
                    r = grader.grade(asked, answer) => r,
                    _ = tokio::signal::ctrl_c() => grader.interrupted(started),
                }
            } else {
                grader.grade(asked, answer).await
            }
        });
        pb.finish_and_clear();
        if let Ok(mut s) = self.spinner.lock() {
            *s = None;
        }
        record
    }
}
