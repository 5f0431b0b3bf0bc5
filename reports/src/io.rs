//! Reading and writing run records: `summary.json` and `timeline.csv` in a run directory.
//!
//! `timeline.csv` is written by hand (no CSV dependency): the header is
//! [`TIMELINE_HEADER`], numbers use Rust's shortest round-trip formatting (so a saved and
//! reloaded record is bit-identical and reports rebuilt from it are byte-identical), a NaN
//! is an empty cell, and a text cell holding a comma or a quote is quoted RFC 4180-style.
//! The reader maps columns by header name, so it tolerates extra columns and reordering,
//! and reports the file, line and column of anything it cannot parse.

use std::fs;
use std::path::{Path, PathBuf};

use crate::error::ReportError;
use crate::record::{RunRecord, Summary, TimelineRow, TIMELINE_HEADER};

/// File name of the summary in a run directory.
pub const SUMMARY_FILE: &str = "summary.json";
/// File name of the per-window timeline in a run directory.
pub const TIMELINE_FILE: &str = "timeline.csv";

/// Writes `summary.json` (pretty JSON) and `timeline.csv` into `dir`, creating it.
pub fn save_run(dir: &Path, rec: &RunRecord) -> Result<(), ReportError> {
    fs::create_dir_all(dir).map_err(|e| ReportError::io(dir, "create directory", e))?;
    let summary_path = dir.join(SUMMARY_FILE);
    let mut json = serde_json::to_string_pretty(&rec.summary).map_err(|e| ReportError::Json {
        path: summary_path.clone(),
        source: e,
    })?;
    json.push('\n');
    write_file(&summary_path, json.as_bytes())?;
    write_file(
        &dir.join(TIMELINE_FILE),
        timeline_to_csv(&rec.timeline).as_bytes(),
    )
}

/// Reads `summary.json` and `timeline.csv` from `dir`.
///
/// A missing `timeline.csv` is an error like any other missing file: a report needs it.
pub fn load_run(dir: &Path) -> Result<RunRecord, ReportError> {
    let summary_path = dir.join(SUMMARY_FILE);
    let text = read_file(&summary_path)?;
    let summary: Summary = serde_json::from_str(&text).map_err(|e| ReportError::Json {
        path: summary_path,
        source: e,
    })?;
    let timeline_path = dir.join(TIMELINE_FILE);
    let csv = read_file(&timeline_path)?;
    let timeline = timeline_from_csv(&csv, &timeline_path)?;
    Ok(RunRecord { summary, timeline })
}

/// Writes `bytes` to `path`, with the path in the error.
pub(crate) fn write_file(path: &Path, bytes: &[u8]) -> Result<(), ReportError> {
    fs::write(path, bytes).map_err(|e| ReportError::io(path, "write", e))
}

fn read_file(path: &Path) -> Result<String, ReportError> {
    fs::read_to_string(path).map_err(|e| ReportError::io(path, "read", e))
}

/// Formats a float so that parsing it gives back the same bits; NaN is the empty string.
fn fmt_f64(x: f64) -> String {
    if x.is_nan() {
        String::new()
    } else {
        // `Display` for f64 is the shortest representation that round-trips.
        format!("{x}")
    }
}

