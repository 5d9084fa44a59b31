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
    let run = sb.run(&["--no-builtin-bank", "--bank", bank.to_str().unwrap(), "bank", "list", "--json"], "");
    run.success();
    let ids: Vec<String> =
        run.json()["questions"].as_array().unwrap().iter().map(|q| q["id"].as_str().unwrap().to_string()).collect();
    assert_eq!(ids, ["colours", "tides"]);

    let run = sb.run(&["--no-builtin-bank", "--bank", bank.to_str().unwrap(), "bank", "show", "tides"], "");
    run.success();
    assert!(run.stdout.contains("What causes the tides?") && run.stdout.contains("[two-bulges]"), "{}", run.stdout);

    let run = sb.run(&["--no-builtin-bank", "--bank", bank.to_str().unwrap(), "bank", "show", "tide"], "");
    run.code(1);
    assert!(run.stderr.contains("did you mean tides?"), "{}", run.stderr);
}

#[test]
fn a_broken_bank_stops_practice_with_every_problem() {
    let sb = Sandbox::new();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/broken");
    let run = sb.run(&["--no-builtin-bank", "--bank", dir.to_str().unwrap(), "practice"], "");
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

/// The template is a question that passes the strict check as written, with the id, topic
/// and level asked for; printed, it is the very text written to a file.
#[test]
fn bank_new_writes_a_template_that_passes_the_strict_check() {
    let sb = Sandbox::new();
    let dir = sb.path("mine");
    std::fs::create_dir_all(&dir).unwrap();
    let dir_arg = dir.to_str().unwrap();
    let printed = sb.run(&["bank", "new", "gil-in-c", "--topic", "internals", "--level", "staff"], "");
    printed.success();
    let run = sb.run(&["bank", "new", "gil-in-c", "--topic", "internals", "--level", "staff", "-o", dir_arg], "");
    run.success();
    assert_eq!(sb.redact(&run.stdout), "wrote [SANDBOX]/mine/gil-in-c.toml\n");
    assert_eq!(sb.redact(&run.stderr), "edit it, then check it with `grill bank check --strict [SANDBOX]/mine`\n");
    let written = std::fs::read_to_string(dir.join("gil-in-c.toml")).unwrap();
    assert_eq!(written, printed.stdout);
    let check = sb.run(&["bank", "check", "--strict", dir_arg], "");
    check.success();
    assert_eq!(sb.redact(&check.stdout), "[SANDBOX]/mine: 1 questions, no problems\n");
    let shown = sb.run(&["--no-builtin-bank", "--bank", dir_arg, "bank", "show", "gil-in-c", "--json"], "");
    let q = shown.json();
    assert_eq!(
        (q["id"].as_str(), q["topic"].as_str(), q["level"].as_str()),
        (Some("gil-in-c"), Some("internals"), Some("staff"))
    );
}

#[test]
fn bank_new_never_overwrites_and_refuses_a_bad_id() {
    let sb = Sandbox::new();
    let file = sb.path("q.toml");
    std::fs::write(&file, "my own work\n").unwrap();
    let run = sb.run(&["bank", "new", "-o", file.to_str().unwrap()], "");
    run.code(1);
    assert_eq!(
        sb.redact(&run.stderr),
        "error: [SANDBOX]/q.toml already exists; nothing was written\n  hint: choose another id or path: `grill bank new` \
         never overwrites a file\n"
    );
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "my own work\n");
    let run = sb.run(&["bank", "new", "Bad_Id"], "");
    run.code(1);
    assert_eq!(run.stderr, "error: the id `Bad_Id` is not kebab-case (lowercase letters, digits and -)\n");
    assert_eq!(run.stdout, "");
}

