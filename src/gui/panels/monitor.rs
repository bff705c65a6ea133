//! Monitor: the drift table per feature (sortable; the most drifted feature chosen at first) beside
//! the chosen feature's reference and current distributions, its share of the population
//! stability index bin by bin and its drift over time with the reference band; then the share of
//! drifted columns, prediction drift and performance over time, and the alerts raised. A target
//! column's drift is reported apart and not counted in the features' share.

use std::collections::BTreeMap;

use egui_plot::{Bar, BarChart, Line, PlotPoints};

use crate::core::drift::ColumnDrift;
use crate::core::monitor::{AlertSeverity, Band, MonitorReport};
use crate::gui::command::{Command, DataSlot, Export};
use crate::gui::ctx::Ctx;
use crate::gui::i18n::{Strings, test_tip};
use crate::gui::jobs::JobId;
use crate::gui::stamp::{Stamp, out_of_date_ui};
use crate::gui::widgets::{
    SERIES, THRESHOLD, data_row, job_progress, labelled, legend_below, num, plot, saveable_plot,
};
use crate::gui::words::{alert_message, kind, p_value, severity, test_name};

/// How the drift table is ordered.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Order {
    /// The most drifted first (by how far past or short of its threshold the score is).
    #[default]
    Drift,
    /// By column name.
    Column,
    /// By the test's score.
    Score,
}

/// The Monitor screen.
#[derive(Default)]
pub struct MonitorPanel {
    /// The running monitor job.
    pub job: Option<JobId>,
    /// The last report (kept on screen while a new one computes).
    pub result: Option<MonitorReport>,
    /// What produced it.
    pub stamp: Stamp,
    /// The feature whose distributions are shown.
    pub feature: Option<String>,
    /// How the drift table is ordered.
    pub order: Order,
    /// Reports received so far (new reports reset the plots' bounds).
    pub generation: u64,
    /// Follow mode: what the current data looked like when it was last monitored, and when it
    /// was last looked at.
    followed: Option<(Signature, std::time::Instant)>,
}

/// What changes when data grows: its files' count, total size and newest change.
type Signature = (usize, u64, Option<std::time::SystemTime>);

/// The signature of a file, or of a folder's files (a prediction log and its labels).
fn signature(path: &std::path::Path) -> Signature {
    let mut sig: Signature = (0, 0, None);
    let mut add = |m: std::fs::Metadata| {
        sig.0 += 1;
        sig.1 += m.len();
        sig.2 = sig.2.max(m.modified().ok());
    };
    if path.is_dir() {
        for dir in [path.to_path_buf(), path.join("labels"), path.join("rejected")] {
            for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
                let name = entry.file_name();
                if !name.to_string_lossy().starts_with('.')
                    && entry.path().is_file()
                    && let Ok(m) = entry.metadata()
                {
                    add(m);
                }
            }
        }
    } else if let Ok(m) = std::fs::metadata(path) {
        add(m);
    }
    sig
}

/// How strongly a column drifted, comparable across tests: the score over its threshold for
/// distances, the threshold over the p-value for p-value tests (above 1: drift).
pub fn severity_of(c: &ColumnDrift) -> f64 {
    if c.test.is_p_value() { c.threshold / c.score.max(1e-300) } else { c.score / c.threshold.max(1e-300) }
}

impl MonitorPanel {
    /// Follow mode: once a second, look at the current data; when it changed since it was last
    /// monitored (and no run is under way), monitor it again.
    fn follow(&mut self, ctx: &mut Ctx<'_>, ui: &egui::Ui, running: bool) {
        let m = &ctx.ws.monitor;
        let Some(current) = m.current.clone().filter(|_| m.follow && m.reference.is_some()) else {
            self.followed = None;
            return;
        };
        let every = std::time::Duration::from_secs(1);
        ui.ctx().request_repaint_after(every);
        if running || self.followed.as_ref().is_some_and(|(_, at)| at.elapsed() < every) {
            return;
        }
        let now = signature(&current);
        let changed = self.followed.as_ref().is_none_or(|(seen, _)| *seen != now);
        self.followed =
            Some((if changed { now } else { self.followed.map_or(now, |f| f.0) }, std::time::Instant::now()));
        if changed && now.0 > 0 {
            ctx.send(Command::Monitor);
        }
    }

