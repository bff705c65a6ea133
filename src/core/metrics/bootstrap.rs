//! Bootstrap confidence intervals.
//!
//! Each resample gives every row an independent Poisson(1) weight — the Poisson bootstrap, which
//! for the sample sizes we evaluate is equivalent to resampling rows with replacement and, unlike
//! it, lets one sequential pass over rows pre-sorted by score compute every metric of a resample
//! (AUC included) without re-sorting. Weights come from 16 random bits each through a table of the
//! Poisson(1) quantiles (resolution 2⁻¹⁶). Resample `r` draws from ChaCha8 seeded with
//! `seed + r`, so results do not depend on the thread count. Intervals are percentile intervals,
//! with numpy's linear interpolation; undefined resample values (e.g. AUC when a resample has no
//! positives) are left out.

use std::sync::OnceLock;

use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{Rng, SeedableRng};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

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
}

impl Default for BootstrapOptions {
    fn default() -> Self {
        Self { resamples: 1000, seed: 20_261_101, confidence: 0.95 }
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

fn poisson_table() -> &'static [u8; 65536] {
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

/// Fill `weights` with the Poisson(1) weights of resample `r`.
pub(crate) fn fill_weights(weights: &mut [f32], seed: u64, r: usize) {
    let table = poisson_table();
    let mut rng = ChaCha8Rng::seed_from_u64(seed.wrapping_add(r as u64));
    for chunk in weights.chunks_mut(4) {
        let bits = rng.next_u64();
        for (j, w) in chunk.iter_mut().enumerate() {
            *w = f32::from(table[((bits >> (16 * j)) & 0xffff) as usize]);
        }
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
    (0..metric_count)
        .map(|m| {
            let mut values: Vec<f64> = samples.iter().map(|s| s[m]).filter(|v| v.is_finite()).collect();
            percentile_interval(&mut values, options.confidence)
        })
        .collect()
}

/// numpy-style (linear) percentiles at (1 − c)/2 and (1 + c)/2.
pub(crate) fn percentile_interval(values: &mut [f64], confidence: f64) -> Option<Interval> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let at = |q: f64| {
        let pos = q * (values.len() - 1) as f64;
        let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
        values[lo] + (values[hi] - values[lo]) * (pos - lo as f64)
    };
    Some(Interval { low: at((1.0 - confidence) / 2.0), high: at((1.0 + confidence) / 2.0) })
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
