//! Histories of register operations and the `linearizable` check, for a service's
//! engine side.
//!
//! A client process reports each operation twice through `ctx.report`, one line each:
//! `OpReport::write(op, key, value)` when it sends the request, and
//! `OpReport::written(op)` (or `read_ok`, `cas_ok`) when the answer comes back. An
//! operation whose answer never comes (a timeout, a crash of the client) stays *open*:
//! it may or may not have taken effect. The engine side keeps them in a
//! [`HistoryLog`] and checks the whole history at the end of the run with
//! `faultline_models::linearizability` (Wing & Gong's search with Lowe's memoisation,
//! key by key, bounded): [`HistoryLog::check`]. A kind offers the check by adding
//! [`LINEARIZABLE`] to its checks and [`LINEARIZABILITY_FIGURE`] to its figures, and
//! the figure's value from [`Linearizability::violations`]; its record carries
//! [`Linearizability::section`], its tables [`witness_table`] of that section, and its
//! [`crate::workload::Kind::explain`] returns [`explain`] of it, so a failed check
//! names the witness in the terminal too.

use std::collections::BTreeMap;

use faultline_models::linearizability::{self, ClientId, Completion, History, KeyId, OpId};
use faultline_reports::figures::{Aggregate, Better, FigureSpec, Quantity, RecordTable};
use serde_json::{json, Value};

use crate::engine::nodes::NodeId;
use crate::engine::queue::Nanos;
use crate::format::check::{BoundKind, CheckSpec, Direction};

pub use faultline_models::linearizability::{Budget, OpKind, Operation, Outcome, Verdict};

/// The figure the `linearizable` check reads: 0 when the history is linearizable, 1
/// when it is not; not measured when the search ran out of budget (the check then
/// fails: undecided is not a pass).
pub const LINEARIZABILITY_FIGURE: FigureSpec = FigureSpec::new(
    "linearizability_violations",
    "linearizability violations",
    "histories",
    Better::Lower,
    Quantity::Count,
    Aggregate::FractionOfSeeds,
    "1 when the run's history of register operations has no linearization (the report shows the shortest failing part found), 0 when it has one.",
);

/// The `linearizable` check (`{"linearizable": true}` in a scenario).
pub const LINEARIZABLE: CheckSpec = CheckSpec {
    name: "linearizable",
    metric: "linearizability_violations",
    bound: BoundKind::Flag,
    direction: Direction::Holds,
    describe: |violations, _| {
        if violations == 0.0 {
            "the history is linearizable".to_owned()
        } else {
            "the history is not linearizable".to_owned()
        }
    },
};

/// Most operations a [`HistoryLog`] keeps; more are counted, and the history is then
/// not checked (a partial history proves nothing).
pub const MAX_HISTORY_OPS: usize = linearizability::MAX_OPS;

/// What a client reports of one operation (see the module documentation).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OpReport {
    /// The client sent operation `op` (its own number, unique per client).
    Invoke {
        /// The client's number for it.
        op: u64,
        /// The register.
        key: u32,
        /// What it asks.
        kind: OpKind,
    },
    /// The answer to `op` came back.
    Complete {
        /// The client's number for it.
        op: u64,
        /// The answer.
        outcome: Outcome,
    },
}

impl OpReport {
    /// A read of `key` sent.
    pub fn read(op: u64, key: u32) -> OpReport {
        OpReport::Invoke {
            op,
            key,
            kind: OpKind::Read,
        }
    }

    /// A write of `value` to `key` sent.
    pub fn write(op: u64, key: u32, value: u64) -> OpReport {
        OpReport::Invoke {
            op,
            key,
            kind: OpKind::Write(value),
        }
    }

    /// A compare-and-set of `key` from `expected` to `new` sent.
    pub fn cas(op: u64, key: u32, expected: u64, new: u64) -> OpReport {
        OpReport::Invoke {
            op,
            key,
            kind: OpKind::Cas { expected, new },
        }
    }

    /// A read answered with `value`.
    pub fn read_ok(op: u64, value: u64) -> OpReport {
        OpReport::Complete {
            op,
            outcome: Outcome::Read(value),
        }
    }

    /// A write acknowledged.
    pub fn written(op: u64) -> OpReport {
        OpReport::Complete {
            op,
            outcome: Outcome::Written,
        }
    }

