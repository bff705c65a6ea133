//! Comparing model versions on the same labelled rows — the impact of an update judged before it
//! ships: metrics side by side with paired-bootstrap intervals on their differences, agreement,
//! Cohen's κ, McNemar's test, the rows whose decision flips, latency, and the promotion gate.
//!
//! The first model is the champion; the others are challengers compared with it.
//! - Cohen's κ as `sklearn.metrics.cohen_kappa_score` on the two models' predicted labels;
//! - McNemar's test on correctness (b: only the champion right, c: only the challenger right), as
//!   `statsmodels.stats.contingency_tables.mcnemar`: exact binomial when b + c < 25, else
//!   chi-square with continuity correction `(|b − c| − 1)² / (b + c)`, 1 df;
//! - latency: single rows through an ONNX Runtime session (1 intra-op thread) after 10 warm-up
//!   runs, percentiles with linear interpolation.
//!
//! Indexing: [`check_request`] makes every classifier name the same classes (k of them); each
//! model's `proba` has k values per row (checked where outputs are read, `session.rs`) and every
//! model scores the same rows, so `proba[i * k + c]` with `i < rows`, `c < k` and the class indices
//! `pa[i]`, `pb[i]` (argmax over k) are in bounds.

pub mod gate;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::Instant;

use serde::Serialize;
use statrs::distribution::{Binomial, ChiSquared, ContinuousCDF, DiscreteCDF};

use super::cancel::CancelToken;
use super::error::{Error, Result};
use super::evaluate::{EvaluateRequest, Evaluation, labelled_classification, labelled_regression};
use super::metrics::binary::{BINARY_CI, BinaryRows};
use super::metrics::bootstrap::{self, Interval, quantile};
use super::metrics::classification::predict_classes;
use super::metrics::ranking::order_desc;
use super::metrics::{
    CLASSIFICATION_METRICS, ClassificationData, REGRESSION_METRICS, evaluate_classification, evaluate_regression,
    regression,
};
use super::model::{Model, Task};
use super::predict::Predictor;
use super::score::{Progress, score_in_memory};
use super::settings;
use super::table::TableReader;
use super::text::did_you_mean;
pub use gate::{GateRule, RuleCheck, RuleResult};

/// What to compare on.
#[derive(Debug, Clone, Default)]
pub struct CompareRequest {
    /// Target column, positive class, metric and scoring settings (shared by every model).
    pub evaluate: EvaluateRequest,
    /// Promotion rules each challenger must pass.
    pub gate: Vec<GateRule>,
    /// Rows timed one at a time for latency (0: no latency).
    pub latency_rows: usize,
    /// Flipped rows listed at most.
    pub max_flips: usize,
    /// A column that names each row (e.g. `customer_id`), shown beside its flips.
    pub id_column: Option<String>,
}

/// Per-row latency of one model.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Latency {
    /// Rows timed.
    pub rows: usize,
    /// Median, milliseconds.
    pub p50_ms: f64,
    /// 95th percentile, milliseconds.
    pub p95_ms: f64,
    /// 99th percentile, milliseconds.
    pub p99_ms: f64,
}

/// One model's results.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModelResult {
    /// File stem.
    pub name: String,
    /// SHA-256 of the model file.
    pub sha256: String,
    /// Its evaluation.
    pub evaluation: Evaluation,
    /// Its latency, when measured.
    pub latency: Option<Latency>,
}

/// A metric's change from the champion to a challenger.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Delta {
    /// The challenger.
    pub challenger: String,
    /// Metric name.
    pub metric: String,
    /// Champion's value.
    pub champion: Option<f64>,
    /// Challenger's value.
    pub value: Option<f64>,
    /// Challenger − champion.
    pub delta: Option<f64>,
    /// Paired-bootstrap interval of the difference.
    pub interval: Option<Interval>,
}

/// A row whose decision differs between the two models.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Flip {
    /// 1-based data row.
    pub row: u64,
    /// The row's id (the request's `id_column`), when one was named.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The true label.
    pub truth: String,
    /// Champion's label.
    pub champion_label: String,
    /// Challenger's label.
    pub challenger_label: String,
    /// Champion's positive-class probability.
    pub champion_score: f64,
    /// Challenger's positive-class probability.
    pub challenger_score: f64,
}

