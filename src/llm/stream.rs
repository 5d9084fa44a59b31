//! A streamed chat completion, read without any I/O: bytes go in as they arrive, [`Lines`]
//! split them, and a [`Decoder`] folds them into the same [`ChatReply`] a whole reply
//! parses to: [`Sse`] for server-sent events (OpenAI-compatible servers), and
//! `ollama::Stream` for Ollama's native one JSON object a line. Pure, so every way a
//! stream goes wrong (a line split across reads, `\r\n`, comments, an error sent
//! mid-stream, no terminator) is tested on literals.

use serde::Deserialize;

use super::protocol::{ChatReply, WireUsage};

/// Why a stream is not a reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// More than the cap: a line, an event or the text.
    TooLarge,
    /// Not a usable reply, and why (the words go to the model in a repair request).
    Bad(String),
}

/// Splits a byte stream into lines, ended by `\n`, `\r\n` or a bare `\r`. Bytes may
/// arrive cut anywhere, even inside a UTF-8 character: only whole lines are decoded. Both
/// streamed formats (server-sent events, and Ollama's one JSON object a line) are read
/// through it.
#[derive(Debug)]
pub struct Lines {
    /// Bytes of a line not yet ended.
    line: Vec<u8>,
    /// Whether the last byte fed was a `\r`: a `\n` right after it ends no second line.
    after_cr: bool,
    /// The longest line kept.
    max: usize,
}

impl Lines {
    /// A splitter that refuses any line longer than `max` bytes.
    pub fn new(max: usize) -> Lines {
        Lines { line: Vec::new(), after_cr: false, max }
    }

    /// Feeds the next bytes; returns every line they complete, in order, without its end.
    pub fn feed(&mut self, bytes: &[u8]) -> Result<Vec<String>, Fault> {
        let mut lines = Vec::new();
        for &b in bytes {
            let after_cr = std::mem::replace(&mut self.after_cr, b == b'\r');
            match b {
                b'\n' if after_cr => {}
                b'\r' | b'\n' => lines.push(String::from_utf8_lossy(&std::mem::take(&mut self.line)).into_owned()),
                _ if self.line.len() >= self.max => return Err(Fault::TooLarge),
                _ => self.line.push(b),
            }
        }
        Ok(lines)
    }

    /// At the end of the stream: the last line, when the stream did not end it.
    pub fn finish(&mut self) -> Option<String> {
        let line = std::mem::take(&mut self.line);
        (!line.is_empty()).then(|| String::from_utf8_lossy(&line).into_owned())
    }
}

/// A reply read as its bytes arrive: the one interface the client reads every streamed
/// format through.
pub trait Decoder {
    /// Feeds the next bytes of the body; returns whether the reply's text grew.
    fn feed(&mut self, bytes: &[u8]) -> Result<bool, Fault>;
    /// The reply's text so far, unscrubbed: for a parser to read, never to be shown.
    fn text(&self) -> &str;
    /// The whole reply, once the body has ended.
    fn finish(self) -> Result<ChatReply, Fault>;
}

/// A chat completion streamed as server-sent events: the events split out by
/// [`SseParser`], folded by [`Assembly`].
#[derive(Debug)]
pub struct Sse {
    parser: SseParser,
    reply: Assembly,
}

impl Sse {
    /// A reader refusing a line, an event or text longer than `max` bytes.
    pub fn new(max: usize) -> Sse {
        Sse { parser: SseParser::new(max), reply: Assembly::new(max) }
    }
}

impl Decoder for Sse {
    fn feed(&mut self, bytes: &[u8]) -> Result<bool, Fault> {
        let mut grew = false;
        for event in self.parser.feed(bytes)? {
            grew |= self.reply.push(&event)?;
        }
        Ok(grew)
    }

    fn text(&self) -> &str {
        self.reply.content()
    }

    fn finish(mut self) -> Result<ChatReply, Fault> {
        if let Some(event) = self.parser.finish() {
            self.reply.push(&event)?;
        }
        self.reply.finish()
    }
}

/// Splits a byte stream into server-sent events, keeping each event's `data` (several
/// `data:` lines joined with `\n`).
#[derive(Debug)]
pub struct SseParser {
    lines: Lines,
    /// The `data` of the event being read, once it has a `data:` line.
    data: Option<String>,
    /// The longest line or event kept: one honest event never nears a whole reply's size,
    /// so a longer one is refused rather than held.
    max: usize,
}

impl SseParser {
    /// A parser that refuses any line or event longer than `max` bytes.
    pub fn new(max: usize) -> SseParser {
        SseParser { lines: Lines::new(max), data: None, max }
    }

