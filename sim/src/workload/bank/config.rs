//! From the bank part of a scenario to the workload's configuration, with its rules and
//! limits (checked when the scenario is resolved).

use faultline_models::channel::ChannelConfig;
use faultline_models::checkpoint;

use super::account::{AccountConfig, Fsync};
use super::spec::{
    BankSpec, CheckpointInterval, Checkpoints, FsyncPolicy, Initiator, OptimumRule, MAX_ACCOUNTS,
    MAX_AMOUNT,
};
use crate::engine::disk::DiskConfig;
use crate::engine::queue::Nanos;
use crate::format::issue::{dist, issue, positive, Checked, Issue};
use crate::workload::rpc::config::backoff_policy;
use crate::workload::rpc::spec::BackoffKindSpec;
use crate::workload::Context;
use crate::workload::{EventEstimate, MemoryEstimate, MemoryPart};

/// Name prefix of the account nodes.
pub const ACCOUNT_PREFIX: &str = "acct-";

/// Capacity of each account's disk.
pub const DISK_CAPACITY_BYTES: u64 = 1 << 30;

/// Engine events per transfer assumed by the event estimate: the debit, the frame's
/// delivery, the credit, the ack and its delivery, two fsyncs and their timers, and the
/// trace records.
pub const EVENTS_PER_TRANSFER: f64 = 12.0;

// Per-item memory of the memory estimate, calibrated against peak RSS (VmHWM) of the
// debug build less the 9 MiB of the smallest run, rounded up:
// - a transfer (the accounts' logs and disks, the checker's events with their vector
//   clocks): 1,000 transfers/s per account, no snapshots: 4 accounts for 40 s, 183 B
//   each; 32 accounts for 10 s and 20 s, 494 and 528 B; 64 accounts for 2 s, 855 B:
//   about 140 B + 11 B per account;
// - a snapshot (every account's state and recorded channels, kept for the checks):
//   every 10 ms, 16 accounts for 2 s, 660 B per account pair; 32 accounts, 555 B;
//   64 accounts for 1 s (snapshots overlapping), 860 B.

/// Memory of one transfer, bytes, before [`TRANSFER_BYTES_PER_ACCOUNT`].
pub const TRANSFER_BYTES: f64 = 200.0;
/// Memory of one transfer per account in the bank (its vector clocks), bytes.
pub const TRANSFER_BYTES_PER_ACCOUNT: f64 = 12.0;
/// Memory of one snapshot per ordered pair of accounts, bytes.
pub const SNAPSHOT_BYTES_PER_PAIR: f64 = 900.0;
/// Memory of one metrics window, bytes, plus 16 per account (the rpc workload's
/// measured window, with the bank's per-account HLC offsets).
pub const WINDOW_BYTES: f64 = 700.0;

/// Snapshots, resolved.
#[derive(Clone, Debug)]
pub struct SnapshotConfig {
    /// Period, ns.
    pub every_ns: Nanos,
    /// The fixed initiator (`None`: drawn per snapshot).
    pub initiator: Option<u32>,
    /// The liveness check's bound, ns.
    pub complete_within_ns: Nanos,
}

/// Checkpoints, resolved.
#[derive(Clone, Debug, PartialEq)]
pub struct CheckpointConfig {
    /// Time one checkpoint stalls its account, ns.
    pub cost_ns: Nanos,
    /// Time between two checkpoints of one account, ns.
    pub interval_ns: Nanos,
    /// How the interval was chosen, in words (for the report).
    pub reckoning: String,
}

/// Shortest checkpoint interval (a checkpoint every millisecond would do little else).
pub const MIN_CHECKPOINT_INTERVAL_NS: Nanos = 1_000_000;

/// Everything the bank workload needs, resolved.
#[derive(Clone, Debug)]
pub struct BankConfig {
    /// Every account's configuration.
    pub account: AccountConfig,
    /// Each account's disk.
    pub disk: DiskConfig,
    /// Snapshots, if any.
    pub snapshots: Option<SnapshotConfig>,
    /// Events sampled for the all-pairs causality comparison.
    pub sampled_events: u32,
    /// Drive the accounts by direct calls instead of as madsim processes (the
    /// benchmark's comparison; no node faults then).
    pub direct: bool,
}

