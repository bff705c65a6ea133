//! Deploy: roll a new version out over the current one. Pick the champion and the challenger
//! (open models or registry references), the strategy, the sticky key and the gate; start the
//! rollout on the local server and watch both arms side by side — share, requests, errors,
//! latency, agreement, the scores on the same rows, each gate measurement against its limit —
//! with Promote and Abort at hand. Or replay recorded traffic first: the rollout's timeline with
//! its abort or promotion point marked. Starting, acting and replaying are jobs; this screen only
//! reads what the server and the jobs hand it.

use std::sync::Arc;

use egui_plot::{BarChart, Line, PlotPoints, Points, VLine};

use super::serve::ServePanel;
use crate::core::registry::Index;
use crate::core::rollout::replay::{ReplayReport, Verdict};
use crate::core::rollout::strategy::format_duration;
use crate::core::rollout::{Gate, Outcome, Phase, ReplayRequest, Strategy};
use crate::core::serving::config::RouteSpec;
use crate::core::serving::controller::Action;
use crate::core::serving::route::Route;
use crate::gui::command::{Command, ReplaySpec, RouteRef};
use crate::gui::ctx::Ctx;
use crate::gui::widgets::{histogram, legend_below, plot};

const GOOD: egui::Color32 = egui::Color32::from_rgb(60, 160, 90);
const BAD: egui::Color32 = egui::Color32::from_rgb(210, 70, 60);
const CHAMPION: egui::Color32 = egui::Color32::from_rgb(70, 130, 200);
const CHALLENGER: egui::Color32 = egui::Color32::from_rgb(230, 150, 40);

/// The Deploy screen.
pub struct DeployPanel {
    /// The version serving now.
    pub champion: String,
    /// The version rolling out.
    pub challenger: String,
    /// The strategy, as the command line writes it.
    pub strategy: String,
    /// The sticky key column.
    pub sticky_key: String,
    /// The gate's rules.
    pub gate: String,
    /// Failed measurements tolerated.
    pub failure_limit: u32,
    /// Rows a measurement needs.
    pub min_rows: u64,
    /// Recorded traffic to replay.
    pub replay_data: String,
    /// Its time column.
    pub time_col: String,
    /// Its label column (optional).
    pub target: String,
    /// The replay's strategy (recorded traffic spans weeks: longer intervals).
    pub replay_strategy: String,
    /// The last replay, with the settings that made it.
    pub replay: Option<(ReplayReport, String)>,
    /// A replay is running.
    pub replaying: bool,
    reason: String,
    generation: u64,
}

impl Default for DeployPanel {
    fn default() -> Self {
        Self {
            champion: String::new(),
            challenger: String::new(),
            strategy: "canary:10,50,100@30s".into(),
            sticky_key: "customer_id".into(),
            gate: "score_psi <= 0.2; positive_rate_diff <= 0.05; error_rate <= 0.01".into(),
            failure_limit: 0,
            min_rows: 50,
            replay_data: String::new(),
            time_col: "timestamp".into(),
            target: "churned".into(),
            replay_strategy: "canary:10,50,100@7d".into(),
            replay: None,
            replaying: false,
            reason: String::new(),
            generation: 0,
        }
    }
}

impl DeployPanel {
    /// A replay finished.
    pub fn replayed(&mut self, report: ReplayReport, key: String) {
        self.replay = Some((report, key));
        self.replaying = false;
        self.generation += 1;
    }

    /// The route spec the form describes.
    pub fn route_spec(&self) -> RouteSpec {
        RouteSpec {
            name: route_name(&self.champion),
            champion: self.champion.trim().to_string(),
            challenger: Some(self.challenger.trim().to_string()).filter(|c| !c.is_empty()),
            strategy: self.strategy.trim().to_string(),
            sticky_key: Some(self.sticky_key.trim().to_string()).filter(|k| !k.is_empty()),
            gate: self.gate.trim().to_string(),
            failure_limit: self.failure_limit,
            min_rows: self.min_rows,
        }
    }

