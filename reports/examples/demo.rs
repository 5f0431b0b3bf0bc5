//! Writes reports for synthetic runs (no simulation) so the charts and pages can be
//! looked at: `cargo run -p faultline-reports --example demo -- /tmp/demo`.
//!
//! - `OUT/herd`: a thundering herd after a crash. Requests offered during the crash are
//!   held in offline queues and mostly fail when the 1,000 clients reconnect in lockstep
//!   at 42 s; by offered time the crash is the outage it was.
//! - `OUT/partition`: three servers with circuit breakers, a partition, an omission
//!   fault, random crashes and a background clock skew, a latency objective, and the
//!   simulator's closed-form expectations (every [`Measure`]).
//! - `OUT/chaos`: 1,000 random faults over an hour: folded phase and fault tables.
//! - `OUT/bank`: a bank run of 24 accounts: snapshots (some abandoned), two restarts
//!   replaying their logs, a partition and clock faults; the HLC chart folds accounts.
//! - `OUT/kv`: a key-value store, a workload with no renderer of its own: its page is
//!   built from its declared figures, series and tables.
//! - `OUT/compare`: four retry-jitter variants of the herd, each with its own report in
//!   `OUT/compare/<variant>/` as `faultline compare` lays them out.
//!
//! Each run is saved and its report rebuilt from the saved files, as `faultline report`
//! does.

use std::path::{Path, PathBuf};

use faultline_reports::record::{
    BankHlc, BankSummary, BankWindowRow, CheckResult, ConnectionSummary, DiskSummary, Expectation,
    FaultInterval, HlcOffsetRow, HlcSummary, Invariant, LatencySummary, Measure, RecoverySummary,
    RequestCounts, RpcSummary, RunRecord, ServerSummary, SnapshotSummary, Summary, TimelineRow,
};

/// A tiny deterministic generator (64-bit LCG) for noise.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }

    /// `x` times a factor in `1 ± spread`.
    fn around(&mut self, x: f64, spread: f64) -> f64 {
        x * (1.0 + spread * (2.0 * self.next() - 1.0))
    }
}

fn fault(kind: &str, target: &str, start: f64, end: Option<f64>) -> FaultInterval {
    FaultInterval {
        kind: kind.to_string(),
        target: target.to_string(),
        start_s: start,
        end_s: end,
    }
}

/// A window where `offered` requests end as given; the rest of the row is filled in by
/// the caller.
fn window(t_s: f64, offered: u64, succeeded: u64, failed: u64, timed_out: u64) -> TimelineRow {
    assert!(succeeded + failed + timed_out <= offered);
    TimelineRow {
        t_s,
        offered,
        succeeded,
        good: succeeded,
        failed,
        timed_out,
        rejected_by_breaker: 0,
        unresolved: offered - succeeded - failed - timed_out,
        offered_attempts: offered,
        attempts: offered,
        server_arrivals: offered,
        completed: succeeded,
        breakers_open: 0,
        latency_p50_ms: f64::NAN,
        latency_p99_ms: f64::NAN,
        latency_p999_ms: f64::NAN,
        faults_active: String::new(),
    }
}

fn active_phrase(faults: &[FaultInterval], t0: f64, t1: f64) -> String {
    faults
        .iter()
        .filter(|f| f.start_s < t1 && f.end_s.is_none_or(|e| e > t0))
        .map(|f| format!("{}:{}", f.kind, f.target))
        .collect::<Vec<_>>()
        .join(";")
}

/// Sums the timeline into the summary's counts, as the engine would.
fn counts(tl: &[TimelineRow]) -> RequestCounts {
    let mut q = RequestCounts::default();
    for r in tl {
        q.offered += r.offered;
        q.succeeded += r.succeeded;
        q.failed += r.failed;
        q.timed_out += r.timed_out;
        q.rejected_by_breaker += r.rejected_by_breaker;
        q.in_flight += r.unresolved;
        q.attempts += r.attempts;
    }
    q.retries = q.attempts.saturating_sub(q.offered);
    q
}

