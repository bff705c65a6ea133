//! The app: the workspace, the open models, the jobs and the panels, and the frame loop. What a
//! frame does is spread over small files: [`super::layout`] draws, [`super::handle`] carries out
//! commands, [`super::route`] hands finished jobs to their screens, [`super::actions`] starts the
//! jobs, [`super::autopilot`] drives screenshots.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender, bounded};

use super::command::Command;
use super::files::FilePicker;
use super::i18n::Strings;
use super::jobs::Jobs;
use super::panels::Panels;
use super::shots::{Autopilot, ShotTarget};
use super::state::Workspace;
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
    pub(super) picker: FilePicker,
    pub(super) commands: Vec<Command>,
    /// Where relative sample paths and the picker start.
    pub(super) home: PathBuf,
    /// CPU time of recent frames, for the frame-time readout.
    frame_ms: std::collections::VecDeque<f32>,
    pub(super) autopilot: Option<Autopilot>,
    /// The theme last applied (fonts go in on the first frame too).
    applied_theme: Option<bool>,
    /// Screenshots come back from the renderer through this channel.
    pub(super) shots_tx: Sender<(Arc<egui::ColorImage>, ShotTarget)>,
    pub(super) shots_rx: Receiver<(Arc<egui::ColorImage>, ShotTarget)>,
    /// Where scoring results live while the app runs (removed when it closes).
    pub(super) scratch: Option<tempfile::TempDir>,
    /// Files made in the scratch folder so far (for unique names).
    pub(super) scratch_count: u64,
    /// The workspace as last saved.
    saved: Option<Workspace>,
    /// How a server is started (the binary provides it; none in a window that cannot serve).
    pub(super) launcher: Option<crate::core::serving::launch::Launcher>,
    /// The server the window started, while it runs (stopped when the window closes).
    pub(super) server: Option<Box<dyn crate::core::serving::launch::ServerHandle>>,
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
            scratch: None,
            scratch_count: 0,
            saved: None,
            launcher: None,
            server: None,
        };
        app.ws.models.clear();
        app.commands.extend(paths.into_iter().map(Command::OpenModel));
        app
    }

    /// Let the window serve models (the Serve screen), through the server shell's launcher.
    pub fn with_launcher(mut self, launcher: crate::core::serving::launch::Launcher) -> Self {
        self.launcher = Some(launcher);
        self
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

    /// The built-in file picker (its folder, whether it is open).
    pub fn picker(&self) -> &FilePicker {
        &self.picker
    }

    /// The folder scoring results live in while the app runs, once one was made.
    pub fn scratch_dir(&self) -> Option<&std::path::Path> {
        self.scratch.as_ref().map(tempfile::TempDir::path)
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
        if let Some((purpose, path)) = self.picker.ui(&ctx, self.strings()) {
            self.chosen(purpose, path);
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

    /// The model the screens work on.
    pub(super) fn current_model(&self) -> Option<&Model> {
        self.models.get(self.ws.selected).or(self.models.first())
    }

    /// Tell the user something (an error stays until dismissed).
    pub(super) fn note(&mut self, text: impl Into<String>, error: bool) {
        self.notes.push(Note { text: text.into(), error, at: Instant::now() });
    }
}

impl eframe::App for MiradorApp {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        MiradorApp::ui(self, ui);
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        // An autopilot run (screenshots, the smoke test) shows the samples; it must not replace
        // the user's saved workspace. Only a changed workspace is written.
        if self.autopilot.is_none() && self.saved.as_ref() != Some(&self.ws) {
            eframe::set_value(storage, super::state::STORAGE_KEY, &self.ws);
            self.saved = Some(self.ws.clone());
        }
    }

    /// The workspace is saved a couple of seconds after it changes (not only on exit), so a killed
    /// window loses at most that.
    fn auto_save_interval(&self) -> Duration {
        Duration::from_secs(2)
    }
}
