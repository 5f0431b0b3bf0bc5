//! Limits of the kernel, checked before a run allocates anything (each workload has
//! limits of its own beside its part of the format). Every message that refuses a
//! scenario names the limit it hit.

/// Largest scenario file, bytes (4 MiB: 10,000 faults of about 100 bytes each fit four
/// times over); checked before the file is read.
pub const MAX_FILE_BYTES: usize = 4 << 20;
/// Longest scenario name, characters (it names the output directory).
pub const MAX_NAME_CHARS: usize = 100;
pub use crate::format::duration::MAX_ANY_DURATION_S;
/// Longest simulated duration, seconds (one day).
pub const MAX_DURATION_S: u64 = 86_400;
/// Most metrics windows in one run.
pub const MAX_WINDOWS: u64 = 1_000_000;
/// Most scheduled faults.
pub const MAX_FAULTS: usize = 10_000;
/// Most per-link rules in `network.links` (every message is matched against them in
/// order).
pub const MAX_LINKS: usize = 100;
/// Most groups in one partition.
pub const MAX_PARTITION_GROUPS: usize = 64;
/// Most selectors in one partition group.
pub const MAX_SELECTORS_PER_GROUP: usize = 1_000;
/// Most bytes of node sets the link rules and faults hold together (each is one bit
/// per node of the run, rounded up to 64-bit words).
pub const MAX_NODE_SET_BYTES: u64 = 256 << 20;
/// Factor between the expected number of fault actions the random fault processes draw
/// and the limit ([`crate::engine::faults::MAX_FAULT_ACTIONS`]): a scenario is refused
/// when twice its expected count would pass the limit. The count of a process's cycles
/// is close to normal with a standard deviation at most the square root of its mean, so
/// at the largest mean accepted (500,000) reaching twice the mean lies hundreds of
/// standard deviations out: a validated plan never meets the limit as it is drawn.
pub const RANDOM_FAULT_MARGIN: f64 = 2.0;
/// Most engine events in one run: estimated when the scenario is resolved, and counted
/// during the run, which stops with an error past it (the kernel's limit).
pub use crate::engine::plan::MAX_EVENTS;
/// Most memory a run may be estimated to hold, bytes (1 GiB): estimated when the
/// scenario is resolved ([`crate::workload::MemoryEstimate`]), from per-item costs
/// calibrated against measured peak RSS (the table in `docs/scenario-format.md`).
pub const MAX_MEMORY_BYTES: u64 = 1 << 30;
/// Memory every run holds whatever its size, bytes: the program, madsim's runtime and
/// the trace's buffers, which do not grow with the run (a 64 KiB digest buffer, a
/// 1 MiB line writer with `--trace`, one 8-byte digest per 8,192 records with chunk
/// digests: 2 MB at [`MAX_EVENTS`]). Measured: 8-10 MiB peak RSS for the smallest runs.
pub const BASE_MEMORY_BYTES: u64 = 16 << 20;
