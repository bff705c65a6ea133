//! Monitoring over time on the sample production log (8 weeks of growing drift): chunks, per-chunk
//! drift and performance consistent with the tested engines, reference bands, and alerts.

use crate::common::{model, repo};
use mirador::core::drift::{DriftOptions, drift_frames};
use mirador::core::evaluate::labelled_scores;
use mirador::core::metrics::{BootstrapOptions, ClassificationData, EvaluateOptions, evaluate_classification};
use mirador::core::monitor::{AlertRule, AlertSeverity, Chunking, ModelOutputs, monitor};
use mirador::core::{ReadPlan, read_table};
use polars::prelude::*;

fn outputs() -> ModelOutputs {
    let m = model("churn_v1");
    let (reference_scores, reference_labelled) =
        labelled_scores(&m, &repo("sample-data/churn_reference.csv"), Some("churned")).unwrap();
    let (current_scores, current_labelled) =
        labelled_scores(&m, &repo("sample-data/churn_production_log.csv"), Some("churned")).unwrap();
    ModelOutputs {
        reference_scores,
        current_scores,
        reference_labelled,
        current_labelled,
        current_label_mask: None,
        binary: true,
    }
}

#[test]
fn weekly_chunks_agree_with_the_drift_and_metric_engines() {
    let reference = read_table(repo("sample-data/churn_reference.csv"), &ReadPlan::default()).unwrap();
    let log = read_table(repo("sample-data/churn_production_log.csv"), &ReadPlan::default()).unwrap();
    let options = DriftOptions { exclude: vec!["customer_id".into()], ..DriftOptions::default() };
    let chunking = Chunking::parse("1w", Some("timestamp")).unwrap();
    let rules = AlertRule::parse_all("roc_auc outside band; prediction_drift > 0.3").unwrap();
    let out = outputs();
    let report = monitor(&reference, &log, &chunking, &options, Some(&out), &rules).unwrap();

    let labels: Vec<&str> = report.chunks.iter().map(|c| c.label.as_str()).collect();
    assert_eq!(
        labels,
        [
            "2026-09-07",
            "2026-09-14",
            "2026-09-21",
            "2026-09-28",
            "2026-10-05",
            "2026-10-12",
            "2026-10-19",
            "2026-10-26"
        ]
    );
    assert!(report.chunks.iter().all(|c| c.rows == 600));
    // The log is sorted by time, so week w holds rows 600w..600(w+1): recompute independently.
    let w = 5;
    let chunk = log.slice(600 * w as i64, 600);
    let mut chunk_options = options.clone();
    chunk_options.exclude.push("timestamp".into());
    let direct = drift_frames(&reference, &chunk, &chunk_options).unwrap();
    assert_eq!(report.chunks[w].share_drifted, direct.share_drifted);
    for c in &direct.columns {
        assert_eq!(report.chunks[w].drift_scores[&c.column], c.score, "{}", c.column);
    }
    let labelled = out.current_labelled.as_ref().unwrap();
    let subset = ClassificationData {
        classes: labelled.classes.clone(),
        positive: labelled.positive,
        y_true: labelled.y_true[600 * w..600 * (w + 1)].to_vec(),
        proba: labelled.proba[1200 * w..1200 * (w + 1)].to_vec(),
    };
    let no_ci = EvaluateOptions {
        bootstrap: BootstrapOptions { resamples: 0, ..BootstrapOptions::default() },
        ..EvaluateOptions::default()
    };
    let auc = evaluate_classification(&subset, &no_ci).metrics["roc_auc"];
    assert_eq!(report.chunks[w].performance["roc_auc"], auc);

    // Drift grows: the model's output drifts more in the last week than in the first.
    let first = report.chunks[0].prediction_drift.unwrap();
    let last = report.chunks[7].prediction_drift.unwrap();
    assert!(last > 3.0 * first, "prediction drift {first} -> {last}");
    let band = report.bands["roc_auc"];
    assert!((band.upper - band.mean - 3.0 * band.std).abs() < 1e-12 && band.lower < band.mean);
    assert!(report.bands.contains_key("drift:monthly_charges") && report.bands.contains_key("prediction_drift"));

    // Alerts: every chunk at or above the dataset threshold raises a critical one; rules fire where their numbers say.
    for c in &report.chunks {
        let critical = report.alerts.iter().any(|a| a.chunk == c.label && a.severity == AlertSeverity::Critical);
        assert_eq!(critical, c.dataset_drift, "{}", c.label);
        let band_alert = report.alerts.iter().any(|a| a.chunk == c.label && a.rule == "roc_auc outside band");
        assert_eq!(band_alert, band.excludes(c.performance["roc_auc"].unwrap()), "{}", c.label);
        let pred_alert = report.alerts.iter().any(|a| a.chunk == c.label && a.rule == "prediction_drift > 0.3");
        assert_eq!(pred_alert, c.prediction_drift.unwrap() > 0.3, "{}", c.label);
    }
    assert!(report.alerts.iter().any(|a| a.severity == AlertSeverity::Critical), "the later weeks drift");
}

