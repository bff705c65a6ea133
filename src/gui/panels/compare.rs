//! Compare versions. The verdict of the promotion gate stays pinned at the top (with a banner when
//! the settings changed since it was computed); below it, one view at a time: the metric table
//! (each change coloured better or worse, with its paired-bootstrap interval), the ROC / PR /
//! calibration curves and confusion matrices, agreement with the rows whose decision flips, and
//! latency. Wide tables scroll sideways when 3–4 models are compared.

use egui_plot::{Line, PlotPoints};

use crate::core::Evaluation;
use crate::core::compare::Comparison;
use crate::gui::command::{Command, DataSlot, Export};
use crate::gui::ctx::Ctx;
use crate::gui::i18n::Strings;
use crate::gui::jobs::JobId;
use crate::gui::stamp::{Stamp, out_of_date_ui};
use crate::gui::widgets::{
    SERIES, data_row, file_name, job_progress, labelled, legend_below, num, plot, saveable_plot,
};
use crate::gui::words::{p_value, rule_reason};

/// The views under the verdict.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum View {
    /// The metric table.
    #[default]
    Metrics,
    /// Curves and confusion matrices.
    Curves,
    /// Agreement and flipped rows.
    Agreement,
    /// Latency.
    Latency,
}

/// The Compare screen.
#[derive(Default)]
pub struct ComparePanel {
    /// The running comparison.
    pub job: Option<JobId>,
    /// The last comparison (kept on screen while a new one computes).
    pub result: Option<Comparison>,
    /// What produced it.
    pub stamp: Stamp,
    /// The views under the verdict.
    pub views: ComparisonView,
}

/// A comparison's views, one at a time under a selector — the metric table, curves, agreement,
/// latency — on the Compare screen and in Retrain…'s result.
#[derive(Default)]
pub struct ComparisonView {
    /// The view shown.
    pub view: View,
    /// Results received so far (a new one resets the plots' bounds).
    pub generation: u64,
}

impl ComparisonView {
    /// Draw `result`'s views, scrolling within `max_height`; `salt` keeps two places apart.
    pub fn ui(&mut self, ctx: &mut Ctx<'_>, ui: &mut egui::Ui, result: &Comparison, salt: &str, max_height: f32) {
        let s = ctx.s;
        ui.horizontal(|ui| {
            for (view, label) in [
                (View::Metrics, s.metrics),
                (View::Curves, s.curves),
                (View::Agreement, s.agreement),
                (View::Latency, s.latency),
            ] {
                if ui.selectable_label(self.view == view, label).clicked() {
                    self.view = view;
                }
            }
        });
        let generation = self.generation;
        let area = egui::ScrollArea::both().id_salt(salt).auto_shrink(false).max_height(max_height);
        area.show(ui, |ui| match self.view {
            View::Metrics => metric_table(ui, s, result),
            View::Curves => curves_ui(ui, ctx, result, generation),
            View::Agreement => agreement_ui(ui, s, result),
            View::Latency => latency_ui(ui, s, result),
        });
    }
}

impl ComparePanel {
    /// A comparison arrived.
    pub fn set_result(&mut self, result: Comparison, stamp: Stamp) {
        self.result = Some(result);
        self.stamp = stamp;
        self.views.generation += 1;
    }

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
        egui::Grid::new("compare-settings").num_columns(4).show(ui, |ui| {
            let c = &mut ctx.ws.compare;
            labelled(ui, s.target_column, s.target_tip, egui::TextEdit::singleline(&mut c.target).desired_width(120.0));
            labelled(
                ui,
                s.id_column,
                s.id_column_tip,
                egui::TextEdit::singleline(&mut c.id_column).desired_width(120.0),
            );
            ui.end_row();
            labelled(ui, s.threshold, s.threshold_tip, egui::Slider::new(&mut c.threshold, 0.0..=1.0));
            labelled(ui, s.bootstrap, s.bootstrap_tip, egui::DragValue::new(&mut c.bootstrap).range(0..=5000));
            ui.end_row();
        });
        ui.horizontal(|ui| {
            let c = &mut ctx.ws.compare;
            labelled(ui, s.gate_rules, s.gate_tip, egui::TextEdit::singleline(&mut c.gate).desired_width(520.0));
        });
        let running = self.job.is_some_and(|j| ctx.jobs.get(j).is_some_and(|j| j.is_running()));
        ui.horizontal(|ui| {
            let ready = picked.len() >= 2 && ctx.ws.compare.data.is_some() && !running;
            let why = if picked.len() < 2 { s.tick_models } else { s.choose_data_first };
            let run = ui.add_enabled(ready, egui::Button::new(s.compare_button)).on_disabled_hover_text(why);
            if run.clicked() {
                ctx.send(Command::Compare);
            }
            if self.result.is_some() && ui.button(s.save_table_csv).clicked() {
                ctx.send(Command::ExportDialog(Export::CompareTable));
            }
        });
        if let Some(job) = self.job {
            job_progress(ui, ctx, job);
        }
        let Some(result) = &self.result else { return };
        let models: Vec<crate::core::Model> = ctx
            .ws
            .compare_models
            .iter()
            .filter_map(|p| ctx.models.iter().find(|m| &m.info().path == p).cloned())
            .collect();
        let now = ctx.ws.compare.stamp(&models);
        let names: Vec<&str> = result.models.iter().map(|m| m.name.as_str()).collect();
        out_of_date_ui(ui, s, &self.stamp, &now, &format!("{} {}", s.comparison_of, names.join(", ")));
        // Pinned: the verdict stays in view whatever is scrolled below.
        gate_ui(ui, s, result);
        ui.separator();
        self.views.ui(ctx, ui, result, "compare-result", f32::INFINITY);
    }
}

