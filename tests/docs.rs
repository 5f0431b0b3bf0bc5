//! The user documentation keeps up with the code: every key of the scenario schema and
//! every fault kind is documented in `docs/scenario-format.md`, every field and column of
//! the run records and every trace kind in `docs/records.md`, every JSON example in
//! `docs/` loads (or, marked `invalid`, fails with the message the page shows), relative
//! links resolve, and nothing points outside the repository.
//!
//! A JSON example is a fenced block whose info string says what it is:
//! - ` ```json scenario `: a whole scenario file, which must load;
//! - ` ```json at=/faults/- `: a piece, put at that JSON pointer (`-` appends to an array)
//!   into the first `json scenario` block of the format reference, which must then load;
//! - ` ```json at=/faults/- on=NAME `: the same, into the format reference's
//!   `json scenario` block whose `name` is NAME (for pieces of another workload kind);
//! - ` ```json invalid `: a whole file that must fail, with its message on the same page.
//!
//! A plain ` ```json ` block is refused, so that no example goes unchecked.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde_json::Value;

/// Most fenced blocks one page may hold; a bound on the scan, far above any real page.
const MAX_BLOCKS_PER_PAGE: usize = 1_000;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read(relative: &str) -> String {
    let path = root().join(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|err| panic!("read {}: {err}", path.display()))
}

/// The Markdown pages of `docs/`, sorted, as paths relative to the repository.
fn doc_pages() -> Vec<String> {
    let dir = root().join("docs");
    let mut pages: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|err| panic!("read {}: {err}", dir.display()))
        .map(|entry| entry.expect("read docs/ entry").file_name())
        .filter_map(|name| name.to_str().map(str::to_owned))
        .filter(|name| name.ends_with(".md"))
        .map(|name| format!("docs/{name}"))
        .collect();
    pages.sort();
    assert!(
        pages.iter().any(|page| page == "docs/scenario-format.md"),
        "docs/scenario-format.md is missing: {pages:?}"
    );
    pages
}

fn schema() -> Value {
    serde_json::from_str(&read("scenarios/schema.json")).expect("scenarios/schema.json is JSON")
}

fn object_keys(value: &Value) -> Vec<String> {
    value
        .as_object()
        .map(|map| map.keys().cloned().collect())
        .unwrap_or_default()
}

/// Every property name anywhere in the schema, and every string constant (enum values
/// such as `full` or `count_window`), found by walking the whole document.
fn schema_names(value: &Value, names: &mut BTreeSet<String>) {
    match value {
        Value::Object(map) => {
            if let Some(Value::Object(properties)) = map.get("properties") {
                names.extend(properties.keys().cloned());
            }
            if let Some(Value::String(constant)) = map.get("const") {
                names.insert(constant.clone());
            }
            if let Some(Value::Array(values)) = map.get("enum") {
                names.extend(values.iter().filter_map(Value::as_str).map(str::to_owned));
            }
            for child in map.values() {
                schema_names(child, names);
            }
        }
        Value::Array(items) => {
            for item in items {
                schema_names(item, names);
            }
        }
        _ => {}
    }
}

/// Fault kinds: the keys of a `$defs` object whose `oneOf` only says which one key is
/// required (`{"oneOf": [{"required": ["crash"]}, {"required": ["pause"]}]}`), as the
/// schema writes "exactly one kind per entry". Returns (definition, kinds) pairs.
fn fault_kinds(schema: &Value) -> Vec<(String, Vec<String>)> {
    let defs = schema["$defs"].as_object().expect("schema has $defs");
    let mut found = Vec::new();
    for (name, def) in defs {
        let Some(alternatives) = def.get("oneOf").and_then(Value::as_array) else {
            continue;
        };
        let kinds: Option<Vec<String>> = alternatives
            .iter()
            .map(|alternative| {
                let map = alternative.as_object()?;
                let required = map.get("required")?.as_array()?;
                match (map.len(), required.as_slice()) {
                    (1, [Value::String(kind)]) => Some(kind.clone()),
                    _ => None,
                }
            })
            .collect();
        if let Some(kinds) = kinds.filter(|kinds| !kinds.is_empty()) {
            found.push((name.clone(), kinds));
        }
    }
    found
}

