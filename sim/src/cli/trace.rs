//! `faultline trace DIR [--node X] [--from T] [--to T] [--kind K] [--limit N]`: a
//! readable, aligned slice of a saved `trace.jsonl` (`run --trace` writes it).
//!
//! Records are one JSON object per line: `t_ns`, `ev`, the workload's node fields (named
//! after its node families: the rpc workload's `client` and `server`), `id`, then the
//! kind's typed fields. The node fields are told apart by the run's node families,
//! read from `summary.json` beside the trace (without it, fields named `node` and
//! `peer`). The file is read line by line and the reading stops past `--to`, so a long
//! trace costs its length in time, not in memory.

use std::collections::BTreeSet;
use std::fmt;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use serde::de::{MapAccess, Visitor};
use serde::{Deserialize, Deserializer};
use serde_json::Value;

use crate::scenario::{Dur, Selector};
use crate::sweep::table::{Align, Table};

use super::{EXIT_BAD_INPUT, EXIT_OK};

/// Most records one slice prints by default.
pub const DEFAULT_LIMIT: usize = 1_000;

/// Most records one slice may print.
pub const MAX_LIMIT: usize = 10_000_000;

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

/// Which fields of a record name nodes: a field named after a node family (`client` for
/// `client-`) holds an index in that family.
fn node_fields(dir: &Path) -> Vec<String> {
    let families = (|| -> Option<Vec<String>> {
        let text = std::fs::read_to_string(dir.join("summary.json")).ok()?;
        let summary: Value = serde_json::from_str(&text).ok()?;
        let spec = summary.get("scenario_spec")?;
        let scenario = crate::scenario::load_text(
            &spec.to_string(),
            "summary.json",
            &crate::scenario::Options::default(),
        )
        .ok()?;
        Some(
            scenario
                .plan
                .families
                .iter()
                .map(|family| family.prefix.trim_end_matches('-').to_owned())
                .collect(),
        )
    })();
    families.unwrap_or_else(|| vec!["node".to_owned(), "peer".to_owned()])
}

fn parse_time(text: &str, flag: &str) -> Result<u64, String> {
    text.parse::<Dur>()
        .map(Dur::as_nanos)
        .map_err(|err| format!("{flag} {text:?}: {err}"))
}

fn seconds(t_ns: u64) -> String {
    format!("{}.{:09}", t_ns / 1_000_000_000, t_ns % 1_000_000_000)
}

fn plain(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// Runs `trace`; returns the exit code.
pub fn run(args: &TraceArgs) -> u8 {
    match slice(args) {
        Ok(text) => {
            print!("{text}");
            EXIT_OK
        }
        Err(err) => {
            eprintln!("error: {err}");
            EXIT_BAD_INPUT
        }
    }
}

/// The slice as printed.
pub fn slice(args: &TraceArgs) -> Result<String, String> {
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
    let limit = args.limit.clamp(1, MAX_LIMIT);
    let fields = node_fields(&dir);
    let reader = BufReader::new(std::fs::File::open(&file).map_err(|err| {
        format!(
            "cannot read {}: {err} (write a trace with `faultline run --trace`)",
            file.display()
        )
    })?);

    let mut table = Table::new(&[
        ("t (s)", Align::Right),
        ("record", Align::Right),
        ("ev", Align::Left),
        ("nodes", Align::Left),
        ("id", Align::Right),
        ("details", Align::Left),
    ]);
    let (mut read, mut matched) = (0u64, 0u64);
    for (index, line) in reader.lines().enumerate() {
        let line = line.map_err(|err| format!("{}: {err}", file.display()))?;
        let record: Ordered = serde_json::from_str(&line).map_err(|err| {
            format!(
                "{}:{}: not a trace record: {err}",
                file.display(),
                index + 1
            )
        })?;
        read += 1;
        let get = |key: &str| {
            record
                .0
                .iter()
                .find(|(name, _)| name == key)
                .map(|(_, v)| v)
        };
        let t_ns = get("t_ns").and_then(Value::as_u64).unwrap_or(0);
        if t_ns > to_ns {
            break;
        }
        if t_ns < from_ns {
            continue;
        }
        let ev = get("ev").and_then(Value::as_str).unwrap_or("?");
        if kinds.as_ref().is_some_and(|kinds| !kinds.contains(ev)) {
            continue;
        }
        let names: Vec<String> = record
            .0
            .iter()
            .filter(|(key, value)| fields.contains(key) && value.is_u64())
            .map(|(key, value)| format!("{key}-{value}"))
            .collect();
        if let Some(selector) = &node {
            if !names.iter().any(|name| selector.matches(name)) {
                continue;
            }
        }
        matched += 1;
        if table.len() >= limit {
            continue;
        }
        let details: Vec<String> = record
            .0
            .iter()
            .filter(|(key, _)| {
                !["t_ns", "ev", "id"].contains(&key.as_str()) && !fields.contains(key)
            })
            .map(|(key, value)| format!("{key}={}", plain(value)))
            .collect();
        table.push(vec![
            seconds(t_ns),
            index.to_string(),
            ev.to_owned(),
            names.join(" > "),
            get("id").map(plain).unwrap_or_default(),
            details.join(" "),
        ]);
    }
    let mut text = table.to_text();
    let shown = table.len() as u64;
    text.push_str(&format!(
        "{shown} of {matched} matching records shown ({read} read from {})",
        file.display()
    ));
    if matched > shown {
        text.push_str(&format!(
            "; {} more: raise --limit or narrow the slice",
            matched - shown
        ));
    }
    text.push('\n');
    Ok(text)
}
