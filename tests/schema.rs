//! The committed JSON Schema (`scenarios/schema.json`) matches the types, and every
//! bundled scenario loads and names the schema.
//!
//! When the types change: `FAULTLINE_BLESS=1 cargo test --test schema` rewrites the schema.

use std::path::{Path, PathBuf};

fn scenarios_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios")
}

#[test]
fn committed_schema_is_current() {
    let path = scenarios_dir().join("schema.json");
    let generated = faultline::scenario::schema_json();
    if std::env::var_os("FAULTLINE_BLESS").is_some_and(|value| value == "1") {
        std::fs::create_dir_all(scenarios_dir()).expect("create scenarios/");
        std::fs::write(&path, &generated).expect("write scenarios/schema.json");
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "{} is stale or missing: the scenario types changed.\n\
         Regenerate it with:  FAULTLINE_BLESS=1 cargo test --test schema\n\
         and commit the result.",
        path.display()
    );
}

#[test]
fn every_bundled_scenario_loads_and_names_the_schema() {
    let mut files: Vec<PathBuf> = std::fs::read_dir(scenarios_dir())
        .expect("read scenarios/")
        .map(|entry| entry.expect("read scenarios/ entry").path())
        .filter(|path| {
            path.extension().is_some_and(|ext| ext == "json")
                && path.file_name().is_some_and(|name| name != "schema.json")
        })
        .collect();
    files.sort();
    let mut problems = Vec::new();
    for file in &files {
        match faultline::scenario::load(file, &faultline::scenario::Options::default()) {
            Ok(scenario) => {
                if scenario.run.spec["$schema"] != "schema.json" {
                    problems.push(format!(
                        "{}: add \"$schema\": \"schema.json\" as the first key",
                        file.display()
                    ));
                }
            }
            Err(err) => problems.push(err.to_string()),
        }
    }
    assert!(
        problems.is_empty(),
        "bundled scenarios with problems:\n{}",
        problems.join("\n")
    );
}
