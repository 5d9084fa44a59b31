//! Text as the offline grader sees it: words folded to a canonical form (compound
//! identifiers also read as their words), grouped into segments (sentences, list
//! fragments, lines of code and their comments) and clauses, and cues matched against
//! them.
//! It stands apart from both of its users, the bank (which checks that every cue parses)
//! and the offline grader (which matches them), so neither imports the other.
//!
//! The folding rules are documented for bank authors in `docs/bank-format.md` ("Cues");
//! keep the two in step.

/// Words that signal a negation of what follows in the same clause.
const NEGATORS: &[&str] = &["not", "no", "never", "neither", "nor", "cannot"];
/// Words after which a new clause starts, so a negation before them does not reach past.
const CLAUSE_BREAKERS: &[&str] = &["but", "however", "although", "though", "whereas", "yet", "instead", "unlike"];
/// How many words before a cue a negation may stand and still negate it.
const NEGATION_WINDOW: usize = 3;

/// Function words: their share tells a sentence from a bare list of terms.
const FUNCTION_WORDS: &[&str] = &[
    "a", "an", "the", "is", "are", "was", "were", "be", "been", "being", "it", "its", "this", "that", "these", "those",
    "to", "of", "in", "on", "for", "with", "by", "because", "so", "when", "which", "who", "what", "if", "then", "than",
    "and", "or", "but", "as", "at", "from", "can", "will", "would", "should", "could", "may", "might", "must", "does",
    "do", "did", "has", "have", "had", "not", "no", "only", "each", "every", "all", "you", "we", "they", "i", "he",
    "she", "there", "their", "into", "while", "until", "before", "after", "also", "more", "less", "same", "how", "why",
    "where", "other", "any", "some", "one", "about", "over", "under", "between", "through", "up", "out", "own", "just",
    "even", "still", "get", "gets", "make", "makes", "means", "mean", "use", "uses", "used", "need", "needs", "like",
    "my", "your", "our", "them", "his", "her", "me", "us",
];

/// Words too common in any answer to show what it is about, beyond the function words.
const FILLER_WORDS: &[&str] = &[
    "way",
    "thing",
    "something",
    "lot",
    "very",
    "much",
    "many",
    "really",
    "actually",
    "often",
    "usually",
    "always",
    "never",
    "whole",
    "new",
    "first",
    "here",
    "now",
    "then",
    "both",
    "either",
    "such",
    "e",
    "g",
    "etc",
    "s",
    "t",
];

/// The content words of `tokens` reduced to a rough root ("released", "releases" and
/// "releasing" all become "releas"), for comparing what a sentence says with what a key
/// point says. Coarser than cue folding, which bank authors rely on to be exact. The
/// words inside a compound identifier count too: `run_in_executor` says "executor" as
/// much as a sentence that spells it out.
pub fn content_roots(tokens: &[Token]) -> Vec<String> {
    let words =
        tokens.iter().flat_map(|t| std::iter::once((&t.stem, &t.raw)).chain(t.parts.iter().map(|(s, r)| (s, r))));
    let mut out: Vec<String> = words
        .filter(|(_, raw)| {
            raw.len() > 1 && raw.chars().all(|c| c.is_alphanumeric()) && !raw.chars().all(|c| c.is_ascii_digit())
        })
        .filter(|(_, raw)| !FUNCTION_WORDS.contains(&raw.as_str()) && !FILLER_WORDS.contains(&raw.as_str()))
        .map(|(stem, _)| root(stem))
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// Whether the token at `i` is a negation ("not only X" affirms X).
fn negates(tokens: &[Token], i: usize) -> bool {
    NEGATORS.contains(&tokens[i].stem.as_str())
        && !(tokens[i].stem == "not" && tokens.get(i + 1).is_some_and(|n| n.stem == "only"))
}

/// Strips one common suffix, keeping at least four letters.
fn root(stem: &str) -> String {
    for suffix in ["ation", "ing", "ed", "er", "ly", "es", "e"] {
        if let Some(base) = stem.strip_suffix(suffix)
            && base.len() >= 4
        {
            return base.to_string();
        }
    }
    stem.to_string()
}

/// A word of the text, folded for matching.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// Lowercase, with leading and trailing underscores removed, plural folded.
    pub stem: String,
    /// Lowercase, underscores removed, not folded: what a prefix cue is compared with.
    pub raw: String,
    /// Which clause of its segment the token is in.
    pub clause: usize,
    /// The words inside a compound identifier (`ProcessPoolExecutor`: process, pool,
    /// executor), folded like tokens as (stem, raw); empty for a plain word.
    pub parts: Vec<(String, String)>,
}

