//! Whole practice sessions through the binary, answers on stdin.

use crate::util::{Sandbox, fixture_bank};

const GIL_ANSWER: &str = "The GIL is a mutex in CPython: only one thread can execute bytecode at a time.
It exists because reference counting is not atomic, and it keeps C extensions simple.

Blocking I/O releases the GIL, so I/O bound threads scale, but CPU bound threads get no speed up;
for those I use multiprocessing or a process pool.";

#[test]
fn issue_3_two_answers_on_stdin_are_graded_and_saved() {
    let sb = Sandbox::new();
    let stdin = format!(
        "{GIL_ANSWER}\n---\nOne thread runs in parallel on several cores, but races remain, so I still need locks.\n"
    );
    let run = sb.run(&["practice", "--question", "gil", "--follow-ups", "1"], &stdin);
    run.success();
    assert_eq!(run.stdout.matches("Score:").count(), 2, "{}", run.stdout);
    assert!(run.stdout.contains("offline grader"), "the grader is labelled offline");
    assert!(run.stdout.contains("Reference answer for gil"));

    let t = sb.only_transcript();
    assert_eq!(t["schema_version"], 4);
    assert_eq!(t["mode"], "practice");
    assert_eq!(t["status"], "completed");
    assert_eq!(t["grader"]["kind"], "offline");
    let turns = t["turns"].as_array().unwrap();
    assert_eq!(turns.len(), 2);
    assert_eq!(turns[0]["answer"].as_str().unwrap(), GIL_ANSWER);
    assert!(turns[1]["follow_up_id"].is_string());
    for turn in turns {
        let grade = &turn["grades"][0]["grade"];
        assert_eq!(grade["status"], "graded");
        assert!(grade["score"].as_u64().unwrap() <= 100);
        assert!(!grade["key_points"].as_array().unwrap().is_empty());
    }
    let first = turns[0]["grades"][0]["grade"]["score"].as_u64().unwrap();
    assert!(first >= 60, "a good GIL answer scored {first}");
}

#[test]
fn the_follow_up_digs_into_the_missed_point() {
    let sb = Sandbox::new();
    let bank = fixture_bank();
    // Blue and yellow (met) but nothing on light: the follow-up about screens comes first.
    let answer = "You mix blue and yellow paint, because the yellow and the blue both end up as green in the mix.";
    let run = sb.run(
        &[
            "--no-builtin-bank",
            "--bank",
            bank.to_str().unwrap(),
            "practice",
            "--question",
            "colours",
            "--follow-ups",
            "1",
        ],
        &format!("{answer}\n---\nscreens add light\n"),
    );
    run.success();
    let t = sb.only_transcript();
    assert_eq!(t["turns"][1]["follow_up_id"], "screens");
}

#[test]
fn eof_before_the_end_keeps_every_answer_given() {
    let sb = Sandbox::new();
    let bank = fixture_bank();
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
        "Blue and yellow pigments make green: each absorbs light the other reflects.\n",
    );
    run.success();
    let t = sb.only_transcript();
    assert_eq!(t["status"], "quit");
    assert_eq!(t["plan"], serde_json::json!(["colours", "tides"]));
    let turns = t["turns"].as_array().unwrap();
    assert_eq!(turns[0]["grades"][0]["grade"]["status"], "graded");
    assert!(turns[1].get("answer").is_none(), "the second question was asked, not answered");
}

#[test]
fn hint_skip_and_quit_commands_work_from_stdin() {
    let sb = Sandbox::new();
    let bank = fixture_bank();
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
        ],
        ":hint\n---\n:skip\n---\n:ref\n---\n:quit\n",
    );
    run.success();
    assert!(
        run.stdout.contains("hint:\n    The interviewer wants to see: Whether the candidate knows subtractive mixing."),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("(skipped)"));
    assert!(run.stdout.contains("Reference answer (noted in the transcript)"));
    let t = sb.only_transcript();
    assert_eq!(t["status"], "quit");
    assert_eq!(t["turns"][0]["skipped"], true);
    assert_eq!(t["turns"][0]["hints"].as_array().unwrap().len(), 1);
    assert_eq!(t["turns"][1]["question_id"], "tides");
    assert_eq!(t["turns"][1]["reference_shown_early"], true);
}

#[test]
fn an_unknown_question_is_a_user_error_with_a_suggestion() {
    let sb = Sandbox::new();
    let run = sb.run(&["practice", "--question", "gill"], "");
    run.code(1);
    assert!(run.stderr.contains("no question with id `gill`"), "{}", run.stderr);
    assert!(run.stderr.contains("did you mean gil"), "{}", run.stderr);
    assert!(sb.transcript_files().is_empty(), "nothing is saved for a session that never started");
}

#[test]
fn an_unknown_topic_lists_the_topics() {
    let sb = Sandbox::new();
    let bank = fixture_bank();
    let run = sb.run(&["--no-builtin-bank", "--bank", bank.to_str().unwrap(), "practice", "--topic", "nope"], "");
    run.code(1);
    assert!(run.stderr.contains("no topic `nope`; topics are: sample"), "{}", run.stderr);
}

#[test]
fn the_same_seed_asks_the_same_questions() {
    let bank = fixture_bank();
    let plan = |seed: &str| {
        let sb = Sandbox::new();
        // One skip, so the session is kept (an empty one is not saved).
        sb.run(
            &["--no-builtin-bank", "--bank", bank.to_str().unwrap(), "practice", "--count", "2", "--seed", seed],
            ":skip\n",
        )
        .success();
        sb.only_transcript()["plan"].clone()
    };
    let first = plan("7");
    assert_eq!(first.as_array().unwrap().len(), 2);
    assert_eq!(first, plan("7"));
}

#[test]
fn a_transcripts_folder_in_the_working_directory_does_not_capture_sessions() {
    let sb = Sandbox::new();
    std::fs::create_dir_all(sb.path("work/transcripts")).unwrap();
    let bank = fixture_bank();
    sb.run(&["--no-builtin-bank", "--bank", bank.to_str().unwrap(), "practice", "--question", "tides"], "the moon\n")
        .success();
    assert_eq!(std::fs::read_dir(sb.path("work/transcripts")).unwrap().count(), 0);
    assert_eq!(sb.transcript_files().len(), 1);
}
