//! `grill bank list|show|check`.

use crate::util::{Sandbox, fixture_bank};

#[test]
fn the_shipped_bank_checks_clean() {
    let sb = Sandbox::new();
    let run = sb.run(&["bank", "check"], "");
    run.success();
    assert!(
        run.stdout.contains("built-in bank:") && run.stdout.contains("no problems"),
        "{}",
        run.stdout
    );
}

#[test]
fn a_broken_folder_names_file_line_and_id_for_each_problem() {
    let sb = Sandbox::new();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/broken");
    let run = sb.run(&["bank", "check", dir.to_str().unwrap()], "");
    run.code(1);
    let out = &run.stdout;
    let line_with = |needle: &str| {
        out.lines()
            .find(|l| l.starts_with("problem:") && l.contains(needle))
            .unwrap_or_else(|| panic!("no problem line with {needle:?} in:\n{out}"))
    };
    assert!(
        line_with("invalid").contains("syntax.toml:5:"),
        "syntax error: {out}"
    );
    assert!(line_with("[broken-syntax]").contains("syntax.toml:"));
    assert!(
        line_with("duplicate question id").contains("rubric.toml:13:1: [dup]"),
        "{out}"
    );
    assert!(
        line_with("wieght").contains("rubric.toml:35:1: [typo-field]"),
        "{out}"
    );
    assert!(
        line_with("no-such-point").contains("rubric.toml:")
            && line_with("no-such-point").contains("[bad-probe]")
    );
    assert!(out.contains("problem(s) in 2 file(s)"), "{out}");
}

#[test]
fn strict_applies_the_shipped_minimums() {
    let sb = Sandbox::new();
    let dir = sb.path("bank");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("thin.toml"),
        "[[question]]\nid = \"thin\"\ntopic = \"t\"\nlevel = \"mid\"\nprompt = \"?\"\ntesting = \"x\"\nreference_answer = \"x\"\n\
         [[question.key_points]]\nid = \"k\"\npoint = \"p\"\ncues = [\"c\"]\n",
    )
    .unwrap();
    sb.run(&["bank", "check", dir.to_str().unwrap()], "")
        .success();
    let run = sb.run(&["bank", "check", "--strict", dir.to_str().unwrap()], "");
    run.code(1);
    assert!(
        run.stdout
            .contains("[thin] has 1 key points; ship at least 3"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("has no red flag"));
}

#[test]
fn list_and_show_read_the_bank_in_use() {
    let sb = Sandbox::new();
    let bank = fixture_bank();
    let run = sb.run(
        &["--bank", bank.to_str().unwrap(), "bank", "list", "--json"],
        "",
    );
    run.success();
    let ids: Vec<String> = run
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids, ["colours", "tides"]);

    let run = sb.run(
        &["--bank", bank.to_str().unwrap(), "bank", "show", "tides"],
        "",
    );
    run.success();
    assert!(
        run.stdout.contains("What causes the tides?") && run.stdout.contains("[two-bulges]"),
        "{}",
        run.stdout
    );

    let run = sb.run(
        &["--bank", bank.to_str().unwrap(), "bank", "show", "tide"],
        "",
    );
    run.code(1);
    assert!(run.stderr.contains("did you mean tides?"), "{}", run.stderr);
}

#[test]
fn a_broken_bank_stops_practice_with_every_problem() {
    let sb = Sandbox::new();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/broken");
    let run = sb.run(&["--bank", dir.to_str().unwrap(), "practice"], "");
    run.code(1);
    assert!(
        run.stderr.contains("error: the question bank"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("rubric.toml:13:1: [dup] duplicate question id"),
        "{}",
        run.stderr
    );
}
