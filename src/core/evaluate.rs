//! Evaluating a model on labelled data: score the file, read the target column, compute the
//! metrics (see [`crate::core::metrics`]).

use std::path::Path;

use polars::prelude::*;
use serde::Serialize;

use super::cancel::CancelToken;
use super::error::{Error, Location, Result};
use super::metrics::{
    ClassificationData, ClassificationReport, EvaluateOptions, RegressionReport, evaluate_classification,
    evaluate_regression,
};
use super::model::{Model, ModelInfo, Task};
use super::score::{Progress, ScoreOptions, ScoredRows, score_in_memory};

/// A model's performance on labelled data.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "task", rename_all = "snake_case")]
pub enum Evaluation {
    /// A classifier's report.
    Classification(Box<ClassificationReport>),
    /// A regressor's report.
    Regression(RegressionReport),
}

impl Evaluation {
    /// The metric called `name`, if computed and defined.
    pub fn metric(&self, name: &str) -> Option<f64> {
        match self {
            Self::Classification(r) => r.metrics.get(name).copied().flatten(),
            Self::Regression(r) => r.metrics.get(name).copied().flatten(),
        }
    }
}

/// What to evaluate against.
#[derive(Debug, Clone, Default)]
pub struct EvaluateRequest {
    /// The column holding the true label or value.
    pub target: String,
    /// The positive class (binary); default: the model's `positive_class` metadata, else its last class.
    pub positive: Option<String>,
    /// Metric settings.
    pub options: EvaluateOptions,
    /// Scoring settings (the target is added to the pass-through columns).
    pub score: ScoreOptions,
}

/// Score `data` with `model` and evaluate the predictions against `request.target`.
pub fn evaluate_file(
    model: &Model,
    data: &Path,
    request: &EvaluateRequest,
    cancel: &CancelToken,
    progress: &mut dyn FnMut(&Progress),
) -> Result<Evaluation> {
    request.options.check()?;
    let mut score = request.score.clone();
    if !score.id_columns.contains(&request.target) {
        score.id_columns.push(request.target.clone());
    }
    let (scored, _) = score_in_memory(model, data, &score, cancel, progress)?;
    evaluate_scored(model.info(), &scored, data, request)
}

/// Evaluate predictions already in memory; `scored.ids` must hold the target column.
pub fn evaluate_scored(
    info: &ModelInfo,
    scored: &ScoredRows,
    data: &Path,
    request: &EvaluateRequest,
) -> Result<Evaluation> {
    match &info.task {
        Task::Classification { .. } => {
            let labelled = labelled_classification(info, scored, data, request)?;
            Ok(Evaluation::Classification(Box::new(evaluate_classification(&labelled, &request.options))))
        }
        Task::Regression { .. } => {
            let (y, pred) = labelled_regression(scored, data, request)?;
            Ok(Evaluation::Regression(evaluate_regression(&y, &pred, &request.options)))
        }
    }
}

/// A classifier's probabilities with the true classes read from the target column.
pub(crate) fn labelled_classification(
    info: &ModelInfo,
    scored: &ScoredRows,
    data: &Path,
    request: &EvaluateRequest,
) -> Result<ClassificationData> {
    let Task::Classification { classes, .. } = &info.task else {
        return Err(Error::Invalid("the model is not a classifier".into()));
    };
    let target = target_text(scored, &request.target, data)?;
    classification_data(info, classes, scored, &target, request, data)
}

/// A regressor's (true, predicted) values.
pub(crate) fn labelled_regression(
    scored: &ScoredRows,
    data: &Path,
    request: &EvaluateRequest,
) -> Result<(Vec<f64>, Vec<f64>)> {
    let target = target_text(scored, &request.target, data)?;
    let values = scored.predictions.values.clone().unwrap_or_default();
    let width = values.len() / scored.predictions.rows.max(1);
    if width != 1 {
        return Err(Error::Invalid(format!("the model predicts {width} values per row; evaluation needs one")));
    }
    let y = target
        .iter()
        .enumerate()
        .map(|(i, v)| v.trim().parse::<f64>().map_err(|_| bad_target(data, &request.target, i, v, "is not a number")))
        .collect::<Result<Vec<f64>>>()?;
    Ok((y, values))
}