/// What kind of text a segment is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SegmentKind {
    /// A sentence: enough words, with the function words of real language.
    Prose,
    /// Code: a fenced block, an indented block or a line that reads as code.
    Code,
    /// A bare term or list of terms.
    Fragment,
}

/// A sentence, list item, code block or fragment of an answer.
#[derive(Debug, Clone)]
pub struct Segment {
    /// The original text, trimmed.
    pub text: String,
    /// Its words.
    pub tokens: Vec<Token>,
    /// What it reads as.
    pub kind: SegmentKind,
    /// Code that does something (a call, an assignment, a definition, a `with`, a test)
    /// rather than naming something (an import, a bare name, printed output).
    pub statement: bool,
}

/// One word of a cue.
#[derive(Debug, Clone, PartialEq, Eq)]
enum CueWord {
    /// Matches a token with the same folded form.
    Exact(String),
    /// Matches any token that starts with this (`serializ*`).
    Prefix(String),
}

/// A compiled cue: a phrase matched word by word.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cue {
    words: Vec<CueWord>,
}

impl Cue {
    /// Compiles a cue as written in the bank; `None` when it has no word to match.
    pub fn parse(cue: &str) -> Option<Cue> {
        let pieces = scan(cue);
        let mut words = Vec::new();
        let mut i = 0;
        while i < pieces.len() {
            let p = &pieces[i];
            let star_follows = pieces.get(i + 1).is_some_and(|n| n.text == "*" && n.start == p.end);
            if p.is_word && star_follows {
                words.push(CueWord::Prefix(p.raw()));
                i += 2;
                continue;
            }
            words.extend(p.folded().into_iter().map(|(stem, _)| CueWord::Exact(stem)));
            i += 1;
        }
        (!words.is_empty()).then_some(Cue { words })
    }

    /// Every position in `tokens` where the cue starts: as a run of tokens, or as a run
    /// of the words inside one compound identifier (then it spans that one token).
    pub fn find_in(&self, tokens: &[Token]) -> Vec<usize> {
        (0..tokens.len())
            .filter(|&start| {
                let run = tokens.len() - start >= self.words.len()
                    && self.words.iter().zip(&tokens[start..]).all(|(w, t)| w.matches(&t.stem, &t.raw));
                run || self.inside(&tokens[start])
            })
            .collect()
    }

    /// Whether the cue's words occur in a row among the words inside a compound
    /// identifier, short of all of them: `process pool` in `ProcessPoolExecutor`. (All
    /// of them is the identifier itself, which matches as a token.)
    fn inside(&self, t: &Token) -> bool {
        let n = self.words.len();
        n < t.parts.len()
            && t.parts.windows(n).any(|win| self.words.iter().zip(win).all(|(w, (stem, raw))| w.matches(stem, raw)))
    }

    /// How many tokens a match starting at `start` spans: one when it is inside an
    /// identifier rather than a run of tokens.
    pub fn span_at(&self, tokens: &[Token], start: usize) -> usize {
        let run = tokens.len() - start >= self.words.len()
            && self.words.iter().zip(&tokens[start..]).all(|(w, t)| w.matches(&t.stem, &t.raw));
        if run { self.words.len() } else { 1 }
    }

