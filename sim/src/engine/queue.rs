//! The event queue: Faultline's own clock, exact to the nanosecond.
//!
//! madsim's timers have a 1 ms floor and cannot be cancelled, so message delivery,
//! service and backoff are scheduled here instead. Ties are broken by insertion order,
//! which makes the order of simultaneous events a function of the seed alone.
//!
//! # The structure: a radix heap with FIFO buckets and a sorted run
//!
//! Simulated time never goes backwards (no event is scheduled before the last one
//! popped), so the queue is a *monotone* priority queue, and a radix heap (Ahuja,
//! Mehlhorn, Orlin and Tarjan 1990) fits, here with 8-bit digits: relative to `last`, a
//! time no pending event precedes, an event at `t` belongs to level `L`, the highest
//! 8-bit digit in which `t` and `last` differ, and within the level to bucket `d`, `t`'s
//! digit there. Every event of a lower (level, digit) bucket is earlier than every event
//! of a higher one.
//!
//! The earliest events sit apart in the *run*, sorted, and are popped front to back.
//! When the run is used up, the lowest non-empty bucket is taken and its earliest time
//! becomes `last`. A bucket of at most [`RUN_MAX`] events is sorted and becomes the run;
//! a larger one is moved down into lower buckets, its events at exactly `last` forming
//! the run (each event moves a few times at most; the moves are sequential appends).
//! A push appends to one bucket (O(1)), or, when due no later than the run's last
//! event, is inserted into the run (rare when the run spans microseconds and most
//! delays are milliseconds, hence a small [`RUN_MAX`]). That is several times faster than a binary heap, whose every pop
//! walks `log2(n)` scattered cache lines; and sorting the small buckets saves the last
//! split, which would spread a few dozen events over 256 buckets of one event each.
//!
//! Insertion order among equal times holds without a sequence number: every bucket is
//! kept in insertion order. A push appends an event newer than all others; a
//! redistribution empties one bucket into buckets that are all empty at that moment
//! (they are lower than the lowest non-empty one), preserving its order; the sort is
//! stable; and a push into the run goes after every event of its time. The unit test
//! `matches_a_binary_heap_on_time_then_insertion_order` checks this against a binary
//! heap on (time, sequence).
//!
//! # Entries of 16 bytes
//!
//! Buckets hold `(time, index)` pairs; the events themselves sit in a slab (`payloads`)
//! from push to pop and never move. A redistribution then copies 16 bytes per event
//! rather than the whole event, and the bucket buffers, written at scattered places,
//! take a third of the cache lines. Freed slab slots are reused last-in first-out and
//! low ones first ([`Slots`]), so the slab's hot end stays in cache.
//!
//! # Measured and not kept
//!
//! Each against this structure in interleaved runs of the 10k-client rpc bench and the
//! 100k-client herd: digits of 6, 7 or 9 bits (all slower than 8); an unstable sort of a
//! small bucket on (time, position) (slower than the stable sort); a hand-written
//! insertion sort (no difference); `RUN_MAX` of 8 (as 16) or 64 and up (slower for the
//! bank); the single-entry bucket pop inlined into `pop` (fewer instructions, no gain in
//! wall time: a larger loop); event entries aligned to 64 bytes (slower).

use super::slots::Slots;

/// Simulated time in nanoseconds since the start of the run.
pub type Nanos = u64;

/// Bits per digit.
const DIGIT_BITS: u32 = 8;
/// Buckets per level.
const DIGITS: usize = 1 << DIGIT_BITS;
/// Levels: digits in a 64-bit time.
const LEVELS: usize = 64_usize.div_ceil(DIGIT_BITS as usize);
/// Buckets in all.
const BUCKETS: usize = LEVELS * DIGITS;
/// Words of the occupancy bit set (one bit per bucket).
const WORDS: usize = BUCKETS.div_ceil(64);
/// Bucket buffers up to this many entries are kept for reuse after being emptied.
const KEEP_CAPACITY: usize = 1 << 12;
const _: () = assert!(WORDS <= 64, "the word summary is one u64");
/// Buckets up to this many events are handed to the `touch` of
/// [`EventQueue::pop_touching`] when split or sorted into the run: their events come
/// next, and what their handlers read (a few cache lines each) still fits in a core's
/// L2 cache.
pub const TOUCH_LIMIT: usize = 1024;
/// Buckets up to this many events are sorted into the run rather than split. Small:
/// a sparse workload's run spans milliseconds (the bank's 16 accounts have about 60 µs
/// between events), so a run of 64 took most of its deliveries as inserts, each
/// shifting the run's tail; 16 made the bank bench 0.974 of its time and left rpc's
/// as it was (8 pairs each).
pub const RUN_MAX: usize = 16;
/// Buckets up to this many events have their events loaded when split or sorted (see
/// `refill`); past it the events would leave the cache again before their turn.
const LOAD_LIMIT: usize = 8192;

