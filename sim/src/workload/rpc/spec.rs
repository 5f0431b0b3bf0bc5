//! The rpc workload's part of a scenario file: `workload.clients` and
//! `workload.servers` (after `"kind": "rpc"`). The serde types are the source of truth
//! for the format; every struct denies unknown keys.

use schemars::JsonSchema;
use serde::{de, Deserialize, Deserializer, Serialize};
use serde_json::Value;

use crate::format::{strict, Dist, Dur};
use crate::workload::NumberLimit;

/// Most logical clients in one scenario.
pub const MAX_CLIENTS: u32 = 1_000_000;
/// Most servers in one scenario.
pub const MAX_SERVERS: u32 = 10_000;
/// Most workers per server.
pub const MAX_WORKERS: u32 = 10_000;
/// Longest queue per server.
pub const MAX_QUEUE_LIMIT: u32 = 1_000_000;
/// Most attempts per logical request.
pub const MAX_ATTEMPTS: u32 = 100;
/// Most attempts one client holds while disconnected.
pub const MAX_OFFLINE_QUEUE: u32 = 100_000;
/// Most bytes the breakers' windows take together (one window per client: `window_calls`
/// of a `count_window` breaker at two bits each, or `window` seconds of a `time_window`
/// breaker at 12 bytes each).
pub const MAX_BREAKER_WINDOW_BYTES: u64 = 1 << 30;

/// The whole-number fields with limits.
pub const NUMBER_LIMITS: &[NumberLimit] = &[
    NumberLimit {
        path: "workload.clients.count",
        min: 1,
        max: MAX_CLIENTS,
        what: "clients",
    },
    NumberLimit {
        path: "workload.servers.count",
        min: 1,
        max: MAX_SERVERS,
        what: "servers",
    },
    NumberLimit {
        path: "workload.servers.workers",
        min: 1,
        max: MAX_WORKERS,
        what: "workers per server",
    },
    NumberLimit {
        path: "workload.servers.queue_limit",
        min: 0,
        max: MAX_QUEUE_LIMIT,
        what: "queued requests per server",
    },
    NumberLimit {
        path: "workload.clients.retry.max_attempts",
        min: 1,
        max: MAX_ATTEMPTS,
        what: "attempts",
    },
];

/// Request/response clients against a pool of servers: `count` logical clients
/// (`client-0` ..) with timeouts, retries, backoff, budgets, breakers and optional
/// persistent connections, and `count` servers (`server-0` ..) with workers and bounded
/// queues.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RpcSpec {
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
    #[schemars(range(min = 1, max = MAX_CLIENTS))]
    pub count: u32,
    /// How each client issues requests.
    pub arrival: Arrival,
    /// Load over time: the open-loop rate times a factor that changes during the run
    /// (default: constant).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub load: Option<LoadSpec>,
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
    #[schemars(range(max = MAX_OFFLINE_QUEUE))]
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

/// Load over time: a factor on the open-loop rate (`poisson_per_s`), 1 outside the
/// changes it describes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum LoadSpec {
    /// From `at` on, the rate times `factor`.
    Step(LoadStep),
    /// From `at` for `for`, the rate times `factor`; then back.
    Spike(LoadSpike),
    /// From `from` to `to` the factor grows (or falls) linearly from 1 to `factor`, and
    /// stays there.
    Ramp(LoadRamp),
    /// The factor `1 + amplitude * sin(2 pi t / period)`: a day of load in a period.
    Diurnal(LoadDiurnal),
    /// The factor of each point from its `at` to the next point's (1 before the first).
    Piecewise(Vec<LoadPoint>),
}

/// A step of the load.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LoadStep {
    /// When the load changes.
    pub at: Dur,
    /// The factor on the rate from then on.
    pub factor: f64,
}

/// A spike of the load.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LoadSpike {
    /// When the spike starts.
    pub at: Dur,
    /// How long it lasts.
    #[serde(rename = "for")]
    pub for_: Dur,
    /// The factor on the rate during the spike.
    pub factor: f64,
}

/// A ramp of the load.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LoadRamp {
    /// When the ramp starts (factor 1).
    pub from: Dur,
    /// When it reaches `factor`.
    pub to: Dur,
    /// The factor at `to` and after.
    pub factor: f64,
}

/// A diurnal cycle of the load.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LoadDiurnal {
    /// Length of one cycle.
    pub period: Dur,
    /// Swing around the rate, 0 .. 1 (0.5: from half the rate to one and a half).
    pub amplitude: f64,
}

