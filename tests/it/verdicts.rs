//! The user's own word on a grade: the checklist after an offline grade in a terminal,
//! `:dispute` in a scripted session, and `grill review dispute` later.

use crate::util::{Sandbox, fixture_bank};

/// Blue and yellow, but nothing on light: the offline grader gives 50 (2 of 4 weight),
/// with `light-differs` (point 3) missed.
const ANSWER: &str = "You mix blue and yellow paint, because the yellow and the blue both end up as green in the mix.";

fn grades(t: &serde_json::Value, turn: usize) -> Vec<(String, Option<u64>, Option<u64>)> {
    t["turns"][turn]["grades"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            (
                g["grader"]["kind"].as_str().unwrap().to_string(),
                g["grader"]["reviewed"].as_u64(),
                g["grade"]["score"].as_u64(),
            )
        })
        .collect()
}

/// The schedule's last score for `question`, as `grill stats --json` gives it.
fn scheduled_score(sb: &Sandbox, question: &str) -> Option<u64> {
    let bank = fixture_bank();
    let stats = sb.run(&["--no-builtin-bank", "--bank", bank.to_str().unwrap(), "stats", "--json"], "");
    stats.success();
    let doc = stats.json();
    let item = doc["schedule"].as_array().unwrap().iter().find(|i| i["question_id"] == question).cloned();
    item.and_then(|i| i["last_score"].as_u64())
}

/// Issue 16, acceptance 1: in a pseudo-terminal, an offline grade opens the checklist,
/// one key flips a verdict, the transcript keeps both grades and the schedule follows
/// the user's.
#[cfg(unix)]
#[test]
fn in_a_terminal_the_user_confirms_an_offline_grade_and_the_schedule_follows_them() {
    let sb = Sandbox::new();
    let bank = fixture_bank();
    let mut cmd = sb.command();
    cmd.env("TERM", "dumb").env("COLUMNS", "100").args([
        "--no-color",
        "--no-builtin-bank",
        "--bank",
        bank.to_str().unwrap(),
        "practice",
        "--question",
        "colours",
        "--follow-ups",
        "0",
        "--grader",
        "offline",
    ]);
    let mut p = rexpect::session::spawn_command(cmd, Some(30_000)).expect("grill starts in a pseudo-terminal");
    p.exp_string("Which colours mix to make green").unwrap();
    p.send_line(ANSWER).unwrap();
    p.send_line(".").unwrap();
    p.exp_string("Check the verdicts: the offline grader measures coverage, not correctness.").unwrap();
    // rexpect reads the terminal byte by byte as Latin-1: what is matched is ASCII.
    p.exp_string("missed   Light mixes additively").unwrap();
    p.exp_string("Score: 50/100  (the offline grader said 50)").unwrap();
    p.exp_string("keys> ").unwrap();
    p.send_line("3").unwrap();
    p.exp_string("met      Light mixes additively").unwrap();
    p.exp_string(" missed)").unwrap();
    p.exp_string("Score: 75/100  (the offline grader said 50)").unwrap();
    p.exp_string("keys> ").unwrap();
    p.send_line("").unwrap();
    p.exp_string("Your verdicts: 75/100  (the offline grader said 50)").unwrap();
    p.exp_string(" met: Light mixes additively").unwrap();
    p.exp_string("Session summary").unwrap();
    p.exp_string("75/100").unwrap();
    p.exp_eof().unwrap();

    let t = sb.only_transcript();
    assert_eq!(
        grades(&t, 0),
        [("offline".to_string(), None, Some(50)), ("self".to_string(), Some(0), Some(75))],
        "the offline grade is kept and the user's word is beside it"
    );
    let own = &t["turns"][0]["grades"][1]["grade"]["key_points"];
    assert_eq!(own[2]["verdict"], "met");
    assert_eq!(own[2]["note"], "you changed missed to met");
    assert_eq!(scheduled_score(&sb, "colours"), Some(75), "the schedule moves by the confirmed score");
}

