//! Bad input files and settings: each is refused or skipped with a message that names
//! where it is, never a panic, a hang, a leaked secret or raw control characters.

use std::path::Path;

use crate::util::Sandbox;

/// One valid question; `extra` goes between its header fields and its key point.
fn question(id: &str, extra: &str) -> String {
    format!(
        "[[question]]\nid = \"{id}\"\ntopic = \"t\"\nlevel = \"mid\"\nprompt = \"Why?\"\ntesting = \"x\"\n\
         reference_answer = \"r\"\n{extra}[[question.key_points]]\nid = \"k\"\npoint = \"p\"\ncues = [\"c\"]\n"
    )
}

/// A bank folder in the sandbox holding `files` (name, text).
fn bank(sb: &Sandbox, files: &[(&str, &str)]) -> String {
    let dir = sb.path("bank");
    std::fs::create_dir_all(&dir).unwrap();
    for (name, text) in files {
        std::fs::write(dir.join(name), text).unwrap();
    }
    dir.to_str().unwrap().to_string()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

// 1. A syntax error far along one line.

/// Line 8 of the file: `tags = ["aaa…", 1x]`, the unquoted `1x` at column 70,000.
fn long_line_question() -> String {
    question("q", &format!("tags = [\"{}\", 1x]\n", "a".repeat(69_987)))
}

/// The excerpt shown for [`long_line_question`]: 40 characters before the column.
fn long_line_excerpt() -> String {
    format!("    | …{}\", 1x]\n    | {}^", "a".repeat(37), " ".repeat(41))
}

#[test]
fn bank_check_shows_an_excerpt_of_a_very_long_line() {
    let sb = Sandbox::new();
    let dir = bank(&sb, &[("long.toml", &long_line_question())]);
    let run = sb.run(&["bank", "check", &dir], "");
    run.code(1);
    assert_eq!(
        run.stdout,
        format!(
            "problem: {dir}/long.toml:8:70000: [q] string values must be quoted, expected literal string\n{}\n\
             {dir}: 1 problem(s) in 1 file(s)\n",
            long_line_excerpt()
        )
    );
    assert_eq!(run.stderr, "");
}

#[test]
fn practice_on_a_bank_with_a_very_long_line_reports_it() {
    let sb = Sandbox::new();
    let dir = bank(&sb, &[("long.toml", &long_line_question())]);
    let run = sb.run(&["--no-builtin-bank", "--bank", &dir, "practice"], "");
    run.code(1);
    assert_eq!(
        run.stderr,
        format!(
            "error: the question bank ({dir}) has 1 problem(s)\n  \
             {dir}/long.toml:8:70000: [q] string values must be quoted, expected literal string\n{}\n",
            long_line_excerpt()
        )
    );
}

#[test]
fn eval_on_a_set_with_a_very_long_line_reports_it() {
    let sb = Sandbox::new();
    let file = sb.path("work/set.toml");
    std::fs::write(&file, format!("question = \"tides\"\nx = [\"{}\", 1x]\n", "a".repeat(69_990))).unwrap();
    let fixture = crate::util::fixture_bank();
    let run =
        sb.run(&["--no-builtin-bank", "--bank", s(&fixture), "--grader", "offline", "eval", "--set", s(&file)], "");
    run.code(1);
    let file = s(&file);
    assert_eq!(
        run.stderr,
        format!(
            "error: the calibration set ({file}) has 1 problem(s)\n  \
             {file}:2:70000: string values must be quoted, expected literal string\n{}\n",
            long_line_excerpt()
        )
    );
}

// 2. Control characters in bank and calibration text.

const TERMINAL: &str = "which would act on the terminal it is shown in: remove it";

#[test]
fn bank_check_refuses_control_characters_in_any_text_field() {
    let sb = Sandbox::new();
    // An escape written as TOML escapes, and a right-to-left override written raw.
    let text = question("q", "tags = [\"ok\", \"ab\u{202E}cd\"]\n")
        .replace("prompt = \"Why?\"", "prompt = \"Why\\u001b]0;pwned\\u0007?\"");
    let dir = bank(&sb, &[("esc.toml", &text)]);
    let run = sb.run(&["bank", "check", &dir], "");
    run.code(1);
    assert_eq!(
        run.stdout,
        format!(
            "problem: {dir}/esc.toml:5:14: [q] `prompt` contains U+001B, a control character, {TERMINAL}\n\
             \x20   | prompt = \"Why\\u001b]0;pwned\\u0007?\"\n\
             \x20   |              ^\n\
             problem: {dir}/esc.toml:8:18: [q] `tags` contains U+202E, a bidirectional override, {TERMINAL}\n\
             \x20   | tags = [\"ok\", \"ab\u{FFFD}cd\"]\n\
             \x20   |                  ^\n\
             {dir}: 2 problem(s) in 1 file(s)\n"
        )
    );
}

#[test]
fn a_bank_folder_with_control_characters_does_not_load() {
    let sb = Sandbox::new();
    let text = question("q", "").replace("point = \"p\"", "point = \"p\\e[2J\"");
    let dir = bank(&sb, &[("esc.toml", &text)]);
    let run = sb.run(&["--no-builtin-bank", "--bank", &dir, "bank", "list"], "");
    run.code(1);
    assert_eq!(run.stdout, "");
    assert_eq!(
        run.stderr,
        format!(
            "error: the question bank ({dir}) has 1 problem(s)\n  \
             {dir}/esc.toml:10:11: [q] `key_points[k].point` contains U+001B, a control character, {TERMINAL}\n\
             \x20   | point = \"p\\e[2J\"\n\
             \x20   |           ^\n"
        )
    );
}

#[test]
fn eval_refuses_control_characters_in_answers() {
    let sb = Sandbox::new();
    let file = sb.path("work/set.toml");
    std::fs::write(
        &file,
        "question = \"tides\"\nhalf = \"tune\"\n[[answer]]\nkind = \"excellent\"\ntext = \"\"\"\nThe moon.\nSun \\u009b2J too.\"\"\"\n",
    )
    .unwrap();
    let fixture = crate::util::fixture_bank();
    let run =
        sb.run(&["--no-builtin-bank", "--bank", s(&fixture), "--grader", "offline", "eval", "--set", s(&file)], "");
    run.code(1);
    let file = s(&file);
    assert_eq!(
        run.stderr,
        format!(
            "error: the calibration set ({file}) has 2 problem(s)\n  \
             {file}:7:5: [tides] answer `excellent`: `text` contains U+009B, a control character, {TERMINAL}\n\
             \x20   | Sun \\u009b2J too.\"\"\"\n\
             \x20   |     ^\n  \
             {file}: [tides] no answer of kind good, paraphrase, partial, vague, wrong, off-topic, idk, stuffed, \
             injection-plea, injection-verdict, injection-tag\n"
        )
    );
}

// 3. Files that are not regular files.

fn mkfifo(path: &Path) {
    let status = std::process::Command::new("mkfifo").arg(path).status().expect("mkfifo runs");
    assert!(status.success(), "mkfifo {}", path.display());
}

/// Runs grill with `args`, killing it if it is still running after a minute: a command
/// blocked on a FIFO would otherwise hang the test run instead of failing it.
fn run_or_kill(sb: &Sandbox, args: &[&str]) -> crate::util::Run {
    let mut child = sb.spawn(args);
    drop(child.stdin.take());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while child.try_wait().unwrap().is_none() {
        if std::time::Instant::now() > deadline {
            child.kill().unwrap();
            panic!("grill {args:?} still blocked after a minute");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    crate::util::Run::from(child.wait_with_output().unwrap())
}

#[test]
fn a_fifo_in_a_bank_folder_is_skipped_with_a_warning() {
    let sb = Sandbox::new();
    let dir = bank(&sb, &[]);
    mkfifo(&sb.path("bank/a-fifo.toml"));
    // A symlink to a regular file is an ordinary bank file.
    std::fs::write(sb.path("real.toml"), question("linked", "")).unwrap();
    std::os::unix::fs::symlink(sb.path("real.toml"), sb.path("bank/b-link.toml")).unwrap();
    let warning = format!("warning: skipped {dir}/a-fifo.toml: not a regular file\n");

    let run = run_or_kill(&sb, &["bank", "check", &dir]);
    run.success();
    assert_eq!(run.stdout, format!("{dir}: 1 questions, no problems\n"));
    assert_eq!(run.stderr, warning);

    let run = run_or_kill(&sb, &["--no-builtin-bank", "--bank", &dir, "bank", "list", "--json"]);
    run.success();
    assert_eq!(run.json()["questions"][0]["id"], "linked");
    assert_eq!(run.stderr, warning);
}

#[test]
fn a_fifo_in_a_calibration_folder_is_skipped_with_a_warning() {
    let sb = Sandbox::new();
    let set = sb.path("set");
    std::fs::create_dir_all(&set).unwrap();
    mkfifo(&set.join("a.toml"));
    let fixture = crate::util::fixture_bank();
    let run = run_or_kill(
        &sb,
        &["--no-builtin-bank", "--bank", s(&fixture), "--grader", "offline", "eval", "--set", s(&set)],
    );
    run.code(1);
    let set = s(&set);
    assert_eq!(
        run.stderr,
        format!(
            "warning: skipped {set}/a.toml: not a regular file\n\
             error: the calibration set ({set}) has 1 problem(s)\n  \
             {set}: no *.toml calibration files here\n"
        )
    );

    // Named directly, it is refused rather than read.
    let fifo = format!("{set}/a.toml");
    let run =
        run_or_kill(&sb, &["--no-builtin-bank", "--bank", s(&fixture), "--grader", "offline", "eval", "--set", &fifo]);
    run.code(1);
    assert_eq!(
        run.stderr,
        format!("error: the calibration set ({fifo}) has 1 problem(s)\n  {fifo}: not a regular file\n")
    );
}

// 4. A malformed `.env` line.

const CONFIG_HINT: &str = "  hint: fix the file or variable named above, then run `grill config` to check\n";

#[test]
fn a_malformed_env_line_names_line_and_variable_but_never_the_value() {
    let sb = Sandbox::new();
    std::fs::write(sb.path("work/.env"), "GRILL_MODEL=m\nGRILL_API_KEY=\"sk-secret-value\nGRILL_GRADER=offline\n")
        .unwrap();
    let run = sb.run(&["config"], "");
    run.code(1);
    assert_eq!(run.stdout, "");
    assert_eq!(
        run.stderr,
        format!(
            "error: .env:2: the value of GRILL_API_KEY does not parse (a missing closing quote, or spaces \
             without quotes?); \
             the line is not shown, it may hold a secret\n{CONFIG_HINT}"
        )
    );

    // A bare key pasted on a line of its own is not named either.
    std::fs::write(sb.path("work/.env"), "GRILL_MODEL=m\nsk-secret-value\n").unwrap();
    let run = sb.run(&["config"], "");
    run.code(1);
    assert_eq!(
        run.stderr,
        format!("error: .env:2: not a NAME=value line; the line is not shown, it may hold a secret\n{CONFIG_HINT}")
    );
}

// 5. Credentials written into a URL.

#[test]
fn config_shows_urls_without_their_credentials_and_flags_them() {
    let sb = Sandbox::new();
    let env = [("GRILL_BASE_URL", "http://user:sk-url-secret-123456@host.example:8080/v1")];
    let run = sb.run_with(&["config", "--json"], "", &env);
    run.success();
    assert!(!run.stdout.contains("sk-url-secret"), "{}", run.stdout);
    let problem =
        "holds a user name or password, not shown; grill refuses such a URL: put the key in GRILL_API_KEY instead";
    assert_eq!(
        run.json()["settings"]["base_url"],
        serde_json::json!({
            "value": "http://host.example:8080/v1",
            "source": "environment (GRILL_BASE_URL)",
            "problem": problem,
        })
    );

    let run = sb.run_with(&["config"], "", &env);
    run.success();
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(
        lines[1],
        format!("{:<16} {:<44} {}", "base_url", "http://host.example:8080/v1", "environment (GRILL_BASE_URL)")
    );
    // The warnings come after the header and one row per setting.
    assert_eq!(lines[grill::config::SETTINGS.len() + 1], format!("warning: base_url {problem}"));
    assert!(!run.stdout.contains("sk-url-secret"), "{}", run.stdout);
}

// 6. Setting values that do not parse.

#[test]
fn an_invalid_grader_is_an_error_naming_its_source() {
    let sb = Sandbox::new();
    let run = sb.run_with(&["config"], "", &[("GRILL_GRADER", "ofline")]);
    run.code(1);
    assert_eq!(
        run.stderr,
        format!(
            "error: GRILL_GRADER in the environment must be one of auto, llm, offline \
             (got `ofline`; did you mean `offline`?)\n{CONFIG_HINT}"
        )
    );

    std::fs::write(sb.path("work/.env"), "GRILL_GRADER=model\n").unwrap();
    let run = sb.run(&["config"], "");
    run.code(1);
    assert_eq!(
        run.stderr,
        format!("error: GRILL_GRADER in .env must be one of auto, llm, offline (got `model`)\n{CONFIG_HINT}")
    );
}

#[test]
fn invalid_time_outs_are_errors_naming_their_source_and_bounds() {
    let sb = Sandbox::new();
    let cases: [(&str, &str, &str); 4] = [
        ("GRILL_TIMEOUT", "0", "1 to 3600"),
        ("GRILL_TIMEOUT", "two minutes", "1 to 3600"),
        ("GRILL_CONNECT_TIMEOUT", "301", "1 to 300"),
        ("GRILL_CONNECT_TIMEOUT", "-5", "1 to 300"),
    ];
    for (name, value, range) in cases {
        let run = sb.run_with(&["config"], "", &[(name, value)]);
        run.code(1);
        assert_eq!(
            run.stderr,
            format!(
                "error: {name} in the environment must be a whole number of seconds from {range} (got `{value}`)\n\
                 {CONFIG_HINT}"
            )
        );
        std::fs::write(sb.path("work/.env"), format!("{name}=\"{value}\"\n")).unwrap();
        let run = sb.run(&["config"], "");
        run.code(1);
        assert_eq!(
            run.stderr,
            format!(
                "error: {name} in .env must be a whole number of seconds from {range} (got `{value}`)\n{CONFIG_HINT}"
            )
        );
        std::fs::remove_file(sb.path("work/.env")).unwrap();
    }

    // A flag's value is fixed on the command line, not in a file or variable.
    let run = sb.run(&["--timeout", "0", "config"], "");
    run.code(1);
    assert_eq!(
        run.stderr,
        "error: --timeout must be a whole number of seconds from 1 to 3600 (got `0`)\n  \
         hint: change the value given on the command line\n"
    );

    std::fs::create_dir_all(sb.path("config/grill")).unwrap();
    let config = sb.path("config/grill/config.toml");
    std::fs::write(&config, "connect_timeout = 0\n").unwrap();
    let run = sb.run(&["config"], "");
    run.code(1);
    assert_eq!(
        run.stderr,
        format!(
            "error: `connect_timeout` in the config file ({}) must be a whole number of seconds from 1 to 300 \
             (got `0`)\n{CONFIG_HINT}",
            config.display()
        )
    );

    // Values in range are accepted from every source.
    std::fs::write(&config, "connect_timeout = 300\ntimeout = 3600\n").unwrap();
    let run = sb.run_with(&["config", "--json"], "", &[("GRILL_GRADER", "OFFLINE")]);
    run.success();
    assert_eq!(run.json()["settings"]["grader"]["value"], "offline");
}

// 7. Standard output closed early (`grill ... | head -1`).

/// Runs grill with `args`, reads one line of its output and closes the pipe; returns the
/// exit code and standard error. The output is far more than a pipe holds, so grill is
/// still writing when the pipe closes.
fn read_one_line_and_close(sb: &Sandbox, args: &[&str]) -> (i32, String) {
    use std::io::BufRead;
    let mut child = sb.spawn(args);
    drop(child.stdin.take());
    let mut first = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap()).read_line(&mut first).unwrap();
    assert!(!first.is_empty(), "no output from grill {args:?}");
    let out = child.wait_with_output().unwrap();
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn output_to_a_closed_pipe_ends_quietly_with_success() {
    let sb = Sandbox::new();
    let long = "Why does this take so long? ".repeat(20);
    let questions: String = (0..400).map(|i| question(&format!("q{i}"), "")).collect::<String>().replace("Why?", &long);
    let big = format!(
        "{}{}",
        question("big", "")
            .replace("reference_answer = \"r\"", &format!("reference_answer = \"{}\"", "r ".repeat(200_000))),
        questions
    );
    let dir = bank(&sb, &[("many.toml", &big)]);
    for args in [
        vec!["--no-builtin-bank", "--bank", &dir, "bank", "list", "--json"],
        vec!["--no-builtin-bank", "--bank", &dir, "bank", "list"],
        vec!["--no-builtin-bank", "--bank", &dir, "bank", "show", "big", "--json"],
        vec!["--no-builtin-bank", "--bank", &dir, "bank", "show", "big"],
    ] {
        assert_eq!(read_one_line_and_close(&sb, &args), (0, String::new()), "grill {args:?}");
    }
}

// 8. One error protocol: every layer's error says whose fault it is and what to do.

#[test]
fn a_prompts_folder_without_the_templates_is_the_users_to_fix() {
    let sb = Sandbox::new();
    let dir = sb.path("work/my-prompts");
    std::fs::create_dir_all(&dir).unwrap();
    let args = ["--base-url", "http://127.0.0.1:9/v1", "--model", "m", "--prompts", "my-prompts", "practice"];
    let run = sb.run(&args, "an answer\n");
    run.code(1);
    assert_eq!(
        run.stderr,
        "error: prompt templates (my-prompts): cannot read my-prompts/grade_system.hbs: No such file or directory \
         (os error 2)\n  \
         hint: the prompts folder needs grade_system.hbs, grade_user.hbs, repair.hbs, follow_up.hbs; leave \
         --prompts (GRILL_PROMPTS) unset for the built-in templates\n"
    );
}

#[test]
fn an_unreachable_endpoint_says_what_to_check() {
    let sb = Sandbox::new();
    let args = ["--base-url", "http://127.0.0.1:9/v1", "--grader", "llm", "practice"];
    let run = sb.run_with(&args, "an answer\n", &[("GRILL_RETRY_BASE_MS", "1")]);
    run.code(2);
    let refused = "cannot reach http://127.0.0.1:9/v1/models: Connection refused (os error 111)";
    let retry = |left: &str| format!("  warning: {refused}; retrying in 0.0 s ({left} left)\n");
    assert_eq!(
        run.stderr,
        format!(
            "{}{}{}error: {refused}\n  hint: is the server running? Check the address with `grill config` or \
             `grill doctor`\n",
            retry("3 tries"),
            retry("2 tries"),
            retry("1 try")
        )
    );
}

#[test]
fn an_unknown_question_id_suggests_the_near_one_and_the_list() {
    let sb = Sandbox::new();
    let run = sb.run(&["practice", "--question", "gill"], "");
    run.code(1);
    assert_eq!(
        run.stderr,
        "error: no question with id `gill` (did you mean gil?)\n  hint: `grill bank list` shows every question's id\n"
    );
}

#[test]
fn a_bad_setting_from_a_flag_is_fixed_on_the_command_line() {
    let sb = Sandbox::new();
    let run = sb.run(&["--timeout", "4000", "practice", "--question", "gil"], "");
    run.code(1);
    assert_eq!(
        run.stderr,
        "error: --timeout must be a whole number of seconds from 1 to 3600 (got `4000`)\n  \
         hint: change the value given on the command line\n"
    );
}
