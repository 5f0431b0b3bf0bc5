//! The `rpc` workload: a population of logical clients issuing requests through the
//! real models (timeout, retry with backoff and jitter, retry budget, circuit breaker,
//! HLC) against a pool of servers with workers and bounded queues.
//!
//! Clients are multiplexed: one slot in a few flat vectors each, no task or socket per
//! client, so 100,000 clients cost memory, not scheduling. In-flight logical requests
//! live in a slab; every message and timer names its request by (slot, generation), and
//! the generation moves on with every attempt, so a late reply or a stale timer is
//! recognised and ignored instead of cancelled.

use std::collections::{BTreeMap, VecDeque};
use std::time::Duration;

use faultline_models::backoff::BackoffState;
use faultline_models::breaker::{Admission, BreakerState, CallOutcome, CircuitBreaker, Permit};
use faultline_models::budget::{RetryBudget, RetryKind};
use faultline_models::clock::{Hlc, HlcTimestamp};
use faultline_models::limit::{ConcurrencyLimit, LimitConfig, Limiter, Sample};
use faultline_models::timeout::{AdaptiveTimeout, TimeoutPolicy};
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use faultline_reports::figures::{FigureSpec, RecordTable, SeriesSpec, SeriesTable};
use faultline_reports::record::RunRecord;

use crate::engine::driver::Finished;
use crate::engine::kernel::{Due, Kernel};
use crate::engine::network::Route;
use crate::engine::nodes::{Family, NodeFaults, NodeId};
use crate::engine::queue::{EventQueue, Nanos};
use crate::engine::slots::Slots;
use crate::engine::trace::{Record, NO_NODE};
use crate::engine::workload::{NodeChange, Workload};
use crate::engine::EngineError;
use crate::format::check::CheckSpec;
use crate::format::Issue;
use crate::format::RunInfo;
use crate::record::Invocation;
use crate::workload::Context;
use crate::workload::{Kind, NumberLimit, Resolution};

pub mod figures;
pub mod load;

pub mod config;
mod conn;
pub mod expect;
pub mod metrics;
pub mod record;
pub mod spec;
pub mod trace;
pub mod validate;

pub use config::RpcConfig;
pub use conn::ConnEvent;
use conn::{Conn, Link};
use metrics::{Metrics, Totals, WindowCounters};
use trace::{DropCause, FailCause, RejectCause, RpcTrace};

const NONE32: u32 = NO_NODE;

/// The rpc workload's random streams (ChaCha stream ids; the kernel keeps 2 and 6).
mod streams {
    /// Client request arrivals and think times.
    pub const ARRIVALS: u64 = 1;
    /// Service times.
    pub const SERVICE: u64 = 3;
    /// Backoff jitter.
    pub const BACKOFF: u64 = 4;
    /// Server choice per attempt.
    pub const ROUTING: u64 = 5;
    /// Reconnect backoff jitter.
    pub const RECONNECT: u64 = 7;
    /// Concurrency limits (Vegas' probe jitter), a sub-stream per server.
    pub const LIMIT: u64 = 12;
}

/// Open-loop arrivals are drawn this many ahead (see [`RpcWorld::draw_next_arrival`]).
const ARRIVALS_AHEAD: usize = 32;

/// The timer FIFO loads the generation of the timer this many places ahead.
const TIMERS_AHEAD: usize = 8;

/// Bytes of one pending event in the kernel's queue (time and event).
pub const EVENT_ENTRY_BYTES: usize = EventQueue::<Due<Event>>::entry_bytes();

const _: () = assert!(
    std::mem::size_of::<Due<Event>>() == std::mem::size_of::<Event>(),
    "the kernel's fault entries cost no queue space (they fit in the event's tag)"
);

/// What a server answers an attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Answer {
    /// Served.
    Ok,
    /// An error (the server refused the attempt's clock).
    Error,
    /// Overloaded: a full queue rejected it or shedding dropped it. Carries the
    /// servers' `Retry-After`, when they send one.
    Overloaded,
}

/// A scheduled event of the rpc workload.
#[derive(Clone, Copy, Debug)]
pub enum Event {
    /// A client issues its next logical request.
    Arrival {
        /// Client index.
        client: u32,
    },
    /// An attempt reaches a server.
    ServerRecv(Msg),
    /// A server finishes serving an attempt.
    ServiceDone {
        /// The request.
        msg: Msg,
        /// Server incarnation that started the work (a crash voids it).
        incarnation: u32,
    },
    /// A reply reaches its client.
    ClientRecv {
        /// The request.
        msg: Msg,
        /// What the server answered.
        answer: Answer,
    },
    /// An attempt's timer fires.
    Timeout {
        /// Request slot.
        slot: u32,
        /// Attempt generation.
        gen: u32,
    },
    /// A backoff ends: send the next attempt.
    Retry {
        /// Request slot.
        slot: u32,
        /// Generation.
        gen: u32,
        /// Client index: with it, the client's state loads beside the request's
        /// instead of after it.
        client: u32,
    },
    /// A breaker's automatic open -> half-open deadline.
    BreakerDeadline {
        /// Client index.
        client: u32,
    },
    /// A client connection event (only with `workload.clients.connection`).
    Conn(ConnEvent),
}

/// A request or reply message.
#[derive(Clone, Copy, Debug)]
pub struct Msg {
    /// Request slot.
    pub slot: u32,
    /// Attempt generation.
    pub gen: u32,
    /// Client index.
    pub client: u32,
    /// Server index.
    pub server: u32,
    /// HLC timestamp carried by the message.
    pub hlc: HlcTimestamp,
    /// Logical request id, for traces: carried so that server-side handlers never
    /// touch the client's request slab (a cache miss per event at 100,000 clients).
    pub id: u64,
}

/// A logical request in flight: one cache line, as a retry touches it at random among
/// every request in flight (a million of them in a 100,000-client herd).
#[derive(Clone, Debug)]
#[repr(align(64))]
struct Request {
    client: u32,
    /// Attempts sent so far.
    attempts: u32,
    /// Logical id, for traces.
    id: u64,
    issued_ns: Nanos,
    attempt_sent_ns: Nanos,
    backoff: BackoffState,
    permit: Option<Permit>,
    last_retry: Option<RetryKind>,
    live: bool,
}

const _: () = assert!(
    std::mem::size_of::<Request>() == 64,
    "a request is one cache line"
);

/// What a client's every attempt touches, side by side: its HLC and its connection's
/// state. 32 bytes, so one cache-line load serves both (at 100,000 clients each is a
/// miss of its own when kept in separate arrays).
#[derive(Clone, Debug)]
#[repr(align(32))]
struct Client {
    hlc: Hlc,
    /// Connection state; always `Up` when the scenario has no connections.
    link: Link,
}

