//! The metastability map's page (`map.html`, `map.md`), its heatmap (`map.svg`,
//! `map.png`) and the table the CLI prints: a grid of two varied fields, each cell the
//! fraction of its seeds judged metastable (with Wilson's 95 % interval) and the median
//! recovery time of the seeds that recovered.
//!
//! Built from the numbers alone ([`MapPage`]), which the CLI computes from each cell's
//! `sweep.json`; the same numbers give byte-identical files.

use std::path::{Path, PathBuf};

use maud::{html, PreEscaped};

use super::{ensure_dir, page};
use crate::error::ReportError;
use crate::io::write_file;
use crate::plots::heatmap::{self, HeatCell, Heatmap, MAX_AXIS};
use crate::text::{fixed, md_code, md_text, Align, Table};

/// The heatmap's base name (`map.svg`, `map.png`).
pub const MAP_PLOT: &str = "map";

/// One cell of the map: the numbers of its seeds.
#[derive(Clone, Debug, PartialEq)]
pub struct MapCell {
    /// Seeds run.
    pub runs: u64,
    /// Seeds that failed a check or did not complete.
    pub failed: u64,
    /// Seeds with a verdict (a fault or spike ended with warm-up windows before it).
    pub judged: u64,
    /// Seeds judged metastable.
    pub metastable: u64,
    /// Wilson's 95 % interval of `metastable / judged`; `None` when nothing was judged.
    pub ci95: Option<[f64; 2]>,
    /// Seeds that recovered (with a recovery time).
    pub recovered: u64,
    /// Median recovery time of those seeds, seconds.
    pub recovery_s: Option<f64>,
    /// The cell's own report, relative to the map's directory.
    pub link: String,
}

impl MapCell {
    /// The fraction of judged seeds that were metastable.
    pub fn fraction(&self) -> Option<f64> {
        (self.judged > 0).then(|| self.metastable as f64 / self.judged as f64)
    }

    /// The median recovery in words: `4.0 s`, or `—` when no seed recovered.
    fn recovery_text(&self) -> String {
        self.recovery_s
            .map_or_else(|| "—".to_owned(), |s| format!("{} s", fixed(s, 1)))
    }

    /// The cell in a few words: `60 % (23-88) 4.0 s`, or `—` without a verdict.
    pub fn text(&self) -> String {
        match (self.fraction(), self.ci95) {
            (Some(f), Some([low, high])) => format!(
                "{} % ({}-{}) {}",
                fixed(100.0 * f, 0),
                fixed(100.0 * low, 0),
                fixed(100.0 * high, 0),
                self.recovery_text()
            ),
            _ => "—".to_owned(),
        }
    }

    /// The hover text: every number of the cell.
    fn tip(&self, row: &str, column: &str) -> String {
        let verdict = match (self.fraction(), self.ci95) {
            (Some(f), Some([low, high])) => format!(
                "metastable in {} of {} seeds judged ({} %, 95% CI {}-{} %)",
                self.metastable,
                self.judged,
                fixed(100.0 * f, 0),
                fixed(100.0 * low, 1),
                fixed(100.0 * high, 1)
            ),
            _ => "no verdict: no fault or spike ended".to_owned(),
        };
        format!(
            "{row} x {column}: {verdict}; recovered in {} seeds, median {}; {} of {} seeds failed a check",
            self.recovered,
            self.recovery_text(),
            self.failed,
            self.runs
        )
    }
}

/// What the map's page shows.
#[derive(Clone, Debug, PartialEq)]
pub struct MapPage {
    /// The title.
    pub title: String,
    /// The scenario file as given.
    pub scenario_path: String,
    /// The seeds of every cell, in words (`42..47`).
    pub seeds: String,
    /// The `--set` values of every cell.
    pub sets: Vec<String>,
    /// The first varied field (rows).
    pub row_path: String,
    /// The second varied field (columns).
    pub column_path: String,
    /// The rows' values as written.
    pub rows: Vec<String>,
    /// The columns' values as written.
    pub columns: Vec<String>,
    /// The cells, row by row.
    pub cells: Vec<MapCell>,
    /// The command that made the map (without `--out`).
    pub command: String,
}

impl MapPage {
    fn check(&self) -> Result<(), ReportError> {
        let cells = self.rows.len() * self.columns.len();
        if self.rows.is_empty()
            || self.columns.is_empty()
            || self.rows.len() > MAX_AXIS
            || self.columns.len() > MAX_AXIS
            || self.cells.len() != cells
        {
            return Err(ReportError::Invalid {
                message: format!(
                    "map `{}`: {} rows by {} columns (1 to {MAX_AXIS} each) with {} cells",
                    self.title,
                    self.rows.len(),
                    self.columns.len(),
                    self.cells.len()
                ),
            });
        }
        Ok(())
    }

