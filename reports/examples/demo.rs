//! Writes a report for a synthetic run (no simulation) so the charts and pages can be
//! looked at: `cargo run -p faultline-reports --example demo -- /tmp/demo`.
//!
//! It builds a thundering-herd-like timeline (a crash, a retry storm after the restart,
//! later partition, omission, timing and pause faults), saves it, rebuilds the report
//! from the saved files, and writes a comparison of three variants.

use std::path::PathBuf;

use faultline_reports::record::{
    CheckResult, FaultInterval, LatencySummary, RequestCounts, RunRecord, ServerSummary, Summary,
    TimelineRow,
};

/// A tiny deterministic generator (64-bit LCG) for noise.
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
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

/// `storm` scales the retry storm after the crash; `stuck` keeps it from ending.
fn synthetic(label: &str, storm: f64, stuck: bool, seed: u64) -> RunRecord {
    let mut rng = Lcg(seed);
    let faults = vec![
        fault("clock", "server-0", 0.0, None),
        fault("crash", "server-0", 30.0, Some(40.0)),
        fault("partition", "client-* | server-*", 60.0, Some(65.0)),
        fault("omission", "* -> server-0", 80.0, Some(90.0)),
        fault("timing", "server-0", 90.0, Some(100.0)),
        fault("pause", "server-0", 95.0, Some(97.0)),
    ];
    let mut rows = Vec::new();
    let mut req = RequestCounts::default();
    for i in 0..120u32 {
        let t = f64::from(i);
        let offered = (1000.0 + 60.0 * (rng.next() - 0.5)) as u64;
        let active: Vec<&FaultInterval> = faults
            .iter()
            .filter(|f| f.start_s <= t && f.end_s.is_none_or(|e| t < e))
            .collect();
        let has = |k: &str| active.iter().any(|f| f.kind == k);
        let mut amp = 1.02;
        let mut ratio = 0.999 + 0.001 * rng.next();
        let mut arrivals_factor = 1.0;
        let (mut p50, mut p99) = (8.0 + rng.next(), 18.0 + 4.0 * rng.next());
        if has("crash") {
            ratio = 0.0;
            amp = 3.5;
            arrivals_factor = 0.0;
        } else if t >= 40.0 && (t < 55.0 || (stuck && t < 60.0)) {
            let k = if stuck {
                1.0
            } else {
                (-(t - 40.0) / 4.0).exp()
            };
            amp = 1.0 + storm * k;
            arrivals_factor = amp;
            ratio = (1.0 - 0.9 * k).min(0.9995);
            p50 *= 1.0 + 20.0 * k;
            p99 *= 1.0 + 40.0 * k;
        }
        if stuck && t >= 40.0 {
            amp = 1.0 + storm;
            arrivals_factor = amp;
            ratio = 0.15 + 0.05 * rng.next();
            p50 = 300.0;
            p99 = 480.0;
        }
        if has("partition") {
            ratio = 0.0;
            arrivals_factor = 0.0;
            amp = 3.0;
        }
        if has("omission") {
            amp = 1.4;
            arrivals_factor = 1.0;
            ratio = ratio.min(0.97);
            p99 = 600.0;
        }
        if has("timing") {
            p50 = 250.0 + 50.0 * rng.next();
            p99 = 450.0;
            ratio = ratio.min(0.93);
        }
        if has("pause") {
            ratio = 0.2;
            arrivals_factor = 0.3;
        }
        let attempts = (offered as f64 * amp) as u64;
        let resolved = offered;
        let successes = (resolved as f64 * ratio).round() as u64;
        let timeouts = resolved - successes;
        let open = if has("crash") || has("partition") {
            (600.0 + 100.0 * rng.next()) as u64
        } else {
            0
        };
        let rejections = if open > 0 { timeouts / 3 } else { 0 };
        let row = TimelineRow {
            t_s: t,
            offered,
            attempts,
            server_arrivals: (attempts as f64 * arrivals_factor / amp) as u64 * amp.ceil() as u64
                / amp.ceil().max(1.0) as u64,
            successes,
            failures: 0,
            timeouts: timeouts - rejections,
            breaker_rejections: rejections,
            breakers_open: open,
            latency_p50_ms: if successes > 0 { p50 } else { f64::NAN },
            latency_p99_ms: if successes > 0 { p99 } else { f64::NAN },
            latency_p999_ms: if successes > 0 { p99 * 1.3 } else { f64::NAN },
            faults_active: active
                .iter()
                .map(|f| format!("{}:{}", f.kind, f.target))
                .collect::<Vec<_>>()
                .join(";"),
        };
        let row = TimelineRow {
            server_arrivals: (row.attempts as f64 * arrivals_factor / amp) as u64,
            ..row
        };
        req.offered += row.offered;
        req.succeeded += row.successes;
        req.timed_out += row.timeouts;
        req.rejected_by_breaker += row.breaker_rejections;
        req.attempts += row.attempts;
        rows.push(row);
    }
    req.retries = req.attempts - req.offered;
    let resolved = req.succeeded + req.timed_out + req.rejected_by_breaker;
    let arrivals: u64 = rows.iter().map(|r| r.server_arrivals).sum();
    let peak = rows.iter().map(|r| r.server_arrivals).max().unwrap_or(0) as f64;
    let spec = serde_json::json!({
        "name": "thundering-herd",
        "duration": "120s",
        "network": {"latency": {"uniform": ["1ms", "5ms"]}},
        "workload": {
            "kind": "rpc",
            "clients": {"count": 1000, "arrival": {"poisson_per_s": 1.0}, "timeout": "500ms",
                        "retry": {"max_attempts": 6}},
            "servers": {"count": 1, "workers": 8, "service_time": {"exponential": "5ms"}}
        },
        "faults": [
            {"at": "30s", "crash": "server-0", "restart_after": "10s"},
            {"at": "80s", "for": "10s", "omission": {"from": "*", "to": "server-0", "rate": 0.3}}
        ],
        "random_faults": [{"crash": "server-*", "mtbf": "60s", "mttr": "5s"}]
    });
    let availability = req.succeeded as f64 / resolved as f64;
    RunRecord {
        summary: Summary {
            scenario: "thundering-herd".to_string(),
            description: format!(
                "1,000 clients against one server that crashes at 30 s ({label})."
            ),
            scenario_path: "scenarios/thundering-herd.json".to_string(),
            seed,
            simulated_s: 120.0,
            wall_s: 1.25,
            events: 4_812_331,
            trace_hash: "9f2c4e1a77b03d65".to_string(),
            availability,
            slo: 0.99,
            window_s: 1.0,
            requests: req,
            latency_ms: LatencySummary {
                p50: 8.7,
                p99: 412.0,
                p999: 590.5,
                mean: 31.2,
                max: 1890.0,
            },
            server: ServerSummary {
                arrivals,
                peak_arrivals_per_s: peak,
                rejected_queue_full: 1234,
                shed: 0,
            },
            faults,
            checks: vec![
                CheckResult {
                    name: "availability_at_least 0.95".to_string(),
                    passed: availability >= 0.95,
                    detail: format!("measured {:.4} against 0.95", availability),
                },
                CheckResult {
                    name: "p99_latency_at_most 1s".to_string(),
                    passed: true,
                    detail: "412.0 ms <= 1000 ms".to_string(),
                },
            ],
            reproduce: format!("faultline run scenarios/thundering-herd.json --seed {seed}"),
            scenario_spec: spec,
            ..Summary::default()
        },
        timeline: rows,
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out = PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| "/tmp/faultline-demo".into()),
    );
    let run_dir = out.join("run");
    let rec = synthetic("full jitter", 3.0, false, 7);
    faultline_reports::save_run(&run_dir, &rec)?;
    let files = faultline_reports::rebuild_report(&run_dir)?;
    print!("{}", faultline_reports::summary_table(&rec));
    let variants = vec![
        ("none".to_string(), synthetic("no jitter", 4.0, true, 7)),
        ("full".to_string(), rec),
        (
            "equal".to_string(),
            synthetic("equal jitter", 2.0, false, 7),
        ),
    ];
    let cmp = faultline_reports::write_comparison(
        &out.join("compare"),
        "thundering-herd, jitter",
        "workload.clients.retry.backoff.jitter",
        &variants,
    )?;
    print!(
        "{}",
        faultline_reports::comparison_table("workload.clients.retry.backoff.jitter", &variants)
    );
    for f in files.iter().chain(&cmp) {
        println!("wrote {}", f.display());
    }
    Ok(())
}
