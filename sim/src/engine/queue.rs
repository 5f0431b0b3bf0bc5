//! The event queue: Faultline's own clock, exact to the nanosecond.
//!
//! madsim's timers have a 1 ms floor and cannot be cancelled, so message delivery,
//! service and backoff are scheduled here instead. Ties are broken by insertion order,
//! which makes the order of simultaneous events a function of the seed alone.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

/// Simulated time in nanoseconds since the start of the run.
pub type Nanos = u64;

/// One scheduled event.
#[derive(Clone, Copy, Debug)]
struct Entry<E> {
    at_ns: Nanos,
    seq: u64,
    event: E,
}

impl<E> PartialEq for Entry<E> {
    fn eq(&self, other: &Self) -> bool {
        self.at_ns == other.at_ns && self.seq == other.seq
    }
}
impl<E> Eq for Entry<E> {}
impl<E> PartialOrd for Entry<E> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl<E> Ord for Entry<E> {
    // Reversed: BinaryHeap is a max-heap and we want the earliest event first.
    fn cmp(&self, other: &Self) -> Ordering {
        other
            .at_ns
            .cmp(&self.at_ns)
            .then_with(|| other.seq.cmp(&self.seq))
    }
}

/// A priority queue of events ordered by (time, insertion order).
#[derive(Debug)]
pub struct EventQueue<E> {
    heap: BinaryHeap<Entry<E>>,
    next_seq: u64,
    now_ns: Nanos,
    limit: usize,
}

/// The queue refused an event because it holds its limit already.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QueueFull {
    /// The limit that was reached.
    pub limit: usize,
}

impl<E> EventQueue<E> {
    /// An empty queue holding at most `limit` pending events.
    pub fn new(limit: usize) -> Self {
        EventQueue {
            heap: BinaryHeap::new(),
            next_seq: 0,
            now_ns: 0,
            limit,
        }
    }

    /// The time of the last event popped.
    pub fn now_ns(&self) -> Nanos {
        self.now_ns
    }

    /// Pending events.
    pub fn len(&self) -> usize {
        self.heap.len()
    }

    /// Whether nothing is pending.
    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }

    /// Schedules `event` at `at_ns`, which must not be in the past.
    #[inline]
    pub fn push(&mut self, at_ns: Nanos, event: E) -> Result<(), QueueFull> {
        debug_assert!(
            at_ns >= self.now_ns,
            "event scheduled in the past: {at_ns} < {}",
            self.now_ns
        );
        if self.heap.len() >= self.limit {
            return Err(QueueFull { limit: self.limit });
        }
        let seq = self.next_seq;
        self.next_seq += 1;
        self.heap.push(Entry { at_ns, seq, event });
        Ok(())
    }

    /// Time of the next event, if any.
    #[inline]
    pub fn peek_time(&self) -> Option<Nanos> {
        self.heap.peek().map(|entry| entry.at_ns)
    }

    /// Removes the next event and advances `now` to its time.
    #[inline]
    pub fn pop(&mut self) -> Option<(Nanos, E)> {
        let entry = self.heap.pop()?;
        debug_assert!(entry.at_ns >= self.now_ns, "time went backwards");
        self.now_ns = entry.at_ns;
        Some((entry.at_ns, entry.event))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn refuses_past_its_limit() {
        let mut queue = EventQueue::new(2);
        queue.push(1, ()).unwrap();
        queue.push(2, ()).unwrap();
        assert_eq!(queue.push(3, ()), Err(QueueFull { limit: 2 }));
    }
}
