//! One turn at the prompt, the same in practice and in an interview: what is asked is
//! shown (with a kept draft), the input is read, and [`handle`] applies it to the session
//! and says what the caller still has to do (save, grade, show a reference).

use std::io::{self, Write};
use std::path::Path;

use super::command::Command;
use super::input::{AnswerSource, BLOCK_SEPARATOR, END_OF_ANSWER, Input};
use crate::ask::Prompt;
use crate::session::{Advance, GradeJob, Interrupt, Session};
use crate::style::{Style, wrap};
use crate::transcript::TranscriptError;

/// What is left to the caller once an input is handled.
#[derive(Debug)]
pub(super) enum Outcome<'b> {
    /// The session changed (a hint, a draft kept): save it.
    Changed,
    /// Nothing changed (help, a message).
    Unchanged,
    /// An answer was recorded: save it (rescuing it if that fails), then grade the job.
    Submitted(GradeJob<'b>),
    /// The turn was skipped: save; `finished` is the question it ended.
    Skipped(Advance<'b>),
    /// The session ended (`:quit`, end of input, Ctrl-C with nothing new typed): save.
    Ended,
    /// `:dispute`: the caller opens the checklist on the last graded answer.
    Dispute,
}

/// Shows the turn being asked, and any draft kept for it: put back in the terminal's
/// edit buffer, or printed when answers come from a script.
pub(super) fn show_turn(
    out: &mut dyn Write,
    style: Style,
    session: &Session<'_>,
    source: &mut dyn AnswerSource,
    note: Option<&str>,
) -> io::Result<()> {
    let prompt = session.prompt().expect("a turn is asking");
    show_prompt(out, style, &prompt, source.interactive(), note)?;
    if let Some(draft) = session.draft()
        && !source.restore(draft)
    {
        writeln!(out, "{}", style.dim("  (your draft from before, kept until you answer:)"))?;
        show_indented(out, style, draft)?;
    }
    Ok(())
}

/// Applies one input to the session: the one place each `:` command, answer and Ctrl-C
/// is handled, for practice and interview alike.
pub(super) fn handle<'b>(
    input: Input,
    session: &mut Session<'b>,
    source: &mut dyn AnswerSource,
    out: &mut dyn Write,
    style: Style,
) -> io::Result<Outcome<'b>> {
    let interactive = source.interactive();
    Ok(match input {
        Input::Answer(text) | Input::Edited(text) if text.trim().is_empty() && interactive => {
            writeln!(out, "{}", style.dim("(empty answer: type one, or :skip)"))?;
            Outcome::Unchanged
        }
        Input::Answer(text) => submit(session, text),
        Input::Edited(text) => {
            // The editor has closed: show what it wrote, so the answer is on screen with
            // the rest of the session.
            show_indented(out, style, &text)?;
            submit(session, text)
        }
        Input::Command(c @ (Command::Hint | Command::Ref)) => {
            show_aside(out, style, session, c)?;
            Outcome::Changed
        }
        Input::Command(Command::Skip) => {
            let advance = session.skip();
            writeln!(out, "{}", style.dim("  (skipped)"))?;
            Outcome::Skipped(advance)
        }
        Input::Command(Command::Dispute) => Outcome::Dispute,
        Input::Command(Command::Help) => {
            show_help(out, interactive)?;
            Outcome::Unchanged
        }
        Input::Command(Command::Edit) => {
            writeln!(out, "  :edit works in a terminal; here, answers come from standard input")?;
            Outcome::Unchanged
        }
        Input::Command(Command::Quit) | Input::End => {
            session.quit();
            Outcome::Ended
        }
        Input::Invalid(msg) => {
            writeln!(out, "  {msg}")?;
            Outcome::Unchanged
        }
        Input::Interrupted(typed) => match session.interrupt(&typed) {
            Interrupt::DraftKept => {
                source.restore(&typed);
                // The terminal has already ended the line after the keystroke.
                writeln!(out, "{}", style.dim("(draft saved; Ctrl-C again quits, and `grill resume` brings it back)"))?;
                Outcome::Changed
            }
            Interrupt::Ended => Outcome::Ended,
        },
    })
}

fn submit<'b>(session: &mut Session<'b>, text: String) -> Outcome<'b> {
    match session.submit(text) {
        Some((job, _)) => Outcome::Submitted(job),
        None => Outcome::Unchanged,
    }
}

/// `text` indented and dimmed, line by line as written (code keeps its layout).
fn show_indented(out: &mut dyn Write, style: Style, text: &str) -> io::Result<()> {
    for line in text.lines() {
        writeln!(out, "    {}", style.dim(line))?;
    }
    Ok(())
}

