//! Versions: the registry's models, their versions and stages, the timeline of every change, and
//! the actions — register the current model, check the promotion gate, promote, roll back, and
//! make a deployment bundle.

use crate::core::bundle::ModelSource;
use crate::core::registry::{Entry, Index};
use crate::gui::command::{Command, Export};
use crate::gui::ctx::Ctx;
use crate::gui::i18n::Strings;
use crate::gui::outputs::GateResult;
use crate::gui::widgets::labelled;

/// The Versions screen.
pub struct VersionsPanel {
    /// The registry as last read.
    pub index: Option<Index>,
    /// Whether a read was asked for since the folder changed.
    pub requested: bool,
    selected: Option<String>,
    register_name: String,
    note: String,
    stage: String,
    reason: String,
    /// The last gate verdict.
    pub gate: Option<GateResult>,
}

impl Default for VersionsPanel {
    fn default() -> Self {
        Self {
            index: None,
            requested: false,
            selected: None,
            register_name: String::new(),
            note: String::new(),
            stage: "production".into(),
            reason: String::new(),
            gate: None,
        }
    }
}

impl VersionsPanel {
    /// Draw it.
    pub fn ui(&mut self, ctx: &mut Ctx<'_>, ui: &mut egui::Ui) {
        let s = ctx.s;
        ui.heading(s.versions_title);
        ui.horizontal(|ui| {
            let mut folder = ctx.ws.registry.display().to_string();
            let edit = labelled(
                ui,
                s.registry_folder,
                s.registry_tip,
                egui::TextEdit::singleline(&mut folder).desired_width(360.0),
            );
            if edit.changed() {
                ctx.ws.registry = folder.into();
                self.requested = false;
            }
            if ui.button(s.refresh).clicked() {
                ctx.send(Command::RefreshRegistry);
            }
        });
        if !self.requested {
            self.requested = true;
            ctx.send(Command::RefreshRegistry);
        }
        self.register_ui(ctx, ui);
        ui.separator();
        let Some(index) = &self.index else {
            ui.spinner();
            return;
        };
        if index.models.is_empty() {
            ui.label(s.registry_empty);
            return;
        }
        ui.horizontal(|ui| {
            for name in index.models.keys() {
                if ui.selectable_label(self.selected.as_ref() == Some(name), name).clicked() {
                    self.selected = Some(name.clone());
                }
            }
        });
        let name = self
            .selected
            .clone()
            .filter(|n| index.models.contains_key(n))
            .or_else(|| index.models.keys().next().cloned());
        let Some(name) = name else { return };
        let entry = index.models[&name].clone();
        ui.horizontal(|ui| {
            labelled(ui, s.stage, s.stage_tip, egui::TextEdit::singleline(&mut self.stage).desired_width(100.0));
            labelled(ui, s.reason, s.reason_tip, egui::TextEdit::singleline(&mut self.reason).desired_width(300.0));
            let has_reason = !self.reason.trim().is_empty();
            if ui
                .add_enabled(has_reason && entry.stages.contains_key(&self.stage), egui::Button::new(s.rollback))
                .clicked()
            {
                ctx.send(Command::Rollback {
                    name: name.clone(),
                    stage: self.stage.clone(),
                    reason: self.reason.clone(),
                });
            }
        });
        self.versions_ui(ctx, ui, &name, &entry);
        if let Some(g) = self.gate.as_ref().filter(|g| g.name == name) {
            gate_ui(ui, s, g);
        }
        timeline_ui(ui, s, &entry);
    }

    fn register_ui(&mut self, ctx: &mut Ctx<'_>, ui: &mut egui::Ui) {
        let s = ctx.s;
        let Some(model) = ctx.model() else { return };
        let model_name = model.info().name.clone();
        if self.register_name.is_empty() {
            self.register_name = model_name.split('_').next().unwrap_or(&model_name).to_string();
        }
        ui.horizontal(|ui| {
            ui.label(format!("{} {model_name}", s.register_current));
            labelled(ui, s.registry_name, "", egui::TextEdit::singleline(&mut self.register_name).desired_width(120.0));
            labelled(ui, s.note, "", egui::TextEdit::singleline(&mut self.note).desired_width(240.0));
            if ui.add_enabled(!self.register_name.trim().is_empty(), egui::Button::new(s.register)).clicked() {
                ctx.send(Command::Register { name: self.register_name.trim().to_string(), note: self.note.clone() });
            }
        });
    }

