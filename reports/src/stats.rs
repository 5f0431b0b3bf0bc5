//! Statistics of one run, computed from its [`RunRecord`] alone.
//!
//! Definitions (all per metrics window of `window_s` seconds, see [`window_s`]):
//!
//! - **Availability** of a set of windows: successes / resolved logical requests in them
//!   (requests are counted in the window where they resolve). Overall availability is
//!   the engine's `summary.availability`.
//! - **Nines**: `-log10(1 - A)`. With no failure among `n` successes the value is capped
//!   at `log10(n)` (what one failure would give: the measurement cannot resolve more) and
//!   shown as `≥`.
//! - **Phases** partition the run at every fault start and end: `before faults`,
//!   `during <faults active>`, `after <fault that ended last>`. A window belongs to the
//!   phase holding its midpoint. A fault that covers the whole run (e.g. a clock skew set
//!   at 0 s) is a background condition with no before or after, and does not split phases.
//! - **Measured MTTR** of a fault: from the fault's end to the start of the first window
//!   (starting at or after the end) whose success ratio is ≥ the SLO and stays ≥ the SLO
//!   in every window up to the next fault that starts after it, or to the end of the run.
//!   So a later fault does not undo a recovery, and a fault followed at once by another
//!   recovers when the service is healthy again. Windows where nothing resolved neither
//!   break nor start a recovery. If there is no such window the fault is *not recovered*:
//!   goodput stayed down after the trigger was gone, the metastable signature. The
//!   resolution is one window.
//! - **Retry amplification**: attempts per offered logical request, overall and in the
//!   worst window (windows that offered nothing are skipped).
//! - **Peak load multiple**: the highest per-window server arrival rate over the
//!   steady-state rate, the mean arrival rate of the windows that end before the first
//!   fault (`clock` faults excluded: they do not change load). The first window is skipped
//!   as warm-up when at least three such windows exist. With no window before the first
//!   fault, the mean offered load (first tries only) over the run stands in.
//! - **Breaker time**: the sum of `window_s` over windows that ended with a breaker open.

use faultline_models::reliability;
use serde_json::Value;

use crate::record::{FaultInterval, LatencySummary, RunRecord, TimelineRow};
use crate::text::{dist_mean_s, duration_value_s, selector_matches, spec_get};

/// Float slack for comparing times in seconds.
const EPS: f64 = 1e-9;

/// Default availability objective when the record has none.
pub const DEFAULT_SLO: f64 = 0.99;

/// Nines of an availability: `-log10(1 - A)`.
#[derive(Clone, Copy, Debug, PartialEq)]
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
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PhaseKind {
    /// Before any fault started.
    Before,
    /// While at least one fault is active.
    During,
    /// After a fault ended, with none active.
    After,
}

/// Availability and traffic of one phase of the run.
#[derive(Clone, Debug, PartialEq)]
pub struct PhaseStats {
    /// `before faults`, `during crash server-0`, `after crash server-0`, ...
    pub label: String,
    /// Position relative to the faults.
    pub kind: PhaseKind,
    /// Phase start, seconds.
    pub start_s: f64,
    /// Phase end, seconds.
    pub end_s: f64,
    /// Metrics windows in the phase.
    pub windows: usize,
    /// Logical requests issued.
    pub offered: u64,
    /// Attempts sent.
    pub attempts: u64,
    /// Logical requests resolved.
    pub resolved: u64,
    /// Logical requests that succeeded.
    pub successes: u64,
    /// successes / resolved; `None` when nothing resolved.
    pub availability: Option<f64>,
    /// Nines of `availability`.
    pub nines: Option<Nines>,
    /// Successes per second of the phase's windows.
    pub goodput_per_s: f64,
}

/// How the service came back after a fault ended.
#[derive(Clone, Copy, Debug, PartialEq)]
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
            Recovery::Recovered { mttr_s } => format!("{mttr_s:.2} s"),
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

/// Attempts per offered logical request.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Amplification {
    /// attempts / offered over the run; `None` when nothing was offered.
    pub overall: Option<f64>,
    /// The highest per-window attempts / offered.
    pub worst: Option<f64>,
    /// Start of that window, seconds.
    pub worst_t_s: Option<f64>,
}

