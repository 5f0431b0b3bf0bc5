//! Distributions of durations, written as one-key objects in scenario files, and their
//! samplers (nanosecond resolution, exactly as drawn: no 1 ms floor).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::duration::Dur;
pub use crate::engine::sampler::{round_to_u64, Sampler};

/// A distribution of durations.
///
/// `{"constant": "5ms"}`, `{"uniform": ["1ms", "5ms"]}`, `{"exponential": "5ms"}` (mean),
/// `{"normal": {"mean": "10ms", "sd": "2ms"}}` (folded at zero: `|N(mean, sd)|`, as in
/// Brooker's backoff experiment), `{"lognormal": {"mean": "10ms", "sd": "5ms"}}` (mean and
/// standard deviation of the distribution itself), `{"pareto": {"scale": "1ms", "shape": 2.5}}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase", deny_unknown_fields)]
pub enum Dist {
    /// Always the same value.
    Constant(Dur),
    /// Uniform between two values, inclusive.
    Uniform([Dur; 2]),
    /// Exponential with the given mean.
    Exponential(Dur),
    /// Normal, folded at zero.
    Normal(MeanSd),
    /// Lognormal with the given mean and standard deviation.
    Lognormal(MeanSd),
    /// Pareto (type I) with scale `x_m` and shape `alpha`.
    Pareto(ParetoParams),
}

/// Mean and standard deviation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MeanSd {
    /// Mean.
    pub mean: Dur,
    /// Standard deviation.
    pub sd: Dur,
}

/// Pareto parameters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ParetoParams {
    /// Scale `x_m`: the smallest value.
    pub scale: Dur,
    /// Shape `alpha` (> 0; the mean is finite for alpha > 1).
    pub shape: f64,
}

impl Dist {
    /// Checks parameters; the message names what is wrong (the caller adds the path).
    pub fn validate(&self) -> Result<(), String> {
        match self {
            Dist::Uniform([low, high]) if low > high => Err(format!(
                "uniform bounds out of order: {low} > {high} (write [low, high])"
            )),
            Dist::Exponential(mean) if mean.0.is_zero() => {
                Err("exponential mean must be above 0".into())
            }
            Dist::Lognormal(MeanSd { mean, .. }) if mean.0.is_zero() => {
                Err("lognormal mean must be above 0".into())
            }
            Dist::Pareto(ParetoParams { scale, shape }) => {
                if scale.0.is_zero() {
                    Err("pareto scale must be above 0".into())
                } else if !(shape.is_finite() && *shape > 0.0) {
                    Err(format!(
                        "pareto shape must be a finite number above 0, got {shape}"
                    ))
                } else {
                    Ok(())
                }
            }
            _ => Ok(()),
        }
    }

    /// The mean, in nanoseconds (infinite for a Pareto with shape <= 1).
    pub fn mean_ns(&self) -> f64 {
        match self {
            Dist::Constant(value) => value.as_nanos() as f64,
            Dist::Uniform([low, high]) => (low.as_nanos() as f64 + high.as_nanos() as f64) / 2.0,
            Dist::Exponential(mean) => mean.as_nanos() as f64,
            Dist::Normal(MeanSd { mean, .. }) | Dist::Lognormal(MeanSd { mean, .. }) => {
                mean.as_nanos() as f64
            }
            Dist::Pareto(ParetoParams { scale, shape }) => {
                if *shape <= 1.0 {
                    f64::INFINITY
                } else {
                    shape * scale.as_nanos() as f64 / (shape - 1.0)
                }
            }
        }
    }

    /// Precomputes a sampler.
    pub fn sampler(&self) -> Sampler {
        match self {
            Dist::Constant(value) => Sampler::Constant(value.as_nanos()),
            Dist::Uniform([low, high]) => Sampler::Uniform(low.as_nanos(), high.as_nanos()),
            Dist::Exponential(mean) => Sampler::Exponential(mean.as_nanos() as f64),
            Dist::Normal(MeanSd { mean, sd }) => {
                Sampler::FoldedNormal(mean.as_nanos() as f64, sd.as_nanos() as f64)
            }
            Dist::Lognormal(MeanSd { mean, sd }) => {
                // Moments to parameters: sigma^2 = ln(1 + sd^2/mean^2), mu = ln(mean) - sigma^2/2.
                let mean_ns = mean.as_nanos() as f64;
                let sd_ns = sd.as_nanos() as f64;
                let sigma2 = (1.0 + (sd_ns * sd_ns) / (mean_ns * mean_ns)).ln();
                Sampler::Lognormal(mean_ns.ln() - sigma2 / 2.0, sigma2.sqrt())
            }
            Dist::Pareto(ParetoParams { scale, shape }) => {
                Sampler::Pareto(scale.as_nanos() as f64, 1.0 / shape)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    fn mean_of(dist: &Dist, samples: usize) -> f64 {
        let sampler = dist.sampler();
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        (0..samples)
            .map(|_| sampler.sample_ns(&mut rng) as f64)
            .sum::<f64>()
            / samples as f64
    }

    #[test]
    fn sample_means_match_the_distribution_means() {
        // 200k samples: the standard error is below 0.5% of the mean for every case here,
        // so a 2% tolerance fails only on a real bias.
        let ms = Dur::from_millis;
        let cases = [
            Dist::Uniform([ms(1), ms(5)]),
            Dist::Exponential(ms(5)),
            Dist::Normal(MeanSd {
                mean: ms(10),
                sd: ms(2),
            }),
            Dist::Lognormal(MeanSd {
                mean: ms(10),
                sd: ms(5),
            }),
            Dist::Pareto(ParetoParams {
                scale: ms(1),
                shape: 3.0,
            }),
        ];
        for dist in cases {
            let measured = mean_of(&dist, 200_000);
            let expected = dist.mean_ns();
            assert!(
                (measured - expected).abs() / expected < 0.02,
                "{dist:?}: mean {measured} vs {expected}"
            );
        }
    }

    #[test]
    fn constant_is_exact_to_the_nanosecond() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let sampler = Dist::Constant(Dur::from_nanos(200_001)).sampler();
        assert_eq!(sampler.sample_ns(&mut rng), 200_001);
    }
}
