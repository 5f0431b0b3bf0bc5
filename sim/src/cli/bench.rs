//! `faultline bench`: the engine's performance figures (BENCHMARKS.md), printed as one
//! table, then checked against the thresholds below; the exit status says whether they
//! held (0) or not (1).
//!
//! 1. Throughput: the tight reference event loop (`benches/support/reference.rs`) and
//!    the engine's rpc workload, both at 10,000 clients, side by side in one process:
//!    simulated request/response pairs (attempts) per wall-second and their ratio.
//! 2. The bundled thundering-herd scenario scaled to 100,000 clients, 120 s: wall time
//!    and peak RSS.
//! 3. Bytes per idle logical client.
//! 4. Scaling: wall time and peak RSS at 1k, 10k and 100k clients.
//! 5. Sweeps: the bundled thundering herd over 40 seeds at `--jobs 1` and `--jobs 2`
//!    in the same run: the speed-up, and seed-runs per hour against the limit of
//!    `cores x 3600 s / the simulation time of one herd run alone`.
//!
//! Peak RSS (`VmHWM`) is per process, so every memory figure comes from a child process
//! (this program re-invoked with a hidden `--child` argument) that runs one simulation
//! and prints one line `wall_s attempts events vm_hwm_kib bytes_per_client`.
//!
//! Wall-clock reads and process spawns here are outside every simulation.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use clap::Args;
use serde_json::{json, Value};

use crate::runner;
use crate::scenario::{self, ResolvedScenario};
use crate::workload::RunOutput;

#[path = "../../../benches/support/reference.rs"]
mod reference;

/// The bundled scenario the benchmarks derive from.
const HERD_JSON: &str = include_str!("../../../scenarios/thundering-herd.json");

/// Arguments of `faultline bench`.
#[derive(Debug, Clone, Args)]
pub struct BenchArgs {
    /// Smaller runs (10x fewer clients for the herd, shorter durations): a quick check;
    /// the herd's thresholds, set for 100,000 clients, are then not checked.
    #[arg(long)]
    pub quick: bool,
    /// Repetitions of the throughput pair and of the capacity-scaled herd (the best of
    /// each is reported).
    #[arg(long, default_value_t = 3)]
    pub reps: u32,
    /// Skip the 100,000-client thundering herd (the longest part).
    #[arg(long)]
    pub no_herd: bool,
    /// Run only the bank workload's rows (processes on madsim beside direct calls).
    #[arg(long)]
    pub bank_only: bool,
    /// Skip the sweep rows (section 5).
    #[arg(long)]
    pub no_sweep: bool,
    /// Internal: run one simulation in this process and print its figures.
    #[arg(long, hide = true, num_args = 3, value_names = ["KIND", "CLIENTS", "SECONDS"])]
    pub child: Option<Vec<String>>,
}

/// The rpc workload of the throughput benchmark as a scenario: `clients` open-loop clients at 1 request
/// per second, retries on (6 attempts, full jitter), an EWMA breaker per client, a
/// persistent connection per client as in the bundled herd (with no faults it never
/// drops), link latency uniform(1, 10 ms), 4 servers of 64 workers with exponential
/// 1 ms service (far from saturation), no faults, `seconds` simulated.
pub fn rpc_scenario(clients: u32, seconds: u32) -> ResolvedScenario {
    build(&rpc_value(clients, seconds))
}

fn rpc_value(clients: u32, seconds: u32) -> Value {
    let mut value = herd_value(clients, seconds);
    value["network"]["latency"] = json!({"uniform": ["1ms", "10ms"]});
    value["workload"]["clients"]["retry"]["backoff"]["jitter"] = json!("full");
    value["workload"]["clients"]["breaker"] = json!({
        "mode": "ewma", "alpha": 0.1, "threshold": 0.5, "open_for": "5s",
        "half_open_probes": 2
    });
    value["workload"]["servers"] = json!({
        "count": 4, "workers": 64, "service_time": {"exponential": "1ms"},
        "queue_limit": 1000
    });
    value["faults"] = json!([]);
    value["name"] = json!("bench-rpc");
    value
}

/// The bundled thundering-herd scenario with `clients` clients and `seconds` simulated
/// seconds (faults and everything else as bundled).
pub fn herd_scenario(clients: u32, seconds: u32) -> ResolvedScenario {
    build(&herd_value(clients, seconds))
}

/// Idle clients of the rpc workload (breaker on): requests so rare that none is issued
/// during the run, so what remains is each client's model state.
pub fn idle_scenario(clients: u32) -> ResolvedScenario {
    let mut value = rpc_value(clients, 1);
    value["duration"] = json!("1ms");
    value["metrics"]["window"] = json!("1ms");
    value["workload"]["clients"]["arrival"] = json!({"poisson_per_s": 1.0e-9});
    build(&value)
}

