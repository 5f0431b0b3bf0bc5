//! The rpc workload's rules and limits, checked when a scenario is resolved (so
//! `validate` and `run` refuse the same files with the same located messages).

use super::spec::{
    AdaptiveTimeoutSpec, Arrival, BackoffKindSpec, BackoffSpec, BreakerMode, BreakerSpec,
    BudgetSpec, Clients, ConnectionSpec, RpcSpec, Servers, TimeoutSpec, MAX_ATTEMPTS, MAX_CLIENTS,
    MAX_OFFLINE_QUEUE, MAX_QUEUE_LIMIT, MAX_SERVERS, MAX_WORKERS,
};
use crate::scenario::validate::{dist, issue, positive, unit_fraction, Checked};
use crate::scenario::{Dur, Scenario};
use crate::workload::EventEstimate;

/// Engine events per attempt assumed by the event estimate (send, deliver, queue, serve,
/// reply, timer).
pub const EVENTS_PER_ATTEMPT: f64 = 6.0;

/// Checks the rpc workload's size limits (before anything is allocated).
pub fn check_limits(spec: &RpcSpec) -> Checked {
    let clients = &spec.clients;
    let servers = &spec.servers;
    let counts = [
        (
            "workload.clients.count",
            clients.count,
            MAX_CLIENTS,
            "clients",
        ),
        (
            "workload.clients.retry.max_attempts",
            clients.retry.max_attempts,
            MAX_ATTEMPTS,
            "attempts",
        ),
        (
            "workload.servers.count",
            servers.count,
            MAX_SERVERS,
            "servers",
        ),
        (
            "workload.servers.workers",
            servers.workers,
            MAX_WORKERS,
            "workers per server",
        ),
        (
            "workload.servers.queue_limit",
            servers.queue_limit,
            MAX_QUEUE_LIMIT,
            "queued requests per server",
        ),
    ];
    for (path, value, limit, what) in counts {
        if value > limit {
            return Err(issue(
                path,
                format!("{value} exceeds the limit of {limit} {what}"),
            ));
        }
    }
    Ok(())
}

/// Checks every rule of the rpc workload's keys (limits are assumed checked).
pub fn check_rules(spec: &RpcSpec) -> Checked {
    check_clients(&spec.clients)?;
    check_servers(&spec.servers)
}

/// The event estimate: offered requests x `max_attempts` x [`EVENTS_PER_ATTEMPT`] (a
/// worst case: every attempt fails and is retried).
pub fn event_estimate(spec: &RpcSpec, scenario: &Scenario) -> EventEstimate {
    let offered = offered_per_s(spec, scenario) * scenario.duration.as_secs_f64();
    let attempts = f64::from(spec.clients.retry.max_attempts.max(1));
    let offered_text = if offered.is_finite() {
        format!("{offered:.0}")
    } else {
        "endless".to_owned()
    };
    EventEstimate {
        events: offered * attempts * EVENTS_PER_ATTEMPT,
        reckoning: format!(
            "{offered_text} requests x {attempts} attempts x {EVENTS_PER_ATTEMPT} events"
        ),
        advice: "workload.clients.count, the arrival rate, duration or \
                 workload.clients.retry.max_attempts"
            .to_owned(),
    }
}

/// Logical requests the workload offers per second, over all clients (an estimate for
/// closed loops: one request per think time plus a round trip and a service time).
pub fn offered_per_s(spec: &RpcSpec, scenario: &Scenario) -> f64 {
    let clients = &spec.clients;
    let per_client = match &clients.arrival {
        Arrival::PoissonPerS(rate) => *rate,
        Arrival::ClosedLoop(closed) => {
            let cycle_ns = closed.think_time.mean_ns()
                + 2.0 * scenario.network.latency.mean_ns()
                + spec.servers.service_time.mean_ns();
            1e9 / cycle_ns
        }
    };
    f64::from(clients.count) * per_client
}