/// Peak server load against the steady state before the first fault.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
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
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct BreakerStats {
    /// Seconds of windows that ended with at least one breaker open.
    pub open_s: f64,
    /// Most breakers open at the end of one window.
    pub peak_open: u64,
    /// Logical requests ended by an open breaker (summary).
    pub rejections: u64,
}

/// A closed-form expectation beside the measured value.
#[derive(Clone, Debug, PartialEq)]
pub struct Expectation {
    /// What is compared, e.g. `server availability (crash server-*)`.
    pub name: String,
    /// The closed-form value, in `unit`.
    pub analytic: f64,
    /// The measured value, in `unit`; `None` when the run has no data for it.
    pub measured: Option<f64>,
    /// Unit of both values (`%`, `attempts/request`, `ms`).
    pub unit: String,
    /// Formula and caveats.
    pub note: String,
}

/// Everything the reports show about one run.
#[derive(Clone, Debug, PartialEq)]
pub struct RunStats {
    /// Metrics window, seconds.
    pub window_s: f64,
    /// Length of the run, seconds.
    pub duration_s: f64,
    /// Availability objective, 0..1.
    pub slo: f64,
    /// Overall availability, 0..1 (`summary.availability`).
    pub availability: f64,
    /// Nines of `availability`.
    pub nines: Option<Nines>,
    /// Successful logical requests per second of run.
    pub goodput_per_s: f64,
    /// Latency of successful requests (from the summary).
    pub latency_ms: LatencySummary,
    /// Phases before, during and after the faults.
    pub phases: Vec<PhaseStats>,
    /// Recovery after each fault, in `summary.faults` order.
    pub recoveries: Vec<FaultRecovery>,
    /// Retry amplification.
    pub amplification: Amplification,
    /// Peak load multiple.
    pub peak: PeakLoad,
    /// Breaker activity.
    pub breakers: BreakerStats,
    /// Closed-form expectations beside measured values.
    pub expectations: Vec<Expectation>,
}

impl RunStats {
    /// The worst recovery over all faults that ended: `NotRecovered` if any, else the
    /// longest MTTR; `None` when no fault ended.
    pub fn worst_recovery(&self) -> Option<Recovery> {
        let mut worst: Option<Recovery> = None;
        for r in &self.recoveries {
            worst = match (worst, r.recovery) {
                (_, Recovery::Unended) => worst,
                (Some(Recovery::NotRecovered), _) | (_, Recovery::NotRecovered) => {
                    Some(Recovery::NotRecovered)
                }
                (Some(Recovery::Recovered { mttr_s: a }), Recovery::Recovered { mttr_s: b }) => {
                    Some(Recovery::Recovered { mttr_s: a.max(b) })
                }
                (_, rec) => Some(rec),
            };
        }
        worst
    }
}

/// Computes every statistic of a run.
pub fn compute(rec: &RunRecord) -> RunStats {
    let s = &rec.summary;
    let duration_s = duration_s(rec);
    RunStats {
        window_s: window_s(rec),
        duration_s,
        slo: slo(rec),
        availability: s.availability,
        nines: nines(s.availability, s.requests.succeeded),
        goodput_per_s: if duration_s > 0.0 {
            s.requests.succeeded as f64 / duration_s
        } else {
            0.0
        },
        latency_ms: s.latency_ms.clone(),
        phases: phases(rec),
        recoveries: recoveries(rec),
        amplification: amplification(rec),
        peak: peak_load(rec),
        breakers: breakers(rec),
        expectations: expectations(rec),
    }
}

/// The metrics window in seconds: `summary.window_s`, else the spacing of the timeline,
/// else 1 s.
pub fn window_s(rec: &RunRecord) -> f64 {
    let w = rec.summary.window_s;
    if w.is_finite() && w > 0.0 {
        return w;
    }
    if let [a, b, ..] = rec.timeline.as_slice() {
        let d = b.t_s - a.t_s;
        if d.is_finite() && d > 0.0 {
            return d;
        }
    }
    1.0
}

