//! Reading and writing run records: `summary.json` and `timeline.csv` (rpc) or
//! `bank_timeline.csv` and `hlc_offsets.csv` (bank) in a run directory.
//!
//! `timeline.csv` goes through the `csv` crate with serde: the header is
//! [`TIMELINE_HEADER`] (the field order of [`TimelineRow`]), floats are written in their
//! shortest round-trip form (so a saved and reloaded record is bit-identical and reports
//! rebuilt from it are byte-identical), a NaN is an empty cell, and text cells are quoted
//! as RFC 4180 says. The reader maps columns by header name, so it tolerates extra
//! columns and reordering, and reports the file, line and column of anything it cannot
//! parse, and of any row that breaks a [`TimelineRow::check`] invariant.
//!
//! The bank files are written the same way (header [`BANK_TIMELINE_HEADER`] and
//! [`HLC_OFFSETS_HEADER`], written even with no rows) and read back checked: every column
//! of the header present, windows in order (strictly increasing in `bank_timeline.csv`,
//! non-decreasing in the long-format `hlc_offsets.csv`), and the row checks of
//! [`BankWindowRow::check`] and [`HlcOffsetRow::check`].
//!
//! Every file is written atomically: to a temporary file in the same directory, then
//! renamed over the target, so a reader never sees half a record.

use serde::Serialize;
use std::fs;
use std::path::{Path, PathBuf};

use crate::error::ReportError;
use crate::record::{
    BankWindowRow, HlcOffsetRow, RunRecord, Summary, TimelineRow, BANK_TIMELINE_HEADER,
    HLC_OFFSETS_HEADER, TIMELINE_HEADER,
};

/// File name of the summary in a run directory.
pub const SUMMARY_FILE: &str = "summary.json";
/// File name of the per-window timeline in a run directory.
pub const TIMELINE_FILE: &str = "timeline.csv";
/// File name of a bank run's per-window timeline.
pub const BANK_TIMELINE_FILE: &str = "bank_timeline.csv";
/// File name of a bank run's per-window, per-account HLC offsets.
pub const HLC_OFFSETS_FILE: &str = "hlc_offsets.csv";

/// Most rows a timeline may have: a run of a day at 1 ms windows fits; anything larger
/// is a defect, not a record.
pub const MAX_TIMELINE_ROWS: usize = 100_000_000;

/// Writes `summary.json` (pretty JSON) and, for an rpc run or any record with a
/// timeline, `timeline.csv` into `dir`, creating it.
pub fn save_run(dir: &Path, rec: &RunRecord) -> Result<(), ReportError> {
    fs::create_dir_all(dir).map_err(|e| ReportError::io(dir, "create directory", e))?;
    let summary_path = dir.join(SUMMARY_FILE);
    let mut json = serde_json::to_string_pretty(&rec.summary).map_err(|e| ReportError::Json {
        path: summary_path.clone(),
        source: e,
    })?;
    json.push('\n');
    write_file(&summary_path, json.as_bytes())?;
    if rec.summary.rpc.is_some() || !rec.timeline.is_empty() {
        let path = dir.join(TIMELINE_FILE);
        let csv = timeline_to_csv(&rec.timeline).map_err(|message| ReportError::Csv {
            path: path.clone(),
            line: 0,
            message,
        })?;
        write_file(&path, csv.as_bytes())?;
    }
    if rec.summary.bank.is_some() {
        for (name, csv) in [
            (
                BANK_TIMELINE_FILE,
                rows_to_csv(&rec.bank_timeline, BANK_TIMELINE_HEADER),
            ),
            (
                HLC_OFFSETS_FILE,
                rows_to_csv(&rec.hlc_offsets, HLC_OFFSETS_HEADER),
            ),
        ] {
            let path = dir.join(name);
            let csv = csv.map_err(|message| ReportError::Csv {
                path: path.clone(),
                line: 0,
                message,
            })?;
            write_file(&path, csv.as_bytes())?;
        }
    }
    Ok(())
}