    /// Every place where the cue occurs with up to `gap` other words between two of its
    /// words ("catch CancelledError, log it and continue" for `catch cancellederror and
    /// continue`), none of them a negation, and its words matched by their root ("never
    /// needed" for `never need`): (start, words spanned). With no gap, the same places as
    /// [`Cue::find_in`].
    pub fn find_spread(&self, tokens: &[Token], gap: usize) -> Vec<(usize, usize)> {
        let matches = |w: &CueWord, t: &Token| match w {
            CueWord::Exact(s) => &t.stem == s || (gap > 0 && root(&t.stem) == root(s)),
            CueWord::Prefix(p) => t.raw.starts_with(p.as_str()),
        };
        let mut out = Vec::new();
        for start in 0..tokens.len() {
            if !matches(&self.words[0], &tokens[start]) {
                if self.inside(&tokens[start]) {
                    out.push((start, 1));
                }
                continue;
            }
            let mut at = start;
            let found = self.words[1..].iter().all(|w| {
                let next = (at + 1..tokens.len().min(at + 2 + gap))
                    .take_while(|&i| matches(w, &tokens[i]) || !negates(tokens, i))
                    .find(|&i| matches(w, &tokens[i]));
                next.map(|i| at = i).is_some()
            });
            if found {
                out.push((start, at + 1 - start));
            }
        }
        out
    }
}

/// Whether the word at `at` is negated by a negation shortly before it in its clause.
pub fn is_negated(tokens: &[Token], at: usize) -> bool {
    let clause = tokens[at].clause;
    let from = at.saturating_sub(NEGATION_WINDOW);
    (from..at).any(|i| tokens[i].clause == clause && negates(tokens, i))
}

impl CueWord {
    fn matches(&self, stem: &str, raw: &str) -> bool {
        match self {
            CueWord::Exact(s) => stem == s,
            CueWord::Prefix(p) => raw.starts_with(p.as_str()),
        }
    }
}

/// A raw lexical piece: a run of word characters or of operator characters.
#[derive(Debug)]
struct Piece {
    text: String,
    /// The text as written, case kept: where a CamelCase identifier splits.
    orig: String,
    start: usize,
    end: usize,
    is_word: bool,
}

const OPERATOR_CHARS: &str = "=:*@<>!+-/%&|^~";

fn scan(s: &str) -> Vec<Piece> {
    let mut out: Vec<Piece> = Vec::new();
    let mut cur: Option<Piece> = None;
    let mut chars = s.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let class = if c.is_alphanumeric() || c == '_' {
            Some(true)
        } else if OPERATOR_CHARS.contains(c) {
            Some(false)
        } else {
            None
        };
        // "doesn't" and "doesn’t": keep the apostrophe inside the word so the contraction
        // can be recognised as a negation.
        let apostrophe_in_word = (c == '\'' || c == '’')
            && cur.as_ref().is_some_and(|p| p.is_word)
            && chars.peek().is_some_and(|(_, n)| n.is_alphanumeric());
        match (class, cur.as_mut()) {
            _ if apostrophe_in_word => {
                let p = cur.as_mut().expect("checked above");
                p.text.push('\'');
                p.orig.push('\'');
                p.end = i + c.len_utf8();
            }
            (Some(w), Some(p)) if p.is_word == w => {
                p.text.extend(c.to_lowercase());
                p.orig.push(c);
                p.end = i + c.len_utf8();
            }
            (Some(w), _) => {
                out.extend(cur.take());
                cur = Some(Piece {
                    text: c.to_lowercase().collect(),
                    orig: c.to_string(),
                    start: i,
                    end: i + c.len_utf8(),
                    is_word: w,
                });
            }
            (None, _) => out.extend(cur.take()),
        }
    }
    out.extend(cur);
    out
}

impl Piece {
    fn raw(&self) -> String {
        self.text.trim_matches('_').to_string()
    }

