//! Linearizability checking of single-key register histories.
//!
//! A history is a set of operations on registers, each with an invocation time and,
//! if its client saw the answer, a completion time and a result. It is linearizable
//! (Herlihy & Wing, "Linearizability: A Correctness Condition for Concurrent Objects",
//! TOPLAS 1990) when there is a total order of its operations that respects real time
//! (an operation that completed before another was invoked comes first) and in which
//! every completed operation returns what a single register would have returned.
//!
//! An operation whose client crashed or timed out stays *open*: it may have taken effect
//! at any instant after its invocation, or never (Jepsen's Knossos and Athalye's
//! Porcupine treat such operations the same way). An open read constrains nothing and is
//! left out of the search; an open write or compare-and-set may be placed anywhere after
//! its invocation or not at all.
//!
//! The check ([`check`]):
//! - **Per-key decomposition.** A history of independent registers is linearizable iff
//!   each key's sub-history is (linearizability is local, Herlihy & Wing theorem 1;
//!   Horn & Kroening, "Faster linearizability checking via P-compositionality", FORTE
//!   2015, which Porcupine applies to partition histories). Keys are checked one at a
//!   time in ascending order, so the search's memory is one key's.
//! - **Search.** Wing & Gong's backtracking search ("Testing and verifying concurrent
//!   objects", JPDC 1993): repeatedly pick an operation that no unplaced completed
//!   operation precedes in real time and that is legal in the current register value,
//!   place it, and backtrack on a dead end; with Lowe's memoisation ("Testing for
//!   linearizability", Concurrency and Computation 2017, as in Porcupine): a cache of
//!   the (set of placed operations, register value) configurations already explored,
//!   since the future of a configuration does not depend on the order that reached it.
//!   The search succeeds once every completed operation is placed: unplaced open
//!   operations are the ones that never took effect. One reduction of our own: a
//!   candidate read or failed compare-and-set that is legal is placed at once, with no
//!   alternatives tried before it (it changes nothing, so any linearization from there
//!   can be reordered to start with it); on histories with ten operations of a key in
//!   flight this turned a search that exhausted a million states into one of
//!   milliseconds.
//! - **Bounded.** A [`Budget`] caps the cache entries (states), their bytes and the
//!   search steps per key, so a check always ends: with [`Verdict::Undecided`] and the
//!   states it explored when the budget runs out, never with a hang or unbounded memory.
//!   No wall clock is read; the budget counts work.
//! - **Witness.** On a violation the failing key's operations are shrunk to a short
//!   sub-history that is still not linearizable ([`Witness`]), by removals that keep the
//!   sub-history's failure a proof of the whole history's (so the witness never blames a
//!   read on a write that was only removed): completed reads and failed compare-and-sets
//!   (they change nothing, so the whole history's linearization minus them would order
//!   the rest), a write that precedes every other operation when the next one is such a
//!   write too (folded into the value before the witness; the last is kept, to be
//!   shown), a write or compare-and-set that follows every other operation (it
//!   could only go last), and, in a key without compare-and-sets, a write whose value
//!   no operation left reads (a linearization of the whole minus it is one of the rest). Shrinking gets a second step allowance of the budget's size.
//!
//! Real-time order: `a` precedes `b` iff `a` completed and `a.complete_ns <
//! b.invoke_ns`; equal times count as concurrent, since a simulation's nanosecond
//! timestamps can coincide for events in either order.
//!
//! # Invariants (checked with `debug_assert!`)
//!
//! - The search's stack of placed operations and its bitset agree when it ends (it
//!   ends on an empty stack with nothing placed when there is no linearization).
//! - A `Linearizable` answer's order is a linearization: replayed from the initial
//!   value every operation is legal, and no operation follows one that completed
//!   before it was invoked.
//! - The cache never exceeds the budget's states or bytes.
//! - A witness is itself not linearizable and only holds operations of its key's
//!   history.
//!
//! # Performance
//!
//! Generated linearizable histories of 10,000 operations over 100 keys, some open, with
//! a mean of 1 and then 10 operations of a key in flight, are generated and checked in
//! 0.06 s together, in 6 MB of memory (`cargo test --release -p faultline-models --
//! --ignored ten_thousand_operations`). The cost grows exponentially with the
//! operations of a key in flight at once, not with the length: at a mean of 50 the
//! default budget runs out, and an adversarial violation (24 mutually concurrent
//! writes, a concurrent read each, and a read of a value nobody wrote) uses the default
//! budget's million states in about 3 s and 76 MB, and answers undecided.

use core::fmt;
use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

/// Most operations a history may hold, checked before anything is allocated.
pub const MAX_OPS: usize = 1_000_000;

/// A register (a key of the store).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct KeyId(pub u32);

/// A client (process) that invoked operations.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ClientId(pub u32);

/// An operation's id, unique in its history.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct OpId(pub u64);

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "key {}", self.0)
    }
}

impl fmt::Display for ClientId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "client {}", self.0)
    }
}

impl fmt::Display for OpId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "op {}", self.0)
    }
}

/// What an operation asks of its register.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OpKind {
    /// Read the value.
    Read,
    /// Set the value.
    Write(u64),
    /// Set the value to `new` if it is `expected`.
    Cas {
        /// The value the register must hold for the swap.
        expected: u64,
        /// The value it then holds.
        new: u64,
    },
}

/// What a completed operation returned; it must match the operation's kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// A read's value.
    Read(u64),
    /// A write's acknowledgement.
    Written,
    /// Whether a compare-and-set swapped.
    Cas(bool),
}

/// The completion of an operation: when its client saw the answer, and the answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Completion {
    /// When the client saw the answer, ns on the history's clock.
    pub complete_ns: u64,
    /// The answer.
    pub outcome: Outcome,
}

/// One operation of a history.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Operation {
    /// Unique in the history.
    pub id: OpId,
    /// The register it acts on.
    pub key: KeyId,
    /// The client that invoked it (shown in witnesses; the check does not use it, so a
    /// client that timed out may go on with other operations).
    pub client: ClientId,
    /// When it was invoked, ns on the history's clock.
    pub invoke_ns: u64,
    /// What it asks.
    pub kind: OpKind,
    /// `None`: open (its client crashed or timed out); it may or may not have taken
    /// effect, at any time after `invoke_ns`.
    pub completion: Option<Completion>,
}

impl Operation {
    fn complete_ns(&self) -> Option<u64> {
        self.completion.map(|c| c.complete_ns)
    }

    /// A completed operation that cannot change the register: a read or a failed
    /// compare-and-set.
    fn is_observer(&self) -> bool {
        matches!(
            self.completion.map(|c| c.outcome),
            Some(Outcome::Read(_)) | Some(Outcome::Cas(false))
        )
    }
}

