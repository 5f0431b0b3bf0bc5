//! The service host: runs a distributed system written as `async fn main(ctx)` per node
//! under the kernel, generic over the system's messages, reports and config.
//!
//! A [`Service`] is two things. Its *processes* are the code under test: one
//! `async fn main(ctx)` per node ([`Service::main`], built with [`main_task`]), talking
//! through a [`Ctx`] only (true time for records, the node's own clock, typed `send`
//! and `recv`, timers, its disk, its random stream, `report`). Its *engine side* is the
//! `Service` value itself: it sees what the processes report ([`Service::report`]) and
//! what the network does with their messages, keeps the run's figures and checks its
//! invariants, and may schedule events of its own (a snapshot's start, a load change).
//! A real deployment has no engine side: it is the logs and metrics a service exports,
//! plus the checker that reads them.
//!
//! [`ServiceHost`] is the [`Workload`] that joins the two: it carries messages through
//! the kernel's network (payloads wait in a slab; the queue holds a slot number), puts
//! them and timers into the processes' mailboxes, lets each woken process run until it
//! waits again ([`ProcessTable::settle`]), and turns what it asked for into kernel
//! events. Every process workload goes through it: the bank, and a user's own crate.
//!
//! # Guarantees (from [`super::process`])
//!
//! - One process runs between two kernel events, and only when the host wakes it.
//! - A crash drops the process's future (madsim kills its node), empties its mailbox,
//!   voids its timers (a timer names the incarnation that set it) and loses its disk's
//!   unsynced bytes; a restart runs `main` again, which must recover from its disk.
//! - A process that never waits is an invariant error after
//!   [`super::process::MAX_SETTLE_YIELDS`] polls, not a hang.
//!
//! # Direct calls
//!
//! A service whose node logic is also a sans-IO state machine can offer
//! [`Service::direct`]: the host then hands inputs to it by plain calls instead of
//! madsim tasks (no node faults then). The benchmark runs the bank both ways, which
//! shows the host's own cost per message.

use std::fmt::Debug;
use std::future::Future;
use std::rc::Rc;
use std::sync::Arc;

use super::disk::DiskConfig;
use super::kernel::Kernel;
use super::network::{DropReason, Route};
use super::nodes::{Family, NodeId};
use super::process::{Ctx, Incoming, Init, Outgoing, ProcessTable};
use super::queue::Nanos;
use super::slots::Slots;
use super::streams;
use super::trace::{Record, TraceEvent};
use super::workload::{NodeChange, Workload};
use super::EngineError;

