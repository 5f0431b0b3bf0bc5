//! Netflix concurrency-limits' `VegasLimit`, after TCP Vegas (Brakmo and Peterson,
//! "TCP Vegas: End to End Congestion Avoidance on a Global Internet", 1995).
//!
//! The queue a limit causes is estimated from how far the round trip exceeds the
//! no-load round trip (the least seen since the last probe): `queue = ceil(limit * (1 -
//! rtt_noload / rtt))`. On a sample that is not a new minimum nor a probe:
//!
//! 1. a drop: `limit - log10(limit)`;
//! 2. fewer than half the limit in flight: no change (the library's guard against
//!    drifting up while the limit is not the constraint);
//! 3. `queue <= threshold` (`log10 limit`): `limit + beta` (no queueing: grow fast);
//! 4. `queue < alpha` (`3 log10 limit`): `limit + log10(limit)`;
//! 5. `queue > beta` (`6 log10 limit`): `limit - log10(limit)`;
//! 6. otherwise no change.
//!
//! The result is clamped to `[1, max_limit]` and smoothed: `limit = (1 - smoothing)
//! limit + smoothing new`. `log10` is the library's `Log10RootIntFunction`: `max(1,
//! floor(log10 n))` of the integer part of the limit. Every `jitter * probe_multiplier *
//! limit` samples (jitter uniform in [0.5, 1), redrawn at each probe) the sample's round
//! trip becomes the new no-load round trip, so that a lasting rise of the base latency
//! is eventually accepted.

use rand::Rng;
use serde::{Deserialize, Serialize};

use super::{truncate, validate_range, ConcurrencyLimit, Sample};

/// An alpha or beta threshold as a function of the integer limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VegasThreshold {
    /// `k * log10(limit)`, the library's default shape (alpha 3, beta 6).
    Log10Times(u32),
    /// A constant, as the library's `alpha(int)` / `beta(int)` builders set.
    Fixed(u32),
}

impl VegasThreshold {
    /// The threshold at this integer limit.
    pub fn at(self, limit: u32) -> u32 {
        match self {
            Self::Log10Times(k) => k.saturating_mul(log10_root(limit)),
            Self::Fixed(n) => n,
        }
    }
}

/// The library's `Log10RootIntFunction`: `max(1, floor(log10 n))`, exact on integers.
pub(super) fn log10_root(n: u32) -> u32 {
    n.max(1).ilog10().max(1)
}

/// `VegasLimit.Builder`'s parameters (the function-valued ones reduced to the shapes
/// the library ships).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VegasConfig {
    /// The limit before any sample. Netflix: 20.
    pub initial_limit: u32,
    /// The limit never rises above this (`maxConcurrency`). Netflix: 1000.
    pub max_limit: u32,
    /// Weight of the new limit, in (0, 1]. Netflix: 1.0 (no smoothing).
    pub smoothing: f64,
    /// Probe the no-load round trip every `jitter * this * limit` samples. Netflix: 30.
    pub probe_multiplier: u32,
    /// Grow while the queue is below this. Netflix: 3 log10(limit).
    pub alpha: VegasThreshold,
    /// Shrink while the queue is above this. Netflix: 6 log10(limit).
    pub beta: VegasThreshold,
}

impl Default for VegasConfig {
    /// The library's defaults.
    fn default() -> Self {
        Self {
            initial_limit: 20,
            max_limit: 1000,
            smoothing: 1.0,
            probe_multiplier: 30,
            alpha: VegasThreshold::Log10Times(3),
            beta: VegasThreshold::Log10Times(6),
        }
    }
}

impl VegasConfig {
    /// Checks the configuration, so a scenario can be rejected before a run.
    pub fn validate(&self) -> Result<(), String> {
        validate_range(1, self.initial_limit, self.max_limit)?;
        if !(self.smoothing > 0.0 && self.smoothing <= 1.0) {
            return Err(format!(
                "smoothing must be above 0 and at most 1, got {}",
                self.smoothing
            ));
        }
        if self.probe_multiplier == 0 {
            return Err("probe_multiplier must be at least 1".into());
        }
        Ok(())
    }
}

