//! Bad scenario files through the real binary (`faultline validate`): each exits 2, names
//! the file, the line and column, and the field path, and never panics.

use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A valid scenario (the DESIGN.md example); cases below edit it textually.
const GOOD: &str = r#"{
  "$schema": "schema.json",
  "name": "thundering-herd",
  "description": "1,000 clients against one server that crashes at 30 s.",
  "seed": 7,
  "duration": "120s",
  "network": { "latency": {"uniform": ["1ms", "5ms"]}, "drop_rate": 0.0 },
  "workload": {
    "kind": "rpc",
    "clients": {
      "count": 1000,
      "arrival": {"poisson_per_s": 1.0},
      "timeout": "500ms",
      "retry": {"max_attempts": 6,
                "backoff": {"base": "100ms", "cap": "10s", "jitter": "full"}},
      "breaker": {"mode": "ewma", "alpha": 0.1, "threshold": 0.5,
                  "open_for": "5s", "half_open_probes": 2}
    },
    "servers": {"count": 1, "workers": 8,
                "service_time": {"exponential": "5ms"}, "queue_limit": 200}
  },
  "faults": [
    {"at": "30s", "crash": "server-0", "restart_after": "10s"},
    {"at": "60s", "for": "5s", "partition": [["client-*"], ["server-*"]]},
    {"at": "80s", "for": "10s", "omission": {"from": "*", "to": "server-0", "rate": 0.3}},
    {"at": "95s", "for": "2s", "pause": "server-0"},
    {"at": "0s", "clock": {"node": "server-0", "skew": "-250ms", "drift_ppm": 200}}
  ],
  "random_faults": [{"crash": "server-*", "mtbf": "60s", "mttr": "5s"}],
  "metrics": {"window": "1s"},
  "checks": [{"availability_at_least": 0.95}, {"p99_latency_at_most": "1s"}]
}
"#;

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// Writes `text` to a fresh file in a per-process temporary directory.
fn write(name: &str, text: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("faultline-scenario-errors-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("create temp dir");
    let unique = COUNTER.fetch_add(1, Ordering::Relaxed);
    let path = dir.join(format!("{unique:03}-{name}.json"));
    std::fs::write(&path, text).expect("write fixture");
    path
}

/// `GOOD` with `from` replaced by `to` (which must occur exactly once).
fn edit(from: &str, to: &str) -> String {
    assert_eq!(
        GOOD.matches(from).count(),
        1,
        "fixture edit {from:?} must match once"
    );
    GOOD.replace(from, to)
}

struct Output {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

fn validate(paths: &[&PathBuf]) -> Output {
    let output = Command::new(env!("CARGO_BIN_EXE_faultline"))
        .arg("validate")
        .args(paths)
        .output()
        .expect("run faultline");
    Output {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// Validates `text` and asserts exit 2 with `error: <file>:<line>:<col>: <path>: ...`
/// containing every fragment; returns stderr.
#[track_caller]
fn rejects(name: &str, text: &str, path: &str, fragments: &[&str]) -> String {
    let file = write(name, text);
    let out = validate(&[&file]);
    let stderr = out.stderr;
    assert_eq!(out.code, Some(2), "{name}: stderr: {stderr}");
    assert!(!stderr.contains("panicked"), "{name}: {stderr}");
    assert!(out.stdout.is_empty(), "{name}: stdout: {}", out.stdout);
    let prefix = format!("error: {}:", file.display());
    assert!(
        stderr.starts_with(&prefix),
        "{name}: wanted {prefix:?} in {stderr}"
    );
    // line:col
    let rest = &stderr[prefix.len()..];
    let mut parts = rest.splitn(3, ':');
    let line: usize = parts
        .next()
        .unwrap()
        .parse()
        .unwrap_or_else(|_| panic!("{name}: no line: {stderr}"));
    let column: usize = parts
        .next()
        .unwrap()
        .parse()
        .unwrap_or_else(|_| panic!("{name}: no column: {stderr}"));
    assert!(line >= 1 && column >= 1, "{name}: {stderr}");
    if !path.is_empty() {
        assert!(
            stderr.contains(&format!(": {path}: ")),
            "{name}: wanted path {path:?} in {stderr}"
        );
    }
    for fragment in fragments {
        assert!(
            stderr.contains(fragment),
            "{name}: wanted {fragment:?} in {stderr}"
        );
    }
    assert_eq!(
        stderr.lines().count(),
        1,
        "{name}: one line per bad file: {stderr}"
    );
    stderr
}

#[test]
fn good_file_is_ok() {
    let file = write("good", GOOD);
    let out = validate(&[&file]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert_eq!(
        out.stdout,
        format!(
            "ok  {}  (thundering-herd: 1000 clients, 1 server, 2m)\n",
            file.display()
        )
    );
    assert!(out.stderr.is_empty());
}

#[test]
fn one_bad_file_among_good_ones_exits_2_and_reports_each() {
    let good = write("good", GOOD);
    let bad = write("bad", &edit(r#""count": 1000"#, r#""count": 0"#));
    let out = validate(&[&good, &bad, &good]);
    assert_eq!(out.code, Some(2));
    assert_eq!(out.stdout.lines().count(), 2, "{}", out.stdout);
    assert_eq!(out.stderr.lines().count(), 1, "{}", out.stderr);
    assert!(
        out.stderr
            .contains("workload.clients.count: must be at least 1"),
        "{}",
        out.stderr
    );
}

#[test]
fn missing_file() {
    let path = std::env::temp_dir().join("faultline-no-such-scenario.json");
    let out = validate(&[&path]);
    assert_eq!(out.code, Some(2));
    assert!(
        out.stderr
            .contains("faultline-no-such-scenario.json: cannot read"),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("panicked"));
}

#[test]
fn malformed_json() {
    rejects(
        "truncated",
        &GOOD[..GOOD.len() / 2],
        "",
        &["EOF while parsing", "ends too early"],
    );
    rejects(
        "trailing-comma",
        &edit(r#""seed": 7,"#, r#""seed": 7,,"#),
        "",
        &["key must be a string"],
    );
    rejects(
        "two-objects",
        &format!("{GOOD}{{}}"),
        "",
        &["trailing characters", "one JSON object"],
    );
    rejects(
        "not-an-object",
        "[1, 2]",
        "",
        &["a scenario is a JSON object", "not \"[1, 2]\""],
    );
    rejects("bom", "\u{feff}{}", "", &["remove the byte-order mark"]);
    rejects("empty", "", "", &["the file is empty"]);
    rejects("blank", "  \n\n", "", &["the file is empty"]);
}

#[test]
fn wrong_types() {
    rejects(
        "count-string",
        &edit(r#""count": 1000"#, r#""count": "1000""#),
        "workload.clients.count",
        &["invalid type: string", "write the number without quotes"],
    );
    rejects(
        "seed-negative",
        &edit(r#""seed": 7"#, r#""seed": -7"#),
        "seed",
        &["write a whole number"],
    );
    rejects(
        "faults-object",
        &edit(r#""faults": ["#, r#""faults": {"x": ["#).replace("}\n  ],", "}]\n  },"),
        "faults",
        &["invalid type: an object, expected a list [...]"],
    );
    rejects(
        "duration-number",
        &edit(r#""duration": "120s""#, r#""duration": 120"#),
        "duration",
        &["invalid type: integer `120`", "duration string with a unit"],
    );
    rejects(
        "count-fraction",
        &edit(r#""count": 1000"#, r#""count": 2.5"#),
        "workload.clients.count",
        &["2.5 is not allowed: write a whole number from 1 to 1000000"],
    );
}

#[test]
fn unknown_keys_at_several_depths() {
    rejects(
        "top",
        &edit(r#""seed": 7"#, r#""sed": 7"#),
        "sed",
        &[r#"unknown field "sed""#, r#"(did you mean "seed"?)"#],
    );
    rejects(
        "clients",
        &edit(r#""count": 1000"#, r#""count": 1000, "retries": 3"#),
        "workload.clients.retries",
        &[r#"unknown field "retries""#],
    );
    rejects(
        "backoff",
        &edit(r#""jitter": "full""#, r#""jiter": "full""#),
        "workload.clients.retry.backoff.jiter",
        &[
            r#"unknown field "jiter", expected one of"#,
            r#""jitter""#,
            r#"did you mean "jitter"?"#,
        ],
    );
    rejects(
        "omission",
        &edit(r#""rate": 0.3"#, r#""rate": 0.3, "prob": 1"#),
        "faults[2].omission.prob",
        &[r#"unknown field "prob""#],
    );
    rejects(
        "metrics",
        &edit(r#""window": "1s""#, r#""windw": "1s""#),
        "metrics.windw",
        &[r#"did you mean "window"?"#],
    );
}

#[test]
fn unknown_variant_names_the_choices() {
    let stderr = rejects(
        "jitter",
        &edit(r#""jitter": "full""#, r#""jitter": "ful""#),
        "workload.clients.retry.backoff.jitter",
        &[],
    );
    assert!(
        stderr.contains(
            r#"workload.clients.retry.backoff.jitter: unknown variant "ful", expected one of "none", "full", "equal", "decorrelated""#
        ),
        "{stderr}"
    );
    assert!(stderr.contains(r#"did you mean "full"?"#), "{stderr}");
    // The line of the jitter key.
    assert!(stderr.contains(".json:15:"), "{stderr}");
    rejects(
        "mode",
        &edit(r#""mode": "ewma""#, r#""mode": "EWMA""#),
        "workload.clients.breaker.mode",
        &[
            r#"unknown variant "EWMA""#,
            r#""count_window""#,
            r#"did you mean "ewma"?"#,
        ],
    );
    rejects(
        "kind",
        &edit(r#""kind": "rpc""#, r#""kind": "grpc""#),
        "workload.kind",
        &[r#"unknown variant "grpc""#],
    );
    rejects(
        "dist",
        &edit(r#"{"exponential": "5ms"}"#, r#"{"expo": "5ms"}"#),
        "workload.servers.service_time",
        &[r#"unknown variant "expo""#, r#""exponential""#],
    );
}

#[test]
fn bad_durations() {
    for (name, value, fragment) in [
        ("parsecs", "5 parsecs", "unknown time unit \"parsecs\""),
        ("negative", "-1s", "cannot be negative"),
        ("no-unit", "5", "time unit needed"),
        ("empty", "", "value was empty"),
        ("overflow", "99999999999999999999999s", "too large"),
    ] {
        rejects(
            name,
            &edit(
                r#""duration": "120s""#,
                &format!(r#""duration": "{value}""#),
            ),
            "duration",
            &[fragment, "write a number with a unit"]
                .into_iter()
                .filter(|f| name != "negative" || *f != "write a number with a unit")
                .collect::<Vec<_>>(),
        );
    }
    rejects(
        "zero",
        &edit(r#""duration": "120s""#, r#""duration": "0s""#),
        "duration",
        &["must be above 0"],
    );
    rejects(
        "too-long",
        &edit(r#""duration": "120s""#, r#""duration": "2d""#),
        "duration",
        &["exceeds the limit of 1day"],
    );
    rejects(
        "timeout",
        &edit(r#""timeout": "500ms""#, r#""timeout": "fast""#),
        "workload.clients.timeout",
        &[r#"invalid duration "fast""#, "write a number with a unit"],
    );
}

#[test]
fn out_of_range_values() {
    rejects(
        "omission",
        &edit(r#""rate": 0.3"#, r#""rate": 1.3"#),
        "faults[2].omission.rate",
        &["1.3 is not a probability: write a number from 0 to 1"],
    );
    rejects(
        "drop",
        &edit(r#""drop_rate": 0.0"#, r#""drop_rate": -0.1"#),
        "network.drop_rate",
        &["not a probability"],
    );
    rejects(
        "poisson",
        &edit(r#""poisson_per_s": 1.0"#, r#""poisson_per_s": 0"#),
        "workload.clients.arrival.poisson_per_s",
        &["above 0"],
    );
    rejects(
        "availability",
        &edit(
            r#""availability_at_least": 0.95"#,
            r#""availability_at_least": 95"#,
        ),
        "checks[0].availability_at_least",
        &["from 0 to 1"],
    );
    rejects(
        "alpha",
        &edit(r#""alpha": 0.1"#, r#""alpha": 0"#),
        "workload.clients.breaker.alpha",
        &["above 0 and at most 1"],
    );
    rejects(
        "overflow-float",
        &edit(r#""alpha": 0.1"#, r#""alpha": 1e999"#),
        "workload.clients.breaker.alpha",
        &["number out of range"],
    );
    rejects(
        "window",
        &edit(r#""window": "1s""#, r#""window": "5m""#),
        "metrics.window",
        &["longer than the run"],
    );
}

#[test]
fn huge_numbers_are_refused_with_the_limit() {
    rejects(
        "clients-1e40",
        &edit(r#""count": 1000"#, r#""count": 1e40"#),
        "workload.clients.count",
        &["1e40 exceeds the limit of 1000000 clients"],
    );
    rejects(
        "clients-20-digits",
        &edit(r#""count": 1000"#, r#""count": 99999999999999999999"#),
        "workload.clients.count",
        &["exceeds the limit of 1000000 clients"],
    );
    rejects(
        "clients-u64",
        &edit(r#""count": 1000"#, r#""count": 5000000000"#),
        "workload.clients.count",
        &["5000000000 exceeds the limit of 1000000 clients"],
    );
    rejects(
        "clients-5m",
        &edit(r#""count": 1000"#, r#""count": 5000000"#),
        "workload.clients.count",
        &["workload.clients.count: 5000000 exceeds the limit of 1000000 clients"],
    );
    rejects(
        "servers",
        &edit(r#""count": 1, "workers""#, r#""count": 1000000, "workers""#),
        "workload.servers.count",
        &["exceeds the limit of 10000 servers"],
    );
    rejects(
        "workers",
        &edit(r#""workers": 8"#, r#""workers": 4294967296"#),
        "workload.servers.workers",
        &["exceeds the limit of 10000 workers per server"],
    );
    rejects(
        "attempts",
        &edit(r#""max_attempts": 6"#, r#""max_attempts": 1000"#),
        "workload.clients.retry.max_attempts",
        &["exceeds the limit of 100 attempts"],
    );
    rejects(
        "seed",
        &edit(r#""seed": 7"#, r#""seed": 99999999999999999999"#),
        "seed",
        &["write a whole number from 0 to 18446744073709551615"],
    );
    rejects(
        "events",
        &edit(r#""count": 1000"#, r#""count": 1000000"#)
            .replace(r#""poisson_per_s": 1.0"#, r#""poisson_per_s": 100.0"#),
        "workload",
        &["over the limit of 2000000000 events"],
    );
}

#[test]
fn missing_required_fields() {
    rejects(
        "name",
        &edit("  \"name\": \"thundering-herd\",\n", ""),
        "name",
        &[r#"missing field "name""#],
    );
    rejects(
        "servers",
        &edit(r#""queue_limit": 200"#, r#""queue_limt": 200"#),
        "workload.servers.queue_limt",
        &["unknown field", r#"did you mean "queue_limit"?"#],
    );
    rejects(
        "open_for",
        &edit(r#""open_for": "5s", "#, ""),
        "workload.clients.breaker.open_for",
        &[r#"missing field "open_for""#],
    );
    rejects("empty-object", "{}", "name", &[r#"missing field "name""#]);
}

#[test]
fn selectors_must_match_a_node() {
    rejects(
        "pause",
        &edit(r#""pause": "server-0""#, r#""pause": "server-1""#),
        "faults[3].pause",
        &["matches no server"],
    );
    rejects(
        "to",
        &edit(r#""to": "server-0""#, r#""to": "srv-*""#),
        "faults[2].omission.to",
        &[r#"selector "srv-*" matches no node (existing: client-0..client-999, server-0)"#],
    );
    rejects(
        "group",
        &edit(r#"["server-*"]"#, r#"["server-1*"]"#),
        "faults[1].partition[1][0]",
        &["matches no node"],
    );
    rejects(
        "crash-client",
        &edit(r#""crash": "server-0""#, r#""crash": "client-3""#),
        "faults[0].crash",
        &["servers only"],
    );
    rejects(
        "selector-star",
        &edit(r#""crash": "server-0""#, r#""crash": "ser*ver""#),
        "faults[0].crash",
        &["may only stand at the end"],
    );
}

#[test]
fn fault_timing_rules() {
    rejects(
        "past-end",
        &edit(r#""at": "95s""#, r#""at": "130s""#),
        "faults[3].at",
        &["past the end of the run"],
    );
    rejects(
        "for-past-end",
        &edit(
            r#""at": "95s", "for": "2s""#,
            r#""at": "95s", "for": "30s""#,
        ),
        "faults[3].for",
        &["past the end of the run", "at most 25s"],
    );
    rejects(
        "for-on-crash",
        &edit(r#""at": "30s","#, r#""at": "30s", "for": "5s","#),
        "faults[0].for",
        &["\"for\" does not apply to a crash fault", "restart_after"],
    );
    rejects(
        "for-missing",
        &edit(r#""at": "95s", "for": "2s","#, r#""at": "95s","#),
        "faults[3]",
        &["needs \"for\""],
    );
    rejects(
        "two-kinds",
        &edit(
            r#""crash": "server-0","#,
            r#""crash": "server-0", "pause": "server-0","#,
        ),
        "faults[0].pause",
        &["one fault kind per entry"],
    );
}

#[test]
fn connection_settings_are_checked() {
    let with_connection = |connection: &str| {
        edit(
            r#""timeout": "500ms","#,
            &format!(r#""timeout": "500ms", "connection": {connection},"#),
        )
    };
    // A good one passes.
    let good = write(
        "connection-ok",
        &with_connection(r#"{"offline_queue": 10}"#),
    );
    assert_eq!(validate(&[&good]).code, Some(0));
    rejects(
        "connection-unknown",
        &with_connection(r#"{"ofline_queue": 10}"#),
        "workload.clients.connection.ofline_queue",
        &[
            r#"unknown field "ofline_queue""#,
            r#"did you mean "offline_queue"?"#,
        ],
    );
    rejects(
        "connection-limit",
        &with_connection(r#"{"offline_queue": 2000000}"#),
        "workload.clients.connection.offline_queue",
        &["above the limit of 100000"],
    );
    rejects(
        "connection-timeout",
        &with_connection(r#"{"connect_timeout": "0s"}"#),
        "workload.clients.connection.connect_timeout",
        &["must be above 0"],
    );
    rejects(
        "connection-reconnect",
        &with_connection(r#"{"reconnect": {"base": "2s", "cap": "1s"}}"#),
        "workload.clients.connection.reconnect.cap",
        &["below base"],
    );
}

#[test]
fn deep_nesting_does_not_crash() {
    let deep = format!(
        "{{\"name\": {}1{}}}",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    rejects(
        "deep",
        &deep,
        "name",
        &["invalid type: a list, expected a string"],
    );
    let deep_unknown = format!("{{\"x\": {}1{}}}", "[".repeat(100_000), "]".repeat(100_000));
    rejects("deep-unknown", &deep_unknown, "x", &["unknown field \"x\""]);
}

#[test]
fn load_profiles_are_checked_with_their_paths() {
    let arrival = r#""arrival": {"poisson_per_s": 1.0},"#;
    let with = |load: &str| edit(arrival, &format!("{arrival} \"load\": {load},"));
    rejects(
        "load-factor",
        &with(r#"{"spike": {"at": "10s", "for": "5s", "factor": -1}}"#),
        "workload.clients.load.spike.factor",
        &["-1 is out of range", "from 0 to 1000"],
    );
    rejects(
        "load-spike-for",
        &with(r#"{"spike": {"at": "10s", "for": "0s", "factor": 2}}"#),
        "workload.clients.load.spike.for",
        &["above 0"],
    );
    rejects(
        "load-ramp-order",
        &with(r#"{"ramp": {"from": "10s", "to": "5s", "factor": 2}}"#),
        "workload.clients.load.ramp.to",
        &["not after from"],
    );
    rejects(
        "load-amplitude",
        &with(r#"{"diurnal": {"period": "60s", "amplitude": 1.5}}"#),
        "workload.clients.load.diurnal.amplitude",
        &["1.5 is out of range"],
    );
    rejects(
        "load-piecewise-order",
        &with(r#"{"piecewise": [{"at": "5s", "factor": 2}, {"at": "5s", "factor": 1}]}"#),
        "workload.clients.load.piecewise[1].at",
        &["time order"],
    );
    rejects(
        "load-piecewise-empty",
        &with(r#"{"piecewise": []}"#),
        "workload.clients.load.piecewise",
        &["an empty list"],
    );
    let many: Vec<String> = (0..1001)
        .map(|i| format!(r#"{{"at": "{i}ms", "factor": 1}}"#))
        .collect();
    rejects(
        "load-piecewise-many",
        &with(&format!(r#"{{"piecewise": [{}]}}"#, many.join(","))),
        "workload.clients.load.piecewise",
        &["1001 points exceed the limit of 1000"],
    );
    rejects(
        "load-unknown-key",
        &with(r#"{"spike": {"at": "10s", "for": "5s", "factor": 2, "fro": 1}}"#),
        "workload.clients.load.spike.fro",
        &["unknown field"],
    );
    rejects(
        "load-closed-loop",
        &edit(
            arrival,
            r#""arrival": {"closed_loop": {"think_time": {"constant": "1s"}}}, "load": {"step": {"at": "1s", "factor": 2}},"#,
        ),
        "workload.clients.load",
        &["open-loop rate"],
    );
    // The event estimate counts the run at the profile's peak.
    rejects(
        "load-estimate",
        &with(r#"{"step": {"at": "100s", "factor": 1000}}"#),
        "workload",
        &["events", "over the limit"],
    );
}
