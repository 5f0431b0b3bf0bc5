//! A reliable FIFO channel from one sender to one receiver, sans-IO.
//!
//! The sender numbers its frames 1, 2, 3, ... ([`Seq`]); the receiver acknowledges
//! cumulatively (the highest `n` such that frames `1..=n` were all delivered); the sender
//! keeps at most `window` unacknowledged frames and, when its retransmission timer
//! expires, sends all of them again (go-back-N, the sliding window protocol of
//! N. V. Stenning, "A data transfer protocol", Computer Networks 1976, and of TCP,
//! RFC 9293). The receiver suppresses duplicates and, with `fifo`, holds early frames
//! until the gap before them fills. Over a fair-loss link (a frame sent often enough
//! eventually arrives), retransmission plus duplicate suppression makes a perfect link:
//! every frame delivered exactly once (C. Cachin, R. Guerraoui, L. Rodrigues,
//! "Introduction to Reliable and Secure Distributed Programming", 2011, section 2.4).
//!
//! One [`Sender`]/[`Receiver`] pair serves one (sender, receiver) process pair; a process
//! talking to several peers keeps one per peer (in a `BTreeMap` keyed by peer id), so
//! sequence numbers are per pair.
//!
//! # The retransmission timer
//!
//! It follows RFC 6298 section 5 with the delays taken from [`crate::backoff`]: the timer
//! starts when a frame is transmitted and none is running (rule 5.1), restarts at
//! [`ChannelConfig::rto`] when an ack acknowledges new data (5.3), stops when nothing
//! transmitted is unacknowledged (5.2). On expiry (5.4-5.6) every unacknowledged frame
//! is queued again (go-back-N, where RFC 6298 resends only the earliest segment) and the
//! timer restarts with the next [`BackoffPolicy`] delay (Brooker's jittered backoff
//! instead of doubling). A reliable channel never gives up:
//! once the policy's `max_attempts` are used, the last delay repeats (fair loss needs
//! unbounded retries; `max_attempts` only bounds how long the delay grows).
//!
//! # The two switches ([`ChannelConfig`])
//!
//! | `fifo` | `reliable` | delivery |
//! |---|---|---|
//! | on | on | exactly once, in sequence order |
//! | off | on | exactly once, in arrival order |
//! | on | off | at most once, in increasing sequence order: a frame older than one already delivered is dropped as [`FrameOutcome::Late`] |
//! | off | off | at most once, in arrival order (a datagram channel) |
//!
//! With `reliable` off there are no acks and no timer, and the sender forgets a frame
//! once it is transmitted; the receiver still suppresses duplicates, over a window of
//! `window` sequence numbers behind the highest one delivered (the anti-replay window of
//! IPsec, RFC 4303 section 3.4.3): older frames count as late and are dropped.
//!
//! # Durability
//!
//! [`Sender::export`] and [`Receiver::export`] return the state exactly-once delivery
//! needs across a crash, as plain serde data ([`SenderState`], [`ReceiverState`]), and
//! `restore` rebuilds a channel from it. The caller's side of the contract:
//! - persist the sender's state after [`Sender::send`] and before transmitting the frame
//!   (otherwise a restarted sender reuses the sequence number for another payload);
//! - persist the receiver's state together with the effect of each delivered payload,
//!   and send the ack from [`Receiver::poll_ack`] only after that (otherwise a lost
//!   delivery would already be acknowledged).
//!
//! A restored sender retransmits every frame it held; a restored receiver rejects every
//! frame it had delivered and acks its restored position. Frames received but not yet
//! delivered are not part of the state: they were never acknowledged, so the sender
//! still has them.
//!
//! # Invariants (checked with `debug_assert!`)
//!
//! Sender:
//! - it holds at most `window` frames, with consecutive sequence numbers ending at
//!   `next_seq - 1`;
//! - the transmit cursor lies between the first held frame and `next_seq`;
//! - the timer runs only on a reliable channel holding frames.
//!
//! Receiver:
//! - `delivered_up_to` never decreases; every frame delivered has a sequence number not
//!   delivered before;
//! - out-of-order deliveries remembered above `delivered_up_to` lie in
//!   `(delivered_up_to, delivered_up_to + window]` and never include
//!   `delivered_up_to + 1` (it would have been absorbed);
//! - at most `window` frames wait for delivery; with `fifo` and `reliable` they lie in
//!   `(delivered_up_to, delivered_up_to + window]`.

use core::fmt;
use core::time::Duration;
use std::collections::{BTreeMap, BTreeSet, VecDeque};

use rand::Rng;
use serde::{Deserialize, Serialize};

use crate::backoff::{BackoffPolicy, BackoffState};

/// Largest window a channel accepts, in frames: bounds every queue on both sides.
pub const MAX_WINDOW: u32 = 65_536;

/// A frame's sequence number within one (sender, receiver) pair. The first frame is 1;
/// 0 ([`Seq::NONE`]) means "nothing", as in a cumulative ack before any delivery.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Seq(pub u64);

impl Seq {
    /// No frame: the cumulative ack before any delivery.
    pub const NONE: Seq = Seq(0);
    /// The first frame's sequence number.
    pub const FIRST: Seq = Seq(1);

    /// The number.
    pub const fn get(self) -> u64 {
        self.0
    }
}

impl fmt::Display for Seq {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// A data frame: a payload and its sequence number.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Frame<P> {
    /// Position of the payload in the sender's stream.
    pub seq: Seq,
    /// The application's message.
    pub payload: P,
}

/// How a channel behaves; both halves of a pair must use the same configuration.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChannelConfig {
    /// Deliver in sequence order (off: in arrival order).
    pub fifo: bool,
    /// Acknowledge and retransmit until delivered (off: lost frames stay lost).
    pub reliable: bool,
    /// Most frames in flight: unacknowledged at the sender (reliable), waiting to be
    /// transmitted (unreliable), or waiting for delivery at the receiver. In
    /// `1..=MAX_WINDOW`.
    pub window: u32,
    /// Retransmission timeout before the first retransmission and after every ack that
    /// acknowledges new data. Positive when `reliable`.
    pub rto: Duration,
    /// Delays between later retransmissions of the same unacknowledged data.
    pub backoff: BackoffPolicy,
}

impl ChannelConfig {
    /// Checks the configuration, so a scenario can be rejected before a run.
    ///
    /// # Errors
    ///
    /// [`ChannelError::InvalidConfig`] saying which field is wrong.
    pub fn validate(&self) -> Result<(), ChannelError> {
        if self.window == 0 || self.window > MAX_WINDOW {
            return Err(ChannelError::InvalidConfig(format!(
                "window is {} frames, must be in 1..={MAX_WINDOW}",
                self.window
            )));
        }
        if self.reliable && self.rto.is_zero() {
            return Err(ChannelError::InvalidConfig(
                "rto must be positive on a reliable channel".into(),
            ));
        }
        if self.reliable {
            self.backoff
                .validate()
                .map_err(|e| ChannelError::InvalidConfig(format!("backoff: {e}")))?;
        }
        Ok(())
    }

