//! Statistics of one run, computed from its [`RunRecord`] alone; [`compute`] gathers them
//! into a [`RunStats`], which is also `report.json`.
//!
//! Definitions (all per metrics window of `window_s` seconds, see [`window_s`]):
//!
//! - **Availability by offered time** of a set of windows: succeeded / resolved of the
//!   logical requests *offered* in those windows, however late they resolved; requests
//!   still unresolved at the end of the run are reported apart, not counted. Requests
//!   offered with none resolved read 0 % (stuck requests are an outage); nothing offered
//!   is a gap. With a latency objective (`slo_latency_ms`) the same ratio with *good*
//!   requests (succeeded within the objective) is reported beside it. Over the whole
//!   run the counts come from `summary.rpc.requests`.
//! - **Time-based availability**: the fraction of windows with traffic (requests
//!   offered) whose availability meets the SLO.
//! - **Nines**: `-log10(1 - A)`. With no failure among `n` successes the value is capped
//!   at `log10(n)` (what one failure would give: the measurement cannot resolve more) and
//!   shown as `≥`.
//! - **Phases** partition the run at every fault start and end: `before faults`,
//!   `during <faults active>`, `after <fault that ended last>`. A window belongs to the
//!   phase holding its midpoint. A fault that covers the whole run (e.g. a clock skew set
//!   at 0 s) is a background condition with no before or after, and does not split
//!   phases. With more than [`MAX_LISTED_PHASES`] phases the first [`LISTED_PHASES`] are
//!   listed and the rest folded into one row per kind of phase (e.g. `during crash`).
//!   Every column counts by offered window: a phase's succeeded, attempts, goodput
//!   (succeeded / its seconds) and amplification (attempts / offered) are those of the
//!   requests offered in it, whenever they resolved or were sent, so the rows add up to
//!   the run's totals and a crash whose requests are held until the restart reads its
//!   successes in the crash phase, not after it.
//! - **Measured MTTR** of a fault: from the fault's end to the start of the first window
//!   (starting at or after the end) whose availability is ≥ the SLO and stays ≥ the SLO
//!   in every window up to the next fault that starts after it, or to the end of the run.
//!   So a later fault does not undo a recovery, and a fault followed at once by another
//!   recovers when the service is healthy again. Windows with nothing offered neither
//!   break nor start a recovery. If there is no such window the fault is *not
//!   recovered*: requests kept failing after the trigger was gone, the metastable
//!   signature. The resolution is one window. Faults past [`MAX_LISTED_FAULTS`] are
//!   folded into one row per kind (count, median and worst MTTR).
//! - **Retry amplification**: attempts per offered logical request, overall and in the
//!   worst window (windows that offered nothing are skipped).
//! - **Peak load multiple**: the highest per-window server arrival rate over the
//!   steady-state rate, the mean arrival rate of the windows that end before the first
//!   fault (`clock` faults excluded: they do not change load). The first window is skipped
//!   as warm-up when at least three such windows exist. With no window before the first
//!   fault, the mean offered load (first tries only) over the run stands in.
//! - **Breaker time**: the sum of `window_s` over windows that ended with a breaker open.
//! - **Expectations**: the simulator's closed-form values (`summary.rpc.expectations`)
//!   beside values measured here as each [`Measure`] says.
//!
//! Cost: every statistic is at most O((faults + windows) log(faults + windows)) and the
//! folded tables are of bounded length, so 10,000 overlapping faults over 100,000
//! windows report in well under a second.

use std::collections::BTreeMap;

use faultline_models::reliability;

pub mod bank;
pub mod verdict;
use serde::{Deserialize, Serialize};

use crate::record::{
    ratio, FaultInterval, LatencySummary, Measure, RequestCounts, RpcSummary, RunRecord,
    TimelineRow,
};

/// Float slack for comparing times in seconds.
const EPS: f64 = 1e-9;

/// Default availability objective when the record has none.
pub const DEFAULT_SLO: f64 = 0.99;

/// Identifies `report.json`'s layout; bumped when a field changes meaning.
pub const REPORT_FORMAT: &str = "faultline-report/1";

/// Faults listed one by one when there are more than [`MAX_LISTED_FAULTS`].
pub const LISTED_FAULTS: usize = 20;
/// Up to this many faults are all listed; past it, the rest are folded by kind.
pub const MAX_LISTED_FAULTS: usize = 30;
/// Phases listed one by one when there are more than [`MAX_LISTED_PHASES`].
pub const LISTED_PHASES: usize = 20;
/// Up to this many phases are all listed; past it, the rest are folded by kind.
pub const MAX_LISTED_PHASES: usize = 30;
/// A phase label names at most this many active faults; past it, it counts them by kind.
pub const LABEL_FAULTS: usize = 3;
/// Expectations measured at most (the rest are dropped with a note).
pub const MAX_EXPECTATIONS: usize = 256;
/// Consistency notes kept at most.
const MAX_NOTES: usize = 16;

/// Nines of an availability: `-log10(1 - A)`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Nines {
    /// The value in nines.
    pub value: f64,
    /// True when there was no failure and `value` is the measurement's limit, `log10(n)`.
    pub capped: bool,
}

impl std::fmt::Display for Nines {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.capped {
            write!(f, "≥ {:.2}", self.value)
        } else {
            write!(f, "{:.2}", self.value)
        }
    }
}

/// Nines of availability `a` measured over `successes` successful requests; `None` when
/// `a` is not a number in 0..=1 or nothing succeeded and nothing failed.
pub fn nines(a: f64, successes: u64) -> Option<Nines> {
    if !(0.0..=1.0).contains(&a) {
        return None;
    }
    if a >= 1.0 {
        if successes == 0 {
            return None;
        }
        return Some(Nines {
            value: (successes as f64).log10(),
            capped: true,
        });
    }
    let value = reliability::nines(a);
    Some(Nines {
        // Avoid -0 when A = 0.
        value: if value > 0.0 { value } else { 0.0 },
        capped: false,
    })
}

/// Where a phase sits relative to the faults.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PhaseKind {
    /// Before any fault started.
    Before,
    /// While at least one fault is active.
    During,
    /// After a fault ended, with none active.
    After,
}

/// Availability and traffic of one phase of the run, or of several folded together.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PhaseStats {
    /// `before faults`, `during crash server-0`, `after crash server-0`; a folded row
    /// names the kind of its phases and their number, `during crash (4,990 phases)`.
    pub label: String,
    /// Position relative to the faults.
    pub kind: PhaseKind,
    /// Phases in this row: 1, or more for a folded row.
    pub phases: usize,
    /// Start of the (first) phase, seconds.
    pub start_s: f64,
    /// End of the (last) phase, seconds.
    pub end_s: f64,
    /// Metrics windows in the phase(s).
    pub windows: usize,
    /// Logical requests offered in the phase's windows.
    pub offered: u64,
    /// Of those, the ones that eventually succeeded.
    pub succeeded: u64,
    /// Of those, the ones that succeeded within the latency objective.
    pub good: u64,
    /// Of those, the ones with a final outcome.
    pub resolved: u64,
    /// Of those, the ones still in flight at the end of the run.
    pub unresolved: u64,
    /// Attempts sent for those requests, whenever sent (`offered_attempts`).
    pub attempts: u64,
    /// succeeded / resolved (0 when offered and none resolved); `None` when nothing was
    /// offered.
    pub availability: Option<f64>,
    /// good / resolved, when a latency objective is set.
    pub availability_latency: Option<f64>,
    /// Nines of `availability`.
    pub nines: Option<Nines>,
    /// succeeded / the seconds of the phase's windows: the successes of the requests
    /// offered in the phase, whenever they completed.
    pub goodput_per_s: f64,
    /// attempts / offered, both for the requests offered in the phase; `None` when
    /// nothing was offered.
    pub amplification: Option<f64>,
}