    /// The folded words of this piece: (stem, raw). Contractions become their negation;
    /// a run of hyphens joins words and disappears.
    fn folded(&self) -> Vec<(String, String)> {
        if !self.is_word {
            return if self.text.chars().all(|c| c == '-') {
                Vec::new()
            } else {
                vec![(self.text.clone(), self.text.clone())]
            };
        }
        let text = self.text.as_str();
        if let Some(base) = text.strip_suffix("n't") {
            let mut v = Vec::new();
            let base = base.trim_matches('_');
            if !base.is_empty() && base != "ca" && base != "wo" {
                v.push((stem(base), base.to_string()));
            }
            v.push(("not".to_string(), "not".to_string()));
            return v;
        }
        let text = text.split('\'').next().unwrap_or(text);
        let raw = text.trim_matches('_');
        if raw.is_empty() {
            return Vec::new();
        }
        if raw == "cannot" {
            return vec![("can".into(), "can".into()), ("not".into(), "not".into())];
        }
        const BARE_CONTRACTIONS: &[&str] = &[
            "isnt", "doesnt", "dont", "cant", "wont", "arent", "wasnt", "werent", "shouldnt", "didnt", "couldnt",
            "wouldnt", "hasnt", "havent",
        ];
        if BARE_CONTRACTIONS.contains(&raw) {
            return vec![("not".into(), "not".into())];
        }
        vec![(stem(raw), raw.to_string())]
    }
}

/// Folds simple English plurals, the same way for text and cues.
fn stem(w: &str) -> String {
    let n = w.len();
    if n > 4 && w.ends_with("ies") {
        format!("{}y", &w[..n - 3])
    } else if n > 4 && (w.ends_with("sses") || w.ends_with("xes") || w.ends_with("ches") || w.ends_with("shes")) {
        w[..n - 2].to_string()
    } else if n > 3 && w.ends_with('s') && !w.ends_with("ss") && !w.ends_with("us") && !w.ends_with("is") {
        w[..n - 1].to_string()
    } else {
        w.to_string()
    }
}

/// The words of `s`, clause numbers included.
pub fn tokenize(s: &str) -> Vec<Token> {
    let mut tokens = Vec::new();
    let mut clause = 0;
    let mut last_end = 0;
    for p in scan(s) {
        // Punctuation between words that ends a clause.
        if s[last_end..p.start].contains([',', ';', ':', '(', ')']) {
            clause += 1;
        }
        last_end = p.end;
        let folded = p.folded();
        let parts: Vec<(String, String)> = if folded.len() == 1 && p.is_word {
            identifier_parts(&p.orig).into_iter().map(|w| (stem(&w), w)).collect()
        } else {
            Vec::new()
        };
        for (stem, raw) in folded {
            if CLAUSE_BREAKERS.contains(&stem.as_str()) {
                clause += 1;
            }
            tokens.push(Token { stem, raw, clause, parts: parts.clone() });
        }
    }
    tokens
}

/// The words of a compound identifier, lowercase: `ProcessPoolExecutor` gives process,
/// pool, executor; `call_soon_threadsafe` gives call, soon, threadsafe; `HTTPServer`
/// gives http, server. Nothing for a plain word. Code names things by joining words, so
/// a cue written as words should find them inside a name.
pub fn identifier_parts(ident: &str) -> Vec<String> {
    let ident = ident.trim_matches('_');
    if !ident.starts_with(char::is_alphabetic) {
        return Vec::new();
    }
    let mut parts: Vec<String> = Vec::new();
    for chunk in ident.split('_').filter(|c| !c.is_empty()) {
        let chars: Vec<char> = chunk.chars().collect();
        let mut cur = String::new();
        for (i, &c) in chars.iter().enumerate() {
            let prev = i.checked_sub(1).map(|j| chars[j]);
            let next = chars.get(i + 1);
            // A capital starts a word after a small letter or digit ("poolExecutor"), or
            // ends a run of capitals when a small letter follows ("HTTPServer").
            let boundary = c.is_uppercase()
                && prev.is_some_and(|p| {
                    p.is_lowercase()
                        || p.is_ascii_digit()
                        || (p.is_uppercase() && next.is_some_and(|n| n.is_lowercase()))
                });
            if boundary && !cur.is_empty() {
                parts.push(std::mem::take(&mut cur));
            }
            cur.extend(c.to_lowercase());
        }
        if !cur.is_empty() {
            parts.push(cur);
        }
    }
    if parts.len() < 2 { Vec::new() } else { parts }
}

