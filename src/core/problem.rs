//! What the contract check finds in data: a [`Problem`] of some [`ProblemKind`] and [`Severity`].
//! A leaf module, so the error type, the binding, the converter and the check can all name them.

use serde::Serialize;

/// How serious a problem is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Scoring cannot proceed.
    Blocking,
    /// Scoring can proceed but the results deserve a look.
    Warning,
    /// For information (e.g. columns the model ignores).
    Info,
}

impl Severity {
    /// The name used in JSON, CSV exports and the CLI.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Blocking => "blocking",
            Self::Warning => "warning",
            Self::Info => "info",
        }
    }
}

/// What kind of problem.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ProblemKind {
    /// A column the model needs is not in the data.
    MissingColumn,
    /// A packed input whose columns cannot be determined.
    UnmappableInput,
    /// An input of a type Mirador cannot feed.
    UnsupportedInput,
    /// A value that does not parse as the model's type.
    BadValue,
    /// An empty value where the model cannot take one.
    MissingValue,
    /// The data has no rows.
    NoRows,
    /// An infinite value in a float column.
    NonFinite,
    /// A category the model was not trained on.
    UnseenCategory,
    /// A column the model does not use (ignored).
    ExtraColumn,
}

impl ProblemKind {
    /// The name used in JSON, CSV exports and the CLI.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::MissingColumn => "missing_column",
            Self::UnmappableInput => "unmappable_input",
            Self::UnsupportedInput => "unsupported_input",
            Self::BadValue => "bad_value",
            Self::MissingValue => "missing_value",
            Self::NoRows => "no_rows",
            Self::NonFinite => "non_finite",
            Self::UnseenCategory => "unseen_category",
            Self::ExtraColumn => "extra_column",
        }
    }

    /// How serious this kind is when it turns up in the data's values.
    pub fn severity(self) -> Severity {
        match self {
            Self::NonFinite | Self::UnseenCategory => Severity::Warning,
            Self::ExtraColumn => Severity::Info,
            _ => Severity::Blocking,
        }
    }
}

/// One problem, with where it was first seen and how often.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Problem {
    /// Kind.
    pub kind: ProblemKind,
    /// Severity.
    pub severity: Severity,
    /// Column concerned.
    pub column: Option<String>,
    /// Model input concerned.
    pub input: Option<String>,
    /// First 1-based data row where it occurs.
    pub row: Option<u64>,
    /// The offending value at that row.
    pub value: Option<String>,
    /// How many rows have it (1 for schema problems).
    pub count: u64,
    /// A sentence for the user.
    pub message: String,
}

impl Problem {
    /// A schema-level problem (no row).
    pub fn schema(
        kind: ProblemKind,
        severity: Severity,
        column: Option<&str>,
        input: Option<&str>,
        message: String,
    ) -> Self {
        Self {
            kind,
            severity,
            column: column.map(str::to_string),
            input: input.map(str::to_string),
            row: None,
            value: None,
            count: 1,
            message,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The names CSV exports and text use are the names JSON uses.
    #[test]
    fn as_str_is_the_json_name() {
        for s in [Severity::Blocking, Severity::Warning, Severity::Info] {
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
        for k in [
            ProblemKind::MissingColumn,
            ProblemKind::UnmappableInput,
            ProblemKind::UnsupportedInput,
            ProblemKind::BadValue,
            ProblemKind::MissingValue,
            ProblemKind::NoRows,
            ProblemKind::NonFinite,
            ProblemKind::UnseenCategory,
            ProblemKind::ExtraColumn,
        ] {
            assert_eq!(serde_json::to_value(k).unwrap(), k.as_str());
        }
    }
}
