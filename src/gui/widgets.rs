//! Small pieces the screens share: number formatting with units, the data-file chooser row,
//! plots with a "Save PNG" button, histograms, and virtualised tables.

use std::path::Path;

use egui_plot::{Bar, Plot};
use polars::prelude::DataFrame;

use super::command::{Command, DataSlot};
use super::ctx::Ctx;

/// A value with `digits` decimals, or an em dash when undefined.
pub fn num(value: Option<f64>, digits: usize) -> String {
    match value {
        Some(v) if v.is_finite() => format!("{v:.digits$}"),
        Some(v) => format!("{v}"),
        None => "—".into(),
    }
}

/// A labelled input: the label (with its tooltip) then the widget, tied together for screen
/// readers and tests.
pub fn labelled(ui: &mut egui::Ui, label: &str, tip: &str, widget: impl egui::Widget) -> egui::Response {
    let label = ui.label(label).on_hover_text(tip);
    ui.add(widget).labelled_by(label.id)
}

/// A size in bytes, in the largest unit that keeps it above 1.
pub fn bytes(n: u64) -> String {
    match n {
        n if n >= 1 << 30 => format!("{:.1} GiB", n as f64 / (1u64 << 30) as f64),
        n if n >= 1 << 20 => format!("{:.1} MiB", n as f64 / (1u64 << 20) as f64),
        n if n >= 1 << 10 => format!("{:.1} KiB", n as f64 / 1024.0),
        n => format!("{n} B"),
    }
}

/// A file's name for display.
pub fn file_name(path: &Path) -> String {
    path.file_name().map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned())
}

/// The row that shows the file chosen for `slot`, with a Browse button and the sample files.
pub fn data_row(ui: &mut egui::Ui, ctx: &mut Ctx<'_>, slot: DataSlot, label: &str) {
    let s = ctx.s;
    ui.horizontal(|ui| {
        ui.strong(label);
        let current = ctx.ws.data(slot).map_or_else(|| s.no_file.to_string(), |p| file_name(p));
        ui.monospace(current).on_hover_text(ctx.ws.data(slot).map(|p| p.display().to_string()).unwrap_or_default());
        if ui.button(s.browse).on_hover_text(s.browse_tip).clicked() {
            ctx.send(Command::OpenDataDialog(slot));
        }
        let recent: Vec<_> = ctx
            .ws
            .recent
            .iter()
            .filter(|p| p.extension().is_some_and(|e| e == "csv" || e == "parquet"))
            .cloned()
            .collect();
        if !recent.is_empty() {
            egui::ComboBox::from_id_salt(("recent", slot as u8)).selected_text(s.recent).show_ui(ui, |ui| {
                for path in recent {
                    if ui.selectable_label(false, file_name(&path)).clicked() {
                        ctx.send(Command::SetData(slot, path));
                    }
                }
            });
        }
    });
}

/// A plot with a small "Save PNG" button above it; the button saves what is on screen.
pub fn saveable_plot(ui: &mut egui::Ui, ctx: &mut Ctx<'_>, name: &str, add: impl FnOnce(&mut egui::Ui)) {
    let button = ui.small_button(format!("{} — {name}", ctx.s.save_png)).on_hover_text(ctx.s.save_png_tip);
    let rect = plot_frame(ui, add);
    if button.clicked() {
        ctx.send(Command::SavePlot { name: name.to_string(), rect });
    }
}

/// A plot that leaves the mouse wheel to the page: it zooms and pans only while Ctrl (⌘) is held,
/// and its bounds start afresh for every new result (`generation` is part of its id). Axis titles
/// always.
pub fn plot<'a>(
    ui: &egui::Ui,
    id: impl std::hash::Hash + std::fmt::Debug,
    generation: u64,
    x: &str,
    y: &str,
) -> Plot<'a> {
    let held = ui.input(|i| i.modifiers.command);
    Plot::new((id, generation))
        .allow_scroll(false)
        .allow_zoom(held)
        .allow_drag(held)
        .allow_boxed_zoom(held)
        .allow_axis_zoom_drag(held)
        .x_axis_label(x.to_string())
        .y_axis_label(y.to_string())
}

/// Series colours, in order (the plots and their legends agree).
pub const SERIES: [egui::Color32; 6] = [
    egui::Color32::from_rgb(90, 140, 220),
    egui::Color32::from_rgb(230, 140, 60),
    egui::Color32::from_rgb(80, 170, 100),
    egui::Color32::from_rgb(180, 90, 200),
    egui::Color32::from_rgb(200, 190, 60),
    egui::Color32::from_rgb(70, 190, 200),
];