fn check_clients(clients: &Clients) -> Checked {
    let base = "workload.clients";
    if clients.count == 0 {
        return Err(issue(
            format!("{base}.count"),
            "must be at least 1 (write e.g. 100)",
        ));
    }
    match &clients.arrival {
        Arrival::PoissonPerS(rate) => {
            if !(rate.is_finite() && *rate > 0.0) {
                return Err(issue(
                    format!("{base}.arrival.poisson_per_s"),
                    format!("{rate} is not a rate: write requests per second per client, above 0 (e.g. 1.0)"),
                ));
            }
        }
        Arrival::ClosedLoop(closed) => {
            dist(
                &format!("{base}.arrival.closed_loop.think_time"),
                &closed.think_time,
            )?;
        }
    }
    check_timeout(&format!("{base}.timeout"), &clients.timeout)?;
    check_retry(&format!("{base}.retry"), clients)?;
    if let Some(breaker) = &clients.breaker {
        check_breaker(&format!("{base}.breaker"), breaker)?;
    }
    if let Some(offset) = clients.hlc_max_offset {
        positive(&format!("{base}.hlc_max_offset"), offset, "\"500ms\"")?;
    }
    if let Some(connection) = &clients.connection {
        check_connection(&format!("{base}.connection"), connection)?;
    }
    Ok(())
}

fn check_timeout(path: &str, timeout: &TimeoutSpec) -> Checked {
    let (path, initial, min, max) = match timeout {
        TimeoutSpec::Fixed(value) => return positive(path, *value, "\"500ms\""),
        TimeoutSpec::Adaptive(AdaptiveTimeoutSpec::Ewma(ewma)) => {
            let path = format!("{path}.ewma");
            if ![90.0, 95.0, 99.0].contains(&ewma.percentile) {
                return Err(issue(
                    format!("{path}.percentile"),
                    format!("{} is not supported: write 90, 95 or 99", ewma.percentile),
                ));
            }
            unit_fraction(&format!("{path}.alpha"), ewma.alpha, "0.1")?;
            (path, ewma.initial, ewma.min, ewma.max)
        }
        TimeoutSpec::Adaptive(AdaptiveTimeoutSpec::Rfc6298(rfc)) => {
            let path = format!("{path}.rfc6298");
            positive(&format!("{path}.granularity"), rfc.granularity, "\"1ms\"")?;
            (path, rfc.initial, rfc.min, rfc.max)
        }
    };
    positive(&format!("{path}.min"), min, "\"1ms\"")?;
    if max < min {
        return Err(issue(
            format!("{path}.max"),
            format!("max {max} is below min {min}; write max >= min"),
        ));
    }
    if initial < min || initial > max {
        return Err(issue(
            format!("{path}.initial"),
            format!("initial {initial} is outside [min, max] = [{min}, {max}]; write a value between them"),
        ));
    }
    Ok(())
}

fn check_backoff(path: &str, backoff: &BackoffSpec) -> Checked {
    if backoff.kind == BackoffKindSpec::Exponential {
        positive(&format!("{path}.base"), backoff.base, "\"100ms\"")?;
    }
    if backoff.cap < backoff.base {
        return Err(issue(
            format!("{path}.cap"),
            format!(
                "cap {} is below base {}; write cap >= base",
                backoff.cap, backoff.base
            ),
        ));
    }
    Ok(())
}

fn check_connection(path: &str, connection: &ConnectionSpec) -> Checked {
    if let Some(reconnect) = &connection.reconnect {
        check_backoff(&format!("{path}.reconnect"), reconnect)?;
    }
    positive(
        &format!("{path}.connect_timeout"),
        connection.connect_timeout,
        "\"1s\"",
    )?;
    if connection.offline_queue > MAX_OFFLINE_QUEUE {
        return Err(issue(
            format!("{path}.offline_queue"),
            format!(
                "{} is above the limit of {} attempts per client",
                connection.offline_queue, MAX_OFFLINE_QUEUE
            ),
        ));
    }
    Ok(())
}

