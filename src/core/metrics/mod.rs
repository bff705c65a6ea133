//! Model performance: classification and regression metrics that match scikit-learn 1.9, the curves
//! behind them, metrics as a function of the decision threshold, and bootstrap confidence
//! intervals for every headline metric (multiclass: accuracy, balanced accuracy, macro P/R/F1,
//! log loss, Brier, ROC AUC and average precision).
//!
//! ```
//! use mirador::core::metrics::{ClassificationData, EvaluateOptions, evaluate_classification};
//! let data = ClassificationData {
//!     classes: vec!["0".into(), "1".into()],
//!     positive: 1,
//!     y_true: vec![0, 0, 1, 1],
//!     proba: vec![0.9, 0.1, 0.6, 0.4, 0.65, 0.35, 0.2, 0.8],
//! };
//! let report = evaluate_classification(&data, &EvaluateOptions::default());
//! assert_eq!(report.metrics["roc_auc"], Some(0.75));
//! ```
//!
//! Indexing: every function here reads `proba[i * k + c]`, `y_true[i]` and per-class tables
//! `[c]` with `i < rows`, `c < k`. That holds for any [`ClassificationData`] that passes
//! [`ClassificationData::check`] (k ≥ 1 classes, `positive < k`, every `y_true < k`, `k` values per
//! row); the core builds every one through it.

pub(crate) mod binary;
pub mod bootstrap;
pub mod classification;
pub mod ranking;
pub mod regression;
pub mod streaming;

use std::collections::BTreeMap;

use serde::Serialize;

use binary::{BINARY_CI, BinaryRows};
pub use bootstrap::{BootstrapOptions, Interval, IntervalScope};
use classification::{
    Average, ConfusionMatrix, accuracy, average_precision_ovr_macro, averaged_precision_recall_f1, balanced_accuracy,
    brier, log_loss, precision_recall_f1, predict_classes, roc_auc_ovr_macro,
};
pub use ranking::{Calibration, Curve};
use ranking::{ap_from_curve, auc_from_curve, calibration_curve, clf_curve, order_desc, pr_from_curve, roc_from_curve};
pub use regression::RegressionMetrics;

/// Labels and predicted probabilities of a classifier on labelled rows.
#[derive(Debug, Clone, PartialEq)]
pub struct ClassificationData {
    /// Class labels, in the model's probability-column order.
    pub classes: Vec<String>,
    /// Index of the positive class (binary metrics).
    pub positive: usize,
    /// True class index per row.
    pub y_true: Vec<usize>,
    /// Row-major `[rows, classes]` probabilities.
    pub proba: Vec<f64>,
}

impl ClassificationData {
    /// Checked data: `proba` has `classes.len()` values per row of `y_true` (or any whole number
    /// of rows when `y_true` is empty: scores without labels), every class index is in range.
    pub fn new(
        classes: Vec<String>,
        positive: usize,
        y_true: Vec<usize>,
        proba: Vec<f64>,
    ) -> crate::core::Result<Self> {
        let data = Self { classes, positive, y_true, proba };
        data.check()?;
        Ok(data)
    }

    /// Whether the data holds what the metrics index by (see the module's note).
    pub fn check(&self) -> crate::core::Result<()> {
        let k = self.classes.len();
        let fault = |what: String| Err(crate::core::Error::internal(format!("classification data: {what}")));
        if k == 0 || self.positive >= k {
            return fault(format!("{k} classes, positive class {}", self.positive));
        }
        let whole_rows = self.proba.len().is_multiple_of(k);
        if !whole_rows || (!self.y_true.is_empty() && self.proba.len() != self.y_true.len() * k) {
            return fault(format!("{} probabilities for {} rows of {k} classes", self.proba.len(), self.y_true.len()));
        }
        if let Some(bad) = self.y_true.iter().find(|&&c| c >= k) {
            return fault(format!("class index {bad} of {k}"));
        }
        Ok(())
    }
}

/// Evaluation settings.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct EvaluateOptions {
    /// Decision threshold on the positive class's probability (binary).
    pub threshold: f64,
    /// Bins of the calibration curve.
    pub calibration_bins: usize,
    /// Bootstrap settings.
    pub bootstrap: BootstrapOptions,
}

impl Default for EvaluateOptions {
    fn default() -> Self {
        Self { threshold: 0.5, calibration_bins: 10, bootstrap: BootstrapOptions::default() }
    }
}