fn gate_ui(ui: &mut egui::Ui, s: &Strings, c: &Comparison) {
    if c.gate.is_empty() {
        ui.label(s.no_gate_rules);
    }
    for verdict in &c.gate {
        let (mark, color, word) = if verdict.passed {
            ("✔", egui::Color32::from_rgb(60, 170, 90), s.gate_pass)
        } else {
            ("✖", ui.visuals().error_fg_color, s.gate_fail)
        };
        ui.colored_label(color, format!("{mark} {}: {} — {word}", s.promotion_gate, verdict.challenger));
        for r in &verdict.results {
            ui.label(format!("   {} {} — {}", if r.passed { "✔" } else { "✖" }, r.rule, rule_reason(s, r)));
        }
    }
}

/// Whether a larger value of `metric` is better.
fn higher_is_better(metric: &str) -> bool {
    !matches!(metric, "log_loss" | "brier" | "mae" | "mse" | "rmse" | "mape" | "max_error")
        && !metric.starts_with("latency")
}

/// The colour of a change: better or worse when its interval excludes zero, plain otherwise.
fn change_colour(ui: &egui::Ui, metric: &str, delta: f64, interval: Option<(f64, f64)>) -> egui::Color32 {
    let sure = interval.is_none_or(|(lo, hi)| lo > 0.0 || hi < 0.0);
    if !sure || delta == 0.0 || !delta.is_finite() {
        return ui.visuals().text_color();
    }
    if (delta > 0.0) == higher_is_better(metric) {
        egui::Color32::from_rgb(60, 170, 90)
    } else {
        ui.visuals().error_fg_color
    }
}

fn metric_table(ui: &mut egui::Ui, s: &Strings, c: &Comparison) {
    let champion = &c.models[0];
    egui::Grid::new("metric-table").striped(true).min_col_width(90.0).show(ui, |ui| {
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
                match d.and_then(|d| d.delta.map(|delta| (delta, d.interval))) {
                    Some((delta, interval)) => {
                        let ci = interval.map(|i| (i.low, i.high));
                        let text = match ci {
                            Some((lo, hi)) => format!("{delta:+.4} [{lo:+.4}, {hi:+.4}]"),
                            None => format!("{delta:+.4}"),
                        };
                        ui.colored_label(change_colour(ui, &name, delta, ci), egui::RichText::new(text).monospace())
                            .on_hover_text(if higher_is_better(&name) { s.higher_better } else { s.lower_better });
                    }
                    None => {
                        ui.monospace("—");
                    }
                }
            }
            ui.end_row();
        }
    });
}

fn curves_ui(ui: &mut egui::Ui, ctx: &mut Ctx<'_>, c: &Comparison, generation: u64) {
    let s = ctx.s;
    let classifiers: Vec<(&str, &crate::core::metrics::ClassificationReport)> = c
        .models
        .iter()
        .filter_map(|m| match &m.evaluation {
            Evaluation::Classification(r) => Some((m.name.as_str(), r.as_ref())),
            Evaluation::Regression(_) => None,
        })
        .collect();
    if classifiers.is_empty() {
        ui.label(s.no_curves);
        return;
    }
    ui.columns(3, |cols| {
        let roc: Vec<_> =
            classifiers.iter().filter_map(|(n, r)| r.roc.as_ref().map(|c| (*n, c.x.clone(), c.y.clone()))).collect();
        let pr: Vec<_> =
            classifiers.iter().filter_map(|(n, r)| r.pr.as_ref().map(|c| (*n, c.x.clone(), c.y.clone()))).collect();
        let cal: Vec<_> = classifiers
            .iter()
            .map(|(n, r)| (*n, r.calibration.mean_predicted.clone(), r.calibration.fraction_positive.clone()))
            .collect();
        curves(&mut cols[0], ctx, s.roc_curve, s.false_positive_rate, s.true_positive_rate, &roc, true, generation);
        curves(&mut cols[1], ctx, s.pr_curve, s.recall, s.precision, &pr, false, generation);
        curves(&mut cols[2], ctx, s.calibration_curve, s.mean_predicted, s.fraction_positive, &cal, true, generation);
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
            ui.add_space(16.0);
        }
    });
}

