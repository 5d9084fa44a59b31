//! Where answers come from: the terminal (rustyline, multi-line, `:edit`) or a script on
//! standard input (blocks separated by a line holding only `---`).

use std::io::{self, BufRead};
use std::path::PathBuf;

use rustyline::completion::Completer;
use rustyline::error::ReadlineError;
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::history::DefaultHistory;
use rustyline::validate::{ValidationContext, ValidationResult, Validator};
use rustyline::{Editor, Helper};

/// The line that ends an answer typed in the terminal.
pub const END_OF_ANSWER: &str = ".";
/// The line that separates answers on standard input.
pub const BLOCK_SEPARATOR: &str = "---";

/// A REPL command. One table gives names and help, so they cannot drift apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    /// Show the next hint.
    Hint,
    /// Show the reference answer.
    Ref,
    /// Skip this question.
    Skip,
    /// Write the answer in $EDITOR.
    Edit,
    /// List the commands.
    Help,
    /// Save and stop.
    Quit,
}

impl Command {
    /// Every command with its name and help, in the order `:help` lists them.
    pub const ALL: &'static [(Command, &'static str, &'static str)] = &[
        (Command::Hint, ":hint", "show a hint (what is being tested, then one key point at a time)"),
        (Command::Ref, ":ref", "show the reference answer (noted in the transcript)"),
        (Command::Skip, ":skip", "skip this question and its follow-ups"),
        (Command::Edit, ":edit", "write the answer in $EDITOR"),
        (Command::Help, ":help", "list these commands"),
        (Command::Quit, ":quit", "save the session and stop"),
    ];

    /// Parses `:name`; an unknown name gives the message to show.
    pub fn parse(s: &str) -> Result<Command, String> {
        let s = s.trim();
        Command::ALL
            .iter()
            .find(|(_, name, _)| *name == s || (s.len() >= 2 && name.starts_with(s)))
            .map(|(c, _, _)| *c)
            .ok_or_else(|| {
                let names: Vec<&str> = Command::ALL.iter().map(|(_, n, _)| *n).collect();
                format!("unknown command `{s}`; commands are {}", names.join(" "))
            })
    }
}

/// What the user did at a prompt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// Gave an answer.
    Answer(String),
    /// Typed a command.
    Command(Command),
    /// Typed something that is neither (an unknown command): the message to show.
    Invalid(String),
    /// Closed the input (Ctrl-D, end of file).
    End,
    /// Pressed Ctrl-C.
    Interrupted,
}

/// A source of answers.
pub trait AnswerSource {
    /// Reads the next answer or command.
    fn read(&mut self) -> io::Result<Input>;
    /// Whether a person is typing (so prompts and help are shown for them).
    fn interactive(&self) -> bool;
}

fn classify(block: String) -> Input {
    let trimmed = block.trim();
    if trimmed.starts_with(':') && !trimmed.contains('\n') {
        match Command::parse(trimmed) {
            Ok(c) => Input::Command(c),
            Err(msg) => Input::Invalid(msg),
        }
    } else {
        Input::Answer(block)
    }
}

/// Answers from a non-terminal reader: blocks separated by `---` lines.
pub struct Blocks<R> {
    reader: R,
    done: bool,
}

impl<R: BufRead> Blocks<R> {
    /// Reads blocks from `reader`.
    pub fn new(reader: R) -> Self {
        Blocks { reader, done: false }
    }
}

impl<R: BufRead> AnswerSource for Blocks<R> {
    fn read(&mut self) -> io::Result<Input> {
        if self.done {
            return Ok(Input::End);
        }
        let mut block = String::new();
        let mut any = false;
        loop {
            let mut raw = Vec::new();
            if self.reader.read_until(b'\n', &mut raw)? == 0 {
                self.done = true;
                return Ok(if any { classify(block.trim_end_matches('\n').to_string()) } else { Input::End });
            }
            any = true;
            // Invalid UTF-8 is replaced rather than refused, so the rest of the answer
            // is kept.
            let line = String::from_utf8_lossy(&raw);
            let line = line.trim_end_matches(['\n', '\r']);
            if line.trim_end() == BLOCK_SEPARATOR {
                return Ok(classify(block.trim_end_matches('\n').to_string()));
            }
            block.push_str(line);
            block.push('\n');
        }
    }

    fn interactive(&self) -> bool {
        false
    }
}

/// Completes an answer when its last line is `.`, or at once for a one-line command.
struct AnswerHelper;

impl Validator for AnswerHelper {
    fn validate(&self, ctx: &mut ValidationContext<'_>) -> rustyline::Result<ValidationResult> {
        let input = ctx.input();
        let last = input.trim_end().rsplit('\n').next().unwrap_or("").trim();
        let complete = input.trim().is_empty() || last == END_OF_ANSWER || is_command_line(last);
        Ok(if complete { ValidationResult::Valid(None) } else { ValidationResult::Incomplete })
    }
}

/// A line that reads as a REPL command: `:` and a word.
fn is_command_line(line: &str) -> bool {
    line.strip_prefix(':').is_some_and(|w| !w.is_empty() && w.chars().all(|c| c.is_ascii_alphabetic()))
}