fn undocumented<'a>(names: impl IntoIterator<Item = &'a String>, page: &str) -> Vec<String> {
    names
        .into_iter()
        .filter(|name| !page.contains(&format!("`{name}`")))
        .cloned()
        .collect()
}

#[test]
fn every_top_level_key_is_in_the_format_reference() {
    let schema = schema();
    let page = read("docs/scenario-format.md");
    let keys = object_keys(&schema["properties"]);
    assert!(
        keys.len() >= 3,
        "the schema's top level has too few properties: {keys:?}"
    );
    let missing = undocumented(&keys, &page);
    assert!(
        missing.is_empty(),
        "top-level keys of scenarios/schema.json missing from docs/scenario-format.md \
         (write each as `key`): {missing:?}"
    );
}

#[test]
fn every_fault_kind_is_in_the_format_reference() {
    let schema = schema();
    let page = read("docs/scenario-format.md");
    let groups = fault_kinds(&schema);
    // `faults` and `random_faults` both say "one kind per entry"; a schema that stopped
    // saying so would leave this test with nothing to check.
    assert!(
        groups.len() >= 2,
        "expected the fault entry and the random fault entry among {groups:?}"
    );
    let top = object_keys(&schema["properties"]);
    for (def, kinds) in &groups {
        let used = top
            .iter()
            .any(|key| schema["properties"][key]["items"]["$ref"] == format!("#/$defs/{def}"));
        assert!(
            used,
            "{def} (kinds {kinds:?}) is not the item of a top-level array"
        );
        let missing = undocumented(kinds, &page);
        assert!(
            missing.is_empty(),
            "fault kinds of {def} missing from docs/scenario-format.md (write each as \
             `kind`): {missing:?}"
        );
        for kind in kinds {
            let heading = format!("### `{kind}`");
            assert!(
                page.lines().any(|line| line.trim_end() == heading),
                "docs/scenario-format.md has no section `{heading}` for the {def} kind"
            );
        }
    }
}

#[test]
fn every_key_and_value_of_the_schema_is_in_the_format_reference() {
    let mut names = BTreeSet::new();
    schema_names(&schema(), &mut names);
    assert!(
        names.len() > 50,
        "walking the schema found too few names: {names:?}"
    );
    let page = read("docs/scenario-format.md");
    let missing = undocumented(&names, &page);
    assert!(
        missing.is_empty(),
        "keys or values of scenarios/schema.json missing from docs/scenario-format.md \
         (write each as `name`): {missing:?}"
    );
}

#[test]
fn nothing_points_outside_the_repository() {
    let mut pages = doc_pages();
    pages.push("README.md".to_owned());
    for page in &pages {
        let text = read(page);
        assert!(
            !text.contains("../shared"),
            "{page} points at ../shared, which a clone does not have"
        );
        assert!(
            !text.contains("DESIGN.md"),
            "{page} names DESIGN.md, which is not in the repository"
        );
    }
}

/// Every object key anywhere in `value`, walking arrays and objects.
fn json_keys(value: &Value, keys: &mut BTreeSet<String>) {
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                keys.insert(key.clone());
                json_keys(child, keys);
            }
        }
        Value::Array(items) => items.iter().for_each(|item| json_keys(item, keys)),
        _ => {}
    }
}

/// A field is documented when the page writes it in backticks, alone (`offered`) or as
/// the last part of a dotted path (`bank.accounts`).
fn undocumented_fields<'a>(names: impl IntoIterator<Item = &'a String>, page: &str) -> Vec<String> {
    names
        .into_iter()
        .filter(|name| !page.contains(&format!("`{name}`")) && !page.contains(&format!(".{name}`")))
        .cloned()
        .collect()
}

