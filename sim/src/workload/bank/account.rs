//! One account's logic, sans-IO: the bank's process code without the process around it.
//!
//! An [`Account`] holds a balance, one reliable channel ([`faultline_models::channel`])
//! to and from every peer, its Lamport, vector and hybrid logical clocks
//! ([`faultline_models::clock`]) and its part of the current Chandy-Lamport snapshot
//! ([`faultline_models::snapshot`]). Inputs come in through [`Account::handle`] with the
//! node's physical time and a random stream; what it wants done comes out as
//! [`Action`]s; its write-ahead log is an interface ([`Log`]) it appends to *before* it
//! acts. Nothing here knows the simulator: the same type could run in a process on
//! tokio with a file for its log.
//!
//! # The protocol
//!
//! - A transfer is debited and logged (WAL record `Debit`) before its frame is sent; a
//!   received transfer is credited and logged (`Credit`) before it is acknowledged, and
//!   with `fsync: every_record` the log is synced before either message leaves. An
//!   ack's record (`Acked`) waits for the next sync instead: losing it only makes a
//!   restart resend frames the receiver already has, which it refuses. Every
//!   frame sent or delivered is a record, so a restarted account rebuilds its channels:
//!   the next sequence number, the frames not yet acknowledged (retransmitted), what it
//!   has delivered (duplicates refused).
//! - Markers ride the same channels as transfers, so with FIFO channels no marker
//!   overtakes a transfer sent before it (Chandy and Lamport 1985); a snapshot newer
//!   than the current one abandons it.
//! - Every local, send and receive event ticks the three clocks; the HLC reads the
//!   node's own physical clock. Each record carries the clocks after its event, so a
//!   restart resumes them from the last durable event.
//! - A restarted account is a new *incarnation* with a vector-clock entry (`slot`) of
//!   its own: the events it lost in the crash are a branch the new incarnation does not
//!   follow, and a fresh entry keeps the vector clock exact about that (the new events
//!   follow the last durable event only).
//!
//! # Invariants (`debug_assert!`)
//!
//! - The balance never goes negative: a transfer is made only from money on hand.
//! - Every event strictly increases the Lamport clock, the vector clock and the HLC.
//! - A record is appended to the log before the message it covers is handed out.

use core::time::Duration;
use std::rc::Rc;

use faultline_models::channel::{
    ChannelConfig, Frame, FrameOutcome, Receiver, ReceiverState, Sender, SenderState, Seq,
};
use faultline_models::clock::{Hlc, HlcTimestamp, Lamport, VectorClock};
use faultline_models::snapshot::SnapshotProcess;
use faultline_models::{checkpoint, wal};
use rand::Rng;
use rand_distr::{Distribution, Exp1};

/// A vector-clock entry: one account incarnation.
pub type Slot = u32;

/// An event's identity: its incarnation's entry and its count there (the event's own
/// vector-clock component).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EventId {
    /// The incarnation's vector-clock entry.
    pub slot: Slot,
    /// 1 for the incarnation's first event.
    pub index: u64,
}

/// The clocks of one event.
#[derive(Clone, Debug, PartialEq)]
pub struct Stamp {
    /// Which event.
    pub event: EventId,
    /// Its Lamport time.
    pub lamport: u64,
    /// Its vector time (shared: a stamp is copied into the log record, the frame, its
    /// retransmissions and the report, and a clone of 16 entries each time was a large
    /// part of the cost per message; an `Rc`, as a run is one thread and its counts
    /// need no atomic instructions).
    pub vc: Rc<VectorClock>,
    /// Its hybrid logical time.
    pub hlc: HlcTimestamp,
}

/// What a channel frame carries.
#[derive(Clone, Debug, PartialEq)]
pub enum Payload {
    /// Money.
    Transfer {
        /// Units.
        amount: u64,
        /// The send event's clocks.
        stamp: Stamp,
    },
    /// A Chandy-Lamport marker.
    Marker {
        /// The snapshot.
        snapshot: u32,
        /// The send event's clocks.
        stamp: Stamp,
    },
}

impl Payload {
    /// The send event's clocks.
    pub fn stamp(&self) -> &Stamp {
        match self {
            Payload::Transfer { stamp, .. } | Payload::Marker { stamp, .. } => stamp,
        }
    }
}

/// A message between accounts, or from the engine to an account.
#[derive(Clone, Debug, PartialEq)]
pub enum BankMsg {
    /// A channel frame.
    Frame(Frame<Payload>),
    /// The receiver has delivered every frame up to this one.
    Ack(Seq),
    /// From the engine at boot: this incarnation's vector-clock entry.
    Boot {
        /// The entry.
        slot: Slot,
    },
    /// From the engine: start snapshot `snapshot` here.
    Initiate {
        /// The snapshot's id.
        snapshot: u32,
    },
    /// From the engine at the end of the run: report the final state.
    Report,
}

/// What an event was about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum What {
    /// A transfer of this many units.
    Transfer(u64),
    /// A marker of this snapshot.
    Marker(u32),
    /// A snapshot started here.
    Initiate(u32),
}

/// One event, as reported for the engine's causality checks and trace.
#[derive(Clone, Debug, PartialEq)]
pub enum EventKind {
    /// A local event (a snapshot starting here).
    Local,
    /// A frame handed to the channel to `to`.
    Send {
        /// The receiver.
        to: u32,
        /// The frame's sequence number.
        seq: u64,
    },
    /// A frame delivered from the channel from `from`.
    Receive {
        /// The sender.
        from: u32,
        /// The frame's sequence number.
        seq: u64,
        /// The send event, as the frame claims.
        sent_by: EventId,
        /// The send event's clocks, as the frame carried them.
        sent: Stamp,
    },
}

/// An event and its clocks.
#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    /// Its kind.
    pub kind: EventKind,
    /// What it was about.
    pub what: What,
    /// Its clocks.
    pub stamp: Stamp,
    /// The node's physical clock when it happened, ns.
    pub pt_ns: u64,
}

/// A state recorded by a snapshot.
#[derive(Clone, Debug, PartialEq)]
pub struct Recorded {
    /// The balance.
    pub balance: u64,
    /// Per peer: the highest sequence number sent to it so far (0: none).
    pub sent_up_to: Vec<u64>,
    /// Per peer: what has been delivered from it so far.
    pub received: Vec<ReceiverState>,
}

/// This account's finished part of a snapshot.
#[derive(Clone, Debug, PartialEq)]
pub struct SnapshotPart {
    /// The snapshot.
    pub snapshot: u32,
    /// The recorded local state.
    pub state: Recorded,
    /// Per peer: the transfers recorded in flight on the channel from it, (seq, amount).
    pub in_flight: Vec<Vec<(u64, u64)>>,
}

/// How a restart recovered. `C` is the restored clocks: `Option<Stamp>` as the account
/// reports them, `()` in the run's output (a stamp shares its vector clock through an
/// `Rc`, which cannot leave the run's thread, and the records never show the clocks).
#[derive(Clone, Debug, PartialEq)]
pub struct Recovery<C = Option<Stamp>> {
    /// The new incarnation's entry.
    pub slot: Slot,
    /// The last durable event, whose state was restored (`None`: started fresh).
    pub resumed_from: Option<EventId>,
    /// Its clocks, as restored.
    pub clocks: C,
    /// Records replayed.
    pub records: u64,
    /// Bytes of log kept (the rest was cut).
    pub valid_bytes: u64,
    /// Bytes of log cut (a torn or corrupt tail).
    pub cut_bytes: u64,
    /// Why replay stopped, in words (`clean`, `torn at byte 812`, ...).
    pub stop: String,
    /// The balance restored.
    pub balance: u64,
    /// The checkpoint loaded (its generation), if any.
    pub checkpoint: Option<u32>,
    /// Records a recovery from the whole log would have replayed: those the checkpoint
    /// covers plus `records`.
    pub records_without_checkpoint: u64,
    /// The time the replayed events span by the account's HLC, from the checkpoint's
    /// last event (or 0) to the last replayed one, ns.
    pub replay_span_ns: u64,
    /// The same from 0: the span of a replay of the whole log, ns.
    pub replay_span_without_ns: u64,
}