/// Length of the run in seconds: `summary.simulated_s`, else the end of the last window.
pub fn duration_s(rec: &RunRecord) -> f64 {
    let d = rec.summary.simulated_s;
    if d.is_finite() && d > 0.0 {
        return d;
    }
    rec.timeline.last().map_or(0.0, |r| r.t_s + window_s(rec))
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

/// End of a fault, or the end of the run when it lasts to the end.
fn fault_end(f: &FaultInterval, run_end: f64) -> f64 {
    f.end_s.unwrap_or(run_end).min(run_end)
}

/// `kind target`, e.g. `crash server-0`.
pub fn fault_label(f: &FaultInterval) -> String {
    if f.target.is_empty() {
        f.kind.clone()
    } else {
        format!("{} {}", f.kind, f.target)
    }
}

/// Splits the run at every fault start and end and measures each piece.
pub fn phases(rec: &RunRecord) -> Vec<PhaseStats> {
    let end = duration_s(rec);
    let w = window_s(rec);
    let faults: Vec<FaultInterval> = rec
        .summary
        .faults
        .iter()
        .filter(|f| !(f.start_s <= EPS && fault_end(f, end) >= end - EPS))
        .cloned()
        .collect();
    let mut bounds = vec![0.0, end];
    for f in &faults {
        bounds.push(f.start_s.clamp(0.0, end));
        bounds.push(fault_end(f, end).max(0.0));
    }
    bounds.sort_by(f64::total_cmp);
    bounds.dedup_by(|a, b| (*a - *b).abs() < EPS);
    let mut out = Vec::new();
    for pair in bounds.windows(2) {
        let (start, stop) = (pair[0], pair[1]);
        if stop - start < EPS {
            continue;
        }
        let active: Vec<&FaultInterval> = faults
            .iter()
            .filter(|f| f.start_s <= start + EPS && fault_end(f, end) >= stop - EPS)
            .collect();
        let (kind, label) = if !active.is_empty() {
            let names: Vec<String> = active.iter().map(|f| fault_label(f)).collect();
            (PhaseKind::During, format!("during {}", names.join(" + ")))
        } else {
            // The fault that ended last at or before this phase's start (later in the
            // list wins a tie).
            let last = faults
                .iter()
                .filter(|f| fault_end(f, end) <= start + EPS)
                .fold(None::<&FaultInterval>, |acc, f| match acc {
                    Some(a) if fault_end(a, end) > fault_end(f, end) => Some(a),
                    _ => Some(f),
                });
            match last {
                Some(f) => (PhaseKind::After, format!("after {}", fault_label(f))),
                None => (PhaseKind::Before, "before faults".to_string()),
            }
        };
        let last_phase = (stop - end).abs() < EPS;
        let rows: Vec<&TimelineRow> = rec
            .timeline
            .iter()
            .filter(|r| {
                let mid = r.t_s + w / 2.0;
                mid >= start - EPS && (mid < stop - EPS || last_phase)
            })
            .collect();
        out.push(phase_stats(label, kind, start, stop, &rows, w));
    }
    out
}

fn phase_stats(
    label: String,
    kind: PhaseKind,
    start_s: f64,
    end_s: f64,
    rows: &[&TimelineRow],
    w: f64,
) -> PhaseStats {
    let offered = rows.iter().map(|r| r.offered).sum();
    let attempts = rows.iter().map(|r| r.attempts).sum();
    let resolved: u64 = rows.iter().map(|r| r.resolved()).sum();
    let successes: u64 = rows.iter().map(|r| r.successes).sum();
    let availability = (resolved > 0).then(|| successes as f64 / resolved as f64);
    let span = rows.len() as f64 * w;
    PhaseStats {
        label,
        kind,
        start_s,
        end_s,
        windows: rows.len(),
        offered,
        attempts,
        resolved,
        successes,
        availability,
        nines: availability.and_then(|a| nines(a, successes)),
        goodput_per_s: if span > 0.0 {
            successes as f64 / span
        } else {
            0.0
        },
    }
}

/// Measured recovery after each fault, in `summary.faults` order.
pub fn recoveries(rec: &RunRecord) -> Vec<FaultRecovery> {
    let end = duration_s(rec);
    let w = window_s(rec);
    let slo = slo(rec);
    let tl = &rec.timeline;
    // next_bad[j]: index of the first window at or after j below the SLO (len if none).
    let mut next_bad = vec![tl.len(); tl.len() + 1];
    for j in (0..tl.len()).rev() {
        next_bad[j] = if tl[j].success_ratio().is_some_and(|a| a < slo) {
            j
        } else {
            next_bad[j + 1]
        };
    }
    let mut starts: Vec<f64> = rec.summary.faults.iter().map(|f| f.start_s).collect();
    starts.sort_by(f64::total_cmp);
    rec.summary
        .faults
        .iter()
        .map(|f| {
            let recovery = match f.end_s {
                Some(e) if e < end - EPS => recovery_after(tl, &next_bad, &starts, e, w, slo),
                _ => Recovery::Unended,
            };
            FaultRecovery {
                fault: f.clone(),
                recovery,
            }
        })
        .collect()
}

fn recovery_after(
    tl: &[TimelineRow],
    next_bad: &[usize],
    starts: &[f64],
    fault_end: f64,
    w: f64,
    slo: f64,
) -> Recovery {
    let first = tl.partition_point(|r| r.t_s < fault_end - EPS);
    for k in first..tl.len() {
        let t = tl[k].t_s;
        if !tl[k].success_ratio().is_some_and(|a| a >= slo) {
            continue;
        }
        // The next fault starting after this window's start bounds the stretch that must
        // stay healthy; windows that end by then are in it.
        let next = starts.iter().copied().find(|s| *s > t + EPS);
        let stop = match next {
            Some(n) => tl.partition_point(|r| r.t_s + w <= n + EPS).max(k + 1),
            None => tl.len(),
        };
        if next_bad[k] >= stop {
            return Recovery::Recovered {
                mttr_s: (t - fault_end).max(0.0),
            };
        }
    }
    Recovery::NotRecovered
}

/// Attempts per offered logical request, overall and in the worst window.
pub fn amplification(rec: &RunRecord) -> Amplification {
    let req = &rec.summary.requests;
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
        None => (None, rec.summary.server.peak_arrivals_per_s),
    };
    let first = first_disruptive_fault_s(rec).unwrap_or(f64::INFINITY);
    let mut pre: Vec<&TimelineRow> = rec
        .timeline
        .iter()
        .filter(|r| r.t_s + w <= first + EPS)
        .collect();
    if pre.len() >= 3 {
        pre.remove(0);
    }
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
        rejections: rec.summary.requests.rejected_by_breaker,
    }
}

