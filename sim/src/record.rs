//! From a finished run to the run record other tools read (`summary.json`,
//! `timeline.csv`): what every workload's record shares (faults, windows, checks); each
//! workload adds its own section (`workload/<kind>/record.rs`).

use std::cmp::Reverse;
use std::collections::{BTreeSet, BinaryHeap};

use faultline_reports::figures;
use faultline_reports::record::{CheckResult, FaultInterval, RunRecord, Summary};

use crate::engine::driver::CoreOutput;
use crate::engine::faults::Interval;
use crate::engine::queue::Nanos;
use crate::format::check::{Bound, Check, CheckSpec};
use crate::format::RunInfo;

/// Nanoseconds per millisecond.
pub const NS_PER_MS: f64 = 1e6;
/// Nanoseconds per second.
pub const NS_PER_S: f64 = 1e9;

/// Most fault labels one timeline row lists; more are counted (`+12 more`), so that
/// thousands of overlapping faults cannot make every row long.
pub const MAX_FAULTS_PER_ROW: usize = 8;

/// How the run was invoked, for the record.
#[derive(Clone, Debug, Default)]
pub struct Invocation {
    /// Path of the scenario file as given.
    pub scenario_path: String,
    /// Wall-clock seconds the run took.
    pub wall_s: f64,
    /// The command that reproduces the run.
    pub reproduce: String,
}

/// The run's fault intervals as the records show them.
pub fn fault_intervals(core: &CoreOutput) -> Vec<FaultInterval> {
    core.faults
        .iter()
        .map(|interval| FaultInterval {
            kind: interval.kind.to_owned(),
            target: interval.target.clone(),
            start_s: interval.start_ns as f64 / NS_PER_S,
            end_s: interval.end_ns.map(|end| end as f64 / NS_PER_S),
        })
        .collect()
}

/// For each of `window_count` windows of `window_ns`, the faults active in it as
/// `kind:target` joined by `;` (at most [`MAX_FAULTS_PER_ROW`], then `+N more`).
///
/// One sweep over windows and intervals (sorted by start), so many faults over many
/// windows cost their sum, not their product.
pub fn faults_active(intervals: &[Interval], window_ns: Nanos, window_count: usize) -> Vec<String> {
    debug_assert!(intervals
        .windows(2)
        .all(|pair| pair[0].start_ns <= pair[1].start_ns));
    let mut rows = Vec::with_capacity(window_count);
    let mut next = 0;
    // Active intervals by index (scenario order), and their ends (earliest first).
    let mut active: BTreeSet<usize> = BTreeSet::new();
    let mut ends: BinaryHeap<Reverse<(Nanos, usize)>> = BinaryHeap::new();
    for window in 0..window_count as u64 {
        let start_ns = window * window_ns;
        let end_ns = start_ns + window_ns;
        while next < intervals.len() && intervals[next].start_ns < end_ns {
            active.insert(next);
            ends.push(Reverse((
                intervals[next].end_ns.unwrap_or(Nanos::MAX),
                next,
            )));
            next += 1;
        }
        while let Some(&Reverse((end, index))) = ends.peek() {
            if end > start_ns {
                break;
            }
            ends.pop();
            active.remove(&index);
        }
        let mut labels: Vec<String> = active
            .iter()
            .take(MAX_FAULTS_PER_ROW)
            .map(|&index| format!("{}:{}", intervals[index].kind, intervals[index].target))
            .collect();
        if active.len() > MAX_FAULTS_PER_ROW {
            labels.push(format!("+{} more", active.len() - MAX_FAULTS_PER_ROW));
        }
        rows.push(labels.join(";"));
    }
    rows
}

/// The core of a run's summary, what every workload's has: the scenario, the seed, the
/// kernel's figures (events, trace hash, simulated time, window), the faults as they
/// happened and the command that reproduces the run. `workload` is the kind's name.
pub fn core_summary(
    workload: &str,
    core: &CoreOutput,
    run: &RunInfo,
    invocation: &Invocation,
) -> Summary {
    Summary {
        scenario: run.name.clone(),
        description: run.description.clone(),
        scenario_path: invocation.scenario_path.clone(),
        workload: workload.to_owned(),
        seed: core.seed,
        simulated_s: core.simulated_ns as f64 / NS_PER_S,
        wall_s: invocation.wall_s,
        events: core.events,
        trace_hash: core.trace_hash.clone(),
        slo: run.slo,
        window_s: core.window_ns as f64 / NS_PER_S,
        faults: fault_intervals(core),
        reproduce: invocation.reproduce.clone(),
        scenario_spec: run.spec_at(core.seed),
        ..Summary::default()
    }
}

