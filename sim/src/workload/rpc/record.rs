//! The rpc workload's run record: requests, latency, server load, HLC and connection
//! figures, the per-window timeline, and the checks it offers.

use faultline_reports::record::{
    ConnectionSummary, FaultInterval, HlcSummary, LatencySummary, RequestCounts, RpcSummary, RunRecord,
    ServerSummary, Summary, TimelineRow,
};

use super::RpcConfig;
use super::RpcOutput;
use crate::engine::driver::Finished;
use crate::format::check::{BoundKind, CheckSpec, Direction, AVAILABILITY_AT_LEAST};
use crate::format::RunInfo;
use crate::record::{self, Invocation, NS_PER_MS, NS_PER_S};

/// The checks of the rpc workload.
pub const CHECKS: &[CheckSpec] = &[
    AVAILABILITY_AT_LEAST,
    CheckSpec {
        name: "availability_at_most",
        metric: "availability",
        bound: BoundKind::Fraction,
        direction: Direction::AtMost,
        describe: |measured, bound| {
            format!(
                "availability {:.4}% vs at most {:.4}%",
                measured * 100.0,
                bound * 100.0
            )
        },
    },
    CheckSpec {
        name: "p99_latency_at_most",
        metric: "p99_latency_ms",
        bound: BoundKind::Duration,
        direction: Direction::AtMost,
        describe: |measured, bound| format!("p99 {measured:.3} ms vs at most {bound:.3} ms"),
    },
    CheckSpec {
        name: "p50_latency_at_most",
        metric: "p50_latency_ms",
        bound: BoundKind::Duration,
        direction: Direction::AtMost,
        describe: |measured, bound| format!("p50 {measured:.3} ms vs at most {bound:.3} ms"),
    },
    CheckSpec {
        name: "recovers_within",
        metric: "recovery_ms",
        bound: BoundKind::Duration,
        direction: Direction::AtMost,
        describe: |measured, bound| {
            format!(
                "back at the baseline {:.3} s after the slowest fault vs within {:.3} s",
                measured / 1e3,
                bound / 1e3
            )
        },
    },
    CheckSpec {
        name: "retry_amplification_at_most",
        metric: "retry_amplification",
        bound: BoundKind::NonNegative,
        direction: Direction::AtMost,
        describe: |measured, bound| {
            format!("{measured:.3} attempts per request vs at most {bound}")
        },
    },
    CheckSpec {
        name: "peak_arrivals_per_s_at_most",
        metric: "peak_arrivals_per_s",
        bound: BoundKind::NonNegative,
        direction: Direction::AtMost,
        describe: |measured, bound| format!("peak {measured:.1} arrivals/s vs at most {bound}"),
    },
];

/// Resolved over offered-and-resolved requests; 0 when requests were offered and none
/// resolved (stuck requests are an outage), 1 with nothing offered.
fn ratio(part: u64, resolved: u64, offered: u64) -> f64 {
    if resolved > 0 {
        part as f64 / resolved as f64
    } else if offered > 0 {
        0.0
    } else {
        1.0
    }
}

