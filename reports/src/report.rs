//! Reports of one run (`report.html`, `report.md`, `report.json`) and of a comparison of
//! variants (`compare.html`, `compare.md`), and the plain-text tables the CLI prints.
//!
//! A page reads as an SRE reads an incident: the verdict first (checks, availability
//! against the SLO, worst MTTR, peak load), then the charts (whole run and a zoom on the
//! faults and the recovery), then the tables (long ones folded), then how to reproduce
//! the run and a glossary of every metric on the page. A bank run's page has the same
//! shape with its own verdict (the checks and every invariant, then money, transfers,
//! snapshots, recoveries and clocks), charts and tables (see `report/bank.rs`). A run
//! of a workload without a renderer gets the same shape from its declarations (see
//! `report/generic.rs`): the checks and headline figures, a chart per series, its
//! figures and tables, a glossary of what it declares. A comparison is built from the
//! declarations for every workload: the side-by-side table, every figure, a chart per
//! series across variants (and the rpc overlays for rpc variants).
//!
//! The HTML is built with `maud`, a compile-time template engine: the page's structure
//! is Rust code checked by the compiler and every interpolated value is escaped, so a
//! scenario name like `<b>` shows as text. (`askama` would also escape, but keeps
//! templates in separate files with their own syntax; the pages here are mostly loops
//! over computed tables, which maud writes as plain Rust.) The file is self-contained:
//! inline SVG charts with `<title>` hover values, an embedded stylesheet, no scripts, no
//! external assets. The Markdown holds the same tables and links the PNG charts beside
//! it; `report.json` holds the numbers ([`RunStats`]). All are pure functions of the
//! record: the same record gives byte-identical files, so a report rebuilt from saved
//! records matches the original.

use std::path::{Path, PathBuf};

use maud::{html, Markup, PreEscaped, DOCTYPE};

use crate::error::ReportError;
use crate::figures::SeriesInfo;
use crate::io::{load_run, write_file};
use crate::plots::{self, Plot};
use crate::record::{HlcSummary, Measure, RunRecord};
use crate::stats::{self, Recovery, RpcStats, RunStats, Span};
use crate::text::{count, fixed, md_code, md_text, opt_fixed, pct, Align, Table};

mod bank;
mod generic;
pub mod map;

/// File name of the machine-readable statistics in a run directory.
pub const REPORT_JSON: &str = "report.json";

/// Tables with more rows than this start folded (`<details>` closed).
const OPEN_ROWS: usize = 14;

/// One line of the summary: metric, value, unit.
type Row = (String, String, String);

fn row(metric: &str, value: String, unit: &str) -> Row {
    (metric.to_string(), value, unit.to_string())
}

fn recovery_text(r: Option<Recovery>) -> (String, &'static str) {
    match r {
        Some(Recovery::Recovered { mttr_s }) => (fixed(mttr_s, 2), "s"),
        Some(other) => (other.describe(), ""),
        None => ("n/a".to_string(), ""),
    }
}

