//! From the rpc part of a scenario to the workload's configuration: the models' own
//! config types, with durations in nanoseconds where the hot path needs them.

use std::sync::Arc;
use std::time::Duration;

use faultline_models::backoff::{BackoffKind, BackoffPolicy, Jitter};
use faultline_models::breaker::{BreakerConfig, HalfOpenTransition, OpenGrowth, TripRule};
use faultline_models::budget::{RatioBudgetConfig, RetryBudgetConfig, TokenBucketConfig};
use faultline_models::timeout::TimeoutPolicy;
use faultline_reports::record::Expectation;
use rand::Rng;
use rand_distr::{Distribution, Exp1};

use super::spec::{
    AdaptiveTimeoutSpec, Arrival, BackoffKindSpec, BackoffSpec, BreakerMode, BreakerSpec,
    BudgetSpec, HalfOpenSpec, JitterSpec, LimitAlgorithm, LimitSpec, RpcSpec, TimeoutSpec,
};
use faultline_models::limit::{AimdConfig, Gradient2Config, LimitConfig, VegasConfig};
use super::load::LoadProfile;
use crate::engine::driver::MAX_PENDING_EVENTS;
use crate::engine::queue::Nanos;
use crate::format::dist::round_to_u64;
use crate::format::issue::{issue, Issue};
use crate::format::Sampler;

/// Name prefix of the client nodes.
pub const CLIENT_PREFIX: &str = "client-";
/// Name prefix of the server nodes.
pub const SERVER_PREFIX: &str = "server-";

/// How clients issue requests.
#[derive(Clone, Debug)]
pub enum ArrivalMode {
    /// Open loop: the whole population's arrivals, exponential gaps with this mean.
    /// `n` independent Poisson processes of rate `r` are one of rate `n r` whose arrivals
    /// belong to a uniformly random client (superposition), so the engine keeps one
    /// pending arrival for all clients.
    Poisson {
        /// Mean gap between two arrivals of the whole population, ns.
        population_gap_ns: f64,
    },
    /// Closed loop: think, then issue the next request when the previous one ends.
    Closed {
        /// Think time.
        think: Sampler,
    },
}

impl ArrivalMode {
    /// Whether arrivals ignore completions.
    #[inline]
    pub fn is_open_loop(&self) -> bool {
        matches!(self, ArrivalMode::Poisson { .. })
    }

    /// The gap before the next request: of the population (open loop) or of one
    /// client after its request ended (closed loop).
    #[inline]
    pub fn next_gap_ns(&self, rng: &mut impl Rng) -> Nanos {
        match self {
            ArrivalMode::Poisson { population_gap_ns } => {
                let unit: f64 = Exp1.sample(rng);
                round_to_u64(unit * population_gap_ns)
            }
            ArrivalMode::Closed { think } => think.sample_ns(rng),
        }
    }
}

/// Everything the rpc workload needs, resolved.
#[derive(Clone, Debug)]
pub struct RpcConfig {
    /// Logical clients.
    pub clients: u32,
    /// Servers.
    pub servers: u32,
    /// Arrivals.
    pub arrival: ArrivalMode,
    /// Load over time (open loop only; `None`: constant). Open-loop gaps are then drawn
    /// at the profile's peak and thinned, see [`super::load`].
    pub load: Option<LoadProfile>,
    /// Timeout policy.
    pub timeout: TimeoutPolicy,
    /// The timeout when fixed, ns.
    pub fixed_timeout_ns: Nanos,
    /// Backoff and attempt limit.
    pub backoff: BackoffPolicy,
    /// Whether timeouts are retried.
    pub retry_on_timeout: bool,
    /// Retry budget per client.
    pub budget: Option<RetryBudgetConfig>,
    /// Breaker per client (shared config).
    pub breaker: Option<Arc<BreakerConfig>>,
    /// Service time.
    pub service: Sampler,
    /// Workers per server.
    pub workers: u32,
    /// Queue limit per server.
    pub queue_limit: u32,
    /// Load shedding threshold, ns.
    pub shed_after_ns: Option<Nanos>,
    /// Each server's adaptive concurrency limit.
    pub limit: Option<LimitConfig>,
    /// The least wait before a retry after an overload answer, ns: the servers'
    /// `Retry-After` when clients honour it.
    pub retry_after_ns: Option<Nanos>,
    /// HLC max-offset guard.
    pub hlc_max_offset: Option<Duration>,
    /// Persistent connections, when the scenario asks for them.
    pub connection: Option<ConnectionConfig>,
    /// Most pending timers of a fixed timeout at once.
    pub max_pending_events: usize,
    /// The latency objective (`slo.latency`), ns: a success within it is good.
    pub slo_latency_ns: Option<Nanos>,
    /// What the record lists as expected of the run (`rpc.expectations`), worked out
    /// from the scenario's faults when it is resolved (see `expect`).
    pub expectations: Vec<Expectation>,
}

