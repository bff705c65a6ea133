//! Monitoring from files: check the cheap things first (headers, columns, rules, the model), then
//! read the reference and current data, score them with the model when one is given, and run
//! [`monitor`] — what `mirador drift --chunk` and the Monitor screen both call.
//!
//! When the current data is a prediction log's folder, its logged outputs are used as they are
//! (the model scores the reference only) and its late labels give the realised performance of
//! the rows that have one ([`super::served`]).

use std::path::{Path, PathBuf};

use super::{AlertRule, Chunking, ModelOutputs, MonitorReport, PERFORMANCE, monitor};
use crate::core::drift::{DriftOptions, drift_frames, read_rows};
use crate::core::error::{Error, Location, Result};
use crate::core::evaluate::labelled_scores;
use crate::core::model::Model;
use crate::core::model::info::Task;
use crate::core::table::TableReader;
use crate::core::text::did_you_mean;

/// What to monitor.
#[derive(Debug, Clone)]
pub struct MonitorRequest {
    /// Reference data.
    pub reference: PathBuf,
    /// Current data (e.g. a production log).
    pub current: PathBuf,
    /// Chunking.
    pub chunking: Chunking,
    /// Drift settings.
    pub options: DriftOptions,
    /// Optional model for prediction drift and performance.
    pub model: Option<PathBuf>,
    /// Optional label column.
    pub target: Option<String>,
    /// Alert rules.
    pub rules: Vec<AlertRule>,
}

/// Steps of [`monitor_files`], for progress.
pub const STEPS: usize = 5;

/// Read, score (when a model is given) and monitor. `step` is told each step as it starts
/// (1..=[`STEPS`]) with what it does, and may stop the work by returning an error (a cancel).
pub fn monitor_files(
    request: &MonitorRequest,
    step: &mut dyn FnMut(usize, &str) -> Result<()>,
) -> Result<MonitorReport> {
    request.options.check()?;
    step(1, "checking the columns and rules")?;
    let reference_columns = TableReader::open(&request.reference, 1)?.columns().to_vec();
    let current_columns = TableReader::open(&request.current, 1)?.columns().to_vec();
    let need = |column: &str, path: &Path, columns: &[String], what: &str| -> Result<()> {
        if columns.iter().any(|c| c == column) {
            return Ok(());
        }
        let hint = did_you_mean(column, columns.iter().map(String::as_str));
        Err(Error::data(
            format!("the {what} column is not in the file{hint}"),
            Location::file(Some(path)).column(column),
        ))
    };
    if let Chunking::Period { column, .. } = &request.chunking {
        need(column, &request.current, &current_columns, "timestamp")?;
    }
    let served_log = super::served::is_prediction_log(&request.current);
    if let Some(target) = &request.target {
        if !served_log {
            need(target, &request.current, &current_columns, "target")?;
        }
        need(target, &request.reference, &reference_columns, "target")?;
    }
    let model = request.model.as_ref().map(Model::load).transpose()?;
    let notes = check_rules(
        &request.rules,
        &current_columns,
        &request.options.exclude,
        model.as_ref(),
        request.target.is_some() || served_log,
    )?;

    // The timestamp column stays: it cuts the chunks. The target is the features' drift's business
    // no more: its drift is reported apart, so it does not count in the share of drifted features.
    step(2, "reading the reference")?;
    let mut options = request.options.clone();
    if let Some(target) = &request.target
        && !options.exclude.contains(target)
    {
        options.exclude.push(target.clone());
    }
    let exclude = &request.options.exclude;
    let reference = read_rows(&request.reference, exclude)?;
    step(3, "reading the current data")?;
    let mut notes = notes;
    let output_names = model.as_ref().map(|m| crate::core::session::output_columns(m.info()));
    let served =
        if served_log { Some(super::served::read_served(&request.current, output_names.as_deref())?) } else { None };
    if let Some(s) = served.as_ref().filter(|s| !s.rejected.is_empty()) {
        let all = s.rejected_rows() + s.inputs.height();
        let (reason, n) = &s.rejected[0];
        notes.push(format!(
            "{} of {all} rows ({:.2} %) failed the model's contract and were refused (in rejected/); the most frequent reason ({n} rows): {reason}",
            s.rejected_rows(),
            100.0 * s.rejected_rows() as f64 / all as f64
        ));
    }
    let current = match &served {
        Some(s) => {
            let keep: Vec<&str> = s
                .inputs
                .get_column_names()
                .into_iter()
                .map(|c| c.as_str())
                .filter(|c| !exclude.iter().any(|e| e == c))
                .collect();
            s.inputs.select(keep).map_err(|e| Error::internal(format!("cannot read the log's columns: {e}")))?
        }
        None => read_rows(&request.current, exclude)?,
    };
    step(4, "scoring with the model")?;
    let outputs = match &model {
        Some(model) => {
            let (reference_scores, reference_labelled) =
                labelled_scores(model, &request.reference, request.target.as_deref())?;
            let (current_scores, current_labelled, current_label_mask) = match &served {
                // What the clients got, as logged: no re-scoring.
                Some(s) => {
                    let (scores, labelled) = s.scores(model.info())?;
                    let labelled_rows = s.labels.iter().filter(|l| l.is_some()).count();
                    notes.push(format!(
                        "read the prediction log: {} served rows, {labelled_rows} with a late label{}",
                        s.inputs.height(),
                        if s.unmatched_labels > 0 {
                            format!(" ({} labels matched no logged row)", s.unmatched_labels)
                        } else {
                            String::new()
                        }
                    ));
                    let (labelled, mask) = labelled.unzip();
                    (scores, labelled, mask)
                }
                None => {
                    let (scores, labelled) = labelled_scores(model, &request.current, request.target.as_deref())?;
                    (scores, labelled, None)
                }
            };
            let binary = matches!(&model.info().task, Task::Classification { classes, .. } if classes.len() == 2);
            Some(ModelOutputs {
                reference_scores,
                current_scores,
                reference_labelled,
                current_labelled,
                current_label_mask,
                binary,
            })
        }
        None => None,
    };
    step(5, "computing drift and performance per chunk")?;
    let mut report = monitor(&reference, &current, &request.chunking, &options, outputs.as_ref(), &request.rules)?;
    report.notes = notes;
    if let Some(target) = request.target.as_ref().filter(|_| !served_log) {
        let pick = |frame: &polars::prelude::DataFrame| frame.select([target.as_str()]);
        if let (Ok(r), Ok(c)) = (pick(&reference), pick(&current)) {
            report.target_drift = drift_frames(&r, &c, &request.options)?.columns.into_iter().next();
        }
    }
    Ok(report)
}

