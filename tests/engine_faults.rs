//! Each fault kind end to end: its effect shows in the run records.

mod common;

use common::{base_scenario, run, run_record, run_traced};
use serde_json::json;

#[test]
fn latency_is_exact_to_the_nanosecond() {
    // 200us each way + 300us service, no queueing: every request takes exactly 700us,
    // which madsim's own sleeps (1 ms floor) could not produce.
    let mut scenario = base_scenario();
    scenario["duration"] = json!("5s");
    scenario["network"]["latency"] = json!({"constant": "200us"});
    scenario["workload"]["servers"]["service_time"] = json!({"constant": "300us"});
    let (output, trace) = run_traced(&scenario, "exact-latency");
    let latencies: Vec<u64> = trace
        .iter()
        .filter(|event| event["ev"] == "success")
        .map(|event| event["latency_ns"].as_u64().unwrap())
        .collect();
    assert!(
        latencies.len() > 4_000,
        "too few successes: {}",
        latencies.len()
    );
    assert!(
        latencies.iter().all(|&ns| ns == 700_000),
        "latencies not all 700us"
    );
    assert_eq!(output.latency_ns[4], 700_000.0, "max latency");
    assert_eq!(output.totals.succeeded, latencies.len() as u64);
}

#[test]
fn crash_fails_requests_during_the_downtime_and_recovers_after_restart() {
    let mut scenario = base_scenario();
    scenario["faults"] = json!([{ "at": "5s", "crash": "server-0", "restart_after": "5s" }]);
    let rec = run_record(&scenario);
    let rows = &rec.timeline;
    // Windows fully inside the downtime (requests there time out after 100 ms).
    for row in &rows[6..10] {
        assert_eq!(row.completed, 0, "success while down at {} s", row.t_s);
        assert_eq!(
            row.server_arrivals, 0,
            "arrival while down at {} s",
            row.t_s
        );
        assert!(row.timed_out > 0, "no timeouts while down at {} s", row.t_s);
    }
    for row in &rows[11..] {
        assert_eq!(
            row.success_ratio(),
            Some(1.0),
            "not recovered at {} s",
            row.t_s
        );
    }
    assert!(rows[..4].iter().all(|row| row.success_ratio() == Some(1.0)));
    // Requests offered in the last milliseconds before the crash, counted where they
    // were offered, fail with it.
    let before = rows[4].success_ratio().unwrap();
    assert!(
        before < 1.0 && before > 0.99,
        "window before the crash: {before}"
    );
    assert_eq!(rec.summary.faults.len(), 1);
    assert_eq!(rec.summary.faults[0].end_s, Some(10.0));
}

#[test]
fn pause_stops_progress_and_resume_serves_the_backlog() {
    let mut scenario = base_scenario();
    scenario["workload"]["clients"]["timeout"] = json!("10s");
    scenario["workload"]["servers"]["queue_limit"] = json!(10_000);
    scenario["faults"] = json!([{ "at": "5s", "for": "3s", "pause": "server-0" }]);
    let rec = run_record(&scenario);
    let rows = &rec.timeline;
    // Replies already on the wire at 5 s still land (a few ms' worth); nothing after.
    assert!(
        rows[5].completed < 30,
        "{} successes in the first paused second",
        rows[5].completed
    );
    for row in &rows[5..8] {
        assert_eq!(
            row.server_arrivals, 0,
            "arrivals handled while paused at {} s",
            row.t_s
        );
    }
    for row in &rows[6..8] {
        assert_eq!(row.completed, 0, "progress while paused at {} s", row.t_s);
    }
    // On resume the ~3,000 buffered requests arrive at once and are served.
    assert!(
        rows[8].server_arrivals > 2_500,
        "backlog {}",
        rows[8].server_arrivals
    );
    assert_eq!(
        rec.summary.rpc.as_ref().unwrap().requests.failed
            + rec.summary.rpc.as_ref().unwrap().requests.timed_out,
        0
    );
}

#[test]
fn one_way_partition_lets_requests_arrive_but_loses_replies() {
    let mut scenario = base_scenario();
    scenario["faults"] =
        json!([{ "at": "5s", "for": "5s", "partition": { "from": "server-*", "to": "client-*" } }]);
    let rec = run_record(&scenario);
    for row in &rec.timeline[6..10] {
        assert!(
            row.server_arrivals > 500,
            "requests must still arrive at {} s",
            row.t_s
        );
        assert_eq!(
            row.completed, 0,
            "a reply crossed the partition at {} s",
            row.t_s
        );
    }
    assert_eq!(rec.timeline[12].success_ratio(), Some(1.0));
}

