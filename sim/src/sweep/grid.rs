//! A grid of one scenario, two fields varied (`compare --vary A=.. --vary B=..`): every
//! cell is a sweep of the same seeds ([`super::execute_cells`] runs all cells' seeds in
//! one pool), written as a sweep directory of its own under `cells/<a>/<b>/`, and
//! `map.json` holds each cell's numbers: the seeds judged metastable, with Wilson's
//! interval, and the median recovery time. Those numbers are computed from the cell's
//! `sweep.json` alone ([`CellNumbers::of`]), so a rebuild or a merge of shards gives them
//! again, and `map.json`, like `sweep.json`, depends on nothing but the scenario, the
//! settings and the seeds: the shards of a grid merged give the unsharded file.

use std::path::Path;

use faultline_reports::{MapCell, MapPage};
use serde::{Deserialize, Serialize};

use super::record::{self, SweepFile, TimingFile};
use super::seeds::{SeedRange, Shard};
use super::stats::{spread, wilson_95};
use super::Outcome;

/// The grid's records file.
pub const MAP_FILE: &str = "map.json";

/// `format` of `map.json`.
pub const MAP_FORMAT: &str = "faultline-map/1";

/// The directory under the grid's that holds one sweep directory per cell.
pub const CELLS_DIR: &str = "cells";

/// Most values per axis: a heatmap draws at most this many rows or columns.
pub const MAX_AXIS: usize = faultline_reports::plots::heatmap::MAX_AXIS;

/// Most runs (cells times seeds) one grid may hold; a shard counts the whole grid.
pub const MAX_GRID_RUNS: u64 = 100_000;

/// Most bytes `map.json` may have: [`MAX_AXIS`] squared cells of a few hundred bytes.
pub const MAX_MAP_BYTES: u64 = 16 << 20;

/// The figure whose seeds above 0 are the metastable ones.
pub const METASTABLE_FIGURE: &str = "metastable";

/// The figure holding a run's slowest recovery to the baseline, ms.
pub const RECOVERY_FIGURE: &str = "recovery_ms";

/// One varied field: its path as error messages write it, its values as written, and
/// each value's directory name.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Axis {
    /// The field (`faults[0].for`).
    pub path: String,
    /// The values as written (`5s`).
    pub values: Vec<String>,
    /// Each value's directory name under `cells/` (rows) or a row's (columns).
    pub dirs: Vec<String>,
}

/// One cell's numbers, from its `sweep.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CellNumbers {
    /// Its row (index of the first field's value).
    pub row: usize,
    /// Its column (index of the second field's value).
    pub column: usize,
    /// Its sweep directory, relative to the grid's (`cells/5/10s`).
    pub dir: String,
    /// Seeds run.
    pub runs: u64,
    /// Seeds that failed a check or did not complete.
    pub failed: u64,
    /// Seeds with a verdict (the `metastable` figure measured).
    pub judged: u64,
    /// Seeds judged metastable.
    pub metastable: u64,
    /// `metastable / judged`; `None` when nothing was judged.
    pub metastable_fraction: Option<f64>,
    /// Wilson's 95 % score interval of that fraction.
    pub metastable_ci95: Option<[f64; 2]>,
    /// Seeds with a recovery time (`recovery_ms` measured).
    pub recovered: u64,
    /// The median (nearest rank, the lower of two) of those times, seconds.
    pub recovery_s_median: Option<f64>,
}

impl CellNumbers {
    /// The numbers of the cell at `row`, `column` in `dir`, from its sweep file.
    pub fn of(row: usize, column: usize, dir: &str, file: &SweepFile) -> CellNumbers {
        let judged: Vec<f64> = file
            .runs
            .iter()
            .filter_map(|run| run.figure(METASTABLE_FIGURE))
            .collect();
        let metastable = judged.iter().filter(|v| **v > 0.0).count() as u64;
        let recoveries: Vec<f64> = file
            .runs
            .iter()
            .filter_map(|run| run.figure(RECOVERY_FIGURE))
            .map(|ms| ms / 1e3)
            .collect();
        let recovery = spread(&recoveries);
        let n = judged.len() as u64;
        CellNumbers {
            row,
            column,
            dir: dir.to_owned(),
            runs: file.totals.runs,
            failed: file.totals.failed + file.totals.errors,
            judged: n,
            metastable,
            metastable_fraction: (n > 0).then(|| metastable as f64 / n as f64),
            metastable_ci95: wilson_95(metastable, n),
            recovered: recovery.n,
            recovery_s_median: recovery.p50,
        }
    }
}

