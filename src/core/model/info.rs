//! What is known about a model without running it: its inputs and outputs with their types and
//! shapes, its task (classifier or regressor, classes, ZipMap), and the file's metadata.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

use ort::value::{TensorElementType, ValueType};
use serde::Serialize;

/// Element type of a tensor input or output, as far as Mirador cares.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ElemType {
    /// `tensor(float)`.
    Float32,
    /// `tensor(double)`.
    Float64,
    /// `tensor(int64)`.
    Int64,
    /// `tensor(int32)`.
    Int32,
    /// `tensor(string)`.
    String,
    /// `tensor(bool)`.
    Bool,
    /// Anything else (named as ONNX Runtime names it); data cannot be fed to it.
    Other(std::string::String),
}

impl ElemType {
    /// The element type ONNX Runtime reports.
    pub fn from_ort(t: TensorElementType) -> Self {
        match t {
            TensorElementType::Float32 => Self::Float32,
            TensorElementType::Float64 => Self::Float64,
            TensorElementType::Int64 => Self::Int64,
            TensorElementType::Int32 => Self::Int32,
            TensorElementType::String => Self::String,
            TensorElementType::Bool => Self::Bool,
            other => Self::Other(format!("{other:?}").to_lowercase()),
        }
    }

    /// Whether a missing value can be represented (as NaN).
    pub fn holds_missing(&self) -> bool {
        matches!(self, Self::Float32 | Self::Float64)
    }
}

impl fmt::Display for ElemType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            Self::Float32 => "float32",
            Self::Float64 => "float64",
            Self::Int64 => "int64",
            Self::Int32 => "int32",
            Self::String => "string",
            Self::Bool => "bool",
            Self::Other(name) => name,
        };
        f.write_str(name)
    }
}

/// One dimension of a tensor shape.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(untagged)]
pub enum Dim {
    /// A fixed size.
    Fixed(i64),
    /// A dynamic size, with its symbolic name when the model gives one (e.g. `N`, `batch`).
    Symbolic(String),
}

impl fmt::Display for Dim {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Fixed(n) => write!(f, "{n}"),
            Self::Symbolic(s) if s.is_empty() => f.write_str("?"),
            Self::Symbolic(s) => f.write_str(s),
        }
    }
}

/// The type of one model input or output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum IoType {
    /// A tensor.
    Tensor {
        /// Element type.
        elem: ElemType,
        /// Shape; dynamic dimensions are symbolic.
        shape: Vec<Dim>,
    },
    /// `seq(map(key, value))` — the ZipMap form of classifier probabilities.
    SequenceOfMaps {
        /// Key type (class label type).
        key: ElemType,
        /// Value type (probability).
        value: ElemType,
    },
    /// Any other type, described in ONNX Runtime's words.
    Other {
        /// Description.
        description: String,
    },
}

impl fmt::Display for IoType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Tensor { elem, shape } => {
                let dims: Vec<String> = shape.iter().map(ToString::to_string).collect();
                write!(f, "tensor({elem})[{}]", dims.join(", "))
            }
            Self::SequenceOfMaps { key, value } => write!(f, "seq(map({key}, {value}))"),
            Self::Other { description } => f.write_str(description),
        }
    }
}

impl IoType {
    /// The type ONNX Runtime reports.
    pub fn from_ort(v: &ValueType) -> Self {
        match v {
            ValueType::Tensor { ty, shape, dimension_symbols } => Self::Tensor {
                elem: ElemType::from_ort(*ty),
                shape: shape
                    .iter()
                    .zip(dimension_symbols.iter())
                    .map(|(&d, sym)| if d >= 0 { Dim::Fixed(d) } else { Dim::Symbolic(sym.clone()) })
                    .collect(),
            },
            ValueType::Sequence(inner) => match inner.as_ref() {
                ValueType::Map { key, value } => {
                    Self::SequenceOfMaps { key: ElemType::from_ort(*key), value: ElemType::from_ort(*value) }
                }
                other => Self::Other { description: format!("seq({other})") },
            },
            other => Self::Other { description: other.to_string() },
        }
    }

    /// The feature width of a `[N, k]` tensor: `Some(k)` when fixed, `Some(1)` for `[N]`; `None` when dynamic.
    pub fn width(&self) -> Option<usize> {
        match self {
            Self::Tensor { shape, .. } => match shape.as_slice() {
                [_] => Some(1),
                [_, Dim::Fixed(k)] => usize::try_from(*k).ok(),
                _ => None,
            },
            _ => None,
        }
    }
}

/// A named input or output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct IoSpec {
    /// Name in the graph.
    pub name: String,
    /// Its type.
    #[serde(flatten)]
    pub ty: IoType,
}

/// An opset import.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Opset {
    /// Domain (`ai.onnx` for the default one).
    pub domain: String,
    /// Version.
    pub version: i64,
}

/// What the model predicts, derived from its outputs.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "task", rename_all = "snake_case")]
pub enum Task {
    /// A classifier: a label output plus (usually) per-class probabilities.
    Classification {
        /// Class labels in probability-column order.
        classes: Vec<String>,
        /// Index of the label output, if any.
        label_output: Option<usize>,
        /// Index of the probability output, if any.
        probability_output: Option<usize>,
        /// Whether probabilities come as ZipMap `seq(map)` rather than a tensor.
        zipmap: bool,
        /// For ZipMap models: the probability tensor that feeds the ZipMap. Mirador reads it
        /// directly (same numbers, without building one map per row).
        zipmap_input: Option<String>,
    },
    /// A regressor: every float tensor output is a prediction.
    Regression {
        /// Indices of the value outputs.
        value_outputs: Vec<usize>,
    },
}

/// Everything known about a model file, without running it.
#[derive(Debug, Clone, Serialize)]
pub struct ModelInfo {
    /// File it came from.
    pub path: PathBuf,
    /// File name without extension (e.g. `churn_v1`).
    pub name: String,
    /// File size.
    pub file_size_bytes: u64,
    /// SHA-256 of the file, lowercase hex.
    pub sha256: String,
    /// ONNX IR version.
    pub ir_version: i64,
    /// `producer_name`.
    pub producer_name: String,
    /// `producer_version`.
    pub producer_version: String,
    /// `domain`.
    pub domain: String,
    /// `model_version`.
    pub model_version: i64,
    /// `doc_string`.
    pub doc_string: String,
    /// Graph name.
    pub graph_name: String,
    /// Opset imports.
    pub opsets: Vec<Opset>,
    /// All `metadata_props`, sorted by key.
    pub metadata: BTreeMap<String, String>,
    /// Inputs, in graph order.
    pub inputs: Vec<IoSpec>,
    /// Outputs, in graph order.
    pub outputs: Vec<IoSpec>,
    /// What the outputs mean.
    pub task: Task,
    /// Categories each string input was trained on, when the model says (its `OneHotEncoder`s or
    /// the `categories` metadata entry).
    pub known_categories: BTreeMap<String, Vec<String>>,
}

/// Options for the ONNX Runtime sessions Mirador creates.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SessionOptions {
    /// Intra-op threads; 0 means one per available core.
    pub intra_threads: usize,
}
