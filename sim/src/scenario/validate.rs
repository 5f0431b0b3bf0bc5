//! Semantic validation of a parsed scenario's core (name, duration, network, faults,
//! windows, checks): limits first (before anything is allocated for a run), then the
//! rules the types cannot express. Each workload checks its own part the same way
//! (`workload/<kind>/`), with the helpers here. The first problem found is reported with
//! its field path; [`super::load`] adds the line and column.

use core::time::Duration;

use super::check::{Check, CheckSpec};
use super::limits::{
    BASE_MEMORY_BYTES, MAX_DURATION_S, MAX_EVENTS, MAX_FAULTS, MAX_LINKS, MAX_MEMORY_BYTES,
    MAX_NAME_CHARS, MAX_NODE_SET_BYTES, MAX_PARTITION_GROUPS, MAX_SELECTORS_PER_GROUP, MAX_WINDOWS,
    RANDOM_FAULT_MARGIN,
};
use super::{Dur, Fault, Network, Partition, RandomFault, Scenario, Selector};
use crate::engine::faults::MAX_FAULT_ACTIONS;
use crate::engine::nodes::{Family, NodeFaults, Topology};
use crate::workload::{EventEstimate, MemoryEstimate};

pub use crate::format::issue::{
    dist, issue, non_negative, positive, rate, unit_fraction, Checked, Issue,
};

// ---------------------------------------------------------------------------------------
// Limits

