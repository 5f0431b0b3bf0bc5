//! Circuit breaker: stop calling a dependency that keeps failing, probe it after a
//! while, resume when it has recovered.
//!
//! States and moves (resilience4j semantics, REFERENCES.md "Circuit breaker"):
//!
//! - **Closed**: every call is admitted; outcomes feed the [`TripRule`]. When the rule
//!   fires the breaker trips to **Open**.
//! - **Open**: every call is rejected for the open duration (`open_for`, or longer with
//!   [`OpenGrowth`]). Then it moves to **HalfOpen**, either lazily on the next
//!   [`try_acquire`](CircuitBreaker::try_acquire) ([`HalfOpenTransition::Lazy`], the
//!   resilience4j default) or at the deadline through
//!   [`poll_timeout`](CircuitBreaker::poll_timeout) /
//!   [`handle_timeout`](CircuitBreaker::handle_timeout)
//!   ([`HalfOpenTransition::Automatic`]).
//! - **HalfOpen**: exactly `half_open_probes` probe calls are admitted, the rest rejected.
//!   For the window rules (resilience4j), once every probe has reported, the breaker opens
//!   again if the probes' failure rate (or slow-call rate) is `>=` its threshold, else it
//!   closes. For the consecutive-failure and EWMA rules (seed document), any probe failure
//!   reopens at once and `half_open_probes` successes close it (the seed document's
//!   success threshold, 2).
//!
//! Trip rules:
//! - [`TripRule::ConsecutiveFailures`]: trips on the `threshold`-th failure in a row
//!   (seed document: 5).
//! - [`TripRule::Ewma`]: `e = (1 - alpha) e + alpha x`, `x` = 1 for a failure and 0 for a
//!   success; trips when `e >= threshold`. `e` starts at 0, and returns to 0 whenever
//!   the breaker trips or closes: a new breaker, like one that has just closed after
//!   its probes succeeded, has seen no failure, and starting anywhere above 0 would
//!   charge it failures it never saw (at 0.5 the seed document's breaker would trip on
//!   its very first failure). So it cannot trip before failure `ceil(ln(1 - threshold)
//!   / ln(1 - alpha))`, reached with failures only: the 7th for the seed document's
//!   alpha 0.1, threshold 0.5 (`1 - 0.9^7` = 0.522); any success in between delays it.
//! - [`TripRule::CountWindow`] / [`TripRule::TimeWindow`]: resilience4j's COUNT_BASED
//!   (last `size` calls) and TIME_BASED (per-second buckets over `window`) sliding
//!   windows. No decision until the window holds `min_calls` calls; then trips when the
//!   failure rate is `>= failure_rate` or the slow-call rate is `>= slow_call_rate`.
//!
//! A success slower than `slow_call_duration` (strictly, as in resilience4j) is a slow
//! call; for the window rules it counts toward the slow-call rate, and for the
//! consecutive and EWMA rules (which have no slow-call rate) it counts as a failure.
//!
//! Every state change bumps a generation stamped into each [`Permit`]. **Outcomes of
//! calls admitted before the latest state change are ignored**: they describe the
//! dependency before the breaker last changed its mind, and counting them would let
//! calls admitted while closed act as extra probes in half-open (breaking the exact probe
//! count) or trip a breaker that has just closed on stale failures. A permit that is
//! never recorded leaves its probe slot taken, so the engine must record every admitted
//! call (a timeout is a [`CallOutcome::Failure`]).
//!
//! Invariants (checked with `debug_assert!`): half-open never admits more than
//! `half_open_probes` probes, nor counts more outcomes than it admitted; a window rule
//! never trips with fewer than `min_calls` calls in its window; window counters equal
//! the calls they hold; the open duration lies in `[open_for, max_open]`.
//!
//! Memory: the configuration is held behind an [`Arc`], so 100,000 clients can share
//! one; per-instance state is 64 bytes (64-bit), one cache line, plus the window's
//! buffer (2 bits per call for `CountWindow`, 12 bytes per second for `TimeWindow`) and,
//! from the first trip on, about 100 bytes for the open and half-open state and the
//! queue of unpolled transitions. `try_acquire` and `record` do not allocate, except to
//! queue a transition (and on the first trip).

use core::time::Duration;
use std::collections::VecDeque;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

/// The largest `CountWindow::size` accepted, to refuse absurd scenarios before a run.
pub const MAX_WINDOW_CALLS: u32 = 1_000_000;
/// The largest `TimeWindow::window` accepted, in seconds.
pub const MAX_WINDOW_SECONDS: u64 = 3_600;
/// Transitions kept for [`CircuitBreaker::poll_transition`]; older ones are dropped
/// (and counted) if the caller never polls, so memory stays bounded.
pub const MAX_PENDING_TRANSITIONS: usize = 64;

/// When a closed breaker trips.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum TripRule {
    /// Trips on the `threshold`-th failure in a row (seed document: 5).
    ConsecutiveFailures {
        /// Failures in a row that trip; at least 1.
        threshold: u32,
    },
    /// Trips when the EWMA of the failure indicator reaches `threshold` (seed document:
    /// alpha 0.1, threshold 0.5).
    Ewma {
        /// Weight of the newest outcome, in (0, 1].
        alpha: f64,
        /// Trip level, in (0, 1).
        threshold: f64,
    },
    /// resilience4j COUNT_BASED window over the last `size` calls (default 100 / 100 /
    /// 0.5 / 1.0).
    CountWindow {
        /// Calls in the window.
        size: u32,
        /// No decision until the window holds this many calls; at most `size`.
        min_calls: u32,
        /// Trips when failures / calls `>=` this, in (0, 1].
        failure_rate: f64,
        /// Trips when slow calls / calls `>=` this, in (0, 1].
        slow_call_rate: f64,
    },
    /// resilience4j TIME_BASED window of per-second buckets.
    TimeWindow {
        /// Whole seconds, one bucket each; the window is the current second and the
        /// `window - 1` before it.
        window: Duration,
        /// No decision until the window holds this many calls.
        min_calls: u32,
        /// Trips when failures / calls `>=` this, in (0, 1].
        failure_rate: f64,
        /// Trips when slow calls / calls `>=` this, in (0, 1].
        slow_call_rate: f64,
    },
}

/// How an open breaker becomes half-open once its open duration has passed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HalfOpenTransition {
    /// On the next [`CircuitBreaker::try_acquire`] (resilience4j's default).
    Lazy,
    /// At the deadline, via [`CircuitBreaker::poll_timeout`] and
    /// [`CircuitBreaker::handle_timeout`].
    Automatic,
}

/// Longer open durations for a dependency that keeps failing its probes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpenGrowth {
    /// Factor per consecutive trip, at least 1.
    pub multiplier: f64,
    /// Upper bound on the open duration.
    pub max_open: Duration,
}

/// A circuit breaker's configuration.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BreakerConfig {
    /// When a closed breaker trips.
    pub trip: TripRule,
    /// How long it stays open after its first trip (resilience4j: 60 s).
    pub open_for: Duration,
    /// Probes admitted in half-open (resilience4j: 10; seed document's success
    /// threshold: 2).
    pub half_open_probes: u32,
    /// Lazy or automatic move from open to half-open.
    pub transition: HalfOpenTransition,
    /// A success slower than this is a slow call (resilience4j: 60 s); `None`: never.
    pub slow_call_duration: Option<Duration>,
    /// Open for `open_for * multiplier^(trips - 1)`, capped, after consecutive trips
    /// without a close in between; `None`: always `open_for`.
    pub open_growth: Option<OpenGrowth>,
}