/// What the last sample did, for tests and traces.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VegasStep {
    /// No sample yet.
    None,
    /// The sample's round trip became the no-load round trip by probing.
    Probe,
    /// The sample was a new least round trip.
    NewMinimum,
    /// The limit was recomputed from the estimated queue.
    Update,
}

/// A Vegas limit.
#[derive(Clone, Debug, PartialEq)]
pub struct Vegas {
    config: VegasConfig,
    estimated_limit: f64,
    /// 0 until the first sample.
    rtt_noload_ns: u64,
    probe_count: u64,
    probe_jitter: f64,
    last_step: VegasStep,
}

impl Vegas {
    /// A limit at `initial_limit`; `rng` draws the first probe jitter.
    pub fn new<R: Rng + ?Sized>(config: &VegasConfig, rng: &mut R) -> Self {
        debug_assert!(config.validate().is_ok(), "invalid Vegas: {config:?}");
        Self {
            estimated_limit: f64::from(config.initial_limit),
            config: config.clone(),
            rtt_noload_ns: 0,
            probe_count: 0,
            probe_jitter: rng.gen_range(0.5..1.0),
            last_step: VegasStep::None,
        }
    }

    /// The configuration this limit was built from.
    pub fn config(&self) -> &VegasConfig {
        &self.config
    }

    /// The estimate the integer limit is the floor of.
    pub fn estimated_limit(&self) -> f64 {
        self.estimated_limit
    }

    /// The no-load round trip in nanoseconds; 0 before any sample.
    pub fn rtt_noload_ns(&self) -> u64 {
        self.rtt_noload_ns
    }

    /// What the last sample did.
    pub fn last_step(&self) -> VegasStep {
        self.last_step
    }

    /// `ceil(limit * (1 - rtt_noload / rtt))`, the library's queue estimate.
    pub fn queue_size(&self, rtt_ns: u64) -> i64 {
        let ratio = self.rtt_noload_ns as f64 / rtt_ns as f64;
        (self.estimated_limit * (1.0 - ratio)).ceil() as i64
    }

    fn update(&mut self, rtt_ns: u64, in_flight: u32, dropped: bool) {
        let c = &self.config;
        let limit = self.estimated_limit;
        let queue = self.queue_size(rtt_ns);
        let int_limit = truncate(limit);
        let log10 = f64::from(log10_root(int_limit));
        let new_limit = if dropped {
            limit - log10
        } else if f64::from(in_flight) * 2.0 < limit {
            return;
        } else {
            let alpha = i64::from(c.alpha.at(int_limit));
            let beta = c.beta.at(int_limit);
            let threshold = i64::from(log10_root(int_limit));
            if queue <= threshold {
                limit + f64::from(beta)
            } else if queue < alpha {
                limit + log10
            } else if queue > i64::from(beta) {
                limit - log10
            } else {
                return;
            }
        };
        let new_limit = new_limit.clamp(1.0, f64::from(c.max_limit));
        let smoothed = (1.0 - c.smoothing) * limit + c.smoothing * new_limit;
        // Smoothing mixes two values in [1, max]; rounding cannot leave it.
        self.estimated_limit = smoothed.clamp(1.0, f64::from(c.max_limit));
    }
}

impl ConcurrencyLimit for Vegas {
    fn limit(&self) -> u32 {
        truncate(self.estimated_limit)
    }

