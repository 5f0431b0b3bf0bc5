//! Changing fields of a scenario: `--set PATH=VALUE` (run, sweep, shrink), `compare
//! --vary PATH=V1,V2,...`, and the swarm draws and the shrinker, which edit a scenario
//! through the same field paths.
//!
//! `PATH` is written as error messages print it (`faults[0].restart_after`) or with
//! dotted indices (`faults.0.restart_after`). A value is read as JSON when it parses as
//! JSON, else as a string. The changed scenario is loaded like a file, and an error in it
//! is located in the original file: at the changed field, or, for one the file leaves to
//! its default, at the object it belongs to.

use serde_json::Value;

use crate::scenario::load::{closest, located, parse_str, ScenarioError};
use crate::scenario::validate::Issue;
use crate::scenario::Scenario;

/// Most characters of the changes a message repeats.
const MAX_ECHO_CHARS: usize = 80;

/// Most `--set` arguments, and most values of one `--vary`.
pub const MAX_OVERRIDES: usize = 1_000;

/// Most steps one field path may have (a bound on every walk).
pub const MAX_STEPS: usize = 32;

/// One step of a field path.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Step {
    Key(String),
    Index(usize),
}

/// A field path, as written and in the form error messages use.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
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
        if steps.len() > MAX_STEPS {
            return Err(bad(&format!("more than {MAX_STEPS} steps")));
        }
        Ok(FieldPath { steps })
    }

    /// The value at this path in `tree`.
    pub fn get<'a>(&self, tree: &'a Value) -> Result<&'a Value, String> {
        let mut node = tree;
        for (walked, step) in self.steps.iter().enumerate() {
            node = match (node, step) {
                (Value::Object(map), Step::Key(key)) => map.get(key),
                (Value::Array(items), Step::Index(index)) => items.get(*index),
                _ => None,
            }
            .ok_or_else(|| missing(node, &self.prefix(walked + 1)))?;
        }
        Ok(node)
    }

    /// Sets the field at this path, which must exist, to `value`.
    pub fn set(&self, tree: &mut Value, value: Value) -> Result<(), String> {
        *self.get_mut(tree)? = value;
        Ok(())
    }

    /// The value at this path in `tree`, to change.
    pub fn get_mut<'a>(&self, tree: &'a mut Value) -> Result<&'a mut Value, String> {
        let mut node = tree;
        for (walked, step) in self.steps.iter().enumerate() {
            if let Some(message) = node_lacks(node, step, &self.prefix(walked + 1)) {
                return Err(message);
            }
            node = match (node, step) {
                (Value::Object(map), Step::Key(key)) => map.get_mut(key),
                (Value::Array(items), Step::Index(index)) => items.get_mut(*index),
                _ => None,
            }
            .expect("node_lacks found the step");
        }
        Ok(node)
    }

    /// The path of the list this path's last step indexes, and the index: `faults[2]`
    /// gives (`faults`, 2); a path that does not end in an index gives `None`.
    pub fn list_entry(&self) -> Option<(FieldPath, usize)> {
        match self.steps.split_last()? {
            (Step::Index(index), list) if !list.is_empty() => Some((
                FieldPath {
                    steps: list.to_vec(),
                },
                *index,
            )),
            _ => None,
        }
    }

    /// This path with `key` added: the path of a field of the object at this path.
    pub fn key(&self, key: &str) -> FieldPath {
        let mut steps = self.steps.clone();
        steps.push(Step::Key(key.to_owned()));
        FieldPath { steps }
    }

    /// This path with `index` added: the path of an item of the list at this path.
    pub fn index(&self, index: usize) -> FieldPath {
        let mut steps = self.steps.clone();
        steps.push(Step::Index(index));
        FieldPath { steps }
    }

    /// The path of the whole scenario (no steps).
    pub fn root() -> FieldPath {
        FieldPath { steps: Vec::new() }
    }

    /// How many steps the path has.
    pub fn len(&self) -> usize {
        self.steps.len()
    }

    /// Whether the path has no steps (the whole scenario).
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }

    fn prefix(&self, steps: usize) -> FieldPath {
        FieldPath {
            steps: self.steps[..steps].to_vec(),
        }
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
        format!("--set {}", shell_word(&self.to_string()))
    }

    /// Puts the value into `tree` (a scenario as JSON): into an existing field or list
    /// item, or as a new key of an existing object (which loading then checks like any
    /// key of a file).
    pub fn put_into(&self, tree: &mut Value) -> Result<(), String> {
        put(tree, &self.path, &self.value)
    }
}

impl std::fmt::Display for Set {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}={}", self.path.display(), self.value)
    }
}

/// Parses `--set` arguments.
pub fn parse_sets(texts: &[String]) -> Result<Vec<Set>, String> {
    if texts.len() > MAX_OVERRIDES {
        return Err(format!(
            "{} --set arguments exceed the limit of {MAX_OVERRIDES}",
            texts.len()
        ));
    }
    texts.iter().map(|text| Set::parse(text)).collect()
}

/// The program that reproduce lines name: `faultline`, or a user's own binary built on
/// `faultline::cli::main_with` (see [`set_program`]).
static PROGRAM: std::sync::RwLock<Option<String>> = std::sync::RwLock::new(None);

/// Names the program that reproduce lines start with (`faultline` until set).
pub fn set_program(name: &str) {
    *PROGRAM.write().unwrap_or_else(|poison| poison.into_inner()) = Some(name.to_owned());
}

/// The program that reproduce lines start with.
pub fn program() -> String {
    PROGRAM
        .read()
        .unwrap_or_else(|poison| poison.into_inner())
        .clone()
        .unwrap_or_else(|| "faultline".to_owned())
}

