//! Where answers come from: the terminal (rustyline, multi-line, `:edit`, Ctrl-C keeping
//! the draft) or a script on standard input (blocks separated by a line holding only
//! `---`).

use std::io::{self, BufRead};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use rustyline::completion::Completer;
use rustyline::error::ReadlineError;
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::history::DefaultHistory;
use rustyline::validate::{ValidationContext, ValidationResult, Validator};
use rustyline::{
    Cmd, ConditionalEventHandler, Editor, Event, EventContext, EventHandler, Helper, KeyEvent, RepeatCount,
};

use super::command::Command;
use super::editor;

/// The line that ends an answer typed in the terminal.
pub const END_OF_ANSWER: &str = ".";
/// The line that separates answers on standard input.
pub const BLOCK_SEPARATOR: &str = "---";

/// What the user did at a prompt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// Gave an answer.
    Answer(String),
    /// Wrote an answer in the editor (`:edit`): shown back before it is submitted.
    Edited(String),
    /// Typed a command.
    Command(Command),
    /// Typed something that is neither (an unknown command): the message to show.
    Invalid(String),
    /// Closed the input (Ctrl-D, end of file).
    End,
    /// Pressed Ctrl-C, with what was typed of the answer at that moment.
    Interrupted(String),
}

impl Input {
    fn command(text: &str) -> Input {
        match text.parse() {
            Ok(c) => Input::Command(c),
            Err(e) => Input::Invalid(e.to_string()),
        }
    }
}

/// A source of answers.
pub trait AnswerSource {
    /// Reads the next answer or command; `asked` is the question, for `:edit` to show.
    fn read(&mut self, asked: &str) -> io::Result<Input>;
    /// Whether a person is typing (so prompts and help are shown for them).
    fn interactive(&self) -> bool;
    /// Puts a kept draft back where the answer is typed, to be continued. `false` when
    /// the source has no such place (a script): the caller shows the draft instead.
    fn restore(&mut self, _draft: &str) -> bool {
        false
    }
    /// Reads one line of keys (the verdicts' checklist), `None` when the input ends or
    /// the user presses Ctrl-C.
    fn line(&mut self, _prompt: &str) -> io::Result<Option<String>> {
        Ok(None)
    }
    /// Reads one short reply to `prompt` (shown by the caller), such as a number: `None`
    /// when the input ends or is interrupted. A script gives it as the next block.
    fn read_reply(&mut self, _prompt: &str) -> io::Result<Option<String>> {
        Ok(match self.read("")? {
            Input::Answer(text) | Input::Edited(text) => Some(text.trim().to_string()),
            _ => None,
        })
    }
}

