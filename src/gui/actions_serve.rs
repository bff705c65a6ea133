//! Starting and stopping the window's server, acting on its routes and replaying rollouts, in jobs:
//! loading and warming models, letting requests in flight finish, writing the registry and scoring
//! recorded traffic all take time the window does not wait for.

use super::app::MiradorApp;
use super::jobs::JobKind;
use super::outputs::JobOutput;
use crate::core::Error;
use crate::core::serving::config::{ModelSpec, ServeConfig};
use crate::core::serving::controller::{Action, act};
use crate::core::serving::route::Route;
use crate::core::serving::source::ServedModel;
use crate::gui::command::ReplaySpec;

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

    /// Promote, abort or weigh a live route's challenger; the registry records promotions and
    /// aborts, so the Versions screen reads it back.
    pub(super) fn route_action(&mut self, ctx: &egui::Context, route: std::sync::Arc<Route>, action: Action) {
        let by = format!("{} (Mirador window)", crate::core::registry::current_user());
        let name = format!("{} {}", self.strings().job_route, route.name);
        self.registry_job(ctx, move |registry| {
            act(&route, &action, registry.root(), &by)?;
            Ok(format!("{name}: {}", route.status().events.last().map_or(String::new(), |e| e.what.clone())))
        });
    }

    /// Replay a rollout on recorded traffic.
    pub(super) fn replay(&mut self, ctx: &egui::Context, spec: ReplaySpec) {
        let name = format!("{} {}", self.strings().job_replay, spec.request.data.display());
        self.jobs.spawn(ctx, JobKind::Replay, name, move |_, cancel| {
            let load = |r: &str| ServedModel::load(&ModelSpec { source: r.to_string(), name: None }, &spec.registry);
            let (champion, challenger) = (load(&spec.champion)?, load(&spec.challenger)?);
            let mut report = crate::core::rollout::replay(&champion.model, &challenger.model, &spec.request, cancel)?;
            report.champion = format!("{} ({})", champion.name, champion.version);
            report.challenger = format!("{} ({})", challenger.name, challenger.version);
            Ok(JobOutput::Replayed(Box::new(report), spec.key))
        });
    }

    /// Ctrl+Enter on Deploy: replay with the screen's settings (the defaults filled in first).
    pub(super) fn replay_current(&mut self, ctx: &egui::Context) {
        let current = self.models.get(self.ws.selected).or(self.models.first());
        self.panels.deploy.fill_defaults(&self.models, current, self.ws.monitor.current.as_deref());
        match self.panels.deploy.replay_spec(&self.ws.registry) {
            Ok(spec) => {
                self.panels.deploy.replaying = true;
                self.replay(ctx, spec);
            }
            Err(why) => self.note(why, true),
        }
    }
}
