//! `grill bank list|show|check`.

use crate::util::{Sandbox, fixture_bank};

#[test]
fn the_shipped_bank_checks_clean() {
    let sb = Sandbox::new();
    let run = sb.run(&["bank", "check"], "");
    run.success();
    assert!(run.stdout.contains("built-in bank:") && run.stdout.contains("no problems"), "{}", run.stdout);
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
    assert!(line_with("invalid").contains("syntax.toml:5:"), "syntax error: {out}");
    assert!(line_with("[broken-syntax]").contains("syntax.toml:"));
    assert!(line_with("duplicate question id").contains("rubric.toml:13:1: [dup]"), "{out}");
    assert!(line_with("wieght").contains("rubric.toml:35:1: [typo-field]"), "{out}");
    assert!(line_with("no-such-point").contains("rubric.toml:") && line_with("no-such-point").contains("[bad-probe]"));
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
    sb.run(&["bank", "check", dir.to_str().unwrap()], "").success();
    let run = sb.run(&["bank", "check", "--strict", dir.to_str().unwrap()], "");
    run.code(1);
    assert!(run.stdout.contains("[thin] has 1 key points; ship at least 3"), "{}", run.stdout);
    assert!(run.stdout.contains("has no red flag"));
}

#[test]
fn list_and_show_read_the_bank_in_use() {
    let sb = Sandbox::new();
    let bank = fixture_bank();
    let run = sb.run(&["--bank", bank.to_str().unwrap(), "bank", "list", "--json"], "");
    run.success();
    let ids: Vec<String> =
        run.json()["questions"].as_array().unwrap().iter().map(|q| q["id"].as_str().unwrap().to_string()).collect();
    assert_eq!(ids, ["colours", "tides"]);

    let run = sb.run(&["--bank", bank.to_str().unwrap(), "bank", "show", "tides"], "");
    run.success();
    assert!(run.stdout.contains("What causes the tides?") && run.stdout.contains("[two-bulges]"), "{}", run.stdout);

    let run = sb.run(&["--bank", bank.to_str().unwrap(), "bank", "show", "tide"], "");
    run.code(1);
    assert!(run.stderr.contains("did you mean tides?"), "{}", run.stderr);
}

#[test]
fn a_broken_bank_stops_practice_with_every_problem() {
    let sb = Sandbox::new();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/broken");
    let run = sb.run(&["--bank", dir.to_str().unwrap(), "practice"], "");
    run.code(1);
    assert!(run.stderr.contains("error: the question bank"), "{}", run.stderr);
    assert!(run.stderr.contains("rubric.toml:13:1: [dup] duplicate question id"), "{}", run.stderr);
}

/// Issue 4: every code example in the shipped bank runs under each CPython 3.11+ on the
/// machine and prints what the bank says it prints.
#[test]
fn every_shipped_example_runs_and_prints_its_output() {
    let sb = Sandbox::new();
    // The sandbox has its own HOME: point it at the machine's pyenv, if there is one.
    let pyenv_root = std::env::var("PYENV_ROOT")
        .ok()
        .or_else(|| std::env::var("HOME").ok().map(|h| format!("{h}/.pyenv")))
        .unwrap_or_default();
    let run = sb.run_with(&["bank", "check", "--run-examples"], "", &[("PYENV_ROOT", &pyenv_root)]);
    run.success();
    assert!(run.stderr.contains("running examples under 3.11"), "{}", run.stderr);
    assert!(run.stderr.contains(" 0 failed"), "{}", run.stderr);
}

#[test]
fn a_broken_example_is_reported_with_its_question() {
    let sb = Sandbox::new();
    let dir = sb.path("bank");
    std::fs::create_dir_all(&dir).unwrap();
    let sample = std::fs::read_to_string(fixture_bank().join("sample.toml")).unwrap();
    let with_examples = sample.replacen(
        "[[question.key_points]]",
        "[[question.examples]]\ncode = '''\nprint(sum([1, 2, 3]))\n'''\noutput = '''\n7\n'''\n\n\
         [[question.examples]]\ncode = '''\nraise SystemExit(undefined_name)\n'''\n\n[[question.key_points]]",
        1,
    );
    std::fs::write(dir.join("sample.toml"), with_examples).unwrap();
    let run = sb.run(&["bank", "check", "--run-examples", dir.to_str().unwrap()], "");
    run.code(1);
    assert!(
        run.stdout.contains("[colours] example 1 under Python 3.11")
            && run.stdout.contains("printed\n6\nbut the bank says it prints\n7"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("[colours] example 2") && run.stdout.contains("NameError"), "{}", run.stdout);
}
