//! Every binary-classification metric of one weighted resample, in a single pass over rows sorted
//! by score (see [`super::bootstrap`]). Weights can be given in score order (one model) or by row
//! (the same resample applied to two models, for paired differences).

use rayon::prelude::*;

use super::ClassificationData;
use super::bootstrap::{self, BootstrapOptions, WeightStream};

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
    /// Confusion cell: 0 true positive, 1 false positive, 2 false negative, 3 true negative.
    cell: u8,
    group_end: bool,
    /// Per-row terms in single precision: resamples only feed the intervals, and 12-byte rows keep
    /// a block in cache (point estimates are computed exactly, elsewhere).
    log_loss: f32,
    brier: f32,
}

/// 1 for the cells of positive rows (TP, FN), else 0.
const POSITIVE: [f64; 4] = [1.0, 0.0, 1.0, 0.0];

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
                let cell = match (t == pos, y_pred[i] == pos) {
                    (true, true) => 0,
                    (false, true) => 1,
                    (true, false) => 2,
                    (false, false) => 3,
                };
                Row {
                    cell,
                    group_end: order.get(j + 1).is_none_or(|&next| data.proba[next * k + pos] != p),
                    log_loss: -data.proba[i * k + t].clamp(eps, 1.0 - eps).ln() as f32,
                    brier: (y - p).powi(2) as f32,
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
        let mut acc = Accumulator::default();
        for (row, w) in self.rows.iter().zip(weights) {
            acc.add(row, w);
        }
        acc.finish()
    }

    /// Every resample's metrics, as [`bootstrap::intervals`] would compute them from the same
    /// weight streams, but faster: a group of resamples, each with its own weight stream and
    /// accumulator, passes over the rows together, so each row is read once per group.
    pub(crate) fn resample(&self, options: &BootstrapOptions) -> Vec<Vec<f64>> {
        const GROUP: usize = 8;
        let table = bootstrap::poisson_table();
        let starts: Vec<usize> = (0..options.resamples).step_by(GROUP).collect();
        starts
            .par_iter()
            .flat_map_iter(|&start| {
                let count = GROUP.min(options.resamples - start);
                let mut accs = vec![Accumulator::default(); count];
                let mut streams: Vec<WeightStream> =
                    (0..count).map(|j| WeightStream::new(options.seed, start + j)).collect();
                // Row by row, every resample of the group: their sums are independent dependency
                // chains the CPU overlaps; each stream is still consumed in row order.
                for row in &self.rows {
                    for (acc, stream) in accs.iter_mut().zip(&mut streams) {
                        acc.add(row, f64::from(stream.next(table)));
                    }
                }
                accs.into_iter().map(|a| a.finish())
            })
            .collect()
    }
}

impl BinaryRows {
    /// Every resample's ROC AUC only, from the same weight streams as [`resample`](Self::resample):
    /// per row just the positive/negative counts and, at the end of each tie group, the trapezoid.
    pub(crate) fn resample_auc(&self, options: &BootstrapOptions) -> Vec<f64> {
        const GROUP: usize = 8;
        let table = bootstrap::poisson_table();
        // One byte per row: bit 0 positive, bit 1 end of a tie group.
        let rows: Vec<u8> = self
            .rows
            .iter()
            .map(|r| u8::from(POSITIVE[usize::from(r.cell & 3)] > 0.0) | (u8::from(r.group_end) << 1))
            .collect();
        let starts: Vec<usize> = (0..options.resamples).step_by(GROUP).collect();
        starts
            .par_iter()
            .flat_map_iter(|&start| {
                let count = GROUP.min(options.resamples - start);
                let mut streams: Vec<WeightStream> =
                    (0..count).map(|j| WeightStream::new(options.seed, start + j)).collect();
                // Integer sums are exact, so the result equals the full pass's f64 sums.
                let mut acc = vec![[0u64; 5]; count]; // cp, cn, last_cp, last_cn, 2·area
                for &row in &rows {
                    let positive = u64::from(row & 1);
                    for (a, stream) in acc.iter_mut().zip(&mut streams) {
                        let w = u64::from(stream.next(table));
                        a[0] += w * positive;
                        a[1] += w * (1 - positive);
                        if row & 2 != 0 {
                            a[4] += (a[1] - a[3]) * (a[0] + a[2]);
                            (a[2], a[3]) = (a[0], a[1]);
                        }
                    }
                }
                acc.into_iter().map(|[cp, cn, .., area2]| {
                    if cp > 0 && cn > 0 { area2 as f64 / 2.0 / (cp as f64 * cn as f64) } else { f64::NAN }
                })
            })
            .collect()
    }
}

