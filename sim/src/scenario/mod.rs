//! Scenario files: the serde types are the source of truth for the format.
//!
//! Every struct denies unknown keys. Parsing, error locations and semantic validation
//! live in [`load`]; limits in [`limits`].

pub mod dist;
pub mod duration;
pub mod limits;
pub mod load;
mod locate;
pub mod schema;
pub mod selector;
pub mod validate;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub use dist::{Dist, Sampler};
pub use duration::{Dur, SignedDur};
pub use load::{load_file, load_str, ScenarioError};
pub use schema::schema_json;
pub use selector::Selector;

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
    /// What the clients and servers do.
    pub workload: Workload,
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

/// Workload kinds; more arrive over time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum WorkloadKind {
    /// Request/response clients against a pool of servers.
    Rpc,
}

/// The workload.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Workload {
    /// Which workload.
    pub kind: WorkloadKind,
    /// The client population.
    pub clients: Clients,
    /// The servers.
    pub servers: Servers,
}

/// The client population: `count` logical clients named `client-0` .. `client-{count-1}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Clients {
    /// Number of logical clients.
    #[schemars(range(min = 1, max = limits::MAX_CLIENTS))]
    pub count: u32,
    /// How each client issues requests.
    pub arrival: Arrival,
    /// Per-attempt timeout.
    pub timeout: TimeoutSpec,
    /// Retry policy (default: no retries).
    #[serde(default)]
    pub retry: RetrySpec,
    /// Circuit breaker, one per client (default: none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub breaker: Option<BreakerSpec>,
    /// Reject remote HLC timestamps further ahead than this (default: accept all).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hlc_max_offset: Option<Dur>,
    /// Persistent connections (default: none; every attempt stands alone and goes to a
    /// random server).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connection: Option<ConnectionSpec>,
}

/// Persistent client connections, and what a crash does to them.
///
/// Client `i` holds one connection to server `i mod servers`. A server crash resets
/// every connection to it (the host answers for the dead process), and each client
/// learns of it one link latency later. A disconnected client reconnects after each
/// backoff sleep, without limit; a connect is accepted by a running server and refused
/// by a crashed one, and one lost in the network gives up after `connect_timeout`.
/// While disconnected, attempts wait in the client's offline queue (as in a Redis
/// client's offline queue or gRPC's wait-for-ready) and their timeout starts only when
/// the reconnected client writes them; an attempt that finds the offline queue full
/// fails at once. This is how a reconnect storm happens: every client learns of the
/// crash at the same moment, so without jitter they all reconnect together, each
/// flushing its queue.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ConnectionSpec {
    /// Sleep between reconnect tries (default: the retry backoff, `retry.backoff`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reconnect: Option<BackoffSpec>,
    /// How long a connect lost in the network is waited for.
    #[serde(default = "default_connect_timeout")]
    pub connect_timeout: Dur,
    /// Most attempts one client holds while disconnected (0: fail at once).
    #[serde(default = "default_offline_queue")]
    #[schemars(range(max = limits::MAX_OFFLINE_QUEUE))]
    pub offline_queue: u32,
}

fn default_connect_timeout() -> Dur {
    Dur::from_secs(1)
}
fn default_offline_queue() -> u32 {
    100
}

/// How a client issues logical requests.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Arrival {
    /// Open loop: Poisson arrivals at this rate per client, requests per second.
    PoissonPerS(f64),
    /// Closed loop: one request at a time, then think for a drawn time.
    ClosedLoop(ClosedLoop),
}

/// Closed-loop parameters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ClosedLoop {
    /// Think time between a request's end and the next request.
    pub think_time: Dist,
}

/// The per-attempt timeout: a fixed duration (`"500ms"`) or an adaptive one.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(
    untagged,
    expecting = "a duration such as \"500ms\", or {\"ewma\": {...}} or {\"rfc6298\": {...}}"
)]
pub enum TimeoutSpec {
    /// Fixed.
    Fixed(Dur),
    /// Adaptive.
    Adaptive(AdaptiveTimeoutSpec),
}

/// Adaptive timeout kinds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase", deny_unknown_fields)]
pub enum AdaptiveTimeoutSpec {
    /// mean + z * sd of observed round trips (EWMA, alpha 0.1 by default).
    Ewma(EwmaTimeoutSpec),
    /// RFC 6298 retransmission timeout.
    Rfc6298(Rfc6298Spec),
}

/// EWMA timeout settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EwmaTimeoutSpec {
    /// Target percentile: 90, 95 or 99 (z = 1.645, 1.96, 2.58).
    #[serde(default = "default_percentile")]
    pub percentile: f64,
    /// EWMA weight of a new sample.
    #[serde(default = "default_alpha")]
    pub alpha: f64,
    /// Timeout before any sample.
    pub initial: Dur,
    /// Lower bound.
    #[serde(default = "default_timeout_min")]
    pub min: Dur,
    /// Upper bound.
    #[serde(default = "default_timeout_max")]
    pub max: Dur,
}

