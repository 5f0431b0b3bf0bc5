//! The JSON Schema of scenario files, generated from the serde types with `schemars`.
//!
//! The committed copy is `scenarios/schema.json`; every scenario names it with
//! `"$schema": "schema.json"` so editors complete and check keys. `tests/schema.rs` fails
//! when the copy is stale; `FAULTLINE_BLESS=1 cargo test --test schema` rewrites it.
//!
//! The schema describes the shape; the rules that span fields (a fault's `for`, selectors
//! that must match a node, limits) are checked on load, see [`super::validate`].

use std::borrow::Cow;
use std::path::Path;

use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};

use super::{Check, Dur, Scenario, Selector, SignedDur};

/// The regular expression of a duration accepted by humantime: `"0"`, or numbers with
/// units, optionally several (`"250us"`, `"1.5s"`, `"2m 30s"`).
pub const DURATION_PATTERN: &str = r"^\s*(0|([0-9]+(\.[0-9]+)?\s*[A-Za-zµ]+\s*)+)\s*$";

/// The regular expression of a signed duration (`"-250ms"`).
pub const SIGNED_DURATION_PATTERN: &str =
    r"^\s*[+-]?\s*(0|([0-9]+(\.[0-9]+)?\s*[A-Za-zµ]+\s*)+)\s*$";

/// The regular expression of a node selector: a name, or a prefix ending in `*`.
pub const SELECTOR_PATTERN: &str = r"^[^*]*\*?$";

impl JsonSchema for Check {
    fn schema_name() -> Cow<'static, str> {
        "Check".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        let names = crate::workload::all_check_names();
        json_schema!({
            "type": "object",
            "description": "A check evaluated after the run, one key: what it checks, and its bound (a number, a duration such as \"1s\", or true). Which checks exist depends on the workload kind.",
            "minProperties": 1,
            "maxProperties": 1,
            "propertyNames": { "enum": names },
            "additionalProperties": { "type": ["number", "string", "boolean"] }
        })
    }
}

impl JsonSchema for Dur {
    fn schema_name() -> Cow<'static, str> {
        "Duration".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "description": "A duration with a unit: \"250us\", \"5ms\", \"1.5s\", \"2m\", \"1h 30m\" (units: ns, us, ms, s, m, h, d).",
            "pattern": DURATION_PATTERN,
            "examples": ["5ms", "1.5s", "2m"]
        })
    }
}

impl JsonSchema for SignedDur {
    fn schema_name() -> Cow<'static, str> {
        "SignedDuration".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "description": "A duration with a unit, optionally negative: \"-250ms\" (behind true time), \"1s\".",
            "pattern": SIGNED_DURATION_PATTERN,
            "examples": ["-250ms", "100ms"]
        })
    }
}

impl JsonSchema for Selector {
    fn schema_name() -> Cow<'static, str> {
        "Selector".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "description": "Nodes by name (\"server-0\") or by prefix with a trailing `*` (\"client-*\", \"*\"). Each workload names its nodes (rpc: client-0..client-{count-1} and server-0..server-{count-1}); a selector must match at least one.",
            "pattern": SELECTOR_PATTERN,
            "minLength": 1,
            "examples": ["server-0", "client-*", "*"]
        })
    }
}

/// The schema of a scenario file as pretty JSON, with a trailing newline.
pub fn schema_json() -> String {
    let schema = schemars::schema_for!(Scenario);
    let mut text = serde_json::to_string_pretty(&schema).expect("a schema serializes to JSON");
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_is_json_with_the_top_level_keys() {
        let text = schema_json();
        let value: serde_json::Value = serde_json::from_str(&text).unwrap();
        let properties = value["properties"].as_object().unwrap();
        for key in [
            "$schema", "name", "duration", "network", "workload", "faults", "checks",
        ] {
            assert!(properties.contains_key(key), "{key}");
        }
        assert_eq!(value["additionalProperties"], false);
        assert!(text.ends_with("}\n"));
    }
}

/// `schema`, a `$schema` as written in a scenario file in `from_dir`, as it must be
/// written in a copy of that scenario in `to_dir` (which exists) to name the same file:
/// a relative path from `to_dir`. A URL is kept as it is; `None` when the schema file is
/// not there, since a `$schema` that names nothing only misleads an editor.
pub fn relocate(schema: &str, from_dir: &Path, to_dir: &Path) -> Option<String> {
    if schema.contains("://") {
        return Some(schema.to_string());
    }
    let target = from_dir.join(schema);
    if !target.is_file() {
        return None;
    }
    let relative = crate::format::paths::relative(to_dir, &target)?;
    let text = relative.to_str()?.replace('\\', "/");
    Some(text)
}

#[cfg(test)]
mod relocate_tests {
    use super::relocate;

    #[test]
    fn a_schema_path_is_made_relative_to_where_the_copy_lives() {
        let root = std::env::temp_dir().join(format!("faultline-relocate-{}", std::process::id()));
        let scenarios = root.join("scenarios");
        let deep = root.join("runs").join("x").join("shrink-seed-1");
        std::fs::create_dir_all(&scenarios).unwrap();
        std::fs::create_dir_all(&deep).unwrap();
        std::fs::write(scenarios.join("schema.json"), "{}").unwrap();
        assert_eq!(
            relocate("schema.json", &scenarios, &deep).as_deref(),
            Some("../../../scenarios/schema.json")
        );
        assert_eq!(
            relocate("schema.json", &scenarios, &scenarios).as_deref(),
            Some("schema.json")
        );
        // A schema that is not there is dropped; a URL is kept.
        assert_eq!(relocate("missing.json", &scenarios, &deep), None);
        assert_eq!(
            relocate("https://example.org/s.json", &scenarios, &deep).as_deref(),
            Some("https://example.org/s.json")
        );
        let _ = std::fs::remove_dir_all(&root);
    }
}
