//! Logical clocks: Lamport, vector and hybrid logical clocks (HLC).
//!
//! All three are sans-IO: they never read a clock. The HLC takes the local physical time
//! `pt` as an argument (a [`Duration`] since an arbitrary origin shared by the whole
//! system, e.g. the simulated node's skewed wall clock).
//!
//! # Invariants
//!
//! - [`Lamport`]: every event strictly increases the counter, so `e -> f` implies
//!   `L(e) < L(f)` (Lamport, "Time, Clocks, and the Ordering of Events in a Distributed
//!   System", CACM 1978).
//! - [`VectorClock`]: entry `i` counts the events of process `i` that happened before or
//!   at the current event; `e -> f` iff `VC(e) < VC(f)`; [`VectorClock::merge`] is the
//!   pointwise maximum, hence commutative, associative, idempotent and the least upper
//!   bound (Fidge 1988, Mattern 1989).
//! - [`Hlc`] (Kulkarni, Demirbas, Madappa, Avva, Leone, "Logical Physical Clocks",
//!   OPODIS 2014): every event strictly increases `(l, c)` lexicographically, so `e -> f`
//!   implies `(l, c)(e) < (l, c)(f)`; `l >= pt` after every event; `l - pt <= epsilon`
//!   when all physical clocks are within `epsilon` of each other; `c` stays bounded.
//!   These are checked with `debug_assert!` after every HLC event.

use core::cmp::Ordering;
use core::fmt;
use core::time::Duration;

use serde::{Deserialize, Serialize};

/// A Lamport clock (Lamport 1978): one counter, incremented on every event.
///
/// Guarantees `e -> f` implies `L(e) < L(f)` (the converse does not hold).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct Lamport(pub u64);

impl Lamport {
    /// A clock that has seen no event (counter 0).
    pub const fn new() -> Self {
        Lamport(0)
    }

    /// The current counter value, without advancing it.
    pub const fn now(&self) -> u64 {
        self.0
    }

    /// A local or send event: increments the counter and returns the event's timestamp
    /// (stamp outgoing messages with it).
    ///
    /// # Panics
    ///
    /// If the counter would pass `u64::MAX` (2^64 events, or a peer that sent a stamp
    /// near `u64::MAX`): wrapping or saturating would silently break `L(e) < L(f)`.
    pub fn tick(&mut self) -> u64 {
        self.0 = self
            .0
            .checked_add(1)
            .expect("Lamport clock overflowed u64: a peer sent a timestamp near u64::MAX");
        self.0
    }

    /// A receive event for a message stamped `remote`: the counter becomes
    /// `max(local, remote) + 1`, which is returned.
    ///
    /// # Panics
    ///
    /// As [`Lamport::tick`], if the counter would pass `u64::MAX`.
    pub fn on_receive(&mut self, remote: u64) -> u64 {
        let before = self.0;
        self.0 = self.0.max(remote);
        let stamp = self.tick();
        debug_assert!(
            stamp > before && stamp > remote,
            "Lamport receive must exceed both"
        );
        stamp
    }
}

/// How two vector clocks (two events) are causally related.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Causality {
    /// `self` happened before `other` (`self < other`).
    Before,
    /// `self` happened after `other` (`self > other`).
    After,
    /// Both clocks are equal (the same event, or the same causal history).
    Equal,
    /// Neither happened before the other.
    Concurrent,
}

/// A vector clock (Fidge 1988, Mattern 1989): `Vec<u64>` indexed by process id.
///
/// Clocks of different lengths compare as if the shorter one were padded with zeros, so a
/// process that joins later can be given a longer vector; [`PartialEq`] follows the same
/// rule (`[1, 0] == [1]`), which keeps it consistent with [`PartialOrd`].
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct VectorClock {
    /// `entries[i]`: number of events of process `i` in this clock's causal past.
    entries: Vec<u64>,
}

impl VectorClock {
    /// A zero clock for `n` processes (ids `0..n`).
    pub fn new(n: usize) -> Self {
        VectorClock {
            entries: vec![0; n],
        }
    }

    /// Builds a clock from explicit entries (entry `i` for process `i`).
    pub fn from_entries(entries: Vec<u64>) -> Self {
        VectorClock { entries }
    }

    /// The entries, indexed by process id.
    pub fn as_slice(&self) -> &[u64] {
        &self.entries
    }

