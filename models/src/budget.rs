//! Retry budgets: limits on how many retries a client may send, so that retries cannot
//! multiply load during an outage (Amazon Builders' Library, "Timeouts, retries, and
//! backoff with jitter": retrying at each of 5 layers with 3 tries is 3^5 = 243x load).
//!
//! Two published rules (REFERENCES.md, "Retry limits"):
//!
//! - [`TokenBucket`]: the AWS SDK retry quota. The bucket starts full at `capacity`
//!   (500); a retry withdraws `retry_cost` (5), a retry after a timeout
//!   `timeout_retry_cost` (10); a retry is refused when the bucket holds less than its
//!   cost. A first-try success refunds `success_refund` (1); a success after retries
//!   refunds the cost of the retry that succeeded (botocore's `RetryQuotaChecker`).
//!   Refunds never raise the bucket above `capacity`.
//! - [`RatioBudget`]: tower's `TpsBudget::new(ttl, min_per_sec, retry_percent)`,
//!   default (10 s, 10, 0.2). Within a sliding window of `ttl`, a retry is allowed
//!   while, counting it, `retries <= min_per_s * ttl_s + retry_ratio * requests`.
//!
//! Invariants (checked with `debug_assert!`, tested by proptest):
//! - a token bucket holds between 0 and `capacity` tokens (it is unsigned; a withdrawal
//!   happens only when the tokens cover it);
//! - a ratio budget never grants a retry that would make the retries in its window exceed
//!   `min_per_s * ttl_s + retry_ratio * requests`, and grants every retry that would not.
//!
//! All methods are allocation-free; a [`RetryBudget`] is at most ~120 bytes, sized for
//! one per logical client.

use core::time::Duration;

use serde::{Deserialize, Serialize};

/// Why a retry is being made; the AWS quota charges timeouts more.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RetryKind {
    /// The attempt failed with an error response.
    Error,
    /// The attempt timed out.
    Timeout,
}

/// The AWS SDK retry quota ("standard" retry mode).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenBucketConfig {
    /// Tokens in a full bucket; the bucket starts full. AWS: 500.
    pub capacity: u32,
    /// Tokens a retry after an error costs. AWS: 5.
    pub retry_cost: u32,
    /// Tokens a retry after a timeout costs. AWS: 10.
    pub timeout_retry_cost: u32,
    /// Tokens a first-try success returns. AWS: 1.
    pub success_refund: u32,
}

impl Default for TokenBucketConfig {
    /// The AWS SDK defaults: 500 / 5 / 10 / 1.
    fn default() -> Self {
        Self {
            capacity: 500,
            retry_cost: 5,
            timeout_retry_cost: 10,
            success_refund: 1,
        }
    }
}

impl TokenBucketConfig {
    /// Checks the configuration, so a scenario can be rejected before a run.
    pub fn validate(&self) -> Result<(), String> {
        if self.retry_cost == 0 || self.timeout_retry_cost == 0 {
            // A free retry would make the bucket unlimited; say so with `Unlimited`.
            return Err("retry_cost and timeout_retry_cost must be at least 1".into());
        }
        Ok(())
    }

    /// Tokens a retry of this kind withdraws.
    pub fn cost(&self, kind: RetryKind) -> u32 {
        match kind {
            RetryKind::Error => self.retry_cost,
            RetryKind::Timeout => self.timeout_retry_cost,
        }
    }
}

/// tower's `TpsBudget` parameters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RatioBudgetConfig {
    /// How long a request or retry counts against the budget; 1 s to 60 s (tower's, after
    /// Finagle's, bounds). Its whole seconds scale the reserve, as in tower.
    pub ttl: Duration,
    /// Retries per second allowed with no requests at all (the reserve).
    pub min_per_s: u32,
    /// Extra retries allowed per request in the window (0.2 = 20%); 0 to 1000, resolved
    /// to millionths.
    pub retry_ratio: f64,
}

impl Default for RatioBudgetConfig {
    /// tower's `TpsBudget::default()`: (10 s, 10, 0.2).
    fn default() -> Self {
        Self {
            ttl: Duration::from_secs(10),
            min_per_s: 10,
            retry_ratio: 0.2,
        }
    }
}

impl RatioBudgetConfig {
    /// Checks the configuration, so a scenario can be rejected before a run.
    pub fn validate(&self) -> Result<(), String> {
        if self.ttl < Duration::from_secs(1) || self.ttl > Duration::from_secs(60) {
            return Err(format!(
                "ttl must be between 1s and 60s, got {:?}",
                self.ttl
            ));
        }
        if !(self.retry_ratio.is_finite() && (0.0..=1000.0).contains(&self.retry_ratio)) {
            return Err(format!(
                "retry_ratio must be between 0 and 1000, got {}",
                self.retry_ratio
            ));
        }
        Ok(())
    }
}

