//! Records on disk, charts and reports: files produced, valid, and reproducible.

mod common;

use std::fs;
use std::path::Path;

use common::{crash_run, fault, stuck_run, temp_dir};
use faultline_reports::plots::SIZE;
use faultline_reports::record::{
    Expectation, Measure, RunRecord, Summary, TimelineRow, TIMELINE_HEADER,
};
use faultline_reports::stats::RunStats;
use faultline_reports::{
    comparison_table, load_run, rebuild_report, save_run, summary_table, variant_dir,
    write_comparison, write_run_report, ReportError,
};

/// Equality that treats NaN as equal to NaN (bit-for-bit for floats).
fn same_record(a: &RunRecord, b: &RunRecord) {
    assert_eq!(a.timeline.len(), b.timeline.len());
    let floats = |r: &TimelineRow| {
        [r.t_s, r.latency_p50_ms, r.latency_p99_ms, r.latency_p999_ms].map(f64::to_bits)
    };
    let strip = |r: &TimelineRow| TimelineRow {
        t_s: 0.0,
        latency_p50_ms: 0.0,
        latency_p99_ms: 0.0,
        latency_p999_ms: 0.0,
        ..r.clone()
    };
    for (x, y) in a.timeline.iter().zip(&b.timeline) {
        assert_eq!(floats(x), floats(y));
        assert_eq!(strip(x), strip(y));
    }
    let mut sa = a.summary.clone();
    let mut sb = b.summary.clone();
    let p50 = |s: &mut Summary| {
        let v = s.rpc.as_mut().unwrap().latency_ms.p50;
        s.rpc.as_mut().unwrap().latency_ms.p50 = 0.0;
        s.latency_ms.as_mut().unwrap().p50 = 0.0;
        v.to_bits()
    };
    assert_eq!(p50(&mut sa), p50(&mut sb), "latency p50");
    assert_eq!(sa, sb);
}

fn spec_record() -> RunRecord {
    let mut rec = crash_run();
    rec.timeline[3].t_s = 3.000_000_000_000_1; // needs all 17 digits to round-trip
    rec.timeline[6].faults_active = "crash:server-0;partition:client-* | server-*".to_string();
    let rpc = rec.summary.rpc.as_mut().unwrap();
    rpc.latency_ms.p50 = f64::NAN; // serde_json writes null
    rpc.expectations = vec![Expectation {
        name: "mean latency (M/M/2 per server)".to_string(),
        analytic: 11.5,
        unit: "ms".to_string(),
        note: "lambda 5/s per server, mu 20/s, c 2".to_string(),
        measure: Measure::MeanLatency,
    }];
    let section = rec.summary.rpc.clone().unwrap();
    rec.summary.set_rpc(section);
    rec.summary.scenario_spec = serde_json::json!({"kept": "only to reproduce"});
    rec
}

#[test]
fn save_and_load_round_trip() {
    let dir = temp_dir("roundtrip");
    let rec = spec_record();
    save_run(&dir, &rec).unwrap();
    let csv = fs::read_to_string(dir.join("timeline.csv")).unwrap();
    assert_eq!(csv.lines().next(), Some(TIMELINE_HEADER));
    assert_eq!(csv.lines().count(), 21);
    // NaN latencies (no successes during the crash) are empty cells.
    assert!(csv.lines().nth(6).unwrap().contains(",,,"), "{csv}");
    let json = fs::read_to_string(dir.join("summary.json")).unwrap();
    assert!(
        json.contains("\n  \"scenario\": \"synthetic\""),
        "pretty JSON: {json}"
    );
    // The aliases sit at the top level beside the rpc section.
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["workload"], "rpc");
    assert_eq!(v["availability"], v["rpc"]["availability"]);
    assert_eq!(v["requests"], v["rpc"]["requests"]);
    assert_eq!(v["rpc"]["expectations"][0]["measure"], "mean_latency");
    // No temporary files are left behind by the atomic writes.
    let names: Vec<String> = fs::read_dir(&*dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().all(|n| !n.ends_with(".tmp")), "{names:?}");
    let back = load_run(&dir).unwrap();
    same_record(&rec, &back);
}

