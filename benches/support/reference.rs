//! The tight reference event loop of issue 5: a `BinaryHeap` of (time, sequence, event)
//! and ChaCha8, no models, no metrics, no trace. Each client sleeps uniform(0, 1 s),
//! then sends a request (open loop: its next sleep starts at once); a request reaches
//! the server after a link latency uniform(1, 10 ms), the server replies at once, and
//! the reply reaches the client after another link latency. One request/response is one
//! "rpc" (three events).
//!
//! Shared by `benches/engine.rs` and `faultline bench` (included with `#[path]`).

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// What the reference loop did.
#[derive(Clone, Copy, Debug)]
pub struct ReferenceRun {
    /// Completed request/response pairs.
    pub rpcs: u64,
    /// Events popped.
    pub events: u64,
}

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Wake,
    ServerRecv,
    ClientRecv,
}

/// Runs `clients` clients for `duration_ns` simulated nanoseconds.
pub fn run(clients: u32, duration_ns: u64, seed: u64) -> ReferenceRun {
    const SLEEP_MAX_NS: u64 = 1_000_000_000;
    const LATENCY_NS: (u64, u64) = (1_000_000, 10_000_000);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut heap: BinaryHeap<Reverse<(u64, u64, u32, Kind)>> = BinaryHeap::new();
    let mut seq = 0u64;
    for client in 0..clients {
        heap.push(Reverse((
            rng.gen_range(0..SLEEP_MAX_NS),
            seq,
            client,
            Kind::Wake,
        )));
        seq += 1;
    }
    let mut rpcs = 0u64;
    let mut events = 0u64;
    while let Some(Reverse((now, _, client, kind))) = heap.pop() {
        if now > duration_ns {
            break;
        }
        events += 1;
        let (at, next) = match kind {
            Kind::Wake => {
                let wake = now + rng.gen_range(0..SLEEP_MAX_NS);
                heap.push(Reverse((wake, seq, client, Kind::Wake)));
                seq += 1;
                (
                    now + rng.gen_range(LATENCY_NS.0..=LATENCY_NS.1),
                    Kind::ServerRecv,
                )
            }
            Kind::ServerRecv => (
                now + rng.gen_range(LATENCY_NS.0..=LATENCY_NS.1),
                Kind::ClientRecv,
            ),
            Kind::ClientRecv => {
                rpcs += 1;
                continue;
            }
        };
        heap.push(Reverse((at, seq, client, next)));
        seq += 1;
    }
    ReferenceRun { rpcs, events }
}
