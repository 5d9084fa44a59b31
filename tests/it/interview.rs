//! `grill interview` through the binary: answers on stdin, grading in the background
//! against a scripted OpenAI-compatible server on 127.0.0.1, the report at the end, and a
//! server that fails halfway leaving the rest pending for `grill regrade --pending`.

use std::io::{BufRead, BufReader, Write};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, Request, Respond, ResponseTemplate};

use crate::llm::{Fake, completion};
use crate::util::{Sandbox, fixture_bank};

/// Grades any question of any bank: reads the key point and red flag ids from the
/// request's json_schema, marks the first key point met with the answer's first words as
/// evidence, the rest missed, and raises no red flag.
pub struct Scripted {
    pub delay: Duration,
}

/// The candidate's answer, as the prompt carries it between its marker tags.
pub fn answer_in(body: &Value) -> String {
    let user = body["messages"][1]["content"].as_str().unwrap_or_default();
    let start = user.rfind("<answer-").and_then(|i| user[i..].find('>').map(|j| i + j + 1)).unwrap_or(0);
    let end = user.rfind("</answer-").unwrap_or(user.len());
    user[start..end.max(start)].trim().to_string()
}

impl Respond for Scripted {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let body: Value = serde_json::from_slice(&request.body).unwrap();
        let schema = &body["response_format"]["json_schema"]["schema"]["properties"];
        let ids = |field: &str| -> Vec<String> {
            schema[field]["required"]
                .as_array()
                .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_string)).collect())
                .unwrap_or_default()
        };
        let answer = answer_in(&body);
        let evidence: String = answer.split_whitespace().take(4).collect::<Vec<_>>().join(" ");
        let key_points: serde_json::Map<String, Value> = ids("key_points")
            .iter()
            .enumerate()
            .map(|(i, id)| {
                let v = if i == 0 {
                    json!({"evidence": evidence, "verdict": "met"})
                } else {
                    json!({"evidence": "", "verdict": "missed"})
                };
                (id.clone(), v)
            })
            .collect();
        let red_flags: serde_json::Map<String, Value> =
            ids("red_flags").iter().map(|id| (id.clone(), json!({"evidence": "", "hit": false}))).collect();
        let grade = json!({
            "analysis": "Scripted.",
            "feedback": {"strengths": ["Starts well"], "gaps": ["The rest"], "next_step": "Cover the other points."},
            "holistic": 2,
            "key_points": key_points,
            "red_flags": red_flags,
        });
        ResponseTemplate::new(200).set_body_json(completion(&grade.to_string())).set_delay(self.delay)
    }
}

fn grading(fake: &Fake, delay: Duration) {
    fake.mount(Mock::given(method("POST")).and(path("/v1/chat/completions")).respond_with(Scripted { delay }));
}

