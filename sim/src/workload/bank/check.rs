//! The bank's checks, fed by what the accounts report and what the engine saw.
//!
//! - [`Causality`]: the true happens-before relation is program order within an
//!   incarnation, send -> receive for every frame, and, across a restart, the last
//!   durable event -> the new incarnation's first event (the events a crash lost are a
//!   branch nothing later follows). The checker builds its own reference vector clock
//!   over that graph (a dozen lines, independent of the model's code) and compares the
//!   models' clocks with it: every program-order pair and every message pair, and all
//!   ordered pairs of a sample of events (reservoir sampling, from the seed): vector
//!   clocks must agree both ways (`e -> f` iff `VC(e) < VC(f)`), Lamport and HLC one way
//!   (`e -> f` implies `L(e) < L(f)` and `(l, c)(e) < (l, c)(f)`). It also checks the
//!   HLC bounds of Kulkarni et al. (2014) at every event: `l >= pt`, `l - pt <= epsilon`
//!   (the largest offset between two nodes' clocks so far) and `c` at most the number
//!   of events in the last `epsilon` of time, plus one. A restart's restored clocks must
//!   be those of the event it claims to resume from.
//! - [`Snapshots`]: per completed snapshot, conservation (recorded balances + recorded
//!   in-flight transfers = the money in the bank) and a consistent cut (no recorded
//!   receive without its recorded send); each account records once; a snapshot in
//!   progress when an account crashes, or still running when a newer one starts, is
//!   abandoned.
//! - [`end_of_run`]: durability: every transfer the sender saw acknowledged is in the
//!   receiver's final state, and the money in balances plus in flight is the money the
//!   bank started with.
//!
//! Each check keeps its first violations in words and counts the rest.

use std::collections::{BTreeMap, VecDeque};
use std::rc::Rc;

use faultline_models::channel::ReceiverState;
use faultline_models::clock::{Causality as Order, HlcTimestamp, VectorClock};
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::account::{Event, EventId, EventKind, FinalState, Recovery, SnapshotPart, Stamp};
use super::refclocks::{self, RefClocks, RefVc};
use super::seqmap::SeqMap;
use crate::engine::queue::Nanos;

/// Violations kept in words per check (the rest are counted).
pub const KEPT_VIOLATIONS: usize = 8;

/// A check's findings.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Findings {
    /// Pairs or states compared.
    pub compared: u64,
    /// Violations found.
    pub violations: u64,
    /// The first violations, in words.
    pub examples: Vec<String>,
}

impl Findings {
    fn compare(&mut self, holds: bool, describe: impl FnOnce() -> String) {
        self.compared += 1;
        if !holds {
            self.violations += 1;
            if self.examples.len() < KEPT_VIOLATIONS {
                self.examples.push(describe());
            }
        }
    }

    /// Whether nothing was violated.
    pub fn held(&self) -> bool {
        self.violations == 0
    }
}

/// A 64-bit digest of an event's clocks (to check a restart restored them exactly).
pub fn fingerprint(stamp: &Stamp) -> u64 {
    let mut hash = 0xcbf2_9ce4_8422_2325_u64;
    let mut mix = |word: u64| {
        hash ^= word;
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3).rotate_left(29);
    };
    mix(stamp.lamport);
    mix(stamp.hlc.l_ns);
    mix(u64::from(stamp.hlc.c));
    // Trailing zeros do not count (a shorter clock is padded with zeros).
    let entries = stamp.vc.as_slice();
    let used = entries
        .iter()
        .rposition(|&entry| entry != 0)
        .map_or(0, |last| last + 1);
    for &entry in &entries[..used] {
        mix(entry);
    }
    hash
}

fn merge_into(into: &mut RefVc, other: &[u32]) {
    if into.len() < other.len() {
        into.resize(other.len(), 0);
    }
    for (mine, theirs) in into.iter_mut().zip(other) {
        *mine = (*mine).max(*theirs);
    }
}

/// Whether `a` happened before `b` by the reference clocks (`a` is event `index` of
/// incarnation `slot`).
fn reaches(slot: u32, index: u64, b: &RefVc) -> bool {
    b.get(slot as usize)
        .is_some_and(|&count| u64::from(count) >= index)
}

/// The clocks of an event, kept for later comparisons.
#[derive(Clone, Debug)]
struct Clocks {
    lamport: u64,
    vc: Rc<VectorClock>,
    hlc: HlcTimestamp,
}

impl Clocks {
    fn of(stamp: &Stamp) -> Self {
        Clocks {
            lamport: stamp.lamport,
            vc: Rc::clone(&stamp.vc),
            hlc: stamp.hlc,
        }
    }
}

