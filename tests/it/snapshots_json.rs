//! Every `--json` output compared whole against a reviewed snapshot, as a script author
//! would read it, and the README's "JSON output" section checked against what each one
//! prints: every top-level key it names, and nothing else.

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

use serde_json::Value;
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::interview::Scripted;
use crate::llm::{ANSWER, Fake, ok_reply};
use crate::util::{Run, Sandbox, fixture_bank};

/// What a `--json` run prints with what differs between runs replaced: the sandbox's
/// redactions, then what varies in these outputs by itself (how long grading took, the
/// prompt templates' hash) and the session id in a transcript's file name, which the
/// sandbox's rule for ids, bounded by word boundaries, leaves alone after its `_`.
fn redacted(sb: &Sandbox, run: &Run) -> String {
    let rules = [
        (r"_[0-9a-f]{8}\.json", "_[ID].json"),
        (r#""latency_ms": \d+"#, r#""latency_ms": "[LATENCY]""#),
        (r#""prompts_hash": "[0-9a-f]+""#, r#""prompts_hash": "[HASH]""#),
    ];
    rules.iter().fold(sb.redact(&run.stdout), |t, (pattern, with)| {
        regex::Regex::new(pattern).expect("a valid pattern").replace_all(&t, *with).into_owned()
    })
}

fn bank() -> String {
    fixture_bank().to_str().unwrap().to_string()
}

/// Runs grill on the fixture bank.
fn on_bank(sb: &Sandbox, args: &[&str], stdin: &str) -> Run {
    let bank = bank();
    sb.run(&[&["--no-builtin-bank", "--bank", bank.as_str()][..], args].concat(), stdin)
}

/// Two offline practice sessions from scripted standard input (a strong answer with one
/// follow-up, a weak one), and a file among the transcripts that is not one.
fn practised(sb: &Sandbox) {
    on_bank(
        sb,
        &["practice", "--question", "colours", "--follow-ups", "1"],
        &format!("{ANSWER}\n---\nMixing light is additive.\n"),
    )
    .success();
    on_bank(sb, &["practice", "--question", "tides", "--follow-ups", "0"], "The sea goes up and down.\n").success();
    std::fs::write(sb.transcripts().join("notes.json"), "not a transcript\n").unwrap();
}

/// A copy of `tests/fixtures/broken` in the sandbox, so that its paths are redacted.
fn broken_bank(sb: &Sandbox) -> String {
    let from = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/broken");
    let to = sb.path("broken");
    std::fs::create_dir_all(&to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
    to.to_str().unwrap().to_string()
}

/// A day a month from today, for `grill plan` over sessions held now.
fn in_a_month() -> String {
    (chrono::Local::now().date_naive() + chrono::Duration::days(30)).format("%Y-%m-%d").to_string()
}

/// Each command's `--json` output over its fixture: (README heading, run).
fn outputs(sb: &Sandbox) -> Vec<(&'static str, Run)> {
    practised(sb);
    let graded = Fake::start();
    graded.mount(Mock::given(method("POST")).and(path("/v1/chat/completions")).respond_with(ok_reply()));
    let scripted = Fake::start();
    scripted.mount(
        Mock::given(method("POST"))
            .and(path("/v1/chat/completions"))
            .respond_with(Scripted { delay: Duration::from_millis(1) }),
    );
    let llm = |fake: &Fake, args: &[&str], stdin: &str| {
        let base = fake.base();
        on_bank(sb, &[&["--base-url", base.as_str(), "--model", "fake-model"][..], args].concat(), stdin)
    };
    let broken = broken_bank(sb);
    vec![
        ("grill grade --json", llm(&graded, &["grade", "--question", "colours", "--json"], ANSWER)),
        ("grill review list --json", on_bank(sb, &["review", "list", "--json"], "")),
        ("grill stats --json", on_bank(sb, &["stats", "--json"], "")),
        ("grill plan --json", on_bank(sb, &["plan", "--json", "--interview", &in_a_month()], "")),
        ("grill bank list --json", on_bank(sb, &["bank", "list", "--json"], "")),
        ("grill bank show ID --json", on_bank(sb, &["bank", "show", "tides", "--json"], "")),
        ("grill bank check --json", sb.run(&["bank", "check", &broken, "--json"], "")),
        (
            "grill eval --json",
            sb.run(
                &[
                    "--base-url",
                    &scripted.base(),
                    "--model",
                    "fake-model",
                    "eval",
                    "--question",
                    "gil",
                    "--runs",
                    "2",
                    "--json",
                ],
                "",
            ),
        ),
        (
            "grill eval --set mine --json",
            // The user's word on the colours answer, disputing the offline grade (which finds
            // the subtractive point in it).
            {
                let colours = sb.transcript_files().into_iter().find(|p| p.to_string_lossy().contains("colours"));
                crate::eval_mine::give_my_word(
                    &colours.expect("the colours session"),
                    0,
                    &[("subtractive", "partial")],
                    83,
                );
                on_bank(sb, &["--grader", "offline", "eval", "--set", "mine", "--json"], "")
            },
        ),
    ]
}

#[test]
fn grade_json_graded_by_a_model() {
    let fake = Fake::start();
    fake.mount(Mock::given(method("POST")).and(path("/v1/chat/completions")).respond_with(ok_reply()));
    let sb = Sandbox::new();
    let base = fake.base();
    let run = on_bank(
        &sb,
        &["--base-url", &base, "--model", "fake-model", "grade", "--question", "colours", "--json"],
        ANSWER,
    );
    run.success();
    insta::assert_snapshot!("grade_graded_by_a_model", redacted(&sb, &run));
}

#[test]
fn grade_json_when_the_model_refuses_has_the_same_keys() {
    let fake = Fake::start();
    fake.mount(
        Mock::given(method("POST")).respond_with(
            ResponseTemplate::new(401).set_body_json(serde_json::json!({"error": {"message": "bad key"}})),
        ),
    );
    let sb = Sandbox::new();
    let base = fake.base();
    let run = on_bank(
        &sb,
        &["--base-url", &base, "--model", "fake-model", "grade", "--question", "colours", "--json"],
        ANSWER,
    );
    run.code(2);
    insta::assert_snapshot!("grade_ungraded", redacted(&sb, &run));
}

#[test]
fn grade_json_offline() {
    let sb = Sandbox::new();
    let run = on_bank(&sb, &["grade", "--question", "tides", "--json"], "The Moon's gravity pulls the oceans.");
    run.success();
    insta::assert_snapshot!("grade_offline", redacted(&sb, &run));
}

#[test]
fn review_list_json_is_the_same_fresh_and_from_the_index() {
    let sb = Sandbox::new();
    practised(&sb);
    let fresh = on_bank(&sb, &["review", "list", "--json"], "");
    fresh.code(2);
    let cached = on_bank(&sb, &["review", "list", "--json"], "");
    assert_eq!(fresh.stdout, cached.stdout, "the second run reads the index the first one wrote");
    insta::assert_snapshot!("review_list", redacted(&sb, &fresh));
}

#[test]
fn stats_json() {
    let sb = Sandbox::new();
    practised(&sb);
    let run = on_bank(&sb, &["stats", "--json"], "");
    run.code(2);
    insta::assert_snapshot!("stats", redacted(&sb, &run));
}

#[test]
fn stats_json_with_no_sessions() {
    let sb = Sandbox::new();
    let run = on_bank(&sb, &["stats", "--json"], "");
    run.success();
    insta::assert_snapshot!("stats_empty", redacted(&sb, &run));
}

#[test]
fn bank_list_and_show_json() {
    let sb = Sandbox::new();
    let list = on_bank(&sb, &["bank", "list", "--json"], "");
    list.success();
    let show = on_bank(&sb, &["bank", "show", "tides", "--json"], "");
    show.success();
    let bank = bank();
    // The fixture bank lives in the checkout, not the sandbox.
    let redact = |run: &Run| redacted(&sb, run).replace(&bank, "[BANK]");
    insta::assert_snapshot!("bank_list", redact(&list));
    insta::assert_snapshot!("bank_show", redact(&show));
}

#[test]
fn bank_check_json_of_a_folder_with_problems() {
    let sb = Sandbox::new();
    let broken = broken_bank(&sb);
    let run = sb.run(&["bank", "check", &broken, "--json"], "");
    run.code(1);
    insta::assert_snapshot!("bank_check_problems", redacted(&sb, &run));
    let clean = on_bank(&sb, &["bank", "check", "--json"], "");
    clean.success();
    insta::assert_snapshot!("bank_check_clean", redacted(&sb, &clean).replace(&bank(), "[BANK]"));
}

#[test]
fn eval_json_through_a_scripted_server_over_two_runs() {
    let fake = Fake::start();
    fake.mount(
        Mock::given(method("POST"))
            .and(path("/v1/chat/completions"))
            .respond_with(Scripted { delay: Duration::from_millis(1) }),
    );
    let sb = Sandbox::new();
    let base = fake.base();
    let run = sb
        .run(&["--base-url", &base, "--model", "fake-model", "eval", "--question", "gil", "--runs", "2", "--json"], "");
    run.success();
    insta::assert_snapshot!("eval_scripted", redacted(&sb, &run));
}

/// The README's "JSON output" section: per heading (`### \`grill stats --json\``), the
/// field names of its table's rows, as written (`schema`, `topics`, `topics[].mean`).
fn readme_fields() -> Vec<(String, Vec<String>)> {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let start = readme.find("\n## JSON output\n").expect("README has a \"JSON output\" section");
    let section = &readme[start + 1..];
    let section = &section[..section[1..].find("\n## ").map_or(section.len(), |i| i + 1)];
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    for line in section.lines() {
        if let Some(h) = line.strip_prefix("### ") {
            out.push((h.trim_matches('`').to_string(), Vec::new()));
        } else if let (Some(rest), Some((_, fields))) = (line.strip_prefix("| `"), out.last_mut()) {
            let name = rest.split('`').next().unwrap();
            fields.push(name.to_string());
        }
    }
    out
}

/// The keys of `v` when it is an object, or of every object in it when it is an array.
fn keys_within(v: &Value) -> BTreeSet<String> {
    match v {
        Value::Object(m) => m.keys().cloned().collect(),
        Value::Array(a) => a.iter().flat_map(keys_within).collect(),
        _ => BTreeSet::new(),
    }
}

#[test]
fn the_readme_names_every_top_level_key_of_every_json_output_and_no_other() {
    let documented = readme_fields();
    let sb = Sandbox::new();
    let outputs = outputs(&sb);
    let headings: Vec<&str> = documented.iter().map(|(h, _)| h.as_str()).collect();
    let run_ones: Vec<&str> = outputs.iter().map(|(h, _)| *h).collect();
    assert_eq!(headings, run_ones, "the README documents exactly the outputs checked here, in this order");
    for ((heading, fields), (_, run)) in documented.iter().zip(&outputs) {
        let doc: Value = serde_json::from_str(&run.stdout)
            .unwrap_or_else(|e| panic!("{heading}: not JSON ({e}):\n{}\n{}", run.stdout, run.stderr));
        let top: BTreeSet<String> = fields.iter().filter(|f| !f.contains('.')).cloned().collect();
        assert_eq!(top, keys_within(&doc), "{heading}: the README's top-level fields against the output's");
        // Rows like `sessions[].id` or `set.source` detail one field; when a field is
        // detailed, its rows must name every key its objects have.
        let parents: BTreeSet<&str> =
            fields.iter().filter_map(|f| f.split_once('.')).map(|(p, _)| p.trim_end_matches("[]")).collect();
        for parent in parents {
            let detailed: BTreeSet<String> = fields
                .iter()
                .filter_map(|f| f.split_once('.'))
                .filter(|(p, _)| p.trim_end_matches("[]") == parent)
                .map(|(_, k)| k.to_string())
                .collect();
            let actual = keys_within(&doc[parent]);
            assert!(!actual.is_empty(), "{heading}: the fixture has no `{parent}` to check the README against");
            assert_eq!(detailed, actual, "{heading}: the README's `{parent}` fields against the output's");
        }
    }
}
