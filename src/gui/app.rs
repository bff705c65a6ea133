//! The app: the workspace, the open models, the jobs and the panels; the frame layout; and the one
//! place where commands are carried out and finished jobs are routed to their screens.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use std::sync::Arc;

use crossbeam_channel::{Receiver, Sender, bounded};

use super::actions::ShotTarget;
use super::command::{Command, DataSlot, Export, Tab};
use super::ctx::Ctx;
use super::files::{FilePicker, Purpose, native_dialog, native_dialogs};
use super::i18n::{Lang, Strings};
use super::jobs::{Finished, JobKind, Jobs};
use super::outputs::JobOutput;
use super::panels::Panels;
use super::state::Workspace;
use super::widgets::file_name;
use crate::core::Model;

/// A message to the user: errors stay until dismissed, news fades after a few seconds.
pub struct Note {
    /// The text.
    pub text: String,
    /// Whether it reports a failure.
    pub error: bool,
    /// When it appeared.
    pub at: Instant,
}

/// A run of the app that shows one screen with its work done, saves a screenshot and closes
/// (`mirador gui --screen compare --screenshot out.png`; used for the README and the smoke test).
pub struct Autopilot {
    /// The screen.
    pub tab: Tab,
    /// Where the PNG goes.
    pub screenshot: PathBuf,
    started: bool,
    frames_idle: u32,
    requested: bool,
}

impl Autopilot {
    /// Show `tab`, run its work, save a screenshot to `screenshot`, close.
    pub fn new(tab: Tab, screenshot: PathBuf) -> Self {
        Self { tab, screenshot, started: false, frames_idle: 0, requested: false }
    }
}

