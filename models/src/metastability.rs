//! Recovered or metastable: after each trigger (a fault, a load spike) ends, did the
//! service come back to its baseline, and how long did it take?
//!
//! The monitor follows DesCartes' metastability monitor (des-explore; REFERENCES.md, "A
//! retry storm with a spike"), over whatever per-window features the caller has:
//!
//! - **Baseline**: the mean and spread of each feature over the warm-up windows before
//!   the first trigger ([`Baseline::fit`]); a spread is at least `relative_floor` of the
//!   mean and the caller's absolute floor, so a feature that never moved in the warm-up
//!   (no timeouts at all) does not make every later blip infinitely far.
//! - **Distance**: diagonal Mahalanobis, `sqrt(sum(((x - mean) / spread)^2))`; a window
//!   missing a feature the baseline has (no success, so no latency) is infinitely far.
//! - **Recovered** after `recover_windows` (3) consecutive windows within `epsilon` (3)
//!   of the baseline; the recovery time runs from the trigger's end to the first of them.
//! - **Metastable** after `stuck_windows` (10) consecutive windows outside whose distance
//!   is not falling (their second half's mean at least `draining_ratio`, 0.9, of their
//!   first half's: a backlog draining slowly is outside too, but comes closer), or when
//!   `limit_windows` pass without recovery.
//! - **Undecided** when the run ends first.
//!
//! Overlapping triggers: a trigger that starts before the verdict on an earlier one is
//! reached (before its recovery is confirmed) joins its episode, and the whole episode is
//! judged from its last end. Each trigger's [`Judgement`] names the trigger whose end
//! started the clock, so a 2 s restart inside a 10 s partition reads "recovered 1 s after
//! the partition ended", not 11 s after the restart.
//!
//! Invariants (checked with `debug_assert!`, tested by proptest): a distance is at least
//! 0 and 0 at the baseline mean; every trigger gets one judgement; a recovery point lies
//! at or after the end it is measured from, and its `recover_windows` windows are all
//! within `epsilon`; triggers of one episode share one verdict.

use serde::{Deserialize, Serialize};

/// Fewest warm-up windows a baseline is fitted from.
pub const MIN_BASELINE_WINDOWS: usize = 3;

/// The monitor's parameters.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Params {
    /// Largest distance from the baseline that counts as back. DesCartes: 3.
    pub epsilon: f64,
    /// Consecutive windows within `epsilon` that confirm a recovery. DesCartes: 3.
    pub recover_windows: usize,
    /// Consecutive windows outside, not draining, that make a verdict of metastable.
    pub stuck_windows: usize,
    /// A run outside is draining while its second half's mean distance is below this
    /// fraction of its first half's.
    pub draining_ratio: f64,
    /// Windows after a trigger's end within which it must recover; `None`: the run's end.
    pub limit_windows: Option<usize>,
    /// Smallest spread of a feature as a fraction of its baseline mean.
    pub relative_floor: f64,
}

impl Default for Params {
    /// epsilon 3, 3 windows to recover, 10 windows stuck, draining below 0.9, no limit
    /// but the run's end, spreads at least 5 % of the mean.
    fn default() -> Self {
        Self {
            epsilon: 3.0,
            recover_windows: 3,
            stuck_windows: 10,
            draining_ratio: 0.9,
            limit_windows: None,
            relative_floor: 0.05,
        }
    }
}

/// Mean and spread of each feature over the warm-up windows.
#[derive(Clone, Debug, PartialEq)]
pub struct Baseline {
    mean: Vec<f64>,
    spread: Vec<f64>,
}

