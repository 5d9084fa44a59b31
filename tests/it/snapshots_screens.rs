//! The screens users read, compared whole against reviewed snapshots: a practice session
//! at two widths, the grade screen (offline, and from a model with evidence, gaps, a next
//! step and a nonsense next step), `review list`, `review show`, `stats`, the Markdown
//! export and the warning for a corrupt transcript. The HTML export is checked for what
//! it must hold (the reference, code blocks, escaping) rather than whole.

use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::llm::{ANSWER, Fake, completion};
use crate::util::{Run, Sandbox, fixture_bank};

const GOOD_COLOURS: &str = "Blue and yellow pigments make green, because each pigment absorbs light that the \
                            other reflects.";
const WEAK_TIDES: &str = "The sea goes up and down during the day.";

/// `Sandbox::redact`, plus what differs between checkouts (the repository's folder) and
/// between days (dates on their own, as the schedule shows them).
fn redact(sb: &Sandbox, text: &str) -> String {
    let text = text.replace(env!("CARGO_MANIFEST_DIR"), "[REPO]");
    let text = sb.redact(&text);
    let text = regex::Regex::new(r"\b\d{4}-\d{2}-\d{2}\b").unwrap().replace_all(&text, "[DATE]").into_owned();
    // The id at the end of a transcript's file name, which `\b` does not separate from `_`.
    regex::Regex::new(r"_[0-9a-f]{8}\.json").unwrap().replace_all(&text, "_[ID].json").into_owned()
}

/// Runs grill on the fixture bank with `COLUMNS` set, so the width is the same whatever
/// runs the tests.
fn grill(sb: &Sandbox, columns: &str, args: &[&str], stdin: &str) -> Run {
    let bank = fixture_bank();
    let mut all = vec!["--no-builtin-bank", "--bank", bank.to_str().unwrap()];
    all.extend_from_slice(args);
    sb.run_with(&all, stdin, &[("COLUMNS", columns), ("GRILL_RETRY_BASE_MS", "10")])
}

fn practise(sb: &Sandbox, question: &str, answer: &str) {
    grill(sb, "80", &["practice", "--question", question, "--follow-ups", "0"], &format!("{answer}\n")).success();
}

fn scripted_session(columns: &str) -> String {
    let sb = Sandbox::new();
    let run = grill(
        &sb,
        columns,
        &["practice", "--question", "colours", "--follow-ups", "1"],
        &format!("{GOOD_COLOURS}\n---\nOn a screen light mixes additively, so red and green light add up to yellow.\n"),
    );
    run.success();
    redact(&sb, &run.stdout)
}

#[test]
fn a_practice_session_at_80_columns() {
    insta::assert_snapshot!(scripted_session("80"));
}

#[test]
fn a_practice_session_at_120_columns_wraps_at_88() {
    insta::assert_snapshot!(scripted_session("120"));
}

#[test]
fn the_offline_grade_screen_quotes_the_evidence() {
    let sb = Sandbox::new();
    let run = grill(&sb, "80", &["grade", "--question", "colours"], GOOD_COLOURS);
    run.success();
    insta::assert_snapshot!(redact(&sb, &run.stdout));
}

/// A model's grading of `colours` with evidence for each verdict, a red flag with its
/// quote, feedback, and `next_step` as given.
fn model_reply(next_step: &str, gaps: &[&str]) -> ResponseTemplate {
    let reply = json!({
        "analysis": "Names the pair and the subtractive reason, then claims red and blue make green too.",
        "feedback": {"strengths": ["Names the right pair"], "gaps": gaps, "next_step": next_step},
        "holistic": 3,
        "key_points": [
            {"evidence": "Blue and yellow pigments make green", "id": "blue-yellow", "verdict": "met"},
            {"evidence": "each pigment absorbs light that the other reflects", "id": "subtractive", "verdict": "partial"},
            {"evidence": "", "id": "light-differs", "verdict": "missed"}
        ],
        "red_flags": [{"evidence": "red and blue make green", "hit": true, "id": "red-and-blue"}]
    });
    ResponseTemplate::new(200).set_body_json(completion(&reply.to_string()))
}

