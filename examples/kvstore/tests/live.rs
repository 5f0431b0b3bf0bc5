//! The store for real, on loopback: `kvstore-live` runs three replica processes and a
//! client on 127.0.0.1 (ports the replicas pick, port 0), kills the primary's process,
//! restarts it, and the history it saw is checked here again from its operations.
//! Each run is bounded: the binary's watchdog kills every replica past its time, a
//! replica exits when its parent's pipe closes, and this test kills the binary if it
//! outlives `DEADLINE`.
#![allow(clippy::disallowed_methods)] // real processes in real time

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use faultline::workload::history::{OpKind, Operation, Outcome};
use faultline_kvstore::live::assess;
use serde_json::Value;

/// Seconds of one run.
const SECONDS: &str = "3";
/// Longest a run may take before it is killed.
const DEADLINE: Duration = Duration::from_secs(60);

/// Runs `kvstore-live --json` with `extra` arguments: its exit code and summary.
fn run(extra: &[&str]) -> (i32, Value) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_kvstore-live"))
        .args(["--seconds", SECONDS, "--json"])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("kvstore-live starts");
    let started = Instant::now();
    loop {
        if child.try_wait().expect("wait").is_some() {
            break;
        }
        if started.elapsed() > DEADLINE {
            // Its replicas see their stdin close and exit too.
            let _ = child.kill();
            let _ = child.wait();
            panic!("kvstore-live did not end within {DEADLINE:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let output = child.wait_with_output().expect("output");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let summary: Value = serde_json::from_str(stdout.trim()).unwrap_or_else(|err| {
        panic!(
            "not a summary ({err}):\n{stdout}\n{}",
            String::from_utf8_lossy(&output.stderr)
        )
    });
    (output.status.code().unwrap_or(-1), summary)
}

fn number(summary: &Value, name: &str) -> u64 {
    summary[name]
        .as_u64()
        .unwrap_or_else(|| panic!("{name} in {summary}"))
}

fn operations(summary: &Value) -> Vec<Operation> {
    serde_json::from_value(summary["operations"].clone()).expect("operations")
}

#[test]
fn the_primary_recovers_from_its_log_and_serves_again() {
    let (code, summary) = run(&[]);
    let failures = &summary["failures"];
    assert_eq!(code, 0, "{failures}");
    let ops = operations(&summary);
    let (kill_ns, restart_ns) = (number(&summary, "kill_ns"), number(&summary, "restart_ns"));
    assert!(kill_ns < restart_ns);
    // The checks again, from the history itself.
    let recovery = assess(&ops, kill_ns, restart_ns, number(&summary, "replayed"));
    assert!(recovery.acked_before_kill > 0, "{recovery:?}");
    assert!(
        recovery.replayed >= recovery.acked_before_kill,
        "replayed {} < acknowledged {}",
        recovery.replayed,
        recovery.acked_before_kill
    );
    assert!(recovery.acked_after_restart > 0, "{recovery:?}");
    assert!(recovery.old_values_read_after_restart > 0, "{recovery:?}");
    assert_eq!(
        recovery.linearizability.violations(),
        Some(0.0),
        "{recovery:?}"
    );
    assert!(recovery.failures().is_empty(), "{:?}", recovery.failures());
    // While the primary was down, requests went unanswered.
    assert!(
        ops.iter().any(|op| op.completion.is_none()
            && op.invoke_ns > kill_ns
            && op.invoke_ns < restart_ns),
        "no request open while the primary was down"
    );

    // The same history with a read after the restart that saw a write acknowledged
    // before the kill answered 0 instead (a primary that lost its log): the check fails.
    let acked_before_kill: Vec<u64> = ops
        .iter()
        .filter_map(|op| match (op.kind, op.completion) {
            (OpKind::Write(value), Some(done)) if done.complete_ns < kill_ns => Some(value),
            _ => None,
        })
        .collect();
    let mut stale = ops.clone();
    let read = stale
        .iter()
        .position(|op| {
            op.invoke_ns > restart_ns
                && matches!(op.completion.map(|done| done.outcome),
                    Some(Outcome::Read(v)) if acked_before_kill.contains(&v))
        })
        .expect("a read after the restart saw a write from before the kill");
    if let Some(done) = stale[read].completion.as_mut() {
        done.outcome = Outcome::Read(0);
    }
    let broken = assess(&stale, kill_ns, restart_ns, recovery.replayed);
    assert_eq!(
        broken.linearizability.violations(),
        Some(1.0),
        "a read of 0 after acknowledged writes to key {:?} passed",
        stale[read].key
    );
    assert!(!broken.failures().is_empty());
}

#[test]
fn a_primary_that_loses_its_log_fails_the_recovery_checks() {
    let (code, summary) = run(&["--wipe-on-restart"]);
    assert_eq!(code, 1, "{summary}");
    let ops = operations(&summary);
    let recovery = assess(
        &ops,
        number(&summary, "kill_ns"),
        number(&summary, "restart_ns"),
        number(&summary, "replayed"),
    );
    assert_eq!(recovery.replayed, 0);
    assert!(recovery.acked_before_kill > 0);
    assert_eq!(recovery.old_values_read_after_restart, 0);
    let failures = recovery.failures();
    assert!(
        failures
            .iter()
            .any(|failure| failure.contains("replayed 0 records")),
        "{failures:?}"
    );
    // Reads after the restart return 0 for keys written before it.
    assert!(ops.iter().any(|op| op.kind == OpKind::Read
        && op.invoke_ns > number(&summary, "restart_ns")
        && op.completion.map(|done| done.outcome) == Some(Outcome::Read(0))));
    assert_eq!(recovery.linearizability.violations(), Some(1.0));
}

#[test]
fn bad_arguments_are_refused_with_exit_code_2_before_anything_starts() {
    for args in [
        &["--seconds", "0.5"][..],
        &["--seconds", "NaN"],
        &["--bogus"],
        &["seconds", "3"],
        &["replica", "--node", "9", "--dir", "unused"],
        &[
            "replica",
            "--node",
            "0",
            "--dir",
            "unused",
            "--max-seconds",
            "inf",
        ],
    ] {
        let output = Command::new(env!("CARGO_BIN_EXE_kvstore-live"))
            .args(args)
            .stdin(Stdio::null())
            .output()
            .expect("kvstore-live starts");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.starts_with("error: "), "{args:?}: {stderr}");
    }
}