impl fmt::Display for Operation {
    /// `op 7  client 1  1,000..2,000 ns  write 1 -> ok`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.kind {
            OpKind::Read => "read".to_string(),
            OpKind::Write(v) => format!("write {v}"),
            OpKind::Cas { expected, new } => format!("cas {expected} -> {new}"),
        };
        let answer = match self.completion.map(|c| c.outcome) {
            None => "open".to_string(),
            Some(Outcome::Read(v)) => v.to_string(),
            Some(Outcome::Written) => "ok".to_string(),
            Some(Outcome::Cas(true)) => "swapped".to_string(),
            Some(Outcome::Cas(false)) => "failed".to_string(),
        };
        let end = match self.complete_ns() {
            Some(ns) => grouped(ns),
            None => "open".to_string(),
        };
        write!(
            f,
            "{}  {}  {}..{} ns  {what}: {answer}",
            self.id,
            self.client,
            grouped(self.invoke_ns),
            end
        )
    }
}

/// `1234567` as `1,234,567`.
fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Why a history is refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HistoryError {
    /// More than [`MAX_OPS`] operations.
    TooManyOps {
        /// Operations given.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// Two operations share an id.
    DuplicateId {
        /// The id.
        id: OpId,
    },
    /// An operation completed before it was invoked.
    CompletedBeforeInvoked {
        /// The operation.
        id: OpId,
        /// Its invocation, ns.
        invoke_ns: u64,
        /// Its completion, ns.
        complete_ns: u64,
    },
    /// A completed operation's outcome is not of its kind (a read acknowledged as a
    /// write, ...).
    OutcomeMismatch {
        /// The operation.
        id: OpId,
        /// What it asked.
        kind: OpKind,
        /// What it returned.
        outcome: Outcome,
    },
}

impl fmt::Display for HistoryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HistoryError::TooManyOps { count, max } => write!(
                f,
                "the history has {} operations, over the limit of {}",
                grouped(*count as u64),
                grouped(*max as u64)
            ),
            HistoryError::DuplicateId { id } => {
                write!(f, "{id} appears more than once in the history")
            }
            HistoryError::CompletedBeforeInvoked {
                id,
                invoke_ns,
                complete_ns,
            } => write!(
                f,
                "{id} completed at {} ns, before it was invoked at {} ns",
                grouped(*complete_ns),
                grouped(*invoke_ns)
            ),
            HistoryError::OutcomeMismatch { id, kind, outcome } => {
                write!(f, "{id} is a {kind:?} but completed with {outcome:?}")
            }
        }
    }
}

impl std::error::Error for HistoryError {}

/// A validated history: every register starts at `initial_value`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct History {
    initial_value: u64,
    ops: Vec<Operation>,
}

impl History {
    /// Checks `ops` and makes a history whose registers start at `initial_value`.
    ///
    /// # Errors
    ///
    /// [`HistoryError`]: too many operations, a duplicate id, a completion before its
    /// invocation, or an outcome of the wrong kind.
    pub fn new(initial_value: u64, ops: Vec<Operation>) -> Result<Self, HistoryError> {
        if ops.len() > MAX_OPS {
            return Err(HistoryError::TooManyOps {
                count: ops.len(),
                max: MAX_OPS,
            });
        }
        for op in &ops {
            if let Some(c) = op.completion {
                if c.complete_ns < op.invoke_ns {
                    return Err(HistoryError::CompletedBeforeInvoked {
                        id: op.id,
                        invoke_ns: op.invoke_ns,
                        complete_ns: c.complete_ns,
                    });
                }
                let fits = matches!(
                    (op.kind, c.outcome),
                    (OpKind::Read, Outcome::Read(_))
                        | (OpKind::Write(_), Outcome::Written)
                        | (OpKind::Cas { .. }, Outcome::Cas(_))
                );
                if !fits {
                    return Err(HistoryError::OutcomeMismatch {
                        id: op.id,
                        kind: op.kind,
                        outcome: c.outcome,
                    });
                }
            }
        }
        let mut ids: Vec<OpId> = ops.iter().map(|op| op.id).collect();
        ids.sort_unstable();
        if let Some(pair) = ids.windows(2).find(|w| w[0] == w[1]) {
            return Err(HistoryError::DuplicateId { id: pair[0] });
        }
        Ok(Self { initial_value, ops })
    }

    /// A history whose registers start at 0.
    ///
    /// # Errors
    ///
    /// As [`History::new`].
    pub fn from_ops(ops: Vec<Operation>) -> Result<Self, HistoryError> {
        Self::new(0, ops)
    }

    /// The value every register holds before the first operation.
    pub fn initial_value(&self) -> u64 {
        self.initial_value
    }

    /// The operations, in the order given.
    pub fn ops(&self) -> &[Operation] {
        &self.ops
    }
}

/// How much work a check may do per key before it answers [`Verdict::Undecided`]; the
/// witness's shrinking gets as much again.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Budget {
    /// Most configurations (placed set, register value) cached per key.
    pub max_states: u64,
    /// Most bytes the cache may take per key (estimated: the bitset, the value and a
    /// B-tree entry's overhead).
    pub max_cache_bytes: u64,
    /// Most candidate operations tried per key. A check of `k` keys does at most `k`
    /// times this work, plus as much again to shrink one witness.
    pub max_steps: u64,
}

impl Default for Budget {
    /// One million states, 256 MiB of cache and a hundred million steps per key: a few
    /// seconds of search on a laptop at most.
    fn default() -> Self {
        Self {
            max_states: 1_000_000,
            max_cache_bytes: 256 << 20,
            max_steps: 100_000_000,
        }
    }
}

/// A short sub-history of one key that has no linearization.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Witness {
    /// The key.
    pub key: KeyId,
    /// The register's value before the witness's first operation: the history's
    /// initial value, or the value of a write folded in while shrinking.
    pub value_before: u64,
    /// The operations, by invocation time.
    pub ops: Vec<Operation>,
    /// Operations of the key in the whole history (open reads included).
    pub key_ops: usize,
}

impl fmt::Display for Witness {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let verb = if self.ops.len() == 1 { "has" } else { "have" };
        writeln!(
            f,
            "{}: {} of its {} operations {verb} no linearization (the register holds {} before the first):",
            self.key,
            self.ops.len(),
            self.key_ops,
            self.value_before
        )?;
        let rows: Vec<[String; 4]> = self
            .ops
            .iter()
            .map(|op| {
                let line = op.to_string();
                let mut parts = line.splitn(4, "  ").map(str::to_string);
                [(); 4].map(|()| parts.next().unwrap_or_default())
            })
            .collect();
        let mut widths = [0usize; 4];
        for row in &rows {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.chars().count());
            }
        }
        for row in &rows {
            writeln!(
                f,
                "  {:<w0$}  {:<w1$}  {:>w2$}  {}",
                row[0],
                row[1],
                row[2],
                row[3],
                w0 = widths[0],
                w1 = widths[1],
                w2 = widths[2]
            )?;
        }
        Ok(())
    }
}