/// The thundering herd with the server's capacity scaled with the clients (workers and
/// queue limit times `clients / 1000`), so each client sees the bundled scenario's load:
/// the same 62% utilisation, crash and restart spike, at `clients` scale.
pub fn herd_scaled_scenario(clients: u32, seconds: u32) -> ResolvedScenario {
    let mut value = herd_value(clients, seconds);
    let scale = (clients / 1_000).max(1);
    let servers = &mut value["workload"]["servers"];
    let workers = servers["workers"].as_u64().unwrap_or(8) * u64::from(scale);
    let queue_limit = servers["queue_limit"].as_u64().unwrap_or(200) * u64::from(scale);
    servers["workers"] = json!(workers);
    servers["queue_limit"] = json!(queue_limit);
    build(&value)
}

fn herd_value(clients: u32, seconds: u32) -> Value {
    let mut value: Value = serde_json::from_str(HERD_JSON).expect("the bundled scenario is JSON");
    value["workload"]["clients"]["count"] = json!(clients);
    value["duration"] = json!(format!("{seconds}s"));
    value["checks"] = json!([]);
    value
}

fn build(value: &Value) -> ResolvedScenario {
    scenario::load_text(&value.to_string(), "bench", &scenario::Options::default())
        .expect("bench scenarios are valid")
}

/// One measured simulation.
#[derive(Clone, Copy, Debug, Default)]
pub struct Measured {
    /// Wall seconds.
    pub wall_s: f64,
    /// Attempts sent.
    pub attempts: u64,
    /// Events handled (trace records).
    pub events: u64,
    /// Peak RSS of the process, KiB (0 when measured in-process).
    pub vm_hwm_kib: u64,
    /// Model state per client, bytes (`RpcWorld::bytes_per_client`).
    pub bytes_per_client: u64,
}

/// Runs `scenario` on a fresh thread (see [`runner::run`]).
pub fn measure(scenario: ResolvedScenario) -> Measured {
    let seed = scenario.run.seed;
    let timed = runner::run(Arc::new(scenario), seed, None).expect("bench runs succeed");
    let RunOutput::Rpc(finished) = &timed.output else {
        panic!("the bench runs rpc scenarios");
    };
    Measured {
        wall_s: timed.wall_s,
        attempts: finished.workload.totals.attempts,
        events: finished.core.events,
        vm_hwm_kib: 0,
        bytes_per_client: finished.workload.bytes_per_client as u64,
    }
}

/// `VmHWM` of this process, KiB.
pub fn vm_hwm_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|line| line.strip_prefix("VmHWM:"))
                .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

/// The child side: runs one simulation (`KIND CLIENTS SECONDS`, KIND one of `rpc`,
/// `herd`, `herd-scaled`, `idle`, or `bank` and `bank-direct` with CLIENTS accounts) and
/// prints its figures on one line; returns the exit code.
pub fn child(spec: &[String]) -> u8 {
    let (Some(kind), Some(clients), Some(seconds)) = (spec.first(), spec.get(1), spec.get(2))
    else {
        return super::EXIT_BAD_INPUT;
    };
    let (Ok(clients), Ok(seconds)) = (clients.parse::<u32>(), seconds.parse::<u32>()) else {
        return super::EXIT_BAD_INPUT;
    };
    if kind == "bank-checkpoints" {
        if clients < 2 {
            return super::EXIT_BAD_INPUT;
        }
        // wall seconds, messages delivered, whether every check held (1/0), peak RSS
        let (wall_s, delivered, held) = bank_checkpoint_run(clients, seconds);
        println!("{wall_s} {delivered} {} {}", u8::from(held), vm_hwm_kib());
        return super::EXIT_OK;
    }
    if let Some(direct) = match kind.as_str() {
        "bank" => Some(false),
        "bank-direct" => Some(true),
        _ => None,
    } {
        if clients < 2 {
            return super::EXIT_BAD_INPUT;
        }
        // wall seconds, messages delivered, engine events, whether every check held
        let (wall_s, delivered, handled, held) = bank_run_with(clients, seconds, direct);
        println!("{wall_s} {delivered} {handled} {held}");
        return super::EXIT_OK;
    }
    let scenario = match kind.as_str() {
        "rpc" => rpc_scenario(clients, seconds),
        "herd" => herd_scenario(clients, seconds),
        "herd-scaled" => herd_scaled_scenario(clients, seconds),
        "idle" => idle_scenario(clients),
        _ => return super::EXIT_BAD_INPUT,
    };
    let measured = measure(scenario);
    println!(
        "{} {} {} {} {}",
        measured.wall_s,
        measured.attempts,
        measured.events,
        vm_hwm_kib(),
        measured.bytes_per_client
    );
    super::EXIT_OK
}