    fn window_len(&self) -> usize {
        self.window as usize
    }
}

/// [`Sender::send`] refused a payload: the window is full. The payload comes back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChannelFull<P> {
    /// The refused payload, to send again after an ack (or a transmission) makes room.
    pub payload: P,
    /// The window that is full, frames.
    pub window: u32,
}

impl<P> fmt::Display for ChannelFull<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "channel window full ({} frames)", self.window)
    }
}

impl<P: fmt::Debug> std::error::Error for ChannelFull<P> {}

/// Bad input to a channel: a configuration, an ack or a state to restore.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChannelError {
    /// The configuration is invalid (the message says which field).
    InvalidConfig(String),
    /// An ack acknowledges a frame this sender never numbered.
    AckBeyondSent {
        /// The cumulative ack received.
        ack: Seq,
        /// The highest sequence number sent so far.
        highest_sent: Seq,
    },
    /// A state to restore is inconsistent (the message says how).
    InvalidState(String),
}

impl fmt::Display for ChannelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ChannelError::InvalidConfig(why) => write!(f, "invalid channel config: {why}"),
            ChannelError::AckBeyondSent { ack, highest_sent } => write!(
                f,
                "ack {ack} acknowledges frames never sent (highest sent {highest_sent})"
            ),
            ChannelError::InvalidState(why) => write!(f, "invalid channel state: {why}"),
        }
    }
}

impl std::error::Error for ChannelError {}

/// What a sender must keep across a crash (see the module docs, "Durability").
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SenderState<P> {
    /// The sequence number the next [`Sender::send`] assigns.
    pub next_seq: Seq,
    /// The frames still held: unacknowledged (reliable) or not yet transmitted
    /// (unreliable), with consecutive sequence numbers ending at `next_seq - 1`.
    pub held: Vec<Frame<P>>,
}

/// Counters of a sender, for reports.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SenderStats {
    /// Frames handed out by [`Sender::poll_transmit`], retransmissions included.
    pub transmissions: u64,
    /// Transmissions of a sequence number transmitted before (or held across a restore).
    pub retransmissions: u64,
    /// Retransmission timer expiries.
    pub timeouts: u64,
    /// Frames removed by acks.
    pub acked: u64,
}

/// The sending half of a channel.
#[derive(Clone, Debug)]
pub struct Sender<P> {
    config: ChannelConfig,
    /// Sequence number of the next `send`.
    next_seq: u64,
    /// Held frames, oldest first: unacked (reliable) or untransmitted (unreliable).
    held: VecDeque<Frame<P>>,
    /// Sequence number of the next frame `poll_transmit` hands out.
    cursor: u64,
    /// Highest sequence number ever transmitted (for the retransmission counter).
    highest_transmitted: u64,
    /// When the retransmission timer expires; `None` while it is stopped.
    deadline: Option<Duration>,
    /// Progress through the backoff policy since the last ack of new data.
    backoff: BackoffState,
    /// The delay the timer starts with: `rto`, or the last backoff delay.
    delay: Duration,
    stats: SenderStats,
}

impl<P> Sender<P> {
    /// A sender that has sent nothing.
    ///
    /// # Errors
    ///
    /// [`ChannelError::InvalidConfig`].
    pub fn new(config: ChannelConfig) -> Result<Self, ChannelError> {
        Self::restore(
            config,
            SenderState {
                next_seq: Seq::FIRST,
                held: Vec::new(),
            },
        )
    }

    /// Rebuilds a sender from exported state; it retransmits every held frame.
    ///
    /// # Errors
    ///
    /// [`ChannelError::InvalidConfig`], or [`ChannelError::InvalidState`] when the held
    /// frames are more than the window or not consecutive up to `next_seq - 1`.
    pub fn restore(config: ChannelConfig, state: SenderState<P>) -> Result<Self, ChannelError> {
        config.validate()?;
        let next_seq = state.next_seq.get();
        if next_seq == 0 || next_seq == u64::MAX {
            return Err(ChannelError::InvalidState(format!(
                "sender next_seq is {next_seq}, must be in 1..{}",
                u64::MAX
            )));
        }
        if state.held.len() > config.window_len() {
            return Err(ChannelError::InvalidState(format!(
                "sender holds {} frames, more than the window of {}",
                state.held.len(),
                config.window
            )));
        }
        let Some(first) = next_seq
            .checked_sub(state.held.len() as u64)
            .filter(|&first| first >= 1)
        else {
            return Err(ChannelError::InvalidState(format!(
                "sender holds {} frames but next_seq is {next_seq}: more than it numbered",
                state.held.len()
            )));
        };
        for (i, frame) in state.held.iter().enumerate() {
            let expected = first + i as u64;
            if frame.seq.get() != expected {
                return Err(ChannelError::InvalidState(format!(
                    "held frame {i} has seq {}, expected {expected} (held frames must be \
                     consecutive and end at next_seq - 1 = {})",
                    frame.seq,
                    next_seq - 1
                )));
            }
        }
        let sender = Sender {
            delay: config.rto,
            config,
            next_seq,
            held: state.held.into(),
            cursor: first,
            // Held frames may have gone out before the crash: resending them counts as
            // retransmission.
            highest_transmitted: next_seq - 1,
            deadline: None,
            backoff: BackoffState::new(),
            stats: SenderStats::default(),
        };
        sender.check_invariants();
        Ok(sender)
    }

    /// The configuration.
    pub fn config(&self) -> &ChannelConfig {
        &self.config
    }

    /// The sequence number the next [`Sender::send`] assigns.
    pub fn next_seq(&self) -> Seq {
        Seq(self.next_seq)
    }

    /// The highest sequence number the sender no longer holds: cumulatively acked
    /// (reliable) or transmitted (unreliable). [`Seq::NONE`] before any.
    pub fn released_up_to(&self) -> Seq {
        Seq(self.first_held() - 1)
    }

    /// Frames held: unacknowledged (reliable) or not yet transmitted (unreliable).
    pub fn held(&self) -> usize {
        self.held.len()
    }

    /// True when the sender holds no frame (everything acked, or transmitted).
    pub fn is_idle(&self) -> bool {
        self.held.is_empty()
    }

    /// Counters since creation or restore.
    pub fn stats(&self) -> SenderStats {
        self.stats
    }

    /// Numbers `payload` and queues it for transmission.
    ///
    /// # Errors
    ///
    /// [`ChannelFull`] with the payload when `window` frames are held (also, forever,
    /// once `u64::MAX - 1` sequence numbers are used).
    pub fn send(&mut self, payload: P) -> Result<Seq, ChannelFull<P>> {
        if self.held.len() >= self.config.window_len() || self.next_seq == u64::MAX {
            return Err(ChannelFull {
                payload,
                window: self.config.window,
            });
        }
        let seq = Seq(self.next_seq);
        self.held.push_back(Frame { seq, payload });
        self.next_seq += 1;
        self.check_invariants();
        Ok(seq)
    }

