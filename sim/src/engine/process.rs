//! Processes as real async tasks on madsim nodes.
//!
//! A process workload runs each process as the init task of its own madsim node,
//! `async fn main(ctx)`. Its state lives in that future, so a crash (madsim `kill`)
//! really drops it, and a restart really runs `main` again, which must recover from its
//! disk. The kernel stays the only clock: madsim's timers have a 1 ms floor and its
//! network adds delays, so a process never uses them. Instead the kernel pops an event,
//! puts the message or timer into that process's [`Mailbox`], wakes that one task and
//! yields to madsim until the task waits again ([`ProcessTable::settle`]); then it turns
//! what the process asked for (sends, timers) into kernel events. One runnable task at a
//! time keeps madsim's random ready-queue order from reordering anything.
//!
//! The [`Ctx`] is a process's whole world: true time for the engine's records
//! ([`Ctx::now`]), its node's physical clock with skew, drift and jumps ([`Ctx::clock`],
//! what an HLC must read), [`Ctx::send`], [`Ctx::recv`], [`Ctx::set_timer`],
//! [`Ctx::sleep_until`], its disk ([`Ctx::file`], and [`Ctx::barrier`] to hold its
//! sends until the disk has made what it wrote durable, see [`super::commit`]) and a
//! random stream of its own ([`Ctx::rng`]).
//!
//! # Invariants
//!
//! - A process is woken only by the driver, and only one process runs between two
//!   kernel events.
//! - A crashed process receives nothing: its mailbox is emptied and every timer it set
//!   is void (a timer names the incarnation that set it).
//! - [`ProcessTable::settle`] returns only when the process waits in `recv` or
//!   `sleep_until`, has exited, or is down or paused; past [`MAX_SETTLE_YIELDS`] polls of
//!   the process's task it reports an invariant error instead of hanging.
//!
//! # The hand-off
//!
//! While the driver settles a process, it is not in madsim's ready queue: it is parked
//! as a coroutine that the host resumes right after the process's poll (see
//! [`super::handoff`]). So exactly one task is ready at any moment, and a step costs one
//! madsim task poll. Yielding instead would leave both in the queue, from which madsim
//! picks at random: a third of the polls were the driver finding the process still
//! busy.

use std::any::Any;
use std::cell::{RefCell, RefMut};
use std::collections::VecDeque;
use std::future::Future;
use std::panic::{self, AssertUnwindSafe};
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use rand_chacha::ChaCha8Rng;

use super::commit::GroupCommit;
use super::disk::{Disk, DiskError};
use super::handoff;
use super::nodes::NodeId;
use super::queue::Nanos;
use super::EngineError;

/// Most polls of a woken process's task before it waits again.
pub const MAX_SETTLE_YIELDS: u32 = 10_000;

/// Most entries one mailbox holds (a paused process buffers; past this, messages to it
/// are dropped and counted).
pub const MAILBOX_LIMIT: usize = 1 << 20;

/// A madsim node's init task: builds the process's future each time the node boots.
pub type Init = Arc<dyn Fn() -> Pin<Box<dyn Future<Output = ()>>> + Send + Sync>;

/// What a process receives.
#[derive(Debug)]
pub enum Incoming<M> {
    /// A message from another process.
    Message {
        /// The sender.
        from: NodeId,
        /// The message.
        msg: M,
    },
    /// A timer the process set with [`Ctx::set_timer`].
    Timer {
        /// The token it gave.
        token: u64,
    },
}

/// What a process asked for during one step, in order.
#[derive(Debug)]
pub enum Outgoing<M, R> {
    /// Send `msg` to `to`.
    Send {
        /// The receiver.
        to: NodeId,
        /// The message.
        msg: M,
    },
    /// Deliver [`Incoming::Timer`] with `token` at `at_ns`.
    Timer {
        /// When, ns of true time.
        at_ns: Nanos,
        /// The token.
        token: u64,
    },
    /// Complete the node's group commit at `at_ns` ([`ProcessTable::commit_done`]): an
    /// fsync began.
    Commit {
        /// When, ns of true time.
        at_ns: Nanos,
    },
    /// Tell the workload's engine side (for its records and checks: what a production
    /// process would log or export as metrics).
    Report(R),
}

/// Tokens from here up are the runtime's own (sleeps).
pub(super) const SLEEP_TOKENS: u64 = 1 << 63;

