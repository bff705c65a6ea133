//! Bad input gets a clear error naming file, row and column — never a panic — and a failed or
//! cancelled run leaves no output (and no half-written file) behind.

use std::path::{Path, PathBuf};

use crate::common::{model, repo};
use mirador::core::{CancelToken, Error, Model, ScoreOptions, score_file};

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

/// Score `input` with churn_v1 into `dir/out.csv`; return the error text.
fn score_err(dir: &Path, input: &Path) -> String {
    let out = dir.join("out.csv");
    let err = score_file(&model("churn_v1"), input, &out, &ScoreOptions::default(), &CancelToken::new(), &mut |_| {})
        .expect_err("scoring should fail");
    assert!(!out.exists(), "a failed run must leave no output");
    assert_no_partial_files(dir);
    err.to_string()
}

fn assert_no_partial_files(dir: &Path) {
    let leftovers: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("partial") || n.starts_with(".mirador"))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left behind: {leftovers:?}");
}

/// The sample data's header and first rows, to corrupt.
fn sample_lines(n: usize) -> Vec<String> {
    std::fs::read_to_string(repo("sample-data/churn_current.csv"))
        .unwrap()
        .lines()
        .take(n + 1)
        .map(str::to_string)
        .collect()
}

#[test]
fn empty_file_and_header_only() {
    let dir = tempfile::tempdir().unwrap();
    let msg = score_err(dir.path(), &write(dir.path(), "empty.csv", b""));
    assert!(msg.contains("the file is empty") && msg.contains("empty.csv"), "{msg}");
    let header = format!("{}\n", sample_lines(0)[0]);
    let msg = score_err(dir.path(), &write(dir.path(), "header.csv", header.as_bytes()));
    assert!(msg.contains("no data rows") && msg.contains("header.csv"), "{msg}");
}

#[test]
fn ragged_row_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let mut lines = sample_lines(5);
    lines[3].push_str(",extra");
    let msg = score_err(dir.path(), &write(dir.path(), "ragged.csv", (lines.join("\n") + "\n").as_bytes()));
    assert!(msg.contains("row 3") && msg.contains("13 fields") && msg.contains("12"), "{msg}");
    lines[3] = "C9,1,2".into();
    let msg = score_err(dir.path(), &write(dir.path(), "short.csv", (lines.join("\n") + "\n").as_bytes()));
    assert!(msg.contains("row 3") && msg.contains("3 fields"), "{msg}");
}

#[test]
fn non_utf8_bytes_are_located() {
    let dir = tempfile::tempdir().unwrap();
    // A Latin-1 byte (0xF3, "ó") inside "Month-to-month" in the contract column of data row 2.
    let text = sample_lines(4).join("\n") + "\n";
    let row2 = text.match_indices('\n').nth(1).unwrap().0 + 1;
    let at = row2 + text[row2..].find("Month-to-month").unwrap() + 10;
    let mut bytes = text.into_bytes();
    bytes[at] = 0xF3;
    assert!(std::str::from_utf8(&bytes).is_err(), "fixture must contain invalid UTF-8");
    let msg = score_err(dir.path(), &write(dir.path(), "latin1.csv", &bytes));
    assert!(msg.contains("UTF-8") && msg.contains("row 2") && msg.contains("column 'contract'"), "{msg}");
}

#[test]
fn text_in_a_numeric_column_names_row_column_and_value() {
    let dir = tempfile::tempdir().unwrap();
    let mut lines = sample_lines(2500);
    let mut fields: Vec<String> = lines[2001].split(',').map(str::to_string).collect();
    fields[2] = "twelve".into(); // monthly_charges
    lines[2001] = fields.join(",");
    let input = write(dir.path(), "typo.csv", (lines.join("\n") + "\n").as_bytes());
    let out = dir.path().join("out.csv");
    let options = ScoreOptions { batch_size: 500, ..ScoreOptions::default() };
    let err = score_file(&model("churn_v1"), &input, &out, &options, &CancelToken::new(), &mut |_| {}).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("'twelve'")
            && msg.contains("row 2001")
            && msg.contains("column 'monthly_charges'")
            && msg.contains("typo.csv"),
        "{msg}"
    );
    assert!(!out.exists(), "batches before the bad row must not leave a partial file");
    assert_no_partial_files(dir.path());
}

