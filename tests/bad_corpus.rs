//! The loader's contract over a generated corpus of bad files: mutations of every bundled
//! scenario at every field path (wrong types, lists where objects belong, huge and
//! negative numbers, malformed durations, long text, removed and unknown keys) and
//! syntax errors (truncations, stray and missing characters). Every refused file gets a
//! located one-line message in the user's words, with no panic; every accepted one runs
//! (briefly) without an unlocated error. The corpus is generated deterministically and
//! run in-process through `scenario::load_text`; a sample goes through the real binary.

mod common;

use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;

use faultline::engine::EngineError;
use faultline::scenario;
use serde_json::{json, Map, Value};

/// One mutant: what was done (for failure messages) and the text.
struct Mutant {
    what: String,
    text: String,
}

/// The bundled scenarios, as text.
fn bundled() -> Vec<(String, String)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("scenarios/")
        .map(|entry| entry.expect("entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .filter(|path| !path.ends_with("schema.json"))
        .collect();
    files.sort();
    assert!(files.len() >= 4, "{files:?}");
    files
        .iter()
        .map(|path| {
            (
                path.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read_to_string(path).expect("read"),
            )
        })
        .collect()
}

/// Every JSON pointer in `value` (the root excluded), parents before children.
fn pointers(value: &Value, prefix: &str, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                let pointer = format!("{prefix}/{key}");
                out.push(pointer.clone());
                pointers(child, &pointer, out);
            }
        }
        Value::Array(items) => {
            for (index, child) in items.iter().enumerate() {
                let pointer = format!("{prefix}/{index}");
                out.push(pointer.clone());
                pointers(child, &pointer, out);
            }
        }
        _ => {}
    }
}

/// A run of one character, longer than any message may repeat.
fn long_text() -> String {
    "Q".repeat(300)
}

/// Replacement values tried at every path.
fn replacements() -> Vec<Value> {
    vec![
        json!(null),
        json!(true),
        json!("x"),
        json!([]),
        json!({}),
        json!(0),
        json!(-1),
        json!(1.5),
        json!(1e40),
        json!(-1e40),
        json!(18446744073709551615u64),
        json!("0s"),
        json!("-5s"),
        json!("5 parsecs"),
        json!("99999999999999999999d"),
        json!("18446744073709551615s"),
        json!("364d"),
        json!("1e9999s"),
        json!([[["1s"]]]),
        json!({"pareto": {"scale": "1us", "shape": 0.5}}),
        json!({"constant": "0s"}),
        Value::String(long_text()),
    ]
}

fn set(root: &mut Value, pointer: &str, value: Value) {
    *root.pointer_mut(pointer).expect("pointer exists") = value;
}

fn remove(root: &mut Value, pointer: &str) -> bool {
    let (parent, key) = pointer.rsplit_once('/').expect("a child pointer");
    match root.pointer_mut(parent) {
        Some(Value::Object(map)) => map.remove(key).is_some(),
        Some(Value::Array(items)) => {
            let index: usize = key.parse().expect("an index");
            items.remove(index);
            true
        }
        _ => false,
    }
}

/// The value mutants of one scenario, and which of them must be refused.
fn value_mutants(name: &str, original: &Value) -> (Vec<Mutant>, Vec<Mutant>) {
    let mut all = Vec::new();
    let mut must_fail = Vec::new();
    let mut paths = Vec::new();
    pointers(original, "", &mut paths);
    for pointer in &paths {
        let current = original.pointer(pointer).expect("exists").clone();
        for replacement in replacements() {
            let mut doc = original.clone();
            set(&mut doc, pointer, replacement.clone());
            all.push(Mutant {
                what: format!("{name}: {pointer} = {replacement}"),
                text: serde_json::to_string_pretty(&doc).unwrap(),
            });
        }
        let mut doc = original.clone();
        if remove(&mut doc, pointer) {
            all.push(Mutant {
                what: format!("{name}: {pointer} removed"),
                text: serde_json::to_string_pretty(&doc).unwrap(),
            });
        }
        if let Value::Object(map) = &current {
            // A list where an object is required, empty and with the object's values in
            // order (what serde would read as a struct's fields).
            for list in [json!([]), Value::Array(map.values().cloned().collect())] {
                let mut doc = original.clone();
                set(&mut doc, pointer, list.clone());
                must_fail.push(Mutant {
                    what: format!("{name}: {pointer} = {list}"),
                    text: serde_json::to_string_pretty(&doc).unwrap(),
                });
            }
            // An unknown key, short and long.
            for key in ["zzz_unknown".to_owned(), long_text()] {
                let mut doc = original.clone();
                let mut with_key: Map<String, Value> = map.clone();
                with_key.insert(key.clone(), json!(1));
                set(&mut doc, pointer, Value::Object(with_key));
                must_fail.push(Mutant {
                    what: format!("{name}: {pointer} + unknown key {}", &key[..3]),
                    text: serde_json::to_string_pretty(&doc).unwrap(),
                });
            }
        }
        if current.is_string() {
            // Text where a number, object or list belongs is refused by type; here a
            // string field gets the wrong type.
            for wrong in [json!(5), json!([1]), json!({"a": 1})] {
                let mut doc = original.clone();
                set(&mut doc, pointer, wrong.clone());
                must_fail.push(Mutant {
                    what: format!("{name}: {pointer} = {wrong}"),
                    text: serde_json::to_string_pretty(&doc).unwrap(),
                });
            }
        }
    }
    (all, must_fail)
}

