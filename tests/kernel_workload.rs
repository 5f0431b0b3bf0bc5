//! A workload written outside the crate, through the public interface alone (the ping
//! kind of `tests/ping`), driven here by hand: the kernel's driver with a plan built in
//! Rust, its faults included, and its records built with `record_of` and sent through
//! run reports, comparisons and sweeps that have never heard of it. Registered, the
//! same kind runs from scenario files through every command (`tests/own_kind.rs`).

use faultline::engine::driver;
use faultline::engine::plan::{Fault, NetFaultPlan, NetworkPlan, Plan, PlannedFault, MAX_EVENTS};
use faultline::engine::queue::Nanos;
use faultline::engine::sampler::Sampler;
use faultline::engine::selector::Selector;

mod common;
mod ping;

use ping::{families, Ping, PingConfig, PingKind, MS, PING_EVERY_NS, PING_FIGURES};

fn run(seed: u64) -> driver::Finished<Ping> {
    run_every(seed, PING_EVERY_NS)
}

fn run_every(seed: u64, every_ns: Nanos) -> driver::Finished<Ping> {
    // madsim wants a fresh thread per runtime, as the crate's own runner does.
    #[allow(clippy::disallowed_methods)]
    let worker = std::thread::spawn(move || {
        let nodes = |text: &str| Selector::parse(text).expect("a valid selector");
        let plan = Plan {
            families: families(),
            network: NetworkPlan {
                latency: Sampler::Uniform(2 * MS, 4 * MS),
                drop_rate: 0.0,
                links: Vec::new(),
            },
            faults: vec![
                PlannedFault {
                    at_ns: 2_000 * MS,
                    fault: Fault::Net {
                        fault: NetFaultPlan::Groups(vec![
                            vec![nodes("pinger-*")],
                            vec![nodes("ponger-*")],
                        ]),
                        for_ns: 2_000 * MS,
                        stream_key: 1,
                    },
                    label: "pinger-* | ponger-*".to_owned(),
                },
                PlannedFault {
                    at_ns: 6_000 * MS,
                    fault: Fault::Crash {
                        nodes: nodes("ponger-0"),
                        restart_after_ns: Some(1_000 * MS),
                    },
                    label: "ponger-0".to_owned(),
                },
            ],
            random_faults: Vec::new(),
            duration_ns: 10_000 * MS,
            window_ns: 1_000 * MS,
            max_events: MAX_EVENTS,
        };
        driver::run::<Ping>(&PingConfig { every_ns }, &plan, seed, None)
    });
    worker
        .join()
        .expect("the run does not panic")
        .expect("the run completes")
}

#[test]
fn a_workload_outside_the_crate_runs_through_the_kernel_with_its_faults() {
    let finished = run(3);
    let ping = &finished.workload;
    // One ping per 100 ms over 10 s (the tick at 10 s itself is the run's last event).
    assert_eq!(ping.sent, 101);
    // Pings into the partition [2 s, 4 s) are lost on the way out: 20 of them.
    assert_eq!(ping.lost, 20);
    assert_eq!(ping.crashes, 1);
    // Every pong comes back one round trip (two draws of 2-4 ms) after its ping, and
    // none while cut off or crashed.
    for &(seq, at_ns) in &ping.answered {
        let sent_ns = seq * PING_EVERY_NS;
        assert!(
            (4 * MS..=8 * MS).contains(&(at_ns - sent_ns)),
            "ping {seq} at {at_ns} ns"
        );
        assert!(
            !(2_000 * MS..4_000 * MS).contains(&sent_ns),
            "through the partition"
        );
        assert!(
            !(6_000 * MS..7_000 * MS).contains(&sent_ns),
            "from a crashed ponger"
        );
    }
    // 101 pings, 20 lost in the partition, 10 unanswered while crashed, and the last
    // (at 10 s) has no time to come back.
    assert_eq!(ping.answered.len(), 101 - 20 - 10 - 1);
    assert_eq!(finished.core.faults.len(), 2);
}

#[test]
fn the_same_seed_gives_the_same_trace() {
    let (a, b) = (run(5), run(5));
    assert_eq!(a.core.trace_hash, b.core.trace_hash);
    assert_eq!(a.core.events, b.core.events);
    // Every trace record: pings sent, answered and lost, and the four fault actions
    // (partition start and end, crash, restart).
    let ping = &a.workload;
    assert_eq!(
        a.core.events,
        ping.sent + ping.answered.len() as u64 + ping.lost + 4
    );
    assert_ne!(
        run(6).core.trace_hash,
        a.core.trace_hash,
        "another seed, another trace"
    );
}

// --- The same workload as a registry kind, with its figures ------------------------

use faultline::format::check::{Bound, Check};
use faultline::format::RunInfo;
use faultline::record::Invocation;
use faultline::workload::record_of;
use faultline_reports::figures;
use faultline_reports::record::RunRecord;

/// What the resolve step would keep of a scenario that checks `answered_at_least 0.7`.
fn run_info(seed: u64) -> RunInfo {
    RunInfo {
        name: "ping-partition".to_owned(),
        description: "A ping every 100 ms through a partition and a crash.".to_owned(),
        seed,
        slo: 0.99,
        checks: vec![Check {
            name: "answered_at_least".to_owned(),
            bound: Bound::Number(0.7),
        }],
        spec: serde_json::json!({"name": "ping-partition", "workload": {"kind": "ping", "every_ms": 100}}),
    }
}

