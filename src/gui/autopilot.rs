//! The autopilot and screenshots: drive the app to one screen with its work done and save the
//! window, or cut a plot out of the window and save it.

use super::app::MiradorApp;
use super::command::Command;
use super::jobs::JobKind;
use super::outputs::JobOutput;
use super::shots::{ShotTarget, save_png};
use super::widgets::file_name;

impl MiradorApp {
    /// Advance the autopilot: once the models are open, show its screen and run its work; once
    /// every job is done and a few frames have settled, ask for the screenshot.
    pub(super) fn drive_autopilot(&mut self, ctx: &egui::Context) {
        let loading = self.models.len() < self.ws.models.len() || self.ws.models.is_empty();
        let running = self.jobs.any_running();
        let Some(a) = &mut self.autopilot else { return };
        ctx.request_repaint();
        if !a.started {
            if !loading {
                a.started = true;
                self.ws.tab = a.tab;
                // A screenshot's server must not collide with one already on the default port.
                if a.tab == super::command::Tab::Serve {
                    self.panels.serve.port = 0;
                }
                self.commands.push(Command::RunCurrent);
            }
            return;
        }
        a.frames_idle = if running { 0 } else { a.frames_idle + 1 };
        if a.frames_idle > 20 && !a.requested {
            a.requested = true;
            let path = a.screenshot.clone();
            self.request_shot(ctx, ShotTarget::Autopilot(path));
        }
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
