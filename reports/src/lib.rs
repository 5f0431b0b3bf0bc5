//! Statistics, plots and reports for Faultline, built from run records alone.
//!
//! A run leaves `summary.json` and its workload's timelines on disk (`timeline.csv` for
//! rpc; `bank_timeline.csv` and `hlc_offsets.csv` for bank) ([`record`]); everything in
//! this crate reads those records as data, so a report can be rebuilt from a saved run without
//! re-simulating ([`rebuild_report`]).
//!
//! - [`io`]: [`save_run`] / [`load_run`], the on-disk form of a [`record::RunRecord`].
//! - [`stats`]: availability by offered time overall, per window and per phase (before,
//!   during and after each fault), time-based availability, nines, goodput, measured MTTR
//!   per fault (or "not recovered", the metastable signature), retry amplification, peak
//!   load multiple, breaker time, and the simulator's closed-form expectations beside
//!   measured values; for a bank run ([`stats::bank`]) its invariants, snapshots,
//!   recoveries, HLC offsets, money in flight, messages and disks; all of it is
//!   [`stats::RunStats`], written as `report.json`.
//! - [`plots`]: availability, thundering-herd, latency and breaker charts, SVG and PNG,
//!   with fault intervals shaded, a zoom on the faults and recovery, and hover values;
//!   comparison overlays; for a bank run ([`plots::bank`]) the snapshot timeline, HLC
//!   `l - pt` per account, the HLC counter, money in flight and transfers; for any
//!   workload ([`plots::generic`]) a chart per declared series.
//! - [`report`]: self-contained `report.html`, `report.md`, `report.json`, comparisons,
//!   and the plain-text tables the CLI prints. Comparisons are built from the variants'
//!   declared figures and series, and a workload without a renderer of its own gets its
//!   whole page from them.
//!
//! Output is deterministic: the same record gives byte-identical pages, JSON and charts.
#![forbid(unsafe_code)]

pub mod error;
pub mod figures;
pub mod io;
pub mod plots;
pub mod record;
pub mod report;
pub mod stats;
mod text;

pub use error::ReportError;
pub use io::{load_run, save_run};
pub use report::map::{map_table, write_map, MapCell, MapPage};
pub use report::{
    comparison_table, rebuild_report, summary_table, variant_dir, write_comparison,
    write_comparison_in, write_run_report,
};
pub use text::count;
