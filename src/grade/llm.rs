//! The model grader: renders the prompt, negotiates structured output, validates the
//! reply (one repair request at most), and scores the verdicts with the core formula.
//! A grade is never invented: whatever fails ends as `Ungraded` with the reason and the
//! raw reply.

use std::sync::Mutex;
use std::time::Instant;

use serde_json::json;

use super::{Asked, Assessment, Feedback, Grade, PointVerdict, Verdict, reply};
use crate::bank::{Rubric, Severity};
use crate::llm::modes::ModeCache;
use crate::llm::{ChatRequest, Client, Deadline, LlmError, Message, Mode, Usage};
use crate::prompts::Prompts;

/// Characters per token assumed when sizing the reply's room: English and JSON run at
/// 3.5 to 4.5 with the common tokenizers, so at 3 the longest reply the schema allows
/// still fits.
const CHARS_PER_TOKEN: usize = 3;
/// Extra room for a reasoning model's `<think>` block before the JSON.
const TOKENS_THINKING: u32 = 3000;
/// The most any grading asks for (and what a stored raw reply is capped by).
const MAX_TOKENS: u32 = 8000;

/// The sampling seed sent to servers that take one, so that a grade repeats.
const SEED: u64 = 7;

/// The temperature of a sampled draw: warm enough that draws differ where the model is
/// unsure, cool enough that each is still a considered grade.
const SAMPLE_TEMPERATURE: f32 = 0.5;

/// How one reply is decoded.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Draw {
    temperature: f32,
    seed: u64,
}

impl Draw {
    /// A single grade: greedy, so the same answer gets the same grade.
    const GREEDY: Draw = Draw { temperature: 0.0, seed: SEED };

    /// Draw `i` of several. A vote needs independent draws, and a local server decoding
    /// greedily gives the same reply every time; a seed per draw keeps the vote itself
    /// repeatable.
    fn sampled(i: u32) -> Draw {
        Draw { temperature: SAMPLE_TEMPERATURE, seed: SEED + u64::from(i) }
    }

    /// The draw for the one retry after a reply that could not be used: sampled, since
    /// greedy decoding that looped once would loop again, and seeded apart from every
    /// sample's draw.
    fn retry(self) -> Draw {
        Draw { temperature: SAMPLE_TEMPERATURE, seed: self.seed + 1000 }
    }
}

/// Whether a model's name says it thinks before it answers.
fn thinks_by_name(model: &str) -> bool {
    let m = model.to_lowercase();
    ["r1", "qwq", "think", "reason", "qwen3", "magistral", "o1", "o3", "o4", "gpt-oss"]
        .iter()
        .any(|w| m.split(|c: char| !c.is_ascii_alphanumeric()).any(|part| part == *w) || (w.len() > 3 && m.contains(w)))
}

/// The token limit for grading against `rubric`: room for the longest reply its schema
/// allows, so only a reply that ignored the schema is ever cut off.
fn max_tokens(rubric: &Rubric<'_>, thinking: bool) -> u32 {
    let reply = u32::try_from(reply::longest_reply(rubric).div_ceil(CHARS_PER_TOKEN)).unwrap_or(u32::MAX);
    reply.saturating_add(if thinking { TOKENS_THINKING } else { 0 }).min(MAX_TOKENS)
}

/// The most of a failed reply sent back in the repair request: enough for the model to
/// see what it wrote, never a flood echoed back to the server.
const REPAIR_ECHO_MAX: usize = 8 << 10;

/// The longest reason kept for an ungraded answer.
const REASON_MAX: usize = 2000;

/// What one grading produced, beside the grade.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The grade.
    pub grade: Grade,
    /// The structured-output mode that was used, when a request succeeded.
    pub mode: Option<Mode>,
    /// Token counts of the last request, when the server reported them.
    pub usage: Option<Usage>,
    /// Milliseconds spent waiting for the server.
    pub server_ms: u64,
    /// Whether the endpoint itself failed (unreachable, an error status, a time-out), as
    /// opposed to a reply that could not be used: the next answer would fail the same way.
    pub endpoint_failed: bool,
}