/// Which retry budget a client uses, as configuration.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RetryBudgetConfig {
    /// No budget: every retry the backoff policy allows is made.
    Unlimited,
    /// The AWS SDK retry quota.
    TokenBucket(TokenBucketConfig),
    /// tower's `TpsBudget`.
    Ratio(RatioBudgetConfig),
}

impl RetryBudgetConfig {
    /// Checks the configuration, so a scenario can be rejected before a run.
    pub fn validate(&self) -> Result<(), String> {
        match self {
            Self::Unlimited => Ok(()),
            Self::TokenBucket(c) => c.validate(),
            Self::Ratio(c) => c.validate(),
        }
    }
}

/// Per-client retry budget state.
#[derive(Clone, Debug, PartialEq)]
pub enum RetryBudget {
    /// Never refuses.
    Unlimited,
    /// The AWS SDK retry quota.
    TokenBucket(TokenBucket),
    /// tower's `TpsBudget`.
    Ratio(RatioBudget),
}

impl RetryBudget {
    /// A fresh budget (a full bucket, an empty window).
    pub fn new(config: &RetryBudgetConfig) -> Self {
        match config {
            RetryBudgetConfig::Unlimited => Self::Unlimited,
            RetryBudgetConfig::TokenBucket(c) => Self::TokenBucket(TokenBucket::new(c)),
            RetryBudgetConfig::Ratio(c) => Self::Ratio(RatioBudget::new(c)),
        }
    }

    /// An original (first-try) request was issued.
    pub fn on_request(&mut self, now: Duration) {
        match self {
            Self::Unlimited | Self::TokenBucket(_) => {}
            Self::Ratio(b) => b.on_request(now),
        }
    }

    /// Withdraws for a retry; `false` means refused (and nothing was withdrawn).
    pub fn try_retry(&mut self, now: Duration, kind: RetryKind) -> bool {
        match self {
            Self::Unlimited => true,
            Self::TokenBucket(b) => b.try_retry(kind),
            Self::Ratio(b) => b.try_retry(now),
        }
    }

    /// A logical request succeeded; `was_retry` if the successful attempt was a retry.
    ///
    /// This cannot tell which kind of retry succeeded, so it refunds the error-retry cost
    /// (the smaller charge with AWS defaults). Use
    /// [`on_success_after`](Self::on_success_after) for exact AWS accounting after
    /// timeout retries.
    pub fn on_success(&mut self, now: Duration, was_retry: bool) {
        self.on_success_after(now, was_retry.then_some(RetryKind::Error));
    }

    /// A logical request succeeded; `last_retry` is the kind of the retry whose attempt
    /// succeeded, or `None` for a first-try success.
    pub fn on_success_after(&mut self, _now: Duration, last_retry: Option<RetryKind>) {
        match self {
            Self::Unlimited | Self::Ratio(_) => {}
            Self::TokenBucket(b) => b.on_success(last_retry),
        }
    }
}

/// The AWS SDK retry quota: a bucket of tokens that retries spend and successes refill.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenBucket {
    config: TokenBucketConfig,
    tokens: u32,
}

impl TokenBucket {
    /// A full bucket.
    pub fn new(config: &TokenBucketConfig) -> Self {
        debug_assert!(
            config.validate().is_ok(),
            "invalid token bucket: {config:?}"
        );
        Self {
            tokens: config.capacity,
            config: *config,
        }
    }

    /// Tokens currently in the bucket.
    pub fn tokens(&self) -> u32 {
        self.tokens
    }

    /// The configuration this bucket was built from.
    pub fn config(&self) -> &TokenBucketConfig {
        &self.config
    }

    /// Withdraws the cost of a retry of this kind if the bucket covers it.
    pub fn try_retry(&mut self, kind: RetryKind) -> bool {
        let cost = self.config.cost(kind);
        let granted = match self.tokens.checked_sub(cost) {
            Some(left) => {
                self.tokens = left;
                true
            }
            None => false,
        };
        debug_assert!(self.tokens <= self.config.capacity);
        granted
    }

    /// Refunds after a success: `success_refund` for a first try (`None`), else the cost
    /// of the retry that succeeded. Never above capacity.
    pub fn on_success(&mut self, last_retry: Option<RetryKind>) {
        let refund = match last_retry {
            None => self.config.success_refund,
            Some(kind) => self.config.cost(kind),
        };
        self.tokens = self.tokens.saturating_add(refund).min(self.config.capacity);
    }
}

