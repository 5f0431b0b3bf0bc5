//! Statistics across the seeds of a sweep: mean with a 95 % confidence interval
//! (Student's t, as the seeds are a sample of the scenario's behaviour), spread, and
//! histograms.
//!
//! Values that are not numbers (a p99 with no successful request) are left out and
//! counted apart, so one empty run does not turn a mean into NaN.

use serde::{Deserialize, Serialize};

/// Two-sided 97.5 % quantiles of Student's t for 1 to 30 degrees of freedom (the usual
/// table, e.g. NIST/SEMATECH e-Handbook of Statistical Methods, 1.3.6.7.2).
const T_975: [f64; 30] = [
    12.7062, 4.3027, 3.1824, 2.7764, 2.5706, 2.4469, 2.3646, 2.3060, 2.2622, 2.2281, 2.2010,
    2.1788, 2.1604, 2.1448, 2.1314, 2.1199, 2.1098, 2.1009, 2.0930, 2.0860, 2.0796, 2.0739, 2.0687,
    2.0639, 2.0595, 2.0555, 2.0518, 2.0484, 2.0452, 2.0423,
];

/// The standard normal's 97.5 % quantile.
const Z_975: f64 = 1.959_963_984_540_054;

/// Student's t 97.5 % quantile for `df` degrees of freedom (`df` >= 1): the table up to
/// 30, then the Cornish-Fisher expansion to third order (Abramowitz and Stegun 26.7.5),
/// within 1e-4 of the exact value from 30 on.
pub fn t_975(df: u64) -> f64 {
    debug_assert!(df >= 1);
    if df == 0 {
        return f64::INFINITY;
    }
    if df <= 30 {
        return T_975[df as usize - 1];
    }
    let z = Z_975;
    let n = df as f64;
    let z3 = z.powi(3);
    let z5 = z.powi(5);
    let z7 = z.powi(7);
    z + (z3 + z) / (4.0 * n)
        + (5.0 * z5 + 16.0 * z3 + 3.0 * z) / (96.0 * n * n)
        + (3.0 * z7 + 19.0 * z5 + 17.0 * z3 - 15.0 * z) / (384.0 * n * n * n)
}

/// Wilson's 95 % score interval for a fraction of `hits` in `n` trials (Wilson, JASA
/// 1927): unlike the normal approximation it stays inside 0..1 and is not empty at 0 or
/// `n` hits (0 of 20 seeds still allows up to 16 %). `None` when `n` is 0.
pub fn wilson_95(hits: u64, n: u64) -> Option<[f64; 2]> {
    if n == 0 {
        return None;
    }
    let (z, n_f) = (Z_975, n as f64);
    let p = hits.min(n) as f64 / n_f;
    let denominator = 1.0 + z * z / n_f;
    let centre = (p + z * z / (2.0 * n_f)) / denominator;
    let half = z * (p * (1.0 - p) / n_f + z * z / (4.0 * n_f * n_f)).sqrt() / denominator;
    let interval = [(centre - half).max(0.0), (centre + half).min(1.0)];
    debug_assert!(interval[0] <= p + 1e-12 && p <= interval[1] + 1e-12);
    Some(interval)
}

/// What the seeds measured of one metric.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Spread {
    /// Seeds with a value.
    pub n: u64,
    /// Seeds without one (the metric was not a number, or the run failed).
    pub missing: u64,
    /// Mean; `None` without values.
    pub mean: Option<f64>,
    /// 95 % confidence interval of the mean, `[low, high]`; `None` below two values.
    pub ci95: Option<[f64; 2]>,
    /// Sample standard deviation; `None` below two values.
    pub sd: Option<f64>,
    /// Smallest value.
    pub min: Option<f64>,
    /// Median (nearest rank).
    pub p50: Option<f64>,
    /// Largest value.
    pub max: Option<f64>,
}

/// The spread of `values` (non-finite ones counted as missing).
pub fn spread(values: &[f64]) -> Spread {
    let mut finite: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    let missing = (values.len() - finite.len()) as u64;
    finite.sort_by(f64::total_cmp);
    let n = finite.len() as u64;
    if n == 0 {
        return Spread {
            n,
            missing,
            mean: None,
            ci95: None,
            sd: None,
            min: None,
            p50: None,
            max: None,
        };
    }
    let mean = finite.iter().sum::<f64>() / n as f64;
    let (sd, ci95) = if n >= 2 {
        let variance = finite.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / (n - 1) as f64;
        let sd = variance.sqrt();
        let half = t_975(n - 1) * sd / (n as f64).sqrt();
        (Some(sd), Some([mean - half, mean + half]))
    } else {
        (None, None)
    };
    debug_assert!(ci95.is_none_or(|[low, high]| low <= mean && mean <= high));
    Spread {
        n,
        missing,
        mean: Some(mean),
        ci95,
        sd,
        min: finite.first().copied(),
        p50: Some(finite[(finite.len() - 1) / 2]),
        max: finite.last().copied(),
    }
}

/// A histogram: `counts[i]` values in `[low + i * width, low + (i + 1) * width)` (the
/// last bin closed).
#[derive(Clone, Debug, PartialEq)]
pub struct Histogram {
    /// Lower edge of the first bin.
    pub low: f64,
    /// Bin width (0 when every value is equal: one bin).
    pub width: f64,
    /// Counts per bin.
    pub counts: Vec<u64>,
}

