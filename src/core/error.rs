//! The core's one error type. Every message says what went wrong, where (file, row, column) and,
//! where we know it, what to do; file paths go last.

use std::fmt;
use std::path::{Path, PathBuf};

/// Convenient alias used throughout the core.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Where in a data file a problem was found. Rows are 1-based data rows (the header is not counted).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Location {
    /// The file, when the data came from one.
    pub file: Option<PathBuf>,
    /// 1-based data row (header excluded).
    pub row: Option<u64>,
    /// Column name.
    pub column: Option<String>,
}

impl Location {
    /// A location in `file`.
    pub fn file(file: Option<&Path>) -> Self {
        Self { file: file.map(Path::to_path_buf), ..Self::default() }
    }

    /// This location narrowed to a row.
    #[must_use]
    pub fn row(mut self, row: u64) -> Self {
        self.row = Some(row);
        self
    }

    /// This location narrowed to a column.
    #[must_use]
    pub fn column(mut self, column: impl Into<String>) -> Self {
        self.column = Some(column.into());
        self
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        if let Some(row) = self.row {
            parts.push(format!("row {row}"));
        }
        if let Some(column) = &self.column {
            parts.push(format!("column '{column}'"));
        }
        if let Some(file) = &self.file {
            parts.push(format!("in {}", file.display()));
        }
        f.write_str(&parts.join(", "))
    }
}

/// Everything that can go wrong in the headless core.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The ONNX Runtime shared library could not be found, fetched or loaded.
    #[error("ONNX Runtime {version} is not available: {reason}\nFix: {fix}")]
    RuntimeUnavailable {
        /// The version Mirador needs.
        version: &'static str,
        /// What failed.
        reason: String,
        /// What the user can do about it.
        fix: String,
    },

    /// A file could not be read or written.
    #[error("could not {action}: {source} — {}", path.display())]
    Io {
        /// What we were doing, e.g. "read the model".
        action: String,
        /// The file.
        path: PathBuf,
        /// The operating system's reason.
        source: std::io::Error,
    },

    /// The model file is not a usable ONNX model.
    #[error("not a usable ONNX model: {reason} — {}", path.display())]
    Model {
        /// Why.
        reason: String,
        /// The model file.
        path: PathBuf,
    },

    /// A data file or value is malformed.
    #[error("{message}{}", location_suffix(.location))]
    Data {
        /// What is wrong, in the user's terms.
        message: String,
        /// Where.
        location: Location,
    },

    /// The data does not fit the model's input contract; the report lists every problem.
    #[error("the data does not fit the model: {summary}")]
    Contract {
        /// One line naming the first blocking problems.
        summary: String,
        /// The full report.
        report: Box<crate::core::contract::ContractReport>,
    },

    /// A request that cannot be carried out as asked (bad option, unknown column, ...).
    #[error("{0}")]
    Invalid(String),

    /// ONNX Runtime failed while running the model.
    #[error("inference failed: {0}")]
    Inference(String),

    /// The job was cancelled by the user.
    #[error("cancelled")]
    Cancelled,
}

fn location_suffix(location: &Location) -> String {
    let text = location.to_string();
    if text.is_empty() { String::new() } else { format!(" ({text})") }
}

impl Error {
    /// An I/O error with what we were doing and on which file.
    pub fn io(action: impl Into<String>, path: impl AsRef<Path>, source: std::io::Error) -> Self {
        Self::Io { action: action.into(), path: path.as_ref().to_path_buf(), source }
    }

    /// A data error at `location`.
    pub fn data(message: impl Into<String>, location: Location) -> Self {
        Self::Data { message: message.into(), location }
    }

    /// A model error for `path`.
    pub fn model(reason: impl Into<String>, path: impl AsRef<Path>) -> Self {
        Self::Model { reason: reason.into(), path: path.as_ref().to_path_buf() }
    }

    /// Whether this error means the user cancelled (not a failure to report).
    pub fn is_cancelled(&self) -> bool {
        matches!(self, Self::Cancelled)
    }
}

impl From<ort::Error> for Error {
    fn from(e: ort::Error) -> Self {
        Self::Inference(e.to_string())
    }
}
