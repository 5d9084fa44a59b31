//! The session as a state machine: which question or follow-up is asked, what happens to
//! an answer, hints, skips and quitting. No I/O: the terminal (or a test) feeds it events
//! and shows what it returns, and the transcript it keeps is saved by the caller.

pub mod input;
pub mod run;

use crate::bank::{FollowUp, Question, Rubric};
use crate::grade::Verdict;
use crate::grade::llm::Asked;
use crate::transcript::{GradeRecord, Status, Transcript, Turn, now};

/// How the session behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// Follow-ups asked per question at most.
    pub follow_ups: usize,
    /// Wait for each grade before asking on (practice), or ask on at once (interview).
    pub wait_for_grades: bool,
}

/// What the session is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Waiting for the answer to this turn.
    Asking(usize),
    /// Waiting for the grade of this turn.
    Grading(usize),
    /// Nothing more to ask.
    Done,
}

/// What is being asked.
#[derive(Debug, Clone, Copy)]
pub struct Prompt<'b> {
    /// The bank question.
    pub question: &'b Question,
    /// The follow-up, when one is asked.
    pub follow_up: Option<&'b FollowUp>,
    /// 1-based number of the question in the session.
    pub number: usize,
    /// How many questions the session has.
    pub of: usize,
}

impl<'b> Prompt<'b> {
    /// The text to ask.
    pub fn text(&self) -> &'b str {
        self.follow_up.map_or(&self.question.prompt, |f| &f.prompt)
    }

    /// The rubric the answer is graded against.
    pub fn rubric(&self) -> Rubric<'b> {
        self.follow_up.map_or_else(|| self.question.rubric(), FollowUp::rubric)
    }

    /// The strong answer to show on request or at the end.
    pub fn reference(&self) -> &'b str {
        self.follow_up.map_or(&self.question.reference_answer, |f| &f.answer)
    }

    /// What a grader needs to know about it.
    pub fn asked(&self) -> Asked<'b> {
        Asked { id: &self.question.id, prompt: self.text(), reference: self.reference(), rubric: self.rubric() }
    }
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

/// What a state change finished.
#[derive(Debug, Clone, Copy, Default)]
pub struct Advance<'b> {
    /// The question whose last turn just ended, if one did.
    pub finished: Option<&'b Question>,
}

/// A running session.
#[derive(Debug)]
pub struct Session<'b> {
    questions: Vec<&'b Question>,
    opts: Options,
    transcript: Transcript,
    /// Index into `questions` of the question being asked.
    cursor: usize,
    /// The turn index of the current question's main answer.
    main_turn: usize,
    step: Step,
}