const _: () = assert!(
    std::mem::size_of::<Client>() == 32,
    "two clients to a cache line"
);

struct Queued {
    msg: Msg,
    arrived_ns: Nanos,
}

struct Server {
    up: bool,
    paused_since_ns: Option<Nanos>,
    incarnation: u32,
    busy: u32,
    queue: VecDeque<Queued>,
    hlc: Hlc,
    slowdown: f64,
    /// Events that arrived while paused: (delay after resume, event).
    deferred: Vec<(Nanos, Event)>,
    /// Its adaptive concurrency limit, when the scenario sets one.
    limit: Option<Box<ServerLimit>>,
}

/// A server's adaptive concurrency limit and what it needs to sample requests: each
/// admitted attempt's arrival and the attempts held then (at most workers + queue
/// entries).
struct ServerLimit {
    limiter: Limiter,
    /// (slot, generation) of an admitted attempt -> (arrival, attempts held with it).
    admitted: BTreeMap<(u32, u32), (Nanos, u32)>,
    rng: ChaCha8Rng,
    /// Lowest and highest limit over the run.
    range: [u32; 2],
}

impl ServerLimit {
    fn new(config: &LimitConfig, mut rng: ChaCha8Rng) -> ServerLimit {
        let limiter = Limiter::new(config, &mut rng);
        let limit = limiter.limit();
        ServerLimit {
            limiter,
            admitted: BTreeMap::new(),
            rng,
            range: [limit, limit],
        }
    }

    /// Feeds the attempt `msg` in, finished at `now_ns` (served, or dropped: shed).
    fn sample(&mut self, msg: &Msg, now_ns: Nanos, dropped: bool) {
        let Some((arrived_ns, in_flight)) = self.admitted.remove(&(msg.slot, msg.gen)) else {
            return;
        };
        let sample = Sample {
            start: dur(arrived_ns),
            rtt: dur(now_ns.saturating_sub(arrived_ns)),
            in_flight,
            dropped,
        };
        self.limiter.on_sample(&sample, &mut self.rng);
        let limit = self.limiter.limit();
        self.range = [self.range[0].min(limit), self.range[1].max(limit)];
    }
}

/// How a logical request ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Outcome {
    Failed,
    TimedOut,
    Breaker,
}

/// HLC observations.
#[derive(Clone, Copy, Debug, Default)]
pub struct HlcStats {
    /// Largest `l - pt` seen, ns.
    pub max_offset_ns: u64,
    /// Largest counter.
    pub max_counter: u32,
    /// Timestamps refused by the max-offset guard.
    pub rejected: u64,
}

/// The rpc world: all state of a run that the workload touches.
pub struct RpcWorld {
    cfg: RpcConfig,
    /// Node id of `server-0` (clients are nodes `0..clients`).
    server_base: NodeId,
    /// Timers of a fixed timeout, in firing order: each is set at `now + timeout`, so
    /// they arrive already sorted and a FIFO holds them for O(1) instead of the kernel's
    /// queue. `None` when the timeout is adaptive (timers then go through the queue).
    timeout_fifo: Option<VecDeque<(Nanos, u32, u32)>>,
    /// Open loop: the next arrival of the whole population (see [`config::ArrivalMode::Poisson`]),
    /// one pending arrival rather than one per client. `None` in closed loop or past the
    /// end of the run.
    next_arrival_ns: Option<Nanos>,
    /// The client of the next open-loop arrival, drawn with its time.
    next_arrival_client: u32,
    /// The load profile's peak factor (1 without one).
    load_peak: f64,
    /// Open-loop (gap, client) pairs drawn ahead of time, in draw order.
    arrivals_ahead: VecDeque<(Nanos, u32, f64)>,
    metrics: Metrics,
    hlc_stats: HlcStats,
    clients: Vec<Client>,
    timeouts: Vec<AdaptiveTimeout>,
    budgets: Vec<RetryBudget>,
    breakers: Vec<CircuitBreaker>,
    requests: Vec<Request>,
    /// The generation of each slot, beside the slab rather than in it: most timers and
    /// late replies only need to learn they are stale, and this dense array answers that
    /// without touching the request (a cache miss per event at 100,000 clients). A
    /// finished request's slot moves to a generation no message carries, so
    /// `gens[slot] == gen` alone means "current".
    gens: Vec<u32>,
    /// Which slots of `requests` are free (see [`Slots`]).
    slots: Slots,
    next_request_id: u64,
    servers: Vec<Server>,
    rng_arrivals: ChaCha8Rng,
    rng_service: ChaCha8Rng,
    rng_backoff: ChaCha8Rng,
    rng_routing: ChaCha8Rng,
    rng_reconnect: ChaCha8Rng,
    /// Per-client connection backoff and offline queue; empty when the scenario has
    /// no connections.
    conns: Vec<Conn>,
    /// Attempts in all offline queues.
    offline_held: u64,
    duration_ns: Nanos,
}

#[inline]
fn dur(ns: Nanos) -> Duration {
    Duration::from_nanos(ns)
}

#[inline]
fn nanos(duration: Duration) -> Nanos {
    u64::try_from(duration.as_nanos()).unwrap_or(Nanos::MAX)
}

/// The state [`Touch::event`] loads from.
struct Touch<'a> {
    gens: &'a [u32],
    requests: &'a [Request],
    clients: &'a [Client],
    breakers: &'a [CircuitBreaker],
    conns: &'a [Conn],
}

impl Touch<'_> {
    /// Loads, without using it, the state that handling `event` will read: its
    /// request's generation and record, its client's state and, for connection events,
    /// the connection. Called on the next events to come (see
    /// [`EventQueue::pop_touching`]), so that in a large run the cache misses of many
    /// events overlap, where at each event they would stall it alone. Only timing
    /// changes (safe Rust has no prefetch instruction; a load through `black_box`
    /// stands in). Loading one event ahead instead of a batch gained nothing: a plain
    /// load blocks retirement until it completes, so only several misses in flight at
    /// once help. A real prefetch and transparent huge pages (5-8 % on the herd) would
    /// each need `unsafe`.
    #[inline(always)]
    fn event(&self, event: &Event) {
        let (slot, client) = match *event {
            Event::ClientRecv { msg, .. } => (msg.slot, msg.client),
            Event::Retry { slot, client, .. } => (slot, client),
            Event::Timeout { slot, .. } => (slot, NONE32),
            Event::Arrival { client } => (NONE32, client),
            Event::Conn(conn) => {
                // Connection events read the client's backoff and offline queue too.
                if let Some(conn) = self.conns.get(conn.client() as usize) {
                    std::hint::black_box(conn.offline_len());
                }
                (NONE32, conn.client())
            }
            _ => return,
        };
        if let (Some(gen), Some(request)) = (
            self.gens.get(slot as usize),
            self.requests.get(slot as usize),
        ) {
            std::hint::black_box((*gen, request.attempts));
        }
        if let Some(state) = self.clients.get(client as usize) {
            std::hint::black_box(state.hlc.now());
        }
        if let Some(breaker) = self.breakers.get(client as usize) {
            std::hint::black_box(breaker.state());
        }
    }
}

