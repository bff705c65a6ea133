//! The Open Inference Protocol's (KServe V2) JSON as it arrives and leaves: the request, read once
//! with each input's `data` kept raw until its datatype and shape are known; the V2 datatypes; and
//! the bare `NaN` / `Infinity` tokens that Python JSON encoders (Triton's client among them) write
//! for missing and infinite floats, which strict JSON parsers refuse.

use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use crate::core::error::{Error, Result};

/// A V2 inference request (`POST /v2/models/{m}/infer`).
#[derive(Debug, Deserialize)]
pub struct InferRequest<'a> {
    /// The client's id, echoed in the response.
    #[serde(default)]
    pub id: Option<String>,
    /// Request parameters (`binary_data_output`, …).
    #[serde(default)]
    pub parameters: Option<Map<String, Value>>,
    /// The input tensors.
    #[serde(borrow)]
    pub inputs: Vec<RequestInput<'a>>,
    /// The outputs wanted (all when absent).
    #[serde(default)]
    pub outputs: Option<Vec<RequestOutput>>,
}

/// One input tensor of a request.
#[derive(Debug, Deserialize)]
pub struct RequestInput<'a> {
    /// The model input's name, or a data column's name (column form).
    pub name: String,
    /// Its shape; the first dimension is the rows.
    pub shape: Vec<i64>,
    /// Its V2 datatype (`FP32`, `INT64`, `BYTES`, …).
    pub datatype: String,
    /// Input parameters (`binary_data_size`, `content_type`, …).
    #[serde(default)]
    pub parameters: Option<Map<String, Value>>,
    /// The values, nested or flat, row-major; absent when they come as binary data.
    #[serde(default, borrow)]
    pub data: Option<&'a RawValue>,
}

/// One output a request asks for.
#[derive(Debug, Deserialize)]
pub struct RequestOutput {
    /// The output's name.
    pub name: String,
    /// Output parameters (`binary_data`, …).
    #[serde(default)]
    pub parameters: Option<Map<String, Value>>,
}

/// A parameter that is `true` (the binary extension's flags).
pub fn flag(parameters: Option<&Map<String, Value>>, key: &str) -> bool {
    parameters.and_then(|p| p.get(key)).and_then(Value::as_bool).unwrap_or(false)
}

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

/// What a sentinel string stands for, after [`rewrite_non_finite`].
pub const NAN_TOKEN: &str = "\u{0}NaN";
/// `Infinity`, rewritten.
pub const INF_TOKEN: &str = "\u{0}Infinity";
/// `-Infinity`, rewritten.
pub const NEG_INF_TOKEN: &str = "\u{0}-Infinity";

/// Replace the bare `NaN`, `Infinity` and `-Infinity` tokens outside strings by sentinel strings
/// (a NUL byte cannot be in a client's own JSON string unescaped, so they cannot collide), so that
/// a strict JSON parser reads the body. Returns `None` when the body has none (the usual case,
/// found without copying).
pub fn rewrite_non_finite(body: &[u8]) -> Option<Vec<u8>> {
    if memchr::memmem::find(body, b"NaN").is_none() && memchr::memmem::find(body, b"Infinity").is_none() {
        return None;
    }
    let mut out = Vec::with_capacity(body.len() + 64);
    let mut in_string = false;
    let mut escaped = false;
    let mut i = 0;
    let mut changed = false;
    while i < body.len() {
        let b = body[i];
        if in_string {
            out.push(b);
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            i += 1;
            continue;
        }
        let rest = &body[i..];
        let token = [(&b"NaN"[..], NAN_TOKEN), (b"Infinity", INF_TOKEN), (b"-Infinity", NEG_INF_TOKEN)]
            .into_iter()
            .find(|(t, _)| rest.starts_with(t));
        if let Some((t, sentinel)) = token {
            out.push(b'"');
            out.extend_from_slice(b"\\u0000");
            out.extend_from_slice(&sentinel.as_bytes()[1..]);
            out.push(b'"');
            i += t.len();
            changed = true;
            continue;
        }
        if b == b'"' {
            in_string = true;
        }
        out.push(b);
        i += 1;
    }
    changed.then_some(out)
}

/// Read a V2 request from `json`, saying what is wrong in the client's terms when it cannot be read.
pub fn parse_request(json: &[u8]) -> Result<InferRequest<'_>> {
    serde_json::from_slice(json).map_err(|e| {
        use serde_json::error::Category;
        match e.classify() {
            Category::Syntax | Category::Eof => Error::Invalid(format!("the request body is not valid JSON: {e}")),
            Category::Io => Error::Invalid(format!("the request body could not be read: {e}")),
            Category::Data => Error::Invalid(format!("the request does not follow the V2 inference format: {e}")),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_finite_tokens_become_sentinels_outside_strings_only() {
        let body = br#"{"a":[NaN, Infinity, -Infinity, 1.5], "s":"NaN \" Infinity"}"#;
        let out = rewrite_non_finite(body).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["a"][0], NAN_TOKEN);
        assert_eq!(v["a"][1], INF_TOKEN);
        assert_eq!(v["a"][2], NEG_INF_TOKEN);
        assert_eq!(v["a"][3], 1.5);
        assert_eq!(v["s"], "NaN \" Infinity");
        assert!(rewrite_non_finite(br#"{"a":[1,2]}"#).is_none());
        assert!(rewrite_non_finite(br#"{"a":"NaN"}"#).is_none(), "only inside a string");
    }

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
