//! Loading an ONNX model: its metadata, its input/output contract, and what its outputs mean.
//!
//! ONNX Runtime is the authority on inputs and outputs (it loads the graph); the protobuf is read
//! alongside for what ORT does not expose (IR version, opsets, `metadata_props`, class labels, the
//! categories a `OneHotEncoder` knows).

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use ort::session::Session;
use ort::value::{TensorElementType, ValueType};
use prost::Message;
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::error::{Error, Result};
use super::onnx_proto::{self, GraphProto, ModelProto};
use super::runtime;

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
    fn from_ort(t: TensorElementType) -> Self {
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
    fn from_ort(v: &ValueType) -> Self {
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

/// A loaded model: its description plus the bytes sessions are created from.
#[derive(Clone)]
pub struct Model {
    info: Arc<ModelInfo>,
    /// The model as sessions see it: the file's bytes, or for ZipMap models the same graph with the
    /// ZipMap's input tensor added as an output.
    session_bytes: Arc<[u8]>,
}

/// Options for the ONNX Runtime sessions Mirador creates.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SessionOptions {
    /// Intra-op threads; 0 means one per available core.
    pub intra_threads: usize,
}

impl Model {
    /// Load and describe the model at `path`.
    pub fn load(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let bytes: Arc<[u8]> = std::fs::read(path).map_err(|e| Error::io("read the model", path, e))?.into();
        if bytes.is_empty() {
            return Err(Error::model("the file is empty", path));
        }
        let proto =
            ModelProto::decode(&*bytes).map_err(|e| Error::model(format!("not an ONNX protobuf ({e})"), path))?;
        if proto.graph.is_none() {
            return Err(Error::model("the file has no graph", path));
        }
        let session = build_session(&bytes, SessionOptions { intra_threads: 1 }, path)?;
        let info = describe(path, &bytes, &proto, &session)?;
        let session_bytes = match &info.task {
            Task::Classification { zipmap_input: Some(tensor), probability_output: Some(i), .. } => {
                onnx_proto::with_output_replaced(&bytes, &info.outputs[*i].name, tensor).map_or(bytes, Arc::from)
            }
            _ => bytes,
        };
        Ok(Self { info: Arc::new(info), session_bytes })
    }

    /// The model's description.
    pub fn info(&self) -> &ModelInfo {
        &self.info
    }

    /// Write ONNX Runtime's offline-optimised copy of the model file (extended graph optimisations:
    /// constant folding, node fusions; portable across CPUs, unlike the layout-specific level).
    pub fn save_optimized(&self, path: &Path) -> Result<()> {
        let env = runtime::environment()?;
        let bytes = std::fs::read(&self.info.path).map_err(|e| Error::io("read the model", &self.info.path, e))?;
        let fail = |e: String| Error::model(format!("ONNX Runtime could not optimise it: {e}"), &self.info.path);
        let builder = Session::builder(env)
            .map_err(|e| fail(e.to_string()))?
            .with_optimization_level(ort::session::builder::GraphOptimizationLevel::Level2)
            .map_err(|e| fail(e.to_string()))?;
        builder
            .with_optimized_model_path(path)
            .map_err(|e| fail(e.to_string()))?
            .commit_from_memory(&bytes)
            .map_err(|e| fail(e.to_string()))?;
        Ok(())
    }

    /// A new ONNX Runtime session for this model (one per worker: `Session::run` needs `&mut`).
    pub fn session(&self, options: SessionOptions) -> Result<Session> {
        build_session(&self.session_bytes, options, &self.info.path)
    }
}

/// The cores this process may use (at least one): the default for thread and worker counts.
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZero::get)
}

fn build_session(bytes: &[u8], options: SessionOptions, path: &Path) -> Result<Session> {
    let env = runtime::environment()?;
    let threads = if options.intra_threads == 0 { cores() } else { options.intra_threads };
    let mut builder = Session::builder(env)
        .and_then(|b| b.with_intra_threads(threads).map_err(Into::into))
        // Idle intra-op threads sleep instead of spinning: scoring runs ONNX Runtime beside the
        // read, convert and write threads, and a spinning worker takes a core they need.
        .and_then(|b| b.with_intra_op_spinning(false).map_err(Into::into))
        .map_err(|e| Error::model(format!("ONNX Runtime could not prepare a session: {e}"), path))?;
    builder.commit_from_memory(bytes).map_err(|e| Error::model(format!("ONNX Runtime rejected it: {e}"), path))
}

