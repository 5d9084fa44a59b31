//! The practice loop: reads answers from a source, feeds the state machine, grades each
//! answer before asking on, shows results and saves the transcript after every answer and
//! every grade.

use std::io::{self, Write};
use std::path::PathBuf;

use super::checklist;
use super::input::AnswerSource;
use super::turn::{self, Outcome, handle, rescue, show_turn};
use crate::bank::Question;
use crate::grade::record::GradeRecord;
use crate::grade::{Grade, PointVerdict};
use crate::render;
use crate::session::{Advance, GradeJob, ReviewJob, Session, Step};
use crate::style::{Style, wrap};
use crate::transcript::{Status, Store, TranscriptError};

/// Grades one job: the command decides how (which grader, spinner, Ctrl-C). The grader
/// hands the second argument each key point's provisional verdict as it is settled.
pub type GradeFn<'a> = dyn FnMut(&GradeJob<'_>, &mut dyn FnMut(&PointVerdict)) -> GradeRecord + 'a;

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
    /// Whether to ask how sure the user is of each answer before its grade shows.
    pub confidence: bool,
}

impl Shell<'_> {
    /// Saves the session, once it holds something worth keeping.
    fn save(&self, session: &Session<'_>) -> Result<(), TranscriptError> {
        if session.is_empty() {
            return Ok(());
        }
        self.store.save(session.transcript(), &self.path)
    }
}

/// Runs the session until it is done, the input ends, or the user quits or presses
/// Ctrl-C. Returns how it ended; the transcript is saved at every step, or, when nothing
/// was answered, skipped or drafted, not kept at all.
pub fn drive(
    session: &mut Session<'_>,
    source: &mut dyn AnswerSource,
    shell: &mut Shell<'_>,
) -> anyhow::Result<Status> {
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
                // Told after it is graded: nothing is shown early here.
                let record = (shell.grade)(&job, &mut |_| {});
                writeln!(shell.out, "\n{}", style.dim("(grading the answer saved before the session stopped)"))?;
                write!(shell.out, "{}", render::grade(&style, &job.prompt.rubric(), &record))?;
                let advance = session.record_grade(job.turn, record);
                shell.save(session)?;
                if let Some(q) = advance.finished {
                    show_reference(shell, q)?;
                }
                continue;
            }
            Step::Reviewing(_) => {
                let job = session.review_job().expect("a reviewing step has its grade");
                writeln!(
                    shell.out,
                    "\n  {}",
                    style.dim("Check the verdicts: the offline grader measures coverage, not correctness.")
                )?;
                let advance = own_word(session, source, shell, &job)?;
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
            show_turn(shell.out, style, session, source, None)?;
            shown = Some(turn);
        }
        shell.out.flush()?;
        let asked = session.prompt().map(|p| p.text().to_string()).unwrap_or_default();
        let input = source.read(&asked)?;
        match handle(input, session, source, shell.out, style)? {
            Outcome::Unchanged => {}
            Outcome::Changed => shell.save(session)?,
            Outcome::Dispute => match session.dispute_job() {
                Some(job) => {
                    own_word(session, source, shell, &job)?;
                    // The question went up the screen with the checklist: ask it again.
                    shown = None;
                }
                None => writeln!(
                    shell.out,
                    "  {}",
                    style.dim("Nothing to dispute yet: :dispute reviews the last graded answer.")
                )?,
            },
            Outcome::Submitted(job) => {
                // Saved before grading, so the answer survives whatever grading does.
                if let Err(e) = shell.save(session) {
                    return Err(rescue(&session.transcript().id, &job.answer, e));
                }
                if shell.confidence
                    && let Some(level) = ask_confidence(shell, source)?
                {
                    session.record_confidence(job.turn, level);
                    shell.save(session)?;
                }
                let rubric = job.prompt.rubric();
                let mut early = 0;
                let out = &mut *shell.out;
                let mut show = |p: &PointVerdict| {
                    // A line that cannot be written is no reason to stop a grading: the
                    // grade screen below says it all again.
                    let blank = if early == 0 { "\n" } else { "" };
                    let _ = write!(out, "{blank}{}", render::early_point(&style, &rubric, p));
                    let _ = out.flush();
                    early += 1;
                };
                let record = (shell.grade)(&job, &mut show);
                writeln!(shell.out)?;
                write!(shell.out, "{}", render::grade(&style, &job.prompt.rubric(), &record))?;
                if matches!(record.grade, Grade::Ungraded { .. }) {
                    writeln!(
                        shell.out,
                        "  {}",
                        style.dim("The answer is saved; `grill regrade --pending` grades it later.")
                    )?;
                }
                let advance = session.record_grade(job.turn, record);
                shell.save(session)?;
                if let Some(q) = advance.finished {
                    show_reference(shell, q)?;
                }
            }
            Outcome::Skipped(advance) => {
                shell.save(session)?;
                if let Some(q) = advance.finished {
                    show_reference(shell, q)?;
                }
            }
            Outcome::Ended => {
                shell.save(session)?;
                break;
            }
        }
    }
    if session.is_empty() {
        turn::discard(&shell.path)?;
        writeln!(shell.out, "\n{}", turn::NOT_SAVED)?;
    } else {
        summary(session, shell)?;
    }
    Ok(session.transcript().status)
}