/// Rows of any serde record type as CSV (header from the field names; `header`, the
/// same names, when there is no row to take them from).
fn rows_to_csv<T: Serialize>(rows: &[T], header: &str) -> Result<String, String> {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new());
    if rows.is_empty() {
        w.write_record(header.split(','))
            .map_err(|e| e.to_string())?;
    }
    for r in rows {
        w.serialize(r).map_err(|e| e.to_string())?;
    }
    let bytes = w.into_inner().map_err(|e| e.to_string())?;
    String::from_utf8(bytes).map_err(|e| e.to_string())
}

/// A row of a bank CSV file: checked on its own, and against the row before it.
trait CsvRow: serde::de::DeserializeOwned {
    /// The columns, in the order they are written.
    const HEADER: &'static str;
    fn check(&self) -> Result<(), String>;
    /// Whether `self` may follow `prev` (window order).
    fn follows(&self, prev: &Self) -> Result<(), String>;
}

impl CsvRow for BankWindowRow {
    const HEADER: &'static str = BANK_TIMELINE_HEADER;
    fn check(&self) -> Result<(), String> {
        BankWindowRow::check(self)
    }
    fn follows(&self, prev: &Self) -> Result<(), String> {
        if self.t_s > prev.t_s {
            Ok(())
        } else {
            Err(format!(
                "column `t_s`: {} s does not follow the previous window ({} s)",
                self.t_s, prev.t_s
            ))
        }
    }
}

impl CsvRow for HlcOffsetRow {
    const HEADER: &'static str = HLC_OFFSETS_HEADER;
    fn check(&self) -> Result<(), String> {
        HlcOffsetRow::check(self)
    }
    fn follows(&self, prev: &Self) -> Result<(), String> {
        if self.t_s >= prev.t_s {
            Ok(())
        } else {
            Err(format!(
                "column `t_s`: {} s comes before the previous row's window ({} s); rows are in window order",
                self.t_s, prev.t_s
            ))
        }
    }
}

/// Rows of a bank CSV file written by [`rows_to_csv`], checked; errors name the file,
/// the line and the column.
fn rows_from_csv<T: CsvRow>(text: &str, path: &Path) -> Result<Vec<T>, ReportError> {
    let err = |line: usize, message: String| ReportError::Csv {
        path: PathBuf::from(path),
        line,
        message,
    };
    let text = text.trim_start_matches('\u{feff}');
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers = reader.headers().map_err(|e| err(1, e.to_string()))?.clone();
    if headers.iter().all(|h| h.is_empty()) {
        return Err(err(
            1,
            format!("empty file, expected header `{}`", T::HEADER),
        ));
    }
    if let Some(col) = T::HEADER
        .split(',')
        .find(|c| !headers.iter().any(|h| h == *c))
    {
        return Err(err(
            1,
            format!("header lacks column `{col}` (expected `{}`)", T::HEADER),
        ));
    }
    let mut rows: Vec<T> = Vec::new();
    let mut record = csv::StringRecord::new();
    loop {
        let more = reader.read_record(&mut record).map_err(|e| {
            let line = e.position().map_or(0, csv::Position::line);
            err(usize::try_from(line).unwrap_or(usize::MAX), e.to_string())
        })?;
        if !more {
            break;
        }
        let line = record
            .position()
            .map_or(0, csv::Position::line)
            .try_into()
            .unwrap_or(usize::MAX);
        if record.iter().all(str::is_empty) {
            continue;
        }
        if rows.len() >= MAX_TIMELINE_ROWS {
            return Err(err(line, format!("more than {MAX_TIMELINE_ROWS} rows")));
        }
        let row: T = record
            .deserialize(Some(&headers))
            .map_err(|e| err(line, cell_error(&e, &headers, &record)))?;
        row.check().map_err(|m| err(line, m))?;
        if let Some(prev) = rows.last() {
            row.follows(prev).map_err(|m| err(line, m))?;
        }
        rows.push(row);
    }
    Ok(rows)
}

