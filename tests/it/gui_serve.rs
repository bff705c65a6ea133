//! The Serve screen: one click serves the open models with the real server, the URL and the live
//! figures show what real clients do, the examples it offers work as pasted, and Stop stops it.

use std::time::Duration;

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use mirador::gui::{MiradorApp, Tab, Workspace};

use crate::common::window::{shows, wait_within};

/// How long a step may take here.
const LIMIT: Duration = Duration::from_secs(60);
use crate::common::repo;
use crate::common::server::request;

#[test]
fn one_click_serves_the_open_models_and_the_figures_follow_real_requests() {
    let mut ws = Workspace::first_run(&repo(""));
    ws.models = vec![repo("sample-models/churn_v1.onnx"), repo("sample-models/spend_regressor.onnx")];
    ws.selected = 1;
    ws.tab = Tab::Serve;
    // The Monitor screen's rules: the server judges the one it can live (not the band).
    ws.monitor.alerts = "roc_auc outside band; accuracy < 0.5".into();
    let app = MiradorApp::new(ws, repo("")).with_launcher(mirador::serve::launcher());
    let mut h =
        Harness::builder().with_size([1400.0, 1000.0]).build_ui_state(|ui, app: &mut MiradorApp| app.ui(ui), app);
    wait_within(&mut h, "the models to open", LIMIT, |h| h.state().models.len() == 2);
    h.state_mut().panels.serve.port = 0;
    h.state_mut().panels.serve.alert_for_secs = 0.0;
    let log = tempfile::tempdir().unwrap();
    h.state_mut().panels.serve.log_dir = log.path().display().to_string();
    h.step();
    h.get_by_label_contains("Start serving").click();
    wait_within(&mut h, "the server", LIMIT, |h| h.state().panels.serve.running.is_some());
    let url = h.state().panels.serve.running.as_ref().unwrap().url.clone();
    let port: u16 = url.rsplit(':').next().unwrap().parse().unwrap();
    assert!(shows(&h, &format!("{url}/v2/models/churn_v1")) && shows(&h, &format!("{url}/v2/models/spend_regressor")));

    // The Python example, as pasted, answers through the running server.
    let python = mirador::core::serving::snippets::python(
        &url,
        "spend_regressor",
        h.state().models[1].info(),
        &mirador::core::contract::plan_binding(
            h.state().models[1].info(),
            &mirador::core::contract::expected_columns(h.state().models[1].info()),
            &Default::default(),
            &[],
        )
        .0
        .unwrap(),
    );
    assert!(shows(&h, "Python (KServe V1)") && shows(&h, "curl (V2)"), "the screen offers the examples");
    let out = std::process::Command::new("python3").args(["-c", &python]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("predictions"));
    let info = h.state().models[0].info().clone();
    let binding = mirador::core::contract::plan_binding(
        &info,
        &mirador::core::contract::expected_columns(&info),
        &Default::default(),
        &[],
    )
    .0
    .unwrap();
    let curl = mirador::core::serving::snippets::curl(&url, "churn_v1", &info, &binding);
    let out = std::process::Command::new("sh").args(["-c", &curl]).output().unwrap();
    let answer: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(answer["outputs"][1]["shape"], serde_json::json!([1, 2]), "the curl example, as pasted: {answer}");

    // Requests from outside show in the figures: the two examples and a refused one (health and
    // metadata calls are not inference requests).
    request(port, "GET", "/v2/models/churn_v1/ready", &[], b"");
    let bad = request(port, "POST", "/v2/models/churn_v1/infer", &[], b"{");
    assert_eq!(bad.status, 400);
    wait_within(&mut h, "the figures", LIMIT, |h| {
        let f = h.state().panels.serve.running.as_ref().unwrap().stats.snapshot();
        f.requests == 3 && f.by_status.get(&400) == Some(&1)
    });
    assert!(shows(&h, "400: 1"), "answers by status are shown");

    // Live drift against the Monitor screen's reference data: the current sample rows drift.
    let current = crate::common::read_text(&repo("sample-data/churn_current.csv"));
    let rows: Vec<usize> = (0..500).collect();
    let reply = request(
        port,
        "POST",
        "/v2/models/churn_v1/infer",
        &[],
        crate::live_drift::request_for(&current, &rows).as_bytes(),
    );
    assert_eq!(reply.status, 200, "{}", reply.text());
    // The window: the curl example's row and these 500.
    wait_within(&mut h, "the live drift", LIMIT, |h| shows(h, "of the columns drifted over the last 501 rows"));
    assert!(shows(&h, "Live drift — churn_v1"));

    // Late labels saying every answer was wrong: the realised accuracy, and its alert, show.
    let mut body: serde_json::Value =
        serde_json::from_str(&crate::live_drift::request_for(&current, &rows[..50])).unwrap();
    body["id"] = serde_json::json!("gui-1");
    let reply = request(port, "POST", "/v2/models/churn_v1/infer", &[], body.to_string().as_bytes());
    let answered = reply.json()["outputs"][0]["data"].as_array().unwrap().clone();
    let labels: Vec<serde_json::Value> = answered
        .iter()
        .enumerate()
        .map(|(i, l)| serde_json::json!({"id": "gui-1", "row": i, "label": 1 - l.as_i64().unwrap()}))
        .collect();
    let feedback = serde_json::json!({ "labels": labels }).to_string();
    let reply = request(port, "POST", "/v2/models/churn_v1/feedback", &[], feedback.as_bytes());
    assert_eq!(reply.json()["matched"], serde_json::json!(50), "{}", reply.text());
    wait_within(&mut h, "the accuracy alert", LIMIT, |h| shows(h, "Alert firing — churn_v1: accuracy < 0.5"));
    assert!(shows(&h, "Realised (late labels) — churn_v1: 50 labelled rows · accuracy 0.000"));

    // The Monitor screen follows the server's log: what churn_v1 answered (the curl example's row,
    // the 500 and the 50), its late labels joined, and more as it comes.
    let served_rows = |h: &Harness<MiradorApp>| -> Option<(usize, Option<f64>)> {
        let r = h.state().panels.monitor.result.as_ref()?;
        Some((r.chunks.iter().map(|c| c.rows).sum(), r.chunks.first().and_then(|c| c.labelled_share)))
    };
    h.state_mut().ws.selected = 0;
    h.state_mut().ws.tab = Tab::Monitor;
    h.step();
    let follow = h.get_by_label_contains("Follow the server's log");
    follow.hover();
    h.step();
    h.get_by_label_contains("Follow the server's log").click();
    wait_within(&mut h, "the log monitored with its labels", LIMIT, |h| {
        served_rows(h) == Some((551, Some(50.0 / 551.0)))
    });
    let more: Vec<usize> = (1000..1200).collect();
    let reply = request(
        port,
        "POST",
        "/v2/models/churn_v1/infer",
        &[],
        crate::live_drift::request_for(&current, &more).as_bytes(),
    );
    assert_eq!(reply.status, 200);
    wait_within(&mut h, "the new rows followed", LIMIT, |h| served_rows(h).is_some_and(|(n, _)| n == 751));
    h.state_mut().ws.tab = Tab::Serve;
    h.step();

    h.get_by_label_contains("Stop").click();
    wait_within(&mut h, "the server to stop", LIMIT, |h| {
        h.state().panels.serve.running.is_none() && !h.state().panels.serve.busy
    });
    assert!(
        crate::common::server::try_request(port, "GET", "/v2/health/live", &[], b"").is_err(),
        "nothing listens any more"
    );
}
