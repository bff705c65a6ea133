//! Ranking metrics and curves for a binary problem: ROC (AUC), precision–recall (average
//! precision), calibration. They follow scikit-learn 1.9 to the letter:
//!
//! - scores are sorted descending (stable), and every *distinct* score is one threshold; tied scores
//!   move the curve diagonally, which is scikit-learn's tie handling (`_binary_clf_curve`);
//! - ROC AUC is the trapezoidal area under (fpr, tpr) with (0, 0) prepended; it is undefined when
//!   one class is absent (scikit-learn raises; we return `None`);
//! - average precision is `Σ (R_n − R_{n−1}) P_n` over thresholds (no interpolation), 0 without
//!   positives (scikit-learn warns and returns 0);
//! - `roc_curve` drops collinear intermediate points like `drop_intermediate=True`;
//! - `calibration_curve` uses `n_bins` uniform bins on [0, 1] and drops empty bins.
//!
//! Weights (`w`) make the same code serve the bootstrap: a resample is a weight per row.

use serde::Serialize;

/// Cumulative weighted true and false positives at each distinct threshold, scores descending.
pub(crate) struct ClfCurve {
    /// Weighted false positives at each distinct threshold.
    pub fps: Vec<f64>,
    /// Weighted true positives at each distinct threshold.
    pub tps: Vec<f64>,
    /// The thresholds (distinct scores, descending).
    pub thresholds: Vec<f64>,
}

/// Row order by score, descending, ties kept in input order reversed like numpy's
/// `argsort(kind="mergesort")[::-1]` (ties do not change any metric, only the order within a tie).
pub(crate) fn order_desc(score: &[f64]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..score.len()).collect();
    order.sort_by(|&a, &b| score[a].total_cmp(&score[b]));
    order.reverse();
    order
}

/// scikit-learn's `_binary_clf_curve` over rows taken in `order`, with weights.
pub(crate) fn clf_curve(positive: &[bool], score: &[f64], order: &[usize], w: Option<&[f64]>) -> ClfCurve {
    let mut curve = ClfCurve { fps: Vec::new(), tps: Vec::new(), thresholds: Vec::new() };
    let (mut tp, mut fp) = (0.0, 0.0);
    for (pos, &i) in order.iter().enumerate() {
        let wi = w.map_or(1.0, |w| w[i]);
        if positive[i] {
            tp += wi;
        } else {
            fp += wi;
        }
        let last_of_tie = order.get(pos + 1).is_none_or(|&next| score[next] != score[i]);
        if last_of_tie {
            curve.tps.push(tp);
            curve.fps.push(fp);
            curve.thresholds.push(score[i]);
        }
    }
    curve
}

/// ROC AUC from a curve; `None` when either class has no weight.
pub(crate) fn auc_from_curve(c: &ClfCurve) -> Option<f64> {
    let (p, n) = (*c.tps.last()?, *c.fps.last()?);
    if p <= 0.0 || n <= 0.0 {
        return None;
    }
    let (mut area, mut x0, mut y0) = (0.0, 0.0, 0.0);
    for (&fp, &tp) in c.fps.iter().zip(&c.tps) {
        let (x1, y1) = (fp / n, tp / p);
        area += (x1 - x0) * (y1 + y0) / 2.0;
        (x0, y0) = (x1, y1);
    }
    Some(area)
}

/// Average precision from a curve; 0 without positives (as scikit-learn), `None` without rows.
pub(crate) fn ap_from_curve(c: &ClfCurve) -> Option<f64> {
    let p = *c.tps.last()?;
    if p <= 0.0 {
        return Some(0.0);
    }
    let mut ap = 0.0;
    let mut prev_recall = 0.0;
    for (&fp, &tp) in c.fps.iter().zip(&c.tps) {
        let predicted = tp + fp;
        let precision = if predicted > 0.0 { tp / predicted } else { 0.0 };
        let recall = tp / p;
        ap += (recall - prev_recall) * precision;
        prev_recall = recall;
    }
    Some(ap)
}

/// ROC AUC of `score` for `positive`, like `sklearn.metrics.roc_auc_score`.
pub fn roc_auc(positive: &[bool], score: &[f64]) -> Option<f64> {
    auc_from_curve(&clf_curve(positive, score, &order_desc(score), None))
}

/// Average precision, like `sklearn.metrics.average_precision_score`.
pub fn average_precision(positive: &[bool], score: &[f64]) -> Option<f64> {
    ap_from_curve(&clf_curve(positive, score, &order_desc(score), None))
}

/// Points of a curve, ready to plot.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Curve {
    /// x values.
    pub x: Vec<f64>,
    /// y values.
    pub y: Vec<f64>,
    /// The decision threshold at each point (`inf` for the ROC origin, like scikit-learn).
    pub thresholds: Vec<f64>,
}

/// The ROC curve (x = false positive rate, y = true positive rate), like
/// `sklearn.metrics.roc_curve(drop_intermediate=True)`. `None` when a class is absent.
pub fn roc_curve(positive: &[bool], score: &[f64]) -> Option<Curve> {
    roc_from_curve(&clf_curve(positive, score, &order_desc(score), None))
}

