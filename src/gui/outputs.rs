//! What background jobs hand back to the app. Each variant is routed to the screen that asked.

use std::path::PathBuf;

use polars::prelude::DataFrame;

use crate::core::compare::Comparison;
use crate::core::monitor::MonitorReport;
use crate::core::{ContractReport, Model, Prediction, ScoreSummary};

/// A finished job's result.
pub enum JobOutput {
    /// A model file was read and described.
    ModelOpened(Box<Model>),
    /// The contract check of a data file against a model.
    Checked {
        /// The model's SHA-256 (the check belongs to that model).
        model_sha: String,
        /// The report.
        report: ContractReport,
    },
    /// A file scored in memory.
    Scored(Box<ScoredTable>),
    /// One row predicted.
    Predicted {
        /// The model's SHA-256.
        model_sha: String,
        /// The inputs, as sent.
        row: std::collections::BTreeMap<String, String>,
        /// The prediction.
        prediction: Prediction,
    },
    /// Defaults for the prediction form, from the reference data.
    FormDefaults(Box<FormDefaults>),
    /// Versions compared.
    Compared(Box<Comparison>),
    /// Drift and performance over time.
    Monitored(Box<MonitorReport>),
    /// A file was written.
    Saved(PathBuf),
    /// The registry, as read after a change (with what changed, for the note).
    Registry {
        /// The index.
        index: crate::core::registry::Index,
        /// What was done, in words (empty for a plain read).
        done: String,
    },
    /// A promotion gate's verdict.
    Gate(Box<crate::gui::panels::versions::GateResult>),
}

/// Predictions of a whole file, ready to show.
pub struct ScoredTable {
    /// The model's SHA-256.
    pub model_sha: String,
    /// Pass-through columns then prediction columns, one row per input row.
    pub frame: DataFrame,
    /// The column the histogram shows (positive-class probability or predicted value).
    pub score_column: Option<String>,
    /// The histogram of that column's values (40 bins), made once by the job rather than from
    /// every row on every frame.
    pub histogram: Vec<egui_plot::Bar>,
    /// The run's summary (rows, time, throughput, warnings).
    pub summary: ScoreSummary,
}

/// One form field's suggested value and choices.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldDefault {
    /// The column.
    pub column: String,
    /// Suggested value (the reference median for numbers, the most common category for text).
    pub value: String,
    /// Known categories (empty for numbers).
    pub choices: Vec<String>,
    /// For numbers: the reference's 1st and 99th percentiles, the slider range.
    pub range: Option<(f64, f64)>,
    /// Whole numbers only (an integer column).
    pub integer: bool,
}

/// Defaults for a model's prediction form.
#[derive(Debug, Clone, PartialEq)]
pub struct FormDefaults {
    /// The model's SHA-256.
    pub model_sha: String,
    /// One entry per column the model reads, in input order.
    pub fields: Vec<FieldDefault>,
}
