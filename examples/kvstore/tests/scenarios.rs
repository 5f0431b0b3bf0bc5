//! The store's scenario files through the three ways in: `cargo test` over seeds, the
//! Rust API's shrink, and the store's own binary.

use std::process::Command;

use faultline::testing::{check_seeds, try_check_seeds};
use faultline::workload::register;
use faultline::Sim;
use faultline_kvstore::Kv;

const CORRECT: &str = "scenarios/kv.json";
const BUGGY: &str = "scenarios/kv-ack-early.json";

#[test]
fn without_the_bug_every_seed_passes() {
    check_seeds::<Kv>(CORRECT, 1..101);
}

/// The first failing seed of the buggy scenario, and the checks it failed.
fn first_failure() -> (u64, Vec<String>, String) {
    register::<Kv>().expect("the kind registers");
    let failure = try_check_seeds(BUGGY.as_ref(), 1..301)
        .expect_err("a seed of 300 loses an acknowledged write");
    let seed = failure.seed.expect("a seed failed, the scenario loaded");
    let checks = failure.checks.iter().map(|c| c.name.clone()).collect();
    (seed, checks, failure.reproduce)
}

#[test]
fn with_the_bug_a_seed_fails_and_names_the_violated_check() {
    let (seed, checks, reproduce) = first_failure();
    assert!(
        checks
            .iter()
            .any(|name| name.starts_with("acked_writes_survive")),
        "seed {seed} failed {checks:?}"
    );
    assert!(reproduce.contains(&format!("--seed {seed}")), "{reproduce}");
    // The binary replays it: exit 1, the check named as failed.
    let out = Command::new(env!("CARGO_BIN_EXE_kvstore"))
        .args(["run", BUGGY, "--seed", &seed.to_string(), "--out"])
        .arg(std::env::temp_dir().join(format!("kvstore-replay-{}", std::process::id())))
        .output()
        .expect("the binary runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("check FAIL acked_writes_survive"), "{text}");
}

#[test]
fn the_linearizability_check_catches_the_bug_and_names_a_short_witness() {
    register::<Kv>().expect("the kind registers");
    let failure = try_check_seeds(BUGGY.as_ref(), 1..301).expect_err("a seed fails");
    let seed = failure.seed.expect("a seed");
    // Run seeds from the first failure on until one fails `linearizable` (most that
    // lose a write also serve a stale read afterwards).
    let dir = std::env::temp_dir().join(format!("kvstore-lin-{}", std::process::id()));
    let sim = Sim::from_file(BUGGY).expect("it loads").out(&dir);
    let found = (seed..seed + 300).find_map(|seed| {
        let run = sim.run(seed).expect("it runs");
        let check = run
            .record
            .summary
            .checks
            .iter()
            .find(|check| check.name.starts_with("linearizable"))
            .cloned()
            .expect("the scenario checks linearizable");
        (!check.passed).then_some((run.record, check))
    });
    let (record, check) = found.expect("a seed of 300 is not linearizable");
    // The detail names the witness: its clients, operations and times.
    assert!(
        check.detail.contains("not linearizable: key "),
        "{}",
        check.detail
    );
    assert!(check.detail.contains("client-"), "{}", check.detail);
    let section = &record.summary.sections["kvstore"]["linearizability"];
    assert_eq!(section["verdict"], "not linearizable");
    let witness = section["detail"]["witness"].as_array().expect("a witness");
    assert!((1..=3).contains(&witness.len()), "{witness:?}");
    assert!(
        record
            .summary
            .tables
            .iter()
            .any(|table| table.name == "linearizability_witness"
                && table.rows.len() == witness.len()),
        "the report's table holds the witness"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn shrinking_a_failing_seed_leaves_the_primary_crash() {
    let (seed, _, _) = first_failure();
    let dir = std::env::temp_dir().join(format!("kvstore-shrink-{}", std::process::id()));
    let sim = Sim::from_file(BUGGY).expect("it loads").out(&dir);
    let shrunk = sim
        .shrink(seed)
        .expect("shrink runs")
        .expect("the seed fails, so it shrinks");
    let faults = shrunk.scenario["faults"].as_array().expect("a fault list");
    assert!(faults.len() <= 3, "{faults:?}");
    assert!(
        faults.iter().any(|fault| fault["crash"] == "replica-0"),
        "the primary's crash is what loses the write: {faults:?}"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_misspelt_key_in_the_stores_section_is_a_located_error() {
    let dir = std::env::temp_dir().join(format!("kvstore-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temp dir");
    let path = dir.join("bad.json");
    let text = std::fs::read_to_string(CORRECT).expect("the scenario");
    std::fs::write(&path, text.replace("\"think\"", "\"thinks\"")).expect("written");
    let out = Command::new(env!("CARGO_BIN_EXE_kvstore"))
        .arg("validate")
        .arg(&path)
        .output()
        .expect("the binary runs");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("bad.json:"), "{err}");
    assert!(err.contains("workload.thinks: unknown field"), "{err}");
    let _ = std::fs::remove_dir_all(dir);
}