fn is_code_line(line: &str) -> bool {
    let t = line.trim_start();
    if t.starts_with(">>>") || t.starts_with("...") {
        return true;
    }
    let first = t.split(|c: char| !c.is_alphanumeric() && c != '_').next().unwrap_or("");
    let keyword = matches!(
        first,
        "def"
            | "class"
            | "import"
            | "from"
            | "return"
            | "async"
            | "await"
            | "yield"
            | "with"
            | "for"
            | "while"
            | "if"
            | "elif"
            | "else"
            | "try"
            | "except"
            | "finally"
            | "raise"
            | "print"
            | "lambda"
            | "assert"
    );
    let words = t.split_whitespace().count();
    // A list of terms that happens to start with a keyword ("yield, await, sleep(0), ...")
    // is not code: code has few commas per line and ends a block or assigns or calls.
    let commas = t.matches(", ").count();
    let codeish = (t.ends_with(':') || t.contains(" = ") || t.contains("==") || (t.contains('(') && t.ends_with(')')))
        && commas <= 3;
    ((keyword && (codeish || words <= 6)) || (line.starts_with("    ") && codeish))
        || is_decorator(t)
        || t.starts_with('#')
}

/// `@name`, `@mod.name` or `@name(args)` alone on a line: a decorator, not a list that
/// happens to start with `@`.
fn is_decorator(t: &str) -> bool {
    let Some(rest) = t.strip_prefix('@') else { return false };
    let name_end = rest.find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '.')).unwrap_or(rest.len());
    let tail = rest[name_end..].trim();
    name_end > 0 && (tail.is_empty() || (tail.starts_with('(') && tail.ends_with(')')))
}

fn is_bullet(line: &str) -> bool {
    let t = line.trim_start();
    t.starts_with("- ") || t.starts_with("* ") || t.starts_with("• ") || {
        let digits = t.chars().take_while(char::is_ascii_digit).count();
        digits > 0 && (t[digits..].starts_with(". ") || t[digits..].starts_with(") "))
    }
}

fn classify_prose(tokens: &[Token]) -> SegmentKind {
    let words = tokens.iter().filter(|t| t.stem.starts_with(char::is_alphanumeric)).count();
    let function = tokens.iter().filter(|t| FUNCTION_WORDS.contains(&t.raw.as_str())).count();
    if words >= 5 && function >= 2 && function * 4 >= words { SegmentKind::Prose } else { SegmentKind::Fragment }
}

/// Splits an answer into sentences, list items, code blocks and fragments.
pub fn segments(answer: &str) -> Vec<Segment> {
    let mut out = Vec::new();
    let mut prose = String::new();
    let mut code = String::new();
    let mut in_fence = false;

    let flush_prose = |prose: &mut String, out: &mut Vec<Segment>| {
        for sentence in split_sentences(prose) {
            let tokens = tokenize(&sentence);
            if !tokens.is_empty() {
                let kind = classify_prose(&tokens);
                out.push(Segment { text: sentence, tokens, kind, statement: false });
            }
        }
        prose.clear();
    };
    let flush_code = |code: &mut String, out: &mut Vec<Segment>| {
        out.extend(code_segments(code));
        code.clear();
    };

    for line in answer.lines() {
        if line.trim_start().starts_with("```") {
            if in_fence {
                flush_code(&mut code, &mut out);
            } else {
                flush_prose(&mut prose, &mut out);
            }
            in_fence = !in_fence;
            continue;
        }
        if in_fence || is_code_line(line) {
            if !in_fence {
                flush_prose(&mut prose, &mut out);
            }
            code.push_str(line);
            code.push('\n');
            continue;
        }
        if !code.is_empty() {
            flush_code(&mut code, &mut out);
        }
        if line.trim().is_empty() || is_bullet(line) {
            flush_prose(&mut prose, &mut out);
        }
        prose.push_str(line.trim());
        prose.push(' ');
    }
    flush_code(&mut code, &mut out);
    flush_prose(&mut prose, &mut out);
    out
}

