//! One line for `cargo test`: run a scenario over many seeds and, on a failure, panic
//! with the failing seed, the check it failed (its figure, value and threshold) and the
//! command that replays it, as madsim's `MADSIM_TEST_SEED` does for its tests.
//!
//! ```
//! // Every seed of 1..4 passes the checks of this scenario.
//! # let dir = std::env::temp_dir().join(format!("faultline-doc-testing-{}", std::process::id()));
//! # std::fs::create_dir_all(&dir).unwrap();
//! # let path = dir.join("tiny.json");
//! # std::fs::write(&path, r#"{"name": "tiny", "duration": "2s",
//! #   "workload": {"kind": "rpc", "clients": {"count": 2, "arrival": {"poisson_per_s": 5},
//! #     "timeout": "100ms"}, "servers": {"count": 1, "workers": 4,
//! #     "service_time": {"constant": "1ms"}, "queue_limit": 100}},
//! #   "checks": [{"availability_at_least": 0.5}]}"#).unwrap();
//! faultline::testing::check_seeds::<faultline::workload::rpc::Rpc>(&path, 1..4);
//! ```
//!
//! The seeds run as a sweep runs them (the same loading, runner, record and reproduce
//! line), in parallel, and nothing is written: a failing seed's records come from its
//! reproduce line.

use std::fmt;
use std::path::Path;

use faultline_reports::figures;
use faultline_reports::record::CheckResult;

use crate::runner;
use crate::sweep::{summarize, Prepared};
use crate::workload::register;
use crate::workload::registry::Registrable;

pub use crate::scenario::overrides::set_program;

/// Seeds run at a time: a long range is checked chunk by chunk, stopping at the first
/// chunk with a failure, so its memory does not grow with the range.
const CHUNK_SEEDS: usize = 256;

/// Runs the scenario at `scenario` at every seed of `seeds` with kind `K` registered
/// (a built-in kind is already there) and panics at the first failing seed with what
/// [`SeedFailure`] says: the seed, the failed check and the command that replays it.
///
/// # Panics
/// When a seed fails a check or stops with an error, or the scenario does not load.
#[track_caller]
pub fn check_seeds<K>(scenario: impl AsRef<Path>, seeds: impl IntoIterator<Item = u64>)
where
    K: Registrable,
{
    if let Err(err) = register::<K>() {
        panic!("{err}");
    }
    if let Err(failure) = try_check_seeds(scenario.as_ref(), seeds) {
        panic!("{failure}");
    }
}

/// [`check_seeds`] for kinds already registered, without panicking: the number of seeds
/// that passed, or the first that failed.
pub fn try_check_seeds(
    scenario: &Path,
    seeds: impl IntoIterator<Item = u64>,
) -> Result<u64, SeedFailure> {
    let prepared = Prepared::load(scenario, &[]).map_err(|message| SeedFailure {
        seed: None,
        checks: Vec::new(),
        error: Some(message),
        reproduce: String::new(),
    })?;
    let mut passed = 0;
    let mut seeds = seeds.into_iter().peekable();
    while seeds.peek().is_some() {
        let chunk: Vec<u64> = seeds.by_ref().take(CHUNK_SEEDS).collect();
        let results = runner::parallel(
            &chunk,
            runner::cores(),
            |&seed| check_seed(&prepared, seed),
            |_| {},
        )
        .map_err(|message| SeedFailure {
            seed: None,
            checks: Vec::new(),
            error: Some(message),
            reproduce: String::new(),
        })?;
        for result in results {
            result?;
            passed += 1;
        }
    }
    Ok(passed)
}

/// One seed run as a sweep runs it: its failed checks, or its error.
fn check_seed(prepared: &Prepared, seed: u64) -> Result<(), SeedFailure> {
    let failure = |checks: Vec<FailedCheck>, error: Option<String>| SeedFailure {
        seed: Some(seed),
        checks,
        error,
        reproduce: prepared.reproduce(seed),
    };
    let scenario = prepared
        .at_seed(seed)
        .map_err(|err| failure(Vec::new(), Some(err)))?;
    let timed = runner::run(std::sync::Arc::clone(&scenario), seed, None)
        .map_err(|err| failure(Vec::new(), Some(err.to_string())))?;
    let invocation = crate::record::Invocation {
        scenario_path: prepared.path.display().to_string(),
        wall_s: timed.wall_s,
        reproduce: prepared.reproduce(seed),
    };
    let record = timed.output.record(&scenario, &invocation);
    let run = summarize(&record);
    if run.passed {
        return Ok(());
    }
    let failed = run
        .checks
        .iter()
        .filter(|check| !check.passed)
        .map(|check| FailedCheck::of(check, &record.summary.figures))
        .collect();
    Err(failure(failed, None))
}

/// A seed that failed, or a scenario that could not be checked.
#[derive(Clone, Debug, PartialEq)]
pub struct SeedFailure {
    /// The seed (`None` when the scenario itself did not load).
    pub seed: Option<u64>,
    /// The checks it failed.
    pub checks: Vec<FailedCheck>,
    /// The error that stopped it instead (a scenario that does not load, an engine
    /// invariant, a limit).
    pub error: Option<String>,
    /// The command that replays it.
    pub reproduce: String,
}

/// A check that failed: its name (with its bound), the figure it reads, the figure's
/// value and the threshold.
#[derive(Clone, Debug, PartialEq)]
pub struct FailedCheck {
    /// `answered_at_least 0.7`.
    pub name: String,
    /// The figure it reads.
    pub figure: Option<String>,
    /// The figure's value in the run.
    pub value: Option<f64>,
    /// The bound.
    pub threshold: Option<f64>,
    /// Its detail (`69.3% answered vs at least 70.0%`).
    pub detail: String,
}

impl FailedCheck {
    fn of(check: &CheckResult, figures: &[figures::Figure]) -> FailedCheck {
        FailedCheck {
            name: check.name.clone(),
            figure: check.figure.clone(),
            value: check
                .figure
                .as_deref()
                .and_then(|name| figures::value(figures, name)),
            threshold: check.threshold,
            detail: check.detail.clone(),
        }
    }
}

impl fmt::Display for SeedFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.seed {
            Some(seed) => write!(f, "seed {seed} failed")?,
            None => write!(f, "the scenario could not be checked")?,
        }
        if let Some(error) = &self.error {
            write!(f, ": {error}")?;
        }
        for check in &self.checks {
            write!(f, "\n  check {}: {}", check.name, check.detail)?;
            if let (Some(figure), Some(value)) = (&check.figure, check.value) {
                write!(f, " (figure {figure} = {value:.4}")?;
                if let Some(threshold) = check.threshold {
                    write!(f, ", threshold {threshold}")?;
                }
                write!(f, ")")?;
            }
        }
        if !self.reproduce.is_empty() {
            write!(f, "\nreplay it with:\n  {}", self.reproduce)?;
        }
        Ok(())
    }
}

impl std::error::Error for SeedFailure {}
