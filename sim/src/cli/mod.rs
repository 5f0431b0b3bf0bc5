//! Command-line interface: argument parsing in one place (clap derive), one module per
//! command. Exit codes: 0 all checks held; 1 a check or invariant failed; 2 bad input;
//! 3 an output could not be written, or an internal failure; 130 and 143 after SIGINT
//! and SIGTERM.

pub mod bench;
mod chatter;
mod compare;
mod floor;
mod map;
pub mod output;
mod report;
mod run;
mod shrink;
mod sweep;
mod trace;
mod validate;

use std::fmt;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

use crate::workload::registry::Registrable;

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
    main_with(Kinds::new())
}

/// The workload kinds a program adds to the built-in ones: `Kinds::new().with::<K>()`.
#[derive(Clone, Default)]
pub struct Kinds {
    registrations: Vec<fn() -> Result<(), String>>,
    bench: Vec<bench::Section>,
}

impl fmt::Debug for Kinds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Kinds({} registered, {} bench sections)",
            self.registrations.len(),
            self.bench.len()
        )
    }
}

impl Kinds {
    /// The built-in kinds only.
    pub fn new() -> Kinds {
        Kinds::default()
    }

    /// Adds kind `K` (see [`crate::workload::register`]).
    pub fn with<K>(mut self) -> Kinds
    where
        K: Registrable,
    {
        self.registrations.push(crate::workload::register::<K>);
        self
    }

    /// Adds `section`'s rows to `bench` (after faultline's own; `bench --only added`
    /// runs them alone).
    pub fn bench(mut self, section: bench::Section) -> Kinds {
        self.bench.push(section);
        self
    }

    /// Registers every kind added, for this whole process; the first refusal (a name
    /// taken by another kind) is returned.
    pub fn register(&self) -> Result<(), String> {
        self.registrations
            .iter()
            .try_for_each(|registration| registration())
    }
}

/// The `main` of a program of one's own: every command of `faultline`, with `kinds`
/// registered, and reproduce lines that name this program.
///
/// ```no_run
/// fn main() -> std::process::ExitCode {
///     faultline::cli::main_with(faultline::cli::Kinds::new() /* .with::<MyKind>() */)
/// }
/// ```
pub fn main_with(kinds: Kinds) -> ExitCode {
    output::clean_up_on_signals();
    ExitCode::from(run_with(&kinds, std::env::args_os()))
}

/// Runs one command line (`args[0]` is the program, whose file name reproduce lines
/// start with) with `kinds` registered, in this process, and returns its exit code:
/// what [`main_with`] does, without taking over the signals, so tests can call it.
pub fn run_with<I, T>(kinds: &Kinds, args: I) -> u8
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    if let Err(err) = kinds.register() {
        eprintln!("error: {err}");
        return EXIT_BAD_INPUT;
    }
    let args: Vec<std::ffi::OsString> = args.into_iter().map(Into::into).collect();
    let program = args
        .first()
        .and_then(|first| {
            PathBuf::from(first)
                .file_name()
                .map(|name| name.to_string_lossy().into_owned())
        })
        .unwrap_or_else(|| "faultline".to_owned());
    crate::scenario::overrides::set_program(&program);
    let command = Cli::command().bin_name(program);
    let cli = match command
        .try_get_matches_from(args)
        .and_then(|matches| Cli::from_arg_matches(&matches))
    {
        Ok(cli) => cli,
        Err(err) => {
            // Help and version print to stdout and exit 0; a bad argument exits 2.
            let _ = err.print();
            return if err.use_stderr() {
                EXIT_BAD_INPUT
            } else {
                EXIT_OK
            };
        }
    };
    run_command(cli.command, kinds)
}

/// Runs one parsed command; returns its exit code.
fn run_command(command: Command, kinds: &Kinds) -> u8 {
    match command {
        Command::Run(args) => run::run(&args),
        Command::Compare(args) => compare::run(&args),
        Command::Report { dirs, out } => report::run(&dirs, out.as_deref()),
        Command::Sweep(args) => sweep::run(&args),
        Command::Shrink(args) => shrink::run(&args),
        Command::Trace(args) => trace::run(&args),
        Command::Validate { scenarios } => validate::run(&scenarios),
        Command::Bench(args) => bench::run(&args, &kinds.bench),
    }
}
