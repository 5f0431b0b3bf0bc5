//! Statistics, plots and reports for Faultline, built from run records alone.
//!
//! A run leaves `summary.json` and `timeline.csv` on disk ([`record`]); everything in this
//! crate reads those records as data, so a report can be rebuilt from a saved run without
//! re-simulating ([`rebuild_report`]).
//!
//! - [`io`]: [`save_run`] / [`load_run`], the on-disk form of a [`record::RunRecord`].
//! - [`stats`]: availability overall and per phase (before, during and after each fault),
//!   nines, goodput, measured MTTR per fault (or "not recovered", the metastable
//!   signature), retry amplification, peak load multiple, breaker time, and closed-form
//!   expectations beside the measured values.
//! - [`plots`]: availability, thundering-herd, latency and breaker charts, SVG and PNG,
//!   with fault intervals shaded; comparison overlays.
//! - [`report`]: self-contained `report.html`, `report.md`, comparisons, and the plain-text
//!   tables the CLI prints.
//!
//! Output is deterministic: the same record gives byte-identical Markdown and SVG.
#![forbid(unsafe_code)]

pub mod error;
pub mod io;
pub mod plots;
pub mod record;
pub mod report;
pub mod stats;
mod text;

pub use error::ReportError;
pub use io::{load_run, save_run};
pub use report::{
    comparison_table, rebuild_report, summary_table, write_comparison, write_run_report,
};