impl BreakerConfig {
    /// resilience4j's defaults: COUNT_BASED window of 100 calls, minimum 100 calls,
    /// failure-rate threshold 50%, slow-call threshold 100% at 60 s, 60 s open, 10
    /// half-open probes, lazy transition.
    pub fn resilience4j() -> Self {
        Self {
            trip: TripRule::CountWindow {
                size: 100,
                min_calls: 100,
                failure_rate: 0.5,
                slow_call_rate: 1.0,
            },
            open_for: Duration::from_secs(60),
            half_open_probes: 10,
            transition: HalfOpenTransition::Lazy,
            slow_call_duration: Some(Duration::from_secs(60)),
            open_growth: None,
        }
    }

    /// The seed document's breaker: 5 consecutive failures trip, 60 s open, 2 successes
    /// in half-open close it.
    pub fn seed_consecutive() -> Self {
        Self {
            trip: TripRule::ConsecutiveFailures { threshold: 5 },
            open_for: Duration::from_secs(60),
            half_open_probes: 2,
            transition: HalfOpenTransition::Lazy,
            slow_call_duration: None,
            open_growth: None,
        }
    }

    /// The seed document's EWMA breaker: alpha 0.1, threshold 0.5 (trips on the 7th
    /// failure from a clean start), 60 s open, 2 successes in half-open close it.
    pub fn seed_ewma() -> Self {
        Self {
            trip: TripRule::Ewma {
                alpha: 0.1,
                threshold: 0.5,
            },
            ..Self::seed_consecutive()
        }
    }

    /// Checks the configuration, so a scenario can be rejected before a run.
    pub fn validate(&self) -> Result<(), String> {
        fn rate(name: &str, r: f64) -> Result<(), String> {
            if r > 0.0 && r <= 1.0 {
                Ok(())
            } else {
                Err(format!("{name} must be in (0, 1], got {r}"))
            }
        }
        match self.trip {
            TripRule::ConsecutiveFailures { threshold } => {
                if threshold == 0 {
                    return Err("trip.threshold must be at least 1".into());
                }
            }
            TripRule::Ewma { alpha, threshold } => {
                rate("trip.alpha", alpha)?;
                // At 0 a fresh breaker would be tripped; at 1 it needs float underflow.
                if !(threshold > 0.0 && threshold < 1.0) {
                    return Err(format!("trip.threshold must be in (0, 1), got {threshold}"));
                }
            }
            TripRule::CountWindow {
                size,
                min_calls,
                failure_rate,
                slow_call_rate,
            } => {
                if size == 0 || size > MAX_WINDOW_CALLS {
                    return Err(format!(
                        "trip.size must be between 1 and {MAX_WINDOW_CALLS}, got {size}"
                    ));
                }
                // resilience4j silently lowers min_calls to size; a scenario should say
                // what it means instead.
                if min_calls == 0 || min_calls > size {
                    return Err(format!(
                        "trip.min_calls must be between 1 and size ({size}), got {min_calls}"
                    ));
                }
                rate("trip.failure_rate", failure_rate)?;
                rate("trip.slow_call_rate", slow_call_rate)?;
            }
            TripRule::TimeWindow {
                window,
                min_calls,
                failure_rate,
                slow_call_rate,
            } => {
                if window.subsec_nanos() != 0
                    || window.as_secs() == 0
                    || window.as_secs() > MAX_WINDOW_SECONDS
                {
                    return Err(format!(
                        "trip.window must be a whole number of seconds between 1s and \
                         {MAX_WINDOW_SECONDS}s, got {window:?}"
                    ));
                }
                if min_calls == 0 {
                    return Err("trip.min_calls must be at least 1".into());
                }
                rate("trip.failure_rate", failure_rate)?;
                rate("trip.slow_call_rate", slow_call_rate)?;
            }
        }
        if self.open_for.is_zero() {
            return Err("open_for must be positive".into());
        }
        if self.half_open_probes == 0 {
            return Err("half_open_probes must be at least 1".into());
        }
        if let Some(g) = &self.open_growth {
            if !(g.multiplier.is_finite() && g.multiplier >= 1.0) {
                return Err(format!(
                    "open_growth.multiplier must be at least 1, got {}",
                    g.multiplier
                ));
            }
            if g.max_open < self.open_for {
                return Err(format!(
                    "open_growth.max_open ({:?}) must be at least open_for ({:?})",
                    g.max_open, self.open_for
                ));
            }
        }
        Ok(())
    }

    /// How long the breaker stays open after its `trips`-th consecutive trip (1 = the
    /// first trip since it was last closed).
    pub fn open_duration(&self, trips: u32) -> Duration {
        let Some(g) = &self.open_growth else {
            return self.open_for;
        };
        let exponent = i32::try_from(trips.saturating_sub(1)).unwrap_or(i32::MAX);
        let grown = self.open_for.as_secs_f64() * g.multiplier.powi(exponent);
        // Compare in f64 first: an infinite or huge product must not reach from_secs_f64.
        let d = if grown >= g.max_open.as_secs_f64() {
            g.max_open
        } else {
            Duration::from_secs_f64(grown).clamp(self.open_for, g.max_open)
        };
        debug_assert!(self.open_for <= d && d <= g.max_open);
        d
    }

    /// `(failure_rate, slow_call_rate)` thresholds, for the window rules only.
    fn rate_thresholds(&self) -> Option<(f64, f64)> {
        match self.trip {
            TripRule::CountWindow {
                failure_rate,
                slow_call_rate,
                ..
            }
            | TripRule::TimeWindow {
                failure_rate,
                slow_call_rate,
                ..
            } => Some((failure_rate, slow_call_rate)),
            TripRule::ConsecutiveFailures { .. } | TripRule::Ewma { .. } => None,
        }
    }
}

/// A breaker's state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BreakerState {
    /// Calls flow; outcomes feed the trip rule.
    Closed,
    /// Calls are rejected until the open duration has passed.
    Open,
    /// A fixed number of probe calls decide between closing and reopening.
    HalfOpen,
}

/// Proof of admission, handed back to [`CircuitBreaker::record`] with the outcome.
///
/// Eight bytes: the generation (state change count) at admission and whether the call is
/// a half-open probe. An outcome whose generation is not the current one is ignored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Permit {
    generation: u32,
    probe: bool,
}

impl Permit {
    /// Whether this call is a half-open probe.
    pub fn is_probe(&self) -> bool {
        self.probe
    }
}

/// The answer to [`CircuitBreaker::try_acquire`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Admission {
    /// Make the call, then [`record`](CircuitBreaker::record) its outcome with the permit.
    Admitted(Permit),
    /// Do not make the call (fail fast).
    Rejected,
}

impl Admission {
    /// The permit, if admitted.
    pub fn permit(self) -> Option<Permit> {
        match self {
            Self::Admitted(p) => Some(p),
            Self::Rejected => None,
        }
    }
}

/// How an admitted call ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CallOutcome {
    /// A response arrived after `latency`.
    Success {
        /// Time from sending the call to its response.
        latency: Duration,
    },
    /// An error response, a timeout or a lost call.
    Failure,
}

/// A state change, for the engine to record.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transition {
    /// When it happened: the `now` of the call that caused it, or the open deadline for
    /// an automatic move to half-open.
    pub at: Duration,
    /// State before.
    pub from: BreakerState,
    /// State after.
    pub to: BreakerState,
}

