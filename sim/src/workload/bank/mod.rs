//! The `bank` workload: accounts as processes on madsim nodes (see
//! [`crate::engine::process`]), moving money over reliable FIFO channels, logging to a
//! write-ahead log on a crash-consistent disk, taking Chandy-Lamport snapshots and
//! stamping every event with Lamport, vector and hybrid logical clocks, all from
//! `faultline-models`. The process logic is [`account::Account`] (sans-IO) inside
//! [`process`]'s `async fn main`; this module is the engine side: it routes what the
//! processes send through the kernel's network, delivers timers and snapshot starts,
//! and feeds what they report to the checks ([`check`]).

pub mod figures;

pub mod account;
pub mod check;
pub mod config;
pub mod direct;
pub mod process;
pub mod record;
pub mod refclocks;
pub mod seqmap;
pub mod spec;
pub mod trace;

use std::sync::Arc;

use faultline_models::channel::Frame;
use faultline_reports::figures::{FigureSpec, RecordTable, SeriesSpec, SeriesTable};
use faultline_reports::record::RunRecord;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use account::{
    AccountConfig, BankMsg, BankReport, Event, EventKind, FinalState, Payload, Recovery, What,
};
use check::{Causality, Findings, SnapshotRun, Snapshots};
use config::{BankConfig, ACCOUNT_PREFIX};
use seqmap::SeqMap;
use trace::BankTrace;

use crate::engine::disk::{DiskConfig, DiskCounters};
use crate::engine::driver::Finished;
use crate::engine::kernel::Kernel;
use crate::engine::network::DropReason;
use crate::engine::nodes::{Family, NodeFaults, NodeId};
use crate::engine::process::Init;
use crate::engine::queue::Nanos;
use crate::engine::service::{Direct, Finishing, HostEvent, Hosting, Service, ServiceHost};
use crate::engine::trace::Record;
use crate::engine::workload::NodeChange;
use crate::engine::EngineError;
use crate::format::check::CheckSpec;
use crate::format::Issue;
use crate::format::RunInfo;
use crate::record::Invocation;
use crate::workload::Context;
use crate::workload::{Kind, NumberLimit, Resolution};

/// The bank's random streams (stream ids; see [`crate::engine::streams`]).
mod stream_ids {
    /// The initiator of each snapshot, when random.
    pub const SNAPSHOTS: u64 = 16;
    /// The causality checker's sample.
    pub const CHECK: u64 = 17;
}

/// The bank's own events (the host's carry messages, timers and fsyncs).
#[derive(Clone, Copy, Debug)]
pub enum BankEvent {
    /// Snapshot `snapshot` starts.
    Initiate {
        /// Its id.
        snapshot: u32,
    },
}

/// The bank's kernel.
type BankKernel = Kernel<HostEvent<BankEvent>>;
/// What the bank's engine side may do during a run.
type Host<'a> = Hosting<'a, BankWorld>;

/// Counters of a bank run.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct BankStats {
    /// Messages handed to the network.
    pub messages_sent: u64,
    /// Messages delivered into a mailbox.
    pub messages_delivered: u64,
    /// Messages the network lost.
    pub messages_dropped: u64,
    /// Messages that reached a node that was down.
    pub messages_to_down_nodes: u64,
    /// Transfers made (debited and sent).
    pub transfers: u64,
    /// Transfers credited.
    pub credits: u64,
    /// Transfers skipped, by reason: funds, window, log.
    pub skipped: [u64; 3],
    /// Markers sent.
    pub markers: u64,
    /// Restarts that recovered.
    pub recoveries: u64,
    /// Accounts that stopped.
    pub halts: u64,
    /// Checkpoints written.
    pub checkpoints: u64,
    /// Their bytes, all together.
    pub checkpoint_bytes: u64,
    /// Time they stalled their accounts, all together, ns.
    pub checkpoint_stall_ns: u64,
}

/// One metrics window of a bank run.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct BankWindow {
    /// Transfers made.
    pub transfers: u64,
    /// Transfers credited.
    pub credits: u64,
    /// Messages delivered.
    pub delivered: u64,
    /// Messages lost in the network.
    pub dropped: u64,
    /// Money debited and not yet credited at the window's end, units.
    pub in_flight: u64,
    /// Largest HLC counter of the window's events.
    pub hlc_max_counter: u32,
    /// Per account: the largest `l - pt` of its events in the window, ns (`None`: the
    /// account had no event in it).
    pub hlc_offset_ns: Vec<Option<u64>>,
}

