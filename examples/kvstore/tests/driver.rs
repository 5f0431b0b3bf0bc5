//! The store run by the kernel's driver directly, with a primary crash: the invariants
//! hold without the bug and break with it.

use faultline::engine::driver;
use faultline::engine::plan::{Fault, NetworkPlan, Plan, PlannedFault, MAX_EVENTS};
use faultline::engine::sampler::Sampler;
use faultline::engine::selector::Selector;
use faultline::engine::service::ServiceHost;
use faultline::format::{Dur, Metrics, Network, Slo};
use faultline::workload::{Context, Kind};
use faultline_kvstore::{Kv, KvOutput, KvSpec, KvStore};

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
    let network = Network::default();
    let metrics = Metrics::default();
    let slo = Slo::default();
    let context = Context {
        duration: Dur::from_millis(3_000),
        network: &network,
        faults: &[],
        random_faults: &[],
        metrics: &metrics,
        checks: &[],
        slo: &slo,
    };
    let resolution = Kv::resolve(&spec, &context).expect("a valid spec");
    let plan = Plan {
        families: resolution.families,
        network: NetworkPlan {
            latency: Sampler::Uniform(MS, 3 * MS),
            drop_rate: 0.0,
            links: Vec::new(),
        },
        faults: vec![PlannedFault {
            at_ns: 1_000 * MS + seed * 7 * MS,
            fault: Fault::Crash {
                nodes: Selector::parse("replica-0").expect("a selector"),
                restart_after_ns: Some(500 * MS),
            },
            label: "replica-0".to_owned(),
        }],
        random_faults: Vec::new(),
        duration_ns: 3_000 * MS,
        window_ns: 1_000 * MS,
        max_events: MAX_EVENTS,
    };
    let config = resolution.config;
    #[allow(clippy::disallowed_methods)]
    let worker =
        std::thread::spawn(move || driver::run::<ServiceHost<KvStore>>(&config, &plan, seed, None));
    worker
        .join()
        .expect("no panic")
        .expect("the run completes")
        .workload
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
