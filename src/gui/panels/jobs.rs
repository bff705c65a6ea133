//! The job list: every background job of this session, running or finished, with progress,
//! duration, outcome and a Cancel button.

use crate::gui::command::Command;
use crate::gui::ctx::Ctx;
use crate::gui::jobs::JobStatus;

/// The Jobs screen (stateless).
#[derive(Default)]
pub struct JobsPanel;

impl JobsPanel {
    /// Draw it.
    pub fn ui(&mut self, ctx: &mut Ctx<'_>, ui: &mut egui::Ui) {
        let s = ctx.s;
        ui.horizontal(|ui| {
            ui.heading(s.jobs);
            if ui.button(s.clear_finished).clicked() {
                ctx.send(Command::ClearFinishedJobs);
            }
        });
        if ctx.jobs.all().iter().all(|j| j.kind.is_quiet()) {
            ui.label(s.no_jobs);
            return;
        }
        let mut commands = Vec::new();
        egui::Grid::new("jobs").striped(true).num_columns(4).show(ui, |ui| {
            for h in [s.job, s.status, s.duration, ""] {
                ui.strong(h);
            }
            ui.end_row();
            for job in ctx.jobs.all().iter().rev().filter(|j| !j.kind.is_quiet()) {
                ui.label(&job.name);
                match &job.status {
                    JobStatus::Running => {
                        let p = &job.progress;
                        let text = format!("{} {} · {:.0} {}", p.rows_done, s.rows, p.rows_per_sec, s.rows_per_sec);
                        ui.add(
                            egui::ProgressBar::new(p.fraction.unwrap_or(0.0) as f32).text(text).desired_width(260.0),
                        );
                    }
                    JobStatus::Done => {
                        ui.colored_label(egui::Color32::from_rgb(60, 170, 90), s.done);
                    }
                    JobStatus::Cancelled => {
                        ui.colored_label(ui.visuals().warn_fg_color, s.cancelled);
                    }
                    JobStatus::Failed(e) => {
                        ui.colored_label(ui.visuals().error_fg_color, format!("{}: {e}", s.failed));
                    }
                }
                let took = job.took.unwrap_or_else(|| job.started.elapsed());
                ui.monospace(format!("{:.2} s", took.as_secs_f64()));
                if job.is_running() && ui.button(s.cancel).clicked() {
                    commands.push(Command::CancelJob(job.id));
                } else {
                    ui.label("");
                }
                ui.end_row();
            }
        });
        for c in commands {
            ctx.send(c);
        }
    }
}
