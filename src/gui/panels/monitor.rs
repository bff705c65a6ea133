//! Monitor: a drift table per feature (test, score, threshold, verdict), the chosen feature's
//! reference and current distributions overlaid, drift and performance over time with the
//! reference band, prediction drift, and the alerts raised.

use std::collections::BTreeMap;

use egui_plot::{Bar, BarChart, Legend, Line, Plot, PlotPoints};

use crate::core::drift::{ColumnDrift, DriftTest};
use crate::core::monitor::{Band, MonitorReport};
use crate::gui::command::{Command, DataSlot, Export};
use crate::gui::ctx::Ctx;
use crate::gui::i18n::{Strings, test_tip};
use crate::gui::jobs::JobId;
use crate::gui::widgets::{data_row, job_progress, labelled, num, saveable_plot};

/// The Monitor screen.
#[derive(Default)]
pub struct MonitorPanel {
    /// The running monitor job.
    pub job: Option<JobId>,
    /// The last report (kept on screen while a new one computes).
    pub result: Option<MonitorReport>,
    /// The feature whose distributions are shown.
    pub feature: Option<String>,
}

impl MonitorPanel {
    /// Draw it.
    pub fn ui(&mut self, ctx: &mut Ctx<'_>, ui: &mut egui::Ui) {
        let s = ctx.s;
        ui.heading(s.monitor_title);
        data_row(ui, ctx, DataSlot::Reference, s.reference_data);
        data_row(ui, ctx, DataSlot::Current, s.current_data);
        let model = ctx.model().map(|m| m.info().name.clone());
        let m = &mut ctx.ws.monitor;
        ui.horizontal(|ui| {
            labelled(ui, s.chunks, s.chunks_tip, egui::TextEdit::singleline(&mut m.chunk).desired_width(60.0));
            let time = egui::TextEdit::singleline(&mut m.time_column).desired_width(110.0);
            labelled(ui, s.time_column, s.time_column_tip, time);
            labelled(ui, s.target_column, s.target_tip, egui::TextEdit::singleline(&mut m.target).desired_width(110.0));
        });
        ui.horizontal(|ui| {
            labelled(ui, s.drift_share, s.drift_share_tip, egui::Slider::new(&mut m.drift_share, 0.05..=1.0));
            let label = format!("{} ({})", s.use_model, model.as_deref().unwrap_or("—"));
            ui.checkbox(&mut m.use_model, label).on_hover_text(s.use_model_tip);
        });
        ui.horizontal(|ui| {
            labelled(ui, s.alert_rules, s.alert_tip, egui::TextEdit::singleline(&mut m.alerts).desired_width(420.0));
            let exclude = egui::TextEdit::singleline(&mut m.exclude).desired_width(160.0);
            labelled(ui, s.exclude_columns, s.exclude_tip, exclude);
        });
        let running = self.job.is_some_and(|j| ctx.jobs.get(j).is_some_and(|j| j.is_running()));
        ui.horizontal(|ui| {
            let ready = ctx.ws.monitor.reference.is_some() && ctx.ws.monitor.current.is_some() && !running;
            if ui.add_enabled(ready, egui::Button::new(s.monitor_button)).clicked() {
                ctx.send(Command::Monitor);
            }
            if self.result.is_some() && ui.button(s.save_table_csv).clicked() {
                ctx.send(Command::ExportDialog(Export::DriftTable));
            }
            if ui.button(s.export_profile).on_hover_text(s.export_profile_tip).clicked() {
                ctx.send(Command::ExportDialog(Export::ReferenceProfile));
            }
        });
        if let Some(job) = self.job {
            job_progress(ui, ctx, job);
        }
        let Some(report) = &self.result else { return };
        egui::ScrollArea::vertical().id_salt("monitor-result").show(ui, |ui| {
            alerts_ui(ui, s, report);
            if let Some(clicked) = drift_table(ui, s, &report.overall.columns, self.feature.as_deref()) {
                self.feature = Some(clicked);
            }
            let feature = self.feature.clone().or_else(|| report.overall.columns.first().map(|c| c.column.clone()));
            ui.columns(2, |cols| {
                if let Some(col) = feature.as_ref().and_then(|f| report.overall.columns.iter().find(|c| &c.column == f))
                {
                    distribution_ui(&mut cols[0], ctx, col);
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
                    );
                }
            });
            performance_ui(ui, ctx, report);
        });
    }
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
    egui::CollapsingHeader::new(format!("⚠ {} ({})", s.alerts, report.alerts.len())).default_open(true).show(
        ui,
        |ui| {
            for a in &report.alerts {
                let color = match a.severity {
                    crate::core::monitor::AlertSeverity::Critical => ui.visuals().error_fg_color,
                    crate::core::monitor::AlertSeverity::Warning => ui.visuals().warn_fg_color,
                };
                ui.colored_label(color, format!("{} · {} · {}", a.chunk, a.rule, a.message));
            }
        },
    );
}

