//! Carrying out commands: every menu item, button, shortcut and drop arrives here as a [`Command`].

use std::path::{Path, PathBuf};

use super::app::MiradorApp;
use super::command::{Command, DataSlot, Export, Tab};
use super::files::{Purpose, canonical, native_dialog, native_dialogs};
use super::jobs::JobKind;
use super::outputs::JobOutput;
use super::widgets::file_name;
use crate::core::Model;

impl MiradorApp {
    /// Carry out one command.
    pub fn handle(&mut self, ctx: &egui::Context, command: Command) {
        match command {
            Command::OpenModelDialog => self.ask_file(Purpose::Model, ""),
            Command::OpenModel(path) => self.open_model(ctx, path),
            Command::CloseModel(i) => {
                if i < self.models.len() {
                    let model = self.models.remove(i);
                    self.ws.models.retain(|p| p != &model.info().path);
                    self.ws.selected = self.ws.selected.min(self.models.len().saturating_sub(1));
                }
            }
            Command::SelectModel(i) => self.ws.selected = i,
            Command::OpenDataDialog(slot) => self.ask_file(Purpose::Data(slot), ""),
            Command::SetData(slot, path) => {
                self.ws.set_data(slot, path);
                if slot == DataSlot::Score && matches!(self.ws.tab, Tab::Model | Tab::Predict | Tab::Jobs) {
                    self.ws.tab = Tab::Score;
                }
            }
            Command::CheckData => self.check_data(ctx),
            Command::Score => self.score(ctx),
            Command::PredictRow => self.predict_row(ctx),
            Command::LoadFormDefaults => self.load_form_defaults(ctx),
            Command::LoadFormRow(n) => self.load_form_row(ctx, n),
            Command::LoadPage(file, page) => self.load_page(ctx, file, page),
            Command::SortTable(order) => self.sort_table(ctx, order),
            Command::Compare => self.compare(ctx),
            Command::Monitor => self.monitor(ctx),
            Command::RunCurrent => match self.ws.tab {
                Tab::Score => self.score(ctx),
                Tab::Compare => self.compare(ctx),
                Tab::Monitor => self.monitor(ctx),
                Tab::Predict => self.predict_row(ctx),
                Tab::Serve if self.server.is_none() => {
                    let config = self.panels.serve.config(&self.models, &self.ws.monitor);
                    self.start_server(ctx, config);
                }
                Tab::Deploy => self.replay_current(ctx),
                Tab::Model | Tab::Versions | Tab::Serve | Tab::Jobs => {}
            },
            Command::StartServer(config) => self.start_server(ctx, *config),
            Command::StopServer => self.stop_server(ctx),
            Command::RouteAction(route, action) => self.route_action(ctx, route.0, action),
            Command::Replay(spec) => self.replay(ctx, *spec),
            Command::CancelJob(id) => self.jobs.cancel(id),
            Command::ClearFinishedJobs => self.jobs.clear_finished(),
            Command::CancelAll => {
                for job in self.jobs.all().iter().filter(|j| j.is_running()) {
                    self.jobs.cancel(job.id);
                }
            }
            Command::ExportDialog(export) => {
                let name = self.suggested_name(&export);
                self.ask_file(Purpose::Save(export), &name);
            }
            Command::ExportTo(export, path) => self.export(ctx, export, path),
            Command::SavePlot { name, rect } => {
                let file: String = name.chars().map(|c| if c.is_alphanumeric() { c } else { '_' }).collect();
                self.ask_file(Purpose::Save(Export::Plot(rect)), &format!("{file}.png"));
            }
            Command::SetTab(tab) => self.ws.tab = tab,
            Command::SetLanguage(lang) => self.ws.lang = lang,
            Command::ToggleTheme => self.ws.dark = !self.ws.dark,
            Command::Dismiss(i) => {
                if i < self.notes.len() {
                    self.notes.remove(i);
                }
            }
            Command::RefreshRegistry => self.registry_job(ctx, |_| Ok(String::new())),
            Command::Quit => ctx.send_viewport_cmd(egui::ViewportCommand::Close),
            Command::Register { name, note } => self.register(ctx, name, note),
            Command::CheckGate { name, version, stage } => self.check_gate(ctx, name, version, stage),
            Command::Retrain(request) => self.retrain(ctx, *request),
            Command::Promote { name, version, stage, reason, gate } => self.registry_job(ctx, move |r| {
                r.promote_gated(&name, version, &stage, "", &reason, gate.map(|g| *g))?;
                Ok(format!("{name}@{stage} → v{version}"))
            }),
            Command::Rollback { name, stage, reason } => self.registry_job(ctx, move |r| {
                let v = r.rollback(&name, &stage, "", &reason)?;
                Ok(format!("{name}@{stage} → v{v}"))
            }),
        }
    }