#[allow(clippy::too_many_arguments)]
fn summary(
    scenario: &str,
    description: String,
    seed: u64,
    simulated_s: f64,
    window_s: f64,
    slo: f64,
    faults: Vec<FaultInterval>,
    reproduce: String,
) -> Summary {
    Summary {
        scenario: scenario.to_string(),
        description,
        scenario_path: format!("scenarios/{scenario}.json"),
        seed,
        simulated_s,
        wall_s: 0.11,
        events: 1_045_712,
        trace_hash: "a8627a1f85d95195 4b85d1eee24efa6eea".replace(' ', ""),
        slo,
        window_s,
        faults,
        reproduce,
        ..Summary::default()
    }
}

/// Fills the rpc section from the timeline and evaluates the two checks of the herd.
fn finish_rpc(
    mut s: Summary,
    tl: &[TimelineRow],
    latency_ms: LatencySummary,
    extra: RpcSummary,
) -> Summary {
    let q = counts(tl);
    let availability = q.succeeded as f64 / q.resolved().max(1) as f64;
    let w = s.window_s;
    let peak = tl.iter().map(|r| r.server_arrivals).max().unwrap_or(0) as f64 / w;
    let arrivals = tl.iter().map(|r| r.server_arrivals).sum();
    s.checks = vec![
        CheckResult {
            name: format!("availability_at_least {}", s.slo),
            passed: availability >= s.slo,
            detail: format!(
                "availability {:.4}% vs at least {:.4}%",
                availability * 100.0,
                s.slo * 100.0
            ),
            ..Default::default()
        },
        CheckResult {
            name: "p99_latency_at_most 5s".to_string(),
            passed: latency_ms.p99 <= 5000.0,
            detail: format!("p99 {:.3} ms vs at most 5000.000 ms", latency_ms.p99),
            ..Default::default()
        },
    ];
    s.set_rpc(RpcSummary {
        availability,
        requests: q,
        latency_ms,
        server: ServerSummary {
            arrivals,
            peak_arrivals_per_s: peak,
            ..extra.server.clone()
        },
        ..extra
    });
    s
}

/// One jitter variant of the herd.
struct Herd {
    label: &'static str,
    /// Window and share of the held requests flushed in it.
    flush: &'static [(u32, f64)],
    /// Share of the requests held during the crash that eventually succeed.
    held_ok: f64,
    /// The same for requests held after the restart, until their client reconnects.
    late_ok: f64,
    /// Success ratio of requests offered in the windows from the first flush on.
    recovery: &'static [f64],
    /// Attempts per held request as it is flushed (queue rejections retried in lockstep).
    flush_amp: f64,
    /// Overall latency of successes, ms.
    latency_ms: LatencySummary,
}

fn lat(p50: f64, p99: f64, p999: f64, mean: f64, max: f64) -> LatencySummary {
    LatencySummary {
        p50,
        p99,
        p999,
        mean,
        max,
    }
}

const HERDS: [Herd; 4] = [
    Herd {
        label: "none",
        flush: &[(42, 1.0)],
        held_ok: 0.097,
        late_ok: 0.3,
        recovery: &[0.3, 0.75, 0.92, 0.98, 0.995],
        flush_amp: 2.0,
        latency_ms: LatencySummary {
            p50: 10.13,
            p99: 2818.57,
            p999: 13002.34,
            mean: 100.09,
            max: 15963.32,
        },
    },
    Herd {
        label: "full",
        flush: &[
            (40, 0.08),
            (41, 0.1),
            (42, 0.11),
            (43, 0.11),
            (44, 0.11),
            (45, 0.1),
            (46, 0.1),
            (47, 0.1),
            (48, 0.1),
            (49, 0.09),
        ],
        held_ok: 0.74,
        late_ok: 0.8,
        recovery: &[
            0.93, 0.94, 0.95, 0.96, 0.97, 0.975, 0.98, 0.985, 0.99, 0.993, 0.996,
        ],
        flush_amp: 1.2,
        latency_ms: LatencySummary {
            p50: 10.4,
            p99: 13011.0,
            p999: 17350.9,
            mean: 402.6,
            max: 19870.1,
        },
    },
    Herd {
        label: "equal",
        flush: &[(41, 0.2), (42, 0.25), (43, 0.25), (44, 0.2), (45, 0.1)],
        held_ok: 0.55,
        late_ok: 0.7,
        recovery: &[0.7, 0.78, 0.88, 0.95, 0.985, 0.995],
        flush_amp: 1.5,
        latency_ms: LatencySummary {
            p50: 10.2,
            p99: 7420.3,
            p999: 14881.5,
            mean: 240.7,
            max: 17002.9,
        },
    },
    Herd {
        label: "decorrelated",
        flush: &[
            (40, 0.1),
            (41, 0.15),
            (42, 0.2),
            (43, 0.15),
            (44, 0.12),
            (45, 0.1),
            (46, 0.08),
            (47, 0.06),
            (48, 0.04),
        ],
        held_ok: 0.66,
        late_ok: 0.75,
        recovery: &[0.82, 0.86, 0.9, 0.94, 0.97, 0.985, 0.993, 0.996],
        flush_amp: 1.3,
        latency_ms: LatencySummary {
            p50: 10.3,
            p99: 9105.8,
            p999: 16120.4,
            mean: 311.2,
            max: 18543.0,
        },
    },
];

