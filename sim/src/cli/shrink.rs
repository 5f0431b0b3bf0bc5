//! `faultline shrink SCENARIO --seed N [--set PATH=VALUE]... [--check NAME]
//! [--max-runs N] [--max-time T] [--out FILE]`
//!
//! Shrinks a failing seed to a minimal scenario that fails the same check (see
//! `sweep::shrink`), prints each step as it is found and what was removed, and writes
//! the minimal scenario (explicit, seed included). Exit 1 with the command that replays
//! the minimal scenario as the last line; 0 when the seed fails nothing (there is
//! nothing to shrink); 2 for bad input.

use std::path::{Path, PathBuf};

use crate::scenario::overrides::parse_sets;
use crate::scenario::overrides::{reproduce_command, shell_word};
use crate::scenario::Dur;
use crate::sweep::shrink::{self, Bounds, Stop};
use crate::sweep::Prepared;

use super::output;
use super::{Failure, EXIT_CHECK_FAILED, EXIT_OK};

/// The minimal scenario's name in the default directory.
const MIN_FILE: &str = "scenario.min.json";

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
    /// The check that must keep failing: its name or the start of it
    /// (`availability_at_least`), or the figure it reads (`durability_violations`);
    /// default the first that fails.
    #[arg(long)]
    pub check: Option<String>,
    /// Most simulation runs.
    #[arg(long, default_value_t = shrink::DEFAULT_MAX_RUNS)]
    pub max_runs: u32,
    /// Most wall time (`10m`, `90s`).
    #[arg(long, default_value = "10m")]
    pub max_time: String,
    /// Where to write the minimal scenario, a file that must not exist yet (default
    /// `runs/<name>/shrink-seed-<N>/scenario.min.json`, a directory replaced whole).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// Runs `shrink`; returns the exit code.
pub fn run(args: &ShrinkArgs) -> u8 {
    match shrink_seed(args) {
        Ok(code) => code,
        Err(failure) => {
            eprintln!("error: {}", failure.message);
            failure.code
        }
    }
}

/// Where the minimal scenario goes: a file named with `--out` (never replacing one that
/// exists), or `scenario.min.json` in a default directory written whole.
enum Destination {
    File(PathBuf),
    Staged(output::Staged, PathBuf),
}

fn shrink_seed(args: &ShrinkArgs) -> Result<u8, Failure> {
    let sets = parse_sets(&args.sets)?;
    let max_time: Dur = args
        .max_time
        .parse()
        .map_err(|err| format!("--max-time: {err}"))?;
    if args.max_runs == 0 {
        return Err("--max-runs 0: give at least 1".into());
    }
    let prepared = Prepared::load(&args.scenario, &sets)?;
    let seed = args.seed.unwrap_or(prepared.base.seed);
    let scenario = prepared.at_seed(seed)?;
    // Where the result goes is checked before the shrink runs (it may take minutes).
    let destination = match &args.out {
        Some(file) => {
            if std::fs::symlink_metadata(file).is_ok() {
                return Err(format!(
                    "--out {}: exists, and shrink does not replace a file; remove it, or \
                     name a new file",
                    file.display()
                )
                .into());
            }
            if let Some(parent) = file
                .parent()
                .filter(|parent| !parent.as_os_str().is_empty())
            {
                std::fs::create_dir_all(parent).map_err(|err| {
                    Failure::io(format!("cannot create {}: {err}", parent.display()))
                })?;
            }
            Destination::File(file.clone())
        }
        None => {
            let dir = PathBuf::from("runs")
                .join(&prepared.base.name)
                .join(format!("shrink-seed-{seed}{}", output::set_suffix(&sets)));
            let mut words = output::set_args(&sets);
            words.push(format!("--seed {seed}"));
            let staged = output::stage(&output::Request {
                out: &dir,
                kind: output::Kind::Shrink,
                source: output::source("shrink", &args.scenario, &words),
                default: true,
                inputs: std::slice::from_ref(&args.scenario),
            })?;
            Destination::Staged(staged, dir.join(MIN_FILE))
        }
    };
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
    // The minimal scenario lives elsewhere than the file it came from: its `$schema`
    // is made to point at the same schema from there (or dropped if there is none).
    let mut minimal = shrunk.scenario.clone();
    if let Some(schema) = &minimal.schema {
        let from_dir = args.scenario.parent().unwrap_or(Path::new("."));
        let to_dir = match &destination {
            Destination::File(file) => file.parent().unwrap_or(Path::new(".")).to_path_buf(),
            Destination::Staged(staged, _) => staged.path().to_path_buf(),
        };
        minimal.schema = crate::scenario::schema::relocate(schema, from_dir, &to_dir);
    }
    let mut text = serde_json::to_string_pretty(&minimal).map_err(|err| err.to_string())?;
    text.push('\n');
    let out = match destination {
        Destination::File(file) => {
            // Refused above; checked again in case the file appeared meanwhile.
            if std::fs::symlink_metadata(&file).is_ok() {
                return Err(format!(
                    "--out {}: appeared while shrinking; not replaced",
                    file.display()
                )
                .into());
            }
            crate::sweep::write_file(&file, text.as_bytes()).map_err(Failure::io)?;
            file
        }
        Destination::Staged(staged, file) => {
            crate::sweep::write_file(&staged.path().join(MIN_FILE), text.as_bytes())
                .map_err(Failure::io)?;
            staged.commit()?;
            file
        }
    };

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
    // Replayed beside the file: the default run directory of its name may hold another
    // command's run, which is not replaced.
    let replay = out.with_file_name(format!(
        "{}-replay",
        out.file_stem().unwrap_or_default().to_string_lossy()
    ));
    println!(
        "{} --out {}",
        reproduce_command(&out, &[], seed),
        shell_word(&replay.display().to_string())
    );
    Ok(EXIT_CHECK_FAILED)
}
