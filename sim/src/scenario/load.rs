//! Loading a scenario: the one loader ([`load`], [`load_text`]) that every command goes
//! through: the file read with its limits, JSON parsing with exact error locations,
//! `--set` values and the run seed applied, then the resolve step.

use std::fmt;
use std::io::Read;
use std::path::Path;

use serde_json::error::Category;

use super::limits::{MAX_EVENTS, MAX_FILE_BYTES};
use super::locate::{line_column, locate};
use super::overrides::{self, Set};
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

/// What the commands change in a scenario before it is resolved.
#[derive(Clone, Copy, Debug, Default)]
pub struct Options<'a> {
    /// `--set` values, applied to the file as parsed.
    pub sets: &'a [Set],
    /// The run seed (`None`: the file's own); set before the resolve step, so a `swarm`
    /// block draws from the seed the run uses.
    pub seed: Option<u64>,
    /// A lower event limit for the run (1 to [`MAX_EVENTS`]; the command checks its
    /// argument).
    pub max_events: Option<u64>,
}

/// The one loader: reads the scenario file at `path` and resolves it with `options`.
///
/// The file's size is checked before it is read ([`MAX_FILE_BYTES`]), and its bytes must
/// be UTF-8 (an error names the first bad byte's offset, line and column).
pub fn load(path: &Path, options: &Options<'_>) -> Result<ResolvedScenario, ScenarioError> {
    let origin = path.display().to_string();
    let text = read_text(path)?;
    load_text(&text, &origin, options)
}

/// [`load`] of scenario text; `origin` names it in errors.
///
/// Syntax errors keep serde_json's line and column (where the parser stopped); errors of
/// a value (wrong type, unknown key, bad duration), of the semantic rules and of the
/// limits point at the start of the offending value, or, for a field left to its
/// default, at the start of the enclosing object; with `--set` values, their message
/// names them.
pub fn load_text(
    text: &str,
    origin: &str,
    options: &Options<'_>,
) -> Result<ResolvedScenario, ScenarioError> {
    let parsed = parse_str(text, origin)?;
    let changed = overrides::changed(&parsed, text, origin, options.sets)?;
    resolve_loaded(changed, text, origin, options)
}

/// [`load_text`] without options: the unit tests' shorthand.
#[cfg(test)]
pub(crate) fn load_str(text: &str, origin: &str) -> Result<ResolvedScenario, ScenarioError> {
    load_text(text, origin, &Options::default())
}

/// The last step of [`load_text`], for a scenario parsed from `text` with the `sets` of
/// `options` already applied (a sweep does that once, then resolves it per seed).
pub fn resolve_loaded(
    mut scenario: Scenario,
    text: &str,
    origin: &str,
    options: &Options<'_>,
) -> Result<ResolvedScenario, ScenarioError> {
    if let Some(seed) = options.seed {
        scenario.seed = seed;
    }
    let mut resolved = resolve(scenario)
        .map_err(|found| overrides::relocated(text, origin, options.sets, found))?;
    if let Some(max_events) = options.max_events {
        resolved.plan.max_events = max_events.clamp(1, MAX_EVENTS);
    }
    Ok(resolved)
}

/// Reads a scenario file's text with the checks of [`load`].
pub fn read_text(path: &Path) -> Result<String, ScenarioError> {
    let origin = path.display().to_string();
    let whole = |message: String| ScenarioError {
        origin: origin.clone(),
        line: 0,
        column: 0,
        path: String::new(),
        message,
    };
    let file = std::fs::File::open(path).map_err(|err| whole(format!("cannot read: {err}")))?;
    let size = file
        .metadata()
        .map_err(|err| whole(format!("cannot read: {err}")))?
        .len();
    if size > MAX_FILE_BYTES as u64 {
        return Err(whole(too_large(size)));
    }
    // `take` bounds the read even if the file grows after its size was read.
    let mut bytes = Vec::with_capacity(size as usize);
    file.take(MAX_FILE_BYTES as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|err| whole(format!("cannot read: {err}")))?;
    if bytes.len() > MAX_FILE_BYTES {
        return Err(whole(too_large(bytes.len() as u64)));
    }
    String::from_utf8(bytes).map_err(|err| {
        let offset = err.utf8_error().valid_up_to();
        let bytes = err.as_bytes();
        // The valid prefix locates the bad byte.
        let valid = std::str::from_utf8(&bytes[..offset]).unwrap_or("");
        let (line, column) = line_column(valid, offset);
        ScenarioError {
            origin: origin.clone(),
            line,
            column,
            path: String::new(),
            message: format!(
                "invalid UTF-8 at byte {offset} (0x{:02x}): save the file as UTF-8",
                bytes[offset]
            ),
        }
    })
}

