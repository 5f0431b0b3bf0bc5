//! Charts of a bank run: snapshots from start to completion, HLC `l - pt` per account
//! with the epsilon bound, the largest HLC counter per window, money in flight, and
//! transfers and credits per window.
//!
//! Bounded like the rpc charts: series are decimated per pixel, the HLC chart draws at
//! most [`MAX_ACCOUNT_LINES`] lines (the accounts that ran furthest ahead, and the
//! largest of the others as one line), and the snapshot chart at most
//! [`crate::plots::MAX_TIPS`] marks (consecutive snapshots of one status merge into one
//! mark past that).

use std::collections::BTreeSet;
use std::path::Path;

use plotters::style::RGBColor;

use super::{
    active_faults, field, overlay_width, palette, render, tick, Mark, MarkShape, Plot, Series,
    Swatch, TimeChart, TipWindow, GREY, MAX_TIPS,
};
use crate::error::ReportError;
use crate::record::{BankWindowRow, FaultInterval, RunRecord};
use crate::stats::bank::{account_key, account_offsets, SnapshotStatus};
use crate::stats::{self, Span};
use crate::text::{count, fixed};

/// Lines on the HLC offset chart at most; with more accounts, the ones that ran
/// furthest ahead get a line each and the rest share one (their largest per window).
pub const MAX_ACCOUNT_LINES: usize = 8;

const COMPLETED: RGBColor = RGBColor(0x4e, 0x79, 0xa7);
const ABANDONED: RGBColor = RGBColor(0xc0, 0x1f, 0x2f);

/// A value per bank window as a step held over the window.
fn per_window(
    rec: &RunRecord,
    f: impl Fn(&BankWindowRow) -> Option<f64>,
) -> Vec<(f64, Option<f64>)> {
    super::steps(&rec.bank_timeline, stats::window_s(rec), |r| r.t_s, f)
}

/// Hover data of each bank window, with the faults active in it.
fn tips_of(rec: &RunRecord, f: impl Fn(&BankWindowRow) -> Vec<Option<f64>>) -> Vec<TipWindow> {
    let w = stats::window_s(rec);
    let spans: Vec<(f64, f64)> = rec
        .bank_timeline
        .iter()
        .map(|r| (r.t_s, r.t_s + w))
        .collect();
    let faults = active_faults(&rec.summary.faults, &spans);
    rec.bank_timeline
        .iter()
        .zip(faults)
        .map(|(r, faults)| TipWindow {
            from_s: r.t_s,
            to_s: r.t_s + w,
            values: f(r),
            faults,
        })
        .collect()
}

/// The faults a chart of the bank's traffic shades: all but the clock settings, which
/// last to the end of the run and change no traffic (the HLC charts shade those alone).
fn traffic_faults(rec: &RunRecord) -> Vec<FaultInterval> {
    rec.summary
        .faults
        .iter()
        .filter(|f| f.kind != "clock")
        .cloned()
        .collect()
}

/// The clock faults, which the HLC charts shade.
fn clock_faults(rec: &RunRecord) -> Vec<FaultInterval> {
    rec.summary
        .faults
        .iter()
        .filter(|f| f.kind == "clock")
        .cloned()
        .collect()
}

fn line(label: String, color: RGBColor, points: Vec<(f64, Option<f64>)>) -> Series {
    Series {
        label,
        color,
        points,
        dashed: false,
        width: 2,
        under: false,
    }
}

fn upper(top: f64) -> f64 {
    if top > 0.0 {
        top * 1.08
    } else {
        1.0
    }
}

fn title(what: &str, rec: &RunRecord) -> String {
    format!(
        "{what}: {} (seed {})",
        rec.summary.scenario, rec.summary.seed
    )
}

/// Whether the record has snapshots to draw.
pub fn has_snapshots(rec: &RunRecord) -> bool {
    rec.summary
        .bank
        .as_ref()
        .is_some_and(|b| !b.snapshots.is_empty())
}

/// When `s` was abandoned, seconds (its start in records older than `abandoned_s`).
fn abandoned_at(s: &crate::record::SnapshotSummary) -> f64 {
    s.abandoned_s.unwrap_or(s.started_s).max(s.started_s)
}