    /// The replay the form describes (and the settings key that marks its result), or why not.
    pub fn replay_spec(&self, registry: &std::path::Path) -> Result<ReplaySpec, String> {
        if self.champion.trim().is_empty() || self.challenger.trim().is_empty() || self.replay_data.trim().is_empty() {
            return Err("choose the champion, the challenger and the recorded traffic".into());
        }
        let strategy = Strategy::parse(&self.replay_strategy).map_err(|e| e.to_string())?;
        let gate = Gate::parse(&self.gate, self.failure_limit, self.min_rows).map_err(|e| e.to_string())?;
        let key = self.replay_key();
        let request = ReplayRequest {
            data: self.replay_data.trim().into(),
            time_column: self.time_col.trim().to_string(),
            strategy,
            gate,
            target: Some(self.target.trim().to_string()).filter(|t| !t.is_empty()),
            sticky_key: Some(self.sticky_key.trim().to_string()).filter(|k| !k.is_empty()),
            route: route_name(&self.champion),
        };
        let (champion, challenger) = (self.champion.trim().to_string(), self.challenger.trim().to_string());
        Ok(ReplaySpec { champion, challenger, registry: registry.to_path_buf(), request, key })
    }

    fn replay_key(&self) -> String {
        [
            &self.champion,
            &self.challenger,
            &self.replay_strategy,
            &self.sticky_key,
            &self.gate,
            &self.replay_data,
            &self.time_col,
            &self.target,
            &self.failure_limit.to_string(),
            &self.min_rows.to_string(),
        ]
        .map(|s| s.trim().to_string())
        .join("\u{1f}")
    }

    /// Until chosen: the current model as champion, the next open model that reads the same columns
    /// and answers alike as challenger, and Monitor's current data as the traffic to replay.
    pub fn fill_defaults(
        &mut self,
        models: &[crate::core::Model],
        current: Option<&crate::core::Model>,
        traffic: Option<&std::path::Path>,
    ) {
        let Some(current) = current else { return };
        // Both at once, once a challenger exists (models open one by one: filling the champion
        // alone could pick a model that later turns out to be the only challenger).
        if self.champion.is_empty() && self.challenger.is_empty() {
            let columns = crate::core::expected_columns(current.info());
            let alike = models
                .iter()
                .filter(|m| m.info().path != current.info().path)
                .filter(|m| same_task(&m.info().task, &current.info().task))
                .max_by_key(|m| crate::core::expected_columns(m.info()) == columns);
            if let Some(m) = alike {
                self.champion = current.info().path.display().to_string();
                self.challenger = m.info().path.display().to_string();
            }
        }
        if self.replay_data.is_empty()
            && let Some(data) = traffic
        {
            self.replay_data = data.display().to_string();
        }
    }

    /// Draw it.
    pub fn ui(&mut self, ctx: &mut Ctx, ui: &mut egui::Ui, index: Option<&Index>, serve: &ServePanel) {
        let traffic = ctx.ws.monitor.current.clone();
        self.fill_defaults(ctx.models, ctx.model(), traffic.as_deref());
        egui::ScrollArea::vertical().auto_shrink([false, false]).show(ui, |ui| {
            let s = ctx.s;
            ui.heading(s.tab_deploy);
            ui.label(s.deploy_intro);
            ui.add_space(6.0);
            self.form_ui(ctx, ui, index);
            ui.add_space(6.0);
            self.start_ui(ctx, ui, serve);
            ui.separator();
            self.live_ui(ctx, ui, serve);
            ui.separator();
            self.replay_ui(ctx, ui);
        });
    }