impl EvaluateOptions {
    /// Refuse settings out of range, naming the setting (see [`crate::core::settings`]).
    pub fn check(&self) -> crate::core::Result<()> {
        use crate::core::settings;
        settings::threshold("the decision threshold (--threshold)", self.threshold)?;
        settings::count("bootstrap resamples (--bootstrap)", self.bootstrap.resamples, 0, settings::MAX_BOOTSTRAP)?;
        settings::count("calibration bins", self.calibration_bins, 1, 1000)?;
        let c = self.bootstrap.confidence;
        if !(c.is_finite() && c > 0.0 && c < 1.0) {
            return Err(crate::core::Error::Invalid(format!("the confidence level must be between 0 and 1; got {c}")));
        }
        Ok(())
    }
}

/// Metrics at one decision threshold.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ThresholdPoint {
    /// Threshold on the positive class's probability.
    pub threshold: f64,
    /// Precision of the positive class.
    pub precision: f64,
    /// Recall of the positive class.
    pub recall: f64,
    /// F1 of the positive class.
    pub f1: f64,
    /// Accuracy.
    pub accuracy: f64,
    /// Share of rows predicted positive.
    pub positive_rate: f64,
}

/// Counts of a score per bin, split by true class.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScoreHistogram {
    /// Bin edges (bins + 1 values).
    pub edges: Vec<f64>,
    /// Rows of the positive class per bin.
    pub positives: Vec<u64>,
    /// Rows of the other classes per bin.
    pub negatives: Vec<u64>,
}

/// Everything about a classifier's performance on labelled data.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClassificationReport {
    /// Rows evaluated.
    pub rows: usize,
    /// Class labels.
    pub classes: Vec<String>,
    /// The positive class.
    pub positive_class: String,
    /// The decision threshold used for the label-based metrics (binary).
    pub threshold: f64,
    /// Metric name → value; `null` where undefined (e.g. ROC AUC with one class present).
    pub metrics: BTreeMap<String, Option<f64>>,
    /// Metric name → bootstrap interval.
    pub intervals: BTreeMap<String, Interval>,
    /// At the threshold.
    pub confusion_matrix: ConfusionMatrix,
    /// ROC curve of the positive class.
    pub roc: Option<Curve>,
    /// Precision–recall curve of the positive class.
    pub pr: Option<Curve>,
    /// Reliability diagram of the positive class.
    pub calibration: Calibration,
    /// Positive-class score distribution by true class.
    pub score_histogram: ScoreHistogram,
    /// Metrics for thresholds 0.00, 0.01, …, 1.00.
    pub thresholds: Vec<ThresholdPoint>,
}

/// The metrics a classifier's evaluation reports, by name.
pub const CLASSIFICATION_METRICS: [&str; 15] = [
    "accuracy",
    "balanced_accuracy",
    "precision",
    "recall",
    "f1",
    "precision_macro",
    "recall_macro",
    "f1_macro",
    "precision_weighted",
    "recall_weighted",
    "f1_weighted",
    "roc_auc",
    "average_precision",
    "log_loss",
    "brier",
];

/// The metrics a regressor's evaluation reports, by name.
pub const REGRESSION_METRICS: [&str; 6] = ["mae", "mse", "rmse", "r2", "mape", "max_error"];