/// A restart's recovery, when and where.
#[derive(Clone, Debug, PartialEq)]
pub struct RecoveryAt {
    /// When, ns.
    pub at_ns: Nanos,
    /// The account.
    pub account: u32,
    /// What it replayed.
    pub recovery: Recovery<()>,
}

/// An account that stopped, when and why.
#[derive(Clone, Debug, PartialEq)]
pub struct HaltAt {
    /// When, ns.
    pub at_ns: Nanos,
    /// The account.
    pub account: u32,
    /// Why, in words (a fail-stop at recovery names the damage and its byte offset).
    pub reason: String,
}

/// What a bank run produces.
#[derive(Clone, Debug)]
pub struct BankOutput {
    /// Accounts.
    pub accounts: u32,
    /// The money in the bank.
    pub total: u64,
    /// Program order, messages, restarts (VC, Lamport, HLC).
    pub causality: Findings,
    /// All pairs of the sampled events against reachability.
    pub sampled: Findings,
    /// The HLC bounds.
    pub hlc_bounds: Findings,
    /// Snapshot conservation.
    pub conservation: Findings,
    /// Snapshot consistent cuts.
    pub consistent_cut: Findings,
    /// End-of-run durability and conservation.
    pub durability: Findings,
    /// Acknowledged transfers missing from their receivers' final states.
    pub acked_lost: u64,
    /// The money found at the end: final balances plus transfers in flight (sent, not
    /// delivered), units.
    pub final_units: u64,
    /// Every snapshot started.
    pub snapshots: Vec<SnapshotRun>,
    /// Every restart's recovery.
    pub recoveries: Vec<RecoveryAt>,
    /// Every account that stopped. Its log stays on its disk and the durability check
    /// reads it there, so a stop loses nothing; the account is down from then on.
    pub halts: Vec<HaltAt>,
    /// Counters.
    pub stats: BankStats,
    /// Disk counters, all accounts together.
    pub disk: DiskCounters,
    /// The largest offset between two nodes' clocks, ns.
    pub epsilon_ns: u64,
    /// Largest `l - pt`, ns.
    pub max_hlc_offset_ns: u64,
    /// Largest HLC counter.
    pub max_hlc_counter: u32,
    /// The largest counter bound met.
    pub hlc_counter_bound: u64,
    /// Metrics windows.
    pub windows: Vec<BankWindow>,
    /// Each account's final state.
    pub finals: Vec<FinalState>,
}

/// The bank's engine side (see the module documentation).
pub struct BankWorld {
    cfg: BankConfig,
    account_config: AccountConfig,
    next_slot: u32,
    next_snapshot: u32,
    rng_snapshots: ChaCha8Rng,
    causality: Causality,
    snapshots: Snapshots,
    /// `acked[i][j]`: the highest ack account `i` received from `j`.
    acked: Vec<Vec<u64>>,
    finals: Vec<Option<FinalState>>,
    halted: Vec<bool>,
    stats: BankStats,
    recoveries: Vec<RecoveryAt>,
    halts: Vec<HaltAt>,
    /// Transfers debited and not yet credited: (sender, receiver, seq) -> amount.
    outstanding: SeqMap<u64>,
    in_flight: u64,
    windows: Vec<BankWindow>,
    window_ns: Nanos,
    /// The window the in-flight figure was last written to.
    in_flight_window: usize,
}

impl BankWorld {
    fn window(&mut self, now_ns: Nanos) -> &mut BankWindow {
        let index = ((now_ns / self.window_ns) as usize).min(self.windows.len() - 1);
        // Carry the in-flight money into the windows since it last changed.
        while self.in_flight_window < index {
            self.windows[self.in_flight_window].in_flight = self.in_flight;
            self.in_flight_window += 1;
        }
        &mut self.windows[index]
    }

    /// The largest difference between two accounts' clocks now.
    fn clock_spread(kernel: &BankKernel, accounts: u32, now_ns: Nanos) -> u64 {
        if !kernel.clocks_can_differ() {
            return 0;
        }
        let (mut low, mut high) = (u64::MAX, 0);
        for node in 0..accounts {
            let pt = kernel.physical(node, now_ns);
            low = low.min(pt);
            high = high.max(pt);
        }
        high.saturating_sub(low)
    }