    /// Feeds the next bytes; returns the data of every event they complete, in order.
    pub fn feed(&mut self, bytes: &[u8]) -> Result<Vec<String>, Fault> {
        let mut events = Vec::new();
        for line in self.lines.feed(bytes)? {
            if let Some(event) = self.line_ended(&line)? {
                events.push(event);
            }
        }
        Ok(events)
    }

    /// At the end of the stream: the data of an event not closed by a blank line. The
    /// standard drops such an event; it is kept here so that a terminator sent last
    /// without its blank line still ends the reply.
    pub fn finish(&mut self) -> Option<String> {
        match self.lines.finish().map(|line| self.line_ended(&line)) {
            Some(Ok(Some(event))) => Some(event),
            _ => self.data.take(),
        }
    }

    /// Handles one whole line; returns an event's data when the line is the blank line
    /// that ends it.
    fn line_ended(&mut self, line: &str) -> Result<Option<String>, Fault> {
        if line.is_empty() {
            return Ok(self.data.take());
        }
        // A comment, such as `: keep-alive`, sent to keep an idle connection open.
        if line.starts_with(':') {
            return Ok(None);
        }
        let (field, value) = match line.split_once(':') {
            Some((f, v)) => (f, v.strip_prefix(' ').unwrap_or(v)),
            None => (line, ""),
        };
        // `event`, `id` and `retry` say nothing a chat completion needs.
        if field == "data" {
            match &mut self.data {
                Some(data) => {
                    if data.len() + 1 + value.len() > self.max {
                        return Err(Fault::TooLarge);
                    }
                    data.push('\n');
                    data.push_str(value);
                }
                None => self.data = Some(value.to_string()),
            }
        }
        Ok(None)
    }
}

#[derive(Deserialize)]
struct WireChunk {
    #[serde(default)]
    model: Option<String>,
    #[serde(default)]
    choices: Vec<WireChunkChoice>,
    #[serde(default)]
    usage: Option<WireUsage>,
    #[serde(default)]
    error: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct WireChunkChoice {
    #[serde(default)]
    delta: Option<WireDelta>,
    #[serde(default)]
    finish_reason: Option<String>,
}

#[derive(Deserialize)]
struct WireDelta {
    #[serde(default)]
    content: Option<String>,
    /// Some servers (and reasoning models) stream their thinking here.
    #[serde(default)]
    reasoning_content: Option<String>,
}

/// The marker OpenAI-compatible servers send as the last event.
const DONE: &str = "[DONE]";

/// A streamed reply being put together from its events' data.
#[derive(Debug)]
pub struct Assembly {
    model: Option<String>,
    content: String,
    reasoning: String,
    finish_reason: Option<String>,
    usage: Option<super::Usage>,
    done: bool,
    /// The most text kept, content and reasoning together.
    max: usize,
}

impl Assembly {
    /// An empty reply that may grow to `max` bytes of text.
    pub fn new(max: usize) -> Assembly {
        Assembly {
            model: None,
            content: String::new(),
            reasoning: String::new(),
            finish_reason: None,
            usage: None,
            done: false,
            max,
        }
    }

    /// The reply's text so far, unscrubbed: what the caller's parser is to read, never
    /// what is to be shown.
    pub fn content(&self) -> &str {
        &self.content
    }

    /// Adds one event's data. Returns whether the text grew. An error the server sends
    /// in the stream ends the reply: it is no grade.
    pub fn push(&mut self, data: &str) -> Result<bool, Fault> {
        let data = data.trim();
        if data == DONE {
            self.done = true;
            return Ok(false);
        }
        if self.done || data.is_empty() {
            return Ok(false);
        }
        let chunk: WireChunk = serde_json::from_str(data).map_err(|e| {
            Fault::Bad(format!("a streamed event is not a chat-completion chunk ({e}): {}", prefix(data)))
        })?;
        if let Some(error) = chunk.error {
            return Err(stopped_with(error));
        }
        if chunk.model.is_some() {
            self.model = chunk.model;
        }
        if let Some(u) = chunk.usage {
            self.usage = Some(u.into());
        }
        let mut grew = false;
        if let Some(choice) = chunk.choices.into_iter().next() {
            if let Some(delta) = choice.delta {
                if self.content.len() + self.reasoning.len() + delta_len(&delta) > self.max {
                    return Err(Fault::TooLarge);
                }
                if let Some(c) = delta.content.filter(|c| !c.is_empty()) {
                    self.content.push_str(&c);
                    grew = true;
                }
                if let Some(r) = delta.reasoning_content {
                    self.reasoning.push_str(&r);
                }
            }
            if choice.finish_reason.is_some() {
                self.finish_reason = choice.finish_reason;
            }
        }
        Ok(grew)
    }

