//! The work behind the commands: each starts a named background job over the headless core.
//! Nothing here reads a file or runs a model on the UI thread.

use std::path::PathBuf;

use polars::prelude::*;

use super::app::MiradorApp;
use super::command::Export;
use super::jobs::{JobKind, JobProgress};
use super::outputs::{JobOutput, Page, ScoredTable};
use super::panels::predict::form_defaults;
use super::shots::ShotTarget;
use super::table::PAGE_ROWS;
use super::widgets::file_name;
use crate::core::bundle::{BundleRequest, create_bundle};
use crate::core::card::{CardContext, model_card};
use crate::core::drift::DriftOptions;
use crate::core::drift::profile::ReferenceProfile;
use crate::core::metrics::streaming::StreamingHistogram;
use crate::core::monitor::{AlertRule, Chunking, MonitorRequest, monitor_files};
use crate::core::registry::Registry;
use crate::core::writer::{copy_table, read_rows, write_frame};
use crate::core::{
    CancelToken, CheckOptions, ColumnMapping, Error, Model, ScoreOptions, TableReader, Task, atomic::write_atomic,
    check_file, output_columns, predict_one, read_table_inferred, score_file_observed,
};

impl MiradorApp {
    /// The current model, or a note saying none is open.
    pub(super) fn model_or_note(&mut self) -> Option<Model> {
        let model = self.current_model().cloned();
        if model.is_none() {
            let s = self.strings();
            self.note(s.no_model, true);
        }
        model
    }

    /// The contract check of the Score screen's file against the current model.
    pub(super) fn check_data(&mut self, ctx: &egui::Context) {
        let (Some(model), Some(data)) = (self.model_or_note(), self.ws.score_data.clone()) else { return };
        let sha = model.info().sha256.clone();
        let name = format!("{} {} — {}", self.strings().job_check, file_name(&data), model.info().name);
        let path = data.clone();
        let job = self.jobs.spawn(ctx, JobKind::Check, name, move |reporter, cancel| {
            let start = std::time::Instant::now();
            let report = check_file(model.info(), &path, &CheckOptions::default(), &mut |rows, fraction| {
                reporter.rows(rows, fraction, start);
                cancel.check()
            })?;
            Ok(JobOutput::Checked { model_sha: model.info().sha256.clone(), report })
        });
        self.panels.score.check_started(&sha, data, job);
    }

    /// Score the Score screen's file with the current model into a Parquet file in the scratch
    /// folder (one read of the data, predictions streamed to disk, the histogram built on the
    /// way), keeping the columns the model does not read (ids, labels) beside the predictions.
    pub(super) fn score(&mut self, ctx: &egui::Context) {
        let (Some(model), Some(data)) = (self.model_or_note(), self.ws.score_data.clone()) else { return };
        let out = match self.scratch_file(&format!("{}-predictions", model.info().name), "parquet") {
            Ok(out) => out,
            Err(e) => return self.note(e.to_string(), true),
        };
        let name = format!("{} {} — {}", self.strings().job_score, file_name(&data), model.info().name);
        let stamp = super::panels::score::score_stamp(&model, &data);
        let job = self.jobs.spawn(ctx, JobKind::Score, name, move |reporter, cancel| {
            let columns = TableReader::open(&data, 1)?.columns().to_vec();
            let (binding, _) = crate::core::plan_binding(model.info(), &columns, &ColumnMapping::default(), &[]);
            let used = binding.map(|b| b.columns()).unwrap_or_default();
            let outputs = output_columns(model.info());
            let ids: Vec<String> = columns.into_iter().filter(|c| !used.contains(c) && !outputs.contains(c)).collect();
            // One inference worker fewer than the cores (at least one): the window keeps a core.
            let options = ScoreOptions {
                id_columns: ids.clone(),
                workers: crate::core::runtime::cores().saturating_sub(1).max(1),
                ..Default::default()
            };
            let score_column = score_column(model.info());
            let at = score_column.as_ref().and_then(|c| outputs.iter().position(|o| o == c));
            let mut histogram = StreamingHistogram::new();
            let summary = score_file_observed(
                &model,
                &data,
                &out,
                &options,
                cancel,
                &mut |p| reporter.scoring(p),
                &mut |pred| add_scores(&mut histogram, pred, at),
            )?;
            Ok(JobOutput::Scored(Box::new(ScoredTable {
                model_sha: model.info().sha256.clone(),
                model_name: model.info().name.clone(),
                data,
                file: out,
                rows: usize::try_from(summary.rows).unwrap_or(usize::MAX),
                columns: ids.into_iter().chain(outputs).collect(),
                score_column,
                histogram: histogram.bars(40),
                summary,
                stamp,
            })))
        });
        self.panels.score.job = Some(job);
    }