/// McNemar's test on which model is right.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct McNemar {
    /// Rows both get right.
    pub both_right: u64,
    /// Rows only the champion gets right (b).
    pub champion_only: u64,
    /// Rows only the challenger gets right (c).
    pub challenger_only: u64,
    /// Rows both get wrong.
    pub both_wrong: u64,
    /// The statistic (min(b, c) for the exact test).
    pub statistic: f64,
    /// Two-sided p-value.
    pub p_value: f64,
    /// Whether the exact binomial test was used.
    pub exact: bool,
}

/// How two classifiers' decisions relate.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Agreement {
    /// The challenger.
    pub challenger: String,
    /// Share of rows with the same predicted label.
    pub agreement_rate: f64,
    /// Cohen's κ.
    pub cohen_kappa: Option<f64>,
    /// McNemar's test.
    pub mcnemar: McNemar,
    /// Rows with different decisions.
    pub flip_count: u64,
    /// The first `max_flips` of them.
    pub flips: Vec<Flip>,
}

/// A challenger's gate verdict.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GateVerdict {
    /// The challenger.
    pub challenger: String,
    /// All rules passed.
    pub passed: bool,
    /// Each rule's outcome.
    pub results: Vec<RuleResult>,
}

/// The whole comparison.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comparison {
    /// The champion (first model).
    pub champion: String,
    /// Every model, champion first.
    pub models: Vec<ModelResult>,
    /// Metric changes per challenger.
    pub deltas: Vec<Delta>,
    /// Decision agreement per challenger (classifiers).
    pub agreement: Vec<Agreement>,
    /// Gate verdict per challenger (when rules were given).
    pub gate: Vec<GateVerdict>,
    /// Every challenger passed every rule (true without rules).
    pub passed: bool,
}

struct Scored {
    model: Model,
    evaluation: Evaluation,
    /// Classifiers: probabilities and true classes.
    classes: Option<ClassificationData>,
    /// Regressors: (true, predicted) values.
    values: Option<(Vec<f64>, Vec<f64>)>,
}

/// Compare `models` (champion first) on `data`.
pub fn compare_files(
    models: &[Model],
    data: &Path,
    request: &CompareRequest,
    cancel: &CancelToken,
    progress: &mut dyn FnMut(usize, &Progress),
) -> Result<Comparison> {
    if models.len() < 2 {
        return Err(Error::Invalid("compare needs at least two models".into()));
    }
    check_request(models, request)?;
    let mut all = Vec::new();
    let mut ids: Option<Vec<String>> = None;
    for (i, model) in models.iter().enumerate() {
        let mut score = request.evaluate.score.clone();
        if !score.id_columns.contains(&request.evaluate.target) {
            score.id_columns.push(request.evaluate.target.clone());
        }
        let id_column = request.id_column.as_ref().filter(|_| i == 0);
        if let Some(id) = id_column.filter(|id| !score.id_columns.contains(id)) {
            score.id_columns.push(id.clone());
        }
        let (scored, _) = score_in_memory(model, data, &score, cancel, &mut |p| progress(i, p))?;
        if let Some(id) = id_column {
            ids = Some(column_text(&scored.ids, id)?);
        }
        // The target is read once per model; the evaluation is computed from the same arrays the
        // paired comparison uses.
        let options = &request.evaluate.options;
        let scored = match &model.info().task {
            Task::Classification { .. } => {
                let labelled = labelled_classification(model.info(), &scored, data, &request.evaluate)?;
                let evaluation = Evaluation::Classification(Box::new(evaluate_classification(&labelled, options)));
                Scored { model: model.clone(), evaluation, classes: Some(labelled), values: None }
            }
            Task::Regression { .. } => {
                let (y, pred) = labelled_regression(&scored, data, &request.evaluate)?;
                let evaluation = Evaluation::Regression(evaluate_regression(&y, &pred, options));
                Scored { model: model.clone(), evaluation, classes: None, values: Some((y, pred)) }
            }
        };
        all.push(scored);
    }
    let champion = &all[0];
    let mut comparison = Comparison {
        champion: champion.model.info().name.clone(),
        models: Vec::new(),
        deltas: Vec::new(),
        agreement: Vec::new(),
        gate: Vec::new(),
        passed: true,
    };
    let mut latencies = Vec::new();
    for s in &all {
        cancel.check()?;
        latencies.push(if request.latency_rows > 0 { Some(latency(&s.model, data, request)?) } else { None });
    }
    for challenger in &all[1..] {
        let name = challenger.model.info().name.clone();
        comparison.deltas.extend(deltas(champion, challenger, &request.evaluate)?);
        if let (Some(a), Some(b)) = (&champion.classes, &challenger.classes) {
            comparison.agreement.push(agreement(a, b, &name, request, ids.as_deref()));
        }
    }
    for (i, challenger) in all.iter().enumerate().skip(1) {
        if request.gate.is_empty() {
            break;
        }
        let value = |s: &Scored, lat: &Option<Latency>, metric: &str| match metric {
            "latency_p50_ms" => lat.map(|l| l.p50_ms),
            "latency_p95_ms" => lat.map(|l| l.p95_ms),
            "latency_p99_ms" => lat.map(|l| l.p99_ms),
            m => s.evaluation.metric(m),
        };
        let results: Vec<RuleResult> = request
            .gate
            .iter()
            .map(|r| r.evaluate(value(challenger, &latencies[i], &r.metric), value(champion, &latencies[0], &r.metric)))
            .collect();
        let passed = results.iter().all(|r| r.passed);
        comparison.passed &= passed;
        comparison.gate.push(GateVerdict { challenger: challenger.model.info().name.clone(), passed, results });
    }
    comparison.models = all
        .into_iter()
        .zip(latencies)
        .map(|(s, latency)| ModelResult {
            name: s.model.info().name.clone(),
            sha256: s.model.info().sha256.clone(),
            evaluation: s.evaluation,
            latency,
        })
        .collect();
    Ok(comparison)
}

