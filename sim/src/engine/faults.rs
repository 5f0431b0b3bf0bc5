//! Compiling a plan's faults into timed actions: scheduled faults as planned, and the
//! random crash/pause processes drawn from the seed up front (so a run's faults are known
//! before it starts, shown in the records, and independent of the workload's draws).

use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Exp1};

use super::disk::DiskFault;
use super::network::NetFault;
use super::nodes::{NodeFaults, NodeId, NodeSet, Topology};
use super::plan::{Fault, NetFaultPlan, PlannedFault, RandomProcess};
use super::queue::Nanos;
use super::selector::Selector;
use super::streams::{self, stream};

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
        /// Its random stream's key ([`super::plan::Fault::Net`]).
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

/// Whether a fault action starts its fault or ends it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// A crash, a pause, a network, disk or slowdown fault's start, a clock change.
    Start,
    /// A restart, a resume, a network, disk or slowdown fault's end.
    End,
}

impl Phase {
    /// The phase's name in the trace (`start`, `end`).
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Start => "start",
            Phase::End => "end",
        }
    }
}

/// What a fault action is, in words, for the trace: the fault it starts or ends.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ActionLabel {
    /// Whether it starts or ends the fault.
    pub phase: Phase,
    /// The fault: its kind and what it hits (`crash server-0`,
    /// `partition client-* | server-*`); a fault's start and end have the same name.
    pub fault: String,
}

