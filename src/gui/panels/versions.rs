//! Versions: the registry's models, their versions and stages, the timeline of every change, and
//! the actions — register the current model, check the promotion gate, promote, roll back, and
//! make a deployment bundle. The gate means something here: after a failed check, Promote is
//! refused and only an explicit override with a reason (written to the history as an override)
//! goes ahead; every change to `production` asks for confirmation.

use crate::core::bundle::ModelSource;
use crate::core::registry::{Action, Entry, GateRecord, Index};
use crate::gui::command::{Command, Export};
use crate::gui::ctx::Ctx;
use crate::gui::i18n::Strings;
use crate::gui::outputs::GateResult;
use crate::gui::stamp::{Stamp, out_of_date_ui};
use crate::gui::state::CompareSettings;
use crate::gui::widgets::{file_name, labelled};
use crate::gui::words::rule_reason;

/// The stages offered before a model has any (typing a new one is deliberate).
const USUAL_STAGES: [&str; 3] = ["staging", "production", "archived"];

/// What a gate verdict depends on: the candidate, the stage and the version it held, the data,
/// the settings and the rules.
pub fn gate_stamp(name: &str, version: u32, stage: &str, champion: Option<u32>, c: &CompareSettings) -> Stamp {
    Stamp::new()
        .with("model", format!("{name}@{version}"))
        .with("stage", format!("{stage} = v{}", champion.map_or_else(|| "—".into(), |v| v.to_string())))
        .with("data", c.data.as_ref().map(|d| d.display().to_string()).unwrap_or_default())
        .with("settings", format!("target={} threshold={} bootstrap={}", c.target, c.threshold, c.bootstrap))
        .with("rules", &c.gate)
}

/// A change that waits for the user's confirmation (or an override reason).
struct Confirm {
    /// The command carried out on confirmation (its gate record gets the override reason).
    command: Command,
    /// What will happen, in words.
    text: String,
    /// Whether a reason for overriding a failed gate is needed.
    override_gate: bool,
    /// That reason.
    override_reason: String,
}

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
    /// Typing a new stage's name.
    new_stage: bool,
    reason: String,
    /// The last gate verdict.
    pub gate: Option<GateResult>,
    confirm: Option<Confirm>,
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
            new_stage: false,
            reason: String::new(),
            gate: None,
            confirm: None,
        }
    }
}

