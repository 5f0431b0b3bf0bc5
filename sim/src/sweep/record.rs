//! The records a sweep leaves: `sweep.json` (one small entry per seed, and totals) and
//! `timing.json` (wall times).
//!
//! `sweep.json` depends on nothing but the scenario, the `--set` values and the seeds:
//! not on `--jobs`, not on the machine, not on how the range was cut into shards. So two
//! sweeps of the same seeds give byte-identical files, and the shards of a sweep, merged
//! by [`merge`], give the file the unsharded sweep gives. Wall time is the one thing that
//! differs between runs, so it lives apart, in `timing.json`.

use std::collections::BTreeMap;
use std::path::Path;

use faultline_reports::record::CheckResult;
use serde::{Deserialize, Serialize};

use super::seeds::{SeedRange, Shard, MAX_SEEDS, MAX_SHARDS};
use super::stats::{spread, Spread};
use crate::scenario::swarm::SwarmChoice;

/// `format` of `sweep.json`.
pub const FORMAT: &str = "faultline-sweep/1";

/// The sweep's records file.
pub const SWEEP_FILE: &str = "sweep.json";

/// The wall times file.
pub const TIMING_FILE: &str = "timing.json";

/// Most bytes `sweep.json` may have: [`MAX_SEEDS`] entries of a few hundred bytes.
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

/// One seed's run, summary only.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SeedRun {
    /// The seed.
    pub seed: u64,
    /// Whether the run completed and every check held.
    pub passed: bool,
    /// Succeeded / resolved logical requests, 0..1.
    pub availability: Option<f64>,
    /// 99th percentile latency of successful requests, ms.
    pub p99_ms: Option<f64>,
    /// Attempts per offered logical request.
    pub amplification: Option<f64>,
    /// Peak server arrivals over the steady state before the first fault.
    pub peak_multiple: Option<f64>,
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
    /// Availability across seeds, 0..1.
    pub availability: Spread,
    /// p99 latency across seeds, ms.
    pub p99_ms: Spread,
    /// Retry amplification across seeds, attempts per request.
    pub amplification: Spread,
    /// Peak load multiple across seeds.
    pub peak_multiple: Spread,
    /// Each check's failures, by name.
    pub checks: Vec<CheckTally>,
    /// The first seed that failed or did not complete.
    pub first_failure: Option<u64>,
}

/// Computes the totals of `runs` (in seed order).
pub fn totals(runs: &[SeedRun]) -> Totals {
    let values = |metric: fn(&SeedRun) -> Option<f64>| -> Vec<f64> {
        runs.iter()
            .map(|run| metric(run).unwrap_or(f64::NAN))
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
        availability: spread(&values(|run| run.availability)),
        p99_ms: spread(&values(|run| run.p99_ms)),
        amplification: spread(&values(|run| run.amplification)),
        peak_multiple: spread(&values(|run| run.peak_multiple)),
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
        let file: SweepFile = serde_json::from_str(&text)
            .map_err(|err| format!("{}: not a sweep file: {err}", path.display()))?;
        if file.format != FORMAT {
            return Err(format!(
                "{}: format {:?}, this faultline reads {FORMAT:?}",
                path.display(),
                file.format
            ));
        }
        file.check()
            .map_err(|err| format!("{}: {err}", path.display()))?;
        Ok(file)
    }

    /// Checks every field a report or a merge relies on, before anything is sized by
    /// them: the seed range within [`MAX_SEEDS`], the shard within [`MAX_SHARDS`], one
    /// run per seed of the shard (in seed order, each in the range and in the shard),
    /// the metrics in range, and the totals equal to those of the runs. An error starts
    /// with the field path (`shard.count`, `runs[3].seed`).
    pub fn check(&self) -> Result<(), String> {
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
            check_metric(run.availability, 1.0, &format!("runs[{i}].availability"))?;
            check_metric(run.p99_ms, f64::MAX, &format!("runs[{i}].p99_ms"))?;
            check_metric(
                run.amplification,
                f64::MAX,
                &format!("runs[{i}].amplification"),
            )?;
            check_metric(
                run.peak_multiple,
                f64::MAX,
                &format!("runs[{i}].peak_multiple"),
            )?;
            if run.passed && (run.error.is_some() || !run.failed_checks().is_empty()) {
                return Err(format!(
                    "runs[{i}].passed: true, but the run has an error or a failed check"
                ));
            }
        }
        if self.totals != totals(&self.runs) {
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
        set: first.set.clone(),
        seeds: first.seeds,
        shard: None,
        totals: totals(&runs),
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

    fn run(seed: u64, availability: f64, passed: bool) -> SeedRun {
        SeedRun {
            seed,
            passed,
            availability: Some(availability),
            p99_ms: if seed % 3 == 0 {
                None
            } else {
                Some(seed as f64)
            },
            amplification: Some(1.0 + seed as f64 / 10.0),
            peak_multiple: Some(2.0),
            events: 100 + seed,
            trace_hash: format!("{seed:064x}"),
            checks: vec![CheckResult {
                name: "availability_at_least 0.9".into(),
                passed,
                detail: String::new(),
                ..Default::default()
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
            set: Vec::new(),
            seeds: range,
            shard,
            totals: totals(&runs),
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
        let totals = totals(&runs);
        // Seeds 3..13; 4, 8 and 12 fail.
        assert_eq!((totals.runs, totals.passed, totals.failed), (10, 7, 3));
        assert_eq!(totals.first_failure, Some(4));
        assert_eq!(totals.checks[0].failed, 3);
        assert_eq!(totals.p99_ms.missing, 4); // seeds 3, 6, 9, 12
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
    }
}