/// One circuit breaker (per logical client, or per client and destination).
///
/// Laid out for arrays of many breakers (one per client): 64 bytes, aligned to a cache
/// line, so a call touches one line. What a closed breaker uses (configuration,
/// generation, state, the trip rule's statistics) is inline; what only an open or
/// half-open breaker uses ([`Excursion`]: the open deadline, trip count, probe counts
/// and the queue of unpolled transitions) is allocated on the first trip and kept.
#[derive(Clone, Debug)]
#[repr(C, align(64))]
pub struct CircuitBreaker {
    config: Arc<BreakerConfig>,
    /// Bumped (wrapping) on every state change; stamped into permits.
    generation: u32,
    state: BreakerState,
    /// `None` until the first state change.
    excursion: Option<Box<Excursion>>,
    window: Window,
}

/// The state of a breaker that has left the closed state at least once.
#[derive(Clone, Debug, Default)]
struct Excursion {
    /// When an open breaker may move to half-open.
    open_until: Duration,
    /// Trips since the breaker was last closed, for [`OpenGrowth`].
    trips: u32,
    probes_admitted: u32,
    probes_reported: u32,
    probe_failures: u32,
    probe_slow: u32,
    transitions_dropped: u32,
    transitions: VecDeque<Transition>,
}

/// The values a breaker that never left the closed state reports.
const NO_EXCURSION: &Excursion = &Excursion {
    open_until: Duration::ZERO,
    trips: 0,
    probes_admitted: 0,
    probes_reported: 0,
    probe_failures: 0,
    probe_slow: 0,
    transitions_dropped: 0,
    transitions: VecDeque::new(),
};

impl CircuitBreaker {
    /// A closed breaker. Pass an `Arc<BreakerConfig>` to share one configuration among
    /// many breakers, or a `BreakerConfig` to own it.
    pub fn new(config: impl Into<Arc<BreakerConfig>>) -> Self {
        let config = config.into();
        debug_assert!(config.validate().is_ok(), "invalid breaker: {config:?}");
        Self {
            window: Window::new(&config.trip),
            config,
            state: BreakerState::Closed,
            generation: 0,
            excursion: None,
        }
    }

    /// The open / half-open state (its initial values if the breaker never tripped).
    #[inline]
    fn excursion(&self) -> &Excursion {
        self.excursion.as_deref().unwrap_or(NO_EXCURSION)
    }

    /// The open / half-open state, allocated on first use.
    #[inline]
    fn excursion_mut(&mut self) -> &mut Excursion {
        self.excursion.get_or_insert_with(Box::default)
    }

    /// The configuration.
    pub fn config(&self) -> &BreakerConfig {
        &self.config
    }

    /// The current state (an open breaker past its deadline reports `Open` until a call
    /// or [`handle_timeout`](Self::handle_timeout) moves it).
    pub fn state(&self) -> BreakerState {
        self.state
    }

    /// Trips since the breaker was last closed (0 while closed).
    pub fn consecutive_trips(&self) -> u32 {
        self.excursion().trips
    }

    /// When an open breaker may move to half-open; `None` unless open.
    pub fn open_until(&self) -> Option<Duration> {
        (self.state == BreakerState::Open).then_some(self.excursion().open_until)
    }

    /// Asks to make a call at `now`.
    pub fn try_acquire(&mut self, now: Duration) -> Admission {
        if self.state == BreakerState::Open {
            let open_until = self.excursion().open_until;
            if now < open_until {
                return Admission::Rejected;
            }
            // An automatic breaker whose timer the caller has not fired yet moves too, at
            // the deadline it was due.
            let at = match self.config.transition {
                HalfOpenTransition::Lazy => now,
                HalfOpenTransition::Automatic => open_until,
            };
            self.enter_half_open(at);
        }
        match self.state {
            BreakerState::Closed => Admission::Admitted(Permit {
                generation: self.generation,
                probe: false,
            }),
            BreakerState::HalfOpen
                if self.excursion().probes_admitted < self.config.half_open_probes =>
            {
                self.excursion_mut().probes_admitted += 1;
                Admission::Admitted(Permit {
                    generation: self.generation,
                    probe: true,
                })
            }
            BreakerState::HalfOpen | BreakerState::Open => Admission::Rejected,
        }
    }

    /// Reports the outcome of an admitted call, at `now`.
    pub fn record(&mut self, now: Duration, permit: Permit, outcome: CallOutcome) {
        if permit.generation != self.generation {
            return; // admitted before the latest state change: see the module docs
        }
        let failed = outcome == CallOutcome::Failure;
        let slow = match (outcome, self.config.slow_call_duration) {
            (CallOutcome::Success { latency }, Some(limit)) => latency > limit,
            _ => false,
        };
        match self.state {
            BreakerState::Closed => {
                debug_assert!(!permit.probe);
                if self.window.record(&self.config.trip, now, failed, slow) {
                    self.trip(now);
                }
            }
            BreakerState::HalfOpen => {
                debug_assert!(permit.probe);
                self.record_probe(now, failed, slow);
            }
            // Unreachable: no permit is issued while open, and opening bumps the generation.
            BreakerState::Open => {}
        }
    }

    /// The deadline at which [`handle_timeout`](Self::handle_timeout) should be called:
    /// the end of the open duration, for an open breaker with automatic transition.
    pub fn poll_timeout(&self) -> Option<Duration> {
        (self.state == BreakerState::Open
            && self.config.transition == HalfOpenTransition::Automatic)
            .then_some(self.excursion().open_until)
    }

    /// Fires the timer: an automatic breaker whose open duration has passed moves to
    /// half-open (the transition is stamped with the deadline). Otherwise does nothing.
    pub fn handle_timeout(&mut self, now: Duration) {
        if let Some(deadline) = self.poll_timeout() {
            if now >= deadline {
                self.enter_half_open(deadline);
            }
        }
    }

    /// The oldest state change not yet polled. Poll until `None` after each call; at
    /// most [`MAX_PENDING_TRANSITIONS`] are kept.
    #[inline]
    pub fn poll_transition(&mut self) -> Option<Transition> {
        self.excursion.as_mut()?.transitions.pop_front()
    }

    /// Transitions dropped because they were not polled in time.
    pub fn transitions_dropped(&self) -> u32 {
        self.excursion().transitions_dropped
    }

    fn record_probe(&mut self, now: Duration, failed: bool, slow: bool) {
        let half_open_probes = self.config.half_open_probes;
        let probes = self.excursion_mut();
        probes.probes_reported += 1;
        probes.probe_failures += u32::from(failed);
        probes.probe_slow += u32::from(slow);
        debug_assert!(probes.probes_reported <= probes.probes_admitted);
        debug_assert!(probes.probes_admitted <= half_open_probes);
        let (reported, probe_failures, probe_slow) = (
            probes.probes_reported,
            probes.probe_failures,
            probes.probe_slow,
        );
        if let Some((failure_rate, slow_call_rate)) = self.config.rate_thresholds() {
            // resilience4j: decide once every permitted probe has reported.
            if reported < half_open_probes {
                return;
            }
            let n = f64::from(reported);
            if f64::from(probe_failures) / n >= failure_rate
                || f64::from(probe_slow) / n >= slow_call_rate
            {
                self.trip(now);
            } else {
                self.close(now);
            }
        } else if failed || slow {
            self.trip(now);
        } else if reported >= half_open_probes {
            self.close(now);
        }
    }

