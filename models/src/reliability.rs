//! Closed-form reliability and queueing results, the yardsticks the simulator's measured
//! numbers are checked against.
//!
//! Pure `f64` functions, no state. Probabilities and availabilities are fractions in
//! `[0, 1]`; rates are per second and times are in seconds where the name says `_per_s`
//! and `_s` (any other unit works if used consistently).
//!
//! Sources: availability, series, parallel and k-of-n are the standard reliability
//! block-diagram results (e.g. Trivedi, "Probability and Statistics with Reliability,
//! Queuing, and Computer Science Applications", 2nd ed., 2016, ch. 3 and 8); M/M/1 and
//! M/M/c with the Erlang C formula are from Kleinrock, "Queueing Systems, Vol. 1", 1975,
//! §3.2 and §3.5; the EWMA trip count is the seed document's breaker formula (see
//! `REFERENCES.md`).
//!
//! # Invariants
//!
//! Every probability returned lies in `[0, 1]` (checked with `debug_assert!`); the
//! queueing functions return `None` rather than a negative or infinite wait when the
//! queue is unstable (`rho >= 1`) or the inputs are not valid rates.

use serde::{Deserialize, Serialize};

/// Steady-state availability of one repairable component:
/// `A = MTBF / (MTBF + MTTR)` (equivalently `mu / (lambda + mu)` with failure rate
/// `lambda = 1/MTBF` and repair rate `mu = 1/MTTR`). Both in the same unit.
///
/// Returns 1 when `mttr` is 0 (never down), and NaN when both are 0.
pub fn availability(mtbf: f64, mttr: f64) -> f64 {
    let a = mtbf / (mtbf + mttr);
    debug_assert!(a.is_nan() || (0.0..=1.0).contains(&a));
    a
}

/// Availability of components in series (all must be up): the product of the `A_i`.
/// An empty system is always up (1).
pub fn series(availabilities: &[f64]) -> f64 {
    availabilities.iter().product()
}

/// Availability of components in parallel (one up suffices):
/// `1 - product of (1 - A_i)`. An empty system is never up (0).
pub fn parallel(availabilities: &[f64]) -> f64 {
    1.0 - availabilities.iter().map(|a| 1.0 - a).product::<f64>()
}

/// Availability of a k-of-n system of identical independent components, each up with
/// probability `a`: `sum over i = k..=n of C(n, i) a^i (1 - a)^(n - i)`. 2-of-3 at
/// `a = 0.99` is 0.999702.
///
/// Terms are computed in log space (works for `n` in the thousands), and the smaller of
/// the two tails is summed directly, the other taken as its complement, so results near 1
/// keep their precision. `k = 0` gives 1; `k > n` gives 0.
pub fn k_of_n(k: u32, n: u32, a: f64) -> f64 {
    if k == 0 {
        return 1.0;
    }
    if k > n {
        return 0.0;
    }
    // ln 0 = -inf would give NaN in 0 * ln 0; the edges are exact anyway.
    if a <= 0.0 {
        return 0.0;
    }
    if a >= 1.0 {
        return 1.0;
    }
    let (ln_a, ln_not_a) = (a.ln(), (-a).ln_1p());
    let (mut lower, mut upper) = (0.0, 0.0);
    let mut ln_choose = 0.0; // ln C(n, 0)
    for i in 0..=n {
        if i > 0 {
            // C(n, i) = C(n, i - 1) * (n - i + 1) / i
            ln_choose += f64::from(n - i + 1).ln() - f64::from(i).ln();
        }
        let term = (ln_choose + f64::from(i) * ln_a + f64::from(n - i) * ln_not_a).exp();
        if i < k {
            lower += term;
        } else {
            upper += term;
        }
    }
    let result = if upper <= lower { upper } else { 1.0 - lower };
    let result = result.clamp(0.0, 1.0);
    debug_assert!((0.0..=1.0).contains(&result));
    result
}

