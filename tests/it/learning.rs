//! Issue 5: review, export, stats, regrade, resume and spaced repetition, over
//! transcripts made by real sessions through the binary.

use serde_json::Value;
use wiremock::matchers::method;
use wiremock::{Mock, ResponseTemplate};

use crate::llm::{ANSWER, Fake, completion, ok_reply};
use crate::util::{Sandbox, fixture_bank};

const WEAK_TIDES: &str = "The sea goes up and down during the day.";

fn bank_args() -> Vec<String> {
    vec!["--no-builtin-bank".into(), "--bank".into(), fixture_bank().to_str().unwrap().into()]
}

fn run(sb: &Sandbox, args: &[&str], stdin: &str) -> crate::util::Run {
    let mut all: Vec<String> = bank_args();
    all.extend(args.iter().map(|s| s.to_string()));
    let refs: Vec<&str> = all.iter().map(String::as_str).collect();
    sb.run(&refs, stdin)
}

fn practise(sb: &Sandbox, q: &str, answer: &str) {
    run(sb, &["practice", "--question", q, "--follow-ups", "0"], &format!("{answer}\n")).success();
}

/// Moves every time in every transcript `days` into the past.
fn age(sb: &Sandbox, days: i64) {
    for f in sb.transcript_files() {
        let text = std::fs::read_to_string(&f).unwrap();
        let mut v: Value = serde_json::from_str(&text).unwrap();
        shift(&mut v, days);
        std::fs::write(&f, serde_json::to_vec_pretty(&v).unwrap()).unwrap();
    }
}