/// The command that reproduces a run: `faultline run FILE [--set PATH=VALUE]... --seed N`
/// (the program's own name instead of `faultline`, see [`program`]), quoted for a shell.
pub fn reproduce_command(scenario_path: &std::path::Path, sets: &[Set], seed: u64) -> String {
    let mut command = format!(
        "{} run {}",
        shell_word(&program()),
        shell_word(&scenario_path.display().to_string())
    );
    for set in sets {
        command.push(' ');
        command.push_str(&set.argument());
    }
    command.push_str(&format!(" --seed {seed}"));
    command
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

/// Applies `sets` to `scenario` (parsed from `text`, the file `origin`) and parses the
/// result, not resolved; an error is located in `text`, and its message names the
/// settings.
pub fn changed(
    scenario: &Scenario,
    text: &str,
    origin: &str,
    sets: &[Set],
) -> Result<Scenario, ScenarioError> {
    if sets.is_empty() {
        return Ok(scenario.clone());
    }
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
        set.put_into(&mut tree)
            .map_err(|message| located(text, origin, issue(set.path.display(), message)))?;
    }
    let changed = serde_json::to_string_pretty(&tree).unwrap_or_default();
    parse_str(&changed, origin)
        .map_err(|err| relocated(text, origin, sets, issue(err.path, err.message)))
}

/// `found`, an issue of the scenario with `sets` applied, located in the file's `text`,
/// its message naming the settings.
pub fn relocated(text: &str, origin: &str, sets: &[Set], found: Issue) -> ScenarioError {
    let mut what = sets
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    if what.chars().count() > MAX_ECHO_CHARS {
        // A message repeats little of what was typed.
        what = what.chars().take(MAX_ECHO_CHARS - 1).collect::<String>() + "…";
    }
    let mut err = located(text, origin, found);
    if !sets.is_empty() {
        err.message = format!("{} (with {what})", err.message);
    }
    err
}

fn issue(path: String, message: String) -> Issue {
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
            (Value::Array(items), Step::Index(index)) if *index >= items.len() => {
                return Err(no_item(&walked, items.len()));
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
            None => Err(no_item(path, items.len())),
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

/// Why `node` has no `step` (`walked` is the path up to and with it), or `None` when it has.
fn node_lacks(node: &Value, step: &Step, walked: &FieldPath) -> Option<String> {
    let present = match (node, step) {
        (Value::Object(map), Step::Key(key)) => map.contains_key(key),
        (Value::Array(items), Step::Index(index)) => *index < items.len(),
        _ => false,
    };
    (!present).then(|| missing(node, walked))
}

/// The message for a `walked` path whose last step `node` does not have.
fn missing(node: &Value, walked: &FieldPath) -> String {
    match node {
        Value::Array(items) => no_item(walked, items.len()),
        _ => format!("no field {} in the scenario", walked.display()),
    }
}

fn no_item(path: &FieldPath, items: usize) -> String {
    match items {
        0 => format!("no item {}: the list is empty", path.display()),
        1 => format!("no item {}: the list has 1 item (index 0)", path.display()),
        _ => format!(
            "no item {}: the list has {items} items (indices 0 to {})",
            path.display(),
            items - 1
        ),
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
    fn paths_walk_objects_and_lists() {
        let mut tree = serde_json::json!(
            {"faults": [{"at": "1s"}, {"at": "2s"}], "workload": {"count": 3}}
        );
        let path = |text: &str| FieldPath::parse(text).unwrap();
        assert_eq!(path("faults.1.at").get(&tree).unwrap(), "2s");
        assert_eq!(path("faults[0].at").get(&tree).unwrap(), "1s");
        path("workload.count")
            .set(&mut tree, serde_json::json!(9))
            .unwrap();
        assert_eq!(tree["workload"]["count"], 9);
        let err = path("workload.cuont")
            .set(&mut tree, serde_json::json!(1))
            .unwrap_err();
        assert_eq!(err, "no field workload.cuont in the scenario");
        let err = path("faults.7.at").get(&tree).unwrap_err();
        assert_eq!(
            err,
            "no item faults[7]: the list has 2 items (indices 0 to 1)"
        );
        assert_eq!(path("faults[1]").list_entry(), Some((path("faults"), 1)));
        assert_eq!(path("faults[1].at").list_entry(), None);
        let deep = vec!["a"; MAX_STEPS + 1].join(".");
        assert!(FieldPath::parse(&deep).is_err());
    }

    #[test]
    fn a_set_puts_new_keys_but_not_past_the_end_of_a_list() {
        let mut tree = serde_json::json!({"faults": [{"at": "1s"}], "workload": {}});
        Set::parse("workload.extra=5")
            .unwrap()
            .put_into(&mut tree)
            .unwrap();
        assert_eq!(tree["workload"]["extra"], 5);
        let err = Set::parse("faults.3.at=2s")
            .unwrap()
            .put_into(&mut tree)
            .unwrap_err();
        assert_eq!(err, "no item faults[3]: the list has 1 item (index 0)");
        let err = Set::parse("faults.1=null")
            .unwrap()
            .put_into(&mut tree)
            .unwrap_err();
        assert_eq!(err, "no item faults[1]: the list has 1 item (index 0)");
    }

    #[test]
    fn reproduce_commands_quote_what_a_shell_would_split() {
        let sets = [Set::parse("faults.0.for=2s").unwrap()];
        assert_eq!(
            reproduce_command(std::path::Path::new("my runs/a.json"), &sets, 7),
            "faultline run 'my runs/a.json' --set 'faults[0].for=2s' --seed 7"
        );
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
