//! The Predict form's latency per change (a benchmark, not a test): each change of a field predicts
//! one row. Before the session pool every change opened a new ONNX Runtime session; now it borrows
//! a ready one from the model's pool. Both ways are timed here, side by side, on the first rows of
//! `sample-data/churn_current.csv`, for every sample model.
//!
//! `cargo bench --bench form_latency -- [CHANGES]` prints one JSON line per model:
//! `{"model", "changes", "new_session_p50_ms", "new_session_p99_ms", "pooled_p50_ms", "pooled_p99_ms"}`.

#![allow(clippy::unwrap_used, missing_docs)]

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use mirador::core::contract::{ColumnMapping, plan_binding};
use mirador::core::session::Session;
use mirador::core::table::row_text;
use mirador::core::{Model, ReadPlan, SessionOptions, predict_one, read_table};

fn percentile(times: &mut [f64], q: f64) -> f64 {
    times.sort_by(f64::total_cmp);
    times[((times.len() - 1) as f64 * q).round() as usize]
}

fn main() {
    let changes: usize = std::env::args().skip(1).find_map(|a| a.parse().ok()).unwrap_or(200);
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let data = read_table(root.join("sample-data/churn_current.csv"), &ReadPlan::default()).unwrap();
    let columns: Vec<String> = data.get_column_names().iter().map(|c| c.to_string()).collect();
    // Rows without missing values: the form always has a value in every field.
    let complete: Vec<usize> =
        (0..data.height()).filter(|&i| row_text(&data, i).values().all(|v| !v.is_empty())).collect();
    let rows: Vec<BTreeMap<String, String>> =
        (0..changes).map(|i| row_text(&data, complete[i % complete.len()])).collect();
    for name in ["churn_v1", "churn_v2", "churn_numeric", "spend_regressor"] {
        let model = Model::load(root.join(format!("sample-models/{name}.onnx"))).unwrap();
        let (binding, _) = plan_binding(model.info(), &columns, &ColumnMapping::default(), &[]);
        let binding = binding.unwrap();
        let info = Arc::new(model.info().clone());
        // Warm both paths once.
        predict_one(&model, &rows[0], &ColumnMapping::default()).unwrap();
        let mut fresh = Vec::with_capacity(changes);
        let mut pooled = Vec::with_capacity(changes);
        for row in &rows {
            let start = Instant::now();
            let ort = model.ort_session(SessionOptions { intra_threads: 1 }).unwrap();
            Session::new(Arc::clone(&info), ort).unwrap().predict_row(row, &binding).unwrap();
            fresh.push(start.elapsed().as_secs_f64() * 1e3);
            let start = Instant::now();
            predict_one(&model, row, &ColumnMapping::default()).unwrap();
            pooled.push(start.elapsed().as_secs_f64() * 1e3);
        }
        println!(
            r#"{{"model": "{name}", "changes": {changes}, "new_session_p50_ms": {:.3}, "new_session_p99_ms": {:.3}, "pooled_p50_ms": {:.3}, "pooled_p99_ms": {:.3}}}"#,
            percentile(&mut fresh, 0.5),
            percentile(&mut fresh, 0.99),
            percentile(&mut pooled, 0.5),
            percentile(&mut pooled, 0.99)
        );
    }
}
