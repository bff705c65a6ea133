//! Classification metrics computed like scikit-learn 1.9, from class indices and probabilities.
//!
//! Conventions (each one scikit-learn's):
//! - precision / recall / F1 with `zero_division=0`; binary ones for an explicit positive class;
//!   `macro` and `weighted` averages run over the labels present in `y_true` or `y_pred`;
//! - balanced accuracy is the mean recall over the classes present in `y_true`;
//! - log loss clips probabilities to `[ε, 1 − ε]` with ε = `f64::EPSILON` (float64 input), without
//!   renormalising rows;
//! - Brier score: binary — mean of `(y − p_positive)²`; three or more classes — mean over rows of
//!   `Σ_k (onehot_k − p_k)²` (`scale_by_half="auto"`);
//! - multiclass ROC AUC is one-vs-rest, macro-averaged, and undefined unless every class appears in
//!   `y_true`; multiclass average precision is one-vs-rest, macro-averaged over the classes with
//!   positives.

use serde::Serialize;

use super::ranking::{average_precision, roc_auc};

/// A confusion matrix: `counts[true][predicted]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConfusionMatrix {
    /// Class labels, in index order.
    pub classes: Vec<String>,
    /// Row = true class, column = predicted class.
    pub counts: Vec<Vec<u64>>,
}

impl ConfusionMatrix {
    /// Count `y_true` against `y_pred` (class indices below `classes.len()`).
    pub fn new(classes: &[String], y_true: &[usize], y_pred: &[usize]) -> Self {
        let k = classes.len();
        let mut counts = vec![vec![0u64; k]; k];
        for (&t, &p) in y_true.iter().zip(y_pred) {
            counts[t][p] += 1;
        }
        Self { classes: classes.to_vec(), counts }
    }

    fn true_count(&self, c: usize) -> u64 {
        self.counts[c].iter().sum()
    }

    fn predicted_count(&self, c: usize) -> u64 {
        self.counts.iter().map(|row| row[c]).sum()
    }

    /// Rows counted.
    pub fn total(&self) -> u64 {
        self.counts.iter().flatten().sum()
    }
}

fn ratio(num: u64, den: u64) -> f64 {
    if den == 0 { 0.0 } else { num as f64 / den as f64 }
}

/// Precision, recall and F1 for one class (`zero_division=0`).
pub fn precision_recall_f1(cm: &ConfusionMatrix, class: usize) -> (f64, f64, f64) {
    let tp = cm.counts[class][class];
    let precision = ratio(tp, cm.predicted_count(class));
    let recall = ratio(tp, cm.true_count(class));
    let f1 = ratio(2 * tp, cm.predicted_count(class) + cm.true_count(class));
    (precision, recall, f1)
}

/// How per-class scores are combined.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Average {
    /// Unweighted mean over labels.
    Macro,
    /// Mean weighted by each label's support in `y_true`.
    Weighted,
}

/// Averaged (precision, recall, F1) over the labels present in `y_true` or `y_pred`.
pub fn averaged_precision_recall_f1(cm: &ConfusionMatrix, average: Average) -> (f64, f64, f64) {
    let labels: Vec<usize> =
        (0..cm.classes.len()).filter(|&c| cm.true_count(c) > 0 || cm.predicted_count(c) > 0).collect();
    let weight = |c: usize| match average {
        Average::Macro => 1.0,
        Average::Weighted => cm.true_count(c) as f64,
    };
    let total: f64 = labels.iter().map(|&c| weight(c)).sum();
    if total == 0.0 {
        return (0.0, 0.0, 0.0);
    }
    let mut sums = (0.0, 0.0, 0.0);
    for &c in &labels {
        let (p, r, f) = precision_recall_f1(cm, c);
        let w = weight(c);
        sums = (sums.0 + w * p, sums.1 + w * r, sums.2 + w * f);
    }
    (sums.0 / total, sums.1 / total, sums.2 / total)
}

/// Accuracy.
pub fn accuracy(cm: &ConfusionMatrix) -> f64 {
    let correct: u64 = (0..cm.classes.len()).map(|c| cm.counts[c][c]).sum();
    ratio(correct, cm.total())
}

/// Balanced accuracy: mean recall over the classes present in `y_true`.
pub fn balanced_accuracy(cm: &ConfusionMatrix) -> f64 {
    let recalls: Vec<f64> = (0..cm.classes.len())
        .filter(|&c| cm.true_count(c) > 0)
        .map(|c| cm.counts[c][c] as f64 / cm.true_count(c) as f64)
        .collect();
    if recalls.is_empty() { 0.0 } else { recalls.iter().sum::<f64>() / recalls.len() as f64 }
}

/// Mean log loss; `proba` is row-major `[n, k]`.
pub fn log_loss(y_true: &[usize], proba: &[f64], k: usize) -> f64 {
    let eps = f64::EPSILON;
    let total: f64 = y_true.iter().enumerate().map(|(i, &t)| -proba[i * k + t].clamp(eps, 1.0 - eps).ln()).sum();
    total / y_true.len() as f64
}

/// Brier score (binary: of the positive class; multiclass: summed over classes).
pub fn brier(y_true: &[usize], proba: &[f64], k: usize, positive: usize) -> f64 {
    let n = y_true.len() as f64;
    if k <= 2 {
        let sum: f64 = y_true
            .iter()
            .enumerate()
            .map(|(i, &t)| {
                let y = if t == positive { 1.0 } else { 0.0 };
                (y - proba[i * k + positive]).powi(2)
            })
            .sum();
        return sum / n;
    }
    let sum: f64 = y_true
        .iter()
        .enumerate()
        .map(|(i, &t)| (0..k).map(|j| (if j == t { 1.0 } else { 0.0 } - proba[i * k + j]).powi(2)).sum::<f64>())
        .sum();
    sum / n
}

/// One-vs-rest macro ROC AUC over all classes; `None` unless every class appears in `y_true`.
pub fn roc_auc_ovr_macro(y_true: &[usize], proba: &[f64], k: usize) -> Option<f64> {
    let mut total = 0.0;
    for c in 0..k {
        let positive: Vec<bool> = y_true.iter().map(|&t| t == c).collect();
        let score: Vec<f64> = (0..y_true.len()).map(|i| proba[i * k + c]).collect();
        total += roc_auc(&positive, &score)?;
    }
    Some(total / k as f64)
}

/// One-vs-rest macro average precision over the classes with positives.
pub fn average_precision_ovr_macro(y_true: &[usize], proba: &[f64], k: usize) -> Option<f64> {
    let aps: Vec<f64> = (0..k)
        .filter_map(|c| {
            let positive: Vec<bool> = y_true.iter().map(|&t| t == c).collect();
            let score: Vec<f64> = (0..y_true.len()).map(|i| proba[i * k + c]).collect();
            average_precision(&positive, &score)
        })
        .collect();
    (!aps.is_empty()).then(|| aps.iter().sum::<f64>() / aps.len() as f64)
}

/// Predicted class per row: binary — positive when its probability is at least `threshold`;
/// multiclass — the most probable class (first on ties, like `argmax`).
pub fn predict_classes(proba: &[f64], k: usize, positive: usize, threshold: f64) -> Vec<usize> {
    proba
        .chunks(k)
        .map(|row| {
            if k == 2 {
                if row[positive] >= threshold { positive } else { 1 - positive }
            } else {
                row.iter().enumerate().fold(0, |best, (j, &p)| if p > row[best] { j } else { best })
            }
        })
        .collect()
}
