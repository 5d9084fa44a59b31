//! `grill review list|show` over sessions made through the binary.

use crate::util::{Sandbox, fixture_bank};

fn two_sessions(sb: &Sandbox) {
    let bank = fixture_bank();
    let bank = bank.to_str().unwrap();
    sb.run(
        &["--no-builtin-bank", "--bank", bank, "practice", "--question", "colours", "--follow-ups", "0"],
        "Blue and yellow make green because pigments absorb light.\n",
    )
    .success();
    sb.run(
        &["--no-builtin-bank", "--bank", bank, "practice", "--question", "tides", "--follow-ups", "0"],
        "The moon's gravity pulls the sea.\n",
    )
    .success();
}

#[test]
fn list_and_show_read_saved_sessions() {
    let sb = Sandbox::new();
    two_sessions(&sb);
    let bank = fixture_bank();
    let bank = bank.to_str().unwrap();
    let run = sb.run(&["--no-builtin-bank", "--bank", bank, "review", "list", "--json"], "");
    run.success();
    let list = run.json()["sessions"].clone();
    assert_eq!(list.as_array().unwrap().len(), 2);
    assert_eq!(list[0]["questions"], serde_json::json!(["colours"]));
    assert_eq!(list[0]["status"], "completed");

    let run = sb.run(&["--no-builtin-bank", "--bank", bank, "review", "show", "latest"], "");
    run.success();
    assert!(
        run.stdout.contains("The moon's gravity pulls the sea.") && run.stdout.contains("Score:"),
        "{}",
        run.stdout
    );

    let id = list[0]["id"].as_str().unwrap();
    let run = sb.run(&["--no-builtin-bank", "--bank", bank, "review", "show", &id[..5], "--format", "json"], "");
    run.success();
    assert_eq!(run.json()["turns"][0]["question_id"], "colours");

    let run = sb.run(&["--no-builtin-bank", "--bank", bank, "review", "list", "--limit", "1", "--json"], "");
    assert_eq!(run.json()["sessions"][0]["questions"], serde_json::json!(["tides"]));
}

#[test]
fn a_corrupt_transcript_is_named_and_skipped_and_left_alone() {
    let sb = Sandbox::new();
    two_sessions(&sb);
    let files = sb.transcript_files();
    let text = std::fs::read_to_string(&files[0]).unwrap();
    let truncated = &text[..text.len() / 2];
    std::fs::write(&files[0], truncated).unwrap();
    std::fs::write(sb.transcripts().join("zzz-not-json.json"), b"\x00\x01binary").unwrap();

    let run = sb.run(&["review", "list"], "");
    run.code(2);
    let name = files[0].file_name().unwrap().to_str().unwrap();
    assert!(
        run.stderr.contains(&format!("warning: skipped {}", files[0].display())) && run.stderr.contains(name),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("zzz-not-json.json"), "{}", run.stderr);
    assert!(run.stdout.contains("tides"), "the good session still lists: {}", run.stdout);
    assert_eq!(std::fs::read_to_string(&files[0]).unwrap(), truncated, "nothing is modified");
    assert_eq!(sb.transcript_files().len(), 3, "nothing is deleted");
}

#[test]
fn show_of_an_unknown_session_is_a_user_error() {
    let sb = Sandbox::new();
    let run = sb.run(&["review", "show", "nope"], "");
    run.code(1);
    assert!(run.stderr.contains("no transcript matches `nope`"), "{}", run.stderr);
}

#[test]
fn a_transcript_of_the_first_schema_version_still_loads() {
    let sb = Sandbox::new();
    std::fs::create_dir_all(sb.transcripts()).unwrap();
    let fixture = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/transcripts/schema-v1.json");
    std::fs::copy(&fixture, sb.transcripts().join("2026-11-23T085359_sample_6ab1a31b.json")).unwrap();
    let bank = fixture_bank();
    let run = sb.run(&["--no-builtin-bank", "--bank", bank.to_str().unwrap(), "review", "list", "--json"], "");
    run.success();
    assert_eq!(run.json()["sessions"][0]["id"], "6ab1a31b");
    let run = sb.run(&["--no-builtin-bank", "--bank", bank.to_str().unwrap(), "review", "show", "6ab1"], "");
    run.success();
    assert!(
        run.stdout.contains("Blue and yellow pigments make green") && run.stdout.contains("Score:"),
        "{}",
        run.stdout
    );
}

#[test]
fn a_transcript_of_schema_version_2_still_loads_as_a_practice_session() {
    let sb = Sandbox::new();
    std::fs::create_dir_all(sb.transcripts()).unwrap();
    let fixture = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/transcripts/schema-v2.json");
    let file = sb.transcripts().join("2026-12-01T181947_colours_4f26dc4a.json");
    std::fs::copy(&fixture, &file).unwrap();
    let bank = fixture_bank();
    let bank = bank.to_str().unwrap();
    let run = sb.run(&["--no-builtin-bank", "--bank", bank, "review", "show", "4f26", "--format", "json"], "");
    run.success();
    assert_eq!(run.json()["mode"], "practice", "a version 2 transcript is a practice session");
    assert_eq!(run.json()["turns"][0]["grades"][0]["grade"]["status"], "graded");
    let run = sb.run(&["--no-builtin-bank", "--bank", bank, "review", "list", "--json"], "");
    run.success();
    assert_eq!(run.json()["sessions"][0]["id"], "4f26dc4a");
}
