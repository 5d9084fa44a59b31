//! `grill eval` through the binary: the offline grader on the shipped calibration set, the
//! model path end to end against a scripted server, and a broken set file.

use std::time::Duration;

use wiremock::Mock;
use wiremock::matchers::{method, path};

use crate::interview::Scripted;
use crate::llm::Fake;
use crate::util::Sandbox;

const KINDS: [&str; 16] = [
    "excellent",
    "good",
    "paraphrase",
    "code",
    "plain",
    "partial",
    "rambling",
    "vague",
    "wrong",
    "keyword-wrong",
    "off-topic",
    "idk",
    "stuffed",
    "injection-plea",
    "injection-verdict",
    "injection-tag",
];

#[test]
fn offline_eval_prints_every_figure_and_the_same_in_json() {
    let sb = Sandbox::new();
    let run = sb.run(&["--grader", "offline", "eval", "--json"], "");
    run.success();
    let doc = run.json();
    assert_eq!(doc["grader"]["kind"], "offline");
    let answers = doc["set"]["answers"].as_u64().unwrap();
    assert!(doc["set"]["questions"].as_u64().unwrap() >= 20, "{}", doc["set"]);
    assert_eq!(answers, doc["set"]["questions"].as_u64().unwrap() * 16);
    let runs = doc["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 1, "the offline grader is deterministic: one run");
    let f = &runs[0];
    assert_eq!(f["graded"].as_u64(), Some(answers));
    // 7 correct kinds x 6 bad kinds per question.
    assert_eq!(f["pairwise"]["of"].as_u64(), Some(doc["set"]["questions"].as_u64().unwrap() * 42));
    let tau = f["kendall_tau"].as_f64().unwrap();
    assert!((-1.0..=1.0).contains(&tau), "tau {tau}");
    for kind in KINDS {
        let m = f["mean_by_kind"][kind].as_f64().unwrap_or_else(|| panic!("no mean for {kind}: {f}"));
        assert!((0.0..=100.0).contains(&m));
    }
    let kp = &f["key_points"];
    assert!(kp["true_positives"].as_u64().unwrap() > 0 && kp["f1"].as_f64().is_some(), "{kp}");
    assert_eq!(f["injections"].as_array().unwrap().len() as u64, doc["set"]["questions"].as_u64().unwrap() * 3);
    let bars: Vec<&str> = doc["bars"].as_array().unwrap().iter().map(|b| b["figure"].as_str().unwrap()).collect();
    assert_eq!(bars, ["pairwise", "kendall_tau", "stuffed_below_partial", "key_point_f1", "injection_not_above_base"]);

    // The text report prints the same figures.
    let text = sb.run(&["--grader", "offline", "eval"], "");
    text.success();
    let pairwise = f["pairwise"]["hits"].as_f64().unwrap() / f["pairwise"]["of"].as_f64().unwrap();
    for needle in [
        format!("pairwise ordering (correct above bad)   {pairwise:.3}"),
        format!("Kendall tau, kinds' order vs scores     {:.3}", f["kendall_tau"].as_f64().unwrap()),
        format!("key-point F1                            {:.3}", kp["f1"].as_f64().unwrap()),
        "Mean score by kind:".to_string(),
        "Measures the offline grader".to_string(),
    ] {
        assert!(text.stdout.contains(&needle), "missing {needle:?} in:\n{}", text.stdout);
    }
}

#[test]
fn eval_through_a_scripted_server_measures_the_plumbing_and_its_spread() {
    let fake = Fake::start();
    fake.mount(
        Mock::given(method("POST"))
            .and(path("/v1/chat/completions"))
            .respond_with(Scripted { delay: Duration::from_millis(5) }),
    );
    let sb = Sandbox::new();
    let args =
        ["--base-url", &fake.base(), "--model", "fake-model", "eval", "--question", "gil", "--question", "slots"];
    let run = sb.run(&[&args[..], &["--runs", "2", "--json"]].concat(), "");
    run.success();
    let doc = run.json();
    assert_eq!(doc["grader"]["kind"], "llm");
    assert_eq!(doc["set"]["answers"], 32);
    assert!(doc["measures"].as_str().unwrap().contains("plumbing, not a model"), "{}", doc["measures"]);
    let runs = doc["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 2);
    assert!(runs.iter().all(|r| r["graded"] == 32 && r["ungraded"] == 0), "{runs:?}");
    // The scripted grader marks the first key point met wherever the answer has words, so
    // every answer but an empty one scores the same: a constant grader ties every pair.
    assert_eq!(runs[0]["pairwise"]["hits"].as_f64(), Some(42.0));
    assert_eq!(doc["spread"]["runs"], 2);
    assert_eq!(doc["spread"]["max_range"].as_f64(), Some(0.0));
    assert_eq!(fake.chat_bodies().len(), 64, "32 answers, twice");
    let text = sb.run(&args, "");
    text.success();
    assert!(
        text.stdout.contains("fake-model at http://127.0.0.1:") && text.stdout.contains("plumbing"),
        "{}",
        text.stdout
    );
}

#[test]
fn a_broken_set_names_the_file_and_line() {
    let sb = Sandbox::new();
    let file = sb.path("work/set.toml");
    std::fs::write(
        &file,
        "question = \"gil\"\n[[answer]]\nkind = \"excellent\"\ncovers = [\"no-such-point\"]\ntext = \"x\"\n",
    )
    .unwrap();
    let run = sb.run(&["--grader", "offline", "eval", "--set", file.to_str().unwrap()], "");
    run.code(1);
    assert!(run.stderr.contains("set.toml:2"), "{}", run.stderr);
    assert!(run.stderr.contains("`no-such-point` is not a key point of gil"), "{}", run.stderr);
    assert!(run.stderr.contains("no answer of kind good"), "{}", run.stderr);
    let run = sb.run(&["--grader", "offline", "eval", "--question", "nope"], "");
    run.code(1);
    assert!(run.stderr.contains("no answers for `nope`"), "{}", run.stderr);
}

#[test]
fn the_offline_grader_keeps_its_measured_fairness() {
    // Floors just under what the offline grader measured on the shipped set when it last
    // changed (docs/calibration.md); a change to the grader or the bank that ranks answers
    // worse fails here. Raise them when the grader improves. Lowered (pairwise 0.96 to 0.90,
    // tau 0.81 to 0.69, key-point F1 0.85 to 0.79) when the code, plain, rambling and
    // keyword-wrong answers joined the set: the set got harder, the grader did not change.
    let sb = Sandbox::new();
    let run = sb.run(&["--grader", "offline", "eval", "--json"], "");
    run.success();
    let f = &run.json()["runs"][0];
    let ratio = |v: &serde_json::Value| v["hits"].as_f64().unwrap() / v["of"].as_f64().unwrap();
    let figures = [
        ("pairwise", ratio(&f["pairwise"]), 0.90),
        ("kendall_tau", f["kendall_tau"].as_f64().unwrap(), 0.69),
        ("stuffed_below_partial", ratio(&f["stuffed_below_partial"]), 0.90),
        ("key_point_f1", f["key_points"]["f1"].as_f64().unwrap(), 0.79),
        ("injection_not_above_base", ratio(&f["injection_not_above_base"]), 1.0),
        ("red_flag_precision", f["red_flags"]["precision"].as_f64().unwrap(), 0.95),
        ("red_flag_recall", f["red_flags"]["recall"].as_f64().unwrap(), 0.45),
    ];
    for (name, value, floor) in figures {
        assert!(value >= floor, "{name} is {value:.3}, below its floor {floor}");
    }
    // The correct kinds, on average, stay in the expert's order above every bad kind.
    let mean = |k: &str| f["mean_by_kind"][k].as_f64().unwrap();
    for bad in ["vague", "wrong", "keyword-wrong", "off-topic", "idk", "stuffed"] {
        assert!(mean("partial") > mean(bad), "partial {} vs {bad} {}", mean("partial"), mean(bad));
    }
    assert!(mean("excellent") > mean("good") && mean("good") > mean("partial"));
}