/// Slots in a ratio budget's window, as in tower (which splits `ttl` into 10).
const RATIO_SLOTS: usize = 10;
/// `retry_ratio` is held in millionths so that the admission test is exact integer math.
const PPM: u128 = 1_000_000;

/// tower's `TpsBudget`: retries limited to a reserve plus a ratio of recent requests.
///
/// The window is 10 slots of `ttl / 10`, aligned to multiples of the slot length since
/// the time origin; it holds the current slot and the 9 before it, so an event counts
/// for between `0.9 ttl` and `ttl` (tower rotates its 10 slots the same way).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RatioBudget {
    slot_ns: u64,
    /// `min_per_s * ttl_s` (tower's reserve, in retries).
    reserve: u64,
    /// `retry_ratio` in millionths.
    ratio_ppm: u64,
    /// Index (since the origin) of the newest slot.
    head: u64,
    requests: [u32; RATIO_SLOTS],
    retries: [u32; RATIO_SLOTS],
}

impl RatioBudget {
    /// An empty window.
    pub fn new(config: &RatioBudgetConfig) -> Self {
        debug_assert!(
            config.validate().is_ok(),
            "invalid ratio budget: {config:?}"
        );
        let slot_ns = (config.ttl.as_nanos() / RATIO_SLOTS as u128).max(1);
        Self {
            slot_ns: u64::try_from(slot_ns).unwrap_or(u64::MAX),
            reserve: u64::from(config.min_per_s) * config.ttl.as_secs(),
            ratio_ppm: (config.retry_ratio * PPM as f64).round() as u64,
            head: 0,
            requests: [0; RATIO_SLOTS],
            retries: [0; RATIO_SLOTS],
        }
    }

    /// An original request: one deposit in the current slot.
    pub fn on_request(&mut self, now: Duration) {
        let i = self.advance(now);
        self.requests[i] = self.requests[i].saturating_add(1);
    }

    /// Grants a retry if, counting it, the window's retries stay within the rule.
    pub fn try_retry(&mut self, now: Duration) -> bool {
        let i = self.advance(now);
        // The window may already be over the rule: expiring requests can shrink the limit
        // below retries granted since. Then nothing more is granted until it recovers.
        let (requests, retries) = self.window_counts();
        if !self.within_rule(requests, retries + 1) {
            return false;
        }
        self.retries[i] = self.retries[i].saturating_add(1);
        true
    }

    /// Original requests and retries in the window ending at `now`.
    pub fn counts(&mut self, now: Duration) -> (u64, u64) {
        self.advance(now);
        self.window_counts()
    }

    /// The most retries the window may hold given `requests` original requests in it.
    pub fn limit(&self, requests: u64) -> u64 {
        self.reserve + (u128::from(self.ratio_ppm) * u128::from(requests) / PPM) as u64
    }

    fn within_rule(&self, requests: u64, retries: u64) -> bool {
        u128::from(retries) * PPM
            <= u128::from(self.reserve) * PPM + u128::from(self.ratio_ppm) * u128::from(requests)
    }

    fn window_counts(&self) -> (u64, u64) {
        let requests = self.requests.iter().map(|&n| u64::from(n)).sum();
        let retries = self.retries.iter().map(|&n| u64::from(n)).sum();
        (requests, retries)
    }