type K = Kernel<Event>;

impl RpcWorld {
    /// The node id of `client-{index}`.
    #[inline]
    fn client_node(&self, client: u32) -> NodeId {
        debug_assert!(client < self.cfg.clients);
        client
    }

    /// The node id of `server-{index}`.
    #[inline]
    fn server_node(&self, server: u32) -> NodeId {
        debug_assert!(server < self.cfg.servers);
        self.server_base + server
    }

    /// The server index of a server node.
    fn server_of(&self, node: NodeId) -> Result<u32, EngineError> {
        node.checked_sub(self.server_base)
            .filter(|&server| server < self.cfg.servers)
            .ok_or_else(|| {
                EngineError::Invariant(format!("node {node} is not a server of the rpc workload"))
            })
    }

    fn next_gap_ns(&mut self) -> Nanos {
        self.cfg.arrival.next_gap_ns(&mut self.rng_arrivals)
    }

    /// Draws the next open-loop arrival after `now_ns`: its time and its client.
    ///
    /// The (gap, client) pairs come from the arrival stream in the same order as if
    /// drawn one at a time, but in batches, [`ARRIVALS_AHEAD`] / 2 arrivals before they
    /// are due: see [`Self::draw_arrivals_ahead`].
    ///
    /// With a load profile the candidates come at its peak rate and each is kept with
    /// probability `factor(t) / peak` (thinning, see [`load`]); a dropped candidate only
    /// moves the clock on.
    #[inline]
    fn draw_next_arrival(&mut self, now_ns: Nanos) {
        let mut at_ns = now_ns;
        loop {
            if self.arrivals_ahead.len() <= ARRIVALS_AHEAD / 2 {
                self.draw_arrivals_ahead();
            }
            let (gap_ns, client, keep) = self
                .arrivals_ahead
                .pop_front()
                .expect("arrivals were just drawn");
            at_ns = at_ns.saturating_add(gap_ns);
            let kept = match &self.cfg.load {
                None => true,
                Some(load) => at_ns > self.duration_ns || load.keeps(at_ns, keep, self.load_peak),
            };
            if kept {
                self.next_arrival_ns = (at_ns <= self.duration_ns).then_some(at_ns);
                self.next_arrival_client = client;
                return;
            }
        }
    }

    /// Tops up the arrivals drawn ahead, then reads each new client's breaker and HLC
    /// without using them. With 10,000 clients and more that state is not in cache;
    /// loaded here, a batch at a time, the misses overlap one another and are over
    /// when the arrivals come, instead of stalling every arrival's handler in turn.
    /// The loads come in a loop of their own: between draws (a hundred instructions
    /// each) the core could keep only one or two of them in flight. Only timing
    /// changes (safe Rust has no prefetch instruction).
    #[inline(never)]
    fn draw_arrivals_ahead(&mut self) {
        let first_new = self.arrivals_ahead.len();
        while self.arrivals_ahead.len() < ARRIVALS_AHEAD {
            let gap_ns = self.next_gap_ns();
            let client = if self.cfg.clients == 1 {
                0
            } else {
                self.rng_arrivals.gen_range(0..self.cfg.clients)
            };
            // The thinning draw comes only with a profile: a constant load draws what it
            // always drew.
            let keep = if self.cfg.load.is_some() {
                self.rng_arrivals.gen::<f64>()
            } else {
                0.0
            };
            self.arrivals_ahead.push_back((gap_ns, client, keep));
        }
        for &(_, client, _) in self.arrivals_ahead.range(first_new..) {
            if let Some(breaker) = self.breakers.get(client as usize) {
                std::hint::black_box(breaker.state());
            }
            if let Some(state) = self.clients.get(client as usize) {
                std::hint::black_box(state.hlc.now());
            }
        }
    }

    #[inline]
    fn observe_hlc(&mut self, stamp: HlcTimestamp, pt_ns: Nanos) {
        let offset = stamp.l_ns.saturating_sub(pt_ns);
        debug_assert!(
            stamp.l_ns >= pt_ns,
            "HLC l must never be below physical time"
        );
        self.hlc_stats.max_offset_ns = self.hlc_stats.max_offset_ns.max(offset);
        self.hlc_stats.max_counter = self.hlc_stats.max_counter.max(stamp.c);
    }

    #[inline]
    fn is_current(&self, slot: u32, gen: u32) -> bool {
        let current = self.gens.get(slot as usize) == Some(&gen);
        debug_assert!(
            !current || self.requests[slot as usize].live,
            "a stale generation is current"
        );
        current
    }

    /// Moves a slot to its next generation: whatever carried the old one is stale.
    #[inline]
    fn next_gen(&mut self, slot: u32) -> u32 {
        let gen = &mut self.gens[slot as usize];
        *gen = gen.wrapping_add(1);
        *gen
    }

    fn on_arrival(&mut self, k: &mut K, now_ns: Nanos, client: u32) -> Result<(), EngineError> {
        let id = self.next_request_id;
        self.next_request_id += 1;
        let request = Request {
            client,
            attempts: 0,
            id,
            issued_ns: now_ns,
            attempt_sent_ns: now_ns,
            backoff: BackoffState::default(),
            permit: None,
            last_retry: None,
            live: true,
        };
        let (slot, new) = self
            .slots
            .take()
            .map_err(|_| EngineError::Limit("more than 4 billion requests in flight".into()))?;
        if new {
            debug_assert_eq!(slot as usize, self.requests.len());
            self.requests.push(request);
            self.gens.push(0);
        } else {
            self.requests[slot as usize] = request;
        }
        self.metrics.at(now_ns).offered += 1;
        self.metrics.totals.offered += 1;
        if let Some(budget) = self.budgets.get_mut(client as usize) {
            budget.on_request(dur(now_ns));
        }
        k.trace(Record::at(now_ns, RpcTrace::Request).node(client).id(id))?;
        self.send_attempt(k, now_ns, slot, client)
    }

