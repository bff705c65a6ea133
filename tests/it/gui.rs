//! The desktop app driven headless with egui_kittest: real models, real files, real background
//! jobs. Each test asserts on what the window shows, against the reference libraries' numbers.

use std::path::Path;

use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};
use mirador::gui::command::Command;
use mirador::gui::{MiradorApp, Tab, Workspace};

use crate::common::window::{shows, wait_for};
use crate::common::{golden, repo};

fn workspace() -> Workspace {
    Workspace::first_run(&repo(""))
}

fn harness(ws: Workspace) -> Harness<'static, MiradorApp> {
    let app = MiradorApp::new(ws, repo(""));
    Harness::builder().with_size([1400.0, 1000.0]).build_ui_state(|ui, app: &mut MiradorApp| app.ui(ui), app)
}

fn wait_for_text(h: &mut Harness<'static, MiradorApp>, text: &str) {
    wait_for(h, text, |h| shows(h, text));
}

fn models_open(h: &mut Harness<'static, MiradorApp>) {
    wait_for(h, "the models to open", |h| {
        !h.state().ws.models.is_empty() && h.state().models.len() == h.state().ws.models.len()
    });
}

#[test]
fn opening_a_model_shows_its_properties() {
    let mut ws = workspace();
    ws.models = vec![repo("sample-models/churn_v2.onnx")];
    ws.selected = 0;
    let mut h = harness(ws);
    models_open(&mut h);
    let info = h.state().models[0].info().clone();
    assert!(shows(&h, "skl2onnx"), "producer shown");
    assert!(shows(&h, &info.sha256), "SHA-256 shown");
    assert!(shows(&h, "tensor(int64)"), "input types shown");
    assert!(shows(&h, "classification — classes: 0, 1 (ZipMap)"));
    assert!(shows(&h, "Month-to-month, One year, Two year"), "known categories shown");
}

#[test]
fn a_corrupt_model_is_reported_and_the_window_lives_on() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("broken.onnx");
    std::fs::write(&bad, b"this is not a protobuf").unwrap();
    let mut ws = workspace();
    ws.models = vec![repo("sample-models/churn_v1.onnx")];
    let mut h = harness(ws);
    models_open(&mut h);
    h.state_mut().send(Command::OpenModel(bad.clone()));
    wait_for_text(&mut h, "broken.onnx");
    wait_for(&mut h, "the error note", |h| h.state().notes.iter().any(|n| n.error));
    let note = &h.state().notes[0].text;
    assert!(note.contains("broken.onnx"), "{note}");
    assert_eq!(h.state().models.len(), 1, "the good model stays open");
    assert!(!h.state().ws.models.contains(&bad), "the broken model is not kept in the workspace");
    h.get_by_label("Predict").click();
    wait_for_text(&mut h, "Predict one row — churn_v1");
}

#[test]
fn predicting_one_row_shows_onnxruntime_probabilities() {
    let mut ws = workspace();
    ws.models = vec![repo("sample-models/churn_v2.onnx")];
    ws.selected = 0;
    ws.tab = Tab::Predict;
    let mut h = harness(ws);
    models_open(&mut h);
    wait_for_text(&mut h, "Predicted class");
    // The first row of churn_current.csv, as typed into the form.
    let row = [
        ("tenure_months", "59"),
        ("monthly_charges", "77.37"),
        ("total_charges", "4534.42"),
        ("contract", "Month-to-month"),
        ("internet_service", "Fiber optic"),
        ("payment_method", "Electronic check"),
        ("paperless_billing", "Yes"),
        ("senior_citizen", "1"),
        ("support_calls", "1"),
    ];
    for (column, value) in row {
        h.state_mut().panels.predict.set_value(column, value);
    }
    let expected = golden("churn_v2");
    let p1: f64 = expected.column("p_1")[0].parse().unwrap();
    let label = format!("1: {p1:.4}");
    wait_for_text(&mut h, &label);
    assert!(shows(&h, &format!("0: {:.4}", 1.0 - p1)));
    assert!(shows(&h, &format!("Predicted class: {}", expected.column("label")[0])));
    assert!(shows(&h, "Latency:"));
}

