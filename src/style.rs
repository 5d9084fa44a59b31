//! Terminal styling: colour only when writing to a terminal, and never with `NO_COLOR`
//! or `--no-color`.

/// Paints text with ANSI colours, or leaves it plain.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    color: bool,
}

impl Style {
    /// A style that paints when `color` is true.
    pub fn new(color: bool) -> Style {
        Style { color }
    }

    /// Plain text only.
    pub fn plain() -> Style {
        Style { color: false }
    }

    fn paint(&self, code: &str, s: &str) -> String {
        if self.color { format!("\x1b[{code}m{s}\x1b[0m") } else { s.to_string() }
    }

    /// Bold.
    pub fn bold(&self, s: &str) -> String {
        self.paint("1", s)
    }

    /// Dimmed, for secondary text.
    pub fn dim(&self, s: &str) -> String {
        self.paint("2", s)
    }

    /// Green, for what went well.
    pub fn good(&self, s: &str) -> String {
        self.paint("32", s)
    }

    /// Yellow, for what was partial.
    pub fn warn(&self, s: &str) -> String {
        self.paint("33", s)
    }

    /// Red, for what was missed or wrong.
    pub fn bad(&self, s: &str) -> String {
        self.paint("31", s)
    }
}

/// The widest grill wraps text: wider lines are hard to read.
pub const MAX_WIDTH: usize = 88;

/// The narrowest it wraps to, whatever the terminal says: below this an indented verdict
/// has no room left for its text.
pub const MIN_WIDTH: usize = 40;

/// The columns output has room for, between [`MIN_WIDTH`] and [`MAX_WIDTH`]: `COLUMNS`
/// when it is set (so a script or a test can ask for a width), else the terminal's width
/// when standard output is a terminal, else [`MAX_WIDTH`]. Read once per run.
pub fn columns() -> usize {
    static COLUMNS: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *COLUMNS.get_or_init(|| {
        let from_env = std::env::var("COLUMNS").ok().and_then(|c| c.trim().parse::<usize>().ok());
        columns_from(from_env, || terminal_size::terminal_size_of(std::io::stdout()).map(|(w, _)| usize::from(w.0)))
    })
}

/// [`columns`] from its inputs, so the rule is tested without a terminal.
fn columns_from(env: Option<usize>, terminal: impl FnOnce() -> Option<usize>) -> usize {
    env.filter(|&c| c > 0).or_else(terminal).unwrap_or(MAX_WIDTH).clamp(MIN_WIDTH, MAX_WIDTH)
}

/// Wraps `text` to the output's [`columns`], with `indent` before every line.
pub fn wrap(text: &str, indent: &str) -> String {
    wrap_to(text, columns(), indent)
}

/// Wraps `text` to `width` columns with `indent` before every line. Consecutive prose
/// lines are joined into one paragraph; blank lines, fenced blocks and indented (code)
/// lines are kept as they are.
pub fn wrap_to(text: &str, width: usize, indent: &str) -> String {
    let mut out = String::new();
    let mut para: Vec<&str> = Vec::new();
    let opts = || textwrap::Options::new(width.max(indent.len() + 20)).initial_indent(indent).subsequent_indent(indent);
    let flush = |para: &mut Vec<&str>, out: &mut String| {
        if !para.is_empty() {
            for l in textwrap::wrap(&para.join(" "), opts()) {
                out.push_str(&l);
                out.push('\n');
            }
            para.clear();
        }
    };
    let mut in_fence = false;
    for line in text.lines() {
        let fence = line.trim_start().starts_with("```");
        if line.trim().is_empty() {
            flush(&mut para, &mut out);
            out.push('\n');
        } else if fence || in_fence || line.starts_with("    ") || line.starts_with('\t') {
            flush(&mut para, &mut out);
            if fence {
                in_fence = !in_fence;
            }
            out.push_str(indent);
            out.push_str(line);
            out.push('\n');
        } else {
            para.push(line.trim());
        }
    }
    flush(&mut para, &mut out);
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn columns_prefer_columns_then_the_terminal_within_bounds() {
        use super::columns_from;
        assert_eq!(columns_from(Some(80), || Some(200)), 80);
        assert_eq!(columns_from(Some(120), || None), 88);
        assert_eq!(columns_from(Some(20), || None), 40);
        assert_eq!(columns_from(None, || Some(72)), 72);
        assert_eq!(columns_from(None, || None), 88);
        assert_eq!(columns_from(Some(0), || Some(60)), 60);
    }

    #[test]
    fn wrap_joins_paragraphs_and_keeps_code() {
        let text = "one two\nthree four\n\n    code  line\nfive";
        assert_eq!(super::wrap_to(text, 40, "  "), "  one two three four\n\n      code  line\n  five\n");
    }
}
