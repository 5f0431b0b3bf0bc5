//! Command-line interface: argument parsing in one place (clap derive), one module per
//! command. Exit codes: 0 all checks held; 1 a check or invariant failed; 2 bad input;
//! 3 an output could not be written, or an internal failure; 130 and 143 after SIGINT
//! and SIGTERM.

pub mod bench;
mod chatter;
mod compare;
pub mod output;
mod report;
mod run;
mod shrink;
mod sweep;
mod trace;
mod validate;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Exit code when every check held.
pub const EXIT_OK: u8 = 0;
/// Exit code when a check or invariant failed.
pub const EXIT_CHECK_FAILED: u8 = 1;
/// Exit code for bad input (scenario file, arguments, an output path that would replace
/// something faultline did not write).
pub const EXIT_BAD_INPUT: u8 = 2;
/// Exit code when an output could not be written (disk full, permission) or an
/// internal failure (an engine invariant): neither a failed check nor bad input.
pub const EXIT_IO: u8 = 3;

/// A command that stopped: its exit code and what to print.
#[derive(Debug)]
pub struct Failure {
    /// The exit code.
    pub code: u8,
    /// The message (printed after `error: `).
    pub message: String,
}

impl Failure {
    /// An output that could not be written.
    pub fn io(message: impl Into<String>) -> Failure {
        Failure {
            code: EXIT_IO,
            message: message.into(),
        }
    }
}

/// A plain message is bad input, as the commands' errors have always been.
impl From<String> for Failure {
    fn from(message: String) -> Failure {
        Failure {
            code: EXIT_BAD_INPUT,
            message,
        }
    }
}

impl From<&str> for Failure {
    fn from(message: &str) -> Failure {
        Failure::from(message.to_owned())
    }
}

/// Faultline: a deterministic distributed-systems simulator.
///
/// Runs the real fault-tolerance code (circuit breaker, retry backoff with jitter,
/// retry budgets, adaptive timeouts, clocks) against injected faults. The same seed
/// always replays the same run.
#[derive(Debug, Parser)]
#[command(name = "faultline", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a scenario and write its records and report.
    Run(run::RunArgs),
    /// Run one variant per value of a scenario field, same seed, and compare them.
    Compare(compare::CompareArgs),
    /// Rebuild reports from saved records (no simulation): runs and comparisons; merge
    /// the shards of a sweep.
    Report {
        /// Run directories (with summary.json and timeline.csv), comparison directories
        /// (with compare.json), or sweep directories (with sweep.json): several shards
        /// of one sweep are merged.
        #[arg(required = true)]
        dirs: Vec<PathBuf>,
        /// Where merged sweep shards go (default: the parent directory they share; never
        /// inside a shard).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Run many seeds of a scenario in parallel (or one shard of them) and report.
    Sweep(sweep::SweepArgs),
    /// Shrink a failing seed to a minimal scenario that fails the same check.
    Shrink(shrink::ShrinkArgs),
    /// Print a readable slice of a saved trace.jsonl.
    Trace(trace::TraceArgs),
    /// Print the performance benchmarks (throughput vs a reference loop, scaling, memory).
    Bench(bench::BenchArgs),
    /// Check scenario files without running them (the JSON Schema is skipped).
    Validate {
        /// Scenario files.
        #[arg(required = true)]
        scenarios: Vec<PathBuf>,
    },
}

/// A progress bar of `len` steps drawn with `template` on stderr when it is a terminal,
/// and hidden otherwise (a pipe, a file, CI get nothing).
fn terminal_bar(len: u64, template: &str) -> indicatif::ProgressBar {
    use std::io::IsTerminal;
    if !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(len);
    if let Ok(style) = indicatif::ProgressStyle::with_template(template) {
        bar.set_style(style);
    }
    bar
}

/// Parses arguments and runs the command; returns the process exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    output::clean_up_on_signals();
    let code = match cli.command {
        Command::Run(args) => run::run(&args),
        Command::Compare(args) => compare::run(&args),
        Command::Report { dirs, out } => report::run(&dirs, out.as_deref()),
        Command::Sweep(args) => sweep::run(&args),
        Command::Shrink(args) => shrink::run(&args),
        Command::Trace(args) => trace::run(&args),
        Command::Validate { scenarios } => validate::run(&scenarios),
        Command::Bench(args) => bench::run(&args),
    };
    ExitCode::from(code)
}
