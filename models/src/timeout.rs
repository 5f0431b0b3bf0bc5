//! Request timeouts: fixed, or adapted to measured round trips.
//!
//! - [`TimeoutPolicy::Ewma`] (seed document, REFERENCES.md "Timeouts"):
//!   `timeout = mean + z * sd`, mean and variance tracked by an exponentially weighted
//!   moving average with weight `alpha` (0.1); `z` is 2.58 / 1.96 / 1.645 for 99 / 95 /
//!   90% ([`Z_99`], [`Z_95`], [`Z_90`]).
//! - [`TimeoutPolicy::Rfc6298`] (RFC 6298, "Computing TCP's Retransmission Timer"): first
//!   sample R: `SRTT = R`, `RTTVAR = R/2`; later samples update `RTTVAR = 3/4 RTTVAR +
//!   1/4 |SRTT - R|` (with the old SRTT) and then `SRTT = 7/8 SRTT + 1/8 R`;
//!   `RTO = SRTT + max(G, 4 RTTVAR)`, at least 1 s (rule 2.4; a smaller `min` is allowed
//!   as a configured deviation), at most `max` (rule 2.5), doubled on each timeout
//!   (rule 5.5). A new sample after backoff recomputes RTO from SRTT and RTTVAR.
//!
//! The caller must apply Karn's algorithm (RFC 6298 section 3): an attempt that was
//! retried gives no sample, as its response cannot be matched to one send.
//!
//! Choices where the sources are silent:
//! - EWMA's first sample R sets `mean = R` and `sd = R/2`, borrowing RFC 6298's start,
//!   so that one fast sample does not leave a zero-width interval; later samples use the
//!   incremental exponentially weighted variance (Finch, "Incremental calculation of
//!   weighted mean and variance", 2009): `d = R - mean; mean += alpha d;
//!   var = (1 - alpha)(var + alpha d^2)`.
//! - EWMA backs off on timeout exactly like RFC 6298: the current timeout doubles (up to
//!   `max`) until the next sample. Without it, a latency step above the timeout would
//!   produce only timeouts, hence no samples, and the estimate would never adapt.
//! - [`TimeoutPolicy::Fixed`] ignores samples and timeouts.
//!
//! Invariant (checked with `debug_assert!`): the current timeout lies in `[min, max]`.
//! Per-client state is 32 bytes; the policy is passed to each call so it is not copied
//! into every client.

use core::time::Duration;

use serde::{Deserialize, Serialize};

/// `z` for a 99% one-sided normal quantile, as given by the seed document.
pub const Z_99: f64 = 2.58;
/// `z` for a 95% quantile, as given by the seed document.
pub const Z_95: f64 = 1.96;
/// `z` for a 90% quantile, as given by the seed document.
pub const Z_90: f64 = 1.645;
/// The seed document's EWMA weight.
pub const DEFAULT_EWMA_ALPHA: f64 = 0.1;
/// RFC 6298 rule 2.1: the RTO before any sample.
pub const RFC6298_INITIAL: Duration = Duration::from_secs(1);
/// RFC 6298 rule 2.4: RTO is rounded up to at least 1 s.
pub const RFC6298_MIN: Duration = Duration::from_secs(1);
/// RFC 6298 rule 2.5: a maximum may be placed on RTO provided it is at least 60 s.
pub const RFC6298_MAX: Duration = Duration::from_secs(60);

/// How a client chooses the timeout of its next attempt.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimeoutPolicy {
    /// Always the same timeout.
    Fixed(Duration),
    /// `mean + z * sd` of the EWMA-tracked round trip (seed document).
    Ewma {
        /// Weight of a new sample, in (0, 1]; the seed document uses 0.1.
        alpha: f64,
        /// Standard deviations above the mean; see [`Z_99`], [`Z_95`], [`Z_90`].
        z: f64,
        /// Timeout before the first sample.
        initial: Duration,
        /// Lower clamp.
        min: Duration,
        /// Upper clamp, also the limit of backoff on timeout.
        max: Duration,
    },
    /// TCP's retransmission timer (RFC 6298).
    Rfc6298 {
        /// RTO before the first sample; RFC: 1 s.
        initial: Duration,
        /// Lower clamp; RFC: 1 s.
        min: Duration,
        /// Upper clamp, also the limit of doubling; RFC: at least 60 s.
        max: Duration,
        /// Clock granularity `G`.
        granularity: Duration,
    },
}

