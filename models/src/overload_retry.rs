//! Overload-aware client retries, after the MongoDB drivers' client backpressure
//! specification (mongodb/specifications, `source/client-backpressure`; REFERENCES.md
//! "Overload retries").
//!
//! A server that sheds load answers with an overload error. Only such an error is
//! retried by this policy, and each retry:
//!
//! - is the `i`-th retry (`i` from 1) and is made only while `i <= max_retries`: 5 in
//!   the specification's first version (so at most 6 attempts: it lists five backoffs,
//!   100 ms to 1.6 s), 2 in its phase-1 rollout without a token bucket
//!   (`maxAdaptiveRetries`);
//! - waits `uniform(0, min(max_backoff, base_backoff * 2^(i-1)))` (jitter in [0, 1) as
//!   in the specification's `random.random()`): bounds 100 ms, 200 ms, 400 ms, 800 ms,
//!   ... capped at 10 s. A server may send its own base (`baseBackoffMS`), which then
//!   replaces `base_backoff`. (The specification's revision of 2026-07 uses `2^i`,
//!   which is this formula with `base_backoff` 200 ms.)
//! - puts the server that shed on the request's deprioritised list: the caller's
//!   server selection should prefer any other ([`OverloadRequest::deprioritized`]);
//!   choosing is the caller's. The first version always does; from phase 1 on it is
//!   `enableOverloadRetargeting`, off by default ([`OverloadRetryConfig::deprioritize`]);
//! - with the token bucket ("adaptive retries"), spends 1 token, and is refused when
//!   the bucket holds less than 1. The bucket is per client, starts full at
//!   `capacity` (1000), and is refilled by `return_rate` (0.1) per success; a success
//!   on a retry returns `return_rate + 1` (the retry's token back); a retry that fails
//!   with an error that is not an overload returns 1 (the server was healthy enough to
//!   answer). The first attempt never costs a token. Refills never pass `capacity`.
//!
//! A non-overload error ends this policy's part ([`GiveUp::NotOverload`]): whether
//! another policy (retryable reads and writes) retries it is the caller's. Within one
//! failed attempt the order is the specification's pseudocode: count the retry, check
//! the maximum, deprioritise, draw the backoff, then take the token; so a retry
//! refused for want of a token has still drawn its jitter.
//!
//! Tokens are held in thousandths, so that ten refills of 0.1 make exactly 1.
//!
//! Invariants (checked with `debug_assert!`, tested by proptest): a request makes at
//! most `max_retries + 1` attempts; with the bucket, no retry is made without a token
//! and the tokens stay in `[0, capacity]`; every backoff lies in `[0, bound)` for its
//! retry number.

use core::time::Duration;

use rand::Rng;
use serde::{Deserialize, Serialize};

/// The most retries a configuration may allow, to refuse absurd scenarios before a run
/// (it also bounds a request's deprioritised list).
pub const MAX_RETRIES_LIMIT: u32 = 100;
/// The largest token bucket accepted.
pub const MAX_CAPACITY_TOKENS: u32 = 1_000_000;
/// Tokens a retry costs (the specification's, not configurable).
pub const RETRY_COST_TOKENS: u32 = 1;
/// Thousandths of a token per token.
const MILLI: u64 = 1000;

/// The per-client token bucket's parameters.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetryTokensConfig {
    /// Tokens in a full bucket; it starts full. MongoDB: 1000.
    pub capacity: u32,
    /// Tokens a success returns (`RETRY_TOKEN_RETURN_RATE`); resolved to thousandths.
    /// MongoDB: 0.1.
    pub return_rate: f64,
}

impl Default for RetryTokensConfig {
    /// The specification's 1000 tokens, 0.1 per success.
    fn default() -> Self {
        Self {
            capacity: 1000,
            return_rate: 0.1,
        }
    }
}

impl RetryTokensConfig {
    /// Checks the configuration, so a scenario can be rejected before a run.
    pub fn validate(&self) -> Result<(), String> {
        if !(1..=MAX_CAPACITY_TOKENS).contains(&self.capacity) {
            return Err(format!(
                "capacity must be between 1 and {MAX_CAPACITY_TOKENS}, got {}",
                self.capacity
            ));
        }
        if !(self.return_rate.is_finite()
            && (0.0..=f64::from(self.capacity)).contains(&self.return_rate))
        {
            return Err(format!(
                "return_rate must be between 0 and capacity, got {}",
                self.return_rate
            ));
        }
        Ok(())
    }
}