/// The phases of a run: listed, then folded.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PhaseTable {
    /// Phases in the run (listed and folded).
    pub total: usize,
    /// Rows in time order; folded rows (with `phases > 1`) come last.
    pub rows: Vec<PhaseStats>,
}

/// How the service came back after a fault ended.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Recovery {
    /// Back at or above the SLO `mttr_s` seconds after the fault ended, and stayed there.
    Recovered {
        /// Measured time to recovery, seconds (resolution: one window).
        mttr_s: f64,
    },
    /// Never back at or above the SLO for good by the end of the run.
    NotRecovered,
    /// The fault lasts to the end of the run: nothing to measure.
    Unended,
}

impl Recovery {
    /// The measured MTTR when recovered.
    pub fn mttr_s(&self) -> Option<f64> {
        match self {
            Recovery::Recovered { mttr_s } => Some(*mttr_s),
            _ => None,
        }
    }

    /// A short description: `2.00 s`, `not recovered`, `lasts to end`.
    pub fn describe(&self) -> String {
        match self {
            Recovery::Recovered { mttr_s } => format!("{} s", crate::text::fixed(*mttr_s, 2)),
            Recovery::NotRecovered => "not recovered".to_string(),
            Recovery::Unended => "lasts to end".to_string(),
        }
    }
}

/// One fault and the service's recovery from it.
#[derive(Clone, Debug, PartialEq)]
pub struct FaultRecovery {
    /// The fault, as in `summary.faults`.
    pub fault: FaultInterval,
    /// What happened after it ended.
    pub recovery: Recovery,
}

/// One fault as the reports list it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FaultRow {
    /// 1-based position in `summary.faults`.
    pub index: usize,
    /// Fault kind.
    pub kind: String,
    /// What it hit.
    pub target: String,
    /// Start, seconds.
    pub start_s: f64,
    /// End, seconds; `None` when it lasts to the end of the run.
    pub end_s: Option<f64>,
    /// Length, seconds (to the end of the run when unended).
    pub duration_s: f64,
    /// Covers the whole run (e.g. a clock skew from 0 s): no phases, no recovery.
    pub background: bool,
    /// Measured recovery; `None` when the record has no availability series.
    pub recovery: Option<Recovery>,
    /// Recovered or metastable ([`verdict`]); `None` when the run has no verdicts.
    #[serde(default)]
    pub verdict: Option<verdict::FaultVerdict>,
}

/// Faults of one kind folded into one row.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FaultGroup {
    /// Fault kind.
    pub kind: String,
    /// Faults in the row.
    pub count: usize,
    /// Earliest start, seconds.
    pub first_start_s: f64,
    /// Latest end, seconds (the end of the run for unended faults).
    pub last_end_s: f64,
    /// Sum of their durations, seconds (overlaps counted twice).
    pub total_s: f64,
    /// Faults that recovered.
    pub recovered: usize,
    /// Faults that did not recover.
    pub not_recovered: usize,
    /// Faults lasting to the end of the run.
    pub unended: usize,
    /// Faults judged metastable ([`verdict`]).
    #[serde(default)]
    pub metastable: usize,
    /// Median MTTR of those that recovered, seconds.
    pub mttr_median_s: Option<f64>,
    /// Longest MTTR of those that recovered, seconds.
    pub mttr_max_s: Option<f64>,
}

/// The faults of a run: the first listed, the rest folded by kind.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct FaultTable {
    /// Faults in the run.
    pub total: usize,
    /// Faults listed one by one, in `summary.faults` order.
    pub listed: Vec<FaultRow>,
    /// The rest, one row per kind, in order of first appearance.
    pub folded: Vec<FaultGroup>,
}

impl FaultTable {
    /// Faults after whose end availability never came back for good, listed and folded.
    pub fn not_recovered(&self) -> usize {
        self.listed
            .iter()
            .filter(|row| matches!(row.recovery, Some(Recovery::NotRecovered)))
            .count()
            + self
                .folded
                .iter()
                .map(|group| group.not_recovered)
                .sum::<usize>()
    }
}

/// The worst recovery over all faults, and which fault it was.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WorstRecovery {
    /// `not_recovered` if any fault did not recover, else the longest MTTR.
    pub recovery: Recovery,
    /// 1-based position of that fault in `summary.faults`.
    pub fault: usize,
    /// That fault, `kind target`.
    pub label: String,
}

/// Attempts per offered logical request.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Amplification {
    /// attempts / offered over the run; `None` when nothing was offered.
    pub overall: Option<f64>,
    /// The highest per-window attempts / offered.
    pub worst: Option<f64>,
    /// Start of that window, seconds.
    pub worst_t_s: Option<f64>,
}

/// Peak server load against the steady state before the first fault.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PeakLoad {
    /// Highest per-window server arrivals, per second.
    pub peak_per_s: f64,
    /// Start of that window, seconds (`None` when taken from the summary).
    pub peak_t_s: Option<f64>,
    /// Steady-state server arrivals per second.
    pub baseline_per_s: Option<f64>,
    /// Windows the baseline is the mean of (0 when it fell back to offered load).
    pub baseline_windows: usize,
    /// True when no window preceded the first fault and the mean offered load stood in.
    pub baseline_from_offered: bool,
    /// `peak_per_s / baseline_per_s`.
    pub multiple: Option<f64>,
}

/// Circuit-breaker activity.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct BreakerStats {
    /// Seconds of windows that ended with at least one breaker open.
    pub open_s: f64,
    /// Most breakers open at the end of one window.
    pub peak_open: u64,
    /// Logical requests ended by an open breaker (summary).
    pub rejections: u64,
}

impl BreakerStats {
    /// Whether any breaker did anything (else the run has no breaker chart).
    pub fn active(&self) -> bool {
        self.peak_open > 0 || self.rejections > 0
    }
}

/// Time-based availability: windows, not requests.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TimeAvailability {
    /// Windows in which requests were offered.
    pub windows_with_traffic: usize,
    /// Of those, windows whose availability met the SLO.
    pub windows_meeting_slo: usize,
    /// `windows_meeting_slo / windows_with_traffic`; `None` without traffic.
    pub fraction: Option<f64>,
    /// Of those, windows whose latency-bounded availability met the SLO.
    pub windows_meeting_latency_slo: Option<usize>,
    /// `windows_meeting_latency_slo / windows_with_traffic`.
    pub fraction_latency: Option<f64>,
}

