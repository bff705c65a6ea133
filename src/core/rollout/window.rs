//! What each arm did during one measurement interval, in fixed memory, and the gate metrics read
//! from it. The live server and the offline replay fill the same structures, so a rule means the
//! same thing in both.
//!
//! | metric | value |
//! |---|---|
//! | `error_rate` | failed requests ÷ requests |
//! | `latency_p50_ms`, `latency_p95_ms`, `latency_p99_ms` | request latency quantiles (nearest rank) |
//! | `positive_rate` | share of rows decided as the positive class (classifiers) |
//! | `mean_score` | mean score (positive-class probability; a regressor's prediction) |
//! | `accuracy` | share of labelled rows decided right (when labels are known) |
//! | `agreement`, `churn` | share of rows both arms scored on which their decisions agree / differ |
//! | `kappa` | Cohen's κ of those decisions |
//! | `score_psi` | PSI of the challenger's scores against the champion's (10 equal bins) |
//! | `positive_rate_diff` | \|challenger's positive rate − champion's\| |
//!
//! The pairwise metrics are read on the rows both arms scored (a shadow's copies; a canary's rows,
//! which the champion scores too) — the same traffic, so two identical models measure exactly 0 —
//! and only when there are none, between what each arm scored.
//!
//! A score is a classifier's probability for the positive class (the second of two classes; with
//! more, the probability of the decided class) or a regressor's prediction.

use serde::Serialize;

use crate::core::drift::stats::{psi, smooth_zeros};
use crate::core::model::info::Task;
use crate::core::session::BatchPredictions;

/// Samples kept per arm and interval for quantiles and PSI (beyond, a reservoir keeps a fair sample).
pub const SAMPLE_CAP: usize = 20_000;

/// Metric names a rollout gate understands.
pub const GATE_METRICS: [&str; 12] = [
    "error_rate",
    "latency_p50_ms",
    "latency_p95_ms",
    "latency_p99_ms",
    "positive_rate",
    "mean_score",
    "accuracy",
    "agreement",
    "churn",
    "kappa",
    "score_psi",
    "positive_rate_diff",
];

/// Metrics that compare the two arms (the rule's value is the pair's; it has no champion value).
pub fn is_pairwise(metric: &str) -> bool {
    matches!(metric, "agreement" | "churn" | "kappa" | "score_psi" | "positive_rate_diff")
}

/// A fixed-size fair sample of a stream (Algorithm R with a deterministic generator).
#[derive(Debug, Clone, Default)]
pub struct Reservoir {
    /// The kept values.
    pub values: Vec<f64>,
    seen: u64,
    state: u64,
}

impl Reservoir {
    /// Offer one value.
    pub fn push(&mut self, v: f64) {
        self.seen += 1;
        if self.values.len() < SAMPLE_CAP {
            self.values.push(v);
            return;
        }
        // splitmix64: cheap, deterministic, good enough to pick a slot.
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        let slot = z % self.seen;
        if let Some(x) = usize::try_from(slot).ok().and_then(|i| self.values.get_mut(i)) {
            *x = v;
        }
    }

    /// The `q` quantile (nearest rank) of the kept values.
    pub fn quantile(&self, q: f64) -> Option<f64> {
        if self.values.is_empty() {
            return None;
        }
        let mut sorted = self.values.clone();
        sorted.sort_by(f64::total_cmp);
        let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
        sorted.get(rank - 1).copied()
    }
}

/// One arm's figures for one interval.
#[derive(Debug, Clone, Default)]
pub struct ArmStats {
    /// Requests it answered (or, for a shadow, scored).
    pub requests: u64,
    /// Requests it failed.
    pub errors: u64,
    /// Rows it scored.
    pub rows: u64,
    /// Rows decided as the positive class.
    pub positives: u64,
    /// Sum of scores (for the mean).
    pub score_sum: f64,
    /// Labelled rows, and those decided right.
    pub labelled: u64,
    /// Labelled rows decided right.
    pub correct: u64,
    /// Request latencies, milliseconds.
    pub latencies_ms: Reservoir,
    /// Row scores.
    pub scores: Reservoir,
}

