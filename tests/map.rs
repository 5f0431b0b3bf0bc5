//! The metastability map: `faultline compare` with two `--vary` paths, through the real
//! binary, on `tests/sweeps/map-small.json` (a run takes a fraction of a second): each
//! cell's numbers are those of separate runs of its overrides, each cell is the sweep of
//! its overrides, shards merge to the unsharded grid, the limits refuse a grid before it
//! runs, and the page holds the heatmap.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::{expect_exit, run_record, temp_dir, BATCH_ENGINE_VARS};
use serde_json::{json, Value};

const FACTORS: &str = "faults.0.slowdown.factor=1.5,5";
const DURATIONS: &str = "faults.0.for=1s,5s";

fn scenario() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("sweeps")
        .join("map-small.json")
}

fn faultline(args: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_faultline"));
    command.args(args);
    for name in BATCH_ENGINE_VARS {
        command.env_remove(name);
    }
    command.output().expect("faultline runs")
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|err| panic!("{}: {err}", path.display()))
}

fn json_of(path: &Path) -> Value {
    serde_json::from_str(&read(path)).unwrap_or_else(|err| panic!("{}: {err}", path.display()))
}

/// The 2 x 2 grid over seeds 1..3 into `out`, with `extra` arguments.
fn grid(out: &Path, extra: &[&str]) -> Output {
    let path = scenario();
    let mut args = vec![
        "compare",
        path.to_str().unwrap(),
        "--vary",
        FACTORS,
        "--vary",
        DURATIONS,
        "--seeds",
        "2",
        "--jobs",
        "2",
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    faultline(&args)
}

/// The median (nearest rank, the lower of two) of `values`.
fn median(mut values: Vec<f64>) -> Option<f64> {
    values.sort_by(f64::total_cmp);
    (!values.is_empty()).then(|| values[(values.len() - 1) / 2])
}

#[test]
fn each_cell_holds_the_numbers_of_separate_runs_of_its_overrides() {
    let dir = temp_dir("map-cells");
    let out = dir.join("grid");
    let stdout = expect_exit(&grid(&out, &[]), 1);
    let map = json_of(&out.join("map.json"));
    let text = read(&scenario());
    let base: Value = serde_json::from_str(&text).unwrap();
    let cells = map["cells"].as_array().expect("cells");
    assert_eq!(cells.len(), 4);
    let mut metastable_cells = 0;
    for (i, (factor, duration)) in [(1.5, "1s"), (1.5, "5s"), (5.0, "1s"), (5.0, "5s")]
        .into_iter()
        .enumerate()
    {
        // The cell's overrides applied by hand, each seed run in this process.
        let (mut judged, mut metastable, mut recoveries) = (0u64, 0u64, Vec::new());
        for seed in [1, 2] {
            let mut value = base.clone();
            value["faults"][0]["slowdown"]["factor"] = json!(factor);
            value["faults"][0]["for"] = json!(duration);
            value["seed"] = json!(seed);
            let record = run_record(&value);
            let figure =
                |name: &str| faultline_reports::figures::value(&record.summary.figures, name);
            if let Some(m) = figure("metastable") {
                judged += 1;
                metastable += u64::from(m > 0.0);
            }
            if let Some(ms) = figure("recovery_ms") {
                recoveries.push(ms / 1e3);
            }
        }
        let cell = &cells[i];
        assert_eq!(cell["judged"], json!(judged), "cell {i}: {cell}");
        assert_eq!(cell["metastable"], json!(metastable), "cell {i}: {cell}");
        assert_eq!(
            cell["recovered"],
            json!(recoveries.len()),
            "cell {i}: {cell}"
        );
        assert_eq!(
            cell["recovery_s_median"].as_f64(),
            median(recoveries),
            "cell {i}: {cell}"
        );
        assert_eq!(
            cell["metastable_fraction"].as_f64(),
            Some(metastable as f64 / judged as f64)
        );
        metastable_cells += usize::from(metastable > 0);
    }
    // The grid crosses the boundary: the 5x slowdown is metastable, 1.5x recovers.
    assert_eq!(cells[0]["metastable"], json!(0), "{map}");
    assert_eq!(cells[3]["metastable"], json!(2), "{map}");
    assert!(metastable_cells < 4, "{map}");
    // The terminal table: a row per factor, a column per duration, each cell's text.
    let table: Vec<&str> = stdout
        .lines()
        .skip_while(|line| !line.starts_with("faults[0].slowdown.factor \\ faults[0].for"))
        .collect();
    assert!(table[0].trim_end().ends_with("5s"), "{stdout}");
    assert!(
        table[1].starts_with("1.5 ") && table[1].contains("0 % (0-66)"),
        "{stdout}"
    );
    assert!(
        table[2].starts_with("5 ") && table[2].trim_end().ends_with("100 % (34-100) —"),
        "{stdout}"
    );
    assert!(
        stdout.contains("FAIL ") && stdout.trim_end().ends_with("--seed 1"),
        "{stdout}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn each_cell_is_the_sweep_of_its_overrides_and_a_rebuild_gives_the_same_map() {
    let dir = temp_dir("map-sweeps");
    let out = dir.join("grid");
    expect_exit(&grid(&out, &[]), 1);
    let map = json_of(&out.join("map.json"));
    for cell in map["cells"].as_array().unwrap() {
        let (row, column) = (
            cell["row"].as_u64().unwrap(),
            cell["column"].as_u64().unwrap(),
        );
        let factor = ["1.5", "5"][row as usize];
        let duration = ["1s", "5s"][column as usize];
        let sweep_out = dir.join(format!("sweep-{row}-{column}"));
        let path = scenario();
        let result = faultline(&[
            "sweep",
            path.to_str().unwrap(),
            "--seeds",
            "1..3",
            "--set",
            &format!("faults.0.slowdown.factor={factor}"),
            "--set",
            &format!("faults.0.for={duration}"),
            "--out",
            sweep_out.to_str().unwrap(),
        ]);
        assert!(matches!(result.status.code(), Some(0 | 1)));
        let cell_dir = out.join(cell["dir"].as_str().unwrap());
        assert_eq!(
            read(&cell_dir.join("sweep.json")),
            read(&sweep_out.join("sweep.json")),
            "{}",
            cell["dir"]
        );
    }
    // `faultline report` recomputes map.json from the cells' sweep.json.
    let before = read(&out.join("map.json"));
    expect_exit(&faultline(&["report", out.to_str().unwrap()]), 1);
    assert_eq!(read(&out.join("map.json")), before);
    // An edited map.json is refused with the field, exit 2.
    let edited = before.replacen("\"dir\": \"cells/1.5/1s\"", "\"dir\": \"../x\"", 1);
    assert_ne!(edited, before);
    std::fs::write(out.join("map.json"), edited).unwrap();
    let result = faultline(&["report", out.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&result.stderr).into_owned();
    expect_exit(&result, 2);
    assert!(stderr.contains("cells[0]"), "{stderr}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn shards_merged_equal_the_unsharded_grid_byte_for_byte() {
    let dir = temp_dir("map-shards");
    let whole = dir.join("whole");
    expect_exit(&grid(&whole, &[]), 1);
    let shards: Vec<PathBuf> = (0..2).map(|i| dir.join(format!("shard-{i}"))).collect();
    for (i, shard) in shards.iter().enumerate() {
        let stdout = expect_exit(&grid(shard, &["--shard", &format!("{i}/2")]), 1);
        assert!(
            stdout.contains(&format!("shard {i}/2: its seeds of each cell only")),
            "{stdout}"
        );
    }
    let merged = dir.join("merged");
    let (s0, s1) = (shards[0].to_str().unwrap(), shards[1].to_str().unwrap());
    // Without --out there is nowhere of its own to write the merged cells.
    expect_exit(&faultline(&["report", s0, s1]), 2);
    // One shard alone is not the grid.
    let result = faultline(&["report", s0, "--out", merged.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&result.stderr).into_owned();
    expect_exit(&result, 2);
    assert!(stderr.contains("shards missing: 1/2"), "{stderr}");
    expect_exit(
        &faultline(&["report", s1, s0, "--out", merged.to_str().unwrap()]),
        1,
    );
    assert_eq!(
        read(&merged.join("map.json")),
        read(&whole.join("map.json"))
    );
    let map = json_of(&whole.join("map.json"));
    for cell in map["cells"].as_array().unwrap() {
        let cell_dir = cell["dir"].as_str().unwrap();
        assert_eq!(
            read(&merged.join(cell_dir).join("sweep.json")),
            read(&whole.join(cell_dir).join("sweep.json")),
            "{cell_dir}"
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_page_holds_the_heatmap() {
    let dir = temp_dir("map-page");
    let out = dir.join("grid");
    expect_exit(&grid(&out, &[]), 1);
    let html = read(&out.join("map.html"));
    assert!(
        html.contains("Faultline metastability map: map-small"),
        "{html}"
    );
    assert!(html.contains("<figure id=\"plot-map\"><svg"), "{html}");
    // The scale, the axes with the fields, and a hover text per cell.
    for text in [
        "seeds judged metastable",
        "rows: faults[0].slowdown.factor (values as written)",
        "columns: faults[0].for (values as written)",
        "100 % metastable",
    ] {
        assert!(html.contains(text), "missing {text:?}");
    }
    assert_eq!(
        html.matches("</title></rect>").count(),
        4,
        "one hover per cell"
    );
    assert!(html.contains("href=\"cells/5/5s/sweep.html\""));
    assert!(out.join("cells/5/5s/sweep.html").is_file());
    let md = read(&out.join("map.md"));
    assert!(md.contains("![map](map.png)"), "{md}");
    let png = std::fs::read(out.join("map.png")).unwrap();
    assert_eq!(&png[1..4], b"PNG");
    assert_eq!(
        faultline_reports::plots::png_chart_format(&png),
        Some(faultline_reports::plots::CHART_FORMAT_VERSION)
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_grid_past_its_limits_is_refused_before_it_runs() {
    let dir = temp_dir("map-limits");
    let path = scenario();
    let path = path.to_str().unwrap();
    let out = dir.join("out");
    let out = out.to_str().unwrap();
    let values = |n: usize| {
        (1..=n)
            .map(|i| format!("{i}s"))
            .collect::<Vec<_>>()
            .join(",")
    };
    let many = format!("faults.0.for={}", values(65));
    let fifty = format!("faults.0.for={}", values(50));
    let fifty_factors = format!(
        "faults.0.slowdown.factor={}",
        (2..52).map(|i| i.to_string()).collect::<Vec<_>>().join(",")
    );
    for (args, expected) in [
        (
            vec!["--vary", FACTORS, "--vary", &many],
            "at most 64 values per --vary",
        ),
        (
            vec!["--vary", &fifty_factors, "--vary", &fifty, "--seeds", "41"],
            "is 102500 runs, more than the limit of 100000",
        ),
        (
            vec!["--vary", FACTORS, "--vary", DURATIONS, "--vary", "seed=1,2"],
            "--vary is given 3 times",
        ),
        (
            vec!["--vary", FACTORS, "--vary", "faults[0].slowdown.factor=2,3"],
            "is given twice",
        ),
        (
            vec!["--vary", FACTORS, "--vary", DURATIONS, "--seeds", "0"],
            "--seeds 0",
        ),
        (
            vec!["--vary", FACTORS, "--seeds", "3"],
            "--seeds is for a grid",
        ),
        (
            vec!["--vary", FACTORS, "--vary", "faults.0.for=1s,-2s"],
            "cell faults[0].slowdown.factor=1.5, faults[0].for=-2s",
        ),
    ] {
        let mut all = vec!["compare", path, "--out", out];
        all.extend(args.iter().copied());
        let result = faultline(&all);
        let stderr = String::from_utf8_lossy(&result.stderr).into_owned();
        expect_exit(&result, 2);
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
        assert!(!Path::new(out).exists(), "{args:?} wrote its output");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn one_vary_still_compares_variants() {
    let dir = temp_dir("map-one");
    let out = dir.join("out");
    let path = scenario();
    let stdout = expect_exit(
        &faultline(&[
            "compare",
            path.to_str().unwrap(),
            "--vary",
            FACTORS,
            "--out",
            out.to_str().unwrap(),
        ]),
        1,
    );
    assert!(
        stdout.starts_with("map-small: faults[0].slowdown.factor compared (seed 1)\n"),
        "{stdout}"
    );
    assert!(out.join("compare.json").is_file() && out.join("compare.html").is_file());
    assert!(!out.join("map.json").exists());
    std::fs::remove_dir_all(&dir).unwrap();
}