/// A closed-form expectation beside the measured value.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExpectationResult {
    /// What is compared, e.g. `server availability (crash server-*)`.
    pub name: String,
    /// The closed-form value from the simulator, in `unit`.
    pub analytic: f64,
    /// The measured value, in `unit`; `None` when the run has no data for it.
    pub measured: Option<f64>,
    /// Unit of both values (`%`, `attempts/request`, `ms`).
    pub unit: String,
    /// Formula and caveats.
    pub note: String,
    /// How `measured` was taken.
    pub measure: Measure,
}

/// A span of simulated time.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Span {
    /// Start, seconds.
    pub from_s: f64,
    /// End, seconds.
    pub to_s: f64,
}

/// Checks passed and failed.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CheckCounts {
    /// Checks that held.
    pub passed: usize,
    /// Checks evaluated.
    pub total: usize,
    /// Names of the checks that failed.
    pub failed: Vec<String>,
}

/// What the reports show about an rpc run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RpcStats {
    /// Availability by offered time over the run (from `summary.rpc.requests`), 0..1;
    /// `None` when nothing was offered.
    pub availability: Option<f64>,
    /// Latency-bounded availability (good / resolved, from the timeline) when a latency
    /// objective is set.
    pub availability_latency: Option<f64>,
    /// Nines of `availability`.
    pub nines: Option<Nines>,
    /// Nines of `availability_latency`.
    pub nines_latency: Option<Nines>,
    /// `availability >= slo` (and `availability_latency >= slo` when set).
    pub meets_slo: Option<bool>,
    /// Requests still in flight at the end of the run (`summary.rpc.requests.in_flight`).
    pub unresolved: u64,
    /// Time-based availability.
    pub time_availability: TimeAvailability,
    /// Successful logical requests per second of run.
    pub goodput_per_s: f64,
    /// Latency of successful requests (from the summary), ms.
    pub latency_ms: LatencySummary,
    /// Phases before, during and after the faults.
    pub phases: PhaseTable,
    /// The worst recovery; `None` when no fault ended before the end of the run.
    pub worst_recovery: Option<WorstRecovery>,
    /// Retry amplification.
    pub amplification: Amplification,
    /// Peak load multiple.
    pub peak: PeakLoad,
    /// Breaker activity.
    pub breakers: BreakerStats,
    /// Closed-form expectations beside measured values.
    pub expectations: Vec<ExpectationResult>,
    /// Recovered or metastable after each fault; `None` without a fault or without
    /// enough windows before the first.
    #[serde(default)]
    pub verdicts: Option<verdict::Verdicts>,
    /// The span the zoomed chart panels show (from a little before the first fault to a
    /// little after the last recovery); `None` when the faults span most of the run.
    pub zoom: Option<Span>,
}

/// Everything the reports show about one run; serialised as `report.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunStats {
    /// [`REPORT_FORMAT`].
    pub format: String,
    /// Scenario name.
    pub scenario: String,
    /// Run seed.
    pub seed: u64,
    /// Workload kind (`rpc`, ...; empty when the record does not say).
    pub workload: String,
    /// Metrics window, seconds.
    pub window_s: f64,
    /// Length of the run, seconds.
    pub duration_s: f64,
    /// Availability objective, 0..1.
    pub slo: f64,
    /// Latency objective, ms.
    pub slo_latency_ms: Option<f64>,
    /// Checks passed and failed.
    pub checks: CheckCounts,
    /// The faults and, for rpc runs, their recoveries.
    pub faults: FaultTable,
    /// The rpc workload's statistics; `None` for other workloads.
    pub rpc: Option<RpcStats>,
    /// The bank workload's statistics; `None` for other workloads.
    #[serde(default)]
    pub bank: Option<bank::BankStats>,
    /// Where the record contradicts itself (timeline totals against the summary, a
    /// workload without its section), in words; empty for a consistent record.
    pub notes: Vec<String>,
}

/// Computes every statistic of a run.
pub fn compute(rec: &RunRecord) -> RunStats {
    let s = &rec.summary;
    let recoveries = s.rpc.as_ref().map(|_| recoveries(rec));
    let verdicts = s.rpc.as_ref().and_then(|_| verdict::verdicts(rec));
    let faults = fault_table(rec, recoveries.as_deref(), verdicts.as_ref());
    let rpc = s
        .rpc
        .as_ref()
        .map(|section| rpc_stats(rec, section, recoveries.as_deref().unwrap_or(&[]), verdicts));
    RunStats {
        format: REPORT_FORMAT.to_string(),
        scenario: s.scenario.clone(),
        seed: s.seed,
        workload: s.workload.clone(),
        window_s: window_s(rec),
        duration_s: duration_s(rec),
        slo: slo(rec),
        slo_latency_ms: slo_latency_ms(rec),
        checks: CheckCounts {
            passed: s.checks.iter().filter(|c| c.passed).count(),
            total: s.checks.len(),
            failed: s
                .checks
                .iter()
                .filter(|c| !c.passed)
                .map(|c| c.name.clone())
                .collect(),
        },
        faults,
        rpc,
        bank: s.bank.as_ref().map(|section| bank::compute(rec, section)),
        notes: notes(rec),
    }
}

fn rpc_stats(
    rec: &RunRecord,
    section: &RpcSummary,
    recs: &[FaultRecovery],
    verdicts: Option<verdict::Verdicts>,
) -> RpcStats {
    let q = &section.requests;
    let duration_s = duration_s(rec);
    let slo = slo(rec);
    let availability = ratio(q.succeeded, q.resolved(), q.offered);
    let latency_slo = slo_latency_ms(rec).is_some();
    let availability_latency = latency_slo.then(|| {
        let good: u64 = rec.timeline.iter().map(|r| r.good).sum();
        let resolved: u64 = rec.timeline.iter().map(TimelineRow::resolved).sum();
        let offered: u64 = rec.timeline.iter().map(|r| r.offered).sum();
        ratio(good, resolved, offered)
    });
    let availability_latency = availability_latency.flatten();
    let good_total: u64 = rec.timeline.iter().map(|r| r.good).sum();
    let meets_slo = availability.map(|a| a >= slo && availability_latency.is_none_or(|l| l >= slo));
    RpcStats {
        availability,
        availability_latency,
        nines: availability.and_then(|a| nines(a, q.succeeded)),
        nines_latency: availability_latency.and_then(|a| nines(a, good_total)),
        meets_slo,
        unresolved: q.in_flight,
        time_availability: time_availability(rec),
        goodput_per_s: if duration_s > 0.0 {
            q.succeeded as f64 / duration_s
        } else {
            0.0
        },
        latency_ms: section.latency_ms.clone(),
        phases: phases(rec),
        worst_recovery: worst_recovery(recs),
        amplification: amplification(rec),
        peak: peak_load(rec),
        breakers: breakers(rec),
        expectations: expectations(rec),
        verdicts,
        zoom: zoom(rec, recs),
    }
}

/// The metrics window in seconds: `summary.window_s`, else the spacing of the timeline
/// (rpc or bank), else 1 s.
pub fn window_s(rec: &RunRecord) -> f64 {
    let w = rec.summary.window_s;
    if w.is_finite() && w > 0.0 {
        return w;
    }
    let spacing = |a: Option<f64>, b: Option<f64>| {
        a.zip(b)
            .map(|(a, b)| b - a)
            .filter(|d| d.is_finite() && *d > 0.0)
    };
    let start = |i: usize| rec.timeline.get(i).map(|r| r.t_s);
    let bank_start = |i: usize| rec.bank_timeline.get(i).map(|r| r.t_s);
    spacing(start(0), start(1))
        .or_else(|| spacing(bank_start(0), bank_start(1)))
        .unwrap_or(1.0)
}

