//! Chandy-Lamport distributed snapshot, one process's state machine.
//!
//! K. M. Chandy and L. Lamport, "Distributed Snapshots: Determining Global States of
//! Distributed Systems", ACM TOCS 3(1), 1985. Channels are FIFO and reliable. The
//! initiator records its state and sends a marker on every outgoing channel; a process
//! receiving its first marker records its state, records that channel as empty, and sends
//! markers on every outgoing channel; afterwards it records the messages arriving on each
//! other incoming channel until that channel's marker arrives.
//!
//! [`SnapshotProcess`] is sans-IO: the caller delivers markers and messages to it and
//! sends the markers it asks for. It is generic over the application state `S` it
//! records and the application message `M` it records on channels. A channel is named by
//! the id of the peer at its other end.
//!
//! # Invariants
//!
//! - The local state is recorded at most once per snapshot (until [`SnapshotProcess::reset`]).
//! - A channel records messages only after the local state is recorded and only until its
//!   marker arrives; the channel on which the first marker arrived records nothing.
//! - [`SnapshotProcess::is_complete`] holds iff the state is recorded and every incoming
//!   channel has delivered its marker; once complete, nothing recorded changes.
//!
//! On a strongly connected graph every process records and completes; on FIFO channels
//! the recorded states and channel contents form a consistent cut (no recorded receive
//! without its recorded send), so in a money-transfer system the recorded balances plus
//! the recorded in-flight amounts equal the initial total. Without FIFO a marker can
//! overtake a message and conservation breaks; the tests below show both.

/// Where one incoming channel stands in the current snapshot.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ChannelState {
    /// The local state is not recorded yet: messages belong to the pre-snapshot state.
    Idle,
    /// Recording: messages arriving now were in flight when the cut was taken.
    Recording,
    /// The channel's marker has arrived: its recorded contents are final.
    Closed,
}

/// One incoming channel's record.
#[derive(Clone, Debug)]
struct Channel<M> {
    /// The peer at the sending end.
    from: usize,
    state: ChannelState,
    /// Messages recorded as in flight on this channel.
    messages: Vec<M>,
}

/// One process's part in a Chandy-Lamport snapshot (Chandy and Lamport 1985).
#[derive(Clone, Debug)]
pub struct SnapshotProcess<S, M> {
    me: usize,
    /// Incoming channels, sorted by peer id so lookups are a binary search.
    channels: Vec<Channel<M>>,
    /// Peers this process sends to: where markers go.
    outgoing: Vec<usize>,
    /// The recorded local state, once recorded.
    recorded: Option<S>,
    /// Channels still waiting for their marker (`Recording`), so `is_complete` is O(1).
    open_channels: usize,
}

impl<S: Clone, M: Clone> SnapshotProcess<S, M> {
    /// Process `me` with channels from each peer in `incoming` and to each in `outgoing`.
    ///
    /// # Panics
    ///
    /// If `incoming` or `outgoing` names the same peer twice (a channel is identified by
    /// its peer, so two channels to one peer would be ambiguous).
    pub fn new(me: usize, incoming: Vec<usize>, mut outgoing: Vec<usize>) -> Self {
        let mut channels: Vec<Channel<M>> = incoming
            .into_iter()
            .map(|from| Channel {
                from,
                state: ChannelState::Idle,
                messages: Vec::new(),
            })
            .collect();
        channels.sort_by_key(|c| c.from);
        assert!(
            channels.windows(2).all(|w| w[0].from != w[1].from),
            "SnapshotProcess {me}: an incoming peer is listed twice"
        );
        let unique_out = {
            let mut sorted = outgoing.clone();
            sorted.sort_unstable();
            sorted.dedup();
            sorted.len()
        };
        assert_eq!(
            unique_out,
            outgoing.len(),
            "SnapshotProcess {me}: an outgoing peer is listed twice"
        );
        outgoing.shrink_to_fit();
        SnapshotProcess {
            me,
            channels,
            outgoing,
            recorded: None,
            open_channels: 0,
        }
    }

    /// This process's id.
    pub fn me(&self) -> usize {
        self.me
    }

