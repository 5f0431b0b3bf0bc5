//! The records a sweep leaves: `sweep.json` (one small entry per seed, and totals) and
//! `timing.json` (wall times).
//!
//! `sweep.json` names the workload and carries its declared figures
//! ([`faultline_reports::figures`]), so the report, a merge and `shrink` read any
//! workload's values without knowing its kind.
//!
//! `sweep.json` depends on nothing but the scenario, the `--set` values and the seeds:
//! not on `--jobs`, not on the machine, not on how the range was cut into shards. So two
//! sweeps of the same seeds give byte-identical files, and the shards of a sweep, merged
//! by [`merge`], give the file the unsharded sweep gives. Wall time is the one thing that
//! differs between runs, so it lives apart, in `timing.json`.

use std::collections::BTreeMap;
use std::path::Path;

use faultline_reports::figures::{Aggregate, FigureInfo, Quantity};
use faultline_reports::record::CheckResult;
use serde::{Deserialize, Serialize};

use super::seeds::{SeedRange, Shard, MAX_SEEDS, MAX_SHARDS};
use super::stats::{spread, Spread};
use crate::scenario::swarm::SwarmChoice;

/// `format` of `sweep.json`.
pub const FORMAT: &str = "faultline-sweep/2";

/// Most figures a sweep may declare (a workload declares a few dozen).
pub const MAX_FIGURES: usize = 1_000;

/// Longest figure name: names become file names (`NAME-hist.svg`).
pub const MAX_FIGURE_NAME: usize = 64;

/// The sweep's records file.
pub const SWEEP_FILE: &str = "sweep.json";

/// The wall times file.
pub const TIMING_FILE: &str = "timing.json";

/// Most bytes `sweep.json` may have. An entry holds every declared figure and check:
/// about 1 KB for an rpc seed, 1.6 KB for a bank seed, so a file of more than some
/// five million seeds is past it.
pub const MAX_SWEEP_BYTES: u64 = 8 << 30;

/// Most bytes `timing.json` may have: [`MAX_SEEDS`] wall times of a few dozen bytes.
pub const MAX_TIMING_BYTES: u64 = 1 << 30;

/// Reads a sweep record with `limit_bytes`, refusing anything but a regular file.
fn read_record(path: &Path, limit_bytes: u64) -> Result<String, String> {
    faultline_reports::io::read_record(path, limit_bytes).map_err(|err| err.to_string())
}

/// Checks a shard as read from a file; `field` names it in errors.
fn check_shard(shard: Shard, field: &str) -> Result<(), String> {
    Shard::new(shard.index, shard.count)
        .map(|_| ())
        .map_err(|err| format!("{field}: {err}"))
}

/// A 0..1 fraction, a count or a ratio: finite and not negative (`None` is allowed).
fn check_metric(value: Option<f64>, most: f64, field: &str) -> Result<(), String> {
    match value {
        Some(v) if !(0.0..=most).contains(&v) => {
            Err(format!("{field}: {v} is out of range (0 to {most})"))
        }
        _ => Ok(()),
    }
}

/// Checks a figure name: 1 to [`MAX_FIGURE_NAME`] of `a-z`, `0-9`, `_` (it names a
/// file of the report).
fn check_figure_name(name: &str, field: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= MAX_FIGURE_NAME
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{field}: {name:?} is not a figure name (1 to {MAX_FIGURE_NAME} of a-z, 0-9, _)"
        ))
    }
}

/// One seed's run, summary only.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SeedRun {
    /// The seed.
    pub seed: u64,
    /// Whether the run completed and every check held.
    pub passed: bool,
    /// The measured value of each declared figure, by name, in its declared unit (a
    /// ratio 0..1); a figure the run did not measure (or a run that did not complete)
    /// has no entry.
    #[serde(default)]
    pub figures: BTreeMap<String, f64>,
    /// Events in the trace.
    pub events: u64,
    /// Digest of the run's trace.
    pub trace_hash: String,
    /// The scenario's checks, evaluated.
    pub checks: Vec<CheckResult>,
    /// Why the run did not complete (a limit, an invariant, a swarm draw that does not
    /// make a valid scenario).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// What the scenario's swarm block drew for this seed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub swarm: Vec<SwarmChoice>,
    /// The command that replays this run (failed runs only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reproduce: Option<String>,
}