/// The directory a comparison keeps variant `label` in, under its output directory:
/// the label with every character but ASCII letters, digits, `-` and `.` made `_`.
pub fn variant_dir(label: &str) -> String {
    label
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// The summary rows shared by the text, Markdown and HTML renderings; for a bank run,
/// only its key figures unless `full`.
fn summary_rows(rec: &RunRecord, st: &RunStats, full: bool) -> Vec<Row> {
    let s = &rec.summary;
    let mut rows = vec![
        row("simulated time", fixed(st.duration_s, 2), "s"),
        row("wall time", fixed(s.wall_s, 2), "s"),
        row("events", count(s.events), "events"),
        row("metrics window", fixed(st.window_s, 3), "s"),
    ];
    if let (Some(rpc), Some(section)) = (&st.rpc, &s.rpc) {
        let q = &section.requests;
        let l = &rpc.latency_ms;
        let ta = &rpc.time_availability;
        rows.push(row(
            "availability (by offered time)",
            pct(rpc.availability, 2),
            "%",
        ));
        if let Some(ms) = st.slo_latency_ms {
            rows.push(row(
                &format!("availability within {} ms", fixed(ms, 0)),
                pct(rpc.availability_latency, 2),
                "%",
            ));
        }
        rows.push(row(
            "availability (nines)",
            rpc.nines
                .map_or_else(|| "n/a".to_string(), |n| n.to_string()),
            "nines",
        ));
        rows.push(row(
            "time-based availability",
            pct(ta.fraction, 2),
            "% of windows",
        ));
        if st.slo_latency_ms.is_some() {
            rows.push(row(
                "time-based, latency-bounded",
                pct(ta.fraction_latency, 2),
                "% of windows",
            ));
        }
        rows.push(row("SLO", fixed(st.slo * 100.0, 2), "%"));
        if let Some(ms) = st.slo_latency_ms {
            rows.push(row("latency objective", fixed(ms, 1), "ms"));
        }
        rows.extend([
            row("goodput", fixed(rpc.goodput_per_s, 2), "req/s"),
            row("requests offered", count(q.offered), "req"),
            row("requests succeeded", count(q.succeeded), "req"),
            row("requests failed", count(q.failed), "req"),
            row("requests timed out", count(q.timed_out), "req"),
            row("rejected by breaker", count(q.rejected_by_breaker), "req"),
            row("rejected by budget", count(q.rejected_by_budget), "req"),
            row("unresolved at end", count(q.in_flight), "req"),
            row("attempts", count(q.attempts), "attempts"),
            row("retries", count(q.retries), "attempts"),
            row(
                "retry amplification",
                opt_fixed(rpc.amplification.overall, 3),
                "attempts/req",
            ),
            row(
                "amplification, worst window",
                opt_fixed(rpc.amplification.worst, 3),
                "attempts/req",
            ),
            row("latency p50 (successful requests)", fixed(l.p50, 2), "ms"),
            row("latency p99 (successful requests)", fixed(l.p99, 2), "ms"),
            row(
                "latency p99.9 (successful requests)",
                fixed(l.p999, 2),
                "ms",
            ),
            row("latency mean (successful requests)", fixed(l.mean, 2), "ms"),
            row("latency max (successful requests)", fixed(l.max, 2), "ms"),
            row("server arrivals", count(section.server.arrivals), "req"),
            row(
                "peak server arrivals",
                fixed(rpc.peak.peak_per_s, 1),
                "req/s",
            ),
            row(
                "steady-state arrivals",
                opt_fixed(rpc.peak.baseline_per_s, 1),
                "req/s",
            ),
            row("peak load multiple", opt_fixed(rpc.peak.multiple, 2), "x"),
            row(
                "rejected, queue full",
                count(section.server.rejected_queue_full),
                "req",
            ),
            row("shed", count(section.server.shed), "req"),
        ]);
        if let Some(limited) = section.server.rejected_by_limit {
            rows.push(row("rejected, concurrency limit", count(limited), "req"));
        }
        if let Some([low, high]) = section.server.limit_range {
            rows.push(row(
                "concurrency limit, lowest to highest",
                format!("{low} to {high}"),
                "req",
            ));
        }
        if let Some(deferred) = section.server.retries_deferred {
            rows.push(row(
                "retries deferred by Retry-After",
                count(deferred),
                "req",
            ));
        }
        if rpc.breakers.active() {
            rows.push(row(
                "time with breakers open",
                fixed(rpc.breakers.open_s, 2),
                "s",
            ));
            rows.push(row(
                "most breakers open",
                count(rpc.breakers.peak_open),
                "breakers",
            ));
        }
        if let Some(c) = &section.connections {
            rows.extend([
                row("connection resets", count(c.resets), "connections"),
                row("reconnect tries", count(c.connect_tries), "connects"),
                row("reconnected", count(c.connects), "connects"),
                row("connects refused", count(c.refused), "connects"),
                row("held offline, peak", count(c.offline_peak), "attempts"),
                row(
                    "failed, offline queue full",
                    count(c.offline_failed),
                    "attempts",
                ),
            ]);
        }
        let (mttr, unit) = recovery_text(rpc.worst_recovery.as_ref().map(|w| w.recovery));
        rows.push(row("MTTR, worst fault", mttr, unit));
        if let Some(v) = &rpc.verdicts {
            let (text, unit) = verdict_text(v);
            rows.push(row("recovered or metastable", text, unit));
        }
        if section.hlc != HlcSummary::default() {
            rows.push(row(
                "HLC max offset (l - pt)",
                fixed(section.hlc.max_offset_ms, 3),
                "ms",
            ));
            rows.push(row(
                "HLC max counter (c)",
                count(section.hlc.max_counter),
                "ticks",
            ));
            rows.push(row(
                "HLC rejected",
                count(section.hlc.rejected),
                "timestamps",
            ));
        }
    }
    if generic::declared_only(rec) {
        rows.extend(generic::summary_rows(rec));
    }
    if let Some(b) = &st.bank {
        rows.extend(if full {
            bank::all_rows(b)
        } else {
            bank::key_rows(b)
        });
    }
    rows.push(row("faults", count(st.faults.total as u64), "faults"));
    rows.push(row(
        "checks passed",
        format!("{} of {}", st.checks.passed, st.checks.total),
        "checks",
    ));
    rows
}

fn summary_table_of(rows: &[Row]) -> Table {
    let mut t = Table::new(&[
        ("metric", Align::Left),
        ("value", Align::Right),
        ("unit", Align::Left),
    ]);
    for (m, v, u) in rows {
        t.push(vec![m.clone(), v.clone(), u.clone()]);
    }
    t
}

/// An aligned plain-text summary of a run, with units, for the CLI to print after a run:
///
/// ```text
/// availability (by offered time)            90.55  %
/// latency p99 (successful requests)       2,818.57  ms
/// ```
pub fn summary_table(rec: &RunRecord) -> String {
    let st = stats::compute(rec);
    let mut out = format!(
        "{} (seed {})\n{}",
        rec.summary.scenario,
        rec.summary.seed,
        summary_table_of(&summary_rows(rec, &st, false)).to_text(false)
    );
    if st.rpc.is_some() {
        out.push_str(
            "availability counts each request in the window where it was offered; latency quantiles are of successful requests only\n",
        );
    }
    if st.bank.is_some() {
        out.push_str(
            "money at the end counts balances plus transfers in flight; an invariant not exercised compared nothing\n",
        );
    }
    out
}

/// The run's verdict in words and its unit: `metastable` (which faults), the slowest
/// recovery, or how many faults the run ended on.
fn verdict_text(v: &stats::verdict::Verdicts) -> (String, &'static str) {
    if v.metastable > 0 {
        let which: Vec<String> = v
            .faults
            .iter()
            .enumerate()
            .filter(|(_, f)| matches!(f, stats::verdict::FaultVerdict::Metastable { .. }))
            .take(3)
            .map(|(i, _)| (i + 1).to_string())
            .collect();
        let more = if v.metastable > which.len() {
            ", ..."
        } else {
            ""
        };
        (format!("metastable (fault {}{more})", which.join(", ")), "")
    } else if v.undecided > 0 {
        (
            format!("{} faults not back by the end", count(v.undecided as u64)),
            "",
        )
    } else {
        match (v.slowest_recovery_s, v.slowest_fault) {
            (Some(t), Some(i)) => (format!("recovered in {} s (fault {i})", fixed(t, 2)), ""),
            _ => ("n/a".to_string(), ""),
        }
    }
}

/// The run's verdict in a few words, for a comparison's cell: `metastable`,
/// `recovered in 4.00 s`, `not back by the end`.
pub(super) fn verdict_short(v: &stats::verdict::Verdicts) -> String {
    if v.metastable > 0 {
        "metastable".to_string()
    } else if v.undecided > 0 {
        "not back by the end".to_string()
    } else {
        v.slowest_recovery_s.map_or_else(
            || "n/a".to_string(),
            |t| format!("recovered in {} s", fixed(t, 2)),
        )
    }
}

/// The fault table; the MTTR column only where there is an availability series.
fn faults_table(st: &RunStats) -> Table {
    let mttr = st.rpc.is_some();
    let mut cols = vec![
        ("#", Align::Right),
        ("kind", Align::Left),
        ("target", Align::Left),
        ("start (s)", Align::Right),
        ("end (s)", Align::Right),
        ("duration (s)", Align::Right),
    ];
    if mttr {
        cols.push(("measured MTTR", Align::Right));
    }
    let judged = st.rpc.as_ref().is_some_and(|r| r.verdicts.is_some());
    if judged {
        cols.push(("verdict", Align::Left));
    }
    let mut t = Table::new(&cols);
    for f in &st.faults.listed {
        let mut cells = vec![
            count(f.index as u64),
            f.kind.clone(),
            f.target.clone(),
            fixed(f.start_s, 2),
            f.end_s
                .map_or_else(|| "end of run".to_string(), |e| fixed(e, 2)),
            fixed(f.duration_s, 2),
        ];
        if mttr {
            cells.push(match (f.background, f.recovery) {
                (true, _) => "whole run".to_string(),
                (false, Some(r)) => r.describe(),
                (false, None) => "n/a".to_string(),
            });
        }
        if judged {
            cells.push(
                f.verdict
                    .map_or_else(|| "n/a".to_string(), |v| v.describe(f.index)),
            );
        }
        t.push(cells);
    }
    for g in &st.faults.folded {
        let mut cells = vec![
            "...".to_string(),
            g.kind.clone(),
            format!("{} more faults", count(g.count as u64)),
            fixed(g.first_start_s, 2),
            fixed(g.last_end_s, 2),
            format!("{} in all", fixed(g.total_s, 2)),
        ];
        if mttr {
            let mut parts = Vec::new();
            if let (Some(m), Some(x)) = (g.mttr_median_s, g.mttr_max_s) {
                parts.push(format!("median {} s, worst {} s", fixed(m, 2), fixed(x, 2)));
            }
            if g.not_recovered > 0 {
                parts.push(format!("{} not recovered", count(g.not_recovered as u64)));
            }
            if g.unended > 0 {
                parts.push(format!("{} last to end", count(g.unended as u64)));
            }
            cells.push(if parts.is_empty() {
                "n/a".to_string()
            } else {
                parts.join("; ")
            });
        }
        if judged {
            cells.push(format!("{} metastable", count(g.metastable as u64)));
        }
        t.push(cells);
    }
    t
}

/// The phases, then the whole run: every column counts by offered window, so the
/// phases' offered, succeeded, unresolved and attempts add up to the last row.
fn phases_table(rec: &RunRecord, st: &RunStats, rpc: &RpcStats) -> Table {
    let latency = st.slo_latency_ms;
    let within = latency.map(|ms| format!("within {} ms (%)", fixed(ms, 0)));
    let mut cols: Vec<(&str, Align)> = vec![
        ("phase", Align::Left),
        ("from (s)", Align::Right),
        ("to (s)", Align::Right),
        ("offered (req)", Align::Right),
        ("succeeded (req)", Align::Right),
        ("unresolved (req)", Align::Right),
        ("attempts", Align::Right),
        ("availability (%)", Align::Right),
    ];
    if let Some(w) = &within {
        cols.push((w.as_str(), Align::Right));
    }
    cols.extend([
        ("nines", Align::Right),
        ("goodput (req/s)", Align::Right),
        ("amplification (attempts/req)", Align::Right),
    ]);
    let mut t = Table::new(&cols);
    for p in &rpc.phases.rows {
        let mut cells = vec![
            p.label.clone(),
            fixed(p.start_s, 2),
            fixed(p.end_s, 2),
            count(p.offered),
            count(p.succeeded),
            count(p.unresolved),
            count(p.attempts),
            pct(p.availability, 2),
        ];
        if latency.is_some() {
            cells.push(pct(p.availability_latency, 2));
        }
        cells.extend([
            p.nines.map_or_else(|| "n/a".to_string(), |n| n.to_string()),
            fixed(p.goodput_per_s, 2),
            opt_fixed(p.amplification, 3),
        ]);
        t.push(cells);
    }
    if let Some(q) = rec.summary.rpc.as_ref().map(|r| &r.requests) {
        let mut cells = vec![
            "whole run".to_string(),
            fixed(0.0, 2),
            fixed(st.duration_s, 2),
            count(q.offered),
            count(q.succeeded),
            count(q.in_flight),
            count(q.attempts),
            pct(rpc.availability, 2),
        ];
        if latency.is_some() {
            cells.push(pct(rpc.availability_latency, 2));
        }
        cells.extend([
            rpc.nines
                .map_or_else(|| "n/a".to_string(), |n| n.to_string()),
            fixed(rpc.goodput_per_s, 2),
            opt_fixed(rpc.amplification.overall, 3),
        ]);
        t.push(cells);
    }
    t
}

fn measure_text(m: &Measure) -> String {
    let only = |random: bool| if random { ", random crashes only" } else { "" };
    match m {
        Measure::Uptime { nodes, random_only } => format!(
            "up time of {} node{}{}",
            count(nodes.len() as u64),
            if nodes.len() == 1 { "" } else { "s" },
            only(*random_only)
        ),
        Measure::AnyUp { nodes, random_only } => format!(
            "time at least 1 of {} nodes was up{}",
            count(nodes.len() as u64),
            only(*random_only)
        ),
        Measure::AttemptsPerRequest { from_s, to_s } => format!(
            "attempts / offered in windows with midpoint in {}-{} s",
            fixed(*from_s, 2),
            fixed(*to_s, 2)
        ),
        Measure::MeanLatency => "mean latency of successful requests".to_string(),
    }
}

fn expectations_table(rpc: &RpcStats) -> Table {
    let mut t = Table::new(&[
        ("quantity", Align::Left),
        ("analytic", Align::Right),
        ("measured", Align::Right),
        ("unit", Align::Left),
        ("measured as", Align::Left),
        ("how", Align::Left),
    ]);
    for e in &rpc.expectations {
        t.push(vec![
            e.name.clone(),
            fixed(e.analytic, 3),
            opt_fixed(e.measured, 3),
            e.unit.clone(),
            measure_text(&e.measure),
            e.note.clone(),
        ]);
    }
    t
}

fn checks_table(rec: &RunRecord) -> Table {
    let mut t = Table::new(&[
        ("check", Align::Left),
        ("result", Align::Left),
        ("detail", Align::Left),
    ]);
    for c in &rec.summary.checks {
        t.push(vec![
            c.name.clone(),
            if c.passed { "passed" } else { "FAILED" }.to_string(),
            c.detail.clone(),
        ]);
    }
    t
}

fn meta_rows(rec: &RunRecord) -> Vec<(String, String)> {
    let s = &rec.summary;
    let mut rows = vec![("scenario".to_string(), s.scenario.clone())];
    if !s.workload.is_empty() {
        rows.push(("workload".to_string(), s.workload.clone()));
    }
    rows.push(("seed".to_string(), s.seed.to_string()));
    if !s.scenario_path.is_empty() {
        rows.push(("scenario file".to_string(), s.scenario_path.clone()));
    }
    rows.push(("trace hash".to_string(), s.trace_hash.clone()));
    rows
}

fn reproduce_command(rec: &RunRecord) -> String {
    let s = &rec.summary;
    if !s.reproduce.is_empty() {
        return s.reproduce.clone();
    }
    let path = if s.scenario_path.is_empty() {
        format!("scenarios/{}.json", s.scenario)
    } else {
        s.scenario_path.clone()
    };
    format!("faultline run {path} --seed {}", s.seed)
}

/// How good a verdict item is.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Tone {
    Good,
    Bad,
    Neutral,
}

