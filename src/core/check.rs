//! The whole-file contract check: bind the file's columns to the model's inputs, then convert every
//! value as scoring would, gathering every problem (with its first row and a count) instead of
//! stopping at the first.

use std::path::Path;

use super::contract::{ColumnMapping, ContractReport, plan_binding};
use super::convert::{BatchContext, Findings, convert_batch};
use super::error::Result;
use super::model::info::ModelInfo;
use super::problem::{Problem, ProblemKind, Severity};
use super::table::{ReadPlan, TableReader};

/// Options for [`check_file`].
#[derive(Debug, Clone, Default)]
pub struct CheckOptions {
    /// Stop after this many rows (`None`: the whole file).
    pub max_rows: Option<u64>,
    /// Columns never taken as features in file order (ids, the target).
    pub not_features: Vec<String>,
    /// Column names for packed inputs.
    pub mapping: ColumnMapping,
}

/// Check a data file against the model's contract, reading its values, and report every problem.
/// `progress` is called after each batch with the rows checked so far and the share of the file read;
/// an error it returns (a cancellation) ends the check.
pub fn check_file(
    info: &ModelInfo,
    path: &Path,
    options: &CheckOptions,
    progress: &mut dyn FnMut(u64, f64) -> Result<()>,
) -> Result<ContractReport> {
    let mut reader = TableReader::open(path, 65_536)?;
    let (binding, problems) = plan_binding(info, reader.columns(), &options.mapping, &options.not_features);
    let mut report =
        ContractReport { file: Some(path.to_path_buf()), rows_checked: 0, binding: binding.clone(), problems };
    let Some(binding) = binding else {
        report.sort();
        return Ok(report);
    };
    reader.set_plan(&ReadPlan { columns: binding.columns(), dtypes: binding.read_dtypes() })?;
    let mut findings = Findings::collect(info);
    while let Some(batch) = reader.next_batch()? {
        let ctx = BatchContext { file: Some(path), first_row: batch.first_row };
        convert_batch(&batch.frame, &binding, &ctx, &mut findings)?;
        report.rows_checked += batch.frame.height() as u64;
        progress(report.rows_checked, reader.fraction_done())?;
        if options.max_rows.is_some_and(|m| report.rows_checked >= m) {
            break;
        }
    }
    if report.rows_checked == 0 {
        report.problems.push(Problem::schema(
            ProblemKind::NoRows,
            Severity::Blocking,
            None,
            None,
            "the file has a header but no data rows".into(),
        ));
    }
    report.problems.extend(findings.into_problems());
    report.sort();
    Ok(report)
}
