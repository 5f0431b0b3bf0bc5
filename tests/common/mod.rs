//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::Arc;

use faultline::engine::RunOutput;
use faultline::record::{self, Invocation};
use faultline::scenario::{self, Scenario};
use faultline_reports::record::RunRecord;
use serde_json::{json, Value};

/// A small rpc scenario: constant latencies so tests can compute exact expectations.
pub fn base_scenario() -> Value {
    json!({
        "name": "test",
        "seed": 1,
        "duration": "20s",
        "network": { "latency": { "constant": "1ms" } },
        "workload": {
            "kind": "rpc",
            "clients": {
                "count": 100,
                "arrival": { "poisson_per_s": 10.0 },
                "timeout": "100ms",
                "retry": { "max_attempts": 1 }
            },
            "servers": {
                "count": 1,
                "workers": 64,
                "service_time": { "constant": "1ms" },
                "queue_limit": 1000
            }
        },
        "metrics": { "window": "1s" }
    })
}

/// Parses and validates a scenario value exactly as a file would be.
pub fn load(value: &Value) -> Scenario {
    scenario::load_str(&value.to_string(), "<test>").unwrap_or_else(|err| panic!("{err}"))
}

/// Runs a scenario on a fresh thread.
pub fn run(value: &Value) -> RunOutput {
    let scenario = Arc::new(load(value));
    let seed = scenario.seed;
    faultline::runner::run(scenario, seed, None)
        .expect("run completes")
        .output
}

/// Runs a scenario and builds its record.
pub fn run_record(value: &Value) -> RunRecord {
    let scenario = load(value);
    let output = run(value);
    record::build(&scenario, &output, &Invocation::default())
}

/// Runs with the trace written to a temp file; returns the trace lines.
pub fn run_traced(value: &Value, name: &str) -> (RunOutput, Vec<Value>) {
    let scenario = Arc::new(load(value));
    let seed = scenario.seed;
    let path = temp_dir(name).join("trace.jsonl");
    let output = faultline::runner::run(scenario, seed, Some(path.clone()))
        .expect("run")
        .output;
    let text = std::fs::read_to_string(&path).expect("trace written");
    let lines = text
        .lines()
        .map(|line| serde_json::from_str(line).expect("trace line is JSON"))
        .collect();
    (output, lines)
}

/// A fresh, empty temp directory for one test.
pub fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("faultline-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// Path of a bundled scenario.
pub fn bundled(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios")
        .join(name)
}
