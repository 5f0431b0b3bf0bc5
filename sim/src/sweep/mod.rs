//! Many seeds of one scenario: sweeps on one machine or cut into shards for a batch
//! engine ([`seeds`]), their records and report ([`record`], [`report`]) (each seed's
//! swarm draw is made by the resolve step, [`crate::scenario::swarm`]), shrinking a failing seed to a
//! minimal scenario ([`shrink`]), and the first divergent trace record when a run does
//! not replay ([`diverge`]).
//!
//! A sweep runs every seed in its own runtime on a fresh thread, `jobs` at a time
//! ([`crate::runner::parallel`]), and keeps only a small summary per seed
//! ([`record::SeedRun`]); full records and reports are written for failed seeds (and
//! for all with `keep_runs`), so the work per seed beyond the simulation stays small.

pub mod diverge;
pub mod grid;
pub mod record;
pub mod report;
pub mod seeds;
pub mod shrink;
pub mod stats;
pub mod table;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use faultline_reports::figures::FigureInfo;
use faultline_reports::record::RunRecord;

use crate::record::Invocation;
use crate::runner;
use crate::scenario::load::parse_str;
use crate::scenario::overrides::{self, reproduce_command, Set};
use crate::scenario::{self, ResolvedScenario, Scenario};
use record::{PartTiming, SeedRun, SeedWall, SweepFile, TimingFile, FORMAT};
use seeds::{SeedRange, Shard};

/// The file beside a run's records that replays it without its swarm block.
pub const RESOLVED_FILE: &str = "scenario.resolved.json";

/// The file beside a run's records that lists what its swarm block drew.
pub const SWARM_FILE: &str = "swarm.json";

/// A scenario ready to run at any seed: parsed, `--set` applied, checked once.
#[derive(Clone, Debug)]
pub struct Prepared {
    /// The file as given.
    pub path: PathBuf,
    /// The `--set` values.
    pub sets: Vec<Set>,
    /// Names the scenario in errors (the file as given).
    pub origin: String,
    /// The text it was parsed from (for error locations).
    pub text: String,
    /// Parsed, with the `--set` values, not resolved (its swarm block, if any, intact).
    pub base: Scenario,
    /// Resolved once, when there is no swarm block (then every seed runs it).
    pub fixed: Option<Arc<ResolvedScenario>>,
    /// BLAKE3 of `base` as JSON.
    pub digest: String,
}

impl Prepared {
    /// Reads `path`, applies `sets` and resolves the result at the file's seed (which
    /// checks every rule, and the swarm block's draw at that seed).
    pub fn load(path: &Path, sets: &[Set]) -> Result<Prepared, String> {
        let text = scenario::load::read_text(path).map_err(|err| err.to_string())?;
        Prepared::from_text(&text, path, sets)
    }

    /// As [`Prepared::load`], from the text of the file at `path`.
    pub fn from_text(text: &str, path: &Path, sets: &[Set]) -> Result<Prepared, String> {
        let origin = path.display().to_string();
        let text = text.to_owned();
        let parsed = parse_str(&text, &origin).map_err(|err| err.to_string())?;
        let base =
            overrides::changed(&parsed, &text, &origin, sets).map_err(|err| err.to_string())?;
        let options = scenario::Options {
            sets,
            ..scenario::Options::default()
        };
        let resolved = scenario::load::resolve_loaded(base.clone(), &text, &origin, &options)
            .map_err(|err| err.to_string())?;
        let fixed = base.swarm.is_none().then(|| Arc::new(resolved));
        let digest = blake3::hash(
            serde_json::to_string(&base)
                .map_err(|err| err.to_string())?
                .as_bytes(),
        )
        .to_hex()
        .to_string();
        Ok(Prepared {
            path: path.to_owned(),
            sets: sets.to_vec(),
            origin,
            text,
            base,
            fixed,
            digest,
        })
    }

