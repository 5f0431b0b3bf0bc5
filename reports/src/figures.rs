//! What a workload declares about its results, so that every page, comparison and sweep
//! can show a workload it has never heard of.
//!
//! A workload declares, in its own folder, its *figures* (one number per run:
//! availability, money lost, violations), its *series* (one number per metrics window)
//! and its *tables* (rows of text, such as the snapshots of a bank run). The run record
//! carries the declarations beside the values (`summary.json`: `figures`, `series`,
//! `tables`; `series.csv`: the windows), so a record describes itself: `compare`,
//! `sweep`, shard merging, `shrink` and the generic report read them and never branch
//! on the workload's kind.
//!
//! A figure's value is stored in the unit it declares; a [`Quantity::Ratio`] is a
//! fraction from 0 to 1 and is shown as a percentage.

use serde::{Deserialize, Serialize};

/// Which way a figure is better.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Better {
    /// Higher is better (availability).
    Higher,
    /// Lower is better (latency, violations, money lost).
    Lower,
    /// Neither: a description of the run (messages delivered, money at the start).
    Neither,
}

/// What kind of number a figure is; says how it is shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Quantity {
    /// A fraction from 0 to 1, shown as a percentage.
    Ratio,
    /// Something per something (attempts per request, arrivals per second).
    Rate,
    /// A whole number of things (violations, transfers, units of money).
    Count,
    /// A length of time, in the declared unit (`ms`, `s`).
    Duration,
}

impl Quantity {
    /// The unit a value of this quantity is shown in: `%` for a ratio, else `unit`.
    pub fn shown_unit(self, unit: &str) -> &str {
        match self {
            Quantity::Ratio => "%",
            _ => unit,
        }
    }

    /// `value` in the shown unit (a ratio times 100).
    pub fn shown(self, value: f64) -> f64 {
        match self {
            Quantity::Ratio => value * 100.0,
            _ => value,
        }
    }
}

/// How a figure aggregates across the seeds of a sweep (the headline number of its row;
/// the sweep shows the spread of every figure as well).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Aggregate {
    /// The mean, with its 95 % confidence interval.
    Mean,
    /// The largest value of any seed (the worst case of a bound).
    Max,
    /// The sum over the seeds (events that should never happen, counted).
    Sum,
    /// The fraction of seeds whose value is above 0 (seeds where it happened at all).
    FractionOfSeeds,
}

/// A figure as a workload declares it, in code (`const` tables in its folder).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FigureSpec {
    /// Key in records and the name a check reads (`availability`, `money_lost_units`).
    pub name: &'static str,
    /// Words for a column head (`availability`, `money lost`).
    pub label: &'static str,
    /// Unit of the stored value (`fraction`, `ms`, `units`, `violations`).
    pub unit: &'static str,
    /// Which way it is better.
    pub better: Better,
    /// What kind of number it is.
    pub quantity: Quantity,
    /// How it aggregates across seeds.
    pub aggregate: Aggregate,
    /// Whether pages lead with it: sweeps draw its histogram and list its worst seeds,
    /// comparisons and verdicts show it first.
    pub headline: bool,
    /// What it measures and how, for the page's glossary.
    pub about: &'static str,
}

impl FigureSpec {
    /// A figure pages do not lead with (see [`FigureSpec::headline`]).
    pub const fn new(
        name: &'static str,
        label: &'static str,
        unit: &'static str,
        better: Better,
        quantity: Quantity,
        aggregate: Aggregate,
        about: &'static str,
    ) -> FigureSpec {
        FigureSpec {
            name,
            label,
            unit,
            better,
            quantity,
            aggregate,
            headline: false,
            about,
        }
    }

    /// The same figure, one that pages lead with.
    pub const fn headline(self) -> FigureSpec {
        FigureSpec {
            headline: true,
            ..self
        }
    }
}

/// A figure's declaration as records hold it (a [`FigureSpec`] in owned form).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FigureInfo {
    /// Key (see [`FigureSpec::name`]).
    pub name: String,
    /// Column head.
    pub label: String,
    /// Unit of the stored value.
    pub unit: String,
    /// Which way it is better.
    pub better: Better,
    /// What kind of number it is.
    pub quantity: Quantity,
    /// How it aggregates across seeds.
    pub aggregate: Aggregate,
    /// Whether pages lead with it.
    #[serde(default)]
    pub headline: bool,
    /// Glossary text.
    #[serde(default)]
    pub about: String,
}

impl From<&FigureSpec> for FigureInfo {
    fn from(spec: &FigureSpec) -> FigureInfo {
        FigureInfo {
            name: spec.name.to_owned(),
            label: spec.label.to_owned(),
            unit: spec.unit.to_owned(),
            better: spec.better,
            quantity: spec.quantity,
            aggregate: spec.aggregate,
            headline: spec.headline,
            about: spec.about.to_owned(),
        }
    }
}

impl FigureInfo {
    /// The unit values are shown in (`%` for a ratio, else the declared unit).
    pub fn shown_unit(&self) -> &str {
        self.quantity.shown_unit(&self.unit)
    }

