//! The sweep report: `sweep.md` and `sweep.html` (with the histograms as SVG files
//! beside them, inlined in the HTML), and the table the command prints.
//!
//! Everything in it comes from `sweep.json` (and the wall times from `timing.json`), so
//! `faultline report` rebuilds it, and merges shards, without simulating. The output is
//! deterministic: the same records give the same bytes.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use super::record::{SeedRun, SweepFile, TimingFile};
use super::stats::{Histogram, Spread};
use super::table::{escape_html, Align, Table};

/// Seeds listed in each "worst seeds" table.
pub const WORST_LISTED: usize = 10;

/// Failed seeds listed in full (the rest are counted).
pub const FAILED_LISTED: usize = 1_000;

/// Bins of each histogram.
pub const BINS: usize = 20;

/// One metric of a seed run, as the report shows it.
struct Metric {
    name: &'static str,
    unit: &'static str,
    /// Value in the shown unit.
    get: fn(&SeedRun) -> Option<f64>,
    /// Its spread in the shown unit.
    spread: fn(&SweepFile) -> Spread,
    decimals: usize,
}

fn scaled(spread: &Spread, factor: f64) -> Spread {
    let scale = |value: Option<f64>| value.map(|v| v * factor);
    Spread {
        mean: scale(spread.mean),
        ci95: spread.ci95.map(|[low, high]| [low * factor, high * factor]),
        sd: scale(spread.sd),
        min: scale(spread.min),
        p50: scale(spread.p50),
        max: scale(spread.max),
        ..spread.clone()
    }
}

const METRICS: [Metric; 4] = [
    Metric {
        name: "availability",
        unit: "%",
        get: |run| run.availability.map(|a| a * 100.0),
        spread: |file| scaled(&file.totals.availability, 100.0),
        decimals: 3,
    },
    Metric {
        name: "p99 latency",
        unit: "ms",
        get: |run| run.p99_ms,
        spread: |file| file.totals.p99_ms.clone(),
        decimals: 1,
    },
    Metric {
        name: "retry amplification",
        unit: "attempts/request",
        get: |run| run.amplification,
        spread: |file| file.totals.amplification.clone(),
        decimals: 3,
    },
    Metric {
        name: "peak load multiple",
        unit: "x steady",
        get: |run| run.peak_multiple,
        spread: |file| file.totals.peak_multiple.clone(),
        decimals: 2,
    },
];

fn number(value: Option<f64>, decimals: usize) -> String {
    value.map_or_else(|| "-".to_owned(), |v| format!("{v:.decimals$}"))
}

/// The spread of every metric: mean, 95 % CI, sd, min, median, max.
fn spread_table(file: &SweepFile) -> Table {
    let mut table = Table::new(&[
        ("metric", Align::Left),
        ("unit", Align::Left),
        ("mean", Align::Right),
        ("95% CI of the mean", Align::Right),
        ("sd", Align::Right),
        ("min", Align::Right),
        ("median", Align::Right),
        ("max", Align::Right),
        ("seeds", Align::Right),
    ]);
    for metric in &METRICS {
        let spread = (metric.spread)(file);
        let d = metric.decimals;
        table.push(vec![
            metric.name.to_owned(),
            metric.unit.to_owned(),
            number(spread.mean, d),
            spread.ci95.map_or_else(
                || "-".to_owned(),
                |[low, high]| format!("{low:.d$} .. {high:.d$}"),
            ),
            number(spread.sd, d),
            number(spread.min, d),
            number(spread.p50, d),
            number(spread.max, d),
            if spread.missing > 0 {
                format!("{} ({} without)", spread.n, spread.missing)
            } else {
                spread.n.to_string()
            },
        ]);
    }
    table
}