    /// Entry of process `id` (0 beyond the vector's length).
    pub fn get(&self, id: usize) -> u64 {
        self.entries.get(id).copied().unwrap_or(0)
    }

    /// Number of entries held (process ids `0..len`).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when the clock holds no entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// A local or send event of process `me`: increments entry `me`.
    ///
    /// # Panics
    ///
    /// If `me >= len()` (a process id the clock was not built for), or on `u64` overflow.
    pub fn tick(&mut self, me: usize) {
        assert!(
            me < self.entries.len(),
            "VectorClock::tick: process id {me} outside a clock of {} processes",
            self.entries.len()
        );
        self.entries[me] = self.entries[me]
            .checked_add(1)
            .expect("VectorClock entry overflowed u64");
    }

    /// Pointwise maximum with `other` (the least upper bound). A shorter clock is padded
    /// with zeros first, so the result has the longer length.
    pub fn merge(&mut self, other: &VectorClock) {
        if other.entries.len() > self.entries.len() {
            self.entries.resize(other.entries.len(), 0);
        }
        for (mine, theirs) in self.entries.iter_mut().zip(&other.entries) {
            *mine = (*mine).max(*theirs);
        }
    }

    /// A receive event of process `me` for a message stamped `remote`: merge, then tick.
    ///
    /// # Panics
    ///
    /// As [`VectorClock::tick`].
    pub fn on_receive(&mut self, me: usize, remote: &VectorClock) {
        self.merge(remote);
        self.tick(me);
        debug_assert_eq!(
            self.compare(remote),
            Causality::After,
            "receive must follow send"
        );
    }

    /// The causal relation between the events stamped `self` and `other`.
    pub fn compare(&self, other: &VectorClock) -> Causality {
        let common = self.entries.len().min(other.entries.len());
        let (mine, theirs) = (&self.entries[..common], &other.entries[..common]);
        // Branch-free over the common entries, so the loop vectorizes (the checker
        // compares two clocks per message); a shorter clock's missing entries are 0.
        let (mut some_less, mut some_greater) = (false, false);
        for (a, b) in mine.iter().zip(theirs) {
            some_less |= a < b;
            some_greater |= a > b;
        }
        some_greater |= self.entries[common..].iter().any(|&entry| entry > 0);
        some_less |= other.entries[common..].iter().any(|&entry| entry > 0);
        match (some_less, some_greater) {
            (false, false) => Causality::Equal,
            (true, false) => Causality::Before,
            (false, true) => Causality::After,
            (true, true) => Causality::Concurrent,
        }
    }
}

impl PartialEq for VectorClock {
    fn eq(&self, other: &Self) -> bool {
        self.compare(other) == Causality::Equal
    }
}

impl Eq for VectorClock {}

impl PartialOrd for VectorClock {
    /// The happens-before partial order: `None` for concurrent clocks.
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        match self.compare(other) {
            Causality::Before => Some(Ordering::Less),
            Causality::After => Some(Ordering::Greater),
            Causality::Equal => Some(Ordering::Equal),
            Causality::Concurrent => None,
        }
    }
}

/// A hybrid logical clock timestamp `(l, c)` (Kulkarni et al. 2014), ordered
/// lexicographically: first `l_ns`, then `c` (the derive's field order is load-bearing).
///
/// 16 bytes, `Copy`; the engine stamps every message with one.
#[derive(
    Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Default, Serialize, Deserialize,
)]
pub struct HlcTimestamp {
    /// `l`: the largest physical time (nanoseconds since the shared origin) this process
    /// has heard of.
    pub l_ns: u64,
    /// `c`: logical counter that orders events sharing the same `l`.
    pub c: u32,
}

impl HlcTimestamp {
    /// A timestamp from its parts.
    pub const fn new(l_ns: u64, c: u32) -> Self {
        HlcTimestamp { l_ns, c }
    }

    /// `l` as a [`Duration`] since the origin.
    pub const fn l(&self) -> Duration {
        Duration::from_nanos(self.l_ns)
    }
}

impl fmt::Display for HlcTimestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.l_ns, self.c)
    }
}

/// Why [`Hlc::receive`] refused a remote timestamp.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum HlcError {
    /// The remote `l` is further ahead of local physical time than the configured
    /// maximum offset: accepting it would drag this clock (and, transitively, everyone
    /// it talks to) far into the future.
    RemoteTooFarAhead {
        /// `remote.l - pt`: how far ahead of local physical time the remote clock is.
        ahead_by: Duration,
        /// The configured maximum offset it exceeded.
        max_offset: Duration,
    },
}

