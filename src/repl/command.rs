//! The `:` commands typed at the answer prompt. One enum holds each command's name and
//! help, so the parser, `:help` and the hint under each question are built from the same
//! table and cannot drift apart.

use std::fmt;
use std::str::FromStr;

/// A command typed on its own line at the answer prompt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    /// Show the next hint.
    Hint,
    /// Show the reference answer.
    Ref,
    /// Skip this question.
    Skip,
    /// Write the answer in $VISUAL / $EDITOR.
    Edit,
    /// Give your own word on the last graded answer's verdicts.
    Dispute,
    /// List the commands.
    Help,
    /// Save and stop.
    Quit,
}

impl Command {
    /// Every command, in the order `:help` lists them (and a prefix picks the first).
    pub const ALL: [Command; 7] =
        [Command::Hint, Command::Ref, Command::Skip, Command::Edit, Command::Dispute, Command::Help, Command::Quit];

    /// What the user types.
    pub fn name(self) -> &'static str {
        self.spec().0
    }

    /// One line saying what it does.
    pub fn help(self) -> &'static str {
        self.spec().1
    }

    // Name and help side by side in one exhaustive match: a new command cannot be added
    // without both.
    fn spec(self) -> (&'static str, &'static str) {
        match self {
            Command::Hint => (":hint", "show a hint (what is being tested, then one key point at a time)"),
            Command::Ref => (":ref", "show the reference answer (noted in the transcript)"),
            Command::Skip => (":skip", "skip this question and its follow-ups"),
            Command::Edit => (":edit", "write the answer in $VISUAL / $EDITOR"),
            Command::Dispute => (":dispute", "confirm or correct the verdicts on the last graded answer"),
            Command::Help => (":help", "list these commands"),
            Command::Quit => (":quit", "save the session and stop (so does Ctrl-D; Ctrl-C first keeps a draft)"),
        }
    }

    /// Every name, space-separated: ":hint :ref …".
    pub fn names() -> String {
        Command::ALL.iter().map(|c| c.name()).collect::<Vec<_>>().join(" ")
    }
}

/// A `:word` that names no command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownCommand(pub String);

impl fmt::Display for UnknownCommand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown command `{}`; commands are {}", self.0, Command::names())
    }
}

impl std::error::Error for UnknownCommand {}

impl FromStr for Command {
    type Err = UnknownCommand;

    /// A name in full, or a prefix of at least `:` and one letter (`:q`).
    fn from_str(s: &str) -> Result<Command, UnknownCommand> {
        let s = s.trim();
        Command::ALL
            .into_iter()
            .find(|c| c.name() == s || (s.len() >= 2 && c.name().starts_with(s)))
            .ok_or_else(|| UnknownCommand(s.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_parse_by_name_or_prefix() {
        assert_eq!(":hint".parse(), Ok(Command::Hint));
        assert_eq!(" :skip ".parse(), Ok(Command::Skip));
        assert_eq!(":q".parse(), Ok(Command::Quit));
        // A prefix two commands share picks the first in the table.
        assert_eq!(":h".parse(), Ok(Command::Hint));
        assert_eq!(":d".parse(), Ok(Command::Dispute));
        assert_eq!(
            ":nope".parse::<Command>().unwrap_err().to_string(),
            "unknown command `:nope`; commands are :hint :ref :skip :edit :dispute :help :quit"
        );
        assert!(":".parse::<Command>().is_err());
    }

    #[test]
    fn every_command_parses_back_from_its_name() {
        for c in Command::ALL {
            assert_eq!(c.name().parse(), Ok(c));
        }
    }
}
