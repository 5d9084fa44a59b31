//! `grill regrade`: grade saved answers again with the grader in use. The new grade is
//! added beside the old ones, never over them, and what changed is shown.

use std::io::Write;
use std::path::PathBuf;

use crate::ask::Prompt;
use crate::cli::RegradeArgs;
use crate::error::{ExitStatus, UserError};
use crate::grade::Grade;
use crate::grade::record::GradeRecord;
use crate::review::index;
use crate::transcript::{LOCK_WAIT, SessionLock, Store, TranscriptError, shown};

use super::Context;

/// Re-grades one session, or every pending answer.
pub fn run(ctx: &Context, args: &RegradeArgs) -> anyhow::Result<ExitStatus> {
    let store = Store::new(&ctx.settings.transcripts.value);
    let one = args.session.as_ref().filter(|_| !args.pending);
    // Files that could not be graded: listed and unreadable, or in use by another grill.
    let mut skipped = 0usize;
    let files: Vec<PathBuf> = match one {
        Some(key) => vec![index::find(&store, key)?],
        None => {
            let (all, bad) = index::load(&store);
            index::warn_skipped(&bad, &ctx.err_style);
            skipped = bad.len();
            all.into_iter().filter(|(_, s)| s.turns.iter().any(|t| t.pending)).map(|(p, _)| p).collect()
        }
    };
    let done = |skipped: usize| if skipped == 0 { ExitStatus::Success } else { ExitStatus::Error };
    if files.is_empty() {
        writeln!(std::io::stdout(), "No answers wait for a grade.")?;
        return Ok(done(skipped));
    }
    let bank = ctx.bank()?;
    let rt = ctx.runtime()?;
    let chosen = ctx.grader(&rt)?;
    eprintln!("{}", ctx.err_style.dim(&chosen.announcement));
    let interactive = std::io::IsTerminal::is_terminal(&std::io::stdin());
    let mut out = std::io::stdout().lock();
    let mut graded = 0;
    for path in files {
        // Locked before it is read: the grades are added to the latest copy, and nobody
        // else rewrites the file meanwhile. Over many sessions one in use is left for
        // later rather than holding up the rest.
        let (_lock, mut t) = if one.is_some() {
            let lock = SessionLock::acquire(&path, "grill regrade", LOCK_WAIT)?;
            (lock, Store::load(&path)?)
        } else {
            match SessionLock::try_acquire(&path, "grill regrade --pending").and_then(|l| Ok((l, Store::load(&path)?)))
            {
                Ok(held) => held,
                Err(TranscriptError::Locked { holder, .. }) => {
                    let warning = ctx.err_style.warn("warning:");
                    eprintln!(
                        "{warning} skipped {}: in use by another grill ({}); `grill regrade --pending` grades it later",
                        shown(&path),
                        crate::scrub::controls(&holder)
                    );
                    skipped = skipped.saturating_add(1);
                    continue;
                }
                Err(e) => {
                    index::warn_skipped(&[e], &ctx.err_style);
                    skipped = skipped.saturating_add(1);
                    continue;
                }
            }
        };
        let heading = format!("Session {} ({})", crate::scrub::controls(&t.id), shown(&path));
        writeln!(out, "{}", ctx.style.bold(&heading))?;
        for i in 0..t.turns.len() {
            let turn = &t.turns[i];
            let Some(answer) = turn.answer.clone() else { continue };
            let pending = !matches!(turn.latest_grade().map(|g| &g.grade), Some(Grade::Graded { .. }));
            if args.pending && !pending {
                continue;
            }
            let Some(question) = bank.get(&turn.question_id) else {
                writeln!(
                    out,
                    "  {}: not in the bank any more; left as it was",
                    crate::scrub::controls(&turn.question_id)
                )?;
                continue;
            };
            let changed = !question.unchanged_since(&turn.question_hash);
            let prompt = Prompt::for_turn(question, turn);
            let record = ctx.grade(&rt, &chosen.grader, &prompt.asked(), &answer, interactive);
            let label = match (&turn.follow_up_id, &turn.generated_for) {
                (Some(f), _) => format!("{} › {f}", turn.question_id),
                (None, Some(k)) => format!("{} › (generated, {k})", turn.question_id),
                _ => turn.question_id.clone(),
            };
            writeln!(out, "  {}", diff(&label, turn.latest_graders_grade().map(|(_, g)| g), &record))?;
            if changed {
                writeln!(
                    out,
                    "    {}",
                    ctx.style.dim(
                        "(the question has changed in the bank since it was asked: graded against the current rubric)"
                    )
                )?;
            }
            // The user's word outranks any grader's, a new one included: say so, and how
            // to give it again on the new grade.
            if let Some(own) = turn.grades.iter().rev().find(|g| g.grader.is_user()) {
                let number = t.turns[..=i].iter().filter(|x| x.answer.is_some()).count();
                let score = own.grade.score().map_or_else(|| crate::words::UNGRADED.to_string(), crate::words::score);
                let note = format!(
                    "(your own verdicts ({score}) still count; `grill review dispute {} {number}` reviews the new grade)",
                    crate::scrub::controls(&t.id)
                );
                writeln!(out, "    {}", ctx.style.dim(&note))?;
            }
            t.turns[i].grades.push(record);
            t.updated_at = crate::util::now();
            store.save(&t, &path)?;
            graded += 1;
        }
    }
    if graded == 0 && args.session.is_some() {
        return Err(UserError::new("that session has no answers to grade").into());
    }
    writeln!(out, "Graded {graded} answer(s) again; earlier grades are kept in the transcripts.")?;
    Ok(done(skipped))
}

/// "gil: 62 → 71; what-it-is: partial → met" — the score and every verdict that changed.
pub fn diff(label: &str, old: Option<&GradeRecord>, new: &GradeRecord) -> String {
    let show = |g: Option<&Grade>| match g {
        Some(Grade::Graded { score, .. }) => score.to_string(),
        Some(Grade::Ungraded { .. }) | None => crate::words::UNGRADED.into(),
    };
    let mut parts = vec![format!("{label}: {} → {}", show(old.map(|o| &o.grade)), show(Some(&new.grade)))];
    if let (Some(a), Some(b)) = (old.and_then(|o| o.grade.assessment()), new.grade.assessment()) {
        for nv in &b.key_points {
            if let Some(ov) = a.key_points.iter().find(|k| k.id == nv.id)
                && ov.verdict != nv.verdict
            {
                parts.push(format!("{}: {} → {}", nv.id, ov.verdict, nv.verdict));
            }
        }
    }
    if let Grade::Ungraded { reason, .. } = &new.grade {
        parts.push(format!("({reason})"));
    }
    parts.join("; ")
}
