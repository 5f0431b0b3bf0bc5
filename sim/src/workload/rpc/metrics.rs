//! Per-window and whole-run metrics.
//!
//! Two clocks attribute the counts. By *offered* time: a logical request counts in the
//! window where it was issued, and its outcome (succeeded, good, failed, timed out,
//! rejected, unresolved at the end) goes to that same window whenever it comes, so an
//! outage reads as an outage even when its requests resolve late; so do the attempts
//! made for it (`offered_attempts`). By *event* time:
//! attempts, server arrivals, completions (goodput) and latency quantiles.
//!
//! Events arrive in time order, so windows close lazily: the first event at or past a
//! window's end closes it (and any empty windows between), taking its latency quantiles
//! and the number of open breakers at that moment. Outcomes by offered time go to an
//! earlier window directly (its counters stay open to the end).

use hdrhistogram::Histogram;

use crate::engine::queue::Nanos;

/// Latencies are recorded in nanoseconds from 1 ns to one hour at 3 significant digits.
const HISTOGRAM_MAX_NS: u64 = 3_600_000_000_000;

/// Counters of one metrics window.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct WindowCounters {
    /// Logical requests issued in the window.
    pub offered: u64,
    /// Of those, succeeded (whenever).
    pub succeeded: u64,
    /// Of those, succeeded within the latency objective (all successes without one).
    pub good: u64,
    /// Of those, failed with an error.
    pub failed: u64,
    /// Of those, timed out.
    pub timed_out: u64,
    /// Of those, rejected by a breaker.
    pub rejected_by_breaker: u64,
    /// Of those, still in flight at the end of the run.
    pub unresolved: u64,
    /// Attempts sent for those, whenever sent (so phases can count attempts per request
    /// on the same basis as outcomes).
    pub offered_attempts: u64,
    /// Attempts sent in the window.
    pub attempts: u64,
    /// Attempts that reached a server in the window.
    pub server_arrivals: u64,
    /// Successes that resolved in the window (goodput).
    pub completed: u64,
    /// Breakers open at the end of the window.
    pub breakers_open: u64,
    /// Latency quantiles of successes resolved in the window, ns (p50, p99, p99.9).
    pub latency_ns: Option<[u64; 3]>,
}

/// Whole-run totals and latency distribution.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Totals {
    /// Logical requests issued.
    pub offered: u64,
    /// Succeeded.
    pub succeeded: u64,
    /// Succeeded within the latency objective (all successes without one).
    pub good: u64,
    /// Ended with an error.
    pub failed: u64,
    /// Last attempt timed out.
    pub timed_out: u64,
    /// Ended by an open breaker.
    pub rejected_by_breaker: u64,
    /// Retries the budget refused (those requests also count as failed or timed out).
    pub rejected_by_budget: u64,
    /// Attempts sent.
    pub attempts: u64,
    /// Attempts that were retries.
    pub retries: u64,
    /// Attempts that reached a server.
    pub server_arrivals: u64,
    /// Arrivals refused by a full queue.
    pub rejected_queue_full: u64,
    /// Requests dropped by load shedding.
    pub shed: u64,
    /// Arrivals turned away by a server's concurrency limit.
    pub rejected_by_limit: u64,
    /// Retries that waited for an overload answer's `Retry-After` (longer than their
    /// backoff).
    pub retries_deferred: u64,
    /// Messages lost in the network (or to a down node).
    pub messages_dropped: u64,
    /// Client connections reset by a crash.
    pub conn_resets: u64,
    /// Connects sent by disconnected clients.
    pub connect_tries: u64,
    /// Connects accepted.
    pub connects: u64,
    /// Connects refused (server crashed).
    pub connects_refused: u64,
    /// Attempts that failed at once because the offline queue was full.
    pub offline_failed: u64,
    /// Most attempts held in offline queues at once, all clients together.
    pub offline_peak: u64,
}

/// Metrics of a run in progress.
pub struct Metrics {
    window_ns: Nanos,
    /// The latency objective, ns: a success within it is good.
    good_within_ns: Nanos,
    windows: Vec<WindowCounters>,
    current: usize,
    current_end_ns: Nanos,
    /// Latencies of the current window only; added into `run_latency` when the window
    /// closes (one record per success instead of two).
    window_latency: Histogram<u64>,
    /// Latencies of every closed window.
    run_latency: Histogram<u64>,
    latency_sum_ns: u128,
    latency_max_ns: u64,
    breakers_open: u64,
    /// Totals over the run.
    pub totals: Totals,
}

impl Metrics {
    /// Metrics for `window_count` windows of `window_ns` each; a success within
    /// `good_within_ns` is good.
    pub fn new(window_ns: Nanos, window_count: usize, good_within_ns: Nanos) -> Self {
        assert!(window_ns > 0 && window_count > 0);
        let histogram = || {
            Histogram::new_with_bounds(1, HISTOGRAM_MAX_NS, 3)
                .expect("static histogram bounds are valid")
        };
        Metrics {
            window_ns,
            good_within_ns,
            windows: vec![WindowCounters::default(); window_count],
            current: 0,
            current_end_ns: window_ns,
            window_latency: histogram(),
            run_latency: histogram(),
            latency_sum_ns: 0,
            latency_max_ns: 0,
            breakers_open: 0,
            totals: Totals::default(),
        }
    }

