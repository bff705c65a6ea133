//! The model view, in the spirit of Netron's properties pane: metadata, opsets, `metadata_props`,
//! inputs and outputs with types and shapes, file size and SHA-256, the task and known categories.

use crate::core::{Model, Task};
use crate::gui::command::{Command, Export};
use crate::gui::ctx::Ctx;
use crate::gui::widgets::bytes;

/// The Model screen (stateless: it draws the current model).
#[derive(Default)]
pub struct ModelPanel;

impl ModelPanel {
    /// Draw it.
    pub fn ui(&mut self, ctx: &mut Ctx<'_>, ui: &mut egui::Ui) {
        let s = ctx.s;
        let Some(model) = ctx.model_or_hint(ui).cloned() else { return };
        let info = model.info().clone();
        ui.horizontal(|ui| {
            ui.heading(&info.name);
            if ui.button(s.export_model_card).on_hover_text(s.export_model_card_tip).clicked() {
                ctx.send(Command::ExportDialog(Export::ModelCard));
            }
        });
        egui::ScrollArea::vertical().auto_shrink(false).show(ui, |ui| {
            egui::CollapsingHeader::new(s.properties).default_open(true).show(ui, |ui| properties_ui(ui, ctx, &model));
            egui::CollapsingHeader::new(s.inputs).default_open(true).show(ui, |ui| {
                io_grid(ui, "inputs", &info.inputs, &info.known_categories, s.categories);
            });
            egui::CollapsingHeader::new(s.outputs).default_open(true).show(ui, |ui| {
                io_grid(ui, "outputs", &info.outputs, &Default::default(), s.categories);
            });
            egui::CollapsingHeader::new(s.metadata_props).default_open(true).show(ui, |ui| {
                egui::Grid::new("metadata").striped(true).num_columns(2).show(ui, |ui| {
                    for (k, v) in &info.metadata {
                        ui.monospace(k);
                        ui.add(egui::Label::new(v).wrap());
                        ui.end_row();
                    }
                });
            });
        });
    }
}

fn properties_ui(ui: &mut egui::Ui, ctx: &Ctx<'_>, model: &Model) {
    let s = ctx.s;
    let info = model.info();
    let task = match &info.task {
        Task::Classification { classes, zipmap, .. } => format!(
            "{} — {}: {} ({})",
            s.classification,
            s.classes,
            classes.join(", "),
            if *zipmap { "ZipMap" } else { "tensor" }
        ),
        Task::Regression { .. } => s.regression.to_string(),
    };
    let opsets: Vec<String> = info.opsets.iter().map(|o| format!("{} {}", o.domain, o.version)).collect();
    let rows: [(&str, String); 10] = [
        (s.file, info.path.display().to_string()),
        (s.size, bytes(info.file_size_bytes)),
        ("SHA-256", info.sha256.clone()),
        (s.task, task),
        (s.producer, format!("{} {}", info.producer_name, info.producer_version)),
        (s.ir_version, info.ir_version.to_string()),
        (s.opsets, opsets.join(", ")),
        (s.domain, info.domain.clone()),
        (s.model_version, info.model_version.to_string()),
        (s.doc_string, info.doc_string.clone()),
    ];
    egui::Grid::new("properties").striped(true).num_columns(2).show(ui, |ui| {
        for (k, v) in rows {
            ui.strong(k);
            ui.add(egui::Label::new(v).wrap());
            ui.end_row();
        }
    });
}

fn io_grid(
    ui: &mut egui::Ui,
    id: &str,
    specs: &[crate::core::model::IoSpec],
    categories: &std::collections::BTreeMap<String, Vec<String>>,
    categories_label: &str,
) {
    egui::Grid::new(id).striped(true).num_columns(3).show(ui, |ui| {
        for spec in specs {
            ui.monospace(&spec.name);
            ui.monospace(spec.ty.to_string());
            match categories.get(&spec.name) {
                Some(c) => ui.label(format!("{categories_label}: {}", c.join(", "))),
                None => ui.label(""),
            };
            ui.end_row();
        }
    });
}
