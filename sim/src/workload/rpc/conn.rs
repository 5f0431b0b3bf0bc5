//! Persistent client connections: reset by a crash, re-established after backoff, with
//! an offline queue of attempts in between (see [`super::spec::ConnectionSpec`]).
//!
//! Each client's connection is a small state machine:
//!
//! ```text
//!   Up --reset--> Backoff --sleep--> Connecting --accepted--> Up
//!                    ^                   |
//!                    +--refused/timeout--+
//! ```
//!
//! A generation number voids the timers and answers of a connect the client has given
//! up on, as slot generations do for attempts.

use std::collections::VecDeque;

use faultline_models::backoff::BackoffState;

use super::trace::{ConnStep, RpcTrace};
use super::{EngineError, Event, Nanos, RpcWorld, K};
use crate::engine::network::Route;
use crate::engine::trace::Record;

/// A connection event.
#[derive(Clone, Copy, Debug)]
pub enum ConnEvent {
    /// The client learns its connection was reset.
    Reset {
        /// Client index.
        client: u32,
    },
    /// A reconnect sleep ends: send a connect.
    Retry {
        /// Client index.
        client: u32,
        /// Connection generation.
        gen: u32,
    },
    /// A connect reaches the client's server.
    Arrive {
        /// Client index.
        client: u32,
        /// Connection generation.
        gen: u32,
    },
    /// The server's answer reaches the client.
    Answer {
        /// Client index.
        client: u32,
        /// Connection generation.
        gen: u32,
        /// Server incarnation that answered.
        incarnation: u32,
        /// Accepted (server running) or refused (server crashed).
        accepted: bool,
    },
    /// A connect had no answer within the connect timeout.
    Timeout {
        /// Client index.
        client: u32,
        /// Connection generation.
        gen: u32,
    },
}