impl TimeoutPolicy {
    /// RFC 6298 as published: initial 1 s, min 1 s, max 60 s; `G` is 1 ms, a typical
    /// kernel timer granularity (the RFC leaves it to the implementation).
    pub fn rfc6298() -> Self {
        Self::Rfc6298 {
            initial: RFC6298_INITIAL,
            min: RFC6298_MIN,
            max: RFC6298_MAX,
            granularity: Duration::from_millis(1),
        }
    }

    /// The seed document's EWMA timeout at 99% (alpha 0.1, z 2.58) with the given bounds.
    pub fn ewma_99(initial: Duration, min: Duration, max: Duration) -> Self {
        Self::Ewma {
            alpha: DEFAULT_EWMA_ALPHA,
            z: Z_99,
            initial,
            min,
            max,
        }
    }

    /// Checks the policy, so a scenario can be rejected before a run.
    pub fn validate(&self) -> Result<(), String> {
        let (initial, min, max) = match *self {
            Self::Fixed(t) => {
                return if t.is_zero() {
                    Err("a fixed timeout must be positive".into())
                } else {
                    Ok(())
                };
            }
            Self::Ewma {
                alpha,
                z,
                initial,
                min,
                max,
            } => {
                if !(alpha > 0.0 && alpha <= 1.0) {
                    return Err(format!("alpha must be in (0, 1], got {alpha}"));
                }
                if !(z.is_finite() && z >= 0.0) {
                    return Err(format!("z must be a non-negative number, got {z}"));
                }
                (initial, min, max)
            }
            Self::Rfc6298 {
                initial, min, max, ..
            } => (initial, min, max),
        };
        if min.is_zero() {
            return Err("min must be positive".into());
        }
        if !(min <= initial && initial <= max) {
            return Err(format!(
                "need min <= initial <= max, got {min:?}, {initial:?}, {max:?}"
            ));
        }
        Ok(())
    }

    fn bounds(&self) -> (Duration, Duration) {
        match *self {
            Self::Fixed(t) => (t, t),
            Self::Ewma { min, max, .. } | Self::Rfc6298 { min, max, .. } => (min, max),
        }
    }
}

/// Per-client timeout estimator state, driven by a [`TimeoutPolicy`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AdaptiveTimeout {
    /// EWMA mean or SRTT, in nanoseconds.
    mean_ns: f64,
    /// EWMA variance (ns^2) or RTTVAR (a mean deviation, ns).
    spread: f64,
    /// Whether a sample has been seen; the first sample initialises rather than updates.
    sampled: bool,
    /// The current timeout including backoff, in nanoseconds.
    current_ns: u64,
}

impl AdaptiveTimeout {
    /// The state before any sample: the timeout is the policy's `initial`.
    pub fn new(policy: &TimeoutPolicy) -> Self {
        debug_assert!(
            policy.validate().is_ok(),
            "invalid timeout policy: {policy:?}"
        );
        let initial = match *policy {
            TimeoutPolicy::Fixed(t) => t,
            TimeoutPolicy::Ewma { initial, .. } | TimeoutPolicy::Rfc6298 { initial, .. } => initial,
        };
        Self {
            mean_ns: 0.0,
            spread: 0.0,
            sampled: false,
            current_ns: saturating_nanos(initial),
        }
    }

    /// The timeout for the next attempt.
    pub fn timeout(&self, policy: &TimeoutPolicy) -> Duration {
        if let TimeoutPolicy::Fixed(t) = *policy {
            return t;
        }
        let t = Duration::from_nanos(self.current_ns);
        debug_assert!({
            let (min, max) = policy.bounds();
            min <= t && t <= max
        });
        t
    }

    /// The smoothed round trip (EWMA mean or SRTT), once a sample has been seen.
    pub fn smoothed_rtt(&self) -> Option<Duration> {
        self.sampled
            .then(|| Duration::from_nanos(self.mean_ns.round() as u64))
    }

    /// The spread estimate: EWMA standard deviation, or RFC 6298's RTTVAR.
    pub fn rtt_spread(&self, policy: &TimeoutPolicy) -> Option<Duration> {
        let ns = match policy {
            TimeoutPolicy::Ewma { .. } => self.spread.sqrt(),
            _ => self.spread,
        };
        self.sampled
            .then(|| Duration::from_nanos(ns.round() as u64))
    }

