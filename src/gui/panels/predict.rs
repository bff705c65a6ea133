//! Predict one row: a form generated from the model's inputs (numbers start at the reference
//! median, text columns offer the known categories), predicting on every change. Typed values are
//! taken as typed (a badge says when one is outside the training range), a number can be left
//! missing, a row can be loaded from the data file, and the row stays when another model is chosen,
//! so two versions can be asked about the same customer.

use std::collections::BTreeMap;
use std::path::Path;

use egui_plot::{Bar, BarChart};
use polars::prelude::*;

use crate::core::{ColumnMapping, Model, Prediction, Result, expected_columns, plan_binding, read_table_inferred};
use crate::gui::command::Command;
use crate::gui::ctx::Ctx;
use crate::gui::outputs::{FieldDefault, FormDefaults};
use crate::gui::widgets::{plot, plot_frame};

/// The Predict screen.
#[derive(Default)]
pub struct PredictPanel {
    defaults: Option<FormDefaults>,
    /// Whose defaults were asked for (a model's SHA-256).
    requested: Option<String>,
    values: BTreeMap<String, String>,
    /// The last prediction, with the row it was for.
    last: Option<(BTreeMap<String, String>, Prediction)>,
    error: Option<String>,
    in_flight: bool,
    /// The form changed since the last request.
    dirty: bool,
    /// The data row to load (1-based).
    load_row: u64,
}

impl PredictPanel {
    /// The row to predict (the form's values).
    pub fn row(&self) -> BTreeMap<String, String> {
        self.values.clone()
    }

    /// Whether the form's defaults for `sha` were asked for.
    pub fn wants_defaults(&self, sha: &str) -> bool {
        self.requested.as_deref() != Some(sha)
    }

    /// Set one field, as typing in the form would.
    pub fn set_value(&mut self, column: &str, value: &str) {
        self.values.insert(column.to_string(), value.to_string());
        self.dirty = true;
    }

    /// The form's defaults for `sha` are being prepared.
    pub fn defaults_requested(&mut self, sha: &str) {
        self.requested = Some(sha.to_string());
    }

    /// A prediction request is on its way.
    pub fn prediction_started(&mut self) {
        self.in_flight = true;
        self.dirty = false;
    }

    /// The form's defaults arrived: fields the form already has (typed for another model) keep
    /// their values, the others start at the defaults.
    pub fn set_defaults(&mut self, defaults: FormDefaults) {
        for f in &defaults.fields {
            self.values.entry(f.column.clone()).or_insert_with(|| f.value.clone());
        }
        self.defaults = Some(defaults);
        self.last = None;
        self.dirty = true;
    }

    /// A row loaded from a file replaces the form's values.
    pub fn set_row(&mut self, row: BTreeMap<String, String>) {
        self.values.extend(row);
        self.dirty = true;
    }

    /// A prediction arrived for a model that is no longer the current one.
    pub fn prediction_discarded(&mut self) {
        self.in_flight = false;
        self.dirty = true;
    }

    /// A prediction arrived (or failed).
    pub fn set_result(&mut self, result: std::result::Result<(BTreeMap<String, String>, Prediction), String>) {
        self.in_flight = false;
        match result {
            Ok(last) => {
                self.last = Some(last);
                self.error = None;
            }
            Err(e) => self.error = Some(e),
        }
    }

    /// Draw it.
    pub fn ui(&mut self, ctx: &mut Ctx<'_>, ui: &mut egui::Ui) {
        let s = ctx.s;
        let Some(model) = ctx.model_or_hint(ui) else { return };
        let sha = model.info().sha256.clone();
        let name = model.info().name.clone();
        if self.wants_defaults(&sha) {
            ctx.send(Command::LoadFormDefaults);
        }
        let Some(defaults) = self.defaults.as_ref().filter(|d| d.model_sha == sha) else {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label(s.preparing_form);
            });
            return;
        };
        ui.heading(format!("{} — {name}", s.predict_one));
        ui.horizontal(|ui| {
            let file = ctx.ws.score_data.clone().or_else(|| ctx.ws.form_reference.clone());
            let label = ui.label(s.load_row);
            ui.add(egui::DragValue::new(&mut self.load_row).range(1..=u64::MAX)).labelled_by(label.id);
            let name = file.as_ref().map_or_else(|| s.no_file.to_string(), |f| crate::gui::widgets::file_name(f));
            let load = ui.add_enabled(file.is_some(), egui::Button::new(format!("{} {name}", s.load_from)));
            if load.on_disabled_hover_text(s.choose_data_first).clicked() {
                ctx.send(Command::LoadFormRow(self.load_row.max(1)));
            }
        });
        let mut changed = false;
        ui.columns(2, |cols| {
            egui::ScrollArea::vertical().id_salt("form").show(&mut cols[0], |ui| {
                egui::Grid::new("form").num_columns(2).striped(true).show(ui, |ui| {
                    for field in &defaults.fields {
                        let value = self.values.entry(field.column.clone()).or_default();
                        let label = ui.label(&field.column);
                        changed |= field_ui(ui, s, field, value, label.id);
                        ui.end_row();
                    }
                });
            });
            result_ui(&mut cols[1], ctx.s, self.last.as_ref().map(|(_, p)| p), self.error.as_deref());
        });
        self.dirty |= changed;
        if self.dirty && !self.in_flight {
            ctx.send(Command::PredictRow);
        }
    }
}