/// A run record with every optional part present, so that serialising it shows every
/// field `summary.json` and the CSV files can have.
fn full_record() -> faultline_reports::record::RunRecord {
    use faultline_reports::record::{
        BankSummary, BankWindowRow, CheckResult, ConnectionSummary, FaultInterval, HaltSummary,
        HlcOffsetRow, Invariant, RecoverySummary, RpcSummary, RunRecord, SnapshotSummary, Summary,
        TimelineRow,
    };
    let mut summary = Summary {
        simulated_s: 10.0,
        window_s: 1.0,
        slo_latency_ms: Some(500.0),
        faults: vec![FaultInterval {
            kind: "crash".to_owned(),
            target: "server-0".to_owned(),
            start_s: 1.0,
            end_s: Some(2.0),
        }],
        checks: vec![CheckResult {
            name: "availability_at_least 0.9".to_owned(),
            passed: true,
            detail: String::new(),
            figure: Some("availability".to_owned()),
            threshold: Some(0.9),
        }],
        figures: faultline_reports::figures::figures_of(
            &faultline::workload::rpc::figures::FIGURES[..1],
            vec![Some(1.0)],
        ),
        series: faultline::workload::rpc::figures::SERIES[..1]
            .iter()
            .map(faultline_reports::figures::SeriesInfo::from)
            .collect(),
        tables: vec![faultline_reports::figures::RecordTable::new(
            "requests",
            "How the requests ended",
            "",
            &["outcome"],
        )],
        bank: Some(BankSummary {
            invariants: vec![Invariant::default()],
            snapshots: vec![SnapshotSummary::default()],
            recoveries: vec![RecoverySummary::default()],
            halted: vec![HaltSummary::default()],
            ..BankSummary::default()
        }),
        ..Summary::default()
    };
    summary.set_rpc(RpcSummary {
        availability_latency: Some(1.0),
        connections: Some(ConnectionSummary::default()),
        ..RpcSummary::default()
    });
    RunRecord {
        summary,
        timeline: vec![TimelineRow::default()],
        bank_timeline: vec![BankWindowRow::default()],
        hlc_offsets: vec![HlcOffsetRow::default()],
        series: faultline_reports::figures::SeriesTable {
            t_s: vec![0.0],
            columns: vec![vec![1.0]],
        },
    }
}

#[test]
fn every_declared_figure_and_series_is_in_the_records_page() {
    let page = read("docs/records.md");
    for declared in faultline::workload::DECLARATIONS {
        let (kind, figures, series) = (declared.kind, declared.figures, declared.series);
        let heading = format!("### `{kind}` figures");
        let Some(at) = page.find(&heading) else {
            panic!("docs/records.md has no section {heading:?}");
        };
        // The kind's part: from its heading to the next heading of its level.
        let part = &page[at..];
        let part = &part[..part[4..].find("\n### ").map_or(part.len(), |end| end + 4)];
        for figure in figures {
            assert!(
                part.contains(&format!("| `{}`", figure.name)),
                "figure {} of {kind} is not in its section of docs/records.md",
                figure.name
            );
        }
        for one in series {
            assert!(
                part.contains(&format!("| `{}` |", one.name)),
                "series {} of {kind} is not in its section of docs/records.md",
                one.name
            );
        }
    }
}

#[test]
fn every_record_field_and_column_is_in_the_records_page() {
    let page = read("docs/records.md");
    let record = full_record();
    let mut names = BTreeSet::new();
    json_keys(
        &serde_json::to_value(&record.summary).expect("a summary serialises"),
        &mut names,
    );
    for row in [
        serde_json::to_value(&record.timeline[0]),
        serde_json::to_value(&record.bank_timeline[0]),
        serde_json::to_value(&record.hlc_offsets[0]),
    ] {
        json_keys(&row.expect("a row serialises"), &mut names);
    }
    let header: Vec<&str> = faultline_reports::record::TIMELINE_HEADER
        .split(',')
        .collect();
    names.extend(header.iter().map(|column| column.to_string()));
    // report.json: its top level and the rpc section's.
    let stats = serde_json::to_value(faultline_reports::stats::compute(&record))
        .expect("report statistics serialise");
    names.extend(object_keys(&stats));
    names.extend(object_keys(&stats["rpc"]));
    for must in [
        "scenario_spec",
        "availability",
        "bank",
        "rpc",
        "in_flight_units",
        "good",
    ] {
        assert!(names.contains(must), "the walk missed {must}: {names:?}");
    }
    let missing = undocumented_fields(&names, &page);
    assert!(
        missing.is_empty(),
        "fields of summary.json, report.json or the CSV files missing from docs/records.md \
         (write each as `field` or `section.field`): {missing:?}"
    );
}