/// Grades answers with a model behind an OpenAI-compatible endpoint.
pub struct LlmGrader {
    /// The client.
    pub client: Client,
    /// The model name.
    pub model: String,
    prompts: Prompts,
    modes: Mutex<ModeCache>,
    /// Whether a reply has come with a `<think>` block: later requests leave room for one.
    thought: std::sync::atomic::AtomicBool,
    /// Grades taken of each answer; with more than one, verdicts are voted.
    pub samples: u32,
    /// Why answers are not sent at all, when the user chose to keep them for later (the
    /// endpoint failed its check at start): each is kept ungraded with this reason.
    pub held: Option<String>,
}

impl LlmGrader {
    /// A grader for `model` through `client`, remembering modes in `modes`.
    pub fn new(client: Client, model: String, prompts: Prompts, modes: ModeCache) -> LlmGrader {
        LlmGrader {
            client,
            model,
            prompts,
            modes: Mutex::new(modes),
            thought: Default::default(),
            samples: 1,
            held: None,
        }
    }

    /// The hash of the templates in use.
    pub fn prompts_hash(&self) -> &str {
        self.prompts.hash()
    }

    /// The mode the next request starts with.
    pub fn starting_mode(&self) -> Mode {
        self.modes
            .lock()
            .map(|m| m.get(&self.client.endpoint.base_url, &self.model))
            .ok()
            .flatten()
            .unwrap_or(Mode::JsonSchema)
    }

    fn remember(&self, mode: Mode) {
        if let Ok(mut m) = self.modes.lock() {
            m.set(&self.client.endpoint.base_url, &self.model, mode);
        }
    }

    /// The system and user messages for one answer; the system message is the same for
    /// every question, so servers can reuse its prompt cache.
    pub fn messages(&self, asked: &Asked<'_>, answer: &str, nonce: &str) -> Result<Vec<Message>, String> {
        let system = self.prompts.render("grade_system", &json!({})).map_err(|e| e.to_string())?;
        let severity = |s: Severity| if s == Severity::Critical { "critical" } else { "minor" };
        let data = json!({
            "question_id": asked.id,
            "prompt": asked.prompt,
            "testing": asked.rubric.testing,
            "key_points": asked.rubric.key_points.iter().map(|k| json!({"id": k.id, "weight": k.weight, "point": k.point})).collect::<Vec<_>>(),
            "red_flags": asked.rubric.red_flags.iter().map(|f| json!({"id": f.id, "severity": severity(f.severity), "point": f.point})).collect::<Vec<_>>(),
            "reference": asked.reference,
            "nonce": nonce,
            "answer": answer,
        });
        let user = self.prompts.render("grade_user", &data).map_err(|e| e.to_string())?;
        Ok(vec![Message::system(system), Message::user(user)])
    }

    /// The tokens a grading of `answer` to `asked` takes: the rendered prompt, counted at
    /// the few characters per token the reply's room is sized with (which errs long), and
    /// the reply's room itself. What `grill doctor` predicts the wait from.
    pub fn load(&self, asked: &Asked<'_>, answer: &str) -> Result<(u64, u64), String> {
        let messages = self.messages(asked, answer, &format!("{:016x}", 0))?;
        let chars: usize = messages.iter().map(|m| m.content.chars().count()).sum();
        Ok((chars.div_ceil(CHARS_PER_TOKEN) as u64, u64::from(max_tokens(&asked.rubric, self.thinks()))))
    }