#[test]
fn symmetric_partition_cuts_both_ways() {
    let mut scenario = base_scenario();
    scenario["faults"] =
        json!([{ "at": "5s", "for": "5s", "partition": [["client-*"], ["server-*"]] }]);
    let rec = run_record(&scenario);
    for row in &rec.timeline[6..10] {
        assert_eq!(row.server_arrivals, 0);
        assert_eq!(row.completed, 0);
    }
}

#[test]
fn omission_makes_attempts_per_request_near_one_over_one_minus_q() {
    // q = 0.3 on requests only, ample retries: attempts per request is geometric with
    // mean 1/(1-q) = 1.4286 and sd sqrt(q)/(1-q) = 0.78 per request; over ~20,000
    // requests the mean's sd is ~0.0055, so +-0.03 is more than 5 sd.
    let mut scenario = base_scenario();
    scenario["workload"]["clients"]["retry"] = json!({ "max_attempts": 30, "backoff": { "base": "1ms", "cap": "10ms", "jitter": "full" } });
    scenario["faults"] = json!([{ "at": "0s", "for": "20s", "omission": { "from": "client-*", "to": "server-*", "rate": 0.3 } }]);
    let rec = run_record(&scenario);
    let requests = &rec.summary.rpc.as_ref().unwrap().requests;
    assert!(requests.offered > 18_000);
    let per_request = requests.attempts as f64 / requests.offered as f64;
    assert!(
        (per_request - 1.0 / 0.7).abs() < 0.03,
        "attempts per request {per_request}"
    );
    assert!(rec.summary.rpc.as_ref().unwrap().availability > 0.999);
}

#[test]
fn timing_shifts_latency_quantiles_by_the_added_latency() {
    let baseline = run(&base_scenario());
    let mut slowed = base_scenario();
    slowed["faults"] = json!([{
        "at": "0s", "for": "20s",
        "timing": { "to": "server-0", "extra_latency": { "constant": "40ms" } }
    }]);
    let slowed = run(&slowed);
    // Constant latencies: 1 + 1 + 1 ms becomes 1 + 40 + 1 + 1 ms exactly (hdrhistogram
    // quantiles are within 0.1% at 3 significant digits).
    for (index, name) in ["p50", "p99"].iter().enumerate() {
        let shift_ms = (slowed.latency_ns[index] - baseline.latency_ns[index]) / 1e6;
        assert!(
            (shift_ms - 40.0).abs() < 0.1,
            "{name} shifted by {shift_ms} ms"
        );
    }
}

#[test]
fn clock_skew_shows_in_hlc_offsets_and_stays_bounded() {
    let mut scenario = base_scenario();
    scenario["faults"] = json!([{ "at": "0s", "clock": { "node": "server-0", "skew": "250ms" } }]);
    let output = run(&scenario);
    // Clients hear server-0's clock, 250 ms ahead; HLC keeps l - pt within the skew.
    let max_offset_ms = output.hlc.max_offset_ns as f64 / 1e6;
    assert!(
        (249.0..=250.0).contains(&max_offset_ms),
        "max l - pt {max_offset_ms} ms"
    );
    let unskewed = run(&base_scenario());
    assert_eq!(unskewed.hlc.max_offset_ns, 0);
}

#[test]
fn hlc_max_offset_guard_refuses_timestamps_from_a_clock_too_far_ahead() {
    let mut scenario = base_scenario();
    scenario["workload"]["clients"]["hlc_max_offset"] = json!("100ms");
    scenario["faults"] = json!([{ "at": "0s", "clock": { "node": "server-0", "skew": "250ms" } }]);
    let output = run(&scenario);
    assert!(output.hlc.rejected > 0);
    assert_eq!(
        output.totals.succeeded, 0,
        "every reply carries a refused timestamp"
    );
}

#[test]
fn slowdown_builds_a_queue() {
    let mut scenario = base_scenario();
    scenario["workload"]["servers"]["workers"] = json!(2);
    scenario["workload"]["servers"]["service_time"] = json!({ "constant": "1ms" });
    scenario["workload"]["clients"]["timeout"] = json!("5s");
    scenario["faults"] =
        json!([{ "at": "5s", "for": "5s", "slowdown": { "node": "server-0", "factor": 5 } }]);
    let rec = run_record(&scenario);
    // 1,000 req/s against 2 workers at 5 ms: capacity 400 req/s, so the queue grows.
    let before = rec.timeline[3].latency_p99_ms;
    let during = rec.timeline[8].latency_p99_ms;
    assert!(before < 10.0, "p99 before {before} ms");
    assert!(
        during > 100.0 * before,
        "p99 during {during} ms vs {before} ms before"
    );
}

