//! `mirador feedback`: late labels from a file, joined to a prediction log.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use super::render::emit;
use crate::core::Result;
use crate::core::monitor::labels::{Imported, import_labels};

/// The flags of `mirador feedback`.
#[derive(Debug, Clone, Args)]
pub struct FeedbackArgs {
    /// The prediction log folder (`mirador serve --log-dir`, or `mirador collect`'s).
    #[arg(long)]
    pub log: PathBuf,
    /// The labels: a CSV or Parquet file with the key column and the true value.
    #[arg(long)]
    pub labels: PathBuf,
    /// The column both files share: `request_id` (with a `row` column for multi-row requests) or
    /// any logged column (e.g. customer_id).
    #[arg(long)]
    pub key: String,
    /// The labels file's column with the true value [default: its only other column].
    #[arg(long)]
    pub target: Option<String>,
    /// The served model, when the log holds several.
    #[arg(long)]
    pub model: Option<String>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// Import the labels; exit 0 (unmatched labels are reported, not an error: they may be for rows
/// the log does not hold yet).
pub fn run(args: &FeedbackArgs) -> Result<ExitCode> {
    let imported = import_labels(&args.log, args.model.as_deref(), &args.labels, &args.key, args.target.as_deref())?;
    emit(args.json, &imported, render)?;
    Ok(ExitCode::SUCCESS)
}

fn render(i: &Imported) -> String {
    let share = if i.logged_rows == 0 { 0.0 } else { 100.0 * i.labelled_rows as f64 / i.logged_rows as f64 };
    format!(
        "{} labels joined to the log of '{}': {} matched, {} unmatched\n{} of {} logged rows now labelled ({share:.1} %)\nwritten: {}\n",
        i.labels,
        i.model,
        i.matched,
        i.unmatched,
        i.labelled_rows,
        i.logged_rows,
        i.written.display()
    )
}
