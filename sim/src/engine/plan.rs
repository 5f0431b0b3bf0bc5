//! The kernel's input: what a run is made of besides its workload's config (nodes,
//! network, faults, windows, limits), in the kernel's own types. The resolve step
//! (`scenario::plan`) builds it from a validated scenario, so the kernel never sees the
//! file format: a [`Plan`] holds no rule left to check, only what to do.

use super::disk::DiskFault;
use super::nodes::Family;
use super::queue::Nanos;
use super::sampler::Sampler;
use super::selector::Selector;

/// Most engine events in one run by default: estimated when the scenario is resolved,
/// and counted during the run, which stops with an error past it.
pub const MAX_EVENTS: u64 = 2_000_000_000;

/// One run's plan.
#[derive(Clone, Debug)]
pub struct Plan {
    /// The workload's node families, in node-id order.
    pub families: Vec<Family>,
    /// Network defaults and link rules.
    pub network: NetworkPlan,
    /// Faults at fixed times, in scenario order.
    pub faults: Vec<PlannedFault>,
    /// Random fault processes, in scenario order.
    pub random_faults: Vec<RandomProcess>,
    /// Simulated time, ns.
    pub duration_ns: Nanos,
    /// Metrics window, ns.
    pub window_ns: Nanos,
    /// The most engine events the run may handle before it stops with an error
    /// ([`MAX_EVENTS`] unless lowered, e.g. by `faultline run --max-events`).
    pub max_events: u64,
}

/// Network defaults and per-link overrides (first match wins).
#[derive(Clone, Debug)]
pub struct NetworkPlan {
    /// One-way latency of every link.
    pub latency: Sampler,
    /// Probability that a message is lost.
    pub drop_rate: f64,
    /// Per-link overrides.
    pub links: Vec<LinkPlan>,
}

/// A per-link override (directional: `from` -> `to`).
#[derive(Clone, Debug)]
pub struct LinkPlan {
    /// Senders.
    pub from: Selector,
    /// Receivers.
    pub to: Selector,
    /// Latency on these links, if overridden.
    pub latency: Option<Sampler>,
    /// Drop rate on these links, if overridden.
    pub drop_rate: Option<f64>,
}

/// A fault at a fixed time.
#[derive(Clone, Debug)]
pub struct PlannedFault {
    /// When it starts, ns.
    pub at_ns: Nanos,
    /// What it is.
    pub fault: Fault,
    /// What it hit, in words, for the records' fault intervals (`client-* -> server-* 30%`).
    pub label: String,
}

/// A fault's kind and parameters; each kind holds exactly what it needs (a window
/// where it has one).
#[derive(Clone, Debug)]
pub enum Fault {
    /// Crash these nodes (volatile state lost), restarting them after a while or never.
    Crash {
        /// The nodes.
        nodes: Selector,
        /// Restart after this long, ns (`None`: stays down).
        restart_after_ns: Option<Nanos>,
    },
    /// Pause these nodes (no progress; state kept).
    Pause {
        /// The nodes.
        nodes: Selector,
        /// How long, ns.
        for_ns: Nanos,
    },
    /// Multiply the nodes' work time.
    Slowdown {
        /// The nodes.
        nodes: Selector,
        /// The multiplier.
        factor: f64,
        /// How long, ns.
        for_ns: Nanos,
    },
    /// The nodes' disks misbehave.
    Disk {
        /// The nodes.
        nodes: Selector,
        /// What goes wrong.
        fault: DiskFault,
        /// How long, ns.
        for_ns: Nanos,
    },
    /// The nodes' physical clocks change (for the rest of the run).
    Clock {
        /// The nodes.
        nodes: Selector,
        /// New offset from true time, ns.
        skew_ns: i64,
        /// New drift, ppm.
        drift_ppm: f64,
        /// One-off forward jump, ns.
        jump_ns: i64,
    },
    /// A network fault.
    Net {
        /// What it does.
        fault: NetFaultPlan,
        /// How long, ns.
        for_ns: Nanos,
        /// Its random stream's key: its content, so removing or shortening another
        /// fault leaves this one's draws as they were (`scenario::plan`).
        stream_key: u64,
    },
}

/// A network fault, by selectors.
#[derive(Clone, Debug)]
pub enum NetFaultPlan {
    /// Nodes in different groups cannot talk; nodes in no group are unaffected.
    Groups(Vec<Vec<Selector>>),
    /// Messages from `from` to `to` are lost.
    OneWay {
        /// Senders.
        from: Selector,
        /// Receivers.
        to: Selector,
    },
    /// These nodes neither send nor receive.
    Isolate(Selector),
    /// A fraction of messages from `from` to `to` are lost.
    Omission {
        /// Senders.
        from: Selector,
        /// Receivers.
        to: Selector,
        /// Fraction lost.
        rate: f64,
    },
    /// Messages from `from` to `to` take extra time.
    Timing {
        /// Senders.
        from: Selector,
        /// Receivers.
        to: Selector,
        /// Extra one-way delay.
        extra: Sampler,
    },
}

impl NetFaultPlan {
    /// The fault kind's name in the records.
    pub fn kind(&self) -> &'static str {
        match self {
            NetFaultPlan::Groups(_) | NetFaultPlan::OneWay { .. } | NetFaultPlan::Isolate(_) => {
                "partition"
            }
            NetFaultPlan::Omission { .. } => "omission",
            NetFaultPlan::Timing { .. } => "timing",
        }
    }
}

/// A stochastic crash or pause process per matching node: up-times exponential with
/// mean `mtbf_ns`, down-times exponential with mean `mttr_ns`.
#[derive(Clone, Debug)]
pub struct RandomProcess {
    /// A crash process (else a pause process).
    pub crash: bool,
    /// The nodes.
    pub nodes: Selector,
    /// Mean time between failures, ns.
    pub mtbf_ns: Nanos,
    /// Mean time to repair, ns.
    pub mttr_ns: Nanos,
    /// Its random streams' key (by content, as for [`Fault::Net`]).
    pub stream_key: u64,
}