    /// The scenario as run at `seed`: with a swarm block, drawn for that seed.
    pub fn at_seed(&self, seed: u64) -> Result<Arc<ResolvedScenario>, String> {
        if let Some(fixed) = &self.fixed {
            // Resolved once at the file's seed; its records name the run's.
            return Ok(Arc::new(fixed.with_seed(seed)));
        }
        let options = scenario::Options {
            sets: &self.sets,
            seed: Some(seed),
            max_events: None,
        };
        scenario::load::resolve_loaded(self.base.clone(), &self.text, &self.origin, &options)
            .map(Arc::new)
            .map_err(|err| err.to_string())
    }

    /// The one command that replays `seed`.
    pub fn reproduce(&self, seed: u64) -> String {
        reproduce_command(&self.path, &self.sets, seed)
    }
}

/// What a sweep is asked to do.
#[derive(Clone, Debug)]
pub struct SweepSpec {
    /// The seeds of the whole sweep.
    pub seeds: SeedRange,
    /// The slice to run, if any.
    pub shard: Option<Shard>,
    /// Parallel runs.
    pub jobs: usize,
    /// Output directory.
    pub out: PathBuf,
    /// Write every run's full records, not only the failed ones'.
    pub keep_runs: bool,
}

/// A finished sweep (its files are written by [`write`]).
#[derive(Clone, Debug)]
pub struct Outcome {
    /// `sweep.json`.
    pub file: SweepFile,
    /// `timing.json`.
    pub timing: TimingFile,
}

/// Where the full records of `seed` go.
pub fn run_dir(out: &Path, seed: u64) -> PathBuf {
    out.join("runs").join(format!("seed-{seed}"))
}

/// One seed's summary, its wall time, and the error writing its records, if any.
type SeedResult = (SeedRun, SeedWall, Option<String>);

/// Runs one seed: the simulation, its record and checks, the full records when it
/// failed (or `keep_runs`), and the small summary the sweep keeps.
fn run_seed(prepared: &Prepared, spec: &SweepSpec, seed: u64) -> SeedResult {
    let failed = |error: String, trace_hash: String, events: u64| SeedRun {
        seed,
        passed: false,
        figures: Default::default(),
        events,
        trace_hash,
        checks: Vec::new(),
        error: Some(error),
        swarm: Vec::new(),
        reproduce: Some(prepared.reproduce(seed)),
    };
    let scenario = match prepared.at_seed(seed) {
        Ok(scenario) => scenario,
        Err(err) => {
            return (
                failed(err, String::new(), 0),
                SeedWall { seed, sim_s: 0.0 },
                None,
            )
        }
    };
    let mut written = None;
    let mut run = match runner::run(Arc::clone(&scenario), seed, None) {
        Ok(timed) => {
            let wall = SeedWall {
                seed,
                sim_s: timed.wall_s,
            };
            let invocation = Invocation {
                scenario_path: prepared.path.display().to_string(),
                wall_s: timed.wall_s,
                reproduce: prepared.reproduce(seed),
            };
            let record = timed.output.record(&scenario, &invocation);
            let run = summarize(&record);
            if !run.passed || spec.keep_runs {
                written = write_run(&run_dir(&spec.out, seed), &record, &scenario).err();
            }
            (run, wall)
        }
        Err(err) => (
            failed(err.to_string(), String::new(), 0),
            SeedWall { seed, sim_s: 0.0 },
        ),
    };
    run.0.swarm = scenario.swarm.clone();
    if !run.0.passed {
        run.0.reproduce = Some(prepared.reproduce(seed));
    }
    (run.0, run.1, written)
}

/// The small summary of one run's record: its checks and the values of its declared
/// figures (the ones it measured).
pub fn summarize(record: &RunRecord) -> SeedRun {
    let summary = &record.summary;
    let passed = summary.checks.iter().all(|check| check.passed);
    SeedRun {
        seed: summary.seed,
        passed,
        figures: summary
            .figures
            .iter()
            .filter_map(|figure| {
                let value = figure.value.filter(|v| v.is_finite())?;
                Some((figure.info.name.clone(), value))
            })
            .collect(),
        events: summary.events,
        trace_hash: summary.trace_hash.clone(),
        checks: summary.checks.clone(),
        error: None,
        swarm: Vec::new(),
        reproduce: None,
    }
}

