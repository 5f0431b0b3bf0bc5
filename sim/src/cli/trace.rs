//! `faultline trace DIR [--node X] [--from T] [--to T] [--kind K] [--limit N]`: a
//! readable, aligned slice of a saved `trace.jsonl` (`run --trace` writes it).
//!
//! Records are one JSON object per line: `t_ns`, `ev`, the workload's node fields (named
//! after its node families: the rpc workload's `client` and `server`; a message's
//! sender first, so `A > B` reads the way it travels), `id`, then the kind's typed
//! fields; the kernel's `fault` records are put in words. The node fields are told
//! apart by the run's node families, read from `summary.json` beside the trace (without
//! it, fields named `node` and `peer`); the same summary names the nodes and the
//! workload's record kinds that `--node` and `--kind` are checked against, so a typo is
//! an error, not an empty slice.
//!
//! Memory is bounded whatever the trace and `--limit`: the file is read line by line
//! (each line at most [`MAX_LINE_BYTES`]) in two passes that stop past `--to`, the first
//! measuring the columns of the rows to show and counting the matches, the second
//! printing those rows as it reads them, so only one line and one row are held at a
//! time. Text from the file is printed with its control characters escaped.

use std::collections::BTreeSet;
use std::fmt;
use std::io::{BufRead, BufReader, Read, Write};
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

use faultline_reports::io::{open_record, read_record, MAX_SUMMARY_BYTES};

use serde::de::{MapAccess, Visitor};
use serde::{Deserialize, Deserializer};
use serde_json::Value;

use crate::engine::trace::KERNEL_KINDS;
use crate::scenario::load::closest;
use crate::scenario::{Dur, Selector};
use crate::sweep::table::{Align, Table};

use super::{EXIT_BAD_INPUT, EXIT_OK};

/// Most records one slice prints by default.
pub const DEFAULT_LIMIT: usize = 1_000;

/// Most records one slice may print.
pub const MAX_LIMIT: usize = 10_000_000;

/// Most bytes `trace.jsonl` may have: more than a run of the most events (2,000,000,000)
/// writes at a few hundred bytes a line.
pub const MAX_TRACE_BYTES: u64 = 1 << 40;

/// Most bytes one line of `trace.jsonl` may have (a bank record with a long vector
/// clock is a few KiB).
pub const MAX_LINE_BYTES: usize = 1 << 20;

/// Arguments of `trace`.
#[derive(Debug, clap::Args)]
pub struct TraceArgs {
    /// Run directory (with trace.jsonl), or a trace.jsonl file.
    pub path: PathBuf,
    /// Only records at this node, as a name or selector: `client-3`, `server-*`.
    #[arg(long)]
    pub node: Option<String>,
    /// From this simulated time on (`20s`, `20.5s`, `1500ms`).
    #[arg(long)]
    pub from: Option<String>,
    /// Up to this simulated time (included).
    #[arg(long)]
    pub to: Option<String>,
    /// Only these kinds of record (`ev`), comma-separated: `send,timeout`.
    #[arg(long)]
    pub kind: Option<String>,
    /// Most records to print.
    #[arg(long, default_value_t = DEFAULT_LIMIT)]
    pub limit: usize,
}

/// A JSON object with its keys in the order written.
struct Ordered(Vec<(String, Value)>);

impl<'de> Deserialize<'de> for Ordered {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct OrderedVisitor;
        impl<'de> Visitor<'de> for OrderedVisitor {
            type Value = Ordered;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a trace record (a JSON object)")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Ordered, A::Error> {
                let mut fields = Vec::new();
                while let Some((key, value)) = map.next_entry::<String, Value>()? {
                    fields.push((key, value));
                }
                Ok(Ordered(fields))
            }
        }
        deserializer.deserialize_map(OrderedVisitor)
    }
}

/// What the run's `summary.json` says about its records: the node families (field name,
/// name prefix, count) and the workload kind.
#[derive(Debug, Default)]
struct RunInfo {
    families: Vec<(String, String, u32)>,
    workload: Option<String>,
}

