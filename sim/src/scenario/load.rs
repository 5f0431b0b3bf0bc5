//! Loading a scenario: JSON parsing with exact error locations, then validation.

use std::fmt;
use std::path::Path;

use serde_json::error::Category;

use super::locate::{line_column, locate};
use super::resolve::{resolve, ResolvedScenario};
use super::validate::Issue;
use super::Scenario;
use crate::workload::NestedError;

/// A scenario that could not be loaded: where, which field, and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScenarioError {
    /// The file (or `<string>`).
    pub origin: String,
    /// 1-based line, 0 when unknown.
    pub line: usize,
    /// 1-based column, 0 when unknown.
    pub column: usize,
    /// Field path such as `workload.clients.retry.backoff.jitter` (empty for the root).
    pub path: String,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.origin)?;
        if self.line > 0 {
            write!(f, ":{}:{}", self.line, self.column)?;
        }
        f.write_str(": ")?;
        if !self.path.is_empty() {
            write!(f, "{}: ", self.path)?;
        }
        f.write_str(&self.message)
    }
}

impl std::error::Error for ScenarioError {}

/// Reads and resolves a scenario file.
pub fn load_file(path: &Path) -> Result<ResolvedScenario, ScenarioError> {
    let origin = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|err| ScenarioError {
        origin: origin.clone(),
        line: 0,
        column: 0,
        path: String::new(),
        message: format!("cannot read: {err}"),
    })?;
    load_str(&text, &origin)
}

/// Reads and resolves a scenario file to run at `seed` (`None`: the file's own seed).
/// The seed is set before the resolve step, so a `swarm` block draws from the seed the
/// run uses.
pub fn load_file_at(path: &Path, seed: Option<u64>) -> Result<ResolvedScenario, ScenarioError> {
    let origin = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|err| ScenarioError {
        origin: origin.clone(),
        line: 0,
        column: 0,
        path: String::new(),
        message: format!("cannot read: {err}"),
    })?;
    let mut scenario = parse_str(&text, &origin)?;
    if let Some(seed) = seed {
        scenario.seed = seed;
    }
    resolve(scenario).map_err(|issue| located(&text, &origin, issue))
}

/// Parses and resolves scenario text; `origin` names it in errors.
///
/// Syntax errors keep serde_json's line and column (where the parser stopped); errors of
/// a value (wrong type, unknown key, bad duration), of the semantic rules and of the
/// limits point at the start of the offending value, or, for a field left to its
/// default, at the start of the enclosing object.
pub fn load_str(text: &str, origin: &str) -> Result<ResolvedScenario, ScenarioError> {
    let scenario = parse_str(text, origin)?;
    resolve(scenario).map_err(|issue| located(text, origin, issue))
}

/// The error of `issue` in `text`, located by its path.
pub fn located(text: &str, origin: &str, issue: Issue) -> ScenarioError {
    let (line, column) =
        locate(text, &issue.path).map_or((0, 0), |location| (location.line, location.column));
    ScenarioError {
        origin: origin.to_owned(),
        line,
        column,
        path: issue.path,
        message: issue.message,
    }
}

