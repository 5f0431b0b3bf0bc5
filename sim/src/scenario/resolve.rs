//! The one resolve step that `validate`, `run`, `compare` and every other command share:
//! a parsed scenario becomes a typed, checked run configuration, or an [`Issue`] naming
//! the field. Nothing a run allocates depends on a value this step has not checked.

use super::swarm::{self, SwarmChoice};
use super::validate::{self, issue, Issue, Nodes};
use super::{plan, Scenario};
use crate::engine::nodes::Topology;
use crate::engine::plan::Plan;
use crate::workload::WorkloadConfig;

/// A scenario resolved for running.
#[derive(Clone, Debug)]
pub struct ResolvedScenario {
    /// The scenario as written (with defaults filled in).
    pub scenario: Scenario,
    /// Its workload's typed config.
    pub workload: WorkloadConfig,
    /// The kernel's plan: nodes, network, faults, windows and limits.
    pub plan: Plan,
    /// What its swarm block drew (empty without one); `scenario` is the explicit
    /// scenario drawn, without the block.
    pub swarm: Vec<SwarmChoice>,
}

/// Resolves `scenario`: first its swarm block, drawn at the scenario's seed into an
/// explicit scenario; then the kernel's limits, the top-level rules, the workload's own
/// limits and rules (and its config), then the network, faults and checks against the
/// workload's nodes, then the event estimate; then it builds the kernel's plan. The
/// first problem found is returned.
pub fn resolve(scenario: Scenario) -> Result<ResolvedScenario, Issue> {
    let (scenario, drawn) = swarm::apply(scenario)?;
    validate::check_limits(&scenario)?;
    validate::check_basics(&scenario)?;
    let resolution = scenario.workload.resolve(&scenario)?;
    let topology =
        Topology::new(resolution.families.clone()).map_err(|message| issue("workload", message))?;
    validate::check_plan_size(&scenario, &topology)?;
    let nodes = Nodes::new(&topology, scenario.duration);
    validate::check_rules(&scenario, &nodes, scenario.workload.checks())?;
    validate::check_event_estimate(&resolution.events)?;
    let plan = plan::build(&scenario, resolution.families)?;
    Ok(ResolvedScenario {
        scenario,
        workload: resolution.config,
        plan,
        swarm: drawn,
    })
}