/// The init task of node `node`, as the host boots it (again after every restart): it
/// attaches to the node's mailbox, runs `main(ctx)`, and marks the process finished if
/// `main` returns.
///
/// ```
/// use faultline::engine::process::{Ctx, Incoming};
/// use faultline::engine::service::main_task;
///
/// // A node that answers every message with the same message.
/// let init = main_task(0, |ctx: Ctx<u64, ()>| async move {
///     loop {
///         if let Incoming::Message { from, msg } = ctx.recv().await {
///             ctx.send(from, msg);
///         }
///     }
/// });
/// # let _ = init;
/// ```
pub fn main_task<M, R, F, Fut>(node: NodeId, main: F) -> Init
where
    M: 'static,
    R: 'static,
    F: Fn(Ctx<M, R>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + 'static,
{
    let main = Arc::new(main);
    Arc::new(move || {
        let main = Arc::clone(&main);
        Box::pin(async move {
            let ctx: Ctx<M, R> = ProcessTable::boot(node).await;
            let finished = ctx.clone();
            main(ctx).await;
            finished.exit();
        })
    })
}

/// Nodes driven by direct calls instead of tasks (see the module documentation).
pub trait Direct<M, R> {
    /// Queues `incoming` for `node`.
    fn deliver(&mut self, node: NodeId, incoming: Incoming<M>);

    /// Hands `node` what is queued for it at `now_ns` (its clock reading `pt_ns`); what
    /// it asks for goes into `out`, in order.
    fn run(
        &mut self,
        node: NodeId,
        now_ns: Nanos,
        pt_ns: Nanos,
        out: &mut Vec<Outgoing<M, R>>,
    ) -> Result<(), EngineError>;

    /// `node`'s fsync in flight is done at `now_ns`: the sends it releases (and the
    /// next fsync's completion, if it began one) into `out` (emptied first).
    fn fsync_done(
        &mut self,
        node: NodeId,
        now_ns: Nanos,
        out: &mut Vec<Outgoing<M, R>>,
    ) -> Result<(), EngineError>;
}

/// A distributed system the host runs: its processes and its engine side (see the
/// module documentation). Every hook has a default but [`Service::start`],
/// [`Service::report`] and [`Service::finish`].
pub trait Service: Sized + 'static {
    /// The resolved config (its scenario section, typed).
    type Config;
    /// What its processes send each other.
    type Msg: 'static;
    /// What its processes report ([`Ctx::report`]).
    type Report: 'static;
    /// Events its engine side schedules for itself ([`Hosting::schedule`]); `()` if
    /// none.
    type Event: Copy + Debug + 'static;
    /// What a finished run produces (its record is built from this).
    type Output;

    /// The `async fn main(ctx)` of `node`, if it runs one ([`main_task`]). Called once
    /// per node when the run starts.
    fn main(config: &Self::Config, node: NodeId) -> Option<Init>;

    /// The disk of each node of `family`, if its nodes have one.
    fn disk(_config: &Self::Config, _family: &Family) -> Option<DiskConfig> {
        None
    }

    /// Nodes driven by direct calls instead of tasks, if this run asks for it.
    fn direct(
        _config: &Self::Config,
        _kernel: &Kernel<HostEvent<Self::Event>>,
    ) -> Option<Box<dyn Direct<Self::Msg, Self::Report>>> {
        None
    }

    /// Builds the engine side when the run starts: the processes are attached but have
    /// not run yet; messages it delivers ([`Hosting::deliver`]) are their first input.
    fn start(config: &Self::Config, host: &mut Hosting<'_, Self>) -> Result<Self, EngineError>;

    /// Process `node` reported `report` at `now_ns`.
    fn report(
        &mut self,
        host: &mut Hosting<'_, Self>,
        now_ns: Nanos,
        node: NodeId,
        report: Self::Report,
    ) -> Result<(), EngineError>;

    /// One of its own events is due.
    fn event(
        &mut self,
        _host: &mut Hosting<'_, Self>,
        _now_ns: Nanos,
        _event: Self::Event,
    ) -> Result<(), EngineError> {
        Ok(())
    }

    /// `from` hands `msg` for `to` to the network (before the network decides).
    fn sent(&mut self, _now_ns: Nanos, _from: NodeId, _to: NodeId, _msg: &Self::Msg) {}

    /// The network lost `msg` from `from` to `to`. The default traces a
    /// [`HostTrace::Drop`].
    fn dropped(
        &mut self,
        host: &mut Hosting<'_, Self>,
        now_ns: Nanos,
        from: NodeId,
        to: NodeId,
        _msg: &Self::Msg,
        reason: DropReason,
    ) -> Result<(), EngineError> {
        host.trace(
            Record::at(now_ns, HostTrace::Drop(reason))
                .node(from)
                .peer(to),
        )
    }

    /// `msg` from `from` reached `to`: into its mailbox if `accepted`, else lost (the
    /// node is down, or has exited, or its mailbox is full). The default traces a
    /// [`HostTrace::NodeDown`] for a lost one.
    fn arrived(
        &mut self,
        host: &mut Hosting<'_, Self>,
        now_ns: Nanos,
        from: NodeId,
        to: NodeId,
        _msg: &Self::Msg,
        accepted: bool,
    ) -> Result<(), EngineError> {
        if accepted {
            return Ok(());
        }
        host.trace(Record::at(now_ns, HostTrace::NodeDown).node(from).peer(to))
    }

    /// A node fault changed `node` (the host has applied it: a crashed process is gone,
    /// a restarted one boots on the next settle). The default traces crashes and
    /// restarts.
    fn node_changed(
        &mut self,
        host: &mut Hosting<'_, Self>,
        now_ns: Nanos,
        node: NodeId,
        change: NodeChange,
    ) -> Result<(), EngineError> {
        let event = match change {
            NodeChange::Crash => HostTrace::Crash,
            NodeChange::Restart => HostTrace::Restart,
            _ => return Ok(()),
        };
        host.trace(Record::at(now_ns, event).node(node))
    }

    /// After the last event: deliver what makes the processes report their final state
    /// (the host lets them run before [`Service::finish`]).
    fn drain(&mut self, _host: &mut Hosting<'_, Self>, _now_ns: Nanos) -> Result<(), EngineError> {
        Ok(())
    }

    /// Ends the run: the output, with the service's invariants checked.
    fn finish(self, host: &Finishing<'_, Self>) -> Result<Self::Output, EngineError>;
}

/// The host's events in the kernel's queue.
#[derive(Clone, Copy, Debug)]
pub enum HostEvent<E> {
    /// A message reaches `to` (its payload waits in the host's slab).
    Deliver {
        /// The receiver.
        to: NodeId,
        /// The payload's slot.
        payload: u32,
    },
    /// A timer a process set.
    Timer {
        /// The node.
        node: NodeId,
        /// The incarnation that set it.
        incarnation: u32,
        /// Its token.
        token: u64,
    },
    /// A node's group commit has an fsync done: it releases the sends held behind it
    /// (see [`super::commit`]).
    FsyncDone {
        /// The node.
        node: NodeId,
        /// The incarnation that began it.
        incarnation: u32,
    },
    /// One of the service's own events.
    Service(E),
}

/// Message counters of a hosted run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HostStats {
    /// Messages handed to the network.
    pub sent: u64,
    /// Messages put into a mailbox.
    pub delivered: u64,
    /// Messages the network lost.
    pub dropped: u64,
    /// Messages that reached a node that was down (or had exited, or a full mailbox).
    pub to_down_nodes: u64,
}

/// The host's records, for a service that keeps the default hooks.
#[derive(Clone, Copy, Debug)]
pub enum HostTrace {
    /// The network lost a message.
    Drop(DropReason),
    /// A message reached a node that is down.
    NodeDown,
    /// A node crashed.
    Crash,
    /// A node restarted.
    Restart,
}

/// The `ev` names of [`HostTrace`] records.
pub const HOST_TRACE_KINDS: &[&str] = &["drop", "node_down", "crash", "restart"];

impl TraceEvent for HostTrace {
    fn code(&self) -> u8 {
        match self {
            HostTrace::Drop(_) => 1,
            HostTrace::NodeDown => 2,
            HostTrace::Crash => 3,
            HostTrace::Restart => 4,
        }
    }

    fn detail(&self) -> u64 {
        match self {
            HostTrace::Drop(reason) => *reason as u64,
            _ => 0,
        }
    }

    fn name(&self) -> &'static str {
        match self {
            HostTrace::Drop(_) => "drop",
            HostTrace::NodeDown => "node_down",
            HostTrace::Crash => "crash",
            HostTrace::Restart => "restart",
        }
    }

    fn write_fields(&self, out: &mut dyn std::io::Write) -> std::io::Result<()> {
        match self {
            HostTrace::Drop(reason) => write!(out, ",\"reason\":\"{}\"", reason.as_str()),
            _ => Ok(()),
        }
    }
}