impl BankConfig {
    /// Accounts in the bank.
    pub fn accounts(&self) -> u32 {
        self.account.accounts
    }

    /// The money in the bank.
    pub fn total(&self) -> u64 {
        u64::from(self.account.accounts) * self.account.initial_balance
    }
}

/// Checks the bank's rules.
fn check(spec: &BankSpec) -> Checked {
    let accounts = &spec.accounts;
    if !(2..=MAX_ACCOUNTS).contains(&accounts.count) {
        return Err(issue(
            "workload.accounts.count",
            format!(
                "{} is out of range: write 2 to {MAX_ACCOUNTS} accounts",
                accounts.count
            ),
        ));
    }
    let transfers = &spec.transfers;
    if !(transfers.per_s.is_finite() && transfers.per_s > 0.0 && transfers.per_s <= 100_000.0) {
        return Err(issue(
            "workload.transfers.per_s",
            format!(
                "{} is not a rate: write transfers per second per account, above 0 and at most 100000 (e.g. 200)",
                transfers.per_s
            ),
        ));
    }
    if !(1..=MAX_AMOUNT).contains(&transfers.max_amount) {
        return Err(issue(
            "workload.transfers.max_amount",
            format!(
                "{} is out of range: write 1 to {MAX_AMOUNT} units",
                transfers.max_amount
            ),
        ));
    }
    let channels = &spec.channels;
    if !(1..=super::spec::MAX_WINDOW).contains(&channels.window) {
        return Err(issue(
            "workload.channels.window",
            format!(
                "{} is out of range: write 1 to {} frames",
                channels.window,
                super::spec::MAX_WINDOW
            ),
        ));
    }
    positive(
        "workload.channels.retransmit_after",
        channels.retransmit_after,
        "\"200ms\"",
    )?;
    if channels.backoff.cap < channels.backoff.base {
        return Err(issue(
            "workload.channels.backoff.cap",
            format!(
                "cap {} is below base {}; write cap >= base",
                channels.backoff.cap, channels.backoff.base
            ),
        ));
    }
    if channels.backoff.kind == BackoffKindSpec::Exponential {
        positive(
            "workload.channels.backoff.base",
            channels.backoff.base,
            "\"100ms\"",
        )?;
    }
    let durability = &spec.durability;
    if let FsyncPolicy::Interval(every) = durability.fsync {
        positive("workload.durability.fsync.interval", every, "\"10ms\"")?;
    }
    dist(
        "workload.durability.fsync_latency",
        &durability.fsync_latency,
    )?;
    if let Some(snapshots) = &spec.snapshots {
        positive("workload.snapshots.every", snapshots.every, "\"2s\"")?;
        positive(
            "workload.snapshots.complete_within",
            snapshots.complete_within,
            "\"10s\"",
        )?;
        if let Initiator::Fixed(name) = &snapshots.initiator {
            let index = name
                .strip_prefix(ACCOUNT_PREFIX)
                .and_then(|digits| digits.parse::<u32>().ok())
                .filter(|&index| {
                    index < accounts.count && format!("{ACCOUNT_PREFIX}{index}") == *name
                });
            if index.is_none() {
                return Err(issue(
                    "workload.snapshots.initiator",
                    format!(
                        "{name:?} is not an account: write \"acct-0\" .. \"acct-{}\", or \"random\"",
                        accounts.count - 1
                    ),
                ));
            }
        }
    }
    if let Some(checkpoints) = &spec.checkpoints {
        positive("workload.checkpoints.cost", checkpoints.cost, "\"20ms\"")?;
        if !durability.wal {
            return Err(issue(
                "workload.checkpoints",
                "checkpoints cut the write-ahead log, and durability.wal is false: \
                 remove checkpoints or turn the log on",
            ));
        }
    }
    if spec.causality.sampled_events > 1000 {
        return Err(issue(
            "workload.causality.sampled_events",
            format!(
                "{} is above the limit of 1000 events",
                spec.causality.sampled_events
            ),
        ));
    }
    Ok(())
}

