//! Old transcripts under a newer grill: rewritten at the current schema version, and not
//! marked as asked differently because the question hash now covers grading alone.

use crate::util::{Sandbox, fixture_bank};

const CHANGED: &str = "(the question has changed in the bank since this session)";

/// A sandbox holding the schema 1 fixture and a copy of the fixture bank edited by `edit`.
fn with_v1(edit: impl Fn(String) -> String) -> (Sandbox, String) {
    let sb = Sandbox::new();
    std::fs::create_dir_all(sb.transcripts()).unwrap();
    let fixture = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/transcripts/schema-v1.json");
    std::fs::copy(&fixture, sb.transcripts().join("2026-11-23T085359_sample_6ab1a31b.json")).unwrap();
    let bank = sb.path("bank");
    std::fs::create_dir_all(&bank).unwrap();
    let toml = std::fs::read_to_string(fixture_bank().join("sample.toml")).unwrap();
    std::fs::write(bank.join("sample.toml"), edit(toml)).unwrap();
    (sb, bank.to_str().unwrap().to_string())
}

#[test]
fn an_old_session_is_changed_only_by_an_edit() {
    let (sb, bank) = with_v1(|t| t);
    let run = sb.run(&["--no-builtin-bank", "--bank", &bank, "review", "show", "6ab1"], "");
    run.success();
    assert!(!run.stdout.contains(CHANGED), "{}", run.stdout);

    let (sb, bank) = with_v1(|t| t.replacen("make green, and why?", "make green?", 1));
    let run = sb.run(&["--no-builtin-bank", "--bank", &bank, "review", "show", "6ab1"], "");
    run.success();
    // The colours question and its follow-up, not tides.
    assert_eq!(run.stdout.matches(CHANGED).count(), 2, "only the colours turns changed:\n{}", run.stdout);
}

#[test]
fn a_tag_edit_marks_no_session_changed() {
    let (sb, bank) = with_v1(|t| t);
    let args = [
        "--no-builtin-bank",
        "--bank",
        &bank,
        "--grader",
        "offline",
        "practice",
        "--question",
        "colours",
        "--follow-ups",
        "0",
    ];
    sb.run(&args, "Blue and yellow make green.\n").success();
    let id = sb.transcript_files().iter().find(|p| !p.to_string_lossy().contains("6ab1a31b")).unwrap().clone();
    let id = id.file_stem().unwrap().to_str().unwrap().rsplit('_').next().unwrap().to_string();
    let toml = std::fs::read_to_string(sb.path("bank/sample.toml")).unwrap();
    let edited = toml.replacen(r#"tags = ["test"]"#, r#"tags = ["test", "colour"]"#, 1).replacen(
        r#"level = "mid""#,
        r#"level = "staff""#,
        1,
    );
    assert_ne!(edited, toml);
    std::fs::write(sb.path("bank/sample.toml"), edited).unwrap();
    let run = sb.run(&["--no-builtin-bank", "--bank", &bank, "review", "show", &id], "");
    run.success();
    assert!(run.stdout.contains("Blue and yellow make green."), "{}", run.stdout);
    assert!(!run.stdout.contains(CHANGED), "{}", run.stdout);
}

#[test]
fn regrading_an_old_session_writes_the_current_schema_version() {
    let (sb, bank) = with_v1(|t| t);
    let run = sb.run(&["--no-builtin-bank", "--bank", &bank, "--grader", "offline", "regrade", "6ab1"], "");
    run.success();
    let t = sb.only_transcript();
    assert_eq!(t["schema_version"], 4);
    assert_eq!(t["mode"], "practice");
    assert_eq!(t["turns"][0]["question_hash"], "289f302d4834e77a", "the recorded hash is kept as it was");
    assert_eq!(t["turns"][0]["grades"].as_array().unwrap().len(), 2, "the old grade is kept");
}
