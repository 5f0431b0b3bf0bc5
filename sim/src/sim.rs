//! The Rust API: a scenario run, swept and shrunk from code, writing the same records,
//! reports and reproduce lines as the command line, because it is the command line: each
//! method runs the command in this process ([`crate::cli::run_with`]) and reads back
//! what it wrote.
//!
//! ```
//! use faultline::Sim;
//!
//! let dir = std::env::temp_dir().join(format!("faultline-doc-sim-{}", std::process::id()));
//! let scenario = serde_json::json!({
//!     "name": "tiny",
//!     "duration": "2s",
//!     "workload": {
//!         "kind": "rpc",
//!         "clients": { "count": 2, "arrival": { "poisson_per_s": 5 }, "timeout": "100ms" },
//!         "servers": {
//!             "count": 1, "workers": 4, "service_time": { "constant": "1ms" }, "queue_limit": 100
//!         }
//!     },
//!     "checks": [{ "availability_at_least": 0.5 }]
//! });
//! let sim = Sim::from_value(&scenario, dir.join("tiny.json"))?.out(dir.join("runs"));
//! let run = sim.run(7)?;
//! assert!(run.passed);
//! assert!(run.reproduce.ends_with("--seed 7"));
//! assert_eq!(run.record.summary.seed, 7);
//! let sweep = sim.sweep(1..4)?;
//! assert_eq!(sweep.file.runs.len(), 3);
//! assert!(sim.shrink(7)?.is_none(), "a passing seed has nothing to shrink");
//! # std::fs::remove_dir_all(&dir).ok();
//! # Ok::<(), faultline::sim::SimError>(())
//! ```
//!
//! A kind written outside the crate is registered first
//! ([`crate::workload::register`]); the reproduce lines name the program set with
//! [`crate::scenario::overrides::set_program`] (`faultline` until then).

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

use faultline_reports::record::RunRecord;
use serde_json::Value;

use crate::cli::{self, Kinds, EXIT_CHECK_FAILED, EXIT_OK};
use crate::scenario::{self, overrides};
use crate::sweep::record::SweepFile;

/// A scenario file, checked, ready to run.
#[derive(Clone, Debug)]
pub struct Sim {
    scenario: PathBuf,
    name: String,
    out: Option<PathBuf>,
}

/// A command that could not do its work: bad input (exit code 2) or an output that
/// could not be written or an engine invariant (3).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SimError {
    /// The command's exit code.
    pub code: u8,
    /// What went wrong.
    pub message: String,
}

impl fmt::Display for SimError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for SimError {}

impl SimError {
    fn bad_input(message: impl Into<String>) -> SimError {
        SimError {
            code: cli::EXIT_BAD_INPUT,
            message: message.into(),
        }
    }
}

/// One run: its record (as written in its directory), whether every check held, and
/// the command that replays it.
#[derive(Clone, Debug)]
pub struct Run {
    /// Its records' directory.
    pub dir: PathBuf,
    /// The record, read back from `dir`.
    pub record: RunRecord,
    /// Every check held.
    pub passed: bool,
    /// The command that replays it.
    pub reproduce: String,
}

/// A sweep: its `sweep.json`, read back.
#[derive(Clone, Debug)]
pub struct Sweep {
    /// Its directory.
    pub dir: PathBuf,
    /// `sweep.json`.
    pub file: SweepFile,
    /// Every seed held every check.
    pub passed: bool,
}

impl Sweep {
    /// The command that replays the first failing seed.
    pub fn first_failure(&self) -> Option<&str> {
        self.file
            .runs
            .iter()
            .find(|run| !run.passed)
            .and_then(|run| run.reproduce.as_deref())
    }
}

/// A shrunk failing seed: the minimal scenario that still fails.
#[derive(Clone, Debug)]
pub struct Shrunk {
    /// The minimal scenario's file.
    pub path: PathBuf,
    /// The minimal scenario.
    pub scenario: Value,
    /// The command that replays it.
    pub reproduce: String,
}

impl Sim {
    /// The scenario file at `path`, checked through the one resolve step (an error names
    /// the file, line:column and field).
    pub fn from_file(path: impl AsRef<Path>) -> Result<Sim, SimError> {
        let path = path.as_ref();
        let resolved = scenario::load(path, &scenario::Options::default())
            .map_err(|err| SimError::bad_input(err.to_string()))?;
        Ok(Sim {
            scenario: path.to_owned(),
            name: resolved.run.name,
            out: None,
        })
    }

