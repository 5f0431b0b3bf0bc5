//! Heartbeat failure detectors: phi-accrual (Akka's normal model and Cassandra's
//! exponential model) and a plain fixed timeout.
//!
//! Hayashibara, Défago, Yared, Katayama, "The φ Accrual Failure Detector", SRDS 2004:
//! instead of a yes/no verdict the detector outputs a suspicion level
//! `phi = -log10(1 - F(t_now - t_last))`, where `F` is the CDF of heartbeat inter-arrival
//! times fitted to a sliding window; the caller suspects the peer when phi reaches a
//! threshold. [`PhiAccrual`] follows Akka's `PhiAccrualFailureDetector`
//! (akka-remote, `PhiAccrualFailureDetector.scala`) formula for formula; see its docs.
//!
//! All detectors are sans-IO: every method takes `now` (a [`Duration`] since an arbitrary
//! origin). `heartbeat` feeds an event in, `phi` / `is_available` ask for a verdict, and
//! `poll_timeout` returns the instant at which the verdict flips to "unavailable" if no
//! heartbeat arrives first, so a driver can arm one timer instead of polling.
//!
//! # Invariants
//!
//! - The interval window never holds more than `window` samples (at least one once a
//!   heartbeat has been seen), and its running sums equal the sums of its samples.
//! - phi is 0 before the first heartbeat (an unmonitored peer counts as available, as in
//!   Akka), never negative, and non-decreasing in silence (`now` growing with no
//!   heartbeat).
//! - `is_available(now) == (phi(now) < threshold)`; at `poll_timeout()` the peer is not
//!   available, and it is available until shortly before.

use core::time::Duration;
use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

/// Longest inter-arrival interval stored, in ns (about 78 hours). Longer ones are clamped
/// so that `window * interval^2` fits the exact `u128` sums for any window up to 2^31;
/// such an interval already means the peer was down, and Akka does not record intervals
/// that arrive after phi crossed the threshold anyway.
const MAX_INTERVAL_NS: u64 = 1 << 48;

/// Configuration of [`PhiAccrual`]. [`Default`] is Akka's: threshold 8, window 1000,
/// min std deviation 100 ms, acceptable heartbeat pause 3 s, first heartbeat estimate 1 s
/// (Akka's `akka.cluster.failure-detector` defaults, heartbeat interval 1 s).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct PhiAccrualConfig {
    /// Suspect the peer once phi reaches this (Akka 8.0; must be > 0).
    pub threshold: f64,
    /// Number of inter-arrival intervals kept (Akka `max-sample-size` 1000; >= 1).
    pub window: usize,
    /// Lower bound on the fitted standard deviation, so a perfectly regular heartbeat does
    /// not make phi jump on the first late millisecond (Akka 100 ms; must be > 0).
    pub min_std_deviation: Duration,
    /// Added to the fitted mean: pauses this long (GC, network blips) are expected and
    /// should not raise phi much (Akka `acceptable-heartbeat-pause` 3 s).
    pub acceptable_pause: Duration,
    /// Seeds the window before any interval is measured: the history starts as
    /// `[estimate - estimate/4, estimate + estimate/4]`, as Akka does (Akka: the heartbeat
    /// interval, 1 s; must be > 0).
    pub first_heartbeat_estimate: Duration,
}

impl Default for PhiAccrualConfig {
    fn default() -> Self {
        PhiAccrualConfig {
            threshold: 8.0,
            window: 1000,
            min_std_deviation: Duration::from_millis(100),
            acceptable_pause: Duration::from_secs(3),
            first_heartbeat_estimate: Duration::from_secs(1),
        }
    }
}