    fn form_ui(&mut self, ctx: &Ctx, ui: &mut egui::Ui, index: Option<&Index>) {
        let s = ctx.s;
        let mut sources: Vec<String> = ctx.models.iter().map(|m| m.info().path.display().to_string()).collect();
        if let Some(index) = index {
            for (name, entry) in &index.models {
                sources.extend(entry.stages.keys().map(|stage| format!("{name}@{stage}")));
                sources.extend(entry.versions.iter().filter(|v| !v.deleted).map(|v| format!("{name}@{}", v.version)));
            }
        }
        egui::Grid::new("deploy-form").num_columns(2).spacing([12.0, 6.0]).show(ui, |ui| {
            for (label, value, id, tip) in [
                (s.deploy_champion, &mut self.champion, "champion", s.deploy_sources_tip),
                (s.deploy_challenger, &mut self.challenger, "challenger", s.deploy_challenger_tip),
            ] {
                let label = ui.label(label);
                ui.horizontal(|ui| {
                    ui.add(egui::TextEdit::singleline(value).desired_width(360.0))
                        .labelled_by(label.id)
                        .on_hover_text(tip);
                    ui.push_id(("deploy-pick", id), |ui| {
                        ui.menu_button("▼", |ui| {
                            for src in &sources {
                                if ui.selectable_label(*value == *src, src).clicked() {
                                    value.clone_from(src);
                                    ui.close();
                                }
                            }
                        })
                        .response
                        .on_hover_text(s.deploy_sources_tip);
                    });
                });
                ui.end_row();
            }
            let strategy_ok = Strategy::parse(&self.strategy).is_ok();
            text_row(ui, s.deploy_strategy, &mut self.strategy, s.deploy_strategy_tip, strategy_ok, s.deploy_invalid);
            text_row(ui, s.deploy_sticky, &mut self.sticky_key, s.deploy_sticky_tip, true, "");
            let gate = Gate::parse(&self.gate, self.failure_limit, self.min_rows);
            text_row(ui, s.deploy_gate, &mut self.gate, s.deploy_gate_tip, gate.is_ok(), s.deploy_invalid);
            let label = ui.label(s.deploy_failure_limit);
            ui.add(egui::DragValue::new(&mut self.failure_limit).range(0..=100)).labelled_by(label.id);
            ui.end_row();
            let label = ui.label(s.deploy_min_rows);
            ui.add(egui::DragValue::new(&mut self.min_rows).range(1..=1_000_000)).labelled_by(label.id);
            ui.end_row();
        });
    }

    fn start_ui(&mut self, ctx: &mut Ctx, ui: &mut egui::Ui, serve: &ServePanel) {
        let s = ctx.s;
        let spec = self.route_spec();
        let mut config = serve.config(&[], &ctx.ws.monitor);
        config.registry = ctx.ws.registry.clone();
        config.routes = vec![spec];
        let why = if serve.running.is_some() {
            Some(s.deploy_server_running.to_string())
        } else {
            config.check().err().map(|e| e.to_string())
        };
        ui.horizontal(|ui| {
            let start =
                ui.add_enabled(why.is_none() && !serve.busy, egui::Button::new(format!("▸ {}", s.deploy_start)));
            match &why {
                Some(why) => {
                    start.on_disabled_hover_text(why.as_str());
                }
                None if start.clicked() => ctx.send(Command::StartServer(Box::new(config))),
                None => {}
            }
            if serve.busy {
                ui.spinner();
            }
        });
    }