fn herd(h: &Herd) -> RunRecord {
    let mut rng = Lcg(7);
    let faults = vec![fault("crash", "server-0", 30.0, Some(40.0))];
    let first_flush = h.flush.iter().map(|f| f.0).min().unwrap_or(40);
    let mut tl: Vec<TimelineRow> = Vec::new();
    let mut held_total = 0u64;
    let mut held_ok_total = 0u64;
    for i in 0..120u32 {
        let t = f64::from(i);
        let offered = rng.around(1000.0, 0.03) as u64;
        let mut r = if (30..first_flush.max(40)).contains(&i) {
            // Held offline: nothing is sent; most fail when flushed into a full queue.
            let share = if i < 40 { h.held_ok } else { h.late_ok };
            let ok = (offered as f64 * share).round() as u64;
            held_total += offered;
            held_ok_total += ok;
            let mut r = window(t, offered, ok, offered - ok, 0);
            r.attempts = 0;
            r.server_arrivals = 0;
            r.completed = 0;
            r
        } else if i >= first_flush {
            let k = (i - first_flush) as usize;
            let ratio = h
                .recovery
                .get(k)
                .copied()
                .unwrap_or_else(|| rng.around(0.9995, 0.0004).min(1.0));
            let ok = (offered as f64 * ratio).round() as u64;
            let mut r = window(t, offered, ok, offered - ok, 0);
            r.attempts = (offered as f64 * (1.0 + 4.0 * (1.0 - ratio))) as u64;
            r.server_arrivals = r.attempts;
            r.latency_p50_ms = rng.around(9.5, 0.05) * (1.0 + 30.0 * (1.0 - ratio));
            r.latency_p99_ms = rng.around(26.0, 0.1) * (1.0 + 60.0 * (1.0 - ratio));
            r.latency_p999_ms = r.latency_p99_ms * 1.4;
            r
        } else {
            let ok = offered - u64::from(rng.next() < 0.3);
            let mut r = window(t, offered, ok, offered - ok, 0);
            r.attempts = offered + u64::from(rng.next() < 0.3);
            r.server_arrivals = r.attempts;
            r.latency_p50_ms = rng.around(9.5, 0.05);
            r.latency_p99_ms = rng.around(26.0, 0.1);
            r.latency_p999_ms = r.latency_p99_ms * 1.4;
            r
        };
        if i == 30 {
            // The crash kills what was in flight on the server.
            r.completed = r.completed.saturating_sub(12);
        }
        r.faults_active = active_phrase(&faults, t, t + 1.0);
        tl.push(r);
    }
    // Flush the held requests as the clients reconnect.
    for &(i, share) in h.flush {
        let r = &mut tl[i as usize];
        let held = (held_total as f64 * share) as u64;
        let ok = (held_ok_total as f64 * share) as u64;
        r.attempts += (held as f64 * h.flush_amp) as u64;
        r.server_arrivals = r.attempts;
        r.completed += ok;
        let waited_ms = (f64::from(i) - 35.0) * 1000.0;
        r.latency_p50_ms = r.latency_p50_ms.max(waited_ms * 0.45);
        r.latency_p99_ms = r.latency_p99_ms.max(waited_ms * 0.95);
        r.latency_p999_ms = r.latency_p999_ms.max(waited_ms);
    }
    // Ten requests are still in flight when the run ends.
    let last = tl.last_mut().unwrap();
    last.succeeded -= 10;
    last.good -= 10;
    last.completed -= 10;
    last.unresolved += 10;
    let s = summary(
        "thundering-herd",
        format!(
            "1,000 clients (1 request/s each) hold connections to one server of 8 workers that crashes at 30 s and restarts 10 s later; each client reconnects after its retry backoff (jitter: {}) and holds new requests in an offline queue until it is back.",
            h.label
        ),
        7,
        120.0,
        1.0,
        0.9,
        faults,
        format!(
            "faultline compare scenarios/thundering-herd.json --vary workload.clients.retry.backoff.jitter={} --seed 7",
            h.label
        ),
    );
    let summary = finish_rpc(
        s,
        &tl,
        h.latency_ms.clone(),
        RpcSummary {
            server: ServerSummary {
                rejected_queue_full: (held_total - held_ok_total) * 6,
                ..ServerSummary::default()
            },
            hlc: HlcSummary {
                max_offset_ms: 0.0,
                max_counter: 26,
                rejected: 0,
            },
            connections: Some(ConnectionSummary {
                resets: 1000,
                connect_tries: 7000,
                connects: 1000,
                refused: 6000,
                offline_peak: held_total,
                offline_failed: 0,
            }),
            expectations: vec![Expectation {
                name: "mean latency (M/M/8 per server)".to_string(),
                analytic: 11.01,
                unit: "ms".to_string(),
                note: "lambda 1,000/s, mu 200/s, c 8, rho 0.625: mean sojourn 5.01 ms + network round trip 2 x 3 ms; the run has faults: measured includes them".to_string(),
                measure: Measure::MeanLatency,
            }],
            ..RpcSummary::default()
        },
    );
    RunRecord {
        summary,
        timeline: tl,
        ..RunRecord::default()
    }
}

