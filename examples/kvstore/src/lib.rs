//! A replicated key-value store under Faultline: the example a user copies.
//!
//! [`store`] is the code under test, three replicas and their clients as
//! `async fn main(ctx)`; [`KvStore`] is its engine side, which sees what they report
//! (what a production store would log: requests invoked, answers received, recoveries)
//! and checks two invariants at the end of the run:
//!
//! - **acknowledged writes survive**: every write a client was told is stored is in the
//!   primary's log at the end, at the index it was acknowledged with;
//! - **reads see writes**: a read returns a value some write wrote (or nothing, for a
//!   key never written), and not one older than a write acknowledged before the read
//!   began.
//!
//! [`Kv`] declares the kind to Faultline: its scenario keys ([`KvSpec`], `"kind":
//! "kvstore"`), its node families, its figures and its checks, so scenario files,
//! sweeps, shrinking and reports work for it as for the built-in workloads.
#![forbid(unsafe_code)]

pub mod kind;
pub mod store;

use std::collections::BTreeMap;

use faultline::engine::disk::DiskConfig;
use faultline::engine::nodes::{Family, NodeId};
use faultline::engine::process::Init;
use faultline::engine::queue::Nanos;
use faultline::engine::service::{Finishing, Hosting, Main, Service};
use faultline::engine::EngineError;

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

/// One request as the clients reported it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Request {
    /// The key.
    pub key: u64,
    /// The value written, for a write.
    pub write: Option<u64>,
    /// When it was sent, ns.
    pub invoked_ns: Nanos,
    /// When its answer came, ns (`None`: it timed out, or the run ended first).
    pub answered_ns: Option<Nanos>,
    /// The log index its answer named.
    pub index: u64,
    /// The value a read returned.
    pub read: u64,
}

/// The store's engine side: what the nodes reported.
#[derive(Debug, Default)]
pub struct KvStore {
    /// Requests by (client node, request number).
    requests: BTreeMap<(NodeId, u64), Request>,
    timeouts: u64,
    recoveries: u64,
    /// Answered requests per metrics window.
    answered_per_window: Vec<u64>,
    window_ns: Nanos,
}

/// A finished run of the store.
#[derive(Clone, Debug, Default, PartialEq)]
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
            Main::new(node, move |ctx| store::replica(ctx, store.clone()))
        } else {
            Main::new(node, move |ctx| store::client(ctx, store.clone()))
        })
    }

    fn disk(config: &KvConfig, family: &Family) -> Option<DiskConfig> {
        (family.prefix == kind::REPLICA_PREFIX).then(|| config.disk.clone())
    }

    fn start(_config: &KvConfig, host: &mut Hosting<'_, Self>) -> Result<Self, EngineError> {
        Ok(KvStore {
            answered_per_window: vec![0; host.kernel().window_count()],
            window_ns: host.kernel().window_ns(),
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
        let mut answered = |requests: &mut BTreeMap<(NodeId, u64), Request>, req, index, read| {
            if let Some(request) = requests.get_mut(&(node, req)) {
                request.answered_ns = Some(now_ns);
                request.index = index;
                request.read = read;
            }
            let window = (now_ns / self.window_ns) as usize;
            if let Some(count) = self.answered_per_window.get_mut(window) {
                *count += 1;
            }
        };
        match report {
            Report::Recovered { .. } => self.recoveries += 1,
            Report::Invoked { req, key, write } => {
                self.requests.insert(
                    (node, req),
                    Request {
                        key,
                        write,
                        invoked_ns: now_ns,
                        ..Request::default()
                    },
                );
            }
            Report::Written { req, index } => answered(&mut self.requests, req, index, 0),
            Report::Read { req, value, index } => answered(&mut self.requests, req, index, value),
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
        let requests: Vec<&Request> = self.requests.values().collect();
        let (acked_writes_lost, read_violations, examples) = check(&requests, &log);
        Ok(KvOutput {
            invoked: requests.len() as u64,
            writes_acked: requests
                .iter()
                .filter(|r| r.write.is_some() && r.answered_ns.is_some())
                .count() as u64,
            reads_answered: requests
                .iter()
                .filter(|r| r.write.is_none() && r.answered_ns.is_some())
                .count() as u64,
            timeouts: self.timeouts,
            // Each replica boots once at the start; every boot after is a recovery.
            recoveries: self.recoveries.saturating_sub(u64::from(REPLICAS)),
            acked_writes_lost,
            read_violations,
            final_log_records: log.len() as u64,
            examples,
            answered_per_window: self.answered_per_window,
        })
    }
}

/// Checks the two invariants (see the crate documentation) on the requests and the
/// primary's final log: (acknowledged writes lost, read violations, examples).
pub fn check(requests: &[&Request], log: &[(u64, u64)]) -> (u64, u64, Vec<String>) {
    let mut examples = Vec::new();
    let mut note = |text: String| {
        if examples.len() < 10 {
            examples.push(text);
        }
    };
    let mut lost = 0;
    // Every value written, by key, and the acknowledged writes in answer order.
    let mut written: BTreeMap<(u64, u64), ()> = BTreeMap::new();
    let mut acked: Vec<(Nanos, u64, u64)> = Vec::new();
    for request in requests {
        let Some(value) = request.write else { continue };
        written.insert((request.key, value), ());
        if let Some(at_ns) = request.answered_ns {
            acked.push((at_ns, request.key, request.index));
            let at = request.index.checked_sub(1).map(|i| i as usize);
            if at.and_then(|i| log.get(i)) != Some(&(request.key, value)) {
                lost += 1;
                note(format!(
                    "write of {value} to key {} acknowledged at log index {} is not in the primary's log",
                    request.key, request.index
                ));
            }
        }
    }
    acked.sort_unstable();
    let mut violations = 0;
    for request in requests {
        if request.write.is_some() {
            continue;
        }
        let Some(answered_ns) = request.answered_ns else {
            continue;
        };
        let value = request.read;
        if value != 0 && !written.contains_key(&(request.key, value)) {
            violations += 1;
            note(format!(
                "read of key {} at {answered_ns} ns returned {value}, which no write wrote",
                request.key
            ));
            continue;
        }
        // The newest write to the key acknowledged before the read began.
        let newest = acked
            .iter()
            .take_while(|(at_ns, _, _)| *at_ns < request.invoked_ns)
            .filter(|(_, key, _)| *key == request.key)
            .map(|(_, _, index)| *index)
            .max()
            .unwrap_or(0);
        if request.index < newest {
            violations += 1;
            note(format!(
                "read of key {} at {answered_ns} ns returned log index {}, older than index {newest} acknowledged before it began",
                request.key, request.index
            ));
        }
    }
    (lost, violations, examples)
}