    fn on_sample<R: Rng + ?Sized>(&mut self, sample: &Sample, rng: &mut R) {
        let rtt_ns = sample.rtt_ns();
        let before = self.estimated_limit;
        self.probe_count += 1;
        let probe_due =
            self.probe_jitter * f64::from(self.config.probe_multiplier) * self.estimated_limit
                <= self.probe_count as f64;
        if probe_due {
            self.probe_jitter = rng.gen_range(0.5..1.0);
            self.probe_count = 0;
            self.rtt_noload_ns = rtt_ns;
            self.last_step = VegasStep::Probe;
        } else if self.rtt_noload_ns == 0 || rtt_ns < self.rtt_noload_ns {
            self.rtt_noload_ns = rtt_ns;
            self.last_step = VegasStep::NewMinimum;
        } else {
            self.update(rtt_ns, sample.in_flight, sample.dropped);
            self.last_step = VegasStep::Update;
        }
        let l = self.estimated_limit;
        debug_assert!(
            l.is_finite() && (1.0..=f64::from(self.config.max_limit)).contains(&l),
            "limit {l}"
        );
        debug_assert!(
            !sample.dropped || l <= before,
            "a drop raised {before} to {l}"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{ok, rng};
    use super::*;
    use proptest::prelude::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    /// The library's `VegasLimitTest.create()`: alpha 3, beta 6 fixed, no smoothing,
    /// initial 10, max 20.
    fn create() -> Vegas {
        Vegas::new(
            &VegasConfig {
                alpha: VegasThreshold::Fixed(3),
                beta: VegasThreshold::Fixed(6),
                smoothing: 1.0,
                initial_limit: 10,
                max_limit: 20,
                ..Default::default()
            },
            &mut rng(),
        )
    }

    #[test]
    fn alpha_beta_threshold_as_functions_of_the_limit() {
        let c = VegasConfig::default();
        // (limit, threshold = log10, alpha = 3 log10, beta = 6 log10)
        for (limit, threshold, alpha, beta) in [
            (1, 1, 3, 6),
            (9, 1, 3, 6),
            (10, 1, 3, 6),
            (99, 1, 3, 6),
            (100, 2, 6, 12),
            (999, 2, 6, 12),
            (1000, 3, 9, 18),
            (10_000, 4, 12, 24),
        ] {
            assert_eq!(log10_root(limit), threshold, "{limit}");
            assert_eq!(c.alpha.at(limit), alpha, "{limit}");
            assert_eq!(c.beta.at(limit), beta, "{limit}");
        }
        assert_eq!(log10_root(0), 1);
    }

    // The library's VegasLimitTest, case by case.
    #[test]
    fn library_increase_limit() {
        let mut l = create();
        l.on_sample(&ok(10, 10), &mut rng());
        assert_eq!((l.limit(), l.last_step()), (10, VegasStep::NewMinimum));
        // queue = ceil(10 * (1 - 10/10)) = 0 <= threshold 1: 10 + beta 6.
        l.on_sample(&ok(10, 11), &mut rng());
        assert_eq!(l.limit(), 16);
    }

    #[test]
    fn library_decrease_limit() {
        let mut l = create();
        l.on_sample(&ok(10, 10), &mut rng());
        // queue = ceil(10 * (1 - 10/50)) = 8 > beta 6: 10 - log10(10).
        assert_eq!(l.queue_size(50_000_000), 8);
        l.on_sample(&ok(50, 11), &mut rng());
        assert_eq!(l.limit(), 9);
    }

    #[test]
    fn library_no_change_within_thresholds() {
        let mut l = create();
        l.on_sample(&ok(10, 10), &mut rng());
        // queue = ceil(10 * (1 - 10/14)) = ceil(2.86) = 3: not < alpha 3, not > beta 6.
        assert_eq!(l.queue_size(14_000_000), 3);
        l.on_sample(&ok(14, 14), &mut rng());
        assert_eq!((l.limit(), l.last_step()), (10, VegasStep::Update));
    }

    #[test]
    fn library_large_limit_increase() {
        let mut l = Vegas::new(
            &VegasConfig {
                initial_limit: 10_000,
                max_limit: 20_000,
                ..Default::default()
            },
            &mut rng(),
        );
        l.on_sample(&ok(10_000, 5000), &mut rng());
        assert_eq!(l.limit(), 10_000);
        // No queue: + beta = 6 log10(10000) = 24.
        l.on_sample(&ok(10_000, 6000), &mut rng());
        assert_eq!(l.limit(), 10_024);
    }

    #[test]
    fn grow_and_shrink_decisions_with_default_thresholds() {
        // At limit 100: threshold 2, alpha 6, beta 12; rtt_noload 10 ms.
        let at = |rtt_us: u64, in_flight: u32| {
            let mut l = Vegas::new(
                &VegasConfig {
                    initial_limit: 100,
                    ..Default::default()
                },
                &mut rng(),
            );
            l.on_sample(&ok(10, 100), &mut rng());
            let queue = l.queue_size(rtt_us * 1000);
            let mut s = ok(0, in_flight);
            s.rtt = core::time::Duration::from_micros(rtt_us);
            l.on_sample(&s, &mut rng());
            (queue, l.limit())
        };
        // No queue, or ceil(100 * (1 - 10/10.2)) = ceil(1.96) = 2 <= threshold 2:
        // + beta 12.
        assert_eq!(at(10_000, 100), (0, 112));
        assert_eq!(at(10_200, 100), (2, 112));
        // ceil(100 * (1 - 10/10.5)) = ceil(4.76) = 5 < alpha 6: + log10 = 2.
        assert_eq!(at(10_500, 100), (5, 102));
        // ceil(9.09) = 10 and ceil(11.5) = 12: between alpha and beta, no change.
        assert_eq!(at(11_000, 100), (10, 100));
        assert_eq!(at(11_300, 100), (12, 100));
        // ceil(100 * (1 - 10/12)) = ceil(16.7) = 17 > beta 12: - log10 = 2.
        assert_eq!(at(12_000, 100), (17, 98));
        // Under half the limit in flight: no change, whatever the queue.
        assert_eq!(at(12_000, 49).1, 100);
        assert_eq!(at(10_000, 49).1, 100);
        assert_eq!(at(12_000, 50).1, 98);
    }

    #[test]
    fn drop_decreases_and_smoothing_mixes() {
        let mut l = Vegas::new(
            &VegasConfig {
                initial_limit: 100,
                max_limit: 200,
                smoothing: 0.5,
                ..Default::default()
            },
            &mut rng(),
        );
        l.on_sample(&ok(10, 100), &mut rng());
        // queue = ceil(100 * 0.5) = 50 > beta 12: new = 100 - 2 = 98; 0.5 * 100 + 0.5 * 98.
        l.on_sample(&ok(20, 100), &mut rng());
        assert_eq!(l.estimated_limit(), 99.0);
        // A drop: new = 99 - 1 (log10 of 99 is 1); 0.5 * 99 + 0.5 * 98 = 98.5.
        let mut s = ok(10, 1);
        s.dropped = true;
        l.on_sample(&s, &mut rng());
        assert_eq!(l.estimated_limit(), 98.5);
        assert_eq!(l.limit(), 98);
    }

    #[test]
    fn probes_reset_rtt_noload() {
        let mut l = Vegas::new(&VegasConfig::default(), &mut rng());
        l.on_sample(&ok(10, 1), &mut rng());
        assert_eq!(l.rtt_noload_ns(), 10_000_000);
        // Under half the limit in flight the limit holds at 20, so a probe comes within
        // jitter * 30 * 20 <= 600 samples, and not before 300.
        let mut n = 1;
        while l.last_step() != VegasStep::Probe {
            l.on_sample(&ok(50, 1), &mut rng());
            n += 1;
            assert!(n <= 600, "no probe after {n} samples");
        }
        assert!(n >= 300, "probe after {n} samples");
        assert_eq!(l.rtt_noload_ns(), 50_000_000);
        assert_eq!(l.limit(), 20);
    }

    proptest! {
        /// With every round trip at least twice the no-load one, Vegas does not grow
        /// from 5 or more until a probe resets the no-load round trip: `queue >=
        /// ceil(limit / 2)`, which is at least alpha and above the threshold there.
        /// (Below 5 it grows toward the alpha..beta queue it aims to keep.)
        #[test]
        fn no_growth_while_rtt_far_above_noload(
            seed: u64,
            initial_limit in 5u32..1000,
            smoothing in 0.01f64..=1.0,
            base_ms in 1u64..100,
        ) {
            let config = VegasConfig { initial_limit, smoothing, ..Default::default() };
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            let mut l = Vegas::new(&config, &mut rng);
            l.on_sample(&ok(base_ms, 1), &mut rng);
            for _ in 0..2000 {
                let before = l.limit();
                let rtt_ns = base_ms * 1_000_000 * 2 + rng.gen_range(0..base_ms * 20_000_000);
                let s = super::Sample {
                    rtt: core::time::Duration::from_nanos(rtt_ns),
                    in_flight: rng.gen_range(0..2 * before),
                    dropped: rng.gen_bool(0.05),
                    ..ok(0, 0)
                };
                l.on_sample(&s, &mut rng);
                if l.last_step() == VegasStep::Probe {
                    break;
                }
                prop_assert!(before < 5 || l.limit() <= before, "grew from {} to {}", before, l.limit());
                prop_assert!(l.limit() >= 1);
            }
        }
    }
}