/// Three servers with breakers; a partition, an omission fault, random crashes and a
/// background clock skew; a 200 ms latency objective.
fn partition() -> RunRecord {
    let mut rng = Lcg(3);
    let faults = vec![
        fault("clock", "server-0", 0.0, None),
        fault("partition", "client-* | server-2", 20.0, Some(30.0)),
        fault("omission", "client-* -> server-*", 45.0, Some(55.0)),
        fault("crash", "server-1 (random)", 62.0, Some(66.5)),
        fault("crash", "server-2 (random)", 64.0, Some(68.0)),
    ];
    let mut tl = Vec::new();
    for i in 0..90u32 {
        let t = f64::from(i);
        let offered = rng.around(300.0, 0.05) as u64;
        let (ratio, amp, open, slow) = match i {
            20..=29 => (
                0.93 + 0.02 * rng.next(),
                1.35,
                if i < 22 { 40 } else { 95 },
                0.3,
            ),
            30..=31 => (0.985, 1.1, 30, 0.1),
            45..=54 => (0.975, 1.43, 10, 0.2),
            62..=67 => (0.95, 1.25, 60, 0.15),
            _ => (0.9995, 1.003, 0, 0.01),
        };
        let ok = (offered as f64 * ratio).round() as u64;
        let bad = offered - ok;
        let rejected = if open > 0 { bad / 2 } else { 0 };
        let mut r = window(t, offered, ok, 0, bad);
        r.timed_out -= rejected;
        r.rejected_by_breaker = rejected;
        r.good = ok - (ok as f64 * slow * rng.next()) as u64;
        r.attempts = (offered as f64 * amp) as u64;
        r.server_arrivals = (r.attempts as f64 * if open > 0 { 0.9 } else { 1.0 }) as u64;
        r.breakers_open = open;
        r.latency_p50_ms = rng.around(6.0, 0.05) * (1.0 + 8.0 * slow);
        r.latency_p99_ms = rng.around(30.0, 0.1) * (1.0 + 20.0 * slow);
        r.latency_p999_ms = r.latency_p99_ms * 1.5;
        r.faults_active = active_phrase(&faults, t, t + 1.0);
        tl.push(r);
    }
    let nodes: Vec<String> = (0..3).map(|i| format!("server-{i}")).collect();
    let s = summary(
        "partition",
        "300 clients against 3 servers with EWMA circuit breakers. At 20 s a partition cuts server-2 off for 10 s; at 45 s 30 % of requests are dropped for 10 s; random crashes (MTBF 600 s, MTTR 5 s) take down server-1 and server-2 around 65 s. A 200 ms latency objective sits beside the availability SLO.".to_string(),
        11,
        90.0,
        1.0,
        0.99,
        faults,
        "faultline run scenarios/partition.json --seed 11".to_string(),
    );
    let mut summary = s;
    summary.slo_latency_ms = Some(200.0);
    let summary = finish_rpc(
        summary,
        &tl,
        lat(6.4, 131.0, 420.5, 14.2, 1210.0),
        RpcSummary {
            hlc: HlcSummary {
                max_offset_ms: 250.0,
                max_counter: 4,
                rejected: 0,
            },
            expectations: vec![
                Expectation {
                    name: "server availability (crash server-*)".to_string(),
                    analytic: 100.0 * 600.0 / 605.0,
                    unit: "%".to_string(),
                    note: "A = MTBF/(MTBF+MTTR), MTBF 600 s, MTTR 5 s".to_string(),
                    measure: Measure::Uptime {
                        nodes: nodes.clone(),
                        random_only: true,
                    },
                },
                Expectation {
                    name: "at least 1 of 3 servers up (crash server-*)".to_string(),
                    analytic: 100.0 * (1.0 - (5.0f64 / 605.0).powi(3)),
                    unit: "%".to_string(),
                    note: "1-of-3 of independent servers: 1 - (1-A)^3".to_string(),
                    measure: Measure::AnyUp {
                        nodes,
                        random_only: true,
                    },
                },
                Expectation {
                    name: "attempts per request (omission rate 0.3)".to_string(),
                    analytic: (1.0 - 0.3f64.powi(4)) / 0.7,
                    unit: "attempts/request".to_string(),
                    note: "per-attempt success p = 0.7, truncated at 4 attempts: (1-(1-p)^m)/p; breakers, budgets and timeouts shift it".to_string(),
                    measure: Measure::AttemptsPerRequest {
                        from_s: 45.0,
                        to_s: 55.0,
                    },
                },
                Expectation {
                    name: "mean latency (M/M/4 per server)".to_string(),
                    analytic: 6.9,
                    unit: "ms".to_string(),
                    note: "lambda 100/s per server, mu 200/s, c 4: mean sojourn 5.0 ms + network round trip 2 x 0.95 ms".to_string(),
                    measure: Measure::MeanLatency,
                },
            ],
            ..RpcSummary::default()
        },
    );
    RunRecord {
        summary,
        timeline: tl,
        ..RunRecord::default()
    }
}

