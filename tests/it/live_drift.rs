//! Live drift in `mirador serve`: the rows clients send, over a rolling window, against the
//! reference — the gauges on `/metrics` equal what `mirador drift` says of the same rows in a file,
//! and the window follows the traffic (a window of undrifted rows stops drifting).

use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::common::server::{ChurnForm, Server, churn_request, promtool};
use crate::common::{Table, mirador_bin, read_text, repo};

/// A V2 request for churn_v1 with the rows `rows` of `data` (column form; floats as FP64, so the
/// values are the file's to the last bit).
pub fn request_for(data: &Table, rows: &[usize]) -> String {
    churn_request(data, rows, ChurnForm { float: "FP64", ..ChurnForm::default() })
}

/// The value of the sample `name{…}` whose labels contain every one of `labels`.
pub fn sample(metrics: &str, name: &str, labels: &[&str]) -> Option<f64> {
    metrics.lines().find_map(|l| {
        let (series, value) = l.rsplit_once(' ')?;
        (series.starts_with(&format!("{name}{{")) && labels.iter().all(|x| series.contains(x)))
            .then(|| value.parse().ok())?
    })
}

fn send_all(server: &Server, data: &Table) {
    for start in (0..data.rows()).step_by(100) {
        let rows: Vec<usize> = (start..(start + 100).min(data.rows())).collect();
        let reply = server.post("/v2/models/churn_v1/infer", &request_for(data, &rows));
        assert_eq!(reply.status, 200, "{}", reply.text());
    }
}

