//! Statistics on synthetic timelines, against numbers worked out by hand.

mod common;

use common::{crash_run, fault, record, refresh, row, stuck_run};
use faultline_reports::record::{Expectation, Measure, RunRecord, Summary};
use faultline_reports::stats::{self, PhaseKind, Recovery, Span};
use proptest::prelude::*;

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

fn rpc(rec: &RunRecord) -> stats::RpcStats {
    stats::compute(rec).rpc.expect("an rpc run")
}

#[test]
fn availability_by_phase() {
    let rec = crash_run();
    let st = rpc(&rec);
    // 50 + 0 + 5 + 9 + 100 = 164 successes of 200.
    assert!(
        close(st.availability.unwrap(), 0.82),
        "{:?}",
        st.availability
    );
    assert!(close(st.goodput_per_s, 164.0 / 20.0));
    let p = &st.phases.rows;
    assert_eq!(st.phases.total, 3);
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
    assert!(p.iter().all(|x| x.phases == 1 && x.unresolved == 0));
}

/// The case: requests offered during a crash are held and fail later, while a
/// few requests offered before the crash complete during it. Counted by resolve time the
/// crash read 100 %; counted by offered time it is a total outage.
#[test]
fn a_total_outage_reads_zero() {
    let mut tl = Vec::new();
    for i in 0..20u32 {
        let t = f64::from(i);
        let mut r = row(t, 100, 100, 100, 100);
        if (5..10).contains(&i) {
            r.succeeded = 0;
            r.good = 0;
            r.timed_out = 0;
            r.failed = 100;
            // Successes completing during the crash: requests offered before it.
            r.completed = if i == 5 { 4 } else { 0 };
        }
        if i == 4 {
            r.completed = 96;
        }
        tl.push(r);
    }
    let rec = record(tl, vec![fault("crash", "server-0", 5.0, Some(10.0))], 0.99);
    let st = rpc(&rec);
    let during = &st.phases.rows[1];
    assert_eq!(during.label, "during crash server-0");
    assert_eq!(
        (during.offered, during.succeeded, during.resolved),
        (500, 0, 500)
    );
    assert_eq!(during.availability, Some(0.0));
    assert_eq!(during.nines.unwrap().value, 0.0);
    // The 4 completions during the crash belong to requests offered before it: the
    // crash's goodput counts its own requests' successes, none.
    assert_eq!(during.goodput_per_s, 0.0);
    assert!(close(st.phases.rows[0].goodput_per_s, 100.0));
    for r in &rec.timeline[5..10] {
        assert_eq!(r.success_ratio(), Some(0.0));
    }
    // 1500 of 2000 over the run.
    assert!(close(st.availability.unwrap(), 0.75));
    assert_eq!(st.time_availability.windows_meeting_slo, 15);
}