impl Baseline {
    /// Fits a baseline on `windows` (each a row of features, all of one length); rows with
    /// a non-finite feature are skipped. `absolute_floor[i]` is the smallest spread of
    /// feature `i`. `None` with fewer than [`MIN_BASELINE_WINDOWS`] usable rows.
    pub fn fit(windows: &[Vec<f64>], absolute_floor: &[f64], relative_floor: f64) -> Option<Self> {
        let k = absolute_floor.len();
        let rows: Vec<&Vec<f64>> = windows
            .iter()
            .filter(|row| row.len() == k && row.iter().all(|x| x.is_finite()))
            .collect();
        if rows.len() < MIN_BASELINE_WINDOWS {
            return None;
        }
        let n = rows.len() as f64;
        let mean: Vec<f64> = (0..k)
            .map(|i| rows.iter().map(|row| row[i]).sum::<f64>() / n)
            .collect();
        let spread = (0..k)
            .map(|i| {
                let var = rows
                    .iter()
                    .map(|row| (row[i] - mean[i]).powi(2))
                    .sum::<f64>()
                    / (n - 1.0);
                var.sqrt()
                    .max(relative_floor * mean[i].abs())
                    .max(absolute_floor[i])
                    .max(f64::MIN_POSITIVE)
            })
            .collect();
        Some(Self { mean, spread })
    }

    /// The baseline mean of each feature.
    pub fn mean(&self) -> &[f64] {
        &self.mean
    }

    /// Diagonal Mahalanobis distance of one window from the baseline; infinite when a
    /// feature is missing (not finite) or the row has the wrong length.
    pub fn distance(&self, window: &[f64]) -> f64 {
        if window.len() != self.mean.len() || window.iter().any(|x| !x.is_finite()) {
            return f64::INFINITY;
        }
        let d = window
            .iter()
            .zip(&self.mean)
            .zip(&self.spread)
            .map(|((x, m), s)| ((x - m) / s).powi(2))
            .sum::<f64>()
            .sqrt();
        debug_assert!(d >= 0.0);
        d
    }
}

/// A trigger in window indices.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Trigger {
    /// The window in which it starts.
    pub start: usize,
    /// The first window starting at or after its end; `None` when it lasts to the end.
    pub end: Option<usize>,
}

/// Why a trigger was judged metastable.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stuck {
    /// `stuck_windows` windows in a row outside, not draining.
    Collapsed,
    /// `limit_windows` passed without recovery.
    LimitPassed,
}

/// The verdict on one episode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Back within epsilon from window `at` (the first of the confirming run).
    Recovered {
        /// First window of the confirming run.
        at: usize,
    },
    /// Stuck, decided at window `at`.
    Metastable {
        /// The window in which the verdict was reached.
        at: usize,
        /// Which rule decided it.
        why: Stuck,
    },
    /// The run ended before a verdict.
    Undecided,
    /// The trigger (or one it overlaps) lasts to the end of the run.
    Unended,
}

/// The verdict on one trigger.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Judgement {
    /// The verdict on its episode.
    pub verdict: Verdict,
    /// Index (in the caller's order) of the trigger whose end started the clock: itself,
    /// or the last-ending trigger it overlaps.
    pub judged_from: usize,
}

/// Scans `distances` from window `from`: the verdict, reached no later than the end.
fn scan(distances: &[f64], from: usize, params: &Params) -> Verdict {
    let recover = params.recover_windows.max(1);
    let stuck = params.stuck_windows.max(2);
    let mut within = 0usize;
    let mut outside = 0usize;
    for (i, &d) in distances.iter().enumerate().skip(from) {
        if d <= params.epsilon {
            within += 1;
            outside = 0;
            if within == recover {
                let at = i + 1 - recover;
                debug_assert!(distances[at..=i].iter().all(|d| *d <= params.epsilon));
                return Verdict::Recovered { at };
            }
        } else {
            within = 0;
            outside += 1;
            if outside >= stuck {
                let run = &distances[i + 1 - stuck..=i];
                let half = stuck / 2;
                let mean = |xs: &[f64]| xs.iter().sum::<f64>() / xs.len() as f64;
                let (first, second) = (mean(&run[..half]), mean(&run[run.len() - half..]));
                let draining = second < params.draining_ratio * first;
                if !draining {
                    return Verdict::Metastable {
                        at: i,
                        why: Stuck::Collapsed,
                    };
                }
            }
        }
        if params
            .limit_windows
            .is_some_and(|limit| i + 1 - from >= limit.max(1))
        {
            return Verdict::Metastable {
                at: i,
                why: Stuck::LimitPassed,
            };
        }
    }
    Verdict::Undecided
}

