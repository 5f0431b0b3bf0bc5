//! Run records: the data a run leaves on disk, and everything a report is built from.
//!
//! `summary.json` and `timeline.csv` are the contract between the engine (which writes
//! them) and this crate (which reads them), so a report can be rebuilt from saved
//! records without re-simulating. Field names of [`Summary`] are read by other tools;
//! add fields, never rename them.
//!
//! A [`Summary`] is a core every workload has (scenario, seed, faults, checks) plus one
//! section per workload kind: [`Summary::rpc`] for the `rpc` workload. A record without
//! a section for its workload still makes a report of its core. The rpc section's
//! headline values are repeated at the top level ([`Summary::set_rpc`]) for tools that
//! read them there; this crate reads only the section.
//!
//! Invariants of a [`TimelineRow`] (checked by [`TimelineRow::check`] when a record is
//! loaded): `offered == succeeded + failed + timed_out + rejected_by_breaker +
//! unresolved`, and `good <= succeeded`.

use serde::{Deserialize, Serialize};

use crate::figures::{Figure, RecordTable, SeriesInfo, SeriesTable};

/// Counts of logical requests (a logical request may take several attempts).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RequestCounts {
    /// Logical requests issued by clients.
    pub offered: u64,
    /// Logical requests that got a successful reply.
    pub succeeded: u64,
    /// Logical requests that ended with an error reply (server rejected, node down).
    pub failed: u64,
    /// Logical requests whose last attempt timed out.
    pub timed_out: u64,
    /// Logical requests ended by an open circuit breaker.
    pub rejected_by_breaker: u64,
    /// Logical requests that wanted to retry but the retry budget refused.
    pub rejected_by_budget: u64,
    /// Logical requests still in flight when the run ended (not counted in availability).
    pub in_flight: u64,
    /// Attempts sent, first tries and retries.
    pub attempts: u64,
    /// Attempts that were retries (`attempts - retries` first tries).
    pub retries: u64,
}

impl RequestCounts {
    /// Logical requests with a final outcome (`offered - in_flight`).
    pub fn resolved(&self) -> u64 {
        self.succeeded + self.failed + self.timed_out + self.rejected_by_breaker
    }
}

/// Latency of successful logical requests, first send to successful reply.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LatencySummary {
    /// Median, milliseconds.
    #[serde(deserialize_with = "f64_or_nan")]
    pub p50: f64,
    /// 99th percentile, milliseconds.
    #[serde(deserialize_with = "f64_or_nan")]
    pub p99: f64,
    /// 99.9th percentile, milliseconds.
    #[serde(deserialize_with = "f64_or_nan")]
    pub p999: f64,
    /// Mean, milliseconds.
    #[serde(deserialize_with = "f64_or_nan")]
    pub mean: f64,
    /// Maximum, milliseconds.
    #[serde(deserialize_with = "f64_or_nan")]
    pub max: f64,
}

/// What the servers saw.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ServerSummary {
    /// Attempts that reached a server (retries included).
    pub arrivals: u64,
    /// Highest arrivals in one metrics window, scaled to per second.
    #[serde(deserialize_with = "f64_or_nan")]
    pub peak_arrivals_per_s: f64,
    /// Arrivals turned away because the queue was full.
    pub rejected_queue_full: u64,
    /// Arrivals dropped by load shedding.
    pub shed: u64,
    /// Retries that waited longer than their backoff because an overload answer's
    /// `Retry-After` said so; absent when the servers send none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retries_deferred: Option<u64>,
    /// Arrivals turned away by a server's adaptive concurrency limit; absent without one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rejected_by_limit: Option<u64>,
    /// The lowest and highest concurrency limit any server had during the run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit_range: Option<[u32; 2]>,
}

/// One evaluated check from the scenario's `checks`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CheckResult {
    /// The check as written, e.g. `availability_at_least 0.95`.
    pub name: String,
    /// Whether it held.
    pub passed: bool,
    /// Measured value against the bound, in words.
    pub detail: String,
    /// The figure it reads (`availability`), when it reads one; sweeps mark the bound
    /// on that figure's histogram.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub figure: Option<String>,
    /// The bound in the figure's unit (`0.95`; a duration in ms; 0 violations for an
    /// invariant).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threshold: Option<f64>,
}