/// The thundering herd: during a 3 s crash 150 requests are offered and held offline;
/// none is sent or completes until the restart at 8 s, when 123 of them succeed (82 %)
/// and 27 time out. Counted by event time the crash phase read goodput 0 and
/// amplification 0 beside an availability of 82 %, and the after phase took the crash's
/// successes and attempts; by offered time every column is about the same requests,
/// and the phases add up to the run.
#[test]
fn a_herd_crash_counts_every_column_by_offered_window() {
    let mut tl = Vec::new();
    for i in 0..20u32 {
        let t = f64::from(i);
        let mut r = match i {
            // Held: no attempt leaves and nothing completes, but each request gets one
            // attempt after the restart, counted where it was offered.
            5..=7 => row(t, 50, 41, 0, 0),
            // The restart: this window's 10 plus the 150 held attempts, 133 successes.
            8 => row(t, 10, 10, 160, 160),
            _ => row(t, 10, 10, 10, 10),
        };
        match i {
            5..=7 => {
                r.offered_attempts = 50;
                r.completed = 0;
            }
            8 => {
                r.offered_attempts = 10;
                r.completed = 133;
            }
            _ => {}
        }
        tl.push(r);
    }
    let rec = record(tl, vec![fault("crash", "server-0", 5.0, Some(8.0))], 0.9);
    let st = stats::compute(&rec);
    assert!(st.notes.is_empty(), "{:?}", st.notes);
    let rpc = st.rpc.unwrap();
    let p = &rpc.phases.rows;
    assert_eq!(p.len(), 3);
    let during = &p[1];
    assert_eq!(during.label, "during crash server-0");
    assert_eq!(
        (during.offered, during.succeeded, during.attempts),
        (150, 123, 150)
    );
    assert!(close(during.availability.unwrap(), 0.82));
    assert!(
        close(during.goodput_per_s, 41.0),
        "{}",
        during.goodput_per_s
    );
    assert_eq!(during.amplification, Some(1.0));
    let after = &p[2];
    assert_eq!(
        (after.offered, after.succeeded, after.attempts),
        (120, 120, 120)
    );
    assert!(close(after.goodput_per_s, 10.0), "{}", after.goodput_per_s);
    assert_eq!(after.amplification, Some(1.0));
    // The rows add up to the run's totals.
    let q = &rec.summary.rpc.as_ref().unwrap().requests;
    let sum = |f: fn(&stats::PhaseStats) -> u64| p.iter().map(f).sum::<u64>();
    assert_eq!(sum(|r| r.offered), q.offered);
    assert_eq!(sum(|r| r.succeeded), q.succeeded);
    assert_eq!(sum(|r| r.attempts), q.attempts);
    assert_eq!((q.offered, q.succeeded, q.attempts), (320, 293, 320));
    let seconds: f64 = p.iter().map(|r| r.windows as f64).sum();
    let goodput: f64 = p.iter().map(|r| r.goodput_per_s * r.windows as f64).sum();
    assert!(close(goodput / seconds, rpc.goodput_per_s));
}

/// The rows of [`common::crash_run`] add up to its totals, and a timeline whose
/// per-offered-window attempts do not add up to the summary's is flagged.
#[test]
fn crash_run_phases_add_up_and_a_wrong_offered_attempts_is_flagged() {
    let mut rec = crash_run();
    let rpc = rpc(&rec);
    let q = rec.summary.rpc.as_ref().unwrap().requests.clone();
    let p = &rpc.phases.rows;
    assert_eq!(p.iter().map(|r| r.offered).sum::<u64>(), q.offered);
    assert_eq!(p.iter().map(|r| r.succeeded).sum::<u64>(), q.succeeded);
    assert_eq!(p.iter().map(|r| r.attempts).sum::<u64>(), q.attempts);
    assert_eq!((q.offered, q.succeeded, q.attempts), (200, 164, 300));
    rec.timeline[6].offered_attempts -= 3;
    let notes = stats::compute(&rec).notes;
    assert!(
        notes
            .iter()
            .any(|n| n.contains("`offered_attempts` sums to 297 but summary.json says 300")),
        "{notes:?}"
    );
}

#[test]
fn a_window_whose_requests_never_resolve_reads_zero() {
    let mut r = row(0.0, 10, 0, 10, 10);
    r.timed_out = 0;
    r.unresolved = 10;
    assert_eq!(r.resolved(), 0);
    assert_eq!(r.success_ratio(), Some(0.0));
    let gap = row(1.0, 0, 0, 0, 0);
    assert_eq!(gap.success_ratio(), None, "nothing offered is a gap");
}