/// Length of the run in seconds: `summary.simulated_s`, else the end of the last window
/// (rpc or bank).
pub fn duration_s(rec: &RunRecord) -> f64 {
    let d = rec.summary.simulated_s;
    if d.is_finite() && d > 0.0 {
        return d;
    }
    let last = rec
        .timeline
        .last()
        .map(|r| r.t_s)
        .or_else(|| rec.bank_timeline.last().map(|r| r.t_s));
    last.map_or(0.0, |t| t + window_s(rec))
}

/// The availability objective: `summary.slo` when in (0, 1], else [`DEFAULT_SLO`].
pub fn slo(rec: &RunRecord) -> f64 {
    let s = rec.summary.slo;
    if s > 0.0 && s <= 1.0 {
        s
    } else {
        DEFAULT_SLO
    }
}

/// The latency objective in ms, when set to a positive number.
pub fn slo_latency_ms(rec: &RunRecord) -> Option<f64> {
    rec.summary
        .slo_latency_ms
        .filter(|ms| ms.is_finite() && *ms > 0.0)
}

/// End of a fault, or the end of the run when it lasts to the end.
fn fault_end(f: &FaultInterval, run_end: f64) -> f64 {
    f.end_s.unwrap_or(run_end).min(run_end)
}

/// Whether a fault covers the whole run (a background condition).
fn is_background(f: &FaultInterval, run_end: f64) -> bool {
    f.start_s <= EPS && fault_end(f, run_end) >= run_end - EPS
}

/// `kind target`, e.g. `crash server-0`.
pub fn fault_label(f: &FaultInterval) -> String {
    if f.target.is_empty() {
        f.kind.clone()
    } else {
        format!("{} {}", f.kind, f.target)
    }
}

/// Running sums over the timeline, so any window range sums in O(1).
struct Prefix {
    offered: Vec<u64>,
    succeeded: Vec<u64>,
    good: Vec<u64>,
    resolved: Vec<u64>,
    unresolved: Vec<u64>,
    /// Attempts by offered window (`offered_attempts`).
    attempts: Vec<u64>,
}

impl Prefix {
    fn new(tl: &[TimelineRow]) -> Self {
        let mut p = Prefix {
            offered: Vec::with_capacity(tl.len() + 1),
            succeeded: Vec::with_capacity(tl.len() + 1),
            good: Vec::with_capacity(tl.len() + 1),
            resolved: Vec::with_capacity(tl.len() + 1),
            unresolved: Vec::with_capacity(tl.len() + 1),
            attempts: Vec::with_capacity(tl.len() + 1),
        };
        let mut acc = [0u64; 6];
        let push = |p: &mut Prefix, acc: &[u64; 6]| {
            p.offered.push(acc[0]);
            p.succeeded.push(acc[1]);
            p.good.push(acc[2]);
            p.resolved.push(acc[3]);
            p.unresolved.push(acc[4]);
            p.attempts.push(acc[5]);
        };
        push(&mut p, &acc);
        for r in tl {
            let add = [
                r.offered,
                r.succeeded,
                r.good,
                r.resolved(),
                r.unresolved,
                r.offered_attempts,
            ];
            for (a, x) in acc.iter_mut().zip(add) {
                *a = a.saturating_add(x);
            }
            push(&mut p, &acc);
        }
        p
    }

    fn sum(v: &[u64], i0: usize, i1: usize) -> u64 {
        v[i1] - v[i0]
    }
}

/// Sums of a range of windows, as a phase row.
struct Sums {
    windows: usize,
    offered: u64,
    succeeded: u64,
    good: u64,
    resolved: u64,
    unresolved: u64,
    attempts: u64,
}

impl Sums {
    fn of(p: &Prefix, i0: usize, i1: usize) -> Sums {
        debug_assert!(i0 <= i1);
        Sums {
            windows: i1 - i0,
            offered: Prefix::sum(&p.offered, i0, i1),
            succeeded: Prefix::sum(&p.succeeded, i0, i1),
            good: Prefix::sum(&p.good, i0, i1),
            resolved: Prefix::sum(&p.resolved, i0, i1),
            unresolved: Prefix::sum(&p.unresolved, i0, i1),
            attempts: Prefix::sum(&p.attempts, i0, i1),
        }
    }
}

fn phase_row(
    label: String,
    kind: PhaseKind,
    span: (f64, f64),
    s: &Sums,
    w: f64,
    latency_slo: bool,
) -> PhaseStats {
    let availability = ratio(s.succeeded, s.resolved, s.offered);
    let seconds = s.windows as f64 * w;
    PhaseStats {
        label,
        kind,
        phases: 1,
        start_s: span.0,
        end_s: span.1,
        windows: s.windows,
        offered: s.offered,
        succeeded: s.succeeded,
        good: s.good,
        resolved: s.resolved,
        unresolved: s.unresolved,
        attempts: s.attempts,
        availability,
        availability_latency: if latency_slo {
            ratio(s.good, s.resolved, s.offered)
        } else {
            None
        },
        nines: availability.and_then(|a| nines(a, s.succeeded)),
        goodput_per_s: goodput_per_s(s.succeeded, seconds),
        amplification: (s.offered > 0).then(|| s.attempts as f64 / s.offered as f64),
    }
}

/// Successes of the requests offered in a phase per second of it; 0 for an empty phase.
fn goodput_per_s(succeeded: u64, seconds: f64) -> f64 {
    if seconds > 0.0 {
        succeeded as f64 / seconds
    } else {
        0.0
    }
}

/// Thousands separators for a count: `12,559`.
fn grouped(n: usize) -> String {
    crate::text::count(n as u64)
}

