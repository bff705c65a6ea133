//! Alert rules evaluated per chunk into a list of alerts.
//!
//! Rules (one per string, several with `;`):
//! - `share_drifted > 0.3` — share of drifted columns;
//! - `drift:<column> > 0.2` — a column's drift score (for p-value tests use `<`);
//! - `prediction_drift > 0.1` — drift of the model's output;
//! - `roc_auc < 0.7` (any performance metric: `accuracy`, `precision`, `recall`, `f1`, or an
//!   estimate made without labels: `estimated_roc_auc`, `estimated_accuracy`, ...);
//! - `roc_auc outside band` — outside the reference band (mean ± 3σ); any banded key works.
//!
//! Always on: a chunk whose share of drifted columns reaches the dataset threshold raises a
//! critical alert.

use std::collections::BTreeMap;

use serde::Serialize;

use super::{Band, ChunkResult};
use crate::core::error::{Error, Result};

/// How serious.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertSeverity {
    /// Needs action.
    Critical,
    /// Worth a look.
    Warning,
}

impl AlertSeverity {
    /// The severity's name (JSON, CLI, alert logs).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Critical => "critical",
            Self::Warning => "warning",
        }
    }
}

/// Why an alert fired (for a shell to word it in its own language).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Breach {
    /// The share of drifted columns reached the dataset threshold.
    DatasetDrift {
        /// The share of drifted columns.
        share: f64,
        /// The threshold.
        threshold: f64,
    },
    /// The value rose above the limit.
    Above {
        /// The value.
        value: f64,
        /// The limit.
        limit: f64,
    },
    /// The value fell below the limit.
    Below {
        /// The value.
        value: f64,
        /// The limit.
        limit: f64,
    },
    /// The value left the reference band.
    OutsideBand {
        /// The value.
        value: f64,
        /// The band's lower edge.
        lower: f64,
        /// The band's upper edge.
        upper: f64,
    },
}

/// A raised alert.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Alert {
    /// Severity.
    pub severity: AlertSeverity,
    /// The chunk's label (period start or row range).
    pub chunk: String,
    /// The rule that fired.
    pub rule: String,
    /// What the rule watches (`share_drifted`, `drift:<column>`, a metric).
    pub key: String,
    /// What happened, with the numbers (English).
    pub message: String,
    /// The numbers.
    pub breach: Breach,
    /// For the dataset-drift alert: the columns that drifted.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub columns: Vec<String>,
}

/// A threshold rule.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AlertRule {
    /// The rule as written.
    pub text: String,
    key: String,
    check: Check,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
enum Check {
    Above(f64),
    Below(f64),
    OutsideBand,
}

impl AlertRule {
    /// Parse rules separated by `;`.
    pub fn parse_all(text: &str) -> Result<Vec<Self>> {
        text.split(';').map(str::trim).filter(|r| !r.is_empty()).map(Self::parse).collect()
    }

    /// What the rule watches (`share_drifted`, `drift:<column>`, a metric).
    pub fn key(&self) -> &str {
        &self.key
    }

    /// Parse one rule.
    pub fn parse(text: &str) -> Result<Self> {
        let bad = || {
            Error::Invalid(format!(
                "cannot read alert rule '{text}': write e.g. 'share_drifted > 0.3', 'roc_auc < 0.7' or 'roc_auc outside band'"
            ))
        };
        let words: Vec<&str> = text.split_whitespace().collect();
        let check = match words.as_slice() {
            [_, "outside", "band"] => Check::OutsideBand,
            [_, ">", x] => Check::Above(x.parse().map_err(|_| bad())?),
            [_, "<", x] => Check::Below(x.parse().map_err(|_| bad())?),
            _ => return Err(bad()),
        };
        Ok(Self { text: text.trim().to_string(), key: words[0].to_string(), check })
    }

    /// Whether `value` breaks the rule, and how, in words (a band rule never does: it needs the
    /// reference chunks' band).
    pub fn breach(&self, value: f64) -> Option<String> {
        match self.check {
            Check::Above(x) => (value > x).then(|| format!("{} = {value:.4} is above {x}", self.key)),
            Check::Below(x) => (value < x).then(|| format!("{} = {value:.4} is below {x}", self.key)),
            Check::OutsideBand => None,
        }
    }

    /// Whether the rule compares with a reference band (`outside band`).
    pub fn is_band(&self) -> bool {
        self.check == Check::OutsideBand
    }

    fn value(&self, chunk: &ChunkResult) -> Option<f64> {
        match self.key.as_str() {
            "share_drifted" => Some(chunk.share_drifted),
            "prediction_drift" => chunk.prediction_drift,
            key => key.strip_prefix("drift:").map_or_else(
                || {
                    chunk
                        .performance
                        .get(key)
                        .copied()
                        .flatten()
                        .or_else(|| chunk.estimated_performance.get(key).copied())
                },
                |c| chunk.drift_scores.get(c).copied(),
            ),
        }
    }
}

/// Evaluate `rules` (and the always-on dataset-drift rule) on every chunk.
pub(crate) fn evaluate(
    rules: &[AlertRule],
    chunks: &[ChunkResult],
    bands: &BTreeMap<String, Band>,
    drift_share: f64,
) -> Vec<Alert> {
    let mut alerts = Vec::new();
    for chunk in chunks {
        if chunk.dataset_drift {
            let drifted: Vec<&str> = chunk.drifted.iter().filter(|(_, d)| **d).map(|(c, _)| c.as_str()).collect();
            alerts.push(Alert {
                severity: AlertSeverity::Critical,
                chunk: chunk.label.clone(),
                rule: format!("share_drifted >= {drift_share}"),
                key: "share_drifted".into(),
                message: format!(
                    "{:.0}% of columns drifted ({}), at or above the {:.0}% dataset threshold",
                    chunk.share_drifted * 100.0,
                    drifted.join(", "),
                    drift_share * 100.0
                ),
                breach: Breach::DatasetDrift { share: chunk.share_drifted, threshold: drift_share },
                columns: drifted.iter().map(|c| (*c).to_string()).collect(),
            });
        }
        for rule in rules {
            let Some(value) = rule.value(chunk) else { continue };
            let fired = match rule.check {
                Check::Above(x) => (value > x)
                    .then(|| (format!("{} = {value:.4} is above {x}", rule.key), Breach::Above { value, limit: x })),
                Check::Below(x) => (value < x)
                    .then(|| (format!("{} = {value:.4} is below {x}", rule.key), Breach::Below { value, limit: x })),
                Check::OutsideBand => bands.get(&rule.key).filter(|b| b.excludes(value)).map(|b| {
                    (
                        format!(
                            "{} = {value:.4} is outside the reference band [{:.4}, {:.4}]",
                            rule.key, b.lower, b.upper
                        ),
                        Breach::OutsideBand { value, lower: b.lower, upper: b.upper },
                    )
                }),
            };
            if let Some((message, breach)) = fired {
                alerts.push(Alert {
                    severity: AlertSeverity::Warning,
                    chunk: chunk.label.clone(),
                    rule: rule.text.clone(),
                    key: rule.key.clone(),
                    message,
                    breach,
                    columns: Vec::new(),
                });
            }
        }
    }
    alerts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn severity_names_are_the_json_names() {
        for s in [AlertSeverity::Critical, AlertSeverity::Warning] {
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
    }
}
