//! Sweeps, shards, swarm draws, shrinking and divergence diagnostics, end to end through
//! the real binary, on the small scenarios of `tests/sweeps/` (a run takes tens of
//! milliseconds there).

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::{expect_exit, temp_dir, BATCH_ENGINE_VARS};
use serde_json::Value;

fn scenario(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("sweeps")
        .join(name)
}

fn faultline(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_faultline"));
    command.args(args);
    for name in BATCH_ENGINE_VARS {
        command.env_remove(name);
    }
    command.envs(env.iter().copied());
    command.output().expect("faultline runs")
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|err| panic!("{}: {err}", path.display()))
}

fn json(path: &Path) -> Value {
    serde_json::from_str(&read(path)).unwrap_or_else(|err| panic!("{}: {err}", path.display()))
}

fn sweep(file: &str, seeds: &str, out: &Path, extra: &[&str], env: &[(&str, &str)]) -> Output {
    let path = scenario(file);
    let mut args = vec![
        "sweep",
        path.to_str().unwrap(),
        "--seeds",
        seeds,
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    faultline(&args, env)
}

/// The trace hash a `faultline run` of `args` records.
fn run_hash(args: &[&str], out: &Path) -> String {
    let mut all: Vec<&str> = args.to_vec();
    all.extend(["--out", out.to_str().unwrap()]);
    faultline(&all, &[]);
    json(&out.join("summary.json"))["trace_hash"]
        .as_str()
        .expect("a trace hash")
        .to_owned()
}

#[test]
fn jobs_do_not_change_sweep_json_and_the_last_line_reproduces_the_first_failure() {
    let dir = temp_dir("sweep-jobs");
    let (one, two) = (dir.join("jobs-1"), dir.join("jobs-2"));
    let first = sweep("swarm-small.json", "1..13", &one, &["--jobs", "1"], &[]);
    let second = sweep("swarm-small.json", "1..13", &two, &["--jobs", "2"], &[]);
    // Some seeds of this swarm fail the SLO and some pass, so the exit code is 1.
    let stdout = expect_exit(&second, 1);
    expect_exit(&first, 1);
    assert_eq!(
        read(&one.join("sweep.json")),
        read(&two.join("sweep.json")),
        "sweep.json depends on --jobs"
    );
    let file = json(&two.join("sweep.json"));
    let runs = file["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 12);
    let seeds: Vec<u64> = runs
        .iter()
        .map(|run| run["seed"].as_u64().unwrap())
        .collect();
    assert_eq!(seeds, (1..13).collect::<Vec<_>>());
    let failed: Vec<&Value> = runs.iter().filter(|run| run["passed"] == false).collect();
    let passed = runs.len() - failed.len();
    assert!(!failed.is_empty() && passed > 0, "{passed} of 12 passed");
    assert_eq!(file["totals"]["failed"], failed.len());
    // Wall time lives in timing.json only.
    assert!(!read(&two.join("sweep.json")).contains("wall"));
    assert_eq!(
        json(&two.join("timing.json"))["runs"]
            .as_array()
            .unwrap()
            .len(),
        12
    );
    // Full records for the failed seeds only.
    for run in runs {
        let records = two
            .join("runs")
            .join(format!("seed-{}", run["seed"]))
            .join("summary.json");
        assert_eq!(records.is_file(), run["passed"] == false, "{records:?}");
    }
    for name in [
        "sweep.md",
        "sweep.html",
        "availability-hist.svg",
        "p99_latency_ms-hist.svg",
    ] {
        assert!(two.join(name).is_file(), "{name} missing");
    }
    let md = read(&two.join("sweep.md"));
    assert!(
        md.contains("| availability | % | mean ") && md.contains("## Failed seeds"),
        "{md}"
    );
    // The last line replays the first failure: the same trace hash as in sweep.json.
    let last = stdout.lines().last().unwrap();
    let first_failure = failed[0];
    assert_eq!(
        last,
        first_failure["reproduce"].as_str().unwrap(),
        "{stdout}"
    );
    let words: Vec<&str> = last.split_whitespace().collect();
    assert_eq!(&words[..2], ["faultline", "run"]);
    let replay = run_hash(&words[1..], &dir.join("replay"));
    assert_eq!(replay, first_failure["trace_hash"].as_str().unwrap());
}

#[test]
fn merged_shards_equal_the_unsharded_sweep_and_report_merges_them() {
    let dir = temp_dir("sweep-shards");
    let whole = dir.join("whole");
    expect_exit(
        &sweep("storm-small.json", "1..8", &whole, &["--jobs", "2"], &[]),
        1,
    );
    let shards = dir.join("shards");
    for index in 0..3 {
        let out = shards.join(format!("shard-{index}"));
        let shard = format!("{index}/3");
        expect_exit(
            &sweep("storm-small.json", "1..8", &out, &["--shard", &shard], &[]),
            1,
        );
        let part = json(&out.join("sweep.json"));
        assert_eq!(part["shard"]["index"], index);
        let seeds: Vec<u64> = part["runs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|run| run["seed"].as_u64().unwrap())
            .collect();
        assert_eq!(seeds, (1..8).skip(index).step_by(3).collect::<Vec<_>>());
    }
    // Given out of order; merged into the shards' common parent.
    let dirs: Vec<String> = [2, 0, 1]
        .iter()
        .map(|index| shards.join(format!("shard-{index}")).display().to_string())
        .collect();
    let mut args = vec!["report"];
    args.extend(dirs.iter().map(String::as_str));
    let stdout = expect_exit(&faultline(&args, &[]), 1);
    assert_eq!(
        read(&shards.join("sweep.json")),
        read(&whole.join("sweep.json")),
        "merged shards differ from the unsharded sweep"
    );
    assert!(
        stdout.lines().last().unwrap().starts_with("faultline run "),
        "{stdout}"
    );
    assert!(read(&shards.join("sweep.md")).contains("(shard-0/runs/seed-1/report.html)"));
    // A missing shard is an error that names it.
    let result = faultline(
        &[
            "report",
            &dirs[0],
            &dirs[1],
            "--out",
            dir.join("partial").to_str().unwrap(),
        ],
        &[],
    );
    expect_exit(&result, 2);
    assert!(String::from_utf8_lossy(&result.stderr).contains("shards missing: 1/3"));
}

#[test]
fn shard_indices_come_from_each_engines_variables() {
    let dir = temp_dir("sweep-env");
    // (name, environment, arguments, expected index, expected count)
    type Case<'a> = (&'a str, &'a [(&'a str, &'a str)], &'a [&'a str], u64, u64);
    let cases: [Case; 3] = [
        (
            "k8s",
            &[("JOB_COMPLETION_INDEX", "2")],
            &["--shards", "3"],
            2,
            3,
        ),
        (
            "slurm",
            &[
                ("SLURM_ARRAY_TASK_ID", "2"),
                ("SLURM_ARRAY_TASK_MIN", "1"),
                ("SLURM_ARRAY_TASK_COUNT", "2"),
            ],
            &[],
            1,
            2,
        ),
        (
            "explicit",
            &[("SLURM_ARRAY_TASK_ID", "0")],
            &["--shard", "0/4"],
            0,
            4,
        ),
    ];
    for (name, env, extra, index, count) in cases {
        let out = dir.join(name);
        let result = sweep("storm-small.json", "3..7", &out, extra, env);
        let stdout = expect_exit(&result, 1);
        let file = json(&out.join("sweep.json"));
        assert_eq!(file["shard"]["index"], index, "{name}: {stdout}");
        assert_eq!(file["shard"]["count"], count, "{name}");
        let first = file["runs"][0]["seed"].as_u64().unwrap();
        assert_eq!(first, 3 + index, "{name}");
    }
    let result = sweep(
        "storm-small.json",
        "3..7",
        &dir.join("no-count"),
        &[],
        &[("JOB_COMPLETION_INDEX", "1")],
    );
    expect_exit(&result, 2);
    assert!(String::from_utf8_lossy(&result.stderr).contains("--shards N"));
}

#[test]
fn a_swarm_run_replays_from_its_seed_and_from_its_resolved_file() {
    let dir = temp_dir("sweep-swarm");
    let path = scenario("swarm-small.json");
    let path = path.to_str().unwrap();
    let first = run_hash(&["run", path, "--seed", "5"], &dir.join("a"));
    let again = run_hash(&["run", path, "--seed", "5"], &dir.join("b"));
    assert_eq!(first, again);
    let resolved = dir.join("a").join("scenario.resolved.json");
    let explicit = json(&resolved);
    assert!(
        explicit.get("swarm").is_none(),
        "the resolved file has no swarm block"
    );
    assert_eq!(explicit["seed"], 5);
    let from_file = run_hash(&["run", resolved.to_str().unwrap()], &dir.join("c"));
    assert_eq!(from_file, first);
    // What was drawn is in the records, and differs between seeds.
    let drawn = json(&dir.join("a").join("swarm.json"));
    assert_eq!(drawn.as_array().unwrap().len(), 9);
    let other = run_hash(&["run", path, "--seed", "6"], &dir.join("d"));
    assert_ne!(other, first);
    assert_ne!(json(&dir.join("d").join("swarm.json")), drawn);
    assert_eq!(
        json(&dir.join("a").join("summary.json"))["scenario_spec"],
        explicit
    );
}

#[test]
fn shrink_ends_with_fewer_faults_that_still_fail_the_same_check() {
    let dir = temp_dir("sweep-shrink");
    let minimal = dir.join("min.json");
    let path = scenario("storm-small.json");
    let result = faultline(
        &[
            "shrink",
            path.to_str().unwrap(),
            "--seed",
            "2",
            "--out",
            minimal.to_str().unwrap(),
        ],
        &[],
    );
    let stdout = expect_exit(&result, 1);
    assert!(stdout.contains("removed faults["), "{stdout}");
    assert!(stdout.contains("cannot shrink further"), "{stdout}");
    let shrunk = json(&minimal);
    let before = json(&path)["faults"].as_array().unwrap().len();
    let after = shrunk["faults"].as_array().unwrap().len();
    assert!(after < before, "{after} faults of {before}");
    assert!(
        shrunk["faults"][0].get("slowdown").is_some(),
        "the trigger stays"
    );
    // The minimal scenario fails the same check when run on its own.
    let out = dir.join("replay");
    let replay = faultline(
        &[
            "run",
            minimal.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ],
        &[],
    );
    let replayed = expect_exit(&replay, 1);
    assert!(
        replayed.contains("check FAIL availability_at_least 0.95"),
        "{replayed}"
    );
    assert!(stdout
        .lines()
        .last()
        .unwrap()
        .contains(minimal.to_str().unwrap()));
}

#[test]
fn shrink_reduces_the_bundled_bank_no_fifo_to_its_cause() {
    // Without FIFO channels a snapshot's marker can overtake a transfer: the failure
    // needs no fault at all, and few accounts.
    let dir = temp_dir("sweep-shrink-bank");
    let minimal = dir.join("min.json");
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios")
        .join("bank-no-fifo.json");
    let result = faultline(
        &[
            "shrink",
            path.to_str().unwrap(),
            "--seed",
            "1",
            "--out",
            minimal.to_str().unwrap(),
        ],
        &[],
    );
    let stdout = expect_exit(&result, 1);
    assert!(stdout.contains("snapshot_conservation"), "{stdout}");
    let before = json(&path);
    let shrunk = json(&minimal);
    let faults_before = before["faults"].as_array().unwrap().len();
    let faults_after = shrunk["faults"].as_array().map_or(0, Vec::len);
    assert!(
        faults_before > 0 && faults_after < faults_before,
        "{stdout}"
    );
    let accounts = |tree: &Value| tree["workload"]["accounts"]["count"].as_u64().unwrap();
    assert!(accounts(&shrunk) < accounts(&before), "{stdout}");
    assert_eq!(
        shrunk["workload"]["channels"]["fifo"], false,
        "the cause stays"
    );
    // The minimal scenario lives elsewhere: its `$schema` names the same schema from
    // where it is (it said "schema.json", beside the bundled scenario).
    assert_eq!(before["$schema"], "schema.json");
    let schema = shrunk["$schema"]
        .as_str()
        .expect("the minimal scenario keeps a $schema");
    assert_ne!(
        schema, "schema.json",
        "made relative to the minimal scenario's directory"
    );
    assert_eq!(
        std::fs::canonicalize(dir.join(schema)).unwrap(),
        std::fs::canonicalize(path.parent().unwrap().join("schema.json")).unwrap()
    );
    let out = dir.join("replay");
    let replay = faultline(
        &[
            "run",
            minimal.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ],
        &[],
    );
    let replayed = expect_exit(&replay, 1);
    assert!(
        replayed.contains("check FAIL snapshot_conservation true"),
        "{replayed}"
    );
    // `--check` names the check by the figure it reads, as for any workload; a figure
    // no failed check reads is refused with the checks that fail and their figures.
    let by_figure = faultline(
        &[
            "shrink",
            path.to_str().unwrap(),
            "--seed",
            "1",
            "--check",
            "snapshot_conservation_violations",
            "--max-runs",
            "1",
            "--out",
            dir.join("by-figure.json").to_str().unwrap(),
        ],
        &[],
    );
    let stdout = expect_exit(&by_figure, 1);
    assert!(
        stdout.contains("keeping check snapshot_conservation true failing"),
        "{stdout}"
    );
    let other = faultline(
        &[
            "shrink",
            path.to_str().unwrap(),
            "--seed",
            "1",
            "--check",
            "money_lost_units",
            "--out",
            dir.join("other.json").to_str().unwrap(),
        ],
        &[],
    );
    expect_exit(&other, 2);
    let err = String::from_utf8_lossy(&other.stderr);
    assert!(
        err.contains("fails no check named \"money_lost_units\"")
            && err.contains("snapshot_conservation true (figure snapshot_conservation_violations)"),
        "{err}"
    );
}

#[test]
fn injected_nondeterminism_is_reported_with_its_first_divergent_record() {
    let dir = temp_dir("sweep-diverge");
    let path = scenario("storm-small.json");
    let result = faultline(
        &[
            "run",
            path.to_str().unwrap(),
            "--check-determinism",
            "--inject-divergence-at",
            "12s",
            "--out",
            dir.join("run").to_str().unwrap(),
        ],
        &[],
    );
    let stdout = expect_exit(&result, 1);
    assert!(stdout.contains("determinism  FAIL"), "{stdout}");
    let line = stdout
        .lines()
        .find(|line| line.starts_with("first divergent record: #"))
        .unwrap_or_else(|| panic!("no divergent record in:\n{stdout}"));
    // The injected fault starts at 12 s: that is where the runs part, and run 2's
    // record is the start of that fault, named.
    assert!(line.ends_with("at t = 12.000000000 s"), "{line}");
    let run2 = stdout
        .lines()
        .find(|l| l.trim_start().starts_with("run 2:"))
        .unwrap();
    assert!(
        run2.contains("\"ev\":\"fault\"")
            && run2.contains("\"phase\":\"start\",\"fault\":\"timing * -> *\""),
        "{run2}"
    );
    let run1 = stdout
        .lines()
        .find(|l| l.trim_start().starts_with("run 1:"))
        .unwrap();
    assert!(run1.contains("\"t_ns\":"), "{run1}");
    assert_ne!(run1.trim_start()[6..], run2.trim_start()[6..]);
    // Without the injection, the same check holds.
    let result = faultline(
        &[
            "run",
            path.to_str().unwrap(),
            "--check-determinism",
            "--out",
            dir.join("ok").to_str().unwrap(),
        ],
        &[],
    );
    let stdout = expect_exit(&result, 1);
    assert!(stdout.contains("determinism  ok"), "{stdout}");
}

#[test]
fn trace_prints_an_aligned_filtered_slice() {
    let dir = temp_dir("sweep-trace");
    let path = scenario("storm-small.json");
    let out = dir.join("run");
    faultline(
        &[
            "run",
            path.to_str().unwrap(),
            "--trace",
            "--out",
            out.to_str().unwrap(),
        ],
        &[],
    );
    let result = faultline(
        &[
            "trace",
            out.to_str().unwrap(),
            "--node",
            "client-7",
            "--from",
            "5s",
            "--to",
            "6s",
            "--kind",
            "send,timeout",
        ],
        &[],
    );
    let stdout = expect_exit(&result, 0);
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(
        lines[0].contains("t (s)") && lines[0].contains("nodes"),
        "{stdout}"
    );
    let rows = &lines[1..lines.len() - 1];
    assert!(!rows.is_empty(), "{stdout}");
    for row in rows {
        let t: f64 = row.split_whitespace().next().unwrap().parse().unwrap();
        assert!((5.0..=6.0).contains(&t), "{row}");
        assert!(row.contains("client-7"), "{row}");
        assert!(row.contains(" send ") || row.contains(" timeout "), "{row}");
        // Aligned: every row as wide up to its nodes column as the header says.
        assert_eq!(row.find("client-7"), lines[0].find("nodes"), "{stdout}");
    }
    assert!(
        lines.last().unwrap().contains("matching records shown"),
        "{stdout}"
    );
}

#[test]
fn expanded_random_faults_run_the_same_fault_actions() {
    // The shrinker's first step: the random processes, made explicit, replay the run.
    let resolved = faultline::scenario::load(
        &scenario("storm-small.json"),
        &faultline::scenario::Options::default(),
    )
    .unwrap();
    assert!(!resolved.plan.random_faults.is_empty());
    for seed in [1, 2, 3] {
        let explicit = faultline::sweep::shrink::expand_random(&resolved, seed).unwrap();
        assert!(!explicit.is_empty(), "seed {seed} drew no pause");
        let mut expanded = resolved.as_run().unwrap();
        expanded.faults.extend(explicit);
        expanded.random_faults.clear();
        let expanded = faultline::scenario::resolve::resolve(expanded).unwrap();
        let hash = |scenario: faultline::scenario::ResolvedScenario| {
            faultline::runner::run(std::sync::Arc::new(scenario), seed, None)
                .unwrap()
                .output
                .core()
                .trace_hash
                .clone()
        };
        assert_eq!(hash(resolved.clone()), hash(expanded), "seed {seed}");
    }
}

#[test]
fn every_run_of_a_sweep_records_its_own_seed_in_scenario_spec() {
    // storm-small has no swarm block, so the sweep resolves it once, at the file's seed
    // (1); each run's records must still name the seed it ran at.
    let dir = temp_dir("sweep-seed");
    let out = dir.join("out");
    let result = sweep("storm-small.json", "3..6", &out, &["--keep-runs"], &[]);
    assert!(
        matches!(result.status.code(), Some(0 | 1)),
        "{}",
        String::from_utf8_lossy(&result.stderr)
    );
    for seed in 3..6 {
        let summary = json(
            &out.join("runs")
                .join(format!("seed-{seed}"))
                .join("summary.json"),
        );
        assert_eq!(summary["seed"], seed);
        assert_eq!(summary["scenario_spec"]["seed"], seed, "seed {seed}");
    }
}

#[test]
fn set_values_and_keep_runs_are_recorded() {
    let dir = temp_dir("sweep-set");
    let out = dir.join("out");
    let result = sweep(
        "swarm-small.json",
        "1..4",
        &out,
        &["--set", "workload.servers.workers=64", "--keep-runs"],
        &[],
    );
    // 64 workers per server leave the storm no queue to build: every seed passes.
    expect_exit(&result, 0);
    let file = json(&out.join("sweep.json"));
    assert_eq!(
        file["set"],
        serde_json::json!(["workload.servers.workers=64"])
    );
    let resolved = json(
        &out.join("runs")
            .join("seed-1")
            .join("scenario.resolved.json"),
    );
    assert_eq!(resolved["workload"]["servers"]["workers"], 64);
    // With --keep-runs every seed left its records, passed or not.
    for seed in 1..4 {
        let run = out.join("runs").join(format!("seed-{seed}"));
        assert!(run.join("summary.json").is_file() && run.join("swarm.json").is_file());
    }
    let bad = sweep(
        "swarm-small.json",
        "1..4",
        &dir.join("bad"),
        &["--set", "faults.9.at=1s"],
        &[],
    );
    expect_exit(&bad, 2);
    assert!(String::from_utf8_lossy(&bad.stderr).contains("no item faults[9]"));
}

#[test]
fn shrink_says_which_bound_stopped_it() {
    let dir = temp_dir("sweep-shrink-bound");
    let path = scenario("storm-small.json");
    let result = faultline(
        &[
            "shrink",
            path.to_str().unwrap(),
            "--seed",
            "2",
            "--max-runs",
            "4",
            "--out",
            dir.join("min.json").to_str().unwrap(),
        ],
        &[],
    );
    let stdout = expect_exit(&result, 1);
    assert!(stdout.contains("the bound on runs was reached"), "{stdout}");
    assert!(stdout.contains("runs         4 of at most 4"), "{stdout}");
}

/// A bundled scenario (`scenarios/NAME`).
fn bundled(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios")
        .join(name)
}

/// The figures of a run's `summary.json`, by name (`null` for not measured).
fn run_figures(summary: &Value) -> Vec<(String, Value)> {
    summary["figures"]
        .as_array()
        .expect("summary.json has figures")
        .iter()
        .map(|figure| {
            (
                figure["name"].as_str().unwrap().to_owned(),
                figure["value"].clone(),
            )
        })
        .collect()
}

/// Runs `scenario` with `sets` at each of `seeds` through `faultline run` and checks that
/// the sweep's entry of every seed holds exactly the figures that run measured, with the
/// same values; returns the runs' figures by seed.
fn same_figures_as_runs(
    file: &Value,
    scenario: &Path,
    sets: &[&str],
    seeds: &[u64],
    dir: &Path,
) -> Vec<Vec<(String, Value)>> {
    let runs = file["runs"].as_array().unwrap();
    let declared: Vec<&str> = file["figures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|figure| figure["name"].as_str().unwrap())
        .collect();
    seeds
        .iter()
        .zip(runs)
        .map(|(seed, entry)| {
            assert_eq!(entry["seed"], *seed);
            let out = dir.join(format!("run-{seed}"));
            let seed_text = seed.to_string();
            let mut args = vec!["run", scenario.to_str().unwrap()];
            for set in sets {
                args.extend(["--set", set]);
            }
            args.extend(["--seed", &seed_text, "--out", out.to_str().unwrap()]);
            faultline(&args, &[]);
            let figures = run_figures(&json(&out.join("summary.json")));
            let names: Vec<&str> = figures.iter().map(|(name, _)| name.as_str()).collect();
            assert_eq!(names, declared, "the sweep declares the run's figures");
            for (name, value) in &figures {
                assert_eq!(
                    entry["figures"].get(name).unwrap_or(&Value::Null),
                    value,
                    "seed {seed}: {name} in sweep.json and in its run's summary.json"
                );
            }
            figures
        })
        .collect()
}

/// A figure's values over the runs (`None` where not measured).
fn values_of(runs: &[Vec<(String, Value)>], name: &str) -> Vec<Option<f64>> {
    runs.iter()
        .map(|figures| {
            figures
                .iter()
                .find(|(n, _)| n == name)
                .and_then(|(_, value)| value.as_f64())
        })
        .collect()
}

/// A figure's totals entry in sweep.json.
fn total<'a>(file: &'a Value, name: &str) -> &'a Value {
    file["totals"]["figures"]
        .as_array()
        .unwrap()
        .iter()
        .find(|total| total["name"] == name)
        .unwrap_or_else(|| panic!("no total for {name}"))
}

#[test]
fn a_bank_sweep_shows_the_banks_figures_with_the_values_of_its_runs() {
    let dir = temp_dir("sweep-bank");
    let out = dir.join("sweep");
    let path = bundled("bank-no-fsync.json");
    let set = "duration=25s";
    let result = faultline(
        &[
            "sweep",
            path.to_str().unwrap(),
            "--seeds",
            "0..3",
            "--set",
            set,
            "--out",
            out.to_str().unwrap(),
        ],
        &[],
    );
    // The unsynced log loses acknowledged transfers: the durability check fails.
    let stdout = expect_exit(&result, 1);
    let file = json(&out.join("sweep.json"));
    assert_eq!(file["format"], "faultline-sweep/2");
    assert_eq!(file["workload"], "bank");
    let runs = same_figures_as_runs(&file, &path, &[set], &[0, 1, 2], &dir);

    let values = |name: &str| -> Vec<f64> {
        values_of(&runs, name)
            .into_iter()
            .map(|v| v.unwrap_or_else(|| panic!("{name} measured at every seed")))
            .collect()
    };
    let lost = values("money_error_units");
    let acked = values("acked_transfers_lost");
    let durability = values("durability_violations");
    let hlc = values("max_hlc_offset_ms");
    assert!(durability.iter().all(|v| *v > 0.0), "{durability:?}");
    // Totals by each figure's rule, recomputed from the runs' own records.
    let sum = |values: &[f64]| values.iter().sum::<f64>();
    assert_eq!(total(&file, "money_error_units")["aggregate"], sum(&lost));
    // Made or lost, each seed's distance from the money at the start.
    for (error, signed) in lost.iter().zip(values("money_lost_units")) {
        assert_eq!(*error, signed.abs());
    }
    assert_eq!(
        total(&file, "acked_transfers_lost")["aggregate"],
        sum(&acked)
    );
    assert_eq!(total(&file, "durability_violations")["aggregate"], 1.0);
    assert_eq!(total(&file, "causality_violations")["aggregate"], 0.0);
    let hlc_max = hlc.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    assert_eq!(total(&file, "max_hlc_offset_ms")["aggregate"], hlc_max);
    assert_eq!(total(&file, "money_error_units")["spread"]["n"], 3);

    // The report: bank labels with those numbers, no rpc figure.
    let md = read(&out.join("sweep.md"));
    let html = read(&out.join("sweep.html"));
    let lost_row = format!("| money made or lost | units | sum {} |", sum(&lost));
    let acked_row = format!(
        "| acknowledged transfers lost | transfers | sum {} |",
        sum(&acked)
    );
    for text in [&md, &html] {
        assert!(!text.to_lowercase().contains("availability"), "{text}");
        assert!(!text.contains("latency"), "{text}");
    }
    assert!(md.contains(&lost_row), "{lost_row} not in\n{md}");
    assert!(md.contains(&acked_row), "{acked_row} not in\n{md}");
    assert!(
        md.contains(
            "| durability violations | violations | in 3 of 3 seeds (95% CI 43.9 .. 100.0 %) |"
        ),
        "{md}"
    );
    assert!(
        md.contains(&format!("| largest HLC l - pt | ms | max {hlc_max:.2} |")),
        "{md}"
    );
    assert!(md.contains("**FAIL**: 0 of 3 seeds passed, 3 failed a check"));
    assert!(html.contains("<div class=\"k\">money made or lost</div><div class=\"v\">"));
    assert!(
        html.contains(&format!("{} units</div>", sum(&lost))),
        "{html}"
    );
    assert!(stdout.contains("money made or lost") && !stdout.contains("availability"));
    // The check on durability is drawn on its histogram, at 0 violations.
    let svg = read(&out.join("durability_violations-hist.svg"));
    assert!(svg.contains(">durability true</text>"), "{svg}");
    // No seed broke causality: no worst seed to list.
    assert!(
        md.contains(
            "## Worst seeds: highest causality violations\n\n\
             Every seed that measured it has 0 violations.\n"
        ),
        "{md}"
    );
    // Worst seeds: the most money made or lost first.
    let worst = md
        .split("## Worst seeds: highest money made or lost")
        .nth(1)
        .expect("a worst-seeds table for money made or lost");
    let mut by_loss: Vec<(usize, f64)> = lost.iter().copied().enumerate().collect();
    by_loss.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    let first_row = worst.lines().nth(4).unwrap();
    assert!(
        first_row.starts_with(&format!("| {} |", by_loss[0].0)),
        "{first_row}"
    );
}

#[test]
fn an_rpc_sweep_shows_every_declared_figure_and_the_checks_bound() {
    let dir = temp_dir("sweep-rpc-figures");
    let out = dir.join("sweep");
    let path = scenario("storm-small.json");
    expect_exit(&sweep("storm-small.json", "1..4", &out, &[], &[]), 1);
    let file = json(&out.join("sweep.json"));
    assert_eq!(file["workload"], "rpc");
    let runs = same_figures_as_runs(&file, &path, &[], &[1, 2, 3], &dir);
    let md = read(&out.join("sweep.md"));
    let mean = |name: &str| -> f64 {
        let values: Vec<f64> = values_of(&runs, name).into_iter().flatten().collect();
        assert_eq!(values.len(), 3, "{name} measured at every seed");
        let mean = values.iter().sum::<f64>() / 3.0;
        let stored = total(&file, name)["aggregate"].as_f64().unwrap();
        assert!(
            (stored - mean).abs() <= 1e-12 * mean.abs().max(1.0),
            "{name}"
        );
        mean
    };
    let latency = mean("mean_latency_ms");
    assert!(
        md.contains(&format!("| mean latency | ms | mean {latency:.2} (95% CI ")),
        "{md}"
    );
    for (name, label) in [
        ("failed_fraction", "failed"),
        ("timed_out_fraction", "timed out"),
        ("breaker_rejected_fraction", "rejected by breaker"),
    ] {
        let shown = mean(name) * 100.0;
        let row = format!("| {label} | % | mean {shown:.3} (95% CI ");
        assert!(md.contains(&row), "{row} not in\n{md}");
    }
    // The storm times out most requests.
    assert!(mean("timed_out_fraction") > 0.2);
    // The availability histogram carries the check's bound, 95 %, as a labelled line;
    // every seed is far below it, so it is the right end of the axis.
    let svg = read(&out.join("availability-hist.svg"));
    assert!(svg.contains(">availability_at_least 0.95</text>"), "{svg}");
    assert!(
        svg.contains("<line x1=\"620.00\" y1=\"20\" x2=\"620.00\"") && svg.contains(">95.000<"),
        "{svg}"
    );
    // No line on a figure no check reads.
    assert!(!read(&out.join("p99_latency_ms-hist.svg")).contains("stroke-dasharray"));
}
