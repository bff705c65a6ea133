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

/// `AttributeProto`, reduced to the fields we read.
#[derive(Clone, PartialEq, prost::Message)]
pub struct AttributeProto {
    /// Attribute name.
    #[prost(string, optional, tag = "1")]
    pub name: Option<String>,
    /// `i`: a single integer.
    #[prost(int64, optional, tag = "3")]
    pub i: Option<i64>,
    /// `floats`.
    #[prost(float, repeated, packed = "false", tag = "7")]
    pub floats: Vec<f32>,
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

/// A copy of the serialized model `bytes` whose graph outputs `add` instead of `remove` (an untyped
/// `ValueInfoProto`; ONNX Runtime infers the type). Used to read a ZipMap's input tensor directly
/// instead of a million `map` values. Works on the wire format, so every other byte — initializers
/// included — is kept exactly. `None` if the bytes are not a model with a graph.
pub fn with_output_replaced(bytes: &[u8], remove: &str, add: &str) -> Option<Vec<u8>> {
    const GRAPH: u64 = 7;
    const GRAPH_OUTPUT: u64 = 12;
    const VALUE_INFO_NAME: u64 = 1;
    let mut out = Vec::with_capacity(bytes.len() + add.len() + 16);
    let mut found = false;
    for f in fields(bytes)? {
        if f.number == GRAPH && f.wire == 2 {
            let mut graph = Vec::with_capacity(f.value.len() + add.len() + 8);
            for g in fields(f.value)? {
                let is_removed = g.number == GRAPH_OUTPUT
                    && g.wire == 2
                    && fields(g.value)?.iter().any(|v| v.number == VALUE_INFO_NAME && v.value == remove.as_bytes());
                if !is_removed {
                    graph.extend_from_slice(g.raw);
                }
            }
            let mut value_info = Vec::new();
            put_bytes_field(&mut value_info, VALUE_INFO_NAME, add.as_bytes());
            put_bytes_field(&mut graph, GRAPH_OUTPUT, &value_info);
            put_bytes_field(&mut out, GRAPH, &graph);
            found = true;
        } else {
            out.extend_from_slice(f.raw);
        }
    }
    found.then_some(out)
}

/// One field of a protobuf message on the wire.
struct Field<'a> {
    number: u64,
    wire: u64,
    /// The payload (for length-delimited fields, without the length).
    value: &'a [u8],
    /// The whole field, key included.
    raw: &'a [u8],
}

/// The fields of a message, or `None` if the bytes are not valid protobuf.
fn fields(bytes: &[u8]) -> Option<Vec<Field<'_>>> {
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < bytes.len() {
        let start = pos;
        let key = read_varint(bytes, &mut pos)?;
        let (number, wire) = (key >> 3, key & 7);
        let value_start = pos;
        let end = match wire {
            0 => {
                read_varint(bytes, &mut pos)?;
                pos
            }
            1 => pos.checked_add(8)?,
            2 => {
                let len = usize::try_from(read_varint(bytes, &mut pos)?).ok()?;
                pos.checked_add(len)?
            }
            5 => pos.checked_add(4)?,
            _ => return None,
        };
        if end > bytes.len() {
            return None;
        }
        let value = if wire == 2 { &bytes[pos..end] } else { &bytes[value_start..end] };
        out.push(Field { number, wire, value, raw: &bytes[start..end] });
        pos = end;
    }
    Some(out)
}

fn read_varint(bytes: &[u8], pos: &mut usize) -> Option<u64> {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let b = *bytes.get(*pos)?;
        *pos += 1;
        value |= u64::from(b & 0x7f) << shift;
        if b < 0x80 {
            return Some(value);
        }
    }
    None
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn put_bytes_field(out: &mut Vec<u8>, field: u64, value: &[u8]) {
    put_varint(out, (field << 3) | 2);
    put_varint(out, value.len() as u64);
    out.extend_from_slice(value);
}

#[cfg(test)]
mod tests {
    use super::*;
    use prost::Message;

    #[test]
    fn replacing_an_output_keeps_everything_else() {
        let model = ModelProto {
            ir_version: Some(8),
            producer_name: Some("p".into()),
            graph: Some(GraphProto { name: Some("g".into()), ..GraphProto::default() }),
            metadata_props: vec![StringStringEntryProto { key: Some("k".into()), value: Some("v".into()) }],
            ..ModelProto::default()
        };
        let mut bytes = model.encode_to_vec();
        let patched = with_output_replaced(&bytes, "maps", "proba").unwrap();
        let decoded = ModelProto::decode(patched.as_slice()).unwrap();
        assert_eq!(decoded, model, "declared fields unchanged");
        assert!(patched.windows(5).any(|w| w == b"proba"));
        // An existing output named "maps" is dropped: graph = name + one output.
        bytes = with_output_replaced(&bytes, "none", "maps").unwrap();
        let twice = with_output_replaced(&bytes, "maps", "proba").unwrap();
        assert_eq!(twice.len(), patched.len());
        assert!(!twice.windows(4).any(|w| w == b"maps"));
        assert!(with_output_replaced(b"\xff\xff", "a", "b").is_none());
    }
}