/// An incarnation's progress.
#[derive(Debug)]
struct SlotState {
    account: u32,
    /// Its vector-clock entry.
    slot: u32,
    /// Its last event: its index and clocks (or the restored clocks before its first).
    last: Option<(u64, Clocks)>,
    /// The reference clock after its last event.
    ref_vc: RefVc,
    /// Per event (index - 1): the clocks' fingerprint, which stored reference clock is
    /// the last at or before it, and how many events after that one it is. Between two
    /// receives only the incarnation's own entry moves (by one per event), so only the
    /// first event and each receive store a clock.
    kept: Vec<(u64, u32, u32)>,
    /// The stored reference clocks, compactly ([`RefClocks`]).
    stored_refs: RefClocks,
    /// The last stored clock, and the events kept since it.
    stored: Option<(u32, u32)>,
}

impl SlotState {
    fn new(account: u32, slot: u32, last: Option<(u64, Clocks)>, ref_vc: RefVc) -> Self {
        SlotState {
            account,
            slot,
            last,
            ref_vc,
            kept: Vec::new(),
            stored_refs: RefClocks::default(),
            stored: None,
        }
    }

    /// Whether another event can be kept within `keep_limit` events and the byte limit
    /// of the stored clocks.
    fn can_keep(&self, keep_limit: usize, ref_len: usize) -> bool {
        self.kept.len() < keep_limit
            && self.stored_refs.bytes() + 10 * (ref_len + 3) < refclocks::MAX_BYTES
    }

    /// Keeps the next event: its fingerprint and reference clock (`store`: the clock
    /// differs from the last stored one in more than the own entry).
    fn keep(&mut self, print: u64, ref_vc: &[u32], store: bool) {
        let (start, ahead) = match self.stored {
            Some((start, ahead)) if !store => (start, ahead + 1),
            _ => (self.stored_refs.push(ref_vc), 0),
        };
        self.stored = Some((start, ahead));
        self.kept.push((print, start, ahead));
        debug_assert!(
            {
                let mut whole = Vec::new();
                self.kept_ref(start, ahead, &mut whole);
                whole.get(self.slot as usize) == ref_vc.get(self.slot as usize)
            },
            "a kept clock's own entry is off"
        );
    }

    /// The reference clock of stored clock `start` with its own entry `ahead` events
    /// further, into `out`.
    fn kept_ref(&self, start: u32, ahead: u32, out: &mut RefVc) {
        let read = self.stored_refs.read(start, out);
        debug_assert!(read, "a kept event's stored clock is missing");
        let own = self.slot as usize;
        if out.len() <= own {
            out.resize(own + 1, 0);
        }
        out[own] += ahead;
    }

    /// Event `index`'s fingerprint, if kept.
    fn print(&self, index: u64) -> Option<u64> {
        let &(print, _, _) = self.kept.get((index as usize).wrapping_sub(1))?;
        Some(print)
    }

    /// Event `index`'s fingerprint, and its reference clock into `out`, if kept.
    fn kept(&self, index: u64, out: &mut RefVc) -> Option<u64> {
        let &(print, start, ahead) = self.kept.get((index as usize).wrapping_sub(1))?;
        self.kept_ref(start, ahead, out);
        Some(print)
    }
}

/// A frame's send, kept until the end of the run (a receiver that lost the delivery in
/// a crash receives the frame again). Its reference clock is the send event's, kept by
/// its incarnation.
#[derive(Clone, Copy, Debug)]
struct Sent {
    event: EventId,
    fingerprint: u64,
}

/// An event sampled for the all-pairs comparison.
#[derive(Clone, Debug)]
struct Sample {
    event: EventId,
    clocks: Clocks,
    ref_vc: RefVc,
}

/// The causality checker (see the module documentation).
#[derive(Debug)]
pub struct Causality {
    slots: Vec<Option<SlotState>>,
    /// Each account's current incarnation.
    current: Vec<u32>,
    /// Frames that entered the network, by (sender, receiver, seq, send event): a send
    /// whose frame never left (its account crashed first) is no message, and a restarted
    /// account may reuse the sequence number of a frame it lost.
    sends: SeqMap<Sent>,
    /// Frames whose sequence number an earlier frame of their channel had (a restarted
    /// account reused it), by (sender, receiver, seq, send event).
    reused: BTreeMap<(u32, u32, u64, EventId), Sent>,
    samples: Vec<Sample>,
    sample_size: usize,
    seen: u64,
    rng: ChaCha8Rng,
    /// A reused buffer for a send's reference clock.
    scratch: RefVc,
    /// Most events kept per incarnation for restarts (past it, older resume points
    /// cannot be checked and are reported as such).
    keep_limit: usize,
    /// Event times within the last epsilon, for the counter bound.
    recent: VecDeque<Nanos>,
    /// The largest clock offset between two nodes so far, ns.
    epsilon_ns: u64,
    /// Largest `l - pt` seen, ns, and largest counter.
    pub max_offset_ns: u64,
    /// Largest HLC counter seen.
    pub max_counter: u32,
    /// The largest counter bound met.
    pub counter_bound: u64,
    /// VC both ways, Lamport and HLC one way: program order, messages, restarts.
    pub order: Findings,
    /// All pairs of the sampled events against reachability.
    pub sampled: Findings,
    /// `l >= pt`, `l - pt <= epsilon`, the counter bound.
    pub hlc_bounds: Findings,
}

