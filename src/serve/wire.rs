//! The Open Inference Protocol's (KServe V2) JSON as it arrives and leaves: the request, read once
//! with each input's `data` kept raw until its datatype and shape are known; the V2 datatypes; and
//! the bare `NaN` / `Infinity` tokens that Python JSON encoders (Triton's client among them) write
//! for missing and infinite floats, which strict JSON parsers refuse.

use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use crate::core::error::{Error, Result};
pub use crate::core::serving::protocol::Datatype;

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
}
