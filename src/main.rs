use std::io::IsTerminal;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = grill::cli::parse();
    let color = !cli.global.no_color && std::env::var_os("NO_COLOR").is_none() && std::io::stderr().is_terminal();
    match grill::run(cli) {
        Ok(status) => status.into(),
        Err(err) => grill::report::report(&err, &grill::style::Style::new(color)).into(),
    }
}
