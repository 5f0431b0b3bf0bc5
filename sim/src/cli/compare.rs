//! `faultline compare SCENARIO --vary PATH=V1,V2,... [--set PATH=VALUE]... [--seed N]
//! [--out DIR]`
//!
//! One variant per value, all at the same seed, so the only difference between runs is
//! the varied field. Each variant's records go to `OUT/<value>/`; the comparison report,
//! the overlay charts and `compare.json` (what `faultline report OUT` rebuilds from) go
//! to `OUT/`. Exit 1 when a check of any variant failed.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use faultline_reports::record::RunRecord;
use indicatif::ProgressBar;
use serde::{Deserialize, Serialize};

use crate::scenario::overrides::{self, parse_sets, reproduce_command, Set};
use crate::scenario::{self, ResolvedScenario};

use super::output;
use super::run::run_and_record;
use super::{Failure, EXIT_BAD_INPUT, EXIT_CHECK_FAILED, EXIT_IO, EXIT_OK};

/// Arguments of `compare`.
#[derive(Debug, clap::Args)]
pub struct CompareArgs {
    /// Scenario file (JSON).
    pub scenario: PathBuf,
    /// The field to vary and its values: `workload.clients.retry.backoff.jitter=none,full`
    /// or `faults[0].restart_after=2s,10s` (values split at commas outside brackets).
    /// Given twice, a grid: one cell per pair of values, drawn as the metastability map.
    #[arg(long, value_name = "PATH=V1,V2,...", required = true)]
    pub vary: Vec<String>,
    /// Change a field in every variant (repeatable), as `run --set`.
    #[arg(long = "set", value_name = "PATH=VALUE")]
    pub sets: Vec<String>,
    /// Seed for every variant (default: the scenario's).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Output directory (default `runs/<name>/compare-<path>`, with `-set-<digest>`
    /// after `--set`; a grid's `runs/<name>/map-<path>-<path>`); replaced whole, and only
    /// when faultline wrote it.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// A grid's seeds per cell: N seeds from --seed on (a count, not sweep's range;
    /// default 5).
    #[arg(long, value_name = "N")]
    pub seeds: Option<u64>,
    /// A grid's runs at a time (default: every core).
    #[arg(long)]
    pub jobs: Option<usize>,
    /// Run only the I-th of N interleaved slices of every cell's seeds (a grid), as
    /// `sweep --shard`; `faultline report SHARD... --out DIR` merges them.
    #[arg(long, value_name = "I/N")]
    pub shard: Option<String>,
    /// The number of shards, when the index comes from the environment (a grid).
    #[arg(long, value_name = "N")]
    pub shards: Option<u64>,
    /// Write every run's full records in a grid, not only the failed ones'.
    #[arg(long)]
    pub keep_runs: bool,
}

/// What a comparison directory holds, so `faultline report DIR` can rebuild it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// The report's title.
    pub title: String,
    /// The varied field, as error messages write it.
    pub vary: String,
    /// The seed of every variant.
    pub seed: u64,
    /// The variants in order: the value as written, and its directory under the
    /// comparison's.
    pub variants: Vec<ManifestVariant>,
}

/// One variant of a [`Manifest`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ManifestVariant {
    /// The value as written.
    pub label: String,
    /// Its directory's name.
    pub dir: String,
}

/// The manifest's file name in a comparison directory.
pub const MANIFEST_FILE: &str = "compare.json";

pub(super) fn safe_label(value: &str) -> String {
    let label: String = value
        .chars()
        .take(64)
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if label.starts_with('.') || label.is_empty() {
        format!("_{label}")
    } else {
        label
    }
}

/// Directory names for the variants: the safe form of each value, numbered when two
/// values would share one (`1.0` and `1_0`, or a value given twice), with the number
/// raised until the name is free (`a,a-2,a`).
pub(super) fn variant_dirs(labels: &[String]) -> Vec<String> {
    let mut dirs: Vec<String> = Vec::with_capacity(labels.len());
    for (index, label) in labels.iter().enumerate() {
        let safe = safe_label(label);
        let mut dir = safe.clone();
        let mut number = index;
        while dirs.contains(&dir) {
            dir = format!("{safe}-{number}");
            number += 1;
        }
        dirs.push(dir);
    }
    dirs
}

