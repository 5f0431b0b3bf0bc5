//! The parts of a page built from a record's declarations alone (`summary.figures`,
//! `summary.series`, `summary.tables`): the comparison's tables for every workload, and
//! the whole page of a workload without a renderer of its own. Nothing here names a
//! workload or a figure.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use super::{Card, Row, Tone};
use crate::error::ReportError;
use crate::figures::{Figure, FigureInfo, RecordTable, SeriesInfo};
use crate::plots::generic::{file_name, series_chart, MAX_SERIES_CHARTS};
use crate::plots::Plot;
use crate::record::{CheckResult, RunRecord};
use crate::stats::{RunStats, Span};
use crate::text::{Align, Table};

/// The figures declared by any of `records`, each once (the first declaration of a
/// name wins), in declaration order: a figure only a later run declares comes after
/// those of the runs before it. (Sets, not searches: a record may declare many.)
pub(super) fn figure_union<'a>(
    records: impl IntoIterator<Item = &'a RunRecord>,
) -> Vec<FigureInfo> {
    let mut seen: BTreeSet<&str> = BTreeSet::new();
    let mut out: Vec<FigureInfo> = Vec::new();
    for rec in records {
        for figure in &rec.summary.figures {
            if seen.insert(&figure.info.name) {
                out.push(figure.info.clone());
            }
        }
    }
    out
}

/// The series declared by any of `records`, each once, in declaration order.
pub(super) fn series_union<'a>(
    records: impl IntoIterator<Item = &'a RunRecord>,
) -> Vec<SeriesInfo> {
    let mut seen: BTreeSet<&str> = BTreeSet::new();
    let mut out: Vec<SeriesInfo> = Vec::new();
    for rec in records {
        for series in &rec.summary.series {
            if seen.insert(&series.name) {
                out.push(series.clone());
            }
        }
    }
    out
}

/// A run's figure values by name (the first of a name declared twice).
type Values<'a> = BTreeMap<&'a str, Option<f64>>;

fn values_of(rec: &RunRecord) -> Values<'_> {
    let mut out = Values::new();
    for figure in &rec.summary.figures {
        out.entry(figure.info.name.as_str()).or_insert(figure.value);
    }
    out
}

/// Figure `info`'s value in a run, shown (`-` when the run did not declare or measure it).
fn cell(info: &FigureInfo, values: &Values) -> String {
    info.format(values.get(info.name.as_str()).copied().flatten())
}

/// The figures the side-by-side table shows: the headline ones, then those whose shown
/// value differs between variants, each group in declaration order. The full figures
/// table shows the rest.
pub(super) fn shown_figures(variants: &[(String, RunRecord)]) -> Vec<FigureInfo> {
    let all = figure_union(variants.iter().map(|(_, r)| r));
    let values: Vec<Values> = variants.iter().map(|(_, r)| values_of(r)).collect();
    let differs = |info: &FigureInfo| {
        let first = cell(info, &values[0]);
        values.iter().any(|v| cell(info, v) != first)
    };
    let (headline, rest): (Vec<FigureInfo>, Vec<FigureInfo>) =
        all.into_iter().partition(|info| info.headline);
    headline
        .into_iter()
        .chain(rest.into_iter().filter(differs))
        .collect()
}

/// A column head of the side-by-side table: the label and its unit, or the label alone
/// when it names its unit already (`transfers lost`, not `transfers lost (transfers)`),
/// so the table stays narrow.
fn short_head(info: &FigureInfo) -> String {
    let unit = info.shown_unit();
    if !unit.is_empty() && info.label.split(' ').any(|word| word == unit) {
        info.label.clone()
    } else {
        info.head()
    }
}

