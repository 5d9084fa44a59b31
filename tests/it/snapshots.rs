//! Screens and messages compared whole against reviewed snapshots (`tests/it/snapshots/`),
//! with run-specific text (folders, times, ids) replaced first. A change to a screen shows
//! up as a diff to review: `INSTA_UPDATE=always cargo test`, then read `git diff`.

use crate::util::Sandbox;

#[test]
fn review_list_with_no_sessions() {
    let sb = Sandbox::new();
    let run = sb.run(&["review", "list"], "");
    run.success();
    insta::assert_snapshot!(sb.redact(&run.stdout), @"No sessions in [SANDBOX]/data/grill/transcripts yet: `grill` starts one.");
}