/// A bucket entry: an event's time and its slot in the payload slab.
type Entry = (Nanos, u32);

/// A priority queue of events ordered by (time, insertion order).
#[derive(Debug)]
pub struct EventQueue<E> {
    /// The run: the earliest pending events, sorted by (time, insertion order), all
    /// earlier than every bucketed event; consumed from `head`. Entries before `head`
    /// are spent and stay until the next refill.
    run: Vec<Entry>,
    /// Next unread index of `run`.
    head: usize,
    /// `buckets[level * DIGITS + digit]`, each in insertion order.
    buckets: Vec<Vec<Entry>>,
    /// The pending events, by slot; a slot is free from its pop to the next push.
    payloads: Vec<E>,
    /// Free slots of `payloads` (see [`Slots`]).
    slots: Slots,
    /// The earliest time in each bucket (`Nanos::MAX` when empty), kept on insert so
    /// that neither [`peek_time`](Self::peek_time) nor a refill scans a bucket for it.
    mins: Vec<Nanos>,
    /// Bit `i % 64` of word `i / 64` set when bucket `i` is non-empty.
    occupied: [u64; WORDS],
    /// Bit `w` set when word `w` of `occupied` is non-zero.
    summary: u64,
    /// The radix heap's reference time: the earliest time when the run was formed; no
    /// event pending or to come is earlier.
    last: Nanos,
    /// The time of the last event popped.
    popped_ns: Nanos,
    len: usize,
    limit: usize,
}

/// The queue refused an event because it holds its limit already.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QueueFull {
    /// The limit that was reached.
    pub limit: usize,
}

/// (level, digit) of `at_ns` relative to `last`; `at_ns > last`.
#[inline(always)]
fn slot_of(at_ns: Nanos, last: Nanos) -> (usize, usize) {
    let high_bit = 63 - (at_ns ^ last).leading_zeros();
    let level = high_bit / DIGIT_BITS;
    let digit = (at_ns >> (level * DIGIT_BITS)) as usize & (DIGITS - 1);
    (level as usize, digit)
}

impl<E: Copy> EventQueue<E> {
    /// An empty queue holding at most `limit` pending events.
    pub fn new(limit: usize) -> Self {
        EventQueue {
            run: Vec::new(),
            head: 0,
            payloads: Vec::new(),
            slots: Slots::new(),
            buckets: (0..BUCKETS).map(|_| Vec::new()).collect(),
            mins: vec![Nanos::MAX; BUCKETS],
            occupied: [0; WORDS],
            summary: 0,
            last: 0,
            popped_ns: 0,
            len: 0,
            limit,
        }
    }

    /// The time of the last event popped.
    pub fn now_ns(&self) -> Nanos {
        self.popped_ns
    }

    /// The most pending events it holds.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// Pending events.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether nothing is pending.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Bytes of one queued event (for the memory benchmark): its bucket entry and its
    /// payload.
    pub const fn entry_bytes() -> usize {
        std::mem::size_of::<Entry>() + std::mem::size_of::<E>()
    }

    /// Stores `event` in a free slot of the slab.
    #[inline(always)]
    fn store(&mut self, event: E) -> u32 {
        let (slot, new) = self
            .slots
            .take()
            .expect("fewer than 2^32 pending events (the engine's limit is far lower)");
        if new {
            self.payloads.push(event);
        } else {
            self.payloads[slot as usize] = event;
        }
        slot
    }

    /// Takes the event of a popped entry out of the slab.
    #[inline(always)]
    fn take(&mut self, (at_ns, slot): Entry) -> (Nanos, E) {
        self.slots.free(slot);
        (at_ns, self.payloads[slot as usize])
    }

    /// Schedules `event` at `at_ns`, which must not be in the past.
    #[inline(always)]
    pub fn push(&mut self, at_ns: Nanos, event: E) -> Result<(), QueueFull> {
        debug_assert!(
            at_ns >= self.popped_ns,
            "event scheduled in the past: {at_ns} < {}",
            self.popped_ns
        );
        if self.len >= self.limit {
            return Err(QueueFull { limit: self.limit });
        }
        self.len += 1;
        let slot = self.store(event);
        // (Before `popped_ns`, after a bug the debug assertion catches: clamped.)
        let at_ns = at_ns.max(self.popped_ns);
        let run_end_ns = self.run.last().map_or(self.last, |&(end_ns, _)| end_ns);
        if at_ns <= run_end_ns {
            self.insert_into_run((at_ns, slot));
        } else {
            self.insert((at_ns, slot));
        }
        Ok(())
    }