/// How the host reaches its nodes.
enum Nodes<M, R> {
    /// As madsim tasks, through their mailboxes.
    Tasks(Rc<ProcessTable<M, R>>),
    /// By direct calls; the table only says who is up.
    Direct(Rc<ProcessTable<M, R>>, Box<dyn Direct<M, R>>),
}

/// The host's own state: mailboxes, messages in the network, woken nodes.
struct HostCore<M, R> {
    nodes: Nodes<M, R>,
    /// Nodes woken since the last settle, in order.
    dirty: Vec<NodeId>,
    /// Messages in the network: (sender, receiver, message).
    payloads: Vec<Option<(NodeId, NodeId, M)>>,
    free: Slots,
    stats: HostStats,
}

impl<M: 'static, R: 'static> HostCore<M, R> {
    fn table(&self) -> &Rc<ProcessTable<M, R>> {
        match &self.nodes {
            Nodes::Tasks(table) | Nodes::Direct(table, _) => table,
        }
    }

    fn mark_dirty(&mut self, node: NodeId) {
        if !self.dirty.contains(&node) {
            self.dirty.push(node);
        }
    }

    /// Puts `incoming` into `node`'s mailbox (or its direct input queue) and wakes it;
    /// false when the node cannot take it.
    fn deliver(
        &mut self,
        node: NodeId,
        now_ns: Nanos,
        pt_ns: Nanos,
        incoming: Incoming<M>,
    ) -> bool {
        let delivered = match &mut self.nodes {
            Nodes::Direct(_, direct) => {
                direct.deliver(node, incoming);
                true
            }
            Nodes::Tasks(table) => table.deliver(node, now_ns, pt_ns, incoming),
        };
        if delivered {
            self.mark_dirty(node);
        }
        delivered
    }

