//! The interview loop: every question and follow-up is asked without a grade being shown;
//! each answer is graded in the background as soon as it is given, a few at a time, and
//! each grade is saved the moment it arrives. The report comes at the end.
//!
//! Two threads share the session behind one mutex: this one reads answers and a scoped
//! grading thread drives the async runtime. Both save through the same store, so the file
//! on disk always holds every answer and every grade received so far.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use tokio::sync::mpsc;

use super::input::AnswerSource;
use super::turn::{self, Outcome, handle, rescue, show_turn};
use crate::grade::grader::Grader;
use crate::session::{GradeJob, Session, Step};
use crate::style::Style;
use crate::transcript::{Status, Store, Transcript, TranscriptError};

/// What the interview works with.
pub struct Interview<'a> {
    /// Where questions are shown.
    pub out: &'a mut dyn Write,
    /// How they are painted.
    pub style: Style,
    /// The transcript folder.
    pub store: &'a Store,
    /// The transcript file of this session.
    pub path: PathBuf,
    /// Who grades.
    pub grader: &'a Grader,
    /// The runtime the grading thread drives (the grader's client belongs to it).
    pub rt: &'a tokio::runtime::Runtime,
    /// Answers graded at the same time, at most.
    pub jobs: usize,
    /// Whether answers come from a terminal: then a spinner shows while the last grades
    /// are awaited, and Ctrl-C stops waiting.
    pub interactive: bool,
}

/// How an interview ended.
#[derive(Debug)]
pub struct Ended {
    /// The session's status.
    pub status: Status,
    /// The transcript as saved.
    pub transcript: Transcript,
    /// Answers left without a grade: grading was stopped, or the endpoint failed.
    pub pending: usize,
    /// Why grading stopped early, when it did.
    pub grading_stopped: Option<String>,
    /// Whether the time limit ended the interview.
    pub time_up: bool,
    /// Whether Ctrl-C stopped the wait for the last grades.
    pub wait_interrupted: bool,
    /// Whether the session was kept: one with nothing answered, skipped or drafted is not
    /// (and its file, if an earlier run wrote one, is removed).
    pub saved: bool,
}

/// What the grading thread reports when it is done.
struct GradingEnd {
    /// Why it stopped sending answers, when it did.
    stopped: Option<String>,
    /// The first save that failed, if one did.
    save_error: Option<TranscriptError>,
    /// Whether Ctrl-C ended it.
    interrupted: bool,
}

/// Runs the interview to its end; answers already given but not graded (a resumed
/// interview) are graded first, in the background like the rest.
pub fn drive(session: Session<'_>, source: &mut dyn AnswerSource, iv: Interview<'_>) -> anyhow::Result<Ended> {
    let Interview { out, style, store, path, grader, rt, jobs, interactive } = iv;
    let shared = Mutex::new(session);
    // Nothing is written until the session holds something worth keeping.
    let save = |s: &Session<'_>| if s.is_empty() { Ok(()) } else { store.save(s.transcript(), &path) };
    let waiting = ProgressBar::hidden();
    let (tx, rx) = mpsc::unbounded_channel::<GradeJob<'_>>();
    let input_done = tokio::sync::Notify::new();
    let (asked, grading) = std::thread::scope(|scope| {
        let worker = scope.spawn(|| {
            rt.block_on(grade_in_background(rx, &input_done, grader, &shared, &save, jobs, interactive, &waiting))
        });
        for job in lock(&shared).ungraded_jobs() {
            let _ = tx.send(job);
        }
        let asked = ask_all(&shared, source, out, style, &save, &tx);
        drop(tx);
        input_done.notify_one();
        let left = lock(&shared).ungraded_jobs().len();
        if left > 0 && asked.is_ok() {
            if interactive {
                waiting.set_draw_target(ProgressDrawTarget::stderr());
                waiting.set_style(
                    ProgressStyle::with_template(
                        "  {spinner} {msg} {elapsed}  (Ctrl-C leaves them for `grill regrade --pending`)",
                    )
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
                );
                waiting.enable_steady_tick(Duration::from_millis(120));
            }
            waiting.set_message(format!("grading the last {left} answer(s)…"));
        }
        let grading = worker.join();
        waiting.finish_and_clear();
        (asked, grading)
    });
    let time_up = asked?;
    let grading = grading.map_err(|_| anyhow::anyhow!("the grading thread failed; the answers are saved"))?;
    let session = shared.into_inner().unwrap_or_else(|e| e.into_inner());
    if let Some(e) = grading.save_error {
        return Err(e.into());
    }
    let saved = !session.is_empty();
    if !saved {
        turn::discard(&path)?;
    }
    let transcript = session.transcript().clone();
    let pending = session.ungraded_jobs().len();
    Ok(Ended {
        status: transcript.status,
        transcript,
        pending,
        grading_stopped: grading.stopped,
        time_up,
        wait_interrupted: grading.interrupted,
        saved,
    })
}

