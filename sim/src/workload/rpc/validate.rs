//! The rpc workload's rules and limits, checked when a scenario is resolved (so
//! `validate` and `run` refuse the same files with the same located messages).

use core::time::Duration;

use faultline_models::breaker::{MAX_WINDOW_CALLS, MAX_WINDOW_SECONDS};

use super::config::SERVER_PREFIX;
use super::spec::{
    AdaptiveTimeoutSpec, Arrival, BackoffKindSpec, BackoffSpec, BreakerMode, BreakerSpec,
    BudgetSpec, Clients, ConnectionSpec, JitterSpec, LoadSpec, RpcSpec, Servers, TimeoutSpec,
    MAX_ATTEMPTS, MAX_LOAD_FACTOR, MAX_LOAD_POINTS,
    MAX_BREAKER_WINDOW_BYTES, MAX_CLIENTS, MAX_OFFLINE_QUEUE, MAX_QUEUE_LIMIT, MAX_SERVERS,
    MAX_WORKERS,
};
use crate::format::issue::{dist, issue, positive, unit_fraction, Checked};
use crate::format::{Dist, Dur};
use crate::workload::Context;
use crate::workload::{EventEstimate, MemoryEstimate, MemoryPart};

/// Engine events per attempt assumed by the event estimate (send, deliver, queue, serve,
/// reply, timer).
pub const EVENTS_PER_ATTEMPT: f64 = 6.0;

/// Engine events per reconnect try assumed by the event estimate (sleep ends, connect
/// arrives, answer arrives, connect timeout).
pub const EVENTS_PER_RECONNECT: f64 = 4.0;

/// Bytes of one call in a `count_window` breaker's window (two bits: failed, slow; kept
/// in 64-bit words).
const COUNT_WINDOW_BITS_PER_CALL: u64 = 2;
/// Bytes of one second in a `time_window` breaker's window (calls, failures and slow
/// calls, 32 bits each).
const TIME_WINDOW_BYTES_PER_SECOND: u64 = 12;

// Per-item memory of the memory estimate, calibrated against peak RSS (VmHWM) of the
// debug build (the release build's data structures are the same), less the 9 MiB of the
// smallest run; each cost is rounded up, and a growing vector's spare half is counted:
// - a client: 100,000 idle clients with connections, no breaker, 1 ms: 32 MiB, 244 B
//   each (pages never written are not resident: 1,000,000 idle clients measured 78 B
//   each, so 256 B errs on the safe side);
// - a breaker: window_calls 4,000 (a window of 1,000 B) at 100,000 idle clients:
//   +100 MiB, 1,000 B of window + 32 B; an EWMA breaker is 136 B (BENCHMARKS.md);
// - a held request: 5,000 clients at 1 request/s, the server crashed at 5 s without a
//   restart, offline_queue 100,000, 60 s: 275,000 held requests in 40 MiB, 145 B each
//   (its slab entry, generation, queue slot and the slab's growth);
// - a live request: the same slab entry and its pending events;
// - a metrics window: 10 clients, 1,000 s in windows of 1 ms (1,000,000 windows):
//   607 MiB peak, 598 MiB above the smallest run: 627 B each (counters, the record's
//   timeline row and the report's series).

/// Memory of one client's fixed state, bytes (see the calibration above).
pub const CLIENT_BYTES: f64 = 256.0;
/// Memory of one client's breaker besides its window, bytes.
pub const BREAKER_BYTES: f64 = 136.0;
/// Memory of one logical request in flight or held, bytes.
pub const REQUEST_BYTES: f64 = 160.0;
/// Memory of one metrics window, bytes.
pub const WINDOW_BYTES: f64 = 700.0;

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
    if let Some(breaker) = &clients.breaker {
        check_breaker_limits("workload.clients.breaker", breaker, clients.count)?;
    }
    if let Some(LoadSpec::Piecewise(points)) = &clients.load {
        if points.len() > MAX_LOAD_POINTS {
            return Err(issue(
                "workload.clients.load.piecewise",
                format!(
                    "{} points exceed the limit of {MAX_LOAD_POINTS}",
                    points.len()
                ),
            ));
        }
    }
    Ok(())
}

