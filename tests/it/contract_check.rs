//! The contract check reports every problem at once, naming column, row and value, and the binding
//! handles the per-column, packed (metadata, user mapping, file order) and mixed layouts.

use std::path::{Path, PathBuf};

use crate::common::{model, repo};
use mirador::core::contract::ColumnSource;
use mirador::core::{CheckOptions, ColumnMapping, Model, ProblemKind, Severity, check_file};

const HEADER: &str = "customer_id,tenure_months,monthly_charges,total_charges,contract,internet_service,payment_method,paperless_billing,senior_citizen,support_calls";

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn row(tenure: &str, total: &str, contract: &str, calls: &str) -> String {
    format!("C1,{tenure},70.5,{total},{contract},DSL,Mailed check,Yes,0,{calls}\n")
}

#[test]
fn sample_data_passes_and_lists_ignored_columns() {
    let report = check_file(
        model("churn_v1").info(),
        &repo("sample-data/churn_current.csv"),
        &CheckOptions::default(),
        &mut |_, _| Ok(()),
    )
    .unwrap();
    assert!(report.passed(), "{:?}", report.problems);
    assert_eq!(report.rows_checked, 3000);
    let binding = report.binding.as_ref().unwrap();
    assert_eq!(binding.inputs.len(), 9);
    assert!(binding.inputs.iter().all(|b| b.source == ColumnSource::ByName && b.columns == [b.input.clone()]));
    let extra: Vec<_> = report
        .problems
        .iter()
        .filter(|p| p.kind == ProblemKind::ExtraColumn)
        .filter_map(|p| p.column.clone())
        .collect();
    assert_eq!(extra, ["churned", "customer_id", "next_month_spend"]);
    assert!(report.problems.iter().all(|p| p.severity == Severity::Info));
}

#[test]
fn every_value_problem_is_reported_with_row_column_and_value() {
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        "{HEADER}\n{}{}{}{}{}{}",
        row("12", "800.5", "One year", "1"),
        row("abc", "", "One year", "1"), // row 2: text in an int column; empty float is fine (NaN)
        row("5", "300", "Three year", "1"), // row 3: unseen category (warning)
        row("7", "inf", "One year", ""), // row 4: inf (warning); empty int (blocking)
        row("1.5", "40", "Two year", "2"), // row 5: not a whole number
        row("3", "90", "", "0"),         // row 6: empty string category (blocking)
    );
    let path = write(dir.path(), "bad.csv", &text);
    let report = check_file(model("churn_v1").info(), &path, &CheckOptions::default(), &mut |_, _| Ok(())).unwrap();
    assert!(!report.passed());
    assert_eq!(report.rows_checked, 6);
    let find = |kind, col: &str| {
        report
            .problems
            .iter()
            .find(|p| p.kind == kind && p.column.as_deref() == Some(col))
            .unwrap_or_else(|| panic!("no {kind:?} for {col} in {:#?}", report.problems))
    };
    let bad = find(ProblemKind::BadValue, "tenure_months");
    assert_eq!((bad.row, bad.value.as_deref(), bad.count, bad.severity), (Some(2), Some("abc"), 2, Severity::Blocking));
    assert!(bad.message.contains("row 2") && bad.message.contains("'abc'"), "{}", bad.message);
    let missing = find(ProblemKind::MissingValue, "support_calls");
    assert_eq!((missing.row, missing.severity), (Some(4), Severity::Blocking));
    let unseen = find(ProblemKind::UnseenCategory, "contract");
    assert_eq!(
        (unseen.row, unseen.value.as_deref(), unseen.severity),
        (Some(3), Some("Three year"), Severity::Warning)
    );
    let inf = find(ProblemKind::NonFinite, "total_charges");
    assert_eq!((inf.row, inf.severity), (Some(4), Severity::Warning));
    let empty_cat = find(ProblemKind::MissingValue, "contract");
    assert_eq!(empty_cat.row, Some(6));
    assert!(
        !report
            .problems
            .iter()
            .any(|p| p.column.as_deref() == Some("total_charges") && p.kind == ProblemKind::MissingValue)
    );
    assert_eq!(report.problems[0].severity, Severity::Blocking, "blocking problems come first");
}

