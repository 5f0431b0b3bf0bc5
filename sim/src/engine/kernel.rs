//! The kernel: what every workload's events go through. It owns the event queue (the
//! run's only clock), the network with its faults, the nodes' physical clocks, the trace
//! digest and the metrics windows, and knows nodes only by [`NodeId`] and family.
//!
//! A workload holds no kernel state of its own: the driver lends it `&mut Kernel` for
//! each event (as turmoil and madsim keep the host API apart from the code under test),
//! and the workload schedules, routes and traces through it.

use std::cell::RefCell;
use std::rc::Rc;

use rand_chacha::ChaCha8Rng;

use super::clock::PhysicalClock;
use super::disk::{DiskError, DiskFault};
use super::network::{NetFault, Network, Route};
use super::nodes::{NodeId, Topology};
use super::process::NodeDisk;
use super::queue::{EventQueue, Nanos, QueueFull};
use super::streams::{self, stream};
use super::trace::{Record, Trace, TraceEvent};
use super::EngineError;

/// An entry of the kernel's queue: a fault action of the plan, or a workload event.
#[derive(Clone, Copy, Debug)]
pub enum Due<E> {
    /// The fault plan's action with this index takes effect.
    Fault {
        /// Index into the plan's actions.
        action: u32,
    },
    /// A workload event.
    Work(E),
}

/// The kernel of one run (see the module documentation).
pub struct Kernel<E> {
    queue: EventQueue<Due<E>>,
    net: Network,
    rng_network: ChaCha8Rng,
    /// Per-node physical clocks; empty when no clock fault exists (then every node reads
    /// true time, and no clock costs a load).
    clocks: Vec<PhysicalClock>,
    trace: Trace,
    topology: Topology,
    /// Each node's disk, by node id; empty when no node has one.
    disks: Vec<Option<Rc<RefCell<NodeDisk>>>>,
    seed: u64,
    duration_ns: Nanos,
    window_ns: Nanos,
    window_count: usize,
}

/// What a kernel is built from (see [`super::driver::run`]).
pub struct KernelParts {
    /// The nodes.
    pub topology: Topology,
    /// The network with its link rules.
    pub network: Network,
    /// Whether any clock fault exists (else clocks read true time).
    pub with_clocks: bool,
    /// The trace.
    pub trace: Trace,
    /// Each node's disk, by node id (empty: no disks).
    pub disks: Vec<Option<Rc<RefCell<NodeDisk>>>>,
    /// The run seed.
    pub seed: u64,
    /// Simulated time, ns.
    pub duration_ns: Nanos,
    /// Metrics window, ns.
    pub window_ns: Nanos,
    /// Metrics windows in the run.
    pub window_count: usize,
    /// Most pending events at once.
    pub max_pending_events: usize,
}

impl<E: Copy> Kernel<E> {
    /// Builds the kernel of a run.
    pub fn new(parts: KernelParts) -> Self {
        assert!(parts.window_ns > 0 && parts.window_count > 0);
        Kernel {
            queue: EventQueue::new(parts.max_pending_events),
            net: parts.network,
            rng_network: stream(parts.seed, streams::NETWORK, 0),
            clocks: if parts.with_clocks {
                vec![PhysicalClock::default(); parts.topology.node_count() as usize]
            } else {
                Vec::new()
            },
            trace: parts.trace,
            topology: parts.topology,
            disks: parts.disks,
            seed: parts.seed,
            duration_ns: parts.duration_ns,
            window_ns: parts.window_ns,
            window_count: parts.window_count,
        }
    }

    /// Schedules a workload event; events past the end of the run are dropped
    /// unscheduled.
    #[inline]
    pub fn schedule(&mut self, at_ns: Nanos, event: E) -> Result<(), EngineError> {
        self.push(at_ns, Due::Work(event))
    }

    /// Schedules fault action `action` of the plan.
    pub(super) fn schedule_fault(&mut self, at_ns: Nanos, action: u32) -> Result<(), EngineError> {
        self.push(at_ns, Due::Fault { action })
    }

    #[inline]
    fn push(&mut self, at_ns: Nanos, due: Due<E>) -> Result<(), EngineError> {
        if at_ns > self.duration_ns {
            return Ok(());
        }
        self.queue.push(at_ns, due).map_err(|QueueFull { limit }| {
            EngineError::Limit(format!(
                "more than {limit} pending events; the scenario generates more concurrent work \
                 than the engine's limit (lower the node counts, rates or retries)"
            ))
        })
    }

    /// The earliest pending entry's time.
    #[inline]
    pub fn peek_time(&self) -> Option<Nanos> {
        self.queue.peek_time()
    }

    /// Takes the earliest entry (time, then insertion order).
    #[inline]
    pub fn pop(&mut self) -> Option<(Nanos, Due<E>)> {
        self.queue.pop()
    }

