//! The causality checker's stored reference clocks of one incarnation, compactly.
//!
//! The checker stores a reference vector clock at an incarnation's first event and at
//! each receive (between two receives only the incarnation's own entry moves). Stored
//! whole, one clock of `n` entries per receive was most of a 64-account run's memory
//! (4 bytes x 65 entries per receive, for the whole run). Here the newest stored clock
//! is kept whole and each older one as a *reverse delta*: the entries in which it is
//! below the clock stored after it, as varints (entry gap, amount below). A receive
//! moves only the entries the sender knew more of, so a delta is a fraction of a clock.
//! Every [`FULL_EVERY`]th older clock is kept whole as well, so reading any clock
//! applies at most that many deltas; the clocks read most (a frame's send, a restart's
//! resume point) are recent ones, reached from the newest in a step or two.
//!
//! # Invariants
//!
//! - Stored clocks never decrease, entry-wise, in storage order (a reference clock
//!   only merges and ticks), so every delta amount is positive and a clock's length is
//!   at most the next one's.
//! - [`RefClocks::read`] of stored clock `j` gives exactly the clock that was stored
//!   `j`th (checked in the tests below by a property over random receives).

/// A reference clock: entry `s` counts the events of incarnation `s` in the causal past.
pub type RefVc = Vec<u32>;

/// Every this many older clocks one is stored whole (a read applies at most this many
/// deltas).
pub const FULL_EVERY: u32 = 32;

/// A record's tag: the clock whole.
const FULL: u8 = 0;
/// A record's tag: the clock as a delta below the next one.
const DELTA: u8 = 1;

/// Most bytes the records may take (their offsets are `u32`).
pub const MAX_BYTES: usize = u32::MAX as usize;

/// See the module documentation.
#[derive(Debug, Default)]
pub struct RefClocks {
    /// The newest stored clock, whole (empty before the first).
    latest: RefVc,
    /// Clocks stored.
    count: u32,
    /// Per stored clock but the newest: where its record starts in `bytes`.
    offsets: Vec<u32>,
    /// The records of the older clocks.
    bytes: Vec<u8>,
}

fn put_varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

/// Reads one varint at `*at` (written by [`put_varint`], so always whole).
fn get_varint(bytes: &[u8], at: &mut usize) -> u64 {
    let mut value = 0u64;
    let mut shift = 0;
    loop {
        let byte = bytes[*at];
        *at += 1;
        value |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return value;
        }
        shift += 7;
    }
}

impl RefClocks {
    /// Clocks stored so far.
    pub fn len(&self) -> u32 {
        self.count
    }

    /// Whether no clock is stored.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Bytes held (records, offsets and the newest clock), for the limit.
    pub fn bytes(&self) -> usize {
        self.bytes.len() + 4 * self.offsets.len() + 4 * self.latest.len()
    }

    /// Stores `clock` as the next one; returns its index. `clock` must be entry-wise at
    /// least the previous one (see the invariants).
    pub fn push(&mut self, clock: &[u32]) -> u32 {
        if self.count > 0 {
            // The previous newest becomes an older clock: its record, against `clock`.
            let previous = self.count - 1;
            self.offsets.push(self.bytes.len() as u32);
            let old = std::mem::take(&mut self.latest);
            debug_assert!(
                old.len() <= clock.len() && old.iter().zip(clock).all(|(was, now)| was <= now),
                "a stored reference clock went back"
            );
            if previous % FULL_EVERY == 0 {
                self.bytes.push(FULL);
                put_varint(&mut self.bytes, old.len() as u64);
                for &entry in &old {
                    put_varint(&mut self.bytes, u64::from(entry));
                }
            } else {
                self.bytes.push(DELTA);
                put_varint(&mut self.bytes, old.len() as u64);
                let changed = old
                    .iter()
                    .zip(clock)
                    .filter(|(was, now)| was != now)
                    .count();
                put_varint(&mut self.bytes, changed as u64);
                let mut last = 0;
                for (entry, (was, now)) in old.iter().zip(clock).enumerate() {
                    if was != now {
                        put_varint(&mut self.bytes, (entry - last) as u64);
                        put_varint(&mut self.bytes, u64::from(now - was));
                        last = entry;
                    }
                }
            }
            self.latest = old;
        }
        self.latest.clear();
        self.latest.extend_from_slice(clock);
        self.count += 1;
        self.count - 1
    }

    /// Stored clock `index` into `out` (replacing what it held); false if there is no
    /// such clock.
    pub fn read(&self, index: u32, out: &mut RefVc) -> bool {
        if index >= self.count {
            return false;
        }
        let newest = self.count - 1;
        // The first clock kept whole at or after `index`.
        let full = index.div_ceil(FULL_EVERY) * FULL_EVERY;
        let mut at_clock = if full < newest {
            let mut at = self.offsets[full as usize] as usize;
            debug_assert_eq!(self.bytes[at], FULL);
            at += 1;
            let len = get_varint(&self.bytes, &mut at) as usize;
            out.clear();
            out.extend((0..len).map(|_| get_varint(&self.bytes, &mut at) as u32));
            full
        } else {
            out.clear();
            out.extend_from_slice(&self.latest);
            newest
        };
        while at_clock > index {
            at_clock -= 1;
            let mut at = self.offsets[at_clock as usize] as usize;
            debug_assert_eq!(self.bytes[at], DELTA);
            at += 1;
            let len = get_varint(&self.bytes, &mut at) as usize;
            out.truncate(len);
            let changed = get_varint(&self.bytes, &mut at);
            let mut entry = 0;
            for _ in 0..changed {
                entry += get_varint(&self.bytes, &mut at) as usize;
                out[entry] -= get_varint(&self.bytes, &mut at) as u32;
            }
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// Every stored clock reads back as stored, and the records are smaller than
        /// the clocks whole when receives move few entries.
        #[test]
        fn stored_clocks_read_back(
            steps in proptest::collection::vec(
                (proptest::collection::vec((0usize..40, 0u32..1000), 0..4), 0usize..3),
                1..150,
            ),
        ) {
            let mut store = RefClocks::default();
            let mut clock: RefVc = Vec::new();
            let mut truth = Vec::new();
            for (bumps, grow) in &steps {
                clock.resize(clock.len() + grow, 0);
                for &(entry, by) in bumps {
                    if let Some(value) = clock.get_mut(entry) {
                        *value += by;
                    }
                }
                proptest::prop_assert_eq!(store.push(&clock), truth.len() as u32);
                truth.push(clock.clone());
            }
            let mut out = vec![7; 3];
            for (index, expected) in truth.iter().enumerate() {
                proptest::prop_assert!(store.read(index as u32, &mut out));
                proptest::prop_assert_eq!(&out, expected);
            }
            proptest::prop_assert!(!store.read(truth.len() as u32, &mut out));
        }
    }

    #[test]
    fn a_receive_that_moves_few_entries_costs_few_bytes() {
        let mut store = RefClocks::default();
        let mut clock: RefVc = (0..64).map(|entry| 1_000 + entry).collect();
        for step in 0..1_000u32 {
            clock[(step % 64) as usize] += 3;
            clock[((step * 7) % 64) as usize] += 1;
            store.push(&clock);
        }
        // Whole, 1,000 clocks of 64 entries are 256,000 bytes.
        assert!(store.bytes() < 30_000, "{} bytes", store.bytes());
        let mut out = Vec::new();
        assert!(store.read(500, &mut out));
        assert_eq!(out.len(), 64);
    }
}