    /// Sends the next attempt of the request in `slot`, made by `client`.
    fn send_attempt(
        &mut self,
        k: &mut K,
        now_ns: Nanos,
        slot: u32,
        client: u32,
    ) -> Result<(), EngineError> {
        let (id, attempts, issued_ns) = {
            let request = &self.requests[slot as usize];
            debug_assert_eq!(request.client, client, "a request moved to another client");
            (request.id, request.attempts, request.issued_ns)
        };
        if !self.conns.is_empty() && !self.connection_ready(k, now_ns, slot, client)? {
            return Ok(());
        }
        let permit = match self.breakers.get_mut(client as usize) {
            Some(breaker) => match breaker.try_acquire(dur(now_ns)) {
                Admission::Admitted(permit) => Some(permit),
                Admission::Rejected => {
                    self.drain_breaker(k, now_ns, client)?;
                    return self.resolve(k, now_ns, slot, Outcome::Breaker);
                }
            },
            None => None,
        };
        if permit.is_some() {
            self.drain_breaker(k, now_ns, client)?;
        }
        let server = if self.cfg.servers == 1 {
            0
        } else if !self.conns.is_empty() {
            self.home_server(client)
        } else {
            self.rng_routing.gen_range(0..self.cfg.servers)
        };
        let client_node = self.client_node(client);
        let pt_ns = k.physical(client_node, now_ns);
        let stamp = self.clients[client as usize].hlc.send(dur(pt_ns));
        self.observe_hlc(stamp, pt_ns);
        let timeout_ns = match self.timeouts.get(client as usize) {
            Some(timeout) => nanos(timeout.timeout(&self.cfg.timeout)),
            None => self.cfg.fixed_timeout_ns,
        };
        let gen = self.next_gen(slot);
        {
            let request = &mut self.requests[slot as usize];
            request.attempts += 1;
            request.attempt_sent_ns = now_ns;
            request.permit = permit;
        }
        let window = self.metrics.at(now_ns);
        window.attempts += 1;
        self.metrics.offered_at(issued_ns).offered_attempts += 1;
        self.metrics.totals.attempts += 1;
        if attempts > 0 {
            self.metrics.totals.retries += 1;
        }
        k.trace(
            Record::at(now_ns, RpcTrace::Send { attempt: attempts })
                .node(client)
                .peer(server)
                .id(id),
        )?;
        let msg = Msg {
            slot,
            gen,
            client,
            server,
            hlc: stamp,
            id,
        };
        let server_node = self.server_node(server);
        match k.route(client_node, server_node) {
            Route::Deliver { latency_ns } => {
                k.schedule(now_ns.saturating_add(latency_ns), Event::ServerRecv(msg))?
            }
            Route::Drop(reason) => {
                self.dropped(k, now_ns, &msg, DropCause::Network(reason), false)?
            }
        }
        let timeout_at_ns = now_ns.saturating_add(timeout_ns);
        match self.timeout_fifo.as_mut() {
            Some(fifo) => {
                if timeout_at_ns <= self.duration_ns {
                    debug_assert!(fifo
                        .back()
                        .is_none_or(|&(last, _, _)| last <= timeout_at_ns));
                    if fifo.len() >= self.cfg.max_pending_events {
                        return Err(EngineError::Limit(format!(
                            "more than {} pending timers",
                            self.cfg.max_pending_events
                        )));
                    }
                    fifo.push_back((timeout_at_ns, slot, gen));
                }
                Ok(())
            }
            None => k.schedule(timeout_at_ns, Event::Timeout { slot, gen }),
        }
    }

    fn dropped(
        &mut self,
        k: &mut K,
        now_ns: Nanos,
        msg: &Msg,
        cause: DropCause,
        reply: bool,
    ) -> Result<(), EngineError> {
        self.metrics.totals.messages_dropped += 1;
        k.trace(
            Record::at(now_ns, RpcTrace::Drop { cause, reply })
                .node(msg.client)
                .peer(msg.server)
                .id(msg.id),
        )
    }

    fn on_server_recv(&mut self, k: &mut K, now_ns: Nanos, msg: Msg) -> Result<(), EngineError> {
        let server = &mut self.servers[msg.server as usize];
        if !server.up {
            return self.dropped(k, now_ns, &msg, DropCause::NodeDown, false);
        }
        if server.paused_since_ns.is_some() {
            server.deferred.push((0, Event::ServerRecv(msg)));
            return Ok(());
        }
        self.metrics.at(now_ns).server_arrivals += 1;
        self.metrics.totals.server_arrivals += 1;
        k.trace(
            Record::at(now_ns, RpcTrace::Arrive)
                .node(msg.client)
                .peer(msg.server)
                .id(msg.id),
        )?;
        let server_node = self.server_node(msg.server);
        let pt_ns = k.physical(server_node, now_ns);
        let server = &mut self.servers[msg.server as usize];
        match server.hlc.receive(msg.hlc, dur(pt_ns)) {
            Ok(stamp) => self.observe_hlc(stamp, pt_ns),
            Err(_) => {
                self.hlc_stats.rejected += 1;
                return self.reply(k, now_ns, msg, Answer::Error);
            }
        }
        let server = &mut self.servers[msg.server as usize];
        if let Some(limit) = server.limit.as_deref_mut() {
            let held = server.busy + server.queue.len() as u32;
            if held >= limit.limiter.limit() {
                self.metrics.totals.rejected_by_limit += 1;
                k.trace(
                    Record::at(now_ns, RpcTrace::Reject(RejectCause::Limited))
                        .node(msg.client)
                        .peer(msg.server)
                        .id(msg.id),
                )?;
                return self.reply(k, now_ns, msg, Answer::Overloaded);
            }
            limit.admitted.insert((msg.slot, msg.gen), (now_ns, held + 1));
        }
        let server = &mut self.servers[msg.server as usize];
        if server.busy < self.cfg.workers {
            server.busy += 1;
            self.start_service(k, now_ns, msg)
        } else if server.queue.len() < self.cfg.queue_limit as usize {
            server.queue.push_back(Queued {
                msg,
                arrived_ns: now_ns,
            });
            Ok(())
        } else {
            self.metrics.totals.rejected_queue_full += 1;
            k.trace(
                Record::at(now_ns, RpcTrace::Reject(RejectCause::QueueFull))
                    .node(msg.client)
                    .peer(msg.server)
                    .id(msg.id),
            )?;
            self.reply(k, now_ns, msg, Answer::Overloaded)
        }
    }

    fn start_service(&mut self, k: &mut K, now_ns: Nanos, msg: Msg) -> Result<(), EngineError> {
        let server = &self.servers[msg.server as usize];
        let incarnation = server.incarnation;
        let slowdown = server.slowdown;
        let mut service_ns = self.cfg.service.sample_ns(&mut self.rng_service);
        if slowdown != 1.0 {
            service_ns = (service_ns as f64 * slowdown).round() as Nanos;
        }
        k.schedule(
            now_ns.saturating_add(service_ns),
            Event::ServiceDone { msg, incarnation },
        )
    }

