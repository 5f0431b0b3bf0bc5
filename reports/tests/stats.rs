//! Statistics on synthetic timelines, against numbers worked out by hand.

mod common;

use common::{crash_run, fault, record, row, stuck_run};
use faultline_reports::stats::{self, PhaseKind, Recovery};

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

#[test]
fn availability_by_phase() {
    let rec = crash_run();
    let st = stats::compute(&rec);
    // 50 + 0 + 5 + 9 + 100 = 164 successes of 200.
    assert!(close(st.availability, 0.82), "{}", st.availability);
    assert!(close(st.goodput_per_s, 164.0 / 20.0));
    let p = &st.phases;
    assert_eq!(p.len(), 3, "{p:#?}");
    assert_eq!(
        (p[0].label.as_str(), p[0].kind),
        ("before faults", PhaseKind::Before)
    );
    assert_eq!(
        (p[1].label.as_str(), p[1].kind),
        ("during crash server-0", PhaseKind::During)
    );
    assert_eq!(
        (p[2].label.as_str(), p[2].kind),
        ("after crash server-0", PhaseKind::After)
    );
    assert_eq!((p[0].windows, p[1].windows, p[2].windows), (5, 3, 12));
    assert_eq!(p[0].availability, Some(1.0));
    assert_eq!(p[1].availability, Some(0.0));
    // After: 5 + 9 + 10 * 10 = 114 of 120.
    assert!(close(p[2].availability.unwrap(), 0.95));
    // Nines: 1.0 over 50 successes caps at log10(50); 0.95 is -log10(0.05).
    let n0 = p[0].nines.unwrap();
    assert!(n0.capped && close(n0.value, 50f64.log10()));
    let n2 = p[2].nines.unwrap();
    assert!(!n2.capped && close(n2.value, -(0.05f64).log10()));
    assert_eq!(p[1].nines.unwrap().value, 0.0);
    assert!(close(p[2].goodput_per_s, 114.0 / 12.0));
}

#[test]
fn mttr_recovered_at_first_window_that_stays_at_slo() {
    let st = stats::compute(&crash_run());
    assert_eq!(st.recoveries.len(), 1);
    // Window 8 is at 0.5, window 9 at exactly the 0.9 SLO and every later one at 1.0.
    assert_eq!(
        st.recoveries[0].recovery,
        Recovery::Recovered { mttr_s: 1.0 }
    );
    assert_eq!(
        st.worst_recovery(),
        Some(Recovery::Recovered { mttr_s: 1.0 })
    );
}

#[test]
fn mttr_not_recovered_when_goodput_stays_down() {
    let st = stats::compute(&stuck_run());
    assert_eq!(st.recoveries[0].recovery, Recovery::NotRecovered);
    assert_eq!(st.recoveries[0].recovery.describe(), "not recovered");
    assert_eq!(st.worst_recovery(), Some(Recovery::NotRecovered));
}

#[test]
fn mttr_with_a_later_fault_and_an_unended_one() {
    // Crash 5-8, partition 12-14, clock skew for the whole run.
    let mut tl = Vec::new();
    for i in 0..20u32 {
        let t = f64::from(i);
        let ok = match i {
            5..=9 => 2,   // crash and two bad windows after it
            12..=13 => 0, // partition
            _ => 10,
        };
        tl.push(row(t, 10, ok, 10, 10));
    }
    let rec = record(
        tl,
        vec![
            fault("clock", "server-0", 0.0, None),
            fault("crash", "server-0", 5.0, Some(8.0)),
            fault("partition", "client-* | server-*", 12.0, Some(14.0)),
        ],
        0.99,
    );
    let st = stats::compute(&rec);
    assert_eq!(st.recoveries[0].recovery, Recovery::Unended);
    // Good from 10 s until the partition starts at 12 s: recovered 2 s after 8 s.
    assert_eq!(
        st.recoveries[1].recovery,
        Recovery::Recovered { mttr_s: 2.0 }
    );
    assert_eq!(
        st.recoveries[2].recovery,
        Recovery::Recovered { mttr_s: 0.0 }
    );
    assert_eq!(
        st.worst_recovery(),
        Some(Recovery::Recovered { mttr_s: 2.0 })
    );
    // The whole-run clock fault does not split phases.
    let labels: Vec<&str> = st.phases.iter().map(|p| p.label.as_str()).collect();
    assert_eq!(
        labels,
        [
            "before faults",
            "during crash server-0",
            "after crash server-0",
            "during partition client-* | server-*",
            "after partition client-* | server-*",
        ]
    );
    // after crash: windows 8-11: 2 + 2 + 10 + 10 = 24 of 40.
    assert!(close(st.phases[2].availability.unwrap(), 0.6));
    assert_eq!(st.phases[3].availability, Some(0.0));
}

#[test]
fn retry_amplification() {
    let st = stats::compute(&crash_run());
    // Attempts 5*10 + 3*30 + 40 + 20 + 10*10 = 300 over 200 offered.
    assert_eq!(st.amplification.overall, Some(1.5));
    assert_eq!(st.amplification.worst, Some(4.0));
    assert_eq!(st.amplification.worst_t_s, Some(8.0));
}