#[test]
fn nan_and_inf_in_float_columns_are_scored_with_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let mut lines = sample_lines(3);
    let mut f: Vec<String> = lines[1].split(',').map(str::to_string).collect();
    f[3] = "NaN".into();
    lines[1] = f.join(",");
    let mut f: Vec<String> = lines[2].split(',').map(str::to_string).collect();
    f[2] = "inf".into();
    lines[2] = f.join(",");
    let input = write(dir.path(), "nan.csv", (lines.join("\n") + "\n").as_bytes());
    let out = dir.path().join("out.csv");
    let summary =
        score_file(&model("churn_v1"), &input, &out, &ScoreOptions::default(), &CancelToken::new(), &mut |_| {})
            .unwrap();
    assert_eq!(summary.rows, 3);
    assert_eq!(summary.warnings.len(), 1, "{:?}", summary.warnings);
    assert_eq!((summary.warnings[0].row, summary.warnings[0].column.as_deref()), (Some(2), Some("monthly_charges")));
}

#[test]
fn missing_value_in_an_integer_input_is_an_error_naming_row_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let mut lines = sample_lines(3);
    let mut f: Vec<String> = lines[3].split(',').map(str::to_string).collect();
    f[1] = String::new(); // tenure_months (int64 input)
    lines[3] = f.join(",");
    let msg = score_err(dir.path(), &write(dir.path(), "gap.csv", (lines.join("\n") + "\n").as_bytes()));
    assert!(msg.contains("row 3") && msg.contains("column 'tenure_months'") && msg.contains("missing"), "{msg}");
}

#[test]
fn corrupt_models_give_a_model_error() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = std::fs::read(repo("sample-models/churn_v2.onnx")).unwrap();
    for (name, content) in [
        ("truncated.onnx", bytes[..bytes.len() / 3].to_vec()),
        ("notes.onnx", b"customer_id,tenure\nC1,3\n".to_vec()),
        ("empty.onnx", Vec::new()),
    ] {
        let path = write(dir.path(), name, &content);
        match Model::load(&path) {
            Err(Error::Model { reason, path: p, .. }) => {
                assert_eq!(p, path);
                assert!(!reason.is_empty());
            }
            Err(other) => panic!("{name}: expected a model error, got {other}"),
            Ok(_) => panic!("{name}: a corrupt model loaded"),
        }
    }
    let missing = Model::load(dir.path().join("nope.onnx")).err().unwrap().to_string();
    assert!(missing.contains("could not read the model") && missing.contains("nope.onnx"), "{missing}");
}

#[test]
fn model_with_no_feedable_input_refuses_to_score() {
    let dir = tempfile::tempdir().unwrap();
    let image = Model::load(repo("tests/fixtures/image_input.onnx")).unwrap();
    let out = dir.path().join("out.csv");
    let err = score_file(
        &image,
        &repo("sample-data/churn_current.csv"),
        &out,
        &ScoreOptions::default(),
        &CancelToken::new(),
        &mut |_| {},
    )
    .unwrap_err();
    assert!(matches!(err, Error::Contract { .. }), "{err}");
    assert!(err.to_string().contains("input 'image'"), "{err}");
    assert!(!out.exists());
}

/// A larger file: the sample rows repeated, so scoring takes several batches.
fn big_input(dir: &Path, copies: usize) -> PathBuf {
    let text = std::fs::read_to_string(repo("sample-data/churn_current.csv")).unwrap();
    let (header, body) = text.split_once('\n').unwrap();
    let mut out = String::with_capacity(text.len() * copies);
    out.push_str(header);
    out.push('\n');
    for _ in 0..copies {
        out.push_str(body);
    }
    write(dir, "big.csv", out.as_bytes())
}

