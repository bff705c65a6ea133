//! One column's verdict: the test, its score against the threshold, and the distributions side by
//! side with each bin's share of the population stability index.

use std::collections::{BTreeMap, BTreeSet};

use polars::prelude::*;

use super::stats;
use super::types::{Bins, ColumnDrift, ColumnKind, DriftOptions, DriftTest};
use super::typing::{
    Typed, Values, category_counts, distinct_count, distinct_union, format_number, infer_kind, numbers, type_column,
};

/// One column's drift: the test Evidently's defaults pick (or the override), its score and
/// verdict, missing shares, new and vanished categories, and the binned distributions.
pub(super) fn column_drift(
    name: &str,
    reference: Typed,
    current: &Series,
    options: &DriftOptions,
) -> std::result::Result<ColumnDrift, String> {
    let current = type_column(current).map_err(|e| e.to_string())?;
    let over = options.columns.get(name).cloned().unwrap_or_default();
    let kind =
        over.kind.or_else(|| infer_kind(&current.values)).ok_or("free text (more than half the values distinct)")?;
    if reference.rows == 0 || current.rows == 0 {
        return Err("no values to compare (all missing)".into());
    }
    let n_values = distinct_union(&reference.values, &current.values);
    let test = over.test.unwrap_or_else(|| default_test(kind, reference.rows, n_values));
    let threshold = over.threshold.unwrap_or_else(|| test.default_threshold());
    let binned_numeric = kind == ColumnKind::Numeric && distinct_count(&reference.values) > 20;
    let (ref_counts, cur_counts) = if binned_numeric {
        (BTreeMap::new(), BTreeMap::new())
    } else {
        (category_counts(&reference.values), category_counts(&current.values))
    };
    let bins = if binned_numeric {
        let (Values::Numbers { values: r, .. }, Values::Numbers { values: c, .. }) =
            (&reference.values, &current.values)
        else {
            return Err("not numeric".into());
        };
        numeric_bins(r, c)
    } else {
        category_bins(&ref_counts, &cur_counts)
    };
    let (score, statistic) = match test {
        DriftTest::Ks | DriftTest::Wasserstein => {
            let (Values::Numbers { values: r, .. }, Values::Numbers { values: c, .. }) =
                (&reference.values, &current.values)
            else {
                return Err("the KS and Wasserstein tests need numbers".into());
            };
            if test == DriftTest::Ks {
                let (d, p) = stats::ks_2samp_n(r, reference.rows, c);
                (p, Some(d))
            } else {
                (stats::wasserstein(r, c) / stats::std_pop(r).max(0.001), None)
            }
        }
        DriftTest::Chisquare => {
            let (counts_r, counts_c) = counts_by_key(&ref_counts, &cur_counts);
            let k_norm = counts_c.iter().sum::<f64>() / counts_r.iter().sum::<f64>();
            let expected: Vec<f64> = counts_r.iter().map(|c| c * k_norm).collect();
            let (stat, p) = stats::chi_square(&counts_c, &expected);
            (p, Some(stat))
        }
        DriftTest::Z => z_test(&ref_counts, &cur_counts),
        DriftTest::Jensenshannon => (stats::jensen_shannon(&bins.reference, &bins.current), None),
        DriftTest::Psi => (bins.psi_contribution.iter().sum(), None),
        DriftTest::Hellinger => (hellinger(kind, &reference.values, &current.values, &bins), None),
    };
    let (new_categories, vanished_categories) = if kind == ColumnKind::Categorical {
        let r: BTreeSet<&str> = ref_counts.keys().map(String::as_str).collect();
        let c: BTreeSet<&str> = cur_counts.keys().map(String::as_str).collect();
        (c.difference(&r).map(|s| s.to_string()).collect(), r.difference(&c).map(|s| s.to_string()).collect())
    } else {
        (Vec::new(), Vec::new())
    };
    Ok(ColumnDrift {
        column: name.to_string(),
        kind,
        test,
        score,
        threshold,
        drift: test.drifted(score, threshold),
        p_value: test.is_p_value().then_some(score),
        statistic,
        reference_rows: reference.rows,
        current_rows: current.rows,
        reference_missing: reference.missing as f64 / reference.total.max(1) as f64,
        current_missing: current.missing as f64 / current.total.max(1) as f64,
        new_categories,
        vanished_categories,
        bins,
    })
}

/// Evidently's `_get_default_stattest`.
fn default_test(kind: ColumnKind, reference_rows: usize, n_values: usize) -> DriftTest {
    let two_or_chi = if n_values > 2 { DriftTest::Chisquare } else { DriftTest::Z };
    match (reference_rows <= 1000, kind) {
        (true, ColumnKind::Numeric) if n_values > 5 => DriftTest::Ks,
        (true, _) => two_or_chi,
        (false, ColumnKind::Numeric) if n_values > 5 => DriftTest::Wasserstein,
        (false, _) => DriftTest::Jensenshannon,
    }
}