/// Parses scenario text into its types, without the resolve step.
pub fn parse_str(text: &str, origin: &str) -> Result<Scenario, ScenarioError> {
    if text.trim().is_empty() {
        return Err(ScenarioError {
            origin: origin.to_owned(),
            line: 1,
            column: 1,
            path: String::new(),
            message: "the file is empty; a scenario is a JSON object with at least \"name\", \
                      \"duration\" and \"workload\" (see scenarios/schema.json)"
                .to_owned(),
        });
    }
    let start = text.len() - text.trim_start().len();
    if !text[start..].starts_with('{') {
        // serde would read an array as a struct's fields in order: say what is wrong instead.
        let (line, column) = line_column(text, start);
        let found: String = text[start..].chars().take(12).collect();
        return Err(ScenarioError {
            origin: origin.to_owned(),
            line,
            column,
            path: String::new(),
            message: format!(
                "a scenario is a JSON object: the file must start with `{{`, not {found:?}"
            ),
        });
    }
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let scenario: Scenario =
        serde_path_to_error::deserialize(&mut deserializer).map_err(|err| {
            let path = err.path().to_string();
            let outer = clean_path(&path);
            let inner = err.into_inner();
            if is_json_schema(text) {
                return ScenarioError {
                    origin: origin.to_owned(),
                    line: 1,
                    column: 1,
                    path: String::new(),
                    message: "this file is a JSON Schema (such as scenarios/schema.json), not a \
                              scenario; leave it out of the list of scenarios"
                        .to_owned(),
                };
            }
            let raw = bare_message(&inner);
            // An error inside the workload object carries its own path (see
            // `NestedError`).
            let (path, message) = match NestedError::parse(&raw) {
                Some((nested, message)) => (join(&outer, &clean_path(nested)), message.to_owned()),
                None => (outer, raw),
            };
            // A missing field: name it in the path too.
            let path = match missing_field(&message) {
                Some(field) if path.is_empty() => field,
                Some(field) => format!("{path}.{field}"),
                None => path,
            };
            // A value's error points at the value when the path leads to it (serde's
            // position is where the parser stopped: past the value, or at the end of a
            // buffered object).
            let found = (inner.classify() == Category::Data)
                .then(|| locate(text, &path))
                .flatten()
                .filter(|location| location.exact);
            let (line, column) = match found {
                Some(location) => (location.line, location.column),
                None => (inner.line(), inner.column().max(1)),
            };
            ScenarioError {
                origin: origin.to_owned(),
                line,
                column,
                message: explain(&message, &path),
                path,
            }
        })?;
    deserializer.end().map_err(|err| ScenarioError {
        origin: origin.to_owned(),
        line: err.line(),
        column: err.column().max(1),
        path: String::new(),
        message: format!(
            "{} (a scenario file holds one JSON object)",
            bare_message(&err)
        ),
    })?;
    Ok(scenario)
}

/// `outer.inner`, or either alone when the other is empty.
fn join(outer: &str, inner: &str) -> String {
    match (outer.is_empty(), inner.is_empty()) {
        (_, true) => outer.to_owned(),
        (true, false) => inner.to_owned(),
        (false, false) => format!("{outer}.{inner}"),
    }
}

/// Whether the text is a JSON Schema document (its `$schema` names json-schema.org).
fn is_json_schema(text: &str) -> bool {
    serde_json::from_str::<serde_json::Value>(text).is_ok_and(|value| {
        value
            .get("$schema")
            .and_then(serde_json::Value::as_str)
            .is_some_and(|schema| schema.contains("json-schema.org"))
    })
}

/// serde_path_to_error's path, without the `?` segments it writes for positions the
/// parser never entered (a syntax error inside a value), and empty for the root.
fn clean_path(path: &str) -> String {
    let mut kept = String::new();
    for (index, segment) in path.split('.').enumerate() {
        if segment.starts_with('?') || segment.is_empty() {
            break;
        }
        if index > 0 {
            kept.push('.');
        }
        kept.push_str(segment);
    }
    kept
}

/// The field named by a `missing field` error.
fn missing_field(message: &str) -> Option<String> {
    let name = message.strip_prefix("missing field `")?.strip_suffix('`')?;
    Some(name.to_owned())
}

/// serde_json's message without its ` at line L column C` suffix (the error carries those).
fn bare_message(err: &serde_json::Error) -> String {
    let text = err.to_string();
    let suffix = format!(" at line {} column {}", err.line(), err.column());
    match text.strip_suffix(&suffix) {
        Some(bare) => bare.to_owned(),
        None => text,
    }
}

/// Rewrites serde's messages into ones that say what to write: names in double quotes
/// (as they are written in JSON), a suggestion for a misspelt key or variant, and the
/// limit for an out-of-range number.
fn explain(message: &str, path: &str) -> String {
    let message = message.to_owned();
    for what in ["unknown variant `", "unknown field `"] {
        if let Some(rest) = message.strip_prefix(what) {
            let end = rest
                .find("`, expected ")
                .or_else(|| rest.find("`, there are no "));
            if let Some(end) = end {
                let (given, expected) = (&rest[..end], &rest[end + 3..]);
                let names: Vec<&str> = expected.split('`').skip(1).step_by(2).collect();
                let mut out = format!(
                    "{}{given:?}, {}",
                    &what[..what.len() - 1],
                    expected.replace('`', "\"")
                );
                if let Some(best) = closest(given, &names) {
                    out.push_str(&format!(" (did you mean \"{best}\"?)"));
                }
                return out;
            }
        }
    }
    if let Some(rest) = message.strip_prefix("missing field `") {
        if let Some(name) = rest.strip_suffix('`') {
            return format!("missing field \"{name}\"");
        }
    }
    if message.starts_with("number out of range") {
        return format!("{message}: write a smaller number");
    }
    if let Some(rest) = message.strip_prefix("invalid type: string ") {
        if ["u32", "u64", "f64"]
            .iter()
            .any(|kind| rest.ends_with(&format!("expected {kind}")))
        {
            return format!("{message} (write the number without quotes)");
        }
    }
    if message.starts_with("EOF while parsing") {
        return format!(
            "{message}: the file ends too early (look for a missing `}}`, `]` or `\"`)"
        );
    }
    number_message(&message, path).unwrap_or(message)
}

