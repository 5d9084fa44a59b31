//! The session as a state machine: which question or follow-up is asked, what happens to
//! an answer, hints, skips, drafts, the time limit and quitting. No I/O: the terminal
//! (`crate::repl`) or a test feeds it events and shows what it returns, the transcript it
//! keeps is saved by the caller, and the time comes from the [`Clock`] it is given.

pub mod checklist;
mod clock;

use std::time::Duration;

use chrono::{DateTime, FixedOffset};

use crate::ask::Prompt;
use crate::bank::{FollowUp, KeyPoint, Question};
use crate::grade::record::{GradeRecord, GraderInfo};
use crate::grade::{Grade, Verdict};
use crate::transcript::{Status, Transcript, Turn};
pub use clock::Clock;

/// How the session behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// Follow-ups asked per question at most.
    pub follow_ups: usize,
    /// Wait for each grade before asking on (practice), or ask on at once (interview).
    pub wait_for_grades: bool,
    /// Ask for a generated follow-up when the answer missed a key point that no
    /// remaining bank follow-up probes (needs a model).
    pub generate_follow_ups: bool,
}

/// What the session is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Waiting for the answer to this turn.
    Asking(usize),
    /// Waiting for the grade of this turn.
    Grading(usize),
    /// Waiting for the user's word on this turn's offline grade (see
    /// [`Session::with_confirm`]): [`Session::record_own_word`] moves on.
    Reviewing(usize),
    /// Waiting for a generated follow-up question aimed at [`Session::gap`].
    NeedsFollowUp,
    /// Nothing more to ask.
    Done,
}

/// An answer to be graded.
#[derive(Debug, Clone)]
pub struct GradeJob<'b> {
    /// The turn it belongs to.
    pub turn: usize,
    /// What was asked.
    pub prompt: Prompt<'b>,
    /// The answer.
    pub answer: String,
}

/// A grade put to the user for their word: the turn, which of its grades, and what was
/// asked (whose rubric the checklist lists).
#[derive(Debug, Clone)]
pub struct ReviewJob<'b> {
    /// The turn.
    pub turn: usize,
    /// The index of the grade reviewed among the turn's grades.
    pub reviewed: usize,
    /// What was asked.
    pub prompt: Prompt<'b>,
}

/// What a state change finished.
#[derive(Debug, Clone, Copy, Default)]
pub struct Advance<'b> {
    /// The question whose last turn just ended, if one did.
    pub finished: Option<&'b Question>,
}

/// What Ctrl-C did while an answer was being typed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interrupt {
    /// What was typed is kept as the turn's draft; the session goes on, and a second
    /// Ctrl-C with nothing new typed ends it.
    DraftKept,
    /// The session ended as interrupted.
    Ended,
}

/// A running session.
#[derive(Debug)]
pub struct Session<'b> {
    questions: Vec<&'b Question>,
    opts: Options,
    transcript: Transcript,
    clock: Clock,
    /// When this run of the session began (a resumed one: when it was resumed).
    began: DateTime<FixedOffset>,
    /// No new turn is asked from this time on.
    deadline: Option<DateTime<FixedOffset>>,
    /// Index into `questions` of the question being asked.
    cursor: usize,
    /// The turn index of the current question's main answer.
    main_turn: usize,
    step: Step,
    /// The key point a generated follow-up should target, while one is awaited.
    gap: Option<&'b KeyPoint>,
    /// Set when generation failed for the current question: do not ask again.
    generation_failed: bool,
    /// Whether an offline grade waits for the user's word before the session moves on.
    confirm: bool,
}

impl<'b> Session<'b> {
    /// Starts a session over `questions`, recording into `transcript` (whose turns must be
    /// empty) the times `clock` gives.
    pub fn start(questions: Vec<&'b Question>, opts: Options, mut transcript: Transcript, clock: Clock) -> Session<'b> {
        transcript.plan = questions.iter().map(|q| q.id.clone()).collect();
        // A session with no turns yet resumes at its first question.
        Session::resume(questions, opts, transcript, clock)
    }

    /// Picks up a saved session where it stopped: the turn that was being asked is asked
    /// again, an answer that was never graded is graded first, and otherwise the session
    /// moves on as if the last grade had just arrived.
    pub fn resume(
        questions: Vec<&'b Question>,
        opts: Options,
        mut transcript: Transcript,
        clock: Clock,
    ) -> Session<'b> {
        transcript.status = Status::InProgress;
        let began = clock.now();
        let mut s = Session {
            questions,
            opts,
            transcript,
            clock,
            began,
            deadline: None,
            cursor: 0,
            main_turn: 0,
            step: Step::Done,
            gap: None,
            generation_failed: false,
            confirm: false,
        };
        let Some(last) = s.transcript.turns.len().checked_sub(1) else {
            if s.questions.is_empty() {
                s.finish(Status::Completed);
            } else {
                s.ask(None);
            }
            return s;
        };
        let lt = &s.transcript.turns[last];
        s.cursor = s.questions.iter().position(|q| q.id == lt.question_id).unwrap_or(0);
        s.main_turn = (0..=last)
            .rev()
            .find(|&i| {
                let t = &s.transcript.turns[i];
                t.question_id == lt.question_id && t.follow_up_id.is_none() && t.generated_for.is_none()
            })
            .unwrap_or(last);
        if lt.skipped {
            s.next_question();
        } else if lt.answer.is_none() {
            s.step = Step::Asking(last);
        } else if lt.grades.is_empty() && s.opts.wait_for_grades {
            s.step = Step::Grading(last);
        } else {
            s.advance();
        }
        s
    }

