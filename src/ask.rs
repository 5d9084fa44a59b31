//! What one turn asks: a bank question, one of its follow-ups, or a follow-up a model
//! wrote, with the rubric its answer is graded on and the reference answer. Both the
//! session (which asks) and the screens and graders (which show and grade what was
//! asked) need it, so it sits below all of them.

use crate::bank::{FollowUp, KeyPoint, Question, Rubric};
use crate::grade::Asked;
use crate::transcript::Turn;

/// What is being asked.
#[derive(Debug, Clone)]
pub struct Prompt<'b> {
    /// The bank question.
    pub question: &'b Question,
    /// The follow-up, when one is asked.
    pub follow_up: Option<&'b FollowUp>,
    /// A generated follow-up: the key point it targets and the question's text.
    pub generated: Option<(&'b KeyPoint, String)>,
    /// 1-based number of the question in the session.
    pub number: usize,
    /// How many questions the session has.
    pub of: usize,
}

impl<'b> Prompt<'b> {
    /// The main question, on its own.
    pub fn main(question: &'b Question) -> Prompt<'b> {
        Prompt { question, follow_up: None, generated: None, number: 1, of: 1 }
    }

    /// What a saved turn asked, rebuilt from the bank (for re-grading and resuming).
    /// A follow-up the bank no longer has is asked about the main question's rubric.
    pub fn for_turn(question: &'b Question, turn: &Turn) -> Prompt<'b> {
        let follow_up = turn.follow_up_id.as_deref().and_then(|id| question.follow_up(id));
        let generated = turn
            .generated_for
            .as_deref()
            .and_then(|id| question.key_points.iter().find(|k| k.id == id))
            .map(|kp| (kp, turn.prompt.clone()));
        Prompt { question, follow_up, generated, number: 1, of: 1 }
    }

    /// The text to ask.
    pub fn text(&self) -> &str {
        match (&self.generated, self.follow_up) {
            (Some((_, text)), _) => text,
            (None, Some(f)) => &f.prompt,
            (None, None) => &self.question.prompt,
        }
    }

    /// Whether this is a follow-up (from the bank or generated).
    pub fn is_follow_up(&self) -> bool {
        self.follow_up.is_some() || self.generated.is_some()
    }

    /// The rubric the answer is graded against: a generated follow-up is graded on the
    /// one key point it targets.
    pub fn rubric(&self) -> Rubric<'b> {
        match (&self.generated, self.follow_up) {
            (Some((kp, _)), _) => {
                Rubric { reference: "", testing: &kp.point, key_points: std::slice::from_ref(*kp), red_flags: &[] }
            }
            (None, Some(f)) => f.rubric(),
            (None, None) => self.question.rubric(),
        }
    }

    /// The strong answer to show on request or at the end.
    pub fn reference(&self) -> &'b str {
        match (&self.generated, self.follow_up) {
            (Some((kp, _)), _) => &kp.point,
            (None, Some(f)) => &f.answer,
            (None, None) => &self.question.reference_answer,
        }
    }

    /// What a grader needs to know about it.
    pub fn asked(&self) -> Asked<'_> {
        Asked { id: &self.question.id, prompt: self.text(), reference: self.reference(), rubric: self.rubric() }
    }
}