/// Wait until the gauges describe a window of `rows` rows, then one more refresh.
fn settled(server: &Server, rows: usize) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let metrics = server.get("/metrics").text();
        if sample(&metrics, "mirador_drift_window_rows", &[r#"model="churn_v1""#]) == Some(rows as f64) {
            // One more refresh, so the measurement covers the last rows sent.
            std::thread::sleep(Duration::from_millis(600));
            return server.get("/metrics").text();
        }
        assert!(Instant::now() < deadline, "the live window never reached {rows} rows: {metrics}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn live_drift_gauges_equal_mirador_drift_on_the_same_rows_and_follow_the_window() {
    let server = Server::start(&[
        "--model",
        "sample-models/churn_v1.onnx",
        "--reference",
        "sample-data/churn_reference.csv",
        "--drift-window",
        "3000",
        "--drift-refresh",
        "0.2",
    ]);
    let current = read_text(&repo("sample-data/churn_current.csv"));
    send_all(&server, &current);
    let metrics = settled(&server, current.rows());
    let out = Command::new(mirador_bin())
        .args([
            "drift",
            "--reference",
            "sample-data/churn_reference.csv",
            "--current",
            "sample-data/churn_current.csv",
            "--json",
        ])
        .current_dir(repo(""))
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let features = [
        "tenure_months",
        "monthly_charges",
        "total_charges",
        "senior_citizen",
        "support_calls",
        "contract",
        "internet_service",
        "payment_method",
        "paperless_billing",
    ];
    let mut drifted = 0;
    for column in features {
        let c = report["columns"].as_array().unwrap().iter().find(|c| c["column"] == column).unwrap();
        let (test, score) = (c["test"].as_str().unwrap(), c["score"].as_f64().unwrap());
        let labels = [r#"model="churn_v1""#.to_string(), format!(r#"column="{column}""#), format!(r#"test="{test}""#)];
        let labels: Vec<&str> = labels.iter().map(String::as_str).collect();
        let live = sample(&metrics, "mirador_drift_score", &labels)
            .unwrap_or_else(|| panic!("no gauge for {column}: {metrics}"));
        assert!((live - score).abs() <= 1e-9, "{column}: live {live} vs mirador drift {score}");
        let detected =
            sample(&metrics, "mirador_drift_detected", &[r#"model="churn_v1""#, &format!(r#"column="{column}""#)]);
        assert_eq!(detected, Some(f64::from(u8::from(c["drift"] == true))), "{column}");
        drifted += usize::from(c["drift"] == true);
    }
    assert!(drifted >= 3, "the current sample data drifts in several columns");
    let classic = server.request("GET", "/metrics", &[("Accept", "text/plain")], b"").text();
    if let Some(out) = promtool(&["check", "metrics"], &classic) {
        assert!(out.status.success(), "promtool: {}", String::from_utf8_lossy(&out.stderr));
    }
    let share = sample(&metrics, "mirador_share_drifted", &[r#"model="churn_v1""#]).unwrap();
    assert!((share - drifted as f64 / features.len() as f64).abs() < 1e-12, "{share}");
    // The reference rows themselves fill the window next: the drift goes.
    let reference = read_text(&repo("sample-data/churn_reference.csv"));
    let first: Vec<usize> = (0..3000).collect();
    for chunk in first.chunks(100) {
        let reply = server.post("/v2/models/churn_v1/infer", &request_for(&reference, chunk));
        assert_eq!(reply.status, 200);
    }
    std::thread::sleep(Duration::from_millis(800));
    let metrics = server.get("/metrics").text();
    assert_eq!(sample(&metrics, "mirador_share_drifted", &[r#"model="churn_v1""#]), Some(0.0), "{metrics}");
    assert_eq!(sample(&metrics, "mirador_dataset_drift", &[r#"model="churn_v1""#]), Some(0.0));
}

/// A one-route HTTP receiver for webhooks: every body POSTed to it, answered 200.
fn webhook_receiver() -> (u16, crossbeam_channel::Receiver<Value>) {
    use std::io::{BufRead, BufReader, Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = crossbeam_channel::bounded(64);
    std::thread::Builder::new()
        .name("webhook".into())
        .spawn(move || {
            for stream in listener.incoming().flatten() {
                let mut reader = BufReader::new(stream);
                let mut length = 0;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                        break;
                    }
                    if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                        length = v.trim().parse().unwrap_or(0);
                    }
                }
                let mut body = vec![0; length];
                let _ = reader.read_exact(&mut body);
                let _ = reader.get_mut().write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
                if let Ok(v) = serde_json::from_slice(&body) {
                    let _ = tx.try_send(v);
                }
            }
        })
        .unwrap();
    (port, rx)
}

#[test]
fn a_drift_alert_fires_after_its_duration_reaches_the_webhook_and_resolves() {
    let (port, hooks) = webhook_receiver();
    let dir = tempfile::tempdir().unwrap();
    let webhook = format!("http://127.0.0.1:{port}/alerts");
    let server = Server::start(&[
        "--model",
        "sample-models/churn_v1.onnx",
        "--reference",
        "sample-data/churn_reference.csv",
        "--drift-window",
        "3000",
        "--drift-refresh",
        "0.2",
        "--alert",
        "share_drifted > 0.3",
        "--alert-for",
        "0.5",
        "--alert-webhook",
        &webhook,
        "--log-dir",
        dir.path().to_str().unwrap(),
    ]);
    let started = Instant::now();
    send_all(&server, &read_text(&repo("sample-data/churn_current.csv")));
    let fired = hooks.recv_timeout(Duration::from_secs(30)).expect("the alert reached the webhook");
    assert!(started.elapsed() >= Duration::from_millis(500), "not before its duration");
    assert_eq!(fired["status"], "firing", "{fired}");
    assert_eq!(fired["version"], "4", "Alertmanager's webhook format");
    let alert = &fired["alerts"][0];
    assert_eq!(
        (alert["labels"]["model"].clone(), alert["labels"]["rule"].clone()),
        (json!("churn_v1"), json!("share_drifted > 0.3"))
    );
    assert!(alert["annotations"]["summary"].as_str().unwrap().contains("is above 0.3"), "{alert}");
    let metrics = server.get("/metrics").text();
    assert_eq!(sample(&metrics, "mirador_alert_firing", &[r#"model="churn_v1""#]), Some(1.0), "{metrics}");
    // Undrifted rows fill the window: the alert resolves.
    let reference = read_text(&repo("sample-data/churn_reference.csv"));
    let rows: Vec<usize> = (0..3000).collect();
    for chunk in rows.chunks(100) {
        assert_eq!(server.post("/v2/models/churn_v1/infer", &request_for(&reference, chunk)).status, 200);
    }
    let resolved = hooks.recv_timeout(Duration::from_secs(30)).expect("the resolution reached the webhook");
    assert_eq!(resolved["status"], "resolved", "{resolved}");
    assert_eq!(sample(&server.get("/metrics").text(), "mirador_alert_firing", &[r#"model="churn_v1""#]), Some(0.0));
    let log = std::fs::read_to_string(dir.path().join("alerts.jsonl")).unwrap();
    let statuses: Vec<String> = log
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap()["status"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(statuses, ["firing", "resolved"], "{log}");
}

#[test]
fn the_bundles_monitoring_rules_and_dashboard_are_valid_and_query_what_the_server_exports() {
    let dir = tempfile::tempdir().unwrap();
    let bundle = dir.path().join("bundle");
    let out = Command::new(mirador_bin())
        .args([
            "bundle",
            "create",
            "--model",
            "sample-models/churn_v1.onnx",
            "--reference",
            "sample-data/churn_reference.csv",
        ])
        .args(["--target", "churned", "--output"])
        .arg(&bundle)
        .current_dir(repo(""))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // The rules, plain and as the PrometheusRule's spec, and the dashboard's queries (as recording
    // rules, with its variables filled in), all through Prometheus' own parser.
    let plain = std::fs::read_to_string(bundle.join("prometheus_rules.yaml")).unwrap();
    for alert in ["MiradorContractFailures_churn_v1", "MiradorAccuracy_churn_v1"] {
        assert!(plain.contains(alert), "{alert} is among the rules: {plain}");
    }
    let accuracy = r#"mirador_quality{model=\"churn_v1\",version=\"all\",metric=\"accuracy\"} < "#;
    assert!(plain.contains(accuracy), "the realised accuracy is watched: {plain}");
    let resource = std::fs::read_to_string(bundle.join("monitoring/prometheusrule.yaml")).unwrap();
    let resource = &yaml_rust2::YamlLoader::load_from_str(&resource).unwrap()[0];
    let mut spec = String::new();
    yaml_rust2::YamlEmitter::new(&mut spec).dump(&resource["spec"]).unwrap();
    std::fs::write(dir.path().join("spec.yaml"), &spec).unwrap();
    let dashboard: Value =
        serde_json::from_str(&std::fs::read_to_string(bundle.join("monitoring/grafana-dashboard.json")).unwrap())
            .unwrap();
    let exprs: Vec<String> = dashboard["panels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["targets"][0]["expr"].as_str().unwrap().replace("$model", "churn_v1").replace("$feature", ".*"))
        .collect();
    let rules: Vec<Value> =
        exprs.iter().enumerate().map(|(i, e)| json!({"record": format!("mirador:panel_{i}"), "expr": e})).collect();
    std::fs::write(dir.path().join("panels.yaml"), json!({"groups": [{"name": "panels", "rules": rules}]}).to_string())
        .unwrap();
    for file in [bundle.join("prometheus_rules.yaml"), dir.path().join("spec.yaml"), dir.path().join("panels.yaml")] {
        if let Some(out) = promtool(&["check", "rules", file.to_str().unwrap()], "") {
            assert!(
                out.status.success(),
                "{}: {}{}",
                file.display(),
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
    // Every series the dashboard draws is on a live server's /metrics: the bundle served (its own
    // reference profile), a route with a challenger, an alert rule.
    let server = Server::start(&[
        "--model",
        bundle.to_str().unwrap(),
        "--route",
        "churn",
        "--champion",
        "sample-models/churn_v1.onnx",
        "--challenger",
        "sample-models/churn_v1.onnx",
        "--strategy",
        "canary:10@1h",
        "--alert",
        "share_drifted > 0.9",
        "--drift-refresh",
        "0.2",
    ]);
    let current = read_text(&repo("sample-data/churn_current.csv"));
    let rows: Vec<usize> = (0..200).collect();
    let mut body: Value = serde_json::from_str(&request_for(&current, &rows)).unwrap();
    body["id"] = json!("b1");
    assert_eq!(server.post("/v2/models/churn_v1/infer", &body.to_string()).status, 200);
    // A late label, for the realised metrics.
    assert_eq!(server.post("/v2/models/churn_v1/feedback", r#"{"id": "b1", "label": 1}"#).json()["matched"], json!(1));
    let deadline = Instant::now() + Duration::from_secs(20);
    let metrics = loop {
        let m = server.get("/metrics").text();
        if m.contains("mirador_share_drifted{") && m.contains("mirador_quality{") {
            break m;
        }
        assert!(Instant::now() < deadline, "no live drift yet: {m}");
        std::thread::sleep(Duration::from_millis(100));
    };
    for series in [
        "mirador_inference_requests_total",
        "mirador_inference_request_duration_seconds_bucket",
        "mirador_drift_score",
        "mirador_share_drifted",
        "mirador_alert_firing",
        "mirador_route_challenger_weight",
        "mirador_model_ready",
        "mirador_quality",
        "mirador_contract_failures_total",
    ] {
        assert!(dashboard.to_string().contains(series), "the dashboard queries {series}");
        assert!(metrics.lines().any(|l| l.starts_with(&format!("{series}{{"))), "{series} is not exported: {metrics}");
    }
}
