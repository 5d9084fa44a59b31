//! `:edit`: the answer written in `$VISUAL` / `$EDITOR`. The file opens with the question
//! as comment lines marked `#| ` (Python answers have `#` comments of their own, so grill
//! removes only lines carrying its own mark), then whatever was typed so far.

use std::io;

use super::input::Input;
use crate::style::wrap_to;

/// The mark of the lines grill writes into the file and removes from the answer.
pub const MARK: &str = "#|";

/// The editor to run: `$VISUAL`, else `$EDITOR`, else `vi`.
pub fn editor_from_env() -> String {
    ["VISUAL", "EDITOR"]
        .iter()
        .filter_map(|v| std::env::var(v).ok())
        .find(|e| !e.trim().is_empty())
        .unwrap_or_else(|| "vi".to_string())
}

/// The file's first text: the question, how to submit, and the draft.
pub fn template(asked: &str, draft: &str) -> String {
    let mut out = String::new();
    for line in wrap_to(asked, 78, "").lines() {
        out.push_str(&marked(line));
    }
    out.push_str(&marked(""));
    out.push_str(&marked(&format!("Write your answer below. Lines starting with \"{MARK}\" are removed.")));
    out.push_str(&marked("Save and close to submit; leave it empty to submit nothing."));
    out.push('\n');
    out.push_str(draft);
    out
}

fn marked(line: &str) -> String {
    if line.is_empty() { format!("{MARK}\n") } else { format!("{MARK} {line}\n") }
}

/// The answer in the edited text: grill's own lines out, blank lines around it trimmed.
pub fn answer_of(text: &str) -> String {
    let kept: Vec<&str> =
        text.lines().filter(|l| !(*l == MARK || l.strip_prefix(MARK).is_some_and(|r| r.starts_with(' ')))).collect();
    let body = kept.join("\n");
    // Leading blank lines go, but not the indentation of a first line of code.
    let start = body.len() - body.trim_start_matches(['\n', '\r']).len();
    body[start..].trim_end().to_string()
}

/// Runs `editor` on a temporary file holding [`template`]; the answer written, or why
/// there is none.
pub fn edit(editor: &str, asked: &str, draft: &str) -> io::Result<Input> {
    let file = tempfile::Builder::new().prefix("grill-answer-").suffix(".md").tempfile()?;
    std::fs::write(file.path(), template(asked, draft))?;
    // The editor setting may carry arguments ("code --wait").
    let mut parts = editor.split_whitespace();
    let program = parts.next().unwrap_or("vi");
    match std::process::Command::new(program).args(parts).arg(file.path()).status() {
        Ok(s) if s.success() => {}
        Ok(s) => return Ok(Input::Invalid(format!("{editor} exited with {s}; nothing was submitted"))),
        Err(e) => return Ok(Input::Invalid(format!("could not start {editor} ({e}); set $VISUAL or $EDITOR"))),
    }
    let answer = answer_of(&std::fs::read_to_string(file.path())?);
    if answer.is_empty() {
        return Ok(Input::Invalid("the editor returned an empty answer; nothing was submitted".into()));
    }
    Ok(Input::Edited(answer))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_template_marks_the_question_and_keeps_the_draft() {
        assert_eq!(
            template("What is the GIL?\n\nAnd why?", "It is a lock\n"),
            "#| What is the GIL?\n\
             #|\n\
             #| And why?\n\
             #|\n\
             #| Write your answer below. Lines starting with \"#|\" are removed.\n\
             #| Save and close to submit; leave it empty to submit nothing.\n\
             \n\
             It is a lock\n"
        );
    }

    #[test]
    fn only_marked_lines_are_removed_and_python_comments_stay() {
        let edited = "#| What is the GIL?\n#|\n#| Write below.\n\n    x = 1  # a comment\n# a Python comment\n#|not ours\n\nmore\n\n";
        assert_eq!(answer_of(edited), "    x = 1  # a comment\n# a Python comment\n#|not ours\n\nmore");
        assert_eq!(answer_of(&template("Q?", "")), "");
    }

    #[cfg(unix)]
    #[test]
    fn an_editor_script_writes_the_answer_and_the_question_is_not_in_it() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let script = dir.path().join("editor.sh");
        // Appends an answer with a Python comment, as a person would below the question.
        std::fs::write(&script, "#!/bin/sh\nprintf 'def f():\\n    return 1  # one\\n' >> \"$1\"\n").unwrap();
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        let got = edit(script.to_str().unwrap(), "Write f.", "").unwrap();
        assert_eq!(got, Input::Edited("def f():\n    return 1  # one".into()));

        std::fs::write(&script, "#!/bin/sh\nexit 3\n").unwrap();
        let got = edit(script.to_str().unwrap(), "Write f.", "").unwrap();
        assert_eq!(
            got,
            Input::Invalid(format!("{} exited with exit status: 3; nothing was submitted", script.display()))
        );
    }
}
