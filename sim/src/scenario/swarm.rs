//! Swarm testing: a scenario's `swarm` block declares ranges, and every seed draws its
//! own mix from them: which fault kinds are on, and values for chosen fields (a fault's
//! start, window, rate or target, a workload parameter). Groce et al., "Swarm Testing"
//! (ISSTA 2012), found that leaving features out at random finds more bugs than always
//! running all of them; FoundationDB's simulator and TigerBeetle's VOPR draw their fault
//! mixes per seed the same way.
//!
//! The draw is made before the normal resolve step, from the run seed alone: each kind
//! switch and each draw has its own random stream, keyed by its name or path (not by its
//! position), so adding a draw does not change the others. The result is an explicit
//! scenario without the swarm block (written as `scenario.resolved.json` beside the
//! run's records), and the list of what was drawn ([`SwarmChoice`], in the run's
//! `summary.json` under `swarm`).
//!
//! Order: value draws first, at the paths of the file as written; then entries removed
//! (`keep` draws and kinds switched off), so every path names the file's own entries.

use rand::Rng;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::overrides::FieldPath;
use super::validate::{issue, Issue, FAULT_KINDS};
use super::{Dur, Scenario, SignedDur};
use crate::engine::streams;

/// Most draws one swarm block may hold.
pub const MAX_DRAWS: usize = 1_000;

/// Most values one `one_of` may list.
pub const MAX_CHOICES: usize = 1_000;

/// The `swarm` block.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Swarm {
    /// Probability that each fault kind is on in a run. A kind that is off loses every
    /// entry of that kind in `faults` and `random_faults`; a kind not listed is always on.
    #[serde(default)]
    pub kinds: SwarmKinds,
    /// Values drawn per run, one field each.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub draws: Vec<SwarmDraw>,
}

/// Per fault kind, the probability (0..1) that it is on in a run.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SwarmKinds {
    /// `crash` faults and random crash processes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0.0, max = 1.0))]
    pub crash: Option<f64>,
    /// `partition` faults.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0.0, max = 1.0))]
    pub partition: Option<f64>,
    /// `omission` faults.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0.0, max = 1.0))]
    pub omission: Option<f64>,
    /// `timing` faults.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0.0, max = 1.0))]
    pub timing: Option<f64>,
    /// `pause` faults and random pause processes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0.0, max = 1.0))]
    pub pause: Option<f64>,
    /// `clock` faults.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0.0, max = 1.0))]
    pub clock: Option<f64>,
    /// `slowdown` faults.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0.0, max = 1.0))]
    pub slowdown: Option<f64>,
    /// `disk` faults.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0.0, max = 1.0))]
    pub disk: Option<f64>,
}

impl SwarmKinds {
    /// `(kind, probability)` of the kinds listed, in a fixed order.
    pub fn listed(&self) -> Vec<(&'static str, f64)> {
        [
            ("crash", self.crash),
            ("partition", self.partition),
            ("omission", self.omission),
            ("timing", self.timing),
            ("pause", self.pause),
            ("clock", self.clock),
            ("slowdown", self.slowdown),
            ("disk", self.disk),
        ]
        .into_iter()
        .filter_map(|(kind, p)| p.map(|p| (kind, p)))
        .collect()
    }
}

/// One drawn field: give `path` and exactly one of `between`, `one_of` and `keep`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SwarmDraw {
    /// The field, as `--set` writes it: `faults.0.at`, `workload.clients.count`.
    pub path: String,
    /// Uniform between two numbers or two durations, both included: whole numbers when
    /// both bounds are whole (`[100, 1000]`), else real numbers (`[0.1, 0.5]`) or
    /// durations (`["1s", "10s"]`, drawn in whole milliseconds, or finer when a bound is
    /// finer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub between: Option<[Value; 2]>,
    /// One of these values, each as likely (selectors, jitter kinds, whole objects).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub one_of: Option<Vec<Value>>,
    /// Keep the entry at `path` (an element of a list, such as `faults.2`) with this
    /// probability, else remove it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0.0, max = 1.0))]
    pub keep: Option<f64>,
}

/// What one seed drew for one switch or field.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SwarmChoice {
    /// `kinds.omission`, or the draw's path.
    pub path: String,
    /// The value drawn: `true`/`false` for a kind or a `keep`, else the field's value.
    pub value: Value,
}

/// The random stream of one switch or draw, keyed by its name.
fn stream_of(seed: u64, name: &str) -> rand_chacha::ChaCha8Rng {
    streams::stream(seed, streams::SWARM, streams::key_of(name.as_bytes()))
}

/// The fault kind of a `faults` or `random_faults` entry.
fn kind_of(entry: &Value) -> Option<&'static str> {
    let object = entry.as_object()?;
    FAULT_KINDS
        .into_iter()
        .find(|kind| object.contains_key(*kind))
}

