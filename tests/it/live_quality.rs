//! Late labels in `mirador serve`: labels posted after the answers join them by request id and row;
//! the realised metrics of the window equal scikit-learn's on the same rows
//! (tests/golden/metrics.json); labels that say the model got worse fire the accuracy alert; every
//! label is kept beside the prediction log, where `mirador feedback` adds a file's labels too.

use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::common::server::{ChurnForm, Server, churn_request};
use crate::common::{Table, mirador_bin, read_text, repo};
use crate::live_drift::sample;

/// A server of churn_v1 logging to `log_dir` (segments closed every second), with `extra` flags.
fn churn_v1_logged(log_dir: &str, extra: &[&str]) -> Server {
    let mut args = vec!["--model", "sample-models/churn_v1.onnx", "--log-dir", log_dir, "--log-segment-secs", "1"];
    args.extend_from_slice(extra);
    Server::start(&args)
}

/// Send every row of `data` in requests of 100 rows with ids `{prefix}0`, `{prefix}1`, …
fn send_with_ids(server: &Server, data: &Table, prefix: &str) {
    for (k, start) in (0..data.rows()).step_by(100).enumerate() {
        let rows: Vec<usize> = (start..(start + 100).min(data.rows())).collect();
        let mut body: Value = serde_json::from_str(&churn_request(data, &rows, ChurnForm::default())).unwrap();
        body["id"] = json!(format!("{prefix}{k}"));
        let reply = server.post("/v2/models/churn_v1/infer", &body.to_string());
        assert_eq!(reply.status, 200, "{}", reply.text());
    }
}

/// The labels of every row sent by [`send_with_ids`]; `flip` makes each one wrong.
fn labels(truth: &[String], prefix: &str, flip: bool) -> Value {
    let labels: Vec<Value> = truth
        .iter()
        .enumerate()
        .map(|(r, t)| {
            let label = if flip { if t == "1" { "0" } else { "1" } } else { t.as_str() };
            json!({"id": format!("{prefix}{}", r / 100), "row": r % 100, "label": label})
        })
        .collect();
    json!({ "labels": labels })
}