    fn on_service_done(
        &mut self,
        k: &mut K,
        now_ns: Nanos,
        msg: Msg,
        incarnation: u32,
    ) -> Result<(), EngineError> {
        let server = &mut self.servers[msg.server as usize];
        if !server.up || server.incarnation != incarnation {
            return Ok(()); // the crash lost this work
        }
        if let Some(paused_since_ns) = server.paused_since_ns {
            // Frozen mid-service: the remaining time runs after the resume.
            let remaining_ns = now_ns.saturating_sub(paused_since_ns);
            server
                .deferred
                .push((remaining_ns, Event::ServiceDone { msg, incarnation }));
            return Ok(());
        }
        k.trace(
            Record::at(now_ns, RpcTrace::Serve)
                .node(msg.client)
                .peer(msg.server)
                .id(msg.id),
        )?;
        if let Some(limit) = server.limit.as_deref_mut() {
            limit.sample(&msg, now_ns, false);
        }
        self.reply(k, now_ns, msg, Answer::Ok)?;
        // Take the next queued request, shedding those that waited too long.
        loop {
            let server = &mut self.servers[msg.server as usize];
            let Some(next) = server.queue.pop_front() else {
                server.busy -= 1;
                return Ok(());
            };
            let waited_ns = now_ns - next.arrived_ns;
            if self
                .cfg
                .shed_after_ns
                .is_some_and(|limit| waited_ns > limit)
            {
                self.metrics.totals.shed += 1;
                if let Some(limit) = server.limit.as_deref_mut() {
                    limit.sample(&next.msg, now_ns, true);
                }
                k.trace(
                    Record::at(now_ns, RpcTrace::Reject(RejectCause::Shed))
                        .node(next.msg.client)
                        .peer(next.msg.server)
                        .id(next.msg.id),
                )?;
                self.reply(k, now_ns, next.msg, Answer::Overloaded)?;
                continue;
            }
            return self.start_service(k, now_ns, next.msg);
        }
    }

    /// Sends a reply from the server to the client.
    fn reply(
        &mut self,
        k: &mut K,
        now_ns: Nanos,
        mut msg: Msg,
        answer: Answer,
    ) -> Result<(), EngineError> {
        let server_node = self.server_node(msg.server);
        let pt_ns = k.physical(server_node, now_ns);
        let stamp = self.servers[msg.server as usize].hlc.send(dur(pt_ns));
        self.observe_hlc(stamp, pt_ns);
        msg.hlc = stamp;
        let client_node = self.client_node(msg.client);
        match k.route(server_node, client_node) {
            Route::Deliver { latency_ns } => k.schedule(
                now_ns.saturating_add(latency_ns),
                Event::ClientRecv { msg, answer },
            ),
            Route::Drop(reason) => self.dropped(k, now_ns, &msg, DropCause::Network(reason), true),
        }
    }

    fn on_client_recv(
        &mut self,
        k: &mut K,
        now_ns: Nanos,
        msg: Msg,
        answer: Answer,
    ) -> Result<(), EngineError> {
        let ok = answer == Answer::Ok;
        if !self.is_current(msg.slot, msg.gen) {
            return Ok(()); // a reply to an attempt already given up on
        }
        let client = msg.client;
        let client_node = self.client_node(client);
        let pt_ns = k.physical(client_node, now_ns);
        let accepted = match self.clients[client as usize]
            .hlc
            .receive(msg.hlc, dur(pt_ns))
        {
            Ok(stamp) => {
                self.observe_hlc(stamp, pt_ns);
                true
            }
            Err(_) => {
                self.hlc_stats.rejected += 1;
                false
            }
        };
        let (id, sent_ns, permit, issued_ns, last_retry) = {
            let request = &self.requests[msg.slot as usize];
            (
                request.id,
                request.attempt_sent_ns,
                request.permit,
                request.issued_ns,
                request.last_retry,
            )
        };
        k.trace(
            Record::at(now_ns, RpcTrace::Reply { ok })
                .node(client)
                .peer(msg.server)
                .id(id),
        )?;
        let rtt_ns = now_ns - sent_ns;
        if ok && accepted {
            if let Some(timeout) = self.timeouts.get_mut(client as usize) {
                timeout.on_sample(&self.cfg.timeout, dur(rtt_ns));
            }
            if let (Some(breaker), Some(permit)) = (self.breakers.get_mut(client as usize), permit)
            {
                breaker.record(
                    dur(now_ns),
                    permit,
                    CallOutcome::Success {
                        latency: dur(rtt_ns),
                    },
                );
                self.drain_breaker(k, now_ns, client)?;
            }
            if let Some(budget) = self.budgets.get_mut(client as usize) {
                budget.on_success_after(dur(now_ns), last_retry);
            }
            let latency_ns = now_ns - issued_ns;
            self.metrics.record_success(now_ns, issued_ns);
            k.trace(
                Record::at(now_ns, RpcTrace::Success { latency_ns })
                    .node(client)
                    .peer(msg.server)
                    .id(id),
            )?;
            self.finish_request(k, now_ns, msg.slot)
        } else {
            if let (Some(breaker), Some(permit)) = (self.breakers.get_mut(client as usize), permit)
            {
                breaker.record(dur(now_ns), permit, CallOutcome::Failure);
                self.drain_breaker(k, now_ns, client)?;
            }
            // An overload answer's Retry-After (when the servers send one and the
            // clients honour it) is the least wait before the retry.
            let at_least_ns = match answer {
                Answer::Overloaded => self.cfg.retry_after_ns,
                Answer::Ok | Answer::Error => None,
            };
            self.retry_or_fail(k, now_ns, msg.slot, RetryKind::Error, at_least_ns)
        }
    }

    fn on_timeout(
        &mut self,
        k: &mut K,
        now_ns: Nanos,
        slot: u32,
        gen: u32,
    ) -> Result<(), EngineError> {
        if !self.is_current(slot, gen) {
            return Ok(());
        }
        let (client, id, permit) = {
            let request = &self.requests[slot as usize];
            (request.client, request.id, request.permit)
        };
        k.trace(Record::at(now_ns, RpcTrace::Timeout).node(client).id(id))?;
        if let Some(timeout) = self.timeouts.get_mut(client as usize) {
            timeout.on_timeout(&self.cfg.timeout);
        }
        if let (Some(breaker), Some(permit)) = (self.breakers.get_mut(client as usize), permit) {
            breaker.record(dur(now_ns), permit, CallOutcome::Failure);
            self.drain_breaker(k, now_ns, client)?;
        }
        if self.cfg.retry_on_timeout {
            self.retry_or_fail(k, now_ns, slot, RetryKind::Timeout, None)
        } else {
            self.resolve(k, now_ns, slot, Outcome::TimedOut)
        }
    }