/// Splits the run at every fault start and end and measures each piece; past
/// [`MAX_LISTED_PHASES`] pieces the rest are folded by kind.
///
/// One sweep over the sorted fault starts and ends keeps the set of active faults, so
/// the cost is O(F log F + P log W) for F faults, P ≤ 2F + 1 phases and W windows.
pub fn phases(rec: &RunRecord) -> PhaseTable {
    let end = duration_s(rec);
    let w = window_s(rec);
    let latency_slo = slo_latency_ms(rec).is_some();
    let faults: Vec<(usize, &FaultInterval)> = rec
        .summary
        .faults
        .iter()
        .enumerate()
        .filter(|(_, f)| !is_background(f, end))
        .collect();
    // (time, 0 = start / 1 = end, fault index): a zero-length fault starts, then ends.
    let mut events: Vec<(f64, u8, usize)> = Vec::with_capacity(2 * faults.len());
    let mut bounds = Vec::with_capacity(2 * faults.len() + 2);
    bounds.push(0.0);
    bounds.push(end);
    for &(i, f) in &faults {
        let a = f.start_s.clamp(0.0, end);
        let b = fault_end(f, end).max(a);
        events.push((a, 0, i));
        events.push((b, 1, i));
        bounds.push(a);
        bounds.push(b);
    }
    events.sort_by(|x, y| x.0.total_cmp(&y.0).then(x.1.cmp(&y.1)).then(x.2.cmp(&y.2)));
    bounds.retain(|b| b.is_finite());
    bounds.sort_by(f64::total_cmp);
    bounds.dedup_by(|a, b| (*a - *b).abs() < EPS);
    let pieces = bounds.len().saturating_sub(1);
    let fold = pieces > MAX_LISTED_PHASES;
    let prefix = Prefix::new(&rec.timeline);
    let mids: Vec<f64> = rec.timeline.iter().map(|r| r.t_s + w / 2.0).collect();
    let all = &rec.summary.faults;

    let mut active: std::collections::BTreeSet<usize> = std::collections::BTreeSet::new();
    let mut kinds: BTreeMap<&str, usize> = BTreeMap::new();
    // The fault that ended last so far: (end, index).
    let mut last_ended: Option<(f64, usize)> = None;
    let mut next_event = 0;
    let mut rows: Vec<PhaseStats> = Vec::new();
    // Folded rows by (kind, kinds label), in order of first appearance.
    let mut groups: Vec<PhaseStats> = Vec::new();
    let mut group_of: BTreeMap<(PhaseKind, String), usize> = BTreeMap::new();
    for (n, pair) in bounds.windows(2).enumerate() {
        let (start, stop) = (pair[0], pair[1]);
        while next_event < events.len() && events[next_event].0 <= start + EPS {
            let (t, what, i) = events[next_event];
            if what == 0 {
                active.insert(i);
                *kinds.entry(all[i].kind.as_str()).or_insert(0) += 1;
            } else {
                active.remove(&i);
                if let Some(c) = kinds.get_mut(all[i].kind.as_str()) {
                    *c -= 1;
                    if *c == 0 {
                        kinds.remove(all[i].kind.as_str());
                    }
                }
                if last_ended.is_none_or(|(e, _)| t >= e) {
                    last_ended = Some((t, i));
                }
            }
            next_event += 1;
        }
        let last_phase = n + 1 == pieces;
        let i0 = mids.partition_point(|m| *m < start - EPS);
        let i1 = if last_phase {
            mids.len()
        } else {
            mids.partition_point(|m| *m < stop - EPS)
        }
        .max(i0);
        let sums = Sums::of(&prefix, i0, i1);
        let kind = if !active.is_empty() {
            PhaseKind::During
        } else if last_ended.is_some() {
            PhaseKind::After
        } else {
            PhaseKind::Before
        };
        if !fold || n < LISTED_PHASES {
            let label = match kind {
                PhaseKind::During if active.len() <= LABEL_FAULTS => {
                    let names: Vec<String> = active.iter().map(|&i| fault_label(&all[i])).collect();
                    format!("during {}", names.join(" + "))
                }
                PhaseKind::During => {
                    let by_kind: Vec<String> = kinds
                        .iter()
                        .map(|(k, c)| format!("{k} × {}", grouped(*c)))
                        .collect();
                    format!(
                        "during {} faults: {}",
                        grouped(active.len()),
                        by_kind.join(", ")
                    )
                }
                PhaseKind::After => {
                    let i = last_ended.map_or(0, |(_, i)| i);
                    format!("after {}", fault_label(&all[i]))
                }
                PhaseKind::Before => "before faults".to_string(),
            };
            rows.push(phase_row(label, kind, (start, stop), &sums, w, latency_slo));
        } else {
            let key_label = match kind {
                PhaseKind::During => {
                    let ks: Vec<&str> = kinds.keys().copied().collect();
                    format!("during {}", ks.join(" + "))
                }
                PhaseKind::After => {
                    let i = last_ended.map_or(0, |(_, i)| i);
                    format!("after {}", all[i].kind)
                }
                PhaseKind::Before => "before faults".to_string(),
            };
            let row = phase_row(
                key_label.clone(),
                kind,
                (start, stop),
                &sums,
                w,
                latency_slo,
            );
            match group_of.get(&(kind, key_label.clone())) {
                Some(&g) => merge_phase(&mut groups[g], &row),
                None => {
                    group_of.insert((kind, key_label), groups.len());
                    groups.push(row);
                }
            }
        }
    }
    for g in &mut groups {
        let (label, n) = (g.label.clone(), g.phases);
        g.label = format!(
            "{label} ({} phase{})",
            grouped(n),
            if n == 1 { "" } else { "s" }
        );
        g.availability = ratio(g.succeeded, g.resolved, g.offered);
        if latency_slo {
            g.availability_latency = ratio(g.good, g.resolved, g.offered);
        }
        g.nines = g.availability.and_then(|a| nines(a, g.succeeded));
        g.amplification = (g.offered > 0).then(|| g.attempts as f64 / g.offered as f64);
        g.goodput_per_s = goodput_per_s(g.succeeded, g.windows as f64 * w);
    }
    rows.extend(groups);
    // Every window lands in exactly one row, listed or folded.
    debug_assert!(
        pieces == 0 || rows.iter().map(|r| r.windows).sum::<usize>() == rec.timeline.len(),
        "phases lost windows"
    );
    debug_assert_eq!(rows.iter().map(|r| r.phases).sum::<usize>(), pieces);
    PhaseTable {
        total: pieces,
        rows,
    }
}

/// Adds `row` into the folded row `g` (ratios and goodput are recomputed at the end).
fn merge_phase(g: &mut PhaseStats, row: &PhaseStats) {
    g.phases += 1;
    g.start_s = g.start_s.min(row.start_s);
    g.end_s = g.end_s.max(row.end_s);
    g.windows += row.windows;
    g.offered += row.offered;
    g.succeeded += row.succeeded;
    g.good += row.good;
    g.resolved += row.resolved;
    g.unresolved += row.unresolved;
    g.attempts += row.attempts;
}

/// Measured recovery after each fault, in `summary.faults` order.
///
/// O(W log F + F log W): each window is classified once as a recovery point or not.
pub fn recoveries(rec: &RunRecord) -> Vec<FaultRecovery> {
    let end = duration_s(rec);
    let w = window_s(rec);
    let slo = slo(rec);
    let tl = &rec.timeline;
    let n = tl.len();
    // next_bad[j]: index of the first window at or after j below the SLO (n if none).
    let mut next_bad = vec![n; n + 1];
    for j in (0..n).rev() {
        next_bad[j] = if tl[j].success_ratio().is_some_and(|a| a < slo) {
            j
        } else {
            next_bad[j + 1]
        };
    }
    let mut starts: Vec<f64> = rec
        .summary
        .faults
        .iter()
        .map(|f| f.start_s)
        .filter(|s| s.is_finite())
        .collect();
    starts.sort_by(f64::total_cmp);
    // next_ok[k]: the first window at or after k from which the service is back for
    // good: at or above the SLO, and staying there until the next fault starts.
    let mut next_ok = vec![n; n + 1];
    for k in (0..n).rev() {
        let t = tl[k].t_s;
        let good = tl[k].success_ratio().is_some_and(|a| a >= slo);
        let ok = good && {
            let next = starts.partition_point(|s| *s <= t + EPS);
            let stop = match starts.get(next) {
                Some(&s) => tl.partition_point(|r| r.t_s + w <= s + EPS).max(k + 1),
                None => n,
            };
            next_bad[k] >= stop
        };
        next_ok[k] = if ok { k } else { next_ok[k + 1] };
    }
    debug_assert!(next_ok.iter().enumerate().all(|(k, &ok)| ok >= k));
    rec.summary
        .faults
        .iter()
        .map(|f| {
            let recovery = match f.end_s {
                Some(e) if e < end - EPS => {
                    let first = tl.partition_point(|r| r.t_s < e - EPS);
                    match next_ok.get(first).copied().filter(|k| *k < n) {
                        Some(k) => Recovery::Recovered {
                            mttr_s: (tl[k].t_s - e).max(0.0),
                        },
                        None => Recovery::NotRecovered,
                    }
                }
                _ => Recovery::Unended,
            };
            FaultRecovery {
                fault: f.clone(),
                recovery,
            }
        })
        .collect()
}