/// Runs `program --child KIND CLIENTS SECONDS` (with `extra` arguments first) and
/// parses its line.
fn in_child(program: &Path, extra: &[String], kind: &str, clients: u32, seconds: u32) -> Measured {
    let output = Command::new(program)
        .args(extra)
        .args(["--child", kind, &clients.to_string(), &seconds.to_string()])
        .output()
        .expect("the bench child starts");
    let text = String::from_utf8_lossy(&output.stdout);
    let fields: Vec<f64> = text
        .lines()
        .last()
        .unwrap_or("")
        .split_whitespace()
        .filter_map(|field| field.parse().ok())
        .collect();
    assert!(
        output.status.success() && fields.len() == 5,
        "bench child {kind} {clients} {seconds} failed: {text}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    Measured {
        wall_s: fields[0],
        attempts: fields[1] as u64,
        events: fields[2] as u64,
        vm_hwm_kib: fields[3] as u64,
        bytes_per_client: fields[4] as u64,
    }
}

/// Times the reference loop.
#[allow(clippy::disallowed_methods)] // wall time around a loop that has no simulated clock
fn time_reference(clients: u32, seconds: u32) -> (f64, reference::ReferenceRun) {
    let started = std::time::Instant::now();
    let run = reference::run(clients, u64::from(seconds) * 1_000_000_000, 7);
    (started.elapsed().as_secs_f64(), run)
}

struct Table {
    rows: Vec<[String; 4]>,
}

/// One of the bench's thresholds (BENCHMARKS.md gives the reasons for each figure).
struct Threshold {
    /// What is measured and the bound, in words.
    what: &'static str,
    /// The measured value, with its unit.
    measured: String,
    /// Whether it held; `None` when this run does not measure it.
    held: Option<bool>,
}

/// Engine attempts per wall-second at 10,000 clients.
const ENGINE_ATTEMPTS_PER_S: f64 = 2.0e6;
/// Engine attempts per second over the reference loop's rpcs per second.
const ENGINE_RATIO: f64 = 0.5;
/// Wall seconds of the 100,000-client herd, 120 s simulated.
const HERD_WALL_S: f64 = 10.0;
/// Peak RSS of the herd, KiB (1 GiB).
const HERD_PEAK_KIB: u64 = 1 << 20;

fn held_word(held: Option<bool>) -> &'static str {
    match held {
        Some(true) => "held",
        Some(false) => "missed",
        None => "not run",
    }
}

impl Table {
    fn row(&mut self, what: impl Into<String>, value: String, unit: &str, note: impl Into<String>) {
        let row = [what.into(), value, unit.to_owned(), note.into()];
        println!("{:<58} {:>12} {:<12} {}", row[0], row[1], row[2], row[3]);
        let _ = std::io::stdout().flush();
        self.rows.push(row);
    }
}

fn mib(kib: u64) -> String {
    format!("{:.1}", kib as f64 / 1024.0)
}