fn checks_table(file: &SweepFile) -> Table {
    let mut table = Table::new(&[
        ("check", Align::Left),
        ("failed", Align::Right),
        ("of seeds", Align::Right),
        ("failed %", Align::Right),
    ]);
    for check in &file.totals.checks {
        table.push(vec![
            check.name.clone(),
            check.failed.to_string(),
            check.evaluated.to_string(),
            format!(
                "{:.1}",
                100.0 * check.failed as f64 / check.evaluated.max(1) as f64
            ),
        ]);
    }
    table
}

fn seed_row(run: &SeedRun) -> Vec<String> {
    let mut row = vec![run.seed.to_string()];
    for metric in &METRICS {
        row.push(number((metric.get)(run), metric.decimals));
    }
    row.push(if let Some(error) = &run.error {
        format!("error: {error}")
    } else if run.passed {
        "all held".to_owned()
    } else {
        run.failed_checks().join("; ")
    });
    row
}

fn seeds_table(runs: &[&SeedRun]) -> Table {
    let mut table = Table::new(&[
        ("seed", Align::Right),
        ("availability %", Align::Right),
        ("p99 ms", Align::Right),
        ("attempts/request", Align::Right),
        ("peak x", Align::Right),
        ("checks", Align::Left),
    ]);
    for run in runs {
        table.push(seed_row(run));
    }
    table
}

/// The seeds with the lowest availability and the highest p99.
fn worst(file: &SweepFile) -> [(String, Vec<&SeedRun>); 2] {
    let mut by_availability: Vec<&SeedRun> = file
        .runs
        .iter()
        .filter(|run| run.availability.is_some())
        .collect();
    by_availability.sort_by(|a, b| {
        a.availability
            .unwrap_or(f64::NAN)
            .total_cmp(&b.availability.unwrap_or(f64::NAN))
            .then(a.seed.cmp(&b.seed))
    });
    by_availability.truncate(WORST_LISTED);
    let mut by_p99: Vec<&SeedRun> = file
        .runs
        .iter()
        .filter(|run| run.p99_ms.is_some())
        .collect();
    by_p99.sort_by(|a, b| {
        b.p99_ms
            .unwrap_or(f64::NAN)
            .total_cmp(&a.p99_ms.unwrap_or(f64::NAN))
            .then(a.seed.cmp(&b.seed))
    });
    by_p99.truncate(WORST_LISTED);
    [
        ("lowest availability".to_owned(), by_availability),
        ("highest p99 latency".to_owned(), by_p99),
    ]
}

/// The failed seeds' report links (relative to `out`) where their records exist.
fn run_links(out: &Path, run: &SeedRun, run_roots: &[PathBuf]) -> Option<String> {
    run_roots.iter().find_map(|root| {
        let report = super::run_dir(root, run.seed).join("report.html");
        report
            .is_file()
            .then(|| crate::format::paths::relative(out, &report))
            .flatten()
            .map(|path| path.display().to_string())
    })
}

