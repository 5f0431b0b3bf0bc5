//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::Arc;

use faultline::engine::faults::Interval;
use faultline::record::Invocation;
use faultline::scenario::{self, ResolvedScenario};
use faultline::workload::rpc::metrics::{Totals, WindowCounters};
use faultline::workload::rpc::HlcStats;
use faultline::workload::RunOutput;
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

/// Parses and resolves a scenario value exactly as a file would be.
pub fn load(value: &Value) -> ResolvedScenario {
    scenario::load_text(&value.to_string(), "<test>", &scenario::Options::default())
        .unwrap_or_else(|err| panic!("{err}"))
}

/// What an rpc run produced, kernel and workload parts side by side.
#[derive(Debug)]
pub struct RpcRun {
    /// Hex digest of the trace.
    pub trace_hash: String,
    /// Events recorded.
    pub events: u64,
    /// Fault intervals.
    pub faults: Vec<Interval>,
    /// Metrics windows.
    pub windows: Vec<WindowCounters>,
    /// Latency of successes: p50, p99, p99.9, mean, max (ns).
    pub latency_ns: [f64; 5],
    /// Totals.
    pub totals: Totals,
    /// Requests in flight at the end.
    pub in_flight: u64,
    /// HLC observations.
    pub hlc: HlcStats,
}

/// The rpc parts of a run's output.
pub fn rpc_run(output: RunOutput) -> RpcRun {
    #[allow(unreachable_patterns)]
    let finished = match output {
        RunOutput::Rpc(finished) => finished,
        _ => panic!("not an rpc run"),
    };
    RpcRun {
        trace_hash: finished.core.trace_hash,
        events: finished.core.events,
        faults: finished.core.faults,
        windows: finished.workload.windows,
        latency_ns: finished.workload.latency_ns,
        totals: finished.workload.totals,
        in_flight: finished.workload.in_flight,
        hlc: finished.workload.hlc,
    }
}

/// Runs a scenario on a fresh thread.
pub fn run(value: &Value) -> RpcRun {
    rpc_run(run_output(value))
}

/// Runs a scenario on a fresh thread; its whole output.
pub fn run_output(value: &Value) -> RunOutput {
    let scenario = Arc::new(load(value));
    let seed = scenario.run.seed;
    faultline::runner::run(scenario, seed, None)
        .expect("run completes")
        .output
}

/// Runs a scenario and builds its record.
pub fn run_record(value: &Value) -> RunRecord {
    let scenario = load(value);
    let output = run_output(value);
    output.record(&scenario, &Invocation::default())
}

/// Runs with the trace written to a temp file; returns the trace lines.
pub fn run_traced(value: &Value, name: &str) -> (RpcRun, Vec<Value>) {
    let scenario = Arc::new(load(value));
    let seed = scenario.run.seed;
    let path = temp_dir(name).join("trace.jsonl");
    let output = rpc_run(
        faultline::runner::run(scenario, seed, Some(path.clone()))
            .expect("run")
            .output,
    );
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

/// The batch engines' variables a sweep reads its shard from; a test removes them so the
/// environment it runs in cannot pick a shard.
pub const BATCH_ENGINE_VARS: [&str; 4] = [
    "JOB_COMPLETION_INDEX",
    "SLURM_ARRAY_TASK_ID",
    "SLURM_ARRAY_TASK_MIN",
    "SLURM_ARRAY_TASK_COUNT",
];

/// Asserts the exit code (showing both streams when it differs); returns stdout.
pub fn expect_exit(result: &std::process::Output, code: i32) -> String {
    let stdout = String::from_utf8_lossy(&result.stdout).into_owned();
    assert_eq!(
        result.status.code(),
        Some(code),
        "{stdout}\n{}",
        String::from_utf8_lossy(&result.stderr)
    );
    stdout
}

/// A valid sweep record of seeds 10..20 (every third seed fails a check), of `shard` or
/// of all of them: an rpc sweep declaring the rpc figures, with availability, p99 and
/// retry amplification measured.
pub fn sweep_file(
    shard: Option<faultline::sweep::seeds::Shard>,
) -> faultline::sweep::record::SweepFile {
    use faultline::sweep::record::{totals, SeedRun, SweepFile, FORMAT};
    use faultline::sweep::seeds::SeedRange;
    use faultline_reports::figures::FigureInfo;
    use faultline_reports::record::CheckResult;
    let figures: Vec<FigureInfo> = faultline::workload::rpc::figures::FIGURES
        .iter()
        .map(FigureInfo::from)
        .collect();
    let seeds = SeedRange { start: 10, end: 20 };
    let runs: Vec<SeedRun> = seeds
        .seeds(shard)
        .into_iter()
        .map(|seed| SeedRun {
            seed,
            passed: seed % 3 != 0,
            figures: [
                ("availability", 0.9 + seed as f64 / 1000.0),
                ("p99_latency_ms", seed as f64),
                ("retry_amplification", 1.5),
            ]
            .into_iter()
            .map(|(name, value)| (name.to_owned(), value))
            .collect(),
            events: 100 + seed,
            trace_hash: format!("{seed:064x}"),
            checks: vec![CheckResult {
                name: "availability_at_least 0.9".into(),
                passed: seed % 3 != 0,
                detail: String::new(),
                figure: Some("availability".into()),
                threshold: Some(0.9),
            }],
            error: None,
            swarm: Vec::new(),
            reproduce: (seed % 3 == 0).then(|| format!("faultline run x.json --seed {seed}")),
        })
        .collect();
    SweepFile {
        format: FORMAT.into(),
        scenario: "s".into(),
        scenario_path: "x.json".into(),
        scenario_digest: "d".into(),
        workload: "rpc".into(),
        totals: totals(&figures, &runs),
        figures,
        set: Vec::new(),
        seeds,
        shard,
        runs,
    }
}
