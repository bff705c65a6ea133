//! The Open Inference Protocol's formats that are not HTTP: the V2 datatypes, and what a model
//! answers as V2 tensors: a classifier's label (`INT64` or `BYTES`, `[N]`) and
//! probabilities (`FP32` `[N,k]`, class names in the model's metadata) — even when the model emits
//! them as a ZipMap, which Triton refuses to serve — and a regressor's values, each output in its
//! own shape. The same list describes the outputs in the model metadata.

use serde::Serialize;

use crate::core::error::{Error, Result};
use crate::core::model::info::{Dim, ElemType, IoType, ModelInfo, Task};
use crate::core::session::{BatchPredictions, Labels};

/// The V2 tensor datatypes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Datatype {
    /// `BOOL`.
    Bool,
    /// `UINT8` … `UINT64`.
    UInt(u8),
    /// `INT8` … `INT64`.
    Int(u8),
    /// `FP16`.
    F16,
    /// `FP32`.
    F32,
    /// `FP64`.
    F64,
    /// `BYTES` (text, in JSON).
    Bytes,
}

impl Datatype {
    /// Parse a V2 datatype name.
    pub fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "BOOL" => Self::Bool,
            "UINT8" => Self::UInt(1),
            "UINT16" => Self::UInt(2),
            "UINT32" => Self::UInt(4),
            "UINT64" => Self::UInt(8),
            "INT8" => Self::Int(1),
            "INT16" => Self::Int(2),
            "INT32" => Self::Int(4),
            "INT64" => Self::Int(8),
            "FP16" => Self::F16,
            "FP32" => Self::F32,
            "FP64" => Self::F64,
            "BYTES" => Self::Bytes,
            _ => return None,
        })
    }

    /// Its V2 name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Bool => "BOOL",
            Self::UInt(1) => "UINT8",
            Self::UInt(2) => "UINT16",
            Self::UInt(4) => "UINT32",
            Self::UInt(_) => "UINT64",
            Self::Int(1) => "INT8",
            Self::Int(2) => "INT16",
            Self::Int(4) => "INT32",
            Self::Int(_) => "INT64",
            Self::F16 => "FP16",
            Self::F32 => "FP32",
            Self::F64 => "FP64",
            Self::Bytes => "BYTES",
        }
    }

    /// Bytes per element in binary form (`None` for BYTES, which is length-prefixed).
    pub fn size(self) -> Option<usize> {
        match self {
            Self::Bool => Some(1),
            Self::UInt(n) | Self::Int(n) => Some(usize::from(n)),
            Self::F16 => Some(2),
            Self::F32 => Some(4),
            Self::F64 => Some(8),
            Self::Bytes => None,
        }
    }
}

/// Append BYTES elements in the binary extension's form: a 4-byte little-endian length, then the bytes.
pub fn encode_text(values: &[String], out: &mut Vec<u8>) {
    for v in values {
        out.extend_from_slice(&(v.len() as u32).to_le_bytes());
        out.extend_from_slice(v.as_bytes());
    }
}

/// What one output is made of.
#[derive(Debug, Clone, PartialEq)]
enum Part {
    /// The labels.
    Label,
    /// The probability matrix.
    Probabilities,
    /// Values `offset..offset + width` of each row of the value matrix.
    Values { offset: usize, width: usize, rank: usize },
}

/// One output the server offers for a model.
#[derive(Debug, Clone, PartialEq)]
pub struct OutputSpec {
    /// The model output's name.
    pub name: String,
    /// Its V2 datatype.
    pub datatype: Datatype,
    /// Its shape, -1 for the rows.
    pub shape: Vec<i64>,
    part: Part,
}

fn datatype_of(elem: &ElemType) -> Datatype {
    match elem {
        ElemType::Float64 => Datatype::F64,
        ElemType::Int64 => Datatype::Int(8),
        ElemType::Int32 => Datatype::Int(4),
        ElemType::String => Datatype::Bytes,
        ElemType::Bool => Datatype::Bool,
        ElemType::Float32 | ElemType::Other(_) => Datatype::F32,
    }
}