/// Opens the checklist on `job`'s grade and records the user's word, if they give it,
/// beside the grade reviewed; saved at once.
fn own_word<'b>(
    session: &mut Session<'b>,
    source: &mut dyn AnswerSource,
    shell: &mut Shell<'_>,
    job: &ReviewJob<'_>,
) -> anyhow::Result<Advance<'b>> {
    let turn = &session.transcript().turns[job.turn];
    let reviewed = turn.grades[job.reviewed].clone();
    if turn.grades.iter().any(|g| g.grader.is_user()) {
        writeln!(
            shell.out,
            "\n  {}",
            shell.style.dim("(you gave your word on this answer before; this adds a newer one)")
        )?;
    }
    let echo = !source.interactive();
    let mut read = |prompt: &str| source.line(prompt);
    let label = checklist::label(&job.prompt);
    let grade = checklist::review(shell.out, shell.style, &label, job.prompt.rubric(), &reviewed, &mut read, echo)?;
    let advance = session.record_own_word(job, grade);
    shell.save(session)?;
    Ok(advance)
}

/// How sure the user is of the answer just given, 1 to 4, asked before its grade shows;
/// `None` when they give none (Enter, the end of input). A person is asked again after a
/// reply that is not 1 to 4; a script's reply is taken once.
fn ask_confidence(shell: &mut Shell<'_>, source: &mut dyn AnswerSource) -> io::Result<Option<u8>> {
    const ASK: &str = "How sure are you? 1 guessing, 2 unsure, 3 fairly sure, 4 certain (Enter: no answer)";
    loop {
        writeln!(shell.out, "{}", shell.style.dim(ASK))?;
        shell.out.flush()?;
        let Some(reply) = source.read_reply("confidence> ")? else { return Ok(None) };
        match reply.as_str() {
            "" => return Ok(None),
            "1" | "2" | "3" | "4" => return Ok(reply.parse().ok()),
            _ if !source.interactive() => return Ok(None),
            _ => {}
        }
    }
}

fn show_reference(shell: &mut Shell<'_>, q: &Question) -> io::Result<()> {
    let style = shell.style;
    writeln!(shell.out, "\n  {}", style.bold(&format!("Reference answer for {}:", q.id)))?;
    write!(shell.out, "{}", wrap(&q.reference_answer, "    "))?;
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
        let mut result = crate::view::result(turn);
        if turn.latest_grade().is_some_and(|g| g.grader.is_user()) {
            result.push_str(" (your verdicts)");
        }
        writeln!(shell.out, "  {label:<48} {result}")?;
    }
    if let Some(mean) = t.mean_score() {
        writeln!(shell.out, "  {:<48} {mean:.0}/100", "mean")?;
    }
    writeln!(shell.out, "Saved to {}", shell.path.display())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;
    use std::time::Instant;

    use super::*;
    use crate::bank::{Bank, BankSource, Selection};
    use crate::grade::grader::Grader;
    use crate::grade::record::GraderInfo;
    use crate::repl::input::Input;
    use crate::session::{Clock, Options};
    use crate::transcript::{SCHEMA_VERSION, SessionMode, Transcript};

    const BANK: &str = r#"