/// The answer of [`check`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Every key's sub-history has a linearization.
    Linearizable,
    /// `key`'s sub-history has none; `witness` is a short part of it that has none.
    NotLinearizable {
        /// The first key (ascending) found not linearizable.
        key: KeyId,
        /// A short non-linearizable sub-history of that key.
        witness: Witness,
    },
    /// The budget ran out on `key` before its search ended (and no key was found not
    /// linearizable).
    Undecided {
        /// The first key (ascending) left undecided.
        key: KeyId,
        /// Configurations cached when the budget ran out.
        explored: u64,
    },
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Verdict::Linearizable => write!(f, "linearizable"),
            Verdict::NotLinearizable { witness, .. } => {
                write!(f, "not linearizable: {witness}")
            }
            Verdict::Undecided { key, explored } => write!(
                f,
                "undecided: the search on {key} used its budget ({} states explored)",
                grouped(*explored)
            ),
        }
    }
}

/// Checks `history` for linearizability as a set of registers, key by key, within
/// `budget` per key.
pub fn check(history: &History, budget: &Budget) -> Verdict {
    let mut by_key: BTreeMap<KeyId, Vec<Operation>> = BTreeMap::new();
    for op in &history.ops {
        by_key.entry(op.key).or_default().push(*op);
    }
    let mut undecided = None;
    for (key, ops) in by_key {
        let key_ops = ops.len();
        match search(&Register, &ops, history.initial_value, budget).0 {
            Search::Linearizable => {}
            Search::NotLinearizable => {
                let (value_before, witness_ops) =
                    shrink(ops.clone(), history.initial_value, budget);
                debug_assert!(witness_ops.iter().all(|w| ops.contains(w)));
                let ops = witness_ops;
                return Verdict::NotLinearizable {
                    key,
                    witness: Witness {
                        key,
                        value_before,
                        ops,
                        key_ops,
                    },
                };
            }
            Search::Undecided { explored } => {
                undecided.get_or_insert(Verdict::Undecided { key, explored });
            }
        }
    }
    undecided.unwrap_or(Verdict::Linearizable)
}

/// A sequential specification the search checks against.
trait Sequential {
    /// The object's state; ordered, as the cache is a B-tree (no hash order may reach a
    /// result).
    type State: Clone + Ord;

    /// The state after `op` if `op` is legal in `state` with the outcome it returned;
    /// `None` if it is not. Open operations are legal when they could have taken
    /// effect; an open operation that would change nothing need not be placed.
    fn step(&self, state: &Self::State, op: &Operation) -> Option<Self::State>;
}

/// One register.
struct Register;

impl Sequential for Register {
    type State = u64;

    fn step(&self, value: &u64, op: &Operation) -> Option<u64> {
        register_step(*value, op)
    }
}

/// A register's sequential specification.
fn register_step(value: u64, op: &Operation) -> Option<u64> {
    let outcome = op.completion.map(|c| c.outcome);
    match (op.kind, outcome) {
        (OpKind::Read, Some(Outcome::Read(read))) => (read == value).then_some(value),
        // An open read could have seen anything.
        (OpKind::Read, _) => Some(value),
        (OpKind::Write(v), _) => Some(v),
        (OpKind::Cas { expected, new }, Some(Outcome::Cas(true))) => {
            (value == expected).then_some(new)
        }
        (OpKind::Cas { expected, .. }, Some(Outcome::Cas(false))) => {
            (value != expected).then_some(value)
        }
        // Open: placing it is only worth it where it swaps; a failed swap is the same
        // as never taking effect.
        (OpKind::Cas { expected, new }, _) => (value == expected).then_some(new),
    }
}

/// The result of one search.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Search {
    Linearizable,
    NotLinearizable,
    Undecided { explored: u64 },
}

/// A fixed-size set of operation indices.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Bitset(Box<[u64]>);

impl Bitset {
    fn new(len: usize) -> Self {
        Self(vec![0; len.div_ceil(64)].into_boxed_slice())
    }

    fn contains(&self, i: usize) -> bool {
        self.0[i / 64] & (1 << (i % 64)) != 0
    }

    fn insert(&mut self, i: usize) {
        self.0[i / 64] |= 1 << (i % 64);
    }

    fn remove(&mut self, i: usize) {
        self.0[i / 64] &= !(1 << (i % 64));
    }

    fn count(&self) -> usize {
        self.0.iter().map(|w| w.count_ones() as usize).sum()
    }
}