/// The outputs `info`'s model offers, in its output order.
pub fn output_specs(info: &ModelInfo) -> Vec<OutputSpec> {
    let elem_of = |i: usize| match info.outputs.get(i).map(|o| &o.ty) {
        Some(IoType::Tensor { elem, .. }) => elem.clone(),
        Some(IoType::SequenceOfMaps { value, .. }) => value.clone(),
        _ => ElemType::Float32,
    };
    let name_of = |i: usize| info.outputs.get(i).map(|o| o.name.clone()).unwrap_or_default();
    let mut specs = Vec::new();
    match &info.task {
        Task::Classification { classes, label_output, probability_output, .. } => {
            let label_type = match label_output {
                Some(i) => datatype_of(&elem_of(*i)),
                None => Datatype::Bytes,
            };
            if label_output.is_some() || probability_output.is_some() {
                let name = label_output.map_or_else(|| "label".to_string(), name_of);
                specs.push((
                    label_output.unwrap_or(usize::MAX),
                    OutputSpec { name, datatype: label_type, shape: vec![-1], part: Part::Label },
                ));
            }
            if let Some(i) = probability_output {
                let spec = OutputSpec {
                    name: name_of(*i),
                    datatype: datatype_of(&elem_of(*i)),
                    shape: vec![-1, classes.len() as i64],
                    part: Part::Probabilities,
                };
                specs.push((*i, spec));
            }
        }
        Task::Regression { value_outputs } => {
            let mut offset = 0;
            for &i in value_outputs {
                let (width, rank) = match info.outputs.get(i).map(|o| &o.ty) {
                    Some(t @ IoType::Tensor { shape, .. }) => (t.width().unwrap_or(1), shape.len()),
                    _ => (1, 1),
                };
                let shape = if rank <= 1 { vec![-1] } else { vec![-1, width as i64] };
                let part = Part::Values { offset, width, rank };
                specs.push((i, OutputSpec { name: name_of(i), datatype: datatype_of(&elem_of(i)), shape, part }));
                offset += width;
            }
        }
    }
    specs.sort_by_key(|(i, _)| *i);
    specs.into_iter().map(|(_, s)| s).collect()
}

/// An output tensor's values.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum OutputData {
    /// Integers.
    Int(Vec<i64>),
    /// Single-precision floats (written as such: shortest form that reads back exactly).
    F32(Vec<f32>),
    /// Double-precision floats.
    F64(Vec<f64>),
    /// Text.
    Text(Vec<String>),
}

impl OutputData {
    /// The values in the binary extension's form.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        match self {
            Self::Int(v) => v.iter().for_each(|x| out.extend_from_slice(&x.to_le_bytes())),
            Self::F32(v) => v.iter().for_each(|x| out.extend_from_slice(&x.to_le_bytes())),
            Self::F64(v) => v.iter().for_each(|x| out.extend_from_slice(&x.to_le_bytes())),
            Self::Text(v) => encode_text(v, &mut out),
        }
        out
    }
}

/// One output tensor of a response.
#[derive(Debug, Clone, PartialEq)]
pub struct OutputTensor {
    /// Its name.
    pub name: String,
    /// Its V2 datatype.
    pub datatype: Datatype,
    /// Its shape.
    pub shape: Vec<usize>,
    /// Its values.
    pub data: OutputData,
}

/// The tensor `spec` describes, from `pred`.
pub fn output_tensor(spec: &OutputSpec, pred: &BatchPredictions) -> Result<OutputTensor> {
    let n = pred.rows;
    let floats = |v: Vec<f64>| match spec.datatype {
        Datatype::F64 => OutputData::F64(v),
        _ => OutputData::F32(v.into_iter().map(|x| x as f32).collect()),
    };
    let missing = || Error::internal(format!("the model gave no values for output '{}'", spec.name));
    let (shape, data) = match &spec.part {
        Part::Label => {
            let labels = pred.labels.as_ref().ok_or_else(missing)?;
            let data = match (labels, spec.datatype) {
                (Labels::Int(v), Datatype::Int(_)) => OutputData::Int(v.clone()),
                (Labels::Int(v), _) => OutputData::Text(v.iter().map(ToString::to_string).collect()),
                (Labels::Str(v), _) => OutputData::Text(v.clone()),
            };
            (vec![n], data)
        }
        Part::Probabilities => {
            let p = pred.probabilities.as_ref().ok_or_else(missing)?;
            (vec![n, pred.width()], floats(p.clone()))
        }
        Part::Values { offset, width, rank } => {
            let v = pred.values.as_ref().ok_or_else(missing)?;
            let total = pred.width();
            let mut out = Vec::with_capacity(n * width);
            for r in 0..n {
                let row = v.get(r * total + offset..r * total + offset + width).ok_or_else(missing)?;
                out.extend_from_slice(row);
            }
            (if *rank <= 1 { vec![n] } else { vec![n, *width] }, floats(out))
        }
    };
    let datatype = match &data {
        OutputData::Text(_) => Datatype::Bytes,
        _ => spec.datatype,
    };
    Ok(OutputTensor { name: spec.name.clone(), datatype, shape, data })
}