/// An hour of 1,000 random faults of four kinds at 1 s windows.
fn chaos() -> RunRecord {
    let mut rng = Lcg(99);
    let kinds = ["crash", "partition", "pause", "omission"];
    let run_s = 3600.0;
    let faults: Vec<FaultInterval> = (0..1000)
        .map(|i| {
            let start = rng.next() * run_s;
            let end = start + 1.0 + rng.next() * 20.0;
            fault(
                kinds[i % 4],
                &format!("server-{} (random)", i % 5),
                start,
                (end < run_s).then_some(end),
            )
        })
        .collect();
    // Active faults per window, by a sweep over starts and ends.
    let mut active = vec![0i32; 3601];
    for f in &faults {
        let a = f.start_s.floor() as usize;
        let b = f.end_s.map_or(3600, |e| e.ceil() as usize).min(3600);
        active[a] += 1;
        active[b] -= 1;
    }
    let mut tl = Vec::new();
    let mut n = 0i32;
    for (i, delta) in active.iter().take(3600).enumerate() {
        n += delta;
        let offered = rng.around(200.0, 0.05) as u64;
        let ratio = (0.9995 - 0.05 * f64::from(n)).max(0.2);
        let ok = (offered as f64 * ratio).round() as u64;
        let mut r = window(i as f64, offered, ok, offered - ok, 0);
        r.attempts = (offered as f64 * (1.0 + (1.0 - ratio) * 2.0)) as u64;
        r.server_arrivals = r.attempts;
        r.latency_p50_ms = rng.around(8.0, 0.1) * (1.0 + f64::from(n));
        r.latency_p99_ms = rng.around(30.0, 0.1) * (1.0 + 2.0 * f64::from(n));
        r.latency_p999_ms = r.latency_p99_ms * 1.3;
        tl.push(r);
    }
    let s = summary(
        "chaos",
        "An hour of 1,000 random faults against five servers: the phase and fault tables fold past their first rows.".to_string(),
        5,
        run_s,
        1.0,
        0.99,
        faults,
        "faultline run scenarios/chaos.json --seed 5".to_string(),
    );
    let summary = finish_rpc(
        s,
        &tl,
        lat(9.1, 95.0, 240.0, 14.5, 2900.0),
        RpcSummary::default(),
    );
    RunRecord {
        summary,
        timeline: tl,
        ..RunRecord::default()
    }
}