/// The side-by-side table: variant, checks, then `figures`, one column each, the unit
/// in the head.
pub(super) fn comparison(
    variants: &[(String, RunRecord)],
    stats: &[RunStats],
    figures: &[FigureInfo],
) -> Table {
    let mut table = Table {
        headers: vec!["variant".to_string(), "checks".to_string()],
        align: vec![Align::Left, Align::Left],
        rows: Vec::new(),
    };
    // Recovered or metastable, when a variant has a verdict.
    let judged = stats
        .iter()
        .any(|st| st.rpc.as_ref().is_some_and(|r| r.verdicts.is_some()));
    if judged {
        table.headers.push("verdict".to_string());
        table.align.push(Align::Left);
    }
    for info in figures {
        table.headers.push(short_head(info));
        table.align.push(Align::Right);
    }
    for ((label, rec), st) in variants.iter().zip(stats) {
        let values = values_of(rec);
        let mut cells = vec![label.clone(), super::checks_cell(st)];
        if judged {
            let verdicts = st.rpc.as_ref().and_then(|r| r.verdicts.as_ref());
            cells.push(verdicts.map_or_else(|| "-".to_string(), super::verdict_short));
        }
        cells.extend(figures.iter().map(|info| cell(info, &values)));
        table.push(cells);
    }
    table
}

/// Every declared figure of the variants: one row per figure (label and unit), one
/// column per variant.
pub(super) fn all_figures(variants: &[(String, RunRecord)], labels: &[String]) -> Table {
    let mut table = Table {
        headers: vec!["figure".to_string()],
        align: vec![Align::Left],
        rows: Vec::new(),
    };
    for label in labels {
        table.headers.push(label.clone());
        table.align.push(Align::Right);
    }
    let values: Vec<Values> = variants.iter().map(|(_, r)| values_of(r)).collect();
    for info in figure_union(variants.iter().map(|(_, r)| r)) {
        let mut cells = vec![info.head()];
        cells.extend(values.iter().map(|v| cell(&info, v)));
        table.push(cells);
    }
    table
}

/// A glossary from declarations: each figure's and series' label, with its unit, and
/// what it measures; a term declared twice (a figure and a series of one name) once.
pub(super) fn glossary(figures: &[FigureInfo], series: &[SeriesInfo]) -> Vec<(String, String)> {
    let mut seen: BTreeSet<String> = BTreeSet::new();
    let mut out: Vec<(String, String)> = Vec::new();
    let terms = figures
        .iter()
        .map(|f| (f.label.as_str(), f.shown_unit(), f.about.as_str()))
        .chain(
            series
                .iter()
                .map(|s| (s.label.as_str(), s.shown_unit(), s.about.as_str())),
        );
    for (label, unit, about) in terms {
        let term = format!("{label} ({unit})");
        if about.is_empty() || !seen.insert(term.clone()) {
            continue;
        }
        out.push((term, about.to_string()));
    }
    out
}

/// Whether `rec` is of a workload without a renderer of its own: the page is built
/// from its declarations.
pub(super) fn declared_only(rec: &RunRecord) -> bool {
    rec.summary.rpc.is_none() && rec.summary.bank.is_none() && !rec.summary.figures.is_empty()
}

/// The verdict of a declared-only run: the checks card, then a card per headline
/// figure (bad when a check that reads it failed, good when they all passed), then the
/// faults.
pub(super) fn verdict(rec: &RunRecord, checks: Card, st: &RunStats) -> Vec<Vec<Card>> {
    let mut reading: BTreeMap<&str, Vec<&CheckResult>> = BTreeMap::new();
    for check in &rec.summary.checks {
        if let Some(figure) = &check.figure {
            reading.entry(figure.as_str()).or_default().push(check);
        }
    }
    let mut first = vec![checks];
    for figure in rec.summary.figures.iter().filter(|f| f.info.headline) {
        let checks = reading
            .get(figure.info.name.as_str())
            .map_or(&[][..], Vec::as_slice);
        first.push(figure_card(figure, checks));
    }
    let faults = Card {
        key: "faults".to_string(),
        value: crate::text::count(st.faults.total as u64),
        details: Vec::new(),
        tone: Tone::Neutral,
    };
    vec![first, vec![faults]]
}