    /// Ends the session once `limit` has passed since it began: no new turn is asked
    /// after that (see [`Session::end_if_out_of_time`]).
    pub fn with_time_limit(mut self, limit: Option<Duration>) -> Session<'b> {
        self.deadline = limit.map(|l| {
            chrono::Duration::from_std(l)
                .ok()
                .and_then(|l| self.began.checked_add_signed(l))
                .unwrap_or(DateTime::<FixedOffset>::MAX_UTC.fixed_offset())
        });
        self
    }

    /// Has each offline grade confirmed or corrected by the user before the session asks
    /// on: the offline grader measures coverage, not correctness, so the user's word on
    /// its checklist is what the schedule should follow. A model's grade is not held up
    /// (`:dispute` reviews it on demand).
    pub fn with_confirm(mut self, confirm: bool) -> Session<'b> {
        self.confirm = confirm;
        self
    }

    /// The time left before the limit, when there is one.
    pub fn time_left(&self) -> Option<Duration> {
        let deadline = self.deadline?;
        Some((deadline - self.clock.now()).to_std().unwrap_or(Duration::ZERO))
    }

    /// Ends the session (as quit) when its time is up. Checked between answers, never in
    /// the middle of one; returns whether it ended it.
    pub fn end_if_out_of_time(&mut self) -> bool {
        if self.step == Step::Done || self.time_left() != Some(Duration::ZERO) {
            return false;
        }
        self.quit();
        true
    }

    /// The grading job of the turn the session waits on, when it waits for a grade.
    pub fn pending_job(&self) -> Option<GradeJob<'b>> {
        let Step::Grading(turn) = self.step else { return None };
        let answer = self.transcript.turns[turn].answer.clone()?;
        Some(GradeJob { turn, prompt: self.prompt_of(turn), answer })
    }

    /// A grading job for every answer that has no grade yet, or only an ungraded one
    /// (an interview grades them in the background, in any order).
    pub fn ungraded_jobs(&self) -> Vec<GradeJob<'b>> {
        self.transcript
            .turns
            .iter()
            .enumerate()
            .filter(|(_, t)| !matches!(t.latest_grade().map(|g| &g.grade), Some(crate::grade::Grade::Graded { .. })))
            .filter(|(_, t)| self.questions.iter().any(|q| q.id == t.question_id))
            .filter_map(|(i, t)| Some(GradeJob { turn: i, prompt: self.prompt_of(i), answer: t.answer.clone()? }))
            .collect()
    }

    /// What the session is doing.
    pub fn step(&self) -> Step {
        self.step
    }

    /// The transcript so far.
    pub fn transcript(&self) -> &Transcript {
        &self.transcript
    }

    /// What is being asked, while a turn waits for its answer.
    pub fn prompt(&self) -> Option<Prompt<'b>> {
        match self.step {
            Step::Asking(turn) => Some(self.prompt_of(turn)),
            _ => None,
        }
    }

    fn prompt_of(&self, turn: usize) -> Prompt<'b> {
        let t = &self.transcript.turns[turn];
        let q_index = self.questions.iter().position(|q| q.id == t.question_id).unwrap_or(self.cursor);
        Prompt { number: q_index + 1, of: self.questions.len(), ..Prompt::for_turn(self.questions[q_index], t) }
    }

    /// Records the answer to the current turn and hands back the job of grading it.
    /// Returns `None` when no turn is waiting for an answer.
    pub fn submit(&mut self, answer: String) -> Option<(GradeJob<'b>, Advance<'b>)> {
        let Step::Asking(turn) = self.step else {
            return None;
        };
        let t = &mut self.transcript.turns[turn];
        t.answer = Some(answer.clone());
        t.answered_at = Some(self.clock.now());
        // The answer supersedes whatever draft led to it.
        t.draft = None;
        self.touch();
        let job = GradeJob { turn, prompt: self.prompt_of(turn), answer };
        let advance = if self.opts.wait_for_grades {
            self.step = Step::Grading(turn);
            Advance::default()
        } else {
            self.advance()
        };
        Some((job, advance))
    }

    /// Stores how sure the user said they were of `turn`'s answer, 1 to 4.
    pub fn record_confidence(&mut self, turn: usize, level: u8) {
        if let Some(t) = self.transcript.turns.get_mut(turn) {
            t.confidence = Some(level);
            self.touch();
        }
    }

    /// Stores a grade for a turn; when the session was waiting for it, moves on, or, for
    /// an offline grade with confirming on, waits for the user's word on it first.
    pub fn record_grade(&mut self, turn: usize, record: GradeRecord) -> Advance<'b> {
        let to_confirm =
            self.confirm && matches!(record.grader, GraderInfo::Offline { .. }) && record.grade.score().is_some();
        if let Some(t) = self.transcript.turns.get_mut(turn) {
            t.grades.push(record);
            self.touch();
        }
        if self.step != Step::Grading(turn) {
            return Advance::default();
        }
        if to_confirm {
            self.step = Step::Reviewing(turn);
            return Advance::default();
        }
        self.advance()
    }

    /// The grade waiting for the user's word, while the session waits for it.
    pub fn review_job(&self) -> Option<ReviewJob<'b>> {
        let Step::Reviewing(turn) = self.step else { return None };
        self.review_of(turn)
    }

    /// What `:dispute` reviews: the newest grader's grade of the last graded answer.
    pub fn dispute_job(&self) -> Option<ReviewJob<'b>> {
        let turn = (0..self.transcript.turns.len()).rev().find(|&i| self.review_of(i).is_some())?;
        self.review_of(turn)
    }

    fn review_of(&self, turn: usize) -> Option<ReviewJob<'b>> {
        let t = self.transcript.turns.get(turn)?;
        let (reviewed, record) = t.latest_graders_grade()?;
        record.grade.score()?;
        self.questions.iter().any(|q| q.id == t.question_id).then(|| ReviewJob {
            turn,
            reviewed,
            prompt: self.prompt_of(turn),
        })
    }

    /// The user's word on `job`'s grade: `Some` records it beside the grade reviewed (a
    /// grade of kind `self`, which from then on is the one that counts), `None` leaves the
    /// grades as they were. Either way a session waiting for that word moves on.
    pub fn record_own_word(&mut self, job: &ReviewJob<'_>, grade: Option<Grade>) -> Advance<'b> {
        if let (Some(grade), Some(t)) = (grade, self.transcript.turns.get_mut(job.turn)) {
            t.grades.push(GradeRecord::own_word(job.reviewed, grade, self.clock.now()));
            self.touch();
        }
        if self.step == Step::Reviewing(job.turn) { self.advance() } else { Advance::default() }
    }

    /// The next hint for the current turn: first what the interviewer is testing, then
    /// the key points one at a time, heaviest first. `None` when there are no more.
    pub fn hint(&mut self) -> Option<String> {
        let Step::Asking(turn) = self.step else {
            return None;
        };
        let prompt = self.prompt_of(turn);
        let rubric = prompt.rubric();
        let mut points: Vec<_> = rubric.key_points.iter().collect();
        points.sort_by_key(|k| std::cmp::Reverse(k.weight));
        let given = self.transcript.turns[turn].hints.len();
        let hint = if given == 0 {
            format!("The interviewer wants to see: {}", rubric.testing)
        } else {
            format!("A strong answer covers: {}", points.get(given - 1)?.point)
        };
        self.transcript.turns[turn].hints.push(hint.clone());
        self.touch();
        Some(hint)
    }

    /// The reference answer for the current turn; noted in the transcript when shown
    /// before answering.
    pub fn reference(&mut self) -> Option<&'b str> {
        let Step::Asking(turn) = self.step else {
            return None;
        };
        self.transcript.turns[turn].reference_shown_early = true;
        self.touch();
        Some(self.prompt_of(turn).reference())
    }

    /// Skips the current turn and the rest of its question's follow-ups.
    pub fn skip(&mut self) -> Advance<'b> {
        let Step::Asking(turn) = self.step else {
            return Advance::default();
        };
        self.transcript.turns[turn].skipped = true;
        self.touch();
        let finished = Some(self.questions[self.cursor]);
        self.next_question();
        Advance { finished }
    }

    /// Ends the session at the user's request.
    pub fn quit(&mut self) {
        self.finish(Status::Quit);
    }

    /// Ctrl-C, with `typed` what the answer's editor held. New text is kept as the turn's
    /// draft and the session goes on; with nothing typed, or nothing changed since the
    /// draft was kept, the session ends as interrupted (the draft stays in the transcript).
    pub fn interrupt(&mut self, typed: &str) -> Interrupt {
        if let Step::Asking(turn) = self.step {
            let t = &mut self.transcript.turns[turn];
            let fresh = !typed.trim().is_empty() && t.draft.as_deref().map(str::trim) != Some(typed.trim());
            if fresh {
                t.draft = Some(typed.to_string());
                self.touch();
                return Interrupt::DraftKept;
            }
        }
        self.finish(Status::Interrupted);
        Interrupt::Ended
    }

    /// The draft kept for the turn being asked, if any.
    pub fn draft(&self) -> Option<&str> {
        let Step::Asking(turn) = self.step else { return None };
        self.transcript.turns[turn].draft.as_deref()
    }

    /// Whether the session holds nothing worth keeping: no answer, no skip, no draft.
    /// Such a session is not saved (a session started and quit would otherwise become
    /// the latest one, and what `grill resume` picks).
    pub fn is_empty(&self) -> bool {
        self.transcript.turns.iter().all(|t| t.answer.is_none() && !t.skipped && t.draft.is_none())
    }

    fn finish(&mut self, status: Status) {
        if self.transcript.status == Status::InProgress {
            self.transcript.status = status;
        }
        self.step = Step::Done;
        self.touch();
    }

    fn touch(&mut self) {
        self.transcript.updated_at = self.clock.now();
    }

    /// The key point a generated follow-up should target, while one is awaited.
    pub fn gap(&self) -> Option<(&'b Question, &'b KeyPoint)> {
        match (self.step, self.gap) {
            (Step::NeedsFollowUp, Some(kp)) => Some((self.questions[self.cursor], kp)),
            _ => None,
        }
    }

    /// Hands over the generated follow-up question (`None` when none could be had: the
    /// session goes on with the bank's follow-ups or the next question).
    pub fn provide_follow_up(&mut self, text: Option<String>) -> Advance<'b> {
        let (Step::NeedsFollowUp, Some(kp)) = (self.step, self.gap.take()) else { return Advance::default() };
        match text.map(|t| t.trim().to_string()).filter(|t| !t.is_empty()) {
            Some(text) => {
                self.open_turn(None, Some((kp, text)));
                Advance::default()
            }
            None => {
                self.generation_failed = true;
                self.advance()
            }
        }
    }

    /// Opens a turn for the current question (or one of its follow-ups).
    fn ask(&mut self, follow_up: Option<&'b FollowUp>) {
        self.open_turn(follow_up, None);
    }

    fn open_turn(&mut self, follow_up: Option<&'b FollowUp>, generated: Option<(&'b KeyPoint, String)>) {
        let question = self.questions[self.cursor];
        let prompt = match (&generated, follow_up) {
            (Some((_, text)), _) => text.clone(),
            (None, Some(f)) => f.prompt.clone(),
            (None, None) => question.prompt.clone(),
        };
        let is_main = follow_up.is_none() && generated.is_none();
        let turn = Turn {
            question_id: question.id.clone(),
            follow_up_id: follow_up.map(|f| f.id.clone()),
            generated_for: generated.map(|(kp, _)| kp.id.clone()),
            question_file: question.origin.folder.is_some().then(|| question.origin.file.clone()),
            prompt,
            question_hash: question.content_hash(),
            asked_at: self.clock.now(),
            answer: None,
            answered_at: None,
            skipped: false,
            hints: Vec::new(),
            reference_shown_early: false,
            confidence: None,
            grades: Vec::new(),
            draft: None,
        };
        self.transcript.turns.push(turn);
        let index = self.transcript.turns.len() - 1;
        if is_main {
            self.main_turn = index;
            self.generation_failed = false;
        }
        self.step = Step::Asking(index);
        self.touch();
    }

    /// After a turn is done: a follow-up of this question (a bank one that digs into a
    /// missed point, else a generated one aimed at a missed point no bank follow-up
    /// probes, else any bank one left), or the next question.
    fn advance(&mut self) -> Advance<'b> {
        let follow_ups = &self.transcript.turns[self.main_turn..];
        let asked = follow_ups.iter().filter(|t| t.follow_up_id.is_some() || t.generated_for.is_some()).count();
        if asked < self.opts.follow_ups {
            if let Some(f) = self.choose_follow_up(1) {
                self.ask(Some(f));
                return Advance::default();
            }
            if self.opts.generate_follow_ups
                && !self.generation_failed
                && let Some(kp) = self.unprobed_gap()
            {
                self.gap = Some(kp);
                self.step = Step::NeedsFollowUp;
                self.touch();
                return Advance::default();
            }
            if let Some(f) = self.choose_follow_up(0) {
                self.ask(Some(f));
                return Advance::default();
            }
        }
        let finished = Some(self.questions[self.cursor]);
        self.next_question();
        Advance { finished }
    }

    fn next_question(&mut self) {
        self.cursor += 1;
        if self.cursor < self.questions.len() {
            self.ask(None);
        } else {
            self.finish(Status::Completed);
        }
    }

    /// The main answer's verdicts, when it was graded.
    fn main_verdicts(&self) -> Vec<crate::grade::PointVerdict> {
        self.transcript.turns[self.main_turn]
            .latest_grade()
            .and_then(|g| g.grade.assessment())
            .map(|a| a.key_points.clone())
            .unwrap_or_default()
    }

    /// The unasked bank follow-up that digs into what the main answer missed most, if
    /// its need is at least `min_need`: each probed key point adds its weight twice when
    /// missed, once when partial. Ties keep the bank's order.
    fn choose_follow_up(&self, min_need: u32) -> Option<&'b FollowUp> {
        let question = self.questions[self.cursor];
        let asked: Vec<&str> =
            self.transcript.turns[self.main_turn..].iter().filter_map(|t| t.follow_up_id.as_deref()).collect();
        let verdicts = self.main_verdicts();
        let need = |probe: &str| -> u32 {
            let weight = question.key_points.iter().find(|k| k.id == probe).map_or(1, |k| k.weight);
            match verdicts.iter().find(|v| v.id == probe).map(|v| v.verdict) {
                Some(Verdict::Missed) => 2 * weight,
                Some(Verdict::Partial) => weight,
                _ => 0,
            }
        };
        question
            .follow_ups
            .iter()
            .filter(|f| !asked.contains(&f.id.as_str()))
            .enumerate()
            .map(|(i, f)| (f.probes.iter().map(|p| need(p)).sum::<u32>(), i, f))
            .filter(|(n, _, _)| *n >= min_need)
            .max_by_key(|(n, i, _)| (*n, std::cmp::Reverse(*i)))
            .map(|(_, _, f)| f)
    }

    /// The heaviest key point the main answer missed outright that no unasked bank
    /// follow-up probes and no generated follow-up has targeted yet.
    fn unprobed_gap(&self) -> Option<&'b KeyPoint> {
        let question = self.questions[self.cursor];
        let turns = &self.transcript.turns[self.main_turn..];
        let asked: Vec<&str> = turns.iter().filter_map(|t| t.follow_up_id.as_deref()).collect();
        let targeted: Vec<&str> = turns.iter().filter_map(|t| t.generated_for.as_deref()).collect();
        let verdicts = self.main_verdicts();
        question
            .key_points
            .iter()
            .filter(|k| verdicts.iter().any(|v| v.id == k.id && v.verdict == Verdict::Missed))
            .filter(|k| !targeted.contains(&k.id.as_str()))
            .filter(|k| {
                !question.follow_ups.iter().any(|f| !asked.contains(&f.id.as_str()) && f.probes.contains(&k.id))
            })
            .max_by_key(|k| k.weight)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bank::{Bank, BankSource, Selection};
    use crate::grade::offline;
    use crate::grade::record::GraderInfo;
    use crate::transcript::SCHEMA_VERSION;

    /// The time every test starts at.
    fn t0() -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339("2026-01-31T10:00:00+01:00").unwrap()
    }

    const BANK: &str = r#"