/// Running weighted sums for one resample. Branch-free per row: rows arrive in score order and a
/// resample's weights are random, so branches on them would be mispredicted.
#[derive(Debug, Clone, Copy, Default)]
struct Accumulator {
    tp: f64,
    fp: f64,
    fn_: f64,
    tn: f64,
    log_loss: f64,
    brier: f64,
    /// Cumulative (by score) positives and negatives, and their values at the last tie-group end.
    cp: f64,
    cn: f64,
    last_cp: f64,
    last_cn: f64,
    area: f64,
    ap: f64,
}

impl Accumulator {
    #[inline]
    fn add(&mut self, row: &Row, w: f64) {
        let cell = usize::from(row.cell & 3);
        // Selects rather than an indexed store, so the four sums stay in registers.
        self.tp += if cell == 0 { w } else { 0.0 };
        self.fp += if cell == 1 { w } else { 0.0 };
        self.fn_ += if cell == 2 { w } else { 0.0 };
        self.tn += if cell == 3 { w } else { 0.0 };
        self.log_loss += w * f64::from(row.log_loss);
        self.brier += w * f64::from(row.brier);
        let dp = w * POSITIVE[cell];
        self.cp += dp;
        self.cn += w - dp;
        if row.group_end {
            // Trapezoid for AUC; Σ ΔR·P for AP (ΔR is zero unless positives arrived).
            let (dcp, dcn) = (self.cp - self.last_cp, self.cn - self.last_cn);
            self.area += dcn * (self.cp + self.last_cp) / 2.0;
            self.ap += dcp * self.cp / (self.cp + self.cn).max(1.0);
            (self.last_cp, self.last_cn) = (self.cp, self.cn);
        }
    }

    fn finish(&self) -> Vec<f64> {
        let Self { tp, fp, fn_, tn, log_loss, brier, area, ap, .. } = *self;
        let total = tp + fp + fn_ + tn;
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
            if p > 0.0 && n > 0.0 { area / (p * n) } else { f64::NAN },
            if p > 0.0 { ap / p } else { 0.0 },
            div(log_loss, total),
            div(brier, total),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::metrics::ranking::order_desc;

    #[test]
    fn blocked_resampling_equals_the_plain_pass() {
        let n = 20_000;
        let y_true: Vec<usize> = (0..n).map(|i| usize::from(i % 3 == 0)).collect();
        let proba: Vec<f64> = (0..n)
            .flat_map(|i| {
                let p = ((i * 7919) % 1000) as f64 / 1000.0 * 0.7 + 0.3 * (y_true[i] as f64);
                [1.0 - p, p]
            })
            .collect();
        let data = ClassificationData { classes: vec!["0".into(), "1".into()], positive: 1, y_true, proba };
        let score: Vec<f64> = (0..n).map(|i| data.proba[2 * i + 1]).collect();
        let y_pred: Vec<usize> = score.iter().map(|&p| usize::from(p >= 0.5)).collect();
        let rows = BinaryRows::new(&data, &order_desc(&score), &y_pred);
        let options = BootstrapOptions { resamples: 11, ..BootstrapOptions::default() };
        let blocked = rows.resample(&options);
        let auc_index = BINARY_CI.iter().position(|m| *m == "roc_auc").unwrap();
        let aucs = rows.resample_auc(&options);
        let mut weights = vec![0f32; n];
        for (r, sample) in blocked.iter().enumerate() {
            bootstrap::fill_weights(&mut weights, options.seed, r);
            let plain = rows.metrics(weights.iter().map(|&w| f64::from(w)));
            let same = sample.iter().zip(&plain).all(|(a, b)| a == b || (a.is_nan() && b.is_nan()));
            assert!(same, "resample {r}: {sample:?} vs {plain:?}");
            assert!(
                (aucs[r] - sample[auc_index]).abs() < 1e-12,
                "resample {r}: AUC-only {} vs {}",
                aucs[r],
                sample[auc_index]
            );
        }
    }
}