/// Most events kept per incarnation by default.
pub const KEEP_LIMIT: usize = 4_000_000;

impl Causality {
    /// A checker for `accounts` accounts (incarnations `0..accounts` are the first
    /// ones), sampling `sample_size` events with `rng`.
    pub fn new(accounts: u32, sample_size: usize, rng: ChaCha8Rng) -> Self {
        let slots = (0..accounts)
            .map(|account| Some(SlotState::new(account, account, None, Vec::new())))
            .collect();
        Causality {
            slots,
            current: (0..accounts).collect(),
            sends: SeqMap::new(accounts),
            reused: BTreeMap::new(),
            samples: Vec::with_capacity(sample_size),
            sample_size,
            seen: 0,
            rng,
            scratch: Vec::new(),
            keep_limit: KEEP_LIMIT,
            recent: VecDeque::new(),
            epsilon_ns: 0,
            max_offset_ns: 0,
            max_counter: 0,
            counter_bound: 0,
            order: Findings::default(),
            sampled: Findings::default(),
            hlc_bounds: Findings::default(),
        }
    }

    /// The largest clock offset between two nodes so far, ns.
    pub fn epsilon_ns(&self) -> u64 {
        self.epsilon_ns
    }

    /// A restart of `account` as incarnation `recovery.slot`, resuming from its last
    /// durable event (if any).
    pub fn restart(&mut self, account: u32, recovery: &Recovery) {
        let slot = recovery.slot;
        if self.slots.len() <= slot as usize {
            self.slots.resize_with(slot as usize + 1, || None);
        }
        let mut ref_vc = Vec::new();
        let mut last = None;
        if let (Some(from), Some(clocks)) = (recovery.resumed_from, &recovery.clocks) {
            let mut from_ref = Vec::new();
            let kept = self
                .slots
                .get(from.slot as usize)
                .and_then(Option::as_ref)
                .filter(|state| state.account == account)
                .and_then(|state| state.kept(from.index, &mut from_ref));
            match kept {
                Some(print) => {
                    self.order.compare(print == fingerprint(clocks), || {
                        format!(
                            "acct-{account} restarted from event {}:{} but restored other clocks than that event's",
                            from.slot, from.index
                        )
                    });
                    ref_vc = from_ref;
                }
                None => self.order.compare(false, || {
                    format!(
                        "acct-{account} restarted from event {}:{}, which it never had (or which is past the kept history)",
                        from.slot, from.index
                    )
                }),
            }
            last = Some((0, Clocks::of(clocks)));
        }
        self.slots[slot as usize] = Some(SlotState::new(account, slot, last, ref_vc));
        self.current[account as usize] = slot;
    }

    /// Sets the largest offset between two nodes' clocks seen at time `now_ns`.
    pub fn clock_spread(&mut self, spread_ns: u64) {
        self.epsilon_ns = self.epsilon_ns.max(spread_ns);
    }

