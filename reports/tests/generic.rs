//! A workload the reports have never heard of gets complete pages from its declarations
//! alone: a made-up key-value store (`kv`) with its own figures, series and tables.

mod common;

use std::fs;

use common::{fault, temp_dir};
use faultline_reports::figures::{
    figures_of, Aggregate, Better, FigureSpec, Quantity, RecordTable, SeriesInfo, SeriesSpec,
    SeriesTable,
};
use faultline_reports::record::{CheckResult, RunRecord, Summary};
use faultline_reports::{
    comparison_table, load_run, save_run, summary_table, write_comparison, write_run_report,
};

const FIGURES: [FigureSpec; 4] = [
    FigureSpec {
        name: "stale_reads",
        label: "stale reads",
        unit: "reads",
        better: Better::Lower,
        quantity: Quantity::Count,
        aggregate: Aggregate::Sum,
        headline: true,
        about: "Reads that returned a value already overwritten when the read began.",
    },
    FigureSpec {
        name: "read_availability",
        label: "read availability",
        unit: "fraction",
        better: Better::Higher,
        quantity: Quantity::Ratio,
        aggregate: Aggregate::Mean,
        headline: true,
        about: "Reads answered / reads issued.",
    },
    FigureSpec {
        name: "p99_read_ms",
        label: "p99 read latency",
        unit: "ms",
        better: Better::Lower,
        quantity: Quantity::Duration,
        aggregate: Aggregate::Mean,
        headline: false,
        about: "99th percentile of the answered reads' latency.",
    },
    FigureSpec {
        name: "keys_written",
        label: "keys written",
        unit: "keys",
        better: Better::Neither,
        quantity: Quantity::Count,
        aggregate: Aggregate::Mean,
        headline: false,
        about: "Distinct keys written at least once.",
    },
];

const SERIES: [SeriesSpec; 2] = [
    SeriesSpec {
        name: "reads_per_s",
        label: "reads served",
        unit: "reads/s",
        quantity: Quantity::Rate,
        about: "Reads answered in the window, per second.",
    },
    SeriesSpec {
        name: "stale_fraction",
        label: "stale share",
        unit: "fraction",
        quantity: Quantity::Ratio,
        about: "Stale reads / reads answered in the window.",
    },
];

/// Ten one-second windows; node-1 crashed 3-5 s: reads fall to 40/s and a tenth of
/// them are stale; 4 stale reads in all, read availability 97.5 %.
fn kv_run(stale_reads: f64) -> RunRecord {
    let mut conflicts = RecordTable::new(
        "conflicts",
        "Write conflicts",
        "Keys written by two nodes at once, and which write won.",
        &["key", "writes", "winner"],
    );
    conflicts.push(vec!["user:1".into(), "3".into(), "node-0".into()]);
    conflicts.push(vec!["user:7".into(), "2".into(), "node-2".into()]);
    conflicts.more = 3;
    let t_s: Vec<f64> = (0..10).map(f64::from).collect();
    let reads = t_s
        .iter()
        .map(|t| if (3.0..5.0).contains(t) { 40.0 } else { 100.0 })
        .collect();
    let stale = t_s
        .iter()
        .map(|t| if (3.0..5.0).contains(t) { 0.1 } else { 0.0 })
        .collect();
    RunRecord {
        summary: Summary {
            scenario: "kv-store".to_string(),
            workload: "kv".to_string(),
            seed: 9,
            simulated_s: 10.0,
            window_s: 1.0,
            trace_hash: "0badcafe".to_string(),
            faults: vec![fault("crash", "node-1", 3.0, Some(5.0))],
            checks: vec![CheckResult {
                name: "stale_reads_at_most 0".to_string(),
                passed: stale_reads == 0.0,
                detail: format!("{stale_reads} stale reads vs at most 0"),
                figure: Some("stale_reads".to_string()),
                threshold: Some(0.0),
            }],
            figures: figures_of(
                &FIGURES,
                vec![Some(stale_reads), Some(0.975), Some(12.5), None],
            ),
            series: SERIES.iter().map(SeriesInfo::from).collect(),
            tables: vec![conflicts],
            ..Summary::default()
        },
        series: SeriesTable {
            t_s,
            columns: vec![reads, stale],
        },
        ..RunRecord::default()
    }
}