/// A block of code as segments: one per line of code, and one per comment. A comment is
/// the writer explaining the line beside it in words, so it reads as a sentence when it
/// has a few words and one function word (comments are terse); a shorter one labels the
/// code and counts with it.
fn code_segments(code: &str) -> Vec<Segment> {
    let mut out = Vec::new();
    for line in code.lines() {
        let (body, comment) = split_comment(line);
        let tokens = tokenize(body);
        if !tokens.is_empty() {
            out.push(Segment {
                text: body.trim().to_string(),
                tokens,
                kind: SegmentKind::Code,
                statement: is_statement(body),
            });
        }
        let Some(comment) = comment else { continue };
        let text = comment.trim_start_matches('#').trim();
        let tokens = tokenize(text);
        if tokens.is_empty() {
            continue;
        }
        let words = tokens.iter().filter(|t| t.stem.starts_with(char::is_alphanumeric)).count();
        let function = tokens.iter().filter(|t| FUNCTION_WORDS.contains(&t.raw.as_str())).count();
        let kind = if words >= 3 && function >= 1 { SegmentKind::Prose } else { SegmentKind::Code };
        out.push(Segment { text: text.to_string(), tokens, kind, statement: false });
    }
    out
}

/// A line of code and its `#` comment, if any: the first `#` outside a string literal.
fn split_comment(line: &str) -> (&str, Option<&str>) {
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for (i, c) in line.char_indices() {
        match quote {
            Some(_) if escaped => escaped = false,
            Some(_) if c == '\\' => escaped = true,
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '"' || c == '\'' => quote = Some(c),
            None if c == '#' => return (&line[..i], Some(&line[i..])),
            None => {}
        }
    }
    (line, None)
}

/// Whether a line of code does something: defines, assigns, calls, tests, enters a
/// context, awaits, returns or raises. An import, a bare name or a line of printed output
/// only names things, as a list of terms does.
fn is_statement(line: &str) -> bool {
    let t = line.trim();
    let t = t.strip_prefix(">>>").or_else(|| t.strip_prefix("...")).unwrap_or(t).trim();
    let first = t.split(|c: char| !c.is_alphanumeric() && c != '_').next().unwrap_or("");
    if matches!(first, "import" | "from") {
        return false;
    }
    if matches!(
        first,
        "def"
            | "class"
            | "async"
            | "await"
            | "with"
            | "return"
            | "raise"
            | "yield"
            | "if"
            | "elif"
            | "while"
            | "for"
            | "assert"
            | "except"
            | "lambda"
            | "global"
            | "nonlocal"
            | "del"
    ) || is_decorator(t)
    {
        return true;
    }
    if only_bare_calls(t) {
        return false;
    }
    let chars: Vec<char> = t.chars().collect();
    let assigns = chars.iter().enumerate().any(|(i, &c)| {
        c == '=' && chars.get(i + 1) != Some(&'=') && !i.checked_sub(1).is_some_and(|j| "=<>!".contains(chars[j]))
    });
    let calls = chars.windows(2).any(|w| (w[0].is_alphanumeric() || w[0] == '_') && w[1] == '(');
    assigns || calls
}

/// Whether a line does nothing but call names with no arguments and keep no result
/// (`GIL(); ProcessPoolExecutor(); Lock()`): nothing goes in and nothing comes out, so
/// such calls name the things called, as a list of terms does, rather than use them.
fn only_bare_calls(t: &str) -> bool {
    t.trim_end_matches(';').split(';').all(|call| {
        let call = call.trim();
        let name = call.strip_suffix("()").unwrap_or("");
        !name.is_empty()
            && name.starts_with(|c: char| c.is_alphabetic() || c == '_')
            && name.chars().all(|c| c.is_alphanumeric() || c == '_' || c == '.')
    })
}