    /// Whether this model thinks before it answers: by its name, or because it did.
    fn thinks(&self) -> bool {
        thinks_by_name(&self.model) || self.thought.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The request for `messages`. Decoding is as repeatable as the server allows (see
    /// [`Draw`]); a frequency penalty only where no schema bounds the reply, since under
    /// one it would push away the verdicts and quotes that must repeat; room sized to the
    /// rubric.
    fn request(&self, messages: Vec<Message>, mode: Mode, rubric: Option<&Rubric<'_>>, draw: Draw) -> ChatRequest {
        let response_format = match (mode, rubric) {
            (Mode::JsonSchema, Some(r)) => Some(
                json!({"type": "json_schema", "json_schema": {"name": "grade", "strict": true, "schema": reply::schema(r)}}),
            ),
            (Mode::JsonSchema, None) => None,
            (Mode::JsonObject, _) => Some(json!({"type": "json_object"})),
            (Mode::PromptOnly, _) => None,
        };
        let schema = matches!(response_format.as_ref().and_then(|r| r["type"].as_str()), Some("json_schema"));
        ChatRequest {
            model: self.model.clone(),
            messages,
            temperature: draw.temperature,
            max_tokens: rubric.map_or(1000, |r| max_tokens(r, self.thinks())),
            frequency_penalty: (!schema).then_some(0.3),
            seed: Some(draw.seed),
            response_format,
            // A grading streams, so its verdicts can be shown as they are written.
            stream: rubric.is_some(),
        }
    }

    /// Sends `messages`, stepping down the structured-output mode while the server rejects
    /// it. Returns the reply text and the mode that worked; `on_text` is told the text so
    /// far as a streamed reply grows.
    #[allow(clippy::too_many_arguments)]
    async fn send(
        &self,
        messages: &[Message],
        rubric: &Rubric<'_>,
        mut mode: Mode,
        draw: Draw,
        server_ms: &mut u64,
        deadline: &Deadline,
        on_text: &mut dyn FnMut(&str),
    ) -> Result<(String, Mode, Option<Usage>), LlmError> {
        loop {
            let started = Instant::now();
            let request = self.request(messages.to_vec(), mode, Some(rubric), draw);
            // How long the user waited for the first word: what streaming changes.
            let mut first_token_ms = None;
            let mut timed = |text: &str| {
                if first_token_ms.is_none() && !text.is_empty() {
                    first_token_ms = Some(started.elapsed().as_millis() as u64);
                }
                on_text(text)
            };
            let result = self.client.chat_streaming(&request, deadline, &mut timed).await;
            *server_ms += started.elapsed().as_millis() as u64;
            match result {
                Ok(reply) => {
                    self.remember(mode);
                    if reply.content.contains("</think>") {
                        self.thought.store(true, std::sync::atomic::Ordering::Relaxed);
                    }
                    if reply.finish_reason.as_deref() == Some("length") {
                        return Err(LlmError::BadReply(format!(
                            "the reply was cut off at the token limit (finish_reason \"length\"): {}",
                            reply.content.chars().take(2000).collect::<String>()
                        )));
                    }
                    let usage = reply.usage.map(|u| Usage { first_token_ms, ..u });
                    return Ok((reply.content, mode, usage));
                }
                Err(e) if e.rejects_mode() => match mode.step_down() {
                    Some(next) => mode = next,
                    None => return Err(e),
                },
                Err(e) => return Err(e),
            }
        }
    }

    /// Grades one answer, `samples` times when asked for more than one, and votes the
    /// verdicts: see [`vote`]. Samples that end ungraded are left out of the vote; when
    /// none is graded, the last outcome stands. Never fails.
    pub async fn grade(&self, asked: &Asked<'_>, answer: &str) -> Outcome {
        self.grade_showing(asked, answer, &mut |_| {}).await
    }

    /// [`LlmGrader::grade`], telling `progress` each key point's verdict (scrubbed) as
    /// soon as the streamed reply has settled it: provisional, since the whole reply is
    /// still checked, and once per point. With several samples nothing is told: one
    /// sample's verdict says little about the vote.
    pub async fn grade_showing(
        &self,
        asked: &Asked<'_>,
        answer: &str,
        progress: &mut dyn FnMut(&PointVerdict),
    ) -> Outcome {
        if let Some(why) = &self.held {
            return Outcome {
                grade: ungraded(why.clone(), None),
                mode: None,
                usage: None,
                server_ms: 0,
                endpoint_failed: false,
            };
        }
        if self.samples <= 1 || answer.trim().is_empty() {
            return self.grade_once(asked, answer, Draw::GREEDY, progress).await;
        }
        let mut graded: Vec<Assessment> = Vec::new();
        let mut last: Option<Outcome> = None;
        // The vote is recorded with the mode and token counts of a sample that was graded,
        // not of whichever sample came last (a failed one has none).
        let mut last_graded: Option<Outcome> = None;
        let mut server_ms = 0;
        for i in 0..self.samples {
            let o = self.grade_once(asked, answer, Draw::sampled(i), &mut |_| {}).await;
            server_ms += o.server_ms;
            let failed = o.endpoint_failed;
            if let Grade::Graded { assessment, .. } = &o.grade {
                graded.push(assessment.clone());
                last_graded = Some(o);
            } else {
                last = Some(o);
            }
            if failed {
                break;
            }
        }
        let mut out = last_graded.or(last).expect("at least one sample");
        out.server_ms = server_ms;
        if !graded.is_empty() {
            let mut voted = vote(&asked.rubric, &graded);
            let lost = self.samples as usize - graded.len();
            if lost > 0 {
                voted
                    .notes
                    .push(format!("{lost} of {} samples could not be used; the vote is of the rest", self.samples));
            }
            out.grade = Grade::graded(&asked.rubric, voted);
            out.endpoint_failed = false;
        }
        out
    }

    /// Grades one answer within one `--timeout` for everything (tries, waits, step-downs
    /// and the repair). Never fails: errors become `Ungraded` with the reason.
    async fn grade_once(
        &self,
        asked: &Asked<'_>,
        answer: &str,
        first: Draw,
        progress: &mut dyn FnMut(&PointVerdict),
    ) -> Outcome {
        let deadline = self.client.deadline();
        let mut server_ms = 0;
        if answer.trim().is_empty() {
            return Outcome { grade: empty(asked), mode: None, usage: None, server_ms, endpoint_failed: false };
        }
        let nonce = format!("{:016x}", fastrand::u64(..));
        let mut messages = match self.messages(asked, answer, &nonce) {
            Ok(m) => m,
            Err(e) => {
                return Outcome {
                    grade: ungraded(format!("the prompt templates failed: {e}"), None),
                    mode: None,
                    usage: None,
                    server_ms,
                    endpoint_failed: false,
                };
            }
        };
        // Quotes count only from the candidate's own text: lines addressed to the grader
        // are removed before evidence is checked.
        let quotable = super::guard::strip(answer, &super::guard::scan(answer));
        let mut mode = self.starting_mode();
        let mut last_raw = String::new();
        // Points already told of, over both tries: each is told once.
        let mut told: Vec<String> = Vec::new();
        for attempt in 0..2 {
            let draw = if attempt == 0 { first } else { first.retry() };
            let mut on_text = early_points(&asked.rubric, &mut told, progress);
            let sent = self.send(&messages, &asked.rubric, mode, draw, &mut server_ms, &deadline, &mut on_text).await;
            let (raw, used, usage) = match sent {
                Ok(r) => r,
                Err(LlmError::BadReply(why)) if attempt == 0 => {
                    // A cut-off or malformed reply: ask once more, saying what was wrong.
                    messages.push(Message::user(self.repair_text(asked, &why)));
                    last_raw = why;
                    continue;
                }
                Err(e) => {
                    let reason = match e.hint() {
                        Some(h) => format!("{e} ({h})"),
                        None => e.to_string(),
                    };
                    let raw = if last_raw.is_empty() { None } else { Some(last_raw) };
                    // An unusable reply twice means the server is up and answering: the
                    // model failed, which is no reason to stop drawing samples.
                    let answered = matches!(e, LlmError::BadReply(_));
                    return Outcome {
                        grade: ungraded(reason, raw),
                        mode: answered.then_some(mode),
                        usage: None,
                        server_ms,
                        endpoint_failed: !answered,
                    };
                }
            };
            mode = used;
            match reply::parse(&raw, &asked.rubric, &quotable) {
                Ok(assessment) => {
                    return Outcome {
                        grade: Grade::graded(&asked.rubric, assessment),
                        mode: Some(used),
                        usage,
                        server_ms,
                        endpoint_failed: false,
                    };
                }
                Err(why) if attempt == 0 => {
                    messages.push(Message::assistant(crate::scrub::cap(&raw, REPAIR_ECHO_MAX).into_owned()));
                    messages.push(Message::user(self.repair_text(asked, &why)));
                    last_raw = raw;
                }
                Err(why) => {
                    let reason = format!("the model's reply failed validation twice: {why}");
                    return Outcome {
                        grade: ungraded(reason, Some(raw)),
                        mode: Some(used),
                        usage,
                        server_ms,
                        endpoint_failed: false,
                    };
                }
            }
        }
        Outcome {
            grade: ungraded("the model's reply failed validation twice".into(), Some(last_raw)),
            mode: Some(mode),
            usage: None,
            server_ms,
            endpoint_failed: false,
        }
    }

    fn repair_text(&self, asked: &Asked<'_>, error: &str) -> String {
        let data = json!({
            "error": error.chars().take(500).collect::<String>(),
            "key_point_ids": asked.rubric.key_points.iter().map(|k| &k.id).collect::<Vec<_>>(),
            "red_flag_ids": asked.rubric.red_flags.iter().map(|f| &f.id).collect::<Vec<_>>(),
        });
        self.prompts
            .render("repair", &data)
            .unwrap_or_else(|_| format!("Your reply could not be used: {error}. Reply with the JSON object only."))
    }

    /// Asks the model for one short follow-up question aimed at a missed point.
    pub async fn follow_up(&self, prompt: &str, point: &str) -> Result<String, LlmError> {
        let text = self
            .prompts
            .render("follow_up", &json!({"prompt": prompt, "point": point}))
            .map_err(|e| LlmError::BadReply(e.to_string()))?;
        let mut req = self.request(vec![Message::user(text)], Mode::PromptOnly, None, Draw::GREEDY);
        req.max_tokens = 120;
        let reply = self.client.chat(&req, &self.client.deadline()).await?;
        let q = reply.content.trim().trim_matches('"').trim().to_string();
        if q.is_empty() || q.len() > 600 || reply.finish_reason.as_deref() == Some("length") {
            return Err(LlmError::BadReply("no usable follow-up question".into()));
        }
        Ok(q)
    }
}

/// The `on_text` of one streamed reply: tells `progress` of each key point of the rubric
/// that the text so far has settled and that was not told before (`told` lasts over both
/// tries of a grading, so a repair does not tell a point twice).
fn early_points<'a>(
    rubric: &'a Rubric<'_>,
    told: &'a mut Vec<String>,
    progress: &'a mut dyn FnMut(&PointVerdict),
) -> impl FnMut(&str) + 'a {
    let mut scanned = 0;
    move |text: &str| {
        // A point's object ends with `}`: text without one settles nothing new, and reading
        // the whole reply again at every token would cost the square of its length.
        let new = text.get(scanned..).unwrap_or(text);
        scanned = text.len();
        if !new.contains('}') || told.len() >= rubric.key_points.len() {
            return;
        }
        for p in super::partial::complete_points(text) {
            if rubric.key_points.iter().any(|k| k.id == p.id) && !told.contains(&p.id) {
                told.push(p.id.clone());
                progress(&p);
            }
        }
    }
}