/// Requests offered in window 5 are held 20 s and then succeed: they count as successes
/// and goodput of window 5's phase (their offered window), though the timeline's
/// `completed` counts them in window 25 (when they completed).
#[test]
fn a_held_request_that_succeeds_late_counts_where_it_was_offered() {
    let mut tl: Vec<_> = (0..30u32)
        .map(|i| row(f64::from(i), 10, 10, 10, 10))
        .collect();
    tl[5].completed = 0;
    tl[5].latency_p50_ms = f64::NAN;
    tl[25].completed = 20;
    let rec = record(tl, vec![fault("crash", "server-0", 5.0, Some(6.0))], 0.99);
    let st = rpc(&rec);
    let during = &st.phases.rows[1];
    assert_eq!(during.label, "during crash server-0");
    assert_eq!(during.availability, Some(1.0));
    assert!(close(during.goodput_per_s, 10.0));
    let after = &st.phases.rows[2];
    // Windows 6-29: 24 x 10 successes of their own; the 10 late ones are window 5's.
    assert_eq!(after.windows, 24);
    assert!(close(after.goodput_per_s, 10.0));
    assert_eq!(rec.timeline[5].success_ratio(), Some(1.0));
    assert_eq!(
        stats::recoveries(&rec)[0].recovery,
        Recovery::Recovered { mttr_s: 0.0 }
    );
}

#[test]
fn unresolved_requests_at_the_end_are_reported_apart() {
    let mut tl: Vec<_> = (0..10u32)
        .map(|i| row(f64::from(i), 10, 10, 10, 10))
        .collect();
    // Window 8: 6 succeeded, 4 still in flight; window 9: all 10 still in flight.
    tl[8].succeeded = 6;
    tl[8].good = 6;
    tl[8].timed_out = 0;
    tl[8].unresolved = 4;
    tl[9].succeeded = 0;
    tl[9].good = 0;
    tl[9].timed_out = 0;
    tl[9].unresolved = 10;
    let rec = record(tl, Vec::new(), 0.99);
    assert_eq!(rec.summary.rpc.as_ref().unwrap().requests.in_flight, 14);
    let st = rpc(&rec);
    // 86 of 86 resolved succeeded; the 14 unresolved are not counted as successes.
    assert_eq!(st.availability, Some(1.0));
    assert_eq!(st.unresolved, 14);
    let p = &st.phases.rows;
    assert_eq!(p.len(), 1);
    assert_eq!(
        (p[0].offered, p[0].succeeded, p[0].unresolved),
        (100, 86, 14)
    );
    assert_eq!(p[0].resolved, 86);
    assert_eq!(rec.timeline[8].success_ratio(), Some(1.0));
    assert_eq!(
        rec.timeline[9].success_ratio(),
        Some(0.0),
        "stuck: an outage"
    );
    assert_eq!(st.time_availability.windows_meeting_slo, 9);
}

#[test]
fn time_based_availability_counts_windows_with_traffic() {
    let mut rec = crash_run();
    // A window with no traffic is not counted either way.
    rec.timeline[15] = row(15.0, 0, 0, 0, 0);
    refresh(&mut rec);
    let ta = stats::time_availability(&rec);
    // Windows 0-4, 9 (exactly 0.9) and 10-19 but 15 meet the 0.9 SLO: 15 of 19.
    assert_eq!(ta.windows_with_traffic, 19);
    assert_eq!(ta.windows_meeting_slo, 15);
    assert!(close(ta.fraction.unwrap(), 15.0 / 19.0));
    assert_eq!(ta.windows_meeting_latency_slo, None);

    // With a latency objective: window 10 has only 5 of its 10 successes within it.
    rec.summary.slo_latency_ms = Some(100.0);
    rec.timeline[10].good = 5;
    let ta = stats::time_availability(&rec);
    assert_eq!(ta.windows_meeting_latency_slo, Some(14));
    assert!(close(ta.fraction_latency.unwrap(), 14.0 / 19.0));
}

#[test]
fn latency_bounded_availability_beside_request_based() {
    let mut rec = crash_run();
    rec.summary.slo_latency_ms = Some(250.0);
    // 4 of window 12's successes and 6 of window 13's took longer than 250 ms.
    rec.timeline[12].good = 6;
    rec.timeline[13].good = 4;
    let st = rpc(&rec);
    assert!(close(st.availability.unwrap(), 0.82));
    // 164 - 10 = 154 good of 200 resolved.
    assert!(close(st.availability_latency.unwrap(), 0.77));
    let after = &st.phases.rows[2];
    assert!(close(after.availability_latency.unwrap(), 104.0 / 120.0));
    assert_eq!(st.phases.rows[0].availability_latency, Some(1.0));
    assert_eq!(st.meets_slo, Some(false));
    // Without the objective, no latency-bounded numbers at all.
    rec.summary.slo_latency_ms = None;
    let st = rpc(&rec);
    assert_eq!(st.availability_latency, None);
    assert_eq!(st.phases.rows[2].availability_latency, None);
}

