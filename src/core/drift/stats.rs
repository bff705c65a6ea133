//! The drift statistics, each computed exactly as its reference implementation does.
//!
//! | statistic | reference | formula |
//! |---|---|---|
//! | KS | `scipy.stats.ks_2samp` | D = max\|F_ref − F_cur\|; p exact (Hodges / Viehmann recursion) when both samples ≤ 10,000, else `kstwo.sf(D, round(n₁n₂/(n₁+n₂)))` ([`super::kolmogorov`]) |
//! | chi-square | Evidently `chisquare` test | `scipy.stats.chisquare(f_obs=current counts, f_exp=reference counts × n_cur/n_ref)`, df = categories − 1 |
//! | z-test | Evidently `z` test | two-proportion z of "not the first category" (sorted), p = 2(1 − Φ(\|z\|)) |
//! | Wasserstein (normed) | Evidently | `scipy.stats.wasserstein_distance(ref, cur) / max(std(ref), 0.001)` (population std) |
//! | Jensen–Shannon | Evidently | `scipy.spatial.distance.jensenshannon` (natural log) of the binned shares, no smoothing |
//! | PSI | Evidently | `Σ (ref% − cur%) · ln(ref% / cur%)` over bins, zeros smoothed (below) |
//! | Hellinger | Evidently | `sqrt(1 − Σ sqrt(p·q))` on category shares or on density histograms × bin width |
//!
//! Bins (Evidently's `get_binned_data`): a numeric column with more than 20 distinct reference
//! values is cut by `numpy.histogram_bin_edges(ref ∪ cur, bins="sturges")` — ⌈log2(n) + 1⌉ equal
//! bins over the combined range, the last bin closed; otherwise every distinct value is a bin.
//! Smoothing (PSI only): a zero share becomes 0.0001, or the smallest non-zero share / 10⁶ when that
//! is ≤ 0.0001.

use statrs::distribution::{ChiSquared, ContinuousCDF, Normal};

/// Kolmogorov–Smirnov two-sample test: (statistic D, two-sided p-value), like `scipy.stats.ks_2samp`
/// with `method="auto"`. Both inputs must be sorted ascending and non-empty.
pub fn ks_2samp(a: &[f64], b: &[f64]) -> (f64, f64) {
    ks_2samp_n(a, a.len(), b)
}

/// As [`ks_2samp`], where `a` may be a quantile sketch standing for `n1` values (a reference
/// profile): D comes from the sketch, the p-value from the true sample size.
pub fn ks_2samp_n(a: &[f64], n1: usize, b: &[f64]) -> (f64, f64) {
    let n2 = b.len();
    let n_sketch = a.len();
    let (mut i, mut j, mut d) = (0usize, 0usize, 0.0f64);
    while i < n_sketch && j < n2 {
        let x = a[i].min(b[j]);
        while i < n_sketch && a[i] <= x {
            i += 1;
        }
        while j < n2 && b[j] <= x {
            j += 1;
        }
        d = d.max((i as f64 / n_sketch as f64 - j as f64 / n2 as f64).abs());
    }
    let g = gcd(n1, n2);
    if n1.max(n2) <= 10_000
        && let Some((d, p)) = ks_exact(n1, n2, g, d)
    {
        return (d, p);
    }
    let (m, n) = (n1.max(n2) as f64, n1.min(n2) as f64);
    let en = (m * n / (m + n)).round();
    (d, super::kolmogorov::kstwo_sf(en as u64, d))
}