/// A fault interval as it happened in the run (scheduled or drawn by a random process).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FaultInterval {
    /// Fault kind: `crash`, `partition`, `omission`, `timing`, `pause`, `clock`, `slowdown`.
    pub kind: String,
    /// What it hit, in words (`server-0`, `client-* | server-*`, `server-* -> client-*`);
    /// a fault drawn by a random process ends in ` (random)`.
    pub target: String,
    /// Start, seconds of simulated time.
    pub start_s: f64,
    /// End, seconds of simulated time; `None` when it lasts to the end of the run.
    pub end_s: Option<f64>,
}

/// Hybrid-logical-clock observations over the run.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct HlcSummary {
    /// Largest `l - pt` seen at any node, milliseconds.
    pub max_offset_ms: f64,
    /// Largest logical counter `c` seen.
    pub max_counter: u64,
    /// Remote timestamps refused by the max-offset guard.
    pub rejected: u64,
}

/// Client connection activity (runs whose clients hold connections).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ConnectionSummary {
    /// Connections reset by server crashes.
    pub resets: u64,
    /// Connects sent by disconnected clients.
    pub connect_tries: u64,
    /// Connects accepted.
    pub connects: u64,
    /// Connects refused by a crashed server.
    pub refused: u64,
    /// Most attempts held in offline queues at once, all clients together.
    pub offline_peak: u64,
    /// Attempts that failed at once because their client's offline queue was full.
    pub offline_failed: u64,
}

/// How the measured side of an [`Expectation`] is taken from the record.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Measure {
    /// Up-time (%) of these nodes over the run, from the crash intervals in `summary.faults`
    /// (only those whose target ends in "(random)" when `random_only`).
    Uptime {
        /// Node names, e.g. `server-0`.
        nodes: Vec<String>,
        /// Count only crashes drawn by a random process.
        random_only: bool,
    },
    /// Time (%) during which at least one of these nodes was up, same crash intervals.
    AnyUp {
        /// Node names, e.g. `server-0`.
        nodes: Vec<String>,
        /// Count only crashes drawn by a random process.
        random_only: bool,
    },
    /// Attempts per offered request over the windows whose midpoint lies in [from_s, to_s).
    AttemptsPerRequest {
        /// Start of the span, seconds.
        from_s: f64,
        /// End of the span, seconds.
        to_s: f64,
    },
    /// The run's mean latency of successful requests, ms.
    MeanLatency,
}

/// A closed-form expectation the simulator computed from its typed config; the reports
/// measure the other side from the record ([`Measure`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Expectation {
    /// What is compared, e.g. `server availability (crash server-*)`.
    pub name: String,
    /// The closed-form value, in `unit`.
    pub analytic: f64,
    /// Unit of both values (`%`, `attempts/request`, `ms`).
    pub unit: String,
    /// Formula, parameters and caveats, in words.
    pub note: String,
    /// How the measured value is taken.
    pub measure: Measure,
}

/// The rpc workload's section of [`Summary`].
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RpcSummary {
    /// Succeeded / resolved logical requests, 0..1 (requests in flight at the end are
    /// excluded; 0 when requests were offered and none resolved).
    #[serde(deserialize_with = "f64_or_nan")]
    pub availability: f64,
    /// Requests that succeeded within `slo_latency_ms` / resolved, 0..1; `None` when no
    /// latency objective is set.
    #[serde(default)]
    pub availability_latency: Option<f64>,
    /// Logical request counts.
    pub requests: RequestCounts,
    /// Latency of successful requests.
    pub latency_ms: LatencySummary,
    /// Server-side load.
    pub server: ServerSummary,
    /// Clock observations.
    #[serde(default)]
    pub hlc: HlcSummary,
    /// Client connections, when the clients hold them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connections: Option<ConnectionSummary>,
    /// Closed-form expectations that apply to the scenario, computed by the simulator.
    #[serde(default)]
    pub expectations: Vec<Expectation>,
}