#[test]
fn scoring_a_sample_file_runs_to_completion_and_matches_onnxruntime() {
    let mut ws = workspace();
    ws.models = vec![repo("sample-models/churn_v1.onnx")];
    ws.selected = 0;
    ws.tab = Tab::Score;
    let mut h = harness(ws);
    models_open(&mut h);
    wait_for_text(&mut h, "Contract check passed");
    let dir = tempfile::tempdir().unwrap();
    let problems = dir.path().join("problems.csv");
    h.state_mut().send(Command::ExportTo(mirador::gui::command::Export::ProblemsTable, problems.clone()));
    wait_for(&mut h, "the problems file", |h| h.state().notes.iter().any(|n| n.text.starts_with("Saved")));
    let text = std::fs::read_to_string(&problems).unwrap();
    assert!(text.starts_with("severity,kind,column,input,first_row,value,rows_affected,message\n"), "{text}");
    assert!(text.contains("info,extra_column,customer_id"), "{text}");
    h.get_by_label("Score").click();
    wait_for(&mut h, "the scoring job", |h| h.state().panels.score.result.is_some());
    assert!(shows(&h, "Scored: 3000 rows"), "summary shown");
    let file = h.state().panels.score.result.as_ref().unwrap().file.clone();
    let table = mirador::core::read_table(&file, &mirador::core::ReadPlan::default()).unwrap();
    let expected = golden("churn_v1");
    let shown: Vec<f64> = table
        .column("p_1")
        .unwrap()
        .cast(&polars::prelude::DataType::Float64)
        .unwrap()
        .f64()
        .unwrap()
        .into_no_null_iter()
        .collect();
    let want = expected.floats("p_1");
    assert_eq!(shown.len(), want.len());
    for (i, (a, b)) in shown.iter().zip(&want).enumerate() {
        assert!((a - b).abs() < 1e-6, "row {i}: {a} vs {b}");
    }
    wait_for_text(&mut h, "C100001"); // the first page of the table is read from the file
    h.get_by_label("Jobs").click();
    wait_for_text(&mut h, "Score churn_current.csv — churn_v1");
    assert!(shows(&h, "done"));
}

#[test]
fn cancelling_a_scoring_job_stops_it_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big.csv");
    let text = std::fs::read_to_string(repo("sample-data/churn_current.csv")).unwrap();
    let (header, body) = text.split_once('\n').unwrap();
    let mut out = format!("{header}\n");
    for _ in 0..200 {
        out.push_str(body);
    }
    std::fs::write(&big, out).unwrap();
    let mut ws = workspace();
    ws.models = vec![repo("sample-models/churn_v2.onnx")];
    ws.selected = 0;
    ws.tab = Tab::Score;
    ws.score_data = Some(big);
    let mut h = harness(ws);
    models_open(&mut h);
    wait_for_text(&mut h, "Contract check passed");
    h.get_by_label("Score").click();
    wait_for_text(&mut h, "Cancel");
    h.get_by_label("Cancel").click();
    wait_for(&mut h, "the cancellation", |h| !h.state().jobs.any_running());
    assert!(h.state().panels.score.result.is_none(), "no partial result is shown");
    assert!(h.state().notes.iter().any(|n| n.text.contains("cancelled") && !n.error));
    let scratch = h.state().scratch_dir().expect("scoring used the scratch folder").to_path_buf();
    let left: Vec<_> = std::fs::read_dir(&scratch).unwrap().flatten().map(|e| e.file_name()).collect();
    assert!(left.is_empty(), "a cancelled run leaves nothing in the scratch folder: {left:?}");
}

#[test]
fn comparing_two_versions_shows_scikit_learn_and_statsmodels_numbers() {
    let mut ws = workspace();
    ws.tab = Tab::Compare;
    ws.compare.bootstrap = 50;
    let mut h = harness(ws);
    models_open(&mut h);
    h.get_by_label("Run comparison").click();
    wait_for(&mut h, "the comparison", |h| h.state().panels.compare.result.is_some());
    let golden: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(repo("tests/golden/compare.json")).unwrap()).unwrap();
    let g = &golden["all_rows"];
    let pct = g["agreement_rate"].as_f64().unwrap() * 100.0;
    assert!(shows(&h, "Promotion gate: churn_v2"), "the verdict is pinned above every view");
    h.get_by_label("Agreement").click();
    h.step();
    assert!(shows(&h, &format!("Same decision: {pct:.2} %")));
    assert!(shows(&h, &format!("Cohen κ: {:.4}", g["cohen_kappa"].as_f64().unwrap())));
    let mcnemar = format!(
        "McNemar: χ² = {:.3}, p = {:.4}",
        g["mcnemar_statistic"].as_f64().unwrap(),
        g["mcnemar_p_value"].as_f64().unwrap()
    );
    assert!(shows(&h, &mcnemar), "{mcnemar}");
    assert!(shows(&h, &format!("Rows whose decision flips: {}", g["flips"])));
    assert!(shows(&h, "Promotion gate: churn_v2"), "the gate verdict is shown");
    assert!(shows(&h, "roc_auc >= champion - 0.005"), "with its reasons");
    h.get_by_label("Curves").click();
    h.step();
    assert!(shows(&h, "ROC curve"));
    h.get_by_label("Latency").click();
    h.step();
    assert!(shows(&h, "p99"));
}

