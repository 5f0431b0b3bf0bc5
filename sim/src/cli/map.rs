//! `faultline compare SCENARIO --vary A=a1,a2,.. --vary B=b1,b2,.. [--seeds N] [--seed S]
//! [--jobs N] [--shard I/N | --shards N] [--keep-runs] [--set PATH=VALUE]... [--out DIR]`
//!
//! The metastability map: one cell per pair of values, each cell a sweep of the same
//! `N` seeds from `S` on, every (cell, seed) run in one pool of `--jobs` through the
//! sweep machinery ([`crate::sweep::execute_cells`]); a shard runs its slice of every
//! cell's seeds, and `faultline report SHARD... --out DIR` merges them
//! ([`crate::sweep::grid::merge`]). Writes `cells/<a>/<b>/` (a sweep directory per
//! cell), `map.json` and the map's page and heatmap ([`faultline_reports::write_map`]),
//! and prints the grid. Exit 1 when a seed of any cell failed a check.

use std::path::{Path, PathBuf};

use crate::runner;
use crate::scenario::overrides::{self, parse_sets, shell_word, Set};
use crate::sweep::grid::{self, Axis, MapFile, CELLS_DIR, MAP_FILE, MAP_FORMAT};
use crate::sweep::seeds::SeedRange;
use crate::sweep::{self, Cell, Outcome, Prepared, SweepSpec};

use super::compare::{variant_dirs, CompareArgs};
use super::output;
use super::{Failure, EXIT_CHECK_FAILED, EXIT_OK};

/// Seeds per cell without `--seeds`: enough for a first look at a boundary (a cell all
/// metastable reads 100 %, 95% CI 57-100 %), few enough for a 4 x 4 grid in a minute.
pub const DEFAULT_SEEDS: u64 = 5;

/// Runs a grid; returns the exit code.
pub fn run(args: &CompareArgs) -> u8 {
    match grid(args) {
        Ok(code) => code,
        Err(failure) => {
            eprintln!("error: {}", failure.message);
            failure.code
        }
    }
}

/// One `--vary`: its path and values, and a directory per value.
fn axis(text: &str) -> Result<(overrides::FieldPath, Axis), String> {
    let (path, values) = overrides::parse_vary(text)?;
    let dirs = variant_dirs(&values);
    let axis = Axis {
        path: path.display(),
        values,
        dirs,
    };
    Ok((path, axis))
}