    /// Inserts an event due no later than the run's end into the run, after every
    /// event of the same time (rare: most events are due later than the whole run).
    #[cold]
    fn insert_into_run(&mut self, entry: Entry) {
        let unread = &self.run[self.head..];
        let position = self.head + unread.partition_point(|&(at_ns, _)| at_ns <= entry.0);
        self.run.insert(position, entry);
    }

    #[inline(always)]
    fn insert(&mut self, entry: Entry) {
        let at_ns = entry.0;
        let (level, digit) = slot_of(at_ns, self.last);
        let index = level * DIGITS + digit;
        self.buckets[index].push(entry);
        let min = &mut self.mins[index];
        *min = (*min).min(at_ns);
        self.occupied[index / 64] |= 1 << (index % 64);
        self.summary |= 1 << (index / 64);
    }

    /// The lowest non-empty bucket, if any.
    #[inline]
    fn lowest_bucket(&self) -> Option<usize> {
        if self.summary == 0 {
            return None;
        }
        let word = self.summary.trailing_zeros() as usize;
        Some(word * 64 + self.occupied[word].trailing_zeros() as usize)
    }

    /// Time of the next event, if any.
    pub fn peek_time(&self) -> Option<Nanos> {
        if let Some(&(at_ns, _)) = self.run.get(self.head) {
            return Some(at_ns);
        }
        let index = self.lowest_bucket()?;
        debug_assert_eq!(
            Some(self.mins[index]),
            self.buckets[index].iter().map(|&(at_ns, _)| at_ns).min()
        );
        Some(self.mins[index])
    }

    /// Removes the next event and advances `now` to its time.
    #[inline]
    pub fn pop(&mut self) -> Option<(Nanos, E)> {
        self.pop_touching(|_| ())
    }

    /// [`pop`](Self::pop), and whenever a bucket of at most [`TOUCH_LIMIT`] events is
    /// split, `touch` is called on each of its events first: those are the next events
    /// to come, so the caller can load the state their handlers will read while the
    /// loads overlap one another, instead of missing cache at each event in turn.
    #[inline]
    pub fn pop_touching(&mut self, touch: impl FnMut(&E)) -> Option<(Nanos, E)> {
        if self.head == self.run.len() {
            return self.refill(touch);
        }
        let entry = self.run[self.head];
        self.head += 1;
        self.len -= 1;
        Some(self.take_run_entry(entry))
    }

    #[inline(always)]
    fn take_run_entry(&mut self, entry: Entry) -> (Nanos, E) {
        debug_assert!(entry.0 >= self.popped_ns, "time went backwards");
        self.popped_ns = entry.0;
        self.take(entry)
    }