/// Expected number of attempts until the first success when each attempt succeeds
/// independently with probability `p` (geometric distribution): `1 / p`. Infinite for
/// `p = 0`.
pub fn expected_attempts(p: f64) -> f64 {
    1.0 / p
}

/// "Number of nines" of an availability: `-log10(1 - a)` (0.999 is 3 nines). Infinite for
/// `a = 1`.
pub fn nines(a: f64) -> f64 {
    -(1.0 - a).log10()
}

/// Number of consecutive failures that trip an EWMA error-rate breaker that starts at 0:
/// after `n` failures the rate is `1 - (1 - alpha)^n`, so it reaches `threshold` after
/// `ceil(ln(1 - threshold) / ln(1 - alpha))` failures (the seed document's formula; 7 for
/// `alpha = 0.1`, `threshold = 0.5`).
///
/// The logarithm ratio can land a hair off an integer, so the candidate is corrected
/// against the defining inequality `1 - (1 - alpha)^n >= threshold`. Returns 0 when
/// `threshold <= 0` (already tripped), 1 when `alpha >= 1`, and `u32::MAX` when it never
/// trips (`threshold >= 1` with `alpha < 1`, or `alpha <= 0`).
pub fn ewma_trip_count(alpha: f64, threshold: f64) -> u32 {
    if threshold <= 0.0 {
        return 0;
    }
    if alpha >= 1.0 {
        return 1;
    }
    if alpha <= 0.0 || threshold >= 1.0 || alpha.is_nan() || threshold.is_nan() {
        return u32::MAX;
    }
    let reached = |n: u32| -> bool {
        // 1 - (1 - alpha)^n >= threshold  <=>  (1 - alpha)^n <= 1 - threshold
        (f64::from(n) * (-alpha).ln_1p()).exp() <= 1.0 - threshold
    };
    let estimate = ((-threshold).ln_1p() / (-alpha).ln_1p()).ceil();
    let mut n = if estimate >= f64::from(u32::MAX) {
        return u32::MAX;
    } else {
        estimate.max(1.0) as u32
    };
    while n > 1 && reached(n - 1) {
        n -= 1;
    }
    while !reached(n) {
        n = match n.checked_add(1) {
            Some(next) => next,
            None => return u32::MAX,
        };
    }
    n
}

/// Steady-state results for a queue with Poisson arrivals and exponential service.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct QueueStats {
    /// `rho = lambda / (c mu)`: fraction of time a server is busy.
    pub utilization: f64,
    /// Probability that an arrival has to wait (Erlang C; `rho` for one server).
    pub p_wait: f64,
    /// `Wq`: mean time spent waiting in the queue, seconds.
    pub wait_s: f64,
    /// `W = Wq + 1/mu`: mean time in the system (sojourn), seconds.
    pub sojourn_s: f64,
    /// `Lq = lambda Wq`: mean number waiting (Little's law).
    pub queue_len: f64,
    /// `L = lambda W`: mean number in the system (Little's law).
    pub in_system: f64,
}

/// M/M/1 (Kleinrock 1975, §3.2): `rho = lambda / mu`, `Wq = rho / (mu - lambda)`,
/// `W = 1 / (mu - lambda)`. `None` when unstable (`lambda >= mu`) or the rates are not
/// valid (`lambda < 0`, `mu <= 0`, NaN).
pub fn mm1(lambda_per_s: f64, mu_per_s: f64) -> Option<QueueStats> {
    if !(lambda_per_s >= 0.0 && mu_per_s > 0.0 && lambda_per_s < mu_per_s) {
        return None;
    }
    let rho = lambda_per_s / mu_per_s;
    let wait_s = rho / (mu_per_s - lambda_per_s);
    let sojourn_s = 1.0 / (mu_per_s - lambda_per_s);
    Some(QueueStats {
        utilization: rho,
        p_wait: rho,
        wait_s,
        sojourn_s,
        queue_len: lambda_per_s * wait_s,
        in_system: lambda_per_s * sojourn_s,
    })
}

