//! Recovered or metastable on real runs: the verdict per fault, the `metastable` and
//! `recovery_ms` figures, and the `recovers_within` check.

mod common;

use common::{base_scenario, bundled, run_record};
use faultline_reports::figures;
use faultline_reports::record::RunRecord;
use faultline_reports::stats::{self, verdict::FaultVerdict, Recovery};
use serde_json::{json, Value};

/// `retry-storm.json` cut to 45 s, its slowdown at 10 s for 8 s, checked for a recovery
/// within 10 s.
fn storm() -> Value {
    let text = std::fs::read_to_string(bundled("retry-storm.json")).expect("bundled");
    let mut scenario: Value = serde_json::from_str(&text).expect("JSON");
    scenario["duration"] = json!("45s");
    scenario["faults"][0]["at"] = json!("10s");
    scenario["faults"][0]["for"] = json!("8s");
    scenario["checks"] = json!([{ "recovers_within": "10s" }]);
    scenario
}

fn verdicts(record: &RunRecord) -> Vec<FaultVerdict> {
    let run = stats::compute(record);
    run.faults
        .listed
        .iter()
        .map(|row| row.verdict.expect("an rpc run with warm-up has verdicts"))
        .collect()
}

fn figure(record: &RunRecord, name: &str) -> Option<f64> {
    figures::value(&record.summary.figures, name)
}

#[test]
fn a_retry_storm_is_metastable_and_fails_recovers_within() {
    let record = run_record(&storm());
    let [FaultVerdict::Metastable {
        judged_from: 1,
        decided_s,
        ..
    }] = verdicts(&record)[..]
    else {
        panic!("{:?}", verdicts(&record));
    };
    // 10 windows outside after the trigger's end at 18 s.
    assert!((28.0..=30.0).contains(&decided_s), "{decided_s}");
    assert_eq!(figure(&record, "metastable"), Some(1.0));
    assert_eq!(figure(&record, "recovery_ms"), None);
    let check = &record.summary.checks[0];
    assert_eq!(check.name, "recovers_within 10s");
    assert!(!check.passed, "{check:?}");
    assert!(check.detail.contains("recovery_ms"), "{}", check.detail);
}

#[test]
fn the_same_storm_with_a_retry_budget_recovers_and_passes() {
    let mut scenario = storm();
    scenario["workload"]["clients"]["retry"]["budget"] =
        json!({ "ratio": { "ttl": "10s", "min_per_s": 0, "retry_ratio": 0.1 } });
    let record = run_record(&scenario);
    let [FaultVerdict::Recovered {
        recovery_s,
        judged_from: 1,
    }] = verdicts(&record)[..]
    else {
        panic!("{:?}", verdicts(&record));
    };
    assert!((0.0..10.0).contains(&recovery_s), "{recovery_s}");
    assert_eq!(figure(&record, "metastable"), Some(0.0));
    assert_eq!(figure(&record, "recovery_ms"), Some(recovery_s * 1e3));
    assert!(
        record.summary.checks[0].passed,
        "{:?}",
        record.summary.checks
    );
    // The bound is read: one shorter than the recovery fails.
    scenario["checks"] = json!([{ "recovers_within": format!("{}ms", recovery_s * 1e3 - 500.0) }]);
    let record = run_record(&scenario);
    assert!(
        !record.summary.checks[0].passed,
        "{:?}",
        record.summary.checks
    );
}

/// The case: a 2 s restart inside a 10 s partition. Availability-based MTTR
/// counts the crash's recovery from its own end, through the rest of the partition; the
/// verdict counts it from the partition's end.
#[test]
fn a_fault_inside_a_longer_one_is_judged_from_the_longer_ones_end() {
    let mut scenario = base_scenario();
    scenario["workload"]["servers"]["count"] = json!(2);
    scenario["faults"] = json!([
        { "at": "5s", "for": "8s", "partition": { "isolate": "server-0" } },
        { "at": "6s", "crash": "server-1", "restart_after": "2s" },
    ]);
    let record = run_record(&scenario);
    let judged = verdicts(&record);
    let [FaultVerdict::Recovered {
        recovery_s,
        judged_from: 1,
    }, crash] = judged[..]
    else {
        panic!("{judged:?}");
    };
    assert_eq!(crash, judged[0], "one episode, one verdict");
    assert!(recovery_s <= 2.0, "{recovery_s}");
    assert_eq!(
        crash.describe(2),
        format!("recovered {recovery_s:.2} s after fault 1 ended")
    );
    let run = stats::compute(&record);
    let mttr = run.faults.listed[1].recovery.and_then(|r| r.mttr_s());
    assert!(
        mttr.is_some_and(|m| m >= 5.0),
        "the old MTTR runs through the partition: {:?}",
        run.faults.listed[1].recovery
    );
    assert!(!matches!(
        run.faults.listed[0].recovery,
        Some(Recovery::NotRecovered)
    ));
}

#[test]
fn no_verdict_without_warm_up() {
    let mut scenario = base_scenario();
    scenario["faults"] = json!([{ "at": "1s", "crash": "server-0", "restart_after": "2s" }]);
    let record = run_record(&scenario);
    let run = stats::compute(&record);
    assert!(run.rpc.as_ref().is_some_and(|r| r.verdicts.is_none()));
    assert_eq!(figure(&record, "metastable"), None);
}