    fn live_ui(&mut self, ctx: &mut Ctx, ui: &mut egui::Ui, serve: &ServePanel) {
        let s = ctx.s;
        ui.strong(s.deploy_live);
        let routes: Vec<Arc<Route>> = serve
            .running
            .as_ref()
            .map(|r| r.routes.iter().filter(|r| r.strategy != Strategy::Basic).cloned().collect())
            .unwrap_or_default();
        if routes.is_empty() {
            ui.label(s.deploy_none_live);
            return;
        }
        // The figures move without input: look again twice a second.
        ui.ctx().request_repaint_after(std::time::Duration::from_millis(500));
        for route in routes {
            let st = route.status();
            let state = match &st.state {
                None if st.challenger.is_none() => "waiting".to_string(),
                Some(Outcome::Running) | None => "running".to_string(),
                Some(Outcome::Promoted { at }) => format!("promoted at {at}"),
                Some(Outcome::Aborted { at, reason }) => format!("aborted at {at}: {reason}"),
            };
            ui.label(format!("● {} — {} — {}: {state}", st.name, st.strategy, s.deploy_state));
            if st.challenger.is_none() {
                // A route rolling out its stage's new versions, between two of them.
                ui.label(format!("{} v{} — {}", route.champion_source, st.champion, s.deploy_waiting));
                events_ui(ui, s, &st);
                continue;
            }
            ui.label(format!("{}: {:.0} %", s.deploy_share, st.weight.max(st.mirror) * 100.0));
            let last = st.measurements.last();
            egui::Grid::new(("deploy-arms", &st.name)).striped(true).num_columns(3).show(ui, |ui| {
                ui.strong(s.deploy_arm);
                ui.strong(format!("{} v{}", s.deploy_champion, st.champion));
                ui.strong(format!("{} v{}", s.deploy_challenger, st.challenger.clone().unwrap_or_default()));
                ui.end_row();
                let f = |v: Option<f64>, scale: f64, unit: &str| {
                    v.map_or("—".into(), |v| format!("{:.3}{unit}", v * scale))
                };
                if let Some(m) = last {
                    let rows: [(&str, String, String); 6] = [
                        (s.deploy_requests, m.champion.requests.to_string(), m.challenger.requests.to_string()),
                        (s.deploy_rows, m.champion.rows.to_string(), m.challenger.rows.to_string()),
                        (
                            s.deploy_errors,
                            f(m.champion.error_rate, 100.0, " %"),
                            f(m.challenger.error_rate, 100.0, " %"),
                        ),
                        (
                            s.deploy_p99,
                            f(m.champion.latency_p99_ms, 1.0, " ms"),
                            f(m.challenger.latency_p99_ms, 1.0, " ms"),
                        ),
                        (
                            s.deploy_positive,
                            f(m.champion.positive_rate, 100.0, " %"),
                            f(m.challenger.positive_rate, 100.0, " %"),
                        ),
                        (s.deploy_mean_score, f(m.champion.mean_score, 1.0, ""), f(m.challenger.mean_score, 1.0, "")),
                    ];
                    for (name, a, b) in rows {
                        ui.label(name);
                        ui.monospace(a);
                        ui.monospace(b);
                        ui.end_row();
                    }
                    ui.label(s.deploy_agreement);
                    ui.monospace(format!(
                        "{} ({} {})",
                        f(m.agreement, 100.0, " %"),
                        m.paired_rows,
                        s.deploy_rows.to_lowercase()
                    ));
                    ui.label("");
                    ui.end_row();
                }
            });
            let (a, b) = route.paired_scores();
            if !a.is_empty() {
                ui.label(s.deploy_scores);
                plot(ui, ("deploy-scores", &st.name), 0, s.score, s.deploy_rows).height(140.0).show(ui, |p| {
                    p.bar_chart(BarChart::new(s.deploy_champion, histogram(&a, 20)).color(CHAMPION));
                    p.bar_chart(BarChart::new(s.deploy_challenger, histogram(&b, 20)).color(CHALLENGER));
                });
                legend_below(ui, &[(s.deploy_champion, CHAMPION, false), (s.deploy_challenger, CHALLENGER, false)]);
            }
            if let Some(m) = last {
                ui.label(format!("{} {} — {}", s.deploy_measurements, m.index, phase_word(ctx, m.phase)));
                egui::Grid::new(("deploy-rules", &st.name)).striped(true).num_columns(4).show(ui, |ui| {
                    ui.strong(s.deploy_rule);
                    ui.strong(s.deploy_value);
                    ui.strong(s.deploy_limit);
                    ui.label("");
                    ui.end_row();
                    for r in &m.results {
                        ui.monospace(&r.rule);
                        ui.monospace(r.value.map_or("—".into(), |v| format!("{v:.4}")));
                        ui.monospace(r.limit.map_or("—".into(), |v| format!("{v:.4}")));
                        ui.colored_label(if r.passed { GOOD } else { BAD }, if r.passed { "✔" } else { "✖" });
                        ui.end_row();
                    }
                });
            }
            let running = matches!(st.state, Some(Outcome::Running) | None);
            ui.horizontal(|ui| {
                let label = ui.label(s.deploy_reason);
                ui.add(egui::TextEdit::singleline(&mut self.reason).desired_width(260.0)).labelled_by(label.id);
                let reason = Some(self.reason.trim().to_string()).filter(|r| !r.is_empty());
                if ui.add_enabled(running, egui::Button::new(format!("✔ {}", s.deploy_promote))).clicked() {
                    ctx.send(Command::RouteAction(
                        RouteRef(Arc::clone(&route)),
                        Action::Promote { reason: reason.clone() },
                    ));
                }
                if ui.add_enabled(running, egui::Button::new(format!("✖ {}", s.deploy_abort))).clicked() {
                    ctx.send(Command::RouteAction(RouteRef(Arc::clone(&route)), Action::Abort { reason }));
                }
            });
            events_ui(ui, s, &st);
        }
    }

