//! The input contract: which data columns feed which model inputs (the [`Binding`]), and the report
//! of every problem found binding them (the [`ContractReport`]; the whole-file check that fills it
//! with the values' problems is [`crate::core::check`]).
//!
//! Inputs are bound in the two layouts real exported models use, or a mix of them:
//! - one input per column (`[N,1]` or `[N]`), matched by column name;
//! - one packed `[N,k]` input whose k columns come from, in order of preference: the user's mapping
//!   (`--columns INPUT=a,b,c`), the model's metadata (`feature_names.<input>`, or `feature_names`
//!   when there is a single packed input), or the file's remaining columns in file order when exactly
//!   k remain.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::PathBuf;

use polars::prelude::DataType;
use serde::{Deserialize, Serialize};

use super::error::{Error, Result};
use super::model::info::{ElemType, IoType, ModelInfo};
use super::problem::{Problem, ProblemKind, Severity};

/// Columns the user names for model inputs: input name → column names.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ColumnMapping(pub BTreeMap<String, Vec<String>>);

impl ColumnMapping {
    /// Parse one `INPUT=col_a,col_b,...` argument into the mapping.
    pub fn add_arg(&mut self, arg: &str) -> Result<()> {
        let (input, cols) = arg
            .split_once('=')
            .ok_or_else(|| Error::Invalid(format!("--columns expects INPUT=col_a,col_b,...; got '{arg}'")))?;
        let cols: Vec<String> = cols.split(',').map(|c| c.trim().to_string()).filter(|c| !c.is_empty()).collect();
        if input.trim().is_empty() || cols.is_empty() {
            return Err(Error::Invalid(format!("--columns expects INPUT=col_a,col_b,...; got '{arg}'")));
        }
        self.0.insert(input.trim().to_string(), cols);
        Ok(())
    }
}

/// How an input's columns were found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ColumnSource {
    /// The column has the input's name.
    ByName,
    /// The user said so.
    UserMapping,
    /// The model's `feature_names` metadata.
    Metadata,
    /// The file's unused columns, in file order.
    FileOrder,
}

impl ColumnSource {
    /// The source's name (JSON, CLI).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ByName => "by_name",
            Self::UserMapping => "user_mapping",
            Self::Metadata => "metadata",
            Self::FileOrder => "file_order",
        }
    }
}

/// One model input and the columns that feed it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InputBinding {
    /// Input name.
    pub input: String,
    /// Element type the model wants.
    pub elem: ElemType,
    /// Tensor rank (1 for `[N]`, 2 for `[N,k]`).
    pub rank: usize,
    /// The columns, in tensor order.
    pub columns: Vec<String>,
    /// How the columns were found.
    pub source: ColumnSource,
}

/// Every model input bound to its columns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Binding {
    /// One entry per model input, in graph order.
    pub inputs: Vec<InputBinding>,
}

impl Binding {
    /// The distinct columns the model reads, in input order.
    pub fn columns(&self) -> Vec<String> {
        let mut seen = HashSet::new();
        self.inputs.iter().flat_map(|b| b.columns.iter()).filter(|c| seen.insert(c.as_str())).cloned().collect()
    }

    /// How to type each bound column when parsing text.
    pub fn read_dtypes(&self) -> HashMap<String, DataType> {
        let mut dtypes = HashMap::new();
        for b in &self.inputs {
            let dtype = match b.elem {
                ElemType::Float32 | ElemType::Float64 => DataType::Float64,
                ElemType::Int64 | ElemType::Int32 => DataType::Int64,
                _ => DataType::String,
            };
            for col in &b.columns {
                dtypes.entry(col.clone()).or_insert(dtype.clone());
            }
        }
        dtypes
    }
}

/// The result of checking data against a model's contract.
#[derive(Debug, Clone, Serialize)]
pub struct ContractReport {
    /// The data file checked, if any.
    pub file: Option<PathBuf>,
    /// Rows examined.
    pub rows_checked: u64,
    /// The binding, when every input could be bound.
    pub binding: Option<Binding>,
    /// Every problem found, blocking first.
    pub problems: Vec<Problem>,
}

impl ContractReport {
    /// True when nothing blocks scoring.
    pub fn passed(&self) -> bool {
        self.blocking().next().is_none()
    }

    /// The blocking problems.
    pub fn blocking(&self) -> impl Iterator<Item = &Problem> {
        self.problems.iter().filter(|p| p.severity == Severity::Blocking)
    }

    /// This report as an error when it does not pass.
    pub fn into_result(self) -> Result<Self> {
        if self.passed() {
            return Ok(self);
        }
        let blocking: Vec<&str> = self.blocking().map(|p| p.message.as_str()).collect();
        let more = if blocking.len() > 2 { format!(" (and {} more)", blocking.len() - 2) } else { String::new() };
        let summary = format!("{}{more}", blocking.iter().take(2).copied().collect::<Vec<_>>().join("; "));
        Err(Error::Contract { summary, problems: self.problems })
    }

    /// Blocking problems first, then by kind and column.
    pub fn sort(&mut self) {
        self.problems.sort_by(|a, b| (a.severity, a.kind, &a.column).cmp(&(b.severity, b.kind, &b.column)));
    }
}

/// A packed input's columns as the model's metadata names them (`feature_names.<input>`, or
/// `feature_names` when the model has one packed input), when their count fits the input.
fn metadata_columns(info: &ModelInfo, input: &str, width: Option<usize>, packed_count: usize) -> Option<Vec<String>> {
    info.metadata
        .get(&format!("feature_names.{input}"))
        .or_else(|| if packed_count == 1 { info.metadata.get("feature_names") } else { None })
        .map(|s| s.split(',').map(|c| c.trim().to_string()).collect::<Vec<_>>())
        .filter(|cols| width.is_none_or(|k| cols.len() == k))
}