/// A bank run of 24 accounts over 10 minutes: a snapshot every 5 s, crashes that abandon
/// snapshots and replay the log (one with a torn tail), a partition, and skewed clocks.
fn bank() -> RunRecord {
    const ACCOUNTS: u32 = 24;
    let run_s = 600.0;
    let window_s = 1.0;
    let mut rng = Lcg(23);
    let faults = vec![
        fault("clock", "acct-5 skew 80ms drift 200 ppm", 0.0, None),
        fault("clock", "acct-11 skew -60ms drift 0 ppm", 0.0, None),
        fault("crash", "acct-3", 120.002, Some(124.0)),
        fault(
            "partition",
            "acct-0..acct-11 | acct-12..acct-23",
            300.0,
            Some(330.0),
        ),
        fault("crash", "acct-17", 450.001, Some(452.5)),
        fault("clock", "acct-20 jump 90ms", 500.0, None),
    ];
    let mut s = summary(
        "bank-demo",
        "24 accounts move money over FIFO channels with a write-ahead log; a Chandy-Lamport snapshot every 5 s; two crashes, a partition and three clock faults.".to_string(),
        3,
        run_s,
        window_s,
        0.99,
        faults,
        "faultline run scenarios/bank-demo.json --seed 3".to_string(),
    );
    s.workload = "bank".to_string();
    let in_partition = |t: f64| (300.0..330.0).contains(&t);
    let mut bank_timeline = Vec::new();
    let mut in_flight = 0u64;
    for i in 0..600u32 {
        let t = f64::from(i) * window_s;
        let transfers = if in_partition(t) {
            rng.around(220.0, 0.1)
        } else {
            rng.around(480.0, 0.05)
        } as u64;
        let credits = if in_partition(t) {
            transfers / 2
        } else if (330.0..335.0).contains(&t) {
            transfers + in_flight / 10
        } else {
            transfers
        };
        in_flight = (in_flight + 10 * transfers).saturating_sub(10 * credits);
        bank_timeline.push(BankWindowRow {
            t_s: t,
            transfers,
            credits,
            delivered: 2 * credits,
            dropped: if in_partition(t) { transfers / 2 } else { 0 },
            in_flight_units: in_flight + (rng.next() * 40.0) as u64,
            hlc_max_counter: (rng.around(12.0, 0.6) + if t >= 500.0 { 20.0 } else { 0.0 }) as u64,
        });
    }
    let mut hlc_offsets = Vec::new();
    for i in 0..600u32 {
        let t = f64::from(i) * window_s;
        for a in 0..ACCOUNTS {
            if a == 5 {
                continue; // the fastest clock: never behind
            }
            let base = if a == 11 {
                118.0
            } else {
                78.0 + 0.02 * t / 10.0
            };
            let jump = if t >= 500.0 && a != 20 { 10.0 } else { 0.0 };
            hlc_offsets.push(HlcOffsetRow {
                t_s: t,
                account: format!("acct-{a}"),
                offset_ms: rng.around(base + jump, 0.03),
            });
        }
    }
    let snapshots = (1..=120u32)
        .map(|id| {
            let start = f64::from(id) * 5.0;
            let abandoned = match id {
                24 => Some("acct-3 crashed during it".to_string()),
                60..=65 => Some(format!("superseded by snapshot {}", id + 1)),
                90 => Some("acct-17 crashed during it".to_string()),
                _ => None,
            };
            let completed = (abandoned.is_none() && id < 120)
                .then(|| start + 0.008 + rng.next() * if id == 66 { 2.5 } else { 0.02 });
            SnapshotSummary {
                id,
                initiator: format!("acct-{}", (id * 7) % ACCOUNTS),
                started_s: start,
                completed_s: completed,
                abandoned,
                abandoned_s: None,
            }
        })
        .collect();
    let transfers: u64 = bank_timeline.iter().map(|r| r.transfers).sum();
    let credits: u64 = bank_timeline.iter().map(|r| r.credits).sum();
    let delivered: u64 = bank_timeline.iter().map(|r| r.delivered).sum();
    let dropped: u64 = bank_timeline.iter().map(|r| r.dropped).sum();
    let invariant = |name: &str, compared: u64| Invariant {
        name: name.to_string(),
        compared,
        ..Invariant::default()
    };
    s.bank = Some(BankSummary {
        accounts: ACCOUNTS,
        total_units: 24_000,
        final_units: 24_000,
        transfers,
        credits,
        skipped_funds: 412,
        markers: 120 * u64::from(ACCOUNTS * (ACCOUNTS - 1)),
        messages_sent: delivered + dropped + 31,
        messages_delivered: delivered,
        messages_dropped: dropped,
        messages_to_down_nodes: 31,
        invariants: vec![
            invariant("causality", 4_210_554),
            invariant("hlc_bounds", 1_402_118),
            invariant("snapshot_conservation", 111),
            invariant("consistent_cut", 61_272),
            invariant("snapshot_liveness", 1),
            invariant("durability", 553),
        ],
        snapshots,
        recoveries: vec![
            RecoverySummary {
                at_s: 124.0,
                account: "acct-3".to_string(),
                slot: 24,
                resumed_from: Some("3:11873".to_string()),
                records: 11_874,
                valid_bytes: 1_519_872,
                stop: "clean".to_string(),
                balance: 1_012,
                ..RecoverySummary::default()
            },
            RecoverySummary {
                at_s: 452.5,
                account: "acct-17".to_string(),
                slot: 25,
                resumed_from: Some("17:40211".to_string()),
                records: 40_212,
                valid_bytes: 5_147_136,
                cut_bytes: 61,
                stop: "torn record at byte 5147136".to_string(),
                balance: 977,
                ..RecoverySummary::default()
            },
        ],
        hlc: BankHlc {
            epsilon_ms: 140.0,
            max_offset_ms: 139.2,
            max_counter: 41,
            counter_bound: 380,
        },
        disk: DiskSummary {
            writes: 2 * transfers,
            bytes_written: 256 * transfers,
            fsyncs: 2 * transfers - 90,
            crashes: 2,
            torn_tails_kept: 1,
            ..DiskSummary::default()
        },
        ..BankSummary::default()
    });
    s.checks = [
        "causality",
        "hlc_bounds",
        "snapshot_conservation",
        "durability",
    ]
    .iter()
    .map(|name| CheckResult {
        name: format!("{name} true"),
        passed: true,
        detail: "no violation".to_string(),
        ..Default::default()
    })
    .collect();
    RunRecord {
        summary: s,
        bank_timeline,
        hlc_offsets,
        ..RunRecord::default()
    }
}