/// Runs every benchmark and prints the table. `program` is the executable that accepts
/// `extra` followed by `--child KIND CLIENTS SECONDS` (this one, or a bench binary).
pub fn run_all(args: &BenchArgs, program: &Path, extra: &[String]) -> u8 {
    let quick = args.quick;
    let reps = args.reps.max(1);
    let mut table = Table { rows: Vec::new() };
    println!(
        "{:<58} {:>12} {:<12} note",
        "benchmark (release build, one core each)", "value", "unit"
    );
    println!("{}", "-".repeat(110));
    if args.bank_only {
        let thresholds = bank(&mut table, reps, quick, program, extra);
        println!("{}", "-".repeat(110));
        return report_thresholds(&thresholds, quick, false);
    }

    // 1. Throughput, side by side.
    let seconds = if quick { 10 } else { 60 };
    let clients = 10_000;
    let mut best_reference = f64::MAX;
    let mut best_engine = f64::MAX;
    let mut rpcs = 0;
    let mut reference_events = 0;
    let mut engine = Measured::default();
    for _ in 0..reps {
        let (wall, run) = time_reference(clients, seconds);
        best_reference = best_reference.min(wall);
        rpcs = run.rpcs;
        reference_events = run.events;
        let measured = measure(rpc_scenario(clients, seconds));
        best_engine = best_engine.min(measured.wall_s);
        engine = measured;
    }
    let reference_rate = rpcs as f64 / best_reference;
    let engine_rate = engine.attempts as f64 / best_engine;
    table.row(
        "reference BinaryHeap loop, 10k clients",
        format!("{:.0}", reference_rate),
        "rpc/s",
        format!(
            "{rpcs} rpcs ({reference_events} events) in {seconds} s simulated, \
             best of {reps}: {best_reference:.3} s"
        ),
    );
    table.row(
        "engine rpc workload, 10k clients",
        format!("{:.0}", engine_rate),
        "attempts/s",
        format!(
            "{} attempts, {} events in {seconds} s simulated, best of {reps}: {best_engine:.3} s",
            engine.attempts, engine.events
        ),
    );
    let ratio = engine_rate / reference_rate;
    table.row(
        "ratio engine / reference",
        format!("{ratio:.3}"),
        "",
        "engine attempts/s over reference rpc/s, same machine, same minute",
    );
    let mut thresholds = vec![
        Threshold {
            what: "engine rpc workload >= 2,000,000 attempts/s (10k clients)",
            measured: format!("{engine_rate:.0} attempts/s"),
            held: Some(engine_rate >= ENGINE_ATTEMPTS_PER_S),
        },
        Threshold {
            what: "engine / reference loop >= 0.5",
            measured: format!("{ratio:.3}"),
            held: Some(ratio >= ENGINE_RATIO),
        },
    ];

    // 4. Scaling, each size in its own process.
    let scale_seconds = if quick { 5 } else { 20 };
    let mut per_attempt = Vec::new();
    for clients in [1_000u32, 10_000, 100_000] {
        let measured = in_child(program, extra, "rpc", clients, scale_seconds);
        per_attempt.push(measured.wall_s / measured.attempts.max(1) as f64);
        table.row(
            format!("scaling: rpc workload, {clients} clients, {scale_seconds} s"),
            format!("{:.3}", measured.wall_s),
            "s wall",
            format!(
                "peak RSS {} MiB, {} attempts, {:.0} attempts/s",
                mib(measured.vm_hwm_kib),
                measured.attempts,
                measured.attempts as f64 / measured.wall_s
            ),
        );
    }
    table.row(
        "scaling: wall per attempt, 100k vs 1k clients",
        format!("{:.2}", per_attempt[2] / per_attempt[0]),
        "x",
        "1.00 = perfectly linear in the work",
    );

    // 3. Bytes per idle client: model state, plus RSS growth between two idle
    // populations (each in its own process).
    let small = in_child(program, extra, "idle", 1_000, 0);
    let large = in_child(program, extra, "idle", 1_000_000, 0);
    let growth = (large.vm_hwm_kib.saturating_sub(small.vm_hwm_kib) * 1024) as f64 / 999_000.0;
    table.row(
        "bytes per idle client: model state",
        large.bytes_per_client.to_string(),
        "B",
        "RpcWorld::bytes_per_client: client slot (HLC, link) + breaker + connection",
    );
    table.row(
        "bytes per idle client: + pending events",
        "0".to_owned(),
        "B",
        format!(
            "open loop: one {} B arrival for the whole population, none per client",
            crate::workload::rpc::EVENT_ENTRY_BYTES
        ),
    );
    table.row(
        "bytes per idle client: measured RSS growth",
        format!("{growth:.0}"),
        "B",
        format!(
            "(VmHWM at 1M idle clients {} MiB - at 1k {} MiB) / 999k",
            mib(large.vm_hwm_kib),
            mib(small.vm_hwm_kib)
        ),
    );

    // 2. The thundering herd at 100k clients: as bundled (one server of 8 workers,
    // overloaded 60 times over; one run, it is long), and with the server scaled with
    // the clients (best of `reps`, as the throughput pair: wall times on a shared
    // machine vary by several per cent from one minute to the next).
    let mut herd_wall = Threshold {
        what: "herd as bundled, 100k clients, 120 s: wall <= 10 s",
        measured: "-".to_owned(),
        held: None,
    };
    let mut herd_rss = Threshold {
        what: "herd as bundled, 100k clients: peak RSS <= 1024 MiB",
        measured: "-".to_owned(),
        held: None,
    };
    if !args.no_herd {
        let herd_clients = if quick { 10_000 } else { 100_000 };
        for (kind, what, runs) in [
            ("herd", "as bundled", 1),
            ("herd-scaled", "capacity scaled", args.reps.max(1)),
        ] {
            let measured: Vec<Measured> = (0..runs)
                .map(|_| in_child(program, extra, kind, herd_clients, 120))
                .collect();
            let herd = measured
                .iter()
                .copied()
                .min_by(|a, b| a.wall_s.total_cmp(&b.wall_s))
                .expect("at least one run");
            let peak_kib = measured.iter().map(|run| run.vm_hwm_kib).max().unwrap_or(0);
            let walls: Vec<String> = measured
                .iter()
                .map(|run| format!("{:.2}", run.wall_s))
                .collect();
            let runs_note = if runs > 1 {
                format!("best of {runs} ({} s); ", walls.join(", "))
            } else {
                String::new()
            };
            table.row(
                format!("herd {what}, {herd_clients} clients, 120 s"),
                format!("{:.2}", herd.wall_s),
                "s wall",
                format!(
                    "{runs_note}{} attempts, {} events, {:.0} attempts/s",
                    herd.attempts,
                    herd.events,
                    herd.attempts as f64 / herd.wall_s
                ),
            );
            table.row(
                format!("herd {what}, {herd_clients} clients: peak RSS"),
                mib(peak_kib),
                "MiB",
                "",
            );
            if kind == "herd" && !quick {
                herd_wall.measured = format!("{:.2} s", herd.wall_s);
                herd_wall.held = Some(herd.wall_s <= HERD_WALL_S);
                herd_rss.measured = format!("{} MiB", mib(peak_kib));
                herd_rss.held = Some(peak_kib <= HERD_PEAK_KIB);
            }
        }
    }
    thresholds.push(herd_wall);
    thresholds.push(herd_rss);
    if !args.no_sweep {
        thresholds.extend(sweep_rows(&mut table, if quick { 10 } else { 40 }, reps));
    }
    thresholds.extend(bank(&mut table, reps, quick, program, extra));
    println!("{}", "-".repeat(110));
    report_thresholds(&thresholds, quick, args.no_herd)
}

