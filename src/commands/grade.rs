//! `grill grade`: grade one answer to one question, from a file or standard input.

use std::io::{IsTerminal, Read, Write};

use crate::ask::Prompt;
use crate::cli::GradeArgs;
use crate::error::{ExitStatus, UserError};
use crate::grade::grader::MAX_ANSWER_BYTES;
use crate::render;

use super::Context;

pub mod output;

/// Grades one answer and prints the grade.
pub fn run(ctx: &Context, args: &GradeArgs) -> anyhow::Result<ExitStatus> {
    let bank = ctx.bank()?;
    let question = bank.get(&args.question).ok_or_else(|| {
        let similar = bank.similar_ids(&args.question);
        let err = UserError::new(format!("no question with id `{}`", args.question));
        if similar.is_empty() {
            err.hint("`grill bank list` shows every id")
        } else {
            err.hint(format!("did you mean {}?", similar.join(", ")))
        }
    })?;
    let (name, bytes) = match &args.answer_file {
        Some(path) => {
            let name = path.display().to_string();
            let meta = std::fs::metadata(path).map_err(|e| UserError::new(format!("cannot read {name}: {e}")))?;
            if meta.len() > MAX_ANSWER_BYTES as u64 {
                return Err(too_large(&name, meta.len()).into());
            }
            let bytes = std::fs::read(path).map_err(|e| UserError::new(format!("cannot read {name}: {e}")))?;
            (name, bytes)
        }
        None => {
            let mut bytes = Vec::new();
            std::io::stdin().take(MAX_ANSWER_BYTES as u64 + 1).read_to_end(&mut bytes)?;
            if bytes.len() > MAX_ANSWER_BYTES {
                return Err(too_large("standard input", bytes.len() as u64).into());
            }
            ("standard input".to_string(), bytes)
        }
    };
    if let Some(at) = bytes.iter().position(|&b| b == 0) {
        return Err(UserError::new(format!("{name} is not text: it holds a NUL byte at offset {at}"))
            .hint("give the answer as a UTF-8 text file")
            .into());
    }
    let answer = String::from_utf8(bytes).map_err(|e| {
        UserError::new(format!("{name} is not UTF-8 text (invalid byte at offset {})", e.utf8_error().valid_up_to()))
            .hint("save the answer as UTF-8")
    })?;
    let prompt = Prompt::main(question);
    let rt = ctx.runtime()?;
    let chosen = ctx.grader(&rt)?;
    eprintln!("{}", ctx.err_style.dim(&chosen.announcement));
    let interactive = std::io::stdin().is_terminal() && args.answer_file.is_some();
    let record = ctx.grade(&rt, &chosen.grader, &prompt.asked(), &answer, interactive);

    let mut out = std::io::stdout().lock();
    if args.json {
        serde_json::to_writer_pretty(&mut out, &output::GradeOutput::new(&question.id, &record))?;
        writeln!(out)?;
    } else {
        writeln!(out, "{}", ctx.style.bold(&format!("{} — {}", question.id, question.prompt)))?;
        write!(out, "{}", render::grade(&ctx.style, &question.rubric(), &record))?;
    }
    if matches!(record.grade, crate::grade::Grade::Ungraded { .. }) {
        // `grade` keeps no record, so unlike a session it has nothing to grade later.
        out.flush()?;
        eprintln!(
            "{} the answer was not graded, and `grill grade` saves nothing: run it again once the grader works",
            ctx.err_style.bad("error:")
        );
        return Ok(ExitStatus::Error);
    }
    Ok(ExitStatus::Success)
}

fn too_large(name: &str, len: u64) -> UserError {
    UserError::new(format!(
        "{name} is {:.1} MB; grill grades answers up to {} MiB",
        len as f64 / 1e6,
        MAX_ANSWER_BYTES >> 20
    ))
    .hint("an interview answer is a few paragraphs; trim it to the part you want graded")
}
