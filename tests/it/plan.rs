//! Issue 16: `grill practice --due` counts what is due and brings in new questions at a
//! steady rate, `grill plan` forecasts recall on an interview day, and `--confidence`
//! sets what the user expected beside the grades. Every run fixes the clock with
//! `GRILL_NOW`, so dates and recalls are exact.

use std::path::Path;

use serde_json::Value;

use crate::util::{Run, Sandbox, fixture_bank};

const GOOD_COLOURS: &str = "Blue and yellow pigments make green, because each pigment absorbs light that the \
                            other reflects.";
const WEAK_TIDES: &str = "The sea goes up and down during the day.";

/// A bank of two topics in the sandbox: the fixture's `sample` (colours, tides) and a
/// copy of it as `extra` (paints, waves).
fn two_topics(sb: &Sandbox) -> String {
    let dir = sb.path("bank");
    std::fs::create_dir_all(&dir).unwrap();
    let sample = std::fs::read_to_string(fixture_bank().join("sample.toml")).unwrap();
    let extra = sample
        .replace("id = \"colours\"", "id = \"paints\"")
        .replace("id = \"tides\"", "id = \"waves\"")
        .replace("topic = \"sample\"", "topic = \"extra\"");
    std::fs::write(dir.join("sample.toml"), sample).unwrap();
    std::fs::write(dir.join("extra.toml"), extra).unwrap();
    dir.to_str().unwrap().to_string()
}

/// Runs grill on `bank` at `now` with `env`.
fn at(sb: &Sandbox, bank: &str, now: &str, args: &[&str], stdin: &str, env: &[(&str, &str)]) -> Run {
    let all: Vec<&str> = ["--no-builtin-bank", "--bank", bank].iter().copied().chain(args.iter().copied()).collect();
    let mut env = env.to_vec();
    env.extend([("GRILL_NOW", now), ("COLUMNS", "88")]);
    sb.run_with(&all, stdin, &env)
}

fn answer(sb: &Sandbox, bank: &str, now: &str, q: &str, text: &str) {
    at(sb, bank, now, &["practice", "--question", q, "--follow-ups", "0"], &format!("{text}\n"), &[]).success();
}

/// The plan of the session started last.
fn latest_plan(sb: &Sandbox, before: &[std::path::PathBuf]) -> Value {
    let new: Vec<_> = sb.transcript_files().into_iter().filter(|f| !before.contains(f)).collect();
    assert_eq!(new.len(), 1, "one new session: {new:?}");
    let t: Value = serde_json::from_slice(&std::fs::read(&new[0]).unwrap()).unwrap();
    t["plan"].clone()
}

/// Standard input that skips `n` questions, one block each.
fn skips(n: usize) -> String {
    vec![":skip"; n].join("\n---\n") + "\n"
}

fn first_line(run: &Run) -> &str {
    run.stdout.lines().next().unwrap_or("")
}

#[test]
fn practice_due_counts_what_is_due_and_brings_in_new_questions_a_few_a_day() {
    let sb = Sandbox::new();
    let bank = two_topics(&sb);
    let morning = "2026-12-01T10:00:00+00:00";
    let noon = "2026-12-01T12:00:00+00:00";
    answer(&sb, &bank, morning, "colours", GOOD_COLOURS);
    answer(&sb, &bank, morning, "tides", WEAK_TIDES);

    // Two questions were new today: an allowance of two is spent, and none is due.
    let spent = at(&sb, &bank, noon, &["practice", "--due"], "", &[("GRILL_NEW_PER_DAY", "2")]);
    spent.success();
    assert_eq!(
        spent.stdout,
        "Nothing is due. Next: tides on 2026-12-02. No new question today (new today: 2 of 2); more come in \
         tomorrow (2026-12-02).\n"
    );
    let off = at(&sb, &bank, noon, &["practice", "--due"], "", &[("GRILL_NEW_PER_DAY", "0")]);
    off.success();
    assert_eq!(off.stdout, "Nothing is due. Next: tides on 2026-12-02. New questions are off (`new_per_day` is 0).\n");
    assert!(sb.transcript_files().len() == 2, "no session was started");

    // The default allows five a day: one more comes in, in bank order (extra.toml first).
    let before = sb.transcript_files();
    let new = at(&sb, &bank, noon, &["practice", "--due", "--count", "1", "--follow-ups", "0"], &skips(1), &[]);
    new.success();
    assert_eq!(first_line(&new), "Nothing is due; asking 1 new (new today: 3 of 5).");
    assert_eq!(latest_plan(&sb, &before), serde_json::json!(["paints"]));

    // Two days on, tides (again), paints (skipped) and colours (good, due in two days)
    // are due: the weakest first (tides and paints both count 0; tides is due longer),
    // then the one question never seen, as the day's first new one.
    let later = "2026-12-03T10:00:00+00:00";
    let before = sb.transcript_files();
    let due = at(&sb, &bank, later, &["practice", "--due", "--count", "5", "--follow-ups", "0"], &skips(4), &[]);
    due.success();
    assert_eq!(first_line(&due), "3 due; asking all 3, and 1 new (new today: 1 of 5).");
    assert_eq!(latest_plan(&sb, &before), serde_json::json!(["tides", "paints", "colours", "waves"]));

    // A month on, all four are due: the count cuts them to the weakest, with no room for
    // new ones (there are none left anyway).
    let before = sb.transcript_files();
    let many = at(
        &sb,
        &bank,
        "2027-01-03T10:00:00+00:00",
        &["practice", "--due", "--count", "2", "--follow-ups", "0"],
        &skips(2),
        &[],
    );
    many.success();
    assert_eq!(first_line(&many), "4 due; asking the 2 weakest (--count 2).");
    assert_eq!(latest_plan(&sb, &before).as_array().unwrap().len(), 2);
}

