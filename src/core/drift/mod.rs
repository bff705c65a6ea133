//! Data drift between a reference and a current dataset, per column and overall, with Evidently's
//! default choices (DataDriftPreset, Evidently 0.7) so the verdicts agree with it:
//!
//! - **column kinds** (from the current data): floats → numeric; integers → categorical when they
//!   have at most 10 distinct values, else numeric; text → categorical, or skipped as free text when
//!   more than half its values are distinct;
//! - **missing values** (empty, NaN, ±inf) are dropped before testing; their share is reported;
//! - **test per column** (n_ref = reference rows, n_values = distinct values in both):
//!   - n_ref ≤ 1000: numeric → KS (p ≤ 0.05 is drift), unless n_values ≤ 5 → chi-square (> 2
//!     values) or z-test (2 values); categorical → chi-square, or z-test for two values (p < 0.05);
//!   - n_ref > 1000: numeric → normed Wasserstein ≥ 0.1, or Jensen–Shannon ≥ 0.1 when n_values ≤ 5;
//!     categorical → Jensen–Shannon ≥ 0.1;
//! - **dataset drift** when the share of drifted columns is ≥ 0.5.
//!
//! Every choice can be overridden per column ([`DriftOptions`]). The formulas are in [`stats`].

pub mod kolmogorov;
pub mod stats;

use std::collections::{BTreeMap, BTreeSet};

use foldhash::HashMap;

use polars::prelude::*;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::error::{Error, Result};

/// How a column is treated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ColumnKind {
    /// Continuous or many-valued numbers.
    Numeric,
    /// Categories (text, or integers with few values).
    Categorical,
}

/// A drift test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DriftTest {
    /// Kolmogorov–Smirnov p-value.
    Ks,
    /// Chi-square p-value.
    Chisquare,
    /// Two-proportion z-test p-value.
    Z,
    /// Wasserstein distance normed by the reference standard deviation.
    Wasserstein,
    /// Jensen–Shannon distance.
    Jensenshannon,
    /// Population stability index.
    Psi,
    /// Hellinger distance.
    Hellinger,
}

impl DriftTest {
    /// Evidently's default threshold.
    pub fn default_threshold(self) -> f64 {
        match self {
            Self::Ks | Self::Chisquare | Self::Z => 0.05,
            Self::Wasserstein | Self::Jensenshannon | Self::Psi | Self::Hellinger => 0.1,
        }
    }

    /// Whether the score is a p-value (small means drift) rather than a distance (large means drift).
    pub fn is_p_value(self) -> bool {
        matches!(self, Self::Ks | Self::Chisquare | Self::Z)
    }

    /// Evidently's verdict: KS `p ≤ t`; chi-square and z `p < t`; distances `score ≥ t`.
    pub fn drifted(self, score: f64, threshold: f64) -> bool {
        match self {
            Self::Ks => score <= threshold,
            Self::Chisquare | Self::Z => score < threshold,
            _ => score >= threshold,
        }
    }
}

/// Per-column choices that replace the defaults.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ColumnOverride {
    /// Test to use.
    pub test: Option<DriftTest>,
    /// Threshold to use.
    pub threshold: Option<f64>,
    /// Kind to treat the column as.
    pub kind: Option<ColumnKind>,
}

/// Drift settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DriftOptions {
    /// Overrides by column name.
    pub columns: BTreeMap<String, ColumnOverride>,
    /// Columns left out (ids, timestamps).
    pub exclude: Vec<String>,
    /// Share of drifted columns at which the dataset drifts.
    pub drift_share: f64,
}

impl Default for DriftOptions {
    fn default() -> Self {
        Self { columns: BTreeMap::new(), exclude: Vec::new(), drift_share: 0.5 }
    }
}

/// Shares per bin (or category), for plots and explanations.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Bins {
    /// Bin labels: categories, or `[lo, hi)` ranges.
    pub labels: Vec<String>,
    /// Bin edges for numeric columns (labels.len() + 1 values).
    pub edges: Option<Vec<f64>>,
    /// Share of reference rows per bin.
    pub reference: Vec<f64>,
    /// Share of current rows per bin.
    pub current: Vec<f64>,
    /// Each bin's term of the PSI sum (after smoothing): where the change comes from.
    pub psi_contribution: Vec<f64>,
}

