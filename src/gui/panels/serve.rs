//! Serve: the open models served locally over HTTP with one click (host, port, batching), the URL
//! of each, ready-to-paste `curl` and Python built from the model's own inputs, and live figures
//! while it runs — requests per second, latency p50 / p99, answers by status, batch sizes, the last
//! requests. The server runs on its own threads; starting and stopping are jobs, and this screen
//! only reads the figures the server keeps.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;

use crate::core::contract::{ColumnMapping, expected_columns, plan_binding};
use crate::core::serving::config::{ModelSpec, ServeConfig};
use crate::core::serving::snippets;
use crate::core::serving::stats::ServeStats;
use crate::gui::command::Command;
use crate::gui::ctx::Ctx;

/// A server the window started.
pub struct Running {
    /// Its base URL.
    pub url: String,
    /// (name, version) of each served model.
    pub models: Vec<(String, String)>,
    /// Its live figures.
    pub stats: Arc<ServeStats>,
    /// Its routes (the Deploy screen watches those that roll a version out).
    pub routes: Vec<Arc<crate::core::serving::route::Route>>,
    /// Its realised metrics from late labels, and their alerts.
    pub quality: Arc<crate::core::serving::quality::QualityState>,
    /// Its prediction log folder, when it keeps one (the Monitor screen can follow it).
    pub log_dir: Option<PathBuf>,
}

/// Seconds before a segment of the window's server's log closes (and the Monitor screen sees it).
pub const LOG_SEGMENT_SECS: f64 = 2.0;

/// The Serve screen.
pub struct ServePanel {
    /// Address to listen on.
    pub host: String,
    /// Port (0: any free one).
    pub port: u16,
    /// Most rows per ONNX Runtime call.
    pub batch_rows: usize,
    /// How long a batch may wait for more requests, µs.
    pub batch_delay_us: u64,
    /// Seconds an alert rule's breach must last before it fires (the rules are the Monitor
    /// screen's that the server can judge live).
    pub alert_for_secs: f64,
    /// The prediction log folder (empty: no log).
    pub log_dir: String,
    /// Open models left out (by path); the others are served.
    pub left_out: BTreeSet<PathBuf>,
    /// The running server, when one is.
    pub running: Option<Running>,
    /// A start or stop is under way.
    pub busy: bool,
}

impl Default for ServePanel {
    fn default() -> Self {
        let defaults = ServeConfig::default();
        Self {
            host: defaults.host,
            port: defaults.port,
            batch_rows: defaults.batching.max_rows,
            batch_delay_us: defaults.batching.max_delay_us,
            alert_for_secs: 10.0,
            log_dir: String::new(),
            left_out: BTreeSet::new(),
            running: None,
            busy: false,
        }
    }
}

impl ServePanel {
    /// The config a click on Start would serve with: these settings, the open models not left
    /// out, and the Monitor screen's reference data and the alert rules the server can judge live.
    pub fn config(&self, models: &[crate::core::Model], monitor: &crate::gui::state::MonitorSettings) -> ServeConfig {
        let mut c = ServeConfig { host: self.host.trim().to_string(), port: self.port, ..ServeConfig::default() };
        c.batching.max_rows = self.batch_rows;
        c.batching.max_delay_us = self.batch_delay_us;
        c.alert_for_secs = self.alert_for_secs;
        c.reference.clone_from(&monitor.reference);
        c.alerts = crate::core::serving::alerting::servable_rules(&monitor.alerts);
        if !self.log_dir.trim().is_empty() {
            c.log_dir = Some(PathBuf::from(self.log_dir.trim()));
            // Segments close every two seconds, so the Monitor screen's follow mode sees them soon.
            c.log.segment_secs = LOG_SEGMENT_SECS;
        }
        c.models = models
            .iter()
            .filter(|m| !self.left_out.contains(&m.info().path))
            .map(|m| ModelSpec { source: m.info().path.display().to_string(), name: None })
            .collect();
        c
    }

    /// Draw it.
    pub fn ui(&mut self, ctx: &mut Ctx, ui: &mut egui::Ui) {
        egui::ScrollArea::vertical().auto_shrink([false, false]).show(ui, |ui| self.body(ctx, ui));
    }

