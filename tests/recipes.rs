//! The batch-engine recipes in `docs/recipes/` work: each test reads one recipe, takes
//! the command and environment it gives a shard, runs it for every shard index through
//! the real binary (`faultline` on PATH, in a shell, as the engine would), runs the
//! recipe's merge command, and compares the merged `sweep.json` with an unsharded sweep
//! of the same seeds, byte for byte.
//!
//! To stay fast the commands are run on the small scenario of `tests/sweeps/` over seeds
//! 1..9 instead of the recipes' bundled scenario over 1..1001: the two tokens are the only
//! change made to the recipe's command.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{temp_dir, BATCH_ENGINE_VARS};

/// The recipe's scenario and seeds, and what the test runs instead.
const RECIPE_SCENARIO: &str = "scenarios/partition.json";
const RECIPE_SEEDS: &str = "--seeds 1..1001";
const TEST_SEEDS: &str = "--seeds 1..9";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn recipe(name: &str) -> String {
    let path = root().join("docs").join("recipes").join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|err| panic!("{}: {err}", path.display()))
}

fn test_scenario() -> String {
    root()
        .join("tests")
        .join("sweeps")
        .join("storm-small.json")
        .display()
        .to_string()
}

/// The recipe's command with the scenario and seeds swapped for the test's.
fn for_test(command: &str) -> String {
    assert!(
        command.contains(RECIPE_SCENARIO) && command.contains(RECIPE_SEEDS),
        "the recipe's command changed: {command}"
    );
    command
        .replace(RECIPE_SCENARIO, &test_scenario())
        .replace(RECIPE_SEEDS, TEST_SEEDS)
}

/// Runs `script` with `program` (`sh -c` or `bash`) in `dir`, `faultline` on PATH and
/// the engine's variables set; returns the exit code.
fn shell(program: &[&str], script: &str, dir: &Path, env: &[(String, String)]) -> i32 {
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_faultline"));
    let path = format!(
        "{}:{}",
        bin.parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut command = Command::new(program[0]);
    command
        .args(&program[1..])
        .arg(script)
        .current_dir(dir)
        .env("PATH", path);
    for name in BATCH_ENGINE_VARS {
        command.env_remove(name);
    }
    for (name, value) in env {
        command.env(name, value);
    }
    let output = command.output().expect("the shell runs");
    assert!(
        matches!(output.status.code(), Some(0 | 1)),
        "{script} failed: {}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output.status.code().unwrap()
}

/// The unsharded sweep of the test's seeds, for comparison.
fn unsharded(dir: &Path) -> String {
    let out = dir.join("unsharded");
    let status = Command::new(env!("CARGO_BIN_EXE_faultline"))
        .args(["sweep", &test_scenario(), "--seeds", "1..9", "--out"])
        .arg(&out)
        .output()
        .expect("faultline runs");
    assert_eq!(status.status.code(), Some(1), "the storm fails its check");
    std::fs::read_to_string(out.join("sweep.json")).unwrap()
}

fn merged(dir: &Path) -> String {
    std::fs::read_to_string(dir.join("results").join("sweep.json"))
        .unwrap_or_else(|err| panic!("no merged sweep.json: {err}"))
}

/// The value after `key` on the line that starts with it (trimmed).
fn value_of<'a>(text: &'a str, key: &str) -> &'a str {
    text.lines()
        .map(str::trim)
        .find_map(|line| line.strip_prefix(key))
        .unwrap_or_else(|| panic!("no line starting with {key:?}"))
        .trim()
}