/// Bytes of one client's breaker window (0 for modes without one).
fn breaker_window_bytes(breaker: &BreakerSpec) -> u64 {
    match (breaker.mode, breaker.window_calls, breaker.window) {
        (BreakerMode::CountWindow, Some(calls), _) => {
            (u64::from(calls) * COUNT_WINDOW_BITS_PER_CALL).div_ceil(64) * 8
        }
        (BreakerMode::TimeWindow, _, Some(window)) => {
            window.0.as_secs() * TIME_WINDOW_BYTES_PER_SECOND
        }
        _ => 0,
    }
}

/// The model's window limits, and the memory of one window per client.
fn check_breaker_limits(path: &str, breaker: &BreakerSpec, clients: u32) -> Checked {
    match (breaker.mode, breaker.window_calls, breaker.window) {
        (BreakerMode::CountWindow, Some(calls), _) if calls > MAX_WINDOW_CALLS => {
            return Err(issue(
                format!("{path}.window_calls"),
                format!(
                    "{calls} exceeds the limit of {MAX_WINDOW_CALLS} calls in a breaker's \
                     window; write e.g. 100"
                ),
            ));
        }
        (BreakerMode::TimeWindow, _, Some(window))
            if window.0 > Duration::from_secs(MAX_WINDOW_SECONDS) =>
        {
            return Err(issue(
                format!("{path}.window"),
                format!(
                    "{window} exceeds the limit of {MAX_WINDOW_SECONDS}s (one hour) for a \
                     breaker's window; write e.g. \"60s\""
                ),
            ));
        }
        _ => {}
    }
    let per_client_bytes = breaker_window_bytes(breaker);
    let total = per_client_bytes.saturating_mul(u64::from(clients));
    if total > MAX_BREAKER_WINDOW_BYTES {
        let field = if breaker.mode == BreakerMode::CountWindow {
            "window_calls"
        } else {
            "window"
        };
        return Err(issue(
            format!("{path}.{field}"),
            format!(
                "one breaker window per client: {per_client_bytes} bytes x {clients} clients = \
                 {} MiB, over the limit of {} MiB for breaker windows; lower {field} or \
                 workload.clients.count",
                total >> 20,
                MAX_BREAKER_WINDOW_BYTES >> 20
            ),
        ));
    }
    Ok(())
}

/// Checks every rule of the rpc workload's keys (limits are assumed checked).
pub fn check_rules(spec: &RpcSpec) -> Checked {
    check_clients(&spec.clients)?;
    check_servers(&spec.servers)
}

/// The event estimate: offered requests x `max_attempts` x [`EVENTS_PER_ATTEMPT`] (a
/// worst case: every attempt fails and is retried), plus, with persistent connections,
/// the reconnect tries of every client of a crashed server until it is back x
/// [`EVENTS_PER_RECONNECT`].
pub fn event_estimate(spec: &RpcSpec, scenario: &Context<'_>) -> EventEstimate {
    // At the load profile's peak all along: a bound.
    let peak = spec
        .clients
        .load
        .as_ref()
        .map_or(1.0, |load| super::load::LoadProfile::from_spec(load).peak());
    let offered = offered_per_s(spec, scenario) * peak * scenario.duration.as_secs_f64();
    let attempts = f64::from(spec.clients.retry.max_attempts.max(1));
    let mut events = offered * attempts * EVENTS_PER_ATTEMPT;
    let mut reckoning = format!(
        "{} requests x {attempts} attempts x {EVENTS_PER_ATTEMPT} events",
        count_text(offered)
    );
    let mut advice = "workload.clients.count, the arrival rate, duration or \
                      workload.clients.retry.max_attempts"
        .to_owned();
    if let Some(connection) = &spec.clients.connection {
        let tries = reconnect_tries(spec, connection, scenario);
        if tries > 0.0 {
            events += tries * EVENTS_PER_RECONNECT;
            reckoning.push_str(&format!(
                " + {} reconnect tries x {EVENTS_PER_RECONNECT} events",
                count_text(tries)
            ));
            advice.push_str(
                ", or raise the reconnect backoff (workload.clients.connection.reconnect)",
            );
        }
    }
    EventEstimate {
        events,
        reckoning,
        advice,
    }
}

