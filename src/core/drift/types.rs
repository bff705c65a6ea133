//! The drift engine's vocabulary: column kinds, tests, settings, and the per-column and dataset
//! reports.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

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

impl ColumnKind {
    /// The kind's name (JSON, CLI, exports).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Numeric => "numeric",
            Self::Categorical => "categorical",
        }
    }
}

impl DriftTest {
    /// The test's name (JSON, CLI, bundles, Prometheus labels).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ks => "ks",
            Self::Chisquare => "chisquare",
            Self::Z => "z",
            Self::Wasserstein => "wasserstein",
            Self::Jensenshannon => "jensenshannon",
            Self::Psi => "psi",
            Self::Hellinger => "hellinger",
        }
    }

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

impl DriftOptions {
    /// Refuse settings out of range, naming the setting.
    pub fn check(&self) -> crate::core::Result<()> {
        crate::core::settings::share("the dataset drift share (--drift-share)", self.drift_share)?;
        for (column, o) in &self.columns {
            if let Some(t) = o.threshold
                && !t.is_finite()
            {
                return Err(crate::core::Error::Invalid(format!(
                    "the drift threshold of '{column}' must be a number; got {t}"
                )));
            }
        }
        Ok(())
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The names the text output uses are the names JSON uses.
    #[test]
    fn as_str_is_the_json_name() {
        for kind in [ColumnKind::Numeric, ColumnKind::Categorical] {
            assert_eq!(serde_json::to_value(kind).unwrap(), kind.as_str());
        }
        for test in [
            DriftTest::Ks,
            DriftTest::Chisquare,
            DriftTest::Z,
            DriftTest::Wasserstein,
            DriftTest::Jensenshannon,
            DriftTest::Psi,
            DriftTest::Hellinger,
        ] {
            assert_eq!(serde_json::to_value(test).unwrap(), test.as_str());
        }
    }
}