/// The client scrubs what it returns; scrubbing again here keeps any text built from it
/// (and any future path around the client) from storing a key or an escape.
fn ungraded(reason: String, raw_reply: Option<String>) -> Grade {
    Grade::Ungraded {
        reason: crate::scrub::server_text(&reason, REASON_MAX),
        raw_reply: raw_reply.map(|r| crate::scrub::server_text(&r, crate::llm::content_cap(MAX_TOKENS))),
    }
}

/// Several grades of one answer as one: per key point the majority verdict (a tie is
/// partial), with the evidence of a sample that gave it and `agreement` saying how many
/// did ("2/3"); a red flag or a wrong claim when more than half the samples raised it;
/// feedback and notes from the first sample.
pub fn vote(rubric: &Rubric<'_>, samples: &[Assessment]) -> Assessment {
    let n = samples.len();
    let mut first = samples[0].clone();
    let key_points = rubric
        .key_points
        .iter()
        .filter_map(|k| {
            let given: Vec<&PointVerdict> =
                samples.iter().filter_map(|a| a.key_points.iter().find(|p| p.id == k.id)).collect();
            let count = |v: Verdict| given.iter().filter(|p| p.verdict == v).count();
            let counts = [Verdict::Met, Verdict::Partial, Verdict::Missed].map(|v| (v, count(v)));
            let top = counts.iter().map(|c| c.1).max()?;
            let leaders: Vec<Verdict> = counts.iter().filter(|c| c.1 == top).map(|c| c.0).collect();
            let verdict = if let [one] = leaders.as_slice() { *one } else { Verdict::Partial };
            let agreeing = count(verdict);
            let mut p = given.iter().find(|p| p.verdict == verdict).map_or_else(
                || PointVerdict {
                    evidence: given.iter().find_map(|p| p.evidence.clone()),
                    note: Some("counted as partial: the samples were split".into()),
                    ..PointVerdict::bare(&k.id, verdict)
                },
                |p| (*p).clone(),
            );
            p.agreement = Some(format!("{agreeing}/{n}"));
            Some(p)
        })
        .collect();
    let majority = |hits: usize| 2 * hits > n;
    let mut red_flags = Vec::new();
    for a in samples {
        for f in &a.red_flags {
            let hits = samples.iter().filter(|s| s.red_flags.iter().any(|g| g.id == f.id)).count();
            if majority(hits) && !red_flags.iter().any(|g: &super::FlagHit| g.id == f.id) {
                red_flags.push(f.clone());
            }
        }
    }
    let fold = |s: &str| s.to_lowercase().split_whitespace().collect::<Vec<_>>().join(" ");
    let mut errors = Vec::new();
    for a in samples {
        for e in &a.errors {
            let hits = samples.iter().filter(|s| s.errors.iter().any(|x| fold(&x.quote) == fold(&e.quote))).count();
            if majority(hits) && !errors.iter().any(|x: &super::ClaimError| fold(&x.quote) == fold(&e.quote)) {
                errors.push(e.clone());
            }
        }
    }
    first.key_points = key_points;
    first.red_flags = red_flags;
    first.errors = errors;
    first
}