#[test]
fn cancelling_leaves_no_output_and_keeps_an_existing_file() {
    let dir = tempfile::tempdir().unwrap();
    let input = big_input(dir.path(), 20);
    let out = dir.path().join("out.parquet");
    std::fs::write(&out, b"yesterday's predictions").unwrap();
    let cancel = CancelToken::new();
    let options = ScoreOptions { batch_size: 1000, ..ScoreOptions::default() };
    let mut batches = 0;
    let err = score_file(&model("churn_v2"), &input, &out, &options, &cancel, &mut |p| {
        batches += 1;
        assert!(p.rows_done <= 60_000 && p.fraction > 0.0 && p.fraction <= 1.0);
        if batches == 2 {
            cancel.cancel();
        }
    })
    .unwrap_err();
    assert!(err.is_cancelled(), "{err}");
    assert!(batches < 60, "cancellation must stop the run promptly ({batches} batches ran)");
    assert_eq!(std::fs::read(&out).unwrap(), b"yesterday's predictions", "the user's file is untouched");
    assert_no_partial_files(dir.path());
}

#[test]
fn unsupported_extensions_and_clashing_names_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let input = repo("sample-data/churn_current.csv");
    let err = score_file(
        &model("churn_v1"),
        &input,
        &dir.path().join("out.xlsx"),
        &ScoreOptions::default(),
        &CancelToken::new(),
        &mut |_| {},
    )
    .unwrap_err();
    assert!(err.to_string().contains(".xlsx"), "{err}");
    let options = ScoreOptions { id_columns: vec!["no_such_id".into()], ..ScoreOptions::default() };
    let err =
        score_file(&model("churn_v1"), &input, &dir.path().join("o.csv"), &options, &CancelToken::new(), &mut |_| {})
            .unwrap_err();
    assert!(err.to_string().contains("no_such_id"), "{err}");
    assert_no_partial_files(dir.path());
}

/// An inference past its deadline is stopped by the watchdog: a timeout error that says so, no
/// output, and the model's sessions work again at once.
#[test]
fn an_inference_past_its_deadline_is_stopped_and_the_session_recovers() {
    let dir = tempfile::tempdir().unwrap();
    let input = big_input(dir.path(), 40);
    let out = dir.path().join("out.csv");
    let model = model("churn_v2");
    let options = ScoreOptions {
        batch_size: 120_000,
        workers: 1,
        inference_timeout: std::time::Duration::from_micros(200),
        ..ScoreOptions::default()
    };
    let err = score_file(&model, &input, &out, &options, &CancelToken::new(), &mut |_| {}).unwrap_err();
    assert_eq!(err.kind(), mirador::core::ErrorKind::Timeout, "{err}");
    assert!(err.to_string().contains("took longer than") && err.to_string().contains("stopped"), "{err}");
    assert!(!out.exists());
    assert_no_partial_files(dir.path());
    let ok = score_file(
        &model,
        &repo("sample-data/churn_current.csv"),
        &out,
        &ScoreOptions::default(),
        &CancelToken::new(),
        &mut |_| {},
    )
    .expect("the pooled sessions were reset after the timeout");
    assert_eq!(ok.rows, 3000);
}