/// Evaluate a classifier.
pub fn evaluate_classification(data: &ClassificationData, options: &EvaluateOptions) -> ClassificationReport {
    let k = data.classes.len();
    let n = data.y_true.len();
    let pos = data.positive;
    let y_pred = predict_classes(&data.proba, k, pos, options.threshold);
    let cm = ConfusionMatrix::new(&data.classes, &data.y_true, &y_pred);
    let positive: Vec<bool> = data.y_true.iter().map(|&t| t == pos).collect();
    let score: Vec<f64> = (0..n).map(|i| data.proba[i * k + pos]).collect();

    let mut metrics = BTreeMap::new();
    let mut put = |name: &str, v: Option<f64>| {
        metrics.insert(name.to_string(), v);
    };
    put("accuracy", Some(accuracy(&cm)));
    put("balanced_accuracy", Some(balanced_accuracy(&cm)));
    let (mp, mr, mf) = averaged_precision_recall_f1(&cm, Average::Macro);
    let (wp, wr, wf) = averaged_precision_recall_f1(&cm, Average::Weighted);
    let (p, r, f) = if k == 2 { precision_recall_f1(&cm, pos) } else { (mp, mr, mf) };
    for (name, v) in [("precision", p), ("recall", r), ("f1", f)] {
        put(name, Some(v));
    }
    for (name, v) in [("precision_macro", mp), ("recall_macro", mr), ("f1_macro", mf)] {
        put(name, Some(v));
    }
    for (name, v) in [("precision_weighted", wp), ("recall_weighted", wr), ("f1_weighted", wf)] {
        put(name, Some(v));
    }
    let order = order_desc(&score);
    let curve = clf_curve(&positive, &score, &order, None);
    if k == 2 {
        put("roc_auc", auc_from_curve(&curve));
        put("average_precision", ap_from_curve(&curve));
    } else {
        put("roc_auc", roc_auc_ovr_macro(&data.y_true, &data.proba, k));
        put("average_precision", average_precision_ovr_macro(&data.y_true, &data.proba, k));
    }
    put("log_loss", (n > 0).then(|| log_loss(&data.y_true, &data.proba, k)));
    put("brier", (n > 0).then(|| brier(&data.y_true, &data.proba, k, pos)));

    let intervals = if k == 2 {
        binary_intervals(data, &order, &y_pred, options)
    } else {
        multiclass_intervals(data, &y_pred, options)
    };
    ClassificationReport {
        rows: n,
        classes: data.classes.clone(),
        positive_class: data.classes.get(pos).cloned().unwrap_or_default(),
        threshold: options.threshold,
        metrics,
        intervals,
        confusion_matrix: cm,
        roc: roc_from_curve(&curve),
        pr: pr_from_curve(&curve),
        calibration: calibration_curve(&positive, &score, options.calibration_bins),
        score_histogram: score_histogram(&positive, &score, 20),
        thresholds: threshold_sweep(&curve, n),
    }
}

fn score_histogram(positive: &[bool], score: &[f64], bins: usize) -> ScoreHistogram {
    let mut hist = ScoreHistogram {
        edges: (0..=bins).map(|i| i as f64 / bins as f64).collect(),
        positives: vec![0; bins],
        negatives: vec![0; bins],
    };
    for (&is_pos, &s) in positive.iter().zip(score) {
        let b = ((s * bins as f64) as usize).min(bins - 1);
        if is_pos {
            hist.positives[b] += 1;
        } else {
            hist.negatives[b] += 1;
        }
    }
    hist
}

/// Binary metrics at thresholds 0.00..=1.00 from the cumulative curve (positive when p ≥ t).
fn threshold_sweep(curve: &ranking::ClfCurve, n: usize) -> Vec<ThresholdPoint> {
    let (p, total) = (curve.tps.last().copied().unwrap_or(0.0), n as f64);
    (0..=100)
        .map(|i| {
            let t = f64::from(i) / 100.0;
            // Thresholds are descending: the last index whose threshold is ≥ t.
            let idx = curve.thresholds.partition_point(|&s| s >= t);
            let (tp, fp) = if idx == 0 { (0.0, 0.0) } else { (curve.tps[idx - 1], curve.fps[idx - 1]) };
            let fn_ = p - tp;
            let tn = total - p - fp;
            let div = |a: f64, b: f64| if b > 0.0 { a / b } else { 0.0 };
            ThresholdPoint {
                threshold: t,
                precision: div(tp, tp + fp),
                recall: div(tp, p),
                f1: div(2.0 * tp, 2.0 * tp + fp + fn_),
                accuracy: div(tp + tn, total),
                positive_rate: div(tp + fp, total),
            }
        })
        .collect()
}

/// Every binary metric of every resample in one pass over rows sorted by score.
fn binary_intervals(
    data: &ClassificationData,
    order: &[usize],
    y_pred: &[usize],
    options: &EvaluateOptions,
) -> BTreeMap<String, Interval> {
    if options.bootstrap.resamples == 0 || data.y_true.is_empty() {
        return BTreeMap::new();
    }
    let rows = BinaryRows::new(data, order, y_pred);
    if options.bootstrap.scope == IntervalScope::RocAuc {
        let mut aucs = rows.resample_auc(&options.bootstrap);
        let interval = bootstrap::percentile_interval(&mut aucs, options.bootstrap.confidence);
        return interval.map(|i| ("roc_auc".to_string(), i)).into_iter().collect();
    }
    let samples = rows.resample(&options.bootstrap);
    let values = bootstrap::from_samples(&samples, BINARY_CI.len(), options.bootstrap.confidence);
    BINARY_CI.iter().zip(values).filter_map(|(name, v)| v.map(|v| (name.to_string(), v))).collect()
}