/// A headline figure's card, with the checks that read it.
fn figure_card(figure: &Figure, checks: &[&CheckResult]) -> Card {
    let info = &figure.info;
    let tone = if checks.is_empty() {
        Tone::Neutral
    } else if checks.iter().all(|c| c.passed) {
        Tone::Good
    } else {
        Tone::Bad
    };
    let value = match figure.value {
        Some(_) => format!("{} {}", info.format(figure.value), info.shown_unit()),
        None => "not measured".to_string(),
    };
    Card {
        key: info.label.clone(),
        value,
        details: checks
            .iter()
            .map(|c| {
                let result = if c.passed { "passed" } else { "FAILED" };
                format!("{}: {result}", c.name)
            })
            .collect(),
        tone,
    }
}

/// A run's figures: figure, value, unit.
pub(super) fn figures_table(rec: &RunRecord) -> Table {
    let mut table = Table::new(&[
        ("figure", Align::Left),
        ("value", Align::Right),
        ("unit", Align::Left),
    ]);
    for figure in &rec.summary.figures {
        let info = &figure.info;
        table.push(vec![
            info.label.clone(),
            info.format(figure.value),
            info.shown_unit().to_string(),
        ]);
    }
    table
}

/// The summary rows of a declared-only run, for the CLI and the "All metrics" table.
pub(super) fn summary_rows(rec: &RunRecord) -> Vec<Row> {
    rec.summary
        .figures
        .iter()
        .map(|f| {
            (
                f.info.label.clone(),
                f.info.format(f.value),
                f.info.shown_unit().to_string(),
            )
        })
        .collect()
}

/// A declared table as a page table: every row as long as the heads (a record is
/// input), a column right-aligned when every cell in it is a number.
pub(super) fn record_table(t: &RecordTable) -> Table {
    let width = t.columns.len();
    let rows: Vec<Vec<String>> = t
        .rows
        .iter()
        .map(|row| {
            let mut row: Vec<String> = row.iter().take(width).cloned().collect();
            row.resize(width, String::new());
            row
        })
        .collect();
    let numeric = |i: usize| {
        !rows.is_empty()
            && rows
                .iter()
                .all(|row| row[i].replace(',', "").trim().parse::<f64>().is_ok())
    };
    Table {
        headers: t.columns.clone(),
        align: (0..width)
            .map(|i| {
                if numeric(i) {
                    Align::Right
                } else {
                    Align::Left
                }
            })
            .collect(),
        rows,
    }
}

/// What a declared table's note says: its caption, and the rows the record left out.
pub(super) fn record_table_note(t: &RecordTable) -> String {
    let mut note = t.about.clone();
    if t.more > 0 {
        if !note.is_empty() {
            note.push(' ');
        }
        note.push_str(&format!(
            "The first {} rows are kept; {} more are not in the record.",
            crate::text::count(t.rows.len() as u64),
            crate::text::count(t.more)
        ));
    }
    note
}

/// One chart per declared series (at most [`MAX_SERIES_CHARTS`]), one line per run of
/// `lines`, faults of the first run shaded, `zoom` beside the whole run; a series no
/// run has a window of is not drawn.
pub(super) fn series_plots(
    dir: &Path,
    title: &str,
    series: &[SeriesInfo],
    lines: &[(String, &RunRecord)],
    zoom: Option<Span>,
) -> Result<Vec<Plot>, ReportError> {
    let mut out: Vec<Plot> = Vec::new();
    for info in series.iter().take(MAX_SERIES_CHARTS) {
        let drawn = lines.iter().any(|(_, rec)| {
            rec.summary.series.iter().any(|s| s.name == info.name) && !rec.series.t_s.is_empty()
        });
        // Two names that make one file name (`a.b`, `a_b`): the first is drawn.
        let taken = out.iter().any(|p| p.name == file_name(&info.name));
        if drawn && !taken {
            out.push(series_chart(dir, title, info, lines, zoom)?);
        }
    }
    Ok(out)
}

/// The caption of series chart `name` (its file name), from its declaration.
pub(super) fn caption(name: &str, series: &[SeriesInfo], comparison: bool) -> Option<String> {
    let info = series.iter().find(|s| file_name(&s.name) == name)?;
    let mut text = if info.about.is_empty() {
        format!("{} per window.", info.label)
    } else {
        info.about.clone()
    };
    text.push_str(if comparison {
        " One line per variant; faults of the first variant shaded."
    } else {
        " Faults shaded."
    });
    Some(text)
}
