//! Faultline: a deterministic distributed-systems simulator.
//!
//! A seeded discrete-event engine on madsim runs the real fault-tolerance models from
//! `faultline-models` against injected faults, and writes run records that
//! `faultline-reports` turns into reports.
#![forbid(unsafe_code)]

pub mod cli;
pub mod engine;
pub mod record;
pub mod runner;
pub mod scenario;
pub mod sweep;
pub mod workload;