impl Recovery {
    /// The same without the clocks.
    pub fn without_clocks(self) -> Recovery<()> {
        Recovery {
            slot: self.slot,
            resumed_from: self.resumed_from,
            clocks: (),
            records: self.records,
            valid_bytes: self.valid_bytes,
            cut_bytes: self.cut_bytes,
            stop: self.stop,
            balance: self.balance,
            checkpoint: self.checkpoint,
            records_without_checkpoint: self.records_without_checkpoint,
            replay_span_ns: self.replay_span_ns,
            replay_span_without_ns: self.replay_span_without_ns,
        }
    }
}

/// The account's state at the end of the run, for the engine's durability checks.
#[derive(Clone, Debug, PartialEq)]
pub struct FinalState {
    /// The balance.
    pub balance: u64,
    /// Per peer: transfers sent and not known to be acknowledged, (seq, amount).
    pub unacked: Vec<Vec<(u64, u64)>>,
    /// Per peer: what has been delivered from it.
    pub received: Vec<ReceiverState>,
}

/// Why a transfer was not made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Skip {
    /// Not enough money.
    Funds,
    /// The channel's window is full.
    Window,
    /// The log refused the record (disk full).
    Log,
}

/// A checkpoint written and synced, as the account's process reports it.
#[derive(Clone, Debug, PartialEq)]
pub struct Checkpointed {
    /// The log generation it started.
    pub generation: u32,
    /// Its size, bytes.
    pub bytes: u64,
    /// Records of the log's history it covers.
    pub records_covered: u64,
    /// How long it stalled the account, ns.
    pub stall_ns: u64,
}

/// What an account reports to the engine.
#[derive(Clone, Debug, PartialEq)]
pub enum BankReport {
    /// An event happened.
    Event(Event),
    /// A restart recovered from the log.
    Recovered(Recovery),
    /// This account's part of a snapshot is complete.
    SnapshotPart(SnapshotPart),
    /// The state at the end of the run.
    Final(FinalState),
    /// A transfer was not made.
    Skipped(Skip),
    /// The account stopped (its log refused a record it cannot do without).
    Halted(String),
    /// A checkpoint was written.
    Checkpointed(Checkpointed),
}

/// What the account asks for, in order.
#[derive(Debug, PartialEq)]
pub enum Action {
    /// Sync the log (before the actions after it).
    Fsync,
    /// Send a message.
    Send {
        /// The peer.
        to: u32,
        /// The message.
        msg: BankMsg,
    },
    /// Deliver [`Input::Timer`] with `token` once this much physical time has passed.
    Timer {
        /// The token.
        token: u64,
        /// Physical delay, ns.
        after_ns: u64,
    },
    /// Stop: the account cannot go on safely.
    Halt,
    /// Write this checkpoint, stall, and start the log's next generation.
    Checkpoint(CheckpointWrite),
}

/// A checkpoint to write: the process writes `bytes` to the checkpoint file of
/// `generation` (two files, alternating: the previous checkpoint stays until this one
/// is synced), stalls for `cost_ns` and until the write is synced, then cuts the log to
/// nothing and waits for that cut to be synced too, appends `header` (the new generation's first record) and calls
/// [`Account::checkpoint_written`]. Until then the account takes no input, so the
/// checkpoint holds every record of the log it replaces.
#[derive(Debug, PartialEq)]
pub struct CheckpointWrite {
    /// The log generation it starts.
    pub generation: u32,
    /// The stored checkpoint: one WAL record ([`faultline_models::checkpoint`]).
    pub bytes: Vec<u8>,
    /// The framed first record of the new generation's log.
    pub header: Vec<u8>,
    /// Time the checkpoint stalls the account, ns.
    pub cost_ns: u64,
    /// Records of the log's history the checkpoint covers.
    pub records_covered: u64,
}

/// What the account asks for, appended to buffers the caller reuses (a fresh `Vec` per
/// input was an allocation per message). The reports go to the engine before the
/// actions are carried out: they tell of what already happened in memory, and the
/// checks must know an event before its frame enters the network. Kept apart, so that
/// neither has to be sorted out of the other on every input.
#[derive(Debug, Default)]
pub struct Output {
    /// Reports, in order.
    pub reports: Vec<BankReport>,
    /// Actions, in order.
    pub actions: Vec<Action>,
}

impl Output {
    /// Whether both are empty.
    pub fn is_empty(&self) -> bool {
        self.reports.is_empty() && self.actions.is_empty()
    }
}

/// Timer tokens.
pub mod token {
    /// The next transfer.
    pub const TRANSFER: u64 = 0;
    /// The periodic fsync.
    pub const FSYNC: u64 = 1;
    /// The next checkpoint.
    pub const CHECKPOINT: u64 = 2;
    /// A channel's retransmission timer: `RETRANSMIT + peer`.
    pub const RETRANSMIT: u64 = 1 << 16;
}

/// When the log is synced.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fsync {
    /// After every step that appended a record other than an ack's, before its
    /// messages leave.
    EveryRecord,
    /// Every this many ns of physical time, if anything was appended.
    Interval(u64),
    /// Never.
    Never,
}

/// An account's configuration (the same for every account of a run).
#[derive(Clone, Debug)]
pub struct AccountConfig {
    /// Accounts in the bank.
    pub accounts: u32,
    /// Starting balance.
    pub initial_balance: u64,
    /// Mean physical time between two transfers of one account, ns.
    pub transfer_gap_ns: f64,
    /// Largest transfer.
    pub max_amount: u64,
    /// Every channel's configuration.
    pub channel: ChannelConfig,
    /// Whether the account keeps a log.
    pub wal: bool,
    /// When the log is synced.
    pub fsync: Fsync,
    /// Checkpoints, if any.
    pub checkpoints: Option<super::config::CheckpointConfig>,
}

/// The write-ahead log, as the account sees it.
pub trait Log {
    /// Appends one encoded record.
    fn append(&mut self, record: &[u8]) -> Result<(), String>;
}

/// A log that keeps nothing (`durability.wal: false`).
pub struct NoLog;

impl Log for NoLog {
    fn append(&mut self, _record: &[u8]) -> Result<(), String> {
        Ok(())
    }
}

/// What happened to the account, from the outside.
#[derive(Debug)]
pub enum Input {
    /// A timer set with [`Action::Timer`] fired.
    Timer(u64),
    /// A message arrived from `from`.
    Message {
        /// The sender.
        from: u32,
        /// The message.
        msg: BankMsg,
    },
}

