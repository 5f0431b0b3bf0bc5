//! Compiling a scenario's faults into timed actions: scheduled faults as written, and
//! the random crash/pause processes drawn from the seed up front (so a run's faults are
//! known before it starts, shown in the records, and independent of the workload's draws).

use std::collections::BTreeMap;

use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Exp1};

use super::disk::DiskFault;
use super::network::NetFault;
use super::nodes::{NodeFaults, NodeId, NodeSet, Topology};
use super::queue::Nanos;
use super::streams::{self, stream};
use crate::scenario::{DiskFaultKind, Fault, Partition, RandomFault, Selector};

/// Most fault actions a run may hold (random processes included).
pub const MAX_FAULT_ACTIONS: usize = 1_000_000;

/// One thing that happens to the system at a time.
#[derive(Clone, Debug)]
pub enum FaultAction {
    /// A node crashes (volatile state lost).
    Crash {
        /// The node.
        node: NodeId,
    },
    /// A crashed node starts again with fresh state.
    Restart {
        /// The node.
        node: NodeId,
    },
    /// A node stops making progress.
    Pause {
        /// The node.
        node: NodeId,
    },
    /// A paused node goes on.
    Resume {
        /// The node.
        node: NodeId,
    },
    /// A network fault starts.
    NetStart {
        /// Fault id (to end it).
        id: u32,
        /// What it does.
        fault: NetFault,
        /// Its random stream's key (see [`fault_key`]).
        stream_key: u64,
    },
    /// A network fault ends.
    NetEnd {
        /// Fault id.
        id: u32,
    },
    /// Clocks of these nodes change.
    Clock {
        /// The nodes.
        nodes: NodeSet,
        /// New offset from true time, ns.
        skew_ns: i64,
        /// New drift, ppm.
        drift_ppm: f64,
        /// One-off jump, ns.
        jump_ns: i64,
    },
    /// A disk fault starts on these nodes' disks.
    DiskStart {
        /// Fault id (to end it).
        id: u32,
        /// The nodes.
        nodes: Vec<NodeId>,
        /// What goes wrong.
        fault: DiskFault,
    },
    /// A disk fault ends.
    DiskEnd {
        /// Fault id.
        id: u32,
        /// The nodes.
        nodes: Vec<NodeId>,
    },
    /// Work on these nodes takes longer (what that means is the workload's business).
    Slowdown {
        /// The nodes.
        nodes: Vec<NodeId>,
        /// The multiplier (1 restores).
        factor: f64,
    },
}

/// A fault interval for the records.
#[derive(Clone, Debug, PartialEq)]
pub struct Interval {
    /// Fault kind.
    pub kind: &'static str,
    /// What it hit.
    pub target: String,
    /// Start, ns.
    pub start_ns: Nanos,
    /// End, ns (`None`: to the end of the run).
    pub end_ns: Option<Nanos>,
}

/// The compiled fault plan: actions sorted by time (stable: same-time actions keep
/// scenario order), and the intervals they form.
#[derive(Clone, Debug, Default)]
pub struct FaultPlan {
    /// `(time, action)`, sorted by time.
    pub actions: Vec<(Nanos, FaultAction)>,
    /// Intervals for the records.
    pub intervals: Vec<Interval>,
}

fn describe_partition(partition: &Partition) -> String {
    match partition {
        Partition::Groups(groups) => groups
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
        Partition::OneWay(one_way) => format!("{} -> {}", one_way.from, one_way.to),
        Partition::Isolate(isolate) => format!("isolate {}", isolate.isolate),
    }
}

/// The nodes `selector` matches whose family accepts the fault `accepts` picks.
fn targets(
    topology: &Topology,
    selector: &Selector,
    accepts: impl Fn(&NodeFaults) -> bool,
) -> Vec<NodeId> {
    topology
        .matching(selector)
        .into_iter()
        .filter(|&node| accepts(&topology.families()[topology.locate(node).0].faults))
        .collect()
}

/// One down time drawn by a random fault process.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Occurrence {
    /// A crash (else a pause).
    pub crash: bool,
    /// The node.
    pub node: NodeId,
    /// When it goes down, ns.
    pub start_ns: Nanos,
    /// When it is back, ns (`None`: not before the end of the run).
    pub end_ns: Option<Nanos>,
}

