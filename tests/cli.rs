//! The `mirador` binary, run as a user or a CI script would: outputs, JSON contracts and exit codes.

#![allow(clippy::unwrap_used)]

mod common;

use std::process::{Command, Output};

use common::repo;

fn mirador(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mirador")).args(args).current_dir(repo("")).output().expect("binary runs")
}

fn json(out: &Output) -> serde_json::Value {
    assert!(out.status.success(), "stderr: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("valid JSON on stdout")
}

#[test]
fn inspect_shows_metadata_and_contract() {
    let v = json(&mirador(&["inspect", "sample-models/churn_v2.onnx", "--json"]));
    assert_eq!(v["producer_name"], "skl2onnx");
    assert_eq!(v["inputs"].as_array().unwrap().len(), 9);
    assert_eq!(v["inputs"][0]["name"], "tenure_months");
    assert_eq!(v["inputs"][0]["elem"], "int64");
    assert_eq!(v["outputs"][1]["kind"], "sequence_of_maps");
    assert_eq!(v["task"]["task"], "classification");
    assert_eq!(v["task"]["classes"], serde_json::json!(["0", "1"]));
    assert_eq!(v["metadata"]["target"], "churned");
    assert_eq!(v["sha256"].as_str().unwrap().len(), 64);
    assert!(v["opsets"].as_array().unwrap().iter().any(|o| o["domain"] == "ai.onnx.ml"));

    let text = mirador(&["inspect", "sample-models/spend_regressor.onnx"]);
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("tensor(float64)[?, 4]") && text.contains("regression"), "{text}");
}

#[test]
fn check_exit_code_tells_pass_from_fail() {
    let ok = mirador(&["check", "--model", "sample-models/churn_v1.onnx", "--input", "sample-data/churn_current.csv"]);
    assert_eq!(ok.status.code(), Some(0), "{}", String::from_utf8_lossy(&ok.stdout));
    let v = json(&mirador(&[
        "check",
        "--model",
        "sample-models/churn_v1.onnx",
        "--input",
        "sample-data/churn_current.csv",
        "--json",
    ]));
    assert_eq!(v["rows_checked"], 3000);
    assert_eq!(v["binding"]["inputs"][0]["source"], "by_name");
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, "tenure_months,contract\nx,One year\n").unwrap();
    let out = mirador(&["check", "--model", "sample-models/churn_v1.onnx", "--input", bad.to_str().unwrap(), "--json"]);
    assert_eq!(out.status.code(), Some(3));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let kinds: Vec<&str> = v["problems"].as_array().unwrap().iter().map(|p| p["kind"].as_str().unwrap()).collect();
    assert!(kinds.contains(&"missing_column"), "{kinds:?}");
}

#[test]
fn predict_one_row_from_pairs() {
    let values = "tenure_months=2,monthly_charges=95.5,total_charges=190,contract=Month-to-month,internet_service=Fiber optic,\
                  payment_method=Electronic check,paperless_billing=Yes,senior_citizen=1,support_calls=4";
    let v = json(&mirador(&["predict", "--model", "sample-models/churn_v1.onnx", "--values", values, "--json"]));
    assert_eq!(v["label"], "1", "a short-tenure, high-charge, many-calls customer churns");
    let p1 = v["probabilities"][1][1].as_f64().unwrap();
    assert!(p1 > 0.5 && p1 <= 1.0);
    let bad = mirador(&["predict", "--model", "sample-models/churn_v1.onnx", "--values", "tenure_months=2"]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("column 'contract' is missing"));
}

#[test]
fn score_writes_predictions_and_a_json_summary() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("pred.csv");
    let v = json(&mirador(&[
        "score",
        "--model",
        "sample-models/churn_numeric.onnx",
        "--input",
        "sample-data/churn_current.parquet",
        "--output",
        out.to_str().unwrap(),
        "--id-cols",
        "customer_id",
        "--batch-size",
        "1000",
        "--json",
    ]));
    assert_eq!(v["rows"], 3000);
    assert_eq!(v["batches"], 3);
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(text.starts_with("customer_id,label,p_0,p_1\nC100001,0,"), "{}", &text[..80]);
}

#[test]
fn errors_are_one_clear_line_with_a_failure_exit() {
    let out = mirador(&["score", "--model", "sample-models/nope.onnx", "--input", "x.csv", "--output", "y.csv"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.starts_with("error: could not read the model") && err.contains("nope.onnx"), "{err}");
}

#[test]
fn a_wrong_ort_dylib_path_says_how_to_fix_it() {
    let out = Command::new(env!("CARGO_BIN_EXE_mirador"))
        .args(["inspect", "sample-models/churn_v1.onnx"])
        .current_dir(repo(""))
        .env("ORT_DYLIB_PATH", "/nonexistent/libonnxruntime.so")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("ONNX Runtime 1.31.1 is not available") && err.contains("ORT_DYLIB_PATH") && err.contains("Fix:"),
        "{err}"
    );
}
