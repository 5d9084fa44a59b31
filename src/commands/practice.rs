//! `grill practice`: ask, grade after each answer, follow up, save.

use std::io::{IsTerminal, Write};

use crate::bank::{Bank, Question, Selection, select};
use crate::cli::PracticeArgs;
use crate::error::ExitStatus;
use crate::grade::grader::Grader;
use crate::repl::input::{AnswerSource, Blocks, Terminal};
use crate::repl::practice::{Shell, drive};
use crate::review::schedule;
use crate::session::{Clock, GradeJob, Options, Session};
use crate::transcript::{LOCK_WAIT, SCHEMA_VERSION, SessionLock, SessionMode, Status, Store, Transcript};
use crate::util::now;

use super::Context;

/// Runs a practice session.
pub fn run(ctx: &Context, args: &PracticeArgs) -> anyhow::Result<ExitStatus> {
    let bank = ctx.bank()?;
    let store = Store::new(&ctx.settings.transcripts.value);
    let Some((questions, selection)) = choose(ctx, &bank, args)? else { return Ok(ExitStatus::Success) };
    let rt = ctx.runtime()?;
    let chosen = ctx.grader(&rt)?;
    eprintln!("{}", ctx.err_style.dim(&chosen.announcement));
    let chosen = ctx.start_check(&rt, chosen, std::io::IsTerminal::is_terminal(&std::io::stdin()))?;
    let transcript = new_transcript(&bank, &chosen.grader, selection, args.follow_ups, SessionMode::Practice);
    let mut session = Session::start(
        questions,
        Options {
            follow_ups: args.follow_ups,
            wait_for_grades: true,
            generate_follow_ups: chosen.grader.writes_follow_ups(),
        },
        transcript,
        Clock::system(),
    )
    // The user's word on each offline grade, asked only of a person at a terminal: a
    // script has no one to ask, and a model's grade is disputed on demand instead.
    .with_confirm(ctx.settings.confirm.value && std::io::stdin().is_terminal());
    let path = new_path(&store, &bank, &session);
    let lock = SessionLock::acquire(&path, "grill practice", LOCK_WAIT)?;
    run_session(ctx, &rt, chosen.grader, &store, (path, lock), &mut session, args.confidence)
}

/// The questions a new session asks, and the selection that chose them; `None` (after
/// saying why) when `--due` finds nothing due.
pub(super) fn choose<'b>(
    ctx: &Context,
    bank: &'b Bank,
    args: &PracticeArgs,
) -> anyhow::Result<Option<(Vec<&'b Question>, Selection)>> {
    let mut selection = Selection {
        topics: args.topics.clone(),
        questions: args.questions.clone(),
        level: args.level,
        count: args.count,
        seed: args.seed.unwrap_or_else(|| fastrand::u64(..)),
    };
    if args.due {
        match due_questions(ctx, bank, &selection) {
            Ok((ids, note)) => {
                writeln!(std::io::stdout(), "{note}")?;
                selection.questions = ids;
            }
            Err(message) => {
                writeln!(std::io::stdout(), "{message}")?;
                return Ok(None);
            }
        }
    }
    Ok(Some((select(bank, &selection)?, selection)))
}

/// An empty transcript for a new session.
pub(super) fn new_transcript(
    bank: &Bank,
    grader: &Grader,
    selection: Selection,
    follow_ups: usize,
    mode: SessionMode,
) -> Transcript {
    let started = now();
    Transcript {
        schema_version: SCHEMA_VERSION,
        grill_version: env!("CARGO_PKG_VERSION").to_string(),
        id: format!("{:08x}", fastrand::u32(..)),
        started_at: started,
        updated_at: started,
        status: Status::InProgress,
        mode,
        time_limit_secs: None,
        grader: grader.info(),
        bank: bank.source().to_string(),
        selection,
        follow_ups,
        plan: Vec::new(),
        turns: Vec::new(),
    }
}

/// Where a new session is saved: its time, a slug of what it asks, and its id.
pub(super) fn new_path(store: &Store, bank: &Bank, session: &Session<'_>) -> std::path::PathBuf {
    let slug = session.transcript().slug(|id| bank.get(id).map(|q| q.topic.clone()));
    store.path_for(session.transcript(), &slug)
}

