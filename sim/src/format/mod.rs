//! The scenario file format's shared value types: durations, distributions, node
//! selectors, checks, the network, faults and metrics blocks, located issues and what the
//! records take from a resolved scenario. The whole-file type and its loading live in
//! `scenario`, a workload's own part in `workload/<kind>/spec.rs`; both build on these.
//!
//! This module sits just above `engine` and imports nothing else of the crate, so that
//! workloads and the scenario file can both use it without importing each other.

pub mod check;
pub mod dist;
pub mod duration;
pub mod issue;
pub mod paths;
pub mod run;
pub mod selector;
pub mod strict;

use schemars::JsonSchema;
use serde::{de, Deserialize, Deserializer, Serialize};

pub use check::Check;
pub use dist::{Dist, Sampler};
pub use duration::{Dur, SignedDur};
pub use issue::{issue, Checked, Issue};
pub use run::RunInfo;
pub use selector::Selector;

/// The service level objective: what availability the reports hold the run to, and
/// optionally a latency within which a success counts as good.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Slo {
    /// Target availability, 0..1 (default: the first `availability_at_least` check, else
    /// 0.99).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0.0, max = 1.0))]
    pub availability: Option<f64>,
    /// A success counts as good only within this latency; the reports then show
    /// availability both ways (default: every success is good).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency: Option<Dur>,
}

impl Slo {
    pub(crate) fn is_default(&self) -> bool {
        *self == Slo::default()
    }
}

/// Network defaults, with optional per-link overrides.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Network {
    /// One-way latency of every link.
    #[serde(default = "default_latency")]
    pub latency: Dist,
    /// Probability that any message is lost, 0..1.
    #[serde(default)]
    #[schemars(range(min = 0.0, max = 1.0))]
    pub drop_rate: f64,
    /// Per-link overrides, first match wins.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<LinkSpec>,
}

fn default_latency() -> Dist {
    Dist::Uniform([Dur::from_millis(1), Dur::from_millis(5)])
}

impl Default for Network {
    fn default() -> Self {
        Network {
            latency: default_latency(),
            drop_rate: 0.0,
            links: Vec::new(),
        }
    }
}

/// A per-link override of latency and drop rate (directional: `from` -> `to`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LinkSpec {
    /// Senders.
    pub from: Selector,
    /// Receivers.
    pub to: Selector,
    /// One-way latency on these links (default: the network's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency: Option<Dist>,
    /// Drop rate on these links (default: the network's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0.0, max = 1.0))]
    pub drop_rate: Option<f64>,
}

/// A fault at a fixed time. Exactly one kind key (`crash`, `partition`, `omission`,
/// `timing`, `pause`, `clock`, `slowdown`, `disk`) per entry.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(extend("oneOf" = [
    {"required": ["crash"]}, {"required": ["partition"]}, {"required": ["omission"]},
    {"required": ["timing"]}, {"required": ["pause"]}, {"required": ["clock"]},
    {"required": ["slowdown"]}, {"required": ["disk"]}
]))]
pub struct Fault {
    /// When it starts.
    pub at: Dur,
    /// How long it lasts (kinds with a window).
    #[serde(rename = "for", default, skip_serializing_if = "Option::is_none")]
    pub for_: Option<Dur>,
    /// Crash these nodes (volatile state lost).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crash: Option<Selector>,
    /// `crash`: restart after this long (default: stays down).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restart_after: Option<Dur>,
    /// Cut links.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partition: Option<Partition>,
    /// Drop a fraction of messages on matching links.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub omission: Option<Omission>,
    /// Add latency on matching links.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timing: Option<Timing>,
    /// Pause these nodes (no progress; state kept).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pause: Option<Selector>,
    /// Change a node's physical clock.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clock: Option<ClockFault>,
    /// Multiply service time (a capacity drop).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slowdown: Option<Slowdown>,
    /// A disk fault on the nodes' disks (workloads whose nodes keep disks).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disk: Option<DiskFaultSpec>,
}

/// A disk fault: for the fault's window, the disks of the matching nodes misbehave.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DiskFaultSpec {
    /// The nodes whose disks.
    pub node: Selector,
    /// What goes wrong.
    pub fault: DiskFaultKind,
}

