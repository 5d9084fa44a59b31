//! Text from outside grill passes here before it is shown or stored. A server's reply or
//! error, a bank file, a transcript: any of them may carry the API key back (some proxies
//! echo the request), terminal escape sequences (which can clear the screen, retitle the
//! window or rewrite what the user sees) or megabytes of noise. One set of rules, applied
//! at the edges:
//! - [`redact`]: the configured key, `Bearer <token>` and anything key-shaped become
//!   `[redacted]`;
//! - [`controls`]: control characters go, except newline and tab (and bidirectional
//!   overrides, which reorder what the eye reads);
//! - [`cap`]: at most so many bytes, cut on a character boundary, saying how much was cut;
//! - [`json_escapes`]: `\uXXXX` escapes decoded, so that a key or an escape sequence
//!   spelt in them is seen by the other rules (JSON stays JSON);
//! - [`server_text`]: all of these, for anything a server sent;
//! - [`url`]: a URL without its `user:password@`.

use std::borrow::Cow;
use std::sync::{LazyLock, RwLock};

use regex::Regex;

/// What a redacted secret is replaced with.
pub const REDACTED: &str = "[redacted]";

/// Shorter secrets are not redacted by value: replacing every "abc" in a text would
/// mangle it, and such a key is not a secret worth the name. Key-shaped tokens are still
/// caught by pattern.
const MIN_SECRET_LEN: usize = 6;

static SECRETS: RwLock<Vec<String>> = RwLock::new(Vec::new());

/// `Bearer <token>`, OpenAI-style `sk-`/`pk-`/`rk-` keys (and `sk-proj-...`), JWTs, and
/// long tokens mixing letters and digits, which is what keys, not words, look like.
static KEY_SHAPED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"(?i:\bbearer\s+)[^\s'\x22,;]+",
        r"|\b(?:sk|pk|rk)-[A-Za-z0-9_\-]{12,}",
        r"|\beyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]*",
        r"|(?P<long>\b[A-Za-z0-9_\-]{32,}\b)",
    ))
    .expect("the key pattern compiles")
});

/// Registers a secret (the configured API key) so that [`redact`] removes it wherever it
/// appears, whichever command prints or stores the text.
pub fn secret(value: &str) {
    let value = value.trim();
    if value.len() < MIN_SECRET_LEN {
        return;
    }
    if let Ok(mut secrets) = SECRETS.write()
        && !secrets.iter().any(|s| s == value)
    {
        secrets.push(value.to_string());
    }
}

/// `text` with every registered secret and key-shaped token replaced by [`REDACTED`].
pub fn redact(text: &str) -> Cow<'_, str> {
    let mut out = Cow::Borrowed(text);
    if let Ok(secrets) = SECRETS.read() {
        for s in secrets.iter() {
            if out.contains(s.as_str()) {
                out = Cow::Owned(out.replace(s.as_str(), REDACTED));
            }
        }
    }
    if KEY_SHAPED.is_match(&out) {
        let replaced = KEY_SHAPED.replace_all(&out, |caps: &regex::Captures<'_>| {
            let m = &caps[0];
            if caps.name("long").is_some() && !is_key_like(m) {
                // A long identifier or a run of one kind of character, not a key.
                m.to_string()
            } else if m.to_ascii_lowercase().starts_with("bearer") {
                format!("Bearer {REDACTED}")
            } else {
                REDACTED.to_string()
            }
        });
        out = Cow::Owned(replaced.into_owned());
    }
    out
}

/// A long token is key-like when it mixes letters and digits.
fn is_key_like(token: &str) -> bool {
    token.bytes().any(|b| b.is_ascii_digit()) && token.bytes().any(|b| b.is_ascii_alphabetic())
}

/// Whether `c` must not reach a terminal: control characters other than newline and tab,
/// and the bidirectional overrides and isolates.
pub fn is_forbidden(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t') || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// The first forbidden character of `text` and its byte offset, for messages that name
/// where a file is at fault.
pub fn first_forbidden(text: &str) -> Option<(usize, char)> {
    text.char_indices().find(|&(_, c)| is_forbidden(c))
}

/// `text` without forbidden characters; `\r\n` becomes `\n`.
pub fn controls(text: &str) -> Cow<'_, str> {
    if first_forbidden(text).is_none() {
        return Cow::Borrowed(text);
    }
    Cow::Owned(text.replace("\r\n", "\n").chars().filter(|&c| !is_forbidden(c)).collect())
}

/// At most `max` bytes of `text`, cut on a character boundary, with a note of how many
/// bytes were cut.
pub fn cap(text: &str, max: usize) -> Cow<'_, str> {
    if text.len() <= max {
        return Cow::Borrowed(text);
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    Cow::Owned(format!("{}… [{} more bytes cut]", &text[..end], text.len() - end))
}

