//! Report generation stays bounded: 10,000 overlapping faults over 100,000 windows.
//!
//! Before folding, the phases table of such a run was quadratic (every phase named every
//! active fault): a 97 MB report.md, then out of memory. Now every per-fault step is
//! O((faults + windows) log) and the tables fold, so the report is small.

mod common;

use std::fs;

use common::{fault, record, row};
use faultline_reports::stats;
use faultline_reports::write_run_report;

/// A tiny deterministic generator (64-bit LCG) for the synthetic run.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

const WINDOWS: u32 = 100_000;
const FAULTS: usize = 10_000;

#[test]
fn ten_thousand_overlapping_faults_make_a_bounded_report() {
    let mut rng = Lcg(11);
    let window_s = 0.1;
    let run_s = f64::from(WINDOWS) * window_s;
    let kinds = ["crash", "partition", "pause", "omission"];
    let faults: Vec<_> = (0..FAULTS)
        .map(|i| {
            let start = rng.next() * run_s;
            // Up to 300 s each: about 150 overlap at any moment.
            let end = start + rng.next() * 300.0;
            fault(
                kinds[i % kinds.len()],
                &format!("server-{} (random)", i % 50),
                start,
                (end < run_s).then_some(end),
            )
        })
        .collect();
    let timeline: Vec<_> = (0..WINDOWS)
        .map(|i| {
            let ok = (10.0 * (0.5 + 0.5 * rng.next())) as u64;
            let mut r = row(f64::from(i) * window_s, 10, ok, 12, 11);
            if i % 1000 == 0 {
                // A long faults_active cell: tooltips must stay short anyway.
                r.faults_active = (0..200)
                    .map(|k| format!("crash:server-{k} (random)"))
                    .collect::<Vec<_>>()
                    .join(";");
            }
            r
        })
        .collect();
    let mut rec = record(timeline, faults, 0.99);
    rec.summary.window_s = window_s;
    rec.summary.simulated_s = run_s;

    let st = stats::compute(&rec);
    let rpc = st.rpc.as_ref().unwrap();
    assert_eq!(st.faults.total, FAULTS);
    assert_eq!(st.faults.listed.len(), stats::LISTED_FAULTS);
    assert_eq!(
        st.faults.folded.iter().map(|g| g.count).sum::<usize>(),
        FAULTS - stats::LISTED_FAULTS
    );
    assert!(rpc.phases.total > 19_000, "{}", rpc.phases.total);
    assert!(rpc.phases.rows.len() < 40, "{} rows", rpc.phases.rows.len());
    // Nothing is lost in the folding.
    let offered: u64 = rpc.phases.rows.iter().map(|p| p.offered).sum();
    assert_eq!(offered, 10 * u64::from(WINDOWS));
    // Labels name at most a few faults each.
    assert!(rpc.phases.rows.iter().all(|p| p.label.len() < 200));

    let dir = std::env::temp_dir().join(format!("faultline-reports-scale-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    let files = write_run_report(&dir, &rec).unwrap();
    let size = |name: &str| fs::metadata(dir.join(name)).unwrap().len();
    // Bounds in bytes, each well above what the run needs and far below the old output.
    assert!(
        size("report.md") < 100_000,
        "report.md {} B",
        size("report.md")
    );
    assert!(
        size("report.json") < 200_000,
        "report.json {} B",
        size("report.json")
    );
    assert!(
        size("report.html") < 2_500_000,
        "report.html {} B",
        size("report.html")
    );
    for name in ["availability.svg", "herd.svg", "latency.svg"] {
        assert!(size(name) < 800_000, "{name} {} B", size(name));
    }
    let svg = fs::read_to_string(dir.join("availability.svg")).unwrap();
    assert!(svg.matches("<title>").count() <= faultline_reports::plots::MAX_TIPS * 2);
    assert!(files.len() >= 9);
    let _ = fs::remove_dir_all(&dir);
}