#[test]
fn measures_serialise_in_snake_case() {
    let m = Measure::AttemptsPerRequest {
        from_s: 5.0,
        to_s: 8.0,
    };
    assert_eq!(
        serde_json::to_string(&m).unwrap(),
        r#"{"attempts_per_request":{"from_s":5.0,"to_s":8.0}}"#
    );
    let u: Measure =
        serde_json::from_str(r#"{"any_up":{"nodes":["server-0"],"random_only":true}}"#).unwrap();
    assert_eq!(
        u,
        Measure::AnyUp {
            nodes: vec!["server-0".to_string()],
            random_only: true
        }
    );
}

#[test]
fn load_errors_name_the_file_and_line() {
    let dir = temp_dir("errors");
    let e = load_run(&dir.join("missing")).unwrap_err();
    assert!(matches!(e, ReportError::Io { .. }));
    assert!(e.to_string().contains("missing/summary.json"), "{e}");

    save_run(&dir, &crash_run()).unwrap();
    let path = dir.join("timeline.csv");
    let good = fs::read_to_string(&path).unwrap();
    let mut csv = good.clone();
    csv.push_str("20,10,ten,10,0,0,0,0,10,10,10,10,0,1,2,3,\n");
    fs::write(&path, csv).unwrap();
    let e = load_run(&dir).unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.contains("timeline.csv:22: column `succeeded`: `ten` is not a count"),
        "{msg}"
    );
    // A row whose outcomes do not add up to its offered requests.
    let mut csv = good.clone();
    csv.push_str("20,10,5,5,0,0,0,0,10,10,10,5,0,1,2,3,\n");
    fs::write(&path, csv).unwrap();
    let msg = load_run(&dir).unwrap_err().to_string();
    assert!(
        msg.contains("timeline.csv:22: window at 20 s: offered 10 != succeeded 5"),
        "{msg}"
    );
    fs::write(&path, good).unwrap();

    fs::write(dir.join("summary.json"), "{\"scenario\": 3}").unwrap();
    let e = load_run(&dir).unwrap_err();
    assert!(matches!(e, ReportError::Json { .. }));
    assert!(e.to_string().contains("summary.json"), "{e}");

    // Today's format: top-level counts, no rpc section.
    let old = r#"{"scenario":"x","seed":1,"simulated_s":1,"wall_s":0,"events":0,
        "trace_hash":"","availability":1.0,"checks":[],
        "requests":{"offered":1,"succeeded":1,"failed":0,"timed_out":0,"rejected_by_breaker":0,
        "rejected_by_budget":0,"in_flight":0,"attempts":1,"retries":0}}"#;
    fs::write(dir.join("summary.json"), old).unwrap();
    let e = load_run(&dir).unwrap_err();
    assert!(matches!(e, ReportError::Record { .. }), "{e}");
    assert!(e.to_string().contains("predates workload sections"), "{e}");
}

fn check_svg(path: &Path) -> String {
    let text = fs::read_to_string(path).unwrap();
    let doc = roxmltree::Document::parse(&text)
        .unwrap_or_else(|e| panic!("{} is not XML: {e}", path.display()));
    assert_eq!(doc.root_element().tag_name().name(), "svg");
    text
}

/// Decodes a PNG; returns its RGB(A) pixels, checking its size and that it is not blank.
fn check_png(path: &Path) -> (Vec<u8>, usize) {
    assert_eq!(
        faultline_reports::plots::png_chart_format(&fs::read(path).unwrap()),
        Some(faultline_reports::plots::CHART_FORMAT_VERSION),
        "{} carries the chart format version it was drawn with",
        path.display()
    );
    let decoder = png::Decoder::new(fs::File::open(path).unwrap());
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    assert_eq!((info.width, info.height), SIZE, "{}", path.display());
    buf.truncate(info.buffer_size());
    let samples = info.color_type.samples();
    // Not blank: some pixels are dark (text, axes).
    let dark = buf
        .chunks(samples)
        .filter(|px| px.iter().take(3).all(|c| *c < 80))
        .count();
    assert!(
        dark > 1000,
        "{} looks blank ({dark} dark pixels)",
        path.display()
    );
    (buf, samples)
}

