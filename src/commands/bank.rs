//! `grill bank list|show|check|new|draft`.

use std::io::Write;

use crate::bank::{Bank, BankError, Problem, examples, minimum_problems};
use crate::cli::{BankCheckArgs, BankCommand, BankListArgs, BankNewArgs, BankShowArgs};
use crate::error::{ExitStatus, UserError};
use crate::style::wrap;

use super::Context;

pub mod draft;
pub mod output;

/// Runs a bank subcommand.
pub fn run(ctx: &Context, cmd: BankCommand) -> anyhow::Result<ExitStatus> {
    match cmd {
        BankCommand::List(args) => list(ctx, &args),
        BankCommand::Show(args) => show(ctx, &args),
        BankCommand::Check(args) => check(ctx, &args),
        BankCommand::New(args) => new(ctx, &args),
        BankCommand::Draft(args) => draft::run(ctx, &args),
    }
}

/// The template `grill bank new` fills in: one question with every field explained.
const TEMPLATE: &str = include_str!("../templates/question.toml");

/// The template with the question's id, topic and level filled in.
fn template(args: &BankNewArgs) -> String {
    TEMPLATE.replace("{{id}}", &args.id).replace("{{topic}}", &args.topic).replace("{{level}}", &args.level.to_string())
}

fn new(ctx: &Context, args: &BankNewArgs) -> anyhow::Result<ExitStatus> {
    for (what, value) in [("id", &args.id), ("topic", &args.topic)] {
        if !crate::bank::is_kebab(value) {
            return Err(UserError::new(format!(
                "the {what} `{}` is not kebab-case (lowercase letters, digits and -)",
                crate::scrub::controls(value)
            ))
            .into());
        }
    }
    let text = template(args);
    let Some(output) = &args.output else {
        std::io::stdout().lock().write_all(text.as_bytes())?;
        return Ok(ExitStatus::Success);
    };
    let path = if output.is_dir() { output.join(format!("{}.toml", args.id)) } else { output.clone() };
    let shown = crate::scrub::controls(&path.display().to_string()).into_owned();
    // `create_new` refuses an existing file atomically: a question file is someone's work.
    let mut file = match std::fs::OpenOptions::new().write(true).create_new(true).open(&path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            return Err(UserError::new(format!("{shown} already exists; nothing was written"))
                .hint("choose another id or path: `grill bank new` never overwrites a file")
                .into());
        }
        Err(e) => return Err(UserError::new(format!("cannot write {shown}: {e}")).into()),
    };
    file.write_all(text.as_bytes())?;
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).map_or(".".into(), |p| p.display().to_string());
    let dir = crate::scrub::controls(&dir).into_owned();
    writeln!(std::io::stdout().lock(), "wrote {shown}")?;
    eprintln!("{}", ctx.style.dim(&format!("edit it, then check it with `grill bank check --strict {dir}`")));
    Ok(ExitStatus::Success)
}

fn list(ctx: &Context, args: &BankListArgs) -> anyhow::Result<ExitStatus> {
    let bank = ctx.bank()?;
    if let Some(t) = &args.topic {
        super::require_topic(&bank, t)?;
    }
    let questions: Vec<_> =
        bank.questions().iter().filter(|q| args.topic.as_ref().is_none_or(|t| &q.topic == t)).collect();
    let mut out = std::io::stdout().lock();
    if args.json {
        let doc = output::ListOutput {
            schema: output::LIST_SCHEMA,
            source: bank.source().to_string(),
            questions: questions.iter().map(|q| output::QuestionRow::new(q)).collect(),
        };
        serde_json::to_writer_pretty(&mut out, &doc)?;
        writeln!(out)?;
        return Ok(ExitStatus::Success);
    }
    // With folders of the user's among the layers, each row says where it comes from.
    let layered = questions.iter().any(|q| q.origin.folder.is_some());
    let from_head = if layered { "  from" } else { "" };
    writeln!(
        out,
        "{}",
        ctx.style.bold(&format!("{:<28} {:<15} {:<7} {:<61}{from_head}", "id", "topic", "level", "prompt")).trim_end()
    )?;
    for q in &questions {
        let prompt: String = q.prompt.chars().take(60).collect();
        let ellipsis = if q.prompt.chars().count() > 60 { "…" } else { "" };
        let from = match (&q.origin.folder, layered) {
            (Some(_), _) => format!("  {}", crate::scrub::controls(&q.origin.file)),
            (None, true) => "  built-in".to_string(),
            (None, false) => String::new(),
        };
        let row = format!(
            "{:<28} {:<15} {:<7} {:<61}{from}",
            q.id,
            q.topic,
            q.level.to_string(),
            format!("{prompt}{ellipsis}")
        );
        writeln!(out, "{}", row.trim_end())?;
    }
    writeln!(out, "{} questions", questions.len())?;
    Ok(ExitStatus::Success)
}

