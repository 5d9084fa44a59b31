//! The whole command surface, in one place.
//!
//! Flags are grouped under headings (Selection, Grading, Files, Output), and the grading
//! flags are offered only by the commands that grade or talk to an endpoint. [`command`]
//! adds what is known only at run time: the built-in topics and how to answer.

use std::path::PathBuf;

use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};

use crate::bank::Level;
use crate::config::GraderChoice;
use crate::repl::command::Command as AnswerCommand;
use crate::repl::input::{BLOCK_SEPARATOR, END_OF_ANSWER};

/// Mock interviews for senior Python engineers, graded against each question's rubric.
///
/// With no command, `grill` starts a practice session.
#[derive(Debug, Parser)]
#[command(name = "grill", version, about, long_about = None, max_term_width = 100)]
pub struct Cli {
    /// Grading flags, for `grill` with no command (and, given before a command that
    /// grades, for that command).
    #[command(flatten)]
    pub grading: GradingArgs,
    /// Practice flags, for `grill` with no command.
    #[command(flatten)]
    pub practice: PracticeArgs,
    // Last, so that its headings (Files, Output) come after the command's own.
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Flags every command takes. Each setting can also come from the environment, `.env` or
/// the config file; `grill config` shows what is in force and where it came from.
#[derive(Debug, Clone, Default, Args)]
pub struct GlobalArgs {
    /// Also read the questions of this folder (repeat for several): it adds to the built-in bank
    #[arg(long = "bank", global = true, value_name = "DIR", help_heading = "Files")]
    pub banks: Vec<PathBuf>,
    /// Leave the built-in bank out: only the `--bank` folders' questions
    #[arg(long, global = true, help_heading = "Files")]
    pub no_builtin_bank: bool,
    /// Folder where sessions are saved [default: $XDG_DATA_HOME/grill/transcripts]
    #[arg(long, global = true, value_name = "DIR", help_heading = "Files")]
    pub transcripts: Option<PathBuf>,
    /// Config file [default: $XDG_CONFIG_HOME/grill/config.toml]
    #[arg(long, global = true, value_name = "FILE", help_heading = "Files")]
    pub config: Option<PathBuf>,
    /// Never use colour
    #[arg(long, global = true, help_heading = "Output")]
    pub no_color: bool,
}

/// Which grader, which endpoint and model, and how long a grading may take: only for
/// the commands that grade or talk to an endpoint.
#[derive(Debug, Clone, Default, PartialEq, Eq, Args)]
#[command(next_help_heading = "Grading")]
pub struct GradingArgs {
    /// Which grader to use [default: auto]
    #[arg(long, value_enum)]
    pub grader: Option<GraderChoice>,
    /// OpenAI-compatible endpoint for AI grading, e.g. http://localhost:8080/v1
    #[arg(long, value_name = "URL")]
    pub base_url: Option<String>,
    /// Model name for AI grading
    #[arg(long)]
    pub model: Option<String>,
    /// Seconds a grading may take in all, every retry included [default: 120]
    #[arg(long, value_name = "SECS")]
    pub timeout: Option<u64>,
    /// Grade each answer this many times with the model and take the majority verdict
    /// per key point [default: 1]
    #[arg(long, value_name = "N")]
    pub samples: Option<u64>,
    /// Read the grading prompt templates from this folder [default: built-in]
    #[arg(long, value_name = "DIR")]
    pub prompts: Option<PathBuf>,
}

impl GradingArgs {
    /// These flags, each given here or else in `outer` (given before the command).
    fn or(&self, outer: &GradingArgs) -> GradingArgs {
        GradingArgs {
            grader: self.grader.or(outer.grader),
            base_url: self.base_url.clone().or_else(|| outer.base_url.clone()),
            model: self.model.clone().or_else(|| outer.model.clone()),
            timeout: self.timeout.or(outer.timeout),
            samples: self.samples.or(outer.samples),
            prompts: self.prompts.clone().or_else(|| outer.prompts.clone()),
        }
    }
}

impl Cli {
    /// The flags that are settings, for [`crate::config::load`]. Grading flags given before
    /// a command that does not grade are refused rather than ignored.
    pub fn flags(&self) -> Result<crate::config::Flags, crate::error::UserError> {
        let grading = match &self.command {
            None => self.grading.clone(),
            Some(command) => match command.grading() {
                Some(own) => own.or(&self.grading),
                None if self.grading != GradingArgs::default() => {
                    return Err(crate::error::UserError::new(format!(
                        "grading flags (--grader, --base-url, --model, --timeout, --samples, --prompts) do not apply to `grill {}`",
                        command.name()
                    ))
                    .hint("leave them out; `grill config` shows the settings in force"));
                }
                None => GradingArgs::default(),
            },
        };
        Ok(crate::config::Flags {
            base_url: grading.base_url,
            model: grading.model,
            grader: grading.grader,
            timeout: grading.timeout,
            samples: grading.samples,
            prompts: grading.prompts,
            banks: self.global.banks.clone(),
            no_builtin_bank: self.global.no_builtin_bank,
            transcripts: self.global.transcripts.clone(),
            interview: match &self.command {
                Some(Command::Plan(a)) => a.interview.clone(),
                _ => None,
            },
            config: self.global.config.clone(),
            no_confirm: match &self.command {
                None => self.practice.no_confirm,
                Some(Command::Practice(p)) => p.selection.no_confirm,
                Some(_) => false,
            },
        })
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Practise questions one at a time, graded after each answer (the default)
    Practice(PracticeCommandArgs),
    /// A mock interview: grades in the background, feedback only at the end
    #[command(after_help = "Examples:
  grill interview --count 4                       4 questions and their follow-ups
  grill interview --topic async --time-limit 1800 no new question after 30 minutes
  grill resume                                    continue one that was stopped")]
    Interview(InterviewArgs),
    /// Grade one answer, from a file or standard input
    #[command(after_help = "Examples:
  grill grade --question gil --answer-file answer.md
  echo 'The GIL lets one thread run Python bytecode at a time' | grill grade --question gil --json")]
    Grade(GradeArgs),
    /// List and show past sessions
    #[command(subcommand)]
    Review(ReviewCommand),
    /// List, show and check the question bank
    #[command(subcommand)]
    Bank(BankCommand),
    /// Progress per topic, trend, weakest key points and what is due
    #[command(after_help = "Examples:
  grill stats
  grill stats --topic async --json")]
    Stats(StatsArgs),
    /// Forecast recall on an interview day, and how many reviews a day reach a target
    #[command(after_help = "Examples:
  grill plan --interview 2027-01-15
  grill plan --target 0.95 --json     with `interview_date` set (`grill config`)")]
    Plan(PlanArgs),
    /// Write one self-contained HTML page of progress: scores, key points, what is due
    #[command(after_help = "Examples:
  grill report                               writes grill-report.html here
  grill report -o ~/progress.html --topic async --since 2026-11-01")]
    Report(ReportArgs),
    /// Grade saved answers again (the new grade is kept beside the old ones)
    #[command(after_help = "Examples:
  grill regrade latest --grader llm   grade the last session again with a model
  grill regrade --pending             grade every answer still waiting for a grade")]
    Regrade(RegradeArgs),
    /// Continue an interrupted session where it stopped
    Resume(ResumeArgs),
    /// Show every setting in force and where each came from
    Config(ConfigArgs),
    /// Check the grading endpoint: reachable, models, structured output, a timed grading
    #[command(after_help = "Examples:
  grill doctor
  GRILL_BASE_URL=http://127.0.0.1:8080/v1 grill doctor --json")]
    Doctor(ConfigArgs),
    /// Measure how fairly the grader in use ranks a labelled set of answers
    #[command(after_help = "Examples:
  grill eval --grader offline   the offline grader on the shipped set
  grill eval --runs 3           the configured model, three runs: also the spread
  grill eval --set mine         the configured grader against your own verdicts")]
    Eval(EvalArgs),
    /// Print a completion script for a shell
    #[command(after_help = "Examples:
  grill completions bash > ~/.local/share/bash-completion/completions/grill
  grill completions zsh > ~/.zfunc/_grill        (with fpath+=(~/.zfunc) in ~/.zshrc)
  grill completions fish > ~/.config/fish/completions/grill.fish")]
    Completions(CompletionsArgs),
}

impl Command {
    /// The grading flags of a command that grades or talks to an endpoint.
    pub fn grading(&self) -> Option<&GradingArgs> {
        match self {
            Command::Practice(a) => Some(&a.grading),
            Command::Interview(a) => Some(&a.grading),
            Command::Grade(a) => Some(&a.grading),
            Command::Regrade(a) => Some(&a.grading),
            Command::Resume(a) => Some(&a.grading),
            Command::Config(a) | Command::Doctor(a) => Some(&a.grading),
            Command::Eval(a) => Some(&a.grading),
            // Only `bank draft` talks to the model.
            Command::Bank(BankCommand::Draft(a)) => Some(&a.grading),
            Command::Review(_)
            | Command::Bank(_)
            | Command::Stats(_)
            | Command::Plan(_)
            | Command::Report(_)
            | Command::Completions(_) => None,
        }
    }