#[test]
fn the_kubernetes_indexed_job_runs_every_index_and_merges() {
    let text = recipe("kubernetes-indexed-job.yaml");
    assert_eq!(value_of(&text, "completionMode:"), "Indexed");
    let completions: u64 = value_of(&text, "completions:").parse().unwrap();
    // `command:` is a YAML flow sequence of double-quoted strings: JSON.
    let command: Vec<String> = serde_json::from_str(value_of(&text, "command:")).unwrap();
    assert_eq!(&command[..2], ["sh", "-c"]);
    let script = for_test(&command[2]);
    assert!(
        script.contains(&format!("--shards {completions}")),
        "--shards must equal completions: {script}"
    );
    let dir = temp_dir("recipe-k8s");
    std::fs::create_dir_all(dir.join("results")).unwrap();
    for index in 0..completions {
        let env = [("JOB_COMPLETION_INDEX".to_owned(), index.to_string())];
        shell(&["sh", "-c"], &script, &dir, &env);
        assert!(dir
            .join(format!("results/shard-{index}/sweep.json"))
            .is_file());
    }
    let merge = value_of(&text, "#   merge:");
    assert_eq!(shell(&["sh", "-c"], merge, &dir, &[]), 1);
    assert_eq!(merged(&dir), unsharded(&dir));
}

#[test]
fn the_slurm_array_script_runs_every_task_and_merges() {
    let text = recipe("slurm-array.sh");
    let array = value_of(&text, "#SBATCH --array=");
    let (min, max) = array.split_once('-').expect("an array range such as 0-3");
    let (min, max): (u64, u64) = (min.parse().unwrap(), max.parse().unwrap());
    let dir = temp_dir("recipe-slurm");
    let script = dir.join("job.sh");
    std::fs::write(&script, for_test(&text)).unwrap();
    for task in min..=max {
        let env: Vec<(String, String)> = [
            ("SLURM_ARRAY_TASK_ID", task.to_string()),
            ("SLURM_ARRAY_TASK_MIN", min.to_string()),
            ("SLURM_ARRAY_TASK_MAX", max.to_string()),
            ("SLURM_ARRAY_TASK_COUNT", (max - min + 1).to_string()),
            ("SLURM_CPUS_PER_TASK", "2".to_owned()),
        ]
        .into_iter()
        .map(|(name, value)| (name.to_owned(), value))
        .collect();
        shell(&["bash"], script.to_str().unwrap(), &dir, &env);
        assert!(dir
            .join(format!("results/shard-{task}/sweep.json"))
            .is_file());
    }
    let wrap = value_of(&text, "#   sbatch --dependency=afterany:<job id> --wrap");
    let merge = wrap.trim_matches('"');
    assert_eq!(shell(&["sh", "-c"], merge, &dir, &[]), 1);
    assert_eq!(merged(&dir), unsharded(&dir));
}

#[test]
fn the_github_actions_matrix_runs_every_job_and_merges() {
    let text = recipe("github-actions-matrix.yml");
    let shards: Vec<u64> = serde_json::from_str(value_of(&text, "shard:")).unwrap();
    let total = shards.len();
    let lines: Vec<&str> = text.lines().map(str::trim).collect();
    let step = lines
        .iter()
        .position(|line| *line == "- name: sweep one shard")
        .expect("the sweep step");
    let run = lines[step + 1]
        .strip_prefix("run:")
        .expect("its run line")
        .trim();
    let dir = temp_dir("recipe-actions");
    for index in 0..total {
        // What Actions substitutes before the shell sees the line.
        let script = for_test(run)
            .replace("${{ strategy.job-index }}", &index.to_string())
            .replace("${{ strategy.job-total }}", &total.to_string());
        shell(&["bash", "-c"], &script, &dir, &[]);
        assert!(dir
            .join(format!("results/shard-{index}/sweep.json"))
            .is_file());
    }
    let merge = lines
        .iter()
        .filter_map(|line| line.strip_prefix("run:"))
        .map(str::trim)
        .find(|line| line.starts_with("faultline report"))
        .expect("the merge step");
    assert_eq!(shell(&["bash", "-c"], merge, &dir, &[]), 1);
    assert_eq!(merged(&dir), unsharded(&dir));
}

/// The instructions of the Dockerfile's stages, in order: (FROM line, instructions).
fn docker_stages(dockerfile: &str) -> Vec<(String, Vec<String>)> {
    let mut stages: Vec<(String, Vec<String>)> = Vec::new();
    for line in dockerfile.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if line.starts_with("FROM ") {
            stages.push((line.to_string(), Vec::new()));
        } else if let Some((_, body)) = stages.last_mut() {
            body.push(line.to_string());
        } else {
            panic!("the Dockerfile has an instruction before its first FROM: {line}");
        }
    }
    stages
}

