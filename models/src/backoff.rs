//! Retry backoff with jitter, after Brooker, "Exponential Backoff And Jitter" (AWS
//! Architecture Blog, 2015).
//!
//! With `attempt` counting retries from 0 and `t = min(cap, base * 2^attempt)`, the sleep
//! before the next attempt is (REFERENCES.md, "Backoff and jitter"):
//!
//! | kind | sleep |
//! |---|---|
//! | [`Jitter::None`] | `t` |
//! | [`Jitter::Full`] | `uniform(0, t)` |
//! | [`Jitter::Equal`] | `t/2 + uniform(0, t/2)` |
//! | [`Jitter::Decorrelated`] | `min(cap, uniform(base, prev * 3))`, `prev` starts at `base` |
//! | [`BackoffKind::Constant`] | `base` |
//!
//! The policy ([`BackoffPolicy`]) is shared configuration; the per-client state
//! ([`BackoffState`]) is 24 bytes and `Copy`, so a client keeps one per logical request.
//!
//! Invariants (checked with `debug_assert!`):
//! - every delay lies in [`BackoffPolicy::delay_bounds`] for its retry index, and never
//!   exceeds `cap` (for a valid policy, `base <= cap`);
//! - decorrelated delays never fall below `base`;
//! - at most `max_attempts - 1` delays are handed out per [`BackoffState`]: `max_attempts`
//!   counts the first try, so the `max_attempts`-th call to
//!   [`BackoffPolicy::next_delay`] returns `None`.
//!
//! Uniform draws are made on whole nanoseconds, inclusive of both ends, so the simulator
//! sees exactly the delay that was drawn (no millisecond rounding). `base * 2^attempt`
//! saturates to `cap` instead of overflowing.

use core::time::Duration;

use rand::Rng;
use serde::{Deserialize, Serialize};

const NANOS_PER_SEC: u128 = 1_000_000_000;

/// How an exponential backoff randomises its sleep (Brooker 2015).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Jitter {
    /// Plain exponential backoff: sleep exactly `t`. Brooker's clear loser on both work
    /// and completion time, kept as the baseline.
    None,
    /// `uniform(0, t)`.
    Full,
    /// `t/2 + uniform(0, t/2)`.
    Equal,
    /// `min(cap, uniform(base, prev * 3))`, with `prev` the previous sleep of this client.
    Decorrelated,
}

/// The shape of the delay sequence.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BackoffKind {
    /// `base * 2^attempt` capped at `cap`, randomised by the given jitter.
    Exponential(Jitter),
    /// Always sleep `base` (no growth, no jitter).
    Constant,
}

/// A retry policy: how long to sleep before each retry and how many attempts to make.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackoffPolicy {
    /// Shape of the delay sequence.
    pub kind: BackoffKind,
    /// Sleep before the first retry (before jitter); the decorrelated lower bound.
    pub base: Duration,
    /// Upper bound on every sleep.
    pub cap: Duration,
    /// Total attempts including the first try (so `max_attempts - 1` retries); at least 1.
    pub max_attempts: u32,
}

/// Per-client (or per-logical-request) progress through a [`BackoffPolicy`].
///
/// `Default` is the state before the first retry.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BackoffState {
    /// Retries handed out so far (= the `attempt` index of the next delay).
    retries: u32,
    /// The previous sleep, ns; only decorrelated jitter reads it. Meaningless while
    /// `retries == 0`, where Brooker's `prev` is `base`. Nanoseconds rather than a
    /// `Duration` keep the state at 16 bytes: one sits in every request in flight.
    prev_ns: u64,
}

impl BackoffState {
    /// A fresh state, before the first retry.
    pub fn new() -> Self {
        Self::default()
    }

    /// Retries handed out so far.
    pub fn retries(&self) -> u32 {
        self.retries
    }

    /// Attempts made so far, counting the first try (which needs no delay).
    pub fn attempts(&self) -> u32 {
        self.retries.saturating_add(1)
    }

    /// The most recent delay handed out, if any.
    pub fn last_delay(&self) -> Option<Duration> {
        (self.retries > 0).then_some(Duration::from_nanos(self.prev_ns))
    }

    /// Back to the state before the first retry (e.g. after a success).
    pub fn reset(&mut self) {
        *self = Self::default();
    }
}

impl BackoffPolicy {
    /// Checks the policy, so a scenario can be rejected before a run.
    pub fn validate(&self) -> Result<(), String> {
        if self.max_attempts == 0 {
            return Err("max_attempts must be at least 1 (it counts the first try)".into());
        }
        if self.base > self.cap {
            return Err(format!(
                "base ({:?}) must not exceed cap ({:?})",
                self.base, self.cap
            ));
        }
        if matches!(self.kind, BackoffKind::Exponential(_)) && self.base.is_zero() {
            // 0 * 2^n = 0 and uniform(0, 0) = 0: every retry would be immediate, which is
            // never what "exponential backoff" means.
            return Err("base must be positive for exponential backoff".into());
        }
        Ok(())
    }