    /// Read page `number` of a table kept in `file` (a quiet job).
    pub(super) fn load_page(&mut self, ctx: &egui::Context, file: PathBuf, number: usize) {
        self.jobs.spawn(ctx, JobKind::Page, self.strings().job_page, move |_, _| {
            let frame = read_rows(&file, number * PAGE_ROWS, PAGE_ROWS)?;
            Ok(JobOutput::Page(Box::new(Page { file, number, frame })))
        });
    }

    /// Sort the predictions table by a column: a sorted copy in the scratch folder (tables up to
    /// [`MAX_SORTED_ROWS`] rows: the copy is made in memory).
    pub(super) fn sort_table(&mut self, ctx: &egui::Context, order: crate::core::writer::SortOrder) {
        let Some(result) = &self.panels.score.result else { return };
        let s = self.strings();
        if result.rows > MAX_SORTED_ROWS {
            let text = format!("{} {MAX_SORTED_ROWS} {}; {} {}", s.sort_limit, s.rows, s.this_table_has, result.rows);
            return self.note(text, false);
        }
        let source = result.file.clone();
        let out = match self.scratch_file("sorted", "parquet") {
            Ok(out) => out,
            Err(e) => return self.note(e.to_string(), true),
        };
        let name = format!("{} {}", s.job_sort, order.column);
        self.jobs.spawn(ctx, JobKind::Export, name, move |_, _| {
            crate::core::writer::sort_file(&source, &out, &order)?;
            Ok(JobOutput::Sorted { source, file: out, order })
        });
    }

    /// A new file name in the app's scratch folder (created on first use, removed when the app
    /// closes).
    pub(super) fn scratch_file(&mut self, stem: &str, extension: &str) -> crate::core::Result<PathBuf> {
        if self.scratch.is_none() {
            let dir = tempfile::Builder::new()
                .prefix("mirador-scratch-")
                .tempdir()
                .map_err(|e| Error::io("create a scratch folder", std::env::temp_dir(), e))?;
            self.scratch = Some(dir);
        }
        self.scratch_count += 1;
        let dir = self.scratch.as_ref().map(|d| d.path().to_path_buf()).unwrap_or_default();
        let stem: String =
            stem.chars().map(|c| if c.is_alphanumeric() || c == '-' || c == '_' { c } else { '_' }).collect();
        Ok(dir.join(format!("{stem}-{}.{extension}", self.scratch_count)))
    }

    /// Predict the form's row (a quiet job: one per change).
    pub(super) fn predict_row(&mut self, ctx: &egui::Context) {
        let Some(model) = self.model_or_note() else { return };
        let row = self.panels.predict.row();
        if row.is_empty() {
            return;
        }
        self.panels.predict.prediction_started();
        self.jobs.spawn(ctx, JobKind::Predict, self.strings().job_predict, move |_, _| {
            let prediction = predict_one(&model, &row, &ColumnMapping::default())?;
            Ok(JobOutput::Predicted { model_sha: model.info().sha256.clone(), row, prediction })
        });
    }

    /// Prepare the prediction form (defaults from the reference data).
    pub(super) fn load_form_defaults(&mut self, ctx: &egui::Context) {
        let Some(model) = self.model_or_note() else { return };
        self.panels.predict.defaults_requested(&model.info().sha256);
        let reference = self.ws.form_reference.clone().filter(|p| p.is_file());
        self.jobs.spawn(ctx, JobKind::FormDefaults, self.strings().job_form, move |_, _| {
            Ok(JobOutput::FormDefaults(Box::new(form_defaults(&model, reference.as_deref())?)))
        });
    }

