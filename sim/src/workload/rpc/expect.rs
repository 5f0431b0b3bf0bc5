//! Closed-form expectations of an rpc scenario, computed from its typed configuration
//! when the run is recorded; the reports measure the other side from the record
//! ([`Measure`]).
//!
//! - For each random crash process: a server's availability `A = MTBF / (MTBF + MTTR)`
//!   against its measured up time, and with several servers the chance that at least
//!   one is up (`k_of_n(1, n, A)`) against the measured time not all were down.
//! - For each scheduled omission fault: expected attempts per request with per-attempt
//!   success `p` (`1/p`, truncated at `max_attempts`: `(1 - (1-p)^m) / p`) against the
//!   measured attempts per offered request in the fault's windows.
//! - With Poisson arrivals and exponential service: the M/M/c mean sojourn per server
//!   (plus the mean network round trip) against the measured mean latency.

use faultline_models::reliability;
use faultline_reports::record::{Expectation, Measure};

use super::config::SERVER_PREFIX;
use super::spec::{Arrival, RpcSpec};
use crate::format::{Dist, Selector};
use crate::workload::Context;

/// Server names a selector matches.
fn servers_matching(spec: &RpcSpec, selector: &Selector) -> Vec<String> {
    (0..spec.servers.count)
        .map(|index| format!("{SERVER_PREFIX}{index}"))
        .filter(|name| selector.matches(name))
        .collect()
}

/// Every expectation that applies to `scenario` (whose rpc part is `spec`).
pub fn expectations(spec: &RpcSpec, scenario: &Context<'_>) -> Vec<Expectation> {
    let mut out = Vec::new();
    out.extend(crash_expectations(spec, scenario));
    out.extend(omission_expectations(spec, scenario));
    out.extend(queue_expectation(spec, scenario));
    out
}

fn crash_expectations(spec: &RpcSpec, scenario: &Context<'_>) -> Vec<Expectation> {
    let mut out = Vec::new();
    let end_s = scenario.duration.as_secs_f64();
    for random in scenario.random_faults {
        let Some(selector) = &random.crash else {
            continue;
        };
        let (mtbf, mttr) = (random.mtbf.as_secs_f64(), random.mttr.as_secs_f64());
        let nodes = servers_matching(spec, selector);
        if nodes.is_empty() || mtbf + mttr <= 0.0 {
            continue;
        }
        let a = reliability::availability(mtbf, mttr);
        out.push(Expectation {
            name: format!("server availability (crash {selector})"),
            analytic: 100.0 * a,
            unit: "%".to_owned(),
            note: format!(
                "A = MTBF/(MTBF+MTTR), MTBF {mtbf} s, MTTR {mttr} s; measured: up time of {} \
                 server(s) over {end_s} s, the random crashes only",
                nodes.len()
            ),
            measure: Measure::Uptime {
                nodes: nodes.clone(),
                random_only: true,
            },
        });
        if nodes.len() > 1 {
            let n = nodes.len() as u32;
            out.push(Expectation {
                name: format!("at least 1 of {n} servers up (crash {selector})"),
                analytic: 100.0 * reliability::k_of_n(1, n, a),
                unit: "%".to_owned(),
                note: format!(
                    "1-of-{n} of independent servers: 1 - (1-A)^{n}; measured: time not all \
                     were down"
                ),
                measure: Measure::AnyUp {
                    nodes,
                    random_only: true,
                },
            });
        }
    }
    out
}

fn omission_expectations(spec: &RpcSpec, scenario: &Context<'_>) -> Vec<Expectation> {
    let mut out = Vec::new();
    let end_s = scenario.duration.as_secs_f64();
    let servers = spec.servers.count as f64;
    let max_attempts = spec.clients.retry.max_attempts;
    for fault in scenario.faults {
        let Some(omission) = &fault.omission else {
            continue;
        };
        let q = omission.rate;
        let at_s = fault.at.as_secs_f64();
        let stop_s = fault
            .for_
            .map_or(end_s, |length| (at_s + length.as_secs_f64()).min(end_s));
        let fraction =
            |selector: &Selector| servers_matching(spec, selector).len() as f64 / servers;
        let from_clients = omission.from.matches("client-0");
        let to_clients = omission.to.matches("client-0");
        let q_request = if from_clients {
            q * fraction(&omission.to)
        } else {
            0.0
        };
        let q_reply = if to_clients {
            q * fraction(&omission.from)
        } else {
            0.0
        };
        let p = (1.0 - q_request) * (1.0 - q_reply);
        if !(p > 0.0 && p <= 1.0) || q_request + q_reply == 0.0 {
            continue;
        }
        let untruncated = reliability::expected_attempts(p);
        let analytic = (1.0 - (1.0 - p).powi(max_attempts.min(1000) as i32)) / p;
        out.push(Expectation {
            name: format!(
                "attempts per request (omission {} -> {}, rate {q})",
                omission.from, omission.to
            ),
            analytic,
            unit: "attempts/request".to_owned(),
            note: format!(
                "per-attempt success p = {p:.3}, truncated at {max_attempts} attempts: \
                 (1-(1-p)^m)/p; untruncated 1/p = {untruncated:.3}; measured in \
                 {at_s}-{stop_s} s; breakers, budgets and timeouts shift it"
            ),
            measure: Measure::AttemptsPerRequest {
                from_s: at_s,
                to_s: stop_s,
            },
        });
    }
    out
}

fn queue_expectation(spec: &RpcSpec, scenario: &Context<'_>) -> Option<Expectation> {
    let Dist::Exponential(service) = &spec.servers.service_time else {
        return None;
    };
    let Arrival::PoissonPerS(per_client) = spec.clients.arrival else {
        return None;
    };
    let service_s = service.as_secs_f64();
    let clients = f64::from(spec.clients.count);
    if service_s <= 0.0 || per_client <= 0.0 {
        return None;
    }
    let lambda = clients * per_client / f64::from(spec.servers.count.max(1));
    let mu = 1.0 / service_s;
    let c = spec.servers.workers.max(1);
    let rho = lambda / (f64::from(c) * mu);
    if rho >= 1.0 {
        return None;
    }
    let sojourn_s = reliability::mmc(lambda, mu, c)?.sojourn_s;
    let latency_ns = scenario.network.latency.mean_ns();
    let (rtt_s, net_note) = if latency_ns.is_finite() {
        let latency_s = latency_ns / 1e9;
        (
            2.0 * latency_s,
            format!(" + network round trip 2 x {:.3} ms", latency_s * 1e3),
        )
    } else {
        (
            0.0,
            " (network latency not included: its mean is infinite)".to_owned(),
        )
    };
    let faults = if scenario.faults.is_empty() && scenario.random_faults.is_empty() {
        ""
    } else {
        "; the run has faults: measured includes them"
    };
    Some(Expectation {
        name: format!("mean latency (M/M/{c} per server)"),
        analytic: (sojourn_s + rtt_s) * 1e3,
        unit: "ms".to_owned(),
        note: format!(
            "lambda {lambda:.1}/s per server, mu {mu:.1}/s, c {c}, rho {rho:.3}: mean sojourn \
             {:.3} ms{net_note}{faults}",
            sojourn_s * 1e3
        ),
        measure: Measure::MeanLatency,
    })
}