fn show(ctx: &Context, args: &BankShowArgs) -> anyhow::Result<ExitStatus> {
    let bank = ctx.bank()?;
    let Some(q) = bank.get(&args.id) else {
        let similar = bank.similar_ids(&args.id);
        let err = UserError::new(format!("no question with id `{}`", args.id));
        return Err(if similar.is_empty() {
            err.hint("`grill bank list` shows every id")
        } else {
            err.hint(format!("did you mean {}?", similar.join(", ")))
        }
        .into());
    };
    let mut out = std::io::stdout().lock();
    if args.json {
        serde_json::to_writer_pretty(&mut out, &output::ShowOutput::new(q))?;
        writeln!(out)?;
        return Ok(ExitStatus::Success);
    }
    let s = &ctx.style;
    writeln!(
        out,
        "{}",
        s.bold(&format!("{} · {} · {}   ({}:{})", q.id, q.topic, q.level, q.origin.file, q.origin.line))
    )?;
    write!(out, "{}", wrap(&q.prompt, ""))?;
    writeln!(out, "\n{}", s.bold("Testing"))?;
    write!(out, "{}", wrap(&q.testing, "  "))?;
    writeln!(out, "\n{}", s.bold("Key points"))?;
    for k in &q.key_points {
        write!(out, "{}", wrap(&format!("[{}] (weight {}) {}", k.id, k.weight, k.point), "  "))?;
        writeln!(out, "    {}", s.dim(&format!("cues: {}", k.cues.join(" | "))))?;
    }
    writeln!(out, "\n{}", s.bold("Red flags"))?;
    for f in &q.red_flags {
        write!(out, "{}", wrap(&format!("[{}] ({}) {}", f.id, f.severity, f.point).to_string(), "  "))?;
        writeln!(out, "    {}", s.dim(&format!("cues: {}", f.cues.join(" | "))))?;
    }
    writeln!(out, "\n{}", s.bold("Follow-ups"))?;
    for f in &q.follow_ups {
        write!(out, "{}", wrap(&format!("[{}] {} (probes: {})", f.id, f.prompt, f.probes.join(", ")), "  "))?;
    }
    writeln!(out, "\n{}", s.bold("Reference answer"))?;
    write!(out, "{}", wrap(&q.reference_answer, "  "))?;
    for ex in &q.examples {
        writeln!(out)?;
        for line in ex.code.trim_end().lines() {
            writeln!(out, "    {line}")?;
        }
    }
    if !q.sources.is_empty() {
        writeln!(
            out,
            "\n{}",
            s.dim(&format!(
                "sources: {}   checked against Python {}",
                q.sources.join(", "),
                q.python.as_deref().unwrap_or("?")
            ))
        )?;
    }
    Ok(ExitStatus::Success)
}

fn check(ctx: &Context, args: &BankCheckArgs) -> anyhow::Result<ExitStatus> {
    let loaded: Result<Bank, BankError> = match &args.dir {
        Some(dir) => Bank::from_dir(dir),
        None => ctx.bank(),
    };
    let (mut problems, questions, source) = match loaded {
        Ok(bank) => {
            let mut extra = if args.strict { minimum_problems(&bank) } else { Vec::new() };
            if args.run_examples {
                extra.extend(example_problems(ctx, &bank)?);
            }
            (extra, bank.questions().len(), bank.source().to_string())
        }
        Err(e) => (e.problems, 0, e.source_name),
    };
    problems.sort_by(|a, b| (&a.file, a.line).cmp(&(&b.file, b.line)));
    let mut out = std::io::stdout().lock();
    if args.json {
        let doc = output::CheckOutput { schema: output::CHECK_SCHEMA, source: &source, questions, problems: &problems };
        serde_json::to_writer_pretty(&mut out, &doc)?;
        writeln!(out)?;
    } else if problems.is_empty() {
        writeln!(out, "{source}: {questions} questions, no problems")?;
    } else {
        for p in &problems {
            writeln!(out, "{} {p}", ctx.style.bad("problem:"))?;
        }
        let files = count_files(&problems);
        writeln!(out, "{source}: {} problem(s) in {files} file(s)", problems.len())?;
    }
    Ok(if problems.is_empty() { ExitStatus::Success } else { ExitStatus::Failure })
}

/// Runs the examples and turns each failure into a problem at its question.
fn example_problems(ctx: &Context, bank: &Bank) -> anyhow::Result<Vec<Problem>> {
    let interpreters = examples::discover();
    if interpreters.is_empty() {
        return Err(UserError::new("no CPython 3.11 or later found to run the examples")
            .hint("install python3 (3.11+), or put python3.N on the PATH")
            .into());
    }
    let found: Vec<String> = interpreters.iter().map(examples::Interpreter::describe).collect();
    eprintln!("{}", ctx.style.dim(&format!("running examples under {}", found.join(", "))));
    let scratch = tempfile::tempdir()?;
    let report = examples::run_all(bank, &interpreters, scratch.path());
    eprintln!("{}", ctx.style.dim(&format!("{} example runs, {} failed", report.runs, report.failures.len())));
    Ok(report
        .failures
        .into_iter()
        .map(|f| {
            let origin = bank.get(&f.question).map(|q| q.origin.clone());
            Problem {
                file: origin.as_ref().map_or_else(String::new, |o| o.file.clone()),
                line: origin.as_ref().map_or(0, |o| o.line),
                column: 0,
                question: Some(f.question.clone()),
                message: format!(
                    "example {}{}: {}",
                    f.example,
                    f.interpreter.map(|i| format!(" under Python {i}")).unwrap_or_default(),
                    f.message
                ),
                excerpt: None,
            }
        })
        .collect())
}

fn count_files(problems: &[Problem]) -> usize {
    let mut files: Vec<&str> = problems.iter().map(|p| p.file.as_str()).collect();
    files.sort_unstable();
    files.dedup();
    files.len()
}