    /// Fill the form with row `n` (1-based) of the Score screen's file (else the reference), read
    /// without loading the rest of the file.
    pub(super) fn load_form_row(&mut self, ctx: &egui::Context, n: u64) {
        let Some(file) = self.ws.score_data.clone().or_else(|| self.ws.form_reference.clone()) else { return };
        let name = format!("{} {n} — {}", self.strings().job_row, file_name(&file));
        self.jobs.spawn(ctx, JobKind::Export, name, move |_, cancel| {
            let mut reader = TableReader::open(&file, 65_536)?;
            while let Some(batch) = reader.next_batch()? {
                cancel.check()?;
                let end = batch.first_row + batch.frame.height() as u64;
                if n <= end {
                    let at = usize::try_from(n - 1 - batch.first_row).unwrap_or(0);
                    return Ok(JobOutput::FormRow(crate::core::table::row_text(&batch.frame, at)));
                }
            }
            Err(Error::data(
                format!("the file has only {} rows", reader.rows_done()),
                crate::core::Location::file(Some(&file)).row(n),
            ))
        });
    }

    /// Compare the ticked models on the labelled data.
    pub(super) fn compare(&mut self, ctx: &egui::Context) {
        let s = self.strings();
        let models: Vec<Model> = self
            .ws
            .compare_models
            .iter()
            .filter_map(|p| self.models.iter().find(|m| &m.info().path == p).cloned())
            .collect();
        let Some(data) = self.ws.compare.data.clone() else { return };
        if models.len() < 2 {
            self.note(s.tick_models, true);
            return;
        }
        let settings = self.ws.compare.clone();
        let stamp = settings.stamp(&models);
        let names: Vec<String> = models.iter().map(|m| m.info().name.clone()).collect();
        let name = format!("{} {} — {}", s.job_compare, names.join(" vs "), file_name(&data));
        let job = self.jobs.spawn(ctx, JobKind::Compare, name, move |reporter, cancel| {
            let request = settings.request(&models[0], 200, 500)?;
            let n = models.len() as f64;
            let comparison = crate::core::compare::compare_files(&models, &data, &request, cancel, &mut |i, p| {
                reporter.progress(JobProgress {
                    fraction: Some((i as f64 + p.fraction) / n),
                    rows_done: p.rows_done,
                    rows_per_sec: p.rows_per_sec,
                    eta_secs: None,
                    stage: None,
                });
            })?;
            Ok(JobOutput::Compared(Box::new(comparison), stamp))
        });
        self.panels.compare.job = Some(job);
    }

    /// Monitor the current data against the reference.
    pub(super) fn monitor(&mut self, ctx: &egui::Context) {
        let m = self.ws.monitor.clone();
        let (Some(reference), Some(current)) = (m.reference.clone(), m.current.clone()) else { return };
        let model = if m.use_model { self.current_model().map(|m| m.info().path.clone()) } else { None };
        let stamp = m.stamp(self.current_model());
        let name = format!("{} {} ⟷ {}", self.strings().job_monitor, file_name(&reference), file_name(&current));
        let job = self.jobs.spawn(ctx, JobKind::Monitor, name, move |reporter, cancel| {
            let time = Some(m.time_column.trim()).filter(|t| !t.is_empty());
            let request = MonitorRequest {
                reference,
                current,
                chunking: Chunking::parse(m.chunk.trim(), time)?,
                options: DriftOptions {
                    drift_share: m.drift_share,
                    exclude: m.exclude.split(',').map(str::trim).filter(|c| !c.is_empty()).map(String::from).collect(),
                    ..Default::default()
                },
                model,
                target: Some(m.target.trim().to_string()).filter(|t| !t.is_empty()),
                rules: AlertRule::parse_all(&m.alerts)?,
            };
            let report = monitor_files(&request, &mut |step, what| {
                reporter.stage(step, crate::core::monitor::STEPS, what);
                cancel.check()
            })?;
            Ok(JobOutput::Monitored(Box::new(report), stamp))
        });
        self.panels.monitor.job = Some(job);
    }