/// One WAL record: an event's effect and the clocks after it.
#[derive(Clone, Debug, PartialEq)]
struct LogRecord {
    entry: Entry,
    stamp: Stamp,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Entry {
    Debit {
        to: u32,
        seq: u64,
        amount: u64,
    },
    Credit {
        from: u32,
        seq: u64,
        amount: u64,
    },
    MarkerSent {
        to: u32,
        seq: u64,
        snapshot: u32,
    },
    MarkerReceived {
        from: u32,
        seq: u64,
        snapshot: u32,
    },
    /// The peer acknowledged everything up to `up_to` (clocks unchanged: not an event).
    Acked {
        to: u32,
        up_to: u64,
    },
    /// A snapshot started here.
    Initiated {
        snapshot: u32,
    },
    /// The first record of a log that follows checkpoint `generation` (clocks
    /// unchanged: not an event). A log without one is generation 0.
    Generation {
        generation: u32,
    },
}

/// The channel message recorded by a snapshot: (sequence number, amount).
type InFlight = (u64, u64);

/// One account (see the module documentation).
pub struct Account {
    config: AccountConfig,
    me: u32,
    slot: Slot,
    balance: u64,
    senders: Vec<Option<Sender<Payload>>>,
    receivers: Vec<Option<Receiver<Payload>>>,
    /// Per peer: the retransmission deadline a timer is set for (physical ns).
    armed: Vec<Option<u64>>,
    lamport: Lamport,
    /// Shared with the stamps of past events: ticking copies it only while one of them
    /// is alive, once per event.
    vc: Rc<VectorClock>,
    hlc: Hlc,
    /// The snapshot this account takes part in (0: none yet).
    snapshot_id: u32,
    snapshot: SnapshotProcess<Recorded, InFlight>,
    /// The current snapshot's part has been reported.
    snapshot_reported: bool,
    /// Records appended since the last fsync.
    unsynced: u64,
    /// Of those, the records a step must sync before its messages leave (all but
    /// acks', with `every_record`).
    unsynced_required: u64,
    halted: bool,
    /// A reused buffer for a record's framed bytes.
    framed: Vec<u8>,
    /// The log's generation: that of the newest checkpoint it follows (0: none).
    generation: u32,
    /// Records in the log's whole history (the newest checkpoint covers the rest).
    records_total: u64,
    /// The last event recovery restored (this incarnation's own events follow it).
    resumed: Option<Stamp>,
    /// Recovery chose a checkpoint the log on disk does not follow: the log must start
    /// again with this header before anything is appended.
    log_restart: Option<Vec<u8>>,
    /// Bytes in the log file (a checkpoint's position).
    log_bytes: u64,
}

fn duration(ns: u64) -> Duration {
    Duration::from_nanos(ns)
}

fn nanos(duration: Duration) -> u64 {
    u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX)
}

impl Account {
    /// Account `me` (of `config.accounts`) at incarnation entry `slot`, restored from
    /// the log `bytes` alone (empty, or `config.wal` off: a fresh account). See
    /// [`Account::recover_from`].
    pub fn recover(config: AccountConfig, me: u32, slot: Slot, bytes: &[u8]) -> (Self, Recovery) {
        Account::recover_from(config, me, slot, bytes, &[])
            .expect("a log with no checkpoint needs none")
    }

    /// Account `me` at incarnation entry `slot`, restored from the newest valid
    /// checkpoint the log follows and the log after it. Returns the account and how it
    /// recovered; the caller cuts the log to `valid_bytes`, then starts it again with
    /// [`Account::take_log_restart`] if that says so.
    ///
    /// The log's first record names the checkpoint generation it follows (none:
    /// generation 0). A checkpoint of generation `k` holds the state before log
    /// generation `k`; it is usable with a log of generation `k` (replay the log after
    /// its header) or `k - 1` (the cut of the old log was not yet synced: replay what
    /// the old log holds past the checkpoint's position, nothing when it was cut at
    /// once). `Err` when the log follows a checkpoint none of `checkpoints` can stand
    /// in for (every copy of it is torn or lost): replaying it over the initial state
    /// would invent money, so the account must stop.
    pub fn recover_from(
        config: AccountConfig,
        me: u32,
        slot: Slot,
        bytes: &[u8],
        checkpoints: &[&[u8]],
    ) -> Result<(Self, Recovery), String> {
        let n = config.accounts as usize;
        let peers: Vec<usize> = (0..n).filter(|&peer| peer != me as usize).collect();
        let mut account = Account {
            me,
            slot,
            balance: config.initial_balance,
            senders: (0..n).map(|_| None).collect(),
            receivers: (0..n).map(|_| None).collect(),
            armed: vec![None; n],
            lamport: Lamport::new(),
            vc: Rc::new(VectorClock::new(n)),
            hlc: Hlc::new(None),
            snapshot_id: 0,
            snapshot: SnapshotProcess::new(me as usize, peers.clone(), peers),
            snapshot_reported: false,
            unsynced: 0,
            unsynced_required: 0,
            halted: false,
            framed: Vec::new(),
            generation: 0,
            records_total: 0,
            resumed: None,
            log_restart: None,
            log_bytes: 0,
            config,
        };
        let recovered = if account.config.wal {
            wal::recover(bytes)
        } else {
            wal::recover(&[])
        };
        // The log's generation: its header's, 0 for records without one, `None` empty.
        let log_generation = recovered.records.first().map(|first| {
            match decode(first.payload).map(|record| record.entry) {
                Some(Entry::Generation { generation }) => generation,
                _ => 0,
            }
        });
        let usable = |generation: u32| {
            log_generation.is_none_or(|log| generation == log || generation == log + 1)
        };
        let chosen = checkpoints
            .iter()
            .filter_map(|bytes| checkpoint::decode(bytes).ok())
            .filter_map(|stored| {
                decode_state(stored.state).map(|state| (stored.log_position, state))
            })
            .filter(|(_, state)| account.config.wal && usable(state.generation))
            .max_by_key(|(_, state)| state.generation);
        let mut replay = Replay::new(n);
        let mut last: Option<Stamp> = None;
        let mut covered = 0;
        let from_offset = match &chosen {
            Some((position, state)) => {
                covered = state.records_total;
                account.balance = state.balance;
                account.snapshot_id = state.snapshot_id;
                account.generation = state.generation;
                last = state.last.clone();
                replay.load(state);
                if log_generation == Some(state.generation) {
                    // After the header.
                    recovered.records.first().map_or(0, |header| header.end())
                } else {
                    *position
                }
            }
            None => match log_generation {
                None | Some(0) => 0,
                Some(generation) => {
                    return Err(format!(
                        "the log follows checkpoint {generation}, and no valid checkpoint \
                         it can follow is on the disk"
                    ))
                }
            },
        };
        let mut records = 0u64;
        for record in recovered.records.iter().filter(|r| r.offset >= from_offset) {
            let Some(record) = decode(record.payload) else {
                break; // a record this code did not write: stop replay here
            };
            if matches!(record.entry, Entry::Generation { .. }) {
                continue;
            }
            records += 1;
            match record.entry {
                Entry::Debit { to, seq, amount } => {
                    account.balance -= amount.min(account.balance);
                    replay.sent[to as usize].push((
                        seq,
                        Payload::Transfer {
                            amount,
                            stamp: record.stamp.clone(),
                        },
                    ));
                }
                Entry::Credit { from, seq, amount } => {
                    account.balance += amount;
                    replay.delivered[from as usize].push(seq);
                }
                Entry::MarkerSent { to, seq, snapshot } => {
                    account.snapshot_id = account.snapshot_id.max(snapshot);
                    replay.sent[to as usize].push((
                        seq,
                        Payload::Marker {
                            snapshot,
                            stamp: record.stamp.clone(),
                        },
                    ));
                }
                Entry::MarkerReceived {
                    from,
                    seq,
                    snapshot,
                } => {
                    account.snapshot_id = account.snapshot_id.max(snapshot);
                    replay.delivered[from as usize].push(seq);
                }
                Entry::Acked { to, up_to } => {
                    replay.acked[to as usize] = replay.acked[to as usize].max(up_to);
                }
                Entry::Initiated { snapshot } => {
                    account.snapshot_id = account.snapshot_id.max(snapshot);
                }
                Entry::Generation { .. } => {}
            }
            if !matches!(record.entry, Entry::Acked { .. }) {
                last = Some(record.stamp);
            }
        }
        account.records_total = covered + records;
        account.log_bytes = recovered.valid_len;
        if let Some((_, state)) = &chosen {
            if log_generation != Some(state.generation) {
                account.log_restart = Some(account.header_record());
            }
        }
        for peer in 0..n {
            if peer == me as usize {
                continue;
            }
            let next_seq = replay.sent[peer]
                .iter()
                .map(|(seq, _)| *seq)
                .max()
                .unwrap_or(0)
                .max(replay.sent_up_to[peer])
                + 1;
            let acked = replay.acked[peer];
            let held = if account.config.channel.reliable {
                replay.sent[peer]
                    .iter()
                    .filter(|(seq, _)| *seq > acked)
                    .map(|(seq, payload)| Frame {
                        seq: Seq(*seq),
                        payload: payload.clone(),
                    })
                    .collect()
            } else {
                Vec::new()
            };
            let sender = Sender::restore(
                account.config.channel.clone(),
                SenderState {
                    next_seq: Seq(next_seq),
                    held,
                },
            )
            .expect("a log written by this code restores its senders");
            let mut seqs = std::mem::take(&mut replay.delivered[peer]);
            seqs.sort_unstable();
            seqs.dedup();
            let mut up_to = replay.delivered_up_to[peer];
            let mut above = Vec::new();
            for seq in seqs {
                if seq <= up_to {
                    continue;
                }
                if seq == up_to + 1 {
                    up_to = seq;
                } else {
                    above.push(Seq(seq));
                }
            }
            above.retain(|seq| seq.get() > up_to);
            let receiver = Receiver::restore(
                account.config.channel.clone(),
                ReceiverState {
                    delivered_up_to: Seq(up_to),
                    delivered_above: above,
                },
            )
            .expect("a log written by this code restores its receivers");
            account.senders[peer] = Some(sender);
            account.receivers[peer] = Some(receiver);
        }
        if let Some(stamp) = &last {
            account.lamport = Lamport(stamp.lamport);
            account.vc = Rc::clone(&stamp.vc);
            account.hlc = Hlc::resume(stamp.hlc, None);
        }
        // A recovered snapshot is over for this incarnation: it joins only newer ones.
        account.snapshot_reported = true;
        // The incarnation's own entry (past the accounts' first ones after a restart).
        let mut entries = account.vc.as_slice().to_vec();
        if entries.len() <= slot as usize {
            entries.resize(slot as usize + 1, 0);
            account.vc = Rc::new(VectorClock::from_entries(entries));
        }
        account.resumed.clone_from(&last);
        let checkpoint_ns = chosen
            .as_ref()
            .and_then(|(_, state)| state.last.as_ref())
            .map_or(0, |stamp| stamp.hlc.l_ns);
        let last_ns = last.as_ref().map_or(0, |stamp| stamp.hlc.l_ns);
        let recovery = Recovery {
            slot,
            resumed_from: last.as_ref().map(|stamp| stamp.event),
            clocks: last,
            records,
            valid_bytes: recovered.valid_len,
            cut_bytes: bytes.len() as u64 - recovered.valid_len,
            stop: describe_stop(&recovered.stop),
            balance: account.balance,
            checkpoint: chosen.as_ref().map(|(_, state)| state.generation),
            records_without_checkpoint: covered + records,
            replay_span_ns: last_ns.saturating_sub(checkpoint_ns),
            replay_span_without_ns: last_ns,
        };
        Ok((account, recovery))
    }

