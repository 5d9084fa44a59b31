//! The whole command surface, in one place.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::bank::Level;
pub use crate::config::GraderChoice;

/// Mock interviews for senior Python engineers, graded against each question's rubric.
///
/// With no command, `grill` starts a practice session.
#[derive(Debug, Parser)]
#[command(name = "grill", version, about, long_about = None)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    /// Practice flags, for `grill` with no command.
    #[command(flatten)]
    pub practice: PracticeArgs,
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Flags every command takes. Each can also come from the environment, `.env` or the
/// config file; `grill config` shows what is in force and where it came from.
#[derive(Debug, Clone, Default, Args)]
pub struct GlobalArgs {
    /// OpenAI-compatible endpoint for AI grading, e.g. http://localhost:8080/v1
    #[arg(long, global = true, value_name = "URL")]
    pub base_url: Option<String>,
    /// Model name for AI grading
    #[arg(long, global = true)]
    pub model: Option<String>,
    /// Which grader to use
    #[arg(long, global = true, value_enum)]
    pub grader: Option<GraderChoice>,
    /// Read questions from this folder instead of the built-in bank
    #[arg(long, global = true, value_name = "DIR")]
    pub bank: Option<PathBuf>,
    /// Read the grading prompt templates from this folder
    #[arg(long, global = true, value_name = "DIR")]
    pub prompts: Option<PathBuf>,
    /// Seconds a grading request may take in all [default: 120]
    #[arg(long, global = true, value_name = "SECS")]
    pub timeout: Option<u64>,
    /// Folder where sessions are saved
    #[arg(long, global = true, value_name = "DIR")]
    pub transcripts: Option<PathBuf>,
    /// Config file [default: $XDG_CONFIG_HOME/grill/config.toml]
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Never use colour
    #[arg(long, global = true)]
    pub no_color: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Practise questions one at a time, graded after each answer (the default)
    Practice(PracticeArgs),
    /// A mock interview: grades in the background, feedback only at the end
    Interview(InterviewArgs),
    /// Grade one answer, from a file or standard input
    Grade(GradeArgs),
    /// List and show past sessions
    #[command(subcommand)]
    Review(ReviewCommand),
    /// List, show and check the question bank
    #[command(subcommand)]
    Bank(BankCommand),
    /// Progress per topic, trend, weakest key points and what is due
    Stats(StatsArgs),
    /// Grade saved answers again (the new grade is kept beside the old ones)
    Regrade(RegradeArgs),
    /// Continue an interrupted session where it stopped
    Resume(ResumeArgs),
    /// Show the settings in force and where each came from
    Config(JsonFlag),
    /// Check the grading endpoint: reachable, models, structured output, a timed grading
    Doctor(JsonFlag),
    /// Measure how fairly the grader in use ranks a labelled set of answers
    Eval(EvalArgs),
}

/// `grill interview`: the practice selection, plus a time limit.
#[derive(Debug, Clone, Args)]
pub struct InterviewArgs {
    #[command(flatten)]
    pub selection: PracticeArgs,
    /// Ask no new question once this many seconds have passed (checked between answers)
    #[arg(long, value_name = "SECS")]
    pub time_limit: Option<u64>,
    /// Answers graded at the same time, at most
    #[arg(long, default_value_t = INTERVIEW_JOBS, value_parser = clap::value_parser!(u16).range(1..=16))]
    pub jobs: u16,
}

/// How many answers an interview grades at once unless told otherwise (also for a resumed
/// interview, which has no flags of its own).
pub const INTERVIEW_JOBS: u16 = 2;

/// `grill eval`: which set, how often, how to print.
#[derive(Debug, Clone, Args)]
pub struct EvalArgs {
    /// A calibration file, or a folder of them [default: the shipped set]
    #[arg(long, value_name = "FILE")]
    pub set: Option<PathBuf>,
    /// Grade the set this many times (a model's scores vary between runs)
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=50))]
    pub runs: u16,
    /// Answers graded at the same time, at most (for a model)
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=32))]
    pub jobs: u16,
    /// Only these questions of the set (repeat for several)
    #[arg(long = "question", value_name = "ID")]
    pub questions: Vec<String>,
    /// Print one JSON document
    #[arg(long)]
    pub json: bool,
}

/// Which questions a session asks, and how.
#[derive(Debug, Clone, Default, PartialEq, Eq, Args)]
pub struct PracticeArgs {
    /// Only questions of this topic (repeat for several)
    #[arg(long = "topic", value_name = "TOPIC")]
    pub topics: Vec<String>,
    /// Exactly this question (repeat for several, asked in order)
    #[arg(long = "question", value_name = "ID")]
    pub questions: Vec<String>,
    /// How many questions
    #[arg(long, default_value_t = 3)]
    pub count: usize,
    /// Only questions of this level
    #[arg(long, value_parser = parse_level)]
    pub level: Option<Level>,
    /// Follow-ups per question at most
    #[arg(long, default_value_t = 2)]
    pub follow_ups: usize,
    /// Seed for the question order, to repeat a session [default: random]
    #[arg(long)]
    pub seed: Option<u64>,
    /// Only the questions due for review (spaced repetition), weakest first
    #[arg(long, conflicts_with = "questions")]
    pub due: bool,
}