/// Closed-form expectations that apply to this run's scenario, beside measured values.
///
/// - For each `random_faults` crash process: per-server availability
///   `MTBF / (MTBF + MTTR)` against the measured up time of the servers it targets (from
///   the crash intervals in `summary.faults`), and with several servers the chance that at
///   least one is up (`k_of_n(1, n, A)`) against the measured time not all were down.
/// - For each scheduled omission fault: expected attempts per request with per-attempt
///   success `p` (`1/p`, truncated at `max_attempts`: `(1 - (1-p)^m) / p`) against the
///   measured attempts per offered request in the fault's windows.
/// - With Poisson arrivals and exponential service: the M/M/c mean sojourn per server
///   (plus the mean network round trip) against the measured mean latency.
pub fn expectations(rec: &RunRecord) -> Vec<Expectation> {
    let spec = &rec.summary.scenario_spec;
    let mut out = Vec::new();
    out.extend(crash_expectations(rec, spec));
    out.extend(omission_expectations(rec, spec));
    out.extend(queue_expectation(rec, spec));
    out
}

/// Names of the servers the scenario declares (`server-0` ...).
fn server_names(spec: &Value) -> Vec<String> {
    let n = spec_get(spec, "workload.servers.count")
        .and_then(Value::as_u64)
        .unwrap_or(0)
        .min(1_000_000);
    (0..n).map(|i| format!("server-{i}")).collect()
}

/// Union length of intervals clipped to [0, end].
fn union_length(mut iv: Vec<(f64, f64)>, end: f64) -> f64 {
    iv.retain(|(a, b)| b > a);
    iv.sort_by(|x, y| x.0.total_cmp(&y.0));
    let mut total = 0.0;
    let mut cur: Option<(f64, f64)> = None;
    for (a, b) in iv {
        let (a, b) = (a.clamp(0.0, end), b.clamp(0.0, end));
        cur = match cur {
            Some((ca, cb)) if a <= cb => Some((ca, cb.max(b))),
            Some((ca, cb)) => {
                total += cb - ca;
                Some((a, b))
            }
            None => Some((a, b)),
        };
    }
    if let Some((ca, cb)) = cur {
        total += cb - ca;
    }
    total
}

/// Merged down intervals of one node.
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
fn all_down_time(per_node: &[Vec<(f64, f64)>]) -> f64 {
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
        since = t;
    }
    total
}

