//! Shrinking a failing seed to a minimal scenario that still fails the same check.
//!
//! First the random fault processes are expanded into the explicit faults they drew at
//! this seed (the same fault actions, so the same run), then, while the same check keeps
//! failing: faults are removed by delta debugging (Zeller and Hildebrandt, "Simplifying
//! and Isolating Failure-Inducing Input", IEEE TSE 2002), each fault's window is
//! shortened (a binary search on its length), and the workload's counts (every whole
//! number named `count` under `workload`: clients, servers, accounts...) are reduced
//! (a binary search down to 1). The passes repeat until none changes anything, or a
//! bound on runs or wall time is reached.
//!
//! It works because removing one fault does not reshuffle the others' random draws: each
//! network fault draws from a stream of its own, keyed by what the fault is rather than
//! by its place in the list (see `engine::streams`). The shrinker knows no workload:
//! candidates are scenario JSON trees, judged by running them.

use std::sync::Arc;

use faultline_reports::record::CheckResult;
use serde_json::Value;

use crate::engine::faults::{self, Occurrence};
use crate::engine::nodes::Topology;
use crate::engine::EngineError;
use crate::record::Invocation;
use crate::runner::{self, Stopwatch};
use crate::scenario::overrides::{FieldPath, MAX_STEPS};
use crate::scenario::resolve::resolve;
use crate::scenario::{Dur, Fault, ResolvedScenario, Scenario, Selector};

/// Default bound on simulation runs.
pub const DEFAULT_MAX_RUNS: u32 = 300;

/// Default bound on wall time, seconds.
pub const DEFAULT_MAX_WALL_S: f64 = 600.0;

/// Windows are shortened to whole multiples of this.
pub const WINDOW_STEP: Dur = Dur::from_millis(1);

/// What must keep failing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// This check (as the record names it: `availability_at_least 0.95`).
    Check(String),
    /// A run that does not complete, with this kind of error (`limit`, `invariant`).
    Error(&'static str),
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Target::Check(name) => write!(f, "check {name}"),
            Target::Error(kind) => write!(f, "a run that stops with an {kind} error"),
        }
    }
}

/// Why shrinking stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stop {
    /// No removal, shortening or reduction keeps the failure: as small as it gets.
    Fixpoint,
    /// The bound on runs was reached.
    Runs,
    /// The bound on wall time was reached.
    WallTime,
}

/// The bounds of one shrink.
#[derive(Clone, Copy, Debug)]
pub struct Bounds {
    /// Most simulation runs.
    pub max_runs: u32,
    /// Most wall seconds.
    pub max_wall_s: f64,
}

impl Default for Bounds {
    fn default() -> Self {
        Bounds {
            max_runs: DEFAULT_MAX_RUNS,
            max_wall_s: DEFAULT_MAX_WALL_S,
        }
    }
}

/// The result of a shrink.
#[derive(Clone, Debug)]
pub struct Shrunk {
    /// What kept failing.
    pub target: Target,
    /// The minimal scenario (its seed is the shrunk seed).
    pub scenario: Scenario,
    /// What was removed, shortened or reduced, in order.
    pub steps: Vec<String>,
    /// Faults (explicit, after expansion) at the start and at the end.
    pub faults_before: usize,
    /// Faults left.
    pub faults_after: usize,
    /// Random fault processes expanded into explicit faults.
    pub expanded: usize,
    /// Simulation runs made.
    pub runs: u32,
    /// Why it stopped.
    pub stop: Stop,
    /// The minimal scenario's trace hash at the seed.
    pub trace_hash: String,
}

/// One candidate's verdict.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Verdict {
    /// Fails the same way.
    Fails { trace_hash: String },
    /// Passes, fails otherwise, or is not a valid scenario.
    Other,
}

struct Shrinker<'a> {
    seed: u64,
    target: Target,
    bounds: Bounds,
    clock: Stopwatch,
    runs: u32,
    stop: Option<Stop>,
    log: &'a mut dyn FnMut(&str),
}