fn graded_by_model(reply: ResponseTemplate) -> String {
    let fake = Fake::start();
    fake.mount(Mock::given(method("POST")).and(path("/v1/chat/completions")).respond_with(reply));
    let sb = Sandbox::new();
    let answer = format!("{ANSWER} Also red and blue make green.");
    let run = grill(
        &sb,
        "80",
        &["--base-url", &fake.base(), "--model", "fake-model", "grade", "--question", "colours"],
        &answer,
    );
    run.success();
    redact(&sb, &run.stdout)
}

#[test]
fn a_model_grade_shows_evidence_red_flags_gaps_and_the_next_step() {
    let reply = model_reply(
        "Explain why red and green light make yellow on a screen.",
        &["Says nothing about light mixing additively.", "Wrongly claims red and blue make green."],
    );
    insta::assert_snapshot!(graded_by_model(reply));
}

#[test]
fn a_nonsense_next_step_gives_way_to_the_missed_key_point() {
    insta::assert_snapshot!(graded_by_model(model_reply("1.5.2.1.0", &["}} {"])));
}

/// Two finished sessions and one left after its first question.
fn three_sessions(sb: &Sandbox) {
    practise(sb, "colours", GOOD_COLOURS);
    practise(sb, "tides", WEAK_TIDES);
    grill(
        sb,
        "80",
        &["practice", "--question", "tides", "--question", "colours", "--follow-ups", "0"],
        &format!("{WEAK_TIDES}\n"),
    )
    .success();
}

#[test]
fn review_list_says_each_status_in_words() {
    let sb = Sandbox::new();
    three_sessions(&sb);
    // The second session as a crash would leave it: still in progress. Found by what it
    // holds: file names made in the same second sort by their slug, not by age.
    for file in sb.transcript_files() {
        let mut t: serde_json::Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
        if t["plan"] == json!(["tides"]) {
            t["status"] = json!("in_progress");
            std::fs::write(&file, serde_json::to_vec_pretty(&t).unwrap()).unwrap();
        }
    }
    let run = grill(&sb, "80", &["review", "list"], "");
    run.success();
    insta::assert_snapshot!(redact(&sb, &run.stdout));
}

#[test]
fn stats_screen() {
    let sb = Sandbox::new();
    three_sessions(&sb);
    let run = grill(&sb, "80", &["stats"], "");
    run.success();
    insta::assert_snapshot!(redact(&sb, &run.stdout));
}

#[test]
fn review_show_screen() {
    let sb = Sandbox::new();
    grill(
        &sb,
        "80",
        &["practice", "--question", "colours", "--follow-ups", "1"],
        &format!(":hint\n---\n{GOOD_COLOURS}\n---\n:skip\n"),
    )
    .success();
    let run = grill(&sb, "80", &["review", "show", "latest"], "");
    run.success();
    insta::assert_snapshot!(redact(&sb, &run.stdout));
}

/// The fixture's reference answer to `colours`, pasted back as the answer.
const COLOURS_REFERENCE: &str = "Blue and yellow pigments mix to green because each absorbs what the other reflects.";

/// `review show`, the Markdown export and `stats` of the one session in `sb`, one after
/// the other.
fn shown_everywhere(sb: &Sandbox) -> String {
    let mut shown = Vec::new();
    for args in [&["review", "show", "latest"][..], &["review", "export", "latest", "--format", "md"], &["stats"]] {
        let run = grill(sb, "80", args, "");
        run.success();
        shown.push(format!("$ grill {}\n{}", args.join(" "), run.stdout));
    }
    redact(sb, &shown.join("\n"))
}