    /// The command's name, as typed.
    pub fn name(&self) -> &'static str {
        match self {
            Command::Practice(_) => "practice",
            Command::Interview(_) => "interview",
            Command::Grade(_) => "grade",
            Command::Review(_) => "review",
            Command::Bank(_) => "bank",
            Command::Stats(_) => "stats",
            Command::Plan(_) => "plan",
            Command::Report(_) => "report",
            Command::Regrade(_) => "regrade",
            Command::Resume(_) => "resume",
            Command::Config(_) => "config",
            Command::Doctor(_) => "doctor",
            Command::Eval(_) => "eval",
            Command::Completions(_) => "completions",
        }
    }
}

/// `grill practice`: which questions, and how to grade them.
#[derive(Debug, Clone, Args)]
pub struct PracticeCommandArgs {
    #[command(flatten)]
    pub selection: PracticeArgs,
    #[command(flatten)]
    pub grading: GradingArgs,
}

/// `grill config` and `grill doctor`: the grading flags whose result they show.
#[derive(Debug, Clone, Args)]
pub struct ConfigArgs {
    #[command(flatten)]
    pub output: JsonFlag,
    #[command(flatten)]
    pub grading: GradingArgs,
}

/// `grill completions`: which shell.
#[derive(Debug, Clone, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// The checklist's keys, from its own table: the end of `grill review dispute --help`.
fn dispute_help() -> String {
    let keys: String = crate::repl::checklist::KEYS.lines().map(|l| format!("  {l}\n")).collect();
    format!("Keys (one line at a time; from standard input when it is not a terminal):\n{keys}")
}

/// How to answer, and examples: the end of `grill --help` and `grill practice --help`.
fn answering_help() -> String {
    // The REPL's own table, so the help cannot drift from what the REPL accepts.
    let commands: String = AnswerCommand::ALL.iter().map(|c| format!("  {:<8} {}\n", c.name(), c.help())).collect();
    format!(
        "Answering:
  Type your answer over as many lines as you like (blank lines and code are fine) and
  finish it with a line holding only `{END_OF_ANSWER}`. On its own line, a command instead:
{commands}  When standard input is not a terminal, answers are read from it, separated by lines
  holding only `{BLOCK_SEPARATOR}`.

Examples:
  grill                                    3 random questions, up to 2 follow-ups each
  grill practice --topic async --count 5   only async questions
  grill practice --question gil            one question by id (`grill bank list` shows ids)
  grill practice --level staff --seed 42   a repeatable selection
  grill practice --due                     the questions due for review, weakest first"
    )
}

/// The command line with what is known only at run time: how to answer (for `grill` and
/// `grill practice`) and, with `topics`, the built-in bank's topics in `--topic`'s help.
/// Listing topics means loading the bank, so it is done only when help is asked for.
pub fn command(topics: bool) -> clap::Command {
    let mut cmd = Cli::command().after_help(answering_help());
    if topics && let Ok(bank) = crate::bank::Bank::embedded() {
        let help = format!("Only questions of this topic (repeat for several); built in: {}", bank.topics().join(", "));
        cmd = cmd.mut_arg("topics", |a| a.help(help.clone()));
        cmd = cmd.mut_subcommand("practice", |p| p.mut_arg("topics", |a| a.help(help.clone())));
        cmd = cmd.mut_subcommand("interview", |p| p.mut_arg("topics", |a| a.help(help.clone())));
    }
    // An interview shows no grade until the end, so it has nothing to confirm.
    cmd = cmd.mut_subcommand("interview", |p| p.mut_arg("no_confirm", |a| a.hide(true)));
    cmd.mut_subcommand("practice", |p| p.after_help(answering_help()))
}

/// Parses the process's arguments (exiting on a usage error, `--help` or `--version`).
pub fn parse() -> Cli {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let wants_help = args.iter().skip(1).any(|a| a == "-h" || a == "--help" || a == "help");
    let matches = command(wants_help).get_matches_from(args);
    Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit())
}

