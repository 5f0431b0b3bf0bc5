//! `faultline compare SCENARIO --vary PATH=V1,V2,... [--seed N] [--out DIR]`
//!
//! One variant per value, all at the same seed, so the only difference between runs is
//! the varied field. Each variant's records go to `OUT/<value>/`; the comparison report
//! and overlay charts go to `OUT/`.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Arc;

use faultline_reports::record::RunRecord;
use serde_json::Value;

use crate::scenario::{self, ResolvedScenario, Scenario};

use super::run::{reproduce_command, run_and_record};
use super::{EXIT_BAD_INPUT, EXIT_CHECK_FAILED, EXIT_OK};

/// Arguments of `compare`.
#[derive(Debug, clap::Args)]
pub struct CompareArgs {
    /// Scenario file (JSON).
    pub scenario: PathBuf,
    /// The field to vary and its values: `workload.clients.retry.backoff.jitter=none,full`.
    #[arg(long, value_name = "PATH=V1,V2,...")]
    pub vary: String,
    /// Seed for every variant (default: the scenario's).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Output directory (default `runs/<name>/compare-<field>`).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// A `--vary` argument, split.
#[derive(Clone, Debug, PartialEq)]
pub struct Vary {
    /// Dotted field path.
    pub path: String,
    /// Values as written.
    pub values: Vec<String>,
}

/// Parses `PATH=V1,V2,...`.
pub fn parse_vary(text: &str) -> Result<Vary, String> {
    let (path, values) = text
        .split_once('=')
        .ok_or_else(|| format!("--vary {text:?}: write PATH=V1,V2,... (e.g. workload.clients.retry.backoff.jitter=none,full)"))?;
    let values: Vec<String> = values
        .split(',')
        .map(|value| value.trim().to_owned())
        .collect();
    if path.trim().is_empty() || values.iter().any(String::is_empty) {
        return Err(format!(
            "--vary {text:?}: the path and every value must be non-empty"
        ));
    }
    Ok(Vary {
        path: path.trim().to_owned(),
        values,
    })
}

/// Returns `scenario` with the field at `path` set to `value` (JSON if it parses as
/// JSON, else a string), validated like a scenario file.
pub fn vary_scenario(
    scenario: &Scenario,
    path: &str,
    value: &str,
) -> Result<ResolvedScenario, String> {
    // Serialized with defaults filled in, so a field the file leaves at its default
    // still has a path.
    let mut tree = serde_json::to_value(scenario).map_err(|err| err.to_string())?;
    let mut node = &mut tree;
    for key in path.split('.') {
        node = match node {
            Value::Object(map) => map.get_mut(key),
            Value::Array(items) => key
                .parse::<usize>()
                .ok()
                .and_then(|index| items.get_mut(index)),
            _ => None,
        }
        .ok_or_else(|| format!("--vary: {path}: no field {key:?} in the scenario"))?;
    }
    *node = serde_json::from_str(value).unwrap_or_else(|_| Value::String(value.to_owned()));
    let text = serde_json::to_string_pretty(&tree).map_err(|err| err.to_string())?;
    scenario::load_str(&text, &format!("{} with {path}={value}", scenario.name))
        .map_err(|err| format!("--vary: {err}"))
}

fn progress(done: usize, total: usize, label: &str) {
    if !std::io::stderr().is_terminal() {
        return;
    }
    const WIDTH: usize = 30;
    let filled = WIDTH * done / total.max(1);
    eprint!(
        "\r[{}{}] {done}/{total} variants {label:<24}",
        "#".repeat(filled),
        " ".repeat(WIDTH - filled)
    );
    if done == total {
        eprintln!();
    }
}

fn safe_label(value: &str) -> String {
    value
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Runs `compare`; returns the exit code.
pub fn run(args: &CompareArgs) -> u8 {
    let vary = match parse_vary(&args.vary) {
        Ok(vary) => vary,
        Err(err) => {
            eprintln!("error: {err}");
            return EXIT_BAD_INPUT;
        }
    };
    let base = match scenario::load_file(&args.scenario) {
        Ok(resolved) => resolved.scenario,
        Err(err) => {
            eprintln!("error: {err}");
            return EXIT_BAD_INPUT;
        }
    };
    // Build and validate every variant before running any.
    let mut variants = Vec::with_capacity(vary.values.len());
    for value in &vary.values {
        match vary_scenario(&base, &vary.path, value) {
            Ok(scenario) => variants.push((value.clone(), Arc::new(scenario))),
            Err(err) => {
                eprintln!("error: {}: {err}", args.scenario.display());
                return EXIT_BAD_INPUT;
            }
        }
    }
    let seed = args.seed.unwrap_or(base.seed);
    let field = vary.path.rsplit('.').next().unwrap_or("field");
    let out = args.out.clone().unwrap_or_else(|| {
        PathBuf::from("runs")
            .join(&base.name)
            .join(format!("compare-{}", safe_label(field)))
    });
    let mut records: Vec<(String, RunRecord)> = Vec::with_capacity(variants.len());
    progress(0, variants.len(), "");
    for (index, (label, scenario)) in variants.iter().enumerate() {
        let dir = out.join(safe_label(label));
        match run_and_record(scenario, &args.scenario, seed, &dir, false) {
            Ok(mut rec) => {
                rec.summary.reproduce = format!(
                    "faultline compare {} --vary {}={} --seed {seed}",
                    args.scenario.display(),
                    vary.path,
                    label
                );
                records.push((label.clone(), rec));
            }
            Err(failure) => {
                eprintln!("error: variant {}={label}: {}", vary.path, failure.message);
                eprintln!("{}", reproduce_command(&args.scenario, seed));
                return failure.code;
            }
        }
        progress(index + 1, variants.len(), label);
    }
    let title = format!("{}: {} compared", base.name, vary.path);
    if let Err(err) = faultline_reports::write_comparison(&out, &title, &vary.path, &records) {
        eprintln!("error: writing the comparison to {}: {err}", out.display());
        return EXIT_CHECK_FAILED;
    }
    println!("{title} (seed {seed})");
    print!(
        "{}",
        faultline_reports::comparison_table(&vary.path, &records)
    );
    println!("records      {}", out.display());
    println!("report       {}", out.join("compare.html").display());
    EXIT_OK
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn herd() -> Scenario {
        scenario::load_file(Path::new("scenarios/thundering-herd.json"))
            .expect("bundled scenario loads")
            .scenario
    }

    fn rpc(resolved: &ResolvedScenario) -> &crate::workload::rpc::spec::RpcSpec {
        crate::workload::rpc::spec_of(&resolved.scenario).expect("an rpc scenario")
    }

    #[test]
    fn vary_parses_and_sets_a_field() {
        let vary = parse_vary("workload.clients.retry.backoff.jitter=none,full").unwrap();
        assert_eq!(vary.values, vec!["none", "full"]);
        let varied = vary_scenario(&herd(), &vary.path, "full").unwrap();
        assert_eq!(
            rpc(&varied).clients.retry.backoff.jitter,
            crate::workload::rpc::spec::JitterSpec::Full
        );
        let varied = vary_scenario(&herd(), "workload.clients.count", "50").unwrap();
        assert_eq!(rpc(&varied).clients.count, 50);
    }

    #[test]
    fn unknown_paths_and_wrong_types_are_errors() {
        let err = vary_scenario(&herd(), "workload.clients.retri.max_attempts", "3").unwrap_err();
        assert!(err.contains("no field \"retri\""), "{err}");
        let err = vary_scenario(&herd(), "workload.clients.count", "many").unwrap_err();
        assert!(err.contains("workload.clients.count"), "{err}");
        let err =
            vary_scenario(&herd(), "workload.clients.retry.backoff.jitter", "ful").unwrap_err();
        assert!(err.contains("unknown variant"), "{err}");
        assert!(parse_vary("no-equals-sign").is_err());
        assert!(parse_vary("a.b=x,,y").is_err());
    }
}
