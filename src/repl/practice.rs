//! The session loop: reads answers from a source, feeds the state machine, grades, shows
//! results and saves the transcript after every answer and every grade.

use std::io::{self, Write};
use std::path::PathBuf;

use super::input::{AnswerSource, BLOCK_SEPARATOR, Command, END_OF_ANSWER, Input};
use crate::bank::Question;
use crate::grade::Grade;
use crate::render::{self, WIDTH};
use crate::session::{GradeJob, Prompt, Session, Step};
use crate::style::{Style, wrap};
use crate::transcript::{GradeRecord, Status, Store, TranscriptError};

/// Grades one job: the command decides how (which grader, spinner, Ctrl-C).
pub type GradeFn<'a> = dyn FnMut(&GradeJob<'_>) -> GradeRecord + 'a;

/// Asks a model for a follow-up question (question asked, key point missed).
pub type FollowUpFn<'a> = dyn FnMut(&str, &str) -> Option<String> + 'a;

/// What the loop writes to, how it grades and where it saves.
pub struct Shell<'a> {
    /// Where questions and grades are shown.
    pub out: &'a mut dyn Write,
    /// How they are painted.
    pub style: Style,
    /// The transcript folder.
    pub store: &'a Store,
    /// The transcript file of this session.
    pub path: PathBuf,
    /// How answers are graded.
    pub grade: &'a mut GradeFn<'a>,
    /// How follow-ups are generated.
    pub follow_up: &'a mut FollowUpFn<'a>,
}

impl Shell<'_> {
    fn save(&self, session: &Session<'_>) -> Result<(), TranscriptError> {
        self.store.save(session.transcript(), &self.path)
    }
}

/// Runs the session until it is done, the input ends, or the user quits or presses
/// Ctrl-C. Returns how it ended; the transcript is saved at every step.
pub fn drive(
    session: &mut Session<'_>,
    source: &mut dyn AnswerSource,
    shell: &mut Shell<'_>,
) -> anyhow::Result<Status> {
    let interactive = source.interactive();
    let style = shell.style;
    shell.save(session)?;
    let mut shown: Option<usize> = None;
    loop {
        let turn = match session.step() {
            Step::Done => break,
            Step::Asking(turn) => turn,
            Step::Grading(_) => {
                // Only a resumed session starts here: an answer saved before its grade.
                let job = session.pending_job().expect("a grading step has its answer");
                let record = (shell.grade)(&job);
                writeln!(shell.out, "\n{}", style.dim("(grading the answer saved before the session stopped)"))?;
                write!(shell.out, "{}", render::grade(&style, &job.prompt.rubric(), &record))?;
                let advance = session.record_grade(job.turn, record);
                shell.save(session)?;
                if let Some(q) = advance.finished {
                    show_reference(shell, q)?;
                }
                continue;
            }
            Step::NeedsFollowUp => {
                let (question, point) = session.gap().expect("a gap is waiting");
                let text = (shell.follow_up)(&question.prompt, &point.point);
                let advance = session.provide_follow_up(text);
                shell.save(session)?;
                if let Some(q) = advance.finished {
                    show_reference(shell, q)?;
                }
                continue;
            }
        };
        if shown != Some(turn) {
            let prompt = session.prompt().expect("a turn is asking");
            show_prompt(shell.out, style, &prompt, interactive, None)?;
            shown = Some(turn);
        }
        shell.out.flush()?;
        match source.read()? {
            Input::Answer(text) => {
                if text.trim().is_empty() && interactive {
                    writeln!(shell.out, "{}", style.dim("(empty answer: type one, or :skip)"))?;
                    continue;
                }
                let Some((job, _)) = session.submit(text) else {
                    continue;
                };
                // Saved before grading, so the answer survives whatever grading does.
                if let Err(e) = shell.save(session) {
                    return Err(rescue(&session.transcript().id, &job.answer, e));
                }
                let record = (shell.grade)(&job);
                writeln!(shell.out)?;
                write!(shell.out, "{}", render::grade(&style, &job.prompt.rubric(), &record))?;
                if matches!(record.grade, Grade::Ungraded { .. }) {
                    writeln!(
                        shell.out,
                        "  {}",
                        style.dim("The answer is saved; `grill regrade --pending` grades it later.")
                    )?;
                }
                let turn = job.turn;
                let advance = session.record_grade(turn, record);
                shell.save(session)?;
                if let Some(q) = advance.finished {
                    show_reference(shell, q)?;
                }
            }
            Input::Command(c @ (Command::Hint | Command::Ref)) => {
                show_aside(shell.out, style, session, c)?;
                shell.save(session)?;
            }
            Input::Command(Command::Skip) => {
                let advance = session.skip();
                shell.save(session)?;
                writeln!(shell.out, "{}", style.dim("  (skipped)"))?;
                if let Some(q) = advance.finished {
                    show_reference(shell, q)?;
                }
            }
            Input::Command(Command::Help) => show_help(shell.out, interactive)?,
            Input::Command(Command::Edit) => {
                writeln!(shell.out, "  :edit works in a terminal; here, answers come from standard input")?;
            }
            Input::Command(Command::Quit) | Input::End => {
                session.quit();
                shell.save(session)?;
                break;
            }
            Input::Invalid(msg) => writeln!(shell.out, "  {msg}")?,
            Input::Interrupted => {
                session.interrupt();
                shell.save(session)?;
                break;
            }
        }
    }
    summary(session, shell)?;
    Ok(session.transcript().status)
}