    /// A report arrived: show its most drifted feature (or, following data, the feature shown).
    pub fn set_result(&mut self, report: MonitorReport, stamp: Stamp) {
        let kept = self.followed.is_some()
            && self.feature.as_ref().is_some_and(|f| report.overall.columns.iter().any(|c| &c.column == f));
        if !kept {
            let most = report.overall.columns.iter().max_by(|a, b| severity_of(a).total_cmp(&severity_of(b)));
            self.feature = most.map(|c| c.column.clone());
        }
        self.result = Some(report);
        self.stamp = stamp;
        self.generation += 1;
    }

    /// Draw it.
    pub fn ui(&mut self, ctx: &mut Ctx<'_>, ui: &mut egui::Ui) {
        let s = ctx.s;
        ui.heading(s.monitor_title);
        data_row(ui, ctx, DataSlot::Reference, s.reference_data);
        data_row(ui, ctx, DataSlot::Current, s.current_data);
        let model = ctx.model().cloned();
        let m = &mut ctx.ws.monitor;
        ui.horizontal(|ui| {
            labelled(ui, s.chunks, s.chunks_tip, egui::TextEdit::singleline(&mut m.chunk).desired_width(60.0));
            let time = egui::TextEdit::singleline(&mut m.time_column).desired_width(110.0);
            labelled(ui, s.time_column, s.time_column_tip, time);
            labelled(ui, s.target_column, s.target_tip, egui::TextEdit::singleline(&mut m.target).desired_width(110.0));
            let exclude = egui::TextEdit::singleline(&mut m.exclude).desired_width(140.0);
            labelled(ui, s.exclude_columns, s.exclude_tip, exclude);
        });
        ui.horizontal(|ui| {
            labelled(ui, s.drift_share, s.drift_share_tip, egui::Slider::new(&mut m.drift_share, 0.05..=1.0));
            let name = model.as_ref().map_or("—".to_string(), |m| m.info().name.clone());
            ui.checkbox(&mut m.use_model, format!("{} ({name})", s.use_model)).on_hover_text(s.use_model_tip);
            labelled(ui, s.alert_rules, s.alert_tip, egui::TextEdit::singleline(&mut m.alerts).desired_width(360.0));
        });
        let running = self.job.is_some_and(|j| ctx.jobs.get(j).is_some_and(|j| j.is_running()));
        ui.horizontal(|ui| {
            let ready = ctx.ws.monitor.reference.is_some() && ctx.ws.monitor.current.is_some() && !running;
            let run =
                ui.add_enabled(ready, egui::Button::new(s.monitor_button)).on_disabled_hover_text(s.choose_both_files);
            if run.clicked() {
                ctx.send(Command::Monitor);
            }
            if self.result.is_some() && ui.button(s.save_table_csv).clicked() {
                ctx.send(Command::ExportDialog(Export::DriftTable));
            }
            if ui.button(s.export_profile).on_hover_text(s.export_profile_tip).clicked() {
                ctx.send(Command::ExportDialog(Export::ReferenceProfile));
            }
            ui.checkbox(&mut ctx.ws.monitor.follow, s.monitor_follow).on_hover_text(s.monitor_follow_tip);
            if let (Some(log), Some(model)) = (ctx.server_log.clone(), ctx.model().map(|m| m.info().name.clone()))
                && ui.button(s.monitor_follow_server).on_hover_text(s.monitor_follow_server_tip).clicked()
            {
                let m = &mut ctx.ws.monitor;
                m.current = Some(log.join(model));
                // Chunked by the hour of the logged time.
                m.time_column = "time".into();
                m.chunk = "1h".into();
                m.follow = true;
                self.followed = None;
            }
        });
        self.follow(ctx, ui, running);
        if let Some(job) = self.job {
            job_progress(ui, ctx, job);
        }
        let Some(report) = &self.result else { return };
        let now = ctx.ws.monitor.stamp(model.as_ref());
        out_of_date_ui(ui, s, &self.stamp, &now, &format!("{} {}", s.monitor_of, report.chunking));
        alerts_ui(ui, s, report);
        for note in &report.notes {
            ui.colored_label(ui.visuals().warn_fg_color, format!("• {note}"));
        }
        if let Some(t) = &report.target_drift {
            let verdict = if t.drift { s.drifted } else { s.stable };
            ui.label(format!(
                "{} '{}': {} {} — {verdict} ({})",
                s.target_drift,
                t.column,
                test_name(t.test),
                score_text(t),
                s.not_in_share
            ));
        }
        let generation = self.generation;
        egui::ScrollArea::vertical().id_salt("monitor-result").show(ui, |ui| {
            ui.columns(2, |cols| {
                if let Some(clicked) =
                    drift_table(&mut cols[0], s, &report.overall.columns, self.feature.as_deref(), &mut self.order)
                {
                    self.feature = Some(clicked);
                }
                let chosen = self.feature.as_ref().and_then(|f| report.overall.columns.iter().find(|c| &c.column == f));
                if let Some(col) = chosen {
                    distribution_ui(&mut cols[1], ctx, col, generation);
                    psi_ui(&mut cols[1], s, col);
                    let key = format!("drift:{}", col.column);
                    let series = per_chunk(report, |c| c.drift_scores.get(&col.column).copied());
                    over_time(
                        &mut cols[1],
                        ctx,
                        &format!("{} — {}", s.drift_over_time, col.column),
                        report,
                        &[(col.column.as_str(), series)],
                        report.bands.get(&key),
                        Some(col.threshold),
                        generation,
                    );
                }
            });
            ui.columns(2, |cols| {
                let share = per_chunk(report, |c| Some(c.share_drifted));
                over_time(
                    &mut cols[0],
                    ctx,
                    s.share_drifted,
                    report,
                    &[(s.share_drifted, share)],
                    None,
                    Some(report.overall.drift_share),
                    generation,
                );
                let pred = per_chunk(report, |c| c.prediction_drift);
                if pred.iter().any(|p| p[1].is_finite()) {
                    over_time(
                        &mut cols[1],
                        ctx,
                        s.prediction_drift,
                        report,
                        &[(s.prediction_drift, pred)],
                        report.bands.get("prediction_drift"),
                        None,
                        generation,
                    );
                }
            });
            performance_ui(ui, ctx, report, generation);
        });
    }
}