    /// The window counters for an event at `at_ns`, closing earlier windows first.
    #[inline]
    pub fn at(&mut self, at_ns: Nanos) -> &mut WindowCounters {
        if at_ns >= self.current_end_ns {
            self.close_until(at_ns);
        }
        &mut self.windows[self.current]
    }

    /// The counters of the window where a request issued at `issued_ns` was offered.
    #[inline]
    pub fn offered_at(&mut self, issued_ns: Nanos) -> &mut WindowCounters {
        let index = ((issued_ns / self.window_ns) as usize).min(self.windows.len() - 1);
        &mut self.windows[index]
    }

    /// Records a successful logical request issued at `issued_ns`, resolved at `at_ns`.
    #[inline]
    pub fn record_success(&mut self, at_ns: Nanos, issued_ns: Nanos) {
        let latency_ns = at_ns - issued_ns;
        let good = latency_ns <= self.good_within_ns;
        let offered = self.offered_at(issued_ns);
        offered.succeeded += 1;
        offered.good += u64::from(good);
        self.totals.good += u64::from(good);
        self.at(at_ns).completed += 1;
        let clamped = latency_ns.clamp(1, HISTOGRAM_MAX_NS);
        self.window_latency.saturating_record(clamped);
        self.latency_sum_ns += u128::from(latency_ns);
        self.latency_max_ns = self.latency_max_ns.max(latency_ns);
        self.totals.succeeded += 1;
    }

    /// A breaker opened (+1) or closed (-1) at `at_ns`.
    #[inline]
    pub fn breaker_open_delta(&mut self, at_ns: Nanos, opened: bool) {
        self.at(at_ns);
        if opened {
            self.breakers_open += 1;
        } else {
            debug_assert!(self.breakers_open > 0, "more breakers closed than opened");
            self.breakers_open -= 1;
        }
    }

    fn close_until(&mut self, at_ns: Nanos) {
        let last = self.windows.len() - 1;
        while at_ns >= self.current_end_ns && self.current < last {
            self.close_current();
            self.current += 1;
            self.current_end_ns += self.window_ns;
        }
    }

    fn close_current(&mut self) {
        let window = &mut self.windows[self.current];
        window.breakers_open = self.breakers_open;
        if !self.window_latency.is_empty() {
            window.latency_ns = Some([
                self.window_latency.value_at_quantile(0.5),
                self.window_latency.value_at_quantile(0.99),
                self.window_latency.value_at_quantile(0.999),
            ]);
            self.run_latency
                .add(&self.window_latency)
                .expect("histograms of equal bounds add");
            self.window_latency.reset();
        }
    }

    /// Closes every window and returns the windows, the run's latency quantiles
    /// (p50, p99, p99.9, mean, max in ns) and the totals.
    pub fn finish(mut self) -> (Vec<WindowCounters>, [f64; 5], Totals) {
        self.close_until(Nanos::MAX);
        self.close_current();
        let quantiles = if self.run_latency.is_empty() {
            [0.0; 5]
        } else {
            [
                self.run_latency.value_at_quantile(0.5) as f64,
                self.run_latency.value_at_quantile(0.99) as f64,
                self.run_latency.value_at_quantile(0.999) as f64,
                self.latency_sum_ns as f64 / self.totals.succeeded.max(1) as f64,
                self.latency_max_ns as f64,
            ]
        };
        (self.windows, quantiles, self.totals)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_land_in_their_windows_and_breakers_are_sampled_at_the_end() {
        let mut metrics = Metrics::new(1_000, 4, 600);
        metrics.at(10).offered += 1;
        metrics.breaker_open_delta(500, true);
        metrics.at(2_500).offered += 2;
        metrics.breaker_open_delta(3_100, false);
        // Issued in window 2, answered in window 3: counted in both, by their clocks.
        metrics.record_success(3_200, 2_500);
        let (windows, quantiles, totals) = metrics.finish();
        assert_eq!(
            windows.iter().map(|w| w.offered).collect::<Vec<_>>(),
            vec![1, 0, 2, 0]
        );
        assert_eq!(
            windows.iter().map(|w| w.breakers_open).collect::<Vec<_>>(),
            vec![1, 1, 1, 0]
        );
        assert_eq!(windows[3].completed, 1);
        assert_eq!((windows[2].succeeded, windows[3].succeeded), (1, 0));
        // 700 ns is over the 600 ns objective: a success, not a good one.
        assert_eq!(windows[2].good, 0);
        assert!(windows[3].latency_ns.is_some() && windows[2].latency_ns.is_none());
        assert_eq!(quantiles[4], 700.0);
        assert_eq!(totals.succeeded, 1);
    }
}