impl SeedRun {
    /// The value of figure `name`, if measured.
    pub fn figure(&self, name: &str) -> Option<f64> {
        self.figures.get(name).copied()
    }

    /// The names of the checks that failed.
    pub fn failed_checks(&self) -> Vec<&str> {
        self.checks
            .iter()
            .filter(|check| !check.passed)
            .map(|check| check.name.as_str())
            .collect()
    }
}

/// How often one check failed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CheckTally {
    /// The check as written (`availability_at_least 0.95`).
    pub name: String,
    /// Seeds where it failed.
    pub failed: u64,
    /// Seeds where it was evaluated.
    pub evaluated: u64,
}

/// One figure across the seeds of a sweep.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FigureTotal {
    /// The figure's name.
    pub name: String,
    /// Its aggregate by the declaration's rule ([`Aggregate`]): the mean, the largest
    /// value, the sum, or the fraction of measuring seeds with a value above 0; `None`
    /// when no seed measured it.
    pub aggregate: Option<f64>,
    /// Its spread across the seeds that measured it.
    pub spread: Spread,
}

/// `rule` applied to `values` (non-finite ones left out); `None` without values.
pub fn aggregate(rule: Aggregate, values: &[f64]) -> Option<f64> {
    let finite: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    if finite.is_empty() {
        return None;
    }
    Some(match rule {
        Aggregate::Mean => finite.iter().sum::<f64>() / finite.len() as f64,
        Aggregate::Max => finite.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        Aggregate::Sum => finite.iter().sum(),
        Aggregate::FractionOfSeeds => {
            finite.iter().filter(|v| **v > 0.0).count() as f64 / finite.len() as f64
        }
    })
}

/// Totals over the seeds of a sweep.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Totals {
    /// Seeds run.
    pub runs: u64,
    /// Seeds whose run completed with every check held.
    pub passed: u64,
    /// Seeds whose run completed with a check failed.
    pub failed: u64,
    /// Seeds whose run did not complete.
    pub errors: u64,
    /// Each declared figure across the seeds, in declaration order.
    pub figures: Vec<FigureTotal>,
    /// Each check's failures, by name.
    pub checks: Vec<CheckTally>,
    /// The first seed that failed or did not complete.
    pub first_failure: Option<u64>,
}

/// Computes the totals of `runs` (in seed order) for the declared `figures`.
pub fn totals(figures: &[FigureInfo], runs: &[SeedRun]) -> Totals {
    let values = |name: &str| -> Vec<f64> {
        runs.iter()
            .map(|run| run.figure(name).unwrap_or(f64::NAN))
            .collect()
    };
    let mut checks: BTreeMap<&str, CheckTally> = BTreeMap::new();
    for run in runs {
        for check in &run.checks {
            let tally = checks.entry(&check.name).or_insert_with(|| CheckTally {
                name: check.name.clone(),
                failed: 0,
                evaluated: 0,
            });
            tally.evaluated += 1;
            tally.failed += u64::from(!check.passed);
        }
    }
    let errors = runs.iter().filter(|run| run.error.is_some()).count() as u64;
    let passed = runs.iter().filter(|run| run.passed).count() as u64;
    let totals = Totals {
        runs: runs.len() as u64,
        passed,
        failed: runs.len() as u64 - passed - errors,
        errors,
        figures: figures
            .iter()
            .map(|figure| {
                let values = values(&figure.name);
                FigureTotal {
                    name: figure.name.clone(),
                    aggregate: aggregate(figure.aggregate, &values),
                    spread: spread(&values),
                }
            })
            .collect(),
        checks: checks.into_values().collect(),
        first_failure: runs.iter().find(|run| !run.passed).map(|run| run.seed),
    };
    debug_assert_eq!(totals.passed + totals.failed + totals.errors, totals.runs);
    totals
}