/// Draws `scenario`'s swarm at its seed; returns the explicit scenario (no swarm block)
/// and what was drawn. A scenario without a swarm block comes back as it is.
pub fn apply(mut scenario: Scenario) -> Result<(Scenario, Vec<SwarmChoice>), Issue> {
    let Some(swarm) = scenario.swarm.take() else {
        return Ok((scenario, Vec::new()));
    };
    check(&swarm)?;
    let seed = scenario.seed;
    let mut tree = serde_json::to_value(&scenario)
        .map_err(|err| issue("swarm", format!("cannot write the scenario as JSON: {err}")))?;
    let mut choices = Vec::new();
    // (list path, index) of entries to remove.
    let mut removals: Vec<(FieldPath, usize)> = Vec::new();

    for (kind, p) in swarm.kinds.listed() {
        let on = stream_of(seed, &format!("kinds.{kind}")).gen::<f64>() < p;
        choices.push(SwarmChoice {
            path: format!("kinds.{kind}"),
            value: Value::Bool(on),
        });
        if !on {
            for list in ["faults", "random_faults"] {
                let entries = tree[list].as_array().map_or(0, Vec::len);
                for index in 0..entries {
                    if kind_of(&tree[list][index]) == Some(kind) {
                        removals.push((FieldPath::root().key(list), index));
                    }
                }
            }
        }
    }

    for (index, draw) in swarm.draws.iter().enumerate() {
        let at = format!("swarm.draws[{index}]");
        let mut rng = stream_of(seed, &format!("draws.{}", draw.path));
        let path = FieldPath::parse(&draw.path).map_err(|err| issue(format!("{at}.path"), err))?;
        if let Some(keep) = draw.keep {
            let (list, entry) = keep_entry(&draw.path).map_err(|err| issue(&at, err))?;
            path.get(&tree)
                .map_err(|err| issue(format!("{at}.path"), err))?;
            let kept = rng.gen::<f64>() < keep;
            choices.push(SwarmChoice {
                path: draw.path.clone(),
                value: Value::Bool(kept),
            });
            if !kept {
                removals.push((list, entry));
            }
            continue;
        }
        let value = if let Some([low, high]) = &draw.between {
            between(low, high, &mut rng).map_err(|err| issue(format!("{at}.between"), err))?
        } else if let Some(values) = &draw.one_of {
            values[rng.gen_range(0..values.len())].clone()
        } else {
            return Err(issue(&at, "give one of between, one_of, keep"));
        };
        path.set(&mut tree, value.clone())
            .map_err(|err| issue(format!("{at}.path"), err))?;
        choices.push(SwarmChoice {
            path: draw.path.clone(),
            value,
        });
    }

    // Remove from the back, so earlier indices stay valid.
    removals.sort();
    removals.dedup();
    for (list, index) in removals.iter().rev() {
        if let Some(entries) = list.get_mut(&mut tree).ok().and_then(Value::as_array_mut) {
            if *index < entries.len() {
                entries.remove(*index);
            }
        }
    }

    let drawn: Scenario = serde_json::from_value(tree).map_err(|err| {
        issue(
            "swarm",
            format!("the values drawn for seed {seed} do not make a scenario: {err}"),
        )
    })?;
    debug_assert!(drawn.swarm.is_none());
    Ok((drawn, choices))
}

/// `(list path, index)` of a `keep` draw's path, which must name a list entry (`faults.2`).
fn keep_entry(path: &str) -> Result<(FieldPath, usize), String> {
    FieldPath::parse(path)?.list_entry().ok_or_else(|| {
        format!("keep needs a path to an entry of a list (such as faults.2), not {path:?}")
    })
}

