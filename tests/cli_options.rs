//! The CLI a newcomer uses, through the real binary: `run --set`, errors of a changed
//! field located in the original file, the run-time event limit, `compare`'s exit status,
//! checks column and reproduce commands, `report` of a comparison, output directories
//! replaced whole, and `validate scenarios/*.json`.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::{bundled, temp_dir};
use serde_json::Value;

fn faultline(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_faultline"))
        .args(args)
        .output()
        .expect("faultline runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[track_caller]
fn expect_exit(result: &Output, code: i32) -> (String, String) {
    let (stdout, stderr) = (text(&result.stdout), text(&result.stderr));
    assert_eq!(result.status.code(), Some(code), "{stdout}\n{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    (stdout, stderr)
}

fn summary(dir: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("summary.json")).unwrap()).unwrap()
}

/// Line and column (1-based) of the first `needle` in `file`.
fn position(file: &Path, needle: &str) -> (usize, usize) {
    let content = std::fs::read_to_string(file).unwrap();
    let offset = content.find(needle).expect("needle in file");
    let before = &content[..offset];
    let line = before.matches('\n').count() + 1;
    let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
    (line, column)
}

/// Runs a `faultline run ...` command line as printed (single-quoted words allowed).
fn run_printed(command: &str, out: &Path) -> Output {
    let mut words = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    for c in command.chars() {
        match c {
            '\'' => quoted = !quoted,
            ' ' if !quoted => words.push(std::mem::take(&mut current)),
            _ => current.push(c),
        }
    }
    words.push(current);
    assert_eq!(words[0], "faultline", "{command}");
    Command::new(env!("CARGO_BIN_EXE_faultline"))
        .args(&words[1..])
        .arg("--out")
        .arg(out)
        .output()
        .expect("faultline runs")
}

#[test]
fn set_accepts_both_index_forms_and_its_reproduce_command_replays_the_run() {
    let scenario = bundled("thundering-herd.json");
    let path = scenario.to_str().unwrap();
    let dotted = temp_dir("set-dotted");
    let bracketed = temp_dir("set-bracketed");
    let plain = temp_dir("set-plain");
    for (out, set) in [
        (&dotted, Some("faults.0.restart_after=2s")),
        (&bracketed, Some("faults[0].restart_after=2s")),
        (&plain, None),
    ] {
        let mut args = vec!["run", path, "--out", out.to_str().unwrap()];
        if let Some(set) = set {
            args.extend(["--set", set]);
        }
        expect_exit(&faultline(&args), 0);
    }
    let hash = |dir: &Path| summary(dir)["trace_hash"].as_str().unwrap().to_owned();
    assert_eq!(hash(&dotted), hash(&bracketed));
    assert_ne!(hash(&dotted), hash(&plain), "the restart moved");
    let reproduce = summary(&bracketed)["reproduce"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        reproduce,
        format!("faultline run {path} --set 'faults[0].restart_after=2s' --seed 7")
    );
    let again = temp_dir("set-again");
    expect_exit(&run_printed(&reproduce, &again), 0);
    assert_eq!(hash(&again), hash(&bracketed));
}

#[test]
fn a_bad_set_is_located_at_the_field_in_the_original_file() {
    let scenario = bundled("thundering-herd.json");
    let path = scenario.to_str().unwrap();
    let (line, column) = position(&scenario, "\"10s\" }");
    for set in ["faults[0].restart_after=0s", "faults.0.restart_after=0s"] {
        let (_, stderr) = expect_exit(&faultline(&["run", path, "--set", set]), 2);
        assert_eq!(
            stderr,
            format!(
                "error: {path}:{line}:{column}: faults[0].restart_after: must be above 0 \
                 (write e.g. \"10s\") (with faults[0].restart_after=0s)\n"
            )
        );
    }
    // A misspelt field: the message suggests the right one, at the object it belongs to.
    let (_, stderr) = expect_exit(
        &faultline(&[
            "run",
            path,
            "--set",
            "workload.clients.retri.max_attempts=3",
        ]),
        2,
    );
    assert!(
        stderr.contains("no field workload.clients.retri"),
        "{stderr}"
    );
    assert!(stderr.contains("did you mean \"retry\"?"), "{stderr}");
    let (line, column) = position(&scenario, "{\n      \"count\": 1000");
    assert!(
        stderr.starts_with(&format!("error: {path}:{line}:{column}: ")),
        "{stderr}"
    );
    let (_, stderr) = expect_exit(&faultline(&["run", path, "--set", "nonsense"]), 2);
    assert!(stderr.contains("write PATH=VALUE"), "{stderr}");
    // compare --vary is located the same way.
    let (_, stderr) = expect_exit(
        &faultline(&["compare", path, "--vary", "faults[0].restart_after=2s,0s"]),
        2,
    );
    let (line, column) = position(&scenario, "\"10s\" }");
    assert!(
        stderr.starts_with(&format!(
            "error: {path}:{line}:{column}: faults[0].restart_after: must be above 0"
        )),
        "{stderr}"
    );
}

#[test]
fn the_event_limit_stops_a_run_with_exit_2_and_writes_nothing() {
    let out = temp_dir("max-events").join("run");
    let scenario = bundled("thundering-herd.json");
    let (_, stderr) = expect_exit(
        &faultline(&[
            "run",
            scenario.to_str().unwrap(),
            "--max-events",
            "5000",
            "--out",
            out.to_str().unwrap(),
        ]),
        2,
    );
    assert!(
        stderr.contains("limit reached: the run reached its limit of 5000 events at simulated"),
        "{stderr}"
    );
    assert!(!out.exists(), "no partial output");
    let leftovers: Vec<_> = std::fs::read_dir(out.parent().unwrap()).unwrap().collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn compare_exits_1_on_a_failed_check_and_report_rebuilds_it() {
    let out = temp_dir("compare-checks");
    let scenario = bundled("retry-storm.json");
    let path = scenario.to_str().unwrap();
    let result = faultline(&[
        "compare",
        path,
        "--vary",
        "workload.clients.retry.max_attempts=1,3",
        "--out",
        out.to_str().unwrap(),
    ]);
    let (stdout, stderr) = expect_exit(&result, 1);
    assert!(
        stderr.is_empty(),
        "no progress bar off a terminal: {stderr}"
    );
    let header = stdout
        .lines()
        .find(|line| line.starts_with("variant"))
        .expect("a table");
    assert!(header.starts_with("variant  checks"), "{stdout}");
    assert!(stdout.contains("1 of 1 FAILED"), "{stdout}");
    for value in ["1", "3"] {
        let command = format!(
            "faultline run {path} --set workload.clients.retry.max_attempts={value} --seed 42"
        );
        assert!(stdout.lines().any(|line| line == command), "{stdout}");
        assert_eq!(summary(&out.join(value))["reproduce"], command.as_str());
    }
    // The reproduce command replays the variant.
    let again = temp_dir("compare-again");
    let command = summary(&out.join("3"))["reproduce"]
        .as_str()
        .unwrap()
        .to_owned();
    expect_exit(&run_printed(&command, &again), 1);
    assert_eq!(
        summary(&again)["trace_hash"],
        summary(&out.join("3"))["trace_hash"]
    );
    // `report` rebuilds the comparison and its variants from the records, and exits as
    // the comparison did (a variant failed its check).
    let before = std::fs::read_to_string(out.join("compare.md")).unwrap();
    let variant_before = std::fs::read_to_string(out.join("1").join("report.md")).unwrap();
    std::fs::remove_file(out.join("compare.md")).unwrap();
    std::fs::remove_file(out.join("1").join("report.md")).unwrap();
    let (stdout, _) = expect_exit(&faultline(&["report", out.to_str().unwrap()]), 1);
    assert!(stdout.contains("compare.html"), "{stdout}");
    assert_eq!(
        std::fs::read_to_string(out.join("compare.md")).unwrap(),
        before
    );
    assert_eq!(
        std::fs::read_to_string(out.join("1").join("report.md")).unwrap(),
        variant_before
    );
}

#[test]
fn a_reused_out_is_replaced_whole_and_a_foreign_directory_is_refused() {
    let scenario = bundled("omission-timing.json");
    let path = scenario.to_str().unwrap();
    let out = temp_dir("reused-out");
    expect_exit(
        &faultline(&["run", path, "--out", out.to_str().unwrap()]),
        0,
    );
    // A file from an earlier run (a trace this run does not write) must not survive.
    std::fs::write(out.join("trace.jsonl"), "stale\n").unwrap();
    expect_exit(
        &faultline(&["run", path, "--out", out.to_str().unwrap()]),
        0,
    );
    assert!(!out.join("trace.jsonl").exists(), "a stale file survived");
    assert!(out.join("summary.json").is_file());
    let siblings: Vec<String> = std::fs::read_dir(out.parent().unwrap())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.contains("reused-out") && name.starts_with('.'))
        .collect();
    assert!(
        siblings.is_empty(),
        "temporary directories left: {siblings:?}"
    );
    // A directory that is not a faultline output is never replaced.
    let foreign = temp_dir("foreign-out");
    std::fs::write(foreign.join("notes.txt"), "mine\n").unwrap();
    let (_, stderr) = expect_exit(
        &faultline(&["run", path, "--out", foreign.to_str().unwrap()]),
        2,
    );
    assert!(
        stderr.contains("is not a faultline output directory"),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read_to_string(foreign.join("notes.txt")).unwrap(),
        "mine\n"
    );
}

#[test]
fn validate_takes_the_whole_scenarios_folder() {
    let dir = bundled("schema.json").parent().unwrap().to_path_buf();
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().path().to_string_lossy().into_owned())
        .filter(|path| path.ends_with(".json"))
        .collect();
    files.sort();
    let args: Vec<&str> = std::iter::once("validate")
        .chain(files.iter().map(String::as_str))
        .collect();
    let (stdout, stderr) = expect_exit(&faultline(&args), 0);
    assert!(stderr.is_empty(), "{stderr}");
    assert_eq!(stdout.lines().count(), files.len(), "{stdout}");
    assert_eq!(
        stdout
            .lines()
            .filter(|line| line.starts_with("ok  "))
            .count(),
        files.len() - 1,
        "{stdout}"
    );
    assert!(
        stdout.lines().any(|line| line.starts_with("skip  ")
            && line.contains("schema.json")
            && line.contains("not a scenario")),
        "{stdout}"
    );
}
