//! Retrain… on the Versions screen: the training command runs as a job, the candidate is compared
//! with the stage's version; the verdict and the Compare views show, Promote is offered only when
//! it passed (and records the gate), and the registry's timeline is read again.

use std::process::Command as Process;

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use mirador::gui::{MiradorApp, Tab, Workspace};

use crate::common::window::{shows, wait_for};
use crate::common::{mirador_bin, repo};

#[test]
fn retrain_in_the_window_promotes_a_better_candidate_and_shows_the_verdict() {
    let dir = tempfile::tempdir().unwrap();
    let reg = dir.path().join("reg");
    for args in [
        vec!["add", "churn", "sample-models/churn_v2.onnx", "--note", "first"],
        vec!["promote", "churn@1", "--stage", "production", "--reason", "first"],
    ] {
        let out = Process::new(mirador_bin())
            .arg("registry")
            .arg("--dir")
            .arg(&reg)
            .args(&args)
            .current_dir(repo(""))
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    let mut ws = Workspace::first_run(&repo(""));
    ws.registry = reg.clone();
    ws.tab = Tab::Versions;
    ws.retrain
        .commands
        .insert("churn".into(), format!("cp {} {{output}}", repo("sample-models/churn_v1.onnx").display()));
    ws.retrain.data = repo("sample-data/churn_production_log.csv").display().to_string();
    ws.retrain.holdout = repo("sample-data/churn_current.csv").display().to_string();
    ws.retrain.target = "churned".into();
    let app = MiradorApp::new(ws, repo(""));
    let mut h =
        Harness::builder().with_size([1400.0, 1400.0]).build_ui_state(|ui, app: &mut MiradorApp| app.ui(ui), app);
    wait_for(&mut h, "the registry", |h| h.state().panels.versions.index.is_some());
    let header = h.get_by_label_contains("Retrain churn…");
    header.hover();
    h.step();
    h.get_by_label_contains("Retrain churn…").click();
    h.step();
    let button = h.get_by_label("▸ Retrain");
    button.hover();
    h.step();
    h.get_by_label("▸ Retrain").click();
    wait_for(&mut h, "the retrain", |h| h.state().panels.retrain.result.is_some());
    let report = h.state().panels.retrain.result.clone().unwrap();
    // Judged and registered, not promoted: the window asks first.
    assert!(report.passed && !report.promoted && report.candidate == Some(2), "{report:?}");
    wait_for(&mut h, "the registry read again", |h| {
        h.state().panels.versions.index.as_ref().is_some_and(|i| i.models["churn"].versions.len() == 2)
    });
    assert!(shows(&h, "✔ Passed, not promoted yet: version 2; production stays version 1"));
    assert!(shows(&h, "pass roc_auc >= champion - 0.005"));
    // The Compare views of candidate against champion: the metric table with its paired
    // intervals, then the curves.
    let comparison = report.comparison.as_ref().expect("the comparison comes with the report");
    assert_eq!(comparison.models.len(), 2);
    assert!(shows(&h, "Δ ") && shows(&h, "95 % CI"), "the metric table with intervals");
    h.get_by_label("Curves").click();
    h.step();
    assert!(shows(&h, "ROC"), "the curves");
    let promote = h.get_by_label("✔ Promote v2 → production");
    promote.hover();
    h.step();
    h.get_by_label("✔ Promote v2 → production").click();
    wait_for(&mut h, "the promotion", |h| {
        h.state().panels.versions.index.as_ref().is_some_and(|i| i.models["churn"].stages.get("production") == Some(&2))
    });
    assert!(shows(&h, "✔ Promoted: version 2 → production"));
    let index = h.state().panels.versions.index.clone().unwrap();
    let last = index.models["churn"].history.last().unwrap().clone();
    assert!(last.gate.as_ref().is_some_and(|g| g.passed), "the promotion records the gate it passed: {last:?}");

    // A worse candidate next: refused, and the timeline says so with the failing rule.
    let worse = format!("cp {} {{output}}", repo("tests/fixtures/constant_class.onnx").display());
    h.state_mut().ws.retrain.commands.insert("churn".into(), worse);
    h.step();
    h.get_by_label("▸ Retrain").click();
    wait_for(&mut h, "the second retrain", |h| {
        h.state().panels.retrain.result.as_ref().is_some_and(|r| r.candidate == Some(3))
    });
    wait_for(&mut h, "the refusal in the timeline", |h| shows(h, "refused for production: v3 (stays version v2)"));
    assert!(shows(&h, "✖ Refused: version 3; production stays version 2"));
    assert!(shows(&h, "gate failed: FAIL roc_auc"));
    assert!(h.query_by_label_contains("✔ Promote v3").is_none(), "no Promote for a refused candidate");
}
