//! Records are input too: `report` and `trace` read files a run wrote, and a file that
//! was edited, truncated, swapped for a FIFO or a link to `/dev/zero`, or grown past any
//! run's size gets exit 2 with the file and the field, never a panic, a hang or an
//! unbounded allocation. Commands that could hang run under a deadline ([`bounded`]).

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use common::{base_scenario, expect_exit, sweep_file, temp_dir, BATCH_ENGINE_VARS};
use faultline::sweep::record::SweepFile;
use faultline::sweep::seeds::Shard;
use serde_json::{json, Value};

/// Longest any command here may take; one that hangs (a FIFO opened for reading waits
/// for a writer) is killed and fails the test.
const DEADLINE: Duration = Duration::from_secs(60);

/// Runs the binary with `args`, killing it past [`DEADLINE`].
fn bounded(args: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_faultline"));
    command
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for name in BATCH_ENGINE_VARS {
        command.env_remove(name);
    }
    let mut child = command.spawn().expect("faultline starts");
    // Counted in sleeps, not read from a clock (the clippy rules keep clocks out of
    // anything built with madsim).
    let tick = Duration::from_millis(20);
    for _ in 0..DEADLINE.as_millis() / tick.as_millis() {
        if child.try_wait().expect("wait").is_some() {
            return child.wait_with_output().expect("output");
        }
        std::thread::sleep(tick);
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("faultline {args:?} still running after {DEADLINE:?}: it hangs");
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Asserts exit 2 and that stderr contains every one of `needles`.
fn refused(output: &Output, needles: &[&str]) {
    let err = stderr(output);
    expect_exit(output, 2);
    for needle in needles {
        assert!(err.contains(needle), "{needle:?} not in: {err}");
    }
    assert!(!err.contains("panicked"), "{err}");
}

fn mkfifo(path: &Path) {
    let status = Command::new("mkfifo")
        .arg(path)
        .status()
        .expect("mkfifo runs");
    assert!(status.success(), "mkfifo {}", path.display());
}

/// A small rpc scenario (2 s, 5 clients, 2 servers) written to `dir`.
fn small_scenario(dir: &Path) -> PathBuf {
    let mut value = base_scenario();
    value["duration"] = json!("2s");
    value["workload"]["clients"]["count"] = json!(5);
    value["workload"]["servers"]["count"] = json!(2);
    let path = dir.join("small.json");
    std::fs::write(&path, value.to_string()).unwrap();
    path
}

/// A saved run of [`small_scenario`] in `dir/run`, with its trace.
fn traced_run(dir: &Path) -> PathBuf {
    let scenario = small_scenario(dir);
    let out = dir.join("run");
    let result = bounded(&[
        "run",
        scenario.to_str().unwrap(),
        "--trace",
        "--out",
        out.to_str().unwrap(),
    ]);
    expect_exit(&result, 0);
    out
}

/// A saved run (no trace) in `dir/run`, written in-process.
fn saved_run(dir: &Path) -> PathBuf {
    let record = common::run_record(&base_scenario());
    let out = dir.join("run");
    faultline_reports::save_run(&out, &record).unwrap();
    out
}

#[test]
fn report_refuses_a_summary_that_is_a_fifo_or_a_link_to_dev_zero() {
    let dir = temp_dir("records-special");
    let run = saved_run(&dir);
    let summary = run.join("summary.json");
    std::fs::remove_file(&summary).unwrap();
    mkfifo(&summary);
    refused(
        &bounded(&["report", run.to_str().unwrap()]),
        &["summary.json", "not a regular file"],
    );
    std::fs::remove_file(&summary).unwrap();
    std::os::unix::fs::symlink("/dev/zero", &summary).unwrap();
    refused(
        &bounded(&["report", run.to_str().unwrap()]),
        &["summary.json", "not a regular file"],
    );
    std::fs::remove_file(&summary).unwrap();
    std::fs::create_dir(&summary).unwrap();
    refused(
        &bounded(&["report", run.to_str().unwrap()]),
        &["summary.json", "a directory"],
    );
}

#[test]
fn oversized_and_long_lined_record_files_are_refused_before_they_are_read() {
    let dir = temp_dir("records-size");
    let run = saved_run(&dir);
    let timeline = run.join("timeline.csv");
    let good = std::fs::read_to_string(&timeline).unwrap();
    // A sparse file: 2 GiB on paper, nothing on disk.
    let file = std::fs::File::create(&timeline).unwrap();
    file.set_len(2 << 30).unwrap();
    drop(file);
    let limit = faultline_reports::io::MAX_CSV_BYTES.to_string();
    refused(
        &bounded(&["report", run.to_str().unwrap()]),
        &["timeline.csv", "over the limit of", &limit],
    );
    // Under the size limit, but one line longer than any row.
    let line_limit = faultline_reports::io::MAX_CSV_LINE_BYTES;
    let mut long = good.clone();
    long.push_str(&"9".repeat(line_limit + 1));
    long.push('\n');
    std::fs::write(&timeline, long).unwrap();
    let e = faultline_reports::load_run(&run).unwrap_err().to_string();
    assert!(
        e.contains("timeline.csv") && e.contains("longer than the limit"),
        "{e}"
    );
    // The summary, in-process: over its limit.
    std::fs::write(&timeline, good).unwrap();
    let summary = run.join("summary.json");
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(&summary)
        .unwrap();
    file.set_len(faultline_reports::io::MAX_SUMMARY_BYTES + 1)
        .unwrap();
    drop(file);
    let e = faultline_reports::load_run(&run).unwrap_err().to_string();
    assert!(
        e.contains("summary.json") && e.contains("over the limit"),
        "{e}"
    );
}

#[test]
fn the_record_reader_stops_a_file_that_grows_past_its_limit() {
    // /dev/zero reports a size of 0 and never ends: the reader's own count stops it
    // (a device is refused first by `open_record`, so the count is tested on its reader
    // type through a regular file read with a small limit).
    let dir = temp_dir("records-grow");
    let path = dir.join("x.json");
    std::fs::write(&path, "0123456789").unwrap();
    let text = faultline_reports::io::read_record(&path, 10).unwrap();
    assert_eq!(text, "0123456789");
    let e = faultline_reports::io::read_record(&path, 9)
        .unwrap_err()
        .to_string();
    assert!(e.contains("over the limit of 9 bytes"), "{e}");
}

/// Writes a sweep directory with `file` (as JSON, after `edit`) and a timing file.
fn sweep_dir(dir: &Path, name: &str, file: &SweepFile, edit: impl FnOnce(&mut Value)) -> PathBuf {
    let out = dir.join(name);
    std::fs::create_dir_all(&out).unwrap();
    let mut value: Value = serde_json::from_str(&file.to_text()).unwrap();
    edit(&mut value);
    std::fs::write(out.join("sweep.json"), value.to_string()).unwrap();
    let timing = json!({
        "parts": [{"runs": file.runs.len(), "jobs": 1, "wall_s": 1.0, "seed_runs_per_hour": 3600.0}],
        "runs": file.runs.iter().map(|run| json!({"seed": run.seed, "sim_s": 0.1})).collect::<Vec<_>>(),
    });
    std::fs::write(out.join("timing.json"), timing.to_string()).unwrap();
    out
}

#[test]
fn a_valid_sweep_record_still_reports_and_merges() {
    let dir = temp_dir("records-sweep-ok");
    let whole = sweep_dir(&dir, "whole", &sweep_file(None), |_| {});
    // Seeds 12 and 15 and 18 fail their check: exit 1, with the report written.
    expect_exit(&bounded(&["report", whole.to_str().unwrap()]), 1);
    assert!(whole.join("sweep.html").is_file());
    let a = sweep_dir(
        &dir,
        "a",
        &sweep_file(Some(Shard { index: 0, count: 2 })),
        |_| {},
    );
    let b = sweep_dir(
        &dir,
        "b",
        &sweep_file(Some(Shard { index: 1, count: 2 })),
        |_| {},
    );
    let merged = dir.join("merged");
    expect_exit(
        &bounded(&[
            "report",
            a.to_str().unwrap(),
            b.to_str().unwrap(),
            "--out",
            merged.to_str().unwrap(),
        ]),
        1,
    );
    let back = SweepFile::load(&merged).unwrap();
    assert_eq!(back, sweep_file(None));
}

#[test]
fn a_tampered_sweep_record_is_refused_with_its_file_and_field() {
    let dir = temp_dir("records-sweep-bad");
    let shard = Some(Shard { index: 1, count: 2 });
    type Edit = fn(&mut Value);
    let cases: Vec<(&str, Edit, &str)> = vec![
        (
            "index-past-count",
            |v| v["shard"]["index"] = json!(5),
            "shard: shard index 5",
        ),
        (
            "count-zero",
            |v| v["shard"]["count"] = json!(0),
            "shard: a sweep is cut into 1 to",
        ),
        (
            "count-2-62",
            |v| v["shard"]["count"] = json!(1u64 << 62),
            "shard: a sweep is cut",
        ),
        (
            "count-1e9",
            |v| v["shard"]["count"] = json!(1_000_000_000u64),
            "shard: a sweep is cut",
        ),
        (
            "seeds-to-max",
            |v| v["seeds"]["end"] = json!(u64::MAX),
            "seeds: 10..18446744073709551615",
        ),
        (
            "seeds-empty",
            |v| v["seeds"]["end"] = json!(10),
            "seeds: 10..10 is empty",
        ),
        (
            "seed-outside",
            |v| v["runs"][0]["seed"] = json!(99),
            "runs[0].seed: 99, expected 11",
        ),
        (
            "run-missing",
            |v| {
                v["runs"].as_array_mut().unwrap().pop();
            },
            "runs: 4 entries, but shard 1/2 of seeds 10..20 has 5 seeds",
        ),
        (
            "availability",
            |v| v["runs"][1]["figures"]["availability"] = json!(7.0),
            "runs[1].figures.availability: 7 is out of range",
        ),
        (
            "undeclared-figure",
            |v| v["runs"][1]["figures"]["made_up"] = json!(1.0),
            "runs[1].figures.made_up: no figure of that name is declared",
        ),
        (
            "figure-name-a-path",
            |v| v["figures"][0]["name"] = json!("../../escaped"),
            "figures[0].name: \"../../escaped\" is not a figure name",
        ),
        (
            "figure-total-edited",
            |v| v["totals"]["figures"][0]["aggregate"] = json!(0.5),
            "totals: they differ",
        ),
        (
            "first-format",
            |v| v["format"] = json!("faultline-sweep/1"),
            "format \"faultline-sweep/1\", this faultline reads \"faultline-sweep/2\"; re-run the sweep",
        ),
        (
            "totals",
            |v| v["totals"]["passed"] = json!(0),
            "totals: they differ",
        ),
    ];
    for (name, edit, field) in cases {
        let out = sweep_dir(&dir, name, &sweep_file(shard), edit);
        let result = bounded(&["report", out.to_str().unwrap()]);
        refused(&result, &["sweep.json", field]);
    }
    // Merging: a shard with a count of 10^9 beside a good one.
    let good = sweep_dir(
        &dir,
        "good",
        &sweep_file(Some(Shard { index: 0, count: 2 })),
        |_| {},
    );
    let huge = sweep_dir(&dir, "huge", &sweep_file(shard), |v| {
        v["shard"]["count"] = json!(1_000_000_000u64)
    });
    let result = bounded(&[
        "report",
        good.to_str().unwrap(),
        huge.to_str().unwrap(),
        "--out",
        dir.join("m").to_str().unwrap(),
    ]);
    refused(&result, &["huge/sweep.json", "shard: a sweep is cut"]);
    // timing.json: a part's runs past any sweep (their sum would overflow).
    let out = sweep_dir(&dir, "timing", &sweep_file(None), |_| {});
    std::fs::write(
        out.join("timing.json"),
        json!({"parts": [{"runs": u64::MAX, "jobs": 1, "wall_s": 1.0, "seed_runs_per_hour": 1.0},
                         {"runs": 1, "jobs": 1, "wall_s": 1.0, "seed_runs_per_hour": 1.0}],
               "runs": []})
        .to_string(),
    )
    .unwrap();
    refused(
        &bounded(&["report", out.to_str().unwrap()]),
        &["timing.json", "parts[0].runs"],
    );
    // A FIFO as sweep.json: `report` does not take the directory for a sweep, and the
    // reader refuses it without waiting for a writer.
    let out = sweep_dir(&dir, "fifo", &sweep_file(None), |_| {});
    std::fs::remove_file(out.join("sweep.json")).unwrap();
    mkfifo(&out.join("sweep.json"));
    expect_exit(&bounded(&["report", out.to_str().unwrap()]), 2);
    let err = SweepFile::load(&out).unwrap_err();
    assert!(err.contains("sweep.json: not a regular file"), "{err}");
}

fn trace(run: &Path, extra: &[&str]) -> Output {
    let mut args = vec!["trace", run.to_str().unwrap()];
    args.extend_from_slice(extra);
    bounded(&args)
}

#[test]
fn trace_names_an_unknown_kind_or_node_with_a_suggestion() {
    let dir = temp_dir("records-trace-typo");
    let run = traced_run(&dir);
    refused(
        &trace(&run, &["--kind", "brekaer"]),
        &["--kind \"brekaer\"", "did you mean \"breaker\"?"],
    );
    refused(
        &trace(&run, &["--kind", "send,snapshot_start"]),
        &["--kind \"snapshot_start\"", "rpc workload"],
    );
    refused(
        &trace(&run, &["--node", "server-9"]),
        &[
            "--node \"server-9\"",
            "server-0 .. server-1",
            "did you mean \"server-1\"?",
        ],
    );
    refused(
        &trace(&run, &["--node", "sevrer-*"]),
        &["--node \"sevrer-*\"", "did you mean \"server-*\"?"],
    );
    // Names that exist still slice, even when nothing matches in the window.
    let ok = trace(
        &run,
        &["--node", "server-1", "--kind", "arrive", "--to", "1s"],
    );
    let stdout = expect_exit(&ok, 0);
    assert!(stdout.contains(" arrive "), "{stdout}");
    let none = trace(&run, &["--kind", "breaker"]);
    assert!(expect_exit(&none, 0).contains("0 of 0 matching records"));
}

/// The run's trace with `line` appended (and the summary kept beside it).
fn with_line(run: &Path, line: &[u8]) {
    let path = run.join("trace.jsonl");
    let mut bytes = std::fs::read(&path).unwrap();
    bytes.extend_from_slice(line);
    bytes.push(b'\n');
    std::fs::write(&path, bytes).unwrap();
}

#[test]
fn trace_escapes_control_characters_and_refuses_bad_lines_with_their_number() {
    let dir = temp_dir("records-trace-bad");
    let run = traced_run(&dir);
    let lines = std::fs::read_to_string(run.join("trace.jsonl"))
        .unwrap()
        .lines()
        .count();
    let good = std::fs::read(run.join("trace.jsonl")).unwrap();
    let next = (lines + 1).to_string();
    with_line(
        &run,
        br#"{"t_ns":1999999999,"ev":"fail","client":1,"id":5,"cause":"\u001b[2J\u001b[31mred\u202e"}"#,
    );
    let result = trace(&run, &["--from", "1.9s", "--kind", "fail"]);
    let stdout = expect_exit(&result, 0);
    assert!(
        !stdout.contains('\u{1b}') && !stdout.contains('\u{202e}'),
        "{stdout:?}"
    );
    assert!(
        stdout.contains("cause=\\u{1b}[2J\\u{1b}[31mred\\u{202e}"),
        "{stdout}"
    );

    let bad: [(&[u8], &str); 5] = [
        (
            br#"{"t_ns":-5,"ev":"send"}"#,
            "`t_ns` is -5, not a time in whole nanoseconds",
        ),
        (br#"{"t_ns":"soon","ev":"send"}"#, "`t_ns` is \"soon\""),
        (br#"{"ev":"send"}"#, "the record has no `t_ns`"),
        (br#"{"t_ns":5,"ev":7}"#, "`ev` is 7"),
        (
            b"{\"t_ns\":5,\"ev\":\"caf\xe9\"}",
            "invalid UTF-8 at byte 20 of the line",
        ),
    ];
    for (line, message) in bad {
        std::fs::write(run.join("trace.jsonl"), &good).unwrap();
        with_line(&run, line);
        let result = trace(&run, &[]);
        refused(&result, &[&format!("trace.jsonl:{next}: "), message]);
    }
    // A line longer than any record.
    std::fs::write(run.join("trace.jsonl"), &good).unwrap();
    let mut long = b"{\"t_ns\":5,\"ev\":\"send\",\"x\":\"".to_vec();
    // One byte past the documented 1 MiB limit of a line.
    long.extend(std::iter::repeat_n(b'a', 1 << 20));
    long.extend_from_slice(b"\"}");
    with_line(&run, &long);
    refused(
        &trace(&run, &[]),
        &[&format!("trace.jsonl:{next}: "), "longer than the limit"],
    );
}

#[test]
fn trace_refuses_a_fifo_or_a_link_to_dev_zero() {
    let dir = temp_dir("records-trace-special");
    let run = traced_run(&dir);
    let path = run.join("trace.jsonl");
    std::fs::remove_file(&path).unwrap();
    mkfifo(&path);
    refused(&trace(&run, &[]), &["trace.jsonl", "not a regular file"]);
    std::fs::remove_file(&path).unwrap();
    std::os::unix::fs::symlink("/dev/zero", &path).unwrap();
    refused(&trace(&run, &[]), &["trace.jsonl", "not a regular file"]);
    // The summary beside the trace is a record too.
    std::fs::remove_file(&path).unwrap();
    std::fs::write(&path, "").unwrap();
    let summary = run.join("summary.json");
    std::fs::remove_file(&summary).unwrap();
    std::os::unix::fs::symlink("/dev/zero", &summary).unwrap();
    refused(&trace(&run, &[]), &["summary.json", "not a regular file"]);
}

#[test]
fn trace_prints_the_same_rows_for_any_limit_and_counts_the_rest() {
    let dir = temp_dir("records-trace-limit");
    let run = traced_run(&dir);
    let all = expect_exit(&trace(&run, &["--limit", "10000000"]), 0);
    let three = expect_exit(&trace(&run, &["--limit", "3"]), 0);
    let all_lines: Vec<&str> = all.lines().collect();
    let three_lines: Vec<&str> = three.lines().collect();
    let records = std::fs::read_to_string(run.join("trace.jsonl"))
        .unwrap()
        .lines()
        .count();
    assert_eq!(all_lines.len(), records + 2, "header, rows, count line");
    assert_eq!(three_lines.len(), 5);
    // The same records, in the same order (widths differ with the rows shown).
    for (a, b) in all_lines[1..4].iter().zip(&three_lines[1..4]) {
        let words = |line: &str| {
            line.split_whitespace()
                .map(str::to_owned)
                .collect::<Vec<_>>()
        };
        assert_eq!(words(a), words(b));
    }
    assert!(
        three_lines[4].starts_with(&format!("3 of {records} matching records shown")),
        "{three}"
    );
    assert!(
        three_lines[4].contains(&format!("{} more", records - 3)),
        "{three}"
    );
}

#[test]
fn every_kind_a_run_writes_is_in_its_workloads_vocabulary() {
    let (_, lines) = common::run_traced(&base_scenario(), "records-kinds-rpc");
    let known: Vec<&str> = faultline::workload::rpc::trace::KINDS
        .iter()
        .chain(faultline::engine::trace::KERNEL_KINDS)
        .copied()
        .collect();
    for line in &lines {
        let ev = line["ev"].as_str().unwrap();
        assert!(known.contains(&ev), "{ev} is not in rpc::trace::KINDS");
    }
    let bank = common::bundled("bank-snapshots.json");
    let dir = temp_dir("records-kinds-bank");
    let mut value: Value = serde_json::from_str(&std::fs::read_to_string(bank).unwrap()).unwrap();
    // The first 8 s: a crash at 4 s and its restart, snapshots, transfers.
    value["duration"] = json!("8s");
    let first_fault = value["faults"][0].clone();
    value["faults"] = json!([first_fault]);
    let path = dir.join("bank.json");
    std::fs::write(&path, value.to_string()).unwrap();
    let out = dir.join("run");
    let result = bounded(&[
        "run",
        path.to_str().unwrap(),
        "--trace",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(
        matches!(result.status.code(), Some(0 | 1)),
        "{}",
        stderr(&result)
    );
    let known: Vec<&str> = faultline::workload::bank::trace::KINDS
        .iter()
        .chain(faultline::engine::trace::KERNEL_KINDS)
        .copied()
        .collect();
    let text = std::fs::read_to_string(out.join("trace.jsonl")).unwrap();
    let mut seen = std::collections::BTreeSet::new();
    for line in text.lines() {
        let value: Value = serde_json::from_str(line).unwrap();
        let ev = value["ev"].as_str().unwrap().to_owned();
        assert!(
            known.contains(&ev.as_str()),
            "{ev} is not in bank::trace::KINDS"
        );
        seen.insert(ev);
    }
    assert!(seen.len() >= 5, "{seen:?}");
}

#[test]
fn compare_markdown_shows_labels_as_text_not_html() {
    let dir = temp_dir("records-compare-md");
    let record = common::run_record(&base_scenario());
    let labels = [
        "<img src=x onerror=alert(1)>",
        "[click](javascript:alert(1))",
        "a|b\nc`d",
    ];
    let variants: Vec<(String, _)> = labels
        .iter()
        .map(|label| ((*label).to_owned(), record.clone()))
        .collect();
    faultline_reports::write_comparison(&dir, "<b>title</b>", "name`x", &variants).unwrap();
    let md = std::fs::read_to_string(dir.join("compare.md")).unwrap();
    assert!(md.contains("| a\\|b c\\`d "), "{md}");
    for raw in ["<img", "<b>"] {
        assert!(!md.contains(raw), "{raw} in:\n{md}");
    }
    // Brackets only escaped: no link of the label's own.
    assert!(!md.replace("\\]", "").contains("](javascript"), "{md}");
    assert!(md.contains("&lt;img src=x onerror=alert(1)&gt;"), "{md}");
    assert!(md.contains("\\[click\\](javascript:alert(1))"), "{md}");
    assert!(
        md.contains("# Faultline comparison: &lt;b&gt;title&lt;/b&gt;"),
        "{md}"
    );
    assert!(md.contains("Varying ``name`x`` over 3 variants."), "{md}");
    // The label's line break does not end its table row: every row has its cells, in
    // the side-by-side table and in the head of the table of every figure.
    let section = |from: &str, to: &str| -> Vec<String> {
        md.split(from)
            .nth(1)
            .unwrap()
            .split(to)
            .next()
            .unwrap()
            .lines()
            .filter(|l| l.starts_with('|'))
            .map(str::to_owned)
            .collect()
    };
    let rows = section("## Side by side", "## All figures");
    assert_eq!(rows.len(), 2 + labels.len(), "{md}");
    let all = section("## All figures", "\n## ");
    assert_eq!(all.len(), 2 + record.summary.figures.len(), "{md}");
    // Cells end at unescaped pipes: the figure's column, then one per variant.
    let cells = all[0].replace("\\|", "").matches('|').count() - 1;
    assert_eq!(cells, 1 + labels.len(), "{}", all[0]);
}

#[test]
fn a_duplicate_key_in_a_scenario_is_refused_at_its_second_occurrence() {
    let text = r#"{
  "name": "dup",
  "duration": "2s",
  "network": { "latency": { "exponential": "2ms", "exponential": "3ms" } },
  "workload": {
    "kind": "rpc",
    "clients": { "count": 1, "arrival": { "poisson_per_s": 1.0 }, "timeout": "100ms" },
    "servers": { "count": 1, "workers": 4, "queue_limit": 100, "service_time": { "constant": "1ms" } }
  }
}"#;
    let err =
        faultline::scenario::load_text(text, "dup.json", &faultline::scenario::Options::default())
            .unwrap_err();
    assert_eq!((err.line, err.column), (4, 51), "{err}");
    assert_eq!(err.path, "network.latency.exponential", "{err}");
    assert!(
        err.message.contains("duplicate key \"exponential\""),
        "{err}"
    );
    // A repeated top-level key, and one inside a list.
    let twice = text.replacen(
        "\"name\": \"dup\",",
        "\"name\": \"dup\", \"name\": \"b\",",
        1,
    );
    let err = faultline::scenario::load_text(
        &twice,
        "dup.json",
        &faultline::scenario::Options::default(),
    )
    .unwrap_err();
    assert_eq!(
        (err.line, err.column, err.path.as_str()),
        (2, 18, "name"),
        "{err}"
    );
    let listed = text.replacen(
        "\"duration\": \"2s\",",
        "\"duration\": \"2s\", \"faults\": [{\"kind\": \"crash\", \"kind\": \"crash\"}],",
        1,
    );
    let err = faultline::scenario::load_text(
        &listed,
        "dup.json",
        &faultline::scenario::Options::default(),
    )
    .unwrap_err();
    assert_eq!(err.path, "faults[0].kind", "{err}");
    // Without the repetition the file loads.
    let once = text.replacen(", \"exponential\": \"3ms\"", "", 1);
    faultline::scenario::load_text(&once, "dup.json", &faultline::scenario::Options::default())
        .unwrap();
    // Through the binary: exit 2 with file:line:column.
    let dir = temp_dir("records-dup");
    let path = dir.join("dup.json");
    std::fs::write(&path, text).unwrap();
    refused(
        &bounded(&["validate", path.to_str().unwrap()]),
        &["dup.json:4:51: network.latency.exponential: duplicate key"],
    );
}
