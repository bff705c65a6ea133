//! The side list of open models: select one, tick the versions to compare, close, open more.

use crate::gui::command::Command;
use crate::gui::ctx::Ctx;

/// The Models side panel (stateless).
#[derive(Default)]
pub struct ModelsPanel;

impl ModelsPanel {
    /// Draw it.
    pub fn ui(&mut self, ctx: &mut Ctx<'_>, ui: &mut egui::Ui) {
        let s = ctx.s;
        ui.heading(s.models);
        if ui.button(s.open_model).on_hover_text(s.open_model_tip).clicked() {
            ctx.send(Command::OpenModelDialog);
        }
        ui.separator();
        let mut commands = Vec::new();
        for (i, model) in ctx.models.iter().enumerate() {
            let info = model.info();
            ui.horizontal(|ui| {
                let mut ticked = ctx.ws.compare_models.contains(&info.path);
                let tick = ui.checkbox(&mut ticked, "").on_hover_text(s.compare_tick_tip);
                let name = format!("{} {}", s.compare_tick, info.name);
                tick.widget_info(|| egui::WidgetInfo::selected(egui::Role::CheckBox, true, ticked, &name));
                if tick.changed() {
                    if ticked {
                        ctx.ws.compare_models.push(info.path.clone());
                    } else {
                        ctx.ws.compare_models.retain(|p| p != &info.path);
                    }
                }
                let selected = ctx.ws.selected == i;
                if ui.selectable_label(selected, &info.name).on_hover_text(info.path.display().to_string()).clicked() {
                    commands.push(Command::SelectModel(i));
                }
                if ui.small_button("✖").on_hover_text(s.close_model).clicked() {
                    commands.push(Command::CloseModel(i));
                }
            });
        }
        if ctx.models.is_empty() {
            ui.label(s.drop_hint);
        }
        for c in commands {
            ctx.send(c);
        }
    }
}
