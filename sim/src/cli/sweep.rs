//! `faultline sweep SCENARIO --seeds A..B [--jobs N] [--out DIR] [--set PATH=VALUE]...
//! [--shard I/N | --shards N] [--keep-runs]`
//!
//! Runs every seed of the range (or of one shard of it) in its own runtime, `--jobs` at
//! a time, with a progress bar on a terminal and silence otherwise; writes `sweep.json`,
//! `timing.json` and the sweep report (`sweep.md`, `sweep.html`) into the output
//! directory, and the full records of every failed seed under `runs/seed-N/`. Exit 1
//! if any seed failed a check or did not complete; the last line printed is the command
//! that reproduces the first failure.

use std::path::PathBuf;

use crate::runner;
use crate::scenario::overrides::parse_sets;
use crate::sweep::record::SeedRun;
use crate::sweep::seeds::{shard_from_env, SeedRange, Shard, ShardSource};
use crate::sweep::{self, Prepared, SweepSpec};

use super::output;
use super::{Failure, EXIT_CHECK_FAILED, EXIT_OK};

/// Failed seeds the command lists (all are in sweep.json).
const FAILED_PRINTED: usize = 20;

/// Arguments of `sweep`.
#[derive(Debug, clap::Args)]
pub struct SweepArgs {
    /// Scenario file (JSON).
    pub scenario: PathBuf,
    /// Seeds: `A..B` (B not included), `A..=B`, or one seed `N`.
    #[arg(long, value_name = "A..B")]
    pub seeds: String,
    /// Runs at a time (default: every core).
    #[arg(long)]
    pub jobs: Option<usize>,
    /// Output directory (default `runs/<name>/sweep-A-B`, with `-set-<digest>` after
    /// `--set` and `-shard-I-of-N`); replaced whole, and only when faultline wrote it.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Set a scenario field for every seed, as a file would: `workload.clients.count=200`
    /// (repeatable).
    #[arg(long = "set", value_name = "PATH=VALUE")]
    pub sets: Vec<String>,
    /// Run only the I-th of N interleaved slices of the seeds (I from 0). Without it,
    /// the index comes from a batch engine's environment: JOB_COMPLETION_INDEX
    /// (Kubernetes Indexed Job, with --shards N) or SLURM_ARRAY_TASK_ID (Slurm array).
    #[arg(long, value_name = "I/N")]
    pub shard: Option<String>,
    /// The number of shards, when the index comes from the environment.
    #[arg(long, value_name = "N")]
    pub shards: Option<u64>,
    /// Write every run's full records and report, not only the failed ones'.
    #[arg(long)]
    pub keep_runs: bool,
}

fn shard_of(args: &SweepArgs) -> Result<Option<ShardSource>, String> {
    shard_source(args.shard.as_deref(), args.shards)
}

/// The shard of `--shard` (checked against `--shards`), else of the environment.
pub(super) fn shard_source(
    shard: Option<&str>,
    shards: Option<u64>,
) -> Result<Option<ShardSource>, String> {
    match shard {
        Some(text) => {
            let shard = Shard::parse(text)?;
            if let Some(count) = shards.filter(|count| *count != shard.count) {
                return Err(format!(
                    "--shard {text} and --shards {count} disagree: give one of them"
                ));
            }
            Ok(Some(ShardSource {
                shard,
                from: "--shard".to_owned(),
            }))
        }
        None => shard_from_env(|name| std::env::var(name).ok(), shards),
    }
}

/// A progress bar on stderr when it is a terminal (done/total, rate, ETA, failures so
/// far); hidden otherwise.
fn progress_bar(total: u64) -> indicatif::ProgressBar {
    let bar = super::terminal_bar(
        total,
        "{bar:30} {pos}/{len} seeds  {per_sec}  ETA {eta}  {msg}",
    );
    bar.set_message("0 failed");
    bar
}

/// Runs `sweep`; returns the exit code.
pub fn run(args: &SweepArgs) -> u8 {
    match sweep(args) {
        Ok(code) => code,
        Err(failure) => {
            eprintln!("error: {}", failure.message);
            failure.code
        }
    }
}

fn sweep(args: &SweepArgs) -> Result<u8, Failure> {
    let seeds = SeedRange::parse(&args.seeds)?;
    let sets = parse_sets(&args.sets)?;
    let shard = shard_of(args)?;
    let jobs = args.jobs.unwrap_or_else(runner::cores);
    if jobs == 0 {
        return Err("--jobs 0: give at least 1".into());
    }
    let prepared = Prepared::load(&args.scenario, &sets)?;
    let shard_name = shard.as_ref().map_or_else(String::new, |source| {
        format!("-shard-{}-of-{}", source.shard.index, source.shard.count)
    });
    let out = args.out.clone().unwrap_or_else(|| {
        PathBuf::from("runs")
            .join(&prepared.base.name)
            .join(format!(
                "sweep-{}-{}{}{shard_name}",
                seeds.start,
                seeds.end,
                output::set_suffix(&sets)
            ))
    });
    let mut words = output::set_args(&sets);
    words.push(format!("--seeds {seeds}"));
    if let Some(source) = &shard {
        words.push(format!("--shard {}", source.shard));
    }
    // Written whole, like a run: into a temporary sibling (created now, so an output
    // that cannot be written fails before any seed runs), renamed into place at the end.
    let staged = output::stage(&output::Request {
        out: &out,
        kind: output::Kind::Sweep,
        source: output::source("sweep", &args.scenario, &words),
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
    let count = seeds.seeds(spec.shard).len();
    match &shard {
        Some(source) => println!(
            "sweep        {} seeds {seeds}, shard {} ({}): {count} seeds, --jobs {jobs}",
            prepared.base.name, source.shard, source.from
        ),
        None => println!(
            "sweep        {} seeds {seeds}: {count} seeds, --jobs {jobs}",
            prepared.base.name
        ),
    }
    let bar = progress_bar(count as u64);
    let mut failed = 0u64;
    let outcome = sweep::execute(&prepared, &spec, |run: &SeedRun| {
        // Count the seed as done before as failed: the bar redraws on a new message, so
        // the other order showed a failure count ahead of the done count.
        bar.inc(1);
        if !run.passed {
            failed += 1;
            bar.set_message(format!("{failed} failed"));
        }
    })
    .map_err(Failure::io)?;
    bar.finish_and_clear();
    sweep::write(staged.path(), &outcome, &[staged.path().to_path_buf()]).map_err(Failure::io)?;
    staged.commit()?;
    print!(
        "\n{}",
        sweep::report::terminal_summary(&outcome.file, &outcome.timing, FAILED_PRINTED)
    );
    println!(
        "records      {}",
        out.join(sweep::record::SWEEP_FILE).display()
    );
    println!("report       {}", out.join("sweep.html").display());
    Ok(finish(&outcome.file))
}

/// The exit code of a sweep file, after printing the command that reproduces its first
/// failure as the last line.
pub fn finish(file: &sweep::record::SweepFile) -> u8 {
    match file
        .totals
        .first_failure
        .and_then(|seed| file.runs.iter().find(|run| run.seed == seed))
    {
        Some(run) => {
            println!(
                "FAIL         {} of {} seeds failed; the first, seed {}, replays with:",
                file.totals.failed + file.totals.errors,
                file.totals.runs,
                run.seed
            );
            println!("{}", run.reproduce.clone().unwrap_or_default());
            EXIT_CHECK_FAILED
        }
        None => EXIT_OK,
    }
}