    /// A measured round trip of an attempt that was sent once (Karn's algorithm).
    pub fn on_sample(&mut self, policy: &TimeoutPolicy, rtt: Duration) {
        let r = rtt.as_nanos() as f64;
        let (unclamped, min, max) = match *policy {
            TimeoutPolicy::Fixed(_) => return,
            TimeoutPolicy::Ewma {
                alpha, z, min, max, ..
            } => {
                if self.sampled {
                    let d = r - self.mean_ns;
                    let incr = alpha * d;
                    self.mean_ns += incr;
                    self.spread = (1.0 - alpha) * (self.spread + d * incr);
                } else {
                    self.mean_ns = r;
                    self.spread = (r / 2.0) * (r / 2.0);
                }
                (self.mean_ns + z * self.spread.sqrt(), min, max)
            }
            TimeoutPolicy::Rfc6298 {
                min,
                max,
                granularity,
                ..
            } => {
                if self.sampled {
                    // RTTVAR first: it uses the SRTT from before this sample (RFC 2.3).
                    self.spread = 0.75 * self.spread + 0.25 * (self.mean_ns - r).abs();
                    self.mean_ns = 0.875 * self.mean_ns + 0.125 * r;
                } else {
                    self.mean_ns = r;
                    self.spread = r / 2.0;
                }
                let g = granularity.as_nanos() as f64;
                (self.mean_ns + g.max(4.0 * self.spread), min, max)
            }
        };
        self.sampled = true;
        debug_assert!(self.mean_ns >= 0.0 && self.spread >= 0.0);
        // Replaces any backoff: a fresh sample recomputes the timeout (RFC 6298 5.7).
        self.current_ns = clamp_ns(unclamped, min, max);
    }

    /// An attempt timed out: back off by doubling the timeout, up to `max`.
    pub fn on_timeout(&mut self, policy: &TimeoutPolicy) {
        if let TimeoutPolicy::Fixed(_) = policy {
            return;
        }
        let (min, max) = policy.bounds();
        self.current_ns = self
            .current_ns
            .saturating_mul(2)
            .clamp(saturating_nanos(min), saturating_nanos(max));
    }
}

fn saturating_nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

