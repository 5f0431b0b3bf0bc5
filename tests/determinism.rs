//! Same seed, same trace hash: within one process, across processes; another seed, another hash.

mod common;

use std::process::Command;

use common::{bundled, run, temp_dir};
use serde_json::{json, Value};

#[test]
fn same_seed_same_hash_in_one_process_and_a_different_seed_differs() {
    let mut scenario = common::base_scenario();
    scenario["workload"]["clients"]["retry"] = json!({ "max_attempts": 4 });
    scenario["faults"] = json!([
        { "at": "3s", "crash": "server-0", "restart_after": "2s" },
        { "at": "8s", "for": "3s", "omission": { "rate": 0.2 } }
    ]);
    let first = run(&scenario);
    let second = run(&scenario);
    assert_eq!(first.trace_hash, second.trace_hash);
    assert_eq!(first.events, second.events);
    assert_eq!(first.totals, second.totals);
    scenario["seed"] = json!(2);
    assert_ne!(run(&scenario).trace_hash, first.trace_hash);
}

fn summary_of(dir: &std::path::Path) -> Value {
    let text = std::fs::read_to_string(dir.join("summary.json")).expect("summary.json");
    serde_json::from_str(&text).expect("summary is JSON")
}

#[test]
fn same_seed_same_hash_across_processes() {
    let dir = temp_dir("determinism-processes");
    let hashes: Vec<String> = ["a", "b"]
        .iter()
        .map(|name| {
            let out = dir.join(name);
            let status = Command::new(env!("CARGO_BIN_EXE_faultline"))
                .args([
                    "run",
                    bundled("partition.json").to_str().unwrap(),
                    "--seed",
                    "5",
                    "--out",
                ])
                .arg(&out)
                .output()
                .expect("faultline runs");
            assert_eq!(
                status.status.code(),
                Some(0),
                "{}",
                String::from_utf8_lossy(&status.stderr)
            );
            summary_of(&out)["trace_hash"].as_str().unwrap().to_owned()
        })
        .collect();
    assert_eq!(hashes[0], hashes[1]);
    assert_eq!(hashes[0].len(), 64);
}

#[test]
fn check_determinism_flag_runs_twice_and_reports() {
    let out = temp_dir("check-determinism");
    let result = Command::new(env!("CARGO_BIN_EXE_faultline"))
        .args([
            "run",
            bundled("omission-timing.json").to_str().unwrap(),
            "--check-determinism",
            "--out",
        ])
        .arg(&out)
        .output()
        .expect("faultline runs");
    let stdout = String::from_utf8_lossy(&result.stdout);
    assert_eq!(result.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("determinism  ok"), "{stdout}");
}

/// Watching a run (the `run` command's progress bar) changes nothing in it: the same
/// trace hash and events as an unwatched run, while the watcher is shown the run's
/// progress, ending at its last event.
#[test]
fn a_watched_run_is_the_same_run_and_its_watcher_sees_it_progress() {
    let mut scenario = common::base_scenario();
    scenario["duration"] = json!("60s");
    scenario["workload"]["clients"]["count"] = json!(400);
    let resolved = std::sync::Arc::new(common::load(&scenario));
    let seed = resolved.run.seed;
    let plain = faultline::runner::run(std::sync::Arc::clone(&resolved), seed, None).unwrap();
    let mut seen: Vec<(u64, u64)> = Vec::new();
    let mut watch = |progress: &faultline::engine::progress::Progress| {
        seen.push((progress.sim_ns(), progress.events()));
    };
    let watched = faultline::runner::run_watched(
        std::sync::Arc::clone(&resolved),
        seed,
        None,
        Some(&mut watch),
    )
    .unwrap();
    let (plain, watched) = (plain.output.core(), watched.output.core());
    assert_eq!(plain.trace_hash, watched.trace_hash);
    assert_eq!(plain.events, watched.events);
    assert!(!seen.is_empty(), "the watcher is called at least once");
    assert!(
        seen.windows(2)
            .all(|w| w[0].0 <= w[1].0 && w[0].1 <= w[1].1),
        "progress only grows: {seen:?}"
    );
    assert!(plain.events > faultline::engine::progress::PUBLISH_EVERY);
    assert_eq!(
        seen.last(),
        Some(&(plain.simulated_ns, plain.events)),
        "the watcher ends on the run's end"
    );
}
