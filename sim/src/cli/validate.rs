//! `faultline validate FILE...`: loads and validates each scenario file without running
//! it, through the same resolve step as `run`.

use std::path::PathBuf;

use crate::scenario;

/// Validates each file; prints `ok  <path>  (<name>: N clients, M servers, duration)`
/// (the workload's node families) per good file on stdout, `skip  <path>  (...)` for the
/// JSON Schema of scenario files (so `faultline validate scenarios/*.json` works), and
/// `error: <file>:<line>:<col>: <path>: <message>` per bad file on stderr; returns exit
/// code 2 if any file is invalid, else 0.
pub fn run(paths: &[PathBuf]) -> u8 {
    let mut code = super::EXIT_OK;
    for path in paths {
        let origin = path.display().to_string();
        let loaded = scenario::load::read_text(path).and_then(|text| {
            if scenario::load::is_json_schema(&text) {
                return Ok(None);
            }
            scenario::load_text(&text, &origin, &scenario::Options::default()).map(Some)
        });
        match loaded {
            Ok(Some(resolved)) => {
                let nodes: Vec<String> = resolved
                    .plan
                    .families
                    .iter()
                    .map(|family| plural(family.count, family.prefix.trim_end_matches('-')))
                    .collect();
                println!(
                    "ok  {}  ({}: {}, {})",
                    path.display(),
                    resolved.run.name,
                    nodes.join(", "),
                    scenario::Dur::from_nanos(resolved.plan.duration_ns)
                );
            }
            Ok(None) => println!(
                "skip  {}  (the JSON Schema of scenario files, not a scenario)",
                path.display()
            ),
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