impl HlcError {
    /// By how much the remote timestamp exceeded the allowed offset
    /// (`ahead_by - max_offset`, always positive).
    pub fn excess(&self) -> Duration {
        match *self {
            HlcError::RemoteTooFarAhead {
                ahead_by,
                max_offset,
            } => ahead_by - max_offset,
        }
    }
}

impl fmt::Display for HlcError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HlcError::RemoteTooFarAhead {
                ahead_by,
                max_offset,
            } => write!(
                f,
                "remote HLC timestamp is {ahead_by:?} ahead of local physical time, \
                 more than the maximum offset {max_offset:?} (by {:?})",
                self.excess()
            ),
        }
    }
}

impl std::error::Error for HlcError {}

/// Sentinel for "no maximum offset" in [`Hlc::max_offset_ns`]; keeps [`Hlc`] at 24 bytes
/// instead of carrying an `Option<Duration>` (16 bytes) beside the timestamp.
const NO_MAX_OFFSET: u64 = u64::MAX;

/// A hybrid logical clock (Kulkarni et al., "Logical Physical Clocks", OPODIS 2014).
///
/// Combines the local physical clock `pt` with a logical counter so timestamps stay close
/// to physical time (`pt <= l <= pt + epsilon`) while still respecting causality like a
/// Lamport clock. 24 bytes, `Copy`, and no method allocates: the engine keeps one per
/// client and stamps every message.
///
/// # Counter overflow
///
/// `c` is a `u32`. The paper bounds it by `N * (epsilon + 1)`; in practice it only grows
/// while `pt` stands still relative to `l`. If it would still overflow (more than 2^32
/// events inside one nanosecond of `l`, or a peer that sends `c = u32::MAX`), the clock
/// carries into `l`: `l += 1 ns, c = 0`. Saturating instead would stop `(l, c)` from
/// increasing and break the happens-before guarantee; panicking would let one peer crash
/// every node it talks to. The carry keeps strict monotonicity and causality and costs at
/// most 1 ns of extra `l - pt` per 2^32 events.
///
/// # Panics
///
/// Only if `l` would pass `u64::MAX` nanoseconds (the year 2554 after the origin), which
/// requires a peer stamp near `u64::MAX` and no `max_offset` guard.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Hlc {
    /// The timestamp of the last event at this process.
    last: HlcTimestamp,
    /// Largest accepted `remote.l - pt`, in ns; [`NO_MAX_OFFSET`] when unguarded.
    max_offset_ns: u64,
}