/// Reads `summary.json` and, for an rpc run, `timeline.csv` from `dir`.
///
/// A record of another workload is read without a timeline. A `summary.json` in the
/// format before workload sections (top-level `requests`, no `rpc`) is refused with a
/// message saying so, since its timeline counts requests by resolve time.
pub fn load_run(dir: &Path) -> Result<RunRecord, ReportError> {
    let summary_path = dir.join(SUMMARY_FILE);
    let text = read_file(&summary_path)?;
    let summary: Summary = serde_json::from_str(&text).map_err(|e| ReportError::Json {
        path: summary_path.clone(),
        source: e,
    })?;
    if summary.rpc.is_none() && summary.requests.is_some() {
        return Err(ReportError::Record {
            path: summary_path,
            message: "this record predates workload sections: it has top-level `requests` but no `rpc` section, and its timeline counts requests by resolve time; re-run the scenario to get a record this version reads".to_string(),
        });
    }
    let timeline = if summary.rpc.is_some() {
        let timeline_path = dir.join(TIMELINE_FILE);
        let csv = read_file(&timeline_path)?;
        timeline_from_csv(&csv, &timeline_path)?
    } else {
        Vec::new()
    };
    let (bank_timeline, hlc_offsets) = if summary.bank.is_some() {
        let path = dir.join(BANK_TIMELINE_FILE);
        let bank_timeline = rows_from_csv(&read_file(&path)?, &path)?;
        let path = dir.join(HLC_OFFSETS_FILE);
        (bank_timeline, rows_from_csv(&read_file(&path)?, &path)?)
    } else {
        (Vec::new(), Vec::new())
    };
    Ok(RunRecord {
        summary,
        timeline,
        bank_timeline,
        hlc_offsets,
    })
}

/// Writes `bytes` to `path` atomically (temporary file, then rename), with the path in
/// any error; a failed write (a full disk) removes its temporary file and leaves `path`
/// as it was.
pub fn write_file(path: &Path, bytes: &[u8]) -> Result<(), ReportError> {
    let name = path
        .file_name()
        .map_or_else(|| "out".into(), |n| n.to_string_lossy().into_owned());
    let tmp = path.with_file_name(format!(".{name}.tmp"));
    fs::write(&tmp, bytes).map_err(|e| {
        let _ = fs::remove_file(&tmp);
        ReportError::io(&tmp, "write", e)
    })?;
    fs::rename(&tmp, path).map_err(|e| {
        let _ = fs::remove_file(&tmp);
        ReportError::io(path, "rename into place", e)
    })
}

fn read_file(path: &Path) -> Result<String, ReportError> {
    fs::read_to_string(path).map_err(|e| ReportError::io(path, "read", e))
}

/// Renders a timeline as CSV text, header first, one line per row, `\n` line ends.
pub fn timeline_to_csv(rows: &[TimelineRow]) -> Result<String, String> {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::with_capacity(96 * (rows.len() + 1)));
    if rows.is_empty() {
        // serde writes the header with the first row; an empty timeline still has one.
        w.write_record(TIMELINE_HEADER.split(','))
            .map_err(|e| e.to_string())?;
    }
    for r in rows {
        w.serialize(r).map_err(|e| e.to_string())?;
    }
    let bytes = w.into_inner().map_err(|e| e.to_string())?;
    String::from_utf8(bytes).map_err(|e| e.to_string())
}

/// Columns a timeline must have (`faults_active` may be missing: it is then empty).
const REQUIRED: [&str; 15] = [
    "t_s",
    "offered",
    "succeeded",
    "good",
    "failed",
    "timed_out",
    "rejected_by_breaker",
    "unresolved",
    "attempts",
    "server_arrivals",
    "completed",
    "breakers_open",
    "latency_p50_ms",
    "latency_p99_ms",
    "latency_p999_ms",
];