/// `sweep.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SweepFile {
    /// [`FORMAT`].
    pub format: String,
    /// Scenario name.
    pub scenario: String,
    /// The scenario file as given.
    pub scenario_path: String,
    /// BLAKE3 of the scenario as run (after `--set`), so that shards of different
    /// scenarios are not merged.
    pub scenario_digest: String,
    /// The workload's kind (`rpc`, `bank`).
    pub workload: String,
    /// The workload's declared figures: what `runs[].figures` and `totals.figures` hold.
    pub figures: Vec<FigureInfo>,
    /// The `--set` values, as given.
    pub set: Vec<String>,
    /// The whole seed range of the sweep.
    pub seeds: SeedRange,
    /// The slice this file holds; absent for a whole sweep (and a merged one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<Shard>,
    /// Totals over `runs`.
    pub totals: Totals,
    /// One entry per seed, in seed order.
    pub runs: Vec<SeedRun>,
}

impl SweepFile {
    /// The file as written: pretty JSON with a final newline.
    pub fn to_text(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).expect("a sweep file serializes");
        text.push('\n');
        text
    }

    /// Reads `DIR/sweep.json`, checked by [`SweepFile::check`]; an error names the file
    /// and the field.
    pub fn load(dir: &Path) -> Result<SweepFile, String> {
        let path = dir.join(SWEEP_FILE);
        let text = read_record(&path, MAX_SWEEP_BYTES)?;
        // The format first, so an older file gets its own error, not a missing field.
        #[derive(Deserialize)]
        struct Format {
            format: String,
        }
        if let Ok(Format { format }) = serde_json::from_str::<Format>(&text) {
            if format != FORMAT {
                return Err(format!(
                    "{}: format {format:?}, this faultline reads {FORMAT:?}; re-run the sweep \
                     (or `faultline report` its shards after re-running them) to write it",
                    path.display(),
                ));
            }
        }
        let file: SweepFile = serde_json::from_str(&text)
            .map_err(|err| format!("{}: not a sweep file: {err}", path.display()))?;
        file.check()
            .map_err(|err| format!("{}: {err}", path.display()))?;
        Ok(file)
    }

    /// Checks every field a report or a merge relies on, before anything is sized by
    /// them: the seed range within [`MAX_SEEDS`], the shard within [`MAX_SHARDS`], one
    /// run per seed of the shard (in seed order, each in the range and in the shard),
    /// the figures declared once each under a name fit for a file name, every value of
    /// a declared figure and finite (a ratio within 0..1), check thresholds finite, and
    /// the totals equal to those of the runs. An error starts with the field path
    /// (`shard.count`, `runs[3].figures.availability`).
    pub fn check(&self) -> Result<(), String> {
        if self.figures.len() > MAX_FIGURES {
            return Err(format!(
                "figures: {} declared, more than the limit of {MAX_FIGURES}",
                self.figures.len()
            ));
        }
        for (i, figure) in self.figures.iter().enumerate() {
            check_figure_name(&figure.name, &format!("figures[{i}].name"))?;
            if self.figures[..i].iter().any(|f| f.name == figure.name) {
                return Err(format!(
                    "figures[{i}].name: {:?} is declared twice",
                    figure.name
                ));
            }
        }
        let seeds = self.seeds;
        if seeds.end <= seeds.start {
            return Err(format!("seeds: {seeds} is empty (end must be above start)"));
        }
        if seeds.len() > MAX_SEEDS {
            return Err(format!(
                "seeds: {seeds} holds {} seeds, more than the limit of {MAX_SEEDS} in one sweep",
                seeds.len()
            ));
        }
        if let Some(shard) = self.shard {
            check_shard(shard, "shard")?;
        }
        let (index, count) = self
            .shard
            .map_or((0, 1), |shard| (shard.index, shard.count));
        let expected = (seeds.len() + count - 1 - index) / count;
        if self.runs.len() as u64 != expected {
            let part = self
                .shard
                .map_or("the whole sweep".to_owned(), |s| format!("shard {s}"));
            return Err(format!(
                "runs: {} entries, but {part} of seeds {seeds} has {expected} seeds (one run each)",
                self.runs.len(),
            ));
        }
        for (i, run) in self.runs.iter().enumerate() {
            let want = seeds.start + index + i as u64 * count;
            if run.seed != want {
                return Err(format!(
                    "runs[{i}].seed: {}, expected {want} (one run per seed of the shard, in seed order)",
                    run.seed
                ));
            }
            for (name, &value) in &run.figures {
                let field = format!("runs[{i}].figures.{name}");
                let Some(figure) = self.figures.iter().find(|figure| figure.name == *name) else {
                    return Err(format!(
                        "{field}: no figure of that name is declared in `figures`"
                    ));
                };
                if !value.is_finite() {
                    return Err(format!("{field}: {value} is not a number"));
                }
                if figure.quantity == Quantity::Ratio {
                    check_metric(Some(value), 1.0, &field)?;
                }
            }
            for (c, check) in run.checks.iter().enumerate() {
                if let Some(threshold) = check.threshold {
                    if !threshold.is_finite() {
                        return Err(format!(
                            "runs[{i}].checks[{c}].threshold: {threshold} is not a number"
                        ));
                    }
                }
            }
            if run.passed && (run.error.is_some() || !run.failed_checks().is_empty()) {
                return Err(format!(
                    "runs[{i}].passed: true, but the run has an error or a failed check"
                ));
            }
        }
        if self.totals != totals(&self.figures, &self.runs) {
            return Err(
                "totals: they differ from the totals of `runs` (the file was edited)".to_owned(),
            );
        }
        Ok(())
    }
}