/// `colours` and `tides` with one follow-up each, graded by the model at `base`.
fn interview_args(base: &str, extra: &[&str]) -> Vec<String> {
    let bank = fixture_bank().to_str().unwrap().to_string();
    let mut args: Vec<String> = [
        "--no-builtin-bank",
        "--bank",
        &bank,
        "--base-url",
        base,
        "--model",
        "fake-model",
        "interview",
        "--question",
        "colours",
        "--question",
        "tides",
        "--follow-ups",
        "1",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    args.extend(extra.iter().map(|s| s.to_string()));
    args
}

fn transcript_now(sb: &Sandbox) -> Option<Value> {
    let files = sb.transcript_files();
    let f = files.first()?;
    serde_json::from_slice(&std::fs::read(f).ok()?).ok()
}

#[test]
fn grades_arrive_while_later_answers_are_typed_and_the_report_lists_every_question() {
    let fake = Fake::start();
    grading(&fake, Duration::from_millis(300));
    let sb = Sandbox::new();
    let base = fake.base();
    let mut child = sb.spawn(&interview_args(&base, &[]));
    let mut stdin = child.stdin.take().unwrap();
    let answers = [
        "Blue and yellow pigments make green because each absorbs what the other reflects.",
        "Screens add light: red and green light together look yellow.",
        "The moon pulls the oceans and raises two bulges.",
        "Spring tides come when the sun and moon line up.",
    ];
    // Each answer is sent only once the previous one's grade is on disk: grading runs
    // while the candidate is still "typing" the next answer.
    let mut graded_before_next = Vec::new();
    for (i, answer) in answers.iter().enumerate() {
        writeln!(stdin, "{answer}\n---").unwrap();
        stdin.flush().unwrap();
        if i + 1 == answers.len() {
            break;
        }
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let t = transcript_now(&sb);
            let turns = t.as_ref().map(|t| t["turns"].as_array().cloned().unwrap_or_default()).unwrap_or_default();
            let this = turns.get(i);
            if this.is_some_and(|t| t["grades"].as_array().is_some_and(|g| !g.is_empty())) {
                assert!(
                    turns.get(i + 1).is_none_or(|next| next["answer"].is_null()),
                    "the next answer was not given yet"
                );
                graded_before_next.push(i);
                break;
            }
            assert!(Instant::now() < deadline, "no grade for answer {i} within 20 s: {t:?}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert_eq!(graded_before_next, [0, 1, 2], "each grade was saved before the next answer was sent");

    let t = sb.only_transcript();
    assert_eq!(t["mode"], "interview");
    assert_eq!(t["status"], "completed");
    let turns = t["turns"].as_array().unwrap();
    assert_eq!(turns.len(), 4);
    for (turn, answer) in turns.iter().zip(answers) {
        assert_eq!(turn["answer"], answer);
        assert_eq!(turn["grades"][0]["grade"]["status"], "graded", "{turn}");
    }
    // Each next question was put to the candidate before the previous answer's grade came
    // back (the server takes 300 ms): grading overlapped the next answer.
    let at = |v: &Value| chrono::DateTime::parse_from_rfc3339(v.as_str().unwrap()).unwrap();
    for pair in turns.windows(2) {
        let (asked_next, graded) = (at(&pair[1]["asked_at"]), at(&pair[0]["grades"][0]["graded_at"]));
        assert!(asked_next < graded, "asked {asked_next} before the grade of {graded}");
    }
    // No grade is shown before the report: the report's heading comes before any score.
    let report = stdout.find("Interview report").expect("a report");
    assert!(!stdout[..report].contains("/100"), "a grade was shown during the interview:\n{stdout}");
    for q in ["colours", "› screens", "tides", "› spring"] {
        assert!(stdout[report..].contains(q), "the report lists {q}:\n{stdout}");
    }
    assert!(stdout.contains("Weakest points") && stdout.contains("What to study next"), "{stdout}");
    assert_eq!(fake.chat_bodies().len(), 4);
}

#[test]
fn with_the_server_failing_halfway_the_rest_stay_pending_and_are_graded_later() {
    let fake = Fake::start();
    fake.mount(
        Mock::given(method("POST"))
            .and(path("/v1/chat/completions"))
            .respond_with(Scripted { delay: Duration::ZERO })
            .up_to_n_times(2)
            .with_priority(1),
    );
    fake.mount(
        Mock::given(method("POST"))
            .and(path("/v1/chat/completions"))
            .respond_with(ResponseTemplate::new(503).set_body_string("overloaded"))
            .with_priority(2),
    );
    let sb = Sandbox::new();
    let bank = fixture_bank();
    let bank = bank.to_str().unwrap();
    let stdin = "Blue and yellow make green.\n---\nScreens add light together.\n---\n\
                 The moon pulls the water.\n---\nSun and moon in line give spring tides.\n";
    let run = sb.run_with(&interview_args(&fake.base(), &["--jobs", "1"]), stdin, &[("GRILL_RETRY_BASE_MS", "5")]);
    run.success();
    let files = sb.transcript_files();
    assert_eq!(files.len(), 1);
    let file = &files[0];
    let t: Value = serde_json::from_slice(&std::fs::read(file).unwrap()).unwrap();
    let turns = t["turns"].as_array().unwrap();
    assert_eq!(turns.len(), 4, "every answer is recorded");
    let status = |turn: &Value| turn["grades"].as_array().and_then(|g| g.last()).map(|g| g["grade"]["status"].clone());
    assert_eq!(status(&turns[0]), Some(json!("graded")));
    assert_eq!(status(&turns[1]), Some(json!("graded")));
    assert_eq!(status(&turns[2]), Some(json!("ungraded")), "the answer the server failed on");
    assert_eq!(status(&turns[3]), None, "not sent once the endpoint failed");
    assert!(run.stdout.contains("Grading stopped:") && run.stdout.contains("503"), "{}", run.stdout);
    assert!(
        run.stdout.contains("2 answer(s) wait for a grade: `grill regrade --pending` grades them"),
        "{}",
        run.stdout
    );
    for q in ["colours", "› screens", "tides", "› spring"] {
        assert!(run.stdout.contains(q), "the report lists {q}:\n{}", run.stdout);
    }

    // The server is back: regrade --pending finishes the two, and keeps the failed grade.
    let healthy = Fake::start();
    grading(&healthy, Duration::ZERO);
    let run = sb.run_with(
        &[
            "--no-builtin-bank",
            "--bank",
            bank,
            "--base-url",
            &healthy.base(),
            "--model",
            "fake-model",
            "regrade",
            "--pending",
        ],
        "",
        &[],
    );
    run.success();
    assert!(run.stdout.contains("Graded 2 answer(s) again"), "{}", run.stdout);
    let t: Value = serde_json::from_slice(&std::fs::read(file).unwrap()).unwrap();
    let turns = t["turns"].as_array().unwrap();
    assert!(turns.iter().all(|t| status(t) == Some(json!("graded"))), "{t}");
    assert_eq!(turns[2]["grades"].as_array().unwrap().len(), 2, "the ungraded record is kept beside the new grade");
    assert_eq!(healthy.chat_bodies().len(), 2);
}

#[test]
fn an_offline_interview_quit_halfway_resumes_as_an_interview() {
    let sb = Sandbox::new();
    let bank = fixture_bank();
    let bank = bank.to_str().unwrap();
    let args = [
        "--no-builtin-bank",
        "--bank",
        bank,
        "--grader",
        "offline",
        "interview",
        "--question",
        "colours",
        "--question",
        "tides",
    ];
    let run =
        sb.run(&[&args[..], &["--follow-ups", "0"]].concat(), "Blue and yellow pigments make green.\n---\n:quit\n");
    run.success();
    assert!(run.stdout.contains("Interview report") && run.stdout.contains("not answered"), "{}", run.stdout);
    let t = sb.only_transcript();
    assert_eq!((t["status"].as_str(), t["mode"].as_str()), (Some("quit"), Some("interview")));

    let run = sb.run(
        &["--no-builtin-bank", "--bank", bank, "--grader", "offline", "resume"],
        "The moon's pull raises two bulges.\n",
    );
    run.success();
    assert!(run.stdout.contains("Interview: no grades until the end"), "{}", run.stdout);
    let report = run.stdout.find("Interview report").unwrap();
    assert!(!run.stdout[..report].contains("/100"), "{}", run.stdout);
    let t = sb.only_transcript();
    assert_eq!(t["status"], "completed");
    let turns = t["turns"].as_array().unwrap();
    assert_eq!(turns.len(), 2);
    assert!(turns.iter().all(|t| t["grades"][0]["grade"]["status"] == "graded"), "{t}");
}

#[test]
fn the_time_limit_stops_new_questions() {
    let sb = Sandbox::new();
    let bank = fixture_bank();
    let bank = bank.to_str().unwrap();
    let mut child = sb.spawn(&[
        "--no-builtin-bank",
        "--bank",
        bank,
        "--grader",
        "offline",
        "interview",
        "--question",
        "colours",
        "--question",
        "tides",
        "--follow-ups",
        "0",
        "--time-limit",
        "1",
    ]);
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut seen = String::new();
    while !seen.contains("left ─") {
        let mut line = String::new();
        assert!(stdout.read_line(&mut line).unwrap() > 0, "the first question shows the time left: {seen}");
        seen.push_str(&line);
    }
    std::thread::sleep(Duration::from_millis(1200));
    writeln!(stdin, "Blue and yellow pigments make green.\n---\nnever asked").unwrap();
    drop(stdin);
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stdout, &mut rest).unwrap();
    assert_eq!(child.wait().unwrap().code(), Some(0));
    assert!(rest.contains("Time is up") && rest.contains("The time limit ended the interview"), "{rest}");
    assert!(!rest.contains("What causes the tides?"), "the second question is never shown: {rest}");
    let t = sb.only_transcript();
    let turns = t["turns"].as_array().unwrap();
    assert_eq!(turns[0]["answer"], "Blue and yellow pigments make green.");
    assert!(
        turns.iter().skip(1).all(|t| t["answer"].is_null()),
        "nothing after the limit is recorded as an answer: {t}"
    );
    assert_eq!((t["status"].as_str(), t["time_limit_secs"].as_u64()), (Some("quit"), Some(1)));
}
