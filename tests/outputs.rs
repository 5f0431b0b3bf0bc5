//! Nothing lost: output directories replace only what faultline wrote, never an input,
//! never another command's default directory; sweeps and merges are written whole; an
//! interrupted command leaves the previous output and no partial one; exit codes say
//! what happened (3 for output that cannot be written). Through the real binary.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::{base_scenario, expect_exit, temp_dir, BATCH_ENGINE_VARS};
use serde_json::{json, Value};

/// `faultline ARGS` run in `cwd` (default output paths are relative to it).
fn faultline_in(cwd: &Path, args: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_faultline"));
    command.args(args).current_dir(cwd);
    for name in BATCH_ENGINE_VARS {
        command.env_remove(name);
    }
    command.output().expect("faultline runs")
}

fn stderr(result: &Output) -> String {
    String::from_utf8_lossy(&result.stderr).into_owned()
}

/// A 2 s rpc scenario; with `fail`, a partition makes its availability check fail.
fn tiny(fail: bool) -> Value {
    let mut scenario = base_scenario();
    scenario["name"] = json!("tiny");
    scenario["duration"] = json!("2s");
    scenario["checks"] = json!([{ "availability_at_least": 0.99 }]);
    if fail {
        scenario["faults"] =
            json!([{ "at": "0.5s", "for": "1s", "partition": [["client-*"], ["server-0"]] }]);
    }
    scenario
}

/// Writes `scenario` into `dir/name` and returns its path.
fn write_scenario(dir: &Path, name: &str, scenario: &Value) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, serde_json::to_string_pretty(scenario).unwrap()).unwrap();
    path
}

/// The names in `dir` that are temporary (partial) outputs.
fn partials(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|entry| entry.file_name().to_string_lossy().into_owned())
                .filter(|name| name.contains(".partial-"))
                .collect()
        })
        .unwrap_or_default()
}

fn s(path: &Path) -> &str {
    path.to_str().unwrap()
}

#[test]
fn run_refuses_a_directory_faultline_did_not_write_even_with_a_summary_json() {
    let dir = temp_dir("out-project");
    let scenario = write_scenario(&dir, "tiny.json", &tiny(false));
    let project = dir.join("proj");
    std::fs::create_dir_all(project.join("src")).unwrap();
    std::fs::write(project.join("src/main.rs"), "fn main() {}\n").unwrap();
    std::fs::write(project.join("thesis.tex"), "\\documentclass{article}\n").unwrap();
    std::fs::write(project.join("summary.json"), "{}\n").unwrap();
    let result = faultline_in(&dir, &["run", s(&scenario), "--out", s(&project)]);
    expect_exit(&result, 2);
    assert!(
        stderr(&result).contains(".faultline-output"),
        "{}",
        stderr(&result)
    );
    assert!(stderr(&result).contains("--out"), "{}", stderr(&result));
    assert_eq!(
        std::fs::read_to_string(project.join("src/main.rs")).unwrap(),
        "fn main() {}\n"
    );
    assert!(project.join("thesis.tex").is_file());
    // A directory faultline wrote carries the marker and is replaced.
    let out = dir.join("out");
    expect_exit(
        &faultline_in(&dir, &["run", s(&scenario), "--out", s(&out)]),
        0,
    );
    let marker: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join(".faultline-output")).unwrap())
            .unwrap();
    assert_eq!(marker["format"], "faultline-output/1");
    assert_eq!(marker["kind"], "run");
    std::fs::write(out.join("stale.txt"), "from before").unwrap();
    expect_exit(
        &faultline_in(&dir, &["run", s(&scenario), "--out", s(&out)]),
        0,
    );
    assert!(!out.join("stale.txt").exists(), "replaced whole");
    assert!(partials(&dir).is_empty(), "{:?}", partials(&dir));
}

#[test]
fn an_output_never_holds_the_scenario_being_run() {
    let dir = temp_dir("out-input");
    let scenario = write_scenario(&dir, "tiny.json", &tiny(false));
    // The swarm replay case: the scenario lies in the run's default directory.
    let default = dir.join("runs/tiny/seed-1");
    expect_exit(&faultline_in(&dir, &["run", s(&scenario)]), 0);
    let inside = write_scenario(&default, "scenario.resolved.json", &tiny(false));
    let result = faultline_in(&dir, &["run", "runs/tiny/seed-1/scenario.resolved.json"]);
    expect_exit(&result, 2);
    assert!(
        stderr(&result).contains("an input of this command"),
        "{}",
        stderr(&result)
    );
    assert!(inside.is_file(), "the input is kept");
    // Explicitly, too, and for a sweep.
    let result = faultline_in(&dir, &["run", s(&inside), "--out", s(&default)]);
    expect_exit(&result, 2);
    let result = faultline_in(
        &dir,
        &["sweep", s(&inside), "--seeds", "1..2", "--out", s(&default)],
    );
    expect_exit(&result, 2);
    assert!(inside.is_file());
    // Replayed elsewhere, as the docs say, it runs.
    let replay = dir.join("replay");
    expect_exit(
        &faultline_in(&dir, &["run", s(&inside), "--out", s(&replay)]),
        0,
    );
}