/// Erlang C: the probability that an arrival waits in an M/M/c queue with offered load
/// `a = lambda / mu` erlangs. `None` unless `0 <= a < c`.
///
/// Computed from the Erlang B recursion `B(0) = 1`, `B(k) = a B(k-1) / (k + a B(k-1))`
/// and `C = B(c) / (1 - (a/c)(1 - B(c)))`: every step stays in `[0, 1]`, so there is no
/// factorial or power to overflow and it is exact enough for thousands of servers.
pub fn erlang_c(servers: u32, offered_load: f64) -> Option<f64> {
    if servers == 0 || !(offered_load >= 0.0 && offered_load < f64::from(servers)) {
        return None;
    }
    let mut b = 1.0;
    for k in 1..=servers {
        b = offered_load * b / (f64::from(k) + offered_load * b);
    }
    let rho = offered_load / f64::from(servers);
    let c = b / (1.0 - rho * (1.0 - b));
    debug_assert!((0.0..=1.0).contains(&c), "Erlang C out of range: {c}");
    Some(c)
}

/// M/M/c (Kleinrock 1975, §3.5): `c` servers each of rate `mu`, Poisson arrivals at rate
/// `lambda`. `P_wait` is [`erlang_c`], `Wq = P_wait / (c mu - lambda)`,
/// `W = Wq + 1/mu`. `None` when unstable (`lambda >= c mu`), `c = 0`, or the rates are
/// not valid. For `c = 1` this equals [`mm1`].
pub fn mmc(lambda_per_s: f64, mu_per_s: f64, servers: u32) -> Option<QueueStats> {
    if !(lambda_per_s >= 0.0 && mu_per_s > 0.0) {
        return None;
    }
    let p_wait = erlang_c(servers, lambda_per_s / mu_per_s)?;
    let capacity_per_s = f64::from(servers) * mu_per_s;
    let wait_s = p_wait / (capacity_per_s - lambda_per_s);
    let sojourn_s = wait_s + 1.0 / mu_per_s;
    Some(QueueStats {
        utilization: lambda_per_s / capacity_per_s,
        p_wait,
        wait_s,
        sojourn_s,
        queue_len: lambda_per_s * wait_s,
        in_system: lambda_per_s * sojourn_s,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol
    }

    #[test]
    fn published_numbers() {
        // REFERENCES: 2-of-3 at A = 0.99 is 0.999702.
        assert!(
            close(k_of_n(2, 3, 0.99), 0.999702, 1e-6),
            "{}",
            k_of_n(2, 3, 0.99)
        );
        // A = MTBF / (MTBF + MTTR): 60 s up, 5 s repair -> 12/13.
        assert!(close(availability(60.0, 5.0), 12.0 / 13.0, 1e-15));
        assert!(close(availability(999.0, 1.0), 0.999, 1e-15));
        assert!(close(nines(0.999), 3.0, 1e-9));
        assert!(close(expected_attempts(0.25), 4.0, 1e-15));
        assert!(close(expected_attempts(1.0), 1.0, 0.0));
        assert!(expected_attempts(0.0).is_infinite());
        assert_eq!(ewma_trip_count(0.1, 0.5), 7);
        assert!(close(series(&[0.9, 0.9]), 0.81, 1e-15));
        assert!(close(parallel(&[0.9, 0.9]), 0.99, 1e-15));
        assert_eq!(series(&[]), 1.0);
        assert_eq!(parallel(&[]), 0.0);
    }

    #[test]
    fn ewma_trip_count_edges() {
        // alpha = 0.5: 1 - 0.5^2 = 0.75 exactly, so threshold 0.75 trips at 2, not 3.
        assert_eq!(ewma_trip_count(0.5, 0.75), 2);
        assert_eq!(ewma_trip_count(0.5, 0.7500001), 3);
        // A threshold hit exactly by the second failure in f64, where the log ratio lands a
        // hair above 2 (ceil would say 3): the correction step must bring it back to 2.
        let exact = 1.0 - (2.0 * (-0.1f64).ln_1p()).exp();
        assert!(((-exact).ln_1p() / (-0.1f64).ln_1p()).ceil() == 3.0);
        assert_eq!(ewma_trip_count(0.1, exact), 2);
        assert_eq!(ewma_trip_count(0.1, 0.1), 1);
        assert_eq!(ewma_trip_count(0.1, 0.0), 0);
        assert_eq!(ewma_trip_count(1.0, 0.9), 1);
        assert_eq!(ewma_trip_count(0.1, 1.0), u32::MAX);
        assert_eq!(ewma_trip_count(0.0, 0.5), u32::MAX);
    }

    #[test]
    fn mm1_worked_by_hand() {
        // lambda = 8/s, mu = 10/s: rho = 0.8, Wq = 0.8 / 2 = 0.4 s, W = 1/2 = 0.5 s,
        // Lq = 3.2, L = 4.
        let q = mm1(8.0, 10.0).unwrap();
        assert!(close(q.utilization, 0.8, 1e-15));
        assert!(close(q.wait_s, 0.4, 1e-15));
        assert!(close(q.sojourn_s, 0.5, 1e-15));
        assert!(close(q.queue_len, 3.2, 1e-12));
        assert!(close(q.in_system, 4.0, 1e-12));
        // lambda = 1/s, mu = 4/s: Wq = 0.25 / 3 s.
        assert!(close(mm1(1.0, 4.0).unwrap().wait_s, 1.0 / 12.0, 1e-15));
        assert_eq!(mm1(10.0, 10.0), None);
        assert_eq!(mm1(11.0, 10.0), None);
        assert_eq!(mm1(1.0, 0.0), None);
        assert_eq!(mm1(f64::NAN, 1.0), None);
        assert_eq!(mm1(0.0, 1.0).unwrap().wait_s, 0.0);
    }

    #[test]
    fn erlang_c_textbook_values() {
        // c = 2, lambda = 1, mu = 1: P_wait = 1/3, Wq = (1/3) / (2 - 1) = 1/3, W = 4/3.
        let q = mmc(1.0, 1.0, 2).unwrap();
        assert!(close(q.p_wait, 1.0 / 3.0, 1e-15));
        assert!(close(q.wait_s, 1.0 / 3.0, 1e-15));
        assert!(close(q.sojourn_s, 4.0 / 3.0, 1e-15));
        assert_eq!(mmc(2.0, 1.0, 2), None);
        assert_eq!(mmc(1.0, 1.0, 0), None);
        // c = 1 is M/M/1.
        for &(l, m) in &[(8.0, 10.0), (0.5, 3.0), (99.0, 100.0)] {
            let a = mmc(l, m, 1).unwrap();
            let b = mm1(l, m).unwrap();
            assert!(close(a.p_wait, b.p_wait, 1e-12));
            assert!(close(a.wait_s, b.wait_s, 1e-9 * b.wait_s));
            assert!(close(a.sojourn_s, b.sojourn_s, 1e-9 * b.sojourn_s));
        }
    }

    /// Erlang C from its textbook definition,
    /// `C = (a^c / c!) (c / (c - a)) / (sum_{k<c} a^k / k! + (a^c / c!) (c / (c - a)))`,
    /// evaluated in log space with log-sum-exp: independent of the Erlang B recursion.
    fn erlang_c_direct(c: u32, a: f64) -> f64 {
        let ln_term = |k: u32| -> f64 {
            let ln_fact: f64 = (1..=k).map(|i| f64::from(i).ln()).sum();
            f64::from(k) * a.ln() - ln_fact
        };
        let ln_top = ln_term(c) + (f64::from(c) / (f64::from(c) - a)).ln();
        let mut lns: Vec<f64> = (0..c).map(ln_term).collect();
        lns.push(ln_top);
        let max = lns.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        let ln_sum = max + lns.iter().map(|x| (x - max).exp()).sum::<f64>().ln();
        (ln_top - ln_sum).exp()
    }

    /// k-of-n from the definition with exact binomial coefficients (small n only).
    fn k_of_n_direct(k: u32, n: u32, a: f64) -> f64 {
        let choose = |n: u32, i: u32| -> f64 {
            (0..i).fold(1.0, |acc, j| acc * f64::from(n - j) / f64::from(j + 1))
        };
        (k..=n)
            .map(|i| choose(n, i) * a.powi(i as i32) * (1.0 - a).powi((n - i) as i32))
            .sum()
    }

    proptest! {
        #[test]
        fn k_of_n_equals_the_binomial_sum(n in 0u32..30, k in 0u32..32, a in 0.0f64..=1.0) {
            let got = k_of_n(k, n, a);
            let want = if k == 0 { 1.0 } else { k_of_n_direct(k, n, a) };
            prop_assert!(close(got, want, 1e-9), "k={} n={} a={}: {} vs {}", k, n, a, got, want);
        }

        #[test]
        fn k_of_n_special_cases(n in 1u32..20, a in 0.0f64..=1.0) {
            let copies = vec![a; n as usize];
            // n-of-n is series, 1-of-n is parallel.
            prop_assert!(close(k_of_n(n, n, a), series(&copies), 1e-9));
            prop_assert!(close(k_of_n(1, n, a), parallel(&copies), 1e-9));
            // More required components can only lower availability.
            for k in 1..=n {
                prop_assert!(k_of_n(k, n, a) <= k_of_n(k - 1, n, a) + 1e-12);
            }
        }

        #[test]
        fn erlang_c_matches_definition_for_many_servers(c in 1u32..400, load in 0.01f64..0.999) {
            let a = load * f64::from(c);
            let got = erlang_c(c, a).unwrap();
            let want = erlang_c_direct(c, a);
            prop_assert!(
                close(got, want, 1e-9 * want.max(1e-300) + 1e-12),
                "c={} a={}: {} vs {}", c, a, got, want
            );
            prop_assert!((0.0..=1.0).contains(&got));
        }

        #[test]
        fn mmc_obeys_littles_law_and_more_servers_help(
            c in 1u32..50, load in 0.01f64..0.99, mu in 0.1f64..100.0,
        ) {
            let lambda = load * f64::from(c) * mu;
            let q = mmc(lambda, mu, c).unwrap();
            let little = q.queue_len + lambda / mu;
            prop_assert!(close(q.in_system, little, 1e-9 * q.in_system.max(1.0)));
            prop_assert!(q.sojourn_s >= 1.0 / mu);
            // Adding a server at the same arrival rate never increases the wait.
            let more = mmc(lambda, mu, c + 1).unwrap();
            prop_assert!(more.wait_s <= q.wait_s * (1.0 + 1e-12));
        }

        #[test]
        fn ewma_trip_count_matches_iterated_ewma(
            alpha in 0.01f64..0.99, threshold in 0.01f64..0.99,
        ) {
            // Iterate the EWMA e <- e + alpha (1 - e) from 0, as a breaker does.
            let n = ewma_trip_count(alpha, threshold);
            let mut e = 0.0f64;
            let mut steps = 0u32;
            while e < threshold {
                e += alpha * (1.0 - e);
                steps += 1;
            }
            // The iterated form rounds differently only when the crossing is exact.
            let exact_crossing = (n as i64 - steps as i64).abs() == 1
                && (1.0 - (1.0 - alpha).powi(n as i32) - threshold).abs() < 1e-12;
            prop_assert!(
                n == steps || exact_crossing,
                "alpha={} threshold={}: closed form {} vs iterated {}", alpha, threshold, n, steps
            );
        }
    }
}