    /// A compare-and-set answered: whether it swapped.
    pub fn cas_ok(op: u64, swapped: bool) -> OpReport {
        OpReport::Complete {
            op,
            outcome: Outcome::Cas(swapped),
        }
    }
}

/// The operations of a run, as the clients reported them (see the module
/// documentation).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct HistoryLog {
    /// By (client node, its number for the operation).
    ops: BTreeMap<(NodeId, u64), Operation>,
    /// Reports that did not fit: a completion of an unknown or already completed
    /// operation, an invocation reusing a number, an operation past the limit.
    refused: u64,
}

impl HistoryLog {
    /// An empty history.
    pub fn new() -> HistoryLog {
        HistoryLog::default()
    }

    /// Records what `node` reported at true time `now_ns`.
    pub fn record(&mut self, node: NodeId, now_ns: Nanos, report: OpReport) {
        match report {
            OpReport::Invoke { op, key, kind } => {
                if self.ops.len() >= MAX_HISTORY_OPS || self.ops.contains_key(&(node, op)) {
                    self.refused += 1;
                    return;
                }
                let id = OpId(self.ops.len() as u64);
                self.ops.insert(
                    (node, op),
                    Operation {
                        id,
                        key: KeyId(key),
                        client: ClientId(node),
                        invoke_ns: now_ns,
                        kind,
                        completion: None,
                    },
                );
            }
            OpReport::Complete { op, outcome } => match self.ops.get_mut(&(node, op)) {
                Some(operation) if operation.completion.is_none() => {
                    operation.completion = Some(Completion {
                        complete_ns: now_ns,
                        outcome,
                    });
                }
                _ => self.refused += 1,
            },
        }
    }

    /// The operations recorded, by client and number.
    pub fn operations(&self) -> impl Iterator<Item = &Operation> + '_ {
        self.ops.values()
    }

    /// Operations recorded.
    pub fn len(&self) -> usize {
        self.ops.len()
    }

    /// Whether nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }

    /// Reports that did not fit (see [`HistoryLog`]); a history with any is not
    /// checked.
    pub fn refused(&self) -> u64 {
        self.refused
    }

    /// Checks the history for linearizability as registers that start at
    /// `initial_value`, within `budget` per key.
    pub fn check(&self, initial_value: u64, budget: &Budget) -> Linearizability {
        let ops: Vec<Operation> = self.ops.values().copied().collect();
        let keys = {
            let mut keys: Vec<KeyId> = ops.iter().map(|op| op.key).collect();
            keys.sort_unstable();
            keys.dedup();
            keys.len()
        };
        let outcome = if self.refused > 0 {
            Err(format!(
                "{} operation reports did not fit the history (a completion without its invocation, a number reused, or more than {MAX_HISTORY_OPS} operations)",
                self.refused
            ))
        } else {
            History::new(initial_value, ops)
                .map(|history| linearizability::check(&history, budget))
                .map_err(|err| err.to_string())
        };
        Linearizability {
            outcome,
            operations: self.ops.len(),
            keys,
        }
    }
}

/// The answer of [`HistoryLog::check`].
#[derive(Clone, Debug, PartialEq)]
pub struct Linearizability {
    /// The verdict, or why the history could not be checked.
    pub outcome: Result<Verdict, String>,
    /// Operations in the history.
    pub operations: usize,
    /// Keys they touched.
    pub keys: usize,
}

impl Linearizability {
    /// The value of [`LINEARIZABILITY_FIGURE`]: 0 linearizable, 1 not, `None` undecided
    /// or unchecked.
    pub fn violations(&self) -> Option<f64> {
        match &self.outcome {
            Ok(Verdict::Linearizable) => Some(0.0),
            Ok(Verdict::NotLinearizable { .. }) => Some(1.0),
            Ok(Verdict::Undecided { .. }) | Err(_) => None,
        }
    }