fn crash_expectations(rec: &RunRecord, spec: &Value) -> Vec<Expectation> {
    let Some(procs) = spec.get("random_faults").and_then(Value::as_array) else {
        return Vec::new();
    };
    let end = duration_s(rec);
    let servers = server_names(spec);
    let scheduled_crash = spec
        .get("faults")
        .and_then(Value::as_array)
        .is_some_and(|fs| fs.iter().any(|f| f.get("crash").is_some()));
    // Crash intervals as (node selector, drawn by a random process, start, end). The
    // engine names a random crash `server-3 (random)` and a scheduled one by its selector.
    let crashes: Vec<(&str, bool, f64, f64)> = rec
        .summary
        .faults
        .iter()
        .filter(|f| f.kind == "crash")
        .map(|f| {
            let random = f.target.ends_with("(random)");
            let node = f.target.split_whitespace().next().unwrap_or("");
            (node, random, f.start_s, fault_end(f, end))
        })
        .collect();
    // Measure only the random process's crashes when the record tells them apart.
    let labelled = crashes.iter().any(|c| c.1);
    let crashes: Vec<(&str, f64, f64)> = crashes
        .into_iter()
        .filter(|c| c.1 || !labelled)
        .map(|c| (c.0, c.2, c.3))
        .collect();
    let caveat = if scheduled_crash && !labelled {
        "; measured includes scheduled crashes"
    } else {
        ""
    };
    let mut out = Vec::new();
    for p in procs {
        let (Some(sel), Some(mtbf), Some(mttr)) = (
            p.get("crash").and_then(Value::as_str),
            p.get("mtbf").and_then(duration_value_s),
            p.get("mttr").and_then(duration_value_s),
        ) else {
            continue;
        };
        if mtbf + mttr <= 0.0 {
            continue;
        }
        let mut nodes: Vec<String> = servers
            .iter()
            .filter(|n| selector_matches(sel, n))
            .cloned()
            .collect();
        if nodes.is_empty() && !sel.ends_with('*') {
            nodes.push(sel.to_string());
        }
        let a = reliability::availability(mtbf, mttr);
        let down: Vec<Vec<(f64, f64)>> = nodes
            .iter()
            .map(|n| {
                crashes
                    .iter()
                    .filter(|c| selector_matches(c.0, n))
                    .map(|c| (c.1, c.2))
                    .collect()
            })
            .collect();
        let measured = (end > 0.0 && !nodes.is_empty()).then(|| {
            let total: f64 = down.iter().map(|iv| union_length(iv.clone(), end)).sum();
            100.0 * (1.0 - total / (nodes.len() as f64 * end))
        });
        out.push(Expectation {
            name: format!("server availability (crash {sel})"),
            analytic: 100.0 * a,
            measured,
            unit: "%".to_string(),
            note: format!(
                "A = MTBF/(MTBF+MTTR), MTBF {mtbf} s, MTTR {mttr} s; measured: up time of {} server(s) over {end} s{caveat}",
                nodes.len()
            ),
        });
        if nodes.len() > 1 {
            let n = nodes.len() as u32;
            let any_up = reliability::k_of_n(1, n, a);
            let measured = (end > 0.0).then(|| 100.0 * (1.0 - all_down_time(&down) / end));
            out.push(Expectation {
                name: format!("at least 1 of {n} servers up (crash {sel})"),
                analytic: 100.0 * any_up,
                measured,
                unit: "%".to_string(),
                note: format!(
                    "1-of-{n} of independent servers: 1 - (1-A)^{n}; measured: time not all were down{caveat}"
                ),
            });
        }
    }
    out
}