    /// One event of `account` at true time `now_ns`, in execution order; `print` is
    /// the [`fingerprint`] of its clocks.
    pub fn event(&mut self, account: u32, now_ns: Nanos, event: &Event, print: u64) {
        let stamp = &event.stamp;
        let id = stamp.event;
        let slot = self.current[account as usize];
        let Some(Some(state)) = self.slots.get_mut(slot as usize) else {
            return;
        };
        self.order.compare(id.slot == slot, || {
            format!(
                "acct-{account} stamped an event of incarnation {slot} with entry {}",
                id.slot
            )
        });
        // Program order (or the restored clocks before the first event).
        let expected_index = state.last.as_ref().map_or(1, |(index, _)| index + 1);
        self.order.compare(id.index == expected_index, || {
            format!(
                "acct-{account}: event {}:{} follows {}:{}",
                id.slot,
                id.index,
                slot,
                expected_index - 1
            )
        });
        if let Some((index, previous)) = &state.last {
            let index = *index;
            check_after(&mut self.order, previous, stamp, || {
                format!(
                    "acct-{account}: event {}:{} after {}:{} in program order",
                    id.slot, id.index, slot, index
                )
            });
        }
        // The reference clock: the slot's, merged with the send's for a receive, plus
        // this event.
        let mut ref_vc = std::mem::take(&mut state.ref_vc);
        if let EventKind::Receive {
            from,
            seq,
            sent_by,
            sent: remote,
        } = &event.kind
        {
            match self.sent(*from, account, *seq, *sent_by) {
                Some(sent) => {
                    self.order.compare(fingerprint(remote) == sent.fingerprint, || {
                        format!(
                            "frame {from}->{account} #{seq} arrived with other clocks than it was sent with"
                        )
                    });
                    let remote_clocks = Clocks::of(remote);
                    check_after(&mut self.order, &remote_clocks, stamp, || {
                        format!(
                            "acct-{account}: receive {}:{} after its send {}:{}",
                            id.slot, id.index, sent.event.slot, sent.event.index
                        )
                    });
                    let mut sent_ref = std::mem::take(&mut self.scratch);
                    self.slots
                        .get(sent.event.slot as usize)
                        .and_then(Option::as_ref)
                        .and_then(|state| state.kept(sent.event.index, &mut sent_ref))
                        .expect("a transmitted frame's send event is kept");
                    merge_into(&mut ref_vc, &sent_ref);
                    self.scratch = sent_ref;
                }
                None => self.order.compare(false, || {
                    format!(
                        "acct-{account} received frame {from}->{account} #{seq} as sent by event {}:{}, but no such frame entered the network",
                        sent_by.slot, sent_by.index
                    )
                }),
            }
        }
        if ref_vc.len() <= slot as usize {
            ref_vc.resize(slot as usize + 1, 0);
        }
        ref_vc[slot as usize] += 1;
        let Some(Some(state)) = self.slots.get_mut(slot as usize) else {
            return;
        };
        match &mut state.last {
            Some((index, clocks)) => {
                *index = id.index;
                clocks.lamport = stamp.lamport;
                clocks.vc = Rc::clone(&stamp.vc);
                clocks.hlc = stamp.hlc;
            }
            None => state.last = Some((id.index, Clocks::of(stamp))),
        }
        if state.can_keep(self.keep_limit, ref_vc.len()) {
            let receive = matches!(event.kind, EventKind::Receive { .. });
            state.keep(print, &ref_vc, receive);
        }
        self.hlc(account, now_ns, event);
        // Reservoir sampling (Vitter's algorithm R): a sample is built only when taken.
        self.seen += 1;
        let take = if self.samples.len() < self.sample_size {
            Some(self.samples.len())
        } else if self.sample_size > 0 {
            let pick = self.rng.gen_range(0..self.seen) as usize;
            (pick < self.sample_size).then_some(pick)
        } else {
            None
        };
        if let Some(at) = take {
            let sample = Sample {
                event: id,
                clocks: Clocks::of(stamp),
                ref_vc: ref_vc.clone(),
            };
            if at == self.samples.len() {
                self.samples.push(sample);
            } else {
                self.samples[at] = sample;
            }
        }
        if let Some(Some(state)) = self.slots.get_mut(slot as usize) {
            state.ref_vc = ref_vc;
        }
    }

    /// The send of frame `seq` from `from` to `to` by event `event`, if it entered the
    /// network.
    fn sent(&self, from: u32, to: u32, seq: u64, event: EventId) -> Option<Sent> {
        match self.sends.get(from, to, seq) {
            Some(sent) if sent.event == event => Some(*sent),
            Some(_) => self.reused.get(&(from, to, seq, event)).copied(),
            None => None,
        }
    }

    /// Frame `seq` from `from` to `to`, sent by event `event`, entered the network.
    pub fn transmitted(&mut self, from: u32, to: u32, seq: u64, event: EventId) {
        if self.sent(from, to, seq, event).is_some() {
            return; // a retransmission
        }
        let kept = self
            .slots
            .get(event.slot as usize)
            .and_then(Option::as_ref)
            .filter(|state| state.account == from)
            .and_then(|state| state.print(event.index));
        match kept {
            Some(print) => {
                let sent = Sent {
                    event,
                    fingerprint: print,
                };
                if self.sends.get(from, to, seq).is_none() {
                    self.sends.insert(from, to, seq, sent);
                } else {
                    self.reused.insert((from, to, seq, event), sent);
                }
            }
            None => self.order.compare(false, || {
                format!(
                    "acct-{from} sent frame {from}->{to} #{seq} stamped by event {}:{}, which it never reported",
                    event.slot, event.index
                )
            }),
        }
    }

    fn hlc(&mut self, account: u32, now_ns: Nanos, event: &Event) {
        let hlc = event.stamp.hlc;
        let pt = event.pt_ns;
        let epsilon = self.epsilon_ns;
        self.hlc_bounds.compare(hlc.l_ns >= pt, || {
            format!(
                "acct-{account}: HLC l {} ns below its physical clock {pt} ns",
                hlc.l_ns
            )
        });
        let offset = hlc.l_ns.saturating_sub(pt);
        self.max_offset_ns = self.max_offset_ns.max(offset);
        self.hlc_bounds.compare(offset <= epsilon, || {
            format!("acct-{account}: HLC l - pt = {offset} ns, above the largest clock offset {epsilon} ns")
        });
        while self.recent.front().is_some_and(|&at| at + epsilon < now_ns) {
            self.recent.pop_front();
        }
        self.recent.push_back(now_ns);
        let bound = self.recent.len() as u64 + 1;
        self.counter_bound = self.counter_bound.max(bound);
        self.max_counter = self.max_counter.max(hlc.c);
        self.hlc_bounds.compare(u64::from(hlc.c) <= bound, || {
            format!("acct-{account}: HLC counter {} above its bound {bound} (events within epsilon, plus one)", hlc.c)
        });
    }

