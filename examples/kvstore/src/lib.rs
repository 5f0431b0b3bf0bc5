//! A replicated key-value store under Faultline: the example a user copies.
//!
//! [`store`] is the code under test, three replicas and their clients as
//! `async fn main(ctx)`; [`KvStore`] is its engine side, which sees what they report
//! (what a production store would log: requests invoked, answers received, recoveries)
//! and checks three invariants at the end of the run, on the history of operations
//! the clients reported (`OpReport`, one line each) and the primary's log:
//!
//! - **acknowledged writes survive**: every write a client was told is stored is in the
//!   primary's log at the end;
//! - **reads see writes**: a read returns a value some write wrote (or nothing, 0, for
//!   a key never written), and not one whose write was acknowledged before another
//!   write to the key that was itself acknowledged before the read began;
//! - **linearizable**: the whole history has a linearization as a set of registers
//!   (the checker of `faultline_models::linearizability`, through
//!   `faultline::workload::history`).
//!
//! [`live`] runs the same processes for real (the `kvstore-live` binary, on the
//! `live` backend of `Ctx`).
//!
//! [`Kv`] declares the kind to Faultline: its scenario keys ([`KvSpec`], `"kind":
//! "kvstore"`), its node families, its figures and its checks, so scenario files,
//! sweeps, shrinking and reports work for it as for the built-in workloads.
#![forbid(unsafe_code)]

pub mod bench;
pub mod kind;
pub mod live;
pub mod store;

use std::collections::{BTreeMap, BTreeSet};

use faultline::engine::disk::DiskConfig;
use faultline::engine::nodes::{Family, NodeId};
use faultline::engine::process::Init;
use faultline::engine::queue::Nanos;
use faultline::engine::service::{main_task, Finishing, Hosting, Service};
use faultline::engine::EngineError;
use faultline::workload::history::{
    Budget, HistoryLog, Linearizability, OpKind, OpReport, Operation, Outcome,
};

pub use kind::{Kv, KvSpec};
use store::{Msg, Report, StoreConfig, REPLICAS, WAL};

/// The store's resolved config.
#[derive(Clone, Debug, PartialEq)]
pub struct KvConfig {
    /// What the processes read.
    pub store: StoreConfig,
    /// Clients.
    pub clients: u32,
    /// Each replica's disk.
    pub disk: DiskConfig,
}

/// The store's engine side: what the nodes reported.
#[derive(Debug, Default)]
pub struct KvStore {
    /// Every operation the clients reported.
    history: HistoryLog,
    timeouts: u64,
    boots: u64,
    /// Answered requests per metrics window.
    answered_per_window: Vec<u64>,
    window_ns: Nanos,
    /// Node names, for the witness.
    names: Vec<String>,
}

/// A finished run of the store.
#[derive(Clone, Debug, PartialEq)]
pub struct KvOutput {
    /// Requests sent.
    pub invoked: u64,
    /// Writes acknowledged.
    pub writes_acked: u64,
    /// Reads answered.
    pub reads_answered: u64,
    /// Requests given up on.
    pub timeouts: u64,
    /// Replica boots after a crash.
    pub recoveries: u64,
    /// Acknowledged writes missing from the primary's final log.
    pub acked_writes_lost: u64,
    /// Reads that returned a value never written, or one older than a write
    /// acknowledged before they began.
    pub read_violations: u64,
    /// Records in the primary's final log.
    pub final_log_records: u64,
    /// Up to 10 violations, in words.
    pub examples: Vec<String>,
    /// Answered requests per metrics window.
    pub answered_per_window: Vec<u64>,
    /// The linearizability check of the whole history.
    pub linearizability: Linearizability,
    /// The history the clients reported (what `kvstore bench` checks again, timed).
    pub history: HistoryLog,
    /// Node names, by id.
    pub names: Vec<String>,
}

impl Service for KvStore {
    type Config = KvConfig;
    type Msg = Msg;
    type Report = Report;
    type Event = ();
    type Output = KvOutput;

