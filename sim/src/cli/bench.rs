//! `faultline bench`: the engine's performance figures (BENCHMARKS.md), printed as one
//! table, then checked against the thresholds below; the exit status says whether they
//! held (0) or not (1).
//!
//! Every threshold is a ratio of two figures measured in this run, interleaved and
//! repeated (the median is judged, the range printed), or a memory figure: absolute
//! rates and wall times move with the machine, so they are printed as this machine's
//! and not judged.
//!
//! 1. Throughput: the tight reference event loop (`benches/support/reference.rs`) and
//!    the engine's rpc workload, both at 10,000 clients, in pairs: attempts per
//!    wall-second and their ratio.
//! 2. Scaling: wall time per attempt at 1k, 10k and 100k clients.
//! 3. Bytes per idle logical client.
//! 4. The bundled thundering herd at 100,000 clients, 120 s: peak RSS as bundled, and
//!    with the server scaled, its wall time per attempt against section 1's.
//! 5. Sweeps: the bundled thundering herd over 40 seeds at `--jobs 1` and `--jobs 2`:
//!    the speed-up, and seed-runs per hour against the limit of
//!    `cores x 3600 s / one herd run alone`.
//! 6. Process workloads: the bank as processes, by direct calls, and its floor (the same
//!    traffic through bare processes, `floor.rs`); a trivial user service as processes
//!    and by direct calls (`chatter.rs`).
//! 7. The sections a program of one's own adds (`Kinds::bench`).
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
    /// Repetitions of each comparison, interleaved (the median of each figure and ratio
    /// is reported, with its range).
    #[arg(long, default_value_t = 5)]
    pub reps: u32,
    /// Skip the 100,000-client thundering herd (the longest part).
    #[arg(long)]
    pub no_herd: bool,
    /// Run only one section.
    #[arg(long, value_enum)]
    pub only: Option<Only>,
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

/// `VmHWM` of this process (its peak resident memory), KiB; 0 where `/proc` has none.
pub fn vm_hwm_kib() -> u64 {
    proc_status_kib("VmHWM:")
}

/// `VmRSS` of this process (its resident memory now), KiB; 0 where `/proc` has none.
pub fn vm_rss_kib() -> u64 {
    proc_status_kib("VmRSS:")
}

fn proc_status_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|line| line.strip_prefix(field))
                .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