/// `map.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MapFile {
    /// [`MAP_FORMAT`].
    pub format: String,
    /// The title.
    pub title: String,
    /// Scenario name.
    pub scenario: String,
    /// The scenario file as given.
    pub scenario_path: String,
    /// The `--set` values of every cell, as given.
    pub set: Vec<String>,
    /// The first varied field: the rows.
    pub rows: Axis,
    /// The second varied field: the columns.
    pub columns: Axis,
    /// The seeds every cell runs.
    pub seeds: SeedRange,
    /// The slice of every cell's seeds this grid holds; absent for a whole grid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<Shard>,
    /// The command that made the grid, without `--out` or `--shard`.
    pub command: String,
    /// Every cell, row by row.
    pub cells: Vec<CellNumbers>,
}

/// Whether `dir` is one plain directory name (no separator, not hidden, not empty).
fn plain(dir: &str) -> bool {
    !dir.is_empty() && !dir.starts_with('.') && !dir.contains(['/', '\\'])
}

impl MapFile {
    /// The cell directory of `row`, `column`, relative to the grid's.
    pub fn cell_dir(rows: &Axis, columns: &Axis, row: usize, column: usize) -> String {
        format!("{CELLS_DIR}/{}/{}", rows.dirs[row], columns.dirs[column])
    }