    fn retry_or_fail(
        &mut self,
        k: &mut K,
        now_ns: Nanos,
        slot: u32,
        kind: RetryKind,
        at_least_ns: Option<Nanos>,
    ) -> Result<(), EngineError> {
        let outcome = match kind {
            RetryKind::Error => Outcome::Failed,
            RetryKind::Timeout => Outcome::TimedOut,
        };
        // Void the attempt: its reply or timer, if still coming, is now stale.
        let gen = self.next_gen(slot);
        let (client, id, attempts) = {
            let request = &self.requests[slot as usize];
            (request.client, request.id, request.attempts)
        };
        if attempts >= self.cfg.backoff.max_attempts {
            return self.resolve(k, now_ns, slot, outcome);
        }
        if let Some(budget) = self.budgets.get_mut(client as usize) {
            if !budget.try_retry(dur(now_ns), kind) {
                self.metrics.totals.rejected_by_budget += 1;
                k.trace(
                    Record::at(now_ns, RpcTrace::Fail(FailCause::Budget))
                        .node(client)
                        .id(id),
                )?;
                return self.resolve(k, now_ns, slot, outcome);
            }
        }
        let request = &mut self.requests[slot as usize];
        let Some(delay) = self
            .cfg
            .backoff
            .next_delay(&mut request.backoff, &mut self.rng_backoff)
        else {
            return self.resolve(k, now_ns, slot, outcome);
        };
        request.last_retry = Some(kind);
        let mut delay_ns = nanos(delay);
        if let Some(at_least_ns) = at_least_ns.filter(|&at_least| at_least > delay_ns) {
            delay_ns = at_least_ns;
            self.metrics.totals.retries_deferred += 1;
        }
        k.trace(
            Record::at(now_ns, RpcTrace::Backoff { delay_ns })
                .node(client)
                .id(id),
        )?;
        k.schedule(
            now_ns.saturating_add(delay_ns),
            Event::Retry { slot, gen, client },
        )
    }

    fn resolve(
        &mut self,
        k: &mut K,
        now_ns: Nanos,
        slot: u32,
        outcome: Outcome,
    ) -> Result<(), EngineError> {
        let (client, id, issued_ns) = {
            let request = &self.requests[slot as usize];
            (request.client, request.id, request.issued_ns)
        };
        // Counted where the request was offered, so an outage reads as an outage.
        let window = self.metrics.offered_at(issued_ns);
        let cause = match outcome {
            Outcome::Failed => {
                window.failed += 1;
                self.metrics.totals.failed += 1;
                FailCause::Error
            }
            Outcome::TimedOut => {
                window.timed_out += 1;
                self.metrics.totals.timed_out += 1;
                FailCause::Timeout
            }
            Outcome::Breaker => {
                window.rejected_by_breaker += 1;
                self.metrics.totals.rejected_by_breaker += 1;
                FailCause::Breaker
            }
        };
        k.trace(
            Record::at(now_ns, RpcTrace::Fail(cause))
                .node(client)
                .id(id),
        )?;
        self.finish_request(k, now_ns, slot)
    }

    /// Frees the request's slot; a closed-loop client thinks, then issues the next.
    fn finish_request(&mut self, k: &mut K, now_ns: Nanos, slot: u32) -> Result<(), EngineError> {
        let request = &mut self.requests[slot as usize];
        debug_assert!(request.live, "a request resolved twice");
        request.live = false;
        let client = request.client;
        self.next_gen(slot);
        self.slots.free(slot);
        if !self.cfg.arrival.is_open_loop() {
            let next_ns = now_ns.saturating_add(self.next_gap_ns());
            k.schedule(next_ns, Event::Arrival { client })?;
        }
        Ok(())
    }

    /// Records breaker transitions and schedules an automatic half-open deadline.
    fn drain_breaker(&mut self, k: &mut K, now_ns: Nanos, client: u32) -> Result<(), EngineError> {
        while let Some(transition) = self.breakers[client as usize].poll_transition() {
            if transition.to == BreakerState::Open {
                self.metrics.breaker_open_delta(now_ns, true);
            } else if transition.from == BreakerState::Open {
                self.metrics.breaker_open_delta(now_ns, false);
            }
            k.trace(Record::at(now_ns, RpcTrace::Breaker(transition.to)).node(client))?;
            if transition.to == BreakerState::Open {
                if let Some(deadline) = self.breakers[client as usize].poll_timeout() {
                    k.schedule(
                        nanos(deadline).max(now_ns),
                        Event::BreakerDeadline { client },
                    )?;
                }
            }
        }
        Ok(())
    }

    /// Crashes a server: queue and work in progress are lost.
    fn crash(&mut self, k: &mut K, now_ns: Nanos, server: u32) -> Result<bool, EngineError> {
        let state = &mut self.servers[server as usize];
        if !state.up {
            return Ok(false);
        }
        state.up = false;
        state.incarnation += 1;
        state.busy = 0;
        state.queue.clear();
        state.deferred.clear();
        if let (Some(limit), Some(config)) = (state.limit.as_deref_mut(), &self.cfg.limit) {
            // Volatile: the restarted server starts from the initial limit.
            limit.admitted.clear();
            limit.limiter = Limiter::new(config, &mut limit.rng);
        }
        state.paused_since_ns = None;
        k.trace(Record::at(now_ns, RpcTrace::Crash).peer(server))?;
        self.reset_connections(k, now_ns, server)?;
        Ok(true)
    }

    /// Restarts a crashed server with fresh volatile state.
    fn restart(&mut self, k: &mut K, now_ns: Nanos, server: u32) -> Result<bool, EngineError> {
        let max_offset = self.cfg.hlc_max_offset;
        let state = &mut self.servers[server as usize];
        if state.up {
            return Ok(false);
        }
        state.up = true;
        state.hlc = Hlc::new(max_offset);
        k.trace(Record::at(now_ns, RpcTrace::Restart).peer(server))?;
        Ok(true)
    }

    /// Pauses a server; returns whether it was running.
    fn pause(&mut self, now_ns: Nanos, server: u32) -> bool {
        let state = &mut self.servers[server as usize];
        if !state.up || state.paused_since_ns.is_some() {
            return false;
        }
        state.paused_since_ns = Some(now_ns);
        true
    }

