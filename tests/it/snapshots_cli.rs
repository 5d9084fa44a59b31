//! What a new user reads first, compared whole against reviewed snapshots
//! (`tests/it/snapshots/`): the help of `grill`, `grill practice` and `grill review
//! export`, and `grill config` in both forms. A change shows up as a diff to review:
//! `INSTA_UPDATE=always cargo test`, then read `git diff`.

use crate::util::Sandbox;

/// Fixed folders instead of the sandbox's, so paths and the columns padded around them
/// are the same on every machine and nothing needs redacting (`grill config` creates
/// nothing there).
const FIXED_DIRS: [(&str, &str); 2] =
    [("XDG_CONFIG_HOME", "/home/u/.config"), ("XDG_DATA_HOME", "/home/u/.local/share")];

fn stdout_of(args: &[&str]) -> String {
    let sb = Sandbox::new();
    let run = sb.run_with(args, "", &FIXED_DIRS);
    run.success();
    assert_eq!(run.stderr, "");
    run.stdout.clone()
}

#[test]
fn grill_help() {
    insta::assert_snapshot!("grill_help", stdout_of(&["--help"]));
}

#[test]
fn practice_help() {
    insta::assert_snapshot!("practice_help", stdout_of(&["practice", "--help"]));
}

#[test]
fn review_export_help_has_no_grading_flags() {
    let help = stdout_of(&["review", "export", "--help"]);
    assert!(!help.contains("--base-url"), "{help}");
    insta::assert_snapshot!("review_export_help", help);
}

#[test]
fn config_with_nothing_set() {
    insta::assert_snapshot!("config", stdout_of(&["config"]));
}

#[test]
fn config_json_with_nothing_set() {
    insta::assert_snapshot!("config_json", stdout_of(&["config", "--json"]));
}
