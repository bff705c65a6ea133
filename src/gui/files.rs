//! Choosing files: the desktop's native dialog (XDG portal or zenity, through rfd) when there is
//! one, else Mirador's own picker, so a missing portal never leaves a button doing nothing. Both
//! start where the current file of that kind is, or where the user last was for that kind; the
//! picker works on canonical paths (Up reaches the root), has an editable path, Home and Recent,
//! and a visible filter toggle, for opening and saving alike.

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
    /// Which "last folder" this purpose remembers (opening models, data, and each kind of save).
    pub fn kind(&self) -> String {
        match self {
            Self::Model => "model".into(),
            Self::Data(_) => "data".into(),
            Self::Save(export) => format!("save:{}", export.kind()),
        }
    }

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

/// Ask the native dialog, starting in `dir`; `None` when the user cancels.
pub fn native_dialog(purpose: Purpose, dir: &Path, suggested_name: &str) -> Option<PathBuf> {
    let mut dialog = rfd::FileDialog::new().set_directory(dir);
    if !purpose.extensions().is_empty() {
        dialog = dialog.add_filter(purpose.extensions().join(", "), purpose.extensions());
    }
    match purpose {
        Purpose::Save(_) => dialog.set_file_name(suggested_name).save_file(),
        _ => dialog.pick_file(),
    }
}

/// `path` made absolute and canonical (symbolic links and `..` resolved), or as absolute as it can
/// be made when it does not exist.
pub fn canonical(path: &Path) -> PathBuf {
    if let Ok(p) = path.canonicalize() {
        return p;
    }
    let absolute = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir().map(|d| d.join(path)).unwrap_or_else(|_| path.to_path_buf())
    };
    absolute.canonicalize().unwrap_or(absolute)
}

/// The user's home folder, when known.
pub fn home_dir() -> Option<PathBuf> {
    std::env::var_os("HOME").map(PathBuf::from).filter(|h| h.is_dir())
}

/// Mirador's own file picker: a window listing a folder.
#[derive(Default)]
pub struct FilePicker {
    open: Option<Purpose>,
    dir: PathBuf,
    /// The path field, as typed.
    path_text: String,
    name: String,
    /// Only files with the purpose's extensions are listed.
    filter: bool,
    entries: Vec<(PathBuf, bool)>,
    recent: Vec<PathBuf>,
    /// Why the folder could not be listed, if it could not.
    problem: Option<String>,
}

impl FilePicker {
    /// Show the picker for `purpose`, starting in `dir`, with the recent files to offer.
    pub fn open(&mut self, purpose: Purpose, dir: &Path, suggested_name: &str, recent: &[PathBuf]) {
        self.open = Some(purpose);
        self.name = suggested_name.to_string();
        self.filter = true;
        self.recent = recent.to_vec();
        self.enter(canonical(dir));
    }

    /// Whether the picker is showing.
    pub fn is_open(&self) -> bool {
        self.open.is_some()
    }

    /// The folder shown.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// List `dir` (folders first, then files, with the wanted extensions when the filter is on).
    /// Listing a folder is quick, bounded work the user asked for by clicking it.
    fn enter(&mut self, dir: PathBuf) {
        let wanted = self.open.as_ref().map(Purpose::extensions).unwrap_or_default();
        let filter = self.filter && !wanted.is_empty();
        match std::fs::read_dir(&dir) {
            Ok(rd) => {
                let mut entries: Vec<(PathBuf, bool)> = rd
                    .flatten()
                    .map(|e| e.path())
                    .filter(|p| !p.file_name().is_some_and(|n| n.to_string_lossy().starts_with('.')))
                    .map(|p| {
                        let is_dir = p.is_dir();
                        (p, is_dir)
                    })
                    .filter(|(p, is_dir)| {
                        *is_dir || !filter || p.extension().is_some_and(|x| wanted.iter().any(|w| x == *w))
                    })
                    .collect();
                entries.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
                self.entries = entries;
                self.problem = None;
            }
            Err(e) => {
                self.entries.clear();
                self.problem = Some(e.to_string());
            }
        }
        self.path_text = dir.display().to_string();
        self.dir = dir;
    }

    /// Draw the window; returns what the chosen file is for, and the file.
    pub fn ui(&mut self, ctx: &egui::Context, s: &Strings) -> Option<(Purpose, PathBuf)> {
        let purpose = self.open.clone()?;
        let mut chosen = None;
        let mut enter = None;
        let mut open = true;
        let saving = matches!(purpose, Purpose::Save(_));
        egui::Window::new(s.choose_file).open(&mut open).default_size([620.0, 460.0]).show(ctx, |ui| {
            ui.horizontal(|ui| {
                if ui.button(format!("⬆ {}", s.up)).on_hover_text(s.up_tip).clicked() {
                    enter = self.dir.parent().map(Path::to_path_buf);
                }
                if let Some(home) = home_dir()
                    && ui.button(s.home).on_hover_text(home.display().to_string()).clicked()
                {
                    enter = Some(home);
                }
                let field = egui::TextEdit::singleline(&mut self.path_text).desired_width(f32::INFINITY);
                let response = super::widgets::labelled(ui, s.folder, s.folder_tip, field);
                if response.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter)) {
                    let typed = PathBuf::from(self.path_text.trim());
                    if typed.is_dir() {
                        enter = Some(typed);
                    } else if (!saving && typed.is_file()) || (saving && typed.parent().is_some_and(Path::is_dir)) {
                        chosen = Some(typed);
                    }
                }
            });
            let extensions = purpose.extensions();
            if !extensions.is_empty() {
                let label = format!("{} .{}", s.only_files, extensions.join(", ."));
                if ui.checkbox(&mut self.filter, label).on_hover_text(s.filter_tip).changed() {
                    enter = Some(self.dir.clone());
                }
            }
            ui.separator();
            ui.horizontal_top(|ui| {
                ui.vertical(|ui| {
                    ui.set_width(170.0);
                    ui.strong(s.recent);
                    for path in self.recent.iter().take(10) {
                        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
                        if ui.selectable_label(false, name).on_hover_text(path.display().to_string()).clicked() {
                            if path.is_file() && !saving {
                                chosen = Some(path.clone());
                            } else if let Some(parent) = path.parent() {
                                enter = Some(parent.to_path_buf());
                            }
                        }
                    }
                });
                ui.separator();
                ui.vertical(|ui| {
                    if let Some(problem) = &self.problem {
                        ui.colored_label(ui.visuals().error_fg_color, problem);
                    }
                    egui::ScrollArea::vertical().max_height(300.0).show(ui, |ui| {
                        for (path, is_dir) in &self.entries {
                            let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
                            let label = if *is_dir { format!("▸ {name}/") } else { name };
                            if ui.selectable_label(false, label).clicked() {
                                if *is_dir {
                                    enter = Some(path.clone());
                                } else if saving {
                                    self.name =
                                        path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
                                } else {
                                    chosen = Some(path.clone());
                                }
                            }
                        }
                    });
                });
            });
            if saving {
                ui.horizontal(|ui| {
                    super::widgets::labelled(ui, s.file_name, "", egui::TextEdit::singleline(&mut self.name));
                    if ui.add_enabled(!self.name.trim().is_empty(), egui::Button::new(s.save)).clicked() {
                        chosen = Some(self.dir.join(self.name.trim()));
                    }
                });
            }
        });
        if let Some(dir) = enter {
            self.enter(canonical(&dir));
        }
        if chosen.is_some() || !open {
            self.open = None;
        }
        chosen.map(|p| (purpose, p))
    }
}
