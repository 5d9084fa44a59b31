//! The words and marks grill shows for its states, in one table, so the terminal, the
//! Markdown and the HTML say "met", "ungraded" or "72/100" the same way, and a verdict
//! always carries a symbol as well as a colour (colour alone is lost on a monochrome
//! terminal, on paper and to colour-blind readers).
//!
//! Also [`is_sensible_prose`]: the check that keeps a model's nonsense ("Next: 1.5.2.1.0",
//! a timestamp, template braces, the prompt's marker) off the screen.

use std::sync::LazyLock;

use regex::Regex;

use crate::grade::Verdict;

/// The one word for an answer with no score: not graded yet, or grading failed. Either
/// way `grill regrade --pending` grades it, so the user needs one word, not three.
pub const UNGRADED: &str = "ungraded";

/// What marks a verdict shown while the model is still writing: the whole reply's checks
/// may change it, and the grade screen after it is the word.
pub const PROVISIONAL: &str = "(provisional)";

/// A verdict's symbol: ✓ met, ~ partial, ✗ missed.
pub fn symbol(v: Verdict) -> &'static str {
    match v {
        Verdict::Met => "✓",
        Verdict::Partial => "~",
        Verdict::Missed => "✗",
    }
}

/// A verdict as shown: its symbol and its word, "✓ met".
pub fn mark(v: Verdict) -> String {
    format!("{} {v}", symbol(v))
}

/// Where a score falls, which decides its colour everywhere.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Band {
    /// 70 and above.
    High,
    /// 40 to 69.
    Middle,
    /// Below 40.
    Low,
}

impl Band {
    /// The band of a 0-100 score.
    pub fn of(score: u8) -> Band {
        match score {
            70.. => Band::High,
            40..70 => Band::Middle,
            _ => Band::Low,
        }
    }

    /// The band's name, also its CSS class in the HTML export.
    pub fn name(self) -> &'static str {
        match self {
            Band::High => "high",
            Band::Middle => "middle",
            Band::Low => "low",
        }
    }
}

/// A score as shown: "72/100".
pub fn score(score: u8) -> String {
    format!("{score}/100")
}

/// Why help before an answer held its review rating down, or `None` without help:
/// "reference shown before answering", "hard at most after 2 hints".
pub fn held_down(hints: usize, reference_shown: bool) -> Option<String> {
    match (reference_shown, hints) {
        (true, _) => Some("reference shown before answering".to_string()),
        (false, 0) => None,
        (false, 1) => Some("hard at most after 1 hint".to_string()),
        (false, n) => Some(format!("hard at most after {n} hints")),
    }
}

/// An answer's review rating with why help held it down: "Rated again for review:
/// reference shown before answering".
pub fn rated_for_help(rating: &str, why: &str) -> String {
    format!("Rated {rating} for review: {why}")
}

/// The model's prompt marks the answer with a random 16-hex-digit marker; a reply that
/// echoes it is repeating the prompt, not advising.
static MARKER: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"(?i)\b[0-9a-f]{16}\b").expect("a valid pattern"));

/// A date or a time of day: "2026-01-31", "12:04", "12:04:59".
static TIMESTAMP: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\b\d{4}-\d{2}-\d{2}\b|\b\d{1,2}:\d{2}(:\d{2})?\b").expect("a valid pattern"));

/// Whether `text` reads as a sentence for a person: at least three words of letters,
/// letters making up most of it, and none of the shapes model replies go wrong in
/// (template braces, the prompt's marker, a timestamp). Pure, so it is tested on the
/// replies seen in the wild.
pub fn is_sensible_prose(text: &str) -> bool {
    let text = text.trim();
    if text.contains("{{") || text.contains("}}") || text.contains("{%") {
        return false;
    }
    if MARKER.is_match(text) || TIMESTAMP.is_match(text) {
        return false;
    }
    let words = text.split_whitespace().filter(|w| w.chars().filter(|c| c.is_alphabetic()).count() >= 2).count();
    let visible: Vec<char> = text.chars().filter(|c| !c.is_whitespace()).collect();
    let letters = visible.iter().filter(|c| c.is_alphabetic()).count();
    words >= 3 && letters * 10 >= visible.len() * 6
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nonsense_seen_in_the_wild_is_not_prose() {
        for bad in [
            "1.5.2.1.0",
            "2026-01-31T12:04:59+01:00",
            "12:04",
            "}} {",
            "{{answer}}",
            "see 3f9a0c1d2b4e5f60 above",
            "",
            "   ",
            "ok",
            "!!! ??? ...",
            "a1 b2 c3 d4 e5 f6 g7",
        ] {
            assert!(!is_sensible_prose(bad), "{bad:?} passed");
        }
    }

    #[test]
    fn ordinary_advice_is_prose() {
        for good in [
            "Read about additive mixing.",
            "Study how the GIL is released around blocking I/O, then explain it in your own words.",
            "Explain why `asyncio.gather` runs coroutines concurrently, not in parallel.",
            "Practise PEP 8 naming on a small module.",
            "Compare list.sort() with sorted().",
        ] {
            assert!(is_sensible_prose(good), "{good:?} failed");
        }
    }

    #[test]
    fn bands_and_marks() {
        assert_eq!(Band::of(70), Band::High);
        assert_eq!(Band::of(69), Band::Middle);
        assert_eq!(Band::of(40), Band::Middle);
        assert_eq!(Band::of(39), Band::Low);
        assert_eq!(mark(Verdict::Partial), "~ partial");
        assert_eq!(score(72), "72/100");
        assert_eq!(held_down(0, false), None);
        assert_eq!(held_down(2, true).as_deref(), Some("reference shown before answering"));
        assert_eq!(held_down(1, false).as_deref(), Some("hard at most after 1 hint"));
        assert_eq!(
            rated_for_help("hard", "hard at most after 2 hints"),
            "Rated hard for review: hard at most after 2 hints"
        );
    }
}
