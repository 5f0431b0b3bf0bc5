//! `faultline run`, `report`, `compare` and `trace` end to end through the real binary.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::{base_scenario, bundled, expect_exit, temp_dir};
use serde_json::{json, Value};

fn faultline(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_faultline"))
        .args(args)
        .output()
        .expect("faultline runs")
}

fn summary(dir: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("summary.json")).unwrap()).unwrap()
}

#[test]
fn run_writes_every_record_with_the_design_keys() {
    let out = temp_dir("run-records");
    let result = faultline(&[
        "run",
        bundled("thundering-herd.json").to_str().unwrap(),
        "--trace",
        "--out",
        out.to_str().unwrap(),
    ]);
    let stdout = expect_exit(&result, 0);
    assert!(stdout.contains("availability"), "{stdout}");
    let summary = summary(&out);
    for key in [
        "scenario",
        "seed",
        "simulated_s",
        "wall_s",
        "events",
        "trace_hash",
        "availability",
        "requests",
        "latency_ms",
        "server",
        "checks",
    ] {
        assert!(summary.get(key).is_some(), "summary.json lacks {key}");
    }
    for key in [
        "offered",
        "succeeded",
        "failed",
        "timed_out",
        "rejected_by_breaker",
        "attempts",
    ] {
        assert!(
            summary["requests"].get(key).is_some(),
            "requests lacks {key}"
        );
    }
    for key in ["p50", "p99", "p999"] {
        assert!(
            summary["latency_ms"].get(key).is_some(),
            "latency_ms lacks {key}"
        );
    }
    for key in ["arrivals", "peak_arrivals_per_s"] {
        assert!(summary["server"].get(key).is_some(), "server lacks {key}");
    }
    assert_eq!(summary["seed"], 7);
    assert!(summary["requests"]["offered"].as_u64().unwrap() > 100_000);
    let timeline = std::fs::read_to_string(out.join("timeline.csv")).unwrap();
    assert_eq!(
        timeline.lines().count(),
        121,
        "header + 120 one-second windows"
    );
    assert!(timeline.contains("crash:server-0"));
    let trace = std::fs::read_to_string(out.join("trace.jsonl")).unwrap();
    assert_eq!(
        trace.lines().count() as u64,
        summary["events"].as_u64().unwrap()
    );
    for file in [
        "report.html",
        "report.md",
        "availability.svg",
        "herd.svg",
        "availability.png",
        "herd.png",
    ] {
        assert!(out.join(file).is_file(), "{file} missing");
    }
}

