//! The store run by the kernel's driver directly, with a primary crash: the invariants
//! hold without the bug and break with it.

use faultline::format::Dur;
use faultline_kvstore::{run_with_primary_crash, KvOutput, KvSpec};

const MS: u64 = 1_000_000;

fn run(seed: u64, bug: bool) -> KvOutput {
    let spec = KvSpec {
        clients: 4,
        keys: 4,
        think: Dur::from_millis(5),
        timeout: Dur::from_millis(100),
        write_fraction: 0.5,
        ack_before_durable: bug,
    };
    run_with_primary_crash(&spec, 3_000, 1_000 * MS + seed * 7 * MS, 500 * MS, seed)
}

#[test]
fn without_the_bug_acknowledged_writes_survive_a_primary_crash() {
    for seed in 0..20 {
        let output = run(seed, false);
        assert!(output.writes_acked > 100, "seed {seed}: {output:?}");
        assert_eq!(output.recoveries, 1, "seed {seed}");
        assert_eq!(
            output.acked_writes_lost, 0,
            "seed {seed}: {:?}",
            output.examples
        );
        assert_eq!(
            output.read_violations, 0,
            "seed {seed}: {:?}",
            output.examples
        );
    }
}

#[test]
fn with_the_bug_a_primary_crash_loses_acknowledged_writes() {
    let failing = (0..20)
        .filter(|&seed| run(seed, true).acked_writes_lost > 0)
        .count();
    assert!(failing > 0, "no seed of 20 lost an acknowledged write");
}