/// One snapshot (or a run of them merged) as the chart draws it.
struct SnapMark {
    first_id: u32,
    last_id: u32,
    status: SnapshotStatus,
    from_s: f64,
    to_s: f64,
    /// The latest start among them, seconds.
    last_start_s: f64,
    count: usize,
    /// Shortest and longest duration of the completed ones, ms.
    durations_ms: Option<(f64, f64)>,
}

/// The snapshot timeline: one lane per snapshot id, a bar from its start to its
/// completion (at least a few pixels wide), a cross where an abandoned one was
/// abandoned (when and why on hover), a grey bar to the end of the run for one still
/// running.
pub fn snapshots(dir: &Path, rec: &RunRecord, zoom: Option<Span>) -> Result<Plot, ReportError> {
    let run_s = stats::duration_s(rec);
    let empty = Vec::new();
    let snaps = rec.summary.bank.as_ref().map_or(&empty, |b| &b.snapshots);
    let mut order: Vec<usize> = (0..snaps.len()).collect();
    order.sort_by_key(|&i| snaps[i].id);
    // Faults active at each start, for the hover text: sweep in start order.
    let mut by_start = order.clone();
    by_start.sort_by(|&a, &b| snaps[a].started_s.total_cmp(&snaps[b].started_s));
    let instants: Vec<(f64, f64)> = by_start
        .iter()
        .map(|&i| (snaps[i].started_s, snaps[i].started_s))
        .collect();
    let mut faults_at = vec![String::new(); snaps.len()];
    for (&i, phrase) in by_start
        .iter()
        .zip(active_faults(&rec.summary.faults, &instants))
    {
        faults_at[i] = phrase;
    }
    // One mark per snapshot up to MAX_TIPS; past it, chunks with up to three marks each
    // (one per outcome).
    let per = if snaps.len() <= MAX_TIPS {
        1
    } else {
        snaps.len().div_ceil(MAX_TIPS / 3)
    };
    let mut marks: Vec<Mark> = Vec::new();
    let status_of = |s: &crate::record::SnapshotSummary| match (s.completed_s, &s.abandoned) {
        (Some(_), _) => SnapshotStatus::Completed,
        (None, Some(_)) => SnapshotStatus::Abandoned,
        (None, None) => SnapshotStatus::Unfinished,
    };
    let color_of = |st: SnapshotStatus| match st {
        SnapshotStatus::Completed => COMPLETED,
        SnapshotStatus::Abandoned => ABANDONED,
        SnapshotStatus::Unfinished => GREY,
    };
    let mut push = |m: SnapMark, tip: String| {
        let shape = if m.status == SnapshotStatus::Abandoned {
            MarkShape::Cross
        } else {
            MarkShape::Bar
        };
        marks.push(Mark {
            from_s: m.from_s,
            to_s: m.to_s,
            y_lo: f64::from(m.first_id) - 0.35,
            y_hi: f64::from(m.last_id) + 0.35,
            color: color_of(m.status),
            shape,
            tip,
        });
    };
    if per == 1 {
        for &i in &order {
            let s = &snaps[i];
            let status = status_of(s);
            let mut tip = format!(
                "snapshot {} from {}\nstarted {} s",
                s.id,
                s.initiator,
                fixed(s.started_s, 3)
            );
            let to_s = match (status, s.completed_s) {
                (SnapshotStatus::Completed, Some(c)) => {
                    tip.push_str(&format!(
                        "\ncompleted {} s, after {} ms",
                        fixed(c, 3),
                        fixed((c - s.started_s) * 1e3, 2)
                    ));
                    c
                }
                (SnapshotStatus::Abandoned, _) => {
                    let at_s = abandoned_at(s);
                    tip.push_str(&format!(
                        "\nabandoned {} s, after {} ms: {}",
                        fixed(at_s, 3),
                        fixed((at_s - s.started_s) * 1e3, 2),
                        s.abandoned.as_deref().unwrap_or("")
                    ));
                    at_s
                }
                _ => {
                    tip.push_str(&format!(
                        "\nstill running when the run ended at {} s",
                        tick(&run_s)
                    ));
                    run_s.max(s.started_s)
                }
            };
            let faults = &faults_at[i];
            tip.push_str(&format!(
                "\nfaults at its start: {}",
                if faults.is_empty() { "none" } else { faults }
            ));
            push(
                SnapMark {
                    first_id: s.id,
                    last_id: s.id,
                    status,
                    // A cross stands where its mark starts: at the abandonment.
                    from_s: if status == SnapshotStatus::Abandoned {
                        to_s
                    } else {
                        s.started_s
                    },
                    to_s,
                    last_start_s: s.started_s,
                    count: 1,
                    durations_ms: None,
                },
                tip,
            );
        }
    } else {
        // Too many to draw one by one: chunks of `per` consecutive snapshots, each one
        // mark per outcome over the lanes and the span of time of that outcome's
        // snapshots, so at most MAX_TIPS marks in all.
        for chunk in order.chunks(per) {
            let (Some(&first), Some(&last)) = (chunk.first(), chunk.last()) else {
                continue;
            };
            let range = (snaps[first].id, snaps[last].id);
            let mut by_status: std::collections::BTreeMap<SnapshotStatus, SnapMark> =
                std::collections::BTreeMap::new();
            for &i in chunk {
                let s = &snaps[i];
                let status = status_of(s);
                let end = match status {
                    SnapshotStatus::Completed => s.completed_s.unwrap_or(s.started_s),
                    SnapshotStatus::Abandoned => abandoned_at(s),
                    SnapshotStatus::Unfinished => run_s.max(s.started_s),
                };
                // Crosses stand at the abandonments (see above).
                let begin = if status == SnapshotStatus::Abandoned {
                    end
                } else {
                    s.started_s
                };
                let d = s.completed_s.map(|c| (c - s.started_s) * 1e3);
                let m = by_status.entry(status).or_insert(SnapMark {
                    first_id: s.id,
                    last_id: s.id,
                    status,
                    from_s: begin,
                    to_s: end,
                    last_start_s: s.started_s,
                    count: 0,
                    durations_ms: None,
                });
                m.first_id = m.first_id.min(s.id);
                m.last_id = m.last_id.max(s.id);
                m.count += 1;
                m.from_s = m.from_s.min(begin);
                m.to_s = m.to_s.max(end);
                m.last_start_s = m.last_start_s.max(s.started_s);
                if let Some(d) = d {
                    m.durations_ms = Some(
                        m.durations_ms
                            .map_or((d, d), |(lo, hi)| (lo.min(d), hi.max(d))),
                    );
                }
            }
            for m in by_status.into_values() {
                let (when, from_s, to_s) = if m.status == SnapshotStatus::Abandoned {
                    ("abandoned", m.from_s, m.to_s)
                } else {
                    ("started", m.from_s, m.last_start_s)
                };
                let mut tip = format!(
                    "snapshots {}-{}: {} {}\n{when} {}-{} s",
                    range.0,
                    range.1,
                    count(m.count as u64),
                    m.status.word(),
                    fixed(from_s, 3),
                    fixed(to_s, 3)
                );
                if let Some((lo, hi)) = m.durations_ms {
                    tip.push_str(&format!("\ndurations {}-{} ms", fixed(lo, 2), fixed(hi, 2)));
                }
                push(m, tip);
            }
        }
    }
    let lo = snaps.iter().map(|s| s.id).min().unwrap_or(0);
    let hi = snaps.iter().map(|s| s.id).max().unwrap_or(0);
    let mut legend = vec![(
        Swatch::Bar(COMPLETED),
        "completed: start to completion".to_string(),
    )];
    let any = |st: SnapshotStatus| snaps.iter().any(|s| status_of(s) == st);
    if any(SnapshotStatus::Abandoned) {
        legend.push((
            Swatch::Cross(ABANDONED),
            "abandoned, when given up".to_string(),
        ));
    }
    if any(SnapshotStatus::Unfinished) {
        legend.push((Swatch::Bar(GREY), "still running at the end".to_string()));
    }
    let chart = TimeChart {
        title: title("Snapshots", rec),
        y_label: "snapshot id".to_string(),
        x_max: run_s,
        y_range: (f64::from(lo) - 1.0, f64::from(hi) + 1.0),
        faults: traffic_faults(rec),
        zoom,
        marks,
        mark_legend: legend,
        integer_y: true,
        ..TimeChart::default()
    };
    render(dir, "snapshots", &chart)
}