    fn main(config: &KvConfig, node: NodeId) -> Option<Init> {
        let store = config.store.clone();
        Some(if node < REPLICAS {
            main_task(node, move |ctx| store::replica(ctx, store.clone()))
        } else {
            main_task(node, move |ctx| store::client(ctx, store.clone()))
        })
    }

    fn disk(config: &KvConfig, family: &Family) -> Option<DiskConfig> {
        (family.prefix == kind::REPLICA_PREFIX).then(|| config.disk.clone())
    }

    fn start(_config: &KvConfig, host: &mut Hosting<'_, Self>) -> Result<Self, EngineError> {
        let kernel = host.kernel();
        let topology = kernel.topology();
        Ok(KvStore {
            answered_per_window: vec![0; kernel.window_count()],
            window_ns: kernel.window_ns(),
            names: (0..topology.node_count())
                .map(|node| topology.name(node))
                .collect(),
            ..KvStore::default()
        })
    }

    fn report(
        &mut self,
        _host: &mut Hosting<'_, Self>,
        now_ns: Nanos,
        node: NodeId,
        report: Report,
    ) -> Result<(), EngineError> {
        match report {
            Report::Recovered { .. } => self.boots += 1,
            Report::Op(op) => {
                if let OpReport::Complete { .. } = op {
                    let window = (now_ns / self.window_ns) as usize;
                    if let Some(count) = self.answered_per_window.get_mut(window) {
                        *count += 1;
                    }
                }
                self.history.record(node, now_ns, op);
            }
            Report::TimedOut { .. } => self.timeouts += 1,
        }
        Ok(())
    }

    fn finish(self, host: &Finishing<'_, Self>) -> Result<KvOutput, EngineError> {
        let log = host
            .kernel()
            .disk(store::PRIMARY)
            .and_then(|disk| disk.borrow().disk.inspect(WAL).ok())
            .map(|bytes| store::decode(&bytes))
            .unwrap_or_default();
        let ops: Vec<&Operation> = self.history.operations().collect();
        let (acked_writes_lost, read_violations, examples) = check(&ops, &log);
        let answered = |read: bool| {
            ops.iter()
                .filter(|op| op.completion.is_some() && matches!(op.kind, OpKind::Read) == read)
                .count() as u64
        };
        let invoked = ops.len() as u64;
        let (writes_acked, reads_answered) = (answered(false), answered(true));
        let names = self.names;
        let linearizability = self.history.check(0, &Budget::default());
        Ok(KvOutput {
            invoked,
            writes_acked,
            reads_answered,
            timeouts: self.timeouts,
            // Each replica boots once at the start; every boot after is a recovery.
            recoveries: self.boots.saturating_sub(u64::from(REPLICAS)),
            acked_writes_lost,
            read_violations,
            final_log_records: log.len() as u64,
            examples,
            answered_per_window: self.answered_per_window,
            linearizability,
            history: self.history,
            names,
        })
    }
}