    fn body(&mut self, ctx: &mut Ctx, ui: &mut egui::Ui) {
        let s = ctx.s;
        ui.heading(s.tab_serve);
        ui.label(s.serve_intro);
        ui.add_space(6.0);
        let running = self.running.is_some();
        ui.add_enabled_ui(!running && !self.busy, |ui| {
            egui::Grid::new("serve-settings").num_columns(2).spacing([12.0, 6.0]).show(ui, |ui| {
                let label = ui.label(s.serve_host);
                ui.horizontal(|ui| {
                    ui.add(egui::TextEdit::singleline(&mut self.host).desired_width(140.0)).labelled_by(label.id);
                    if self.host.trim() != "127.0.0.1" && self.host.trim() != "localhost" {
                        ui.colored_label(ui.visuals().warn_fg_color, format!("⚠ {}", s.serve_host_warning));
                    }
                });
                ui.end_row();
                let label = ui.label(s.serve_port);
                ui.add(egui::DragValue::new(&mut self.port).range(0..=65535))
                    .labelled_by(label.id)
                    .on_hover_text(s.serve_port_tip);
                ui.end_row();
                let label = ui.label(s.serve_batch_rows);
                ui.add(egui::DragValue::new(&mut self.batch_rows).range(1..=65536)).labelled_by(label.id);
                ui.end_row();
                let label = ui.label(s.serve_batch_delay);
                ui.add(egui::DragValue::new(&mut self.batch_delay_us).range(0..=100_000).suffix(" µs"))
                    .labelled_by(label.id)
                    .on_hover_text(s.serve_batch_delay_tip);
                ui.end_row();
                let label = ui.label(s.serve_log_dir);
                ui.add(
                    egui::TextEdit::singleline(&mut self.log_dir).desired_width(280.0).hint_text(s.serve_log_dir_hint),
                )
                .labelled_by(label.id)
                .on_hover_text(s.serve_log_dir_tip);
                ui.end_row();
                let label = ui.label(s.serve_alert_for);
                ui.add(egui::DragValue::new(&mut self.alert_for_secs).range(0.0..=3600.0).suffix(" s"))
                    .labelled_by(label.id)
                    .on_hover_text(s.serve_alert_for_tip);
                ui.end_row();
                ui.label(s.serve_models);
                ui.vertical(|ui| {
                    if ctx.models.is_empty() {
                        ui.label(s.no_model);
                    }
                    for m in ctx.models {
                        let path = &m.info().path;
                        let mut on = !self.left_out.contains(path);
                        if ui.checkbox(&mut on, &m.info().name).changed() {
                            if on {
                                self.left_out.remove(path);
                            } else {
                                self.left_out.insert(path.clone());
                            }
                        }
                    }
                });
                ui.end_row();
            });
        });
        ui.add_space(6.0);
        ui.horizontal(|ui| {
            if running {
                if ui.add_enabled(!self.busy, egui::Button::new(format!("■ {}", s.serve_stop))).clicked() {
                    self.busy = true;
                    ctx.send(Command::StopServer);
                }
            } else {
                let config = self.config(ctx.models, &ctx.ws.monitor);
                let why = if config.models.is_empty() { Some(s.serve_no_models) } else { None };
                let start =
                    ui.add_enabled(!self.busy && why.is_none(), egui::Button::new(format!("▸ {}", s.serve_start)));
                if let Some(why) = why {
                    start.on_disabled_hover_text(why);
                } else if start.clicked() {
                    self.busy = true;
                    ctx.send(Command::StartServer(Box::new(config)));
                }
            }
            if self.busy {
                ui.spinner();
            }
        });
        if let Some(r) = &self.running {
            ui.add_space(6.0);
            live_ui(ctx, ui, r);
            // The figures change without input: look again twice a second.
            ui.ctx().request_repaint_after(std::time::Duration::from_millis(500));
        }
        ui.add_space(8.0);
        self.examples_ui(ctx, ui);
    }

    /// `curl` and Python for the current model, at the running server's URL (or the one it would have).
    fn examples_ui(&self, ctx: &Ctx, ui: &mut egui::Ui) {
        let s = ctx.s;
        let Some(model) = ctx.model() else { return };
        let info = model.info();
        let (binding, _) = plan_binding(info, &expected_columns(info), &ColumnMapping::default(), &[]);
        let Some(binding) = binding else { return };
        let base = self
            .running
            .as_ref()
            .map_or_else(|| format!("http://{}:{}", self.host.trim(), self.port), |r| r.url.clone());
        ui.strong(format!("{} — {}", s.serve_examples, info.name));
        for (title, text) in [
            ("curl (V2)", snippets::curl(&base, &info.name, info, &binding)),
            ("Python (KServe V1)", snippets::python(&base, &info.name, info, &binding)),
        ] {
            let label = ui
                .horizontal(|ui| {
                    let label = ui.label(title);
                    if ui.small_button(s.serve_copy).clicked() {
                        ui.ctx().copy_text(text.clone());
                    }
                    label
                })
                .inner;
            let mut shown = text.as_str();
            ui.add(egui::TextEdit::multiline(&mut shown).code_editor().desired_rows(2).desired_width(f32::INFINITY))
                .labelled_by(label.id);
        }
    }
}