    fn table(&self, label: impl Fn(&str) -> String) -> Table {
        let corner = format!("{} \\ {}", self.row_path, self.column_path);
        let mut headers: Vec<(String, Align)> = vec![(label(&corner), Align::Left)];
        headers.extend(self.columns.iter().map(|c| (label(c), Align::Right)));
        let heads: Vec<(&str, Align)> = headers.iter().map(|(h, a)| (h.as_str(), *a)).collect();
        let mut table = Table::new(&heads);
        for (r, row) in self.rows.iter().enumerate() {
            let mut line = vec![label(row)];
            line.extend(
                self.cells[r * self.columns.len()..(r + 1) * self.columns.len()]
                    .iter()
                    .map(MapCell::text),
            );
            table.push(line);
        }
        table
    }

    fn heatmap(&self) -> Heatmap {
        let columns = self.columns.len();
        Heatmap {
            title: self.title.clone(),
            caption: format!(
                "colour: seeds metastable; text: that share, then the median recovery of the seeds that recovered (seeds {})",
                self.seeds
            ),
            note: if self.sets.is_empty() {
                String::new()
            } else {
                format!("every cell with --set {}", self.sets.join(" --set "))
            },
            row_label: format!("rows: {} (values as written)", self.row_path),
            column_label: format!("columns: {} (values as written)", self.column_path),
            rows: self.rows.clone(),
            columns: self.columns.clone(),
            cells: self
                .cells
                .iter()
                .enumerate()
                .map(|(i, cell)| HeatCell {
                    value: cell.fraction(),
                    text: cell.fraction().map_or_else(
                        || "—".to_owned(),
                        |f| format!("{} % metastable", fixed(100.0 * f, 0)),
                    ),
                    subtext: match (cell.fraction(), cell.recovery_s) {
                        (None, _) => "no verdict".to_owned(),
                        (Some(_), Some(s)) => format!("recovered {} s", fixed(s, 1)),
                        (Some(_), None) => "none recovered".to_owned(),
                    },
                    tip: cell.tip(&self.rows[i / columns], &self.columns[i % columns]),
                })
                .collect(),
            scale_label: "seeds judged metastable".to_owned(),
        }
    }
}

/// What each cell of the table shows, one sentence.
pub const CELL_LEGEND: &str = "each cell: seeds metastable % (Wilson 95 % CI), median recovery of the seeds that recovered (— none); — alone: no fault or spike ended";

/// The aligned table the CLI prints: rows the first field's values, columns the
/// second's, and a line saying what a cell holds.
pub fn map_table(map: &MapPage) -> String {
    let mut text = map.table(str::to_owned).to_text(true);
    text.push_str(CELL_LEGEND);
    text.push('\n');
    text
}