/// The retry policy's parameters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OverloadRetryConfig {
    /// Retries after overload errors, at most (`MAX_RETRIES`); the attempts are one more.
    pub max_retries: u32,
    /// Backoff bound of the first retry (`BASE_BACKOFF`). MongoDB: 100 ms.
    pub base_backoff: Duration,
    /// Cap on every backoff bound (`MAX_BACKOFF`). MongoDB: 10 s.
    pub max_backoff: Duration,
    /// Whether a retry deprioritises the server that shed (the first version: always;
    /// from phase 1 on: `enableOverloadRetargeting`, off by default).
    pub deprioritize: bool,
    /// The per-client token bucket; `None`: retries limited only by `max_retries`.
    pub token_bucket: Option<RetryTokensConfig>,
}

impl OverloadRetryConfig {
    /// The specification's first version: 5 retries, token bucket of 1000 refilled 0.1
    /// per success, deprioritising the server that shed.
    pub fn token_bucket() -> Self {
        Self {
            max_retries: 5,
            base_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(10),
            deprioritize: true,
            token_bucket: Some(RetryTokensConfig::default()),
        }
    }

    /// The phase-1 rollout (2026-04): no bucket, at most 2 adaptive retries
    /// (`maxAdaptiveRetries`), no deprioritising unless switched on
    /// (`enableOverloadRetargeting` defaults to false there).
    pub fn adaptive_retries() -> Self {
        Self {
            max_retries: 2,
            deprioritize: false,
            token_bucket: None,
            ..Self::token_bucket()
        }
    }

    /// Checks the configuration, so a scenario can be rejected before a run.
    pub fn validate(&self) -> Result<(), String> {
        if self.max_retries > MAX_RETRIES_LIMIT {
            return Err(format!(
                "max_retries must be at most {MAX_RETRIES_LIMIT}, got {}",
                self.max_retries
            ));
        }
        if self.base_backoff.is_zero() {
            return Err("base_backoff must be above 0".into());
        }
        if self.max_backoff < self.base_backoff {
            return Err(format!(
                "max_backoff ({:?}) must be at least base_backoff ({:?})",
                self.max_backoff, self.base_backoff
            ));
        }
        if let Some(bucket) = &self.token_bucket {
            bucket.validate()?;
        }
        Ok(())
    }

    /// The backoff bound before retry `retry` (from 1): `min(max_backoff, base * 2^(retry
    /// - 1))`, with `base` the server's if it sent a positive one.
    pub fn backoff_bound(&self, retry: u32, server_base: Option<Duration>) -> Duration {
        let base = server_base
            .filter(|b| !b.is_zero())
            .unwrap_or(self.base_backoff);
        let doublings = retry.saturating_sub(1).min(64);
        let bound_ns = base.as_nanos().saturating_mul(1u128 << doublings);
        let bound = Duration::from_nanos(u64::try_from(bound_ns).unwrap_or(u64::MAX));
        bound.min(self.max_backoff)
    }

    /// A backoff drawn for retry `retry`: uniform in whole nanoseconds over `[0, bound)`.
    pub fn draw_backoff<R: Rng + ?Sized>(
        &self,
        retry: u32,
        server_base: Option<Duration>,
        rng: &mut R,
    ) -> Duration {
        let bound = self.backoff_bound(retry, server_base);
        let bound_ns = u64::try_from(bound.as_nanos()).unwrap_or(u64::MAX);
        let backoff = Duration::from_nanos(rng.gen_range(0..bound_ns.max(1)));
        debug_assert!(backoff < bound.max(Duration::from_nanos(1)));
        backoff
    }
}

/// A per-client bucket of retry tokens, counted in thousandths.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryTokens {
    capacity_milli: u64,
    return_milli: u64,
    tokens_milli: u64,
}

impl RetryTokens {
    /// A full bucket.
    pub fn new(config: &RetryTokensConfig) -> Self {
        debug_assert!(config.validate().is_ok(), "invalid bucket: {config:?}");
        let capacity_milli = u64::from(config.capacity) * MILLI;
        Self {
            capacity_milli,
            return_milli: (config.return_rate * MILLI as f64).round() as u64,
            tokens_milli: capacity_milli,
        }
    }

