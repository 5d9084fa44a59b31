//! One module per command. Each takes the resolved settings and its own arguments and
//! returns how it ended.

pub mod bank;
pub mod config;
pub mod grade;
pub mod practice;
pub mod review;

use std::io::IsTerminal;

use crate::bank::Bank;
use crate::config::Settings;
use crate::style::Style;

/// What every command works with.
pub struct Context {
    /// The settings in force.
    pub settings: Settings,
    /// How to paint standard output.
    pub style: Style,
}

impl Context {
    /// A context over `settings`; colour only for a terminal, and never with `--no-color`
    /// or `NO_COLOR`.
    pub fn new(settings: Settings, no_color: bool) -> Context {
        let color =
            !no_color && std::env::var_os("NO_COLOR").is_none() && std::io::stdout().is_terminal();
        Context {
            settings,
            style: Style::new(color),
        }
    }

    /// The bank in use: the folder from the settings, or the built-in one.
    pub fn bank(&self) -> Result<Bank, crate::bank::BankError> {
        match &self.settings.bank {
            Some(dir) => Bank::from_dir(&dir.value),
            None => Bank::embedded(),
        }
    }
}