/// Checks that need snapshots are refused without them (they would hold vacuously).
fn check_needs_snapshots(spec: &BankSpec, scenario: &Context<'_>) -> Checked {
    if spec.snapshots.is_some() {
        return Ok(());
    }
    for (index, check) in scenario.checks.iter().enumerate() {
        let name = check.name.as_str();
        if matches!(
            name,
            "snapshot_conservation" | "consistent_cut" | "snapshot_liveness"
        ) {
            return Err(issue(
                format!("checks[{index}].{name}"),
                format!(
                    "\"{name}\" checks snapshots, and workload.snapshots takes none; add \
                     \"snapshots\": {{\"every\": \"2s\"}} to the workload or remove the check"
                ),
            ));
        }
    }
    Ok(())
}

/// The accounts' crash rate in the scenario, per account-second: each random crash
/// process adds `1 / mtbf`, each fixed crash fault one crash over the run.
fn crash_rate_per_s(accounts: u32, scenario: &Context<'_>) -> f64 {
    let random: f64 = scenario
        .random_faults
        .iter()
        .filter(|fault| fault.crash.is_some())
        .map(|fault| 1.0 / fault.mtbf.as_secs_f64().max(1e-9))
        .sum();
    let fixed = scenario
        .faults
        .iter()
        .filter(|fault| fault.crash.is_some())
        .count() as f64;
    let account_seconds = f64::from(accounts) * scenario.duration.as_secs_f64().max(1e-9);
    random + fixed / account_seconds
}

/// Resolves the checkpoint interval: a duration as written, or Young's or Daly's
/// optimum (`faultline_models::checkpoint`) from the cost and the crash rate.
fn checkpoint_config(
    spec: &Checkpoints,
    accounts: u32,
    scenario: &Context<'_>,
) -> Result<CheckpointConfig, Issue> {
    let path = "workload.checkpoints.interval";
    let cost = spec.cost.0;
    let (interval, reckoning) = match spec.interval {
        CheckpointInterval::Every(every) => (every.0, format!("every {every}, as written")),
        CheckpointInterval::Optimum(rule) => {
            let rate = crash_rate_per_s(accounts, scenario);
            if rate <= 0.0 {
                return Err(issue(
                    path,
                    "the scenario crashes no account, so there is no optimum interval: \
                     write a duration such as \"5s\", or add a crash fault",
                ));
            }
            let mtbf = std::time::Duration::from_secs_f64((1.0 / rate).min(1e12));
            let (name, interval) = match rule {
                OptimumRule::Young => ("Young", checkpoint::young_interval(cost, mtbf)),
                OptimumRule::Daly => ("Daly", checkpoint::daly_interval(cost, mtbf)),
            };
            let interval = interval.map_err(|err| issue(path, err.to_string()))?;
            (
                interval,
                format!(
                    "{name}'s optimum {:.3} s for cost {} and MTBF {:.1} s per account",
                    interval.as_secs_f64(),
                    spec.cost,
                    mtbf.as_secs_f64()
                ),
            )
        }
    };
    let interval_ns = u64::try_from(interval.as_nanos()).unwrap_or(u64::MAX);
    if interval_ns < MIN_CHECKPOINT_INTERVAL_NS {
        return Err(issue(
            path,
            format!(
                "{:.6} s is below the shortest interval of 1ms ({reckoning})",
                interval.as_secs_f64()
            ),
        ));
    }
    Ok(CheckpointConfig {
        cost_ns: spec.cost.as_nanos(),
        interval_ns,
        reckoning,
    })
}

