//! Random streams: every draw in a run comes from the run seed through ChaCha8, one
//! stream per purpose, so a change in how often one purpose draws (say, more network
//! messages) does not reshuffle another (say, service times).

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// What a stream is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u64)]
pub enum Purpose {
    /// Client request arrivals and think times.
    Arrivals = 1,
    /// Network latency, loss and omission.
    Network = 2,
    /// Service times.
    Service = 3,
    /// Backoff jitter.
    Backoff = 4,
    /// Server choice per attempt.
    Routing = 5,
    /// Random fault processes (sub-stream per process and node).
    RandomFaults = 6,
    /// Reconnect backoff jitter.
    Reconnect = 7,
}

/// The stream for `purpose` (and `sub`, e.g. a node) of run `seed`.
pub fn stream(seed: u64, purpose: Purpose, sub: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ sub.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    rng.set_stream(purpose as u64);
    rng
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng;

    #[test]
    fn streams_differ_by_purpose_and_sub_and_repeat_by_seed() {
        let draw = |seed, purpose, sub| stream(seed, purpose, sub).gen::<u64>();
        assert_eq!(draw(7, Purpose::Network, 0), draw(7, Purpose::Network, 0));
        assert_ne!(draw(7, Purpose::Network, 0), draw(7, Purpose::Service, 0));
        assert_ne!(draw(7, Purpose::Network, 0), draw(8, Purpose::Network, 0));
        assert_ne!(
            draw(7, Purpose::RandomFaults, 1),
            draw(7, Purpose::RandomFaults, 2)
        );
    }
}
