//! `grill completions SHELL`: a completion script generated from the same command
//! definition that parses the arguments, so completions cannot drift from the flags.

use std::io::Write;

use crate::cli::CompletionsArgs;
use crate::error::ExitStatus;

/// Prints the script for the shell asked for.
pub fn run(args: &CompletionsArgs) -> anyhow::Result<ExitStatus> {
    // Generated into memory first: clap_complete panics when a write fails, and a
    // reader that closes early (`| head`) must end the command quietly.
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut crate::cli::command(false), "grill", &mut script);
    std::io::stdout().lock().write_all(&script)?;
    Ok(ExitStatus::Success)
}