    /// The header the log must start again with before anything is appended, once
    /// (see [`Account::recover_from`]).
    pub fn take_log_restart(&mut self) -> Option<Vec<u8>> {
        let header = self.log_restart.take()?;
        self.log_bytes = header.len() as u64;
        Some(header)
    }

    /// The framed header record of the log's current generation.
    fn header_record(&self) -> Vec<u8> {
        Account::header_for(self.generation, &self.current_stamp())
    }

    /// The checkpoint of the account as it is: its state and the log generation after
    /// it.
    fn checkpoint(&self, cost_ns: u64) -> CheckpointWrite {
        let generation = self.generation + 1;
        // The last event: this incarnation's newest, or the one recovery restored.
        let last = if self.vc.get(self.slot as usize) > 0 {
            Some(self.current_stamp())
        } else {
            self.resumed.clone()
        };
        let state = State {
            generation,
            records_total: self.records_total,
            balance: self.balance,
            snapshot_id: self.snapshot_id,
            last,
            peers: (0..self.config.accounts as usize)
                .map(|peer| {
                    let Some(sender) = &self.senders[peer] else {
                        return PeerState::default();
                    };
                    let exported = sender.export();
                    let received = self.receivers[peer]
                        .as_ref()
                        .map(Receiver::export)
                        .unwrap_or(ReceiverState {
                            delivered_up_to: Seq(0),
                            delivered_above: Vec::new(),
                        });
                    PeerState {
                        sent_up_to: exported.next_seq.get() - 1,
                        held: exported
                            .held
                            .into_iter()
                            .map(|frame| (frame.seq.get(), frame.payload))
                            .collect(),
                        delivered_up_to: received.delivered_up_to.get(),
                        delivered_above: received
                            .delivered_above
                            .iter()
                            .map(|seq| seq.get())
                            .collect(),
                    }
                })
                .collect(),
        };
        let mut bytes = Vec::new();
        encode_state(&state, &mut bytes);
        // The position: the log's length now, all of which the state holds.
        let stored = checkpoint::Checkpoint::new(bytes, self.log_bytes)
            .encode()
            .expect("a checkpoint within the record limit");
        CheckpointWrite {
            generation,
            bytes: stored,
            header: Account::header_for(generation, &self.current_stamp()),
            cost_ns,
            records_covered: self.records_total,
        }
    }

    fn header_for(generation: u32, stamp: &Stamp) -> Vec<u8> {
        let mut framed = Vec::new();
        wal::encode_with(&mut framed, |buf| {
            encode(Entry::Generation { generation }, stamp, buf);
        })
        .expect("a header record is small");
        framed
    }

    /// The process wrote checkpoint `generation`, synced it, and started the log
    /// again with its header: later records go to the new generation.
    pub fn checkpoint_written(&mut self, generation: u32, header_bytes: u64) {
        self.generation = generation;
        self.log_bytes = header_bytes;
    }

    /// The first actions after a boot at physical time `pt_ns`, appended to `out`:
    /// the first transfer's timer, the periodic fsync's, and the frames a restored
    /// channel sends again.
    pub fn start(&mut self, pt_ns: u64, rng: &mut impl Rng, out: &mut Output) {
        out.actions.push(self.next_transfer_timer(rng));
        if let Fsync::Interval(period_ns) = self.config.fsync {
            out.actions.push(Action::Timer {
                token: token::FSYNC,
                after_ns: period_ns,
            });
        }
        if let Some(checkpoints) = self.checkpoints() {
            out.actions.push(Action::Timer {
                token: token::CHECKPOINT,
                after_ns: checkpoints.interval_ns,
            });
        }
        // A restored sender has frames to send again.
        for peer in 0..self.config.accounts {
            self.transmit(peer, pt_ns, out);
        }
    }

    /// Checkpoints, when the account keeps a log to cut.
    fn checkpoints(&self) -> Option<&super::config::CheckpointConfig> {
        self.config.checkpoints.as_ref().filter(|_| self.config.wal)
    }

