//! A kind written outside the crate (the ping kind of `tests/ping`), registered, through
//! every command of a user's own binary: `faultline::cli::run_with` is what its `main`
//! runs (`main_with`), called here in-process with the argument list.

use std::path::{Path, PathBuf};

use faultline::cli::{run_with, Kinds};
use faultline::scenario;
use faultline::workload::{self, register};
use serde_json::{json, Value};

mod common;
mod ping;

use ping::PingKind;

/// The program name the reproduce lines must carry.
const PROGRAM: &str = "ping-sim";

fn kinds() -> Kinds {
    Kinds::new().with::<PingKind>()
}

/// Runs one command line of the user's binary; its exit code.
fn cli(args: &[&str]) -> u8 {
    let line = std::iter::once(PROGRAM).chain(args.iter().copied());
    run_with(&kinds(), line)
}

/// A ping every 100 ms, cut off for 2 s, crashed for 1 s and briefly again: 69 to 70 of
/// 101 pings are answered, under a bound of `answered` (0.7 fails every seed, 0.5
/// passes).
fn scenario_value(answered: f64) -> Value {
    json!({
        "name": "ping-partition",
        "seed": 3,
        "duration": "10s",
        "network": { "latency": { "uniform": ["2ms", "4ms"] } },
        "workload": { "kind": "ping", "every_ms": 100 },
        "faults": [
            { "at": "2s", "for": "2s", "partition": [["pinger-*"], ["ponger-*"]] },
            { "at": "6s", "crash": "ponger-0", "restart_after": "1s" },
            { "at": "8550ms", "crash": "ponger-0", "restart_after": "100ms" }
        ],
        "metrics": { "window": "1s" },
        "checks": [ { "answered_at_least": answered } ]
    })
}

fn write(dir: &Path, name: &str, value: &Value) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, serde_json::to_string_pretty(value).unwrap()).unwrap();
    path
}

fn read_json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap_or_else(|err| {
        panic!("{}: {err}", path.display());
    }))
    .unwrap()
}

fn s(path: &Path) -> &str {
    path.to_str().unwrap()
}

#[test]
fn a_registered_kind_runs_from_its_scenario_file_with_its_checks() {
    let dir = common::temp_dir("own-kind-run");
    let passing = write(&dir, "pass.json", &scenario_value(0.5));
    let failing = write(&dir, "fail.json", &scenario_value(0.7));
    assert_eq!(cli(&["validate", s(&passing), s(&failing)]), 0);
    let out = dir.join("pass-run");
    assert_eq!(cli(&["run", s(&passing), "--out", s(&out), "--trace"]), 0);
    let summary = read_json(&out.join("summary.json"));
    assert_eq!(summary["workload"], "ping");
    assert_eq!(summary["ping"]["sent"], 101);
    assert_eq!(summary["ping"]["lost"], 20);
    assert!(out.join("report.md").exists());
    // Its own trace kinds are known to `trace --kind`; another kind's are refused.
    let trace = out.join("trace.jsonl");
    assert_eq!(cli(&["trace", s(&trace), "--kind", "answered"]), 0);
    assert_eq!(cli(&["trace", s(&trace), "--kind", "transfer_sent"]), 2);

    let out = dir.join("fail-run");
    assert_eq!(cli(&["run", s(&failing), "--out", s(&out)]), 1);
    let summary = read_json(&out.join("summary.json"));
    let check = &summary["checks"][0];
    assert_eq!(check["name"], "answered_at_least 0.7");
    assert_eq!(check["passed"], false);
    // The reproduce line names the user's binary.
    let reproduce = summary["reproduce"].as_str().unwrap();
    assert!(
        reproduce.starts_with(&format!("{PROGRAM} run ")) && reproduce.ends_with("--seed 3"),
        "{reproduce}"
    );
    // The report is rebuilt from the records alone.
    std::fs::remove_file(out.join("report.md")).unwrap();
    assert_eq!(cli(&["report", s(&out)]), 1);
    assert!(out.join("report.md").exists());
}