impl From<&GlobalArgs> for crate::config::Flags {
    fn from(g: &GlobalArgs) -> Self {
        crate::config::Flags {
            base_url: g.base_url.clone(),
            model: g.model.clone(),
            grader: g.grader,
            timeout: g.timeout,
            prompts: g.prompts.clone(),
            bank: g.bank.clone(),
            transcripts: g.transcripts.clone(),
            config: g.config.clone(),
        }
    }
}

impl PracticeArgs {
    /// Whether any practice flag was given (they differ from a bare `grill`).
    pub fn given(&self) -> bool {
        let bare = Cli::try_parse_from(["grill"]).map(|c| c.practice).unwrap_or_default();
        *self != bare
    }
}

fn parse_level(s: &str) -> Result<Level, String> {
    s.parse()
}

#[derive(Debug, Clone, Args)]
pub struct GradeArgs {
    /// The question the answer is for
    #[arg(long, value_name = "ID")]
    pub question: String,
    /// Read the answer from this file [default: standard input]
    #[arg(long, value_name = "FILE")]
    pub answer_file: Option<PathBuf>,
    /// Print one JSON object
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum ReviewCommand {
    /// List saved sessions, newest last
    List(ReviewListArgs),
    /// Show one session: every answer with its grade
    Show(ReviewShowArgs),
    /// Export one session as Markdown or a self-contained HTML page
    Export(ReviewExportArgs),
}

#[derive(Debug, Clone, Args)]
pub struct ReviewExportArgs {
    /// Session id (or a unique prefix), file name, path, or `latest`
    pub session: String,
    /// Output format
    #[arg(long, value_enum)]
    pub format: ExportFormat,
    /// Write to this file [default: standard output]
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// What `review export` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    /// Markdown
    Md,
    /// One HTML file with its styles inline (no network)
    Html,
}

#[derive(Debug, Clone, Args)]
pub struct StatsArgs {
    /// Only this topic
    #[arg(long)]
    pub topic: Option<String>,
    /// Print one JSON document
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Clone, Args)]
pub struct RegradeArgs {
    /// Session id (or a unique prefix), file name, path, or `latest`
    #[arg(required_unless_present = "pending", conflicts_with = "pending")]
    pub session: Option<String>,
    /// Every answer, in every session, that has no grade yet (or only an ungraded one)
    #[arg(long)]
    pub pending: bool,
}

#[derive(Debug, Clone, Args)]
pub struct ResumeArgs {
    /// Session id (or a unique prefix), file name or path [default: the newest unfinished]
    pub session: Option<String>,
}

#[derive(Debug, Clone, Args)]
pub struct ReviewListArgs {
    /// Only sessions that asked a question of this topic
    #[arg(long)]
    pub topic: Option<String>,
    /// Only sessions started on or after this date (YYYY-MM-DD)
    #[arg(long, value_name = "DATE")]
    pub since: Option<chrono::NaiveDate>,
    /// Only the newest N sessions
    #[arg(long, value_name = "N")]
    pub limit: Option<usize>,
    /// Print one JSON document
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Clone, Args)]
pub struct ReviewShowArgs {
    /// Session id (or a unique prefix), file name, path, or `latest`
    #[arg(default_value = "latest")]
    pub session: String,
    /// Output format
    #[arg(long, value_enum, default_value_t = ShowFormat::Text)]
    pub format: ShowFormat,
}

/// How `review show` prints a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ShowFormat {
    /// For reading in the terminal
    Text,
    /// Markdown
    Md,
    /// The transcript as saved
    Json,
}

#[derive(Debug, Subcommand)]
pub enum BankCommand {
    /// List the questions
    List(BankListArgs),
    /// Show one question with its rubric
    Show(BankShowArgs),
    /// Check a bank folder and report every problem with file, line and question
    Check(BankCheckArgs),
}

#[derive(Debug, Clone, Args)]
pub struct BankListArgs {
    /// Only this topic
    #[arg(long)]
    pub topic: Option<String>,
    /// Print one JSON document
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Clone, Args)]
pub struct BankShowArgs {
    /// The question's id
    pub id: String,
    /// Print one JSON document
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Clone, Args)]
pub struct BankCheckArgs {
    /// The folder to check [default: the bank in use]
    pub dir: Option<PathBuf>,
    /// Also apply the shipped bank's minimums (key points, cues, red flags, follow-ups)
    #[arg(long)]
    pub strict: bool,
    /// Also run every code example under each CPython 3.11+ found, checking its output
    #[arg(long)]
    pub run_examples: bool,
    /// Print the problems as one JSON document
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Clone, Args)]
pub struct JsonFlag {
    /// Print one JSON document
    #[arg(long)]
    pub json: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_surface_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn bare_grill_means_practice_and_flags_parse() {
        let cli = Cli::try_parse_from(["grill"]).unwrap();
        assert!(cli.command.is_none());
        let cli = Cli::try_parse_from(["grill", "--topic", "async", "--count", "2"]).unwrap();
        assert_eq!(cli.practice.topics, ["async"]);
        assert_eq!(cli.practice.count, 2);
        let cli =
            Cli::try_parse_from(["grill", "practice", "--question", "gil", "--follow-ups", "1", "--level", "senior"])
                .unwrap();
        match cli.command {
            Some(Command::Practice(p)) => {
                assert_eq!(p.questions, ["gil"]);
                assert_eq!(p.follow_ups, 1);
                assert_eq!(p.level, Some(Level::Senior));
            }
            other => panic!("{other:?}"),
        }
        assert!(Cli::try_parse_from(["grill", "practice", "--level", "junior"]).is_err());
    }
}