/// Today's questions among those that pass the topic and level filters: the due ones,
/// weakest first, then never-seen ones (in bank order) while the day's allowance of new
/// questions (`new_per_day`) lasts, at most `count` in all, with a line saying how many
/// are due and how many are asked. `Err` says why nothing is asked, and when something
/// will be.
fn due_questions(ctx: &Context, bank: &Bank, sel: &Selection) -> Result<(Vec<String>, String), String> {
    let history = ctx.history();
    let pool: Vec<&str> = bank
        .questions()
        .iter()
        .filter(|q| (sel.topics.is_empty() || sel.topics.contains(&q.topic)) && sel.level.is_none_or(|l| q.level == l))
        .map(|q| &*q.id)
        .collect();
    if pool.is_empty() {
        return Err("No question passes the topic and level filters (`grill bank list` shows them).".into());
    }
    let items = history.schedule(bank, None);
    let now = now();
    let per_day = usize::try_from(ctx.settings.new_per_day.value).unwrap_or(usize::MAX);
    let count = sel.count.max(1);
    let t = schedule::today(&items, &pool, now, count, per_day);
    let new_today = |n: usize| format!("new today: {} of {per_day}", t.new_so_far + n);
    if !t.due.is_empty() || !t.new.is_empty() {
        let due = match (t.due_total, t.due.len()) {
            (0, _) => "Nothing is due".to_string(),
            (total, asked) if asked < total => format!("{total} due; asking the {asked} weakest (--count {count})"),
            (total, _) => format!("{total} due; asking all {total}"),
        };
        let new = match t.new.len() {
            0 => String::new(),
            n if t.due_total == 0 => format!("; asking {n} new ({})", new_today(n)),
            n => format!(", and {n} new ({})", new_today(n)),
        };
        return Ok((t.due.into_iter().chain(t.new).collect(), format!("{due}{new}.")));
    }
    let due = match &t.next {
        Some((id, at)) => format!("Nothing is due. Next: {id} on {}.", at.format("%Y-%m-%d")),
        None if t.unseen == 0 || per_day == 0 => {
            "Nothing is due yet: questions enter the schedule once answered and graded.".to_string()
        }
        None => "Nothing is due.".to_string(),
    };
    let tomorrow = now.date_naive().succ_opt().map_or_else(String::new, |d| format!(" ({d})"));
    let new = if per_day == 0 {
        " New questions are off (`new_per_day` is 0).".to_string()
    } else if t.unseen == 0 {
        " No question is new: every one that passes the filters has been answered.".to_string()
    } else {
        format!(" No new question today ({}); more come in tomorrow{tomorrow}.", new_today(0))
    };
    Err(format!("{due}{new}"))
}

/// Where answers come from: the terminal (with history), or blocks on piped standard
/// input; and whether it is the terminal.
pub(super) fn answer_source(ctx: &Context) -> anyhow::Result<(Box<dyn AnswerSource>, bool)> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        let history = ctx.settings.data_dir.as_ref().map(|d| d.join("history.txt"));
        Ok((Box::new(Terminal::new(history)?), true))
    } else {
        Ok((Box::new(Blocks::new(stdin.lock())), false))
    }
}

/// Drives `session` in the terminal (or on piped stdin) to its end, saving to `path`,
/// whose lock this process holds until the session ends.
pub(super) fn run_session(
    ctx: &Context,
    rt: &tokio::runtime::Runtime,
    grader: Grader,
    store: &Store,
    (path, _lock): (std::path::PathBuf, SessionLock),
    session: &mut Session<'_>,
    confidence: bool,
) -> anyhow::Result<ExitStatus> {
    crate::util::remove_stale_temps(store.dir(), crate::util::STALE_TEMP_AGE);
    let (mut source, interactive) = answer_source(ctx)?;
    let mut grade = |job: &GradeJob<'_>, progress: &mut dyn FnMut(&crate::grade::PointVerdict)| {
        ctx.grade_showing(rt, &grader, &job.prompt.asked(), &job.answer, interactive, progress)
    };
    let mut follow_up = |prompt: &str, point: &str| rt.block_on(grader.follow_up(prompt, point));
    let mut stdout = std::io::stdout().lock();
    let mut shell = Shell {
        out: &mut stdout,
        style: ctx.style,
        store,
        path,
        grade: &mut grade,
        follow_up: &mut follow_up,
        confidence,
    };
    let status = drive(session, source.as_mut(), &mut shell)?;
    Ok(if status == Status::Interrupted { ExitStatus::Interrupted } else { ExitStatus::Success })
}