#[test]
fn run_report_files_are_valid() {
    let dir = temp_dir("report");
    let rec = spec_record();
    let files = write_run_report(&dir, &rec).unwrap();
    let names: Vec<String> = files
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    for want in [
        "report.html",
        "report.md",
        "report.json",
        "availability.svg",
        "availability.png",
        "herd.svg",
        "herd.png",
        "latency.svg",
        "latency.png",
        "breakers.svg",
        "breakers.png",
    ] {
        assert!(names.iter().any(|n| n == want), "missing {want}: {names:?}");
        assert!(dir.join(want).is_file());
    }
    for name in ["availability", "herd", "latency", "breakers"] {
        let svg = check_svg(&dir.join(format!("{name}.svg")));
        assert!(svg.contains("time (s)"), "{name}: x axis label");
        // Whole run and the zoom on the crash (3-12 s) side by side.
        assert!(svg.contains("whole run, 0-20 s"), "{name}: whole-run panel");
        assert!(svg.contains("zoom: 3-12 s"), "{name}: zoomed panel");
        // Hover values: one region per window in each panel (20 + 9).
        assert_eq!(svg.matches("<title>").count(), 29, "{name}: tooltips");
        check_png(&dir.join(format!("{name}.png")));
    }
    let svg = fs::read_to_string(dir.join("availability.svg")).unwrap();
    assert!(svg.contains("availability (%)") && svg.contains("SLO 90 %"));
    assert!(svg.contains("crash server-0"), "fault label");
    assert!(
        svg.contains("<title>5-6 s\navailability: 0.00 %\noffered: 10 req\nsucceeded: 0 req\nunresolved at end: 0 req\nfaults: crash server-0</title>"),
        "the crash window's tooltip reads 0 %"
    );
    let herd = fs::read_to_string(dir.join("herd.svg")).unwrap();
    assert!(herd.contains("requests per second (req/s)") && herd.contains("offered load"));

    let html = fs::read_to_string(dir.join("report.html")).unwrap();
    for want in [
        "Faultline report: synthetic",
        "A hand-made run for tests.",
        "faultline run scenarios/synthetic.json --seed 42",
        "<td class=\"num\">82.00</td><td>%</td>", // availability
        "<td class=\"num\">1.500</td><td>attempts/req</td>", // amplification
        "<td class=\"num\">4.00</td><td>x</td>",  // peak load multiple
        "<td class=\"num\">27.50</td><td>ms</td>", // p99
        "after crash server-0",
        "1.00 s", // MTTR
        "mean latency (M/M/2 per server)",
        "mean latency of successful requests",
        "<div class=\"v\">82.00 %</div>", // verdict: availability
        "SLO 90.00 %: missed",
        "<div class=\"v\">1 of 1 passed</div>",
        "<div class=\"v\">4.0 x</div>",
        "<dt>held offline</dt>",
        "<dt>HLC offset</dt>",
        "<td class=\"pass\">passed</td>",
    ] {
        assert!(html.contains(want), "report.html lacks {want:?}");
    }
    // Verdict first, then charts, then tables.
    let at = |s: &str| html.find(s).unwrap_or_else(|| panic!("no {s}"));
    assert!(
        at("class=\"verdict\"") < at("id=\"charts\"") && at("id=\"charts\"") < at("id=\"tables\"")
    );
    assert_eq!(html.matches("<svg").count(), 4, "four inline charts");
    for banned in ["<script", "<link", "<img", "src="] {
        assert!(
            !html.contains(banned),
            "report.html is not self-contained: {banned}"
        );
    }

    let md = fs::read_to_string(dir.join("report.md")).unwrap();
    for want in [
        "# Faultline report: synthetic",
        "![availability](availability.png)",
        "![herd](herd.png)",
        "| availability (by offered time) ",
        "82.00",
        "| crash",
        "- availability [FAIL]: **82.00 %** (by offered time; SLO 90.00 %: missed)",
        "- **goodput**:",
    ] {
        assert!(md.contains(want), "report.md lacks {want:?}");
    }

    // report.json holds the page's numbers and reads back.
    let json = fs::read_to_string(dir.join("report.json")).unwrap();
    let st: RunStats = serde_json::from_str(&json).unwrap();
    assert_eq!(st.format, "faultline-report/1");
    let rpc = st.rpc.unwrap();
    assert_eq!(rpc.availability, Some(0.82));
    assert_eq!(rpc.peak.multiple, Some(4.0));
    assert_eq!(rpc.phases.rows.len(), 3);
    assert_eq!(rpc.expectations[0].measured, Some(12.25));
    assert_eq!(rpc.time_availability.windows_meeting_slo, 16);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(
        v["rpc"]["worst_recovery"]["recovery"],
        serde_json::json!({"status": "recovered", "mttr_s": 1.0})
    );
    assert_eq!(v["faults"]["listed"][0]["recovery"]["status"], "recovered");
}