    fn replay_ui(&mut self, ctx: &mut Ctx, ui: &mut egui::Ui) {
        let s = ctx.s;
        ui.strong(s.deploy_replay);
        egui::Grid::new("deploy-replay").num_columns(2).spacing([12.0, 6.0]).show(ui, |ui| {
            text_row(ui, s.deploy_replay_data, &mut self.replay_data, s.deploy_replay_data_tip, true, "");
            text_row(ui, s.deploy_time_col, &mut self.time_col, "", true, "");
            text_row(ui, s.deploy_target, &mut self.target, "", true, "");
            let ok = Strategy::parse(&self.replay_strategy).is_ok();
            text_row(ui, s.deploy_strategy, &mut self.replay_strategy, s.deploy_strategy_tip, ok, s.deploy_invalid);
        });
        let spec = self.replay_spec(&ctx.ws.registry);
        ui.horizontal(|ui| {
            let run = ui
                .add_enabled(spec.is_ok() && !self.replaying, egui::Button::new(format!("▸ {}", s.deploy_run_replay)));
            match spec {
                Err(why) => {
                    run.on_disabled_hover_text(why);
                }
                Ok(spec) if run.clicked() => {
                    self.replaying = true;
                    ctx.send(Command::Replay(Box::new(spec)));
                }
                Ok(_) => {}
            }
            if self.replaying {
                ui.spinner();
            }
        });
        let Some((report, key)) = &self.replay else { return };
        if *key != self.replay_key() {
            ui.colored_label(ui.visuals().warn_fg_color, format!("⚠ {}", s.deploy_stale));
        }
        let verdict = match &report.verdict {
            Verdict::WouldPromote { at } => format!("{} {at}", s.deploy_verdict_promote),
            Verdict::WouldAbort { at, reason } => format!("{} {at}: {reason}", s.deploy_verdict_abort),
            Verdict::WouldPass { at } => format!("{} {at}", s.deploy_verdict_pass),
            Verdict::Undecided { reason } => format!("{} {reason}", s.deploy_verdict_undecided),
        };
        let colour = match report.verdict {
            Verdict::WouldAbort { .. } => BAD,
            Verdict::Undecided { .. } => ui.visuals().warn_fg_color,
            Verdict::WouldPromote { .. } | Verdict::WouldPass { .. } => GOOD,
        };
        ui.colored_label(colour, egui::RichText::new(verdict).strong());
        let keys = report.exposure.distinct_keys.map(|k| format!(", {k} {}", s.deploy_keys)).unwrap_or_default();
        ui.label(format!("{}: {} {}{keys}", s.deploy_exposure, report.exposure.rows, s.deploy_rows.to_lowercase()));
        if let (Some(p), Some(b)) = (report.time_to_promote_secs, report.time_to_rollback_secs) {
            ui.label(format!(
                "{} {} {}, {} {}",
                s.deploy_live_time,
                format_duration(p),
                s.deploy_to_promote,
                format_duration(b),
                s.deploy_to_roll_back
            ));
        }
        timeline(ctx, ui, report, self.generation);
        let a = &report.agreement;
        let pct = |v: Option<f64>| v.map_or("—".into(), |v| format!("{:.1} %", v * 100.0));
        ui.label(format!(
            "{} ({}): {} {}, churn {}, κ {}",
            s.deploy_all_rows,
            a.rows,
            s.deploy_agreement,
            pct(a.agreement),
            pct(a.churn),
            a.kappa.map_or("—".into(), |k| format!("{k:.3}"))
        ));
        for note in &report.caveats {
            ui.small(format!("• {note}"));
        }
    }
}

