//! The bank workload's part of a scenario file (after `"kind": "bank"`). The serde
//! types are the source of truth for the format; every struct denies unknown keys.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::format::{Dist, Dur};
use crate::workload::rpc::spec::BackoffSpec;
use crate::workload::NumberLimit;

/// Most accounts (each is a process on a madsim node, and a vector clock entry).
pub const MAX_ACCOUNTS: u32 = 64;
/// Largest initial balance and transfer amount.
pub const MAX_AMOUNT: u32 = 1_000_000_000;
/// Largest channel window, frames.
pub const MAX_WINDOW: u32 = 65_536;
/// Most random pairs the causality check compares.
pub const MAX_RANDOM_PAIRS: u32 = 1_000_000;

/// The whole-number fields with limits.
pub const NUMBER_LIMITS: &[NumberLimit] = &[
    NumberLimit {
        path: "workload.accounts.count",
        min: 2,
        max: MAX_ACCOUNTS,
        what: "accounts",
    },
    NumberLimit {
        path: "workload.accounts.initial_balance",
        min: 0,
        max: MAX_AMOUNT,
        what: "units",
    },
    NumberLimit {
        path: "workload.transfers.max_amount",
        min: 1,
        max: MAX_AMOUNT,
        what: "units",
    },
];

/// Accounts `acct-0..` as processes on madsim nodes, each making Poisson transfers of a
/// bounded random amount to a random peer over reliable FIFO channels, logging to a
/// write-ahead log on a crash-consistent disk, taking Chandy-Lamport snapshots, and
/// stamping every event with Lamport, vector and hybrid logical clocks.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BankSpec {
    /// The accounts.
    pub accounts: Accounts,
    /// The transfers each account makes.
    pub transfers: Transfers,
    /// The channels between accounts.
    #[serde(default)]
    pub channels: Channels,
    /// What each account keeps on its disk.
    #[serde(default)]
    pub durability: Durability,
    /// Checkpoints of each account's state to its disk, after which its log is cut
    /// (none by default: the log grows for the whole run).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkpoints: Option<Checkpoints>,
    /// Chandy-Lamport snapshots.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snapshots: Option<Snapshots>,
    /// How much of the causal order the checks compare.
    #[serde(default)]
    pub causality: Causality,
}

/// The accounts: `count` processes named `acct-0` .. `acct-{count-1}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Accounts {
    /// Number of accounts (2 to 64).
    #[schemars(range(min = 2, max = MAX_ACCOUNTS))]
    pub count: u32,
    /// Each account's balance at the start, units of money.
    #[schemars(range(max = MAX_AMOUNT))]
    pub initial_balance: u32,
}

/// Transfers: each account, open loop, Poisson.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Transfers {
    /// Transfers per second per account.
    pub per_s: f64,
    /// Each transfer moves a uniform whole amount from 1 to this, units (never more
    /// than the balance: an account short of money skips the transfer).
    #[schemars(range(min = 1, max = MAX_AMOUNT))]
    pub max_amount: u32,
}

/// The channels between every pair of accounts.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Channels {
    /// Deliver in sequence order (off: in arrival order, so a marker can overtake a
    /// transfer and a snapshot can miss money).
    #[serde(default = "default_true")]
    pub fifo: bool,
    /// Acknowledge and retransmit until delivered (off: a lost message stays lost).
    #[serde(default = "default_true")]
    pub reliable: bool,
    /// Most unacknowledged frames per channel.
    #[serde(default = "default_window")]
    #[schemars(range(min = 1, max = MAX_WINDOW))]
    pub window: u32,
    /// Retransmission timeout before the first retransmission.
    #[serde(default = "default_rto")]
    pub retransmit_after: Dur,
    /// Delays between later retransmissions (default: exponential from 100 ms to 2 s
    /// with full jitter).
    #[serde(default = "default_retransmit_backoff")]
    pub backoff: BackoffSpec,
}

fn default_true() -> bool {
    true
}
fn default_window() -> u32 {
    1024
}
fn default_rto() -> Dur {
    Dur::from_millis(200)
}
fn default_retransmit_backoff() -> BackoffSpec {
    BackoffSpec {
        cap: Dur::from_secs(2),
        ..BackoffSpec::default()
    }
}

impl Default for Channels {
    fn default() -> Self {
        Channels {
            fifo: true,
            reliable: true,
            window: default_window(),
            retransmit_after: default_rto(),
            backoff: default_retransmit_backoff(),
        }
    }
}

