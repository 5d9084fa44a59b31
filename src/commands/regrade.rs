//! `grill regrade`: grade saved answers again with the grader in use. The new grade is
//! added beside the old ones, never over them, and what changed is shown.

use std::io::Write;
use std::path::PathBuf;

use crate::cli::RegradeArgs;
use crate::error::{ExitStatus, UserError};
use crate::grade::{Grade, Verdict};
use crate::review::index;
use crate::session::Prompt;
use crate::transcript::{GradeRecord, Store};

use super::Context;

/// Re-grades one session, or every pending answer.
pub fn run(ctx: &Context, args: &RegradeArgs) -> anyhow::Result<ExitStatus> {
    let store = Store::new(&ctx.settings.transcripts.value);
    let files: Vec<PathBuf> = match &args.session {
        Some(key) if !args.pending => vec![index::find(&store, key)?],
        _ => {
            let (all, _) = index::load(&store);
            all.into_iter().filter(|(_, s)| s.turns.iter().any(|t| t.pending)).map(|(p, _)| p).collect()
        }
    };
    if files.is_empty() {
        println!("No answers wait for a grade.");
        return Ok(ExitStatus::Success);
    }
    let bank = ctx.bank()?;
    let rt = ctx.runtime()?;
    let chosen = ctx.grader(&rt)?;
    eprintln!("{}", ctx.err_style.dim(&chosen.announcement));
    let interactive = std::io::IsTerminal::is_terminal(&std::io::stdin());
    let mut out = std::io::stdout().lock();
    let mut graded = 0;
    for path in files {
        let mut t = Store::load(&path)?;
        writeln!(out, "{}", ctx.style.bold(&format!("Session {} ({})", t.id, path.display())))?;
        for i in 0..t.turns.len() {
            let turn = &t.turns[i];
            let Some(answer) = turn.answer.clone() else { continue };
            let pending = !matches!(turn.latest_grade().map(|g| &g.grade), Some(Grade::Graded { .. }));
            if args.pending && !pending {
                continue;
            }
            let Some(question) = bank.get(&turn.question_id) else {
                writeln!(out, "  {}: not in the bank any more; left as it was", turn.question_id)?;
                continue;
            };
            let changed = question.content_hash() != turn.question_hash;
            let prompt = Prompt::for_turn(question, turn);
            let record = ctx.grade(&rt, &chosen.grader, &prompt.asked(), &answer, interactive);
            let label = match (&turn.follow_up_id, &turn.generated_for) {
                (Some(f), _) => format!("{} › {f}", turn.question_id),
                (None, Some(k)) => format!("{} › (generated, {k})", turn.question_id),
                _ => turn.question_id.clone(),
            };
            writeln!(out, "  {}", diff(&label, turn.latest_grade(), &record))?;
            if changed {
                writeln!(
                    out,
                    "    {}",
                    ctx.style.dim(
                        "(the question has changed in the bank since it was asked: graded against the current rubric)"
                    )
                )?;
            }
            t.turns[i].grades.push(record);
            t.updated_at = crate::transcript::now();
            store.save(&t, &path)?;
            graded += 1;
        }
    }
    if graded == 0 && args.session.is_some() {
        return Err(UserError::new("that session has no answers to grade").into());
    }
    writeln!(out, "Graded {graded} answer(s) again; earlier grades are kept in the transcripts.")?;
    Ok(ExitStatus::Success)
}

/// "gil: 62 → 71; what-it-is: partial → met" — the score and every verdict that changed.
pub fn diff(label: &str, old: Option<&GradeRecord>, new: &GradeRecord) -> String {
    let show = |g: Option<&Grade>| match g {
        Some(Grade::Graded { score, .. }) => score.to_string(),
        Some(Grade::Ungraded { .. }) => "ungraded".into(),
        None => "not graded".into(),
    };
    let mut parts = vec![format!("{label}: {} → {}", show(old.map(|o| &o.grade)), show(Some(&new.grade)))];
    if let (Some(a), Some(b)) = (old.and_then(|o| o.grade.assessment()), new.grade.assessment()) {
        let name = |v: Verdict| format!("{v:?}").to_lowercase();
        for nv in &b.key_points {
            if let Some(ov) = a.key_points.iter().find(|k| k.id == nv.id)
                && ov.verdict != nv.verdict
            {
                parts.push(format!("{}: {} → {}", nv.id, name(ov.verdict), name(nv.verdict)));
            }
        }
    }
    if let Grade::Ungraded { reason, .. } = &new.grade {
        parts.push(format!("({reason})"));
    }
    parts.join("; ")
}
