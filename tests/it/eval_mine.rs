//! `grill eval --set mine` through the binary: a transcripts folder of offline practice
//! sessions where the user gave their own word on some answers (confirming some verdicts,
//! disputing others, twice on one answer), measured with the offline grader and a model.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{Value, json};
use wiremock::Mock;
use wiremock::matchers::{method, path};

use crate::interview::Scripted;
use crate::llm::Fake;
use crate::util::{Run, Sandbox, fixture_bank};

fn on_bank(sb: &Sandbox, args: &[&str], stdin: &str) -> Run {
    let bank = fixture_bank();
    sb.run(&[&["--no-builtin-bank", "--bank", bank.to_str().unwrap()][..], args].concat(), stdin)
}

/// One offline practice session; the path of its transcript.
fn practise(sb: &Sandbox, args: &[&str], stdin: &str) -> PathBuf {
    let before = sb.transcript_files();
    on_bank(sb, &[&["practice"][..], args].concat(), stdin).success();
    let mut new: Vec<PathBuf> = sb.transcript_files().into_iter().filter(|p| !before.contains(p)).collect();
    assert_eq!(new.len(), 1, "one practice, one session");
    new.remove(0)
}

fn read(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

fn write(path: &Path, t: &Value) {
    std::fs::write(path, serde_json::to_vec_pretty(t).unwrap()).unwrap();
}

/// Adds the user's word on turn `turn` of a transcript, as the confirm and dispute
/// screens record it: the newest grader's grade with `changes` (key point, verdict)
/// applied and the user's `score`, as grader `self` reviewing that grade. Returns the
/// verdicts recorded, in order: what the labels must be.
pub fn give_my_word(path: &Path, turn: usize, changes: &[(&str, &str)], score: u8) -> Vec<(String, String)> {
    let mut t = read(path);
    let grades = t["turns"][turn]["grades"].as_array_mut().unwrap();
    let (reviewed, graders) = grades.iter().enumerate().rev().find(|(_, g)| g["grader"]["kind"] != "self").unwrap();
    let mut word = graders.clone();
    word["grader"] = json!({"kind": "self", "reviewed": reviewed});
    word["graded_at"] = json!("2026-11-30T12:00:00+00:00");
    word["grade"]["score"] = json!(score);
    for kp in word["grade"]["key_points"].as_array_mut().unwrap() {
        if let Some((_, v)) = changes.iter().find(|(id, _)| kp["id"] == *id) {
            kp["verdict"] = json!(v);
        }
    }
    let labels = word["grade"]["key_points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|kp| (kp["id"].as_str().unwrap().to_string(), kp["verdict"].as_str().unwrap().to_string()))
        .collect();
    grades.push(word);
    write(path, &t);
    labels
}

/// The labels every case must carry: (file name, turn) → verdicts.
type Expected = Vec<((String, usize), Vec<(String, String)>)>;

/// Five sessions: a main answer and its follow-up disputed; an answer the user gave their
/// word on twice (the newest counts); an answer confirmed as graded beside one left
/// alone; a session never reviewed; and one to a question the bank no longer has.
fn sessions(sb: &Sandbox) -> Expected {
    let name = |p: &Path| p.file_name().unwrap().to_string_lossy().into_owned();
    let mut expected = Vec::new();
    let colours = practise(
        sb,
        &["--question", "colours", "--follow-ups", "1"],
        "Blue and yellow pigments make green, because each pigment takes away part of the light.\n---\n\
         Light adds up on screens.\n",
    );
    // The offline grader missed the subtractive point and half-credited the follow-up.
    let first = give_my_word(&colours, 0, &[("subtractive", "met")], 83);
    let follow = give_my_word(&colours, 1, &[("additive", "met")], 100);
    expected.push(((name(&colours), 0), first));
    expected.push(((name(&colours), 1), follow));

    let tides = practise(
        sb,
        &["--question", "tides", "--follow-ups", "0"],
        "The Moon's gravity pulls the oceans, which gives two high tides a day.\n",
    );
    give_my_word(&tides, 0, &[("two-bulges", "met"), ("sun", "partial")], 85);
    let newest = give_my_word(&tides, 0, &[("two-bulges", "met")], 75);
    expected.push(((name(&tides), 0), newest));

    let both = practise(
        sb,
        &["--question", "tides", "--question", "colours", "--follow-ups", "0"],
        "Wind causes the tides.\n---\nRed and blue make green.\n",
    );
    let confirmed = give_my_word(&both, 0, &[], 0);
    expected.push(((name(&both), 0), confirmed));

    practise(sb, &["--question", "colours", "--follow-ups", "0"], "Green is a colour.\n");

    let retired = practise(sb, &["--question", "tides", "--follow-ups", "0"], "The Moon.\n");
    give_my_word(&retired, 0, &[("moon", "partial")], 40);
    let mut t = read(&retired);
    t["plan"] = json!(["retired-question"]);
    t["turns"][0]["question_id"] = json!("retired-question");
    write(&retired, &t);
    expected
}

#[test]
fn the_labels_are_exactly_the_users_newest_word_and_the_offline_figures_are_printed() {
    let sb = Sandbox::new();
    let expected = sessions(&sb);
    let run = on_bank(&sb, &["--grader", "offline", "eval", "--set", "mine", "--json"], "");
    run.success();
    let doc = run.json();
    assert_eq!(doc["schema"], "grill.eval-mine/1");
    assert_eq!(doc["set"]["answers"], 4);
    assert_eq!(doc["set"]["sessions"], 3, "the never-reviewed session gives nothing");
    assert_eq!(doc["set"]["left_out"], json!([{"question": "retired-question", "answers": 1}]));
    let cases = doc["cases"].as_array().unwrap();
    let mut got: Expected = cases
        .iter()
        .map(|c| {
            let file = Path::new(c["file"].as_str().unwrap()).file_name().unwrap().to_string_lossy().into_owned();
            let labels = c["labels"]
                .as_array()
                .unwrap()
                .iter()
                .map(|l| (l["id"].as_str().unwrap().to_string(), l["verdict"].as_str().unwrap().to_string()))
                .collect();
            ((file, c["turn"].as_u64().unwrap() as usize), labels)
        })
        .collect();
    let mut expected = expected;
    got.sort();
    expected.sort();
    assert_eq!(got, expected, "the labels are the user's verdicts, exactly");
    let scores: Vec<u64> = cases.iter().map(|c| c["score"].as_u64().unwrap()).collect();
    let mut sorted = scores.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, [0, 75, 83, 100], "the newest word's score, not the older 85");
    assert!(cases.iter().all(|c| c["reviewed"] == 0), "each word reviewed the offline grade");
    // The sandbox's rule for ids, bounded by word boundaries, leaves one after `_` alone.
    let file_ids = regex::Regex::new(r"_[0-9a-f]{8}\.json").unwrap();
    insta::assert_snapshot!("eval_mine_offline_json", file_ids.replace_all(&sb.redact(&run.stdout), "_[ID].json"));

    let text = on_bank(&sb, &["--grader", "offline", "eval", "--set", "mine"], "");
    text.success();
    insta::assert_snapshot!("eval_mine_offline", sb.redact(&text.stdout));

    // `--question` keeps the answers to those questions; one with none is named.
    let tides = on_bank(&sb, &["--grader", "offline", "eval", "--set", "mine", "--question", "tides", "--json"], "");
    tides.success();
    assert_eq!((tides.json()["set"]["answers"].as_u64(), tides.json()["set"]["sessions"].as_u64()), (Some(2), Some(2)));
    let none = on_bank(&sb, &["--grader", "offline", "eval", "--set", "mine", "--question", "gil"], "");
    none.code(1);
    assert!(none.stderr.contains("none of your answers with your own verdicts is to `gil`"), "{}", none.stderr);
    assert!(none.stderr.contains("they are to: colours, tides"), "{}", none.stderr);

    // A file that is not a transcript is skipped with a warning: the figures are of the
    // rest, and the exit status says something was left out.
    std::fs::write(sb.transcripts().join("notes.json"), "not a transcript\n").unwrap();
    let partial = on_bank(&sb, &["--grader", "offline", "eval", "--set", "mine"], "");
    partial.code(2);
    assert!(partial.stderr.contains("warning: skipped") && partial.stderr.contains("notes.json"), "{}", partial.stderr);
    assert_eq!(partial.stdout, text.stdout);
}

#[test]
fn a_model_is_measured_on_the_users_answers() {
    let fake = Fake::start();
    fake.mount(
        Mock::given(method("POST"))
            .and(path("/v1/chat/completions"))
            .respond_with(Scripted { delay: Duration::from_millis(1) }),
    );
    let sb = Sandbox::new();
    sessions(&sb);
    let run = on_bank(&sb, &["--base-url", &fake.base(), "--model", "fake-model", "eval", "--set", "mine"], "");
    run.success();
    assert_eq!(fake.chat_bodies().len(), 4, "each answer graded once");
    for needle in [
        "Calibration: your own verdicts in ",
        ", 4 answers from 3 sessions",
        "Measures fake-model at http://127.0.0.1:",
        "key-point agreement (Cohen's kappa)",
        "pairwise ordering against yours",
        "Key points this grader most often gets wrong for you:",
        // The scripted grader marks only the first key point met: it misses the user's
        // subtractive point on colours.
        "colours   subtractive",
        "The grades you reviewed, against your word on them:",
        "offline key-point grader (offline-7): 4 answers, overruled on 3",
    ] {
        assert!(run.stdout.contains(needle), "missing {needle:?} in:\n{}", run.stdout);
    }
    let json =
        on_bank(&sb, &["--base-url", &fake.base(), "--model", "fake-model", "eval", "--set", "mine", "--json"], "");
    json.success();
    let doc = json.json();
    assert_eq!(doc["grader"]["kind"], "llm");
    let f = &doc["runs"][0];
    assert_eq!((f["graded"].as_u64(), f["ungraded"].as_u64()), (Some(4), Some(0)));
    assert_eq!(f["key_point_agreement"]["of"], 10, "3 + 1 + 3 + 3 verdicts compared");
}

#[test]
fn nothing_to_measure_check_refused_and_a_folder_named_mine_is_still_a_set() {
    let sb = Sandbox::new();
    let run = on_bank(&sb, &["--grader", "offline", "eval", "--set", "mine"], "");
    run.code(1);
    assert_eq!(
        run.stderr.lines().find(|l| l.starts_with("error:")),
        Some(
            "error: no answers with your own verdicts yet: confirm a grade after practice or run `grill review \
             dispute`"
        ),
        "{}",
        run.stderr
    );
    // Sessions without the user's word give nothing either.
    practise(&sb, &["--question", "tides", "--follow-ups", "0"], "The Moon.\n");
    let run = on_bank(&sb, &["--grader", "offline", "eval", "--set", "mine"], "");
    run.code(1);
    assert!(run.stderr.contains("no answers with your own verdicts yet"), "{}", run.stderr);

    let run = on_bank(&sb, &["--grader", "offline", "eval", "--set", "mine", "--check"], "");
    run.code(1);
    assert!(run.stderr.contains("`--check` holds a grader to the bars of the shipped set"), "{}", run.stderr);

    // A folder literally named `mine`, in the working directory, is reached as `./mine`.
    let dir = sb.path("work/mine");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("set.toml"), "question = \"tides\"\n[[answer]]\nkind = \"excellent\"\ntext = \"x\"\n")
        .unwrap();
    let run = on_bank(&sb, &["--grader", "offline", "eval", "--set", "./mine"], "");
    run.code(1);
    assert!(run.stderr.contains("set.toml"), "read as a calibration folder: {}", run.stderr);
    assert!(run.stderr.contains("no answer of kind good"), "{}", run.stderr);
}

#[test]
fn the_help_names_the_reserved_word() {
    let sb = Sandbox::new();
    let run = sb.run(&["eval", "--help"], "");
    run.success();
    insta::assert_snapshot!("eval_help", run.stdout);
}