/// A drift score as the user reads it: p-values never "0.0000".
fn score_text(c: &ColumnDrift) -> String {
    if c.test.is_p_value() { p_value(c.score) } else { num(Some(c.score), 4) }
}

/// Points (chunk index, value) for a per-chunk quantity (NaN where undefined, so lines break).
fn per_chunk(report: &MonitorReport, f: impl Fn(&crate::core::monitor::ChunkResult) -> Option<f64>) -> Vec<[f64; 2]> {
    report.chunks.iter().map(|c| [c.index as f64, f(c).unwrap_or(f64::NAN)]).collect()
}

fn alerts_ui(ui: &mut egui::Ui, s: &Strings, report: &MonitorReport) {
    if report.alerts.is_empty() {
        ui.colored_label(egui::Color32::from_rgb(60, 170, 90), format!("✔ {}", s.no_alerts));
        return;
    }
    egui::CollapsingHeader::new(format!("⚠ {} ({})", s.alerts, report.alerts.len())).default_open(false).show(
        ui,
        |ui| {
            egui::ScrollArea::vertical().id_salt("alerts").max_height(140.0).show(ui, |ui| {
                for a in &report.alerts {
                    let color = match a.severity {
                        AlertSeverity::Critical => ui.visuals().error_fg_color,
                        AlertSeverity::Warning => ui.visuals().warn_fg_color,
                    };
                    let text =
                        format!("{} · {} · {} · {}", severity(s, a.severity), a.chunk, a.rule, alert_message(s, a));
                    ui.colored_label(color, text);
                }
            });
        },
    );
}

