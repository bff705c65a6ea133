//! Confidence-based performance estimation (CBPE, as NannyML describes it) for binary classifiers:
//! the performance a chunk is expected to have when its labels are not known yet, from the model's
//! own probabilities. Each row counts as positive with probability p (its positive-class
//! probability), so the expected confusion matrix at the threshold is
//! E[TP] = Σ_{p ≥ t} p, E[FP] = Σ_{p ≥ t} (1 − p), E[FN] = Σ_{p < t} p, E[TN] = Σ_{p < t} (1 − p),
//! and the expected ROC AUC is the area under the ROC curve with those fractional labels.
//! It assumes the probabilities are calibrated (unlike NannyML, Mirador does not recalibrate on
//! the reference first); the reference band shows how far the estimate strays when nothing changed.

use std::collections::BTreeMap;

use crate::core::metrics::ranking::order_desc;

/// Estimated accuracy, precision, recall, F1 and ROC AUC from positive-class probabilities.
pub fn estimate(probabilities: &[f64], threshold: f64) -> BTreeMap<String, f64> {
    let (mut tp, mut fp, mut fn_, mut tn) = (0.0, 0.0, 0.0, 0.0);
    for &p in probabilities {
        if p >= threshold {
            tp += p;
            fp += 1.0 - p;
        } else {
            fn_ += p;
            tn += 1.0 - p;
        }
    }
    let div = |a: f64, b: f64| if b > 0.0 { a / b } else { f64::NAN };
    let mut out = BTreeMap::new();
    out.insert("estimated_accuracy".to_string(), div(tp + tn, tp + fp + fn_ + tn));
    out.insert("estimated_precision".to_string(), div(tp, tp + fp));
    out.insert("estimated_recall".to_string(), div(tp, tp + fn_));
    out.insert("estimated_f1".to_string(), div(2.0 * tp, 2.0 * tp + fp + fn_));
    out.insert("estimated_roc_auc".to_string(), expected_auc(probabilities));
    out
}

/// Trapezoidal area under the ROC curve whose labels are the probabilities themselves.
fn expected_auc(p: &[f64]) -> f64 {
    let order = order_desc(p);
    let (total_pos, total_neg) = p.iter().fold((0.0, 0.0), |(a, b), &x| (a + x, b + 1.0 - x));
    if total_pos <= 0.0 || total_neg <= 0.0 {
        return f64::NAN;
    }
    let (mut cp, mut cn, mut last_cp, mut last_cn, mut area) = (0.0, 0.0, 0.0, 0.0, 0.0);
    for (j, &i) in order.iter().enumerate() {
        cp += p[i];
        cn += 1.0 - p[i];
        if order.get(j + 1).is_none_or(|&next| p[next] != p[i]) {
            area += (cn - last_cn) * (cp + last_cp) / 2.0;
            (last_cp, last_cn) = (cp, cn);
        }
    }
    area / (total_pos * total_neg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expected_confusion_matrix_by_hand() {
        // p = 0.9 (predicted positive), 0.2 (predicted negative): E[TP] 0.9, E[FP] 0.1, E[FN] 0.2, E[TN] 0.8.
        let e = estimate(&[0.9, 0.2], 0.5);
        assert!((e["estimated_accuracy"] - 0.85).abs() < 1e-12);
        assert!((e["estimated_precision"] - 0.9).abs() < 1e-12);
        assert!((e["estimated_recall"] - 0.9 / 1.1).abs() < 1e-12);
        // Trapezoids: (0.1 · 0.9 / 2) + (0.8 · (1.1 + 0.9) / 2) = 0.845, over E[P]·E[N] = 1.1 · 0.9.
        assert!((e["estimated_roc_auc"] - 0.845 / 0.99).abs() < 1e-12);
    }
}