[[question]]
id = "q1"
topic = "t"
level = "senior"
prompt = "First?"
testing = "Knowing the first thing."
reference_answer = "Alpha and beta."
[[question.key_points]]
id = "alpha"
point = "Alpha matters."
weight = 2
cues = ["alpha", "first letter"]
[[question.key_points]]
id = "beta"
point = "Beta matters."
cues = ["beta", "second letter"]
[[question.follow_ups]]
id = "about-alpha"
prompt = "Tell me about alpha."
testing = "Alpha."
probes = ["alpha"]
answer = "Alpha is first."
[[question.follow_ups.key_points]]
id = "first"
point = "It is first."
cues = ["first", "initial"]
[[question.follow_ups]]
id = "about-beta"
prompt = "Tell me about beta."
testing = "Beta."
probes = ["beta"]
answer = "Beta is second."
[[question.follow_ups.key_points]]
id = "second"
point = "It is second."
cues = ["second", "next"]

[[question]]
id = "q2"
topic = "t"
level = "mid"
prompt = "Second?"
testing = "Knowing the second thing."
reference_answer = "Gamma."
[[question.key_points]]
id = "gamma"
point = "Gamma matters."
cues = ["gamma", "third letter"]
"#;

    fn record(grade: crate::grade::Grade) -> GradeRecord {
        GradeRecord {
            grader: GraderInfo::Offline { version: "t".into() },
            graded_at: t0(),
            latency_ms: 0,
            grade,
            mode: None,
            usage: None,
            server_ms: None,
            injection: vec![],
        }
    }

    fn bank() -> Bank {
        Bank::from_files([("t.toml".to_string(), BANK.to_string())], BankSource::Embedded).unwrap()
    }

    fn transcript() -> Transcript {
        Transcript {
            schema_version: SCHEMA_VERSION,
            grill_version: "test".into(),
            id: "abc".into(),
            started_at: t0(),
            updated_at: t0(),
            status: Status::InProgress,
            mode: Default::default(),
            time_limit_secs: None,
            grader: GraderInfo::Offline { version: offline::GRADER_VERSION.into() },
            bank: "test".into(),
            selection: Selection::default(),
            follow_ups: 1,
            plan: vec![],
            turns: vec![],
        }
    }

    fn session(bank: &Bank, follow_ups: usize) -> Session<'_> {
        let qs = bank.questions().iter().collect();
        Session::start(
            qs,
            Options { follow_ups, wait_for_grades: true, generate_follow_ups: false },
            transcript(),
            Clock::fixed(t0()),
        )
    }

    fn answer_and_grade(s: &mut Session<'_>, text: &str) {
        let (job, _) = s.submit(text.to_string()).expect("a turn is asking");
        let grade = offline::grade(&job.prompt.rubric(), &job.answer);
        let rec = record(grade);
        s.record_grade(job.turn, rec);
    }

    #[test]
    fn follow_up_probing_the_missed_point_comes_first() {
        let b = bank();
        let mut s = session(&b, 1);
        assert_eq!(s.prompt().unwrap().text(), "First?");
        // Covers alpha fully, misses beta: the follow-up about beta is asked.
        answer_and_grade(&mut s, "The alpha is what comes as the first letter of them all, and that is the point.");
        assert_eq!(s.prompt().unwrap().follow_up.unwrap().id, "about-beta");
        answer_and_grade(&mut s, "It is the second one.");
        // Only one follow-up allowed: on to the next question.
        assert_eq!(s.prompt().unwrap().question.id, "q2");
        answer_and_grade(&mut s, "No idea.");
        assert_eq!(s.step(), Step::Done);
        assert_eq!(s.transcript().status, Status::Completed);
        assert_eq!(s.transcript().turns.len(), 3);
        assert!(s.transcript().turns.iter().all(|t| t.grades.len() == 1));
    }

    #[test]
    fn an_offline_grade_waits_for_the_users_word_which_then_steers_the_follow_up() {
        let b = bank();
        let qs = b.questions().iter().collect();
        let opts = Options { follow_ups: 1, wait_for_grades: true, generate_follow_ups: false };
        let mut s = Session::start(qs, opts, transcript(), Clock::fixed(t0())).with_confirm(true);
        assert!(s.dispute_job().is_none(), "nothing graded yet");
        // Covers alpha, misses beta: the grader alone would follow up on beta.
        answer_and_grade(&mut s, "The alpha is what comes as the first letter of them all, and that is the point.");
        assert_eq!(s.step(), Step::Reviewing(0));
        assert!(s.prompt().is_none(), "nothing is asked while the grade is reviewed");
        let job = s.review_job().expect("the grade waits for review");
        assert_eq!((job.turn, job.reviewed, job.prompt.question.id.as_str()), (0, 0, "q1"));
        let reviewed = s.transcript().turns[0].grades[0].grade.assessment().unwrap().clone();
        let mut list = checklist::Checklist::new(job.prompt.rubric(), &reviewed);
        assert_eq!(list.apply("1x 2m"), checklist::Reply::Changed);
        s.record_own_word(&job, Some(list.grade()));
        let grades = &s.transcript().turns[0].grades;
        assert_eq!(grades.len(), 2);
        assert_eq!(grades[1].grader, GraderInfo::User { reviewed: 0 });
        assert_eq!((grades[1].graded_at, grades[1].grade.score()), (t0(), Some(33)));
        // The user says alpha was missed and beta met: the follow-up digs into alpha.
        assert_eq!(s.prompt().unwrap().follow_up.unwrap().id, "about-alpha");
        // `:dispute` now reviews the grader's grade of the last graded answer.
        let d = s.dispute_job().unwrap();
        assert_eq!((d.turn, d.reviewed), (0, 0));
    }

    #[test]
    fn leaving_the_checklist_records_nothing_and_model_grades_are_not_held_up() {
        let b = bank();
        let qs: Vec<&Question> = b.questions().iter().collect();
        let opts = Options { follow_ups: 0, wait_for_grades: true, generate_follow_ups: false };
        let mut s = Session::start(qs.clone(), opts, transcript(), Clock::fixed(t0())).with_confirm(true);
        answer_and_grade(&mut s, "alpha");
        let job = s.review_job().unwrap();
        s.record_own_word(&job, None);
        assert_eq!(s.transcript().turns[0].grades.len(), 1);
        assert_eq!(s.prompt().unwrap().question.id, "q2");
        // A model's grade, or an ungraded answer, goes straight on.
        let mut s = Session::start(qs, opts, transcript(), Clock::fixed(t0())).with_confirm(true);
        let (job, _) = s.submit("alpha".into()).unwrap();
        let mut rec = record(offline::grade(&job.prompt.rubric(), &job.answer));
        rec.grader = GraderInfo::Llm { model: "m".into(), endpoint: "e".into(), prompts_hash: "h".into() };
        s.record_grade(job.turn, rec);
        assert_eq!(s.prompt().unwrap().question.id, "q2");
        let (job, _) = s.submit("gamma".into()).unwrap();
        s.record_grade(job.turn, record(crate::grade::Grade::Ungraded { reason: "down".into(), raw_reply: None }));
        assert_eq!(s.step(), Step::Done);
        // Without confirming, an offline grade goes straight on too.
        answer_and_grade(&mut session(&b, 0), "alpha");
    }

    #[test]
    fn ties_keep_bank_order_and_grading_waits() {
        let b = bank();
        let mut s = session(&b, 2);
        let (job, _) = s.submit("nothing relevant here at all".into()).unwrap();
        assert_eq!(s.step(), Step::Grading(job.turn));
        assert!(s.prompt().is_none(), "nothing is asked while grading");
        let grade = offline::grade(&job.prompt.rubric(), &job.answer);
        s.record_grade(job.turn, record(grade));
        // Both points missed: alpha weighs more, so its follow-up comes first.
        assert_eq!(s.prompt().unwrap().follow_up.unwrap().id, "about-alpha");
    }

    #[test]
    fn skip_moves_to_the_next_question_and_quit_ends() {
        let b = bank();
        let mut s = session(&b, 2);
        let adv = s.skip();
        assert_eq!(adv.finished.unwrap().id, "q1");
        assert!(s.transcript().turns[0].skipped);
        assert_eq!(s.prompt().unwrap().question.id, "q2");
        s.quit();
        assert_eq!(s.step(), Step::Done);
        assert_eq!(s.transcript().status, Status::Quit);
        assert!(s.submit("late".into()).is_none());
    }

    #[test]
    fn hints_reveal_testing_then_key_points_by_weight() {
        let b = bank();
        let mut s = session(&b, 0);
        assert!(s.hint().unwrap().contains("Knowing the first thing"));
        assert!(s.hint().unwrap().contains("Alpha matters"));
        assert!(s.hint().unwrap().contains("Beta matters"));
        assert_eq!(s.hint(), None);
        assert_eq!(s.transcript().turns[0].hints.len(), 3);
        assert_eq!(s.reference(), Some("Alpha and beta."));
        assert!(s.transcript().turns[0].reference_shown_early);
    }

    #[test]
    fn a_missed_point_no_follow_up_probes_asks_for_a_generated_one() {
        let b = bank();
        let q2 = vec![b.get("q2").unwrap()];
        let mut s = Session::start(
            q2,
            Options { follow_ups: 2, wait_for_grades: true, generate_follow_ups: true },
            transcript(),
            Clock::fixed(t0()),
        );
        answer_and_grade(&mut s, "I would rather not say anything relevant here at all today.");
        // q2 has no bank follow-ups: its missed point `gamma` needs a generated one.
        assert_eq!(s.step(), Step::NeedsFollowUp);
        let (q, kp) = s.gap().unwrap();
        assert_eq!((q.id.as_str(), kp.id.as_str()), ("q2", "gamma"));
        s.provide_follow_up(Some("What about the third letter?".into()));
        let p = s.prompt().unwrap();
        assert_eq!(p.text(), "What about the third letter?");
        assert_eq!(p.rubric().key_points.len(), 1);
        assert_eq!(s.transcript().turns[1].generated_for.as_deref(), Some("gamma"));
        // Graded on its own point; the point is now targeted, so nothing more is asked.
        answer_and_grade(&mut s, "Gamma is the third letter, and the gamma point is the one that matters here.");
        assert_eq!(s.step(), Step::Done);
    }

    #[test]
    fn without_a_generated_follow_up_the_session_goes_on() {
        let b = bank();
        let qs = b.questions().iter().collect();
        let mut s = Session::start(
            qs,
            Options { follow_ups: 2, wait_for_grades: true, generate_follow_ups: true },
            transcript(),
            Clock::fixed(t0()),
        );
        answer_and_grade(&mut s, "nothing relevant at all in this answer, I am afraid");
        // q1's missed points are probed by bank follow-ups: those come, no generation.
        assert_eq!(s.prompt().unwrap().follow_up.unwrap().id, "about-alpha");
        answer_and_grade(&mut s, "no idea");
        assert_eq!(s.prompt().unwrap().follow_up.unwrap().id, "about-beta");
        answer_and_grade(&mut s, "no idea");
        answer_and_grade(&mut s, "nothing relevant here either, sorry about that");
        assert_eq!(s.step(), Step::NeedsFollowUp);
        let adv = s.provide_follow_up(None);
        assert_eq!(adv.finished.unwrap().id, "q2");
        assert_eq!(s.step(), Step::Done);
    }

    #[test]
    fn resume_picks_up_where_the_session_stopped() {
        let b = bank();
        let mut s = session(&b, 1);
        answer_and_grade(&mut s, "The alpha is what comes as the first letter of them all, and that is the point.");
        // Stopped while the follow-up was being asked.
        let saved = s.transcript().clone();
        let qs: Vec<&Question> = b.questions().iter().collect();
        let opts = Options { follow_ups: 1, wait_for_grades: true, generate_follow_ups: false };
        let mut r = Session::resume(qs.clone(), opts, saved, Clock::fixed(t0()));
        assert_eq!(r.prompt().unwrap().follow_up.unwrap().id, "about-beta");
        answer_and_grade(&mut r, "It is the second.");
        assert_eq!(r.prompt().unwrap().question.id, "q2");

        // Stopped after an answer was saved but before its grade: it is graded first.
        let (_, _) = r.submit("gamma is the third letter, the gamma one".into()).unwrap();
        let saved = r.transcript().clone();
        let r2 = Session::resume(qs, opts, saved, Clock::fixed(t0()));
        let job = r2.pending_job().expect("the answer waits for its grade");
        assert_eq!(job.prompt.question.id, "q2");
        assert_eq!(r2.transcript().status, Status::InProgress);
    }

    #[test]
    fn interview_mode_asks_on_without_waiting() {
        let b = bank();
        let qs = b.questions().iter().collect();
        let mut s = Session::start(
            qs,
            Options { follow_ups: 1, wait_for_grades: false, generate_follow_ups: false },
            transcript(),
            Clock::fixed(t0()),
        );
        let (job, _) = s.submit("anything".into()).unwrap();
        assert_eq!(s.prompt().unwrap().follow_up.unwrap().id, "about-alpha");
        let grade = offline::grade(&job.prompt.rubric(), &job.answer);
        s.record_grade(job.turn, record(grade));
        assert_eq!(s.transcript().turns[0].grades.len(), 1);
        assert!(matches!(s.step(), Step::Asking(1)), "a late grade does not move the session");
    }

    #[test]
    fn times_come_from_the_clock_it_is_given() {
        let b = bank();
        let clock = Clock::fixed(t0());
        let qs = b.questions().iter().collect();
        let opts = Options { follow_ups: 0, wait_for_grades: true, generate_follow_ups: false };
        let mut s = Session::start(qs, opts, transcript(), clock.clone());
        assert_eq!(s.transcript().turns[0].asked_at, t0());
        clock.advance(Duration::from_secs(90));
        s.submit("alpha".into()).unwrap();
        let later = DateTime::parse_from_rfc3339("2026-01-31T10:01:30+01:00").unwrap();
        assert_eq!(s.transcript().turns[0].answered_at, Some(later));
        assert_eq!(s.transcript().updated_at, later);
    }

    #[test]
    fn the_time_limit_ends_the_session_between_answers() {
        let b = bank();
        let clock = Clock::fixed(t0());
        let qs = b.questions().iter().collect();
        let opts = Options { follow_ups: 0, wait_for_grades: false, generate_follow_ups: false };
        let mut s =
            Session::start(qs, opts, transcript(), clock.clone()).with_time_limit(Some(Duration::from_secs(60)));
        assert_eq!(s.time_left(), Some(Duration::from_secs(60)));
        clock.advance(Duration::from_secs(59));
        assert_eq!(s.time_left(), Some(Duration::from_secs(1)));
        assert!(!s.end_if_out_of_time());
        s.submit("an answer given in time".into()).unwrap();
        clock.advance(Duration::from_secs(5));
        assert_eq!(s.time_left(), Some(Duration::ZERO));
        assert!(s.end_if_out_of_time());
        assert_eq!((s.step(), s.transcript().status), (Step::Done, Status::Quit));
        assert_eq!(s.transcript().turns.len(), 2, "the second question was asked, never answered");
        // Without a limit there is no time left to tell, and time never ends the session.
        let unlimited = Session::start(b.questions().iter().collect(), opts, transcript(), clock.clone());
        assert_eq!(unlimited.time_left(), None);
    }

    #[test]
    fn a_first_ctrl_c_keeps_the_draft_and_a_second_ends_the_session() {
        let b = bank();
        let mut s = session(&b, 0);
        assert!(s.is_empty());
        assert_eq!(s.interrupt("half an answer\nabout alpha"), Interrupt::DraftKept);
        assert_eq!(s.draft(), Some("half an answer\nabout alpha"));
        assert_eq!(s.step(), Step::Asking(0), "the session goes on");
        assert!(!s.is_empty(), "a draft is worth keeping");
        // New text replaces the draft and still does not end the session.
        assert_eq!(s.interrupt("half an answer\nabout alpha, and beta"), Interrupt::DraftKept);
        // Nothing changed since: the second Ctrl-C ends it, and the draft stays saved.
        assert_eq!(s.interrupt("half an answer\nabout alpha, and beta\n"), Interrupt::Ended);
        assert_eq!((s.step(), s.transcript().status), (Step::Done, Status::Interrupted));
        assert_eq!(s.transcript().turns[0].draft.as_deref(), Some("half an answer\nabout alpha, and beta"));

        // Resumed, the turn is asked again with its draft; the answer replaces it.
        let qs = b.questions().iter().collect();
        let opts = Options { follow_ups: 0, wait_for_grades: true, generate_follow_ups: false };
        let mut r = Session::resume(qs, opts, s.transcript().clone(), Clock::fixed(t0()));
        assert_eq!(r.draft(), Some("half an answer\nabout alpha, and beta"));
        r.submit("alpha and beta, in full".into()).unwrap();
        assert_eq!(r.transcript().turns[0].draft, None);
    }

    #[test]
    fn ctrl_c_with_nothing_typed_ends_at_once() {
        let b = bank();
        let mut s = session(&b, 0);
        assert_eq!(s.interrupt("  \n"), Interrupt::Ended);
        assert_eq!(s.transcript().status, Status::Interrupted);
        assert_eq!(s.transcript().turns[0].draft, None);
        assert!(s.is_empty());
    }

    #[test]
    fn only_an_answer_a_skip_or_a_draft_makes_a_session_worth_keeping() {
        let b = bank();
        let mut s = session(&b, 0);
        s.hint();
        s.reference();
        assert!(s.is_empty(), "hints and the reference alone are not kept");
        s.skip();
        assert!(!s.is_empty());
        let mut s = session(&b, 0);
        s.submit("alpha".into()).unwrap();
        assert!(!s.is_empty());
    }
}