/// One process's link with the driver.
#[derive(Debug)]
pub struct Mailbox<M, R> {
    /// Boots so far minus one: a timer names the incarnation that set it.
    incarnation: u32,
    /// False from a crash until the node boots again.
    alive: bool,
    paused: bool,
    /// The task's future has finished.
    exited: bool,
    /// The task waits in `recv` or `sleep_until` (set when it returns `Pending`).
    waiting: bool,
    inbox: VecDeque<Incoming<M>>,
    outbox: Vec<Outgoing<M, R>>,
    /// Sends waiting for the log to be durable ([`Ctx::barrier`]).
    commit: GroupCommit<M>,
    waker: Option<Waker>,
    now_ns: Nanos,
    physical_ns: Nanos,
    /// Entries dropped because the mailbox was full.
    dropped: u64,
    /// The next sleep token.
    next_sleep: u64,
}

impl<M, R> Mailbox<M, R> {
    fn new() -> Self {
        Mailbox {
            incarnation: 0,
            alive: true,
            paused: false,
            exited: false,
            waiting: false,
            inbox: VecDeque::new(),
            outbox: Vec::new(),
            commit: GroupCommit::default(),
            waker: None,
            now_ns: 0,
            physical_ns: 0,
            dropped: 0,
            next_sleep: SLEEP_TOKENS,
        }
    }

    /// Whether the driver may move on: the process waits, or cannot run.
    fn idle(&self) -> bool {
        !self.alive || self.paused || self.exited || self.waiting
    }

    /// The task returns `Pending` in `recv` or `sleep_until`. Its waker is kept from one
    /// wait to the next (a task's waker does not change), so a step clones none.
    fn wait(&mut self, waker: &Waker) {
        self.waiting = true;
        if !self
            .waker
            .as_ref()
            .is_some_and(|kept| kept.will_wake(waker))
        {
            self.waker = Some(waker.clone());
        }
    }

    /// Wakes the task if it waits.
    fn wake(&mut self) {
        if std::mem::replace(&mut self.waiting, false) {
            if let Some(waker) = &self.waker {
                waker.wake_by_ref();
            }
        }
    }
}

/// A mailbox shared by the driver and its process.
type SharedMailbox<M, R> = Rc<RefCell<Mailbox<M, R>>>;

/// The mailboxes of a run's processes, by node id (see the module documentation).
pub struct ProcessTable<M, R> {
    boxes: Vec<Option<SharedMailbox<M, R>>>,
    /// Each process's disk, if its family has one.
    disks: Vec<Option<Rc<RefCell<NodeDisk>>>>,
    /// Each process's random stream, by node: kept across restarts (the "hardware"
    /// draws on), so an incarnation never repeats its predecessor's draws.
    rngs: Vec<Option<Rc<RefCell<ChaCha8Rng>>>>,
}

/// A disk with the random stream its latencies, tears and corruptions draw from.
#[derive(Debug)]
pub struct NodeDisk {
    /// The disk.
    pub disk: Disk,
    /// Its draws.
    pub rng: ChaCha8Rng,
}

thread_local! {
    /// The table of the simulation running on this thread (each run has a fresh thread).
    static TABLE: RefCell<Option<Rc<dyn Any>>> = const { RefCell::new(None) };
}

impl<M: 'static, R: 'static> ProcessTable<M, R> {
    /// A table for `node_count` nodes, with a mailbox for each node in `processes`.
    pub fn new(
        node_count: u32,
        processes: impl IntoIterator<Item = (NodeId, Option<Rc<RefCell<NodeDisk>>>, ChaCha8Rng)>,
    ) -> Rc<Self> {
        let mut boxes: Vec<Option<SharedMailbox<M, R>>> = (0..node_count).map(|_| None).collect();
        let mut disks: Vec<Option<Rc<RefCell<NodeDisk>>>> = (0..node_count).map(|_| None).collect();
        let mut rngs: Vec<Option<Rc<RefCell<ChaCha8Rng>>>> =
            (0..node_count).map(|_| None).collect();
        for (node, disk, rng) in processes {
            boxes[node as usize] = Some(Rc::new(RefCell::new(Mailbox::new())));
            disks[node as usize] = disk;
            rngs[node as usize] = Some(Rc::new(RefCell::new(rng)));
        }
        Rc::new(ProcessTable { boxes, disks, rngs })
    }

    /// Makes `table` the one processes on this thread attach to.
    pub fn install(table: &Rc<Self>) {
        let shared: Rc<dyn Any> = table.clone();
        TABLE.with(|slot| *slot.borrow_mut() = Some(shared));
    }

    /// Forgets the installed table (at the end of a run).
    pub fn uninstall() {
        TABLE.with(|slot| *slot.borrow_mut() = None);
    }

    fn mailbox(&self, node: NodeId) -> &Rc<RefCell<Mailbox<M, R>>> {
        self.boxes[node as usize]
            .as_ref()
            .expect("a node of a process workload has a mailbox")
    }

