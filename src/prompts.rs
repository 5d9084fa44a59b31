//! The grading prompts: handlebars templates from `prompts/`, compiled into the binary and
//! overridable with `--prompts DIR`. Their hash goes into every transcript, so a grade
//! can be traced to the exact instructions that produced it.

use std::path::Path;

use handlebars::Handlebars;
use serde::Serialize;

include!(concat!(env!("OUT_DIR"), "/embedded_prompts.rs"));

/// The templates grill needs, by file stem.
pub const REQUIRED: [&str; 4] = ["grade_system", "grade_user", "repair", "follow_up"];

/// The templates `grill bank draft` needs. They are a set of their own: kept out of the
/// grading set so its hash (recorded in every transcript) does not move when they change,
/// and optional in a `--prompts` folder, which falls back to the built-in ones.
pub const DRAFT: [&str; 3] = ["draft_system", "draft_user", "draft_repair"];

fn is_draft(file: &str) -> bool {
    DRAFT.contains(&file.trim_end_matches(".hbs"))
}

/// A template set that cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("prompt templates ({source_name}): {message}")]
pub struct PromptError {
    /// Where the templates came from.
    pub source_name: String,
    /// What is wrong.
    pub message: String,
}

impl crate::error::Diagnose for PromptError {
    /// Only a folder the user named reaches the top: the built-in templates are checked
    /// by the tests, and a failure to render becomes an ungraded answer.
    fn exit(&self) -> crate::error::ExitStatus {
        crate::error::ExitStatus::Failure
    }

    fn hint(&self) -> Option<String> {
        Some(format!(
            "the prompts folder needs {}; leave --prompts (GRILL_PROMPTS) unset for the built-in templates",
            REQUIRED.map(|n| format!("{n}.hbs")).join(", ")
        ))
    }
}

/// The compiled templates.
#[derive(Debug)]
pub struct Prompts {
    hb: Handlebars<'static>,
    hash: String,
}

impl Prompts {
    /// The templates compiled into the binary.
    pub fn embedded() -> Prompts {
        let files = EMBEDDED_PROMPTS.iter().filter(|(n, _)| !is_draft(n)).map(|(n, t)| (n.to_string(), t.to_string()));
        Prompts::from_files(files.collect(), "built-in", &REQUIRED).expect("the shipped templates compile")
    }

    /// The drafting templates: those of `dir` when it has all of them, else the built-in
    /// ones, so a folder of grading prompts made before drafting existed stays valid.
    pub fn drafting(dir: Option<&Path>) -> Result<Prompts, PromptError> {
        if let Some(dir) = dir.filter(|d| DRAFT.iter().all(|n| d.join(format!("{n}.hbs")).is_file())) {
            return Prompts::read(dir, &DRAFT);
        }
        let files = EMBEDDED_PROMPTS.iter().filter(|(n, _)| is_draft(n)).map(|(n, t)| (n.to_string(), t.to_string()));
        Prompts::from_files(files.collect(), "built-in", &DRAFT)
    }

    /// The templates in `dir` (every required one must be there).
    pub fn from_dir(dir: &Path) -> Result<Prompts, PromptError> {
        Prompts::read(dir, &REQUIRED)
    }

    fn read(dir: &Path, required: &[&str]) -> Result<Prompts, PromptError> {
        let source_name = dir.display().to_string();
        let mut files = Vec::new();
        for name in required {
            let path = dir.join(format!("{name}.hbs"));
            let text = std::fs::read_to_string(&path).map_err(|e| PromptError {
                source_name: source_name.clone(),
                message: format!("cannot read {}: {e}", path.display()),
            })?;
            files.push((format!("{name}.hbs"), text));
        }
        Prompts::from_files(files, &source_name, required)
    }

    fn from_files(
        mut files: Vec<(String, String)>,
        source_name: &str,
        required: &[&str],
    ) -> Result<Prompts, PromptError> {
        files.sort();
        let mut hb = Handlebars::new();
        // Prompts are plain text: nothing may be HTML-escaped, and a missing variable is a bug.
        hb.register_escape_fn(handlebars::no_escape);
        hb.set_strict_mode(true);
        let mut all = Vec::new();
        for (file, text) in &files {
            let name = file.trim_end_matches(".hbs");
            hb.register_template_string(name, text)
                .map_err(|e| PromptError { source_name: source_name.to_string(), message: format!("{file}: {e}") })?;
            all.extend_from_slice(file.as_bytes());
            all.push(0);
            all.extend_from_slice(text.as_bytes());
            all.push(0);
        }
        for name in required {
            if !hb.has_template(name) {
                return Err(PromptError {
                    source_name: source_name.to_string(),
                    message: format!("{name}.hbs is missing"),
                });
            }
        }
        Ok(Prompts { hb, hash: crate::util::short_hash(&all) })
    }

    /// Renders one template.
    pub fn render(&self, name: &str, data: &impl Serialize) -> Result<String, PromptError> {
        self.hb
            .render(name, data)
            .map_err(|e| PromptError { source_name: "templates".into(), message: format!("{name}: {e}") })
    }

    /// Hash of every template, recorded in transcripts.
    pub fn hash(&self) -> &str {
        &self.hash
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_templates_render_without_escaping() {
        let p = Prompts::embedded();
        let system = p.render("grade_system", &serde_json::json!({})).unwrap();
        assert!(system.contains("one JSON object"));
        let repair = p
            .render(
                "repair",
                &serde_json::json!({"error": "x < y & \"z\"", "key_point_ids": ["a", "b"], "red_flag_ids": []}),
            )
            .unwrap();
        assert!(repair.contains("x < y & \"z\"") && repair.contains("\"a\", \"b\""), "{repair}");
        assert_eq!(p.hash().len(), 16);
    }

    #[test]
    fn the_grading_hash_covers_only_the_grading_templates() {
        // Transcripts record this hash: the drafting templates must not move it.
        let grading: Vec<_> = EMBEDDED_PROMPTS.iter().filter(|(n, _)| !is_draft(n)).collect();
        assert_eq!(grading.len(), REQUIRED.len());
        let p = Prompts::embedded();
        assert!(!p.hb.has_template("draft_system"));
        let d = Prompts::drafting(None).unwrap();
        assert!(d.hb.has_template("draft_user") && !d.hb.has_template("grade_system"));
    }

    #[test]
    fn a_prompts_folder_without_drafting_templates_falls_back_to_the_built_in_ones() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("draft_system.hbs"), "mine").unwrap();
        let d = Prompts::drafting(Some(dir.path())).unwrap();
        assert_eq!(d.hash(), Prompts::drafting(None).unwrap().hash(), "one of three is not a set");
        for n in DRAFT {
            std::fs::write(dir.path().join(format!("{n}.hbs")), format!("mine {n}")).unwrap();
        }
        let d = Prompts::drafting(Some(dir.path())).unwrap();
        assert_eq!(d.render("draft_user", &serde_json::json!({})).unwrap(), "mine draft_user");
    }
}
