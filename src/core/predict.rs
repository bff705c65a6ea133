//! Running a model on converted inputs and reading its outputs as predictions: the label and
//! per-class probabilities of a classifier (tensor or ZipMap form), or a regressor's values.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Instant;

use ort::session::{RunOptions, Session, SessionOutputs};
use ort::value::{DynMapValueType, DynValue, TensorElementType, ValueType};
use polars::prelude::*;
use serde::Serialize;

use super::contract::{Binding, ColumnMapping, plan_binding};
use super::convert::{BatchContext, Findings, InputTensor, convert_batch};
use super::error::{Error, Result};
use super::model::{Model, ModelInfo, SessionOptions, Task};

/// Predicted labels, in the model's own label type.
#[derive(Debug, Clone, PartialEq)]
pub enum Labels {
    /// Integer class labels.
    Int(Vec<i64>),
    /// Text class labels.
    Str(Vec<String>),
}

impl Labels {
    /// The label of row `i` as text.
    pub fn get(&self, i: usize) -> String {
        match self {
            Self::Int(v) => v[i].to_string(),
            Self::Str(v) => v[i].clone(),
        }
    }
}

/// Predictions for a batch of rows.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchPredictions {
    /// Number of rows.
    pub rows: usize,
    /// Classifier labels.
    pub labels: Option<Labels>,
    /// Row-major `[rows, classes]` probabilities (classifiers).
    pub probabilities: Option<Vec<f64>>,
    /// Row-major `[rows, width]` values (regressors).
    pub values: Option<Vec<f64>>,
    /// Whether the model computed in float32 (outputs are then written as float32, exactly).
    pub single_precision: bool,
}

impl BatchPredictions {
    /// Append `other`'s rows after this batch's.
    pub fn append(&mut self, other: Self) {
        self.rows += other.rows;
        self.single_precision &= other.single_precision;
        match (&mut self.labels, other.labels) {
            (Some(Labels::Int(a)), Some(Labels::Int(b))) => a.extend(b),
            (Some(Labels::Str(a)), Some(Labels::Str(b))) => a.extend(b),
            _ => {}
        }
        if let (Some(a), Some(b)) = (&mut self.probabilities, other.probabilities) {
            a.extend(b);
        }
        if let (Some(a), Some(b)) = (&mut self.values, other.values) {
            a.extend(b);
        }
    }
}

/// The output columns Mirador writes for a model: `label` and `p_<class>` for classifiers,
/// `prediction` (or `prediction_<i>` when there are several values) for regressors.
pub fn output_columns(info: &ModelInfo) -> Vec<String> {
    match &info.task {
        Task::Classification { classes, label_output, probability_output, .. } => {
            let mut cols = Vec::new();
            if label_output.is_some() || probability_output.is_some() {
                cols.push("label".to_string());
            }
            if probability_output.is_some() {
                cols.extend(classes.iter().map(|c| format!("p_{c}")));
            }
            cols
        }
        Task::Regression { value_outputs } => {
            let width: usize = value_outputs.iter().map(|&i| info.outputs[i].ty.width().unwrap_or(1)).sum();
            if width == 1 { vec!["prediction".into()] } else { (0..width).map(|i| format!("prediction_{i}")).collect() }
        }
    }
}

/// The outputs a prediction is read from, by name.
#[derive(Debug, Clone)]
enum Fetch {
    Classifier { label: Option<String>, probabilities: Option<(String, bool)>, classes: Vec<String> },
    Regressor { values: Vec<String> },
}

impl Fetch {
    fn new(info: &ModelInfo) -> Self {
        let name = |i: &usize| info.outputs[*i].name.clone();
        match &info.task {
            Task::Classification { classes, label_output, probability_output, zipmap, zipmap_input } => {
                // A ZipMap's input tensor holds the same numbers as its maps, in class order.
                let probabilities = match (zipmap_input, probability_output) {
                    (Some(tensor), _) => Some((tensor.clone(), false)),
                    (None, Some(i)) => Some((name(i), *zipmap)),
                    (None, None) => None,
                };
                Self::Classifier { label: label_output.as_ref().map(name), probabilities, classes: classes.clone() }
            }
            Task::Regression { value_outputs } => Self::Regressor { values: value_outputs.iter().map(name).collect() },
        }
    }
}