    /// Write an export to `path` in a job (plots come from a screenshot, see `screenshot_arrived`).
    pub(super) fn export(&mut self, ctx: &egui::Context, export: Export, path: PathBuf) {
        let s = self.strings();
        let name = format!("{} {}", s.job_save, file_name(&path));
        let name = match &export {
            Export::Bundle(_) => format!("{} {}", s.job_bundle, file_name(&path)),
            _ => name,
        };
        let work: Box<dyn FnOnce() -> crate::core::Result<()> + Send> = match export {
            Export::Predictions => {
                let Some(result) = &self.panels.score.result else { return };
                let (source, path) = (result.file.clone(), path.clone());
                Box::new(move || copy_table(&source, &path, &CancelToken::new()).map(|_| ()))
            }
            Export::CompareTable => {
                let Some(c) = self.panels.compare.result.clone() else { return };
                let path = path.clone();
                Box::new(move || write_frame(&path, &mut compare_frame(&c)?).map(|_| ()))
            }
            Export::DriftTable => {
                let Some(m) = self.panels.monitor.result.clone() else { return };
                let path = path.clone();
                Box::new(move || write_frame(&path, &mut drift_frame(&m)?).map(|_| ()))
            }
            Export::ProblemsTable => {
                let Some(report) = self.panels.score.report.clone() else { return };
                let path = path.clone();
                Box::new(move || write_frame(&path, &mut problems_frame(&report)?).map(|_| ()))
            }
            Export::ModelCard => {
                let Some(model) = self.model_or_note() else { return };
                let reference = self.ws.monitor.reference.as_ref().map(|p| p.display().to_string());
                // With labelled data chosen (the Compare screen's), the card carries the evaluation.
                let labelled = self
                    .ws
                    .compare
                    .data
                    .clone()
                    .zip(Some(self.ws.compare.target.trim().to_string()))
                    .map(|(data, target)| {
                        let target = if target.is_empty() {
                            model.info().metadata.get("target").cloned().unwrap_or_default()
                        } else {
                            target
                        };
                        (data, target)
                    })
                    .filter(|(_, t)| !t.is_empty());
                let path = path.clone();
                Box::new(move || {
                    let evaluation = match &labelled {
                        Some((data, target)) => {
                            let request = crate::core::EvaluateRequest { target: target.clone(), ..Default::default() };
                            Some(crate::core::evaluate_file(&model, data, &request, &CancelToken::new(), &mut |_| {})?)
                        }
                        None => None,
                    };
                    let data_name = labelled.as_ref().map(|(d, _)| d.display().to_string());
                    let context = CardContext {
                        evaluation: evaluation.as_ref().zip(data_name.as_deref()),
                        reference: reference.as_deref(),
                        ..Default::default()
                    };
                    write_atomic(&path, model_card(model.info(), &context).as_bytes(), "write the model card")
                })
            }
            Export::ReferenceProfile => {
                let Some(reference) = self.ws.monitor.reference.clone() else { return };
                let path = path.clone();
                Box::new(move || {
                    let frame = read_table_inferred(&reference, &[])?;
                    ReferenceProfile::from_frame(&frame, &reference.display().to_string(), &[])?.save(&path)
                })
            }
            Export::Bundle(source) => {
                let reference = self.ws.monitor.reference.clone();
                let target = Some(self.ws.compare.target.trim().to_string()).filter(|t| !t.is_empty());
                let registry = Registry::open(&self.ws.registry);
                let path = path.clone();
                Box::new(move || {
                    let request = BundleRequest::new(&registry, source, reference, target)?;
                    create_bundle(&request, &path).map(|_| ())
                })
            }
            Export::Plot(rect) => {
                self.request_shot(ctx, ShotTarget::Plot { rect, path });
                return;
            }
        };
        self.jobs.spawn(ctx, JobKind::Export, name, move |_, _| {
            work()?;
            Ok(JobOutput::Saved(path))
        });
    }
}

/// The largest table the predictions table sorts (the sorted copy is made in memory).
pub const MAX_SORTED_ROWS: usize = 1_000_000;

/// Count each row's score — the positive-class probability or the predicted value, column `at`
/// of the prediction columns after the label — into `histogram`.
fn add_scores(histogram: &mut StreamingHistogram, pred: &crate::core::BatchPredictions, at: Option<usize>) {
    let Some(at) = at else { return };
    let column = at.saturating_sub(usize::from(pred.labels.is_some()));
    let width = pred.width();
    if let Some(matrix) = pred.probabilities.as_ref().or(pred.values.as_ref())
        && column < width
    {
        histogram.add_all(matrix.iter().skip(column).step_by(width).copied());
    }
}