/// The session, even if a thread panicked while holding it: its transcript is still the
/// best record there is.
fn lock<'m, 'b>(m: &'m Mutex<Session<'b>>) -> std::sync::MutexGuard<'m, Session<'b>> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Asks every turn, sending each answer off to be graded. Returns whether the time
/// limit ended the interview.
fn ask_all<'b>(
    shared: &Mutex<Session<'b>>,
    source: &mut dyn AnswerSource,
    out: &mut dyn Write,
    style: Style,
    save: &dyn Fn(&Session<'_>) -> Result<(), TranscriptError>,
    tx: &mpsc::UnboundedSender<GradeJob<'b>>,
) -> anyhow::Result<bool> {
    save(&lock(shared))?;
    let mut shown: Option<usize> = None;
    loop {
        let asked = {
            let mut s = lock(shared);
            let turn = match s.step() {
                Step::Done => return Ok(false),
                Step::Asking(turn) => turn,
                // Interviews neither wait for grades nor generate follow-ups; a session in
                // either state has nothing more to ask here.
                Step::Grading(_) | Step::Reviewing(_) | Step::NeedsFollowUp => {
                    s.quit();
                    save(&s)?;
                    return Ok(false);
                }
            };
            if s.end_if_out_of_time() {
                save(&s)?;
                writeln!(out, "\n{}", style.warn("Time is up: no more questions."))?;
                return Ok(true);
            }
            if shown != Some(turn) {
                let note = s.time_left().map(|d| format!("{}:{:02} left", d.as_secs() / 60, d.as_secs() % 60));
                show_turn(out, style, &s, source, note.as_deref())?;
                shown = Some(turn);
            }
            s.prompt().map(|p| p.text().to_string()).unwrap_or_default()
        };
        out.flush()?;
        // The lock is not held while the user types, so grades are saved as they arrive.
        let input = source.read(&asked)?;
        let mut s = lock(shared);
        match handle(input, &mut s, source, out, style)? {
            Outcome::Unchanged => {}
            Outcome::Dispute => writeln!(
                out,
                "  {}",
                style.dim("An interview shows no grade until the end: `grill review dispute` reviews one after it.")
            )?,
            Outcome::Changed | Outcome::Skipped(_) => save(&s)?,
            Outcome::Submitted(job) => {
                if let Err(e) = save(&s) {
                    return Err(rescue(&s.transcript().id, &job.answer, e));
                }
                // The grading thread only ends after this one, so a send cannot fail
                // while the interview runs; if it ever did, the answer stays pending.
                let _ = tx.send(job);
            }
            Outcome::Ended => {
                save(&s)?;
                return Ok(false);
            }
        }
    }
}

/// Grades what arrives on `rx`, `jobs` at a time, recording and saving each grade as it
/// comes. Once the endpoint itself fails, later answers are not sent: they stay pending
/// for `grill regrade --pending`. After the input has closed, Ctrl-C (in a terminal)
/// stops waiting and leaves the answers still out pending.
#[allow(clippy::too_many_arguments)]
async fn grade_in_background<'b>(
    mut rx: mpsc::UnboundedReceiver<GradeJob<'b>>,
    input_done: &tokio::sync::Notify,
    grader: &Grader,
    shared: &Mutex<Session<'b>>,
    save: &(dyn Fn(&Session<'_>) -> Result<(), TranscriptError> + Sync),
    jobs: usize,
    interactive: bool,
    waiting: &ProgressBar,
) -> GradingEnd {
    let mut running = FuturesUnordered::new();
    let mut open = true;
    // Set once the input has ended: only then is Ctrl-C this loop's to take (while the
    // candidate types, the terminal reads Ctrl-C as a key and the session handles it).
    let mut waiting_only = false;
    let mut end = GradingEnd { stopped: None, save_error: None, interrupted: false };
    let ctrl_c = tokio::signal::ctrl_c();
    tokio::pin!(ctrl_c);
    loop {
        if !open && running.is_empty() {
            break;
        }
        tokio::select! {
            job = rx.recv(), if open && running.len() < jobs.max(1) => match job {
                // Left without a grade record, so `regrade --pending` finds it.
                Some(_) if end.stopped.is_some() => {}
                Some(job) => running.push(async move {
                    let (record, failed) = grader.grade_reporting(&job.prompt.asked(), &job.answer).await;
                    (job.turn, record, failed)
                }),
                None => open = false,
            },
            Some((turn, record, failed)) = running.next(), if !running.is_empty() => {
                if failed
                    && end.stopped.is_none()
                    && let crate::grade::Grade::Ungraded { reason, .. } = &record.grade
                {
                    end.stopped = Some(reason.clone());
                }
                let mut s = lock(shared);
                s.record_grade(turn, record);
                if let Err(e) = save(&s) {
                    end.save_error.get_or_insert(e);
                }
                let left = s.ungraded_jobs().len();
                waiting.set_message(format!("grading the last {left} answer(s)…"));
            },
            _ = input_done.notified(), if !waiting_only => waiting_only = true,
            _ = &mut ctrl_c, if waiting_only && interactive => {
                end.interrupted = true;
                break;
            }
        }
    }
    end
}
