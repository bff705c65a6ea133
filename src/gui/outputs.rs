//! What background jobs hand back to the app. Each variant is routed to the screen that asked.

use std::path::PathBuf;

use polars::prelude::DataFrame;

use crate::core::compare::Comparison;
use crate::core::monitor::MonitorReport;
use crate::core::{ContractReport, Model, Prediction, ScoreSummary};
use crate::gui::stamp::Stamp;

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
    /// A file scored into the scratch folder.
    Scored(Box<ScoredTable>),
    /// A page of a table kept in a file.
    Page(Box<Page>),
    /// A sorted copy of a table kept in a file.
    Sorted {
        /// The table it is a copy of.
        source: PathBuf,
        /// The copy.
        file: PathBuf,
        /// How it is sorted.
        order: crate::core::writer::SortOrder,
    },
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
    /// A data row for the prediction form, column → text.
    FormRow(std::collections::BTreeMap<String, String>),
    /// A server started and ready.
    ServerStarted(Box<dyn crate::core::serving::launch::ServerHandle>),
    /// The server stopped (how, in words).
    ServerStopped(String),
    /// A rollout replayed, with the settings key that made it.
    Replayed(Box<crate::core::rollout::ReplayReport>, String),
    /// A retrain finished (promoted or refused).
    Retrained(Box<crate::core::retrain::RetrainReport>),
    /// Versions compared.
    Compared(Box<Comparison>, Stamp),
    /// Drift and performance over time.
    Monitored(Box<MonitorReport>, Stamp),
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
    Gate(Box<GateResult>),
}

/// Predictions of a whole file, kept in a file (the window holds a page at a time, so a file of any
/// size scores in bounded memory) with what produced them.
pub struct ScoredTable {
    /// The model's SHA-256.
    pub model_sha: String,
    /// The model's name (files saved from this table are named after it).
    pub model_name: String,
    /// The data file that was scored.
    pub data: PathBuf,
    /// The predictions (pass-through columns, then prediction columns), as Parquet in the app's
    /// scratch folder.
    pub file: PathBuf,
    /// Rows.
    pub rows: usize,
    /// Column names, in file order.
    pub columns: Vec<String>,
    /// The column the histogram shows (positive-class probability or predicted value).
    pub score_column: Option<String>,
    /// The histogram of that column's values: (left edge, right edge, rows), built while scoring.
    pub histogram: Vec<(f64, f64, u64)>,
    /// The run's summary (rows, time, throughput, warnings).
    pub summary: ScoreSummary,
    /// What produced it (model and data file).
    pub stamp: Stamp,
}

/// A page of a table kept in a file.
pub struct Page {
    /// The file it was read from.
    pub file: PathBuf,
    /// Page number (rows `number * PAGE_ROWS ..`).
    pub number: usize,
    /// The rows.
    pub frame: DataFrame,
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

/// A gate verdict, with what it was run for.
pub struct GateResult {
    /// The model's name.
    pub name: String,
    /// The candidate version.
    pub version: u32,
    /// The stage it would take.
    pub stage: String,
    /// The comparison (champion: the stage's current version).
    pub comparison: Comparison,
    /// The version the stage held when the gate ran (the champion).
    pub champion: u32,
    /// The labelled data it ran on.
    pub data: PathBuf,
    /// The rules, as written.
    pub rules: String,
    /// What produced it.
    pub stamp: Stamp,
}