/// The column whose values the score histogram shows.
fn score_column(info: &crate::core::ModelInfo) -> Option<String> {
    match &info.task {
        Task::Classification { classes, probability_output: Some(_), .. } => {
            let positive = info.metadata.get("positive_class").filter(|p| classes.contains(p)).or(classes.last());
            positive.map(|c| format!("p_{c}"))
        }
        Task::Classification { .. } => None,
        Task::Regression { .. } => output_columns(info).first().cloned(),
    }
}

fn table_error(e: PolarsError) -> Error {
    Error::Invalid(format!("cannot build the table: {e}"))
}

/// The comparison's metric table: one row per metric, one column per model and per delta.
fn compare_frame(c: &crate::core::compare::Comparison) -> crate::core::Result<DataFrame> {
    let metrics: Vec<String> =
        c.deltas.iter().map(|d| d.metric.clone()).collect::<std::collections::BTreeSet<_>>().into_iter().collect();
    let mut columns = vec![Column::new("metric".into(), &metrics)];
    for m in &c.models {
        let values: Vec<Option<f64>> = metrics.iter().map(|k| m.evaluation.metric(k)).collect();
        columns.push(Column::new(m.name.as_str().into(), values));
    }
    for m in &c.models[1..] {
        let find = |k: &String| c.deltas.iter().find(|d| d.challenger == m.name && &d.metric == k);
        let delta: Vec<Option<f64>> = metrics.iter().map(|k| find(k).and_then(|d| d.delta)).collect();
        let low: Vec<Option<f64>> = metrics.iter().map(|k| find(k).and_then(|d| d.interval.map(|i| i.low))).collect();
        let high: Vec<Option<f64>> = metrics.iter().map(|k| find(k).and_then(|d| d.interval.map(|i| i.high))).collect();
        columns.push(Column::new(format!("delta_{}", m.name).into(), delta));
        columns.push(Column::new(format!("delta_{}_ci_low", m.name).into(), low));
        columns.push(Column::new(format!("delta_{}_ci_high", m.name).into(), high));
    }
    DataFrame::new(metrics.len(), columns).map_err(table_error)
}

/// The contract check's problems, one row each.
fn problems_frame(report: &crate::core::ContractReport) -> crate::core::Result<DataFrame> {
    let p = &report.problems;
    let text = |f: &dyn Fn(&crate::core::Problem) -> Option<String>| p.iter().map(f).collect::<Vec<Option<String>>>();
    let columns = vec![
        Column::new("severity".into(), text(&|x| Some(x.severity.as_str().to_string()))),
        Column::new("kind".into(), text(&|x| Some(x.kind.as_str().to_string()))),
        Column::new("column".into(), text(&|x| x.column.clone())),
        Column::new("input".into(), text(&|x| x.input.clone())),
        Column::new("first_row".into(), p.iter().map(|x| x.row).collect::<Vec<Option<u64>>>()),
        Column::new("value".into(), text(&|x| x.value.clone())),
        Column::new("rows_affected".into(), p.iter().map(|x| x.count).collect::<Vec<u64>>()),
        Column::new("message".into(), text(&|x| Some(x.message.clone()))),
    ];
    DataFrame::new(p.len(), columns).map_err(table_error)
}

/// The monitor's per-feature drift table.
fn drift_frame(m: &crate::core::monitor::MonitorReport) -> crate::core::Result<DataFrame> {
    let cols = &m.overall.columns;
    let text = |f: &dyn Fn(&crate::core::drift::ColumnDrift) -> String| cols.iter().map(f).collect::<Vec<String>>();
    let num = |f: &dyn Fn(&crate::core::drift::ColumnDrift) -> f64| cols.iter().map(f).collect::<Vec<f64>>();
    let columns = vec![
        Column::new("column".into(), text(&|c| c.column.clone())),
        Column::new("test".into(), text(&|c| super::words::test_name(c.test).to_string())),
        Column::new("score".into(), num(&|c| c.score)),
        Column::new("threshold".into(), num(&|c| c.threshold)),
        Column::new("drift".into(), cols.iter().map(|c| c.drift).collect::<Vec<bool>>()),
        Column::new("reference_missing".into(), num(&|c| c.reference_missing)),
        Column::new("current_missing".into(), num(&|c| c.current_missing)),
        Column::new("new_categories".into(), text(&|c| c.new_categories.join("|"))),
    ];
    DataFrame::new(cols.len(), columns).map_err(table_error)
}