impl Histogram {
    /// The histogram of the finite `values` in `bins` equal bins over their range;
    /// `None` without finite values.
    pub fn of(values: &[f64], bins: usize) -> Option<Histogram> {
        let bins = bins.clamp(1, 1_000);
        let finite: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
        let low = finite.iter().copied().fold(f64::INFINITY, f64::min);
        let high = finite.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        if finite.is_empty() {
            return None;
        }
        if high <= low {
            return Some(Histogram {
                low,
                width: 0.0,
                counts: vec![finite.len() as u64],
            });
        }
        let width = (high - low) / bins as f64;
        let mut counts = vec![0u64; bins];
        for value in finite {
            let bin = (((value - low) / width) as usize).min(bins - 1);
            counts[bin] += 1;
        }
        Some(Histogram { low, width, counts })
    }

    /// `(low, high)` edges of bin `index`.
    pub fn edges(&self, index: usize) -> (f64, f64) {
        let low = self.low + index as f64 * self.width;
        (low, low + self.width)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;
    use rand_distr::{Distribution, StandardNormal};

    #[test]
    fn wilson_intervals_match_published_values() {
        // Newcombe (Stat. Med. 1998), Table I: 81/263 -> 0.2553 .. 0.3662; 0/10 -> 0 ..
        // 0.2775; 10/10 -> 0.7225 .. 1.
        let close = |got: Option<[f64; 2]>, want: [f64; 2]| {
            let got = got.expect("an interval");
            assert!(
                (got[0] - want[0]).abs() < 1e-4 && (got[1] - want[1]).abs() < 1e-4,
                "{got:?} vs {want:?}"
            );
        };
        close(wilson_95(81, 263), [0.2553, 0.3662]);
        close(wilson_95(0, 10), [0.0, 0.2775]);
        close(wilson_95(10, 10), [0.7225, 1.0]);
        assert_eq!(wilson_95(0, 0), None);
    }

    #[test]
    fn t_quantiles_match_the_table_and_tend_to_the_normal() {
        assert_eq!(t_975(1), 12.7062);
        assert_eq!(t_975(30), 2.0423);
        // Exact values: t(0.975; 60) = 2.000298, t(0.975; 120) = 1.979930.
        assert!((t_975(60) - 2.000_298).abs() < 1e-4, "{}", t_975(60));
        assert!((t_975(120) - 1.979_930).abs() < 1e-4, "{}", t_975(120));
        assert!((t_975(31) - 2.0395).abs() < 1e-3);
        assert!((t_975(1_000_000) - Z_975).abs() < 1e-5);
        assert!((1..200).all(|df| t_975(df) > t_975(df + 1)));
    }

    #[test]
    fn spread_of_known_values() {
        let s = spread(&[1.0, 2.0, 3.0, 4.0, f64::NAN]);
        assert_eq!((s.n, s.missing), (4, 1));
        assert_eq!(s.mean, Some(2.5));
        assert_eq!((s.min, s.p50, s.max), (Some(1.0), Some(2.0), Some(4.0)));
        let sd = (5.0f64 / 3.0).sqrt();
        assert!((s.sd.unwrap() - sd).abs() < 1e-12);
        let half = 3.1824 * sd / 2.0;
        let [low, high] = s.ci95.unwrap();
        assert!((low - (2.5 - half)).abs() < 1e-12 && (high - (2.5 + half)).abs() < 1e-12);
        let one = spread(&[7.0]);
        assert_eq!((one.mean, one.ci95), (Some(7.0), None));
        assert_eq!(spread(&[]).mean, None);
    }

    #[test]
    fn the_interval_covers_the_true_mean_95_percent_of_the_time() {
        // 4,000 samples of 8 normal values: the coverage count is binomial with sd
        // sqrt(4000 * 0.95 * 0.05) = 13.8, so 3,800 +- 80 is more than 5 sd.
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        let mut covered = 0;
        for _ in 0..4_000 {
            let values: Vec<f64> = (0..8)
                .map(|_| {
                    let z: f64 = StandardNormal.sample(&mut rng);
                    3.0 + 2.0 * z
                })
                .collect();
            let [low, high] = spread(&values).ci95.unwrap();
            covered += u32::from(low <= 3.0 && 3.0 <= high);
        }
        assert!((3_720..=3_880).contains(&covered), "covered {covered}");
    }

    #[test]
    fn histograms_count_every_value_once() {
        let values: Vec<f64> = (0..100).map(f64::from).collect();
        let histogram = Histogram::of(&values, 10).unwrap();
        assert_eq!(histogram.counts, vec![10; 10]);
        let (low, high) = histogram.edges(9);
        assert!((low - 89.1).abs() < 1e-9 && (high - 99.0).abs() < 1e-9);
        let flat = Histogram::of(&[2.0, 2.0, f64::NAN], 10).unwrap();
        assert_eq!((flat.counts.clone(), flat.width), (vec![2], 0.0));
        assert!(Histogram::of(&[f64::NAN], 5).is_none());
    }
}
