//! The core's one error type. Every message says what went wrong, where (file, row, column) and,
//! where we know it, what to do; file paths go last. Every error has a [`ErrorKind`], so a shell
//! decides how to answer (an exit code, an HTTP status, a note) without reading the message.

use std::fmt;
use std::path::{Path, PathBuf};

use super::problem::Problem;

/// Convenient alias used throughout the core.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What sort of failure an error is, for the shells to act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The caller's mistake: a bad file, value, setting or request (HTTP 400).
    Input,
    /// Something named does not exist: a file, a registry name, a version (HTTP 404).
    NotFound,
    /// The user or client asked to stop (HTTP 499).
    Cancelled,
    /// Work ran past its deadline and was stopped (HTTP 504).
    Timeout,
    /// A request or file over a size limit (HTTP 413).
    TooLarge,
    /// Not able to take the work now: overloaded, or not ready yet (HTTP 503).
    Unavailable,
    /// Not allowed for this caller: an admin action without the token, or from afar (HTTP 403).
    Forbidden,
    /// The model or ONNX Runtime failed: an unusable model, a failed inference (HTTP 500).
    Model,
    /// Reading or writing a file failed for a reason other than its absence (HTTP 500).
    Io,
    /// A fault inside Mirador: a panicked thread, a broken invariant (HTTP 500).
    Internal,
}

impl ErrorKind {
    /// The kind's name (JSON, logs).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Input => "input",
            Self::NotFound => "not_found",
            Self::Cancelled => "cancelled",
            Self::Timeout => "timeout",
            Self::TooLarge => "too_large",
            Self::Unavailable => "unavailable",
            Self::Forbidden => "forbidden",
            Self::Model => "model",
            Self::Io => "io",
            Self::Internal => "internal",
        }
    }
}

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
        match self.row {
            Some(0) => parts.push("the header row".to_string()),
            Some(row) => parts.push(format!("row {row}")),
            None => {}
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
        /// ONNX Runtime's message as it is, when the reason summarises it (`--verbose`).
        raw: Option<String>,
    },

    /// A data file or value is malformed.
    #[error("{message}{}", location_suffix(.location))]
    Data {
        /// What is wrong, in the user's terms.
        message: String,
        /// Where.
        location: Location,
    },

    /// The data does not fit the model's input contract; the problems say how.
    #[error("the data does not fit the model: {summary}")]
    Contract {
        /// One line naming the first blocking problems.
        summary: String,
        /// Every problem found.
        problems: Vec<Problem>,
    },

    /// A request that cannot be carried out as asked (bad option, unknown column, ...).
    #[error("{0}")]
    Invalid(String),

    /// Something named does not exist (a registry name, a version, a stage, a served model).
    #[error("{0}")]
    NotFound(String),

    /// A request or file is over a limit.
    #[error("{0}")]
    TooLarge(String),

    /// The work cannot be taken now (a full queue, a model not ready).
    #[error("{0}")]
    Unavailable(String),

    /// The caller may not do this (an admin action without the token, or not from this machine).
    #[error("{0}")]
    Forbidden(String),

    /// ONNX Runtime failed while running the model.
    #[error("inference failed: {summary}")]
    Inference {
        /// ONNX Runtime's message, made readable.
        summary: String,
        /// ONNX Runtime's message as it is (`--verbose`).
        raw: String,
    },

    /// Work ran past its deadline and was stopped.
    #[error("{0}")]
    Timeout(String),

    /// A fault inside Mirador (a thread that panicked, a broken invariant).
    #[error("internal error: {0}")]
    Internal(String),

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
        Self::Model { reason: reason.into(), path: path.as_ref().to_path_buf(), raw: None }
    }

    /// ONNX Runtime refused the model at `path`: `what` it was doing, its raw message summarised
    /// (the raw text kept for `--verbose`).
    pub fn model_rejected(what: &str, raw: String, path: impl AsRef<Path>) -> Self {
        let reason = format!("{what}: {}", super::text::summarise_runtime(&raw));
        Self::Model { reason, path: path.as_ref().to_path_buf(), raw: Some(raw) }
    }

    /// An inference failure from ONNX Runtime's raw message.
    pub fn inference(raw: impl Into<String>) -> Self {
        let raw = raw.into();
        Self::Inference { summary: super::text::summarise_runtime(&raw), raw }
    }

    /// A fault inside Mirador.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::Internal(message.into())
    }

    /// A thread of `what` panicked; the payload's message when it has one.
    pub fn panicked(what: &str, payload: &(dyn std::any::Any + Send)) -> Self {
        let message = payload
            .downcast_ref::<&str>()
            .map(|s| (*s).to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "no message".into());
        Self::Internal(format!("the {what} thread panicked: {message}"))
    }

    /// What sort of failure this is.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound => ErrorKind::NotFound,
            Self::Io { .. } => ErrorKind::Io,
            Self::RuntimeUnavailable { .. } | Self::Model { .. } | Self::Inference { .. } => ErrorKind::Model,
            Self::Data { .. } | Self::Contract { .. } | Self::Invalid(_) => ErrorKind::Input,
            Self::NotFound(_) => ErrorKind::NotFound,
            Self::TooLarge(_) => ErrorKind::TooLarge,
            Self::Unavailable(_) => ErrorKind::Unavailable,
            Self::Forbidden(_) => ErrorKind::Forbidden,
            Self::Timeout(_) => ErrorKind::Timeout,
            Self::Internal(_) => ErrorKind::Internal,
            Self::Cancelled => ErrorKind::Cancelled,
        }
    }

    /// Whether this error means the user cancelled (not a failure to report).
    pub fn is_cancelled(&self) -> bool {
        self.kind() == ErrorKind::Cancelled
    }

    /// The message with every detail Mirador has (ONNX Runtime's raw text), for `--verbose`.
    pub fn verbose(&self) -> String {
        match self {
            Self::Inference { raw, .. } => format!("inference failed: {raw}"),
            Self::Model { raw: Some(raw), path, .. } => {
                format!("not a usable ONNX model: {raw} — {}", path.display())
            }
            other => other.to_string(),
        }
    }
}

impl From<ort::Error> for Error {
    fn from(e: ort::Error) -> Self {
        Self::inference(e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_follow_the_variant_and_the_os_reason() {
        let missing = std::io::Error::from(std::io::ErrorKind::NotFound);
        assert_eq!(Error::io("read", "x", missing).kind(), ErrorKind::NotFound);
        let denied = std::io::Error::from(std::io::ErrorKind::PermissionDenied);
        assert_eq!(Error::io("read", "x", denied).kind(), ErrorKind::Io);
        assert_eq!(Error::Invalid("x".into()).kind(), ErrorKind::Input);
        assert_eq!(Error::Cancelled.kind(), ErrorKind::Cancelled);
        assert_eq!(Error::inference("boom").kind(), ErrorKind::Model);
        assert!(Error::Cancelled.is_cancelled());
    }

    #[test]
    fn a_panic_payload_becomes_an_internal_error_with_its_message() {
        let payload: Box<dyn std::any::Any + Send> = Box::new("index out of bounds");
        let e = Error::panicked("reader", payload.as_ref());
        assert_eq!(e.kind(), ErrorKind::Internal);
        assert!(e.to_string().contains("reader thread panicked: index out of bounds"), "{e}");
    }
}
