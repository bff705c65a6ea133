//! Drift verdicts and statistics equal Evidently 0.7's and scipy's (tests/golden/drift.json, made by
//! tests/golden/make_drift_goldens.py): the same test chosen per column, scores ≤ 1e-6, p-values
//! ≤ 1e-6 relative (absolute where they underflow), the same verdicts and dataset share.

use std::collections::BTreeMap;

use mirador::core::drift::{ColumnOverride, DriftOptions, DriftTest, drift_frames};
use mirador::core::{ReadPlan, read_table};
use polars::prelude::DataFrame;
use serde_json::Value;

fn goldens() -> Value {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/golden/drift.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn frame(dir: &std::path::Path, name: &str, csv: &str) -> DataFrame {
    let path = dir.join(name);
    std::fs::write(&path, csv).unwrap();
    read_table(&path, &ReadPlan::default()).unwrap()
}

fn close(what: &str, got: f64, want: f64) {
    let ok = if want.abs() < 1e-6 { (got - want).abs() <= 1e-9 } else { ((got - want) / want).abs() <= 1e-6 };
    assert!(ok, "{what}: {got} vs {want}");
}

#[test]
fn preset_verdicts_match_evidently() {
    let dir = tempfile::tempdir().unwrap();
    for case in goldens()["presets"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let reference = frame(dir.path(), "ref.csv", case["reference_csv"].as_str().unwrap());
        let current = frame(dir.path(), "cur.csv", case["current_csv"].as_str().unwrap());
        let report = drift_frames(&reference, &current, &DriftOptions::default()).unwrap();
        let expected = case["columns"].as_object().unwrap();
        assert_eq!(
            report.columns.len(),
            expected.len(),
            "{name}: columns tested {:?} skipped {:?}",
            report.columns.iter().map(|c| &c.column).collect::<Vec<_>>(),
            report.skipped
        );
        for c in &report.columns {
            let want = &expected[&c.column];
            let test: DriftTest = serde_json::from_value(want["test"].clone()).unwrap();
            assert_eq!(c.test, test, "{name} {}: test", c.column);
            close(&format!("{name} {} score", c.column), c.score, want["score"].as_f64().unwrap());
            assert_eq!(c.threshold, want["threshold"].as_f64().unwrap());
            assert_eq!(c.drift, want["drift"].as_bool().unwrap(), "{name} {}: verdict", c.column);
        }
        close(&format!("{name} share"), report.share_drifted, case["share_drifted"].as_f64().unwrap());
        assert_eq!(report.dataset_drift, case["share_drifted"].as_f64().unwrap() >= 0.5);
    }
}

#[test]
fn every_statistic_matches_scipy_and_evidently_when_chosen_explicitly() {
    let g = goldens();
    let dir = tempfile::tempdir().unwrap();
    let sample = &g["presets"][0];
    let reference = frame(dir.path(), "ref.csv", sample["reference_csv"].as_str().unwrap());
    let current = frame(dir.path(), "cur.csv", sample["current_csv"].as_str().unwrap());
    for (i, s) in g["statistics"].as_array().unwrap().iter().enumerate() {
        let column = s["column"].as_str().unwrap();
        // The last entry compares the first 700 rows of each (equal sizes).
        let (r, c) = if i == 4 {
            (reference.head(Some(700)), current.head(Some(700)))
        } else {
            (reference.clone(), current.clone())
        };
        for (test, key) in [
            (DriftTest::Ks, "ks_p_value"),
            (DriftTest::Wasserstein, "wasserstein_normed"),
            (DriftTest::Jensenshannon, "jensenshannon"),
            (DriftTest::Psi, "psi"),
            (DriftTest::Hellinger, "hellinger"),
        ] {
            let mut columns = BTreeMap::new();
            columns.insert(column.to_string(), ColumnOverride { test: Some(test), ..ColumnOverride::default() });
            let options = DriftOptions { columns, ..DriftOptions::default() };
            let report = drift_frames(&r, &c, &options).unwrap();
            let got = report.columns.iter().find(|x| x.column == column).unwrap();
            close(&format!("{column} {key} (case {i})"), got.score, s[key].as_f64().unwrap());
            if test == DriftTest::Ks {
                close(
                    &format!("{column} KS statistic (case {i})"),
                    got.statistic.unwrap(),
                    s["ks_statistic"].as_f64().unwrap(),
                );
            }
        }
    }
}

#[test]
fn explanations_name_new_categories_and_missing_shares() {
    let g = goldens();
    let dir = tempfile::tempdir().unwrap();
    let case = &g["presets"][2];
    let reference = frame(dir.path(), "ref.csv", case["reference_csv"].as_str().unwrap());
    let current = frame(dir.path(), "cur.csv", case["current_csv"].as_str().unwrap());
    let report = drift_frames(&reference, &current, &DriftOptions::default()).unwrap();
    let city = report.columns.iter().find(|c| c.column == "city").unwrap();
    assert_eq!(city.new_categories, ["Cali"]);
    assert!(city.vanished_categories.is_empty());
    assert_eq!(city.bins.labels.len(), 4);
    assert!((city.bins.reference.iter().sum::<f64>() - 1.0).abs() < 1e-12);
    let missing = report.columns.iter().find(|c| c.column == "mostly_missing").unwrap();
    assert!((missing.reference_missing - 590.0 / 600.0).abs() < 1e-12);
    assert!((missing.current_missing - 380.0 / 400.0).abs() < 1e-12);
    assert_eq!((missing.reference_rows, missing.current_rows), (10, 20));
}

#[test]
fn all_missing_and_constant_columns_are_reported_not_crashed() {
    let dir = tempfile::tempdir().unwrap();
    let reference = frame(dir.path(), "ref.csv", "a,empty,same\n1.5,,x\n2.5,,x\n3.5,,x\n");
    let current = frame(dir.path(), "cur.csv", "a,empty,same\n1.0,,x\n9.0,,x\n");
    let report = drift_frames(&reference, &current, &DriftOptions::default()).unwrap();
    assert_eq!(report.skipped.get("empty").map(String::as_str), Some("no values to compare (all missing)"));
    let same = report.columns.iter().find(|c| c.column == "same").unwrap();
    assert_eq!((same.test, same.score, same.drift), (DriftTest::Z, 1.0, false), "one shared category: p = 1");
    assert_eq!(report.columns.len(), 2);
}

#[test]
fn finite_n_ks_distribution_matches_scipy_kstwo() {
    use mirador::core::drift::kolmogorov::kstwo_sf;
    let g = goldens();
    for case in g["kstwo"].as_array().unwrap() {
        let (n, d, want) = (case["n"].as_u64().unwrap(), case["d"].as_f64().unwrap(), case["sf"].as_f64().unwrap());
        close(&format!("kstwo.sf(d={d}, n={n})"), kstwo_sf(n, d), want);
    }
}

#[test]
fn ks_past_the_exact_limit_matches_scipy() {
    use mirador::core::drift::stats::ks_2samp;
    let g = goldens();
    for case in g["ks_large"].as_array().unwrap() {
        let mut a: Vec<f64> = case["a"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
        let mut b: Vec<f64> = case["b"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
        a.sort_by(f64::total_cmp);
        b.sort_by(f64::total_cmp);
        let (d, p) = ks_2samp(&a, &b);
        close(&format!("D ({} vs {})", a.len(), b.len()), d, case["statistic"].as_f64().unwrap());
        close(&format!("p ({} vs {})", a.len(), b.len()), p, case["p_value"].as_f64().unwrap());
    }
}