/// Quotes a text cell when it holds a comma, a quote or a line break (which become spaces).
fn fmt_text(s: &str) -> String {
    let s: String = s
        .chars()
        .map(|c| if c == '\n' || c == '\r' { ' ' } else { c })
        .collect();
    if s.contains(',') || s.contains('"') {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

/// Renders a timeline as CSV text, header first, one line per row, `\n` line ends.
pub fn timeline_to_csv(rows: &[TimelineRow]) -> String {
    let mut out = String::with_capacity(64 * (rows.len() + 1));
    out.push_str(TIMELINE_HEADER);
    out.push('\n');
    for r in rows {
        let cells = [
            fmt_f64(r.t_s),
            r.offered.to_string(),
            r.attempts.to_string(),
            r.server_arrivals.to_string(),
            r.successes.to_string(),
            r.failures.to_string(),
            r.timeouts.to_string(),
            r.breaker_rejections.to_string(),
            r.breakers_open.to_string(),
            fmt_f64(r.latency_p50_ms),
            fmt_f64(r.latency_p99_ms),
            fmt_f64(r.latency_p999_ms),
            fmt_text(&r.faults_active),
        ];
        out.push_str(&cells.join(","));
        out.push('\n');
    }
    out
}

/// Splits one CSV line into cells, honouring double-quoted cells.
fn split_cells(line: &str) -> Result<Vec<String>, String> {
    let mut cells = Vec::new();
    let mut cur = String::new();
    let mut chars = line.chars().peekable();
    let mut in_quotes = false;
    let mut was_quoted = false;
    while let Some(c) = chars.next() {
        if in_quotes {
            if c == '"' {
                if chars.peek() == Some(&'"') {
                    chars.next();
                    cur.push('"');
                } else {
                    in_quotes = false;
                }
            } else {
                cur.push(c);
            }
        } else if c == ',' {
            cells.push(std::mem::take(&mut cur));
            was_quoted = false;
        } else if c == '"' && cur.is_empty() && !was_quoted {
            in_quotes = true;
            was_quoted = true;
        } else {
            cur.push(c);
        }
    }
    if in_quotes {
        return Err("unterminated quoted cell".to_string());
    }
    cells.push(cur);
    Ok(cells)
}

/// Column order of [`TIMELINE_HEADER`].
const COLUMNS: [&str; 13] = [
    "t_s",
    "offered",
    "attempts",
    "server_arrivals",
    "successes",
    "failures",
    "timeouts",
    "breaker_rejections",
    "breakers_open",
    "latency_p50_ms",
    "latency_p99_ms",
    "latency_p999_ms",
    "faults_active",
];

/// Parses `timeline.csv` text; `path` only names the file in errors.
pub fn timeline_from_csv(text: &str, path: &Path) -> Result<Vec<TimelineRow>, ReportError> {
    let err = |line: usize, message: String| ReportError::Csv {
        path: PathBuf::from(path),
        line,
        message,
    };
    let mut lines = text.lines().enumerate().map(|(i, l)| (i + 1, l));
    let (hline, header) = lines.next().ok_or_else(|| {
        err(
            1,
            format!("empty file, expected header `{TIMELINE_HEADER}`"),
        )
    })?;
    let names = split_cells(header.trim_start_matches('\u{feff}')).map_err(|m| err(hline, m))?;
    // index[k] = position of COLUMNS[k] in this file.
    let mut index = [0usize; COLUMNS.len()];
    for (k, col) in COLUMNS.iter().enumerate() {
        index[k] = names.iter().position(|n| n.trim() == *col).ok_or_else(|| {
            err(
                hline,
                format!("header lacks column `{col}` (expected `{TIMELINE_HEADER}`)"),
            )
        })?;
    }
    let mut rows = Vec::new();
    for (n, line) in lines {
        if line.trim().is_empty() {
            continue;
        }
        let cells = split_cells(line).map_err(|m| err(n, m))?;
        if cells.len() != names.len() {
            return Err(err(
                n,
                format!("{} cells, header has {}", cells.len(), names.len()),
            ));
        }
        let cell = |k: usize| cells[index[k]].trim();
        let int = |k: usize| -> Result<u64, ReportError> {
            cell(k).parse::<u64>().map_err(|e| {
                err(
                    n,
                    format!("column `{}`: `{}` is not a count: {e}", COLUMNS[k], cell(k)),
                )
            })
        };
        let float = |k: usize| -> Result<f64, ReportError> {
            let c = cell(k);
            if c.is_empty() || c.eq_ignore_ascii_case("nan") {
                return Ok(f64::NAN);
            }
            c.parse::<f64>().map_err(|e| {
                err(
                    n,
                    format!("column `{}`: `{c}` is not a number: {e}", COLUMNS[k]),
                )
            })
        };
        let t_s = float(0)?;
        if !t_s.is_finite() {
            return Err(err(n, "column `t_s`: window start is missing".to_string()));
        }
        rows.push(TimelineRow {
            t_s,
            offered: int(1)?,
            attempts: int(2)?,
            server_arrivals: int(3)?,
            successes: int(4)?,
            failures: int(5)?,
            timeouts: int(6)?,
            breaker_rejections: int(7)?,
            breakers_open: int(8)?,
            latency_p50_ms: float(9)?,
            latency_p99_ms: float(10)?,
            latency_p999_ms: float(11)?,
            faults_active: cells[index[12]].clone(),
        });
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_cells_round_trip() {
        let row = TimelineRow {
            t_s: 0.1 + 0.2,
            faults_active: "partition:a, b;crash:\"x\"".to_string(),
            latency_p50_ms: f64::NAN,
            ..TimelineRow::default()
        };
        let csv = timeline_to_csv(std::slice::from_ref(&row));
        let back = timeline_from_csv(&csv, Path::new("t.csv")).unwrap();
        assert_eq!(back.len(), 1);
        assert_eq!(back[0].t_s.to_bits(), row.t_s.to_bits());
        assert_eq!(back[0].faults_active, row.faults_active);
        assert!(back[0].latency_p50_ms.is_nan());
    }

    #[test]
    fn bad_cell_names_line_and_column() {
        let csv =
            format!("{TIMELINE_HEADER}\n0,1,1,1,1,0,0,0,0,1,2,3,\n1,x,1,1,1,0,0,0,0,1,2,3,\n");
        let e = timeline_from_csv(&csv, Path::new("runs/a/timeline.csv")).unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.starts_with("runs/a/timeline.csv:3: column `offered`"),
            "{msg}"
        );
    }

    #[test]
    fn missing_column_is_reported() {
        let e = timeline_from_csv("t_s,offered\n", Path::new("x.csv")).unwrap_err();
        assert!(e.to_string().contains("lacks column `attempts`"), "{e}");
    }
}