/// Parses `timeline.csv` text; `path` only names the file in errors.
///
/// Rows must be in strictly increasing `t_s` order and satisfy [`TimelineRow::check`].
pub fn timeline_from_csv(text: &str, path: &Path) -> Result<Vec<TimelineRow>, ReportError> {
    let err = |line: u64, message: String| ReportError::Csv {
        path: PathBuf::from(path),
        line: usize::try_from(line).unwrap_or(usize::MAX),
        message,
    };
    let text = text.trim_start_matches('\u{feff}');
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers = reader.headers().map_err(|e| err(1, e.to_string()))?.clone();
    if headers.iter().all(|h| h.is_empty()) {
        return Err(err(
            1,
            format!("empty file, expected header `{TIMELINE_HEADER}`"),
        ));
    }
    let has = |c: &str| headers.iter().any(|h| h == c);
    if has("successes") && !has("succeeded") {
        return Err(err(
            1,
            "this timeline is in the old format (requests counted in the window where they resolved: `successes`, `failures`, ...); this version needs them counted in the window where they were offered (`succeeded`, `unresolved`, ...): re-run the scenario".to_string(),
        ));
    }
    if let Some(col) = REQUIRED.iter().find(|c| !has(c)) {
        return Err(err(
            1,
            format!("header lacks column `{col}` (expected `{TIMELINE_HEADER}`)"),
        ));
    }
    let mut rows: Vec<TimelineRow> = Vec::new();
    let mut record = csv::StringRecord::new();
    loop {
        let more = reader.read_record(&mut record).map_err(|e| {
            let line = e.position().map_or(0, csv::Position::line);
            match e.kind() {
                csv::ErrorKind::UnequalLengths {
                    expected_len, len, ..
                } => err(line, format!("{len} cells, header has {expected_len}")),
                _ => err(line, e.to_string()),
            }
        })?;
        if !more {
            break;
        }
        let line = record.position().map_or(0, csv::Position::line);
        if record.iter().all(str::is_empty) {
            continue;
        }
        if rows.len() >= MAX_TIMELINE_ROWS {
            return Err(err(line, format!("more than {MAX_TIMELINE_ROWS} rows")));
        }
        let row: TimelineRow = record
            .deserialize(Some(&headers))
            .map_err(|e| err(line, cell_error(&e, &headers, &record)))?;
        if !row.t_s.is_finite() {
            return Err(err(
                line,
                "column `t_s`: window start is missing".to_string(),
            ));
        }
        if let Some(prev) = rows.last() {
            if row.t_s <= prev.t_s {
                return Err(err(
                    line,
                    format!(
                        "column `t_s`: {} s does not follow the previous window ({} s)",
                        row.t_s, prev.t_s
                    ),
                ));
            }
        }
        row.check().map_err(|m| err(line, m))?;
        rows.push(row);
    }
    Ok(rows)
}