    /// Whether `node` is up (not crashed).
    pub fn alive(&self, node: NodeId) -> bool {
        self.mailbox(node).borrow().alive
    }

    /// The incarnation of `node` (0 before its first restart).
    pub fn incarnation(&self, node: NodeId) -> u32 {
        self.mailbox(node).borrow().incarnation
    }

    /// Whether a message for `node` would go into its mailbox now: it is up and has not
    /// exited, and its mailbox has room (a full one counts the message as dropped).
    pub fn accepts(&self, node: NodeId) -> bool {
        let mut mailbox = self.mailbox(node).borrow_mut();
        if !mailbox.alive || mailbox.exited {
            return false;
        }
        if mailbox.inbox.len() >= MAILBOX_LIMIT {
            mailbox.dropped += 1;
            return false;
        }
        true
    }

    /// Puts `incoming` into `node`'s mailbox at `now_ns` (its clock reading
    /// `physical_ns`) and wakes it. Returns false, dropping it, when the node is down
    /// or its mailbox full.
    pub fn deliver(
        &self,
        node: NodeId,
        now_ns: Nanos,
        physical_ns: Nanos,
        incoming: Incoming<M>,
    ) -> bool {
        if !self.accepts(node) {
            return false;
        }
        let mut mailbox = self.mailbox(node).borrow_mut();
        mailbox.inbox.push_back(incoming);
        mailbox.now_ns = now_ns;
        mailbox.physical_ns = physical_ns;
        if !mailbox.paused {
            mailbox.wake();
        }
        true
    }

    /// Sets the time a booting or resumed process sees first.
    pub fn set_time(&self, node: NodeId, now_ns: Nanos, physical_ns: Nanos) {
        let mut mailbox = self.mailbox(node).borrow_mut();
        mailbox.now_ns = now_ns;
        mailbox.physical_ns = physical_ns;
    }

    /// Waits until `node` waits again (or cannot run); see "The hand-off".
    pub fn settle(&self, node: NodeId) -> Settle<'_, M, R> {
        Settle {
            mailbox: self.mailbox(node),
            node,
            polls: 0,
        }
    }

    /// Takes what `node` asked for since the last call, into `out` (emptied first).
    pub fn take_outbox(&self, node: NodeId, out: &mut Vec<Outgoing<M, R>>) {
        out.clear();
        std::mem::swap(out, &mut self.mailbox(node).borrow_mut().outbox);
    }

    /// Completes `node`'s fsync in flight at `now_ns` (the time an
    /// [`Outgoing::Commit`] named): the sends it releases, and the next
    /// [`Outgoing::Commit`] if it began another fsync, go into `out` (emptied first).
    /// The process is not woken: the runtime sends for it.
    pub fn commit_done(
        &self,
        node: NodeId,
        now_ns: Nanos,
        out: &mut Vec<Outgoing<M, R>>,
    ) -> Result<(), EngineError> {
        let mut mailbox = self.mailbox(node).borrow_mut();
        complete_commit(
            &mut mailbox.commit,
            self.disks[node as usize].as_deref(),
            node,
            now_ns,
            out,
        )
    }

    /// A crash: the node is down, its mailbox emptied, its timers void. The kernel
    /// kills the madsim node (which drops the task) and crashes its disk.
    pub fn crash(&self, node: NodeId) {
        let mut mailbox = self.mailbox(node).borrow_mut();
        mailbox.alive = false;
        mailbox.paused = false;
        mailbox.waiting = false;
        mailbox.inbox.clear();
        mailbox.outbox.clear();
        mailbox.commit.clear();
        mailbox.waker = None;
    }

    /// A restart: the node is up with a new incarnation; its task boots on the next
    /// yield (the caller restarts the madsim node, then settles it).
    pub fn restart(&self, node: NodeId, now_ns: Nanos, physical_ns: Nanos) {
        let mut mailbox = self.mailbox(node).borrow_mut();
        debug_assert!(!mailbox.alive, "restart of a running process");
        mailbox.alive = true;
        mailbox.exited = false;
        mailbox.waiting = false;
        mailbox.incarnation += 1;
        mailbox.now_ns = now_ns;
        mailbox.physical_ns = physical_ns;
    }

    /// A pause: the node keeps its state; what arrives is buffered.
    pub fn pause(&self, node: NodeId) {
        self.mailbox(node).borrow_mut().paused = true;
    }

    /// A resume: the node runs again and sees what was buffered.
    pub fn resume(&self, node: NodeId, now_ns: Nanos, physical_ns: Nanos) {
        let mut mailbox = self.mailbox(node).borrow_mut();
        mailbox.paused = false;
        mailbox.now_ns = now_ns;
        mailbox.physical_ns = physical_ns;
        if !mailbox.inbox.is_empty() {
            mailbox.wake();
        }
    }

    /// Entries dropped at full mailboxes, all nodes.
    pub fn dropped(&self) -> u64 {
        self.boxes
            .iter()
            .flatten()
            .map(|mailbox| {
                let mailbox = mailbox.borrow();
                mailbox.dropped + mailbox.commit.dropped()
            })
            .sum()
    }

    /// Waits until a table is installed, then attaches the process booting at `node`
    /// to its mailbox (called from the node's init task, which madsim may poll before
    /// the driver has started the workload). Panics if no table comes within
    /// [`MAX_SETTLE_YIELDS`] yields: a bug of the workload's engine side.
    pub async fn boot(node: NodeId) -> Ctx<M, R> {
        for _ in 0..MAX_SETTLE_YIELDS {
            if TABLE.with(|slot| slot.borrow().is_some()) {
                return Self::attach(node);
            }
            madsim::task::yield_now().await;
        }
        panic!("no process table was installed for node {node}");
    }

    /// Attaches the process booting at `node` to its mailbox. Panics if no table is
    /// installed: a bug of the workload's engine side.
    pub fn attach(node: NodeId) -> Ctx<M, R> {
        let table: Rc<ProcessTable<M, R>> = TABLE.with(|slot| {
            slot.borrow()
                .clone()
                .expect("a process table is installed before processes boot")
                .downcast::<ProcessTable<M, R>>()
                .unwrap_or_else(|_| panic!("the installed process table has another message type"))
        });
        let mailbox = Rc::clone(table.mailbox(node));
        {
            let mut mailbox = mailbox.borrow_mut();
            mailbox.waiting = false;
            mailbox.exited = false;
        }
        Ctx {
            backend: Backend::Sim(SimCtx {
                mailbox,
                disk: table.disks[node as usize].clone(),
                rng: Rc::clone(
                    table.rngs[node as usize]
                        .as_ref()
                        .expect("every process has a random stream"),
                ),
            }),
            node,
        }
    }
}