impl ArmStats {
    /// Count one request's outcome.
    pub fn request(&mut self, ok: bool, latency_ms: f64) {
        self.requests += 1;
        if ok {
            self.latencies_ms.push(latency_ms);
        } else {
            self.errors += 1;
        }
    }

    /// Count scored rows.
    pub fn rows(&mut self, outcomes: &Outcomes) {
        self.rows += outcomes.scores.len() as u64;
        for &s in &outcomes.scores {
            self.score_sum += s;
            self.scores.push(s);
        }
        if let Some(d) = &outcomes.decisions {
            self.positives += d.iter().filter(|&&c| Some(c) == outcomes.positive).count() as u64;
        }
    }

    /// Count labelled rows: `truth` and the decisions, as class indices.
    pub fn labels(&mut self, truth: &[usize], decided: &[usize]) {
        self.labelled += truth.len() as u64;
        self.correct += truth.iter().zip(decided).filter(|(a, b)| a == b).count() as u64;
    }

    fn value(&self, metric: &str) -> Option<f64> {
        let share = |a: u64, b: u64| (b > 0).then(|| a as f64 / b as f64);
        match metric {
            "error_rate" => share(self.errors, self.requests),
            "latency_p50_ms" => self.latencies_ms.quantile(0.50),
            "latency_p95_ms" => self.latencies_ms.quantile(0.95),
            "latency_p99_ms" => self.latencies_ms.quantile(0.99),
            "positive_rate" => share(self.positives, self.rows),
            "mean_score" => (self.rows > 0).then(|| self.score_sum / self.rows as f64),
            "accuracy" => share(self.correct, self.labelled),
            _ => None,
        }
    }
}

/// Both arms on the same rows: their decisions and their scores.
#[derive(Debug, Clone, Default)]
pub struct PairStats {
    /// Rows both scored.
    pub rows: u64,
    /// Rows on which they decided alike.
    pub agree: u64,
    /// `[champion class][challenger class]` counts.
    pub table: Vec<Vec<u64>>,
    /// The champion's scores on those rows.
    pub champion_scores: Reservoir,
    /// The challenger's scores on the same rows.
    pub challenger_scores: Reservoir,
    /// Scored rows both arms decided positive (champion, challenger).
    pub positives: (u64, u64),
}

impl PairStats {
    /// Count rows both arms scored: their outcomes, row for row.
    pub fn add_outcomes(&mut self, champion: &Outcomes, challenger: &Outcomes) {
        for (&a, &b) in champion.scores.iter().zip(&challenger.scores) {
            self.champion_scores.push(a);
            self.challenger_scores.push(b);
        }
        match (&champion.decisions, &challenger.decisions) {
            (Some(a), Some(b)) => {
                let positive = |d: &Vec<usize>, p: Option<usize>| d.iter().filter(|&&c| Some(c) == p).count() as u64;
                self.positives.0 += positive(a, champion.positive);
                self.positives.1 += positive(b, challenger.positive);
                self.add(a, b, champion.classes);
            }
            _ => self.rows += champion.scores.len().min(challenger.scores.len()) as u64,
        }
    }

    /// Count rows both arms decided (class indices, `k` classes).
    pub fn add(&mut self, champion: &[usize], challenger: &[usize], k: usize) {
        if self.table.len() != k {
            self.table = vec![vec![0; k]; k];
        }
        for (&a, &b) in champion.iter().zip(challenger) {
            self.rows += 1;
            self.agree += u64::from(a == b);
            if let Some(cell) = self.table.get_mut(a).and_then(|r| r.get_mut(b)) {
                *cell += 1;
            }
        }
    }

