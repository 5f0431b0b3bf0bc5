//! Synthetic run records with numbers simple enough to check statistics by hand.
#![allow(dead_code)]

use faultline_reports::record::{
    CheckResult, FaultInterval, LatencySummary, RequestCounts, RpcSummary, RunRecord,
    ServerSummary, Summary, TimelineRow,
};

/// A window with `offered` requests, of which `succeeded` succeeded (all within any
/// latency objective, and completing in this same window) and the rest timed out,
/// `attempts` attempts (all for this window's requests) and `arrivals` server arrivals.
pub fn row(t: f64, offered: u64, succeeded: u64, attempts: u64, arrivals: u64) -> TimelineRow {
    TimelineRow {
        t_s: t,
        offered,
        succeeded,
        good: succeeded,
        failed: 0,
        timed_out: offered - succeeded,
        rejected_by_breaker: 0,
        unresolved: 0,
        offered_attempts: attempts,
        attempts,
        server_arrivals: arrivals,
        completed: succeeded,
        breakers_open: 0,
        latency_p50_ms: if succeeded > 0 { 10.0 } else { f64::NAN },
        latency_p99_ms: if succeeded > 0 { 20.0 + t } else { f64::NAN },
        latency_p999_ms: if succeeded > 0 { 30.0 } else { f64::NAN },
        faults_active: String::new(),
    }
}

pub fn fault(kind: &str, target: &str, start: f64, end: Option<f64>) -> FaultInterval {
    FaultInterval {
        kind: kind.to_string(),
        target: target.to_string(),
        start_s: start,
        end_s: end,
    }
}

/// The summary's counts, summed from the timeline.
pub fn counts(timeline: &[TimelineRow]) -> RequestCounts {
    let mut req = RequestCounts::default();
    for r in timeline {
        req.offered += r.offered;
        req.succeeded += r.succeeded;
        req.failed += r.failed;
        req.timed_out += r.timed_out;
        req.rejected_by_breaker += r.rejected_by_breaker;
        req.in_flight += r.unresolved;
        req.attempts += r.attempts;
    }
    req.retries = req.attempts.saturating_sub(req.offered);
    req
}

/// Fills the summary's rpc section from the timeline (as the engine would).
pub fn refresh(rec: &mut RunRecord) {
    let req = counts(&rec.timeline);
    let arrivals = rec.timeline.iter().map(|r| r.server_arrivals).sum();
    let peak = rec
        .timeline
        .iter()
        .map(|r| r.server_arrivals)
        .max()
        .unwrap_or(0) as f64;
    let resolved = req.resolved();
    let old = rec.summary.rpc.clone().unwrap_or_default();
    rec.summary.set_rpc(RpcSummary {
        availability: if resolved == 0 {
            0.0
        } else {
            req.succeeded as f64 / resolved as f64
        },
        requests: req,
        server: ServerSummary {
            arrivals,
            peak_arrivals_per_s: peak,
            ..old.server.clone()
        },
        ..old
    });
    declare(rec);
}

/// The figures an rpc run declares, a few of them, as the rpc workload computes them:
/// availability and p99 (headline), the worst time to recovery (none when a fault did
/// not recover) and the faults not recovered.
pub fn declare(rec: &mut RunRecord) {
    use faultline_reports::figures::{figures_of, Aggregate, Better, FigureSpec, Quantity};
    use faultline_reports::stats;
    const SPECS: [FigureSpec; 4] = [
        FigureSpec::new(
            "availability",
            "availability",
            "fraction",
            Better::Higher,
            Quantity::Ratio,
            Aggregate::Mean,
            "",
        )
        .headline(),
        FigureSpec::new(
            "p99_latency_ms",
            "p99 latency",
            "ms",
            Better::Lower,
            Quantity::Duration,
            Aggregate::Mean,
            "",
        )
        .headline(),
        FigureSpec::new(
            "worst_recovery_s",
            "worst time to recovery",
            "s",
            Better::Lower,
            Quantity::Duration,
            Aggregate::Mean,
            "",
        ),
        FigureSpec::new(
            "faults_not_recovered",
            "faults not recovered",
            "faults",
            Better::Lower,
            Quantity::Count,
            Aggregate::Mean,
            "",
        ),
    ];
    let run = stats::compute(rec);
    let not_recovered = run.faults.not_recovered();
    let worst = if not_recovered > 0 {
        None
    } else {
        run.faults
            .listed
            .iter()
            .filter_map(|f| f.recovery.and_then(|r| r.mttr_s()))
            .reduce(f64::max)
    };
    let rpc = rec.summary.rpc.as_ref();
    rec.summary.figures = figures_of(
        &SPECS,
        vec![
            rpc.map(|r| r.availability),
            rpc.map(|r| r.latency_ms.p99),
            worst,
            Some(not_recovered as f64),
        ],
    );
}