/// A [`Duration`] as whole nanoseconds, saturating at `u64::MAX`.
fn ns(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// `last + f64 nanoseconds`, rounded up, or `None` if not representable.
fn after(last: Duration, offset_ns: f64) -> Option<Duration> {
    if !offset_ns.is_finite() {
        return None;
    }
    // A negative offset (tiny thresholds) means "already": clamp to `last`.
    let offset = offset_ns.max(0.0).ceil();
    if offset >= u64::MAX as f64 {
        return None;
    }
    last.checked_add(Duration::from_nanos(offset as u64))
}

/// A bounded window of inter-arrival intervals with exact running sums.
#[derive(Clone, Debug, Default)]
struct IntervalWindow {
    capacity: usize,
    intervals_ns: VecDeque<u64>,
    /// Sum of `intervals_ns`; wrapping arithmetic is exact because the true sum fits.
    sum_ns: u128,
    /// Sum of squares of `intervals_ns`, likewise exact.
    sum_sq_ns2: u128,
}

impl IntervalWindow {
    fn new(capacity: usize) -> Self {
        IntervalWindow {
            capacity,
            // Grow on demand: a detector per peer must not cost `window` words up front.
            intervals_ns: VecDeque::new(),
            sum_ns: 0,
            sum_sq_ns2: 0,
        }
    }

    fn push(&mut self, interval_ns: u64) {
        let x = interval_ns.min(MAX_INTERVAL_NS);
        if self.intervals_ns.len() == self.capacity {
            if let Some(old) = self.intervals_ns.pop_front() {
                self.sum_ns = self.sum_ns.wrapping_sub(u128::from(old));
                self.sum_sq_ns2 = self
                    .sum_sq_ns2
                    .wrapping_sub(u128::from(old) * u128::from(old));
            }
        }
        self.intervals_ns.push_back(x);
        self.sum_ns = self.sum_ns.wrapping_add(u128::from(x));
        self.sum_sq_ns2 = self.sum_sq_ns2.wrapping_add(u128::from(x) * u128::from(x));
        debug_assert!(self.intervals_ns.len() <= self.capacity);
        debug_assert_eq!(
            self.sum_ns,
            self.intervals_ns
                .iter()
                .map(|&v| u128::from(v))
                .sum::<u128>(),
            "running sum out of step with the window"
        );
    }

    fn len(&self) -> usize {
        self.intervals_ns.len()
    }

    fn mean_ns(&self) -> f64 {
        self.sum_ns as f64 / self.len() as f64
    }

    /// Population standard deviation, as Akka's `HeartbeatHistory` computes it
    /// (`sqrt(E[x^2] - E[x]^2)`).
    fn std_deviation_ns(&self) -> f64 {
        let n = self.len() as f64;
        let mean = self.mean_ns();
        let variance = self.sum_sq_ns2 as f64 / n - mean * mean;
        // Rounding can make a zero variance slightly negative.
        variance.max(0.0).sqrt()
    }
}

/// Akka's logistic approximation's exponent: `g(y) = y * (1.5976 + 0.070566 * y^2)`,
/// with `F(y) ~= 1 / (1 + exp(-g(y)))` (Bowling, Khasawneh, Kaewkuekool, Cho, "A logistic
/// approximation to the cumulative normal distribution", JIEM 2009; used by Akka).
fn logistic_exponent(y: f64) -> f64 {
    y * (1.5976 + 0.070566 * y * y)
}

/// Akka's phi for a silence of `time_diff` against a normal distribution with `mean` and
/// `std_deviation` (all in the same unit): `phi = -log10(1 - F(y))`,
/// `y = (time_diff - mean) / std_deviation`, `F` the logistic approximation
/// `1 / (1 + exp(-y * (1.5976 + 0.070566 * y^2)))` (Akka `PhiAccrualFailureDetector.phi`).
///
/// Computed as `softplus(g(y)) / ln 10`, which is the same expression
/// (`1 - F = 1 / (1 + exp(g))`) written so that it neither overflows nor loses precision
/// in either tail: Akka's tests `phi(10, 0, 1) ~= 38` and `phi(-25, 0, 1) == 0` hold.
pub fn phi_normal_approx(time_diff: f64, mean: f64, std_deviation: f64) -> f64 {
    let g = logistic_exponent((time_diff - mean) / std_deviation);
    let softplus = if g > 0.0 {
        g + (-g).exp().ln_1p()
    } else {
        g.exp().ln_1p()
    };
    softplus / core::f64::consts::LN_10
}

/// The `y` at which [`phi_normal_approx`] equals `threshold`: solves
/// `g(y) = ln(10^threshold - 1)` (from `1 - F = 10^-threshold`). `g` is an odd,
/// strictly increasing cubic, so Cardano's formula gives the single real root.
fn y_at_phi(threshold: f64) -> f64 {
    const A: f64 = 0.070566;
    const B: f64 = 1.5976;
    let t_ln10 = threshold * core::f64::consts::LN_10;
    // ln(10^t - 1) = t ln10 + ln(1 - 10^-t), with 1 - 10^-t = -expm1(-t ln10): no
    // overflow for large thresholds, no cancellation for small ones.
    let k = t_ln10 + (-(-t_ln10).exp_m1()).ln();
    // y^3 + p y + q = 0 with p = B/A > 0, q = -k/A; solve for |k| and restore the sign.
    let p = B / A;
    let half_q = k.abs() / (2.0 * A);
    let u = (half_q + (half_q * half_q + (p / 3.0).powi(3)).sqrt()).cbrt();
    // This form (rather than the sum of two cube roots) avoids cancellation; it is
    // accurate to round-off (the tests check phi(y) against the threshold to 1e-12).
    let y = u - p / (3.0 * u);
    y.copysign(k)
}

/// The phi-accrual failure detector (Hayashibara et al. 2004) as Akka implements it.
///
/// - History: a window of up to `window` inter-arrival intervals, seeded on the first
///   heartbeat with `estimate ± estimate/4`. An interval is recorded only if the peer was
///   still available when its heartbeat arrived: the first heartbeat after a failure
///   would skew the statistics (Akka's rule).
/// - `phi(now)` uses mean `= mean(window) + acceptable_pause` and standard deviation
///   `= max(sd(window), min_std_deviation)` in [`phi_normal_approx`].
///
/// With Akka's defaults and steady 1 s heartbeats, phi reaches 8 after about 4.52 s of
/// silence (`y = 5.226` standard deviations of 100 ms past 1 s + 3 s).
#[derive(Clone, Debug)]
pub struct PhiAccrual {
    cfg: PhiAccrualConfig,
    window: IntervalWindow,
    last_heartbeat: Option<Duration>,
}

impl PhiAccrual {
    /// A detector that has seen no heartbeat.
    ///
    /// # Panics
    ///
    /// If the configuration is invalid (Akka's checks): `threshold` not > 0, `window`
    /// 0, or `min_std_deviation` / `first_heartbeat_estimate` zero.
    pub fn new(cfg: PhiAccrualConfig) -> Self {
        assert!(
            cfg.threshold > 0.0 && cfg.threshold.is_finite(),
            "PhiAccrualConfig.threshold must be > 0 and finite, got {}",
            cfg.threshold
        );
        assert!(cfg.window > 0, "PhiAccrualConfig.window must be >= 1");
        assert!(
            !cfg.min_std_deviation.is_zero(),
            "PhiAccrualConfig.min_std_deviation must be > 0"
        );
        assert!(
            !cfg.first_heartbeat_estimate.is_zero(),
            "PhiAccrualConfig.first_heartbeat_estimate must be > 0"
        );
        PhiAccrual {
            cfg,
            window: IntervalWindow::new(cfg.window),
            last_heartbeat: None,
        }
    }

    /// The configuration.
    pub fn config(&self) -> &PhiAccrualConfig {
        &self.cfg
    }

    /// When the last heartbeat arrived, if any.
    pub fn last_heartbeat(&self) -> Option<Duration> {
        self.last_heartbeat
    }

    /// Number of intervals in the window (0 before the first heartbeat).
    pub fn samples(&self) -> usize {
        self.window.len()
    }

    /// A heartbeat arrived at `now`. `now` should not go backwards; if it does, the
    /// interval counts as zero.
    pub fn heartbeat(&mut self, now: Duration) {
        match self.last_heartbeat {
            None => {
                let estimate_ns = ns(self.cfg.first_heartbeat_estimate);
                let sd_ns = estimate_ns / 4;
                self.window.push(estimate_ns - sd_ns);
                self.window.push(estimate_ns.saturating_add(sd_ns));
            }
            Some(last) => {
                debug_assert!(now >= last, "heartbeat time went backwards");
                if self.is_available(now) {
                    self.window.push(ns(now.saturating_sub(last)));
                }
            }
        }
        self.last_heartbeat = Some(now);
        debug_assert!(self.window.len() >= 1 && self.window.len() <= self.cfg.window);
    }

    /// Mean used by phi: window mean plus the acceptable pause, in ns.
    fn shifted_mean_ns(&self) -> f64 {
        self.window.mean_ns() + ns(self.cfg.acceptable_pause) as f64
    }

    /// Standard deviation used by phi: window sd, at least `min_std_deviation`, in ns.
    fn clamped_sd_ns(&self) -> f64 {
        self.window
            .std_deviation_ns()
            .max(ns(self.cfg.min_std_deviation) as f64)
    }

    /// The suspicion level at `now`: 0 before the first heartbeat.
    pub fn phi(&self, now: Duration) -> f64 {
        let Some(last) = self.last_heartbeat else {
            return 0.0;
        };
        let silence_ns = ns(now.saturating_sub(last)) as f64;
        let phi = phi_normal_approx(silence_ns, self.shifted_mean_ns(), self.clamped_sd_ns());
        debug_assert!(phi >= 0.0, "phi is never negative");
        phi
    }

    /// True while `phi(now) < threshold`.
    pub fn is_available(&self, now: Duration) -> bool {
        self.phi(now) < self.cfg.threshold
    }

    /// The earliest instant at which phi reaches the threshold if no heartbeat arrives
    /// first (to the nanosecond, up to floating-point rounding); `None` before the first
    /// heartbeat (an unmonitored peer is never suspected) or if not representable.
    pub fn poll_timeout(&self) -> Option<Duration> {
        let last = self.last_heartbeat?;
        let y = y_at_phi(self.cfg.threshold);
        let mut deadline = after(last, self.shifted_mean_ns() + y * self.clamped_sd_ns())?;
        // Rounding in the inversion may land a hair early; step forward (1 ns, 2 ns, ...)
        // until the verdict has really flipped, so a timer armed here always fires into an
        // "unavailable" state.
        let mut step = Duration::from_nanos(1);
        while self.is_available(deadline) {
            deadline = deadline.checked_add(step)?;
            step = step.saturating_mul(2);
        }
        Some(deadline)
    }
}

/// Configuration of [`ExponentialPhi`]. [`Default`]: threshold 8 (Cassandra's
/// `phi_convict_threshold`), window 1000, first estimate 1 s.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExponentialPhiConfig {
    /// Suspect the peer once phi reaches this (must be > 0).
    pub threshold: f64,
    /// Number of inter-arrival intervals kept (>= 1).
    pub window: usize,
    /// The window's single sample after the first heartbeat (must be > 0).
    pub first_heartbeat_estimate: Duration,
}