impl Tone {
    fn class(self) -> &'static str {
        match self {
            Tone::Good => "card good",
            Tone::Bad => "card bad",
            Tone::Neutral => "card",
        }
    }

    fn word(self) -> &'static str {
        match self {
            Tone::Good => "ok",
            Tone::Bad => "FAIL",
            Tone::Neutral => "info",
        }
    }
}

/// One item of the verdict banner.
struct Card {
    key: String,
    value: String,
    details: Vec<String>,
    tone: Tone,
}

/// The verdict banner in groups: for a bank run, the checks and every invariant, then
/// the bank's figures; otherwise one group.
fn verdict_groups(rec: &RunRecord, st: &RunStats) -> Vec<Vec<Card>> {
    if generic::declared_only(rec) {
        let mut cards = verdict(st);
        cards.truncate(1); // the checks card
        return generic::verdict(rec, cards.remove(0), st);
    }
    match &st.bank {
        Some(b) => {
            let mut first = verdict(st);
            first.truncate(1); // the checks card
            first.extend(bank::invariant_cards(b));
            vec![first, bank::figure_cards(b)]
        }
        None => vec![verdict(st)],
    }
}

fn verdict(st: &RunStats) -> Vec<Card> {
    let c = &st.checks;
    let mut cards = vec![Card {
        key: "checks".to_string(),
        value: if c.total == 0 {
            "none".to_string()
        } else if c.failed.is_empty() {
            format!("{} of {} passed", c.passed, c.total)
        } else {
            format!("{} of {} failed", c.failed.len(), c.total)
        },
        details: if c.failed.is_empty() {
            Vec::new()
        } else {
            vec![format!("failed: {}", c.failed.join(", "))]
        },
        tone: match (c.total, c.failed.is_empty()) {
            (0, _) => Tone::Neutral,
            (_, true) => Tone::Good,
            (_, false) => Tone::Bad,
        },
    }];
    let Some(rpc) = &st.rpc else {
        cards.push(Card {
            key: "faults".to_string(),
            value: count(st.faults.total as u64),
            details: vec![if st.workload.is_empty() {
                "no workload section in this record: the core (checks, faults) only".to_string()
            } else {
                format!(
                    "no report section for workload {}: the core (checks, faults) only",
                    st.workload
                )
            }],
            tone: Tone::Neutral,
        });
        return cards;
    };
    let slo = fixed(st.slo * 100.0, 2);
    let mut details = vec![format!(
        "by offered time; SLO {slo} %: {}",
        match rpc.meets_slo {
            Some(true) => "met",
            Some(false) => "missed",
            None => "no traffic",
        }
    )];
    if let Some(ms) = st.slo_latency_ms {
        details.push(format!(
            "within {} ms: {} %",
            fixed(ms, 0),
            pct(rpc.availability_latency, 2)
        ));
    }
    if rpc.unresolved > 0 {
        details.push(format!(
            "{} requests unresolved at end, not counted",
            count(rpc.unresolved)
        ));
    }
    cards.push(Card {
        key: "availability".to_string(),
        value: format!("{} %", pct(rpc.availability, 2)),
        details,
        tone: match rpc.meets_slo {
            Some(true) => Tone::Good,
            Some(false) => Tone::Bad,
            None => Tone::Neutral,
        },
    });
    let ta = &rpc.time_availability;
    cards.push(Card {
        key: "time-based availability".to_string(),
        value: format!("{} %", pct(ta.fraction, 1)),
        details: vec![format!(
            "{} of {} windows with traffic met the SLO",
            count(ta.windows_meeting_slo as u64),
            count(ta.windows_with_traffic as u64)
        )],
        tone: Tone::Neutral,
    });
    let (value, details, tone) = match &rpc.worst_recovery {
        Some(w) => match w.recovery {
            Recovery::Recovered { mttr_s } => (
                format!("{} s", fixed(mttr_s, 2)),
                vec![format!("after fault {}, {}", w.fault, w.label)],
                Tone::Good,
            ),
            _ => (
                "not recovered".to_string(),
                vec![format!(
                    "fault {}, {}: still below the SLO at the end",
                    w.fault, w.label
                )],
                Tone::Bad,
            ),
        },
        None => (
            "n/a".to_string(),
            vec![if st.faults.total == 0 {
                "no faults".to_string()
            } else {
                "no fault ended before the end of the run".to_string()
            }],
            Tone::Neutral,
        ),
    };
    cards.push(Card {
        key: "worst MTTR".to_string(),
        value,
        details,
        tone,
    });
    if let Some(v) = &rpc.verdicts {
        let (text, unit) = verdict_text(v);
        cards.push(Card {
            key: "recovered or metastable".to_string(),
            value: format!("{text} {unit}").trim_end().to_string(),
            details: vec![format!(
                "distance {} from a {}-window baseline: {} windows within to recover, {} outside to stay",
                fixed(v.params.epsilon, 0),
                count(v.baseline_windows as u64),
                count(v.params.recover_windows as u64),
                count(v.params.stuck_windows as u64)
            )],
            tone: if v.metastable > 0 {
                Tone::Bad
            } else if v.undecided > 0 {
                Tone::Neutral
            } else {
                Tone::Good
            },
        });
    }
    let p = &rpc.peak;
    cards.push(Card {
        key: "peak load multiple".to_string(),
        value: p
            .multiple
            .map_or_else(|| "n/a".to_string(), |m| format!("{} x", fixed(m, 1))),
        details: vec![format!(
            "{} req/s at {} s against {} req/s steady",
            fixed(p.peak_per_s, 0),
            p.peak_t_s.map_or_else(|| "?".to_string(), |t| fixed(t, 0)),
            opt_fixed(p.baseline_per_s, 0)
        )],
        tone: Tone::Neutral,
    });
    cards
}