/// Delivered messages per wall-second a bank run must reach (16 accounts).
const BANK_MESSAGES_PER_S: f64 = 1.0e6;
/// Most the madsim runtime may multiply the cost per message over direct calls.
const BANK_RUNTIME_FACTOR: f64 = 2.0;

/// The bank workload as the benchmark runs it: 16 accounts of 1,000 units, 200
/// transfers per second each, a snapshot every 2 s, every check on, no faults, no trace.
pub fn bank_scenario(seconds: u32, direct: bool) -> ResolvedScenario {
    bank_scenario_with(BANK_ACCOUNTS, seconds, direct)
}

/// Accounts in the bank benchmark.
const BANK_ACCOUNTS: u32 = 16;

/// [`bank_scenario`] with `accounts` accounts.
fn bank_scenario_with(accounts: u32, seconds: u32, direct: bool) -> ResolvedScenario {
    let value = json!({
        "name": "bench-bank",
        "seed": 7,
        "duration": format!("{seconds}s"),
        "network": { "latency": { "uniform": ["1ms", "5ms"] } },
        "workload": {
            "kind": "bank",
            "accounts": { "count": accounts, "initial_balance": 1000 },
            "transfers": { "per_s": 200, "max_amount": 20 },
            "snapshots": { "every": "2s", "initiator": "random" }
        },
        "checks": [
            { "causality": true }, { "hlc_bounds": true }, { "snapshot_conservation": true },
            { "consistent_cut": true }, { "snapshot_liveness": true }, { "durability": true }
        ]
    });
    let mut scenario = build(&value);
    if let crate::workload::WorkloadConfig::Bank(config) = &mut scenario.workload {
        config.direct = direct;
    }
    scenario
}

/// One bank run: wall seconds, messages delivered, engine events handled, whether
/// every check held.
fn bank_run(seconds: u32, direct: bool) -> (f64, u64, u64, bool) {
    bank_run_with(BANK_ACCOUNTS, seconds, direct)
}

/// [`bank_run`] with `accounts` accounts.
fn bank_run_with(accounts: u32, seconds: u32, direct: bool) -> (f64, u64, u64, bool) {
    let scenario = bank_scenario_with(accounts, seconds, direct);
    let checks = scenario.run.checks.clone();
    let seed = scenario.run.seed;
    let scenario = Arc::new(scenario);
    let timed = runner::run(Arc::clone(&scenario), seed, None).expect("bench runs succeed");
    let RunOutput::Bank(finished) = &timed.output else {
        panic!("the bank bench runs the bank workload");
    };
    let record = timed
        .output
        .record(&scenario, &crate::record::Invocation::default());
    let held = record.summary.checks.len() == checks.len()
        && record.summary.checks.iter().all(|check| check.passed);
    (
        timed.wall_s,
        finished.workload.stats.messages_delivered,
        finished.core.handled,
        held,
    )
}

/// Peak RSS of the bank at [`BANK_MEMORY_ACCOUNTS`] accounts for 60 s, KiB (256 MiB).
const BANK_PEAK_KIB: u64 = 256 << 10;
/// Accounts of the bank's memory row (the most a scenario may have).
const BANK_MEMORY_ACCOUNTS: u32 = crate::workload::bank::spec::MAX_ACCOUNTS;
/// Most the cost per delivered message may grow from 16 accounts to
/// [`BANK_MEMORY_ACCOUNTS`].
const BANK_SCALING_FACTOR: f64 = 1.5;

/// [`bank_scenario_with`] (processes) with checkpoints every 2 s costing 10 ms, which
/// keep each account's log to about 2 s of records.
fn bank_checkpoint_scenario(accounts: u32, seconds: u32) -> ResolvedScenario {
    let mut scenario = bank_scenario_with(accounts, seconds, false);
    if let crate::workload::WorkloadConfig::Bank(config) = &mut scenario.workload {
        config.account.checkpoints = Some(crate::workload::bank::config::CheckpointConfig {
            cost_ns: 10_000_000,
            interval_ns: 2_000_000_000,
            reckoning: "every 2s, as the bench sets it".to_owned(),
        });
    }
    scenario
}

/// One run of [`bank_checkpoint_scenario`]: wall seconds, messages delivered, whether
/// every check held.
fn bank_checkpoint_run(accounts: u32, seconds: u32) -> (f64, u64, bool) {
    let scenario = Arc::new(bank_checkpoint_scenario(accounts, seconds));
    let checks = scenario.run.checks.len();
    let timed =
        runner::run(Arc::clone(&scenario), scenario.run.seed, None).expect("bench runs succeed");
    let RunOutput::Bank(finished) = &timed.output else {
        panic!("the bank bench runs the bank workload");
    };
    let record = timed
        .output
        .record(&scenario, &crate::record::Invocation::default());
    let held = record.summary.checks.len() == checks
        && record.summary.checks.iter().all(|check| check.passed);
    (
        timed.wall_s,
        finished.workload.stats.messages_delivered,
        held,
    )
}