/// `--no-confirm`, or the setting turned off, keeps the terminal session as it was: no
/// checklist, one grade.
#[cfg(unix)]
#[test]
fn no_confirm_leaves_the_offline_grade_alone_in_a_terminal() {
    let bank = fixture_bank();
    let args =
        ["--no-color", "--no-builtin-bank", "--bank", bank.to_str().unwrap(), "practice", "--question", "colours"];
    // Extra arguments, and an environment variable.
    type Way<'a> = (&'a [&'a str], Option<(&'a str, &'a str)>);
    let ways: [Way<'_>; 2] = [(&["--no-confirm"], None), (&[], Some(("GRILL_CONFIRM", "off")))];
    for (flag, env) in ways {
        let sb = Sandbox::new();
        let mut cmd = sb.command();
        cmd.env("TERM", "dumb").args(args).args(["--follow-ups", "0", "--grader", "offline"]).args(flag);
        if let Some((k, v)) = env {
            cmd.env(k, v);
        }
        let mut p = rexpect::session::spawn_command(cmd, Some(30_000)).expect("grill starts in a pseudo-terminal");
        p.exp_string("Which colours mix to make green").unwrap();
        p.send_line(ANSWER).unwrap();
        p.send_line(".").unwrap();
        let before = p.exp_string("Session summary").unwrap();
        assert!(!before.contains("keys>"), "{flag:?} {env:?}: {before}");
        p.exp_eof().unwrap();
        assert_eq!(grades(&sb.only_transcript(), 0), [("offline".to_string(), None, Some(50))], "{flag:?} {env:?}");
    }
}

/// `:dispute` in a scripted session reviews the last graded answer: the key lines that
/// follow it on stdin are read one at a time, and the next block is the next answer.
#[test]
fn dispute_in_a_scripted_practice_session_reviews_the_last_graded_answer() {
    let sb = Sandbox::new();
    let bank = fixture_bank();
    let stdin = format!(":dispute\n---\n{ANSWER}\n---\n:dispute\n---\n3p\n\nThe moon pulls the water.\n");
    let run = sb.run(
        &[
            "--no-builtin-bank",
            "--bank",
            bank.to_str().unwrap(),
            "practice",
            "--question",
            "colours",
            "--question",
            "tides",
            "--follow-ups",
            "0",
        ],
        &stdin,
    );
    run.success();
    assert!(run.stdout.contains("Nothing to dispute yet: :dispute reviews the last graded answer."), "{}", run.stdout);
    assert!(run.stdout.contains("keys> 3p\n"), "the key lines read are echoed: {}", run.stdout);
    assert!(
        run.stdout.contains("  colours                                          63/100 (your verdicts)\n"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("  Your verdicts: 63/100  (the offline grader said 50)\n"), "{}", run.stdout);
    // No checklist opens by itself off a terminal: only the one asked for.
    assert_eq!(run.stdout.matches("── Your verdicts").count(), 2, "{}", run.stdout);
    let t = sb.only_transcript();
    assert_eq!(grades(&t, 0), [("offline".to_string(), None, Some(50)), ("self".to_string(), Some(0), Some(63))]);
    assert_eq!(t["turns"][1]["question_id"], "tides");
    assert_eq!(t["turns"][1]["answer"], "The moon pulls the water.");
    assert_eq!(grades(&t, 1).len(), 1);
}

fn scripted_session(sb: &Sandbox) {
    let bank = fixture_bank();
    sb.run(
        &[
            "--no-builtin-bank",
            "--bank",
            bank.to_str().unwrap(),
            "practice",
            "--question",
            "colours",
            "--follow-ups",
            "0",
        ],
        ANSWER,
    )
    .success();
}

/// `grill review dispute` with keys on stdin: the screen, exactly, and both grades kept.
#[test]
fn review_dispute_reads_keys_from_stdin_and_keeps_both_grades() {
    let sb = Sandbox::new();
    scripted_session(&sb);
    let bank = fixture_bank();
    let run = sb.run_with(
        &["--no-builtin-bank", "--bank", bank.to_str().unwrap(), "review", "dispute", "latest"],
        "3\n9m\n2p 3x 2 3\n\n",
        &[("COLUMNS", "100")],
    );
    run.success();
    let t = sb.only_transcript();
    // The file name ends with the session's id, which `redact` cannot tell from a word.
    let screen = sb.redact(&run.stdout.replace(t["id"].as_str().unwrap(), "[ID]"));
    insta::assert_snapshot!("review_dispute_stdin", screen);
    assert_eq!(grades(&t, 0), [("offline".to_string(), None, Some(50)), ("self".to_string(), Some(0), Some(75))]);
    assert_eq!(scheduled_score(&sb, "colours"), Some(75));

    // The first answer now has the user's word: with no TURN there is nothing left to do.
    let again = sb.run(&["--no-builtin-bank", "--bank", bank.to_str().unwrap(), "review", "dispute", "latest"], "");
    again.code(1);
    assert!(again.stderr.contains("every graded answer of this session has your word already"), "{}", again.stderr);
    // Named, it is reviewed again (the grader's grade, not the user's); `q` records nothing.
    let left =
        sb.run(&["--no-builtin-bank", "--bank", bank.to_str().unwrap(), "review", "dispute", "latest", "1"], "1x\nq\n");
    left.success();
    assert!(left.stdout.contains("(you gave your word on this answer before; this adds a newer one)"));
    assert!(left.stdout.contains("Score: 50/100  (the offline grader said 50)"), "{}", left.stdout);
    assert!(left.stdout.contains("(left without recording anything: the offline grader's 50/100 stands)"));
    assert_eq!(grades(&sb.only_transcript(), 0).len(), 2);
    let none = sb.run(&["--no-builtin-bank", "--bank", bank.to_str().unwrap(), "review", "dispute", "latest", "2"], "");
    none.code(1);
    assert!(none.stderr.contains("there is no answer 2: session"), "{}", none.stderr);
}

/// `review show` and the exports say whose verdicts count and what the grader had said.
#[test]
fn the_users_word_is_labelled_in_review_show_and_the_exports() {
    let sb = Sandbox::new();
    scripted_session(&sb);
    let bank = fixture_bank();
    let b = bank.to_str().unwrap();
    sb.run(&["--no-builtin-bank", "--bank", b, "review", "dispute", "latest"], "3m\n\n").success();
    let show = sb.run(&["--no-builtin-bank", "--bank", b, "review", "show", "latest"], "");
    assert!(show.stdout.contains("Score: 75/100  (your own verdicts; the offline grader said 50)"), "{}", show.stdout);
    assert!(show.stdout.contains("mean score: 75/100"), "{}", show.stdout);
    let md = sb.run(&["--no-builtin-bank", "--bank", b, "review", "export", "latest", "--format", "md"], "");
    assert!(md.stdout.contains("— your own verdicts; the offline grader said 50"), "{}", md.stdout);
    assert!(md.stdout.contains("| you changed missed to met |"), "{}", md.stdout);
    let html = sb.run(&["--no-builtin-bank", "--bank", b, "review", "export", "latest", "--format", "html"], "");
    assert!(html.stdout.contains("your own verdicts; the offline grader said 50"), "{}", html.stdout);
}

/// A regrade adds the grader's new grade but does not overrule the user, and says so; a
/// dispute after it reviews the new grade.
#[test]
fn after_a_regrade_the_users_own_verdicts_still_count() {
    let sb = Sandbox::new();
    scripted_session(&sb);
    let bank = fixture_bank();
    let b = bank.to_str().unwrap();
    sb.run(&["--no-builtin-bank", "--bank", b, "review", "dispute", "latest"], "3m\n\n").success();
    let id = sb.only_transcript()["id"].as_str().unwrap().to_string();
    let regrade = sb.run(&["--no-builtin-bank", "--bank", b, "regrade", "latest", "--grader", "offline"], "");
    regrade.success();
    let note =
        format!("    (your own verdicts (75/100) still count; `grill review dispute {id} 1` reviews the new grade)\n");
    assert!(regrade.stdout.contains(&note), "{}", regrade.stdout);
    let t = sb.only_transcript();
    assert_eq!(
        grades(&t, 0),
        [
            ("offline".to_string(), None, Some(50)),
            ("self".to_string(), Some(0), Some(75)),
            ("offline".to_string(), None, Some(50))
        ]
    );
    assert_eq!(scheduled_score(&sb, "colours"), Some(75), "the user's word, not the newer grade, is scheduled");
    sb.run(&["--no-builtin-bank", "--bank", b, "review", "dispute", "latest", "1"], "2p\n\n").success();
    let last = grades(&sb.only_transcript(), 0).pop().unwrap();
    assert_eq!(last, ("self".to_string(), Some(2), Some(63)));
    assert_eq!(scheduled_score(&sb, "colours"), Some(63));
}

/// An interview shows no grade until the end: `:dispute` there says where to do it.
#[test]
fn dispute_in_an_interview_points_to_review_dispute() {
    let sb = Sandbox::new();
    let bank = fixture_bank();
    let args = [
        "--no-builtin-bank",
        "--bank",
        bank.to_str().unwrap(),
        "--grader",
        "offline",
        "interview",
        "--question",
        "colours",
    ];
    let run = sb.run(&[&args[..], &["--follow-ups", "0"]].concat(), &format!(":dispute\n---\n{ANSWER}\n"));
    run.success();
    assert!(
        run.stdout
            .contains("  An interview shows no grade until the end: `grill review dispute` reviews one after it.\n"),
        "{}",
        run.stdout
    );
    assert_eq!(grades(&sb.only_transcript(), 0), [("offline".to_string(), None, Some(50))]);
}

/// `grill review dispute --help` lists the keys from the checklist's own table.
#[test]
fn review_dispute_help_lists_the_keys() {
    let sb = Sandbox::new();
    let run = sb.run_with(
        &["review", "dispute", "--help"],
        "",
        &[("XDG_CONFIG_HOME", "/home/u/.config"), ("XDG_DATA_HOME", "/home/u/.local/share")],
    );
    run.success();
    insta::assert_snapshot!("review_dispute_help", run.stdout);
}