/// The per-feature table, in the chosen order; returns the feature the user clicked.
fn drift_table(
    ui: &mut egui::Ui,
    s: &Strings,
    columns: &[ColumnDrift],
    selected: Option<&str>,
    order: &mut Order,
) -> Option<String> {
    let mut clicked = None;
    let drifted = columns.iter().filter(|c| c.drift).count();
    ui.strong(format!("{}: {drifted} / {} {}", s.data_drift, columns.len(), s.columns_drifted));
    let mut rows: Vec<&ColumnDrift> = columns.iter().collect();
    match order {
        Order::Drift => rows.sort_by(|a, b| severity_of(b).total_cmp(&severity_of(a))),
        Order::Column => rows.sort_by(|a, b| a.column.cmp(&b.column)),
        Order::Score => rows.sort_by(|a, b| b.score.total_cmp(&a.score)),
    }
    egui::ScrollArea::horizontal().id_salt("drift-table-h").show(ui, |ui| {
        egui::Grid::new("drift-table").striped(true).show(ui, |ui| {
            for (label, by) in
                [(s.column, Some(Order::Column)), (s.kind, None), (s.test, None), (s.score, Some(Order::Score))]
            {
                match by {
                    Some(by) => {
                        let mark = if *order == by { " ▼" } else { "" };
                        if ui.selectable_label(false, egui::RichText::new(format!("{label}{mark}")).strong()).clicked()
                        {
                            *order = by;
                        }
                    }
                    None => {
                        ui.strong(label);
                    }
                }
            }
            ui.strong(s.threshold);
            let mark = if *order == Order::Drift { " ▼" } else { "" };
            if ui
                .selectable_label(false, egui::RichText::new(format!("{}{mark}", s.verdict)).strong())
                .on_hover_text(s.sort_by_drift)
                .clicked()
            {
                *order = Order::Drift;
            }
            ui.strong(s.missing_change);
            ui.strong(s.new_categories);
            ui.end_row();
            for c in rows {
                let is_selected = selected == Some(c.column.as_str());
                if ui.selectable_label(is_selected, &c.column).on_hover_text(s.click_feature).clicked() {
                    clicked = Some(c.column.clone());
                }
                ui.label(kind(s, c.kind));
                ui.label(test_name(c.test)).on_hover_text(test_tip(s, c.test));
                ui.monospace(score_text(c));
                ui.monospace(format!("{} {}", if c.test.is_p_value() { "<" } else { "≥" }, num(Some(c.threshold), 3)));
                if c.drift {
                    ui.colored_label(ui.visuals().error_fg_color, format!("● {}", s.drifted));
                } else {
                    ui.colored_label(egui::Color32::from_rgb(60, 170, 90), format!("● {}", s.stable));
                }
                ui.monospace(format!("{:+.2} pp", (c.current_missing - c.reference_missing) * 100.0));
                ui.label(c.new_categories.join(", "));
                ui.end_row();
            }
        });
        // Room for the scroll bar, which floats over the last row otherwise.
        ui.add_space(12.0);
    });
    clicked
}

fn distribution_ui(ui: &mut egui::Ui, ctx: &mut Ctx<'_>, col: &ColumnDrift, generation: u64) {
    let s = ctx.s;
    let bins = &col.bins;
    let title = format!("{} — {}", s.distributions, col.column);
    ui.strong(&title);
    let centre = |i: usize| match &bins.edges {
        Some(e) => (e[i] + e[i + 1]) / 2.0,
        None => i as f64,
    };
    let width = |i: usize| match &bins.edges {
        Some(e) => (e[i + 1] - e[i]) * 0.45,
        None => 0.4,
    };
    let bars = |shares: &[f64], side: f64| -> Vec<Bar> {
        shares
            .iter()
            .enumerate()
            .map(|(i, v)| Bar::new(centre(i) + side * width(i) / 2.0, *v).width(width(i)))
            .collect()
    };
    let (reference, current) = (bars(&bins.reference, -1.0), bars(&bins.current, 1.0));
    if bins.edges.is_none() {
        ui.label(bins.labels.iter().enumerate().map(|(i, l)| format!("{i}: {l}")).collect::<Vec<_>>().join("  "));
    }
    let x = if bins.edges.is_some() { col.column.as_str() } else { s.category };
    saveable_plot(ui, ctx, &title, |ui| {
        plot(ui, ("dist", &col.column), generation, x, s.share_of_rows).height(190.0).show(ui, |p| {
            p.bar_chart(BarChart::new(s.reference, reference).color(SERIES[0]));
            p.bar_chart(BarChart::new(s.current, current).color(SERIES[1]));
        });
    });
    legend_below(ui, &[(s.reference, SERIES[0], false), (s.current, SERIES[1], false)]);
}