#[test]
fn trace_names_each_fault_as_it_starts_and_ends_and_draws_replies_server_first() {
    let dir = temp_dir("run-trace-faults");
    let mut value = base_scenario();
    value["duration"] = json!("3s");
    value["workload"]["clients"]["count"] = json!(5);
    value["workload"]["servers"]["count"] = json!(2);
    value["faults"] = json!([
        {"at": "1s", "crash": "server-*", "restart_after": "500ms"},
        {"at": "2s", "for": "300ms", "partition": [["client-*"], ["server-*"]]}
    ]);
    let scenario = dir.join("faults.json");
    std::fs::write(&scenario, value.to_string()).unwrap();
    let out = dir.join("run");
    let (scenario, out_arg) = (scenario.to_str().unwrap(), out.to_str().unwrap());
    expect_exit(
        &faultline(&["run", scenario, "--trace", "--out", out_arg]),
        0,
    );

    // trace.jsonl: one start and one end per fault (a crash per node), each named.
    let text = std::fs::read_to_string(out.join("trace.jsonl")).unwrap();
    let faults: Vec<(u64, String, String)> = text
        .lines()
        .map(|line| serde_json::from_str::<Value>(line).unwrap())
        .filter(|record| {
            record["ev"]
                .as_str()
                .is_some_and(|ev| ev.starts_with("fault"))
        })
        .map(|record| {
            (
                record["t_ns"].as_u64().unwrap(),
                record["phase"].as_str().unwrap_or("?").to_owned(),
                record["fault"].as_str().unwrap_or("?").to_owned(),
            )
        })
        .collect();
    let partition = "partition client-* | server-*";
    let expected = [
        (1_000_000_000, "start", "crash server-0"),
        (1_000_000_000, "start", "crash server-1"),
        (1_500_000_000, "end", "crash server-0"),
        (1_500_000_000, "end", "crash server-1"),
        (2_000_000_000, "start", partition),
        (2_300_000_000, "end", partition),
    ]
    .map(|(t_ns, phase, fault)| (t_ns, phase.to_owned(), fault.to_owned()));
    assert_eq!(faults, expected);
    // A reply's line names its sender, the server, first.
    let reply = text
        .lines()
        .find(|line| line.contains("\"ev\":\"reply\""))
        .expect("a reply");
    assert!(reply.contains(",\"ev\":\"reply\",\"server\":"), "{reply}");

    // `faultline trace` puts the fault records in words.
    let rows = expect_exit(&faultline(&["trace", out_arg, "--kind", "fault"]), 0);
    let words: Vec<String> = rows
        .lines()
        .skip(1)
        .take(6)
        .map(|row| row.split_whitespace().skip(3).collect::<Vec<_>>().join(" "))
        .collect();
    assert_eq!(
        words,
        [
            "crash server-0 starts (action 0)",
            "crash server-1 starts (action 1)",
            "crash server-0 ends (action 2)",
            "crash server-1 ends (action 3)",
            "partition client-* | server-* starts (action 4)",
            "partition client-* | server-* ends (action 5)",
        ],
        "{rows}"
    );
    assert!(rows.contains("6 of 6 matching records"), "{rows}");
    // A request travels client > server, its reply server > client.
    let rows = expect_exit(
        &faultline(&["trace", out_arg, "--kind", "send,reply", "--to", "1s"]),
        0,
    );
    // Cells: time, record, ev, "A > B" (three words), id, details.
    let cells: Vec<Vec<&str>> = rows
        .lines()
        .skip(1)
        .map(|row| row.split_whitespace().collect::<Vec<_>>())
        .filter(|cells| cells.len() >= 7)
        .collect();
    let reply = cells
        .iter()
        .find(|cells| cells[2] == "reply")
        .expect("a reply row");
    let send = cells
        .iter()
        .find(|cells| cells[2] == "send" && cells[6] == reply[6])
        .expect("the reply's send row");
    assert!(send[3].starts_with("client-") && send[4] == ">", "{rows}");
    assert!(send[5].starts_with("server-"), "{rows}");
    assert_eq!(reply[3..6], [send[5], ">", send[3]], "{rows}");
}

