//! Monitoring over time: split a timestamped (or row-ordered) dataset into chunks and compute, per
//! chunk, data drift against the reference, prediction drift, realised performance where labels
//! exist and estimated performance where they do not yet ([`cbpe`]); give each the reference band
//! (mean ± 3σ over reference chunks, as NannyML does); and turn threshold rules into alerts
//! ([`alerts`]).
//!
//! Reference chunks have the size of the median current chunk; each is compared with the whole
//! reference (drift) or evaluated on its own (performance), so the band shows how much a score
//! moves when nothing has changed.

pub mod alerts;
pub mod cbpe;
pub mod chunks;
pub mod labels;
mod request;
pub mod served;

use std::collections::BTreeMap;

use polars::prelude::*;
use serde::Serialize;

use super::drift::{ColumnDrift, DriftOptions, DriftReport, TypedReference, drift_frames};
use super::error::{Error, Result};
use super::metrics::{BootstrapOptions, ClassificationData, EvaluateOptions, evaluate_classification};
pub use alerts::{Alert, AlertRule, AlertSeverity, Breach};
pub use chunks::Chunking;
pub use request::{MonitorRequest, STEPS, check_rules, monitor_files};

/// A band of normal values.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Band {
    /// Mean over reference chunks.
    pub mean: f64,
    /// Standard deviation over reference chunks.
    pub std: f64,
    /// mean − 3σ.
    pub lower: f64,
    /// mean + 3σ.
    pub upper: f64,
}

impl Band {
    fn of(values: &[f64]) -> Option<Self> {
        let v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
        if v.len() < 2 {
            return None;
        }
        let mean = v.iter().sum::<f64>() / v.len() as f64;
        let std = (v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (v.len() - 1) as f64).sqrt();
        Some(Self { mean, std, lower: mean - 3.0 * std, upper: mean + 3.0 * std })
    }

    /// Whether `value` falls outside.
    pub fn excludes(&self, value: f64) -> bool {
        value < self.lower || value > self.upper
    }
}

/// One chunk's results.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChunkResult {
    /// Position in time order.
    pub index: usize,
    /// Period start (e.g. `2026-09-07`) or row range.
    pub label: String,
    /// Rows in the chunk.
    pub rows: usize,
    /// Share of columns drifted.
    pub share_drifted: f64,
    /// Whether the chunk drifts as a dataset.
    pub dataset_drift: bool,
    /// Column → drift score.
    pub drift_scores: BTreeMap<String, f64>,
    /// Column → drift verdict.
    pub drifted: BTreeMap<String, bool>,
    /// Drift score of the model's output (when predictions were given).
    pub prediction_drift: Option<f64>,
    /// Realised performance (when labels were given).
    pub performance: BTreeMap<String, Option<f64>>,
    /// Performance estimated without labels (CBPE, binary classifiers), e.g. `estimated_roc_auc`.
    pub estimated_performance: BTreeMap<String, f64>,
    /// Share of the chunk's rows with a label (when labels arrive late; none: all or none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub labelled_share: Option<f64>,
}

/// Predictions (and labels) aligned with the rows of the reference and current data.
#[derive(Debug, Clone, Default)]
pub struct ModelOutputs {
    /// Positive-class probability (classifiers) or predicted value (regressors), reference rows.
    pub reference_scores: Vec<f64>,
    /// The same for current rows.
    pub current_scores: Vec<f64>,
    /// Labelled reference rows, for the performance band.
    pub reference_labelled: Option<ClassificationData>,
    /// Labelled current rows, for realised performance.
    pub current_labelled: Option<ClassificationData>,
    /// Which current rows have a label, when only some do (late labels joined to a prediction
    /// log); none: every row of `current_labelled` is labelled.
    pub current_label_mask: Option<Vec<bool>>,
    /// Whether the scores are a binary classifier's positive-class probabilities (enables CBPE).
    pub binary: bool,
}

/// The monitoring report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MonitorReport {
    /// How the data was chunked.
    pub chunking: String,
    /// Per chunk, in time order.
    pub chunks: Vec<ChunkResult>,
    /// Drift over the whole current dataset.
    pub overall: DriftReport,
    /// Reference bands: `drift:<column>`, `prediction_drift`, and performance metrics.
    pub bands: BTreeMap<String, Band>,
    /// Alerts raised.
    pub alerts: Vec<Alert>,
    /// What the run could not do as asked (a rule that cannot fire without a model, …).
    pub notes: Vec<String>,
    /// The target column's drift, apart from the features' (not counted in their share).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_drift: Option<ColumnDrift>,
}

/// The performance metrics monitored per chunk (realised with labels).
pub const PERFORMANCE: [&str; 5] = ["roc_auc", "accuracy", "precision", "recall", "f1"];