/// Resets this process's `VmHWM` to its resident memory now (Linux 4.0 and later:
/// writing 5 to `/proc/self/clear_refs`), so a later [`vm_hwm_kib`] is the peak of what
/// ran in between. False where that is not possible.
pub fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// The child side: runs one simulation (`KIND CLIENTS SECONDS`, KIND one of `rpc`,
/// `herd`, `herd-scaled`, `idle`, `reference` (the reference loop), or `bank` and
/// `bank-direct` with CLIENTS accounts) and prints its figures on one line; returns the
/// exit code.
pub fn child(spec: &[String]) -> u8 {
    let (Some(kind), Some(clients), Some(seconds)) = (spec.first(), spec.get(1), spec.get(2))
    else {
        return super::EXIT_BAD_INPUT;
    };
    let (Ok(clients), Ok(seconds)) = (clients.parse::<u32>(), seconds.parse::<u32>()) else {
        return super::EXIT_BAD_INPUT;
    };
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
    if kind == "bank-checkpoints" {
        if clients < 2 {
            return super::EXIT_BAD_INPUT;
        }
        // wall seconds, messages delivered, whether every check held (1/0), peak RSS
        let (wall_s, delivered, held) = bank_checkpoint_run(clients, seconds);
        println!("{wall_s} {delivered} {} {}", u8::from(held), vm_hwm_kib());
        return super::EXIT_OK;
    }
    if kind == "reference" {
        // wall seconds, rpcs, events, peak RSS, 0
        let (wall_s, run) = time_reference(clients, seconds);
        println!("{wall_s} {} {} {} 0", run.rpcs, run.events, vm_hwm_kib());
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
    let fields = child_line(program, extra, kind, clients, seconds, 5);
    Measured {
        wall_s: fields[0],
        attempts: fields[1] as u64,
        events: fields[2] as u64,
        vm_hwm_kib: fields[3] as u64,
        bytes_per_client: fields[4] as u64,
    }
}

/// Runs `program --child KIND CLIENTS SECONDS` (with `extra` arguments first) and
/// returns the `fields` numbers of its last line. Panics when the child fails or prints
/// another line: a bug of the bench, not a measurement.
fn child_line(
    program: &Path,
    extra: &[String],
    kind: &str,
    clients: u32,
    seconds: u32,
    fields: usize,
) -> Vec<f64> {
    let output = Command::new(program)
        .args(extra)
        .args(["--child", kind, &clients.to_string(), &seconds.to_string()])
        .output()
        .expect("the bench child starts");
    let text = String::from_utf8_lossy(&output.stdout);
    let numbers: Vec<f64> = text
        .lines()
        .last()
        .unwrap_or("")
        .split_whitespace()
        .filter_map(|field| field.parse().ok())
        .collect();
    assert!(
        output.status.success() && numbers.len() == fields,
        "bench child {kind} {clients} {seconds} failed: {text}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    numbers
}

/// Times the reference loop.
#[allow(clippy::disallowed_methods)] // wall time around a loop that has no simulated clock
fn time_reference(clients: u32, seconds: u32) -> (f64, reference::ReferenceRun) {
    let started = std::time::Instant::now();
    let run = reference::run(clients, u64::from(seconds) * 1_000_000_000, 7);
    (started.elapsed().as_secs_f64(), run)
}

/// One row of the table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row {
    /// What is measured.
    pub what: String,
    /// The figure.
    pub value: String,
    /// Its unit.
    pub unit: String,
    /// How it was measured, and what it is beside.
    pub note: String,
}

impl Row {
    /// A row.
    pub fn new(
        what: impl Into<String>,
        value: impl Into<String>,
        unit: impl Into<String>,
        note: impl Into<String>,
    ) -> Row {
        Row {
            what: what.into(),
            value: value.into(),
            unit: unit.into(),
            note: note.into(),
        }
    }
}

/// A section a program of one's own adds to its `bench` (`Kinds::bench`): given
/// whether `--quick` was asked, its rows, printed after faultline's own. Its figures are
/// this machine's; they are printed, not judged.
pub type Section = fn(quick: bool) -> Vec<Row>;

struct Table {
    rows: Vec<Row>,
}

impl Table {
    fn row(&mut self, what: impl Into<String>, value: String, unit: &str, note: impl Into<String>) {
        self.push(Row::new(what, value, unit, note));
    }

    fn push(&mut self, row: Row) {
        println!(
            "{:<58} {:>12} {:<12} {}",
            row.what, row.value, row.unit, row.note
        );
        let _ = std::io::stdout().flush();
        self.rows.push(row);
    }
}

/// One figure measured once per repetition, interleaved with the figures it is compared
/// with, so a slow minute on a shared machine slows both sides of a ratio alike. The
/// median is reported (a best-of favours whichever side had the luckier run), with the
/// range beside it.
#[derive(Clone, Debug, Default)]
struct Samples(Vec<f64>);

impl Samples {
    fn push(&mut self, value: f64) {
        self.0.push(value);
    }

    fn sorted(&self) -> Vec<f64> {
        let mut values = self.0.clone();
        values.sort_by(f64::total_cmp);
        values
    }

    fn median(&self) -> f64 {
        let values = self.sorted();
        match values.len() {
            0 => f64::NAN,
            n if n % 2 == 1 => values[n / 2],
            n => (values[n / 2 - 1] + values[n / 2]) / 2.0,
        }
    }

    /// "median of N, range A-B" with `digits` decimals.
    fn spread(&self, digits: usize) -> String {
        let values = self.sorted();
        match (values.first(), values.last()) {
            (Some(low), Some(high)) if values.len() > 1 => format!(
                "median of {} interleaved, range {low:.digits$}-{high:.digits$}",
                values.len()
            ),
            _ => "one run".to_owned(),
        }
    }
}

/// One of the bench's thresholds: a ratio of two figures measured in the same run, or
/// a memory figure (absolute rates and wall times depend on the machine; they are
/// printed, not judged). `BENCHMARKS.md` gives the reason for each bound.
struct Threshold {
    /// What is measured and the bound, in words.
    what: &'static str,
    /// The measured value, with its unit and spread.
    measured: String,
    /// Whether it held; `None` when this run does not measure it.
    held: Option<bool>,
}

/// The engine's attempts per wall-second over the reference loop's rpcs per
/// wall-second, 10,000 clients (median of interleaved pairs).
const ENGINE_RATIO: f64 = 0.8;
/// Most the wall time per attempt may grow from 1,000 to 100,000 clients.
const SCALING_GROWTH: f64 = 1.25;
/// Most model state per idle client, bytes.
const IDLE_CLIENT_BYTES: u64 = 256;
/// Peak RSS of the herd as bundled at 100,000 clients, KiB (1 GiB).
const HERD_PEAK_KIB: u64 = 1 << 20;
/// Most the capacity-scaled herd's wall time per attempt may be over the throughput
/// run's (10,000 clients, no faults): the herd's reconnect storm and overload cost per
/// attempt no more than twice a quiet run's.
const HERD_PER_ATTEMPT: f64 = 2.0;
/// Least speed-up of a sweep at `--jobs 2` over `--jobs 1`.
const SWEEP_SPEEDUP: f64 = 1.8;
/// Least share of the sweep limit (cores x 3600 s / one run alone) reached at `--jobs 2`.
const SWEEP_SHARE: f64 = 0.8;

fn held_word(held: Option<bool>) -> &'static str {
    match held {
        Some(true) => "held",
        Some(false) => "missed",
        None => "not run",
    }
}