impl Shrinker<'_> {
    /// Whether a bound is reached (one run is kept back to confirm the result).
    fn exhausted(&mut self) -> bool {
        if self.stop.is_none() {
            if self.runs + 1 >= self.bounds.max_runs {
                self.stop = Some(Stop::Runs);
            } else if self.clock.elapsed_s() >= self.bounds.max_wall_s {
                self.stop = Some(Stop::WallTime);
            }
        }
        self.stop.is_some()
    }

    /// Runs `tree` (a scenario) at the seed and says whether it fails the same way.
    fn judge(&mut self, tree: &Value) -> Verdict {
        let Ok(scenario) = serde_json::from_value::<Scenario>(tree.clone()) else {
            return Verdict::Other;
        };
        let Ok(resolved) = resolve(scenario) else {
            return Verdict::Other;
        };
        self.runs += 1;
        judge(&Arc::new(resolved), self.seed, &self.target)
    }

    /// Whether `tree` fails the same way, when the bounds allow one more run.
    fn fails(&mut self, tree: &Value) -> bool {
        !self.exhausted() && matches!(self.judge(tree), Verdict::Fails { .. })
    }
}

/// Runs a resolved scenario at `seed` and says whether it fails as `target` says.
fn judge(scenario: &Arc<ResolvedScenario>, seed: u64, target: &Target) -> Verdict {
    match (runner::run(Arc::clone(scenario), seed, None), target) {
        (Ok(timed), Target::Check(name)) => {
            let record = timed.output.record(scenario, &Invocation::default());
            let failed = record
                .summary
                .checks
                .iter()
                .any(|check| &check.name == name && !check.passed);
            if failed {
                Verdict::Fails {
                    trace_hash: record.summary.trace_hash,
                }
            } else {
                Verdict::Other
            }
        }
        (Err(err), Target::Error(kind)) if error_kind(&err) == *kind => Verdict::Fails {
            trace_hash: String::new(),
        },
        _ => Verdict::Other,
    }
}

/// The kind of a run error, as [`Target::Error`] names it.
pub fn error_kind(err: &EngineError) -> &'static str {
    match err {
        EngineError::Config(_) => "config",
        EngineError::Limit(_) => "limit",
        EngineError::Io(_) => "io",
        EngineError::Invariant(_) => "invariant",
        EngineError::Panic { .. } => "panic",
    }
}

/// The failed check that `wanted` names: by its name or a prefix of it
/// (`availability_at_least`), else by the declared figure it reads
/// (`durability_violations`), so a check is named alike for any workload.
fn named_check<'a>(failed: &[&'a CheckResult], wanted: &str) -> Option<&'a CheckResult> {
    failed
        .iter()
        .find(|check| check.name.starts_with(wanted))
        .or_else(|| {
            failed
                .iter()
                .find(|check| check.figure.as_deref() == Some(wanted))
        })
        .copied()
}

/// What to keep failing: the check `wanted` names ([`named_check`]), else the first
/// failed check, else the error; `None` when the seed passes.
pub fn target_of(
    scenario: &Arc<ResolvedScenario>,
    seed: u64,
    wanted: Option<&str>,
) -> Result<Option<Target>, String> {
    match runner::run(Arc::clone(scenario), seed, None) {
        Ok(timed) => {
            let record = timed.output.record(scenario, &Invocation::default());
            let failed: Vec<&CheckResult> = record
                .summary
                .checks
                .iter()
                .filter(|check| !check.passed)
                .collect();
            match wanted {
                Some(wanted) => match named_check(&failed, wanted) {
                    Some(check) => Ok(Some(Target::Check(check.name.clone()))),
                    None if failed.is_empty() => Ok(None),
                    None => Err(format!(
                        "seed {seed} fails no check named {wanted:?} (by its name or the \
                         figure it reads); it fails: {}",
                        failed
                            .iter()
                            .map(|check| match &check.figure {
                                Some(figure) => format!("{} (figure {figure})", check.name),
                                None => check.name.clone(),
                            })
                            .collect::<Vec<_>>()
                            .join(", ")
                    )),
                },
                None => Ok(failed
                    .first()
                    .map(|check| Target::Check(check.name.clone()))),
            }
        }
        Err(EngineError::Config(message)) => Err(message),
        Err(err) => Ok(Some(Target::Error(error_kind(&err)))),
    }
}