/// An ONNX Runtime session bound to a model and a column binding, ready to score batches.
pub struct Predictor {
    model: Model,
    session: Session,
    binding: Binding,
    fetch: Fetch,
    run_options: Arc<RunOptions>,
}

impl Predictor {
    /// A predictor for `model` fed through `binding`.
    pub fn new(model: &Model, binding: Binding, options: SessionOptions) -> Result<Self> {
        let session = model.session(options)?;
        let fetch = Fetch::new(model.info());
        let run_options = Arc::new(RunOptions::new()?);
        Ok(Self { model: model.clone(), session, binding, fetch, run_options })
    }

    /// The binding in use.
    pub fn binding(&self) -> &Binding {
        &self.binding
    }

    /// A handle that stops an inference in flight from another thread (`terminate()`).
    pub fn terminator(&self) -> Arc<RunOptions> {
        Arc::clone(&self.run_options)
    }

    /// Run the model on converted inputs.
    pub fn run(&mut self, inputs: Vec<InputTensor>) -> Result<BatchPredictions> {
        let rows = inputs.first().map_or(0, |t| t.rows);
        let feed: Vec<(String, DynValue)> = inputs.into_iter().map(|t| (t.name, t.value)).collect();
        let outputs = self.session.run_with_options(feed, &self.run_options).map_err(|e| {
            if e.to_string().contains("terminate") { Error::Cancelled } else { Error::Inference(e.to_string()) }
        })?;
        read_outputs(&self.fetch, &outputs, rows)
    }

    /// Predict one row given as column → text value (missing columns are an error).
    pub fn predict_row(&mut self, row: &BTreeMap<String, String>) -> Result<Prediction> {
        let frame = row_frame(row)?;
        let mut findings = Findings::fail_fast(self.model.info());
        let inputs = convert_batch(&frame, &self.binding, &BatchContext { file: None, first_row: 0 }, &mut findings)?;
        let start = Instant::now();
        let batch = self.run(inputs)?;
        let latency_ms = start.elapsed().as_secs_f64() * 1e3;
        Ok(Prediction::from_batch(self.model.info(), &batch, latency_ms))
    }
}

/// One row's prediction.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Prediction {
    /// Predicted class (classifiers).
    pub label: Option<String>,
    /// (class, probability) pairs in class order (classifiers).
    pub probabilities: Vec<(String, f64)>,
    /// Predicted values (regressors).
    pub values: Vec<f64>,
    /// Time spent in ONNX Runtime, milliseconds.
    pub latency_ms: f64,
}

impl Prediction {
    fn from_batch(info: &ModelInfo, batch: &BatchPredictions, latency_ms: f64) -> Self {
        let classes = match &info.task {
            Task::Classification { classes, .. } => classes.clone(),
            Task::Regression { .. } => Vec::new(),
        };
        let probabilities = batch
            .probabilities
            .as_ref()
            .map(|p| classes.iter().cloned().zip(p.iter().take(classes.len()).copied()).collect())
            .unwrap_or_default();
        Self {
            label: batch.labels.as_ref().map(|l| l.get(0)),
            probabilities,
            values: batch.values.clone().unwrap_or_default(),
            latency_ms,
        }
    }
}

/// Predict a single row with a fresh session: values by column name, as text.
pub fn predict_one(model: &Model, row: &BTreeMap<String, String>, mapping: &ColumnMapping) -> Result<Prediction> {
    let columns: Vec<String> = row.keys().cloned().collect();
    let (binding, problems) = plan_binding(model.info(), &columns, mapping, &[]);
    let binding = binding.ok_or_else(|| {
        let reasons: Vec<String> = problems.iter().map(|p| p.message.clone()).collect();
        Error::Invalid(format!("cannot build the model's inputs from these values: {}", reasons.join("; ")))
    })?;
    Predictor::new(model, binding, SessionOptions { intra_threads: 1 })?.predict_row(row)
}

fn row_frame(row: &BTreeMap<String, String>) -> Result<DataFrame> {
    let columns: Vec<Column> = row.iter().map(|(k, v)| Column::new(k.as_str().into(), [v.as_str()])).collect();
    DataFrame::new(1, columns).map_err(|e| Error::Invalid(e.to_string()))
}

