//! Reports of one run (`report.html`, `report.md`) and of a comparison of variants
//! (`compare.html`, `compare.md`), and the plain-text tables the CLI prints.
//!
//! The HTML is one self-contained file: inline SVG charts, a small embedded stylesheet,
//! no scripts and no external assets. The Markdown holds the same tables and links the PNG
//! charts beside it. Both are pure functions of the record: the same record gives
//! byte-identical files, so a report rebuilt from saved records matches the original.

use std::path::{Path, PathBuf};

use crate::error::ReportError;
use crate::io::{load_run, write_file};
use crate::plots::{self, Plot};
use crate::record::RunRecord;
use crate::stats::{self, Recovery, RunStats};
use crate::text::{fixed, html_escape, opt_fixed, Align, Table};

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

/// The summary rows shared by the text, Markdown and HTML renderings.
fn summary_rows(rec: &RunRecord, st: &RunStats) -> Vec<Row> {
    let s = &rec.summary;
    let q = &s.requests;
    let l = &st.latency_ms;
    let mut rows = vec![
        row("simulated time", fixed(st.duration_s, 2), "s"),
        row("wall time", fixed(s.wall_s, 2), "s"),
        row("events", s.events.to_string(), "events"),
        row("metrics window", fixed(st.window_s, 3), "s"),
        row("availability", fixed(st.availability * 100.0, 2), "%"),
        row(
            "availability (nines)",
            st.nines
                .map_or_else(|| "n/a".to_string(), |n| n.to_string()),
            "nines",
        ),
        row("SLO", fixed(st.slo * 100.0, 2), "%"),
        row("goodput", fixed(st.goodput_per_s, 2), "req/s"),
        row("requests offered", q.offered.to_string(), "req"),
        row("requests succeeded", q.succeeded.to_string(), "req"),
        row("requests failed", q.failed.to_string(), "req"),
        row("requests timed out", q.timed_out.to_string(), "req"),
        row(
            "rejected by breaker",
            q.rejected_by_breaker.to_string(),
            "req",
        ),
        row(
            "rejected by budget",
            q.rejected_by_budget.to_string(),
            "req",
        ),
        row("in flight at end", q.in_flight.to_string(), "req"),
        row("attempts", q.attempts.to_string(), "attempts"),
        row("retries", q.retries.to_string(), "attempts"),
        row(
            "retry amplification",
            opt_fixed(st.amplification.overall, 3),
            "attempts/req",
        ),
        row(
            "amplification, worst window",
            opt_fixed(st.amplification.worst, 3),
            "attempts/req",
        ),
        row("latency p50", fixed(l.p50, 2), "ms"),
        row("latency p99", fixed(l.p99, 2), "ms"),
        row("latency p99.9", fixed(l.p999, 2), "ms"),
        row("latency mean", fixed(l.mean, 2), "ms"),
        row("latency max", fixed(l.max, 2), "ms"),
        row("server arrivals", s.server.arrivals.to_string(), "req"),
        row(
            "peak server arrivals",
            fixed(st.peak.peak_per_s, 1),
            "req/s",
        ),
        row(
            "steady-state arrivals",
            opt_fixed(st.peak.baseline_per_s, 1),
            "req/s",
        ),
        row("peak load multiple", opt_fixed(st.peak.multiple, 2), "x"),
        row(
            "rejected, queue full",
            s.server.rejected_queue_full.to_string(),
            "req",
        ),
        row("shed", s.server.shed.to_string(), "req"),
        row("time with breakers open", fixed(st.breakers.open_s, 2), "s"),
        row(
            "most breakers open",
            st.breakers.peak_open.to_string(),
            "breakers",
        ),
    ];
    if let Some(c) = &s.connections {
        rows.push(row(
            "connection resets",
            c.resets.to_string(),
            "connections",
        ));
        rows.push(row(
            "reconnect tries",
            c.connect_tries.to_string(),
            "connects",
        ));
        rows.push(row("reconnected", c.connects.to_string(), "connects"));
        rows.push(row("connects refused", c.refused.to_string(), "connects"));
        rows.push(row(
            "held offline, peak",
            c.offline_peak.to_string(),
            "attempts",
        ));
        rows.push(row(
            "failed, offline queue full",
            c.offline_failed.to_string(),
            "attempts",
        ));
    }
    let (mttr, unit) = recovery_text(st.worst_recovery());
    rows.push(row("MTTR, worst fault", mttr, unit));
    let passed = s.checks.iter().filter(|c| c.passed).count();
    rows.push(row(
        "checks passed",
        format!("{passed} of {}", s.checks.len()),
        "checks",
    ));
    if s.hlc != crate::record::HlcSummary::default() {
        rows.push(row("HLC max offset", fixed(s.hlc.max_offset_ms, 3), "ms"));
        rows.push(row(
            "HLC max counter",
            s.hlc.max_counter.to_string(),
            "ticks",
        ));
        rows.push(row(
            "HLC rejected",
            s.hlc.rejected.to_string(),
            "timestamps",
        ));
    }
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
/// availability                   99.53  %
/// latency p99                    12.40  ms
/// ```
pub fn summary_table(rec: &RunRecord) -> String {
    let st = stats::compute(rec);
    format!(
        "{} (seed {})\n{}",
        rec.summary.scenario,
        rec.summary.seed,
        summary_table_of(&summary_rows(rec, &st)).to_text(false)
    )
}

fn faults_table(st: &RunStats) -> Table {
    let mut t = Table::new(&[
        ("#", Align::Right),
        ("kind", Align::Left),
        ("target", Align::Left),
        ("start (s)", Align::Right),
        ("end (s)", Align::Right),
        ("duration (s)", Align::Right),
        ("measured MTTR", Align::Right),
    ]);
    for (i, fr) in st.recoveries.iter().enumerate() {
        let f = &fr.fault;
        let end = f.end_s.unwrap_or(st.duration_s);
        t.push(vec![
            (i + 1).to_string(),
            f.kind.clone(),
            f.target.clone(),
            fixed(f.start_s, 2),
            f.end_s
                .map_or_else(|| "end of run".to_string(), |e| fixed(e, 2)),
            fixed(end - f.start_s, 2),
            fr.recovery.describe(),
        ]);
    }
    t
}

fn phases_table(st: &RunStats) -> Table {
    let mut t = Table::new(&[
        ("phase", Align::Left),
        ("from (s)", Align::Right),
        ("to (s)", Align::Right),
        ("offered (req)", Align::Right),
        ("resolved (req)", Align::Right),
        ("availability (%)", Align::Right),
        ("nines", Align::Right),
        ("goodput (req/s)", Align::Right),
        ("amplification (attempts/req)", Align::Right),
    ]);
    for p in &st.phases {
        t.push(vec![
            p.label.clone(),
            fixed(p.start_s, 2),
            fixed(p.end_s, 2),
            p.offered.to_string(),
            p.resolved.to_string(),
            opt_fixed(p.availability.map(|a| a * 100.0), 2),
            p.nines.map_or_else(|| "n/a".to_string(), |n| n.to_string()),
            fixed(p.goodput_per_s, 2),
            opt_fixed(
                (p.offered > 0).then(|| p.attempts as f64 / p.offered as f64),
                3,
            ),
        ]);
    }
    t
}

fn expectations_table(st: &RunStats) -> Table {
    let mut t = Table::new(&[
        ("quantity", Align::Left),
        ("analytic", Align::Right),
        ("measured", Align::Right),
        ("unit", Align::Left),
        ("how", Align::Left),
    ]);
    for e in &st.expectations {
        t.push(vec![
            e.name.clone(),
            fixed(e.analytic, 3),
            opt_fixed(e.measured, 3),
            e.unit.clone(),
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

const CSS: &str = "body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;max-width:1060px;margin:24px auto;padding:0 16px;color:#222;line-height:1.4}
h1{font-size:1.6em;margin-bottom:.2em}h2{font-size:1.25em;margin-top:1.6em;border-bottom:1px solid #ddd;padding-bottom:.2em}
table{border-collapse:collapse;margin:.6em 0;font-size:.92em}th,td{padding:3px 10px;border-bottom:1px solid #e4e4e4;text-align:left;vertical-align:top}
th{background:#f4f4f4;vertical-align:bottom}td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}td.num,td:first-child{white-space:nowrap}
.scroll{overflow-x:auto;max-width:100%}
pre{background:#f6f6f6;padding:8px 12px;overflow-x:auto;border-radius:4px}
.meta td:first-child{color:#555}.pass{color:#1a7f37;font-weight:600}.fail{color:#cf222e;font-weight:600}
figure{margin:1em 0}figure svg{width:100%;height:auto;border:1px solid #eee}.desc{color:#444}
";

fn html_page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{}</title>\n<style>\n{CSS}</style>\n</head>\n<body>\n{body}</body>\n</html>\n",
        html_escape(title)
    )
}

fn html_figure(p: &Plot, caption: &str) -> String {
    // Drop any XML declaration so the SVG can sit inline.
    let svg = match p.svg.find("<svg") {
        Some(i) => &p.svg[i..],
        None => p.svg.as_str(),
    };
    format!(
        "<figure id=\"plot-{}\">\n{}\n<figcaption>{}</figcaption>\n</figure>\n",
        html_escape(&p.name),
        svg.trim_end(),
        html_escape(caption)
    )
}

fn plot_caption(name: &str) -> &'static str {
    match name {
        "availability" => "Success ratio per window; faults shaded; dashed line: SLO.",
        "herd" => {
            "Attempts reaching the servers per second (retries included) against the offered load."
        }
        "latency" => "Latency of successful requests per window, p50 and p99.",
        "breakers" => "Circuit breakers open at the end of each window.",
        _ => "",
    }
}

fn meta_rows(rec: &RunRecord) -> Vec<(String, String)> {
    let s = &rec.summary;
    let mut rows = vec![
        ("scenario".to_string(), s.scenario.clone()),
        ("seed".to_string(), s.seed.to_string()),
    ];
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

fn run_html(rec: &RunRecord, st: &RunStats, plots: &[Plot]) -> String {
    let s = &rec.summary;
    let mut b = String::new();
    b.push_str(&format!(
        "<h1>Faultline report: {}</h1>\n",
        html_escape(&s.scenario)
    ));
    if !s.description.is_empty() {
        b.push_str(&format!(
            "<p class=\"desc\">{}</p>\n",
            html_escape(&s.description)
        ));
    }
    b.push_str("<table class=\"meta\">\n");
    for (k, v) in meta_rows(rec) {
        b.push_str(&format!(
            "<tr><td>{}</td><td><code>{}</code></td></tr>\n",
            html_escape(&k),
            html_escape(&v)
        ));
    }
    b.push_str("</table>\n<p>Reproduce this run:</p>\n");
    b.push_str(&format!(
        "<pre><code>{}</code></pre>\n",
        html_escape(&reproduce_command(rec))
    ));
    b.push_str("<h2>Summary</h2>\n");
    b.push_str(&summary_table_of(&summary_rows(rec, st)).to_html());
    if !s.checks.is_empty() {
        b.push_str("<h2>Checks</h2>\n");
        let mut html = checks_table(rec).to_html();
        html = html.replace("<td>passed</td>", "<td class=\"pass\">passed</td>");
        html = html.replace("<td>FAILED</td>", "<td class=\"fail\">FAILED</td>");
        b.push_str(&html);
    }
    b.push_str("<h2>Charts</h2>\n");
    for p in plots {
        b.push_str(&html_figure(p, plot_caption(&p.name)));
    }
    b.push_str("<h2>Faults and recovery</h2>\n");
    if st.recoveries.is_empty() {
        b.push_str("<p>No faults occurred.</p>\n");
    } else {
        b.push_str(&faults_table(st).to_html());
        b.push_str(&format!(
            "<p>Measured MTTR: from the fault's end to the first window whose success ratio is back at or above the SLO ({} %) and stays there until the next fault or the end of the run; resolution one window ({} s).</p>\n",
            fixed(st.slo * 100.0, 2),
            fixed(st.window_s, 3)
        ));
    }
    b.push_str("<h2>Phases</h2>\n");
    b.push_str(&phases_table(st).to_html());
    b.push_str("<h2>Analytic vs measured</h2>\n");
    if st.expectations.is_empty() {
        b.push_str("<p>No closed form applies to this scenario.</p>\n");
    } else {
        b.push_str(&expectations_table(st).to_html());
    }
    html_page(&format!("Faultline report: {}", s.scenario), &b)
}

fn run_markdown(rec: &RunRecord, st: &RunStats, plots: &[Plot]) -> String {
    let s = &rec.summary;
    let mut b = format!("# Faultline report: {}\n\n", s.scenario);
    if !s.description.is_empty() {
        b.push_str(&format!("{}\n\n", s.description));
    }
    for (k, v) in meta_rows(rec) {
        b.push_str(&format!("- {k}: `{v}`\n"));
    }
    b.push_str(&format!(
        "\nReproduce this run:\n\n```sh\n{}\n```\n\n",
        reproduce_command(rec)
    ));
    b.push_str("## Summary\n\n");
    b.push_str(&summary_table_of(&summary_rows(rec, st)).to_markdown());
    if !s.checks.is_empty() {
        b.push_str("\n## Checks\n\n");
        b.push_str(&checks_table(rec).to_markdown());
    }
    b.push_str("\n## Charts\n\n");
    for p in plots {
        b.push_str(&format!(
            "![{}]({}.png)\n\n{}\n\n",
            p.name,
            p.name,
            plot_caption(&p.name)
        ));
    }
    b.push_str("## Faults and recovery\n\n");
    if st.recoveries.is_empty() {
        b.push_str("No faults occurred.\n");
    } else {
        b.push_str(&faults_table(st).to_markdown());
        b.push_str(&format!(
            "\nMeasured MTTR: from the fault's end to the first window whose success ratio is back at or above the SLO ({} %) and stays there until the next fault or the end of the run; resolution one window ({} s).\n",
            fixed(st.slo * 100.0, 2),
            fixed(st.window_s, 3)
        ));
    }
    b.push_str("\n## Phases\n\n");
    b.push_str(&phases_table(st).to_markdown());
    b.push_str("\n## Analytic vs measured\n\n");
    if st.expectations.is_empty() {
        b.push_str("No closed form applies to this scenario.\n");
    } else {
        b.push_str(&expectations_table(st).to_markdown());
    }
    b
}

fn ensure_dir(dir: &Path) -> Result<(), ReportError> {
    std::fs::create_dir_all(dir).map_err(|e| ReportError::io(dir, "create directory", e))
}

/// Writes `report.html`, `report.md` and the charts (`availability`, `herd`, `latency`,
/// `breakers`, each `.svg` and `.png`) into `dir`; returns the paths written.
pub fn write_run_report(dir: &Path, rec: &RunRecord) -> Result<Vec<PathBuf>, ReportError> {
    ensure_dir(dir)?;
    let st = stats::compute(rec);
    let plots = vec![
        plots::availability(dir, rec)?,
        plots::herd(dir, rec)?,
        plots::latency(dir, rec)?,
        plots::breakers(dir, rec)?,
    ];
    let html_path = dir.join("report.html");
    write_file(&html_path, run_html(rec, &st, &plots).as_bytes())?;
    let md_path = dir.join("report.md");
    write_file(&md_path, run_markdown(rec, &st, &plots).as_bytes())?;
    let mut out = vec![html_path, md_path];
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

/// The side-by-side table of a comparison.
fn comparison(variants: &[(String, RunRecord)]) -> Table {
    let mut t = Table::new(&[
        ("variant", Align::Left),
        ("availability (%)", Align::Right),
        ("nines", Align::Right),
        ("MTTR worst", Align::Right),
        ("attempts/req", Align::Right),
        ("worst window (attempts/req)", Align::Right),
        ("peak load (x)", Align::Right),
        ("p99 (ms)", Align::Right),
        ("breakers open (s)", Align::Right),
        ("checks", Align::Left),
    ]);
    for (label, rec) in variants {
        let st = stats::compute(rec);
        let checks = &rec.summary.checks;
        let failed = checks.iter().filter(|check| !check.passed).count();
        let checks_text = match (checks.len(), failed) {
            (0, _) => "none".to_string(),
            (n, 0) => format!("all {n} held"),
            (n, f) => format!("{f} of {n} failed"),
        };
        let (mttr, unit) = recovery_text(st.worst_recovery());
        t.push(vec![
            label.clone(),
            fixed(st.availability * 100.0, 2),
            st.nines
                .map_or_else(|| "n/a".to_string(), |n| n.to_string()),
            if unit.is_empty() {
                mttr
            } else {
                format!("{mttr} {unit}")
            },
            opt_fixed(st.amplification.overall, 3),
            opt_fixed(st.amplification.worst, 3),
            opt_fixed(st.peak.multiple, 2),
            fixed(st.latency_ms.p99, 2),
            fixed(st.breakers.open_s, 2),
            checks_text,
        ]);
    }
    t
}

/// An aligned plain-text table of variants side by side (availability, MTTR,
/// amplification, peak load multiple, p99, breaker time, checks held), for the CLI to
/// print after a comparison.
///
/// The first line names what varies (`varying workload.clients.retry.backoff.jitter`)
/// when `vary_path` is not empty.
pub fn comparison_table(vary_path: &str, variants: &[(String, RunRecord)]) -> String {
    let table = comparison(variants).to_text(true);
    if vary_path.is_empty() {
        table
    } else {
        format!("varying {vary_path}\n{table}")
    }
}

/// Writes `compare.html`, `compare.md`, and overlays of the variants (`herd` and
/// `availability`, `.svg` and `.png`) into `dir`; returns the paths written.
///
/// `variants` pairs a label (e.g. the value of `vary_path`) with that variant's run.
pub fn write_comparison(
    dir: &Path,
    title: &str,
    vary_path: &str,
    variants: &[(String, RunRecord)],
) -> Result<Vec<PathBuf>, ReportError> {
    if variants.is_empty() {
        return Err(ReportError::Invalid {
            message: format!("comparison `{title}` has no variants"),
        });
    }
    ensure_dir(dir)?;
    let plots = vec![
        plots::herd_comparison(dir, title, variants)?,
        plots::availability_comparison(dir, title, variants)?,
    ];
    let table = comparison(variants);
    let captions = |name: &str| {
        match name {
        "herd" => "Attempts reaching the servers per second, one line per variant; faults of the first variant shaded.",
        _ => "Success ratio per window, one line per variant; dashed line: SLO of the first variant.",
    }
    };

    let mut h = format!("<h1>Faultline comparison: {}</h1>\n", html_escape(title));
    if !vary_path.is_empty() {
        h.push_str(&format!(
            "<p>Varying <code>{}</code> over {} variants.</p>\n",
            html_escape(vary_path),
            variants.len()
        ));
    }
    h.push_str("<h2>Side by side</h2>\n");
    h.push_str(&table.to_html());
    h.push_str("<h2>Charts</h2>\n");
    for p in &plots {
        h.push_str(&html_figure(p, captions(&p.name)));
    }
    h.push_str("<h2>Reproduce</h2>\n<table>\n");
    for (label, rec) in variants {
        h.push_str(&format!(
            "<tr><td>{}</td><td><code>{}</code></td></tr>\n",
            html_escape(label),
            html_escape(&reproduce_command(rec))
        ));
    }
    h.push_str("</table>\n");
    let html_path = dir.join("compare.html");
    write_file(
        &html_path,
        html_page(&format!("Faultline comparison: {title}"), &h).as_bytes(),
    )?;

    let mut m = format!("# Faultline comparison: {title}\n\n");
    if !vary_path.is_empty() {
        m.push_str(&format!(
            "Varying `{vary_path}` over {} variants.\n\n",
            variants.len()
        ));
    }
    m.push_str("## Side by side\n\n");
    m.push_str(&table.to_markdown());
    m.push_str("\n## Charts\n\n");
    for p in &plots {
        m.push_str(&format!(
            "![{}]({}.png)\n\n{}\n\n",
            p.name,
            p.name,
            captions(&p.name)
        ));
    }
    m.push_str("## Reproduce\n\n");
    for (label, rec) in variants {
        m.push_str(&format!("- {label}: `{}`\n", reproduce_command(rec)));
    }
    let md_path = dir.join("compare.md");
    write_file(&md_path, m.as_bytes())?;

    let mut out = vec![html_path, md_path];
    for p in plots {
        out.push(p.svg_path);
        out.push(p.png_path);
    }
    Ok(out)
}