/// A process's whole world (see the module documentation). A clone is the same
/// process's handle.
///
/// One API, two backends: the simulator's mailbox (what [`ProcessTable::attach`]
/// hands out) or, with the `live` feature, a real node on tokio
/// ([`super::live::LiveNode`]). The same `async fn main(ctx)` runs on either; only
/// what is behind these calls differs.
pub struct Ctx<M, R> {
    backend: Backend<M, R>,
    node: NodeId,
}

/// What a [`Ctx`]'s calls reach. Without the `live` feature it has one variant, so
/// every `match` on it compiles to the simulator's code alone.
enum Backend<M, R> {
    Sim(SimCtx<M, R>),
    #[cfg(feature = "live")]
    Live(Rc<super::live::Shared<M, R>>),
}

/// The simulator's side of a [`Ctx`].
struct SimCtx<M, R> {
    mailbox: Rc<RefCell<Mailbox<M, R>>>,
    disk: Option<Rc<RefCell<NodeDisk>>>,
    rng: Rc<RefCell<ChaCha8Rng>>,
}

impl<M, R> Clone for Ctx<M, R> {
    fn clone(&self) -> Self {
        let backend = match &self.backend {
            Backend::Sim(sim) => Backend::Sim(SimCtx {
                mailbox: Rc::clone(&sim.mailbox),
                disk: sim.disk.clone(),
                rng: Rc::clone(&sim.rng),
            }),
            #[cfg(feature = "live")]
            Backend::Live(live) => Backend::Live(Rc::clone(live)),
        };
        Ctx {
            backend,
            node: self.node,
        }
    }
}

impl<M, R> Ctx<M, R> {
    /// A context on the live backend.
    #[cfg(feature = "live")]
    pub(super) fn live(node: NodeId, shared: Rc<super::live::Shared<M, R>>) -> Self {
        Ctx {
            backend: Backend::Live(shared),
            node,
        }
    }

    /// The live node behind this context (for the backend's tests).
    #[cfg(all(test, feature = "live"))]
    pub(super) fn live_shared(&self) -> &Rc<super::live::Shared<M, R>> {
        match &self.backend {
            Backend::Live(live) => live,
            Backend::Sim(_) => panic!("a simulated context"),
        }
    }

    /// This process's node.
    #[inline]
    pub fn node(&self) -> NodeId {
        self.node
    }