    /// A cumulative ack arrived: frames `..= ack` were delivered. Returns how many held
    /// frames it released (0 for a stale or duplicate ack, and on an unreliable channel,
    /// which does not use acks).
    ///
    /// # Errors
    ///
    /// [`ChannelError::AckBeyondSent`] if `ack` is above every sequence number sent; the
    /// sender is unchanged.
    pub fn handle_ack(&mut self, now: Duration, ack: Seq) -> Result<u64, ChannelError> {
        let highest_sent = self.next_seq - 1;
        if ack.get() > highest_sent {
            return Err(ChannelError::AckBeyondSent {
                ack,
                highest_sent: Seq(highest_sent),
            });
        }
        if !self.config.reliable || ack.get() < self.first_held() {
            return Ok(0);
        }
        let mut released = 0u64;
        while self.held.front().is_some_and(|f| f.seq <= ack) {
            self.held.pop_front();
            released += 1;
        }
        self.cursor = self.cursor.max(ack.get() + 1);
        self.stats.acked += released;
        // New data acknowledged (RFC 6298 5.2, 5.3): back to the plain RTO, restarted if
        // something transmitted is still unacknowledged.
        self.backoff.reset();
        self.delay = self.config.rto;
        self.deadline = if self.first_held() < self.cursor {
            Some(now.saturating_add(self.delay))
        } else {
            None
        };
        self.check_invariants();
        Ok(released)
    }

    /// The retransmission timer, if it has expired at `now`: queues every held frame
    /// again and restarts the timer with the next backoff delay. Returns whether it
    /// expired (false before the deadline, or with the timer stopped).
    pub fn handle_timeout(&mut self, now: Duration, rng: &mut impl Rng) -> bool {
        match self.deadline {
            Some(deadline) if deadline <= now => {}
            _ => return false,
        }
        self.cursor = self.first_held();
        if let Some(delay) = self.config.backoff.next_delay(&mut self.backoff, rng) {
            self.delay = delay;
        }
        self.deadline = Some(now.saturating_add(self.delay));
        self.stats.timeouts += 1;
        self.check_invariants();
        true
    }

    /// When [`Sender::handle_timeout`] should next be called, if the timer runs.
    pub fn poll_timeout(&self) -> Option<Duration> {
        self.deadline
    }

    fn first_held(&self) -> u64 {
        self.next_seq - self.held.len() as u64
    }

    fn check_invariants(&self) {
        debug_assert!(self.held.len() <= self.config.window_len());
        debug_assert!(self.next_seq >= 1 && self.first_held() >= 1);
        debug_assert!(self
            .held
            .iter()
            .enumerate()
            .all(|(i, f)| f.seq.get() == self.first_held() + i as u64));
        debug_assert!(self.first_held() <= self.cursor && self.cursor <= self.next_seq);
        debug_assert!(self.deadline.is_none() || (self.config.reliable && !self.held.is_empty()));
        debug_assert!(self.config.reliable || self.cursor == self.first_held());
    }
}

impl<P: Clone> Sender<P> {
    /// The next frame to put on the wire, if any: a new frame or one queued again by a
    /// timeout. Starts the retransmission timer if it is stopped (reliable only).
    ///
    /// At most `window` frames come out between two calls that change the held frames
    /// or the timer, so a `while let` loop over it is bounded.
    pub fn poll_transmit(&mut self, now: Duration) -> Option<Frame<P>> {
        let index = usize::try_from(self.cursor - self.first_held()).ok()?;
        let frame = if self.config.reliable {
            let frame = self.held.get(index)?.clone();
            self.cursor += 1;
            if self.deadline.is_none() {
                self.deadline = Some(now.saturating_add(self.delay));
            }
            frame
        } else {
            debug_assert_eq!(index, 0);
            let frame = self.held.pop_front()?;
            self.cursor += 1;
            frame
        };
        self.stats.transmissions += 1;
        if frame.seq.get() <= self.highest_transmitted {
            self.stats.retransmissions += 1;
        } else {
            self.highest_transmitted = frame.seq.get();
        }
        self.check_invariants();
        Some(frame)
    }

    /// The state to persist (see the module docs, "Durability").
    pub fn export(&self) -> SenderState<P> {
        SenderState {
            next_seq: Seq(self.next_seq),
            held: self.held.iter().cloned().collect(),
        }
    }
}

/// What [`Receiver::handle_frame`] did with a frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FrameOutcome {
    /// New: it will come out of [`Receiver::poll_deliver`].
    Accepted,
    /// Already delivered or already waiting for delivery: dropped.
    Duplicate,
    /// Unreliable channel only: older than what was delivered (fifo) or than the
    /// duplicate-suppression window; dropped, as the receiver cannot tell whether it
    /// was delivered.
    Late,
    /// No room: beyond the window (reliable; the sender retransmits it later) or the
    /// delivery queue is full (unreliable; lost). Dropped.
    BeyondWindow,
}

/// What a receiver must keep across a crash (see the module docs, "Durability").
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReceiverState {
    /// Every frame up to this one was delivered (or, unreliable, given up on).
    pub delivered_up_to: Seq,
    /// Frames delivered out of order above `delivered_up_to`, increasing (empty with
    /// `fifo`).
    pub delivered_above: Vec<Seq>,
}

/// Counters of a receiver, for reports.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceiverStats {
    /// Frames accepted.
    pub accepted: u64,
    /// Frames dropped as duplicates.
    pub duplicates: u64,
    /// Frames dropped as late (unreliable only).
    pub late: u64,
    /// Frames dropped for lack of room.
    pub beyond_window: u64,
    /// Frames delivered by [`Receiver::poll_deliver`].
    pub delivered: u64,
}

/// The receiving half of a channel.
#[derive(Clone, Debug)]
pub struct Receiver<P> {
    config: ChannelConfig,
    /// `delivered_up_to`: every sequence number up to it is done with.
    floor: u64,
    /// Delivered out of order, above `floor` (never with fifo).
    delivered_above: BTreeSet<u64>,
    /// fifo: accepted frames waiting for delivery, by sequence number.
    buffer: BTreeMap<u64, P>,
    /// Not fifo: accepted frames waiting for delivery, in arrival order.
    arrivals: VecDeque<Frame<P>>,
    /// Not fifo: the sequence numbers in `arrivals`.
    pending: BTreeSet<u64>,
    /// An ack should go out (reliable only).
    ack_due: bool,
    stats: ReceiverStats,
}

impl<P> Receiver<P> {
    /// A receiver that has delivered nothing.
    ///
    /// # Errors
    ///
    /// [`ChannelError::InvalidConfig`].
    pub fn new(config: ChannelConfig) -> Result<Self, ChannelError> {
        Self::restore(config, ReceiverState::default())
    }