#[test]
fn a_registered_kinds_section_is_validated_like_a_built_in_one() {
    register::<PingKind>().unwrap();
    let dir = common::temp_dir("own-kind-validate");
    let mut value = scenario_value(0.5);
    value["workload"]["every_msec"] = json!(100);
    let bad_key = write(&dir, "bad-key.json", &value);
    assert_eq!(cli(&["validate", s(&bad_key)]), 2);
    // The message `validate` prints: file, line:column, field path.
    let err = scenario::load(&bad_key, &scenario::Options::default())
        .unwrap_err()
        .to_string();
    let text = std::fs::read_to_string(&bad_key).unwrap();
    let line = text
        .lines()
        .position(|line| line.contains("every_msec"))
        .unwrap()
        + 1;
    assert!(
        err.starts_with(&format!("{}:{line}:", bad_key.display())),
        "{err}"
    );
    assert!(err.contains("workload.every_msec"), "{err}");
    assert!(err.contains("unknown field"), "{err}");
    // Its number limits, in the message of a number its type cannot hold.
    for (every_ms, message) in [
        (
            "-5",
            "-5 is not allowed: write a whole number from 1 to 3600000",
        ),
        ("1e30", "1e30 exceeds the limit of 3600000 ms"),
    ] {
        let text = serde_json::to_string_pretty(&scenario_value(0.5))
            .unwrap()
            .replace("\"every_ms\": 100", &format!("\"every_ms\": {every_ms}"));
        let err = scenario::load_text(&text, "limits.json", &scenario::Options::default())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(&format!("workload.every_ms: {message}")),
            "{err}"
        );
    }
    // Its resolve step's rules, with their path; its checks by name.
    let mut value = scenario_value(0.5);
    value["workload"]["every_ms"] = json!(0);
    let zero = write(&dir, "zero.json", &value);
    assert_eq!(cli(&["validate", s(&zero)]), 2);
    let err = scenario::load(&zero, &scenario::Options::default())
        .unwrap_err()
        .to_string();
    assert!(err.contains("workload.every_ms"), "{err}");
    let mut value = scenario_value(0.5);
    value["checks"] = json!([{ "availability_at_least": 0.9 }]);
    let foreign = write(&dir, "foreign-check.json", &value);
    assert_eq!(cli(&["validate", s(&foreign)]), 2);
    let err = scenario::load(&foreign, &scenario::Options::default())
        .unwrap_err()
        .to_string();
    assert!(err.contains("answered_at_least"), "{err}");
    // A kind nobody registered is refused with the kinds that are.
    let mut value = scenario_value(0.5);
    value["workload"]["kind"] = json!("pong");
    let unknown = write(&dir, "unknown.json", &value);
    let err = scenario::load(&unknown, &scenario::Options::default())
        .unwrap_err()
        .to_string();
    assert!(err.contains("\"ping\"") && err.contains("\"rpc\""), "{err}");
}

#[test]
fn a_registered_kind_is_swept_in_shards_merged_compared_and_shrunk() {
    let dir = common::temp_dir("own-kind-sweep");
    let failing = write(&dir, "fail.json", &scenario_value(0.7));
    // Every seed fails the check: exit 1, each with its reproduce line.
    let whole = dir.join("sweep");
    let args = ["sweep", s(&failing), "--seeds", "1..5", "--jobs", "2"];
    assert_eq!(cli(&[&args[..], &["--out", s(&whole)]].concat()), 1);
    let file = read_json(&whole.join("sweep.json"));
    assert_eq!(file["workload"], "ping");
    assert_eq!(file["runs"].as_array().unwrap().len(), 4);
    let reproduce = file["runs"][0]["reproduce"].as_str().unwrap();
    assert!(reproduce.starts_with(PROGRAM), "{reproduce}");
    for index in 0..2 {
        let shard = format!("{index}/2");
        let out = dir.join("shards").join(format!("shard-{index}"));
        assert_eq!(
            cli(&[&args[..], &["--shard", &shard, "--out", s(&out)]].concat()),
            1
        );
    }
    let (a, b) = (dir.join("shards/shard-0"), dir.join("shards/shard-1"));
    assert_eq!(cli(&["report", s(&a), s(&b)]), 1);
    let merged = read_json(&dir.join("shards/sweep.json"));
    assert_eq!(merged["totals"], file["totals"]);

    // `--vary` on its own key.
    let compared = dir.join("compare");
    let code = cli(&[
        "compare",
        s(&failing),
        "--vary",
        "workload.every_ms=100,250",
        "--out",
        s(&compared),
    ]);
    assert_eq!(code, 1, "the 100 ms variant fails its check");
    let page = std::fs::read_to_string(compared.join("compare.md")).unwrap();
    assert!(page.contains("pings answered"), "{page}");

    // Shrunk to the faults its check needs: the partition and the long crash.
    let minimal = dir.join("min.json");
    let code = cli(&[
        "shrink",
        s(&failing),
        "--check",
        "answered_at_least",
        "--out",
        s(&minimal),
    ]);
    assert_eq!(code, 1);
    let shrunk = read_json(&minimal);
    assert_eq!(shrunk["workload"]["kind"], "ping");
    let faults = shrunk["faults"].as_array().unwrap();
    assert!(faults.len() < 3, "{faults:?}");
    assert_eq!(
        cli(&["run", s(&minimal), "--out", s(&dir.join("replay"))]),
        1
    );
}

