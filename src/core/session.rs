//! One ONNX Runtime session of a model, ready to run converted inputs and read its outputs as
//! predictions: the label and per-class probabilities of a classifier (tensor or ZipMap form), or a
//! regressor's values. A [`Session`] can be stopped from another thread, by cancel or by deadline
//! (see [`crate::core::deadline`]); sessions live in a model's pool ([`crate::core::pool`]).

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ort::session::{RunOptions, SessionOutputs};
use ort::value::{DynMapValueType, DynValue, TensorElementType, ValueType};
use polars::prelude::*;
use serde::Serialize;

use super::contract::Binding;
use super::convert::{BatchContext, Findings, InputTensor, convert_batch};
use super::deadline::{Stop, StopReason};
use super::error::{Error, Result};
use super::model::info::{ModelInfo, SessionOptions, Task};
use super::runtime;

/// How long one inference may take before it is stopped, unless a caller says otherwise: far above
/// any sane model on a batch (the samples take milliseconds), short enough that a model whose trees
/// loop cannot hang a job or a server thread for good.
pub const DEFAULT_INFERENCE_TIMEOUT: Duration = Duration::from_secs(60);

/// Predicted labels, in the model's own label type.
#[derive(Debug, Clone, PartialEq)]
pub enum Labels {
    /// Integer class labels.
    Int(Vec<i64>),
    /// Text class labels.
    Str(Vec<String>),
}

impl Labels {
    /// The label of row `i` as text (empty past the end).
    pub fn get(&self, i: usize) -> String {
        match self {
            Self::Int(v) => v.get(i).map(ToString::to_string).unwrap_or_default(),
            Self::Str(v) => v.get(i).cloned().unwrap_or_default(),
        }
    }