fn shift(v: &mut Value, days: i64) {
    match v {
        Value::Object(m) => {
            for (k, x) in m.iter_mut() {
                if k.ends_with("_at") {
                    if let Some(s) = x.as_str()
                        && let Ok(t) = chrono::DateTime::parse_from_rfc3339(s)
                    {
                        *x = Value::String((t - chrono::Duration::days(days)).to_rfc3339());
                    }
                } else {
                    shift(x, days);
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|x| shift(x, days)),
        _ => {}
    }
}

#[test]
fn show_in_each_format_and_export_markdown_and_html() {
    let sb = Sandbox::new();
    practise(&sb, "colours", ANSWER);
    let md = run(&sb, &["review", "show", "latest", "--format", "md"], "");
    md.success();
    assert!(md.stdout.starts_with("# grill session "), "{}", md.stdout);
    assert!(md.stdout.contains("| key point | verdict | evidence |") && md.stdout.contains("✓ met"), "{}", md.stdout);
    assert!(md.stdout.contains("> Blue and yellow pigments make green"));
    let json = run(&sb, &["review", "show", "latest", "--format", "json"], "");
    assert_eq!(json.json()["turns"][0]["question_id"], "colours");
    let text = run(&sb, &["review", "show", "latest"], "");
    assert!(text.stdout.contains("Score:"));

    let out = sb.path("session.html");
    let html = run(&sb, &["review", "export", "latest", "--format", "html", "-o", out.to_str().unwrap()], "");
    html.success();
    let page = std::fs::read_to_string(&out).unwrap();
    assert!(page.starts_with("<!doctype html>") && page.contains("<style>") && page.contains("/100</span>"), "{page}");
    assert!(page.contains("class=\"met\">✓ met"), "{page}");
    for external in ["src=", "href=", "@import", "url("] {
        assert!(!page.contains(external), "the page must not fetch anything ({external})");
    }
    let md_file = sb.path("session.md");
    run(&sb, &["review", "export", "latest", "--format", "md", "-o", md_file.to_str().unwrap()], "").success();
    assert!(std::fs::read_to_string(md_file).unwrap().contains("| key point | verdict | evidence |"));
}

#[test]
fn stats_show_topics_trend_weakest_points_and_due() {
    let sb = Sandbox::new();
    practise(&sb, "colours", ANSWER);
    practise(&sb, "tides", WEAK_TIDES);
    practise(&sb, "tides", WEAK_TIDES);
    let r = run(&sb, &["stats", "--json"], "");
    r.success();
    let v = r.json();
    assert_eq!(v["sessions"], 3);
    let topic = &v["topics"][0];
    assert_eq!(topic["topic"], "sample");
    assert_eq!(topic["questions"], 2);
    assert_eq!(topic["trend"].as_array().unwrap().len(), 3);
    let weakest = v["weakest"].as_array().unwrap();
    assert!(weakest.iter().any(|w| w["question_id"] == "tides" && w["missed"] == 2 && w["of"] == 2), "{v}");
    assert_eq!(v["due_today"], 0, "nothing answered today is due today");

    let text = run(&sb, &["stats"], "");
    assert!(
        text.stdout.contains("missed “The Moon's gravity pulls the oceans.” in 2 of 2 answers to tides"),
        "{}",
        text.stdout
    );
    assert!(text.stdout.contains("Nothing is due today; next: tides on"), "{}", text.stdout);
    // Two weak answers to tides rate "again", so tides is due before colours.
    let schedule = text.stdout.split("Schedule (soonest first)").nth(1).expect("a schedule section");
    let tides = schedule.find("tides").expect("tides scheduled");
    let colours = schedule.find("colours").expect("colours scheduled");
    assert!(tides < colours, "{schedule}");
    assert!(schedule.contains("again") && schedule.contains("2 review(s)"), "{schedule}");
}

#[test]
fn regrade_keeps_the_old_grade_and_shows_the_diff() {
    let sb = Sandbox::new();
    practise(&sb, "colours", ANSWER);
    let before = sb.only_transcript()["turns"][0]["grades"][0]["grade"]["score"].as_u64().unwrap();
    let fake = Fake::start();
    fake.mount(Mock::given(method("POST")).respond_with(ok_reply()));
    let r = run(&sb, &["--base-url", &fake.base(), "--model", "fake-model", "regrade", "latest"], "");
    r.success();
    assert!(r.stdout.contains(&format!("colours: {before} → 75")), "{}", r.stdout);
    let grades = sb.only_transcript()["turns"][0]["grades"].clone();
    assert_eq!(grades.as_array().unwrap().len(), 2);
    assert_eq!(grades[0]["grader"]["kind"], "offline");
    assert_eq!(grades[0]["grade"]["score"].as_u64().unwrap(), before, "the old grade is untouched");
    assert_eq!(grades[1]["grader"]["kind"], "llm");
    let shown = run(&sb, &["review", "show", "latest"], "");
    assert!(shown.stdout.contains("grade 1 of 2") && shown.stdout.contains("grade 2 of 2"), "{}", shown.stdout);
}

#[test]
fn regrade_pending_finishes_what_could_not_be_graded() {
    let sb = Sandbox::new();
    let refusing = Fake::start();
    refusing.mount(Mock::given(method("POST")).respond_with(ResponseTemplate::new(401)));
    run(
        &sb,
        &["--base-url", &refusing.base(), "--model", "m", "practice", "--question", "colours", "--follow-ups", "0"],
        &format!("{ANSWER}\n"),
    )
    .success();
    practise(&sb, "tides", WEAK_TIDES);
    let list = run(&sb, &["review", "list", "--json"], "");
    assert_eq!(list.json()["sessions"][0]["pending"], 1);
    let fake = Fake::start();
    fake.mount(
        Mock::given(method("POST")).respond_with(
            ResponseTemplate::new(200)
                .set_body_json(completion(&crate::llm::grade_json("Blue and yellow pigments make green").to_string())),
        ),
    );
    let r = run(&sb, &["--base-url", &fake.base(), "--model", "m", "regrade", "--pending"], "");
    r.success();
    assert!(r.stdout.contains("colours: ungraded → 75"), "{}", r.stdout);
    assert!(!r.stdout.contains("tides"), "graded answers are left alone: {}", r.stdout);
    assert_eq!(fake.chat_bodies().len(), 1);
    assert_eq!(run(&sb, &["review", "list", "--json"], "").json()["sessions"][0]["pending"], 0);
}

#[test]
fn resume_continues_an_interrupted_session_in_the_same_file() {
    let sb = Sandbox::new();
    run(
        &sb,
        &["practice", "--question", "colours", "--question", "tides", "--follow-ups", "0"],
        &format!("{ANSWER}\n"),
    )
    .success();
    assert_eq!(sb.only_transcript()["status"], "quit");
    let r = run(
        &sb,
        &["resume"],
        "The moon's gravity pulls the oceans into two bulges, so there are two high tides a day.\n",
    );
    r.success();
    assert!(r.stderr.contains("Resuming session"), "{}", r.stderr);
    assert!(r.stdout.contains("What causes the tides?"), "{}", r.stdout);
    let t = sb.only_transcript();
    assert_eq!(t["status"], "completed");
    let turns = t["turns"].as_array().unwrap();
    assert_eq!(turns.len(), 2);
    assert!(turns.iter().all(|x| x["grades"][0]["grade"]["status"] == "graded"));
    let again = run(&sb, &["resume"], "");
    again.code(1);
    assert!(again.stderr.contains("no unfinished session to resume"), "{}", again.stderr);
}

#[test]
fn due_questions_come_weakest_first() {
    let sb = Sandbox::new();
    practise(&sb, "colours", ANSWER);
    practise(&sb, "tides", WEAK_TIDES);
    let none = run(&sb, &["practice", "--due"], "");
    none.success();
    assert!(none.stdout.contains("Nothing is due. Next: tides on"), "{}", none.stdout);
    // A month later both are due; the weaker answer comes first.
    age(&sb, 30);
    let stats = run(&sb, &["stats", "--json"], "");
    assert_eq!(stats.json()["due_today"], 2);
    let before = sb.transcript_files();
    // One skip, so the session is kept (an empty one is not saved); stats are checked
    // first since a skip counts in the schedule.
    run(&sb, &["practice", "--due", "--count", "2"], ":skip\n").success();
    let new: Vec<_> = sb.transcript_files().into_iter().filter(|f| !before.contains(f)).collect();
    let t: Value = serde_json::from_slice(&std::fs::read(&new[0]).unwrap()).unwrap();
    assert_eq!(t["plan"], serde_json::json!(["tides", "colours"]));
}

#[test]
fn the_index_can_be_deleted_and_follows_changes() {
    let sb = Sandbox::new();
    practise(&sb, "colours", ANSWER);
    assert_eq!(run(&sb, &["review", "list", "--json"], "").json()["sessions"].as_array().unwrap().len(), 1);
    let index = sb.transcripts().join(".grill-index");
    assert!(index.is_file());
    practise(&sb, "tides", WEAK_TIDES);
    assert_eq!(run(&sb, &["review", "list", "--json"], "").json()["sessions"].as_array().unwrap().len(), 2);
    std::fs::remove_file(&index).unwrap();
    assert_eq!(run(&sb, &["review", "list", "--json"], "").json()["sessions"].as_array().unwrap().len(), 2);
    std::fs::remove_file(&sb.transcript_files()[0]).unwrap();
    assert_eq!(run(&sb, &["review", "list", "--json"], "").json()["sessions"].as_array().unwrap().len(), 1);
}