fn too_large(size: u64) -> String {
    format!(
        "the file is {size} bytes, over the limit of {MAX_FILE_BYTES} bytes for a scenario file"
    )
}

/// Whether `text` is a JSON Schema document (such as `scenarios/schema.json`) rather than
/// a scenario: its `$schema` names json-schema.org and it has none of a scenario's
/// required keys. A scenario whose `$schema` is such a URL is still a scenario.
pub fn is_json_schema(text: &str) -> bool {
    serde_json::from_str::<serde_json::Value>(text).is_ok_and(|value| {
        let names_the_standard = value
            .get("$schema")
            .and_then(serde_json::Value::as_str)
            .is_some_and(|schema| schema.contains("json-schema.org"));
        let scenario_keys = ["name", "duration", "workload"]
            .iter()
            .any(|key| value.get(key).is_some());
        names_the_standard && !scenario_keys
    })
}

/// The error of `issue` in `text`, located by its path.
pub fn located(text: &str, origin: &str, issue: Issue) -> ScenarioError {
    let (line, column) =
        locate(text, &issue.path).map_or((1, 1), |location| (location.line, location.column));
    ScenarioError {
        origin: origin.to_owned(),
        line,
        column,
        path: issue.path,
        message: clip(&issue.message),
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
    if text.len() > MAX_FILE_BYTES {
        return Err(ScenarioError {
            origin: origin.to_owned(),
            line: 1,
            column: 1,
            path: String::new(),
            message: too_large(text.len() as u64),
        });
    }
    if text.starts_with('\u{feff}') {
        return Err(ScenarioError {
            origin: origin.to_owned(),
            line: 1,
            column: 1,
            path: String::new(),
            message: "the file starts with a byte-order mark (U+FEFF): remove the byte-order \
                      mark (save the file as UTF-8 without BOM)"
                .to_owned(),
        });
    }
    let start = text.len() - text.trim_start().len();
    if !text[start..].starts_with('{') {
        // serde would read an array as a struct's fields in order: say what is wrong instead.
        let (line, column) = line_column(text, start);
        let found: String = text[start..]
            .chars()
            .take(12)
            .take_while(|c| !c.is_control())
            .collect();
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
    if let Some(duplicate) = super::strict::duplicate_key(text) {
        // serde keeps the last of two keys in a value read whole: refuse the second one,
        // as an unknown key is refused.
        return Err(ScenarioError {
            origin: origin.to_owned(),
            line: duplicate.line,
            column: duplicate.column,
            path: clip_path(&duplicate.path),
            message: clip(&format!(
                "duplicate key {:?}: this object already has it; give each key once",
                duplicate.key
            )),
        });
    }
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let scenario: Scenario = super::strict::deserialize(&mut deserializer).map_err(|err| {
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
        // An error inside the workload object or a form read by hand (timeout,
        // partition) carries its own path (see `NestedError`), perhaps several
        // deep.
        let (mut path, mut message) = (outer, raw.as_str());
        let mut buffered = false;
        while let Some((nested, rest)) = NestedError::parse(message) {
            path = join(&path, &clean_path(nested));
            message = rest;
            buffered = true;
        }
        let message = message.to_owned();
        // A missing field: name it in the path too.
        let path = match missing_field(&message) {
            Some(field) if path.is_empty() => field,
            Some(field) => format!("{path}.{field}"),
            None => path,
        };
        // A value's error points at the value when the path leads to it (serde's
        // position is where the parser stopped: past the value, or at the end of a
        // buffered object).
        // Inside a buffered value serde's position is the end of that value: the
        // deepest enclosing value on the path is nearer.
        let found = (inner.classify() == Category::Data)
            .then(|| locate(text, &path))
            .flatten()
            .filter(|location| location.exact || buffered);
        let (line, column) = match found {
            Some(location) => (location.line, location.column),
            None => (inner.line(), inner.column().max(1)),
        };
        ScenarioError {
            origin: origin.to_owned(),
            line,
            column,
            message: clip(&explain(&message, &path)),
            path: clip_path(&path),
        }
    })?;
    deserializer.end().map_err(|err| ScenarioError {
        origin: origin.to_owned(),
        line: err.line(),
        column: err.column().max(1),
        path: String::new(),
        message: format!(
            "{} (a scenario file holds one JSON object)",
            explain(&bare_message(&err), "")
        ),
    })?;
    Ok(scenario)
}

/// `outer.inner` (`outer[1]` for an index), or either alone when the other is empty.
fn join(outer: &str, inner: &str) -> String {
    match (outer.is_empty(), inner.is_empty()) {
        (_, true) => outer.to_owned(),
        (true, false) => inner.to_owned(),
        (false, false) if inner.starts_with('[') => format!("{outer}{inner}"),
        (false, false) => format!("{outer}.{inner}"),
    }
}

/// The path with every key longer than [`MAX_ECHO_CHARS`] cut short (an unknown key is
/// part of its path).
fn clip_path(path: &str) -> String {
    if path.len() <= MAX_ECHO_CHARS {
        return path.to_owned();
    }
    path.split('.')
        .map(|key| {
            if key.chars().count() > MAX_ECHO_CHARS {
                let kept: String = key.chars().take(MAX_ECHO_CHARS - 8).collect();
                format!("{kept}…")
            } else {
                key.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join(".")
}

/// Most characters of one quoted piece of the input a message repeats.
const MAX_ECHO_CHARS: usize = 40;

/// The message on one line, every quoted piece (`"..."` or `` `...` ``) longer than
/// [`MAX_ECHO_CHARS`] cut short: a message never repeats much of the input.
fn clip(message: &str) -> String {
    let mut out = String::with_capacity(message.len().min(1024));
    let mut chars = message.chars();
    while let Some(c) = chars.next() {
        if c != '"' && c != '`' {
            out.push(if c.is_control() { ' ' } else { c });
            continue;
        }
        // A quoted piece, with backslash escapes inside double quotes.
        let mut piece = String::new();
        let mut closed = false;
        while let Some(inner) = chars.next() {
            if inner == c {
                closed = true;
                break;
            }
            piece.push(inner);
            if inner == '\\' && c == '"' {
                if let Some(escaped) = chars.next() {
                    piece.push(escaped);
                }
            }
        }
        out.push(c);
        if piece.chars().count() > MAX_ECHO_CHARS {
            let kept: String = piece.chars().take(MAX_ECHO_CHARS - 8).collect();
            // Not ending on a lone backslash, which would escape the closing quote.
            out.push_str(kept.trim_end_matches('\\'));
            out.push('…');
        } else {
            out.extend(
                piece
                    .chars()
                    .map(|ch| if ch.is_control() { ' ' } else { ch }),
            );
        }
        if closed {
            out.push(c);
        }
    }
    out
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
            return format!(
                "{} (write the number without quotes)",
                in_users_words(&message)
            );
        }
    }
    if message.starts_with("EOF while parsing") {
        return format!(
            "{message}: the file ends too early (look for a missing `}}`, `]` or `\"`)"
        );
    }
    if let Some(syntax) = syntax_message(&message) {
        return syntax;
    }
    if let Some(numbers) = number_message(&message, path) {
        return numbers;
    }
    in_users_words(&message)
}

/// serde_json's syntax errors, with what to write.
fn syntax_message(message: &str) -> Option<String> {
    let advice = match message {
        "expected value" => {
            "expected a value here: a number, a \"string\", true, false, null, an object {...} \
             or a list [...]"
        }
        "expected `,` or `}`" => "expected `,` or `}` (is a comma missing between two keys?)",
        "expected `,` or `]`" => "expected `,` or `]` (is a comma missing between two items?)",
        "expected `:`" => "expected `:` after the key (write \"key\": value)",
        "key must be a string" => {
            "key must be a string: write keys in double quotes (\"name\"), with no comma \
             before the first key or after the last"
        }
        "trailing comma" => "trailing comma: remove the comma before the closing bracket",
        "invalid number" => "invalid number: write a plain number such as 5, 0.25 or 1e-3",
        "recursion limit exceeded" => {
            "the values are nested too deeply (more than 128 levels); a scenario needs a few"
        }
        "invalid escape" => {
            "invalid escape in a string: write a backslash as \\\\ and a quote as \\\""
        }
        "expected ident" => "expected true, false or null (written in lower case)",
        "trailing characters" => "trailing characters after the scenario's closing `}`",
        _ if message.starts_with("control character") => {
            "a string holds a control character: write a line break as \\n and a tab as \\t"
        }
        _ => return None,
    };
    Some(advice.to_owned())
}

/// serde's words for JSON values and Rust types, in the words of a scenario file.
fn in_users_words(message: &str) -> String {
    let mut text = message.to_owned();
    for (from, to) in [
        ("invalid type: map,", "invalid type: an object,"),
        ("invalid type: floating point `", "invalid type: number `"),
        ("invalid type: sequence,", "invalid type: a list,"),
        ("invalid type: unit value,", "invalid type: null,"),
        (
            "invalid type: unit variant,",
            "invalid type: a bare name (this kind takes a value: write {\"kind\": value}),",
        ),
        (
            "invalid type: newtype variant,",
            "invalid type: an object (this kind takes no value: write its name as a string),",
        ),
        ("expected a sequence", "expected a list [...]"),
        (
            "expected an array of length 2",
            "expected a list of two values",
        ),
        ("expected a boolean", "expected true or false"),
        ("expected a string", "expected a string in double quotes"),
        ("expected unit", "expected null"),
    ] {
        text = text.replace(from, to);
    }
    for (rust, words) in [
        ("u8", "a whole number"),
        ("u16", "a whole number"),
        ("u32", "a whole number"),
        ("u64", "a whole number"),
        ("i64", "a whole number"),
        ("f64", "a number"),
        ("f32", "a number"),
    ] {
        let suffix = format!("expected {rust}");
        if let Some(head) = text.strip_suffix(&suffix) {
            text = format!("{head}expected {words}");
        }
    }
    text
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
pub(crate) fn closest<'a>(given: &str, candidates: &[&'a str]) -> Option<&'a str> {
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

    /// A small valid scenario, one key per line.
    const SMALL: &str = r#"{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "name": "small",
  "duration": "10s",
  "workload": {
    "kind": "rpc",
    "clients": {"count": 10, "arrival": {"poisson_per_s": 1}, "timeout": "1s"},
    "servers": {"count": 1, "workers": 1, "service_time": {"constant": "1ms"}, "queue_limit": 0}
  },
  "faults": [{"at": "1s", "for": "1s", "partition": [["client-*"], ["server-*"]]}]
}"#;

    /// 1-based line and column of the first `needle` in `text`.
    fn position(text: &str, needle: &str) -> (usize, usize) {
        line_column(text, text.find(needle).expect("needle"))
    }

    #[test]
    fn errors_deep_in_a_timeout_or_a_partition_point_at_the_value() {
        load_str(SMALL, "s.json").unwrap();
        let text = SMALL.replace(
            r#""timeout": "1s""#,
            r#""timeout": {"ewma": {"initial": "1s", "alpha": "high"}}"#,
        );
        let err = load_str(&text, "s.json").unwrap_err();
        assert_eq!(err.path, "workload.clients.timeout.ewma.alpha", "{err}");
        assert_eq!(
            (err.line, err.column),
            position(&text, r#""high""#),
            "{err}"
        );
        let text = SMALL.replace(r#"["server-*"]]"#, r#"["server-*", 5]]"#);
        let err = load_str(&text, "s.json").unwrap_err();
        assert_eq!(err.path, "faults[0].partition[1][1]", "{err}");
        assert_eq!((err.line, err.column), position(&text, "5]]"), "{err}");
        let text = SMALL.replace(
            r#"[["client-*"], ["server-*"]]"#,
            r#"{"from": "client-*", "too": "server-*"}"#,
        );
        let err = load_str(&text, "s.json").unwrap_err();
        assert_eq!(err.path, "faults[0].partition.too", "{err}");
        assert!(err.message.contains("did you mean \"to\"?"), "{err}");
    }

    #[test]
    fn a_scenario_naming_the_json_schema_standard_gets_its_own_errors() {
        let text = SMALL.replace(r#""name": "small","#, r#""name": "small", "sed": 1,"#);
        let err = load_str(&text, "s.json").unwrap_err();
        assert_eq!(err.path, "sed", "{err}");
        assert!(err.message.contains("did you mean \"seed\"?"), "{err}");
        assert!(!is_json_schema(&text));
        assert!(is_json_schema(&crate::scenario::schema_json()));
    }

    #[test]
    fn long_input_is_cut_short_in_messages() {
        let long = "x".repeat(500);
        assert_eq!(
            clip(&format!("a \"{long}\" b")).matches('x').count(),
            MAX_ECHO_CHARS - 8
        );
        assert_eq!(clip("unknown `key`\n"), "unknown `key` ");
        assert_eq!(clip(r#"a "q\"uote" b"#), r#"a "q\"uote" b"#);
        assert!(clip_path(&format!("faults[0].{long}")).chars().count() < 50);
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