    /// Resumes a paused server: deferred work continues where it stopped.
    fn resume(&mut self, k: &mut K, now_ns: Nanos, server: u32) -> Result<bool, EngineError> {
        let state = &mut self.servers[server as usize];
        if state.paused_since_ns.take().is_none() {
            return Ok(false);
        }
        let deferred = std::mem::take(&mut state.deferred);
        for (delay_ns, event) in deferred {
            k.schedule(now_ns.saturating_add(delay_ns), event)?;
        }
        Ok(true)
    }

    /// Sets the service-time multiplier of a server.
    fn set_slowdown(&mut self, server: u32, factor: f64) {
        debug_assert!(factor > 0.0 && factor.is_finite());
        self.servers[server as usize].slowdown = factor;
    }

    /// Logical requests still in flight (those waiting in offline queues included).
    pub fn in_flight(&self) -> u64 {
        let live = self.requests.iter().filter(|request| request.live).count() as u64;
        debug_assert_eq!(
            self.offline_held,
            self.conns.iter().map(Conn::offline_len).sum::<u64>(),
            "offline count out of step with the queues"
        );
        debug_assert!(self.offline_held <= live);
        live
    }

    /// Heap bytes held per client (for the memory benchmark): what every client has
    /// from the start, with no request or event of its own.
    pub fn bytes_per_client(&self) -> usize {
        /// What one client's entry in `per_client` costs: nothing when the scenario
        /// leaves that state out (the vector is empty).
        fn entry<T>(per_client: &[T]) -> usize {
            if per_client.is_empty() {
                0
            } else {
                std::mem::size_of::<T>()
            }
        }
        entry(&self.clients)
            + entry(&self.timeouts)
            + entry(&self.budgets)
            + entry(&self.breakers)
            + entry(&self.conns)
    }
}

/// What an rpc run produces.
#[derive(Clone, Debug)]
pub struct RpcOutput {
    /// Metrics windows in time order.
    pub windows: Vec<WindowCounters>,
    /// Latency of successes: p50, p99, p99.9, mean, max (ns).
    pub latency_ns: [f64; 5],
    /// Totals.
    pub totals: Totals,
    /// Logical requests in flight at the end.
    pub in_flight: u64,
    /// HLC observations.
    pub hlc: HlcStats,
    /// Approximate bytes of per-client model state.
    pub bytes_per_client: usize,
    /// Whether the clients held connections.
    pub with_connections: bool,
    /// The lowest and highest concurrency limit of any server, when they have one.
    pub limit_range: Option<[u32; 2]>,
}

impl Workload for RpcWorld {
    type Config = RpcConfig;
    type Event = Event;
    type Output = RpcOutput;

    /// Builds the world: every client and server in its initial state, and each
    /// client's first arrival scheduled.
    fn start(cfg: &RpcConfig, k: &mut K) -> Result<Self, EngineError> {
        let cfg = cfg.clone();
        let clients = cfg.clients as usize;
        let timeouts = match &cfg.timeout {
            TimeoutPolicy::Fixed(_) => Vec::new(),
            policy => vec![AdaptiveTimeout::new(policy); clients],
        };
        let budgets = match &cfg.budget {
            Some(config) => vec![RetryBudget::new(config); clients],
            None => Vec::new(),
        };
        let breakers = match &cfg.breaker {
            Some(config) => vec![CircuitBreaker::new(config.clone()); clients],
            None => Vec::new(),
        };
        let servers = (0..cfg.servers)
            .map(|server| Server {
                limit: cfg.limit.as_ref().map(|config| {
                    Box::new(ServerLimit::new(
                        config,
                        k.stream(streams::LIMIT, u64::from(server)),
                    ))
                }),
                up: true,
                paused_since_ns: None,
                incarnation: 0,
                busy: 0,
                queue: VecDeque::new(),
                hlc: Hlc::new(cfg.hlc_max_offset),
                slowdown: 1.0,
                deferred: Vec::new(),
            })
            .collect();
        let server_base = k
            .topology()
            .first_of(config::SERVER_PREFIX)
            .ok_or_else(|| EngineError::Invariant("no server family".into()))?;
        let mut world = RpcWorld {
            server_base,
            timeout_fifo: matches!(cfg.timeout, TimeoutPolicy::Fixed(_)).then(VecDeque::new),
            next_arrival_ns: None,
            next_arrival_client: 0,
            load_peak: cfg.load.as_ref().map_or(1.0, load::LoadProfile::peak),
            arrivals_ahead: VecDeque::with_capacity(ARRIVALS_AHEAD),
            metrics: Metrics::new(
                k.window_ns(),
                k.window_count(),
                cfg.slo_latency_ns.unwrap_or(Nanos::MAX),
            ),
            hlc_stats: HlcStats::default(),
            clients: vec![
                Client {
                    hlc: Hlc::new(cfg.hlc_max_offset),
                    link: Link::new(),
                };
                clients
            ],
            timeouts,
            budgets,
            breakers,
            requests: Vec::new(),
            gens: Vec::new(),
            slots: Slots::new(),
            next_request_id: 0,
            servers,
            rng_arrivals: k.stream(streams::ARRIVALS, 0),
            rng_service: k.stream(streams::SERVICE, 0),
            rng_backoff: k.stream(streams::BACKOFF, 0),
            rng_routing: k.stream(streams::ROUTING, 0),
            rng_reconnect: k.stream(streams::RECONNECT, 0),
            conns: if cfg.connection.is_some() {
                vec![Conn::default(); clients]
            } else {
                Vec::new()
            },
            offline_held: 0,
            duration_ns: k.duration_ns(),
            cfg,
        };
        if world.cfg.arrival.is_open_loop() {
            world.draw_next_arrival(0);
        } else {
            for client in 0..world.cfg.clients {
                let first_ns = world.next_gap_ns();
                k.schedule(first_ns, Event::Arrival { client })?;
            }
        }
        Ok(world)
    }