    /// Rebuilds a receiver from exported state. It rejects every frame it had
    /// delivered, and acks its restored position at the next [`Receiver::poll_ack`].
    ///
    /// # Errors
    ///
    /// [`ChannelError::InvalidConfig`], or [`ChannelError::InvalidState`] when
    /// `delivered_above` is not increasing, lies outside
    /// `(delivered_up_to + 1, delivered_up_to + window]`, or is not empty with `fifo`.
    pub fn restore(config: ChannelConfig, state: ReceiverState) -> Result<Self, ChannelError> {
        config.validate()?;
        let floor = state.delivered_up_to.get();
        // Keeps `floor + window` and `floor + 1` far from overflow.
        let floor_limit = u64::MAX - 2 * u64::from(MAX_WINDOW);
        if floor > floor_limit {
            return Err(ChannelError::InvalidState(format!(
                "delivered_up_to is {floor}, above the limit {floor_limit}"
            )));
        }
        if config.fifo && !state.delivered_above.is_empty() {
            return Err(ChannelError::InvalidState(
                "a fifo receiver delivers in order: delivered_above must be empty".into(),
            ));
        }
        let top = floor.saturating_add(u64::from(config.window));
        let mut previous = floor.saturating_add(1);
        for &seq in &state.delivered_above {
            if seq.get() <= previous || seq.get() > top {
                return Err(ChannelError::InvalidState(format!(
                    "delivered_above holds {seq} after #{previous}: entries must increase \
                     within (#{}, #{top}] (delivered_up_to {})",
                    floor.saturating_add(1),
                    state.delivered_up_to
                )));
            }
            previous = seq.get();
        }
        let receiver = Receiver {
            ack_due: config.reliable,
            config,
            floor,
            delivered_above: state.delivered_above.iter().map(|s| s.get()).collect(),
            buffer: BTreeMap::new(),
            arrivals: VecDeque::new(),
            pending: BTreeSet::new(),
            stats: ReceiverStats::default(),
        };
        receiver.check_invariants();
        Ok(receiver)
    }

    /// The configuration.
    pub fn config(&self) -> &ChannelConfig {
        &self.config
    }

    /// Every frame up to this one was delivered (or, unreliable, given up on).
    pub fn delivered_up_to(&self) -> Seq {
        Seq(self.floor)
    }

    /// Frames accepted and waiting for [`Receiver::poll_deliver`].
    pub fn waiting(&self) -> usize {
        self.buffer.len() + self.arrivals.len()
    }

    /// Counters since creation or restore.
    pub fn stats(&self) -> ReceiverStats {
        self.stats
    }

    /// A data frame arrived from the network.
    pub fn handle_frame(&mut self, frame: Frame<P>) -> FrameOutcome {
        let seq = frame.seq.get();
        let window = self.config.window_len();
        let top = self.floor.saturating_add(u64::from(self.config.window));
        // Every arrival earns an ack, duplicates included: the ack that released the
        // duplicate's original may have been lost.
        self.ack_due |= self.config.reliable;
        let outcome = if seq <= self.floor {
            if self.config.reliable {
                FrameOutcome::Duplicate
            } else {
                FrameOutcome::Late
            }
        } else if self.delivered_above.contains(&seq)
            || self.buffer.contains_key(&seq)
            || self.pending.contains(&seq)
        {
            FrameOutcome::Duplicate
        } else if (self.config.reliable && seq > top) || self.waiting() >= window {
            FrameOutcome::BeyondWindow
        } else if self.config.fifo {
            self.buffer.insert(seq, frame.payload);
            FrameOutcome::Accepted
        } else {
            self.pending.insert(seq);
            self.arrivals.push_back(frame);
            FrameOutcome::Accepted
        };
        match outcome {
            FrameOutcome::Accepted => self.stats.accepted += 1,
            FrameOutcome::Duplicate => self.stats.duplicates += 1,
            FrameOutcome::Late => self.stats.late += 1,
            FrameOutcome::BeyondWindow => self.stats.beyond_window += 1,
        }
        self.check_invariants();
        outcome
    }

    /// The next payload for the application, if one is deliverable: in sequence order
    /// with `fifo` (the next one, or with `reliable` off the lowest waiting), else in
    /// arrival order. Persist its effect before sending the next ack.
    pub fn poll_deliver(&mut self) -> Option<Frame<P>> {
        let before = self.floor;
        let frame = if self.config.fifo {
            let (seq, payload) = if self.config.reliable {
                let next = self.floor + 1;
                let payload = self.buffer.remove(&next)?;
                (next, payload)
            } else {
                self.buffer.pop_first()?
            };
            debug_assert!(seq > self.floor);
            self.floor = seq;
            Frame {
                seq: Seq(seq),
                payload,
            }
        } else {
            let frame = self.arrivals.pop_front()?;
            let seq = frame.seq.get();
            self.pending.remove(&seq);
            self.mark_delivered_unordered(seq);
            frame
        };
        self.stats.delivered += 1;
        if self.floor > before {
            self.ack_due |= self.config.reliable;
        }
        debug_assert!(self.floor >= before);
        self.check_invariants();
        Some(frame)
    }

    /// The cumulative ack to send, if one is due (reliable only, and only once
    /// something was delivered). Send it only after persisting what was delivered.
    pub fn poll_ack(&mut self) -> Option<Seq> {
        let due = core::mem::take(&mut self.ack_due);
        (due && self.config.reliable && self.floor > 0).then_some(Seq(self.floor))
    }

    /// The state to persist (see the module docs, "Durability").
    pub fn export(&self) -> ReceiverState {
        ReceiverState {
            delivered_up_to: Seq(self.floor),
            delivered_above: self.delivered_above.iter().map(|&s| Seq(s)).collect(),
        }
    }

    /// Records an out-of-order delivery of `seq` and absorbs the run above the floor.
    fn mark_delivered_unordered(&mut self, seq: u64) {
        let window = u64::from(self.config.window);
        if seq <= self.floor {
            // Unreliable only: the suppression window slid past it while it waited.
            debug_assert!(!self.config.reliable);
            return;
        }
        if seq > self.floor.saturating_add(window) {
            // Unreliable only (a reliable sender never runs a window ahead): slide the
            // window up to `seq`; sequence numbers left below it are given up on.
            debug_assert!(!self.config.reliable);
            self.floor = seq - window;
            self.delivered_above = self.delivered_above.split_off(&(self.floor + 1));
        }
        let fresh = self.delivered_above.insert(seq);
        debug_assert!(fresh, "#{seq} delivered twice");
        while self.delivered_above.first() == Some(&(self.floor + 1)) {
            self.delivered_above.pop_first();
            self.floor += 1;
        }
    }

