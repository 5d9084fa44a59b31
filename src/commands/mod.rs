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
use crate::config::Settings;
use crate::error::UserError;
use crate::grade::grader::Grader;
use crate::grade::record::GradeRecord;
pub use crate::grade::resolve::Chosen;
use crate::grade::resolve::{Depth, Refusal, resolve};
use crate::grade::{Asked, PointVerdict};
use crate::llm::Notify;
use crate::style::Style;

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

    /// The grader the settings ask for, chosen the one way every command (and `grill
    /// doctor`) chooses it: see [`resolve`].
    pub fn grader(&self, rt: &tokio::runtime::Runtime) -> anyhow::Result<Chosen> {
        rt.block_on(resolve(&self.settings, Depth::Use, self.notify())).outcome.map_err(|r| match r {
            Refusal::Settings { message, hint } => {
                let e = UserError::new(message);
                match hint {
                    Some(h) => e.hint(h).into(),
                    None => e.into(),
                }
            }
            Refusal::Endpoint(e) => e.into(),
            Refusal::Prompts(e) => e.into(),
        })
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
        self.grade_showing(rt, grader, asked, answer, interactive, &mut |_| {})
    }

    /// [`Context::grade`], handing `progress` each key point's provisional verdict as a
    /// streamed reply settles it; the spinner is cleared while it prints, and drawn again
    /// below what it printed.
    pub fn grade_showing(
        &self,
        rt: &tokio::runtime::Runtime,
        grader: &Grader,
        asked: &Asked<'_>,
        answer: &str,
        interactive: bool,
        progress: &mut dyn FnMut(&PointVerdict),
    ) -> GradeRecord {
        let started = Instant::now();
        let Some(label) = grader.busy_label() else {
            return rt.block_on(grader.grade_showing(asked, answer, progress));
        };
        let pb = ProgressBar::new_spinner();
        pb.set_style(
            ProgressStyle::with_template("  {spinner} {msg} {elapsed}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        pb.set_message(label);
        pb.enable_steady_tick(Duration::from_millis(120));
        if let Ok(mut s) = self.spinner.lock() {
            *s = Some(pb.clone());
        }
        let mut shown = |p: &PointVerdict| pb.suspend(|| progress(p));
        let record = rt.block_on(async {
            if interactive {
                // Dropping the grading drops its request: a stream in flight is closed.
                tokio::select! {
                    r = grader.grade_showing(asked, answer, &mut shown) => r,
                    _ = tokio::signal::ctrl_c() => grader.interrupted(started),
                }
            } else {
                grader.grade_showing(asked, answer, &mut shown).await
            }
        });
        pb.finish_and_clear();
        if let Ok(mut s) = self.spinner.lock() {
            *s = None;
        }
        record
    }
}