/// A run of the ping kind at `seed`, pinging every `every_ms`, as its record.
fn ping_record(seed: u64, every_ms: u64) -> RunRecord {
    let finished = run_every(seed, every_ms * MS);
    let invocation = Invocation {
        scenario_path: "ping.json".to_owned(),
        wall_s: 0.0,
        reproduce: format!("faultline run ping.json --seed {seed}"),
    };
    record_of::<PingKind>(
        &run_info(seed),
        &PingConfig {
            every_ns: every_ms * MS,
        },
        &finished,
        &invocation,
    )
}

#[test]
fn an_outside_kind_declares_its_figures_and_its_checks_read_them() {
    let record = ping_record(3, 100);
    let summary = &record.summary;
    assert_eq!(summary.workload, "ping");
    // 101 pings, 70 answered (see the test above): 69.3 %, under the check's 70 %.
    let answered = figures::value(&summary.figures, "answered").expect("measured");
    assert!((answered - 70.0 / 101.0).abs() < 1e-12, "{answered}");
    assert_eq!(figures::value(&summary.figures, "lost"), Some(20.0));
    let rtt = figures::value(&summary.figures, "mean_rtt_ms").expect("measured");
    assert!((4.0..=8.0).contains(&rtt), "{rtt}");
    let check = &summary.checks[0];
    assert!(!check.passed, "{check:?}");
    assert_eq!(check.figure.as_deref(), Some("answered"));
    assert_eq!(check.threshold, Some(0.7));
    assert!(check.detail.contains("69.3% answered"), "{}", check.detail);
    // The series counts every pong once.
    let pongs: f64 = record.series.columns[0].iter().sum::<f64>() * summary.window_s;
    assert!((pongs - 70.0).abs() < 1e-9, "{pongs}");
    assert_eq!(summary.tables[0].rows[1], ["answered", "70"]);
}

#[test]
fn an_outside_kinds_record_round_trips_and_gets_a_report() {
    let record = ping_record(3, 100);
    let dir = common::temp_dir("outside-kind-report");
    faultline_reports::save_run(&dir, &record).expect("saved");
    let back = faultline_reports::load_run(&dir).expect("read back");
    assert_eq!(back.summary, record.summary);
    assert_eq!(back.series, record.series);
    assert_eq!(back.summary.sections["ping"]["lost"], 20);
    faultline_reports::write_run_report(&dir, &back).expect("a report");
    let page = std::fs::read_to_string(dir.join("report.md")).expect("report.md");
    assert!(page.contains("answered_at_least 0.7"), "{page}");
}

#[test]
fn an_outside_kind_is_compared_by_its_own_figures() {
    let variants: Vec<(String, RunRecord)> = [100, 250]
        .iter()
        .map(|&every_ms| (format!("{every_ms}ms"), ping_record(3, every_ms)))
        .collect();
    let dir = common::temp_dir("outside-kind-compare");
    let dirs: Vec<String> = variants.iter().map(|(label, _)| label.clone()).collect();
    faultline_reports::write_comparison_in(&dir, "ping", "workload.every_ms", &variants, &dirs)
        .expect("a comparison");
    let page = std::fs::read_to_string(dir.join("compare.md")).expect("compare.md");
    for (label, record) in &variants {
        let lost = figures::value(&record.summary.figures, "lost").expect("lost");
        assert!(page.contains(label.as_str()), "{page}");
        // Each variant's own number of lost pings is in its column of the figures.
        assert!(
            page.contains(&format!("{lost:.0}")),
            "{lost} not in\n{page}"
        );
    }
    assert!(page.contains("pings answered"), "{page}");
    // Its glossary is its own: built from its declarations, no rpc term.
    assert!(page.contains("Pongs received / pings sent."), "{page}");
    assert!(!page.contains("amplification"), "{page}");
}

#[test]
fn an_outside_kind_is_swept_by_its_own_figures() {
    use faultline::sweep::record::{totals, SweepFile, TimingFile, FORMAT};
    use faultline::sweep::seeds::SeedRange;
    use faultline_reports::figures::FigureInfo;

    let seeds = SeedRange { start: 1, end: 9 };
    let records: Vec<RunRecord> = seeds
        .seeds(None)
        .into_iter()
        .map(|seed| ping_record(seed, 100))
        .collect();
    let declared: Vec<FigureInfo> = PING_FIGURES.iter().map(FigureInfo::from).collect();
    let runs: Vec<_> = records.iter().map(faultline::sweep::summarize).collect();
    let file = SweepFile {
        format: FORMAT.to_owned(),
        scenario: "ping-partition".to_owned(),
        scenario_path: "ping.json".to_owned(),
        scenario_digest: "0".repeat(64),
        workload: "ping".to_owned(),
        totals: totals(&declared, &runs),
        figures: declared,
        set: Vec::new(),
        seeds,
        shard: None,
        runs,
    };
    file.check().expect("a valid sweep record");
    // Lost pings are summed over the seeds, by their declaration.
    let lost: f64 = records
        .iter()
        .map(|record| figures::value(&record.summary.figures, "lost").expect("lost"))
        .sum();
    let total = file
        .totals
        .figures
        .iter()
        .find(|figure| figure.name == "lost")
        .expect("a total per figure");
    assert_eq!(total.aggregate, Some(lost));
    let dir = common::temp_dir("outside-kind-sweep");
    let timing = TimingFile {
        parts: Vec::new(),
        runs: Vec::new(),
    };
    faultline::sweep::report::write(&dir, &file, &timing, &[]).expect("a sweep report");
    let page = std::fs::read_to_string(dir.join("sweep.md")).expect("sweep.md");
    assert!(
        page.contains(&format!("| pings lost | pings | sum {lost:.0} |")),
        "{page}"
    );
    // Its headline figure's histogram, with the check's bound drawn on it.
    let svg = std::fs::read_to_string(dir.join("answered-hist.svg")).expect("a histogram");
    assert!(svg.contains("answered_at_least 0.7"), "{svg}");
}