/// The alert rules that fire now, in the warning colour, with why.
fn alerts_ui(ctx: &Ctx, ui: &mut egui::Ui, model: &str, alerts: &[crate::core::serving::alerting::AlertState]) {
    for a in alerts.iter().filter(|a| a.firing) {
        let since = a.since.as_deref().unwrap_or("");
        let text = format!(
            "⚠ {} — {model}: {} ({}; {} {since})",
            ctx.s.serve_alert_firing, a.rule, a.message, ctx.s.serve_since
        );
        ui.colored_label(ui.visuals().warn_fg_color, text);
    }
}

fn live_ui(ctx: &Ctx, ui: &mut egui::Ui, r: &Running) {
    let s = ctx.s;
    for (name, version) in &r.models {
        ui.horizontal(|ui| {
            ui.label(format!("● {} {name} v{version}:", s.serve_running_at));
            let url = format!("{}/v2/models/{name}", r.url);
            ui.monospace(&url);
            if ui.small_button(s.serve_copy).clicked() {
                ui.ctx().copy_text(url);
            }
        });
    }
    let f = r.stats.snapshot();
    ui.add_space(4.0);
    egui::Grid::new("serve-figures").num_columns(2).spacing([12.0, 4.0]).show(ui, |ui| {
        let mut figure = |label: &str, value: String| {
            ui.label(label);
            ui.monospace(value);
            ui.end_row();
        };
        figure(s.serve_requests, f.requests.to_string());
        figure(s.serve_rate, format!("{:.1} /s", f.requests_per_sec));
        figure(s.serve_latency, format!("{:.2} ms / {:.2} ms", f.p50_secs * 1e3, f.p99_secs * 1e3));
        let statuses: Vec<String> = f.by_status.iter().map(|(code, n)| format!("{code}: {n}")).collect();
        figure(s.serve_statuses, if statuses.is_empty() { "—".into() } else { statuses.join(" · ") });
        let batches: Vec<String> = f.batch_sizes.iter().rev().take(8).map(|(rows, n)| format!("{rows}×{n}")).collect();
        figure(s.serve_batches, if batches.is_empty() { "—".into() } else { batches.join(" · ") });
    });
    for route in &r.routes {
        let Some(live) = route.arms().champion.live.as_ref().map(|l| std::sync::Arc::clone(l.state())) else {
            continue;
        };
        let Some(report) = live.report() else { continue };
        ui.add_space(4.0);
        let rows = live.window_rows.load(std::sync::atomic::Ordering::Relaxed);
        let drifted: Vec<&str> = report.columns.iter().filter(|c| c.drift).map(|c| c.column.as_str()).collect();
        let text = format!(
            "{} — {}: {:.0} % {} {rows} {}{}",
            s.serve_live_drift,
            route.name,
            report.share_drifted * 100.0,
            s.serve_drifted_over,
            s.serve_rows_word,
            if drifted.is_empty() { String::new() } else { format!(" ({})", drifted.join(", ")) }
        );
        let colour = if report.dataset_drift { ui.visuals().warn_fg_color } else { ui.visuals().text_color() };
        ui.colored_label(colour, text);
        let alerts = live.alerts.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone();
        alerts_ui(ctx, ui, &route.name, &alerts);
    }
    for (name, q) in r.quality.snapshot() {
        ui.add_space(4.0);
        let metrics: Vec<String> = q.overall.metrics.iter().map(|(m, v)| format!("{m} {v:.3}")).collect();
        ui.label(format!(
            "{} — {name}: {} {} · {}",
            s.serve_realised,
            q.overall.rows,
            s.serve_labelled_rows,
            if metrics.is_empty() { "—".to_string() } else { metrics.join(" · ") }
        ));
        alerts_ui(ctx, ui, &name, &q.alerts);
    }
    if !f.last.is_empty() {
        ui.add_space(4.0);
        ui.label(s.serve_last);
        egui::Grid::new("serve-last").striped(true).num_columns(4).show(ui, |ui| {
            for rec in f.last.iter().take(10) {
                let at: chrono::DateTime<chrono::Local> = rec.at.into();
                ui.monospace(at.format("%H:%M:%S%.3f").to_string());
                ui.label(&rec.model);
                let text = egui::RichText::new(rec.status.to_string());
                ui.label(if rec.status == 200 { text } else { text.color(ui.visuals().error_fg_color) });
                ui.label(format!("{} × {:.2} ms", rec.rows, rec.latency_secs * 1e3));
                ui.end_row();
            }
        });
    }
}
