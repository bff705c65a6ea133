//! Score a file: the contract check first (a table of problems, blocking or not), then scoring as
//! a background job with progress and Cancel, then the predictions in a virtualised table with a
//! histogram of the scores, ready to save as CSV or Parquet.

use std::path::PathBuf;

use egui_plot::{Bar, BarChart, Plot};

use crate::core::writer::SortOrder;
use crate::core::{ContractReport, Severity};
use crate::gui::command::{Command, DataSlot, Export};
use crate::gui::ctx::Ctx;
use crate::gui::jobs::JobId;
use crate::gui::outputs::ScoredTable;
use crate::gui::stamp::{Stamp, out_of_date_ui};
use crate::gui::table::{PageCache, paged_table};
use crate::gui::widgets::{data_row, file_name, job_progress, saveable_plot};

/// What the Score screen's results depend on: the model and the data file.
pub fn score_stamp(model: &crate::core::Model, data: &std::path::Path) -> Stamp {
    let info = model.info();
    Stamp::new().with("model", format!("{} ({})", info.name, &info.sha256[..12])).with("data", data.display())
}

/// The Score screen.
#[derive(Default)]
pub struct ScorePanel {
    /// The (model SHA-256, file) the check below is for.
    checked: Option<(String, PathBuf)>,
    /// The check's report for the current model and file.
    pub report: Option<ContractReport>,
    /// The running check or scoring job.
    pub job: Option<JobId>,
    /// The last predictions (kept on screen while a new run computes).
    pub result: Option<ScoredTable>,
    /// The pages of the predictions' file in memory.
    pub pages: PageCache,
    /// The sorted copy shown instead of the file, and its order.
    pub sorted: Option<(std::path::PathBuf, SortOrder)>,
}

impl ScorePanel {
    /// A check for (`sha`, `path`) has started.
    pub fn check_started(&mut self, sha: &str, path: PathBuf, job: JobId) {
        self.checked = Some((sha.to_string(), path));
        self.report = None;
        self.job = Some(job);
    }

    /// The check's report arrived.
    pub fn set_report(&mut self, report: ContractReport) {
        self.report = Some(report);
        self.job = None;
    }

    /// New predictions arrived.
    pub fn set_result(&mut self, result: ScoredTable) {
        self.pages = PageCache::new(result.file.clone());
        self.sorted = None;
        self.result = Some(result);
    }

    /// A sorted copy of `source` arrived (ignored if the predictions changed meanwhile).
    pub fn set_sorted(&mut self, source: &std::path::Path, file: std::path::PathBuf, order: SortOrder) {
        if self.result.as_ref().is_some_and(|r| r.file == source) {
            self.pages = PageCache::new(file.clone());
            self.sorted = Some((file, order));
        }
    }

    /// The check could not run (unreadable file): shown by the app's note; the screen stops waiting.
    pub fn check_failed(&mut self) {
        self.job = None;
    }

    /// Draw it.
    pub fn ui(&mut self, ctx: &mut Ctx<'_>, ui: &mut egui::Ui) {
        let s = ctx.s;
        let Some(model) = ctx.model_or_hint(ui).cloned() else { return };
        let sha = model.info().sha256.clone();
        ui.heading(format!("{} — {}", s.score_file, model.info().name));
        data_row(ui, ctx, DataSlot::Score, s.data_file);
        let Some(data) = ctx.ws.score_data.clone() else {
            ui.label(s.drop_hint);
            return;
        };
        let now = score_stamp(&model, &data);
        if self.checked.as_ref() != Some(&(sha.clone(), data.clone())) && self.job.is_none() {
            ctx.send(Command::CheckData);
        }
        if let Some(report) = &self.report {
            report_ui(ui, ctx, report);
        }
        let running = self.job.is_some_and(|j| ctx.jobs.get(j).is_some_and(|j| j.is_running()));
        ui.horizontal(|ui| {
            let ready = self.report.as_ref().is_some_and(ContractReport::passed) && !running;
            if ui.add_enabled(ready, egui::Button::new(s.score_button)).on_hover_text(s.score_tip).clicked() {
                ctx.send(Command::Score);
            }
            if let Some(result) = &self.result {
                // Out of date, the button says whose predictions it saves (the file is named so too).
                let label = if result.stamp == now {
                    s.save_predictions.to_string()
                } else {
                    format!("{} {}…", s.save_predictions_of, result.model_name)
                };
                if ui.add_enabled(!running, egui::Button::new(label)).clicked() {
                    ctx.send(Command::ExportDialog(Export::Predictions));
                }
            }
        });
        if let Some(job) = self.job {
            job_progress(ui, ctx, job);
        }
        if let Some(result) = &self.result {
            let what = format!("{} {} — {}", s.predictions_of, result.model_name, file_name(&result.data));
            out_of_date_ui(ui, s, &result.stamp, &now, &what);
            let sorted = self.sorted.as_ref().map(|(_, o)| o);
            result_ui(ui, ctx, result, &mut self.pages, sorted);
        }
    }
}

