//! SIGKILL at random moments of a scripted session never leaves a transcript that fails
//! to parse: every save is a temporary file, fsync and rename.

use std::io::Write;
use std::process::Stdio;
use std::time::Duration;

use crate::util::{Sandbox, fixture_bank};

#[test]
fn sigkill_at_random_points_never_leaves_a_torn_transcript() {
    let bank = fixture_bank();
    let sb = Sandbox::new();
    let mut rng = fastrand::Rng::with_seed(0x5eed);
    let kills = 40;
    for _ in 0..kills {
        let mut child = sb
            .command()
            .args([
                "--no-builtin-bank",
                "--bank",
                bank.to_str().unwrap(),
                "practice",
                "--question",
                "colours",
                "--question",
                "tides",
                "--follow-ups",
                "2",
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        let deadline = Duration::from_micros(rng.u64(0..40_000));
        let writer = std::thread::spawn(move || {
            for i in 0..6 {
                let block = format!(
                    "Answer {i}: blue and yellow pigments absorb light; the moon's gravity pulls twice a day.\n---\n"
                );
                if stdin.write_all(block.as_bytes()).is_err() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(3));
            }
        });
        std::thread::sleep(deadline);
        let _ = child.kill();
        let _ = child.wait();
        let _ = writer.join();
    }
    let files = sb.transcript_files();
    assert!(!files.is_empty(), "at least some runs got far enough to save");
    for f in &files {
        let bytes = std::fs::read(f).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        assert_eq!(v["schema_version"], 4);
    }
    // Leftover temporary files are never taken for transcripts.
    let run = sb.run(&["review", "list", "--json"], "");
    run.success();
    assert_eq!(run.json()["sessions"].as_array().unwrap().len(), files.len());
}