    fn ask_file(&mut self, purpose: Purpose, suggested: &str) {
        let start = self.start_dir(&purpose);
        if native_dialogs() {
            if let Some(path) = native_dialog(purpose.clone(), &start, suggested) {
                self.chosen(purpose, path);
            }
        } else {
            self.picker.open(purpose, &start, suggested, &self.ws.recent);
        }
    }

    /// A file was chosen for `purpose`: remember its folder for the next time, and use it.
    pub(super) fn chosen(&mut self, purpose: Purpose, path: PathBuf) {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            self.ws.last_dirs.insert(purpose.kind(), canonical(dir));
        }
        self.commands.push(purpose.command(path));
    }

    /// Where a dialog for `purpose` starts: beside the current file of that kind, else where the
    /// user last was for that kind, else the samples' folder.
    pub fn start_dir(&self, purpose: &Purpose) -> PathBuf {
        let parent = |p: &Path| p.parent().filter(|d| !d.as_os_str().is_empty()).map(Path::to_path_buf);
        let current = match purpose {
            Purpose::Model => self.current_model().and_then(|m| parent(&m.info().path)),
            Purpose::Data(slot) => self.ws.data(*slot).and_then(|p| parent(p)),
            Purpose::Save(Export::Predictions) => None,
            Purpose::Save(_) => None,
        };
        let fallback = match purpose {
            // Predictions go beside the data they came from unless the user saved some elsewhere.
            Purpose::Save(Export::Predictions) => self.ws.score_data.as_ref().and_then(|p| parent(p)),
            _ => None,
        };
        current
            .or_else(|| self.ws.last_dirs.get(&purpose.kind()).cloned())
            .or(fallback)
            .filter(|d| d.is_dir())
            .unwrap_or_else(|| self.home.clone())
    }

    /// The file name a save dialog proposes: named after what really produced the export.
    pub fn suggested_name(&self, export: &Export) -> String {
        let model = self.current_model().map_or_else(|| "model".to_string(), |m| m.info().name.clone());
        match export {
            Export::Predictions => {
                let producer = self.panels.score.result.as_ref().map_or(model, |r| r.model_name.clone());
                format!("{producer}_predictions.csv")
            }
            Export::CompareTable => "comparison.csv".into(),
            Export::DriftTable => "drift.csv".into(),
            Export::ProblemsTable => "contract_problems.csv".into(),
            Export::ModelCard => format!("{model}_MODEL_CARD.md"),
            Export::ReferenceProfile => "reference_profile.json".into(),
            Export::Plot(_) => "plot.png".into(),
            Export::Bundle(crate::core::bundle::ModelSource::Registry { name, version }) => {
                format!("{name}-v{version}-bundle")
            }
            Export::Bundle(crate::core::bundle::ModelSource::File(_)) => format!("{model}-bundle"),
        }
    }

    fn open_model(&mut self, ctx: &egui::Context, path: PathBuf) {
        if let Some(i) = self.models.iter().position(|m| m.info().path == path) {
            self.ws.selected = i;
            return;
        }
        if self.ws.models.contains(&path) {
            return; // already opening
        }
        self.ws.models.push(path.clone());
        self.ws.remember(&path);
        let name = format!("{} {}", self.strings().job_open, file_name(&path));
        self.jobs.spawn(ctx, JobKind::OpenModel(path.clone()), name, move |_, _| {
            Ok(JobOutput::ModelOpened(Box::new(Model::load(&path)?)))
        });
    }
}