fn default_percentile() -> f64 {
    99.0
}
fn default_alpha() -> f64 {
    0.1
}
fn default_timeout_min() -> Dur {
    Dur::from_millis(1)
}
fn default_timeout_max() -> Dur {
    Dur::from_secs(60)
}

/// RFC 6298 settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Rfc6298Spec {
    /// RTO before any sample (RFC: 1 s).
    #[serde(default = "default_rto_initial")]
    pub initial: Dur,
    /// Lower bound (RFC: 1 s).
    #[serde(default = "default_rto_initial")]
    pub min: Dur,
    /// Upper bound.
    #[serde(default = "default_timeout_max")]
    pub max: Dur,
    /// Clock granularity G.
    #[serde(default = "default_granularity")]
    pub granularity: Dur,
}

fn default_rto_initial() -> Dur {
    Dur::from_secs(1)
}
fn default_granularity() -> Dur {
    Dur::from_millis(1)
}

/// Retry policy.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RetrySpec {
    /// Total attempts per logical request, the first try included (1 = no retries).
    #[serde(default = "default_max_attempts")]
    #[schemars(range(min = 1, max = limits::MAX_ATTEMPTS))]
    pub max_attempts: u32,
    /// Sleep before each retry.
    #[serde(default)]
    pub backoff: BackoffSpec,
    /// Whether a timed-out attempt is retried.
    #[serde(default = "default_true")]
    pub retry_on_timeout: bool,
    /// Retry budget (default: unlimited).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub budget: Option<BudgetSpec>,
}

fn default_max_attempts() -> u32 {
    1
}
fn default_true() -> bool {
    true
}

impl Default for RetrySpec {
    fn default() -> Self {
        RetrySpec {
            max_attempts: default_max_attempts(),
            backoff: BackoffSpec::default(),
            retry_on_timeout: true,
            budget: None,
        }
    }
}

/// Backoff between attempts.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BackoffSpec {
    /// `exponential` (default) or `constant`.
    #[serde(default)]
    pub kind: BackoffKindSpec,
    /// First sleep (`base * 2^0`).
    #[serde(default = "default_backoff_base")]
    pub base: Dur,
    /// Largest sleep.
    #[serde(default = "default_backoff_cap")]
    pub cap: Dur,
    /// Jitter kind.
    #[serde(default)]
    pub jitter: JitterSpec,
}

fn default_backoff_base() -> Dur {
    Dur::from_millis(100)
}
fn default_backoff_cap() -> Dur {
    Dur::from_secs(10)
}

impl Default for BackoffSpec {
    fn default() -> Self {
        BackoffSpec {
            kind: BackoffKindSpec::Exponential,
            base: default_backoff_base(),
            cap: default_backoff_cap(),
            jitter: JitterSpec::Full,
        }
    }
}

/// Backoff growth.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum BackoffKindSpec {
    /// `min(cap, base * 2^attempt)`, then jitter.
    #[default]
    Exponential,
    /// Always `base`.
    Constant,
}

/// Jitter kinds (Brooker 2015).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum JitterSpec {
    /// Plain exponential.
    None,
    /// `uniform(0, t)`.
    #[default]
    Full,
    /// `t/2 + uniform(0, t/2)`.
    Equal,
    /// `min(cap, uniform(base, prev * 3))`.
    Decorrelated,
}

/// Retry budget kinds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum BudgetSpec {
    /// AWS SDK style token bucket.
    TokenBucket(TokenBucketSpec),
    /// Retries at most a fraction of requests over a window (tower's TpsBudget).
    Ratio(RatioSpec),
}

/// Token bucket settings (AWS SDK defaults).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenBucketSpec {
    /// Tokens when full.
    #[serde(default = "default_bucket_capacity")]
    pub capacity: u32,
    /// Tokens a retry after an error costs.
    #[serde(default = "default_retry_cost")]
    pub retry_cost: u32,
    /// Tokens a retry after a timeout costs.
    #[serde(default = "default_timeout_retry_cost")]
    pub timeout_retry_cost: u32,
    /// Tokens a first-try success returns.
    #[serde(default = "default_success_refund")]
    pub success_refund: u32,
}

fn default_bucket_capacity() -> u32 {
    500
}
fn default_retry_cost() -> u32 {
    5
}
fn default_timeout_retry_cost() -> u32 {
    10
}
fn default_success_refund() -> u32 {
    1
}

/// Ratio budget settings (tower defaults).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RatioSpec {
    /// How long a deposit counts.
    #[serde(default = "default_ratio_ttl")]
    pub ttl: Dur,
    /// Retries always allowed per second.
    #[serde(default = "default_min_per_s")]
    pub min_per_s: u32,
    /// Retries allowed as a fraction of requests.
    #[serde(default = "default_retry_ratio")]
    pub retry_ratio: f64,
}

