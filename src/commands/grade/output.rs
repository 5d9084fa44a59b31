//! What `grill grade --json` prints: one object with the same keys whether or not the
//! answer could be graded, so a script can read any of them without checking first.

use serde::Serialize;

use crate::grade::guard::Marker;
use crate::grade::record::GradeRecord;
use crate::grade::record::GraderInfo;
use crate::grade::{ClaimError, Feedback, FlagHit, Grade, PointVerdict};

/// The version of this shape; bumped when a field is renamed, removed or changes meaning.
pub const SCHEMA: &str = "grill.grade/2";

/// One graded answer. Fields that do not apply are `null`, never absent.
#[derive(Debug, Serialize)]
pub struct GradeOutput<'a> {
    /// Always `"grill.grade/2"`.
    pub schema: &'static str,
    /// The id of the question answered.
    pub question: &'a str,
    /// `"graded"`, or `"ungraded"` when no grade could be had (then `reason` says why).
    pub status: &'static str,
    /// 0 to 100, computed by grill from the verdicts; `null` when ungraded.
    pub score: Option<u8>,
    /// One verdict per key point, in rubric order: `id`, `verdict` (`met`, `partial` or
    /// `missed`), and when there are any, `evidence`, `note` (why grill changed the
    /// grader's verdict), `reason` (a model's reason) and `agreement` (with several
    /// samples, how many gave this verdict: `"2/3"`); `null` when ungraded.
    pub key_points: Option<&'a [PointVerdict]>,
    /// The red flags the answer raised (`id`, `severity`, `evidence`); `null` when ungraded.
    pub red_flags: Option<&'a [FlagHit]>,
    /// Other wrong technical claims a model found (`quote`, `correction`, and `point`
    /// when the claim contradicts a key point); each costs like a minor red flag. `null`
    /// when ungraded.
    pub errors: Option<&'a [ClaimError]>,
    /// `strengths`, `gaps` and `next_step` for the candidate; `null` when ungraded.
    pub feedback: Option<&'a Feedback>,
    /// Observations about the answer itself ("empty answer"); `null` when ungraded.
    pub notes: Option<&'a [String]>,
    /// Why the answer could not be graded; `null` when graded.
    pub reason: Option<&'a str>,
    /// What the grader replied when its reply could not be used; `null` otherwise.
    pub raw_reply: Option<&'a str>,
    /// Who graded: `{"kind": "offline", "version"}` or `{"kind": "llm", "model",
    /// "endpoint", "prompts_hash"}`, as in transcripts.
    pub grader: &'a GraderInfo,
    /// How long grading took, in milliseconds.
    pub latency_ms: u64,
    /// The structured-output mode a model grader used (`json_schema`, `json_object` or
    /// `prompt_only`); `null` for the offline grader.
    pub mode: Option<&'static str>,
    /// Token counts, when the server reported them; `null` otherwise.
    pub usage: Option<UsageOutput>,
    /// Passages of the answer addressed to the grader (`kind`, `line`, `excerpt`); they
    /// earned nothing. Empty when there were none.
    pub injection: &'a [Marker],
}

/// Token counts the server reported for the last request of a grading (the repair request,
/// when the first reply had to be repaired).
#[derive(Debug, Serialize)]
pub struct UsageOutput {
    /// Tokens in the prompt.
    pub prompt_tokens: u64,
    /// Tokens in the reply.
    pub completion_tokens: u64,
    /// Prompt tokens served from the server's prompt cache; `null` when not reported.
    pub cached_tokens: Option<u64>,
    /// Milliseconds spent loading the model first (Ollama); `null` otherwise.
    pub load_ms: Option<u64>,
    /// Milliseconds the server spent on the request (Ollama); `null` otherwise.
    pub total_ms: Option<u64>,
    /// Milliseconds to the first piece of a streamed reply; `null` when not streamed.
    pub first_token_ms: Option<u64>,
}

impl<'a> GradeOutput<'a> {
    /// The output for `record`, a grading of an answer to `question`.
    pub fn new(question: &'a str, record: &'a GradeRecord) -> GradeOutput<'a> {
        let (status, score, assessment, reason, raw_reply) = match &record.grade {
            Grade::Graded { score, assessment } => ("graded", Some(*score), Some(assessment), None, None),
            Grade::Ungraded { reason, raw_reply } => {
                ("ungraded", None, None, Some(reason.as_str()), raw_reply.as_deref())
            }
        };
        GradeOutput {
            schema: SCHEMA,
            question,
            status,
            score,
            key_points: assessment.map(|a| a.key_points.as_slice()),
            red_flags: assessment.map(|a| a.red_flags.as_slice()),
            errors: assessment.map(|a| a.errors.as_slice()),
            feedback: assessment.map(|a| &a.feedback),
            notes: assessment.map(|a| a.notes.as_slice()),
            reason,
            raw_reply,
            grader: &record.grader,
            latency_ms: record.latency_ms,
            mode: record.mode.map(|m| m.name()),
            usage: record.usage.as_ref().map(|u| UsageOutput {
                prompt_tokens: u.prompt_tokens,
                completion_tokens: u.completion_tokens,
                cached_tokens: u.cached_tokens,
                load_ms: u.load_ms,
                total_ms: u.total_ms,
                first_token_ms: u.first_token_ms,
            }),
            injection: &record.injection,
        }
    }
}