    /// Retries this policy allows per logical request (`max_attempts - 1`).
    pub fn max_retries(&self) -> u32 {
        self.max_attempts.saturating_sub(1)
    }

    /// The sleep before the next attempt, advancing `state`; `None` once `max_attempts`
    /// attempts (including the first try) have been used.
    pub fn next_delay(&self, state: &mut BackoffState, rng: &mut impl Rng) -> Option<Duration> {
        debug_assert!(self.validate().is_ok(), "invalid backoff policy: {self:?}");
        if state.retries >= self.max_retries() {
            return None;
        }
        let attempt = state.retries;
        let cap = nanos(self.cap);
        let delay = match self.kind {
            BackoffKind::Constant => nanos(self.base),
            BackoffKind::Exponential(jitter) => {
                let t = self.exp_ceiling_ns(attempt);
                match jitter {
                    Jitter::None => t,
                    Jitter::Full => uniform(rng, 0, t),
                    // ceil(t/2) keeps the maximum at exactly t for odd nanosecond counts.
                    Jitter::Equal => t - t / 2 + uniform(rng, 0, t / 2),
                    Jitter::Decorrelated => {
                        let base = nanos(self.base);
                        let prev = if attempt == 0 {
                            base
                        } else {
                            u128::from(state.prev_ns)
                        };
                        // prev >= base (previous draws are >= base, and base <= cap), so
                        // the range is never empty.
                        uniform(rng, base, prev.saturating_mul(3)).min(cap)
                    }
                }
            }
        };
        // Saturates past 584 years, far beyond any cap a scenario accepts.
        let delay_ns = u64::try_from(delay).unwrap_or(u64::MAX);
        let delay = duration(delay);
        debug_assert!({
            let (lo, hi) = self.delay_bounds(attempt);
            lo <= delay && delay <= hi
        });
        debug_assert!(delay <= self.cap.max(self.base));
        state.retries += 1;
        state.prev_ns = delay_ns;
        Some(delay)
    }

    /// The smallest and largest sleep the policy can hand out before retry number
    /// `retry_index` (0 = the sleep after the first try), ignoring `max_attempts`.
    ///
    /// For decorrelated jitter the upper bound is `min(cap, base * 3^(retry_index + 1))`,
    /// the largest value `prev * 3` can reach after `retry_index` maximal draws.
    pub fn delay_bounds(&self, retry_index: u32) -> (Duration, Duration) {
        let (lo, hi) = match self.kind {
            BackoffKind::Constant => (nanos(self.base), nanos(self.base)),
            BackoffKind::Exponential(jitter) => {
                let t = self.exp_ceiling_ns(retry_index);
                match jitter {
                    Jitter::None => (t, t),
                    Jitter::Full => (0, t),
                    Jitter::Equal => (t - t / 2, t),
                    Jitter::Decorrelated => {
                        let base = nanos(self.base);
                        let cap = nanos(self.cap);
                        let mut hi = base;
                        for _ in 0..=retry_index {
                            hi = hi.saturating_mul(3);
                            if hi >= cap {
                                break;
                            }
                        }
                        (base.min(cap), hi.min(cap))
                    }
                }
            }
        };
        (duration(lo), duration(hi))
    }

    /// `min(cap, base * 2^attempt)` in nanoseconds, saturating instead of overflowing.
    fn exp_ceiling_ns(&self, attempt: u32) -> u128 {
        let base = nanos(self.base);
        let cap = nanos(self.cap);
        let t = if attempt >= 128 {
            if base == 0 {
                0
            } else {
                u128::MAX
            }
        } else {
            base.saturating_mul(1u128 << attempt)
        };
        t.min(cap)
    }
}

fn nanos(d: Duration) -> u128 {
    d.as_nanos()
}

/// Inverse of [`nanos`]; every value passed here is at most some `Duration`'s nanos, so
/// the seconds fit in a `u64`.
fn duration(ns: u128) -> Duration {
    let secs = u64::try_from(ns / NANOS_PER_SEC).unwrap_or(u64::MAX);
    Duration::new(secs, (ns % NANOS_PER_SEC) as u32)
}

