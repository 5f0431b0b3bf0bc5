//! Charts of a workload's declared series (`summary.series`, values in `series.csv`),
//! for any workload: one chart per series, one line per run (a run's page draws one,
//! a comparison one per variant), faults of the first run shaded.
//!
//! Nothing here knows a workload: title, axis and legend come from the declaration.

use std::path::Path;

use super::{
    active_faults, field, overlay_width, palette, render, steps, Plot, Series, TimeChart, TipWindow,
};
use crate::error::ReportError;
use crate::figures::{Quantity, SeriesInfo};
use crate::record::RunRecord;
use crate::stats::{self, Span};

/// Most series charts a page draws: a record may declare any number of series, and
/// each chart is two files. The rest stay in `series.csv`.
pub const MAX_SERIES_CHARTS: usize = 24;

/// The file name of series `name`'s chart: `series-` and the name with every character
/// but ASCII letters, digits, `-` and `_` made `_` (a declared name is record input).
pub fn file_name(name: &str) -> String {
    let safe: String = name
        .chars()
        .take(64)
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("series-{safe}")
}

/// The values of series `name` in `rec` as (window start, shown value), NaN as `None`;
/// empty when the run does not declare it.
fn values(rec: &RunRecord, info: &SeriesInfo) -> Vec<(f64, Option<f64>)> {
    let Some(index) = rec.summary.series.iter().position(|s| s.name == info.name) else {
        return Vec::new();
    };
    let Some(column) = rec.series.columns.get(index) else {
        return Vec::new();
    };
    rec.series
        .t_s
        .iter()
        .zip(column)
        .map(|(&t_s, &v)| (t_s, Some(info.shown(v)).filter(|v| v.is_finite())))
        .collect()
}

/// `text` with its first letter upper-case, for a chart's title.
fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// The y range: from 0 (or the lowest value when negative) to a little above the top.
fn y_range(series: &[Series]) -> (f64, f64) {
    let finite = || {
        series
            .iter()
            .flat_map(|s| s.points.iter().filter_map(|p| p.1))
            .filter(|v| v.is_finite())
    };
    let lo = finite().fold(0.0, f64::min);
    let hi = finite().fold(lo, f64::max);
    if hi > lo {
        (lo, hi + 0.08 * (hi - lo))
    } else {
        (lo, lo + 1.0)
    }
}

/// A chart of series `info` with one line per run of `lines` (legend label, run; one
/// run's line is named after the series), each value held over its window; faults of the first run shaded; hovering a window shows
/// every line's value there. Written as `<file_name(info.name)>.svg` and `.png`.
pub fn series_chart(
    dir: &Path,
    title: &str,
    info: &SeriesInfo,
    lines: &[(String, &RunRecord)],
    zoom: Option<Span>,
) -> Result<Plot, ReportError> {
    let Some((_, first)) = lines.first() else {
        return Err(ReportError::Invalid {
            message: format!("a chart of series {} needs a run", info.name),
        });
    };
    let unit = info.shown_unit();
    // One run's chart names the series in its legend, a comparison's each variant.
    let legend = |label: &String| {
        if lines.len() == 1 {
            info.label.clone()
        } else {
            label.clone()
        }
    };
    let of_run: Vec<Vec<(f64, Option<f64>)>> =
        lines.iter().map(|(_, rec)| values(rec, info)).collect();
    let series: Vec<Series> = lines
        .iter()
        .zip(&of_run)
        .enumerate()
        .map(|(i, ((label, rec), points))| Series {
            label: legend(label),
            color: palette(i),
            points: steps(points, stats::window_s(rec), |p| p.0, |p| p.1),
            dashed: false,
            width: overlay_width(i, lines.len()),
            under: false,
        })
        .collect();
    let w = stats::window_s(first);
    let spans: Vec<(f64, f64)> = of_run[0].iter().map(|p| (p.0, p.0 + w)).collect();
    let faults = active_faults(&first.summary.faults, &spans);
    let tips = of_run[0]
        .iter()
        .zip(faults)
        .map(|(&(t_s, _), faults)| TipWindow {
            from_s: t_s,
            to_s: t_s + w,
            // Each run's value in the window starting at the same time.
            values: of_run
                .iter()
                .map(|points| {
                    let i = points.partition_point(|p| p.0 < t_s - 1e-9);
                    points
                        .get(i)
                        .filter(|p| (p.0 - t_s).abs() < 1e-9)
                        .and_then(|p| p.1)
                })
                .collect(),
            faults,
        })
        .collect();
    let decimals = if info.quantity == Quantity::Count {
        0
    } else {
        2
    };
    let chart = TimeChart {
        title: format!("{} ({unit}): {title}", capitalized(&info.label)),
        y_label: format!("{} ({unit})", info.label),
        x_max: lines
            .iter()
            .map(|(_, rec)| stats::duration_s(rec))
            .fold(0.0, f64::max),
        y_range: y_range(&series),
        series,
        faults: first.summary.faults.clone(),
        zoom,
        tip_fields: lines
            .iter()
            .map(|(label, _)| field(&legend(label), unit, decimals))
            .collect(),
        tips,
        integer_y: info.quantity == Quantity::Count,
        ..TimeChart::default()
    };
    render(dir, &file_name(&info.name), &chart)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_declared_name_cannot_leave_the_directory() {
        assert_eq!(file_name("credits_per_s"), "series-credits_per_s");
        assert_eq!(file_name("../x y"), "series-___x_y");
        assert!(!file_name(&"a".repeat(500)).contains('/'));
        assert!(file_name(&"a".repeat(500)).len() <= 71);
    }

    #[test]
    fn the_axis_takes_in_negative_values_and_a_flat_line() {
        let line = |points: Vec<(f64, Option<f64>)>| Series {
            label: String::new(),
            color: palette(0),
            points,
            dashed: false,
            width: 2,
            under: false,
        };
        assert_eq!(
            y_range(&[line(vec![(0.0, Some(-2.0)), (1.0, Some(8.0))])]),
            (-2.0, 8.8)
        );
        assert_eq!(y_range(&[line(vec![(0.0, Some(0.0))])]), (0.0, 1.0));
        assert_eq!(y_range(&[line(vec![(0.0, None)])]), (0.0, 1.0));
    }
}