#[test]
fn every_trace_kind_is_in_the_records_page() {
    use faultline::engine::faults::Phase;
    use faultline::engine::network::DropReason;
    use faultline::engine::trace::{KernelEvent, TraceEvent};
    use faultline::workload::bank::account::Skip;
    use faultline::workload::bank::trace::BankTrace;
    use faultline::workload::rpc::trace::{ConnStep, DropCause, FailCause, RejectCause, RpcTrace};
    use faultline_models::breaker::BreakerState;

    let page = read("docs/records.md");
    let rpc = [
        RpcTrace::Request,
        RpcTrace::Send { attempt: 0 },
        RpcTrace::Arrive,
        RpcTrace::Reject(RejectCause::QueueFull),
        RpcTrace::Serve,
        RpcTrace::Drop {
            cause: DropCause::NodeDown,
            reply: true,
        },
        RpcTrace::Reply { ok: true },
        RpcTrace::Timeout,
        RpcTrace::Backoff { delay_ns: 1 },
        RpcTrace::Success { latency_ns: 1 },
        RpcTrace::Fail(FailCause::Error),
        RpcTrace::Breaker(BreakerState::Open),
        RpcTrace::Crash,
        RpcTrace::Restart,
        RpcTrace::Conn(ConnStep::Held),
    ];
    // The bank's event and recovery records need a whole event to build; `send`,
    // `receive` and `local` are rpc's or checked by name below.
    let bank = [
        BankTrace::SnapshotStart { snapshot: 1 },
        BankTrace::SnapshotPart { snapshot: 1 },
        BankTrace::SnapshotDone { snapshot: 1 },
        BankTrace::Drop(DropReason::Loss),
        BankTrace::NodeDown,
        BankTrace::Crash,
        BankTrace::Restart,
        BankTrace::Skip(Skip::Funds),
        BankTrace::Halt,
    ];
    let mut kinds: BTreeSet<String> = rpc.iter().map(|kind| kind.name().to_owned()).collect();
    kinds.extend(bank.iter().map(|kind| kind.name().to_owned()));
    kinds.insert(
        KernelEvent::Fault {
            action: 0,
            phase: Phase::Start,
            fault: "crash server-0",
        }
        .name()
        .to_owned(),
    );
    kinds.extend(["send", "receive", "local", "recover"].map(str::to_owned));
    assert!(kinds.len() >= 25, "too few trace kinds: {kinds:?}");
    let missing = undocumented(&kinds, &page);
    assert!(
        missing.is_empty(),
        "trace kinds missing from docs/records.md (write each as `kind`): {missing:?}"
    );
    // Node and peer field names, which each vocabulary chooses.
    for field in [
        RpcTrace::NODE,
        RpcTrace::PEER,
        BankTrace::NODE,
        BankTrace::PEER,
    ] {
        assert!(
            page.contains(&format!("`{field}`")),
            "docs/records.md does not name the trace field `{field}`"
        );
    }
}

/// A fenced block: its info string (after the backticks), body and first line (1-based).
struct Block {
    info: String,
    body: String,
    line: usize,
}

fn fenced_blocks(page: &str, text: &str) -> Vec<Block> {
    let mut blocks = Vec::new();
    let mut open: Option<Block> = None;
    for (index, line) in text.lines().enumerate() {
        let fence = line.trim_start().starts_with("```");
        match open.as_mut() {
            None if fence => {
                open = Some(Block {
                    info: line.trim_start().trim_start_matches('`').trim().to_owned(),
                    body: String::new(),
                    line: index + 1,
                });
            }
            None => {}
            Some(_) if fence => {
                blocks.extend(open.take());
                assert!(
                    blocks.len() <= MAX_BLOCKS_PER_PAGE,
                    "{page}: more than {MAX_BLOCKS_PER_PAGE} fenced blocks"
                );
            }
            Some(block) => {
                block.body.push_str(line);
                block.body.push('\n');
            }
        }
    }
    assert!(open.is_none(), "{page}: a fenced block is never closed");
    blocks
}