    fn on_report(
        &mut self,
        kernel: &mut Host<'_>,
        now_ns: Nanos,
        node: u32,
        report: BankReport,
    ) -> Result<(), EngineError> {
        match report {
            BankReport::Event(event) => self.account_event(kernel, now_ns, node, &event),
            BankReport::Recovered(recovery) => {
                self.causality.restart(node, &recovery);
                kernel.trace(Record::at(now_ns, BankTrace::Recover(&recovery)).node(node))?;
                if recovery.slot >= self.cfg.accounts() {
                    self.stats.recoveries += 1;
                    self.recoveries.push(RecoveryAt {
                        at_ns: now_ns,
                        account: node,
                        recovery: recovery.without_clocks(),
                    });
                }
                Ok(())
            }
            BankReport::SnapshotPart(part) => {
                let snapshot = part.snapshot;
                kernel
                    .trace(Record::at(now_ns, BankTrace::SnapshotPart { snapshot }).node(node))?;
                self.snapshots.part(node, part, now_ns);
                if self
                    .snapshots
                    .runs
                    .get(&snapshot)
                    .is_some_and(|run| run.completed_ns == Some(now_ns))
                {
                    kernel.trace(Record::at(now_ns, BankTrace::SnapshotDone { snapshot }))?;
                }
                Ok(())
            }
            BankReport::Final(state) => {
                self.finals[node as usize] = Some(state);
                Ok(())
            }
            BankReport::Skipped(skip) => {
                self.stats.skipped[skip as usize] += 1;
                kernel.trace(Record::at(now_ns, BankTrace::Skip(skip)).node(node))
            }
            BankReport::Checkpointed(done) => {
                self.stats.checkpoints += 1;
                self.stats.checkpoint_bytes += done.bytes;
                self.stats.checkpoint_stall_ns += done.stall_ns;
                Ok(())
            }
            BankReport::Halted(reason) => {
                self.stats.halts += 1;
                self.halted[node as usize] = true;
                self.halts.push(HaltAt {
                    at_ns: now_ns,
                    account: node,
                    reason,
                });
                kernel.trace(Record::at(now_ns, BankTrace::Halt).node(node))
            }
        }
    }

    fn account_event(
        &mut self,
        kernel: &mut Host<'_>,
        now_ns: Nanos,
        node: u32,
        event: &Event,
    ) -> Result<(), EngineError> {
        let (peer, seq) = match event.kind {
            EventKind::Send { to, seq } => (to, seq),
            EventKind::Receive { from, seq, .. } => (from, seq),
            EventKind::Local => (crate::engine::trace::NO_NODE, crate::engine::trace::NO_ID),
        };
        let print = check::fingerprint(&event.stamp);
        kernel.trace(
            Record::at(now_ns, BankTrace::Event(event, print))
                .node(node)
                .peer(peer)
                .id(seq),
        )?;
        let spread = Self::clock_spread(kernel.kernel(), self.cfg.accounts(), now_ns);
        self.causality.clock_spread(spread);
        self.causality.event(node, now_ns, event, print);
        let offset = event.stamp.hlc.l_ns.saturating_sub(event.pt_ns);
        let window = self.window(now_ns);
        window.hlc_max_counter = window.hlc_max_counter.max(event.stamp.hlc.c);
        if let Some(slot) = window.hlc_offset_ns.get_mut(node as usize) {
            *slot = Some(slot.map_or(offset, |seen| seen.max(offset)));
        }
        match (&event.kind, event.what) {
            (&EventKind::Send { to, seq }, What::Transfer(amount)) => {
                self.stats.transfers += 1;
                self.window(now_ns).transfers += 1;
                match self.outstanding.insert(node, to, seq, amount) {
                    None => self.in_flight += amount,
                    // The seq again: a crash lost the first debit before its fsync (its
                    // frame never left) and the restart reused the seq. The new amount
                    // replaces the lost one; keeping both underflowed at the credit.
                    Some(lost) => self.in_flight = self.in_flight - lost + amount,
                }
            }
            (&EventKind::Receive { from, seq, .. }, What::Transfer(_)) => {
                self.stats.credits += 1;
                self.window(now_ns).credits += 1;
                if let Some(amount) = self.outstanding.remove(from, node, seq) {
                    self.in_flight -= amount;
                }
            }
            (EventKind::Send { .. }, What::Marker(_)) => self.stats.markers += 1,
            _ => {}
        }
        Ok(())
    }