/// The worst recovery over all faults that ended: `NotRecovered` if any (the first such
/// fault), else the longest MTTR; `None` when no fault ended.
pub fn worst_recovery(recs: &[FaultRecovery]) -> Option<WorstRecovery> {
    let mut worst: Option<(Recovery, usize)> = None;
    for (i, r) in recs.iter().enumerate() {
        let better = match (worst.map(|w| w.0), r.recovery) {
            (_, Recovery::Unended) => false,
            (None, _) => true,
            (Some(Recovery::NotRecovered), _) => false,
            (Some(_), Recovery::NotRecovered) => true,
            (Some(Recovery::Recovered { mttr_s: a }), Recovery::Recovered { mttr_s: b }) => b > a,
            (Some(Recovery::Unended), _) => true,
        };
        if better {
            worst = Some((r.recovery, i));
        }
    }
    worst.map(|(recovery, i)| WorstRecovery {
        recovery,
        fault: i + 1,
        label: fault_label(&recs[i].fault),
    })
}

/// The fault table: the first faults listed, the rest folded by kind.
fn fault_table(
    rec: &RunRecord,
    recs: Option<&[FaultRecovery]>,
    verdicts: Option<&verdict::Verdicts>,
) -> FaultTable {
    let end = duration_s(rec);
    let faults = &rec.summary.faults;
    let listed_n = if faults.len() > MAX_LISTED_FAULTS {
        LISTED_FAULTS
    } else {
        faults.len()
    };
    let recovery = |i: usize| recs.and_then(|r| r.get(i)).map(|r| r.recovery);
    let judged = |i: usize| verdicts.and_then(|v| v.faults.get(i)).copied();
    let listed = faults
        .iter()
        .take(listed_n)
        .enumerate()
        .map(|(i, f)| FaultRow {
            index: i + 1,
            kind: f.kind.clone(),
            target: f.target.clone(),
            start_s: f.start_s,
            end_s: f.end_s,
            duration_s: (fault_end(f, end) - f.start_s).max(0.0),
            background: is_background(f, end),
            recovery: recovery(i),
            verdict: judged(i),
        })
        .collect();
    let mut folded: Vec<FaultGroup> = Vec::new();
    let mut mttrs: Vec<Vec<f64>> = Vec::new();
    let mut group_of: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, f) in faults.iter().enumerate().skip(listed_n) {
        let g = *group_of.entry(f.kind.as_str()).or_insert_with(|| {
            folded.push(FaultGroup {
                kind: f.kind.clone(),
                count: 0,
                first_start_s: f64::INFINITY,
                last_end_s: f64::NEG_INFINITY,
                total_s: 0.0,
                recovered: 0,
                not_recovered: 0,
                unended: 0,
                metastable: 0,
                mttr_median_s: None,
                mttr_max_s: None,
            });
            mttrs.push(Vec::new());
            folded.len() - 1
        });
        let row = &mut folded[g];
        let stop = fault_end(f, end);
        row.count += 1;
        row.first_start_s = row.first_start_s.min(f.start_s);
        row.last_end_s = row.last_end_s.max(stop);
        row.total_s += (stop - f.start_s).max(0.0);
        match recovery(i) {
            Some(Recovery::Recovered { mttr_s }) => {
                row.recovered += 1;
                mttrs[g].push(mttr_s);
            }
            Some(Recovery::NotRecovered) => row.not_recovered += 1,
            Some(Recovery::Unended) => row.unended += 1,
            None => {}
        }
        if matches!(judged(i), Some(verdict::FaultVerdict::Metastable { .. })) {
            row.metastable += 1;
        }
    }
    for (row, m) in folded.iter_mut().zip(&mut mttrs) {
        m.sort_by(f64::total_cmp);
        row.mttr_median_s = median(m);
        row.mttr_max_s = m.last().copied();
    }
    debug_assert_eq!(
        listed_n + folded.iter().map(|g| g.count).sum::<usize>(),
        faults.len()
    );
    FaultTable {
        total: faults.len(),
        listed,
        folded,
    }
}

/// Median of sorted values (mean of the middle two for an even count).
fn median(sorted: &[f64]) -> Option<f64> {
    let n = sorted.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(sorted[n / 2]),
        _ => Some((sorted[n / 2 - 1] + sorted[n / 2]) / 2.0),
    }
}

/// Fraction of windows with traffic whose availability (and latency-bounded
/// availability, when set) met the SLO.
pub fn time_availability(rec: &RunRecord) -> TimeAvailability {
    let slo = slo(rec);
    let latency = slo_latency_ms(rec).is_some();
    let traffic: Vec<&TimelineRow> = rec.timeline.iter().filter(|r| r.offered > 0).collect();
    let n = traffic.len();
    let meeting = traffic
        .iter()
        .filter(|r| r.success_ratio().is_some_and(|a| a >= slo))
        .count();
    let meeting_latency = latency.then(|| {
        traffic
            .iter()
            .filter(|r| r.good_ratio().is_some_and(|a| a >= slo))
            .count()
    });
    let frac = |m: usize| (n > 0).then(|| m as f64 / n as f64);
    TimeAvailability {
        windows_with_traffic: n,
        windows_meeting_slo: meeting,
        fraction: frac(meeting),
        windows_meeting_latency_slo: meeting_latency,
        fraction_latency: meeting_latency.and_then(frac),
    }
}

/// Attempts per offered logical request, overall and in the worst window.
pub fn amplification(rec: &RunRecord) -> Amplification {
    let default = RequestCounts::default();
    let req = rec.summary.rpc.as_ref().map_or(&default, |r| &r.requests);
    let overall = (req.offered > 0).then(|| req.attempts as f64 / req.offered as f64);
    let mut worst: Option<(f64, f64)> = None;
    for r in rec.timeline.iter().filter(|r| r.offered > 0) {
        let a = r.attempts as f64 / r.offered as f64;
        if worst.is_none_or(|(_, w)| a > w) {
            worst = Some((r.t_s, a));
        }
    }
    Amplification {
        overall,
        worst: worst.map(|w| w.1),
        worst_t_s: worst.map(|w| w.0),
    }
}

/// Start of the first fault that changes load (every kind but `clock`), if any.
fn first_disruptive_fault_s(rec: &RunRecord) -> Option<f64> {
    rec.summary
        .faults
        .iter()
        .filter(|f| f.kind != "clock")
        .map(|f| f.start_s)
        .fold(None, |acc: Option<f64>, s| {
            Some(acc.map_or(s, |a| a.min(s)))
        })
}