/// Wing & Gong's search with Lowe's cache over `ops` (any order), from `initial`; also
/// returns the steps (candidates tried) it took.
fn search<M: Sequential>(
    model: &M,
    ops: &[Operation],
    initial: M::State,
    budget: &Budget,
) -> (Search, u64) {
    // Open reads constrain nothing: leave them out.
    let mut ops: Vec<Operation> = ops
        .iter()
        .filter(|op| op.completion.is_some() || op.kind != OpKind::Read)
        .copied()
        .collect();
    // Candidates come in invocation order, so a scan stops at the first operation
    // invoked after the earliest pending completion.
    ops.sort_by_key(|op| (op.invoke_ns, op.id));
    let n = ops.len();
    let completed = ops.iter().filter(|op| op.completion.is_some()).count();
    // Completed operations by completion time: the first unplaced one bounds the
    // candidates.
    let mut by_completion: Vec<usize> = (0..n).filter(|&i| ops[i].completion.is_some()).collect();
    by_completion.sort_by_key(|&i| (ops[i].complete_ns(), i));

    let entry_bytes = (n.div_ceil(64) * 8 + core::mem::size_of::<M::State>() + 48) as u64;
    let mut cache: BTreeSet<(Bitset, M::State)> = BTreeSet::new();
    let mut placed = Bitset::new(n);
    let mut placed_completed = 0usize;
    let mut state = initial.clone();
    // Placed operations in order, each with the state before it and whether it was a
    // forced observer.
    let mut stack: Vec<(usize, M::State, bool)> = Vec::new();
    let mut cursor = 0usize;
    let mut steps = 0u64;
    loop {
        if placed_completed == completed {
            debug_assert_eq!(stack.len(), placed.count());
            debug_assert!(is_linearization(model, &ops, &stack, &initial));
            return (Search::Linearizable, steps);
        }
        let earliest_completion = by_completion
            .iter()
            .find(|&&i| !placed.contains(i))
            .and_then(|&i| ops[i].complete_ns())
            .unwrap_or(u64::MAX);
        // A legal observer (a read, a failed compare-and-set) among the candidates is
        // placed at once, without trying the others first: it changes nothing, so any
        // linearization from here can be reordered to start with it (a partial-order
        // reduction; nothing it could be moved before precedes it in real time). If
        // it leads nowhere, neither does this configuration.
        let mut chosen = None;
        let mut dead = false;
        let passes: &[bool] = if cursor == 0 {
            &[true, false]
        } else {
            &[false]
        };
        'passes: for &observers_only in passes {
            let mut i = if observers_only { 0 } else { cursor };
            while i < n && ops[i].invoke_ns <= earliest_completion {
                steps += 1;
                if steps > budget.max_steps {
                    let explored = cache.len() as u64;
                    return (Search::Undecided { explored }, steps);
                }
                let eligible = !placed.contains(i) && (!observers_only || ops[i].is_observer());
                if let Some(next) = eligible.then(|| model.step(&state, &ops[i])).flatten() {
                    placed.insert(i);
                    let config = (placed.clone(), next);
                    if !cache.contains(&config) {
                        let states = cache.len() as u64 + 1;
                        if states > budget.max_states
                            || states.saturating_mul(entry_bytes) > budget.max_cache_bytes
                        {
                            let explored = cache.len() as u64;
                            return (Search::Undecided { explored }, steps);
                        }
                        chosen = Some((i, config.1.clone(), observers_only));
                        cache.insert(config);
                        break 'passes;
                    }
                    placed.remove(i);
                    if observers_only {
                        // Explored before, and failed: so does this configuration.
                        dead = true;
                        break 'passes;
                    }
                }
                i += 1;
            }
        }
        match chosen.filter(|_| !dead) {
            Some((i, next, forced)) => {
                debug_assert!(cache.len() as u64 <= budget.max_states);
                debug_assert!(
                    (cache.len() as u64).saturating_mul(entry_bytes) <= budget.max_cache_bytes
                );
                stack.push((i, core::mem::replace(&mut state, next), forced));
                placed_completed += usize::from(ops[i].completion.is_some());
                cursor = 0;
            }
            None => match stack.pop() {
                None => {
                    debug_assert!(placed.count() == 0 && placed_completed == 0);
                    return (Search::NotLinearizable, steps);
                }
                Some((i, before, forced)) => {
                    placed.remove(i);
                    placed_completed -= usize::from(ops[i].completion.is_some());
                    state = before;
                    // After a forced observer there is nothing else to try here.
                    cursor = if forced { n } else { i + 1 };
                }
            },
        }
    }
}

/// Whether `stack`'s order is a linearization of its operations: legal from `initial`,
/// and no operation placed before one that completed before it was invoked.
fn is_linearization<M: Sequential>(
    model: &M,
    ops: &[Operation],
    stack: &[(usize, M::State, bool)],
    initial: &M::State,
) -> bool {
    let mut state = initial.clone();
    for (i, _, _) in stack {
        match model.step(&state, &ops[*i]) {
            Some(next) => state = next,
            None => return false,
        }
    }
    // Scanning from the end: each operation was invoked no later than the earliest
    // completion among those placed after it.
    let mut earliest_later = u64::MAX;
    for (i, _, _) in stack.iter().rev() {
        if ops[*i].invoke_ns > earliest_later {
            return false;
        }
        if let Some(ns) = ops[*i].complete_ns() {
            earliest_later = earliest_later.min(ns);
        }
    }
    true
}

/// Whether `ops[0]` is a completed write that completed before every other operation
/// was invoked.
fn precedes_rest(ops: &[Operation]) -> bool {
    matches!(ops[0].kind, OpKind::Write(_))
        && ops[0]
            .complete_ns()
            .is_some_and(|done| ops[1..].iter().all(|op| done < op.invoke_ns))
}

