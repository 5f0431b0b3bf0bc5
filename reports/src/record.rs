//! Run records: the data a run leaves on disk, and everything a report is built from.
//!
//! `summary.json` and `timeline.csv` are the contract between the engine (which writes
//! them) and this crate (which reads them), so a report can be rebuilt from saved
//! records without re-simulating. Field names of [`Summary`] are read by other tools;
//! add fields, never rename them.

use serde::{Deserialize, Serialize};

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
}

/// One evaluated check from the scenario's `checks`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CheckResult {
    /// The check as written, e.g. `availability_at_least 0.95`.
    pub name: String,
    /// Whether it held.
    pub passed: bool,
    /// Measured value against the bound, in words.
    pub detail: String,
}

/// A fault interval as it happened in the run (scheduled or drawn by a random process).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FaultInterval {
    /// Fault kind: `crash`, `partition`, `omission`, `timing`, `pause`, `clock`, `slowdown`.
    pub kind: String,
    /// What it hit, in words (`server-0`, `client-* | server-*`, `server-* -> client-*`).
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
    /// Succeeded / resolved logical requests, 0..1 (requests still in flight excluded).
    #[serde(deserialize_with = "f64_or_nan")]
    pub availability: f64,
    /// Availability objective from the scenario's checks (default 0.99), 0..1.
    #[serde(default)]
    pub slo: f64,
    /// Metrics window, seconds.
    #[serde(default)]
    pub window_s: f64,
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
    /// Fault intervals that occurred.
    #[serde(default)]
    pub faults: Vec<FaultInterval>,
    /// Evaluated checks.
    pub checks: Vec<CheckResult>,
    /// The one command that reproduces this run.
    #[serde(default)]
    pub reproduce: String,
    /// The scenario exactly as run (after `--seed` and `--vary` overrides), so reports
    /// can compute closed-form expectations without the scenario file.
    #[serde(default)]
    pub scenario_spec: serde_json::Value,
}

/// A whole run: `summary.json` plus `timeline.csv`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RunRecord {
    /// `summary.json`.
    pub summary: Summary,
    /// `timeline.csv`, one row per metrics window, in time order.
    pub timeline: Vec<TimelineRow>,
}

/// One row of `timeline.csv`: one metrics window.
///
/// Counts are attributed to the window in which they happen: `offered` when a request is
/// issued, `successes` / `failures` / `timeouts` / `breaker_rejections` when a logical
/// request resolves, `attempts` when an attempt is sent, `server_arrivals` when it
/// reaches a server.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TimelineRow {
    /// Window start, seconds of simulated time.
    pub t_s: f64,
    /// Logical requests issued.
    pub offered: u64,
    /// Attempts sent.
    pub attempts: u64,
    /// Attempts that reached a server.
    pub server_arrivals: u64,
    /// Logical requests that succeeded.
    pub successes: u64,
    /// Logical requests that failed with an error.
    pub failures: u64,
    /// Logical requests that timed out.
    pub timeouts: u64,
    /// Logical requests rejected by a breaker (includes budget refusals: see summary).
    pub breaker_rejections: u64,
    /// Breakers open at the end of the window.
    pub breakers_open: u64,
    /// Median latency of successes resolved in the window, ms (NaN when none).
    pub latency_p50_ms: f64,
    /// 99th percentile latency, ms (NaN when none).
    pub latency_p99_ms: f64,
    /// 99.9th percentile latency, ms (NaN when none).
    pub latency_p999_ms: f64,
    /// Faults active during the window, `;`-separated `kind:target`.
    pub faults_active: String,
}

impl TimelineRow {
    /// Logical requests resolved in this window.
    pub fn resolved(&self) -> u64 {
        self.successes + self.failures + self.timeouts + self.breaker_rejections
    }

    /// Success ratio of requests resolved in this window; `None` when nothing resolved.
    pub fn success_ratio(&self) -> Option<f64> {
        let resolved = self.resolved();
        (resolved > 0).then(|| self.successes as f64 / resolved as f64)
    }
}

/// Reads a float that may have been written as `null`: `serde_json` writes NaN and the
/// infinities as `null`, so a saved NaN (e.g. a latency with no successes) reads back as
/// NaN instead of failing the whole record.
fn f64_or_nan<'de, D: serde::Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
}

/// The CSV header of `timeline.csv`, in column order.
pub const TIMELINE_HEADER: &str = "t_s,offered,attempts,server_arrivals,successes,failures,timeouts,breaker_rejections,breakers_open,latency_p50_ms,latency_p99_ms,latency_p999_ms,faults_active";
