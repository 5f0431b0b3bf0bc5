//! What the records take from a scenario, resolved once: the part of the resolve step's
//! output that the shared records and every workload's record read.

use serde_json::Value;

use super::check::Check;

/// The availability objective when the scenario states none.
pub const DEFAULT_SLO: f64 = faultline_reports::stats::DEFAULT_SLO;

/// What the records take from the scenario, resolved once.
#[derive(Clone, Debug)]
pub struct RunInfo {
    /// The scenario's name.
    pub name: String,
    /// What it shows.
    pub description: String,
    /// The seed it runs at.
    pub seed: u64,
    /// The availability objective: `slo.availability`, else the first
    /// `availability_at_least` check, else [`DEFAULT_SLO`].
    pub slo: f64,
    /// The checks evaluated after the run.
    pub checks: Vec<Check>,
    /// The scenario as run (defaults filled in, `--set` applied, swarm drawn, at
    /// `seed`), as data: `scenario_spec` in `summary.json` and `scenario.resolved.json`.
    pub spec: Value,
}

impl RunInfo {
    /// `spec` as a run at `seed` ran it: what a record of that run keeps as
    /// `scenario_spec`, whatever seed the scenario was resolved at.
    pub fn spec_at(&self, seed: u64) -> Value {
        let mut spec = self.spec.clone();
        if let Value::Object(fields) = &mut spec {
            fields.insert("seed".to_owned(), Value::from(seed));
        }
        spec
    }
}