#[test]
fn the_monitor_shows_evidently_drift_and_the_chosen_feature() {
    let mut ws = workspace();
    ws.tab = Tab::Monitor;
    ws.monitor.current = Some(repo("sample-data/churn_current.csv"));
    ws.monitor.time_column.clear();
    ws.monitor.chunk = "1000".into();
    ws.monitor.use_model = false;
    // No target named: every column counts, as in Evidently's preset.
    ws.monitor.target.clear();
    let mut h = harness(ws);
    models_open(&mut h);
    h.get_by_label("Run monitor").click();
    wait_for(&mut h, "the monitor", |h| h.state().panels.monitor.result.is_some());
    let golden: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(repo("tests/golden/drift.json")).unwrap()).unwrap();
    let preset = golden["presets"].as_array().unwrap().iter().find(|p| p["name"] == "reference_vs_current").unwrap();
    let columns = preset["columns"].as_object().unwrap();
    let drifted = columns.values().filter(|c| c["drift"] == true).count();
    assert!(shows(&h, &format!("Data drift: {drifted} / {} columns drifted", columns.len())));
    let shown = &h.state().panels.monitor.result.as_ref().unwrap().overall.columns;
    for (name, expected) in columns {
        let row = shown.iter().find(|c| &c.column == name).unwrap();
        assert!((row.score - expected["score"].as_f64().unwrap()).abs() < 1e-6, "{name}");
        assert!(shows(&h, &format!("{:.4}", row.score)), "{name}'s score is on screen");
    }
    h.get_by_label("monthly_charges").click();
    wait_for_text(&mut h, "Reference vs current — monthly_charges");
    assert!(shows(&h, "Reference vs current — monthly_charges"));
    assert!(shows(&h, "Drift over time — monthly_charges"));
    // With the target named, its drift is reported apart and left out of the features' share.
    h.state_mut().ws.monitor.target = "churned".into();
    h.step();
    assert!(shows(&h, "Out of date"), "the report says the settings changed");
    h.get_by_label("Run monitor").click();
    wait_for_text(&mut h, "Target 'churned'");
    let features = columns.keys().filter(|c| *c != "churned").count();
    let drifted = columns.iter().filter(|(c, v)| *c != "churned" && v["drift"] == true).count();
    assert!(shows(&h, &format!("Data drift: {drifted} / {features} columns drifted")));
    assert!(!shows(&h, "Out of date"));
}

#[test]
fn the_language_switch_changes_every_screen() {
    let mut ws = workspace();
    ws.tab = Tab::Compare;
    let mut h = harness(ws);
    models_open(&mut h);
    assert!(shows(&h, "Compare versions"));
    h.get_by_label("ES").click();
    wait_for_text(&mut h, "Comparar versiones");
    assert!(shows(&h, "Datos etiquetados"));
    assert_eq!(h.state().ws.lang, mirador::gui::i18n::Lang::Es);
}