    /// `value` in the shown unit (a ratio times 100).
    pub fn shown(&self, value: f64) -> f64 {
        self.quantity.shown(value)
    }

    /// Decimals a shown value gets: none for a whole count (a mean of counts keeps two),
    /// 3 for percentages, 2 otherwise (1 for values of 1,000 or more).
    pub fn decimals(&self, shown: f64) -> usize {
        match self.quantity {
            Quantity::Count if shown.fract() == 0.0 => 0,
            Quantity::Count => 2,
            Quantity::Ratio => 3,
            _ if shown.abs() >= 1000.0 => 1,
            _ => 2,
        }
    }

    /// `value` shown with its decimals and thousands separators, without the unit; `-`
    /// for none.
    pub fn format(&self, value: Option<f64>) -> String {
        match value.filter(|v| v.is_finite()) {
            Some(value) => {
                let shown = self.shown(value);
                crate::text::fixed(shown, self.decimals(shown))
            }
            None => "-".to_owned(),
        }
    }

    /// The column head: label and shown unit (`availability (%)`).
    pub fn head(&self) -> String {
        format!("{} ({})", self.label, self.shown_unit())
    }

    /// Whether `a` is worse than `b` for this figure (`None` when neither is better).
    pub fn worse(&self, a: f64, b: f64) -> Option<bool> {
        match self.better {
            Better::Higher => Some(a < b),
            Better::Lower => Some(a > b),
            Better::Neither => None,
        }
    }
}

/// One figure of a run: its declaration and its value (`None`: the run did not measure
/// it, e.g. a latency with no successful request).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Figure {
    /// The declaration.
    #[serde(flatten)]
    pub info: FigureInfo,
    /// The value in [`FigureInfo::unit`].
    pub value: Option<f64>,
}

/// A per-window series as a workload declares it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SeriesSpec {
    /// Column of `series.csv` (`credits_per_s`).
    pub name: &'static str,
    /// Chart title and legend (`transfers credited`).
    pub label: &'static str,
    /// Unit of the values (`transfers/s`); a [`Quantity::Ratio`] series is a fraction.
    pub unit: &'static str,
    /// What kind of number it is.
    pub quantity: Quantity,
    /// What it shows, for the chart's caption.
    pub about: &'static str,
}

/// A series' declaration as records hold it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeriesInfo {
    /// Column of `series.csv`.
    pub name: String,
    /// Chart title and legend.
    pub label: String,
    /// Unit of the values.
    pub unit: String,
    /// What kind of number it is.
    pub quantity: Quantity,
    /// Caption text.
    #[serde(default)]
    pub about: String,
}

impl From<&SeriesSpec> for SeriesInfo {
    fn from(spec: &SeriesSpec) -> SeriesInfo {
        SeriesInfo {
            name: spec.name.to_owned(),
            label: spec.label.to_owned(),
            unit: spec.unit.to_owned(),
            quantity: spec.quantity,
            about: spec.about.to_owned(),
        }
    }
}

impl SeriesInfo {
    /// The unit values are shown in (`%` for a ratio).
    pub fn shown_unit(&self) -> &str {
        self.quantity.shown_unit(&self.unit)
    }

    /// `value` in the shown unit.
    pub fn shown(&self, value: f64) -> f64 {
        self.quantity.shown(value)
    }
}

/// The values of a run's series (`series.csv`): one row per metrics window.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SeriesTable {
    /// Window starts, seconds, strictly increasing.
    pub t_s: Vec<f64>,
    /// One column per declared series (in `summary.series` order), each as long as
    /// `t_s`; NaN where a window has no value (an availability with nothing offered).
    pub columns: Vec<Vec<f64>>,
}

impl SeriesTable {
    /// Checks the shape: a column per declaration, each as long as `t_s`, window starts
    /// finite, at or after 0 s and strictly increasing.
    pub fn check(&self, declared: usize) -> Result<(), String> {
        if self.columns.len() != declared {
            return Err(format!(
                "{} series columns for {declared} declared series",
                self.columns.len()
            ));
        }
        for (index, column) in self.columns.iter().enumerate() {
            if column.len() != self.t_s.len() {
                return Err(format!(
                    "series {index} has {} values for {} windows",
                    column.len(),
                    self.t_s.len()
                ));
            }
        }
        let mut previous = f64::NEG_INFINITY;
        for (row, &t_s) in self.t_s.iter().enumerate() {
            if !(t_s.is_finite() && t_s >= 0.0 && t_s > previous) {
                return Err(format!(
                    "window {row}: start {t_s} s is not a time after the previous window's ({previous} s)"
                ));
            }
            previous = t_s;
        }
        Ok(())
    }
}