/// The compiled fault plan: actions sorted by time (stable: same-time actions keep
/// scenario order), their labels, and the intervals they form.
#[derive(Clone, Debug, Default)]
pub struct FaultPlan {
    /// `(time, action)`, sorted by time.
    pub actions: Vec<(Nanos, FaultAction)>,
    /// One label per action, in the order of `actions`.
    pub labels: Vec<ActionLabel>,
    /// Intervals for the records.
    pub intervals: Vec<Interval>,
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
    random_faults: &[RandomProcess],
    duration_ns: Nanos,
    topology: &Topology,
    seed: u64,
) -> Result<Vec<Occurrence>, String> {
    let mut occurrences = Vec::new();
    for (index, random) in random_faults.iter().enumerate() {
        let crash = random.crash;
        let mtbf_ns = random.mtbf_ns as f64;
        let mttr_ns = random.mttr_ns as f64;
        let accepts = |faults: &NodeFaults| if crash { faults.crash } else { faults.pause };
        for node in targets(topology, &random.nodes, accepts) {
            // One stream per (process, node), keyed by the process's content and the
            // node's index in its family: adding a node or another process does not
            // reshuffle the others.
            let (_, index_in_family) = topology.locate(node);
            let mut rng: ChaCha8Rng = stream(
                seed,
                streams::RANDOM_FAULTS,
                streams::nth(random.stream_key, u64::from(index_in_family) + 1),
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

/// Builds the fault plan. A [`PlannedFault`] holds no rule left to check; the errors
/// are limits of the random draws.
pub fn compile(
    faults: &[PlannedFault],
    random_faults: &[RandomProcess],
    duration_ns: Nanos,
    topology: &Topology,
    seed: u64,
) -> Result<FaultPlan, String> {
    let mut plan = FaultPlan::default();
    // Actions with their labels, sorted together below.
    let mut actions: Vec<(Nanos, FaultAction, ActionLabel)> = Vec::new();
    let mut next_net_id = 0u32;
    let mut next_disk_id = 0u32;
    for planned in faults {
        let at_ns = planned.at_ns;
        let target = planned.label.clone();
        let mut push = |at: Nanos, action: FaultAction, phase: Phase, fault: &str| {
            if at <= duration_ns {
                let fault = fault.to_owned();
                actions.push((at, action, ActionLabel { phase, fault }));
            }
        };
        match &planned.fault {
            Fault::Crash {
                nodes,
                restart_after_ns,
            } => {
                let restart_ns = restart_after_ns.map(|after_ns| at_ns.saturating_add(after_ns));
                for node in targets(topology, nodes, |accepts| accepts.crash) {
                    let name = format!("crash {}", topology.name(node));
                    push(at_ns, FaultAction::Crash { node }, Phase::Start, &name);
                    if let Some(restart_ns) = restart_ns {
                        push(restart_ns, FaultAction::Restart { node }, Phase::End, &name);
                    }
                }
                plan.intervals.push(Interval {
                    kind: "crash",
                    target,
                    start_ns: at_ns,
                    end_ns: restart_ns,
                });
            }
            Fault::Pause { nodes, for_ns } => {
                let end_ns = at_ns.saturating_add(*for_ns);
                for node in targets(topology, nodes, |accepts| accepts.pause) {
                    let name = format!("pause {}", topology.name(node));
                    push(at_ns, FaultAction::Pause { node }, Phase::Start, &name);
                    push(end_ns, FaultAction::Resume { node }, Phase::End, &name);
                }
                plan.intervals.push(Interval {
                    kind: "pause",
                    target,
                    start_ns: at_ns,
                    end_ns: Some(end_ns),
                });
            }
            Fault::Slowdown {
                nodes,
                factor,
                for_ns,
            } => {
                let end_ns = at_ns.saturating_add(*for_ns);
                let nodes = targets(topology, nodes, |accepts| accepts.slowdown);
                let name = format!("slowdown {target}");
                push(
                    at_ns,
                    FaultAction::Slowdown {
                        nodes: nodes.clone(),
                        factor: *factor,
                    },
                    Phase::Start,
                    &name,
                );
                push(
                    end_ns,
                    FaultAction::Slowdown { nodes, factor: 1.0 },
                    Phase::End,
                    &name,
                );
                plan.intervals.push(Interval {
                    kind: "slowdown",
                    target,
                    start_ns: at_ns,
                    end_ns: Some(end_ns),
                });
            }
            Fault::Disk {
                nodes,
                fault,
                for_ns,
            } => {
                let end_ns = at_ns.saturating_add(*for_ns);
                let nodes = targets(topology, nodes, |accepts| accepts.disk);
                let id = next_disk_id;
                next_disk_id += 1;
                let name = format!("disk {target}");
                push(
                    at_ns,
                    FaultAction::DiskStart {
                        id,
                        nodes: nodes.clone(),
                        fault: *fault,
                    },
                    Phase::Start,
                    &name,
                );
                push(
                    end_ns,
                    FaultAction::DiskEnd { id, nodes },
                    Phase::End,
                    &name,
                );
                plan.intervals.push(Interval {
                    kind: "disk",
                    target,
                    start_ns: at_ns,
                    end_ns: Some(end_ns),
                });
            }
            Fault::Clock {
                nodes,
                skew_ns,
                drift_ppm,
                jump_ns,
            } => {
                push(
                    at_ns,
                    FaultAction::Clock {
                        nodes: topology.select(nodes),
                        skew_ns: *skew_ns,
                        drift_ppm: *drift_ppm,
                        jump_ns: *jump_ns,
                    },
                    // A change for the rest of the run: its interval has no end.
                    Phase::Start,
                    &format!("clock {target}"),
                );
                plan.intervals.push(Interval {
                    kind: "clock",
                    target,
                    start_ns: at_ns,
                    end_ns: None,
                });
            }
            Fault::Net {
                fault,
                for_ns,
                stream_key,
            } => {
                let end_ns = at_ns.saturating_add(*for_ns);
                let net_fault = match fault {
                    NetFaultPlan::Groups(groups) => NetFault::Groups(
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
                    NetFaultPlan::OneWay { from, to } => NetFault::OneWay {
                        from: topology.select(from),
                        to: topology.select(to),
                    },
                    NetFaultPlan::Isolate(nodes) => NetFault::Isolate(topology.select(nodes)),
                    NetFaultPlan::Omission { from, to, rate } => NetFault::Omission {
                        from: topology.select(from),
                        to: topology.select(to),
                        rate: *rate,
                    },
                    NetFaultPlan::Timing { from, to, extra } => NetFault::Timing {
                        from: topology.select(from),
                        to: topology.select(to),
                        extra: *extra,
                    },
                };
                let id = next_net_id;
                next_net_id += 1;
                let name = format!("{} {target}", fault.kind());
                push(
                    at_ns,
                    FaultAction::NetStart {
                        id,
                        fault: net_fault,
                        stream_key: *stream_key,
                    },
                    Phase::Start,
                    &name,
                );
                push(end_ns, FaultAction::NetEnd { id }, Phase::End, &name);
                plan.intervals.push(Interval {
                    kind: fault.kind(),
                    target,
                    start_ns: at_ns,
                    end_ns: Some(end_ns),
                });
            }
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
        let target = format!("{} (random)", topology.name(node));
        let label = |phase| ActionLabel {
            phase,
            fault: format!("{kind} {target}"),
        };
        actions.push((occurrence.start_ns, start, label(Phase::Start)));
        if let Some(end_ns) = occurrence.end_ns {
            actions.push((end_ns, end, label(Phase::End)));
        }
        plan.intervals.push(Interval {
            kind,
            target,
            start_ns: occurrence.start_ns,
            end_ns: occurrence.end_ns,
        });
    }
    if actions.len() > MAX_FAULT_ACTIONS {
        return Err(format!(
            "random_faults: more than {MAX_FAULT_ACTIONS} fault actions; raise mtbf"
        ));
    }
    // Stable: same-time actions keep their order above (scenario order, then random).
    actions.sort_by_key(|(at, _, _)| *at);
    (plan.actions, plan.labels) = actions
        .into_iter()
        .map(|(at, action, label)| ((at, action), label))
        .unzip();
    plan.intervals.sort_by_key(|interval| interval.start_ns);
    Ok(plan)
}
