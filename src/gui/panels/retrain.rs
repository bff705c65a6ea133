//! Retrain… on the Versions screen: the chosen model's training command (remembered per model), the
//! new data, the holdout and its label column, the gate and the stage; Retrain runs `mirador
//! retrain`'s process as a job (its output line by line in the job's progress, Cancel kills its
//! process group), registers the candidate and judges it; the result shows the verdict, the gate's
//! rules and the candidate against the stage's version in the Compare views (metrics with paired
//! intervals, curves, agreement and flipped rows, latency). **Promote** is enabled only when every
//! check passed; a refusal is already in the registry's history. The registry (and its timeline)
//! is read again afterwards.

use std::path::PathBuf;
use std::time::Duration;

use crate::core::registry::Index;
use crate::core::retrain::{RetrainReport, RetrainRequest};
use crate::gui::command::Command;
use crate::gui::ctx::Ctx;
use crate::gui::jobs::JobId;
use crate::gui::panels::compare::ComparisonView;
use crate::gui::widgets::{job_progress, labelled};

/// The Retrain… section.
#[derive(Default)]
pub struct RetrainPanel {
    /// The running retrain.
    pub job: Option<JobId>,
    /// The last retrain's report.
    pub result: Option<RetrainReport>,
    /// The candidate against the stage's version.
    pub views: ComparisonView,
    open: bool,
}

impl RetrainPanel {
    /// A retrain finished.
    pub fn set_result(&mut self, report: RetrainReport) {
        self.job = None;
        self.result = Some(report);
        self.views.generation += 1;
    }

    /// Draw it for the registered model `name` (`index`: the registry as last read).
    pub fn ui(&mut self, ctx: &mut Ctx<'_>, ui: &mut egui::Ui, name: &str, index: Option<&Index>) {
        let s = ctx.s;
        ui.separator();
        let header =
            egui::CollapsingHeader::new(format!("{} {name}…", s.retrain_title)).open(self.open.then_some(true));
        let shown = header.show(ui, |ui| {
            ui.label(s.retrain_intro);
            let r = &mut ctx.ws.retrain;
            let command = r.commands.entry(name.to_string()).or_default();
            labelled(
                ui,
                s.retrain_command,
                s.retrain_command_tip,
                egui::TextEdit::singleline(command).desired_width(520.0),
            );
            ui.horizontal(|ui| {
                labelled(
                    ui,
                    s.retrain_data,
                    s.retrain_data_tip,
                    egui::TextEdit::singleline(&mut r.data).desired_width(240.0),
                );
                let holdout = egui::TextEdit::singleline(&mut r.holdout).desired_width(240.0);
                labelled(ui, s.retrain_holdout, s.retrain_holdout_tip, holdout);
            });
            ui.horizontal(|ui| {
                labelled(
                    ui,
                    s.target_column,
                    s.target_tip,
                    egui::TextEdit::singleline(&mut r.target).desired_width(110.0),
                );
                labelled(
                    ui,
                    s.retrain_gate,
                    s.retrain_gate_tip,
                    egui::TextEdit::singleline(&mut r.gate).desired_width(260.0),
                );
                labelled(
                    ui,
                    s.retrain_stage,
                    s.retrain_stage_tip,
                    egui::TextEdit::singleline(&mut r.stage).desired_width(90.0),
                );
                let timeout = egui::DragValue::new(&mut r.timeout_secs).range(1.0..=86_400.0).suffix(" s");
                labelled(ui, s.retrain_timeout, s.retrain_timeout_tip, timeout);
            });
            let running = self.job.is_some_and(|j| ctx.jobs.get(j).is_some_and(|j| j.is_running()));
            let ready = !command.trim().is_empty()
                && !r.data.trim().is_empty()
                && !r.holdout.trim().is_empty()
                && !r.target.trim().is_empty()
                && !running;
            let request = RetrainRequest {
                registry: ctx.ws.registry.clone(),
                name: name.to_string(),
                command: command.clone(),
                data: PathBuf::from(r.data.trim()),
                holdout: PathBuf::from(r.holdout.trim()),
                target: r.target.trim().to_string(),
                gate: r.gate.clone(),
                stage: r.stage.trim().to_string(),
                timeout: Duration::from_secs_f64(r.timeout_secs),
                allow_contract_change: false,
                bundle: None,
                promote: false,
            };
            let button = ui.add_enabled(ready, egui::Button::new(format!("▸ {}", s.retrain_button)));
            if button.on_disabled_hover_text(s.retrain_needs).clicked() {
                self.result = None;
                ctx.send(Command::Retrain(Box::new(request)));
            }
            if let Some(job) = self.job {
                job_progress(ui, ctx, job);
            }
            if let Some(report) = self.result.as_ref().filter(|r| !running && r.name == name) {
                let now = index.and_then(|i| i.models.get(name)).and_then(|e| e.stages.get(&report.stage)).copied();
                report_ui(ui, ctx, name, report, now);
                if let Some(comparison) = &report.comparison {
                    self.views.ui(ctx, ui, comparison, "retrain-comparison", 420.0);
                }
            }
        });
        self.open = !shown.fully_closed();
    }
}

