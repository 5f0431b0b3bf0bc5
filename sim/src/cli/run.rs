//! `faultline run SCENARIO [--seed N] [--out DIR] [--trace] [--check-determinism]`

use std::path::{Path, PathBuf};
use std::sync::Arc;

use faultline_reports::record::RunRecord;

use crate::engine::EngineError;
use crate::record::Invocation;
use crate::runner;
use crate::scenario::{self, ResolvedScenario};

use super::{EXIT_BAD_INPUT, EXIT_CHECK_FAILED, EXIT_OK};

/// Arguments of `run`.
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// Scenario file (JSON).
    pub scenario: PathBuf,
    /// Seed (overrides the scenario's).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Output directory (default `runs/<name>/seed-<seed>`).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Also write every event to `trace.jsonl`.
    #[arg(long)]
    pub trace: bool,
    /// Run twice and fail (exit 1) if the trace hashes differ, printing the first
    /// divergent trace record.
    #[arg(long)]
    pub check_determinism: bool,
    /// Test only: with --check-determinism, the second run gets 1 ms more latency on
    /// every link for 1 s from this time, a divergence injected on purpose.
    #[arg(long, hide = true, value_name = "DURATION")]
    pub inject_divergence_at: Option<crate::scenario::Dur>,
}

/// The command that reproduces a run.
pub fn reproduce_command(scenario_path: &Path, seed: u64) -> String {
    format!("faultline run {} --seed {seed}", scenario_path.display())
}

/// Runs `run`; returns the exit code.
pub fn run(args: &RunArgs) -> u8 {
    let scenario = match scenario::load_file_at(&args.scenario, args.seed) {
        Ok(scenario) => Arc::new(scenario),
        Err(err) => {
            eprintln!("error: {err}");
            return EXIT_BAD_INPUT;
        }
    };
    let seed = args.seed.unwrap_or(scenario.scenario.seed);
    let out = args.out.clone().unwrap_or_else(|| {
        PathBuf::from("runs")
            .join(&scenario.scenario.name)
            .join(format!("seed-{seed}"))
    });
    let reproduce = reproduce_command(&args.scenario, seed);
    let rec = match run_and_record(&scenario, &args.scenario, seed, &out, args.trace) {
        Ok(rec) => rec,
        Err(failure) => {
            eprintln!("error: {}", failure.message);
            eprintln!("{reproduce}");
            return failure.code;
        }
    };
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
    /// Exit code: 2 when the scenario cannot run as written, 1 otherwise.
    pub code: u8,
    /// What went wrong.
    pub message: String,
}

/// Runs one scenario at one seed and writes its records and report into `out`.
pub fn run_and_record(
    scenario: &Arc<ResolvedScenario>,
    scenario_path: &Path,
    seed: u64,
    out: &Path,
    trace: bool,
) -> Result<RunRecord, RunFailure> {
    std::fs::create_dir_all(out).map_err(|err| RunFailure {
        code: EXIT_BAD_INPUT,
        message: format!("cannot create {}: {err}", out.display()),
    })?;
    let trace_path = trace.then(|| out.join("trace.jsonl"));
    let timed = runner::run(Arc::clone(scenario), seed, trace_path).map_err(|err| RunFailure {
        code: match err {
            EngineError::Config(_) => EXIT_BAD_INPUT,
            _ => EXIT_CHECK_FAILED,
        },
        message: format!("{}: {err}", scenario_path.display()),
    })?;
    let invocation = Invocation {
        scenario_path: scenario_path.display().to_string(),
        wall_s: timed.wall_s,
        reproduce: reproduce_command(scenario_path, seed),
    };
    let rec = timed.output.record(&scenario.scenario, &invocation);
    faultline_reports::save_run(out, &rec)
        .and_then(|()| faultline_reports::write_run_report(out, &rec))
        .map_err(|err| RunFailure {
            code: EXIT_CHECK_FAILED,
            message: format!("writing records to {}: {err}", out.display()),
        })?;
    crate::sweep::write_resolved(out, scenario).map_err(|message| RunFailure {
        code: EXIT_CHECK_FAILED,
        message,
    })?;
    Ok(rec)
}