#[test]
fn random_crash_faults_come_from_the_seed() {
    let mut scenario = base_scenario();
    scenario["duration"] = json!("60s");
    scenario["random_faults"] = json!([{ "crash": "server-*", "mtbf": "10s", "mttr": "2s" }]);
    let first = run(&scenario);
    let again = run(&scenario);
    assert!(
        first.faults.len() >= 2,
        "expected several crashes, got {}",
        first.faults.len()
    );
    assert_eq!(first.faults, again.faults);
    scenario["seed"] = json!(2);
    assert_ne!(run(&scenario).faults, first.faults);
}

#[test]
fn breakers_open_during_an_outage_and_reject_requests() {
    let mut scenario = base_scenario();
    scenario["workload"]["clients"]["breaker"] = json!({
        "mode": "consecutive", "failures": 3, "open_for": "1s", "half_open_probes": 1
    });
    scenario["faults"] = json!([{ "at": "5s", "crash": "server-0", "restart_after": "5s" }]);
    let rec = run_record(&scenario);
    assert!(
        rec.summary
            .rpc
            .as_ref()
            .unwrap()
            .requests
            .rejected_by_breaker
            > 0
    );
    assert!(rec.timeline[7].breakers_open > 0);
    assert_eq!(
        rec.timeline[15].breakers_open, 0,
        "breakers closed again after recovery"
    );
}

#[test]
fn a_crash_during_a_pause_and_a_pause_during_a_crash_both_recover() {
    // madsim's node lifecycle must follow: a paused node is killed and restarted, and a
    // pause of a down node is a no-op; the engine checks every restart booted the node.
    let mut scenario = base_scenario();
    scenario["workload"]["servers"]["count"] = json!(2);
    scenario["faults"] = json!([
        { "at": "2s", "for": "4s", "pause": "server-0" },
        { "at": "3s", "crash": "server-0", "restart_after": "2s" },
        { "at": "8s", "crash": "server-1", "restart_after": "4s" },
        { "at": "9s", "for": "1s", "pause": "server-1" }
    ]);
    let rec = run_record(&scenario);
    assert!(rec.summary.rpc.as_ref().unwrap().requests.timed_out > 0);
    for row in &rec.timeline[13..] {
        assert_eq!(
            row.success_ratio(),
            Some(1.0),
            "not recovered at {} s",
            row.t_s
        );
    }
}

#[test]
fn load_shedding_drops_requests_that_waited_too_long() {
    let mut scenario = base_scenario();
    scenario["workload"]["servers"]["workers"] = json!(2);
    scenario["workload"]["servers"]["shed_after"] = json!("20ms");
    scenario["workload"]["clients"]["timeout"] = json!("5s");
    scenario["faults"] =
        json!([{ "at": "5s", "for": "5s", "slowdown": { "node": "server-0", "factor": 5 } }]);
    let rec = run_record(&scenario);
    let shed = rec.summary.rpc.as_ref().unwrap().server.shed;
    assert!(shed > 1_000, "only {shed} requests shed");
    assert_eq!(
        rec.summary.rpc.as_ref().unwrap().requests.failed,
        shed,
        "each shed request fails (no retries)"
    );
    // Shedding bounds queueing: no success waited much beyond the shedding threshold.
    assert!(
        rec.timeline[8].latency_p99_ms < 40.0,
        "p99 {} ms",
        rec.timeline[8].latency_p99_ms
    );
}

/// A server of one worker and no queue, busy 30 ms per request, and 20 clients: most
/// attempts are turned away (overload answers); retries back off 1 ms, 2 ms.
fn overloaded(retry_after: Option<&str>, honor: bool) -> serde_json::Value {
    let mut scenario = base_scenario();
    scenario["duration"] = json!("3s");
    scenario["workload"]["clients"]["count"] = json!(20);
    scenario["workload"]["clients"]["timeout"] = json!("1s");
    scenario["workload"]["clients"]["retry"] = json!({
        "max_attempts": 3,
        "backoff": { "kind": "exponential", "base": "1ms", "cap": "10ms", "jitter": "none" },
        "honor_retry_after": honor
    });
    scenario["workload"]["servers"]["workers"] = json!(1);
    scenario["workload"]["servers"]["queue_limit"] = json!(0);
    scenario["workload"]["servers"]["service_time"] = json!({ "constant": "30ms" });
    if let Some(delay) = retry_after {
        scenario["workload"]["servers"]["retry_after"] = json!(delay);
    }
    scenario
}