/// An empty answer needs no model: every point is missed.
fn empty(asked: &Asked<'_>) -> Grade {
    let key_points = asked.rubric.key_points.iter().map(|k| PointVerdict::bare(&k.id, Verdict::Missed)).collect();
    let a = Assessment {
        key_points,
        red_flags: Vec::new(),
        errors: Vec::new(),
        holistic: None,
        feedback: Feedback::default(),
        notes: vec!["empty answer".into()],
        analysis: None,
    };
    Grade::graded(&asked.rubric, a)
}

#[cfg(test)]
mod load_tests {
    use std::sync::Arc;

    use super::*;
    use crate::llm::{Endpoint, Limits};

    /// The load doctor predicts from is the prompt that would really be sent and the room
    /// a grading really asks for, not figures of its own.
    #[test]
    fn a_gradings_load_is_the_rendered_prompt_and_the_reply_room() {
        let bank = crate::bank::Bank::embedded().unwrap();
        let q = bank.get("gil").unwrap();
        let asked = Asked { id: &q.id, prompt: &q.prompt, reference: &q.reference_answer, rubric: q.rubric() };
        let client =
            Client::new(Endpoint::new("http://127.0.0.1:9/v1", None).unwrap(), Limits::default(), Arc::new(|_| {}));
        let g = LlmGrader::new(client, "plain-model".into(), Prompts::embedded(), ModeCache::fresh(None));
        let (prompt, reply) = g.load(&asked, "An answer.").unwrap();
        // The nonce a real grading draws is sixteen hex digits, as the estimate's is.
        let messages = g.messages(&asked, "An answer.", "0123456789abcdef").unwrap();
        let chars: usize = messages.iter().map(|m| m.content.chars().count()).sum();
        assert_eq!(prompt, chars.div_ceil(CHARS_PER_TOKEN) as u64);
        assert_eq!(reply, u64::from(max_tokens(&asked.rubric, false)));
        // A model that thinks first is given, and so predicted, more room.
        let thinking = LlmGrader::new(g.client.clone(), "qwen3-8b".into(), Prompts::embedded(), ModeCache::fresh(None));
        assert_eq!(thinking.load(&asked, "An answer.").unwrap().1, u64::from(max_tokens(&asked.rubric, true)));
    }
}