impl MiradorApp {
    /// Advance the autopilot: once the models are open, show its screen and run its work; once
    /// every job is done and a few frames have settled, ask for the screenshot.
    fn drive_autopilot(&mut self, ctx: &egui::Context) {
        let loading = self.models.len() < self.ws.models.len() || self.ws.models.is_empty();
        let running = self.jobs.any_running();
        let Some(a) = &mut self.autopilot else { return };
        ctx.request_repaint();
        if !a.started {
            if !loading {
                a.started = true;
                self.ws.tab = a.tab;
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
}

/// The Mirador desktop app.
pub struct MiradorApp {
    /// What persists.
    pub ws: Workspace,
    /// Open models, in workspace order.
    pub models: Vec<Model>,
    /// Background jobs.
    pub jobs: Jobs,
    /// The screens.
    pub panels: Panels,
    /// Messages to the user.
    pub notes: Vec<Note>,
    picker: FilePicker,
    commands: Vec<Command>,
    /// Where relative sample paths and the picker start.
    home: PathBuf,
    /// CPU time of recent frames, for the frame-time readout.
    frame_ms: std::collections::VecDeque<f32>,
    autopilot: Option<Autopilot>,
    /// The theme last applied (fonts go in on the first frame too).
    applied_theme: Option<bool>,
    /// Screenshots come back from the renderer through this channel.
    pub(super) shots_tx: Sender<(Arc<egui::ColorImage>, ShotTarget)>,
    shots_rx: Receiver<(Arc<egui::ColorImage>, ShotTarget)>,
}

impl MiradorApp {
    /// An app over `ws`; it starts opening the workspace's models at once (in jobs).
    pub fn new(ws: Workspace, home: PathBuf) -> Self {
        let paths = ws.models.clone();
        let (shots_tx, shots_rx) = bounded(4);
        let mut app = Self {
            shots_tx,
            shots_rx,
            ws,
            models: Vec::new(),
            jobs: Jobs::default(),
            panels: Panels::default(),
            notes: Vec::new(),
            picker: FilePicker::default(),
            commands: Vec::new(),
            home,
            frame_ms: Default::default(),
            autopilot: None,
            applied_theme: None,
        };
        app.ws.models.clear();
        app.commands.extend(paths.into_iter().map(Command::OpenModel));
        app
    }

    /// Drive the app to a screenshot (see [`Autopilot`]).
    pub fn with_autopilot(mut self, autopilot: Autopilot) -> Self {
        self.autopilot = Some(autopilot);
        self
    }

    /// The UI text.
    pub fn strings(&self) -> &'static Strings {
        self.ws.lang.strings()
    }

    /// Queue a command, as a click would.
    pub fn send(&mut self, command: Command) {
        self.commands.push(command);
    }

    /// CPU time of the last frame's `ui`, in milliseconds.
    pub fn last_frame_ms(&self) -> f32 {
        self.frame_ms.back().copied().unwrap_or(0.0)
    }

    /// p99 of the recent frames' CPU time, in milliseconds.
    pub fn frame_p99_ms(&self) -> f32 {
        let mut v: Vec<f32> = self.frame_ms.iter().copied().collect();
        v.sort_by(f32::total_cmp);
        v.get(((v.len() as f32 * 0.99) as usize).min(v.len().saturating_sub(1))).copied().unwrap_or(0.0)
    }

    /// Draw one frame and carry out what it asked for.
    pub fn ui(&mut self, ui: &mut egui::Ui) {
        let start = Instant::now();
        let ctx = ui.ctx().clone();
        if self.applied_theme.is_none() {
            super::fonts::install(&ctx);
        }
        if self.applied_theme != Some(self.ws.dark) {
            ctx.set_theme(if self.ws.dark { egui::Theme::Dark } else { egui::Theme::Light });
            self.applied_theme = Some(self.ws.dark);
        }
        for finished in self.jobs.poll() {
            self.route(finished);
        }
        self.take_input(&ctx);
        self.layout(ui);
        if let Some(command) = self.picker.ui(&ctx, self.strings()) {
            self.commands.push(command);
        }
        self.notes_ui(&ctx);
        self.drive_autopilot(&ctx);
        while !self.commands.is_empty() {
            let commands = std::mem::take(&mut self.commands);
            for command in commands {
                self.handle(&ctx, command);
            }
        }
        if self.jobs.any_running() {
            ctx.request_repaint_after(Duration::from_millis(100));
        }
        // The first frame installs fonts and lays out everything once: start-up, not frame time.
        if ctx.cumulative_frame_nr() > 1 {
            self.frame_ms.push_back(start.elapsed().as_secs_f32() * 1000.0);
        }
        if self.frame_ms.len() > 240 {
            self.frame_ms.pop_front();
        }
    }

    fn layout(&mut self, ui: &mut egui::Ui) {
        let s = self.strings();
        let p99 = self.frame_p99_ms();
        let mut ctx = Ctx { s, models: &self.models, jobs: &self.jobs, ws: &mut self.ws, commands: &mut self.commands };
        egui::Panel::top("menu").show(ui, |ui| menu_bar(ui, &mut ctx));
        egui::Panel::bottom("status").show(ui, |ui| {
            ui.horizontal(|ui| {
                let running = ctx.jobs.all().iter().filter(|j| j.is_running()).count();
                ui.label(format!("{}: {running}", s.running_jobs));
                ui.separator();
                ui.label(format!("{} p99: {p99:.1} ms", s.frame_time)).on_hover_text(s.frame_time_tip);
                ui.separator();
                ui.label(s.shortcuts_hint);
            });
        });
        egui::Panel::left("models").resizable(true).default_size(220.0).show(ui, |ui| {
            self.panels.models.ui(&mut ctx, ui);
        });
        egui::CentralPanel::default().show(ui, |ui| {
            ui.horizontal(|ui| {
                for tab in Tab::ALL {
                    if ui.selectable_label(ctx.ws.tab == tab, s.tab(tab)).clicked() {
                        ctx.send(Command::SetTab(tab));
                    }
                }
            });
            ui.separator();
            match ctx.ws.tab {
                Tab::Model => self.panels.model.ui(&mut ctx, ui),
                Tab::Predict => self.panels.predict.ui(&mut ctx, ui),
                Tab::Score => self.panels.score.ui(&mut ctx, ui),
                Tab::Compare => self.panels.compare.ui(&mut ctx, ui),
                Tab::Monitor => self.panels.monitor.ui(&mut ctx, ui),
                Tab::Versions => self.panels.versions.ui(&mut ctx, ui),
                Tab::Jobs => self.panels.jobs.ui(&mut ctx, ui),
            }
        });
    }

    /// Dropped files, shortcuts and screenshots.
    fn take_input(&mut self, ctx: &egui::Context) {
        use egui::{Key, KeyboardShortcut, Modifiers};
        let shortcut = |m, k| KeyboardShortcut::new(m, k);
        let dropped: Vec<PathBuf> = ctx.input(|i| i.raw.dropped_files.iter().map(|f| f.path().to_path_buf()).collect());
        for path in dropped {
            let command = match path.extension().and_then(|e| e.to_str()) {
                Some("onnx") => Command::OpenModel(path),
                _ => Command::SetData(self.data_slot(), path),
            };
            self.commands.push(command);
        }
        let bindings = [
            (shortcut(Modifiers::COMMAND, Key::O), Command::OpenModelDialog),
            (shortcut(Modifiers::COMMAND, Key::D), Command::OpenDataDialog(self.data_slot())),
            (shortcut(Modifiers::COMMAND, Key::Enter), Command::RunCurrent),
            (shortcut(Modifiers::NONE, Key::Escape), Command::CancelAll),
            (shortcut(Modifiers::COMMAND, Key::T), Command::ToggleTheme),
        ];
        for (keys, command) in bindings {
            if ctx.input_mut(|i| i.consume_shortcut(&keys)) {
                self.commands.push(command);
            }
        }
        let numbers = [Key::Num1, Key::Num2, Key::Num3, Key::Num4, Key::Num5, Key::Num6, Key::Num7];
        for (key, tab) in numbers.into_iter().zip(Tab::ALL) {
            if ctx.input_mut(|i| i.consume_shortcut(&shortcut(Modifiers::COMMAND, key))) {
                self.commands.push(Command::SetTab(tab));
            }
        }
        while let Ok((image, target)) = self.shots_rx.try_recv() {
            self.save_shot(ctx, &image, target);
        }
    }

    /// The data slot a dropped file or Ctrl+D fills on the current screen.
    fn data_slot(&self) -> DataSlot {
        match self.ws.tab {
            Tab::Compare => DataSlot::Compare,
            Tab::Monitor => DataSlot::Current,
            _ => DataSlot::Score,
        }
    }

    /// The model the screens work on.
    pub(super) fn current_model(&self) -> Option<&Model> {
        self.models.get(self.ws.selected).or(self.models.first())
    }

    /// Tell the user something (an error stays until dismissed).
    pub(super) fn note(&mut self, text: impl Into<String>, error: bool) {
        self.notes.push(Note { text: text.into(), error, at: Instant::now() });
    }

    fn notes_ui(&mut self, ctx: &egui::Context) {
        self.notes.retain(|n| n.error || n.at.elapsed() < Duration::from_secs(6));
        if self.notes.is_empty() {
            return;
        }
        let mut dismiss = None;
        egui::Area::new(egui::Id::unique("notes")).anchor(egui::Align2::RIGHT_BOTTOM, [-12.0, -36.0]).show(ctx, |ui| {
            for (i, note) in self.notes.iter().enumerate() {
                egui::Frame::popup(ui.style()).show(ui, |ui| {
                    ui.set_max_width(460.0);
                    ui.horizontal(|ui| {
                        let color = if note.error { ui.visuals().error_fg_color } else { ui.visuals().text_color() };
                        ui.add(egui::Label::new(egui::RichText::new(&note.text).color(color)).wrap());
                        if ui.small_button("✖").clicked() {
                            dismiss = Some(i);
                        }
                    });
                });
            }
        });
        if let Some(i) = dismiss {
            self.commands.push(Command::Dismiss(i));
        }
    }

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
            Command::Compare => self.compare(ctx),
            Command::Monitor => self.monitor(ctx),
            Command::RunCurrent => match self.ws.tab {
                Tab::Score => self.score(ctx),
                Tab::Compare => self.compare(ctx),
                Tab::Monitor => self.monitor(ctx),
                Tab::Predict => self.predict_row(ctx),
                Tab::Model | Tab::Versions | Tab::Jobs => {}
            },
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
            Command::Register { name, note } => self.register(ctx, name, note),
            Command::CheckGate { name, version, stage } => self.check_gate(ctx, name, version, stage),
            Command::Promote { name, version, stage, reason } => self.registry_job(ctx, move |r| {
                r.promote(&name, version, &stage, "", &reason)?;
                Ok(format!("{name}@{stage} → v{version}"))
            }),
            Command::Rollback { name, stage, reason } => self.registry_job(ctx, move |r| {
                let v = r.rollback(&name, &stage, "", &reason)?;
                Ok(format!("{name}@{stage} → v{v}"))
            }),
        }
    }