/// Resolves the bank part of a scenario.
pub fn resolve(
    spec: &BankSpec,
    scenario: &Context<'_>,
) -> Result<(BankConfig, EventEstimate, MemoryEstimate), Issue> {
    check(spec)?;
    check_needs_snapshots(spec, scenario)?;
    let channels = &spec.channels;
    let channel = ChannelConfig {
        fifo: channels.fifo,
        reliable: channels.reliable,
        window: channels.window,
        rto: channels.retransmit_after.0,
        // The channel repeats the last delay once these are used: retries never end.
        backoff: backoff_policy(&channels.backoff, 64),
    };
    channel
        .validate()
        .map_err(|err| issue("workload.channels", err.to_string()))?;
    let durability = &spec.durability;
    let fsync = match durability.fsync {
        FsyncPolicy::EveryRecord => Fsync::EveryRecord,
        FsyncPolicy::Interval(every) => Fsync::Interval(every.as_nanos()),
        FsyncPolicy::Never => Fsync::Never,
    };
    let disk = DiskConfig {
        capacity_bytes: DISK_CAPACITY_BYTES,
        fsync_latency: durability.fsync_latency.sampler(),
        torn_writes: durability.torn_writes,
        ..DiskConfig::default()
    };
    disk.validate()
        .map_err(|err| issue("workload.durability", err.to_string()))?;
    let account = AccountConfig {
        accounts: spec.accounts.count,
        initial_balance: u64::from(spec.accounts.initial_balance),
        transfer_gap_ns: 1e9 / spec.transfers.per_s,
        max_amount: u64::from(spec.transfers.max_amount),
        channel,
        wal: durability.wal,
        fsync,
        checkpoints: match &spec.checkpoints {
            Some(checkpoints) => Some(checkpoint_config(
                checkpoints,
                spec.accounts.count,
                scenario,
            )?),
            None => None,
        },
    };
    let snapshots = spec.snapshots.as_ref().map(|snapshots| SnapshotConfig {
        every_ns: snapshots.every.as_nanos(),
        initiator: match &snapshots.initiator {
            Initiator::Random(_) => None,
            Initiator::Fixed(name) => name
                .strip_prefix(ACCOUNT_PREFIX)
                .and_then(|digits| digits.parse().ok()),
        },
        complete_within_ns: snapshots.complete_within.as_nanos(),
    });
    let seconds = scenario.duration.as_secs_f64();
    let accounts = f64::from(spec.accounts.count);
    let transfers = accounts * spec.transfers.per_s * seconds;
    let snapshot_events = spec.snapshots.as_ref().map_or(0.0, |snapshots| {
        seconds / snapshots.every.as_secs_f64().max(1e-9) * accounts * accounts * 4.0
    });
    let estimate = EventEstimate {
        events: transfers * EVENTS_PER_TRANSFER + snapshot_events,
        reckoning: format!(
            "{transfers:.0} transfers x {EVENTS_PER_TRANSFER} events + {snapshot_events:.0} snapshot events"
        ),
        advice: "workload.accounts.count, workload.transfers.per_s, duration or snapshots.every"
            .to_owned(),
    };
    let memory = memory_estimate(spec, scenario);
    Ok((
        BankConfig {
            account,
            disk,
            snapshots,
            sampled_events: spec.causality.sampled_events,
            direct: false,
        },
        estimate,
        memory,
    ))
}

/// The memory estimate: the transfers' logs and checker state, the snapshots kept for
/// the checks, and the metrics windows (see the calibration above).
fn memory_estimate(spec: &BankSpec, scenario: &Context<'_>) -> MemoryEstimate {
    let seconds = scenario.duration.as_secs_f64();
    let count = spec.accounts.count;
    let accounts = f64::from(count);
    let mut memory = MemoryEstimate::default();
    let transfers = accounts * spec.transfers.per_s * seconds;
    let per_transfer = TRANSFER_BYTES + TRANSFER_BYTES_PER_ACCOUNT * accounts;
    memory.add(MemoryPart {
        what: "transfers",
        bytes: transfers * per_transfer,
        reckoning: format!("{transfers:.0} transfers x {per_transfer} bytes"),
        path: "workload.transfers.per_s",
        advice: "lower workload.transfers.per_s, workload.accounts.count or duration",
    });
    if let Some(snapshots) = &spec.snapshots {
        let taken = (seconds / snapshots.every.as_secs_f64().max(1e-9)).ceil();
        memory.add(MemoryPart {
            what: "snapshots",
            bytes: taken * accounts * accounts * SNAPSHOT_BYTES_PER_PAIR,
            reckoning: format!(
                "{taken:.0} snapshots x {count}x{count} accounts x {SNAPSHOT_BYTES_PER_PAIR} bytes"
            ),
            path: "workload.snapshots.every",
            advice: "raise workload.snapshots.every, or lower workload.accounts.count or \
                     duration",
        });
    }
    let windows = crate::workload::rpc::validate::windows(scenario);
    let per_window = WINDOW_BYTES + 16.0 * accounts;
    memory.add(MemoryPart {
        what: "metrics windows",
        bytes: windows * per_window,
        reckoning: format!("{windows:.0} windows x {per_window} bytes"),
        path: "metrics.window",
        advice: "write a longer metrics.window",
    });
    memory
}