impl Default for ExponentialPhiConfig {
    fn default() -> Self {
        ExponentialPhiConfig {
            threshold: 8.0,
            window: 1000,
            first_heartbeat_estimate: Duration::from_secs(1),
        }
    }
}

/// Phi-accrual with Cassandra's exponential model (`FailureDetector.ArrivalWindow`):
/// inter-arrival times are taken as exponential with the window's mean, so
/// `1 - F(t) = exp(-t / mean)` and `phi = t / mean / ln 10`; it convicts when phi reaches
/// the threshold, i.e. after `threshold * ln 10 * mean` of silence (18.4 s for 8 and 1 s).
///
/// Intervals are recorded only while the peer was available when the heartbeat arrived,
/// as in [`PhiAccrual`], so a recovery does not inflate the mean.
#[derive(Clone, Debug)]
pub struct ExponentialPhi {
    cfg: ExponentialPhiConfig,
    window: IntervalWindow,
    last_heartbeat: Option<Duration>,
}

impl ExponentialPhi {
    /// A detector that has seen no heartbeat.
    ///
    /// # Panics
    ///
    /// If `threshold` is not > 0, `window` is 0 or `first_heartbeat_estimate` is zero.
    pub fn new(cfg: ExponentialPhiConfig) -> Self {
        assert!(
            cfg.threshold > 0.0 && cfg.threshold.is_finite(),
            "ExponentialPhiConfig.threshold must be > 0 and finite, got {}",
            cfg.threshold
        );
        assert!(cfg.window > 0, "ExponentialPhiConfig.window must be >= 1");
        assert!(
            !cfg.first_heartbeat_estimate.is_zero(),
            "ExponentialPhiConfig.first_heartbeat_estimate must be > 0"
        );
        ExponentialPhi {
            cfg,
            window: IntervalWindow::new(cfg.window),
            last_heartbeat: None,
        }
    }

