//! Records on disk, charts and reports: files produced, valid, and reproducible.

mod common;

use std::fs;
use std::path::{Path, PathBuf};

use common::{crash_run, stuck_run};
use faultline_reports::record::{RunRecord, TIMELINE_HEADER};
use faultline_reports::{
    comparison_table, load_run, rebuild_report, save_run, summary_table, write_comparison,
    write_run_report, ReportError,
};

/// A fresh, empty directory under the system temp dir, unique per test, removed on drop.
struct TempDir(PathBuf);

impl std::ops::Deref for TempDir {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn temp_dir(name: &str) -> TempDir {
    let dir = std::env::temp_dir().join(format!(
        "faultline-reports-test-{}-{name}",
        std::process::id()
    ));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    TempDir(dir)
}

/// Equality that treats NaN as equal to NaN (bit-for-bit for floats).
fn same_record(a: &RunRecord, b: &RunRecord) {
    assert_eq!(a.timeline.len(), b.timeline.len());
    for (x, y) in a.timeline.iter().zip(&b.timeline) {
        let floats = |r: &faultline_reports::record::TimelineRow| {
            [r.t_s, r.latency_p50_ms, r.latency_p99_ms, r.latency_p999_ms].map(f64::to_bits)
        };
        assert_eq!(floats(x), floats(y));
        let strip = |r: &faultline_reports::record::TimelineRow| {
            let mut r = r.clone();
            r.t_s = 0.0;
            r.latency_p50_ms = 0.0;
            r.latency_p99_ms = 0.0;
            r.latency_p999_ms = 0.0;
            r
        };
        assert_eq!(strip(x), strip(y));
    }
    let mut sa = a.summary.clone();
    let mut sb = b.summary.clone();
    assert_eq!(
        sa.latency_ms.p50.to_bits(),
        sb.latency_ms.p50.to_bits(),
        "latency p50"
    );
    sa.latency_ms.p50 = 0.0;
    sb.latency_ms.p50 = 0.0;
    assert_eq!(sa, sb);
}

fn spec_record() -> RunRecord {
    let mut rec = crash_run();
    rec.timeline[3].t_s = 3.000_000_000_000_1; // needs all 17 digits to round-trip
    rec.timeline[6].faults_active = "crash:server-0;partition:client-* | server-*".to_string();
    rec.summary.latency_ms.p50 = f64::NAN; // serde_json writes null
    rec.summary.scenario_spec = serde_json::json!({
        "workload": {"clients": {"count": 10, "arrival": {"poisson_per_s": 1.0}},
                     "servers": {"count": 1, "workers": 2,
                                 "service_time": {"exponential": "50ms"}}}
    });
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
    let back = load_run(&dir).unwrap();
    same_record(&rec, &back);
}

#[test]
fn load_errors_name_the_file_and_line() {
    let dir = temp_dir("errors");
    let e = load_run(&dir.join("missing")).unwrap_err();
    assert!(matches!(e, ReportError::Io { .. }));
    assert!(e.to_string().contains("missing/summary.json"), "{e}");

    save_run(&dir, &crash_run()).unwrap();
    let path = dir.join("timeline.csv");
    let mut csv = fs::read_to_string(&path).unwrap();
    csv.push_str("20,10,10,10,ten,0,0,0,0,1,2,3,\n");
    fs::write(&path, csv).unwrap();
    let e = load_run(&dir).unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.contains("timeline.csv:22: column `successes`: `ten` is not a count"),
        "{msg}"
    );

    fs::write(dir.join("summary.json"), "{\"scenario\": 3}").unwrap();
    let e = load_run(&dir).unwrap_err();
    assert!(matches!(e, ReportError::Json { .. }));
    assert!(e.to_string().contains("summary.json"), "{e}");
}

fn check_svg(path: &Path) -> String {
    let text = fs::read_to_string(path).unwrap();
    let doc = roxmltree::Document::parse(&text)
        .unwrap_or_else(|e| panic!("{} is not XML: {e}", path.display()));
    assert_eq!(doc.root_element().tag_name().name(), "svg");
    text
}