/// One seed's wall time.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SeedWall {
    /// The seed.
    pub seed: u64,
    /// Wall seconds of the simulation (fresh thread, run; not the records).
    pub sim_s: f64,
}

/// One sweep process's wall time.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PartTiming {
    /// The shard it ran, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<Shard>,
    /// Seeds it ran.
    pub runs: u64,
    /// Parallel runs.
    pub jobs: u64,
    /// Wall seconds from the first run's start to the last record written.
    pub wall_s: f64,
    /// `runs / wall_s`, per hour.
    pub seed_runs_per_hour: f64,
}

/// `timing.json`: what differs between two sweeps of the same seeds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TimingFile {
    /// Each sweep process (one, or one per merged shard).
    pub parts: Vec<PartTiming>,
    /// Per seed, in seed order.
    pub runs: Vec<SeedWall>,
}

impl TimingFile {
    /// Reads `DIR/timing.json`, checked by [`TimingFile::check`].
    pub fn load(dir: &Path) -> Result<TimingFile, String> {
        let path = dir.join(TIMING_FILE);
        let text = read_record(&path, MAX_TIMING_BYTES)?;
        let file: TimingFile =
            serde_json::from_str(&text).map_err(|err| format!("{}: {err}", path.display()))?;
        file.check()
            .map_err(|err| format!("{}: {err}", path.display()))?;
        Ok(file)
    }

    /// Checks the counts the report adds up: at most [`MAX_SHARDS`] parts of at most
    /// [`MAX_SEEDS`] runs each, valid shards, times finite and not negative.
    pub fn check(&self) -> Result<(), String> {
        if self.parts.len() as u64 > MAX_SHARDS {
            return Err(format!(
                "parts: {} parts, more than the limit of {MAX_SHARDS} shards",
                self.parts.len()
            ));
        }
        if self.runs.len() as u64 > MAX_SEEDS {
            return Err(format!(
                "runs: {} entries, more than the limit of {MAX_SEEDS} seeds",
                self.runs.len()
            ));
        }
        for (i, part) in self.parts.iter().enumerate() {
            if let Some(shard) = part.shard {
                check_shard(shard, &format!("parts[{i}].shard"))?;
            }
            if part.runs > MAX_SEEDS {
                return Err(format!(
                    "parts[{i}].runs: {}, more than the limit of {MAX_SEEDS} seeds",
                    part.runs
                ));
            }
            check_metric(Some(part.wall_s), f64::MAX, &format!("parts[{i}].wall_s"))?;
            check_metric(
                Some(part.seed_runs_per_hour),
                f64::MAX,
                &format!("parts[{i}].seed_runs_per_hour"),
            )?;
        }
        for (i, run) in self.runs.iter().enumerate() {
            check_metric(Some(run.sim_s), f64::MAX, &format!("runs[{i}].sim_s"))?;
        }
        Ok(())
    }
}