/// Names the column and the cell a deserialisation error is about.
fn cell_error(e: &csv::Error, headers: &csv::StringRecord, record: &csv::StringRecord) -> String {
    let csv::ErrorKind::Deserialize { err: e, .. } = e.kind() else {
        return e.to_string();
    };
    let index = e.field().and_then(|f| usize::try_from(f).ok());
    let column = index.and_then(|i| headers.get(i)).unwrap_or("?");
    let cell = index.and_then(|i| record.get(i)).unwrap_or("");
    match e.kind() {
        csv::DeserializeErrorKind::ParseInt(p) => {
            format!("column `{column}`: `{cell}` is not a count: {p}")
        }
        csv::DeserializeErrorKind::ParseFloat(p) => {
            format!("column `{column}`: `{cell}` is not a number: {p}")
        }
        other => format!("column `{column}`: {other}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bank_headers_are_the_field_order() {
        let csv = rows_to_csv(&[BankWindowRow::default()], "").unwrap();
        assert_eq!(csv.lines().next(), Some(BANK_TIMELINE_HEADER));
        let csv = rows_to_csv(&[HlcOffsetRow::default()], "").unwrap();
        assert_eq!(csv.lines().next(), Some(HLC_OFFSETS_HEADER));
        let empty = rows_to_csv::<HlcOffsetRow>(&[], HLC_OFFSETS_HEADER).unwrap();
        assert_eq!(empty, format!("{HLC_OFFSETS_HEADER}\n"));
        let back: Vec<HlcOffsetRow> = rows_from_csv(&empty, Path::new("h.csv")).unwrap();
        assert!(back.is_empty());
    }

    #[test]
    #[cfg(unix)]
    fn a_failed_write_leaves_no_temporary_file_and_the_old_file_intact() {
        let dir = std::env::temp_dir().join(format!("faultline-io-full-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join("availability.svg");
        fs::write(&path, "old").unwrap();
        // The temporary file is /dev/full: every write fails with ENOSPC, a full disk.
        let tmp = dir.join(".availability.svg.tmp");
        std::os::unix::fs::symlink("/dev/full", &tmp).unwrap();
        let err = write_file(&path, b"new").unwrap_err();
        assert!(err.is_output(), "{err}");
        assert!(
            fs::symlink_metadata(&tmp).is_err(),
            "{err}: temporary file left"
        );
        assert_eq!(fs::read_to_string(&path).unwrap(), "old");
        write_file(&path, b"new").unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "new");
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn header_is_the_field_order() {
        let csv = timeline_to_csv(&[TimelineRow::default()]).unwrap();
        assert_eq!(csv.lines().next(), Some(TIMELINE_HEADER));
        assert_eq!(
            timeline_to_csv(&[]).unwrap(),
            format!("{TIMELINE_HEADER}\n")
        );
    }

    #[test]
    fn quoted_cells_and_nan_round_trip() {
        let row = TimelineRow {
            t_s: 0.1 + 0.2,
            faults_active: "partition:a, b;crash:\"x\"".to_string(),
            latency_p50_ms: f64::NAN,
            ..TimelineRow::default()
        };
        let csv = timeline_to_csv(std::slice::from_ref(&row)).unwrap();
        assert!(csv.contains(",,"), "NaN is an empty cell: {csv}");
        let back = timeline_from_csv(&csv, Path::new("t.csv")).unwrap();
        assert_eq!(back.len(), 1);
        assert_eq!(back[0].t_s.to_bits(), row.t_s.to_bits());
        assert_eq!(back[0].faults_active, row.faults_active);
        assert!(back[0].latency_p50_ms.is_nan());
    }

    #[test]
    fn bad_cell_names_line_and_column() {
        let csv = format!(
            "{TIMELINE_HEADER}\n0,1,1,1,0,0,0,0,1,1,1,0,1,2,3,\n1,x,1,1,0,0,0,0,1,1,1,0,1,2,3,\n"
        );
        let e = timeline_from_csv(&csv, Path::new("runs/a/timeline.csv")).unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.starts_with("runs/a/timeline.csv:3: column `offered`: `x` is not a count"),
            "{msg}"
        );
    }

    #[test]
    fn missing_column_and_old_format_are_reported() {
        let e = timeline_from_csv("t_s,offered\n", Path::new("x.csv")).unwrap_err();
        assert!(e.to_string().contains("lacks column `succeeded`"), "{e}");
        let old = "t_s,offered,attempts,server_arrivals,successes,failures,timeouts\n";
        let e = timeline_from_csv(old, Path::new("x.csv")).unwrap_err();
        assert!(e.to_string().contains("old format"), "{e}");
    }

    #[test]
    fn broken_invariant_is_an_error_with_the_numbers() {
        // offered 10, but 3 + 1 + 0 + 0 + 5 = 9 accounted for.
        let csv = format!("{TIMELINE_HEADER}\n0,10,3,3,1,0,0,5,10,10,3,0,1,2,3,\n");
        let msg = timeline_from_csv(&csv, Path::new("t.csv"))
            .unwrap_err()
            .to_string();
        assert!(
            msg.starts_with("t.csv:2: window at 0 s: offered 10 != "),
            "{msg}"
        );
        assert!(msg.contains("(= 9)"), "{msg}");
        let csv = format!("{TIMELINE_HEADER}\n0,10,3,4,1,1,0,5,10,10,3,0,1,2,3,\n");
        let msg = timeline_from_csv(&csv, Path::new("t.csv"))
            .unwrap_err()
            .to_string();
        assert!(msg.contains("good 4 > succeeded 3"), "{msg}");
        let csv = format!(
            "{TIMELINE_HEADER}\n1,0,0,0,0,0,0,0,0,0,0,0,,,,\n1,0,0,0,0,0,0,0,0,0,0,0,,,,\n"
        );
        let msg = timeline_from_csv(&csv, Path::new("t.csv"))
            .unwrap_err()
            .to_string();
        assert!(msg.contains("t.csv:3: column `t_s`"), "{msg}");
    }
}