    /// Whether the account has stopped.
    pub fn halted(&self) -> bool {
        self.halted
    }

    /// Handles one input at physical time `pt_ns`; what it asks for is appended to
    /// `out`.
    pub fn handle(
        &mut self,
        input: Input,
        pt_ns: u64,
        rng: &mut impl Rng,
        log: &mut dyn Log,
        out: &mut Output,
    ) {
        if self.halted {
            return;
        }
        let first = out.actions.len();
        match input {
            Input::Timer(token::TRANSFER) => {
                self.transfer(pt_ns, rng, log, out);
                out.actions.push(self.next_transfer_timer(rng));
            }
            Input::Timer(token::FSYNC) => {
                if let Fsync::Interval(period_ns) = self.config.fsync {
                    if self.unsynced > 0 {
                        self.unsynced = 0;
                        self.unsynced_required = 0;
                        out.actions.push(Action::Fsync);
                    }
                    out.actions.push(Action::Timer {
                        token: token::FSYNC,
                        after_ns: period_ns,
                    });
                }
            }
            Input::Timer(token::CHECKPOINT) => {
                if let Some(checkpoints) = self.checkpoints() {
                    let (cost_ns, interval_ns) = (checkpoints.cost_ns, checkpoints.interval_ns);
                    out.actions.push(Action::Checkpoint(self.checkpoint(cost_ns)));
                    out.actions.push(Action::Timer {
                        token: token::CHECKPOINT,
                        after_ns: interval_ns,
                    });
                }
            }
            Input::Timer(token) if token >= token::RETRANSMIT => {
                let peer = (token - token::RETRANSMIT) as u32;
                self.armed[peer as usize] = None;
                let due = self.sender(peer).poll_timeout().map(nanos);
                if due.is_some_and(|due| due <= pt_ns) {
                    self.sender_mut(peer).handle_timeout(duration(pt_ns), rng);
                }
                self.transmit(peer, pt_ns, out);
            }
            Input::Timer(_) => {}
            Input::Message { from, msg } => match msg {
                BankMsg::Frame(frame) => self.on_frame(from, frame, pt_ns, log, out),
                BankMsg::Ack(up_to) => {
                    if self
                        .sender_mut(from)
                        .handle_ack(duration(pt_ns), up_to)
                        .is_ok_and(|released| released > 0)
                    {
                        let entry = Entry::Acked {
                            to: from,
                            up_to: up_to.get(),
                        };
                        // Losing this record only makes a restart resend what was acked.
                        let _ = self.append(entry, &self.current_stamp(), log);
                    }
                    self.transmit(from, pt_ns, out);
                }
                BankMsg::Initiate { snapshot } => self.initiate(snapshot, pt_ns, log, out),
                BankMsg::Report => out.reports.push(BankReport::Final(self.final_state())),
                BankMsg::Boot { .. } => {}
            },
        }
        self.sync_before_sends(out, first);
    }

    /// With `every_record`, an fsync before the first message of a step that logged a
    /// record other than an ack's.
    /// `out.actions[first..]` are this step's.
    fn sync_before_sends(&mut self, out: &mut Output, first: usize) {
        if self.config.fsync == Fsync::EveryRecord && self.unsynced_required > 0 {
            self.unsynced = 0;
            self.unsynced_required = 0;
            let first_send = out.actions[first..]
                .iter()
                .position(|action| matches!(action, Action::Send { .. }))
                .map_or(out.actions.len(), |at| first + at);
            out.actions.insert(first_send, Action::Fsync);
        }
    }

    fn next_transfer_timer(&self, rng: &mut impl Rng) -> Action {
        let unit: f64 = Exp1.sample(rng);
        Action::Timer {
            token: token::TRANSFER,
            after_ns: (unit * self.config.transfer_gap_ns).round().max(1.0) as u64,
        }
    }

    fn sender(&self, peer: u32) -> &Sender<Payload> {
        self.senders[peer as usize]
            .as_ref()
            .expect("a channel to every peer")
    }

    fn sender_mut(&mut self, peer: u32) -> &mut Sender<Payload> {
        self.senders[peer as usize]
            .as_mut()
            .expect("a channel to every peer")
    }

    fn receiver_mut(&mut self, peer: u32) -> &mut Receiver<Payload> {
        self.receivers[peer as usize]
            .as_mut()
            .expect("a channel from every peer")
    }

    /// The clocks as they are, to undo an event whose record the log refused.
    fn save_clocks(&self) -> (Lamport, Rc<VectorClock>, Hlc) {
        (self.lamport, Rc::clone(&self.vc), self.hlc)
    }

    fn restore_clocks(&mut self, saved: (Lamport, Rc<VectorClock>, Hlc)) {
        (self.lamport, self.vc, self.hlc) = saved;
    }

    /// Ticks the clocks for a local or send event.
    fn tick(&mut self, pt_ns: u64) -> Stamp {
        self.lamport.tick();
        Rc::make_mut(&mut self.vc).tick(self.slot as usize);
        let hlc = self.hlc.send(duration(pt_ns));
        self.stamp_now(hlc)
    }

    /// Ticks the clocks for a receive event of a message stamped `remote`.
    fn receive_tick(&mut self, remote: &Stamp, pt_ns: u64) -> Stamp {
        self.lamport.on_receive(remote.lamport);
        Rc::make_mut(&mut self.vc).on_receive(self.slot as usize, &remote.vc);
        let hlc = self
            .hlc
            .receive(remote.hlc, duration(pt_ns))
            .expect("the bank's HLC has no max-offset guard");
        self.stamp_now(hlc)
    }

    fn stamp_now(&self, hlc: HlcTimestamp) -> Stamp {
        Stamp {
            event: EventId {
                slot: self.slot,
                index: self.vc.get(self.slot as usize),
            },
            lamport: self.lamport.now(),
            vc: Rc::clone(&self.vc),
            hlc,
        }
    }

    fn current_stamp(&self) -> Stamp {
        self.stamp_now(self.hlc.now())
    }

    fn append(&mut self, entry: Entry, stamp: &Stamp, log: &mut dyn Log) -> Result<(), String> {
        if !self.config.wal {
            return Ok(());
        }
        self.framed.clear();
        wal::encode_with(&mut self.framed, |buf| encode(entry, stamp, buf))
            .map_err(|err| err.to_string())?;
        log.append(&self.framed)?;
        self.log_bytes += self.framed.len() as u64;
        self.records_total += 1;
        self.unsynced += 1;
        if !matches!(entry, Entry::Acked { .. }) {
            self.unsynced_required += 1;
        }
        Ok(())
    }

    fn transfer(&mut self, pt_ns: u64, rng: &mut impl Rng, log: &mut dyn Log, out: &mut Output) {
        let n = self.config.accounts;
        let offset = rng.gen_range(1..n);
        let to = (self.me + offset) % n;
        let amount = rng.gen_range(1..=self.config.max_amount);
        if amount > self.balance {
            out.reports.push(BankReport::Skipped(Skip::Funds));
            return;
        }
        if self.sender(to).held() >= self.config.channel.window as usize {
            out.reports.push(BankReport::Skipped(Skip::Window));
            return;
        }
        let seq = self.sender(to).next_seq().get();
        let saved = self.save_clocks();
        let stamp = self.tick(pt_ns);
        if self
            .append(Entry::Debit { to, seq, amount }, &stamp, log)
            .is_err()
        {
            // Not logged, not done: the event is undone before anything saw it.
            self.restore_clocks(saved);
            out.reports.push(BankReport::Skipped(Skip::Log));
            return;
        }
        debug_assert!(amount <= self.balance, "a transfer larger than the balance");
        self.balance -= amount;
        let sent = self.sender_mut(to).send(Payload::Transfer {
            amount,
            stamp: stamp.clone(),
        });
        debug_assert_eq!(sent.ok().map(Seq::get), Some(seq));
        out.reports.push(BankReport::Event(Event {
            kind: EventKind::Send { to, seq },
            what: What::Transfer(amount),
            stamp,
            pt_ns,
        }));
        self.transmit(to, pt_ns, out);
    }

