//! A reference profile: the reference data summarised and saved (JSON), so drift can be computed
//! later against the profile alone — what a deployment bundle carries to production.
//!
//! Per column: counts (total, missing), and either the category counts, or the numbers as a sorted
//! sample — every value when the column has at most [`EXACT_LIMIT`] of them (drift against the
//! profile is then identical to drift against the data), else [`EXACT_LIMIT`] evenly spaced
//! quantiles. With the sketch, the empirical CDF is off by at most 1 / 50,000 = 2e-5, which bounds
//! the error of the KS statistic; p-values use the true row count. Plus summary statistics
//! (min, max, mean, population std, quantiles) for people and model cards.

use std::collections::BTreeMap;
use std::path::Path;

use polars::prelude::DataFrame;
use serde::{Deserialize, Serialize};

use super::typing::{Typed, Values, type_column};
use crate::core::atomic::write_atomic;

use crate::core::error::{Error, Result};
use crate::core::metrics::bootstrap::quantile;

/// Numbers kept per column before switching to a quantile sketch.
pub const EXACT_LIMIT: usize = 50_000;

/// The saved summary of a reference dataset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReferenceProfile {
    /// Format version of this file.
    pub format_version: u32,
    /// Rows in the reference data.
    pub rows: usize,
    /// Where the data came from (file name), for people.
    pub source: String,
    /// Per column.
    pub columns: BTreeMap<String, ColumnProfile>,
}

/// One column's summary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ColumnProfile {
    /// Values in all.
    pub total: usize,
    /// Missing values.
    pub missing: usize,
    /// Numbers (when the column is numeric).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub numbers: Option<NumberProfile>,
    /// Category → count (when the column is text).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub categories: Option<BTreeMap<String, u64>>,
}

/// A numeric column's summary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NumberProfile {
    /// Present values.
    pub count: usize,
    /// Whether every value is an integer (and none is missing).
    pub integers: bool,
    /// Whether `sorted` holds every value (else a quantile sketch).
    pub exact: bool,
    /// Sorted values, or quantiles at (i + 0.5) / len.
    pub sorted: Vec<f64>,
    /// Smallest value.
    pub min: f64,
    /// Largest value.
    pub max: f64,
    /// Mean.
    pub mean: f64,
    /// Population standard deviation.
    pub std: f64,
    /// Quantiles at 1, 5, 25, 50, 75, 95, 99 %.
    pub quantiles: BTreeMap<String, f64>,
}

const FORMAT_VERSION: u32 = 1;

impl ReferenceProfile {
    /// Summarise `frame`, leaving out `exclude`d columns.
    pub fn from_frame(frame: &DataFrame, source: &str, exclude: &[String]) -> Result<Self> {
        let mut columns = BTreeMap::new();
        for column in frame.columns() {
            let name = column.name().to_string();
            if exclude.contains(&name) {
                continue;
            }
            let typed = type_column(column.as_materialized_series())?;
            columns.insert(name, ColumnProfile::from_typed(typed));
        }
        Ok(Self { format_version: FORMAT_VERSION, rows: frame.height(), source: source.to_string(), columns })
    }

    /// Write as JSON, atomically (temporary file, then rename).
    pub fn save(&self, path: &Path) -> Result<()> {
        let text = serde_json::to_vec(self).map_err(|e| Error::Invalid(e.to_string()))?;
        write_atomic(path, &text, "write the profile")
    }

    /// Read a profile written by [`save`](Self::save).
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read(path).map_err(|e| Error::io("read the profile", path, e))?;
        let profile: Self = serde_json::from_slice(&text)
            .map_err(|e| Error::Invalid(format!("not a Mirador reference profile: {e} — {}", path.display())))?;
        if profile.format_version != FORMAT_VERSION {
            return Err(Error::Invalid(format!(
                "profile format {} is not supported (this Mirador reads format {FORMAT_VERSION}) — {}",
                profile.format_version,
                path.display()
            )));
        }
        Ok(profile)
    }
}

impl ColumnProfile {
    fn from_typed(typed: Typed) -> Self {
        let (numbers, categories) = match typed.values {
            // Typed numbers arrive sorted (see `Values::Numbers`).
            Values::Numbers { values, integers } => (Some(NumberProfile::new(&values, integers)), None),
            Values::Categories(counts) => (None, Some(counts.into_iter().map(|(k, c)| (k, c as u64)).collect())),
        };
        Self { total: typed.total, missing: typed.missing, numbers, categories }
    }

    /// The column as the drift engine sees a reference column.
    pub(crate) fn typed(&self) -> Typed {
        let values = match (&self.numbers, &self.categories) {
            (Some(n), _) => Values::Numbers { values: n.sorted.clone(), integers: n.integers },
            (None, Some(c)) => Values::Categories(c.iter().map(|(k, &n)| (k.clone(), n as f64)).collect()),
            (None, None) => Values::Categories(BTreeMap::new()),
        };
        let rows = self.total - self.missing;
        Typed { values, rows, missing: self.missing, total: self.total }
    }
}

impl NumberProfile {
    fn new(sorted: &[f64], integers: bool) -> Self {
        let count = sorted.len();
        let quantile = |q: f64| quantile(sorted, q);
        let exact = count <= EXACT_LIMIT;
        let kept = if exact {
            sorted.to_vec()
        } else {
            (0..EXACT_LIMIT).map(|i| quantile((i as f64 + 0.5) / EXACT_LIMIT as f64)).collect()
        };
        let mean = sorted.iter().sum::<f64>() / count.max(1) as f64;
        let std = (sorted.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / count.max(1) as f64).sqrt();
        let quantiles =
            [1, 5, 25, 50, 75, 95, 99].iter().map(|&p| (format!("p{p:02}"), quantile(f64::from(p) / 100.0))).collect();
        Self {
            count,
            integers,
            exact,
            sorted: kept,
            min: sorted.first().copied().unwrap_or(f64::NAN),
            max: sorted.last().copied().unwrap_or(f64::NAN),
            mean,
            std,
            quantiles,
        }
    }
}