fn mib(kib: u64) -> String {
    format!("{:.1}", kib as f64 / 1024.0)
}

/// Which rows `bench` runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Only {
    /// The engine against the reference loop.
    Throughput,
    /// Wall time per attempt at 1k, 10k and 100k clients.
    Scaling,
    /// Bytes per idle client.
    Idle,
    /// The 100,000-client thundering herd.
    Herd,
    /// Sweeps at `--jobs 1` and `--jobs 2`.
    Sweep,
    /// The bank, its direct calls, its floor and the user service.
    Bank,
    /// The sections a program of one's own added (`Kinds::bench`).
    Added,
}

/// Runs every benchmark and prints the table. `program` is the executable that accepts
/// `extra` followed by `--child KIND CLIENTS SECONDS` (this one, or a bench binary);
/// `added` are a program's own sections.
pub fn run_all(args: &BenchArgs, program: &Path, extra: &[String], added: &[Section]) -> u8 {
    let quick = args.quick;
    let reps = args.reps.max(1);
    let runs = |section: Only| args.only.is_none_or(|only| only == section);
    let mut table = Table { rows: Vec::new() };
    println!(
        "{:<58} {:>12} {:<12} note",
        "benchmark (release build, one core each)", "value", "unit"
    );
    println!("{}", "-".repeat(110));
    let mut thresholds = Vec::new();
    let mut engine_s_per_attempt = None;
    if runs(Only::Throughput) {
        let (more, per_attempt) = throughput(&mut table, reps, quick);
        thresholds.extend(more);
        engine_s_per_attempt = Some(per_attempt);
    }
    if runs(Only::Scaling) {
        thresholds.extend(scaling(&mut table, program, extra, reps, quick));
    }
    if runs(Only::Idle) {
        thresholds.extend(idle(&mut table, program, extra));
    }
    if runs(Only::Herd) && !args.no_herd {
        thresholds.extend(herd(
            &mut table,
            program,
            extra,
            reps,
            quick,
            engine_s_per_attempt,
        ));
    }
    if runs(Only::Sweep) && !args.no_sweep {
        thresholds.extend(sweep_rows(&mut table, if quick { 10 } else { 40 }, reps));
    }
    if runs(Only::Bank) {
        thresholds.extend(bank(&mut table, reps, quick, program, extra));
    }
    if runs(Only::Added) {
        for section in added {
            for row in section(quick) {
                table.push(row);
            }
        }
    }
    println!("{}", "-".repeat(110));
    report_thresholds(&thresholds, quick, args.no_herd)
}

