//! Semantic validation of a parsed scenario: limits first (before anything is allocated
//! for a run), then the rules the types cannot express. The first problem found, in file
//! order, is reported with its field path; [`super::load`] adds the line and column.

use core::time::Duration;

use super::limits::{
    MAX_ATTEMPTS, MAX_CLIENTS, MAX_DURATION_S, MAX_EVENTS, MAX_FAULTS, MAX_QUEUE_LIMIT,
    MAX_SERVERS, MAX_WINDOWS, MAX_WORKERS,
};
use super::{
    AdaptiveTimeoutSpec, Arrival, BackoffKindSpec, BreakerMode, BreakerSpec, BudgetSpec, Check,
    Clients, Dist, Dur, Fault, Network, Partition, RandomFault, Scenario, Selector, Servers,
    TimeoutSpec,
};

/// Engine events per attempt assumed by the event estimate (send, deliver, queue, serve,
/// reply, timer).
pub const EVENTS_PER_ATTEMPT: f64 = 6.0;

/// One problem in a scenario: the field path (`faults[2].omission.rate`) and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Issue {
    /// Field path, as in the file; empty for the whole scenario.
    pub path: String,
    /// What is wrong and what to write instead.
    pub message: String,
}

type Checked = Result<(), Issue>;

fn issue(path: impl Into<String>, message: impl Into<String>) -> Issue {
    Issue { path: path.into(), message: message.into() }
}

/// Checks size limits, then semantic rules in file order, then the event estimate (which
/// needs valid rates and counts); returns the first problem.
pub fn validate(scenario: &Scenario) -> Checked {
    check_limits(scenario)?;
    check_rules(scenario)?;
    check_event_estimate(scenario)
}

// ---------------------------------------------------------------------------------------
// Limits

/// Checks the size limits of [`super::limits`] (counts, duration, windows, faults).
pub fn check_limits(scenario: &Scenario) -> Checked {
    let max_duration = Duration::from_secs(MAX_DURATION_S);
    if scenario.duration.0 > max_duration {
        return Err(issue(
            "duration",
            format!(
                "{} exceeds the limit of {} (one day of simulated time)",
                scenario.duration,
                Dur(max_duration)
            ),
        ));
    }
    let clients = &scenario.workload.clients;
    let servers = &scenario.workload.servers;
    let counts = [
        ("workload.clients.count", clients.count, MAX_CLIENTS, "clients"),
        ("workload.clients.retry.max_attempts", clients.retry.max_attempts, MAX_ATTEMPTS, "attempts"),
        ("workload.servers.count", servers.count, MAX_SERVERS, "servers"),
        ("workload.servers.workers", servers.workers, MAX_WORKERS, "workers per server"),
        (
            "workload.servers.queue_limit",
            servers.queue_limit,
            MAX_QUEUE_LIMIT,
            "queued requests per server",
        ),
    ];
    for (path, value, limit, what) in counts {
        if value > limit {
            return Err(issue(path, format!("{value} exceeds the limit of {limit} {what}")));
        }
    }
    if scenario.faults.len() > MAX_FAULTS {
        return Err(issue(
            "faults",
            format!("{} faults exceed the limit of {MAX_FAULTS}", scenario.faults.len()),
        ));
    }
    if scenario.random_faults.len() > MAX_FAULTS {
        return Err(issue(
            "random_faults",
            format!(
                "{} random faults exceed the limit of {MAX_FAULTS}",
                scenario.random_faults.len()
            ),
        ));
    }
    let window = scenario.metrics.window.as_nanos();
    if window > 0 {
        let windows = scenario.duration.as_nanos().div_ceil(window);
        if windows > MAX_WINDOWS {
            return Err(issue(
                "metrics.window",
                format!(
                    "{} windows of {} in {} exceed the limit of {MAX_WINDOWS} windows \
                     (write a longer window)",
                    windows, scenario.metrics.window, scenario.duration
                ),
            ));
        }
    }
    Ok(())
}

/// Logical requests the workload offers per second, over all clients (an estimate for
/// closed loops: one request per think time plus a round trip and a service time).
pub fn offered_per_s(scenario: &Scenario) -> f64 {
    let clients = &scenario.workload.clients;
    let per_client = match &clients.arrival {
        Arrival::PoissonPerS(rate) => *rate,
        Arrival::ClosedLoop(closed) => {
            let cycle_ns = closed.think_time.mean_ns()
                + 2.0 * scenario.network.latency.mean_ns()
                + scenario.workload.servers.service_time.mean_ns();
            1e9 / cycle_ns
        }
    };
    f64::from(clients.count) * per_client
}