/// `text` with its JSON `\uXXXX` escapes of ordinary characters decoded and those of
/// forbidden characters dropped, so that a key spelt `\u0073\u006b...` is redacted and
/// `\u001b[2J` never becomes an escape sequence downstream. Escapes of `"`, `\`, newline,
/// tab and surrogates stay, and an escaped backslash is respected, so a JSON text stays
/// the same JSON.
pub fn json_escapes(text: &str) -> Cow<'_, str> {
    if !text.contains("\\u") {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find('\\') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        if let Some(hex) = after.strip_prefix('u').and_then(|h| h.get(..4))
            && let Ok(code) = u32::from_str_radix(hex, 16)
            && let Some(c) = char::from_u32(code)
            && !matches!(c, '"' | '\\' | '\n' | '\t')
        {
            if !is_forbidden(c) {
                out.push(c);
            }
            rest = &after[5..];
            continue;
        }
        // Any other escape (an escaped backslash included) is kept whole.
        let len = after.chars().next().map_or(0, char::len_utf8);
        out.push('\\');
        out.push_str(&after[..len]);
        rest = &after[len..];
    }
    out.push_str(rest);
    Cow::Owned(out)
}

/// Server text made safe to show and store: redacted, without control characters (raw or
/// as JSON escapes), and at most `max` bytes.
pub fn server_text(text: &str, max: usize) -> String {
    let decoded = json_escapes(text);
    let clean = controls(&decoded);
    let clean = redact(&clean);
    cap(&clean, max).into_owned()
}

/// A URL for display: without its `user:password@`, which may hold a key.
pub fn url(raw: &str) -> String {
    match reqwest::Url::parse(raw) {
        Ok(mut u) if !u.username().is_empty() || u.password().is_some() => {
            let _ = u.set_username("");
            let _ = u.set_password(None);
            u.to_string().trim_end_matches('/').to_string() + if raw.ends_with('/') { "/" } else { "" }
        }
        Ok(_) => raw.to_string(),
        // Not a URL: still never show what looks like credentials before an `@`.
        Err(_) => match raw.split_once("://").and_then(|(s, rest)| rest.split_once('@').map(|(_, h)| (s, h))) {
            Some((scheme, host)) => format!("{scheme}://{host}"),
            None => raw.to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registered_secrets_and_key_shapes_are_redacted() {
        secret("k3y-registered-in-test");
        assert_eq!(redact("echo: k3y-registered-in-test!"), "echo: [redacted]!");
        assert_eq!(redact("Authorization: Bearer abc.def-123"), "Authorization: Bearer [redacted]");
        assert_eq!(redact("bad key sk-proj-AbCdEf0123456789xyz given"), "bad key [redacted] given");
        assert_eq!(redact("token 0123456789abcdef0123456789abcdefXYZ end"), "token [redacted] end");
        // Ordinary prose, ids and long words stay.
        let prose = "the model `qwen2.5:7b` does not exist; see concurrent.futures.ProcessPoolExecutor";
        assert_eq!(redact(prose), prose);
        assert_eq!(redact("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"), "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
        assert_eq!(redact("a-very-long-kebab-case-identifier-name"), "a-very-long-kebab-case-identifier-name");
        assert_eq!(redact("sk-abcdefghijklmnopqrstuvwxyzabcdefgh"), "[redacted]");
        // Too short to redact by value.
        secret("abc");
        assert_eq!(redact("abc"), "abc");
    }

    #[test]
    fn control_characters_go_but_newlines_and_tabs_stay() {
        assert_eq!(controls("a\x1b]0;pwned\x07b\x1b[2Jc\r\nd\te\u{9b}f"), "a]0;pwnedb[2Jc\nd\tef");
        assert_eq!(controls("left\u{202E}right"), "leftright");
        assert!(matches!(controls("plain\ntext"), Cow::Borrowed(_)));
        assert_eq!(first_forbidden("ok\x00"), Some((2, '\0')));
    }

    #[test]
    fn caps_cut_on_a_character_boundary_and_say_so() {
        assert_eq!(cap("short", 10), "short");
        assert_eq!(cap("ééé", 3), "é… [4 more bytes cut]");
        assert_eq!(server_text("x\x1b[31m sk-abcdefghijklmnop1234", 100), "x[31m [redacted]");
    }

    #[test]
    fn json_escapes_are_decoded_so_keys_and_controls_in_them_are_caught() {
        secret("escaped-secret-for-test");
        let spelt: String = "escaped-secret-for-test".chars().map(|c| format!("\\u{:04x}", c as u32)).collect();
        assert_eq!(server_text(&format!("{{\"a\":\"{spelt}\"}}"), 100), "{\"a\":\"[redacted]\"}");
        assert_eq!(json_escapes(r#"{"a":"x\u001b[2J\u009by"}"#), r#"{"a":"x[2Jy"}"#);
        // What would change the JSON stays escaped; an escaped backslash is not an escape.
        assert_eq!(json_escapes(r#""\u0022 \u005c \u000a \\u0041 \u00e9""#), r#""\u0022 \u005c \u000a \\u0041 é""#);
        assert_eq!(json_escapes("cut \\u00"), "cut \\u00");
    }

    #[test]
    fn urls_lose_their_credentials() {
        assert_eq!(url("http://user:sk-secret@host:8080/v1"), "http://host:8080/v1");
        assert_eq!(url("http://host:8080/v1"), "http://host:8080/v1");
        assert_eq!(url("nonsense://u:p@h"), "nonsense://h");
    }
}