/// Shrinks one key's non-linearizable `ops` (from `initial`) to a short sub-history that
/// is still not linearizable and whose failure implies theirs (see the module docs).
/// Returns the value before the witness and its operations by invocation time.
fn shrink(ops: Vec<Operation>, initial: u64, budget: &Budget) -> (u64, Vec<Operation>) {
    let mut ops: Vec<Operation> = ops
        .into_iter()
        .filter(|op| op.completion.is_some() || op.kind != OpKind::Read)
        .collect();
    ops.sort_by_key(|op| (op.invoke_ns, op.id));
    let mut value = initial;
    let mut steps_left = budget.max_steps;
    // Each trial is a full search; they share one step allowance.
    let still_fails = |candidate: &[Operation], from: u64, steps_left: &mut u64| {
        if *steps_left == 0 {
            return false;
        }
        let trial = Budget {
            max_steps: *steps_left,
            ..*budget
        };
        let (result, used) = search(&Register, candidate, from, &trial);
        *steps_left = steps_left.saturating_sub(used);
        result == Search::NotLinearizable
    };
    loop {
        let mut changed = false;
        // A write before every other operation only sets the value the rest start from;
        // fold it in if the next one is such a write too (the last stays, to be shown).
        if ops.len() > 2 && precedes_rest(&ops) && precedes_rest(&ops[1..]) {
            if let OpKind::Write(v) = ops[0].kind {
                if still_fails(&ops[1..], v, &mut steps_left) {
                    ops.remove(0);
                    value = v;
                    changed = true;
                }
            }
        }
        // Observers, newest first: a stale read is usually late.
        let mut i = ops.len();
        while i > 0 {
            i -= 1;
            if ops[i].is_observer() && ops.len() > 1 {
                let mut candidate = ops.clone();
                candidate.remove(i);
                if still_fails(&candidate, value, &mut steps_left) {
                    ops = candidate;
                    changed = true;
                }
            }
        }
        // A write whose value nothing left reads, in a key without compare-and-sets:
        // a linearization of the whole minus it is one of the rest (no read's latest
        // write changes), so the rest failing still proves the whole fails. Newest
        // first; this is what cuts a stale read among many overlapping writes down to
        // the writes it is about.
        if !ops.iter().any(|op| matches!(op.kind, OpKind::Cas { .. })) {
            let mut i = ops.len();
            while i > 0 && ops.len() > 1 {
                i -= 1;
                let OpKind::Write(v) = ops[i].kind else {
                    continue;
                };
                let read = ops.iter().any(|op| {
                    matches!(op.completion.map(|c| c.outcome), Some(Outcome::Read(r)) if r == v)
                });
                if read {
                    continue;
                }
                let mut candidate = ops.clone();
                candidate.remove(i);
                if still_fails(&candidate, value, &mut steps_left) {
                    ops = candidate;
                    changed = true;
                }
            }
        }
        // A mutator after every other operation could only be placed last.
        if let Some(last) = ops.len().checked_sub(1).filter(|&l| l > 0) {
            let invoked = ops[last].invoke_ns;
            let after_all = ops[..last]
                .iter()
                .all(|op| op.complete_ns().is_some_and(|ns| ns < invoked));
            if after_all
                && !ops[last].is_observer()
                && still_fails(&ops[..last], value, &mut steps_left)
            {
                ops.pop();
                changed = true;
            }
        }
        if !changed || steps_left == 0 {
            break;
        }
    }
    debug_assert!(search(&Register, &ops, value, budget).0 != Search::Linearizable);
    (value, ops)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    fn op(id: u64, invoke_ns: u64, kind: OpKind, completion: Option<(u64, Outcome)>) -> Operation {
        Operation {
            id: OpId(id),
            key: KeyId(0),
            client: ClientId(id as u32),
            invoke_ns,
            kind,
            completion: completion.map(|(complete_ns, outcome)| Completion {
                complete_ns,
                outcome,
            }),
        }
    }

    fn write(id: u64, invoke_ns: u64, complete_ns: u64, v: u64) -> Operation {
        op(
            id,
            invoke_ns,
            OpKind::Write(v),
            Some((complete_ns, Outcome::Written)),
        )
    }

    fn read(id: u64, invoke_ns: u64, complete_ns: u64, v: u64) -> Operation {
        op(
            id,
            invoke_ns,
            OpKind::Read,
            Some((complete_ns, Outcome::Read(v))),
        )
    }

    fn cas(
        id: u64,
        invoke_ns: u64,
        complete_ns: u64,
        expected: u64,
        new: u64,
        ok: bool,
    ) -> Operation {
        let kind = OpKind::Cas { expected, new };
        op(id, invoke_ns, kind, Some((complete_ns, Outcome::Cas(ok))))
    }

    fn open_write(id: u64, invoke_ns: u64, v: u64) -> Operation {
        op(id, invoke_ns, OpKind::Write(v), None)
    }

    fn on(key: u32, mut o: Operation) -> Operation {
        o.key = KeyId(key);
        o
    }

    fn verdict(ops: Vec<Operation>) -> Verdict {
        check(&History::from_ops(ops).unwrap(), &Budget::default())
    }

    fn witness_ids(v: &Verdict) -> Vec<u64> {
        match v {
            Verdict::NotLinearizable { witness, .. } => {
                witness.ops.iter().map(|o| o.id.0).collect()
            }
            other => panic!("expected a violation, got {other:?}"),
        }
    }

    #[test]
    fn stale_read_is_not_linearizable() {
        let v = verdict(vec![write(1, 0, 10, 1), read(2, 20, 30, 0)]);
        assert_eq!(witness_ids(&v), vec![1, 2]);
        let lone = verdict(vec![read(1, 0, 10, 4)]);
        assert!(
            lone.to_string()
                .contains("key 0: 1 of its 1 operations has no"),
            "{lone}"
        );
        let Verdict::NotLinearizable { key, witness } = &v else {
            unreachable!()
        };
        assert_eq!(*key, KeyId(0));
        assert_eq!(witness.value_before, 0);
        assert_eq!(witness.key_ops, 2);
        // The same read overlapping the write may see either value.
        assert_eq!(
            verdict(vec![write(1, 0, 10, 1), read(2, 5, 30, 0)]),
            Verdict::Linearizable
        );
        assert_eq!(
            verdict(vec![write(1, 0, 10, 1), read(2, 5, 30, 1)]),
            Verdict::Linearizable
        );
        assert_eq!(
            verdict(vec![write(1, 0, 10, 1), read(2, 20, 30, 1)]),
            Verdict::Linearizable
        );
        // Equal times are concurrent: a read invoked as the write completes may miss it.
        assert_eq!(
            verdict(vec![write(1, 0, 10, 1), read(2, 10, 30, 0)]),
            Verdict::Linearizable
        );
    }

    #[test]
    fn initial_value_is_what_a_first_read_sees() {
        let ops = vec![read(1, 0, 10, 7)];
        let history = History::new(7, ops.clone()).unwrap();
        assert_eq!(history.initial_value(), 7);
        assert_eq!(check(&history, &Budget::default()), Verdict::Linearizable);
        assert!(matches!(verdict(ops), Verdict::NotLinearizable { .. }));
    }

    #[test]
    fn concurrent_writes_may_land_in_either_order() {
        let writes = || vec![write(1, 0, 10, 1), write(2, 5, 15, 2)];
        for seen in [1, 2] {
            let mut ops = writes();
            ops.push(read(3, 20, 30, seen));
            assert_eq!(verdict(ops), Verdict::Linearizable, "read {seen}");
        }
        let mut ops = writes();
        ops.push(read(3, 20, 30, 3));
        // A value no write wrote: the read alone is the witness.
        assert_eq!(witness_ids(&verdict(ops)), vec![3]);
        // Whichever order they took, it does not change afterwards.
        let mut ops = writes();
        ops.extend([read(3, 20, 30, 2), read(4, 40, 50, 1)]);
        assert!(matches!(verdict(ops), Verdict::NotLinearizable { .. }));
        // Two reads concurrent with both writes may see them in one order each.
        let mut ops = writes();
        ops.extend([read(3, 1, 30, 2), read(4, 2, 50, 1)]);
        assert_eq!(verdict(ops), Verdict::Linearizable);
    }

    #[test]
    fn cas_race_has_one_winner() {
        let both = vec![cas(1, 0, 10, 0, 1, true), cas(2, 0, 10, 0, 2, true)];
        assert_eq!(witness_ids(&verdict(both)), vec![1, 2]);
        let one = vec![cas(1, 0, 10, 0, 1, true), cas(2, 0, 10, 0, 2, false)];
        assert_eq!(verdict(one), Verdict::Linearizable);
        // The loser fails only if the winner went first: a later read sees the winner.
        let ops = vec![
            cas(1, 0, 10, 0, 1, true),
            cas(2, 0, 10, 0, 2, false),
            read(3, 20, 30, 1),
        ];
        assert_eq!(verdict(ops), Verdict::Linearizable);
        let ops = vec![
            cas(1, 0, 10, 0, 1, true),
            cas(2, 0, 10, 0, 2, false),
            read(3, 20, 30, 0),
        ];
        assert!(matches!(verdict(ops), Verdict::NotLinearizable { .. }));
        // Both failing from the initial value cannot be.
        let ops = vec![cas(1, 0, 10, 0, 1, false)];
        assert!(matches!(verdict(ops), Verdict::NotLinearizable { .. }));
    }

    #[test]
    fn open_write_may_explain_a_later_read_or_never_happen() {
        // The client of op 1 timed out; a later read sees its value: it took effect.
        let ops = vec![open_write(1, 0, 1), read(2, 20, 30, 1)];
        assert_eq!(verdict(ops), Verdict::Linearizable);
        // Or it never took effect.
        let ops = vec![open_write(1, 0, 1), read(2, 20, 30, 0), read(3, 40, 50, 0)];
        assert_eq!(verdict(ops), Verdict::Linearizable);
        // Or it took effect late, after a first read.
        let ops = vec![open_write(1, 0, 1), read(2, 20, 30, 0), read(3, 40, 50, 1)];
        assert_eq!(verdict(ops), Verdict::Linearizable);
        // But once seen it cannot be undone.
        let ops = vec![open_write(1, 0, 1), read(2, 20, 30, 1), read(3, 40, 50, 0)];
        assert_eq!(witness_ids(&verdict(ops)), vec![1, 2, 3]);
    }

    #[test]
    fn open_write_cannot_act_before_its_invocation() {
        let ops = vec![read(1, 0, 10, 1), open_write(2, 20, 1)];
        assert_eq!(witness_ids(&verdict(ops)), vec![1]);
        let ops = vec![read(1, 0, 30, 1), open_write(2, 20, 1)];
        assert_eq!(verdict(ops), Verdict::Linearizable);
    }

    #[test]
    fn open_reads_and_cas_constrain_nothing_they_did_not_do() {
        let open_read = op(2, 0, OpKind::Read, None);
        assert_eq!(
            verdict(vec![write(1, 0, 10, 5), open_read]),
            Verdict::Linearizable
        );
        // An open compare-and-set may have swapped ...
        let open_cas = op(
            1,
            0,
            OpKind::Cas {
                expected: 0,
                new: 4,
            },
            None,
        );
        let ops = vec![open_cas, read(2, 20, 30, 4)];
        assert_eq!(verdict(ops), Verdict::Linearizable);
        let ops = vec![open_cas, read(2, 20, 30, 0)];
        assert_eq!(verdict(ops), Verdict::Linearizable);
        // ... but only from its expected value.
        let ops = vec![write(3, 0, 1, 9), open_cas, read(2, 20, 30, 4)];
        assert!(matches!(verdict(ops), Verdict::NotLinearizable { .. }));
    }

    #[test]
    fn keys_are_independent_and_the_first_failing_key_is_named() {
        let ops = vec![
            on(3, write(1, 0, 10, 1)),
            on(5, write(2, 0, 10, 1)),
            on(5, read(3, 20, 30, 0)),
            // Key 3 reads key 5's value of 0 ... on key 3, where 1 is written: stale.
            on(3, read(4, 20, 30, 1)),
            on(9, read(5, 20, 30, 2)),
        ];
        let v = verdict(ops);
        let Verdict::NotLinearizable { key, witness } = &v else {
            panic!("{v:?}")
        };
        assert_eq!(*key, KeyId(5));
        assert_eq!(witness.key, KeyId(5));
        assert_eq!(witness_ids(&v), vec![2, 3]);
    }

    #[test]
    fn witness_of_a_long_history_is_short() {
        // Fifty sequential writes and reads of the latest value, then a stale read
        // beside a concurrent write.
        let mut ops = Vec::new();
        for i in 0..50u64 {
            ops.push(write(2 * i, 100 * i, 100 * i + 10, i + 1));
            ops.push(read(2 * i + 1, 100 * i + 20, 100 * i + 30, i + 1));
        }
        ops.push(write(100, 5_000, 5_100, 77));
        ops.push(read(101, 5_050, 5_060, 3));
        let v = verdict(ops);
        // The value read (folded in as the value before), a write that completed after
        // it and before the read, and the read.
        let ids = witness_ids(&v);
        assert!(ids.len() <= 3 && ids.ends_with(&[101]), "{ids:?}");
        let Verdict::NotLinearizable { witness, .. } = &v else {
            unreachable!()
        };
        assert_eq!(witness.value_before, 3);
        assert_eq!(witness.key_ops, 102);
        let shown = v.to_string();
        assert!(
            shown.contains(&format!(
                "key 0: {} of its 102 operations have no",
                ids.len()
            )),
            "{shown}"
        );
        assert!(shown.contains("holds 3 before the first"), "{shown}");
        assert!(
            shown.contains("op 101  client 101  5,050..5,060 ns  read: 3"),
            "{shown}"
        );
    }

    #[test]
    fn a_stale_read_among_overlapping_writes_shrinks_to_the_writes_it_is_about() {
        // Two clients write in overlapping pairs for a long time (no write precedes
        // all the rest, so folding cannot cut them); then a read returns the value of
        // a write long overwritten.
        let mut ops = Vec::new();
        let mut id = 0;
        for round in 0..60u64 {
            let at = round * 100;
            ops.push(write(id, at, at + 60, 1_000 + 2 * round));
            ops.push(write(id + 1, at + 30, at + 90, 1_001 + 2 * round));
            id += 2;
        }
        // Round 10's first write, read at the end: a later write completed before.
        ops.push(op(
            id,
            6_500,
            OpKind::Read,
            Some((6_600, Outcome::Read(1_020))),
        ));
        let history = History::from_ops(ops).expect("a valid history");
        let Verdict::NotLinearizable { witness, .. } = check(&history, &Budget::default()) else {
            panic!("a stale read is not linearizable");
        };
        // The value read (shown as the register's value before, or its write), a write
        // that completed after it and before the read began, and the read.
        assert!(witness.ops.len() <= 3, "{witness}");
        assert!(
            witness.value_before == 1_020
                || witness.ops.iter().any(|op| op.kind == OpKind::Write(1_020)),
            "{witness}"
        );
        assert!(
            witness.ops.iter().any(|op| op.kind == OpKind::Read),
            "{witness}"
        );
        let still = History::new(witness.value_before, witness.ops.clone()).expect("valid");
        assert!(matches!(
            check(&still, &Budget::default()),
            Verdict::NotLinearizable { .. }
        ));
    }

    #[test]
    fn witness_display_aligns_columns() {
        let mut late = write(12, 1_000_000, 1_000_010, 1);
        late.client = ClientId(3);
        // Built by hand: the check's shrinking would drop the open write.
        let witness = Witness {
            key: KeyId(0),
            value_before: 0,
            ops: vec![open_write(3, 0, 9), late, read(2, 2_000_000, 2_000_005, 0)],
            key_ops: 3,
        };
        let shown = witness.to_string();
        let lines: Vec<&str> = shown.lines().collect();
        assert_eq!(lines.len(), 1 + witness.ops.len(), "{shown}");
        assert!(shown.contains("0..open ns  write 9: open"), "{shown}");
        assert!(
            shown.contains("1,000,000..1,000,010 ns  write 1: ok"),
            "{shown}"
        );
        // Every row's operation column starts at the same place.
        let at: Vec<usize> = lines[1..]
            .iter()
            .map(|l| l.find(" ns  ").unwrap())
            .collect();
        assert!(at.windows(2).all(|w| w[0] == w[1]), "{shown}");
    }

    #[test]
    fn bad_histories_are_refused_with_the_operation_named() {
        let err = History::from_ops(vec![read(1, 0, 10, 0), write(1, 5, 6, 1)]).unwrap_err();
        assert_eq!(err, HistoryError::DuplicateId { id: OpId(1) });
        assert_eq!(
            err.to_string(),
            "op 1 appears more than once in the history"
        );
        let err = History::from_ops(vec![write(4, 2_000, 1_000, 1)]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "op 4 completed at 1,000 ns, before it was invoked at 2,000 ns"
        );
        let mismatched = op(6, 0, OpKind::Read, Some((5, Outcome::Written)));
        let err = History::from_ops(vec![mismatched]).unwrap_err();
        assert!(matches!(
            err,
            HistoryError::OutcomeMismatch { id: OpId(6), .. }
        ));
        assert_eq!(err.to_string(), "op 6 is a Read but completed with Written");
        let mismatched = op(7, 0, OpKind::Write(1), Some((5, Outcome::Cas(true))));
        assert!(History::from_ops(vec![mismatched]).is_err());
        let too_many = vec![read(0, 0, 0, 0); MAX_OPS + 1];
        let err = History::from_ops(too_many).unwrap_err();
        assert_eq!(
            err,
            HistoryError::TooManyOps {
                count: MAX_OPS + 1,
                max: MAX_OPS
            }
        );
        assert!(err.to_string().contains("1,000,001 operations"));
        // An instantaneous operation is fine.
        assert!(History::from_ops(vec![write(1, 5, 5, 1)]).is_ok());
    }

    /// Many mutually concurrent writes of distinct values and reads, and a last read of
    /// a value nobody wrote: proving that takes every subset of the writes.
    fn adversarial(writes: u64) -> Vec<Operation> {
        let mut ops = Vec::new();
        for i in 0..writes {
            ops.push(write(i, i, 1_000 + i, i + 1));
            ops.push(read(writes + i, i, 1_000 + i, (i * 7) % writes + 1));
        }
        ops.push(read(3 * writes, 2_000, 2_001, writes + 100));
        ops
    }

    #[test]
    fn adversarial_history_is_undecided_within_budget() {
        let history = History::from_ops(adversarial(24)).unwrap();
        let budget = Budget {
            max_states: 20_000,
            ..Budget::default()
        };
        assert_eq!(
            check(&history, &budget),
            Verdict::Undecided {
                key: KeyId(0),
                explored: 20_000
            }
        );
        // The step bound ends it too, with fewer states.
        let budget = Budget {
            max_steps: 50_000,
            ..Budget::default()
        };
        let v = check(&history, &budget);
        assert!(
            matches!(v, Verdict::Undecided { explored, .. } if explored < 50_000),
            "{v:?}"
        );
        // And the byte bound: 24 words of bitset and more per entry.
        let budget = Budget {
            max_cache_bytes: 1 << 20,
            ..Budget::default()
        };
        let v = check(&history, &budget);
        assert!(
            matches!(v, Verdict::Undecided { explored, .. } if explored < (1 << 20) / 56),
            "{v:?}"
        );
        assert!(v.to_string().starts_with("undecided: the search on key 0"));
        // A violation on another key is still reported.
        let mut ops = adversarial(24);
        ops.extend([on(1, write(100, 0, 10, 1)), on(1, read(101, 20, 30, 0))]);
        let v = check(&History::from_ops(ops).unwrap(), &budget);
        assert_eq!(witness_ids(&v), vec![100, 101]);
        // A small adversarial history is decided; the witness is the impossible read
        // (a value no write wrote).
        let v = verdict(adversarial(6));
        assert_eq!(witness_ids(&v), vec![18]);
    }

    /// Random operations: (key, client, invoke, duration, kind, a, b, open, ok).
    type Raw = (u32, u32, u64, u64, u8, u64, u64, bool, bool);

    fn raw_ops(keys: u32, max_ops: usize) -> impl Strategy<Value = Vec<Raw>> {
        prop::collection::vec(
            (
                0..keys,
                0u32..3,
                0u64..20,
                0u64..10,
                0u8..3,
                0u64..3,
                0u64..3,
                prop::bool::weighted(0.2),
                any::<bool>(),
            ),
            0..=max_ops,
        )
    }

    fn build(raw: &[Raw]) -> Vec<Operation> {
        raw.iter()
            .enumerate()
            .map(
                |(i, &(key, client, invoke_ns, dur, kind, a, b, open, ok))| {
                    let (kind, outcome) = match kind {
                        0 => (OpKind::Read, Outcome::Read(a)),
                        1 => (OpKind::Write(a), Outcome::Written),
                        _ => (
                            OpKind::Cas {
                                expected: a,
                                new: b,
                            },
                            Outcome::Cas(ok),
                        ),
                    };
                    Operation {
                        id: OpId(i as u64),
                        key: KeyId(key),
                        client: ClientId(client),
                        invoke_ns,
                        kind,
                        completion: (!open).then_some(Completion {
                            complete_ns: invoke_ns + dur,
                            outcome,
                        }),
                    }
                },
            )
            .collect()
    }

    /// Tries every order of the whole history (all keys at once, a map of registers)
    /// that respects real time, with each open operation placed anywhere or dropped.
    fn brute_force(ops: &[Operation], initial: u64) -> bool {
        fn go(
            ops: &[Operation],
            initial: u64,
            order: &mut Vec<usize>,
            map: &BTreeMap<KeyId, u64>,
        ) -> bool {
            let all_done = ops
                .iter()
                .enumerate()
                .all(|(i, o)| o.completion.is_none() || order.contains(&i));
            if all_done {
                return true;
            }
            for (x, o) in ops.iter().enumerate() {
                if order.contains(&x) {
                    continue;
                }
                // x must not follow an operation invoked after x completed.
                let late = order.iter().any(|&y| {
                    o.completion
                        .is_some_and(|c| c.complete_ns < ops[y].invoke_ns)
                });
                if late {
                    continue;
                }
                let v = map.get(&o.key).copied().unwrap_or(initial);
                let next = match (o.kind, o.completion.map(|c| c.outcome)) {
                    (OpKind::Read, None) => Some(v),
                    (OpKind::Read, Some(Outcome::Read(r))) => (r == v).then_some(v),
                    (OpKind::Write(w), _) => Some(w),
                    (OpKind::Cas { expected, new }, None) => {
                        Some(if v == expected { new } else { v })
                    }
                    (OpKind::Cas { expected, new }, Some(Outcome::Cas(true))) => {
                        (v == expected).then_some(new)
                    }
                    (OpKind::Cas { expected, .. }, Some(Outcome::Cas(false))) => {
                        (v != expected).then_some(v)
                    }
                    _ => unreachable!("validated"),
                };
                if let Some(next) = next {
                    let mut map = map.clone();
                    map.insert(o.key, next);
                    order.push(x);
                    let found = go(ops, initial, order, &map);
                    order.pop();
                    if found {
                        return true;
                    }
                }
            }
            false
        }
        go(ops, initial, &mut Vec::new(), &BTreeMap::new())
    }

    /// All registers as one object, to check the history without decomposing it.
    struct Registers {
        initial: u64,
    }

    impl Sequential for Registers {
        type State = BTreeMap<KeyId, u64>;

        fn step(&self, map: &Self::State, op: &Operation) -> Option<Self::State> {
            let v = map.get(&op.key).copied().unwrap_or(self.initial);
            let next = register_step(v, op)?;
            let mut map = map.clone();
            map.insert(op.key, next);
            Some(map)
        }
    }

    /// A linearizable history: each operation takes effect at a random instant inside
    /// its interval; some are left open (half of those never took effect). Invocations
    /// are uniform over `span_ns`, durations over `0..=max_duration_ns`.
    fn linearizable_history(
        rng: &mut ChaCha8Rng,
        ops_count: u64,
        keys: u32,
        span_ns: u64,
        max_duration_ns: u64,
    ) -> Vec<Operation> {
        let mut planned: Vec<(u64, Operation, bool)> = (0..ops_count)
            .map(|id| {
                let invoke_ns = rng.gen_range(0..span_ns);
                let complete_ns = invoke_ns + rng.gen_range(0..=max_duration_ns);
                let at_ns = rng.gen_range(invoke_ns..=complete_ns);
                let kind = match rng.gen_range(0..3) {
                    0 => OpKind::Read,
                    1 => OpKind::Write(rng.gen_range(0..4)),
                    _ => OpKind::Cas {
                        expected: rng.gen_range(0..4),
                        new: rng.gen_range(0..4),
                    },
                };
                let mut o = op(id, invoke_ns, kind, Some((complete_ns, Outcome::Written)));
                o.key = KeyId(rng.gen_range(0..keys));
                o.client = ClientId(rng.gen_range(0..4));
                let open = rng.gen_bool(0.05);
                (at_ns, o, open)
            })
            .collect();
        planned.sort_by_key(|(at_ns, o, _)| (*at_ns, o.id));
        let mut values: BTreeMap<KeyId, u64> = BTreeMap::new();
        let mut ops = Vec::new();
        for (_, mut o, open) in planned {
            if open && rng.gen_bool(0.5) {
                o.completion = None;
                ops.push(o);
                continue;
            }
            let v = values.entry(o.key).or_insert(0);
            let outcome = match o.kind {
                OpKind::Read => Outcome::Read(*v),
                OpKind::Write(w) => {
                    *v = w;
                    Outcome::Written
                }
                OpKind::Cas { expected, new } => {
                    let swapped = *v == expected;
                    if swapped {
                        *v = new;
                    }
                    Outcome::Cas(swapped)
                }
            };
            if open {
                o.completion = None;
            } else if let Some(c) = o.completion.as_mut() {
                c.outcome = outcome;
            }
            ops.push(o);
        }
        ops
    }

    #[test]
    fn generated_linearizable_histories_pass() {
        let mut rng = ChaCha8Rng::seed_from_u64(21);
        for _ in 0..20 {
            // A mean of 10 operations of a key in flight: without placing observers
            // first the search needs far more than these states on such histories.
            let ops = linearizable_history(&mut rng, 300, 3, 10_000, 2_000);
            let budget = Budget {
                max_states: 20_000,
                ..Budget::default()
            };
            let v = check(&History::from_ops(ops).unwrap(), &budget);
            assert_eq!(v, Verdict::Linearizable);
        }
    }

    /// The sanity measurement of the module docs: run with `--release -- --ignored`.
    /// A mean of 1, then 10, operations of a key in flight.
    #[test]
    #[ignore = "a measurement"]
    fn ten_thousand_operations_over_a_hundred_keys() {
        let mut rng = ChaCha8Rng::seed_from_u64(10_000);
        for max_duration_ns in [20_000, 200_000] {
            let ops = linearizable_history(&mut rng, 10_000, 100, 1_000_000, max_duration_ns);
            let history = History::from_ops(ops).unwrap();
            assert_eq!(check(&history, &Budget::default()), Verdict::Linearizable);
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        /// The checker agrees with trying every real-time order of the whole history.
        #[test]
        fn agrees_with_brute_force(raw in raw_ops(2, 8), initial in 0u64..2) {
            let ops = build(&raw);
            let history = History::new(initial, ops.clone()).unwrap();
            let v = check(&history, &Budget::default());
            prop_assert!(!matches!(v, Verdict::Undecided { .. }), "undecided");
            prop_assert_eq!(v == Verdict::Linearizable, brute_force(&ops, initial), "{:?}", v);
        }

        /// Checking key by key answers as the search over all registers at once does.
        #[test]
        fn decomposition_agrees_with_whole_history(raw in raw_ops(3, 14)) {
            let ops = build(&raw);
            let history = History::from_ops(ops.clone()).unwrap();
            let v = check(&history, &Budget::default());
            let (whole, _) = search(&Registers { initial: 0 }, &ops, BTreeMap::new(), &Budget::default());
            prop_assert!(!matches!(v, Verdict::Undecided { .. }), "undecided");
            prop_assert_eq!(v == Verdict::Linearizable, whole == Search::Linearizable, "{:?}", v);
        }

        /// A witness is itself not linearizable, is made of its key's operations, and
        /// (shrunk only by sound removals) implies the key's history is not.
        #[test]
        fn witness_is_a_failing_sub_history(raw in raw_ops(2, 10)) {
            let ops = build(&raw);
            let v = check(&History::from_ops(ops.clone()).unwrap(), &Budget::default());
            if let Verdict::NotLinearizable { key, witness } = v {
                prop_assert!(!witness.ops.is_empty());
                prop_assert!(witness.ops.iter().all(|w| w.key == key && ops.contains(w)));
                let again = History::new(witness.value_before, witness.ops.clone()).unwrap();
                let recheck = check(&again, &Budget::default());
                prop_assert!(matches!(recheck, Verdict::NotLinearizable { .. }), "{:?}", recheck);
                let key_ops: Vec<Operation> = ops.iter().filter(|o| o.key == key).copied().collect();
                prop_assert_eq!(witness.key_ops, key_ops.len());
                prop_assert!(!brute_force(&key_ops, 0));
                prop_assert!(witness.ops.windows(2).all(|w| (w[0].invoke_ns, w[0].id) <= (w[1].invoke_ns, w[1].id)));
            }
        }

        /// Linearizable executions, larger than brute force reaches, always pass.
        #[test]
        fn executions_of_a_register_pass(seed in any::<u64>()) {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            let ops = linearizable_history(&mut rng, 60, 2, 2_000, 200);
            let v = check(&History::from_ops(ops).unwrap(), &Budget::default());
            prop_assert_eq!(v, Verdict::Linearizable);
        }
    }
}
