//! How far a run has got, published by the driver for a watcher outside the run (the
//! `run` command's progress bar): simulated time reached and events handled. Watching
//! never changes the run: the driver stores two relaxed atomics every
//! [`PUBLISH_EVERY`] events and reads nothing back, so no event order, random draw or
//! trace record depends on whether anyone watches.

use std::sync::atomic::{AtomicU64, Ordering};

use super::queue::Nanos;

/// The driver publishes once per this many events (a power of two: one mask per event).
pub const PUBLISH_EVERY: u64 = 1 << 16;

/// The latest figures a run published.
#[derive(Debug, Default)]
pub struct Progress {
    sim_ns: AtomicU64,
    events: AtomicU64,
}

impl Progress {
    /// A run that has not started.
    pub fn new() -> Self {
        Self::default()
    }

    /// Called by the driver: the run has handled `events` events and reached `sim_ns`.
    pub fn publish(&self, sim_ns: Nanos, events: u64) {
        debug_assert!(
            events >= self.events.load(Ordering::Relaxed),
            "events only grow"
        );
        self.sim_ns.store(sim_ns, Ordering::Relaxed);
        self.events.store(events, Ordering::Relaxed);
    }

    /// Simulated nanoseconds reached, as last published.
    pub fn sim_ns(&self) -> Nanos {
        self.sim_ns.load(Ordering::Relaxed)
    }

    /// Events handled, as last published.
    pub fn events(&self) -> u64 {
        self.events.load(Ordering::Relaxed)
    }
}