/// Account names of the bank: those in `hlc_offsets.csv`, plus, when every one of them
/// is a common prefix and a number below the bank's account count, the missing numbers
/// under that prefix (accounts that never ran ahead of their clock), in account order.
fn account_names(rec: &RunRecord, present: &[String]) -> Vec<String> {
    let accounts = rec.summary.bank.as_ref().map_or(0, |b| b.accounts);
    let prefixes: BTreeSet<&str> = present.iter().map(|a| account_key(a).0).collect();
    let numbered = present
        .iter()
        .all(|a| account_key(a).1 < u64::from(accounts));
    let mut out = present.to_vec();
    // Only up to a size the chart folds anyway: the missing ones are all-zero lines.
    if prefixes.len() == 1 && numbered && accounts as usize <= MAX_ACCOUNT_LINES {
        let prefix = prefixes.first().copied().unwrap_or("");
        for n in 0..accounts {
            let name = format!("{prefix}{n}");
            if !out.contains(&name) {
                out.push(name);
            }
        }
    }
    out.sort_by(|a, b| account_key(a).cmp(&account_key(b)));
    out
}

/// HLC `l - pt` per account over time, the largest of each window; a window without a
/// row reads 0 ms. Clock faults shaded, epsilon (the largest offset between two clocks,
/// the bound `l - pt` must keep) as a dashed line.
pub fn hlc_offsets(dir: &Path, rec: &RunRecord) -> Result<Plot, ReportError> {
    let w = stats::window_s(rec);
    let eps = rec.summary.bank.as_ref().map_or(0.0, |b| b.hlc.epsilon_ms);
    let per_account = account_offsets(rec, eps);
    // The timeline's windows (without a timeline, at most one per row), so the dense
    // series below are no larger than the record; a row past them (a record that
    // contradicts itself) is left out.
    let n_windows = if rec.bank_timeline.is_empty() {
        let last = rec
            .hlc_offsets
            .iter()
            .map(|r| window_index(r.t_s, w) + 1)
            .max()
            .unwrap_or(0);
        last.min(rec.hlc_offsets.len())
    } else {
        rec.bank_timeline.len()
    };
    let present: Vec<String> = per_account.iter().map(|a| a.account.clone()).collect();
    let names = account_names(rec, &present);
    // The accounts drawn one by one: all when few, else those that ran furthest ahead.
    let (shown, others): (Vec<String>, usize) = if names.len() <= MAX_ACCOUNT_LINES {
        (names.clone(), 0)
    } else {
        let mut by_size = per_account.clone();
        by_size.sort_by(|a, b| {
            b.max_offset_ms
                .total_cmp(&a.max_offset_ms)
                .then_with(|| account_key(&a.account).cmp(&account_key(&b.account)))
        });
        let mut top: Vec<String> = by_size
            .iter()
            .take(MAX_ACCOUNT_LINES - 1)
            .map(|a| a.account.clone())
            .collect();
        top.sort_by(|a, b| account_key(a).cmp(&account_key(b)));
        (top, names.len() - (MAX_ACCOUNT_LINES - 1))
    };
    let slot_of = |name: &str| shown.iter().position(|s| s == name);
    // values[slot][window]; the last slot is the largest of the other accounts.
    let slots = shown.len() + usize::from(others > 0);
    let mut values = vec![vec![0.0f64; n_windows]; slots];
    for r in &rec.hlc_offsets {
        let i = window_index(r.t_s, w);
        if i >= n_windows || !r.offset_ms.is_finite() {
            continue;
        }
        let slot = match slot_of(&r.account) {
            Some(slot) => slot,
            None if others > 0 => slots - 1,
            None => continue,
        };
        values[slot][i] = values[slot][i].max(r.offset_ms);
    }
    let step = |v: &[f64]| -> Vec<(f64, Option<f64>)> {
        let mut out = Vec::with_capacity(2 * v.len());
        for (i, x) in v.iter().enumerate() {
            let t = i as f64 * w;
            out.push((t, Some(*x)));
            out.push((t + w, Some(*x)));
        }
        out
    };
    let mut series: Vec<Series> = shown
        .iter()
        .enumerate()
        .map(|(i, name)| Series {
            width: overlay_width(i, shown.len()),
            ..line(name.clone(), palette(i), step(&values[i]))
        })
        .collect();
    let mut fields: Vec<_> = shown.iter().map(|n| field(n, "ms", 3)).collect();
    if others > 0 {
        let label = format!("largest of the other {} accounts", count(others as u64));
        series.push(Series {
            dashed: true,
            ..line(label.clone(), GREY, step(&values[slots - 1]))
        });
        fields.push(field(&label, "ms", 3));
    }
    let top = values.iter().flatten().copied().fold(eps, f64::max);
    let spans: Vec<(f64, f64)> = (0..n_windows)
        .map(|i| (i as f64 * w, (i + 1) as f64 * w))
        .collect();
    let faults_in = active_faults(&rec.summary.faults, &spans);
    let tips = spans
        .iter()
        .zip(faults_in)
        .enumerate()
        .map(|(i, (&(a, b), faults))| TipWindow {
            from_s: a,
            to_s: b,
            values: values.iter().map(|v| Some(v[i])).collect(),
            faults,
        })
        .collect();
    let chart = TimeChart {
        title: title("HLC l - pt per account", rec),
        y_label: "l - pt, largest per window (ms)".to_string(),
        x_max: stats::duration_s(rec),
        y_range: (0.0, upper(top)),
        series,
        hlines: vec![super::HLine {
            label: format!(
                "epsilon {} ms (largest offset between two clocks)",
                tick(&eps)
            ),
            y: eps,
            color: RGBColor(0x33, 0x33, 0x33),
        }],
        faults: clock_faults(rec),
        tip_fields: fields,
        tips,
        ..TimeChart::default()
    };
    render(dir, "hlc_offsets", &chart)
}

