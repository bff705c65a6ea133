//! What every panel gets while it draws: the strings of the chosen language, the open models, the
//! jobs, the workspace, and the queue of commands the app carries out after the frame.

use super::command::Command;
use super::i18n::Strings;
use super::jobs::Jobs;
use super::state::Workspace;
use crate::core::Model;

/// The panels' view of the app for one frame.
pub struct Ctx<'a> {
    /// UI text in the chosen language.
    pub s: &'static Strings,
    /// Open models, in workspace order.
    pub models: &'a [Model],
    /// Background jobs.
    pub jobs: &'a Jobs,
    /// The persisted choices.
    pub ws: &'a mut Workspace,
    /// Commands raised this frame.
    pub commands: &'a mut Vec<Command>,
    /// The prediction log folder of the server this window runs, when it keeps one.
    pub server_log: Option<std::path::PathBuf>,
}

impl Ctx<'_> {
    /// The current model, if any is open.
    pub fn model(&self) -> Option<&Model> {
        self.models.get(self.ws.selected).or(self.models.first())
    }

    /// The current model; when none is open, says so in `ui` (how to open one) and gives `None`.
    pub fn model_or_hint(&self, ui: &mut egui::Ui) -> Option<&Model> {
        let model = self.model();
        if model.is_none() {
            ui.label(self.s.no_model);
        }
        model
    }

    /// Queue a command.
    pub fn send(&mut self, command: Command) {
        self.commands.push(command);
    }
}