#[test]
fn row_chunks_bad_timestamps_and_bad_rules() {
    let reference = read_table(repo("sample-data/churn_reference.csv"), &ReadPlan::default()).unwrap();
    let current = read_table(repo("sample-data/churn_current.csv"), &ReadPlan::default()).unwrap();
    let report = monitor(&reference, &current, &Chunking::Rows(1000), &DriftOptions::default(), None, &[]).unwrap();
    let labels: Vec<&str> = report.chunks.iter().map(|c| c.label.as_str()).collect();
    assert_eq!(labels, ["rows 1-1000", "rows 1001-2000", "rows 2001-3000"]);
    assert!(report.chunks.iter().all(|c| c.prediction_drift.is_none() && c.performance.is_empty()));

    let mut bad = current.head(Some(5));
    let stamps = Column::new("timestamp".into(), ["2026-01-01", "2026-01-02", "yesterday", "2026-01-03", "2026-01-04"]);
    bad.with_column(stamps).unwrap();
    let err = monitor(
        &reference,
        &bad,
        &Chunking::parse("1d", Some("timestamp")).unwrap(),
        &DriftOptions::default(),
        None,
        &[],
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("'yesterday'") && err.contains("row 3") && err.contains("timestamp"), "{err}");
    assert!(AlertRule::parse("roc_auc is low").is_err());
    assert!(Chunking::parse("2x", None).is_err());
}

#[test]
fn estimated_performance_tracks_realised_performance_on_reference_like_data() {
    // churn_v1 is a logistic regression fitted on the reference, so its probabilities are close to
    // calibrated there: CBPE's estimates should sit near the realised values on reference chunks.
    let reference = read_table(repo("sample-data/churn_reference.csv"), &ReadPlan::default()).unwrap();
    let mismatched =
        monitor(&reference, &reference, &Chunking::Rows(1000), &DriftOptions::default(), Some(&outputs()), &[]);
    assert!(mismatched.unwrap_err().to_string().contains("do not line up"), "outputs for other rows are refused");
    let m = model("churn_v1");
    let (scores, labelled) = labelled_scores(&m, &repo("sample-data/churn_reference.csv"), Some("churned")).unwrap();
    let out = ModelOutputs {
        reference_scores: scores.clone(),
        current_scores: scores,
        reference_labelled: labelled.clone(),
        current_labelled: labelled,
        current_label_mask: None,
        binary: true,
    };
    let report =
        monitor(&reference, &reference, &Chunking::Rows(1000), &DriftOptions::default(), Some(&out), &[]).unwrap();
    for metric in ["accuracy", "roc_auc"] {
        let (realised, estimated) = (report.bands[metric].mean, report.bands[&format!("estimated_{metric}")].mean);
        assert!((realised - estimated).abs() < 0.03, "{metric}: realised {realised} vs estimated {estimated}");
    }
    assert!(report.chunks.iter().all(|c| c.estimated_performance.len() == 5));
    let rule = AlertRule::parse("estimated_roc_auc < 0.99").unwrap();
    let with_rule =
        monitor(&reference, &reference, &Chunking::Rows(1000), &DriftOptions::default(), Some(&out), &[rule]).unwrap();
    assert_eq!(with_rule.alerts.len(), 5, "the estimate is below 0.99 in every chunk, so the rule fires in each");
}