/// The report page and the summary table say it, per fault and for the run.
#[test]
fn the_report_shows_the_verdict_per_fault() {
    let mut scenario = storm();
    let stuck = run_record(&scenario);
    scenario["workload"]["clients"]["retry"]["max_attempts"] = json!(1);
    let recovers = run_record(&scenario);
    for (record, verdict, row) in [
        (&stuck, "metastable", "metastable (fault 1)"),
        (
            &recovers,
            "recovered in 4.00 s",
            "recovered in 4.00 s (fault 1)",
        ),
    ] {
        let dir = common::temp_dir(&format!("verdict-report-{}", verdict.len()));
        faultline_reports::write_run_report(&dir, record).expect("report written");
        let md = std::fs::read_to_string(dir.join("report.md")).expect("report.md");
        let faults = md
            .lines()
            .find(|line| line.starts_with("|   1 | slowdown"))
            .expect("a fault row");
        assert!(
            faults.trim_end().ends_with(&format!("| {verdict} |")),
            "{faults}"
        );
        let html = std::fs::read_to_string(dir.join("report.html")).expect("report.html");
        assert!(html.contains("recovered or metastable"), "a card");
        let summary = faultline_reports::summary_table(record);
        let line = summary
            .lines()
            .find(|line| line.starts_with("recovered or metastable"))
            .expect("a summary row");
        assert!(line.contains(row), "{line}");
    }
}

/// Offered requests per window of `scenario` with `load` set.
fn offered_with(load: Value) -> Vec<u64> {
    let mut scenario = base_scenario();
    scenario["workload"]["clients"]["load"] = load;
    run_record(&scenario)
        .timeline
        .iter()
        .map(|row| row.offered)
        .collect()
}

#[test]
fn load_profiles_shape_the_offered_load() {
    // 100 clients at 10/s: 1,000 requests a window without a profile.
    let spike = offered_with(json!({ "spike": { "at": "5s", "for": "5s", "factor": 3 } }));
    let mean = |windows: &[u64]| windows.iter().sum::<u64>() as f64 / windows.len() as f64;
    let (before, during, after) = (mean(&spike[..5]), mean(&spike[5..10]), mean(&spike[10..]));
    assert!(
        (900.0..1100.0).contains(&before) && (900.0..1100.0).contains(&after),
        "{spike:?}"
    );
    assert!((2.8..3.2).contains(&(during / before)), "{spike:?}");
    let paused = offered_with(json!({ "piecewise": [
        { "at": "4s", "factor": 0 }, { "at": "8s", "factor": 0.5 }, { "at": "12s", "factor": 1 }
    ] }));
    assert!(paused[4..8].iter().all(|n| *n == 0), "{paused:?}");
    assert!((400.0..600.0).contains(&mean(&paused[8..12])), "{paused:?}");
    let ramp = offered_with(json!({ "ramp": { "from": "0s", "to": "20s", "factor": 3 } }));
    assert!(ramp[0] < 1300 && ramp[19] > 2700, "{ramp:?}");
    let diurnal = offered_with(json!({ "diurnal": { "period": "20s", "amplitude": 0.5 } }));
    assert!(
        mean(&diurnal[3..7]) > 1300.0 && mean(&diurnal[13..17]) < 700.0,
        "{diurnal:?}"
    );
}

/// A spike is a trigger: listed with the faults, shaded, and judged.
#[test]
fn a_spike_is_judged_like_a_fault() {
    let record = run_record(
        &serde_json::from_str::<Value>(
            &std::fs::read_to_string(bundled("spike-metastable.json")).expect("bundled"),
        )
        .expect("JSON"),
    );
    let faults = &record.summary.faults;
    assert_eq!(faults.len(), 1);
    assert_eq!(
        (faults[0].kind.as_str(), faults[0].target.as_str()),
        ("load", "spike clients x2")
    );
    assert_eq!((faults[0].start_s, faults[0].end_s), (10.0, Some(15.0)));
    assert_eq!(record.timeline[12].faults_active, "load:spike clients x2");
    assert!(matches!(
        verdicts(&record)[..],
        [FaultVerdict::Metastable { .. }]
    ));
    let budget = run_record(
        &serde_json::from_str::<Value>(
            &std::fs::read_to_string(bundled("spike-budget.json")).expect("bundled"),
        )
        .expect("JSON"),
    );
    assert!(
        matches!(verdicts(&budget)[..], [FaultVerdict::Recovered { recovery_s, .. }] if recovery_s == 4.0)
    );
}

/// `shrink --check recovers_within` keeps a metastable run failing, and has nothing to
/// do on the cured one.
#[test]
fn shrink_keeps_recovers_within_failing() {
    let shrink = |name: &str, out: &std::path::Path| {
        std::process::Command::new(env!("CARGO_BIN_EXE_faultline"))
            .args(["shrink", bundled(name).to_str().unwrap(), "--seed", "42"])
            .args(["--check", "recovers_within", "--max-runs", "3", "--out"])
            .arg(out)
            .output()
            .expect("run faultline")
    };
    let dir = common::temp_dir("shrink-recovers");
    let out = dir.join("minimal.json");
    let stuck = shrink("spike-metastable.json", &out);
    let stdout = String::from_utf8_lossy(&stuck.stdout);
    assert_eq!(stuck.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("keeping check recovers_within 10s failing"),
        "{stdout}"
    );
    assert!(
        stdout.contains("the minimal scenario fails check recovers_within 10s"),
        "{stdout}"
    );
    assert!(out.is_file());
    let cured = shrink("spike-budget.json", &dir.join("cured.json"));
    let stdout = String::from_utf8_lossy(&cured.stdout);
    assert_eq!(cured.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("passes every check"), "{stdout}");
}
