//! Load over time: the factor a profile (`workload.clients.load`) puts on the open-loop
//! rate at each instant, and the profile's changes as intervals for the charts and the
//! verdicts.
//!
//! Arrivals follow the profile by thinning (Lewis and Shedler, 1979): candidates come
//! at the peak rate, and one at time `t` is kept with probability `factor(t) / peak`,
//! which is exactly a Poisson process of rate `rate * factor(t)`. Without a profile no
//! candidate is drawn or dropped, so a constant load draws the same numbers in the same
//! order as before profiles existed.

use super::spec::{LoadSpec, MAX_LOAD_FACTOR};
use crate::engine::faults::Interval;
use crate::engine::queue::Nanos;

/// A load profile, times in ns.
#[derive(Clone, Debug, PartialEq)]
pub enum LoadProfile {
    /// `factor` from `at_ns` on.
    Step {
        /// When.
        at_ns: Nanos,
        /// The factor after.
        factor: f64,
    },
    /// `factor` over `[at_ns, end_ns)`.
    Spike {
        /// Start.
        at_ns: Nanos,
        /// End.
        end_ns: Nanos,
        /// The factor during it.
        factor: f64,
    },
    /// 1 to `factor` linearly over `[from_ns, to_ns)`, then `factor`.
    Ramp {
        /// Start.
        from_ns: Nanos,
        /// End (above `from_ns`).
        to_ns: Nanos,
        /// The factor at the end and after.
        factor: f64,
    },
    /// `1 + amplitude * sin(2 pi t / period)`.
    Diurnal {
        /// Period (above 0).
        period_ns: Nanos,
        /// Swing, 0 .. 1.
        amplitude: f64,
    },
    /// Each point's factor from its time to the next point's; 1 before the first.
    Piecewise(Vec<(Nanos, f64)>),
}

impl LoadProfile {
    /// Resolves a checked spec.
    pub fn from_spec(spec: &LoadSpec) -> Self {
        match spec {
            LoadSpec::Step(step) => LoadProfile::Step {
                at_ns: step.at.as_nanos(),
                factor: step.factor,
            },
            LoadSpec::Spike(spike) => LoadProfile::Spike {
                at_ns: spike.at.as_nanos(),
                end_ns: spike.at.as_nanos().saturating_add(spike.for_.as_nanos()),
                factor: spike.factor,
            },
            LoadSpec::Ramp(ramp) => LoadProfile::Ramp {
                from_ns: ramp.from.as_nanos(),
                to_ns: ramp.to.as_nanos(),
                factor: ramp.factor,
            },
            LoadSpec::Diurnal(diurnal) => LoadProfile::Diurnal {
                period_ns: diurnal.period.as_nanos(),
                amplitude: diurnal.amplitude,
            },
            LoadSpec::Piecewise(points) => LoadProfile::Piecewise(
                points
                    .iter()
                    .map(|point| (point.at.as_nanos(), point.factor))
                    .collect(),
            ),
        }
    }

    /// The factor on the rate at `t_ns`.
    pub fn factor(&self, t_ns: Nanos) -> f64 {
        match *self {
            LoadProfile::Step { at_ns, factor } => {
                if t_ns >= at_ns {
                    factor
                } else {
                    1.0
                }
            }
            LoadProfile::Spike {
                at_ns,
                end_ns,
                factor,
            } => {
                if (at_ns..end_ns).contains(&t_ns) {
                    factor
                } else {
                    1.0
                }
            }
            LoadProfile::Ramp {
                from_ns,
                to_ns,
                factor,
            } => {
                if t_ns < from_ns {
                    1.0
                } else if t_ns >= to_ns {
                    factor
                } else {
                    let done = (t_ns - from_ns) as f64 / (to_ns - from_ns) as f64;
                    1.0 + (factor - 1.0) * done
                }
            }
            LoadProfile::Diurnal {
                period_ns,
                amplitude,
            } => {
                // The phase from the remainder, so a long run keeps full precision.
                let phase = (t_ns % period_ns) as f64 / period_ns as f64;
                1.0 + amplitude * (std::f64::consts::TAU * phase).sin()
            }
            LoadProfile::Piecewise(ref points) => {
                let after = points.partition_point(|(at_ns, _)| *at_ns <= t_ns);
                after.checked_sub(1).map_or(1.0, |i| points[i].1)
            }
        }
    }

    /// The largest factor, at least 1 (what candidates are drawn at).
    pub fn peak(&self) -> f64 {
        let peak = match self {
            LoadProfile::Step { factor, .. }
            | LoadProfile::Spike { factor, .. }
            | LoadProfile::Ramp { factor, .. } => *factor,
            LoadProfile::Diurnal { amplitude, .. } => 1.0 + amplitude,
            LoadProfile::Piecewise(points) => points.iter().map(|p| p.1).fold(1.0, f64::max),
        };
        debug_assert!(peak <= MAX_LOAD_FACTOR + 1.0);
        peak.max(1.0)
    }

