//! Prints the core's speed figures: start-up to the first question, bank load, and one
//! offline grade. Run with `cargo bench --bench core`. Figures, not assertions.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use grill::bank::Bank;
use grill::grade::offline;

const ANSWER: &str = "The GIL is a mutex inside CPython: a thread has to hold it to run bytecode, so only one \
thread executes Python code at a time in an interpreter, however many cores there are.

It exists because of reference counting. Every object's count changes all the time, and one big lock means \
those updates need no atomic instructions and no per-object locks, which keeps single-threaded code fast and \
made C extensions easy to write.

It matters for CPU-bound work. Blocking I/O releases the GIL, so I/O-bound threads scale fine, but pure-Python \
number crunching in four threads is no faster than in one. For that I use multiprocessing or a \
ProcessPoolExecutor, accepting the pickling cost, or push the hot loop into NumPy or Cython, which release the \
GIL. Since Python 3.2 the hand-over is time-based, every 5 ms by default (sys.getswitchinterval), and the \
free-threaded build from PEP 703, experimental in 3.13 and supported in 3.14, removes the GIL entirely.";

fn stats(mut samples: Vec<Duration>) -> String {
    samples.sort();
    let n = samples.len();
    let median = samples[n / 2];
    let p90 = samples[(n * 9 / 10).min(n - 1)];
    let mean = samples.iter().sum::<Duration>() / n as u32;
    format!("median {median:>10.3?}  mean {mean:>10.3?}  p90 {p90:>10.3?}  (n={n})")
}

fn time<T>(n: usize, mut f: impl FnMut() -> T) -> Vec<Duration> {
    (0..n)
        .map(|_| {
            let t = Instant::now();
            std::hint::black_box(f());
            t.elapsed()
        })
        .collect()
}

fn startup_to_first_question() -> Duration {
    let dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_grill"))
        .args(["practice", "--count", "1"])
        .env("GRILL_TRANSCRIPTS_DIR", dir.path())
        .env("HOME", dir.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the grill binary runs");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut elapsed = None;
    for line in lines.by_ref() {
        if line.unwrap().contains("Question 1 of") {
            elapsed = Some(started.elapsed());
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    elapsed.expect("grill printed its first question")
}

fn main() {
    let bank = Bank::embedded().expect("the shipped bank loads");
    let q = bank.get("gil").expect("the gil question exists");
    let rubric = q.rubric();
    let words = ANSWER.split_whitespace().count();

    println!("grill core bench ({} questions in the bank)", bank.questions().len());
    println!("bank load (parse + validate, embedded)   {}", stats(time(50, || Bank::embedded().unwrap())));
    println!("offline grade, one {words}-word answer      {}", stats(time(2000, || offline::grade(&rubric, ANSWER))));
    let long = ANSWER.repeat(40);
    let long_words = long.split_whitespace().count();
    println!("offline grade, one {long_words}-word answer    {}", stats(time(50, || offline::grade(&rubric, &long))));
    let _ = startup_to_first_question(); // warm the page cache
    let samples: Vec<Duration> = (0..30).map(|_| startup_to_first_question()).collect();
    println!("start-up to first question (process)     {}", stats(samples));
}
