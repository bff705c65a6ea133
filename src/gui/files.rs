//! Choosing files: the desktop's native dialog (XDG portal or zenity, through rfd) when there is
//! one, else Mirador's own picker, so a missing portal never leaves a button doing nothing.

use std::path::{Path, PathBuf};

use super::command::{Command, DataSlot, Export};
use super::i18n::Strings;

/// What the chosen file is for.
#[derive(Debug, Clone, PartialEq)]
pub enum Purpose {
    /// A model to open.
    Model,
    /// A data file for a slot.
    Data(DataSlot),
    /// Where to save an export.
    Save(Export),
}

impl Purpose {
    /// The extensions offered.
    pub fn extensions(&self) -> &'static [&'static str] {
        match self {
            Self::Model => &["onnx"],
            Self::Data(_) => &["csv", "parquet"],
            Self::Save(Export::Predictions) => &["csv", "parquet"],
            Self::Save(Export::ModelCard) => &["md"],
            Self::Save(Export::ReferenceProfile) => &["json"],
            Self::Save(Export::Plot(_)) => &["png"],
            Self::Save(Export::CompareTable | Export::DriftTable | Export::ProblemsTable) => &["csv"],
            Self::Save(Export::Bundle(_)) => &[],
        }
    }

    /// The command that uses `path`.
    pub fn command(self, path: PathBuf) -> Command {
        match self {
            Self::Model => Command::OpenModel(path),
            Self::Data(slot) => Command::SetData(slot, path),
            Self::Save(export) => Command::ExportTo(export, path),
        }
    }
}

/// Whether a native dialog can be shown: an XDG desktop portal (reached over the session bus) or
/// zenity. `MIRADOR_FILE_PICKER=builtin` forces Mirador's own picker.
pub fn native_dialogs() -> bool {
    if std::env::var("MIRADOR_FILE_PICKER").is_ok_and(|v| v == "builtin") {
        return false;
    }
    let on_path = |exe: &str| {
        std::env::var_os("PATH").is_some_and(|paths| std::env::split_paths(&paths).any(|d| d.join(exe).is_file()))
    };
    std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some() || on_path("zenity")
}

/// Ask the native dialog; `None` when the user cancels.
pub fn native_dialog(purpose: Purpose, suggested_name: &str) -> Option<PathBuf> {
    let mut dialog = rfd::FileDialog::new();
    if !purpose.extensions().is_empty() {
        dialog = dialog.add_filter(purpose.extensions().join(", "), purpose.extensions());
    }
    match purpose {
        Purpose::Save(_) => dialog.set_file_name(suggested_name).save_file(),
        _ => dialog.pick_file(),
    }
}

/// Mirador's own file picker: a window listing a folder.
#[derive(Default)]
pub struct FilePicker {
    open: Option<Purpose>,
    dir: PathBuf,
    name: String,
    entries: Vec<(PathBuf, bool)>,
}

impl FilePicker {
    /// Show the picker for `purpose`, starting in `dir`.
    pub fn open(&mut self, purpose: Purpose, dir: &Path, suggested_name: &str) {
        self.open = Some(purpose);
        self.name = suggested_name.to_string();
        self.enter(dir.to_path_buf());
    }

    /// List `dir` (folders first, then files with the wanted extensions). Listing a folder is
    /// quick, bounded work the user asked for by clicking it.
    fn enter(&mut self, dir: PathBuf) {
        let wanted = self.open.as_ref().map(Purpose::extensions).unwrap_or_default();
        let mut entries: Vec<(PathBuf, bool)> = std::fs::read_dir(&dir)
            .map(|rd| {
                rd.flatten()
                    .map(|e| e.path())
                    .filter(|p| !p.file_name().is_some_and(|n| n.to_string_lossy().starts_with('.')))
                    .map(|p| {
                        let is_dir = p.is_dir();
                        (p, is_dir)
                    })
                    .filter(|(p, is_dir)| *is_dir || p.extension().is_some_and(|x| wanted.iter().any(|w| x == *w)))
                    .collect()
            })
            .unwrap_or_default();
        entries.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        self.dir = dir;
        self.entries = entries;
    }

    /// Draw the window; returns the command for the chosen file.
    pub fn ui(&mut self, ctx: &egui::Context, s: &Strings) -> Option<Command> {
        let purpose = self.open.clone()?;
        let mut chosen = None;
        let mut enter = None;
        let mut open = true;
        egui::Window::new(s.choose_file).open(&mut open).default_size([520.0, 420.0]).show(ctx, |ui| {
            ui.horizontal(|ui| {
                if ui.button(format!("⬆ {}", s.up)).clicked() {
                    enter = self.dir.parent().map(Path::to_path_buf);
                }
                ui.monospace(self.dir.display().to_string());
            });
            ui.separator();
            egui::ScrollArea::vertical().max_height(300.0).show(ui, |ui| {
                for (path, is_dir) in &self.entries {
                    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
                    let label = if *is_dir { format!("📁 {name}") } else { name };
                    if ui.selectable_label(false, label).clicked() {
                        if *is_dir {
                            enter = Some(path.clone());
                        } else if matches!(purpose, Purpose::Save(_)) {
                            self.name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
                        } else {
                            chosen = Some(path.clone());
                        }
                    }
                }
            });
            if matches!(purpose, Purpose::Save(_)) {
                ui.horizontal(|ui| {
                    super::widgets::labelled(ui, s.file_name, "", egui::TextEdit::singleline(&mut self.name));
                    if ui.add_enabled(!self.name.trim().is_empty(), egui::Button::new(s.save)).clicked() {
                        chosen = Some(self.dir.join(self.name.trim()));
                    }
                });
            }
        });
        if let Some(dir) = enter {
            self.enter(dir);
        }
        if chosen.is_some() || !open {
            self.open = None;
        }
        chosen.map(|p| purpose.command(p))
    }
}