/// The memory estimate: every client's state and breaker, the requests in flight (the
/// offered rate x the longest a request lives: every attempt times out and every backoff
/// sleeps its longest), the offline queues (every client of a crashed server holds what
/// it offers while the server is down and it reconnects, up to `offline_queue`) and the
/// metrics windows.
pub fn memory_estimate(spec: &RpcSpec, scenario: &Context<'_>) -> MemoryEstimate {
    let clients = &spec.clients;
    let count = f64::from(clients.count);
    let mut memory = MemoryEstimate::default();
    let (per_client, breaker_text) = match &clients.breaker {
        Some(breaker) => {
            let window = breaker_window_bytes(breaker) as f64;
            (
                CLIENT_BYTES + BREAKER_BYTES + window,
                format!(" + {BREAKER_BYTES} breaker + {window} window"),
            )
        }
        None => (CLIENT_BYTES, String::new()),
    };
    memory.add(MemoryPart {
        what: "clients",
        bytes: count * per_client,
        reckoning: format!(
            "{} clients x ({CLIENT_BYTES}{breaker_text}) bytes",
            clients.count
        ),
        path: if clients.breaker.is_some() {
            "workload.clients.breaker"
        } else {
            "workload.clients.count"
        },
        advice: "lower workload.clients.count (or the breaker's window)",
    });
    let offered_per_s = offered_per_s(spec, scenario);
    let lifetime_s = request_lifetime_s(spec);
    let mut live = offered_per_s * lifetime_s;
    if matches!(clients.arrival, Arrival::ClosedLoop(_)) {
        // A closed-loop client has one request at a time.
        live = live.min(count);
    }
    memory.add(MemoryPart {
        what: "requests in flight",
        bytes: live * REQUEST_BYTES,
        reckoning: format!(
            "{} requests/s x {lifetime_s:.1} s x {REQUEST_BYTES} bytes",
            count_text(offered_per_s)
        ),
        path: "workload.clients.retry",
        advice: "lower the arrival rate, workload.clients.retry.max_attempts, the timeout \
                 or the backoff cap",
    });
    if let Some(connection) = &clients.connection {
        let (held, affected) = held_per_client(spec, connection, scenario);
        memory.add(MemoryPart {
            what: "offline queues",
            bytes: affected * held * REQUEST_BYTES,
            reckoning: format!(
                "{} clients x {} held requests x {REQUEST_BYTES} bytes",
                count_text(affected),
                count_text(held)
            ),
            path: "workload.clients.connection.offline_queue",
            advice: "lower workload.clients.connection.offline_queue or \
                     workload.clients.count, or restart the server sooner",
        });
    }
    let windows = windows(scenario);
    memory.add(MemoryPart {
        what: "metrics windows",
        bytes: windows * WINDOW_BYTES,
        reckoning: format!("{windows:.0} windows x {WINDOW_BYTES} bytes"),
        path: "metrics.window",
        advice: "write a longer metrics.window",
    });
    memory
}

/// Metrics windows of a run (at least one).
pub fn windows(scenario: &Context<'_>) -> f64 {
    let window_ns = scenario.metrics.window.as_nanos().max(1);
    scenario.duration.as_nanos().div_ceil(window_ns).max(1) as f64
}

