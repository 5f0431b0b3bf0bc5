//! Random streams: every draw in a run comes from the run seed through ChaCha8, one
//! stream per purpose and, where a purpose serves many faults, per fault (and node), so
//! a change in how often one draws (say, more network messages) does not reshuffle
//! another (say, service times), and removing one fault does not reshuffle the draws of
//! the others: what a shrinker needs to delete faults one at a time.
//!
//! A purpose is a ChaCha stream id, a sub-stream the `sub` word. The kernel keeps
//! [`NETWORK`] (latency and background loss), [`NET_FAULTS`] (one sub-stream per
//! omission or timing fault), [`RANDOM_FAULTS`] (one per random process and node),
//! [`DISK`] (one per node's disk), [`PROCESS`] (one per process) and [`SWARM`] (one per
//! swarm switch or draw). A fault's sub-stream is keyed by what the fault is ([`key_of`]
//! its JSON, window left out), not by its place in the list, so a fault keeps its draws
//! when another is removed or its own window shortened. A workload names its own
//! purposes with other ids (ids below [`FIRST_FREE`] are taken; new workloads start
//! there).

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
/// Omission and timing fault draws (a sub-stream per fault, keyed by its content).
pub const NET_FAULTS: u64 = 10;
/// Swarm draws (a sub-stream per kind switch or drawn field, keyed by its name).
pub const SWARM: u64 = 11;
/// Ids from here on are free for new workloads (those below are the kernel's and the
/// first workload's).
pub const FIRST_FREE: u64 = 16;

/// The stream `stream_id` (and `sub`, e.g. a node) of run `seed`.
pub fn stream(seed: u64, stream_id: u64, sub: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ sub.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    rng.set_stream(stream_id);
    rng
}

/// A 64-bit key of some bytes (FNV-1a): names a sub-stream by content.
pub fn key_of(bytes: &[u8]) -> u64 {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    bytes.iter().fold(OFFSET, |hash, &byte| {
        (hash ^ u64::from(byte)).wrapping_mul(PRIME)
    })
}

/// Mixes an occurrence count (the n-th fault with the same content) into a key.
pub fn nth(key: u64, occurrence: u64) -> u64 {
    key ^ occurrence.wrapping_mul(0xD6E8_FEB8_6659_FD93)
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

    #[test]
    fn keys_follow_content() {
        // FNV-1a's published test vectors.
        assert_eq!(key_of(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(key_of(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_ne!(key_of(b"omission"), key_of(b"omissioN"));
        assert_eq!(nth(5, 0), 5);
        assert_ne!(nth(5, 1), 5);
    }
}
