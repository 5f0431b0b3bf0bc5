//! A map keyed by (sender, receiver, sequence number) for the bank's engine side.
//!
//! A channel's sequence numbers are dense and mostly used in order, so each channel
//! keeps a window of slots indexed by `seq - base`; whatever falls outside the window
//! (a number below it, or far above it) goes to an ordered map. Lookups are then an
//! index instead of a B-tree search with a tuple compare at every level: the checker
//! and the money-in-flight ledger made three such searches per message.
//!
//! # Invariants
//!
//! - A key lives in at most one place: its channel's window or the overflow map.
//! - A window's front slot is occupied or the window is empty once
//!   [`SeqMap::remove`] returns (the front is trimmed, so a ledger of entries removed
//!   roughly in order stays small).

use std::collections::{BTreeMap, VecDeque};

/// Most slots a window spans; a key further ahead goes to the overflow map.
pub const MAX_WINDOW_SLOTS: u64 = 1 << 20;

/// One channel's window.
#[derive(Clone, Debug, Default)]
struct Lane<T> {
    /// The sequence number of `slots[0]`.
    base: u64,
    slots: VecDeque<Option<T>>,
}

/// See the module documentation.
#[derive(Clone, Debug)]
pub struct SeqMap<T> {
    /// Processes: channel `(from, to)` is lane `from * processes + to`.
    processes: u32,
    lanes: Vec<Lane<T>>,
    overflow: BTreeMap<(u32, u32, u64), T>,
}

impl<T> SeqMap<T> {
    /// An empty map for channels between `processes` processes.
    pub fn new(processes: u32) -> Self {
        let lanes = (0..u64::from(processes) * u64::from(processes))
            .map(|_| Lane {
                base: 1,
                slots: VecDeque::new(),
            })
            .collect();
        SeqMap {
            processes,
            lanes,
            overflow: BTreeMap::new(),
        }
    }

    fn lane(&self, from: u32, to: u32) -> Option<usize> {
        (from < self.processes && to < self.processes)
            .then(|| from as usize * self.processes as usize + to as usize)
    }

    /// The value at `(from, to, seq)`.
    pub fn get(&self, from: u32, to: u32, seq: u64) -> Option<&T> {
        if let Some(lane) = self.lane(from, to) {
            let lane = &self.lanes[lane];
            if let Some(slot) = seq.checked_sub(lane.base) {
                if let Some(Some(value)) = lane.slots.get(slot as usize) {
                    return Some(value);
                }
            }
        }
        self.overflow.get(&(from, to, seq))
    }

    /// Puts `value` at `(from, to, seq)`; returns the value it replaced.
    pub fn insert(&mut self, from: u32, to: u32, seq: u64, value: T) -> Option<T> {
        // A key already in the overflow map stays there (one place per key).
        if !self.overflow.is_empty() {
            if let Some(old) = self.overflow.get_mut(&(from, to, seq)) {
                return Some(std::mem::replace(old, value));
            }
        }
        if let Some(lane) = self.lane(from, to) {
            let lane = &mut self.lanes[lane];
            if lane.slots.is_empty() {
                lane.base = seq;
            }
            if let Some(slot) = seq.checked_sub(lane.base).filter(|&s| s < MAX_WINDOW_SLOTS) {
                let slot = slot as usize;
                if slot >= lane.slots.len() {
                    lane.slots.resize_with(slot + 1, || None);
                }
                return lane.slots[slot].replace(value);
            }
        }
        self.overflow.insert((from, to, seq), value)
    }

    /// Takes the value at `(from, to, seq)` out.
    pub fn remove(&mut self, from: u32, to: u32, seq: u64) -> Option<T> {
        if let Some(lane) = self.lane(from, to) {
            let lane = &mut self.lanes[lane];
            if let Some(slot) = seq.checked_sub(lane.base) {
                if let Some(value) = lane.slots.get_mut(slot as usize).and_then(Option::take) {
                    while lane.slots.front().is_some_and(Option::is_none) {
                        lane.slots.pop_front();
                        lane.base += 1;
                    }
                    return Some(value);
                }
            }
        }
        self.overflow.remove(&(from, to, seq))
    }

    /// Every value, in no particular order.
    pub fn values(&self) -> impl Iterator<Item = &T> {
        self.lanes
            .iter()
            .flat_map(|lane| lane.slots.iter().flatten())
            .chain(self.overflow.values())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// The map answers exactly as a `BTreeMap` of the same operations does.
        #[test]
        fn behaves_as_an_ordered_map(
            ops in prop::collection::vec((0u8..3, 0u32..4, 0u32..4, 0u64..40, any::<u16>()), 0..300)
        ) {
            let mut map = SeqMap::new(3);
            let mut reference = BTreeMap::new();
            for (op, from, to, seq, value) in ops {
                match op {
                    0 => prop_assert_eq!(
                        map.insert(from, to, seq, value),
                        reference.insert((from, to, seq), value)
                    ),
                    1 => prop_assert_eq!(
                        map.remove(from, to, seq),
                        reference.remove(&(from, to, seq))
                    ),
                    _ => prop_assert_eq!(map.get(from, to, seq), reference.get(&(from, to, seq))),
                }
            }
            let mut values: Vec<u16> = map.values().copied().collect();
            let mut expected: Vec<u16> = reference.values().copied().collect();
            values.sort_unstable();
            expected.sort_unstable();
            prop_assert_eq!(values, expected);
        }
    }

    #[test]
    fn a_ledger_removed_in_order_stays_small() {
        let mut map = SeqMap::new(2);
        for seq in 1..=10_000u64 {
            map.insert(0, 1, seq, seq);
            if seq > 3 {
                assert_eq!(map.remove(0, 1, seq - 3), Some(seq - 3));
            }
        }
        assert!(
            map.lanes[1].slots.len() <= 4,
            "{}",
            map.lanes[1].slots.len()
        );
        assert!(map.overflow.is_empty());
    }

    #[test]
    fn keys_below_the_window_or_far_above_it_go_to_the_overflow_map() {
        let mut map = SeqMap::new(2);
        map.insert(0, 1, 5, 'a');
        map.insert(0, 1, 2, 'b');
        map.insert(0, 1, 6, 'd');
        map.insert(0, 1, 5 + MAX_WINDOW_SLOTS, 'c');
        assert_eq!(map.overflow.len(), 2);
        assert_eq!(map.get(0, 1, 2), Some(&'b'));
        assert_eq!(map.get(0, 1, 5 + MAX_WINDOW_SLOTS), Some(&'c'));
        assert_eq!(map.remove(0, 1, 5), Some('a'));
        assert_eq!(map.get(0, 1, 5), None);
        assert_eq!(map.get(0, 1, 6), Some(&'d'));
    }
}