/// Drift of one column.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ColumnDrift {
    /// Column name.
    pub column: String,
    /// Numeric or categorical.
    pub kind: ColumnKind,
    /// The test used.
    pub test: DriftTest,
    /// The test's score (a p-value or a distance).
    pub score: f64,
    /// The threshold applied.
    pub threshold: f64,
    /// The verdict.
    pub drift: bool,
    /// p-value, for the p-value tests.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub p_value: Option<f64>,
    /// The test statistic (KS D, chi-square, z), for the p-value tests.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub statistic: Option<f64>,
    /// Rows tested (missing values dropped).
    pub reference_rows: usize,
    /// Rows tested (missing values dropped).
    pub current_rows: usize,
    /// Share of missing values in the reference.
    pub reference_missing: f64,
    /// Share of missing values in the current data.
    pub current_missing: f64,
    /// Categories seen only in the current data.
    pub new_categories: Vec<String>,
    /// Categories seen only in the reference.
    pub vanished_categories: Vec<String>,
    /// The distributions side by side.
    pub bins: Bins,
}

/// Drift of a whole dataset.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DriftReport {
    /// One entry per tested column.
    pub columns: Vec<ColumnDrift>,
    /// Share of tested columns that drifted.
    pub share_drifted: f64,
    /// Whether the share reaches `drift_share`.
    pub dataset_drift: bool,
    /// The share threshold used.
    pub drift_share: f64,
    /// Columns not tested, with the reason.
    pub skipped: BTreeMap<String, String>,
}

/// A column's values after typing: numbers or categories, missing values counted and dropped.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Values {
    /// Present numbers, sorted ascending (total order).
    Numbers { values: Vec<f64>, integers: bool },
    /// Text values, counted.
    Categories(BTreeMap<String, f64>),
}

/// A typed column: its present values (or, from a profile, a quantile sketch of them), how many
/// values were present, missing, and in all.
#[derive(Debug, Clone)]
pub(crate) struct Typed {
    pub(crate) values: Values,
    /// Present values represented (can exceed the sketch's length).
    pub(crate) rows: usize,
    pub(crate) missing: usize,
    pub(crate) total: usize,
}

/// Counts of text values. Categorical columns have few distinct values, so a short list searched
/// in order (the common values first, as they were met first) beats hashing every value; past
/// 32 distinct values it moves to a hash map.
#[derive(Default)]
struct TextCounts<'a> {
    few: Vec<(&'a str, f64)>,
    many: HashMap<&'a str, f64>,
}

impl<'a> TextCounts<'a> {
    fn add(&mut self, v: &'a str) {
        if self.many.is_empty() {
            if let Some(slot) = self.few.iter_mut().find(|(k, _)| *k == v) {
                slot.1 += 1.0;
                return;
            }
            if self.few.len() < 32 {
                self.few.push((v, 1.0));
                return;
            }
            self.many.extend(self.few.drain(..));
        }
        *self.many.entry(v).or_insert(0.0) += 1.0;
    }

    fn into_map(self) -> HashMap<&'a str, f64> {
        let mut map = self.many;
        map.extend(self.few);
        map
    }
}

/// [`str::trim`], without its Unicode search when the value starts and ends with a visible ASCII
/// character (nearly every category), which no whitespace can be.
fn trim(v: &str) -> &str {
    let bytes = v.as_bytes();
    match (bytes.first(), bytes.last()) {
        (Some(a), Some(b)) if a.is_ascii_graphic() && b.is_ascii_graphic() => v,
        _ => v.trim(),
    }
}

/// Widest span of an integer column sorted by counting (4 Mi slots of 4 bytes).
const MAX_COUNTED_SPAN: u64 = 1 << 22;