#[test]
fn pngs_are_anti_aliased() {
    let dir = temp_dir("aa");
    write_run_report(&dir, &crash_run()).unwrap();
    let (px, n) = check_png(&dir.join("herd.png"));
    // Supersampled edges leave many grey levels between the colours drawn; a bitmap
    // without anti-aliasing has only the palette and the blends of the fault shading.
    let mut levels = std::collections::BTreeSet::new();
    for p in px.chunks(n) {
        levels.insert((p[0], p[1], p[2]));
    }
    assert!(levels.len() > 500, "{} distinct colours", levels.len());
}

#[test]
fn no_empty_charts() {
    let dir = temp_dir("nobreakers");
    let mut rec = crash_run();
    for r in &mut rec.timeline {
        r.breakers_open = 0;
    }
    let files = write_run_report(&dir, &rec).unwrap();
    assert!(!files.iter().any(|p| p.ends_with("breakers.svg")));
    assert!(!dir.join("breakers.svg").exists());
    let html = fs::read_to_string(dir.join("report.html")).unwrap();
    assert_eq!(html.matches("<svg").count(), 3);
    assert!(!html.contains("time with breakers open"));
}

#[test]
fn text_is_escaped_and_counts_are_grouped() {
    let dir = temp_dir("escape");
    let mut rec = crash_run();
    rec.summary.scenario = "<b>herd & co</b>".to_string();
    rec.summary.description = "a \"quoted\" <i>description</i>".to_string();
    rec.summary.events = 1_045_712;
    write_run_report(&dir, &rec).unwrap();
    let html = fs::read_to_string(dir.join("report.html")).unwrap();
    assert!(html.contains("Faultline report: &lt;b&gt;herd &amp; co&lt;/b&gt;"));
    assert!(!html.contains("<b>herd"));
    assert!(!html.contains("<i>description"));
    assert!(html.contains("1,045,712"), "thousands separators");
    check_svg(&dir.join("availability.svg"));
    let t = summary_table(&rec);
    assert!(t.contains("1,045,712  events"), "{t}");
}

#[test]
fn rebuilt_report_is_byte_identical() {
    let rec = spec_record();
    let a = temp_dir("direct");
    write_run_report(&a, &rec).unwrap();
    let b = temp_dir("rebuilt");
    save_run(&b, &rec).unwrap();
    rebuild_report(&b).unwrap();
    for name in [
        "report.md",
        "report.html",
        "report.json",
        "availability.svg",
        "herd.svg",
        "latency.svg",
        "availability.png",
    ] {
        assert_eq!(
            fs::read(a.join(name)).unwrap(),
            fs::read(b.join(name)).unwrap(),
            "{name} differs after save + rebuild"
        );
    }
    // And again: same record, same bytes.
    write_run_report(&a, &rec).unwrap();
    assert_eq!(
        fs::read(a.join("report.md")).unwrap(),
        fs::read(b.join("report.md")).unwrap()
    );
}

#[test]
fn summary_table_is_aligned_with_units() {
    let t = summary_table(&crash_run());
    assert!(t.starts_with("synthetic (seed 42)\n"), "{t}");
    let line = |metric: &str| {
        t.lines()
            .find(|l| l.starts_with(metric))
            .unwrap_or_else(|| panic!("no {metric} in\n{t}"))
            .to_string()
    };
    assert!(
        line("availability (by offered time)").ends_with("82.00  %"),
        "{t}"
    );
    assert!(
        line("latency p99 (successful requests)").ends_with("27.50  ms"),
        "{t}"
    );
    assert!(line("peak load multiple").ends_with("4.00  x"), "{t}");
    assert!(line("MTTR, worst fault").ends_with("1.00  s"), "{t}");
    assert!(
        line("time-based availability").ends_with("80.00  % of windows"),
        "{t}"
    );
    assert!(
        t.contains("latency quantiles are of successful requests only"),
        "{t}"
    );
    // Values end in the same column.
    let col = |l: String| l.find(" %").or(l.find(" ms")).unwrap();
    assert_eq!(
        col(line("availability (by offered time)")),
        col(line("latency p99 (successful requests)"))
    );
}