    /// Takes the earliest entry, first handing the entries that come next to `touch`
    /// when the queue gathers them (see [`EventQueue::pop_touching`]): a workload loads
    /// what their handlers will read, so that the cache misses overlap.
    #[inline]
    pub fn pop_touching(&mut self, touch: impl FnMut(&Due<E>)) -> Option<(Nanos, Due<E>)> {
        self.queue.pop_touching(touch)
    }

    /// Decides the fate of one message sent now from `from` to `to` (latency and loss
    /// from the run's network stream, in send order; fault draws from each fault's own).
    #[inline]
    pub fn route(&mut self, from: NodeId, to: NodeId) -> Route {
        self.net.route(from, to, &mut self.rng_network)
    }

    /// The network (its active faults change only through the fault plan).
    pub fn network_mut(&mut self) -> &mut Network {
        &mut self.net
    }

    /// Starts network fault `id`, drawing from its own stream (keyed by `stream_key`,
    /// see [`streams::NET_FAULTS`]).
    pub(super) fn activate_net_fault(&mut self, id: u32, fault: NetFault, stream_key: u64) {
        let rng = stream(self.seed, streams::NET_FAULTS, stream_key);
        self.net.activate(id, fault, rng);
    }

    /// Physical time of `node` at true time `now_ns`: what its clock reads, with the
    /// skew, drift and jumps of its clock faults.
    #[inline]
    pub fn physical(&self, node: NodeId, now_ns: Nanos) -> Nanos {
        match self.clocks.get(node as usize) {
            Some(clock) => clock.read(now_ns),
            None => now_ns,
        }
    }

    /// Whether nodes' clocks can differ from true time (the scenario has clock faults);
    /// if not, every [`Kernel::physical`] reading is true time.
    #[inline]
    pub fn clocks_can_differ(&self) -> bool {
        !self.clocks.is_empty()
    }

    /// Applies a clock fault to every node for which `selected` holds.
    pub(super) fn set_clocks(
        &mut self,
        now_ns: Nanos,
        selected: impl Fn(NodeId) -> bool,
        skew_ns: i64,
        drift_ppm: f64,
        jump_ns: i64,
    ) {
        for (node, clock) in self.clocks.iter_mut().enumerate() {
            if selected(node as NodeId) {
                clock.apply(now_ns, skew_ns, drift_ppm, jump_ns);
            }
        }
    }

    /// `node`'s disk, if it has one (shared with the node's process).
    pub fn disk(&self, node: NodeId) -> Option<Rc<RefCell<NodeDisk>>> {
        self.disks.get(node as usize).cloned().flatten()
    }

    /// A crash of `node`: its disk loses what was not synced.
    pub(super) fn crash_disk(&mut self, node: NodeId) {
        if let Some(disk) = self.disks.get(node as usize).and_then(Option::as_ref) {
            let mut disk = disk.borrow_mut();
            let NodeDisk { disk, rng } = &mut *disk;
            disk.crash(rng);
        }
    }

    /// Starts (`Some`) or ends (`None`) disk fault `id` on `nodes`' disks.
    pub(super) fn disk_fault(
        &mut self,
        nodes: &[NodeId],
        id: u32,
        fault: Option<DiskFault>,
    ) -> Result<(), DiskError> {
        for node in nodes {
            if let Some(disk) = self.disks.get(*node as usize).and_then(Option::as_ref) {
                let mut disk = disk.borrow_mut();
                match fault {
                    Some(fault) => disk.disk.activate(id, fault)?,
                    None => disk.disk.deactivate(id),
                }
            }
        }
        Ok(())
    }

    /// Records one trace event.
    #[inline(always)]
    pub fn trace<K: TraceEvent>(&mut self, record: Record<K>) -> Result<(), EngineError> {
        self.trace.record(record).map_err(EngineError::Io)
    }

    /// Trace events recorded so far.
    pub fn events(&self) -> u64 {
        self.trace.events()
    }

    /// Finishes the trace: its hex digest, and its per-chunk digests when asked for.
    pub(super) fn finish_trace(self) -> Result<(String, Vec<u64>), EngineError> {
        self.trace.finish_with_chunks().map_err(EngineError::Io)
    }

    /// The nodes.
    #[inline]
    pub fn topology(&self) -> &Topology {
        &self.topology
    }

    /// The run seed.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// A random stream of the run, for one purpose (`stream_id`, see [`streams`]) and
    /// sub-stream.
    pub fn stream(&self, stream_id: u64, sub: u64) -> ChaCha8Rng {
        stream(self.seed, stream_id, sub)
    }

    /// Simulated time of the run, ns.
    #[inline]
    pub fn duration_ns(&self) -> Nanos {
        self.duration_ns
    }

    /// Metrics window length, ns.
    pub fn window_ns(&self) -> Nanos {
        self.window_ns
    }

    /// Metrics windows in the run.
    pub fn window_count(&self) -> usize {
        self.window_count
    }

    /// The most pending events the queue takes.
    pub fn max_pending_events(&self) -> usize {
        self.queue.limit()
    }
}