/// Sentence boundaries: `.`, `!` or `?` followed by white space or the end.
fn split_sentences(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut start = 0;
    let bytes = text.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        if matches!(b, b'.' | b'!' | b'?') && bytes.get(i + 1).is_none_or(|n| n.is_ascii_whitespace()) {
            let s = text[start..=i].trim();
            if !s.is_empty() {
                out.push(s.to_string());
            }
            start = i + 1;
        }
    }
    let rest = text[start..].trim();
    if !rest.is_empty() {
        out.push(rest.to_string());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stems(s: &str) -> Vec<String> {
        tokenize(s).into_iter().map(|t| t.stem).collect()
    }

    fn hits(cue: &str, text: &str) -> usize {
        Cue::parse(cue).unwrap().find_in(&tokenize(text)).len()
    }

    #[test]
    fn folding_follows_the_documented_rules() {
        assert_eq!(stems("Thread-safe classes"), ["thread", "safe", "class"]);
        assert_eq!(stems("sys.intern() and __slots__"), ["sys", "intern", "and", "slot"]);
        assert_eq!(stems("it doesn't"), ["it", "doe", "not"]);
        assert_eq!(stems("you can't, cannot"), ["you", "not", "can", "not"]);
        assert_eq!(stems("if (n := len(a)) > 10"), ["if", "n", ":=", "len", "a", ">", "10"]);
    }

    #[test]
    fn cues_match_whole_words_prefixes_and_operators() {
        assert_eq!(hits("lock", "a blocking call"), 0);
        assert_eq!(hits("lock", "take the Lock"), 1);
        assert_eq!(hits("serializ*", "serialization costs"), 1);
        assert_eq!(hits("thread-safe", "it is thread safe"), 1);
        assert_eq!(hits("**kwargs", "def f(**kwargs):"), 1);
        assert_eq!(hits(":=", "while (chunk := f.read()):"), 1);
        assert_eq!(hits("reference count*", "reference counting"), 1);
    }

    #[test]
    fn a_spread_cue_skips_up_to_its_gap_but_no_negation() {
        let spread = |cue: &str, text: &str, gap: usize| Cue::parse(cue).unwrap().find_spread(&tokenize(text), gap);
        let cue = "catch cancellederror and continue";
        assert_eq!(spread(cue, "I catch CancelledError, log it and just continue", 2), [(1, 7)]);
        assert!(spread(cue, "I catch CancelledError, log it and just continue", 1).is_empty());
        assert!(spread(cue, "I catch CancelledError and never continue", 2).is_empty());
        // With a gap, word endings fold as in `content_roots`: a claim is made in any tense.
        assert_eq!(spread("never need locks", "I never needed a lock", 2), [(1, 4)]);
        // No gap: exactly the places `find_in` finds.
        assert_eq!(spread(cue, "catch CancelledError and continue", 0), [(0, 4)]);
        assert!(spread(cue, "catch CancelledError and then continue", 0).is_empty());
    }

    #[test]
    fn negation_reaches_three_words_within_a_clause() {
        let t = tokenize("there is no reference counting");
        let at = Cue::parse("reference count*").unwrap().find_in(&t)[0];
        assert!(is_negated(&t, at));

        let t = tokenize("it doesn't, but reference counting frees it");
        let at = Cue::parse("reference count*").unwrap().find_in(&t)[0];
        assert!(!is_negated(&t, at));

        let t = tokenize("not only reference counting");
        let at = Cue::parse("reference count*").unwrap().find_in(&t)[0];
        assert!(!is_negated(&t, at));
    }

    #[test]
    fn segments_tell_sentences_from_lists_and_code() {
        let segs = segments(
            "The GIL is a mutex that lets only one thread run bytecode at a time.\n\
             GIL, mutex, refcount, multiprocessing, switch interval\n\n\
             ```python\nimport sys\nprint(sys.getswitchinterval())\n```\n",
        );
        let kinds: Vec<SegmentKind> = segs.iter().map(|s| s.kind).collect();
        // A block of code is a segment per line.
        assert_eq!(kinds, [SegmentKind::Prose, SegmentKind::Fragment, SegmentKind::Code, SegmentKind::Code]);
    }

    #[test]
    fn a_term_list_starting_with_a_keyword_or_at_sign_is_not_code() {
        for list in [
            "@property, setter, deleter, getter, descriptor, __get__",
            "yield control, suspend, sleep(0), event loop, await",
        ] {
            assert_eq!(segments(list)[0].kind, SegmentKind::Fragment, "{list}");
        }
        assert_eq!(segments("@functools.cache")[0].kind, SegmentKind::Code);
        assert_eq!(segments("@app.get(\"/items\")")[0].kind, SegmentKind::Code);
    }

    #[test]
    fn content_roots_drop_function_words_and_fold_endings() {
        let roots = |s: &str| content_roots(&tokenize(s));
        assert_eq!(roots("The lock is released"), roots("releasing locks"));
        assert_eq!(roots("it is a lot of the way"), Vec::<String>::new());
        assert_eq!(roots("a cache, caches, caching"), ["cach"]);
        assert_eq!(roots("wait 10 ms"), ["ms", "wait"]);
        assert_eq!(roots("call loop.run_in_executor"), ["call", "executor", "loop", "run"]);
    }

    #[test]
    fn compound_identifiers_match_cues_written_as_words() {
        assert_eq!(identifier_parts("ProcessPoolExecutor"), ["process", "pool", "executor"]);
        assert_eq!(identifier_parts("call_soon_threadsafe"), ["call", "soon", "threadsafe"]);
        assert_eq!(identifier_parts("HTTPServer"), ["http", "server"]);
        assert_eq!(identifier_parts("__set_name__"), ["set", "name"]);
        assert!(identifier_parts("lock").is_empty());
        assert!(identifier_parts("10_000").is_empty());
        assert_eq!(hits("process pool", "with ProcessPoolExecutor() as pool:"), 1);
        assert_eq!(hits("executor", "loop.run_in_executor(None, f)"), 1);
        assert_eq!(hits("threadsafe", "loop.call_soon_threadsafe(cb)"), 1);
        // The identifier itself still matches whole, and a cue running past it still does.
        assert_eq!(hits("processpoolexecutor", "ProcessPoolExecutor()"), 1);
        assert_eq!(hits("catch cancellederror and continue", "catch CancelledError and continue"), 1);
        // All of an identifier's words as a cue is the identifier, not a phrase inside it.
        assert_eq!(hits("pool executor", "PoolExecutor"), 0);
        // A word inside a name matches a whole word only.
        assert_eq!(hits("lock", "BlockingIOError"), 0);
    }

    #[test]
    fn code_is_split_into_lines_and_comments() {
        let segs = segments(
            "```python\n\
             from concurrent.futures import ProcessPoolExecutor\n\
             with ProcessPoolExecutor() as pool:  # runs in a worker process\n\
             \x20   pool.map(f, xs)  # fan out\n\
             URL = \"http://x/#top\"\n\
             ```",
        );
        let seen: Vec<(&str, SegmentKind, bool)> =
            segs.iter().map(|s| (s.text.as_str(), s.kind, s.statement)).collect();
        assert_eq!(
            seen,
            [
                ("from concurrent.futures import ProcessPoolExecutor", SegmentKind::Code, false),
                ("with ProcessPoolExecutor() as pool:", SegmentKind::Code, true),
                // A comment of a few words is a sentence; a shorter one labels its line.
                ("runs in a worker process", SegmentKind::Prose, false),
                ("pool.map(f, xs)", SegmentKind::Code, true),
                ("fan out", SegmentKind::Code, false),
                // A `#` inside a string starts no comment.
                ("URL = \"http://x/#top\"", SegmentKind::Code, true),
            ]
        );
        for (line, statement) in [
            ("if x is None:", true),
            ("counter += 1", true),
            (">>> a == b", false),
            ("True False", false),
            ("print(a is b)", true),
            ("import threading", false),
            ("@functools.wraps(func)", true),
            // Calls with nothing passed and nothing kept only name what they call.
            ("GIL(); ProcessPoolExecutor(); Lock()", false),
            ("asyncio.Lock()", false),
            ("lock = asyncio.Lock()", true),
            ("pool.map(crunch, chunks)", true),
        ] {
            assert_eq!(is_statement(line), statement, "{line}");
        }
    }

    #[test]
    fn a_wrapped_paragraph_is_one_sentence_per_full_stop() {
        let segs = segments("The GIL is released\nwhile a thread waits on I/O. So threads\nhelp for network calls.");
        assert_eq!(segs.len(), 2);
        assert!(segs.iter().all(|s| s.kind == SegmentKind::Prose));
    }
}