/// An integer column's values as sorted floats, by counting each value in its span and writing the
/// counts out in order — cheaper than casting, copying and sorting when the span is small (ages,
/// counts, flags). `None` when the column is not integers or spans too widely.
fn integer_values_by_counting(series: &Series) -> Result<Option<Vec<f64>>> {
    if !series.dtype().is_integer() || series.len() < 4096 {
        return Ok(None);
    }
    let cast = series.cast(&DataType::Int64).map_err(|e| Error::Invalid(e.to_string()))?;
    let ca = cast.i64().map_err(|e| Error::Invalid(e.to_string()))?;
    let (Some(min), Some(max)) = (ca.min(), ca.max()) else { return Ok(None) };
    let span = max.abs_diff(min);
    if span >= MAX_COUNTED_SPAN {
        return Ok(None);
    }
    let mut counts = vec![0u32; span as usize + 1];
    for chunk in ca.downcast_iter() {
        for v in chunk.iter().flatten() {
            counts[v.abs_diff(min) as usize] += 1;
        }
    }
    let mut values = Vec::with_capacity(ca.len() - ca.null_count());
    for (offset, &count) in counts.iter().enumerate() {
        values.extend(std::iter::repeat_n((min + offset as i64) as f64, count as usize));
    }
    Ok(Some(values))
}

pub(crate) fn type_column(series: &Series) -> Result<Typed> {
    let total = series.len();
    if series.dtype().is_primitive_numeric() || series.dtype().is_bool() {
        let integers = series.dtype().is_integer() || series.dtype().is_bool();
        let has_null = series.null_count() > 0;
        let values = match integer_values_by_counting(series)? {
            Some(values) => values,
            None => {
                let cast = series.cast(&DataType::Float64).map_err(|e| Error::Invalid(e.to_string()))?;
                let ca = cast.f64().map_err(|e| Error::Invalid(e.to_string()))?;
                let mut values: Vec<f64> =
                    if has_null { ca.iter().flatten().collect() } else { ca.into_no_null_iter().collect() };
                values.retain(|v| v.is_finite());
                stats::sort_numbers(&mut values);
                values
            }
        };
        return Ok(Typed {
            missing: total - values.len(),
            rows: values.len(),
            values: Values::Numbers { values, integers: integers && !has_null },
            total,
        });
    }
    let text = series.cast(&DataType::String).map_err(|e| Error::Invalid(e.to_string()))?;
    let ca = text.str().map_err(|e| Error::Invalid(e.to_string()))?;
    let mut counts = TextCounts::default();
    let mut present = 0usize;
    for v in ca.iter().flatten().map(trim).filter(|v| !v.is_empty()) {
        counts.add(v);
        present += 1;
    }
    let counts = counts.into_map();
    // Text that parses as numbers is numbers (as pandas reads a CSV).
    if present > 0 && counts.keys().all(|k| k.parse::<f64>().is_ok()) {
        let integers = present == total && counts.keys().all(|k| k.parse::<i64>().is_ok());
        let mut values: Vec<f64> =
            ca.iter().flatten().map(trim).filter_map(|v| v.parse::<f64>().ok()).filter(|v| v.is_finite()).collect();
        stats::sort_numbers(&mut values);
        return Ok(Typed {
            missing: total - values.len(),
            rows: values.len(),
            values: Values::Numbers { values, integers },
            total,
        });
    }
    Ok(Typed {
        missing: total - present,
        rows: present,
        values: Values::Categories(counts.into_iter().map(|(k, c)| (k.to_string(), c)).collect()),
        total,
    })
}

/// Distinct values.
fn distinct_count(values: &Values) -> usize {
    match values {
        Values::Numbers { values, .. } => stats::distinct_sorted(values),
        Values::Categories(counts) => counts.len(),
    }
}

/// Distinct values of both sides together.
fn distinct_union(a: &Values, b: &Values) -> usize {
    match (a, b) {
        (Values::Numbers { values: x, .. }, Values::Numbers { values: y, .. }) => stats::distinct_union_sorted(x, y),
        _ => category_counts(a).keys().chain(category_counts(b).keys()).collect::<BTreeSet<_>>().len(),
    }
}