/// Monitor `current` against `reference`.
pub fn monitor(
    reference: &DataFrame,
    current: &DataFrame,
    chunking: &Chunking,
    drift: &DriftOptions,
    outputs: Option<&ModelOutputs>,
    rules: &[AlertRule],
) -> Result<MonitorReport> {
    let mut options = drift.clone();
    if let Chunking::Period { column, .. } = chunking
        && !options.exclude.contains(column)
    {
        options.exclude.push(column.clone());
    }
    if let Some(out) = outputs
        && (out.current_scores.len() != current.height() || out.reference_scores.len() != reference.height())
    {
        return Err(Error::Invalid(format!(
            "model outputs do not line up with the data: {} and {} scores for {} reference and {} current rows",
            out.reference_scores.len(),
            out.current_scores.len(),
            reference.height(),
            current.height()
        )));
    }
    let current_chunks = chunking.split(current)?;
    if current_chunks.is_empty() {
        return Err(Error::Invalid("the current data has no rows to chunk".into()));
    }
    let mut sizes: Vec<usize> = current_chunks.iter().map(|c| c.rows.len()).collect();
    sizes.sort_unstable();
    let reference_chunks = Chunking::Rows(sizes[sizes.len() / 2].max(1)).split(reference)?;

    // The reference is typed once and compared with every chunk.
    let typed_reference = TypedReference::new(reference, &options.exclude);
    let mut chunks = Vec::new();
    for (index, chunk) in current_chunks.iter().enumerate() {
        let frame = take(current, &chunk.rows)?;
        let report = if frame.height() == 0 { None } else { Some(typed_reference.drift(&frame, &options)?) };
        let mut result = ChunkResult {
            index,
            label: chunk.label.clone(),
            rows: chunk.rows.len(),
            share_drifted: report.as_ref().map_or(0.0, |r| r.share_drifted),
            dataset_drift: report.as_ref().is_some_and(|r| r.dataset_drift),
            drift_scores: report.iter().flat_map(|r| r.columns.iter().map(|c| (c.column.clone(), c.score))).collect(),
            drifted: report.iter().flat_map(|r| r.columns.iter().map(|c| (c.column.clone(), c.drift))).collect(),
            prediction_drift: None,
            performance: BTreeMap::new(),
            estimated_performance: BTreeMap::new(),
            labelled_share: None,
        };
        if let Some(out) = outputs {
            let scores: Vec<f64> = chunk.rows.iter().map(|&i| out.current_scores[i]).collect();
            result.prediction_drift = score_drift(&out.reference_scores, &scores)?;
            if out.binary {
                result.estimated_performance = cbpe::estimate(&scores, 0.5);
            }
            if let Some(labelled) = &out.current_labelled {
                let rows: Vec<usize> = match &out.current_label_mask {
                    Some(mask) => {
                        chunk.rows.iter().copied().filter(|&i| mask.get(i).copied().unwrap_or(false)).collect()
                    }
                    None => chunk.rows.clone(),
                };
                if out.current_label_mask.is_some() {
                    result.labelled_share = Some(rows.len() as f64 / chunk.rows.len().max(1) as f64);
                }
                result.performance = performance(labelled, &rows);
            }
        }
        chunks.push(result);
    }

    let mut bands = BTreeMap::new();
    let mut by_key: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    for chunk in &reference_chunks {
        let frame = take(reference, &chunk.rows)?;
        for c in typed_reference.drift(&frame, &options)?.columns {
            by_key.entry(format!("drift:{}", c.column)).or_default().push(c.score);
        }
        if let Some(out) = outputs {
            let scores: Vec<f64> = chunk.rows.iter().map(|&i| out.reference_scores[i]).collect();
            if let Some(s) = score_drift(&out.reference_scores, &scores)? {
                by_key.entry("prediction_drift".into()).or_default().push(s);
            }
            if out.binary {
                for (metric, value) in cbpe::estimate(&scores, 0.5) {
                    by_key.entry(metric).or_default().push(value);
                }
            }
            if let Some(labelled) = &out.reference_labelled {
                for (metric, value) in performance(labelled, &chunk.rows) {
                    by_key.entry(metric).or_default().push(value.unwrap_or(f64::NAN));
                }
            }
        }
    }
    for (key, values) in by_key {
        if let Some(band) = Band::of(&values) {
            bands.insert(key, band);
        }
    }
    let overall = typed_reference.drift(current, &options)?;
    let alerts = alerts::evaluate(rules, &chunks, &bands, drift.drift_share);
    Ok(MonitorReport {
        chunking: chunking.to_string(),
        chunks,
        overall,
        bands,
        alerts,
        notes: Vec::new(),
        target_drift: None,
    })
}

fn take(frame: &DataFrame, rows: &[usize]) -> Result<DataFrame> {
    let idx = IdxCa::from_vec("idx".into(), rows.iter().map(|&r| r as IdxSize).collect());
    frame.take(&idx).map_err(|e| Error::Invalid(e.to_string()))
}

/// Drift of the model's output: a numeric column, with the default test for its size.
fn score_drift(reference: &[f64], current: &[f64]) -> Result<Option<f64>> {
    if reference.is_empty() || current.is_empty() {
        return Ok(None);
    }
    let r = DataFrame::new(reference.len(), vec![Column::new("prediction".into(), reference)])
        .map_err(|e| Error::Invalid(e.to_string()))?;
    let c = DataFrame::new(current.len(), vec![Column::new("prediction".into(), current)])
        .map_err(|e| Error::Invalid(e.to_string()))?;
    let report = drift_frames(&r, &c, &DriftOptions::default())?;
    Ok(report.columns.first().map(|c| c.score))
}

fn performance(labelled: &ClassificationData, rows: &[usize]) -> BTreeMap<String, Option<f64>> {
    let k = labelled.classes.len();
    // A subset of checked data (every index in `rows` is a row of `labelled`) is checked data.
    let subset = ClassificationData {
        classes: labelled.classes.clone(),
        positive: labelled.positive,
        y_true: rows.iter().map(|&i| labelled.y_true[i]).collect(),
        proba: rows.iter().flat_map(|&i| labelled.proba[i * k..(i + 1) * k].iter().copied()).collect(),
    };
    if subset.y_true.is_empty() {
        return PERFORMANCE.iter().map(|m| (m.to_string(), None)).collect();
    }
    let options = EvaluateOptions {
        bootstrap: BootstrapOptions { resamples: 0, ..BootstrapOptions::default() },
        ..EvaluateOptions::default()
    };
    let report = evaluate_classification(&subset, &options);
    PERFORMANCE.iter().map(|m| (m.to_string(), report.metrics.get(*m).copied().flatten())).collect()
}
