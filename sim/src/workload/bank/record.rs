//! The bank workload's run record and the checks it offers.

use faultline_reports::record::{
    BankHlc, BankSummary, BankWindowRow, CheckpointSummary, DiskSummary, HaltSummary,
    HlcOffsetRow, Invariant,
    RecoverySummary, RunRecord, SnapshotSummary, Summary,
};

use super::check::{Findings, SnapshotRun};
use super::config::BankConfig;
use super::BankOutput;
use crate::engine::driver::Finished;
use crate::engine::queue::Nanos;
use crate::format::check::{BoundKind, CheckSpec, Direction};
use crate::format::RunInfo;
use crate::record::{self, Invocation, NS_PER_MS, NS_PER_S};

fn violations(count: f64, _bound: f64) -> String {
    if count == 0.0 {
        "no violation".to_owned()
    } else {
        format!("{count:.0} violations (the first ones are in summary.json: bank.invariants)")
    }
}

/// A flag check reading `<name>_violations`.
const fn invariant(name: &'static str, metric: &'static str) -> CheckSpec {
    CheckSpec {
        name,
        metric,
        bound: BoundKind::Flag,
        direction: Direction::Holds,
        describe: violations,
    }
}

/// The checks of the bank workload: each an invariant switched on with `true`.
pub const CHECKS: &[CheckSpec] = &[
    invariant("causality", "causality_violations"),
    invariant("hlc_bounds", "hlc_bounds_violations"),
    invariant("snapshot_conservation", "snapshot_conservation_violations"),
    invariant("consistent_cut", "consistent_cut_violations"),
    invariant("snapshot_liveness", "snapshot_liveness_violations"),
    invariant("durability", "durability_violations"),
];

/// The findings of each check, by metric name, of a finished run (liveness needs the
/// fault intervals, so it is computed here).
pub fn findings(
    finished: &Finished<BankOutput>,
    scenario_snapshots: Option<Nanos>,
) -> Vec<(&'static str, Findings)> {
    let output = &finished.workload;
    let mut causality = output.causality.clone();
    causality.compared += output.sampled.compared;
    causality.violations += output.sampled.violations;
    causality
        .examples
        .extend(output.sampled.examples.iter().cloned());
    vec![
        ("causality_violations", causality),
        ("hlc_bounds_violations", output.hlc_bounds.clone()),
        (
            "snapshot_conservation_violations",
            output.conservation.clone(),
        ),
        ("consistent_cut_violations", output.consistent_cut.clone()),
        (
            "snapshot_liveness_violations",
            liveness(finished, scenario_snapshots),
        ),
        ("durability_violations", output.durability.clone()),
    ]
}

/// When the last fault interval ended (0 with none; the end of the run for one that
/// lasts to the end). Clock faults set a clock for good rather than break something
/// for a while, so they do not count.
pub fn last_heal_ns(finished: &Finished<BankOutput>) -> Nanos {
    finished
        .core
        .faults
        .iter()
        .filter(|interval| interval.kind != "clock")
        .map(|interval| interval.end_ns.unwrap_or(finished.core.simulated_ns))
        .max()
        .unwrap_or(0)
}

/// Some snapshot completes within `complete_within_ns` after the last fault healed.
pub fn liveness(
    finished: &Finished<BankOutput>,
    complete_within_ns: Option<Nanos>,
) -> super::check::Findings {
    let mut findings = Findings::default();
    let Some(within_ns) = complete_within_ns else {
        return findings;
    };
    let end_ns = finished.core.simulated_ns;
    let healed_ns = last_heal_ns(finished);
    let deadline = healed_ns.saturating_add(within_ns);
    let done = finished
        .workload
        .snapshots
        .iter()
        .filter_map(|run: &SnapshotRun| run.completed_ns)
        .find(|&at| at >= healed_ns && at <= deadline);
    findings.compared = 1;
    if done.is_none() {
        findings.violations = 1;
        findings.examples.push(if deadline > end_ns {
            format!(
                "the run ended {:.3} s after the last fault healed, before complete_within ({:.3} s) ran out, with no snapshot completed",
                (end_ns - healed_ns) as f64 / NS_PER_S,
                within_ns as f64 / NS_PER_S
            )
        } else {
            format!(
                "no snapshot completed within {:.3} s after the last fault healed at {:.3} s",
                within_ns as f64 / NS_PER_S,
                healed_ns as f64 / NS_PER_S
            )
        });
    }
    findings
}

