//! The few parts of the ONNX protobuf (`onnx.proto`, proto2) that ONNX Runtime's API does not expose:
//! IR version, opset imports, `metadata_props`, and node attributes (class labels, categories).
//! Fields we do not declare — initializers, weights — are skipped by the decoder without being copied.

/// `ModelProto`, reduced.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ModelProto {
    /// Field 1.
    #[prost(int64, optional, tag = "1")]
    pub ir_version: Option<i64>,
    /// Field 8.
    #[prost(message, repeated, tag = "8")]
    pub opset_import: Vec<OperatorSetIdProto>,
    /// Field 2.
    #[prost(string, optional, tag = "2")]
    pub producer_name: Option<String>,
    /// Field 3.
    #[prost(string, optional, tag = "3")]
    pub producer_version: Option<String>,
    /// Field 4.
    #[prost(string, optional, tag = "4")]
    pub domain: Option<String>,
    /// Field 5.
    #[prost(int64, optional, tag = "5")]
    pub model_version: Option<i64>,
    /// Field 6.
    #[prost(string, optional, tag = "6")]
    pub doc_string: Option<String>,
    /// Field 7.
    #[prost(message, optional, tag = "7")]
    pub graph: Option<GraphProto>,
    /// Field 14.
    #[prost(message, repeated, tag = "14")]
    pub metadata_props: Vec<StringStringEntryProto>,
}

/// `OperatorSetIdProto`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct OperatorSetIdProto {
    /// Empty means the default `ai.onnx` domain.
    #[prost(string, optional, tag = "1")]
    pub domain: Option<String>,
    /// Opset version.
    #[prost(int64, optional, tag = "2")]
    pub version: Option<i64>,
}

/// `StringStringEntryProto`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct StringStringEntryProto {
    /// Key.
    #[prost(string, optional, tag = "1")]
    pub key: Option<String>,
    /// Value.
    #[prost(string, optional, tag = "2")]
    pub value: Option<String>,
}

/// `GraphProto`, reduced to nodes and names.
#[derive(Clone, PartialEq, prost::Message)]
pub struct GraphProto {
    /// Field 1.
    #[prost(message, repeated, tag = "1")]
    pub node: Vec<NodeProto>,
    /// Field 2.
    #[prost(string, optional, tag = "2")]
    pub name: Option<String>,
    /// Field 10.
    #[prost(string, optional, tag = "10")]
    pub doc_string: Option<String>,
}

/// `NodeProto`, reduced.
#[derive(Clone, PartialEq, prost::Message)]
pub struct NodeProto {
    /// Input value names.
    #[prost(string, repeated, tag = "1")]
    pub input: Vec<String>,
    /// Output value names.
    #[prost(string, repeated, tag = "2")]
    pub output: Vec<String>,
    /// Operator type, e.g. `OneHotEncoder`.
    #[prost(string, optional, tag = "4")]
    pub op_type: Option<String>,
    /// Attributes.
    #[prost(message, repeated, tag = "5")]
    pub attribute: Vec<AttributeProto>,
}

/// `AttributeProto`, reduced to the list-valued fields we read.
#[derive(Clone, PartialEq, prost::Message)]
pub struct AttributeProto {
    /// Attribute name.
    #[prost(string, optional, tag = "1")]
    pub name: Option<String>,
    /// `ints`.
    #[prost(int64, repeated, packed = "false", tag = "8")]
    pub ints: Vec<i64>,
    /// `strings` (bytes in the schema; UTF-8 in practice).
    #[prost(bytes = "vec", repeated, tag = "9")]
    pub strings: Vec<Vec<u8>>,
}

impl NodeProto {
    /// The operator type, or "".
    pub fn op(&self) -> &str {
        self.op_type.as_deref().unwrap_or("")
    }

    /// The attribute called `name`, if present.
    pub fn attr(&self, name: &str) -> Option<&AttributeProto> {
        self.attribute.iter().find(|a| a.name.as_deref() == Some(name))
    }
}

impl AttributeProto {
    /// The `strings` list as text (lossy for non-UTF-8 bytes).
    pub fn string_list(&self) -> Vec<String> {
        self.strings.iter().map(|s| String::from_utf8_lossy(s).into_owned()).collect()
    }
}