/// Checks the kernel's size limits of [`super::limits`] (duration, faults, windows).
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
    if scenario.faults.len() > MAX_FAULTS {
        return Err(issue(
            "faults",
            format!(
                "{} faults exceed the limit of {MAX_FAULTS}",
                scenario.faults.len()
            ),
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
    let name_chars = scenario.name.chars().count();
    if name_chars > MAX_NAME_CHARS {
        return Err(issue(
            "name",
            format!(
                "the name is {name_chars} characters, over the limit of {MAX_NAME_CHARS} \
                 (it names the output directory); write a short name such as \"thundering-herd\""
            ),
        ));
    }
    let links = scenario.network.links.len();
    if links > MAX_LINKS {
        return Err(issue(
            "network.links",
            format!(
                "{links} link rules exceed the limit of {MAX_LINKS} (each message is matched \
                 against them in order); merge rules with selectors such as \"client-*\""
            ),
        ));
    }
    for (index, fault) in scenario.faults.iter().enumerate() {
        let Some(Partition::Groups(groups)) = &fault.partition else {
            continue;
        };
        let path = format!("faults[{index}].partition");
        if groups.len() > MAX_PARTITION_GROUPS {
            return Err(issue(
                path,
                format!(
                    "{} groups exceed the limit of {MAX_PARTITION_GROUPS} groups per partition",
                    groups.len()
                ),
            ));
        }
        for (group_index, group) in groups.iter().enumerate() {
            if group.len() > MAX_SELECTORS_PER_GROUP {
                return Err(issue(
                    format!("{path}[{group_index}]"),
                    format!(
                        "{} selectors exceed the limit of {MAX_SELECTORS_PER_GROUP} per group; \
                         select many nodes at once with a prefix such as \"client-*\"",
                        group.len()
                    ),
                ));
            }
        }
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

/// Checks the memory the fault plan and the link rules take once built, against the
/// workload's nodes: the node sets they hold ([`MAX_NODE_SET_BYTES`]) and the fault
/// actions, scheduled ones counted exactly and random ones by their expected number
/// with a margin ([`RANDOM_FAULT_MARGIN`]), against [`MAX_FAULT_ACTIONS`].
pub fn check_plan_size(scenario: &Scenario, topology: &Topology) -> Checked {
    let set_bytes = u64::from(topology.node_count()).div_ceil(64) * 8;
    let mut sets: u64 = 2 * scenario.network.links.len() as u64;
    let mut actions: u64 = 0;
    let targets = |selector: &Selector, accepts: fn(&NodeFaults) -> bool| -> u64 {
        topology
            .families()
            .iter()
            .filter(|family| accepts(&family.faults))
            .map(|family| selector.count_in_family(family.prefix, family.count))
            .sum()
    };
    for fault in &scenario.faults {
        if let Some(selector) = &fault.crash {
            let per_node = if fault.restart_after.is_some() { 2 } else { 1 };
            actions += per_node * targets(selector, |f| f.crash);
        } else if let Some(selector) = &fault.pause {
            actions += 2 * targets(selector, |f| f.pause);
        } else if let Some(slowdown) = &fault.slowdown {
            // Two actions, each holding the list of its servers.
            actions += 2 * targets(&slowdown.node, |f| f.slowdown).max(1);
        } else {
            actions += 2;
            sets += match &fault.partition {
                Some(Partition::Groups(groups)) => groups.len() as u64,
                Some(Partition::OneWay(_)) => 2,
                Some(Partition::Isolate(_)) => 1,
                None if fault.clock.is_some() => 1,
                None => 2,
            };
        }
    }
    if sets.saturating_mul(set_bytes) > MAX_NODE_SET_BYTES {
        return Err(issue(
            "faults",
            format!(
                "the link rules and network faults would hold {sets} node sets of {set_bytes} \
                 bytes ({} nodes), {} MiB, over the limit of {} MiB; use fewer faults or \
                 partition groups",
                topology.node_count(),
                sets.saturating_mul(set_bytes) >> 20,
                MAX_NODE_SET_BYTES >> 20
            ),
        ));
    }
    let limit = MAX_FAULT_ACTIONS as f64;
    if actions as f64 > limit {
        return Err(issue(
            "faults",
            format!(
                "the faults would take {actions} fault actions (one per node and start or end), \
                 over the limit of {MAX_FAULT_ACTIONS}; select fewer nodes or write fewer faults"
            ),
        ));
    }
    let duration_ns = scenario.duration.as_nanos() as f64;
    let mut expected = 0.0;
    let mut largest: Option<(usize, f64)> = None;
    for (index, random) in scenario.random_faults.iter().enumerate() {
        let nodes = match (&random.crash, &random.pause) {
            (Some(selector), _) => targets(selector, |f| f.crash),
            (None, Some(selector)) => targets(selector, |f| f.pause),
            (None, None) => 0,
        };
        // Up-times of mean mtbf and down-times of mean mttr alternate: about
        // duration / (mtbf + mttr) cycles per node, plus the one cut short at the end;
        // a cycle is two actions.
        let cycle_ns = (random.mtbf.as_nanos() as f64 + random.mttr.as_nanos() as f64).max(1.0);
        let process = nodes as f64 * (duration_ns / cycle_ns + 1.0) * 2.0;
        expected += process;
        if largest.is_none_or(|(_, most)| process > most) {
            largest = Some((index, process));
        }
    }
    if let Some((index, _)) = largest {
        let total = actions as f64 + RANDOM_FAULT_MARGIN * expected;
        if total > limit {
            return Err(issue(
                format!("random_faults[{index}].mtbf"),
                format!(
                    "the random faults would draw about {expected:.0} fault actions \
                     (nodes x duration / (mtbf + mttr) x 2, plus {actions} scheduled), and \
                     {RANDOM_FAULT_MARGIN} times that exceeds the limit of {MAX_FAULT_ACTIONS}; \
                     raise mtbf, shorten the run or select fewer nodes"
                ),
            ));
        }
    }
    Ok(())
}

/// Checks that the run stays under [`MAX_EVENTS`] by the workload's estimate.
pub fn check_event_estimate(estimate: &EventEstimate) -> Checked {
    let events = estimate.events;
    // NaN (0/0 for a closed loop with nothing in it) is refused too.
    if events.is_nan() || events > MAX_EVENTS as f64 {
        let size = if events.is_finite() {
            format!("about {events:.3e} events")
        } else {
            "endless events".to_owned()
        };
        return Err(issue(
            "workload",
            format!(
                "this run would take {size} ({}), over the limit of {MAX_EVENTS} events; \
                 lower {}",
                estimate.reckoning, estimate.advice
            ),
        ));
    }
    Ok(())
}

/// Checks that the run stays under [`MAX_MEMORY_BYTES`] by the workload's estimate plus
/// [`BASE_MEMORY_BYTES`]; the message names the largest part and points at its field.
pub fn check_memory_estimate(estimate: &MemoryEstimate) -> Checked {
    let total = BASE_MEMORY_BYTES as f64 + estimate.bytes();
    // NaN (an estimate of a run without bound) is refused too.
    if total.is_nan() || total > MAX_MEMORY_BYTES as f64 {
        let Some(largest) = estimate.largest() else {
            return Err(issue("workload", "this run's memory cannot be bounded"));
        };
        let others: Vec<String> = estimate
            .parts
            .iter()
            .filter(|part| !std::ptr::eq(*part, largest) && part.bytes >= (1u64 << 20) as f64)
            .map(|part| format!("{} ~ {}", part.what, bytes_text(part.bytes)))
            .collect();
        let others = if others.is_empty() {
            String::new()
        } else {
            format!(" (besides: {})", others.join(", "))
        };
        return Err(issue(
            largest.path,
            format!(
                "this run would hold about {} in memory, over the limit of {}; the most is {}: \
                 {} ~ {}{others}; {}",
                bytes_text(total),
                bytes_text(MAX_MEMORY_BYTES as f64),
                largest.what,
                largest.reckoning,
                bytes_text(largest.bytes),
                largest.advice
            ),
        ));
    }
    Ok(())
}

/// Bytes in words, in binary units: `1 GiB`, `2.3 GiB`, `412 MiB`.
pub fn bytes_text(bytes: f64) -> String {
    if !bytes.is_finite() {
        return "endless bytes".to_owned();
    }
    let (value, unit) = if bytes >= (1u64 << 30) as f64 {
        (bytes / (1u64 << 30) as f64, "GiB")
    } else if bytes >= (1u64 << 20) as f64 {
        (bytes / (1u64 << 20) as f64, "MiB")
    } else {
        (bytes / 1024.0, "KiB")
    };
    let digits = if value >= 10.0 {
        format!("{value:.0}")
    } else {
        format!("{value:.1}")
    };
    format!("{} {unit}", digits.trim_end_matches(".0"))
}

// ---------------------------------------------------------------------------------------
// Rules

/// The nodes of a scenario, as its workload declares them, for checking selectors.
#[derive(Clone, Copy, Debug)]
pub struct Nodes<'a> {
    topology: &'a Topology,
    duration: Dur,
}

impl<'a> Nodes<'a> {
    /// The nodes of `topology` in a run of `duration`.
    pub fn new(topology: &'a Topology, duration: Dur) -> Self {
        Nodes { topology, duration }
    }

    fn describe(&self) -> String {
        let families: Vec<String> = self
            .topology
            .families()
            .iter()
            .map(|family| family_range(family.prefix, family.count))
            .collect();
        format!("existing: {}", families.join(", "))
    }

    /// Any node.
    fn check_any(&self, path: &str, selector: &Selector) -> Checked {
        if self
            .topology
            .families()
            .iter()
            .any(|family| selector.matches_family(family.prefix, family.count))
        {
            Ok(())
        } else {
            Err(issue(
                path,
                format!(
                    "selector {:?} matches no node ({})",
                    selector.as_str(),
                    self.describe()
                ),
            ))
        }
    }

    /// Only nodes whose family accepts the fault `accepts` picks (`what`: `crash`).
    fn check_node_fault(
        &self,
        path: &str,
        selector: &Selector,
        what: &str,
        accepts: fn(&NodeFaults) -> bool,
    ) -> Checked {
        let families = self.topology.families();
        let (accepting, refusing): (Vec<&Family>, Vec<&Family>) =
            families.iter().partition(|family| accepts(&family.faults));
        let names = accepting
            .iter()
            .map(|family| plural_of(family.prefix))
            .collect::<Vec<_>>()
            .join(" and ");
        if let Some(refused) = refusing
            .iter()
            .find(|family| selector.matches_family(family.prefix, family.count))
        {
            let refused_name = plural_of(refused.prefix);
            let advice = match accepting.first() {
                Some(family) => format!(
                    "{what} targets {names} only ({refused_name} take no {what} faults), but {:?} \
                     selects {refused_name}; write a selector such as \"{1}0\" or \"{1}*\"",
                    selector.as_str(),
                    family.prefix
                ),
                None => format!(
                    "no node of this workload takes {what} faults, but {:?} selects {refused_name}",
                    selector.as_str()
                ),
            };
            return Err(issue(path, advice));
        }
        if !accepting
            .iter()
            .any(|family| selector.matches_family(family.prefix, family.count))
        {
            let singular = names.trim_end_matches('s');
            let existing: Vec<String> = accepting
                .iter()
                .map(|family| family_range(family.prefix, family.count))
                .collect();
            return Err(issue(
                path,
                format!(
                    "selector {:?} matches no {singular} (existing: {})",
                    selector.as_str(),
                    existing.join(", ")
                ),
            ));
        }
        Ok(())
    }
}

/// The family's nodes in words: `"server-"` is `servers`.
fn plural_of(prefix: &str) -> String {
    format!("{}s", prefix.trim_end_matches('-'))
}

/// `server-0`, or `server-0..server-{count-1}`.
fn family_range(family: &str, count: u32) -> String {
    match count {
        0 => format!("no {family}* nodes"),
        1 => format!("{family}0"),
        _ => format!("{family}0..{family}{}", count - 1),
    }
}

/// Checks the rules of the scenario's top-level fields that need no nodes: the name,
/// the duration and the metrics window.
pub fn check_basics(scenario: &Scenario) -> Checked {
    check_name(&scenario.name)?;
    positive("duration", scenario.duration, "\"120s\"")?;
    if let Some(availability) = scenario.slo.availability {
        rate("slo.availability", availability)?;
    }
    if let Some(latency) = scenario.slo.latency {
        positive("slo.latency", latency, "\"500ms\"")?;
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
    Ok(())
}

/// Checks the network and the faults against the workload's nodes, and the checks
/// against the ones the workload offers.
pub fn check_rules(scenario: &Scenario, nodes: &Nodes<'_>, offered: &[CheckSpec]) -> Checked {
    check_network(&scenario.network, nodes)?;
    for (index, fault) in scenario.faults.iter().enumerate() {
        check_fault(&format!("faults[{index}]"), fault, nodes)?;
    }
    for (index, fault) in scenario.random_faults.iter().enumerate() {
        check_random_fault(&format!("random_faults[{index}]"), fault, nodes)?;
    }
    for (index, check) in scenario.checks.iter().enumerate() {
        check_check(
            &format!("checks[{index}]"),
            check,
            offered,
            scenario.workload.kind(),
        )?;
    }
    Ok(())
}

fn check_name(name: &str) -> Checked {
    if name.trim().is_empty() {
        return Err(issue(
            "name",
            "the name is empty; write a short name such as \"thundering-herd\"",
        ));
    }
    let safe = name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
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

/// The fault kinds: the key that names an entry's kind.
pub const FAULT_KINDS: [&str; 8] = [
    "crash",
    "partition",
    "omission",
    "timing",
    "pause",
    "clock",
    "slowdown",
    "disk",
];

fn fault_kinds(fault: &Fault) -> [bool; 8] {
    [
        fault.crash.is_some(),
        fault.partition.is_some(),
        fault.omission.is_some(),
        fault.timing.is_some(),
        fault.pause.is_some(),
        fault.clock.is_some(),
        fault.slowdown.is_some(),
        fault.disk.is_some(),
    ]
}

fn check_fault(path: &str, fault: &Fault, nodes: &Nodes) -> Checked {
    let present = fault_kinds(fault);
    let mut kinds = FAULT_KINDS
        .iter()
        .zip(present)
        .filter(|(_, present)| *present)
        .map(|(kind, _)| *kind);
    let Some(kind) = kinds.next() else {
        return Err(issue(
            path,
            format!(
                "no fault kind: write one of {}",
                FAULT_KINDS.map(|kind| format!("\"{kind}\"")).join(", ")
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
            format!(
                "{} is past the end of the run (duration {duration})",
                fault.at
            ),
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
        nodes.check_node_fault(&format!("{path}.crash"), selector, "crash", |f| f.crash)?;
    }
    if let Some(selector) = &fault.pause {
        nodes.check_node_fault(&format!("{path}.pause"), selector, "pause", |f| f.pause)?;
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
    if let Some(disk) = &fault.disk {
        let path = format!("{path}.disk");
        nodes.check_node_fault(&format!("{path}.node"), &disk.node, "disk", |f| f.disk)?;
        if let super::DiskFaultKind::ReadCorruption(rate) = disk.fault {
            unit_fraction(&format!("{path}.fault.read_corruption"), rate, "0.01")?;
        }
    }
    if let Some(slowdown) = &fault.slowdown {
        let path = format!("{path}.slowdown");
        nodes.check_node_fault(&format!("{path}.node"), &slowdown.node, "slowdown", |f| {
            f.slowdown
        })?;
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
        (Some(selector), None) => {
            nodes.check_node_fault(&format!("{path}.crash"), selector, "crash", |f| f.crash)?
        }
        (None, Some(selector)) => {
            nodes.check_node_fault(&format!("{path}.pause"), selector, "pause", |f| f.pause)?
        }
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
                "no fault kind: write \"crash\" or \"pause\" with a node selector (e.g. \
                 \"crash\": \"server-*\")",
            ));
        }
    }
    positive(&format!("{path}.mtbf"), fault.mtbf, "\"60s\"")?;
    positive(&format!("{path}.mttr"), fault.mttr, "\"5s\"")?;
    Ok(())
}

fn check_check(path: &str, check: &Check, offered: &[CheckSpec], kind: &str) -> Checked {
    let Some(spec) = offered.iter().find(|spec| spec.name == check.name) else {
        let names: Vec<String> = offered
            .iter()
            .map(|spec| format!("\"{}\"", spec.name))
            .collect();
        return Err(issue(
            format!("{path}.{}", check.name),
            format!(
                "unknown check {:?}; a {kind} workload offers {}",
                check.name,
                names.join(", ")
            ),
        ));
    };
    spec.accepts(&check.bound)
        .map_err(|message| issue(format!("{path}.{}", check.name), message))
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use super::super::{load_str, ScenarioError};

    /// The example of DESIGN.md: every kind of fault, valid.
    fn base() -> Value {
        json!({
            "$schema": "schema.json",
            "name": "thundering-herd",
            "seed": 7,
            "duration": "120s",
            "network": {"latency": {"uniform": ["1ms", "5ms"]}, "drop_rate": 0.0},
            "workload": {
                "kind": "rpc",
                "clients": {
                    "count": 1000,
                    "arrival": {"poisson_per_s": 1.0},
                    "timeout": "500ms",
                    "retry": {"max_attempts": 6,
                              "backoff": {"base": "100ms", "cap": "10s", "jitter": "full"}},
                    "breaker": {"mode": "ewma", "alpha": 0.1, "threshold": 0.5,
                                "open_for": "5s", "half_open_probes": 2}
                },
                "servers": {"count": 1, "workers": 8,
                            "service_time": {"exponential": "5ms"}, "queue_limit": 200}
            },
            "faults": [
                {"at": "30s", "crash": "server-0", "restart_after": "10s"},
                {"at": "60s", "for": "5s", "partition": [["client-*"], ["server-*"]]},
                {"at": "70s", "for": "5s", "partition": {"from": "server-*", "to": "client-*"}},
                {"at": "80s", "for": "10s", "omission": {"from": "*", "to": "server-0", "rate": 0.3}},
                {"at": "90s", "for": "10s", "timing": {"to": "server-0",
                    "extra_latency": {"uniform": ["100ms", "400ms"]}}},
                {"at": "95s", "for": "2s", "pause": "server-0"},
                {"at": "0s", "clock": {"node": "server-0", "skew": "250ms", "drift_ppm": 200}}
            ],
            "random_faults": [{"crash": "server-*", "mtbf": "60s", "mttr": "5s"}],
            "metrics": {"window": "1s"},
            "checks": [{"availability_at_least": 0.95}, {"p99_latency_at_most": "1s"}]
        })
    }

    /// Sets `pointer` (JSON pointer) to `value` in the base scenario (null removes it).
    fn with(changes: &[(&str, Value)]) -> Value {
        let mut doc = base();
        for (pointer, value) in changes {
            let (parent, key) = pointer.rsplit_once('/').unwrap();
            let target = doc
                .pointer_mut(parent)
                .unwrap_or_else(|| panic!("no {parent}"));
            match target {
                Value::Object(map) if value.is_null() => {
                    map.remove(key);
                }
                Value::Object(map) => {
                    map.insert(key.to_owned(), value.clone());
                }
                Value::Array(items) => items[key.parse::<usize>().unwrap()] = value.clone(),
                _ => panic!("{parent} is not a container"),
            }
        }
        doc
    }

    fn load(doc: &Value) -> Result<(), ScenarioError> {
        let text = serde_json::to_string_pretty(doc).unwrap();
        load_str(&text, "t.json").map(|_| ())
    }

    /// Asserts that the change is refused at `path` with a message containing `fragment`,
    /// and that the error has a location.
    #[track_caller]
    fn refused(changes: &[(&str, Value)], path: &str, fragment: &str) {
        let err = load(&with(changes)).expect_err("should be refused");
        assert_eq!(err.path, path, "{err}");
        assert!(
            err.message.contains(fragment),
            "{err}\n  wanted: {fragment}"
        );
        assert!(err.line > 0 && err.column > 0, "{err}");
    }

    #[test]
    fn the_design_example_is_valid() {
        load(&base()).unwrap();
    }

    #[test]
    fn top_level_rules() {
        refused(&[("/name", json!(""))], "name", "empty");
        refused(&[("/name", json!("a/b"))], "name", "output paths");
        refused(&[("/duration", json!("0s"))], "duration", "above 0");
        refused(
            &[("/duration", json!("2d"))],
            "duration",
            "exceeds the limit of 1day",
        );
        refused(
            &[("/metrics/window", json!("0s"))],
            "metrics.window",
            "above 0",
        );
        refused(
            &[("/metrics/window", json!("121s"))],
            "metrics.window",
            "longer than the run",
        );
        refused(
            &[
                ("/duration", json!("86400s")),
                ("/metrics/window", json!("1ms")),
                ("/faults", json!([])),
            ],
            "metrics.window",
            "limit of 1000000 windows",
        );
        refused(
            &[("/network/drop_rate", json!(1.5))],
            "network.drop_rate",
            "from 0 to 1",
        );
        refused(
            &[("/network/latency", json!({"uniform": ["5ms", "1ms"]}))],
            "network.latency",
            "out of order",
        );
        refused(
            &[(
                "/network/links",
                json!([{"from": "*", "to": "server-0", "drop_rate": -0.1}]),
            )],
            "network.links[0].drop_rate",
            "probability",
        );
        refused(
            &[(
                "/network/links",
                json!([{"from": "client-1000", "to": "*"}]),
            )],
            "network.links[0].from",
            "matches no node",
        );
    }

    #[test]
    fn workload_rules() {
        let c = "/workload/clients";
        refused(
            &[(&format!("{c}/count"), json!(0))],
            "workload.clients.count",
            "at least 1",
        );
        refused(
            &[(&format!("{c}/count"), json!(5_000_000))],
            "workload.clients.count",
            "5000000 exceeds the limit of 1000000 clients",
        );
        refused(
            &[("/workload/servers/count", json!(0))],
            "workload.servers.count",
            "at least 1",
        );
        refused(
            &[("/workload/servers/count", json!(1_000_000))],
            "workload.servers.count",
            "exceeds the limit of 10000 servers",
        );
        refused(
            &[("/workload/servers/workers", json!(0))],
            "workload.servers.workers",
            "at least 1",
        );
        refused(
            &[("/workload/servers/queue_limit", json!(2_000_000))],
            "workload.servers.queue_limit",
            "limit of 1000000",
        );
        refused(
            &[(
                "/workload/servers/service_time",
                json!({"exponential": "0s"}),
            )],
            "workload.servers.service_time",
            "above 0",
        );
        refused(
            &[(&format!("{c}/arrival"), json!({"poisson_per_s": 0.0}))],
            "workload.clients.arrival.poisson_per_s",
            "above 0",
        );
        refused(
            &[(&format!("{c}/timeout"), json!("0s"))],
            "workload.clients.timeout",
            "above 0",
        );
        refused(
            &[(
                &format!("{c}/timeout"),
                json!({"ewma": {"initial": "1s", "alpha": 0.0}}),
            )],
            "workload.clients.timeout.ewma.alpha",
            "above 0",
        );
        refused(
            &[(
                &format!("{c}/timeout"),
                json!({"ewma": {"initial": "1s", "percentile": 97}}),
            )],
            "workload.clients.timeout.ewma.percentile",
            "90, 95 or 99",
        );
        refused(
            &[(
                &format!("{c}/timeout"),
                json!({"rfc6298": {"initial": "100ms"}}),
            )],
            "workload.clients.timeout.rfc6298.initial",
            "outside [min, max]",
        );
        refused(
            &[(&format!("{c}/retry/max_attempts"), json!(0))],
            "workload.clients.retry.max_attempts",
            "at least 1",
        );
        refused(
            &[(&format!("{c}/retry/max_attempts"), json!(101))],
            "workload.clients.retry.max_attempts",
            "limit of 100 attempts",
        );
        refused(
            &[(&format!("{c}/retry/backoff/base"), json!("0s"))],
            "workload.clients.retry.backoff.base",
            "above 0",
        );
        refused(
            &[(&format!("{c}/retry/backoff/cap"), json!("10ms"))],
            "workload.clients.retry.backoff.cap",
            "below base",
        );
        refused(
            &[(
                &format!("{c}/retry/budget"),
                json!({"token_bucket": {"retry_cost": 0}}),
            )],
            "workload.clients.retry.budget.token_bucket.retry_cost",
            "at least 1",
        );
        refused(
            &[(
                &format!("{c}/retry/budget"),
                json!({"ratio": {"ttl": "500ms"}}),
            )],
            "workload.clients.retry.budget.ratio.ttl",
            "1s to 60s",
        );
        refused(
            &[(&format!("{c}/hlc_max_offset"), json!("0s"))],
            "workload.clients.hlc_max_offset",
            "above 0",
        );
    }

    #[test]
    fn breaker_rules() {
        let b = "/workload/clients/breaker";
        let path = "workload.clients.breaker";
        refused(
            &[(&format!("{b}/alpha"), json!(null))],
            path,
            "mode \"ewma\" needs \"alpha\"",
        );
        refused(
            &[(&format!("{b}/alpha"), json!(1.5))],
            &format!("{path}.alpha"),
            "at most 1",
        );
        refused(
            &[(&format!("{b}/threshold"), json!(0.0))],
            &format!("{path}.threshold"),
            "above 0",
        );
        refused(
            &[(&format!("{b}/threshold"), json!(null))],
            path,
            "needs \"threshold\"",
        );
        refused(
            &[(&format!("{b}/failures"), json!(5))],
            &format!("{path}.failures"),
            "does not apply to mode \"ewma\"",
        );
        refused(
            &[(b, json!({"mode": "consecutive", "open_for": "5s"}))],
            path,
            "needs \"failures\"",
        );
        refused(
            &[(
                b,
                json!({"mode": "consecutive", "failures": 0, "open_for": "5s"}),
            )],
            &format!("{path}.failures"),
            "at least 1",
        );
        refused(
            &[(
                b,
                json!({"mode": "consecutive", "failures": 3, "threshold": 0.5, "open_for": "5s"}),
            )],
            &format!("{path}.threshold"),
            "does not apply to mode \"consecutive\"",
        );
        refused(
            &[(
                b,
                json!({"mode": "count_window", "window_calls": 0, "threshold": 0.5, "open_for": "5s"}),
            )],
            &format!("{path}.window_calls"),
            "at least 1",
        );
        refused(
            &[(
                b,
                json!({"mode": "count_window", "window_calls": 10, "min_calls": 20,
                          "threshold": 0.5, "open_for": "5s"}),
            )],
            &format!("{path}.min_calls"),
            "exceeds window_calls",
        );
        refused(
            &[(
                b,
                json!({"mode": "time_window", "window": "1500ms", "threshold": 0.5, "open_for": "5s"}),
            )],
            &format!("{path}.window"),
            "whole number of seconds",
        );
        refused(
            &[(
                b,
                json!({"mode": "time_window", "window": "10s", "threshold": 0.5,
                          "window_calls": 5, "open_for": "5s"}),
            )],
            &format!("{path}.window_calls"),
            "does not apply to mode \"time_window\"",
        );
        refused(
            &[(
                b,
                json!({"mode": "time_window", "window": "10s", "threshold": 0.5,
                          "slow_call": "1s", "open_for": "5s"}),
            )],
            path,
            "needs \"slow_call_threshold\"",
        );
        refused(
            &[(&format!("{b}/open_for"), json!("0s"))],
            &format!("{path}.open_for"),
            "above 0",
        );
        refused(
            &[(&format!("{b}/half_open_probes"), json!(0))],
            &format!("{path}.half_open_probes"),
            "at least 1",
        );
        refused(
            &[(&format!("{b}/open_max"), json!("1s"))],
            &format!("{path}.open_max"),
            "below open_for",
        );
        load(&with(&[(
            b,
            json!({"mode": "count_window", "window_calls": 100, "min_calls": 10, "threshold": 0.5,
                   "slow_call": "1s", "slow_call_threshold": 0.8, "open_for": "5s"}),
        )]))
        .unwrap();
    }

    #[test]
    fn fault_rules() {
        refused(
            &[("/faults/0", json!({"at": "1s"}))],
            "faults[0]",
            "no fault kind",
        );
        refused(
            &[(
                "/faults/0",
                json!({"at": "1s", "for": "1s", "pause": "server-0", "crash": "server-0"}),
            )],
            "faults[0].pause",
            "both \"crash\" and \"pause\"",
        );
        refused(
            &[("/faults/0/at", json!("121s"))],
            "faults[0].at",
            "past the end of the run",
        );
        refused(
            &[("/faults/5/for", json!("30s"))],
            "faults[5].for",
            "at most 25s",
        );
        refused(
            &[("/faults/5/for", json!(null))],
            "faults[5]",
            "needs \"for\"",
        );
        refused(
            &[("/faults/5/for", json!("0s"))],
            "faults[5].for",
            "above 0",
        );
        refused(
            &[("/faults/0/for", json!("1s"))],
            "faults[0].for",
            "restart_after",
        );
        refused(
            &[("/faults/6/for", json!("1s"))],
            "faults[6].for",
            "clock fault",
        );
        refused(
            &[("/faults/5/restart_after", json!("1s"))],
            "faults[5].restart_after",
            "only to crash",
        );
        refused(
            &[("/faults/0/restart_after", json!("0s"))],
            "faults[0].restart_after",
            "above 0",
        );
        refused(
            &[("/faults/0/crash", json!("client-0"))],
            "faults[0].crash",
            "servers only",
        );
        refused(
            &[("/faults/0/crash", json!("*"))],
            "faults[0].crash",
            "selects clients",
        );
        refused(
            &[("/faults/5/pause", json!("server-1"))],
            "faults[5].pause",
            "matches no server",
        );
        refused(
            &[("/faults/1/partition", json!([["client-*"], []]))],
            "faults[1].partition[1]",
            "empty group",
        );
        refused(
            &[("/faults/1/partition", json!([["client-*"]]))],
            "faults[1].partition",
            "two groups",
        );
        refused(
            &[("/faults/1/partition", json!([["client-*"], ["server-9*"]]))],
            "faults[1].partition[1][0]",
            "matches no node",
        );
        refused(
            &[("/faults/2/partition", json!({"isolate": "node-1"}))],
            "faults[2].partition.isolate",
            "matches no node",
        );
        refused(
            &[("/faults/3/omission/rate", json!(1.01))],
            "faults[3].omission.rate",
            "from 0 to 1",
        );
        refused(
            &[("/faults/3/omission/from", json!("client-1000"))],
            "faults[3].omission.from",
            "client-0..client-999",
        );
        refused(
            &[(
                "/faults/4/timing/extra_latency",
                json!({"pareto": {"scale": "1ms", "shape": 0.0}}),
            )],
            "faults[4].timing.extra_latency",
            "shape",
        );
        refused(
            &[("/faults/6/clock/drift_ppm", json!(2_000_000))],
            "faults[6].clock.drift_ppm",
            "out of range",
        );
        refused(
            &[(
                "/faults/6",
                json!({"at": "1s", "for": "1s", "slowdown": {"node": "server-0", "factor": 0}}),
            )],
            "faults[6].slowdown.factor",
            "above 0",
        );
        refused(
            &[(
                "/faults/6",
                json!({"at": "1s", "for": "1s", "slowdown": {"node": "client-*", "factor": 2}}),
            )],
            "faults[6].slowdown.node",
            "servers only",
        );
    }

    #[test]
    fn random_fault_and_check_rules() {
        refused(
            &[("/random_faults/0/crash", json!(null))],
            "random_faults[0]",
            "no fault kind",
        );
        refused(
            &[("/random_faults/0/pause", json!("server-0"))],
            "random_faults[0].pause",
            "both",
        );
        refused(
            &[("/random_faults/0/crash", json!("client-*"))],
            "random_faults[0].crash",
            "servers only",
        );
        refused(
            &[("/random_faults/0/mtbf", json!("0s"))],
            "random_faults[0].mtbf",
            "above 0",
        );
        refused(
            &[("/random_faults/0/mttr", json!("0s"))],
            "random_faults[0].mttr",
            "above 0",
        );
        refused(
            &[("/checks/0", json!({"availability_at_least": 1.2}))],
            "checks[0].availability_at_least",
            "from 0 to 1",
        );
        refused(
            &[("/checks/1", json!({"p99_latency_at_most": "0s"}))],
            "checks[1].p99_latency_at_most",
            "above 0",
        );
        refused(
            &[("/checks/1", json!({"retry_amplification_at_most": -1.0}))],
            "checks[1].retry_amplification_at_most",
            "at least 0",
        );
    }

    #[test]
    fn model_rules_are_refused_at_load_with_what_to_write() {
        let b = "/workload/clients/breaker";
        let path = "workload.clients.breaker";
        refused(
            &[(&format!("{b}/threshold"), json!(1.0))],
            &format!("{path}.threshold"),
            "below 1",
        );
        refused(
            &[(
                b,
                json!({"mode": "count_window", "window_calls": 1_000_001, "threshold": 0.5,
                       "open_for": "5s"}),
            )],
            &format!("{path}.window_calls"),
            "exceeds the limit of 1000000 calls",
        );
        refused(
            &[(
                b,
                json!({"mode": "time_window", "window": "3601s", "threshold": 0.5,
                       "open_for": "5s"}),
            )],
            &format!("{path}.window"),
            "exceeds the limit of 3600s",
        );
        // 1,000,000 calls are 250,000 bytes per client, 5,000 clients 1.2 GB.
        refused(
            &[
                (
                    b,
                    json!({"mode": "count_window", "window_calls": 1_000_000, "threshold": 0.5,
                           "open_for": "5s"}),
                ),
                ("/workload/clients/count", json!(5_000)),
            ],
            &format!("{path}.window_calls"),
            "over the limit of 1024 MiB for breaker windows",
        );
        refused(
            &[(
                "/workload/clients/arrival",
                json!({"closed_loop": {"think_time": {"pareto": {"scale": "1ms", "shape": 1.0}}}}),
            )],
            "workload.clients.arrival.closed_loop.think_time.pareto.shape",
            "has no mean",
        );
    }

    #[test]
    fn sizes_are_refused_before_anything_is_built() {
        refused(
            &[("/name", json!("n".repeat(101)))],
            "name",
            "over the limit of 100",
        );
        let links: Vec<Value> = (0..101).map(|_| json!({"from": "*", "to": "*"})).collect();
        refused(
            &[("/network/links", json!(links))],
            "network.links",
            "101 link rules exceed the limit of 100",
        );
        let groups: Vec<Value> = (0..65).map(|_| json!(["client-*"])).collect();
        refused(
            &[("/faults/1/partition", json!(groups))],
            "faults[1].partition",
            "65 groups exceed the limit of 64",
        );
        let selectors: Vec<Value> = (0..1001).map(|_| json!("client-0")).collect();
        refused(
            &[("/faults/1/partition", json!([selectors, ["server-0"]]))],
            "faults[1].partition[0]",
            "1001 selectors exceed the limit of 1000",
        );
        // One server, 120 s, cycles of 100 us: 1.2 M cycles, 2.4 M actions expected.
        refused(
            &[(
                "/random_faults/0",
                json!({"crash": "server-*", "mtbf": "50us", "mttr": "50us"}),
            )],
            "random_faults[0].mtbf",
            "exceeds the limit of 1000000",
        );
        // Below the limit with the margin: 1 server x 120 s / 400 us x 2 = 600k, x 2 is over.
        refused(
            &[(
                "/random_faults/0",
                json!({"crash": "server-*", "mtbf": "200us", "mttr": "200us"}),
            )],
            "random_faults[0].mtbf",
            "2 times that exceeds",
        );
        load(&with(&[(
            "/random_faults/0",
            json!({"crash": "server-*", "mtbf": "1ms", "mttr": "1ms"}),
        )]))
        .unwrap();
    }

    #[test]
    fn reconnect_traffic_counts_toward_the_event_limit() {
        // A constant reconnect sleep of 0 over links of no latency: endless tries while
        // the server is down.
        refused(
            &[
                (
                    "/workload/clients/connection",
                    json!({"reconnect": {"kind": "constant", "base": "0s", "cap": "0s"}}),
                ),
                ("/network/latency", json!({"constant": "0s"})),
                ("/random_faults", json!([])),
            ],
            "workload",
            "endless reconnect tries",
        );
        load(&with(&[(
            "/workload/clients/connection",
            json!({"reconnect": {"base": "100ms", "cap": "5s"}}),
        )]))
        .unwrap();
    }

    #[test]
    fn event_estimate_is_bounded() {
        // 1M clients x 10/s x 1000 s x 6 attempts x 6 events = 3.6e11.
        refused(
            &[
                ("/workload/clients/count", json!(1_000_000)),
                ("/workload/clients/arrival", json!({"poisson_per_s": 10.0})),
                ("/duration", json!("1000s")),
            ],
            "workload",
            "over the limit of 2000000000 events",
        );
        // A closed loop with no think time, latency or service time never lets time pass.
        refused(
            &[
                (
                    "/workload/clients/arrival",
                    json!({"closed_loop": {"think_time": {"constant": "0s"}}}),
                ),
                ("/network/latency", json!({"constant": "0s"})),
                ("/workload/servers/service_time", json!({"constant": "0s"})),
            ],
            "workload",
            "endless",
        );
    }

    #[test]
    fn memory_estimate_refuses_past_the_limit_and_names_the_largest_part() {
        use super::super::limits::{BASE_MEMORY_BYTES, MAX_MEMORY_BYTES};
        use super::{bytes_text, check_memory_estimate};
        use crate::workload::{MemoryEstimate, MemoryPart};
        let part = |what, bytes: f64| MemoryPart {
            what,
            bytes,
            reckoning: format!("{bytes} bytes"),
            path: what,
            advice: "lower it",
        };
        let mut memory = MemoryEstimate::default();
        memory.add(part("small", (100u64 << 20) as f64));
        assert!(check_memory_estimate(&memory).is_ok());
        // The limit less the base, exactly, is allowed; a byte more is not.
        let room = (MAX_MEMORY_BYTES - BASE_MEMORY_BYTES) as f64 - (100u64 << 20) as f64;
        memory.add(part("large", room));
        assert!(check_memory_estimate(&memory).is_ok());
        memory.add(part("byte", 1.0));
        let err = check_memory_estimate(&memory).unwrap_err();
        assert_eq!(err.path, "large");
        assert!(
            err.message.starts_with("this run would hold about 1 GiB in memory, over the limit of 1 GiB; the most is large: ")
                && err.message.contains("(besides: small ~ 100 MiB)")
                && err.message.ends_with("; lower it"),
            "{}",
            err.message
        );
        let mut endless = MemoryEstimate::default();
        endless.add(part("nan", f64::NAN));
        assert!(check_memory_estimate(&endless).is_err());
        assert_eq!(bytes_text(1536.0), "1.5 KiB");
        assert_eq!(bytes_text((412u64 << 20) as f64), "412 MiB");
        assert_eq!(bytes_text(2.3 * (1u64 << 30) as f64), "2.3 GiB");
    }

    #[test]
    fn errors_point_at_the_value_or_its_enclosing_object() {
        let text = "{\n  \"name\": \"x\",\n  \"duration\": \"10s\",\n  \"workload\": {\n    \"kind\": \"rpc\",\n    \"clients\": {\"count\": 1, \"arrival\": {\"poisson_per_s\": 1}, \"timeout\": \"1s\",\n                \"retry\": {\"max_attempts\": 2, \"backoff\": {\"cap\": \"1ms\"}}},\n    \"servers\": {\"count\": 1, \"workers\": 1, \"service_time\": {\"constant\": \"1ms\"}, \"queue_limit\": 0}\n  }\n}\n";
        let err = load_str(text, "t.json").unwrap_err();
        assert_eq!(err.path, "workload.clients.retry.backoff.cap");
        assert_eq!((err.line, err.column), (7, 65), "{err}");
        assert_eq!(
            err.to_string(),
            "t.json:7:65: workload.clients.retry.backoff.cap: cap 1ms is below base 100ms; write cap >= base"
        );
        // A defaulted field: the enclosing object.
        let text = text.replace(
            "\"cap\": \"1ms\"",
            "\"base\": \"0s\", \"kind\": \"exponential\"",
        );
        let err = load_str(&text, "t.json").unwrap_err();
        assert_eq!(err.path, "workload.clients.retry.backoff.base");
        assert_eq!(err.line, 7);
    }
}