/// Puts `value` at the JSON pointer `pointer` of `tree`, creating missing objects and
/// arrays on the way; a last token `-` appends to an array.
fn put(tree: &mut Value, pointer: &str, value: Value) -> Result<(), String> {
    let tokens: Vec<&str> = pointer
        .strip_prefix('/')
        .ok_or_else(|| format!("pointer {pointer:?} must start with /"))?
        .split('/')
        .collect();
    let (last, path) = tokens
        .split_last()
        .expect("split yields at least one token");
    let mut node = tree;
    for (index, token) in path.iter().enumerate() {
        let next_is_array = tokens[index + 1] == "-" || tokens[index + 1].parse::<usize>().is_ok();
        node = match node {
            Value::Object(map) => map.entry(token.to_string()).or_insert_with(|| {
                if next_is_array {
                    Value::Array(Vec::new())
                } else {
                    Value::Object(serde_json::Map::new())
                }
            }),
            Value::Array(items) => token
                .parse::<usize>()
                .ok()
                .and_then(|i| items.get_mut(i))
                .ok_or_else(|| format!("pointer {pointer:?}: no element {token}"))?,
            _ => {
                return Err(format!(
                    "pointer {pointer:?}: {token} is not inside an object"
                ))
            }
        };
    }
    match node {
        Value::Array(items) if *last == "-" => items.push(value),
        Value::Object(map) => {
            map.insert(last.to_string(), value);
        }
        _ => {
            return Err(format!(
                "pointer {pointer:?} does not end in an object or array"
            ))
        }
    }
    Ok(())
}

#[test]
fn every_json_example_in_the_docs_is_checked_and_holds() {
    let reference = read("docs/scenario-format.md");
    // The reference's whole scenarios, in page order: the first is the default base of a
    // piece, `on=NAME` picks another by its `name`.
    let bases: Vec<Value> = fenced_blocks("docs/scenario-format.md", &reference)
        .iter()
        .filter(|block| block.info == "json scenario")
        .map(|block| serde_json::from_str(&block.body).expect("a reference scenario is JSON"))
        .collect();
    assert!(
        !bases.is_empty(),
        "docs/scenario-format.md has no `json scenario` block"
    );
    let base_named = |name: Option<&str>| -> Result<Value, String> {
        match name {
            None => Ok(bases[0].clone()),
            Some(name) => bases
                .iter()
                .find(|base| base["name"] == name)
                .cloned()
                .ok_or_else(|| {
                    format!("on={name}: no `json scenario` block named {name:?} in docs/scenario-format.md")
                }),
        }
    };
    let mut checked = 0usize;
    let mut problems = Vec::new();
    for page in doc_pages() {
        let text = read(&page);
        for block in fenced_blocks(&page, &text) {
            let mut words = block.info.split_whitespace();
            if words.next() != Some("json") {
                continue;
            }
            let place = format!("{page}:{}", block.line);
            let role = words.next().unwrap_or("");
            let outcome = match role {
                "scenario" => faultline::scenario::load_text(&block.body, &place, &faultline::scenario::Options::default())
                    .map(|_| ())
                    .map_err(|err| err.to_string()),
                "invalid" => match faultline::scenario::load_text(&block.body, &place, &faultline::scenario::Options::default()) {
                    Ok(_) => Err("marked invalid, but it loads".to_owned()),
                    // The page shows the message after the file name and position.
                    Err(err) if text.contains(&format!("{}: {}", err.path, err.message)) => Ok(()),
                    Err(err) => Err(format!("the page does not show its error: {err}")),
                },
                _ => match role.strip_prefix("at=") {
                    Some(pointer) => serde_json::from_str::<Value>(&block.body)
                        .map_err(|err| format!("not JSON: {err}"))
                        .and_then(|piece| {
                            let on = match words.next() {
                                None => None,
                                Some(word) => Some(word.strip_prefix("on=").ok_or_else(|| {
                                    format!("after at={pointer} only on=NAME may follow (found {word:?})")
                                })?),
                            };
                            let mut tree = base_named(on)?;
                            put(&mut tree, pointer, piece)?;
                            faultline::scenario::load_text(&tree.to_string(), &place, &faultline::scenario::Options::default())
                                .map(|_| ())
                                .map_err(|err| format!("put at {pointer}: {}", err.message))
                        }),
                    None => Err(format!(
                        "say what the example is: ```json scenario, ```json at=/POINTER \
                         [on=NAME] or ```json invalid (found {:?})",
                        block.info
                    )),
                },
            };
            checked += 1;
            if let Err(problem) = outcome {
                problems.push(format!("{place}: {problem}"));
            }
        }
    }
    assert!(checked >= 30, "only {checked} JSON examples found in docs/");
    assert!(
        problems.is_empty(),
        "JSON examples in docs/ that do not hold:\n{}",
        problems.join("\n")
    );
}