/// `score --quarantine`: the rows that fit the contract are scored — exactly as a file of only those
/// rows would be — and the others are listed with their row number and the rule that caught each,
/// at every batch size (one bad row in a batch, a batch of nothing but bad rows).
#[test]
fn a_quarantine_run_scores_exactly_the_good_rows_and_lists_the_bad_ones_with_their_rules() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(repo("sample-data/churn_current.csv")).unwrap();
    let mut lines: Vec<String> = text.lines().take(201).map(String::from).collect();
    let header: Vec<String> = lines[0].split(',').map(String::from).collect();
    let column = |name: &str| header.iter().position(|c| *c == name).unwrap();
    // (data row, column, bad value): a word, text in a number, a fraction where a count is needed.
    let broken = [
        (3usize, "tenure_months", "two years"),
        (7, "monthly_charges", "abc"),
        (8, "tenure_months", "1.5"),
        (150, "support_calls", "many"),
    ];
    for (row, name, value) in broken {
        let mut cells: Vec<String> = lines[row].split(',').map(String::from).collect();
        cells[column(name)] = value.to_string();
        lines[row] = cells.join(",");
    }
    let bad = write(dir.path(), "bad.csv", format!("{}\n", lines.join("\n")).as_bytes());
    let good_lines: Vec<&String> =
        lines.iter().enumerate().filter(|(i, _)| !broken.iter().any(|b| b.0 == *i)).map(|(_, l)| l).collect();
    let good = write(
        dir.path(),
        "good.csv",
        format!("{}\n", good_lines.iter().map(|l| l.as_str()).collect::<Vec<_>>().join("\n")).as_bytes(),
    );
    let m = model("churn_v1");
    let ids = vec!["customer_id".to_string()];
    let clean_out = dir.path().join("clean.csv");
    let options = ScoreOptions { id_columns: ids.clone(), ..ScoreOptions::default() };
    score_file(&m, &good, &clean_out, &options, &CancelToken::new(), &mut |_| {}).unwrap();
    let clean = std::fs::read_to_string(&clean_out).unwrap();
    for (batch_size, quarantine) in [(1, "q1.csv"), (4, "q4.parquet"), (1000, "q1000.csv")] {
        let out = dir.path().join(format!("out{batch_size}.csv"));
        let q = dir.path().join(quarantine);
        let options = ScoreOptions {
            id_columns: ids.clone(),
            batch_size,
            quarantine: Some(q.clone()),
            ..ScoreOptions::default()
        };
        let summary = score_file(&m, &bad, &out, &options, &CancelToken::new(), &mut |_| {}).unwrap();
        assert_eq!((summary.rows, summary.quarantined), (196, 4), "batch size {batch_size}");
        // The same rows, ids and labels; the probabilities to ONNX Runtime's float32 (a row's last
        // bits depend on the batch it is computed in).
        let got = std::fs::read_to_string(&out).unwrap();
        assert_eq!(got.lines().count(), clean.lines().count(), "batch size {batch_size}");
        for (a, b) in got.lines().zip(clean.lines()) {
            let (a, b): (Vec<&str>, Vec<&str>) = (a.split(',').collect(), b.split(',').collect());
            assert_eq!(a[..2], b[..2], "batch size {batch_size}: id and label");
            for (x, y) in a[2..].iter().zip(&b[2..]) {
                match (x.parse::<f64>(), y.parse::<f64>()) {
                    (Ok(x), Ok(y)) => {
                        assert!((x - y).abs() <= crate::common::TOLERANCE, "batch size {batch_size}: {x} vs {y}")
                    }
                    _ => assert_eq!(x, y),
                }
            }
        }
        let listed = mirador::core::read_table(&q, &mirador::core::ReadPlan::default()).unwrap();
        let text = |c: &str| -> Vec<String> {
            let s = listed.column(c).unwrap().cast(&polars::prelude::DataType::String).unwrap();
            s.str().unwrap().iter().map(|v| v.unwrap_or_default().to_string()).collect()
        };
        assert_eq!(text("row"), ["3", "7", "8", "150"]);
        let rules = text("rule");
        for ((_, name, value), rule) in broken.iter().zip(&rules) {
            assert!(rule.contains(name) && rule.contains(value), "{rule}");
        }
        assert_eq!(text("tenure_months")[0], "two years", "the row's values as they were");
    }
    // Without --quarantine the first bad row still fails the whole file, loudly.
    let err = score_err(dir.path(), &bad);
    assert!(err.contains("two years") && err.contains("row 3"), "{err}");
}