/// Each bin's share of the population stability index: where the change comes from.
fn psi_ui(ui: &mut egui::Ui, s: &Strings, col: &ColumnDrift) {
    let bins = &col.bins;
    let mut order: Vec<usize> = (0..bins.labels.len()).collect();
    order.sort_by(|&a, &b| bins.psi_contribution[b].abs().total_cmp(&bins.psi_contribution[a].abs()));
    let total: f64 = bins.psi_contribution.iter().sum();
    egui::CollapsingHeader::new(format!("{} (PSI = {total:.4})", s.psi_by_bin)).id_salt(("psi", &col.column)).show(
        ui,
        |ui| {
            egui::ScrollArea::vertical().id_salt(("psi-rows", &col.column)).max_height(150.0).show(ui, |ui| {
                egui::Grid::new(("psi-grid", &col.column)).striped(true).show(ui, |ui| {
                    for h in [s.bin, s.reference, s.current, "PSI"] {
                        ui.strong(h);
                    }
                    ui.end_row();
                    for i in order {
                        ui.monospace(&bins.labels[i]);
                        ui.monospace(format!("{:.2} %", bins.reference[i] * 100.0));
                        ui.monospace(format!("{:.2} %", bins.current[i] * 100.0));
                        ui.monospace(format!("{:.4}", bins.psi_contribution[i]));
                        ui.end_row();
                    }
                });
            });
        },
    );
}

#[allow(clippy::too_many_arguments)]
fn over_time(
    ui: &mut egui::Ui,
    ctx: &mut Ctx<'_>,
    title: &str,
    report: &MonitorReport,
    series: &[(&str, Vec<[f64; 2]>)],
    band: Option<&Band>,
    threshold: Option<f64>,
    generation: u64,
) {
    let s = ctx.s;
    ui.strong(title);
    let labels: BTreeMap<usize, String> = report.chunks.iter().map(|c| (c.index, c.label.clone())).collect();
    saveable_plot(ui, ctx, title, |ui| {
        plot(ui, title, generation, s.chunk, s.value)
            .height(190.0)
            .x_axis_formatter(move |mark, _| labels.get(&(mark.value.round() as usize)).cloned().unwrap_or_default())
            .show(ui, |p| {
                let n = report.chunks.len().max(1) as f64 - 1.0;
                if let Some(b) = band {
                    for (name, v) in [(s.band_upper, b.upper), (s.band_lower, b.lower)] {
                        p.line(
                            Line::new(name, PlotPoints::from(vec![[0.0, v], [n, v]]))
                                .color(egui::Color32::GRAY)
                                .style(egui_plot::LineStyle::dashed_loose()),
                        );
                    }
                }
                if let Some(t) = threshold {
                    p.line(
                        Line::new(s.threshold, PlotPoints::from(vec![[0.0, t], [n, t]]))
                            .color(THRESHOLD)
                            .style(egui_plot::LineStyle::dashed_dense()),
                    );
                }
                for (i, (name, points)) in series.iter().enumerate() {
                    p.line(Line::new(*name, PlotPoints::from(points.clone())).color(SERIES[i % SERIES.len()]));
                }
            });
    });
    let mut items: Vec<(&str, egui::Color32, bool)> =
        series.iter().enumerate().map(|(i, (n, _))| (*n, SERIES[i % SERIES.len()], false)).collect();
    if threshold.is_some() {
        items.push((s.threshold, THRESHOLD, true));
    }
    if band.is_some() {
        items.push((s.reference_band, egui::Color32::GRAY, true));
    }
    legend_below(ui, &items);
}

fn performance_ui(ui: &mut egui::Ui, ctx: &mut Ctx<'_>, report: &MonitorReport, generation: u64) {
    let s = ctx.s;
    let metrics: Vec<String> = report
        .chunks
        .iter()
        .flat_map(|c| c.performance.keys().cloned())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let estimated_only = report.chunks.iter().any(|c| !c.estimated_performance.is_empty());
    let metric = metrics.iter().find(|m| m.as_str() == "roc_auc").or(metrics.first()).cloned();
    let metric = match (metric, estimated_only) {
        (Some(m), _) => m,
        (None, true) => "roc_auc".to_string(),
        (None, false) => return,
    };
    let realised = per_chunk(report, |c| c.performance.get(&metric).copied().flatten());
    let estimated_key = format!("estimated_{metric}");
    let estimated = per_chunk(report, |c| c.estimated_performance.get(&estimated_key).copied());
    let mut series = Vec::new();
    if realised.iter().any(|p| p[1].is_finite()) {
        series.push((s.realised, realised));
    }
    if estimated.iter().any(|p| p[1].is_finite()) {
        series.push((s.estimated_cbpe, estimated));
    }
    let title = format!("{} — {metric}", s.performance_over_time);
    over_time(ui, ctx, &title, report, &series, report.bands.get(&metric), None, generation);
}
