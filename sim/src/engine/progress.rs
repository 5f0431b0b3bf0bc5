//! How far a run has got, published for a watcher outside the run (the `run` command's
//! progress bar): simulated time reached and trace events recorded. The trace publishes
//! once per digest chunk ([`PUBLISH_EVERY`] records), on the cold path where it hashes
//! the chunk, and the driver once more at the end; nothing reads it back, so no event
//! order, random draw or digest depends on whether anyone watches.

use std::sync::atomic::{AtomicU64, Ordering};

use super::queue::Nanos;

/// The trace publishes once per this many records (one digest chunk).
pub const PUBLISH_EVERY: u64 = super::trace::CHUNK_RECORDS;

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

    /// The run has recorded `events` trace events and reached `sim_ns`.
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

    /// Trace events recorded, as last published.
    pub fn events(&self) -> u64 {
        self.events.load(Ordering::Relaxed)
    }
}