/// Builds the run record (checks are evaluated by the caller).
pub fn build(
    run: &RunInfo,
    config: &BankConfig,
    finished: &Finished<BankOutput>,
    invocation: &Invocation,
) -> RunRecord {
    let core = &finished.core;
    let output = &finished.workload;
    let complete_within_ns = config
        .snapshots
        .as_ref()
        .map(|snapshots| snapshots.complete_within_ns);
    let invariants = findings(finished, complete_within_ns)
        .into_iter()
        .map(|(metric, found)| Invariant {
            name: metric.trim_end_matches("_violations").to_owned(),
            compared: found.compared,
            violations: found.violations,
            examples: found.examples,
        })
        .collect();
    let account = |index: u32| format!("{}{index}", super::config::ACCOUNT_PREFIX);
    let seconds = |ns: Nanos| ns as f64 / NS_PER_S;
    let final_units = output.finals.iter().map(|state| state.balance).sum::<u64>()
        + output.windows.last().map_or(0, |window| window.in_flight);
    let stats = &output.stats;
    let disk = &output.disk;
    let checkpoints = config.account.checkpoints.is_some();
    let bank = BankSummary {
        accounts: output.accounts,
        total_units: output.total,
        final_units,
        transfers: stats.transfers,
        credits: stats.credits,
        skipped_funds: stats.skipped[0],
        skipped_window: stats.skipped[1],
        skipped_log: stats.skipped[2],
        markers: stats.markers,
        messages_sent: stats.messages_sent,
        messages_delivered: stats.messages_delivered,
        messages_dropped: stats.messages_dropped,
        messages_to_down_nodes: stats.messages_to_down_nodes,
        acked_transfers_lost: output.acked_lost,
        halts: stats.halts,
        invariants,
        snapshots: output
            .snapshots
            .iter()
            .map(|run| SnapshotSummary {
                id: run.id,
                initiator: account(run.initiator),
                started_s: seconds(run.started_ns),
                completed_s: run.completed_ns.map(seconds),
                abandoned: run.abandoned.clone(),
                abandoned_s: run.abandoned_ns.map(seconds),
            })
            .collect(),
        recoveries: output
            .recoveries
            .iter()
            .map(|at| RecoverySummary {
                at_s: seconds(at.at_ns),
                account: account(at.account),
                slot: at.recovery.slot,
                resumed_from: at
                    .recovery
                    .resumed_from
                    .map(|event| format!("{}:{}", event.slot, event.index)),
                records: at.recovery.records,
                valid_bytes: at.recovery.valid_bytes,
                cut_bytes: at.recovery.cut_bytes,
                stop: at.recovery.stop.clone(),
                balance: at.recovery.balance,
                checkpoint: at.recovery.checkpoint,
                records_without_checkpoint: checkpoints
                    .then_some(at.recovery.records_without_checkpoint),
                replay_span_s: checkpoints.then_some(seconds(at.recovery.replay_span_ns)),
                replay_span_without_s: checkpoints
                    .then_some(seconds(at.recovery.replay_span_without_ns)),
            })
            .collect(),
        halted: output
            .halts
            .iter()
            .map(|at| HaltSummary {
                at_s: seconds(at.at_ns),
                account: account(at.account),
                reason: at.reason.clone(),
            })
            .collect(),
        hlc: BankHlc {
            epsilon_ms: output.epsilon_ns as f64 / NS_PER_MS,
            max_offset_ms: output.max_hlc_offset_ns as f64 / NS_PER_MS,
            max_counter: u64::from(output.max_hlc_counter),
            counter_bound: output.hlc_counter_bound,
        },
        disk: DiskSummary {
            writes: disk.writes,
            bytes_written: disk.bytes_written,
            writes_refused_full: disk.writes_refused_full,
            fsyncs: disk.fsyncs_completed,
            fsyncs_lied: disk.fsyncs_lied,
            crashes: disk.crashes,
            bytes_lost_at_crash: disk.bytes_lost_at_crash,
            torn_tails_kept: disk.torn_tails_kept,
            reads_corrupted: disk.reads_corrupted,
        },
        checkpoints: config
            .account
            .checkpoints
            .as_ref()
            .map(|checkpoints| CheckpointSummary {
                cost_s: seconds(checkpoints.cost_ns),
                interval_s: seconds(checkpoints.interval_ns),
                reckoning: checkpoints.reckoning.clone(),
                taken: stats.checkpoints,
                bytes: stats.checkpoint_bytes,
                stall_s: seconds(stats.checkpoint_stall_ns),
            }),
    };
    let window_s = core.window_ns as f64 / NS_PER_S;
    let bank_timeline = output
        .windows
        .iter()
        .enumerate()
        .map(|(index, window)| BankWindowRow {
            t_s: index as f64 * window_s,
            transfers: window.transfers,
            credits: window.credits,
            delivered: window.delivered,
            dropped: window.dropped,
            in_flight_units: window.in_flight,
            hlc_max_counter: u64::from(window.hlc_max_counter),
        })
        .collect();
    let hlc_offsets = output
        .windows
        .iter()
        .enumerate()
        .flat_map(|(index, window)| {
            window
                .hlc_offset_ns
                .iter()
                .enumerate()
                .filter_map(move |(acct, offset)| {
                    offset.map(|offset| HlcOffsetRow {
                        t_s: index as f64 * window_s,
                        account: format!("{}{acct}", super::config::ACCOUNT_PREFIX),
                        offset_ms: offset as f64 / NS_PER_MS,
                    })
                })
        })
        .collect();
    let summary = Summary {
        bank: Some(bank),
        ..record::core_summary(
            <super::Bank as crate::workload::Kind>::NAME,
            core,
            run,
            invocation,
        )
    };
    RunRecord {
        summary,
        bank_timeline,
        hlc_offsets,
        ..RunRecord::default()
    }
}