/// Syntax mutants of one scenario's text: every one is refused.
fn syntax_mutants(name: &str, text: &str) -> Vec<Mutant> {
    let mut out = Vec::new();
    let boundaries: Vec<usize> = (0..text.len())
        .filter(|&i| text.is_char_boundary(i))
        .collect();
    // Deterministic positions spread over the file.
    let positions: Vec<usize> = boundaries.iter().copied().step_by(53).collect();
    for &at in &positions {
        // Cut only where something but whitespace is lost: a file cut before its final
        // newline is still the whole file.
        if !text[at..].trim().is_empty() {
            out.push(Mutant {
                what: format!("{name}: truncated at byte {at}"),
                text: text[..at].to_owned(),
            });
        }
        for junk in ["}", ",", "\"", "[", ":", "\u{0}"] {
            let mut mutated = text.to_owned();
            mutated.insert_str(at, junk);
            if serde_json::from_str::<Value>(&mutated).is_err() {
                out.push(Mutant {
                    what: format!("{name}: {junk:?} inserted at byte {at}"),
                    text: mutated,
                });
            }
        }
    }
    out.push(Mutant {
        what: format!("{name}: byte-order mark"),
        text: format!("\u{feff}{text}"),
    });
    out.push(Mutant {
        what: format!("{name}: two objects"),
        text: format!("{text}{{}}"),
    });
    out
}

/// Rust and serde words a message must not show.
const FORBIDDEN: [&str; 10] = [
    "struct ",
    "enum ",
    " u32",
    " u64",
    " f64",
    "Spec",
    "sequence",
    "invalid type: map",
    "expected value",
    "panicked",
];

/// Checks one refusal; returns the problem, if any.
fn problem(err: &scenario::ScenarioError) -> Option<String> {
    let text = err.to_string();
    if err.line == 0 || err.column == 0 {
        return Some("no line and column".to_owned());
    }
    if text.contains('\n') || err.message.is_empty() {
        return Some("not one line".to_owned());
    }
    if let Some(word) = FORBIDDEN.iter().find(|word| text.contains(*word)) {
        return Some(format!("says {word:?}"));
    }
    if text.contains(&"Q".repeat(81)) {
        return Some("repeats more than 80 characters of the input".to_owned());
    }
    None
}

/// Loads `text`, catching panics.
fn load(text: &str) -> Result<Result<scenario::ResolvedScenario, scenario::ScenarioError>, String> {
    std::panic::catch_unwind(|| {
        scenario::load_text(text, "mutant.json", &scenario::Options::default())
    })
    .map_err(|_| "panicked".to_owned())
}