/// Merges the shard files of one sweep into the file of the whole sweep: every shard
/// `0..N` of the same scenario, settings and range exactly once.
pub fn merge(parts: Vec<SweepFile>) -> Result<SweepFile, String> {
    let first = parts.first().ok_or("no sweep files to merge")?;
    let same = |file: &SweepFile| {
        file.scenario == first.scenario
            && file.scenario_path == first.scenario_path
            && file.scenario_digest == first.scenario_digest
            && file.set == first.set
            && file.seeds == first.seeds
            && file.workload == first.workload
            && file.figures == first.figures
    };
    if let Some(other) = parts.iter().find(|file| !same(file)) {
        return Err(format!(
            "these sweeps differ: {} {} seeds {} (set {:?}) against {} {} seeds {} (set {:?}); \
             merge only the shards of one sweep",
            first.scenario,
            first.scenario_path,
            first.seeds,
            first.set,
            other.scenario,
            other.scenario_path,
            other.seeds,
            other.set
        ));
    }
    let count = match first.shard {
        None if parts.len() == 1 => return Ok(first.clone()),
        None => return Err("a whole sweep (no shard) cannot be merged with others".into()),
        Some(shard) => shard.count,
    };
    // Files are checked when loaded; the bounds are checked again here, before the
    // shard count sizes anything.
    check_shard(Shard { index: 0, count }, "shard")?;
    if first.seeds.end <= first.seeds.start || first.seeds.len() > MAX_SEEDS {
        return Err(format!(
            "seeds: {} is not a range of 1 to {MAX_SEEDS} seeds",
            first.seeds
        ));
    }
    let mut seen = vec![false; usize::try_from(count).map_err(|_| "too many shards")?];
    for file in &parts {
        let shard = file
            .shard
            .ok_or("a whole sweep (no shard) cannot be merged with shards")?;
        check_shard(shard, "shard")?;
        if shard.count != count {
            return Err(format!(
                "shard {shard} and shards of {count} cannot be merged: cut into different counts"
            ));
        }
        let slot = &mut seen[shard.index as usize];
        if *slot {
            return Err(format!("shard {shard} is given twice"));
        }
        *slot = true;
    }
    let missing: Vec<String> = seen
        .iter()
        .enumerate()
        .filter(|(_, seen)| !**seen)
        .map(|(index, _)| format!("{index}/{count}"))
        .collect();
    if !missing.is_empty() {
        return Err(format!(
            "shards missing: {} (of {count}); merge every shard's directory",
            missing.join(", ")
        ));
    }
    let mut runs: Vec<SeedRun> = parts.iter().flat_map(|file| file.runs.clone()).collect();
    runs.sort_by_key(|run| run.seed);
    let expected = first.seeds.seeds(None);
    if runs.len() != expected.len() || runs.iter().zip(&expected).any(|(run, s)| run.seed != *s) {
        return Err(format!(
            "the shards hold {} runs, not the {} seeds of {}",
            runs.len(),
            expected.len(),
            first.seeds
        ));
    }
    Ok(SweepFile {
        format: FORMAT.to_owned(),
        scenario: first.scenario.clone(),
        scenario_path: first.scenario_path.clone(),
        scenario_digest: first.scenario_digest.clone(),
        workload: first.workload.clone(),
        figures: first.figures.clone(),
        set: first.set.clone(),
        seeds: first.seeds,
        shard: None,
        totals: totals(&first.figures, &runs),
        runs,
    })
}