    /// Boots of this node before this one.
    #[inline]
    pub fn incarnation(&self) -> u32 {
        match &self.backend {
            Backend::Sim(sim) => sim.mailbox.borrow().incarnation,
            #[cfg(feature = "live")]
            Backend::Live(live) => live.incarnation(),
        }
    }

    /// True simulated time, ns: for the engine's records only. Process logic that needs
    /// the time reads [`Ctx::clock`], as a real process can only read its own clock.
    /// Live: monotonic ns since the node started.
    #[inline]
    pub fn now(&self) -> Nanos {
        match &self.backend {
            Backend::Sim(sim) => sim.mailbox.borrow().now_ns,
            #[cfg(feature = "live")]
            Backend::Live(live) => live.now_ns(),
        }
    }

    /// This node's physical clock, ns: true time with the node's skew, drift and jumps.
    /// Live: the system clock, ns since the Unix epoch.
    #[inline]
    pub fn clock(&self) -> Nanos {
        match &self.backend {
            Backend::Sim(sim) => sim.mailbox.borrow().physical_ns,
            #[cfg(feature = "live")]
            Backend::Live(live) => live.clock_ns(),
        }
    }

    /// Sends `msg` to the process at `to` (through the kernel's network, when this step
    /// ends; live: a datagram, at once).
    #[inline]
    pub fn send(&self, to: NodeId, msg: M) {
        match &self.backend {
            Backend::Sim(sim) => {
                let mut mailbox = sim.mailbox.borrow_mut();
                let Mailbox { commit, outbox, .. } = &mut *mailbox;
                commit.send(to, msg, |to, msg| outbox.push(Outgoing::Send { to, msg }));
            }
            #[cfg(feature = "live")]
            Backend::Live(live) => live.send(to, msg),
        }
    }

    /// A barrier on `file`: every message this process sends from now on leaves only
    /// once all it wrote to `file` so far is durable (group commit, see
    /// [`super::commit`]). Returns at once: the process goes on taking input while the
    /// fsync runs, and the runtime releases the messages when it completes.
    pub fn barrier(&self, file: &str) -> Result<(), DiskError> {
        match &self.backend {
            Backend::Sim(sim) => {
                let Some(disk) = sim.disk.as_ref() else {
                    return Err(DiskError::Config("this node has no disk".to_owned()));
                };
                let mut mailbox = sim.mailbox.borrow_mut();
                let now_ns = mailbox.now_ns;
                let began = mailbox
                    .commit
                    .barrier(&mut disk.borrow_mut(), file, now_ns)?;
                if let Some(at_ns) = began {
                    mailbox.outbox.push(Outgoing::Commit { at_ns });
                }
                Ok(())
            }
            #[cfg(feature = "live")]
            Backend::Live(live) => live.barrier(file),
        }
    }

    /// Reports `report` to the workload's engine side (when this step ends; live: to
    /// the sink the node was given, at once).
    #[inline]
    pub fn report(&self, report: R) {
        match &self.backend {
            Backend::Sim(sim) => sim
                .mailbox
                .borrow_mut()
                .outbox
                .push(Outgoing::Report(report)),
            #[cfg(feature = "live")]
            Backend::Live(live) => live.report(report),
        }
    }

    /// Asks for [`Incoming::Timer`] with `token` at true time `at_ns` (tokens from 2^63
    /// up are reserved; live: at `at_ns` of [`Ctx::now`]).
    #[inline]
    pub fn set_timer(&self, at_ns: Nanos, token: u64) {
        debug_assert!(
            token < SLEEP_TOKENS,
            "timer tokens from 2^63 up are reserved"
        );
        self.timer(at_ns, token);
    }

    #[inline]
    fn timer(&self, at_ns: Nanos, token: u64) {
        match &self.backend {
            Backend::Sim(sim) => sim
                .mailbox
                .borrow_mut()
                .outbox
                .push(Outgoing::Timer { at_ns, token }),
            #[cfg(feature = "live")]
            Backend::Live(live) => live.set_timer(at_ns, token),
        }
    }