/// Checks that the run stays under [`MAX_EVENTS`]: offered requests x `max_attempts` x
/// [`EVENTS_PER_ATTEMPT`] (a worst case: every attempt fails and is retried).
pub fn check_event_estimate(scenario: &Scenario) -> Checked {
    let offered = offered_per_s(scenario) * scenario.duration.as_secs_f64();
    let attempts = f64::from(scenario.workload.clients.retry.max_attempts.max(1));
    let events = offered * attempts * EVENTS_PER_ATTEMPT;
    // NaN (0/0 for a closed loop with nothing in it) fails this test too.
    if !(events <= MAX_EVENTS as f64) {
        let offered_text =
            if offered.is_finite() { format!("{offered:.0}") } else { "endless".to_owned() };
        return Err(issue(
            "workload",
            format!(
                "this run would take about {events:.3e} events ({offered_text} requests x {attempts} \
                 attempts x {EVENTS_PER_ATTEMPT} events), over the limit of {MAX_EVENTS} events; \
                 lower workload.clients.count, the arrival rate, duration or \
                 workload.clients.retry.max_attempts"
            ),
        ));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Rules

/// The node families of a scenario: `client-0..` and `server-0..`.
#[derive(Clone, Copy, Debug)]
struct Nodes {
    clients: u32,
    servers: u32,
    duration: Dur,
}

impl Nodes {
    fn describe(&self) -> String {
        format!(
            "the nodes are client-0..client-{} and server-0..server-{}",
            self.clients.saturating_sub(1),
            self.servers.saturating_sub(1)
        )
    }

    /// Any node.
    fn check_any(&self, path: &str, selector: &Selector) -> Checked {
        if selector.matches_family("client-", self.clients)
            || selector.matches_family("server-", self.servers)
        {
            Ok(())
        } else {
            Err(issue(
                path,
                format!("selector {:?} matches no node: {}", selector.as_str(), self.describe()),
            ))
        }
    }

    /// Servers only.
    fn check_servers(&self, path: &str, selector: &Selector, what: &str) -> Checked {
        if selector.matches_family("client-", self.clients) {
            return Err(issue(
                path,
                format!(
                    "{what} targets servers only (client faults are not supported yet), but \
                     {:?} selects clients; write a server selector such as \"server-0\" or \
                     \"server-*\"",
                    selector.as_str()
                ),
            ));
        }
        if !selector.matches_family("server-", self.servers) {
            return Err(issue(
                path,
                format!(
                    "selector {:?} matches no server: the servers are server-0..server-{}",
                    selector.as_str(),
                    self.servers.saturating_sub(1)
                ),
            ));
        }
        Ok(())
    }
}

/// Checks every semantic rule (limits are assumed checked).
pub fn check_rules(scenario: &Scenario) -> Checked {
    check_name(&scenario.name)?;
    positive("duration", scenario.duration, "\"120s\"")?;
    let nodes = Nodes {
        clients: scenario.workload.clients.count,
        servers: scenario.workload.servers.count,
        duration: scenario.duration,
    };
    check_network(&scenario.network, &nodes)?;
    check_clients(&scenario.workload.clients)?;
    check_servers(&scenario.workload.servers)?;
    for (index, fault) in scenario.faults.iter().enumerate() {
        check_fault(&format!("faults[{index}]"), fault, &nodes)?;
    }
    for (index, fault) in scenario.random_faults.iter().enumerate() {
        check_random_fault(&format!("random_faults[{index}]"), fault, &nodes)?;
    }
    let window = scenario.metrics.window;
    positive("metrics.window", window, "\"1s\"")?;
    if window > scenario.duration {
        return Err(issue(
            "metrics.window",
            format!(
                "window {window} is longer than the run ({}); write at most the duration",
                scenario.duration
            ),
        ));
    }
    for (index, check) in scenario.checks.iter().enumerate() {
        check_check(&format!("checks[{index}]"), check)?;
    }
    Ok(())
}

fn check_name(name: &str) -> Checked {
    if name.trim().is_empty() {
        return Err(issue("name", "the name is empty; write a short name such as \"thundering-herd\""));
    }
    let safe = name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if !safe || name.starts_with('.') {
        return Err(issue(
            "name",
            format!(
                "{name:?} is used in output paths (runs/<name>/...): use only letters, digits, \
                 '-', '_' and '.', not starting with '.' (e.g. \"thundering-herd\")"
            ),
        ));
    }
    Ok(())
}

fn positive(path: &str, value: Dur, example: &str) -> Checked {
    if value.0.is_zero() {
        return Err(issue(path, format!("must be above 0 (write e.g. {example})")));
    }
    Ok(())
}

fn rate(path: &str, value: f64) -> Checked {
    if !(value.is_finite() && (0.0..=1.0).contains(&value)) {
        return Err(issue(
            path,
            format!("{value} is not a probability: write a number from 0 to 1 (e.g. 0.05)"),
        ));
    }
    Ok(())
}

/// In (0, 1].
fn unit_fraction(path: &str, value: f64, example: &str) -> Checked {
    if !(value.is_finite() && value > 0.0 && value <= 1.0) {
        return Err(issue(
            path,
            format!("{value} is out of range: write a number above 0 and at most 1 (e.g. {example})"),
        ));
    }
    Ok(())
}

fn dist(path: &str, value: &Dist) -> Checked {
    value.validate().map_err(|message| issue(path, message))
}

fn check_network(network: &Network, nodes: &Nodes) -> Checked {
    dist("network.latency", &network.latency)?;
    rate("network.drop_rate", network.drop_rate)?;
    for (index, link) in network.links.iter().enumerate() {
        let path = format!("network.links[{index}]");
        nodes.check_any(&format!("{path}.from"), &link.from)?;
        nodes.check_any(&format!("{path}.to"), &link.to)?;
        if let Some(latency) = &link.latency {
            dist(&format!("{path}.latency"), latency)?;
        }
        if let Some(drop_rate) = link.drop_rate {
            rate(&format!("{path}.drop_rate"), drop_rate)?;
        }
    }
    Ok(())
}

fn check_clients(clients: &Clients) -> Checked {
    let base = "workload.clients";
    if clients.count == 0 {
        return Err(issue(format!("{base}.count"), "must be at least 1 (write e.g. 100)"));
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
            dist(&format!("{base}.arrival.closed_loop.think_time"), &closed.think_time)?;
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

fn check_retry(path: &str, clients: &Clients) -> Checked {
    let retry = &clients.retry;
    if retry.max_attempts == 0 {
        return Err(issue(
            format!("{path}.max_attempts"),
            "must be at least 1: it counts the first try (write 1 for no retries)",
        ));
    }
    let backoff = &retry.backoff;
    if backoff.kind == BackoffKindSpec::Exponential {
        positive(&format!("{path}.backoff.base"), backoff.base, "\"100ms\"")?;
    }
    if backoff.cap < backoff.base {
        return Err(issue(
            format!("{path}.backoff.cap"),
            format!("cap {} is below base {}; write cap >= base", backoff.cap, backoff.base),
        ));
    }
    match &retry.budget {
        None => {}
        Some(BudgetSpec::TokenBucket(bucket)) => {
            let path = format!("{path}.budget.token_bucket");
            if bucket.capacity == 0 {
                return Err(issue(format!("{path}.capacity"), "must be at least 1 (AWS: 500)"));
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
                    format!("{} is out of range: write 1s to 60s (tower: \"10s\")", ratio.ttl),
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
    let window_mode = matches!(breaker.mode, BreakerMode::CountWindow | BreakerMode::TimeWindow);
    // (field, present, applies to this mode, the modes it applies to)
    let fields = [
        ("failures", breaker.failures.is_some(), breaker.mode == BreakerMode::Consecutive, "consecutive"),
        ("alpha", breaker.alpha.is_some(), breaker.mode == BreakerMode::Ewma, "ewma"),
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
        ("window", breaker.window.is_some(), breaker.mode == BreakerMode::TimeWindow, "time_window"),
        ("min_calls", breaker.min_calls.is_some(), window_mode, "count_window and time_window"),
        ("slow_call", breaker.slow_call.is_some(), window_mode, "count_window and time_window"),
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
                format!("\"{field}\" does not apply to mode \"{mode}\" (only to {modes}); remove it"),
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
                return Err(issue(format!("{path}.failures"), "must be at least 1 (e.g. 5)"));
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
                return Err(issue(format!("{path}.window_calls"), "must be at least 1 (e.g. 100)"));
            }
            Some(_) => {}
        },
        BreakerMode::TimeWindow => {
            let window = breaker.window.ok_or_else(|| required("window", "\"60s\""))?;
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
        let threshold = breaker.threshold.ok_or_else(|| required("threshold", "0.5"))?;
        unit_fraction(&format!("{path}.threshold"), threshold, "0.5")?;
    }
    if let Some(min_calls) = breaker.min_calls {
        if min_calls == 0 {
            return Err(issue(format!("{path}.min_calls"), "must be at least 1 (e.g. 10)"));
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
        return Err(issue(format!("{path}.half_open_probes"), "must be at least 1 (e.g. 2)"));
    }
    if let Some(growth) = breaker.open_growth {
        if !(growth.is_finite() && growth >= 1.0) {
            return Err(issue(
                format!("{path}.open_growth"),
                format!("{growth} is out of range: write a factor of at least 1 (1 = fixed, e.g. 2)"),
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
        return Err(issue(format!("{base}.count"), "must be at least 1 (write e.g. 3)"));
    }
    if servers.workers == 0 {
        return Err(issue(format!("{base}.workers"), "must be at least 1 (write e.g. 8)"));
    }
    dist(&format!("{base}.service_time"), &servers.service_time)?;
    if let Some(shed_after) = servers.shed_after {
        positive(&format!("{base}.shed_after"), shed_after, "\"200ms\"")?;
    }
    Ok(())
}

/// Fault kinds, their keys, and whether they last for a window (`for`).
const KINDS: [&str; 7] = ["crash", "partition", "omission", "timing", "pause", "clock", "slowdown"];

fn fault_kinds(fault: &Fault) -> [bool; 7] {
    [
        fault.crash.is_some(),
        fault.partition.is_some(),
        fault.omission.is_some(),
        fault.timing.is_some(),
        fault.pause.is_some(),
        fault.clock.is_some(),
        fault.slowdown.is_some(),
    ]
}

fn check_fault(path: &str, fault: &Fault, nodes: &Nodes) -> Checked {
    let present = fault_kinds(fault);
    let mut kinds = KINDS.iter().zip(present).filter(|(_, present)| *present).map(|(kind, _)| *kind);
    let Some(kind) = kinds.next() else {
        return Err(issue(
            path,
            format!(
                "no fault kind: write one of {}",
                KINDS.map(|kind| format!("\"{kind}\"")).join(", ")
            ),
        ));
    };
    if let Some(second) = kinds.next() {
        return Err(issue(
            format!("{path}.{second}"),
            format!(
                "one fault kind per entry: this entry has both \"{kind}\" and \"{second}\"; \
                 split it into two entries"
            ),
        ));
    }
    let duration = nodes.duration;
    if fault.at > duration {
        return Err(issue(
            format!("{path}.at"),
            format!("{} is past the end of the run (duration {duration})", fault.at),
        ));
    }
    let windowed = !matches!(kind, "crash" | "clock");
    match (windowed, fault.for_) {
        (true, None) => {
            return Err(issue(
                path,
                format!("a {kind} fault needs \"for\", how long it lasts (e.g. \"for\": \"5s\")"),
            ));
        }
        (true, Some(length)) => {
            positive(&format!("{path}.for"), length, "\"5s\"")?;
            let end = fault.at.0.checked_add(length.0);
            if end.is_none_or(|end| end > duration.0) {
                let room = duration.0.saturating_sub(fault.at.0);
                return Err(issue(
                    format!("{path}.for"),
                    format!(
                        "the fault would end at {} + {length}, past the end of the run \
                         (duration {duration}); write \"for\" of at most {}",
                        fault.at,
                        Dur(room)
                    ),
                ));
            }
        }
        (false, Some(_)) => {
            let instead = if kind == "crash" {
                "write \"restart_after\" to bring the node back"
            } else {
                "a clock fault lasts to the end of the run; add a later clock fault to change \
                 the clock again"
            };
            return Err(issue(
                format!("{path}.for"),
                format!("\"for\" does not apply to a {kind} fault ({instead})"),
            ));
        }
        (false, None) => {}
    }
    if let Some(restart_after) = fault.restart_after {
        if kind != "crash" {
            return Err(issue(
                format!("{path}.restart_after"),
                format!("\"restart_after\" applies only to crash faults; remove it (a {kind} fault uses \"for\")"),
            ));
        }
        positive(&format!("{path}.restart_after"), restart_after, "\"10s\"")?;
    }
    if let Some(selector) = &fault.crash {
        nodes.check_servers(&format!("{path}.crash"), selector, "crash")?;
    }
    if let Some(selector) = &fault.pause {
        nodes.check_servers(&format!("{path}.pause"), selector, "pause")?;
    }
    if let Some(partition) = &fault.partition {
        let path = format!("{path}.partition");
        match partition {
            Partition::Groups(groups) => {
                if groups.len() < 2 {
                    return Err(issue(
                        path,
                        "a partition needs at least two groups, e.g. [[\"client-*\"], [\"server-*\"]] \
                         (to cut one node off, write {\"isolate\": \"server-0\"})",
                    ));
                }
                for (group_index, group) in groups.iter().enumerate() {
                    if group.is_empty() {
                        return Err(issue(
                            format!("{path}[{group_index}]"),
                            "empty group: write at least one node selector, e.g. [\"server-0\"]",
                        ));
                    }
                    for (index, selector) in group.iter().enumerate() {
                        nodes.check_any(&format!("{path}[{group_index}][{index}]"), selector)?;
                    }
                }
            }
            Partition::OneWay(one_way) => {
                nodes.check_any(&format!("{path}.from"), &one_way.from)?;
                nodes.check_any(&format!("{path}.to"), &one_way.to)?;
            }
            Partition::Isolate(isolate) => {
                nodes.check_any(&format!("{path}.isolate"), &isolate.isolate)?;
            }
        }
    }
    if let Some(omission) = &fault.omission {
        let path = format!("{path}.omission");
        nodes.check_any(&format!("{path}.from"), &omission.from)?;
        nodes.check_any(&format!("{path}.to"), &omission.to)?;
        rate(&format!("{path}.rate"), omission.rate)?;
    }
    if let Some(timing) = &fault.timing {
        let path = format!("{path}.timing");
        nodes.check_any(&format!("{path}.from"), &timing.from)?;
        nodes.check_any(&format!("{path}.to"), &timing.to)?;
        dist(&format!("{path}.extra_latency"), &timing.extra_latency)?;
    }
    if let Some(clock) = &fault.clock {
        let path = format!("{path}.clock");
        nodes.check_any(&format!("{path}.node"), &clock.node)?;
        if !(clock.drift_ppm.is_finite() && clock.drift_ppm.abs() < 1e6) {
            return Err(issue(
                format!("{path}.drift_ppm"),
                format!(
                    "{} is out of range: write parts per million above -1000000 and below \
                     1000000 (e.g. 200)",
                    clock.drift_ppm
                ),
            ));
        }
    }
    if let Some(slowdown) = &fault.slowdown {
        let path = format!("{path}.slowdown");
        nodes.check_servers(&format!("{path}.node"), &slowdown.node, "slowdown")?;
        if !(slowdown.factor.is_finite() && slowdown.factor > 0.0) {
            return Err(issue(
                format!("{path}.factor"),
                format!(
                    "{} is not a factor: write a number above 0 (5 = five times slower)",
                    slowdown.factor
                ),
            ));
        }
    }
    Ok(())
}

fn check_random_fault(path: &str, fault: &RandomFault, nodes: &Nodes) -> Checked {
    match (&fault.crash, &fault.pause) {
        (Some(selector), None) => nodes.check_servers(&format!("{path}.crash"), selector, "crash")?,
        (None, Some(selector)) => nodes.check_servers(&format!("{path}.pause"), selector, "pause")?,
        (Some(_), Some(_)) => {
            return Err(issue(
                format!("{path}.pause"),
                "one fault kind per entry: this entry has both \"crash\" and \"pause\"; split it \
                 into two entries",
            ));
        }
        (None, None) => {
            return Err(issue(
                path,
                "no fault kind: write \"crash\" or \"pause\" with a server selector (e.g. \
                 \"crash\": \"server-*\")",
            ));
        }
    }
    positive(&format!("{path}.mtbf"), fault.mtbf, "\"60s\"")?;
    positive(&format!("{path}.mttr"), fault.mttr, "\"5s\"")?;
    Ok(())
}

fn check_check(path: &str, check: &Check) -> Checked {
    match check {
        Check::AvailabilityAtLeast(value) => rate(&format!("{path}.availability_at_least"), *value),
        Check::AvailabilityAtMost(value) => rate(&format!("{path}.availability_at_most"), *value),
        Check::P99LatencyAtMost(value) => {
            positive(&format!("{path}.p99_latency_at_most"), *value, "\"1s\"")
        }
        Check::P50LatencyAtMost(value) => {
            positive(&format!("{path}.p50_latency_at_most"), *value, "\"100ms\"")
        }
        Check::RetryAmplificationAtMost(value) => {
            non_negative(&format!("{path}.retry_amplification_at_most"), *value, "1.5")
        }
        Check::PeakArrivalsPerSAtMost(value) => {
            non_negative(&format!("{path}.peak_arrivals_per_s_at_most"), *value, "2000")
        }
    }
}

fn non_negative(path: &str, value: f64, example: &str) -> Checked {
    if !(value.is_finite() && value >= 0.0) {
        return Err(issue(
            path,
            format!("{value} is out of range: write a number of at least 0 (e.g. {example})"),
        ));
    }
    Ok(())
}