#[test]
fn an_answer_after_the_reference_is_rated_again_wherever_its_score_shows() {
    let sb = Sandbox::new();
    grill(
        &sb,
        "80",
        &["practice", "--question", "colours", "--follow-ups", "0"],
        &format!(":ref\n---\n{COLOURS_REFERENCE}\n"),
    )
    .success();
    let schedule = grill(&sb, "80", &["stats", "--json"], "").json()["schedule"][0].clone();
    assert_eq!(schedule["last_rating"], "again", "{schedule}");
    assert_eq!(schedule["last_help"], json!({"hints": 0, "reference_shown": true}));
    let page = grill(&sb, "80", &["review", "export", "latest", "--format", "html"], "").stdout;
    assert!(page.contains("<p class=\"warn\">Rated again for review: reference shown before answering</p>"), "{page}");
    insta::assert_snapshot!(shown_everywhere(&sb));
}

#[test]
fn an_answer_after_a_hint_is_rated_hard_at_most_wherever_its_score_shows() {
    let sb = Sandbox::new();
    grill(
        &sb,
        "80",
        &["practice", "--question", "colours", "--follow-ups", "0"],
        &format!(":hint\n---\n:hint\n---\n{COLOURS_REFERENCE}\n"),
    )
    .success();
    let schedule = grill(&sb, "80", &["stats", "--json"], "").json()["schedule"][0].clone();
    assert_eq!(schedule["last_rating"], "hard", "{schedule}");
    assert_eq!(schedule["last_help"], json!({"hints": 2, "reference_shown": false}));
    insta::assert_snapshot!(shown_everywhere(&sb));
}

/// An answer with a code fence, and markup that must stay text.
const FENCED: &str = "Blue and yellow pigments make green <b>always</b>:\n\n```python\nassert mix(\"blue\", \"yellow\") == \"green\" and 1 < 2\n```\n\nEach pigment absorbs light that the other reflects.";

#[test]
fn the_markdown_export() {
    let sb = Sandbox::new();
    practise(&sb, "colours", FENCED);
    let run = grill(&sb, "80", &["review", "export", "latest", "--format", "md"], "");
    run.success();
    insta::assert_snapshot!(redact(&sb, &run.stdout));
}

#[test]
fn the_html_export_holds_the_reference_and_code_blocks_and_escapes_everything() {
    let sb = Sandbox::new();
    practise(&sb, "colours", FENCED);
    let run = grill(&sb, "80", &["review", "export", "latest", "--format", "html"], "");
    run.success();
    let page = &run.stdout;
    for part in [
        "<p>Blue and yellow pigments make green &lt;b&gt;always&lt;/b&gt;:</p>",
        "<pre><code>assert mix(&quot;blue&quot;, &quot;yellow&quot;) &#x3D;&#x3D; &quot;green&quot; and 1 &lt; 2</code></pre>",
        "<h3>Reference answer</h3>\n<div class=\"reference\"><p>Blue and yellow pigments mix to green because each absorbs what the other reflects.</p></div>",
        "<td class=\"met\">✓ met</td>",
        "<span class=\"score high\">75/100</span>",
    ] {
        assert!(page.contains(part), "missing {part:?} in:\n{page}");
    }
    assert!(!page.contains("<b>always"), "markup from an answer reaches the page:\n{page}");
    for external in ["src=", "href=", "@import", "url("] {
        assert!(!page.contains(external), "the page must not fetch anything ({external})");
    }
}

#[test]
fn the_warning_for_a_corrupt_transcript() {
    let sb = Sandbox::new();
    practise(&sb, "colours", GOOD_COLOURS);
    practise(&sb, "tides", WEAK_TIDES);
    let files = sb.transcript_files();
    let text = std::fs::read_to_string(&files[0]).unwrap();
    // Cut where every transcript has the same bytes, so the error's line and column hold.
    std::fs::write(&files[0], &text[..text.find("\"id\"").unwrap()]).unwrap();
    let beside_a_good_one = grill(&sb, "80", &["review", "list"], "");
    beside_a_good_one.code(2);
    std::fs::remove_file(&files[1]).unwrap();
    let alone = grill(&sb, "80", &["review", "list"], "");
    alone.code(2);
    let shown: Vec<String> =
        [beside_a_good_one, alone].iter().map(|r| format!("stdout:\n{}stderr:\n{}", r.stdout, r.stderr)).collect();
    insta::assert_snapshot!(redact(&sb, &shown.join("\n")));
}