impl RunInfo {
    /// Reads `summary.json` in `dir`. A missing or unreadable summary leaves the defaults
    /// (node fields `node` and `peer`, nothing checked); one that is not a regular file
    /// or too large is an error.
    fn read(dir: &Path) -> Result<RunInfo, String> {
        let path = dir.join("summary.json");
        let text = match read_record(&path, MAX_SUMMARY_BYTES) {
            Ok(text) => text,
            Err(faultline_reports::ReportError::Io { source, .. })
                if source.kind() == std::io::ErrorKind::NotFound =>
            {
                return Ok(RunInfo::default())
            }
            Err(err) => return Err(err.to_string()),
        };
        let Ok(summary) = serde_json::from_str::<Value>(&text) else {
            return Ok(RunInfo::default());
        };
        let workload = summary
            .get("workload")
            .and_then(Value::as_str)
            .map(str::to_owned);
        let families = summary
            .get("scenario_spec")
            .and_then(|spec| {
                crate::scenario::load_text(
                    &spec.to_string(),
                    "summary.json",
                    &crate::scenario::Options::default(),
                )
                .ok()
            })
            .map(|scenario| {
                scenario
                    .plan
                    .families
                    .iter()
                    .map(|family| {
                        (
                            family.prefix.trim_end_matches('-').to_owned(),
                            family.prefix.to_owned(),
                            family.count,
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        Ok(RunInfo { families, workload })
    }

    /// Which fields of a record name nodes: a field named after a node family (`client`
    /// for `client-`) holds an index in that family.
    fn node_fields(&self) -> Vec<String> {
        if self.families.is_empty() {
            return vec!["node".to_owned(), "peer".to_owned()];
        }
        self.families
            .iter()
            .map(|(field, _, _)| field.clone())
            .collect()
    }

    /// Refuses a `--node` selector that matches no node of the run, naming the nodes
    /// and the nearest one.
    fn check_node(&self, selector: &Selector) -> Result<(), String> {
        if self.families.is_empty()
            || self
                .families
                .iter()
                .any(|(_, prefix, count)| selector.matches_family(prefix, *count))
        {
            return Ok(());
        }
        let text = selector.as_str();
        let nodes: Vec<String> = self
            .families
            .iter()
            .map(|(_, prefix, count)| match count {
                0 => format!("no {prefix}*"),
                1 => format!("{prefix}0"),
                _ => format!("{prefix}0 .. {prefix}{}", count - 1),
            })
            .collect();
        let names: Vec<&str> = self
            .families
            .iter()
            .map(|(field, _, _)| field.as_str())
            .collect();
        // `server-9`: a family and an index; `srever-*`: a family misspelt.
        let (family, index) = text.rsplit_once('-').unwrap_or((text, "*"));
        let suggestion = match self.families.iter().find(|(field, _, _)| field == family) {
            Some((_, prefix, count)) if *count > 0 => Some(format!("{prefix}{}", count - 1)),
            Some(_) => None,
            None => closest(family, &names).map(|best| format!("{best}-{index}")),
        };
        let mut message = format!(
            "--node {text:?}: no node of this run is called that (it has {})",
            nodes.join(", ")
        );
        if let Some(best) = suggestion {
            message.push_str(&format!("; did you mean \"{best}\"?"));
        }
        Err(message)
    }

    /// The record kinds this run's trace may hold: the kernel's and its workload's (every
    /// workload's when the summary does not say).
    fn kinds(&self) -> Vec<&'static str> {
        let workload: Vec<&'static str> = match self
            .workload
            .as_deref()
            .and_then(crate::workload::trace_kinds)
        {
            Some(kinds) => kinds.to_vec(),
            None => crate::workload::all_trace_kinds(),
        };
        let mut kinds: Vec<&'static str> = KERNEL_KINDS.iter().copied().chain(workload).collect();
        kinds.sort_unstable();
        kinds.dedup();
        kinds
    }

    /// Refuses a `--kind` name that no record of this run can have.
    fn check_kinds(&self, given: &BTreeSet<&str>) -> Result<(), String> {
        let kinds = self.kinds();
        for kind in given {
            if !kinds.contains(kind) {
                let workload = self.workload.as_deref().unwrap_or("any");
                let mut message = format!(
                    "--kind {kind:?}: no record of the {workload} workload has this kind (the kinds are {})",
                    kinds.join(", ")
                );
                if let Some(best) = closest(kind, &kinds) {
                    message.push_str(&format!("; did you mean \"{best}\"?"));
                }
                return Err(message);
            }
        }
        Ok(())
    }
}

fn parse_time(text: &str, flag: &str) -> Result<u64, String> {
    text.parse::<Dur>()
        .map(Dur::as_nanos)
        .map_err(|err| format!("{flag} {text:?}: {err}"))
}

fn seconds(t_ns: u64) -> String {
    format!("{}.{:09}", t_ns / 1_000_000_000, t_ns % 1_000_000_000)
}

/// Text from the file as it may be printed: control characters (an ANSI escape's ESC,
/// a newline, DEL, C1) and bidirectional overrides escaped as `\u{1b}`, so a record
/// cannot move the cursor, recolour the terminal or reorder what is shown.
fn printable(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}') {
            out.push_str(&format!("\\u{{{:x}}}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    out
}

fn plain(value: &Value) -> String {
    match value {
        Value::String(text) => printable(text),
        other => printable(&other.to_string()),
    }
}

/// The fields of the kernel's `fault` record that [`fault_words`] puts in words.
const FAULT_FIELDS: [&str; 3] = ["fault", "phase", "action"];

/// A `fault` record in words: `crash server-0 starts (action 2)`; `None` for any other
/// record, or one without a name and a known phase (printed field by field).
fn fault_words<'v>(ev: &str, get: &impl Fn(&str) -> Option<&'v Value>) -> Option<String> {
    if ev != "fault" {
        return None;
    }
    let name = get("fault")?.as_str()?;
    let verb = match get("phase")?.as_str()? {
        "start" => "starts",
        "end" => "ends",
        _ => return None,
    };
    let action = get("action")?.as_u64()?;
    Some(format!("{} {verb} (action {action})", printable(name)))
}

/// Runs `trace`; returns the exit code.
pub fn run(args: &TraceArgs) -> u8 {
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let result = slice(args, &mut out);
    // A closed pipe (`| head`) ends the output early; that is not an error of the input.
    let _ = out.flush();
    match result {
        Ok(()) => EXIT_OK,
        Err(err) => {
            eprintln!("error: {err}");
            EXIT_BAD_INPUT
        }
    }
}

/// What a slice selects.
struct Filter<'a> {
    from_ns: u64,
    to_ns: u64,
    node: Option<Selector>,
    kinds: Option<BTreeSet<&'a str>>,
    fields: Vec<String>,
}

/// Reads the trace at `file` line by line and hands each matching record's cells to
/// `row` until `row` breaks or the records pass `--to`.
/// Returns the records read.
fn scan(
    file: &Path,
    filter: &Filter<'_>,
    mut row: impl FnMut([String; 6]) -> ControlFlow<()>,
) -> Result<u64, String> {
    let reader = open_record(file, MAX_TRACE_BYTES).map_err(|err| match err {
        faultline_reports::ReportError::Io { .. } => {
            format!("{err} (write a trace with `faultline run --trace`)")
        }
        other => other.to_string(),
    })?;
    let mut reader = BufReader::new(reader);
    let mut bytes = Vec::new();
    let mut read = 0u64;
    for index in 0u64.. {
        let at = |message: String| format!("{}:{}: {message}", file.display(), index + 1);
        bytes.clear();
        let n = (&mut reader)
            .take(MAX_LINE_BYTES as u64 + 1)
            .read_until(b'\n', &mut bytes)
            .map_err(|err| at(err.to_string()))?;
        if n == 0 {
            break;
        }
        if bytes.last() == Some(&b'\n') {
            bytes.pop();
        } else if bytes.len() > MAX_LINE_BYTES {
            return Err(at(format!(
                "the line is longer than the limit of {MAX_LINE_BYTES} bytes"
            )));
        }
        let line = std::str::from_utf8(&bytes).map_err(|err| {
            at(format!(
                "invalid UTF-8 at byte {} of the line: a trace is UTF-8 text",
                err.valid_up_to() + 1
            ))
        })?;
        let record: Ordered =
            serde_json::from_str(line).map_err(|err| at(format!("not a trace record: {err}")))?;
        read += 1;
        let get = |key: &str| {
            record
                .0
                .iter()
                .find(|(name, _)| name == key)
                .map(|(_, v)| v)
        };
        let t_ns = match get("t_ns") {
            Some(value) => value.as_u64().ok_or_else(|| {
                at(format!(
                    "`t_ns` is {}, not a time in whole nanoseconds",
                    printable(&value.to_string())
                ))
            })?,
            None => return Err(at("the record has no `t_ns`".to_owned())),
        };
        let ev = match get("ev") {
            Some(Value::String(ev)) => ev.as_str(),
            Some(other) => {
                return Err(at(format!(
                    "`ev` is {}, not a record kind",
                    printable(&other.to_string())
                )))
            }
            None => return Err(at("the record has no `ev`".to_owned())),
        };
        if t_ns > filter.to_ns {
            break;
        }
        if t_ns < filter.from_ns {
            continue;
        }
        if filter
            .kinds
            .as_ref()
            .is_some_and(|kinds| !kinds.contains(ev))
        {
            continue;
        }
        let names: Vec<String> = record
            .0
            .iter()
            .filter(|(key, value)| filter.fields.contains(key) && value.is_u64())
            .map(|(key, value)| format!("{key}-{value}"))
            .collect();
        if let Some(selector) = &filter.node {
            if !names.iter().any(|name| selector.matches(name)) {
                continue;
            }
        }
        let fault = fault_words(ev, &get);
        let details: Vec<String> = fault
            .iter()
            .cloned()
            .chain(
                record
                    .0
                    .iter()
                    .filter(|(key, _)| {
                        // Fields shown in a column of their own, or in the fault's words.
                        let placed = ["t_ns", "ev", "id"].contains(&key.as_str())
                            || filter.fields.contains(key)
                            || (fault.is_some() && FAULT_FIELDS.contains(&key.as_str()));
                        !placed
                    })
                    .map(|(key, value)| format!("{}={}", printable(key), plain(value))),
            )
            .collect();
        let cells = [
            seconds(t_ns),
            index.to_string(),
            printable(ev),
            printable(&names.join(" > ")),
            get("id").map(plain).unwrap_or_default(),
            details.join(" "),
        ];
        if row(cells).is_break() {
            break;
        }
    }
    Ok(read)
}

/// Writes the slice to `out`.
pub fn slice(args: &TraceArgs, out: &mut dyn Write) -> Result<(), String> {
    let (dir, file) = if args.path.is_dir() {
        (args.path.clone(), args.path.join("trace.jsonl"))
    } else {
        (
            args.path
                .parent()
                .map(Path::to_path_buf)
                .unwrap_or_default(),
            args.path.clone(),
        )
    };
    let from_ns = args
        .from
        .as_deref()
        .map(|t| parse_time(t, "--from"))
        .transpose()?
        .unwrap_or(0);
    let to_ns = args
        .to
        .as_deref()
        .map(|t| parse_time(t, "--to"))
        .transpose()?
        .unwrap_or(u64::MAX);
    if to_ns < from_ns {
        return Err("--to is before --from".to_owned());
    }
    let node = args
        .node
        .as_deref()
        .map(Selector::parse)
        .transpose()
        .map_err(|err| format!("--node: {err}"))?;
    let kinds: Option<BTreeSet<&str>> = args
        .kind
        .as_deref()
        .map(|kinds| kinds.split(',').map(str::trim).collect());
    let limit = args.limit.clamp(1, MAX_LIMIT) as u64;
    let info = RunInfo::read(&dir)?;
    if let Some(selector) = &node {
        info.check_node(selector)?;
    }
    if let Some(kinds) = &kinds {
        info.check_kinds(kinds)?;
    }
    let filter = Filter {
        from_ns,
        to_ns,
        node,
        kinds,
        fields: info.node_fields(),
    };

    let table = Table::new(&[
        ("t (s)", Align::Right),
        ("record", Align::Right),
        ("ev", Align::Left),
        ("nodes", Align::Left),
        ("id", Align::Right),
        ("details", Align::Left),
    ]);
    // First pass: the widths of the rows shown, and how many match.
    let mut widths: Vec<usize> = table
        .header_names()
        .iter()
        .map(|name| name.chars().count())
        .collect();
    let mut matched = 0u64;
    let read = scan(&file, &filter, |cells| {
        if matched < limit {
            for (width, cell) in widths.iter_mut().zip(&cells) {
                *width = (*width).max(cell.chars().count());
            }
        }
        matched += 1;
        ControlFlow::Continue(())
    })?;
    // Second pass: the rows, printed as they are read.
    let write_error = |err: std::io::Error| format!("cannot write the slice: {err}");
    out.write_all(table.text_line(&widths, &table.header_names()).as_bytes())
        .map_err(write_error)?;
    let mut shown = 0u64;
    let mut failed = None;
    if matched > 0 {
        scan(&file, &filter, |cells| {
            let cells: Vec<&str> = cells.iter().map(String::as_str).collect();
            if let Err(err) = out.write_all(table.text_line(&widths, &cells).as_bytes()) {
                failed = Some(err);
                return ControlFlow::Break(());
            }
            shown += 1;
            if shown >= limit {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        })?;
    }
    if let Some(err) = failed {
        return Err(write_error(err));
    }
    let mut text = format!(
        "{shown} of {matched} matching records shown ({read} read from {})",
        file.display()
    );
    if matched > shown {
        text.push_str(&format!(
            "; {} more: raise --limit or narrow the slice",
            matched - shown
        ));
    }
    text.push('\n');
    out.write_all(text.as_bytes()).map_err(write_error)
}