/// Persistent client connections (see [`super::spec::ConnectionSpec`]).
#[derive(Clone, Debug)]
pub struct ConnectionConfig {
    /// Sleeps between reconnect tries; unlimited tries.
    pub reconnect: BackoffPolicy,
    /// How long a lost connect is waited for, ns.
    pub connect_timeout_ns: Nanos,
    /// Most attempts a disconnected client holds.
    pub offline_queue: u32,
}

/// The backoff model a `backoff` object describes (also the bank channels').
pub(crate) fn backoff_policy(spec: &BackoffSpec, max_attempts: u32) -> BackoffPolicy {
    let jitter = match spec.jitter {
        JitterSpec::None => Jitter::None,
        JitterSpec::Full => Jitter::Full,
        JitterSpec::Equal => Jitter::Equal,
        JitterSpec::Decorrelated => Jitter::Decorrelated,
    };
    BackoffPolicy {
        kind: match spec.kind {
            BackoffKindSpec::Exponential => BackoffKind::Exponential(jitter),
            BackoffKindSpec::Constant => BackoffKind::Constant,
        },
        base: spec.base.0,
        cap: spec.cap.0,
        max_attempts,
    }
}

fn breaker_config(spec: &BreakerSpec) -> Result<BreakerConfig, Issue> {
    let path = "workload.clients.breaker";
    let need = |value: Option<f64>, field: &str| {
        value.ok_or_else(|| {
            issue(
                path,
                format!("\"{field}\" is required by mode {:?}", spec.mode),
            )
        })
    };
    let needed = |field: &str| {
        issue(
            path,
            format!("\"{field}\" is required by mode {:?}", spec.mode),
        )
    };
    let trip = match spec.mode {
        BreakerMode::Consecutive => TripRule::ConsecutiveFailures {
            threshold: spec.failures.ok_or_else(|| needed("failures"))?,
        },
        BreakerMode::Ewma => TripRule::Ewma {
            alpha: need(spec.alpha, "alpha")?,
            threshold: need(spec.threshold, "threshold")?,
        },
        BreakerMode::CountWindow => TripRule::CountWindow {
            size: spec.window_calls.ok_or_else(|| needed("window_calls"))?,
            min_calls: spec.min_calls.unwrap_or(1),
            failure_rate: need(spec.threshold, "threshold")?,
            slow_call_rate: spec.slow_call_threshold.unwrap_or(1.0),
        },
        BreakerMode::TimeWindow => TripRule::TimeWindow {
            window: spec.window.ok_or_else(|| needed("window"))?.0,
            min_calls: spec.min_calls.unwrap_or(1),
            failure_rate: need(spec.threshold, "threshold")?,
            slow_call_rate: spec.slow_call_threshold.unwrap_or(1.0),
        },
    };
    let config = BreakerConfig {
        trip,
        open_for: spec.open_for.0,
        half_open_probes: spec.half_open_probes,
        transition: match spec.half_open {
            HalfOpenSpec::Lazy => HalfOpenTransition::Lazy,
            HalfOpenSpec::Automatic => HalfOpenTransition::Automatic,
        },
        slow_call_duration: spec.slow_call.map(|slow| slow.0),
        open_growth: spec.open_growth.map(|multiplier| OpenGrowth {
            multiplier,
            max_open: spec.open_max.map_or(spec.open_for.0 * 16, |max| max.0),
        }),
    };
    config.validate().map_err(|err| issue(path, err))?;
    Ok(config)
}