    /// How many labels.
    pub fn len(&self) -> usize {
        match self {
            Self::Int(v) => v.len(),
            Self::Str(v) => v.len(),
        }
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
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

    /// Values per row of the probability or value matrix.
    pub fn width(&self) -> usize {
        let matrix = self.probabilities.as_ref().or(self.values.as_ref());
        matrix.map_or(0, |m| m.len().checked_div(self.rows).unwrap_or(0))
    }

    /// Rows `start..end` as a batch of their own (for handing each request its own rows back).
    pub fn slice(&self, start: usize, end: usize) -> Self {
        let end = end.min(self.rows);
        let start = start.min(end);
        let width = self.width();
        let cut = |m: &Vec<f64>| m[start * width..end * width].to_vec();
        Self {
            rows: end - start,
            labels: self.labels.as_ref().map(|l| match l {
                Labels::Int(v) => Labels::Int(v[start..end].to_vec()),
                Labels::Str(v) => Labels::Str(v[start..end].to_vec()),
            }),
            probabilities: self.probabilities.as_ref().map(cut),
            values: self.values.as_ref().map(cut),
            single_precision: self.single_precision,
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
            let width: usize =
                value_outputs.iter().map(|&i| info.outputs.get(i).and_then(|o| o.ty.width()).unwrap_or(1)).sum();
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
        let name = |i: &usize| info.outputs.get(*i).map(|o| o.name.clone()).unwrap_or_default();
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

/// One ONNX Runtime session of a model, ready to run converted inputs. `Session::run` needs
/// `&mut`, so each worker holds its own (from the model's pool).
pub struct Session {
    info: Arc<ModelInfo>,
    session: ort::session::Session,
    fetch: Fetch,
    stop: Arc<Stop>,
}

impl Session {
    /// A session over `session`, for the model `info` describes.
    pub fn new(info: Arc<ModelInfo>, session: ort::session::Session) -> Result<Self> {
        let fetch = Fetch::new(&info);
        let stop = Arc::new(Stop::new(RunOptions::new()?));
        Ok(Self { info, session, fetch, stop })
    }

    /// The model this session runs.
    pub fn info(&self) -> &ModelInfo {
        &self.info
    }

    /// The lever that stops this session's run in flight from another thread.
    pub fn stopper(&self) -> Arc<Stop> {
        Arc::clone(&self.stop)
    }

    /// Run the model on converted inputs, stopping it after `deadline`.
    pub fn run(&mut self, inputs: Vec<InputTensor>, deadline: Duration) -> Result<BatchPredictions> {
        let rows = inputs.first().map_or(0, |t| t.rows);
        let feed: Vec<(String, DynValue)> = inputs.into_iter().map(|t| (t.name, t.value)).collect();
        let armed = self.stop.arm(deadline);
        let outputs = self.session.run_with_options(feed, self.stop.run_options());
        drop(armed);
        let outputs = match (outputs, self.stop.reason()) {
            (Ok(outputs), _) => outputs,
            (Err(_), Some(StopReason::Cancelled)) => {
                self.stop.reset();
                return Err(Error::Cancelled);
            }
            (Err(_), Some(StopReason::Timeout)) => {
                self.stop.reset();
                return Err(Error::Timeout(format!(
                    "inference on {rows} rows took longer than {} and was stopped; the model may be malformed \
                     (e.g. a tree that loops) or too slow for this deadline",
                    format_duration(deadline)
                )));
            }
            (Err(e), None) => return Err(e.into()),
        };
        let read = read_outputs(&self.fetch, &outputs, rows);
        drop(outputs);
        self.stop.reset();
        read
    }

    /// Convert `frame`'s rows through `binding` (stopping at the first bad value, named by its row
    /// and column) and run them.
    pub fn predict_frame(
        &mut self,
        frame: &DataFrame,
        binding: &Binding,
        ctx: &BatchContext,
        deadline: Duration,
    ) -> Result<BatchPredictions> {
        let mut findings = Findings::fail_fast(&self.info);
        let inputs = convert_batch(frame, binding, ctx, &mut findings)?;
        self.run(inputs, deadline)
    }

    /// Predict one row given as column → text value.
    pub fn predict_row(&mut self, row: &BTreeMap<String, String>, binding: &Binding) -> Result<Prediction> {
        let frame = row_frame(row)?;
        let mut findings = Findings::fail_fast(&self.info);
        let inputs = convert_batch(&frame, binding, &BatchContext { file: None, first_row: 0 }, &mut findings)?;
        let start = Instant::now();
        let batch = self.run(inputs, DEFAULT_INFERENCE_TIMEOUT)?;
        let latency_ms = start.elapsed().as_secs_f64() * 1e3;
        Ok(Prediction::from_batch(&self.info, &batch, latency_ms))
    }
}

fn format_duration(d: Duration) -> String {
    if d.as_secs() >= 1 { format!("{} s", d.as_secs_f64()) } else { format!("{} ms", d.as_millis()) }
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

fn row_frame(row: &BTreeMap<String, String>) -> Result<DataFrame> {
    let columns: Vec<Column> = row.iter().map(|(k, v)| Column::new(k.as_str().into(), [v.as_str()])).collect();
    DataFrame::new(1, columns).map_err(|e| Error::internal(format!("cannot build the row: {e}")))
}

fn read_outputs(fetch: &Fetch, outputs: &SessionOutputs<'_>, rows: usize) -> Result<BatchPredictions> {
    let get = |name: &str| {
        outputs.get(name).ok_or_else(|| Error::inference(format!("the model returned no output '{name}'")))
    };
    let mut pred = BatchPredictions { rows, labels: None, probabilities: None, values: None, single_precision: true };
    match fetch {
        Fetch::Classifier { label, probabilities, classes } => {
            if let Some((name, zipmap)) = probabilities {
                let value = get(name)?;
                let probs =
                    if *zipmap { zipmap_probabilities(value, classes)? } else { float_values(value, &mut pred)? };
                // Checked once, here, so every reader of `probabilities` may index `[row * k + class]`.
                if probs.len() != rows * classes.len() {
                    return Err(Error::inference(format!(
                        "the probability output '{name}' has {} values per row but the model names {} classes ({})",
                        probs.len().checked_div(rows).unwrap_or(probs.len()),
                        classes.len(),
                        classes.join(", ")
                    )));
                }
                pred.probabilities = Some(probs);
            }
            pred.labels = match label {
                Some(name) => Some(labels(get(name)?)?),
                None => pred.probabilities.as_ref().map(|p| argmax_labels(p, classes)),
            };
            if let Some(l) = &pred.labels
                && l.len() != rows
            {
                return Err(Error::inference(format!("the model gave {} labels for {rows} rows", l.len())));
            }
        }
        Fetch::Regressor { values } => {
            let mut parts: Vec<(Vec<f64>, usize)> = Vec::new();
            for name in values {
                let v = float_values(get(name)?, &mut pred)?;
                let width = v.len().checked_div(rows).unwrap_or(1);
                if width * rows != v.len() {
                    return Err(Error::inference(format!(
                        "the output '{name}' has {} values, not a whole number per row for {rows} rows",
                        v.len()
                    )));
                }
                parts.push((v, width));
            }
            pred.values = Some(if parts.len() == 1 { parts.remove(0).0 } else { concat_columns(&parts, rows) });
        }
    }
    Ok(pred)
}

/// Row-major concatenation of outputs of `w` values per row each (lengths checked by the caller).
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
        other => Err(Error::inference(format!("expected a float tensor output, got {other}"))),
    }
}

fn labels(value: &DynValue) -> Result<Labels> {
    match value.dtype() {
        ValueType::Tensor { ty: TensorElementType::String, .. } => Ok(Labels::Str(value.try_extract_strings()?.1)),
        ValueType::Tensor { ty: TensorElementType::Int64, .. } => {
            Ok(Labels::Int(value.try_extract_tensor::<i64>()?.1.to_vec()))
        }
        other => Err(Error::inference(format!("expected an int64 or string label output, got {other}"))),
    }
}

fn argmax_labels(probs: &[f64], classes: &[String]) -> Labels {
    let k = classes.len().max(1);
    Labels::Str(
        probs
            .chunks(k)
            .map(|row| {
                let best = (0..row.len()).fold(0, |b, i| if row[i] > row[b] { i } else { b });
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
        let j = *index.get(key).ok_or_else(|| Error::inference(format!("ZipMap has unknown class '{key}'")))?;
        // `row < maps.len()` and `j < k`: in bounds.
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
            other => return Err(Error::inference(format!("unsupported ZipMap element {other}"))),
        }
    }
    Ok(out)
}

/// Open an ONNX Runtime session over a model's bytes. `options.intra_threads` 0 means one per core;
/// idle intra-op threads sleep instead of spinning (scoring runs ONNX Runtime beside the read,
/// convert and write threads, and a spinning worker takes a core they need).
pub fn open_ort_session(bytes: &[u8], options: SessionOptions, path: &Path) -> Result<ort::session::Session> {
    let env = runtime::environment()?;
    let threads = if options.intra_threads == 0 { runtime::cores() } else { options.intra_threads };
    let mut builder = ort::session::Session::builder(env)
        .and_then(|b| b.with_intra_threads(threads).map_err(Into::into))
        .and_then(|b| b.with_intra_op_spinning(false).map_err(Into::into))
        .map_err(|e| Error::model(format!("ONNX Runtime could not prepare a session: {e}"), path))?;
    builder
        .commit_from_memory(bytes)
        .map_err(|e| Error::model_rejected("ONNX Runtime rejected it", e.to_string(), path))
}