    fn on_frame(
        &mut self,
        from: u32,
        frame: Frame<Payload>,
        pt_ns: u64,
        log: &mut dyn Log,
        out: &mut Output,
    ) {
        if self.receiver_mut(from).handle_frame(frame) != FrameOutcome::Accepted {
            self.ack(from, out);
            return;
        }
        while let Some(frame) = self.receiver_mut(from).poll_deliver() {
            let seq = frame.seq.get();
            match frame.payload {
                Payload::Transfer {
                    amount,
                    stamp: remote,
                } => {
                    let stamp = self.receive_tick(&remote, pt_ns);
                    if let Err(err) = self.append(Entry::Credit { from, seq, amount }, &stamp, log)
                    {
                        // Delivered but not logged: crediting would be undurable and not
                        // crediting would lose the money; stop instead (fail-stop).
                        self.halted = true;
                        out.reports.push(BankReport::Halted(format!(
                            "the log refused a credit: {err}"
                        )));
                        out.actions.push(Action::Halt);
                        return;
                    }
                    self.balance += amount;
                    self.snapshot.on_message(from as usize, &(seq, amount));
                    out.reports.push(BankReport::Event(Event {
                        kind: EventKind::Receive {
                            from,
                            seq,
                            sent_by: remote.event,
                            sent: remote,
                        },
                        what: What::Transfer(amount),
                        stamp,
                        pt_ns,
                    }));
                }
                Payload::Marker {
                    snapshot,
                    stamp: remote,
                } => {
                    let stamp = self.receive_tick(&remote, pt_ns);
                    let entry = Entry::MarkerReceived {
                        from,
                        seq,
                        snapshot,
                    };
                    if let Err(err) = self.append(entry, &stamp, log) {
                        self.halted = true;
                        out.reports.push(BankReport::Halted(format!(
                            "the log refused a marker: {err}"
                        )));
                        out.actions.push(Action::Halt);
                        return;
                    }
                    out.reports.push(BankReport::Event(Event {
                        kind: EventKind::Receive {
                            from,
                            seq,
                            sent_by: remote.event,
                            sent: remote,
                        },
                        what: What::Marker(snapshot),
                        stamp,
                        pt_ns,
                    }));
                    self.on_marker(from, seq, snapshot, pt_ns, log, out);
                }
            }
        }
        self.ack(from, out);
    }

    fn ack(&mut self, from: u32, out: &mut Output) {
        if !self.config.channel.reliable {
            return;
        }
        if let Some(up_to) = self.receiver_mut(from).poll_ack() {
            out.actions.push(Action::Send {
                to: from,
                msg: BankMsg::Ack(up_to),
            });
        }
    }

    fn recorded(&self) -> Recorded {
        let n = self.config.accounts as usize;
        Recorded {
            balance: self.balance,
            sent_up_to: (0..n)
                .map(|peer| {
                    self.senders[peer]
                        .as_ref()
                        .map_or(0, |sender| sender.next_seq().get() - 1)
                })
                .collect(),
            received: (0..n)
                .map(|peer| {
                    self.receivers[peer].as_ref().map_or(
                        ReceiverState {
                            delivered_up_to: Seq(0),
                            delivered_above: Vec::new(),
                        },
                        Receiver::export,
                    )
                })
                .collect(),
        }
    }

    /// Moves to snapshot `snapshot` if it is newer (abandoning the current one); returns
    /// whether it is the current snapshot and this account's part is unfinished.
    fn join(&mut self, snapshot: u32) -> bool {
        if snapshot > self.snapshot_id {
            self.snapshot_id = snapshot;
            self.snapshot.reset();
            self.snapshot_reported = false;
        }
        snapshot == self.snapshot_id && !self.snapshot_reported
    }

    fn initiate(&mut self, snapshot: u32, pt_ns: u64, log: &mut dyn Log, out: &mut Output) {
        if snapshot <= self.snapshot_id || !self.join(snapshot) {
            return;
        }
        let saved = self.save_clocks();
        let stamp = self.tick(pt_ns);
        if self
            .append(Entry::Initiated { snapshot }, &stamp, log)
            .is_err()
        {
            self.restore_clocks(saved);
            return; // no snapshot from here this time
        }
        out.reports.push(BankReport::Event(Event {
            kind: EventKind::Local,
            what: What::Initiate(snapshot),
            stamp,
            pt_ns,
        }));
        let state = self.recorded();
        let peers = self.snapshot.initiate(&state);
        self.send_markers(snapshot, &peers, pt_ns, log, out);
        self.report_if_complete(out);
    }

    fn on_marker(
        &mut self,
        from: u32,
        seq: u64,
        snapshot: u32,
        pt_ns: u64,
        log: &mut dyn Log,
        out: &mut Output,
    ) {
        if !self.join(snapshot) {
            return; // an abandoned snapshot's marker
        }
        // The state before this marker: the marker frame itself is not part of it.
        let mut state = self.recorded();
        let received = &mut state.received[from as usize];
        if received.delivered_up_to.get() == seq {
            received.delivered_up_to = Seq(seq - 1);
        } else {
            received.delivered_above.retain(|above| above.get() != seq);
        }
        let peers = self.snapshot.on_marker(from as usize, &state);
        self.send_markers(snapshot, &peers, pt_ns, log, out);
        self.report_if_complete(out);
    }

    fn send_markers(
        &mut self,
        snapshot: u32,
        peers: &[usize],
        pt_ns: u64,
        log: &mut dyn Log,
        out: &mut Output,
    ) {
        for &peer in peers {
            let to = peer as u32;
            if self.sender(to).held() >= self.config.channel.window as usize {
                continue; // this snapshot will not complete; a later one will
            }
            let seq = self.sender(to).next_seq().get();
            let saved = self.save_clocks();
            let stamp = self.tick(pt_ns);
            if self
                .append(Entry::MarkerSent { to, seq, snapshot }, &stamp, log)
                .is_err()
            {
                self.restore_clocks(saved);
                continue;
            }
            let _ = self.sender_mut(to).send(Payload::Marker {
                snapshot,
                stamp: stamp.clone(),
            });
            out.reports.push(BankReport::Event(Event {
                kind: EventKind::Send { to, seq },
                what: What::Marker(snapshot),
                stamp,
                pt_ns,
            }));
            self.transmit(to, pt_ns, out);
        }
    }

    fn report_if_complete(&mut self, out: &mut Output) {
        if self.snapshot_reported || !self.snapshot.is_complete() {
            return;
        }
        self.snapshot_reported = true;
        let n = self.config.accounts as usize;
        let state = self
            .snapshot
            .recorded_state()
            .expect("a complete snapshot has a recorded state")
            .clone();
        let in_flight = (0..n)
            .map(|peer| {
                if peer == self.me as usize {
                    Vec::new()
                } else {
                    self.snapshot.channel_messages(peer).to_vec()
                }
            })
            .collect();
        out.reports.push(BankReport::SnapshotPart(SnapshotPart {
            snapshot: self.snapshot_id,
            state,
            in_flight,
        }));
    }