#[test]
fn a_workload_without_a_renderer_gets_a_complete_page_from_its_declarations() {
    let dir = temp_dir("generic-kv");
    let rec = kv_run(4.0);
    save_run(&dir, &rec).unwrap();
    let back = load_run(&dir).unwrap();
    assert_eq!(back.summary.figures, rec.summary.figures);
    assert_eq!(back.summary.series, rec.summary.series);
    assert_eq!(back.summary.tables, rec.summary.tables);
    assert_eq!(back.series, rec.series);

    let files = write_run_report(&dir, &back).unwrap();
    for name in ["series-reads_per_s", "series-stale_fraction"] {
        for ext in ["svg", "png"] {
            let path = dir.join(format!("{name}.{ext}"));
            assert!(files.contains(&path), "{} not written", path.display());
            assert!(fs::metadata(&path).unwrap().len() > 1000);
        }
    }
    let svg = fs::read_to_string(dir.join("series-reads_per_s.svg")).unwrap();
    assert!(
        svg.contains("Reads served (reads/s): kv-store (seed 9)"),
        "the chart's title"
    );
    assert!(
        svg.contains("reads served (reads/s)"),
        "the y axis names its unit"
    );
    assert!(svg.contains("crash node-1"), "the fault is labelled");
    // A ratio series is drawn in percent.
    let stale_svg = fs::read_to_string(dir.join("series-stale_fraction.svg")).unwrap();
    assert!(stale_svg.contains("Stale share (%): kv-store (seed 9)"));

    let html = fs::read_to_string(dir.join("report.html")).unwrap();
    // The verdict: the checks, then each headline figure; the stale reads card is bad
    // because the check that reads it failed.
    assert!(html.contains(
        "<div class=\"card bad\"><div class=\"k\">stale reads</div><div class=\"v\">4 reads</div><div class=\"d\">stale_reads_at_most 0: FAILED</div></div>"
    ), "{html}");
    assert!(html.contains(
        "<div class=\"card\"><div class=\"k\">read availability</div><div class=\"v\">97.500 %</div></div>"
    ));
    assert!(!html.contains("no report section for workload"));
    // The figures table: every figure, its value, its unit; an unmeasured one is `-`.
    for row in [
        "<td>stale reads</td><td class=\"num\">4</td><td>reads</td>",
        "<td>read availability</td><td class=\"num\">97.500</td><td>%</td>",
        "<td>p99 read latency</td><td class=\"num\">12.50</td><td>ms</td>",
        "<td>keys written</td><td class=\"num\">-</td><td>keys</td>",
    ] {
        assert!(html.contains(row), "{row}");
    }
    // The declared table, its caption and the rows it left out.
    assert!(html.contains("Write conflicts"));
    assert!(html.contains("<td>user:7</td><td class=\"num\">2</td><td>node-2</td>"));
    assert!(html.contains("The first 2 rows are kept; 3 more are not in the record."));
    // The faults table and the charts.
    assert!(html.contains("<td>crash</td><td>node-1</td>"));
    assert_eq!(html.matches("<svg").count(), 2);
    assert!(html.contains("Reads answered in the window, per second. Faults shaded."));
    // The glossary is the declarations', with units; no other workload's.
    assert!(html.contains(
        "<dt>stale reads (reads)</dt><dd>Reads that returned a value already overwritten when the read began.</dd>"
    ));
    assert!(html.contains("<dt>stale share (%)</dt>"));
    assert!(
        !html.contains("availability by offered time"),
        "no rpc glossary"
    );
    assert!(!html.contains("snapshot_conservation"), "no bank glossary");

    let md = fs::read_to_string(dir.join("report.md")).unwrap();
    // Declared words are shown as text: `_` escaped, rendered as written.
    assert!(
        md.contains("- stale reads [FAIL]: **4 reads** (stale\\_reads\\_at\\_most 0: FAILED)"),
        "{md}"
    );
    assert!(md.contains("| read availability |"));
    assert!(md.contains("## Write conflicts"));
    assert!(md.contains("| user:1 |"), "{md}");
    assert!(md.contains("![series-stale_fraction](series-stale_fraction.png)"));
    assert!(md.contains("- **p99 read latency (ms)**: 99th percentile"));

    // The CLI's summary lists the figures too.
    let text = summary_table(&back);
    let line = text
        .lines()
        .find(|l| l.starts_with("read availability"))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(line.contains("97.500") && line.ends_with('%'), "{line}");
}

