//! Bootstrap confidence intervals.
//!
//! Each resample gives every row an independent Poisson(1) weight — the Poisson bootstrap, which
//! for the sample sizes we evaluate is equivalent to resampling rows with replacement and, unlike
//! it, lets one sequential pass over rows pre-sorted by score compute every metric of a resample
//! (AUC included) without re-sorting. Weights come from 16 random bits each through a table of the
//! Poisson(1) quantiles (resolution 2⁻¹⁶), four weights per 64-bit draw. Resample `r` draws from
//! PCG-64 (MCG) seeded with `seed + r`, so results do not depend on the thread count. Intervals are percentile intervals,
//! with numpy's linear interpolation; undefined resample values (e.g. AUC when a resample has no
//! positives) are left out.

use std::sync::OnceLock;

use rand_pcg::Pcg64Mcg;
use rand_pcg::rand_core::{Rng, SeedableRng};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// Which metrics get intervals.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IntervalScope {
    /// Every headline metric.
    #[default]
    All,
    /// ROC AUC only (binary classifiers; about twice as fast, the same AUC interval). Other tasks
    /// compute all.
    RocAuc,
}

/// How to bootstrap.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct BootstrapOptions {
    /// Number of resamples (0 disables intervals).
    pub resamples: usize,
    /// Random seed; the same seed gives the same intervals.
    pub seed: u64,
    /// Confidence level of the intervals, e.g. 0.95.
    pub confidence: f64,
    /// Which metrics get intervals.
    pub scope: IntervalScope,
}

impl Default for BootstrapOptions {
    fn default() -> Self {
        Self { resamples: 1000, seed: 20_261_101, confidence: 0.95, scope: IntervalScope::All }
    }
}

/// A confidence interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Interval {
    /// Lower bound.
    pub low: f64,
    /// Upper bound.
    pub high: f64,
}

pub(crate) fn poisson_table() -> &'static [u8; 65536] {
    static TABLE: OnceLock<Box<[u8; 65536]>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut table = Box::new([0u8; 65536]);
        let (mut k, mut pmf, mut cdf) = (0u8, (-1.0f64).exp(), (-1.0f64).exp());
        for (u, slot) in table.iter_mut().enumerate() {
            let q = (u as f64 + 0.5) / 65536.0;
            while q > cdf && k < 20 {
                k += 1;
                pmf /= f64::from(k);
                cdf += pmf;
            }
            *slot = k;
        }
        table
    })
}

/// The weight stream of resample `r`: call [`WeightStream::next`] once per row, in row order.
pub(crate) struct WeightStream {
    rng: Pcg64Mcg,
    bits: u64,
    left: u32,
}

impl WeightStream {
    /// The stream of resample `r` under `seed`.
    pub(crate) fn new(seed: u64, r: usize) -> Self {
        Self { rng: Pcg64Mcg::seed_from_u64(seed.wrapping_add(r as u64)), bits: 0, left: 0 }
    }

    /// The next row's weight.
    #[inline]
    pub(crate) fn next(&mut self, table: &[u8; 65536]) -> u8 {
        if self.left == 0 {
            self.bits = self.rng.next_u64();
            self.left = 4;
        }
        let w = table[(self.bits & 0xffff) as usize];
        self.bits >>= 16;
        self.left -= 1;
        w
    }
}

/// Fill `weights` with the Poisson(1) weights of resample `r`.
pub(crate) fn fill_weights(weights: &mut [f32], seed: u64, r: usize) {
    let table = poisson_table();
    let mut stream = WeightStream::new(seed, r);
    for w in weights.iter_mut() {
        *w = f32::from(stream.next(table));
    }
}

/// Run `metrics(weights)` on every resample (in parallel) and turn each metric's values into an
/// interval. `metrics` returns one value per metric, NaN where undefined.
pub(crate) fn intervals<F>(
    n: usize,
    options: &BootstrapOptions,
    metric_count: usize,
    metrics: F,
) -> Vec<Option<Interval>>
where
    F: Fn(&[f32]) -> Vec<f64> + Sync,
{
    if options.resamples == 0 || n == 0 {
        return vec![None; metric_count];
    }
    let samples: Vec<Vec<f64>> = (0..options.resamples)
        .into_par_iter()
        .map_init(
            || vec![0f32; n],
            |weights, r| {
                fill_weights(weights, options.seed, r);
                metrics(weights)
            },
        )
        .collect();
    from_samples(&samples, metric_count, options.confidence)
}

/// Each metric's percentile interval from per-resample values (NaN = undefined, left out).
pub(crate) fn from_samples(samples: &[Vec<f64>], metric_count: usize, confidence: f64) -> Vec<Option<Interval>> {
    (0..metric_count)
        .map(|m| {
            let mut values: Vec<f64> = samples.iter().map(|s| s[m]).filter(|v| v.is_finite()).collect();
            percentile_interval(&mut values, confidence)
        })
        .collect()
}

/// The `q` quantile (0..=1) of ascending `sorted` values with numpy's default linear
/// interpolation; NaN when there are none.
pub(crate) fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let pos = q * (sorted.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64)
}

/// numpy-style (linear) percentiles at (1 − c)/2 and (1 + c)/2.
pub(crate) fn percentile_interval(values: &mut [f64], confidence: f64) -> Option<Interval> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    Some(Interval { low: quantile(values, (1.0 - confidence) / 2.0), high: quantile(values, (1.0 + confidence) / 2.0) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn poisson_weights_have_mean_and_variance_one() {
        let mut w = vec![0f32; 200_000];
        fill_weights(&mut w, 7, 0);
        let mean = w.iter().map(|&x| f64::from(x)).sum::<f64>() / w.len() as f64;
        let var = w.iter().map(|&x| (f64::from(x) - mean).powi(2)).sum::<f64>() / w.len() as f64;
        assert!((mean - 1.0).abs() < 0.01 && (var - 1.0).abs() < 0.02, "mean {mean} var {var}");
        let mut again = vec![0f32; 200_000];
        fill_weights(&mut again, 7, 0);
        assert_eq!(w, again, "seeded");
    }

    #[test]
    fn percentiles_interpolate_like_numpy() {
        // numpy.percentile([1, 2, 3, 4], [2.5, 97.5]) == [1.075, 3.925]
        let i = percentile_interval(&mut [4.0, 1.0, 3.0, 2.0], 0.95).unwrap();
        assert!((i.low - 1.075).abs() < 1e-12 && (i.high - 3.925).abs() < 1e-12);
    }
}
