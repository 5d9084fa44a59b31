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

/// Wraps `text` to `width` columns with `indent` before every line. Consecutive prose
/// lines are joined into one paragraph; blank lines, fenced blocks and indented (code)
/// lines are kept as they are.
pub fn wrap(text: &str, width: usize, indent: &str) -> String {
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
    fn wrap_joins_paragraphs_and_keeps_code() {
        let text = "one two\nthree four\n\n    code  line\nfive";
        assert_eq!(super::wrap(text, 40, "  "), "  one two three four\n\n      code  line\n  five\n");
    }
}