    fn check_invariants(&self) {
        let window = self.config.window_len();
        let top = self.floor.saturating_add(u64::from(self.config.window));
        debug_assert!(self.delivered_above.len() <= window);
        debug_assert!(self
            .delivered_above
            .iter()
            .all(|&s| s > self.floor + 1 && s <= top));
        debug_assert!(!self.config.fifo || self.delivered_above.is_empty());
        debug_assert!(self.waiting() <= window);
        debug_assert!(self.config.fifo || self.buffer.is_empty());
        debug_assert!(!self.config.fifo || self.arrivals.is_empty());
        debug_assert_eq!(self.arrivals.len(), self.pending.len());
        debug_assert!(self.buffer.keys().all(|&s| s > self.floor));
        debug_assert!(
            !(self.config.fifo && self.config.reliable) || self.buffer.keys().all(|&s| s <= top)
        );
        debug_assert!(self.pending.is_disjoint(&self.delivered_above));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backoff::{BackoffKind, Jitter};
    use proptest::prelude::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    fn config(fifo: bool, reliable: bool, window: u32) -> ChannelConfig {
        ChannelConfig {
            fifo,
            reliable,
            window,
            rto: ms(50),
            backoff: BackoffPolicy {
                kind: BackoffKind::Exponential(Jitter::Full),
                base: ms(20),
                cap: ms(400),
                max_attempts: 6,
            },
        }
    }

    fn frame(seq: u64, payload: u64) -> Frame<u64> {
        Frame {
            seq: Seq(seq),
            payload,
        }
    }

    // ---------- the API by hand ----------

    #[test]
    fn config_round_trips_through_json() {
        let c = config(true, false, 16);
        let json = serde_json::to_string(&c).unwrap();
        assert_eq!(serde_json::from_str::<ChannelConfig>(&json).unwrap(), c);
        let unknown = json.replacen("{", r#"{"ordered":true,"#, 1);
        assert!(serde_json::from_str::<ChannelConfig>(&unknown).is_err());
    }

    #[test]
    fn config_validation() {
        assert!(config(true, true, 1).validate().is_ok());
        assert!(config(true, true, MAX_WINDOW).validate().is_ok());
        for bad in [0, MAX_WINDOW + 1] {
            let err = config(true, true, bad).validate().unwrap_err();
            assert!(err.to_string().contains("window"), "{err}");
        }
        let mut c = config(true, true, 4);
        c.rto = Duration::ZERO;
        assert!(Sender::<u64>::new(c.clone()).is_err());
        c.reliable = false;
        assert!(c.validate().is_ok(), "an unreliable channel has no timer");
        let mut c = config(false, true, 4);
        c.backoff.max_attempts = 0;
        let err = Receiver::<u64>::new(c).unwrap_err();
        assert!(err.to_string().contains("backoff"), "{err}");
    }

    #[test]
    fn window_full_refuses_and_returns_the_payload() {
        let mut s = Sender::new(config(true, true, 2)).unwrap();
        assert_eq!(s.send(10), Ok(Seq(1)));
        assert_eq!(s.send(11), Ok(Seq(2)));
        let full = s.send(12).unwrap_err();
        assert_eq!(
            full,
            ChannelFull {
                payload: 12,
                window: 2
            }
        );
        assert!(full.to_string().contains("2 frames"));
        // Transmitting does not make room on a reliable channel; an ack does.
        assert_eq!(s.poll_transmit(ms(0)), Some(frame(1, 10)));
        assert!(s.send(12).is_err());
        assert_eq!(s.handle_ack(ms(1), Seq(1)), Ok(1));
        assert_eq!(s.send(12), Ok(Seq(3)));
        assert_eq!(s.released_up_to(), Seq(1));
        assert_eq!(s.held(), 2);
    }

    #[test]
    fn unreliable_sender_forgets_on_transmit() {
        let mut s = Sender::new(config(true, false, 2)).unwrap();
        s.send(10).unwrap();
        s.send(11).unwrap();
        assert!(s.send(12).is_err(), "untransmitted frames fill the window");
        assert_eq!(s.poll_transmit(ms(0)), Some(frame(1, 10)));
        assert_eq!(s.send(12), Ok(Seq(3)));
        assert_eq!(s.poll_transmit(ms(0)), Some(frame(2, 11)));
        assert_eq!(s.poll_transmit(ms(0)), Some(frame(3, 12)));
        assert_eq!(s.poll_transmit(ms(0)), None);
        assert!(s.is_idle());
        assert_eq!(s.poll_timeout(), None, "no timer without reliability");
        assert_eq!(s.handle_ack(ms(0), Seq(3)), Ok(0));
        assert_eq!(s.stats().retransmissions, 0);
    }

    #[test]
    fn acks_are_validated_and_stale_ones_ignored() {
        let mut s = Sender::new(config(true, true, 4)).unwrap();
        s.send(1).unwrap();
        s.send(2).unwrap();
        assert_eq!(
            s.handle_ack(ms(0), Seq(3)),
            Err(ChannelError::AckBeyondSent {
                ack: Seq(3),
                highest_sent: Seq(2)
            })
        );
        assert_eq!(s.held(), 2, "a bad ack changes nothing");
        assert_eq!(s.handle_ack(ms(0), Seq::NONE), Ok(0));
        assert_eq!(s.handle_ack(ms(0), Seq(2)), Ok(2));
        assert_eq!(s.handle_ack(ms(0), Seq(1)), Ok(0), "stale");
        assert!(s.is_idle());
        let err = ChannelError::AckBeyondSent {
            ack: Seq(3),
            highest_sent: Seq(2),
        };
        assert!(err.to_string().contains("#3"), "{err}");
    }

    #[test]
    fn timer_follows_rto_then_the_backoff_policy() {
        let mut c = config(true, true, 4);
        c.rto = ms(50);
        c.backoff = BackoffPolicy {
            kind: BackoffKind::Exponential(Jitter::None),
            base: ms(100),
            cap: ms(300),
            max_attempts: 4,
        };
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let mut s = Sender::new(c).unwrap();
        s.send(1).unwrap();
        assert_eq!(s.poll_timeout(), None, "the timer starts at transmission");
        assert_eq!(s.poll_transmit(ms(5)), Some(frame(1, 1)));
        assert_eq!(s.poll_timeout(), Some(ms(55)), "5 ms + rto 50 ms");
        assert!(!s.handle_timeout(ms(54), &mut rng), "before the deadline");
        // Delays 100, 200, 300 (capped), then max_attempts = 4 is used up: 300 repeats.
        let mut expiries = vec![];
        for _ in 0..5 {
            let at = s.poll_timeout().unwrap();
            assert!(s.handle_timeout(at, &mut rng));
            assert_eq!(s.poll_transmit(at), Some(frame(1, 1)), "go-back-N resend");
            assert_eq!(s.poll_transmit(at), None);
            expiries.push(s.poll_timeout().unwrap() - at);
        }
        assert_eq!(expiries, vec![ms(100), ms(200), ms(300), ms(300), ms(300)]);
        assert_eq!(s.stats().retransmissions, 5);
        assert_eq!(s.stats().timeouts, 5);
        // An ack of new data resets to the plain rto, or stops the timer when idle.
        s.send(2).unwrap();
        assert_eq!(s.poll_transmit(ms(2000)), Some(frame(2, 2)));
        assert_eq!(s.handle_ack(ms(2000), Seq(1)), Ok(1));
        assert_eq!(s.poll_timeout(), Some(ms(2050)));
        assert_eq!(s.handle_ack(ms(2010), Seq(2)), Ok(1));
        assert_eq!(s.poll_timeout(), None);
    }

    #[test]
    fn fifo_receiver_holds_early_frames_and_acks_cumulatively() {
        let mut r = Receiver::new(config(true, true, 3)).unwrap();
        assert_eq!(r.poll_ack(), None, "nothing delivered yet");
        assert_eq!(r.handle_frame(frame(3, 30)), FrameOutcome::Accepted);
        assert_eq!(r.handle_frame(frame(2, 20)), FrameOutcome::Accepted);
        assert_eq!(r.poll_deliver(), None, "#1 is missing");
        assert_eq!(r.handle_frame(frame(4, 40)), FrameOutcome::BeyondWindow);
        assert_eq!(r.handle_frame(frame(3, 30)), FrameOutcome::Duplicate);
        assert_eq!(r.handle_frame(frame(1, 10)), FrameOutcome::Accepted);
        let got: Vec<_> = core::iter::from_fn(|| r.poll_deliver()).collect();
        assert_eq!(got, vec![frame(1, 10), frame(2, 20), frame(3, 30)]);
        assert_eq!(r.poll_ack(), Some(Seq(3)));
        assert_eq!(r.poll_ack(), None, "one ack per event");
        assert_eq!(r.handle_frame(frame(2, 20)), FrameOutcome::Duplicate);
        assert_eq!(r.poll_ack(), Some(Seq(3)), "a duplicate is re-acked");
        let st = r.stats();
        assert_eq!((st.accepted, st.duplicates, st.beyond_window), (3, 2, 1));
        assert_eq!(st.delivered, 3);
    }

    #[test]
    fn unordered_receiver_delivers_on_arrival_without_duplicates() {
        let mut r = Receiver::new(config(false, true, 4)).unwrap();
        assert_eq!(r.handle_frame(frame(3, 30)), FrameOutcome::Accepted);
        assert_eq!(r.poll_deliver(), Some(frame(3, 30)));
        assert_eq!(
            r.poll_ack(),
            None,
            "#1 and #2 missing: the cumulative ack is 0"
        );
        assert_eq!(r.handle_frame(frame(3, 30)), FrameOutcome::Duplicate);
        assert_eq!(
            r.export(),
            ReceiverState {
                delivered_up_to: Seq(0),
                delivered_above: vec![Seq(3)]
            }
        );
        r.handle_frame(frame(1, 10));
        r.handle_frame(frame(2, 20));
        assert_eq!(r.poll_deliver(), Some(frame(1, 10)));
        assert_eq!(r.poll_deliver(), Some(frame(2, 20)));
        assert_eq!(r.delivered_up_to(), Seq(3), "#3 absorbed");
        assert_eq!(r.poll_ack(), Some(Seq(3)));
        assert_eq!(r.export().delivered_above, vec![]);
    }

    #[test]
    fn unreliable_fifo_drops_what_comes_too_late() {
        let mut r = Receiver::new(config(true, false, 4)).unwrap();
        r.handle_frame(frame(1, 10));
        r.handle_frame(frame(3, 30));
        assert_eq!(r.poll_deliver(), Some(frame(1, 10)));
        assert_eq!(r.poll_deliver(), Some(frame(3, 30)), "no waiting for #2");
        assert_eq!(r.handle_frame(frame(2, 20)), FrameOutcome::Late);
        assert_eq!(r.poll_deliver(), None);
        assert_eq!(r.poll_ack(), None, "no acks without reliability");
    }

    #[test]
    fn unreliable_unordered_slides_its_suppression_window() {
        let mut r = Receiver::new(config(false, false, 4)).unwrap();
        r.handle_frame(frame(10, 100));
        assert_eq!(r.poll_deliver(), Some(frame(10, 100)));
        // The window now covers #7..=#10: #6 and below are late.
        assert_eq!(r.delivered_up_to(), Seq(6));
        assert_eq!(r.handle_frame(frame(6, 60)), FrameOutcome::Late);
        assert_eq!(r.handle_frame(frame(10, 100)), FrameOutcome::Duplicate);
        assert_eq!(r.handle_frame(frame(7, 70)), FrameOutcome::Accepted);
        for s in 20..23 {
            assert_eq!(r.handle_frame(frame(s, s)), FrameOutcome::Accepted);
        }
        assert_eq!(
            r.handle_frame(frame(30, 30)),
            FrameOutcome::BeyondWindow,
            "4 waiting"
        );
        let got: Vec<u64> = core::iter::from_fn(|| r.poll_deliver())
            .map(|f| f.seq.get())
            .collect();
        assert_eq!(got, vec![7, 20, 21, 22]);
        assert_eq!(r.handle_frame(frame(18, 18)), FrameOutcome::Late);
        assert_eq!(r.handle_frame(frame(19, 19)), FrameOutcome::Accepted);
    }

    #[test]
    fn restored_sender_retransmits_what_it_held() {
        let mut s = Sender::new(config(true, true, 4)).unwrap();
        for p in [10, 11, 12] {
            s.send(p).unwrap();
        }
        while s.poll_transmit(ms(0)).is_some() {}
        s.handle_ack(ms(1), Seq(1)).unwrap();
        let state = s.export();
        assert_eq!(
            serde_json::to_string(&state).unwrap(),
            r#"{"next_seq":4,"held":[{"seq":2,"payload":11},{"seq":3,"payload":12}]}"#
        );
        assert_eq!(state.next_seq, Seq(4));
        assert_eq!(state.held, vec![frame(2, 11), frame(3, 12)]);
        let mut again = Sender::restore(config(true, true, 4), state).unwrap();
        assert_eq!(again.poll_transmit(ms(9)), Some(frame(2, 11)));
        assert_eq!(again.poll_transmit(ms(9)), Some(frame(3, 12)));
        assert_eq!(again.stats().retransmissions, 2);
        assert_eq!(again.send(13), Ok(Seq(4)));
    }

    #[test]
    fn restored_receiver_rejects_what_it_delivered() {
        let state = ReceiverState {
            delivered_up_to: Seq(5),
            delivered_above: vec![Seq(7)],
        };
        // Plain data: a sequence number is a bare integer on the wire.
        let json = serde_json::to_string(&state).unwrap();
        assert_eq!(json, r#"{"delivered_up_to":5,"delivered_above":[7]}"#);
        let state: ReceiverState = serde_json::from_str(&json).unwrap();
        let mut r = Receiver::<u64>::restore(config(false, true, 4), state).unwrap();
        assert_eq!(
            r.poll_ack(),
            Some(Seq(5)),
            "a restored receiver acks at once"
        );
        for s in [1, 5, 7] {
            assert_eq!(r.handle_frame(frame(s, s)), FrameOutcome::Duplicate);
        }
        assert_eq!(r.handle_frame(frame(6, 6)), FrameOutcome::Accepted);
        assert_eq!(r.poll_deliver(), Some(frame(6, 6)));
        assert_eq!(r.delivered_up_to(), Seq(7));
    }

    #[test]
    fn inconsistent_states_are_refused() {
        let c = config(true, true, 2);
        let bad_senders = [
            SenderState {
                next_seq: Seq(0),
                held: vec![],
            },
            SenderState {
                next_seq: Seq(4),
                held: vec![frame(1, 0), frame(2, 0), frame(3, 0)],
            },
            SenderState {
                next_seq: Seq(4),
                held: vec![frame(1, 0), frame(3, 0)],
            },
            SenderState {
                next_seq: Seq(2),
                held: vec![frame(1, 0), frame(2, 0)],
            },
            SenderState {
                next_seq: Seq(1),
                held: vec![frame(1, 0), frame(2, 0)],
            },
            SenderState {
                next_seq: Seq(u64::MAX),
                held: vec![],
            },
        ];
        for state in bad_senders {
            let err = Sender::restore(c.clone(), state.clone()).unwrap_err();
            assert!(
                matches!(err, ChannelError::InvalidState(_)),
                "{state:?}: {err}"
            );
        }
        let bad_receivers = [
            (true, vec![Seq(3)]),
            (false, vec![Seq(3), Seq(3)]),
            (false, vec![Seq(2)]),
            (false, vec![Seq(4)]),
        ];
        for (fifo, above) in bad_receivers {
            let state = ReceiverState {
                delivered_up_to: Seq(1),
                delivered_above: above,
            };
            let err = Receiver::<u64>::restore(config(fifo, true, 2), state.clone()).unwrap_err();
            assert!(
                err.to_string().contains("delivered_above"),
                "{state:?}: {err}"
            );
        }
        let near_max = ReceiverState {
            delivered_up_to: Seq(u64::MAX),
            delivered_above: vec![],
        };
        assert!(Receiver::<u64>::restore(config(true, true, 2), near_max).is_err());
    }

    // ---------- laws over a lossy, duplicating, reordering network ----------

    /// The test network's faults.
    #[derive(Clone, Copy, Debug)]
    struct Faults {
        /// Probability that a transmitted frame or ack is lost, while `step < chaos_steps`
        /// (crashes, too, happen only then).
        drop: f64,
        /// Probability that a transmitted frame or ack arrives twice.
        dup: f64,
        /// Steps with losses; afterwards the network stops losing (but still duplicates
        /// and reorders): the fair-loss assumption made concrete, so runs end.
        chaos_steps: usize,
    }

    /// Which crashes the run injects.
    #[derive(Clone, Copy, Debug, Default)]
    struct Crashes {
        sender: bool,
        receiver: bool,
        /// The receiver persists only every third delivery: breaks the contract.
        stale_receiver: bool,
    }

    #[derive(Debug)]
    struct Run {
        sent: Vec<Frame<u64>>,
        delivered: Vec<Frame<u64>>,
        /// Everything sent was released and the network drained before the step limit.
        finished: bool,
        /// Steps taken.
        steps: usize,
        /// Crash-and-restores of the sender and of the receiver.
        restores: (usize, usize),
    }

    /// Explicit bounds of a simulated run.
    const MAX_STEPS: usize = 40_000;
    const MAX_IN_FLIGHT: usize = 2_048;

    /// In flight on the network: an unordered bag, delivered in random order.
    fn put<T: Clone>(bag: &mut Vec<T>, item: T, lossy: bool, f: &Faults, rng: &mut ChaCha8Rng) {
        if lossy && rng.gen_bool(f.drop) {
            return;
        }
        let copies = if rng.gen_bool(f.dup) { 2 } else { 1 };
        for _ in 0..copies {
            if bag.len() < MAX_IN_FLIGHT {
                bag.push(item.clone());
            }
        }
    }

    fn take<T>(bag: &mut Vec<T>, rng: &mut ChaCha8Rng) -> Option<T> {
        (!bag.is_empty()).then(|| bag.swap_remove(rng.gen_range(0..bag.len())))
    }

    /// One sender and one receiver; the app sends `messages` payloads, the network
    /// drops, duplicates and reorders, the processes crash and restore from what they
    /// persisted (the sender after each send, the receiver after each delivery).
    fn simulate(c: &ChannelConfig, seed: u64, messages: usize, f: Faults, k: Crashes) -> Run {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut sender = Sender::new(c.clone()).unwrap();
        let mut receiver = Receiver::new(c.clone()).unwrap();
        // What each process persisted, as the bytes it would write to its WAL.
        let persist_sender = |s: &Sender<u64>| serde_json::to_vec(&s.export()).unwrap();
        let persist_receiver = |r: &Receiver<u64>| serde_json::to_vec(&r.export()).unwrap();
        let mut durable_sender = persist_sender(&sender);
        let mut durable_receiver = persist_receiver(&receiver);
        let (mut data, mut acks) = (Vec::new(), Vec::new());
        let (mut sent, mut delivered) = (Vec::new(), Vec::new());
        let mut now = Duration::ZERO;
        let mut finished = false;
        let mut steps = 0;
        let mut restores = (0, 0);
        for step in 0..MAX_STEPS {
            steps = step + 1;
            let lossy = step < f.chaos_steps;
            match rng.gen_range(0..10) {
                0 | 1 if sent.len() < messages => {
                    let payload = 1_000 + sent.len() as u64;
                    match sender.send(payload) {
                        Ok(seq) => {
                            sent.push(Frame { seq, payload });
                            durable_sender = persist_sender(&sender);
                        }
                        Err(full) => assert_eq!(full.payload, payload),
                    }
                }
                2..=4 => {
                    if let Some(fr) = take(&mut data, &mut rng) {
                        receiver.handle_frame(fr);
                    }
                }
                5 | 6 => {
                    if let Some(a) = take(&mut acks, &mut rng) {
                        let released = sender
                            .handle_ack(now, a)
                            .expect("acks only for sent frames");
                        // Persisting progress is optional: a stale state only resends.
                        if released > 0 && rng.gen_bool(0.5) {
                            durable_sender = persist_sender(&sender);
                        }
                    }
                }
                7 => {
                    now = sender.poll_timeout().map_or(now + ms(1), |d| d.max(now));
                    sender.handle_timeout(now, &mut rng);
                }
                // Crashes, like losses, stop after the chaos phase, so runs end.
                8 if k.sender && lossy && rng.gen_bool(0.3) => {
                    let state = serde_json::from_slice(&durable_sender).unwrap();
                    sender = Sender::restore(c.clone(), state).unwrap();
                    restores.0 += 1;
                }
                9 if k.receiver && lossy && rng.gen_bool(0.3) => {
                    let state = serde_json::from_slice(&durable_receiver).unwrap();
                    receiver = Receiver::restore(c.clone(), state).unwrap();
                    restores.1 += 1;
                }
                _ => {}
            }
            // A poll loop is bounded by the window (poll_transmit's contract).
            for _ in 0..=c.window {
                let Some(fr) = sender.poll_transmit(now) else {
                    break;
                };
                put(&mut data, fr, lossy, &f, &mut rng);
            }
            assert!(
                sender.poll_transmit(now).is_none(),
                "poll_transmit ran past its window"
            );
            while let Some(fr) = receiver.poll_deliver() {
                delivered.push(fr);
                if !k.stale_receiver || delivered.len() % 3 == 0 {
                    durable_receiver = persist_receiver(&receiver);
                }
            }
            if let Some(a) = receiver.poll_ack() {
                put(&mut acks, a, lossy, &f, &mut rng);
            }
            if sent.len() == messages && sender.is_idle() && data.is_empty() && acks.is_empty() {
                finished = true;
                break;
            }
        }
        Run {
            sent,
            delivered,
            finished,
            steps,
            restores,
        }
    }

    fn seqs(frames: &[Frame<u64>]) -> Vec<u64> {
        frames.iter().map(|f| f.seq.get()).collect()
    }

    fn no_duplicates(frames: &[Frame<u64>]) -> bool {
        let set: BTreeSet<u64> = frames.iter().map(|f| f.seq.get()).collect();
        set.len() == frames.len()
    }

    /// Every delivered frame is one that was sent, with its payload.
    fn none_invented(run: &Run) -> bool {
        run.delivered.iter().all(|d| {
            usize::try_from(d.seq.get() - 1)
                .ok()
                .and_then(|i| run.sent.get(i))
                .is_some_and(|s| s == d)
        })
    }

    fn faults() -> impl Strategy<Value = Faults> {
        (0.0f64..0.5, 0.0f64..0.3, 0usize..3_000).prop_map(|(drop, dup, chaos_steps)| Faults {
            drop,
            dup,
            chaos_steps,
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn fifo_reliable_is_exactly_once_in_order(
            seed: u64, messages in 0usize..60, window in 1u32..12, f in faults(),
        ) {
            let run = simulate(&config(true, true, window), seed, messages, f, Crashes::default());
            prop_assert!(run.finished, "did not finish: {:?}", run);
            prop_assert_eq!(run.sent.len(), messages);
            prop_assert_eq!(&run.delivered, &run.sent);
        }

        #[test]
        fn unordered_reliable_may_reorder_but_never_loses_or_duplicates(
            seed: u64, messages in 0usize..60, window in 1u32..12, f in faults(),
        ) {
            let run = simulate(&config(false, true, window), seed, messages, f, Crashes::default());
            prop_assert!(run.finished);
            prop_assert!(no_duplicates(&run.delivered));
            prop_assert!(none_invented(&run));
            prop_assert_eq!(run.delivered.len(), messages);
        }

        #[test]
        fn unreliable_may_lose_but_never_duplicates_or_invents(
            seed: u64, messages in 0usize..60, window in 1u32..12, f in faults(), fifo: bool,
        ) {
            let run = simulate(&config(fifo, false, window), seed, messages, f, Crashes::default());
            prop_assert!(run.finished);
            prop_assert!(no_duplicates(&run.delivered));
            prop_assert!(none_invented(&run));
            if fifo {
                let s = seqs(&run.delivered);
                prop_assert!(s.windows(2).all(|w| w[0] < w[1]), "out of order: {:?}", s);
            }
        }

        #[test]
        fn crash_and_restore_keep_exactly_once(
            seed: u64, messages in 0usize..60, window in 1u32..12, f in faults(),
            fifo: bool, sender_crashes: bool, receiver_crashes: bool,
        ) {
            let k = Crashes { sender: sender_crashes, receiver: receiver_crashes, stale_receiver: false };
            let run = simulate(&config(fifo, true, window), seed, messages, f, k);
            prop_assert!(run.finished);
            prop_assert_eq!(run.sent.len(), messages);
            if fifo {
                prop_assert_eq!(&run.delivered, &run.sent);
            } else {
                prop_assert!(no_duplicates(&run.delivered));
                prop_assert!(none_invented(&run));
                prop_assert_eq!(run.delivered.len(), messages);
            }
        }
    }

    #[test]
    fn the_crash_law_is_exercised() {
        // Over 32 runs the harness must crash both halves often and still finish well
        // within its step limit; otherwise the crash law above would hold vacuously.
        let k = Crashes {
            sender: true,
            receiver: true,
            stale_receiver: false,
        };
        let (mut sender_restores, mut receiver_restores, mut max_steps) = (0, 0, 0);
        for seed in 0..32 {
            let run = simulate(&config(true, true, 4), seed, 40, REORDERING, k);
            assert!(run.finished);
            assert_eq!(run.delivered, run.sent);
            sender_restores += run.restores.0;
            receiver_restores += run.restores.1;
            max_steps = max_steps.max(run.steps);
        }
        eprintln!("restores: sender {sender_restores}, receiver {receiver_restores}; longest run {max_steps} steps");
        assert!(sender_restores >= 32 && receiver_restores >= 32);
        assert!(max_steps < MAX_STEPS / 4);
    }

    // ---------- each law fails without its switch ----------

    const REORDERING: Faults = Faults {
        drop: 0.2,
        dup: 0.1,
        chaos_steps: 2_000,
    };

    /// Seeds tried when looking for a counterexample; each search below finds one
    /// within the first few (the test fails if none of them does).
    const SEARCH_SEEDS: u64 = 64;

    #[test]
    fn fifo_off_reorders() {
        let reordered = (0..SEARCH_SEEDS).find(|&seed| {
            let run = simulate(
                &config(false, true, 8),
                seed,
                30,
                REORDERING,
                Crashes::default(),
            );
            assert!(run.finished);
            seqs(&run.delivered).windows(2).any(|w| w[0] > w[1])
        });
        assert!(reordered.is_some(), "no reordering in {SEARCH_SEEDS} runs");
        // The same network with fifo on never reorders.
        let seed = reordered.unwrap();
        let run = simulate(
            &config(true, true, 8),
            seed,
            30,
            REORDERING,
            Crashes::default(),
        );
        assert_eq!(run.delivered, run.sent);
    }

    #[test]
    fn reliable_off_loses() {
        let lost = (0..SEARCH_SEEDS).find(|&seed| {
            let run = simulate(
                &config(true, false, 8),
                seed,
                30,
                REORDERING,
                Crashes::default(),
            );
            assert!(run.finished);
            run.delivered.len() < run.sent.len()
        });
        assert!(lost.is_some(), "no loss in {SEARCH_SEEDS} runs");
        let seed = lost.unwrap();
        let run = simulate(
            &config(true, true, 8),
            seed,
            30,
            REORDERING,
            Crashes::default(),
        );
        assert_eq!(run.delivered, run.sent);
    }

    #[test]
    fn persisting_the_receiver_late_breaks_exactly_once() {
        let k = Crashes {
            sender: false,
            receiver: true,
            stale_receiver: true,
        };
        let broken = (0..SEARCH_SEEDS).find(|&seed| {
            let run = simulate(&config(true, true, 8), seed, 30, REORDERING, k);
            !run.finished || run.delivered != run.sent
        });
        assert!(
            broken.is_some(),
            "stale receiver state never hurt in {SEARCH_SEEDS} runs"
        );
    }
}