/// When the write-ahead log is synced.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum FsyncPolicy {
    /// After every record, before the message it covers is sent or acknowledged.
    EveryRecord,
    /// On a timer of this period (what a crash loses: up to one period of records).
    Interval(Dur),
    /// Never (the log is written, but a crash loses whatever the disk did not flush).
    Never,
}

/// What each account keeps on its disk.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Durability {
    /// Keep a write-ahead log: debits, credits and channel state are logged before the
    /// message they cover leaves (off: a restart begins from the initial balance).
    #[serde(default = "default_true")]
    pub wal: bool,
    /// When the log is synced.
    #[serde(default = "default_fsync")]
    pub fsync: FsyncPolicy,
    /// Time one fsync takes.
    #[serde(default = "default_fsync_latency")]
    pub fsync_latency: Dist,
    /// A crash keeps a random prefix of the unsynced tail instead of none of it, so
    /// recovery must find a torn last record by its checksum.
    #[serde(default = "default_true")]
    pub torn_writes: bool,
}

fn default_fsync() -> FsyncPolicy {
    FsyncPolicy::EveryRecord
}
fn default_fsync_latency() -> Dist {
    Dist::Exponential(Dur(std::time::Duration::from_micros(500)))
}

impl Default for Durability {
    fn default() -> Self {
        Durability {
            wal: true,
            fsync: default_fsync(),
            fsync_latency: default_fsync_latency(),
            torn_writes: true,
        }
    }
}

/// How often an account checkpoints.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged, expecting = "a duration such as \"5s\", or \"young\" or \"daly\"")]
pub enum CheckpointInterval {
    /// The optimum of Young (1974) or Daly (2006) for the checkpoint cost and the
    /// scenario's crash rate.
    Optimum(OptimumRule),
    /// Every this long.
    Every(Dur),
}

/// The rule that computes the checkpoint interval.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum OptimumRule {
    /// Young's first-order optimum, `sqrt(2 C MTBF)`.
    Young,
    /// Daly's higher-order optimum.
    Daly,
}

/// Checkpoints: each account writes its state to its disk (the account stops taking
/// input for `cost`, and until the write is synced), then cuts its log; a restart loads
/// the newest valid checkpoint and replays the log after it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Checkpoints {
    /// Time one checkpoint takes (the account stalls this long, at least until the
    /// checkpoint is synced).
    pub cost: Dur,
    /// How often: a duration, or `"young"` / `"daly"` for the optimum from `cost` and
    /// the scenario's crash rate (crashes of accounts per account-second of the run).
    #[serde(default = "default_checkpoint_interval")]
    pub interval: CheckpointInterval,
}

fn default_checkpoint_interval() -> CheckpointInterval {
    CheckpointInterval::Optimum(OptimumRule::Young)
}

/// Who starts each snapshot.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged, expecting = "an account such as \"acct-0\", or \"random\"")]
pub enum Initiator {
    /// A different account for each snapshot, drawn from the seed.
    Random(RandomInitiator),
    /// Always this account (`"acct-0"`).
    Fixed(String),
}

/// The word `random`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum RandomInitiator {
    /// A different account for each snapshot.
    Random,
}

/// Chandy-Lamport snapshots, started on a timer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Snapshots {
    /// A new snapshot starts this often (one still in progress then is abandoned).
    pub every: Dur,
    /// Who starts each one.
    #[serde(default = "default_initiator")]
    pub initiator: Initiator,
    /// The `snapshot_liveness` check: some snapshot completes within this long after
    /// the last fault heals.
    #[serde(default = "default_complete_within")]
    pub complete_within: Dur,
}

fn default_initiator() -> Initiator {
    Initiator::Fixed("acct-0".to_owned())
}
fn default_complete_within() -> Dur {
    Dur::from_secs(10)
}

/// How much of the causal order the checks compare.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Causality {
    /// Events sampled for the all-pairs comparison against true reachability, on top
    /// of every program-order and message pair (k events give k (k - 1) pairs).
    #[serde(default = "default_sampled_events")]
    #[schemars(range(min = 0, max = 1000))]
    pub sampled_events: u32,
}

fn default_sampled_events() -> u32 {
    200
}

impl Default for Causality {
    fn default() -> Self {
        Causality {
            sampled_events: default_sampled_events(),
        }
    }
}