/// Runs `compare`; returns the exit code.
pub fn run(args: &CompareArgs) -> u8 {
    match args.vary.len() {
        1 => {}
        2 => return super::map::run(args),
        n => {
            eprintln!(
                "error: --vary is given {n} times: one field compares variants, two draw a grid"
            );
            return EXIT_BAD_INPUT;
        }
    }
    let grid_only = [
        (args.seeds.is_some(), "--seeds"),
        (args.jobs.is_some(), "--jobs"),
        (args.shard.is_some(), "--shard"),
        (args.shards.is_some(), "--shards"),
        (args.keep_runs, "--keep-runs"),
    ];
    if let Some((_, flag)) = grid_only.iter().find(|(given, _)| *given) {
        eprintln!(
            "error: {flag} is for a grid (two --vary); one --vary runs one variant per value at one seed"
        );
        return EXIT_BAD_INPUT;
    }
    let parsed = parse_sets(&args.sets).and_then(|sets| {
        overrides::parse_vary(&args.vary[0]).map(|(path, values)| (sets, path, values))
    });
    let (sets, path, values) = match parsed {
        Ok(parsed) => parsed,
        Err(err) => {
            eprintln!("error: {err}");
            return EXIT_BAD_INPUT;
        }
    };
    let origin = args.scenario.display().to_string();
    let options = scenario::Options {
        sets: &sets,
        seed: args.seed,
        max_events: None,
    };
    let loaded = scenario::load::read_text(&args.scenario).and_then(|text| {
        let base = scenario::load_text(&text, &origin, &options)?;
        Ok((text, base))
    });
    let (text, base) = match loaded {
        Ok(loaded) => loaded,
        Err(err) => {
            eprintln!("error: {err}");
            return EXIT_BAD_INPUT;
        }
    };
    // Build and validate every variant before running any.
    let mut variants: Vec<(String, Vec<Set>, Arc<ResolvedScenario>)> =
        Vec::with_capacity(values.len());
    for value in &values {
        let mut variant_sets = sets.clone();
        variant_sets.push(Set {
            path: path.clone(),
            value: value.clone(),
        });
        let options = scenario::Options {
            sets: &variant_sets,
            ..options
        };
        match scenario::load_text(&text, &origin, &options) {
            Ok(resolved) => variants.push((value.clone(), variant_sets, Arc::new(resolved))),
            Err(err) => {
                eprintln!("error: {err}");
                return EXIT_BAD_INPUT;
            }
        }
    }
    let seed = base.run.seed;
    let vary = path.display();
    let default = args.out.is_none();
    // The whole path names the directory (`faults[0].at` and `faults[1].at` differ).
    let out = args.out.clone().unwrap_or_else(|| {
        PathBuf::from("runs").join(&base.run.name).join(format!(
            "compare-{}{}",
            safe_label(&vary),
            output::set_suffix(&sets)
        ))
    });
    let mut words = output::set_args(&sets);
    words.push(format!("--vary {vary}"));
    words.push(format!("--seed {seed}"));
    let request = output::Request {
        out: &out,
        kind: output::Kind::Compare,
        source: output::source("compare", &args.scenario, &words),
        default,
        inputs: std::slice::from_ref(&args.scenario),
    };
    let staged = match output::stage(&request) {
        Ok(staged) => staged,
        Err(failure) => {
            eprintln!("error: {}", failure.message);
            return failure.code;
        }
    };
    let labels: Vec<String> = variants.iter().map(|(label, _, _)| label.clone()).collect();
    let dirs = variant_dirs(&labels);
    let progress = progress_bar(variants.len());
    let mut records: Vec<(String, RunRecord)> = Vec::with_capacity(variants.len());
    for ((label, variant_sets, resolved), dir_name) in variants.iter().zip(&dirs) {
        progress.set_message(format!("{vary}={label}"));
        let dir = staged.path().join(dir_name);
        let reproduce = reproduce_command(&args.scenario, variant_sets, seed);
        let result = std::fs::create_dir(&dir)
            .map_err(|err| {
                super::run::RunFailure::output(format!("cannot create {}: {err}", dir.display()))
            })
            .and_then(|()| {
                run_and_record(
                    resolved,
                    &args.scenario,
                    &reproduce,
                    seed,
                    &dir,
                    false,
                    None,
                )
            });
        match result {
            Ok(rec) => records.push((label.clone(), rec)),
            Err(failure) => {
                progress.finish_and_clear();
                eprintln!("error: variant {vary}={label}: {}", failure.message);
                if failure.replay {
                    eprintln!("{reproduce}");
                }
                return failure.code;
            }
        }
        progress.inc(1);
    }
    progress.finish_and_clear();
    let title = format!("{}: {vary} compared", base.run.name);
    let manifest = Manifest {
        title: title.clone(),
        vary: vary.clone(),
        seed,
        variants: labels
            .iter()
            .zip(&dirs)
            .map(|(label, dir)| ManifestVariant {
                label: label.clone(),
                dir: dir.clone(),
            })
            .collect(),
    };
    if let Err(err) = write_comparison(staged.path(), &manifest, &records) {
        eprintln!("error: writing the comparison to {}: {err}", out.display());
        return EXIT_IO;
    }
    if let Err(failure) = staged.commit() {
        eprintln!("error: {}", failure.message);
        return failure.code;
    }
    println!("{title} (seed {seed})");
    print!("{}", faultline_reports::comparison_table(&vary, &records));
    println!("records      {}", out.display());
    println!("report       {}", out.join("compare.html").display());
    let failed: Vec<&str> = records
        .iter()
        .filter(|(_, rec)| rec.summary.checks.iter().any(|check| !check.passed))
        .map(|(label, _)| label.as_str())
        .collect();
    if failed.is_empty() {
        return EXIT_OK;
    }
    println!(
        "checks failed in {} of {} variants: {}",
        failed.len(),
        records.len(),
        failed.join(", ")
    );
    for (label, rec) in &records {
        if failed.contains(&label.as_str()) {
            println!("{}", rec.summary.reproduce);
        }
    }
    EXIT_CHECK_FAILED
}

