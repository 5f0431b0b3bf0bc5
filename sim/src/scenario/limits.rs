//! Limits checked before a run allocates anything.

/// Most logical clients in one scenario.
pub const MAX_CLIENTS: u32 = 1_000_000;
/// Most servers in one scenario.
pub const MAX_SERVERS: u32 = 10_000;
/// Most workers per server.
pub const MAX_WORKERS: u32 = 10_000;
/// Longest queue per server.
pub const MAX_QUEUE_LIMIT: u32 = 1_000_000;
/// Most attempts per logical request.
pub const MAX_ATTEMPTS: u32 = 100;
/// Most attempts one client holds while disconnected.
pub const MAX_OFFLINE_QUEUE: u32 = 100_000;
/// Longest simulated duration, seconds (one day).
pub const MAX_DURATION_S: u64 = 86_400;
/// Most metrics windows in one run.
pub const MAX_WINDOWS: u64 = 1_000_000;
/// Most scheduled faults.
pub const MAX_FAULTS: usize = 10_000;
/// Most engine events in one run; the run stops with an error past this.
pub const MAX_EVENTS: u64 = 2_000_000_000;