/// The longest a logical request lives, seconds: every attempt waits out its longest
/// timeout, and every backoff between them sleeps its longest (no jitter shortens it;
/// decorrelated jitter may sleep up to the cap at once).
fn request_lifetime_s(spec: &RpcSpec) -> f64 {
    let clients = &spec.clients;
    let timeout = match &clients.timeout {
        TimeoutSpec::Fixed(value) => *value,
        TimeoutSpec::Adaptive(AdaptiveTimeoutSpec::Ewma(ewma)) => ewma.max,
        TimeoutSpec::Adaptive(AdaptiveTimeoutSpec::Rfc6298(rfc)) => rfc.max,
    };
    let attempts = clients.retry.max_attempts.max(1);
    let backoff = &clients.retry.backoff;
    let cap_s = backoff.cap.as_secs_f64();
    let mut sleep_s = backoff.base.as_secs_f64();
    let mut sleeps_s = 0.0;
    for _ in 1..attempts {
        sleeps_s += match (backoff.kind, backoff.jitter) {
            (BackoffKindSpec::Constant, _) => sleep_s.min(cap_s),
            (_, JitterSpec::Decorrelated) => cap_s,
            _ => sleep_s.min(cap_s),
        };
        sleep_s *= 2.0;
    }
    f64::from(attempts) * timeout.as_secs_f64() + sleeps_s
}

/// Requests one client holds while disconnected, and the clients that hold them: each
/// crash of a server (scheduled or from `random_faults`) disconnects its clients for its
/// down time plus the longest reconnect sleep and a connect timeout, and they hold what
/// they offer meanwhile, up to `offline_queue` (a closed-loop client holds one).
fn held_per_client(
    spec: &RpcSpec,
    connection: &ConnectionSpec,
    scenario: &Context<'_>,
) -> (f64, f64) {
    let clients = &spec.clients;
    let servers = spec.servers.count.max(1);
    let per_server = f64::from(clients.count.div_ceil(servers));
    let count = f64::from(clients.count);
    let backoff = connection
        .reconnect
        .as_ref()
        .unwrap_or(&clients.retry.backoff);
    let extra_s = backoff.cap.as_secs_f64() + connection.connect_timeout.as_secs_f64();
    let per_client_per_s = if count > 0.0 {
        offered_per_s(spec, scenario) / count
    } else {
        0.0
    };
    let duration = scenario.duration;
    let mut longest_s: f64 = 0.0;
    let mut affected = 0.0;
    for fault in scenario.faults {
        let Some(selector) = &fault.crash else {
            continue;
        };
        let hit = selector.count_in_family(SERVER_PREFIX, servers) as f64;
        if hit == 0.0 {
            continue;
        }
        let down = fault
            .restart_after
            .map_or(duration.0.saturating_sub(fault.at.0), |after| after.0);
        longest_s = longest_s.max(down.as_secs_f64());
        affected += hit * per_server;
    }
    for random in scenario.random_faults {
        let Some(selector) = &random.crash else {
            continue;
        };
        let hit = selector.count_in_family(SERVER_PREFIX, servers) as f64;
        if hit == 0.0 {
            continue;
        }
        longest_s = longest_s.max(random.mttr.as_secs_f64());
        affected += hit * per_server;
    }
    if affected == 0.0 || connection.offline_queue == 0 {
        return (0.0, 0.0);
    }
    let mut held = per_client_per_s * (longest_s + extra_s);
    if matches!(clients.arrival, Arrival::ClosedLoop(_)) {
        held = held.min(1.0);
    }
    // At least one: a request arriving during the outage is held whatever the rate.
    let held = held.ceil().clamp(1.0, f64::from(connection.offline_queue));
    (held, affected.min(count))
}

/// A count in words: `1000`, or `endless` when it has no bound.
fn count_text(count: f64) -> String {
    if count.is_finite() {
        format!("{count:.0}")
    } else {
        "endless".to_owned()
    }
}