/// Checks the first two invariants (see the crate documentation) on the history and
/// the primary's final log: (acknowledged writes lost, read violations, examples).
pub fn check(ops: &[&Operation], log: &[(u64, u64)]) -> (u64, u64, Vec<String>) {
    let mut examples = Vec::new();
    let mut note = |text: String| {
        if examples.len() < 10 {
            examples.push(text);
        }
    };
    let in_log: BTreeSet<(u64, u64)> = log.iter().copied().collect();
    // Every value written to each key, and when its write was acknowledged (if it was).
    let mut written: BTreeMap<(u32, u64), (Nanos, Option<Nanos>)> = BTreeMap::new();
    let mut lost = 0;
    for op in ops {
        let OpKind::Write(value) = op.kind else {
            continue;
        };
        let acked_ns = op.completion.map(|c| c.complete_ns);
        written.insert((op.key.0, value), (op.invoke_ns, acked_ns));
        if acked_ns.is_some() && !in_log.contains(&(u64::from(op.key.0), value)) {
            lost += 1;
            note(format!(
                "write of {value} to key {} by node {} acknowledged at {} ns is not in the primary's log",
                op.key.0,
                op.client.0,
                acked_ns.unwrap_or_default()
            ));
        }
    }
    let mut violations = 0;
    for op in ops {
        let (OpKind::Read, Some(done)) = (op.kind, op.completion) else {
            continue;
        };
        let Outcome::Read(value) = done.outcome else {
            continue;
        };
        let key = op.key.0;
        let seen = written.get(&(key, value));
        if value != 0 && seen.is_none() {
            violations += 1;
            note(format!(
                "read of key {key} answered at {} ns returned {value}, which no write wrote",
                done.complete_ns
            ));
            continue;
        }
        // A write to the key acknowledged before the read began, invoked after the
        // returned value's write was acknowledged: the read returned an older value.
        let returned_acked_ns = seen.and_then(|&(_, acked)| acked);
        let newer = written
            .range((key, 0)..=(key, u64::MAX))
            .find(|(_, &(invoked, acked))| {
                acked.is_some_and(|acked| acked < op.invoke_ns)
                    && match (value, returned_acked_ns) {
                        (0, _) => true,
                        (_, Some(returned)) => returned < invoked,
                        (_, None) => false,
                    }
            });
        if let Some((&(_, newer_value), _)) = newer {
            violations += 1;
            note(format!(
                "read of key {key} answered at {} ns returned {value}, older than {newer_value}, acknowledged before the read began",
                done.complete_ns
            ));
        }
    }
    (lost, violations, examples)
}

/// Runs the store by the kernel's driver directly, without a scenario file: `spec` for
/// `duration_ms` of simulated time at `seed`, on 1-3 ms links, with the primary crashed
/// at `crash_at_ns` and restarted `down_ns` later. Used by the driver's tests and by
/// `kvstore bench`. Panics on a failed run.
pub fn run_with_primary_crash(
    spec: &KvSpec,
    duration_ms: u64,
    crash_at_ns: Nanos,
    down_ns: Nanos,
    seed: u64,
) -> KvOutput {
    use faultline::engine::driver;
    use faultline::engine::plan::{Fault, NetworkPlan, Plan, PlannedFault, MAX_EVENTS};
    use faultline::engine::sampler::Sampler;
    use faultline::engine::selector::Selector;
    use faultline::engine::service::ServiceHost;
    use faultline::format::{Dur, Metrics, Network, Slo};
    use faultline::workload::{Context, Kind};

    const MS: Nanos = 1_000_000;
    let (network, metrics, slo) = (Network::default(), Metrics::default(), Slo::default());
    let context = Context {
        duration: Dur::from_millis(duration_ms),
        network: &network,
        faults: &[],
        random_faults: &[],
        metrics: &metrics,
        checks: &[],
        slo: &slo,
    };
    let resolution = Kv::resolve(spec, &context).expect("a valid spec");
    let plan = Plan {
        families: resolution.families,
        network: NetworkPlan {
            latency: Sampler::Uniform(MS, 3 * MS),
            drop_rate: 0.0,
            links: Vec::new(),
        },
        faults: vec![PlannedFault {
            at_ns: crash_at_ns,
            fault: Fault::Crash {
                nodes: Selector::parse("replica-0").expect("a selector"),
                restart_after_ns: Some(down_ns),
            },
            label: "replica-0".to_owned(),
        }],
        random_faults: Vec::new(),
        duration_ns: duration_ms * MS,
        window_ns: 1_000 * MS,
        max_events: MAX_EVENTS,
    };
    let config = resolution.config;
    // madsim wants a fresh thread per runtime, as the runner gives each run.
    #[allow(clippy::disallowed_methods)]
    let worker =
        std::thread::spawn(move || driver::run::<ServiceHost<KvStore>>(&config, &plan, seed, None));
    worker
        .join()
        .expect("no panic")
        .expect("the run completes")
        .workload
}
