//! Small text helpers shared by the stats, plots and reports: number formatting with
//! thousands separators, and aligned tables (plain text and Markdown; the HTML pages
//! render the same [`Table`] through their templates).
//!
//! Kept by hand rather than taken from a crate: grouping digits is a few lines with no
//! locale to choose (the reports always use `,`), and the tables need only padding to a
//! width, which a table crate would not make shorter.

/// Horizontal alignment of a table column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Align {
    Left,
    Right,
}

/// A table rendered three ways with the same content.
#[derive(Clone, Debug, Default)]
pub(crate) struct Table {
    pub headers: Vec<String>,
    pub align: Vec<Align>,
    pub rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new(headers: &[(&str, Align)]) -> Self {
        Table {
            headers: headers.iter().map(|(h, _)| (*h).to_string()).collect(),
            align: headers.iter().map(|(_, a)| *a).collect(),
            rows: Vec::new(),
        }
    }

    pub fn push(&mut self, row: Vec<String>) {
        debug_assert_eq!(row.len(), self.headers.len());
        self.rows.push(row);
    }

    /// Column widths of the cells as `render` turns them into text.
    fn widths(&self, render: impl Fn(&str) -> String) -> Vec<usize> {
        let mut w: Vec<usize> = self.headers.iter().map(|h| width(&render(h))).collect();
        for r in &self.rows {
            for (i, c) in r.iter().enumerate() {
                w[i] = w[i].max(width(&render(c)));
            }
        }
        w
    }

    fn pad(&self, i: usize, s: &str, w: usize) -> String {
        let fill = " ".repeat(w.saturating_sub(width(s)));
        match self.align[i] {
            Align::Left => format!("{s}{fill}"),
            Align::Right => format!("{fill}{s}"),
        }
    }

    /// Plain text, columns separated by two spaces, optional header line.
    pub fn to_text(&self, with_header: bool) -> String {
        let w = self.widths(str::to_string);
        let mut out = String::new();
        let mut line = |cells: &[String]| {
            let parts: Vec<String> = cells
                .iter()
                .enumerate()
                .map(|(i, c)| self.pad(i, c, w[i]))
                .collect();
            out.push_str(parts.join("  ").trim_end());
            out.push('\n');
        };
        if with_header {
            line(&self.headers);
        }
        for r in &self.rows {
            line(r);
        }
        out
    }

    /// A Markdown pipe table, padded so it also reads aligned as plain text.
    pub fn to_markdown(&self) -> String {
        let w: Vec<usize> = self
            .widths(md_escape)
            .into_iter()
            .map(|x| x.max(3))
            .collect();
        let mut out = String::new();
        let row = |cells: &[String]| {
            let parts: Vec<String> = cells
                .iter()
                .enumerate()
                .map(|(i, c)| self.pad(i, &md_escape(c), w[i]))
                .collect();
            format!("| {} |\n", parts.join(" | "))
        };
        out.push_str(&row(&self.headers));
        let rule: Vec<String> = w
            .iter()
            .enumerate()
            .map(|(i, n)| match self.align[i] {
                Align::Left => format!(":{}", "-".repeat(n - 1)),
                Align::Right => format!("{}:", "-".repeat(n - 1)),
            })
            .collect();
        out.push_str(&format!("| {} |\n", rule.join(" | ")));
        for r in &self.rows {
            out.push_str(&row(r));
        }
        out
    }
}

/// Display width in characters (all our text is single-width).
fn width(s: &str) -> usize {
    s.chars().count()
}

fn md_escape(s: &str) -> String {
    s.replace('|', "\\|")
}

/// Text from a record (a variant's label, a title) as Markdown shows it literally: HTML
/// (`<`, `>`, `&`) as entities, the inline punctuation of Markdown backslash-escaped (so
/// `<img>`, `*x*` or `[a](b)` stay text), control characters (a line break would end a
/// table row) as spaces. `|` is left to the table writer, which escapes every cell's.
pub(crate) fn md_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\\' | '`' | '*' | '_' | '[' | ']' | '~' => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// `s` as a Markdown code span: fenced by one backtick more than its longest run of
/// backticks (CommonMark's rule), control characters as spaces.
pub(crate) fn md_code(s: &str) -> String {
    let s: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let longest = s.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest + 1);
    // A span that starts or ends with a backtick needs a space inside the fence.
    let pad = if s.starts_with('`') || s.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{s}{pad}{fence}")
}

/// Groups the digits of an integer string (`12559` -> `12,559`); a leading `-` stays.
fn group_digits(int: &str) -> String {
    let (sign, digits) = match int.strip_prefix('-') {
        Some(d) => ("-", d),
        None => ("", int),
    };
    let n = digits.len();
    let mut out = String::with_capacity(int.len() + n / 3);
    out.push_str(sign);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (n - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A count with thousands separators: `119,614`.
pub fn count(n: u64) -> String {
    group_digits(&n.to_string())
}

/// Fixed decimals with thousands separators (`25,333.0`); `n/a` for NaN or infinity.
pub(crate) fn fixed(x: f64, decimals: usize) -> String {
    if !x.is_finite() {
        return "n/a".to_string();
    }
    let s = format!("{x:.decimals$}");
    // Avoid "-0.00".
    let s = if s.starts_with('-') && s[1..].chars().all(|c| c == '0' || c == '.') {
        s[1..].to_string()
    } else {
        s
    };
    match s.split_once('.') {
        Some((int, frac)) => format!("{}.{frac}", group_digits(int)),
        None => group_digits(&s),
    }
}

/// A percentage of a 0..1 fraction with fixed decimals (`90.55`), `n/a` when missing.
pub(crate) fn pct(x: Option<f64>, decimals: usize) -> String {
    opt_fixed(x.map(|v| v * 100.0), decimals)
}

/// Fixed decimals for an optional value.
pub(crate) fn opt_fixed(x: Option<f64>, decimals: usize) -> String {
    x.map_or_else(|| "n/a".to_string(), |v| fixed(v, decimals))
}

/// Cuts `s` to at most `max` characters, marking the cut with `…`.
pub(crate) fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
        out.push('…');
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_separators() {
        assert_eq!(count(0), "0");
        assert_eq!(count(999), "999");
        assert_eq!(count(1000), "1,000");
        assert_eq!(count(119_614), "119,614");
        assert_eq!(count(1_045_712), "1,045,712");
        assert_eq!(fixed(25_333.0, 1), "25,333.0");
        assert_eq!(fixed(-1234.5, 2), "-1,234.50");
        assert_eq!(fixed(-0.001, 2), "0.00");
        assert_eq!(fixed(f64::NAN, 2), "n/a");
        assert_eq!(fixed(1e6, 0), "1,000,000");
        assert_eq!(pct(Some(0.9055), 2), "90.55");
    }

    #[test]
    fn tables_align() {
        let mut t = Table::new(&[("metric", Align::Left), ("value", Align::Right)]);
        t.push(vec!["a".into(), "1.00".into()]);
        t.push(vec!["longer".into(), "100.00".into()]);
        assert_eq!(t.to_text(false), "a         1.00\nlonger  100.00\n");
        assert!(t.to_markdown().contains("| :----- | -----: |"));
    }
}