/// The colour of thresholds: red, drawn dashed.
pub const THRESHOLD: egui::Color32 = egui::Color32::from_rgb(215, 60, 60);

/// A legend under a plot (the plot's own legend would sit over the newest points): a swatch and a
/// name per series; `dashed` marks lines drawn dashed.
pub fn legend_below(ui: &mut egui::Ui, items: &[(&str, egui::Color32, bool)]) {
    ui.horizontal_wrapped(|ui| {
        for (name, colour, dashed) in items {
            ui.colored_label(*colour, if *dashed { "╌╌" } else { "━━" });
            ui.label(*name);
            ui.add_space(8.0);
        }
    });
}

/// Draw `add` and return the rectangle it took.
pub fn plot_frame(ui: &mut egui::Ui, add: impl FnOnce(&mut egui::Ui)) -> egui::Rect {
    ui.scope(add).response.rect
}

/// Bars of a histogram of `values` over `bins` equal-width bins (empty input, no bars).
pub fn histogram(values: &[f64], bins: usize) -> Vec<Bar> {
    let finite = values.iter().copied().filter(|v| v.is_finite());
    let (lo, hi) = finite.clone().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| (a.min(v), b.max(v)));
    if !lo.is_finite() || bins == 0 {
        return Vec::new();
    }
    let width = if hi > lo { (hi - lo) / bins as f64 } else { 1.0 };
    let mut counts = vec![0u64; bins];
    for v in finite {
        let i = (((v - lo) / width) as usize).min(bins - 1);
        counts[i] += 1;
    }
    counts.iter().enumerate().map(|(i, &c)| Bar::new(lo + (i as f64 + 0.5) * width, c as f64).width(width)).collect()
}

/// A table of a data frame, drawing only the rows in view (millions of rows scroll smoothly).
pub fn frame_table(ui: &mut egui::Ui, id: &str, frame: &DataFrame) {
    let columns = frame.columns();
    let col_width = 120.0;
    let row_height = ui.text_style_height(&egui::TextStyle::Monospace) + 4.0;
    egui::ScrollArea::horizontal().id_salt((id, "h")).show(ui, |ui| {
        ui.horizontal(|ui| {
            ui.add_sized([60.0, row_height], egui::Label::new(egui::RichText::new("#").strong()));
            for c in columns {
                ui.add_sized(
                    [col_width, row_height],
                    egui::Label::new(egui::RichText::new(c.name().as_str()).strong()),
                );
            }
        });
        egui::ScrollArea::vertical().id_salt((id, "v")).max_height(320.0).show_rows(
            ui,
            row_height,
            frame.height(),
            |ui, range| {
                for row in range {
                    ui.horizontal(|ui| {
                        ui.add_sized([60.0, row_height], egui::Label::new((row + 1).to_string()));
                        for c in columns {
                            let text =
                                c.get(row).map(|v| v.to_string().trim_matches('"').to_string()).unwrap_or_default();
                            ui.add_sized(
                                [col_width, row_height],
                                egui::Label::new(egui::RichText::new(text).monospace()),
                            );
                        }
                    });
                }
            },
        );
    });
}

/// A progress bar for a running job: share done, rows, rows/s, time left, and a Cancel button.
pub fn job_progress(ui: &mut egui::Ui, ctx: &mut Ctx<'_>, job: super::jobs::JobId) {
    let s = ctx.s;
    let Some(j) = ctx.jobs.get(job).filter(|j| j.is_running()) else { return };
    let p = &j.progress;
    ui.horizontal(|ui| {
        let text = match (&p.stage, p.eta_secs) {
            (Some(stage), _) => stage.clone(),
            (None, Some(eta)) => {
                format!("{} {} · {:.0} {} · {} {eta:.1} s", p.rows_done, s.rows, p.rows_per_sec, s.rows_per_sec, s.eta)
            }
            (None, None) => format!("{} {} · {:.0} {}", p.rows_done, s.rows, p.rows_per_sec, s.rows_per_sec),
        };
        ui.add(egui::ProgressBar::new(p.fraction.unwrap_or(0.0) as f32).text(text).desired_width(420.0).animate(true));
        if ui.button(s.cancel).on_hover_text(s.cancel_tip).clicked() {
            ctx.send(Command::CancelJob(job));
        }
    });
}
