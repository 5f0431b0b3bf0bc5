//! Adaptive concurrency limits: how many requests a server (or a client toward one
//! server) lets in flight, adapted to what round trips and drops say about queueing.
//!
//! The three algorithms of Netflix concurrency-limits (`concurrency-limits-core`,
//! package `com.netflix.concurrency.limits.limit`), with the library's defaults read
//! from its source (REFERENCES.md, "Adaptive concurrency limits"):
//!
//! - [`Aimd`] (`AIMDLimit`): on a drop, or a round trip longer than `timeout` (5 s),
//!   `limit = floor(limit * backoff_ratio)` (0.9); otherwise, when at least half the
//!   limit is in flight (`2 * in_flight >= limit`), `limit + 1`. Clamped to
//!   `[min_limit, max_limit]` = [20, 200]; initial 20.
//! - [`Vegas`] (`VegasLimit`, after TCP Vegas): `queue = ceil(limit * (1 - rtt_noload /
//!   rtt))` against thresholds that grow with `log10(limit)`: alpha 3 log10, beta
//!   6 log10, threshold log10. Initial 20, max 1000, smoothing 1.0, a no-load RTT probe
//!   every `jitter * 30 * limit` samples.
//! - [`Gradient2`] (`Gradient2Limit`): `gradient = max(0.5, min(1, tolerance * long_rtt
//!   / short_rtt))`, `new = gradient * limit + queue_size`, smoothed 0.2, with
//!   `long_rtt` an exponential average over 600 samples. Initial 20, min 20, max 200,
//!   tolerance 1.5, queue size 4.
//!
//! All three share [`ConcurrencyLimit`]: [`limit`](ConcurrencyLimit::limit) says how
//! many requests may be in flight, [`on_sample`](ConcurrencyLimit::on_sample) feeds one
//! completed request in. Like the library's `Limit.onSample(startTime, rtt, inflight,
//! didDrop)`, a [`Sample`] carries the round trip, the requests in flight when it
//! started, and whether it was dropped (rejected, timed out, shed). [`Limiter`] holds
//! any of the three, built from a [`LimitConfig`].
//!
//! Choices where the library gives no answer, or one a model cannot take:
//! - A zero round trip is taken as 1 ns: a simulator can measure zero, and the library
//!   divides by it (Vegas throws, Gradient2 would compute NaN).
//! - Vegas' probe jitter comes from the caller's RNG instead of `ThreadLocalRandom`.
//! - The library only warns when the initial limit lies outside `[min, max]`; here the
//!   configuration is refused ([`LimitConfig::validate`]), and every limit is at most
//!   [`MAX_LIMIT`].
//!
//! Invariants (checked with `debug_assert!`, tested by proptest): the limit is finite
//! and lies in `[min_limit, max_limit]` (Vegas: `[1, max_limit]`) after any sample; a
//! drop never raises an AIMD or Vegas limit; the same samples (and RNG stream) give the
//! same limits. Gradient2 ignores `dropped`, as the library's `Gradient2Limit` does: it
//! reads only round trips (a timed-out request's round trip is its timeout).

mod aimd;
mod gradient2;
mod vegas;

pub use aimd::{Aimd, AimdConfig};
pub use gradient2::{ExpAvg, Gradient2, Gradient2Config};
pub use vegas::{Vegas, VegasConfig, VegasStep, VegasThreshold};

use core::time::Duration;

use rand::Rng;
use serde::{Deserialize, Serialize};

/// The largest limit accepted in a configuration, to refuse absurd scenarios before a
/// run (a million requests in flight is beyond any server the simulator models).
pub const MAX_LIMIT: u32 = 1_000_000;

/// One completed request, as the limit sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sample {
    /// When the request started, since the caller's origin. None of the three
    /// algorithms reads it (nor does the library's); it is kept for windowed averaging.
    pub start: Duration,
    /// The request's round trip.
    pub rtt: Duration,
    /// Requests in flight when it started, itself included.
    pub in_flight: u32,
    /// Whether it was dropped: rejected, shed or timed out.
    pub dropped: bool,
}

impl Sample {
    /// The round trip in nanoseconds, at least 1 (see the module docs).
    pub fn rtt_ns(&self) -> u64 {
        u64::try_from(self.rtt.as_nanos())
            .unwrap_or(u64::MAX)
            .max(1)
    }
}

/// A concurrency limit fed by samples.
pub trait ConcurrencyLimit {
    /// Requests that may be in flight now.
    fn limit(&self) -> u32;
    /// Feeds one completed request in. `rng` is drawn from only by [`Vegas`] (its probe
    /// jitter).
    fn on_sample<R: Rng + ?Sized>(&mut self, sample: &Sample, rng: &mut R);
}

