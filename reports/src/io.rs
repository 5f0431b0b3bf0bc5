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
//!
//! A record is input too: [`open_record`] reads only regular files (never a FIFO, a
//! device such as `/dev/zero`, or a directory), each kind of file up to its own size
//! limit ([`MAX_SUMMARY_BYTES`], [`MAX_CSV_BYTES`]) and its lines up to
//! [`MAX_CSV_LINE_BYTES`], counted as the bytes arrive so a file that grows while it is
//! read cannot pass them either. The CSV files are parsed as they are read, so memory
//! holds the rows, not the text.

use serde::Serialize;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use crate::error::ReportError;
use crate::figures::{SeriesInfo, SeriesTable};
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
/// The declared series of any workload.
pub const SERIES_FILE: &str = "series.csv";

/// Most rows a timeline may have: a run has at most 1,000,000 metrics windows (the
/// scenario limit); anything larger is a defect, not a record.
pub const MAX_TIMELINE_ROWS: usize = 1_000_000;

/// Most bytes `summary.json` may have (its scenario is at most 4 MiB; the rest is a
/// list of fault intervals and checks).
pub const MAX_SUMMARY_BYTES: u64 = 256 << 20;

/// Most bytes a CSV record (`timeline.csv`, `bank_timeline.csv`, `hlc_offsets.csv`) may
/// have.
pub const MAX_CSV_BYTES: u64 = 1 << 30;