#[test]
fn exports_write_whole_files() {
    let dir = tempfile::tempdir().unwrap();
    let mut ws = workspace();
    ws.models = vec![repo("sample-models/churn_v1.onnx")];
    ws.selected = 0;
    let mut h = harness(ws);
    models_open(&mut h);
    let card = dir.path().join("card.md");
    let profile = dir.path().join("profile.json");
    h.state_mut().send(Command::ExportTo(mirador::gui::command::Export::ModelCard, card.clone()));
    let bundle = dir.path().join("bundle");
    h.state_mut().send(Command::ExportTo(mirador::gui::command::Export::ReferenceProfile, profile.clone()));
    let source = mirador::core::bundle::ModelSource::File(repo("sample-models/churn_v1.onnx"));
    h.state_mut().send(Command::ExportTo(mirador::gui::command::Export::Bundle(source), bundle.clone()));
    wait_for(&mut h, "the three exports", |h| {
        h.state().notes.iter().filter(|n| n.text.starts_with("Saved")).count() == 3
    });
    let report = mirador::core::bundle::verify(&bundle).unwrap();
    assert!(report.passed, "{:#?}", report.checks);
    assert!(bundle.join("reference_profile.json").is_file() && bundle.join("plots/roc.png").is_file());
    let text = std::fs::read_to_string(&card).unwrap();
    assert!(text.starts_with("# Model card — churn_v1"), "{text}");
    assert!(text.contains("Month-to-month, One year, Two year"));
    let saved = mirador::core::drift::profile::ReferenceProfile::load(Path::new(&profile)).unwrap();
    assert_eq!(saved.rows, 5000);
}

#[test]
fn versions_register_gate_promote_and_roll_back() {
    let dir = tempfile::tempdir().unwrap();
    let mut ws = workspace();
    ws.registry = dir.path().join("reg");
    ws.tab = Tab::Versions;
    ws.compare.bootstrap = 0;
    ws.models = vec![repo("sample-models/churn_v1.onnx"), repo("sample-models/churn_v2.onnx")];
    ws.selected = 0;
    let mut h = harness(ws);
    models_open(&mut h);
    wait_for_text(&mut h, "The registry is empty");
    h.get_by_label("Register version").click();
    wait_for_text(&mut h, "churn@1");
    h.state_mut().send(Command::SelectModel(1));
    h.step();
    h.get_by_label("Register version").click();
    wait_for_text(&mut h, "churn@2");
    let reason = h.get_by_role_and_label(egui::accesskit::Role::TextInput, "Reason");
    reason.focus();
    reason.type_text("launch");
    h.step();
    // Promote v1 (the rows are newest first: v2, then v1); production asks for confirmation.
    h.get_all_by_label("Promote → production").nth(1).unwrap().click();
    wait_for_text(&mut h, "Change production?");
    h.get_by_label("Yes, change it").click();
    wait_for(&mut h, "v1 in production", |h| {
        h.state().panels.versions.index.as_ref().is_some_and(|i| i.models["churn"].stages.get("production") == Some(&1))
    });
    h.get_all_by_label("Check gate").next().unwrap().click();
    wait_for(&mut h, "the gate", |h| h.state().panels.versions.gate.is_some());
    assert!(shows(&h, "Promotion gate: v2 → production (against v1) — must not be promoted"));
    assert!(shows(&h, "roc_auc >= champion - 0.005"));
    // After a failed gate, Promote is refused; only an override with a reason goes ahead.
    let promote = h.get_all_by_label("Promote → production").next().unwrap();
    assert!(promote.accesskit_node().is_disabled(), "Promote is refused after a failed gate");
    h.get_by_label("Override the gate…").click();
    wait_for_text(&mut h, "The promotion gate said this version must not be promoted.");
    let why = h.get_by_role_and_label(egui::accesskit::Role::MultilineTextInput, "Why override it");
    why.focus();
    why.type_text("the AUC drop is noise on this week's data");
    h.step();
    h.get_by_label("Override and promote").click();
    wait_for(&mut h, "v2 in production", |h| {
        h.state().panels.versions.index.as_ref().is_some_and(|i| i.models["churn"].stages.get("production") == Some(&2))
    });
    let last = h.state().panels.versions.index.as_ref().unwrap().models["churn"].history.last().cloned().unwrap();
    let gate = last.gate.expect("the failed gate is in the history");
    assert!(!gate.passed && gate.override_reason.as_deref() == Some("the AUC drop is noise on this week's data"));
    h.get_by_label("Roll back stage").click();
    wait_for_text(&mut h, "Change production?");
    h.get_by_label("Yes, change it").click();
    wait_for(&mut h, "the rollback", |h| {
        h.state().panels.versions.index.as_ref().is_some_and(|i| i.models["churn"].history.len() == 5)
    });
    assert_eq!(h.state().panels.versions.index.as_ref().unwrap().models["churn"].stages["production"], 1);
    assert!(shows(&h, "rolled back production: v2 → v1 — launch"));
    assert!(shows(&h, "promoted production: — → v1 — launch"));
}