    /// Tokens in the bucket, in thousandths.
    pub fn tokens_milli(&self) -> u64 {
        self.tokens_milli
    }

    /// Tokens in the bucket.
    pub fn tokens(&self) -> f64 {
        self.tokens_milli as f64 / MILLI as f64
    }

    /// Takes one retry's tokens if the bucket holds them.
    pub fn try_consume(&mut self) -> bool {
        let cost = u64::from(RETRY_COST_TOKENS) * MILLI;
        let granted = self.tokens_milli >= cost;
        if granted {
            self.tokens_milli -= cost;
        }
        granted
    }

    fn deposit_milli(&mut self, amount_milli: u64) {
        self.tokens_milli = (self.tokens_milli + amount_milli).min(self.capacity_milli);
        debug_assert!(self.tokens_milli <= self.capacity_milli);
    }
}

/// How one attempt ended, as the policy needs to know it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AttemptOutcome {
    /// The server answered with a result.
    Success,
    /// The server shed the attempt with a retryable overload error
    /// (`SystemOverloadedError` and `RetryableError`).
    Overloaded {
        /// The caller's index of the server that shed it.
        server: u32,
        /// The base backoff the server asked for (`baseBackoffMS`), if any.
        server_base: Option<Duration>,
    },
    /// Any other error (a timeout, a crash, an error that is not an overload).
    Failed,
}

/// Why a request gets no further retry from this policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GiveUp {
    /// The error was not an overload; this policy does not retry it.
    NotOverload,
    /// `max_retries` retries have been made.
    RetriesExhausted,
    /// The token bucket held less than one token.
    NoToken,
}

/// What to do after an attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RetryDecision {
    /// The attempt succeeded; the request is done.
    Done,
    /// Retry after this backoff, preferring a server not in
    /// [`OverloadRequest::deprioritized`].
    Retry {
        /// How long to wait before the retry.
        backoff: Duration,
    },
    /// Fail the request.
    GiveUp(GiveUp),
}

/// One logical request's progress through the policy.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OverloadRequest {
    attempts: u32,
    finished: bool,
    /// Servers that shed an attempt, in order, each once; at most `max_retries` long.
    deprioritized: Vec<u32>,
}

impl OverloadRequest {
    /// A request before its first attempt.
    pub fn new() -> Self {
        Self::default()
    }

    /// Attempts whose results have been reported.
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    /// Servers the next attempt should avoid if it can.
    pub fn deprioritized(&self) -> &[u32] {
        &self.deprioritized
    }
}

/// A client's overload retry policy: its configuration and, with adaptive retries,
/// its token bucket.
#[derive(Clone, Debug, PartialEq)]
pub struct OverloadRetry {
    config: OverloadRetryConfig,
    tokens: Option<RetryTokens>,
}

impl OverloadRetry {
    /// A client with a full bucket (if it has one).
    pub fn new(config: &OverloadRetryConfig) -> Self {
        debug_assert!(config.validate().is_ok(), "invalid policy: {config:?}");
        Self {
            tokens: config.token_bucket.as_ref().map(RetryTokens::new),
            config: config.clone(),
        }
    }

    /// The configuration this policy was built from.
    pub fn config(&self) -> &OverloadRetryConfig {
        &self.config
    }

    /// The client's token bucket, if it has one.
    pub fn tokens(&self) -> Option<&RetryTokens> {
        self.tokens.as_ref()
    }

    /// Reports how an attempt of `request` ended and decides what follows.
    pub fn on_attempt_result<R: Rng + ?Sized>(
        &mut self,
        request: &mut OverloadRequest,
        outcome: AttemptOutcome,
        rng: &mut R,
    ) -> RetryDecision {
        debug_assert!(!request.finished, "a result after the request ended");
        debug_assert!(request.attempts <= self.config.max_retries);
        let was_retry = request.attempts > 0;
        request.attempts += 1;
        let decision = match outcome {
            AttemptOutcome::Success => {
                if let Some(tokens) = &mut self.tokens {
                    let returned = tokens.return_milli;
                    let refund = if was_retry {
                        u64::from(RETRY_COST_TOKENS) * MILLI
                    } else {
                        0
                    };
                    tokens.deposit_milli(returned + refund);
                }
                RetryDecision::Done
            }
            AttemptOutcome::Failed => {
                if let (Some(tokens), true) = (&mut self.tokens, was_retry) {
                    tokens.deposit_milli(u64::from(RETRY_COST_TOKENS) * MILLI);
                }
                RetryDecision::GiveUp(GiveUp::NotOverload)
            }
            AttemptOutcome::Overloaded {
                server,
                server_base,
            } => self.on_overload(request, server, server_base, rng),
        };
        request.finished = !matches!(decision, RetryDecision::Retry { .. });
        debug_assert!(request.deprioritized.len() <= self.config.max_retries as usize);
        decision
    }

