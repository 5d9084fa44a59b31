//! `grill grade`: one answer from a file or stdin.

use crate::util::{Sandbox, fixture_bank};

#[test]
fn json_output_has_score_grader_and_verdicts() {
    let sb = Sandbox::new();
    let file = sb.path("answer.txt");
    std::fs::write(
        &file,
        "The GIL is a mutex: only one thread executes bytecode at a time, because reference counting is not atomic.\n",
    )
    .unwrap();
    let run = sb.run(&["grade", "--question", "gil", "--answer-file", file.to_str().unwrap(), "--json"], "");
    run.success();
    let v = run.json();
    assert_eq!(v["question"], "gil");
    assert_eq!(v["status"], "graded");
    assert_eq!(v["grader"]["kind"], "offline");
    let score = v["score"].as_u64().unwrap();
    assert!((1..100).contains(&score), "{score}");
    let kps = v["key_points"].as_array().unwrap();
    assert!(kps.iter().any(|k| k["id"] == "what-it-is" && k["verdict"] == "met"), "{kps:?}");
    assert!(kps.iter().any(|k| k["verdict"] == "missed"));
}

#[test]
fn the_answer_can_come_from_stdin() {
    let sb = Sandbox::new();
    let bank = fixture_bank();
    let run = sb.run(
        &["--no-builtin-bank", "--bank", bank.to_str().unwrap(), "grade", "--question", "colours", "--json"],
        "Red and blue make green.",
    );
    run.success();
    let v = run.json();
    assert_eq!(v["red_flags"][0]["id"], "red-and-blue");
    assert!(v["score"].as_u64().unwrap() <= 30);
}

#[test]
fn an_empty_file_scores_zero() {
    let sb = Sandbox::new();
    let file = sb.path("empty.txt");
    std::fs::write(&file, "").unwrap();
    let run = sb.run(&["grade", "--question", "gil", "--answer-file", file.to_str().unwrap(), "--json"], "");
    run.success();
    assert_eq!(run.json()["score"], 0);
    assert_eq!(run.json()["notes"][0], "empty answer");
}

#[test]
fn a_five_megabyte_file_gets_a_clear_message() {
    let sb = Sandbox::new();
    let file = sb.path("huge.txt");
    std::fs::write(&file, "the GIL is a lock. ".repeat(5 * 1024 * 1024 / 19)).unwrap();
    let run = sb.run(&["grade", "--question", "gil", "--answer-file", file.to_str().unwrap()], "");
    run.code(1);
    assert!(run.stderr.contains("huge.txt is 5.2 MB; grill grades answers up to 1 MiB"), "{}", run.stderr);
    assert!(!run.stderr.contains("panicked"));
}

#[test]
fn a_binary_file_gets_a_clear_message() {
    let sb = Sandbox::new();
    let file = sb.path("a.out");
    std::fs::write(&file, [0x7f, b'E', b'L', b'F', 2, 1, 1, 0, 0, 0, 0xff, 0xfe]).unwrap();
    let run = sb.run(&["grade", "--question", "gil", "--answer-file", file.to_str().unwrap()], "");
    run.code(1);
    assert!(run.stderr.contains("a.out is not text: it holds a NUL byte at offset 7"), "{}", run.stderr);

    std::fs::write(&file, [b'o', b'k', 0xff, 0xfe, b'!']).unwrap();
    let run = sb.run(&["grade", "--question", "gil", "--answer-file", file.to_str().unwrap()], "");
    run.code(1);
    assert!(run.stderr.contains("a.out is not UTF-8 text (invalid byte at offset 2)"), "{}", run.stderr);
}

#[test]
fn a_missing_file_is_named() {
    let sb = Sandbox::new();
    let run = sb.run(&["grade", "--question", "gil", "--answer-file", "nope.txt"], "");
    run.code(1);
    assert!(run.stderr.contains("cannot read nope.txt"), "{}", run.stderr);
}