/// Keeps an answer that could not be saved (a full disk, a file-size limit): printed in
/// full on standard error and written to a file in the temporary folder, which may sit on
/// another disk. Returns the save's error, for the exit status.
pub(crate) fn rescue(session_id: &str, answer: &str, err: TranscriptError) -> anyhow::Error {
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
pub(crate) fn show_prompt(
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
    write!(out, "{}", wrap(prompt.text(), WIDTH, ""))?;
    if interactive {
        writeln!(
            out,
            "{}",
            style.dim(&format!(
                "(finish with a line holding only \"{END_OF_ANSWER}\" · :hint :ref :skip :edit :help :quit)"
            ))
        )?;
    }
    Ok(())
}

/// Answers `:hint` or `:ref` for the current turn (the session notes both).
pub(crate) fn show_aside(out: &mut dyn Write, style: Style, session: &mut Session<'_>, c: Command) -> io::Result<()> {
    match c {
        Command::Hint => {
            let hint = session.hint().unwrap_or_else(|| "No more hints for this one.".into());
            writeln!(out, "  {}", style.bold("hint:"))?;
            write!(out, "{}", wrap(&hint, WIDTH, "    "))
        }
        Command::Ref => match session.reference() {
            Some(r) => {
                writeln!(out, "{}", style.bold("  Reference answer (noted in the transcript):"))?;
                write!(out, "{}", wrap(r, WIDTH, "    "))
            }
            None => Ok(()),
        },
        _ => Ok(()),
    }
}

/// Prints `:help`: the commands and how answers end.
pub(crate) fn show_help(out: &mut dyn Write, interactive: bool) -> io::Result<()> {
    for (_, name, help) in Command::ALL {
        writeln!(out, "  {name:<7} {help}")?;
    }
    let how = if interactive {
        format!("finish an answer with a line holding only \"{END_OF_ANSWER}\"")
    } else {
        format!("separate answers with a line holding only \"{BLOCK_SEPARATOR}\"")
    };
    writeln!(out, "  {how}")
}

fn show_reference(shell: &mut Shell<'_>, q: &Question) -> io::Result<()> {
    let style = shell.style;
    writeln!(shell.out, "\n  {}", style.bold(&format!("Reference answer for {}:", q.id)))?;
    write!(shell.out, "{}", wrap(&q.reference_answer, WIDTH, "    "))?;
    for ex in &q.examples {
        writeln!(shell.out)?;
        for line in ex.code.trim_end().lines() {
            writeln!(shell.out, "    {}", style.dim(line))?;
        }
        if let Some(output) = &ex.output {
            writeln!(shell.out, "    {}", style.dim("# prints:"))?;
            for line in output.trim_end().lines() {
                writeln!(shell.out, "    {}", style.dim(&format!("# {line}")))?;
            }
        }
    }
    Ok(())
}

fn summary(session: &Session<'_>, shell: &mut Shell<'_>) -> io::Result<()> {
    let t = session.transcript();
    let style = shell.style;
    writeln!(shell.out, "\n{}", style.bold(&format!("{:─<60}", "── Session summary ")))?;
    for turn in &t.turns {
        let label = match &turn.follow_up_id {
            Some(f) => format!("  {} › {}", turn.question_id, f),
            None => turn.question_id.clone(),
        };
        let result = if turn.skipped {
            "skipped".to_string()
        } else {
            match turn.latest_grade().map(|g| &g.grade) {
                Some(Grade::Graded { score, .. }) => format!("{score}/100"),
                Some(Grade::Ungraded { .. }) => "ungraded".to_string(),
                None if turn.answer.is_some() => "not graded yet".to_string(),
                None => "not answered".to_string(),
            }
        };
        writeln!(shell.out, "  {label:<48} {result}")?;
    }
    if let Some(mean) = t.mean_score() {
        writeln!(shell.out, "  {:<48} {mean:.0}/100", "mean")?;
    }
    writeln!(shell.out, "Saved to {}", shell.path.display())?;
    Ok(())
}