    /// A heartbeat arrived at `now`.
    pub fn heartbeat(&mut self, now: Duration) {
        match self.last_heartbeat {
            None => self.window.push(ns(self.cfg.first_heartbeat_estimate)),
            Some(last) => {
                debug_assert!(now >= last, "heartbeat time went backwards");
                if self.is_available(now) {
                    self.window.push(ns(now.saturating_sub(last)));
                }
            }
        }
        self.last_heartbeat = Some(now);
        debug_assert!(self.window.len() >= 1 && self.window.len() <= self.cfg.window);
    }

    /// `t / mean / ln 10`, `t` the silence since the last heartbeat; 0 before the first.
    pub fn phi(&self, now: Duration) -> f64 {
        let Some(last) = self.last_heartbeat else {
            return 0.0;
        };
        // A window of zero intervals (heartbeats at one instant) would divide by zero;
        // one nanosecond keeps phi finite and maximally suspicious.
        let mean_ns = self.window.mean_ns().max(1.0);
        ns(now.saturating_sub(last)) as f64 / mean_ns / core::f64::consts::LN_10
    }

    /// True while `phi(now) < threshold`.
    pub fn is_available(&self, now: Duration) -> bool {
        self.phi(now) < self.cfg.threshold
    }

    /// When phi reaches the threshold if no heartbeat arrives first:
    /// `last + threshold * ln 10 * mean`. `None` before the first heartbeat.
    pub fn poll_timeout(&self) -> Option<Duration> {
        let last = self.last_heartbeat?;
        let mean_ns = self.window.mean_ns().max(1.0);
        let mut deadline = after(
            last,
            self.cfg.threshold * core::f64::consts::LN_10 * mean_ns,
        )?;
        let mut step = Duration::from_nanos(1);
        while self.is_available(deadline) {
            deadline = deadline.checked_add(step)?;
            step = step.saturating_mul(2);
        }
        Some(deadline)
    }
}