/// A folder of the user's adds to the built-in bank; `bank list` and `bank show` say where
/// each question comes from, and a session records the file of a question from the folder.
#[test]
fn a_users_folder_layers_over_the_built_in_bank() {
    let sb = Sandbox::new();
    let bank = fixture_bank();
    let bank_arg = bank.to_str().unwrap();
    let list = sb.run(&["--bank", bank_arg, "bank", "list", "--json"], "");
    let doc = list.json();
    let rows = doc["questions"].as_array().unwrap();
    assert_eq!(rows.len(), 96, "94 built-in questions and the folder's 2");
    assert_eq!(doc["source"].as_str().map(|s| sb.redact(s)), Some(format!("built-in bank + {}", bank.display())));
    let file_of = |id: &str| rows.iter().find(|q| q["id"] == id).map(|q| q["file"].as_str().unwrap().to_string());
    assert_eq!(file_of("gil").as_deref(), Some("question_bank/concurrency.toml"));
    assert_eq!(file_of("tides"), Some(bank.join("sample.toml").display().to_string()));
    let text = sb.run(&["--bank", bank_arg, "bank", "list", "--topic", "sample"], "");
    text.success();
    assert_eq!(
        text.stdout.replace(&bank.display().to_string(), "[FIXTURE]"),
        "id                           topic           level   prompt                                                         from\n\
         colours                      sample          mid     Which colours mix to make green, and why?                      \
         [FIXTURE]/sample.toml\n\
         tides                        sample          senior  What causes the tides?                                         \
         [FIXTURE]/sample.toml\n\
         2 questions\n"
    );
    sb.run(
        &[
            "--bank",
            bank_arg,
            "--grader",
            "offline",
            "practice",
            "--question",
            "tides",
            "--question",
            "gil",
            "--follow-ups",
            "0",
        ],
        "The Moon pulls.\n---\nOne thread runs bytecode at a time.\n",
    )
    .success();
    let t = sb.only_transcript();
    assert_eq!(t["turns"][0]["question_file"].as_str(), Some(bank.join("sample.toml").display().to_string().as_str()));
    assert_eq!(t["turns"][1].get("question_file"), None, "built-in questions record no file");
    let show = sb.run(&["--bank", bank_arg, "review", "show", "latest"], "");
    show.success();
    let heading = show
        .stdout
        .lines()
        .find(|l| l.contains("tides (from"))
        .map(|l| l.replace(&bank.display().to_string(), "[FIXTURE]"));
    assert_eq!(heading.as_deref(), Some("1. tides (from [FIXTURE]/sample.toml)"));
}

/// An id defined in two folders (or in a folder and the built-in bank) is an error that
/// names both files; leaving the built-in bank out with no folder is an error too.
#[test]
fn an_id_defined_in_two_layers_names_both_files() {
    let sb = Sandbox::new();
    let (a, b) = (sb.path("a"), sb.path("b"));
    let question = |id: &str| {
        format!(
            "[[question]]\nid = \"{id}\"\ntopic = \"t\"\nlevel = \"mid\"\nprompt = \"?\"\ntesting = \"x\"\nreference_answer = \"x\"\n\n[[question.key_points]]\nid = \"k\"\npoint = \"p\"\ncues = [\"c\"]\n"
        )
    };
    for (dir, id) in [(&a, "shared"), (&b, "shared")] {
        std::fs::create_dir_all(dir).unwrap();
        std::fs::write(dir.join("q.toml"), question(id)).unwrap();
    }
    let run = sb.run(&["--bank", a.to_str().unwrap(), "--bank", b.to_str().unwrap(), "bank", "list"], "");
    run.code(1);
    assert_eq!(
        sb.redact(&run.stderr),
        "error: the question bank (built-in bank + [SANDBOX]/a + [SANDBOX]/b) has 1 problem(s)\n  [SANDBOX]/b/q.toml:1:1: \
         [shared] duplicate question id: first defined at [SANDBOX]/a/q.toml:1\n"
    );
    std::fs::write(b.join("q.toml"), question("gil")).unwrap();
    let run = sb.run(&["--bank", b.to_str().unwrap(), "bank", "list"], "");
    run.code(1);
    assert_eq!(
        sb.redact(&run.stderr),
        "error: the question bank (built-in bank + [SANDBOX]/b) has 1 problem(s)\n  [SANDBOX]/b/q.toml:1:1: [gil] \
         duplicate question id: first defined at question_bank/concurrency.toml:1\n"
    );
    let run = sb.run(&["--no-builtin-bank", "bank", "list"], "");
    run.code(1);
    assert_eq!(
        run.stderr,
        "error: the question bank (the bank) has 1 problem(s)\n  settings: no questions to ask: the built-in bank is left \
         out (`--no-builtin-bank` or `builtin_bank`) and no `--bank` folder is given\n"
    );
}