/// Value → count, numbers formatted like pandas prints them.
fn category_counts(values: &Values) -> BTreeMap<String, f64> {
    match values {
        Values::Categories(counts) => counts.clone(),
        Values::Numbers { values, .. } => {
            // Sorted: equal values are neighbours, so each run is one category.
            let mut counts = BTreeMap::new();
            let mut i = 0;
            while i < values.len() {
                let bits = values[i].to_bits();
                let run = values[i..].iter().take_while(|v| v.to_bits() == bits).count();
                counts.insert(format_number(values[i]), run as f64);
                i += run;
            }
            counts
        }
    }
}

/// Evidently's kind for a column (from the current data), or `None` for free text.
fn infer_kind(current: &Values) -> Option<ColumnKind> {
    match current {
        Values::Numbers { integers: false, .. } => Some(ColumnKind::Numeric),
        v @ Values::Numbers { integers: true, .. } => {
            Some(if distinct_count(v) <= 10 { ColumnKind::Categorical } else { ColumnKind::Numeric })
        }
        Values::Categories(counts) => {
            let present: f64 = counts.values().sum();
            (counts.len() as f64 <= present * 0.5).then_some(ColumnKind::Categorical)
        }
    }
}

fn format_number(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 { format!("{}", v as i64) } else { format!("{v}") }
}

fn numbers(values: &Values) -> Option<Vec<f64>> {
    match values {
        Values::Numbers { values, .. } => Some(values.clone()),
        Values::Categories(_) => None,
    }
}

/// Compare `reference` with `current`, column by column (the columns both have).
pub fn drift_frames(reference: &DataFrame, current: &DataFrame, options: &DriftOptions) -> Result<DriftReport> {
    TypedReference::new(reference, &options.exclude).drift(current, options)
}

/// Drift of the `current` file against `reference` — a data file, or a profile saved as `.json`.
/// The reference is read and typed on its own thread while the current file is read.
pub fn drift_files(
    reference: &std::path::Path,
    current: &std::path::Path,
    options: &DriftOptions,
) -> Result<DriftReport> {
    if reference.extension().is_some_and(|e| e == "json") {
        let profile = crate::core::profile::ReferenceProfile::load(reference)?;
        return drift_profile(&profile, &crate::core::read_table_inferred(current, &options.exclude)?, options);
    }
    std::thread::scope(|scope| {
        let typed = std::thread::Builder::new()
            .name("mirador-read-reference".into())
            .spawn_scoped(scope, || {
                let frame = crate::core::read_table_inferred(reference, &options.exclude)?;
                Ok::<_, Error>(TypedReference::new(&frame, &options.exclude))
            })
            .map_err(|e| Error::Invalid(format!("could not start a thread: {e}")))?;
        let current = crate::core::read_table_inferred(current, &options.exclude)?;
        let typed = typed.join().map_err(|_| Error::Invalid("reading the reference failed".into()))??;
        typed.drift(&current, options)
    })
}

/// A reference typed once, for comparing it with many current frames (monitoring chunks).
pub(crate) struct TypedReference {
    /// In the reference's column order.
    columns: Vec<(String, std::result::Result<Typed, String>)>,
}

impl TypedReference {
    /// Type every column of `reference` except `exclude`.
    pub(crate) fn new(reference: &DataFrame, exclude: &[String]) -> Self {
        let names: Vec<String> =
            reference.get_column_names().iter().map(|c| c.to_string()).filter(|c| !exclude.contains(c)).collect();
        let columns = names
            .par_iter()
            .map(|name| {
                let typed = reference
                    .column(name)
                    .map_err(|e| e.to_string())
                    .and_then(|c| type_column(c.as_materialized_series()).map_err(|e| e.to_string()));
                (name.clone(), typed)
            })
            .collect();
        Self { columns }
    }