/// Judges every trigger over the per-window `distances` (from [`Baseline::distance`]).
/// Triggers are grouped into episodes: in start order, a trigger that starts before the
/// verdict on the episode so far is reached (before its confirming run ends, or at or
/// before the window a metastable verdict was reached in) joins it, and the episode is
/// judged again from its last end.
pub fn judge(distances: &[f64], triggers: &[Trigger], params: &Params) -> Vec<Judgement> {
    let mut order: Vec<usize> = (0..triggers.len()).collect();
    order.sort_by_key(|&i| (triggers[i].start, i));
    let mut out: Vec<Option<Judgement>> = vec![None; triggers.len()];
    let mut next = 0;
    while next < order.len() {
        let mut members = vec![order[next]];
        next += 1;
        loop {
            // The episode's last end, and which trigger it is (unended wins).
            let last = *members
                .iter()
                .max_by_key(|&&i| (triggers[i].end.map_or(usize::MAX, |e| e), i))
                .expect("an episode has a member");
            let verdict = match triggers[last].end {
                None => Verdict::Unended,
                Some(end) => scan(distances, end, params),
            };
            // Reached at: the last window that decided it.
            let decided = match verdict {
                Verdict::Recovered { at } => at + params.recover_windows.max(1),
                Verdict::Metastable { at, .. } => at + 1,
                Verdict::Undecided | Verdict::Unended => usize::MAX,
            };
            // Everything starting before the verdict joins at once: one scan per change
            // of the episode's last end, not per member.
            let joined = next;
            while next < order.len() && triggers[order[next]].start < decided {
                members.push(order[next]);
                next += 1;
            }
            if next > joined {
                continue;
            }
            for &m in &members {
                out[m] = Some(Judgement {
                    verdict,
                    judged_from: last,
                });
            }
            break;
        }
    }
    let judged: Vec<Judgement> = out
        .into_iter()
        .map(|j| j.expect("every trigger judged"))
        .collect();
    debug_assert!(judged
        .iter()
        .all(|j| match (j.verdict, triggers[j.judged_from].end) {
            (Verdict::Recovered { at }, Some(end)) => at >= end,
            (Verdict::Recovered { .. }, None) => false,
            _ => true,
        }));
    judged
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Features: goodput/s, latency ms, retry amplification, timeout fraction.
    const FLOORS: [f64; 4] = [1.0, 1.0, 0.02, 0.01];

    fn healthy(i: usize) -> Vec<f64> {
        // A little deterministic wobble so the spread is not only the floor.
        let w = [0.0, 1.0, -1.0, 0.5, -0.5][i % 5];
        vec![700.0 + 10.0 * w, 12.0 + 0.5 * w, 1.0, 0.0]
    }

    fn collapsed() -> Vec<f64> {
        vec![20.0, 290.0, 4.9, 0.97]
    }

    /// Distances of a timeline: 20 warm-up windows, then `rest`.
    fn distances(rest: &[Vec<f64>]) -> (Baseline, Vec<f64>) {
        let warmup: Vec<Vec<f64>> = (0..20).map(healthy).collect();
        let baseline = Baseline::fit(&warmup, &FLOORS, 0.05).expect("baseline");
        let all: Vec<f64> = warmup
            .iter()
            .chain(rest)
            .map(|w| baseline.distance(w))
            .collect();
        (baseline, all)
    }

    #[test]
    fn the_baseline_is_within_and_a_collapse_is_far() {
        let (baseline, d) = distances(&[]);
        assert!(d.iter().all(|d| *d <= 3.0), "{d:?}");
        assert_eq!(baseline.distance(baseline.mean()), 0.0);
        assert!(baseline.distance(&collapsed()) > 100.0);
        assert_eq!(
            baseline.distance(&[700.0, f64::NAN, 1.0, 0.0]),
            f64::INFINITY
        );
        assert!(Baseline::fit(&[healthy(0), healthy(1)], &FLOORS, 0.05).is_none());
    }

    #[test]
    fn a_clean_recovery_is_timed_from_the_trigger_end() {
        // Trigger over windows 20..30; 2 bad windows after, then healthy.
        let mut rest: Vec<Vec<f64>> = (0..10).map(|_| collapsed()).collect();
        rest.extend((0..2).map(|_| collapsed()));
        rest.extend((0..20).map(healthy));
        let (_, d) = distances(&rest);
        let j = judge(
            &d,
            &[Trigger {
                start: 20,
                end: Some(30),
            }],
            &Params::default(),
        );
        assert_eq!(
            j,
            vec![Judgement {
                verdict: Verdict::Recovered { at: 32 },
                judged_from: 0
            }]
        );
    }

    #[test]
    fn a_slow_healthy_drain_is_not_metastable_within_a_longer_limit() {
        // After the trigger a backlog drains over 30 windows: goodput at capacity, latency
        // falling linearly back to normal. Outside the whole time, but coming closer.
        let mut rest: Vec<Vec<f64>> = (0..10).map(|_| collapsed()).collect();
        rest.extend((0..30).map(|i| {
            let left = 1.0 - i as f64 / 30.0;
            vec![700.0 + 300.0 * left, 12.0 + 250.0 * left, 1.0, 0.0]
        }));
        rest.extend((0..20).map(healthy));
        let (_, d) = distances(&rest);
        let trigger = [Trigger {
            start: 20,
            end: Some(30),
        }];
        let limit = Params {
            limit_windows: Some(40),
            ..Params::default()
        };
        let j = judge(&d, &trigger, &limit);
        let Verdict::Recovered { at } = j[0].verdict else {
            panic!("a drain is not metastable: {j:?}")
        };
        assert!((50..=60).contains(&at), "recovered at window {at}");
        // Without the draining rule the same timeline reads as a collapse.
        let no_drain = Params {
            draining_ratio: 0.0,
            ..limit
        };
        assert!(matches!(
            judge(&d, &trigger, &no_drain)[0].verdict,
            Verdict::Metastable {
                why: Stuck::Collapsed,
                ..
            }
        ));
        // A limit shorter than the drain calls it: that is what a limit is.
        let short = Params {
            limit_windows: Some(10),
            ..Params::default()
        };
        assert_eq!(
            judge(&d, &trigger, &short)[0].verdict,
            Verdict::Metastable {
                at: 39,
                why: Stuck::LimitPassed
            }
        );
    }

    #[test]
    fn a_collapse_that_never_returns_is_metastable_after_the_stuck_run() {
        let rest: Vec<Vec<f64>> = (0..60).map(|_| collapsed()).collect();
        let (_, d) = distances(&rest);
        let j = judge(
            &d,
            &[Trigger {
                start: 20,
                end: Some(30),
            }],
            &Params::default(),
        );
        assert_eq!(
            j[0].verdict,
            Verdict::Metastable {
                at: 39,
                why: Stuck::Collapsed
            }
        );
        // The run ends before the stuck run completes: undecided, not recovered.
        assert_eq!(
            judge(
                &d[..35],
                &[Trigger {
                    start: 20,
                    end: Some(30)
                }],
                &Params::default()
            )[0]
            .verdict,
            Verdict::Undecided
        );
    }

    #[test]
    fn overlapping_triggers_are_judged_from_the_last_end() {
        // Fault 0 over windows 20..22 (a 2 s restart), fault 1 over 21..31 (a 10 s
        // partition); healthy one window after fault 1 ends.
        let mut rest: Vec<Vec<f64>> = (0..12).map(|_| collapsed()).collect();
        rest.extend((0..20).map(healthy));
        let (_, d) = distances(&rest);
        let triggers = [
            Trigger {
                start: 20,
                end: Some(22),
            },
            Trigger {
                start: 21,
                end: Some(31),
            },
        ];
        let j = judge(&d, &triggers, &Params::default());
        let both = Judgement {
            verdict: Verdict::Recovered { at: 32 },
            judged_from: 1,
        };
        assert_eq!(j, vec![both, both]);
        // A trigger starting while the first is still recovering joins its episode too.
        let later = [
            Trigger {
                start: 20,
                end: Some(22),
            },
            Trigger {
                start: 25,
                end: Some(31),
            },
        ];
        assert_eq!(judge(&d, &later, &Params::default()), vec![both, both]);
        // One starting after the first recovered is judged alone.
        let mut rest: Vec<Vec<f64>> = (0..2).map(|_| collapsed()).collect();
        rest.extend((0..8).map(healthy));
        rest.extend((0..3).map(|_| collapsed()));
        rest.extend((0..10).map(healthy));
        let (_, d) = distances(&rest);
        let apart = [
            Trigger {
                start: 20,
                end: Some(22),
            },
            Trigger {
                start: 30,
                end: Some(33),
            },
        ];
        assert_eq!(
            judge(&d, &apart, &Params::default()),
            vec![
                Judgement {
                    verdict: Verdict::Recovered { at: 22 },
                    judged_from: 0
                },
                Judgement {
                    verdict: Verdict::Recovered { at: 33 },
                    judged_from: 1
                },
            ]
        );
        // An unended trigger makes its episode unended.
        let unended = [
            Trigger {
                start: 20,
                end: Some(22),
            },
            Trigger {
                start: 21,
                end: None,
            },
        ];
        assert!(judge(&d, &unended, &Params::default())
            .iter()
            .all(|j| j.verdict == Verdict::Unended));
    }

    proptest! {
        #[test]
        fn judgements_keep_their_laws(
            d in prop::collection::vec(prop_oneof![0.0..2.0f64, 2.0..50.0f64, Just(f64::INFINITY)], 1..80),
            raw in prop::collection::vec((0usize..80, 0usize..20, any::<bool>()), 0..6),
            limit in prop::option::of(1usize..40),
        ) {
            let triggers: Vec<Trigger> = raw
                .iter()
                .map(|&(s, len, ended)| Trigger { start: s, end: ended.then_some(s + len) })
                .collect();
            let params = Params { limit_windows: limit, ..Params::default() };
            let judged = judge(&d, &triggers, &params);
            prop_assert_eq!(judged.len(), triggers.len());
            for (i, j) in judged.iter().enumerate() {
                let from = triggers[j.judged_from];
                // The clock starts at the latest end among the episode's members.
                prop_assert!(from.end.map_or(usize::MAX, |e| e) >= triggers[i].end.map_or(usize::MAX, |e| e));
                match j.verdict {
                    Verdict::Recovered { at } => {
                        let end = from.end.expect("recovered from an end");
                        prop_assert!(at >= end);
                        prop_assert!(d[at..at + params.recover_windows].iter().all(|x| *x <= params.epsilon));
                        if let Some(limit) = limit {
                            prop_assert!(at + params.recover_windows - end <= limit);
                        }
                    }
                    Verdict::Metastable { at, .. } => prop_assert!(at < d.len()),
                    Verdict::Undecided | Verdict::Unended => {}
                }
                // Members of one episode share its verdict.
                for (k, other) in judged.iter().enumerate() {
                    if other.judged_from == j.judged_from {
                        prop_assert_eq!(other.verdict, j.verdict, "{} and {}", i, k);
                    }
                }
            }
        }

        #[test]
        fn distances_are_non_negative_and_zero_at_the_mean(
            rows in prop::collection::vec(prop::collection::vec(0.0..1000.0f64, 3), 3..30),
            probe in prop::collection::vec(-1e6..1e6f64, 3),
        ) {
            let baseline = Baseline::fit(&rows, &[1.0, 1.0, 1.0], 0.05).expect("enough rows");
            prop_assert!(baseline.distance(&probe) >= 0.0);
            prop_assert_eq!(baseline.distance(baseline.mean()), 0.0);
        }
    }
}