    fn initiate(
        &mut self,
        kernel: &mut Host<'_>,
        now_ns: Nanos,
        snapshot: u32,
    ) -> Result<(), EngineError> {
        let Some(snapshots) = self.cfg.snapshots.clone() else {
            return Ok(());
        };
        let accounts = self.cfg.accounts();
        let initiator = snapshots
            .initiator
            .unwrap_or_else(|| self.rng_snapshots.gen_range(0..accounts));
        if !kernel.alive(initiator) || self.halted[initiator as usize] {
            self.snapshots.skip(snapshot, initiator, now_ns);
        } else {
            self.snapshots.start(snapshot, initiator, now_ns);
            kernel
                .trace(Record::at(now_ns, BankTrace::SnapshotStart { snapshot }).node(initiator))?;
            kernel.deliver(
                initiator,
                initiator,
                now_ns,
                BankMsg::Initiate { snapshot },
            );
        }
        self.next_snapshot = snapshot + 1;
        kernel.schedule(
            now_ns.saturating_add(snapshots.every_ns),
            BankEvent::Initiate {
                snapshot: snapshot + 1,
            },
        )
    }

    /// The state account `node`'s disk leaves (for an account that is down or stopped).
    fn state_on_disk(&self, kernel: &BankKernel, node: u32) -> FinalState {
        let read = |file: &str| {
            kernel
                .disk(node)
                .and_then(|disk| disk.borrow().disk.inspect(file).ok())
                .filter(|_| self.account_config.wal)
                .unwrap_or_default()
        };
        let bytes = read(process::WAL_FILE);
        let checkpoints: Vec<Vec<u8>> = if self.account_config.checkpoints.is_some() {
            process::CHECKPOINT_FILES.iter().map(|file| read(file)).collect()
        } else {
            Vec::new()
        };
        account::Account::durable_state(self.account_config.clone(), node, &bytes, &checkpoints)
    }
}

impl Service for BankWorld {
    type Config = BankConfig;
    type Msg = BankMsg;
    type Report = BankReport;
    type Event = BankEvent;
    type Output = BankOutput;

    fn main(config: &BankConfig, node: NodeId) -> Option<Init> {
        (!config.direct).then(|| process::init(Arc::new(config.account.clone()), node))
    }

    fn disk(config: &BankConfig, _family: &Family) -> Option<DiskConfig> {
        Some(config.disk.clone())
    }

    fn direct(
        config: &BankConfig,
        kernel: &BankKernel,
    ) -> Option<Box<dyn Direct<BankMsg, BankReport>>> {
        config.direct.then(|| {
            Box::new(direct::Direct::new(&config.account, kernel))
                as Box<dyn Direct<BankMsg, BankReport>>
        })
    }

    fn start(cfg: &BankConfig, host: &mut Host<'_>) -> Result<Self, EngineError> {
        let accounts = cfg.accounts();
        let n = accounts as usize;
        let kernel = host.kernel();
        let window_count = kernel.window_count();
        let world = BankWorld {
            account_config: cfg.account.clone(),
            next_slot: accounts,
            next_snapshot: 1,
            rng_snapshots: kernel.stream(stream_ids::SNAPSHOTS, 0),
            causality: Causality::new(
                accounts,
                cfg.sampled_events as usize,
                kernel.stream(stream_ids::CHECK, 0),
            ),
            snapshots: Snapshots::new(accounts, cfg.total()),
            acked: vec![vec![0; n]; n],
            finals: vec![None; n],
            halted: vec![false; n],
            stats: BankStats::default(),
            recoveries: Vec::new(),
            halts: Vec::new(),
            outstanding: SeqMap::new(accounts),
            in_flight: 0,
            windows: vec![
                BankWindow {
                    hlc_offset_ns: vec![None; if window_count * n <= 4_000_000 { n } else { 0 }],
                    ..BankWindow::default()
                };
                window_count
            ],
            window_ns: kernel.window_ns(),
            in_flight_window: 0,
            cfg: cfg.clone(),
        };
        // Driven directly, an account takes its first actions at its first run (the host
        // runs every node at the first settle); as a process it waits for the boot
        // message, which names the incarnation's vector-clock entry.
        if !cfg.direct {
            for node in 0..accounts {
                host.deliver(node, node, 0, BankMsg::Boot { slot: node });
            }
        }
        if let Some(snapshots) = &cfg.snapshots {
            host.schedule(snapshots.every_ns, BankEvent::Initiate { snapshot: 1 })?;
        }
        Ok(world)
    }