    fn trip(&mut self, now: Duration) {
        let config = Arc::clone(&self.config);
        let excursion = self.excursion_mut();
        excursion.trips = excursion.trips.saturating_add(1);
        let open_for = config.open_duration(excursion.trips);
        excursion.open_until = now.checked_add(open_for).unwrap_or(Duration::MAX);
        self.window.reset();
        self.change(now, BreakerState::Open);
    }

    fn close(&mut self, now: Duration) {
        self.excursion_mut().trips = 0;
        self.window.reset();
        self.change(now, BreakerState::Closed);
    }

    fn enter_half_open(&mut self, at: Duration) {
        let probes = self.excursion_mut();
        probes.probes_admitted = 0;
        probes.probes_reported = 0;
        probes.probe_failures = 0;
        probes.probe_slow = 0;
        self.change(at, BreakerState::HalfOpen);
    }

    fn change(&mut self, at: Duration, to: BreakerState) {
        let from = self.state;
        debug_assert!(from != to);
        self.state = to;
        self.generation = self.generation.wrapping_add(1);
        let excursion = self.excursion_mut();
        if excursion.transitions.len() == MAX_PENDING_TRANSITIONS {
            excursion.transitions.pop_front();
            excursion.transitions_dropped = excursion.transitions_dropped.saturating_add(1);
        }
        excursion.transitions.push_back(Transition { at, from, to });
    }
}

/// The closed-state statistics of a trip rule.
#[derive(Clone, Debug)]
enum Window {
    Consecutive(u32),
    Ewma(f64),
    Count(CountWindow),
    /// Boxed: inline it would make every breaker 8 bytes longer than a cache line.
    Time(Box<TimeWindow>),
}

impl Window {
    fn new(rule: &TripRule) -> Self {
        match *rule {
            TripRule::ConsecutiveFailures { .. } => Self::Consecutive(0),
            TripRule::Ewma { .. } => Self::Ewma(0.0),
            TripRule::CountWindow { size, .. } => Self::Count(CountWindow::new(size)),
            TripRule::TimeWindow { window, .. } => {
                Self::Time(Box::new(TimeWindow::new(window.as_secs())))
            }
        }
    }

    fn reset(&mut self) {
        match self {
            Self::Consecutive(n) => *n = 0,
            Self::Ewma(e) => *e = 0.0,
            Self::Count(w) => w.reset(),
            Self::Time(w) => w.reset(),
        }
    }

    /// Adds an outcome; returns whether the rule now trips.
    fn record(&mut self, rule: &TripRule, now: Duration, failed: bool, slow: bool) -> bool {
        match (self, rule) {
            (Self::Consecutive(n), &TripRule::ConsecutiveFailures { threshold }) => {
                *n = if failed || slow { *n + 1 } else { 0 };
                debug_assert!(*n <= threshold);
                *n >= threshold
            }
            (Self::Ewma(e), &TripRule::Ewma { alpha, threshold }) => {
                let x = if failed || slow { 1.0 } else { 0.0 };
                *e = (1.0 - alpha) * *e + alpha * x;
                debug_assert!((0.0..=1.0).contains(e));
                *e >= threshold
            }
            (
                Self::Count(w),
                &TripRule::CountWindow {
                    size,
                    min_calls,
                    failure_rate,
                    slow_call_rate,
                },
            ) => {
                w.push(size, failed, slow);
                exceeds(w.counts(), min_calls, failure_rate, slow_call_rate)
            }
            (
                Self::Time(w),
                &TripRule::TimeWindow {
                    min_calls,
                    failure_rate,
                    slow_call_rate,
                    ..
                },
            ) => {
                w.push(now, failed, slow);
                exceeds(w.counts(), min_calls, failure_rate, slow_call_rate)
            }
            _ => unreachable!("window built from a different rule"),
        }
    }
}

/// Calls, failures and slow calls held by a window.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Counts {
    calls: u32,
    failures: u32,
    slow: u32,
}

/// resilience4j's rule: no decision below `min_calls`; then trip on either rate.
fn exceeds(c: Counts, min_calls: u32, failure_rate: f64, slow_call_rate: f64) -> bool {
    debug_assert!(c.failures <= c.calls && c.slow <= c.calls);
    if c.calls < min_calls {
        return false;
    }
    // Dividing (rather than multiplying the threshold) compares two correctly rounded
    // values, so 3 of 10 meets a threshold written as 0.3.
    let n = f64::from(c.calls);
    f64::from(c.failures) / n >= failure_rate || f64::from(c.slow) / n >= slow_call_rate
}

/// The last `size` calls as two ring bitsets (failed, slow): 2 bits per call. `size`
/// is the rule's (passed in rather than stored, to keep the breaker in a cache line).
#[derive(Clone, Debug)]
struct CountWindow {
    /// `words` failure words, then `words` slow words.
    bits: Box<[u64]>,
    /// Slot the next call goes into (the oldest call once full).
    next: u32,
    counts: Counts,
}

impl CountWindow {
    fn new(size: u32) -> Self {
        let words = size.div_ceil(64) as usize;
        Self {
            bits: vec![0; 2 * words].into_boxed_slice(),
            next: 0,
            counts: Counts::default(),
        }
    }

    fn reset(&mut self) {
        self.bits.fill(0);
        self.next = 0;
        self.counts = Counts::default();
    }

    fn push(&mut self, size: u32, failed: bool, slow: bool) {
        let words = self.bits.len() / 2;
        debug_assert_eq!(words, size.div_ceil(64) as usize);
        let (word, mask) = ((self.next / 64) as usize, 1u64 << (self.next % 64));
        if self.counts.calls == size {
            // Full: the slot holds the oldest call, which leaves the window.
            self.counts.failures -= u32::from(self.bits[word] & mask != 0);
            self.counts.slow -= u32::from(self.bits[words + word] & mask != 0);
        } else {
            self.counts.calls += 1;
        }
        set_bit(&mut self.bits[word], mask, failed);
        set_bit(&mut self.bits[words + word], mask, slow);
        self.counts.failures += u32::from(failed);
        self.counts.slow += u32::from(slow);
        self.next = (self.next + 1) % size;
        debug_assert!(self.counts.calls <= size);
    }

    fn counts(&self) -> Counts {
        self.counts
    }
}

fn set_bit(word: &mut u64, mask: u64, on: bool) {
    if on {
        *word |= mask;
    } else {
        *word &= !mask;
    }
}

/// Per-second buckets over the last `window` seconds, with running totals.
#[derive(Clone, Debug)]
struct TimeWindow {
    buckets: Box<[Counts]>,
    /// The second (since the origin) of the newest bucket.
    head: u64,
    totals: Counts,
}

impl TimeWindow {
    fn new(seconds: u64) -> Self {
        Self {
            buckets: vec![Counts::default(); seconds as usize].into_boxed_slice(),
            head: 0,
            totals: Counts::default(),
        }
    }

    fn reset(&mut self) {
        self.buckets.fill(Counts::default());
        self.totals = Counts::default();
    }

