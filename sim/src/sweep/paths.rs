//! Field paths into a scenario's JSON tree: `workload.clients.count`, `faults.0.for`
//! (`faults[0].for` is read the same way), as `compare --vary` writes them.
//!
//! `sweep --set`, the swarm draws and the shrinker all change a scenario through its
//! JSON tree, serialized with every default filled in, so a field the file leaves at
//! its default still has a path; the result is loaded like a file, so every rule and
//! limit applies to it.

use serde_json::Value;

/// Most segments one path may have (a bound on the walk).
pub const MAX_SEGMENTS: usize = 32;

/// The segments of `path`, with `[n]` read as `.n`.
pub fn segments(path: &str) -> Result<Vec<String>, String> {
    let normalized = path.replace('[', ".").replace(']', "");
    let parts: Vec<String> = normalized
        .split('.')
        .map(str::trim)
        .map(str::to_owned)
        .collect();
    if parts.iter().any(String::is_empty) {
        return Err(format!(
            "{path:?} is not a field path: write names joined by dots (workload.clients.count)"
        ));
    }
    if parts.len() > MAX_SEGMENTS {
        return Err(format!("{path:?} has more than {MAX_SEGMENTS} segments"));
    }
    Ok(parts)
}

/// The value at `path` in `tree`.
pub fn get<'a>(tree: &'a Value, path: &str) -> Result<&'a Value, String> {
    let mut node = tree;
    for key in segments(path)? {
        node = match node {
            Value::Object(map) => map.get(&key),
            Value::Array(items) => key.parse::<usize>().ok().and_then(|i| items.get(i)),
            _ => None,
        }
        .ok_or_else(|| format!("{path}: no field {key:?} in the scenario"))?;
    }
    Ok(node)
}

/// The value at `path` in `tree`, to change.
pub fn get_mut<'a>(tree: &'a mut Value, path: &str) -> Result<&'a mut Value, String> {
    let mut node = tree;
    for key in segments(path)? {
        node = match node {
            Value::Object(map) => map.get_mut(&key),
            Value::Array(items) => key.parse::<usize>().ok().and_then(|i| items.get_mut(i)),
            _ => None,
        }
        .ok_or_else(|| format!("{path}: no field {key:?} in the scenario"))?;
    }
    Ok(node)
}

/// Sets the field at `path` (which must exist) to `value`.
pub fn set(tree: &mut Value, path: &str, value: Value) -> Result<(), String> {
    *get_mut(tree, path)? = value;
    Ok(())
}

/// A value as written on the command line: JSON if it parses as JSON, else a string
/// (`5`, `true` and `{"constant": "1ms"}` are JSON; `full` and `250ms` are strings).
pub fn value_of(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_owned()))
}

/// One `--set PATH=VALUE`.
#[derive(Clone, Debug, PartialEq)]
pub struct Assignment {
    /// Field path.
    pub path: String,
    /// The value as written.
    pub value: String,
}

impl Assignment {
    /// Parses `PATH=VALUE`.
    pub fn parse(text: &str) -> Result<Assignment, String> {
        let (path, value) = text.split_once('=').ok_or_else(|| {
            format!("--set {text:?}: write PATH=VALUE (e.g. workload.clients.count=200)")
        })?;
        segments(path).map_err(|err| format!("--set {text:?}: {err}"))?;
        if value.trim().is_empty() {
            return Err(format!("--set {text:?}: the value is empty"));
        }
        Ok(Assignment {
            path: path.trim().to_owned(),
            value: value.trim().to_owned(),
        })
    }

    /// Applies it to a scenario tree.
    pub fn apply(&self, tree: &mut Value) -> Result<(), String> {
        set(tree, &self.path, value_of(&self.value)).map_err(|err| format!("--set {err}"))
    }
}

impl std::fmt::Display for Assignment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}={}", self.path, self.value)
    }
}

/// Quotes an argument for a POSIX shell when it needs it, so a printed command can be
/// pasted as it is.
pub fn shell_quote(argument: &str) -> String {
    let plain = !argument.is_empty()
        && argument
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c));
    if plain {
        argument.to_owned()
    } else {
        format!("'{}'", argument.replace('\'', "'\\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn paths_walk_objects_and_arrays() {
        let mut tree = json!({"faults": [{"at": "1s"}, {"at": "2s"}], "workload": {"count": 3}});
        assert_eq!(get(&tree, "faults.1.at").unwrap(), "2s");
        assert_eq!(get(&tree, "faults[0].at").unwrap(), "1s");
        set(&mut tree, "workload.count", json!(9)).unwrap();
        assert_eq!(tree["workload"]["count"], 9);
        let err = set(&mut tree, "workload.cuont", json!(1)).unwrap_err();
        assert!(err.contains("no field \"cuont\""), "{err}");
        assert!(get(&tree, "faults.7").is_err());
        assert!(segments("a..b").is_err());
    }

    #[test]
    fn assignments_parse_and_values_are_json_or_strings() {
        let set = Assignment::parse("workload.clients.count=200").unwrap();
        assert_eq!(set.to_string(), "workload.clients.count=200");
        assert_eq!(value_of("200"), json!(200));
        assert_eq!(value_of("full"), json!("full"));
        assert_eq!(
            value_of("{\"constant\": \"1ms\"}"),
            json!({"constant": "1ms"})
        );
        assert!(Assignment::parse("no-equals").is_err());
        assert!(Assignment::parse("a.b=").is_err());
    }

    #[test]
    fn shell_quoting_leaves_plain_words_alone() {
        assert_eq!(shell_quote("scenarios/a.json"), "scenarios/a.json");
        assert_eq!(shell_quote("a b"), "'a b'");
        assert_eq!(shell_quote("it's"), "'it'\\''s'");
        assert_eq!(shell_quote("x={\"a\":1}"), "'x={\"a\":1}'");
    }
}