/// Section 1: the reference loop and the engine's rpc workload at 10,000 clients, one
/// after the other in each of `reps` pairs. Returns the thresholds and the engine's
/// median wall seconds per attempt.
fn throughput(table: &mut Table, reps: u32, quick: bool) -> (Vec<Threshold>, f64) {
    let seconds = if quick { 10 } else { 60 };
    let clients = 10_000;
    let mut reference_rate = Samples::default();
    let mut engine_rate = Samples::default();
    let mut ratio = Samples::default();
    let mut rpcs = 0;
    let mut reference_events = 0;
    let mut engine = Measured::default();
    for _ in 0..reps {
        let (wall, run) = time_reference(clients, seconds);
        rpcs = run.rpcs;
        reference_events = run.events;
        engine = measure(rpc_scenario(clients, seconds));
        let reference = run.rpcs as f64 / wall;
        let attempts = engine.attempts as f64 / engine.wall_s;
        reference_rate.push(reference);
        engine_rate.push(attempts);
        ratio.push(attempts / reference);
    }
    table.row(
        "reference BinaryHeap loop, 10k clients",
        format!("{:.0}", reference_rate.median()),
        "rpc/s",
        format!(
            "this machine's; {rpcs} rpcs ({reference_events} events) in {seconds} s simulated, {}",
            reference_rate.spread(0)
        ),
    );
    table.row(
        "engine rpc workload, 10k clients",
        format!("{:.0}", engine_rate.median()),
        "attempts/s",
        format!(
            "this machine's; {} attempts, {} events in {seconds} s simulated, {}",
            engine.attempts,
            engine.events,
            engine_rate.spread(0)
        ),
    );
    table.row(
        "ratio engine / reference",
        format!("{:.3}", ratio.median()),
        "",
        format!("each pair run back to back; {}", ratio.spread(3)),
    );
    let per_attempt = 1.0 / engine_rate.median();
    (
        vec![Threshold {
            what: "engine / reference loop >= 0.8 (10k clients)",
            measured: format!("{:.3} ({})", ratio.median(), ratio.spread(3)),
            held: Some(ratio.median() >= ENGINE_RATIO),
        }],
        per_attempt,
    )
}

/// Section 2: each size in its own process, the three sizes interleaved `reps` times;
/// the growth of wall time per attempt from 1k to 100k clients.
fn scaling(
    table: &mut Table,
    program: &Path,
    extra: &[String],
    reps: u32,
    quick: bool,
) -> Vec<Threshold> {
    let seconds = if quick { 5 } else { 20 };
    let sizes = [1_000u32, 10_000, 100_000];
    let mut walls = [(); 3].map(|()| Samples::default());
    let mut last = [Measured::default(); 3];
    let mut growth = Samples::default();
    for _ in 0..reps.min(3) {
        let mut per_attempt = [0.0; 3];
        for (index, clients) in sizes.into_iter().enumerate() {
            let measured = in_child(program, extra, "rpc", clients, seconds);
            per_attempt[index] = measured.wall_s / measured.attempts.max(1) as f64;
            walls[index].push(measured.wall_s);
            last[index] = measured;
        }
        growth.push(per_attempt[2] / per_attempt[0]);
    }
    for (index, clients) in sizes.into_iter().enumerate() {
        let measured = last[index];
        table.row(
            format!("scaling: rpc workload, {clients} clients, {seconds} s"),
            format!("{:.3}", walls[index].median()),
            "s wall",
            format!(
                "this machine's; peak RSS {} MiB, {} attempts, {}",
                mib(measured.vm_hwm_kib),
                measured.attempts,
                walls[index].spread(3)
            ),
        );
    }
    table.row(
        "scaling: wall per attempt, 100k vs 1k clients",
        format!("{:.2}", growth.median()),
        "x",
        format!("1.00 = perfectly linear in the work; {}", growth.spread(2)),
    );
    vec![Threshold {
        what: "scaling: wall per attempt at 100k clients <= 1.25x that at 1k",
        measured: format!("{:.2}x ({})", growth.median(), growth.spread(2)),
        held: Some(growth.median() <= SCALING_GROWTH),
    }]
}

/// Section 3: model state per idle client, and RSS growth between two idle populations
/// (each in its own process).
fn idle(table: &mut Table, program: &Path, extra: &[String]) -> Vec<Threshold> {
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
    vec![Threshold {
        what: "bytes per idle client (measured RSS growth) <= 256 B",
        measured: format!("{growth:.0} B (model state {} B)", large.bytes_per_client),
        held: Some(growth <= IDLE_CLIENT_BYTES as f64),
    }]
}