fn describe(path: &Path, bytes: &[u8], proto: &ModelProto, session: &Session) -> Result<ModelInfo> {
    let inputs: Vec<IoSpec> = session
        .inputs()
        .iter()
        .map(|o| IoSpec { name: o.name().to_string(), ty: IoType::from_ort(o.dtype()) })
        .collect();
    let outputs: Vec<IoSpec> = session
        .outputs()
        .iter()
        .map(|o| IoSpec { name: o.name().to_string(), ty: IoType::from_ort(o.dtype()) })
        .collect();
    if inputs.is_empty() {
        return Err(Error::model("it has no inputs, so no data can be fed to it", path));
    }
    let metadata: BTreeMap<String, String> = proto
        .metadata_props
        .iter()
        .map(|p| (p.key.clone().unwrap_or_default(), p.value.clone().unwrap_or_default()))
        .collect();
    let graph = proto.graph.clone().unwrap_or_default();
    let task = infer_task(&outputs, &graph, &metadata)
        .ok_or_else(|| Error::model("none of its outputs is a tensor Mirador can read as a prediction", path))?;
    Ok(ModelInfo {
        path: path.to_path_buf(),
        name: path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default(),
        file_size_bytes: bytes.len() as u64,
        sha256: hex(&Sha256::digest(bytes)),
        ir_version: proto.ir_version.unwrap_or_default(),
        producer_name: proto.producer_name.clone().unwrap_or_default(),
        producer_version: proto.producer_version.clone().unwrap_or_default(),
        domain: proto.domain.clone().unwrap_or_default(),
        model_version: proto.model_version.unwrap_or_default(),
        doc_string: proto.doc_string.clone().unwrap_or_default(),
        graph_name: graph.name.clone().unwrap_or_default(),
        opsets: proto
            .opset_import
            .iter()
            .map(|o| Opset {
                domain: o.domain.clone().filter(|d| !d.is_empty()).unwrap_or_else(|| "ai.onnx".into()),
                version: o.version.unwrap_or_default(),
            })
            .collect(),
        known_categories: known_categories(&inputs, &graph, &metadata),
        metadata,
        inputs,
        outputs,
        task,
    })
}

/// Lowercase hex of a digest.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Classifier when there is a label-like output (int64/string tensor) or ZipMap probabilities, or a
/// float `[N, C]` output and class names in the metadata; otherwise a regressor over float outputs.
fn infer_task(outputs: &[IoSpec], graph: &GraphProto, metadata: &BTreeMap<String, String>) -> Option<Task> {
    let is_label = |t: &IoType| matches!(t, IoType::Tensor { elem: ElemType::Int64 | ElemType::String, shape } if shape.len() <= 2);
    let is_float = |t: &IoType| matches!(t, IoType::Tensor { elem: ElemType::Float32 | ElemType::Float64, .. });
    let label_output = outputs.iter().position(|o| is_label(&o.ty));
    let zipmap_output = outputs.iter().position(|o| matches!(o.ty, IoType::SequenceOfMaps { .. }));
    let float_output = outputs.iter().position(|o| is_float(&o.ty));
    let metadata_classes: Option<Vec<String>> = metadata
        .get("class_names")
        .map(|s| s.split(',').map(|c| c.trim().to_string()).filter(|c| !c.is_empty()).collect());

    if label_output.is_some() || zipmap_output.is_some() || metadata_classes.is_some() {
        let probability_output = zipmap_output.or(float_output);
        let width = probability_output.and_then(|i| outputs[i].ty.width());
        let classes = graph_class_labels(graph)
            .or(metadata_classes)
            .or_else(|| width.map(|w| (0..w).map(|i| i.to_string()).collect()))
            .unwrap_or_default();
        let zipmap_input = zipmap_output
            .and_then(|_| graph.node.iter().find(|n| n.op() == "ZipMap").and_then(|n| n.input.first().cloned()));
        return Some(Task::Classification {
            classes,
            label_output,
            probability_output,
            zipmap: zipmap_output.is_some(),
            zipmap_input,
        });
    }
    let value_outputs: Vec<usize> =
        outputs.iter().enumerate().filter(|(_, o)| is_float(&o.ty)).map(|(i, _)| i).collect();
    (!value_outputs.is_empty()).then_some(Task::Regression { value_outputs })
}

/// Class labels from classifier or ZipMap node attributes (`classlabels_strings` / `_int64s` / `_ints`).
fn graph_class_labels(graph: &GraphProto) -> Option<Vec<String>> {
    graph.node.iter().find_map(|node| {
        if let Some(a) = node.attr("classlabels_strings").filter(|a| !a.strings.is_empty()) {
            return Some(a.string_list());
        }
        ["classlabels_int64s", "classlabels_ints"]
            .iter()
            .find_map(|name| node.attr(name).filter(|a| !a.ints.is_empty()))
            .map(|a| a.ints.iter().map(ToString::to_string).collect())
    })
}

/// Categories per input: the `categories` metadata entry (a JSON object of lists) wins; otherwise a
/// `OneHotEncoder` reading the input directly (or through `Identity`/`Cast`) tells its `cats_*`.
fn known_categories(
    inputs: &[IoSpec],
    graph: &GraphProto,
    metadata: &BTreeMap<String, String>,
) -> BTreeMap<String, Vec<String>> {
    let mut known = BTreeMap::new();
    for input in inputs {
        let mut names = vec![input.name.clone()];
        for node in &graph.node {
            if matches!(node.op(), "Identity" | "Cast") && node.input.iter().any(|i| names.contains(i)) {
                names.extend(node.output.iter().cloned());
            }
        }
        let found = graph
            .node
            .iter()
            .filter(|n| n.op() == "OneHotEncoder" && n.input.iter().any(|i| names.contains(i)))
            .find_map(|n| {
                n.attr("cats_strings")
                    .filter(|a| !a.strings.is_empty())
                    .map(super::onnx_proto::AttributeProto::string_list)
                    .or_else(|| n.attr("cats_int64s").map(|a| a.ints.iter().map(ToString::to_string).collect()))
            });
        if let Some(cats) = found {
            known.insert(input.name.clone(), cats);
        }
    }
    if let Some(json) = metadata.get("categories")
        && let Ok(map) = serde_json::from_str::<BTreeMap<String, Vec<serde_json::Value>>>(json)
    {
        for (column, values) in map {
            let values = values.iter().map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string)).collect();
            known.insert(column, values);
        }
    }
    known
}