/// A bar on standard error while variants run, hidden when it is not a terminal.
fn progress_bar(variants: usize) -> ProgressBar {
    super::terminal_bar(
        variants as u64,
        "{bar:30} {pos}/{len} variants, {elapsed} elapsed: {msg}",
    )
}

/// Writes the comparison's report and its manifest into `dir`.
fn write_comparison(
    dir: &Path,
    manifest: &Manifest,
    records: &[(String, RunRecord)],
) -> Result<(), String> {
    let dirs: Vec<String> = manifest.variants.iter().map(|v| v.dir.clone()).collect();
    faultline_reports::write_comparison_in(dir, &manifest.title, &manifest.vary, records, &dirs)
        .map_err(|err| err.to_string())?;
    let mut json = serde_json::to_string_pretty(manifest).map_err(|err| err.to_string())?;
    json.push('\n');
    faultline_reports::io::write_file(&dir.join(MANIFEST_FILE), json.as_bytes())
        .map_err(|err| err.to_string())
}

/// What rebuilding a comparison gave: the files written, and whether a check of any
/// variant failed.
pub struct Rebuilt {
    /// Files written.
    pub written: usize,
    /// Whether a check of any variant failed.
    pub failed: bool,
}

/// Rebuilds a comparison directory: every variant's report, then the comparison's. A
/// record that cannot be read is bad input (exit 2), a report that cannot be written an
/// output failure (exit 3).
pub fn rebuild(dir: &Path) -> Result<Rebuilt, Failure> {
    let path = dir.join(MANIFEST_FILE);
    // A record like the others: a regular file, of at most 16 MiB (a label per variant).
    let text =
        faultline_reports::io::read_record(&path, 16 << 20).map_err(|err| err.to_string())?;
    let manifest: Manifest = serde_json::from_str(&text)
        .map_err(|err| format!("{}: not a comparison manifest: {err}", path.display()))?;
    let mut records = Vec::with_capacity(manifest.variants.len());
    let mut written = 0;
    for variant in &manifest.variants {
        let variant_dir = dir.join(&variant.dir);
        if variant.dir.is_empty()
            || variant.dir.starts_with('.')
            || variant.dir.contains(['/', '\\'])
        {
            return Err(Failure::from(format!(
                "{}: variant directory {:?} is not a plain name inside the comparison",
                path.display(),
                variant.dir
            )));
        }
        let rec = faultline_reports::load_run(&variant_dir)
            .map_err(|err| report_failure(&variant_dir, &err))?;
        written += faultline_reports::write_run_report(&variant_dir, &rec)
            .map_err(|err| report_failure(&variant_dir, &err))?
            .len();
        records.push((variant.label.clone(), rec));
    }
    let dirs: Vec<String> = manifest.variants.iter().map(|v| v.dir.clone()).collect();
    let paths = faultline_reports::write_comparison_in(
        dir,
        &manifest.title,
        &manifest.vary,
        &records,
        &dirs,
    )
    .map_err(|err| report_failure(dir, &err))?;
    let failed = records
        .iter()
        .any(|(_, rec)| rec.summary.checks.iter().any(|check| !check.passed));
    Ok(Rebuilt {
        written: written + paths.len(),
        failed,
    })
}

/// A report error as a failure: exit 3 when output could not be written, else 2.
pub fn report_failure(dir: &Path, err: &faultline_reports::ReportError) -> Failure {
    let message = format!("{}: {err}", dir.display());
    if err.is_output() {
        Failure::io(message)
    } else {
        Failure::from(message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variant_directories_are_safe_and_distinct() {
        let labels: Vec<String> = ["1.0", "a b", "a_b", "../x", "{\"a\": 1}", ".hidden"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let dirs = variant_dirs(&labels);
        assert_eq!(dirs[0], "1.0");
        assert_eq!(dirs[1], "a_b");
        assert_eq!(dirs[2], "a_b-2");
        // A value given twice, and one spelled like a numbered directory.
        let labels: Vec<String> = ["a", "a-2", "a"].iter().map(|s| s.to_string()).collect();
        let dirs = variant_dirs(&labels);
        assert_eq!(dirs, ["a", "a-2", "a-3"]);
        assert!(dirs
            .iter()
            .all(|dir| !dir.starts_with('.') && !dir.contains('/')));
        let mut unique = dirs.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), dirs.len(), "{dirs:?}");
    }
}