#[test]
fn practice_due_with_no_history_starts_with_new_questions() {
    let sb = Sandbox::new();
    let bank = two_topics(&sb);
    let before = sb.transcript_files();
    let run = at(
        &sb,
        &bank,
        "2026-12-01T10:00:00+00:00",
        &["practice", "--due", "--topic", "sample", "--follow-ups", "0"],
        &skips(2),
        &[],
    );
    run.success();
    assert_eq!(first_line(&run), "Nothing is due; asking 2 new (new today: 2 of 5).");
    assert_eq!(latest_plan(&sb, &before), serde_json::json!(["colours", "tides"]));
    let none = at(&sb, &bank, "2026-12-01T11:00:00+00:00", &["practice", "--due", "--topic", "sample"], "", &[]);
    assert_eq!(
        none.stdout,
        "Nothing is due. Next: colours on 2026-12-02. No question is new: every one that passes the filters has \
         been answered.\n"
    );
}

/// A history with known dates: tides answered weakly twice, colours and paints well
/// once each, waves never.
fn history(sb: &Sandbox) -> String {
    let bank = two_topics(sb);
    answer(sb, &bank, "2026-11-20T10:00:00+00:00", "tides", WEAK_TIDES);
    answer(sb, &bank, "2026-11-25T10:00:00+00:00", "tides", WEAK_TIDES);
    answer(sb, &bank, "2026-12-01T10:00:00+00:00", "colours", GOOD_COLOURS);
    answer(sb, &bank, "2026-12-04T10:00:00+00:00", "paints", GOOD_COLOURS);
    bank
}

const NOW: &str = "2026-12-06T10:00:00+00:00";

#[test]
fn plan_forecasts_recall_on_the_day_per_topic_and_the_reviews_a_day() {
    let sb = Sandbox::new();
    let bank = history(&sb);
    let run = at(&sb, &bank, NOW, &["plan", "--interview", "2027-01-15"], "", &[]);
    run.success();
    insta::assert_snapshot!("plan", run.stdout);
    let json = at(&sb, &bank, NOW, &["plan", "--interview", "2027-01-15", "--json"], "", &[]);
    json.success();
    insta::assert_snapshot!("plan_json", json.stdout);
    // The setting stands in for the flag, and a higher target needs at least as many.
    let set =
        at(&sb, &bank, NOW, &["plan", "--json", "--target", "0.95"], "", &[("GRILL_INTERVIEW_DATE", "2027-01-15")]);
    set.success();
    let (v, w) = (json.json(), set.json());
    assert_eq!(w["interview"], "2027-01-15");
    assert!(w["reviews_per_day"].as_u64().unwrap() >= v["reviews_per_day"].as_u64().unwrap(), "{w}");
    // One topic only.
    let one = at(&sb, &bank, NOW, &["plan", "--interview", "2027-01-15", "--topic", "extra", "--json"], "", &[]);
    let one = one.json();
    let topics: Vec<&str> = one["topics"].as_array().unwrap().iter().map(|t| t["topic"].as_str().unwrap()).collect();
    assert_eq!(topics, ["extra"]);
}