/// The classic fixed-timeout detector: the peer is suspected once `timeout` has passed
/// since its last heartbeat. Before the first heartbeat it counts as available, like the
/// phi detectors. Invariant: `is_available(now) == (now < poll_timeout())`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HeartbeatTimeout {
    timeout: Duration,
    last_heartbeat: Option<Duration>,
}

impl HeartbeatTimeout {
    /// A detector with the given timeout that has seen no heartbeat.
    pub fn new(timeout: Duration) -> Self {
        HeartbeatTimeout {
            timeout,
            last_heartbeat: None,
        }
    }

    /// A heartbeat arrived at `now` (a `now` earlier than the last heartbeat is ignored:
    /// time does not go backwards).
    pub fn heartbeat(&mut self, now: Duration) {
        self.last_heartbeat = Some(self.last_heartbeat.map_or(now, |last| last.max(now)));
    }

    /// True until `timeout` has passed since the last heartbeat (or if none came yet).
    pub fn is_available(&self, now: Duration) -> bool {
        match self.poll_timeout() {
            Some(deadline) => now < deadline,
            None => true,
        }
    }

    /// `last heartbeat + timeout` (saturating), or `None` before the first heartbeat.
    pub fn poll_timeout(&self) -> Option<Duration> {
        self.last_heartbeat
            .map(|last| last.saturating_add(self.timeout))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    /// Akka's formula typed in literally (the two-branch form from
    /// `PhiAccrualFailureDetector.phi`), to check the stable rewrite against.
    fn akka_literal(time_diff: f64, mean: f64, sd: f64) -> f64 {
        let y = (time_diff - mean) / sd;
        let e = (-y * (1.5976 + 0.070566 * y * y)).exp();
        if time_diff > mean {
            -(e / (1.0 + e)).log10()
        } else {
            -(1.0 - 1.0 / (1.0 + e)).log10()
        }
    }

    #[test]
    fn matches_akka_formula() {
        for &(t, m, s) in &[
            (0.0, 1000.0, 100.0),
            (900.0, 1000.0, 100.0),
            (1000.0, 1000.0, 100.0),
            (1234.0, 1000.0, 100.0),
            (1500.0, 1000.0, 100.0),
            (4520.0, 4000.0, 100.0),
            (3.0, 0.0, 1.0),
        ] {
            let ours = phi_normal_approx(t, m, s);
            let akka = akka_literal(t, m, s);
            assert!(
                (ours - akka).abs() <= 1e-9 * akka.abs().max(1.0),
                "{t} {m} {s}: {ours} vs {akka}"
            );
        }
    }

    /// Akka's AccrualFailureDetectorSpec: the approximated CDF against the normal table
    /// (`cdf(phi) = 1 - 10^-phi`), "realistic phi values" and the outliers test.
    #[test]
    fn akka_spec_values() {
        let cdf = |phi: f64| 1.0 - 10f64.powf(-phi);
        // Standard normal table: Phi(0)=0.5, Phi(0.6)=0.7257, Phi(1.5)=0.9332, Phi(2)=0.97725,
        // Phi(2.5)=0.99379, Phi(3.5)=0.99977, Phi(4)=0.99997.
        for &(x, expected, tol) in &[
            (0.0, 0.5, 0.001),
            (6.0, 0.7257, 0.001),
            (15.0, 0.9332, 0.001),
            (20.0, 0.97725, 0.001),
            (25.0, 0.99379, 0.001),
            (35.0, 0.99977, 0.001),
            (40.0, 0.99997, 0.0001),
        ] {
            let got = cdf(phi_normal_approx(x, 0.0, 10.0));
            assert!((got - expected).abs() <= tol, "x={x}: {got} vs {expected}");
        }
        assert!((cdf(phi_normal_approx(22.0, 20.0, 3.0)) - 0.7475).abs() <= 0.001);
        for &(t, expected) in &[
            (0.0, 0.0),
            (500.0, 0.1),
            (1000.0, 0.3),
            (1200.0, 1.6),
            (1400.0, 4.7),
            (1600.0, 10.8),
            (1700.0, 15.3),
        ] {
            let got = phi_normal_approx(t, 1000.0, 100.0);
            assert!((got - expected).abs() <= 0.1, "t={t}: {got} vs {expected}");
        }
        assert!(
            phi_normal_approx(1100.0, 1000.0, 500.0) < phi_normal_approx(1100.0, 1000.0, 100.0)
        );
        assert!((phi_normal_approx(10.0, 0.0, 1.0) - 38.0).abs() <= 1.0);
        assert_eq!(phi_normal_approx(-25.0, 0.0, 1.0), 0.0);
        assert!(phi_normal_approx(1e9, 0.0, 1.0).is_finite());
    }

    #[test]
    fn inverse_of_phi_is_accurate() {
        for &threshold in &[0.01, 0.2, 1.0, 3.0, 8.0, 16.0, 100.0] {
            let y = y_at_phi(threshold);
            let phi = phi_normal_approx(y, 0.0, 1.0);
            assert!(
                (phi - threshold).abs() <= 1e-12 * threshold.max(1.0),
                "{threshold}: {phi}"
            );
        }
        // Akka defaults: 8 is reached 5.22..5.23 standard deviations past the mean.
        assert!((5.22..5.23).contains(&y_at_phi(8.0)));
    }

    fn steady(detector: &mut PhiAccrual, beats: u64, every: Duration) -> Duration {
        let mut t = Duration::ZERO;
        for i in 0..beats {
            t = every * i as u32;
            detector.heartbeat(t);
        }
        t
    }

    /// REFERENCES: with Akka's defaults and steady 1 s heartbeats phi reaches 8 at about
    /// 4.5 s of silence. Tolerance: 4.3 s..4.7 s (our hand calculation gives 4.52 s).
    #[test]
    fn akka_defaults_cross_eight_at_about_four_and_a_half_seconds() {
        let mut d = PhiAccrual::new(PhiAccrualConfig::default());
        let last = steady(&mut d, 100, Duration::from_secs(1));
        // Scan at 1 ms resolution for the first silence with phi >= 8.
        let crossing = (0..10_000u64)
            .map(ms)
            .find(|&silence| d.phi(last + silence) >= 8.0)
            .expect("phi must reach 8 within 10 s");
        assert!(
            crossing >= ms(4_300) && crossing <= ms(4_700),
            "crossed at {crossing:?}"
        );
        assert!(d.is_available(last + crossing - ms(1)));
        assert!(!d.is_available(last + crossing));
        // poll_timeout agrees with the scan to within the scan's resolution.
        let deadline = d.poll_timeout().unwrap();
        assert!(
            deadline > last + crossing - ms(1) && deadline <= last + crossing,
            "{deadline:?}"
        );
        assert!(!d.is_available(deadline));
        assert!(d.is_available(deadline - Duration::from_micros(1)));
    }

    #[test]
    fn no_heartbeat_means_available_and_no_deadline() {
        let d = PhiAccrual::new(PhiAccrualConfig::default());
        assert_eq!(d.phi(Duration::from_secs(1_000)), 0.0);
        assert!(d.is_available(Duration::from_secs(1_000)));
        assert_eq!(d.poll_timeout(), None);
    }

    #[test]
    fn window_is_bounded_and_first_heartbeat_seeds_it() {
        let cfg = PhiAccrualConfig {
            window: 5,
            ..PhiAccrualConfig::default()
        };
        let mut d = PhiAccrual::new(cfg);
        d.heartbeat(Duration::ZERO);
        assert_eq!(d.samples(), 2, "seeded with estimate ± estimate/4");
        // Akka's seed [750 ms, 1250 ms]: mean 1 s, sd 250 ms (above the 100 ms floor).
        let expected = phi_normal_approx(4.5e9, 1e9 + 3e9, 2.5e8);
        assert!(
            (d.phi(ms(4_500)) - expected).abs() < 1e-9,
            "{}",
            d.phi(ms(4_500))
        );
        steady(&mut d, 50, ms(200));
        assert_eq!(d.samples(), 5);
    }

    #[test]
    fn heartbeat_after_suspicion_is_not_recorded() {
        let mut d = PhiAccrual::new(PhiAccrualConfig::default());
        let last = steady(&mut d, 10, Duration::from_secs(1));
        let samples = d.samples();
        let late = last + Duration::from_secs(60);
        assert!(!d.is_available(late));
        d.heartbeat(late);
        assert_eq!(
            d.samples(),
            samples,
            "a 60 s interval would skew the statistics"
        );
        assert!(d.is_available(late + ms(500)));
    }

    #[test]
    fn exponential_model_matches_cassandra_formula() {
        let mut d = ExponentialPhi::new(ExponentialPhiConfig::default());
        for i in 0..20u32 {
            d.heartbeat(Duration::from_secs(1) * i);
        }
        let last = Duration::from_secs(19);
        // Mean 1 s: phi = t / 1 s / ln 10.
        let phi = d.phi(last + Duration::from_secs(5));
        assert!(
            (phi - 5.0 / core::f64::consts::LN_10).abs() < 1e-12,
            "{phi}"
        );
        // Convicts at 8 * ln 10 = 18.42 s.
        let deadline = d.poll_timeout().unwrap() - last;
        assert!(
            (deadline.as_secs_f64() - 18.420_680_743_952_367).abs() < 1e-6,
            "{deadline:?}"
        );
        assert!(!d.is_available(last + deadline));
        assert!(d.is_available(last + deadline - Duration::from_micros(1)));
    }

    #[test]
    fn heartbeat_timeout_detector() {
        let mut d = HeartbeatTimeout::new(ms(500));
        assert!(d.is_available(Duration::from_secs(100)));
        assert_eq!(d.poll_timeout(), None);
        d.heartbeat(ms(1_000));
        assert!(d.is_available(ms(1_499)));
        assert!(!d.is_available(ms(1_500)));
        assert_eq!(d.poll_timeout(), Some(ms(1_500)));
        d.heartbeat(ms(1_600));
        assert!(d.is_available(ms(2_000)));
    }

    proptest! {
        /// phi never decreases while no heartbeat arrives, whatever the history.
        #[test]
        fn phi_is_monotone_in_silence(
            intervals_ms in prop::collection::vec(1u64..3_000, 0..40),
            window in 1usize..50,
            pause_ms in 0u64..5_000,
            min_sd_ms in 1u64..500,
            probes_ms in prop::collection::vec(0u64..60_000, 2..20),
        ) {
            let cfg = PhiAccrualConfig {
                window,
                acceptable_pause: ms(pause_ms),
                min_std_deviation: ms(min_sd_ms),
                ..PhiAccrualConfig::default()
            };
            let mut d = PhiAccrual::new(cfg);
            let mut t = Duration::ZERO;
            d.heartbeat(t);
            for i in intervals_ms {
                t += ms(i);
                d.heartbeat(t);
            }
            prop_assert!(d.samples() <= window);
            let mut probes = probes_ms;
            probes.sort_unstable();
            let mut prev = 0.0f64;
            for p in probes {
                let phi = d.phi(t + ms(p));
                prop_assert!(phi >= prev, "phi fell from {} to {} at +{} ms", prev, phi, p);
                prop_assert!(phi >= 0.0);
                prev = phi;
            }
        }

        /// poll_timeout is exactly where availability flips, for any threshold.
        #[test]
        fn poll_timeout_is_the_flip(
            threshold in 0.01f64..30.0,
            intervals_ms in prop::collection::vec(100u64..3_000, 1..30),
        ) {
            let cfg = PhiAccrualConfig { threshold, ..PhiAccrualConfig::default() };
            let mut d = PhiAccrual::new(cfg);
            let mut t = Duration::ZERO;
            d.heartbeat(t);
            for i in intervals_ms {
                t += ms(i);
                d.heartbeat(t);
            }
            let deadline = d.poll_timeout().unwrap();
            prop_assert!(!d.is_available(deadline));
            if deadline > t + Duration::from_micros(1) {
                prop_assert!(d.is_available(deadline - Duration::from_micros(1)));
            }
        }
    }
}
