//! Evaluation speed (run by `benches/analytics_bench.py`, not a test): every classification metric,
//! curves, the threshold sweep and bootstrap intervals with 1,000 resamples, on N synthetic rows.
//!
//! `cargo bench --bench evaluate -- [ROWS] [RESAMPLES] [all|roc_auc]` prints
//! `{"rows": .., "resamples": .., "scope": .., "seconds": ..}`; `roc_auc` bootstraps the AUC
//! interval only (the issue's benchmark: every metric plus 1,000 resamples for AUC).

#![allow(clippy::unwrap_used, missing_docs)]

use std::time::Instant;

use mirador::core::metrics::{
    BootstrapOptions, ClassificationData, EvaluateOptions, IntervalScope, evaluate_classification,
};

fn main() {
    let args: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let rows = args.first().copied().unwrap_or(1_000_000);
    let resamples = args.get(1).copied().unwrap_or(1000);
    let auc_only = std::env::args().any(|a| a == "roc_auc");
    let scope = if auc_only { IntervalScope::RocAuc } else { IntervalScope::All };
    // Deterministic synthetic scores: a label and a noisy probability that leans towards it.
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    let mut y_true = Vec::with_capacity(rows);
    let mut proba = Vec::with_capacity(rows * 2);
    for _ in 0..rows {
        let y = usize::from(next() < 0.3);
        let p = (0.35 * y as f64 + 0.65 * next()).clamp(0.0, 1.0);
        y_true.push(y);
        proba.extend([1.0 - p, p]);
    }
    let data = ClassificationData { classes: vec!["0".into(), "1".into()], positive: 1, y_true, proba };
    let options = EvaluateOptions {
        bootstrap: BootstrapOptions { resamples, scope, ..BootstrapOptions::default() },
        ..EvaluateOptions::default()
    };
    let start = Instant::now();
    let report = evaluate_classification(&data, &options);
    let seconds = start.elapsed().as_secs_f64();
    assert!(report.intervals.contains_key("roc_auc") || resamples == 0);
    let scope = if auc_only { "roc_auc" } else { "all" };
    println!(r#"{{"rows": {rows}, "resamples": {resamples}, "scope": "{scope}", "seconds": {seconds:.3}}}"#);
}