/// One point of a piecewise load.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LoadPoint {
    /// When this factor starts.
    pub at: Dur,
    /// The factor on the rate until the next point.
    pub factor: f64,
}

/// Largest factor a load profile may put on the rate.
pub const MAX_LOAD_FACTOR: f64 = 1000.0;
/// Most points of a piecewise load.
pub const MAX_LOAD_POINTS: usize = 1000;

/// Closed-loop parameters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ClosedLoop {
    /// Think time between a request's end and the next request.
    pub think_time: Dist,
}

/// The per-attempt timeout: a fixed duration (`"500ms"`) or an adaptive one.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum TimeoutSpec {
    /// Fixed.
    Fixed(Dur),
    /// Adaptive.
    Adaptive(AdaptiveTimeoutSpec),
}

// Read by hand rather than by serde's `untagged`, which would buffer the object and
// report an error inside it at the object's end, without its path.
impl<'de> Deserialize<'de> for TimeoutSpec {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match Value::deserialize(deserializer)? {
            Value::String(text) => text
                .parse::<Dur>()
                .map(TimeoutSpec::Fixed)
                .map_err(de::Error::custom),
            object @ Value::Object(_) => strict::nested(object).map(TimeoutSpec::Adaptive),
            other => Err(de::Error::invalid_type(
                strict::unexpected(&other),
                &"a duration such as \"500ms\", or {\"ewma\": {...}} or {\"rfc6298\": {...}}",
            )),
        }
    }
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
    #[schemars(range(min = 1, max = MAX_ATTEMPTS))]
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
    /// Whether a retry after an overload answer waits at least its `Retry-After`
    /// (`servers.retry_after`); false: the backoff alone decides.
    #[serde(default = "default_true")]
    pub honor_retry_after: bool,
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
            honor_retry_after: true,
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
    #[schemars(range(min = 1, max = MAX_SERVERS))]
    pub count: u32,
    /// Requests served at once per server.
    #[schemars(range(min = 1, max = MAX_WORKERS))]
    pub workers: u32,
    /// Time to serve one request.
    pub service_time: Dist,
    /// Requests waiting beyond the workers; a full queue rejects.
    #[schemars(range(max = MAX_QUEUE_LIMIT))]
    pub queue_limit: u32,
    /// Load shedding: a request that waited longer than this is dropped with an error
    /// when a worker picks it up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shed_after: Option<Dur>,
    /// An adaptive concurrency limit per server (Netflix concurrency-limits): an attempt
    /// that arrives while the server holds `limit` attempts (serving and queued) is
    /// turned away at once with an overload answer. None: only the queue limits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<LimitSpec>,
    /// An overload answer (a full queue's rejection, a shed request) carries this delay
    /// as its `Retry-After` (HTTP 429/503, gRPC `RetryInfo`): clients that honour it wait
    /// at least this long before they retry. None: overload answers are plain errors.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<Dur>,
}

/// A server's adaptive concurrency limit: the algorithm, with the library's defaults
/// for every field left out (Netflix concurrency-limits: AIMD 20 / 20 / 200, ratio 0.9,
/// timeout 5 s; Vegas initial 20, max 1,000; Gradient2 20 / 20 / 200, tolerance 1.5,
/// queue size 4).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LimitSpec {
    /// `aimd`, `vegas` or `gradient2`.
    pub algorithm: LimitAlgorithm,
    /// The limit before any sample.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 1_000_000))]
    pub initial: Option<u32>,
    /// The least limit (AIMD and Gradient2; Vegas' is 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 1_000_000))]
    pub min: Option<u32>,
    /// The largest limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 1_000_000))]
    pub max: Option<u32>,
    /// AIMD: the factor applied on a drop, in [0.5, 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backoff_ratio: Option<f64>,
    /// AIMD: a request slower than this counts as a drop.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<Dur>,
    /// Gradient2: how much longer than the long-term round trip the short-term one may
    /// grow before the limit falls (at least 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tolerance: Option<f64>,
    /// Gradient2: the headroom added to the limit each sample.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue_size: Option<u32>,
}

/// The three algorithms of Netflix concurrency-limits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum LimitAlgorithm {
    /// Additive increase, multiplicative decrease on drops.
    Aimd,
    /// TCP Vegas: the queue estimated from the no-load round trip.
    Vegas,
    /// The gradient of the long-term over the short-term round trip.
    Gradient2,
}