    fn versions_ui(&mut self, ctx: &mut Ctx<'_>, ui: &mut egui::Ui, name: &str, entry: &Entry) {
        let s = ctx.s;
        egui::Grid::new("versions").striped(true).show(ui, |ui| {
            for h in [s.version, "SHA-256", s.registered, s.note, s.stages, ""] {
                ui.strong(h);
            }
            ui.end_row();
            for v in entry.versions.iter().rev() {
                let stages: Vec<&str> =
                    entry.stages.iter().filter(|(_, n)| **n == v.version).map(|(st, _)| st.as_str()).collect();
                ui.monospace(format!(
                    "v{}{}",
                    v.version,
                    if v.deleted { format!(" ({})", s.deleted) } else { String::new() }
                ));
                ui.monospace(&v.sha256[..12]);
                ui.label(format!("{} · {}", v.registered_at, v.registered_by));
                ui.label(&v.note);
                ui.label(stages.join(", "));
                ui.horizontal(|ui| {
                    if v.deleted {
                        return;
                    }
                    let current = entry.stages.get(&self.stage).copied();
                    let can_gate = current.is_some_and(|c| c != v.version) && ctx.ws.compare.data.is_some();
                    if ui
                        .add_enabled(can_gate, egui::Button::new(s.check_gate))
                        .on_hover_text(s.check_gate_tip)
                        .clicked()
                    {
                        ctx.send(Command::CheckGate {
                            name: name.to_string(),
                            version: v.version,
                            stage: self.stage.clone(),
                        });
                    }
                    let label = format!("{} → {}", s.promote, self.stage);
                    let ok =
                        !self.reason.trim().is_empty() && current != Some(v.version) && !self.stage.trim().is_empty();
                    if ui.add_enabled(ok, egui::Button::new(label)).on_hover_text(s.promote_tip).clicked() {
                        ctx.send(Command::Promote {
                            name: name.to_string(),
                            version: v.version,
                            stage: self.stage.trim().to_string(),
                            reason: self.reason.clone(),
                        });
                    }
                    if ui.button(s.make_bundle).on_hover_text(s.make_bundle_tip).clicked() {
                        let source = ModelSource::Registry { name: name.to_string(), version: v.version };
                        ctx.send(Command::ExportDialog(Export::Bundle(source)));
                    }
                });
                ui.end_row();
            }
        });
    }
}

fn gate_ui(ui: &mut egui::Ui, s: &Strings, g: &GateResult) {
    let good = egui::Color32::from_rgb(60, 170, 90);
    let (mark, color, word) = if g.comparison.passed {
        ("✔", good, s.gate_pass)
    } else {
        ("✖", ui.visuals().error_fg_color, s.gate_fail)
    };
    ui.colored_label(color, format!("{mark} {}: v{} → {} — {word}", s.promotion_gate, g.version, g.stage));
    for verdict in &g.comparison.gate {
        for r in &verdict.results {
            ui.label(format!("   {} {} — {}", if r.passed { "✔" } else { "✖" }, r.rule, r.reason));
        }
    }
}

fn timeline_ui(ui: &mut egui::Ui, s: &Strings, entry: &Entry) {
    ui.separator();
    ui.strong(s.timeline);
    egui::ScrollArea::vertical().id_salt("timeline").max_height(240.0).show(ui, |ui| {
        for e in entry.history.iter().rev() {
            let what = match (e.action, &e.stage) {
                (crate::core::registry::Action::Register, _) => format!("{} v{}", s.ev_register, e.to.unwrap_or(0)),
                (crate::core::registry::Action::Delete, _) => format!("{} v{}", s.ev_delete, e.to.unwrap_or(0)),
                (action, Some(stage)) => format!(
                    "{} {stage}: {} → v{}",
                    if action == crate::core::registry::Action::Rollback { s.ev_rollback } else { s.ev_promote },
                    e.from.map_or_else(|| "—".into(), |v| format!("v{v}")),
                    e.to.unwrap_or(0)
                ),
                (_, None) => e.action.as_str().to_string(),
            };
            ui.label(format!("{} · {} · {what} — {}", e.at, e.by, e.reason));
        }
    });
}