/// Most bytes one line of a CSV record may have (a row with its eight listed faults is
/// a few KiB).
pub const MAX_CSV_LINE_BYTES: usize = 1 << 20;

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
    if !rec.summary.series.is_empty() {
        let path = dir.join(SERIES_FILE);
        let csv = series_to_csv(&rec.summary.series, &rec.series).map_err(|message| {
            ReportError::Csv {
                path: path.clone(),
                line: 0,
                message,
            }
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
fn rows_from_csv<T: CsvRow>(input: impl Read, path: &Path) -> Result<Vec<T>, ReportError> {
    let err = |line: usize, message: String| ReportError::Csv {
        path: PathBuf::from(path),
        line,
        message,
    };
    let (mut reader, headers) = csv_reader(input, path)?;
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
    while let Some(line) = next_record(&mut reader, &mut record, path)? {
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

/// A CSV reader over `input` (a byte-order mark skipped, cells trimmed) and its header
/// row; an error names the file, at line 1.
fn csv_reader<R: Read>(
    input: R,
    path: &Path,
) -> Result<(csv::Reader<std::io::BufReader<R>>, csv::StringRecord), ReportError> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(skip_bom(input).map_err(|e| record_read_error(path, e))?);
    let headers = reader
        .headers()
        .map_err(|e| {
            csv_read_error(e, path, |_, message| ReportError::Csv {
                path: PathBuf::from(path),
                line: 1,
                message,
            })
        })?
        .clone();
    Ok((reader, headers))
}

/// Reads the next row of a CSV record into `record`; its line number, or `None` at the
/// end. An error names the file and the line.
fn next_record<R: Read>(
    reader: &mut csv::Reader<R>,
    record: &mut csv::StringRecord,
    path: &Path,
) -> Result<Option<usize>, ReportError> {
    let more = reader.read_record(record).map_err(|e| {
        csv_read_error(e, path, |line, message| ReportError::Csv {
            path: PathBuf::from(path),
            line: usize::try_from(line).unwrap_or(usize::MAX),
            message,
        })
    })?;
    Ok(more.then(|| {
        record
            .position()
            .map_or(0, csv::Position::line)
            .try_into()
            .unwrap_or(usize::MAX)
    }))
}

/// Opens a CSV record with its size and line limits.
fn open_csv(path: &Path) -> Result<RecordReader, ReportError> {
    Ok(open_record(path, MAX_CSV_BYTES)?.max_line(MAX_CSV_LINE_BYTES))
}

/// Reads `summary.json` and, for an rpc run, `timeline.csv` from `dir`.
///
/// A record of another workload is read without a timeline. A `summary.json` in the
/// format before workload sections (top-level `requests`, no `rpc`) is refused with a
/// message saying so, since its timeline counts requests by resolve time.
pub fn load_run(dir: &Path) -> Result<RunRecord, ReportError> {
    let summary_path = dir.join(SUMMARY_FILE);
    let text = read_record(&summary_path, MAX_SUMMARY_BYTES)?;
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
        let csv = open_csv(&timeline_path)?;
        timeline_from_reader(csv, &timeline_path)?
    } else {
        Vec::new()
    };
    let (bank_timeline, hlc_offsets) = if summary.bank.is_some() {
        let path = dir.join(BANK_TIMELINE_FILE);
        let bank_timeline = rows_from_csv(open_csv(&path)?, &path)?;
        let path = dir.join(HLC_OFFSETS_FILE);
        (bank_timeline, rows_from_csv(open_csv(&path)?, &path)?)
    } else {
        (Vec::new(), Vec::new())
    };
    let series = if summary.series.is_empty() {
        SeriesTable::default()
    } else {
        let path = dir.join(SERIES_FILE);
        series_from_reader(open_csv(&path)?, &path, &summary.series)?
    };
    Ok(RunRecord {
        summary,
        timeline,
        bank_timeline,
        hlc_offsets,
        series,
    })
}

/// `series.csv` of the declared `series`: a `t_s` column, then one column per series
/// in declaration order; floats in their shortest exact form, NaN as an empty cell.
pub fn series_to_csv(series: &[SeriesInfo], table: &SeriesTable) -> Result<String, String> {
    table.check(series.len())?;
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new());
    let header: Vec<&str> = std::iter::once("t_s")
        .chain(series.iter().map(|s| s.name.as_str()))
        .collect();
    w.write_record(&header).map_err(|e| e.to_string())?;
    let cell = |v: f64| {
        if v.is_nan() {
            String::new()
        } else {
            format!("{v}")
        }
    };
    for (row, t_s) in table.t_s.iter().enumerate() {
        let cells: Vec<String> = std::iter::once(cell(*t_s))
            .chain(table.columns.iter().map(|column| cell(column[row])))
            .collect();
        w.write_record(&cells).map_err(|e| e.to_string())?;
    }
    let bytes = w.into_inner().map_err(|e| e.to_string())?;
    String::from_utf8(bytes).map_err(|e| e.to_string())
}

/// Reads `series.csv` against its declarations: the header must be `t_s` and the
/// declared names in order; errors name the file, the line and the column.
pub fn series_from_reader(
    input: impl Read,
    path: &Path,
    series: &[SeriesInfo],
) -> Result<SeriesTable, ReportError> {
    let err = |line: usize, message: String| ReportError::Csv {
        path: PathBuf::from(path),
        line,
        message,
    };
    let expected: Vec<&str> = std::iter::once("t_s")
        .chain(series.iter().map(|s| s.name.as_str()))
        .collect();
    let (mut reader, headers) = csv_reader(input, path)?;
    if headers.iter().collect::<Vec<_>>() != expected {
        return Err(err(
            1,
            format!(
                "header `{}`, but summary.json declares `{}`",
                headers.iter().collect::<Vec<_>>().join(","),
                expected.join(",")
            ),
        ));
    }
    let mut table = SeriesTable {
        t_s: Vec::new(),
        columns: vec![Vec::new(); series.len()],
    };
    let mut record = csv::StringRecord::new();
    while let Some(line) = next_record(&mut reader, &mut record, path)? {
        if table.t_s.len() >= MAX_TIMELINE_ROWS {
            return Err(err(line, format!("more than {MAX_TIMELINE_ROWS} rows")));
        }
        for (index, cell) in record.iter().enumerate() {
            let value = if cell.is_empty() && index > 0 {
                f64::NAN
            } else {
                cell.parse::<f64>().map_err(|_| {
                    err(
                        line,
                        format!("column `{}`: {cell:?} is not a number", expected[index]),
                    )
                })?
            };
            if index == 0 {
                table.t_s.push(value);
            } else {
                table.columns[index - 1].push(value);
            }
        }
    }
    table.check(series.len()).map_err(|m| err(0, m))?;
    Ok(table)
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

/// A record file opened by [`open_record`]: reads fail once more than its limit of
/// bytes, or a line longer than its line limit, has arrived.
#[derive(Debug)]
pub struct RecordReader {
    file: std::io::Take<fs::File>,
    limit_bytes: u64,
    read_bytes: u64,
    max_line_bytes: Option<usize>,
    line_bytes: usize,
}

impl Read for RecordReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.file.read(buf)?;
        self.read_bytes += n as u64;
        if self.read_bytes > self.limit_bytes {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!(
                    "the file grew past the limit of {} bytes for this record",
                    self.limit_bytes
                ),
            ));
        }
        if let Some(max) = self.max_line_bytes {
            for &byte in &buf[..n] {
                self.line_bytes = if byte == b'\n' {
                    0
                } else {
                    self.line_bytes + 1
                };
                if self.line_bytes > max {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::InvalidData,
                        format!("a line is longer than the limit of {max} bytes"),
                    ));
                }
            }
        }
        Ok(n)
    }
}