fn default_ratio_ttl() -> Dur {
    Dur::from_secs(10)
}
fn default_min_per_s() -> u32 {
    10
}
fn default_retry_ratio() -> f64 {
    0.2
}

/// Circuit-breaker trip rules.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum BreakerMode {
    /// Trips after `failures` consecutive failures.
    Consecutive,
    /// Trips when the EWMA failure rate (weight `alpha`) reaches `threshold`.
    Ewma,
    /// Failure (or slow-call) rate over the last `window_calls` calls.
    CountWindow,
    /// Failure (or slow-call) rate over the last `window` of per-second buckets.
    TimeWindow,
}

/// Open -> half-open: on the next request, or at the deadline.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum HalfOpenSpec {
    /// On the next request after `open_for` (resilience4j's default).
    #[default]
    Lazy,
    /// At the deadline.
    Automatic,
}

/// Circuit breaker, one per client. Fields apply to the modes noted.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BreakerSpec {
    /// Trip rule.
    pub mode: BreakerMode,
    /// `consecutive`: failures in a row that trip it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failures: Option<u32>,
    /// `ewma`: weight of a new outcome.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alpha: Option<f64>,
    /// `ewma`, `count_window`, `time_window`: failure rate that trips it (>=).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threshold: Option<f64>,
    /// `count_window`: calls in the window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window_calls: Option<u32>,
    /// `time_window`: window length (whole seconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<Dur>,
    /// Window modes: calls needed before any decision.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_calls: Option<u32>,
    /// Window modes: a success slower than this counts as slow.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slow_call: Option<Dur>,
    /// Window modes: slow-call rate that trips it (>=).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slow_call_threshold: Option<f64>,
    /// Time spent open before probing.
    pub open_for: Dur,
    /// Probes admitted in half-open.
    #[serde(default = "default_half_open_probes")]
    pub half_open_probes: u32,
    /// Open -> half-open transition.
    #[serde(default)]
    pub half_open: HalfOpenSpec,
    /// Multiply the open duration on each consecutive trip (1 = fixed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub open_growth: Option<f64>,
    /// Largest open duration when growing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub open_max: Option<Dur>,
}

fn default_half_open_probes() -> u32 {
    2
}

/// The servers: `count` nodes named `server-0` .. `server-{count-1}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Servers {
    /// Number of servers; clients pick one uniformly at random per attempt.
    #[schemars(range(min = 1, max = limits::MAX_SERVERS))]
    pub count: u32,
    /// Requests served at once per server.
    #[schemars(range(min = 1, max = limits::MAX_WORKERS))]
    pub workers: u32,
    /// Time to serve one request.
    pub service_time: Dist,
    /// Requests waiting beyond the workers; a full queue rejects.
    #[schemars(range(max = limits::MAX_QUEUE_LIMIT))]
    pub queue_limit: u32,
    /// Load shedding: a request that waited longer than this is dropped with an error
    /// when a worker picks it up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shed_after: Option<Dur>,
}

/// A fault at a fixed time. Exactly one kind key (`crash`, `partition`, `omission`,
/// `timing`, `pause`, `clock`, `slowdown`) per entry.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(extend("oneOf" = [
    {"required": ["crash"]}, {"required": ["partition"]}, {"required": ["omission"]},
    {"required": ["timing"]}, {"required": ["pause"]}, {"required": ["clock"]},
    {"required": ["slowdown"]}
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
}

/// Partition forms.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(
    untagged,
    expecting = "groups such as [[\"client-*\"], [\"server-*\"]], or {\"from\": .., \"to\": ..} (one way), or {\"isolate\": ..}"
)]
pub enum Partition {
    /// Symmetric: nodes in different groups cannot talk; nodes in no group are unaffected.
    Groups(Vec<Vec<Selector>>),
    /// One way: messages from `from` to `to` are lost.
    OneWay(OneWay),
    /// The node can neither send nor receive.
    Isolate(Isolate),
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

/// A check evaluated after the run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Check {
    /// Overall availability >= this (0..1); also the SLO line of the plots.
    AvailabilityAtLeast(#[schemars(range(min = 0.0, max = 1.0))] f64),
    /// p99 latency of successes <= this.
    P99LatencyAtMost(Dur),
    /// p50 latency of successes <= this.
    P50LatencyAtMost(Dur),
    /// Attempts per offered request <= this.
    RetryAmplificationAtMost(f64),
    /// Overall availability <= this: for scenarios that must show a collapse.
    AvailabilityAtMost(#[schemars(range(min = 0.0, max = 1.0))] f64),
    /// Peak server arrivals per second <= this.
    PeakArrivalsPerSAtMost(f64),
}
