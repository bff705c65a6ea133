//! The Deploy screen: a replay of recorded traffic shows its verdict and timeline; a rollout
//! started from the window serves real requests on both versions, and Abort sends everything back
//! to the champion; a rollout on a registry stage waits for the stage's next version and rolls it
//! out as a canary.

use std::time::Duration;

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use mirador::core::rollout::{Outcome, Verdict};
use mirador::gui::{MiradorApp, Tab, Workspace};

use crate::common::window::{shows, wait_within};

/// How long a step may take here.
const LIMIT: Duration = Duration::from_secs(90);
use crate::common::repo;
use crate::common::server::request;

/// One row of churn_v1's inputs, with the customer's id as the sticky key.
fn body(customer: &str) -> String {
    format!(
        r#"{{"inputs":[
  {{"name":"tenure_months","shape":[1],"datatype":"INT64","data":[24]}},
  {{"name":"monthly_charges","shape":[1],"datatype":"FP32","data":[33.33]}},
  {{"name":"total_charges","shape":[1],"datatype":"FP32","data":[824.3]}},
  {{"name":"senior_citizen","shape":[1],"datatype":"INT64","data":[0]}},
  {{"name":"support_calls","shape":[1],"datatype":"INT64","data":[1]}},
  {{"name":"contract","shape":[1],"datatype":"BYTES","data":["One year"]}},
  {{"name":"internet_service","shape":[1],"datatype":"BYTES","data":["No"]}},
  {{"name":"payment_method","shape":[1],"datatype":"BYTES","data":["Electronic check"]}},
  {{"name":"paperless_billing","shape":[1],"datatype":"BYTES","data":["No"]}},
  {{"name":"customer_id","shape":[1],"datatype":"BYTES","data":["{customer}"]}}]}}"#
    )
}

/// Stop the window's server from the Serve screen.
fn stop_server(h: &mut Harness<'static, MiradorApp>) {
    h.get_by_label("Serve").click();
    wait_within(h, "the Serve screen", LIMIT, |h| h.state().ws.tab == Tab::Serve);
    h.get_by_label_contains("■ Stop").hover();
    h.step();
    h.get_by_label_contains("■ Stop").click();
    wait_within(h, "the server to stop", LIMIT, |h| {
        h.state().panels.serve.running.is_none() && !h.state().panels.serve.busy
    });
}

#[test]
fn a_replay_shows_its_verdict_and_a_live_rollout_is_aborted_from_the_window() {
    let mut ws = Workspace::first_run(&repo(""));
    ws.models = vec![repo("sample-models/churn_v1.onnx"), repo("tests/fixtures/constant_class.onnx")];
    ws.selected = 0;
    ws.tab = Tab::Deploy;
    let registry = tempfile::tempdir().unwrap();
    ws.registry = registry.path().to_path_buf();
    let app = MiradorApp::new(ws, repo("")).with_launcher(mirador::serve::launcher());
    let mut h =
        Harness::builder().with_size([1400.0, 1400.0]).build_ui_state(|ui, app: &mut MiradorApp| app.ui(ui), app);
    wait_within(&mut h, "the models to open", LIMIT, |h| h.state().models.len() == 2);
    wait_within(&mut h, "the defaults", LIMIT, |h| !h.state().panels.deploy.challenger.is_empty());
    assert!(h.state().panels.deploy.champion.ends_with("churn_v1.onnx"), "the current model is the champion");
    assert!(h.state().panels.deploy.challenger.ends_with("constant_class.onnx"), "the other model is the challenger");

    // Replay: the constant challenger never predicts churn; the first weekly window catches it.
    h.state_mut().panels.deploy.gate = "positive_rate_diff <= 0.1".into();
    h.step();
    h.get_by_label_contains("▸ Replay").click();
    wait_within(&mut h, "the replay", LIMIT, |h| h.state().panels.deploy.replay.is_some());
    let (report, _) = h.state().panels.deploy.replay.clone().unwrap();
    assert!(matches!(report.verdict, Verdict::WouldAbort { .. }), "{:?}", report.verdict);
    assert!(shows(&h, "would abort at") && shows(&h, "Challenger exposure"), "the verdict is on the screen");
    // A changed setting marks the result as out of date.
    h.state_mut().panels.deploy.gate = "positive_rate_diff <= 0.3".into();
    h.step();
    assert!(shows(&h, "replay again"));

    // Live: a 50 % canary on the local server, sticky by customer, no automatic measurement.
    h.state_mut().panels.deploy.strategy = "canary:50@1h".into();
    h.state_mut().panels.serve.port = 0;
    h.step();
    h.get_by_label_contains("Start rollout on the local server").click();
    wait_within(&mut h, "the server", LIMIT, |h| h.state().panels.serve.running.is_some());
    let url = h.state().panels.serve.running.as_ref().unwrap().url.clone();
    let port: u16 = url.rsplit(':').next().unwrap().parse().unwrap();
    let route = format!("/v2/models/{}/infer", "churn_v1");
    let mut versions = std::collections::BTreeSet::new();
    for i in 0..60 {
        let reply = request(port, "POST", &route, &[], body(&format!("cust-{i}")).as_bytes());
        assert_eq!(reply.status, 200, "{}", reply.text());
        versions.insert(reply.json()["model_version"].as_str().unwrap().to_string());
    }
    assert_eq!(versions.len(), 2, "both versions answer: {versions:?}");
    let routes = h.state().panels.serve.running.as_ref().unwrap().routes.clone();
    wait_within(&mut h, "the live figures", LIMIT, |h| shows(h, "Live rollout") && shows(h, "Challenger share: 50 %"));

    h.get_by_label_contains("Abort: all traffic to the champion").click();
    wait_within(&mut h, "the abort", LIMIT, |_| matches!(routes[0].status().state, Some(Outcome::Aborted { .. })));
    for i in 0..30 {
        let reply = request(port, "POST", &route, &[], body(&format!("cust-{i}")).as_bytes());
        assert_eq!(reply.json()["model_version"], "1", "after the abort the champion answers everyone");
    }
    stop_server(&mut h);
}

