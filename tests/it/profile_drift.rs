//! Drift against a saved reference profile equals drift against the reference data itself (exact
//! up to 50,000 values per column), and stays within the sketch's stated error beyond that.

use crate::common::repo;
use mirador::core::drift::profile::ReferenceProfile;
use mirador::core::drift::{ColumnOverride, DriftOptions, DriftTest, drift_frames, drift_profile};
use mirador::core::{ReadPlan, read_table};

fn options_with(test: DriftTest) -> DriftOptions {
    let mut o = DriftOptions { exclude: vec!["customer_id".into()], ..DriftOptions::default() };
    for c in ["monthly_charges", "total_charges", "tenure_months"] {
        o.columns.insert(c.into(), ColumnOverride { test: Some(test), ..ColumnOverride::default() });
    }
    o
}

#[test]
fn profile_round_trips_and_gives_identical_drift() {
    let dir = tempfile::tempdir().unwrap();
    let reference = read_table(repo("sample-data/churn_reference.csv"), &ReadPlan::default()).unwrap();
    let current = read_table(repo("sample-data/churn_current.csv"), &ReadPlan::default()).unwrap();
    let profile = ReferenceProfile::from_frame(&reference, "churn_reference.csv", &["customer_id".into()]).unwrap();
    let path = dir.path().join("reference.json");
    profile.save(&path).unwrap();
    let loaded = ReferenceProfile::load(&path).unwrap();
    assert!(loaded == profile, "the JSON round trip must be exact");
    assert!(loaded.columns["monthly_charges"].numbers.as_ref().unwrap().exact);
    assert_eq!(loaded.columns["contract"].categories.as_ref().unwrap().values().sum::<u64>(), 5000);
    for test in [DriftTest::Wasserstein, DriftTest::Ks, DriftTest::Psi] {
        let options = options_with(test);
        let from_data = drift_frames(&reference, &current, &options).unwrap();
        let from_profile = drift_profile(&loaded, &current, &options).unwrap();
        let mut from_profile = from_profile;
        from_profile.columns.sort_by_key(|c| from_data.columns.iter().position(|d| d.column == c.column));
        assert!(from_profile == from_data, "{test:?}: the profile must reproduce drift on the data exactly");
    }
    std::fs::write(&path, b"{\"format_version\": 99, \"rows\": 1, \"source\": \"\", \"columns\": {}}").unwrap();
    assert!(ReferenceProfile::load(&path).unwrap_err().to_string().contains("format 99"));
}

#[test]
fn a_sketched_profile_stays_within_its_stated_error() {
    let text = std::fs::read_to_string(repo("sample-data/churn_reference.csv")).unwrap();
    let (header, body) = text.split_once('\n').unwrap();
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big_reference.csv");
    std::fs::write(&big, format!("{header}\n{}", body.repeat(24))).unwrap(); // 120,000 rows
    let reference = read_table(&big, &ReadPlan::default()).unwrap();
    let current = read_table(repo("sample-data/churn_current.csv"), &ReadPlan::default()).unwrap();
    let profile = ReferenceProfile::from_frame(&reference, "big", &[]).unwrap();
    let numbers = profile.columns["monthly_charges"].numbers.as_ref().unwrap();
    assert!(!numbers.exact && numbers.count == 120_000 && numbers.sorted.len() == 50_000);
    for test in [DriftTest::Ks, DriftTest::Wasserstein] {
        let options = options_with(test);
        let exact = drift_frames(&reference, &current, &options).unwrap();
        let sketched = drift_profile(&profile, &current, &options).unwrap();
        assert_eq!(exact.columns.len(), sketched.columns.len());
        for a in &exact.columns {
            let b = sketched.columns.iter().find(|b| b.column == a.column).unwrap();
            assert_eq!(a.reference_rows, b.reference_rows, "the true row count is kept");
            if let (Some(d1), Some(d2)) = (a.statistic, b.statistic) {
                assert!((d1 - d2).abs() <= 2e-5 + 1e-12, "{}: KS D {d1} vs sketch {d2}", a.column);
            }
            if test == DriftTest::Wasserstein && a.kind == b.kind && a.test == DriftTest::Wasserstein {
                assert!(
                    (a.score - b.score).abs() <= 1e-3 * a.score.max(1e-3),
                    "{}: {} vs {}",
                    a.column,
                    a.score,
                    b.score
                );
            }
            assert_eq!(a.drift, b.drift, "{}: verdict", a.column);
        }
    }
}
