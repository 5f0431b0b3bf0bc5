//! Slot numbers for the engine's slabs (requests in flight, pending events): free
//! lists, last in first out, that keep the slots in use low.
//!
//! Last-in first-out keeps the slots in use warm: the one just freed is the next one
//! taken. But after a burst (a herd's flush puts a million requests in flight at once)
//! one such list would hold slots scattered over the whole slab, and the few thousand
//! in use afterwards would stay scattered over hundreds of megabytes, a TLB miss and a
//! cache miss on nearly every touch for the rest of the run. So slots from
//! [`LOW_SLOTS`] up go to a second list, used only when no lower slot is free: after a
//! burst, the work returns to the first [`LOW_SLOTS`] slots, a few megabytes. Slot
//! numbers never reach a trace, so none of this changes a run. (A lowest-first bit-set
//! allocator made the rpc bench 7 % slower; a LIFO list sorted once after a burst left
//! the slots still in use on top, scattered.)

/// Slots below this are preferred (64 Ki slots: 4 MiB of 64-byte requests).
pub const LOW_SLOTS: u32 = 1 << 16;

/// Allocates `u32` slots; see the module documentation.
#[derive(Clone, Debug, Default)]
pub struct Slots {
    /// Free slots below [`LOW_SLOTS`]; the next one taken is the last.
    low: Vec<u32>,
    /// Free slots from [`LOW_SLOTS`] up, taken only when `low` is empty.
    high: Vec<u32>,
    /// Slots made so far (the slab's length): each of `0..made` is free or in use.
    made: u32,
}

/// The caller's slab would need more than `u32::MAX` slots.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SlotsExhausted;

impl Slots {
    /// No slots yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Slots in use.
    pub fn in_use(&self) -> usize {
        self.made as usize - self.low.len() - self.high.len()
    }

    /// Takes a free slot, or makes slot `made` (the caller then grows its slab by one)
    /// when none is free. Returns the slot and whether it is new.
    #[inline]
    pub fn take(&mut self) -> Result<(u32, bool), SlotsExhausted> {
        if let Some(slot) = self.low.pop() {
            return Ok((slot, false));
        }
        if let Some(slot) = self.high.pop() {
            return Ok((slot, false));
        }
        let slot = self.made;
        self.made = self.made.checked_add(1).ok_or(SlotsExhausted)?;
        Ok((slot, true))
    }

    /// Returns `slot` to its free list.
    #[inline]
    pub fn free(&mut self, slot: u32) {
        debug_assert!(slot < self.made, "slot {slot} was never made");
        if slot < LOW_SLOTS {
            self.low.push(slot);
        } else {
            self.high.push(slot);
        }
        debug_assert!(
            self.low.len() + self.high.len() <= self.made as usize,
            "a slot freed twice"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeSet;

    #[test]
    fn reuses_the_slot_freed_last() {
        let mut slots = Slots::new();
        for expected in 0..5 {
            assert_eq!(slots.take(), Ok((expected, true)));
        }
        slots.free(1);
        slots.free(3);
        assert_eq!(slots.take(), Ok((3, false)));
        assert_eq!(slots.take(), Ok((1, false)));
        assert_eq!(slots.take(), Ok((5, true)));
        assert_eq!(slots.in_use(), 6);
    }

    #[test]
    fn after_a_burst_low_slots_come_first() {
        // A burst of 3 x LOW_SLOTS slots, freed high and low interleaved.
        let mut slots = Slots::new();
        let burst = 3 * LOW_SLOTS;
        for _ in 0..burst {
            slots.take().unwrap();
        }
        for slot in 0..LOW_SLOTS {
            slots.free(burst - 1 - slot);
            slots.free(slot);
        }
        // Every low slot is taken before any high one, the last freed first.
        for expected in (0..LOW_SLOTS).rev() {
            assert_eq!(slots.take(), Ok((expected, false)));
        }
        assert_eq!(slots.take(), Ok((burst - LOW_SLOTS, false)));
    }

    proptest! {
        /// Against a model: every slot is in use at most once, freed slots come back
        /// before new ones are made, and the count in use is right.
        #[test]
        fn hands_out_each_slot_once(ops in prop::collection::vec((any::<bool>(), any::<u16>()), 1..4_000)) {
            let mut slots = Slots::new();
            let mut used = BTreeSet::new();
            let mut held = Vec::new();
            let mut made = 0u32;
            for (take, pick) in ops {
                if take || held.is_empty() {
                    let free_before = made as usize - used.len();
                    let (slot, new) = slots.take().unwrap();
                    prop_assert_eq!(new, free_before == 0);
                    if new {
                        prop_assert_eq!(slot, made);
                        made += 1;
                    }
                    prop_assert!(used.insert(slot), "slot {} handed out twice", slot);
                    held.push(slot);
                } else {
                    let slot = held.swap_remove(usize::from(pick) % held.len());
                    used.remove(&slot);
                    slots.free(slot);
                }
                prop_assert_eq!(slots.in_use(), used.len());
            }
        }
    }
}