#[test]
fn comparison_files_and_table() {
    let dir = temp_dir("compare");
    let mut stuck = stuck_run();
    stuck.summary.checks[0].passed = false;
    let variants = vec![
        ("recovers".to_string(), crash_run()),
        ("stuck run".to_string(), stuck),
    ];
    let files = write_comparison(
        &dir,
        "synthetic, retries",
        "workload.clients.retry",
        &variants,
    )
    .unwrap();
    assert_eq!(files.len(), 8);
    for name in ["herd", "availability", "latency"] {
        let svg = check_svg(&dir.join(format!("{name}.svg")));
        assert!(
            svg.contains("recovers") && svg.contains("stuck run"),
            "legend by variant"
        );
        check_png(&dir.join(format!("{name}.png")));
    }
    let md = fs::read_to_string(dir.join("compare.md")).unwrap();
    assert!(md.contains("[stuck run](stuck_run/report.md)"), "{md}");
    let html = fs::read_to_string(dir.join("compare.html")).unwrap();
    assert!(html.contains("<code>workload.clients.retry</code>"));
    assert!(html.contains("<a href=\"recovers/report.html\">recovers</a>"));
    assert!(html.contains("<a href=\"stuck_run/report.html\">stuck run</a>"));
    assert!(html.contains(
        "<td class=\"fail\" title=\"failed: availability_at_least 0.8\">1 of 1 FAILED</td>"
    ));
    assert!(html.contains("<td class=\"pass\">all 1 passed</td>"));
    assert_eq!(html.matches("<svg").count(), 3);
    assert_eq!(variant_dir("a b/c"), "a_b_c");

    let t = comparison_table("workload.clients.retry", &variants);
    let lines: Vec<&str> = t.lines().collect();
    assert_eq!(lines.len(), 4, "{t}");
    assert_eq!(lines[0], "varying workload.clients.retry");
    // The checks, the headline figures, then the figures that differ: both variants
    // have a p99 of 27.5 ms (a headline figure, so shown), the recovery differs.
    let heads: Vec<&str> = lines[1]
        .split("  ")
        .map(str::trim)
        .filter(|h| !h.is_empty())
        .collect();
    assert_eq!(
        heads,
        [
            "variant",
            "checks",
            "verdict",
            "availability (%)",
            "p99 latency (ms)",
            "worst time to recovery (s)",
            "faults not recovered"
        ],
        "{t}"
    );
    let column = |head: &str, line: &str| -> String {
        let end = lines[1].find(head).unwrap() + head.len();
        let start = line[..end].rfind("  ").unwrap();
        line[start..end].trim().to_string()
    };
    assert_eq!(
        column("worst time to recovery (s)", lines[2]),
        "1.00",
        "{t}"
    );
    assert_eq!(column("worst time to recovery (s)", lines[3]), "-", "{t}");
    assert_eq!(column("faults not recovered", lines[2]), "0", "{t}");
    // Recovered or metastable, beside the checks.
    assert!(lines[2].contains("  recovered in 2.00 s  "), "{t}");
    assert!(lines[3].contains("  metastable  "), "{t}");
    assert_eq!(column("faults not recovered", lines[3]), "1", "{t}");
    assert!(lines[2].starts_with("recovers") && lines[3].starts_with("stuck run"));
    assert!(lines[3].contains("1 of 1 FAILED"), "{t}");
    // Numbers are right-aligned under their header.
    let end = lines[1].find("availability (%)").unwrap() + "availability (%)".len();
    assert_eq!(&lines[2][end - 6..end], "82.000", "{t}");
    assert_eq!(&lines[3][end - 6..end], "55.000", "{t}");
    assert_eq!(column("p99 latency (ms)", lines[3]), "27.50", "{t}");
    // The pages add every figure, one row each, a column per variant.
    assert!(
        md.contains("| faults not recovered (faults) |        0 |         1 |"),
        "{md}"
    );
    assert!(html.contains("<h2 id=\"figures\">All figures</h2>"));
    assert!(write_comparison(&dir, "empty", "x", &[]).is_err());
}