    /// Whether a message for `node` would go into its mailbox now.
    fn accepts(&self, node: NodeId) -> bool {
        match &self.nodes {
            Nodes::Direct(..) => true,
            Nodes::Tasks(table) => table.accepts(node),
        }
    }
}

/// What the engine side may do while the run goes on: the kernel (time, clocks,
/// disks, trace, its own events) and the host (deliver to a process, who is up).
pub struct Hosting<'a, S: Service> {
    kernel: &'a mut Kernel<HostEvent<S::Event>>,
    core: &'a mut HostCore<S::Msg, S::Report>,
}

impl<S: Service> Hosting<'_, S> {
    /// The kernel, read-only (clocks, disks, topology, windows, random streams).
    pub fn kernel(&self) -> &Kernel<HostEvent<S::Event>> {
        self.kernel
    }

    /// Writes a trace record.
    pub fn trace<K: TraceEvent>(&mut self, record: Record<K>) -> Result<(), EngineError> {
        self.kernel.trace(record)
    }

    /// Schedules one of the service's own events at `at_ns`.
    pub fn schedule(&mut self, at_ns: Nanos, event: S::Event) -> Result<(), EngineError> {
        self.kernel.schedule(at_ns, HostEvent::Service(event))
    }

    /// Node `node`'s physical clock at true time `now_ns`.
    pub fn physical(&self, node: NodeId, now_ns: Nanos) -> Nanos {
        self.kernel.physical(node, now_ns)
    }

    /// Delivers `msg` to `node` as if `from` had sent it, without the network (what the
    /// engine side tells a process: start a snapshot, report your state). False when
    /// the node cannot take it.
    pub fn deliver(&mut self, node: NodeId, from: NodeId, now_ns: Nanos, msg: S::Msg) -> bool {
        let pt_ns = self.kernel.physical(node, now_ns);
        self.core
            .deliver(node, now_ns, pt_ns, Incoming::Message { from, msg })
    }

    /// Whether `node` is up (not crashed).
    pub fn alive(&self, node: NodeId) -> bool {
        self.core.table().alive(node)
    }

    /// The current incarnation of `node` (0 before its first restart).
    pub fn incarnation(&self, node: NodeId) -> u32 {
        self.core.table().incarnation(node)
    }

    /// The host's message counters so far.
    pub fn stats(&self) -> &HostStats {
        &self.core.stats
    }
}