    /// Cohen's κ from the table (as `sklearn.metrics.cohen_kappa_score`).
    fn kappa(&self) -> Option<f64> {
        let n = self.rows as f64;
        if self.rows == 0 {
            return None;
        }
        let k = self.table.len();
        let po = (0..k).map(|c| self.table[c][c] as f64).sum::<f64>() / n;
        let row = |c: usize| self.table[c].iter().sum::<u64>() as f64;
        let col = |c: usize| self.table.iter().map(|r| r[c]).sum::<u64>() as f64;
        let pe = (0..k).map(|c| row(c) * col(c)).sum::<f64>() / (n * n);
        (pe < 1.0).then(|| (po - pe) / (1.0 - pe))
    }
}

/// One interval of a rollout: both arms and their pairs.
#[derive(Debug, Clone, Default)]
pub struct IntervalStats {
    /// The champion's figures.
    pub champion: ArmStats,
    /// The challenger's figures.
    pub challenger: ArmStats,
    /// Rows both scored.
    pub pairs: PairStats,
}

impl IntervalStats {
    /// `metric` for the challenger and for the champion (pairwise metrics: the pair's value and none).
    pub fn values(&self, metric: &str) -> (Option<f64>, Option<f64>) {
        let pair_share = |a: u64| (self.pairs.rows > 0).then(|| a as f64 / self.pairs.rows as f64);
        match metric {
            "agreement" => (pair_share(self.pairs.agree), None),
            "churn" => (pair_share(self.pairs.rows - self.pairs.agree), None),
            "kappa" => (self.pairs.kappa(), None),
            // On the rows both scored when there are some (the same traffic: no sampling noise
            // between the arms), else between what each arm scored.
            "score_psi" if self.pairs.rows > 0 => {
                (score_psi(&self.pairs.champion_scores.values, &self.pairs.challenger_scores.values), None)
            }
            "score_psi" => (score_psi(&self.champion.scores.values, &self.challenger.scores.values), None),
            "positive_rate_diff" if self.pairs.rows > 0 => {
                let n = self.pairs.rows as f64;
                (Some((self.pairs.positives.1 as f64 - self.pairs.positives.0 as f64).abs() / n), None)
            }
            "positive_rate_diff" => {
                let (a, b) = (self.challenger.value("positive_rate"), self.champion.value("positive_rate"));
                (a.zip(b).map(|(a, b)| (a - b).abs()), None)
            }
            m => (self.challenger.value(m), self.champion.value(m)),
        }
    }
}

/// PSI of `current` against `reference` over 10 equal-width bins spanning both (zeros smoothed as
/// Evidently does).
pub fn score_psi(reference: &[f64], current: &[f64]) -> Option<f64> {
    if reference.is_empty() || current.is_empty() {
        return None;
    }
    let all = reference.iter().chain(current).copied().filter(|v| v.is_finite());
    let (lo, hi) = all.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| (lo.min(v), hi.max(v)));
    if !lo.is_finite() {
        return None;
    }
    let bins = 10usize;
    let width = if hi > lo { (hi - lo) / bins as f64 } else { 1.0 };
    let shares = |values: &[f64]| {
        let mut counts = vec![0.0; bins];
        for v in values.iter().filter(|v| v.is_finite()) {
            let i = (((v - lo) / width) as usize).min(bins - 1);
            counts[i] += 1.0;
        }
        let n: f64 = counts.iter().sum();
        let mut s: Vec<f64> = counts.iter().map(|c| c / n.max(1.0)).collect();
        smooth_zeros(&mut s);
        s
    };
    Some(psi(&shares(reference), &shares(current)))
}

/// Rows' scores and decisions, as the gate reads them.
#[derive(Debug, Clone, Default)]
pub struct Outcomes {
    /// Each row's score.
    pub scores: Vec<f64>,
    /// Each row's decided class index (classifiers).
    pub decisions: Option<Vec<usize>>,
    /// The positive class's index (binary classifiers).
    pub positive: Option<usize>,
    /// Number of classes (0 for regressors).
    pub classes: usize,
}