fn read_outputs(fetch: &Fetch, outputs: &SessionOutputs<'_>, rows: usize) -> Result<BatchPredictions> {
    let get = |name: &str| {
        outputs.get(name).ok_or_else(|| Error::Inference(format!("the model returned no output '{name}'")))
    };
    let mut pred = BatchPredictions { rows, labels: None, probabilities: None, values: None, single_precision: true };
    match fetch {
        Fetch::Classifier { label, probabilities, classes } => {
            if let Some((name, zipmap)) = probabilities {
                let value = get(name)?;
                let probs =
                    if *zipmap { zipmap_probabilities(value, classes)? } else { float_values(value, &mut pred)? };
                pred.probabilities = Some(probs);
            }
            pred.labels = match label {
                Some(name) => Some(labels(get(name)?)?),
                None => pred.probabilities.as_ref().map(|p| argmax_labels(p, classes)),
            };
        }
        Fetch::Regressor { values } => {
            let mut parts: Vec<(Vec<f64>, usize)> = Vec::new();
            for name in values {
                let v = float_values(get(name)?, &mut pred)?;
                let width = v.len().checked_div(rows).unwrap_or(1);
                parts.push((v, width));
            }
            pred.values = Some(if parts.len() == 1 { parts.remove(0).0 } else { concat_columns(&parts, rows) });
        }
    }
    Ok(pred)
}

fn concat_columns(parts: &[(Vec<f64>, usize)], rows: usize) -> Vec<f64> {
    let mut out = Vec::new();
    for r in 0..rows {
        for (v, w) in parts {
            out.extend_from_slice(&v[r * w..(r + 1) * w]);
        }
    }
    out
}

fn float_values(value: &DynValue, pred: &mut BatchPredictions) -> Result<Vec<f64>> {
    match value.dtype() {
        ValueType::Tensor { ty: TensorElementType::Float32, .. } => {
            let (_, data) = value.try_extract_tensor::<f32>()?;
            Ok(data.iter().map(|&x| f64::from(x)).collect())
        }
        ValueType::Tensor { ty: TensorElementType::Float64, .. } => {
            pred.single_precision = false;
            Ok(value.try_extract_tensor::<f64>()?.1.to_vec())
        }
        other => Err(Error::Inference(format!("expected a float tensor output, got {other}"))),
    }
}

fn labels(value: &DynValue) -> Result<Labels> {
    match value.dtype() {
        ValueType::Tensor { ty: TensorElementType::String, .. } => Ok(Labels::Str(value.try_extract_strings()?.1)),
        ValueType::Tensor { ty: TensorElementType::Int64, .. } => {
            Ok(Labels::Int(value.try_extract_tensor::<i64>()?.1.to_vec()))
        }
        other => Err(Error::Inference(format!("expected an int64 or string label output, got {other}"))),
    }
}

fn argmax_labels(probs: &[f64], classes: &[String]) -> Labels {
    let k = classes.len().max(1);
    Labels::Str(
        probs
            .chunks(k)
            .map(|row| {
                let best = row.iter().enumerate().fold(0, |b, (i, &p)| if p > row[b] { i } else { b });
                classes.get(best).cloned().unwrap_or_default()
            })
            .collect(),
    )
}

/// ZipMap output: one `{class: probability}` map per row, laid out in `classes` order.
fn zipmap_probabilities(value: &DynValue, classes: &[String]) -> Result<Vec<f64>> {
    let index: HashMap<&str, usize> = classes.iter().enumerate().map(|(i, c)| (c.as_str(), i)).collect();
    let maps = value.try_extract_sequence::<DynMapValueType>()?;
    let k = classes.len();
    let mut out = vec![f64::NAN; maps.len() * k];
    let mut put = |row: usize, key: &str, p: f64| -> Result<()> {
        let j = *index.get(key).ok_or_else(|| Error::Inference(format!("ZipMap has unknown class '{key}'")))?;
        out[row * k + j] = p;
        Ok(())
    };
    for (row, map) in maps.iter().enumerate() {
        match map.dtype() {
            ValueType::Map { key: TensorElementType::Int64, .. } => {
                for (key, p) in map.try_extract_key_values::<i64, f32>()? {
                    put(row, &key.to_string(), f64::from(p))?;
                }
            }
            ValueType::Map { key: TensorElementType::String, .. } => {
                for (key, p) in map.try_extract_key_values::<String, f32>()? {
                    put(row, &key, f64::from(p))?;
                }
            }
            other => return Err(Error::Inference(format!("unsupported ZipMap element {other}"))),
        }
    }
    Ok(out)
}
