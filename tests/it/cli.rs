//! The `mirador` binary, run as a user or a CI script would: outputs, JSON contracts and exit codes.

use std::process::{Command, Output};

use crate::common::repo;

fn mirador(args: &[&str]) -> Output {
    Command::new(crate::common::mirador_bin()).args(args).current_dir(repo("")).output().expect("binary runs")
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
    let out = Command::new(crate::common::mirador_bin())
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

#[test]
fn evaluate_json_matches_scikit_learn_on_the_sample_data() {
    let v = json(&mirador(&[
        "evaluate",
        "--model",
        "sample-models/churn_v1.onnx",
        "--data",
        "sample-data/churn_current.csv",
        "--target",
        "churned",
        "--bootstrap",
        "100",
        "--json",
    ]));
    let golden: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(repo("tests/golden/metrics.json")).unwrap()).unwrap();
    let expected = &golden["classification"][0];
    assert_eq!(expected["name"], "churn_v1_current");
    assert_eq!(v["task"], "classification");
    for name in ["accuracy", "precision", "recall", "f1", "roc_auc", "average_precision", "log_loss", "brier"] {
        let (got, want) = (v["metrics"][name].as_f64().unwrap(), expected["expected"][name].as_f64().unwrap());
        assert!((got - want).abs() <= 1e-9, "{name}: {got} vs scikit-learn {want}");
        let (lo, hi) = (v["intervals"][name]["low"].as_f64().unwrap(), v["intervals"][name]["high"].as_f64().unwrap());
        assert!(lo <= got && got <= hi, "{name} interval");
    }
    assert_eq!(v["confusion_matrix"]["counts"], expected["confusion_matrix"]);

    let v = json(&mirador(&[
        "evaluate",
        "--model",
        "sample-models/spend_regressor.onnx",
        "--data",
        "sample-data/churn_current.parquet",
        "--target",
        "next_month_spend",
        "--bootstrap",
        "0",
        "--json",
    ]));
    let expected = &golden["regression"][0]["expected"];
    for name in ["mae", "rmse", "r2", "mape"] {
        let (got, want) = (v["metrics"][name].as_f64().unwrap(), expected[name].as_f64().unwrap());
        assert!((got - want).abs() <= 1e-9, "{name}: {got} vs scikit-learn {want}");
    }
}

#[test]
fn evaluate_names_a_bad_target_value() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(repo("sample-data/churn_current.csv")).unwrap();
    let mut lines: Vec<String> = text.lines().take(6).map(str::to_string).collect();
    let mut f: Vec<String> = lines[4].split(',').map(str::to_string).collect();
    f[10] = "maybe".into();
    lines[4] = f.join(",");
    let bad = dir.path().join("labels.csv");
    std::fs::write(&bad, lines.join("\n") + "\n").unwrap();
    let out = mirador(&[
        "evaluate",
        "--model",
        "sample-models/churn_v1.onnx",
        "--data",
        bad.to_str().unwrap(),
        "--target",
        "churned",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("'maybe'") && err.contains("row 4") && err.contains("column 'churned'"), "{err}");
}

