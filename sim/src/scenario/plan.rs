//! The kernel's plan built from a validated scenario ([`crate::engine::plan`]): node
//! families, network, faults and windows in the kernel's own types. Called by the
//! resolve step after the rules of [`super::validate`] hold; a rule broken here anyway
//! is an [`Issue`] naming the field, never a panic.

use std::collections::BTreeMap;

use super::validate::{issue, Issue};
use super::{DiskFaultKind, Fault, Network, Partition, RandomFault, Scenario};
use crate::engine::disk::DiskFault;
use crate::engine::nodes::Family;
use crate::engine::plan::{
    self, LinkPlan, NetFaultPlan, NetworkPlan, Plan, PlannedFault, RandomProcess,
};
use crate::engine::streams;

/// The plan of `scenario` over the workload's `families`, with the default event limit.
pub fn build(scenario: &Scenario, families: Vec<Family>) -> Result<Plan, Issue> {
    let mut seen = BTreeMap::new();
    let faults = scenario
        .faults
        .iter()
        .enumerate()
        .map(|(index, fault)| planned(&format!("faults[{index}]"), fault, &mut seen))
        .collect::<Result<_, _>>()?;
    let mut seen = BTreeMap::new();
    let random_faults = scenario
        .random_faults
        .iter()
        .enumerate()
        .map(|(index, random)| process(&format!("random_faults[{index}]"), random, &mut seen))
        .collect::<Result<_, _>>()?;
    Ok(Plan {
        families,
        network: network(&scenario.network),
        faults,
        random_faults,
        duration_ns: scenario.duration.as_nanos(),
        window_ns: scenario.metrics.window.as_nanos(),
        max_events: plan::MAX_EVENTS,
    })
}

fn network(network: &Network) -> NetworkPlan {
    NetworkPlan {
        latency: network.latency.sampler(),
        drop_rate: network.drop_rate,
        links: network
            .links
            .iter()
            .map(|link| LinkPlan {
                from: link.from.clone(),
                to: link.to.clone(),
                latency: link.latency.as_ref().map(|dist| dist.sampler()),
                drop_rate: link.drop_rate,
            })
            .collect(),
    }
}

/// The key of a fault's random stream: what the fault is (its JSON, its window left
/// out), and which of the faults with that content it is. Keyed by content, not by
/// index, removing or shortening another fault leaves this one's draws as they were.
pub fn fault_key(content: &impl serde::Serialize, seen: &mut BTreeMap<u64, u64>) -> u64 {
    let text = serde_json::to_string(content).unwrap_or_default();
    let key = streams::key_of(text.as_bytes());
    let occurrence = seen.entry(key).or_insert(0);
    *occurrence += 1;
    streams::nth(key, *occurrence - 1)
}

fn process(
    path: &str,
    random: &RandomFault,
    seen: &mut BTreeMap<u64, u64>,
) -> Result<RandomProcess, Issue> {
    let (crash, nodes) = match (&random.crash, &random.pause) {
        (Some(selector), None) => (true, selector.clone()),
        (None, Some(selector)) => (false, selector.clone()),
        _ => return Err(issue(path, "give exactly one of crash, pause")),
    };
    Ok(RandomProcess {
        crash,
        nodes,
        mtbf_ns: random.mtbf.as_nanos(),
        mttr_ns: random.mttr.as_nanos(),
        stream_key: fault_key(random, seen),
    })
}