#[test]
fn default_directories_name_what_produced_them_or_are_not_replaced() {
    let dir = temp_dir("out-defaults");
    let scenario = write_scenario(&dir, "tiny.json", &tiny(false));
    let plain = dir.join("runs/tiny/seed-1");
    expect_exit(&faultline_in(&dir, &["run", s(&scenario)]), 0);
    let first = std::fs::read_to_string(plain.join("summary.json")).unwrap();
    // --set goes to a directory of its own.
    let stdout = expect_exit(
        &faultline_in(
            &dir,
            &["run", s(&scenario), "--set", "workload.clients.count=50"],
        ),
        0,
    );
    assert!(stdout.contains("runs/tiny/seed-1-set-"), "{stdout}");
    assert_eq!(
        std::fs::read_to_string(plain.join("summary.json")).unwrap(),
        first
    );
    // Another scenario file of the same name (a shrink's scenario.min.json) does not
    // replace the directory another command wrote.
    let other = write_scenario(&dir, "other.json", &tiny(false));
    let result = faultline_in(&dir, &["run", s(&other)]);
    expect_exit(&result, 2);
    assert!(
        stderr(&result).contains("another command"),
        "{}",
        stderr(&result)
    );
    assert_eq!(
        std::fs::read_to_string(plain.join("summary.json")).unwrap(),
        first
    );
    // The same command replaces its own.
    expect_exit(&faultline_in(&dir, &["run", s(&scenario)]), 0);
    // Two --vary of different fault indices, and two sweeps with different --set.
    let mut two = tiny(false);
    two["checks"] = json!([]);
    two["faults"] = json!([
        { "at": "0.5s", "for": "0.1s", "partition": [["client-*"], ["server-0"]] },
        { "at": "1s", "for": "0.1s", "partition": [["client-*"], ["server-0"]] }
    ]);
    let two = write_scenario(&dir, "two.json", &two);
    for index in ["0", "1"] {
        let vary = format!("faults[{index}].for=0.1s,0.2s");
        expect_exit(
            &faultline_in(&dir, &["compare", s(&two), "--vary", &vary]),
            0,
        );
    }
    let compares: Vec<String> = std::fs::read_dir(dir.join("runs/tiny"))
        .unwrap()
        .flatten()
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with("compare-"))
        .collect();
    assert_eq!(compares.len(), 2, "{compares:?}");
    for count in ["50", "60"] {
        let set = format!("workload.clients.count={count}");
        expect_exit(
            &faultline_in(
                &dir,
                &["sweep", s(&scenario), "--seeds", "1..2", "--set", &set],
            ),
            0,
        );
    }
    let sweeps = std::fs::read_dir(dir.join("runs/tiny"))
        .unwrap()
        .flatten()
        .filter(|entry| {
            entry
                .file_name()
                .to_string_lossy()
                .starts_with("sweep-1-2-set-")
        })
        .count();
    assert_eq!(sweeps, 2);
}