fn report_ui(ui: &mut egui::Ui, ctx: &mut Ctx<'_>, report: &ContractReport) {
    let s = ctx.s;
    let blocking = report.blocking().count();
    if report.passed() {
        ui.colored_label(egui::Color32::from_rgb(60, 170, 90), format!("✔ {}", s.contract_passed));
    } else {
        ui.colored_label(ui.visuals().error_fg_color, format!("✖ {}: {blocking}", s.contract_blocking));
    }
    if report.problems.is_empty() {
        return;
    }
    if ui.small_button(s.save_table_csv).clicked() {
        ctx.send(Command::ExportDialog(Export::ProblemsTable));
    }
    egui::CollapsingHeader::new(format!("{} ({})", s.problems, report.problems.len()))
        .default_open(!report.passed())
        .show(ui, |ui| {
            egui::Grid::new("problems").striped(true).num_columns(6).show(ui, |ui| {
                for h in [s.severity, s.column, s.row, s.value, s.count, s.message] {
                    ui.strong(h);
                }
                ui.end_row();
                for p in &report.problems {
                    let (text, color) = match p.severity {
                        Severity::Blocking => (s.blocking, ui.visuals().error_fg_color),
                        Severity::Warning => (s.warning, ui.visuals().warn_fg_color),
                        Severity::Info => (s.info, ui.visuals().weak_text_color()),
                    };
                    ui.colored_label(color, text);
                    ui.monospace(p.column.as_deref().or(p.input.as_deref()).unwrap_or("—"));
                    ui.label(p.row.map_or_else(|| "—".into(), |r| r.to_string()));
                    ui.monospace(p.value.as_deref().unwrap_or("—"));
                    // A schema problem (a column missing or unused) concerns every row.
                    ui.label(if p.row.is_none() { s.all_rows.to_string() } else { p.count.to_string() });
                    ui.label(&p.message);
                    ui.end_row();
                }
            });
        });
}

fn result_ui(
    ui: &mut egui::Ui,
    ctx: &mut Ctx<'_>,
    result: &ScoredTable,
    pages: &mut PageCache,
    sorted: Option<&SortOrder>,
) {
    let s = ctx.s;
    let sum = &result.summary;
    ui.separator();
    ui.label(format!(
        "{}: {} {} · {:.2} s · {:.0} {} · {} — {}",
        s.scored,
        sum.rows,
        s.rows,
        sum.elapsed_secs,
        sum.rows_per_sec,
        s.rows_per_sec,
        file_name(&result.data),
        result.model_name
    ));
    for w in &sum.warnings {
        ui.colored_label(ui.visuals().warn_fg_color, &w.message);
    }
    if let Some(column) = &result.score_column {
        let bars: Vec<Bar> =
            result.histogram.iter().map(|&(lo, hi, n)| Bar::new((lo + hi) / 2.0, n as f64).width(hi - lo)).collect();
        saveable_plot(ui, ctx, &format!("{} {column}", s.histogram), |ui| {
            Plot::new("score-histogram")
                .height(160.0)
                .allow_drag(false)
                .x_axis_label(column.clone())
                .y_axis_label(s.rows)
                .show(ui, |p| {
                    p.bar_chart(BarChart::new(column.clone(), bars));
                });
        });
    }
    paged_table(ui, "predictions", &result.columns, result.rows, pages, sorted, ctx.commands);
}