fn classify(block: String) -> Input {
    let trimmed = block.trim();
    if trimmed.starts_with(':') && !trimmed.contains('\n') { Input::command(trimmed) } else { Input::Answer(block) }
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
    fn read(&mut self, _asked: &str) -> io::Result<Input> {
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

    /// One line of the script: a key line for the checklist.
    fn line(&mut self, _prompt: &str) -> io::Result<Option<String>> {
        if self.done {
            return Ok(None);
        }
        let mut raw = Vec::new();
        if self.reader.read_until(b'\n', &mut raw)? == 0 {
            self.done = true;
            return Ok(None);
        }
        Ok(Some(String::from_utf8_lossy(&raw).trim_end_matches(['\n', '\r']).to_string()))
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
        (Input::command(last), draft)
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

/// Ctrl-C: keeps what the edit buffer holds (every line of the answer so far) before
/// rustyline drops it, then interrupts as usual.
struct KeepTyped(Arc<Mutex<String>>);

impl ConditionalEventHandler for KeepTyped {
    fn handle(&self, _: &Event, _: RepeatCount, _: bool, ctx: &EventContext<'_>) -> Option<Cmd> {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = ctx.line().to_string();
        Some(Cmd::Interrupt)
    }
}

/// Answers typed in a terminal.
pub struct Terminal {
    editor: Editor<AnswerHelper, DefaultHistory>,
    history: Option<PathBuf>,
    /// What is offered in the edit buffer at the next prompt: text typed before a
    /// command, or a draft kept at Ctrl-C.
    draft: String,
    /// What the buffer held at the last Ctrl-C.
    typed: Arc<Mutex<String>>,
}

impl Terminal {
    /// A terminal reader keeping its history in `history` (when given).
    pub fn new(history: Option<PathBuf>) -> io::Result<Terminal> {
        let mut editor = Editor::new().map_err(io::Error::other)?;
        editor.set_helper(Some(AnswerHelper));
        let typed = Arc::new(Mutex::new(String::new()));
        editor.bind_sequence(KeyEvent::ctrl('C'), EventHandler::Conditional(Box::new(KeepTyped(typed.clone()))));
        if let Some(h) = &history {
            let _ = editor.load_history(h);
        }
        Ok(Terminal { editor, history, draft: String::new(), typed })
    }
}

impl AnswerSource for Terminal {
    fn read(&mut self, asked: &str) -> io::Result<Input> {
        let draft = std::mem::take(&mut self.draft);
        self.typed.lock().unwrap_or_else(|e| e.into_inner()).clear();
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
                if input != Input::Command(Command::Edit) {
                    return Ok(input);
                }
                let edited = editor::edit(&editor::editor_from_env(), asked, &self.draft)?;
                if matches!(edited, Input::Edited(_)) {
                    self.draft.clear();
                }
                Ok(edited)
            }
            Err(ReadlineError::Interrupted) => {
                Ok(Input::Interrupted(std::mem::take(&mut *self.typed.lock().unwrap_or_else(|e| e.into_inner()))))
            }
            Err(ReadlineError::Eof) => Ok(Input::End),
            Err(e) => Err(io::Error::other(e)),
        }
    }

    fn interactive(&self) -> bool {
        true
    }

    /// One line, Enter ends it: the answer's rules (`.` to finish, `:` commands) are off.
    fn read_reply(&mut self, prompt: &str) -> io::Result<Option<String>> {
        let helper = self.editor.helper_mut().map(|_| AnswerHelper);
        self.editor.set_helper(None);
        let line = self.editor.readline(prompt);
        self.editor.set_helper(helper);
        match line {
            Ok(text) => Ok(Some(text.trim().to_string())),
            Err(ReadlineError::Interrupted | ReadlineError::Eof) => Ok(None),
            Err(e) => Err(io::Error::other(e)),
        }
    }

    fn restore(&mut self, draft: &str) -> bool {
        self.draft = draft.to_string();
        true
    }

    fn line(&mut self, prompt: &str) -> io::Result<Option<String>> {
        key_line(prompt)
    }
}

/// Reads one line of keys in the terminal, with a plain line editor (an answer's editor
/// waits for a closing `.`, which a key line has no use for). `None` at Ctrl-C or Ctrl-D.
pub fn key_line(prompt: &str) -> io::Result<Option<String>> {
    let mut editor = rustyline::DefaultEditor::new().map_err(io::Error::other)?;
    match editor.readline(prompt) {
        Ok(line) => Ok(Some(line)),
        Err(ReadlineError::Interrupted | ReadlineError::Eof) => Ok(None),
        Err(e) => Err(io::Error::other(e)),
    }
}

/// Asks the person at the terminal to pick one of `options` (a key letter and what it
/// does), with the same line editor answers are typed in. `None` when they close the input
/// or press Ctrl-C instead: the caller then takes the choice that does least.
pub fn pick(question: &str, options: &[(char, &str)]) -> io::Result<Option<char>> {
    let mut editor = rustyline::DefaultEditor::new().map_err(io::Error::other)?;
    let keys: Vec<String> = options.iter().map(|(k, _)| k.to_string()).collect();
    let prompt = format!("{question} [{}] ", keys.join("/"));
    loop {
        match editor.readline(&prompt) {
            Ok(line) => match chosen(&line, options) {
                Some(k) => return Ok(Some(k)),
                None => {
                    let each: Vec<String> = options.iter().map(|(k, what)| format!("{k}: {what}")).collect();
                    println!("  type one letter: {}", each.join("; "));
                }
            },
            Err(ReadlineError::Interrupted | ReadlineError::Eof) => return Ok(None),
            Err(e) => return Err(io::Error::other(e)),
        }
    }
}

/// The option a typed line names: its key letter, or the first word of what it does.
fn chosen(line: &str, options: &[(char, &str)]) -> Option<char> {
    let typed = line.trim().to_lowercase();
    let first = typed.chars().next()?;
    options.iter().find(|(k, _)| first == k.to_ascii_lowercase()).map(|(k, _)| *k)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_choice_is_its_letter_or_a_word_starting_with_it() {
        let options = [('o', "grade offline"), ('k', "keep answers ungraded")];
        assert_eq!(chosen("o", &options), Some('o'));
        assert_eq!(chosen("  Keep\n", &options), Some('k'));
        assert_eq!(chosen("offline", &options), Some('o'));
        assert_eq!(chosen("x", &options), None);
        assert_eq!(chosen("", &options), None);
    }

    #[test]
    fn blocks_split_on_separator_lines_and_keep_blank_lines() {
        let mut b = Blocks::new("first\n\nstill first\n---\n:skip\n---\nlast".as_bytes());
        assert_eq!(b.read("Q?").unwrap(), Input::Answer("first\n\nstill first".into()));
        assert_eq!(b.read("Q?").unwrap(), Input::Command(Command::Skip));
        assert_eq!(b.read("Q?").unwrap(), Input::Answer("last".into()));
        assert_eq!(b.read("Q?").unwrap(), Input::End);
    }

    #[test]
    fn key_lines_are_read_one_at_a_time_between_blocks() {
        let mut b = Blocks::new(":dispute\n---\n1x 2m\r\n\nnext answer\n".as_bytes());
        assert_eq!(b.read("Q?").unwrap(), Input::Command(Command::Dispute));
        assert_eq!(b.line("> ").unwrap().as_deref(), Some("1x 2m"));
        assert_eq!(b.line("> ").unwrap().as_deref(), Some(""));
        assert_eq!(b.read("Q?").unwrap(), Input::Answer("next answer".into()));
        assert_eq!(b.line("> ").unwrap(), None);
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
        assert_eq!(
            input,
            Input::Invalid("unknown command `:nope`; commands are :hint :ref :skip :edit :dispute :help :quit".into())
        );
        assert_eq!(draft, "draft\n");
        // A colon inside prose is not a command.
        let (input, _) = finish("note: this is prose\n.");
        assert_eq!(input, Input::Answer("note: this is prose".into()));
    }
}