    /// Frames the channel to `peer` wants on the wire, and its retransmission timer.
    fn transmit(&mut self, peer: u32, pt_ns: u64, out: &mut Output) {
        if peer == self.me {
            return;
        }
        while let Some(frame) = self.sender_mut(peer).poll_transmit(duration(pt_ns)) {
            out.actions.push(Action::Send {
                to: peer,
                msg: BankMsg::Frame(frame),
            });
        }
        let due = self.sender(peer).poll_timeout().map(nanos);
        if let Some(due_ns) = due {
            if self.armed[peer as usize].is_none_or(|armed| armed > due_ns) {
                self.armed[peer as usize] = Some(due_ns);
                out.actions.push(Action::Timer {
                    token: token::RETRANSMIT + u64::from(peer),
                    after_ns: due_ns.saturating_sub(pt_ns),
                });
            }
        }
    }

    fn final_state(&self) -> FinalState {
        let n = self.config.accounts as usize;
        let recorded = self.recorded();
        FinalState {
            balance: self.balance,
            unacked: (0..n)
                .map(|peer| {
                    self.senders[peer].as_ref().map_or(Vec::new(), |sender| {
                        sender
                            .export()
                            .held
                            .iter()
                            .filter_map(|frame| match &frame.payload {
                                Payload::Transfer { amount, .. } => {
                                    Some((frame.seq.get(), *amount))
                                }
                                Payload::Marker { .. } => None,
                            })
                            .collect()
                    })
                })
                .collect(),
            received: recorded.received,
        }
    }

    /// The state a log leaves behind after a crash: what [`Account::recover`] restores,
    /// as the engine's end-of-run checks read it.
    /// A log that follows a checkpoint no longer on the disk leaves the initial state
    /// (recovery would stop the account: what it held is lost).
    pub fn durable_state(
        config: AccountConfig,
        me: u32,
        bytes: &[u8],
        checkpoints: &[Vec<u8>],
    ) -> FinalState {
        let checkpoints: Vec<&[u8]> = checkpoints.iter().map(Vec::as_slice).collect();
        match Account::recover_from(config.clone(), me, 0, bytes, &checkpoints) {
            Ok((account, _)) => account.final_state(),
            Err(_) => Account::recover(config, me, 0, &[]).0.final_state(),
        }
    }
}

/// What replay gathers per peer before the channels are rebuilt.
struct Replay {
    /// Frames sent: from the checkpoint's held ones on, then the log's.
    sent: Vec<Vec<(u64, Payload)>>,
    /// The highest sequence number sent, per the checkpoint.
    sent_up_to: Vec<u64>,
    acked: Vec<u64>,
    delivered_up_to: Vec<u64>,
    /// Delivered above `delivered_up_to`: the checkpoint's, then the log's.
    delivered: Vec<Vec<u64>>,
}

impl Replay {
    fn new(n: usize) -> Self {
        Replay {
            sent: vec![Vec::new(); n],
            sent_up_to: vec![0; n],
            acked: vec![0; n],
            delivered_up_to: vec![0; n],
            delivered: vec![Vec::new(); n],
        }
    }

    fn load(&mut self, state: &State) {
        for (peer, saved) in state.peers.iter().enumerate().take(self.sent.len()) {
            self.sent[peer].clone_from(&saved.held);
            self.sent_up_to[peer] = saved.sent_up_to;
            // Every frame the checkpoint holds was unacknowledged then.
            self.acked[peer] = saved.held.first().map_or(0, |(seq, _)| seq - 1);
            self.delivered_up_to[peer] = saved.delivered_up_to;
            self.delivered[peer].clone_from(&saved.delivered_above);
        }
    }
}

/// One peer's channels in a checkpoint.
#[derive(Clone, Debug, Default, PartialEq)]
struct PeerState {
    sent_up_to: u64,
    /// Unacknowledged frames, (seq, payload).
    held: Vec<(u64, Payload)>,
    delivered_up_to: u64,
    delivered_above: Vec<u64>,
}

/// An account's state in a checkpoint: what replaying the log up to it rebuilds.
#[derive(Clone, Debug, PartialEq)]
struct State {
    /// The log generation that follows it.
    generation: u32,
    /// Records of the log's history it covers.
    records_total: u64,
    balance: u64,
    snapshot_id: u32,
    /// The last event's clocks.
    last: Option<Stamp>,
    peers: Vec<PeerState>,
}

/// Most peers, held frames or delivered numbers a checkpoint may list (checked before
/// anything is allocated for them).
const MAX_STATE_ITEMS: u64 = 1 << 20;

fn put_stamp(out: &mut Vec<u8>, stamp: &Stamp) {
    put_varint(out, u64::from(stamp.event.slot));
    put_varint(out, stamp.event.index);
    put_varint(out, stamp.lamport);
    put_varint(out, stamp.hlc.l_ns);
    put_varint(out, u64::from(stamp.hlc.c));
    let entries = stamp.vc.as_slice();
    put_varint(out, entries.len() as u64);
    for &entry in entries {
        put_varint(out, entry);
    }
}

fn get_stamp(reader: &mut Reader<'_>) -> Option<Stamp> {
    let slot = reader.u32()?;
    let index = reader.u64()?;
    let lamport = reader.u64()?;
    let l_ns = reader.u64()?;
    let c = reader.u32()?;
    let len = reader.u32()?;
    if len > MAX_VC_ENTRIES {
        return None;
    }
    let entries = (0..len)
        .map(|_| reader.u64())
        .collect::<Option<Vec<u64>>>()?;
    Some(Stamp {
        event: EventId { slot, index },
        lamport,
        vc: Rc::new(VectorClock::from_entries(entries)),
        hlc: HlcTimestamp::new(l_ns, c),
    })
}

fn encode_state(state: &State, out: &mut Vec<u8>) {
    put_varint(out, u64::from(state.generation));
    put_varint(out, state.records_total);
    put_varint(out, state.balance);
    put_varint(out, u64::from(state.snapshot_id));
    match &state.last {
        Some(stamp) => {
            out.push(1);
            put_stamp(out, stamp);
        }
        None => out.push(0),
    }
    put_varint(out, state.peers.len() as u64);
    for peer in &state.peers {
        put_varint(out, peer.sent_up_to);
        put_varint(out, peer.held.len() as u64);
        for (seq, payload) in &peer.held {
            put_varint(out, *seq);
            match payload {
                Payload::Transfer { amount, stamp } => {
                    out.push(1);
                    put_varint(out, *amount);
                    put_stamp(out, stamp);
                }
                Payload::Marker { snapshot, stamp } => {
                    out.push(2);
                    put_varint(out, u64::from(*snapshot));
                    put_stamp(out, stamp);
                }
            }
        }
        put_varint(out, peer.delivered_up_to);
        put_varint(out, peer.delivered_above.len() as u64);
        for &seq in &peer.delivered_above {
            put_varint(out, seq);
        }
    }
}