fn check_retry(path: &str, clients: &Clients) -> Checked {
    let retry = &clients.retry;
    if retry.max_attempts == 0 {
        return Err(issue(
            format!("{path}.max_attempts"),
            "must be at least 1: it counts the first try (write 1 for no retries)",
        ));
    }
    check_backoff(&format!("{path}.backoff"), &retry.backoff)?;
    match &retry.budget {
        None => {}
        Some(BudgetSpec::TokenBucket(bucket)) => {
            let path = format!("{path}.budget.token_bucket");
            if bucket.capacity == 0 {
                return Err(issue(
                    format!("{path}.capacity"),
                    "must be at least 1 (AWS: 500)",
                ));
            }
            for (field, cost, default) in [
                ("retry_cost", bucket.retry_cost, 5),
                ("timeout_retry_cost", bucket.timeout_retry_cost, 10),
            ] {
                if cost == 0 {
                    return Err(issue(
                        format!("{path}.{field}"),
                        format!(
                            "must be at least 1: a free retry makes the budget unlimited \
                             (AWS: {default}; remove \"budget\" for no budget)"
                        ),
                    ));
                }
                if cost > bucket.capacity {
                    return Err(issue(
                        format!("{path}.{field}"),
                        format!(
                            "{cost} exceeds the capacity {}: no retry could ever be paid for; \
                             write at most the capacity",
                            bucket.capacity
                        ),
                    ));
                }
            }
        }
        Some(BudgetSpec::Ratio(ratio)) => {
            let path = format!("{path}.budget.ratio");
            if ratio.ttl < Dur::from_secs(1) || ratio.ttl > Dur::from_secs(60) {
                return Err(issue(
                    format!("{path}.ttl"),
                    format!(
                        "{} is out of range: write 1s to 60s (tower: \"10s\")",
                        ratio.ttl
                    ),
                ));
            }
            if !(ratio.retry_ratio.is_finite() && (0.0..=1000.0).contains(&ratio.retry_ratio)) {
                return Err(issue(
                    format!("{path}.retry_ratio"),
                    format!(
                        "{} is out of range: write a fraction of requests from 0 to 1000 \
                         (tower: 0.2)",
                        ratio.retry_ratio
                    ),
                ));
            }
        }
    }
    Ok(())
}