    /// The verdict in a few words.
    pub fn verdict(&self) -> &'static str {
        match &self.outcome {
            Ok(Verdict::Linearizable) => "linearizable",
            Ok(Verdict::NotLinearizable { .. }) => "not linearizable",
            Ok(Verdict::Undecided { .. }) => "undecided within the budget",
            Err(_) => "not checked",
        }
    }

    /// The witness's operations as rows: operation, client, invoked and answered
    /// (seconds of simulated time), what it asked, what it got; `name` names a node.
    pub fn witness_rows(&self, name: impl Fn(NodeId) -> String) -> Vec<[String; 6]> {
        let Ok(Verdict::NotLinearizable { witness, .. }) = &self.outcome else {
            return Vec::new();
        };
        witness
            .ops
            .iter()
            .map(|op| {
                let asked = match op.kind {
                    OpKind::Read => format!("read key {}", op.key.0),
                    OpKind::Write(value) => format!("write {value} to key {}", op.key.0),
                    OpKind::Cas { expected, new } => {
                        format!("cas key {} {expected} -> {new}", op.key.0)
                    }
                };
                let got = match op.completion.map(|c| c.outcome) {
                    None => "open (no answer)".to_owned(),
                    Some(Outcome::Read(value)) => format!("read {value}"),
                    Some(Outcome::Written) => "ok".to_owned(),
                    Some(Outcome::Cas(true)) => "swapped".to_owned(),
                    Some(Outcome::Cas(false)) => "not swapped".to_owned(),
                };
                [
                    op.id.0.to_string(),
                    name(op.client.0),
                    seconds(op.invoke_ns),
                    op.completion
                        .map_or_else(|| "-".to_owned(), |c| seconds(c.complete_ns)),
                    asked,
                    got,
                ]
            })
            .collect()
    }

    /// The record section: verdict, sizes, and the witness or why there is none. The
    /// witness table ([`witness_table`]) and the failed check's words ([`explain`]) are
    /// read from it, so a record holds the witness once.
    pub fn section(&self, name: impl Fn(NodeId) -> String) -> Value {
        let detail = match &self.outcome {
            Ok(verdict @ Verdict::Undecided { key, explored }) => json!({
                "key": key.0, "states_explored": explored, "message": verdict.to_string(),
            }),
            Ok(Verdict::NotLinearizable { key, witness }) => json!({
                "key": key.0,
                "value_before": witness.value_before,
                "key_operations": witness.key_ops,
                "witness": self.witness_rows(&name).iter().map(|row| json!({
                    "op": row[0], "client": row[1], "invoked_s": row[2],
                    "answered_s": row[3], "asked": row[4], "got": row[5],
                })).collect::<Vec<_>>(),
            }),
            Ok(Verdict::Linearizable) => json!({}),
            Err(why) => json!({ "error": why }),
        };
        json!({
            "verdict": self.verdict(),
            "operations": self.operations,
            "keys": self.keys,
            "detail": detail,
        })
    }
}

/// The columns of a witness row in [`Linearizability::section`], in table order.
const WITNESS_COLUMNS: [&str; 6] = ["op", "client", "invoked_s", "answered_s", "asked", "got"];

/// The witness rows of a [`Linearizability::section`] (none unless not linearizable).
fn section_rows(section: &Value) -> Vec<Vec<String>> {
    let Some(rows) = section["detail"]["witness"].as_array() else {
        return Vec::new();
    };
    rows.iter()
        .map(|row| {
            WITNESS_COLUMNS
                .iter()
                .map(|column| row[column].as_str().unwrap_or_default().to_owned())
                .collect()
        })
        .collect()
}

/// The witness of a [`Linearizability::section`] as a table for the run's page (no rows
/// unless not linearizable).
pub fn witness_table(section: &Value) -> RecordTable {
    let detail = &section["detail"];
    let about = if detail["witness"].is_array() {
        format!(
            "The shortest part found of key {}'s {} operations that has no linearization; the register holds {} before the first.",
            detail["key"], detail["key_operations"], detail["value_before"]
        )
    } else {
        format!(
            "The history is {}.",
            section["verdict"].as_str().unwrap_or("not checked")
        )
    };
    let mut table = RecordTable::new(
        "linearizability_witness",
        "Linearizability witness",
        &about,
        &[
            "op",
            "client",
            "invoked (s)",
            "answered (s)",
            "asked",
            "got",
        ],
    );
    for row in section_rows(section) {
        table.push(row);
    }
    table
}

/// For a failed `linearizable` check, from a [`Linearizability::section`]: the witness
/// in one line (for the terminal), or why the history was not decided.
pub fn explain(section: &Value) -> Option<String> {
    let detail = &section["detail"];
    if detail["witness"].is_array() {
        let ops: Vec<String> = section_rows(section)
            .iter()
            .map(|row| {
                format!(
                    "{} {} at {}..{} s: {}",
                    row[1], row[4], row[2], row[3], row[5]
                )
            })
            .collect();
        return Some(format!(
            "key {} (holds {} before): {}",
            detail["key"],
            detail["value_before"],
            ops.join("; ")
        ));
    }
    if let Some(message) = detail["message"].as_str() {
        return Some(message.to_owned());
    }
    detail["error"]
        .as_str()
        .map(|why| format!("not checked: {why}"))
}

