//! Changing fields of a scenario from the command line: `run --set PATH=VALUE` and
//! `compare --vary PATH=V1,V2,...`.
//!
//! `PATH` is written as error messages print it (`faults[0].restart_after`) or with
//! dotted indices (`faults.0.restart_after`). A value is read as JSON when it parses as
//! JSON, else as a string. The changed scenario is loaded like a file, and an error in it
//! is located in the original file: at the changed field, or, for one the file leaves to
//! its default, at the object it belongs to.

use serde_json::Value;

use crate::scenario::load::{closest, located, parse_str, ScenarioError};
use crate::scenario::{resolve, ResolvedScenario, Scenario};

/// Most characters of the changes a message repeats.
const MAX_ECHO_CHARS: usize = 80;

/// Most `--set` arguments, and most values of one `--vary`.
pub const MAX_OVERRIDES: usize = 1_000;

/// One step of a field path.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Step {
    Key(String),
    Index(usize),
}

/// A field path, as written and in the form error messages use.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldPath {
    steps: Vec<Step>,
}

impl FieldPath {
    /// Parses `a.b[2].c` or `a.b.2.c`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let bad = |why: &str| {
            format!(
                "{text:?} is not a field path ({why}); write keys joined by dots, with indices \
                 as in faults[0].restart_after or faults.0.restart_after"
            )
        };
        let mut steps = Vec::new();
        for part in text.trim().split('.') {
            let (key, mut rest) = match part.find('[') {
                Some(open) => (&part[..open], &part[open..]),
                None => (part, ""),
            };
            if key.is_empty() && (rest.is_empty() || steps.is_empty()) {
                return Err(bad("an empty key"));
            }
            if !key.is_empty() {
                match key.parse::<usize>() {
                    Ok(index) if !steps.is_empty() => steps.push(Step::Index(index)),
                    _ => steps.push(Step::Key(key.to_owned())),
                }
            }
            while let Some(after) = rest.strip_prefix('[') {
                let close = after.find(']').ok_or_else(|| bad("a `[` without `]`"))?;
                let index = after[..close]
                    .parse::<usize>()
                    .map_err(|_| bad("an index that is not a whole number"))?;
                steps.push(Step::Index(index));
                rest = &after[close + 1..];
            }
            if !rest.is_empty() {
                return Err(bad("text after `]`"));
            }
        }
        Ok(FieldPath { steps })
    }

    /// The path as error messages print it: `faults[0].restart_after`.
    pub fn display(&self) -> String {
        let mut text = String::new();
        for step in &self.steps {
            match step {
                Step::Key(key) if text.is_empty() => text.push_str(key),
                Step::Key(key) => {
                    text.push('.');
                    text.push_str(key);
                }
                Step::Index(index) => text.push_str(&format!("[{index}]")),
            }
        }
        text
    }
}

/// A `PATH=VALUE` argument, split and parsed.
#[derive(Clone, Debug, PartialEq)]
pub struct Set {
    /// The field.
    pub path: FieldPath,
    /// The value as written.
    pub value: String,
}

impl Set {
    /// Parses `PATH=VALUE`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let (path, value) = text.split_once('=').ok_or_else(|| {
            format!("--set {text:?}: write PATH=VALUE (e.g. faults[0].restart_after=2s)")
        })?;
        let value = value.trim();
        if value.is_empty() {
            return Err(format!("--set {text:?}: the value is empty"));
        }
        Ok(Set {
            path: FieldPath::parse(path)?,
            value: value.to_owned(),
        })
    }

    /// As an argument of a command to copy: `--set PATH=VALUE`, quoted for a shell when
    /// it needs to be.
    pub fn argument(&self) -> String {
        format!(
            "--set {}",
            shell_word(&format!("{}={}", self.path.display(), self.value))
        )
    }
}

/// `PATH=V1,V2,...`, the values split at commas outside brackets and quotes (so a value
/// may be a JSON list or object).
pub fn parse_vary(text: &str) -> Result<(FieldPath, Vec<String>), String> {
    let (path, values) = text.split_once('=').ok_or_else(|| {
        format!(
            "--vary {text:?}: write PATH=V1,V2,... (e.g. workload.clients.retry.backoff.jitter=none,full)"
        )
    })?;
    let path = FieldPath::parse(path)?;
    let mut list = Vec::new();
    let (mut depth, mut quoted, mut escaped) = (0usize, false, false);
    let mut current = String::new();
    for c in values.chars() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            '[' | '{' if !quoted => depth += 1,
            ']' | '}' if !quoted => depth = depth.saturating_sub(1),
            ',' if !quoted && depth == 0 => {
                list.push(std::mem::take(&mut current).trim().to_owned());
                continue;
            }
            _ => {}
        }
        current.push(c);
    }
    list.push(current.trim().to_owned());
    if list.iter().any(String::is_empty) {
        return Err(format!("--vary {text:?}: every value must be non-empty"));
    }
    if list.len() > MAX_OVERRIDES {
        return Err(format!(
            "--vary: {} values exceed the limit of {MAX_OVERRIDES}",
            list.len()
        ));
    }
    Ok((path, list))
}

