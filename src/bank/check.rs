//! The shipped bank's minimums: stricter than what loads, so that every question the
//! project ships has a rubric deep enough to grade fairly. `grill bank check --strict`
//! applies them to any folder.

use super::{Bank, Problem, Question};

/// Fewest key points a shipped question has.
pub const MIN_KEY_POINTS: usize = 3;
/// Fewest cues a key point has.
pub const MIN_CUES: usize = 2;
/// Fewest follow-ups a shipped question has.
pub const MIN_FOLLOW_UPS: usize = 2;

/// Every way the questions of `bank` fall short of the shipped-bank minimums.
pub fn minimum_problems(bank: &Bank) -> Vec<Problem> {
    bank.questions().iter().flat_map(question_problems).collect()
}

fn question_problems(q: &Question) -> Vec<Problem> {
    let mut msgs: Vec<String> = Vec::new();
    if q.key_points.len() < MIN_KEY_POINTS {
        msgs.push(format!("has {} key points; ship at least {MIN_KEY_POINTS}", q.key_points.len()));
    }
    for k in &q.key_points {
        if k.cues.len() < MIN_CUES {
            msgs.push(format!("key point `{}` has {} cue(s); give it at least {MIN_CUES}", k.id, k.cues.len()));
        }
    }
    if q.red_flags.is_empty() {
        msgs.push("has no red flag; ship at least one".into());
    }
    if q.follow_ups.len() < MIN_FOLLOW_UPS {
        msgs.push(format!("has {} follow-ups; ship at least {MIN_FOLLOW_UPS}", q.follow_ups.len()));
    }
    for f in &q.follow_ups {
        if f.probes.is_empty() {
            msgs.push(format!("follow-up `{}` probes no key point", f.id));
        }
        if f.answer.trim().is_empty() {
            msgs.push(format!("follow-up `{}` has no answer", f.id));
        }
        for k in &f.key_points {
            if k.cues.len() < MIN_CUES {
                msgs.push(format!(
                    "key point `{}` of follow-up `{}` has {} cue(s); give it at least {MIN_CUES}",
                    k.id,
                    f.id,
                    k.cues.len()
                ));
            }
        }
    }
    if q.sources.is_empty() {
        msgs.push("names no `sources`".into());
    }
    if q.python.is_none() {
        msgs.push("has no `python` version the facts were checked against".into());
    }
    if q.tags.is_empty() {
        msgs.push("has no `tags`".into());
    }
    msgs.into_iter()
        .map(|message| Problem {
            file: q.origin.file.clone(),
            line: q.origin.line,
            column: 0,
            question: Some(q.id.clone()),
            message,
            excerpt: None,
        })
        .collect()
}