/// Intervals for multiclass accuracy, balanced accuracy, macro P/R/F1, log loss, Brier, and
/// one-vs-rest macro ROC AUC and average precision (each class's rows sorted once, weighted per
/// resample).
fn multiclass_intervals(
    data: &ClassificationData,
    y_pred: &[usize],
    options: &EvaluateOptions,
) -> BTreeMap<String, Interval> {
    const NAMES: [&str; 9] = [
        "accuracy",
        "balanced_accuracy",
        "precision",
        "recall",
        "f1",
        "log_loss",
        "brier",
        "roc_auc",
        "average_precision",
    ];
    let k = data.classes.len();
    let n = data.y_true.len();
    // One-vs-rest: each class's rows by descending probability of that class, computed once.
    let per_class: Vec<(Vec<bool>, Vec<f64>, Vec<usize>)> = (0..k)
        .map(|c| {
            let positive: Vec<bool> = data.y_true.iter().map(|&t| t == c).collect();
            let score: Vec<f64> = (0..n).map(|i| data.proba[i * k + c]).collect();
            let order = order_desc(&score);
            (positive, score, order)
        })
        .collect();
    let values = bootstrap::intervals(n, &options.bootstrap, NAMES.len(), |w| {
        let mut cm = vec![vec![0.0; k]; k];
        let (mut ll, mut br, mut total) = (0.0, 0.0, 0.0);
        for (i, (&t, &p)) in data.y_true.iter().zip(y_pred).enumerate() {
            let wi = f64::from(w[i]);
            cm[t][p] += wi;
            total += wi;
            ll += wi * -data.proba[i * k + t].clamp(f64::EPSILON, 1.0 - f64::EPSILON).ln();
            br += wi * (0..k).map(|j| (f64::from(u8::from(j == t)) - data.proba[i * k + j]).powi(2)).sum::<f64>();
        }
        let truth = |c: usize| cm[c].iter().sum::<f64>();
        let predicted = |c: usize| cm.iter().map(|r| r[c]).sum::<f64>();
        let labels: Vec<usize> = (0..k).filter(|&c| truth(c) > 0.0 || predicted(c) > 0.0).collect();
        let div = |a: f64, b: f64| if b > 0.0 { a / b } else { 0.0 };
        let mean = |f: &dyn Fn(usize) -> f64| div(labels.iter().map(|&c| f(c)).sum(), labels.len() as f64);
        let present: Vec<usize> = (0..k).filter(|&c| truth(c) > 0.0).collect();
        let weights: Vec<f64> = w.iter().map(|&x| f64::from(x)).collect();
        let (mut auc_sum, mut ap_sum, mut ap_count, mut auc_defined) = (0.0, 0.0, 0.0, true);
        for (positive, score, order) in &per_class {
            let curve = clf_curve(positive, score, order, Some(&weights));
            match auc_from_curve(&curve) {
                Some(a) => auc_sum += a,
                None => auc_defined = false,
            }
            if curve.tps.last().is_some_and(|&p| p > 0.0) {
                ap_sum += ap_from_curve(&curve).unwrap_or(0.0);
                ap_count += 1.0;
            }
        }
        let ovr_auc = if auc_defined { auc_sum / k as f64 } else { f64::NAN };
        let ovr_ap = if ap_count > 0.0 { ap_sum / ap_count } else { f64::NAN };
        vec![
            div((0..k).map(|c| cm[c][c]).sum(), total),
            div(present.iter().map(|&c| cm[c][c] / truth(c)).sum(), present.len() as f64),
            mean(&|c| div(cm[c][c], predicted(c))),
            mean(&|c| div(cm[c][c], truth(c))),
            mean(&|c| div(2.0 * cm[c][c], predicted(c) + truth(c))),
            div(ll, total),
            div(br, total),
            ovr_auc,
            ovr_ap,
        ]
    });
    NAMES.iter().zip(values).filter_map(|(name, v)| v.map(|v| (name.to_string(), v))).collect()
}