#[allow(clippy::too_many_arguments)]
fn curves(
    ui: &mut egui::Ui,
    ctx: &mut Ctx<'_>,
    title: &str,
    x: &str,
    y: &str,
    series: &[(&str, Vec<f64>, Vec<f64>)],
    diagonal: bool,
    generation: u64,
) {
    ui.strong(title);
    let chance = ctx.s.chance;
    saveable_plot(ui, ctx, title, |ui| {
        plot(ui, title, generation, x, y).height(220.0).data_aspect(1.0).show(ui, |p| {
            if diagonal {
                p.line(
                    Line::new(chance, PlotPoints::from(vec![[0.0, 0.0], [1.0, 1.0]]))
                        .color(egui::Color32::GRAY)
                        .style(egui_plot::LineStyle::dashed_loose()),
                );
            }
            for (i, (name, xs, ys)) in series.iter().enumerate() {
                let points: Vec<[f64; 2]> = xs.iter().zip(ys).map(|(a, b)| [*a, *b]).collect();
                p.line(Line::new(*name, PlotPoints::from(points)).color(SERIES[i % SERIES.len()]));
            }
        });
    });
    let mut items: Vec<(&str, egui::Color32, bool)> =
        series.iter().enumerate().map(|(i, (n, _, _))| (*n, SERIES[i % SERIES.len()], false)).collect();
    if diagonal {
        items.push((chance, egui::Color32::GRAY, true));
    }
    legend_below(ui, &items);
}

fn agreement_ui(ui: &mut egui::Ui, s: &Strings, c: &Comparison) {
    if c.agreement.is_empty() {
        ui.label(s.no_agreement);
    }
    for a in &c.agreement {
        ui.strong(format!("{} — {} / {}", s.agreement, c.champion, a.challenger));
        ui.label(format!("{}: {:.2} %", s.agreement_rate, a.agreement_rate * 100.0));
        ui.label(format!("Cohen κ: {}", num(a.cohen_kappa, 4))).on_hover_text(s.kappa_tip);
        ui.label(format!(
            "McNemar: {} = {:.3}, p {}{}",
            if a.mcnemar.exact { "min(b, c)" } else { "χ²" },
            a.mcnemar.statistic,
            match p_value(a.mcnemar.p_value) {
                p if p.starts_with('<') => p,
                p => format!("= {p}"),
            },
            if a.mcnemar.exact { " (exact)" } else { "" }
        ))
        .on_hover_text(s.mcnemar_tip);
        ui.label(format!("{}: {}", s.flipped_rows, a.flip_count));
        let row_height = ui.text_style_height(&egui::TextStyle::Monospace) + 4.0;
        let cell = |ui: &mut egui::Ui, text: String, width: f32| {
            ui.add_sized([width, row_height], egui::Label::new(egui::RichText::new(text).monospace()).truncate());
        };
        ui.horizontal(|ui| {
            for (h, w) in [
                (s.row, 70.0),
                (s.id, 110.0),
                (s.truth, 70.0),
                (c.champion.as_str(), 150.0),
                (a.challenger.as_str(), 150.0),
            ] {
                cell(ui, h.to_string(), w);
            }
        });
        egui::ScrollArea::vertical().id_salt(("flips", &a.challenger)).max_height(420.0).show_rows(
            ui,
            row_height,
            a.flips.len(),
            |ui, range| {
                for f in &a.flips[range] {
                    ui.horizontal(|ui| {
                        cell(ui, f.row.to_string(), 70.0);
                        cell(ui, f.id.clone().unwrap_or_default(), 110.0);
                        cell(ui, f.truth.clone(), 70.0);
                        cell(ui, format!("{} ({:.3})", f.champion_label, f.champion_score), 150.0);
                        cell(ui, format!("{} ({:.3})", f.challenger_label, f.challenger_score), 150.0);
                    });
                }
            },
        );
        ui.separator();
    }
}

fn latency_ui(ui: &mut egui::Ui, s: &Strings, c: &Comparison) {
    ui.label(s.latency_tip);
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