/// Section 4: the thundering herd at 100,000 clients, as bundled (one server of 8
/// workers, overloaded 60 times over; one run, it is long) for its memory, and with the
/// server scaled with the clients (`reps` runs) for its cost per attempt against the
/// throughput run's (`engine_s_per_attempt`, when section 1 ran).
fn herd(
    table: &mut Table,
    program: &Path,
    extra: &[String],
    reps: u32,
    quick: bool,
    engine_s_per_attempt: Option<f64>,
) -> Vec<Threshold> {
    let mut herd_rss = Threshold {
        what: "herd as bundled, 100k clients: peak RSS <= 1024 MiB",
        measured: "-".to_owned(),
        held: None,
    };
    let mut herd_cost = Threshold {
        what: "herd, capacity scaled: wall per attempt <= 2x the 10k run's",
        measured: "-".to_owned(),
        held: None,
    };
    let herd_clients = if quick { 10_000 } else { 100_000 };
    for (kind, what, runs) in [
        ("herd", "as bundled", 1),
        ("herd-scaled", "capacity scaled", reps),
    ] {
        let mut walls = Samples::default();
        let mut per_attempt = Samples::default();
        let mut peak_kib = 0;
        let mut last = Measured::default();
        for _ in 0..runs {
            let measured = in_child(program, extra, kind, herd_clients, 120);
            walls.push(measured.wall_s);
            per_attempt.push(measured.wall_s / measured.attempts.max(1) as f64);
            peak_kib = peak_kib.max(measured.vm_hwm_kib);
            last = measured;
        }
        table.row(
            format!("herd {what}, {herd_clients} clients, 120 s"),
            format!("{:.2}", walls.median()),
            "s wall",
            format!(
                "this machine's; {} attempts, {} events, {}",
                last.attempts,
                last.events,
                walls.spread(2)
            ),
        );
        table.row(
            format!("herd {what}, {herd_clients} clients: peak RSS"),
            mib(peak_kib),
            "MiB",
            "",
        );
        if kind == "herd" && !quick {
            herd_rss.measured = format!("{} MiB", mib(peak_kib));
            herd_rss.held = Some(peak_kib <= HERD_PEAK_KIB);
        }
        if let (Some(engine), "herd-scaled") = (engine_s_per_attempt, kind) {
            let ratio = per_attempt.median() / engine;
            table.row(
                "herd capacity scaled: wall per attempt / 10k run's",
                format!("{ratio:.2}"),
                "x",
                format!(
                    "{:.0} ns against {:.0} ns per attempt",
                    per_attempt.median() * 1e9,
                    engine * 1e9
                ),
            );
            if !quick {
                herd_cost.measured = format!("{ratio:.2}x");
                herd_cost.held = Some(ratio <= HERD_PER_ATTEMPT);
            }
        }
    }
    vec![herd_rss, herd_cost]
}

/// Delivered messages per wall-second of the bank over its floor's (16 accounts).
const BANK_FLOOR_SHARE: f64 = 0.6;
/// Most the process runtime may multiply the bank's cost per message over direct calls.
const BANK_RUNTIME_FACTOR: f64 = 1.2;
/// Most the service host may multiply a trivial user service's cost per message over
/// direct calls (the host's share of a message whose logic costs almost nothing).
const HOST_FACTOR: f64 = 4.0;
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

/// One run of the bank with checkpoints in a child process (for its peak RSS): wall
/// seconds, messages delivered, whether every check held, peak RSS KiB.
fn bank_checkpoint_child(
    program: &Path,
    extra: &[String],
    accounts: u32,
    seconds: u32,
) -> (f64, u64, bool, u64) {
    let fields = child_line(program, extra, "bank-checkpoints", accounts, seconds, 4);
    (
        fields[0],
        fields[1] as u64,
        fields[2] == 1.0,
        fields[3] as u64,
    )
}

/// The bank's memory and scaling rows, the two sizes interleaved `reps` times: peak RSS
/// at 16 and 64 accounts with checkpoints, and the cost per delivered message at 64
/// over that at 16.
fn bank_memory(
    table: &mut Table,
    reps: u32,
    seconds: u32,
    program: &Path,
    extra: &[String],
) -> Vec<Threshold> {
    let sizes = [BANK_ACCOUNTS, BANK_MEMORY_ACCOUNTS];
    let mut per_message_ns = [Samples::default(), Samples::default()];
    let mut factor = Samples::default();
    let mut peak_kib = [0u64; 2];
    let mut delivered = [0u64; 2];
    let mut held = true;
    for _ in 0..reps {
        let mut ns = [0.0; 2];
        for (index, accounts) in sizes.into_iter().enumerate() {
            let (wall, messages, checks, kib) =
                bank_checkpoint_child(program, extra, accounts, seconds);
            ns[index] = wall * 1e9 / messages.max(1) as f64;
            per_message_ns[index].push(ns[index]);
            peak_kib[index] = peak_kib[index].max(kib);
            delivered[index] = messages;
            held &= checks;
        }
        factor.push(ns[1] / ns[0]);
    }
    for (index, accounts) in sizes.into_iter().enumerate() {
        table.row(
            format!("bank, {accounts} accounts, checkpoints every 2 s, {seconds} s: peak RSS"),
            mib(peak_kib[index]),
            "MiB",
            format!(
                "{} delivered, {:.0} ns/message ({}); checks {}",
                delivered[index],
                per_message_ns[index].median(),
                per_message_ns[index].spread(0),
                if held { "all held" } else { "FAILED" }
            ),
        );
    }
    table.row(
        format!("bank: cost per message, {BANK_MEMORY_ACCOUNTS} / {BANK_ACCOUNTS} accounts"),
        format!("{:.2}", factor.median()),
        "x",
        format!(
            "each message's vector clock, log record and checker work grow with the accounts; {}",
            factor.spread(2)
        ),
    );
    vec![
        Threshold {
            what: "bank, 64 accounts for 60 s with checkpoints: peak RSS <= 256 MiB",
            measured: format!("{} MiB", mib(peak_kib[1])),
            held: (seconds >= 60).then_some(peak_kib[1] <= BANK_PEAK_KIB && held),
        },
        Threshold {
            what: "bank, 256 accounts: peak RSS <= 1 GiB",
            measured: format!("not run: a bank has at most {BANK_MEMORY_ACCOUNTS} accounts"),
            held: None,
        },
        Threshold {
            what: "bank: cost per message at 64 accounts <= 1.5x that at 16",
            measured: format!("{:.2}x ({})", factor.median(), factor.spread(2)),
            held: Some(factor.median() <= BANK_SCALING_FACTOR),
        },
    ]
}