    /// The file as written: pretty JSON with a final newline.
    pub fn to_text(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).expect("a map file serializes");
        text.push('\n');
        text
    }

    /// Reads `DIR/map.json`, checked by [`MapFile::check`]; an error names the file and
    /// the field.
    pub fn load(dir: &Path) -> Result<MapFile, String> {
        let path = dir.join(MAP_FILE);
        let text = faultline_reports::io::read_record(&path, MAX_MAP_BYTES)
            .map_err(|err| err.to_string())?;
        let file: MapFile = serde_json::from_str(&text)
            .map_err(|err| format!("{}: not a map file: {err}", path.display()))?;
        file.check()
            .map_err(|err| format!("{}: {err}", path.display()))?;
        Ok(file)
    }

    /// Checks what a rebuild or a merge relies on before anything is sized by it: the
    /// format, each axis of 1 to [`MAX_AXIS`] values with a plain directory name each,
    /// the seeds and shard, and one cell per pair, row by row, in its directory.
    pub fn check(&self) -> Result<(), String> {
        if self.format != MAP_FORMAT {
            return Err(format!(
                "format: {:?}, this faultline reads {MAP_FORMAT:?}",
                self.format
            ));
        }
        for (name, axis) in [("rows", &self.rows), ("columns", &self.columns)] {
            if axis.values.is_empty() || axis.values.len() > MAX_AXIS {
                return Err(format!(
                    "{name}.values: {} values, expected 1 to {MAX_AXIS}",
                    axis.values.len()
                ));
            }
            if axis.dirs.len() != axis.values.len() {
                return Err(format!(
                    "{name}.dirs: {} directories for {} values",
                    axis.dirs.len(),
                    axis.values.len()
                ));
            }
            if let Some((i, dir)) = axis.dirs.iter().enumerate().find(|(_, d)| !plain(d)) {
                return Err(format!(
                    "{name}.dirs[{i}]: {dir:?} is not a plain directory name"
                ));
            }
        }
        check_runs(
            self.rows.values.len(),
            self.columns.values.len(),
            self.seeds,
        )?;
        if let Some(shard) = self.shard {
            Shard::new(shard.index, shard.count).map_err(|err| format!("shard: {err}"))?;
        }
        let columns = self.columns.values.len();
        let expected = self.rows.values.len() * columns;
        if self.cells.len() != expected {
            return Err(format!(
                "cells: {} cells, but {} rows by {columns} columns make {expected}",
                self.cells.len(),
                self.rows.values.len()
            ));
        }
        for (i, cell) in self.cells.iter().enumerate() {
            let (row, column) = (i / columns, i % columns);
            let dir = MapFile::cell_dir(&self.rows, &self.columns, row, column);
            if cell.row != row || cell.column != column || cell.dir != dir {
                return Err(format!(
                    "cells[{i}]: row {}, column {}, dir {:?}; expected row {row}, column \
                     {column}, dir {dir:?} (row by row)",
                    cell.row, cell.column, cell.dir
                ));
            }
        }
        Ok(())
    }

    /// What the page and the terminal table show.
    pub fn page(&self) -> MapPage {
        MapPage {
            title: self.title.clone(),
            scenario_path: self.scenario_path.clone(),
            seeds: self.seeds.to_string(),
            sets: self.set.clone(),
            row_path: self.rows.path.clone(),
            column_path: self.columns.path.clone(),
            rows: self.rows.values.clone(),
            columns: self.columns.values.clone(),
            cells: self
                .cells
                .iter()
                .map(|cell| MapCell {
                    runs: cell.runs,
                    failed: cell.failed,
                    judged: cell.judged,
                    metastable: cell.metastable,
                    ci95: cell.metastable_ci95,
                    recovered: cell.recovered,
                    recovery_s: cell.recovery_s_median,
                    link: format!("{}/sweep.html", cell.dir),
                })
                .collect(),
            command: self.command.clone(),
        }
    }

    /// This file with every cell's numbers computed from `files` (row by row), and
    /// `shard` as theirs.
    pub fn with_cells(&self, files: &[SweepFile], shard: Option<Shard>) -> MapFile {
        debug_assert_eq!(
            files.len(),
            self.rows.values.len() * self.columns.values.len()
        );
        let columns = self.columns.values.len();
        MapFile {
            shard,
            cells: files
                .iter()
                .enumerate()
                .map(|(i, file)| {
                    let (row, column) = (i / columns, i % columns);
                    let dir = MapFile::cell_dir(&self.rows, &self.columns, row, column);
                    CellNumbers::of(row, column, &dir, file)
                })
                .collect(),
            ..self.clone()
        }
    }
}

/// Refuses a grid of more than [`MAX_AXIS`] values an axis or [`MAX_GRID_RUNS`] runs
/// (cells times seeds), before anything is allocated or run.
pub fn check_runs(rows: usize, columns: usize, seeds: SeedRange) -> Result<(), String> {
    if rows > MAX_AXIS || columns > MAX_AXIS {
        return Err(format!(
            "a grid of {rows} by {columns} values: at most {MAX_AXIS} values per --vary"
        ));
    }
    let runs = (rows as u64)
        .saturating_mul(columns as u64)
        .saturating_mul(seeds.len());
    if runs > MAX_GRID_RUNS {
        return Err(format!(
            "a grid of {rows} by {columns} cells over {} seeds is {runs} runs, more than the \
             limit of {MAX_GRID_RUNS}; give fewer values or fewer --seeds",
            seeds.len()
        ));
    }
    Ok(())
}

/// Writes the grid into `out`: each cell's sweep directory (its `sweep.json`,
/// `timing.json` and report, with `run_roots(i)` the directories holding cell `i`'s
/// failed runs), then `map.json`, `map.html`, `map.md` and the heatmap.
pub fn write(
    out: &Path,
    map: &MapFile,
    outcomes: &[Outcome],
    run_roots: impl Fn(usize) -> Vec<std::path::PathBuf>,
) -> Result<(), String> {
    debug_assert_eq!(outcomes.len(), map.cells.len());
    for (i, (cell, outcome)) in map.cells.iter().zip(outcomes).enumerate() {
        super::write(&out.join(&cell.dir), outcome, &run_roots(i))?;
    }
    super::write_file(&out.join(MAP_FILE), map.to_text().as_bytes())?;
    faultline_reports::write_map(out, &map.page()).map_err(|err| err.to_string())?;
    Ok(())
}

