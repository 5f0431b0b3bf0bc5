//! `faultline run SCENARIO [--set PATH=VALUE]... [--seed N] [--out DIR] [--trace]
//! [--check-determinism] [--max-events N]`

use std::path::{Path, PathBuf};
use std::sync::Arc;

use faultline_reports::record::RunRecord;

use crate::engine::progress::Progress;
use crate::engine::EngineError;
use crate::record::Invocation;
use crate::runner;
use crate::scenario::limits::MAX_EVENTS;
use crate::scenario::overrides::{parse_sets, reproduce_command};
use crate::scenario::{self, ResolvedScenario};

use super::output;
use super::{EXIT_BAD_INPUT, EXIT_CHECK_FAILED, EXIT_IO, EXIT_OK};

/// Arguments of `run`.
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// Scenario file (JSON).
    pub scenario: PathBuf,
    /// Change one field before running, e.g. `--set faults[0].restart_after=2s` or
    /// `--set workload.clients.count=500` (repeatable; the value is JSON, or else a string).
    #[arg(long = "set", value_name = "PATH=VALUE")]
    pub sets: Vec<String>,
    /// Seed (overrides the scenario's).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Output directory (default `runs/<name>/seed-<seed>`, with `-set-<digest>` after
    /// `--set`); replaced whole, and only when faultline wrote it.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Also write every event to `trace.jsonl`.
    #[arg(long)]
    pub trace: bool,
    /// Run twice and fail (exit 1) if the trace hashes differ, printing the first
    /// divergent trace record.
    #[arg(long)]
    pub check_determinism: bool,
    /// Stop the run with an error (exit 2) once it has handled this many engine events
    /// (default and most: 2000000000).
    #[arg(long, value_name = "N")]
    pub max_events: Option<u64>,
    /// Test only: with --check-determinism, the second run gets 1 ms more latency on
    /// every link for 1 s from this time, a divergence injected on purpose.
    #[arg(long, hide = true, value_name = "DURATION")]
    pub inject_divergence_at: Option<crate::scenario::Dur>,
}

/// Runs `run`; returns the exit code.
pub fn run(args: &RunArgs) -> u8 {
    let sets = match parse_sets(&args.sets) {
        Ok(sets) => sets,
        Err(err) => {
            eprintln!("error: {err}");
            return EXIT_BAD_INPUT;
        }
    };
    if let Some(max_events) = args.max_events {
        if max_events == 0 || max_events > MAX_EVENTS {
            eprintln!("error: --max-events {max_events}: write a number from 1 to {MAX_EVENTS}");
            return EXIT_BAD_INPUT;
        }
    }
    let options = scenario::Options {
        sets: &sets,
        seed: args.seed,
        max_events: args.max_events,
    };
    let resolved = match scenario::load(&args.scenario, &options) {
        Ok(resolved) => resolved,
        Err(err) => {
            eprintln!("error: {err}");
            return EXIT_BAD_INPUT;
        }
    };
    let scenario = Arc::new(resolved);
    let seed = scenario.run.seed;
    let default = args.out.is_none();
    let out = args.out.clone().unwrap_or_else(|| {
        PathBuf::from("runs")
            .join(&scenario.run.name)
            .join(format!("seed-{seed}{}", output::set_suffix(&sets)))
    });
    let mut reproduce = reproduce_command(&args.scenario, &sets, seed);
    // A run stopped by a limit, or one that did not replay, is reproduced with the
    // same flag.
    if let Some(max_events) = args.max_events {
        reproduce.push_str(&format!(" --max-events {max_events}"));
    }
    if args.check_determinism {
        reproduce.push_str(" --check-determinism");
    }
    let mut words = output::set_args(&sets);
    words.push(format!("--seed {seed}"));
    let request = output::Request {
        out: &out,
        kind: output::Kind::Run,
        source: output::source("run", &args.scenario, &words),
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
    let bar = run_progress_bar(scenario.plan.duration_ns);
    let mut show = |progress: &Progress| {
        if let Some(bar) = &bar {
            bar.set_position(progress.sim_ns() / 1_000_000);
            bar.set_message(progress_message(
                progress.sim_ns(),
                progress.events(),
                bar.elapsed(),
            ));
        }
    };
    let watch: Option<runner::Watcher<'_>> = match bar {
        Some(_) => Some(&mut show),
        None => None,
    };
    let recorded = run_and_record(
        &scenario,
        &args.scenario,
        &reproduce,
        seed,
        staged.path(),
        args.trace,
        watch,
    );
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    let rec = match recorded {
        Ok(rec) => rec,
        Err(failure) => {
            eprintln!("error: {}", failure.message);
            if failure.replay {
                eprintln!("{reproduce}");
            }
            return failure.code;
        }
    };
    if let Err(failure) = staged.commit() {
        eprintln!("error: {}", failure.message);
        return failure.code;
    }
    let determinism = args.check_determinism.then(|| {
        crate::sweep::diverge::check_run(
            &scenario,
            seed,
            &rec.summary.trace_hash,
            args.inject_divergence_at,
        )
    });
    print!("{}", faultline_reports::summary_table(&rec));
    println!("records      {}", out.display());
    let mut failed = false;
    for check in &rec.summary.checks {
        let mark = if check.passed { "ok  " } else { "FAIL" };
        println!("check {mark} {:<36} {}", check.name, check.detail);
        failed |= !check.passed;
    }
    if let Some((held, text)) = determinism {
        print!("{text}");
        failed |= !held;
    }
    if failed {
        println!("{reproduce}");
        EXIT_CHECK_FAILED
    } else {
        EXIT_OK
    }
}