#[test]
fn mttr_recovered_at_first_window_that_stays_at_slo() {
    let rec = crash_run();
    let recs = stats::recoveries(&rec);
    assert_eq!(recs.len(), 1);
    // Window 8 is at 0.5, window 9 at exactly the 0.9 SLO and every later one at 1.0.
    assert_eq!(recs[0].recovery, Recovery::Recovered { mttr_s: 1.0 });
    let worst = rpc(&rec).worst_recovery.unwrap();
    assert_eq!(worst.recovery, Recovery::Recovered { mttr_s: 1.0 });
    assert_eq!((worst.fault, worst.label.as_str()), (1, "crash server-0"));
}

/// After the crash ends, window 8 and 9 complete 10 successes each (from requests
/// held earlier), but of the requests offered in them only 2 in 10 succeed. Counted by
/// resolve time the service looked back at once; by offered time it is back at 10 s.
#[test]
fn mttr_uses_the_offered_time_series() {
    let mut tl: Vec<_> = (0..20u32)
        .map(|i| row(f64::from(i), 10, 10, 10, 10))
        .collect();
    for r in &mut tl[5..8] {
        *r = row(r.t_s, 10, 0, 10, 0);
        r.completed = 0;
    }
    for r in &mut tl[8..10] {
        r.succeeded = 2;
        r.good = 2;
        r.timed_out = 0;
        r.failed = 8;
        r.completed = 10;
    }
    let rec = record(tl, vec![fault("crash", "server-0", 5.0, Some(8.0))], 0.9);
    assert_eq!(
        stats::recoveries(&rec)[0].recovery,
        Recovery::Recovered { mttr_s: 2.0 }
    );
}

#[test]
fn mttr_not_recovered_when_goodput_stays_down() {
    let rec = stuck_run();
    let recs = stats::recoveries(&rec);
    assert_eq!(recs[0].recovery, Recovery::NotRecovered);
    assert_eq!(recs[0].recovery.describe(), "not recovered");
    assert_eq!(
        rpc(&rec).worst_recovery.unwrap().recovery,
        Recovery::NotRecovered
    );
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
    let recs = stats::recoveries(&rec);
    assert_eq!(recs[0].recovery, Recovery::Unended);
    // Good from 10 s until the partition starts at 12 s: recovered 2 s after 8 s.
    assert_eq!(recs[1].recovery, Recovery::Recovered { mttr_s: 2.0 });
    assert_eq!(recs[2].recovery, Recovery::Recovered { mttr_s: 0.0 });
    let st = rpc(&rec);
    let worst = st.worst_recovery.unwrap();
    assert_eq!(worst.recovery, Recovery::Recovered { mttr_s: 2.0 });
    assert_eq!(worst.fault, 2);
    // The whole-run clock fault does not split phases.
    let labels: Vec<&str> = st.phases.rows.iter().map(|p| p.label.as_str()).collect();
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
    assert!(close(st.phases.rows[2].availability.unwrap(), 0.6));
    assert_eq!(st.phases.rows[3].availability, Some(0.0));
    let table = stats::compute(&rec).faults;
    assert!(table.listed[0].background && !table.listed[1].background);
}

#[test]
fn retry_amplification() {
    let st = rpc(&crash_run());
    // Attempts 5*10 + 3*30 + 40 + 20 + 10*10 = 300 over 200 offered.
    assert_eq!(st.amplification.overall, Some(1.5));
    assert_eq!(st.amplification.worst, Some(4.0));
    assert_eq!(st.amplification.worst_t_s, Some(8.0));
}