/// Reads the cells' sweep and timing files of the grid in `dir`, row by row.
pub fn load_cells(dir: &Path, map: &MapFile) -> Result<Vec<Outcome>, String> {
    map.cells
        .iter()
        .map(|cell| {
            let cell_dir = dir.join(&cell.dir);
            Ok(Outcome {
                file: SweepFile::load(&cell_dir)?,
                timing: TimingFile::load(&cell_dir)?,
            })
        })
        .collect()
}

/// Merges the shards of one grid (`parts`, each a map file and its cells' outcomes):
/// every cell's shards merged as a sweep's ([`record::merge`]), so each cell's
/// `sweep.json`, and `map.json`, equal the unsharded grid's.
pub fn merge(parts: Vec<(MapFile, Vec<Outcome>)>) -> Result<(MapFile, Vec<Outcome>), String> {
    let (first, _) = parts.first().ok_or("no grids to merge")?;
    let same = |map: &MapFile| MapFile {
        shard: None,
        cells: Vec::new(),
        ..map.clone()
    };
    let base = same(first);
    if let Some((other, _)) = parts.iter().find(|(map, _)| same(map) != base) {
        return Err(format!(
            "these grids differ: {} ({} x {}, seeds {}) against {} ({} x {}, seeds {}); merge \
             only the shards of one grid",
            first.command,
            first.rows.path,
            first.columns.path,
            first.seeds,
            other.command,
            other.rows.path,
            other.columns.path,
            other.seeds
        ));
    }
    let cells = first.cells.len();
    let mut merged = Vec::with_capacity(cells);
    for cell in 0..cells {
        let files = parts
            .iter()
            .map(|(_, outcomes)| outcomes[cell].file.clone())
            .collect();
        let file =
            record::merge(files).map_err(|err| format!("{}: {err}", first.cells[cell].dir))?;
        let timing =
            record::merge_timing(parts.iter().map(|(_, o)| o[cell].timing.clone()).collect());
        merged.push(Outcome { file, timing });
    }
    let files: Vec<SweepFile> = merged.iter().map(|o| o.file.clone()).collect();
    Ok((base.with_cells(&files, None), merged))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sweep::record::{totals, SeedRun, FORMAT};
    use faultline_reports::figures::FigureInfo;
    use std::collections::BTreeMap;

    fn file(figures: &[(Option<f64>, Option<f64>)], shard: Option<Shard>) -> SweepFile {
        let declared: Vec<FigureInfo> = crate::workload::rpc::figures::FIGURES
            .iter()
            .map(FigureInfo::from)
            .collect();
        let seeds = SeedRange {
            start: 1,
            end: 1 + figures.len() as u64,
        };
        let runs: Vec<SeedRun> = seeds
            .seeds(shard)
            .into_iter()
            .map(|seed| {
                let (metastable, recovery_ms) = figures[(seed - 1) as usize];
                let mut values = BTreeMap::new();
                if let Some(m) = metastable {
                    values.insert(METASTABLE_FIGURE.to_owned(), m);
                }
                if let Some(ms) = recovery_ms {
                    values.insert(RECOVERY_FIGURE.to_owned(), ms);
                }
                SeedRun {
                    seed,
                    passed: metastable != Some(1.0),
                    figures: values,
                    events: 1,
                    trace_hash: String::new(),
                    checks: Vec::new(),
                    error: None,
                    swarm: Vec::new(),
                    reproduce: None,
                }
            })
            .collect();
        SweepFile {
            format: FORMAT.to_owned(),
            scenario: "s".into(),
            scenario_path: "s.json".into(),
            scenario_digest: "d".into(),
            workload: "rpc".into(),
            totals: totals(&declared, &runs),
            figures: declared,
            set: Vec::new(),
            seeds,
            shard,
            runs,
        }
    }

    fn axis(path: &str, values: &[&str]) -> Axis {
        Axis {
            path: path.into(),
            values: values.iter().map(|v| (*v).to_owned()).collect(),
            dirs: values.iter().map(|v| (*v).to_owned()).collect(),
        }
    }

    fn map(cells: &[SweepFile], shard: Option<Shard>) -> MapFile {
        MapFile {
            format: MAP_FORMAT.into(),
            title: "t".into(),
            scenario: "s".into(),
            scenario_path: "s.json".into(),
            set: Vec::new(),
            rows: axis("a", &["1", "2"]),
            columns: axis("b", &["x"]),
            seeds: cells[0].seeds,
            shard: None,
            command: "faultline compare s.json".into(),
            cells: Vec::new(),
        }
        .with_cells(cells, shard)
    }

    const SEEDS: [(Option<f64>, Option<f64>); 4] = [
        (Some(1.0), None),
        (Some(0.0), Some(4000.0)),
        (None, None),
        (Some(0.0), Some(2000.0)),
    ];

    #[test]
    fn a_cell_counts_judged_metastable_and_recovered_seeds() {
        let cell = CellNumbers::of(1, 0, "cells/2/x", &file(&SEEDS, None));
        assert_eq!((cell.runs, cell.failed), (4, 1));
        assert_eq!((cell.judged, cell.metastable, cell.recovered), (3, 1, 2));
        assert_eq!(cell.metastable_fraction, Some(1.0 / 3.0));
        assert_eq!(cell.metastable_ci95, wilson_95(1, 3));
        // The lower of two middle values, in seconds.
        assert_eq!(cell.recovery_s_median, Some(2.0));
        let none = CellNumbers::of(0, 0, "cells/1/x", &file(&[(None, None)], None));
        assert_eq!(
            (none.metastable_fraction, none.metastable_ci95),
            (None, None)
        );
    }

    #[test]
    fn check_refuses_an_edited_map() {
        let cells = [file(&SEEDS, None), file(&SEEDS, None)];
        let good = map(&cells, None);
        assert_eq!(good.check(), Ok(()));
        let edited = |edit: &dyn Fn(&mut MapFile)| {
            let mut map = good.clone();
            edit(&mut map);
            map.check().unwrap_err()
        };
        assert!(edited(&|m| m.format = "faultline-map/0".into()).starts_with("format:"));
        assert!(edited(&|m| m.rows.dirs[1] = "../up".into()).starts_with("rows.dirs[1]:"));
        assert!(edited(&|m| {
            m.columns.values.clear();
        })
        .starts_with("columns.values: 0 values"));
        assert!(edited(&|m| {
            m.cells.pop();
        })
        .starts_with("cells: 1 cells"));
        assert!(edited(&|m| m.cells.swap(0, 1)).starts_with("cells[0]:"));
        assert!(edited(&|m| m.seeds.end = 200_000).contains("limit of 100000"));
    }

    #[test]
    fn shards_merge_to_the_whole_grid_and_other_grids_do_not() {
        let whole = map(&[file(&SEEDS, None), file(&SEEDS, None)], None);
        let part = |index: u64| {
            let shard = Shard::new(index, 2).unwrap();
            let cells = [file(&SEEDS, Some(shard)), file(&SEEDS, Some(shard))];
            let outcomes = cells
                .iter()
                .map(|file| Outcome {
                    file: file.clone(),
                    timing: TimingFile {
                        parts: Vec::new(),
                        runs: Vec::new(),
                    },
                })
                .collect();
            (map(&cells, Some(shard)), outcomes)
        };
        let (merged, _) = merge(vec![part(1), part(0)]).unwrap();
        assert_eq!(merged.to_text(), whole.to_text());
        let mut other = part(1);
        other.0.command.push_str(" --set x=1");
        let err = merge(vec![part(0), other]).unwrap_err();
        assert!(err.contains("these grids differ"), "{err}");
        let err = merge(vec![part(0)]).unwrap_err();
        assert!(err.contains("shards missing: 1/2"), "{err}");
    }
}
