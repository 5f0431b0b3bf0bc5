//! The bank workload's run record and the checks it offers.

use faultline_reports::record::{RunRecord, Summary};

use super::check::{Findings, SnapshotRun};
use super::BankOutput;
use crate::engine::driver::Finished;
use crate::engine::queue::Nanos;
use crate::record::{self, Invocation, NS_PER_S};
use crate::scenario::check::{BoundKind, CheckSpec, Direction};
use crate::scenario::Scenario;

fn violations(count: f64, _bound: f64) -> String {
    if count == 0.0 {
        "no violation".to_owned()
    } else {
        format!("{count:.0} violations (the first ones are in summary.json, bank.checks)")
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
/// lasts to the end).
pub fn last_heal_ns(finished: &Finished<BankOutput>) -> Nanos {
    finished
        .core
        .faults
        .iter()
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

/// A metric a check reads, from the record.
pub fn metric(_record: &RunRecord, _metric: &str) -> Option<f64> {
    None
}

/// Builds the run record (checks are evaluated by the caller).
pub fn build(
    scenario: &Scenario,
    finished: &Finished<BankOutput>,
    invocation: &Invocation,
) -> RunRecord {
    let core = &finished.core;
    let summary = Summary {
        scenario: scenario.name.clone(),
        description: scenario.description.clone(),
        scenario_path: invocation.scenario_path.clone(),
        seed: core.seed,
        simulated_s: core.simulated_ns as f64 / NS_PER_S,
        wall_s: invocation.wall_s,
        events: core.events,
        trace_hash: core.trace_hash.clone(),
        slo: record::slo(scenario),
        window_s: core.window_ns as f64 / NS_PER_S,
        faults: record::fault_intervals(core),
        reproduce: invocation.reproduce.clone(),
        scenario_spec: serde_json::to_value(scenario).unwrap_or(serde_json::Value::Null),
        ..Summary::default()
    };
    RunRecord {
        summary,
        timeline: Vec::new(),
    }
}