/// A server's concurrency limit: the library's defaults, with what the scenario sets.
fn limit_config(spec: &LimitSpec) -> Result<LimitConfig, Issue> {
    const PATH: &str = "workload.servers.limit";
    let only = |field: &str, set: bool, algorithm: &str| {
        if set {
            Err(issue(
                format!("{PATH}.{field}"),
                format!("applies to {algorithm} only"),
            ))
        } else {
            Ok(())
        }
    };
    let config = match spec.algorithm {
        LimitAlgorithm::Aimd => {
            only("tolerance", spec.tolerance.is_some(), "gradient2")?;
            only("queue_size", spec.queue_size.is_some(), "gradient2")?;
            let defaults = AimdConfig::default();
            LimitConfig::Aimd(AimdConfig {
                initial_limit: spec.initial.unwrap_or(defaults.initial_limit),
                min_limit: spec.min.unwrap_or(defaults.min_limit),
                max_limit: spec.max.unwrap_or(defaults.max_limit),
                backoff_ratio: spec.backoff_ratio.unwrap_or(defaults.backoff_ratio),
                timeout: spec.timeout.map_or(defaults.timeout, |timeout| timeout.0),
            })
        }
        LimitAlgorithm::Vegas => {
            only("min", spec.min.is_some(), "aimd and gradient2")?;
            only("backoff_ratio", spec.backoff_ratio.is_some(), "aimd")?;
            only("timeout", spec.timeout.is_some(), "aimd")?;
            only("tolerance", spec.tolerance.is_some(), "gradient2")?;
            only("queue_size", spec.queue_size.is_some(), "gradient2")?;
            let defaults = VegasConfig::default();
            LimitConfig::Vegas(VegasConfig {
                initial_limit: spec.initial.unwrap_or(defaults.initial_limit),
                max_limit: spec.max.unwrap_or(defaults.max_limit),
                ..defaults
            })
        }
        LimitAlgorithm::Gradient2 => {
            only("backoff_ratio", spec.backoff_ratio.is_some(), "aimd")?;
            only("timeout", spec.timeout.is_some(), "aimd")?;
            let defaults = Gradient2Config::default();
            LimitConfig::Gradient2(Gradient2Config {
                initial_limit: spec.initial.unwrap_or(defaults.initial_limit),
                min_limit: spec.min.unwrap_or(defaults.min_limit),
                max_limit: spec.max.unwrap_or(defaults.max_limit),
                rtt_tolerance: spec.tolerance.unwrap_or(defaults.rtt_tolerance),
                queue_size: spec.queue_size.unwrap_or(defaults.queue_size),
                ..defaults
            })
        }
    };
    config.validate().map_err(|err| {
        // The library's names, as the scenario spells them.
        let err = err
            .replace("rtt_tolerance", "tolerance")
            .replace("initial_limit", "initial")
            .replace("min_limit", "min")
            .replace("max_limit", "max");
        issue(PATH, err)
    })?;
    Ok(config)
}