/// What the engine side reads when the run ends.
pub struct Finishing<'a, S: Service> {
    kernel: &'a Kernel<HostEvent<S::Event>>,
    core: &'a HostCore<S::Msg, S::Report>,
}

impl<S: Service> Finishing<'_, S> {
    /// The kernel, read-only (its disks hold what the processes left).
    pub fn kernel(&self) -> &Kernel<HostEvent<S::Event>> {
        self.kernel
    }

    /// Messages still in the network: (sender, receiver, message).
    pub fn in_network(&self) -> impl Iterator<Item = (NodeId, NodeId, &S::Msg)> + '_ {
        self.core
            .payloads
            .iter()
            .flatten()
            .map(|(from, to, msg)| (*from, *to, msg))
    }

    /// The host's message counters.
    pub fn stats(&self) -> &HostStats {
        &self.core.stats
    }

    /// Entries dropped at full mailboxes, all nodes.
    pub fn mailbox_drops(&self) -> u64 {
        self.core.table().dropped()
    }

    /// Whether `node` is up (not crashed).
    pub fn alive(&self, node: NodeId) -> bool {
        self.core.table().alive(node)
    }
}

/// A process panic named by its node's name.
fn named<E: Copy>(err: EngineError, kernel: &Kernel<E>) -> EngineError {
    match err {
        EngineError::Panic {
            node,
            at_ns,
            message,
            ..
        } => EngineError::Panic {
            node,
            name: kernel.topology().name(node),
            at_ns,
            message,
        },
        other => other,
    }
}

/// The [`Workload`] that runs a [`Service`] (see the module documentation).
pub struct ServiceHost<S: Service> {
    core: HostCore<S::Msg, S::Report>,
    service: S,
    /// What a node asked for in one step (reused).
    outbox: Vec<Outgoing<S::Msg, S::Report>>,
}

impl<S: Service> ServiceHost<S> {
    fn hosting<'a>(
        core: &'a mut HostCore<S::Msg, S::Report>,
        kernel: &'a mut Kernel<HostEvent<S::Event>>,
    ) -> Hosting<'a, S> {
        Hosting { kernel, core }
    }

    /// Carries out what `node` asked for (emptying `outbox`): sends into the network,
    /// timers and group-commit completions into the kernel's queue, reports to the
    /// engine side.
    fn carry_out(
        &mut self,
        kernel: &mut Kernel<HostEvent<S::Event>>,
        now_ns: Nanos,
        node: NodeId,
        outbox: &mut Vec<Outgoing<S::Msg, S::Report>>,
    ) -> Result<(), EngineError> {
        for out in outbox.drain(..) {
            match out {
                Outgoing::Send { to, msg } => self.send(kernel, now_ns, node, to, msg)?,
                Outgoing::Timer { at_ns, token } => kernel.schedule(
                    at_ns.max(now_ns),
                    HostEvent::Timer {
                        node,
                        incarnation: self.core.table().incarnation(node),
                        token,
                    },
                )?,
                Outgoing::Commit { at_ns } => kernel.schedule(
                    at_ns.max(now_ns),
                    HostEvent::FsyncDone {
                        node,
                        incarnation: self.core.table().incarnation(node),
                    },
                )?,
                Outgoing::Report(report) => {
                    let mut host = Self::hosting(&mut self.core, kernel);
                    self.service.report(&mut host, now_ns, node, report)?;
                }
            }
        }
        Ok(())
    }

    fn send(
        &mut self,
        kernel: &mut Kernel<HostEvent<S::Event>>,
        now_ns: Nanos,
        from: NodeId,
        to: NodeId,
        msg: S::Msg,
    ) -> Result<(), EngineError> {
        self.core.stats.sent += 1;
        self.service.sent(now_ns, from, to, &msg);
        match kernel.route(from, to) {
            Route::Deliver { latency_ns } => {
                let (slot, new) = self.core.free.take().map_err(|_| {
                    EngineError::Limit("more than 4 billion messages in flight".into())
                })?;
                if new {
                    self.core.payloads.push(Some((from, to, msg)));
                } else {
                    self.core.payloads[slot as usize] = Some((from, to, msg));
                }
                kernel.schedule(
                    now_ns.saturating_add(latency_ns),
                    HostEvent::Deliver { to, payload: slot },
                )
            }
            Route::Drop(reason) => {
                self.core.stats.dropped += 1;
                let mut host = Self::hosting(&mut self.core, kernel);
                self.service
                    .dropped(&mut host, now_ns, from, to, &msg, reason)
            }
        }
    }

    fn arrive(
        &mut self,
        kernel: &mut Kernel<HostEvent<S::Event>>,
        now_ns: Nanos,
        to: NodeId,
        payload: u32,
    ) -> Result<(), EngineError> {
        let (from, to_, msg) = self.core.payloads[payload as usize]
            .take()
            .ok_or_else(|| EngineError::Invariant("a message delivered twice".into()))?;
        debug_assert_eq!(to, to_);
        self.core.free.free(payload);
        let accepted = self.core.accepts(to);
        let mut host = Self::hosting(&mut self.core, kernel);
        self.service
            .arrived(&mut host, now_ns, from, to, &msg, accepted)?;
        if accepted {
            let pt_ns = kernel.physical(to, now_ns);
            let delivered = self
                .core
                .deliver(to, now_ns, pt_ns, Incoming::Message { from, msg });
            debug_assert!(delivered, "a node that accepts takes the message");
            self.core.stats.delivered += 1;
        } else {
            self.core.stats.to_down_nodes += 1;
        }
        Ok(())
    }
}