/// The window a start time falls in (rounded, so `2.9999999` is window 3).
fn window_index(t_s: f64, w: f64) -> usize {
    if t_s.is_finite() && t_s >= 0.0 && w > 0.0 {
        // Bounded by the largest timeline the loader accepts.
        ((t_s / w).round() as usize).min(crate::io::MAX_TIMELINE_ROWS)
    } else {
        0
    }
}

/// The largest HLC counter `c` of each window's events, with the largest counter bound
/// the run met as a dashed line.
pub fn hlc_counter(dir: &Path, rec: &RunRecord) -> Result<Plot, ReportError> {
    let bound = rec.summary.bank.as_ref().map_or(0, |b| b.hlc.counter_bound);
    let series = vec![line(
        "largest counter c of the window's events".to_string(),
        palette(4),
        per_window(rec, |r| Some(r.hlc_max_counter as f64)),
    )];
    let top = super::max_of(&series).max(bound as f64);
    let mut hlines = Vec::new();
    if bound > 0 {
        hlines.push(super::HLine {
            label: format!(
                "largest counter bound met ({}: events within epsilon, plus one)",
                count(bound)
            ),
            y: bound as f64,
            color: RGBColor(0x33, 0x33, 0x33),
        });
    }
    let chart = TimeChart {
        title: title("HLC counter", rec),
        y_label: "largest counter c (count)".to_string(),
        x_max: stats::duration_s(rec),
        y_range: (0.0, upper(top).ceil()),
        series,
        hlines,
        faults: clock_faults(rec),
        tip_fields: vec![
            field("largest counter", "", 0),
            field("transfers made", "", 0),
            field("messages delivered", "", 0),
        ],
        tips: tips_of(rec, |r| {
            vec![
                Some(r.hlc_max_counter as f64),
                Some(r.transfers as f64),
                Some(r.delivered as f64),
            ]
        }),
        integer_y: true,
        ..TimeChart::default()
    };
    render(dir, "hlc_counter", &chart)
}