fn report_ui(ui: &mut egui::Ui, ctx: &mut Ctx<'_>, name: &str, r: &RetrainReport, now: Option<u32>) {
    let s = ctx.s;
    // Promoted by the run, or since (the button below): the stage names the candidate.
    let promoted = r.promoted || (r.candidate.is_some() && now == r.candidate);
    let verdict = match (r.candidate, promoted) {
        (Some(v), true) => format!("✔ {}: {} {v} → {}", s.retrain_promoted, s.version_word, r.stage),
        (Some(v), false) if r.passed => {
            format!("✔ {}: {} {v}; {} {} {}", s.retrain_passed, s.version_word, r.stage, s.retrain_stays, r.champion)
        }
        (Some(v), false) => {
            format!("✖ {}: {} {v}; {} {} {}", s.retrain_refused, s.version_word, r.stage, s.retrain_stays, r.champion)
        }
        (None, _) => format!("✖ {}; {} {} {}", s.retrain_refused, r.stage, s.retrain_stays, r.champion),
    };
    let colour = if r.passed { ui.visuals().text_color() } else { ui.visuals().warn_fg_color };
    ui.colored_label(colour, verdict);
    if let (Some(version), true, false) = (r.candidate, r.passed, promoted) {
        let label = format!("✔ {} v{version} → {}", s.promote, r.stage);
        let moved = now != Some(r.champion);
        let button = ui.add_enabled(!moved, egui::Button::new(label)).on_hover_text(s.retrain_promote_tip);
        if button.on_disabled_hover_text(s.retrain_stage_moved).clicked() {
            ctx.send(Command::Promote {
                name: name.to_string(),
                version,
                stage: r.stage.clone(),
                reason: format!("retrain {}: passed the gate against version {}", r.run_id, r.champion),
                gate: r.gate_record.clone().map(Box::new),
            });
        }
    }
    for d in &r.contract_differences {
        ui.colored_label(ui.visuals().warn_fg_color, format!("• {d}"));
    }
    let shown = ["accuracy", "precision", "recall", "f1", "roc_auc", "mae", "rmse", "r2"];
    egui::Grid::new("retrain-metrics").striped(true).num_columns(3).show(ui, |ui| {
        ui.strong(s.metric_word);
        ui.strong(s.retrain_candidate);
        ui.strong(format!("{} {}", s.version_word, r.champion));
        ui.end_row();
        for (metric, candidate, champion) in r.metrics.iter().filter(|(m, _, _)| shown.contains(&m.as_str())) {
            let f = |v: &Option<f64>| v.map_or_else(|| "—".to_string(), |v| format!("{v:.4}"));
            ui.label(metric);
            ui.monospace(f(candidate));
            ui.monospace(f(champion));
            ui.end_row();
        }
    });
    for g in &r.gate {
        ui.label(format!("• {g}"));
    }
    ui.label(format!("{} {} ({:.1} s)", s.retrain_log, r.run_log.display(), r.duration_secs));
}