/// A table a workload declares in its record: a title, column heads, rows of text.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordTable {
    /// Key (`snapshots`).
    pub name: String,
    /// Heading (`Snapshots`).
    pub title: String,
    /// What a row is, for the caption.
    #[serde(default)]
    pub about: String,
    /// Column heads, units in brackets (`started (s)`).
    pub columns: Vec<String>,
    /// Rows, each as long as `columns`.
    pub rows: Vec<Vec<String>>,
    /// Rows left out (the table keeps the first ones).
    #[serde(default)]
    pub more: u64,
}

/// Most rows a workload's table keeps in a record; the rest are counted in
/// [`RecordTable::more`].
pub const MAX_TABLE_ROWS: usize = 200;

impl RecordTable {
    /// A table with these columns and no rows.
    pub fn new(name: &str, title: &str, about: &str, columns: &[&str]) -> RecordTable {
        RecordTable {
            name: name.to_owned(),
            title: title.to_owned(),
            about: about.to_owned(),
            columns: columns.iter().map(|c| (*c).to_owned()).collect(),
            rows: Vec::new(),
            more: 0,
        }
    }

    /// Adds a row, or counts it once [`MAX_TABLE_ROWS`] are kept.
    pub fn push(&mut self, row: Vec<String>) {
        assert_eq!(row.len(), self.columns.len(), "a row per column");
        if self.rows.len() < MAX_TABLE_ROWS {
            self.rows.push(row);
        } else {
            self.more += 1;
        }
    }
}

/// A window's `count` as a rate per second (NaN for a window of no length).
pub fn per_second(count: u64, window_s: f64) -> f64 {
    if window_s > 0.0 {
        count as f64 / window_s
    } else {
        f64::NAN
    }
}

/// The figures of `figures` by name.
pub fn find<'a>(figures: &'a [Figure], name: &str) -> Option<&'a Figure> {
    figures.iter().find(|figure| figure.info.name == name)
}

/// A figure's value by name (`None` when not declared or not measured).
pub fn value(figures: &[Figure], name: &str) -> Option<f64> {
    find(figures, name).and_then(|figure| figure.value)
}

/// The declarations of `specs`, values aligned with them.
pub fn figures_of(specs: &[FigureSpec], values: Vec<Option<f64>>) -> Vec<Figure> {
    assert_eq!(specs.len(), values.len(), "one value per declared figure");
    specs
        .iter()
        .zip(values)
        .map(|(spec, value)| Figure {
            info: FigureInfo::from(spec),
            value: value.filter(|v| v.is_finite()),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPEC: FigureSpec = FigureSpec {
        name: "availability",
        label: "availability",
        unit: "fraction",
        better: Better::Higher,
        quantity: Quantity::Ratio,
        aggregate: Aggregate::Mean,
        headline: true,
        about: "succeeded / resolved",
    };

    #[test]
    fn ratios_show_as_percentages_and_counts_as_whole_numbers() {
        let info = FigureInfo::from(&SPEC);
        assert_eq!(info.format(Some(0.98765)), "98.765");
        assert_eq!(info.head(), "availability (%)");
        assert_eq!(info.format(None), "-");
        let count = FigureInfo {
            quantity: Quantity::Count,
            unit: "units".into(),
            ..info.clone()
        };
        assert_eq!(count.format(Some(59972.0)), "59,972");
        assert_eq!(count.format(Some(-28.0)), "-28");
        // A mean of counts keeps its fraction.
        assert_eq!(count.format(Some(2.5)), "2.50");
        assert_eq!(count.format(Some(41999.98)), "41,999.98");
        assert_eq!(count.format(Some(-0.5)), "-0.50");
        let duration = FigureInfo {
            quantity: Quantity::Duration,
            unit: "ms".into(),
            ..info.clone()
        };
        assert_eq!(duration.format(Some(2694.84)), "2,694.8");
        assert_eq!(duration.format(Some(-0.001)), "0.00");
        assert_eq!(duration.format(Some(999.999)), "1,000.00");
        assert_eq!(info.worse(0.9, 0.95), Some(true));
    }

    #[test]
    fn a_record_figure_round_trips_with_its_declaration_flat() {
        let figures = figures_of(&[SPEC], vec![Some(0.5)]);
        let text = serde_json::to_string(&figures[0]).unwrap();
        assert!(text.contains("\"name\":\"availability\""), "{text}");
        assert!(text.contains("\"value\":0.5"), "{text}");
        let back: Figure = serde_json::from_str(&text).unwrap();
        assert_eq!(back, figures[0]);
        // A NaN is "not measured".
        assert_eq!(figures_of(&[SPEC], vec![Some(f64::NAN)])[0].value, None);
    }

    #[test]
    fn a_series_table_must_match_its_declarations() {
        let table = SeriesTable {
            t_s: vec![0.0, 1.0],
            columns: vec![vec![1.0, 2.0]],
        };
        assert!(table.check(1).is_ok());
        assert!(table.check(2).is_err());
        let backwards = SeriesTable {
            t_s: vec![1.0, 0.0],
            columns: vec![vec![1.0, 2.0]],
        };
        assert!(backwards.check(1).unwrap_err().contains("window 1"));
    }
}
