//! Generates 10,000 realistic transcripts in a temporary folder and prints how long
//! `grill review list`, `grill stats` and `grill report` take over them: the first run (which builds the
//! index) and later runs (which use it). Run with `cargo bench --bench history`.

use std::process::Command;
use std::time::{Duration, Instant};

use grill::bank::Bank;
use grill::grade::offline;
use grill::grade::record::GradeRecord;
use grill::grade::record::GraderInfo;
use grill::transcript::{SCHEMA_VERSION, Status, Store, Transcript, Turn};
use grill::util::now;

const SESSIONS: usize = match option_env!("GRILL_BENCH_SESSIONS") {
    Some(_) => 2_000,
    None => 10_000,
};

const ANSWERS: [&str; 4] = [
    "It is a mutex around the interpreter: only one thread runs bytecode at a time, because reference counting is not atomic.",
    "I think it is about threads, but I am not sure how it works in detail.",
    "Blocking I/O releases it, so threads help with network calls, but CPU bound work needs processes to use more cores.",
    "No idea.",
];

fn main() {
    let bank = Bank::embedded().unwrap();
    let dir = tempfile::tempdir().unwrap();
    // GRILL_BENCH_KEEP=DIR leaves the generated transcripts there, for profiling.
    let kept = std::env::var_os("GRILL_BENCH_KEEP").map(std::path::PathBuf::from);
    let root = kept.clone().unwrap_or_else(|| dir.path().to_path_buf());
    let store = Store::new(&root);
    let mut rng = fastrand::Rng::with_seed(7);
    let questions = bank.questions();
    let started = Instant::now();
    let base = now() - chrono::Duration::days(400);
    for i in 0..SESSIONS {
        let at = base + chrono::Duration::minutes(i as i64 * 55);
        // Three distinct questions: a transcript that plans one twice is refused as invalid.
        let plan: Vec<&grill::bank::Question> =
            rng.choose_multiple(0..questions.len(), 3).into_iter().map(|i| &questions[i]).collect();
        let mut turns = Vec::new();
        for q in &plan {
            for (n, fu) in std::iter::once(None).chain(q.follow_ups.iter().take(2).map(Some)).enumerate() {
                let answer = ANSWERS[rng.usize(..ANSWERS.len())];
                let rubric = fu.map_or_else(|| q.rubric(), |f| f.rubric());
                let grade = offline::grade(&rubric, answer);
                let when = at + chrono::Duration::minutes(n as i64 * 2);
                turns.push(Turn {
                    question_id: q.id.clone(),
                    follow_up_id: fu.map(|f| f.id.clone()),
                    generated_for: None,
                    question_file: None,
                    prompt: fu.map_or(&q.prompt, |f| &f.prompt).clone(),
                    question_hash: q.content_hash(),
                    asked_at: when,
                    answer: Some(answer.to_string()),
                    answered_at: Some(when),
                    skipped: false,
                    hints: vec![],
                    reference_shown_early: false,
                    confidence: None,
                    grades: vec![GradeRecord {
                        grader: GraderInfo::Offline { version: offline::GRADER_VERSION.into() },
                        graded_at: when,
                        latency_ms: 1,
                        grade,
                        mode: None,
                        usage: None,
                        server_ms: None,
                        injection: vec![],
                    }],
                    draft: None,
                });
            }
        }
        let t = Transcript {
            schema_version: SCHEMA_VERSION,
            grill_version: "bench".into(),
            id: format!("{i:08x}"),
            started_at: at,
            updated_at: at,
            status: Status::Completed,
            mode: Default::default(),
            time_limit_secs: None,
            grader: GraderInfo::Offline { version: offline::GRADER_VERSION.into() },
            bank: "built-in bank".into(),
            selection: Default::default(),
            follow_ups: 2,
            plan: plan.iter().map(|q| q.id.clone()).collect(),
            turns,
        };
        let path = store.path_for(&t, &t.plan[0]);
        store.save(&t, &path).unwrap();
    }
    let bytes: u64 =
        std::fs::read_dir(root.as_path()).unwrap().filter_map(|e| e.ok()?.metadata().ok()).map(|m| m.len()).sum();
    println!(
        "grill history bench: {SESSIONS} transcripts, {:.1} MB, written in {:.1?}",
        bytes as f64 / 1e6,
        started.elapsed()
    );

    let time = |args: &[&str]| -> Duration {
        let t = Instant::now();
        let out = Command::new(env!("CARGO_BIN_EXE_grill"))
            .args(args)
            .env("GRILL_TRANSCRIPTS_DIR", root.as_path())
            .env("HOME", root.as_path())
            .env("OLLAMA_HOST", "127.0.0.1:9")
            .output()
            .unwrap();
        let took = t.elapsed();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        took
    };
    let cold_list = time(&["review", "list"]);
    println!("review list, first run (builds the index):  {cold_list:>9.1?}");
    let index = std::fs::metadata(root.as_path().join(".grill-index")).map(|m| m.len()).unwrap_or(0);
    println!("index size: {:.1} MB", index as f64 / 1e6);
    let mut one: Vec<Duration> = (0..5).map(|_| time(&["review", "list", "--limit", "1"])).collect();
    one.sort();
    println!("review list --limit 1 (index warm), median: {:>9.1?}", one[2]);
    let mut list: Vec<Duration> = (0..5).map(|_| time(&["review", "list"])).collect();
    let mut stats: Vec<Duration> = (0..5).map(|_| time(&["stats"])).collect();
    let mut json: Vec<Duration> = (0..5).map(|_| time(&["review", "list", "--json"])).collect();
    for v in [&mut list, &mut stats, &mut json] {
        v.sort();
    }
    println!("review list (index warm), median of 5:      {:>9.1?}   (target: under 300 ms)", list[2]);
    println!("review list --json, median of 5:            {:>9.1?}", json[2]);
    println!("stats (index warm), median of 5:            {:>9.1?}   (target: under 300 ms)", stats[2]);
    // The page lands beside the transcripts: not `*.json`, so never taken for one.
    let page = root.join("grill-report.html");
    let page_arg = page.to_string_lossy().into_owned();
    let mut report: Vec<Duration> = (0..5).map(|_| time(&["report", "-o", &page_arg])).collect();
    report.sort();
    let size = std::fs::metadata(&page).map(|m| m.len()).unwrap_or(0);
    println!("report (index warm), median of 5:           {:>9.1?}   (target: under 1 s)", report[2]);
    println!("report page size: {:.0} KB   (target: under 2 MB)", size as f64 / 1e3);
}