fn check_png(path: &Path) {
    let decoder = png::Decoder::new(fs::File::open(path).unwrap());
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    assert_eq!((info.width, info.height), (1000, 560), "{}", path.display());
    // Not blank: some pixels are dark (text, axes).
    let dark = buf[..info.buffer_size()]
        .chunks(info.color_type.samples())
        .filter(|px| px.iter().take(3).all(|c| *c < 80))
        .count();
    assert!(
        dark > 1000,
        "{} looks blank ({dark} dark pixels)",
        path.display()
    );
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
        check_png(&dir.join(format!("{name}.png")));
    }
    let svg = fs::read_to_string(dir.join("availability.svg")).unwrap();
    assert!(svg.contains("success ratio (%)") && svg.contains("SLO 90 %"));
    assert!(svg.contains("crash server-0"), "fault label");
    let herd = fs::read_to_string(dir.join("herd.svg")).unwrap();
    assert!(herd.contains("arrivals (req/s)") && herd.contains("offered load"));

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
    ] {
        assert!(html.contains(want), "report.html lacks {want:?}");
    }
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
        "| availability ",
        "82.00",
        "| crash",
    ] {
        assert!(md.contains(want), "report.md lacks {want:?}");
    }
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
        "availability.svg",
        "herd.svg",
        "latency.svg",
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
    assert!(line("availability  ").ends_with("82.00  %"), "{t}");
    assert!(line("latency p99").ends_with("27.50  ms"), "{t}");
    assert!(line("peak load multiple").ends_with("4.00  x"), "{t}");
    assert!(line("MTTR, worst fault").ends_with("1.00  s"), "{t}");
    // Values end in the same column.
    let col = |l: String| l.rfind("  ").unwrap();
    assert_eq!(col(line("availability  ")), col(line("latency p99")));
}

#[test]
fn comparison_files_and_table() {
    let dir = temp_dir("compare");
    let variants = vec![
        ("recovers".to_string(), crash_run()),
        ("stuck".to_string(), stuck_run()),
    ];
    let files = write_comparison(
        &dir,
        "synthetic, retries",
        "workload.clients.retry",
        &variants,
    )
    .unwrap();
    assert_eq!(files.len(), 6);
    for name in ["herd", "availability"] {
        let svg = check_svg(&dir.join(format!("{name}.svg")));
        assert!(
            svg.contains("recovers") && svg.contains("stuck"),
            "legend by variant"
        );
        check_png(&dir.join(format!("{name}.png")));
    }
    let md = fs::read_to_string(dir.join("compare.md")).unwrap();
    assert!(md.contains("not recovered"), "{md}");
    let html = fs::read_to_string(dir.join("compare.html")).unwrap();
    assert!(html.contains("<code>workload.clients.retry</code>"));
    assert_eq!(html.matches("<svg").count(), 2);

    let t = comparison_table("workload.clients.retry", &variants);
    let lines: Vec<&str> = t.lines().collect();
    assert_eq!(lines.len(), 4, "{t}");
    assert_eq!(lines[0], "varying workload.clients.retry");
    assert!(
        lines[1].starts_with("variant  ")
            && lines[1].contains("MTTR worst")
            && lines[1].trim_end().ends_with("checks"),
        "{t}"
    );
    // Each synthetic record holds one check that passed.
    assert!(lines[2].trim_end().ends_with("all 1 held"), "{t}");
    let mut failing = stuck_run();
    failing.summary.checks[0].passed = false;
    let t = comparison_table("", &[("stuck".to_string(), failing)]);
    assert!(
        t.lines()
            .nth(1)
            .unwrap()
            .trim_end()
            .ends_with("1 of 1 failed"),
        "{t}"
    );
    assert!(
        lines[2].starts_with("recovers") && lines[2].contains("1.00 s"),
        "{t}"
    );
    assert!(
        lines[3].starts_with("stuck") && lines[3].contains("not recovered"),
        "{t}"
    );
    // Numbers are right-aligned under their header.
    let end = lines[1].find("availability (%)").unwrap() + "availability (%)".len();
    assert_eq!(&lines[2][end - 5..end], "82.00", "{t}");
    assert_eq!(&lines[3][end - 5..end], "55.00", "{t}");
    assert!(write_comparison(&dir, "empty", "x", &[]).is_err());
}

#[test]
fn empty_record_still_reports() {
    let dir = temp_dir("empty");
    let files = write_run_report(&dir, &RunRecord::default()).unwrap();
    assert_eq!(files.len(), 10);
    check_svg(&dir.join("availability.svg"));
    check_png(&dir.join("herd.png"));
}