fn clamp_ns(ns: f64, min: Duration, max: Duration) -> u64 {
    let (lo, hi) = (saturating_nanos(min), saturating_nanos(max));
    // `as` saturates and maps NaN to 0, which the clamp then lifts to `min`.
    (ns.round() as u64).clamp(lo, hi)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    fn us(n: u64) -> Duration {
        Duration::from_micros(n)
    }

    fn rfc(min: Duration, max: Duration, g: Duration) -> TimeoutPolicy {
        TimeoutPolicy::Rfc6298 {
            initial: min.max(ms(1000)).min(max),
            min,
            max,
            granularity: g,
        }
    }

    #[test]
    fn rfc6298_first_sample_and_published_floor() {
        let p = TimeoutPolicy::rfc6298();
        let mut t = AdaptiveTimeout::new(&p);
        assert_eq!(t.timeout(&p), ms(1000)); // rule 2.1
        t.on_sample(&p, ms(100));
        // SRTT = R = 100 ms, RTTVAR = R/2 = 50 ms, RTO = 100 + max(1 ms, 200) = 300 ms,
        // raised to the 1 s floor of rule 2.4.
        assert_eq!(t.smoothed_rtt(), Some(ms(100)));
        assert_eq!(t.rtt_spread(&p), Some(ms(50)));
        assert_eq!(t.timeout(&p), ms(1000));
    }

    #[test]
    fn rfc6298_update_rules_by_hand() {
        let p = rfc(ms(10), ms(60_000), ms(1));
        let mut t = AdaptiveTimeout::new(&p);
        t.on_sample(&p, ms(100));
        assert_eq!(t.timeout(&p), ms(300));
        t.on_sample(&p, ms(200));
        // RTTVAR = 3/4 * 50 + 1/4 * |100 - 200| = 37.5 + 25 = 62.5 ms (old SRTT)
        // SRTT   = 7/8 * 100 + 1/8 * 200 = 87.5 + 25 = 112.5 ms
        // RTO    = 112.5 + 4 * 62.5 = 362.5 ms
        assert_eq!(t.smoothed_rtt(), Some(us(112_500)));
        assert_eq!(t.rtt_spread(&p), Some(us(62_500)));
        assert_eq!(t.timeout(&p), us(362_500));
        t.on_sample(&p, ms(50));
        // RTTVAR = 3/4 * 62.5 + 1/4 * |112.5 - 50| = 46.875 + 15.625 = 62.5 ms
        // SRTT   = 7/8 * 112.5 + 1/8 * 50 = 98.4375 + 6.25 = 104.6875 ms
        // RTO    = 104.6875 + 250 = 354.6875 ms
        assert_eq!(t.smoothed_rtt(), Some(Duration::from_nanos(104_687_500)));
        assert_eq!(t.timeout(&p), Duration::from_nanos(354_687_500));
    }

    #[test]
    fn rfc6298_granularity_floors_the_variance_term() {
        let p = rfc(ms(10), ms(60_000), ms(100));
        let mut t = AdaptiveTimeout::new(&p);
        for _ in 0..200 {
            t.on_sample(&p, ms(100));
        }
        // RTTVAR decays by 3/4 per identical sample, so 4 RTTVAR falls below G = 100 ms.
        assert_eq!(t.timeout(&p), ms(200));
    }

    #[test]
    fn rfc6298_doubles_on_timeout_up_to_max_then_sample_recomputes() {
        let p = rfc(ms(10), ms(2000), ms(1));
        let mut t = AdaptiveTimeout::new(&p);
        t.on_sample(&p, ms(100));
        t.on_sample(&p, ms(200));
        assert_eq!(t.timeout(&p), us(362_500));
        t.on_timeout(&p);
        assert_eq!(t.timeout(&p), us(725_000));
        t.on_timeout(&p);
        assert_eq!(t.timeout(&p), us(1_450_000));
        t.on_timeout(&p);
        assert_eq!(t.timeout(&p), ms(2000)); // 2.9 s capped at max
                                             // The next sample recomputes from SRTT/RTTVAR (which backoff did not touch):
                                             // RTTVAR = 3/4 * 62.5 + 1/4 * 12.5 = 50, SRTT = 7/8 * 112.5 + 12.5 = 110.9375,
                                             // RTO = 110.9375 + 200 = 310.9375 ms.
        t.on_sample(&p, ms(100));
        assert_eq!(t.timeout(&p), Duration::from_nanos(310_937_500));
    }

    #[test]
    fn ewma_by_hand() {
        let p = TimeoutPolicy::ewma_99(ms(500), ms(1), ms(10_000));
        let mut t = AdaptiveTimeout::new(&p);
        assert_eq!(t.timeout(&p), ms(500));
        t.on_sample(&p, ms(100));
        // mean 100 ms, sd 50 ms: 100 + 2.58 * 50 = 229 ms.
        assert_eq!(t.timeout(&p), ms(229));
        t.on_sample(&p, ms(200));
        // d = 100, mean = 100 + 0.1 * 100 = 110, var = 0.9 * (2500 + 0.1 * 100^2) = 3150
        let expected = 110.0 + 2.58 * 3150f64.sqrt(); // ms
        let got = t.timeout(&p).as_secs_f64() * 1e3;
        assert!((got - expected).abs() < 1e-6, "{got} vs {expected}");
    }

    #[test]
    fn ewma_converges_to_a_constant_round_trip() {
        let p = TimeoutPolicy::ewma_99(ms(500), ms(1), ms(10_000));
        let mut t = AdaptiveTimeout::new(&p);
        for _ in 0..500 {
            t.on_sample(&p, ms(40));
        }
        // The variance decays by 0.9 per sample: sd is 50 ms * 0.9^250, far below 1 us.
        let got = t.timeout(&p);
        assert!(got >= ms(40) && got < ms(40) + us(1), "{got:?}");
    }

    #[test]
    fn ewma_backs_off_on_timeout() {
        let p = TimeoutPolicy::ewma_99(ms(100), ms(1), ms(300));
        let mut t = AdaptiveTimeout::new(&p);
        t.on_timeout(&p);
        assert_eq!(t.timeout(&p), ms(200));
        t.on_timeout(&p);
        assert_eq!(t.timeout(&p), ms(300));
    }

    #[test]
    fn fixed_ignores_everything() {
        let p = TimeoutPolicy::Fixed(ms(500));
        let mut t = AdaptiveTimeout::new(&p);
        t.on_sample(&p, ms(5));
        t.on_timeout(&p);
        assert_eq!(t.timeout(&p), ms(500));
    }

    #[test]
    fn validation() {
        assert!(TimeoutPolicy::rfc6298().validate().is_ok());
        assert!(TimeoutPolicy::Fixed(Duration::ZERO).validate().is_err());
        assert!(TimeoutPolicy::ewma_99(ms(5), ms(10), ms(20))
            .validate()
            .is_err());
        assert!(TimeoutPolicy::ewma_99(ms(50), ms(10), ms(20))
            .validate()
            .is_err());
        let bad_alpha = TimeoutPolicy::Ewma {
            alpha: 0.0,
            z: Z_95,
            initial: ms(10),
            min: ms(10),
            max: ms(10),
        };
        assert!(bad_alpha.validate().is_err());
    }

    fn policy_strategy() -> impl Strategy<Value = TimeoutPolicy> {
        (
            1u64..1_000_000_000,
            0u64..10_000_000_000,
            0u64..10_000_000_000,
            any::<bool>(),
            0.001f64..=1.0,
            prop_oneof![Just(Z_90), Just(Z_95), Just(Z_99), 0.0f64..10.0],
            0u64..100_000_000,
        )
            .prop_map(|(min, span, initial, ewma, alpha, z, g)| {
                let min = Duration::from_nanos(min);
                let max = min + Duration::from_nanos(span);
                let initial = min + Duration::from_nanos(initial % (span + 1));
                if ewma {
                    TimeoutPolicy::Ewma {
                        alpha,
                        z,
                        initial,
                        min,
                        max,
                    }
                } else {
                    TimeoutPolicy::Rfc6298 {
                        initial,
                        min,
                        max,
                        granularity: Duration::from_nanos(g),
                    }
                }
            })
    }

    proptest! {
        #[test]
        fn timeout_stays_within_min_max(seed: u64, policy in policy_strategy(), max_rtt_ns in 1u64..100_000_000_000) {
            prop_assert!(policy.validate().is_ok());
            let (min, max) = policy.bounds();
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            let mut t = AdaptiveTimeout::new(&policy);
            let (mut lo_rtt, mut hi_rtt) = (Duration::MAX, Duration::ZERO);
            for _ in 0..300 {
                if rng.gen_bool(0.2) {
                    t.on_timeout(&policy);
                } else {
                    let rtt = Duration::from_nanos(rng.gen_range(0..max_rtt_ns));
                    lo_rtt = lo_rtt.min(rtt);
                    hi_rtt = hi_rtt.max(rtt);
                    t.on_sample(&policy, rtt);
                    // A weighted average of samples stays between the extreme samples.
                    let srtt = t.smoothed_rtt().unwrap();
                    prop_assert!(srtt + Duration::from_nanos(1) >= lo_rtt && srtt <= hi_rtt + Duration::from_nanos(1));
                }
                let d = t.timeout(&policy);
                prop_assert!(min <= d && d <= max, "{:?} outside {:?}..={:?}", d, min, max);
            }
        }

        #[test]
        fn rfc6298_rto_is_at_least_srtt_plus_g(seed: u64, g_ns in 0u64..10_000_000) {
            let policy = TimeoutPolicy::Rfc6298 {
                initial: ms(1000), min: Duration::from_nanos(1), max: Duration::from_secs(3600),
                granularity: Duration::from_nanos(g_ns),
            };
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            let mut t = AdaptiveTimeout::new(&policy);
            for _ in 0..100 {
                t.on_sample(&policy, Duration::from_nanos(rng.gen_range(0..1_000_000_000)));
                let srtt = t.smoothed_rtt().unwrap();
                let rttvar = t.rtt_spread(&policy).unwrap();
                let d = t.timeout(&policy);
                let floor = srtt + Duration::from_nanos(g_ns).max(rttvar * 4);
                // Both sides are rounded to whole nanoseconds separately.
                prop_assert!(d + Duration::from_nanos(4) >= floor && d <= floor + Duration::from_nanos(4));
            }
        }
    }
}