/// The down times the random fault processes draw at `seed`, process by process, node
/// by node, in time order: the order [`compile`] puts them in the plan.
pub fn draw_random(
    random_faults: &[RandomFault],
    duration_ns: Nanos,
    topology: &Topology,
    seed: u64,
) -> Result<Vec<Occurrence>, String> {
    let mut occurrences = Vec::new();
    let mut seen = BTreeMap::new();
    for (index, random) in random_faults.iter().enumerate() {
        let (crash, selector) = match (&random.crash, &random.pause) {
            (Some(selector), None) => (true, selector),
            (None, Some(selector)) => (false, selector),
            _ => {
                return Err(format!(
                    "random_faults[{index}]: give exactly one of crash, pause"
                ))
            }
        };
        let mtbf_ns = random.mtbf.as_nanos() as f64;
        let mttr_ns = random.mttr.as_nanos() as f64;
        let accepts = |faults: &NodeFaults| if crash { faults.crash } else { faults.pause };
        let process_key = fault_key(random, &mut seen);
        for node in targets(topology, selector, accepts) {
            // One stream per (process, node), keyed by the process's content and the
            // node's index in its family: adding a node or another process does not
            // reshuffle the others.
            let (_, index_in_family) = topology.locate(node);
            let mut rng: ChaCha8Rng = stream(
                seed,
                streams::RANDOM_FAULTS,
                streams::nth(process_key, u64::from(index_in_family) + 1),
            );
            let mut now_ns: Nanos = 0;
            loop {
                let up: f64 = Exp1.sample(&mut rng);
                now_ns = now_ns.saturating_add((up * mtbf_ns).round() as Nanos);
                if now_ns >= duration_ns {
                    break;
                }
                let down: f64 = Exp1.sample(&mut rng);
                let back_ns = now_ns.saturating_add((down * mttr_ns).round().max(1.0) as Nanos);
                occurrences.push(Occurrence {
                    crash,
                    node,
                    start_ns: now_ns,
                    end_ns: (back_ns <= duration_ns).then_some(back_ns),
                });
                // Two actions per occurrence at most.
                if occurrences.len() > MAX_FAULT_ACTIONS / 2 {
                    return Err(format!(
                        "random_faults[{index}]: more than {MAX_FAULT_ACTIONS} fault actions; raise mtbf"
                    ));
                }
                now_ns = back_ns;
            }
        }
    }
    Ok(occurrences)
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

/// Builds the fault plan. Errors say which fault is at fault.
pub fn compile(
    faults: &[Fault],
    random_faults: &[RandomFault],
    duration_ns: Nanos,
    topology: &Topology,
    seed: u64,
) -> Result<FaultPlan, String> {
    let mut plan = FaultPlan::default();
    let mut next_net_id = 0u32;
    let mut next_disk_id = 0u32;
    let mut seen = BTreeMap::new();
    for (index, fault) in faults.iter().enumerate() {
        let at_ns = fault.at.as_nanos();
        let end_ns = fault
            .for_
            .map(|length| at_ns.saturating_add(length.as_nanos()));
        let mut push = |at: Nanos, action: FaultAction| {
            if at <= duration_ns {
                plan.actions.push((at, action));
            }
        };
        if let Some(selector) = &fault.crash {
            let restart_ns = fault
                .restart_after
                .map(|after| at_ns.saturating_add(after.as_nanos()));
            for node in targets(topology, selector, |accepts| accepts.crash) {
                push(at_ns, FaultAction::Crash { node });
                if let Some(restart_ns) = restart_ns {
                    push(restart_ns, FaultAction::Restart { node });
                }
            }
            plan.intervals.push(Interval {
                kind: "crash",
                target: selector.to_string(),
                start_ns: at_ns,
                end_ns: restart_ns,
            });
        } else if let Some(selector) = &fault.pause {
            let end_ns = end_ns.ok_or_else(|| format!("faults[{index}]: pause needs `for`"))?;
            for node in targets(topology, selector, |accepts| accepts.pause) {
                push(at_ns, FaultAction::Pause { node });
                push(end_ns, FaultAction::Resume { node });
            }
            plan.intervals.push(Interval {
                kind: "pause",
                target: selector.to_string(),
                start_ns: at_ns,
                end_ns: Some(end_ns),
            });
        } else if let Some(slowdown) = &fault.slowdown {
            let end_ns = end_ns.ok_or_else(|| format!("faults[{index}]: slowdown needs `for`"))?;
            let nodes = targets(topology, &slowdown.node, |accepts| accepts.slowdown);
            push(
                at_ns,
                FaultAction::Slowdown {
                    nodes: nodes.clone(),
                    factor: slowdown.factor,
                },
            );
            push(end_ns, FaultAction::Slowdown { nodes, factor: 1.0 });
            plan.intervals.push(Interval {
                kind: "slowdown",
                target: format!("{} x{}", slowdown.node, slowdown.factor),
                start_ns: at_ns,
                end_ns: Some(end_ns),
            });
        } else if let Some(disk) = &fault.disk {
            let end_ns =
                end_ns.ok_or_else(|| format!("faults[{index}]: a disk fault needs `for`"))?;
            let nodes = targets(topology, &disk.node, |accepts| accepts.disk);
            let (fault, name) = match disk.fault {
                DiskFaultKind::LyingFsync => (DiskFault::LyingFsync, "lying fsync".to_owned()),
                DiskFaultKind::Full => (DiskFault::Full, "full".to_owned()),
                DiskFaultKind::ReadCorruption(rate) => (
                    DiskFault::ReadCorruption { rate },
                    format!("read corruption {:.2}%", rate * 100.0),
                ),
            };
            let id = next_disk_id;
            next_disk_id += 1;
            push(
                at_ns,
                FaultAction::DiskStart {
                    id,
                    nodes: nodes.clone(),
                    fault,
                },
            );
            push(end_ns, FaultAction::DiskEnd { id, nodes });
            plan.intervals.push(Interval {
                kind: "disk",
                target: format!("{} {name}", disk.node),
                start_ns: at_ns,
                end_ns: Some(end_ns),
            });
        } else if let Some(clock) = &fault.clock {
            push(
                at_ns,
                FaultAction::Clock {
                    nodes: topology.select(&clock.node),
                    skew_ns: clock.skew.nanos,
                    drift_ppm: clock.drift_ppm,
                    jump_ns: clock.jump.map_or(0, |jump| jump.as_nanos() as i64),
                },
            );
            plan.intervals.push(Interval {
                kind: "clock",
                target: match clock.jump {
                    Some(jump) => format!(
                        "{} skew {} drift {} ppm jump {jump}",
                        clock.node, clock.skew, clock.drift_ppm
                    ),
                    None => format!(
                        "{} skew {} drift {} ppm",
                        clock.node, clock.skew, clock.drift_ppm
                    ),
                },
                start_ns: at_ns,
                end_ns: None,
            });
        } else {
            let end_ns =
                end_ns.ok_or_else(|| format!("faults[{index}]: this fault needs `for`"))?;
            let (kind, target, net_fault) = if let Some(partition) = &fault.partition {
                let net_fault = match partition {
                    Partition::Groups(groups) => NetFault::Groups(
                        groups
                            .iter()
                            .map(|group| {
                                let mut set = NodeSet::empty(topology.node_count());
                                for selector in group {
                                    set.union_with(&topology.select(selector));
                                }
                                set
                            })
                            .collect(),
                    ),
                    Partition::OneWay(one_way) => NetFault::OneWay {
                        from: topology.select(&one_way.from),
                        to: topology.select(&one_way.to),
                    },
                    Partition::Isolate(isolate) => {
                        NetFault::Isolate(topology.select(&isolate.isolate))
                    }
                };
                ("partition", describe_partition(partition), net_fault)
            } else if let Some(omission) = &fault.omission {
                (
                    "omission",
                    format!(
                        "{} -> {} {:.0}%",
                        omission.from,
                        omission.to,
                        omission.rate * 100.0
                    ),
                    NetFault::Omission {
                        from: topology.select(&omission.from),
                        to: topology.select(&omission.to),
                        rate: omission.rate,
                    },
                )
            } else if let Some(timing) = &fault.timing {
                (
                    "timing",
                    format!("{} -> {}", timing.from, timing.to),
                    NetFault::Timing {
                        from: topology.select(&timing.from),
                        to: topology.select(&timing.to),
                        extra: timing.extra_latency.sampler(),
                    },
                )
            } else {
                return Err(format!("faults[{index}]: no fault kind given"));
            };
            let id = next_net_id;
            next_net_id += 1;
            let stream_key = fault_key(
                &Fault {
                    for_: None,
                    ..fault.clone()
                },
                &mut seen,
            );
            push(
                at_ns,
                FaultAction::NetStart {
                    id,
                    fault: net_fault,
                    stream_key,
                },
            );
            push(end_ns, FaultAction::NetEnd { id });
            plan.intervals.push(Interval {
                kind,
                target,
                start_ns: at_ns,
                end_ns: Some(end_ns),
            });
        }
    }

    for occurrence in draw_random(random_faults, duration_ns, topology, seed)? {
        let node = occurrence.node;
        let (start, end, kind) = if occurrence.crash {
            (
                FaultAction::Crash { node },
                FaultAction::Restart { node },
                "crash",
            )
        } else {
            (
                FaultAction::Pause { node },
                FaultAction::Resume { node },
                "pause",
            )
        };
        plan.actions.push((occurrence.start_ns, start));
        if let Some(end_ns) = occurrence.end_ns {
            plan.actions.push((end_ns, end));
        }
        plan.intervals.push(Interval {
            kind,
            target: format!("{} (random)", topology.name(node)),
            start_ns: occurrence.start_ns,
            end_ns: occurrence.end_ns,
        });
    }
    if plan.actions.len() > MAX_FAULT_ACTIONS {
        return Err(format!(
            "random_faults: more than {MAX_FAULT_ACTIONS} fault actions; raise mtbf"
        ));
    }
    // Stable: same-time actions keep their order above (scenario order, then random).
    plan.actions.sort_by_key(|(at, _)| *at);
    plan.intervals.sort_by_key(|interval| interval.start_ns);
    Ok(plan)
}