/// Peak server arrivals per second against the steady state before the first fault.
pub fn peak_load(rec: &RunRecord) -> PeakLoad {
    let w = window_s(rec);
    let mut peak: Option<(f64, f64)> = None;
    for r in &rec.timeline {
        let rate = r.server_arrivals as f64 / w;
        if peak.is_none_or(|(_, p)| rate > p) {
            peak = Some((r.t_s, rate));
        }
    }
    let (peak_t_s, peak_per_s) = match peak {
        Some((t, p)) => (Some(t), p),
        None => (
            None,
            rec.summary
                .rpc
                .as_ref()
                .map_or(0.0, |r| r.server.peak_arrivals_per_s),
        ),
    };
    let first = first_disruptive_fault_s(rec).unwrap_or(f64::INFINITY);
    let pre_n = rec.timeline.partition_point(|r| r.t_s + w <= first + EPS);
    let skip = usize::from(pre_n >= 3);
    let pre = &rec.timeline[skip..pre_n];
    let (baseline_per_s, baseline_windows, baseline_from_offered) = if pre.is_empty() {
        let n = rec.timeline.len();
        let offered: u64 = rec.timeline.iter().map(|r| r.offered).sum();
        let b = (n > 0).then(|| offered as f64 / (n as f64 * w));
        (b, 0, true)
    } else {
        let total: u64 = pre.iter().map(|r| r.server_arrivals).sum();
        (
            Some(total as f64 / (pre.len() as f64 * w)),
            pre.len(),
            false,
        )
    };
    PeakLoad {
        peak_per_s,
        peak_t_s,
        baseline_per_s,
        baseline_windows,
        baseline_from_offered,
        multiple: baseline_per_s.filter(|b| *b > 0.0).map(|b| peak_per_s / b),
    }
}

/// Time with breakers open, peak breakers open, and breaker rejections.
pub fn breakers(rec: &RunRecord) -> BreakerStats {
    let w = window_s(rec);
    BreakerStats {
        open_s: rec.timeline.iter().filter(|r| r.breakers_open > 0).count() as f64 * w,
        peak_open: rec
            .timeline
            .iter()
            .map(|r| r.breakers_open)
            .max()
            .unwrap_or(0),
        rejections: rec
            .summary
            .rpc
            .as_ref()
            .map_or(0, |r| r.requests.rejected_by_breaker),
    }
}

/// The span the zoomed panels show: from a little before the first fault that splits
/// phases to a little after the last recovery (the end of the run for a fault that
/// does not recover); `None` without such faults or when that span covers more than
/// 60 % of the run (the whole-run view shows it well enough).
pub fn zoom(rec: &RunRecord, recs: &[FaultRecovery]) -> Option<Span> {
    let end = duration_s(rec);
    let w = window_s(rec);
    let mut from = f64::INFINITY;
    let mut to = f64::NEG_INFINITY;
    for r in recs.iter().filter(|r| !is_background(&r.fault, end)) {
        from = from.min(r.fault.start_s);
        let back = match r.recovery {
            Recovery::Recovered { mttr_s } => fault_end(&r.fault, end) + mttr_s + w,
            Recovery::NotRecovered | Recovery::Unended => end,
        };
        to = to.max(back);
    }
    if !(from.is_finite() && to.is_finite()) || end <= 0.0 {
        return None;
    }
    let pad = (0.15 * (to - from)).max(2.0 * w);
    // Edges on whole windows, or whole seconds for a long span, so the axis reads well.
    let unit = if to - from + 2.0 * pad >= 20.0 {
        w.max(1.0)
    } else {
        w
    };
    let span = Span {
        from_s: (((from - pad) / unit).floor() * unit).max(0.0),
        to_s: (((to + pad) / unit).ceil() * unit).min(end),
    };
    let len = span.to_s - span.from_s;
    (len <= 0.6 * end && len >= 4.0 * w).then_some(span)
}

/// Where the record contradicts itself; at most a few notes.
fn notes(rec: &RunRecord) -> Vec<String> {
    let s = &rec.summary;
    let mut out = Vec::new();
    // Another workload without a section here is not a contradiction: the verdict says
    // only the core is reported.
    if s.rpc.is_none() && s.workload == "rpc" {
        out.push("the workload is `rpc` but summary.json has no `rpc` section: only the core (faults, checks) is reported".to_string());
    }
    if s.bank.is_none() && s.workload == "bank" {
        out.push("the workload is `bank` but summary.json has no `bank` section: only the core (faults, checks) is reported".to_string());
    }
    if let Some(section) = &s.bank {
        out.extend(bank::notes(rec, section));
        out.truncate(MAX_NOTES);
    }
    let Some(rpc) = &s.rpc else {
        return out;
    };
    let q = &rpc.requests;
    let tl = &rec.timeline;
    let sum = |f: fn(&TimelineRow) -> u64| -> u64 { tl.iter().map(f).sum() };
    let pairs: [(&str, u64, u64); 9] = [
        ("offered", sum(|r| r.offered), q.offered),
        ("succeeded", sum(|r| r.succeeded), q.succeeded),
        ("failed", sum(|r| r.failed), q.failed),
        ("timed_out", sum(|r| r.timed_out), q.timed_out),
        (
            "rejected_by_breaker",
            sum(|r| r.rejected_by_breaker),
            q.rejected_by_breaker,
        ),
        ("unresolved", sum(|r| r.unresolved), q.in_flight),
        ("attempts", sum(|r| r.attempts), q.attempts),
        ("offered_attempts", sum(|r| r.offered_attempts), q.attempts),
        (
            "server_arrivals",
            sum(|r| r.server_arrivals),
            rpc.server.arrivals,
        ),
    ];
    if !tl.is_empty() {
        for (name, timeline, summary) in pairs {
            if timeline != summary {
                out.push(format!(
                    "timeline.csv's `{name}` sums to {} but summary.json says {}",
                    crate::text::count(timeline),
                    crate::text::count(summary)
                ));
            }
        }
    }
    if let Some(a) = ratio(q.succeeded, q.resolved(), q.offered) {
        if (a - rpc.availability).abs() > 1e-9 {
            out.push(format!(
                "summary.json's `rpc.availability` is {} but its counts give {} (succeeded / (offered - in_flight)); the report uses the counts",
                rpc.availability, a
            ));
        }
    }
    out.truncate(MAX_NOTES);
    out
}

/// Measured values for the simulator's closed-form expectations.
pub fn expectations(rec: &RunRecord) -> Vec<ExpectationResult> {
    let Some(rpc) = &rec.summary.rpc else {
        return Vec::new();
    };
    let end = duration_s(rec);
    let crashes = CrashIntervals::new(rec);
    rpc.expectations
        .iter()
        .take(MAX_EXPECTATIONS)
        .map(|e| {
            let measured = match &e.measure {
                Measure::Uptime { nodes, random_only } => {
                    uptime_pct(&crashes, nodes, *random_only, end)
                }
                Measure::AnyUp { nodes, random_only } => {
                    any_up_pct(&crashes, nodes, *random_only, end)
                }
                Measure::AttemptsPerRequest { from_s, to_s } => {
                    attempts_per_request(rec, *from_s, *to_s)
                }
                Measure::MeanLatency => Some(rpc.latency_ms.mean).filter(|m| m.is_finite()),
            };
            ExpectationResult {
                name: e.name.clone(),
                analytic: e.analytic,
                measured,
                unit: e.unit.clone(),
                note: e.note.clone(),
                measure: e.measure.clone(),
            }
        })
        .collect()
}

