//! The sweep report: `sweep.md` and `sweep.html` (with the histograms as SVG files
//! beside them, inlined in the HTML), and the table the command prints.
//!
//! Everything in it comes from `sweep.json` (and the wall times from `timing.json`), so
//! `faultline report` rebuilds it, and merges shards, without simulating. It is built
//! from the figures the workload declares (`sweep.json`'s `figures`): a row per figure,
//! a histogram and a worst-seeds table per headline figure; it never asks which
//! workload ran. The output is deterministic: the same records give the same bytes.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use faultline_reports::figures::{Aggregate, Better, FigureInfo, Quantity};

use super::record::{FigureTotal, SeedRun, SweepFile, TimingFile};
use super::stats::Histogram;
use super::table::{escape_html, Align, Table};

/// Seeds listed in each "worst seeds" table.
pub const WORST_LISTED: usize = 10;

/// Failed seeds listed in full (the rest are counted).
pub const FAILED_LISTED: usize = 1_000;

/// Bins of each histogram.
pub const BINS: usize = 20;

/// The histogram file of figure `name` (`availability-hist.svg`).
pub fn histogram_file(name: &str) -> String {
    format!("{name}-hist.svg")
}

/// A value in the figure's shown unit, with the unit (`99.120 %`, `3 violations`).
fn with_unit(info: &FigureInfo, value: Option<f64>) -> String {
    match value {
        Some(_) => format!("{} {}", info.format(value), info.shown_unit()),
        None => "-".to_owned(),
    }
}

/// The figures of `file` with their totals, in declaration order.
fn figures(file: &SweepFile) -> impl Iterator<Item = (&FigureInfo, &FigureTotal)> {
    file.figures.iter().zip(&file.totals.figures)
}

/// Seeds whose value of `name` is above 0, and seeds that measured it.
fn seeds_above_zero(file: &SweepFile, name: &str) -> (usize, usize) {
    let values: Vec<f64> = file
        .runs
        .iter()
        .filter_map(|run| run.figure(name))
        .collect();
    (values.iter().filter(|v| **v > 0.0).count(), values.len())
}

/// The figure's aggregate by its rule, named, in the shown unit (the table's unit
/// column says which): `mean 99.120 (95% CI 98.900 .. 99.300)`, `max 512.00`, `sum 3`,
/// `in 2 of 12 seeds`.
fn aggregate_text(file: &SweepFile, info: &FigureInfo, total: &FigureTotal) -> String {
    if total.aggregate.is_none() {
        return "not measured".to_owned();
    }
    match info.aggregate {
        Aggregate::Mean => {
            let mean = info.format(total.aggregate);
            match total.spread.ci95 {
                Some([low, high]) => format!(
                    "mean {mean} (95% CI {} .. {})",
                    info.format(Some(low)),
                    info.format(Some(high))
                ),
                None => format!("mean {mean}"),
            }
        }
        Aggregate::Max => format!("max {}", info.format(total.aggregate)),
        Aggregate::Sum => format!("sum {}", info.format(total.aggregate)),
        Aggregate::FractionOfSeeds => {
            let (above, measured) = seeds_above_zero(file, &info.name);
            match super::stats::wilson_95(above as u64, measured as u64) {
                Some([low, high]) => format!(
                    "in {above} of {measured} seeds (95% CI {:.1} .. {:.1} %)",
                    100.0 * low,
                    100.0 * high
                ),
                None => format!("in {above} of {measured} seeds"),
            }
        }
    }
}

