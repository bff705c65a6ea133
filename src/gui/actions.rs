//! The work behind the commands: each starts a named background job over the headless core.
//! Nothing here reads a file or runs a model on the UI thread.

use std::path::PathBuf;

use polars::prelude::*;

use super::app::MiradorApp;
use super::command::Export;
use super::jobs::{JobKind, JobProgress};
use super::outputs::{JobOutput, ScoredTable};
use super::panels::predict::form_defaults;
use super::widgets::{file_name, histogram};
use crate::core::bundle::{BundleRequest, create_bundle};
use crate::core::card::{CardContext, model_card};
use crate::core::drift::DriftOptions;
use crate::core::monitor::{AlertRule, Chunking, MonitorRequest, monitor_files};
use crate::core::profile::ReferenceProfile;
use crate::core::registry::Registry;
use crate::core::writer::{prediction_frame, write_frame};
use crate::core::{
    CheckOptions, ColumnMapping, Error, Model, ScoreOptions, TableReader, Task, atomic::write_atomic, check_file,
    output_columns, predict_one, read_table_inferred, score_in_memory,
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
        let job = self.jobs.spawn(ctx, JobKind::Check, name, move |_, _| {
            let report = check_file(model.info(), &path, &CheckOptions::default())?;
            Ok(JobOutput::Checked { model_sha: model.info().sha256.clone(), report })
        });
        self.panels.score.check_started(&sha, data, job);
    }

    /// Score the Score screen's file with the current model, in memory, keeping the columns the
    /// model does not read (ids, labels) beside the predictions.
    pub(super) fn score(&mut self, ctx: &egui::Context) {
        let (Some(model), Some(data)) = (self.model_or_note(), self.ws.score_data.clone()) else { return };
        let name = format!("{} {} — {}", self.strings().job_score, file_name(&data), model.info().name);
        let job = self.jobs.spawn(ctx, JobKind::Score, name, move |reporter, cancel| {
            let columns = TableReader::open(&data, 1024)?.columns().to_vec();
            let (binding, _) = crate::core::plan_binding(model.info(), &columns, &ColumnMapping::default(), &[]);
            let used = binding.map(|b| b.columns()).unwrap_or_default();
            let outputs = output_columns(model.info());
            let ids: Vec<String> = columns.into_iter().filter(|c| !used.contains(c) && !outputs.contains(c)).collect();
            // One inference worker fewer than the cores (at least one): the window keeps a core.
            let options = ScoreOptions {
                id_columns: ids,
                workers: crate::core::model::cores().saturating_sub(1).max(1),
                ..Default::default()
            };
            let (scored, summary) = score_in_memory(&model, &data, &options, cancel, &mut |p| reporter.scoring(p))?;
            let frame = prediction_frame(&scored.ids, &scored.predictions, &outputs)?;
            let score_column = score_column(model.info());
            let scores: Vec<f64> = score_column
                .as_ref()
                .and_then(|c| frame.column(c).ok())
                .and_then(|c| c.cast(&DataType::Float64).ok())
                .map(|c| c.f64().map(|v| v.into_no_null_iter().collect()).unwrap_or_default())
                .unwrap_or_default();
            let histogram = histogram(&scores, 40);
            let model_sha = model.info().sha256.clone();
            Ok(JobOutput::Scored(Box::new(ScoredTable { model_sha, frame, score_column, histogram, summary })))
        });
        self.panels.score.job = Some(job);
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
                });
            })?;
            Ok(JobOutput::Compared(Box::new(comparison)))
        });
        self.panels.compare.job = Some(job);
    }

    /// Monitor the current data against the reference.
    pub(super) fn monitor(&mut self, ctx: &egui::Context) {
        let m = self.ws.monitor.clone();
        let (Some(reference), Some(current)) = (m.reference.clone(), m.current.clone()) else { return };
        let model = if m.use_model { self.current_model().map(|m| m.info().path.clone()) } else { None };
        let name = format!("{} {} ⟷ {}", self.strings().job_monitor, file_name(&reference), file_name(&current));
        let job = self.jobs.spawn(ctx, JobKind::Monitor, name, move |_, cancel| {
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
            let report = monitor_files(&request)?;
            cancel.check()?;
            Ok(JobOutput::Monitored(Box::new(report)))
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
                let mut frame = result.frame.clone();
                let path = path.clone();
                Box::new(move || write_frame(&path, &mut frame).map(|_| ()))
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
                let path = path.clone();
                Box::new(move || {
                    let context = CardContext { reference: reference.as_deref(), ..Default::default() };
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

    /// Ask for a screenshot; it comes back through the app's shot channel (see `save_shot`).
    pub(super) fn request_shot(&mut self, ctx: &egui::Context, target: ShotTarget) {
        let tx = self.shots_tx.clone();
        let waker = ctx.clone();
        ctx.request_screenshot(move |image| {
            // The channel holds a few shots; a full one means the app is not keeping up, and
            // the user can ask again.
            let _ = tx.try_send((image, target));
            waker.request_repaint();
        });
    }

    /// A screenshot arrived: crop the plot it was for, or keep it whole, and save it in a job.
    pub(super) fn save_shot(&mut self, ctx: &egui::Context, image: &egui::ColorImage, target: ShotTarget) {
        let (region, path, close) = match target {
            ShotTarget::Plot { rect, path } => (image.region(&rect, Some(ctx.pixels_per_point())), path, false),
            ShotTarget::Autopilot(path) => (image.clone(), path, true),
        };
        let name = format!("{} {}", self.strings().job_save, file_name(&path));
        let waker = ctx.clone();
        self.jobs.spawn(ctx, JobKind::Export, name, move |_, _| {
            save_png(&region, &path)?;
            if close {
                waker.send_viewport_cmd(egui::ViewportCommand::Close);
            }
            Ok(JobOutput::Saved(path))
        });
    }
}

/// What a screenshot is for.
#[derive(Clone)]
pub enum ShotTarget {
    /// A plot to cut out and save.
    Plot {
        /// Where it is, in points.
        rect: egui::Rect,
        /// The PNG file.
        path: PathBuf,
    },
    /// The whole window, for the autopilot (the app closes once it is saved).
    Autopilot(PathBuf),
}

/// Save an egui image as PNG, atomically.
pub fn save_png(image: &egui::ColorImage, path: &std::path::Path) -> crate::core::Result<()> {
    let [w, h] = image.size;
    let rgba: Vec<u8> = image.pixels.iter().flat_map(|c| c.to_array()).collect();
    let buffer = image::RgbaImage::from_raw(w as u32, h as u32, rgba)
        .ok_or_else(|| Error::Invalid("the screenshot has an unexpected size".into()))?;
    let mut bytes = Vec::new();
    buffer
        .write_to(&mut std::io::Cursor::new(&mut bytes), image::ImageFormat::Png)
        .map_err(|e| Error::Invalid(format!("cannot encode the PNG: {e}")))?;
    write_atomic(path, &bytes, "write the image")
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
        Column::new("severity".into(), text(&|x| Some(format!("{:?}", x.severity).to_lowercase()))),
        Column::new("kind".into(), text(&|x| Some(format!("{:?}", x.kind)))),
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
        Column::new("test".into(), text(&|c| super::panels::monitor::test_name(c.test).to_string())),
        Column::new("score".into(), num(&|c| c.score)),
        Column::new("threshold".into(), num(&|c| c.threshold)),
        Column::new("drift".into(), cols.iter().map(|c| c.drift).collect::<Vec<bool>>()),
        Column::new("reference_missing".into(), num(&|c| c.reference_missing)),
        Column::new("current_missing".into(), num(&|c| c.current_missing)),
        Column::new("new_categories".into(), text(&|c| c.new_categories.join("|"))),
    ];
    DataFrame::new(cols.len(), columns).map_err(table_error)
}