/// `grill interview`: the practice selection, plus a time limit.
#[derive(Debug, Clone, Args)]
pub struct InterviewArgs {
    #[command(flatten)]
    pub selection: PracticeArgs,
    #[command(flatten)]
    pub grading: GradingArgs,
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
    /// A calibration file, or a folder of them; or `mine`: the answers you confirmed or
    /// disputed, labelled with your own verdicts (a folder named mine is `./mine`)
    /// [default: the shipped set]
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
    #[arg(long, help_heading = "Output")]
    pub json: bool,
    /// Exit 1 when a figure is below the bar this grader is held to (not with `--set
    /// mine`, which has no bars)
    #[arg(long)]
    pub check: bool,
    #[command(flatten)]
    pub grading: GradingArgs,
}

/// Which questions a session asks, and how.
#[derive(Debug, Clone, Default, PartialEq, Eq, Args)]
#[command(next_help_heading = "Selection")]
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
    #[arg(long, value_parser = level_parser())]
    pub level: Option<Level>,
    /// Follow-ups per question at most
    #[arg(long, default_value_t = 2)]
    pub follow_ups: usize,
    /// Seed for the question order, to repeat a session [default: random]
    #[arg(long)]
    pub seed: Option<u64>,
    /// The questions due for review (spaced repetition), weakest first, then a few never
    /// answered (the `new_per_day` setting)
    #[arg(long, conflicts_with = "questions")]
    pub due: bool,
    /// Before each grade shows, say how sure you are (1-4), which `grill stats` compares
    /// with the grades
    #[arg(long)]
    pub confidence: bool,
    /// Do not open the checklist of verdicts after each offline grade (`:dispute` still
    /// opens it)
    #[arg(long, help_heading = "Grading")]
    pub no_confirm: bool,
}