/// The per-feature table; returns the feature the user clicked.
fn drift_table(ui: &mut egui::Ui, s: &Strings, columns: &[ColumnDrift], selected: Option<&str>) -> Option<String> {
    let mut clicked = None;
    let drifted = columns.iter().filter(|c| c.drift).count();
    ui.strong(format!("{}: {drifted} / {} {}", s.data_drift, columns.len(), s.columns_drifted));
    egui::Grid::new("drift-table").striped(true).show(ui, |ui| {
        for h in [s.column, s.kind, s.test, s.score, s.threshold, s.verdict, s.missing_change, s.new_categories] {
            ui.strong(h);
        }
        ui.end_row();
        for c in columns {
            let is_selected = selected == Some(c.column.as_str());
            if ui.selectable_label(is_selected, &c.column).on_hover_text(s.click_feature).clicked() {
                clicked = Some(c.column.clone());
            }
            ui.label(c.kind.as_str());
            ui.label(test_name(c.test)).on_hover_text(test_tip(s, c.test));
            ui.monospace(num(Some(c.score), 4));
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
    clicked
}

/// The test's short name.
pub fn test_name(test: DriftTest) -> &'static str {
    match test {
        DriftTest::Ks => "K-S p-value",
        DriftTest::Chisquare => "χ² p-value",
        DriftTest::Z => "Z-test p-value",
        DriftTest::Wasserstein => "Wasserstein (normed)",
        DriftTest::Jensenshannon => "Jensen-Shannon",
        DriftTest::Psi => "PSI",
        DriftTest::Hellinger => "Hellinger",
    }
}

fn distribution_ui(ui: &mut egui::Ui, ctx: &mut Ctx<'_>, col: &ColumnDrift) {
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
    let reference: Vec<Bar> = bins
        .reference
        .iter()
        .enumerate()
        .map(|(i, v)| Bar::new(centre(i) - width(i) / 2.0, *v).width(width(i)))
        .collect();
    let current: Vec<Bar> = bins
        .current
        .iter()
        .enumerate()
        .map(|(i, v)| Bar::new(centre(i) + width(i) / 2.0, *v).width(width(i)))
        .collect();
    if bins.edges.is_none() {
        ui.label(bins.labels.iter().enumerate().map(|(i, l)| format!("{i}: {l}")).collect::<Vec<_>>().join("  "));
    }
    saveable_plot(ui, ctx, &title, |ui| {
        Plot::new(("dist", &col.column)).height(200.0).legend(Legend::default()).allow_drag(false).show(ui, |p| {
            p.bar_chart(BarChart::new(s.reference, reference).color(egui::Color32::from_rgb(90, 140, 220)));
            p.bar_chart(BarChart::new(s.current, current).color(egui::Color32::from_rgb(230, 140, 60)));
        });
    });
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
) {
    let s = ctx.s;
    ui.strong(title);
    let labels: BTreeMap<usize, String> = report.chunks.iter().map(|c| (c.index, c.label.clone())).collect();
    saveable_plot(ui, ctx, title, |ui| {
        Plot::new(title)
            .height(200.0)
            .legend(Legend::default())
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
                            .color(egui::Color32::from_rgb(200, 60, 60)),
                    );
                }
                for (name, points) in series {
                    p.line(Line::new(*name, PlotPoints::from(points.clone())));
                }
            });
    });
}

fn performance_ui(ui: &mut egui::Ui, ctx: &mut Ctx<'_>, report: &MonitorReport) {
    let s = ctx.s;
    let metrics: Vec<String> = report
        .chunks
        .iter()
        .flat_map(|c| c.performance.keys().cloned())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let Some(metric) = metrics.iter().find(|m| m.as_str() == "roc_auc").or(metrics.first()).cloned() else { return };
    let realised = per_chunk(report, |c| c.performance.get(&metric).copied().flatten());
    let estimated_key = format!("estimated_{metric}");
    let estimated = per_chunk(report, |c| c.estimated_performance.get(&estimated_key).copied());
    let mut series = vec![(s.realised, realised)];
    if estimated.iter().any(|p| p[1].is_finite()) {
        series.push((s.estimated_cbpe, estimated));
    }
    let title = format!("{} — {metric}", s.performance_over_time);
    over_time(ui, ctx, &title, report, &series, report.bands.get(&metric), None);
}
