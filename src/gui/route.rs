//! Finished jobs routed to the screen that asked for them; a failure is said once.

use super::app::MiradorApp;
use super::jobs::{Finished, JobKind};
use super::outputs::JobOutput;
use crate::core::Error;

impl MiradorApp {
    /// Hand a finished job's result to the screen that asked for it.
    pub(super) fn route(&mut self, finished: Finished) {
        let s = self.strings();
        let Finished { kind, name, result, .. } = finished;
        let output = match result {
            Ok(output) => output,
            Err(e) => return self.job_failed(&kind, &name, &e),
        };
        match output {
            JobOutput::ModelOpened(model) => {
                self.models.push(*model);
                let ws = &self.ws;
                self.models.sort_by_key(|m| ws.models.iter().position(|p| p == &m.info().path).unwrap_or(usize::MAX));
            }
            JobOutput::Checked { model_sha, report } => {
                if self.current_model().is_some_and(|m| m.info().sha256 == model_sha) {
                    self.panels.score.set_report(report);
                }
            }
            JobOutput::Scored(table) => {
                self.panels.score.job = None;
                self.panels.score.set_result(*table);
            }
            JobOutput::Page(page) => self.panels.score.pages.insert(&page.file, page.number, page.frame),
            JobOutput::Sorted { source, file, order } => self.panels.score.set_sorted(&source, file, order),
            JobOutput::Predicted { model_sha, row, prediction } => {
                if self.current_model().is_some_and(|m| m.info().sha256 == model_sha) {
                    self.panels.predict.set_result(Ok((row, prediction)));
                } else {
                    // Another model's answer: not shown, but the form may ask again.
                    self.panels.predict.prediction_discarded();
                }
            }
            JobOutput::FormDefaults(defaults) => self.panels.predict.set_defaults(*defaults),
            JobOutput::FormRow(row) => self.panels.predict.set_row(row),
            JobOutput::Compared(c, stamp) => {
                self.panels.compare.job = None;
                self.panels.compare.set_result(*c, stamp);
            }
            JobOutput::Monitored(m, stamp) => {
                self.panels.monitor.job = None;
                self.panels.monitor.set_result(*m, stamp);
            }
            JobOutput::Saved(path) => self.note(format!("{} {}", s.saved, path.display()), false),
            JobOutput::Registry { index, done } => {
                self.panels.versions.index = Some(index);
                if !done.is_empty() {
                    self.note(done, false);
                }
            }
            JobOutput::Gate(gate) => self.panels.versions.gate = Some(*gate),
            JobOutput::Retrained(report) => {
                self.panels.retrain.set_result(*report);
                // The registry changed (a candidate, a promotion or a refusal): read it again.
                self.panels.versions.requested = false;
            }
            JobOutput::ServerStarted(server) => {
                self.panels.serve.busy = false;
                let url = server.url();
                self.note(format!("{} {url}", s.serve_started), false);
                self.panels.serve.running = Some(super::panels::serve::Running {
                    url,
                    models: server.models(),
                    stats: server.stats(),
                    routes: server.routes(),
                    quality: server.quality(),
                    log_dir: server.log_dir(),
                });
                self.server = Some(server);
            }
            JobOutput::Replayed(report, key) => self.panels.deploy.replayed(*report, key),
            JobOutput::ServerStopped(how) => {
                self.panels.serve.busy = false;
                self.panels.serve.running = None;
                self.note(format!("{}: {how}", s.serve_stopped), false);
            }
        }
    }

    /// A job failed: say so once and free the screen that waited on it.
    fn job_failed(&mut self, kind: &JobKind, name: &str, error: &Error) {
        let s = self.strings();
        match kind {
            // The form shows its own error beside the inputs; no note on top.
            JobKind::Predict => return self.panels.predict.set_result(Err(error.to_string())),
            JobKind::OpenModel(path) => self.ws.models.retain(|p| p != path),
            JobKind::Check => self.panels.score.check_failed(),
            JobKind::Score => self.panels.score.job = None,
            JobKind::Compare => self.panels.compare.job = None,
            JobKind::Monitor => self.panels.monitor.job = None,
            JobKind::Serve => self.panels.serve.busy = false,
            JobKind::Replay => self.panels.deploy.replaying = false,
            JobKind::Retrain => {
                self.panels.retrain.job = None;
                self.panels.versions.requested = false;
            }
            JobKind::FormDefaults | JobKind::Page | JobKind::Export | JobKind::Registry | JobKind::Gate => {}
        }
        if error.is_cancelled() {
            self.note(format!("{name}: {}", s.cancelled), false);
        } else {
            self.note(format!("{name}: {error}"), true);
        }
    }
}
