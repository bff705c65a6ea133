//! Predictions equal Python onnxruntime's (tests/golden, made by sample-models/make_samples.py) for
//! every sample model — per-column, packed and mixed input layouts, tensor and ZipMap outputs — in
//! batch scoring (CSV and Parquet in, CSV and Parquet out, one batch and many) and single prediction.

use std::collections::BTreeMap;

use crate::common::{MODELS, TOLERANCE, assert_matches_golden, golden, model, read_text, repo};
use mirador::core::{CancelToken, ColumnMapping, ScoreOptions, predict_one, score_file};

fn score(model_name: &str, input: &str, output_ext: &str, batch_size: usize) -> crate::common::Table {
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join(format!("out.{output_ext}"));
    let options = ScoreOptions { id_columns: vec!["customer_id".into()], batch_size, ..ScoreOptions::default() };
    let mut calls = 0;
    let summary =
        score_file(&model(model_name), &repo(input), &output, &options, &CancelToken::new(), &mut |_| calls += 1)
            .unwrap_or_else(|e| panic!("{model_name} on {input}: {e}"));
    assert_eq!(summary.rows, 3000);
    assert_eq!(calls as u64, summary.batches, "one progress report per batch");
    assert_eq!(summary.batches, 3000_u64.div_ceil(batch_size as u64));
    read_text(&output)
}

#[test]
fn csv_in_csv_out_matches_python_for_every_model() {
    for m in MODELS {
        let out = score(m, "sample-data/churn_current.csv", "csv", 65_536);
        assert_matches_golden(&out, &golden(m), &format!("{m} csv"));
    }
}

#[test]
fn parquet_in_parquet_out_matches_python_for_every_model() {
    for m in MODELS {
        let out = score(m, "sample-data/churn_current.parquet", "parquet", 65_536);
        assert_matches_golden(&out, &golden(m), &format!("{m} parquet"));
    }
}

#[test]
fn many_small_batches_keep_rows_in_input_order() {
    for m in ["churn_v1", "churn_v2"] {
        let out = score(m, "sample-data/churn_current.csv", "parquet", 317);
        assert_matches_golden(&out, &golden(m), &format!("{m} batch 317"));
        let out = score(m, "sample-data/churn_current.parquet", "csv", 1000);
        assert_matches_golden(&out, &golden(m), &format!("{m} parquet batch 1000"));
    }
}

#[test]
fn single_predictions_match_python_for_every_model() {
    let data = read_text(&repo("sample-data/churn_current.csv"));
    for m in MODELS {
        let model = model(m);
        let expected = golden(m);
        for row in [0, 1, 2, 1234, 2999] {
            let values: BTreeMap<String, String> =
                data.columns.iter().zip(&data.cells).map(|(c, cells)| (c.clone(), cells[row].clone())).collect();
            let p = predict_one(&model, &values, &ColumnMapping::default())
                .unwrap_or_else(|e| panic!("{m} row {row}: {e}"));
            if let Some(label) = &p.label {
                assert_eq!(label, &expected.column("label")[row], "{m} row {row} label");
                for (class, prob) in &p.probabilities {
                    let want: f64 = expected.column(&format!("p_{class}"))[row].parse().unwrap();
                    assert!((prob - want).abs() <= TOLERANCE, "{m} row {row} p_{class}: {prob} vs {want}");
                }
            } else {
                let want: f64 = expected.column("prediction")[row].parse().unwrap();
                assert!((p.values[0] - want).abs() <= TOLERANCE, "{m} row {row}: {} vs {want}", p.values[0]);
            }
            assert!(p.latency_ms >= 0.0);
        }
    }
}

/// However many workers score the batches, the output file is the same, byte for byte, and in
/// input order: each session runs on one thread, so no summation order depends on the worker count.
#[test]
fn any_number_of_workers_writes_the_same_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let mut outputs = Vec::new();
    for workers in [1, 2, 3, 5] {
        let output = dir.path().join(format!("out_{workers}.csv"));
        let options =
            ScoreOptions { id_columns: vec!["customer_id".into()], batch_size: 97, workers, ..ScoreOptions::default() };
        let input = repo("sample-data/churn_current.csv");
        score_file(&model("churn_v2"), &input, &output, &options, &CancelToken::new(), &mut |_| {})
            .unwrap_or_else(|e| panic!("{workers} workers: {e}"));
        assert_matches_golden(&read_text(&output), &golden("churn_v2"), &format!("{workers} workers"));
        outputs.push(std::fs::read(&output).unwrap());
    }
    assert!(outputs.windows(2).all(|w| w[0] == w[1]), "outputs differ between worker counts");
}
