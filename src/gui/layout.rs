//! The frame's layout: menu bar, status bar, the models on the left, the current screen in the
//! middle, notes at the bottom right; and the input that is not a widget's (drops, shortcuts,
//! screenshots coming back).

use std::path::PathBuf;
use std::time::Duration;

use super::app::MiradorApp;
use super::command::{Command, DataSlot, Export, Tab};
use super::ctx::Ctx;
use super::i18n::Lang;

impl MiradorApp {
    pub(super) fn layout(&mut self, ui: &mut egui::Ui) {
        let s = self.strings();
        let p99 = self.frame_p99_ms();
        let server_log = self.panels.serve.running.as_ref().and_then(|r| r.log_dir.clone());
        let mut ctx = Ctx {
            s,
            models: &self.models,
            jobs: &self.jobs,
            ws: &mut self.ws,
            commands: &mut self.commands,
            server_log,
        };
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
                Tab::Versions => {
                    egui::ScrollArea::vertical().auto_shrink([false, false]).show(ui, |ui| {
                        self.panels.versions.ui(&mut ctx, ui);
                        if let Some(name) = self.panels.versions.current() {
                            let index = self.panels.versions.index.as_ref();
                            self.panels.retrain.ui(&mut ctx, ui, &name, index);
                        }
                    });
                }
                Tab::Serve => self.panels.serve.ui(&mut ctx, ui),
                Tab::Deploy => {
                    let (index, serve) = (self.panels.versions.index.as_ref(), &self.panels.serve);
                    self.panels.deploy.ui(&mut ctx, ui, index, serve);
                }
                Tab::Jobs => self.panels.jobs.ui(&mut ctx, ui),
            }
        });
    }

    /// Dropped files, shortcuts and screenshots.
    pub(super) fn take_input(&mut self, ctx: &egui::Context) {
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
            (shortcut(Modifiers::COMMAND, Key::Q), Command::Quit),
        ];
        for (keys, command) in bindings {
            if ctx.input_mut(|i| i.consume_shortcut(&keys)) {
                self.commands.push(command);
            }
        }
        let numbers =
            [Key::Num1, Key::Num2, Key::Num3, Key::Num4, Key::Num5, Key::Num6, Key::Num7, Key::Num8, Key::Num9];
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
    pub(super) fn data_slot(&self) -> DataSlot {
        match self.ws.tab {
            Tab::Compare => DataSlot::Compare,
            Tab::Monitor => DataSlot::Current,
            _ => DataSlot::Score,
        }
    }

    pub(super) fn notes_ui(&mut self, ctx: &egui::Context) {
        const FADE: Duration = Duration::from_secs(6);
        const SHOWN: usize = 4;
        self.notes.retain(|n| n.error || n.at.elapsed() < FADE);
        if self.notes.is_empty() {
            return;
        }
        // News fades by itself: wake up when the oldest piece of it is due to go.
        if let Some(left) = self.notes.iter().filter(|n| !n.error).map(|n| FADE.saturating_sub(n.at.elapsed())).min() {
            ctx.request_repaint_after(left);
        }
        let mut dismiss = None;
        // At most a few notes, the newest; the rest are counted (errors stay until dismissed).
        let hidden = self.notes.len().saturating_sub(SHOWN);
        egui::Area::new(egui::Id::unique("notes")).anchor(egui::Align2::RIGHT_BOTTOM, [-12.0, -36.0]).show(ctx, |ui| {
            if hidden > 0 {
                ui.weak(format!("+{hidden}"));
            }
            for (i, note) in self.notes.iter().enumerate().skip(hidden) {
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
            ui.separator();
            if ui.button(format!("{}  (Ctrl+Q)", s.quit)).clicked() {
                ctx.send(Command::Quit);
            }
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