    /// Rotates the window to `now` and returns the current slot's index.
    fn advance(&mut self, now: Duration) -> usize {
        let epoch = u64::try_from(now.as_nanos() / u128::from(self.slot_ns)).unwrap_or(u64::MAX);
        debug_assert!(epoch >= self.head, "time went backwards: {now:?}");
        // A late caller is charged to the newest slot rather than to a slot already
        // recycled for a later time.
        if epoch > self.head {
            let stale = (epoch - self.head).min(RATIO_SLOTS as u64);
            for k in 1..=stale {
                let i = ((self.head + k) % RATIO_SLOTS as u64) as usize;
                self.requests[i] = 0;
                self.retries[i] = 0;
            }
            self.head = epoch;
        }
        (self.head % RATIO_SLOTS as u64) as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    const S: Duration = Duration::from_secs(1);

    #[test]
    fn aws_bucket_allows_100_error_retries() {
        let mut b = RetryBudget::new(&RetryBudgetConfig::TokenBucket(Default::default()));
        // 500 tokens / 5 per retry.
        let granted = (0..1000)
            .take_while(|_| b.try_retry(S, RetryKind::Error))
            .count();
        assert_eq!(granted, 100);
        assert!(!b.try_retry(S, RetryKind::Error));
    }

    #[test]
    fn aws_bucket_allows_50_timeout_retries() {
        let mut b = TokenBucket::new(&TokenBucketConfig::default());
        // 500 tokens / 10 per timeout retry.
        let granted = (0..1000)
            .take_while(|_| b.try_retry(RetryKind::Timeout))
            .count();
        assert_eq!(granted, 50);
        assert_eq!(b.tokens(), 0);
    }

    #[test]
    fn aws_refunds() {
        let mut b = TokenBucket::new(&TokenBucketConfig::default());
        // A first-try success on a full bucket does not overfill it.
        b.on_success(None);
        assert_eq!(b.tokens(), 500);
        assert!(b.try_retry(RetryKind::Timeout));
        assert!(b.try_retry(RetryKind::Error));
        assert_eq!(b.tokens(), 485);
        b.on_success(Some(RetryKind::Timeout));
        assert_eq!(b.tokens(), 495);
        b.on_success(None);
        assert_eq!(b.tokens(), 496);
        b.on_success(Some(RetryKind::Error));
        assert_eq!(b.tokens(), 500);
        // The engine-facing entry point refunds the error cost for a retried success.
        let mut r = RetryBudget::TokenBucket(b);
        assert!(r.try_retry(S, RetryKind::Timeout));
        r.on_success(S, true);
        assert!(matches!(&r, RetryBudget::TokenBucket(b) if b.tokens() == 495));
    }

    #[test]
    fn tower_default_reserve_is_100_retries_per_window() {
        let mut b = RetryBudget::new(&RetryBudgetConfig::Ratio(Default::default()));
        // No requests at all: min_per_s * ttl_s = 10 * 10 = 100 retries.
        let granted = (0..1000)
            .take_while(|_| b.try_retry(S, RetryKind::Error))
            .count();
        assert_eq!(granted, 100);
        // Each request adds 0.2 retries: 5 requests buy one more.
        for _ in 0..4 {
            b.on_request(S);
        }
        assert!(!b.try_retry(S, RetryKind::Error));
        b.on_request(S);
        assert!(b.try_retry(S, RetryKind::Error));
        assert!(!b.try_retry(S, RetryKind::Error));
    }

    #[test]
    fn tower_default_adds_twenty_percent_of_requests() {
        let mut b = RatioBudget::new(&RatioBudgetConfig::default());
        for _ in 0..500 {
            b.on_request(S);
        }
        // 100 + 0.2 * 500 = 200.
        let granted = (0..1000).take_while(|_| b.try_retry(S)).count();
        assert_eq!(granted, 200);
    }

    #[test]
    fn tower_window_expires_after_ttl() {
        let mut b = RatioBudget::new(&RatioBudgetConfig::default());
        let granted = (0..1000).take_while(|_| b.try_retry(S)).count();
        assert_eq!(granted, 100);
        // Slots are 1 s; at 10.999 s the 1 s slot is still the oldest of the 10.
        assert!(!b.try_retry(Duration::from_millis(10_999)));
        // At 11 s it has rotated out: a fresh reserve.
        let granted = (0..1000)
            .take_while(|_| b.try_retry(Duration::from_secs(11)))
            .count();
        assert_eq!(granted, 100);
    }

    #[test]
    fn configs_validate() {
        assert!(RetryBudgetConfig::TokenBucket(Default::default())
            .validate()
            .is_ok());
        assert!(RetryBudgetConfig::Ratio(Default::default())
            .validate()
            .is_ok());
        let zero_cost = TokenBucketConfig {
            retry_cost: 0,
            ..Default::default()
        };
        assert!(zero_cost.validate().is_err());
        for ttl_ms in [999, 60_001] {
            let c = RatioBudgetConfig {
                ttl: Duration::from_millis(ttl_ms),
                ..Default::default()
            };
            assert!(c.validate().is_err(), "{ttl_ms}");
        }
        for ratio in [-0.1, f64::NAN, 1000.5] {
            let c = RatioBudgetConfig {
                retry_ratio: ratio,
                ..Default::default()
            };
            assert!(c.validate().is_err(), "{ratio}");
        }
    }

    #[derive(Debug, Clone, Copy)]
    enum Op {
        Request,
        Retry(RetryKind),
        Success(Option<RetryKind>),
    }

    fn random_op(rng: &mut ChaCha8Rng) -> Op {
        let kind = if rng.gen_bool(0.3) {
            RetryKind::Timeout
        } else {
            RetryKind::Error
        };
        match rng.gen_range(0..10) {
            0..=3 => Op::Request,
            4..=7 => Op::Retry(kind),
            8 => Op::Success(None),
            _ => Op::Success(Some(kind)),
        }
    }

    proptest! {
        #[test]
        fn token_bucket_never_negative_or_over_spent(
            seed: u64,
            capacity in 0u32..2000,
            retry_cost in 1u32..20,
            timeout_retry_cost in 1u32..40,
            success_refund in 0u32..5,
        ) {
            let config = TokenBucketConfig { capacity, retry_cost, timeout_retry_cost, success_refund };
            let mut b = RetryBudget::new(&RetryBudgetConfig::TokenBucket(config));
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            let mut now = Duration::ZERO;
            let (mut spent, mut refunds_offered) = (0u64, 0u64);
            let mut granted_without_refunds = 0u64;
            for _ in 0..2000 {
                now += Duration::from_millis(rng.gen_range(0..500));
                let before = match &b { RetryBudget::TokenBucket(t) => t.tokens(), _ => unreachable!() };
                match random_op(&mut rng) {
                    Op::Request => b.on_request(now),
                    Op::Retry(kind) => {
                        let cost = config.cost(kind);
                        let ok = b.try_retry(now, kind);
                        // Refused exactly when the tokens do not cover the cost.
                        prop_assert_eq!(ok, before >= cost);
                        if ok {
                            spent += u64::from(cost);
                            if refunds_offered == 0 {
                                granted_without_refunds += 1;
                            }
                        }
                    }
                    Op::Success(last) => {
                        refunds_offered += u64::from(match last {
                            None => success_refund,
                            Some(k) => config.cost(k),
                        });
                        b.on_success_after(now, last);
                    }
                }
                let tokens = match &b { RetryBudget::TokenBucket(t) => t.tokens(), _ => unreachable!() };
                prop_assert!(tokens <= capacity);
                // Conservation: nothing is spent that was not in the bucket or refunded.
                prop_assert!(spent <= u64::from(capacity) + refunds_offered);
                prop_assert!(u64::from(tokens) + spent <= u64::from(capacity) + refunds_offered);
            }
            // Before any refund, retries are bounded by capacity over the cheaper cost.
            prop_assert!(granted_without_refunds <= u64::from(capacity / retry_cost.min(timeout_retry_cost)));
        }

        #[test]
        fn ratio_budget_grants_exactly_the_rule(
            seed: u64,
            ttl_ms in 1000u64..=60_000,
            min_per_s in 0u32..20,
            ratio_ppm in 0u64..=2_000_000,
            max_step_ms in 1u64..3000,
        ) {
            let config = RatioBudgetConfig {
                ttl: Duration::from_millis(ttl_ms),
                min_per_s,
                retry_ratio: ratio_ppm as f64 / 1e6,
            };
            prop_assert!(config.validate().is_ok());
            let mut b = RetryBudget::new(&RetryBudgetConfig::Ratio(config.clone()));
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            let mut now = Duration::ZERO;
            // The rule, restated on an event log: slots of ttl/10 aligned to the origin,
            // the window being the current slot and the 9 before it.
            let slot_ns = u128::from(ttl_ms) * 1_000_000 / 10;
            let reserve = u64::from(min_per_s) * (ttl_ms / 1000);
            // (slot, is_retry) of the events still in the window.
            let mut log: std::collections::VecDeque<(u128, bool)> = Default::default();
            for _ in 0..3000 {
                now += Duration::from_nanos(rng.gen_range(0..max_step_ms * 1_000_000));
                let slot = now.as_nanos() / slot_ns;
                while log.front().is_some_and(|&(s, _)| s + 10 <= slot) {
                    log.pop_front();
                }
                match random_op(&mut rng) {
                    Op::Request => {
                        b.on_request(now);
                        log.push_back((slot, false));
                    }
                    Op::Retry(kind) => {
                        let retries = log.iter().filter(|&&(_, r)| r).count() as u64;
                        let requests = log.len() as u64 - retries;
                        // Allowed iff retries + 1 <= reserve + ratio * requests, exactly.
                        let allowed = u128::from(retries + 1) * 1_000_000
                            <= u128::from(reserve) * 1_000_000 + u128::from(ratio_ppm) * u128::from(requests);
                        let ok = b.try_retry(now, kind);
                        prop_assert_eq!(ok, allowed, "retries {} requests {}", retries, requests);
                        if ok {
                            log.push_back((slot, true));
                            // And in floating point, with a hair of slack for rounding.
                            let limit = reserve as f64 + config.retry_ratio * requests as f64;
                            prop_assert!((retries + 1) as f64 <= limit + 1e-9);
                        }
                    }
                    Op::Success(last) => b.on_success_after(now, last),
                }
            }
        }
    }
}
