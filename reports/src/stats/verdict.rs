//! Recovered or metastable: the verdict on each fault of an rpc run, from its timeline
//! alone, by the monitor of [`faultline_models::metastability`].
//!
//! - **Features** of a window ([`FEATURES`]): goodput (successes resolved in it, per
//!   second), median latency of those successes, retry amplification (attempts sent /
//!   requests offered), and the fractions of its offered requests that timed out and
//!   that failed (error replies and breaker or budget rejections). The record has no
//!   queue depth; latency and timeouts stand for it.
//! - **Baseline**: the windows that end before the first fault starts, the first one
//!   skipped as warm-up when at least four exist; at least three are needed, else no
//!   verdict. Faults covering the whole run (a clock skew from 0 s) are background, not
//!   triggers.
//! - **Verdict** per fault, with [`Params::default`]: recovered after 3 windows in a row
//!   within distance 3 of the baseline, the time running from the fault's end (or from
//!   the end of the last fault it overlaps) to the first of them; metastable after 10
//!   windows in a row outside and not draining; undecided when the run ends first.
//!
//! Cost: one pass over the windows, plus a sort of the faults.

use faultline_models::metastability::{self, Baseline, Params, Stuck, Trigger, Verdict};
use serde::{Deserialize, Serialize};

use super::{duration_s, is_background, window_s, EPS};
use crate::record::{RunRecord, TimelineRow};

/// What the monitor reads of each window, in order.
pub const FEATURES: [&str; 5] = [
    "goodput_per_s",
    "latency_p50_ms",
    "retry_amplification",
    "timed_out_fraction",
    "failed_fraction",
];

/// Smallest spread of each feature (`FEATURES` order): one request/s, one ms, 0.05
/// attempts per request, one percentage point.
const ABSOLUTE_FLOOR: [f64; 5] = [1.0, 1.0, 0.05, 0.01, 0.01];

/// The verdict on one fault.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum FaultVerdict {
    /// Back at the baseline `recovery_s` after the end of fault `judged_from`.
    Recovered {
        /// Seconds from that end to the first of the confirming windows.
        recovery_s: f64,
        /// 1-based fault whose end started the clock: this one, or the last-ending
        /// fault it overlaps.
        judged_from: usize,
    },
    /// Stuck: decided `decided_s` seconds into the run.
    Metastable {
        /// When the verdict was reached (end of the deciding window), seconds.
        decided_s: f64,
        /// Which rule decided it.
        why: Stuck,
        /// 1-based fault whose end started the clock.
        judged_from: usize,
    },
    /// Not back by the end of the run, and not (yet) stuck.
    Undecided {
        /// 1-based fault whose end started the clock.
        judged_from: usize,
    },
    /// The fault, or one it overlaps, lasts to the end of the run.
    Unended,
    /// A background condition over the whole run, not a trigger.
    Background,
}

impl FaultVerdict {
    /// `recovered in 3.20 s`, `recovered 1.00 s after fault 2 ended`, `metastable`,
    /// `undecided at the end`, `lasts to end`, `background`; `own` is this fault's
    /// 1-based index.
    pub fn describe(&self, own: usize) -> String {
        let after = |from: usize| {
            if from == own {
                String::new()
            } else {
                format!(" (judged from fault {from}'s end)")
            }
        };
        match *self {
            FaultVerdict::Recovered {
                recovery_s,
                judged_from,
            } => {
                let t = crate::text::fixed(recovery_s, 2);
                if judged_from == own {
                    format!("recovered in {t} s")
                } else {
                    format!("recovered {t} s after fault {judged_from} ended")
                }
            }
            FaultVerdict::Metastable { judged_from, .. } => {
                format!("metastable{}", after(judged_from))
            }
            FaultVerdict::Undecided { judged_from } => {
                format!("not back by the end{}", after(judged_from))
            }
            FaultVerdict::Unended => "lasts to end".to_owned(),
            FaultVerdict::Background => "background".to_owned(),
        }
    }

    /// The recovery time when recovered.
    pub fn recovery_s(&self) -> Option<f64> {
        match self {
            FaultVerdict::Recovered { recovery_s, .. } => Some(*recovery_s),
            _ => None,
        }
    }
}

/// The verdicts of a run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Verdicts {
    /// Windows the baseline was fitted on.
    pub baseline_windows: usize,
    /// What the monitor read of each window.
    pub features: Vec<String>,
    /// Baseline mean of each feature.
    pub baseline: Vec<f64>,
    /// The monitor's parameters.
    pub params: Params,
    /// Faults judged metastable.
    pub metastable: usize,
    /// Faults judged recovered.
    pub recovered: usize,
    /// Faults after which the run ended before a verdict.
    pub undecided: usize,
    /// The longest recovery, seconds, when every fault that ended recovered; `None`
    /// otherwise or when none ended.
    pub slowest_recovery_s: Option<f64>,
    /// Its 1-based fault.
    pub slowest_fault: Option<usize>,
    /// One per fault, in `summary.faults` order (in `report.json` only through the
    /// fault table's listed rows, which stay bounded).
    #[serde(skip)]
    pub faults: Vec<FaultVerdict>,
}