/// The explicit faults that `scenario`'s random processes draw at `seed`, in the order
/// the plan takes them (so the expanded scenario runs the same fault actions).
pub fn expand_random(scenario: &ResolvedScenario, seed: u64) -> Result<Vec<Fault>, String> {
    let plan = &scenario.plan;
    let topology = Topology::new(plan.families.clone())?;
    let duration_ns = plan.duration_ns;
    let occurrences = faults::draw_random(&plan.random_faults, duration_ns, &topology, seed)?;
    occurrences
        .iter()
        .map(|occurrence: &Occurrence| {
            let node = Selector::parse(&topology.name(occurrence.node))?;
            let at = Dur::from_nanos(occurrence.start_ns);
            let length = occurrence
                .end_ns
                .map(|end| Dur::from_nanos(end - occurrence.start_ns));
            Ok(if occurrence.crash {
                Fault {
                    at,
                    crash: Some(node),
                    restart_after: length,
                    ..Fault::default()
                }
            } else {
                // A pause that lasts past the end: a window that ends after the run.
                let length =
                    length.unwrap_or(Dur::from_nanos(duration_ns - occurrence.start_ns + 1));
                Fault {
                    at,
                    for_: Some(length),
                    pause: Some(node),
                    ..Fault::default()
                }
            })
        })
        .collect()
}

fn describe_fault(fault: &Value) -> String {
    let mut text = serde_json::to_string(fault).unwrap_or_default();
    if text.len() > 120 {
        text.truncate(117);
        text.push_str("...");
    }
    text
}

/// Shrinks `scenario` (resolved at `seed`, failing as `target`), logging each step.
pub fn shrink(
    scenario: &ResolvedScenario,
    seed: u64,
    target: Target,
    bounds: Bounds,
    log: &mut dyn FnMut(&str),
) -> Result<Shrunk, String> {
    let mut base = scenario.as_run()?;
    base.seed = seed;
    let mut shrinker = Shrinker {
        seed,
        target,
        bounds,
        clock: Stopwatch::start(),
        runs: 0,
        stop: None,
        log,
    };
    let mut steps: Vec<String> = Vec::new();
    let mut step = |shrinker: &mut Shrinker<'_>, text: String| {
        (shrinker.log)(&text);
        steps.push(text);
    };

    let mut tree = serde_json::to_value(&base).map_err(|err| err.to_string())?;
    let mut expanded = 0;
    if !base.random_faults.is_empty() {
        let explicit = expand_random(scenario, seed)?;
        let mut candidate = tree.clone();
        let list = candidate["faults"]
            .as_array_mut()
            .ok_or("the scenario has no faults list")?;
        for fault in &explicit {
            list.push(serde_json::to_value(fault).map_err(|err| err.to_string())?);
        }
        candidate["random_faults"] = Value::Array(Vec::new());
        if shrinker.fails(&candidate) {
            expanded = base.random_faults.len();
            step(
                &mut shrinker,
                format!(
                    "expanded {expanded} random fault process(es) into {} explicit faults",
                    explicit.len()
                ),
            );
            tree = candidate;
        } else {
            (shrinker.log)(
                "the random faults, made explicit, no longer fail the same way: shrinking them as processes",
            );
        }
    }
    let faults_before = tree["faults"].as_array().map_or(0, Vec::len);

    loop {
        let before = tree.clone();
        for list in ["faults", "random_faults"] {
            let removed = ddmin_list(&mut shrinker, &mut tree, list);
            for (index, entry) in removed {
                step(
                    &mut shrinker,
                    format!("removed {list}[{index}] {}", describe_fault(&entry)),
                );
            }
        }
        let entries = tree["faults"].as_array().map_or(0, Vec::len);
        for index in 0..entries {
            for key in ["for", "restart_after"] {
                let path = FieldPath::root().key("faults").index(index).key(key);
                if let Some((from, to)) = shorten(&mut shrinker, &mut tree, &path) {
                    step(&mut shrinker, format!("{} {from} -> {to}", path.display()));
                }
            }
        }
        for path in count_paths(&tree) {
            if let Some((from, to)) = reduce(&mut shrinker, &mut tree, &path) {
                step(&mut shrinker, format!("{} {from} -> {to}", path.display()));
            }
        }
        if tree == before || shrinker.exhausted() {
            break;
        }
    }
    let stop = shrinker.stop.unwrap_or(Stop::Fixpoint);
    let minimal: Scenario = serde_json::from_value(tree.clone()).map_err(|err| err.to_string())?;
    let resolved = resolve(minimal.clone()).map_err(|issue| issue.message)?;
    shrinker.runs += 1;
    let trace_hash = match judge(&Arc::new(resolved), seed, &shrinker.target) {
        Verdict::Fails { trace_hash } => trace_hash,
        Verdict::Other => {
            return Err(
                "the minimal scenario no longer fails: the run is not deterministic \
                        (try run --check-determinism)"
                    .to_owned(),
            )
        }
    };
    Ok(Shrunk {
        target: shrinker.target.clone(),
        faults_before,
        faults_after: minimal.faults.len(),
        scenario: minimal,
        steps,
        expanded,
        runs: shrinker.runs,
        stop,
        trace_hash,
    })
}