fn omission_expectations(rec: &RunRecord, spec: &Value) -> Vec<Expectation> {
    let Some(faults) = spec.get("faults").and_then(Value::as_array) else {
        return Vec::new();
    };
    let end = duration_s(rec);
    let w = window_s(rec);
    let servers = server_names(spec);
    let max_attempts =
        spec_get(spec, "workload.clients.retry.max_attempts").and_then(Value::as_u64);
    let mut out = Vec::new();
    for f in faults {
        let Some(om) = f.get("omission") else {
            continue;
        };
        let Some(q) = om.get("rate").and_then(Value::as_f64) else {
            continue;
        };
        let from = om.get("from").and_then(Value::as_str).unwrap_or("*");
        let to = om.get("to").and_then(Value::as_str).unwrap_or("*");
        let at = f.get("at").and_then(duration_value_s).unwrap_or(0.0);
        let stop = f
            .get("for")
            .and_then(duration_value_s)
            .map_or(end, |d| (at + d).min(end));
        // Fraction of servers a selector matches (a single unnamed server counts as one).
        let frac = |sel: &str| -> f64 {
            if servers.is_empty() {
                return if sel.starts_with("server") || sel == "*" {
                    1.0
                } else {
                    0.0
                };
            }
            servers.iter().filter(|n| selector_matches(sel, n)).count() as f64
                / servers.len() as f64
        };
        let client_side = |sel: &str| selector_matches(sel, "client-0");
        let q_req = if client_side(from) { q * frac(to) } else { 0.0 };
        let q_rep = if client_side(to) { q * frac(from) } else { 0.0 };
        let p = (1.0 - q_req) * (1.0 - q_rep);
        if !(p > 0.0 && p <= 1.0) || q_req + q_rep == 0.0 {
            continue;
        }
        let untruncated = reliability::expected_attempts(p);
        let (analytic, limit) = match max_attempts {
            Some(m) if m >= 1 => (
                (1.0 - (1.0 - p).powi(m.min(1000) as i32)) / p,
                format!(", truncated at {m} attempts: (1-(1-p)^m)/p; untruncated 1/p = {untruncated:.3}"),
            ),
            _ => (untruncated, String::new()),
        };
        let rows: Vec<&TimelineRow> = rec
            .timeline
            .iter()
            .filter(|r| {
                let mid = r.t_s + w / 2.0;
                mid >= at && mid < stop
            })
            .collect();
        let offered: u64 = rows.iter().map(|r| r.offered).sum();
        let attempts: u64 = rows.iter().map(|r| r.attempts).sum();
        out.push(Expectation {
            name: format!("attempts per request (omission {from} -> {to}, rate {q})"),
            analytic,
            measured: (offered > 0).then(|| attempts as f64 / offered as f64),
            unit: "attempts/request".to_string(),
            note: format!(
                "per-attempt success p = {p:.3}{limit}; measured in {at}-{stop} s; breakers, budgets and timeouts shift it"
            ),
        });
    }
    out
}

fn queue_expectation(rec: &RunRecord, spec: &Value) -> Option<Expectation> {
    let service =
        spec_get(spec, "workload.servers.service_time.exponential").and_then(duration_value_s)?;
    let per_client = spec_get(spec, "workload.clients.arrival.poisson_per_s")?.as_f64()?;
    let clients = spec_get(spec, "workload.clients.count")?.as_f64()?;
    let servers = spec_get(spec, "workload.servers.count")
        .and_then(Value::as_u64)
        .unwrap_or(1)
        .max(1);
    let workers = spec_get(spec, "workload.servers.workers")
        .and_then(Value::as_u64)
        .unwrap_or(1)
        .max(1);
    if service <= 0.0 || per_client <= 0.0 || clients <= 0.0 {
        return None;
    }
    let lambda = clients * per_client / servers as f64;
    let mu = 1.0 / service;
    let c = u32::try_from(workers).ok()?;
    let rho = lambda / (c as f64 * mu);
    if rho >= 1.0 {
        return None;
    }
    let sojourn_s = reliability::mmc(lambda, mu, c)?.sojourn_s;
    let net = spec_get(spec, "network.latency").and_then(dist_mean_s);
    let rtt_s = net.map_or(0.0, |l| 2.0 * l);
    let m = rec.summary.latency_ms.mean;
    let faults = if rec.summary.faults.is_empty() {
        String::new()
    } else {
        "; the run has faults: measured includes them".to_string()
    };
    let net_note = match net {
        Some(l) => format!(" + network round trip 2 x {:.3} ms", l * 1e3),
        None => " (network latency not included: no closed-form mean)".to_string(),
    };
    Some(Expectation {
        name: format!("mean latency (M/M/{c} per server)"),
        analytic: (sojourn_s + rtt_s) * 1e3,
        measured: m.is_finite().then_some(m),
        unit: "ms".to_string(),
        note: format!(
            "lambda {lambda:.1}/s per server, mu {mu:.1}/s, c {c}, rho {rho:.3}: mean sojourn {:.3} ms{net_note}; measured p50 {:.3} ms{faults}",
            sojourn_s * 1e3,
            rec.summary.latency_ms.p50
        ),
    })
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
}