#[test]
fn empty_record_still_reports() {
    let dir = temp_dir("empty");
    let files = write_run_report(&dir, &RunRecord::default()).unwrap();
    assert_eq!(files.len(), 3, "{files:?}");
    let html = fs::read_to_string(dir.join("report.html")).unwrap();
    assert!(html.contains("No faults occurred."));
    assert!(!html.contains("<svg"));
}

#[test]
fn a_record_of_another_workload_reports_its_core() {
    let dir = temp_dir("queue");
    let rec = RunRecord {
        summary: Summary {
            scenario: "ledger".to_string(),
            workload: "queue".to_string(),
            seed: 3,
            simulated_s: 10.0,
            faults: vec![fault("crash", "server-0", 1.0, Some(2.0))],
            checks: vec![faultline_reports::record::CheckResult {
                name: "balances_conserved".to_string(),
                passed: false,
                detail: "sum 999 != 1000".to_string(),
                ..Default::default()
            }],
            ..Summary::default()
        },
        timeline: Vec::new(),
        ..RunRecord::default()
    };
    save_run(&dir, &rec).unwrap();
    assert!(!dir.join("timeline.csv").exists());
    let back = load_run(&dir).unwrap();
    assert_eq!(back, rec);
    rebuild_report(&dir).unwrap();
    let html = fs::read_to_string(dir.join("report.html")).unwrap();
    assert!(html.contains("balances_conserved"));
    assert!(html.contains("<td class=\"fail\">FAILED</td>"));
    assert!(html.contains("no report section for workload queue"));
    assert!(
        !html.contains("measured MTTR"),
        "no MTTR without an availability series"
    );
    assert!(html.contains("<td>crash</td>"));
    let t = summary_table(&rec);
    assert!(
        t.contains("checks passed") && !t.contains("availability"),
        "{t}"
    );
}

/// The phases table says its counting basis and ends with the whole run, whose counts
/// the phases' rows add up to (crash_run: 200 offered, 164 succeeded, 300 attempts).
#[test]
fn the_phases_table_states_its_basis_and_adds_up_to_the_whole_run() {
    let dir = temp_dir("phases-basis");
    write_run_report(&dir, &crash_run()).unwrap();
    let md = fs::read_to_string(dir.join("report.md")).unwrap();
    let html = fs::read_to_string(dir.join("report.html")).unwrap();
    let basis = "Every column counts each request in the phase where it was offered";
    for (name, page) in [("report.md", &md), ("report.html", &html)] {
        assert!(page.contains(basis), "{name} lacks the basis");
    }
    let rows: Vec<Vec<&str>> = md
        .split("## Phases")
        .nth(1)
        .and_then(|rest| rest.split("\n## ").next())
        .unwrap()
        .lines()
        .filter(|l| l.starts_with("| ") && !l.starts_with("| phase") && !l.starts_with("| :"))
        .map(|l| l.split('|').map(str::trim).collect())
        .collect();
    assert_eq!(rows.len(), 4, "three phases and the whole run: {rows:?}");
    let whole = rows.last().unwrap();
    assert_eq!(whole[1], "whole run");
    // Columns: phase, from, to, offered, succeeded, unresolved, attempts.
    for (col, total) in [(4, "200"), (5, "164"), (7, "300")] {
        let n = |r: &Vec<&str>| r[col].replace(',', "").parse::<u64>().unwrap();
        let sum: u64 = rows[..3].iter().map(n).sum();
        assert_eq!(sum, n(whole), "column {col}");
        assert_eq!(whole[col], total, "column {col}");
    }
}

#[test]
fn a_latency_objective_is_reported_beside_availability() {
    let dir = temp_dir("latency-slo");
    let mut rec = crash_run();
    rec.summary.slo_latency_ms = Some(250.0);
    rec.timeline[12].good = 6;
    rec.timeline[13].good = 4;
    write_run_report(&dir, &rec).unwrap();
    let html = fs::read_to_string(dir.join("report.html")).unwrap();
    assert!(html.contains("within 250 ms: 77.00 %"), "verdict");
    assert!(
        html.contains("<th class=\"num\">within 250 ms (%)</th>"),
        "phases column"
    );
    let svg = fs::read_to_string(dir.join("availability.svg")).unwrap();
    assert!(svg.contains("succeeded within 250 ms"), "second series");
    let t = summary_table(&rec);
    assert!(t.contains("availability within 250 ms"), "{t}");
    assert!(t.contains("latency objective"), "{t}");
}