/// Money debited and not yet credited at each window's end, units.
pub fn in_flight(dir: &Path, rec: &RunRecord, zoom: Option<Span>) -> Result<Plot, ReportError> {
    let series = vec![line(
        "money in flight at the window's end".to_string(),
        palette(1),
        per_window(rec, |r| Some(r.in_flight_units as f64)),
    )];
    let top = super::max_of(&series);
    let chart = TimeChart {
        title: title("Money in flight", rec),
        y_label: "debited, not yet credited (units)".to_string(),
        x_max: stats::duration_s(rec),
        y_range: (0.0, upper(top).ceil()),
        series,
        faults: traffic_faults(rec),
        zoom,
        tip_fields: vec![
            field("in flight", "units", 0),
            field("transfers made", "", 0),
            field("transfers credited", "", 0),
            field("messages lost", "", 0),
        ],
        tips: tips_of(rec, |r| {
            vec![
                Some(r.in_flight_units as f64),
                Some(r.transfers as f64),
                Some(r.credits as f64),
                Some(r.dropped as f64),
            ]
        }),
        integer_y: true,
        ..TimeChart::default()
    };
    render(dir, "in_flight", &chart)
}

/// Transfers made and credited, and messages lost, per window.
pub fn transfers(dir: &Path, rec: &RunRecord, zoom: Option<Span>) -> Result<Plot, ReportError> {
    let w = stats::window_s(rec);
    let series = vec![
        Series {
            width: 3,
            ..line(
                "transfers made".to_string(),
                palette(0),
                per_window(rec, |r| Some(r.transfers as f64)),
            )
        },
        line(
            "transfers credited".to_string(),
            palette(2),
            per_window(rec, |r| Some(r.credits as f64)),
        ),
        Series {
            dashed: true,
            ..line(
                "messages lost in the network".to_string(),
                palette(3),
                per_window(rec, |r| Some(r.dropped as f64)),
            )
        },
    ];
    let top = super::max_of(&series);
    let chart = TimeChart {
        title: title("Transfers", rec),
        y_label: format!("per {} s window (count)", tick(&w)),
        x_max: stats::duration_s(rec),
        y_range: (0.0, upper(top).ceil()),
        series,
        faults: traffic_faults(rec),
        zoom,
        tip_fields: vec![
            field("transfers made", "", 0),
            field("transfers credited", "", 0),
            field("messages delivered", "", 0),
            field("messages lost", "", 0),
            field("in flight at the end", "units", 0),
        ],
        tips: tips_of(rec, |r| {
            vec![
                Some(r.transfers as f64),
                Some(r.credits as f64),
                Some(r.delivered as f64),
                Some(r.dropped as f64),
                Some(r.in_flight_units as f64),
            ]
        }),
        integer_y: true,
        ..TimeChart::default()
    };
    render(dir, "transfers", &chart)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(kind: &str, target: &str, a: f64, b: Option<f64>) -> FaultInterval {
        FaultInterval {
            kind: kind.to_string(),
            target: target.to_string(),
            start_s: a,
            end_s: b,
        }
    }

    #[test]
    fn active_faults_sweep() {
        let faults = vec![
            f("clock", "acct-2", 0.0, None),
            f("crash", "acct-3", 4.005, Some(6.005)),
            f("partition", "a | b", 12.0, Some(15.0)),
        ];
        let spans = [
            (0.0, 1.0),
            (4.0, 5.0),
            (6.0, 7.0),
            (6.005, 6.005),
            (13.0, 14.0),
        ];
        assert_eq!(
            active_faults(&faults, &spans),
            [
                "clock acct-2",
                "clock acct-2, crash acct-3",
                "clock acct-2, crash acct-3",
                "clock acct-2",
                "clock acct-2, partition a | b",
            ]
        );
        let many: Vec<_> = (0..6)
            .map(|i| f("crash", &format!("n{i}"), 0.0, Some(1.0)))
            .collect();
        assert_eq!(
            active_faults(&many, &[(0.5, 0.5)]),
            ["crash n0, crash n1, crash n2 and 3 more"]
        );
    }

    #[test]
    fn windows_round_to_the_nearest_start() {
        assert_eq!(window_index(2.999_999_9, 1.0), 3);
        assert_eq!(window_index(0.3, 0.1), 3);
        assert_eq!(window_index(f64::NAN, 1.0), 0);
    }
}