/// Delta debugging over the entries of the list at `list`: removes every entry it can
/// while the failure stays; returns the removed entries with their indices in the list
/// as it was.
fn ddmin_list(shrinker: &mut Shrinker<'_>, tree: &mut Value, list: &str) -> Vec<(usize, Value)> {
    let Some(entries) = tree[list].as_array().cloned() else {
        return Vec::new();
    };
    let mut kept: Vec<usize> = (0..entries.len()).collect();
    let with = |tree: &Value, keep: &[usize]| {
        let mut candidate = tree.clone();
        candidate[list] = Value::Array(keep.iter().map(|&i| entries[i].clone()).collect());
        candidate
    };
    let mut granularity = 2usize;
    while !kept.is_empty() && !shrinker.exhausted() {
        if kept.len() == 1 {
            if shrinker.fails(&with(tree, &[])) {
                kept.clear();
            }
            break;
        }
        let n = granularity.min(kept.len());
        let chunk = kept.len().div_ceil(n);
        let chunks: Vec<Vec<usize>> = kept.chunks(chunk).map(<[usize]>::to_vec).collect();
        let mut reduced = false;
        // A chunk alone, then the complement of each chunk.
        for piece in &chunks {
            if shrinker.fails(&with(tree, piece)) {
                kept = piece.clone();
                granularity = 2;
                reduced = true;
                break;
            }
        }
        if !reduced && chunks.len() > 2 {
            for piece in &chunks {
                let complement: Vec<usize> = kept
                    .iter()
                    .copied()
                    .filter(|i| !piece.contains(i))
                    .collect();
                if shrinker.fails(&with(tree, &complement)) {
                    kept = complement;
                    granularity = (granularity - 1).max(2);
                    reduced = true;
                    break;
                }
            }
        }
        if !reduced {
            if n >= kept.len() {
                break;
            }
            granularity = (2 * n).min(kept.len());
        }
    }
    let removed = (0..entries.len())
        .filter(|i| !kept.contains(i))
        .map(|i| (i, entries[i].clone()))
        .collect();
    *tree = with(tree, &kept);
    removed
}