    fn on_overload<R: Rng + ?Sized>(
        &mut self,
        request: &mut OverloadRequest,
        server: u32,
        server_base: Option<Duration>,
        rng: &mut R,
    ) -> RetryDecision {
        // This retry's number: one per failed attempt so far.
        let retry = request.attempts;
        if retry > self.config.max_retries {
            return RetryDecision::GiveUp(GiveUp::RetriesExhausted);
        }
        if self.config.deprioritize && !request.deprioritized.contains(&server) {
            request.deprioritized.push(server);
        }
        let backoff = self.config.draw_backoff(retry, server_base, rng);
        if let Some(tokens) = &mut self.tokens {
            if !tokens.try_consume() {
                return RetryDecision::GiveUp(GiveUp::NoToken);
            }
        }
        RetryDecision::Retry { backoff }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    const MS: Duration = Duration::from_millis(1);

    fn shed(server: u32) -> AttemptOutcome {
        AttemptOutcome::Overloaded {
            server,
            server_base: None,
        }
    }

    fn rng() -> ChaCha8Rng {
        ChaCha8Rng::seed_from_u64(7)
    }

    #[test]
    fn backoff_bounds_double_from_100ms_to_the_10s_cap() {
        let c = OverloadRetryConfig::token_bucket();
        let bounds: Vec<_> = (1..=9).map(|i| c.backoff_bound(i, None)).collect();
        assert_eq!(
            bounds,
            [100, 200, 400, 800, 1600, 3200, 6400, 10_000, 10_000].map(|ms| ms * MS)
        );
        // No overflow at absurd retry numbers.
        assert_eq!(c.backoff_bound(100, None), Duration::from_secs(10));
        assert_eq!(c.backoff_bound(u32::MAX, None), Duration::from_secs(10));
        // A server's own base replaces 100 ms; a zero one is ignored.
        assert_eq!(c.backoff_bound(3, Some(50 * MS)), 200 * MS);
        assert_eq!(c.backoff_bound(3, Some(Duration::ZERO)), 400 * MS);
        // The 2026-07 revision (2^i) is base 200 ms here: 200 ms, 400 ms, ...
        let revised = OverloadRetryConfig {
            base_backoff: 200 * MS,
            ..OverloadRetryConfig::adaptive_retries()
        };
        assert_eq!(revised.backoff_bound(1, None), 200 * MS);
        assert_eq!(revised.backoff_bound(2, None), 400 * MS);
    }

    #[test]
    fn token_bucket_variant_gives_up_after_5_retries() {
        let mut p = OverloadRetry::new(&OverloadRetryConfig::token_bucket());
        let mut r = OverloadRequest::new();
        let mut rng = rng();
        for i in 1..=5 {
            match p.on_attempt_result(&mut r, shed(0), &mut rng) {
                RetryDecision::Retry { backoff } => {
                    assert!(backoff < p.config().backoff_bound(i, None), "retry {i}");
                }
                d => panic!("retry {i}: {d:?}"),
            }
        }
        // The 6th attempt's overload ends it: 5 retries, 6 attempts.
        assert_eq!(
            p.on_attempt_result(&mut r, shed(0), &mut rng),
            RetryDecision::GiveUp(GiveUp::RetriesExhausted)
        );
        assert_eq!(r.attempts(), 6);
        // Five retries took five tokens.
        assert_eq!(p.tokens().unwrap().tokens_milli(), 995_000);
    }

    #[test]
    fn adaptive_variant_gives_up_after_2_retries_without_a_bucket() {
        let mut p = OverloadRetry::new(&OverloadRetryConfig::adaptive_retries());
        assert!(p.tokens().is_none());
        let mut r = OverloadRequest::new();
        let mut rng = rng();
        for _ in 0..2 {
            let d = p.on_attempt_result(&mut r, shed(1), &mut rng);
            assert!(matches!(d, RetryDecision::Retry { .. }), "{d:?}");
        }
        assert_eq!(
            p.on_attempt_result(&mut r, shed(1), &mut rng),
            RetryDecision::GiveUp(GiveUp::RetriesExhausted)
        );
        assert_eq!(r.attempts(), 3);
        assert!(r.deprioritized().is_empty());
    }

    #[test]
    fn bucket_refills_a_tenth_per_success_and_refunds_a_retried_success() {
        let mut p = OverloadRetry::new(&OverloadRetryConfig::token_bucket());
        let mut rng = rng();
        // Spend 20 tokens: 4 requests shed 5 times each.
        for _ in 0..4 {
            let mut r = OverloadRequest::new();
            while let RetryDecision::Retry { .. } = p.on_attempt_result(&mut r, shed(0), &mut rng) {
            }
        }
        let start = p.tokens().unwrap().tokens_milli();
        assert_eq!(start, 980_000);
        for _ in 0..10 {
            let mut r = OverloadRequest::new();
            let d = p.on_attempt_result(&mut r, AttemptOutcome::Success, &mut rng);
            assert_eq!(d, RetryDecision::Done);
        }
        // Exactly start + 1.0 (thousandths: no floating-point drift).
        assert_eq!(p.tokens().unwrap().tokens_milli(), start + 1000);
        assert_eq!(p.tokens().unwrap().tokens(), 981.0);
        // A success on a retry: -1 for the retry, then +1.1.
        let mut r = OverloadRequest::new();
        p.on_attempt_result(&mut r, shed(0), &mut rng);
        assert_eq!(p.tokens().unwrap().tokens_milli(), 980_000);
        p.on_attempt_result(&mut r, AttemptOutcome::Success, &mut rng);
        assert_eq!(p.tokens().unwrap().tokens_milli(), 981_100);
        // A retry failing with another error returns its token; a first attempt's
        // failure returns nothing.
        let mut r = OverloadRequest::new();
        p.on_attempt_result(&mut r, shed(0), &mut rng);
        assert_eq!(
            p.on_attempt_result(&mut r, AttemptOutcome::Failed, &mut rng),
            RetryDecision::GiveUp(GiveUp::NotOverload)
        );
        assert_eq!(p.tokens().unwrap().tokens_milli(), 981_100);
        let mut r = OverloadRequest::new();
        p.on_attempt_result(&mut r, AttemptOutcome::Failed, &mut rng);
        assert_eq!(p.tokens().unwrap().tokens_milli(), 981_100);
    }

    #[test]
    fn a_full_bucket_stays_full_and_an_empty_one_refuses() {
        let mut p = OverloadRetry::new(&OverloadRetryConfig {
            token_bucket: Some(RetryTokensConfig {
                capacity: 2,
                return_rate: 0.1,
            }),
            ..OverloadRetryConfig::token_bucket()
        });
        let mut rng = rng();
        let mut r = OverloadRequest::new();
        p.on_attempt_result(&mut r, AttemptOutcome::Success, &mut rng);
        assert_eq!(p.tokens().unwrap().tokens_milli(), 2000);
        let mut r = OverloadRequest::new();
        let decisions: Vec<_> = (0..3)
            .map(|_| p.on_attempt_result(&mut r, shed(0), &mut rng))
            .collect();
        assert!(matches!(decisions[0], RetryDecision::Retry { .. }));
        assert!(matches!(decisions[1], RetryDecision::Retry { .. }));
        assert_eq!(decisions[2], RetryDecision::GiveUp(GiveUp::NoToken));
        assert_eq!(p.tokens().unwrap().tokens_milli(), 0);
        // Nine first-try successes (0.9) still do not buy a retry; the tenth does.
        for _ in 0..9 {
            p.on_attempt_result(
                &mut OverloadRequest::new(),
                AttemptOutcome::Success,
                &mut rng,
            );
        }
        let mut r = OverloadRequest::new();
        assert_eq!(
            p.on_attempt_result(&mut r, shed(0), &mut rng),
            RetryDecision::GiveUp(GiveUp::NoToken)
        );
        p.on_attempt_result(
            &mut OverloadRequest::new(),
            AttemptOutcome::Success,
            &mut rng,
        );
        let mut r = OverloadRequest::new();
        assert!(matches!(
            p.on_attempt_result(&mut r, shed(0), &mut rng),
            RetryDecision::Retry { .. }
        ));
    }

    #[test]
    fn the_servers_that_shed_are_deprioritised_once_each() {
        let mut p = OverloadRetry::new(&OverloadRetryConfig::token_bucket());
        let mut rng = rng();
        let mut r = OverloadRequest::new();
        for server in [2, 0, 2] {
            p.on_attempt_result(&mut r, shed(server), &mut rng);
        }
        assert_eq!(r.deprioritized(), [2, 0]);
        // Switched off (later versions' default), nothing is deprioritised.
        let mut p = OverloadRetry::new(&OverloadRetryConfig {
            deprioritize: false,
            ..OverloadRetryConfig::token_bucket()
        });
        let mut r = OverloadRequest::new();
        p.on_attempt_result(&mut r, shed(2), &mut rng);
        assert!(r.deprioritized().is_empty());
    }

    /// Whether `draws` look uniform on `[0, bound)`: every draw in range, their mean
    /// within 4 standard errors of `bound / 2` (the standard error of the mean of n
    /// uniform draws is `bound / sqrt(12 n)`), and the count below `bound / 2` within 4
    /// binomial standard errors (`sqrt(n / 4)`) of `n / 2`. The test below makes 18
    /// such comparisons; at 4 standard errors each, a correct sampler fails any of them
    /// with probability under 0.12% (Bonferroni), and the seed is fixed.
    fn looks_uniform(draws: &[f64], bound: f64) -> Result<(), String> {
        let n = draws.len() as f64;
        if let Some(d) = draws.iter().find(|d| !(0.0..bound).contains(*d)) {
            return Err(format!("{d} outside [0, {bound})"));
        }
        let mean = draws.iter().sum::<f64>() / n;
        let se = bound / (12.0 * n).sqrt();
        if (mean - bound / 2.0).abs() > 4.0 * se {
            return Err(format!(
                "mean {mean}, expected {} +- {}",
                bound / 2.0,
                4.0 * se
            ));
        }
        let below = draws.iter().filter(|&&d| d < bound / 2.0).count() as f64;
        if (below - n / 2.0).abs() > 4.0 * (n / 4.0).sqrt() {
            return Err(format!("{below} of {n} below half the bound"));
        }
        Ok(())
    }

    #[test]
    fn backoff_draws_are_uniform_below_the_bound() {
        let c = OverloadRetryConfig::token_bucket();
        let mut rng = ChaCha8Rng::seed_from_u64(2026);
        let n = 20_000;
        for retry in 1..=9 {
            let bound = c.backoff_bound(retry, None).as_secs_f64();
            let draws: Vec<f64> = (0..n)
                .map(|_| c.draw_backoff(retry, None, &mut rng).as_secs_f64())
                .collect();
            looks_uniform(&draws, bound).unwrap_or_else(|e| panic!("retry {retry}: {e}"));
            // The check catches a sampler whose range is 5% short, or one skewed low.
            let short: Vec<f64> = draws.iter().map(|d| d * 0.95).collect();
            assert!(looks_uniform(&short, bound).is_err(), "retry {retry}");
            let skewed: Vec<f64> = draws.iter().map(|d| d * d / bound).collect();
            assert!(looks_uniform(&skewed, bound).is_err(), "retry {retry}");
        }
    }

    #[test]
    fn configs_validate() {
        assert!(OverloadRetryConfig::token_bucket().validate().is_ok());
        assert!(OverloadRetryConfig::adaptive_retries().validate().is_ok());
        let bad = [
            OverloadRetryConfig {
                max_retries: MAX_RETRIES_LIMIT + 1,
                ..OverloadRetryConfig::token_bucket()
            },
            OverloadRetryConfig {
                base_backoff: Duration::ZERO,
                ..OverloadRetryConfig::token_bucket()
            },
            OverloadRetryConfig {
                max_backoff: 99 * MS,
                ..OverloadRetryConfig::token_bucket()
            },
            OverloadRetryConfig {
                token_bucket: Some(RetryTokensConfig {
                    capacity: 0,
                    return_rate: 0.1,
                }),
                ..OverloadRetryConfig::token_bucket()
            },
            OverloadRetryConfig {
                token_bucket: Some(RetryTokensConfig {
                    capacity: 10,
                    return_rate: f64::NAN,
                }),
                ..OverloadRetryConfig::token_bucket()
            },
        ];
        for c in bad {
            assert!(c.validate().is_err(), "{c:?}");
        }
    }

    fn config_strategy() -> impl Strategy<Value = OverloadRetryConfig> {
        (
            0u32..=8,
            1u64..500,
            any::<bool>(),
            prop::option::of((1u32..20, 0u32..=1000)),
        )
            .prop_map(
                |(max_retries, base_ms, deprioritize, bucket)| OverloadRetryConfig {
                    max_retries,
                    base_backoff: Duration::from_millis(base_ms),
                    max_backoff: Duration::from_secs(10).max(Duration::from_millis(base_ms)),
                    deprioritize,
                    token_bucket: bucket.map(|(capacity, return_milli)| RetryTokensConfig {
                        capacity,
                        return_rate: f64::from(return_milli) / 1000.0,
                    }),
                },
            )
    }

    proptest! {
        #[test]
        fn attempts_tokens_and_backoffs_stay_within_the_rules(
            config in config_strategy(),
            seed: u64,
        ) {
            prop_assert!(config.validate().is_ok());
            let mut p = OverloadRetry::new(&config);
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            let capacity_milli = config.token_bucket.map(|b| u64::from(b.capacity) * 1000);
            for _ in 0..200 {
                let mut r = OverloadRequest::new();
                let shed_p = rng.gen_range(0.0..1.0);
                loop {
                    let before = p.tokens().map(RetryTokens::tokens_milli);
                    let outcome = match rng.gen_range(0.0..1.0) {
                        x if x < shed_p => shed(rng.gen_range(0..5)),
                        x if x < shed_p + (1.0 - shed_p) / 2.0 => AttemptOutcome::Success,
                        _ => AttemptOutcome::Failed,
                    };
                    let d = p.on_attempt_result(&mut r, outcome, &mut rng);
                    let after = p.tokens().map(RetryTokens::tokens_milli);
                    // Never more than max_retries + 1 attempts.
                    prop_assert!(r.attempts() <= config.max_retries + 1);
                    if let (Some(after), Some(cap)) = (after, capacity_milli) {
                        prop_assert!(after <= cap);
                    }
                    match d {
                        RetryDecision::Retry { backoff } => {
                            let overloaded = matches!(outcome, AttemptOutcome::Overloaded { .. });
                            prop_assert!(overloaded);
                            prop_assert!(backoff < config.backoff_bound(r.attempts(), None));
                            // Never a retry without a token: exactly one was taken.
                            if let (Some(b), Some(a)) = (before, after) {
                                prop_assert!(b >= 1000);
                                prop_assert_eq!(a, b - 1000);
                            }
                        }
                        RetryDecision::GiveUp(GiveUp::NoToken) => {
                            prop_assert!(before.is_some_and(|b| b < 1000));
                            break;
                        }
                        RetryDecision::GiveUp(GiveUp::RetriesExhausted) => {
                            prop_assert_eq!(r.attempts(), config.max_retries + 1);
                            break;
                        }
                        RetryDecision::Done | RetryDecision::GiveUp(GiveUp::NotOverload) => break,
                    }
                    prop_assert!(r.deprioritized().len() <= config.max_retries as usize);
                }
            }
        }

        #[test]
        fn same_seed_same_decisions(config in config_strategy(), seed: u64) {
            let run = || {
                let mut p = OverloadRetry::new(&config);
                let mut rng = ChaCha8Rng::seed_from_u64(seed);
                let mut decisions = vec![];
                for _ in 0..50 {
                    let mut r = OverloadRequest::new();
                    for server in 0.. {
                        let d = p.on_attempt_result(&mut r, shed(server), &mut rng);
                        decisions.push((d, r.deprioritized().to_vec()));
                        if !matches!(d, RetryDecision::Retry { .. }) {
                            break;
                        }
                    }
                }
                decisions
            };
            prop_assert_eq!(run(), run());
        }
    }
}
