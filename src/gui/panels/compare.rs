//! Compare versions: the metric table with deltas and bootstrap intervals, ROC / PR / calibration
//! curves overlaid, confusion matrices side by side, agreement and flipped rows, latency, and the
//! promotion gate's verdict with its reasons.

use egui_plot::{Legend, Line, Plot, PlotPoints};

use crate::core::Evaluation;
use crate::core::compare::Comparison;
use crate::gui::command::{Command, DataSlot, Export};
use crate::gui::ctx::Ctx;
use crate::gui::i18n::Strings;
use crate::gui::jobs::JobId;
use crate::gui::widgets::{data_row, file_name, job_progress, labelled, num, saveable_plot};

/// The Compare screen.
#[derive(Default)]
pub struct ComparePanel {
    /// The running comparison.
    pub job: Option<JobId>,
    /// The last comparison (kept on screen while a new one computes).
    pub result: Option<Comparison>,
}

impl ComparePanel {
    /// Draw it.
    pub fn ui(&mut self, ctx: &mut Ctx<'_>, ui: &mut egui::Ui) {
        let s = ctx.s;
        ui.heading(s.compare_versions);
        let picked: Vec<String> = ctx.ws.compare_models.iter().map(|p| file_name(p)).collect();
        ui.horizontal(|ui| {
            ui.strong(s.models);
            if picked.is_empty() {
                ui.label(s.tick_models);
            }
            for (i, name) in picked.iter().enumerate() {
                ui.monospace(if i == 0 { format!("{name} ({})", s.champion) } else { name.clone() });
            }
        });
        data_row(ui, ctx, DataSlot::Compare, s.labelled_data);
        egui::Grid::new("compare-settings").num_columns(2).show(ui, |ui| {
            let c = &mut ctx.ws.compare;
            labelled(ui, s.target_column, s.target_tip, egui::TextEdit::singleline(&mut c.target));
            ui.end_row();
            labelled(ui, s.gate_rules, s.gate_tip, egui::TextEdit::singleline(&mut c.gate).desired_width(420.0));
            ui.end_row();
            labelled(ui, s.threshold, s.threshold_tip, egui::Slider::new(&mut c.threshold, 0.0..=1.0));
            ui.end_row();
            labelled(ui, s.bootstrap, s.bootstrap_tip, egui::DragValue::new(&mut c.bootstrap).range(0..=5000));
            ui.end_row();
        });
        let running = self.job.is_some_and(|j| ctx.jobs.get(j).is_some_and(|j| j.is_running()));
        ui.horizontal(|ui| {
            let ready = picked.len() >= 2 && ctx.ws.compare.data.is_some() && !running;
            if ui.add_enabled(ready, egui::Button::new(s.compare_button)).clicked() {
                ctx.send(Command::Compare);
            }
            if self.result.is_some() && ui.button(s.save_table_csv).clicked() {
                ctx.send(Command::ExportDialog(Export::CompareTable));
            }
        });
        if let Some(job) = self.job {
            job_progress(ui, ctx, job);
        }
        if let Some(result) = &self.result {
            egui::ScrollArea::vertical().id_salt("compare-result").show(ui, |ui| result_ui(ui, ctx, result));
        }
    }
}

fn result_ui(ui: &mut egui::Ui, ctx: &mut Ctx<'_>, c: &Comparison) {
    let s = ctx.s;
    gate_ui(ui, s, c);
    metric_table(ui, s, c);
    let classifiers: Vec<(&str, &crate::core::metrics::ClassificationReport)> = c
        .models
        .iter()
        .filter_map(|m| match &m.evaluation {
            Evaluation::Classification(r) => Some((m.name.as_str(), r.as_ref())),
            Evaluation::Regression(_) => None,
        })
        .collect();
    if !classifiers.is_empty() {
        ui.columns(3, |cols| {
            let roc: Vec<_> = classifiers
                .iter()
                .filter_map(|(n, r)| r.roc.as_ref().map(|c| (*n, c.x.clone(), c.y.clone())))
                .collect();
            let pr: Vec<_> =
                classifiers.iter().filter_map(|(n, r)| r.pr.as_ref().map(|c| (*n, c.x.clone(), c.y.clone()))).collect();
            let cal: Vec<_> = classifiers
                .iter()
                .map(|(n, r)| (*n, r.calibration.mean_predicted.clone(), r.calibration.fraction_positive.clone()))
                .collect();
            curves(&mut cols[0], ctx, s.roc_curve, "FPR", "TPR", &roc, true);
            curves(&mut cols[1], ctx, s.pr_curve, "recall", "precision", &pr, false);
            curves(&mut cols[2], ctx, s.calibration_curve, s.mean_predicted, s.fraction_positive, &cal, true);
        });
        ui.strong(s.confusion_matrices).on_hover_text(s.confusion_tip);
        ui.horizontal_top(|ui| {
            for (name, r) in &classifiers {
                ui.vertical(|ui| {
                    ui.monospace(*name);
                    egui::Grid::new(("cm", *name)).striped(true).show(ui, |ui| {
                        ui.label(format!("{} \\ {}", s.truth, s.predicted));
                        for class in &r.confusion_matrix.classes {
                            ui.strong(class);
                        }
                        ui.end_row();
                        for (class, row) in r.confusion_matrix.classes.iter().zip(&r.confusion_matrix.counts) {
                            ui.strong(class);
                            for n in row {
                                ui.monospace(n.to_string());
                            }
                            ui.end_row();
                        }
                    });
                });
            }
        });
    }
    agreement_ui(ui, s, c);
    latency_ui(ui, s, c);
}