    /// Whether a candidate arrival at `t_ns` with uniform draw `keep` (0 .. 1) is kept.
    #[inline]
    pub fn keeps(&self, t_ns: Nanos, keep: f64, peak: f64) -> bool {
        keep * peak < self.factor(t_ns)
    }

    /// The profile's changes as intervals (kind `load`), for the charts, the fault
    /// table and the verdicts: a spike, a step or ramp to the end of the run, each
    /// piecewise point whose factor is not 1 until the next point; a diurnal cycle over
    /// the whole run (a background condition).
    pub fn intervals(&self) -> Vec<Interval> {
        let text = |factor: f64| format!("clients x{}", trim(factor));
        match self {
            LoadProfile::Step { at_ns, factor } => vec![interval(
                format!("step {}", text(*factor)),
                *at_ns,
                None,
            )],
            LoadProfile::Spike {
                at_ns,
                end_ns,
                factor,
            } => vec![interval(
                format!("spike {}", text(*factor)),
                *at_ns,
                Some(*end_ns),
            )],
            LoadProfile::Ramp {
                from_ns, factor, ..
            } => vec![interval(format!("ramp {}", text(*factor)), *from_ns, None)],
            LoadProfile::Diurnal { amplitude, .. } => vec![interval(
                format!("diurnal ±{}", trim(*amplitude)),
                0,
                None,
            )],
            LoadProfile::Piecewise(points) => points
                .iter()
                .enumerate()
                .filter(|(_, point)| point.1 != 1.0)
                .map(|(i, &(at_ns, factor))| {
                    let end_ns = points.get(i + 1).map(|next| next.0);
                    interval(format!("piecewise {}", text(factor)), at_ns, end_ns)
                })
                .collect(),
        }
    }
}

fn interval(target: String, start_ns: Nanos, end_ns: Option<Nanos>) -> Interval {
    Interval {
        kind: "load",
        target,
        start_ns,
        end_ns,
    }
}

/// `3`, `0.5`: a factor without trailing zeros.
fn trim(value: f64) -> String {
    let text = format!("{value:.3}");
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Nanos = 1_000_000_000;

    #[test]
    fn factors_follow_each_profile() {
        let spike = LoadProfile::Spike {
            at_ns: 10 * S,
            end_ns: 15 * S,
            factor: 3.0,
        };
        assert_eq!(
            [9 * S, 10 * S, 15 * S - 1, 15 * S].map(|t| spike.factor(t)),
            [1.0, 3.0, 3.0, 1.0]
        );
        assert_eq!(spike.peak(), 3.0);
        let ramp = LoadProfile::Ramp {
            from_ns: 10 * S,
            to_ns: 20 * S,
            factor: 3.0,
        };
        assert_eq!([0, 15 * S, 30 * S].map(|t| ramp.factor(t)), [1.0, 2.0, 3.0]);
        let diurnal = LoadProfile::Diurnal {
            period_ns: 40 * S,
            amplitude: 0.5,
        };
        assert!((diurnal.factor(10 * S) - 1.5).abs() < 1e-12);
        assert!((diurnal.factor(70 * S) - 0.5).abs() < 1e-12);
        assert_eq!(diurnal.peak(), 1.5);
        let steps = LoadProfile::Piecewise(vec![(5 * S, 2.0), (8 * S, 0.0), (9 * S, 1.0)]);
        assert_eq!(
            [0, 5 * S, 8 * S, 20 * S].map(|t| steps.factor(t)),
            [1.0, 2.0, 0.0, 1.0]
        );
        // A factor below 1 everywhere still draws at the base rate, at least.
        let down = LoadProfile::Step {
            at_ns: 0,
            factor: 0.5,
        };
        assert_eq!(down.peak(), 1.0);
        let marks = steps.intervals();
        assert_eq!(marks.len(), 2);
        assert_eq!(marks[0].target, "piecewise clients x2");
        assert_eq!((marks[1].start_ns, marks[1].end_ns), (8 * S, Some(9 * S)));
    }

    #[test]
    fn thinning_keeps_the_profiles_fraction() {
        let spike = LoadProfile::Spike {
            at_ns: 0,
            end_ns: S,
            factor: 4.0,
        };
        let peak = spike.peak();
        let kept = (0..1000)
            .filter(|i| spike.keeps(2 * S, f64::from(*i) / 1000.0, peak))
            .count();
        assert_eq!(kept, 250, "outside the spike, 1 in 4 candidates");
        assert!((0..1000).all(|i| spike.keeps(0, f64::from(i) / 1000.0, peak)));
    }
}