/// `invalid value: integer `N`, expected u32` and `invalid type: floating point `N`,
/// expected u32` (also u64), for too-large, negative and fractional numbers.
fn number_message(message: &str, path: &str) -> Option<String> {
    let rest = message
        .strip_prefix("invalid value: integer `")
        .or_else(|| message.strip_prefix("invalid type: floating point `"))?;
    let (number, expected) = rest.split_once("`, expected ")?;
    let type_max = match expected {
        "u32" => u64::from(u32::MAX),
        "u64" => u64::MAX,
        _ => return None,
    };
    let value: f64 = number.parse().ok()?;
    let number = number.replace("e+", "e");
    let limits = crate::workload::number_limits();
    if let Some(limited) = limits.iter().find(|limited| limited.path == path) {
        let (min, limit, what) = (limited.min, limited.max, limited.what);
        if value > f64::from(limit) {
            return Some(format!("{number} exceeds the limit of {limit} {what}"));
        }
        return Some(format!(
            "{number} is not allowed: write a whole number from {min} to {limit}"
        ));
    }
    Some(format!(
        "{number} is not allowed: write a whole number from 0 to {type_max}"
    ))
}

/// The candidate within a small edit distance of `given`, if any.
///
/// Case is ignored; a third of the candidate's length may differ, and a given word of
/// three letters or more that begins the candidate counts as close (`expo`).
fn closest<'a>(given: &str, candidates: &[&'a str]) -> Option<&'a str> {
    let given = given.to_lowercase();
    candidates
        .iter()
        .filter_map(|candidate| {
            let lower = candidate.to_lowercase();
            let distance = edit_distance(&given, &lower);
            let allowed = (lower.chars().count() / 3).max(1);
            if distance <= allowed {
                Some((distance, *candidate))
            } else if given.chars().count() >= 3 && lower.starts_with(&given) {
                Some((allowed + 1, *candidate))
            } else {
                None
            }
        })
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, candidate)| candidate)
}

/// Levenshtein distance over characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != *cb);
            current[j + 1] = substitution.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        previous = current;
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions_are_close_and_case_blind() {
        let jitters = ["none", "full", "equal", "decorrelated"];
        assert_eq!(closest("ful", &jitters), Some("full"));
        assert_eq!(closest("FULL", &jitters), Some("full"));
        assert_eq!(closest("decorelated", &jitters), Some("decorrelated"));
        assert_eq!(closest("random", &jitters), None);
        assert_eq!(closest("prob", &["from", "to", "rate"]), None);
        assert_eq!(
            closest("expo", &["constant", "exponential"]),
            Some("exponential")
        );
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "abc"), 3);
    }

    #[test]
    fn the_schema_itself_is_not_taken_for_a_scenario() {
        let err = load_str(&crate::scenario::schema_json(), "schema.json").unwrap_err();
        assert!(err.message.contains("is a JSON Schema"), "{err}");
    }

    #[test]
    fn paths_drop_unknown_segments() {
        assert_eq!(clean_path("."), "");
        assert_eq!(clean_path("?"), "");
        assert_eq!(clean_path("workload.servers.?"), "workload.servers");
        assert_eq!(
            clean_path("faults[2].omission.rate"),
            "faults[2].omission.rate"
        );
    }

    #[test]
    fn locations_are_one_based_and_never_zero_for_parse_errors() {
        let err = load_str("{\"name\": 1}", "x").unwrap_err();
        assert_eq!((err.line, err.column, err.path.as_str()), (1, 10, "name"));
        let err = load_str("{", "x").unwrap_err();
        assert!(err.line >= 1 && err.column >= 1, "{err}");
    }
}