#[test]
fn shrink_never_replaces_an_existing_file() {
    let dir = temp_dir("out-shrink");
    let scenario = write_scenario(&dir, "tiny.json", &tiny(true));
    let mine = dir.join("notes.json");
    std::fs::write(&mine, "my notes").unwrap();
    let result = faultline_in(&dir, &["shrink", s(&scenario), "--out", s(&mine)]);
    expect_exit(&result, 2);
    assert!(
        stderr(&result).contains("does not replace"),
        "{}",
        stderr(&result)
    );
    assert_eq!(std::fs::read_to_string(&mine).unwrap(), "my notes");
    let result = faultline_in(&dir, &["shrink", s(&scenario), "--out", s(&scenario)]);
    expect_exit(&result, 2);
    // The default directory is written whole and may be written again.
    let mut stdout = String::new();
    for _ in 0..2 {
        stdout = expect_exit(
            &faultline_in(&dir, &["shrink", s(&scenario), "--max-runs", "3"]),
            1,
        );
    }
    assert!(dir
        .join("runs/tiny/shrink-seed-1/scenario.min.json")
        .is_file());
    // Another file of the same name does not replace it.
    let other = write_scenario(&dir, "other.json", &tiny(true));
    let result = faultline_in(&dir, &["shrink", s(&other), "--max-runs", "3"]);
    expect_exit(&result, 2);
    assert!(
        stderr(&result).contains("a new file"),
        "{}",
        stderr(&result)
    );
    // Its replay line works even when the run directory of the scenario's name holds
    // another command's run.
    expect_exit(&faultline_in(&dir, &["run", s(&scenario)]), 1);
    let replay = stdout.lines().last().unwrap_or_default();
    assert!(
        replay.contains("scenario.min.json --seed 1 --out "),
        "{replay}"
    );
    let words: Vec<&str> = replay.split_whitespace().skip(1).collect();
    expect_exit(&faultline_in(&dir, &words), 1);
}

/// Sweeps `scenario` over `seeds` into `out`, in `dir`.
fn sweep(dir: &Path, scenario: &Path, seeds: &str, out: &Path, extra: &[&str]) -> Output {
    let mut args = vec!["sweep", s(scenario), "--seeds", seeds, "--out", s(out)];
    args.extend_from_slice(extra);
    faultline_in(dir, &args)
}

#[test]
fn a_sweep_is_written_whole_and_never_over_a_users_files() {
    let dir = temp_dir("out-sweep");
    let failing = write_scenario(&dir, "fail.json", &tiny(true));
    let passing = write_scenario(&dir, "pass.json", &tiny(false));
    let out = dir.join("sweep");
    expect_exit(&sweep(&dir, &failing, "1..3", &out, &["--jobs", "1"]), 1);
    assert!(out.join("runs/seed-1/summary.json").is_file());
    // A reused --out does not mix the old failed runs with the new sweep.json.
    expect_exit(&sweep(&dir, &passing, "1..3", &out, &["--jobs", "1"]), 0);
    assert!(
        !out.join("runs").exists(),
        "old runs left beside the new sweep.json"
    );
    assert!(partials(&dir).is_empty(), "{:?}", partials(&dir));
    // A user's own sweep.json and timing.json are not overwritten.
    let mine = dir.join("mine");
    std::fs::create_dir(&mine).unwrap();
    std::fs::write(mine.join("sweep.json"), "mine").unwrap();
    std::fs::write(mine.join("timing.json"), "mine too").unwrap();
    expect_exit(&sweep(&dir, &passing, "1..3", &mine, &[]), 2);
    assert_eq!(
        std::fs::read_to_string(mine.join("sweep.json")).unwrap(),
        "mine"
    );
}

#[test]
fn merging_shards_never_destroys_a_shard_or_writes_into_another_tree() {
    let dir = temp_dir("out-merge");
    let scenario = write_scenario(&dir, "tiny.json", &tiny(false));
    let shard = |index: u64, parent: &str| {
        let out = dir.join(parent).join(format!("shard-{index}"));
        let spec = format!("{index}/2");
        expect_exit(
            &sweep(&dir, &scenario, "1..3", &out, &["--shard", &spec]),
            0,
        );
        out
    };
    let (a, b) = (shard(0, "results"), shard(1, "results"));
    let before = std::fs::read_to_string(a.join("sweep.json")).unwrap();
    let result = faultline_in(&dir, &["report", s(&a), s(&b), "--out", s(&a)]);
    expect_exit(&result, 2);
    assert!(stderr(&result).contains("shard"), "{}", stderr(&result));
    assert_eq!(
        std::fs::read_to_string(a.join("sweep.json")).unwrap(),
        before
    );
    // Shards of different trees: no merge into their common ancestor.
    let (c, d) = (shard(0, "x/one"), shard(1, "y/two"));
    let result = faultline_in(&dir, &["report", s(&c), s(&d)]);
    expect_exit(&result, 2);
    assert!(!dir.join("sweep.json").exists());
    // A user's own sweep.json beside the shards is not replaced ...
    std::fs::write(dir.join("results/sweep.json"), "mine").unwrap();
    expect_exit(&faultline_in(&dir, &["report", s(&a), s(&b)]), 2);
    assert_eq!(
        std::fs::read_to_string(dir.join("results/sweep.json")).unwrap(),
        "mine"
    );
    // ... but the merge's own is, and a merge to a new directory is written whole.
    std::fs::remove_file(dir.join("results/sweep.json")).unwrap();
    for _ in 0..2 {
        expect_exit(&faultline_in(&dir, &["report", s(&a), s(&b)]), 0);
    }
    // A full disk (the temporary file is /dev/full) leaves the previous merged
    // sweep.json whole, no temporary file, and exits 3.
    let merged_before = std::fs::read_to_string(dir.join("results/sweep.json")).unwrap();
    let tmp = dir.join("results/.sweep.json.tmp");
    std::os::unix::fs::symlink("/dev/full", &tmp).unwrap();
    expect_exit(&faultline_in(&dir, &["report", s(&a), s(&b)]), 3);
    assert!(
        std::fs::symlink_metadata(&tmp).is_err(),
        "temporary file left"
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("results/sweep.json")).unwrap(),
        merged_before
    );
    let merged = dir.join("merged");
    expect_exit(
        &faultline_in(&dir, &["report", s(&a), s(&b), "--out", s(&merged)]),
        0,
    );
    assert_eq!(
        std::fs::read_to_string(merged.join("sweep.json")).unwrap(),
        std::fs::read_to_string(dir.join("results/sweep.json")).unwrap()
    );
    assert!(merged.join(".faultline-output").is_file());
}