/// Writes one run's full records and report into `dir`, with the explicit scenario and
/// the swarm's draws when it had a swarm block.
pub fn write_run(
    dir: &Path,
    record: &RunRecord,
    scenario: &ResolvedScenario,
) -> Result<(), String> {
    std::fs::create_dir_all(dir)
        .map_err(|err| format!("cannot create {}: {err}", dir.display()))?;
    faultline_reports::save_run(dir, record)
        .and_then(|()| faultline_reports::write_run_report(dir, record).map(|_| ()))
        .map_err(|err| format!("writing records to {}: {err}", dir.display()))?;
    write_resolved(dir, scenario)
}

/// Writes `scenario.resolved.json` and `swarm.json` into `dir` when the scenario had a
/// swarm block (else nothing).
pub fn write_resolved(dir: &Path, scenario: &ResolvedScenario) -> Result<(), String> {
    if scenario.swarm.is_empty() {
        return Ok(());
    }
    let mut resolved =
        serde_json::to_string_pretty(&scenario.run.spec).map_err(|err| err.to_string())?;
    resolved.push('\n');
    let mut drawn = serde_json::to_string_pretty(&scenario.swarm).map_err(|err| err.to_string())?;
    drawn.push('\n');
    for (name, text) in [(RESOLVED_FILE, resolved), (SWARM_FILE, drawn)] {
        write_file(&dir.join(name), text.as_bytes())?;
    }
    Ok(())
}

/// Runs the seeds of `spec` (its shard's, if any), `spec.jobs` at a time; `progress`
/// sees each seed's summary as it finishes (in finishing order). An error is an I/O or
/// internal failure (a run's records could not be written, a worker could not start),
/// never a seed's: a seed that fails is in the outcome.
pub fn execute(
    prepared: &Prepared,
    spec: &SweepSpec,
    mut progress: impl FnMut(&SeedRun),
) -> Result<Outcome, String> {
    let cell = Cell {
        prepared: prepared.clone(),
        out: spec.out.clone(),
    };
    let mut outcomes = execute_cells(std::slice::from_ref(&cell), spec, |_, run| progress(run))?;
    Ok(outcomes.remove(0))
}

/// One scenario of several run over the same seeds (a cell of a `compare` grid), and
/// the directory its failed runs' records go to.
#[derive(Clone, Debug)]
pub struct Cell {
    /// The scenario, its `--set` values included.
    pub prepared: Prepared,
    /// Where `runs/seed-N/` of its failed seeds go (for a sweep, `spec.out`).
    pub out: PathBuf,
}

/// [`execute`] for several scenarios over the seeds of `spec`: every (cell, seed) pair
/// is one item of the same pool, so `spec.jobs` runs stay busy across cells, and each
/// cell gets the outcome a sweep of it alone would give (`sweep.json` byte for byte;
/// its `timing.json` holds the wall time of the whole pool). `progress` sees the cell's
/// index and each seed's summary as it finishes.
pub fn execute_cells(
    cells: &[Cell],
    spec: &SweepSpec,
    mut progress: impl FnMut(usize, &SeedRun),
) -> Result<Vec<Outcome>, String> {
    let seeds = spec.seeds.seeds(spec.shard);
    let items: Vec<(usize, u64)> = (0..cells.len())
        .flat_map(|cell| seeds.iter().map(move |&seed| (cell, seed)))
        .collect();
    let clock = runner::Stopwatch::start();
    let results = runner::parallel(
        &items,
        spec.jobs,
        |&(cell, seed)| {
            let cell_spec = SweepSpec {
                out: cells[cell].out.clone(),
                ..spec.clone()
            };
            (cell, run_seed(&cells[cell].prepared, &cell_spec, seed))
        },
        |(cell, (run, _, _))| progress(*cell, run),
    )?;
    let wall_s = clock.elapsed_s();
    let mut per_cell: Vec<(Vec<SeedRun>, Vec<SeedWall>)> =
        (0..cells.len()).map(|_| (Vec::new(), Vec::new())).collect();
    // `parallel` returns results in the items' order: cell by cell, seeds in order.
    for (cell, (run, wall, written)) in results {
        if let Some(err) = written {
            return Err(err);
        }
        per_cell[cell].0.push(run);
        per_cell[cell].1.push(wall);
    }
    let rate = if wall_s > 0.0 {
        items.len() as f64 * 3600.0 / wall_s
    } else {
        0.0
    };
    let outcomes = cells
        .iter()
        .zip(per_cell)
        .map(|(cell, (runs, walls))| outcome(&cell.prepared, spec, runs, walls, wall_s, rate))
        .collect();
    Ok(outcomes)
}