/// One input: a dropdown for categories, a drag value for numbers (any value; a badge says when it
/// is outside the reference's 1st–99th percentiles), and a toggle for a missing number.
fn field_ui(
    ui: &mut egui::Ui,
    s: &crate::gui::i18n::Strings,
    field: &FieldDefault,
    value: &mut String,
    label: egui::Id,
) -> bool {
    if !field.choices.is_empty() {
        let mut changed = false;
        egui::ComboBox::from_id_salt(&field.column).selected_text(value.as_str()).show_ui(ui, |ui| {
            for choice in &field.choices {
                changed |= ui.selectable_value(value, choice.clone(), choice).changed();
            }
        });
        return changed;
    }
    let mut changed = false;
    ui.horizontal(|ui| {
        let missing = value.trim().is_empty();
        let mut number: f64 = value.trim().parse().unwrap_or(field.range.map_or(0.0, |(lo, hi)| (lo + hi) / 2.0));
        let (low, high) = field.range.unwrap_or((-1.0, 1.0));
        let speed = ((high - low) / 200.0).clamp(0.01, 100.0);
        let mut drag = egui::DragValue::new(&mut number).speed(speed);
        if field.integer {
            drag = drag.fixed_decimals(0).speed(speed.max(0.25));
        }
        let response = ui.add_enabled(!missing, drag).labelled_by(label);
        if response.changed() {
            *value = if field.integer { format!("{}", number.round()) } else { format!("{number}") };
            changed = true;
        }
        let mut is_missing = missing;
        if ui.toggle_value(&mut is_missing, "∅").on_hover_text(s.missing_tip).changed() {
            *value = if is_missing { String::new() } else { field.value.clone() };
            changed = true;
        }
        if let (Some((lo, hi)), false) = (field.range, missing)
            && (number < lo || number > hi)
        {
            ui.colored_label(ui.visuals().warn_fg_color, s.outside_range)
                .on_hover_text(format!("{} [{lo:.4}, {hi:.4}]", s.training_range));
        }
    });
    changed
}

fn result_ui(ui: &mut egui::Ui, s: &crate::gui::i18n::Strings, last: Option<&Prediction>, error: Option<&str>) {
    if let Some(e) = error {
        ui.colored_label(ui.visuals().error_fg_color, e);
    }
    let Some(p) = last else {
        ui.spinner();
        return;
    };
    if let Some(label) = &p.label {
        ui.heading(format!("{}: {label}", s.predicted_label));
    }
    for v in &p.values {
        ui.heading(format!("{}: {v:.4}", s.predicted_value));
    }
    ui.label(format!("{}: {:.2} ms", s.latency, p.latency_ms)).on_hover_text(s.latency_tip);
    if !p.probabilities.is_empty() {
        ui.label(s.class_probabilities);
        let bars: Vec<Bar> = p
            .probabilities
            .iter()
            .enumerate()
            .map(|(i, (class, prob))| Bar::new(i as f64, *prob).name(format!("{class}: {prob:.4}")).width(0.6))
            .collect();
        let labels: Vec<String> = p.probabilities.iter().map(|(c, prob)| format!("{c}: {prob:.4}")).collect();
        for l in &labels {
            ui.monospace(l);
        }
        plot_frame(ui, |ui| {
            plot(ui, "probabilities", 0, s.class, s.probability).height(180.0).include_y(0.0).include_y(1.0).show(
                ui,
                |p| {
                    p.bar_chart(BarChart::new("p", bars));
                },
            );
        });
    }
}

/// The form for `model`: the columns it reads, with defaults from `reference` when given.
pub fn form_defaults(model: &Model, reference: Option<&Path>) -> Result<FormDefaults> {
    let info = model.info();
    let frame = reference.map(|r| read_table_inferred(r, &[])).transpose()?;
    let columns: Vec<String> = match &frame {
        Some(df) => {
            let names: Vec<String> = df.get_column_names().iter().map(|c| c.to_string()).collect();
            let (binding, _) = plan_binding(info, &names, &ColumnMapping::default(), &[]);
            binding.map(|b| b.columns()).unwrap_or_else(|| expected_columns(info))
        }
        None => expected_columns(info),
    };
    let fields = columns
        .into_iter()
        .map(|column| {
            let known = info.known_categories.get(&column).cloned().unwrap_or_default();
            let series = frame.as_ref().and_then(|df| df.column(&column).ok()).map(|c| c.as_materialized_series());
            field_default(column, known, series)
        })
        .collect();
    Ok(FormDefaults { model_sha: info.sha256.clone(), fields })
}

fn field_default(column: String, known: Vec<String>, series: Option<&Series>) -> FieldDefault {
    let numeric = series.is_some_and(|s| s.dtype().is_primitive_numeric());
    if let Some(s) = series.filter(|_| numeric)
        && let Ok(f) = s.cast(&DataType::Float64)
        && let Ok(values) = f.f64()
    {
        let mut v: Vec<f64> = values.into_no_null_iter().filter(|x| x.is_finite()).collect();
        v.sort_by(f64::total_cmp);
        if !v.is_empty() {
            let q = |p: f64| crate::core::metrics::bootstrap::quantile(&v, p);
            let median = q(0.5);
            let integral = s.dtype().is_integer();
            let value = if integral { format!("{}", median.round()) } else { format!("{median}") };
            let range = Some((q(0.01), q(0.99)));
            return FieldDefault { column, value, choices: Vec::new(), range, integer: integral };
        }
    }
    let mut choices = known;
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    if let Some(s) = series
        && let Ok(text) = s.cast(&DataType::String)
        && let Ok(text) = text.str()
    {
        for v in text.iter().flatten() {
            *counts.entry(v.to_string()).or_default() += 1;
        }
    }
    if choices.is_empty() {
        choices = counts.keys().cloned().collect();
    }
    let value = counts.iter().max_by_key(|(_, n)| **n).map(|(v, _)| v.clone()).or_else(|| choices.first().cloned());
    FieldDefault { column, value: value.unwrap_or_default(), choices, range: None, integer: false }
}