fn check_breaker(path: &str, breaker: &BreakerSpec) -> Checked {
    let mode = match breaker.mode {
        BreakerMode::Consecutive => "consecutive",
        BreakerMode::Ewma => "ewma",
        BreakerMode::CountWindow => "count_window",
        BreakerMode::TimeWindow => "time_window",
    };
    let window_mode = matches!(
        breaker.mode,
        BreakerMode::CountWindow | BreakerMode::TimeWindow
    );
    // (field, present, applies to this mode, the modes it applies to)
    let fields = [
        (
            "failures",
            breaker.failures.is_some(),
            breaker.mode == BreakerMode::Consecutive,
            "consecutive",
        ),
        (
            "alpha",
            breaker.alpha.is_some(),
            breaker.mode == BreakerMode::Ewma,
            "ewma",
        ),
        (
            "threshold",
            breaker.threshold.is_some(),
            breaker.mode != BreakerMode::Consecutive,
            "ewma, count_window and time_window",
        ),
        (
            "window_calls",
            breaker.window_calls.is_some(),
            breaker.mode == BreakerMode::CountWindow,
            "count_window",
        ),
        (
            "window",
            breaker.window.is_some(),
            breaker.mode == BreakerMode::TimeWindow,
            "time_window",
        ),
        (
            "min_calls",
            breaker.min_calls.is_some(),
            window_mode,
            "count_window and time_window",
        ),
        (
            "slow_call",
            breaker.slow_call.is_some(),
            window_mode,
            "count_window and time_window",
        ),
        (
            "slow_call_threshold",
            breaker.slow_call_threshold.is_some(),
            window_mode,
            "count_window and time_window",
        ),
    ];
    for (field, present, applies, modes) in fields {
        if present && !applies {
            return Err(issue(
                format!("{path}.{field}"),
                format!(
                    "\"{field}\" does not apply to mode \"{mode}\" (only to {modes}); remove it"
                ),
            ));
        }
    }
    let required = |field: &str, example: &str| {
        issue(
            path,
            format!("mode \"{mode}\" needs \"{field}\" (e.g. \"{field}\": {example})"),
        )
    };
    match breaker.mode {
        BreakerMode::Consecutive => match breaker.failures {
            None => return Err(required("failures", "5")),
            Some(0) => {
                return Err(issue(
                    format!("{path}.failures"),
                    "must be at least 1 (e.g. 5)",
                ));
            }
            Some(_) => {}
        },
        BreakerMode::Ewma => {
            let alpha = breaker.alpha.ok_or_else(|| required("alpha", "0.1"))?;
            unit_fraction(&format!("{path}.alpha"), alpha, "0.1")?;
        }
        BreakerMode::CountWindow => match breaker.window_calls {
            None => return Err(required("window_calls", "100")),
            Some(0) => {
                return Err(issue(
                    format!("{path}.window_calls"),
                    "must be at least 1 (e.g. 100)",
                ));
            }
            Some(_) => {}
        },
        BreakerMode::TimeWindow => {
            let window = breaker
                .window
                .ok_or_else(|| required("window", "\"60s\""))?;
            if window < Dur::from_secs(1) || window.0.subsec_nanos() != 0 {
                return Err(issue(
                    format!("{path}.window"),
                    format!(
                        "{window} is not a whole number of seconds of at least 1s (the window \
                         is kept in one-second buckets); write e.g. \"60s\""
                    ),
                ));
            }
        }
    }
    if breaker.mode != BreakerMode::Consecutive {
        let threshold = breaker
            .threshold
            .ok_or_else(|| required("threshold", "0.5"))?;
        unit_fraction(&format!("{path}.threshold"), threshold, "0.5")?;
    }
    if let Some(min_calls) = breaker.min_calls {
        if min_calls == 0 {
            return Err(issue(
                format!("{path}.min_calls"),
                "must be at least 1 (e.g. 10)",
            ));
        }
        if let Some(window_calls) = breaker.window_calls {
            if min_calls > window_calls {
                return Err(issue(
                    format!("{path}.min_calls"),
                    format!(
                        "{min_calls} exceeds window_calls {window_calls}: the breaker could never \
                         decide; write at most window_calls"
                    ),
                ));
            }
        }
    }
    match (breaker.slow_call, breaker.slow_call_threshold) {
        (Some(slow_call), Some(threshold)) => {
            positive(&format!("{path}.slow_call"), slow_call, "\"1s\"")?;
            unit_fraction(&format!("{path}.slow_call_threshold"), threshold, "0.8")?;
        }
        (Some(_), None) => {
            return Err(issue(
                path,
                "\"slow_call\" needs \"slow_call_threshold\" (e.g. \"slow_call_threshold\": 0.8)",
            ));
        }
        (None, Some(_)) => {
            return Err(issue(
                format!("{path}.slow_call_threshold"),
                "needs \"slow_call\", the latency above which a call is slow (e.g. \"slow_call\": \"1s\")",
            ));
        }
        (None, None) => {}
    }
    positive(&format!("{path}.open_for"), breaker.open_for, "\"5s\"")?;
    if breaker.half_open_probes == 0 {
        return Err(issue(
            format!("{path}.half_open_probes"),
            "must be at least 1 (e.g. 2)",
        ));
    }
    if let Some(growth) = breaker.open_growth {
        if !(growth.is_finite() && growth >= 1.0) {
            return Err(issue(
                format!("{path}.open_growth"),
                format!(
                    "{growth} is out of range: write a factor of at least 1 (1 = fixed, e.g. 2)"
                ),
            ));
        }
    }
    if let Some(open_max) = breaker.open_max {
        if open_max < breaker.open_for {
            return Err(issue(
                format!("{path}.open_max"),
                format!(
                    "{open_max} is below open_for {}; write open_max >= open_for",
                    breaker.open_for
                ),
            ));
        }
    }
    Ok(())
}

fn check_servers(servers: &Servers) -> Checked {
    let base = "workload.servers";
    if servers.count == 0 {
        return Err(issue(
            format!("{base}.count"),
            "must be at least 1 (write e.g. 3)",
        ));
    }
    if servers.workers == 0 {
        return Err(issue(
            format!("{base}.workers"),
            "must be at least 1 (write e.g. 8)",
        ));
    }
    dist(&format!("{base}.service_time"), &servers.service_time)?;
    if let Some(shed_after) = servers.shed_after {
        positive(&format!("{base}.shed_after"), shed_after, "\"200ms\"")?;
    }
    Ok(())
}