/// Section 6, `reps` times interleaved: the bank as processes, the same logic by direct
/// calls, the bank's traffic through the bare process skeleton ([`super::floor`]), and a
/// trivial user service ([`super::chatter`]) as processes and by direct calls.
fn bank(
    table: &mut Table,
    reps: u32,
    quick: bool,
    program: &Path,
    extra: &[String],
) -> Vec<Threshold> {
    let seconds = if quick { 10 } else { 60 };
    // Per message, ns: bank processes, bank direct, floor, user processes, user direct.
    let mut per_message = [(); 5].map(|()| Samples::default());
    let mut delivered = [0u64; 5];
    let mut events = [0u64; 2];
    let mut held = [true; 2];
    let mut same = true;
    let mut floor_share = Samples::default();
    let mut runtime_factor = Samples::default();
    let mut host_factor = Samples::default();
    let mut floor_acked = 0;
    let floor = super::floor::FloorConfig {
        nodes: BANK_ACCOUNTS,
        transfers_per_s: 200,
    };
    for _ in 0..reps {
        let mut ns = [0.0; 5];
        for (index, direct) in [false, true].into_iter().enumerate() {
            let (wall, messages, run_events, checks) = bank_run(seconds, direct);
            ns[index] = wall * 1e9 / messages.max(1) as f64;
            delivered[index] = messages;
            events[index] = run_events;
            held[index] &= checks;
        }
        let (wall, finished) = super::floor::run(floor, seconds);
        delivered[2] = finished.workload.delivered;
        floor_acked = finished.workload.acked;
        ns[2] = wall * 1e9 / delivered[2].max(1) as f64;
        let mut digests = [(0, 0); 2];
        for (index, direct) in [false, true].into_iter().enumerate() {
            let (wall_s, finished) = super::chatter::run(seconds, direct);
            delivered[3 + index] = finished.workload.delivered;
            ns[3 + index] = wall_s * 1e9 / delivered[3 + index].max(1) as f64;
            digests[index] = (finished.workload.digest, finished.workload.forwarded);
        }
        same &= digests[0] == digests[1];
        for (samples, value) in per_message.iter_mut().zip(ns) {
            samples.push(value);
        }
        floor_share.push(ns[2] / ns[0]);
        runtime_factor.push(ns[0] / ns[1]);
        host_factor.push(ns[3] / ns[4]);
    }
    let rate = |index: usize| 1e9 / per_message[index].median();
    for (index, what, checks) in [
        (0, "bank, 16 accounts as processes", Some(held[0])),
        (1, "bank, the same logic by direct calls", Some(held[1])),
        (2, "floor: the bank's traffic, bare processes", None),
        (3, "user service, 16 nodes as async fn main processes", None),
        (4, "user service, the same traffic by direct calls", None),
    ] {
        let extra = match (index, checks) {
            (0 | 1, Some(checks)) => format!(
                ", {} engine events; checks {}",
                events[index],
                if checks { "all held" } else { "FAILED" }
            ),
            (2, _) => format!("; {floor_acked} transfers acknowledged"),
            (3 | 4, _) => format!(
                "; same messages both ways: {}",
                if same { "yes" } else { "NO" }
            ),
            _ => String::new(),
        };
        table.row(
            format!("{what}, {seconds} s"),
            format!("{:.0}", rate(index)),
            "messages/s",
            format!(
                "this machine's; {} delivered, {:.0} ns/message ({}){extra}",
                delivered[index],
                per_message[index].median(),
                per_message[index].spread(0)
            ),
        );
    }
    table.row(
        "bank / floor, messages per second",
        format!("{:.2}", floor_share.median()),
        "",
        format!(
            "the share of a bank message's cost that is the host's; {}",
            floor_share.spread(2)
        ),
    );
    table.row(
        "bank: cost per message, processes / direct",
        format!("{:.2}", runtime_factor.median()),
        "x",
        format!(
            "the process runtime's share: one task poll per step; {}",
            runtime_factor.spread(2)
        ),
    );
    table.row(
        "user service: cost per message, processes / direct",
        format!("{:.2}", host_factor.median()),
        "x",
        format!(
            "host's own cost {:.0} ns per message (mailbox, task poll, outbox); {}",
            per_message[3].median() - per_message[4].median(),
            host_factor.spread(2)
        ),
    );
    let mut thresholds = bank_memory(table, reps.min(3), seconds, program, extra);
    thresholds.extend([
        Threshold {
            what: "bank >= 0.6 of its floor's messages/s (16 accounts)",
            measured: format!("{:.2} ({})", floor_share.median(), floor_share.spread(2)),
            held: Some(floor_share.median() >= BANK_FLOOR_SHARE && held[0]),
        },
        Threshold {
            what: "bank: processes <= 1.2x direct calls per message",
            measured: format!(
                "{:.2}x ({})",
                runtime_factor.median(),
                runtime_factor.spread(2)
            ),
            held: Some(runtime_factor.median() <= BANK_RUNTIME_FACTOR && held[1]),
        },
        Threshold {
            what: "user service: processes <= 4x direct calls per message",
            measured: format!("{:.2}x ({})", host_factor.median(), host_factor.spread(2)),
            held: Some(host_factor.median() <= HOST_FACTOR && same),
        },
    ]);
    thresholds
}