    fn report(
        &mut self,
        host: &mut Host<'_>,
        now_ns: Nanos,
        node: NodeId,
        report: BankReport,
    ) -> Result<(), EngineError> {
        self.on_report(host, now_ns, node, report)
    }

    fn event(
        &mut self,
        host: &mut Host<'_>,
        now_ns: Nanos,
        event: BankEvent,
    ) -> Result<(), EngineError> {
        match event {
            BankEvent::Initiate { snapshot } => self.initiate(host, now_ns, snapshot),
        }
    }

    fn sent(&mut self, _now_ns: Nanos, from: NodeId, to: NodeId, msg: &BankMsg) {
        if let BankMsg::Frame(frame) = msg {
            self.causality
                .transmitted(from, to, frame.seq.get(), frame.payload.stamp().event);
        }
    }

    fn dropped(
        &mut self,
        host: &mut Host<'_>,
        now_ns: Nanos,
        from: NodeId,
        to: NodeId,
        msg: &BankMsg,
        reason: DropReason,
    ) -> Result<(), EngineError> {
        self.window(now_ns).dropped += 1;
        let seq = match msg {
            BankMsg::Frame(frame) => frame.seq.get(),
            _ => crate::engine::trace::NO_ID,
        };
        host.trace(
            Record::at(now_ns, BankTrace::Drop(reason))
                .node(from)
                .peer(to)
                .id(seq),
        )
    }

    fn arrived(
        &mut self,
        host: &mut Host<'_>,
        now_ns: Nanos,
        from: NodeId,
        to: NodeId,
        msg: &BankMsg,
        accepted: bool,
    ) -> Result<(), EngineError> {
        if let BankMsg::Ack(seq) = msg {
            // `to` sent the frames `from` acknowledges.
            let acked = &mut self.acked[to as usize][from as usize];
            *acked = (*acked).max(seq.get());
        }
        if accepted {
            self.window(now_ns).delivered += 1;
            Ok(())
        } else {
            host.trace(Record::at(now_ns, BankTrace::NodeDown).node(from).peer(to))
        }
    }

    fn node_changed(
        &mut self,
        host: &mut Host<'_>,
        now_ns: Nanos,
        node: NodeId,
        change: NodeChange,
    ) -> Result<(), EngineError> {
        match change {
            NodeChange::Crash => {
                self.snapshots.crash(node, now_ns);
                host.trace(Record::at(now_ns, BankTrace::Crash).node(node))
            }
            NodeChange::Restart => {
                self.halted[node as usize] = false;
                let slot = self.next_slot;
                self.next_slot += 1;
                host.deliver(node, node, now_ns, BankMsg::Boot { slot });
                host.trace(Record::at(now_ns, BankTrace::Restart).node(node))
            }
            NodeChange::Pause | NodeChange::Resume | NodeChange::Slowdown { .. } => Ok(()),
        }
    }

    fn drain(&mut self, host: &mut Host<'_>, now_ns: Nanos) -> Result<(), EngineError> {
        for node in 0..self.cfg.accounts() {
            if host.alive(node) && !self.halted[node as usize] {
                host.deliver(node, node, now_ns, BankMsg::Report);
            }
        }
        Ok(())
    }

