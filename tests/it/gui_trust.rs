//! A window you can trust, one test per class of bug found by trying it as a new analyst would:
//! results never relabelled with inputs that did not produce them, jobs that always end, a gate
//! that means something, a file picker that reaches the whole file system, and mismatched models
//! refused with a clear message.

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use mirador::gui::command::{Command, DataSlot, Export};
use mirador::gui::{MiradorApp, Tab, Workspace};

use crate::common::window::{shows, wait_for};
use crate::common::{golden, repo};

fn harness(ws: Workspace, home: std::path::PathBuf) -> Harness<'static, MiradorApp> {
    let app = MiradorApp::new(ws, home);
    Harness::builder().with_size([1400.0, 1000.0]).build_ui_state(|ui, app: &mut MiradorApp| app.ui(ui), app)
}

fn models_open(h: &mut Harness<'static, MiradorApp>) {
    wait_for(h, "the models to open", |h| {
        !h.state().ws.models.is_empty() && h.state().models.len() == h.state().ws.models.len()
    });
}

fn workspace() -> Workspace {
    Workspace::first_run(&repo(""))
}

/// Predictions scored by churn_v1 stay churn_v1's: switching the model or the data marks them out
/// of date, and saving them proposes churn_v1's name and writes churn_v1's numbers.
#[test]
fn switching_model_or_data_after_scoring_marks_the_predictions_out_of_date() {
    let mut ws = workspace();
    ws.models = vec![repo("sample-models/churn_v1.onnx"), repo("sample-models/churn_v2.onnx")];
    ws.selected = 0;
    ws.tab = Tab::Score;
    let mut h = harness(ws, repo(""));
    models_open(&mut h);
    wait_for(&mut h, "the check", |h| shows(h, "Contract check passed"));
    h.get_by_label("Score").click();
    wait_for(&mut h, "the predictions", |h| h.state().panels.score.result.is_some());
    assert!(!shows(&h, "Out of date"));
    h.state_mut().send(Command::SelectModel(1));
    h.step();
    h.step();
    assert!(shows(&h, "Out of date"), "switching the model marks churn_v1's predictions out of date");
    assert!(shows(&h, "these are the predictions of churn_v1"));
    assert_eq!(h.state().suggested_name(&Export::Predictions), "churn_v1_predictions.csv");
    assert!(shows(&h, "Save the predictions of churn_v1"));
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("saved.csv");
    h.state_mut().send(Command::ExportTo(Export::Predictions, out.clone()));
    wait_for(&mut h, "the save", |_| out.exists());
    let saved = crate::common::read_text(&out);
    let want = golden("churn_v1");
    for (a, b) in saved.floats("p_1").iter().zip(want.floats("p_1")) {
        assert!((a - b).abs() < 1e-6, "the file holds churn_v1's numbers");
    }
    // Back on churn_v1: current again. Another data file: out of date again.
    h.state_mut().send(Command::SelectModel(0));
    h.step();
    h.step();
    assert!(!shows(&h, "Out of date"));
    h.state_mut().send(Command::SetData(DataSlot::Score, repo("sample-data/churn_current.parquet")));
    h.step();
    h.step();
    assert!(shows(&h, "Out of date"), "another data file marks them out of date");
}

/// An empty Chunks field means no chunking: the job ends with one chunk, and nothing keeps running.
#[test]
fn an_empty_chunks_field_ends_the_job_with_one_chunk() {
    let mut ws = workspace();
    ws.tab = Tab::Monitor;
    ws.monitor.chunk.clear();
    ws.monitor.use_model = false;
    let mut h = harness(ws, repo(""));
    models_open(&mut h);
    h.get_by_label("Run monitor").click();
    wait_for(&mut h, "the monitor job to end", |h| !h.state().jobs.any_running());
    let report = h.state().panels.monitor.result.as_ref().expect("a report, not a hang");
    assert_eq!(report.chunks.len(), 1);
    assert_eq!(report.chunks[0].label, "all rows");
    assert!(shows(&h, "Running jobs: 0"));
}

/// The built-in picker, opened from a relative start, climbs to the root of the file system.
#[test]
fn the_picker_goes_up_from_a_relative_start_to_the_root() {
    let mut ws = workspace();
    ws.models.clear();
    ws.tab = Tab::Model;
    let mut h = harness(ws, std::path::PathBuf::from("sample-models"));
    if mirador::gui::files::native_dialogs() {
        eprintln!("skipped: a desktop file dialog is available here, so the built-in picker is not used");
        return;
    }
    h.state_mut().send(Command::OpenModelDialog);
    wait_for(&mut h, "the picker", |h| shows(h, "Choose a file") && shows(h, "Up"));
    assert!(h.state().picker().is_open());
    assert!(h.state().picker().dir().is_absolute(), "{}", h.state().picker().dir().display());
    for _ in 0..64 {
        if h.state().picker().dir() == std::path::Path::new("/") {
            break;
        }
        h.get_by_label_contains("Up").click();
        h.step();
        h.step();
    }
    assert_eq!(h.state().picker().dir(), std::path::Path::new("/"), "Up reaches the root");
    assert!(shows(&h, "Only .onnx"), "the filter is visible and can be turned off");
}

/// A regressor and a classifier are not compared: the job says why at once.
#[test]
fn a_regressor_and_a_classifier_in_compare_get_a_clear_message() {
    let mut ws = workspace();
    ws.tab = Tab::Compare;
    ws.compare_models = vec![repo("sample-models/churn_v1.onnx"), repo("sample-models/spend_regressor.onnx")];
    let mut h = harness(ws, repo(""));
    models_open(&mut h);
    h.get_by_label("Run comparison").click();
    wait_for(&mut h, "the refusal", |h| h.state().notes.iter().any(|n| n.error));
    let note = &h.state().notes.iter().find(|n| n.error).unwrap().text;
    assert!(note.contains("churn_v1 is a classifier but spend_regressor is a regressor"), "{note}");
    assert!(h.state().panels.compare.result.is_none());
}

/// A typed value is taken as typed (with a badge when outside the training range), the row stays
/// when another model is chosen, and a row can be loaded from the data file.
#[test]
fn the_predict_form_keeps_what_was_typed() {
    let mut ws = workspace();
    ws.models = vec![repo("sample-models/churn_v1.onnx"), repo("sample-models/churn_v2.onnx")];
    ws.selected = 0;
    ws.tab = Tab::Predict;
    let mut h = harness(ws, repo(""));
    models_open(&mut h);
    wait_for(&mut h, "the form", |h| shows(h, "Predicted class"));
    h.state_mut().panels.predict.set_value("monthly_charges", "500");
    wait_for(&mut h, "the badge", |h| shows(h, "outside the training range"));
    assert_eq!(h.state().panels.predict.row()["monthly_charges"], "500", "not clamped to the reference's range");
    h.state_mut().send(Command::SelectModel(1));
    wait_for(&mut h, "churn_v2's form", |h| shows(h, "Predict one row — churn_v2") && shows(h, "Predicted class"));
    assert_eq!(h.state().panels.predict.row()["monthly_charges"], "500", "the row stays for the other model");
    h.state_mut().send(Command::LoadFormRow(2));
    wait_for(&mut h, "row 2", |h| h.state().panels.predict.row().get("customer_id").is_some_and(|v| v == "C100002"));
}
