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
pub mod plan;
pub mod practice;
pub mod regrade;
pub mod report;
pub mod resume;
pub mod review;
pub mod stats;

use std::io::IsTerminal;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

use crate::bank::Bank;
use crate::config::Settings;
use crate::error::{ExitStatus, UserError};
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

/// The history a progress command reads: see [`Context::history`].
pub struct History {
    /// Every readable session, as the index summarises it.
    pub summaries: Vec<crate::review::index::Summary>,
    /// The files that could not be read (already warned of).
    pub skipped: Vec<crate::transcript::TranscriptError>,
}

impl History {
    /// How a command that showed figures over this history ends: a skipped file makes
    /// every figure partial, whichever form they take.
    pub fn ended(&self) -> ExitStatus {
        if self.skipped.is_empty() { ExitStatus::Success } else { ExitStatus::Error }
    }

    /// The schedule of every question reviewed, kept to `topic`'s when one is given.
    /// What is due depends on every review, however old, so it is built from all of them.
    pub fn schedule(&self, bank: &Bank, topic: Option<&str>) -> Vec<crate::review::schedule::Item> {
        let in_topic = |q: &str| topic.is_none_or(|t| bank.get(q).is_some_and(|x| x.topic == t));
        crate::review::schedule::schedule(&self.summaries).into_iter().filter(|i| in_topic(&i.question_id)).collect()
    }
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

    /// The bank in use: the built-in questions and the folders the settings add.
    pub fn bank(&self) -> Result<Bank, crate::bank::BankError> {
        Bank::layered(self.settings.builtin_bank, &self.settings.banks)
    }

    /// Every session's summary from the transcript index, for the commands that read
    /// progress (`stats`, `plan`, `report`, `practice --due`); a file that cannot be read
    /// is warned of here and kept in [`History::skipped`].
    pub fn history(&self) -> History {
        let store = crate::transcript::Store::new(&self.settings.transcripts.value);
        let (sessions, skipped) = crate::review::index::load(&store);
        crate::review::index::warn_skipped(&skipped, &self.err_style);
        History { summaries: sessions.into_iter().map(|(_, s)| s).collect(), skipped }
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

    /// Checks a configured endpoint before the first question (see
    /// [`crate::llm::check`]), when choosing the grader has not already heard from it (a
    /// model listing, an Ollama probe). When it fails, says so in one line and, in a
    /// terminal, offers to go on offline or to keep the answers ungraded for `grill regrade
    /// --pending`; from a script it keeps them ungraded, so that no answer is graded by a
    /// grader the user did not choose.
    pub fn start_check(
        &self,
        rt: &tokio::runtime::Runtime,
        chosen: Chosen,
        interactive: bool,
    ) -> anyhow::Result<Chosen> {
        let heard = self.settings.base_url.is_none() || self.settings.model.is_none();
        let Grader::Llm(llm) = chosen.grader else { return Ok(chosen) };
        if heard {
            return Ok(Chosen { grader: Grader::Llm(llm), announcement: chosen.announcement });
        }
        let Err(why) = rt.block_on(llm.client.check(crate::llm::check::START_CHECK)) else {
            return Ok(Chosen { grader: Grader::Llm(llm), announcement: chosen.announcement });
        };
        let base = crate::scrub::server_text(&llm.client.endpoint.base_url, 300);
        let failed = format!("the endpoint {base} failed its check ({why})");
        let keep = |mut llm: Box<crate::grade::llm::LlmGrader>| {
            llm.held = Some(format!("not sent: the endpoint {base} failed its check at the start ({why})"));
            Grader::Llm(llm)
        };
        let warning = self.err_style.warn("warning:");
        if !interactive {
            eprintln!(
                "{warning} {failed}: answers are kept ungraded for `grill regrade --pending` (standard input is \
                 not a terminal, so grill did not ask whether to grade offline instead)"
            );
            return Ok(Chosen { grader: keep(llm), announcement: chosen.announcement });
        }
        eprintln!("{warning} {failed}.");
        let options =
            [('o', "go on with the offline grader"), ('k', "keep answers ungraded for `grill regrade --pending`")];
        let each: Vec<String> = options.iter().map(|(k, what)| format!("{k}: {what}")).collect();
        eprintln!("  {}", each.join("; "));
        Ok(match crate::repl::input::pick("Which?", &options)? {
            Some('o') => {
                eprintln!("{}", self.err_style.dim("Grading offline: key-point coverage from the rubric's cues."));
                Chosen { grader: Grader::Offline, announcement: chosen.announcement }
            }
            _ => {
                eprintln!(
                    "{}",
                    self.err_style.dim("Answers are kept ungraded: `grill regrade --pending` grades them.")
                );
                Chosen { grader: keep(llm), announcement: chosen.announcement }
            }
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