/// What a chart shows, and what hovering it shows.
#[derive(Clone, Debug)]
struct Caption {
    /// One sentence, true of the SVG and of the PNG.
    text: String,
    /// What hovering the inline SVG shows; empty where there is nothing to hover. Only
    /// the HTML page says it: the Markdown report embeds the PNG, which cannot be hovered.
    hover: &'static str,
}

impl Caption {
    fn plain(text: &str) -> Self {
        Self {
            text: text.to_string(),
            hover: "",
        }
    }

    /// The caption of the HTML page: the text, then the hover hint.
    fn html(&self) -> String {
        if self.hover.is_empty() {
            self.text.clone()
        } else {
            format!("{} {}", self.text, self.hover)
        }
    }
}

/// What a chart shows, one sentence (and, in HTML, what hovering it shows); a chart of
/// a declared series says what its declaration says.
fn plot_caption(name: &str, comparison: bool, series: &[SeriesInfo]) -> Caption {
    if let Some(text) = generic::caption(name, series, comparison) {
        return Caption::plain(&text);
    }
    let text = match (name, comparison) {
        ("availability", false) => {
            return Caption {
                text: "Availability per window, each request counted in the window where it was offered (a window whose requests all failed or never resolved reads 0 %); faults shaded; dashed line: SLO."
                    .to_string(),
                hover: "Hover a window for its numbers.",
            };
        }
        ("herd", false) => {
            "Attempts reaching the servers per second (retries and flushed offline queues included) against the offered load and the goodput."
        }
        ("latency", false) => {
            "Latency of the successful requests that completed in each window: p50, p99 and p99.9."
        }
        ("breakers", false) => "Circuit breakers open at the end of each window.",
        ("availability", true) => {
            "Availability by offered time per window, one line per variant; faults of the first variant shaded; dashed line: its SLO."
        }
        ("herd", true) => {
            "Attempts reaching the servers per second, one line per variant; faults of the first variant shaded."
        }
        ("latency", true) => "p99 latency of successful requests per window, one line per variant.",
        (other, false) => return bank::caption(other),
        _ => "",
    };
    Caption::plain(text)
}

/// The glossary: every metric on the pages, in words.
const GLOSSARY: [(&str, &str); 17] = [
    (
        "availability by offered time",
        "succeeded / resolved of the logical requests offered in a window (or phase, or run), each request counted in the window where it was offered however late it resolved. Requests still unresolved at the end of the run are reported apart, not counted; a window whose offered requests all failed or never resolved reads 0 % (stuck requests are an outage); a window with nothing offered is a gap.",
    ),
    (
        "availability within the latency objective",
        "the same ratio with only the requests that succeeded within the latency objective (slo_latency_ms) counted as good.",
    ),
    (
        "time-based availability",
        "the fraction of windows with traffic (requests offered) whose availability met the SLO.",
    ),
    (
        "SLO",
        "the availability objective: the scenario's slo.availability, else its first availability_at_least check, else 99 %.",
    ),
    (
        "nines",
        "-log10(1 - availability): 2 nines is 99 %, 3 nines 99.9 %. With no failure the value is capped at log10(successes) and shown as ≥.",
    ),
    (
        "goodput",
        "successful requests per second. In the charts and the run summary, counted when they complete; in the phases table, counted in the phase where they were offered (the phase's successes over its seconds), so a request held through a crash and answered after the restart counts in the crash phase.",
    ),
    (
        "unresolved",
        "requests still in flight when the run ended: neither successes nor failures.",
    ),
    (
        "MTTR (measured)",
        "from a fault's end to the first window whose availability is back at or above the SLO and stays there until the next fault starts (or the run ends); resolution one window. Not recovered: never back for good, the metastable signature.",
    ),
    (
        "recovered or metastable",
        "after each fault ends, per window: goodput, median latency, retry amplification, timeout and failure fractions against their mean and spread over the windows before the first fault (diagonal-Mahalanobis distance, as DesCartes' monitor). Recovered in T s: 3 windows in a row within distance 3, T from the fault's end (the end of the last fault it overlaps) to the first of them. Metastable: 10 windows in a row outside, not coming closer. A slow drain comes closer and is not metastable.",
    ),
    (
        "retry amplification",
        "attempts sent per offered logical request, over the run and in the worst window (there counting the attempts sent in the window). In the phases table, the attempts made for the requests offered in the phase, whenever sent, per request offered in it.",
    ),
    (
        "peak load multiple",
        "the highest per-window server arrival rate over the steady-state rate (the mean of the windows before the first fault, the first skipped as warm-up).",
    ),
    (
        "held offline",
        "attempts waiting in a disconnected client's offline queue until it reconnects; the peak is over all clients at once.",
    ),
    (
        "HLC offset",
        "the largest l - pt seen at any node: how far a hybrid logical clock ran ahead of its physical clock, ms.",
    ),
    (
        "HLC counter",
        "the largest logical counter c: events that shared one physical-clock value.",
    ),
    (
        "breaker open time",
        "the seconds of windows that ended with at least one circuit breaker open.",
    ),
    (
        "latency quantiles",
        "p50, p99, p99.9, mean and max of the time from a request's first send to its successful reply, of successful requests only (failures and timeouts are not in them).",
    ),
    (
        "phases",
        "the run cut at every fault start and end: before faults, during the faults active, after the fault that ended last; a window belongs to the phase holding its midpoint. Many phases are folded by kind. Every column counts by offered time: a phase's requests and their outcomes, attempts, goodput and amplification, however late they came, so the phases add up to the whole run.",
    ),
];