/// Builds the run record (checks are evaluated by the caller).
pub fn build(
    run: &RunInfo,
    config: &RpcConfig,
    finished: &Finished<RpcOutput>,
    invocation: &Invocation,
) -> RunRecord {
    let core = &finished.core;
    let output = &finished.workload;
    let totals = &output.totals;
    let resolved = totals.succeeded + totals.failed + totals.timed_out + totals.rejected_by_breaker;
    let availability = ratio(totals.succeeded, resolved, totals.offered);
    let slo_latency_ms = config
        .slo_latency_ns
        .map(|latency_ns| std::time::Duration::from_nanos(latency_ns).as_secs_f64() * 1e3);
    let availability_latency = slo_latency_ms.map(|_| ratio(totals.good, resolved, totals.offered));
    let window_s = core.window_ns as f64 / NS_PER_S;
    // The load profile's changes stand beside the faults: marked on the charts, listed,
    // and judged recovered or metastable like them.
    let load = config
        .load
        .as_ref()
        .map(super::load::LoadProfile::intervals)
        .unwrap_or_default();
    let intervals: Vec<_> = core.faults.iter().cloned().chain(load.iter().cloned()).collect();
    let active = record::faults_active(&intervals, core.window_ns, output.windows.len());
    let timeline: Vec<TimelineRow> = output
        .windows
        .iter()
        .zip(active)
        .enumerate()
        .map(|(index, (window, faults_active))| {
            let start_ns = index as u64 * core.window_ns;
            let [p50, p99, p999] = window
                .latency_ns
                .map_or([f64::NAN; 3], |q| q.map(|ns| ns as f64 / NS_PER_MS));
            TimelineRow {
                t_s: start_ns as f64 / NS_PER_S,
                offered: window.offered,
                succeeded: window.succeeded,
                good: window.good,
                failed: window.failed,
                timed_out: window.timed_out,
                rejected_by_breaker: window.rejected_by_breaker,
                unresolved: window.unresolved,
                offered_attempts: window.offered_attempts,
                attempts: window.attempts,
                server_arrivals: window.server_arrivals,
                completed: window.completed,
                breakers_open: window.breakers_open,
                latency_p50_ms: p50,
                latency_p99_ms: p99,
                latency_p999_ms: p999,
                faults_active,
            }
        })
        .collect();
    let peak_arrivals_per_s = timeline
        .iter()
        .map(|row| row.server_arrivals as f64 / window_s)
        .fold(0.0, f64::max);
    let [p50, p99, p999, mean, max] = output.latency_ns.map(|ns| ns / NS_PER_MS);
    let connections = output.with_connections.then_some(ConnectionSummary {
        resets: totals.conn_resets,
        connect_tries: totals.connect_tries,
        connects: totals.connects,
        refused: totals.connects_refused,
        offline_peak: totals.offline_peak,
        offline_failed: totals.offline_failed,
    });
    let expectations = config.expectations.clone();
    let mut summary = Summary {
        slo_latency_ms,
        ..record::core_summary(
            <super::Rpc as crate::workload::Kind>::NAME,
            core,
            run,
            invocation,
        )
    };
    summary
        .faults
        .extend(load.iter().map(|interval| FaultInterval {
            kind: interval.kind.to_owned(),
            target: interval.target.clone(),
            start_s: interval.start_ns as f64 / NS_PER_S,
            end_s: interval.end_ns.map(|end| end as f64 / NS_PER_S),
        }));
    summary.set_rpc(RpcSummary {
        availability,
        availability_latency,
        requests: RequestCounts {
            offered: totals.offered,
            succeeded: totals.succeeded,
            failed: totals.failed,
            timed_out: totals.timed_out,
            rejected_by_breaker: totals.rejected_by_breaker,
            rejected_by_budget: totals.rejected_by_budget,
            in_flight: output.in_flight,
            attempts: totals.attempts,
            retries: totals.retries,
        },
        latency_ms: LatencySummary {
            p50,
            p99,
            p999,
            mean,
            max,
        },
        server: ServerSummary {
            arrivals: totals.server_arrivals,
            peak_arrivals_per_s,
            rejected_queue_full: totals.rejected_queue_full,
            shed: totals.shed,
            rejected_by_limit: config.limit.as_ref().map(|_| totals.rejected_by_limit),
            limit_range: output.limit_range,
            retries_deferred: config
                .retry_after_ns
                .map(|_| totals.retries_deferred),
        },
        hlc: HlcSummary {
            max_offset_ms: output.hlc.max_offset_ns as f64 / NS_PER_MS,
            max_counter: u64::from(output.hlc.max_counter),
            rejected: output.hlc.rejected,
        },
        connections,
        expectations,
    });
    RunRecord {
        summary,
        timeline,
        ..RunRecord::default()
    }
}