    /// Compares every ordered pair of the sampled events with reachability.
    pub fn finish(&mut self) {
        let samples = std::mem::take(&mut self.samples);
        for a in &samples {
            for b in &samples {
                if a.event == b.event {
                    continue;
                }
                let truth = reaches(a.event.slot, a.event.index, &b.ref_vc);
                let vc_before = a.clocks.vc.compare(&b.clocks.vc) == Order::Before;
                let describe = |what: &str| {
                    format!(
                        "events {}:{} and {}:{}: {what}",
                        a.event.slot, a.event.index, b.event.slot, b.event.index
                    )
                };
                self.sampled.compare(vc_before == truth, || {
                    describe(if truth {
                        "the first happened before the second, but the vector clocks do not say so"
                    } else {
                        "the vector clocks order them, but neither happened before the other"
                    })
                });
                if truth {
                    self.sampled
                        .compare(a.clocks.lamport < b.clocks.lamport, || {
                            describe("Lamport clocks out of causal order")
                        });
                    self.sampled.compare(a.clocks.hlc < b.clocks.hlc, || {
                        describe("HLC timestamps out of causal order")
                    });
                }
            }
        }
        self.samples = samples;
    }
}

/// Checks that `after`'s clocks follow `before`'s: VC strictly greater, Lamport and
/// HLC strictly greater.
fn check_after(
    findings: &mut Findings,
    before: &Clocks,
    after: &Stamp,
    describe: impl Fn() -> String,
) {
    findings.compare(before.vc.compare(&after.vc) == Order::Before, || {
        format!("{}: vector clock not after", describe())
    });
    findings.compare(before.lamport < after.lamport, || {
        format!("{}: Lamport clock not after", describe())
    });
    findings.compare(before.hlc < after.hlc, || {
        format!("{}: HLC not after", describe())
    });
}

/// One snapshot's progress.
#[derive(Clone, Debug)]
pub struct SnapshotRun {
    /// Its id.
    pub id: u32,
    /// Who started it.
    pub initiator: u32,
    /// When, ns.
    pub started_ns: Nanos,
    /// When every account's part was in, ns.
    pub completed_ns: Option<Nanos>,
    /// Why it was abandoned, if it was.
    pub abandoned: Option<String>,
    /// When it was abandoned, ns.
    pub abandoned_ns: Option<Nanos>,
    parts: Vec<Option<SnapshotPart>>,
}

/// The snapshot collector and checks (see the module documentation).
#[derive(Debug)]
pub struct Snapshots {
    accounts: u32,
    total: u64,
    /// Every snapshot started, by id.
    pub runs: BTreeMap<u32, SnapshotRun>,
    /// Recorded balances + in flight = the bank's money.
    pub conservation: Findings,
    /// No recorded receive without its recorded send; each account records once.
    pub consistent_cut: Findings,
}

impl Snapshots {
    /// A collector for `accounts` accounts holding `total` units.
    pub fn new(accounts: u32, total: u64) -> Self {
        Snapshots {
            accounts,
            total,
            runs: BTreeMap::new(),
            conservation: Findings::default(),
            consistent_cut: Findings::default(),
        }
    }

    /// Abandons every snapshot in progress, for `why`, at `now_ns`.
    fn abandon(&mut self, now_ns: Nanos, why: impl Fn() -> String) {
        for run in self.runs.values_mut() {
            if run.completed_ns.is_none() && run.abandoned.is_none() {
                run.abandoned = Some(why());
                run.abandoned_ns = Some(now_ns);
                // An abandoned snapshot takes no more parts (see `part`).
                run.parts = Vec::new();
            }
        }
    }

    /// Snapshot `id` starts at `initiator`; one still in progress is abandoned.
    pub fn start(&mut self, id: u32, initiator: u32, now_ns: Nanos) {
        self.abandon(now_ns, || format!("superseded by snapshot {id}"));
        self.runs.insert(
            id,
            SnapshotRun {
                id,
                initiator,
                started_ns: now_ns,
                completed_ns: None,
                abandoned: None,
                abandoned_ns: None,
                parts: vec![None; self.accounts as usize],
            },
        );
    }