#[test]
fn late_labels_give_scikit_learns_metrics_and_falling_accuracy_fires_its_alert() {
    let log = tempfile::tempdir().unwrap();
    let log_dir = log.path().to_str().unwrap();
    let server = churn_v1_logged(
        log_dir,
        &["--label-window", "3000", "--alert", "accuracy < 0.5", "--alert-for", "0.3", "--drift-refresh", "0.1"],
    );
    let data = read_text(&repo("sample-data/churn_current.csv"));
    let truth = data.column("churned").to_vec();
    send_with_ids(&server, &data, "q");
    let reply = server.post("/v2/models/churn_v1/feedback", &labels(&truth, "q", false).to_string());
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.json(), json!({"received": 3000, "matched": 3000, "unmatched": 0}));

    // The window's metrics are scikit-learn's on these 3000 rows (the golden file's churn_v1_current).
    let golden: Value =
        serde_json::from_str(&std::fs::read_to_string(repo("tests/golden/metrics.json")).unwrap()).unwrap();
    let case = golden["classification"].as_array().unwrap().iter().find(|c| c["name"] == "churn_v1_current").unwrap();
    assert_eq!(case["y_true"].as_array().unwrap().len(), 3000);
    let quality = server.get("/v2/models/churn_v1/feedback").json();
    let overall = &quality["quality"]["overall"];
    assert_eq!(overall["rows"], json!(3000), "{quality}");
    for metric in ["accuracy", "precision", "recall", "f1", "roc_auc"] {
        let (live, want) = (overall["metrics"][metric].as_f64().unwrap(), case["expected"][metric].as_f64().unwrap());
        assert!((live - want).abs() <= 1e-6, "{metric}: live {live} vs scikit-learn {want}");
    }
    let error_rate = overall["metrics"]["error_rate"].as_f64().unwrap();
    assert!((error_rate - (1.0 - case["expected"]["accuracy"].as_f64().unwrap())).abs() <= 1e-6);
    assert_eq!(quality["quality"]["versions"]["1"]["rows"], json!(3000), "per version too: {quality}");
    let metrics = server.get("/metrics").text();
    let accuracy =
        sample(&metrics, "mirador_quality", &[r#"model="churn_v1""#, r#"version="all""#, r#"metric="accuracy""#]);
    assert_eq!(accuracy, overall["metrics"]["accuracy"].as_f64(), "{metrics}");
    assert_eq!(sample(&metrics, "mirador_alert_firing", &[r#"rule="accuracy < 0.5""#]), Some(0.0), "{metrics}");

    // The same labels sent again (a client's retry) match, but each row counts once.
    let again = server.post("/v2/models/churn_v1/feedback", &labels(&truth, "q", false).to_string());
    assert_eq!(again.json()["matched"], json!(3000));
    let quality = server.get("/v2/models/churn_v1/feedback").json();
    assert_eq!(quality["quality"]["overall"]["rows"], json!(3000), "{quality}");

    // A label for no known request is counted, not lost; one that is not a class is refused.
    let reply = server.post("/v2/models/churn_v1/feedback", r#"{"id": "nobody", "label": 1}"#);
    assert_eq!(reply.json(), json!({"received": 1, "matched": 0, "unmatched": 1}));
    let reply = server.post("/v2/models/churn_v1/feedback", r#"{"id": "q0", "label": "maybe"}"#);
    assert_eq!(reply.status, 400);
    assert!(reply.error().contains("one of the classes 0, 1"), "{}", reply.error());
    assert_eq!(server.post("/v2/models/nobody/feedback", r#"{"id": "q0", "label": 1}"#).status, 404);

    // The same customers again, and this time the model was wrong about every one: accuracy falls
    // to 1 − 0.629, under the rule's 0.5, and after 0.3 s the alert fires.
    send_with_ids(&server, &data, "p");
    let reply = server.post("/v2/models/churn_v1/feedback", &labels(&truth, "p", true).to_string());
    assert_eq!(reply.json()["matched"], json!(3000));
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let metrics = server.get("/metrics").text();
        if sample(&metrics, "mirador_alert_firing", &[r#"rule="accuracy < 0.5""#]) == Some(1.0) {
            let accuracy =
                server.get("/v2/models/churn_v1/feedback").json()["quality"]["overall"]["metrics"]["accuracy"]
                    .as_f64()
                    .unwrap();
            let want = 1.0 - case["expected"]["accuracy"].as_f64().unwrap();
            assert!((accuracy - want).abs() <= 1e-6, "{accuracy} vs {want}");
            break;
        }
        assert!(Instant::now() < deadline, "the accuracy alert never fired: {metrics}");
        std::thread::sleep(Duration::from_millis(100));
    }
    let alerts = std::fs::read_to_string(log.path().join("alerts.jsonl")).unwrap();
    let fired: Value = serde_json::from_str(alerts.lines().last().unwrap()).unwrap();
    assert_eq!((fired["rule"].as_str(), fired["status"].as_str()), (Some("accuracy < 0.5"), Some("firing")));

    // A request whose value does not fit the contract is refused, counted, and logged as sent with
    // the reason (data quality is monitored too).
    let mut bad: Value = serde_json::from_str(&churn_request(&data, &[0, 1], ChurnForm::default())).unwrap();
    let tenure = bad["inputs"].as_array_mut().unwrap().iter_mut().find(|i| i["name"] == "tenure_months").unwrap();
    tenure["datatype"] = json!("BYTES");
    tenure["data"] = json!(["12", "two years"]);
    bad["id"] = json!("bad-1");
    let reply = server.post("/v2/models/churn_v1/infer", &bad.to_string());
    assert_eq!(reply.status, 400, "{}", reply.text());
    let metrics = server.get("/metrics").text();
    assert_eq!(sample(&metrics, "mirador_contract_failures_total", &[r#"model="churn_v1""#]), Some(2.0), "{metrics}");

    // On stop every label is written beside the log (matched or not), and the log's rows carry
    // their position in the request.
    server.signal("TERM");
    let (code, _) = server.wait(Duration::from_secs(30));
    assert_eq!(code, Some(0));
    let labels_dir = log.path().join("churn_v1").join("labels");
    let kept = mirador::core::monitor::labels::read_labels(&labels_dir).unwrap();
    assert_eq!(kept.len(), 9001, "every posted label but the refused one (the retried ones too)");
    let logged = mirador::core::table::read_table(log.path().join("churn_v1"), &Default::default()).unwrap();
    assert_eq!(logged.height(), 6000);
    let refused =
        mirador::core::table::read_table(log.path().join("churn_v1").join("rejected"), &Default::default()).unwrap();
    assert_eq!(refused.height(), 2, "both rows of the refused request");
    let text = |c: &str| refused.column(c).unwrap().cast(&polars::prelude::DataType::String).unwrap();
    let error = text("error");
    assert!(error.str().unwrap().get(0).unwrap().contains("two years"), "{refused}");
    assert_eq!(text("tenure_months").str().unwrap().get(1), Some("two years"), "the value as sent");
    assert_eq!(text("request_id").str().unwrap().get(0), Some("bad-1"));
    let joined = mirador::core::monitor::labels::join_labels(&logged, &kept).unwrap();
    assert_eq!((joined.matched, joined.unmatched), (9000, 1));
    let first: Vec<&str> = (0..100).map(|r| truth[r].as_str()).collect();
    let got: Vec<&str> = joined.labels[..100].iter().map(|l| l.as_deref().unwrap()).collect();
    assert_eq!(got, first, "the log's first request holds its own labels, row by row");

    // `mirador feedback`: a file keyed by request id and row adds labels to the log.
    let file = log.path().join("late.csv");
    let mut csv = String::from("request_id,row,churned\n");
    for (r, t) in truth.iter().enumerate().take(250) {
        csv.push_str(&format!("q{},{},{t}\n", r / 100, r % 100));
    }
    csv.push_str("q999,0,1\n");
    std::fs::write(&file, csv).unwrap();
    let out = Command::new(mirador_bin())
        .args(["feedback", "--log", log_dir, "--labels", file.to_str().unwrap(), "--key", "request_id", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (report["labels"].as_u64(), report["matched"].as_u64(), report["unmatched"].as_u64()),
        (Some(251), Some(250), Some(1))
    );
    assert_eq!(report["model"], json!("churn_v1"));
    assert_eq!(report["labelled_rows"], json!(6000));
    let out = Command::new(mirador_bin())
        .args(["feedback", "--log", log_dir, "--labels", file.to_str().unwrap(), "--key", "customer"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("customer"), "{err}");

    // Monitoring the log: its logged outputs as they are, its labels joined — the first 3000 rows
    // (right labels) have scikit-learn's accuracy, the next 3000 (wrong labels) its complement; the
    // drift and prediction drift equal those of the same rows monitored from the CSV file.
    let monitor = |current: &str| -> Value {
        let out = Command::new(mirador_bin())
            .args(["drift", "--reference", "sample-data/churn_reference.csv", "--current", current])
            .args(["--chunk", "3000", "--model", "sample-models/churn_v1.onnx", "--json"])
            .current_dir(repo(""))
            .output()
            .unwrap();
        assert!(
            out.status.code() == Some(0) || out.status.code() == Some(3),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let from_log = monitor(log.path().join("churn_v1").to_str().unwrap());
    let from_file = monitor("sample-data/churn_current.csv");
    let chunks = from_log["chunks"].as_array().unwrap();
    assert_eq!(chunks.len(), 2, "{from_log}");
    let accuracy = case["expected"]["accuracy"].as_f64().unwrap();
    for (chunk, want) in chunks.iter().zip([accuracy, 1.0 - accuracy]) {
        assert_eq!(chunk["labelled_share"], json!(1.0), "{chunk}");
        let got = chunk["performance"]["accuracy"].as_f64().unwrap();
        assert!((got - want).abs() <= 1e-6, "accuracy {got} vs {want}");
    }
    let file_chunk = &from_file["chunks"][0];
    let (a, b) = (chunks[0]["prediction_drift"].as_f64().unwrap(), file_chunk["prediction_drift"].as_f64().unwrap());
    assert!((a - b).abs() <= 1e-6, "prediction drift from the log {a} vs the file {b}");
    // The log holds the model's nine input columns (the file also has the target and ids).
    let logged = chunks[0]["drift_scores"].as_object().unwrap();
    assert_eq!(logged.len(), 9, "{logged:?}");
    for (column, score) in logged {
        let in_file = file_chunk["drift_scores"][column].as_f64().unwrap_or(f64::NAN);
        assert!((in_file - score.as_f64().unwrap()).abs() <= 1e-9, "{column}: {score} vs {in_file}");
    }
    let notes = from_log["notes"].to_string();
    assert!(notes.contains("6000 served rows, 6000 with a late label"), "{notes}");
    assert!(notes.contains("2 of 6002 rows (0.03 %) failed the model's contract"), "{notes}");
}

/// A quarantining request (`"parameters": {"quarantine": true}`): the rows that fit the contract are
/// answered — as they would be alone — and the others are listed with their rules and logged as
/// refused; without the parameter the same request is refused whole.
#[test]
fn a_quarantining_request_answers_its_good_rows_and_lists_the_bad_ones() {
    let log = tempfile::tempdir().unwrap();
    let server = churn_v1_logged(log.path().to_str().unwrap(), &[]);
    let data = read_text(&repo("sample-data/churn_current.csv"));
    let rows: Vec<usize> = (0..6).collect();
    let mut body: Value = serde_json::from_str(&churn_request(&data, &rows, ChurnForm::default())).unwrap();
    let tenure = body["inputs"].as_array_mut().unwrap().iter_mut().find(|i| i["name"] == "tenure_months").unwrap();
    tenure["datatype"] = json!("BYTES");
    let mut values: Vec<Value> = rows.iter().map(|&r| json!(data.column("tenure_months")[r])).collect();
    values[1] = json!("two years");
    values[4] = json!("1.5");
    tenure["data"] = json!(values);
    assert_eq!(server.post("/v2/models/churn_v1/infer", &body.to_string()).status, 400, "refused whole by default");
    body["parameters"] = json!({"quarantine": true});
    body["id"] = json!("q-1");
    let reply = server.post("/v2/models/churn_v1/infer", &body.to_string());
    assert_eq!(reply.status, 200, "{}", reply.text());
    let answer = reply.json();
    let quarantined = answer["parameters"]["quarantined"].as_array().unwrap();
    assert_eq!(quarantined.iter().map(|q| q["row"].as_u64().unwrap()).collect::<Vec<_>>(), [1, 4]);
    assert!(quarantined[0]["rule"].as_str().unwrap().contains("two years"), "{answer}");
    assert!(
        quarantined[1]["rule"].as_str().unwrap().contains("row 5"),
        "the rule names the row in the request: {answer}"
    );
    // The four good rows, answered as they are alone.
    let good: Vec<usize> = vec![0, 2, 3, 5];
    let alone = server.post("/v2/models/churn_v1/infer", &churn_request(&data, &good, ChurnForm::default())).json();
    assert_eq!(answer["outputs"][0]["data"], alone["outputs"][0]["data"]);
    let (a, b) = (answer["outputs"][1]["data"].as_array().unwrap(), alone["outputs"][1]["data"].as_array().unwrap());
    assert_eq!(a.len(), 8);
    for (x, y) in a.iter().zip(b) {
        assert!((x.as_f64().unwrap() - y.as_f64().unwrap()).abs() <= crate::common::TOLERANCE);
    }
    server.signal("TERM");
    assert_eq!(server.wait(Duration::from_secs(30)).0, Some(0));
    let refused =
        mirador::core::table::read_table(log.path().join("churn_v1").join("rejected"), &Default::default()).unwrap();
    // The request refused whole (6 rows) and the two quarantined rows, each with its own rule.
    assert_eq!(refused.height(), 8, "{refused}");
}

/// Labels sent by key for answers the server does not remember (here it remembers none) are
/// unmatched live, but every logged row carries its key, so they join the log offline — and a
/// file of labels joins by `--key key` too.
#[test]
fn labels_by_key_the_server_no_longer_remembers_join_the_log_offline() {
    let log = tempfile::tempdir().unwrap();
    let log_dir = log.path().to_str().unwrap();
    let server = churn_v1_logged(log_dir, &["--feedback-rows", "0"]);
    let data = read_text(&repo("sample-data/churn_current.csv"));
    // Ten single-row requests keyed by customer id (the request's `key` parameter).
    let customers: Vec<String> = data.column("customer_id")[..10].to_vec();
    for (r, customer) in customers.iter().enumerate() {
        let body = churn_request(&data, &[r], ChurnForm { key: Some(customer), ..ChurnForm::default() });
        assert_eq!(server.post("/v2/models/churn_v1/infer", &body).status, 200);
    }
    let labels: Vec<Value> = (0..5).map(|r| json!({"key": customers[r], "label": data.column("churned")[r]})).collect();
    let reply = server.post("/v2/models/churn_v1/feedback", &json!({ "labels": labels }).to_string());
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.json()["unmatched"], 5, "nothing remembered live: {}", reply.text());
    server.signal("TERM");
    assert_eq!(server.wait(Duration::from_secs(30)).0, Some(0));

    let model_dir = log.path().join("churn_v1");
    let logged = mirador::core::table::read_table(&model_dir, &Default::default()).unwrap();
    let keys: Vec<Option<String>> =
        logged.column("key").unwrap().str().unwrap().iter().map(|k| k.map(str::to_string)).collect();
    assert!(customers.iter().all(|c| keys.contains(&Some(c.clone()))), "every row logs its key: {keys:?}");
    let kept = mirador::core::monitor::labels::read_labels(&model_dir.join("labels")).unwrap();
    let joined = mirador::core::monitor::labels::join_labels(&logged, &kept).unwrap();
    assert_eq!((joined.matched, joined.unmatched), (5, 0));
    // A file of the other five, by the logged key.
    let file = log.path().join("late.csv");
    let mut csv = String::from("key,label\n");
    for (customer, label) in customers.iter().zip(data.column("churned")).skip(5) {
        csv.push_str(&format!("{customer},{label}\n"));
    }
    std::fs::write(&file, csv).unwrap();
    let out = Command::new(mirador_bin())
        .args(["feedback", "--log", log_dir, "--labels", file.to_str().unwrap(), "--key", "key", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let imported: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(imported["matched"], 5, "{imported}");
    let kept = mirador::core::monitor::labels::read_labels(&model_dir.join("labels")).unwrap();
    let joined = mirador::core::monitor::labels::join_labels(&logged, &kept).unwrap();
    assert_eq!(joined.labels.iter().filter(|l| l.is_some()).count(), 10, "every row labelled");
}