#[test]
fn peak_load_multiple_skips_warm_up_window() {
    let st = rpc(&crash_run());
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
    let st = rpc(&rec);
    assert!(st.peak.baseline_from_offered);
    // 200 offered over 20 s.
    assert_eq!(st.peak.baseline_per_s, Some(10.0));
    assert_eq!(st.peak.multiple, Some(4.0));
}

#[test]
fn breaker_time() {
    let st = rpc(&crash_run());
    assert_eq!(st.breakers.open_s, 4.0);
    assert_eq!(st.breakers.peak_open, 3);
    assert!(st.breakers.active());
    let mut quiet = crash_run();
    for r in &mut quiet.timeline {
        r.breakers_open = 0;
    }
    assert!(!rpc(&quiet).breakers.active());
}

#[test]
fn nines_of_whole_run_and_edges() {
    assert!(close(stats::nines(0.999, 999).unwrap().value, 3.0));
    assert_eq!(stats::nines(1.0, 0), None);
    assert_eq!(stats::nines(f64::NAN, 5), None);
    let st = rpc(&crash_run());
    assert!(close(st.nines.unwrap().value, -(0.18f64).log10()));
}

#[test]
fn zoom_spans_the_faults_and_the_recovery() {
    let st = rpc(&crash_run());
    // Crash 5-8, back at 9 s; to 9 + one window = 10 s; padded by 2 windows each side.
    assert_eq!(
        st.zoom,
        Some(Span {
            from_s: 3.0,
            to_s: 12.0
        })
    );
    // Not recovered: the zoom would reach the end, most of the run: no zoom.
    assert_eq!(rpc(&stuck_run()).zoom, None);
}

fn expectation(name: &str, measure: Measure) -> Expectation {
    Expectation {
        name: name.to_string(),
        analytic: 1.0,
        unit: "%".to_string(),
        note: format!("note of {name}"),
        measure,
    }
}

fn nodes() -> Vec<String> {
    vec!["server-0".to_string(), "server-1".to_string()]
}

#[test]
fn uptime_and_any_up_from_crash_intervals() {
    let tl = (0..100u32)
        .map(|i| row(f64::from(i), 10, 10, 10, 10))
        .collect();
    let mut rec = record(
        tl,
        vec![
            fault("crash", "server-0", 10.0, Some(15.0)),
            fault("crash", "server-1", 12.0, Some(20.0)),
        ],
        0.99,
    );
    rec.summary.rpc.as_mut().unwrap().expectations = vec![
        expectation(
            "up",
            Measure::Uptime {
                nodes: nodes(),
                random_only: false,
            },
        ),
        expectation(
            "any",
            Measure::AnyUp {
                nodes: nodes(),
                random_only: false,
            },
        ),
    ];
    let ex = stats::expectations(&rec);
    assert_eq!(ex.len(), 2);
    // Down 5 s + 8 s of 2 x 100 s.
    assert!(close(ex[0].measured.unwrap(), 93.5), "{:?}", ex[0].measured);
    // Both down 12-15 s.
    assert!(close(ex[1].measured.unwrap(), 97.0), "{:?}", ex[1].measured);
    assert_eq!((ex[0].analytic, ex[0].note.as_str()), (1.0, "note of up"));
}

#[test]
fn random_crashes_are_told_apart_from_scheduled_ones() {
    let tl = (0..100u32)
        .map(|i| row(f64::from(i), 10, 10, 10, 10))
        .collect();
    let mut rec = record(
        tl,
        vec![
            // Scheduled, by selector: both servers down 50-60 s.
            fault("crash", "server-*", 50.0, Some(60.0)),
            fault("crash", "server-0 (random)", 10.0, Some(14.0)),
            fault("crash", "server-1 (random)", 90.0, None),
        ],
        0.99,
    );
    let m = |random_only: bool| {
        vec![
            Measure::Uptime {
                nodes: nodes(),
                random_only,
            },
            Measure::AnyUp {
                nodes: nodes(),
                random_only,
            },
        ]
    };
    rec.summary.rpc.as_mut().unwrap().expectations = m(true)
        .into_iter()
        .chain(m(false))
        .map(|x| expectation("x", x))
        .collect();
    let ex: Vec<f64> = stats::expectations(&rec)
        .iter()
        .map(|e| e.measured.unwrap())
        .collect();
    // Random only: 4 s + 10 s (to the end of the run) over 2 x 100 s; never both down.
    assert!(close(ex[0], 93.0), "{ex:?}");
    assert!(close(ex[1], 100.0), "{ex:?}");
    // All crashes: server-0 14 s, server-1 20 s; both down 50-60 s.
    assert!(close(ex[2], 83.0), "{ex:?}");
    assert!(close(ex[3], 90.0), "{ex:?}");
}

