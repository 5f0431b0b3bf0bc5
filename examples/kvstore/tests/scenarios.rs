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