impl RecordReader {
    /// Refuses lines longer than `max_line_bytes` (without its newline).
    pub fn max_line(mut self, max_line_bytes: usize) -> Self {
        self.max_line_bytes = Some(max_line_bytes);
        self
    }
}

/// Opens the record file `path` for reading, with `limit_bytes` as the most it may
/// hold: a path that is not a regular file (a FIFO, a device such as a link to
/// `/dev/zero`, a directory) or a file over the limit is refused before anything is
/// read, and the returned reader stops with an error past the limit, so a file that
/// grows while it is read is caught too.
pub fn open_record(path: &Path, limit_bytes: u64) -> Result<RecordReader, ReportError> {
    let mut options = fs::OpenOptions::new();
    options.read(true);
    // Opening a FIFO blocks until a writer comes; non-blocking, it opens at once and is
    // refused below. (On a regular file the flag changes nothing.)
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::custom_flags(&mut options, libc::O_NONBLOCK);
    let file = options
        .open(path)
        .map_err(|e| ReportError::io(path, "read", e))?;
    // The metadata of the file opened, not of the path: nothing can swap it in between.
    let meta = file
        .metadata()
        .map_err(|e| ReportError::io(path, "read", e))?;
    if !meta.is_file() {
        let what = if meta.is_dir() {
            "a directory"
        } else {
            "not a regular file (a FIFO, a socket or a device)"
        };
        return Err(ReportError::Record {
            path: path.to_path_buf(),
            message: format!("{what}: a record is a file a run wrote"),
        });
    }
    if meta.len() > limit_bytes {
        return Err(ReportError::Record {
            path: path.to_path_buf(),
            message: format!(
                "the file is {} bytes, over the limit of {limit_bytes} bytes for this record",
                meta.len()
            ),
        });
    }
    Ok(RecordReader {
        file: file.take(limit_bytes + 1),
        limit_bytes,
        read_bytes: 0,
        max_line_bytes: None,
        line_bytes: 0,
    })
}

/// The whole text of the record file `path`, checked as [`open_record`] says.
pub fn read_record(path: &Path, limit_bytes: u64) -> Result<String, ReportError> {
    let mut text = String::new();
    open_record(path, limit_bytes)?
        .read_to_string(&mut text)
        .map_err(|e| record_read_error(path, e))?;
    Ok(text)
}

/// `input` past a leading UTF-8 byte-order mark.
fn skip_bom<R: Read>(input: R) -> std::io::Result<std::io::BufReader<R>> {
    use std::io::BufRead;
    let mut input = std::io::BufReader::new(input);
    if input.fill_buf()?.starts_with(b"\xEF\xBB\xBF") {
        input.consume(3);
    }
    Ok(input)
}