#[test]
fn stale_partial_directories_of_dead_processes_are_cleaned_and_live_ones_kept() {
    let dir = temp_dir("out-stale");
    let scenario = write_scenario(&dir, "tiny.json", &tiny(false));
    let out = dir.join("out");
    // No process has this id (above Linux's largest pid_max, 2^22).
    let dead = dir.join(".out.partial-4194305");
    let live = dir.join(format!(".out.partial-{}", std::process::id()));
    for partial in [&dead, &live] {
        std::fs::create_dir_all(partial.join("runs")).unwrap();
        std::fs::write(partial.join("trace.jsonl"), "{}\n").unwrap();
    }
    expect_exit(
        &faultline_in(&dir, &["run", s(&scenario), "--out", s(&out)]),
        0,
    );
    assert!(!dead.exists(), "a dead process's partial output is removed");
    assert!(live.exists(), "a running process's partial output is kept");
    std::fs::remove_dir_all(&live).unwrap();
}

#[test]
fn sigterm_during_a_sweep_keeps_the_previous_output_and_leaves_no_partial() {
    let dir = temp_dir("out-sigterm");
    let scenario = write_scenario(&dir, "tiny.json", &tiny(false));
    let out = dir.join("sweep");
    expect_exit(&sweep(&dir, &scenario, "1..2", &out, &[]), 0);
    let before = std::fs::read_to_string(out.join("sweep.json")).unwrap();
    for (signal, code) in [("TERM", 143), ("INT", 130)] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_faultline"))
            .args(["sweep", s(&scenario), "--seeds", "1..100000", "--jobs", "1"])
            .args(["--keep-runs", "--out", s(&out)])
            .current_dir(&dir)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("faultline starts");
        // Wait until the sweep is writing runs into its partial directory.
        // (Polled at most 3,000 times, 20 ms apart: a minute.)
        let mut polls = 0;
        while partials(&dir)
            .iter()
            .all(|name| !dir.join(name).join("runs").is_dir())
        {
            polls += 1;
            if polls >= 3_000 {
                // Not left running a long sweep when the test fails.
                let _ = child.kill();
                panic!("no partial directory appeared");
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        let killed = Command::new("kill")
            .args([format!("-{signal}"), child.id().to_string()])
            .status()
            .unwrap();
        assert!(killed.success());
        let result = child.wait_with_output().unwrap();
        assert_eq!(result.status.code(), Some(code), "{}", stderr(&result));
        assert!(partials(&dir).is_empty(), "{:?}", partials(&dir));
        assert_eq!(
            std::fs::read_to_string(out.join("sweep.json")).unwrap(),
            before
        );
    }
}

#[test]
fn small_cases_duplicate_labels_and_long_names_work() {
    let dir = temp_dir("out-small");
    let scenario = write_scenario(&dir, "tiny.json", &tiny(false));
    let out = dir.join("cmp");
    let stdout = expect_exit(
        &faultline_in(
            &dir,
            &[
                "compare",
                s(&scenario),
                "--vary",
                "description=a,a-2,a",
                "--out",
                s(&out),
            ],
        ),
        0,
    );
    assert!(stdout.contains("a-2"), "{stdout}");
    for variant in ["a", "a-2", "a-3"] {
        assert!(
            out.join(variant).join("summary.json").is_file(),
            "{variant}"
        );
    }
    // The comparison's pages link each variant's own directory.
    let html = std::fs::read_to_string(out.join("compare.html")).unwrap();
    let md = std::fs::read_to_string(out.join("compare.md")).unwrap();
    for variant in ["a", "a-2", "a-3"] {
        assert!(
            html.contains(&format!("href=\"{variant}/report.html\"")),
            "{variant}"
        );
        assert!(md.contains(&format!("]({variant}/report.md)")), "{variant}");
    }
    let long = dir.join("n".repeat(250));
    expect_exit(
        &faultline_in(&dir, &["run", s(&scenario), "--out", s(&long)]),
        0,
    );
    assert!(long.join("summary.json").is_file());
}

#[test]
fn an_output_that_cannot_be_written_exits_3_before_simulating() {
    let dir = temp_dir("out-unwritable");
    let scenario = write_scenario(&dir, "tiny.json", &tiny(true));
    // A path under a regular file cannot be created, whoever runs the test (even root).
    std::fs::write(dir.join("file"), "").unwrap();
    let out = dir.join("file/out");
    let result = faultline_in(&dir, &["run", s(&scenario), "--out", s(&out)]);
    expect_exit(&result, 3);
    assert!(
        !stderr(&result).contains("faultline run"),
        "no reproduce line: {}",
        stderr(&result)
    );
    let result = faultline_in(
        &dir,
        &["sweep", s(&scenario), "--seeds", "1..3", "--out", s(&out)],
    );
    let stdout = expect_exit(&result, 3);
    assert!(!stdout.contains("seeds failed"), "{stdout}");
    let result = faultline_in(
        &dir,
        &[
            "compare",
            s(&scenario),
            "--vary",
            "seed=1,2",
            "--out",
            s(&out),
        ],
    );
    expect_exit(&result, 3);
}

#[test]
fn report_exits_as_what_it_rebuilds() {
    let dir = temp_dir("out-report");
    let failing = write_scenario(&dir, "fail.json", &tiny(true));
    let run = dir.join("run");
    expect_exit(
        &faultline_in(&dir, &["run", s(&failing), "--out", s(&run)]),
        1,
    );
    expect_exit(&faultline_in(&dir, &["report", s(&run)]), 1);
    let cmp = dir.join("cmp");
    let vary = [
        "compare",
        s(&failing),
        "--vary",
        "seed=1,2",
        "--out",
        s(&cmp),
    ];
    expect_exit(&faultline_in(&dir, &vary), 1);
    expect_exit(&faultline_in(&dir, &["report", s(&cmp)]), 1);
    let sweep_dir = dir.join("sweep");
    expect_exit(&sweep(&dir, &failing, "1..2", &sweep_dir, &[]), 1);
    expect_exit(&faultline_in(&dir, &["report", s(&sweep_dir)]), 1);
    // A passing run rebuilds with 0; a report that cannot be written with 3.
    let passing = write_scenario(&dir, "pass.json", &tiny(false));
    let ok = dir.join("ok");
    expect_exit(
        &faultline_in(&dir, &["run", s(&passing), "--out", s(&ok)]),
        0,
    );
    expect_exit(&faultline_in(&dir, &["report", s(&ok)]), 0);
    std::fs::remove_file(ok.join("report.md")).unwrap();
    std::fs::create_dir_all(ok.join("report.md/blocker")).unwrap();
    expect_exit(&faultline_in(&dir, &["report", s(&ok)]), 3);
    assert!(!ok.join(".report.md.tmp").exists());
}

#[test]
fn the_reproduce_line_keeps_max_events_and_check_determinism() {
    let dir = temp_dir("out-reproduce");
    let scenario = write_scenario(&dir, "tiny.json", &tiny(false));
    let out = dir.join("out");
    let result = faultline_in(
        &dir,
        &["run", s(&scenario), "--max-events", "100", "--out", s(&out)],
    );
    expect_exit(&result, 2);
    let last = stderr(&result)
        .lines()
        .last()
        .unwrap_or_default()
        .to_owned();
    assert!(last.starts_with("faultline run "), "{last}");
    assert!(last.ends_with("--max-events 100"), "{last}");
    let result = faultline_in(
        &dir,
        &[
            "run",
            s(&scenario),
            "--check-determinism",
            "--inject-divergence-at",
            "1s",
            "--out",
            s(&out),
        ],
    );
    let stdout = expect_exit(&result, 1);
    let last = stdout.lines().last().unwrap_or_default();
    assert!(last.ends_with("--check-determinism"), "{last}");
}
