//! From an engine run to the run record other tools read (`summary.json`,
//! `timeline.csv`), with the scenario's checks evaluated.

use faultline_reports::record::{
    CheckResult, ConnectionSummary, FaultInterval, HlcSummary, LatencySummary, RequestCounts,
    RunRecord, ServerSummary, Summary, TimelineRow,
};

use crate::engine::RunOutput;
use crate::scenario::{Check, Scenario};

/// The availability objective when the scenario states none.
pub const DEFAULT_SLO: f64 = 0.99;

const NS_PER_MS: f64 = 1e6;
const NS_PER_S: f64 = 1e9;

/// How the run was invoked, for the record.
#[derive(Clone, Debug, Default)]
pub struct Invocation {
    /// Path of the scenario file as given.
    pub scenario_path: String,
    /// Wall-clock seconds the run took.
    pub wall_s: f64,
    /// The command that reproduces the run.
    pub reproduce: String,
}

/// The availability objective: the first `availability_at_least` check, else 99%.
pub fn slo(scenario: &Scenario) -> f64 {
    scenario
        .checks
        .iter()
        .find_map(|check| match check {
            Check::AvailabilityAtLeast(bound) => Some(*bound),
            _ => None,
        })
        .unwrap_or(DEFAULT_SLO)
}

/// Builds the run record.
pub fn build(scenario: &Scenario, output: &RunOutput, invocation: &Invocation) -> RunRecord {
    let totals = &output.totals;
    let resolved = totals.succeeded + totals.failed + totals.timed_out + totals.rejected_by_breaker;
    let availability = if resolved == 0 {
        1.0
    } else {
        totals.succeeded as f64 / resolved as f64
    };
    let window_s = output.window_ns as f64 / NS_PER_S;
    let faults: Vec<FaultInterval> = output
        .faults
        .iter()
        .map(|interval| FaultInterval {
            kind: interval.kind.to_owned(),
            target: interval.target.clone(),
            start_s: interval.start_ns as f64 / NS_PER_S,
            end_s: interval.end_ns.map(|end| end as f64 / NS_PER_S),
        })
        .collect();
    let timeline: Vec<TimelineRow> = output
        .windows
        .iter()
        .enumerate()
        .map(|(index, window)| {
            let start_ns = index as u64 * output.window_ns;
            let end_ns = start_ns + output.window_ns;
            let active: Vec<String> = output
                .faults
                .iter()
                .filter(|interval| {
                    interval.start_ns < end_ns && interval.end_ns.is_none_or(|end| end > start_ns)
                })
                .map(|interval| format!("{}:{}", interval.kind, interval.target))
                .collect();
            let [p50, p99, p999] = window
                .latency_ns
                .map_or([f64::NAN; 3], |q| q.map(|ns| ns as f64 / NS_PER_MS));
            TimelineRow {
                t_s: start_ns as f64 / NS_PER_S,
                offered: window.offered,
                attempts: window.attempts,
                server_arrivals: window.server_arrivals,
                successes: window.successes,
                failures: window.failures,
                timeouts: window.timeouts,
                breaker_rejections: window.breaker_rejections,
                breakers_open: window.breakers_open,
                latency_p50_ms: p50,
                latency_p99_ms: p99,
                latency_p999_ms: p999,
                faults_active: active.join(";"),
            }
        })
        .collect();
    let peak_arrivals_per_s = timeline
        .iter()
        .map(|row| row.server_arrivals as f64 / window_s)
        .fold(0.0, f64::max);
    let [p50, p99, p999, mean, max] = output.latency_ns.map(|ns| ns / NS_PER_MS);
    let connections = scenario
        .workload
        .clients
        .connection
        .as_ref()
        .map(|_| ConnectionSummary {
            resets: totals.conn_resets,
            connect_tries: totals.connect_tries,
            connects: totals.connects,
            refused: totals.connects_refused,
            offline_peak: totals.offline_peak,
            offline_failed: totals.offline_failed,
        });
    let mut summary = Summary {
        scenario: scenario.name.clone(),
        description: scenario.description.clone(),
        scenario_path: invocation.scenario_path.clone(),
        seed: output.seed,
        simulated_s: output.simulated_ns as f64 / NS_PER_S,
        wall_s: invocation.wall_s,
        events: output.events,
        trace_hash: output.trace_hash.clone(),
        availability,
        slo: slo(scenario),
        window_s,
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
        },
        hlc: HlcSummary {
            max_offset_ms: output.hlc.max_offset_ns as f64 / NS_PER_MS,
            max_counter: u64::from(output.hlc.max_counter),
            rejected: output.hlc.rejected,
        },
        connections,
        faults,
        checks: Vec::new(),
        reproduce: invocation.reproduce.clone(),
        scenario_spec: serde_json::to_value(scenario).unwrap_or(serde_json::Value::Null),
    };
    summary.checks = scenario
        .checks
        .iter()
        .map(|check| evaluate(check, &summary))
        .collect();
    RunRecord { summary, timeline }
}

fn evaluate(check: &Check, summary: &Summary) -> CheckResult {
    let amplification = summary.requests.attempts as f64 / summary.requests.offered.max(1) as f64;
    let (name, passed, detail) = match check {
        Check::AvailabilityAtLeast(bound) => (
            format!("availability_at_least {bound}"),
            summary.availability >= *bound,
            format!(
                "availability {:.4}% vs at least {:.4}%",
                summary.availability * 100.0,
                bound * 100.0
            ),
        ),
        Check::AvailabilityAtMost(bound) => (
            format!("availability_at_most {bound}"),
            summary.availability <= *bound,
            format!(
                "availability {:.4}% vs at most {:.4}%",
                summary.availability * 100.0,
                bound * 100.0
            ),
        ),
        Check::P99LatencyAtMost(bound) => {
            let bound_ms = bound.as_secs_f64() * 1e3;
            (
                format!("p99_latency_at_most {bound}"),
                summary.latency_ms.p99 <= bound_ms,
                format!(
                    "p99 {:.3} ms vs at most {bound_ms:.3} ms",
                    summary.latency_ms.p99
                ),
            )
        }
        Check::P50LatencyAtMost(bound) => {
            let bound_ms = bound.as_secs_f64() * 1e3;
            (
                format!("p50_latency_at_most {bound}"),
                summary.latency_ms.p50 <= bound_ms,
                format!(
                    "p50 {:.3} ms vs at most {bound_ms:.3} ms",
                    summary.latency_ms.p50
                ),
            )
        }
        Check::RetryAmplificationAtMost(bound) => (
            format!("retry_amplification_at_most {bound}"),
            amplification <= *bound,
            format!("{amplification:.3} attempts per request vs at most {bound}"),
        ),
        Check::PeakArrivalsPerSAtMost(bound) => (
            format!("peak_arrivals_per_s_at_most {bound}"),
            summary.server.peak_arrivals_per_s <= *bound,
            format!(
                "peak {:.1} arrivals/s vs at most {bound}",
                summary.server.peak_arrivals_per_s
            ),
        ),
    };
    CheckResult {
        name,
        passed,
        detail,
    }
}