/// `word`, in single quotes when a shell would split or expand it.
pub fn shell_word(word: &str) -> String {
    let plain = word
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "-_./=:@%+,".contains(c));
    if plain && !word.is_empty() {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// Applies `sets` to `scenario` (parsed from `text`, the file `origin`) and resolves the
/// result; an error is located in `text`, and its message names the settings.
pub fn apply(
    scenario: &Scenario,
    text: &str,
    origin: &str,
    sets: &[Set],
) -> Result<ResolvedScenario, ScenarioError> {
    // Serialized with defaults filled in, so a field the file leaves at its default
    // still has a path.
    let mut tree = serde_json::to_value(scenario).map_err(|err| ScenarioError {
        origin: origin.to_owned(),
        line: 0,
        column: 0,
        path: String::new(),
        message: format!("cannot apply --set: {err}"),
    })?;
    for set in sets {
        put(&mut tree, &set.path, &set.value)
            .map_err(|message| located(text, origin, issue(set.path.display(), message)))?;
    }
    let changed = serde_json::to_string_pretty(&tree).unwrap_or_default();
    let mut what = sets
        .iter()
        .map(|set| format!("{}={}", set.path.display(), set.value))
        .collect::<Vec<_>>()
        .join(", ");
    if what.chars().count() > MAX_ECHO_CHARS {
        // A message repeats little of what was typed.
        what = what.chars().take(MAX_ECHO_CHARS - 1).collect::<String>() + "…";
    }
    let relocate = |err: ScenarioError| {
        let mut err = located(text, origin, issue(err.path, err.message));
        err.message = format!("{} (with {what})", err.message);
        err
    };
    let parsed = parse_str(&changed, origin).map_err(relocate)?;
    resolve::resolve(parsed).map_err(|found| relocate(located(text, origin, found)))
}

fn issue(path: String, message: String) -> crate::scenario::validate::Issue {
    crate::scenario::validate::issue(path, message)
}

/// Puts `value` at `path` in `tree`: into an existing field or list item, or as a new
/// key of an existing object (which loading then checks like any key of a file).
fn put(tree: &mut Value, path: &FieldPath, value: &str) -> Result<(), String> {
    let Some((last, parents)) = path.steps.split_last() else {
        return Err("an empty field path".to_owned());
    };
    let mut node = tree;
    let mut walked = FieldPath { steps: Vec::new() };
    for step in parents {
        walked.steps.push(step.clone());
        let suggestion = match (&*node, step) {
            (Value::Object(map), Step::Key(key)) => {
                let keys: Vec<&str> = map.keys().map(String::as_str).collect();
                closest(key, &keys).map(|best| format!(" (did you mean \"{best}\"?)"))
            }
            _ => None,
        };
        node = match (node, step) {
            (Value::Object(map), Step::Key(key)) => map.get_mut(key),
            (Value::Array(items), Step::Index(index)) => items.get_mut(*index),
            _ => None,
        }
        .ok_or_else(|| absent(&walked, suggestion.unwrap_or_default()))?;
    }
    let parsed = serde_json::from_str(value).unwrap_or_else(|_| Value::String(value.to_owned()));
    match (node, last) {
        (Value::Object(map), Step::Key(key)) => {
            map.insert(key.clone(), parsed);
            Ok(())
        }
        (Value::Array(items), Step::Index(index)) => match items.get_mut(*index) {
            Some(item) => {
                *item = parsed;
                Ok(())
            }
            None => Err(format!(
                "no item [{index}]: the list has {} items (indices 0 to {})",
                items.len(),
                items.len().saturating_sub(1)
            )),
        },
        _ => Err(format!(
            "{} is not an object or a list, so it has no field {}",
            if walked.steps.is_empty() {
                "the scenario".to_owned()
            } else {
                walked.display()
            },
            FieldPath {
                steps: vec![last.clone()]
            }
            .display()
        )),
    }
}

fn absent(walked: &FieldPath, suggestion: String) -> String {
    format!(
        "no field {} in the scenario{suggestion}; an optional object the file leaves out is \
         set whole, e.g. --set 'workload.clients.breaker={{\"mode\": \"consecutive\", ...}}'",
        walked.display()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_index_forms_parse_to_one_path() {
        let dotted = FieldPath::parse("faults.0.restart_after").unwrap();
        let bracketed = FieldPath::parse("faults[0].restart_after").unwrap();
        assert_eq!(dotted, bracketed);
        assert_eq!(dotted.display(), "faults[0].restart_after");
        assert_eq!(
            FieldPath::parse("faults[1].partition[0][1]")
                .unwrap()
                .display(),
            "faults[1].partition[0][1]"
        );
        for bad in ["", "a..b", "a[x]", "a[1", "a[1]b", "[0]"] {
            assert!(FieldPath::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn vary_values_split_outside_brackets() {
        let (path, values) =
            parse_vary(r#"workload.clients.breaker={"mode": "a", "b": [1, 2]},null"#).unwrap();
        assert_eq!(path.display(), "workload.clients.breaker");
        assert_eq!(values, vec![r#"{"mode": "a", "b": [1, 2]}"#, "null"]);
        assert!(parse_vary("no-equals-sign").is_err());
        assert!(parse_vary("a.b=x,,y").is_err());
    }

    #[test]
    fn shell_words_are_quoted_when_needed() {
        assert_eq!(shell_word("faults[0].for=2s"), "'faults[0].for=2s'");
        assert_eq!(shell_word("a.b=full"), "a.b=full");
        assert_eq!(shell_word("it's"), r"'it'\''s'");
    }
}