/// The predictions a V2 response's `outputs` carry for a model whose outputs are `specs` — the
/// inverse of [`output_tensor`], for payload logs of traffic served elsewhere. Each output is
/// `(name, datatype, data)` with `data` flat or nested; outputs the model does not have are
/// ignored, and a missing one leaves its part empty.
pub fn predictions_from_outputs(
    specs: &[OutputSpec],
    outputs: &[(String, String, serde_json::Value)],
) -> Result<BatchPredictions> {
    fn flatten<'v>(v: &'v serde_json::Value, out: &mut Vec<&'v serde_json::Value>) {
        match v {
            serde_json::Value::Array(items) => items.iter().for_each(|i| flatten(i, out)),
            other => out.push(other),
        }
    }
    let mut pred =
        BatchPredictions { rows: 0, labels: None, probabilities: None, values: None, single_precision: false };
    let mut values: Vec<(usize, usize, Vec<f64>)> = Vec::new();
    let mut single = false;
    let mut rows: Option<usize> = None;
    for spec in specs {
        let Some((_, datatype, data)) = outputs.iter().find(|(n, _, _)| *n == spec.name) else { continue };
        let mut flat = Vec::new();
        flatten(data, &mut flat);
        let bad = || Error::Invalid(format!("output '{}' holds a value that is not a {datatype}", spec.name));
        let floats = || -> Result<Vec<f64>> {
            flat.iter().map(|v| v.as_f64().or_else(|| v.is_null().then_some(f64::NAN)).ok_or_else(bad)).collect()
        };
        single |= datatype == "FP32";
        let n = match &spec.part {
            Part::Label => {
                let labels = match Datatype::parse(datatype) {
                    Some(Datatype::Int(_) | Datatype::UInt(_)) => {
                        Labels::Int(flat.iter().map(|v| v.as_i64().ok_or_else(bad)).collect::<Result<_>>()?)
                    }
                    _ => Labels::Str(
                        flat.iter()
                            .map(|v| {
                                v.as_str()
                                    .map(str::to_string)
                                    .or_else(|| v.as_i64().map(|i| i.to_string()))
                                    .ok_or_else(bad)
                            })
                            .collect::<Result<_>>()?,
                    ),
                };
                let n = match &labels {
                    Labels::Int(v) => v.len(),
                    Labels::Str(v) => v.len(),
                };
                pred.labels = Some(labels);
                n
            }
            Part::Probabilities => {
                let k = usize::try_from(spec.shape.get(1).copied().unwrap_or(1)).unwrap_or(1).max(1);
                let p = floats()?;
                let n = p.len() / k;
                pred.probabilities = Some(p);
                n
            }
            Part::Values { offset, width, .. } => {
                let v = floats()?;
                let n = v.len() / (*width).max(1);
                values.push((*offset, *width, v));
                n
            }
        };
        if rows.is_some_and(|r| r != n) {
            return Err(Error::Invalid(format!(
                "output '{}' has {n} rows; the other outputs have {}",
                spec.name,
                rows.unwrap_or(0)
            )));
        }
        rows = Some(n);
    }
    let n = rows.ok_or_else(|| {
        let names: Vec<&str> = specs.iter().map(|s| s.name.as_str()).collect();
        Error::Invalid(format!("the response has none of the model's outputs ({})", names.join(", ")))
    })?;
    if !values.is_empty() {
        let total: usize = values.iter().map(|(_, w, _)| w).sum();
        let mut all = vec![f64::NAN; n * total];
        for (offset, width, v) in &values {
            for r in 0..n {
                for j in 0..*width {
                    all[r * total + offset + j] = v.get(r * width + j).copied().unwrap_or(f64::NAN);
                }
            }
        }
        pred.values = Some(all);
    }
    pred.rows = n;
    pred.single_precision = single;
    Ok(pred)
}

/// A V2 shape for metadata: fixed sizes as they are, anything else -1.
pub fn metadata_shape(shape: &[Dim]) -> Vec<i64> {
    shape.iter().map(|d| if let Dim::Fixed(n) = d { *n } else { -1 }).collect()
}

/// The V2 datatype of a model input.
pub fn input_datatype(elem: &ElemType) -> Datatype {
    datatype_of(elem)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn datatypes_round_trip() {
        for name in [
            "BOOL", "UINT8", "UINT16", "UINT32", "UINT64", "INT8", "INT16", "INT32", "INT64", "FP16", "FP32", "FP64",
            "BYTES",
        ] {
            assert_eq!(Datatype::parse(name).unwrap().as_str(), name);
        }
        assert_eq!(Datatype::parse("fp32"), None);
    }
}
