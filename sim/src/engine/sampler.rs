//! Ready-to-draw distributions over nanoseconds: the kernel's form of the scenario
//! format's distributions (the resolve step builds them; `format::dist`).

use rand::Rng;
use rand_distr::{Distribution, Exp1, StandardNormal};

/// A ready-to-draw distribution over nanoseconds.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Sampler {
    /// Constant nanoseconds.
    Constant(u64),
    /// Uniform over `[low, high]` nanoseconds.
    Uniform(u64, u64),
    /// Exponential with this mean (ns).
    Exponential(f64),
    /// `|N(mean, sd)|` in ns.
    FoldedNormal(f64, f64),
    /// `exp(N(mu, sigma))` in ns.
    Lognormal(f64, f64),
    /// `scale * U^(-1/shape)`, stored as (scale, 1/shape).
    Pareto(f64, f64),
}

/// Samples are capped here (about 11.6 days) so that sums of delays cannot overflow.
const MAX_SAMPLE_NS: f64 = 1.0e15;

/// `x.round() as u64`, exactly, without the libm call `f64::round` compiles to on
/// baseline x86-64 (no SSE4.1): for `0 <= x < 2^52` the integer part `t` is exact, so is
/// `x - t`, and rounding half away from zero is `t + (x - t >= 0.5)`. Anything else
/// (negative, huge, NaN) takes `round` itself.
#[inline(always)]
pub fn round_to_u64(x: f64) -> u64 {
    const EXACT: f64 = (1u64 << 52) as f64;
    if (0.0..EXACT).contains(&x) {
        let t = x as u64;
        t + u64::from(x - t as f64 >= 0.5)
    } else {
        x.round() as u64
    }
}

impl Sampler {
    /// Draws one value in nanoseconds.
    #[inline]
    pub fn sample_ns(&self, rng: &mut impl Rng) -> u64 {
        let value_ns = match *self {
            Sampler::Constant(value) => return value,
            Sampler::Uniform(low, high) => return rng.gen_range(low..=high),
            Sampler::Exponential(mean) => {
                let unit: f64 = Exp1.sample(rng);
                unit * mean
            }
            Sampler::FoldedNormal(mean, sd) => {
                let z: f64 = StandardNormal.sample(rng);
                (mean + sd * z).abs()
            }
            Sampler::Lognormal(mu, sigma) => {
                let z: f64 = StandardNormal.sample(rng);
                (mu + sigma * z).exp()
            }
            Sampler::Pareto(scale, inv_shape) => {
                // 1 - U lies in (0, 1], so the power is finite.
                let u: f64 = 1.0 - rng.gen::<f64>();
                scale * u.powf(-inv_shape)
            }
        };
        round_to_u64(value_ns.clamp(0.0, MAX_SAMPLE_NS))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn round_to_u64_matches_round() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let specials = [
            0.0,
            -0.0,
            0.5,
            1.5,
            2.5,
            0.5 - f64::EPSILON / 4.0,
            4_503_599_627_370_495.5,
            4_503_599_627_370_496.0,
            1.0e15 + 0.5,
            1.0e300,
            -1.0,
            -0.5,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
            f64::MAX,
        ];
        let random = (0..100_000).map(|i| {
            let x: f64 = rng.gen::<f64>() * 10f64.powi(i % 17);
            if i % 3 == 0 {
                x.floor() + 0.5
            } else {
                x
            }
        });
        for x in specials.into_iter().chain(random) {
            assert_eq!(round_to_u64(x), x.round() as u64, "x = {x:e}");
        }
    }
}
