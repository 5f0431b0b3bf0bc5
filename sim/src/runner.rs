//! Running simulations from outside: each run on a fresh OS thread (madsim seeds
//! per-thread state only for the first runtime on a thread), wall time measured around
//! it, and many runs in parallel ([`parallel`]). This is the one module allowed to start
//! threads and read the wall clock; nothing it does reaches inside a run.

use std::fs::File;
use std::io::BufWriter;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};

use crate::engine::progress::Progress;
use crate::engine::trace::{SharedLines, TraceOptions};
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
pub fn run(
    scenario: Arc<ResolvedScenario>,
    seed: u64,
    trace_path: Option<PathBuf>,
) -> Result<Timed, EngineError> {
    run_watched(scenario, seed, trace_path, None)
}

/// How often a watched run's caller is shown its progress.
const WATCH_INTERVAL: std::time::Duration = std::time::Duration::from_millis(100);

/// A watcher of a run: called every [`WATCH_INTERVAL`] while the run goes on, with how
/// far it has got. It sees only what the driver published; it cannot reach the run.
pub type Watcher<'a> = &'a mut dyn FnMut(&Progress);

/// [`run`], calling `watch` (if any) on this thread while the run goes on.
#[allow(clippy::disallowed_methods)] // wall time and a fresh thread, both outside the run
pub fn run_watched(
    scenario: Arc<ResolvedScenario>,
    seed: u64,
    trace_path: Option<PathBuf>,
    watch: Option<Watcher<'_>>,
) -> Result<Timed, EngineError> {
    let started = std::time::Instant::now();
    let progress = Arc::new(Progress::new());
    let published = watch.is_some().then(|| Arc::clone(&progress));
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
            workload::simulate_with(
                &scenario.workload,
                &scenario.plan,
                seed,
                TraceOptions {
                    lines: sink,
                    progress: published,
                    ..TraceOptions::default()
                },
            )
        })
        .map_err(EngineError::Io)?;
    if let Some(watch) = watch {
        while !worker.is_finished() {
            watch(&progress);
            std::thread::sleep(WATCH_INTERVAL);
        }
        // Once more, so the watcher ends on what the run last published: its end.
        watch(&progress);
    }
    let output = worker
        .join()
        .map_err(|panic| EngineError::Invariant(panic_message(&panic)))??;
    Ok(Timed {
        output,
        wall_s: started.elapsed().as_secs_f64(),
    })
}

/// Wall time since a start, for the figures printed around runs (never inside one).
#[derive(Clone, Copy, Debug)]
pub struct Stopwatch(std::time::Instant);

impl Stopwatch {
    /// Starts now.
    #[allow(clippy::disallowed_methods)] // wall time outside every run
    pub fn start() -> Stopwatch {
        Stopwatch(std::time::Instant::now())
    }

    /// Seconds since the start.
    pub fn elapsed_s(&self) -> f64 {
        self.0.elapsed().as_secs_f64()
    }
}

/// Most worker threads [`parallel`] starts, whatever `jobs` asks.
pub const MAX_JOBS: usize = 1_024;

/// The cores this process may use (1 when unknown).
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