    /// A scenario given as a value, written to `path` (the reproduce lines name that
    /// file), then [`Sim::from_file`]. A file already at `path` with other contents is
    /// not replaced.
    pub fn from_value(value: &Value, path: impl AsRef<Path>) -> Result<Sim, SimError> {
        let path = path.as_ref();
        let mut text = serde_json::to_string_pretty(value)
            .map_err(|err| SimError::bad_input(err.to_string()))?;
        text.push('\n');
        match std::fs::read_to_string(path) {
            Ok(existing) if existing == text => {}
            Ok(_) => {
                return Err(SimError::bad_input(format!(
                    "{}: exists with other contents; not replaced",
                    path.display()
                )))
            }
            Err(_) if path.exists() => {
                return Err(SimError::bad_input(format!(
                    "{}: exists and is not a readable file; not replaced",
                    path.display()
                )))
            }
            Err(_) => {
                if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                    std::fs::create_dir_all(parent).map_err(|err| SimError {
                        code: cli::EXIT_IO,
                        message: format!("cannot create {}: {err}", parent.display()),
                    })?;
                }
                crate::sweep::write_file(path, text.as_bytes()).map_err(|message| SimError {
                    code: cli::EXIT_IO,
                    message,
                })?;
            }
        }
        Sim::from_file(path)
    }

    /// Writes under `dir` instead of `runs/<name>`: `seed-N`, `sweep-A-B` and
    /// `shrink-seed-N.min.json` (which, as `shrink --out`, is never replaced).
    pub fn out(mut self, dir: impl Into<PathBuf>) -> Sim {
        self.out = Some(dir.into());
        self
    }

    fn root(&self) -> PathBuf {
        self.out
            .clone()
            .unwrap_or_else(|| PathBuf::from("runs").join(&self.name))
    }

    /// Runs the command `words` on the scenario; its exit code, an error for 2 and 3.
    fn command(&self, command: &str, words: &[String]) -> Result<bool, SimError> {
        let mut args = vec![
            overrides::program(),
            command.to_owned(),
            self.scenario.display().to_string(),
        ];
        args.extend(words.iter().cloned());
        match cli::run_with(&Kinds::new(), &args) {
            EXIT_OK => Ok(true),
            EXIT_CHECK_FAILED => Ok(false),
            code => Err(SimError {
                code,
                message: format!(
                    "`{}` exited {code} (its error is on stderr)",
                    args.join(" ")
                ),
            }),
        }
    }

    /// `run --seed seed`: the records in `seed-N`.
    pub fn run(&self, seed: u64) -> Result<Run, SimError> {
        let dir = self.root().join(format!("seed-{seed}"));
        let words = [
            "--seed".to_owned(),
            seed.to_string(),
            "--out".to_owned(),
            dir.display().to_string(),
        ];
        let passed = self.command("run", &words)?;
        let record = faultline_reports::load_run(&dir).map_err(|err| SimError {
            code: cli::EXIT_IO,
            message: format!("{}: {err}", dir.display()),
        })?;
        Ok(Run {
            reproduce: record.summary.reproduce.clone(),
            dir,
            record,
            passed,
        })
    }

    /// `sweep --seeds A..B` on every core: `sweep.json` and its report in `sweep-A-B`.
    pub fn sweep(&self, seeds: Range<u64>) -> Result<Sweep, SimError> {
        let dir = self
            .root()
            .join(format!("sweep-{}-{}", seeds.start, seeds.end));
        let words = [
            "--seeds".to_owned(),
            format!("{}..{}", seeds.start, seeds.end),
            "--out".to_owned(),
            dir.display().to_string(),
        ];
        let passed = self.command("sweep", &words)?;
        let file = SweepFile::load(&dir).map_err(|message| SimError {
            code: cli::EXIT_IO,
            message,
        })?;
        Ok(Sweep { dir, file, passed })
    }

    /// `shrink --seed seed`: the minimal scenario that fails as the seed does, or `None`
    /// when the seed passes every check.
    pub fn shrink(&self, seed: u64) -> Result<Option<Shrunk>, SimError> {
        let mut words = vec!["--seed".to_owned(), seed.to_string()];
        let path = match &self.out {
            Some(dir) => {
                let file = dir.join(format!("shrink-seed-{seed}.min.json"));
                words.extend(["--out".to_owned(), file.display().to_string()]);
                file
            }
            None => self
                .root()
                .join(format!("shrink-seed-{seed}"))
                .join("scenario.min.json"),
        };
        if self.command("shrink", &words)? {
            return Ok(None);
        }
        let text = std::fs::read_to_string(&path).map_err(|err| SimError {
            code: cli::EXIT_IO,
            message: format!("{}: {err}", path.display()),
        })?;
        let scenario = serde_json::from_str(&text).map_err(|err| SimError {
            code: cli::EXIT_IO,
            message: format!("{}: {err}", path.display()),
        })?;
        Ok(Some(Shrunk {
            reproduce: overrides::reproduce_command(&path, &[], seed),
            path,
            scenario,
        }))
    }
}