#[test]
fn peak_load_multiple_skips_warm_up_window() {
    let st = stats::compute(&crash_run());
    assert_eq!(st.peak.peak_per_s, 40.0);
    assert_eq!(st.peak.peak_t_s, Some(8.0));
    // Windows 1-4 (window 0 skipped as warm-up): 10 arrivals/s.
    assert_eq!(st.peak.baseline_windows, 4);
    assert_eq!(st.peak.baseline_per_s, Some(10.0));
    assert_eq!(st.peak.multiple, Some(4.0));
    assert!(!st.peak.baseline_from_offered);
}

#[test]
fn peak_load_falls_back_to_offered_load_without_pre_fault_windows() {
    let mut rec = crash_run();
    rec.summary.faults = vec![fault("crash", "server-0", 0.0, Some(8.0))];
    let st = stats::compute(&rec);
    assert!(st.peak.baseline_from_offered);
    // 200 offered over 20 s.
    assert_eq!(st.peak.baseline_per_s, Some(10.0));
    assert_eq!(st.peak.multiple, Some(4.0));
}

#[test]
fn breaker_time() {
    let st = stats::compute(&crash_run());
    assert_eq!(st.breakers.open_s, 4.0);
    assert_eq!(st.breakers.peak_open, 3);
}

#[test]
fn nines_of_whole_run_and_edges() {
    assert!(close(stats::nines(0.999, 999).unwrap().value, 3.0));
    assert_eq!(stats::nines(1.0, 0), None);
    assert_eq!(stats::nines(f64::NAN, 5), None);
    let st = stats::compute(&crash_run());
    assert!(close(st.nines.unwrap().value, -(0.18f64).log10()));
}

#[test]
fn expectations_from_the_scenario_spec() {
    let mut tl = Vec::new();
    for i in 0..100u32 {
        tl.push(row(
            f64::from(i),
            10,
            10,
            if (5..8).contains(&i) { 20 } else { 10 },
            10,
        ));
    }
    let mut rec = record(
        tl,
        vec![
            fault("crash", "server-0", 10.0, Some(15.0)),
            fault("crash", "server-1", 12.0, Some(20.0)),
        ],
        0.99,
    );
    rec.summary.latency_ms.mean = 210.0;
    rec.summary.scenario_spec = serde_json::json!({
        "network": {"latency": {"constant": "1ms"}},
        "workload": {
            "clients": {"count": 10, "arrival": {"poisson_per_s": 1.0},
                        "retry": {"max_attempts": 3}},
            "servers": {"count": 2, "workers": 1, "service_time": {"exponential": "100ms"}}
        },
        "faults": [{"at": "5s", "for": "3s",
                    "omission": {"from": "*", "to": "server-*", "rate": 0.5}}],
        "random_faults": [{"crash": "server-*", "mtbf": "60s", "mttr": "5s"}]
    });
    let ex = stats::expectations(&rec);
    assert_eq!(ex.len(), 4, "{ex:#?}");
    // Per-server: 60/65 against 1 - (5 + 8)/200 of up time.
    assert_eq!(ex[0].unit, "%");
    assert!(close(ex[0].analytic, 100.0 * 60.0 / 65.0));
    assert!(close(ex[0].measured.unwrap(), 93.5));
    // One of two up: 1 - (5/65)^2 against 1 - 3/100 (both down 12-15 s).
    assert!(close(
        ex[1].analytic,
        100.0 * (1.0 - (5.0f64 / 65.0).powi(2))
    ));
    assert!(close(ex[1].measured.unwrap(), 97.0));
    // p = 0.5 truncated at 3 attempts: (1 - 0.5^3) / 0.5 = 1.75; measured 60 / 30.
    assert!(close(ex[2].analytic, 1.75));
    assert_eq!(ex[2].measured, Some(2.0));
    // M/M/1 per server: lambda 5/s, mu 10/s: W = 1/(10-5) = 200 ms, plus 2 x 1 ms.
    assert_eq!(ex[3].unit, "ms");
    assert!(close(ex[3].analytic, 202.0), "{}", ex[3].analytic);
    assert_eq!(ex[3].measured, Some(210.0));
}

#[test]
fn random_crashes_are_told_apart_from_scheduled_ones() {
    let tl = (0..100u32)
        .map(|i| row(f64::from(i), 10, 10, 10, 10))
        .collect();
    let mut rec = record(
        tl,
        vec![
            // Scheduled, by selector: both servers down 50-60 s; not the random process.
            fault("crash", "server-*", 50.0, Some(60.0)),
            fault("crash", "server-0 (random)", 10.0, Some(14.0)),
            fault("crash", "server-1 (random)", 90.0, None),
        ],
        0.99,
    );
    rec.summary.scenario_spec = serde_json::json!({
        "workload": {"servers": {"count": 2}},
        "faults": [{"at": "50s", "crash": "server-*", "restart_after": "10s"}],
        "random_faults": [{"crash": "server-*", "mtbf": "95s", "mttr": "5s"}]
    });
    let ex = stats::expectations(&rec);
    assert_eq!(ex.len(), 2, "{ex:#?}");
    assert!(close(ex[0].analytic, 95.0));
    // Random down time 4 s + 10 s (to the end of the run) over 2 x 100 s.
    assert!(close(ex[0].measured.unwrap(), 93.0), "{:?}", ex[0].measured);
    assert!(!ex[0].note.contains("scheduled"));
    // Never both down from random crashes.
    assert!(close(ex[1].measured.unwrap(), 100.0));
}

#[test]
fn no_expectations_without_a_spec() {
    assert!(stats::expectations(&crash_run()).is_empty());
}