/// Latency measures a gate rule may name.
pub const LATENCY_METRICS: [&str; 3] = ["latency_p50_ms", "latency_p95_ms", "latency_p99_ms"];

/// The metric names a gate rule may use for models of `task`.
pub fn known_metrics(task: &Task) -> Vec<&'static str> {
    let metrics: &[&str] = match task {
        Task::Classification { .. } => &CLASSIFICATION_METRICS,
        Task::Regression { .. } => &REGRESSION_METRICS,
    };
    metrics.iter().chain(LATENCY_METRICS.iter()).copied().collect()
}

/// Refuse, before anything is scored, what cannot be compared: models of different tasks, gate
/// rules naming metrics those models do not have (the closest name suggested), settings out of
/// range.
pub fn check_request(models: &[Model], request: &CompareRequest) -> Result<()> {
    request.evaluate.options.check()?;
    settings::count("rows timed for latency", request.latency_rows, 0, settings::MAX_LATENCY_ROWS)?;
    let task_name = |t: &Task| match t {
        Task::Classification { .. } => "a classifier",
        Task::Regression { .. } => "a regressor",
    };
    if let Some(first) = models.first() {
        let task = &first.info().task;
        if let Some(other) =
            models.iter().find(|m| std::mem::discriminant(&m.info().task) != std::mem::discriminant(task))
        {
            return Err(Error::Invalid(format!(
                "{} is {} but {} is {}: only models of the same task can be compared",
                first.info().name,
                task_name(task),
                other.info().name,
                task_name(&other.info().task)
            )));
        }
        // Decisions are compared class by class: the classifiers must name the same classes.
        if let Task::Classification { classes, .. } = task
            && let Some(other) = models.iter().find(|m| match &m.info().task {
                Task::Classification { classes: c, .. } => c != classes,
                Task::Regression { .. } => false,
            })
            && let Task::Classification { classes: theirs, .. } = &other.info().task
        {
            return Err(Error::Invalid(format!(
                "{} predicts the classes [{}] but {} predicts [{}]: only classifiers of the same classes can be compared",
                first.info().name,
                classes.join(", "),
                other.info().name,
                theirs.join(", ")
            )));
        }
        let known = known_metrics(task);
        for rule in &request.gate {
            if !known.contains(&rule.metric.as_str()) {
                return Err(Error::Invalid(format!(
                    "gate rule '{}' names the unknown metric '{}'{}; {} has: {}",
                    rule.text,
                    rule.metric,
                    did_you_mean(&rule.metric, known.iter().copied()),
                    task_name(task),
                    known.join(", ")
                )));
            }
        }
    }
    Ok(())
}

