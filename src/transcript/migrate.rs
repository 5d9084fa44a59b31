//! Upgrading a transcript of an older schema: one step per version, each on the JSON
//! value before it is read into the current types, so a loaded transcript is always of
//! the current version and every save writes that version.
//!
//! A step says in the file's own terms what the version changed; one that only added
//! optional fields has nothing to rewrite, and says so. A new schema version adds its
//! step to [`STEPS`] (the compiler checks that there is one per version).

use serde_json::{Map, Value, json};

use super::SCHEMA_VERSION;

type Step = fn(&mut Map<String, Value>);

/// `STEPS[n - 1]` upgrades version `n` to `n + 1`.
const STEPS: [Step; SCHEMA_VERSION as usize - 1] = [v1_to_v2, v2_to_v3, v3_to_v4];

/// Version 2 added model graders (`grader.kind = "llm"`) and, per grade, the
/// structured-output mode, token counts, server time and injection markers: all new
/// kinds or optional fields, so a version 1 file reads as it is.
fn v1_to_v2(_: &mut Map<String, Value>) {}

/// Version 3 added the session's mode and an interview's time limit. Every earlier
/// session was a practice session with no limit.
fn v2_to_v3(t: &mut Map<String, Value>) {
    t.entry("mode").or_insert_with(|| json!("practice"));
}

/// Version 4 added the user's own verdicts, a new grader kind (`self`) among a turn's
/// grades, and, per turn, the file of a question from the user's own bank folder: nothing
/// to rewrite (every earlier session asked from one bank, which the transcript names).
fn v3_to_v4(_: &mut Map<String, Value>) {}

/// Upgrades `value`, a transcript of schema version `from` (1 to [`SCHEMA_VERSION`]), to
/// the current version. A value that is not an object is left for the reader to refuse.
pub fn upgrade(value: &mut Value, from: u32) {
    let Some(t) = value.as_object_mut() else { return };
    for (n, step) in STEPS.iter().enumerate().skip(from.saturating_sub(1) as usize) {
        step(t);
        t.insert("schema_version".into(), json!(n as u32 + 2));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_version_reaches_the_current_one() {
        for from in 1..=SCHEMA_VERSION {
            let mut v = json!({"schema_version": from});
            upgrade(&mut v, from);
            assert_eq!(v["schema_version"], SCHEMA_VERSION, "from version {from}");
        }
    }

    #[test]
    fn version_2_becomes_a_practice_session_and_keeps_a_mode_it_has() {
        let mut v = json!({"schema_version": 2});
        upgrade(&mut v, 2);
        assert_eq!(v, json!({"schema_version": SCHEMA_VERSION, "mode": "practice"}));
        let mut v = json!({"schema_version": 3, "mode": "interview"});
        upgrade(&mut v, 3);
        assert_eq!(v, json!({"schema_version": SCHEMA_VERSION, "mode": "interview"}));
    }
}
