//! Helpers shared by the integration tests: sample paths, goldens, reading outputs back.
#![allow(dead_code)]

use std::path::PathBuf;

pub mod rollout;
pub mod server;
#[cfg(feature = "gui")]
pub mod window;

use mirador::core::{Model, ReadPlan, read_table};
use polars::prelude::*;

/// The four sample models.
pub const MODELS: [&str; 4] = ["churn_v1", "churn_v2", "churn_numeric", "spend_regressor"];

/// Tolerance against Python onnxruntime (the bar).
pub const TOLERANCE: f64 = 1e-5;

pub fn repo(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(rel)
}

pub fn model(name: &str) -> Model {
    Model::load(repo(&format!("sample-models/{name}.onnx"))).expect("sample model loads")
}

/// A table as text columns: header and one `Vec<String>` per column.
pub struct Table {
    pub columns: Vec<String>,
    pub cells: Vec<Vec<String>>,
}

impl Table {
    pub fn column(&self, name: &str) -> &[String] {
        let i = self
            .columns
            .iter()
            .position(|c| c == name)
            .unwrap_or_else(|| panic!("no column {name} in {:?}", self.columns));
        &self.cells[i]
    }

    pub fn floats(&self, name: &str) -> Vec<f64> {
        self.column(name)
            .iter()
            .map(|v| v.parse::<f64>().unwrap_or_else(|_| panic!("{name}: '{v}' is not a number")))
            .collect()
    }

    pub fn rows(&self) -> usize {
        self.cells.first().map_or(0, Vec::len)
    }
}

/// Read a CSV or Parquet file back, every value as text.
pub fn read_text(path: &std::path::Path) -> Table {
    let frame = read_table(path, &ReadPlan::default()).expect("output readable");
    let columns: Vec<String> = frame.get_column_names().iter().map(|c| c.to_string()).collect();
    let cells = frame
        .columns()
        .iter()
        .map(|c| {
            let s = c.as_materialized_series().cast(&DataType::String).expect("castable to text");
            s.str().expect("text").iter().map(|v| v.unwrap_or("").to_string()).collect()
        })
        .collect();
    Table { columns, cells }
}

/// The Python onnxruntime golden for a model on `sample-data/churn_current.csv`.
pub fn golden(model: &str) -> Table {
    read_text(&repo(&format!("tests/golden/predictions_{model}.csv")))
}

/// Assert an output table equals the golden: same ids in the same order, same labels, and every
/// number within [`TOLERANCE`].
pub fn assert_matches_golden(out: &Table, golden: &Table, what: &str) {
    assert_eq!(out.rows(), golden.rows(), "{what}: row count");
    assert_eq!(out.column("customer_id"), golden.column("customer_id"), "{what}: ids and order");
    for col in &golden.columns[1..] {
        if col == "label" {
            assert_eq!(out.column(col), golden.column(col), "{what}: labels");
            continue;
        }
        let (a, b) = (out.floats(col), golden.floats(col));
        let worst = a.iter().zip(&b).map(|(x, y)| (x - y).abs()).fold(0.0, f64::max);
        assert!(worst <= TOLERANCE, "{what}: column {col} differs from Python onnxruntime by {worst}");
    }
}

/// The `mirador` binary under test: `MIRADOR_BIN` when set (CI points it at the server-only build,
/// `--no-default-features`), else the one cargo built for these tests.
pub fn mirador_bin() -> PathBuf {
    std::env::var_os("MIRADOR_BIN").map_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_mirador")), PathBuf::from)
}
