//! The session's terminal edge through the binary: what is kept of a session, and what
//! the scripted (non-terminal) input shows.

use crate::util::{Sandbox, fixture_bank};

/// Everything in the transcripts folder, hidden files (locks, temporaries) included.
fn everything_in(dir: &std::path::Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| rd.filter_map(Result::ok).map(|e| e.file_name().to_string_lossy().into_owned()).collect())
        .unwrap_or_default();
    v.sort();
    v
}

#[test]
fn a_practice_session_quit_with_nothing_answered_leaves_no_file() {
    let sb = Sandbox::new();
    let bank = fixture_bank();
    let run = sb.run(
        &["--no-builtin-bank", "--bank", bank.to_str().unwrap(), "practice", "--question", "tides"],
        ":hint\n---\n:quit\n",
    );
    run.success();
    assert_eq!(
        run.stdout,
        "\n── Question 1 of 1 · sample · senior ───────────────────────\nWhat causes the tides?\n  hint:\n    \
         The interviewer wants to see: Gravity and the Moon.\n\nNothing was answered: the session was not saved.\n"
    );
    // No transcript, no lock file, no temporary file.
    assert_eq!(everything_in(&sb.transcripts()), Vec::<String>::new());
    // So it is neither the latest session nor one to resume.
    let resume = sb.run(&["--no-builtin-bank", "--bank", bank.to_str().unwrap(), "resume"], "");
    resume.code(1);
    assert_eq!(
        resume.stderr,
        "error: no unfinished session to resume\n  hint: `grill review list` shows every session\n"
    );
}

#[test]
fn an_interview_ended_with_nothing_answered_leaves_no_file_and_no_report() {
    let sb = Sandbox::new();
    let bank = fixture_bank();
    let run = sb.run(
        &[
            "--no-builtin-bank",
            "--bank",
            bank.to_str().unwrap(),
            "--grader",
            "offline",
            "interview",
            "--question",
            "tides",
        ],
        "",
    );
    run.success();
    assert_eq!(
        run.stdout,
        "Interview: no grades until the end; each answer is graded in the background as you go.\n\n\
         ── Question 1 of 1 · sample · senior ───────────────────────\nWhat causes the tides?\n\n\
         Nothing was answered: the session was not saved.\n"
    );
    assert_eq!(everything_in(&sb.transcripts()), Vec::<String>::new());
}
