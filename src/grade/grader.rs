//! The grader in use: offline or a model. One entry point that both the session and
//! `grill grade` call, which also runs the answer guard and enforces the size limit.
//!
//! Everything that differs between graders is a method here, so commands and the
//! session never look inside: a new backend is its own module, a variant and its arms
//! here, and how [`super::resolve`] chooses it.

use std::time::Instant;

use super::guard::{self, Marker};
use super::llm::LlmGrader;
use super::record::{GradeRecord, GraderInfo};
use super::{Asked, Grade, PointVerdict, offline};
use crate::util::now;

/// Answers larger than this are kept but not graded.
pub const MAX_ANSWER_BYTES: usize = 1 << 20;

/// Grades answers.
pub enum Grader {
    /// The offline key-point grader.
    Offline,
    /// A model.
    Llm(Box<LlmGrader>),
}

impl Grader {
    /// Who grades, as transcripts record it.
    pub fn info(&self) -> GraderInfo {
        match self {
            Grader::Offline => GraderInfo::Offline { version: offline::GRADER_VERSION.to_string() },
            Grader::Llm(g) => GraderInfo::Llm {
                model: g.model.clone(),
                endpoint: g.client.endpoint.host(),
                prompts_hash: g.prompts_hash().to_string(),
            },
        }
    }

    /// What to show while a grading runs, for graders slow enough to need it.
    pub fn busy_label(&self) -> Option<String> {
        match self {
            Grader::Offline => None,
            Grader::Llm(g) if g.held.is_some() => None,
            Grader::Llm(g) => Some(format!("grading with {}…", g.model)),
        }
    }

    /// Whether a model grades (what `grill doctor` checks), as opposed to rules.
    pub fn uses_model(&self) -> bool {
        matches!(self, Grader::Llm(_))
    }

    /// Whether the same answer always gets the same grade, so grading it again (or
    /// several at once) would tell nothing new.
    pub fn is_deterministic(&self) -> bool {
        matches!(self, Grader::Offline)
    }

    /// Whether this grader can write a follow-up question of its own.
    pub fn writes_follow_ups(&self) -> bool {
        matches!(self, Grader::Llm(g) if g.held.is_none())
    }

    /// One short follow-up question aimed at a missed point, from graders that write
    /// them; `None` when there is none to ask (the session then moves on).
    pub async fn follow_up(&self, prompt: &str, point: &str) -> Option<String> {
        match self {
            Grader::Offline => None,
            Grader::Llm(g) => g.follow_up(prompt, point).await.ok(),
        }
    }

    /// Grades one answer. Never fails: errors become `Ungraded` with the reason.
    pub async fn grade(&self, asked: &Asked<'_>, answer: &str) -> GradeRecord {
        self.grade_reporting(asked, answer).await.0
    }

    /// Grades one answer, telling `progress` each key point's provisional verdict as soon
    /// as a streamed reply settles it (a model grader only; the record is what counts).
    pub async fn grade_showing(
        &self,
        asked: &Asked<'_>,
        answer: &str,
        progress: &mut dyn FnMut(&PointVerdict),
    ) -> GradeRecord {
        self.grade_with(asked, answer, progress).await.0
    }

    /// Grades one answer, and says whether the endpoint itself failed (so that grading
    /// more answers now would fail too).
    pub async fn grade_reporting(&self, asked: &Asked<'_>, answer: &str) -> (GradeRecord, bool) {
        self.grade_with(asked, answer, &mut |_| {}).await
    }

    async fn grade_with(
        &self,
        asked: &Asked<'_>,
        answer: &str,
        progress: &mut dyn FnMut(&PointVerdict),
    ) -> (GradeRecord, bool) {
        let started = Instant::now();
        let injection: Vec<Marker> = guard::scan(answer);
        let mut endpoint_failed = false;
        let (grade, mode, usage, server_ms) = if answer.len() > MAX_ANSWER_BYTES {
            let reason = format!(
                "the answer is {:.1} MB, over the {} MiB that is graded; it is saved in the transcript",
                answer.len() as f64 / 1e6,
                MAX_ANSWER_BYTES >> 20
            );
            (Grade::Ungraded { reason, raw_reply: None }, None, None, None)
        } else {
            match self {
                // Lines addressed to the grader are not graded at all.
                Grader::Offline => (offline::grade(&asked.rubric, &guard::strip(answer, &injection)), None, None, None),
                Grader::Llm(g) => {
                    let o = g.grade_showing(asked, answer, progress).await;
                    endpoint_failed = o.endpoint_failed;
                    // The client's types become the transcript's here, at the edge.
                    (o.grade, o.mode.map(Into::into), o.usage.map(Into::into), Some(o.server_ms))
                }
            }
        };
        let record = GradeRecord {
            grader: self.info(),
            graded_at: now(),
            latency_ms: started.elapsed().as_millis() as u64,
            grade,
            mode,
            usage,
            server_ms,
            injection,
        };
        (record, endpoint_failed)
    }

    /// A record for an answer whose grading was interrupted: kept, to be graded again.
    pub fn interrupted(&self, started: Instant) -> GradeRecord {
        GradeRecord {
            grader: self.info(),
            graded_at: now(),
            latency_ms: started.elapsed().as_millis() as u64,
            grade: Grade::Ungraded {
                reason: "grading was interrupted (Ctrl-C); the answer is kept to grade again".into(),
                raw_reply: None,
            },
            mode: None,
            usage: None,
            server_ms: None,
            injection: Vec::new(),
        }
    }
}
