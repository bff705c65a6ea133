//! Loading an ONNX model: its metadata, its input/output contract, and what its outputs mean.
//!
//! ONNX Runtime is the authority on inputs and outputs (it loads the graph); the protobuf is read
//! alongside for what ORT does not expose (IR version, opsets, `metadata_props`, class labels, the
//! categories a `OneHotEncoder` knows).

pub mod info;
pub mod validate;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use prost::Message;
use sha2::{Digest, Sha256};

use crate::core::error::{Error, Result};
use crate::core::onnx_proto::{self, GraphProto, ModelProto};
use crate::core::pool::SessionPool;
use crate::core::runtime;
use crate::core::session::open_ort_session;
pub use info::{Dim, ElemType, IoSpec, IoType, ModelInfo, Opset, SessionOptions, Task};

/// A loaded model: its description, and its pool of ready ONNX Runtime sessions (every clone of a
/// `Model` shares them).
#[derive(Clone)]
pub struct Model {
    info: Arc<ModelInfo>,
    pool: Arc<SessionPool>,
}

impl Model {
    /// Load and describe the model at `path`. The graph's tree ensembles are checked first (see
    /// [`validate`]): ONNX Runtime would run a tree that loops for ever.
    pub fn load(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let bytes: Arc<[u8]> = std::fs::read(path).map_err(|e| Error::io("read the model", path, e))?.into();
        Self::from_bytes(path, bytes)
    }

    /// Load and describe a model whose file `path` holds `bytes` (already read and, where the
    /// caller needs it, checked against a hash).
    pub fn from_bytes(path: &Path, bytes: Arc<[u8]>) -> Result<Self> {
        if bytes.is_empty() {
            return Err(Error::model("the file is empty", path));
        }
        let proto =
            ModelProto::decode(&*bytes).map_err(|e| Error::model(format!("not an ONNX protobuf ({e})"), path))?;
        let Some(graph) = &proto.graph else {
            return Err(Error::model("the file has no graph", path));
        };
        validate::check_graph(graph).map_err(|reason| Error::model(reason, path))?;
        let session = open_ort_session(&bytes, SessionOptions { intra_threads: 1 }, path)?;
        let info = Arc::new(describe(path, &bytes, &proto, &session)?);
        let replaced = match &info.task {
            Task::Classification { zipmap_input: Some(tensor), probability_output: Some(i), .. } => info
                .outputs
                .get(*i)
                .and_then(|o| onnx_proto::with_output_replaced(&bytes, &o.name, tensor))
                .map(Arc::from),
            _ => None,
        };
        let pool = match replaced {
            Some(session_bytes) => SessionPool::new(Arc::clone(&info), session_bytes, None),
            // The session that described the model is the pool's first.
            None => SessionPool::new(Arc::clone(&info), bytes, Some(session)),
        }?;
        Ok(Self { info, pool: Arc::new(pool) })
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
        let builder = ort::session::Session::builder(env)
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

    /// The model's pool of ready sessions (bounded; see [`SessionPool`]).
    pub fn pool(&self) -> &Arc<SessionPool> {
        &self.pool
    }

    /// A new ONNX Runtime session outside the pool, with its own thread settings (benchmarks
    /// measuring ONNX Runtime alone).
    pub fn ort_session(&self, options: SessionOptions) -> Result<ort::session::Session> {
        open_ort_session(self.pool.session_bytes(), options, &self.info.path)
    }
}

fn describe(path: &Path, bytes: &[u8], proto: &ModelProto, session: &ort::session::Session) -> Result<ModelInfo> {
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
        opsets: opsets(proto),
        known_categories: known_categories(&inputs, &graph, &metadata),
        metadata,
        inputs,
        outputs,
        task,
    })
}

/// The opset imports, one per domain: "" and "ai.onnx" are the same domain, and a domain imported
/// twice is listed once, at its highest version.
fn opsets(proto: &ModelProto) -> Vec<Opset> {
    let mut out: Vec<Opset> = Vec::new();
    for o in &proto.opset_import {
        let domain = o.domain.clone().filter(|d| !d.is_empty()).unwrap_or_else(|| "ai.onnx".into());
        let version = o.version.unwrap_or_default();
        match out.iter_mut().find(|x| x.domain == domain) {
            Some(x) => x.version = x.version.max(version),
            None => out.push(Opset { domain, version }),
        }
    }
    out
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