/// The files of one scenario's runs (in seed order) and their wall times.
fn outcome(
    prepared: &Prepared,
    spec: &SweepSpec,
    runs: Vec<SeedRun>,
    walls: Vec<SeedWall>,
    wall_s: f64,
    seed_runs_per_hour: f64,
) -> Outcome {
    debug_assert!(runs.windows(2).all(|pair| pair[0].seed < pair[1].seed));
    // From the kind, not from a record: a sweep whose every seed errored has them too.
    let figures: Vec<FigureInfo> = prepared
        .base
        .workload
        .figures()
        .iter()
        .map(FigureInfo::from)
        .collect();
    let file = SweepFile {
        format: FORMAT.to_owned(),
        scenario: prepared.base.name.clone(),
        scenario_path: prepared.path.display().to_string(),
        scenario_digest: prepared.digest.clone(),
        workload: prepared.base.workload.kind().to_owned(),
        figures: figures.clone(),
        set: prepared.sets.iter().map(ToString::to_string).collect(),
        seeds: spec.seeds,
        shard: spec.shard,
        totals: record::totals(&figures, &runs),
        runs,
    };
    let timing = TimingFile {
        parts: vec![PartTiming {
            shard: spec.shard,
            runs: walls.len() as u64,
            jobs: spec.jobs as u64,
            wall_s,
            seed_runs_per_hour,
        }],
        runs: walls,
    };
    Outcome { file, timing }
}

/// The files [`write`] writes into a sweep's directory (and merged shards into theirs)
/// whatever the workload; [`written_files`] adds the histograms.
pub const WRITTEN_FILES: [&str; 4] = [
    record::SWEEP_FILE,
    record::TIMING_FILE,
    "sweep.md",
    "sweep.html",
];

/// The files [`write`] writes for a sweep declaring `figures`: [`WRITTEN_FILES`] and a
/// histogram per headline figure ([`report::histogram_file`]).
pub fn written_files(figures: &[FigureInfo]) -> Vec<String> {
    WRITTEN_FILES
        .iter()
        .map(|name| (*name).to_owned())
        .chain(
            figures
                .iter()
                .filter(|figure| figure.headline)
                .map(|figure| report::histogram_file(&figure.name)),
        )
        .collect()
}

/// Writes `bytes` to `path` atomically (a failed write leaves the old file whole).
pub fn write_file(path: &Path, bytes: &[u8]) -> Result<(), String> {
    faultline_reports::io::write_file(path, bytes).map_err(|err| err.to_string())
}

/// Writes `sweep.json`, `timing.json` and the sweep report into `out`, each file
/// atomically; `run_roots` are
/// the directories whose `runs/seed-N/` hold the failed runs' records (for links).
pub fn write(out: &Path, outcome: &Outcome, run_roots: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    std::fs::create_dir_all(out)
        .map_err(|err| format!("cannot create {}: {err}", out.display()))?;
    let sweep_path = out.join(record::SWEEP_FILE);
    write_file(&sweep_path, outcome.file.to_text().as_bytes())?;
    let timing_path = out.join(record::TIMING_FILE);
    let mut timing =
        serde_json::to_string_pretty(&outcome.timing).map_err(|err| err.to_string())?;
    timing.push('\n');
    write_file(&timing_path, timing.as_bytes())?;
    let mut written = vec![sweep_path, timing_path];
    written.extend(report::write(
        out,
        &outcome.file,
        &outcome.timing,
        run_roots,
    )?);
    Ok(written)
}