/// The bank with checkpoints in a child process (for its peak RSS), best wall of
/// `reps`: wall seconds, messages delivered, whether every check held, peak RSS KiB.
fn bank_checkpoint_child(
    program: &Path,
    extra: &[String],
    accounts: u32,
    seconds: u32,
    reps: u32,
) -> (f64, u64, bool, u64) {
    let mut best = (f64::MAX, 0, true, 0);
    for _ in 0..reps {
        let output = Command::new(program)
            .args(extra)
            .args([
                "--child",
                "bank-checkpoints",
                &accounts.to_string(),
                &seconds.to_string(),
            ])
            .output()
            .expect("the bench child starts");
        let text = String::from_utf8_lossy(&output.stdout);
        let fields: Vec<f64> = text
            .lines()
            .last()
            .unwrap_or("")
            .split_whitespace()
            .filter_map(|field| field.parse().ok())
            .collect();
        assert!(
            output.status.success() && fields.len() == 4,
            "bench child bank-checkpoints {accounts} {seconds} failed: {text}{}",
            String::from_utf8_lossy(&output.stderr)
        );
        best.0 = best.0.min(fields[0]);
        best.1 = fields[1] as u64;
        best.2 &= fields[2] == 1.0;
        best.3 = best.3.max(fields[3] as u64);
    }
    best
}

/// The bank's memory and scaling rows: peak RSS at 16 and 64 accounts with checkpoints,
/// and the cost per delivered message at 64 over that at 16, measured in this run.
fn bank_memory(
    table: &mut Table,
    reps: u32,
    seconds: u32,
    program: &Path,
    extra: &[String],
) -> Vec<Threshold> {
    let mut per_message_ns = Vec::new();
    let mut peak_kib = 0;
    let mut held = true;
    for accounts in [BANK_ACCOUNTS, BANK_MEMORY_ACCOUNTS] {
        let (wall, delivered, checks, kib) =
            bank_checkpoint_child(program, extra, accounts, seconds, reps);
        let ns = wall * 1e9 / delivered.max(1) as f64;
        per_message_ns.push(ns);
        peak_kib = kib;
        held &= checks;
        table.row(
            format!("bank, {accounts} accounts, checkpoints every 2 s, {seconds} s: peak RSS"),
            mib(kib),
            "MiB",
            format!(
                "{delivered} delivered, best of {reps}: {wall:.3} s, {ns:.0} ns/message; checks {}",
                if checks { "all held" } else { "FAILED" }
            ),
        );
    }
    let factor = per_message_ns[1] / per_message_ns[0];
    table.row(
        format!("bank: cost per message, {BANK_MEMORY_ACCOUNTS} / {BANK_ACCOUNTS} accounts"),
        format!("{factor:.2}"),
        "x",
        "each message's vector clock, log record and checker work grow with the accounts",
    );
    vec![
        Threshold {
            what: "bank, 64 accounts for 60 s with checkpoints: peak RSS <= 256 MiB",
            measured: format!("{} MiB", mib(peak_kib)),
            held: (seconds >= 60).then_some(peak_kib <= BANK_PEAK_KIB && held),
        },
        Threshold {
            what: "bank, 256 accounts: peak RSS <= 1 GiB",
            measured: format!("not run: a bank has at most {BANK_MEMORY_ACCOUNTS} accounts"),
            held: None,
        },
        Threshold {
            what: "bank: cost per message at 64 accounts <= 1.5x that at 16",
            measured: format!("{factor:.2}x"),
            held: Some(factor <= BANK_SCALING_FACTOR),
        },
    ]
}