/// Writes `map.html`, `map.md` and the heatmap (`map.svg`, `map.png`) into `dir`;
/// returns the paths written.
pub fn write_map(dir: &Path, map: &MapPage) -> Result<Vec<PathBuf>, ReportError> {
    map.check()?;
    ensure_dir(dir)?;
    let plot = heatmap::heatmap(dir, MAP_PLOT, &map.heatmap())?;
    let svg = match plot.svg.find("<svg") {
        Some(i) => &plot.svg[i..],
        None => plot.svg.as_str(),
    };
    let columns = map.columns.len();
    let caption = "The metastability map. Colour: the share of each cell's seeds judged metastable (white none, dark red all; grey: no verdict, no fault or spike ended). Text: that share, and the median time from the fault's end back to the warm-up baseline over the seeds that recovered. Hover a cell for its counts; each cell links its sweep report below.";
    let body = html! {
        h1 { "Faultline metastability map: " (map.title) }
        p class="desc" {
            "Scenario " code { (map.scenario_path) } ", rows " code { (map.row_path) }
            ", columns " code { (map.column_path) } ", seeds " (map.seeds) " in every cell"
            @if !map.sets.is_empty() { ", with " @for (i, s) in map.sets.iter().enumerate() { @if i > 0 { ", " } code { "--set " (s) } } }
            ". Made by " code { (map.command) } "."
        }
        figure id="plot-map" {
            (PreEscaped(svg.trim_end()))
            figcaption { (caption) }
        }
        h2 { "The grid" }
        div class="scroll" {
            table class="cmp" {
                thead { tr {
                    th { (map.row_path) " \\ " (map.column_path) }
                    @for c in &map.columns { th class="num" { (c) } }
                } }
                tbody { @for (r, row) in map.rows.iter().enumerate() { tr {
                    td { (row) }
                    @for cell in &map.cells[r * columns..(r + 1) * columns] {
                        td class="num" { a href=(cell.link) { (cell.text()) } }
                    }
                } } }
            }
        }
        p { (CELL_LEGEND) "." }
        h2 { "Cells" }
        div class="scroll" {
            table {
                thead { tr {
                    th { (map.row_path) } th { (map.column_path) }
                    th class="num" { "seeds" } th class="num" { "judged" } th class="num" { "metastable" }
                    th class="num" { "95% CI (%)" } th class="num" { "recovered" } th class="num" { "median recovery (s)" }
                    th class="num" { "failed a check" } th { "report" }
                } }
                tbody { @for (i, cell) in map.cells.iter().enumerate() { tr {
                    td { (map.rows[i / columns]) } td { (map.columns[i % columns]) }
                    td class="num" { (cell.runs) } td class="num" { (cell.judged) } td class="num" { (cell.metastable) }
                    td class="num" { (cell.ci95.map_or_else(|| "—".to_owned(), |[l, h]| format!("{}-{}", fixed(100.0 * l, 1), fixed(100.0 * h, 1)))) }
                    td class="num" { (cell.recovered) }
                    td class="num" { (cell.recovery_s.map_or_else(|| "—".to_owned(), |s| fixed(s, 2))) }
                    td class="num" { (cell.failed) }
                    td class="wrap" { a href=(cell.link) { (cell.link) } }
                } } }
            }
        }
    };
    let html_path = dir.join("map.html");
    write_file(
        &html_path,
        page(&format!("Faultline metastability map: {}", map.title), body).as_bytes(),
    )?;

    let mut m = format!("# Faultline metastability map: {}\n\n", md_text(&map.title));
    m.push_str(&format!(
        "Scenario {}, rows {}, columns {}, seeds {} in every cell",
        md_code(&map.scenario_path),
        md_code(&map.row_path),
        md_code(&map.column_path),
        md_text(&map.seeds)
    ));
    for (i, set) in map.sets.iter().enumerate() {
        m.push_str(if i == 0 { ", with " } else { ", " });
        m.push_str(&md_code(&format!("--set {set}")));
    }
    m.push_str(&format!(". Made by {}.\n\n", md_code(&map.command)));
    m.push_str(&format!("![map]({MAP_PLOT}.png)\n\n{caption}\n\n"));
    m.push_str("## The grid\n\n");
    m.push_str(&map.table(md_text).to_markdown());
    m.push_str(&format!("\n{CELL_LEGEND}.\n\n## Cells\n\n"));
    for (i, cell) in map.cells.iter().enumerate() {
        m.push_str(&format!(
            "- {} = {}, {} = {}: {}; [report]({})\n",
            md_code(&map.row_path),
            md_code(&map.rows[i / columns]),
            md_code(&map.column_path),
            md_code(&map.columns[i % columns]),
            md_text(&cell.tip(&map.rows[i / columns], &map.columns[i % columns])),
            cell.link.replace(' ', "%20")
        ));
    }
    let md_path = dir.join("map.md");
    write_file(&md_path, m.as_bytes())?;
    Ok(vec![html_path, md_path, plot.svg_path, plot.png_path])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cell(judged: u64, metastable: u64, recovery_s: Option<f64>) -> MapCell {
        MapCell {
            runs: 5,
            failed: metastable,
            judged,
            metastable,
            ci95: (judged > 0).then_some([0.1, 0.9]),
            recovered: u64::from(recovery_s.is_some()),
            recovery_s,
            link: "cells/a/b/sweep.html".into(),
        }
    }

    #[test]
    fn a_cell_reads_share_interval_and_recovery_or_a_dash() {
        assert_eq!(cell(5, 3, Some(4.0)).text(), "60 % (10-90) 4.0 s");
        assert_eq!(cell(5, 5, None).text(), "100 % (10-90) —");
        assert_eq!(cell(0, 0, None).text(), "—");
    }

    #[test]
    fn the_table_has_a_row_per_first_value_and_a_column_per_second() {
        let map = MapPage {
            title: "t".into(),
            scenario_path: "s.json".into(),
            seeds: "1..6".into(),
            sets: Vec::new(),
            row_path: "a".into(),
            column_path: "b".into(),
            rows: vec!["1".into(), "2".into()],
            columns: vec!["x".into(), "y".into(), "z".into()],
            cells: vec![
                cell(5, 0, Some(1.0)),
                cell(5, 1, Some(2.0)),
                cell(5, 2, Some(3.0)),
                cell(5, 3, Some(4.0)),
                cell(5, 4, Some(5.0)),
                cell(0, 0, None),
            ],
            command: "faultline compare s.json".into(),
        };
        let text = map_table(&map);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 4, "{text}");
        assert!(
            lines[0].starts_with("a \\ b") && lines[0].ends_with('z'),
            "{text}"
        );
        assert!(lines[1].starts_with("1 ") && lines[1].contains("0 % (10-90) 1.0 s"));
        assert!(
            lines[2].starts_with("2 ") && lines[2].ends_with('—'),
            "{text}"
        );
        let mut broken = map.clone();
        broken.cells.pop();
        let dir = std::env::temp_dir().join(format!("faultline-map-{}", std::process::id()));
        assert!(write_map(&dir, &broken).is_err());
    }
}