fn grid(args: &CompareArgs) -> Result<u8, Failure> {
    let sets = parse_sets(&args.sets)?;
    let (row_path, rows) = axis(&args.vary[0])?;
    let (column_path, columns) = axis(&args.vary[1])?;
    if rows.path == columns.path {
        return Err(format!(
            "--vary {} is given twice: a grid varies two different fields",
            rows.path
        )
        .into());
    }
    let count = args.seeds.unwrap_or(DEFAULT_SEEDS);
    if count == 0 {
        return Err("--seeds 0: give at least 1 seed per cell".into());
    }
    let shard = super::sweep::shard_source(args.shard.as_deref(), args.shards)?;
    let jobs = args.jobs.unwrap_or_else(runner::cores);
    if jobs == 0 {
        return Err("--jobs 0: give at least 1".into());
    }
    let text = crate::scenario::load::read_text(&args.scenario).map_err(|err| err.to_string())?;
    let base = Prepared::from_text(&text, &args.scenario, &sets)?;
    let start = args.seed.unwrap_or(base.base.seed);
    let end = start
        .checked_add(count)
        .ok_or_else(|| format!("--seed {start} --seeds {count}: the last seed is too large"))?;
    let seeds = SeedRange { start, end };
    // Bounded before any cell is built or run.
    grid::check_runs(rows.values.len(), columns.values.len(), seeds)?;
    let mut prepared = Vec::with_capacity(rows.values.len() * columns.values.len());
    for row in &rows.values {
        for column in &columns.values {
            let mut cell_sets = sets.clone();
            cell_sets.push(Set {
                path: row_path.clone(),
                value: row.clone(),
            });
            cell_sets.push(Set {
                path: column_path.clone(),
                value: column.clone(),
            });
            let cell = Prepared::from_text(&text, &args.scenario, &cell_sets).map_err(|err| {
                format!("cell {}={row}, {}={column}: {err}", rows.path, columns.path)
            })?;
            prepared.push(cell);
        }
    }
    let name = base.base.name.clone();
    let shard_name = shard.as_ref().map_or_else(String::new, |source| {
        format!("-shard-{}-of-{}", source.shard.index, source.shard.count)
    });
    let out = args.out.clone().unwrap_or_else(|| {
        PathBuf::from("runs").join(&name).join(format!(
            "map-{}-{}{}{shard_name}",
            super::compare::safe_label(&rows.path),
            super::compare::safe_label(&columns.path),
            output::set_suffix(&sets)
        ))
    });
    let mut words = output::set_args(&sets);
    words.push(format!("--vary {}", shell_word(&args.vary[0])));
    words.push(format!("--vary {}", shell_word(&args.vary[1])));
    words.push(format!("--seed {start}"));
    words.push(format!("--seeds {count}"));
    // The command in map.json: what made the whole grid (no --out, --jobs or --shard).
    let command = format!(
        "{} compare {} {}",
        shell_word(&overrides::program()),
        shell_word(&args.scenario.display().to_string()),
        words.join(" ")
    );
    if let Some(source) = &shard {
        words.push(format!("--shard {}", source.shard));
    }
    let staged = output::stage(&output::Request {
        out: &out,
        kind: output::Kind::Compare,
        source: output::source("compare", &args.scenario, &words),
        default: args.out.is_none(),
        inputs: std::slice::from_ref(&args.scenario),
    })?;
    let spec = SweepSpec {
        seeds,
        shard: shard.as_ref().map(|source| source.shard),
        jobs,
        out: staged.path().to_path_buf(),
        keep_runs: args.keep_runs,
    };
    let mut map = MapFile {
        format: MAP_FORMAT.to_owned(),
        title: format!("{name}: {} x {}", rows.path, columns.path),
        scenario: name,
        scenario_path: args.scenario.display().to_string(),
        set: sets.iter().map(ToString::to_string).collect(),
        rows,
        columns,
        seeds,
        shard: spec.shard,
        command,
        cells: Vec::new(),
    };
    let columns_n = map.columns.values.len();
    let cells: Vec<Cell> = prepared
        .into_iter()
        .enumerate()
        .map(|(i, prepared)| Cell {
            prepared,
            out: staged.path().join(MapFile::cell_dir(
                &map.rows,
                &map.columns,
                i / columns_n,
                i % columns_n,
            )),
        })
        .collect();
    let per_cell = seeds.seeds(spec.shard).len();
    let total = cells.len() * per_cell;
    match &shard {
        Some(source) => println!(
            "map          {} by {} cells, seeds {seeds}, shard {} ({}): {total} runs, --jobs {jobs}",
            map.rows.values.len(),
            columns_n,
            source.shard,
            source.from
        ),
        None => println!(
            "map          {} by {} cells, seeds {seeds}: {total} runs, --jobs {jobs}",
            map.rows.values.len(),
            columns_n
        ),
    }
    let bar = super::terminal_bar(
        total as u64,
        "{bar:30} {pos}/{len} runs  {per_sec}  ETA {eta}  {msg}",
    );
    let mut failed = 0u64;
    let outcomes = sweep::execute_cells(&cells, &spec, |_, run| {
        bar.inc(1);
        if !run.passed {
            failed += 1;
            bar.set_message(format!("{failed} failed"));
        }
    })
    .map_err(Failure::io)?;
    bar.finish_and_clear();
    let files: Vec<sweep::record::SweepFile> = outcomes.iter().map(|o| o.file.clone()).collect();
    map = map.with_cells(&files, spec.shard);
    let roots: Vec<PathBuf> = cells.iter().map(|cell| cell.out.clone()).collect();
    grid::write(staged.path(), &map, &outcomes, |i| vec![roots[i].clone()]).map_err(Failure::io)?;
    staged.commit()?;
    Ok(finish(&out, &map, &outcomes))
}