#[test]
fn missing_columns_are_all_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "few.csv", "tenure_months,monthly_charges\n1,2\n");
    let report = check_file(model("churn_v2").info(), &path, &CheckOptions::default(), &mut |_, _| Ok(())).unwrap();
    let missing: Vec<_> = report
        .problems
        .iter()
        .filter(|p| p.kind == ProblemKind::MissingColumn)
        .filter_map(|p| p.column.clone())
        .collect();
    assert_eq!(missing.len(), 7, "{missing:?}");
    assert!(missing.contains(&"contract".to_string()) && missing.contains(&"senior_citizen".to_string()));
    assert!(report.binding.is_none());
}

#[test]
fn packed_input_takes_names_from_metadata_then_mapping_then_file_order() {
    let current = repo("sample-data/churn_current.csv");
    let report =
        check_file(model("churn_numeric").info(), &current, &CheckOptions::default(), &mut |_, _| Ok(())).unwrap();
    let b = &report.binding.as_ref().expect("bound by metadata").inputs[0];
    assert_eq!(b.source, ColumnSource::Metadata);
    assert_eq!(b.columns, ["tenure_months", "monthly_charges", "total_charges", "senior_citizen", "support_calls"]);

    let unnamed = Model::load(repo("tests/fixtures/numeric_unnamed.onnx")).unwrap();
    let report = check_file(unnamed.info(), &current, &CheckOptions::default(), &mut |_, _| Ok(())).unwrap();
    let problem =
        report.problems.iter().find(|p| p.kind == ProblemKind::UnmappableInput).expect("cannot guess 5 of 12 columns");
    assert!(problem.message.contains("--columns features="), "{}", problem.message);

    let mut mapping = ColumnMapping::default();
    mapping.add_arg("features=tenure_months,monthly_charges,total_charges,senior_citizen,support_calls").unwrap();
    let options = CheckOptions { mapping, ..CheckOptions::default() };
    let report = check_file(unnamed.info(), &current, &options, &mut |_, _| Ok(())).unwrap();
    assert!(report.passed());
    assert_eq!(report.binding.unwrap().inputs[0].source, ColumnSource::UserMapping);

    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "five.csv", "id,a,b,c,d,e\nx,1,2,3,0,1\n");
    let options = CheckOptions { not_features: vec!["id".into()], ..CheckOptions::default() };
    let report = check_file(unnamed.info(), &path, &options, &mut |_, _| Ok(())).unwrap();
    let b = &report.binding.expect("five spare columns feed five features").inputs[0];
    assert_eq!((b.source, b.columns.join(",")), (ColumnSource::FileOrder, "a,b,c,d,e".to_string()));
}

#[test]
fn mixed_layout_binds_packed_and_per_column_inputs() {
    let report = check_file(
        model("spend_regressor").info(),
        &repo("sample-data/churn_current.csv"),
        &CheckOptions::default(),
        &mut |_, _| Ok(()),
    )
    .unwrap();
    assert!(report.passed());
    let inputs = report.binding.unwrap().inputs;
    assert_eq!(inputs[0].columns, ["tenure_months", "monthly_charges", "total_charges", "support_calls"]);
    assert_eq!((inputs[0].rank, inputs[0].source), (2, ColumnSource::Metadata));
    assert_eq!((inputs[1].input.as_str(), inputs[1].source), ("contract", ColumnSource::ByName));
}

#[test]
fn a_model_with_no_feedable_input_is_reported_not_crashed() {
    let image = Model::load(repo("tests/fixtures/image_input.onnx")).unwrap();
    let report =
        check_file(image.info(), &repo("sample-data/churn_current.csv"), &CheckOptions::default(), &mut |_, _| Ok(()))
            .unwrap();
    let p = report.problems.iter().find(|p| p.kind == ProblemKind::UnsupportedInput).unwrap();
    assert_eq!(p.input.as_deref(), Some("image"));
    assert!(!report.passed());
}