/// Crash intervals from `summary.faults`, by the node or selector they name.
///
/// The engine names a random crash `server-3 (random)` and a scheduled one by its
/// selector (`server-0`, `server-*`).
/// Down intervals, seconds.
type Intervals = Vec<(f64, f64)>;

struct CrashIntervals {
    /// (node, random) -> down intervals of crashes naming one node, clipped to the run.
    exact: BTreeMap<(String, bool), Intervals>,
    /// (selector, random, intervals) of crashes naming a selector such as `server-*`:
    /// few (one per scheduled crash entry), so each node is matched against all of them.
    wildcard: Vec<(String, bool, Intervals)>,
}

impl CrashIntervals {
    fn new(rec: &RunRecord) -> Self {
        let end = duration_s(rec);
        let mut exact: BTreeMap<(String, bool), Intervals> = BTreeMap::new();
        let mut wild: BTreeMap<(String, bool), Intervals> = BTreeMap::new();
        for f in rec.summary.faults.iter().filter(|f| f.kind == "crash") {
            let random = f.target.trim_end().ends_with("(random)");
            let node = f.target.split_whitespace().next().unwrap_or("").to_string();
            let a = f.start_s.clamp(0.0, end);
            let b = fault_end(f, end).clamp(0.0, end);
            let map = if node.ends_with('*') {
                &mut wild
            } else {
                &mut exact
            };
            map.entry((node, random)).or_default().push((a, b));
        }
        CrashIntervals {
            exact,
            wildcard: wild.into_iter().map(|((s, r), iv)| (s, r, iv)).collect(),
        }
    }

    /// Down intervals of one node: crashes naming it, and crashes whose selector
    /// matches it (`server-*`).
    fn of(&self, node: &str, random_only: bool) -> Vec<(f64, f64)> {
        let mut out = Vec::new();
        for random in [false, true] {
            if random_only && !random {
                continue;
            }
            if let Some(iv) = self.exact.get(&(node.to_string(), random)) {
                out.extend_from_slice(iv);
            }
        }
        for (sel, random, iv) in &self.wildcard {
            if (*random || !random_only) && selector_matches(sel, node) {
                out.extend_from_slice(iv);
            }
        }
        out
    }
}

/// Whether a node selector (`server-0`, `server-*`, `*`) matches a node name.
pub fn selector_matches(selector: &str, name: &str) -> bool {
    match selector.strip_suffix('*') {
        Some(prefix) => name.starts_with(prefix),
        None => selector == name,
    }
}

fn uptime_pct(c: &CrashIntervals, nodes: &[String], random_only: bool, end: f64) -> Option<f64> {
    if nodes.is_empty() || end <= 0.0 {
        return None;
    }
    let down: f64 = nodes
        .iter()
        .map(|n| union_length(c.of(n, random_only), end))
        .sum();
    Some(100.0 * (1.0 - down / (nodes.len() as f64 * end)))
}

fn any_up_pct(c: &CrashIntervals, nodes: &[String], random_only: bool, end: f64) -> Option<f64> {
    if nodes.is_empty() || end <= 0.0 {
        return None;
    }
    let per_node: Vec<Vec<(f64, f64)>> = nodes.iter().map(|n| c.of(n, random_only)).collect();
    Some(100.0 * (1.0 - all_down_time(&per_node) / end))
}

fn attempts_per_request(rec: &RunRecord, from_s: f64, to_s: f64) -> Option<f64> {
    let w = window_s(rec);
    let tl = &rec.timeline;
    let i0 = tl.partition_point(|r| r.t_s + w / 2.0 < from_s);
    let i1 = tl.partition_point(|r| r.t_s + w / 2.0 < to_s).max(i0);
    let rows = &tl[i0..i1];
    let offered: u64 = rows.iter().map(|r| r.offered).sum();
    let attempts: u64 = rows.iter().map(|r| r.attempts).sum();
    (offered > 0).then(|| attempts as f64 / offered as f64)
}

/// Union length of intervals clipped to [0, end].
pub fn union_length(iv: Vec<(f64, f64)>, end: f64) -> f64 {
    let clipped: Vec<(f64, f64)> = iv
        .into_iter()
        .map(|(a, b)| (a.clamp(0.0, end), b.clamp(0.0, end)))
        .filter(|(a, b)| b > a)
        .collect();
    merged(clipped).iter().map(|(a, b)| b - a).sum()
}

/// Sorted, merged intervals.
fn merged(mut iv: Vec<(f64, f64)>) -> Vec<(f64, f64)> {
    iv.sort_by(|x, y| x.0.total_cmp(&y.0));
    let mut out: Vec<(f64, f64)> = Vec::new();
    for (a, b) in iv {
        match out.last_mut() {
            Some(last) if a <= last.1 => last.1 = last.1.max(b),
            _ => out.push((a, b)),
        }
    }
    out
}

/// Time during which every one of `nodes` was down, given each node's down intervals.
pub fn all_down_time(per_node: &[Vec<(f64, f64)>]) -> f64 {
    if per_node.is_empty() {
        return 0.0;
    }
    // Sweep: +1 at a start, -1 at an end; ends sort before starts at the same instant.
    let mut events: Vec<(f64, i32)> = Vec::new();
    for iv in per_node {
        for &(a, b) in &merged(iv.clone()) {
            events.push((a, 1));
            events.push((b, -1));
        }
    }
    events.sort_by(|x, y| x.0.total_cmp(&y.0).then(x.1.cmp(&y.1)));
    let n = per_node.len() as i32;
    let (mut down, mut since, mut total) = (0i32, 0.0, 0.0);
    for (t, d) in events {
        if down == n {
            total += t - since;
        }
        down += d;
        debug_assert!((0..=n).contains(&down));
        since = t;
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nines_cap_and_value() {
        let n = nines(0.999, 999).unwrap();
        assert!((n.value - 3.0).abs() < 1e-9 && !n.capped);
        let c = nines(1.0, 1000).unwrap();
        assert!((c.value - 3.0).abs() < 1e-12 && c.capped);
        assert_eq!(c.to_string(), "≥ 3.00");
        assert_eq!(nines(1.0, 0), None);
    }

    #[test]
    fn all_down_sweep() {
        let a = vec![(0.0, 10.0), (20.0, 30.0)];
        let b = vec![(5.0, 25.0)];
        // Both down: 5..10 and 20..25.
        assert!((all_down_time(&[a.clone(), b]) - 10.0).abs() < 1e-12);
        assert!((union_length(a, 25.0) - 15.0).abs() < 1e-12);
    }

    #[test]
    fn median_of_odd_and_even() {
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[1.0, 2.0, 9.0]), Some(2.0));
        assert_eq!(median(&[1.0, 2.0, 4.0, 9.0]), Some(3.0));
    }
}