/// `summary.json`: one run of one scenario at one seed.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Scenario name.
    pub scenario: String,
    /// Scenario description, as written.
    #[serde(default)]
    pub description: String,
    /// Path of the scenario file the run came from.
    #[serde(default)]
    pub scenario_path: String,
    /// Workload kind, e.g. `rpc`; names the section that holds the workload's results.
    #[serde(default)]
    pub workload: String,
    /// The run seed.
    pub seed: u64,
    /// Simulated time, seconds.
    pub simulated_s: f64,
    /// Wall-clock time the run took, seconds.
    pub wall_s: f64,
    /// Events processed by the engine.
    pub events: u64,
    /// Hex digest of the ordered event trace: equal seeds give equal hashes.
    pub trace_hash: String,
    /// Alias of `rpc.availability`, for tools that read it here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub availability: Option<f64>,
    /// Availability objective from the scenario's checks (default 0.99), 0..1.
    #[serde(default)]
    pub slo: f64,
    /// Latency objective, ms: a request is *good* when it succeeded within this long.
    /// `None` when the scenario sets none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slo_latency_ms: Option<f64>,
    /// Metrics window, seconds.
    #[serde(default)]
    pub window_s: f64,
    /// Alias of `rpc.requests`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requests: Option<RequestCounts>,
    /// Alias of `rpc.latency_ms`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<LatencySummary>,
    /// Alias of `rpc.server`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server: Option<ServerSummary>,
    /// The rpc workload's results; `None` for other workloads.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rpc: Option<RpcSummary>,
    /// The bank workload's results; `None` for other workloads.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bank: Option<BankSummary>,
    /// The workload's declared figures, with their values (see [`crate::figures`]).
    #[serde(default)]
    pub figures: Vec<Figure>,
    /// The workload's declared per-window series; the values are in `series.csv`.
    #[serde(default)]
    pub series: Vec<SeriesInfo>,
    /// The workload's declared tables.
    #[serde(default)]
    pub tables: Vec<RecordTable>,
    /// Fault intervals that occurred.
    #[serde(default)]
    pub faults: Vec<FaultInterval>,
    /// Evaluated checks.
    pub checks: Vec<CheckResult>,
    /// The one command that reproduces this run.
    #[serde(default)]
    pub reproduce: String,
    /// The scenario exactly as run (after `--seed` and `--vary` overrides), kept only so
    /// the run can be reproduced; reports never read it.
    #[serde(default)]
    pub scenario_spec: serde_json::Value,
    /// The sections of workloads this crate has no type for, keyed by kind (`"kv":
    /// {...}`): a workload of its own writes its details here, and they round-trip.
    #[serde(flatten)]
    pub sections: std::collections::BTreeMap<String, serde_json::Value>,
}

impl Summary {
    /// Stores the rpc section and fills the top-level aliases from it; sets `workload`
    /// to `rpc`.
    pub fn set_rpc(&mut self, section: RpcSummary) {
        self.workload = "rpc".to_string();
        self.availability = Some(section.availability);
        self.requests = Some(section.requests.clone());
        self.latency_ms = Some(section.latency_ms.clone());
        self.server = Some(section.server.clone());
        self.rpc = Some(section);
    }
}

/// A whole run: `summary.json` plus its workload's timelines.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RunRecord {
    /// `summary.json`.
    pub summary: Summary,
    /// `timeline.csv` (rpc runs), one row per metrics window, in time order.
    pub timeline: Vec<TimelineRow>,
    /// `bank_timeline.csv` (bank runs), one row per metrics window, in time order.
    pub bank_timeline: Vec<BankWindowRow>,
    /// `hlc_offsets.csv` (bank runs): per window and account, the largest HLC `l - pt`.
    pub hlc_offsets: Vec<HlcOffsetRow>,
    /// `series.csv`: the values of the series `summary.series` declares.
    pub series: SeriesTable,
}

/// One invariant check of the bank workload, with what it compared.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Invariant {
    /// The check (`causality`, `hlc_bounds`, `snapshot_conservation`, `consistent_cut`,
    /// `snapshot_liveness`, `durability`).
    pub name: String,
    /// Pairs or states compared.
    pub compared: u64,
    /// Violations found.
    pub violations: u64,
    /// The first violations, in words.
    pub examples: Vec<String>,
}

/// One Chandy-Lamport snapshot of a bank run.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SnapshotSummary {
    /// Its id.
    pub id: u32,
    /// The account that started it (`acct-3`).
    pub initiator: String,
    /// When it started, seconds.
    pub started_s: f64,
    /// When every account's part was in, seconds; `None` if it never completed.
    pub completed_s: Option<f64>,
    /// Why it was abandoned, if it was.
    pub abandoned: Option<String>,
    /// When it was abandoned, seconds.
    #[serde(default)]
    pub abandoned_s: Option<f64>,
}

