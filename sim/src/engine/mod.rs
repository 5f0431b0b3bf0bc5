//! The kernel: a discrete-event loop with exact nanosecond times, driven inside a madsim
//! runtime, that knows no workload.
//!
//! madsim provides the seeded runtime, the virtual clock and the nodes whose kill /
//! restart / pause carry the crash and pause faults ([`host`]). The kernel provides what
//! madsim lacks: an exact event queue ([`queue`]; madsim sleeps have a 1 ms floor),
//! per-link latency distributions, partitions, omission and timing faults ([`network`]),
//! per-node physical clocks ([`clock`]), the compiled fault plan with its random fault
//! processes ([`faults`]), and the trace digest ([`trace`]). Its input is a [`plan::Plan`]
//! in its own types, built by the resolve step: nothing here knows the scenario format. A workload (one folder each
//! under `workload/`) implements [`workload::Workload`]; [`driver::run`] runs it.
//!
//! Nothing but the seed reaches a run: every random draw comes from ChaCha8 streams
//! derived from it ([`streams`]), the event order is a total order on (time, insertion),
//! and no hash-map iteration, wall clock or OS thread is involved.

pub mod clock;
pub mod commit;
pub mod disk;
pub mod driver;
pub mod faults;
pub mod handoff;
pub mod host;
pub mod kernel;
#[cfg(feature = "live")]
pub mod live;
pub mod network;
pub mod nodes;
pub mod plan;
pub mod process;
pub mod progress;
pub mod queue;
pub mod sampler;
pub mod selector;
pub mod service;
pub mod slots;
pub mod streams;
pub mod trace;
pub mod workload;

use std::fmt;
use std::io::{self, Write};

/// Why a run could not complete.
#[derive(Debug)]
pub enum EngineError {
    /// The scenario cannot be run as written.
    Config(String),
    /// A limit was reached during the run.
    Limit(String),
    /// Writing the trace failed.
    Io(io::Error),
    /// An engine invariant broke (a bug: please report it with the seed).
    Invariant(String),
    /// A process of the workload panicked: a bug of the code under test, found at this
    /// seed (see [`process::ProcessPanic`]).
    Panic {
        /// The node.
        node: u32,
        /// Its name (`replica-1`).
        name: String,
        /// When, ns of simulated time.
        at_ns: u64,
        /// The panic's message and place.
        message: String,
    },
}

impl fmt::Display for EngineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EngineError::Config(message) => write!(f, "{message}"),
            EngineError::Limit(message) => write!(f, "limit reached: {message}"),
            EngineError::Io(err) => write!(f, "writing the trace: {err}"),
            EngineError::Invariant(message) => write!(f, "engine invariant broken: {message}"),
            EngineError::Panic {
                name,
                at_ns,
                message,
                ..
            } => write!(
                f,
                "the process of {name} panicked at {:.9} s of simulated time: {message}",
                *at_ns as f64 / 1e9
            ),
        }
    }
}

impl std::error::Error for EngineError {}

/// Where the trace lines go, if anywhere.
pub type TraceSink = Option<Box<dyn Write>>;