/// The columns a model reads when no data is at hand to look at: an input's own name for
/// one-column inputs, the `feature_names` metadata for packed ones, else `<input>_0`, `<input>_1`, ….
/// [`plan_binding`] binds exactly these columns.
pub fn expected_columns(info: &ModelInfo) -> Vec<String> {
    let packed_count = info.inputs.iter().filter(|i| i.ty.width() != Some(1)).count();
    let mut out = Vec::new();
    for input in &info.inputs {
        let name = &input.name;
        let width = input.ty.width();
        match (width, metadata_columns(info, name, width, packed_count)) {
            (Some(1), _) => out.push(name.clone()),
            (_, Some(cols)) => out.extend(cols),
            (Some(k), None) => out.extend((0..k).map(|i| format!("{name}_{i}"))),
            (None, None) => out.push(name.clone()),
        }
    }
    let mut seen = HashSet::new();
    out.retain(|c| seen.insert(c.clone()));
    out
}

/// Bind the model's inputs to `columns` (the data's columns in file order). `not_features` are
/// columns never taken in file order (ids, the target). Returns the binding when every input is bound,
/// and the schema-level problems.
pub fn plan_binding(
    info: &ModelInfo,
    columns: &[String],
    mapping: &ColumnMapping,
    not_features: &[String],
) -> (Option<Binding>, Vec<Problem>) {
    let mut problems = Vec::new();
    let mut bound: Vec<Option<InputBinding>> = Vec::new();
    let has = |c: &str| columns.iter().any(|x| x == c);
    let packed_count = info.inputs.iter().filter(|i| i.ty.width() != Some(1)).count();

    for input in &info.inputs {
        let name = input.name.as_str();
        let IoType::Tensor { elem, shape } = &input.ty else {
            problems.push(Problem::schema(
                ProblemKind::UnsupportedInput,
                Severity::Blocking,
                None,
                Some(name),
                format!("input '{name}' is a {}, not a tensor; Mirador can only feed tensors", input.ty),
            ));
            bound.push(None);
            continue;
        };
        if matches!(elem, ElemType::Other(_)) || shape.len() > 2 || shape.is_empty() {
            problems.push(Problem::schema(
                ProblemKind::UnsupportedInput,
                Severity::Blocking,
                None,
                Some(name),
                format!("input '{name}' is {}; tabular data can feed [N] or [N,k] tensors of float, double, int, string or bool", input.ty),
            ));
            bound.push(None);
            continue;
        }
        let width = input.ty.width();
        let user = mapping.0.get(name);
        let metadata = metadata_columns(info, name, width, packed_count);
        let (cols, source) = if let Some(cols) = user {
            (cols.clone(), ColumnSource::UserMapping)
        } else if width == Some(1) {
            (vec![name.to_string()], ColumnSource::ByName)
        } else if let Some(cols) = metadata {
            (cols, ColumnSource::Metadata)
        } else {
            (Vec::new(), ColumnSource::FileOrder) // resolved below, once the named inputs are known
        };
        if let Some(k) = width
            && source == ColumnSource::UserMapping
            && cols.len() != k
        {
            problems.push(Problem::schema(
                ProblemKind::UnmappableInput,
                Severity::Blocking,
                None,
                Some(name),
                format!("input '{name}' takes {k} columns but the mapping names {}", cols.len()),
            ));
            bound.push(None);
            continue;
        }
        bound.push(Some(InputBinding {
            input: name.to_string(),
            elem: elem.clone(),
            rank: shape.len(),
            columns: cols,
            source,
        }));
    }

    // File order: the columns no other input uses and that are not ids or the target.
    let used: HashSet<String> = bound.iter().flatten().flat_map(|b| b.columns.iter().cloned()).collect();
    let spare: Vec<String> =
        columns.iter().filter(|c| !used.contains(*c) && !not_features.contains(c)).cloned().collect();
    for (spec, slot) in info.inputs.iter().zip(bound.iter_mut()) {
        let Some(b) = slot else { continue };
        if b.source != ColumnSource::FileOrder {
            continue;
        }
        match spec.ty.width() {
            Some(k) if spare.len() == k => b.columns = spare.clone(),
            width => {
                let takes = width.map_or_else(|| "several".to_string(), |k| k.to_string());
                problems.push(Problem::schema(
                    ProblemKind::UnmappableInput,
                    Severity::Blocking,
                    None,
                    Some(&b.input),
                    format!(
                        "input '{}' takes {takes} columns and the model does not name them; name them with --columns {}=col_a,col_b,...",
                        b.input, b.input
                    ),
                ));
                *slot = None;
            }
        }
    }

    for b in bound.iter().flatten() {
        for col in b.columns.iter().filter(|c| !has(c)) {
            problems.push(Problem::schema(
                ProblemKind::MissingColumn,
                Severity::Blocking,
                Some(col),
                Some(&b.input),
                format!("column '{col}' is missing (model input '{}' needs it)", b.input),
            ));
        }
    }
    let binding = (bound.iter().all(Option::is_some) && problems.is_empty())
        .then(|| Binding { inputs: bound.into_iter().flatten().collect() });
    if let Some(b) = &binding {
        let used: HashSet<String> = b.columns().into_iter().collect();
        for col in columns.iter().filter(|c| !used.contains(*c)) {
            problems.push(Problem::schema(
                ProblemKind::ExtraColumn,
                Severity::Info,
                Some(col),
                None,
                format!("column '{col}' is not used by the model (ignored)"),
            ));
        }
    }
    (binding, problems)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_names_are_the_json_names() {
        for s in [ColumnSource::ByName, ColumnSource::UserMapping, ColumnSource::Metadata, ColumnSource::FileOrder] {
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
    }
}
