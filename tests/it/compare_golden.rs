//! `compare` against scikit-learn (Cohen's κ, the metric deltas) and statsmodels (McNemar, both the
//! chi-square and the exact form), plus the promotion gate's verdict.

use crate::common::{model, repo};
use mirador::core::compare::{CompareRequest, GateRule, compare_files};
use mirador::core::metrics::BootstrapOptions;
use mirador::core::{CancelToken, EvaluateRequest};
use serde_json::Value;

fn request(gate: &str) -> CompareRequest {
    let mut r = CompareRequest {
        gate: GateRule::parse_all(gate).unwrap(),
        latency_rows: 20,
        max_flips: 5,
        ..CompareRequest::default()
    };
    r.evaluate = EvaluateRequest { target: "churned".into(), ..EvaluateRequest::default() };
    r.evaluate.options.bootstrap = BootstrapOptions { resamples: 100, ..BootstrapOptions::default() };
    r
}

fn golden(name: &str) -> Value {
    let text = std::fs::read_to_string(repo(&format!("tests/golden/{name}.json"))).unwrap();
    serde_json::from_str(&text).unwrap()
}

#[test]
fn agreement_kappa_and_mcnemar_match_the_python_libraries() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(repo("sample-data/churn_current.csv")).unwrap();
    let first60: Vec<&str> = text.lines().take(61).collect();
    let small = dir.path().join("first60.csv");
    std::fs::write(&small, first60.join("\n") + "\n").unwrap();
    let g = golden("compare");
    let models = [model("churn_v1"), model("churn_v2")];
    for (key, data) in [("all_rows", repo("sample-data/churn_current.csv")), ("first_60_rows", small)] {
        let want = &g[key];
        let c = compare_files(&models, &data, &request(""), &CancelToken::new(), &mut |_, _| {}).unwrap();
        let a = &c.agreement[0];
        assert!((a.agreement_rate - want["agreement_rate"].as_f64().unwrap()).abs() < 1e-12, "{key}");
        assert_eq!(a.flip_count, want["flips"].as_u64().unwrap(), "{key}");
        assert!((a.cohen_kappa.unwrap() - want["cohen_kappa"].as_f64().unwrap()).abs() < 1e-12, "{key} kappa");
        assert_eq!(a.mcnemar.champion_only, want["champion_only"].as_u64().unwrap());
        assert_eq!(a.mcnemar.challenger_only, want["challenger_only"].as_u64().unwrap());
        assert_eq!(a.mcnemar.exact, want["exact"].as_bool().unwrap());
        assert!((a.mcnemar.statistic - want["mcnemar_statistic"].as_f64().unwrap()).abs() < 1e-12, "{key}");
        let (p, wp) = (a.mcnemar.p_value, want["mcnemar_p_value"].as_f64().unwrap());
        assert!(((p - wp) / wp).abs() < 1e-9, "{key} McNemar p {p} vs statsmodels {wp}");
        assert_eq!(a.flips.len(), 5, "flip table capped at max_flips");
        assert!(a.flips.iter().all(|f| f.champion_label != f.challenger_label));
        assert!(
            c.models
                .iter()
                .all(|m| m.latency.is_some_and(|l| l.p50_ms > 0.0 && l.p50_ms <= l.p95_ms && l.p95_ms <= l.p99_ms))
        );
    }
}

#[test]
fn deltas_are_the_scikit_learn_differences_and_the_gate_judges_them() {
    let g = golden("metrics");
    let metric = |name: &str, m: &str| {
        g["classification"].as_array().unwrap().iter().find(|c| c["name"] == name).unwrap()["expected"][m]
            .as_f64()
            .unwrap()
    };
    let models = [model("churn_v1"), model("churn_v2")];
    let rules = "roc_auc >= champion - 0.005; recall drop <= 2%; accuracy >= 0.5";
    let c = compare_files(
        &models,
        &repo("sample-data/churn_current.csv"),
        &request(rules),
        &CancelToken::new(),
        &mut |_, _| {},
    )
    .unwrap();
    for name in ["accuracy", "roc_auc", "average_precision", "log_loss", "brier", "recall"] {
        let d = c.deltas.iter().find(|d| d.metric == name).unwrap();
        let want = metric("churn_v2_current", name) - metric("churn_v1_current", name);
        assert!((d.delta.unwrap() - want).abs() < 1e-9, "{name}: {} vs {want}", d.delta.unwrap());
        let i = d.interval.unwrap();
        assert!(i.low <= d.delta.unwrap() && d.delta.unwrap() <= i.high, "{name} interval {i:?}");
    }
    let verdict = &c.gate[0];
    assert!(!verdict.passed && !c.passed);
    let by_rule: Vec<(bool, &str)> = verdict.results.iter().map(|r| (r.passed, r.rule.as_str())).collect();
    assert_eq!(
        by_rule,
        [(false, "roc_auc >= champion - 0.005"), (true, "recall drop <= 2%"), (true, "accuracy >= 0.5")]
    );
    assert!(
        verdict.results[0].reason.contains("0.7115") && verdict.results[0].reason.contains("0.7255"),
        "{}",
        verdict.results[0].reason
    );
}

#[test]
fn cli_compare_exits_3_when_the_gate_fails() {
    let out = std::process::Command::new(crate::common::mirador_bin())
        .args([
            "compare",
            "--models",
            "sample-models/churn_v1.onnx",
            "sample-models/churn_v2.onnx",
            "--data",
            "sample-data/churn_current.csv",
        ])
        .args([
            "--target",
            "churned",
            "--bootstrap",
            "50",
            "--latency-rows",
            "10",
            "--json",
            "--gate",
            "roc_auc >= champion",
        ])
        .current_dir(repo(""))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["passed"], false);
    assert_eq!(v["champion"], "churn_v1");
    assert_eq!(v["models"].as_array().unwrap().len(), 2);
}