    /// The next message or timer.
    #[inline]
    pub fn recv(&self) -> Recv<'_, M, R> {
        Recv { ctx: self }
    }

    /// Waits until true time `at_ns`; messages arriving meanwhile wait in the mailbox.
    pub fn sleep_until(&self, at_ns: Nanos) -> Sleep<'_, M, R> {
        let token = match &self.backend {
            Backend::Sim(sim) => {
                let mut mailbox = sim.mailbox.borrow_mut();
                let token = mailbox.next_sleep;
                mailbox.next_sleep += 1;
                token
            }
            #[cfg(feature = "live")]
            Backend::Live(live) => live.next_sleep_token(),
        };
        self.timer(at_ns, token);
        Sleep { ctx: self, token }
    }

    /// `file` on this node's disk, if it has one (the file need not exist yet: an
    /// append creates it).
    pub fn file<'a>(&'a self, file: &'a str) -> Option<DiskFile<'a>> {
        let disk = match &self.backend {
            Backend::Sim(sim) => NodeFiles::Sim(sim.disk.as_ref()?.borrow_mut()),
            #[cfg(feature = "live")]
            Backend::Live(live) => NodeFiles::Live(live.disk()?),
        };
        Some(DiskFile { disk, name: file })
    }

    /// The simulated disk itself, for a simulator-only workload that times its own
    /// fsyncs (the bank's checkpoints wait for one outside the group commit); `None`
    /// without a disk and on the live backend. Services use [`Ctx::file`] and
    /// [`Ctx::barrier`], which both backends carry out.
    pub fn sim_disk(&self) -> Option<RefMut<'_, NodeDisk>> {
        match &self.backend {
            Backend::Sim(sim) => sim.disk.as_ref().map(|disk| disk.borrow_mut()),
            #[cfg(feature = "live")]
            Backend::Live(_) => None,
        }
    }

    /// Marks this process as finished: call when `main` returns, so the driver does not
    /// wait for it to take input again.
    pub fn exit(&self) {
        match &self.backend {
            Backend::Sim(sim) => {
                let mut mailbox = sim.mailbox.borrow_mut();
                mailbox.exited = true;
                mailbox.waker = None;
            }
            // The live node ends when `main` returns.
            #[cfg(feature = "live")]
            Backend::Live(_) => {}
        }
    }

    /// This process's random stream (live: seeded from the OS).
    #[inline]
    pub fn rng(&self) -> RefMut<'_, ChaCha8Rng> {
        match &self.backend {
            Backend::Sim(sim) => sim.rng.borrow_mut(),
            #[cfg(feature = "live")]
            Backend::Live(live) => live.rng(),
        }
    }
}

/// One file of a node's disk ([`Ctx::file`]): the simulated disk, whose faults apply
/// (a read may come back corrupted, drawn from the disk's own stream), or a real file.
pub struct DiskFile<'a> {
    disk: NodeFiles<'a>,
    name: &'a str,
}

enum NodeFiles<'a> {
    Sim(RefMut<'a, NodeDisk>),
    #[cfg(feature = "live")]
    Live(RefMut<'a, super::live::LiveDisk>),
}

impl DiskFile<'_> {
    /// Its length as reads see it, bytes ([`DiskError::NotFound`] if it does not
    /// exist).
    pub fn len(&self) -> Result<u64, DiskError> {
        match &self.disk {
            NodeFiles::Sim(disk) => disk.disk.len(self.name),
            #[cfg(feature = "live")]
            NodeFiles::Live(disk) => disk.len(self.name),
        }
    }

    /// Whether it is empty or missing.
    pub fn is_empty(&self) -> bool {
        self.len().map_or(true, |len| len == 0)
    }

    /// Reads `len_bytes` at `offset`.
    pub fn read(&mut self, offset: u64, len_bytes: u64) -> Result<Vec<u8>, DiskError> {
        match &mut self.disk {
            NodeFiles::Sim(disk) => {
                let NodeDisk { disk, rng } = &mut **disk;
                disk.read(self.name, offset, len_bytes, rng)
            }
            #[cfg(feature = "live")]
            NodeFiles::Live(disk) => disk.read(self.name, offset, len_bytes),
        }
    }

    /// Appends `bytes` (creating the file if missing); returns the offset they start
    /// at. They are durable only once a [`Ctx::barrier`] on the file has completed.
    pub fn append(&mut self, bytes: &[u8]) -> Result<u64, DiskError> {
        match &mut self.disk {
            NodeFiles::Sim(disk) => disk.disk.append(self.name, bytes),
            #[cfg(feature = "live")]
            NodeFiles::Live(disk) => disk.append(self.name, bytes),
        }
    }

    /// Cuts it to `len_bytes` (at most its length).
    pub fn truncate(&mut self, len_bytes: u64) -> Result<(), DiskError> {
        match &mut self.disk {
            NodeFiles::Sim(disk) => disk.disk.truncate(self.name, len_bytes),
            #[cfg(feature = "live")]
            NodeFiles::Live(disk) => disk.truncate(self.name, len_bytes),
        }
    }

    /// Removes it.
    pub fn remove(&mut self) -> Result<(), DiskError> {
        match &mut self.disk {
            NodeFiles::Sim(disk) => disk.disk.remove(self.name),
            #[cfg(feature = "live")]
            NodeFiles::Live(disk) => disk.remove(self.name),
        }
    }
}