#[test]
fn seed_flag_overrides_the_file() {
    let out = temp_dir("run-seed");
    let result = faultline(&[
        "run",
        bundled("partition.json").to_str().unwrap(),
        "--seed",
        "99",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(result.status.code().is_some());
    assert_eq!(summary(&out)["seed"], 99);
}

#[test]
fn a_failed_check_exits_1_and_ends_with_the_reproduce_command() {
    let out = temp_dir("run-failed-check");
    let scenario = bundled("retry-storm.json");
    let result = faultline(&[
        "run",
        scenario.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&result.stdout);
    assert_eq!(result.status.code(), Some(1), "{stdout}");
    let last = stdout.lines().last().unwrap();
    assert_eq!(
        last,
        format!("faultline run {} --seed 42", scenario.display())
    );
    assert!(stdout.contains("FAIL"));
}

#[test]
fn report_rebuilds_the_same_markdown_from_saved_records() {
    let out = temp_dir("report-rebuild");
    let result = faultline(&[
        "run",
        bundled("omission-timing.json").to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(result.status.code(), Some(0));
    let before = std::fs::read_to_string(out.join("report.md")).unwrap();
    std::fs::remove_file(out.join("report.md")).unwrap();
    std::fs::remove_file(out.join("herd.png")).unwrap();
    let result = faultline(&["report", out.to_str().unwrap()]);
    assert_eq!(
        result.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&result.stderr)
    );
    assert_eq!(
        std::fs::read_to_string(out.join("report.md")).unwrap(),
        before
    );
    assert!(out.join("herd.png").is_file());
    let missing = faultline(&["report", temp_dir("report-empty").to_str().unwrap()]);
    assert_eq!(missing.status.code(), Some(2));
}

#[test]
fn compare_over_jitter_kinds_runs_each_variant_at_the_same_seed() {
    let out = temp_dir("compare-jitter");
    let scenario = bundled("thundering-herd.json");
    let result = faultline(&[
        "compare",
        scenario.to_str().unwrap(),
        "--vary",
        "workload.clients.retry.backoff.jitter=none,full,equal,decorrelated",
        "--out",
        out.to_str().unwrap(),
    ]);
    // The jittered variants spread the herd but hold requests offline longer, so their
    // p99 goes past the file's bound of 5 s: a failed check in any variant exits 1.
    let stdout = expect_exit(&result, 1);
    assert!(stdout.contains("checks failed in"), "{stdout}");
    for label in ["none", "full", "equal", "decorrelated"] {
        assert!(stdout.contains(label), "table lacks {label}: {stdout}");
        assert_eq!(summary(&out.join(label))["seed"], 7);
    }
    // The crash resets every connection at once. Without jitter the clients reconnect
    // in lockstep and flush their offline queues together; full jitter spreads them.
    // Measured at seed 7: none 25.3x, full 9.0x; the bound leaves room for other seeds
    // (the same order holds for seeds 1 and 2: 25.7x / 8.8x, 25.8x / 8.7x).
    let record = |label: &str| faultline_reports::io::load_run(&out.join(label)).unwrap();
    let peak = |label: &str| {
        faultline_reports::stats::peak_load(&record(label))
            .multiple
            .unwrap()
    };
    assert!(
        peak("none") > 1.5 * peak("full"),
        "peak load multiple: none {:.2}x vs full {:.2}x",
        peak("none"),
        peak("full")
    );
    assert!(
        peak("none") > peak("decorrelated") && peak("none") > peak("equal"),
        "none should have the highest peak: none {:.2}x, equal {:.2}x, decorrelated {:.2}x",
        peak("none"),
        peak("equal"),
        peak("decorrelated")
    );
    let availability = |label: &str| record(label).summary.availability.unwrap();
    assert!(
        availability("full") > availability("none") + 0.03,
        "availability: full {} vs none {}",
        availability("full"),
        availability("none")
    );
    // Every client lost its connection once and came back once.
    let connections = record("none").summary.rpc.unwrap().connections.unwrap();
    assert_eq!(connections.resets, 1000);
    assert_eq!(connections.connects, 1000);
    assert!(connections.refused > 0 && connections.offline_peak > 0);
    // The file's own jitter is `none`: that variant is the plain run, event for event.
    let plain = temp_dir("compare-plain");
    let run = faultline(&[
        "run",
        scenario.to_str().unwrap(),
        "--out",
        plain.to_str().unwrap(),
    ]);
    assert_eq!(run.status.code(), Some(0));
    assert_eq!(
        summary(&out.join("none"))["trace_hash"],
        summary(&plain)["trace_hash"]
    );
    assert_ne!(
        summary(&out.join("none"))["trace_hash"],
        summary(&out.join("full"))["trace_hash"]
    );
    for file in [
        "compare.html",
        "compare.md",
        "herd.svg",
        "herd.png",
        "availability.svg",
        "availability.png",
    ] {
        assert!(out.join(file).is_file(), "{file} missing");
    }
    let bad = faultline(&[
        "compare",
        scenario.to_str().unwrap(),
        "--vary",
        "workload.nope=1",
    ]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("workload.nope"));
}

#[test]
fn every_bundled_scenario_runs_with_its_expected_outcome() {
    for (name, expected) in [
        ("thundering-herd.json", 0),
        ("partition.json", 0),
        ("omission-timing.json", 0),
        ("retry-storm.json", 1),
        ("spike-metastable.json", 1),
        ("spike-budget.json", 0),
        ("retry-after.json", 0),
        ("limit-overload.json", 0),
    ] {
        let out = temp_dir(&format!("bundled-{name}"));
        let result = faultline(&[
            "run",
            bundled(name).to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ]);
        assert_eq!(
            result.status.code(),
            Some(expected),
            "{name}: {}",
            String::from_utf8_lossy(&result.stdout)
        );
        assert!(!String::from_utf8_lossy(&result.stderr).contains("panicked"));
    }
}