impl RpcConfig {
    /// Resolves the rpc part of a scenario (its rules already checked). Errors name the
    /// field.
    pub fn from_spec(spec: &RpcSpec, slo_latency_ns: Option<Nanos>) -> Result<Self, Issue> {
        let clients = &spec.clients;
        let servers = &spec.servers;
        let load = clients.load.as_ref().map(LoadProfile::from_spec);
        let arrival = match &clients.arrival {
            Arrival::PoissonPerS(rate) => ArrivalMode::Poisson {
                population_gap_ns: match &load {
                    None => 1e9 / rate / f64::from(clients.count),
                    Some(load) => 1e9 / (rate * load.peak()) / f64::from(clients.count),
                },
            },
            Arrival::ClosedLoop(closed) => ArrivalMode::Closed {
                think: closed.think_time.sampler(),
            },
        };
        let (timeout, fixed_timeout_ns) = match &clients.timeout {
            TimeoutSpec::Fixed(fixed) => (TimeoutPolicy::Fixed(fixed.0), fixed.as_nanos()),
            TimeoutSpec::Adaptive(AdaptiveTimeoutSpec::Ewma(ewma)) => {
                let z = match ewma.percentile {
                    p if (p - 99.0).abs() < 1e-9 => faultline_models::timeout::Z_99,
                    p if (p - 95.0).abs() < 1e-9 => faultline_models::timeout::Z_95,
                    p if (p - 90.0).abs() < 1e-9 => faultline_models::timeout::Z_90,
                    p => {
                        return Err(issue(
                            "workload.clients.timeout.ewma.percentile",
                            format!("{p} is not one of 90, 95, 99"),
                        ))
                    }
                };
                let policy = TimeoutPolicy::Ewma {
                    alpha: ewma.alpha,
                    z,
                    initial: ewma.initial.0,
                    min: ewma.min.0,
                    max: ewma.max.0,
                };
                (policy, 0)
            }
            TimeoutSpec::Adaptive(AdaptiveTimeoutSpec::Rfc6298(rfc)) => (
                TimeoutPolicy::Rfc6298 {
                    initial: rfc.initial.0,
                    min: rfc.min.0,
                    max: rfc.max.0,
                    granularity: rfc.granularity.0,
                },
                0,
            ),
        };
        timeout
            .validate()
            .map_err(|err| issue("workload.clients.timeout", err))?;
        let retry = &clients.retry;
        let backoff = backoff_policy(&retry.backoff, retry.max_attempts);
        backoff
            .validate()
            .map_err(|err| issue("workload.clients.retry", err))?;
        let budget = match &retry.budget {
            None => None,
            Some(BudgetSpec::TokenBucket(bucket)) => {
                Some(RetryBudgetConfig::TokenBucket(TokenBucketConfig {
                    capacity: bucket.capacity,
                    retry_cost: bucket.retry_cost,
                    timeout_retry_cost: bucket.timeout_retry_cost,
                    success_refund: bucket.success_refund,
                }))
            }
            Some(BudgetSpec::Ratio(ratio)) => Some(RetryBudgetConfig::Ratio(RatioBudgetConfig {
                ttl: ratio.ttl.0,
                min_per_s: ratio.min_per_s,
                retry_ratio: ratio.retry_ratio,
            })),
        };
        if let Some(budget) = &budget {
            budget
                .validate()
                .map_err(|err| issue("workload.clients.retry.budget", err))?;
        }
        let connection = match &clients.connection {
            None => None,
            Some(spec) => {
                // Reconnects never give up: a client without a connection has no
                // other way to reach its server.
                let reconnect =
                    backoff_policy(spec.reconnect.as_ref().unwrap_or(&retry.backoff), u32::MAX);
                reconnect
                    .validate()
                    .map_err(|err| issue("workload.clients.connection.reconnect", err))?;
                Some(ConnectionConfig {
                    reconnect,
                    connect_timeout_ns: spec.connect_timeout.as_nanos(),
                    offline_queue: spec.offline_queue,
                })
            }
        };
        let breaker = clients
            .breaker
            .as_ref()
            .map(breaker_config)
            .transpose()?
            .map(Arc::new);
        Ok(RpcConfig {
            clients: clients.count,
            servers: servers.count,
            arrival,
            load,
            timeout,
            fixed_timeout_ns,
            backoff,
            retry_on_timeout: retry.retry_on_timeout,
            budget,
            breaker,
            service: servers.service_time.sampler(),
            workers: servers.workers,
            queue_limit: servers.queue_limit,
            shed_after_ns: servers.shed_after.map(|shed| shed.as_nanos()),
            limit: servers.limit.as_ref().map(limit_config).transpose()?,
            retry_after_ns: servers
                .retry_after
                .filter(|_| retry.honor_retry_after)
                .map(|delay| delay.as_nanos()),
            hlc_max_offset: clients.hlc_max_offset.map(|max| max.0),
            connection,
            max_pending_events: MAX_PENDING_EVENTS,
            slo_latency_ns,
            expectations: Vec::new(),
        })
    }
}