/// The rules a swarm block follows whatever the seed.
fn check(swarm: &Swarm) -> Result<(), Issue> {
    for (kind, p) in swarm.kinds.listed() {
        if !(0.0..=1.0).contains(&p) {
            return Err(issue(
                format!("swarm.kinds.{kind}"),
                format!("{p} is not a probability: write a number from 0 to 1"),
            ));
        }
    }
    if swarm.draws.len() > MAX_DRAWS {
        return Err(issue(
            "swarm.draws",
            format!(
                "{} draws exceed the limit of {MAX_DRAWS}",
                swarm.draws.len()
            ),
        ));
    }
    for (index, draw) in swarm.draws.iter().enumerate() {
        let at = format!("swarm.draws[{index}]");
        FieldPath::parse(&draw.path).map_err(|err| issue(format!("{at}.path"), err))?;
        if swarm.draws[..index]
            .iter()
            .any(|earlier| earlier.path == draw.path)
        {
            return Err(issue(
                format!("{at}.path"),
                format!("{:?} is drawn twice: one draw per field", draw.path),
            ));
        }
        let given = [
            draw.between.is_some(),
            draw.one_of.is_some(),
            draw.keep.is_some(),
        ];
        if given.iter().filter(|&&g| g).count() != 1 {
            return Err(issue(&at, "give exactly one of between, one_of, keep"));
        }
        if let Some(keep) = draw.keep {
            if !(0.0..=1.0).contains(&keep) {
                return Err(issue(
                    format!("{at}.keep"),
                    format!("{keep} is not a probability: write a number from 0 to 1"),
                ));
            }
            keep_entry(&draw.path).map_err(|err| issue(format!("{at}.path"), err))?;
        }
        if let Some(values) = &draw.one_of {
            if values.is_empty() || values.len() > MAX_CHOICES {
                return Err(issue(
                    format!("{at}.one_of"),
                    format!("list 1 to {MAX_CHOICES} values"),
                ));
            }
        }
        if let Some([low, high]) = &draw.between {
            // A draw from a fixed stream checks the bounds' types and order.
            let mut rng = stream_of(0, "check");
            between(low, high, &mut rng).map_err(|err| issue(format!("{at}.between"), err))?;
        }
    }
    Ok(())
}