#[test]
fn drift_json_contract_profiles_and_monitoring_exit_codes() {
    let out = mirador(&[
        "drift",
        "--reference",
        "sample-data/churn_reference.csv",
        "--current",
        "sample-data/churn_current.csv",
        "--exclude",
        "customer_id",
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(3), "the sample current data drifts");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["dataset_drift"], true);
    assert!((v["share_drifted"].as_f64().unwrap() - 6.0 / 11.0).abs() < 1e-12);
    let contract = v["columns"].as_array().unwrap().iter().find(|c| c["column"] == "contract").unwrap();
    for key in ["column", "kind", "test", "score", "threshold", "drift"] {
        assert!(contract.get(key).is_some(), "drift JSON lacks '{key}'");
    }
    assert_eq!((contract["kind"].as_str(), contract["test"].as_str()), (Some("categorical"), Some("jensenshannon")));

    let same = mirador(&[
        "drift",
        "--reference",
        "sample-data/churn_current.csv",
        "--current",
        "sample-data/churn_current.parquet",
        "--exclude",
        "customer_id",
    ]);
    assert_eq!(same.status.code(), Some(0), "data does not drift from itself");

    let dir = tempfile::tempdir().unwrap();
    let profile = dir.path().join("reference.json");
    let made =
        mirador(&["profile", "--reference", "sample-data/churn_reference.csv", "--output", profile.to_str().unwrap()]);
    assert!(made.status.success());
    let from_profile = mirador(&[
        "drift",
        "--reference",
        profile.to_str().unwrap(),
        "--current",
        "sample-data/churn_current.csv",
        "--exclude",
        "customer_id",
        "--json",
    ]);
    let p: serde_json::Value = serde_json::from_slice(&from_profile.stdout).unwrap();
    assert_eq!(p["share_drifted"], v["share_drifted"]);

    let monitored = mirador(&[
        "drift",
        "--reference",
        "sample-data/churn_reference.csv",
        "--current",
        "sample-data/churn_production_log.csv",
        "--exclude",
        "customer_id",
        "--chunk",
        "1w",
        "--time-col",
        "timestamp",
        "--json",
    ]);
    assert_eq!(monitored.status.code(), Some(3), "the later weeks raise alerts");
    let m: serde_json::Value = serde_json::from_slice(&monitored.stdout).unwrap();
    assert_eq!(m["chunks"].as_array().unwrap().len(), 8);
    assert!(!m["alerts"].as_array().unwrap().is_empty());
    let bad = mirador(&["drift", "--reference", "x.csv", "--current", "y.csv", "--chunk", "1w"]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--time-col"));
}

#[test]
fn onnx_runtime_records_no_telemetry_in_the_users_home() {
    let home = tempfile::tempdir().unwrap();
    let out = Command::new(crate::common::mirador_bin())
        .args(["predict", "--model", "sample-models/churn_numeric.onnx", "--json", "--values"])
        .arg("tenure_months=12,monthly_charges=70,total_charges=840,senior_citizen=0,support_calls=1")
        .current_dir(repo(""))
        .env("HOME", home.path())
        .env("XDG_CACHE_HOME", home.path().join(".cache"))
        .env_remove("ORT_DISABLE_TELEMETRY")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let microsoft = home.path().join(".cache/Microsoft");
    assert!(!microsoft.exists(), "ONNX Runtime wrote {}", microsoft.display());
}

/// A binary copied elsewhere (as into a container) finds ONNX Runtime in `../lib` beside it, and
/// without it says every place it looked.
#[test]
fn a_copied_binary_finds_onnx_runtime_beside_it_or_says_where_it_looked() {
    let library = mirador::core::runtime::library_path().expect("ONNX Runtime is available to the tests");
    let root = tempfile::tempdir().unwrap();
    let (bin, lib, cache) = (root.path().join("bin"), root.path().join("lib"), root.path().join("cache"));
    for d in [&bin, &lib, &cache] {
        std::fs::create_dir_all(d).unwrap();
    }
    let exe = bin.join("mirador");
    std::fs::copy(crate::common::mirador_bin(), &exe).unwrap();
    let run = || {
        Command::new(&exe)
            .args(["inspect", "sample-models/churn_v1.onnx"])
            .current_dir(repo(""))
            .env_remove("ORT_DYLIB_PATH")
            .env("MIRADOR_CACHE_DIR", &cache)
            .env("MIRADOR_PYTHON", "/nonexistent/python3")
            .output()
            .unwrap()
    };
    let out = run();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("ONNX Runtime 1.31.1 is not available"), "{err}");
    assert!(err.contains(&bin.display().to_string()) && err.contains(&cache.display().to_string()), "{err}");
    std::fs::copy(&library, lib.join(library.file_name().unwrap())).unwrap();
    let out = run();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("churn_v1"));
}