/// [`roc_curve`] from an already computed cumulative curve.
pub(crate) fn roc_from_curve(c: &ClfCurve) -> Option<Curve> {
    let (p, n) = (*c.tps.last()?, *c.fps.last()?);
    if p <= 0.0 || n <= 0.0 {
        return None;
    }
    // Keep the first and last points and every point where the slope changes.
    let len = c.fps.len();
    let keep: Vec<usize> = (0..len)
        .filter(|&i| {
            i == 0
                || i == len - 1
                || (c.fps[i + 1] - 2.0 * c.fps[i] + c.fps[i - 1]) != 0.0
                || (c.tps[i + 1] - 2.0 * c.tps[i] + c.tps[i - 1]) != 0.0
        })
        .collect();
    let mut curve = Curve { x: vec![0.0], y: vec![0.0], thresholds: vec![f64::INFINITY] };
    for i in keep {
        curve.x.push(c.fps[i] / n);
        curve.y.push(c.tps[i] / p);
        curve.thresholds.push(c.thresholds[i]);
    }
    Some(curve)
}

/// The precision–recall curve (x = recall, y = precision), like
/// `sklearn.metrics.precision_recall_curve`: recall decreasing, ending at (0, 1) with no threshold
/// for that last point (its threshold is reported as `inf`). `None` without positives.
pub fn pr_curve(positive: &[bool], score: &[f64]) -> Option<Curve> {
    pr_from_curve(&clf_curve(positive, score, &order_desc(score), None))
}

/// [`pr_curve`] from an already computed cumulative curve.
pub(crate) fn pr_from_curve(c: &ClfCurve) -> Option<Curve> {
    let p = *c.tps.last()?;
    if p <= 0.0 {
        return None;
    }
    let mut curve = Curve { x: Vec::new(), y: Vec::new(), thresholds: Vec::new() };
    for i in (0..c.tps.len()).rev() {
        let predicted = c.tps[i] + c.fps[i];
        curve.y.push(if predicted > 0.0 { c.tps[i] / predicted } else { 0.0 });
        curve.x.push(c.tps[i] / p);
        curve.thresholds.push(c.thresholds[i]);
    }
    curve.x.push(0.0);
    curve.y.push(1.0);
    curve.thresholds.push(f64::INFINITY);
    Some(curve)
}

/// A reliability diagram.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Calibration {
    /// Mean predicted probability per non-empty bin (`prob_pred`).
    pub mean_predicted: Vec<f64>,
    /// Observed share of positives per non-empty bin (`prob_true`).
    pub fraction_positive: Vec<f64>,
    /// Rows per non-empty bin.
    pub counts: Vec<u64>,
}

/// Like `sklearn.calibration.calibration_curve(strategy="uniform")`: bin `i` holds scores in
/// `[i/n, (i+1)/n)` (the last bin includes 1.0); empty bins are dropped.
pub fn calibration_curve(positive: &[bool], score: &[f64], n_bins: usize) -> Calibration {
    let n_bins = n_bins.max(1);
    let mut sums = vec![0.0; n_bins];
    let mut trues = vec![0.0; n_bins];
    let mut counts = vec![0u64; n_bins];
    // Edges exactly as numpy.linspace(0, 1, n_bins + 1) computes them.
    let edges: Vec<f64> = (1..n_bins).map(|i| i as f64 / n_bins as f64).collect();
    for (&is_pos, &s) in positive.iter().zip(score) {
        let bin = edges.partition_point(|&e| e <= s); // searchsorted(side="right")
        sums[bin] += s;
        trues[bin] += f64::from(u8::from(is_pos));
        counts[bin] += 1;
    }
    let mut cal = Calibration { mean_predicted: Vec::new(), fraction_positive: Vec::new(), counts: Vec::new() };
    for b in 0..n_bins {
        if counts[b] > 0 {
            cal.mean_predicted.push(sums[b] / counts[b] as f64);
            cal.fraction_positive.push(trues[b] / counts[b] as f64);
            cal.counts.push(counts[b]);
        }
    }
    cal
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auc_handles_ties_like_sklearn() {
        // sklearn: roc_auc_score([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]) == 0.75
        let y = [false, false, true, true];
        assert_eq!(roc_auc(&y, &[0.1, 0.4, 0.35, 0.8]), Some(0.75));
        // All-equal scores: one diagonal step, AUC 0.5.
        assert_eq!(roc_auc(&y, &[0.3; 4]), Some(0.5));
        assert_eq!(roc_auc(&[true, true], &[0.1, 0.2]), None, "one class only");
        // sklearn: average_precision_score([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]) == 0.8333...
        let ap = average_precision(&y, &[0.1, 0.4, 0.35, 0.8]).unwrap();
        assert!((ap - 0.833_333_333_333_333_4).abs() < 1e-15);
    }
}