#[test]
fn a_comparison_of_an_unknown_workload_shows_its_figures_and_series() {
    let dir = temp_dir("generic-kv-compare");
    let variants = vec![
        ("quorum".to_string(), kv_run(0.0)),
        ("one".to_string(), kv_run(4.0)),
    ];
    write_comparison(&dir, "kv-store", "workload.reads", &variants).unwrap();
    let t = comparison_table("workload.reads", &variants);
    // Headline figures, and no column for what is the same in both (p99, keys).
    let lines: Vec<&str> = t.lines().collect();
    assert!(
        lines[1].contains("stale reads") && lines[1].contains("read availability (%)"),
        "{t}"
    );
    assert!(!t.contains("p99 read latency") && !t.contains("n/a"), "{t}");
    assert!(lines[2].starts_with("quorum") && lines[2].contains("all 1 passed"));
    assert!(lines[3].starts_with("one") && lines[3].contains("1 of 1 FAILED"));
    let md = fs::read_to_string(dir.join("compare.md")).unwrap();
    assert!(
        md.contains("| p99 read latency (ms) |  12.50 |  12.50 |"),
        "{md}"
    );
    assert!(
        md.contains("| stale reads (reads)   |      0 |      4 |"),
        "{md}"
    );
    assert!(
        md.contains("| keys written (keys)   |      - |      - |"),
        "{md}"
    );
    assert!(md.contains("- **stale share (%)**: Stale reads / reads answered"));
    assert!(!md.contains("availability by offered time"));
    let svg = fs::read_to_string(dir.join("series-reads_per_s.svg")).unwrap();
    assert!(
        svg.contains("quorum") && svg.contains("one"),
        "a line per variant"
    );
    assert!(!dir.join("herd.svg").exists(), "no rpc overlays");
}

/// A record may declare any number of series: a page draws at most
/// `MAX_SERIES_CHARTS` charts, and a declared name cannot write outside the directory.
#[test]
fn a_page_draws_a_bounded_number_of_series_charts_inside_its_directory() {
    use faultline_reports::plots::generic::MAX_SERIES_CHARTS;
    let dir = temp_dir("generic-many-series");
    let mut rec = kv_run(0.0);
    let count = MAX_SERIES_CHARTS + 6;
    rec.summary.series = (0..count)
        .map(|i| SeriesInfo {
            name: if i == 0 {
                "../escape".to_string()
            } else {
                format!("s{i}")
            },
            label: format!("series {i}"),
            unit: "things".to_string(),
            quantity: Quantity::Count,
            about: String::new(),
        })
        .collect();
    rec.series = SeriesTable {
        t_s: vec![0.0, 1.0],
        columns: vec![vec![1.0, 2.0]; count],
    };
    write_run_report(&dir, &rec).unwrap();
    let charts = fs::read_dir(&*dir)
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().ends_with(".svg"))
        .count();
    assert_eq!(charts, MAX_SERIES_CHARTS);
    assert!(dir.join("series-___escape.svg").is_file());
    assert!(!dir.parent().unwrap().join("escape.svg").exists());
}

/// Declarations are record input: the Markdown pages show their labels, tables and
/// glossary text literally, never as HTML.
#[test]
fn declared_text_is_shown_as_text_in_markdown() {
    let dir = temp_dir("generic-md-text");
    let mut rec = kv_run(4.0);
    rec.summary.figures[0].info.label = "<b>stale</b>".to_string();
    rec.summary.figures[0].info.about = "see [here](javascript:x)".to_string();
    rec.summary.tables[0].rows[0][0] = "<img src=x>".to_string();
    write_run_report(&dir, &rec).unwrap();
    write_comparison(&dir.join("cmp"), "kv", "x", &[("a".to_string(), rec)]).unwrap();
    for page in [dir.join("report.md"), dir.join("cmp").join("compare.md")] {
        let md = fs::read_to_string(&page).unwrap();
        assert!(!md.contains("<b>") && !md.contains("<img"), "{md}");
        assert!(!md.replace("\\]", "").contains("](javascript"), "{md}");
        assert!(md.contains("&lt;b&gt;stale&lt;/b&gt;"), "{md}");
    }
    let md = fs::read_to_string(dir.join("report.md")).unwrap();
    assert!(md.contains("&lt;img src=x&gt;"), "{md}");
}