/// The message that replaces the summary of a session left with nothing to keep.
pub const NOT_SAVED: &str = "Nothing was answered: the session was not saved.";

/// Removes the file of a session left empty (it may have been saved before, by an
/// earlier run of a resumed session). Its lock file goes when the lock is let go.
pub(super) fn discard(path: &Path) -> Result<(), TranscriptError> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => {
            Err(TranscriptError::Io { path: path.to_path_buf(), error: e })
        }
        _ => Ok(()),
    }
}

/// Keeps an answer that could not be saved (a full disk, a file-size limit): printed in
/// full on standard error and written to a file in the temporary folder, which may sit on
/// another disk. Returns the save's error, for the exit status.
pub(super) fn rescue(session_id: &str, answer: &str, err: TranscriptError) -> anyhow::Error {
    let kept = tempfile::Builder::new()
        .prefix(&format!("grill-unsaved-{}-", crate::scrub::controls(session_id).replace('/', "-")))
        .suffix(".txt")
        .tempfile_in(std::env::temp_dir())
        .and_then(|mut f| {
            f.write_all(answer.as_bytes())?;
            f.as_file().sync_all()?;
            f.keep().map_err(|e| e.error)
        });
    let mut stderr = io::stderr().lock();
    let _ = writeln!(stderr, "Your answer could not be saved. Here it is in full:");
    let _ = writeln!(stderr, "{BLOCK_SEPARATOR}");
    let _ = writeln!(stderr, "{}", answer.trim_end_matches('\n'));
    let _ = writeln!(stderr, "{BLOCK_SEPARATOR}");
    let _ = match kept {
        Ok((_, path)) => writeln!(stderr, "It is also in {}.", path.display()),
        Err(e) => writeln!(stderr, "It could not be written to the temporary folder either ({e}): copy it from above."),
    };
    anyhow::Error::new(err).context("the answer was not saved")
}

/// Prints what is asked: a rule with the question's number, topic and level (or that it
/// is a follow-up), the text, and in a terminal how to finish an answer. `note` goes on
/// the rule (an interview's time left).
pub(super) fn show_prompt(
    out: &mut dyn Write,
    style: Style,
    prompt: &Prompt<'_>,
    interactive: bool,
    note: Option<&str>,
) -> io::Result<()> {
    let mut header = match (prompt.follow_up, &prompt.generated) {
        (None, None) => {
            format!(
                "── Question {} of {} · {} · {} ",
                prompt.number, prompt.of, prompt.question.topic, prompt.question.level
            )
        }
        (Some(_), _) => format!("── Follow-up on {} ", prompt.question.id),
        (None, Some(_)) => format!("── Follow-up on {} (asked by the model) ", prompt.question.id),
    };
    if let Some(note) = note {
        header.push_str(&format!("· {note} "));
    }
    writeln!(out, "\n{}", style.bold(&format!("{header:─<60}")))?;
    write!(out, "{}", wrap(prompt.text(), ""))?;
    if interactive {
        writeln!(
            out,
            "{}",
            style.dim(&format!("(finish with a line holding only \"{END_OF_ANSWER}\" · {})", Command::names()))
        )?;
    }
    Ok(())
}

/// Answers `:hint` or `:ref` for the current turn (the session notes both).
pub(super) fn show_aside(out: &mut dyn Write, style: Style, session: &mut Session<'_>, c: Command) -> io::Result<()> {
    match c {
        Command::Hint => {
            let hint = session.hint().unwrap_or_else(|| "No more hints for this one.".into());
            writeln!(out, "  {}", style.bold("hint:"))?;
            write!(out, "{}", wrap(&hint, "    "))
        }
        Command::Ref => match session.reference() {
            Some(r) => {
                writeln!(out, "{}", style.bold("  Reference answer (noted in the transcript):"))?;
                write!(out, "{}", wrap(r, "    "))
            }
            None => Ok(()),
        },
        _ => Ok(()),
    }
}

/// Prints `:help`: the commands and how answers end.
pub(super) fn show_help(out: &mut dyn Write, interactive: bool) -> io::Result<()> {
    for c in Command::ALL {
        writeln!(out, "  {:<8} {}", c.name(), c.help())?;
    }
    let how = if interactive {
        format!("finish an answer with a line holding only \"{END_OF_ANSWER}\"")
    } else {
        format!("separate answers with a line holding only \"{BLOCK_SEPARATOR}\"")
    };
    writeln!(out, "  {how}")
}
