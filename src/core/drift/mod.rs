//! Data drift between a reference and a current dataset, per column and overall, with Evidently's
//! default choices (DataDriftPreset, Evidently 0.7) so the verdicts agree with it:
//!
//! - **column kinds** (from the current data): floats → numeric; integers → categorical when they
//!   have at most 10 distinct values, else numeric; text → categorical, or skipped as free text when
//!   more than half its values are distinct;
//! - **missing values** (empty, NaN, ±inf) are dropped before testing; their share is reported;
//! - **test per column** (n_ref = reference rows, n_values = distinct values in both):
//!   - n_ref ≤ 1000: numeric → KS (p ≤ 0.05 is drift), unless n_values ≤ 5 → chi-square (> 2
//!     values) or z-test (2 values); categorical → chi-square, or z-test for two values (p < 0.05);
//!   - n_ref > 1000: numeric → normed Wasserstein ≥ 0.1, or Jensen–Shannon ≥ 0.1 when n_values ≤ 5;
//!     categorical → Jensen–Shannon ≥ 0.1;
//! - **dataset drift** when the share of drifted columns is ≥ 0.5.
//!
//! Every choice can be overridden per column ([`DriftOptions`]). The formulas are in [`stats`].

pub mod kolmogorov;
pub mod profile;
pub mod stats;
pub mod types;
pub mod typing;
mod verdict;

use std::collections::BTreeMap;

use polars::prelude::*;
use rayon::prelude::*;

use crate::core::error::{Error, Result};
pub use profile::ReferenceProfile;
pub use types::{Bins, ColumnDrift, ColumnKind, ColumnOverride, DriftOptions, DriftReport, DriftTest};
use typing::{Typed, type_column};
use verdict::column_drift;

/// Compare `reference` with `current`, column by column (the columns both have).
pub fn drift_frames(reference: &DataFrame, current: &DataFrame, options: &DriftOptions) -> Result<DriftReport> {
    TypedReference::new(reference, &options.exclude).drift(current, options)
}

/// Drift of the `current` file against `reference` — a data file, or a profile saved as `.json`.
/// The reference is read and typed on its own thread while the current file is read.
pub fn drift_files(
    reference: &std::path::Path,
    current: &std::path::Path,
    options: &DriftOptions,
) -> Result<DriftReport> {
    options.check()?;
    if reference.extension().is_some_and(|e| e == "json") {
        let profile = ReferenceProfile::load(reference)?;
        return drift_profile(&profile, &read_rows(current, &options.exclude)?, options);
    }
    std::thread::scope(|scope| {
        let typed = std::thread::Builder::new()
            .name("mirador-read-reference".into())
            .spawn_scoped(scope, || {
                let frame = read_rows(reference, &options.exclude)?;
                Ok::<_, Error>(TypedReference::new(&frame, &options.exclude))
            })
            .map_err(|e| Error::internal(format!("could not start a thread: {e}")))?;
        let current = read_rows(current, &options.exclude);
        let typed = typed.join().map_err(|p| Error::panicked("reference reader", p.as_ref()))??;
        typed.drift(&current?, options)
    })
}

/// A data file for drift, refusing one with no rows: no data says nothing about drift.
pub fn read_rows(path: &std::path::Path, exclude: &[String]) -> Result<DataFrame> {
    let frame = crate::core::read_table_inferred(path, exclude)?;
    if frame.height() == 0 {
        return Err(Error::data(
            "the file has a header but no data rows, so there is nothing to compare",
            crate::core::Location::file(Some(path)),
        ));
    }
    Ok(frame)
}

/// A reference typed once, for comparing it with many current frames (monitoring chunks).
pub struct TypedReference {
    /// In the reference's column order.
    columns: Vec<(String, std::result::Result<Typed, String>)>,
}

impl TypedReference {
    /// Type every column of `reference` except `exclude`.
    pub fn new(reference: &DataFrame, exclude: &[String]) -> Self {
        let names: Vec<String> =
            reference.get_column_names().iter().map(|c| c.to_string()).filter(|c| !exclude.contains(c)).collect();
        let columns = names
            .par_iter()
            .map(|name| {
                let typed = reference
                    .column(name)
                    .map_err(|e| e.to_string())
                    .and_then(|c| type_column(c.as_materialized_series()).map_err(|e| e.to_string()));
                (name.clone(), typed)
            })
            .collect();
        Self { columns }
    }

    /// Compare with `current`, as [`drift_frames`] would compare the reference itself.
    pub fn drift(&self, current: &DataFrame, options: &DriftOptions) -> Result<DriftReport> {
        let reference_of = |name: &str| {
            self.columns
                .iter()
                .find(|(n, _)| n == name)
                .map_or_else(|| Err("not in the reference".into()), |(_, t)| t.clone())
        };
        let names: Vec<String> =
            self.columns.iter().map(|(n, _)| n.clone()).filter(|c| current.column(c).is_ok()).collect();
        drift_columns(&names, &reference_of, current, options)
    }
}

/// Compare a saved reference profile with `current` (see [`profile`]).
pub fn drift_profile(profile: &ReferenceProfile, current: &DataFrame, options: &DriftOptions) -> Result<DriftReport> {
    let reference_of =
        |name: &str| profile.columns.get(name).map(|c| c.typed()).ok_or_else(|| "not in the profile".to_string());
    let names: Vec<String> =
        current.get_column_names().iter().map(|c| c.to_string()).filter(|c| profile.columns.contains_key(c)).collect();
    drift_columns(&names, &reference_of, current, options)
}

fn drift_columns(
    names: &[String],
    reference_of: &(dyn Fn(&str) -> std::result::Result<Typed, String> + Sync),
    current: &DataFrame,
    options: &DriftOptions,
) -> Result<DriftReport> {
    let names: Vec<&String> = names.iter().filter(|c| !options.exclude.contains(c)).collect();
    let results: Vec<(String, std::result::Result<ColumnDrift, String>)> = names
        .par_iter()
        .map(|name| {
            let r = reference_of(name).and_then(|reference| {
                let cur = current.column(name).map_err(|e| e.to_string())?;
                column_drift(name, reference, cur.as_materialized_series(), options)
            });
            ((*name).clone(), r)
        })
        .collect();
    let mut report = DriftReport {
        columns: Vec::new(),
        share_drifted: 0.0,
        dataset_drift: false,
        drift_share: options.drift_share,
        skipped: BTreeMap::new(),
    };
    for (name, r) in results {
        match r {
            Ok(c) => report.columns.push(c),
            Err(reason) => {
                report.skipped.insert(name, reason);
            }
        }
    }
    let drifted = report.columns.iter().filter(|c| c.drift).count();
    report.share_drifted = if report.columns.is_empty() { 0.0 } else { drifted as f64 / report.columns.len() as f64 };
    report.dataset_drift = !report.columns.is_empty() && report.share_drifted >= options.drift_share;
    Ok(report)
}
