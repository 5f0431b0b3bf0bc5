//! Random streams: every draw in a run comes from the run seed through ChaCha8, one
//! stream per purpose, so a change in how often one purpose draws (say, more network
//! messages) does not reshuffle another (say, service times).
//!
//! A purpose is a ChaCha stream id. The kernel keeps [`NETWORK`], [`RANDOM_FAULTS`],
//! [`DISK`] and [`PROCESS`];
//! a workload names its own purposes with other ids (ids below [`FIRST_FREE`] are
//! taken; new workloads start there).

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// The kernel's stream of network latency, loss and omission draws.
pub const NETWORK: u64 = 2;
/// The kernel's random fault processes (a sub-stream per process and node).
pub const RANDOM_FAULTS: u64 = 6;
/// The kernel's disks: fsync latencies, torn tails and read corruption (a sub-stream
/// per node).
pub const DISK: u64 = 8;
/// A process's own stream (a sub-stream per node), for its workload's draws.
pub const PROCESS: u64 = 9;
/// Ids from here on are free for new workloads (those below are the kernel's and the
/// first workload's).
pub const FIRST_FREE: u64 = 16;

/// The stream `stream_id` (and `sub`, e.g. a node) of run `seed`.
pub fn stream(seed: u64, stream_id: u64, sub: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ sub.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    rng.set_stream(stream_id);
    rng
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng;

    #[test]
    fn streams_differ_by_purpose_and_sub_and_repeat_by_seed() {
        let draw = |seed, purpose, sub| stream(seed, purpose, sub).gen::<u64>();
        assert_eq!(draw(7, NETWORK, 0), draw(7, NETWORK, 0));
        assert_ne!(draw(7, NETWORK, 0), draw(7, FIRST_FREE, 0));
        assert_ne!(draw(7, NETWORK, 0), draw(8, NETWORK, 0));
        assert_ne!(draw(7, RANDOM_FAULTS, 1), draw(7, RANDOM_FAULTS, 2));
    }
}