/// A histogram as an SVG bar chart: `label` on the x axis (with its unit), seeds on the
/// y axis.
pub fn histogram_svg(histogram: &Histogram, label: &str, decimals: usize) -> String {
    const WIDTH: f64 = 640.0;
    const HEIGHT: f64 = 260.0;
    const LEFT: f64 = 50.0;
    const RIGHT: f64 = 20.0;
    const TOP: f64 = 20.0;
    const BOTTOM: f64 = 50.0;
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let peak = histogram.counts.iter().copied().max().unwrap_or(1).max(1);
    let bar_w = plot_w / histogram.counts.len() as f64;
    let mut svg = String::new();
    let _ = writeln!(
        svg,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{HEIGHT}\" \
         viewBox=\"0 0 {WIDTH} {HEIGHT}\" font-family=\"sans-serif\" font-size=\"11\">"
    );
    let _ = writeln!(
        svg,
        "<rect x=\"0\" y=\"0\" width=\"{WIDTH}\" height=\"{HEIGHT}\" fill=\"white\"/>"
    );
    for (index, count) in histogram.counts.iter().enumerate() {
        let h = plot_h * *count as f64 / peak as f64;
        let x = LEFT + index as f64 * bar_w;
        let (low, high) = histogram.edges(index);
        let _ = writeln!(
            svg,
            "<rect x=\"{x:.2}\" y=\"{:.2}\" width=\"{:.2}\" height=\"{h:.2}\" fill=\"#4878a8\">\
             <title>{low:.decimals$} to {high:.decimals$}: {count} seeds</title></rect>",
            TOP + plot_h - h,
            (bar_w - 1.0).max(1.0),
        );
    }
    let axis_y = TOP + plot_h;
    let _ = writeln!(
        svg,
        "<line x1=\"{LEFT}\" y1=\"{axis_y}\" x2=\"{}\" y2=\"{axis_y}\" stroke=\"black\"/>",
        WIDTH - RIGHT
    );
    let _ = writeln!(
        svg,
        "<line x1=\"{LEFT}\" y1=\"{TOP}\" x2=\"{LEFT}\" y2=\"{axis_y}\" stroke=\"black\"/>"
    );
    let high = histogram.low + histogram.width * histogram.counts.len() as f64;
    for (x, value, anchor) in [(LEFT, histogram.low, "start"), (WIDTH - RIGHT, high, "end")] {
        let _ = writeln!(
            svg,
            "<text x=\"{x}\" y=\"{:.0}\" text-anchor=\"{anchor}\">{value:.decimals$}</text>",
            axis_y + 15.0
        );
    }
    let _ = writeln!(
        svg,
        "<text x=\"{:.0}\" y=\"{:.0}\" text-anchor=\"middle\">{}</text>",
        LEFT + plot_w / 2.0,
        HEIGHT - 12.0,
        escape_html(label)
    );
    let _ = writeln!(
        svg,
        "<text x=\"{LEFT}\" y=\"{:.0}\" text-anchor=\"end\" dx=\"-4\">{peak}</text>",
        TOP + 4.0
    );
    let _ = writeln!(
        svg,
        "<text x=\"{LEFT}\" y=\"{axis_y}\" text-anchor=\"end\" dx=\"-4\">0</text>"
    );
    let _ = writeln!(
        svg,
        "<text x=\"14\" y=\"{:.0}\" text-anchor=\"middle\" transform=\"rotate(-90 14 {:.0})\">seeds</text>",
        TOP + plot_h / 2.0,
        TOP + plot_h / 2.0
    );
    svg.push_str("</svg>\n");
    svg
}

/// The histogram as a text table (bin, seeds, bar), for Markdown and the terminal.
fn histogram_table(histogram: &Histogram, unit: &str, decimals: usize) -> Table {
    let mut table = Table::new(&[
        (&format!("from ({unit})"), Align::Right),
        (&format!("to ({unit})"), Align::Right),
        ("seeds", Align::Right),
        ("", Align::Left),
    ]);
    let peak = histogram.counts.iter().copied().max().unwrap_or(1).max(1);
    for (index, count) in histogram.counts.iter().enumerate() {
        let (low, high) = histogram.edges(index);
        table.push(vec![
            format!("{low:.decimals$}"),
            format!("{high:.decimals$}"),
            count.to_string(),
            "#".repeat((40 * count).div_ceil(peak) as usize),
        ]);
    }
    table
}

/// The headline: scenario, seeds, passed and failed counts.
fn headline(file: &SweepFile) -> String {
    let totals = &file.totals;
    let mut text = format!(
        "{} seeds ({}) of {}: {} passed, {} failed a check, {} did not complete",
        totals.runs, file.seeds, file.scenario_path, totals.passed, totals.failed, totals.errors
    );
    if let Some(shard) = file.shard {
        text.push_str(&format!(" (shard {shard})"));
    }
    if !file.set.is_empty() {
        text.push_str(&format!("; --set {}", file.set.join(" --set ")));
    }
    text
}