#[test]
fn registering_is_idempotent_and_a_taken_name_is_refused() {
    register::<PingKind>().unwrap();
    register::<PingKind>().unwrap();
    assert!(workload::kinds().contains(&"ping"));
    assert_eq!(
        workload::kinds().iter().filter(|k| **k == "ping").count(),
        1
    );
    struct Impostor;
    impl workload::Kind for Impostor {
        const NAME: &'static str = "ping";
        type Spec = ping::PingSpec;
        type World = ping::Ping;
        const CHECKS: &'static [faultline::format::check::CheckSpec] = &[];
        const NUMBER_LIMITS: &'static [workload::NumberLimit] = &[];
        const FIGURES: &'static [faultline_reports::figures::FigureSpec] = &[];
        const SERIES: &'static [faultline_reports::figures::SeriesSpec] = &[];
        const TRACE_KINDS: &'static [&'static str] = &[];
        fn resolve(
            spec: &ping::PingSpec,
            scenario: &workload::Context<'_>,
        ) -> Result<workload::Resolution<ping::PingConfig>, faultline::format::Issue> {
            <PingKind as workload::Kind>::resolve(spec, scenario)
        }
        fn record(
            run: &faultline::format::RunInfo,
            config: &ping::PingConfig,
            finished: &faultline::engine::driver::Finished<ping::Ping>,
            invocation: &faultline::record::Invocation,
        ) -> faultline_reports::record::RunRecord {
            <PingKind as workload::Kind>::record(run, config, finished, invocation)
        }
        fn figures(_: &faultline_reports::record::RunRecord) -> Vec<Option<f64>> {
            Vec::new()
        }
        fn series(
            _: &faultline_reports::record::RunRecord,
        ) -> faultline_reports::figures::SeriesTable {
            faultline_reports::figures::SeriesTable::default()
        }
        fn tables(
            _: &faultline_reports::record::RunRecord,
        ) -> Vec<faultline_reports::figures::RecordTable> {
            Vec::new()
        }
    }
    let err = register::<Impostor>().unwrap_err();
    assert!(err.contains("\"ping\""), "{err}");
    // A binary that registers a taken name exits 2 before doing anything.
    let code = run_with(
        &Kinds::new().with::<Impostor>(),
        ["x", "validate", "none.json"],
    );
    assert_eq!(code, 2);
}

#[test]
fn the_schema_offers_a_registered_kind_and_its_checks() {
    register::<PingKind>().unwrap();
    let schema = scenario::schema_json();
    assert!(schema.contains("\"const\": \"ping\""), "no ping kind");
    assert!(schema.contains("every_ms"));
    assert!(schema.contains("answered_at_least"));
}

/// [`scenario_value`] with a bound of 0.69 and its last crash cut to 5 ms around the
/// ping of 8.6 s: that ping is lost, and the check fails, only at the seeds whose
/// latency draw brings it to the ponger while it is down.
fn flaky_value() -> Value {
    let mut value = scenario_value(0.69);
    value["faults"][2] = json!({ "at": "8598ms", "crash": "ponger-0", "restart_after": "5ms" });
    value
}

#[test]
fn check_seeds_passes_when_every_seed_passes() {
    let dir = common::temp_dir("own-kind-check-seeds-pass");
    let passing = write(&dir, "pass.json", &scenario_value(0.5));
    faultline::testing::check_seeds::<PingKind>(&passing, 1..6);
    assert_eq!(faultline::testing::try_check_seeds(&passing, 1..6), Ok(5));
}

#[test]
fn check_seeds_panics_with_the_failing_seed_its_check_and_its_replay() {
    faultline::testing::set_program(PROGRAM);
    let dir = common::temp_dir("own-kind-check-seeds-fail");
    let flaky = write(&dir, "flaky.json", &flaky_value());
    let panic = std::panic::catch_unwind(|| {
        faultline::testing::check_seeds::<PingKind>(&flaky, 1..60);
    })
    .expect_err("some seed loses the ping of 8.6 s");
    let text = panic.downcast_ref::<String>().expect("a message");
    let seed: u64 = text
        .strip_prefix("seed ")
        .and_then(|rest| rest.split(' ').next())
        .and_then(|seed| seed.parse().ok())
        .unwrap_or_else(|| panic!("no seed in {text}"));
    // The first failing seed: the ones before it pass, it fails alone.
    assert!(seed > 1, "seed 1 passes: {text}");
    assert_eq!(
        faultline::testing::try_check_seeds(&flaky, 1..seed),
        Ok(seed - 1)
    );
    let failure = faultline::testing::try_check_seeds(&flaky, [seed]).unwrap_err();
    assert_eq!(failure.to_string(), *text);
    assert!(
        text.contains("check answered_at_least 0.69: 68.3% answered vs at least 69.0%"),
        "{text}"
    );
    assert!(text.contains("(figure answered = 0.683"), "{text}");
    assert!(text.contains(", threshold 0.69)"), "{text}");
    let replay = format!(
        "replay it with:\n  {PROGRAM} run {} --seed {seed}",
        flaky.display()
    );
    assert!(text.ends_with(&replay), "{text}");
    // The replay line fails the same check.
    let out = dir.join("replay");
    let seed = seed.to_string();
    assert_eq!(
        cli(&["run", s(&flaky), "--seed", &seed, "--out", s(&out)]),
        1
    );
    let summary = read_json(&out.join("summary.json"));
    assert_eq!(summary["checks"][0]["passed"], false);
}

