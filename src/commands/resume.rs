//! `grill resume`: continue an interrupted session where it stopped, in the same file.

use crate::cli::ResumeArgs;
use crate::error::{ExitStatus, UserError};
use crate::review::index;
use crate::session::{Clock, Options, Session};
use crate::transcript::{LOCK_WAIT, SessionLock, SessionMode, Status, Store};

use super::Context;

/// Resumes a session.
pub fn run(ctx: &Context, args: &ResumeArgs) -> anyhow::Result<ExitStatus> {
    let store = Store::new(&ctx.settings.transcripts.value);
    let path = match &args.session {
        Some(key) => index::find(&store, key)?,
        None => {
            let (all, bad) = index::load(&store);
            index::warn_skipped(&bad, &ctx.err_style);
            all.into_iter().rev().find(|(_, s)| s.status != Status::Completed).map(|(p, _)| p).ok_or_else(|| {
                UserError::new("no unfinished session to resume").hint("`grill review list` shows every session")
            })?
        }
    };
    // Locked before it is read, so the copy this process continues is the latest one and
    // no other process rewrites the file until this one is done.
    let lock = SessionLock::acquire(&path, "grill resume", LOCK_WAIT)?;
    let transcript = Store::load(&path)?;
    if transcript.status == Status::Completed {
        return Err(UserError::new(format!("session {} is complete: nothing to resume", transcript.id))
            .hint("`grill practice` starts a new one")
            .into());
    }
    let bank = ctx.bank()?;
    let questions = transcript
        .plan
        .iter()
        .map(|id| {
            bank.get(id).ok_or_else(|| UserError::new(format!("the session asks `{id}`, which the bank no longer has")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let rt = ctx.runtime()?;
    let chosen = ctx.grader(&rt)?;
    eprintln!("{}", ctx.err_style.dim(&chosen.announcement));
    eprintln!(
        "{}",
        ctx.err_style.dim(&format!("Resuming session {} ({} turns so far).", transcript.id, transcript.turns.len()))
    );
    if transcript.mode == SessionMode::Interview {
        // The time limit is not carried over: a resumed interview runs to its end.
        let opts = super::interview::options(transcript.follow_ups);
        let session = Session::resume(questions, opts, transcript, Clock::system());
        return super::interview::run_session(
            ctx,
            &rt,
            &bank,
            &chosen.grader,
            &store,
            (path, lock),
            session,
            usize::from(crate::cli::INTERVIEW_JOBS),
        );
    }
    let opts = Options {
        follow_ups: transcript.follow_ups,
        wait_for_grades: true,
        generate_follow_ups: chosen.grader.writes_follow_ups(),
    };
    let mut session = Session::resume(questions, opts, transcript, Clock::system());
    // `--confidence` is a flag of the session's start, not recorded: a resumed one does not ask.
    super::practice::run_session(ctx, &rt, chosen.grader, &store, (path, lock), &mut session, false)
}