fn timing_line(timing: &TimingFile) -> String {
    let runs: u64 = timing.parts.iter().map(|part| part.runs).sum();
    let sim_s: f64 = timing.runs.iter().map(|run| run.sim_s).sum();
    let parts: Vec<String> = timing
        .parts
        .iter()
        .map(|part| {
            format!(
                "{}{} runs at --jobs {} in {:.2} s ({:.0} seed-runs/h)",
                part.shard
                    .map_or_else(String::new, |shard| format!("shard {shard}: ")),
                part.runs,
                part.jobs,
                part.wall_s,
                part.seed_runs_per_hour
            )
        })
        .collect();
    format!(
        "Wall time (from timing.json, not part of sweep.json): {}; simulation {:.2} s in all, \
         {:.3} s per run on average.",
        parts.join("; "),
        sim_s,
        sim_s / runs.max(1) as f64
    )
}

/// The failed seeds: checks that failed, the command that replays each, and a link to
/// its report where its records are on disk.
fn failures(
    file: &SweepFile,
    out: &Path,
    run_roots: &[PathBuf],
) -> Vec<(String, String, Option<String>)> {
    file.runs
        .iter()
        .filter(|run| !run.passed)
        .take(FAILED_LISTED)
        .map(|run| {
            let what = match &run.error {
                Some(error) => format!("seed {}: did not complete: {error}", run.seed),
                None => format!("seed {}: {}", run.seed, run.failed_checks().join("; ")),
            };
            (
                what,
                run.reproduce.clone().unwrap_or_default(),
                run_links(out, run, run_roots),
            )
        })
        .collect()
}