/// Saves a run, rebuilds its report from the saved files; returns the files written.
/// A run of a workload the reports have no renderer for (a key-value store, `kv`): its
/// page comes from what it declares, figures, series and a table.
fn kv() -> RunRecord {
    use faultline_reports::figures::{
        figures_of, Aggregate, Better, FigureSpec, Quantity, RecordTable, SeriesInfo, SeriesSpec,
        SeriesTable,
    };
    const FIGURES: [FigureSpec; 3] = [
        FigureSpec::new(
            "stale_reads",
            "stale reads",
            "reads",
            Better::Lower,
            Quantity::Count,
            Aggregate::Mean,
            "Reads that returned an overwritten value.",
        )
        .headline(),
        FigureSpec::new(
            "p99_read_ms",
            "p99 read latency",
            "ms",
            Better::Lower,
            Quantity::Duration,
            Aggregate::Mean,
            "99th percentile of the reads' latency.",
        )
        .headline(),
        FigureSpec::new(
            "lost_writes",
            "lost writes",
            "writes",
            Better::Lower,
            Quantity::Count,
            Aggregate::Mean,
            "Acknowledged writes missing at the end.",
        ),
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
    let mut rng = Lcg(11);
    let t_s: Vec<f64> = (0..60).map(f64::from).collect();
    let crashed = |t: f64| (20.0..28.0).contains(&t);
    let reads = t_s
        .iter()
        .map(|&t| rng.around(if crashed(t) { 300.0 } else { 800.0 }, 0.05))
        .collect();
    let stale = t_s
        .iter()
        .map(|&t| {
            if crashed(t) {
                rng.around(0.04, 0.3)
            } else {
                0.0
            }
        })
        .collect();
    let mut conflicts = RecordTable::new(
        "conflicts",
        "Write conflicts",
        "Keys written by two nodes at once, and which write won.",
        &["key", "writes", "winner"],
    );
    conflicts.push(vec!["user:17".into(), "3".into(), "node-0".into()]);
    conflicts.push(vec!["cart:9".into(), "2".into(), "node-2".into()]);
    RunRecord {
        summary: Summary {
            scenario: "kv-store".to_string(),
            description: "A key-value store this crate has no report for: its page is built from its declarations.".to_string(),
            workload: "kv".to_string(),
            seed: 3,
            simulated_s: 60.0,
            window_s: 1.0,
            trace_hash: "5eed".to_string(),
            faults: vec![FaultInterval {
                kind: "crash".to_string(),
                target: "node-1".to_string(),
                start_s: 20.0,
                end_s: Some(28.0),
            }],
            checks: vec![CheckResult {
                name: "stale_reads_at_most 0".to_string(),
                passed: false,
                detail: "96 stale reads vs at most 0".to_string(),
                figure: Some("stale_reads".to_string()),
                threshold: Some(0.0),
            }],
            figures: figures_of(&FIGURES, vec![Some(96.0), Some(14.2), Some(0.0)]),
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

fn save_and_report(
    dir: &Path,
    rec: &RunRecord,
) -> Result<Vec<PathBuf>, Box<dyn std::error::Error>> {
    faultline_reports::save_run(dir, rec)?;
    Ok(faultline_reports::rebuild_report(dir)?)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out = PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| "/tmp/faultline-demo".into()),
    );
    let mut written = Vec::new();
    let herd_rec = herd(&HERDS[0]);
    written.extend(save_and_report(&out.join("herd"), &herd_rec)?);
    print!("{}", faultline_reports::summary_table(&herd_rec));
    written.extend(save_and_report(&out.join("partition"), &partition())?);
    written.extend(save_and_report(&out.join("chaos"), &chaos())?);
    written.extend(save_and_report(&out.join("bank"), &bank())?);
    written.extend(save_and_report(&out.join("kv"), &kv())?);

    let vary = "workload.clients.retry.backoff.jitter";
    let cmp_dir = out.join("compare");
    let mut variants = Vec::new();
    for h in &HERDS {
        let rec = herd(h);
        let dir = cmp_dir.join(faultline_reports::variant_dir(h.label));
        written.extend(save_and_report(&dir, &rec)?);
        variants.push((h.label.to_string(), rec));
    }
    written.extend(faultline_reports::write_comparison(
        &cmp_dir,
        "thundering-herd: workload.clients.retry.backoff.jitter compared",
        vary,
        &variants,
    )?);
    print!("{}", faultline_reports::comparison_table(vary, &variants));
    for f in &written {
        println!("wrote {}", f.display());
    }
    Ok(())
}
