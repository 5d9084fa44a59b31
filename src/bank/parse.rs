//! One bank file from TOML text to questions, collecting every problem with its line.
//!
//! Pure: takes the file's shown name and text, so it is tested on string literals.

use serde::Deserialize;
use toml::Spanned;

use super::{Example, FollowUp, KeyPoint, Level, Origin, Problem, Question, RedFlag, Severity};
use crate::text::Cue;

/// What one file yielded: the questions that parsed, and every problem found.
#[derive(Debug, Default)]
pub struct ParsedFile {
    /// Questions found in the file (even when problems were found too).
    pub questions: Vec<Question>,
    /// Problems, in file order.
    pub problems: Vec<Problem>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    question: Vec<Spanned<RawQuestion>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawQuestion {
    id: Spanned<String>,
    topic: Spanned<String>,
    level: Level,
    #[serde(default)]
    tags: Vec<Spanned<String>>,
    prompt: Spanned<String>,
    testing: Spanned<String>,
    reference_answer: Spanned<String>,
    #[serde(default)]
    examples: Vec<RawExample>,
    #[serde(default)]
    sources: Vec<Spanned<String>>,
    python: Option<Spanned<String>>,
    #[serde(default)]
    key_points: Vec<Spanned<RawPoint>>,
    #[serde(default)]
    red_flags: Vec<Spanned<RawFlag>>,
    #[serde(default)]
    follow_ups: Vec<Spanned<RawFollowUp>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExample {
    code: Spanned<String>,
    output: Option<Spanned<String>>,
    min_python: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPoint {
    id: Spanned<String>,
    point: Spanned<String>,
    weight: Option<Spanned<i64>>,
    cues: Spanned<Vec<Spanned<String>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFlag {
    id: Spanned<String>,
    point: Spanned<String>,
    severity: Severity,
    cues: Spanned<Vec<Spanned<String>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFollowUp {
    id: Spanned<String>,
    prompt: Spanned<String>,
    testing: Spanned<String>,
    #[serde(default)]
    probes: Vec<Spanned<String>>,
    answer: Spanned<String>,
    #[serde(default)]
    key_points: Vec<Spanned<RawPoint>>,
    #[serde(default)]
    red_flags: Vec<Spanned<RawFlag>>,
}

/// Maps byte offsets of one file to lines, columns and the enclosing question's id.
pub(crate) struct Locator<'a> {
    file: &'a str,
    text: &'a str,
    line_starts: Vec<usize>,
    /// (offset of a `[[question]]` header, the id declared under it).
    questions: Vec<(usize, Option<String>)>,
}

impl<'a> Locator<'a> {
    pub(crate) fn new(file: &'a str, text: &'a str) -> Self {
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        // A light scan, independent of the TOML parser, so a question can be named even in
        // a file that does not parse.
        let mut questions: Vec<(usize, Option<String>)> = Vec::new();
        let mut in_header_table = false;
        for &start in &line_starts {
            let line = text[start..].lines().next().unwrap_or("").trim();
            if line.starts_with("[[question]]") {
                questions.push((start, None));
                in_header_table = true;
            } else if line.starts_with('[') {
                in_header_table = false;
            } else if in_header_table
                && let Some(rest) = line.strip_prefix("id")
                && let Some(value) = rest.trim_start().strip_prefix('=')
                && let Some(last) = questions.last_mut()
                && last.1.is_none()
            {
                last.1 = Some(value.trim().trim_matches(['"', '\'']).to_string());
            }
        }
        Locator { file, text, line_starts, questions }
    }

    fn line_col(&self, offset: usize) -> (usize, usize) {
        let line = self.line_starts.partition_point(|&s| s <= offset).max(1);
        let start = self.line_starts[line - 1];
        let col = self.text.get(start..offset).map_or(1, |s| s.chars().count() + 1);
        (line, col)
    }

    /// Where a TOML error really is: the parser points an unknown field at the table
    /// around it, so the line that sets the field is looked up after `offset`.
    pub(crate) fn error_offset(&self, offset: usize, message: &str) -> usize {
        let Some(field) = message.strip_prefix("unknown field `").and_then(|m| m.split('`').next()) else {
            return offset;
        };
        self.line_starts
            .iter()
            .copied()
            .filter(|&s| s >= self.line_starts[self.line_col(offset).0 - 1])
            .find(|&s| {
                let line = self.text[s..].trim_start();
                line.strip_prefix(field).is_some_and(|rest| rest.trim_start().starts_with('='))
            })
            .map_or(offset, |s| s + (self.text[s..].len() - self.text[s..].trim_start().len()))
    }

    fn question_at(&self, offset: usize) -> Option<String> {
        let i = self.questions.partition_point(|(start, _)| *start <= offset);
        if i == 0 { None } else { self.questions[i - 1].1.clone() }
    }

    pub(crate) fn problem(&self, offset: usize, question: Option<&str>, message: impl Into<String>) -> Problem {
        let (line, column) = self.line_col(offset);
        let excerpt = self.text[self.line_starts[line - 1]..].lines().next().map(|l| l.to_string());
        Problem {
            file: self.file.to_string(),
            line,
            column,
            question: question.map(str::to_string).or_else(|| self.question_at(offset)),
            message: message.into(),
            excerpt,
        }
    }
}

/// Parses one bank file. Never fails: problems are returned beside what did parse.
///
/// Each `[[question]]` is parsed on its own, so a syntax error or a misspelt field in
/// one question does not hide the problems of the others.
pub fn parse_file(file: &str, text: &str) -> ParsedFile {
    let loc = Locator::new(file, text);
    let mut bounds: Vec<usize> = loc.questions.iter().map(|(start, _)| *start).collect();
    if bounds.first() != Some(&0) {
        bounds.insert(0, 0);
    }
    bounds.push(text.len());
    let mut out = ParsedFile::default();
    for pair in bounds.windows(2) {
        parse_chunk(&loc, pair[0], &text[pair[0]..pair[1]], &mut out);
    }
    out
}

fn parse_chunk(loc: &Locator<'_>, base: usize, chunk: &str, out: &mut ParsedFile) {
    let raw: RawFile = match toml::from_str(chunk) {
        Ok(raw) => raw,
        Err(e) => {
            let message = e.message().trim().to_string();
            let offset = loc.error_offset(base + e.span().map_or(0, |s| s.start), &message);
            out.problems.push(loc.problem(offset, None, message));
            return;
        }
    };
    let file = loc.file;
    for q in raw.question {
        let header = base + q.span().start;
        let q = q.into_inner();
        let id = q.id.get_ref().clone();
        let mut v = Validator { loc, base, question: id.clone(), problems: &mut out.problems };
        v.check_id(&q.id, "question id");
        for (field, value) in [
            ("topic", &q.topic),
            ("prompt", &q.prompt),
            ("testing", &q.testing),
            ("reference_answer", &q.reference_answer),
        ] {
            if value.get_ref().trim().is_empty() {
                v.report(value.span().start, format!("`{field}` is empty"));
            }
            v.text(field, value);
        }
        for tag in &q.tags {
            v.text("tags", tag);
        }
        for source in &q.sources {
            v.text("sources", source);
        }
        if let Some(python) = &q.python {
            v.text("python", python);
        }
        for (i, e) in q.examples.iter().enumerate() {
            v.text(&format!("examples[{}].code", i + 1), &e.code);
            if let Some(output) = &e.output {
                v.text(&format!("examples[{}].output", i + 1), output);
            }
            if let Some(min) = &e.min_python {
                v.text(&format!("examples[{}].min_python", i + 1), min);
            }
        }
        if q.key_points.is_empty() {
            v.report(q.id.span().start, "no key points: add at least one [[question.key_points]] (the rubric)");
        }
        let key_points = v.points("", q.key_points);
        let red_flags = v.flags("", q.red_flags);
        let mut follow_ups: Vec<FollowUp> = Vec::new();
        for f in q.follow_ups {
            let f_start = f.span().start;
            let f = f.into_inner();
            v.check_id(&f.id, "follow-up id");
            if follow_ups.iter().any(|o| &o.id == f.id.get_ref()) {
                v.report(f.id.span().start, format!("duplicate follow-up id `{}`", f.id.get_ref()));
            }
            if f.prompt.get_ref().trim().is_empty() {
                v.report(f.prompt.span().start, "follow-up `prompt` is empty");
            }
            let owner = format!("follow_ups[{}].", f.id.get_ref());
            for (field, value) in [("prompt", &f.prompt), ("testing", &f.testing), ("answer", &f.answer)] {
                v.text(&format!("{owner}{field}"), value);
            }
            if f.key_points.is_empty() {
                v.report(f_start, format!("follow-up `{}` has no key points", f.id.get_ref()));
            }
            for p in &f.probes {
                if !key_points.iter().any(|k| &k.id == p.get_ref()) {
                    let known: Vec<&str> = key_points.iter().map(|k| k.id.as_str()).collect();
                    v.report(
                        p.span().start,
                        format!(
                            "follow-up `{}` probes `{}`, which is not a key point of this question (key points: {})",
                            f.id.get_ref(),
                            p.get_ref(),
                            known.join(", ")
                        ),
                    );
                }
            }
            follow_ups.push(FollowUp {
                id: f.id.into_inner(),
                prompt: f.prompt.into_inner().trim().to_string(),
                testing: f.testing.into_inner().trim().to_string(),
                probes: f.probes.into_iter().map(Spanned::into_inner).collect(),
                answer: f.answer.into_inner().trim().to_string(),
                key_points: v.points(&owner, f.key_points),
                red_flags: v.flags(&owner, f.red_flags),
            });
        }
        let (line, _) = loc.line_col(header);
        out.questions.push(Question {
            id,
            topic: q.topic.into_inner(),
            level: q.level,
            tags: q.tags.into_iter().map(Spanned::into_inner).collect(),
            prompt: q.prompt.into_inner().trim().to_string(),
            testing: q.testing.into_inner().trim().to_string(),
            reference_answer: q.reference_answer.into_inner().trim().to_string(),
            examples: q
                .examples
                .into_iter()
                .map(|e| Example {
                    code: e.code.into_inner(),
                    output: e.output.map(Spanned::into_inner),
                    min_python: e.min_python.map(Spanned::into_inner),
                })
                .collect(),
            sources: q.sources.into_iter().map(Spanned::into_inner).collect(),
            python: q.python.map(Spanned::into_inner),
            key_points,
            red_flags,
            follow_ups,
            origin: Origin { file: file.to_string(), line, folder: None },
        });
    }
}

struct Validator<'a, 'b> {
    loc: &'a Locator<'a>,
    /// Offset of the parsed chunk in the file: spans are relative to the chunk.
    base: usize,
    question: String,
    problems: &'b mut Vec<Problem>,
}

impl Validator<'_, '_> {
    fn report(&mut self, offset: usize, message: impl Into<String>) {
        let problem = self.loc.problem(self.base + offset, Some(&self.question), message);
        self.problems.push(problem);
    }

    fn check_id(&mut self, id: &Spanned<String>, what: &str) {
        let s = id.get_ref();
        if !super::is_kebab(s) {
            self.report(id.span().start, format!("{what} `{s}` is not kebab-case (lowercase letters, digits and -)"));
        }
    }

    /// Reports a forbidden character in a text field, at the line that holds it (or its
    /// escape), so that no bank text can drive the terminal it is shown on.
    fn text(&mut self, field: &str, value: &Spanned<String>) {
        let Some((_, c)) = crate::scrub::first_forbidden(value.get_ref()) else {
            return;
        };
        let span = value.span();
        let raw = self.loc.text.get(self.base + span.start..self.base + span.end).unwrap_or("");
        let at = raw_position(raw, c).map_or(span.start, |i| span.start + i);
        self.report(at, forbidden_message(field, c));
    }

    fn check_cues(&mut self, owner: &str, cues: &Spanned<Vec<Spanned<String>>>) -> Vec<String> {
        if cues.get_ref().is_empty() {
            self.report(cues.span().start, format!("`{owner}` has no cues: the offline grader could never find it"));
        }
        let mut out = Vec::new();
        for cue in cues.get_ref() {
            if Cue::parse(cue.get_ref()).is_none() {
                self.report(cue.span().start, format!("cue {:?} of `{owner}` has no words to match", cue.get_ref()));
            } else {
                out.push(cue.get_ref().clone());
            }
        }
        out
    }

    fn points(&mut self, owner: &str, raw: Vec<Spanned<RawPoint>>) -> Vec<KeyPoint> {
        let mut out: Vec<KeyPoint> = Vec::new();
        for p in raw {
            let p = p.into_inner();
            self.check_id(&p.id, "key point id");
            if out.iter().any(|o| &o.id == p.id.get_ref()) {
                self.report(p.id.span().start, format!("duplicate key point id `{}`", p.id.get_ref()));
            }
            let weight = match &p.weight {
                None => 1,
                Some(w) if (1..=3).contains(w.get_ref()) => *w.get_ref() as u32,
                Some(w) => {
                    self.report(w.span().start, format!("weight {} is out of range: use 1, 2 or 3", w.get_ref()));
                    1
                }
            };
            if p.point.get_ref().trim().is_empty() {
                self.report(p.id.span().start, format!("key point `{}` has an empty `point`", p.id.get_ref()));
            }
            let path = format!("{owner}key_points[{}]", p.id.get_ref());
            self.text(&format!("{path}.point"), &p.point);
            for cue in p.cues.get_ref() {
                self.text(&format!("{path}.cues"), cue);
            }
            let cues = self.check_cues(p.id.get_ref(), &p.cues);
            out.push(KeyPoint { id: p.id.into_inner(), point: p.point.into_inner().trim().to_string(), weight, cues });
        }
        out
    }

    fn flags(&mut self, owner: &str, raw: Vec<Spanned<RawFlag>>) -> Vec<RedFlag> {
        let mut out: Vec<RedFlag> = Vec::new();
        for f in raw {
            let f = f.into_inner();
            self.check_id(&f.id, "red flag id");
            if out.iter().any(|o| &o.id == f.id.get_ref()) {
                self.report(f.id.span().start, format!("duplicate red flag id `{}`", f.id.get_ref()));
            }
            let path = format!("{owner}red_flags[{}]", f.id.get_ref());
            self.text(&format!("{path}.point"), &f.point);
            for cue in f.cues.get_ref() {
                self.text(&format!("{path}.cues"), cue);
            }
            let cues = self.check_cues(f.id.get_ref(), &f.cues);
            out.push(RedFlag {
                id: f.id.into_inner(),
                point: f.point.into_inner().trim().to_string(),
                severity: f.severity,
                cues,
            });
        }
        out
    }
}

/// What is wrong with a forbidden character `c` in `field`, for bank and calibration
/// files alike.
pub(crate) fn forbidden_message(field: &str, c: char) -> String {
    let what = if c.is_control() { "a control character" } else { "a bidirectional override" };
    format!("`{field}` contains U+{:04X}, {what}, which would act on the terminal it is shown in: remove it", c as u32)
}

/// Byte offset in `raw` (a value as written in the file) of `c`, written as itself or as
/// a TOML escape, so that a problem names the line it is really on.
pub(crate) fn raw_position(raw: &str, c: char) -> Option<usize> {
    let code = c as u32;
    let mut forms = vec![format!("\\u{code:04x}"), format!("\\U{code:08x}").to_ascii_lowercase()];
    if code < 0x100 {
        forms.push(format!("\\x{code:02x}"));
    }
    if c == '\u{1b}' {
        forms.push("\\e".to_string());
    }
    let lower = raw.to_ascii_lowercase();
    forms.iter().filter_map(|f| lower.find(f.as_str())).chain(raw.find(c)).min()
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
[[question]]
id = "q-one"
topic = "t"
level = "senior"
prompt = "Why?"
testing = "Knowing why."
reference_answer = "Because."

[[question.key_points]]
id = "because"
point = "It is because."
weight = 2
cues = ["because", "the reason"]

[[question.red_flags]]
id = "no-reason"
point = "There is no reason."
severity = "minor"
cues = ["no reason"]

[[question.follow_ups]]
id = "deeper"
prompt = "And why is that?"
testing = "Depth."
probes = ["because"]
answer = "Turtles."
[[question.follow_ups.key_points]]
id = "turtles"
point = "Turtles all the way down."
cues = ["turtle"]
"#;

    #[test]
    fn a_good_file_parses_without_problems() {
        let parsed = parse_file("t.toml", GOOD);
        assert!(parsed.problems.is_empty(), "{:?}", parsed.problems);
        let q = &parsed.questions[0];
        assert_eq!(q.id, "q-one");
        assert_eq!(q.level, Level::Senior);
        assert_eq!(q.key_points[0].weight, 2);
        assert_eq!(q.follow_ups[0].probes, vec!["because"]);
        assert_eq!(q.origin.line, 2);
    }

    #[test]
    fn a_syntax_error_names_line_and_question() {
        let text = GOOD.replace("prompt = \"Why?\"", "prompt = \"Why?");
        let parsed = parse_file("t.toml", &text);
        assert_eq!(parsed.problems.len(), 1);
        let p = &parsed.problems[0];
        assert_eq!(p.line, 6);
        assert_eq!(p.question.as_deref(), Some("q-one"));
    }

    #[test]
    fn an_unknown_field_is_reported_where_it_stands() {
        let text = GOOD.replace("weight = 2", "wieght = 2");
        let parsed = parse_file("t.toml", &text);
        assert_eq!(parsed.problems.len(), 1, "{:?}", parsed.problems);
        let p = &parsed.problems[0];
        assert!(p.message.contains("wieght"), "{}", p.message);
        assert_eq!(p.line, 13);
        assert_eq!(p.question.as_deref(), Some("q-one"));
    }

    #[test]
    fn a_probe_of_a_missing_key_point_is_reported() {
        let text = GOOD.replace("probes = [\"because\"]", "probes = [\"becuase\"]");
        let parsed = parse_file("t.toml", &text);
        assert_eq!(parsed.problems.len(), 1);
        let p = &parsed.problems[0];
        assert!(p.message.contains("becuase") && p.message.contains("because"), "{}", p.message);
        assert_eq!(p.line, 26);
    }

    #[test]
    fn empty_cues_bad_level_and_weight_are_reported() {
        let text = GOOD.replace("cues = [\"turtle\"]", "cues = []").replace("weight = 2", "weight = 7");
        let parsed = parse_file("t.toml", &text);
        let messages: Vec<&str> = parsed.problems.iter().map(|p| p.message.as_str()).collect();
        assert_eq!(messages.len(), 2, "{messages:?}");
        assert!(messages.iter().any(|m| m.contains("weight 7")));
        assert!(messages.iter().any(|m| m.contains("no cues")));

        let bad_level = parse_file("t.toml", &GOOD.replace("\"senior\"", "\"junior\""));
        assert_eq!(bad_level.problems.len(), 1);
        assert!(bad_level.problems[0].message.contains("junior"));
        assert_eq!(bad_level.problems[0].line, 5);
    }

    #[test]
    fn a_missing_rubric_is_reported() {
        let text = GOOD.split("[[question.key_points]]").next().unwrap();
        let parsed = parse_file("t.toml", text);
        assert!(parsed.problems.iter().any(|p| p.message.contains("no key points")), "{:?}", parsed.problems);
    }

    #[test]
    fn control_characters_in_any_text_field_are_reported_where_they_are() {
        let text = GOOD
            .replace("testing = \"Knowing why.\"", "testing = \"Knowing\\u001b[2J why.\"")
            .replace("cues = [\"turtle\"]", "cues = [\"turtle\\e]0;x\"]")
            .replace("answer = \"Turtles.\"", "answer = \"\"\"\nTurtles\n\u{202E}down.\"\"\"");
        let parsed = parse_file("t.toml", &text);
        let shown: Vec<String> =
            parsed.problems.iter().map(|p| format!("{}:{} {}", p.line, p.column, p.message)).collect();
        assert_eq!(
            shown,
            [
                "7:19 `testing` contains U+001B, a control character, which would act on the terminal it is shown in: remove it",
                "29:1 `follow_ups[deeper].answer` contains U+202E, a bidirectional override, which would act on the terminal it is shown in: remove it",
                "33:16 `follow_ups[deeper].key_points[turtles].cues` contains U+001B, a control character, which would act on the terminal it is shown in: remove it",
            ]
        );
        assert!(parsed.problems.iter().all(|p| p.question.as_deref() == Some("q-one")));
    }

    #[test]
    fn a_forbidden_character_is_found_as_written() {
        assert_eq!(raw_position(r#""a\u001Bb""#, '\u{1b}'), Some(2));
        assert_eq!(raw_position(r#""ab\U0000001b""#, '\u{1b}'), Some(3));
        assert_eq!(raw_position("\"ab\u{9b}\"", '\u{9b}'), Some(3));
        assert_eq!(raw_position(r#""abc""#, '\u{1b}'), None);
    }
}
