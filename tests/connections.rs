//! Persistent client connections: a crash resets them, clients reconnect on their
//! backoff schedule, and attempts wait offline in between.

mod common;

use common::{base_scenario, run_record, run_traced};
use serde_json::{json, Value};

const CLIENTS: usize = 100;

/// 100 clients, 1 ms links, one server with room for every flushed attempt; the server
/// crashes at 5 s and restarts at 7 s.
fn scenario(reconnect: Value, offline_queue: u32) -> Value {
    let mut scenario = base_scenario();
    scenario["duration"] = json!("12s");
    scenario["workload"]["servers"]["queue_limit"] = json!(100_000);
    scenario["workload"]["clients"]["connection"] =
        json!({ "reconnect": reconnect, "offline_queue": offline_queue });
    scenario["faults"] = json!([{ "at": "5s", "crash": "server-0", "restart_after": "2s" }]);
    scenario
}

/// Times of the connection events of this step (`reset`, `up`, ...; see `ConnStep`).
fn conn_times(trace: &[Value], step: &str) -> Vec<u64> {
    trace
        .iter()
        .filter(|event| event["ev"] == "conn" && event["step"] == step)
        .map(|event| event["t_ns"].as_u64().unwrap())
        .collect()
}

fn requests_issued_between(trace: &[Value], from_ns: u64, to_ns: u64) -> u64 {
    trace
        .iter()
        .filter(|event| event["ev"] == "request")
        .filter(|event| (from_ns..to_ns).contains(&event["t_ns"].as_u64().unwrap()))
        .count() as u64
}

#[test]
fn a_crash_resets_every_connection_and_clients_reconnect_on_their_schedule() {
    // Constant 300 ms sleeps and 1 ms links: the reset lands at 5.001 s; connects go out
    // at 5.301, 5.603, 5.905, 6.207, 6.509, 6.811 (each refused 2 ms later) and 7.113,
    // which the restarted server accepts: connected at 7.115 s, exactly.
    let reconnect = json!({ "kind": "constant", "base": "300ms" });
    let (output, trace) = run_traced(&scenario(reconnect, 1000), "conn-schedule");
    let totals = &output.totals;
    assert_eq!(totals.conn_resets, CLIENTS as u64);
    assert_eq!(totals.connect_tries, 7 * CLIENTS as u64);
    assert_eq!(totals.connects_refused, 6 * CLIENTS as u64);
    assert_eq!(totals.connects, CLIENTS as u64);
    let resets = conn_times(&trace, "reset");
    assert!(resets.iter().all(|&t| t == 5_001_000_000), "{resets:?}");
    let connected = conn_times(&trace, "up");
    assert_eq!(connected.len(), CLIENTS);
    assert!(connected.iter().all(|&t| t == 7_115_000_000));
    // Every request issued while disconnected waited offline, then succeeded; only the
    // few on the wire at the crash were lost (and timed out).
    let held = requests_issued_between(&trace, 5_001_000_000, 7_115_000_000);
    assert!(held > 1_500, "{held} requests held");
    assert_eq!(totals.offline_peak, held);
    assert_eq!(totals.failed, 0);
    assert_eq!(totals.offline_failed, 0);
    assert!(totals.timed_out < 20, "{} timed out", totals.timed_out);
    assert_eq!(
        totals.succeeded + totals.timed_out + output.in_flight,
        totals.offered
    );
    // The flush is one burst at 7.116 s: every held attempt reaches the server at once.
    let flushed = trace
        .iter()
        .filter(|event| event["ev"] == "arrive" && event["t_ns"] == 7_116_000_000u64)
        .count() as u64;
    assert_eq!(flushed, held);
}