/// Writes `sweep.md`, `sweep.html` and the histogram SVGs into `out`.
pub fn write(
    out: &Path,
    file: &SweepFile,
    timing: &TimingFile,
    run_roots: &[PathBuf],
) -> Result<Vec<PathBuf>, String> {
    let title = format!("Sweep of {}: seeds {}", file.scenario, file.seeds);
    let mut md = format!("# {title}\n\n{}.\n\n", headline(file));
    let mut html = format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{}</title>\n\
         <style>body{{font-family:sans-serif;max-width:70em;margin:2em auto;line-height:1.4}}\
         table{{border-collapse:collapse;margin:1em 0}}td,th{{border:1px solid #ccc;padding:2px 8px}}\
         .r{{text-align:right}}.l{{text-align:left}}code{{background:#f4f4f4}}</style>\n</head>\n<body>\n\
         <h1>{}</h1>\n<p>{}.</p>\n",
        escape_html(&title),
        escape_html(&title),
        escape_html(&headline(file))
    );

    md.push_str("## Across seeds\n\nMean with its 95 % confidence interval (Student's t over the seeds), spread and range.\n\n");
    let spreads = spread_table(file);
    md.push_str(&spreads.to_markdown());
    html.push_str("<h2>Across seeds</h2>\n<p>Mean with its 95 % confidence interval (Student's t over the seeds), spread and range.</p>\n");
    html.push_str(&spreads.to_html());

    let mut written = Vec::new();
    for (metric, file_name) in [
        (&METRICS[0], "availability-hist.svg"),
        (&METRICS[1], "p99-hist.svg"),
    ] {
        let values: Vec<f64> = file
            .runs
            .iter()
            .map(|run| (metric.get)(run).unwrap_or(f64::NAN))
            .collect();
        let heading = format!("Distribution of {} across seeds", metric.name);
        md.push_str(&format!("\n## {heading}\n\n"));
        html.push_str(&format!("<h2>{}</h2>\n", escape_html(&heading)));
        match Histogram::of(&values, BINS) {
            Some(histogram) => {
                let label = format!("{} ({})", metric.name, metric.unit);
                let svg = histogram_svg(&histogram, &label, metric.decimals);
                let path = out.join(file_name);
                super::write_file(&path, svg.as_bytes())?;
                written.push(path);
                md.push_str(&format!("![{label}]({file_name})\n\n"));
                md.push_str(
                    &histogram_table(&histogram, metric.unit, metric.decimals).to_markdown(),
                );
                html.push_str(&svg);
            }
            None => {
                md.push_str("No seed measured it.\n");
                html.push_str("<p>No seed measured it.</p>\n");
            }
        }
    }

    if !file.totals.checks.is_empty() {
        let checks = checks_table(file);
        md.push_str("\n## Checks\n\n");
        md.push_str(&checks.to_markdown());
        html.push_str("<h2>Checks</h2>\n");
        html.push_str(&checks.to_html());
    }

    for (what, runs) in worst(file) {
        let heading = format!("Worst seeds: {what}");
        let table = seeds_table(&runs);
        md.push_str(&format!("\n## {heading}\n\n"));
        md.push_str(&table.to_markdown());
        html.push_str(&format!("<h2>{}</h2>\n", escape_html(&heading)));
        html.push_str(&table.to_html());
    }

    let failed = failures(file, out, run_roots);
    md.push_str("\n## Failed seeds\n\n");
    html.push_str("<h2>Failed seeds</h2>\n");
    if failed.is_empty() {
        md.push_str("None: every seed completed and every check held.\n");
        html.push_str("<p>None: every seed completed and every check held.</p>\n");
    } else {
        html.push_str("<ul>\n");
        for (what, reproduce, link) in &failed {
            let link_md = link
                .as_ref()
                .map_or_else(String::new, |link| format!(" ([report]({link}))"));
            md.push_str(&format!("- {what}{link_md}\n  `{reproduce}`\n"));
            let link_html = link.as_ref().map_or_else(String::new, |link| {
                format!(" (<a href=\"{}\">report</a>)", escape_html(link))
            });
            html.push_str(&format!(
                "<li>{}{link_html}<br><code>{}</code></li>\n",
                escape_html(what),
                escape_html(reproduce)
            ));
        }
        html.push_str("</ul>\n");
        let more = file.totals.failed + file.totals.errors - failed.len() as u64;
        if more > 0 {
            md.push_str(&format!("\nand {more} more (all in sweep.json).\n"));
            html.push_str(&format!("<p>and {more} more (all in sweep.json).</p>\n"));
        }
    }

    md.push_str(&format!("\n{}\n", timing_line(timing)));
    html.push_str(&format!(
        "<p>{}</p>\n</body>\n</html>\n",
        escape_html(&timing_line(timing))
    ));
    for (name, text) in [("sweep.md", md), ("sweep.html", html)] {
        let path = out.join(name);
        super::write_file(&path, text.as_bytes())?;
        written.push(path);
    }
    Ok(written)
}

/// What the command prints at the end of a sweep: the headline, the spread table, and
/// the failed seeds (at most `listed`, then a count).
pub fn terminal_summary(file: &SweepFile, timing: &TimingFile, listed: usize) -> String {
    let mut text = format!("{}\n\n", headline(file));
    text.push_str(&spread_table(file).to_text());
    if !file.totals.checks.is_empty() {
        text.push('\n');
        text.push_str(&checks_table(file).to_text());
    }
    text.push_str(&format!("\n{}\n", timing_line(timing)));
    let failed: Vec<&SeedRun> = file.runs.iter().filter(|run| !run.passed).collect();
    if !failed.is_empty() {
        text.push_str("\nfailed seeds\n");
        text.push_str(&seeds_table(&failed[..failed.len().min(listed)]).to_text());
        if failed.len() > listed {
            text.push_str(&format!(
                "and {} more (all in sweep.json)\n",
                failed.len() - listed
            ));
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn svg_has_one_bar_per_bin_and_labels_with_units() {
        let histogram = Histogram::of(&[1.0, 2.0, 2.5, 4.0], 4).unwrap();
        let svg = histogram_svg(&histogram, "p99 latency (ms)", 1);
        assert_eq!(svg.matches("fill=\"#4878a8\"").count(), 4);
        assert!(svg.contains("p99 latency (ms)"));
        assert!(svg.contains(">1.0<") && svg.contains(">4.0<"));
        assert_eq!(svg, histogram_svg(&histogram, "p99 latency (ms)", 1));
    }
}
