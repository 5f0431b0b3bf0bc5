//! Netflix concurrency-limits' `AIMDLimit`: additive increase, multiplicative decrease.

use core::time::Duration;

use rand::Rng;
use serde::{Deserialize, Serialize};

use super::{validate_range, ConcurrencyLimit, Sample};

/// `AIMDLimit.Builder`'s parameters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AimdConfig {
    /// The limit before any sample. Netflix: 20.
    pub initial_limit: u32,
    /// The limit never falls below this. Netflix: 20.
    pub min_limit: u32,
    /// The limit never rises above this. Netflix: 200.
    pub max_limit: u32,
    /// Factor applied on a drop, in [0.5, 1) (the library's own check). Netflix: 0.9.
    pub backoff_ratio: f64,
    /// A round trip longer than this counts as a drop. Netflix: 5 s.
    pub timeout: Duration,
}

impl Default for AimdConfig {
    /// The library's defaults: 20 / 20 / 200, ratio 0.9, timeout 5 s.
    fn default() -> Self {
        Self {
            initial_limit: 20,
            min_limit: 20,
            max_limit: 200,
            backoff_ratio: 0.9,
            timeout: Duration::from_secs(5),
        }
    }
}

impl AimdConfig {
    /// Checks the configuration, so a scenario can be rejected before a run.
    pub fn validate(&self) -> Result<(), String> {
        validate_range(self.min_limit, self.initial_limit, self.max_limit)?;
        if !(0.5..1.0).contains(&self.backoff_ratio) {
            return Err(format!(
                "backoff_ratio must be in [0.5, 1), got {}",
                self.backoff_ratio
            ));
        }
        if self.timeout.is_zero() {
            return Err("timeout must be above 0".into());
        }
        Ok(())
    }
}

/// An AIMD limit: 16 bytes of state beside its configuration.
#[derive(Clone, Debug, PartialEq)]
pub struct Aimd {
    config: AimdConfig,
    limit: u32,
}

impl Aimd {
    /// A limit at `initial_limit`.
    pub fn new(config: &AimdConfig) -> Self {
        debug_assert!(config.validate().is_ok(), "invalid AIMD: {config:?}");
        Self {
            limit: config.initial_limit,
            config: config.clone(),
        }
    }

    /// The configuration this limit was built from.
    pub fn config(&self) -> &AimdConfig {
        &self.config
    }
}

impl ConcurrencyLimit for Aimd {
    fn limit(&self) -> u32 {
        self.limit
    }

    fn on_sample<R: Rng + ?Sized>(&mut self, sample: &Sample, _rng: &mut R) {
        let c = &self.config;
        let next = if sample.dropped || sample.rtt > c.timeout {
            // `(int) (currentLimit * backoffRatio)`: truncation, in doubles as in Java.
            (f64::from(self.limit) * c.backoff_ratio) as u32
        } else if u64::from(sample.in_flight) * 2 >= u64::from(self.limit) {
            // Grow only when the limit is being used: at least half of it in flight.
            self.limit.saturating_add(1)
        } else {
            self.limit
        };
        let before = self.limit;
        self.limit = next.clamp(c.min_limit, c.max_limit);
        debug_assert!((c.min_limit..=c.max_limit).contains(&self.limit));
        debug_assert!(!sample.dropped || self.limit <= before.max(c.min_limit));
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{drop_sample, ok, rng};
    use super::*;

    fn aimd(initial_limit: u32, min_limit: u32, max_limit: u32) -> Aimd {
        Aimd::new(&AimdConfig {
            initial_limit,
            min_limit,
            max_limit,
            ..Default::default()
        })
    }

    // The library's AIMDLimitTest, case by case.
    #[test]
    fn library_increase_on_success() {
        let mut l = aimd(20, 20, 200);
        l.on_sample(&ok(1, 10), &mut rng());
        assert_eq!(l.limit(), 21);
    }

    #[test]
    fn library_decrease_on_drops() {
        let mut l = aimd(30, 20, 200);
        l.on_sample(&drop_sample(), &mut rng());
        assert_eq!(l.limit(), 27);
    }

    #[test]
    fn library_success_overflow() {
        // The library's test uses minLimit 0; 1 is the least accepted here.
        let mut l = aimd(21, 1, 21);
        l.on_sample(&ok(1, 10), &mut rng());
        assert_eq!(l.limit(), 21);
    }

    #[test]
    fn grows_only_when_half_the_limit_is_in_flight() {
        let mut l = aimd(40, 20, 200);
        // 2 * 19 < 40: the limit is not the constraint, so it does not grow.
        l.on_sample(&ok(1, 19), &mut rng());
        assert_eq!(l.limit(), 40);
        l.on_sample(&ok(1, 20), &mut rng());
        assert_eq!(l.limit(), 41);
        // 2 * 20 < 41 now.
        l.on_sample(&ok(1, 20), &mut rng());
        assert_eq!(l.limit(), 41);
    }

    #[test]
    fn backoff_ratio_truncates_and_floors_at_min() {
        let mut l = aimd(100, 20, 200);
        let mut seen = vec![];
        for _ in 0..20 {
            l.on_sample(&drop_sample(), &mut rng());
            seen.push(l.limit());
        }
        // 100 -> 90 -> 81 -> 72 (72.9) -> 64 (64.8) -> 57 (57.6) -> 51 (51.3) -> 45 (45.9)
        // -> 40 (40.5) -> 36 -> 32 (32.4) -> 28 (28.8) -> 25 (25.2) -> 22 (22.5) -> 19.8,
        // floored at 20.
        assert_eq!(
            seen[..14],
            [90, 81, 72, 64, 57, 51, 45, 40, 36, 32, 28, 25, 22, 20]
        );
        assert!(seen[14..].iter().all(|&x| x == 20));
    }

    #[test]
    fn a_round_trip_past_the_timeout_is_a_drop() {
        let mut l = aimd(100, 20, 200);
        let mut s = ok(0, 100);
        s.rtt = Duration::from_secs(5);
        // Exactly the timeout is not past it: a success.
        l.on_sample(&s, &mut rng());
        assert_eq!(l.limit(), 101);
        s.rtt += Duration::from_nanos(1);
        l.on_sample(&s, &mut rng());
        // floor(101 * 0.9) = floor(90.9) = 90.
        assert_eq!(l.limit(), 90);
    }

    #[test]
    fn config_checks() {
        assert!(AimdConfig::default().validate().is_ok());
        for ratio in [0.49, 1.0, f64::NAN] {
            let c = AimdConfig {
                backoff_ratio: ratio,
                ..Default::default()
            };
            assert!(c.validate().is_err(), "{ratio}");
        }
        let c = AimdConfig {
            timeout: Duration::ZERO,
            ..Default::default()
        };
        assert!(c.validate().is_err());
        // The library's test starts at 30 with min 20: accepted.
        let c = AimdConfig {
            initial_limit: 30,
            ..Default::default()
        };
        assert!(c.validate().is_ok());
    }
}
