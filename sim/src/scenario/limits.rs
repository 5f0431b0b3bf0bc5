//! Limits of the kernel, checked before a run allocates anything (each workload has
//! limits of its own beside its part of the format).

/// Longest simulated duration, seconds (one day).
pub const MAX_DURATION_S: u64 = 86_400;
/// Most metrics windows in one run.
pub const MAX_WINDOWS: u64 = 1_000_000;
/// Most scheduled faults.
pub const MAX_FAULTS: usize = 10_000;
/// Most engine events in one run; the run stops with an error past this.
pub const MAX_EVENTS: u64 = 2_000_000_000;