impl PracticeArgs {
    /// Whether any practice flag was given (they differ from a bare `grill`).
    pub fn given(&self) -> bool {
        let bare = Cli::try_parse_from(["grill"]).map(|c| c.practice).unwrap_or_default();
        *self != bare
    }
}

/// The levels, listed in `--help` and checked by clap.
fn level_parser() -> impl clap::builder::TypedValueParser<Value = Level> {
    use clap::builder::TypedValueParser;
    clap::builder::PossibleValuesParser::new(["mid", "senior", "staff"])
        .map(|s| s.parse::<Level>().expect("every listed level parses"))
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
    #[arg(long, help_heading = "Output")]
    pub json: bool,
    #[command(flatten)]
    pub grading: GradingArgs,
}

#[derive(Debug, Subcommand)]
pub enum ReviewCommand {
    /// List saved sessions, newest last
    List(ReviewListArgs),
    /// Show one session: every answer with its grade
    Show(ReviewShowArgs),
    /// Export one session as Markdown or a self-contained HTML page
    Export(ReviewExportArgs),
    /// Confirm or correct the verdicts on one answer; kept beside the grade, never over it
    Dispute(ReviewDisputeArgs),
}

#[derive(Debug, Clone, Args)]
#[command(after_help = dispute_help())]
pub struct ReviewDisputeArgs {
    /// Session id (or a unique prefix), file name, path, or `latest`
    pub session: String,
    /// Which answer, counting answered turns from 1 [default: the first graded answer
    /// you have not given your word on]
    pub turn: Option<usize>,
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
    #[arg(long, help_heading = "Output")]
    pub json: bool,
}