impl<'b> Session<'b> {
    /// Starts a session over `questions`, recording into `transcript` (whose turns must be
    /// empty).
    pub fn start(questions: Vec<&'b Question>, opts: Options, mut transcript: Transcript) -> Session<'b> {
        transcript.plan = questions.iter().map(|q| q.id.clone()).collect();
        transcript.status = Status::InProgress;
        let mut s = Session { questions, opts, transcript, cursor: 0, main_turn: 0, step: Step::Done };
        if s.questions.is_empty() {
            s.finish(Status::Completed);
        } else {
            s.ask(None);
        }
        s
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
        let question = self.questions[q_index];
        let follow_up = t.follow_up_id.as_deref().and_then(|id| question.follow_up(id));
        Prompt { question, follow_up, number: q_index + 1, of: self.questions.len() }
    }

    /// Records the answer to the current turn and hands back the job of grading it.
    /// Returns `None` when no turn is waiting for an answer.
    pub fn submit(&mut self, answer: String) -> Option<(GradeJob<'b>, Advance<'b>)> {
        let Step::Asking(turn) = self.step else {
            return None;
        };
        let t = &mut self.transcript.turns[turn];
        t.answer = Some(answer.clone());
        t.answered_at = Some(now());
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

    /// Stores a grade for a turn; when the session was waiting for it, moves on.
    pub fn record_grade(&mut self, turn: usize, record: GradeRecord) -> Advance<'b> {
        if let Some(t) = self.transcript.turns.get_mut(turn) {
            t.grades.push(record);
            self.touch();
        }
        if self.step == Step::Grading(turn) { self.advance() } else { Advance::default() }
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

    /// Ends the session after Ctrl-C.
    pub fn interrupt(&mut self) {
        self.finish(Status::Interrupted);
    }

    fn finish(&mut self, status: Status) {
        if self.transcript.status == Status::InProgress {
            self.transcript.status = status;
        }
        self.step = Step::Done;
        self.touch();
    }

    fn touch(&mut self) {
        self.transcript.updated_at = now();
    }

    /// Opens a turn for the current question (or one of its follow-ups).
    fn ask(&mut self, follow_up: Option<&'b FollowUp>) {
        let question = self.questions[self.cursor];
        let turn = Turn {
            question_id: question.id.clone(),
            follow_up_id: follow_up.map(|f| f.id.clone()),
            prompt: follow_up.map_or(&question.prompt, |f| &f.prompt).clone(),
            question_hash: question.content_hash(),
            asked_at: now(),
            answer: None,
            answered_at: None,
            skipped: false,
            hints: Vec::new(),
            reference_shown_early: false,
            grades: Vec::new(),
        };
        self.transcript.turns.push(turn);
        let index = self.transcript.turns.len() - 1;
        if follow_up.is_none() {
            self.main_turn = index;
        }
        self.step = Step::Asking(index);
        self.touch();
    }

    /// After a turn is done: the next follow-up of this question, or the next question.
    fn advance(&mut self) -> Advance<'b> {
        let asked = self.transcript.turns[self.main_turn..].iter().filter(|t| t.follow_up_id.is_some()).count();
        if asked < self.opts.follow_ups
            && let Some(f) = self.choose_follow_up()
        {
            self.ask(Some(f));
            return Advance::default();
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

    /// The unasked follow-up that digs into what the main answer missed most: each probed
    /// key point adds its weight twice when missed, once when partial. Ties (and
    /// ungraded answers) keep the bank's order.
    fn choose_follow_up(&self) -> Option<&'b FollowUp> {
        let question = self.questions[self.cursor];
        let asked: Vec<&str> =
            self.transcript.turns[self.main_turn..].iter().filter_map(|t| t.follow_up_id.as_deref()).collect();
        let verdicts = self.transcript.turns[self.main_turn]
            .latest_grade()
            .and_then(|g| g.grade.assessment())
            .map(|a| a.key_points.clone())
            .unwrap_or_default();
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
            .max_by_key(|(i, f)| (f.probes.iter().map(|p| need(p)).sum::<u32>(), std::cmp::Reverse(*i)))
            .map(|(_, f)| f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bank::{Bank, BankSource, Selection};
    use crate::grade::offline;
    use crate::transcript::{GraderInfo, SCHEMA_VERSION};

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
            graded_at: now(),
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
            started_at: now(),
            updated_at: now(),
            status: Status::InProgress,
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
        Session::start(qs, Options { follow_ups, wait_for_grades: true }, transcript())
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
    fn interview_mode_asks_on_without_waiting() {
        let b = bank();
        let qs = b.questions().iter().collect();
        let mut s = Session::start(qs, Options { follow_ups: 1, wait_for_grades: false }, transcript());
        let (job, _) = s.submit("anything".into()).unwrap();
        assert_eq!(s.prompt().unwrap().follow_up.unwrap().id, "about-alpha");
        let grade = offline::grade(&job.prompt.rubric(), &job.answer);
        s.record_grade(job.turn, record(grade));
        assert_eq!(s.transcript().turns[0].grades.len(), 1);
        assert!(matches!(s.step(), Step::Asking(1)), "a late grade does not move the session");
    }
}
