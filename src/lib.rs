//! grill: mock interviews for senior Python engineers, graded against each question's
//! rubric by a model or, offline, by key-point coverage.
//!
//! The library holds the pure core (bank, grading, session state machine, transcripts)
//! and the commands; `main.rs` only parses arguments and reports errors.

pub(crate) mod ask;
pub mod bank;
pub mod cli;
pub(crate) mod commands;
pub mod config;
pub(crate) mod error;
pub mod eval;
pub(crate) mod export;
pub mod grade;
pub mod llm;
pub mod prompts;
pub(crate) mod render;
pub(crate) mod repl;
pub mod report;
pub(crate) mod review;
pub(crate) mod scrub;
pub mod session;
pub mod style;
pub(crate) mod text;
pub mod transcript;
pub mod util;
pub(crate) mod view;
pub(crate) mod words;

use cli::{Cli, Command};
use commands::Context;
use error::ExitStatus;

/// Runs the parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<ExitStatus> {
    if cli.command.as_ref().is_some_and(|c| !matches!(c, Command::Practice(_))) && cli.practice.given() {
        return Err(error::UserError::new(
            "practice flags (--topic, --question, --count, ...) go with `grill` or `grill practice`",
        )
        .hint("put them after `grill practice`")
        .into());
    }
    if let Some(Command::Completions(args)) = &cli.command {
        // Needs no settings: a broken config file must not stop completions being set up.
        return commands::completions::run(args);
    }
    let settings = config::load(&cli.flags()?)?;
    let ctx = Context::new(settings, cli.global.no_color);
    match cli.command {
        None => commands::practice::run(&ctx, &cli.practice),
        Some(Command::Practice(args)) => commands::practice::run(&ctx, &args.selection),
        Some(Command::Interview(args)) => commands::interview::run(&ctx, &args),
        Some(Command::Grade(args)) => commands::grade::run(&ctx, &args),
        Some(Command::Review(cmd)) => commands::review::run(&ctx, cmd),
        Some(Command::Bank(cmd)) => commands::bank::run(&ctx, cmd),
        Some(Command::Stats(args)) => commands::stats::run(&ctx, &args),
        Some(Command::Plan(args)) => commands::plan::run(&ctx, &args),
        Some(Command::Report(args)) => commands::report::run(&ctx, &args),
        Some(Command::Regrade(args)) => commands::regrade::run(&ctx, &args),
        Some(Command::Resume(args)) => commands::resume::run(&ctx, &args),
        Some(Command::Config(args)) => commands::config::run(&ctx, &args.output),
        Some(Command::Doctor(args)) => commands::doctor::run(&ctx, &args.output),
        Some(Command::Eval(args)) => commands::eval::run(&ctx, &args),
        Some(Command::Completions(_)) => unreachable!("handled before the settings are read"),
    }
}