/// Prints each threshold with its measured value; exit 0 when every one measured held.
fn report_thresholds(thresholds: &[Threshold], quick: bool, no_herd: bool) -> u8 {
    println!(
        "thresholds (ratios measured in this run, and memory; BENCHMARKS.md gives each reason):"
    );
    for threshold in thresholds {
        println!(
            "  {:<8} {:<62} measured {}",
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
    if checked.is_empty() {
        println!("result: no threshold in the sections run (exit 0)");
        super::EXIT_OK
    } else if held == checked.len() {
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

/// `faultline bench`, with a program's own `added` sections.
pub fn run(args: &BenchArgs, added: &[Section]) -> u8 {
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
    run_all(args, &program, &["bench".to_owned()], added)
}

/// Section 5: the bundled thundering herd (as bundled, checks included) over `seeds`
/// seeds at `--jobs 1` and `--jobs 2`, through the sweep itself (records, failed seeds'
/// full reports, sweep.json and the sweep report), `reps` times interleaved; and one
/// herd run alone before each pair, for the limit.
fn sweep_rows(table: &mut Table, seeds: u64, reps: u32) -> Vec<Threshold> {
    let reps = reps.max(1);
    let path = Path::new("scenarios/thundering-herd.json");
    let prepared = crate::sweep::Prepared::from_text(HERD_JSON, path, &[])
        .expect("the bundled scenario is valid");
    let scenario = prepared.at_seed(1).expect("the bundled scenario resolves");
    let cores = runner::cores();
    let range = crate::sweep::seeds::SeedRange {
        start: 1,
        end: 1 + seeds,
    };
    let root = std::env::temp_dir().join(format!("faultline-bench-sweep-{}", std::process::id()));
    let mut walls = [Samples::default(), Samples::default()];
    let mut speedup = Samples::default();
    let mut share = Samples::default();
    let mut alone = Samples::default();
    let mut outcomes: [Option<crate::sweep::Outcome>; 2] = [None, None];
    for _ in 0..reps {
        let alone_s = runner::run(Arc::clone(&scenario), 1, None)
            .expect("bench runs succeed")
            .wall_s;
        alone.push(alone_s);
        let mut pair = [0.0; 2];
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
            pair[slot] = clock.elapsed_s();
            walls[slot].push(pair[slot]);
            outcomes[slot] = Some(outcome);
        }
        speedup.push(pair[0] / pair[1]);
        // Seed-runs per hour at --jobs 2 over the limit: cores x 3600 s / one run alone.
        share.push((seeds as f64 / pair[1]) / (cores as f64 / alone_s));
    }
    let _ = std::fs::remove_dir_all(&root);
    let [Some(one), Some(two)] = outcomes else {
        unreachable!("reps >= 1");
    };
    for (slot, jobs, outcome) in [(0, 1, &one), (1, 2, &two)] {
        let sim_s: f64 = outcome.timing.runs.iter().map(|run| run.sim_s).sum();
        table.row(
            format!("sweep: bundled herd, {seeds} seeds, --jobs {jobs}"),
            format!("{:.2}", walls[slot].median()),
            "s wall",
            format!(
                "this machine's; {}; {} failed seeds written in full; simulation {:.3} s per \
                 seed; {:.0} seed-runs/h",
                walls[slot].spread(2),
                outcome.file.totals.failed + outcome.file.totals.errors,
                sim_s / seeds as f64,
                seeds as f64 * 3600.0 / walls[slot].median()
            ),
        );
    }
    let identical = one.file.to_text() == two.file.to_text();
    table.row(
        "sweep: speed-up --jobs 2 over --jobs 1",
        format!("{:.2}", speedup.median()),
        "x",
        format!(
            "on {cores} cores; sweep.json identical at both: {}; {}",
            if identical { "yes" } else { "NO" },
            speedup.spread(2)
        ),
    );
    let limit = cores as f64 * 3600.0 / alone.median();
    table.row(
        "sweep: seed-runs per hour at --jobs 2, share of the limit",
        format!("{:.0}", 100.0 * share.median()),
        "%",
        format!(
            "limit {cores} cores x 3600 s / {:.3} s (one herd run alone) = {limit:.0}/h; {}",
            alone.median(),
            share.spread(2)
        ),
    );
    vec![
        Threshold {
            what: "sweep --jobs 2 at least 1.8x as fast as --jobs 1, same sweep.json",
            measured: format!(
                "{:.2}x ({}), identical: {identical}",
                speedup.median(),
                speedup.spread(2)
            ),
            held: Some(speedup.median() >= SWEEP_SPEEDUP && identical),
        },
        Threshold {
            what: "sweep seed-runs per hour >= 80 % of cores x 3600 s / one run",
            measured: format!("{:.0} % ({})", 100.0 * share.median(), share.spread(2)),
            held: Some(share.median() >= SWEEP_SHARE),
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_median_is_the_middle_value_and_the_spread_names_the_range() {
        let mut samples = Samples::default();
        for value in [3.0, 1.0, 10.0] {
            samples.push(value);
        }
        assert_eq!(samples.median(), 3.0);
        assert_eq!(samples.spread(1), "median of 3 interleaved, range 1.0-10.0");
        samples.push(4.0);
        assert_eq!(samples.median(), 3.5);
        assert_eq!(Samples(vec![2.0]).spread(1), "one run");
        assert!(Samples::default().median().is_nan());
    }

    static ADDED_CALLS: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);

    fn added(quick: bool) -> Vec<Row> {
        ADDED_CALLS.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        vec![Row::new("an added row", "1", "x", format!("quick {quick}"))]
    }

    #[test]
    fn only_added_runs_the_added_sections_and_judges_nothing() {
        let args = BenchArgs {
            quick: true,
            reps: 1,
            no_herd: true,
            only: Some(Only::Added),
            no_sweep: true,
            child: None,
        };
        let code = run_all(&args, Path::new("/nonexistent"), &[], &[added, added]);
        assert_eq!(code, super::super::EXIT_OK);
        assert_eq!(ADDED_CALLS.load(std::sync::atomic::Ordering::SeqCst), 2);
    }

    #[test]
    fn a_child_runs_the_reference_loop_and_refuses_unknown_kinds() {
        let spec = |words: &[&str]| words.iter().map(|w| w.to_string()).collect::<Vec<_>>();
        assert_eq!(
            child(&spec(&["reference", "100", "1"])),
            super::super::EXIT_OK
        );
        assert_eq!(
            child(&spec(&["no-such-kind", "100", "1"])),
            super::super::EXIT_BAD_INPUT
        );
        let run = reference::run(100, 1_000_000_000, 7);
        // 100 clients, one request each per 0.5 s on average, for 1 s: about 200.
        assert!((100..=300).contains(&run.rpcs), "{}", run.rpcs);
        // Three events per rpc (wake, server receive, client receive), plus those in flight.
        assert!(run.events >= 3 * run.rpcs, "{run:?}");
    }
}