/// Differences with paired-bootstrap intervals: each resample weighs the same rows for both models.
fn deltas(a: &Scored, b: &Scored, request: &EvaluateRequest) -> Result<Vec<Delta>> {
    let name = b.model.info().name.clone();
    let options = &request.options;
    let (names, intervals): (Vec<String>, Vec<Option<Interval>>) = match (&a.classes, &b.classes) {
        (Some(da), Some(db)) if da.classes.len() == 2 && db.classes.len() == 2 => {
            let prepare = |d: &ClassificationData| {
                let score: Vec<f64> = (0..d.y_true.len()).map(|i| d.proba[i * 2 + d.positive]).collect();
                let y_pred = predict_classes(&d.proba, 2, d.positive, options.threshold);
                BinaryRows::new(d, &order_desc(&score), &y_pred)
            };
            let (ra, rb) = (prepare(da), prepare(db));
            let values = bootstrap::intervals(da.y_true.len(), &options.bootstrap, BINARY_CI.len(), |w| {
                ra.metrics_by_row(w).iter().zip(rb.metrics_by_row(w)).map(|(x, y)| y - x).collect()
            });
            (BINARY_CI.iter().map(|s| s.to_string()).collect(), values)
        }
        (None, None) => {
            let (ya, pa) = a.values.clone().ok_or_else(|| Error::Invalid("no regression values".into()))?;
            let (_, pb) = b.values.clone().ok_or_else(|| Error::Invalid("no regression values".into()))?;
            let as_vec = |m: &regression::RegressionMetrics| vec![m.mae, m.mse, m.rmse, m.r2, m.mape, m.max_error];
            let values = bootstrap::intervals(ya.len(), &options.bootstrap, 6, |w| {
                let w: Vec<f64> = w.iter().map(|&x| f64::from(x)).collect();
                let (ma, mb) = (
                    regression::regression_metrics(&ya, &pa, Some(&w)),
                    regression::regression_metrics(&ya, &pb, Some(&w)),
                );
                as_vec(&ma).iter().zip(as_vec(&mb)).map(|(x, y)| y - x).collect()
            });
            (["mae", "mse", "rmse", "r2", "mape", "max_error"].iter().map(|s| s.to_string()).collect(), values)
        }
        _ => {
            let names: BTreeSet<String> = match &a.evaluation {
                Evaluation::Classification(r) => r.metrics.keys().cloned().collect(),
                Evaluation::Regression(r) => r.metrics.keys().cloned().collect(),
            };
            let n = names.len();
            (names.into_iter().collect(), vec![None; n])
        }
    };
    Ok(names
        .into_iter()
        .zip(intervals)
        .map(|(metric, interval)| {
            let (champion, value) = (a.evaluation.metric(&metric), b.evaluation.metric(&metric));
            let delta = champion.zip(value).map(|(x, y)| y - x);
            Delta { challenger: name.clone(), metric, champion, value, delta, interval }
        })
        .collect())
}

/// A column of `frame` as text, one entry per row (missing values empty).
fn column_text(frame: &polars::prelude::DataFrame, name: &str) -> Result<Vec<String>> {
    let column = frame.column(name).map_err(|e| Error::internal(format!("the id column went missing: {e}")))?;
    Ok((0..frame.height()).map(|i| column.get(i).map(|v| super::table::cell_text(&v)).unwrap_or_default()).collect())
}

fn agreement(
    a: &ClassificationData,
    b: &ClassificationData,
    challenger: &str,
    request: &CompareRequest,
    ids: Option<&[String]>,
) -> Agreement {
    let k = a.classes.len();
    let t = request.evaluate.options.threshold;
    let (pa, pb) =
        (predict_classes(&a.proba, k, a.positive, t), predict_classes(&b.proba, b.classes.len(), b.positive, t));
    let n = a.y_true.len();
    let same = pa.iter().zip(&pb).filter(|(x, y)| x == y).count();
    let mut table = [[0u64; 2]; 2]; // [champion right][challenger right]
    for i in 0..n {
        table[usize::from(pa[i] == a.y_true[i])][usize::from(pb[i] == a.y_true[i])] += 1;
    }
    let mut flips = Vec::new();
    for i in (0..n).filter(|&i| pa[i] != pb[i]).take(request.max_flips) {
        flips.push(Flip {
            row: i as u64 + 1,
            id: ids.and_then(|ids| ids.get(i).cloned()),
            truth: a.classes[a.y_true[i]].clone(),
            champion_label: a.classes[pa[i]].clone(),
            challenger_label: b.classes[pb[i]].clone(),
            champion_score: a.proba[i * k + a.positive],
            challenger_score: b.proba[i * b.classes.len() + b.positive],
        });
    }
    Agreement {
        challenger: challenger.to_string(),
        agreement_rate: same as f64 / n.max(1) as f64,
        cohen_kappa: cohen_kappa(&pa, &pb, k),
        mcnemar: mcnemar(table),
        flip_count: (n - same) as u64,
        flips,
    }
}

