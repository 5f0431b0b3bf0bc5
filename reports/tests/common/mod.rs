//! Synthetic run records with numbers simple enough to check statistics by hand.
#![allow(dead_code)]

use faultline_reports::record::{
    CheckResult, FaultInterval, LatencySummary, RequestCounts, RpcSummary, RunRecord,
    ServerSummary, Summary, TimelineRow,
};

/// A window with `offered` requests, of which `succeeded` succeeded (all within any
/// latency objective, and completing in this same window) and the rest timed out,
/// `attempts` attempts and `arrivals` server arrivals.
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