/// The replay's windows: the challenger's share per window, each measurement by its outcome, the
/// verdict marked.
fn timeline(ctx: &Ctx, ui: &mut egui::Ui, report: &ReplayReport, generation: u64) {
    let s = ctx.s;
    let labels: Vec<String> = report.windows.iter().map(|w| w.end.clone()).collect();
    let share: Vec<[f64; 2]> =
        report.windows.iter().enumerate().map(|(i, w)| [i as f64 + 1.0, w.weight * 100.0]).collect();
    let by_phase = |phase: Phase| -> Vec<[f64; 2]> {
        report
            .windows
            .iter()
            .enumerate()
            .filter(|(_, w)| w.measurement.phase == phase)
            .map(|(i, w)| [i as f64 + 1.0, w.weight * 100.0])
            .collect()
    };
    let grey = egui::Color32::GRAY;
    plot(ui, "deploy-timeline", generation, s.deploy_window, s.deploy_share_pct)
        .height(180.0)
        .include_y(0.0)
        .include_y(100.0)
        .x_axis_formatter(move |mark, _| {
            let i = mark.value.round() as usize;
            if (mark.value - i as f64).abs() < 1e-6 && i >= 1 {
                labels.get(i - 1).cloned().unwrap_or_default()
            } else {
                String::new()
            }
        })
        .show(ui, |p| {
            p.line(Line::new(s.deploy_share_pct, PlotPoints::from(share)).color(CHALLENGER));
            for (phase, colour, name) in [
                (Phase::Successful, GOOD, s.deploy_successful),
                (Phase::Failed, BAD, s.deploy_failed),
                (Phase::Inconclusive, grey, s.deploy_inconclusive),
            ] {
                p.points(Points::new(name, PlotPoints::from(by_phase(phase))).color(colour).radius(5.0));
            }
            if !matches!(report.verdict, Verdict::Undecided { .. }) {
                let x = report.windows.len() as f64;
                let colour = if report.would_abort() { BAD } else { GOOD };
                p.vline(VLine::new(s.deploy_verdict_point, x).color(colour));
            }
        });
    legend_below(
        ui,
        &[
            (s.deploy_share_pct, CHALLENGER, false),
            (s.deploy_successful, GOOD, false),
            (s.deploy_failed, BAD, false),
            (s.deploy_inconclusive, grey, false),
        ],
    );
}

fn phase_word(ctx: &Ctx, phase: Phase) -> &'static str {
    match phase {
        Phase::Successful => ctx.s.deploy_successful,
        Phase::Failed => ctx.s.deploy_failed,
        Phase::Inconclusive => ctx.s.deploy_inconclusive,
    }
}

/// A labelled text field in a grid row, marked when its value is not valid.
fn text_row(ui: &mut egui::Ui, label: &str, value: &mut String, tip: &str, valid: bool, invalid: &str) {
    let label = ui.label(label);
    ui.horizontal(|ui| {
        let field = ui.add(egui::TextEdit::singleline(value).desired_width(420.0)).labelled_by(label.id);
        if !tip.is_empty() {
            field.on_hover_text(tip);
        }
        if !valid {
            ui.colored_label(ui.visuals().error_fg_color, format!("✖ {invalid}"));
        }
    });
    ui.end_row();
}

fn same_task(a: &crate::core::Task, b: &crate::core::Task) -> bool {
    use crate::core::Task;
    match (a, b) {
        (Task::Classification { classes: x, .. }, Task::Classification { classes: y, .. }) => x == y,
        (Task::Regression { .. }, Task::Regression { .. }) => true,
        _ => false,
    }
}

/// A route's name from its champion: the registry name, or the file's stem.
fn route_name(champion: &str) -> String {
    let c = champion.trim();
    let base = match c.rsplit_once('@') {
        Some((name, _)) if !std::path::Path::new(c).exists() => name.to_string(),
        _ => std::path::Path::new(c).file_stem().map_or_else(|| "model".into(), |s| s.to_string_lossy().into_owned()),
    };
    let clean: String = base.chars().filter(|ch| ch.is_ascii_alphanumeric() || matches!(ch, '-' | '_' | '.')).collect();
    if clean.is_empty() { "model".into() } else { clean }
}

/// What a route did, newest first (the last 20).
fn events_ui(ui: &mut egui::Ui, s: &crate::gui::i18n::Strings, st: &crate::core::serving::route::RouteStatus) {
    ui.collapsing(s.deploy_events, |ui| {
        for e in st.events.iter().rev().take(20) {
            ui.monospace(format!("{}  {}", e.at, e.what));
        }
    });
}