/// Shortens the duration at `path` (if there is one) to the shortest whole number of
/// [`WINDOW_STEP`]s that still fails; returns (from, to) when it changed.
fn shorten(shrinker: &mut Shrinker<'_>, tree: &mut Value, path: &FieldPath) -> Option<(Dur, Dur)> {
    let current: Dur = path.get(tree).ok()?.as_str()?.parse().ok()?;
    let step = WINDOW_STEP.as_nanos();
    let at = |tree: &Value, nanos: u64| {
        let mut candidate = tree.clone();
        path.set(
            &mut candidate,
            Value::String(Dur::from_nanos(nanos).to_string()),
        )
        .ok()?;
        Some(candidate)
    };
    // The fewest steps in [0, high] that fail; `high` steps fit in the current length.
    let (mut low, mut high) = (0u64, current.as_nanos() / step);
    if high == 0 {
        return None;
    }
    let known_high = high * step == current.as_nanos();
    if !known_high && !shrinker.fails(&at(tree, high * step)?) {
        return None;
    }
    while low < high && !shrinker.exhausted() {
        let mid = (low + high) / 2;
        if shrinker.fails(&at(tree, mid * step)?) {
            high = mid;
        } else {
            low = mid + 1;
        }
    }
    let shortest = high * step;
    if shortest >= current.as_nanos() {
        return None;
    }
    *tree = at(tree, shortest)?;
    Some((current, Dur::from_nanos(shortest)))
}

/// Reduces the whole number at `path` to the smallest value (from 1) that still fails;
/// returns (from, to) when it changed.
fn reduce(shrinker: &mut Shrinker<'_>, tree: &mut Value, path: &FieldPath) -> Option<(u64, u64)> {
    let current = path.get(tree).ok()?.as_u64()?;
    let at = |tree: &Value, value: u64| {
        let mut candidate = tree.clone();
        path.set(&mut candidate, Value::from(value)).ok()?;
        Some(candidate)
    };
    let (mut low, mut high) = (1u64, current);
    while low < high && !shrinker.exhausted() {
        let mid = low + (high - low) / 2;
        if shrinker.fails(&at(tree, mid)?) {
            high = mid;
        } else {
            low = mid + 1;
        }
    }
    if high >= current {
        return None;
    }
    *tree = at(tree, high)?;
    Some((current, high))
}

/// Paths of the whole numbers named `count` under `workload`, in document order.
pub fn count_paths(tree: &Value) -> Vec<FieldPath> {
    fn walk(value: &Value, path: &FieldPath, out: &mut Vec<FieldPath>) {
        if path.len() >= MAX_STEPS {
            return;
        }
        match value {
            Value::Object(map) => {
                for (key, child) in map {
                    let child_path = path.key(key);
                    if key == "count" && child.is_u64() {
                        out.push(child_path);
                    } else {
                        walk(child, &child_path, out);
                    }
                }
            }
            Value::Array(items) => {
                for (index, child) in items.iter().enumerate() {
                    walk(child, &path.index(index), out);
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(
        &tree["workload"],
        &FieldPath::root().key("workload"),
        &mut out,
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_check_is_named_by_its_name_or_by_the_figure_it_reads() {
        let check = |name: &str, figure: Option<&str>| CheckResult {
            name: name.into(),
            passed: false,
            detail: String::new(),
            figure: figure.map(str::to_owned),
            threshold: Some(0.0),
        };
        let durability = check("durability true", Some("durability_violations"));
        let availability = check("availability_at_least 0.95", Some("availability"));
        let plain = check("no_figure", None);
        let failed = [&durability, &availability, &plain];
        let named = |wanted| named_check(&failed, wanted).map(|c| c.name.as_str());
        assert_eq!(named("availability_at"), Some("availability_at_least 0.95"));
        assert_eq!(named("durability_violations"), Some("durability true"));
        assert_eq!(named("availability"), Some("availability_at_least 0.95"));
        assert_eq!(named("no_figure"), Some("no_figure"));
        assert_eq!(named("money_lost_units"), None);
        assert_eq!(
            named("durability_violation"),
            None,
            "a figure by its whole name"
        );
    }
    use serde_json::json;

    #[test]
    fn counts_are_found_under_the_workload_only() {
        let tree = json!({
            "workload": {"clients": {"count": 5, "retry": {"count": "x"}}, "servers": {"count": 2},
                         "pools": [{"count": 3}]},
            "faults": [{"count": 9}]
        });
        let paths: Vec<String> = count_paths(&tree).iter().map(FieldPath::display).collect();
        assert_eq!(
            paths,
            vec![
                "workload.clients.count",
                "workload.pools[0].count",
                "workload.servers.count"
            ]
        );
    }
}
