//! Predictions from a model's pooled sessions: [`predict_frame`], the one way a table of rows
//! becomes predictions (shared by the prediction form, the scoring workers and the server),
//! [`predict_one`] for a single row given as text, and [`Predictor`] for many rows one at a time.

use std::collections::BTreeMap;
use std::time::Duration;

use polars::prelude::*;

use super::contract::{Binding, ColumnMapping, plan_binding};
use super::convert::BatchContext;
use super::error::{Error, Result};
use super::model::Model;
use super::pool::PooledSession;
use super::session::{BatchPredictions, Prediction};
use super::text::did_you_mean;

/// A pooled session bound to the columns that feed it: what the bundle, the latency measurement
/// and the CLI's `predict` use to run rows one at a time.
pub struct Predictor {
    session: PooledSession,
    binding: Binding,
}

impl Predictor {
    /// A predictor for `model` fed through `binding`, with a session from the model's pool.
    pub fn new(model: &Model, binding: Binding) -> Result<Self> {
        Ok(Self { session: model.pool().get()?, binding })
    }

    /// The binding in use.
    pub fn binding(&self) -> &Binding {
        &self.binding
    }

    /// Predict one row given as column → text value (missing columns are an error).
    pub fn predict_row(&mut self, row: &BTreeMap<String, String>) -> Result<Prediction> {
        self.session.predict_row(row, &self.binding)
    }
}

/// Predict `frame` with a session from `model`'s pool: the entry point the prediction form, the
/// scoring workers and the server share.
pub fn predict_frame(
    model: &Model,
    frame: &DataFrame,
    binding: &Binding,
    ctx: &BatchContext,
    deadline: Duration,
) -> Result<BatchPredictions> {
    model.pool().get()?.predict_frame(frame, binding, ctx, deadline)
}

/// Predict a single row (values by column name, as text) with a pooled session. Every column the
/// model needs must be given; columns it does not read are ignored (see [`unread_column`]).
pub fn predict_one(model: &Model, row: &BTreeMap<String, String>, mapping: &ColumnMapping) -> Result<Prediction> {
    let columns: Vec<String> = row.keys().cloned().collect();
    let (binding, problems) = plan_binding(model.info(), &columns, mapping, &[]);
    let binding = binding.ok_or_else(|| {
        let reasons: Vec<String> = problems.iter().map(|p| p.message.clone()).collect();
        Error::Invalid(format!("cannot build the model's inputs from these values: {}", reasons.join("; ")))
    })?;
    model.pool().get()?.predict_row(row, &binding)
}

/// An error for the first of `columns` that `model` does not read, naming the closest it does (a
/// typed value for a column the model ignores is most likely a typo).
pub fn unread_column(model: &Model, columns: &[String], mapping: &ColumnMapping) -> Option<Error> {
    let (binding, _) = plan_binding(model.info(), columns, mapping, &[]);
    let used = binding?.columns();
    let unknown = columns.iter().find(|c| !used.contains(c))?;
    let hint = did_you_mean(unknown, used.iter().map(String::as_str));
    Some(Error::Invalid(format!("the model does not read a column '{unknown}'{hint}; it reads: {}", used.join(", "))))
}
