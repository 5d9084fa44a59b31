//! The key points a reply still being written has already settled: each one whose JSON
//! object is complete, with its verdict and quotes, so they can be shown while the model
//! writes the rest. Pure: the text so far in, the finished points out.
//!
//! What comes out is provisional. The whole reply is still parsed and checked by
//! [`super::reply::parse`] (quotes against the answer, contradictions), which may change
//! a verdict; and a reply that never finishes is no grade at all.
//!
//! Read on every prefix of a reply, the result only grows: a point's object, once
//! closed, is never read differently, and the first verdict given for an id is the one
//! kept.

use serde_json::Value;

use super::PointVerdict;
use super::reply::{WirePoint, verdict_word};

/// The longest quote or reason passed on: the schema allows far less, and what is shown
/// while the reply is written is cut to a line anyway.
const TEXT_MAX: usize = 600;

/// A JSON container open at some point of the text.
struct Frame {
    /// An object (`{`), as opposed to a list (`[`).
    object: bool,
    /// The key it is the value of, when its parent is an object.
    key: Option<String>,
    /// Where it opened.
    start: usize,
}

/// The key points whose objects are complete in `text`, a grading reply so far, in the
/// order they were written: `key_points` as an object keyed by id or as a list of objects
/// with an `id`. `<think>` blocks, code fences and prose before the JSON are skipped. A
/// point with a verdict other than met, partial or missed is left out (the whole reply's
/// validation says what is wrong with it). Every string is scrubbed.
pub fn complete_points(text: &str) -> Vec<PointVerdict> {
    let mut points: Vec<PointVerdict> = Vec::new();
    let Some(start) = json_start(text) else { return points };
    let bytes = text.as_bytes();
    let mut stack: Vec<Frame> = Vec::new();
    // The last key read in an object, waiting for its value.
    let mut key: Option<String> = None;
    let mut expect_key = false;
    let mut i = start;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                // A string: found whole or not at all (then the text ends inside it).
                let Some(end) = string_end(bytes, i + 1) else { break };
                if expect_key && stack.last().is_some_and(|f| f.object) {
                    key = unescape(&text[i + 1..end]);
                }
                i = end;
            }
            b':' => expect_key = false,
            b',' => expect_key = stack.last().is_some_and(|f| f.object),
            b @ (b'{' | b'[') => {
                let in_object = stack.last().is_some_and(|f| f.object);
                let key = if in_object { key.take() } else { None };
                stack.push(Frame { object: b == b'{', key, start: i });
                expect_key = b == b'{';
            }
            b'}' | b']' => {
                let Some(frame) = stack.pop() else { break };
                expect_key = false;
                let in_points = |stack: &[Frame]| {
                    stack.len() == 2 && stack[1].key.as_deref() == Some("key_points") && stack[0].key.is_none()
                };
                if frame.object && in_points(&stack) {
                    let id = if stack[1].object { frame.key.clone() } else { None };
                    if let Some(p) = point(&text[frame.start..=i], id)
                        && !points.iter().any(|q| q.id == p.id)
                    {
                        points.push(p);
                    }
                }
                // Nothing after the key points settles one.
                if stack.is_empty() || (stack.len() == 1 && frame.key.as_deref() == Some("key_points")) {
                    break;
                }
            }
            _ => {}
        }
        i += 1;
    }
    points
}

/// Where the JSON starts: the first `{` after any `<think>` blocks. `None` while the
/// model is still thinking, or has not begun.
///
/// Decided by the text before that `{` alone, so that what comes later never moves it
/// (and never takes back a point already shown). A `</think>` written after it, by a
/// model whose template opened the block itself, is therefore not seen here: thinking
/// that holds a whole `key_points` object may then show points the final parse (which
/// sees the whole reply) does not use. The grade screen is the word either way.
fn json_start(text: &str) -> Option<usize> {
    const OPEN: &str = "<think>";
    const CLOSE: &str = "</think>";
    let mut from = 0;
    loop {
        let rest = text[from..].trim_start();
        let at = text.len() - rest.len();
        if rest.starts_with(OPEN) {
            from = at + rest.find(CLOSE)? + CLOSE.len();
        } else if !rest.is_empty() && OPEN.starts_with(rest) {
            // The opening tag itself is still arriving.
            return None;
        } else {
            break;
        }
    }
    let brace = from + text[from..].find('{')?;
    // A block opened after some prose: the JSON comes after its close.
    if let Some(open) = text[from..brace].find(OPEN) {
        let after = from + open + text[from + open..].find(CLOSE)? + CLOSE.len();
        return text[after..].find('{').map(|b| after + b);
    }
    Some(brace)
}

/// The index of the `"` that closes a string whose text starts at `from`.
fn string_end(bytes: &[u8], from: usize) -> Option<usize> {
    let mut escaped = false;
    for (i, &b) in bytes.iter().enumerate().skip(from) {
        match b {
            _ if escaped => escaped = false,
            b'\\' => escaped = true,
            b'"' => return Some(i),
            _ => {}
        }
    }
    None
}

/// A JSON string's text, escapes resolved.
fn unescape(raw: &str) -> Option<String> {
    if raw.contains('\\') { serde_json::from_str(&format!("\"{raw}\"")).ok() } else { Some(raw.to_string()) }
}