impl VersionsPanel {
    /// Draw it.
    /// The registered model shown (the chosen one, else the first).
    pub fn current(&self) -> Option<String> {
        let index = self.index.as_ref()?;
        self.selected.clone().filter(|n| index.models.contains_key(n)).or_else(|| index.models.keys().next().cloned())
    }

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
        self.stage_ui(ctx, ui, &name, &entry);
        self.versions_ui(ctx, ui, &name, &entry);
        if let Some(g) = self.gate.as_ref().filter(|g| g.name == name) {
            let now = gate_stamp(&g.name, g.version, &g.stage, entry.stages.get(&g.stage).copied(), &ctx.ws.compare);
            gate_ui(ui, s, g, &now);
        }
        timeline_ui(ui, s, &entry);
        self.confirm_ui(ctx, ui);
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
            let ok = !self.register_name.trim().is_empty();
            if ui.add_enabled(ok, egui::Button::new(s.register)).on_disabled_hover_text(s.name_first).clicked() {
                ctx.send(Command::Register { name: self.register_name.trim().to_string(), note: self.note.clone() });
            }
        });
    }

    /// The stage (from a list; a new one is typed deliberately), the reason, and Roll back.
    fn stage_ui(&mut self, ctx: &mut Ctx<'_>, ui: &mut egui::Ui, name: &str, entry: &Entry) {
        let s = ctx.s;
        let mut stages: Vec<String> = entry.stages.keys().cloned().collect();
        for usual in USUAL_STAGES {
            if !stages.iter().any(|x| x == usual) {
                stages.push(usual.to_string());
            }
        }
        ui.horizontal(|ui| {
            let label = ui.label(s.stage).on_hover_text(s.stage_tip);
            if self.new_stage {
                ui.add(egui::TextEdit::singleline(&mut self.stage).desired_width(110.0)).labelled_by(label.id);
                if ui.small_button("✖").on_hover_text(s.pick_stage).clicked() {
                    self.new_stage = false;
                    self.stage = "production".into();
                }
            } else {
                let combo =
                    egui::ComboBox::from_id_salt("stage").selected_text(self.stage.as_str()).show_ui(ui, |ui| {
                        for st in &stages {
                            let held = entry.stages.get(st).map(|v| format!("  (v{v})")).unwrap_or_default();
                            ui.selectable_value(&mut self.stage, st.clone(), format!("{st}{held}"));
                        }
                        if ui.selectable_label(false, s.new_stage).clicked() {
                            self.new_stage = true;
                            self.stage.clear();
                        }
                    });
                // Its accessible name is the label beside it (screen readers, and the tests).
                combo.response.labelled_by(label.id);
            }
            labelled(ui, s.reason, s.reason_tip, egui::TextEdit::singleline(&mut self.reason).desired_width(300.0));
            let has_reason = !self.reason.trim().is_empty();
            let held = entry.stages.contains_key(&self.stage);
            let why = if !held { s.stage_empty } else { s.reason_first };
            let rollback =
                ui.add_enabled(has_reason && held, egui::Button::new(s.rollback)).on_disabled_hover_text(why);
            if rollback.clicked() {
                let command = Command::Rollback {
                    name: name.to_string(),
                    stage: self.stage.clone(),
                    reason: self.reason.clone(),
                };
                self.send_or_confirm(ctx, command, format!("{} {name}@{}", s.confirm_rollback, self.stage));
            }
        });
    }

    fn versions_ui(&mut self, ctx: &mut Ctx<'_>, ui: &mut egui::Ui, name: &str, entry: &Entry) {
        let s = ctx.s;
        let stage = self.stage.trim().to_string();
        let current = entry.stages.get(&stage).copied();
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
                    // The gate verdict for this version and stage, if one is current.
                    let verdict = self.gate.as_ref().filter(|g| {
                        g.name == name
                            && g.version == v.version
                            && g.stage == stage
                            && g.stamp == gate_stamp(name, v.version, &stage, current, &ctx.ws.compare)
                    });
                    let can_gate = current.is_some_and(|c| c != v.version) && ctx.ws.compare.data.is_some();
                    let why_no_gate = if current.is_none() {
                        s.gate_needs_stage
                    } else if current == Some(v.version) {
                        s.already_there
                    } else {
                        s.gate_needs_data
                    };
                    if ui
                        .add_enabled(can_gate, egui::Button::new(s.check_gate))
                        .on_hover_text(s.check_gate_tip)
                        .on_disabled_hover_text(why_no_gate)
                        .clicked()
                    {
                        ctx.send(Command::CheckGate {
                            name: name.to_string(),
                            version: v.version,
                            stage: stage.clone(),
                        });
                    }
                    let failed = verdict.is_some_and(|g| !g.comparison.passed);
                    let ready = !self.reason.trim().is_empty() && current != Some(v.version) && !stage.is_empty();
                    let why = if failed {
                        s.gate_failed_override
                    } else if current == Some(v.version) {
                        s.already_there
                    } else if stage.is_empty() {
                        s.name_stage_first
                    } else {
                        s.reason_first
                    };
                    let label = format!("{} → {stage}", s.promote);
                    let promote = ui
                        .add_enabled(ready && !failed, egui::Button::new(label))
                        .on_hover_text(s.promote_tip)
                        .on_disabled_hover_text(why);
                    let record = verdict.map(|g| Box::new(gate_record(s, g, None)));
                    if promote.clicked() {
                        let command = Command::Promote {
                            name: name.to_string(),
                            version: v.version,
                            stage: stage.clone(),
                            reason: self.reason.clone(),
                            gate: record.clone(),
                        };
                        let gate_words = if record.is_some() { s.gate_passed_on } else { s.no_gate_checked };
                        let text = format!("{} {name}@{stage} → v{} ({gate_words})", s.confirm_promote, v.version);
                        self.send_or_confirm(ctx, command, text);
                    }
                    if failed
                        && ui
                            .add_enabled(ready, egui::Button::new(s.override_gate))
                            .on_hover_text(s.override_tip)
                            .on_disabled_hover_text(s.reason_first)
                            .clicked()
                    {
                        self.confirm = Some(Confirm {
                            command: Command::Promote {
                                name: name.to_string(),
                                version: v.version,
                                stage: stage.clone(),
                                reason: self.reason.clone(),
                                gate: record,
                            },
                            text: format!("{} {name}@{stage} → v{}", s.confirm_override, v.version),
                            override_gate: true,
                            override_reason: String::new(),
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

    /// Send `command` at once, or after a confirmation when it changes `production`.
    fn send_or_confirm(&mut self, ctx: &mut Ctx<'_>, command: Command, text: String) {
        let production = matches!(&command, Command::Promote { stage, .. } | Command::Rollback { stage, .. } if stage == "production");
        if production {
            self.confirm = Some(Confirm { command, text, override_gate: false, override_reason: String::new() });
        } else {
            ctx.send(command);
        }
    }

    /// The confirmation dialog, when a change waits for one.
    fn confirm_ui(&mut self, ctx: &mut Ctx<'_>, ui: &mut egui::Ui) {
        let s = ctx.s;
        let Some(confirm) = &mut self.confirm else { return };
        let mut decided: Option<bool> = None;
        egui::Modal::new(egui::Id::unique("versions-confirm")).show(ui.ctx(), |ui| {
            ui.set_max_width(520.0);
            ui.heading(if confirm.override_gate { s.override_gate } else { s.confirm_title });
            ui.label(&confirm.text);
            if confirm.override_gate {
                ui.colored_label(ui.visuals().warn_fg_color, s.override_warning);
                labelled(
                    ui,
                    s.override_reason,
                    "",
                    egui::TextEdit::multiline(&mut confirm.override_reason).desired_rows(2),
                );
            }
            ui.horizontal(|ui| {
                let ok = !confirm.override_gate || confirm.override_reason.trim().len() >= 10;
                let yes = if confirm.override_gate { s.override_and_promote } else { s.confirm_yes };
                if ui.add_enabled(ok, egui::Button::new(yes)).on_disabled_hover_text(s.override_reason_tip).clicked() {
                    decided = Some(true);
                }
                if ui.button(s.cancel).clicked() {
                    decided = Some(false);
                }
            });
        });
        match decided {
            Some(true) => {
                let Some(mut confirm) = self.confirm.take() else { return };
                if confirm.override_gate
                    && let Command::Promote { gate: Some(record), .. } = &mut confirm.command
                {
                    record.override_reason = Some(confirm.override_reason.trim().to_string());
                }
                ctx.send(confirm.command);
            }
            Some(false) => self.confirm = None,
            None => {}
        }
    }
}

/// The history's record of a gate verdict.
fn gate_record(s: &Strings, g: &GateResult, override_reason: Option<String>) -> GateRecord {
    GateRecord {
        passed: g.comparison.passed,
        data: file_name(&g.data),
        rules: g.rules.clone(),
        results: g
            .comparison
            .gate
            .iter()
            .flat_map(|v| v.results.iter())
            .map(|r| format!("{} {} — {}", if r.passed { "pass" } else { "FAIL" }, r.rule, rule_reason(s, r)))
            .collect(),
        override_reason,
    }
}

fn gate_ui(ui: &mut egui::Ui, s: &Strings, g: &GateResult, now: &Stamp) {
    ui.separator();
    out_of_date_ui(ui, s, &g.stamp, now, &format!("{} v{} → {}", s.gate_of, g.version, g.stage));
    let good = egui::Color32::from_rgb(60, 170, 90);
    let (mark, color, word) = if g.comparison.passed {
        ("✔", good, s.gate_pass)
    } else {
        ("✖", ui.visuals().error_fg_color, s.gate_fail)
    };
    ui.colored_label(
        color,
        format!("{mark} {}: v{} → {} ({} v{}) — {word}", s.promotion_gate, g.version, g.stage, s.against, g.champion),
    );
    ui.label(format!("{}: {} · {}: {}", s.labelled_data, file_name(&g.data), s.gate_rules, g.rules));
    for verdict in &g.comparison.gate {
        for r in &verdict.results {
            ui.label(format!("   {} {} — {}", if r.passed { "✔" } else { "✖" }, r.rule, rule_reason(s, r)));
        }
    }
}

fn timeline_ui(ui: &mut egui::Ui, s: &Strings, entry: &Entry) {
    ui.separator();
    ui.strong(s.timeline);
    egui::ScrollArea::vertical().id_salt("timeline").max_height(240.0).show(ui, |ui| {
        for e in entry.history.iter().rev() {
            let what = match (e.action, &e.stage) {
                (Action::Register, _) => format!("{} v{}", s.ev_register, e.to.unwrap_or(0)),
                (Action::Delete, _) => format!("{} v{}", s.ev_delete, e.to.unwrap_or(0)),
                (Action::Refuse, stage) => format!(
                    "{} {}: {} ({} {})",
                    s.ev_refuse,
                    stage.as_deref().unwrap_or(""),
                    e.to.map_or_else(|| s.ev_no_candidate.to_string(), |v| format!("v{v}")),
                    s.retrain_stays,
                    e.from.map_or_else(|| "—".into(), |v| format!("v{v}"))
                ),
                (action, Some(stage)) => format!(
                    "{} {stage}: {} → v{}",
                    if action == Action::Rollback { s.ev_rollback } else { s.ev_promote },
                    e.from.map_or_else(|| "—".into(), |v| format!("v{v}")),
                    e.to.unwrap_or(0)
                ),
                (_, None) => e.action.as_str().to_string(),
            };
            let gate = match &e.gate {
                Some(g) if g.passed => format!(" · {} ({})", s.gate_passed_on, g.data),
                Some(g) if e.action == Action::Refuse => format!(
                    " · {}: {}",
                    s.gate_failed_on,
                    g.results.iter().filter(|r| r.starts_with("FAIL")).cloned().collect::<Vec<_>>().join("; ")
                ),
                Some(g) => format!(" · {}: {}", s.gate_overridden, g.override_reason.as_deref().unwrap_or("")),
                None => String::new(),
            };
            let text = format!("{} · {} · {what} — {}{gate}", e.at, e.by, e.reason);
            if e.gate.as_ref().is_some_and(|g| !g.passed) {
                ui.colored_label(ui.visuals().warn_fg_color, text);
            } else {
                ui.label(text);
            }
        }
    });
}
