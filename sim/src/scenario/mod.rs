//! Scenario files: the serde types are the source of truth for the format.
//!
//! This module holds the whole-file type ([`Scenario`]); the value types its core shares
//! with the workloads (durations, distributions, selectors, checks, the network, fault
//! and metrics blocks) live in [`crate::format`] and are re-exported here, and the
//! `workload` object's keys belong to its kind (`workload/<kind>/spec.rs`). Every struct
//! denies unknown keys. Parsing and error locations live in [`load`], the one resolve
//! step in [`resolve`], the kernel's limits in [`limits`].

pub mod limits;
pub mod load;
mod locate;
pub mod overrides;
pub mod plan;
pub mod resolve;
pub mod schema;
pub mod swarm;
pub mod validate;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub use crate::format::{check, dist, duration, selector, strict};
pub use crate::format::{
    ClockFault, DiskFaultKind, DiskFaultSpec, Dist, Dur, Fault, Isolate, LinkSpec, Metrics,
    Network, Omission, OneWay, Partition, RandomFault, Sampler, Selector, SignedDur, Slo, Slowdown,
    Timing,
};
pub use check::Check;
#[cfg(test)]
pub(crate) use load::load_str;
pub use load::{load, load_text, Options, ScenarioError};
pub use resolve::ResolvedScenario;
pub use schema::schema_json;

use crate::workload::{Context, WorkloadSpec};

/// A whole scenario file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// JSON Schema reference for editors (`"schema.json"`); ignored by the engine.
    #[serde(rename = "$schema", default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    /// Short name; used in output paths (`runs/<name>/seed-<seed>/`): letters, digits,
    /// `-`, `_` and `.`.
    #[schemars(length(min = 1), regex(pattern = r"^[A-Za-z0-9_-][A-Za-z0-9._-]*$"))]
    pub name: String,
    /// What the scenario shows and what to look for.
    #[serde(default)]
    pub description: String,
    /// Run seed; `--seed` overrides it.
    #[serde(default)]
    pub seed: u64,
    /// Simulated time to run.
    pub duration: Dur,
    /// Default network behaviour.
    #[serde(default)]
    pub network: Network,
    /// What the nodes do: `"kind"` selects the workload.
    pub workload: WorkloadSpec,
    /// Faults at fixed times.
    #[serde(default)]
    pub faults: Vec<Fault>,
    /// Stochastic fault processes drawn from the seed.
    #[serde(default)]
    pub random_faults: Vec<RandomFault>,
    /// Metrics settings.
    #[serde(default)]
    pub metrics: Metrics,
    /// Checks evaluated after the run; a failed one exits 1.
    #[serde(default)]
    pub checks: Vec<Check>,
    /// The service level objective the reports measure against.
    #[serde(default, skip_serializing_if = "Slo::is_default")]
    pub slo: Slo,
    /// Swarm testing: ranges each seed draws its own fault mix and values from
    /// (drawn at the start of the resolve step; see `scenario::swarm`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub swarm: Option<swarm::Swarm>,
}

impl Scenario {
    /// What its workload reads of the rest of the file when it resolves its part.
    pub fn context(&self) -> Context<'_> {
        Context {
            duration: self.duration,
            network: &self.network,
            faults: &self.faults,
            random_faults: &self.random_faults,
            metrics: &self.metrics,
            checks: &self.checks,
            slo: &self.slo,
        }
    }
}
