//! Regression metrics computed like scikit-learn 1.9.
//!
//! - R² with `force_finite=True`: when the target is constant, 1.0 for a perfect prediction and 0.0
//!   otherwise (instead of NaN / −∞);
//! - MAPE as a fraction (not a percentage): `mean(|y − ŷ| / max(|y|, ε))`, ε = `f64::EPSILON`;
//! - RMSE is `sqrt(MSE)`; max error is `max |y − ŷ|`.

use serde::Serialize;

/// The regression metrics.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RegressionMetrics {
    /// Mean absolute error.
    pub mae: f64,
    /// Mean squared error.
    pub mse: f64,
    /// Root mean squared error.
    pub rmse: f64,
    /// Coefficient of determination.
    pub r2: f64,
    /// Mean absolute percentage error, as a fraction.
    pub mape: f64,
    /// Largest absolute error.
    pub max_error: f64,
}

/// All regression metrics of `pred` against `y`, optionally weighted (bootstrap resamples).
pub fn regression_metrics(y: &[f64], pred: &[f64], w: Option<&[f64]>) -> RegressionMetrics {
    let weight = |i: usize| w.map_or(1.0, |w| w[i]);
    let total: f64 = (0..y.len()).map(weight).sum();
    let mean_y = (0..y.len()).map(|i| weight(i) * y[i]).sum::<f64>() / total;
    let (mut abs, mut sq, mut pct, mut tot, mut max) = (0.0, 0.0, 0.0, 0.0, 0.0_f64);
    for i in 0..y.len() {
        let wi = weight(i);
        let err = y[i] - pred[i];
        abs += wi * err.abs();
        sq += wi * err * err;
        pct += wi * err.abs() / y[i].abs().max(f64::EPSILON);
        tot += wi * (y[i] - mean_y).powi(2);
        if wi > 0.0 {
            max = max.max(err.abs());
        }
    }
    let mse = sq / total;
    let r2 = if tot == 0.0 { if sq == 0.0 { 1.0 } else { 0.0 } } else { 1.0 - sq / tot };
    RegressionMetrics { mae: abs / total, mse, rmse: mse.sqrt(), r2, mape: pct / total, max_error: max }
}