    /// Snapshot `id` was due at `initiator`, which was down: it never starts.
    pub fn skip(&mut self, id: u32, initiator: u32, now_ns: Nanos) {
        self.start(id, initiator, now_ns);
        if let Some(run) = self.runs.get_mut(&id) {
            run.abandoned = Some(format!(
                "never started: its initiator acct-{initiator} was down"
            ));
            run.abandoned_ns = Some(now_ns);
            run.parts = Vec::new();
        }
    }

    /// `account` crashed: every snapshot in progress is abandoned.
    pub fn crash(&mut self, account: u32, now_ns: Nanos) {
        self.abandon(now_ns, || format!("acct-{account} crashed during it"));
    }

    /// `account`'s part of a snapshot.
    pub fn part(&mut self, account: u32, part: SnapshotPart, now_ns: Nanos) {
        let Some(run) = self.runs.get_mut(&part.snapshot) else {
            return;
        };
        if run.abandoned.is_some() {
            return;
        }
        let id = run.id;
        // A completed snapshot's parts are checked and released: every account has
        // recorded.
        let recorded = run.completed_ns.is_some() || run.parts[account as usize].is_some();
        self.consistent_cut.compare(!recorded, || {
            format!("snapshot {id}: acct-{account} recorded twice")
        });
        if run.completed_ns.is_some() {
            return;
        }
        run.parts[account as usize] = Some(part);
        if run.parts.iter().all(Option::is_some) {
            run.completed_ns = Some(now_ns);
            let parts: Vec<&SnapshotPart> = run.parts.iter().flatten().collect();
            check_snapshot(
                id,
                &parts,
                self.total,
                &mut self.conservation,
                &mut self.consistent_cut,
            );
            run.parts = Vec::new();
        }
    }
}

/// The highest sequence number in a receiver state.
fn received_max(state: &ReceiverState) -> u64 {
    state
        .delivered_above
        .last()
        .map_or(state.delivered_up_to.get(), |seq| seq.get())
        .max(state.delivered_up_to.get())
}

fn check_snapshot(
    id: u32,
    parts: &[&SnapshotPart],
    total: u64,
    conservation: &mut Findings,
    cut: &mut Findings,
) {
    let balances: u64 = parts.iter().map(|part| part.state.balance).sum();
    let in_flight: u64 = parts
        .iter()
        .flat_map(|part| part.in_flight.iter().flatten())
        .map(|(_, amount)| amount)
        .sum();
    conservation.compare(balances + in_flight == total, || {
        format!(
            "snapshot {id}: recorded balances {balances} + in flight {in_flight} = {} units, the bank holds {total}",
            balances + in_flight
        )
    });
    for (receiver, part) in parts.iter().enumerate() {
        for (sender, received) in part.state.received.iter().enumerate() {
            if sender == receiver {
                continue;
            }
            let sent = parts[sender].state.sent_up_to[receiver];
            let got = received_max(received);
            cut.compare(got <= sent, || {
                format!(
                    "snapshot {id}: acct-{receiver} recorded receiving frame #{got} from acct-{sender}, which recorded sending only up to #{sent}"
                )
            });
        }
    }
}

/// The durability checks at the end of the run: `finals[i]` is account `i`'s state
/// (live, or what its disk holds), `acked[i][j]` the highest ack `i` received from `j`,
/// `in_network` the transfers still in the network (sender, receiver, seq, amount).
/// Returns the findings, the money found (balances plus transfers in flight) and the
/// acknowledged transfers the receivers' final states lack.
pub fn end_of_run(
    finals: &[FinalState],
    acked: &[Vec<u64>],
    in_network: &[(u32, u32, u64, u64)],
    total: u64,
) -> (Findings, u64, u64) {
    let mut findings = Findings::default();
    let mut acked_lost = 0;
    let delivered = |receiver: usize, sender: usize, seq: u64| {
        let state = &finals[receiver].received[sender];
        seq <= state.delivered_up_to.get()
            || state.delivered_above.iter().any(|above| above.get() == seq)
    };
    for (sender, row) in acked.iter().enumerate() {
        for (receiver, &up_to) in row.iter().enumerate() {
            if sender == receiver || up_to == 0 {
                continue;
            }
            let kept = finals[receiver].received[sender].delivered_up_to.get();
            acked_lost += up_to.saturating_sub(kept);
            findings.compare(kept >= up_to, || {
                format!(
                    "acct-{receiver} acknowledged every frame from acct-{sender} up to #{up_to}, but its final state holds them only up to #{kept}"
                )
            });
        }
    }
    let mut flying: BTreeMap<(u32, u32, u64), u64> = BTreeMap::new();
    for (sender, state) in finals.iter().enumerate() {
        for (receiver, frames) in state.unacked.iter().enumerate() {
            for &(seq, amount) in frames {
                flying.insert((sender as u32, receiver as u32, seq), amount);
            }
        }
    }
    for &(sender, receiver, seq, amount) in in_network {
        flying.entry((sender, receiver, seq)).or_insert(amount);
    }
    let in_flight: u64 = flying
        .iter()
        .filter(|((sender, receiver, seq), _)| {
            !delivered(*receiver as usize, *sender as usize, *seq)
        })
        .map(|(_, amount)| amount)
        .sum();
    let balances: u64 = finals.iter().map(|state| state.balance).sum();
    findings.compare(balances + in_flight == total, || {
        format!(
            "at the end: balances {balances} + in flight {in_flight} = {} units, the bank started with {total}",
            balances + in_flight
        )
    });
    (findings, balances + in_flight, acked_lost)
}