/// Refuse alert rules that watch nothing: a column the data does not have, a name Mirador does not
/// compute (the closest known name suggested). A rule on a metric this run cannot compute (realised
/// performance without the model and the target, estimates without a binary classifier) is kept,
/// with a note saying why it will not fire; the notes are returned.
pub fn check_rules(
    rules: &[AlertRule],
    columns: &[String],
    exclude: &[String],
    model: Option<&Model>,
    has_target: bool,
) -> Result<Vec<String>> {
    let classifier = model.is_some_and(|m| matches!(m.info().task, Task::Classification { .. }));
    let estimates: Vec<String> = PERFORMANCE.iter().map(|m| format!("estimated_{m}")).collect();
    let mut possible: Vec<String> = vec!["share_drifted".into(), "prediction_drift".into()];
    possible.extend(columns.iter().filter(|c| !exclude.contains(c)).map(|c| format!("drift:{c}")));
    possible.extend(PERFORMANCE.iter().map(|m| (*m).to_string()));
    possible.extend(estimates.iter().cloned());
    let mut notes = Vec::new();
    for rule in rules {
        let key = rule.key();
        if !possible.iter().any(|k| k == key) {
            let why = if key.starts_with("drift:") {
                "names a column the data does not have (or one left out)"
            } else {
                "watches nothing Mirador computes"
            };
            return Err(Error::Invalid(format!(
                "alert rule '{}' {why}{}; rules can watch: {}",
                rule.text,
                did_you_mean(key, possible.iter().map(String::as_str)),
                possible.join(", ")
            )));
        }
        let missing = match key {
            "prediction_drift" if model.is_none() => Some("a model"),
            k if PERFORMANCE.contains(&k) && !(classifier && has_target) => Some("a classifier and a target column"),
            k if estimates.iter().any(|e| e == k) && !classifier => Some("a binary classifier"),
            _ => None,
        };
        if let Some(needs) = missing {
            notes.push(format!("alert rule '{}' needs {needs}, so it is not evaluated in this run", rule.text));
        }
    }
    Ok(notes)
}