    /// Compare with `current`, as [`drift_frames`] would compare the reference itself.
    pub(crate) fn drift(&self, current: &DataFrame, options: &DriftOptions) -> Result<DriftReport> {
        let reference_of = |name: &str| {
            self.columns
                .iter()
                .find(|(n, _)| n == name)
                .map_or_else(|| Err("not in the reference".into()), |(_, t)| t.clone())
        };
        let names: Vec<String> =
            self.columns.iter().map(|(n, _)| n.clone()).filter(|c| current.column(c).is_ok()).collect();
        drift_columns(&names, &reference_of, current, options)
    }
}

/// Compare a saved reference profile with `current` (see [`crate::core::profile`]).
pub fn drift_profile(
    profile: &crate::core::profile::ReferenceProfile,
    current: &DataFrame,
    options: &DriftOptions,
) -> Result<DriftReport> {
    let reference_of =
        |name: &str| profile.columns.get(name).map(|c| c.typed()).ok_or_else(|| "not in the profile".to_string());
    let names: Vec<String> =
        current.get_column_names().iter().map(|c| c.to_string()).filter(|c| profile.columns.contains_key(c)).collect();
    drift_columns(&names, &reference_of, current, options)
}

fn drift_columns(
    names: &[String],
    reference_of: &(dyn Fn(&str) -> std::result::Result<Typed, String> + Sync),
    current: &DataFrame,
    options: &DriftOptions,
) -> Result<DriftReport> {
    let names: Vec<&String> = names.iter().filter(|c| !options.exclude.contains(c)).collect();
    let results: Vec<(String, std::result::Result<ColumnDrift, String>)> = names
        .par_iter()
        .map(|name| {
            let r = reference_of(name).and_then(|reference| {
                let cur = current.column(name).map_err(|e| e.to_string())?;
                column_drift(name, reference, cur.as_materialized_series(), options)
            });
            ((*name).clone(), r)
        })
        .collect();
    let mut report = DriftReport {
        columns: Vec::new(),
        share_drifted: 0.0,
        dataset_drift: false,
        drift_share: options.drift_share,
        skipped: BTreeMap::new(),
    };
    for (name, r) in results {
        match r {
            Ok(c) => report.columns.push(c),
            Err(reason) => {
                report.skipped.insert(name, reason);
            }
        }
    }
    let drifted = report.columns.iter().filter(|c| c.drift).count();
    report.share_drifted = if report.columns.is_empty() { 0.0 } else { drifted as f64 / report.columns.len() as f64 };
    report.dataset_drift = !report.columns.is_empty() && report.share_drifted >= options.drift_share;
    Ok(report)
}

fn column_drift(
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

#[cfg(test)]
mod tests {
    use polars::prelude::*;

    /// Counting an integer column gives the values, and so every statistic, that casting and
    /// sorting gives: negatives, repeats, missing values, a wide span that falls back.
    #[test]
    fn counted_integers_equal_cast_and_sorted() {
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for span in [2u64, 73, 100_000, 1 << 40] {
            let values: Vec<Option<i64>> =
                (0..20_000).map(|i| (i % 97 != 0).then(|| (next() % span) as i64 - (span / 2) as i64)).collect();
            let series = Series::new("n".into(), values.clone());
            let mut expected: Vec<f64> = values.iter().flatten().map(|&v| v as f64).collect();
            expected.sort_by(f64::total_cmp);
            let counted = super::integer_values_by_counting(&series).unwrap();
            assert_eq!(counted.is_some(), span < super::MAX_COUNTED_SPAN, "span {span}");
            if let Some(counted) = counted {
                assert_eq!(counted, expected, "span {span}");
            }
            let typed = super::type_column(&series).unwrap();
            let super::Values::Numbers { values: got, integers } = typed.values else { panic!("numbers") };
            assert_eq!(got, expected, "span {span}");
            assert!(!integers, "a column with missing values is not treated as integers");
            assert_eq!(typed.missing, values.iter().filter(|v| v.is_none()).count());
        }
    }

    #[test]
    fn trim_is_str_trim() {
        for v in ["", " ", "a", " a", "a ", "\ta\n", "\u{a0}x\u{a0}", "x\u{2003}", "One year", "é", " é "] {
            assert_eq!(super::trim(v), v.trim(), "{v:?}");
        }
    }
}