impl ConnEvent {
    /// The client whose connection this is.
    #[inline]
    pub fn client(&self) -> u32 {
        match *self {
            ConnEvent::Reset { client }
            | ConnEvent::Retry { client, .. }
            | ConnEvent::Arrive { client, .. }
            | ConnEvent::Answer { client, .. }
            | ConnEvent::Timeout { client, .. } => client,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ConnState {
    Up,
    Backoff,
    Connecting,
}

/// The part of a client's connection that every attempt reads, kept beside the
/// client's HLC (see `Client`).
#[derive(Clone, Copy, Debug)]
pub(super) struct Link {
    state: ConnState,
    gen: u32,
}

impl Link {
    /// Every client starts connected.
    pub(super) fn new() -> Self {
        Link {
            state: ConnState::Up,
            gen: 0,
        }
    }

    /// Whether a timer or answer of generation `gen` still applies: the connection is
    /// in that generation and in `state`. Anything else is stale and ignored.
    #[inline]
    fn expects(&self, gen: u32, state: ConnState) -> bool {
        self.gen == gen && self.state == state
    }
}

/// The rest of a client's connection, read only on connection events and while it is
/// down.
#[derive(Clone, Debug, Default)]
pub(super) struct Conn {
    backoff: BackoffState,
    /// Slots of the attempts waiting for the connection, in the order they were made.
    offline: VecDeque<u32>,
}

impl Conn {
    /// Attempts waiting for this connection.
    pub(super) fn offline_len(&self) -> u64 {
        self.offline.len() as u64
    }
}

impl RpcWorld {
    /// The server client `client` is pinned to when it holds a connection.
    #[inline]
    pub(super) fn home_server(&self, client: u32) -> u32 {
        client % self.cfg.servers
    }

    pub(super) fn handle_conn(
        &mut self,
        k: &mut K,
        now_ns: Nanos,
        event: ConnEvent,
    ) -> Result<(), EngineError> {
        match event {
            ConnEvent::Reset { client } => self.on_reset(k, now_ns, client),
            ConnEvent::Retry { client, gen } => self.on_connect_try(k, now_ns, client, gen),
            ConnEvent::Arrive { client, gen } => self.on_connect_arrive(k, now_ns, client, gen),
            ConnEvent::Answer {
                client,
                gen,
                incarnation,
                accepted,
            } => self.on_connect_answer(k, now_ns, client, gen, incarnation, accepted),
            ConnEvent::Timeout { client, gen } => self.on_connect_timeout(k, now_ns, client, gen),
        }
    }

    /// Whether `client` may write an attempt now. If not, the attempt in `slot` is held
    /// in the offline queue, or fails at once when that queue is full.
    pub(super) fn connection_ready(
        &mut self,
        k: &mut K,
        now_ns: Nanos,
        slot: u32,
        client: u32,
    ) -> Result<bool, EngineError> {
        if self.clients[client as usize].link.state == ConnState::Up {
            return Ok(true);
        }
        let limit = self.conn_config().offline_queue as usize;
        let conn = &mut self.conns[client as usize];
        let id = self.requests[slot as usize].id;
        if conn.offline.len() < limit {
            debug_assert!(!conn.offline.contains(&slot), "an attempt held twice");
            conn.offline.push_back(slot);
            self.offline_held += 1;
            self.metrics.totals.offline_peak =
                self.metrics.totals.offline_peak.max(self.offline_held);
            k.trace(
                Record::at(now_ns, RpcTrace::Conn(ConnStep::Held))
                    .node(client)
                    .id(id),
            )?;
            return Ok(false);
        }
        // Nowhere to put it: the attempt fails locally and counts as made.
        self.metrics.totals.offline_failed += 1;
        self.requests[slot as usize].attempts += 1;
        k.trace(
            Record::at(now_ns, RpcTrace::Conn(ConnStep::OfflineFull))
                .node(client)
                .id(id),
        )?;
        self.retry_or_fail(k, now_ns, slot, super::RetryKind::Error, None)?;
        Ok(false)
    }

    /// A crash of `server` resets every connection to it; each client hears of it one
    /// link latency later (or a connect timeout later, if the reset is lost).
    pub(super) fn reset_connections(
        &mut self,
        k: &mut K,
        now_ns: Nanos,
        server: u32,
    ) -> Result<(), EngineError> {
        if self.conns.is_empty() {
            return Ok(());
        }
        let timeout_ns = self.conn_config().connect_timeout_ns;
        let server_node = self.server_node(server);
        let mut client = server;
        while client < self.cfg.clients {
            if self.clients[client as usize].link.state == ConnState::Up {
                let client_node = self.client_node(client);
                let delay_ns = match k.route(server_node, client_node) {
                    Route::Deliver { latency_ns } => latency_ns,
                    Route::Drop(_) => timeout_ns,
                };
                k.schedule(
                    now_ns.saturating_add(delay_ns),
                    Event::Conn(ConnEvent::Reset { client }),
                )?;
            }
            client += self.cfg.servers;
        }
        Ok(())
    }

    fn conn_config(&self) -> &super::config::ConnectionConfig {
        self.cfg
            .connection
            .as_ref()
            .expect("connection events only exist when connections are configured")
    }

    fn on_reset(&mut self, k: &mut K, now_ns: Nanos, client: u32) -> Result<(), EngineError> {
        if self.clients[client as usize].link.state != ConnState::Up {
            return Ok(());
        }
        self.conns[client as usize].backoff.reset();
        self.metrics.totals.conn_resets += 1;
        self.trace_conn(k, now_ns, client, ConnStep::Reset)?;
        self.sleep_then_reconnect(k, now_ns, client)
    }

    /// Enters `Backoff` and schedules the next connect after the policy's sleep.
    fn sleep_then_reconnect(
        &mut self,
        k: &mut K,
        now_ns: Nanos,
        client: u32,
    ) -> Result<(), EngineError> {
        let policy = &self.cfg.connection.as_ref().expect("configured").reconnect;
        let link = &mut self.clients[client as usize].link;
        link.state = ConnState::Backoff;
        link.gen = link.gen.wrapping_add(1);
        let gen = link.gen;
        // The policy allows u32::MAX tries; past that, keep sleeping the cap.
        let delay = policy
            .next_delay(
                &mut self.conns[client as usize].backoff,
                &mut self.rng_reconnect,
            )
            .unwrap_or(policy.cap);
        let delay_ns = super::nanos(delay);
        k.schedule(
            now_ns.saturating_add(delay_ns),
            Event::Conn(ConnEvent::Retry { client, gen }),
        )
    }

    fn on_connect_try(
        &mut self,
        k: &mut K,
        now_ns: Nanos,
        client: u32,
        gen: u32,
    ) -> Result<(), EngineError> {
        let link = &mut self.clients[client as usize].link;
        if !link.expects(gen, ConnState::Backoff) {
            return Ok(());
        }
        link.state = ConnState::Connecting;
        self.metrics.totals.connect_tries += 1;
        self.trace_conn(k, now_ns, client, ConnStep::Try)?;
        let timeout_ns = self.conn_config().connect_timeout_ns;
        self.send_conn_message(k, now_ns, client, true, ConnEvent::Arrive { client, gen })?;
        k.schedule(
            now_ns.saturating_add(timeout_ns),
            Event::Conn(ConnEvent::Timeout { client, gen }),
        )
    }

    /// The server's host answers a connect: accepted while the server runs (a paused
    /// process's kernel still completes the handshake), refused while it is crashed.
    fn on_connect_arrive(
        &mut self,
        k: &mut K,
        now_ns: Nanos,
        client: u32,
        gen: u32,
    ) -> Result<(), EngineError> {
        let server = self.home_server(client);
        let state = &self.servers[server as usize];
        let (accepted, incarnation) = (state.up, state.incarnation);
        let answer = ConnEvent::Answer {
            client,
            gen,
            incarnation,
            accepted,
        };
        self.send_conn_message(k, now_ns, client, false, answer)
    }

    /// Sends a connection message between `client` and its server (`to_server` gives
    /// the direction): `event` happens one link latency later, unless the network
    /// loses it.
    fn send_conn_message(
        &mut self,
        k: &mut K,
        now_ns: Nanos,
        client: u32,
        to_server: bool,
        event: ConnEvent,
    ) -> Result<(), EngineError> {
        let client_node = self.client_node(client);
        let server_node = self.server_node(self.home_server(client));
        let (from, to) = if to_server {
            (client_node, server_node)
        } else {
            (server_node, client_node)
        };
        match k.route(from, to) {
            Route::Deliver { latency_ns } => {
                k.schedule(now_ns.saturating_add(latency_ns), Event::Conn(event))
            }
            Route::Drop(_) => {
                self.metrics.totals.messages_dropped += 1;
                Ok(())
            }
        }
    }

    /// Traces a connection-level event of `client` (no request involved).
    fn trace_conn(
        &mut self,
        k: &mut K,
        now_ns: Nanos,
        client: u32,
        step: ConnStep,
    ) -> Result<(), EngineError> {
        let server = self.home_server(client);
        k.trace(
            Record::at(now_ns, RpcTrace::Conn(step))
                .node(client)
                .peer(server),
        )
    }

    fn on_connect_answer(
        &mut self,
        k: &mut K,
        now_ns: Nanos,
        client: u32,
        gen: u32,
        incarnation: u32,
        accepted: bool,
    ) -> Result<(), EngineError> {
        if !self.clients[client as usize]
            .link
            .expects(gen, ConnState::Connecting)
        {
            return Ok(());
        }
        let server = self.home_server(client);
        let state = &self.servers[server as usize];
        // An acceptance by an incarnation that has crashed since is a reset on arrival.
        if !(accepted && state.up && state.incarnation == incarnation) {
            self.metrics.totals.connects_refused += 1;
            self.trace_conn(k, now_ns, client, ConnStep::Refused)?;
            return self.sleep_then_reconnect(k, now_ns, client);
        }
        let link = &mut self.clients[client as usize].link;
        link.state = ConnState::Up;
        link.gen = link.gen.wrapping_add(1);
        let conn = &mut self.conns[client as usize];
        conn.backoff.reset();
        let held = std::mem::take(&mut conn.offline);
        self.metrics.totals.connects += 1;
        self.trace_conn(k, now_ns, client, ConnStep::Up)?;
        // Write the offline queue in order. Each attempt is live and has no timer yet.
        self.offline_held -= held.len() as u64;
        // Their requests lie anywhere in the slab: loaded together first, the misses
        // overlap instead of stalling each send in turn. Only timing changes.
        for &slot in &held {
            std::hint::black_box(self.requests[slot as usize].attempts);
        }
        for slot in held {
            debug_assert!(
                self.requests[slot as usize].live,
                "a held attempt was resolved"
            );
            self.send_attempt(k, now_ns, slot, client)?;
        }
        Ok(())
    }

    fn on_connect_timeout(
        &mut self,
        k: &mut K,
        now_ns: Nanos,
        client: u32,
        gen: u32,
    ) -> Result<(), EngineError> {
        if !self.clients[client as usize]
            .link
            .expects(gen, ConnState::Connecting)
        {
            return Ok(());
        }
        self.trace_conn(k, now_ns, client, ConnStep::TimedOut)?;
        self.sleep_then_reconnect(k, now_ns, client)
    }
}
