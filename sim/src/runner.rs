//! Running a simulation from outside: each run on a fresh OS thread (madsim seeds
//! per-thread state only for the first runtime on a thread), wall time measured around
//! it. This is the one module allowed to start threads and read the wall clock; nothing
//! it does reaches inside a run.

use std::fs::File;
use std::io::BufWriter;
use std::path::PathBuf;
use std::sync::Arc;

use crate::engine::{EngineError, TraceSink};
use crate::scenario::ResolvedScenario;
use crate::workload::{self, RunOutput};

/// One finished run and how long it took.
#[derive(Debug)]
pub struct Timed {
    /// The engine's output.
    pub output: RunOutput,
    /// Wall-clock seconds.
    pub wall_s: f64,
}

/// Runs `scenario` at `seed` on a fresh thread; with `trace_path`, writes the trace
/// lines there.
#[allow(clippy::disallowed_methods)] // wall time and a fresh thread, both outside the run
pub fn run(
    scenario: Arc<ResolvedScenario>,
    seed: u64,
    trace_path: Option<PathBuf>,
) -> Result<Timed, EngineError> {
    let started = std::time::Instant::now();
    let worker = std::thread::Builder::new()
        .name(format!("faultline-seed-{seed}"))
        .stack_size(8 << 20)
        .spawn(move || -> Result<RunOutput, EngineError> {
            let sink: TraceSink = match trace_path {
                Some(path) => {
                    let file = File::create(&path).map_err(EngineError::Io)?;
                    Some(Box::new(BufWriter::with_capacity(1 << 20, file)))
                }
                None => None,
            };
            workload::simulate(&scenario, seed, sink)
        })
        .map_err(EngineError::Io)?;
    let output = worker
        .join()
        .map_err(|panic| EngineError::Invariant(panic_message(&panic)))??;
    Ok(Timed {
        output,
        wall_s: started.elapsed().as_secs_f64(),
    })
}

fn panic_message(panic: &Box<dyn std::any::Any + Send>) -> String {
    let text = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("(no message)");
    format!("the simulation panicked: {text}")
}