/// Which algorithm a limit uses, as configuration.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LimitConfig {
    /// Netflix `AIMDLimit`.
    Aimd(AimdConfig),
    /// Netflix `VegasLimit`.
    Vegas(VegasConfig),
    /// Netflix `Gradient2Limit`.
    Gradient2(Gradient2Config),
}

impl LimitConfig {
    /// Checks the configuration, so a scenario can be rejected before a run.
    pub fn validate(&self) -> Result<(), String> {
        match self {
            Self::Aimd(c) => c.validate(),
            Self::Vegas(c) => c.validate(),
            Self::Gradient2(c) => c.validate(),
        }
    }
}

/// Any of the three limits.
#[derive(Clone, Debug, PartialEq)]
pub enum Limiter {
    /// Netflix `AIMDLimit`.
    Aimd(Aimd),
    /// Netflix `VegasLimit`.
    Vegas(Vegas),
    /// Netflix `Gradient2Limit`.
    Gradient2(Gradient2),
}

impl Limiter {
    /// A fresh limit at its initial value; `rng` draws Vegas' first probe jitter.
    pub fn new<R: Rng + ?Sized>(config: &LimitConfig, rng: &mut R) -> Self {
        match config {
            LimitConfig::Aimd(c) => Self::Aimd(Aimd::new(c)),
            LimitConfig::Vegas(c) => Self::Vegas(Vegas::new(c, rng)),
            LimitConfig::Gradient2(c) => Self::Gradient2(Gradient2::new(c)),
        }
    }
}

impl ConcurrencyLimit for Limiter {
    fn limit(&self) -> u32 {
        match self {
            Self::Aimd(l) => l.limit(),
            Self::Vegas(l) => l.limit(),
            Self::Gradient2(l) => l.limit(),
        }
    }

    fn on_sample<R: Rng + ?Sized>(&mut self, sample: &Sample, rng: &mut R) {
        match self {
            Self::Aimd(l) => l.on_sample(sample, rng),
            Self::Vegas(l) => l.on_sample(sample, rng),
            Self::Gradient2(l) => l.on_sample(sample, rng),
        }
    }
}

/// Java's `(int) x` for the non-negative, finite estimates the algorithms keep.
fn truncate(x: f64) -> u32 {
    debug_assert!(x.is_finite() && x >= 0.0, "estimate {x}");
    x as u32
}