/// Counts per distinct value, aligned over the union of both sides' values (sorted).
fn counts_by_key(reference: &BTreeMap<String, f64>, current: &BTreeMap<String, f64>) -> (Vec<f64>, Vec<f64>) {
    let keys: BTreeSet<&String> = reference.keys().chain(current.keys()).collect();
    let get = |m: &BTreeMap<String, f64>, k: &String| m.get(k).copied().unwrap_or(0.0);
    (keys.iter().map(|k| get(reference, k)).collect(), keys.iter().map(|k| get(current, k)).collect())
}

fn z_test(reference: &BTreeMap<String, f64>, current: &BTreeMap<String, f64>) -> (f64, Option<f64>) {
    let keys: BTreeSet<&str> = reference.keys().chain(current.keys()).map(String::as_str).collect();
    if keys.len() == 1 {
        return (1.0, None);
    }
    // Evidently counts rows that are *not* the first category, sorted as values (numbers numerically).
    let order = |a: &&str, b: &&str| match (a.parse::<f64>(), b.parse::<f64>()) {
        (Ok(x), Ok(y)) => x.total_cmp(&y),
        _ => a.cmp(b),
    };
    let first = keys.iter().copied().min_by(order).unwrap_or_default();
    let side = |m: &BTreeMap<String, f64>| {
        let n: f64 = m.values().sum();
        (n - m.get(first).copied().unwrap_or(0.0), n)
    };
    let ((rh, rn), (ch, cn)) = (side(reference), side(current));
    let (z, p) = stats::proportions_z(rh, rn, ch, cn);
    (p, Some(z))
}

fn category_bins(reference: &BTreeMap<String, f64>, current: &BTreeMap<String, f64>) -> Bins {
    let keys: Vec<String> =
        reference.keys().chain(current.keys()).cloned().collect::<BTreeSet<_>>().into_iter().collect();
    let (r, c) = counts_by_key(reference, current);
    let (nr, nc) = (r.iter().sum::<f64>(), c.iter().sum::<f64>());
    shares_to_bins(keys, None, &r, &c, nr, nc)
}

fn numeric_bins(reference: &[f64], current: &[f64]) -> Bins {
    let (lo, hi) =
        reference.iter().chain(current).fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| (a.min(v), b.max(v)));
    let edges = stats::sturges_edges(lo, hi, reference.len() + current.len());
    let r = stats::histogram_counts(reference, &edges);
    let c = stats::histogram_counts(current, &edges);
    let labels = edges.windows(2).map(|w| format!("[{}, {})", format_number(w[0]), format_number(w[1]))).collect();
    shares_to_bins(labels, Some(edges), &r, &c, reference.len() as f64, current.len() as f64)
}

fn shares_to_bins(labels: Vec<String>, edges: Option<Vec<f64>>, r: &[f64], c: &[f64], nr: f64, nc: f64) -> Bins {
    let reference: Vec<f64> = r.iter().map(|v| v / nr).collect();
    let current: Vec<f64> = c.iter().map(|v| v / nc).collect();
    let (mut rs, mut cs) = (reference.clone(), current.clone());
    stats::smooth_zeros(&mut rs);
    stats::smooth_zeros(&mut cs);
    let psi_contribution = rs.iter().zip(&cs).map(|(a, b)| (a - b) * (a / b).ln()).collect();
    Bins { labels, edges, reference, current, psi_contribution }
}

fn hellinger(kind: ColumnKind, reference: &Values, current: &Values, bins: &Bins) -> f64 {
    let sum = match (kind, numbers(reference), numbers(current)) {
        (ColumnKind::Numeric, Some(r), Some(c)) => {
            // Density histograms on Sturges edges of the distinct values, times the bin width.
            let mut keys: Vec<f64> = r.iter().chain(&c).copied().collect();
            keys.sort_by(f64::total_cmp);
            keys.dedup();
            let edges = stats::sturges_edges(keys[0], keys[keys.len() - 1], keys.len());
            let width = (edges[edges.len() - 1] - edges[0]) / (edges.len() - 1) as f64;
            let density = |v: &[f64]| {
                let counts = stats::histogram_counts(v, &edges);
                let total: f64 = counts.iter().sum();
                counts.iter().zip(edges.windows(2)).map(|(c, w)| c / total / (w[1] - w[0])).collect::<Vec<f64>>()
            };
            let (h1, h2) = (density(&r), density(&c));
            h1.iter().zip(&h2).map(|(a, b)| (a * b).sqrt() * width).sum::<f64>()
        }
        _ => bins.reference.iter().zip(&bins.current).map(|(a, b)| (a * b).sqrt()).sum(),
    };
    (1.0 - sum.clamp(0.0, 1.0)).sqrt()
}