[[question]]
id = "q1"
topic = "t"
level = "senior"
prompt = "Write f."
testing = "Writing f."
reference_answer = "def f(): return 1"
[[question.key_points]]
id = "returns"
point = "It returns one."
cues = ["return 1", "returns one"]
"#;

    /// Answers from a list, as a person at a terminal would give them; notes every draft
    /// put back in the edit buffer.
    struct Fake {
        inputs: VecDeque<Input>,
        interactive: bool,
        restored: Vec<String>,
        /// Lines of keys for the checklist.
        lines: VecDeque<String>,
    }

    impl Fake {
        fn new(interactive: bool, inputs: impl IntoIterator<Item = Input>) -> Fake {
            Fake { inputs: inputs.into_iter().collect(), interactive, restored: Vec::new(), lines: VecDeque::new() }
        }
    }

    impl AnswerSource for Fake {
        fn read(&mut self, _asked: &str) -> io::Result<Input> {
            Ok(self.inputs.pop_front().unwrap_or(Input::End))
        }
        fn interactive(&self) -> bool {
            self.interactive
        }
        fn restore(&mut self, draft: &str) -> bool {
            self.restored.push(draft.to_string());
            self.interactive
        }
        fn line(&mut self, _prompt: &str) -> io::Result<Option<String>> {
            Ok(self.lines.pop_front())
        }
    }

    fn bank() -> Bank {
        Bank::from_files([("t.toml".to_string(), BANK.to_string())], BankSource::Embedded).unwrap()
    }

    fn transcript() -> Transcript {
        let at = chrono::DateTime::parse_from_rfc3339("2026-01-31T10:00:00+01:00").unwrap();
        Transcript {
            schema_version: SCHEMA_VERSION,
            grill_version: "test".into(),
            id: "abc".into(),
            started_at: at,
            updated_at: at,
            status: Status::InProgress,
            mode: SessionMode::Practice,
            time_limit_secs: None,
            grader: Grader::Offline.info(),
            bank: "test".into(),
            selection: Selection::default(),
            follow_ups: 0,
            plan: vec![],
            turns: vec![],
        }
    }

    const OPTS: Options = Options { follow_ups: 0, wait_for_grades: true, generate_follow_ups: false };

    /// Runs `session` against `source` in `dir`; what was printed, with the folder as
    /// `[DIR]`.
    fn run(dir: &std::path::Path, session: &mut Session<'_>, source: &mut Fake) -> (Status, String) {
        let store = Store::new(dir);
        let mut out = Vec::new();
        let mut grade =
            |_: &GradeJob<'_>, _: &mut dyn FnMut(&PointVerdict)| Grader::Offline.interrupted(Instant::now());
        let mut follow_up = |_: &str, _: &str| None;
        let mut shell = Shell {
            out: &mut out,
            style: Style::plain(),
            store: &store,
            path: dir.join("s.json"),
            grade: &mut grade,
            follow_up: &mut follow_up,
            confidence: false,
        };
        let status = drive(session, source, &mut shell).unwrap();
        (status, String::from_utf8(out).unwrap().replace(&dir.display().to_string(), "[DIR]"))
    }

    const ASKED: &str = "\n── Question 1 of 1 · t · senior ────────────────────────────\nWrite f.\n";
    const HOW: &str = "(finish with a line holding only \".\" · :hint :ref :skip :edit :dispute :help :quit)\n";
    const SUMMARY: &str = "\n── Session summary ─────────────────────────────────────────\n";

    fn saved(dir: &std::path::Path) -> Transcript {
        Store::load(&dir.join("s.json")).unwrap()
    }

    #[test]
    fn ctrl_c_keeps_the_draft_puts_it_back_and_a_second_one_quits() {
        let dir = tempfile::tempdir().unwrap();
        let b = bank();
        let mut s = Session::start(b.questions().iter().collect(), OPTS, transcript(), Clock::system());
        let draft = "def f():\n    return";
        // The second Ctrl-C comes with the buffer as it was put back: nothing new typed.
        let mut fake = Fake::new(true, [Input::Interrupted(draft.into()), Input::Interrupted(draft.into())]);
        let (status, out) = run(dir.path(), &mut s, &mut fake);
        assert_eq!(status, Status::Interrupted);
        assert_eq!(fake.restored, [draft], "the draft goes back in the edit buffer once");
        assert_eq!(
            out,
            format!(
                "{ASKED}{HOW}(draft saved; Ctrl-C again quits, and `grill resume` brings it back)\n\
                 {SUMMARY}  q1                                               draft saved\nSaved to [DIR]/s.json\n"
            )
        );
        let t = saved(dir.path());
        assert_eq!((t.status, t.turns[0].draft.as_deref()), (Status::Interrupted, Some(draft)));

        // Resumed in a terminal, the draft is put back in the edit buffer at once.
        let mut r = Session::resume(b.questions().iter().collect(), OPTS, t.clone(), Clock::system());
        let mut fake = Fake::new(true, [Input::Command(crate::repl::command::Command::Quit)]);
        run(dir.path(), &mut r, &mut fake);
        assert_eq!(fake.restored, [draft]);

        // Resumed from a script, it is shown instead, and kept until an answer replaces it.
        let mut r = Session::resume(b.questions().iter().collect(), OPTS, t, Clock::system());
        let mut fake = Fake::new(false, [Input::End]);
        let (_, out) = run(dir.path(), &mut r, &mut fake);
        assert_eq!(
            out,
            format!(
                "{ASKED}  (your draft from before, kept until you answer:)\n    def f():\n        return\n\
                 {SUMMARY}  q1                                               draft saved\nSaved to [DIR]/s.json\n"
            )
        );
        assert_eq!(saved(dir.path()).turns[0].draft.as_deref(), Some(draft));
    }

    #[test]
    fn a_session_left_empty_is_not_saved_and_its_old_file_goes() {
        let dir = tempfile::tempdir().unwrap();
        let b = bank();
        let path = dir.path().join("s.json");
        // An empty session an earlier version saved: resumed and left empty again.
        std::fs::write(&path, "{}").unwrap();
        let mut s = Session::start(b.questions().iter().collect(), OPTS, transcript(), Clock::system());
        let mut fake =
            Fake::new(true, [Input::Command(crate::repl::command::Command::Hint), Input::Interrupted("".into())]);
        let (status, out) = run(dir.path(), &mut s, &mut fake);
        assert_eq!(status, Status::Interrupted);
        assert_eq!(
            out,
            format!(
                "{ASKED}{HOW}  hint:\n    The interviewer wants to see: Writing f.\n\n\
                 Nothing was answered: the session was not saved.\n"
            )
        );
        assert!(!path.exists());
    }

    #[test]
    fn an_answer_written_in_the_editor_is_shown_before_it_is_graded() {
        let dir = tempfile::tempdir().unwrap();
        let b = bank();
        let mut s = Session::start(b.questions().iter().collect(), OPTS, transcript(), Clock::system());
        let answer = "def f():\n    return 1  # one";
        let mut fake = Fake::new(true, [Input::Edited(answer.into())]);
        let (_, out) = run(dir.path(), &mut s, &mut fake);
        let graded = &saved(dir.path()).turns[0];
        assert_eq!(graded.answer.as_deref(), Some(answer));
        let rubric = b.questions()[0].rubric();
        let grade = render::grade(&Style::plain(), &rubric, &graded.grades[0]);
        assert_eq!(
            out,
            format!(
                "{ASKED}{HOW}    def f():\n        return 1  # one\n\n{grade}  \
                 The answer is saved; `grill regrade --pending` grades it later.\n\n  \
                 Reference answer for q1:\n    def f(): return 1\n\
                 {SUMMARY}  q1                                               ungraded\nSaved to [DIR]/s.json\n"
            )
        );
    }

    /// The confirm step through the state machine and the input layer, as a terminal
    /// drives it: the offline grade, the checklist, one key flipping a verdict, the result,
    /// and both grades saved.
    #[test]
    fn an_offline_grade_opens_the_checklist_and_the_users_word_is_saved_beside_it() {
        let dir = tempfile::tempdir().unwrap();
        let b = bank();
        let mut s =
            Session::start(b.questions().iter().collect(), OPTS, transcript(), Clock::system()).with_confirm(true);
        let mut fake = Fake::new(true, [Input::Answer("def f(): pass".into())]);
        fake.lines = ["2".into(), "1m".into(), "".into()].into();
        let store = Store::new(dir.path());
        let mut out = Vec::new();
        let mut grade = |job: &GradeJob<'_>, _: &mut dyn FnMut(&PointVerdict)| GradeRecord {
            grade: crate::grade::offline::grade(&job.prompt.rubric(), &job.answer),
            ..Grader::Offline.interrupted(Instant::now())
        };
        let mut follow_up = |_: &str, _: &str| None;
        let mut shell = Shell {
            out: &mut out,
            style: Style::plain(),
            store: &store,
            path: dir.path().join("s.json"),
            grade: &mut grade,
            follow_up: &mut follow_up,
            confidence: false,
        };
        drive(&mut s, &mut fake, &mut shell).unwrap();
        let out = String::from_utf8(out).unwrap();
        let list = |mark: &str, score: &str| {
            format!(
                "\n── Your verdicts on q1 ─────────────────────────────────────\n  1  {mark}It returns one.\n{score}\
                 \x20 Enter accepts · 2 cycles point 2 · 2m 2p 2x set it · f1 clears a flag · ? keys · q leaves\n"
            )
        };
        let missed = list("✗ missed   ", "  Score: 0/100  (the offline grader said 0)\n");
        let met = list(
            "✓ met      ",
            "                (the offline grader said ✗ missed)\n  Score: 100/100  (the offline grader said 0)\n",
        );
        let expected = format!(
            "\n  Check the verdicts: the offline grader measures coverage, not correctness.\n{missed}{missed}\
             \x20 `2`: there is no point 2; points are 1 to 1\n{met}\
             \x20 Your verdicts: 100/100  (the offline grader said 0)\n    missed → met: It returns one.\n"
        );
        assert!(out.contains(&expected), "{out}");
        assert!(out.contains("  q1                                               100/100 (your verdicts)\n"), "{out}");
        let t = saved(dir.path());
        let grades: Vec<_> = t.turns[0].grades.iter().map(|g| (g.grader.clone(), g.grade.score())).collect();
        assert_eq!(grades, [(Grader::Offline.info(), Some(0)), (GraderInfo::User { reviewed: 0 }, Some(100))]);
    }
}
