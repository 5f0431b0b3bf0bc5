//! The one interface between the kernel and a workload.
//!
//! A workload is a state machine over its own events, driven by the kernel: the driver
//! takes the next entry of the kernel's queue, applies fault actions itself (network,
//! clocks, madsim nodes) and tells the workload what a node fault means for it through
//! [`Workload::node_change`]; every other entry goes to [`Workload::handle`]. The driver
//! is generic over the workload, so a workload's hot path is monomorphic: the kind is
//! matched once per run, not once per event.

use super::disk::DiskConfig;
use super::kernel::{Due, Kernel};
use super::nodes::{Family, NodeId};
use super::process::Init;
use super::queue::Nanos;
use super::EngineError;

/// What a node fault does to a node (the workload decides what that means for it).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum NodeChange {
    /// The node crashes: its volatile state is lost.
    Crash,
    /// A crashed node starts again.
    Restart,
    /// The node stops making progress, state kept.
    Pause,
    /// A paused node goes on.
    Resume,
    /// Work on the node takes `factor` times as long (1 restores).
    Slowdown {
        /// The multiplier, > 0.
        factor: f64,
    },
}

/// A workload: what the nodes of a run do (see the module documentation).
/// `'static`: a process workload's driver owns its world while it runs as a coroutine
/// (see [`super::handoff`]).
pub trait Workload: Sized + 'static {
    /// The workload's resolved configuration.
    type Config;
    /// Its events, as they sit in the kernel's queue: keep them small and `Copy`.
    type Event: Copy + std::fmt::Debug + 'static;
    /// What a finished run of it produces (its record section is built from this).
    type Output;

    /// Whether its nodes run processes as madsim tasks: then the driver awaits
    /// [`Self::settle`] after every event and fault action.
    const PROCESSES: bool = false;

    /// The init task of hosted node `node` (its process), if the workload has one; a
    /// hosted node without one only lives until killed.
    fn process(_config: &Self::Config, _node: NodeId) -> Option<Init> {
        None
    }

    /// The disk of each node of `family`, if its nodes have one.
    fn disk(_config: &Self::Config, _family: &Family) -> Option<DiskConfig> {
        None
    }

    /// Builds the workload's state and schedules its first events.
    fn start(config: &Self::Config, kernel: &mut Kernel<Self::Event>) -> Result<Self, EngineError>;

    /// The next entry due. A workload with event sources of its own (a timer FIFO, an
    /// arrival process) merges them with the kernel's queue here; the default takes the
    /// queue's next entry.
    #[inline]
    fn next_event(
        &mut self,
        kernel: &mut Kernel<Self::Event>,
    ) -> Option<(Nanos, Due<Self::Event>)> {
        kernel.pop()
    }

    /// Handles one of its events at `now_ns`.
    fn handle(
        &mut self,
        kernel: &mut Kernel<Self::Event>,
        now_ns: Nanos,
        event: &Self::Event,
    ) -> Result<(), EngineError>;

    /// A node fault reaches `node`. Returns whether the node's state changed (a crash of
    /// a node already down changes nothing); only then does its madsim node follow.
    fn node_change(
        &mut self,
        kernel: &mut Kernel<Self::Event>,
        now_ns: Nanos,
        node: NodeId,
        change: NodeChange,
    ) -> Result<bool, EngineError>;

    /// Lets the processes woken since the last call run until they wait again, and turns
    /// what they asked for into kernel events (only called when [`Self::PROCESSES`]).
    #[allow(async_fn_in_trait)] // driven by the kernel's own single-threaded loop
    async fn settle(
        &mut self,
        _kernel: &mut Kernel<Self::Event>,
        _now_ns: Nanos,
    ) -> Result<(), EngineError> {
        Ok(())
    }

    /// After the last event, before [`Self::finish`]: lets the processes report their
    /// final state (only called when [`Self::PROCESSES`]).
    #[allow(async_fn_in_trait)]
    async fn drain(
        &mut self,
        _kernel: &mut Kernel<Self::Event>,
        _now_ns: Nanos,
    ) -> Result<(), EngineError> {
        Ok(())
    }

    /// Ends the run: the workload's output, with its invariants checked.
    fn finish(self, kernel: &Kernel<Self::Event>) -> Result<Self::Output, EngineError>;
}