    /// The peers this process has incoming channels from, in increasing order.
    pub fn incoming(&self) -> impl Iterator<Item = usize> + '_ {
        self.channels.iter().map(|c| c.from)
    }

    /// The peers this process has outgoing channels to, in construction order.
    pub fn outgoing(&self) -> &[usize] {
        &self.outgoing
    }

    /// Starts a snapshot here: records `state` and starts recording every incoming
    /// channel. Returns the peers to send a marker to (all outgoing channels), in
    /// construction order; send them before any later application message.
    ///
    /// If this process has already recorded in the current snapshot, nothing happens and
    /// no marker is returned (a process records once).
    pub fn initiate(&mut self, state: &S) -> Vec<usize> {
        if self.recorded.is_some() {
            return Vec::new();
        }
        self.record(state, None);
        self.outgoing.clone()
    }

    /// A marker arrived on the channel from `from`.
    ///
    /// The first marker records `state` (the state *before* anything delivered after the
    /// marker), records channel `from` as empty, starts recording every other incoming
    /// channel and returns the peers to send a marker to (all outgoing channels). A later
    /// marker closes channel `from` and returns nothing. A duplicate marker on a closed
    /// channel is ignored (the algorithm never sends one; a duplicating network might).
    ///
    /// # Panics
    ///
    /// If there is no incoming channel from `from`.
    pub fn on_marker(&mut self, from: usize, state: &S) -> Vec<usize> {
        let idx = self.channel_index(from);
        if self.recorded.is_none() {
            self.record(state, Some(idx));
            return self.outgoing.clone();
        }
        let channel = &mut self.channels[idx];
        if channel.state == ChannelState::Recording {
            channel.state = ChannelState::Closed;
            self.open_channels -= 1;
        }
        self.check_invariants();
        Vec::new()
    }

    /// An application message arrived on the channel from `from`. It is recorded as in
    /// flight iff that channel is recording (local state recorded, marker not yet here);
    /// the caller processes the message as usual either way.
    ///
    /// # Panics
    ///
    /// If there is no incoming channel from `from`.
    pub fn on_message(&mut self, from: usize, msg: &M) {
        let idx = self.channel_index(from);
        let channel = &mut self.channels[idx];
        if channel.state == ChannelState::Recording {
            channel.messages.push(msg.clone());
        }
    }

    /// True once the state is recorded and every incoming channel's marker has arrived.
    pub fn is_complete(&self) -> bool {
        self.recorded.is_some() && self.open_channels == 0
    }

    /// True once the local state is recorded in the current snapshot.
    pub fn has_recorded(&self) -> bool {
        self.recorded.is_some()
    }

    /// The recorded local state, once recorded.
    pub fn recorded_state(&self) -> Option<&S> {
        self.recorded.as_ref()
    }

    /// The messages recorded as in flight on the channel from `from` (final once that
    /// channel is [`ChannelState::Closed`]).
    ///
    /// # Panics
    ///
    /// If there is no incoming channel from `from`.
    pub fn channel_messages(&self, from: usize) -> &[M] {
        &self.channels[self.channel_index(from)].messages
    }

    /// Where the channel from `from` stands.
    ///
    /// # Panics
    ///
    /// If there is no incoming channel from `from`.
    pub fn channel_state(&self, from: usize) -> ChannelState {
        self.channels[self.channel_index(from)].state
    }

    /// Forgets the current snapshot so another can be taken (the channels stay).
    ///
    /// Only safe once every process has completed the current snapshot; otherwise a
    /// late marker of the old snapshot would be taken for the first marker of the next.
    pub fn reset(&mut self) {
        self.recorded = None;
        self.open_channels = 0;
        for channel in &mut self.channels {
            channel.state = ChannelState::Idle;
            channel.messages.clear();
        }
        self.check_invariants();
    }

    /// Records `state`; every channel starts recording except `empty` (the channel the
    /// first marker came on, whose contents at the cut are empty by FIFO).
    fn record(&mut self, state: &S, empty: Option<usize>) {
        debug_assert!(
            self.recorded.is_none(),
            "state recorded twice in one snapshot"
        );
        self.recorded = Some(state.clone());
        self.open_channels = 0;
        for (i, channel) in self.channels.iter_mut().enumerate() {
            debug_assert!(channel.state == ChannelState::Idle && channel.messages.is_empty());
            if Some(i) == empty {
                channel.state = ChannelState::Closed;
            } else {
                channel.state = ChannelState::Recording;
                self.open_channels += 1;
            }
        }
        self.check_invariants();
    }

    fn channel_index(&self, from: usize) -> usize {
        match self.channels.binary_search_by_key(&from, |c| c.from) {
            Ok(idx) => idx,
            Err(_) => panic!(
                "SnapshotProcess {}: no incoming channel from process {from}",
                self.me
            ),
        }
    }

    fn check_invariants(&self) {
        debug_assert_eq!(
            self.open_channels,
            self.channels
                .iter()
                .filter(|c| c.state == ChannelState::Recording)
                .count(),
            "open channel count out of step"
        );
        debug_assert!(
            self.recorded.is_some()
                || self
                    .channels
                    .iter()
                    .all(|c| c.state == ChannelState::Idle && c.messages.is_empty()),
            "a channel is recording before the local state is recorded"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;
    use std::collections::{BTreeMap, BTreeSet, VecDeque};

    /// Application state of a bank process: its balance and the ids of the transfers it
    /// has sent and received (to check the cut's consistency).
    #[derive(Clone, Debug, Default)]
    struct Account {
        balance: u64,
        sent: Vec<u64>,
        received: Vec<u64>,
    }

    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    struct Transfer {
        id: u64,
        amount: u64,
    }

    #[derive(Clone, Copy, Debug)]
    enum Wire {
        Transfer(Transfer),
        Marker,
    }

    /// What one simulated run of the bank found.
    #[derive(Debug)]
    struct Outcome {
        initial_total: u64,
        /// Recorded balances plus recorded in-flight amounts.
        recorded_total: u64,
        /// Times each process recorded its state.
        records: Vec<u32>,
        /// Markers sent on each edge.
        markers_per_edge: Vec<u32>,
        all_complete: bool,
        /// Recorded receives whose send is not recorded.
        orphan_receives: usize,
        /// Recorded in-flight transfers that are not recorded as sent, or are recorded as
        /// already received.
        bad_in_flight: usize,
    }

    /// A random strongly connected digraph on `n` nodes: a Hamiltonian cycle through a
    /// random permutation, plus each other edge with probability `extra`.
    fn strongly_connected(rng: &mut ChaCha8Rng, n: usize, extra: f64) -> Vec<(usize, usize)> {
        let mut order: Vec<usize> = (0..n).collect();
        for i in (1..n).rev() {
            order.swap(i, rng.gen_range(0..=i));
        }
        let mut edges = BTreeSet::new();
        if n > 1 {
            for i in 0..n {
                edges.insert((order[i], order[(i + 1) % n]));
            }
        }
        for a in 0..n {
            for b in 0..n {
                if a != b && rng.gen_bool(extra) {
                    edges.insert((a, b));
                }
            }
        }
        edges.into_iter().collect()
    }

    /// Simulates `n` bank processes over `edges` doing `steps` random steps (transfers and
    /// deliveries in random order), starts a snapshot at a random step at a random
    /// process, then drains every channel. `fifo = false` delivers a random message of a
    /// channel instead of the oldest.
    fn run_bank(
        seed: u64,
        n: usize,
        edges: &[(usize, usize)],
        steps: usize,
        fifo: bool,
    ) -> Outcome {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let edge_index: BTreeMap<(usize, usize), usize> =
            edges.iter().enumerate().map(|(i, &e)| (e, i)).collect();
        let mut accounts: Vec<Account> = (0..n)
            .map(|_| Account {
                balance: rng.gen_range(0..1_000),
                ..Account::default()
            })
            .collect();
        let initial_total: u64 = accounts.iter().map(|a| a.balance).sum();
        let mut snaps: Vec<SnapshotProcess<Account, Transfer>> = (0..n)
            .map(|p| {
                let incoming = edges.iter().filter(|e| e.1 == p).map(|e| e.0).collect();
                let outgoing = edges.iter().filter(|e| e.0 == p).map(|e| e.1).collect();
                SnapshotProcess::new(p, incoming, outgoing)
            })
            .collect();
        let mut channels: Vec<VecDeque<Wire>> = vec![VecDeque::new(); edges.len()];
        let mut records = vec![0u32; n];
        let mut markers_per_edge = vec![0u32; edges.len()];
        let snapshot_at = rng.gen_range(0..steps.max(1));
        let initiator = rng.gen_range(0..n);
        let mut next_id = 0u64;

        let send_markers =
            |from: usize, to: Vec<usize>, channels: &mut [VecDeque<Wire>], markers: &mut [u32]| {
                for peer in to {
                    let e = edge_index[&(from, peer)];
                    channels[e].push_back(Wire::Marker);
                    markers[e] += 1;
                }
            };

        let mut step = 0usize;
        loop {
            if step == snapshot_at {
                let out = snaps[initiator].initiate(&accounts[initiator]);
                records[initiator] += 1;
                send_markers(initiator, out, &mut channels, &mut markers_per_edge);
            }
            let busy: Vec<usize> = (0..edges.len())
                .filter(|&e| !channels[e].is_empty())
                .collect();
            let transfer = step < steps && (busy.is_empty() || rng.gen_bool(0.5));
            if transfer {
                let from = rng.gen_range(0..n);
                let outs = snaps[from].outgoing().to_vec();
                if accounts[from].balance > 0 && !outs.is_empty() {
                    let to = outs[rng.gen_range(0..outs.len())];
                    let amount = rng.gen_range(1..=accounts[from].balance);
                    accounts[from].balance -= amount;
                    accounts[from].sent.push(next_id);
                    channels[edge_index[&(from, to)]].push_back(Wire::Transfer(Transfer {
                        id: next_id,
                        amount,
                    }));
                    next_id += 1;
                }
            } else if let Some(&e) = busy.get(rng.gen_range(0..busy.len().max(1))) {
                let (from, to) = edges[e];
                let pos = if fifo {
                    0
                } else {
                    rng.gen_range(0..channels[e].len())
                };
                match channels[e].remove(pos).expect("busy channel") {
                    Wire::Transfer(t) => {
                        snaps[to].on_message(from, &t);
                        accounts[to].balance += t.amount;
                        accounts[to].received.push(t.id);
                    }
                    Wire::Marker => {
                        let had = snaps[to].has_recorded();
                        let out = snaps[to].on_marker(from, &accounts[to]);
                        if !had {
                            records[to] += 1;
                        }
                        send_markers(to, out, &mut channels, &mut markers_per_edge);
                    }
                }
            } else if step >= steps && step > snapshot_at {
                break; // nothing in flight and no more transfers: quiescent
            }
            step += 1;
        }

        // Evaluate the recorded global state.
        let mut recorded_total = 0u64;
        let mut sends = BTreeSet::new();
        let mut receives = BTreeSet::new();
        for s in &snaps {
            if let Some(acc) = s.recorded_state() {
                recorded_total += acc.balance;
                sends.extend(acc.sent.iter().copied());
                receives.extend(acc.received.iter().copied());
            }
        }
        let mut bad_in_flight = 0;
        for &(from, to) in edges {
            for t in snaps[to].channel_messages(from) {
                recorded_total += t.amount;
                if !sends.contains(&t.id) || receives.contains(&t.id) {
                    bad_in_flight += 1;
                }
            }
        }
        let orphan_receives = receives.iter().filter(|id| !sends.contains(id)).count();
        Outcome {
            initial_total,
            recorded_total,
            records,
            markers_per_edge,
            all_complete: snaps.iter().all(|s| s.is_complete()),
            orphan_receives,
            bad_in_flight,
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        /// FIFO channels on a strongly connected graph: every process records once, every
        /// edge carries one marker, the algorithm terminates, the cut is consistent and
        /// money is conserved.
        #[test]
        fn fifo_snapshot_is_consistent_and_conserves_money(
            seed in any::<u64>(), n in 1usize..7, extra in 0.0f64..0.6, steps in 1usize..300,
        ) {
            let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5eed);
            let edges = strongly_connected(&mut rng, n, extra);
            let out = run_bank(seed, n, &edges, steps, true);
            prop_assert!(out.records.iter().all(|&r| r == 1), "records {:?}", out.records);
            prop_assert!(out.markers_per_edge.iter().all(|&m| m == 1));
            prop_assert!(out.all_complete);
            prop_assert_eq!(out.orphan_receives, 0);
            prop_assert_eq!(out.bad_in_flight, 0);
            prop_assert_eq!(out.recorded_total, out.initial_total);
        }
    }

    /// Breaking FIFO breaks conservation: a marker that overtakes a transfer makes the
    /// receiver record its state without the money, and the channel is closed before the
    /// money arrives, so it is in neither. Searches a fixed range of seeds, so it can fail.
    #[test]
    fn non_fifo_breaks_conservation() {
        let mut violations = 0;
        for seed in 0..200u64 {
            let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5eed);
            let edges = strongly_connected(&mut rng, 4, 0.3);
            let out = run_bank(seed, 4, &edges, 200, false);
            // Termination and record-once do not need FIFO.
            assert!(out.all_complete && out.records.iter().all(|&r| r == 1));
            if out.recorded_total != out.initial_total {
                violations += 1;
            }
        }
        assert!(
            violations > 0,
            "no seed in 0..200 broke conservation without FIFO"
        );
    }

    #[test]
    fn two_process_walkthrough() {
        // 0 <-> 1. Process 0 starts the snapshot after sending 5 to 1; process 1 sends 7
        // to 0 before it sees the marker, so those 7 are in flight on 1 -> 0.
        let mut p0: SnapshotProcess<u64, u64> = SnapshotProcess::new(0, vec![1], vec![1]);
        let mut p1: SnapshotProcess<u64, u64> = SnapshotProcess::new(1, vec![0], vec![0]);
        let (mut b0, mut b1) = (100u64, 50u64);
        b0 -= 5; // 5 in flight 0 -> 1, sent before the cut
        assert_eq!(p0.initiate(&b0), vec![1]);
        assert_eq!(p0.initiate(&b0), Vec::<usize>::new(), "records once");
        assert_eq!(p0.channel_state(1), ChannelState::Recording);
        b1 -= 7; // 7 in flight 1 -> 0
                 // FIFO on 0 -> 1: the 5 arrives before the marker; 1 has not recorded yet.
        p1.on_message(0, &5);
        b1 += 5;
        assert_eq!(p1.on_marker(0, &b1), vec![0]);
        assert_eq!(p1.recorded_state(), Some(&48));
        assert!(
            p1.is_complete(),
            "its only incoming channel brought the marker"
        );
        // On 1 -> 0: the 7, then the marker.
        p0.on_message(1, &7);
        b0 += 7;
        assert!(!p0.is_complete());
        assert_eq!(p0.on_marker(1, &b0), Vec::<usize>::new());
        assert!(p0.is_complete());
        assert_eq!(p0.recorded_state(), Some(&95));
        assert_eq!(p0.channel_messages(1), &[7]);
        assert!(p1.channel_messages(0).is_empty());
        assert_eq!(95 + 48 + 7, 150);
        // After completion nothing more is recorded.
        p0.on_message(1, &1);
        assert_eq!(p0.channel_messages(1), &[7]);
        p0.reset();
        assert!(!p0.has_recorded() && p0.channel_messages(1).is_empty());
    }

    #[test]
    fn does_not_complete_without_strong_connectivity() {
        // 0 -> 1 only; a snapshot started at 1 never reaches 0.
        let p0: SnapshotProcess<(), ()> = SnapshotProcess::new(0, vec![], vec![1]);
        let mut p1: SnapshotProcess<(), ()> = SnapshotProcess::new(1, vec![0], vec![]);
        assert!(p1.initiate(&()).is_empty());
        assert!(!p1.is_complete());
        assert!(!p0.has_recorded() && !p0.is_complete());
    }

    #[test]
    #[should_panic(expected = "no incoming channel from process 3")]
    fn unknown_channel_panics() {
        let mut p: SnapshotProcess<(), ()> = SnapshotProcess::new(0, vec![1], vec![1]);
        p.on_message(3, &());
    }
}