/// A uniform draw between two bounds, both included.
fn between(low: &Value, high: &Value, rng: &mut impl Rng) -> Result<Value, String> {
    let order = || format!("the first bound ({low}) is above the second ({high})");
    match (low, high) {
        (Value::Number(a), Value::Number(b)) => {
            if let (Some(a), Some(b)) = (a.as_i64(), b.as_i64()) {
                if a > b {
                    return Err(order());
                }
                return Ok(Value::from(rng.gen_range(a..=b)));
            }
            if let (Some(a), Some(b)) = (a.as_u64(), b.as_u64()) {
                if a > b {
                    return Err(order());
                }
                return Ok(Value::from(rng.gen_range(a..=b)));
            }
            let (a, b) = (
                a.as_f64().unwrap_or(f64::NAN),
                b.as_f64().unwrap_or(f64::NAN),
            );
            if !(a.is_finite() && b.is_finite()) {
                return Err("the bounds must be finite numbers".to_owned());
            }
            if a > b {
                return Err(order());
            }
            if a == b {
                return Ok(Value::from(a));
            }
            Ok(Value::from(rng.gen_range(a..=b)))
        }
        (Value::String(a), Value::String(b)) => {
            let parse = |text: &str| {
                text.parse::<SignedDur>()
                    .map_err(|err| format!("{err}; between takes two numbers or two durations"))
            };
            let (a, b) = (parse(a)?, parse(b)?);
            if a.nanos > b.nanos {
                return Err(order());
            }
            // Whole milliseconds, unless a bound is finer: readable values, and the
            // bounds themselves can be drawn.
            let unit = [1_000_000i64, 1_000, 1]
                .into_iter()
                .find(|unit| a.nanos % unit == 0 && b.nanos % unit == 0)
                .unwrap_or(1);
            let nanos = rng.gen_range(a.nanos / unit..=b.nanos / unit) * unit;
            Ok(if nanos >= 0 {
                Value::String(Dur::from_nanos(nanos as u64).to_string())
            } else {
                Value::String(SignedDur { nanos }.to_string())
            })
        }
        _ => Err(format!(
            "between takes two numbers or two durations, not {low} and {high}"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn scenario(swarm: Value, seed: u64) -> Scenario {
        serde_json::from_value(json!({
            "name": "swarm-test",
            "seed": seed,
            "duration": "10s",
            "workload": {
                "kind": "rpc",
                "clients": {"count": 10, "arrival": {"poisson_per_s": 1.0}, "timeout": "1s"},
                "servers": {"count": 2, "workers": 2, "service_time": {"constant": "1ms"},
                            "queue_limit": 10}
            },
            "faults": [
                {"at": "1s", "for": "1s", "omission": {"rate": 0.5}},
                {"at": "2s", "crash": "server-0", "restart_after": "1s"},
                {"at": "3s", "for": "1s", "omission": {"rate": 0.1}}
            ],
            "swarm": swarm
        }))
        .expect("a scenario")
    }

    #[test]
    fn the_same_seed_draws_the_same_mix_and_seeds_differ() {
        let swarm = json!({
            "kinds": {"omission": 0.5},
            "draws": [
                {"path": "faults.1.at", "between": ["1s", "5s"]},
                {"path": "workload.clients.count", "between": [5, 50]},
                {"path": "faults.1.crash", "one_of": ["server-0", "server-1"]}
            ]
        });
        let (a, choices_a) = apply(scenario(swarm.clone(), 3)).unwrap();
        let (b, choices_b) = apply(scenario(swarm.clone(), 3)).unwrap();
        assert_eq!(a, b);
        assert_eq!(choices_a, choices_b);
        assert!(a.swarm.is_none());
        assert_eq!(choices_a.len(), 4);
        let mixes: std::collections::BTreeSet<String> = (0..40)
            .map(|seed| format!("{:?}", apply(scenario(swarm.clone(), seed)).unwrap().1))
            .collect();
        assert!(mixes.len() > 30, "only {} mixes in 40 seeds", mixes.len());
        for seed in 0..40 {
            let (drawn, choices) = apply(scenario(swarm.clone(), seed)).unwrap();
            let at = drawn.faults.iter().find(|f| f.crash.is_some()).unwrap().at;
            assert!(Dur::from_secs(1) <= at && at <= Dur::from_secs(5));
            assert_eq!(at.as_nanos() % 1_000_000, 0, "whole milliseconds");
            let omission_on = choices[0].value == json!(true);
            assert_eq!(drawn.faults.len(), if omission_on { 3 } else { 1 });
        }
    }

    #[test]
    fn kinds_switch_off_at_about_their_rate() {
        // 2,000 seeds at p = 0.3: sd of the count is sqrt(2000 * 0.21) = 20.5, so
        // 600 +- 80 is about 4 sd.
        let swarm = json!({"kinds": {"omission": 0.3}});
        let on = (0..2_000)
            .filter(|&seed| apply(scenario(swarm.clone(), seed)).unwrap().0.faults.len() == 3)
            .count();
        assert!((520..=680).contains(&on), "on in {on} of 2000");
    }

    #[test]
    fn every_fault_kind_can_be_switched_off() {
        // A kind the format gains must be a swarm kind too: the block denies unknown keys.
        for kind in FAULT_KINDS {
            let kinds: SwarmKinds = serde_json::from_value(json!({ kind: 0.0 }))
                .unwrap_or_else(|err| panic!("swarm.kinds has no {kind:?}: {err}"));
            assert_eq!(kinds.listed(), vec![(kind, 0.0)]);
        }
        let mut with_disk = scenario(json!({"kinds": {"disk": 0.0}}), 1);
        with_disk.faults.push(
            serde_json::from_value(json!(
                { "at": "5s", "for": "1s", "disk": { "node": "server-0", "fault": "full" } }
            ))
            .unwrap(),
        );
        let (drawn, choices) = apply(with_disk).unwrap();
        assert_eq!(choices[0].path, "kinds.disk");
        assert_eq!(drawn.faults.len(), 3);
        assert!(drawn.faults.iter().all(|fault| fault.disk.is_none()));
    }

    #[test]
    fn keep_removes_entries_by_the_files_indices() {
        let swarm = json!({"draws": [
            {"path": "faults.0", "keep": 0.0},
            {"path": "faults.2.omission.rate", "between": [0.2, 0.2]}
        ]});
        let (drawn, choices) = apply(scenario(swarm, 1)).unwrap();
        assert_eq!(drawn.faults.len(), 2);
        assert!(drawn.faults[0].crash.is_some());
        assert_eq!(drawn.faults[1].omission.as_ref().unwrap().rate, 0.2);
        assert_eq!(choices[0].value, json!(false));
    }

    #[test]
    fn bad_blocks_are_errors_with_paths() {
        let bad = |swarm: Value| apply(scenario(swarm, 1)).unwrap_err();
        let err = bad(json!({"kinds": {"crash": 1.5}}));
        assert_eq!(err.path, "swarm.kinds.crash");
        let err = bad(json!({"draws": [{"path": "faults.0.at", "between": ["5s", "1s"]}]}));
        assert_eq!(err.path, "swarm.draws[0].between");
        let err = bad(json!({"draws": [{"path": "faults.0.at", "between": ["1s", 3]}]}));
        assert!(
            err.message.contains("two numbers or two durations"),
            "{err:?}"
        );
        let err = bad(json!({"draws": [{"path": "faults.9.at", "between": ["1s", "2s"]}]}));
        assert_eq!(err.path, "swarm.draws[0].path");
        let err = bad(json!({"draws": [{"path": "faults.0.at"}]}));
        assert!(err.message.contains("exactly one"), "{err:?}");
        let err = bad(json!({"draws": [{"path": "workload", "keep": 0.5}]}));
        assert!(err.message.contains("entry of a list"), "{err:?}");
        let err = bad(json!({"draws": [
            {"path": "faults.0.at", "between": ["1s", "2s"]},
            {"path": "faults.0.at", "between": ["1s", "2s"]}
        ]}));
        assert!(err.message.contains("drawn twice"), "{err:?}");
        let err = bad(json!({"draws": [{"path": "faults.0.at", "one_of": [5]}]}));
        assert_eq!(err.path, "swarm");
    }
}