/// Uniform on the whole nanoseconds of `[lo, hi]`.
fn uniform(rng: &mut impl Rng, lo: u128, hi: u128) -> u128 {
    debug_assert!(lo <= hi);
    if lo == hi {
        // Spares a draw, so degenerate ranges do not consume randomness.
        return lo;
    }
    // A u64 draw is enough below ~584 years and keeps the common case cheap.
    match (u64::try_from(lo), u64::try_from(hi)) {
        (Ok(lo), Ok(hi)) => u128::from(rng.gen_range(lo..=hi)),
        _ => rng.gen_range(lo..=hi),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    fn policy(
        kind: BackoffKind,
        base: Duration,
        cap: Duration,
        max_attempts: u32,
    ) -> BackoffPolicy {
        BackoffPolicy {
            kind,
            base,
            cap,
            max_attempts,
        }
    }

    /// Brooker's `t`, computed independently of the implementation: double by repeated
    /// addition, stopping at the cap.
    fn reference_t(base: Duration, cap: Duration, attempt: u32) -> Duration {
        let mut t = base;
        for _ in 0..attempt {
            if t >= cap {
                break;
            }
            t = t.checked_add(t).unwrap_or(cap);
        }
        t.min(cap)
    }

    fn kind_strategy() -> impl Strategy<Value = BackoffKind> {
        prop_oneof![
            Just(BackoffKind::Constant),
            Just(BackoffKind::Exponential(Jitter::None)),
            Just(BackoffKind::Exponential(Jitter::Full)),
            Just(BackoffKind::Exponential(Jitter::Equal)),
            Just(BackoffKind::Exponential(Jitter::Decorrelated)),
        ]
    }

    proptest! {
        #[test]
        fn every_kind_stays_within_its_formula(
            seed: u64,
            kind in kind_strategy(),
            base_ns in 1u64..=2_000_000_000,
            cap_factor in 1u64..=10_000,
            max_attempts in 1u32..=80,
        ) {
            let base = Duration::from_nanos(base_ns);
            let cap = base * cap_factor as u32;
            let p = policy(kind, base, cap, max_attempts);
            prop_assert!(p.validate().is_ok());
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            let mut state = BackoffState::default();
            let mut prev = base;
            let mut handed_out = 0u32;
            while let Some(d) = p.next_delay(&mut state, &mut rng) {
                let attempt = handed_out;
                let t = reference_t(base, cap, attempt);
                match kind {
                    BackoffKind::Constant => prop_assert_eq!(d, base),
                    BackoffKind::Exponential(Jitter::None) => prop_assert_eq!(d, t),
                    BackoffKind::Exponential(Jitter::Full) => prop_assert!(d <= t),
                    BackoffKind::Exponential(Jitter::Equal) => {
                        prop_assert!(d * 2 >= t && d <= t, "d={:?} t={:?}", d, t);
                    }
                    BackoffKind::Exponential(Jitter::Decorrelated) => {
                        prop_assert!(d >= base, "below base: {:?} < {:?}", d, base);
                        prop_assert!(d <= cap, "above cap: {:?} > {:?}", d, cap);
                        prop_assert!(d <= prev * 3, "above 3 * prev: {:?} > 3 * {:?}", d, prev);
                    }
                }
                prop_assert!(d <= cap);
                let (lo, hi) = p.delay_bounds(attempt);
                prop_assert!(lo <= d && d <= hi, "{:?} outside {:?}..={:?}", d, lo, hi);
                prev = d;
                handed_out += 1;
                prop_assert!(handed_out < 1000, "runaway");
            }
            // None after max_attempts: the first try plus max_attempts - 1 retries.
            prop_assert_eq!(handed_out, max_attempts - 1);
            prop_assert_eq!(state.attempts(), max_attempts);
            prop_assert_eq!(p.next_delay(&mut state, &mut rng), None);
        }

        #[test]
        fn huge_attempts_saturate_to_cap(base_ns in 1u64..u64::MAX / 4, attempt in 40u32..=u32::MAX) {
            // 1 ns * 2^40 is already 1,100 s, past this cap.
            let base = Duration::from_nanos(base_ns);
            let cap = Duration::from_secs(1000).max(base);
            let p = policy(BackoffKind::Exponential(Jitter::None), base, cap, u32::MAX);
            let (lo, hi) = p.delay_bounds(attempt);
            prop_assert_eq!(lo, cap);
            prop_assert_eq!(hi, cap);
        }
    }

    #[test]
    fn plain_exponential_doubles_from_attempt_zero() {
        let p = policy(BackoffKind::Exponential(Jitter::None), ms(100), ms(1000), 7);
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let mut s = BackoffState::new();
        let got: Vec<_> = core::iter::from_fn(|| p.next_delay(&mut s, &mut rng)).collect();
        // 100 * 2^0, 2^1, 2^2, 2^3 = 800, then capped at 1000 ms; 7 attempts = 6 sleeps.
        assert_eq!(
            got,
            vec![ms(100), ms(200), ms(400), ms(800), ms(1000), ms(1000)]
        );
    }

    #[test]
    fn single_attempt_never_retries() {
        let p = policy(BackoffKind::Constant, ms(5), ms(5), 1);
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        assert_eq!(p.next_delay(&mut BackoffState::new(), &mut rng), None);
    }

    fn mean_at_attempt(jitter: Jitter, attempt: u32, draws: u32) -> f64 {
        let p = policy(
            BackoffKind::Exponential(jitter),
            ms(100),
            ms(60_000),
            u32::MAX,
        );
        let mut rng = ChaCha8Rng::seed_from_u64(42);
        let mut sum = 0.0;
        for _ in 0..draws {
            let mut s = BackoffState {
                retries: attempt,
                prev_ns: 0,
            };
            sum += p.next_delay(&mut s, &mut rng).unwrap().as_secs_f64();
        }
        sum / f64::from(draws)
    }

    #[test]
    fn full_jitter_mean_is_half_of_t() {
        // t = 100 ms * 2^3 = 800 ms. uniform(0, t) has mean t/2 = 0.4 s and standard
        // deviation t / sqrt(12) = 0.231 s; over 100,000 draws the standard error of the
        // mean is 0.73 ms, so a 4 ms tolerance is more than 5 standard errors.
        let mean = mean_at_attempt(Jitter::Full, 3, 100_000);
        assert!((mean - 0.4).abs() < 0.004, "mean {mean}");
    }

    #[test]
    fn equal_jitter_mean_is_three_quarters_of_t() {
        // t/2 + uniform(0, t/2): mean 3t/4 = 0.6 s, sd (t/2)/sqrt(12) = 0.115 s.
        let mean = mean_at_attempt(Jitter::Equal, 3, 100_000);
        assert!((mean - 0.6).abs() < 0.002, "mean {mean}");
    }

    #[test]
    fn decorrelated_first_sleep_is_uniform_base_to_three_base() {
        // prev starts at base: the first sleep is uniform(base, 3 base), mean 2 base.
        let mean = mean_at_attempt(Jitter::Decorrelated, 0, 100_000);
        assert!((mean - 0.2).abs() < 0.002, "mean {mean}");
    }

    /// The set of values drawn at `attempt` over many draws, on a nanosecond scale small
    /// enough that every value in range shows up.
    fn support(jitter: Jitter, base_ns: u64, cap_ns: u64, attempt: u32, prev_ns: u64) -> Vec<u64> {
        let p = policy(
            BackoffKind::Exponential(jitter),
            Duration::from_nanos(base_ns),
            Duration::from_nanos(cap_ns),
            u32::MAX,
        );
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let mut seen = std::collections::BTreeSet::new();
        for _ in 0..10_000 {
            let mut s = BackoffState {
                retries: attempt,
                prev_ns,
            };
            seen.insert(p.next_delay(&mut s, &mut rng).unwrap().as_nanos() as u64);
        }
        seen.into_iter().collect()
    }

    #[test]
    fn jitter_ranges_are_exact_and_inclusive() {
        // t = min(100, 3 * 2^2) = 12 ns.
        assert_eq!(support(Jitter::None, 3, 100, 2, 0), vec![12]);
        assert_eq!(
            support(Jitter::Full, 3, 100, 2, 0),
            (0..=12).collect::<Vec<_>>()
        );
        assert_eq!(
            support(Jitter::Equal, 3, 100, 2, 0),
            (6..=12).collect::<Vec<_>>()
        );
        // Odd t: base 3, attempt 0 gives t = 3 and sleeps ceil(3/2) = 2 ..= 3.
        assert_eq!(support(Jitter::Equal, 3, 100, 0, 0), vec![2, 3]);
        // uniform(base, 3 prev) = 3..=15 for prev 5, capped at 10.
        assert_eq!(
            support(Jitter::Decorrelated, 3, 10, 1, 5),
            (3..=10).collect::<Vec<_>>()
        );
        // The first decorrelated sleep uses prev = base: 3..=9.
        assert_eq!(
            support(Jitter::Decorrelated, 3, 100, 0, 0),
            (3..=9).collect::<Vec<_>>()
        );
    }

    #[test]
    fn policy_validation() {
        let ok = policy(BackoffKind::Exponential(Jitter::Full), ms(5), ms(2000), 3);
        assert!(ok.validate().is_ok());
        assert!(BackoffPolicy {
            max_attempts: 0,
            ..ok.clone()
        }
        .validate()
        .is_err());
        assert!(BackoffPolicy {
            base: ms(3000),
            ..ok.clone()
        }
        .validate()
        .is_err());
        assert!(BackoffPolicy {
            base: Duration::ZERO,
            ..ok.clone()
        }
        .validate()
        .is_err());
        assert!(BackoffPolicy {
            kind: BackoffKind::Constant,
            base: Duration::ZERO,
            ..ok
        }
        .validate()
        .is_ok());
    }
}
