//! `faultline shrink SCENARIO --seed N [--set PATH=VALUE]... [--check NAME]
//! [--max-runs N] [--max-time T] [--out FILE]`
//!
//! Shrinks a failing seed to a minimal scenario that fails the same check (see
//! `sweep::shrink`), prints each step as it is found and what was removed, and writes
//! the minimal scenario (explicit, seed included). Exit 1 with the command that replays
//! the minimal scenario as the last line; 0 when the seed fails nothing (there is
//! nothing to shrink); 2 for bad input.

use std::path::PathBuf;

use crate::scenario::overrides::parse_sets;
use crate::scenario::overrides::reproduce_command;
use crate::scenario::Dur;
use crate::sweep::shrink::{self, Bounds, Stop};
use crate::sweep::Prepared;

use super::{EXIT_BAD_INPUT, EXIT_CHECK_FAILED, EXIT_OK};

/// Arguments of `shrink`.
#[derive(Debug, clap::Args)]
pub struct ShrinkArgs {
    /// Scenario file (JSON).
    pub scenario: PathBuf,
    /// The failing seed (default: the scenario's).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Set a scenario field first, as `sweep --set` does (repeatable).
    #[arg(long = "set", value_name = "PATH=VALUE")]
    pub sets: Vec<String>,
    /// The check that must keep failing, by name (`availability_at_least`); default the
    /// first that fails.
    #[arg(long)]
    pub check: Option<String>,
    /// Most simulation runs.
    #[arg(long, default_value_t = shrink::DEFAULT_MAX_RUNS)]
    pub max_runs: u32,
    /// Most wall time (`10m`, `90s`).
    #[arg(long, default_value = "10m")]
    pub max_time: String,
    /// Where to write the minimal scenario (default
    /// `runs/<name>/shrink-seed-<N>/scenario.min.json`).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// Runs `shrink`; returns the exit code.
pub fn run(args: &ShrinkArgs) -> u8 {
    match shrink_seed(args) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err}");
            EXIT_BAD_INPUT
        }
    }
}

fn shrink_seed(args: &ShrinkArgs) -> Result<u8, String> {
    let sets = parse_sets(&args.sets)?;
    let max_time: Dur = args
        .max_time
        .parse()
        .map_err(|err| format!("--max-time: {err}"))?;
    if args.max_runs == 0 {
        return Err("--max-runs 0: give at least 1".to_owned());
    }
    let prepared = Prepared::load(&args.scenario, &sets)?;
    let seed = args.seed.unwrap_or(prepared.base.seed);
    let scenario = prepared.at_seed(seed)?;
    let Some(target) = shrink::target_of(&scenario, seed, args.check.as_deref())? else {
        println!(
            "seed {seed} of {} passes every check: nothing to shrink",
            args.scenario.display()
        );
        return Ok(EXIT_OK);
    };
    println!(
        "shrink       {} seed {seed}: keeping {target} failing (at most {} runs, {max_time})",
        prepared.base.name, args.max_runs
    );
    let bounds = Bounds {
        max_runs: args.max_runs,
        max_wall_s: max_time.as_secs_f64(),
    };
    let shrunk = shrink::shrink(&scenario, seed, target, bounds, &mut |step| {
        println!("  {step}");
    })?;
    let out = args.out.clone().unwrap_or_else(|| {
        PathBuf::from("runs")
            .join(&prepared.base.name)
            .join(format!("shrink-seed-{seed}"))
            .join("scenario.min.json")
    });
    if let Some(parent) = out.parent().filter(|parent| !parent.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .map_err(|err| format!("cannot create {}: {err}", parent.display()))?;
    }
    let mut text = serde_json::to_string_pretty(&shrunk.scenario).map_err(|err| err.to_string())?;
    text.push('\n');
    std::fs::write(&out, text).map_err(|err| format!("cannot write {}: {err}", out.display()))?;

    if shrunk.steps.is_empty() {
        println!("  (no step kept the failure)");
    }
    println!(
        "faults       {} -> {} ({} removed{})",
        shrunk.faults_before,
        shrunk.faults_after,
        shrunk.faults_before.saturating_sub(shrunk.faults_after),
        if shrunk.expanded > 0 {
            format!(", after expanding {} random process(es)", shrunk.expanded)
        } else {
            String::new()
        }
    );
    println!("runs         {} of at most {}", shrunk.runs, args.max_runs);
    println!(
        "stopped      {}",
        match shrunk.stop {
            Stop::Fixpoint =>
                "cannot shrink further: no removal, shorter window or smaller count keeps the failure",
            Stop::Runs => "the bound on runs was reached (raise --max-runs to go on)",
            Stop::WallTime => "the bound on wall time was reached (raise --max-time to go on)",
        }
    );
    println!("trace_hash   {}", shrunk.trace_hash);
    println!("minimal      {}", out.display());
    println!(
        "FAIL         the minimal scenario fails {}; it replays with:",
        shrunk.target
    );
    println!("{}", reproduce_command(&out, &[], seed));
    Ok(EXIT_CHECK_FAILED)
}
