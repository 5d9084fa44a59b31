//! Never lose an answer: two writers on one session, a full disk, a grade that was never
//! saved, transcripts that contradict themselves, FIFOs and odd file names in the
//! transcript folder, and what each of them says.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;
use wiremock::matchers::method;
use wiremock::{Mock, Request, Respond, ResponseTemplate};

use crate::llm::{ANSWER, Fake, ok_reply};
use crate::util::{Run, Sandbox, fixture_bank};

const TIDES: &str = "The moon's gravity pulls the sea into two bulges, so the tide rises twice a day.";
const LOCK_HINT: &str = "  hint: wait for that grill to finish (or stop it), then try again; a lock whose process has died is released on its own\n";
const EDITED_HINT: &str =
    "  hint: the file was changed outside grill; restore it from a backup or move it out of the folder\n";

fn args(extra: &[&str]) -> Vec<String> {
    let mut all =
        vec!["--no-builtin-bank".to_string(), "--bank".to_string(), fixture_bank().to_str().unwrap().to_string()];
    all.extend(extra.iter().map(|s| s.to_string()));
    all
}

fn run(sb: &Sandbox, extra: &[&str], stdin: &str) -> Run {
    sb.run_with(&args(extra), stdin, &[("GRILL_RETRY_BASE_MS", "10")])
}

/// A session over colours and tides whose colours answer is in and whose tides turn was
/// asked but not answered (the input ended). With `base`, graded by a model there.
fn half_session(sb: &Sandbox, base: Option<&str>) -> PathBuf {
    let before = sb.transcript_files();
    let mut a: Vec<&str> = match base {
        Some(b) => vec!["--grader", "llm", "--base-url", b, "--model", "fake-model"],
        None => vec!["--grader", "offline"],
    };
    a.extend(["practice", "--question", "colours", "--question", "tides", "--follow-ups", "0"]);
    run(sb, &a, &format!("{ANSWER}\n")).success();
    let new: Vec<PathBuf> = sb.transcript_files().into_iter().filter(|f| !before.contains(f)).collect();
    assert_eq!(new.len(), 1, "{new:?}");
    new[0].clone()
}