#[test]
fn plan_refuses_a_day_gone_a_malformed_one_and_none() {
    let sb = Sandbox::new();
    let bank = history(&sb);
    let past = at(&sb, &bank, NOW, &["plan", "--interview", "2026-12-06"], "", &[]);
    past.code(1);
    assert_eq!(
        past.stderr,
        "error: the interview date 2026-12-06 (--interview) is not after today (2026-12-06): there is nothing left \
         to plan\n  hint: give a day to come, e.g. --interview YYYY-MM-DD\n"
    );
    let bad = at(&sb, &bank, NOW, &["plan"], "", &[("GRILL_INTERVIEW_DATE", "15/01/2027")]);
    bad.code(1);
    assert_eq!(
        bad.stderr,
        "error: GRILL_INTERVIEW_DATE in the environment must be a date as YYYY-MM-DD, e.g. 2027-01-15 (got \
         `15/01/2027`)\n  hint: fix the file or variable named above, then run `grill config` to check\n"
    );
    let config = sb.path("config/grill/config.toml");
    std::fs::create_dir_all(config.parent().unwrap()).unwrap();
    std::fs::write(&config, "interview_date = 2026-01-15\n").unwrap();
    let gone = at(&sb, &bank, NOW, &["plan"], "", &[]);
    gone.code(1);
    assert_eq!(
        sb.redact(&gone.stderr),
        "error: the interview date 2026-01-15 (`interview_date` in the config file ([SANDBOX]/config/grill/config.toml)) \
         is not after today (2026-12-06): there is nothing left to plan\n  hint: give a day to come, e.g. --interview \
         YYYY-MM-DD\n"
    );
    std::fs::remove_file(&config).unwrap();
    let none = at(&sb, &bank, NOW, &["plan"], "", &[]);
    none.code(1);
    assert_eq!(
        none.stderr,
        "error: no interview date to plan for\n  hint: give one with --interview YYYY-MM-DD, or set `interview_date` \
         (`grill config` shows the settings)\n"
    );
    assert!(Path::new(&bank).is_dir());
}

#[test]
fn stats_show_the_interview_date_and_the_forecast_when_one_is_set() {
    let sb = Sandbox::new();
    let bank = history(&sb);
    let date = [("GRILL_INTERVIEW_DATE", "2027-01-15")];
    let text = at(&sb, &bank, NOW, &["stats"], "", &date);
    text.success();
    insta::assert_snapshot!("stats_with_an_interview_date", text.stdout);
    // The JSON carries the same forecast as `grill plan --json`, without its own fields.
    let stats = at(&sb, &bank, NOW, &["stats", "--json"], "", &date).json();
    let mut plan = at(&sb, &bank, NOW, &["plan", "--json"], "", &date).json();
    let plan = plan.as_object_mut().unwrap();
    plan.remove("schema");
    plan.remove("skipped");
    assert_eq!(stats["forecast"], Value::Object(plan.clone()));
    assert_eq!(at(&sb, &bank, NOW, &["stats", "--json"], "", &[]).json()["forecast"], Value::Null);
    // A day gone is said, and the other figures still show.
    let gone = at(&sb, &bank, NOW, &["stats"], "", &[("GRILL_INTERVIEW_DATE", "2026-12-01")]);
    gone.success();
    assert!(
        gone.stdout.ends_with(
            "\nNo forecast: the interview date 2026-12-01 (GRILL_INTERVIEW_DATE in the environment) is not after \
             today (2026-12-06): there is nothing left to plan.\n"
        ),
        "{}",
        gone.stdout
    );
    assert!(gone.stdout.starts_with("topic "), "{}", gone.stdout);
}

#[test]
fn confidence_is_asked_before_the_grade_kept_on_the_turn_and_scored_in_stats() {
    let sb = Sandbox::new();
    let bank = two_topics(&sb);
    // Certain of a weak answer, unsure of a good one; then no confidence given at all.
    let stdin = format!("{WEAK_TIDES}\n---\n4\n---\n{GOOD_COLOURS}\n---\n2\n---\n{GOOD_COLOURS}\n---\n\n");
    let args = [
        "practice",
        "--question",
        "tides",
        "--question",
        "colours",
        "--question",
        "paints",
        "--follow-ups",
        "0",
        "--confidence",
    ];
    let run = at(&sb, &bank, NOW, &args, &stdin, &[]);
    run.success();
    let ask = "How sure are you? 1 guessing, 2 unsure, 3 fairly sure, 4 certain (Enter: no answer)\n";
    assert_eq!(run.stdout.matches(ask).count(), 3, "{}", run.stdout);
    // Asked after the question and before the grade.
    let tides = run.stdout.find("What causes the tides?").unwrap();
    let asked = run.stdout.find(ask).unwrap();
    let graded = run.stdout.find("Score:").unwrap();
    assert!(tides < asked && asked < graded, "{}", run.stdout);
    let t = sb.only_transcript();
    let levels: Vec<Value> = t["turns"].as_array().unwrap().iter().map(|t| t["confidence"].clone()).collect();
    assert_eq!(levels, [Value::from(4), Value::from(2), Value::Null]);

    let stats = at(&sb, &bank, NOW, &["stats"], "", &[]);
    stats.success();
    let section = stats.stdout.split("Confidence against grades").nth(1).unwrap();
    // sample: said 7/8 and was wrong (0.765625), said 3/8 and was right (0.390625).
    assert_eq!(
        section.split("\n\n").next().unwrap(),
        " (right: graded 65 or more)\n  topic            answers  Brier   sure  right\n  sample                 2   0.58    62%    50%  over-confident by 12 points"
    );
    let json = at(&sb, &bank, NOW, &["stats", "--json"], "", &[]).json();
    assert_eq!(
        json["calibration"],
        serde_json::json!([{"topic": "sample", "answers": 2, "brier": 0.578125, "confidence": 0.625, "right": 0.5}])
    );
}
