//! Metrics equal scikit-learn's (tests/golden/metrics.json, made by
//! tests/golden/make_metric_goldens.py): ≤ 1e-9 absolute, log loss ≤ 1e-7, on the sample models'
//! predictions and on edge cases (one class only, all-equal scores, positive class 0, multiclass,
//! an absent class, constant targets, zeros in the target).

use mirador::core::metrics::{
    BootstrapOptions, ClassificationData, EvaluateOptions, evaluate_classification, evaluate_regression,
};
use serde_json::Value;

fn goldens() -> Value {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/golden/metrics.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect()
}

fn assert_close(name: &str, got: Option<f64>, want: &Value, tol: f64) {
    match (got, want.as_f64()) {
        (None, None) => {}
        (Some(g), Some(w)) => assert!((g - w).abs() <= tol, "{name}: {g} vs scikit-learn {w} (diff {})", (g - w).abs()),
        (g, _) => panic!("{name}: got {g:?}, scikit-learn says {want}"),
    }
}

fn assert_all_close(name: &str, got: &[f64], want: &[f64]) {
    assert_eq!(got.len(), want.len(), "{name}: length");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!((g - w).abs() <= 1e-12, "{name}[{i}]: {g} vs {w}");
    }
}

/// The first golden case (churn_v1 on the current data) as classification data.
fn first_case(g: &Value) -> (ClassificationData, &Value) {
    let case = &g["classification"][0];
    let data = ClassificationData {
        classes: vec!["0".into(), "1".into()],
        positive: 1,
        y_true: case["y_true"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap() as usize).collect(),
        proba: floats(&case["proba"]),
    };
    (data, case)
}

fn options(threshold: f64) -> EvaluateOptions {
    EvaluateOptions {
        threshold,
        bootstrap: BootstrapOptions { resamples: 20, ..BootstrapOptions::default() },
        ..EvaluateOptions::default()
    }
}

#[test]
fn classification_metrics_match_scikit_learn() {
    let g = goldens();
    for case in g["classification"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let data = ClassificationData {
            classes: case["classes"].as_array().unwrap().iter().map(|c| c.as_str().unwrap().to_string()).collect(),
            positive: case["positive"].as_u64().unwrap() as usize,
            y_true: case["y_true"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap() as usize).collect(),
            proba: floats(&case["proba"]),
        };
        let report = evaluate_classification(&data, &options(case["threshold"].as_f64().unwrap()));
        for (metric, want) in case["expected"].as_object().unwrap() {
            let tol = if metric == "log_loss" { 1e-7 } else { 1e-9 };
            let got = *report.metrics.get(metric).unwrap_or_else(|| panic!("{name}: no metric {metric}"));
            assert_close(&format!("{name} {metric}"), got, want, tol);
        }
        let cm: Vec<Vec<u64>> = serde_json::from_value(case["confusion_matrix"].clone()).unwrap();
        assert_eq!(report.confusion_matrix.counts, cm, "{name}: confusion matrix");
        if let Some(curves) = case.get("curves") {
            let roc = report.roc.as_ref().unwrap();
            assert_all_close(&format!("{name} roc fpr"), &roc.x, &floats(&curves["roc_fpr"]));
            assert_all_close(&format!("{name} roc tpr"), &roc.y, &floats(&curves["roc_tpr"]));
            assert_all_close(
                &format!("{name} roc thresholds"),
                &roc.thresholds[1..],
                &floats(&curves["roc_thresholds"]),
            );
            let pr = report.pr.as_ref().unwrap();
            assert_all_close(&format!("{name} pr precision"), &pr.y, &floats(&curves["pr_precision"]));
            assert_all_close(&format!("{name} pr recall"), &pr.x, &floats(&curves["pr_recall"]));
            let t = floats(&curves["pr_thresholds"]);
            assert_all_close(&format!("{name} pr thresholds"), &pr.thresholds[..t.len()], &t);
            assert_all_close(
                &format!("{name} calibration true"),
                &report.calibration.fraction_positive,
                &floats(&curves["calibration_true"]),
            );
            assert_all_close(
                &format!("{name} calibration pred"),
                &report.calibration.mean_predicted,
                &floats(&curves["calibration_pred"]),
            );
        }
    }
}

#[test]
fn regression_metrics_match_scikit_learn() {
    let g = goldens();
    for case in g["regression"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let report = evaluate_regression(&floats(&case["y"]), &floats(&case["pred"]), &options(0.5));
        for (metric, want) in case["expected"].as_object().unwrap() {
            assert_close(&format!("{name} {metric}"), report.metrics[metric], want, 1e-9);
        }
    }
}

#[test]
fn threshold_sweep_agrees_with_the_report_at_its_threshold() {
    let g = goldens();
    let (data, case) = first_case(&g);
    let report = evaluate_classification(&data, &options(0.5));
    let at_half = &report.thresholds[50];
    assert_eq!(at_half.threshold, 0.5);
    let want = &case["expected"];
    assert!((at_half.precision - want["precision"].as_f64().unwrap()).abs() < 1e-12);
    assert!((at_half.recall - want["recall"].as_f64().unwrap()).abs() < 1e-12);
    assert!((at_half.accuracy - want["accuracy"].as_f64().unwrap()).abs() < 1e-12);
    assert_eq!(report.thresholds[0].recall, 1.0, "threshold 0 predicts everything positive");
}

#[test]
fn bootstrap_intervals_are_seeded_and_bracket_the_estimate() {
    let g = goldens();
    let (data, _) = first_case(&g);
    let opts = EvaluateOptions {
        bootstrap: BootstrapOptions { resamples: 200, ..BootstrapOptions::default() },
        ..EvaluateOptions::default()
    };
    let a = evaluate_classification(&data, &opts);
    let b = evaluate_classification(&data, &opts);
    assert_eq!(a.intervals, b.intervals, "same seed, same intervals");
    for (metric, interval) in &a.intervals {
        let point = a.metrics[metric].unwrap();
        assert!(interval.low <= point && point <= interval.high, "{metric}: {point} outside {interval:?}");
        assert!(interval.high - interval.low < 0.1, "{metric}: implausibly wide {interval:?} for 3,000 rows");
    }
    assert_eq!(a.intervals.len(), 15, "every binary metric has an interval");
    let other = EvaluateOptions { bootstrap: BootstrapOptions { seed: 1, ..opts.bootstrap }, ..opts };
    assert_ne!(evaluate_classification(&data, &other).intervals, a.intervals, "the seed matters");
}

#[test]
fn multiclass_intervals_cover_ranking_metrics_too() {
    let g = goldens();
    let case = g["classification"].as_array().unwrap().iter().find(|c| c["name"] == "multiclass").unwrap();
    let data = ClassificationData {
        classes: vec!["a".into(), "b".into(), "c".into()],
        positive: 0,
        y_true: case["y_true"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap() as usize).collect(),
        proba: floats(&case["proba"]),
    };
    let opts = EvaluateOptions {
        bootstrap: BootstrapOptions { resamples: 200, ..BootstrapOptions::default() },
        ..EvaluateOptions::default()
    };
    let report = evaluate_classification(&data, &opts);
    for metric in ["accuracy", "f1", "log_loss", "brier", "roc_auc", "average_precision"] {
        let point = report.metrics[metric].unwrap();
        let i = report.intervals.get(metric).unwrap_or_else(|| panic!("no interval for {metric}"));
        assert!(i.low <= point && point <= i.high && i.high - i.low < 0.2, "{metric}: {point} vs {i:?}");
    }
}
