//! Payload logs of a model served elsewhere: the request and response events KServe's inference
//! logger would send — made by the CloudEvents Python SDK (binary and structured mode) and written
//! by hand in KServe's own header form — become, through `mirador collect`, the same prediction log
//! `mirador serve` writes for that traffic; bad and unpaired events are counted and kept aside and
//! never cost a good one. Bodies in Triton's binary tensor extension (its client's default) are read
//! too, with no header giving the JSON part's length.

use std::process::{Command, Stdio};
use std::time::Duration;

use base64::Engine;
use polars::prelude::*;
use serde_json::{Value, json};

use crate::common::server::{ChurnForm, Server, churn_request, run_python};
use crate::common::{mirador_bin, read_text, repo};
use crate::live_drift::sample;

/// Start `mirador collect` for churn_v1 into `log_dir`.
fn collector(log_dir: &str) -> Server {
    let child = Command::new(mirador_bin())
        .args(["collect", "--model", "sample-models/churn_v1.onnx", "--log-dir", log_dir, "--port", "0"])
        .args(["--log-segment-secs", "1"])
        .current_dir(repo(""))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("mirador collect starts");
    Server::adopt(child)
}

/// A log folder as a table without the columns that depend on when it was written, in request order.
fn comparable(dir: &std::path::Path) -> DataFrame {
    let frame = mirador::core::table::read_table(dir, &Default::default()).unwrap();
    frame.drop_many(["time", "latency_ms"]).sort(["request_id", "row"], SortMultipleOptions::default()).unwrap()
}

fn stop(server: Server) {
    server.signal("TERM");
    let (code, err) = server.wait(Duration::from_secs(30));
    assert_eq!(code, Some(0), "{err}");
}