    fn ask_file(&mut self, purpose: Purpose, suggested: &str) {
        if native_dialogs() {
            if let Some(path) = native_dialog(purpose.clone(), suggested) {
                self.commands.push(purpose.command(path));
            }
        } else {
            let start =
                self.ws.recent.first().and_then(|p| p.parent()).map_or_else(|| self.home.clone(), Path::to_path_buf);
            self.picker.open(purpose, &start, suggested);
        }
    }

    fn suggested_name(&self, export: &Export) -> String {
        let model = self.current_model().map_or_else(|| "model".to_string(), |m| m.info().name.clone());
        match export {
            Export::Predictions => format!("{model}_predictions.csv"),
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

    /// Hand a finished job's result to the screen that asked for it.
    fn route(&mut self, finished: Finished) {
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
                self.panels.score.result = Some(*table);
            }
            JobOutput::Predicted { model_sha, row, prediction } => {
                if self.current_model().is_some_and(|m| m.info().sha256 == model_sha) {
                    self.panels.predict.set_result(Ok((row, prediction)));
                }
            }
            JobOutput::FormDefaults(defaults) => self.panels.predict.set_defaults(*defaults),
            JobOutput::Compared(c) => {
                self.panels.compare.job = None;
                self.panels.compare.result = Some(*c);
            }
            JobOutput::Monitored(m) => {
                self.panels.monitor.job = None;
                self.panels.monitor.result = Some(*m);
            }
            JobOutput::Saved(path) => self.note(format!("{} {}", s.saved, path.display()), false),
            JobOutput::Registry { index, done } => {
                self.panels.versions.index = Some(index);
                if !done.is_empty() {
                    self.note(done, false);
                }
            }
            JobOutput::Gate(gate) => self.panels.versions.gate = Some(*gate),
        }
    }