/// A run that could not produce its records.
pub struct RunFailure {
    /// Exit code: 2 when the scenario cannot run as written (or passes a limit while it
    /// runs), 3 when its records cannot be written or the engine broke an invariant.
    pub code: u8,
    /// What went wrong.
    pub message: String,
    /// Whether the command that reproduces the run helps (not for a full disk).
    pub replay: bool,
}

impl RunFailure {
    /// Records that could not be written.
    pub fn output(message: String) -> RunFailure {
        RunFailure {
            code: EXIT_IO,
            message,
            replay: false,
        }
    }
}

/// Runs one scenario at one seed and writes its records and report into `out` (which
/// exists); `reproduce` is the command its records name.
pub fn run_and_record(
    scenario: &Arc<ResolvedScenario>,
    scenario_path: &Path,
    reproduce: &str,
    seed: u64,
    out: &Path,
    trace: bool,
    watch: Option<runner::Watcher<'_>>,
) -> Result<RunRecord, RunFailure> {
    let trace_path = trace.then(|| out.join("trace.jsonl"));
    let timed =
        runner::run_watched(Arc::clone(scenario), seed, trace_path, watch).map_err(|err| {
            RunFailure {
                code: match err {
                    EngineError::Config(_) | EngineError::Limit(_) => EXIT_BAD_INPUT,
                    EngineError::Io(_) | EngineError::Invariant(_) => EXIT_IO,
                    // The code under test failed at this seed, as a check would.
                    EngineError::Panic { .. } => EXIT_CHECK_FAILED,
                },
                replay: !matches!(err, EngineError::Io(_)),
                message: format!("{}: {err}", scenario_path.display()),
            }
        })?;
    let invocation = Invocation {
        scenario_path: scenario_path.display().to_string(),
        wall_s: timed.wall_s,
        reproduce: reproduce.to_owned(),
    };
    let rec = timed.output.record(scenario, &invocation);
    faultline_reports::save_run(out, &rec)
        .and_then(|()| faultline_reports::write_run_report(out, &rec))
        .map_err(|err| {
            RunFailure::output(format!("writing records to {}: {err}", out.display()))
        })?;
    crate::sweep::write_resolved(out, scenario).map_err(RunFailure::output)?;
    Ok(rec)
}

/// A progress bar on stderr when it is a terminal: simulated seconds reached of the
/// run's duration, events handled and their rate; `None` otherwise (a pipe or a file
/// gets nothing).
fn run_progress_bar(duration_ns: u64) -> Option<indicatif::ProgressBar> {
    let bar = super::terminal_bar((duration_ns / 1_000_000).max(1), "{bar:30} {msg}");
    if bar.is_hidden() {
        return None;
    }
    bar.set_message(progress_message(0, 0, std::time::Duration::ZERO));
    Some(bar)
}

/// The progress bar's words: `12.5 s simulated, 4,200,000 events, 1,050,000 events/s`.
fn progress_message(sim_ns: u64, events: u64, elapsed: std::time::Duration) -> String {
    let wall_s = elapsed.as_secs_f64();
    let rate = if wall_s > 0.0 {
        faultline_reports::count((events as f64 / wall_s) as u64)
    } else {
        "-".to_string()
    };
    format!(
        "{:.1} s simulated, {} events, {rate} events/s",
        sim_ns as f64 / 1e9,
        faultline_reports::count(events)
    )
}