fn target_text(scored: &ScoredRows, target: &str, data: &Path) -> Result<Vec<String>> {
    let column = scored
        .ids
        .column(target)
        .map_err(|_| Error::data("the target column is not in the file", Location::file(Some(data)).column(target)))?;
    let text = column.as_materialized_series().cast(&DataType::String).map_err(|e| Error::Invalid(e.to_string()))?;
    let values = text.str().map_err(|e| Error::Invalid(e.to_string()))?;
    values
        .iter()
        .enumerate()
        .map(|(i, v)| v.map(str::to_string).ok_or_else(|| bad_target(data, target, i, "", "is empty")))
        .collect()
}

fn bad_target(data: &Path, target: &str, row: usize, value: &str, what: &str) -> Error {
    let shown = if value.is_empty() { String::from("the target") } else { format!("target '{value}'") };
    Error::data(format!("{shown} {what}"), Location::file(Some(data)).row(row as u64 + 1).column(target))
}

/// The index of `value` among `classes`: the same text, or the same number ("1" and "1.0").
fn class_index(classes: &[String], value: &str) -> Option<usize> {
    let value = value.trim();
    classes.iter().position(|c| c == value).or_else(|| {
        let x = value.parse::<f64>().ok()?;
        classes.iter().position(|c| c.parse::<f64>().ok() == Some(x))
    })
}

/// The positive class: the one asked for, else the model's `positive_class` metadata, else the
/// last class (scikit-learn's `pos_label=1` for 0/1 labels).
pub fn positive_index(info: &ModelInfo, classes: &[String], requested: Option<&str>) -> Result<usize> {
    let wanted = requested.map(str::to_string).or_else(|| info.metadata.get("positive_class").cloned());
    match wanted {
        Some(p) => class_index(classes, &p).ok_or_else(|| {
            Error::Invalid(format!("positive class '{p}' is not one of the model's classes ({})", classes.join(", ")))
        }),
        None => Ok(classes.len().saturating_sub(1)),
    }
}

fn classification_data(
    info: &ModelInfo,
    classes: &[String],
    scored: &ScoredRows,
    target: &[String],
    request: &EvaluateRequest,
    data: &Path,
) -> Result<ClassificationData> {
    let proba = scored.predictions.probabilities.clone().ok_or_else(|| {
        Error::Invalid("the model gives no probabilities, so ranking metrics cannot be computed".into())
    })?;
    let y_true = target
        .iter()
        .enumerate()
        .map(|(i, v)| {
            class_index(classes, v).ok_or_else(|| {
                let what = format!("is not one of the model's classes ({})", classes.join(", "));
                bad_target(data, &request.target, i, v, &what)
            })
        })
        .collect::<Result<Vec<usize>>>()?;
    let positive = positive_index(info, classes, request.positive.as_deref())?;
    ClassificationData::new(classes.to_vec(), positive, y_true, proba)
}

/// Score `data` and return each row's score — the positive-class probability of a classifier, the
/// value of a regressor — and, when `target` is given and the model is a classifier, the labelled
/// rows for performance.
pub fn labelled_scores(
    model: &Model,
    data: &Path,
    target: Option<&str>,
) -> Result<(Vec<f64>, Option<ClassificationData>)> {
    let request = EvaluateRequest { target: target.unwrap_or_default().to_string(), ..EvaluateRequest::default() };
    let mut score = request.score.clone();
    if let Some(t) = target {
        score.id_columns.push(t.to_string());
    }
    let (scored, _) = score_in_memory(model, data, &score, &CancelToken::new(), &mut |_| {})?;
    let info = model.info();
    match &info.task {
        Task::Classification { classes, .. } => {
            let Some(proba) = scored.predictions.probabilities.clone() else {
                return Err(Error::Invalid(format!(
                    "{} gives labels but no probabilities, so its prediction drift and performance cannot be \
                     monitored; leave the model out to monitor the data's drift — {}",
                    info.name,
                    info.path.display()
                )));
            };
            let labelled = match target {
                Some(_) => labelled_classification(info, &scored, data, &request)?,
                None => {
                    ClassificationData::new(classes.clone(), positive_index(info, classes, None)?, Vec::new(), proba)?
                }
            };
            // The session checked that every row has one probability per class.
            let k = labelled.classes.len();
            let scores = (0..scored.predictions.rows).map(|i| labelled.proba[i * k + labelled.positive]).collect();
            Ok((scores, target.map(|_| labelled)))
        }
        Task::Regression { .. } => Ok((scored.predictions.values.clone().unwrap_or_default(), None)),
    }
}