/// A read error of a CSV record: an I/O error or a limit passed (see
/// [`record_read_error`]), else `located` with the line it is on.
fn csv_read_error(
    e: csv::Error,
    path: &Path,
    located: impl FnOnce(u64, String) -> ReportError,
) -> ReportError {
    let line = e.position().map_or(0, csv::Position::line);
    let message = match e.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!("{len} cells, header has {expected_len}"),
        _ => e.to_string(),
    };
    match e.into_kind() {
        csv::ErrorKind::Io(io) => record_read_error(path, io),
        _ => located(line, message),
    }
}

/// A read error of a record: a limit passed is about the record, anything else is I/O.
fn record_read_error(path: &Path, e: std::io::Error) -> ReportError {
    if e.kind() == std::io::ErrorKind::InvalidData {
        ReportError::Record {
            path: path.to_path_buf(),
            message: e.to_string(),
        }
    } else {
        ReportError::io(path, "read", e)
    }
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
const REQUIRED: [&str; 16] = [
    "t_s",
    "offered",
    "succeeded",
    "good",
    "failed",
    "timed_out",
    "rejected_by_breaker",
    "unresolved",
    "offered_attempts",
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
    timeline_from_reader(text.as_bytes(), path)
}

/// Parses `timeline.csv` as it is read from `input`, with the checks of
/// [`timeline_from_csv`].
pub fn timeline_from_reader(
    input: impl Read,
    path: &Path,
) -> Result<Vec<TimelineRow>, ReportError> {
    let err = |line: u64, message: String| ReportError::Csv {
        path: PathBuf::from(path),
        line: usize::try_from(line).unwrap_or(usize::MAX),
        message,
    };
    let (mut reader, headers) = csv_reader(input, path)?;
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
    if !has("offered_attempts") && has("attempts") {
        return Err(err(
            1,
            "this timeline predates column `offered_attempts` (attempts counted in the window where their request was offered), which the phases table needs: re-run the scenario".to_string(),
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
    while let Some(line) = next_record(&mut reader, &mut record, path)? {
        let line = line as u64;
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
        let back: Vec<HlcOffsetRow> = rows_from_csv(empty.as_bytes(), Path::new("h.csv")).unwrap();
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
            "{TIMELINE_HEADER}\n0,1,1,1,0,0,0,0,1,1,1,1,0,1,2,3,\n1,x,1,1,0,0,0,0,1,1,1,1,0,1,2,3,\n"
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
        let before = TIMELINE_HEADER.replace("offered_attempts,", "");
        let e = timeline_from_csv(&format!("{before}\n"), Path::new("x.csv")).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("x.csv:1: this timeline predates column `offered_attempts`"),
            "{e}"
        );
    }

    #[test]
    fn broken_invariant_is_an_error_with_the_numbers() {
        // offered 10, but 3 + 1 + 0 + 0 + 5 = 9 accounted for.
        let csv = format!("{TIMELINE_HEADER}\n0,10,3,3,1,0,0,5,10,10,10,3,0,1,2,3,\n");
        let msg = timeline_from_csv(&csv, Path::new("t.csv"))
            .unwrap_err()
            .to_string();
        assert!(
            msg.starts_with("t.csv:2: window at 0 s: offered 10 != "),
            "{msg}"
        );
        assert!(msg.contains("(= 9)"), "{msg}");
        let csv = format!("{TIMELINE_HEADER}\n0,10,3,4,1,1,0,5,10,10,10,3,0,1,2,3,\n");
        let msg = timeline_from_csv(&csv, Path::new("t.csv"))
            .unwrap_err()
            .to_string();
        assert!(msg.contains("good 4 > succeeded 3"), "{msg}");
        let csv = format!(
            "{TIMELINE_HEADER}\n1,0,0,0,0,0,0,0,0,0,0,0,0,,,,\n1,0,0,0,0,0,0,0,0,0,0,0,0,,,,\n"
        );
        let msg = timeline_from_csv(&csv, Path::new("t.csv"))
            .unwrap_err()
            .to_string();
        assert!(msg.contains("t.csv:3: column `t_s`"), "{msg}");
    }
}
