//! `grill review dispute`: the user's word on the verdicts of one saved answer, recorded
//! beside the grade it reviews (never over it) under the session's lock.

use std::io::{BufRead, IsTerminal, Write};

use crate::ask::Prompt;
use crate::cli::ReviewDisputeArgs;
use crate::error::{ExitStatus, UserError};
use crate::grade::record::GradeRecord;
use crate::repl::checklist;
use crate::review::index;
use crate::scrub::controls;
use crate::style::wrap;
use crate::transcript::{LOCK_WAIT, SessionLock, Store, Transcript, shown};

use super::super::Context;

/// Opens the checklist on one answer of a saved session and saves the user's word.
pub fn run(ctx: &Context, args: &ReviewDisputeArgs) -> anyhow::Result<ExitStatus> {
    let store = Store::new(&ctx.settings.transcripts.value);
    let path = index::find(&store, &args.session)?;
    // Locked before it is read: the word is added to the latest copy, and nobody else
    // rewrites the file meanwhile.
    let _lock = SessionLock::acquire(&path, "grill review dispute", LOCK_WAIT)?;
    let mut t = Store::load(&path)?;
    let bank = ctx.bank()?;
    let answered: Vec<usize> = (0..t.turns.len()).filter(|&i| t.turns[i].answer.is_some()).collect();
    let (number, index) = chosen(&t, &answered, args.turn)?;
    let turn = &t.turns[index];
    let Some((reviewed, record)) = turn.latest_graders_grade().filter(|(_, g)| g.grade.score().is_some()) else {
        return Err(UserError::new(format!("answer {number} is not graded, so there is no verdict to dispute"))
            .hint("`grill regrade SESSION` grades it")
            .into());
    };
    let Some(question) = bank.get(&turn.question_id) else {
        return Err(UserError::new(format!(
            "answer {number} is to `{}`, which is not in the bank any more: its key points cannot be listed",
            controls(&turn.question_id)
        ))
        .hint("use the bank the session was answered with (--bank)")
        .into());
    };
    let prompt = Prompt::for_turn(question, turn);
    let mut out = std::io::stdout().lock();
    let style = ctx.style;
    let label = checklist::label(&prompt);
    let heading = format!("Session {}, answer {number} of {}: {}", t.id, answered.len(), label);
    writeln!(out, "{}", style.bold(&controls(&heading)))?;
    write!(out, "{}", crate::render::hanging(&controls(prompt.text()), "  Q: ", "     "))?;
    writeln!(out, "  {}", style.dim("Answer:"))?;
    write!(out, "{}", wrap(&controls(turn.answer.as_deref().unwrap_or_default()), "    "))?;
    if !question.unchanged_since(&turn.question_hash) {
        writeln!(out, "  {}", style.dim("(the question has changed in the bank since this session)"))?;
    }
    if turn.grades.iter().any(|g| g.grader.is_user()) {
        writeln!(out, "  {}", style.dim("(you gave your word on this answer before; this adds a newer one)"))?;
    }
    let terminal = std::io::stdin().is_terminal();
    let mut lines = std::io::stdin().lock().lines();
    let mut read = |prompt: &str| -> std::io::Result<Option<String>> {
        if terminal { crate::repl::input::key_line(prompt) } else { lines.next().transpose() }
    };
    let record = record.clone();
    let Some(grade) = checklist::review(&mut out, style, &label, prompt.rubric(), &record, &mut read, !terminal)?
    else {
        return Ok(ExitStatus::Success);
    };
    let now = crate::util::now();
    t.turns[index].grades.push(GradeRecord::own_word(reviewed, grade, now));
    t.updated_at = now;
    store.save(&t, &path)?;
    writeln!(out, "Saved beside the grade it reviews, in {}", shown(&path))?;
    Ok(ExitStatus::Success)
}

/// The answer to review: `asked` (counted from 1 over the answered turns), or the first
/// graded one the user has not given their word on. Its number and its turn's index.
fn chosen(t: &Transcript, answered: &[usize], asked: Option<usize>) -> Result<(usize, usize), UserError> {
    match asked {
        Some(n) => match n.checked_sub(1).and_then(|i| answered.get(i)) {
            Some(&i) => Ok((n, i)),
            None => Err(UserError::new(format!(
                "there is no answer {n}: session {} has {} answered turn(s)",
                controls(&t.id),
                answered.len()
            ))
            .hint("`grill review show SESSION` lists them in order")),
        },
        None => answered
            .iter()
            .enumerate()
            .find(|(_, i)| {
                let turn = &t.turns[**i];
                !turn.grades.iter().any(|g| g.grader.is_user())
                    && turn.latest_graders_grade().is_some_and(|(_, g)| g.grade.score().is_some())
            })
            .map(|(n, &i)| (n + 1, i))
            .ok_or_else(|| {
                UserError::new("every graded answer of this session has your word already")
                    .hint("name one (`grill review dispute SESSION 2`) to give it again")
            }),
    }
}