fn backoff_delays_ns(trace: &[serde_json::Value]) -> Vec<u64> {
    trace
        .iter()
        .filter(|event| event["ev"] == "backoff")
        .map(|event| event["delay_ns"].as_u64().expect("a delay"))
        .collect()
}

#[test]
fn clients_that_honour_retry_after_wait_at_least_that_long_after_an_overload_answer() {
    // Without Retry-After the backoff alone decides: 1 ms, then 2 ms.
    let (plain, plain_trace) = run_traced(&overloaded(None, true), "retry-after");
    let plain_delays = backoff_delays_ns(&plain_trace);
    assert!(plain_delays.len() > 100, "{}", plain_delays.len());
    assert!(
        plain_delays
            .iter()
            .all(|&ns| ns == 1_000_000 || ns == 2_000_000),
        "{plain_delays:?}"
    );
    // With a 50 ms Retry-After honoured, every retry after an overload answer (here
    // every retry: no attempt times out) waits exactly 50 ms, the larger of the two.
    let honoured_scenario = overloaded(Some("50ms"), true);
    let (honoured, honoured_trace) = run_traced(&honoured_scenario, "retry-after");
    let delays = backoff_delays_ns(&honoured_trace);
    assert!(delays.len() > 50, "{}", delays.len());
    assert!(delays.iter().all(|&ns| ns == 50_000_000), "{delays:?}");
    let record = run_record(&honoured_scenario);
    let deferred = record.summary.rpc.as_ref().unwrap().server.retries_deferred;
    assert_eq!(deferred, Some(delays.len() as u64));
    // Spaced out, the retries find the server free more often: fewer attempts per
    // request, more successes.
    let per_request = |run: &common::RpcRun| run.totals.attempts as f64 / run.totals.offered as f64;
    assert!(
        per_request(&honoured) < per_request(&plain),
        "{} vs {}",
        per_request(&honoured),
        per_request(&plain)
    );
    assert!(honoured.totals.succeeded > plain.totals.succeeded);
    // Clients that ignore it keep their backoff, and nothing is counted as deferred.
    let (ignored, ignored_trace) = run_traced(&overloaded(Some("50ms"), false), "retry-after");
    assert_eq!(backoff_delays_ns(&ignored_trace), plain_delays);
    assert_eq!(ignored.trace_hash, plain.trace_hash);
}