/// A [`Duration`] as whole nanoseconds, saturating at `u64::MAX` (584 years).
fn duration_to_ns(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

impl Hlc {
    /// A clock at `(0, 0)`. With `max_offset = Some(d)`, [`Hlc::receive`] refuses any
    /// remote timestamp whose `l` is more than `d` ahead of local physical time (the
    /// guard CockroachDB calls `--max-offset`); `None` accepts everything.
    pub fn new(max_offset: Option<Duration>) -> Self {
        let max_offset_ns = max_offset.map_or(NO_MAX_OFFSET, |d| {
            // u64::MAX itself is the sentinel, and 584 years of offset is no guard anyway.
            duration_to_ns(d).min(NO_MAX_OFFSET - 1)
        });
        Hlc {
            last: HlcTimestamp::default(),
            max_offset_ns,
        }
    }

    /// A clock resuming from `last`, the timestamp of the last event a process made
    /// durable before it crashed (so its next event is stamped after it); the guard as
    /// in [`Hlc::new`].
    pub fn resume(last: HlcTimestamp, max_offset: Option<Duration>) -> Self {
        Hlc {
            last,
            ..Hlc::new(max_offset)
        }
    }

    /// The configured maximum offset, if any.
    pub fn max_offset(&self) -> Option<Duration> {
        (self.max_offset_ns != NO_MAX_OFFSET).then(|| Duration::from_nanos(self.max_offset_ns))
    }

    /// The timestamp of the last event, without creating an event.
    pub fn now(&self) -> HlcTimestamp {
        self.last
    }

    /// A send or local event at physical time `pt` (Kulkarni et al. 2014, Fig. 5):
    /// `l' = l; l = max(l', pt); c = (l == l') ? c + 1 : 0`. Returns the event's
    /// timestamp (stamp outgoing messages with it).
    pub fn send(&mut self, pt: Duration) -> HlcTimestamp {
        let pt_ns = duration_to_ns(pt);
        let before = self.last;
        let l = before.l_ns.max(pt_ns);
        self.last = if l == before.l_ns {
            Self::bump(before)
        } else {
            HlcTimestamp::new(l, 0)
        };
        self.check_after_event(before, pt_ns);
        self.last
    }

    /// A receive event for a message stamped `remote`, at local physical time `pt`
    /// (Kulkarni et al. 2014, Fig. 5): `l' = l; l = max(l', l_m, pt)`;
    /// `c = max(c, c_m) + 1` if `l == l' == l_m`, `c + 1` if `l == l'`, `c_m + 1` if
    /// `l == l_m`, else 0. Returns the event's timestamp.
    ///
    /// # Errors
    ///
    /// [`HlcError::RemoteTooFarAhead`] when a maximum offset is configured and
    /// `remote.l - pt > max_offset`; the clock is then left unchanged (the message should
    /// be dropped or the peer flagged). A remote exactly `max_offset` ahead is accepted.
    pub fn receive(
        &mut self,
        remote: HlcTimestamp,
        pt: Duration,
    ) -> Result<HlcTimestamp, HlcError> {
        let pt_ns = duration_to_ns(pt);
        let ahead_by_ns = remote.l_ns.saturating_sub(pt_ns);
        if self.max_offset_ns != NO_MAX_OFFSET && ahead_by_ns > self.max_offset_ns {
            return Err(HlcError::RemoteTooFarAhead {
                ahead_by: Duration::from_nanos(ahead_by_ns),
                max_offset: Duration::from_nanos(self.max_offset_ns),
            });
        }
        let before = self.last;
        let l = before.l_ns.max(remote.l_ns).max(pt_ns);
        self.last = match (l == before.l_ns, l == remote.l_ns) {
            (true, true) => Self::bump(before.max(HlcTimestamp::new(l, remote.c))),
            (true, false) => Self::bump(before),
            (false, true) => Self::bump(remote),
            (false, false) => HlcTimestamp::new(l, 0),
        };
        self.check_after_event(before, pt_ns);
        debug_assert!(self.last > remote, "HLC receive must follow the send");
        Ok(self.last)
    }

    /// `(l, c + 1)`, carrying into `l` when `c` would overflow (see the type docs).
    fn bump(t: HlcTimestamp) -> HlcTimestamp {
        match t.c.checked_add(1) {
            Some(c) => HlcTimestamp::new(t.l_ns, c),
            None => HlcTimestamp::new(
                t.l_ns
                    .checked_add(1)
                    .expect("HLC l overflowed u64 nanoseconds; set a max_offset guard"),
                0,
            ),
        }
    }

    /// The per-event invariants: strictly increasing, and never behind physical time.
    fn check_after_event(&self, before: HlcTimestamp, pt_ns: u64) {
        debug_assert!(
            self.last > before,
            "HLC must strictly increase on every event"
        );
        debug_assert!(self.last.l_ns >= pt_ns, "HLC l must never fall behind pt");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_resumed_hlc_stamps_after_its_last_durable_event() {
        let last = HlcTimestamp::new(5_000, 3);
        let mut hlc = Hlc::resume(last, None);
        assert_eq!(hlc.now(), last);
        // Physical time behind the persisted l: the counter moves on.
        assert_eq!(
            hlc.send(Duration::from_nanos(1_000)),
            HlcTimestamp::new(5_000, 4)
        );
        // Physical time ahead: l follows it.
        assert_eq!(
            hlc.send(Duration::from_nanos(9_000)),
            HlcTimestamp::new(9_000, 0)
        );
    }
    use proptest::prelude::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    // ---------- Lamport / vector clock unit tests ----------

    #[test]
    fn lamport_tick_and_receive() {
        let mut a = Lamport::new();
        assert_eq!(a.tick(), 1);
        assert_eq!(a.tick(), 2);
        assert_eq!(a.on_receive(10), 11);
        assert_eq!(a.on_receive(3), 12);
        assert_eq!(a.now(), 12);
    }

    #[test]
    fn vector_clock_basic_relations() {
        let a = VectorClock::from_entries(vec![1, 0, 0]);
        let b = VectorClock::from_entries(vec![1, 1, 0]);
        let c = VectorClock::from_entries(vec![0, 0, 1]);
        assert_eq!(a.compare(&b), Causality::Before);
        assert_eq!(b.compare(&a), Causality::After);
        assert_eq!(a.compare(&c), Causality::Concurrent);
        assert_eq!(a.compare(&a.clone()), Causality::Equal);
        assert!(a < b);
        assert_eq!(a.partial_cmp(&c), None);
        // Zero padding: a shorter clock equals a longer one with trailing zeros.
        assert_eq!(VectorClock::from_entries(vec![1]), a);
        let mut m = a.clone();
        m.merge(&VectorClock::from_entries(vec![0, 0, 0, 4]));
        assert_eq!(m.as_slice(), &[1, 0, 0, 4]);
    }

    #[test]
    #[should_panic(expected = "outside a clock of 2 processes")]
    fn vector_clock_tick_out_of_range_panics() {
        VectorClock::new(2).tick(2);
    }

    // ---------- HLC unit tests: the paper's rules worked by hand ----------

    const fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn hlc_send_rules() {
        let mut h = Hlc::new(None);
        // pt ahead of l: l jumps to pt, c resets.
        assert_eq!(h.send(ms(10)), HlcTimestamp::new(10_000_000, 0));
        // pt stalls (or goes back): l stays, c counts.
        assert_eq!(h.send(ms(10)), HlcTimestamp::new(10_000_000, 1));
        assert_eq!(h.send(ms(5)), HlcTimestamp::new(10_000_000, 2));
        assert_eq!(h.send(ms(11)), HlcTimestamp::new(11_000_000, 0));
    }

    #[test]
    fn hlc_receive_rules() {
        // l == l' == l_m: max(c, c_m) + 1.
        let mut h = Hlc::new(None);
        h.send(ms(10));
        h.send(ms(10)); // (10ms, 1)
        let t = h.receive(HlcTimestamp::new(10_000_000, 5), ms(3)).unwrap();
        assert_eq!(t, HlcTimestamp::new(10_000_000, 6));
        // l == l' only: c + 1.
        let t = h.receive(HlcTimestamp::new(2_000_000, 50), ms(4)).unwrap();
        assert_eq!(t, HlcTimestamp::new(10_000_000, 7));
        // l == l_m only: c_m + 1.
        let t = h.receive(HlcTimestamp::new(20_000_000, 3), ms(4)).unwrap();
        assert_eq!(t, HlcTimestamp::new(20_000_000, 4));
        // pt wins: c = 0.
        let t = h.receive(HlcTimestamp::new(21_000_000, 9), ms(30)).unwrap();
        assert_eq!(t, HlcTimestamp::new(30_000_000, 0));
    }

    #[test]
    fn hlc_counter_overflow_carries_into_l() {
        let mut h = Hlc::new(None);
        let t = h
            .receive(HlcTimestamp::new(7, u32::MAX), Duration::ZERO)
            .unwrap();
        assert_eq!(t, HlcTimestamp::new(8, 0));
        assert!(t > HlcTimestamp::new(7, u32::MAX));
    }

    #[test]
    fn hlc_is_small() {
        assert_eq!(core::mem::size_of::<HlcTimestamp>(), 16);
        assert!(core::mem::size_of::<Hlc>() <= 24);
    }

    #[test]
    fn hlc_error_reports_the_excess() {
        let mut h = Hlc::new(Some(ms(250)));
        let before = h.send(ms(1_000));
        let err = h
            .receive(HlcTimestamp::new(1_300_000_000, 0), ms(1_000))
            .unwrap_err();
        assert_eq!(
            err,
            HlcError::RemoteTooFarAhead {
                ahead_by: ms(300),
                max_offset: ms(250)
            }
        );
        assert_eq!(err.excess(), ms(50));
        assert_eq!(h.now(), before);
        assert!(err.to_string().contains("50ms"));
    }

    // ---------- vector clock laws ----------

    fn vc_strategy() -> impl Strategy<Value = VectorClock> {
        // Small entries so equal and comparable pairs are common, not only concurrent.
        prop::collection::vec(0u64..4, 0..5).prop_map(VectorClock::from_entries)
    }

    /// Pointwise `<=` written independently of `compare`.
    fn leq(a: &VectorClock, b: &VectorClock) -> bool {
        let n = a.len().max(b.len());
        (0..n).all(|i| a.get(i) <= b.get(i))
    }

    fn merged(a: &VectorClock, b: &VectorClock) -> VectorClock {
        let mut m = a.clone();
        m.merge(b);
        m
    }

    proptest! {
        #[test]
        fn vc_order_matches_pointwise_definition(a in vc_strategy(), b in vc_strategy()) {
            let expected = match (leq(&a, &b), leq(&b, &a)) {
                (true, true) => Causality::Equal,
                (true, false) => Causality::Before,
                (false, true) => Causality::After,
                (false, false) => Causality::Concurrent,
            };
            prop_assert_eq!(a.compare(&b), expected);
        }

        #[test]
        fn vc_antisymmetry(a in vc_strategy(), b in vc_strategy()) {
            if a <= b && b <= a {
                prop_assert!(a == b);
                prop_assert_eq!(a.compare(&b), Causality::Equal);
            }
            // compare is the mirror image of itself.
            let mirrored = match a.compare(&b) {
                Causality::Before => Causality::After,
                Causality::After => Causality::Before,
                other => other,
            };
            prop_assert_eq!(b.compare(&a), mirrored);
        }

        #[test]
        fn vc_transitivity(a in vc_strategy(), b in vc_strategy(), c in vc_strategy()) {
            // Build a chain so the premise holds often: b' = a ∨ b, c' = b' ∨ c.
            let b2 = merged(&a, &b);
            let c2 = merged(&b2, &c);
            prop_assert!(a <= b2 && b2 <= c2);
            prop_assert!(a <= c2);
            if a < b2 && b2 <= c2 {
                prop_assert!(a < c2);
            }
            // And on raw draws.
            if a <= b && b <= c {
                prop_assert!(a <= c);
            }
        }

        #[test]
        fn vc_merge_laws(a in vc_strategy(), b in vc_strategy(), c in vc_strategy()) {
            // Commutative, associative, idempotent.
            prop_assert_eq!(merged(&a, &b), merged(&b, &a));
            prop_assert_eq!(merged(&merged(&a, &b), &c), merged(&a, &merged(&b, &c)));
            prop_assert_eq!(merged(&a, &a), a.clone());
            // Least upper bound: an upper bound, and below every other upper bound.
            let m = merged(&a, &b);
            prop_assert!(a <= m && b <= m);
            if a <= c && b <= c {
                prop_assert!(m <= c);
            }
            // Pointwise max, checked entry by entry.
            for i in 0..a.len().max(b.len()) {
                prop_assert_eq!(m.get(i), a.get(i).max(b.get(i)));
            }
        }
    }

    // ---------- clocks against a random happens-before graph ----------

    #[derive(Clone, Copy, Debug)]
    enum Kind {
        Local,
        Send { msg: usize },
        Receive { msg: usize },
    }

    #[derive(Clone, Copy, Debug)]
    struct Event {
        process: usize,
        kind: Kind,
        /// True time of the event, in ns (used by the HLC test only).
        at_ns: u64,
    }

    /// A random execution among `n` processes: local events, sends, and receives of
    /// in-flight messages in random (non-FIFO) order. Events are listed in true-time
    /// order; a receive always comes after its send. The true time between consecutive
    /// events is drawn from 1 µs..=`max_gap_ns`.
    fn random_execution(
        rng: &mut ChaCha8Rng,
        n: usize,
        steps: usize,
        max_gap_ns: u64,
    ) -> Vec<Event> {
        let mut events = Vec::with_capacity(steps);
        // In flight: (msg id, destination).
        let mut in_flight: Vec<(usize, usize)> = Vec::new();
        let mut next_msg = 0;
        let mut now_ns = 0u64;
        for _ in 0..steps {
            now_ns += rng.gen_range(1_000..=max_gap_ns.max(1_000));
            let roll = rng.gen_range(0..3);
            let event = if roll == 0 && !in_flight.is_empty() {
                let (msg, to) = in_flight.swap_remove(rng.gen_range(0..in_flight.len()));
                Event {
                    process: to,
                    kind: Kind::Receive { msg },
                    at_ns: now_ns,
                }
            } else if roll == 1 && n > 1 {
                let from = rng.gen_range(0..n);
                let mut to = rng.gen_range(0..n - 1);
                if to >= from {
                    to += 1;
                }
                in_flight.push((next_msg, to));
                next_msg += 1;
                Event {
                    process: from,
                    kind: Kind::Send { msg: next_msg - 1 },
                    at_ns: now_ns,
                }
            } else {
                Event {
                    process: rng.gen_range(0..n),
                    kind: Kind::Local,
                    at_ns: now_ns,
                }
            };
            events.push(event);
        }
        events
    }

    /// `hb[f][e]` is true iff `e -> f` (strictly), by reachability over program-order and
    /// message edges. Events are in a topological order, so one forward pass suffices.
    fn happens_before(events: &[Event]) -> Vec<Vec<bool>> {
        let m = events.len();
        let mut hb = vec![vec![false; m]; m];
        let mut last_of_process: Vec<Option<usize>> = Vec::new();
        let mut send_of_msg: Vec<Option<usize>> = Vec::new();
        for (f, ev) in events.iter().enumerate() {
            let mut direct = Vec::new();
            if ev.process >= last_of_process.len() {
                last_of_process.resize(ev.process + 1, None);
            }
            if let Some(prev) = last_of_process[ev.process] {
                direct.push(prev);
            }
            match ev.kind {
                Kind::Send { msg } => {
                    if msg >= send_of_msg.len() {
                        send_of_msg.resize(msg + 1, None);
                    }
                    send_of_msg[msg] = Some(f);
                }
                Kind::Receive { msg } => direct.push(send_of_msg[msg].expect("send first")),
                Kind::Local => {}
            }
            // d < f, so row d is final: f inherits d and all of d's predecessors.
            let (earlier, rest) = hb.split_at_mut(f);
            for d in direct {
                rest[0][d] = true;
                for (mine, &theirs) in rest[0].iter_mut().zip(&earlier[d]) {
                    *mine |= theirs;
                }
            }
            last_of_process[ev.process] = Some(f);
        }
        hb
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]

        #[test]
        fn lamport_and_vector_clocks_track_happens_before(
            seed in any::<u64>(), n in 1usize..6, steps in 1usize..60,
        ) {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            let events = random_execution(&mut rng, n, steps, 1_000);
            let hb = happens_before(&events);

            let mut lamport = vec![Lamport::new(); n];
            let mut vcs = vec![VectorClock::new(n); n];
            let mut msg_lamport = Vec::new();
            let mut msg_vc: Vec<VectorClock> = Vec::new();
            let mut stamp_l = Vec::new();
            let mut stamp_vc = Vec::new();
            for ev in &events {
                let p = ev.process;
                let l = match ev.kind {
                    Kind::Local => { vcs[p].tick(p); lamport[p].tick() }
                    Kind::Send { msg } => {
                        vcs[p].tick(p);
                        let l = lamport[p].tick();
                        prop_assert_eq!(msg, msg_lamport.len());
                        msg_lamport.push(l);
                        msg_vc.push(vcs[p].clone());
                        l
                    }
                    Kind::Receive { msg } => {
                        vcs[p].on_receive(p, &msg_vc[msg]);
                        lamport[p].on_receive(msg_lamport[msg])
                    }
                };
                stamp_l.push(l);
                stamp_vc.push(vcs[p].clone());
            }

            for f in 0..events.len() {
                // VC(f)[i] counts the events of i up to f.
                for i in 0..n {
                    let count = (0..events.len())
                        .filter(|&e| events[e].process == i && (e == f || hb[f][e]))
                        .count() as u64;
                    prop_assert_eq!(stamp_vc[f].get(i), count);
                }
                for e in 0..events.len() {
                    if e == f { continue; }
                    let e_before_f = hb[f][e];
                    prop_assert_eq!(
                        stamp_vc[e] < stamp_vc[f], e_before_f, "VC vs hb, e={} f={}", e, f
                    );
                    prop_assert_ne!(stamp_vc[e].compare(&stamp_vc[f]), Causality::Equal);
                    if e_before_f {
                        prop_assert!(stamp_l[e] < stamp_l[f]);
                    }
                    if !e_before_f && !hb[e][f] {
                        prop_assert_eq!(stamp_vc[e].compare(&stamp_vc[f]), Causality::Concurrent);
                    }
                }
            }
        }

        #[test]
        fn hlc_under_skew_and_drift(
            seed in any::<u64>(), n in 1usize..6, steps in 1usize..80,
            max_skew_us in 0u64..5_000, max_drift_ppm in 0i64..500, max_gap_us in 1u64..3_000,
        ) {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            // Physical clock of process i: pt_i(t) = t + skew_i + drift_i * t, with
            // 0 <= skew_i <= max_skew and |drift_i| <= max_drift. Monotone in t because
            // the drift is far above -1.
            let skews_ns: Vec<u64> =
                (0..n).map(|_| rng.gen_range(0..=max_skew_us * 1_000)).collect();
            let drifts_ppm: Vec<i64> =
                (0..n).map(|_| rng.gen_range(-max_drift_ppm..=max_drift_ppm)).collect();
            let pt_ns = |i: usize, t_ns: u64| -> u64 {
                let drift = i128::from(t_ns) * i128::from(drifts_ppm[i]);
                (i128::from(t_ns) + i128::from(skews_ns[i]) + drift.div_euclid(1_000_000)) as u64
            };
            let events = random_execution(&mut rng, n, steps, max_gap_us * 1_000);
            let hb = happens_before(&events);

            // epsilon: the largest difference between any two physical clocks at any event
            // time (events are where the clocks are read).
            let mut epsilon_ns = 0u64;
            for ev in &events {
                let readings: Vec<u64> = (0..n).map(|i| pt_ns(i, ev.at_ns)).collect();
                let spread = readings.iter().max().unwrap() - readings.iter().min().unwrap();
                epsilon_ns = epsilon_ns.max(spread);
            }

            let mut clocks = vec![Hlc::new(None); n];
            let mut last_stamp: Vec<Option<HlcTimestamp>> = vec![None; n];
            let mut msg_stamp = Vec::new();
            let mut stamps = Vec::new();
            for ev in &events {
                let p = ev.process;
                let pt = pt_ns(p, ev.at_ns);
                let pt_d = Duration::from_nanos(pt);
                let t = match ev.kind {
                    Kind::Local => clocks[p].send(pt_d),
                    Kind::Send { .. } => { let t = clocks[p].send(pt_d); msg_stamp.push(t); t }
                    Kind::Receive { msg } => clocks[p].receive(msg_stamp[msg], pt_d).unwrap(),
                };
                // Monotonic per process.
                if let Some(prev) = last_stamp[p] { prop_assert!(t > prev); }
                last_stamp[p] = Some(t);
                prop_assert_eq!(clocks[p].now(), t);
                // l >= pt and l - pt <= epsilon.
                prop_assert!(t.l_ns >= pt, "l={} pt={}", t.l_ns, pt);
                prop_assert!(t.l_ns - pt <= epsilon_ns, "l-pt={} eps={}", t.l_ns - pt, epsilon_ns);
                // c bounded: the paper's N * (epsilon + 1), in ns ticks.
                prop_assert!(u64::from(t.c) <= n as u64 * (epsilon_ns + 1));
                stamps.push(t);
            }
            for f in 0..events.len() {
                // Tighter bound: c(f) <= number of causal predecessors sharing f's l.
                let same_l = (0..f)
                    .filter(|&e| hb[f][e] && stamps[e].l_ns == stamps[f].l_ns)
                    .count();
                prop_assert!(stamps[f].c as usize <= same_l);
                for e in 0..f {
                    if hb[f][e] { prop_assert!(stamps[e] < stamps[f]); }
                }
            }
        }

        #[test]
        fn hlc_max_offset_guard_refuses_exactly_too_far(
            remote_l_ns in 0u64..10_000, remote_c in any::<u32>(), pt_ns in 0u64..10_000,
            max_offset_ns in 0u64..5_000, warmup_ns in 0u64..10_000,
        ) {
            let mut h = Hlc::new(Some(Duration::from_nanos(max_offset_ns)));
            h.send(Duration::from_nanos(warmup_ns));
            let before = h.now();
            let remote = HlcTimestamp::new(remote_l_ns, remote_c);
            let result = h.receive(remote, Duration::from_nanos(pt_ns));
            let too_far = remote_l_ns > pt_ns + max_offset_ns;
            match result {
                Err(HlcError::RemoteTooFarAhead { ahead_by, max_offset }) => {
                    prop_assert!(too_far);
                    prop_assert_eq!(ahead_by, Duration::from_nanos(remote_l_ns - pt_ns));
                    prop_assert_eq!(max_offset, Duration::from_nanos(max_offset_ns));
                    prop_assert_eq!(h.now(), before);
                }
                Ok(t) => {
                    prop_assert!(!too_far);
                    prop_assert!(t > before && t > remote);
                }
            }
        }
    }
}