#[test]
fn every_bad_file_is_refused_with_a_located_message_and_good_ones_run() {
    let mut refused = Vec::new();
    let mut accepted = Vec::new();
    let mut failures = Vec::new();
    let mut total = 0;
    for (name, text) in bundled() {
        let original: Value = serde_json::from_str(&text).expect("bundled scenario is JSON");
        let (values, must_fail) = value_mutants(&name, &original);
        let syntax = syntax_mutants(&name, &text);
        for (mutant, required) in values
            .into_iter()
            .map(|m| (m, false))
            .chain(must_fail.into_iter().map(|m| (m, true)))
            .chain(syntax.into_iter().map(|m| (m, true)))
        {
            total += 1;
            match load(&mutant.text) {
                Err(panic) => failures.push(format!("{}: {panic}", mutant.what)),
                Ok(Ok(resolved)) if required => {
                    failures.push(format!("{}: accepted ({})", mutant.what, resolved.run.name))
                }
                Ok(Ok(resolved)) => accepted.push((mutant.what, resolved)),
                Ok(Err(err)) => match problem(&err) {
                    Some(why) => failures.push(format!("{}: {why}: {err}", mutant.what)),
                    None => refused.push((mutant, err)),
                },
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {total} mutants broke the contract:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(total > 3_000, "corpus of {total}");
    assert!(
        refused.len() > total / 2,
        "{} refused of {total}",
        refused.len()
    );

    println!(
        "corpus: {total} mutants, {} refused, {} accepted",
        refused.len(),
        accepted.len()
    );
    // Accepted mutants run without an unlocated error: each to 20,000 events at most
    // (a limit error then is expected).
    let mut ran = 0;
    for (what, mut resolved) in accepted {
        resolved.plan.max_events = 20_000;
        let seed = resolved.run.seed;
        match faultline::runner::run(Arc::new(resolved), seed, None) {
            Ok(_) | Err(EngineError::Limit(_)) => ran += 1,
            Err(err) => failures.push(format!("{what}: accepted, then the run failed: {err}")),
        }
    }
    assert!(
        failures.is_empty(),
        "accepted mutants that failed to run:\n{}",
        failures.join("\n")
    );
    assert!(ran > 200, "{ran} accepted mutants ran");

    // A sample through the real binary: `validate` refuses each with the same message
    // (one line each, exit 2) in bounded memory.
    let dir = common::temp_dir("bad-corpus");
    let sample: Vec<(PathBuf, &scenario::ScenarioError)> = refused
        .iter()
        .step_by(refused.len() / 40)
        .enumerate()
        .map(|(index, (mutant, err))| {
            let path = dir.join(format!("{index:02}.json"));
            std::fs::write(&path, &mutant.text).expect("write mutant");
            (path, err)
        })
        .collect();
    let mut command = Command::new("sh");
    command
        .arg("-c")
        .arg("ulimit -v 2000000 && exec \"$0\" validate \"$@\"")
        .arg(env!("CARGO_BIN_EXE_faultline"))
        .args(sample.iter().map(|(path, _)| path));
    let output = command.output().expect("run faultline validate");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), sample.len(), "{stderr}");
    for ((path, err), line) in sample.iter().zip(&lines) {
        let expected = format!("error: {}:{}:{}: ", path.display(), err.line, err.column);
        assert!(line.starts_with(&expected), "{line}\n  wanted {expected}");
        assert!(
            line.ends_with(&err.message),
            "{line}\n  wanted {}",
            err.message
        );
    }
    // `run` refuses the same files the same way, before running anything.
    for (path, err) in sample.iter().take(3) {
        let output = Command::new(env!("CARGO_BIN_EXE_faultline"))
            .args(["run", path.to_str().unwrap(), "--out"])
            .arg(dir.join("never-written"))
            .output()
            .expect("run faultline run");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{stderr}");
        assert!(stderr.ends_with(&format!("{}\n", err.message)), "{stderr}");
        assert!(!dir.join("never-written").exists());
    }
}

#[test]
fn invalid_utf8_and_oversized_files_are_refused_before_parsing() {
    let dir = common::temp_dir("bad-bytes");
    let utf8 = dir.join("latin1.json");
    std::fs::write(&utf8, b"{\n  \"name\": \"caf\xe9\"\n}\n").unwrap();
    let err = scenario::load(&utf8, &scenario::Options::default()).unwrap_err();
    assert_eq!((err.line, err.column), (2, 15), "{err}");
    assert!(err.message.contains("invalid UTF-8 at byte 16"), "{err}");
    let big = dir.join("big.json");
    let limit = scenario::limits::MAX_FILE_BYTES;
    std::fs::write(&big, " ".repeat(limit + 1)).unwrap();
    let err = scenario::load(&big, &scenario::Options::default()).unwrap_err();
    assert!(
        err.message
            .contains(&format!("over the limit of {limit} bytes")),
        "{err}"
    );
}

// ---------------------------------------------------------------------------------------
// Records are input too (issue 28, section 4): repeated keys in scenarios, and tampered
// sweep records and run summaries. The record cases run in-process through the readers
// `faultline report` uses; `tests/records_input.rs` runs each kind through the binary.
// ---------------------------------------------------------------------------------------

/// A JSON pointer as the loader writes a field path: `/faults/0/kind` -> `faults[0].kind`.
fn field_path(pointer: &str) -> String {
    let mut path = String::new();
    for segment in pointer.split('/').skip(1) {
        if segment.parse::<usize>().is_ok() {
            path.push_str(&format!("[{segment}]"));
        } else {
            if !path.is_empty() {
                path.push('.');
            }
            path.push_str(segment);
        }
    }
    path
}

#[test]
fn a_repeated_key_in_any_object_is_refused_where_it_is_repeated() {
    const MARK: &str = "\"@@repeated@@\"";
    let mut failures = Vec::new();
    let mut total = 0;
    for (name, text) in bundled() {
        let original: Value = serde_json::from_str(&text).expect("bundled scenario is JSON");
        let mut objects = vec![String::new()];
        pointers(&original, "", &mut objects);
        for pointer in objects {
            let Some(Value::Object(map)) = original.pointer(&pointer) else {
                continue;
            };
            let Some((key, value)) = map.iter().next() else {
                continue;
            };
            // The object with its first key written twice, the rest as it was.
            let first = format!("{}: {value}", Value::String(key.clone()));
            let rest: Vec<String> = map
                .iter()
                .map(|(k, v)| format!("{}: {v}", Value::String(k.clone())))
                .collect();
            let object = format!("{{{first}, {}}}", rest.join(", "));
            let mutant = if pointer.is_empty() {
                object
            } else {
                let mut doc = original.clone();
                set(&mut doc, &pointer, Value::String("@@repeated@@".into()));
                serde_json::to_string_pretty(&doc)
                    .unwrap()
                    .replacen(MARK, &object, 1)
            };
            total += 1;
            let expected = field_path(&format!("{pointer}/{key}"));
            match load(&mutant) {
                Err(panic) => failures.push(format!("{name} {pointer}: {panic}")),
                Ok(Ok(_)) => failures.push(format!("{name} {pointer}: `{key}` twice accepted")),
                Ok(Err(err)) => {
                    if let Some(problem) = problem(&err) {
                        failures.push(format!("{name} {pointer}: {problem}: {err}"));
                    } else if !err.message.contains("duplicate key") || err.path != expected {
                        failures.push(format!("{name} {pointer}: expected {expected}: {err}"));
                    }
                }
            }
        }
    }
    assert!(total > 100, "only {total} objects");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// A valid sweep record of seeds 10..20, shard `index` of 3.
fn sweep_record(index: u64) -> faultline::sweep::record::SweepFile {
    common::sweep_file(Some(faultline::sweep::seeds::Shard { index, count: 3 }))
}

#[test]
fn every_tampered_sweep_record_is_refused_or_reported_without_a_panic() {
    use faultline::sweep::record::{merge, SweepFile, TimingFile};
    let dir = common::temp_dir("bad-sweep-records");
    let original: Value = serde_json::from_str(&sweep_record(1).to_text()).unwrap();
    let timing = TimingFile {
        parts: Vec::new(),
        runs: Vec::new(),
    };
    let mut paths = Vec::new();
    pointers(&original, "", &mut paths);
    let values = [
        json!(0),
        json!(-1),
        json!(u64::MAX),
        json!(1u64 << 62),
        json!(1_000_000_000u64),
        json!(1e308),
        json!("x"),
        json!(null),
        json!([]),
        json!({}),
    ];
    let (mut refused, mut failures) = (0, Vec::new());
    for pointer in &paths {
        for value in &values {
            let mut doc = original.clone();
            set(&mut doc, pointer, value.clone());
            std::fs::write(dir.join("sweep.json"), doc.to_string()).unwrap();
            let what = format!("{pointer} = {value}");
            // Refused, or accepted and then reported and merged without a panic.
            let outcome = std::panic::catch_unwind(|| {
                let file = SweepFile::load(&dir)?;
                faultline::sweep::report::terminal_summary(&file, &timing, 20);
                // A merge may refuse it (a changed scenario name), with a message.
                if let Err(err) = merge(vec![sweep_record(0), file, sweep_record(2)]) {
                    assert!(!err.is_empty() && !err.contains('\n'), "{err}");
                }
                Ok::<(), String>(())
            });
            match outcome {
                Err(_) => failures.push(format!("{what}: panicked")),
                Ok(Err(err)) if err.contains("sweep.json: ") && !err.contains('\n') => refused += 1,
                Ok(Err(err)) => failures.push(format!("{what}: {err}")),
                Ok(Ok(())) => {}
            }
        }
    }
    assert!(refused > paths.len(), "only {refused} refusals");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_tampered_summary_is_refused_with_its_file_or_reported() {
    let dir = common::temp_dir("bad-summaries");
    let record = common::run_record(&common::base_scenario());
    faultline_reports::save_run(&dir, &record).unwrap();
    let text = std::fs::read_to_string(dir.join("summary.json")).unwrap();
    let original: Value = serde_json::from_str(&text).unwrap();
    let mut paths = Vec::new();
    pointers(&original, "", &mut paths);
    // The scenario copy is never read by the reports: leave its thousand paths out.
    paths.retain(|pointer| !pointer.starts_with("/scenario_spec/"));
    let values = [
        json!(-1),
        json!(u64::MAX),
        json!(1e308),
        json!("x"),
        json!(null),
        json!([]),
    ];
    let mut failures = Vec::new();
    for pointer in &paths {
        for value in &values {
            let mut doc = original.clone();
            set(&mut doc, pointer, value.clone());
            std::fs::write(dir.join("summary.json"), doc.to_string()).unwrap();
            let outcome = std::panic::catch_unwind(|| faultline_reports::load_run(&dir));
            match outcome {
                Err(_) => failures.push(format!("{pointer} = {value}: panicked")),
                Ok(Err(err)) if !err.to_string().contains("summary.json") => {
                    failures.push(format!("{pointer} = {value}: {err}"))
                }
                Ok(_) => {}
            }
        }
    }
    assert!(paths.len() > 20, "{paths:?}");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

// ---- Output paths (issue 28, "nothing lost"): every refusal exits 2, names the path,
// and leaves what was there untouched. ----

/// What an output path holds before a command is refused it.
struct OutputCase {
    what: &'static str,
    /// Makes the path (under a fresh directory) and returns it.
    make: fn(&std::path::Path) -> PathBuf,
}

fn tampered_marker(dir: &std::path::Path, marker: &str) -> PathBuf {
    let out = dir.join("out");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join(".faultline-output"), marker).unwrap();
    std::fs::write(out.join("notes.txt"), "mine").unwrap();
    out
}

const OUTPUT_CASES: [OutputCase; 8] = [
    OutputCase {
        what: "a regular file",
        make: |dir| {
            let out = dir.join("out");
            std::fs::write(&out, "mine").unwrap();
            out
        },
    },
    OutputCase {
        what: "a directory of other files with a summary.json",
        make: |dir| {
            let out = dir.join("out");
            std::fs::create_dir_all(&out).unwrap();
            std::fs::write(out.join("summary.json"), "{}").unwrap();
            std::fs::write(out.join("notes.txt"), "mine").unwrap();
            out
        },
    },
    OutputCase {
        what: "a marker that is not JSON",
        make: |dir| tampered_marker(dir, "not json"),
    },
    OutputCase {
        what: "a marker of another format",
        make: |dir| {
            tampered_marker(
                dir,
                r#"{"format": "faultline-output/99", "kind": "run", "source": "x"}"#,
            )
        },
    },
    OutputCase {
        what: "a marker of an unknown kind",
        make: |dir| {
            tampered_marker(
                dir,
                r#"{"format": "faultline-output/1", "kind": "thesis", "source": "x"}"#,
            )
        },
    },
    OutputCase {
        what: "a marker that is too large",
        make: |dir| tampered_marker(dir, &" ".repeat(100_000)),
    },
    OutputCase {
        what: "the current directory",
        make: |dir| dir.join("."),
    },
    OutputCase {
        what: "the parent directory",
        make: |dir| dir.join("sub").join(".."),
    },
];

#[test]
fn output_paths_that_would_replace_what_faultline_did_not_write_are_refused() {
    let scenario = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("sweeps")
        .join("storm-small.json");
    for (index, case) in OUTPUT_CASES.iter().enumerate() {
        for command in ["run", "compare", "sweep"] {
            let dir = common::temp_dir(&format!("bad-out-{index}-{command}"));
            std::fs::create_dir_all(dir.join("sub")).unwrap();
            let out = (case.make)(&dir);
            let before = snapshot(&dir);
            let mut args: Vec<String> = vec![command.into(), scenario.display().to_string()];
            match command {
                "compare" => args.extend(["--vary".into(), "description=a,b".into()]),
                "sweep" => args.extend(["--seeds".into(), "1..2".into()]),
                _ => {}
            }
            args.extend(["--out".into(), out.display().to_string()]);
            let output = Command::new(env!("CARGO_BIN_EXE_faultline"))
                .args(&args)
                .output()
                .expect("faultline runs");
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert_eq!(
                output.status.code(),
                Some(2),
                "{command} --out {}: {stderr}",
                case.what
            );
            assert!(stderr.starts_with("error: "), "{}: {stderr}", case.what);
            assert!(!stderr.contains("panicked"), "{}: {stderr}", case.what);
            assert_eq!(snapshot(&dir), before, "{command}: {} changed", case.what);
        }
    }
}

/// Every file under `dir` with its content, in order.
fn snapshot(dir: &std::path::Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(next) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&next) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path.clone());
                files.push((path, Vec::new()));
            } else {
                files.push((path.clone(), std::fs::read(&path).unwrap_or_default()));
            }
        }
    }
    files.sort();
    files
}