#[test]
fn attempts_per_request_and_mean_latency() {
    let mut tl: Vec<_> = (0..20u32)
        .map(|i| row(f64::from(i), 10, 10, 10, 10))
        .collect();
    for r in &mut tl[5..8] {
        r.attempts = 20;
    }
    let mut rec = record(tl, Vec::new(), 0.99);
    rec.summary.rpc.as_mut().unwrap().expectations = vec![
        expectation(
            "omission",
            Measure::AttemptsPerRequest {
                from_s: 5.0,
                to_s: 8.0,
            },
        ),
        expectation(
            "nothing offered",
            Measure::AttemptsPerRequest {
                from_s: 50.0,
                to_s: 60.0,
            },
        ),
        expectation("latency", Measure::MeanLatency),
    ];
    let ex = stats::expectations(&rec);
    // Windows with midpoints 5.5, 6.5 and 7.5: 60 attempts for 30 requests.
    assert_eq!(ex[0].measured, Some(2.0));
    assert_eq!(ex[1].measured, None);
    assert_eq!(ex[2].measured, Some(12.25));
    rec.summary.rpc.as_mut().unwrap().latency_ms.mean = f64::NAN;
    assert_eq!(stats::expectations(&rec)[2].measured, None);
}

#[test]
fn no_expectations_without_the_simulators() {
    assert!(stats::expectations(&crash_run()).is_empty());
}

#[test]
fn many_faults_are_folded_without_losing_requests() {
    // 100 one-second crashes of alternating servers, one every 5 s over 500 windows.
    let tl: Vec<_> = (0..500u32)
        .map(|i| row(f64::from(i), 10, if i % 5 == 0 { 3 } else { 10 }, 10, 10))
        .collect();
    let faults = (0..100u32)
        .map(|i| {
            let t = f64::from(5 * i);
            let kind = if i % 2 == 0 { "crash" } else { "pause" };
            fault(kind, &format!("server-{}", i % 2), t, Some(t + 1.0))
        })
        .collect();
    let rec = record(tl, faults, 0.9);
    let st = stats::compute(&rec);
    let rpc = st.rpc.as_ref().unwrap();
    // 200 phases: each fault's during and after (the first fault starts at 0 s).
    assert_eq!(rpc.phases.total, 200);
    assert_eq!(rpc.phases.rows.len(), stats::LISTED_PHASES + 4);
    let folded: Vec<&str> = rpc.phases.rows[stats::LISTED_PHASES..]
        .iter()
        .map(|p| p.label.as_str())
        .collect();
    assert_eq!(
        folded,
        [
            "during crash (45 phases)",
            "after crash (45 phases)",
            "during pause (45 phases)",
            "after pause (45 phases)",
        ]
    );
    let offered: u64 = rpc.phases.rows.iter().map(|p| p.offered).sum();
    let windows: usize = rpc.phases.rows.iter().map(|p| p.windows).sum();
    assert_eq!((offered, windows), (5000, 500));
    // The folded during-crash row: 45 windows of 3 of 10.
    assert_eq!(
        rpc.phases.rows[stats::LISTED_PHASES].availability,
        Some(0.3)
    );
    // Faults: 20 listed, the other 80 folded by kind with their MTTRs (all 0 s).
    assert_eq!(st.faults.listed.len(), stats::LISTED_FAULTS);
    let groups: Vec<(&str, usize, usize)> = st
        .faults
        .folded
        .iter()
        .map(|g| (g.kind.as_str(), g.count, g.recovered))
        .collect();
    assert_eq!(groups, [("crash", 40, 40), ("pause", 40, 40)]);
    assert_eq!(st.faults.folded[0].mttr_max_s, Some(0.0));
    assert!(close(st.faults.folded[0].total_s, 40.0));
}