impl<S: Service> Workload for ServiceHost<S> {
    type Config = S::Config;
    type Event = HostEvent<S::Event>;
    type Output = S::Output;

    const PROCESSES: bool = true;

    fn process(config: &S::Config, node: NodeId) -> Option<Init> {
        S::main(config, node)
    }

    fn disk(config: &S::Config, family: &Family) -> Option<DiskConfig> {
        S::disk(config, family)
    }

    fn start(
        config: &S::Config,
        kernel: &mut Kernel<HostEvent<S::Event>>,
    ) -> Result<Self, EngineError> {
        let topology = kernel.topology();
        let hosted = topology.hosted();
        let table: Rc<ProcessTable<S::Msg, S::Report>> = ProcessTable::new(
            topology.node_count(),
            hosted.iter().map(|&node| {
                (
                    node,
                    kernel.disk(node),
                    kernel.stream(streams::PROCESS, u64::from(node)),
                )
            }),
        );
        ProcessTable::install(&table);
        let nodes = match S::direct(config, kernel) {
            Some(direct) => Nodes::Direct(table, direct),
            None => Nodes::Tasks(table),
        };
        let mut core = HostCore {
            nodes,
            dirty: Vec::with_capacity(hosted.len()),
            payloads: Vec::new(),
            free: Slots::new(),
            stats: HostStats::default(),
        };
        // Every process runs at the first settle: what it asked for while booting (its
        // first timers, sends, reports) is carried out then.
        for &node in &hosted {
            core.table().set_time(node, 0, kernel.physical(node, 0));
            core.mark_dirty(node);
        }
        let service = S::start(config, &mut Self::hosting(&mut core, kernel))?;
        Ok(ServiceHost {
            core,
            service,
            outbox: Vec::new(),
        })
    }