    /// The whole reply, once the stream has ended. A stream that ends without its
    /// terminator (`[DONE]`, or a chunk with a `finish_reason`) was cut short: what came
    /// is not the whole reply, so it is not one.
    pub fn finish(self) -> Result<ChatReply, Fault> {
        if !self.done && self.finish_reason.is_none() {
            return Err(Fault::Bad(format!(
                "the stream ended before the reply was finished (no [DONE] and no finish_reason), after: {}",
                prefix(&self.content)
            )));
        }
        // As in a whole reply: the thinking stands in for an empty answer.
        let content = if self.content.trim().is_empty() { self.reasoning } else { self.content };
        Ok(ChatReply { model: self.model, content, finish_reason: self.finish_reason, usage: self.usage })
    }
}

fn delta_len(d: &WireDelta) -> usize {
    d.content.as_ref().map_or(0, String::len) + d.reasoning_content.as_ref().map_or(0, String::len)
}

/// The fault of an `{"error": ...}` a server sends in place of the rest of a stream: its
/// message (a string, or an object with one), as for an error status.
pub(super) fn stopped_with(error: serde_json::Value) -> Fault {
    let message = super::error_message(&serde_json::json!({ "error": error }).to_string());
    Fault::Bad(format!("the server stopped the stream with an error: {message}"))
}

/// The start of `s`, for a message: enough to see what came, never a flood.
pub(super) fn prefix(s: &str) -> String {
    const MAX: usize = 2000;
    match s.char_indices().nth(MAX) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

/// Whether a `Content-Type` says the body is a stream of server-sent events; anything
/// else (`application/json` from a server that does not stream) is read whole.
pub fn is_event_stream(content_type: Option<&str>) -> bool {
    content_type.is_some_and(|t| t.trim().to_ascii_lowercase().starts_with("text/event-stream"))
}

/// Whether a `Content-Type` says the body is one whole JSON document.
pub fn is_json(content_type: Option<&str>) -> bool {
    content_type.is_some_and(|t| {
        let t = t.trim().to_ascii_lowercase();
        t == "application/json" || t.starts_with("application/json;")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunk(content: &str) -> String {
        serde_json::json!({"model": "m", "choices": [{"index": 0, "delta": {"content": content}, "finish_reason": null}]})
            .to_string()
    }

    /// Every event of `stream`, fed in pieces of `step` bytes.
    fn events(stream: &[u8], step: usize) -> Vec<String> {
        let mut p = SseParser::new(1 << 16);
        let mut out = Vec::new();
        for piece in stream.chunks(step) {
            out.extend(p.feed(piece).unwrap());
        }
        out.extend(p.finish());
        out
    }

    #[test]
    fn events_come_out_whole_however_the_bytes_are_cut() {
        let stream = "data: {\"a\":\"é\"}\n\n: keep-alive\n\ndata: b\r\n\r\nevent: x\nid: 3\ndata: c1\ndata:c2\n\ndata: [DONE]\n\n";
        let want = ["{\"a\":\"é\"}", "b", "c1\nc2", "[DONE]"];
        for step in 1..stream.len() {
            assert_eq!(events(stream.as_bytes(), step), want, "cut every {step} bytes");
        }
    }

    #[test]
    fn bare_carriage_returns_end_lines_and_a_last_event_without_its_blank_line_counts() {
        assert_eq!(events(b"data: a\r\rdata: [DONE]", 3), ["a", "[DONE]"]);
        assert_eq!(events(b"data: a\r\n\r\ndata: [DONE]\n", 100), ["a", "[DONE]"]);
        // Comments and other fields alone make no event.
        assert!(events(b": ping\n\nretry: 10\n\n", 4).is_empty());
    }

    #[test]
    fn lines_come_out_whole_however_the_bytes_are_cut() {
        let stream = "{\"a\":\"é\"}\n\r\nb\r\nc\rd";
        for step in 1..stream.len() {
            let mut lines = Lines::new(64);
            let mut out = Vec::new();
            for piece in stream.as_bytes().chunks(step) {
                out.extend(lines.feed(piece).unwrap());
            }
            out.extend(lines.finish());
            assert_eq!(out, ["{\"a\":\"é\"}", "", "b", "c", "d"], "cut every {step} bytes");
        }
        assert_eq!(Lines::new(64).finish(), None);
        assert_eq!(Lines::new(4).feed(b"12345"), Err(Fault::TooLarge));
    }

    #[test]
    fn a_line_or_event_over_the_cap_is_refused() {
        let mut p = SseParser::new(8);
        assert_eq!(p.feed(b"data: 0123456789"), Err(Fault::TooLarge));
        let mut p = SseParser::new(8);
        assert_eq!(p.feed(b"data: 1234\ndata: 5678\n"), Err(Fault::TooLarge));
    }

    fn assemble(events: &[String]) -> Result<ChatReply, Fault> {
        let mut a = Assembly::new(1 << 16);
        for e in events {
            a.push(e)?;
        }
        a.finish()
    }

    #[test]
    fn chunks_assemble_into_the_reply_with_usage_from_the_last_chunk() {
        let usage = r#"{"choices":[],"usage":{"prompt_tokens":9,"completion_tokens":3,"prompt_tokens_details":{"cached_tokens":4}}}"#;
        let stop = r#"{"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}"#;
        let events = [chunk("{\"a\":"), chunk(""), chunk(" 1}"), stop.into(), usage.into(), "[DONE]".into()];
        let r = assemble(&events).unwrap();
        assert_eq!(r.content, "{\"a\": 1}");
        assert_eq!(r.model.as_deref(), Some("m"));
        assert_eq!(r.finish_reason.as_deref(), Some("stop"));
        let u = r.usage.unwrap();
        assert_eq!((u.prompt_tokens, u.completion_tokens, u.cached_tokens), (9, 3, Some(4)));
    }

    #[test]
    fn a_finish_reason_or_done_ends_a_reply_and_nothing_else_does() {
        let stop = r#"{"choices":[{"delta":{"content":"}"},"finish_reason":"length"}]}"#;
        assert_eq!(assemble(&[chunk("{"), stop.into()]).unwrap().finish_reason.as_deref(), Some("length"));
        assert_eq!(assemble(&[chunk("{}"), "[DONE]".into()]).unwrap().content, "{}");
        match assemble(&[chunk("{\"key_points\": {")]) {
            Err(Fault::Bad(why)) => {
                assert!(why.starts_with("the stream ended before the reply was finished"), "{why}");
                assert!(why.ends_with("after: {\"key_points\": {"), "{why}");
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(assemble(&[]), Err(Fault::Bad(_))));
    }

    #[test]
    fn an_error_sent_mid_stream_ends_the_reply_with_its_message() {
        let err = r#"{"error":{"message":"model overloaded","type":"server_error"}}"#;
        assert_eq!(
            assemble(&[chunk("{"), err.into()]).unwrap_err(),
            Fault::Bad("the server stopped the stream with an error: model overloaded".into())
        );
        let plain = r#"{"error":"boom"}"#;
        assert_eq!(
            assemble(&[plain.into()]).unwrap_err(),
            Fault::Bad("the server stopped the stream with an error: boom".into())
        );
        match assemble(&["<html>".into()]) {
            Err(Fault::Bad(why)) => assert!(why.contains("not a chat-completion chunk"), "{why}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn thinking_streams_beside_the_answer_and_stands_in_for_an_empty_one() {
        let think = r#"{"choices":[{"delta":{"reasoning_content":"hmm"}}]}"#;
        let r = assemble(&[think.into(), chunk("{}"), "[DONE]".into()]).unwrap();
        assert_eq!(r.content, "{}");
        let r = assemble(&[think.into(), "[DONE]".into()]).unwrap();
        assert_eq!(r.content, "hmm");
    }

    #[test]
    fn text_past_the_cap_is_refused() {
        let mut a = Assembly::new(4);
        assert_eq!(a.push(&chunk("abc")), Ok(true));
        assert_eq!(a.push(&chunk("de")), Err(Fault::TooLarge));
    }

    #[test]
    fn events_after_done_are_ignored() {
        let r = assemble(&["[DONE]".into(), chunk("late")]).unwrap();
        assert_eq!(r.content, "");
    }

    #[test]
    fn the_content_type_decides_how_a_body_is_read() {
        assert!(is_event_stream(Some("text/event-stream; charset=utf-8")));
        assert!(is_event_stream(Some("Text/Event-Stream")));
        assert!(!is_event_stream(Some("application/json")));
        assert!(!is_event_stream(None));
        assert!(is_json(Some("application/json; charset=utf-8")));
        assert!(!is_json(Some("application/x-ndjson")));
        assert!(!is_json(None));
    }
}