/// Completes `commit`'s fsync in flight on `disk` at `now_ns`: the sends it releases,
/// and the next [`Outgoing::Commit`] if it began another fsync, into `out` (emptied
/// first). Shared by the process runtime and the bank's direct driver.
pub fn complete_commit<M, R>(
    commit: &mut GroupCommit<M>,
    disk: Option<&RefCell<NodeDisk>>,
    node: NodeId,
    now_ns: Nanos,
    out: &mut Vec<Outgoing<M, R>>,
) -> Result<(), EngineError> {
    out.clear();
    let Some(disk) = disk else {
        return Ok(());
    };
    let next = commit
        .complete(&mut disk.borrow_mut(), now_ns, |to, msg| {
            out.push(Outgoing::Send { to, msg })
        })
        .map_err(|err| EngineError::Invariant(format!("group commit at node {node}: {err}")))?;
    if let Some(at_ns) = next {
        out.push(Outgoing::Commit { at_ns });
    }
    Ok(())
}

/// A node's task, as the host spawns it: after every poll it hands control back to the
/// driver if the driver waits for a process to settle ([`handoff::task_polled`]). A
/// panic of the process is caught here, kept for the driver ([`take_panic`]) and ends
/// the process: it is the service's bug, reported with its node and time, not a crash
/// of the simulator.
pub(super) struct Supervised<F>(pub(super) NodeId, pub(super) Pin<Box<F>>);

impl<F: Future> Future for Supervised<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let node = self.0;
        let task = &mut self.1;
        IN_PROCESS.with(|flag| flag.set(true));
        let polled = panic::catch_unwind(AssertUnwindSafe(|| task.as_mut().poll(cx)));
        IN_PROCESS.with(|flag| flag.set(false));
        handoff::task_polled();
        match polled {
            Ok(polled) => polled,
            Err(payload) => {
                let message = PANIC_TEXT
                    .with(|text| text.borrow_mut().take())
                    .unwrap_or_else(|| {
                        panic_text(payload.as_ref())
                            .unwrap_or(NO_PANIC_TEXT)
                            .to_owned()
                    });
                PANIC.with(|slot| {
                    // The first panic is the one to report.
                    slot.borrow_mut()
                        .get_or_insert(ProcessPanic { node, message });
                });
                Poll::Pending
            }
        }
    }
}

/// A process's panic, caught (see [`Supervised`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProcessPanic {
    /// The node whose process panicked.
    pub node: NodeId,
    /// The panic's message and where it was raised (`index out of bounds at
    /// src/store.rs:41:9`).
    pub message: String,
}

thread_local! {
    /// Set while a process's task is polled (the panic hook stays quiet then).
    static IN_PROCESS: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    /// The message and place of the process panic being unwound, from the hook.
    static PANIC_TEXT: RefCell<Option<String>> = const { RefCell::new(None) };
    /// The first process panic of the run on this thread, until the driver takes it.
    static PANIC: RefCell<Option<ProcessPanic>> = const { RefCell::new(None) };
}

/// Takes the process panic caught on this thread, if any.
pub fn take_panic() -> Option<ProcessPanic> {
    PANIC.with(|slot| slot.borrow_mut().take())
}

/// A panic payload's message, when it is text (what `panic!` with a message carries).
pub fn panic_text(payload: &(dyn Any + Send)) -> Option<&str> {
    payload
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| payload.downcast_ref::<&str>().copied())
}

/// A process panic's words when its payload has none.
const NO_PANIC_TEXT: &str = "a panic without a message";

/// Installs (once per process) a panic hook that keeps a process's panic quiet and
/// records its message and place for [`ProcessPanic`]; every other panic goes to the
/// hook that was there before. The run reports the panic itself, with the node and the
/// simulated time, instead of a backtrace through the runtime.
pub fn install_panic_hook() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if IN_PROCESS.with(|flag| flag.get()) {
                let mut text = panic_text(info.payload())
                    .unwrap_or(NO_PANIC_TEXT)
                    .to_owned();
                if let Some(at) = info.location() {
                    text.push_str(&format!(
                        " (at {}:{}:{})",
                        at.file(),
                        at.line(),
                        at.column()
                    ));
                }
                PANIC_TEXT.with(|slot| *slot.borrow_mut() = Some(text));
            } else {
                previous(info);
            }
        }));
    });
}

/// The future of [`ProcessTable::settle`].
pub struct Settle<'a, M, R> {
    mailbox: &'a SharedMailbox<M, R>,
    node: NodeId,
    polls: u32,
}