/// The bank rows: processes on madsim beside the same logic by direct calls, then the
/// memory and scaling rows ([`bank_memory`]).
fn bank(
    table: &mut Table,
    reps: u32,
    quick: bool,
    program: &Path,
    extra: &[String],
) -> Vec<Threshold> {
    let seconds = if quick { 10 } else { 60 };
    let mut best = [f64::MAX; 2];
    let mut delivered = [0; 2];
    let mut events = [0; 2];
    let mut held = [true; 2];
    for _ in 0..reps {
        for (index, direct) in [false, true].into_iter().enumerate() {
            let (wall, messages, run_events, checks) = bank_run(seconds, direct);
            best[index] = best[index].min(wall);
            delivered[index] = messages;
            events[index] = run_events;
            held[index] &= checks;
        }
    }
    let rate = |index: usize| delivered[index] as f64 / best[index];
    let per_message_ns = |index: usize| best[index] * 1e9 / delivered[index].max(1) as f64;
    for (index, what) in [
        (0, "bank, 16 accounts as madsim processes"),
        (1, "bank, the same logic by direct calls"),
    ] {
        table.row(
            format!("{what}, {seconds} s"),
            format!("{:.0}", rate(index)),
            "messages/s",
            format!(
                "{} delivered, {} engine events ({:.0} ns each), best of {reps}: {:.3} s, {:.0} ns/message; checks {}",
                delivered[index],
                events[index],
                best[index] * 1e9 / events[index].max(1) as f64,
                best[index],
                per_message_ns(index),
                if held[index] { "all held" } else { "FAILED" }
            ),
        );
    }
    let factor = per_message_ns(0) / per_message_ns(1);
    table.row(
        "bank: runtime cost per message, processes / direct",
        format!("{factor:.2}"),
        "x",
        "the madsim runtime's share: one task poll per process step (the driver resumes inside it); fsync completions wake no process",
    );
    let mut thresholds = service_host(table, reps, seconds);
    thresholds.extend(bank_memory(table, reps, seconds, program, extra));
    thresholds.extend([
        Threshold {
            what: "bank processes >= 1,000,000 delivered messages/s (16 accounts)",
            measured: format!("{:.0} messages/s", rate(0)),
            held: Some(rate(0) >= BANK_MESSAGES_PER_S && held[0]),
        },
        Threshold {
            what: "bank: madsim runtime at most doubles the cost per message",
            measured: format!("{factor:.2}x"),
            held: Some(factor <= BANK_RUNTIME_FACTOR),
        },
    ]);
    thresholds
}

/// Most the service host may add per message over direct calls, ns.
const HOST_NS_PER_MESSAGE: f64 = 500.0;

/// The service host's rows: a trivial 16-node user service on the public API
/// ([`super::chatter`]) as processes beside the same traffic by direct calls.
fn service_host(table: &mut Table, reps: u32, seconds: u32) -> Vec<Threshold> {
    let mut best = [f64::MAX; 2];
    let mut delivered = [0; 2];
    let mut same = true;
    for _ in 0..reps {
        let mut digests = [(0, 0); 2];
        for (index, direct) in [false, true].into_iter().enumerate() {
            let (wall_s, finished) = super::chatter::run(seconds, direct);
            best[index] = best[index].min(wall_s);
            delivered[index] = finished.workload.delivered;
            digests[index] = (finished.workload.digest, finished.workload.forwarded);
        }
        same &= digests[0] == digests[1];
    }
    let per_message_ns = |index: usize| best[index] * 1e9 / delivered[index].max(1) as f64;
    for (index, what) in [
        (0, "user service, 16 nodes as async fn main processes"),
        (1, "user service, the same traffic by direct calls"),
    ] {
        table.row(
            format!("{what}, {seconds} s"),
            format!("{:.0}", delivered[index] as f64 / best[index]),
            "messages/s",
            format!(
                "{} delivered, best of {reps}: {:.3} s, {:.0} ns/message; same messages both ways: {}",
                delivered[index],
                best[index],
                per_message_ns(index),
                if same { "yes" } else { "NO" }
            ),
        );
    }
    let host_ns = per_message_ns(0) - per_message_ns(1);
    table.row(
        "service host: its own cost per message",
        format!("{host_ns:.0}"),
        "ns",
        "processes minus direct calls, per delivered message: mailbox, task poll, outbox",
    );
    vec![Threshold {
        what: "service host adds at most 500 ns per message (16-node user service)",
        measured: format!("{host_ns:.0} ns"),
        held: Some(host_ns <= HOST_NS_PER_MESSAGE && same),
    }]
}

/// Prints each threshold with its measured value; exit 0 when every one measured held.
fn report_thresholds(thresholds: &[Threshold], quick: bool, no_herd: bool) -> u8 {
    println!("thresholds (the goals BENCHMARKS.md explains, measured with this build here):");
    for threshold in thresholds {
        println!(
            "  {:<8} {:<60} measured {}",
            held_word(threshold.held),
            threshold.what,
            threshold.measured
        );
    }
    let checked: Vec<&Threshold> = thresholds.iter().filter(|t| t.held.is_some()).collect();
    let held = checked.iter().filter(|t| t.held == Some(true)).count();
    if quick || no_herd {
        println!(
            "  (the herd's thresholds are for 100,000 clients; {} does not run it)",
            if no_herd { "--no-herd" } else { "--quick" }
        );
    }
    if held == checked.len() {
        println!("result: all {held} thresholds measured held (exit 0)");
        super::EXIT_OK
    } else {
        println!(
            "result: {} of {} thresholds measured missed (exit 1)",
            checked.len() - held,
            checked.len()
        );
        super::EXIT_CHECK_FAILED
    }
}

/// `faultline bench`.
pub fn run(args: &BenchArgs) -> u8 {
    if let Some(spec) = &args.child {
        return child(spec);
    }
    let program: PathBuf = match std::env::current_exe() {
        Ok(path) => path,
        Err(err) => {
            eprintln!("error: cannot find this executable to run bench children: {err}");
            return super::EXIT_BAD_INPUT;
        }
    };
    run_all(args, &program, &["bench".to_owned()])
}