/// Merges timing files (in any order): parts side by side, runs in seed order.
pub fn merge_timing(parts: Vec<TimingFile>) -> TimingFile {
    let mut merged = TimingFile {
        parts: Vec::new(),
        runs: Vec::new(),
    };
    for part in parts {
        merged.parts.extend(part.parts);
        merged.runs.extend(part.runs);
    }
    merged
        .parts
        .sort_by_key(|part| part.shard.map(|shard| shard.index));
    merged.runs.sort_by_key(|run| run.seed);
    merged
}

#[cfg(test)]
mod tests {
    use super::*;
    use faultline_reports::figures::Better;

    fn figure(name: &str, quantity: Quantity, aggregate: Aggregate) -> FigureInfo {
        FigureInfo {
            name: name.into(),
            label: name.replace('_', " "),
            unit: "u".into(),
            better: Better::Lower,
            quantity,
            aggregate,
            headline: true,
            about: String::new(),
        }
    }

    fn figures() -> Vec<FigureInfo> {
        vec![
            figure("availability", Quantity::Ratio, Aggregate::Mean),
            figure("p99_ms", Quantity::Duration, Aggregate::Max),
            figure("lost", Quantity::Count, Aggregate::Sum),
            figure("violations", Quantity::Count, Aggregate::FractionOfSeeds),
        ]
    }

    fn run(seed: u64, availability: f64, passed: bool) -> SeedRun {
        let mut figures = BTreeMap::new();
        figures.insert("availability".to_owned(), availability);
        if seed % 3 != 0 {
            figures.insert("p99_ms".to_owned(), seed as f64);
        }
        figures.insert("lost".to_owned(), (seed % 2) as f64);
        figures.insert("violations".to_owned(), f64::from(seed % 5 == 0));
        SeedRun {
            seed,
            passed,
            figures,
            events: 100 + seed,
            trace_hash: format!("{seed:064x}"),
            checks: vec![CheckResult {
                name: "availability_at_least 0.9".into(),
                passed,
                detail: String::new(),
                figure: Some("availability".into()),
                threshold: Some(0.9),
            }],
            error: None,
            swarm: Vec::new(),
            reproduce: (!passed).then(|| format!("faultline run x.json --seed {seed}")),
        }
    }

    fn file(runs: Vec<SeedRun>, range: SeedRange, shard: Option<Shard>) -> SweepFile {
        SweepFile {
            format: FORMAT.into(),
            scenario: "s".into(),
            scenario_path: "x.json".into(),
            scenario_digest: "d".into(),
            workload: "rpc".into(),
            figures: figures(),
            set: Vec::new(),
            seeds: range,
            shard,
            totals: totals(&figures(), &runs),
            runs,
        }
    }

    fn whole() -> (SeedRange, Vec<SeedRun>) {
        let range = SeedRange { start: 3, end: 13 };
        let runs = range
            .seeds(None)
            .into_iter()
            .map(|seed| run(seed, 0.9 + seed as f64 / 1000.0, seed % 4 != 0))
            .collect();
        (range, runs)
    }

    #[test]
    fn totals_count_every_seed_and_find_the_first_failure() {
        let (_, runs) = whole();
        let totals = totals(&figures(), &runs);
        // Seeds 3..13; 4, 8 and 12 fail.
        assert_eq!((totals.runs, totals.passed, totals.failed), (10, 7, 3));
        assert_eq!(totals.first_failure, Some(4));
        assert_eq!(totals.checks[0].failed, 3);
        assert_eq!(totals.figures[1].spread.missing, 4); // seeds 3, 6, 9, 12
    }