/// Everything about a regressor's performance on labelled data.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RegressionReport {
    /// Rows evaluated.
    pub rows: usize,
    /// Metric name → value.
    pub metrics: BTreeMap<String, Option<f64>>,
    /// Metric name → bootstrap interval.
    pub intervals: BTreeMap<String, Interval>,
    /// Histogram of residuals (actual − predicted): edges and counts.
    pub residual_edges: Vec<f64>,
    /// Counts per residual bin.
    pub residual_counts: Vec<u64>,
    /// Up to 2,000 (actual, predicted) pairs, evenly spaced through the rows.
    pub predicted_vs_actual: Vec<(f64, f64)>,
}

/// Evaluate a regressor.
pub fn evaluate_regression(y: &[f64], pred: &[f64], options: &EvaluateOptions) -> RegressionReport {
    const NAMES: [&str; 6] = REGRESSION_METRICS;
    let as_vec = |m: &RegressionMetrics| vec![m.mae, m.mse, m.rmse, m.r2, m.mape, m.max_error];
    let point = regression::regression_metrics(y, pred, None);
    let values = bootstrap::intervals(y.len(), &options.bootstrap, NAMES.len(), |w| {
        let w: Vec<f64> = w.iter().map(|&x| f64::from(x)).collect();
        as_vec(&regression::regression_metrics(y, pred, Some(&w)))
    });
    let metrics =
        NAMES.iter().zip(as_vec(&point)).map(|(n, v)| (n.to_string(), Some(v).filter(|v| v.is_finite()))).collect();
    let intervals = NAMES.iter().zip(values).filter_map(|(n, v)| v.map(|v| (n.to_string(), v))).collect();
    let residuals: Vec<f64> = y.iter().zip(pred).map(|(a, b)| a - b).collect();
    let (edges, counts) = histogram(&residuals, 30);
    let step = y.len().div_ceil(2000).max(1);
    RegressionReport {
        rows: y.len(),
        metrics,
        intervals,
        residual_edges: edges,
        residual_counts: counts,
        predicted_vs_actual: y.iter().zip(pred).step_by(step).map(|(&a, &b)| (a, b)).collect(),
    }
}

/// Equal-width histogram over the finite values' range.
pub fn histogram(values: &[f64], bins: usize) -> (Vec<f64>, Vec<u64>) {
    let finite = values.iter().copied().filter(|v| v.is_finite());
    let (lo, hi) = finite.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| (lo.min(v), hi.max(v)));
    if !lo.is_finite() {
        return (Vec::new(), Vec::new());
    }
    let (lo, hi) = if lo == hi { (lo - 0.5, hi + 0.5) } else { (lo, hi) };
    let width = (hi - lo) / bins as f64;
    let edges = (0..=bins).map(|i| lo + width * i as f64).collect();
    let mut counts = vec![0u64; bins];
    for v in values.iter().filter(|v| v.is_finite()) {
        counts[(((v - lo) / width) as usize).min(bins - 1)] += 1;
    }
    (edges, counts)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The metric lists gate rules are checked against are exactly what evaluations report.
    #[test]
    fn the_metric_lists_name_what_evaluations_report() {
        let options = EvaluateOptions {
            bootstrap: BootstrapOptions { resamples: 0, ..Default::default() },
            ..Default::default()
        };
        for k in [2usize, 3] {
            let data = ClassificationData {
                classes: (0..k).map(|c| c.to_string()).collect(),
                positive: k - 1,
                y_true: (0..12).map(|i| i % k).collect(),
                proba: (0..12)
                    .flat_map(|i| (0..k).map(move |c| if c == i % k { 0.6 } else { 0.4 / (k - 1) as f64 }))
                    .collect(),
            };
            let report = evaluate_classification(&data, &options);
            let keys: Vec<&str> = report.metrics.keys().map(String::as_str).collect();
            let mut listed = CLASSIFICATION_METRICS.to_vec();
            listed.sort_unstable();
            assert_eq!(keys, listed, "{k} classes");
        }
        let report = evaluate_regression(&[1.0, 2.0, 3.0], &[1.5, 2.0, 2.5], &options);
        let keys: Vec<&str> = report.metrics.keys().map(String::as_str).collect();
        let mut listed = REGRESSION_METRICS.to_vec();
        listed.sort_unstable();
        assert_eq!(keys, listed);
    }
}