    /// The run is used up: take the lowest bucket, make its earliest time `last`, and
    /// either sort it into the new run (at most [`RUN_MAX`] events) or move it down into
    /// lower buckets, its earliest events forming the run. Then pop. Returns `None` when
    /// nothing is pending.
    #[inline(never)]
    fn refill(&mut self, mut touch: impl FnMut(&E)) -> Option<(Nanos, E)> {
        self.run.clear();
        self.head = 0;
        let index = self.lowest_bucket()?;
        let word = index / 64;
        self.occupied[word] &= !(1 << (index % 64));
        if self.occupied[word] == 0 {
            self.summary &= !(1 << word);
        }
        self.len -= 1;
        let last = std::mem::replace(&mut self.mins[index], Nanos::MAX);
        debug_assert_eq!(
            Some(last),
            self.buckets[index].iter().map(|&(at_ns, _)| at_ns).min()
        );
        debug_assert!(last >= self.popped_ns, "time went backwards");
        self.last = last;
        let bucket = &mut self.buckets[index];
        if bucket.len() == 1 {
            // The common case with nanosecond times: a bucket of one, popped directly.
            let entry = bucket[0];
            bucket.clear();
            return Some(self.take_run_entry(entry));
        }
        if bucket.len() <= LOAD_LIMIT {
            // Load the bucket's events now, though each is only read when popped: in a
            // large queue they are far from cache, and in this tight loop their misses
            // overlap, where at the pops each would stall alone. Then, for a bucket small
            // enough, `touch` them: its loads depend on the events, so it comes in a
            // second pass. Only timing changes.
            for &(_, slot) in bucket.iter() {
                std::hint::black_box(self.payloads[slot as usize]);
            }
            if bucket.len() <= TOUCH_LIMIT {
                for &(_, slot) in bucket.iter() {
                    touch(&self.payloads[slot as usize]);
                }
            }
        }
        if bucket.len() <= RUN_MAX {
            // Few enough to sort (stable: ties stay in insertion order) rather than to
            // split over the 256 buckets below, most of which would hold one event.
            // A level-0 bucket is all one time, so already in order.
            if index >= DIGITS {
                bucket.sort_by_key(|&(at_ns, _)| at_ns);
            }
            std::mem::swap(bucket, &mut self.run);
            let entry = self.run[0];
            self.head = 1;
            return Some(self.take_run_entry(entry));
        }
        let mut source = std::mem::take(&mut self.buckets[index]);
        for &entry in &source {
            if entry.0 == last {
                self.run.push(entry);
            } else {
                debug_assert!({
                    let (to_level, to_digit) = slot_of(entry.0, last);
                    to_level * DIGITS + to_digit < index
                });
                self.insert(entry);
            }
        }
        source.clear();
        // Keep the buffer for reuse unless it is large: each of the many buckets would
        // otherwise hold on to its peak size for the rest of the run.
        if source.capacity() <= KEEP_CAPACITY {
            self.buckets[index] = source;
        }
        let entry = self.run[0];
        self.head = 1;
        Some(self.take_run_entry(entry))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;
    use std::cmp::Reverse;
    use std::collections::BinaryHeap;

    #[test]
    fn pops_in_time_order_and_ties_in_insertion_order() {
        let mut queue = EventQueue::new(16);
        queue.push(30, 'c').unwrap();
        queue.push(10, 'a').unwrap();
        queue.push(30, 'd').unwrap();
        queue.push(20, 'b').unwrap();
        let order: Vec<char> = std::iter::from_fn(|| queue.pop().map(|(_, e)| e)).collect();
        assert_eq!(order, vec!['a', 'b', 'c', 'd']);
        assert_eq!(queue.now_ns(), 30);
    }

    #[test]
    fn pushes_into_the_run_keep_time_then_insertion_order() {
        // 10, 20 and 30 share one bucket, which becomes the run at the first pop; the
        // later pushes land inside the run, ties after the events already there.
        let mut queue = EventQueue::new(16);
        for (at_ns, name) in [(10, "a"), (20, "b"), (30, "c")] {
            queue.push(at_ns, name).unwrap();
        }
        assert_eq!(queue.pop(), Some((10, "a")));
        queue.push(30, "e").unwrap();
        queue.push(20, "d").unwrap();
        queue.push(25, "f").unwrap();
        queue.push(10, "g").unwrap();
        queue.push(1_000_000, "h").unwrap();
        let order: Vec<_> = std::iter::from_fn(|| queue.pop()).collect();
        assert_eq!(
            order,
            vec![
                (10, "g"),
                (20, "b"),
                (20, "d"),
                (25, "f"),
                (30, "c"),
                (30, "e"),
                (1_000_000, "h")
            ]
        );
    }

    #[test]
    fn refuses_past_its_limit() {
        let mut queue = EventQueue::new(2);
        queue.push(1, ()).unwrap();
        queue.push(2, ()).unwrap();
        assert_eq!(queue.push(3, ()), Err(QueueFull { limit: 2 }));
    }

    /// Against a binary heap on (time, sequence): same order, ties included, with
    /// pushes interleaved with pops (including pushes at exactly `now`).
    #[test]
    fn matches_a_binary_heap_on_time_then_insertion_order() {
        for seed in 0..20u64 {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            let mut queue = EventQueue::new(usize::MAX);
            let mut reference = BinaryHeap::new();
            let mut seq = 0u64;
            let mut now = 0u64;
            for _ in 0..20_000 {
                if rng.gen_bool(0.55) || reference.is_empty() {
                    // Coarse times force many ties; a few far ones exercise high buckets.
                    let delta = match rng.gen_range(0..10) {
                        0 => 0,
                        1..=6 => rng.gen_range(0..8) * 1_000,
                        7 | 8 => rng.gen_range(0..1_000_000),
                        _ => rng.gen_range(0..u64::from(u32::MAX)) << 8,
                    };
                    queue.push(now + delta, seq).unwrap();
                    reference.push(Reverse((now + delta, seq)));
                    seq += 1;
                } else {
                    let Reverse((at, id)) = reference.pop().unwrap();
                    assert_eq!(queue.peek_time(), Some(at));
                    assert_eq!(queue.pop(), Some((at, id)));
                    now = at;
                }
                assert_eq!(queue.len(), reference.len());
            }
            while let Some(Reverse(expected)) = reference.pop() {
                assert_eq!(queue.pop(), Some(expected));
            }
            assert_eq!(queue.pop(), None);
            assert!(queue.is_empty());
        }
    }
}