/// The Kubernetes recipe's image is what the repository's Dockerfile builds: the build
/// stage compiles the package's binary in release with the repository's cargo config in
/// its context, and the run stage puts that binary on PATH and the scenarios the recipes
/// name where their `workingDir` expects them. (No image is built here: the test machine
/// reaches no container registry.)
#[test]
fn the_dockerfile_builds_the_image_the_kubernetes_recipe_runs() {
    let dockerfile = std::fs::read_to_string(root().join("Dockerfile")).expect("a Dockerfile");
    let stages = docker_stages(&dockerfile);
    assert_eq!(stages.len(), 2, "a build stage and a run stage: {stages:?}");
    let (build_from, build) = &stages[0];
    let (_, run) = &stages[1];
    let stage_name = build_from
        .split_whitespace()
        .skip_while(|word| !word.eq_ignore_ascii_case("as"))
        .nth(1)
        .expect("the build stage is named (`FROM ... AS build`)");

    // The binary's name, from Cargo.toml's [[bin]].
    let manifest = std::fs::read_to_string(root().join("Cargo.toml")).unwrap();
    let bin_name = manifest
        .split("[[bin]]")
        .nth(1)
        .and_then(|rest| rest.lines().find(|l| l.trim_start().starts_with("name")))
        .and_then(|l| l.split('"').nth(1))
        .expect("Cargo.toml names its [[bin]]");
    assert!(
        build.iter().any(|i| i.starts_with("COPY . ")),
        "the build stage copies the whole context (with .cargo/config.toml): {build:?}"
    );
    assert!(
        build.iter().any(|i| i.starts_with("RUN cargo build")
            && i.contains("--release")
            && i.contains("--locked")
            && i.contains(&format!("--bin {bin_name}"))),
        "the build stage builds `{bin_name}` in release from Cargo.lock: {build:?}"
    );
    let workdir = build
        .iter()
        .find_map(|i| i.strip_prefix("WORKDIR "))
        .expect("the build stage has a WORKDIR");
    let binary = format!("{workdir}/target/release/{bin_name}");
    assert!(
        run.iter()
            .any(|i| *i == format!("COPY --from={stage_name} {binary} /usr/local/bin/{bin_name}")),
        "the run stage puts {binary} on PATH as /usr/local/bin/{bin_name}: {run:?}"
    );

    // What the recipe expects of the image: its working directory, and the scenario its
    // command names, relative to it.
    let recipe = recipe("kubernetes-indexed-job.yaml");
    let working_dir = recipe
        .lines()
        .find_map(|l| l.trim().strip_prefix("workingDir: "))
        .expect("the recipe sets workingDir");
    assert!(
        run.iter().any(|i| *i == format!("WORKDIR {working_dir}")),
        "the image's WORKDIR is the recipe's workingDir {working_dir}: {run:?}"
    );
    assert!(recipe.contains(RECIPE_SCENARIO));
    let scenario_dir = Path::new(RECIPE_SCENARIO)
        .parent()
        .unwrap()
        .display()
        .to_string();
    assert!(
        run.iter()
            .any(|i| *i == format!("COPY {scenario_dir} {working_dir}/{scenario_dir}")),
        "the image holds {working_dir}/{RECIPE_SCENARIO}: {run:?}"
    );
    assert!(root().join(RECIPE_SCENARIO).is_file());

    // The build context keeps what the build needs and leaves out build outputs.
    let ignore = std::fs::read_to_string(root().join(".dockerignore")).expect("a .dockerignore");
    let ignored: Vec<&str> = ignore
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();
    assert!(ignored.contains(&"target/"), "{ignored:?}");
    for needed in [
        ".cargo",
        "Cargo.toml",
        "Cargo.lock",
        "sim",
        "models",
        "reports",
        "scenarios",
    ] {
        assert!(
            !ignored.iter().any(|p| p.trim_end_matches('/') == needed),
            ".dockerignore leaves out {needed}, which the build needs"
        );
    }
}