impl Outcomes {
    /// Read `p` for a model doing `task`.
    pub fn of(p: &BatchPredictions, task: &Task) -> Self {
        match task {
            Task::Classification { classes, .. } => {
                let k = classes.len();
                let decisions: Vec<usize> = (0..p.rows)
                    .map(|i| {
                        let label = p.labels.as_ref().map(|l| l.get(i));
                        label.and_then(|l| classes.iter().position(|c| *c == l)).unwrap_or_else(|| argmax(p, i, k))
                    })
                    .collect();
                let positive = (k == 2).then_some(1);
                let scores = (0..p.rows)
                    .map(|i| {
                        let class = positive.unwrap_or(decisions[i]);
                        p.probabilities.as_ref().and_then(|m| m.get(i * k + class)).copied().unwrap_or(f64::NAN)
                    })
                    .collect();
                Self { scores, decisions: Some(decisions), positive, classes: k }
            }
            Task::Regression { .. } => {
                let w = p.width().max(1);
                let scores =
                    (0..p.rows).map(|i| p.values.as_ref().and_then(|v| v.get(i * w)).copied().unwrap_or(f64::NAN));
                Self { scores: scores.collect(), decisions: None, positive: None, classes: 0 }
            }
        }
    }
}

fn argmax(p: &BatchPredictions, row: usize, k: usize) -> usize {
    let Some(m) = &p.probabilities else { return 0 };
    let row = m.get(row * k..(row + 1) * k).unwrap_or(&[]);
    row.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)).map_or(0, |(i, _)| i)
}

/// The figures of an interval a person reads (and the JSON carries).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ArmSummary {
    /// Requests.
    pub requests: u64,
    /// Rows.
    pub rows: u64,
    /// Failed requests ÷ requests.
    pub error_rate: Option<f64>,
    /// p99 latency, ms.
    pub latency_p99_ms: Option<f64>,
    /// Share of positive decisions.
    pub positive_rate: Option<f64>,
    /// Mean score.
    pub mean_score: Option<f64>,
    /// Accuracy on labelled rows.
    pub accuracy: Option<f64>,
}

impl ArmStats {
    /// The figures a person reads.
    pub fn summary(&self) -> ArmSummary {
        ArmSummary {
            requests: self.requests,
            rows: self.rows,
            error_rate: self.value("error_rate"),
            latency_p99_ms: self.value("latency_p99_ms"),
            positive_rate: self.value("positive_rate"),
            mean_score: self.value("mean_score"),
            accuracy: self.value("accuracy"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pair_metrics_and_psi() {
        let mut s = IntervalStats::default();
        s.pairs.add(&[0, 0, 1, 1], &[0, 1, 1, 1], 2);
        assert_eq!(s.values("agreement").0, Some(0.75));
        assert_eq!(s.values("churn").0, Some(0.25));
        // sklearn.metrics.cohen_kappa_score([0,0,1,1],[0,1,1,1]) = 0.5
        assert!((s.values("kappa").0.unwrap() - 0.5).abs() < 1e-12);
        assert_eq!(score_psi(&[0.1, 0.2, 0.3], &[0.1, 0.2, 0.3]), Some(0.0));
        assert!(score_psi(&[0.1, 0.2, 0.3, 0.9], &[0.0; 4]).unwrap() > 1.0);
        assert_eq!(s.values("error_rate"), (None, None), "no request: undefined, not zero");
    }

    #[test]
    fn the_reservoir_stays_bounded_and_fair() {
        let mut r = Reservoir::default();
        for i in 0..(SAMPLE_CAP * 5) {
            r.push(i as f64);
        }
        assert_eq!(r.values.len(), SAMPLE_CAP);
        let median = r.quantile(0.5).unwrap();
        let truth = (SAMPLE_CAP * 5) as f64 / 2.0;
        assert!((median - truth).abs() < truth * 0.05, "{median} vs {truth}");
    }
}