    #[test]
    fn each_figure_aggregates_by_its_declared_rule() {
        let (_, runs) = whole();
        let totals = totals(&figures(), &runs);
        let names: Vec<&str> = totals.figures.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["availability", "p99_ms", "lost", "violations"]);
        // Mean of 0.903 .. 0.912.
        let mean = totals.figures[0].aggregate.unwrap();
        assert!((mean - 0.9075).abs() < 1e-12, "{mean}");
        assert_eq!(totals.figures[0].spread.mean, Some(mean));
        // Max of the seeds that measured it (12 has none).
        assert_eq!(totals.figures[1].aggregate, Some(11.0));
        // Sum: the odd seeds 3, 5, 7, 9, 11.
        assert_eq!(totals.figures[2].aggregate, Some(5.0));
        // Seeds 5 and 10 of 10.
        assert_eq!(totals.figures[3].aggregate, Some(0.2));
        assert_eq!(aggregate(Aggregate::Sum, &[f64::NAN]), None);
        assert_eq!(
            aggregate(Aggregate::FractionOfSeeds, &[0.0, f64::NAN]),
            Some(0.0)
        );
    }

    #[test]
    fn check_refuses_undeclared_out_of_range_and_badly_named_figures() {
        let (range, runs) = whole();
        assert_eq!(file(runs.clone(), range, None).check(), Ok(()));
        let edited = |edit: &dyn Fn(&mut SweepFile)| {
            let mut file = file(runs.clone(), range, None);
            edit(&mut file);
            file.check().unwrap_err()
        };
        let err = edited(&|f| {
            f.runs[1].figures.insert("nope".into(), 1.0);
        });
        assert!(err.starts_with("runs[1].figures.nope: no figure"), "{err}");
        let err = edited(&|f| {
            f.runs[2].figures.insert("availability".into(), 1.5);
        });
        assert!(
            err.starts_with("runs[2].figures.availability: 1.5 is out of range"),
            "{err}"
        );
        let err = edited(&|f| {
            f.runs[2].figures.insert("lost".into(), f64::INFINITY);
        });
        assert!(
            err.starts_with("runs[2].figures.lost: inf is not a number"),
            "{err}"
        );
        let err = edited(&|f| f.figures[3].name = "../x".into());
        assert!(
            err.starts_with("figures[3].name: \"../x\" is not a figure name"),
            "{err}"
        );
        let err = edited(&|f| f.figures[3].name = "lost".into());
        assert!(err.contains("declared twice"), "{err}");
        let err = edited(&|f| f.runs[0].checks[0].threshold = Some(f64::NAN));
        assert!(err.starts_with("runs[0].checks[0].threshold"), "{err}");
        // A value changed with its totals left: the totals differ.
        let err = edited(&|f| {
            f.runs[0].figures.insert("lost".into(), 7.0);
        });
        assert!(err.starts_with("totals:"), "{err}");
    }

    #[test]
    fn a_first_format_file_asks_for_a_new_sweep() {
        let dir = std::env::temp_dir().join(format!("faultline-sweep-v1-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join(SWEEP_FILE),
            r#"{"format": "faultline-sweep/1", "runs": []}"#,
        )
        .unwrap();
        let err = SweepFile::load(&dir).unwrap_err();
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(
            err.contains("format \"faultline-sweep/1\"") && err.contains("re-run the sweep"),
            "{err}"
        );
    }

    #[test]
    fn merged_shards_equal_the_whole_sweep_byte_for_byte() {
        let (range, runs) = whole();
        let expected = file(runs.clone(), range, None).to_text();
        let shards: Vec<SweepFile> = (0..3)
            .rev()
            .map(|index| {
                let shard = Shard::new(index, 3).unwrap();
                let seeds = range.seeds(Some(shard));
                let part = runs
                    .iter()
                    .filter(|run| seeds.contains(&run.seed))
                    .cloned()
                    .collect();
                // Through text, as the files are read back.
                let text = file(part, range, Some(shard)).to_text();
                serde_json::from_str(&text).unwrap()
            })
            .collect();
        assert_eq!(merge(shards.clone()).unwrap().to_text(), expected);
        let err = merge(shards[..2].to_vec()).unwrap_err();
        assert!(err.contains("shards missing: 0/3"), "{err}");
        let mut twice = shards.clone();
        twice.push(shards[0].clone());
        assert!(merge(twice).unwrap_err().contains("given twice"));
        let mut other = shards.clone();
        other[1].scenario_digest = "e".into();
        assert!(merge(other).unwrap_err().contains("differ"));
        let mut other = shards.clone();
        other[2].figures[0].aggregate = Aggregate::Max;
        assert!(merge(other).unwrap_err().contains("differ"));
    }
}