/// A record with the summary's counts filled from the timeline.
pub fn record(timeline: Vec<TimelineRow>, faults: Vec<FaultInterval>, slo: f64) -> RunRecord {
    let n = timeline.len() as f64;
    let mut rec = RunRecord {
        summary: Summary {
            scenario: "synthetic".to_string(),
            description: "A hand-made run for tests.".to_string(),
            scenario_path: "scenarios/synthetic.json".to_string(),
            seed: 42,
            simulated_s: n,
            wall_s: 0.5,
            events: 1234,
            trace_hash: "00ff00ff".to_string(),
            slo,
            window_s: 1.0,
            faults,
            checks: vec![CheckResult {
                name: "availability_at_least 0.8".to_string(),
                passed: true,
                detail: "0.82 >= 0.8".to_string(),
                ..Default::default()
            }],
            reproduce: "faultline run scenarios/synthetic.json --seed 42".to_string(),
            ..Summary::default()
        },
        timeline,
        ..RunRecord::default()
    };
    rec.summary.rpc = Some(RpcSummary {
        latency_ms: LatencySummary {
            p50: 10.0,
            p99: 27.5,
            p999: 30.0,
            mean: 12.25,
            max: 44.0,
        },
        ..RpcSummary::default()
    });
    refresh(&mut rec);
    rec
}

/// 20 one-second windows, 10 requests each; crash 5..8 s.
///
/// - windows 0-4: all succeed, 10 attempts; window 0 has 2 arrivals (warm-up), 1-4 have 10;
/// - windows 5-7 (crash): 0 of 10 succeed, 30 attempts, 0 arrivals, 3 breakers open;
/// - window 8: 5 of 10, 40 attempts, 40 arrivals, 1 breaker open;
/// - window 9: 9 of 10 (exactly the 0.9 SLO), 20 attempts, 20 arrivals;
/// - windows 10-19: all succeed, 10 attempts, 10 arrivals.
pub fn crash_run() -> RunRecord {
    let mut tl = Vec::new();
    for i in 0..20u32 {
        let t = f64::from(i);
        let mut r = match i {
            0 => row(t, 10, 10, 10, 2),
            1..=4 => row(t, 10, 10, 10, 10),
            5..=7 => row(t, 10, 0, 30, 0),
            8 => row(t, 10, 5, 40, 40),
            9 => row(t, 10, 9, 20, 20),
            _ => row(t, 10, 10, 10, 10),
        };
        r.breakers_open = match i {
            5..=7 => 3,
            8 => 1,
            _ => 0,
        };
        if (5..=7).contains(&i) {
            r.faults_active = "crash:server-0".to_string();
        }
        tl.push(r);
    }
    record(tl, vec![fault("crash", "server-0", 5.0, Some(8.0))], 0.9)
}

/// Like [`crash_run`] but after the crash every window stays at 5 of 10: metastable.
pub fn stuck_run() -> RunRecord {
    let mut rec = crash_run();
    for r in rec.timeline.iter_mut().skip(8) {
        *r = row(r.t_s, 10, 5, 30, 30);
    }
    refresh(&mut rec);
    rec
}