    fn finish(mut self, host: &Finishing<'_, Self>) -> Result<BankOutput, EngineError> {
        let kernel = host.kernel();
        for node in 0..self.cfg.accounts() {
            if self.finals[node as usize].is_none() {
                self.finals[node as usize] = Some(self.state_on_disk(kernel, node));
            }
        }
        let end_ns = kernel.duration_ns();
        self.window(end_ns);
        let last = self.windows.len() - 1;
        self.windows[last].in_flight = self.in_flight;
        self.causality.finish();
        let finals: Vec<FinalState> = self
            .finals
            .iter()
            .map(|state| {
                state.clone().unwrap_or_else(|| FinalState {
                    balance: 0,
                    unacked: Vec::new(),
                    received: Vec::new(),
                })
            })
            .collect();
        let in_network: Vec<(u32, u32, u64, u64)> = host
            .in_network()
            .filter_map(|(from, to, msg)| match msg {
                BankMsg::Frame(Frame {
                    seq,
                    payload: Payload::Transfer { amount, .. },
                }) => Some((from, to, seq.get(), *amount)),
                _ => None,
            })
            .collect();
        let (durability, final_units, acked_lost) =
            check::end_of_run(&finals, &self.acked, &in_network, self.cfg.total());
        let mut disk = DiskCounters::default();
        for node in 0..self.cfg.accounts() {
            if let Some(node_disk) = kernel.disk(node) {
                add_counters(&mut disk, node_disk.borrow().disk.counters());
            }
        }
        let messages = host.stats();
        self.stats.messages_sent = messages.sent;
        self.stats.messages_delivered = messages.delivered;
        self.stats.messages_dropped = messages.dropped;
        self.stats.messages_to_down_nodes = messages.to_down_nodes;
        Ok(BankOutput {
            accounts: self.cfg.accounts(),
            total: self.cfg.total(),
            causality: self.causality.order.clone(),
            sampled: self.causality.sampled.clone(),
            hlc_bounds: self.causality.hlc_bounds.clone(),
            conservation: self.snapshots.conservation.clone(),
            consistent_cut: self.snapshots.consistent_cut.clone(),
            durability,
            acked_lost,
            final_units,
            snapshots: self.snapshots.runs.values().cloned().collect(),
            recoveries: self.recoveries,
            halts: self.halts,
            stats: self.stats,
            disk,
            epsilon_ns: self.causality.epsilon_ns(),
            max_hlc_offset_ns: self.causality.max_offset_ns,
            max_hlc_counter: self.causality.max_counter,
            hlc_counter_bound: self.causality.counter_bound,
            windows: self.windows,
            finals,
        })
    }
}

fn add_counters(total: &mut DiskCounters, counters: &DiskCounters) {
    total.writes += counters.writes;
    total.bytes_written += counters.bytes_written;
    total.writes_refused_full += counters.writes_refused_full;
    total.reads += counters.reads;
    total.reads_corrupted += counters.reads_corrupted;
    total.truncates += counters.truncates;
    total.removes += counters.removes;
    total.fsyncs_begun += counters.fsyncs_begun;
    total.fsyncs_completed += counters.fsyncs_completed;
    total.fsyncs_lied += counters.fsyncs_lied;
    total.fsyncs_void += counters.fsyncs_void;
    total.crashes += counters.crashes;
    total.bytes_lost_at_crash += counters.bytes_lost_at_crash;
    total.torn_tails_kept += counters.torn_tails_kept;
}

/// The bank workload's node family: the accounts, each a process on a madsim node with
/// a disk.
pub fn families(cfg: &BankConfig) -> [Family; 1] {
    [Family {
        prefix: ACCOUNT_PREFIX,
        count: cfg.accounts(),
        hosted: true,
        faults: NodeFaults {
            slowdown: false,
            ..NodeFaults::ALL
        },
    }]
}

/// The bank workload kind (`"kind": "bank"`).
pub struct Bank;

impl Kind for Bank {
    const NAME: &'static str = "bank";
    type Spec = spec::BankSpec;
    type World = ServiceHost<BankWorld>;
    const CHECKS: &'static [CheckSpec] = record::CHECKS;
    const NUMBER_LIMITS: &'static [NumberLimit] = spec::NUMBER_LIMITS;
    const FIGURES: &'static [FigureSpec] = figures::FIGURES;
    const SERIES: &'static [SeriesSpec] = figures::SERIES;
    const TRACE_KINDS: &'static [&'static str] = trace::KINDS;

    fn resolve(
        spec: &spec::BankSpec,
        scenario: &Context<'_>,
    ) -> Result<Resolution<BankConfig>, Issue> {
        let (config, events, memory) = config::resolve(spec, scenario)?;
        Ok(Resolution {
            families: families(&config).to_vec(),
            events,
            memory,
            config,
        })
    }

    fn record(
        run: &RunInfo,
        config: &BankConfig,
        finished: &Finished<BankOutput>,
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