/// ns as seconds with 6 decimals.
fn seconds(ns: Nanos) -> String {
    format!("{:.6}", ns as f64 / 1e9)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(node: NodeId) -> String {
        format!("client-{node}")
    }

    #[test]
    fn a_stale_read_is_not_linearizable_and_its_witness_names_clients_and_times() {
        let mut log = HistoryLog::new();
        // client-1 writes 7 and is answered; client-2 then reads the old 0.
        log.record(1, 1_000, OpReport::write(1, 3, 7));
        log.record(1, 2_000, OpReport::written(1));
        log.record(2, 3_000, OpReport::read(1, 3));
        log.record(2, 4_000, OpReport::read_ok(1, 0));
        let checked = log.check(0, &Budget::default());
        assert_eq!(checked.violations(), Some(1.0));
        assert_eq!(checked.verdict(), "not linearizable");
        let section = checked.section(name);
        let line = explain(&section).expect("a witness");
        assert!(line.contains("client-1 write 7 to key 3"), "{line}");
        assert!(
            line.contains("client-2 read key 3 at 0.000003..0.000004 s: read 0"),
            "{line}"
        );
        let table = witness_table(&section);
        assert_eq!(table.rows.len(), 2);
        assert_eq!(table.rows[1][1], "client-2");
        assert_eq!(section["verdict"], "not linearizable");
    }

    #[test]
    fn an_open_write_may_have_happened_and_a_fresh_read_is_linearizable() {
        let mut log = HistoryLog::new();
        log.record(1, 1_000, OpReport::write(1, 0, 5)); // never answered
        log.record(2, 9_000, OpReport::read(1, 0));
        log.record(2, 9_500, OpReport::read_ok(1, 5));
        log.record(2, 9_600, OpReport::read(2, 0));
        log.record(2, 9_700, OpReport::read_ok(2, 5));
        let checked = log.check(0, &Budget::default());
        assert_eq!(checked.violations(), Some(0.0), "{:?}", checked.outcome);
        assert_eq!(explain(&checked.section(name)), None);
        assert!(witness_table(&checked.section(name)).rows.is_empty());
        assert_eq!(checked.keys, 1);
        assert_eq!(checked.operations, 3);
    }

    #[test]
    fn reports_that_do_not_fit_leave_the_history_unchecked() {
        let mut log = HistoryLog::new();
        log.record(1, 1_000, OpReport::written(9)); // no invocation
        log.record(1, 2_000, OpReport::read(1, 0));
        log.record(1, 2_500, OpReport::read(1, 0)); // the number again
        assert_eq!(log.refused(), 2);
        let checked = log.check(0, &Budget::default());
        assert_eq!(checked.violations(), None);
        assert_eq!(checked.verdict(), "not checked");
        assert!(explain(&checked.section(name))
            .expect("why")
            .contains("2 operation reports"));
    }

    #[test]
    fn a_search_past_its_budget_is_undecided_not_a_pass() {
        let mut log = HistoryLog::new();
        // Ten concurrent writes and a read that sees none of them in particular.
        for client in 0..10 {
            log.record(client, 1_000, OpReport::write(1, 0, u64::from(client) + 1));
        }
        for client in 0..10 {
            log.record(client, 50_000, OpReport::written(1));
        }
        log.record(20, 60_000, OpReport::read(1, 0));
        log.record(20, 70_000, OpReport::read_ok(1, 3));
        let tiny = Budget {
            max_states: 2,
            max_cache_bytes: 1 << 20,
            max_steps: 3,
        };
        let checked = log.check(0, &tiny);
        assert_eq!(checked.violations(), None, "{:?}", checked.outcome);
        assert_eq!(checked.verdict(), "undecided within the budget");
        assert!(explain(&checked.section(name))
            .expect("why")
            .starts_with("undecided: the search on key 0 used its budget"));
        // With the default budget the same history is linearizable (write 3 last).
        assert_eq!(log.check(0, &Budget::default()).violations(), Some(0.0));
    }
}