/// Cohen's κ of two label vectors over `k` classes.
pub fn cohen_kappa(a: &[usize], b: &[usize], k: usize) -> Option<f64> {
    let n = a.len() as f64;
    let mut cm = vec![vec![0.0; k]; k];
    for (&x, &y) in a.iter().zip(b) {
        cm[x][y] += 1.0;
    }
    let po = (0..k).map(|c| cm[c][c]).sum::<f64>() / n;
    let pe = (0..k).map(|c| cm[c].iter().sum::<f64>() * cm.iter().map(|r| r[c]).sum::<f64>()).sum::<f64>() / (n * n);
    (pe < 1.0).then(|| (po - pe) / (1.0 - pe))
}

fn mcnemar(table: [[u64; 2]; 2]) -> McNemar {
    let (b, c) = (table[1][0], table[0][1]);
    let discordant = b + c;
    let exact = discordant < 25;
    let (statistic, p_value) = if discordant == 0 {
        (0.0, 1.0)
    } else if exact {
        let low = b.min(c);
        let p = Binomial::new(0.5, discordant).map_or(f64::NAN, |d| (2.0 * d.cdf(low)).min(1.0));
        (low as f64, p)
    } else {
        let stat = ((b as f64 - c as f64).abs() - 1.0).powi(2) / discordant as f64;
        (stat, ChiSquared::new(1.0).map_or(f64::NAN, |d| d.sf(stat)))
    };
    McNemar {
        both_right: table[1][1],
        champion_only: b,
        challenger_only: c,
        both_wrong: table[0][0],
        statistic,
        p_value,
        exact,
    }
}

/// Time single-row predictions on the first rows of `data`.
fn latency(model: &Model, data: &Path, request: &CompareRequest) -> Result<Latency> {
    let mut reader = TableReader::open(data, request.latency_rows)?;
    let batch = reader.next_batch()?.ok_or_else(|| Error::Invalid("no rows to time".into()))?;
    let columns: Vec<String> = reader.columns().to_vec();
    let (binding, _) = super::contract::plan_binding(
        model.info(),
        &columns,
        &request.evaluate.score.mapping,
        &request.evaluate.score.id_columns,
    );
    let binding = binding.ok_or_else(|| Error::Invalid("the data does not fit the model".into()))?;
    let mut predictor = Predictor::new(model, binding)?;
    let text: Vec<Vec<Option<String>>> = columns
        .iter()
        .map(|c| {
            let s = batch.frame.column(c).map(|c| c.as_materialized_series().clone());
            s.ok()
                .and_then(|s| s.cast(&polars::prelude::DataType::String).ok())
                .map(|s| s.str().map(|ca| ca.iter().map(|v| v.map(str::to_string)).collect()).unwrap_or_default())
                .unwrap_or_default()
        })
        .collect();
    let row = |i: usize| -> BTreeMap<String, String> {
        columns.iter().zip(&text).map(|(c, v)| (c.clone(), v.get(i).cloned().flatten().unwrap_or_default())).collect()
    };
    let rows = batch.frame.height();
    for i in 0..10.min(rows) {
        predictor.predict_row(&row(i))?;
    }
    let mut times = Vec::with_capacity(rows);
    for i in 0..rows {
        let r = row(i);
        let start = Instant::now();
        predictor.predict_row(&r)?;
        times.push(start.elapsed().as_secs_f64() * 1e3);
    }
    times.sort_by(f64::total_cmp);
    Ok(Latency { rows, p50_ms: quantile(&times, 0.5), p95_ms: quantile(&times, 0.95), p99_ms: quantile(&times, 0.99) })
}