/// Section 5: the bundled thundering herd (as bundled, checks included) over `seeds`
/// seeds at `--jobs 1` and `--jobs 2`, through the sweep itself (records, failed seeds'
/// full reports, sweep.json and the sweep report), `reps` times interleaved, best of
/// each (as the throughput pair: wall times on a shared machine vary); and one herd run
/// alone, best of `reps`, for the limit.
fn sweep_rows(table: &mut Table, seeds: u64, reps: u32) -> Vec<Threshold> {
    let reps = reps.max(1);
    let path = Path::new("scenarios/thundering-herd.json");
    let prepared = crate::sweep::Prepared::from_text(HERD_JSON, path, &[])
        .expect("the bundled scenario is valid");
    let scenario = prepared.at_seed(1).expect("the bundled scenario resolves");
    let alone_s = (0..reps)
        .map(|_| {
            runner::run(Arc::clone(&scenario), 1, None)
                .expect("bench runs succeed")
                .wall_s
        })
        .fold(f64::INFINITY, f64::min);
    let cores = runner::cores();
    let range = crate::sweep::seeds::SeedRange {
        start: 1,
        end: 1 + seeds,
    };
    let root = std::env::temp_dir().join(format!("faultline-bench-sweep-{}", std::process::id()));
    // Per --jobs: every wall time, the best run's sweep, and its simulation seconds.
    let mut walls: [Vec<f64>; 2] = [Vec::new(), Vec::new()];
    let mut best: [Option<(f64, crate::sweep::Outcome)>; 2] = [None, None];
    for _ in 0..reps {
        for (slot, jobs) in [1usize, 2].into_iter().enumerate() {
            let out = root.join(format!("jobs-{jobs}"));
            let _ = std::fs::remove_dir_all(&out);
            let spec = crate::sweep::SweepSpec {
                seeds: range,
                shard: None,
                jobs,
                out: out.clone(),
                keep_runs: false,
            };
            let clock = runner::Stopwatch::start();
            let outcome = crate::sweep::execute(&prepared, &spec, |_| {}).expect("the sweep runs");
            crate::sweep::write(&out, &outcome, std::slice::from_ref(&out)).expect("sweep records");
            let wall_s = clock.elapsed_s();
            walls[slot].push(wall_s);
            if best[slot]
                .as_ref()
                .is_none_or(|(best_s, _)| wall_s < *best_s)
            {
                best[slot] = Some((wall_s, outcome));
            }
        }
    }
    let _ = std::fs::remove_dir_all(&root);
    let [Some((one_s, one)), Some((two_s, two))] = best else {
        unreachable!("reps >= 1");
    };
    for (jobs, wall_s, outcome, all) in [(1, one_s, &one, &walls[0]), (2, two_s, &two, &walls[1])] {
        let sim_s: f64 = outcome.timing.runs.iter().map(|run| run.sim_s).sum();
        let all: Vec<String> = all.iter().map(|wall| format!("{wall:.2}")).collect();
        table.row(
            format!("sweep: bundled herd, {seeds} seeds, --jobs {jobs}"),
            format!("{wall_s:.2}"),
            "s wall",
            format!(
                "best of {reps} ({} s); {} failed seeds written in full; simulation {:.3} s per \
                 seed; {:.0} seed-runs/h",
                all.join(", "),
                outcome.file.totals.failed + outcome.file.totals.errors,
                sim_s / seeds as f64,
                seeds as f64 * 3600.0 / wall_s
            ),
        );
    }
    let speedup = one_s / two_s;
    let identical = one.file.to_text() == two.file.to_text();
    table.row(
        "sweep: speed-up --jobs 2 over --jobs 1",
        format!("{speedup:.2}"),
        "x",
        format!(
            "on {cores} cores; sweep.json identical at both: {}",
            if identical { "yes" } else { "NO" }
        ),
    );
    let limit = cores as f64 * 3600.0 / alone_s;
    let achieved = seeds as f64 * 3600.0 / two_s;
    table.row(
        "sweep: seed-runs per hour at --jobs 2",
        format!("{achieved:.0}"),
        "runs/h",
        format!(
            "limit {cores} cores x 3600 s / {alone_s:.3} s (one herd run alone, best of {reps}) \
             = {limit:.0}/h; {:.0} % of it",
            100.0 * achieved / limit,
        ),
    );
    vec![
        Threshold {
            what: "sweep --jobs 2 at least 1.8x as fast as --jobs 1, same sweep.json",
            measured: format!("{speedup:.2}x, identical: {identical}"),
            held: Some(speedup >= 1.8 && identical),
        },
        Threshold {
            what: "sweep seed-runs per hour >= 80 % of cores x 3600 s / one run",
            measured: format!("{:.0} % of {limit:.0}/h", 100.0 * achieved / limit),
            held: Some(achieved >= 0.8 * limit),
        },
    ]
}