fn gate_ui(ui: &mut egui::Ui, s: &Strings, c: &Comparison) {
    for verdict in &c.gate {
        let (mark, color, word) = if verdict.passed {
            ("✔", egui::Color32::from_rgb(60, 170, 90), s.gate_pass)
        } else {
            ("✖", ui.visuals().error_fg_color, s.gate_fail)
        };
        ui.colored_label(color, format!("{mark} {}: {} — {word}", s.promotion_gate, verdict.challenger));
        for r in &verdict.results {
            ui.label(format!("   {} {} — {}", if r.passed { "✔" } else { "✖" }, r.rule, r.reason));
        }
    }
}

fn metric_table(ui: &mut egui::Ui, s: &Strings, c: &Comparison) {
    let champion = &c.models[0];
    egui::CollapsingHeader::new(s.metrics).default_open(true).show(ui, |ui| {
        egui::Grid::new("metric-table").striped(true).show(ui, |ui| {
            ui.strong(s.metric);
            for m in &c.models {
                ui.strong(&m.name);
            }
            for m in &c.models[1..] {
                ui.strong(format!("Δ {} [95 % CI]", m.name)).on_hover_text(s.delta_tip);
            }
            ui.end_row();
            let names: Vec<String> = match &champion.evaluation {
                Evaluation::Classification(r) => r.metrics.keys().cloned().collect(),
                Evaluation::Regression(r) => r.metrics.keys().cloned().collect(),
            };
            for name in names {
                ui.monospace(&name).on_hover_text(crate::gui::i18n::metric_tip(s, &name));
                for m in &c.models {
                    ui.monospace(num(m.evaluation.metric(&name), 4));
                }
                for m in &c.models[1..] {
                    let d = c.deltas.iter().find(|d| d.challenger == m.name && d.metric == name);
                    let text = match d {
                        Some(d) => match &d.interval {
                            Some(i) => format!("{:+.4} [{:+.4}, {:+.4}]", d.delta.unwrap_or(f64::NAN), i.low, i.high),
                            None => num(d.delta, 4),
                        },
                        None => "—".into(),
                    };
                    ui.monospace(text);
                }
                ui.end_row();
            }
        });
    });
}

fn curves(
    ui: &mut egui::Ui,
    ctx: &mut Ctx<'_>,
    title: &str,
    x: &str,
    y: &str,
    series: &[(&str, Vec<f64>, Vec<f64>)],
    diagonal: bool,
) {
    ui.strong(title);
    let x = x.to_string();
    let y = y.to_string();
    saveable_plot(ui, ctx, title, |ui| {
        Plot::new(title).height(220.0).legend(Legend::default()).x_axis_label(x).y_axis_label(y).data_aspect(1.0).show(
            ui,
            |p| {
                if diagonal {
                    p.line(Line::new("—", PlotPoints::from(vec![[0.0, 0.0], [1.0, 1.0]])).color(egui::Color32::GRAY));
                }
                for (name, xs, ys) in series {
                    let points: Vec<[f64; 2]> = xs.iter().zip(ys).map(|(a, b)| [*a, *b]).collect();
                    p.line(Line::new(*name, PlotPoints::from(points)));
                }
            },
        );
    });
}

fn agreement_ui(ui: &mut egui::Ui, s: &Strings, c: &Comparison) {
    for a in &c.agreement {
        egui::CollapsingHeader::new(format!("{} — {} / {}", s.agreement, c.champion, a.challenger))
            .default_open(true)
            .show(ui, |ui| {
                ui.label(format!("{}: {:.2} %", s.agreement_rate, a.agreement_rate * 100.0));
                ui.label(format!("Cohen κ: {}", num(a.cohen_kappa, 4))).on_hover_text(s.kappa_tip);
                ui.label(format!(
                    "McNemar: χ² = {:.3}, p = {:.4}{}",
                    a.mcnemar.statistic,
                    a.mcnemar.p_value,
                    if a.mcnemar.exact { " (exact)" } else { "" }
                ))
                .on_hover_text(s.mcnemar_tip);
                ui.label(format!("{}: {}", s.flipped_rows, a.flip_count));
                let row_height = ui.text_style_height(&egui::TextStyle::Monospace) + 4.0;
                let cell = |ui: &mut egui::Ui, text: String| {
                    ui.add_sized([150.0, row_height], egui::Label::new(egui::RichText::new(text).monospace()));
                };
                ui.horizontal(|ui| {
                    for h in [s.row, s.truth, c.champion.as_str(), a.challenger.as_str()] {
                        cell(ui, h.to_string());
                    }
                });
                egui::ScrollArea::vertical().id_salt(("flips", &a.challenger)).max_height(160.0).show_rows(
                    ui,
                    row_height,
                    a.flips.len(),
                    |ui, range| {
                        for f in &a.flips[range] {
                            ui.horizontal(|ui| {
                                cell(ui, f.row.to_string());
                                cell(ui, f.truth.clone());
                                cell(ui, format!("{} ({:.3})", f.champion_label, f.champion_score));
                                cell(ui, format!("{} ({:.3})", f.challenger_label, f.challenger_score));
                            });
                        }
                    },
                );
            });
    }
}

fn latency_ui(ui: &mut egui::Ui, s: &Strings, c: &Comparison) {
    ui.strong(s.latency).on_hover_text(s.latency_tip);
    egui::Grid::new("latency").striped(true).show(ui, |ui| {
        for h in ["", "p50", "p95", "p99"] {
            ui.strong(h);
        }
        ui.end_row();
        for m in &c.models {
            if let Some(l) = &m.latency {
                ui.monospace(&m.name);
                for v in [l.p50_ms, l.p95_ms, l.p99_ms] {
                    ui.monospace(format!("{v:.3} ms"));
                }
                ui.end_row();
            }
        }
    });
}