/// Prints the grid, where it is, and the first failure's command; the exit code.
fn finish(out: &Path, map: &MapFile, outcomes: &[Outcome]) -> u8 {
    match map.shard {
        Some(shard) => println!(
            "{} (seeds {}, shard {shard}: its seeds of each cell only)",
            map.title, map.seeds
        ),
        None => println!("{} (seeds {})", map.title, map.seeds),
    }
    print!("{}", faultline_reports::map_table(&map.page()));
    println!("records      {}", out.join(MAP_FILE).display());
    println!("report       {}", out.join("map.html").display());
    let failed: u64 = map.cells.iter().map(|cell| cell.failed).sum();
    let runs: u64 = map.cells.iter().map(|cell| cell.runs).sum();
    let first = map.cells.iter().zip(outcomes).find_map(|(cell, outcome)| {
        let file = &outcome.file;
        let seed = file.totals.first_failure?;
        let run = file.runs.iter().find(|run| run.seed == seed)?;
        Some((cell, run))
    });
    match first {
        Some((cell, run)) => {
            println!(
                "FAIL         {failed} of {runs} runs failed a check; the first, in {} = {}, {} = {}, seed {}, replays with:",
                map.rows.path,
                map.rows.values[cell.row],
                map.columns.path,
                map.columns.values[cell.column],
                run.seed
            );
            println!("{}", run.reproduce.clone().unwrap_or_default());
            EXIT_CHECK_FAILED
        }
        None => EXIT_OK,
    }
}

/// Whether `dir` holds a grid (`map.json`).
pub fn is_map(dir: &Path) -> bool {
    dir.join(MAP_FILE).is_file()
}

/// `faultline report` on grids: one whole grid rebuilt in place (its cells' reports,
/// `map.json` recomputed from their `sweep.json`, the page), or the shards of one grid
/// merged into `--out`.
pub fn report(dirs: &[PathBuf], out: Option<&Path>) -> Result<u8, Failure> {
    let mut parts = Vec::with_capacity(dirs.len());
    for dir in dirs {
        let map = MapFile::load(dir)?;
        let outcomes = grid::load_cells(dir, &map)?;
        parts.push((map, outcomes));
    }
    let single_whole = dirs.len() == 1 && parts[0].0.shard.is_none();
    let (map, outcomes) = grid::merge(parts)?;
    let cell_roots =
        |i: usize| -> Vec<PathBuf> { dirs.iter().map(|dir| dir.join(&map.cells[i].dir)).collect() };
    match out {
        None if single_whole => {
            grid::write(&dirs[0], &map, &outcomes, cell_roots).map_err(Failure::io)?;
            Ok(finish(&dirs[0], &map, &outcomes))
        }
        None => Err(Failure::from(format!(
            "merging the shards of a grid needs --out DIR, a directory of its own for the \
             merged grid (it holds a {CELLS_DIR}/ directory, which is not written beside the shards)"
        ))),
        Some(out) => {
            let staged = output::stage(&output::Request {
                out,
                kind: output::Kind::Compare,
                source: format!(
                    "faultline report {}",
                    dirs.iter()
                        .map(|dir| output::absolute(dir).display().to_string())
                        .collect::<Vec<_>>()
                        .join(" ")
                ),
                default: false,
                inputs: dirs,
            })?;
            grid::write(staged.path(), &map, &outcomes, cell_roots).map_err(Failure::io)?;
            staged.commit()?;
            Ok(finish(out, &map, &outcomes))
        }
    }
}
