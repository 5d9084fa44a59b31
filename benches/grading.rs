//! Prints grill's own overhead per graded answer against a fake server that replies at
//! once (prompt rendering, HTTP on loopback, validation, scoring), and the share of the
//! grading prompt that is byte-identical across two different questions (what a local
//! server's prompt cache can reuse). With `GRILL_REAL_SERVER_URL` set (`eval "$(scripts/
//! real-server-up)"`), it also grades one typical answer on the real server and prints
//! the tokens and time each grade costs. Run with `cargo bench --bench grading`; with
//! `-- --quick` (or `cargo test --bench grading -- --quick`) it prints only the prompt
//! figures.

use std::sync::Arc;
use std::time::{Duration, Instant};

use grill::bank::Bank;
use grill::grade::Asked;
use grill::grade::grader::Grader;
use grill::grade::llm::LlmGrader;
use grill::llm::modes::ModeCache;
use grill::llm::{Client, Endpoint, Limits};
use grill::prompts::Prompts;
use serde_json::json;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

const ANSWER: &str = "The GIL is a mutex in CPython: only one thread executes bytecode at a time. It exists because \
reference counting is not atomic, which keeps C extensions simple. Blocking I/O releases it, so I/O bound threads \
scale, but CPU bound work needs multiprocessing or a process pool.";

fn asked(q: &grill::bank::Question) -> Asked<'_> {
    Asked { id: &q.id, prompt: &q.prompt, reference: &q.reference_answer, rubric: q.rubric() }
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let bank = Bank::embedded().unwrap();
    let gil = bank.get("gil").unwrap();
    let verdicts: serde_json::Map<String, serde_json::Value> = gil
        .key_points
        .iter()
        .map(|k| {
            (
                k.id.clone(),
                json!({"reason": "stated", "evidence": ["only one thread executes bytecode at a time"], "verdict": "met"}),
            )
        })
        .collect();
    let grade = json!({"key_points": verdicts, "red_flags": {}, "errors": [],
                       "feedback": {"strengths": [], "gaps": [], "next_step": "x"}});
    let body = json!({"choices": [{"index": 0, "message": {"role": "assistant", "content": grade.to_string()},
                      "finish_reason": "stop"}], "usage": {"prompt_tokens": 5000, "completion_tokens": 1}});
    let server = rt.block_on(MockServer::start());
    rt.block_on(
        Mock::given(method("POST")).respond_with(ResponseTemplate::new(200).set_body_json(body)).mount(&server),
    );

    let endpoint = Endpoint::new(&format!("{}/v1", server.uri()), None).unwrap();
    let client = Client::new(endpoint, Limits::default(), Arc::new(|_| {}));
    let grader =
        Grader::Llm(Box::new(LlmGrader::new(client, "bench".into(), Prompts::embedded(), ModeCache::default())));

    let a = asked(gil);
    let quick = std::env::args().any(|a| a == "--quick");
    println!("grill grading bench");
    let mut samples: Vec<Duration> = Vec::new();
    let mut server: Vec<Duration> = Vec::new();
    for i in 0..if quick { 0 } else { 220 } {
        let t = Instant::now();
        let rec = rt.block_on(grader.grade(&a, ANSWER));
        let total = t.elapsed();
        assert!(rec.grade.score().is_some(), "the fake's reply grades");
        if i >= 20 {
            samples.push(total);
            server.push(Duration::from_millis(rec.server_ms.unwrap_or(0)));
        }
    }
    samples.sort();
    let n = samples.len();
    if n > 0 {
        println!(
            "overhead per graded answer (fake server replies at once): median {:.3?}  p90 {:.3?}  (n={n}, HTTP round trip on loopback included)",
            samples[n / 2],
            samples[n * 9 / 10]
        );
        let server_total: Duration = server.iter().sum();
        println!("  of which waiting on the server (request sent to reply read), mean {:.3?}", server_total / n as u32);
    }

    let Grader::Llm(g) = &grader else { unreachable!() };
    let other = bank.get("gather-vs-taskgroup").unwrap();
    let m1 = g.messages(&a, ANSWER, "0123456789abcdef").unwrap();
    let m2 = g.messages(&asked(other), "A different answer entirely.", "fedcba9876543210").unwrap();
    let join = |m: &[grill::llm::Message]| m.iter().map(|x| format!("{}\n{}\n", x.role, x.content)).collect::<String>();
    let (p1, p2) = (join(&m1), join(&m2));
    let common = p1.bytes().zip(p2.bytes()).take_while(|(a, b)| a == b).count();
    println!(
        "prompt bytes identical across gil and gather-vs-taskgroup: {common} of {} ({:.0}%) and of {} ({:.0}%); the system message is {} bytes",
        p1.len(),
        100.0 * common as f64 / p1.len() as f64,
        p2.len(),
        100.0 * common as f64 / p2.len() as f64,
        m1[0].content.len()
    );
    println!(
        "static-prefix share: {:.0}% of a {}-byte prompt (gil; the system message and the fixed text before the question)",
        100.0 * common as f64 / p1.len() as f64,
        p1.len()
    );

    real_server(&rt, &a);
}

/// Grades `ANSWER` twice on the real server (the second reuses the prompt cache) and
/// prints what each grade cost: what a user of a local model waits for.
fn real_server(rt: &tokio::runtime::Runtime, a: &Asked<'_>) {
    let Some(url) = std::env::var("GRILL_REAL_SERVER_URL").ok().filter(|u| !u.is_empty()) else {
        println!("tokens per grade: not measured (start the real server: eval \"$(scripts/real-server-up)\")");
        return;
    };
    let model = std::env::var("GRILL_REAL_SERVER_MODEL").unwrap_or_else(|_| "smollm2-135m-instruct".into());
    let limits = Limits { timeout: Duration::from_secs(900), ..Limits::default() };
    let client = Client::new(Endpoint::new(&url, None).unwrap(), limits, Arc::new(|_| {}));
    let grader =
        Grader::Llm(Box::new(LlmGrader::new(client, model.clone(), Prompts::embedded(), ModeCache::default())));
    for i in 1..=2 {
        let rec = rt.block_on(grader.grade(a, ANSWER));
        let u = rec.usage.unwrap_or_default();
        println!(
            "tokens per grade ({model}, gil, grade {i}): prompt {} (cached {}), completion {}; first token {} ms, total {} ms; {}",
            u.prompt_tokens,
            u.cached_tokens.unwrap_or(0),
            u.completion_tokens,
            u.first_token_ms.map_or("-".into(), |ms| ms.to_string()),
            rec.latency_ms,
            match rec.grade.score() {
                Some(s) => format!("graded {s}/100"),
                None => "ungraded".into(),
            }
        );
    }
}