impl<M, R> Future for Settle<'_, M, R> {
    type Output = Result<(), EngineError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        if let Some(panic) = take_panic() {
            let at_ns = self.mailbox.borrow().now_ns;
            return Poll::Ready(Err(EngineError::Panic {
                node: panic.node,
                name: format!("node {}", panic.node),
                at_ns,
                message: panic.message,
            }));
        }
        if self.mailbox.borrow().idle() {
            return Poll::Ready(Ok(()));
        }
        self.polls += 1;
        if self.polls > MAX_SETTLE_YIELDS {
            let node = self.node;
            return Poll::Ready(Err(EngineError::Invariant(format!(
                "process at node {node} did not wait again within {MAX_SETTLE_YIELDS} polls \
                 of its task (does it loop, or await something other than recv or sleep_until?)"
            ))));
        }
        // Polled again and the process still runs: it yields, or awaits something the
        // driver never sees. Yield too (to the main task, see `handoff`), so the bound
        // above is reached instead of madsim finding every task blocked. Without a
        // hand-off driver on this thread, always yield.
        if self.polls > 1 || !handoff::resume_after_next_poll() {
            cx.waker().wake_by_ref();
        }
        Poll::Pending
    }
}

/// The future of [`Ctx::recv`].
pub struct Recv<'a, M, R> {
    ctx: &'a Ctx<M, R>,
}

impl<M, R> Future for Recv<'_, M, R> {
    type Output = Incoming<M>;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Incoming<M>> {
        match &self.ctx.backend {
            Backend::Sim(sim) => {
                let mut mailbox = sim.mailbox.borrow_mut();
                if let Some(incoming) = next_incoming(&mut mailbox.inbox) {
                    return Poll::Ready(incoming);
                }
                mailbox.wait(cx.waker());
                Poll::Pending
            }
            #[cfg(feature = "live")]
            Backend::Live(live) => live.poll_inbox(cx, next_incoming),
        }
    }
}

/// The next message or timer of `inbox`. Sleep timers belong to `sleep_until`; one
/// still queued here is stale.
pub(super) fn next_incoming<M>(inbox: &mut VecDeque<Incoming<M>>) -> Option<Incoming<M>> {
    while let Some(incoming) = inbox.pop_front() {
        match incoming {
            Incoming::Timer { token } if token >= SLEEP_TOKENS => continue,
            incoming => return Some(incoming),
        }
    }
    None
}

/// Takes the timer `token` out of `inbox`, if it is there.
fn take_timer<M>(inbox: &mut VecDeque<Incoming<M>>, token: u64) -> Option<()> {
    let index = inbox
        .iter()
        .position(|incoming| matches!(incoming, Incoming::Timer { token: t } if *t == token))?;
    inbox.remove(index);
    Some(())
}

/// The future of [`Ctx::sleep_until`].
pub struct Sleep<'a, M, R> {
    ctx: &'a Ctx<M, R>,
    token: u64,
}

impl<M, R> Future for Sleep<'_, M, R> {
    type Output = ();

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let token = self.token;
        match &self.ctx.backend {
            Backend::Sim(sim) => {
                let mut mailbox = sim.mailbox.borrow_mut();
                if take_timer(&mut mailbox.inbox, token).is_some() {
                    return Poll::Ready(());
                }
                mailbox.wait(cx.waker());
                Poll::Pending
            }
            #[cfg(feature = "live")]
            Backend::Live(live) => live.poll_inbox(cx, |inbox| take_timer(inbox, token)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn a_process_that_never_waits_is_an_invariant_error_not_a_hang() {
        let runtime = madsim::runtime::Runtime::with_seed_and_config(1, madsim::Config::default());
        let settled = runtime.block_on(async {
            let table: Rc<ProcessTable<u32, u32>> =
                ProcessTable::new(1, [(0, None, ChaCha8Rng::seed_from_u64(0))]);
            ProcessTable::install(&table);
            let _node = madsim::runtime::Handle::current()
                .create_node()
                .name("stuck")
                .init(|| {
                    Supervised(
                        0,
                        Box::pin(async {
                            let _ctx: Ctx<u32, u32> = ProcessTable::boot(0).await;
                            // Awaits something that is neither `recv` nor `sleep_until`.
                            std::future::pending::<()>().await;
                        }),
                    )
                })
                .build();
            table.deliver(0, 1, 1, Incoming::Timer { token: 0 });
            let settled = table.settle(0).await;
            ProcessTable::<u32, u32>::uninstall();
            settled
        });
        let err = settled.expect_err("a process that never waits cannot settle");
        assert!(err.to_string().contains("did not wait again"), "{err}");
    }
}