fn planned(
    path: &str,
    fault: &Fault,
    seen: &mut BTreeMap<u64, u64>,
) -> Result<PlannedFault, Issue> {
    let at_ns = fault.at.as_nanos();
    let for_ns = || {
        fault
            .for_
            .map(|length| length.as_nanos())
            .ok_or_else(|| issue(format!("{path}.for"), "this fault needs \"for\""))
    };
    let (fault_plan, label) = if let Some(selector) = &fault.crash {
        (
            plan::Fault::Crash {
                nodes: selector.clone(),
                restart_after_ns: fault.restart_after.map(|after| after.as_nanos()),
            },
            selector.to_string(),
        )
    } else if let Some(selector) = &fault.pause {
        (
            plan::Fault::Pause {
                nodes: selector.clone(),
                for_ns: for_ns()?,
            },
            selector.to_string(),
        )
    } else if let Some(slowdown) = &fault.slowdown {
        (
            plan::Fault::Slowdown {
                nodes: slowdown.node.clone(),
                factor: slowdown.factor,
                for_ns: for_ns()?,
            },
            format!("{} x{}", slowdown.node, slowdown.factor),
        )
    } else if let Some(disk) = &fault.disk {
        let (disk_fault, name) = match disk.fault {
            DiskFaultKind::LyingFsync => (DiskFault::LyingFsync, "lying fsync".to_owned()),
            DiskFaultKind::Full => (DiskFault::Full, "full".to_owned()),
            DiskFaultKind::ReadCorruption(rate) => (
                DiskFault::ReadCorruption { rate },
                format!("read corruption {:.2}%", rate * 100.0),
            ),
        };
        (
            plan::Fault::Disk {
                nodes: disk.node.clone(),
                fault: disk_fault,
                for_ns: for_ns()?,
            },
            format!("{} {name}", disk.node),
        )
    } else if let Some(clock) = &fault.clock {
        let label = match clock.jump {
            Some(jump) => format!(
                "{} skew {} drift {} ppm jump {jump}",
                clock.node, clock.skew, clock.drift_ppm
            ),
            None => format!(
                "{} skew {} drift {} ppm",
                clock.node, clock.skew, clock.drift_ppm
            ),
        };
        (
            plan::Fault::Clock {
                nodes: clock.node.clone(),
                skew_ns: clock.skew.nanos,
                drift_ppm: clock.drift_ppm,
                jump_ns: clock.jump.map_or(0, |jump| jump.as_nanos() as i64),
            },
            label,
        )
    } else {
        let (net_fault, label) = if let Some(partition) = &fault.partition {
            match partition {
                Partition::Groups(groups) => (
                    NetFaultPlan::Groups(groups.clone()),
                    groups
                        .iter()
                        .map(|group| {
                            group
                                .iter()
                                .map(|s| s.as_str())
                                .collect::<Vec<_>>()
                                .join(",")
                        })
                        .collect::<Vec<_>>()
                        .join(" | "),
                ),
                Partition::OneWay(one_way) => (
                    NetFaultPlan::OneWay {
                        from: one_way.from.clone(),
                        to: one_way.to.clone(),
                    },
                    format!("{} -> {}", one_way.from, one_way.to),
                ),
                Partition::Isolate(isolate) => (
                    NetFaultPlan::Isolate(isolate.isolate.clone()),
                    format!("isolate {}", isolate.isolate),
                ),
            }
        } else if let Some(omission) = &fault.omission {
            (
                NetFaultPlan::Omission {
                    from: omission.from.clone(),
                    to: omission.to.clone(),
                    rate: omission.rate,
                },
                format!(
                    "{} -> {} {:.0}%",
                    omission.from,
                    omission.to,
                    omission.rate * 100.0
                ),
            )
        } else if let Some(timing) = &fault.timing {
            (
                NetFaultPlan::Timing {
                    from: timing.from.clone(),
                    to: timing.to.clone(),
                    extra: timing.extra_latency.sampler(),
                },
                format!("{} -> {}", timing.from, timing.to),
            )
        } else {
            return Err(issue(path, "no fault kind given"));
        };
        let for_ns = for_ns()?;
        // Keyed by the fault as written, its window left out.
        let stream_key = fault_key(
            &Fault {
                for_: None,
                ..fault.clone()
            },
            seen,
        );
        (
            plan::Fault::Net {
                fault: net_fault,
                for_ns,
                stream_key,
            },
            label,
        )
    };
    Ok(PlannedFault {
        at_ns,
        fault: fault_plan,
        label,
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::scenario::load::parse_str;

    /// A small rpc scenario with `faults`.
    fn with_faults(faults: serde_json::Value) -> Scenario {
        let text = json!({
            "name": "plan",
            "duration": "10s",
            "workload": {
                "kind": "rpc",
                "clients": {"count": 2, "arrival": {"poisson_per_s": 1}, "timeout": "1s"},
                "servers": {"count": 1, "workers": 1, "service_time": {"constant": "1ms"}, "queue_limit": 0}
            },
            "faults": faults
        });
        parse_str(&text.to_string(), "plan.json").expect("a well-formed scenario")
    }

    fn net_keys(plan: &Plan) -> Vec<u64> {
        plan.faults
            .iter()
            .filter_map(|planned| match planned.fault {
                plan::Fault::Net { stream_key, .. } => Some(stream_key),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn a_fault_without_its_window_is_an_issue_not_a_panic() {
        // Validation refuses it first; the plan builder refuses it too, by field.
        let scenario = with_faults(json!([{"at": "1s", "pause": "server-0"}]));
        let err = build(&scenario, Vec::new()).unwrap_err();
        assert_eq!(err.path, "faults[0].for");
        let scenario = with_faults(json!([{"at": "1s", "for": "1s"}]));
        let err = build(&scenario, Vec::new()).unwrap_err();
        assert_eq!(
            (err.path.as_str(), err.message.as_str()),
            ("faults[0]", "no fault kind given")
        );
    }

    #[test]
    fn stream_keys_follow_a_faults_content_not_its_window_or_place() {
        let omission = json!({"at": "1s", "for": "1s", "omission": {"rate": 0.3}});
        let timing =
            json!({"at": "2s", "for": "1s", "timing": {"extra_latency": {"constant": "1ms"}}});
        let crash = json!({"at": "3s", "crash": "server-0"});
        let first = build(
            &with_faults(json!([omission, crash, timing, omission])),
            Vec::new(),
        )
        .unwrap();
        let keys = net_keys(&first);
        assert_eq!(keys.len(), 3);
        // Two faults alike draw from different streams.
        assert_ne!(keys[0], keys[2]);
        // Another window, and a fault removed before it, leave a fault's stream as it was.
        let longer = json!({"at": "1s", "for": "5s", "omission": {"rate": 0.3}});
        let second = build(&with_faults(json!([longer, timing])), Vec::new()).unwrap();
        assert_eq!(net_keys(&second), keys[..2].to_vec());
    }

    #[test]
    fn labels_name_what_each_fault_hit() {
        let scenario = with_faults(json!([
            {"at": "1s", "for": "1s", "omission": {"from": "client-*", "to": "server-*", "rate": 0.3}},
            {"at": "1s", "clock": {"node": "server-0", "skew": "-250ms", "jump": "1s"}},
            {"at": "1s", "for": "1s", "partition": [["client-*"], ["server-0", "server-1"]]}
        ]));
        let labels: Vec<String> = build(&scenario, Vec::new())
            .unwrap()
            .faults
            .into_iter()
            .map(|planned| planned.label)
            .collect();
        assert_eq!(
            labels,
            [
                "client-* -> server-* 30%",
                "server-0 skew -250ms drift 0 ppm jump 1s",
                "client-* | server-0,server-1"
            ]
        );
    }
}