    /// The next event of three sources: the kernel's queue, the timer FIFO and the
    /// open-loop arrival process. On equal times the queue goes first, then timers, then
    /// the arrival: a fixed rule, so the order is a function of the seed alone.
    #[inline]
    fn next_event(&mut self, k: &mut K) -> Option<(Nanos, Due<Event>)> {
        let queued_ns = k.peek_time();
        let before_queue = |at_ns: Nanos| queued_ns.is_none_or(|queued| at_ns < queued);
        // Most timers are stale (their attempt was answered): they are dropped here,
        // unseen by the handlers, which would only have ignored them.
        while let Some(fifo) = self.timeout_fifo.as_mut() {
            let Some(&(at_ns, slot, gen)) = fifo.front() else {
                break;
            };
            if !(before_queue(at_ns) && self.next_arrival_ns.is_none_or(|arrival| at_ns <= arrival))
            {
                break;
            }
            fifo.pop_front();
            // The generation of a timer further on, loaded now so that its miss is over
            // by the time that timer is due.
            if let Some(&(_, ahead, _)) = fifo.get(TIMERS_AHEAD) {
                std::hint::black_box(self.gens.get(ahead as usize).copied());
            }
            if self.is_current(slot, gen) {
                return Some((at_ns, Due::Work(Event::Timeout { slot, gen })));
            }
        }
        if let Some(at_ns) = self.next_arrival_ns {
            if before_queue(at_ns) {
                let client = self.next_arrival_client;
                self.draw_next_arrival(at_ns);
                return Some((at_ns, Due::Work(Event::Arrival { client })));
            }
        }
        let touch = Touch {
            gens: &self.gens,
            requests: &self.requests,
            clients: &self.clients,
            breakers: &self.breakers,
            conns: &self.conns,
        };
        k.pop_touching(|due| {
            if let Due::Work(event) = due {
                touch.event(event)
            }
        })
    }

    /// Handles one event at `now_ns`.
    #[inline]
    fn handle(&mut self, k: &mut K, now_ns: Nanos, event: &Event) -> Result<(), EngineError> {
        match *event {
            Event::Arrival { client } => self.on_arrival(k, now_ns, client),
            Event::ServerRecv(msg) => self.on_server_recv(k, now_ns, msg),
            Event::ServiceDone { msg, incarnation } => {
                self.on_service_done(k, now_ns, msg, incarnation)
            }
            Event::ClientRecv { msg, answer } => self.on_client_recv(k, now_ns, msg, answer),
            Event::Timeout { slot, gen } => self.on_timeout(k, now_ns, slot, gen),
            Event::Retry { slot, gen, client } => {
                if self.is_current(slot, gen) {
                    self.send_attempt(k, now_ns, slot, client)?;
                }
                Ok(())
            }
            Event::BreakerDeadline { client } => {
                let breaker = &mut self.breakers[client as usize];
                breaker.handle_timeout(dur(now_ns));
                self.drain_breaker(k, now_ns, client)
            }
            Event::Conn(event) => self.handle_conn(k, now_ns, event),
        }
    }

    fn node_change(
        &mut self,
        k: &mut K,
        now_ns: Nanos,
        node: NodeId,
        change: NodeChange,
    ) -> Result<bool, EngineError> {
        let server = self.server_of(node)?;
        match change {
            NodeChange::Crash => self.crash(k, now_ns, server),
            NodeChange::Restart => self.restart(k, now_ns, server),
            NodeChange::Pause => Ok(self.pause(now_ns, server)),
            NodeChange::Resume => self.resume(k, now_ns, server),
            NodeChange::Slowdown { factor } => {
                self.set_slowdown(server, factor);
                Ok(true)
            }
        }
    }

    fn finish(mut self, _k: &K) -> Result<RpcOutput, EngineError> {
        let in_flight = self.in_flight();
        let bytes_per_client = self.bytes_per_client();
        let hlc = self.hlc_stats;
        for request in self.requests.iter().filter(|request| request.live) {
            self.metrics.offered_at(request.issued_ns).unresolved += 1;
        }
        let (windows, latency_ns, totals) = self.metrics.finish();
        debug_assert!(windows.iter().all(|window| {
            window.offered
                == window.succeeded
                    + window.failed
                    + window.timed_out
                    + window.rejected_by_breaker
                    + window.unresolved
        }));
        let resolved =
            totals.succeeded + totals.failed + totals.timed_out + totals.rejected_by_breaker;
        if resolved + in_flight != totals.offered {
            return Err(EngineError::Invariant(format!(
                "requests do not add up: {resolved} resolved + {in_flight} in flight != {} offered",
                totals.offered
            )));
        }
        Ok(RpcOutput {
            windows,
            latency_ns,
            totals,
            in_flight,
            hlc,
            bytes_per_client,
            with_connections: !self.conns.is_empty(),
            limit_range: self
                .servers
                .iter()
                .filter_map(|server| server.limit.as_ref().map(|limit| limit.range))
                .reduce(|a, b| [a[0].min(b[0]), a[1].max(b[1])]),
        })
    }
}

/// The rpc workload's node families: clients (state machines, not hosted), then
/// servers (one madsim node each, which crash, pause and slow down).
pub fn families(cfg: &RpcConfig) -> [Family; 2] {
    [
        Family {
            prefix: config::CLIENT_PREFIX,
            count: cfg.clients,
            hosted: false,
            faults: NodeFaults::NONE,
        },
        Family {
            prefix: config::SERVER_PREFIX,
            count: cfg.servers,
            hosted: true,
            // Servers keep nothing on disk.
            faults: NodeFaults {
                disk: false,
                ..NodeFaults::ALL
            },
        },
    ]
}

/// The rpc workload kind (`"kind": "rpc"`).
pub struct Rpc;

impl Kind for Rpc {
    const NAME: &'static str = "rpc";
    type Spec = spec::RpcSpec;
    type World = RpcWorld;
    const CHECKS: &'static [CheckSpec] = record::CHECKS;
    const NUMBER_LIMITS: &'static [NumberLimit] = spec::NUMBER_LIMITS;
    const FIGURES: &'static [FigureSpec] = figures::FIGURES;
    const SERIES: &'static [SeriesSpec] = figures::SERIES;
    const TRACE_KINDS: &'static [&'static str] = trace::KINDS;

    fn resolve(
        spec: &spec::RpcSpec,
        scenario: &Context<'_>,
    ) -> Result<Resolution<RpcConfig>, Issue> {
        validate::check_limits(spec)?;
        validate::check_rules(spec)?;
        let mut config =
            RpcConfig::from_spec(spec, scenario.slo.latency.map(|latency| latency.as_nanos()))?;
        config.expectations = expect::expectations(spec, scenario);
        Ok(Resolution {
            families: families(&config).to_vec(),
            events: validate::event_estimate(spec, scenario),
            memory: validate::memory_estimate(spec, scenario),
            config,
        })
    }

    fn record(
        run: &RunInfo,
        config: &RpcConfig,
        finished: &Finished<RpcOutput>,
        invocation: &Invocation,
    ) -> RunRecord {
        record::build(run, config, finished, invocation)
    }

    fn figures(record: &RunRecord) -> Vec<Option<f64>> {
        figures::figures(record)
    }

    fn series(record: &RunRecord) -> SeriesTable {
        figures::series(record)
    }

    fn tables(record: &RunRecord) -> Vec<RecordTable> {
        figures::tables(record)
    }
}
