//! Faultline: a deterministic distributed-systems simulator.
//!
//! A seeded discrete-event engine on madsim runs the real fault-tolerance models from
//! `faultline-models` against injected faults, and writes run records that
//! `faultline-reports` turns into reports.
//!
//! The modules import each other in one direction, bottom first: [`engine`] (the kernel,
//! input in its own types), [`format`] (the file format's shared value types),
//! [`record`] (what every run record shares), [`workload`] (each kind's part of the file,
//! resolved from a narrow [`workload::Context`]), [`scenario`] (the whole file, loading,
//! validation, the resolve step), then [`runner`], [`sweep`] and [`cli`], and on top the
//! Rust API ([`Sim`]) and the test helper ([`testing`]). No module imports one after it
//! (`tests/module_dag.rs`).
//!
//! A workload kind written in another crate joins the built-in ones with
//! [`workload::register`]; a program of one's own gets every command with
//! [`cli::main_with`] (see `docs/your-own-code.md`).
#![forbid(unsafe_code)]

pub mod cli;
pub mod engine;
pub mod format;
pub mod record;
pub mod runner;
pub mod scenario;
pub mod sim;
pub mod sweep;
pub mod testing;
pub mod workload;

pub use sim::Sim;