#[test]
fn a_record_without_an_rpc_section_has_a_core() {
    let rec = RunRecord {
        summary: Summary {
            scenario: "ledger".to_string(),
            workload: "queue".to_string(),
            seed: 3,
            simulated_s: 10.0,
            faults: vec![fault("crash", "server-0", 1.0, Some(2.0))],
            ..Summary::default()
        },
        timeline: Vec::new(),
        ..RunRecord::default()
    };
    let st = stats::compute(&rec);
    assert!(st.rpc.is_none());
    assert_eq!(st.faults.total, 1);
    assert_eq!(st.faults.listed[0].recovery, None);
    assert!(st.notes.is_empty(), "{:?}", st.notes);
}

#[test]
fn notes_flag_a_timeline_that_contradicts_the_summary() {
    let mut rec = crash_run();
    assert!(stats::compute(&rec).notes.is_empty());
    rec.summary.rpc.as_mut().unwrap().requests.offered += 7;
    let notes = stats::compute(&rec).notes;
    assert!(
        notes
            .iter()
            .any(|n| n.contains("`offered` sums to 200 but summary.json says 207")),
        "{notes:?}"
    );
}

proptest! {
    /// Phases partition the timeline: every window and request lands in exactly one
    /// row, folded or not, and every ratio is a fraction; there is one recovery per fault.
    #[test]
    fn phases_partition_the_run(
        faults in prop::collection::vec((0.0f64..120.0, 0.0f64..30.0, 0usize..3), 0..80),
        ok in prop::collection::vec(0u64..=10, 120),
    ) {
        let kinds = ["crash", "partition", "pause"];
        let tl: Vec<_> = ok.iter().enumerate().map(|(i, &s)| row(i as f64, 10, s, 12, 11)).collect();
        let faults: Vec<_> = faults
            .iter()
            .map(|&(a, d, k)| fault(kinds[k], "server-0", a, Some(a + d)))
            .collect();
        let n = faults.len();
        let rec = record(tl, faults, 0.9);
        let st = stats::compute(&rec);
        let rpc = st.rpc.unwrap();
        let offered: u64 = rpc.phases.rows.iter().map(|p| p.offered).sum();
        let windows: usize = rpc.phases.rows.iter().map(|p| p.windows).sum();
        let phases: usize = rpc.phases.rows.iter().map(|p| p.phases).sum();
        prop_assert_eq!(offered, 1200);
        prop_assert_eq!(windows, 120);
        // Every column counts by offered window, so folded rows add up too.
        let succeeded: u64 = rpc.phases.rows.iter().map(|p| p.succeeded).sum();
        let attempts: u64 = rpc.phases.rows.iter().map(|p| p.attempts).sum();
        let good_s: f64 = rpc.phases.rows.iter().map(|p| p.goodput_per_s * p.windows as f64).sum();
        prop_assert_eq!(succeeded, ok.iter().sum::<u64>());
        prop_assert_eq!(attempts, 1440);
        prop_assert!((good_s - succeeded as f64).abs() < 1e-6, "{} vs {}", good_s, succeeded);
        prop_assert_eq!(phases, rpc.phases.total);
        prop_assert!(rpc.phases.rows.len() <= stats::MAX_LISTED_PHASES + 12);
        for p in &rpc.phases.rows {
            prop_assert!(p.availability.is_none_or(|a| (0.0..=1.0).contains(&a)));
        }
        prop_assert_eq!(stats::recoveries(&rec).len(), n);
        prop_assert_eq!(
            st.faults.listed.len() + st.faults.folded.iter().map(|g| g.count).sum::<usize>(),
            n
        );
    }
}