#[derive(Debug, Clone, Args)]
pub struct ReportArgs {
    /// Where to write the page; an existing file is replaced only if grill wrote it
    #[arg(short, long, value_name = "FILE", default_value = "grill-report.html")]
    pub output: std::path::PathBuf,
    /// Only sessions started on or after this date (YYYY-MM-DD)
    #[arg(long, value_name = "DATE")]
    pub since: Option<chrono::NaiveDate>,
    /// Only this topic
    #[arg(long)]
    pub topic: Option<String>,
}

#[derive(Debug, Clone, Args)]
pub struct PlanArgs {
    /// The interview day, YYYY-MM-DD [default: the `interview_date` setting]
    #[arg(long, value_name = "DATE")]
    pub interview: Option<String>,
    /// The recall to reach on the day, from 0.5 to 0.99
    #[arg(long, value_name = "R", default_value_t = 0.9, value_parser = target)]
    pub target: f64,
    /// Only this topic
    #[arg(long)]
    pub topic: Option<String>,
    /// Print one JSON document
    #[arg(long, help_heading = "Output")]
    pub json: bool,
}

/// A target recall: a probability, short of certainty, which no forgetting curve reaches.
fn target(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(r) if (0.5..=0.99).contains(&r) => Ok(r),
        _ => Err("a recall from 0.5 to 0.99, e.g. 0.9".into()),
    }
}

#[derive(Debug, Clone, Args)]
pub struct RegradeArgs {
    /// Session id (or a unique prefix), file name, path, or `latest`
    #[arg(required_unless_present = "pending", conflicts_with = "pending")]
    pub session: Option<String>,
    /// Every answer, in every session, that has no grade yet (or only an ungraded one)
    #[arg(long)]
    pub pending: bool,
    #[command(flatten)]
    pub grading: GradingArgs,
}

#[derive(Debug, Clone, Args)]
pub struct ResumeArgs {
    /// Session id (or a unique prefix), file name or path [default: the newest unfinished]
    pub session: Option<String>,
    #[command(flatten)]
    pub grading: GradingArgs,
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
    #[arg(long, help_heading = "Output")]
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
    /// Start a question of your own: a commented template that passes `bank check --strict`
    #[command(after_help = "Examples:
  grill bank new                                  print the template
  grill bank new gil-in-c-extensions --topic internals -o my-bank/
                                                  write my-bank/gil-in-c-extensions.toml")]
    New(BankNewArgs),
    /// Draft questions from your notes with the configured model, checked before they are written
    #[command(after_help = "Examples:
  grill bank draft notes.md                       up to 3 questions into my-bank/
  grill bank draft notes.md --topic caching --count 2 -o team-bank/
  grill bank draft notes.md --yes                 keep every draft that passes the check

Each draft passes the strict check (after one repair request at most) before it is shown;
in a terminal you keep (y, Enter) or drop (n) each, otherwise one line per draft is read
from standard input (end of input keeps). Existing files are never overwritten.")]
    Draft(BankDraftArgs),
}

#[derive(Debug, Clone, Args)]
pub struct BankDraftArgs {
    /// The notes to draft from (Markdown or plain text)
    pub notes: PathBuf,
    /// The topic of every question [default: the model chooses]
    #[arg(long)]
    pub topic: Option<String>,
    /// Draft up to this many questions (1 to 10)
    #[arg(long, default_value_t = 3)]
    pub count: usize,
    /// Write into this folder: ID.toml per question, calibration/ID.toml for its answers
    /// [default: my-bank]
    #[arg(short, long, value_name = "DIR")]
    pub output: Option<PathBuf>,
    /// Keep every draft that passes the check, without asking
    #[arg(long)]
    pub yes: bool,
    #[command(flatten)]
    pub grading: GradingArgs,
}

