//! The desktop app (eframe/egui) — a thin shell over [`crate::core`]. Until the full app lands this
//! is a minimal window that lists the sample models and their contracts.

use std::process::ExitCode;

use crate::core::{Model, ModelInfo};

/// Open the window; returns when it is closed.
pub fn run() -> ExitCode {
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default().with_title("Mirador").with_inner_size([960.0, 640.0]),
        ..Default::default()
    };
    let result = eframe::run_native("Mirador", options, Box::new(|_cc| Ok(Box::new(MiradorApp::load_samples()))));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!(
                "error: could not open the window: {e}\n(on a machine without a display, use a subcommand: mirador --help)"
            );
            ExitCode::FAILURE
        }
    }
}

/// The app's state: the models found at start-up, or why they could not be opened.
pub struct MiradorApp {
    models: Vec<Result<ModelInfo, String>>,
}

impl MiradorApp {
    /// Load the `.onnx` files in `sample-models/` (beside the working directory or the source checkout).
    pub fn load_samples() -> Self {
        let dir = ["sample-models", concat!(env!("CARGO_MANIFEST_DIR"), "/sample-models")]
            .into_iter()
            .map(std::path::PathBuf::from)
            .find(|d| d.is_dir());
        let mut paths: Vec<_> = dir
            .and_then(|d| std::fs::read_dir(d).ok())
            .map(|entries| {
                entries.flatten().map(|e| e.path()).filter(|p| p.extension().is_some_and(|x| x == "onnx")).collect()
            })
            .unwrap_or_default();
        paths.sort();
        let models =
            paths.iter().map(|p| Model::load(p).map(|m| m.info().clone()).map_err(|e| e.to_string())).collect();
        Self { models }
    }
}

impl eframe::App for MiradorApp {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        egui::CentralPanel::default().show(ui, |ui| {
            ui.heading("Mirador");
            ui.label("Sample models (the full app arrives with the GUI issue):");
            egui::ScrollArea::vertical().show(ui, |ui| {
                for model in &self.models {
                    match model {
                        Ok(info) => {
                            ui.collapsing(
                                format!("{} — {} inputs, {} outputs", info.name, info.inputs.len(), info.outputs.len()),
                                |ui| {
                                    for spec in &info.inputs {
                                        ui.monospace(format!("in  {:<20} {}", spec.name, spec.ty));
                                    }
                                    for spec in &info.outputs {
                                        ui.monospace(format!("out {:<20} {}", spec.name, spec.ty));
                                    }
                                },
                            );
                        }
                        Err(e) => {
                            ui.colored_label(egui::Color32::RED, e);
                        }
                    }
                }
            });
        });
    }
}