/// Attempts held offline through the crash count twice in the timeline, both summing to
/// the run's attempts: `attempts` in the window they were sent (the restart's, 7 s),
/// `offered_attempts` in the window their request was offered (6 s, the crash's).
#[test]
fn held_attempts_count_where_sent_and_where_their_request_was_offered() {
    let reconnect = json!({ "kind": "constant", "base": "300ms" });
    let rec = run_record(&scenario(reconnect, 1000));
    let rows = &rec.timeline;
    let attempts = rec.summary.rpc.as_ref().unwrap().requests.attempts;
    assert_eq!(rows.iter().map(|r| r.attempts).sum::<u64>(), attempts);
    assert_eq!(
        rows.iter().map(|r| r.offered_attempts).sum::<u64>(),
        attempts
    );
    // 6-7 s: disconnected all through, so nothing is sent, but every request offered
    // then gets its one attempt (`max_attempts` 1) at 7.115 s.
    let down = &rows[6];
    assert!(down.offered > 150, "{} offered", down.offered);
    assert_eq!(down.attempts, 0);
    assert_eq!(down.offered_attempts, down.offered);
    assert!(rows[7].attempts > rows[7].offered_attempts + down.offered);
}

#[test]
fn without_an_offline_queue_attempts_fail_at_once() {
    let reconnect = json!({ "kind": "constant", "base": "300ms" });
    let (output, trace) = run_traced(&scenario(reconnect, 0), "conn-fail-fast");
    let totals = &output.totals;
    let disconnected = requests_issued_between(&trace, 5_001_000_000, 7_115_000_000);
    assert!(disconnected > 1_500);
    // One attempt per request (`max_attempts` 1): each fails the moment it is made.
    assert_eq!(totals.offline_failed, disconnected);
    assert_eq!(totals.failed, disconnected);
    assert_eq!(totals.offline_peak, 0);
}

#[test]
fn without_jitter_clients_reconnect_in_lockstep_and_full_jitter_spreads_them() {
    let distinct_connect_times = |jitter: &str| {
        let reconnect = json!({ "base": "100ms", "cap": "10s", "jitter": jitter });
        let mut scenario = scenario(reconnect, 1000);
        // Long enough for the longest sleep a client can draw (under 10 s) to end.
        scenario["duration"] = json!("30s");
        let (_, trace) = run_traced(&scenario, &format!("conn-{jitter}"));
        let mut times = conn_times(&trace, "up");
        assert_eq!(times.len(), CLIENTS, "{jitter}: every client reconnects");
        times.sort_unstable();
        times.dedup();
        times.len()
    };
    assert_eq!(distinct_connect_times("none"), 1);
    // 100 uniform draws over hundreds of milliseconds, to the nanosecond: a repeat is
    // all but impossible, so allow very few.
    assert!(distinct_connect_times("full") >= 95);
}

#[test]
fn a_connect_lost_in_a_partition_times_out_and_is_tried_again() {
    // Backoff 100 ms doubling, no jitter, connect timeout 1 s. Reset at 5.001 s; connects
    // at 5.101 and 5.303 are refused; the partition (5.5 s to 8.5 s) swallows those at
    // 5.705 and 7.505, which time out 1 s later; the one at 10.105 s gets through to
    // the server restarted at 7 s.
    let reconnect = json!({ "base": "100ms", "cap": "10s", "jitter": "none" });
    let mut scenario = scenario(reconnect, 1000);
    scenario["faults"] = json!([
        { "at": "5s", "crash": "server-0", "restart_after": "2s" },
        { "at": "5500ms", "for": "3s", "partition": [["client-*"], ["server-*"]] }
    ]);
    let (output, trace) = run_traced(&scenario, "conn-partition");
    let per_client = |count: u64| count / CLIENTS as u64;
    assert_eq!(per_client(output.totals.connects_refused), 2);
    assert_eq!(conn_times(&trace, "timed_out").len(), 2 * CLIENTS);
    assert_eq!(per_client(output.totals.connect_tries), 5);
    let connected = conn_times(&trace, "up");
    assert_eq!(connected.len(), CLIENTS);
    assert!(
        connected.iter().all(|&t| t == 10_107_000_000),
        "{:?}",
        &connected[..3]
    );
}