/// The spread of every declared figure: its aggregate by its rule, sd, min, median, max.
fn spread_table(file: &SweepFile) -> Table {
    let mut table = Table::new(&[
        ("figure", Align::Left),
        ("unit", Align::Left),
        ("across seeds", Align::Left),
        ("sd", Align::Right),
        ("min", Align::Right),
        ("median", Align::Right),
        ("max", Align::Right),
        ("seeds", Align::Right),
    ]);
    for (info, total) in figures(file) {
        let spread = &total.spread;
        table.push(vec![
            info.label.clone(),
            info.shown_unit().to_owned(),
            aggregate_text(file, info, total),
            info.format(spread.sd),
            info.format(spread.min),
            info.format(spread.p50),
            info.format(spread.max),
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

/// The headline figures: the columns of the seeds tables, the histograms, the cards.
fn headlines(file: &SweepFile) -> Vec<&FigureInfo> {
    file.figures.iter().filter(|info| info.headline).collect()
}

fn seeds_table(file: &SweepFile, runs: &[&SeedRun]) -> Table {
    let columns = headlines(file);
    let heads: Vec<String> = columns.iter().map(|info| info.head()).collect();
    let mut header: Vec<(&str, Align)> = vec![("seed", Align::Right)];
    header.extend(heads.iter().map(|head| (head.as_str(), Align::Right)));
    header.push(("checks", Align::Left));
    let mut table = Table::new(&header);
    for run in runs {
        let mut row = vec![run.seed.to_string()];
        row.extend(
            columns
                .iter()
                .map(|info| info.format(run.figure(&info.name))),
        );
        row.push(if let Some(error) = &run.error {
            format!("error: {error}")
        } else if run.passed {
            "all held".to_owned()
        } else {
            run.failed_checks().join("; ")
        });
        table.push(row);
    }
    table
}

/// One worst-seeds section: its title, the figure, and its seeds worst first.
type Worst<'a> = (String, &'a FigureInfo, Vec<&'a SeedRun>);

/// For every headline figure with a better direction, the seeds that measured it,
/// worst first (ties by seed), at most [`WORST_LISTED`].
fn worst(file: &SweepFile) -> Vec<Worst<'_>> {
    headlines(file)
        .into_iter()
        .filter(|info| info.better != Better::Neither)
        .map(|info| {
            let mut runs: Vec<&SeedRun> = file
                .runs
                .iter()
                .filter(|run| run.figure(&info.name).is_some())
                .collect();
            let value = |run: &SeedRun| run.figure(&info.name).unwrap_or(f64::NAN);
            runs.sort_by(|a, b| {
                let order = match info.better {
                    Better::Higher => value(a).total_cmp(&value(b)),
                    _ => value(b).total_cmp(&value(a)),
                };
                order.then(a.seed.cmp(&b.seed))
            });
            runs.truncate(WORST_LISTED);
            let which = if info.better == Better::Higher {
                "lowest"
            } else {
                "highest"
            };
            (format!("{which} {}", info.label), info, runs)
        })
        .collect()
}

/// The bounds the scenario's checks put on figure `name`, in its shown unit, each with
/// the check's name (`availability_at_least 0.9`), in the order first met.
fn thresholds(file: &SweepFile, info: &FigureInfo) -> Vec<(String, f64)> {
    let mut marks: Vec<(String, f64)> = Vec::new();
    for check in file.runs.iter().flat_map(|run| &run.checks) {
        if check.figure.as_deref() != Some(info.name.as_str()) {
            continue;
        }
        let Some(threshold) = check.threshold.filter(|t| t.is_finite()) else {
            continue;
        };
        let shown = info.shown(threshold);
        if !marks
            .iter()
            .any(|(name, value)| *name == check.name && *value == shown)
        {
            marks.push((check.name.clone(), shown));
        }
    }
    marks
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
/// y axis, and each of `marks` (a check's bound: its name, its value in the shown unit)
/// a labelled vertical line; the axis stretches to show every mark.
pub fn histogram_svg(
    histogram: &Histogram,
    label: &str,
    decimals: usize,
    marks: &[(String, f64)],
) -> String {
    const WIDTH: f64 = 640.0;
    const HEIGHT: f64 = 260.0;
    const LEFT: f64 = 50.0;
    const RIGHT: f64 = 20.0;
    const TOP: f64 = 20.0;
    const BOTTOM: f64 = 50.0;
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let peak = histogram.counts.iter().copied().max().unwrap_or(1).max(1);
    let bins = histogram.counts.len();
    let data_high = histogram.low + histogram.width * bins as f64;
    let finite_marks = marks.iter().filter(|(_, value)| value.is_finite());
    let mut low = finite_marks
        .clone()
        .fold(histogram.low, |low, (_, v)| low.min(*v));
    let mut high = finite_marks.fold(data_high, |high, (_, v)| high.max(*v));
    if high <= low {
        // One value and no other mark: a unit-wide axis around it.
        low -= 0.5;
        high += 0.5;
    }
    let x_of = |value: f64| LEFT + plot_w * (value - low) / (high - low);
    // A histogram of equal values has one bin of width 0: drawn a twentieth wide.
    let bar_w = if histogram.width > 0.0 {
        plot_w * histogram.width / (high - low)
    } else {
        plot_w / BINS as f64
    };
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
        let (from, to) = histogram.edges(index);
        let x = if histogram.width > 0.0 {
            x_of(from)
        } else {
            (x_of(from) - bar_w / 2.0).clamp(LEFT, WIDTH - RIGHT - bar_w)
        };
        let _ = writeln!(
            svg,
            "<rect x=\"{x:.2}\" y=\"{:.2}\" width=\"{:.2}\" height=\"{h:.2}\" fill=\"#4878a8\">\
             <title>{from:.decimals$} to {to:.decimals$}: {count} seeds</title></rect>",
            TOP + plot_h - h,
            (bar_w - 1.0).max(1.0),
        );
    }
    let axis_y = TOP + plot_h;
    for (index, (name, value)) in marks.iter().filter(|(_, v)| v.is_finite()).enumerate() {
        let x = x_of(*value);
        let anchor = if x > LEFT + plot_w / 2.0 {
            "end"
        } else {
            "start"
        };
        let dx = if anchor == "end" { -3 } else { 3 };
        let _ = writeln!(
            svg,
            "<line x1=\"{x:.2}\" y1=\"{TOP}\" x2=\"{x:.2}\" y2=\"{axis_y}\" stroke=\"#cf222e\" \
             stroke-width=\"1.5\" stroke-dasharray=\"4 3\"><title>{}: {value:.decimals$}</title></line>",
            escape_html(name)
        );
        let _ = writeln!(
            svg,
            "<text x=\"{x:.2}\" y=\"{:.0}\" dx=\"{dx}\" text-anchor=\"{anchor}\" fill=\"#cf222e\">{}</text>",
            TOP + 10.0 + 12.0 * index as f64,
            escape_html(name)
        );
    }
    let _ = writeln!(
        svg,
        "<line x1=\"{LEFT}\" y1=\"{axis_y}\" x2=\"{}\" y2=\"{axis_y}\" stroke=\"black\"/>",
        WIDTH - RIGHT
    );
    let _ = writeln!(
        svg,
        "<line x1=\"{LEFT}\" y1=\"{TOP}\" x2=\"{LEFT}\" y2=\"{axis_y}\" stroke=\"black\"/>"
    );
    for (x, value, anchor) in [(LEFT, low, "start"), (WIDTH - RIGHT, high, "end")] {
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

/// Whether every seed completed and held every check.
fn passed(file: &SweepFile) -> bool {
    file.totals.failed + file.totals.errors == 0
}

/// One card of the verdict banner (as on a run's page).
struct Card {
    /// `card`, `card good` or `card bad`.
    class: &'static str,
    key: String,
    value: String,
    details: Vec<String>,
}

/// The verdict banner: PASS or FAIL with the seeds passed, failed and errored, then a
/// card per headline figure with its aggregate (red when a check on it failed at some
/// seed, green when its checks held at every seed).
fn cards(file: &SweepFile) -> Vec<Card> {
    let totals = &file.totals;
    let mut cards = vec![Card {
        class: if passed(file) {
            "card good"
        } else {
            "card bad"
        },
        key: "verdict".to_owned(),
        value: if passed(file) { "PASS" } else { "FAIL" }.to_owned(),
        details: vec![
            format!("{} of {} seeds passed", totals.passed, totals.runs),
            format!("{} failed a check", totals.failed),
            format!("{} did not complete", totals.errors),
        ],
    }];
    for (info, total) in figures(file).filter(|(info, _)| info.headline) {
        let checked: Vec<bool> = file
            .runs
            .iter()
            .flat_map(|run| &run.checks)
            .filter(|check| check.figure.as_deref() == Some(info.name.as_str()))
            .map(|check| check.passed)
            .collect();
        let class = match (checked.is_empty(), checked.iter().all(|held| *held)) {
            (true, _) => "card",
            (false, true) => "card good",
            (false, false) => "card bad",
        };
        let measured = total.spread.n;
        let (value, detail) = match (info.aggregate, total.aggregate) {
            (_, None) => ("-".to_owned(), "no seed measured it".to_owned()),
            (Aggregate::FractionOfSeeds, Some(_)) => {
                let (above, measured) = seeds_above_zero(file, &info.name);
                let ci = super::stats::wilson_95(above as u64, measured as u64)
                    .map(|[low, high]| {
                        format!(" (95% CI {:.1} .. {:.1} %)", 100.0 * low, 100.0 * high)
                    })
                    .unwrap_or_default();
                (
                    format!("{above} of {measured} seeds"),
                    format!(
                        "seeds where it was above 0{ci}; the largest {}",
                        with_unit(info, total.spread.max)
                    ),
                )
            }
            (rule, value) => {
                let detail = match (rule, total.spread.ci95) {
                    (Aggregate::Mean, Some([low, high])) => format!(
                        "mean of {measured} seeds, 95% CI {} .. {}",
                        info.format(Some(low)),
                        with_unit(info, Some(high))
                    ),
                    (Aggregate::Mean, None) => format!("mean of {measured} seeds"),
                    (Aggregate::Max, _) => format!("the largest of {measured} seeds"),
                    _ => format!("summed over {measured} seeds"),
                };
                (with_unit(info, value), detail)
            }
        };
        cards.push(Card {
            class,
            key: info.label.clone(),
            value,
            details: vec![detail],
        });
    }
    cards
}

fn cards_html(cards: &[Card]) -> String {
    let mut html = String::from("<section class=\"verdict\">\n");
    for card in cards {
        // A long value in a smaller face, as on a run's page.
        let value_class = if card.value.chars().count() > 13 {
            "v long"
        } else {
            "v"
        };
        let _ = write!(
            html,
            "<div class=\"{}\"><div class=\"k\">{}</div><div class=\"{value_class}\">{}</div>",
            card.class,
            escape_html(&card.key),
            escape_html(&card.value)
        );
        for detail in &card.details {
            let _ = write!(html, "<div class=\"d\">{}</div>", escape_html(detail));
        }
        html.push_str("</div>\n");
    }
    html.push_str("</section>\n");
    html
}

fn cards_markdown(cards: &[Card]) -> String {
    let mut md = String::new();
    for (index, card) in cards.iter().enumerate() {
        if index == 0 {
            let _ = writeln!(md, "**{}**: {}.\n", card.value, card.details.join(", "));
        } else {
            let _ = writeln!(
                md,
                "- **{}**: {} ({})",
                card.key,
                card.value,
                card.details.join("; ")
            );
        }
    }
    md
}

/// Decimals of a histogram's edges: a count's bins fall between whole numbers.
fn histogram_decimals(info: &FigureInfo, values: &[f64]) -> usize {
    match info.quantity {
        Quantity::Count => 1,
        _ => {
            let largest = values.iter().fold(0.0f64, |m, v| m.max(v.abs()));
            info.decimals(largest)
        }
    }
}

const SPREAD_NOTE: &str = "Each figure across the seeds, aggregated as the workload declares it: \
    a mean with its 95 % confidence interval (Student's t over the seeds), the worst (max) \
    of a bound, the sum of a count, or the seeds where it happened at all; then its spread \
    and range. Ratios are shown as percentages.";

/// Writes `sweep.md`, `sweep.html` and a histogram SVG per headline figure into `out`.
pub fn write(
    out: &Path,
    file: &SweepFile,
    timing: &TimingFile,
    run_roots: &[PathBuf],
) -> Result<Vec<PathBuf>, String> {
    let title = format!("Sweep of {}: seeds {}", file.scenario, file.seeds);
    let banner = cards(file);
    let mut md = format!("# {title}\n\n{}.\n\n", headline(file));
    md.push_str(&cards_markdown(&banner));
    let mut html = format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{}</title>\n<style>{}</style>\n</head>\n<body>\n<h1>{}</h1>\n<p class=\"desc\">{}.</p>\n",
        escape_html(&title),
        faultline_reports::report::CSS,
        escape_html(&title),
        escape_html(&headline(file))
    );
    html.push_str(&cards_html(&banner));

    md.push_str(&format!("\n## Across seeds\n\n{SPREAD_NOTE}\n\n"));
    let spreads = spread_table(file);
    md.push_str(&spreads.to_markdown());
    html.push_str(&format!(
        "<h2>Across seeds</h2>\n<p>{}</p>\n",
        escape_html(SPREAD_NOTE)
    ));
    html.push_str(&spreads.to_html());

    let mut written = Vec::new();
    for info in headlines(file) {
        let values: Vec<f64> = file
            .runs
            .iter()
            .map(|run| run.figure(&info.name).map_or(f64::NAN, |v| info.shown(v)))
            .collect();
        let heading = format!("Distribution of {} across seeds", info.label);
        md.push_str(&format!("\n## {heading}\n\n"));
        html.push_str(&format!("<h2>{}</h2>\n", escape_html(&heading)));
        match Histogram::of(&values, BINS) {
            Some(histogram) => {
                let label = info.head();
                let decimals = histogram_decimals(info, &values);
                let marks = thresholds(file, info);
                let svg = histogram_svg(&histogram, &label, decimals, &marks);
                let file_name = histogram_file(&info.name);
                let path = out.join(&file_name);
                super::write_file(&path, svg.as_bytes())?;
                written.push(path);
                let caption = if marks.is_empty() {
                    format!("{label}: seeds per bin.")
                } else {
                    let bounds: Vec<String> =
                        marks.iter().map(|(name, _)| format!("`{name}`")).collect();
                    format!(
                        "{label}: seeds per bin; the dashed line marks {}.",
                        bounds.join(", ")
                    )
                };
                md.push_str(&format!("![{label}]({file_name})\n\n{caption}\n\n"));
                md.push_str(
                    &histogram_table(&histogram, info.shown_unit(), decimals).to_markdown(),
                );
                html.push_str(&format!(
                    "<figure>\n{svg}<figcaption>{}</figcaption>\n</figure>\n",
                    escape_html(&caption.replace('`', ""))
                ));
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

    for (what, info, runs) in worst(file) {
        let heading = format!("Worst seeds: {what}");
        md.push_str(&format!("\n## {heading}\n\n"));
        html.push_str(&format!("<h2>{}</h2>\n", escape_html(&heading)));
        // Seeds that all measured the same value have no worst: one line, not a table
        // of equal rows (a bank sweep's unbroken invariants).
        let values: Vec<f64> = file
            .runs
            .iter()
            .filter_map(|run| run.figure(&info.name))
            .collect();
        if values.len() > 1 && values.iter().all(|value| *value == values[0]) {
            let line = format!(
                "Every seed that measured it has {}.",
                with_unit(info, Some(values[0]))
            );
            md.push_str(&format!("{line}\n"));
            html.push_str(&format!("<p>{}</p>\n", escape_html(&line)));
            continue;
        }
        let table = seeds_table(file, &runs);
        md.push_str(&table.to_markdown());
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
        text.push_str(&seeds_table(file, &failed[..failed.len().min(listed)]).to_text());
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
        let svg = histogram_svg(&histogram, "p99 latency (ms)", 1, &[]);
        assert_eq!(svg.matches("fill=\"#4878a8\"").count(), 4);
        assert!(svg.contains("p99 latency (ms)"));
        assert!(svg.contains(">1.0<") && svg.contains(">4.0<"));
        assert_eq!(svg, histogram_svg(&histogram, "p99 latency (ms)", 1, &[]));
        assert!(!svg.contains("stroke-dasharray"));
    }

    #[test]
    fn a_threshold_outside_the_values_stretches_the_axis_and_is_labelled() {
        let histogram = Histogram::of(&[98.0, 99.0, 100.0], 4).unwrap();
        let marks = vec![("availability_at_least 0.9".to_owned(), 90.0)];
        let svg = histogram_svg(&histogram, "availability (%)", 1, &marks);
        // The axis runs from the bound (90) to the largest value (100).
        assert!(svg.contains(">90.0<") && svg.contains(">100.0<"), "{svg}");
        // The line at 90 % sits at the left edge of the plot (x = 50).
        assert!(
            svg.contains("<line x1=\"50.00\" y1=\"20\" x2=\"50.00\""),
            "{svg}"
        );
        assert!(svg.contains(">availability_at_least 0.9</text>"), "{svg}");
        // Equal values and a bound on them: still a bar and a line.
        let flat = Histogram::of(&[0.0, 0.0], 4).unwrap();
        let marks = vec![("durability true".to_owned(), 0.0)];
        let svg = histogram_svg(&flat, "violations (violations)", 1, &marks);
        assert_eq!(svg.matches("fill=\"#4878a8\"").count(), 1);
        assert!(
            svg.contains(">durability true</text>") && !svg.contains("NaN"),
            "{svg}"
        );
    }
}