/// A bank run with numbers to check by hand: 4 accounts of 1,000 units, 10 one-second
/// windows, acct-3 crashed 4.005-5 s, acct-1's clock skewed from 0 s, acct-0's clock
/// jumped at 7 s.
///
/// - windows: 10 transfers made and credited each, but 4 in window 4 (the crash), and
///   6 credited in window 2 (4 left in flight: 40 units); window 5 lost 3 messages;
/// - snapshots: 1 completed after 12 ms, 2 abandoned by the crash, 3 completed after
///   750 ms, 4 still running at the end;
/// - one recovery: acct-3 at 5 s replayed 121 records and cut a torn tail of 44 B;
/// - invariants: snapshot_conservation broken once (a scenario check), the rest held,
///   snapshot_liveness not among the checks;
/// - HLC offsets: acct-0 20 ms in every window, acct-3 12.5 ms in window 5 and 48.5 ms
///   in window 8, acct-1 (the fastest clock) and acct-2 never ahead; epsilon 50 ms.
pub fn bank_run() -> RunRecord {
    use faultline_reports::record::{
        BankHlc, BankSummary, BankWindowRow, DiskSummary, HlcOffsetRow, Invariant, RecoverySummary,
        SnapshotSummary,
    };
    let window = |i: u32| {
        let transfers = if i == 4 { 4 } else { 10 };
        BankWindowRow {
            t_s: f64::from(i),
            transfers,
            credits: match i {
                2 => 6,
                3 => 14,
                _ => transfers,
            },
            delivered: 2 * transfers,
            dropped: if i == 5 { 3 } else { 0 },
            in_flight_units: if i == 2 { 40 } else { 0 },
            hlc_max_counter: u64::from(i % 4) + 1,
        }
    };
    let bank_timeline: Vec<BankWindowRow> = (0..10).map(window).collect();
    let mut hlc_offsets = Vec::new();
    for i in 0..10u32 {
        hlc_offsets.push(HlcOffsetRow {
            t_s: f64::from(i),
            account: "acct-0".to_string(),
            offset_ms: 20.0,
        });
        if i == 5 || i == 8 {
            hlc_offsets.push(HlcOffsetRow {
                t_s: f64::from(i),
                account: "acct-3".to_string(),
                offset_ms: if i == 5 { 12.5 } else { 48.5 },
            });
        }
    }
    let invariant = |name: &str, compared: u64, examples: &[&str]| Invariant {
        name: name.to_string(),
        compared,
        violations: examples.len() as u64,
        examples: examples.iter().map(|e| (*e).to_string()).collect(),
    };
    let snapshot =
        |id: u32, initiator: &str, started_s: f64, completed_s: Option<f64>| SnapshotSummary {
            id,
            initiator: initiator.to_string(),
            started_s,
            completed_s,
            abandoned: None,
            abandoned_s: None,
        };
    let mut abandoned = snapshot(2, "acct-0", 4.0, None);
    abandoned.abandoned = Some("acct-3 crashed during it".to_string());
    abandoned.abandoned_s = Some(4.3);
    let transfers: u64 = bank_timeline.iter().map(|r| r.transfers).sum();
    let credits: u64 = bank_timeline.iter().map(|r| r.credits).sum();
    let delivered: u64 = bank_timeline.iter().map(|r| r.delivered).sum();
    let bank = BankSummary {
        accounts: 4,
        total_units: 4000,
        final_units: 4000,
        transfers,
        credits,
        skipped_funds: 7,
        markers: 24,
        messages_sent: delivered + 3 + 2 + 1,
        messages_delivered: delivered,
        messages_dropped: 3,
        messages_to_down_nodes: 2,
        invariants: vec![
            invariant("causality", 1000, &[]),
            invariant("hlc_bounds", 500, &[]),
            invariant(
                "snapshot_conservation",
                2,
                &["snapshot 3: recorded balances 3990 + in flight 20 = 4010 units, the bank holds 4000"],
            ),
            invariant("consistent_cut", 40, &[]),
            invariant("snapshot_liveness", 1, &[]),
            invariant("durability", 13, &[]),
        ],
        snapshots: vec![
            snapshot(1, "acct-2", 2.0, Some(2.012)),
            abandoned,
            snapshot(3, "acct-1", 6.0, Some(6.75)),
            snapshot(4, "acct-0", 9.5, None),
        ],
        recoveries: vec![RecoverySummary {
            at_s: 5.0,
            account: "acct-3".to_string(),
            slot: 4,
            resumed_from: Some("3:120".to_string()),
            records: 121,
            valid_bytes: 15_488,
            cut_bytes: 44,
            stop: "torn record at byte 15488".to_string(),
            balance: 1010,
            ..RecoverySummary::default()
        }],
        hlc: BankHlc {
            epsilon_ms: 50.0,
            max_offset_ms: 48.5,
            max_counter: 4,
            counter_bound: 30,
        },
        disk: DiskSummary {
            writes: 300,
            bytes_written: 38_400,
            fsyncs: 290,
            crashes: 1,
            bytes_lost_at_crash: 128,
            torn_tails_kept: 1,
            ..DiskSummary::default()
        },
        ..BankSummary::default()
    };
    let check = |name: &str, passed: bool, detail: &str| CheckResult {
        name: name.to_string(),
        passed,
        detail: detail.to_string(),
        ..Default::default()
    };
    RunRecord {
        summary: Summary {
            scenario: "ledger".to_string(),
            description: "A hand-made bank run for tests.".to_string(),
            scenario_path: "scenarios/ledger.json".to_string(),
            workload: "bank".to_string(),
            seed: 7,
            simulated_s: 10.0,
            wall_s: 0.25,
            events: 5000,
            trace_hash: "abcd".to_string(),
            window_s: 1.0,
            faults: vec![
                fault("clock", "acct-1 skew 40ms drift 0 ppm", 0.0, None),
                fault("crash", "acct-3", 4.005, Some(5.0)),
                fault("clock", "acct-0 jump 30ms", 7.0, None),
            ],
            checks: vec![
                check("causality true", true, "no violation"),
                check("snapshot_conservation true", false, "1 violations"),
            ],
            reproduce: "faultline run scenarios/ledger.json --seed 7".to_string(),
            bank: Some(bank),
            ..Summary::default()
        },
        bank_timeline,
        hlc_offsets,
        ..RunRecord::default()
    }
}

/// A fresh, empty directory under the system temp dir, unique per test, removed on drop.
pub struct TempDir(std::path::PathBuf);

impl std::ops::Deref for TempDir {
    type Target = std::path::Path;
    fn deref(&self) -> &std::path::Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A [`TempDir`] named after the test binary's process and `name`.
pub fn temp_dir(name: &str) -> TempDir {
    let dir = std::env::temp_dir().join(format!("faultline-reports-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    TempDir(dir)
}