/// What one restart of a bank account recovered from its log.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RecoverySummary {
    /// When, seconds.
    pub at_s: f64,
    /// The account (`acct-3`).
    pub account: String,
    /// The new incarnation's vector-clock entry.
    pub slot: u32,
    /// The last durable event it resumed from (`3:521`: incarnation entry and index),
    /// `None` when it started fresh.
    pub resumed_from: Option<String>,
    /// Log records replayed.
    pub records: u64,
    /// Log bytes kept.
    pub valid_bytes: u64,
    /// Log bytes cut (a torn or corrupt tail).
    pub cut_bytes: u64,
    /// Why replay stopped (`clean`, `torn record at byte 812`, ...).
    pub stop: String,
    /// The balance restored, units.
    pub balance: u64,
    /// The checkpoint generation it loaded (runs without checkpoints have none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkpoint: Option<u32>,
    /// Records a replay of the whole log would have taken (runs with checkpoints only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub records_without_checkpoint: Option<u64>,
    /// The time the replayed records span by the account's clock, seconds: the work
    /// redone, were it redone at the speed it was first done (runs with checkpoints
    /// only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replay_span_s: Option<f64>,
    /// The same span for a replay of the whole log, seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replay_span_without_s: Option<f64>,
}

/// The checkpoints of a bank run.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CheckpointSummary {
    /// Time one checkpoint stalls its account, seconds.
    pub cost_s: f64,
    /// Time between two checkpoints of one account, seconds.
    pub interval_s: f64,
    /// How the interval was chosen.
    pub reckoning: String,
    /// Checkpoints written and synced.
    pub taken: u64,
    /// Their bytes, all together.
    pub bytes: u64,
    /// Time they stalled their accounts, all together, seconds.
    pub stall_s: f64,
}

/// A bank account that stopped.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct HaltSummary {
    /// When, seconds.
    pub at_s: f64,
    /// The account (`acct-3`).
    pub account: String,
    /// Why (a fail-stop at recovery names the damage in its log and its byte offset).
    pub reason: String,
}

/// Hybrid-logical-clock figures of a bank run.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct BankHlc {
    /// The largest offset between two nodes' clocks, ms (the bound `l - pt` must keep).
    pub epsilon_ms: f64,
    /// The largest `l - pt` seen, ms.
    pub max_offset_ms: f64,
    /// The largest counter `c` seen.
    pub max_counter: u64,
    /// The largest counter bound met (events within epsilon, plus one).
    pub counter_bound: u64,
}

/// The accounts' disks, all together.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct DiskSummary {
    /// Appends.
    pub writes: u64,
    /// Bytes appended.
    pub bytes_written: u64,
    /// Appends refused by a full disk.
    pub writes_refused_full: u64,
    /// fsyncs completed (lying ones included).
    pub fsyncs: u64,
    /// fsyncs that reported success and persisted nothing.
    pub fsyncs_lied: u64,
    /// Crashes.
    pub crashes: u64,
    /// Unsynced bytes lost at crashes.
    pub bytes_lost_at_crash: u64,
    /// Crashes that kept a torn prefix of an unsynced tail.
    pub torn_tails_kept: u64,
    /// Reads returned with a flipped bit.
    pub reads_corrupted: u64,
}

/// The bank workload's section of [`Summary`].
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct BankSummary {
    /// Accounts.
    pub accounts: u32,
    /// Money in the bank at the start, units.
    pub total_units: u64,
    /// Money at the end: balances plus transfers in flight, units.
    pub final_units: u64,
    /// Transfers made (debited and sent).
    pub transfers: u64,
    /// Transfers credited.
    pub credits: u64,
    /// Transfers skipped for want of money.
    pub skipped_funds: u64,
    /// Transfers skipped because a channel's window was full.
    pub skipped_window: u64,
    /// Transfers skipped because the log refused the record (disk full).
    pub skipped_log: u64,
    /// Markers sent.
    pub markers: u64,
    /// Messages handed to the network.
    pub messages_sent: u64,
    /// Messages delivered.
    pub messages_delivered: u64,
    /// Messages lost in the network.
    pub messages_dropped: u64,
    /// Messages that reached a node that was down.
    pub messages_to_down_nodes: u64,
    /// Transfers a receiver acknowledged that its final state lacks (a lost durable
    /// credit); records older than this field read 0.
    #[serde(default)]
    pub acked_transfers_lost: u64,
    /// Accounts that stopped (their log refused a record they cannot do without, or
    /// recovery found it corrupt and would not cut it).
    pub halts: u64,
    /// Every invariant check, whether or not the scenario lists it.
    pub invariants: Vec<Invariant>,
    /// Every snapshot started.
    pub snapshots: Vec<SnapshotSummary>,
    /// Every restart's recovery.
    pub recoveries: Vec<RecoverySummary>,
    /// Every account that stopped, when and why (records older than this field have
    /// none).
    #[serde(default)]
    pub halted: Vec<HaltSummary>,
    /// Clock figures.
    pub hlc: BankHlc,
    /// Disk figures.
    pub disk: DiskSummary,
    /// Checkpoints, when the scenario takes them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkpoints: Option<CheckpointSummary>,
}