#[derive(Debug, Clone, Args)]
pub struct BankNewArgs {
    /// The new question's id (kebab-case)
    #[arg(default_value = "my-question")]
    pub id: String,
    /// Its topic (kebab-case)
    #[arg(long, default_value = "my-topic")]
    pub topic: String,
    /// Its level
    #[arg(long, value_parser = level_parser(), default_value = "senior")]
    pub level: Level,
    /// Write it to this file, or into this folder as ID.toml; an existing file is never
    /// overwritten [default: standard output]
    #[arg(short, long, value_name = "PATH")]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Clone, Args)]
pub struct BankListArgs {
    /// Only this topic
    #[arg(long)]
    pub topic: Option<String>,
    /// Print one JSON document
    #[arg(long, help_heading = "Output")]
    pub json: bool,
}

#[derive(Debug, Clone, Args)]
pub struct BankShowArgs {
    /// The question's id
    pub id: String,
    /// Print one JSON document
    #[arg(long, help_heading = "Output")]
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
    #[arg(long, help_heading = "Output")]
    pub json: bool,
}

#[derive(Debug, Clone, Args)]
pub struct JsonFlag {
    /// Print one JSON document
    #[arg(long, help_heading = "Output")]
    pub json: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_surface_is_consistent() {
        Cli::command().debug_assert();
        command(true).debug_assert();
    }

    fn flags(args: &[&str]) -> Result<crate::config::Flags, String> {
        let cli = Cli::from_arg_matches(&command(false).try_get_matches_from(args).map_err(|e| e.to_string())?)
            .map_err(|e| e.to_string())?;
        cli.flags().map_err(|e| e.to_string())
    }

    #[test]
    fn grading_flags_go_before_or_after_a_command_that_grades_and_nowhere_else() {
        assert_eq!(flags(&["grill", "--model", "a"]).unwrap().model.as_deref(), Some("a"));
        assert_eq!(flags(&["grill", "--model", "a", "eval"]).unwrap().model.as_deref(), Some("a"));
        assert_eq!(flags(&["grill", "--model", "a", "practice", "--model", "b"]).unwrap().model.as_deref(), Some("b"));
        let f = flags(&["grill", "--grader", "offline", "interview", "--timeout", "9"]).unwrap();
        assert_eq!((f.grader, f.timeout), (Some(GraderChoice::Offline), Some(9)));
        // Files flags are everyone's.
        assert_eq!(flags(&["grill", "review", "list", "--bank", "b"]).unwrap().banks, [PathBuf::from("b")]);
        assert_eq!(
            flags(&["grill", "review", "list", "--bank", "a", "--bank", "b"]).unwrap().banks,
            [PathBuf::from("a"), PathBuf::from("b")]
        );

        assert!(flags(&["grill", "review", "export", "x", "--format", "md", "--base-url", "u"]).is_err());
        assert_eq!(flags(&["grill", "--model", "m", "bank", "draft", "n.md"]).unwrap().model.as_deref(), Some("m"));
        assert_eq!(flags(&["grill", "bank", "draft", "n.md", "--model", "m"]).unwrap().model.as_deref(), Some("m"));
        assert_eq!(
            flags(&["grill", "--model", "m", "bank", "list"]).unwrap_err(),
            "grading flags (--grader, --base-url, --model, --timeout, --samples, --prompts) do not apply to `grill bank`"
        );
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
                assert_eq!(p.selection.questions, ["gil"]);
                assert_eq!(p.selection.follow_ups, 1);
                assert_eq!(p.selection.level, Some(Level::Senior));
            }
            other => panic!("{other:?}"),
        }
        assert!(Cli::try_parse_from(["grill", "practice", "--level", "junior"]).is_err());
    }
}