fn read(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

fn id_of(path: &Path) -> String {
    read(path)["id"].as_str().unwrap().to_string()
}

fn lock_file(transcript: &Path) -> PathBuf {
    transcript.with_file_name(format!(".{}.lock", transcript.file_name().unwrap().to_string_lossy()))
}

/// Waits until `child` holds the lock on `transcript` (its pid is in the lock file).
fn wait_for_lock(child: &mut Child, transcript: &Path) {
    let want = format!("{}\n", child.id());
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if std::fs::read_to_string(lock_file(transcript)).is_ok_and(|t| t.starts_with(&want)) {
            return;
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("the first writer ended ({status}) before taking the lock");
        }
        assert!(Instant::now() < deadline, "the first writer never took the lock");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Feeds `stdin` to a spawned grill and waits for it.
fn finish(mut child: Child, stdin: &str) -> Run {
    let mut pipe = child.stdin.take().unwrap();
    pipe.write_all(stdin.as_bytes()).unwrap();
    drop(pipe);
    Run::from(child.wait_with_output().unwrap())
}

/// Runs grill, killing it (and failing) if it has not ended within 10 s: a command that
/// opens a FIFO would wait forever.
fn run_bounded(sb: &Sandbox, extra: &[&str]) -> Run {
    let mut child = sb
        .command()
        .args(args(extra))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("`grill {}` is still running after 10 s", extra.join(" "));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Run::from(child.wait_with_output().unwrap())
}

/// Answers one grading request only when the test says so, so that a second writer
/// provably runs while the first holds the session.
#[derive(Clone, Default)]
struct Held {
    entered: Arc<AtomicBool>,
    release: Arc<(Mutex<bool>, Condvar)>,
}

impl Held {
    fn wait_entered(&self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !self.entered.load(Ordering::SeqCst) {
            assert!(Instant::now() < deadline, "the grading request never came");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn release(&self) {
        let (lock, cv) = &*self.release;
        *lock.lock().unwrap() = true;
        cv.notify_all();
    }
}

impl Respond for Held {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        self.entered.store(true, Ordering::SeqCst);
        let (lock, cv) = &*self.release;
        let guard = lock.lock().unwrap();
        let _ = cv.wait_timeout_while(guard, Duration::from_secs(30), |released| !*released).unwrap();
        ok_reply()
    }
}

fn answers(t: &Value) -> Vec<(String, Option<String>)> {
    t["turns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| (x["question_id"].as_str().unwrap().to_string(), x["answer"].as_str().map(str::to_string)))
        .collect()
}

fn grade_kinds(turn: &Value) -> Vec<String> {
    turn["grades"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| format!("{}:{}", g["grader"]["kind"].as_str().unwrap(), g["grade"]["status"].as_str().unwrap()))
        .collect()
}

#[test]
fn two_resumes_at_once_the_second_is_refused_and_no_answer_is_lost() {
    let sb = Sandbox::new();
    let path = half_session(&sb, None);
    let id = id_of(&path);
    let mut first = sb.command();
    first.args(args(&["--grader", "offline", "resume", &id]));
    let mut first = first.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    wait_for_lock(&mut first, &path);

    let second = run(&sb, &["--grader", "offline", "resume", &id], "A second answer that must not overwrite.\n");
    second.code(2);
    assert_eq!(second.stdout, "");
    assert_eq!(
        second.stderr,
        format!("error: {} is in use by another grill (pid {}, grill resume)\n{LOCK_HINT}", path.display(), first.id())
    );

    finish(first, &format!("{TIDES}\n")).success();
    let t = read(&path);
    assert_eq!(
        answers(&t),
        vec![("colours".to_string(), Some(ANSWER.to_string())), ("tides".to_string(), Some(TIDES.to_string()))]
    );
    assert_eq!(t["status"], "completed");
    assert!(!lock_file(&path).exists(), "the lock file goes when its holder ends");
}

#[test]
fn regrade_against_a_slow_model_keeps_resume_out_and_both_answers_and_grades_stay() {
    let sb = Sandbox::new();
    // Graded through a dead endpoint: the colours answer waits for a grade.
    let path = half_session(&sb, Some("http://127.0.0.1:9/v1"));
    let id = id_of(&path);
    let fake = Fake::start();
    let held = Held::default();
    fake.mount(Mock::given(method("POST")).respond_with(held.clone()));

    let mut regrade = sb.command();
    regrade.args(args(&["--base-url", &fake.base(), "--model", "fake-model", "regrade", "--pending"]));
    let mut regrade = regrade.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    held.wait_entered();
    wait_for_lock(&mut regrade, &path);

    let resume = run(&sb, &["--grader", "offline", "resume", &id], &format!("{TIDES}\n"));
    resume.code(2);
    assert_eq!(
        resume.stderr,
        format!(
            "error: {} is in use by another grill (pid {}, grill regrade --pending)\n{LOCK_HINT}",
            path.display(),
            regrade.id()
        )
    );

    held.release();
    let regraded = Run::from(regrade.wait_with_output().unwrap());
    regraded.success();
    run(&sb, &["--grader", "offline", "resume", &id], &format!("{TIDES}\n")).success();

    let t = read(&path);
    assert_eq!(
        answers(&t),
        vec![("colours".to_string(), Some(ANSWER.to_string())), ("tides".to_string(), Some(TIDES.to_string()))]
    );
    assert_eq!(grade_kinds(&t["turns"][0]), vec!["llm:ungraded", "llm:graded"]);
    assert_eq!(t["turns"][0]["grades"][1]["grade"]["score"], 75);
    assert_eq!(grade_kinds(&t["turns"][1]), vec!["offline:graded"]);
    assert_eq!(t["status"], "completed");
}

#[test]
fn regrade_pending_skips_a_session_in_use_and_grades_the_rest() {
    let sb = Sandbox::new();
    let busy = half_session(&sb, Some("http://127.0.0.1:9/v1"));
    let free = half_session(&sb, Some("http://127.0.0.1:9/v1"));
    let mut resume = sb.command();
    resume.args(args(&["--grader", "offline", "resume", &id_of(&busy)]));
    let mut resume = resume.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    wait_for_lock(&mut resume, &busy);

    let fake = Fake::start();
    fake.mount(Mock::given(method("POST")).respond_with(ok_reply()));
    let regrade = run(&sb, &["--base-url", &fake.base(), "--model", "fake-model", "regrade", "--pending"], "");
    regrade.code(2);
    let host = fake.server.uri();
    assert_eq!(
        regrade.stderr,
        format!(
            "Grading with fake-model at {host}.\nwarning: skipped {}: in use by another grill (pid {}, grill resume); `grill regrade --pending` grades it later\n",
            busy.display(),
            resume.id()
        )
    );
    assert_eq!(
        regrade.stdout,
        format!(
            "Session {} ({})\n  colours: ungraded → 75\nGraded 1 answer(s) again; earlier grades are kept in the transcripts.\n",
            id_of(&free),
            free.display()
        )
    );

    finish(resume, &format!("{TIDES}\n")).success();
    let busy = read(&busy);
    assert_eq!(
        answers(&busy),
        vec![("colours".to_string(), Some(ANSWER.to_string())), ("tides".to_string(), Some(TIDES.to_string()))]
    );
    assert_eq!(grade_kinds(&busy["turns"][0]), vec!["llm:ungraded"]);
    assert_eq!(grade_kinds(&read(&free)["turns"][0]), vec!["llm:ungraded", "llm:graded"]);
}

#[test]
fn an_answer_that_cannot_be_saved_is_printed_back_and_kept_in_the_temporary_folder() {
    let sb = Sandbox::new();
    let tmp = sb.path("tmp");
    std::fs::create_dir_all(&tmp).unwrap();
    // A real write error without privileges: a 4 KiB file-size limit (RLIMIT_FSIZE, which
    // binds root too, unlike permissions) makes the save that holds the long answer fail
    // with EFBIG, while the first, short save and the rescue file fit. A tmpfs would give
    // ENOSPC but needs a mount namespace that CI may not allow. SIGXFSZ is ignored so
    // the write fails instead of killing grill; the ignore survives exec.
    let answer = "Blue and yellow pigments make green. ".repeat(95).trim_end().to_string();
    // The sandbox's environment, around bash instead of grill.
    let mut c = std::process::Command::new("bash");
    c.env_clear();
    for (k, v) in sb.command().get_envs() {
        if let Some(v) = v {
            c.env(k, v);
        }
    }
    c.current_dir(sb.path("work"))
        .arg("-c")
        .arg("ulimit -f 4 && trap '' XFSZ && exec \"$0\" \"$@\"")
        .arg(env!("CARGO_BIN_EXE_grill"))
        .args(args(&["--grader", "offline", "practice", "--question", "colours", "--follow-ups", "0"]))
        .env("TMPDIR", &tmp)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let child = c.spawn().unwrap();
    let out = finish(child, &format!("{answer}\n"));
    out.code(2);

    let kept: Vec<PathBuf> = std::fs::read_dir(&tmp).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(kept.len(), 1, "{kept:?}\n{}", out.stderr);
    assert_eq!(std::fs::read_to_string(&kept[0]).unwrap(), answer);
    // Nothing was kept before the answer (a session with nothing in it is not saved), so
    // no transcript is left; the error names the file the answer was going to.
    assert_eq!(sb.transcript_files(), Vec::<PathBuf>::new());
    let file = out.stderr.split("caused by: ").nth(1).and_then(|r| r.split(": File too large").next());
    let file = [PathBuf::from(file.unwrap_or_default())];
    assert_eq!(file[0].parent(), Some(sb.transcripts().as_path()), "{}", out.stderr);
    assert_eq!(
        out.stderr,
        format!(
            "Grading offline: key-point coverage from the rubric's cues (no model).\n\
             Your answer could not be saved. Here it is in full:\n---\n{}\n---\nIt is also in {}.\n\
             error: the answer was not saved\n  caused by: {}: File too large (os error 27)\n",
            answer,
            kept[0].display(),
            file[0].display()
        )
    );
}

#[test]
fn grade_says_nothing_was_saved_and_exits_2_when_grading_failed() {
    let fake = Fake::start();
    fake.mount(Mock::given(method("POST")).respond_with(ResponseTemplate::new(400).set_body_string("no such thing")));
    let sb = Sandbox::new();
    let r = run(&sb, &["--base-url", &fake.base(), "--model", "fake-model", "grade", "--question", "colours"], "x\n");
    r.code(2);
    let host = fake.server.uri();
    assert_eq!(
        r.stderr,
        format!(
            "Grading with fake-model at {host}.\nerror: the answer was not graded, and `grill grade` saves nothing: run it again once the grader works\n"
        )
    );
    assert!(!r.stdout.contains("saved"), "{}", r.stdout);
    assert!(sb.transcript_files().is_empty());
}

/// A completed session (colours) and its file.
fn one_session(sb: &Sandbox) -> PathBuf {
    let before = sb.transcript_files();
    run(sb, &["--grader", "offline", "practice", "--question", "colours", "--follow-ups", "0"], &format!("{ANSWER}\n"))
        .success();
    sb.transcript_files().into_iter().find(|f| !before.contains(f)).unwrap()
}

#[test]
fn resume_refuses_a_transcript_whose_turns_are_not_in_its_plan_and_leaves_it_alone() {
    let sb = Sandbox::new();
    let path = half_session(&sb, None);
    let mut t = read(&path);
    t["plan"] = serde_json::json!([]);
    let bytes = serde_json::to_vec_pretty(&t).unwrap();
    std::fs::write(&path, &bytes).unwrap();
    let r = run(&sb, &["--grader", "offline", "resume", &path.to_string_lossy()], "An answer.\n");
    r.code(2);
    assert_eq!(r.stdout, "");
    assert_eq!(
        r.stderr,
        format!(
            "error: {}: not a valid transcript (field `plan`: is empty, but the session has 2 turn(s))\n{EDITED_HINT}",
            path.display()
        )
    );
    assert_eq!(std::fs::read(&path).unwrap(), bytes, "the file is not rewritten");
    assert!(!lock_file(&path).exists());
}

#[test]
fn a_fifo_among_the_transcripts_is_skipped_by_every_listing_command() {
    let sb = Sandbox::new();
    one_session(&sb);
    let fifo = sb.transcripts().join("zz-fifo.json");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success(), "mkfifo failed");
    let warning = format!("warning: skipped {}: not a regular file\n", fifo.display());
    for (cmd, code, stderr) in [
        (vec!["review", "list"], 2, warning.clone()),
        (vec!["review", "list", "--json"], 2, warning.clone()),
        (vec!["stats"], 2, warning.clone()),
        (vec!["stats", "--json"], 2, warning.clone()),
        (vec!["regrade", "--pending"], 2, warning.clone()),
        // Only colours (mid), answered: no new question starts a session.
        (vec!["practice", "--due", "--level", "mid"], 0, warning.clone()),
        (
            vec!["resume"],
            1,
            format!(
                "{warning}error: no unfinished session to resume\n  hint: `grill review list` shows every session\n"
            ),
        ),
    ] {
        let r = run_bounded(&sb, &cmd);
        assert_eq!((r.code, r.stderr.as_str()), (code, stderr.as_str()), "grill {}\n{}", cmd.join(" "), r.stdout);
    }
}

#[test]
fn review_list_json_shows_a_file_name_that_is_not_utf8() {
    use std::os::unix::ffi::OsStrExt;
    let sb = Sandbox::new();
    let path = one_session(&sb);
    let odd = sb.transcripts().join(std::ffi::OsStr::from_bytes(b"odd-\xff.json"));
    std::fs::rename(&path, &odd).unwrap();
    let r = run(&sb, &["review", "list", "--json"], "");
    r.success();
    assert_eq!(r.stderr, "");
    let file = r.json()["sessions"][0]["file"].as_str().unwrap().to_string();
    assert_eq!(file, format!("{}/odd-\u{fffd}.json", sb.transcripts().display()));
}

const BROKEN: &str = "{\n  \"id\": }\n";

#[test]
fn a_corrupt_transcript_named_by_id_says_why_and_listings_warn_once_per_file() {
    let sb = Sandbox::new();
    one_session(&sb);
    let bad = sb.transcripts().join("2026-01-01T100000_colours_deadbeef.json");
    std::fs::write(&bad, BROKEN).unwrap();
    let why = format!("{}: not a valid transcript (line 2, column 9: expected value)", bad.display());

    let r = run(&sb, &["review", "show", "deadbeef"], "");
    r.code(2);
    assert_eq!(r.stderr, format!("error: {why}\n{EDITED_HINT}"));

    let warning = format!("warning: skipped {why}\n");
    // Twice: once parsed, once from the index's cache; both say it the same way.
    for _ in 0..2 {
        let r = run(&sb, &["review", "list", "--json"], "");
        assert_eq!((r.code, r.stderr.as_str()), (2, warning.as_str()));
    }
    for cmd in [vec!["stats"], vec!["stats", "--json"], vec!["regrade", "--pending"]] {
        let r = run(&sb, &cmd, "");
        assert_eq!((r.code, r.stderr.as_str()), (2, warning.as_str()), "grill {}", cmd.join(" "));
    }
    // Only colours (mid), answered: no new question starts a session.
    let r = run(&sb, &["practice", "--due", "--level", "mid"], "");
    assert_eq!((r.code, r.stderr.as_str()), (0, warning.as_str()));
    let r = run(&sb, &["resume"], "");
    assert_eq!(
        (r.code, r.stderr.as_str()),
        (
            1,
            format!(
                "{warning}error: no unfinished session to resume\n  hint: `grill review list` shows every session\n"
            )
            .as_str()
        )
    );
}

#[test]
fn an_ambiguous_id_prefix_lists_the_candidates() {
    let sb = Sandbox::new();
    let path = one_session(&sb);
    let mut names = Vec::new();
    for id in ["abc11111", "abc22222"] {
        let mut t = read(&path);
        t["id"] = id.into();
        let name = format!("2026-01-01T10000{}_colours_{id}.json", names.len());
        std::fs::write(sb.transcripts().join(&name), serde_json::to_vec_pretty(&t).unwrap()).unwrap();
        names.push(name);
    }
    std::fs::remove_file(&path).unwrap();
    let r = run(&sb, &["review", "show", "abc"], "");
    r.code(1);
    assert_eq!(
        r.stderr,
        format!(
            "error: `abc` is ambiguous: it matches 2 transcripts: {}, {}\n  hint: give more of the id, or the file name\n",
            names[0], names[1]
        )
    );
    run(&sb, &["review", "show", "abc2", "--format", "json"], "").success();
}

#[test]
fn stale_temporary_files_are_removed_and_fresh_ones_kept() {
    let sb = Sandbox::new();
    one_session(&sb);
    let old = sb.transcripts().join(".grill-crashed.tmp");
    let fresh = sb.transcripts().join(".grill-writing.tmp");
    for p in [&old, &fresh] {
        std::fs::write(p, b"{").unwrap();
    }
    let two_hours_ago = std::time::SystemTime::now() - Duration::from_secs(7200);
    std::fs::File::options().write(true).open(&old).unwrap().set_modified(two_hours_ago).unwrap();
    let r = run(&sb, &["review", "list", "--json"], "");
    r.success();
    assert_eq!(r.stderr, "");
    assert!(!old.exists(), "a temporary file left by a crash is removed");
    assert!(fresh.exists(), "a temporary file a writer may still be writing is kept");
}
