//! `examples.json`: golden rows (the first reference rows) with the outputs the model gave for
//! them, and their check: the model in the bundle must still give them.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::core::contract::{ColumnMapping, plan_binding};
use crate::core::error::{Error, Result};
use crate::core::model::Model;
use crate::core::predict::Predictor;
use crate::core::session::Prediction;

/// One golden example: the row and what the model said.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Example {
    /// Column → value, as text.
    pub inputs: BTreeMap<String, String>,
    /// Predicted class.
    pub label: Option<String>,
    /// Class → probability.
    pub probabilities: BTreeMap<String, f64>,
    /// Predicted values (regressors).
    pub values: Vec<f64>,
}

impl Example {
    pub(super) fn from_prediction(inputs: BTreeMap<String, String>, p: &Prediction) -> Self {
        Self {
            inputs,
            label: p.label.clone(),
            probabilities: p.probabilities.iter().cloned().collect(),
            values: p.values.clone(),
        }
    }
}

/// Tolerance for reproduced outputs (the same model on the same runtime gives the same numbers;
/// this absorbs float32 → decimal → float32 round trips of the inputs).
const TOLERANCE: f64 = 1e-6;

pub(super) fn read_examples(dir: &Path) -> Result<Vec<Example>> {
    let text = std::fs::read_to_string(dir.join("examples.json"))
        .map_err(|e| Error::io("read the examples", dir.join("examples.json"), e))?;
    serde_json::from_str(&text).map_err(|e| Error::Invalid(format!("examples.json is not valid: {e}")))
}

/// The bundle's golden rows as a contract test for another model (a retrained candidate): every row
/// must be predicted, with the same classes (or as many values) as recorded — the numbers may
/// differ. Returns the rows tried and what failed.
pub fn golden_rows_contract(dir: &Path, model: &Model) -> Result<(usize, Vec<String>)> {
    let examples = read_examples(dir)?;
    let columns: Vec<String> = examples.first().map(|e| e.inputs.keys().cloned().collect()).unwrap_or_default();
    let (binding, _) = plan_binding(model.info(), &columns, &ColumnMapping::default(), &[]);
    let Some(binding) = binding else {
        return Ok((
            examples.len(),
            vec!["the golden rows cannot feed the model (their columns do not fit its inputs)".into()],
        ));
    };
    let mut predictor = Predictor::new(model, binding)?;
    let mut problems = Vec::new();
    for (i, e) in examples.iter().enumerate() {
        match predictor.predict_row(&e.inputs) {
            Err(err) => problems.push(format!("golden row {}: {err}", i + 1)),
            Ok(p) => {
                let classes: Vec<&String> = p.probabilities.iter().map(|(c, _)| c).collect();
                let recorded: Vec<&String> = e.probabilities.keys().collect();
                let mut sorted = classes.clone();
                sorted.sort();
                if sorted != recorded {
                    problems.push(format!("golden row {}: classes {classes:?}, recorded {recorded:?}", i + 1));
                }
                if p.values.len() != e.values.len() {
                    problems.push(format!(
                        "golden row {}: {} values, recorded {}",
                        i + 1,
                        p.values.len(),
                        e.values.len()
                    ));
                }
            }
        }
    }
    Ok((examples.len(), problems))
}

pub(super) fn reproduce(model: &Model, examples: &[Example]) -> Result<(usize, Vec<String>)> {
    let columns: Vec<String> = examples.first().map(|e| e.inputs.keys().cloned().collect()).unwrap_or_default();
    let (binding, _) = plan_binding(model.info(), &columns, &ColumnMapping::default(), &[]);
    let binding = binding.ok_or_else(|| Error::Invalid("the example rows cannot feed the model".into()))?;
    let mut predictor = Predictor::new(model, binding)?;
    let mut problems = Vec::new();
    for (i, e) in examples.iter().enumerate() {
        let p = predictor.predict_row(&e.inputs)?;
        if p.label != e.label {
            problems.push(format!("row {}: label {:?}, recorded {:?}", i + 1, p.label, e.label));
        }
        let got: BTreeMap<String, f64> = p.probabilities.iter().cloned().collect();
        for (class, want) in &e.probabilities {
            let have = got.get(class).copied().unwrap_or(f64::NAN);
            if (have - want).abs() > TOLERANCE || have.is_nan() {
                problems.push(format!("row {}: p({class}) = {have}, recorded {want}", i + 1));
            }
        }
        if p.values.len() != e.values.len() || p.values.iter().zip(&e.values).any(|(a, b)| (a - b).abs() > TOLERANCE) {
            problems.push(format!("row {}: values {:?}, recorded {:?}", i + 1, p.values, e.values));
        }
    }
    Ok((examples.len(), problems))
}