#[test]
fn the_bundled_retry_after_scenario_shows_what_its_description_says() {
    let text = std::fs::read_to_string(common::bundled("retry-after.json")).expect("bundled");
    let mut scenario: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    let description = scenario["description"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let honoured = run_record(&scenario);
    scenario["workload"]["clients"]["retry"]["honor_retry_after"] = json!(false);
    let ignored = run_record(&scenario);
    let rpc = |record: &faultline_reports::record::RunRecord| record.summary.rpc.clone().unwrap();
    let (honoured, ignored) = (rpc(&honoured), rpc(&ignored));
    // Seed 1, as the description quotes it.
    assert_eq!(honoured.server.retries_deferred, Some(4_409));
    assert!(description.contains("4,409 retries were deferred"));
    assert_eq!(
        (honoured.requests.failed, ignored.requests.failed),
        (216, 1_108)
    );
    assert!(
        description.contains("216 requests failed")
            && description.contains("1,108 requests failed")
    );
    let per_request = |rpc: &faultline_reports::record::RpcSummary| {
        rpc.requests.attempts as f64 / rpc.requests.offered as f64
    };
    assert_eq!(format!("{:.2}", per_request(&honoured)), "1.29");
    assert_eq!(format!("{:.2}", per_request(&ignored)), "1.45");
    assert_eq!(ignored.server.retries_deferred, None);
}

/// 100 clients at 10 requests/s each against one server of 64 workers, 50 ms a request,
/// with the concurrency limit `limit`.
fn limited(limit: serde_json::Value) -> serde_json::Value {
    let mut scenario = base_scenario();
    scenario["workload"]["servers"]["service_time"] = json!({ "constant": "50ms" });
    scenario["workload"]["servers"]["limit"] = limit;
    scenario
}

#[test]
fn a_fixed_concurrency_limit_caps_what_a_server_holds() {
    // min = initial = max = 3: three attempts of 50 ms at a time, 60 per second at most.
    let record = run_record(&limited(
        json!({ "algorithm": "aimd", "min": 3, "initial": 3, "max": 3 }),
    ));
    let rpc = record.summary.rpc.as_ref().unwrap();
    let served = rpc.requests.succeeded;
    assert!(served <= 60 * 20 + 3, "{served} served in 20 s");
    assert!(served >= 60 * 19, "{served} served in 20 s");
    let limited = rpc.server.rejected_by_limit.expect("counted with a limit");
    // Every arrival was served, turned away by the limit, or is held at the end.
    let held = rpc.server.arrivals - served - limited;
    assert!(held <= 3, "{held} held at the end");
    // Each turned-away request fails (no retries), once its answer is back.
    assert!(
        rpc.requests.failed <= limited,
        "{} > {limited}",
        rpc.requests.failed
    );
    assert!(limited - rpc.requests.failed <= rpc.requests.in_flight);
    assert_eq!(rpc.server.limit_range, Some([3, 3]));
    assert_eq!(rpc.server.rejected_queue_full, 0);
}

#[test]
fn an_aimd_limit_backs_off_to_its_minimum_when_every_request_is_slow() {
    // Every request takes 50 ms, over the 20 ms AIMD counts as a drop: each sample
    // multiplies the limit by 0.9 (floored) until it reaches the minimum.
    let aimd =
        json!({ "algorithm": "aimd", "min": 2, "initial": 20, "max": 50, "timeout": "20ms" });
    let record = run_record(&limited(aimd));
    let rpc = record.summary.rpc.as_ref().unwrap();
    assert_eq!(rpc.server.limit_range, Some([2, 20]));
    assert!(
        rpc.requests.succeeded <= 2 * 20 * 20 + 20,
        "{}",
        rpc.requests.succeeded
    );
    // Without the limit, nothing is turned away and nothing counted.
    let record = run_record(&base_scenario());
    let server = &record.summary.rpc.as_ref().unwrap().server;
    assert_eq!((server.rejected_by_limit, server.limit_range), (None, None));
}

#[test]
fn a_limit_field_of_another_algorithm_is_refused_with_its_path() {
    let scenario = limited(json!({ "algorithm": "vegas", "min": 3 }));
    let err = faultline::scenario::load_text(
        &scenario.to_string(),
        "<test>",
        &faultline::scenario::Options::default(),
    )
    .expect_err("min is not a vegas field");
    let text = err.to_string();
    assert!(text.contains("workload.servers.limit.min"), "{text}");
    assert!(
        text.contains("applies to aimd and gradient2 only"),
        "{text}"
    );
    let scenario = limited(json!({ "algorithm": "gradient2", "tolerance": 0.5 }));
    let err = faultline::scenario::load_text(
        &scenario.to_string(),
        "<test>",
        &faultline::scenario::Options::default(),
    )
    .expect_err("a tolerance below 1");
    assert!(
        err.to_string().contains("tolerance must be at least 1"),
        "{err}"
    );
}

#[test]
fn the_bundled_limit_overload_scenario_shows_what_its_description_says() {
    let text = std::fs::read_to_string(common::bundled("limit-overload.json")).expect("bundled");
    let mut scenario: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    let description = scenario["description"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let mut run_with = |limit: serde_json::Value| {
        scenario["workload"]["servers"]["limit"] = limit;
        let record = run_record(&scenario);
        let rpc = record.summary.rpc.clone().unwrap();
        let availability = 100.0 * rpc.requests.succeeded as f64
            / (rpc.requests.succeeded + rpc.requests.failed + rpc.requests.timed_out) as f64;
        (format!("{availability:.1} %"), rpc)
    };
    let (gradient2, g) =
        run_with(json!({ "algorithm": "gradient2", "min": 4, "initial": 16, "max": 400 }));
    let (none, n) = run_with(serde_json::Value::Null);
    let (aimd, a) = run_with(
        json!({ "algorithm": "aimd", "min": 4, "initial": 16, "max": 400, "timeout": "200ms" }),
    );
    let (vegas, v) = run_with(json!({ "algorithm": "vegas", "initial": 16, "max": 400 }));
    for (figure, words) in [
        (&gradient2, "Gradient2 79.8 %"),
        (&none, "no limit 70.8 %"),
        (&aimd, "83.8 %"),
        (&vegas, "Vegas 43.4 %"),
    ] {
        assert!(description.contains(words), "{words}");
        assert!(
            words.ends_with(figure.as_str()),
            "{words}: measured {figure}"
        );
    }
    assert_eq!(g.server.rejected_by_limit, Some(8_063));
    assert_eq!(g.server.limit_range, Some([8, 30]));
    assert_eq!(
        (n.server.rejected_queue_full, n.requests.timed_out),
        (4_054, 7_627)
    );
    assert_eq!(a.server.limit_range, Some([4, 146]));
    assert_eq!(v.server.rejected_by_limit, Some(22_649));
    assert_eq!(v.server.limit_range, Some([6, 18]));
}