/// The state of a stored checkpoint; `None` for bytes this code did not write.
fn decode_state(bytes: &[u8]) -> Option<State> {
    let mut reader = Reader(bytes);
    let count = |reader: &mut Reader<'_>| reader.u64().filter(|&n| n <= MAX_STATE_ITEMS);
    let generation = reader.u32()?;
    let records_total = reader.u64()?;
    let balance = reader.u64()?;
    let snapshot_id = reader.u32()?;
    let (&flag, rest) = reader.0.split_first()?;
    reader.0 = rest;
    let last = match flag {
        0 => None,
        1 => Some(get_stamp(&mut reader)?),
        _ => return None,
    };
    let peers_len = count(&mut reader)?;
    let mut peers = Vec::new();
    for _ in 0..peers_len {
        let sent_up_to = reader.u64()?;
        let held_len = count(&mut reader)?;
        let mut held = Vec::new();
        for _ in 0..held_len {
            let seq = reader.u64()?;
            let (&kind, rest) = reader.0.split_first()?;
            reader.0 = rest;
            let payload = match kind {
                1 => {
                    let amount = reader.u64()?;
                    Payload::Transfer {
                        amount,
                        stamp: get_stamp(&mut reader)?,
                    }
                }
                2 => {
                    let snapshot = reader.u32()?;
                    Payload::Marker {
                        snapshot,
                        stamp: get_stamp(&mut reader)?,
                    }
                }
                _ => return None,
            };
            held.push((seq, payload));
        }
        let delivered_up_to = reader.u64()?;
        let above_len = count(&mut reader)?;
        let delivered_above = (0..above_len)
            .map(|_| reader.u64())
            .collect::<Option<Vec<u64>>>()?;
        peers.push(PeerState {
            sent_up_to,
            held,
            delivered_up_to,
            delivered_above,
        });
    }
    if !reader.0.is_empty() {
        return None;
    }
    Some(State {
        generation,
        records_total,
        balance,
        snapshot_id,
        last,
        peers,
    })
}

fn describe_stop(stop: &wal::Stop) -> String {
    match stop {
        wal::Stop::Clean => "clean".to_owned(),
        wal::Stop::Torn { offset, .. } => format!("torn record at byte {offset}"),
        wal::Stop::LengthOutOfRange { offset, .. } => format!("bad length at byte {offset}"),
        wal::Stop::ChecksumMismatch { offset, .. } => format!("checksum mismatch at byte {offset}"),
    }
}

// --- The record format: a one-byte tag, then every field as an unsigned LEB128 varint
// (a vector-clock entry, a sequence number or a count takes one to three bytes, not
// eight: a record is about a third of its fixed-width size, and the log, its checksum
// and the disk's copies shrink with it). ---

fn put_varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

fn encode(entry: Entry, stamp: &Stamp, out: &mut Vec<u8>) {
    // Room for the longest record, so no push below grows the buffer.
    out.reserve(1 + 10 * (9 + stamp.vc.len()));
    let (tag, a, b, c) = match entry {
        Entry::Debit { to, seq, amount } => (1u8, to, seq, amount),
        Entry::Credit { from, seq, amount } => (2, from, seq, amount),
        Entry::MarkerSent { to, seq, snapshot } => (3, to, seq, u64::from(snapshot)),
        Entry::MarkerReceived {
            from,
            seq,
            snapshot,
        } => (4, from, seq, u64::from(snapshot)),
        Entry::Acked { to, up_to } => (5, to, up_to, 0),
        Entry::Initiated { snapshot } => (6, snapshot, 0, 0),
        Entry::Generation { generation } => (7, generation, 0, 0),
    };
    out.push(tag);
    put_varint(out, u64::from(a));
    put_varint(out, b);
    put_varint(out, c);
    put_stamp(out, stamp);
}

struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    /// One varint; `None` past the end or past ten bytes (more than 64 bits).
    fn u64(&mut self) -> Option<u64> {
        let mut value = 0u64;
        for (index, &byte) in self.0.iter().enumerate().take(10) {
            let bits = u64::from(byte & 0x7f);
            let shift = 7 * index as u32;
            if shift == 63 && bits > 1 {
                return None; // beyond 64 bits
            }
            value |= bits << shift;
            if byte & 0x80 == 0 {
                self.0 = &self.0[index + 1..];
                return Some(value);
            }
        }
        None
    }

    fn u32(&mut self) -> Option<u32> {
        u32::try_from(self.u64()?).ok()
    }
}

/// Most vector-clock entries a record may hold (accounts x incarnations, bounded).
const MAX_VC_ENTRIES: u32 = 1 << 16;

fn decode(bytes: &[u8]) -> Option<LogRecord> {
    let (&tag, rest) = bytes.split_first()?;
    let mut reader = Reader(rest);
    let (a, b, c) = (reader.u32()?, reader.u64()?, reader.u64()?);
    let entry = match tag {
        1 => Entry::Debit {
            to: a,
            seq: b,
            amount: c,
        },
        2 => Entry::Credit {
            from: a,
            seq: b,
            amount: c,
        },
        3 => Entry::MarkerSent {
            to: a,
            seq: b,
            snapshot: u32::try_from(c).ok()?,
        },
        4 => Entry::MarkerReceived {
            from: a,
            seq: b,
            snapshot: u32::try_from(c).ok()?,
        },
        5 => Entry::Acked { to: a, up_to: b },
        6 => Entry::Initiated { snapshot: a },
        7 => Entry::Generation { generation: a },
        _ => return None,
    };
    let stamp = get_stamp(&mut reader)?;
    if !reader.0.is_empty() {
        return None;
    }
    Some(LogRecord { entry, stamp })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn stamp(slot: u32, index: u64, lamport: u64, l_ns: u64, c: u32, vc: Vec<u64>) -> Stamp {
        Stamp {
            event: EventId { slot, index },
            lamport,
            vc: Rc::new(VectorClock::from_entries(vc)),
            hlc: HlcTimestamp::new(l_ns, c),
        }
    }

    proptest! {
        /// A record decodes to what was encoded, and no strict prefix of it decodes.
        #[test]
        fn records_round_trip_and_their_prefixes_do_not(
            kind in 0u8..6,
            a in any::<u32>(),
            b in any::<u64>(),
            c in any::<u32>(),
            clocks in (any::<u32>(), any::<u64>(), any::<u64>(), any::<u64>(), any::<u32>()),
            vc in prop::collection::vec(any::<u64>(), 0..20),
        ) {
            let entry = match kind {
                0 => Entry::Debit { to: a, seq: b, amount: u64::from(c) },
                1 => Entry::Credit { from: a, seq: b, amount: u64::from(c) },
                2 => Entry::MarkerSent { to: a, seq: b, snapshot: c },
                3 => Entry::MarkerReceived { from: a, seq: b, snapshot: c },
                4 => Entry::Acked { to: a, up_to: b },
                _ => Entry::Initiated { snapshot: a },
            };
            let stamp = stamp(clocks.0, clocks.1, clocks.2, clocks.3, clocks.4, vc);
            let mut bytes = Vec::new();
            encode(entry, &stamp, &mut bytes);
            let decoded = decode(&bytes).expect("an encoded record decodes");
            prop_assert_eq!(decoded.entry, entry);
            prop_assert_eq!(decoded.stamp, stamp);
            for cut in 0..bytes.len() {
                prop_assert!(decode(&bytes[..cut]).is_none(), "a prefix of {} bytes decoded", cut);
            }
        }
    }

    #[test]
    fn a_typical_record_is_small() {
        // 16 accounts a minute into a run: the fixed-width format took 185 bytes.
        let vc = (0..16).map(|i| 9_000 + i).collect();
        let stamp = stamp(3, 9_003, 40_000, 61_234_567_890, 2, vc);
        let mut bytes = Vec::new();
        encode(
            Entry::Debit {
                to: 5,
                seq: 700,
                amount: 17,
            },
            &stamp,
            &mut bytes,
        );
        assert!(bytes.len() <= 64, "{} bytes", bytes.len());
    }

    #[test]
    fn an_overlong_varint_is_refused() {
        let mut reader = Reader(&[0xff; 11]);
        assert_eq!(reader.u64(), None);
        let mut reader = Reader(&[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02]);
        assert_eq!(reader.u64(), None, "a tenth byte above 1 overflows 64 bits");
        let mut reader = Reader(&[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]);
        assert_eq!(reader.u64(), Some(u64::MAX));
    }
}
