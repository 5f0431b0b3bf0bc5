//! The one resolve step that `validate`, `run`, `compare` and every other command share:
//! a parsed scenario becomes a typed, checked run configuration, or an [`Issue`] naming
//! the field. Nothing a run allocates depends on a value this step has not checked, and
//! nothing downstream reads the scenario again: the kernel gets its [`Plan`], the
//! workload its config, the records a [`RunInfo`].

use super::check::Bound;
use super::swarm::{self, SwarmChoice};
use super::validate::{self, issue, Issue, Nodes};
use super::{plan, Scenario};
use crate::engine::nodes::Topology;
use crate::engine::plan::Plan;
use crate::record::Invocation;
use crate::workload::{EventEstimate, MemoryEstimate, RunOutput, WorkloadConfig};
use faultline_reports::record::RunRecord;

pub use crate::format::run::{RunInfo, DEFAULT_SLO};

/// A scenario resolved for running.
#[derive(Clone, Debug)]
pub struct ResolvedScenario {
    /// What the records say of the run besides its outputs.
    pub run: RunInfo,
    /// Its workload's typed config.
    pub workload: WorkloadConfig,
    /// The kernel's plan: nodes, network, faults, windows and limits.
    pub plan: Plan,
    /// The estimate of its events, checked against [`super::limits::MAX_EVENTS`].
    pub events: EventEstimate,
    /// The estimate of its memory, checked against
    /// [`super::limits::MAX_MEMORY_BYTES`].
    pub memory: MemoryEstimate,
    /// What its swarm block drew (empty without one); `run.spec` is the explicit
    /// scenario drawn, without the block.
    pub swarm: Vec<SwarmChoice>,
}

impl RunOutput {
    /// The run record of a run of `resolved`, its checks evaluated.
    pub fn record(&self, resolved: &ResolvedScenario, invocation: &Invocation) -> RunRecord {
        self.record_of(&resolved.workload, &resolved.run, invocation)
    }
}

impl ResolvedScenario {
    /// The same scenario run at `seed` (a scenario without a swarm block resolves the
    /// same at every seed; with one, resolve it at the seed instead).
    pub fn with_seed(&self, seed: u64) -> ResolvedScenario {
        let mut resolved = self.clone();
        resolved.run.seed = seed;
        resolved.run.spec = self.run.spec_at(seed);
        resolved
    }

    /// The scenario as run, typed again: for the tools that derive new scenarios from a
    /// run (shrinking, the divergence check), which resolve what they derive.
    pub fn as_run(&self) -> Result<Scenario, String> {
        serde_json::from_value(self.run.spec.clone()).map_err(|err| err.to_string())
    }
}

/// Resolves `scenario`: first its swarm block, drawn at the scenario's seed into an
/// explicit scenario; then the kernel's limits, the top-level rules, the workload's own
/// limits and rules (and its config), then the network, faults and checks against the
/// workload's nodes, then the event estimate and the memory estimate; then it builds the
/// kernel's plan. The first problem found is returned.
pub fn resolve(scenario: Scenario) -> Result<ResolvedScenario, Issue> {
    let (scenario, drawn) = swarm::apply(scenario)?;
    validate::check_limits(&scenario)?;
    validate::check_basics(&scenario)?;
    let resolution = scenario.workload.resolve(&scenario.context())?;
    let topology =
        Topology::new(resolution.families.clone()).map_err(|message| issue("workload", message))?;
    validate::check_plan_size(&scenario, &topology)?;
    let nodes = Nodes::new(&topology, scenario.duration);
    validate::check_rules(&scenario, &nodes, scenario.workload.checks())?;
    validate::check_event_estimate(&resolution.events)?;
    validate::check_memory_estimate(&resolution.memory)?;
    let plan = plan::build(&scenario, resolution.families)?;
    let spec = serde_json::to_value(&scenario)
        .map_err(|err| issue("", format!("cannot keep the scenario as run: {err}")))?;
    let run = RunInfo {
        slo: slo(&scenario),
        name: scenario.name,
        description: scenario.description,
        seed: scenario.seed,
        checks: scenario.checks,
        spec,
    };
    Ok(ResolvedScenario {
        run,
        workload: resolution.config,
        plan,
        events: resolution.events,
        memory: resolution.memory,
        swarm: drawn,
    })
}

/// The availability objective: `slo.availability`, else the first
/// `availability_at_least` check, else [`DEFAULT_SLO`].
fn slo(scenario: &Scenario) -> f64 {
    if let Some(availability) = scenario.slo.availability {
        return availability;
    }
    scenario
        .checks
        .iter()
        .find_map(|check| match (check.name.as_str(), check.bound) {
            ("availability_at_least", Bound::Number(bound)) => Some(bound),
            _ => None,
        })
        .unwrap_or(DEFAULT_SLO)
}
