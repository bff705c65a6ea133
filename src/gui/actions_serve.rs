//! Starting and stopping the window's server, in jobs: loading and warming the models and letting
//! requests in flight finish both take time the window does not wait for.

use super::app::MiradorApp;
use super::jobs::JobKind;
use super::outputs::JobOutput;
use crate::core::Error;
use crate::core::serving::config::ServeConfig;

impl MiradorApp {
    /// Start serving `config` (one server at a time).
    pub(super) fn start_server(&mut self, ctx: &egui::Context, config: ServeConfig) {
        let s = self.strings();
        let Some(launcher) = self.launcher.clone() else {
            self.panels.serve.busy = false;
            return self.note(s.serve_unavailable.to_string(), true);
        };
        if self.server.is_some() {
            self.panels.serve.busy = false;
            return;
        }
        self.panels.serve.busy = true;
        self.jobs.spawn(ctx, JobKind::Serve, s.job_serve, move |_, _| {
            config.check()?;
            Ok(JobOutput::ServerStarted(launcher(config)?))
        });
    }

    /// Stop the running server: no new requests, those in flight finish, the log is closed.
    pub(super) fn stop_server(&mut self, ctx: &egui::Context) {
        let Some(server) = self.server.take() else {
            self.panels.serve.busy = false;
            self.panels.serve.running = None;
            return;
        };
        self.panels.serve.busy = true;
        let name = self.strings().job_stop_serve;
        self.jobs.spawn(ctx, JobKind::Serve, name, move |_, _| {
            let url = server.url();
            server.stop().map_err(|e| Error::internal(format!("{url}: {e}")))?;
            Ok(JobOutput::ServerStopped(url))
        });
    }
}