/// One row of `bank_timeline.csv`: one metrics window of a bank run.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct BankWindowRow {
    /// Window start, seconds.
    pub t_s: f64,
    /// Transfers made.
    pub transfers: u64,
    /// Transfers credited.
    pub credits: u64,
    /// Messages delivered.
    pub delivered: u64,
    /// Messages lost in the network.
    pub dropped: u64,
    /// Money debited and not yet credited at the window's end, units.
    pub in_flight_units: u64,
    /// Largest HLC counter of the window's events.
    pub hlc_max_counter: u64,
}

/// One row of `hlc_offsets.csv`: an account's largest HLC `l - pt` in one window (rows
/// only for windows where the account had events).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct HlcOffsetRow {
    /// Window start, seconds.
    pub t_s: f64,
    /// The account (`acct-3`).
    pub account: String,
    /// Largest `l - pt`, ms.
    pub offset_ms: f64,
}

/// One row of `timeline.csv`: one metrics window of an rpc run.
///
/// Two clocks attribute the counts. *By offered time*: `offered` counts the logical
/// requests issued in this window, and `succeeded` .. `unresolved` say how each of those
/// requests ended, whenever that was (a request held for 20 s and then answered counts
/// as a success of the window where it was issued). *By event time*: `attempts`,
/// `server_arrivals`, `completed`, `breakers_open` and the latency quantiles are about
/// what happened during this window.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TimelineRow {
    /// Window start, seconds of simulated time.
    pub t_s: f64,
    /// Logical requests issued in this window.
    pub offered: u64,
    /// Of those, the ones that eventually succeeded.
    pub succeeded: u64,
    /// Of those, the ones that succeeded within `slo_latency_ms` (equal to `succeeded`
    /// when no latency objective is set).
    pub good: u64,
    /// Of those, the ones that ended with an error reply.
    pub failed: u64,
    /// Of those, the ones whose last attempt timed out.
    pub timed_out: u64,
    /// Of those, the ones ended by an open breaker (or a retry budget).
    pub rejected_by_breaker: u64,
    /// Of those, the ones still in flight at the end of the run.
    pub unresolved: u64,
    /// Attempts sent for those requests (first tries and retries), whenever sent.
    pub offered_attempts: u64,
    /// Attempts sent in this window (first tries and retries), whatever their request.
    pub attempts: u64,
    /// Attempts that reached a server in this window.
    pub server_arrivals: u64,
    /// Successes that resolved in this window, whenever issued (goodput).
    pub completed: u64,
    /// Breakers open at the end of the window.
    pub breakers_open: u64,
    /// Median latency of successes resolved in this window, ms (NaN when none).
    #[serde(serialize_with = "nan_as_empty", deserialize_with = "f64_or_nan")]
    pub latency_p50_ms: f64,
    /// 99th percentile latency, ms (NaN when none).
    #[serde(serialize_with = "nan_as_empty", deserialize_with = "f64_or_nan")]
    pub latency_p99_ms: f64,
    /// 99.9th percentile latency, ms (NaN when none).
    #[serde(serialize_with = "nan_as_empty", deserialize_with = "f64_or_nan")]
    pub latency_p999_ms: f64,
    /// Faults active during the window, `;`-separated `kind:target`.
    #[serde(default)]
    pub faults_active: String,
}

impl TimelineRow {
    /// Requests offered in this window that have a final outcome
    /// (`offered - unresolved`).
    pub fn resolved(&self) -> u64 {
        self.succeeded + self.failed + self.timed_out + self.rejected_by_breaker
    }

