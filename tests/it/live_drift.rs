//! Live drift in `mirador serve`: the rows clients send, over a rolling window, against the
//! reference — the gauges on `/metrics` equal what `mirador drift` says of the same rows in a file,
//! and the window follows the traffic (a window of undrifted rows stops drifting).

use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::common::server::Server;
use crate::common::{Table, mirador_bin, read_text, repo};

/// A V2 request for churn_v1 with the rows `rows` of `data` (column form).
fn request_for(data: &Table, rows: &[usize]) -> String {
    let spec = [
        ("tenure_months", "INT64"),
        ("monthly_charges", "FP64"),
        ("total_charges", "FP64"),
        ("senior_citizen", "INT64"),
        ("support_calls", "INT64"),
        ("contract", "BYTES"),
        ("internet_service", "BYTES"),
        ("payment_method", "BYTES"),
        ("paperless_billing", "BYTES"),
    ];
    let inputs: Vec<Value> = spec
        .iter()
        .map(|(name, datatype)| {
            let data: Vec<Value> = rows
                .iter()
                .map(|&r| {
                    let cell = &data.column(name)[r];
                    match *datatype {
                        "BYTES" => json!(cell),
                        _ if cell.is_empty() => Value::Null,
                        _ => json!(cell.parse::<f64>().unwrap()),
                    }
                })
                .collect();
            json!({"name": name, "datatype": datatype, "shape": [rows.len()], "data": data})
        })
        .collect();
    json!({ "inputs": inputs }).to_string()
}

/// The value of the sample `name{…}` whose labels contain every one of `labels`.
fn sample(metrics: &str, name: &str, labels: &[&str]) -> Option<f64> {
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
    match Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
    {
        Ok(mut child) => {
            use std::io::Write;
            child.stdin.take().unwrap().write_all(classic.as_bytes()).unwrap();
            let out = child.wait_with_output().unwrap();
            assert!(out.status.success(), "promtool: {}", String::from_utf8_lossy(&out.stderr));
        }
        Err(_) => assert!(std::env::var_os("MIRADOR_REQUIRE_SERVER_TOOLS").is_none(), "promtool is required here"),
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