/// Runs `work` on every item, at most `jobs` (and [`MAX_JOBS`]) at a time, and returns
/// the results in item order, whatever order they finish in; `done` sees each result on
/// the calling thread as it arrives (for a progress bar).
///
/// `jobs` worker threads take the next item from a shared counter; `work` runs on them
/// and starts each simulation on a fresh thread of its own ([`run`]), as madsim needs.
/// Nothing here reaches inside a run, so the results do not depend on `jobs`.
#[allow(clippy::disallowed_methods)] // worker threads around the runs, outside them
pub fn parallel<I: Sync, T: Send>(
    items: &[I],
    jobs: usize,
    work: impl Fn(&I) -> T + Sync,
    mut done: impl FnMut(&T),
) -> Result<Vec<T>, String> {
    let jobs = jobs.clamp(1, items.len().clamp(1, MAX_JOBS));
    let next = AtomicUsize::new(0);
    let (sender, receiver) = mpsc::channel::<(usize, T)>();
    std::thread::scope(|scope| {
        let mut started = 0;
        let mut spawn_error = None;
        for worker in 0..jobs {
            let sender = sender.clone();
            let (next, work) = (&next, &work);
            let spawned = std::thread::Builder::new()
                .name(format!("faultline-job-{worker}"))
                .spawn_scoped(scope, move || loop {
                    let index = next.fetch_add(1, Ordering::Relaxed);
                    if index >= items.len() {
                        break;
                    }
                    if sender.send((index, work(&items[index]))).is_err() {
                        break;
                    }
                });
            match spawned {
                Ok(_) => started += 1,
                Err(err) => spawn_error = Some(err.to_string()),
            }
        }
        drop(sender);
        if started == 0 {
            return Err(format!(
                "cannot start a worker thread: {}",
                spawn_error.unwrap_or_default()
            ));
        }
        let mut results: Vec<Option<T>> = (0..items.len()).map(|_| None).collect();
        for (index, result) in receiver {
            done(&result);
            debug_assert!(results[index].is_none(), "item {index} ran twice");
            results[index] = Some(result);
        }
        let finished = results.iter().filter(|result| result.is_some()).count();
        if finished != items.len() {
            return Err(format!(
                "only {finished} of {} runs finished (a worker stopped)",
                items.len()
            ));
        }
        Ok(results.into_iter().flatten().collect())
    })
}

/// What a diagnostic run keeps of its trace (see [`TraceOptions`]).
#[derive(Clone, Debug, Default)]
pub struct TraceRequest {
    /// Keep one digest per chunk of records.
    pub chunk_digests: bool,
    /// Keep the trace lines of these records, in memory.
    pub line_window: Option<std::ops::Range<u64>>,
}

/// A diagnostic run: the run, its chunk digests and the lines of its window.
#[derive(Debug)]
pub struct Traced {
    /// The run.
    pub timed: Timed,
    /// Per-chunk digests (empty unless asked for).
    pub chunk_digests: Vec<u64>,
    /// The trace lines of the window, in order (empty unless asked for).
    pub window_lines: Vec<String>,
}

/// Runs `scenario` at `seed` on a fresh thread, keeping what `request` asks of its
/// trace (at most one window of lines in memory).
#[allow(clippy::disallowed_methods)] // wall time and a fresh thread, both outside the run
pub fn run_traced(
    scenario: Arc<ResolvedScenario>,
    seed: u64,
    request: TraceRequest,
) -> Result<Traced, EngineError> {
    let started = std::time::Instant::now();
    let worker = std::thread::Builder::new()
        .name(format!("faultline-seed-{seed}"))
        .stack_size(8 << 20)
        .spawn(move || -> Result<(RunOutput, Vec<String>), EngineError> {
            let buffer = SharedLines::default();
            let options = TraceOptions {
                lines: request
                    .line_window
                    .is_some()
                    .then(|| Box::new(buffer.clone()) as Box<dyn std::io::Write>),
                chunk_digests: request.chunk_digests,
                line_window: request.line_window,
                progress: None,
            };
            let output =
                workload::simulate_with(&scenario.workload, &scenario.plan, seed, options)?;
            let text = buffer.text();
            Ok((output, text.lines().map(str::to_owned).collect()))
        })
        .map_err(EngineError::Io)?;
    let (output, window_lines) = worker
        .join()
        .map_err(|panic| EngineError::Invariant(panic_message(&panic)))??;
    let chunk_digests = output.core().chunk_digests.clone();
    Ok(Traced {
        timed: Timed {
            output,
            wall_s: started.elapsed().as_secs_f64(),
        },
        chunk_digests,
        window_lines,
    })
}

fn panic_message(panic: &Box<dyn std::any::Any + Send>) -> String {
    let text = crate::engine::process::panic_text(panic.as_ref()).unwrap_or("(no message)");
    format!("the simulation panicked: {text}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parallel_results_keep_item_order_whatever_the_jobs() {
        let items: Vec<u64> = (0..200).collect();
        for jobs in [1, 2, 7, 500] {
            let mut seen = 0;
            let results = parallel(&items, jobs, |&item| item * item, |_| seen += 1).unwrap();
            assert_eq!(seen, 200);
            assert_eq!(results, items.iter().map(|i| i * i).collect::<Vec<_>>());
        }
        assert!(parallel(&[] as &[u64], 4, |&i| i, |_| {})
            .unwrap()
            .is_empty());
    }
}