#[cfg(test)]
mod tests {
    use super::*;
    use faultline_models::clock::{Hlc, Lamport};
    use rand::SeedableRng;

    use super::super::account::{Recorded, What};

    /// How the clocks under test treat a receive.
    #[derive(Clone, Copy, PartialEq)]
    enum Rules {
        /// The models as they are.
        Correct,
        /// The vector clock forgets to merge the sender's clock.
        NoVcMerge,
        /// The HLC ignores the sender's `l` (only its own and physical time).
        NoHlcMerge,
    }

    /// One process's clocks, driven by the models with a rule broken on purpose.
    struct Proc {
        me: usize,
        lamport: Lamport,
        vc: VectorClock,
        hlc: Hlc,
        rules: Rules,
    }

    impl Proc {
        fn new(me: usize, rules: Rules) -> Self {
            Proc {
                me,
                lamport: Lamport::new(),
                vc: VectorClock::new(2),
                hlc: Hlc::new(None),
                rules,
            }
        }

        fn stamp(&self, hlc: HlcTimestamp) -> Stamp {
            Stamp {
                event: EventId {
                    slot: self.me as u32,
                    index: self.vc.get(self.me),
                },
                lamport: self.lamport.now(),
                vc: Rc::new(self.vc.clone()),
                hlc,
            }
        }

        fn send(&mut self, pt_ns: u64) -> Stamp {
            self.lamport.tick();
            self.vc.tick(self.me);
            let hlc = self.hlc.send(core::time::Duration::from_nanos(pt_ns));
            self.stamp(hlc)
        }

        fn receive(&mut self, remote: &Stamp, pt_ns: u64) -> Stamp {
            self.lamport.on_receive(remote.lamport);
            if self.rules == Rules::NoVcMerge {
                self.vc.tick(self.me);
            } else {
                self.vc.on_receive(self.me, &remote.vc);
            }
            let pt = core::time::Duration::from_nanos(pt_ns);
            let hlc = if self.rules == Rules::NoHlcMerge {
                self.hlc.send(pt)
            } else {
                self.hlc.receive(remote.hlc, pt).unwrap()
            };
            self.stamp(hlc)
        }
    }

    /// Two processes: 0 sends to 1 every round, 1 then makes a local step; 0's clock
    /// is 50 ms ahead. Returns the checker after every event.
    fn exchange(rules: Rules) -> Causality {
        let rng = ChaCha8Rng::seed_from_u64(7);
        let mut checker = Causality::new(2, 40, rng);
        checker.clock_spread(50_000_000);
        let mut procs = [Proc::new(0, rules), Proc::new(1, rules)];
        for round in 0..50u64 {
            let now_ns = round * 10_000_000;
            let sent = procs[0].send(now_ns + 50_000_000);
            let send = Event {
                kind: EventKind::Send {
                    to: 1,
                    seq: round + 1,
                },
                what: What::Transfer(1),
                stamp: sent.clone(),
                pt_ns: now_ns + 50_000_000,
            };
            checker.event(0, now_ns, &send, fingerprint(&send.stamp));
            checker.transmitted(0, 1, round + 1, sent.event);
            let received = procs[1].receive(&sent, now_ns + 3_000_000);
            let receive = Event {
                kind: EventKind::Receive {
                    from: 0,
                    seq: round + 1,
                    sent_by: sent.event,
                    sent,
                },
                what: What::Transfer(1),
                stamp: received.clone(),
                pt_ns: now_ns + 3_000_000,
            };
            checker.event(1, now_ns + 3_000_000, &receive, fingerprint(&received));
            let local = procs[1].send(now_ns + 4_000_000);
            let local = Event {
                kind: EventKind::Local,
                what: What::Initiate(0),
                stamp: local,
                pt_ns: now_ns + 4_000_000,
            };
            checker.event(1, now_ns + 4_000_000, &local, fingerprint(&local.stamp));
        }
        checker.finish();
        checker
    }