fn gcd(mut a: usize, mut b: usize) -> usize {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// scipy's `_attempt_exact_2kssamp` for the two-sided test: D is snapped to the lattice h / lcm.
fn ks_exact(n1: usize, n2: usize, g: usize, d: f64) -> Option<(f64, f64)> {
    let lcm = (n1 / g) as f64 * n2 as f64;
    let h = (d * lcm).round();
    let d = h / lcm;
    if h == 0.0 {
        return Some((d, 1.0));
    }
    let p = if n1 == n2 { prob_outside_square(n1, h as usize) } else { outer_prob_inside(n1, n2, g, h as usize) };
    (0.0..=1.0).contains(&p).then_some((d, p))
}

/// Share of lattice paths leaving the band |x − y| < h (equal sample sizes).
fn prob_outside_square(n: usize, h: usize) -> f64 {
    let (n, h) = (n as i64, h as i64);
    let mut p_total = 0.0;
    let mut k = n / h;
    loop {
        let mut p1 = 1.0;
        for j in 0..h {
            // Signed on purpose: past zero the factor turns negative, but p1 is 0 by then (as in scipy).
            p1 = (n - k * h - j) as f64 * p1 / (n + k * h + j + 1) as f64;
        }
        p_total = p1 * (1.0 - p_total);
        if k == 0 {
            break;
        }
        k -= 1;
    }
    2.0 * p_total
}

/// 1 − (share of lattice paths from (0,0) to (m,n) staying strictly inside |x/m − y/n| < h/lcm),
/// computed directly in the "1 − p" form (Viehmann 2021) over a sliding window of one column.
fn outer_prob_inside(m: usize, n: usize, g: usize, h: usize) -> f64 {
    let (m, n) = if m < n { (n, m) } else { (m, n) };
    let (mg, ng) = ((m / g) as i64, (n / g) as i64);
    let (n_i, h_i) = (n as i64, h as i64);
    let div_ceil = |a: i64, b: i64| -> i64 { (a as f64 / b as f64).ceil() as i64 };
    let div_floor = |a: i64, b: i64| -> i64 { (a as f64 / b as f64).floor() as i64 };
    let mut minj: i64 = 0;
    let mut maxj: i64 = div_ceil(h_i, mg).min(n_i + 1);
    let mut curlen = maxj - minj;
    let len_a = (2 * maxj + 2).min(n_i + 1) as usize;
    let mut a = vec![1.0f64; len_a];
    for v in a.iter_mut().take(maxj as usize).skip(minj as usize) {
        *v = 0.0;
    }
    for i in 1..=m as i64 {
        let (last_minj, last_len) = (minj, curlen);
        minj = (div_floor(ng * i - h_i, mg) + 1).max(0).min(n_i);
        maxj = div_ceil(ng * i + h_i, mg).min(n_i + 1);
        if maxj <= minj {
            return 1.0;
        }
        let mut val = if minj == 0 { 0.0 } else { 1.0 };
        for jj in 0..(maxj - minj) {
            let j = jj + minj;
            val = (a[(jj + minj - last_minj) as usize] * i as f64 + val * j as f64) / (i + j) as f64;
            a[jj as usize] = val;
        }
        curlen = maxj - minj;
        if last_len > curlen {
            let from = (maxj - minj) as usize;
            let to = (from + (last_len - curlen) as usize).min(a.len());
            for v in &mut a[from..to] {
                *v = 1.0;
            }
        }
    }
    a[(maxj - minj - 1) as usize]
}

/// Pearson's chi-square of observed vs expected counts: (statistic, p-value with k − 1 df).
pub fn chi_square(observed: &[f64], expected: &[f64]) -> (f64, f64) {
    let stat: f64 = observed.iter().zip(expected).map(|(o, e)| (o - e).powi(2) / e).sum();
    let df = observed.len().saturating_sub(1) as f64;
    let p = if df == 0.0 { f64::NAN } else { ChiSquared::new(df).map_or(f64::NAN, |c| c.sf(stat)) };
    (stat, p)
}

/// Two-proportion z-test: (z, two-sided p) for the share of "hits" in each sample.
pub fn proportions_z(ref_hits: f64, n1: f64, cur_hits: f64, n2: f64) -> (f64, f64) {
    let (p1, p2) = (ref_hits / n1, cur_hits / n2);
    let pooled = (p1 * n1 + p2 * n2) / (n1 + n2);
    let z = (p1 - p2) / (pooled * (1.0 - pooled) * (1.0 / n1 + 1.0 / n2)).sqrt();
    let normal = Normal::standard();
    (z, 2.0 * (1.0 - normal.cdf(z.abs())))
}

/// 1-D Wasserstein distance between two sorted samples (`scipy.stats.wasserstein_distance`).
pub fn wasserstein(a: &[f64], b: &[f64]) -> f64 {
    let (na, nb) = (a.len() as f64, b.len() as f64);
    let (mut i, mut j) = (0usize, 0usize);
    let mut prev = a[0].min(b[0]);
    let mut total = 0.0;
    while i < a.len() || j < b.len() {
        let x = match (a.get(i), b.get(j)) {
            (Some(&x), Some(&y)) => x.min(y),
            (Some(&x), None) => x,
            (None, Some(&y)) => y,
            (None, None) => break,
        };
        total += (i as f64 / na - j as f64 / nb).abs() * (x - prev);
        while i < a.len() && a[i] <= x {
            i += 1;
        }
        while j < b.len() && b[j] <= x {
            j += 1;
        }
        prev = x;
    }
    total
}

thread_local! {
    /// The radix sort's scratch keys, kept per thread so sorting column after column reuses memory
    /// the kernel has already handed over instead of faulting in fresh pages each time.
    static SCRATCH: std::cell::RefCell<Vec<u64>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Scratch kept between sorts, at most (16M keys, 128 MiB); larger sorts allocate their own.
const MAX_KEPT_SCRATCH: usize = 1 << 24;

/// Sort numbers ascending in [`f64::total_cmp`] order: an LSD radix sort on 11-bit digits for
/// large inputs (drift sorts every numeric column of the current data; this is several times
/// faster than a comparison sort there), a comparison sort below 4,096 values.
pub fn sort_numbers(values: &mut [f64]) {
    const BITS: u32 = 11;
    const BUCKETS: usize = 1 << BITS;
    const PASSES: usize = 64usize.div_ceil(BITS as usize);
    if values.len() < 4096 {
        values.sort_unstable_by(f64::total_cmp);
        return;
    }
    // Map to unsigned keys whose order is total_cmp's: flip every bit of negatives, the sign bit of
    // the rest.
    const SIGN: u64 = 1 << 63;
    let key = |v: f64| {
        let b = v.to_bits();
        if b & SIGN != 0 { !b } else { b | SIGN }
    };
    // The keys are made in place, in the values' own memory: one scratch buffer is the only
    // allocation.
    let keys: &mut [u64] = bytemuck::cast_slice_mut(values);
    for k in keys.iter_mut() {
        *k = key(f64::from_bits(*k));
    }
    // Every digit's histogram in one read of the keys.
    let mut counts = vec![[0usize; BUCKETS]; PASSES];
    for &k in keys.iter() {
        for (pass, c) in counts.iter_mut().enumerate() {
            c[((k >> (pass as u32 * BITS)) as usize) & (BUCKETS - 1)] += 1;
        }
    }
    SCRATCH.with_borrow_mut(|buffer| {
        buffer.clear();
        buffer.resize(keys.len(), 0);
        let mut in_buffer = false;
        for (pass, c) in counts.iter_mut().enumerate() {
            if c.contains(&keys.len()) {
                continue; // every key has this digit: the pass would not move anything
            }
            let mut sum = 0;
            for slot in c.iter_mut() {
                (*slot, sum) = (sum, sum + *slot);
            }
            let shift = pass as u32 * BITS;
            let (from, to): (&[u64], &mut [u64]) = if in_buffer { (buffer, keys) } else { (keys, buffer) };
            for &k in from {
                let d = ((k >> shift) as usize) & (BUCKETS - 1);
                to[c[d]] = k;
                c[d] += 1;
            }
            in_buffer = !in_buffer;
        }
        if in_buffer {
            keys.copy_from_slice(buffer);
        }
        if buffer.capacity() > MAX_KEPT_SCRATCH {
            *buffer = Vec::new();
        }
    });
    for k in keys.iter_mut() {
        *k = if *k & SIGN != 0 { *k & !SIGN } else { !*k };
    }
}

/// How many distinct values a sorted slice holds (by bit pattern).
pub fn distinct_sorted(sorted: &[f64]) -> usize {
    if sorted.is_empty() {
        return 0;
    }
    1 + sorted.windows(2).filter(|w| w[0].to_bits() != w[1].to_bits()).count()
}

/// How many distinct values two sorted slices hold together (by bit pattern).
pub fn distinct_union_sorted(a: &[f64], b: &[f64]) -> usize {
    let (mut i, mut j, mut n) = (0, 0, 0);
    let mut last: Option<u64> = None;
    while i < a.len() || j < b.len() {
        let take_a = j >= b.len() || (i < a.len() && a[i].total_cmp(&b[j]).is_le());
        let v = if take_a {
            i += 1;
            a[i - 1]
        } else {
            j += 1;
            b[j - 1]
        };
        if last != Some(v.to_bits()) {
            n += 1;
            last = Some(v.to_bits());
        }
    }
    n
}

/// Population standard deviation (numpy's default `ddof=0`).
pub fn std_pop(values: &[f64]) -> f64 {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n).sqrt()
}

/// Jensen–Shannon distance (natural log) of two share vectors, each normalised to sum 1.
pub fn jensen_shannon(p: &[f64], q: &[f64]) -> f64 {
    let (sp, sq) = (p.iter().sum::<f64>(), q.iter().sum::<f64>());
    let rel_entr = |x: f64, y: f64| {
        if x > 0.0 && y > 0.0 {
            x * (x / y).ln()
        } else if x == 0.0 {
            0.0
        } else {
            f64::INFINITY
        }
    };
    let (mut left, mut right) = (0.0, 0.0);
    for (&a, &b) in p.iter().zip(q) {
        let (a, b) = (a / sp, b / sq);
        let m = (a + b) / 2.0;
        left += rel_entr(a, m);
        right += rel_entr(b, m);
    }
    ((left + right) / 2.0).sqrt()
}

/// Population stability index of two (smoothed) share vectors.
pub fn psi(reference: &[f64], current: &[f64]) -> f64 {
    reference.iter().zip(current).map(|(r, c)| (r - c) * (r / c).ln()).sum()
}

/// Evidently's smoothing of zero shares (PSI).
pub fn smooth_zeros(shares: &mut [f64]) {
    let min = shares.iter().copied().filter(|&s| s != 0.0).fold(f64::INFINITY, f64::min);
    let fill = if min <= 0.0001 { min / 1e6 } else { 0.0001 };
    for s in shares.iter_mut().filter(|s| **s == 0.0) {
        *s = fill;
    }
}

/// numpy's `histogram_bin_edges(values, bins="sturges")` for values spanning `[lo, hi]`, `n` values.
pub fn sturges_edges(lo: f64, hi: f64, n: usize) -> Vec<f64> {
    let (lo, hi) = if lo == hi { (lo - 0.5, hi + 0.5) } else { (lo, hi) };
    let width = (hi - lo) / ((n as f64).log2() + 1.0);
    let bins = if width > 0.0 { ((hi - lo) / width).ceil().max(1.0) as usize } else { 1 };
    let step = (hi - lo) / bins as f64;
    let mut edges: Vec<f64> = (0..=bins).map(|i| i as f64 * step + lo).collect();
    edges[bins] = hi;
    edges
}

/// numpy's `histogram` counts for `edges` (bins right-open, the last one closed); values outside
/// are not counted. `values` must be sorted ascending (drift keeps every numeric column sorted),
/// so each bin's count is the distance between two binary searches.
pub fn histogram_counts(values: &[f64], edges: &[f64]) -> Vec<f64> {
    debug_assert!(values.is_sorted_by(|a, b| a <= b), "histogram_counts needs sorted values");
    let bins = edges.len() - 1;
    let hi = edges[bins];
    // below[i]: how many values lie below edge i; the last bin also takes the values equal to hi.
    let below = |edge: f64| values.partition_point(|&v| v < edge);
    let mut counts = Vec::with_capacity(bins);
    let mut start = below(edges[0]);
    for (i, &edge) in edges[1..].iter().enumerate() {
        let end = if i + 1 == bins { values.partition_point(|&v| v <= hi) } else { below(edge) };
        counts.push(end.saturating_sub(start) as f64);
        start = end.max(start);
    }
    counts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_counts_bins_like_numpy() {
        // np.histogram([-1, 0, 0.5, 1, 1, 2.999, 3, 3, 4], bins=[0, 1, 2, 3]) -> [2, 2, 3]
        let values = [-1.0, 0.0, 0.5, 1.0, 1.0, 2.999, 3.0, 3.0, 4.0];
        assert_eq!(histogram_counts(&values, &[0.0, 1.0, 2.0, 3.0]), vec![2.0, 2.0, 3.0]);
        assert_eq!(histogram_counts(&[], &[0.0, 1.0]), vec![0.0]);
        assert_eq!(histogram_counts(&[5.0, 5.0], &[4.5, 5.5]), vec![2.0]);
    }

    #[test]
    fn radix_sort_orders_like_total_cmp() {
        let mut state = 0x2545_F491_4F6C_DD1Du64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut values: Vec<f64> = (0..50_000)
            .map(|i| match i % 5 {
                0 => (next() % 1000) as f64 - 500.0,
                1 => f64::from_bits(next() >> 2) * if i % 2 == 0 { 1.0 } else { -1.0 },
                2 => -0.0,
                3 => 0.0,
                _ => (next() % 7) as f64 * 0.25,
            })
            .filter(|v: &f64| v.is_finite())
            .collect();
        let mut expected = values.clone();
        expected.sort_by(f64::total_cmp);
        sort_numbers(&mut values);
        assert!(values.iter().zip(&expected).all(|(a, b)| a.to_bits() == b.to_bits()));
        let distinct: std::collections::HashSet<u64> = expected.iter().map(|v| v.to_bits()).collect();
        assert_eq!(distinct_sorted(&values), distinct.len());
        let other: [f64; 4] = [-500.0, 0.0, 1e300, 0.125];
        let mut both: std::collections::HashSet<u64> = distinct.clone();
        both.extend(other.iter().map(|v| v.to_bits()));
        assert_eq!(distinct_union_sorted(&values, &other), both.len());
    }

    #[test]
    fn small_known_values() {
        // scipy.stats.ks_2samp([1, 2, 3], [2, 3, 4, 5]) -> D = 0.5, p = 0.6571428571428571 (exact)
        let (d, p) = ks_2samp(&[1.0, 2.0, 3.0], &[2.0, 3.0, 4.0, 5.0]);
        assert!((d - 0.5).abs() < 1e-15 && (p - 0.657_142_857_142_857_1).abs() < 1e-12, "{d} {p}");
        // scipy.stats.wasserstein_distance([0, 1, 3], [5, 6, 8]) == 5.0
        assert!((wasserstein(&[0.0, 1.0, 3.0], &[5.0, 6.0, 8.0]) - 5.0).abs() < 1e-12);
        // scipy.spatial.distance.jensenshannon([1, 0], [0, 1]) == sqrt(ln 2)
        assert!((jensen_shannon(&[1.0, 0.0], &[0.0, 1.0]) - 2f64.ln().sqrt()).abs() < 1e-12);
    }
}