/// The Markdown report embeds the PNGs, which cannot be hovered: it promises no hover,
/// while the HTML page, whose SVGs have hover regions, says what hovering shows. The
/// bank's pages are held to the same in `tests/bank.rs`.
#[test]
fn only_the_html_page_speaks_of_hovering() {
    let dir = temp_dir("hover");
    let rec = spec_record();
    write_run_report(&dir, &rec).unwrap();
    let md = fs::read_to_string(dir.join("report.md")).unwrap();
    assert!(
        !md.to_lowercase().contains("hover"),
        "report.md speaks of hovering: {}",
        md.lines()
            .filter(|l| l.to_lowercase().contains("hover"))
            .collect::<Vec<_>>()
            .join("\n")
    );
    let html = fs::read_to_string(dir.join("report.html")).unwrap();
    assert!(html.contains("Hover a window for its numbers."));
}

/// A long variant label (a JSON value) is cut short in the side-by-side table, so the
/// other columns stay on the page, with the whole label in the cell's tooltip and in the
/// variants table, which wraps it.
#[test]
fn a_long_variant_label_is_cut_short_in_the_comparison_table() {
    let dir = temp_dir("compare-long-label");
    let long =
        r#"{"mode":"ewma","alpha":0.1,"threshold":0.5,"open_for":"5s","half_open_probes":2}"#;
    let variants = vec![
        ("short".to_string(), crash_run()),
        (long.to_string(), crash_run()),
    ];
    write_comparison(&dir, "synthetic", "workload.clients.breaker", &variants).unwrap();
    let html = fs::read_to_string(dir.join("compare.html")).unwrap();
    let cmp = html
        .split("<table class=\"cmp\">")
        .nth(1)
        .and_then(|rest| rest.split("</table>").next())
        .expect("the side-by-side table");
    let escaped = long.replace('"', "&quot;");
    // 21 characters of the label and an ellipsis: 22 in all.
    let cut =
        format!("{}\u{2026}", long.chars().take(21).collect::<String>()).replace('"', "&quot;");
    assert_eq!(
        cut,
        "{&quot;mode&quot;:&quot;ewma&quot;,&quot;alpha\u{2026}"
    );
    assert!(cmp.contains(&format!("<td title=\"{escaped}\">")), "{cmp}");
    assert!(cmp.contains(&format!(">{cut}</a>")), "{cmp}");
    assert!(
        !cmp.contains(&format!(">{escaped}</a>")),
        "the whole label is not in the table's cell"
    );
    // The short label is whole, with no tooltip.
    assert!(
        cmp.contains("<td><a href=\"short/report.html\">short</a></td>"),
        "{cmp}"
    );
    // The variants table below keeps the whole label, and wraps it.
    assert!(html.contains(&format!("<td class=\"label\">{escaped}</td>")));
}

/// The whole-run panel says what its grey bar marks, and shadings of two fault kinds
/// that overlap (whose tints blend into a colour of no legend entry) are hatched, with a
/// legend entry that only a run with such an overlap gets.
#[test]
fn the_zoom_bar_is_labelled_and_overlapping_faults_have_a_legend_entry() {
    let overlap_entry = "faults of several kinds overlap";
    let dir = temp_dir("overlap-none");
    write_run_report(&dir, &crash_run()).unwrap();
    let svg = fs::read_to_string(dir.join("availability.svg")).unwrap();
    assert!(svg.contains("zoom: "), "the run has a zoomed panel");
    assert!(
        svg.contains("zoomed in the right panel"),
        "the bar is labelled"
    );
    assert!(!svg.contains(overlap_entry), "one fault: nothing overlaps");

    let dir = temp_dir("overlap");
    let mut rec = crash_run();
    let crash = rec.summary.faults[0].clone();
    let start = crash.start_s + 0.5;
    rec.summary.faults.push(fault(
        "partition",
        "client-* | server-*",
        start,
        Some(start + 3.0),
    ));
    write_run_report(&dir, &rec).unwrap();
    let svg = fs::read_to_string(dir.join("availability.svg")).unwrap();
    assert!(
        svg.contains(overlap_entry),
        "a crash and a partition overlap"
    );
    check_png(&dir.join("availability.png"));
}