/// Reconnect tries over the run: every crash of a server (scheduled, or expected from
/// `random_faults`) resets its clients' connections, and each client tries again after
/// every backoff sleep plus a round trip until the server is back.
fn reconnect_tries(spec: &RpcSpec, connection: &ConnectionSpec, scenario: &Context<'_>) -> f64 {
    let servers = spec.servers.count.max(1);
    let per_server = f64::from(spec.clients.count.div_ceil(servers));
    let clients = f64::from(spec.clients.count);
    let backoff = connection
        .reconnect
        .as_ref()
        .unwrap_or(&spec.clients.retry.backoff);
    let round_trip_ns = 2.0 * estimate_ns(&scenario.network.latency);
    let duration = scenario.duration;
    let mut tries = 0.0;
    for fault in scenario.faults {
        let Some(selector) = &fault.crash else {
            continue;
        };
        let hit = selector.count_in_family(SERVER_PREFIX, servers) as f64;
        let down = fault
            .restart_after
            .map_or(duration.0.saturating_sub(fault.at.0), |after| after.0);
        tries += (hit * per_server).min(clients) * tries_while_down(backoff, down, round_trip_ns);
    }
    let duration_ns = duration.as_nanos() as f64;
    for random in scenario.random_faults {
        let Some(selector) = &random.crash else {
            continue;
        };
        let hit = selector.count_in_family(SERVER_PREFIX, servers) as f64;
        let cycle_ns = (random.mtbf.as_nanos() as f64 + random.mttr.as_nanos() as f64).max(1.0);
        let crashes = hit * (duration_ns / cycle_ns + 1.0);
        tries += crashes * per_server * tries_while_down(backoff, random.mttr.0, round_trip_ns);
    }
    tries
}

/// Tries of one client while its server is down for `down`: sleeps growing from `base`
/// to `cap` (their mean under the jitter: full jitter halves them), each followed by a
/// refused connect one round trip later, and one more that succeeds. Infinite when a
/// try takes no time at all.
fn tries_while_down(backoff: &BackoffSpec, down: Duration, round_trip_ns: f64) -> f64 {
    let jitter_mean = match (backoff.kind, backoff.jitter) {
        (BackoffKindSpec::Constant, _) | (_, JitterSpec::None) => 1.0,
        (_, JitterSpec::Equal) => 0.75,
        (_, JitterSpec::Full | JitterSpec::Decorrelated) => 0.5,
    };
    let cap_ns = backoff.cap.as_nanos() as f64;
    let mut sleep_ns = backoff.base.as_nanos() as f64;
    let mut left_ns = down.as_nanos() as f64;
    let mut tries = 1.0;
    // Exponential growth reaches the cap within 64 doublings of a base of 1 ns.
    for _ in 0..64 {
        if backoff.kind == BackoffKindSpec::Constant || sleep_ns >= cap_ns || left_ns <= 0.0 {
            break;
        }
        left_ns -= sleep_ns * jitter_mean + round_trip_ns;
        tries += 1.0;
        sleep_ns *= 2.0;
    }
    let step_ns = sleep_ns.min(cap_ns) * jitter_mean + round_trip_ns;
    if left_ns > 0.0 {
        tries += left_ns / step_ns;
    }
    tries
}

/// A duration's mean for the estimate, or its least value when it has no mean (a
/// Pareto with shape <= 1): a bound that errs toward more events.
fn estimate_ns(dist: &Dist) -> f64 {
    let mean = dist.mean_ns();
    if mean.is_finite() {
        return mean;
    }
    match dist {
        Dist::Pareto(pareto) => pareto.scale.as_nanos() as f64,
        _ => 0.0,
    }
}

/// Logical requests the workload offers per second, over all clients (an estimate for
/// closed loops: one request per think time plus a round trip and a service time).
pub fn offered_per_s(spec: &RpcSpec, scenario: &Context<'_>) -> f64 {
    let clients = &spec.clients;
    let per_client = match &clients.arrival {
        Arrival::PoissonPerS(rate) => *rate,
        Arrival::ClosedLoop(closed) => {
            let cycle_ns = estimate_ns(&closed.think_time)
                + 2.0 * estimate_ns(&scenario.network.latency)
                + estimate_ns(&spec.servers.service_time);
            1e9 / cycle_ns
        }
    };
    f64::from(clients.count) * per_client
}