/// How a disk misbehaves.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum DiskFaultKind {
    /// fsync reports success and persists nothing (a volatile write cache that ignores
    /// flushes; Linux after a failed writeback).
    LyingFsync,
    /// Every write fails: the disk is full.
    Full,
    /// Each read returns its bytes with one bit flipped with this probability (0..1].
    ReadCorruption(f64),
}

/// Partition forms.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum Partition {
    /// Symmetric: nodes in different groups cannot talk; nodes in no group are unaffected.
    Groups(Vec<Vec<Selector>>),
    /// One way: messages from `from` to `to` are lost.
    OneWay(OneWay),
    /// The node can neither send nor receive.
    Isolate(Isolate),
}

// Read by hand (the shape picks the form) rather than by serde's `untagged`, which would
// report an error inside a form at the end of the partition, without its path.
impl<'de> Deserialize<'de> for Partition {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match serde_json::Value::deserialize(deserializer)? {
            groups @ serde_json::Value::Array(_) => strict::nested(groups).map(Partition::Groups),
            serde_json::Value::Object(object) if object.contains_key("isolate") => {
                strict::nested(serde_json::Value::Object(object)).map(Partition::Isolate)
            }
            object @ serde_json::Value::Object(_) => strict::nested(object).map(Partition::OneWay),
            other => Err(de::Error::invalid_type(
                strict::unexpected(&other),
                &"groups such as [[\"client-*\"], [\"server-*\"]], or {\"from\": .., \"to\": ..} \
                  (one way), or {\"isolate\": ..}",
            )),
        }
    }
}

/// One-way partition.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OneWay {
    /// Senders.
    pub from: Selector,
    /// Receivers.
    pub to: Selector,
}

/// Isolation of nodes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Isolate {
    /// The nodes cut off.
    pub isolate: Selector,
}

fn any_node() -> Selector {
    Selector::parse("*").expect("`*` is a valid selector")
}

/// Omission: drop `rate` of messages from `from` to `to`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Omission {
    /// Senders (default all).
    #[serde(default = "any_node")]
    pub from: Selector,
    /// Receivers (default all).
    #[serde(default = "any_node")]
    pub to: Selector,
    /// Fraction dropped, 0..1.
    #[schemars(range(min = 0.0, max = 1.0))]
    pub rate: f64,
}

/// Timing: add latency to messages from `from` to `to`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Timing {
    /// Senders (default all).
    #[serde(default = "any_node")]
    pub from: Selector,
    /// Receivers (default all).
    #[serde(default = "any_node")]
    pub to: Selector,
    /// Extra one-way latency.
    pub extra_latency: Dist,
}

/// A physical-clock fault: from `at`, the node's clock reads
/// `true_time + skew + drift_ppm * (true_time - at) / 1e6`, plus any `jump`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ClockFault {
    /// The nodes.
    pub node: Selector,
    /// Constant offset from true time; negative is behind (`"-250ms"`).
    #[serde(default)]
    pub skew: SignedDur,
    /// Drift in parts per million (negative: slow clock).
    #[serde(default)]
    pub drift_ppm: f64,
    /// A one-off forward jump at `at`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jump: Option<Dur>,
}

/// Slowdown: service time multiplied by `factor` on matching servers.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Slowdown {
    /// The servers.
    pub node: Selector,
    /// Multiplier (> 0; 5 = five times slower).
    pub factor: f64,
}

/// A stochastic fault process per matching node: up-times exponential with mean `mtbf`,
/// down-times exponential with mean `mttr`. Exactly one of `crash` and `pause`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(extend("oneOf" = [{"required": ["crash"]}, {"required": ["pause"]}]))]
pub struct RandomFault {
    /// Crash (volatile state lost, restart after the repair time).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crash: Option<Selector>,
    /// Pause (state kept).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pause: Option<Selector>,
    /// Mean time between failures.
    pub mtbf: Dur,
    /// Mean time to repair.
    pub mttr: Dur,
}

/// Metrics settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Metrics {
    /// Window length of `timeline.csv` rows.
    #[serde(default = "default_window")]
    pub window: Dur,
}

fn default_window() -> Dur {
    Dur::from_secs(1)
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics {
            window: default_window(),
        }
    }
}