/// The style of every page (run, comparison, sweep): one look.
pub const CSS: &str = ":root{--good:#1a7f37;--bad:#cf222e;--muted:#57606a}
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;max-width:1240px;margin:24px auto;padding:0 16px;color:#1f2328;line-height:1.45}
h1{font-size:1.6em;margin:0 0 .2em}h2{font-size:1.25em;margin-top:1.8em;border-bottom:1px solid #d8dee4;padding-bottom:.2em}
.desc{color:#444;max-width:75em}
.verdict{display:grid;grid-template-columns:repeat(auto-fit,minmax(220px,1fr));gap:10px;margin:16px 0}
.verdict.wide{grid-template-columns:repeat(auto-fit,minmax(290px,1fr))}
.card .d{overflow-wrap:anywhere}
.card{border:1px solid #d0d7de;border-left:6px solid #8c959f;border-radius:6px;padding:8px 12px;background:#f6f8fa}
.card.good{border-left-color:var(--good)}.card.bad{border-left-color:var(--bad);background:#fff1f0}
.card .k{font-size:.78em;text-transform:uppercase;letter-spacing:.05em;color:var(--muted)}
.card .v{font-size:1.55em;font-weight:650;font-variant-numeric:tabular-nums}
.card .v.long{font-size:1.2em;line-height:1.6}.card.bad .v{color:var(--bad)}.card .d{font-size:.86em;color:#333}
.notes{border:1px solid #d4a72c;background:#fff8c5;padding:6px 14px;border-radius:6px}
table{border-collapse:collapse;margin:.5em 0;font-size:.9em}th,td{padding:3px 10px;border-bottom:1px solid #e4e4e4;text-align:left;vertical-align:top}
th{background:#f4f4f4;vertical-align:bottom}td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}td.num,td:first-child{white-space:nowrap}
td.pass{color:var(--good);font-weight:600}td.fail{color:var(--bad);font-weight:600}
table.cmp td{white-space:nowrap}table.cmp th,table.cmp td{padding:3px 7px}td.label{white-space:normal;overflow-wrap:anywhere;min-width:12em;max-width:24em}td.wrap{overflow-wrap:anywhere}td.wrap code{white-space:pre-wrap}
.scroll{overflow-x:auto;max-width:100%}
details{margin:.7em 0}summary{cursor:pointer;font-weight:600;padding:2px 0}summary .n{font-weight:400;color:var(--muted)}
pre{background:#f6f8fa;padding:8px 12px;overflow-x:auto;border-radius:4px}
.meta td:first-child{color:#555}
figure{margin:1em 0}figure svg{width:100%;height:auto;border:1px solid #eee}figcaption{color:#444;font-size:.92em}
dl.glossary dt{font-weight:600;margin-top:.5em}dl.glossary dd{margin:0 0 0 1.4em;color:#333}
a{color:#0969da}
";

fn page(title: &str, body: Markup) -> String {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) }
                style { (PreEscaped(CSS)) }
            }
            body { (body) }
        }
    }
    .into_string()
        + "\n"
}

fn table_html(t: &Table) -> Markup {
    let class = |i: usize| match t.align[i] {
        Align::Left => None,
        Align::Right => Some("num"),
    };
    let cell_class = |i: usize, c: &str| match c {
        "passed" | "held" => Some("pass"),
        "FAILED" | "BROKEN" => Some("fail"),
        _ => class(i),
    };
    html! {
        div class="scroll" {
            table {
                thead { tr { @for (i, h) in t.headers.iter().enumerate() { th class=[class(i)] { (h) } } } }
                tbody {
                    @for r in &t.rows {
                        tr { @for (i, c) in r.iter().enumerate() { td class=[cell_class(i, c)] { (c) } } }
                    }
                }
            }
        }
    }
}

/// A table under a `<details>` heading; open when short.
fn folded(title: &str, note: &str, t: &Table) -> Markup {
    let n = t.rows.len();
    html! {
        details open[n <= OPEN_ROWS] {
            summary { (title) " " span class="n" { "(" (count(n as u64)) " row" @if n != 1 { "s" } ")" } }
            @if !note.is_empty() { p { (note) } }
            (table_html(t))
        }
    }
}

fn figure(p: &Plot, caption: Caption) -> Markup {
    // Drop any XML declaration so the SVG can sit inline.
    let svg = match p.svg.find("<svg") {
        Some(i) => &p.svg[i..],
        None => p.svg.as_str(),
    };
    html! {
        figure id={ "plot-" (p.name) } {
            (PreEscaped(svg.trim_end()))
            figcaption { (caption.html()) }
        }
    }
}

fn verdict_html(groups: &[Vec<Card>]) -> Markup {
    html! {
        @for (i, cards) in groups.iter().enumerate() {
            section class=(if i == 0 && groups.len() > 1 { "verdict wide" } else { "verdict" }) {
                @for c in cards {
                    div class=(c.tone.class()) {
                        div class="k" { (c.key) }
                        // A long value in a smaller face, so it stays on one line.
                        div class=(if c.value.chars().count() > 13 { "v long" } else { "v" }) { (c.value) }
                        @for d in &c.details { div class="d" { (d) } }
                    }
                }
            }
        }
    }
}

/// A glossary's terms, their explanations, and whether they come from a record's
/// declarations (shown as text in Markdown) rather than from this crate.
type Terms = Vec<(String, String, bool)>;

fn terms(of: &[(&str, &str)]) -> Terms {
    of.iter()
        .map(|(term, text)| ((*term).to_string(), (*text).to_string(), false))
        .collect()
}

/// The glossary of the pages of `records` (one run, or a comparison's variants): each
/// workload's own, once (the rpc terms for rpc runs, the bank's for bank runs), and for
/// a workload without a renderer its figures and series as declared.
fn glossary_of<'a>(records: impl IntoIterator<Item = &'a RunRecord>) -> Terms {
    let all: Vec<&RunRecord> = records.into_iter().collect();
    let mut out: Terms = Vec::new();
    let mut seen: std::collections::BTreeSet<String> = std::collections::BTreeSet::new();
    let mut add = |more: Terms| {
        for term in more {
            if seen.insert(term.0.clone()) {
                out.push(term);
            }
        }
    };
    if all.iter().any(|r| r.summary.rpc.is_some()) {
        add(terms(&GLOSSARY));
    }
    if all.iter().any(|r| r.summary.bank.is_some()) {
        add(terms(&bank::GLOSSARY));
    }
    let declared: Vec<&RunRecord> = all
        .into_iter()
        .filter(|r| generic::declared_only(r))
        .collect();
    if !declared.is_empty() {
        let declared_terms = generic::glossary(
            &generic::figure_union(declared.iter().copied()),
            &generic::series_union(declared.iter().copied()),
        );
        add(declared_terms
            .into_iter()
            .map(|(term, text)| (term, text, true))
            .collect());
    }
    out
}

/// The glossary section; none when there are no terms (a record that declares nothing).
fn glossary_html(terms: &[(String, String, bool)]) -> Markup {
    html! {
        @if !terms.is_empty() {
            h2 id="glossary" { "Glossary" }
            dl class="glossary" {
                @for (term, text, _) in terms { dt { (term) } dd { (text) } }
            }
        }
    }
}

fn mttr_note(st: &RunStats) -> String {
    let folded = if st.faults.folded.is_empty() {
        String::new()
    } else {
        format!(
            "The first {} of {} faults are listed; the rest are folded by kind.",
            st.faults.listed.len(),
            count(st.faults.total as u64)
        )
    };
    if st.rpc.is_none() {
        return folded;
    }
    format!(
        "Measured MTTR: from the fault's end to the first window whose availability is back at or above the SLO ({} %) and stays there until the next fault or the end of the run; resolution one window ({} s). {folded}",
        fixed(st.slo * 100.0, 2),
        fixed(st.window_s, 3),
    )
    .trim_end()
    .to_string()
}

fn phases_note(rpc: &RpcStats) -> String {
    let folded = rpc.phases.rows.iter().filter(|p| p.phases > 1).count();
    let mut s = "Every column counts each request in the phase where it was offered, however late it resolved: succeeded, unresolved and attempts are those of the phase's requests (attempts whenever sent), goodput is their successes per second of the phase, amplification their attempts per request; so the phases add up to the whole run. Unresolved requests are not counted in availability.".to_string();
    if folded > 0 || rpc.phases.rows.len() < rpc.phases.total {
        s.push_str(&format!(
            " {} phases in all: the first {} are listed, the rest folded by kind.",
            count(rpc.phases.total as u64),
            stats::LISTED_PHASES
        ));
    }
    s
}

fn run_html(rec: &RunRecord, st: &RunStats, plots: &[Plot]) -> String {
    let s = &rec.summary;
    let body = html! {
        h1 { "Faultline report: " (s.scenario) }
        @if !s.description.is_empty() { p class="desc" { (s.description) } }
        (verdict_html(&verdict_groups(rec, st)))
        @if !st.notes.is_empty() {
            div class="notes" {
                p { strong { "This record contradicts itself:" } }
                ul { @for n in &st.notes { li { (n) } } }
            }
        }
        @if !plots.is_empty() {
            h2 id="charts" { "Charts" }
            @for p in plots { (figure(p, plot_caption(&p.name, false, &s.series))) }
        }
        h2 id="tables" { "Tables" }
        @if let Some(b) = &st.bank {
            @for (title, note, t) in bank::tables(st, b) { (folded(title, &note, &t)) }
        }
        @if generic::declared_only(rec) {
            (folded("Figures", "Every figure the workload declares, in its unit.", &generic::figures_table(rec)))
            @for t in &s.tables {
                (folded(&t.title, &generic::record_table_note(t), &generic::record_table(t)))
            }
        }
        @if st.faults.total == 0 {
            p { "No faults occurred." }
        } @else {
            (folded(if st.rpc.is_some() { "Faults and recovery" } else { "Faults" }, &mttr_note(st), &faults_table(st)))
        }
        @if let Some(rpc) = &st.rpc {
            (folded("Phases", &phases_note(rpc), &phases_table(rec, st, rpc)))
            @if rpc.expectations.is_empty() {
                p { "Analytic vs measured: the simulator computed no closed form for this scenario." }
            } @else {
                (folded("Analytic vs measured", "The analytic value comes from the simulator's typed config; the measured value from this record.", &expectations_table(rpc)))
            }
        }
        @if !s.checks.is_empty() {
            (folded("Checks", "", &checks_table(rec)))
        }
        (folded("All metrics", "", &summary_table_of(&summary_rows(rec, st, true))))
        h2 id="run" { "Run" }
        table class="meta" {
            @for (k, v) in meta_rows(rec) { tr { td { (k) } td { code { (v) } } } }
        }
        p { "Reproduce this run:" }
        pre { code { (reproduce_command(rec)) } }
        p { "The numbers on this page are in " code { (REPORT_JSON) } " beside it." }
        (glossary_html(&glossary_of([rec])))
    };
    page(&format!("Faultline report: {}", s.scenario), body)
}

/// The verdict as a list; `literal` when its words come from a record's declarations
/// (a workload without a renderer), shown as text.
fn verdict_markdown(groups: &[Vec<Card>], literal: bool) -> String {
    let text = |s: &str| if literal { md_text(s) } else { s.to_string() };
    let mut b = String::new();
    for c in groups.iter().flatten() {
        let details = if c.details.is_empty() {
            String::new()
        } else {
            let details: Vec<String> = c.details.iter().map(|d| text(d)).collect();
            format!(" ({})", details.join("; "))
        };
        b.push_str(&format!(
            "- {} [{}]: **{}**{details}\n",
            text(&c.key),
            c.tone.word(),
            text(&c.value)
        ));
    }
    b
}

/// The glossary in Markdown; terms from a record's declarations are shown as text.
fn glossary_markdown(terms: &[(String, String, bool)]) -> String {
    if terms.is_empty() {
        return String::new();
    }
    let mut b = String::from("## Glossary\n\n");
    for (term, text, declared) in terms {
        if *declared {
            b.push_str(&format!("- **{}**: {}\n", md_text(term), md_text(text)));
        } else {
            b.push_str(&format!("- **{term}**: {text}\n"));
        }
    }
    b
}

/// A table whose heads and cells come from a record, as Markdown shows them literally.
fn md_literal(mut t: Table) -> Table {
    for head in &mut t.headers {
        *head = md_text(head);
    }
    for cell in t.rows.iter_mut().flatten() {
        *cell = md_text(cell);
    }
    t
}

fn run_markdown(rec: &RunRecord, st: &RunStats, plots: &[Plot]) -> String {
    let s = &rec.summary;
    let mut b = format!("# Faultline report: {}\n\n", s.scenario);
    if !s.description.is_empty() {
        b.push_str(&format!("{}\n\n", s.description));
    }
    b.push_str("## Verdict\n\n");
    let declared = generic::declared_only(rec);
    b.push_str(&verdict_markdown(&verdict_groups(rec, st), declared));
    if !st.notes.is_empty() {
        b.push_str("\nThis record contradicts itself:\n\n");
        for n in &st.notes {
            b.push_str(&format!("- {n}\n"));
        }
    }
    if !plots.is_empty() {
        b.push_str("\n## Charts\n\n");
        for p in plots {
            b.push_str(&format!(
                "![{}]({}.png)\n\n{}\n\n",
                p.name,
                p.name,
                plot_caption(&p.name, false, &s.series).text
            ));
        }
    }
    if let Some(bank) = &st.bank {
        for (title, note, t) in bank::tables(st, bank) {
            b.push_str(&format!("\n## {title}\n\n{}\n{note}\n", t.to_markdown()));
        }
    }
    if generic::declared_only(rec) {
        b.push_str(&format!(
            "\n## Figures\n\n{}\nEvery figure the workload declares, in its unit.\n",
            md_literal(generic::figures_table(rec)).to_markdown()
        ));
        for t in &s.tables {
            b.push_str(&format!(
                "\n## {}\n\n{}\n{}\n",
                md_text(&t.title),
                md_literal(generic::record_table(t)).to_markdown(),
                md_text(&generic::record_table_note(t))
            ));
        }
    }
    b.push_str(if st.rpc.is_some() {
        "\n## Faults and recovery\n\n"
    } else {
        "\n## Faults\n\n"
    });
    if st.faults.total == 0 {
        b.push_str("No faults occurred.\n");
    } else {
        b.push_str(&faults_table(st).to_markdown());
        let note = mttr_note(st);
        if !note.is_empty() {
            b.push_str(&format!("\n{note}\n"));
        }
    }
    if let Some(rpc) = &st.rpc {
        b.push_str("\n## Phases\n\n");
        b.push_str(&phases_table(rec, st, rpc).to_markdown());
        b.push_str(&format!("\n{}\n", phases_note(rpc)));
        b.push_str("\n## Analytic vs measured\n\n");
        if rpc.expectations.is_empty() {
            b.push_str("The simulator computed no closed form for this scenario.\n");
        } else {
            b.push_str(&expectations_table(rpc).to_markdown());
        }
    }
    if !s.checks.is_empty() {
        b.push_str("\n## Checks\n\n");
        b.push_str(&checks_table(rec).to_markdown());
    }
    b.push_str("\n## All metrics\n\n");
    let metrics = summary_table_of(&summary_rows(rec, st, true));
    b.push_str(
        &if declared {
            md_literal(metrics)
        } else {
            metrics
        }
        .to_markdown(),
    );
    b.push_str("\n## Run\n\n");
    for (k, v) in meta_rows(rec) {
        b.push_str(&format!("- {k}: `{v}`\n"));
    }
    b.push_str(&format!(
        "\nReproduce this run:\n\n```sh\n{}\n```\n\nThe numbers on this page are in `{REPORT_JSON}` beside it.\n\n",
        reproduce_command(rec)
    ));
    b.push_str(&glossary_markdown(&glossary_of([rec])));
    one_blank_line(b)
}

/// Collapses runs of blank lines to one (sections join with a blank line each).
fn one_blank_line(mut s: String) -> String {
    while s.contains("\n\n\n") {
        s = s.replace("\n\n\n", "\n\n");
    }
    s
}

fn ensure_dir(dir: &Path) -> Result<(), ReportError> {
    std::fs::create_dir_all(dir).map_err(|e| ReportError::io(dir, "create directory", e))
}

/// The charts a run has data for: availability when requests were offered, the herd
/// when there is a timeline, latency when any success completed, breakers when any
/// breaker opened or rejected (no empty charts); a bank run's own; for any other
/// workload, a chart per declared series with windows.
fn run_plots(dir: &Path, rec: &RunRecord, st: &RunStats) -> Result<Vec<Plot>, ReportError> {
    if let Some(b) = &st.bank {
        return bank::plots(dir, rec, b);
    }
    let Some(rpc) = &st.rpc else {
        let title = format!("{} (seed {})", rec.summary.scenario, rec.summary.seed);
        let lines = [(rec.summary.scenario.clone(), rec)];
        return generic::series_plots(dir, &title, &rec.summary.series, &lines, None);
    };
    let zoom = rpc.zoom;
    let mut out = Vec::new();
    if rec.timeline.iter().any(|r| r.offered > 0) {
        out.push(plots::availability(dir, rec, zoom)?);
    }
    if !rec.timeline.is_empty() {
        out.push(plots::herd(dir, rec, zoom)?);
    }
    if plots::has_latency(rec) {
        out.push(plots::latency(dir, rec, zoom)?);
    }
    if rpc.breakers.active() && !rec.timeline.is_empty() {
        out.push(plots::breakers(dir, rec, zoom)?);
    }
    Ok(out)
}

fn json_of(path: &Path, st: &impl serde::Serialize) -> Result<String, ReportError> {
    let mut json = serde_json::to_string_pretty(st).map_err(|e| ReportError::Json {
        path: path.to_path_buf(),
        source: e,
    })?;
    json.push('\n');
    Ok(json)
}

/// Writes `report.html`, `report.md`, `report.json` and the charts the run has data for
/// (`availability`, `herd`, `latency`, `breakers`, each `.svg` and `.png`) into `dir`;
/// returns the paths written.
///
/// A record of a workload without a renderer gets its page from its declarations
/// (figures, a `series-<name>` chart per series, tables); one that declares nothing, a
/// report of its core (checks, faults) and no charts.
pub fn write_run_report(dir: &Path, rec: &RunRecord) -> Result<Vec<PathBuf>, ReportError> {
    ensure_dir(dir)?;
    let st = stats::compute(rec);
    let plots = run_plots(dir, rec, &st)?;
    let html_path = dir.join("report.html");
    write_file(&html_path, run_html(rec, &st, &plots).as_bytes())?;
    let md_path = dir.join("report.md");
    write_file(&md_path, run_markdown(rec, &st, &plots).as_bytes())?;
    let json_path = dir.join(REPORT_JSON);
    write_file(&json_path, json_of(&json_path, &st)?.as_bytes())?;
    let mut out = vec![html_path, md_path, json_path];
    for p in plots {
        out.push(p.svg_path);
        out.push(p.png_path);
    }
    Ok(out)
}

/// Loads the run saved in `dir` and writes its report there (`faultline report DIR`).
pub fn rebuild_report(dir: &Path) -> Result<Vec<PathBuf>, ReportError> {
    let rec = load_run(dir)?;
    write_run_report(dir, &rec)
}

/// A variant's checks in a few words: `2/2 passed`, `FAILED 1/2`, `none`.
fn checks_cell(st: &RunStats) -> String {
    let c = &st.checks;
    if c.total == 0 {
        "none".to_string()
    } else if c.failed.is_empty() {
        format!("all {} passed", c.total)
    } else {
        format!("{} of {} FAILED", c.failed.len(), c.total)
    }
}

/// An aligned plain-text table of variants side by side, for the CLI to print after a
/// comparison: the checks, the headline figures the variants declare, and the other
/// figures whose values differ between variants (see `write_comparison` for all).
///
/// The first line names what varies (`varying workload.clients.retry.backoff.jitter`)
/// when `vary_path` is not empty.
pub fn comparison_table(vary_path: &str, variants: &[(String, RunRecord)]) -> String {
    let stats: Vec<RunStats> = variants.iter().map(|(_, r)| stats::compute(r)).collect();
    let figures = generic::shown_figures(variants);
    let table = generic::comparison(variants, &stats, &figures).to_text(true);
    if vary_path.is_empty() {
        table
    } else {
        format!("varying {vary_path}\n{table}")
    }
}

/// The zoom of a comparison: the union of the variants' zooms, when it stays short.
fn comparison_zoom(variants: &[(String, RunRecord)], stats: &[RunStats]) -> Option<Span> {
    let end = variants
        .iter()
        .map(|(_, r)| stats::duration_s(r))
        .fold(0.0, f64::max);
    let spans: Vec<Span> = stats
        .iter()
        .filter_map(|s| s.rpc.as_ref().and_then(|r| r.zoom))
        .collect();
    let from = spans.iter().map(|s| s.from_s).fold(f64::INFINITY, f64::min);
    let to = spans
        .iter()
        .map(|s| s.to_s)
        .fold(f64::NEG_INFINITY, f64::max);
    (from.is_finite() && to > from && to - from <= 0.6 * end).then_some(Span {
        from_s: from,
        to_s: to,
    })
}

/// Most characters of a variant's label in the side-by-side table: a long label (a JSON
/// value) would push the other columns off the page. The full label stays in the cell's
/// tooltip, in the variants table below it, and in each reproduce line.
const MAX_TABLE_LABEL_CHARS: usize = 22;

/// `label`, cut to [`MAX_TABLE_LABEL_CHARS`] characters with an ellipsis.
fn short_label(label: &str) -> String {
    crate::text::clip(label, MAX_TABLE_LABEL_CHARS)
}

/// Series of the rpc workload its own overlays draw (`availability`, `latency`), so
/// their declared charts would repeat them.
const RPC_OVERLAID_SERIES: [&str; 2] = ["availability", "p99_latency_ms"];

/// Writes `compare.html`, `compare.md`, and overlays of the variants into `dir`: for
/// rpc variants `herd`, `availability` and `latency` p99, and for every workload one
/// chart per declared series (`series-<name>`), each `.svg` and `.png`; returns the
/// paths written.
///
/// `variants` pairs a label (e.g. the value of `vary_path`) with that variant's run; the
/// pages link each variant's own report at `<dir>/<variant_dir(label)>/report.html`.
pub fn write_comparison(
    dir: &Path,
    title: &str,
    vary_path: &str,
    variants: &[(String, RunRecord)],
) -> Result<Vec<PathBuf>, ReportError> {
    let dirs: Vec<String> = variants
        .iter()
        .map(|(label, _)| variant_dir(label))
        .collect();
    write_comparison_in(dir, title, vary_path, variants, &dirs)
}

/// [`write_comparison`] with each variant's directory named (`dirs`, one per variant),
/// for labels that share a [`variant_dir`] (a value given twice).
pub fn write_comparison_in(
    dir: &Path,
    title: &str,
    vary_path: &str,
    variants: &[(String, RunRecord)],
    dirs: &[String],
) -> Result<Vec<PathBuf>, ReportError> {
    if dirs.len() != variants.len() {
        return Err(ReportError::Invalid {
            message: format!(
                "comparison `{title}`: {} directories for {} variants",
                dirs.len(),
                variants.len()
            ),
        });
    }
    if variants.is_empty() {
        return Err(ReportError::Invalid {
            message: format!("comparison `{title}` has no variants"),
        });
    }
    ensure_dir(dir)?;
    let stats: Vec<RunStats> = variants.iter().map(|(_, r)| stats::compute(r)).collect();
    let zoom = comparison_zoom(variants, &stats);
    let rpc_variants: Vec<(String, RunRecord)> = variants
        .iter()
        .filter(|(_, r)| r.summary.rpc.is_some() && !r.timeline.is_empty())
        .cloned()
        .collect();
    let mut plots = Vec::new();
    // The series the rpc overlays above already draw.
    let mut overlaid: &[&str] = &[];
    if !rpc_variants.is_empty() {
        overlaid = &RPC_OVERLAID_SERIES;
        plots.push(plots::herd_comparison(dir, title, &rpc_variants, zoom)?);
        plots.push(plots::availability_comparison(
            dir,
            title,
            &rpc_variants,
            zoom,
        )?);
        if rpc_variants.iter().any(|(_, r)| plots::has_latency(r)) {
            plots.push(plots::latency_comparison(dir, title, &rpc_variants, zoom)?);
        }
    }
    let series: Vec<SeriesInfo> = generic::series_union(variants.iter().map(|(_, r)| r))
        .into_iter()
        .filter(|s| !overlaid.contains(&s.name.as_str()))
        .collect();
    let lines: Vec<(String, &RunRecord)> = variants.iter().map(|(l, r)| (l.clone(), r)).collect();
    plots.extend(generic::series_plots(dir, title, &series, &lines, zoom)?);
    let figures = generic::shown_figures(variants);
    let table = generic::comparison(variants, &stats, &figures);
    let short_labels: Vec<String> = variants.iter().map(|(l, _)| short_label(l)).collect();
    let all_figures = generic::all_figures(variants, &short_labels);
    let rpc_note = variants.iter().any(|(_, r)| r.summary.rpc.is_some());
    let link = |index: usize| format!("{}/report.html", dirs[index]);

    let body = html! {
        h1 { "Faultline comparison: " (title) }
        @if !vary_path.is_empty() {
            p { "Varying " code { (vary_path) } " over " (variants.len()) " variants." }
        }
        h2 { "Side by side" }
        div class="scroll" {
            table class="cmp" {
                thead { tr { @for (i, h) in table.headers.iter().enumerate() {
                    th class=[(table.align[i] == Align::Right).then_some("num")] { (h) }
                } } }
                tbody { @for (index, (r, st)) in table.rows.iter().zip(&stats).enumerate() { tr {
                    @for (i, c) in r.iter().enumerate() {
                        @if i == 0 {
                            td title=[(short_label(c) != *c).then_some(c)] { a href=(link(index)) { (short_label(c)) } }
                        } @else if i == 1 {
                            td class=(if c.ends_with("FAILED") { "fail" } else if c == "none" { "" } else { "pass" })
                                title=[(!st.checks.failed.is_empty()).then(|| format!("failed: {}", st.checks.failed.join(", ")))] { (c) }
                        } @else {
                            td class=[(table.align[i] == Align::Right).then_some("num")] { (c) }
                        }
                    }
                } } }
            }
        }
        p {
            "Each variant's name links to its own report. The table shows the headline figures and the figures whose values differ between variants; every figure is below."
            @if rpc_note { " Availability counts each request in the window where it was offered; latency is of successful requests only." }
        }
        h2 id="figures" { "All figures" }
        (table_html(&all_figures))
        @if !plots.is_empty() {
            h2 { "Charts" }
            @for p in &plots { (figure(p, plot_caption(&p.name, true, &series))) }
        }
        h2 { "Variants" }
        table {
            thead { tr { th { "variant" } th { "report" } th { "reproduce" } } }
            tbody { @for (index, (label, rec)) in variants.iter().enumerate() { tr {
                td class="label" { (label) }
                td class="wrap" { a href=(link(index)) { (link(index)) } }
                td class="wrap" { code { (reproduce_command(rec)) } }
            } } }
        }
        (glossary_html(&glossary_of(variants.iter().map(|(_, r)| r))))
    };
    let html_path = dir.join("compare.html");
    write_file(
        &html_path,
        page(&format!("Faultline comparison: {title}"), body).as_bytes(),
    )?;

    // Labels, title and field come from the user (or a compare.json): Markdown shows
    // them as text, never as HTML or links.
    let mut m = format!("# Faultline comparison: {}\n\n", md_text(title));
    if !vary_path.is_empty() {
        m.push_str(&format!(
            "Varying {} over {} variants.\n\n",
            md_code(vary_path),
            variants.len()
        ));
    }
    m.push_str("## Side by side\n\n");
    // Labels and the declarations' heads are record input, the rest our own numbers.
    let mut md_table = table;
    for (row, (label, _)) in md_table.rows.iter_mut().zip(variants) {
        row[0] = md_text(label);
    }
    for head in md_table.headers.iter_mut().skip(2) {
        *head = md_text(head);
    }
    m.push_str(&md_table.to_markdown());
    m.push_str("\nThe table shows the headline figures and the figures whose values differ between variants; every figure is below.");
    if rpc_note {
        m.push_str(" Availability counts each request in the window where it was offered; latency is of successful requests only.");
    }
    m.push_str("\n\n## All figures\n\n");
    let mut md_all = all_figures;
    for (head, (label, _)) in md_all.headers.iter_mut().skip(1).zip(variants) {
        *head = md_text(&short_label(label));
    }
    for row in &mut md_all.rows {
        row[0] = md_text(&row[0]);
    }
    m.push_str(&md_all.to_markdown());
    m.push('\n');
    if !plots.is_empty() {
        m.push_str("\n## Charts\n\n");
        for p in &plots {
            m.push_str(&format!(
                "![{}]({}.png)\n\n{}\n\n",
                p.name,
                p.name,
                plot_caption(&p.name, true, &series).text
            ));
        }
    }
    m.push_str("## Variants\n\n");
    for ((label, rec), variant) in variants.iter().zip(dirs) {
        m.push_str(&format!(
            "- [{}]({variant}/report.md): {}\n",
            md_text(label),
            md_code(&reproduce_command(rec))
        ));
    }
    m.push('\n');
    m.push_str(&glossary_markdown(&glossary_of(
        variants.iter().map(|(_, r)| r),
    )));
    let md_path = dir.join("compare.md");
    write_file(&md_path, one_blank_line(m).as_bytes())?;

    let mut out = vec![html_path, md_path];
    for p in plots {
        out.push(p.svg_path);
        out.push(p.png_path);
    }
    Ok(out)
}