/// A load factor: finite, from 0 to [`MAX_LOAD_FACTOR`].
fn load_factor(path: &str, factor: f64) -> Checked {
    if factor.is_finite() && (0.0..=MAX_LOAD_FACTOR).contains(&factor) {
        Ok(())
    } else {
        Err(issue(
            path,
            format!(
                "{factor} is out of range: write a factor on the rate from 0 to \
                 {MAX_LOAD_FACTOR} (e.g. 3 for three times the load)"
            ),
        ))
    }
}

fn check_load(path: &str, load: &LoadSpec, arrival: &Arrival) -> Checked {
    if !matches!(arrival, Arrival::PoissonPerS(_)) {
        return Err(issue(
            path,
            "a load profile changes an open-loop rate: write \"arrival\": {\"poisson_per_s\": ...}, \
             or remove the load (a closed loop's load follows its think time)",
        ));
    }
    match load {
        LoadSpec::Step(step) => load_factor(&format!("{path}.step.factor"), step.factor),
        LoadSpec::Spike(spike) => {
            positive(&format!("{path}.spike.for"), spike.for_, "\"5s\"")?;
            load_factor(&format!("{path}.spike.factor"), spike.factor)
        }
        LoadSpec::Ramp(ramp) => {
            if ramp.to <= ramp.from {
                return Err(issue(
                    format!("{path}.ramp.to"),
                    format!("{} is not after from ({}): write a later time", ramp.to, ramp.from),
                ));
            }
            load_factor(&format!("{path}.ramp.factor"), ramp.factor)
        }
        LoadSpec::Diurnal(diurnal) => {
            positive(&format!("{path}.diurnal.period"), diurnal.period, "\"60s\"")?;
            let amplitude = diurnal.amplitude;
            if !(amplitude.is_finite() && (0.0..=1.0).contains(&amplitude)) {
                return Err(issue(
                    format!("{path}.diurnal.amplitude"),
                    format!("{amplitude} is out of range: write a swing from 0 to 1 (e.g. 0.5)"),
                ));
            }
            Ok(())
        }
        LoadSpec::Piecewise(points) => {
            if points.is_empty() {
                return Err(issue(
                    format!("{path}.piecewise"),
                    "an empty list: write points such as [{\"at\": \"10s\", \"factor\": 2}]",
                ));
            }
            for (i, point) in points.iter().enumerate() {
                load_factor(&format!("{path}.piecewise[{i}].factor"), point.factor)?;
                if i > 0 && point.at <= points[i - 1].at {
                    return Err(issue(
                        format!("{path}.piecewise[{i}].at"),
                        format!(
                            "{} is not after the previous point's {}: list the points in time order",
                            point.at,
                            points[i - 1].at
                        ),
                    ));
                }
            }
            Ok(())
        }
    }
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
            let path = format!("{base}.arrival.closed_loop.think_time");
            dist(&path, &closed.think_time)?;
            if let Dist::Pareto(pareto) = &closed.think_time {
                if pareto.shape <= 1.0 {
                    return Err(issue(
                        format!("{path}.pareto.shape"),
                        format!(
                            "a pareto think time of shape {} has no mean, so the size of the \
                             run cannot be bounded; write a shape above 1 (e.g. 1.5)",
                            pareto.shape
                        ),
                    ));
                }
            }
        }
    }
    if let Some(load) = &clients.load {
        check_load(&format!("{base}.load"), load, &clients.arrival)?;
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
            let threshold = breaker
                .threshold
                .ok_or_else(|| required("threshold", "0.5"))?;
            // An average of outcomes reaches 1 only by float underflow, so a threshold
            // of 1 would never trip in practice (the model refuses it).
            if !(threshold.is_finite() && threshold > 0.0 && threshold < 1.0) {
                return Err(issue(
                    format!("{path}.threshold"),
                    format!(
                        "{threshold} is out of range for mode \"ewma\": write a number above 0 \
                         and below 1 (an average of failures never quite reaches 1; e.g. 0.5)"
                    ),
                ));
            }
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