impl Verdicts {
    fn new(
        baseline_windows: usize,
        baseline: Vec<f64>,
        params: Params,
        faults: Vec<FaultVerdict>,
    ) -> Self {
        let count = |f: fn(&FaultVerdict) -> bool| faults.iter().filter(|v| f(v)).count();
        let metastable = count(|v| matches!(v, FaultVerdict::Metastable { .. }));
        let undecided = count(|v| matches!(v, FaultVerdict::Undecided { .. }));
        let slowest = if metastable + undecided > 0 {
            None
        } else {
            faults
                .iter()
                .enumerate()
                .filter_map(|(i, v)| v.recovery_s().map(|t| (t, i + 1)))
                .fold(None, |best: Option<(f64, usize)>, (t, i)| match best {
                    Some((b, _)) if b >= t => best,
                    _ => Some((t, i)),
                })
        };
        Self {
            baseline_windows,
            features: FEATURES.iter().map(|f| (*f).to_owned()).collect(),
            baseline,
            params,
            metastable,
            recovered: count(|v| matches!(v, FaultVerdict::Recovered { .. })),
            undecided,
            slowest_recovery_s: slowest.map(|s| s.0),
            slowest_fault: slowest.map(|s| s.1),
            faults,
        }
    }
}

/// The features of one window (non-finite where it has none, e.g. no latency without a
/// success, no amplification with nothing offered).
fn features(row: &TimelineRow, window_s: f64) -> Vec<f64> {
    let per_offered = |n: u64| {
        if row.offered > 0 {
            n as f64 / row.offered as f64
        } else {
            f64::NAN
        }
    };
    vec![
        row.completed as f64 / window_s,
        row.latency_p50_ms,
        per_offered(row.attempts),
        per_offered(row.timed_out),
        per_offered(row.failed + row.rejected_by_breaker),
    ]
}

/// The verdict on every fault; `None` without a fault that is a trigger or without
/// enough windows before the first one.
pub fn verdicts(rec: &RunRecord) -> Option<Verdicts> {
    let end = duration_s(rec);
    let w = window_s(rec);
    let tl = &rec.timeline;
    let faults = &rec.summary.faults;
    let first_start = faults
        .iter()
        .filter(|f| !is_background(f, end) && f.start_s.is_finite())
        .map(|f| f.start_s)
        .min_by(f64::total_cmp)?;
    let rows: Vec<Vec<f64>> = tl.iter().map(|row| features(row, w)).collect();
    let before = tl.partition_point(|r| r.t_s + w <= first_start + EPS);
    let skip = usize::from(before > metastability::MIN_BASELINE_WINDOWS);
    let params = Params::default();
    let baseline = Baseline::fit(&rows[skip..before], &ABSOLUTE_FLOOR, params.relative_floor)?;
    let distances: Vec<f64> = rows.iter().map(|row| baseline.distance(row)).collect();
    // Triggers in window indices; background faults get a trigger that never decides
    // anything and are overwritten below.
    let triggers: Vec<(usize, Trigger)> = faults
        .iter()
        .enumerate()
        .filter(|(_, f)| !is_background(f, end))
        .map(|(i, f)| {
            let start = tl.partition_point(|r| r.t_s + w <= f.start_s + EPS);
            let ended = f.end_s.filter(|e| *e < end - EPS);
            let trigger = Trigger {
                start,
                end: ended.map(|e| tl.partition_point(|r| r.t_s < e - EPS)),
            };
            (i, trigger)
        })
        .collect();
    let only: Vec<Trigger> = triggers.iter().map(|(_, t)| *t).collect();
    let judged = metastability::judge(&distances, &only, &params);
    let mut out = vec![FaultVerdict::Background; faults.len()];
    for ((i, _), j) in triggers.iter().zip(&judged) {
        let from = triggers[j.judged_from].0;
        let judged_from = from + 1;
        out[*i] = match j.verdict {
            Verdict::Recovered { at } => {
                let ended = faults[from].end_s.unwrap_or(end);
                FaultVerdict::Recovered {
                    recovery_s: (tl[at].t_s - ended).max(0.0),
                    judged_from,
                }
            }
            Verdict::Metastable { at, why } => FaultVerdict::Metastable {
                decided_s: tl[at].t_s + w,
                why,
                judged_from,
            },
            Verdict::Undecided => FaultVerdict::Undecided { judged_from },
            Verdict::Unended => FaultVerdict::Unended,
        };
    }
    Some(Verdicts::new(
        before - skip,
        baseline.mean().to_vec(),
        params,
        out,
    ))
}
