//! Small text helpers shared by the stats, plots and reports: number formatting, aligned
//! tables (plain text, Markdown, HTML), escaping, and scenario-spec lookups.

use serde_json::Value;

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

    /// An HTML table; right-aligned columns get class `num`.
    pub fn to_html(&self) -> String {
        let mut out = String::from("<div class=\"scroll\"><table>\n<thead><tr>");
        for (i, h) in self.headers.iter().enumerate() {
            out.push_str(&format!("<th{}>{}</th>", self.class(i), html_escape(h)));
        }
        out.push_str("</tr></thead>\n<tbody>\n");
        for r in &self.rows {
            out.push_str("<tr>");
            for (i, c) in r.iter().enumerate() {
                out.push_str(&format!("<td{}>{}</td>", self.class(i), html_escape(c)));
            }
            out.push_str("</tr>\n");
        }
        out.push_str("</tbody>\n</table></div>\n");
        out
    }

    fn class(&self, i: usize) -> &'static str {
        match self.align[i] {
            Align::Left => "",
            Align::Right => " class=\"num\"",
        }
    }
}

/// Display width in characters (all our text is single-width).
fn width(s: &str) -> usize {
    s.chars().count()
}

fn md_escape(s: &str) -> String {
    s.replace('|', "\\|")
}

/// Escapes text for HTML element content and attribute values.
pub(crate) fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// Fixed decimals; `n/a` for NaN or infinity.
pub(crate) fn fixed(x: f64, decimals: usize) -> String {
    if x.is_finite() {
        let s = format!("{x:.decimals$}");
        // Avoid "-0.00".
        if s.starts_with('-') && s[1..].chars().all(|c| c == '0' || c == '.') {
            s[1..].to_string()
        } else {
            s
        }
    } else {
        "n/a".to_string()
    }
}

/// Fixed decimals for an optional value.
pub(crate) fn opt_fixed(x: Option<f64>, decimals: usize) -> String {
    x.map_or_else(|| "n/a".to_string(), |v| fixed(v, decimals))
}

/// Seconds for a duration string with a unit: `250us`, `5ms`, `1.5s`, `2m`, `1h`, `10ns`.
pub(crate) fn parse_duration_s(s: &str) -> Option<f64> {
    let s = s.trim();
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-' || c == '+' || c == 'e'))
        .unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let v: f64 = num.parse().ok()?;
    let scale = match unit.trim() {
        "ns" => 1e-9,
        "us" | "µs" => 1e-6,
        "ms" => 1e-3,
        "s" | "" => 1.0,
        "m" | "min" => 60.0,
        "h" => 3600.0,
        _ => return None,
    };
    let out = v * scale;
    out.is_finite().then_some(out)
}

/// A duration given as a string with units, in seconds.
pub(crate) fn duration_value_s(v: &Value) -> Option<f64> {
    match v {
        Value::String(s) => parse_duration_s(s),
        _ => None,
    }
}

/// Looks up a dotted path (`workload.clients.count`) in a JSON value.
pub(crate) fn spec_get<'a>(v: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(v, |cur, key| cur.get(key))
}

/// Mean of a one-key distribution object, in seconds, where it has a closed form.
pub(crate) fn dist_mean_s(v: &Value) -> Option<f64> {
    let obj = v.as_object()?;
    if obj.len() != 1 {
        return None;
    }
    let (kind, arg) = obj.iter().next()?;
    match kind.as_str() {
        "constant" | "exponential" => duration_value_s(arg),
        "uniform" => {
            let a = arg.as_array()?;
            if a.len() != 2 {
                return None;
            }
            Some((duration_value_s(&a[0])? + duration_value_s(&a[1])?) / 2.0)
        }
        "normal" => duration_value_s(arg.get("mean")?),
        _ => None,
    }
}

/// Whether a node selector (`server-0`, `server-*`, `*`) matches a node name.
pub(crate) fn selector_matches(selector: &str, name: &str) -> bool {
    match selector.strip_suffix('*') {
        Some(prefix) => name.starts_with(prefix),
        None => selector == name,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration_s("250us"), Some(250e-6));
        assert_eq!(parse_duration_s("5ms"), Some(0.005));
        assert_eq!(parse_duration_s("1.5s"), Some(1.5));
        assert_eq!(parse_duration_s("2m"), Some(120.0));
        assert_eq!(parse_duration_s("5 parsecs"), None);
    }

    #[test]
    fn means() {
        let v: Value = serde_json::json!({"uniform": ["1ms", "5ms"]});
        assert_eq!(dist_mean_s(&v), Some(0.003));
        assert_eq!(
            dist_mean_s(&serde_json::json!({"exponential": "5ms"})),
            Some(0.005)
        );
        assert_eq!(dist_mean_s(&serde_json::json!({"pareto": {}})), None);
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