/// One key point's object, `id` given when it is keyed by it.
fn point(object: &str, id: Option<String>) -> Option<PointVerdict> {
    let mut v: Value = serde_json::from_str(object).ok()?;
    // In the keyed form the id is the key the object stands under.
    if let (Some(id), Some(fields)) = (id, v.as_object_mut()) {
        fields.insert("id".into(), Value::String(id));
    }
    let p: WirePoint = serde_json::from_value(v).ok()?;
    let verdict = verdict_word(&p.verdict)?;
    let quotes: Vec<&str> = p.evidence.iter().map(|q| q.trim()).filter(|q| !q.is_empty()).collect();
    let clean = |s: &str| crate::scrub::server_text(s, TEXT_MAX);
    Some(PointVerdict {
        evidence: (!quotes.is_empty()).then(|| clean(&quotes.join(" … "))),
        reason: p.reason.as_deref().map(clean).filter(|r| !r.trim().is_empty()),
        ..PointVerdict::bare(&clean(&p.id), verdict)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grade::Verdict;

    /// A reply as a reasoning model writes it: thinking (with braces), prose, a fence, and
    /// strings holding braces, brackets, quotes and escapes.
    const REPLY: &str = r#"<think>
The answer names {blue, yellow}; "key_points": {"a": {"verdict": "missed"}} is not it yet.
</think>
Here is the grade:
```json
{"key_points": {
  "blue-yellow": {"reason": "Names the pair {exactly}.", "evidence": ["Blue and \"yellow\" [pigments]"], "verdict": "met"},
  "subtractive": {"reason": "Half of it.", "evidence": ["absorbs light", "the other \\ reflects"], "verdict": "Partial"},
  "odd": {"reason": "x", "evidence": [], "verdict": "sort of"},
  "light-differs": {"reason": "Not said.", "evidence": [], "verdict": "missed"},
  "blue-yellow": {"reason": "again", "evidence": [], "verdict": "missed"}
 },
 "red_flags": {"red-and-blue": {"evidence": [], "hit": false, "verdict": "met"}},
 "errors": [],
 "feedback": {"strengths": ["{"], "gaps": [], "next_step": "Read."}}
```"#;

    fn summary(points: &[PointVerdict]) -> Vec<(String, Verdict, Option<String>)> {
        points.iter().map(|p| (p.id.clone(), p.verdict, p.evidence.clone())).collect()
    }

    #[test]
    fn every_prefix_of_a_reply_gives_a_growing_list_of_the_finished_points() {
        let mut before: Vec<(String, Verdict, Option<String>)> = Vec::new();
        let mut grew_at = Vec::new();
        for (cut, _) in REPLY.char_indices().chain([(REPLY.len(), ' ')]) {
            let now = summary(&complete_points(&REPLY[..cut]));
            assert!(now.starts_with(&before), "at {cut}: {before:?} then {now:?}");
            if now.len() > before.len() {
                grew_at.push(cut);
            }
            before = now;
        }
        assert_eq!(
            before,
            [
                ("blue-yellow".to_string(), Verdict::Met, Some("Blue and \"yellow\" [pigments]".to_string())),
                ("subtractive".into(), Verdict::Partial, Some("absorbs light … the other \\ reflects".into())),
                ("light-differs".into(), Verdict::Missed, None),
            ]
        );
        // Each point is out the moment its object closes, not later.
        for (at, id) in grew_at.iter().zip(["blue-yellow", "subtractive", "light-differs"]) {
            let line = REPLY[..*at].lines().last().unwrap();
            assert!(line.trim_start().starts_with(&format!("\"{id}\"")) && line.ends_with('}'), "{line}");
        }
    }

    #[test]
    fn points_as_a_list_with_ids_count_too() {
        let text = r#"{"key_points": [{"id": "a", "evidence": "one two three", "verdict": "met"}, {"id": "b", "verd"#;
        assert_eq!(summary(&complete_points(text)), [("a".to_string(), Verdict::Met, Some("one two three".into()))]);
    }

    #[test]
    fn nothing_is_read_inside_an_unfinished_thought_or_outside_the_key_points() {
        assert!(
            complete_points("<think>{\"key_points\": {\"a\": {\"evidence\": [], \"verdict\": \"met\"}}}").is_empty()
        );
        assert!(complete_points("<thi").is_empty());
        assert!(complete_points("Sure. <think>{\"key_points\": {\"a\": {\"verdict\": \"met\"}}}").is_empty());
        let t = "Sure. <think>{}</think> {\"key_points\": {\"a\": {\"verdict\": \"missed\"}";
        assert_eq!(summary(&complete_points(t)), [("a".to_string(), Verdict::Missed, None)]);
        // Braces before a close with no opening tag are read: only the text before the JSON
        // decides where it starts, so what is shown is never taken back.
        let t = "so {\"key_points\": {\"a\": {\"verdict\": \"met\"}}}</think>{\"key_points\": {}}";
        assert_eq!(summary(&complete_points(t)), [("a".to_string(), Verdict::Met, None)]);
        // An object nested deeper than a point's is not one.
        assert!(complete_points(r#"{"other": {"key_points": {"a": {"verdict": "met"}}}}"#).is_empty());
        assert!(complete_points(r#"{"red_flags": {"a": {"verdict": "met"}}, "key_points": {}}"#).is_empty());
    }

    #[test]
    fn strings_are_scrubbed_and_garbage_does_not_panic() {
        let text = "{\"key_points\": {\"a\\u001b[2J\": {\"evidence\": [\"x\\u001b[31my z\"], \"verdict\": \"met\"}}}";
        let p = &complete_points(text)[0];
        assert!(!p.id.contains('\u{1b}') && !p.evidence.as_deref().unwrap().contains('\u{1b}'), "{p:?}");
        for junk in ["}", "]]]{", "{\"key_points\": }}}", "{\"key_points\": {\"a\": {]]]", "\"", "{\"\\", "é{\"é"] {
            let _ = complete_points(junk);
        }
    }
}