#[test]
fn kserve_payload_events_make_the_same_log_as_mirador_serve() {
    let dirs = [(); 3].map(|()| tempfile::tempdir().unwrap());
    let [served_dir, binary_dir, structured_dir] = dirs.each_ref().map(|d| d.path().to_str().unwrap().to_string());
    let server =
        Server::start(&["--model", "sample-models/churn_v1.onnx", "--log-dir", &served_dir, "--log-segment-secs", "1"]);
    let data = read_text(&repo("sample-data/churn_current.csv"));
    // Twenty requests of one to five rows (some with empty numbers), each with its V2 id.
    let mut exchanges = Vec::new();
    let mut next = 0;
    for k in 0..20 {
        let rows: Vec<usize> = (next..next + 1 + k % 5).collect();
        next += rows.len();
        let mut body: Value = serde_json::from_str(&churn_request(&data, &rows, ChurnForm::default())).unwrap();
        body["id"] = json!(format!("r{k:02}"));
        let request = body.to_string();
        let reply = server.post("/v2/models/churn_v1/infer", &request);
        assert_eq!(reply.status, 200, "{}", reply.text());
        exchanges.push(json!({"id": format!("ce-{k}"), "request": request, "response": reply.text()}));
    }
    stop(server);
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), serde_json::to_string(&exchanges).unwrap()).unwrap();

    // Binary mode: the first ten exchanges from the SDK, the other ten in KServe's own headers.
    let binary = collector(&binary_dir);
    let sdk: Vec<Value> = exchanges[..10].to_vec();
    let sdk_file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(sdk_file.path(), serde_json::to_string(&sdk).unwrap()).unwrap();
    let url = format!("http://127.0.0.1:{}/", binary.port);
    let statuses = run_python(
        &repo("tests/serve/payload_events.py"),
        &[sdk_file.path().display().to_string(), url, "binary".into()],
    );
    let statuses: Vec<&str> = statuses.lines().collect();
    assert_eq!(statuses.iter().filter(|s| **s == "200").count(), 10, "one logged pair per exchange: {statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == "202").count(), 10, "the first of each pair waits: {statuses:?}");
    for (k, x) in exchanges.iter().enumerate().skip(10) {
        for (kind, body, time) in [
            ("request", &x["request"], "2026-12-02T10:00:00.000123Z"),
            ("response", &x["response"], "2026-12-02T10:00:00.009123Z"),
        ] {
            let kind = format!("org.kubeflow.serving.inference.{kind}");
            let id = format!("ce-{k}");
            let headers = [
                ("Ce-Id", id.as_str()),
                ("Ce-Specversion", "1.0"),
                ("Ce-Type", kind.as_str()),
                ("Ce-Source", "http://localhost:9081/"),
                ("Ce-Time", time),
                ("Ce-Inferenceservicename", "churn_v1"),
                ("Ce-Namespace", "default"),
                ("Ce-Component", "predictor"),
                ("Ce-Endpoint", "default"),
                ("Content-Type", "application/json"),
            ];
            let reply = binary.request("POST", "/", &headers, body.as_str().unwrap().as_bytes());
            assert!(reply.status == 200 || reply.status == 202, "{}", reply.text());
        }
    }
    let metrics = binary.get("/metrics").text();
    assert_eq!(sample(&metrics, "mirador_collect_events_total", &[r#"outcome="logged""#]), Some(20.0), "{metrics}");
    stop(binary);

    // Structured mode, every exchange, from the SDK.
    let structured = collector(&structured_dir);
    let url = format!("http://127.0.0.1:{}/collect", structured.port);
    run_python(&repo("tests/serve/payload_events.py"), &[file.path().display().to_string(), url, "structured".into()]);
    stop(structured);

    let served = comparable(&std::path::Path::new(&served_dir).join("churn_v1"));
    assert_eq!(served.height(), next);
    for dir in [&binary_dir, &structured_dir] {
        let collected = comparable(&std::path::Path::new(dir).join("churn_v1"));
        assert_eq!(collected.schema(), served.schema(), "{dir}");
        assert!(
            collected.equals_missing(&served),
            "{dir}: the collected log differs:\n{collected}\nvs served:\n{served}"
        );
    }
}

#[test]
fn a_thousand_bad_or_unpaired_events_are_counted_and_kept_aside_and_the_good_ones_logged() {
    let log = tempfile::tempdir().unwrap();
    let server = collector(log.path().to_str().unwrap());
    let data = read_text(&repo("sample-data/churn_current.csv"));
    let good = |k: usize| {
        let mut body: Value = serde_json::from_str(&churn_request(&data, &[k], ChurnForm::default())).unwrap();
        body["id"] = json!(format!("good-{k}"));
        body.to_string()
    };
    // A response as churn_v1 gives it, for one row.
    let response = r#"{"model_name":"churn_v1","model_version":"1","outputs":[{"name":"label","datatype":"INT64","shape":[1],"data":[1]},{"name":"probabilities","datatype":"FP32","shape":[1,2],"data":[0.25,0.75]}]}"#;
    let send = |id: &str, kind: &str, body: &[u8], extra: &[(&str, &str)]| {
        let kind = format!("org.kubeflow.serving.inference.{kind}");
        let mut headers =
            vec![("ce-specversion", "1.0"), ("ce-type", kind.as_str()), ("Content-Type", "application/json")];
        if !id.is_empty() {
            headers.push(("ce-id", id));
        }
        headers.extend_from_slice(extra);
        let reply = server.request("POST", "/", &headers, body);
        (reply.status, reply.text())
    };
    let mut bad = 0;
    for k in 0..1000 {
        // Every tenth: a good pair, in either order.
        if k % 10 == 0 {
            let id = format!("pair-{k}");
            let (a, b) = if k % 20 == 0 { ("request", "response") } else { ("response", "request") };
            let body = |kind: &str| if kind == "request" { good(k) } else { response.to_string() };
            assert_eq!(send(&id, a, body(a).as_bytes(), &[]).0, 202);
            let (status, text) = send(&id, b, body(b).as_bytes(), &[]);
            assert_eq!(status, 200, "{text}");
        }
        let status = match k % 4 {
            0 => send("", "request", b"{}", &[]).0,
            1 => send(&format!("x{k}"), "explanation", b"{}", &[]).0,
            2 => server.request("POST", "/", &[("Content-Type", "application/cloudevents+json")], b"{not json").status,
            _ => send(&format!("lonely-{k}"), "request", good(k).as_bytes(), &[]).0,
        };
        assert!(status == 400 || status == 202, "{status}");
        bad += 1;
    }
    let metrics = server.get("/metrics").text();
    let count = |outcome: &str| sample(&metrics, "mirador_collect_events_total", &[&format!(r#"outcome="{outcome}""#)]);
    assert_eq!(count("logged"), Some(100.0), "{metrics}");
    assert_eq!(count("malformed"), Some(750.0));
    assert_eq!(count("received"), Some(1200.0));
    assert_eq!(server.get("/v2/health/ready").status, 200, "still serving");
    stop(server);
    let logged = mirador::core::table::read_table(log.path().join("churn_v1"), &Default::default()).unwrap();
    assert_eq!(logged.height(), 100, "every good pair, one row each");
    let aside = std::fs::read_to_string(log.path().join("_set_aside/events.jsonl")).unwrap();
    assert_eq!(aside.lines().count(), bad, "each bad or lonely event is kept aside, with why");
    let lonely = aside.lines().filter(|l| l.contains("stopped before its partner came")).count();
    assert_eq!(lonely, 250);
}

#[test]
fn payload_events_with_triton_binary_tensors_make_the_same_log_as_mirador_serve() {
    let dirs = [(); 2].map(|()| tempfile::tempdir().unwrap());
    let [served_dir, collected_dir] = dirs.each_ref().map(|d| d.path().to_str().unwrap().to_string());
    let server =
        Server::start(&["--model", "sample-models/churn_v1.onnx", "--log-dir", &served_dir, "--log-segment-secs", "1"]);
    // Ten exchanges made by Triton's client, every tensor binary both ways.
    let file = tempfile::NamedTempFile::new().unwrap();
    run_python(
        &repo("tests/serve/binary_exchanges.py"),
        &[
            format!("127.0.0.1:{}", server.port),
            "churn_v1".into(),
            repo("sample-data/churn_current.csv").display().to_string(),
            "10".into(),
            file.path().display().to_string(),
        ],
    );
    stop(server);
    let exchanges: Vec<Value> = serde_json::from_str(&std::fs::read_to_string(file.path()).unwrap()).unwrap();
    assert_eq!(exchanges.len(), 10);
    // As KServe's logger posts them: the raw bodies, the request's Content-Type, no length header.
    let collector = collector(&collected_dir);
    for x in &exchanges {
        for (kind, time) in [("request", "2026-12-02T10:00:00.000123Z"), ("response", "2026-12-02T10:00:00.009123Z")] {
            let body = base64::engine::general_purpose::STANDARD.decode(x[kind].as_str().unwrap()).unwrap();
            let kind = format!("org.kubeflow.serving.inference.{kind}");
            let headers = [
                ("Ce-Id", x["id"].as_str().unwrap()),
                ("Ce-Specversion", "1.0"),
                ("Ce-Type", kind.as_str()),
                ("Ce-Source", "http://localhost:9081/"),
                ("Ce-Time", time),
                ("Ce-Inferenceservicename", "churn_v1"),
                ("Content-Type", "application/octet-stream"),
            ];
            let reply = collector.request("POST", "/", &headers, &body);
            assert!(reply.status == 200 || reply.status == 202, "{}", reply.text());
        }
    }
    stop(collector);
    let served = comparable(&std::path::Path::new(&served_dir).join("churn_v1"));
    let collected = comparable(&std::path::Path::new(&collected_dir).join("churn_v1"));
    assert_eq!(served.height(), 55, "1 + 2 + … + 10 rows");
    assert!(collected.equals_missing(&served), "the collected log differs:\n{collected}\nvs served:\n{served}");
}