/// Splits a finished edit buffer: an answer ended by `.`, or a command typed on the last
/// line, with whatever was typed before it kept as a draft to continue from.
fn finish(text: &str) -> (Input, String) {
    let trimmed = text.trim_end();
    let (before, last) = trimmed.rsplit_once('\n').unwrap_or(("", trimmed));
    let draft = if before.trim().is_empty() { String::new() } else { format!("{}\n", before.trim_end()) };
    if last.trim() == END_OF_ANSWER {
        (Input::Answer(before.trim_end().to_string()), String::new())
    } else if is_command_line(last.trim()) {
        let input = match Command::parse(last) {
            Ok(c) => Input::Command(c),
            Err(msg) => Input::Invalid(msg),
        };
        (input, draft)
    } else {
        (Input::Answer(trimmed.to_string()), String::new())
    }
}

impl Completer for AnswerHelper {
    type Candidate = String;
}
impl Hinter for AnswerHelper {
    type Hint = String;
}
impl Highlighter for AnswerHelper {}
impl Helper for AnswerHelper {}

/// Answers typed in a terminal.
pub struct Terminal {
    editor: Editor<AnswerHelper, DefaultHistory>,
    history: Option<PathBuf>,
    /// What was typed before a command, offered again at the next prompt.
    draft: String,
}

impl Terminal {
    /// A terminal reader keeping its history in `history` (when given).
    pub fn new(history: Option<PathBuf>) -> io::Result<Terminal> {
        let mut editor = Editor::new().map_err(io::Error::other)?;
        editor.set_helper(Some(AnswerHelper));
        if let Some(h) = &history {
            let _ = editor.load_history(h);
        }
        Ok(Terminal { editor, history, draft: String::new() })
    }

    fn edit(&mut self) -> io::Result<Input> {
        const MARKER: &str = "# ---- grill: write your answer below this line; save and close to submit ----";
        let editor = std::env::var("VISUAL").or_else(|_| std::env::var("EDITOR")).unwrap_or_else(|_| "vi".into());
        let file = tempfile::Builder::new().prefix("grill-answer-").suffix(".md").tempfile()?;
        std::fs::write(file.path(), format!("{MARKER}\n{}", self.draft))?;
        // The editor setting may carry arguments ("code --wait").
        let mut parts = editor.split_whitespace();
        let program = parts.next().unwrap_or("vi");
        let status = std::process::Command::new(program).args(parts).arg(file.path()).status();
        match status {
            Ok(s) if s.success() => {}
            Ok(s) => {
                return Ok(Input::Invalid(format!("{editor} exited with {s}; nothing was submitted")));
            }
            Err(e) => {
                return Ok(Input::Invalid(format!("could not start {editor} ({e}); set $EDITOR")));
            }
        }
        let text = std::fs::read_to_string(file.path())?;
        let answer = text.split_once(MARKER).map_or(text.as_str(), |(_, after)| after).trim().to_string();
        if answer.is_empty() {
            return Ok(Input::Invalid("the editor returned an empty answer; nothing was submitted".into()));
        }
        Ok(Input::Answer(answer))
    }
}

impl AnswerSource for Terminal {
    fn read(&mut self) -> io::Result<Input> {
        let draft = std::mem::take(&mut self.draft);
        match self.editor.readline_with_initial("> ", (&draft, "")) {
            Ok(text) => {
                if !text.trim().is_empty() {
                    let _ = self.editor.add_history_entry(text.as_str());
                    if let Some(h) = &self.history {
                        if let Some(dir) = h.parent() {
                            let _ = std::fs::create_dir_all(dir);
                        }
                        let _ = self.editor.save_history(h);
                    }
                }
                let (input, draft) = finish(&text);
                self.draft = draft;
                match input {
                    Input::Command(Command::Edit) => {
                        let edited = self.edit();
                        if matches!(edited, Ok(Input::Answer(_))) {
                            self.draft.clear();
                        }
                        edited
                    }
                    other => Ok(other),
                }
            }
            Err(ReadlineError::Interrupted) => Ok(Input::Interrupted),
            Err(ReadlineError::Eof) => Ok(Input::End),
            Err(e) => Err(io::Error::other(e)),
        }
    }

    fn interactive(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_split_on_separator_lines_and_keep_blank_lines() {
        let mut b = Blocks::new("first\n\nstill first\n---\n:skip\n---\nlast".as_bytes());
        assert_eq!(b.read().unwrap(), Input::Answer("first\n\nstill first".into()));
        assert_eq!(b.read().unwrap(), Input::Command(Command::Skip));
        assert_eq!(b.read().unwrap(), Input::Answer("last".into()));
        assert_eq!(b.read().unwrap(), Input::End);
    }

    #[test]
    fn a_command_after_a_draft_keeps_the_draft() {
        let (input, draft) = finish("first line\n\nsecond\n:hint");
        assert_eq!(input, Input::Command(Command::Hint));
        assert_eq!(draft, "first line\n\nsecond\n");
        let (input, draft) = finish("first line\n\nsecond\n.");
        assert_eq!(input, Input::Answer("first line\n\nsecond".into()));
        assert_eq!(draft, "");
        let (input, _) = finish(":skip");
        assert_eq!(input, Input::Command(Command::Skip));
        let (input, draft) = finish("draft\n:nope");
        assert!(matches!(input, Input::Invalid(_)));
        assert_eq!(draft, "draft\n");
        // A colon inside prose is not a command.
        let (input, _) = finish("note: this is prose\n.");
        assert_eq!(input, Input::Answer("note: this is prose".into()));
    }

    #[test]
    fn commands_parse_by_name_or_prefix() {
        assert_eq!(Command::parse(":hint"), Ok(Command::Hint));
        assert_eq!(Command::parse(":q"), Ok(Command::Quit));
        assert_eq!(
            Command::parse(":nope"),
            Err("unknown command `:nope`; commands are :hint :ref :skip :edit :help :quit".into())
        );
    }
}