#[test]
fn check_seeds_panics_on_a_scenario_that_does_not_load() {
    let dir = common::temp_dir("own-kind-check-seeds-bad");
    let mut value = scenario_value(0.5);
    value["workload"]["every_ms"] = json!(0);
    let bad = write(&dir, "bad.json", &value);
    let failure = {
        register::<PingKind>().unwrap();
        faultline::testing::try_check_seeds(&bad, 1..3).unwrap_err()
    };
    assert_eq!(failure.seed, None);
    let text = failure.to_string();
    assert!(text.contains("workload.every_ms"), "{text}");
}

#[test]
fn the_rust_api_runs_sweeps_and_shrinks_a_registered_kind_as_the_cli_does() {
    use faultline::Sim;
    register::<PingKind>().unwrap();
    faultline::testing::set_program(PROGRAM);
    let dir = common::temp_dir("own-kind-sim");
    let bad = {
        let mut value = scenario_value(0.7);
        value["workload"]["every_msec"] = json!(100);
        value
    };
    let err = Sim::from_value(&bad, dir.join("bad.json")).unwrap_err();
    assert_eq!(err.code, 2);
    assert!(err.message.contains("workload.every_msec"), "{err}");
    let path = dir.join("fail.json");
    let sim = Sim::from_value(&scenario_value(0.7), &path)
        .unwrap()
        .out(dir.join("out"));
    // Another scenario is not written over the file.
    assert_eq!(
        Sim::from_value(&scenario_value(0.5), &path)
            .unwrap_err()
            .code,
        2
    );
    let run = sim.run(4).unwrap();
    assert!(!run.passed);
    assert_eq!(run.record.summary.workload, "ping");
    assert_eq!(run.record.summary.checks[0].name, "answered_at_least 0.7");
    assert_eq!(
        run.reproduce,
        format!("{PROGRAM} run {} --seed 4", path.display())
    );
    assert!(run.dir.join("report.md").exists());
    let sweep = sim.sweep(1..4).unwrap();
    assert!(!sweep.passed);
    assert_eq!(sweep.file.runs.len(), 3);
    assert_eq!(
        sweep.first_failure(),
        Some(format!("{PROGRAM} run {} --seed 1", path.display()).as_str())
    );
    let shrunk = sim.shrink(4).unwrap().expect("seed 4 fails");
    assert!(shrunk.scenario["faults"].as_array().unwrap().len() < 3);
    assert!(
        shrunk.reproduce.ends_with("min.json --seed 4"),
        "{}",
        shrunk.reproduce
    );
    // The passing variant: nothing to shrink.
    let passing = Sim::from_value(&scenario_value(0.5), dir.join("pass.json"))
        .unwrap()
        .out(dir.join("out-pass"));
    assert!(passing.run(4).unwrap().passed);
    assert!(passing.shrink(4).unwrap().is_none());
}

#[test]
fn the_error_docs_your_own_code_shows_is_the_one_validate_prints() {
    register::<PingKind>().unwrap();
    let page = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/your-own-code.md"),
    )
    .unwrap();
    // The page's scenario, with the key misspelt.
    let start = page
        .find("```text\n{\n  \"name\": \"ping-partition\"")
        .unwrap()
        + 8;
    let text = &page[start..start + page[start..].find("```").unwrap()];
    let text = text.replace("\"every_ms\"", "\"every_msec\"");
    let err = scenario::load_text(&text, "ping.json", &scenario::Options::default())
        .unwrap_err()
        .to_string();
    assert!(page.contains(&format!("error: {err}\n")), "{err}");
    // And without the misspelling it loads.
    let fixed = text.replace("\"every_msec\"", "\"every_ms\"");
    scenario::load_text(&fixed, "ping.json", &scenario::Options::default()).unwrap();
}
