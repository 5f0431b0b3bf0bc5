//! `faultline validate FILE...`: loads and validates each scenario file without running it.

use std::path::PathBuf;

use crate::scenario;

/// Validates each file; prints `ok  <path>  (<name>: N clients, M servers, duration)` (the
/// workload's node families) per
/// good file on stdout and `error: <file>:<line>:<col>: <path>: <message>` per bad file on
/// stderr; returns exit code 2 if any file is invalid, else 0.
pub fn run(paths: &[PathBuf]) -> u8 {
    let mut code = super::EXIT_OK;
    for path in paths {
        match scenario::load_file(path) {
            Ok(resolved) => {
                let nodes: Vec<String> = resolved
                    .families
                    .iter()
                    .map(|family| plural(family.count, family.prefix.trim_end_matches('-')))
                    .collect();
                println!(
                    "ok  {}  ({}: {}, {})",
                    path.display(),
                    resolved.scenario.name,
                    nodes.join(", "),
                    resolved.scenario.duration
                );
            }
            Err(err) => {
                eprintln!("error: {err}");
                code = super::EXIT_BAD_INPUT;
            }
        }
    }
    code
}

fn plural(count: u32, noun: &str) -> String {
    if count == 1 {
        format!("{count} {noun}")
    } else {
        format!("{count} {noun}s")
    }
}