/// Checks `min <= initial <= max <= MAX_LIMIT` and `min >= 1`.
fn validate_range(min_limit: u32, initial_limit: u32, max_limit: u32) -> Result<(), String> {
    if min_limit < 1 {
        return Err("min_limit must be at least 1".into());
    }
    if max_limit > MAX_LIMIT {
        return Err(format!(
            "max_limit must be at most {MAX_LIMIT}, got {max_limit}"
        ));
    }
    if !(min_limit <= initial_limit && initial_limit <= max_limit) {
        return Err(format!(
            "need min_limit <= initial_limit <= max_limit, got {min_limit}, {initial_limit}, {max_limit}"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    /// A sample at `rtt_ms` with `in_flight` requests, not dropped.
    pub(super) fn ok(rtt_ms: u64, in_flight: u32) -> Sample {
        Sample {
            start: Duration::ZERO,
            rtt: Duration::from_millis(rtt_ms),
            in_flight,
            dropped: false,
        }
    }

    /// A dropped sample.
    pub(super) fn drop_sample() -> Sample {
        Sample {
            dropped: true,
            ..ok(1, 1)
        }
    }

    /// The RNG the tests feed; only Vegas draws from it.
    pub(super) fn rng() -> ChaCha8Rng {
        ChaCha8Rng::seed_from_u64(1)
    }

    #[test]
    fn configs_validate() {
        for c in [
            LimitConfig::Aimd(Default::default()),
            LimitConfig::Vegas(Default::default()),
            LimitConfig::Gradient2(Default::default()),
        ] {
            assert!(c.validate().is_ok(), "{c:?}");
        }
        assert!(validate_range(0, 1, 1).is_err());
        assert!(validate_range(5, 4, 10).is_err());
        assert!(validate_range(5, 11, 10).is_err());
        assert!(validate_range(1, 1, MAX_LIMIT + 1).is_err());
        assert!(validate_range(1, MAX_LIMIT, MAX_LIMIT).is_ok());
    }

    #[test]
    fn zero_rtt_is_one_nanosecond() {
        let s = Sample {
            rtt: Duration::ZERO,
            ..ok(1, 1)
        };
        assert_eq!(s.rtt_ns(), 1);
        // And no algorithm is driven to NaN or out of range by it.
        let mut r = rng();
        for config in [
            LimitConfig::Aimd(Default::default()),
            LimitConfig::Vegas(Default::default()),
            LimitConfig::Gradient2(Default::default()),
        ] {
            let mut l = Limiter::new(&config, &mut r);
            for _ in 0..100 {
                l.on_sample(&s, &mut r);
                l.on_sample(&ok(10, 1000), &mut r);
            }
            assert!(l.limit() >= 1, "{config:?}");
        }
    }

    /// A random configuration of any of the three, valid by construction.
    fn config_strategy() -> impl Strategy<Value = LimitConfig> {
        let range = (1u32..50, 0u32..100, 0u32..300)
            .prop_map(|(min, up, more)| (min, min + up, min + up + more));
        prop_oneof![
            (range.clone(), 0.5f64..0.99, 1u64..10_000).prop_map(|((min, init, max), ratio, t)| {
                LimitConfig::Aimd(AimdConfig {
                    min_limit: min,
                    initial_limit: init,
                    max_limit: max,
                    backoff_ratio: ratio,
                    timeout: Duration::from_millis(t),
                })
            }),
            (range.clone(), 0.01f64..=1.0, 1u32..50).prop_map(|((_, init, max), s, p)| {
                LimitConfig::Vegas(VegasConfig {
                    initial_limit: init,
                    max_limit: max,
                    smoothing: s,
                    probe_multiplier: p,
                    ..Default::default()
                })
            }),
            (range, 0.01f64..=1.0, 1.0f64..3.0, 0u32..20, 1u32..1000).prop_map(
                |((min, init, max), s, tol, q, w)| {
                    LimitConfig::Gradient2(Gradient2Config {
                        min_limit: min,
                        initial_limit: init,
                        max_limit: max,
                        smoothing: s,
                        rtt_tolerance: tol,
                        queue_size: q,
                        long_window: w,
                    })
                }
            ),
        ]
    }

    fn bounds(config: &LimitConfig) -> (u32, u32) {
        match config {
            LimitConfig::Aimd(c) => (c.min_limit, c.max_limit),
            LimitConfig::Vegas(c) => (1, c.max_limit),
            LimitConfig::Gradient2(c) => (c.min_limit, c.max_limit),
        }
    }

    fn random_sample(rng: &mut ChaCha8Rng, now: &mut Duration) -> Sample {
        *now += Duration::from_micros(rng.gen_range(0..10_000));
        // Round trips over six orders of magnitude, zero included.
        let rtt_ns = match rng.gen_range(0..4) {
            0 => 0,
            1 => rng.gen_range(1..1_000_000),
            2 => rng.gen_range(1_000_000..100_000_000),
            _ => rng.gen_range(100_000_000..10_000_000_000),
        };
        Sample {
            start: *now,
            rtt: Duration::from_nanos(rtt_ns),
            in_flight: rng.gen_range(0..500),
            dropped: rng.gen_bool(0.1),
        }
    }

    proptest! {
        #[test]
        fn limit_stays_within_bounds(config in config_strategy(), seed: u64) {
            prop_assert!(config.validate().is_ok());
            let (min, max) = bounds(&config);
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            let mut l = Limiter::new(&config, &mut rng);
            let mut now = Duration::ZERO;
            for _ in 0..500 {
                let s = random_sample(&mut rng, &mut now);
                let before = l.limit();
                l.on_sample(&s, &mut rng);
                let after = l.limit();
                prop_assert!((min..=max).contains(&after), "{} not in [{}, {}]", after, min, max);
                // A drop never raises AIMD or Vegas (Gradient2 ignores drops).
                if s.dropped && !matches!(config, LimitConfig::Gradient2(_)) {
                    prop_assert!(after <= before, "drop raised {} to {}", before, after);
                }
            }
        }

        #[test]
        fn same_samples_give_same_limits(config in config_strategy(), seed: u64) {
            let run = || {
                let mut rng = ChaCha8Rng::seed_from_u64(seed);
                let mut l = Limiter::new(&config, &mut rng);
                let mut now = Duration::ZERO;
                (0..300)
                    .map(|_| {
                        let s = random_sample(&mut rng, &mut now);
                        l.on_sample(&s, &mut rng);
                        l.limit()
                    })
                    .collect::<Vec<_>>()
            };
            prop_assert_eq!(run(), run());
        }
    }
}