    fn push(&mut self, now: Duration, failed: bool, slow: bool) {
        let len = self.buckets.len() as u64;
        let second = now.as_secs();
        debug_assert!(second >= self.head, "time went backwards: {now:?}");
        // A late caller is charged to the newest bucket.
        if second > self.head {
            for k in 1..=(second - self.head).min(len) {
                let b = &mut self.buckets[((self.head + k) % len) as usize];
                self.totals.calls -= b.calls;
                self.totals.failures -= b.failures;
                self.totals.slow -= b.slow;
                *b = Counts::default();
            }
            self.head = second;
        }
        let b = &mut self.buckets[(self.head % len) as usize];
        b.calls += 1;
        b.failures += u32::from(failed);
        b.slow += u32::from(slow);
        self.totals.calls += 1;
        self.totals.failures += u32::from(failed);
        self.totals.slow += u32::from(slow);
        debug_assert_eq!(
            self.totals.calls,
            self.buckets.iter().map(|b| b.calls).sum::<u32>()
        );
    }

    fn counts(&self) -> Counts {
        self.totals
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    fn secs(n: u64) -> Duration {
        Duration::from_secs(n)
    }

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    const OK: CallOutcome = CallOutcome::Success {
        latency: Duration::from_millis(1),
    };

    /// Makes one call at `now` with `outcome`, recorded at once; returns whether admitted.
    fn call(b: &mut CircuitBreaker, now: Duration, outcome: CallOutcome) -> bool {
        match b.try_acquire(now) {
            Admission::Admitted(p) => {
                b.record(now, p, outcome);
                true
            }
            Admission::Rejected => false,
        }
    }

    fn config(trip: TripRule) -> BreakerConfig {
        BreakerConfig {
            trip,
            open_for: secs(5),
            half_open_probes: 2,
            transition: HalfOpenTransition::Lazy,
            slow_call_duration: None,
            open_growth: None,
        }
    }

    fn failures_to_trip_ewma(alpha: f64, threshold: f64) -> u32 {
        let mut b = CircuitBreaker::new(config(TripRule::Ewma { alpha, threshold }));
        let mut n = 0;
        while b.state() == BreakerState::Closed {
            assert!(call(&mut b, secs(1), CallOutcome::Failure));
            n += 1;
            assert!(n < 10_000);
        }
        n
    }

    #[test]
    fn ewma_seed_document_trips_on_seventh_failure() {
        // 1 - 0.9^6 = 0.4686 < 0.5 <= 1 - 0.9^7 = 0.5217.
        assert_eq!(failures_to_trip_ewma(0.1, 0.5), 7);
        let mut b = CircuitBreaker::new(BreakerConfig::seed_ewma());
        for _ in 0..6 {
            call(&mut b, secs(1), CallOutcome::Failure);
        }
        assert_eq!(b.state(), BreakerState::Closed);
        call(&mut b, secs(1), CallOutcome::Failure);
        assert_eq!(b.state(), BreakerState::Open);
    }

    fn ewma_rate(b: &CircuitBreaker) -> f64 {
        match b.window {
            Window::Ewma(e) => e,
            ref w => panic!("not an EWMA breaker: {w:?}"),
        }
    }

    #[test]
    fn ewma_starts_at_zero_and_restarts_at_zero_on_close() {
        let mut b = CircuitBreaker::new(BreakerConfig::seed_ewma());
        assert_eq!(ewma_rate(&b), 0.0);
        // Successes keep a fresh breaker at 0; the first failure lifts it to alpha.
        call(&mut b, secs(1), OK);
        assert_eq!(ewma_rate(&b), 0.0);
        call(&mut b, secs(1), CallOutcome::Failure);
        assert_eq!(ewma_rate(&b), 0.1);
        for _ in 0..5 {
            call(&mut b, secs(1), CallOutcome::Failure);
        }
        // 1 - 0.9^6 = 0.469: six failures do not trip it, the seventh does.
        assert!((ewma_rate(&b) - (1.0 - 0.9f64.powi(6))).abs() < 1e-12);
        assert_eq!(b.state(), BreakerState::Closed);
        call(&mut b, secs(1), CallOutcome::Failure);
        assert_eq!(b.state(), BreakerState::Open);
        assert_eq!(ewma_rate(&b), 0.0);
        // Two probe successes after the 60 s open time close it, at 0 again: it takes
        // seven more failures in a row to trip.
        assert!(call(&mut b, secs(62), OK));
        assert!(call(&mut b, secs(62), OK));
        assert_eq!(b.state(), BreakerState::Closed);
        assert_eq!(ewma_rate(&b), 0.0);
        for _ in 0..6 {
            call(&mut b, secs(63), CallOutcome::Failure);
        }
        assert_eq!(b.state(), BreakerState::Closed);
        call(&mut b, secs(63), CallOutcome::Failure);
        assert_eq!(b.state(), BreakerState::Open);
    }

    #[test]
    fn ewma_matches_closed_form_for_other_pairs() {
        // ceil(ln(1 - thr) / ln(1 - alpha)), worked out: ln 0.5 / ln 0.8 = 3.11 -> 4;
        // ln 0.1 / ln 0.95 = 44.9 -> 45; ln 0.01 / ln 0.7 = 12.9 -> 13;
        // ln 0.5 / ln 0.5 = 1 -> 1; ln 0.75 / ln 0.9 = 2.73 -> 3.
        for (alpha, thr, expected) in [
            (0.2, 0.5, 4),
            (0.05, 0.9, 45),
            (0.3, 0.99, 13),
            (0.5, 0.5, 1),
            (0.1, 0.25, 3),
        ] {
            let closed_form = ((1.0f64 - thr).ln() / (1.0f64 - alpha).ln()).ceil() as u32;
            assert_eq!(closed_form, expected, "alpha {alpha} thr {thr}");
            assert_eq!(
                failures_to_trip_ewma(alpha, thr),
                expected,
                "alpha {alpha} thr {thr}"
            );
        }
    }

    #[test]
    fn ewma_success_pulls_back() {
        let mut b = CircuitBreaker::new(BreakerConfig::seed_ewma());
        for _ in 0..6 {
            call(&mut b, secs(1), CallOutcome::Failure);
        }
        call(&mut b, secs(1), OK);
        // 0.9 * 0.4686 = 0.4217; one more failure: 0.9 * 0.4217 + 0.1 = 0.4796 < 0.5.
        call(&mut b, secs(1), CallOutcome::Failure);
        assert_eq!(b.state(), BreakerState::Closed);
        call(&mut b, secs(1), CallOutcome::Failure); // 0.5316
        assert_eq!(b.state(), BreakerState::Open);
    }

    #[test]
    fn resilience4j_defaults_wait_for_min_calls() {
        let mut b = CircuitBreaker::new(BreakerConfig::resilience4j());
        for _ in 0..50 {
            call(&mut b, secs(1), OK);
        }
        for _ in 0..49 {
            call(&mut b, secs(1), CallOutcome::Failure);
        }
        // 99 calls < minimum 100: no decision, though 49.5% fail.
        assert_eq!(b.state(), BreakerState::Closed);
        call(&mut b, secs(1), CallOutcome::Failure);
        // 50 of 100 = 50% >= 50%.
        assert_eq!(b.state(), BreakerState::Open);
        assert_eq!(
            b.poll_transition(),
            Some(Transition {
                at: secs(1),
                from: BreakerState::Closed,
                to: BreakerState::Open
            })
        );
        assert_eq!(b.poll_transition(), None);
    }

    #[test]
    fn count_window_slides() {
        let mut b = CircuitBreaker::new(config(TripRule::CountWindow {
            size: 4,
            min_calls: 4,
            failure_rate: 0.75,
            slow_call_rate: 1.0,
        }));
        // F F S S -> 50%; then S evicts F: S S S... then F F: window S S F F = 50%.
        for o in [CallOutcome::Failure, CallOutcome::Failure, OK, OK, OK, OK] {
            call(&mut b, secs(1), o);
        }
        call(&mut b, secs(1), CallOutcome::Failure);
        call(&mut b, secs(1), CallOutcome::Failure);
        assert_eq!(b.state(), BreakerState::Closed);
        // Window S F F F = 75%.
        call(&mut b, secs(1), CallOutcome::Failure);
        assert_eq!(b.state(), BreakerState::Open);
    }

    #[test]
    fn slow_calls_trip_a_window_rule() {
        let mut c = config(TripRule::CountWindow {
            size: 4,
            min_calls: 4,
            failure_rate: 1.0,
            slow_call_rate: 0.5,
        });
        c.slow_call_duration = Some(ms(100));
        let mut b = CircuitBreaker::new(c);
        let slow = CallOutcome::Success { latency: ms(101) };
        let at_limit = CallOutcome::Success { latency: ms(100) };
        for o in [slow, at_limit, OK] {
            call(&mut b, secs(1), o);
        }
        call(&mut b, secs(1), CallOutcome::Failure);
        // 1 slow (100 ms is not slower than 100 ms) and 1 failure of 4: closed.
        assert_eq!(b.state(), BreakerState::Closed);
        call(&mut b, secs(1), slow); // window: at_limit OK F slow -> 1 slow... of 4
        assert_eq!(b.state(), BreakerState::Closed);
        call(&mut b, secs(1), slow); // OK F slow slow -> 50% slow
        assert_eq!(b.state(), BreakerState::Open);
    }

    #[test]
    fn slow_success_counts_as_failure_for_consecutive_rule() {
        let mut c = config(TripRule::ConsecutiveFailures { threshold: 2 });
        c.slow_call_duration = Some(ms(100));
        let mut b = CircuitBreaker::new(c);
        call(&mut b, secs(1), CallOutcome::Success { latency: ms(150) });
        call(&mut b, secs(1), CallOutcome::Failure);
        assert_eq!(b.state(), BreakerState::Open);
    }

    #[test]
    fn time_window_forgets_old_seconds() {
        let mut b = CircuitBreaker::new(config(TripRule::TimeWindow {
            window: secs(3),
            min_calls: 3,
            failure_rate: 1.0,
            slow_call_rate: 1.0,
        }));
        call(&mut b, ms(1_000), CallOutcome::Failure);
        call(&mut b, ms(2_500), CallOutcome::Failure);
        // At 4.0 s the window is seconds 2, 3, 4: the failure at 1.0 s is gone.
        call(&mut b, ms(4_000), CallOutcome::Failure);
        assert_eq!(b.state(), BreakerState::Closed);
        call(&mut b, ms(4_999), CallOutcome::Failure);
        assert_eq!(b.state(), BreakerState::Open);
    }

    #[test]
    fn lazy_half_open_waits_for_a_call() {
        let mut b = CircuitBreaker::new(config(TripRule::ConsecutiveFailures { threshold: 1 }));
        call(&mut b, secs(10), CallOutcome::Failure);
        assert_eq!(b.state(), BreakerState::Open);
        assert_eq!(b.poll_timeout(), None);
        assert_eq!(b.try_acquire(ms(14_999)), Admission::Rejected);
        b.handle_timeout(secs(100)); // no timer for a lazy breaker
        assert_eq!(b.state(), BreakerState::Open);
        let p = b.try_acquire(secs(20)).permit().expect("probe admitted");
        assert!(p.is_probe());
        assert_eq!(b.state(), BreakerState::HalfOpen);
        b.poll_transition(); // closed -> open
        assert_eq!(
            b.poll_transition(),
            Some(Transition {
                at: secs(20),
                from: BreakerState::Open,
                to: BreakerState::HalfOpen
            })
        );
    }

    #[test]
    fn automatic_half_open_at_the_deadline() {
        let mut c = config(TripRule::ConsecutiveFailures { threshold: 1 });
        c.transition = HalfOpenTransition::Automatic;
        let mut b = CircuitBreaker::new(c);
        assert_eq!(b.poll_timeout(), None);
        call(&mut b, secs(10), CallOutcome::Failure);
        assert_eq!(b.poll_timeout(), Some(secs(15)));
        b.handle_timeout(ms(14_999));
        assert_eq!(b.state(), BreakerState::Open);
        b.handle_timeout(secs(15));
        assert_eq!(b.state(), BreakerState::HalfOpen);
        assert_eq!(b.poll_timeout(), None);
        let t: Vec<_> = core::iter::from_fn(|| b.poll_transition()).collect();
        assert_eq!(t.len(), 2);
        assert_eq!(t[1].at, secs(15));
        assert_eq!(t[1].to, BreakerState::HalfOpen);
    }

    #[test]
    fn half_open_admits_exactly_the_probes_then_closes() {
        let mut b = CircuitBreaker::new(config(TripRule::ConsecutiveFailures { threshold: 1 }));
        call(&mut b, secs(0), CallOutcome::Failure);
        let p1 = b.try_acquire(secs(5)).permit().unwrap();
        let p2 = b.try_acquire(secs(5)).permit().unwrap();
        assert_eq!(b.try_acquire(secs(5)), Admission::Rejected);
        b.record(secs(6), p1, OK);
        assert_eq!(b.state(), BreakerState::HalfOpen);
        assert_eq!(b.try_acquire(secs(6)), Admission::Rejected);
        b.record(secs(6), p2, OK);
        assert_eq!(b.state(), BreakerState::Closed);
        assert_eq!(b.consecutive_trips(), 0);
    }

    #[test]
    fn half_open_probe_failure_reopens_at_once_for_simple_rules() {
        let mut b = CircuitBreaker::new(config(TripRule::ConsecutiveFailures { threshold: 3 }));
        for _ in 0..3 {
            call(&mut b, secs(0), CallOutcome::Failure);
        }
        let p1 = b.try_acquire(secs(5)).permit().unwrap();
        let p2 = b.try_acquire(secs(5)).permit().unwrap();
        b.record(secs(6), p1, CallOutcome::Failure);
        assert_eq!(b.state(), BreakerState::Open);
        // The other probe's outcome is stale now.
        b.record(secs(6), p2, OK);
        assert_eq!(b.state(), BreakerState::Open);
        assert_eq!(b.open_until(), Some(secs(11)));
    }

    #[test]
    fn half_open_window_rule_decides_after_all_probes() {
        let mut c = config(TripRule::CountWindow {
            size: 2,
            min_calls: 2,
            failure_rate: 0.5,
            slow_call_rate: 1.0,
        });
        c.half_open_probes = 4;
        let mut b = CircuitBreaker::new(c);
        call(&mut b, secs(0), CallOutcome::Failure);
        call(&mut b, secs(0), CallOutcome::Failure);
        assert_eq!(b.state(), BreakerState::Open);
        // 1 failure of 4 probes = 25% < 50%: closes, but only after the 4th reports.
        let probes: Vec<_> = (0..4)
            .map(|_| b.try_acquire(secs(5)).permit().unwrap())
            .collect();
        assert_eq!(b.try_acquire(secs(5)), Admission::Rejected);
        b.record(secs(5), probes[0], CallOutcome::Failure);
        for &p in &probes[1..3] {
            b.record(secs(5), p, OK);
        }
        assert_eq!(b.state(), BreakerState::HalfOpen);
        b.record(secs(5), probes[3], OK);
        assert_eq!(b.state(), BreakerState::Closed);
        // Trip again; now 2 of 4 = 50% >= 50% reopens.
        call(&mut b, secs(6), CallOutcome::Failure);
        call(&mut b, secs(6), CallOutcome::Failure);
        let probes: Vec<_> = (0..4)
            .map(|_| b.try_acquire(secs(11)).permit().unwrap())
            .collect();
        for (i, &p) in probes.iter().enumerate() {
            b.record(secs(11), p, if i < 2 { CallOutcome::Failure } else { OK });
        }
        assert_eq!(b.state(), BreakerState::Open);
    }

    #[test]
    fn stale_outcomes_are_ignored() {
        let mut c = config(TripRule::ConsecutiveFailures { threshold: 1 });
        c.open_growth = Some(OpenGrowth {
            multiplier: 2.0,
            max_open: secs(60),
        });
        let mut b = CircuitBreaker::new(c);
        let early = b.try_acquire(secs(0)).permit().unwrap();
        call(&mut b, secs(0), CallOutcome::Failure);
        assert_eq!(b.open_until(), Some(secs(5)));
        // A call admitted while closed fails after the trip: it does not re-trip or grow.
        b.record(secs(1), early, CallOutcome::Failure);
        assert_eq!(b.open_until(), Some(secs(5)));
        assert_eq!(b.consecutive_trips(), 1);
        // Nor does it count as a probe in half-open.
        let p = b.try_acquire(secs(5)).permit().unwrap();
        b.record(secs(5), early, OK);
        b.record(secs(5), early, OK);
        assert_eq!(b.state(), BreakerState::HalfOpen);
        b.record(secs(5), p, OK);
        assert_eq!(b.state(), BreakerState::HalfOpen); // needs 2 successes
    }

    #[test]
    fn open_duration_grows_on_repeated_trips_and_resets_on_close() {
        let mut c = config(TripRule::ConsecutiveFailures { threshold: 1 });
        c.half_open_probes = 1;
        c.open_growth = Some(OpenGrowth {
            multiplier: 2.0,
            max_open: secs(30),
        });
        let mut b = CircuitBreaker::new(c);
        let mut now = secs(0);
        call(&mut b, now, CallOutcome::Failure);
        let mut opens = vec![];
        for _ in 0..5 {
            let until = b.open_until().unwrap();
            opens.push(until - now);
            now = until;
            call(&mut b, now, CallOutcome::Failure); // the probe fails: reopen
        }
        // 5 * 2^(k-1) capped at 30 s.
        assert_eq!(opens, vec![secs(5), secs(10), secs(20), secs(30), secs(30)]);
        now = b.open_until().unwrap();
        call(&mut b, now, OK);
        assert_eq!(b.state(), BreakerState::Closed);
        call(&mut b, now, CallOutcome::Failure);
        assert_eq!(b.open_until(), Some(now + secs(5)));
    }

    #[test]
    fn layout_keeps_the_hot_fields_in_one_cache_line() {
        use std::mem::{align_of, offset_of, size_of};
        // One cache line, whatever the trip rule.
        assert_eq!(size_of::<CircuitBreaker>(), 64);
        assert_eq!(align_of::<CircuitBreaker>(), 64);
        assert_eq!(offset_of!(CircuitBreaker, window) + size_of::<Window>(), 64);
    }

    #[test]
    fn transitions_queue_is_bounded() {
        let mut c = config(TripRule::ConsecutiveFailures { threshold: 1 });
        c.half_open_probes = 1;
        let mut b = CircuitBreaker::new(c);
        let mut now = secs(0);
        for _ in 0..100 {
            call(&mut b, now, CallOutcome::Failure);
            now += secs(5);
        }
        // 1 + 2 * 99 transitions, 64 kept.
        assert_eq!(b.transitions_dropped(), 199 - 64);
        assert_eq!(core::iter::from_fn(|| b.poll_transition()).count(), 64);
    }

    #[test]
    fn per_instance_state_is_small() {
        let size = core::mem::size_of::<CircuitBreaker>();
        // The engine keeps one of each per client, for up to 100,000 clients.
        assert!(core::mem::size_of::<crate::budget::RetryBudget>() <= 128);
        assert!(core::mem::size_of::<crate::timeout::AdaptiveTimeout>() <= 32);
        assert!(core::mem::size_of::<crate::backoff::BackoffState>() <= 24);
        assert!(size <= 160, "{size} bytes");
        assert_eq!(core::mem::size_of::<Permit>(), 8);
    }

    #[test]
    fn validation_rejects_bad_configs() {
        assert!(BreakerConfig::resilience4j().validate().is_ok());
        assert!(BreakerConfig::seed_consecutive().validate().is_ok());
        assert!(BreakerConfig::seed_ewma().validate().is_ok());
        let bad_rules = [
            TripRule::ConsecutiveFailures { threshold: 0 },
            TripRule::Ewma {
                alpha: 0.0,
                threshold: 0.5,
            },
            TripRule::Ewma {
                alpha: 0.1,
                threshold: 1.0,
            },
            TripRule::CountWindow {
                size: 10,
                min_calls: 11,
                failure_rate: 0.5,
                slow_call_rate: 1.0,
            },
            TripRule::CountWindow {
                size: 10,
                min_calls: 5,
                failure_rate: f64::NAN,
                slow_call_rate: 1.0,
            },
            TripRule::TimeWindow {
                window: ms(1500),
                min_calls: 5,
                failure_rate: 0.5,
                slow_call_rate: 1.0,
            },
            TripRule::TimeWindow {
                window: secs(10),
                min_calls: 5,
                failure_rate: 0.5,
                slow_call_rate: 0.0,
            },
        ];
        for trip in bad_rules {
            assert!(config(trip.clone()).validate().is_err(), "{trip:?}");
        }
        let mut c = BreakerConfig::seed_consecutive();
        c.half_open_probes = 0;
        assert!(c.validate().is_err());
        let mut c = BreakerConfig::seed_consecutive();
        c.open_growth = Some(OpenGrowth {
            multiplier: 0.5,
            max_open: secs(120),
        });
        assert!(c.validate().is_err());
    }

    fn rule_strategy() -> impl Strategy<Value = TripRule> {
        prop_oneof![
            (1u32..10).prop_map(|threshold| TripRule::ConsecutiveFailures { threshold }),
            (0.05f64..=1.0, 0.05f64..0.95)
                .prop_map(|(alpha, threshold)| TripRule::Ewma { alpha, threshold }),
            (1u32..150, 0u32..150, 0.05f64..=1.0, 0.05f64..=1.0).prop_map(
                |(size, min, failure_rate, slow_call_rate)| TripRule::CountWindow {
                    size,
                    min_calls: 1 + min % size,
                    failure_rate,
                    slow_call_rate,
                }
            ),
            (1u64..20, 1u32..50, 0.05f64..=1.0, 0.05f64..=1.0).prop_map(
                |(w, min_calls, failure_rate, slow_call_rate)| TripRule::TimeWindow {
                    window: secs(w),
                    min_calls,
                    failure_rate,
                    slow_call_rate,
                }
            ),
        ]
    }

    fn config_strategy() -> impl Strategy<Value = BreakerConfig> {
        (
            rule_strategy(),
            1u64..5_000,
            1u32..12,
            any::<bool>(),
            prop::option::of(1u64..200),
            prop::option::of((1.0f64..3.0, 0u64..20_000)),
        )
            .prop_map(|(trip, open_ms, probes, automatic, slow_ms, growth)| {
                let open_for = ms(open_ms);
                BreakerConfig {
                    trip,
                    open_for,
                    half_open_probes: probes,
                    transition: if automatic {
                        HalfOpenTransition::Automatic
                    } else {
                        HalfOpenTransition::Lazy
                    },
                    slow_call_duration: slow_ms.map(ms),
                    open_growth: growth.map(|(multiplier, extra)| OpenGrowth {
                        multiplier,
                        max_open: open_for + ms(extra),
                    }),
                }
            })
    }

    fn random_outcome(rng: &mut ChaCha8Rng, p_fail: f64) -> CallOutcome {
        if rng.gen_bool(p_fail) {
            CallOutcome::Failure
        } else {
            CallOutcome::Success {
                latency: ms(rng.gen_range(0..300)),
            }
        }
    }

    proptest! {
        #[test]
        fn half_open_never_admits_more_than_the_probes(
            seed: u64,
            config in config_strategy(),
            p_fail in 0.0f64..=1.0,
        ) {
            prop_assert!(config.validate().is_ok());
            let probes_allowed = config.half_open_probes;
            let mut b = CircuitBreaker::new(config);
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            let mut now = Duration::ZERO;
            let mut in_flight: Vec<Permit> = Vec::new();
            let mut probes_this_episode = 0u32;
            for _ in 0..3000 {
                now += Duration::from_nanos(rng.gen_range(0..500_000_000));
                if let Some(deadline) = b.poll_timeout() {
                    if deadline <= now {
                        b.handle_timeout(now);
                    }
                }
                match rng.gen_range(0..3) {
                    0 | 1 => {
                        let before = b.state();
                        let admission = b.try_acquire(now);
                        if before == BreakerState::Open && b.state() == BreakerState::Open {
                            prop_assert_eq!(admission, Admission::Rejected);
                        }
                        if let Admission::Admitted(p) = admission {
                            prop_assert_eq!(p.is_probe(), b.state() == BreakerState::HalfOpen);
                            in_flight.push(p);
                        }
                    }
                    _ if !in_flight.is_empty() => {
                        let i = rng.gen_range(0..in_flight.len());
                        let p = in_flight.swap_remove(i);
                        b.record(now, p, random_outcome(&mut rng, p_fail));
                    }
                    _ => {}
                }
                while let Some(t) = b.poll_transition() {
                    prop_assert_ne!(t.from, t.to);
                    if t.to == BreakerState::HalfOpen {
                        probes_this_episode = 0;
                    }
                }
                let admitted_now = in_flight
                    .iter()
                    .filter(|p| p.is_probe() && p.generation == b.generation)
                    .count() as u32;
                if b.state() == BreakerState::HalfOpen {
                    probes_this_episode =
                        probes_this_episode.max(b.excursion().probes_admitted);
                    prop_assert!(admitted_now <= probes_allowed);
                    prop_assert!(probes_this_episode <= probes_allowed);
                }
            }
        }

        #[test]
        fn count_window_trips_exactly_by_the_rule(
            seed: u64,
            size in 1u32..80,
            min in 0u32..80,
            failure_rate in 0.05f64..=1.0,
            slow_call_rate in 0.05f64..=1.0,
            p_fail in 0.0f64..=1.0,
        ) {
            let min_calls = 1 + min % size;
            let mut c = config(TripRule::CountWindow { size, min_calls, failure_rate, slow_call_rate });
            c.slow_call_duration = Some(ms(150));
            let mut b = CircuitBreaker::new(c);
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            let mut last: VecDeque<(bool, bool)> = VecDeque::new(); // (failed, slow)
            for _ in 0..500 {
                let o = random_outcome(&mut rng, p_fail);
                prop_assert!(call(&mut b, secs(1), o));
                last.push_back((o == CallOutcome::Failure, matches!(o, CallOutcome::Success { latency } if latency > ms(150))));
                if last.len() > size as usize {
                    last.pop_front();
                }
                let n = last.len() as f64;
                let fails = last.iter().filter(|x| x.0).count() as f64;
                let slow = last.iter().filter(|x| x.1).count() as f64;
                let expected = last.len() >= min_calls as usize
                    && (fails / n >= failure_rate || slow / n >= slow_call_rate);
                let tripped = b.state() == BreakerState::Open;
                prop_assert_eq!(tripped, expected);
                if tripped {
                    prop_assert!(last.len() >= min_calls as usize, "tripped before min_calls");
                    break;
                }
            }
        }

        #[test]
        fn time_window_trips_exactly_by_the_rule(
            seed: u64,
            window_s in 1u64..30,
            min_calls in 1u32..40,
            failure_rate in 0.05f64..=1.0,
            p_fail in 0.0f64..=1.0,
            max_step_ms in 1u64..3000,
        ) {
            let mut b = CircuitBreaker::new(config(TripRule::TimeWindow {
                window: secs(window_s), min_calls, failure_rate, slow_call_rate: 1.0,
            }));
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            let mut log: Vec<(u64, bool)> = Vec::new(); // (second, failed)
            let mut now = Duration::ZERO;
            for _ in 0..1000 {
                now += Duration::from_nanos(rng.gen_range(0..max_step_ms * 1_000_000));
                let failed = rng.gen_bool(p_fail);
                let o = if failed { CallOutcome::Failure } else { OK };
                prop_assert!(call(&mut b, now, o));
                log.push((now.as_secs(), failed));
                let held: Vec<_> = log.iter().filter(|(s, _)| s + window_s > now.as_secs()).collect();
                let fails = held.iter().filter(|(_, f)| *f).count();
                let expected = held.len() >= min_calls as usize
                    && fails as f64 / held.len() as f64 >= failure_rate;
                let tripped = b.state() == BreakerState::Open;
                prop_assert_eq!(tripped, expected, "held {} fails {}", held.len(), fails);
                if tripped {
                    prop_assert!(held.len() >= min_calls as usize, "tripped before min_calls");
                    break;
                }
            }
        }

        #[test]
        fn consecutive_rule_trips_exactly_at_threshold(
            seed: u64,
            threshold in 1u32..20,
            p_fail in 0.0f64..=1.0,
        ) {
            let mut b = CircuitBreaker::new(config(TripRule::ConsecutiveFailures { threshold }));
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            let mut run = 0u32;
            for _ in 0..2000 {
                let failed = rng.gen_bool(p_fail);
                run = if failed { run + 1 } else { 0 };
                call(&mut b, secs(1), if failed { CallOutcome::Failure } else { OK });
                prop_assert_eq!(b.state() == BreakerState::Open, run == threshold);
                if run == threshold {
                    break;
                }
            }
        }

        #[test]
        fn ewma_rule_trips_at_closed_form_count(alpha in 0.01f64..=1.0, threshold in 0.01f64..0.99) {
            let ratio = (1.0 - threshold).ln() / (1.0 - alpha).ln();
            // Near-integers are decided by float rounding, not by the formula.
            prop_assume!(alpha == 1.0 || (ratio - ratio.round()).abs() > 1e-6);
            let expected = if alpha == 1.0 { 1 } else { ratio.ceil() as u32 };
            prop_assert_eq!(failures_to_trip_ewma(alpha, threshold), expected);
        }
    }
}