/// The record of a run whose output is of another workload than its scenario (a bug:
/// the output of one resolved scenario recorded with another): the run's common fields
/// and one failed check that says so, so the run fails instead of the process panicking.
pub fn mismatched(core: &CoreOutput, run: &RunInfo, invocation: &Invocation) -> RunRecord {
    RunRecord {
        summary: Summary {
            checks: vec![CheckResult {
                name: "record".to_owned(),
                passed: false,
                detail: "the run's output is of another workload than its scenario \
                         (a bug: please report it with the seed)"
                    .to_owned(),
                ..Default::default()
            }],
            ..core_summary("", core, run, invocation)
        },
        ..RunRecord::default()
    }
}

/// Evaluates the scenario's checks on a record with the workload's metrics; the results
/// go into `record.summary.checks`.
pub fn evaluate_checks(record: &mut RunRecord, checks: &[Check], offered: &[CheckSpec]) {
    let results = checks
        .iter()
        .map(|check| {
            let name = check.to_string();
            let Some(spec) = offered.iter().find(|spec| spec.name == check.name) else {
                // Resolution refuses unknown checks; a record can still be rebuilt from
                // an edited scenario.
                return CheckResult {
                    name,
                    passed: false,
                    detail: format!("this workload has no check {:?}", check.name),
                    ..Default::default()
                };
            };
            let figure = Some(spec.metric.to_owned());
            // An invariant switched on holds at 0 violations; one switched off bounds
            // nothing.
            let threshold = match check.bound {
                Bound::Flag(true) => Some(0.0),
                Bound::Flag(false) => None,
                bound => Some(bound.value()),
            };
            match figures::value(&record.summary.figures, spec.metric) {
                Some(measured) => CheckResult {
                    name,
                    passed: spec.passes(measured, &check.bound),
                    detail: (spec.describe)(measured, check.bound.value()),
                    figure,
                    threshold,
                },
                None => CheckResult {
                    name,
                    passed: false,
                    detail: format!("the run measured no {}", spec.metric),
                    figure,
                    threshold,
                },
            }
        })
        .collect();
    record.summary.checks = results;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn interval(start_ns: Nanos, end_ns: Option<Nanos>) -> Interval {
        Interval {
            kind: "crash",
            target: format!("n{start_ns}"),
            start_ns,
            end_ns,
        }
    }

    #[test]
    fn faults_active_lists_the_faults_of_each_window() {
        let intervals = [
            interval(5, Some(15)),
            interval(10, None),
            interval(25, Some(30)),
        ];
        let rows = faults_active(&intervals, 10, 4);
        assert_eq!(
            rows,
            [
                "crash:n5",
                "crash:n5;crash:n10",
                "crash:n10;crash:n25",
                "crash:n10"
            ]
        );
    }

    #[test]
    fn faults_active_caps_long_rows_and_matches_the_quadratic_rule() {
        let intervals: Vec<Interval> = (0..50)
            .map(|i| interval(i * 3, if i % 4 == 0 { None } else { Some(i * 3 + 40) }))
            .collect();
        let rows = faults_active(&intervals, 7, 40);
        for (window, row) in rows.iter().enumerate() {
            let (start, end) = (window as u64 * 7, window as u64 * 7 + 7);
            let active: Vec<String> = intervals
                .iter()
                .filter(|i| i.start_ns < end && i.end_ns.is_none_or(|e| e > start))
                .map(|i| format!("{}:{}", i.kind, i.target))
                .collect();
            let mut expected: Vec<String> =
                active.iter().take(MAX_FAULTS_PER_ROW).cloned().collect();
            if active.len() > MAX_FAULTS_PER_ROW {
                expected.push(format!("+{} more", active.len() - MAX_FAULTS_PER_ROW));
            }
            assert_eq!(*row, expected.join(";"), "window {window}");
        }
    }
}
