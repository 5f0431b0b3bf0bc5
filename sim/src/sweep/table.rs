//! One table, three renderings: aligned plain text for the terminal, Markdown and HTML
//! for the sweep report.

/// Column alignment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Align {
    /// Text.
    Left,
    /// Numbers.
    Right,
}

/// A table with a header row.
#[derive(Clone, Debug)]
pub struct Table {
    headers: Vec<(String, Align)>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with these columns.
    pub fn new(headers: &[(&str, Align)]) -> Table {
        Table {
            headers: headers
                .iter()
                .map(|(name, align)| ((*name).to_owned(), *align))
                .collect(),
            rows: Vec::new(),
        }
    }

    /// Adds a row (missing cells are empty, extra ones dropped).
    pub fn push(&mut self, mut row: Vec<String>) {
        row.resize(self.headers.len(), String::new());
        self.rows.push(row);
    }

    /// Rows so far.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether the table has no rows.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    fn widths(&self) -> Vec<usize> {
        self.headers
            .iter()
            .enumerate()
            .map(|(column, (name, _))| {
                self.rows
                    .iter()
                    .map(|row| row[column].chars().count())
                    .chain([name.chars().count()])
                    .max()
                    .unwrap_or(0)
            })
            .collect()
    }

    /// Aligned plain text, header first, two spaces between columns.
    pub fn to_text(&self) -> String {
        let widths = self.widths();
        let mut out = self.text_line(&widths, &self.header_names());
        for row in &self.rows {
            out.push_str(
                &self.text_line(&widths, &row.iter().map(String::as_str).collect::<Vec<_>>()),
            );
        }
        out
    }

    /// The column names.
    pub fn header_names(&self) -> Vec<&str> {
        self.headers.iter().map(|(name, _)| name.as_str()).collect()
    }

    /// One line of [`Table::to_text`] with the columns `widths` wide (in characters), for
    /// a caller that prints rows as they come instead of pushing them: a cell wider
    /// than its column is printed whole.
    pub fn text_line(&self, widths: &[usize], cells: &[&str]) -> String {
        let mut out = String::new();
        for (column, cell) in cells.iter().enumerate().take(self.headers.len()) {
            let pad = widths
                .get(column)
                .map_or(0, |width| width.saturating_sub(cell.chars().count()));
            if column > 0 {
                out.push_str("  ");
            }
            match self.headers[column].1 {
                Align::Left => {
                    out.push_str(cell);
                    out.push_str(&" ".repeat(pad));
                }
                Align::Right => {
                    out.push_str(&" ".repeat(pad));
                    out.push_str(cell);
                }
            }
        }
        out.truncate(out.trim_end().len());
        out.push('\n');
        out
    }

    /// A Markdown table.
    pub fn to_markdown(&self) -> String {
        let escape = |cell: &str| cell.replace('|', "\\|");
        let mut out = String::from("|");
        for (name, _) in &self.headers {
            out.push_str(&format!(" {} |", escape(name)));
        }
        out.push_str("\n|");
        for (_, align) in &self.headers {
            out.push_str(match align {
                Align::Left => "---|",
                Align::Right => "---:|",
            });
        }
        out.push('\n');
        for row in &self.rows {
            out.push('|');
            for cell in row {
                out.push_str(&format!(" {} |", escape(cell)));
            }
            out.push('\n');
        }
        out
    }

    /// An HTML table (cells escaped), classed as the run pages' tables (`num` for a
    /// column of numbers), in a box that scrolls when it is wider than the page.
    pub fn to_html(&self) -> String {
        let mut out = String::from("<div class=\"scroll\"><table>\n<tr>");
        for (name, align) in &self.headers {
            out.push_str(&format!("<th{}>{}</th>", class(*align), escape_html(name)));
        }
        out.push_str("</tr>\n");
        for row in &self.rows {
            out.push_str("<tr>");
            for (column, cell) in row.iter().enumerate() {
                out.push_str(&format!(
                    "<td{}>{}</td>",
                    class(self.headers[column].1),
                    escape_html(cell)
                ));
            }
            out.push_str("</tr>\n");
        }
        out.push_str("</table></div>\n");
        out
    }
}

/// The class attribute of a cell: the pages' style right-aligns `num`.
fn class(align: Align) -> &'static str {
    match align {
        Align::Left => "",
        Align::Right => " class=\"num\"",
    }
}

/// Escapes text for HTML.
pub fn escape_html(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_aligned_and_markup_escaped() {
        let mut table = Table::new(&[("seed", Align::Right), ("check", Align::Left)]);
        table.push(vec!["7".into(), "a|b".into()]);
        table.push(vec!["1234".into(), "<x>".into()]);
        assert_eq!(table.to_text(), "seed  check\n   7  a|b\n1234  <x>\n");
        assert!(table.to_markdown().contains("| 7 | a\\|b |"));
        assert!(table.to_markdown().contains("|---:|---|"));
        assert!(table.to_html().contains("<td>&lt;x&gt;</td>"));
        assert!(table.to_html().contains("<td class=\"num\">1234</td>"));
        assert_eq!(table.len(), 2);
    }
}