    /// Availability of the requests offered in this window: succeeded / resolved; 0 when
    /// requests were offered and none resolved (stuck requests are an outage); `None`
    /// when nothing was offered (a gap).
    pub fn success_ratio(&self) -> Option<f64> {
        ratio(self.succeeded, self.resolved(), self.offered)
    }

    /// Like [`TimelineRow::success_ratio`] with `good` (succeeded within the latency
    /// objective) in place of `succeeded`.
    pub fn good_ratio(&self) -> Option<f64> {
        ratio(self.good, self.resolved(), self.offered)
    }

    /// Checks the row's invariants; the error says which one failed, with the numbers.
    pub fn check(&self) -> Result<(), String> {
        let total = self.resolved() + self.unresolved;
        if total != self.offered {
            return Err(format!(
                "window at {} s: offered {} != succeeded {} + failed {} + timed_out {} + rejected_by_breaker {} + unresolved {} (= {total})",
                self.t_s,
                self.offered,
                self.succeeded,
                self.failed,
                self.timed_out,
                self.rejected_by_breaker,
                self.unresolved
            ));
        }
        if self.good > self.succeeded {
            return Err(format!(
                "window at {} s: good {} > succeeded {}",
                self.t_s, self.good, self.succeeded
            ));
        }
        Ok(())
    }
}

/// `num / resolved`; 0 when `offered > 0` and nothing resolved; `None` when nothing
/// was offered.
pub(crate) fn ratio(num: u64, resolved: u64, offered: u64) -> Option<f64> {
    debug_assert!(num <= resolved || resolved == 0);
    if offered == 0 {
        None
    } else if resolved == 0 {
        Some(0.0)
    } else {
        Some(num as f64 / resolved as f64)
    }
}

/// Reads a float that may have been written as `null` or an empty cell: `serde_json`
/// writes NaN and the infinities as `null`, and `timeline.csv` writes NaN as an empty
/// cell, so a saved NaN (e.g. a latency with no successes) reads back as NaN instead of
/// failing the whole record.
fn f64_or_nan<'de, D: serde::Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
}

/// Writes NaN as "no value" (an empty CSV cell), any other float as itself.
fn nan_as_empty<S: serde::Serializer>(x: &f64, s: S) -> Result<S::Ok, S::Error> {
    if x.is_nan() {
        s.serialize_none()
    } else {
        s.serialize_f64(*x)
    }
}

/// The CSV header of `timeline.csv`, in column order.
pub const TIMELINE_HEADER: &str = "t_s,offered,succeeded,good,failed,timed_out,rejected_by_breaker,unresolved,offered_attempts,attempts,server_arrivals,completed,breakers_open,latency_p50_ms,latency_p99_ms,latency_p999_ms,faults_active";

/// The CSV header of `bank_timeline.csv`, in column order.
pub const BANK_TIMELINE_HEADER: &str =
    "t_s,transfers,credits,delivered,dropped,in_flight_units,hlc_max_counter";

/// The CSV header of `hlc_offsets.csv`, in column order.
pub const HLC_OFFSETS_HEADER: &str = "t_s,account,offset_ms";

impl BankWindowRow {
    /// Checks the row on its own: a window start that is a number at or after 0 s.
    pub fn check(&self) -> Result<(), String> {
        if !(self.t_s.is_finite() && self.t_s >= 0.0) {
            return Err(format!(
                "column `t_s`: window start {} is not a time at or after 0 s",
                self.t_s
            ));
        }
        Ok(())
    }
}

impl HlcOffsetRow {
    /// Checks the row on its own: a window start at or after 0 s, an account name, and
    /// an offset that is a number at or above 0 ms (an HLC's `l` never falls behind its
    /// physical clock).
    pub fn check(&self) -> Result<(), String> {
        if !(self.t_s.is_finite() && self.t_s >= 0.0) {
            return Err(format!(
                "column `t_s`: window start {} is not a time at or after 0 s",
                self.t_s
            ));
        }
        if self.account.is_empty() {
            return Err("column `account`: empty".to_string());
        }
        if !(self.offset_ms.is_finite() && self.offset_ms >= 0.0) {
            return Err(format!(
                "column `offset_ms`: {} is not an offset at or above 0 ms (l - pt is never negative)",
                self.offset_ms
            ));
        }
        Ok(())
    }
}