    proptest::proptest! {
        /// The kept reference clocks, stored only at receives (and compactly, past the
        /// newest), read back as the full
        /// clock of every event (a restart's resume point or a frame's send can be any).
        #[test]
        fn kept_clocks_read_back_whole(
            steps in proptest::collection::vec(
                proptest::option::of(proptest::collection::vec(0u32..50, 0..6)),
                1..150,
            ),
            slot in 0u32..4,
        ) {
            let mut state = SlotState::new(0, slot, None, Vec::new());
            let mut ref_vc: RefVc = Vec::new();
            let mut truth: Vec<RefVc> = Vec::new();
            for step in &steps {
                // `Some`: a receive merging that clock (its own entry left out).
                if let Some(remote) = step {
                    let mut remote = remote.clone();
                    if let Some(own) = remote.get_mut(slot as usize) {
                        *own = 0;
                    }
                    merge_into(&mut ref_vc, &remote);
                }
                if ref_vc.len() <= slot as usize {
                    ref_vc.resize(slot as usize + 1, 0);
                }
                ref_vc[slot as usize] += 1;
                state.keep(truth.len() as u64, &ref_vc, step.is_some());
                truth.push(ref_vc.clone());
            }
            let mut whole = Vec::new();
            for (at, expected) in truth.iter().enumerate() {
                let print = state.kept(at as u64 + 1, &mut whole).expect("kept");
                proptest::prop_assert_eq!(print, at as u64);
                whole.resize(expected.len().max(whole.len()), 0);
                let mut expected = expected.clone();
                expected.resize(whole.len(), 0);
                proptest::prop_assert_eq!(&whole, &expected);
            }
            let stored = steps.iter().filter(|step| step.is_some()).count() + 1;
            proptest::prop_assert!(
                state.stored_refs.len() as usize <= stored,
                "a clock stored for an event that is no receive"
            );
        }
    }

    #[test]
    fn the_models_pass() {
        let checker = exchange(Rules::Correct);
        assert!(checker.order.held(), "{:?}", checker.order.examples);
        assert!(checker.sampled.held(), "{:?}", checker.sampled.examples);
        assert!(
            checker.hlc_bounds.held(),
            "{:?}",
            checker.hlc_bounds.examples
        );
        assert!(checker.order.compared > 400 && checker.sampled.compared > 1000);
    }

    #[test]
    fn a_broken_vector_clock_merge_is_caught() {
        let checker = exchange(Rules::NoVcMerge);
        assert!(
            checker
                .order
                .examples
                .iter()
                .any(|e| e.contains("receive") && e.contains("vector clock not after")),
            "{:?}",
            checker.order.examples
        );
        assert!(
            checker
                .sampled
                .examples
                .iter()
                .any(|e| e.contains("do not say so")),
            "{:?}",
            checker.sampled.examples
        );
        // Lamport and HLC are untouched by this break.
        assert!(!checker.order.examples.iter().any(|e| e.contains("HLC")));
    }

    #[test]
    fn a_broken_hlc_receive_rule_is_caught() {
        let checker = exchange(Rules::NoHlcMerge);
        assert!(
            checker
                .order
                .examples
                .iter()
                .any(|e| e.contains("HLC not after")),
            "{:?}",
            checker.order.examples
        );
        assert!(checker
            .sampled
            .examples
            .iter()
            .any(|e| e.contains("HLC timestamps")));
    }

    #[test]
    fn a_snapshot_that_misses_money_or_receives_unsent_frames_fails() {
        let state = |balance, sent: Vec<u64>, received: Vec<u64>| Recorded {
            balance,
            sent_up_to: sent,
            received: received
                .into_iter()
                .map(|up_to| ReceiverState {
                    delivered_up_to: faultline_models::channel::Seq(up_to),
                    delivered_above: Vec::new(),
                })
                .collect(),
        };
        let part = |snapshot, state, in_flight| SnapshotPart {
            snapshot,
            state,
            in_flight,
        };
        let mut snapshots = Snapshots::new(2, 200);
        snapshots.start(1, 0, 0);
        snapshots.part(
            0,
            part(1, state(90, vec![0, 3], vec![0, 2]), vec![vec![], vec![]]),
            1,
        );
        // 10 units in flight from 0 to 1, recorded on 1's channel: conserved, consistent.
        snapshots.part(
            1,
            part(
                1,
                state(100, vec![2, 0], vec![3, 0]),
                vec![vec![(4, 10)], vec![]],
            ),
            2,
        );
        assert!(snapshots.conservation.held() && snapshots.consistent_cut.held());
        snapshots.start(2, 0, 10);
        snapshots.part(
            0,
            part(2, state(90, vec![0, 3], vec![0, 2]), vec![vec![], vec![]]),
            11,
        );
        // 1 records receiving frame #5 from 0, which recorded sending up to #3; and the
        // 10 units are nowhere.
        snapshots.part(
            1,
            part(2, state(100, vec![2, 0], vec![5, 0]), vec![vec![], vec![]]),
            12,
        );
        assert_eq!(snapshots.conservation.violations, 1);
        assert_eq!(snapshots.consistent_cut.violations, 1);
    }
}
