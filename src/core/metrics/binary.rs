//! Every binary-classification metric of one weighted resample, in a single pass over rows sorted
//! by score (see [`super::bootstrap`]). Weights can be given in score order (one model) or by row
//! (the same resample applied to two models, for paired differences).

use super::ClassificationData;

/// The metrics computed per resample, in this order.
pub(crate) const BINARY_CI: [&str; 15] = [
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

/// Per row, in score order: is it positive, predicted positive, does a tie group end here, and its
/// log-loss and Brier terms.
struct Row {
    positive: bool,
    predicted: bool,
    group_end: bool,
    log_loss: f64,
    brier: f64,
}

/// A model's rows prepared for resampling.
pub(crate) struct BinaryRows {
    rows: Vec<Row>,
    order: Vec<usize>,
}

impl BinaryRows {
    /// Prepare `data` (rows in `order`, descending score) with its predicted classes.
    pub(crate) fn new(data: &ClassificationData, order: &[usize], y_pred: &[usize]) -> Self {
        let (k, pos) = (data.classes.len(), data.positive);
        let eps = f64::EPSILON;
        let rows = order
            .iter()
            .enumerate()
            .map(|(j, &i)| {
                let t = data.y_true[i];
                let p = data.proba[i * k + pos];
                let y = if t == pos { 1.0 } else { 0.0 };
                Row {
                    positive: t == pos,
                    predicted: y_pred[i] == pos,
                    group_end: order.get(j + 1).is_none_or(|&next| data.proba[next * k + pos] != p),
                    log_loss: -data.proba[i * k + t].clamp(eps, 1.0 - eps).ln(),
                    brier: (y - p).powi(2),
                }
            })
            .collect();
        Self { rows, order: order.to_vec() }
    }

    /// The metrics under weights given by original row index.
    pub(crate) fn metrics_by_row(&self, weights: &[f32]) -> Vec<f64> {
        self.metrics(self.order.iter().map(|&i| f64::from(weights[i])))
    }

    /// The metrics under weights given in score order ([`BINARY_CI`] order; NaN where undefined).
    pub(crate) fn metrics(&self, weights: impl Iterator<Item = f64>) -> Vec<f64> {
        let (mut tp, mut fp, mut fn_, mut tn) = (0.0, 0.0, 0.0, 0.0);
        let (mut ll, mut br, mut total) = (0.0, 0.0, 0.0);
        // Cumulative (by score) positives/negatives for AUC and AP.
        let (mut cp, mut cn, mut last_cp, mut last_cn, mut area, mut ap) = (0.0, 0.0, 0.0, 0.0, 0.0, 0.0);
        for (row, wi) in self.rows.iter().zip(weights) {
            total += wi;
            ll += wi * row.log_loss;
            br += wi * row.brier;
            match (row.positive, row.predicted) {
                (true, true) => tp += wi,
                (false, true) => fp += wi,
                (true, false) => fn_ += wi,
                (false, false) => tn += wi,
            }
            if row.positive {
                cp += wi;
            } else {
                cn += wi;
            }
            if row.group_end && (cp != last_cp || cn != last_cn) {
                area += (cn - last_cn) * (cp + last_cp) / 2.0;
                if cp + cn > 0.0 {
                    ap += (cp - last_cp) * cp / (cp + cn);
                }
                (last_cp, last_cn) = (cp, cn);
            }
        }
        let div = |a: f64, b: f64| if b > 0.0 { a / b } else { 0.0 };
        let (p, n) = (tp + fn_, fp + tn);
        let prec = [div(tp, tp + fp), div(tn, tn + fn_)];
        let rec = [div(tp, p), div(tn, n)];
        let f1 = [div(2.0 * tp, 2.0 * tp + fp + fn_), div(2.0 * tn, 2.0 * tn + fn_ + fp)];
        let present = |c: usize| if c == 0 { p > 0.0 || tp + fp > 0.0 } else { n > 0.0 || tn + fn_ > 0.0 };
        let labels: Vec<usize> = (0..2).filter(|&c| present(c)).collect();
        let macro_of = |v: [f64; 2]| div(labels.iter().map(|&c| v[c]).sum(), labels.len() as f64);
        let weighted_of = |v: [f64; 2]| div(v[0] * p + v[1] * n, p + n);
        let balanced = if p > 0.0 && n > 0.0 { (rec[0] + rec[1]) / 2.0 } else { rec[0].max(rec[1]) };
        let undefined = f64::NAN;
        vec![
            div(tp + tn, total),
            balanced,
            prec[0],
            rec[0],
            f1[0],
            macro_of(prec),
            macro_of(rec),
            macro_of(f1),
            weighted_of(prec),
            weighted_of(rec),
            weighted_of(f1),
            if p > 0.0 && n > 0.0 { area / (p * n) } else { undefined },
            if p > 0.0 { ap / p } else { 0.0 },
            div(ll, total),
            div(br, total),
        ]
    }
}
