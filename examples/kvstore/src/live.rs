//! The store for real: what `kvstore-live` (three replica processes and a client on
//! the `live` backend, the primary killed and restarted) and its test share: the peer
//! table handed to each process, and the assessment of a run's recovery.
//!
//! A run's history is what the client saw, on one clock (the parent's): every
//! operation with its invocation and, if the answer came, its completion. Operations
//! in flight at the kill stay open.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;

use faultline::engine::nodes::NodeId;
use faultline::engine::queue::Nanos;
use faultline::workload::history::{
    Budget, HistoryLog, Linearizability, OpKind, OpReport, Operation, Outcome,
};

/// The peer table as one line: `0=127.0.0.1:4100 1=127.0.0.1:4101 ...`.
pub fn format_peers(peers: &BTreeMap<NodeId, SocketAddr>) -> String {
    peers
        .iter()
        .map(|(node, addr)| format!("{node}={addr}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Reads a peer table line ([`format_peers`]). Only loopback addresses are accepted:
/// this example never addresses anything else.
pub fn parse_peers(line: &str) -> Result<BTreeMap<NodeId, SocketAddr>, String> {
    let mut peers = BTreeMap::new();
    for entry in line.split_whitespace() {
        let (node, addr) = entry
            .split_once('=')
            .ok_or_else(|| format!("peer {entry:?}: expected NODE=ADDRESS"))?;
        let node: NodeId = node
            .parse()
            .map_err(|err| format!("peer {entry:?}: node: {err}"))?;
        let addr: SocketAddr = addr
            .parse()
            .map_err(|err| format!("peer {entry:?}: address: {err}"))?;
        if !addr.ip().is_loopback() {
            return Err(format!("peer {entry:?}: only loopback addresses are used"));
        }
        if peers.insert(node, addr).is_some() {
            return Err(format!("peer {entry:?}: node {node} twice"));
        }
    }
    Ok(peers)
}

/// The history of `ops`, as the client reported it, for the `linearizable` checker.
pub fn history_of(ops: &[Operation]) -> HistoryLog {
    let mut reports: Vec<(Nanos, NodeId, OpReport)> = Vec::new();
    for op in ops {
        let number = op.id.0;
        reports.push((
            op.invoke_ns,
            op.client.0,
            OpReport::Invoke {
                op: number,
                key: op.key.0,
                kind: op.kind,
            },
        ));
        if let Some(done) = op.completion {
            reports.push((
                done.complete_ns,
                op.client.0,
                OpReport::Complete {
                    op: number,
                    outcome: done.outcome,
                },
            ));
        }
    }
    // In time order, invocations before completions at the same time (stable sort).
    reports.sort_by_key(|&(at_ns, _, _)| at_ns);
    let mut history = HistoryLog::new();
    for (at_ns, client, report) in reports {
        history.record(client, at_ns, report);
    }
    history
}

/// How a run's primary recovered (see [`assess`]).
#[derive(Clone, Debug, PartialEq)]
pub struct Recovery {
    /// Writes the client saw acknowledged before the kill.
    pub acked_before_kill: u64,
    /// Log records the restarted primary replayed.
    pub replayed: u64,
    /// Writes invoked after the restart and acknowledged.
    pub acked_after_restart: u64,
    /// Reads invoked after the restart that returned a value whose write was
    /// acknowledged before the kill.
    pub old_values_read_after_restart: u64,
    /// Operations left open (no answer: timed out, or in flight at the kill).
    pub open: u64,
    /// The whole history through the `linearizable` checker.
    pub linearizability: Linearizability,
}

/// Assesses a run whose primary was killed at `kill_ns` and restarted at `restart_ns`
/// (on the history's clock), replaying `replayed` records.
pub fn assess(ops: &[Operation], kill_ns: Nanos, restart_ns: Nanos, replayed: u64) -> Recovery {
    let acked_before: BTreeSet<u64> = ops
        .iter()
        .filter_map(|op| match (op.kind, op.completion) {
            (OpKind::Write(value), Some(done)) if done.complete_ns < kill_ns => Some(value),
            _ => None,
        })
        .collect();
    let after = |op: &&Operation| op.invoke_ns > restart_ns;
    let acked_after_restart = ops
        .iter()
        .filter(after)
        .filter(|op| matches!(op.kind, OpKind::Write(_)) && op.completion.is_some())
        .count() as u64;
    let old_values_read_after_restart = ops
        .iter()
        .filter(after)
        .filter(|op| {
            matches!(
                op.completion.map(|done| done.outcome),
                Some(Outcome::Read(value)) if acked_before.contains(&value)
            )
        })
        .count() as u64;
    Recovery {
        acked_before_kill: acked_before.len() as u64,
        replayed,
        acked_after_restart,
        old_values_read_after_restart,
        open: ops.iter().filter(|op| op.completion.is_none()).count() as u64,
        linearizability: history_of(ops).check(0, &Budget::default()),
    }
}

impl Recovery {
    /// What did not hold, in words (empty: the primary recovered from its log and
    /// served again, and the history is linearizable).
    pub fn failures(&self) -> Vec<String> {
        let mut failures = Vec::new();
        if self.acked_before_kill == 0 {
            failures.push("no write was acknowledged before the kill".to_owned());
        }
        if self.replayed < self.acked_before_kill {
            failures.push(format!(
                "the restarted primary replayed {} records, fewer than the {} writes acknowledged before the kill",
                self.replayed, self.acked_before_kill
            ));
        }
        if self.acked_after_restart == 0 {
            failures.push("no write was acknowledged after the restart".to_owned());
        }
        if self.old_values_read_after_restart == 0 {
            failures
                .push("no read after the restart saw a value written before the kill".to_owned());
        }
        if self.linearizability.violations() != Some(0.0) {
            let detail = match &self.linearizability.outcome {
                Err(reason) => reason.clone(),
                Ok(_) => faultline::workload::history::explain(
                    &self.linearizability.section(|node| format!("node {node}")),
                )
                .unwrap_or_default(),
            };
            failures.push(format!(
                "the history is {}: {detail}",
                self.linearizability.verdict()
            ));
        }
        failures
    }
}
