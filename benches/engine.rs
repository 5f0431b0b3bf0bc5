//! `cargo bench`: the engine's performance figures (see `faultline bench` and
//! BENCHMARKS.md). A plain `harness = false` main: it prints one table and its
//! thresholds, and exits 1 when one of them was missed.
//!
//! Arguments: `--quick` for a short check, `--no-herd` to skip the 100k-client herd,
//! `--no-sweep` to skip the sweep rows, `--reps N`; `--child KIND CLIENTS SECONDS` is how it re-invokes itself to measure
//! peak RSS per run. Anything else (cargo passes `--bench`) is ignored.

use faultline::cli::bench::{child, run_all, BenchArgs};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Some(at) = args.iter().position(|arg| arg == "--child") {
        let code = child(&args[at + 1..]);
        std::process::exit(i32::from(code));
    }
    let reps = args
        .iter()
        .position(|arg| arg == "--reps")
        .and_then(|at| args.get(at + 1))
        .and_then(|value| value.parse().ok())
        .unwrap_or(5);
    let bench_args = BenchArgs {
        quick: args.iter().any(|arg| arg == "--quick"),
        reps,
        no_herd: args.iter().any(|arg| arg == "--no-herd"),
        only: None,
        no_sweep: args.iter().any(|arg| arg == "--no-sweep"),
        child: None,
    };
    let program = std::env::current_exe().expect("the bench binary knows its path");
    std::process::exit(i32::from(run_all(&bench_args, &program, &[], &[])));
}