#[test]
fn a_rollout_started_on_a_stage_waits_for_its_next_version_and_rolls_it_out_through_the_window() {
    use mirador::core::registry::{Registration, Registry};
    let registry = tempfile::tempdir().unwrap();
    let reg = Registry::open(registry.path());
    let by = |note: &str| Registration { by: "ana".into(), note: note.into(), ..Default::default() };
    reg.add("churn", &repo("sample-models/churn_v1.onnx"), &by("champion")).unwrap();
    reg.promote("churn", 1, "production", "ana", "launch").unwrap();
    reg.add("churn", &repo("tests/fixtures/constant_class.onnx"), &by("a bad release")).unwrap();

    let mut ws = Workspace::first_run(&repo(""));
    ws.models = vec![repo("sample-models/churn_v1.onnx")];
    ws.tab = Tab::Deploy;
    ws.registry = registry.path().to_path_buf();
    let app = MiradorApp::new(ws, repo("")).with_launcher(mirador::serve::launcher());
    let mut h =
        Harness::builder().with_size([1400.0, 1400.0]).build_ui_state(|ui, app: &mut MiradorApp| app.ui(ui), app);
    wait_within(&mut h, "the model to open", LIMIT, |h| h.state().models.len() == 1);
    // The stage as champion, no challenger: each new version of the stage rolls out as a canary.
    h.state_mut().panels.deploy.champion = "churn@production".into();
    h.state_mut().panels.deploy.challenger = String::new();
    h.state_mut().panels.deploy.strategy = "canary:50@1h".into();
    h.state_mut().panels.serve.port = 0;
    h.step();
    h.get_by_label_contains("Start rollout on the local server").click();
    wait_within(&mut h, "the server", LIMIT, |h| h.state().panels.serve.running.is_some());
    wait_within(&mut h, "the waiting route", LIMIT, |h| shows(h, "its next version") && shows(h, "waiting"));

    // A promotion (as a retrain makes it) reaches the route as a 50 % canary, not all at once.
    reg.promote("churn", 2, "production", "ana", "release").unwrap();
    let routes = h.state().panels.serve.running.as_ref().unwrap().routes.clone();
    wait_within(&mut h, "the canary", LIMIT, |h| shows(h, "Challenger share: 50 %") && shows(h, "Challenger v2"));
    assert_eq!(routes[0].status().challenger.as_deref(), Some("2"));

    h.get_by_label_contains("Abort: all traffic to the champion").click();
    wait_within(&mut h, "the abort", LIMIT, |_| routes[0].status().challenger.is_none());
    assert!(matches!(routes[0].status().state, Some(Outcome::Aborted { .. })));
    assert_eq!(reg.resolve("churn@production").unwrap().1, 1, "the stage went back with the abort");
    wait_within(&mut h, "the waiting route again", LIMIT, |h| shows(h, "its next version"));
    stop_server(&mut h);
}