    fn handle(
        &mut self,
        kernel: &mut Kernel<HostEvent<S::Event>>,
        now_ns: Nanos,
        event: &HostEvent<S::Event>,
    ) -> Result<(), EngineError> {
        match *event {
            HostEvent::Deliver { to, payload } => self.arrive(kernel, now_ns, to, payload),
            HostEvent::Timer {
                node,
                incarnation,
                token,
            } => {
                if self.core.table().incarnation(node) == incarnation {
                    let pt_ns = kernel.physical(node, now_ns);
                    self.core
                        .deliver(node, now_ns, pt_ns, Incoming::Timer { token });
                }
                Ok(())
            }
            HostEvent::FsyncDone { node, incarnation } => {
                let mut outbox = std::mem::take(&mut self.outbox);
                match &mut self.core.nodes {
                    Nodes::Direct(_, direct) => direct.fsync_done(node, now_ns, &mut outbox)?,
                    Nodes::Tasks(table) if table.incarnation(node) == incarnation => {
                        table.commit_done(node, now_ns, &mut outbox)?
                    }
                    Nodes::Tasks(_) => outbox.clear(),
                }
                let carried = self.carry_out(kernel, now_ns, node, &mut outbox);
                self.outbox = outbox;
                carried
            }
            HostEvent::Service(event) => {
                let mut host = Self::hosting(&mut self.core, kernel);
                self.service.event(&mut host, now_ns, event)
            }
        }
    }

    fn node_change(
        &mut self,
        kernel: &mut Kernel<HostEvent<S::Event>>,
        now_ns: Nanos,
        node: NodeId,
        change: NodeChange,
    ) -> Result<bool, EngineError> {
        let table = match &self.core.nodes {
            Nodes::Tasks(table) => Rc::clone(table),
            Nodes::Direct(..) => {
                return Err(EngineError::Config(
                    "node faults need the nodes as processes (this run drives them directly)"
                        .into(),
                ))
            }
        };
        let alive = table.alive(node);
        let changed = match change {
            NodeChange::Crash if alive => {
                table.crash(node);
                true
            }
            NodeChange::Restart if !alive => {
                table.restart(node, now_ns, kernel.physical(node, now_ns));
                // The new incarnation boots on the next settle.
                self.core.mark_dirty(node);
                true
            }
            NodeChange::Pause if alive => {
                table.pause(node);
                true
            }
            NodeChange::Resume if alive => {
                table.resume(node, now_ns, kernel.physical(node, now_ns));
                self.core.mark_dirty(node);
                true
            }
            _ => false,
        };
        if changed {
            let mut host = Self::hosting(&mut self.core, kernel);
            self.service.node_changed(&mut host, now_ns, node, change)?;
        }
        Ok(changed)
    }

    async fn settle(
        &mut self,
        kernel: &mut Kernel<HostEvent<S::Event>>,
        now_ns: Nanos,
    ) -> Result<(), EngineError> {
        let mut next = 0;
        while next < self.core.dirty.len() {
            let node = self.core.dirty[next];
            next += 1;
            let mut outbox = std::mem::take(&mut self.outbox);
            match &mut self.core.nodes {
                Nodes::Direct(_, direct) => {
                    outbox.clear();
                    let pt_ns = kernel.physical(node, now_ns);
                    direct.run(node, now_ns, pt_ns, &mut outbox)?;
                }
                Nodes::Tasks(table) => {
                    table.settle(node).await.map_err(|err| named(err, kernel))?;
                    table.take_outbox(node, &mut outbox);
                }
            }
            let carried = self.carry_out(kernel, now_ns, node, &mut outbox);
            self.outbox = outbox;
            carried?;
        }
        self.core.dirty.clear();
        Ok(())
    }

    async fn drain(
        &mut self,
        kernel: &mut Kernel<HostEvent<S::Event>>,
        now_ns: Nanos,
    ) -> Result<(), EngineError> {
        {
            let mut host = Self::hosting(&mut self.core, kernel);
            self.service.drain(&mut host, now_ns)?;
        }
        self.settle(kernel, now_ns).await
    }

    fn finish(self, kernel: &Kernel<HostEvent<S::Event>>) -> Result<S::Output, EngineError> {
        let host = Finishing {
            kernel,
            core: &self.core,
        };
        let output = self.service.finish(&host);
        ProcessTable::<S::Msg, S::Report>::uninstall();
        output
    }
}