    /// A job failed: say so once and free the screen that waited on it.
    fn job_failed(&mut self, kind: &JobKind, name: &str, error: &str) {
        let s = self.strings();
        match kind {
            // The form shows its own error beside the inputs; no note on top.
            JobKind::Predict => return self.panels.predict.set_result(Err(error.to_string())),
            JobKind::OpenModel(path) => self.ws.models.retain(|p| p != path),
            JobKind::Check => self.panels.score.check_failed(),
            JobKind::Score => self.panels.score.job = None,
            JobKind::Compare => self.panels.compare.job = None,
            JobKind::Monitor => self.panels.monitor.job = None,
            JobKind::FormDefaults | JobKind::Export | JobKind::Registry | JobKind::Gate => {}
        }
        let cancelled = crate::core::Error::Cancelled.to_string();
        if error == cancelled {
            self.note(format!("{name}: {}", s.cancelled), false);
        } else {
            self.note(format!("{name}: {error}"), true);
        }
    }
}

impl eframe::App for MiradorApp {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        MiradorApp::ui(self, ui);
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        // An autopilot run (screenshots, the smoke test) shows the samples; it must not replace
        // the user's saved workspace.
        if self.autopilot.is_none() {
            eframe::set_value(storage, super::state::STORAGE_KEY, &self.ws);
        }
    }
}

fn menu_bar(ui: &mut egui::Ui, ctx: &mut Ctx<'_>) {
    let s = ctx.s;
    egui::MenuBar::new().ui(ui, |ui| {
        ui.menu_button(s.menu_file, |ui| {
            if ui.button(format!("{}  (Ctrl+O)", s.open_model)).clicked() {
                ctx.send(Command::OpenModelDialog);
            }
            if ui.button(format!("{}  (Ctrl+D)", s.open_data)).clicked() {
                ctx.send(Command::OpenDataDialog(DataSlot::Score));
            }
            ui.menu_button(s.recent, |ui| {
                for path in ctx.ws.recent.clone() {
                    if ui.button(path.display().to_string()).clicked() {
                        let command = match path.extension().and_then(|e| e.to_str()) {
                            Some("onnx") => Command::OpenModel(path),
                            _ => Command::SetData(DataSlot::Score, path),
                        };
                        ctx.send(command);
                    }
                }
            });
        });
        ui.menu_button(s.menu_export, |ui| {
            let bundle =
                ctx.model().map(|m| Export::Bundle(crate::core::bundle::ModelSource::File(m.info().path.clone())));
            for (label, export) in [
                (s.export_model_card, Some(Export::ModelCard)),
                (s.export_profile, Some(Export::ReferenceProfile)),
                (s.save_predictions, Some(Export::Predictions)),
                (s.export_bundle, bundle),
            ]
            .into_iter()
            .filter_map(|(l, e)| e.map(|e| (l, e)))
            {
                if ui.button(label).clicked() {
                    ctx.send(Command::ExportDialog(export));
                }
            }
        });
        ui.menu_button(s.menu_view, |ui| {
            if ui.button(format!("{}  (Ctrl+T)", s.toggle_theme)).clicked() {
                ctx.send(Command::ToggleTheme);
            }
            for lang in [Lang::En, Lang::Es] {
                if ui.radio(ctx.ws.lang == lang, lang.name()).clicked() {
                    ctx.send(Command::SetLanguage(lang));
                }
            }
        });
        ui.separator();
        for lang in [Lang::En, Lang::Es] {
            if ui.selectable_label(ctx.ws.lang == lang, lang.code()).on_hover_text(lang.name()).clicked() {
                ctx.send(Command::SetLanguage(lang));
            }
        }
    });
}