/// GitHub's anchor for a heading: lower case, punctuation dropped, spaces to `-`.
fn anchor(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

fn anchors(text: &str) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut in_block = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            in_block = !in_block;
            continue;
        }
        if in_block || !line.starts_with('#') {
            continue;
        }
        let base = anchor(line.trim_start_matches('#'));
        // Repeated headings get -1, -2, ... as on GitHub.
        let mut name = base.clone();
        let mut counter = 0u32;
        while seen.contains(&name) {
            counter += 1;
            name = format!("{base}-{counter}");
        }
        seen.insert(name);
    }
    seen
}

/// Targets of inline links `[text](target)` outside code, relative ones only.
fn relative_links(text: &str) -> Vec<String> {
    let mut links = Vec::new();
    let mut in_block = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            in_block = !in_block;
            continue;
        }
        if in_block {
            continue;
        }
        let mut rest = line;
        while let Some(start) = rest.find("](") {
            let after = &rest[start + 2..];
            let Some(end) = after.find(')') else { break };
            let target = &after[..end];
            if !target.contains("://") && !target.starts_with("mailto:") {
                links.push(target.to_owned());
            }
            rest = &after[end..];
        }
    }
    links
}

#[test]
fn relative_links_resolve() {
    let mut pages = doc_pages();
    pages.push("README.md".to_owned());
    let mut broken = Vec::new();
    let mut count = 0usize;
    for page in &pages {
        let text = read(page);
        let dir = Path::new(page).parent().unwrap_or(Path::new(""));
        for link in relative_links(&text) {
            count += 1;
            let (file, fragment) = link.split_once('#').unwrap_or((link.as_str(), ""));
            let target = if file.is_empty() {
                PathBuf::from(page)
            } else {
                dir.join(file)
            };
            let Ok(target_text) = std::fs::read_to_string(root().join(&target)) else {
                if !root().join(&target).exists() {
                    broken.push(format!("{page}: {link}: no file {}", target.display()));
                }
                continue;
            };
            if !fragment.is_empty() && !anchors(&target_text).contains(fragment) {
                broken.push(format!("{page}: {link}: no heading #{fragment}"));
            }
        }
    }
    assert!(count >= 10, "only {count} relative links found");
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

/// The README's CLI block names every flag of every command, as clap knows them (hidden
/// ones aside), so that the list a user reads first cannot fall behind the code.
#[test]
fn the_readme_cli_block_names_every_flag_of_every_command() {
    use clap::CommandFactory;
    let readme = read("README.md");
    let block = readme
        .split("## The CLI")
        .nth(1)
        .and_then(|rest| rest.split("```").nth(1))
        .expect("README.md has a `## The CLI` section with a fenced block");
    let mut missing = Vec::new();
    let cli = faultline::cli::Cli::command();
    for sub in cli.get_subcommands() {
        let name = sub.get_name();
        let prefix = format!("faultline {name} ");
        let line = block
            .lines()
            .find(|line| line.starts_with(&prefix) || line.trim_end() == prefix.trim_end())
            .unwrap_or_else(|| panic!("the README's CLI block has no line for `faultline {name}`"));
        // The synopsis ends where the line's comment starts.
        let synopsis = line.split('#').next().unwrap_or(line);
        for arg in sub.get_arguments().filter(|arg| !arg.is_hide_set()) {
            let Some(long) = arg.get_long() else { continue };
            if long == "help" || long == "version" {
                continue;
            }
            let flag = format!("--{long}");
            let named = synopsis
                .split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
                .any(|word| word == flag);
            if !named {
                missing.push(format!("faultline {name} {flag}"));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "flags missing from the README's CLI block: {missing:?}"
    );
}

/// The pictures the README shows were drawn by the current chart code: each carries the
/// chart format version it was drawn with, and the reports crate bumps its version with
/// every change to the charts' look. A failure here means: make the picture again with
/// the command in its caption, and copy the chart over the bundled file.
#[test]
fn the_readme_pictures_are_of_the_current_chart_format() {
    let readme = read("README.md");
    let pictures: Vec<&str> = readme
        .split("](")
        .skip(1)
        .filter_map(|rest| rest.split(')').next())
        .filter(|target| target.ends_with(".png"))
        .collect();
    assert!(!pictures.is_empty(), "the README shows a picture");
    let want = faultline_reports::plots::CHART_FORMAT_VERSION;
    for picture in pictures {
        let bytes =
            std::fs::read(root().join(picture)).unwrap_or_else(|err| panic!("{picture}: {err}"));
        let got = faultline_reports::plots::png_chart_format(&bytes);
        assert_eq!(
            got,
            Some(want),
            "{picture} was drawn with chart format {got:?}, the charts are at {want}: make it \
             again with the command in its README caption and copy the chart (e.g. \
             runs/thundering-herd/compare-workload.clients.retry.backoff.jitter/herd.png) over {picture}"
        );
    }
}

/// The README's headline command prints what its caption says: it exits 1 because the
/// three jittered variants fail the p99 check and nothing else, and the caption's
/// availabilities, peaks and p99s are the run's own, as rounded there.
#[test]
fn the_readme_caption_is_what_the_headline_comparison_prints() {
    let readme = read("README.md");
    let vary = "workload.clients.retry.backoff.jitter=none,full,equal,decorrelated";
    assert!(readme.contains(&format!(
        "cargo run --release -- compare scenarios/thundering-herd.json --vary {vary}"
    )));
    let out = std::env::temp_dir().join(format!("faultline-docs-{}-headline", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    let result = std::process::Command::new(env!("CARGO_BIN_EXE_faultline"))
        .current_dir(root())
        .args([
            "compare",
            "scenarios/thundering-herd.json",
            "--vary",
            vary,
            "--out",
        ])
        .arg(&out)
        .output()
        .expect("run faultline compare");
    assert_eq!(
        result.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&result.stderr)
    );
    let json = |variant: &str, file: &str| -> Value {
        let path = out.join(variant).join(file);
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap())
            .unwrap_or_else(|err| panic!("{}: {err}", path.display()))
    };
    let mut said = Vec::new();
    for variant in ["none", "full", "equal", "decorrelated"] {
        let summary = json(variant, "summary.json");
        let report = json(variant, "report.json");
        let failed: Vec<&str> = summary["checks"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["passed"] == false)
            .map(|c| c["name"].as_str().unwrap())
            .collect();
        let want_failed: &[&str] = if variant == "none" {
            &[]
        } else {
            &["p99_latency_at_most 5s"]
        };
        assert_eq!(failed, want_failed, "{variant}");
        let availability_pct = summary["availability"].as_f64().unwrap() * 100.0;
        let p99_s = summary["latency_ms"]["p99"].as_f64().unwrap() / 1000.0;
        let peak = report["rpc"]["peak"]["multiple"].as_f64().unwrap();
        match variant {
            "none" => {
                said.push(format!("{peak:.0}x the steady load"));
                said.push(format!("(availability {availability_pct:.1} %)"));
                said.push(format!("against {p99_s:.1} s in lockstep"));
            }
            "full" => {
                said.push(format!(
                    "peak {peak:.1}x, availability {availability_pct:.1} %"
                ));
                said.push(format!("p99 is {p99_s:.1} s (full)"));
            }
            other => {
                said.push(format!("{other} {peak:.1}x"));
                said.push(format!("{p99_s:.1} s ({other})"));
            }
        }
    }
    let caption = readme
        .split("![")
        .nth(1)
        .and_then(|rest| rest.split("## ").next())
        .expect("the README's picture and its caption")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    let missing: Vec<&String> = said
        .iter()
        .filter(|s| !caption.contains(s.as_str()))
        .collect();
    assert!(
        missing.is_empty(),
        "the README's caption does not say what the run printed: {missing:?}"
    );
    let _ = std::fs::remove_dir_all(&out);
}
