//! `triton/<name>/config.pbtxt`: a Triton model repository entry (ONNX Runtime backend), and its
//! check, which parses the protobuf text format and holds every tensor of the model against it.

use std::path::Path;

use super::files::{file_sha256, read};
use crate::core::model::Model;
use crate::core::model::info::{Dim, ElemType, IoType, ModelInfo};

/// Rows per batch Triton may coalesce when the model batches.
const MAX_BATCH: usize = 1024;

/// Triton's `config.pbtxt` for the ONNX Runtime backend, from the model's inputs and outputs.
/// When every tensor's first dimension is the batch (dynamic), `max_batch_size` is above zero,
/// the batch dimension is left out of `dims` (a `[N]` tensor becomes `dims: [ 1 ]` reshaped to a
/// scalar per row) and dynamic batching is on; otherwise `max_batch_size: 0` and full shapes.
/// ZipMap outputs (sequences of maps) are not tensors and are left out — Triton's ONNX Runtime
/// backend refuses to load such models; `mirador serve` serves them.
pub fn triton_config(name: &str, info: &ModelInfo) -> String {
    let tensors = || {
        info.inputs.iter().chain(&info.outputs).filter_map(|s| match &s.ty {
            IoType::Tensor { shape, .. } => Some(shape),
            _ => None,
        })
    };
    let batched = tensors().all(|shape| matches!(shape.first(), Some(Dim::Symbolic(_))));
    let zipmap = info.outputs.iter().any(|o| matches!(o.ty, IoType::SequenceOfMaps { .. }));
    let mut out = String::new();
    if zipmap {
        out.push_str("# This model's probabilities are a ZipMap (a sequence of maps), which Triton's ONNX Runtime\n");
        out.push_str("# backend refuses to load; serve it with `mirador serve` (see the Dockerfile) instead.\n");
    }
    let max_batch = if batched { MAX_BATCH } else { 0 };
    out.push_str(&format!("name: \"{name}\"\nplatform: \"onnxruntime_onnx\"\nmax_batch_size: {max_batch}\n"));
    let tensor = |spec: &crate::core::model::info::IoSpec| -> Option<String> {
        let IoType::Tensor { elem, shape } = &spec.ty else { return None };
        let shape = if batched { &shape[1..] } else { &shape[..] };
        let mut dims: Vec<String> = shape
            .iter()
            .map(|d| match d {
                Dim::Fixed(n) => n.to_string(),
                Dim::Symbolic(_) => "-1".into(),
            })
            .collect();
        let reshape = if dims.is_empty() {
            dims.push("1".into());
            "\n    reshape: { shape: [ ] }"
        } else {
            ""
        };
        Some(format!(
            "  {{\n    name: \"{}\"\n    data_type: {}\n    dims: [ {} ]{reshape}\n  }}",
            spec.name,
            triton_type(elem),
            dims.join(", ")
        ))
    };
    for (kind, specs) in [("input", &info.inputs), ("output", &info.outputs)] {
        let blocks: Vec<String> = specs.iter().filter_map(tensor).collect();
        out.push_str(&format!("{kind} [\n{}\n]\n", blocks.join(",\n")));
    }
    if batched {
        out.push_str("dynamic_batching {\n  max_queue_delay_microseconds: 100\n}\n");
    }
    out
}

fn triton_type(elem: &ElemType) -> &'static str {
    match elem {
        ElemType::Float32 => "TYPE_FP32",
        ElemType::Float64 => "TYPE_FP64",
        ElemType::Int64 => "TYPE_INT64",
        ElemType::Int32 => "TYPE_INT32",
        ElemType::String => "TYPE_STRING",
        ElemType::Bool => "TYPE_BOOL",
        _ => "TYPE_INVALID",
    }
}

pub(super) fn check_triton(dir: &Path, model: &Model, name: &str, version: u32) -> std::result::Result<String, String> {
    let config = pbtxt::parse(&read(dir, &format!("triton/{name}/config.pbtxt"))?)?;
    let scalar = |key: &str| config.iter().find(|(k, _)| k == key).and_then(|(_, v)| v.as_scalar());
    if scalar("name") != Some(name) {
        return Err(format!("name is {:?}, the folder is '{name}'", scalar("name")));
    }
    if scalar("platform") != Some("onnxruntime_onnx") {
        return Err("platform is not onnxruntime_onnx".into());
    }
    for (key, specs) in [("input", &model.info().inputs), ("output", &model.info().outputs)] {
        let names: Vec<&str> = config
            .iter()
            .filter(|(k, _)| k == key)
            .flat_map(|(_, v)| v.items())
            .filter_map(|m| m.iter().find(|(k, _)| k == "name").and_then(|(_, v)| v.as_scalar()))
            .collect();
        for spec in specs.iter().filter(|s| matches!(s.ty, IoType::Tensor { .. })) {
            if !names.contains(&spec.name.as_str()) {
                return Err(format!("{key} '{}' of the model is not in config.pbtxt", spec.name));
            }
        }
    }
    let copy = dir.join(format!("triton/{name}/{version}/model.onnx"));
    let same = file_sha256(&copy).map_err(|e| e.to_string())? == model.info().sha256;
    if !same {
        return Err(format!("triton/{name}/{version}/model.onnx differs from model.onnx"));
    }
    Ok(format!("{name} version {version}, inputs and outputs match the model"))
}

/// A parser for the protobuf text format Triton configs use: fields `key: value`, messages
/// `key { … }`, lists `key [ … ]`.
mod pbtxt {
    /// A value.
    #[derive(Debug, Clone, PartialEq)]
    pub enum Value {
        /// A number, identifier or string.
        Scalar(String),
        /// A nested message.
        Message(Vec<(String, Value)>),
        /// A list.
        List(Vec<Value>),
    }

    impl Value {
        pub fn as_scalar(&self) -> Option<&str> {
            match self {
                Self::Scalar(s) => Some(s),
                _ => None,
            }
        }

        /// The messages in a list (or the message itself).
        pub fn items(&self) -> Vec<&Vec<(String, Value)>> {
            match self {
                Self::Message(m) => vec![m],
                Self::List(l) => l.iter().flat_map(Value::items).collect(),
                Self::Scalar(_) => Vec::new(),
            }
        }
    }

    fn tokens(text: &str) -> Result<Vec<String>, String> {
        let mut out = Vec::new();
        let mut chars = text.chars().peekable();
        while let Some(&c) = chars.peek() {
            match c {
                c if c.is_whitespace() => {
                    chars.next();
                }
                '#' => while chars.next().is_some_and(|c| c != '\n') {},
                '{' | '}' | '[' | ']' | ':' | ',' => {
                    out.push(c.to_string());
                    chars.next();
                }
                '"' => {
                    chars.next();
                    let mut s = String::new();
                    loop {
                        match chars.next() {
                            Some('"') => break,
                            Some('\\') => s.extend(chars.next()),
                            Some(c) => s.push(c),
                            None => return Err("an unterminated string".into()),
                        }
                    }
                    out.push(format!("\"{s}"));
                }
                c if c.is_alphanumeric() || "_-.+".contains(c) => {
                    let mut s = String::new();
                    while let Some(&c) = chars.peek().filter(|c| c.is_alphanumeric() || "_-.+".contains(**c)) {
                        s.push(c);
                        chars.next();
                    }
                    out.push(s);
                }
                c => return Err(format!("unexpected character '{c}'")),
            }
        }
        Ok(out)
    }

    /// Parse a whole config into its top-level fields.
    pub fn parse(text: &str) -> Result<Vec<(String, Value)>, String> {
        let tokens = tokens(text)?;
        let mut pos = 0;
        let fields = message(&tokens, &mut pos, None, 0)?;
        Ok(fields)
    }

    /// Nesting allowed: a Triton config nests three deep; a hostile one must not exhaust the stack.
    const MAX_DEPTH: usize = 32;

    fn message(
        t: &[String],
        pos: &mut usize,
        close: Option<&str>,
        depth: usize,
    ) -> Result<Vec<(String, Value)>, String> {
        if depth > MAX_DEPTH {
            return Err(format!("nested more than {MAX_DEPTH} deep"));
        }
        let mut fields = Vec::new();
        loop {
            match t.get(*pos).map(String::as_str) {
                None if close.is_none() => return Ok(fields),
                None => return Err("a message is not closed".into()),
                Some(c) if Some(c) == close => {
                    *pos += 1;
                    return Ok(fields);
                }
                Some(",") => *pos += 1,
                Some(key) if key.chars().next().is_some_and(|c| c.is_alphabetic() || c == '_') => {
                    *pos += 1;
                    if t.get(*pos).map(String::as_str) == Some(":") {
                        *pos += 1;
                    }
                    fields.push((key.to_string(), value(t, pos, depth)?));
                }
                Some(other) => return Err(format!("expected a field name, found '{other}'")),
            }
        }
    }

    fn value(t: &[String], pos: &mut usize, depth: usize) -> Result<Value, String> {
        let token = t.get(*pos).ok_or("a value is missing")?.clone();
        *pos += 1;
        if depth > MAX_DEPTH {
            return Err(format!("nested more than {MAX_DEPTH} deep"));
        }
        match token.as_str() {
            "{" => Ok(Value::Message(message(t, pos, Some("}"), depth + 1)?)),
            "[" => {
                let mut items = Vec::new();
                loop {
                    match t.get(*pos).map(String::as_str) {
                        Some("]") => {
                            *pos += 1;
                            return Ok(Value::List(items));
                        }
                        Some(",") => *pos += 1,
                        Some(_) => items.push(value(t, pos, depth + 1)?),
                        None => return Err("a list is not closed".into()),
                    }
                }
            }
            "}" | "]" | ":" | "," => Err(format!("unexpected '{token}'")),
            s => Ok(Value::Scalar(s.strip_prefix('"').unwrap_or(s).to_string())),
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn parses_a_triton_config() {
            let c = parse("name: \"m\"\nplatform: \"onnxruntime_onnx\"\ninput [ { name: \"x\" data_type: TYPE_FP32 dims: [ -1, 4 ] } ]").unwrap();
            assert_eq!(c[0], ("name".into(), Value::Scalar("m".into())));
            let inputs = c[2].1.items();
            assert_eq!(inputs[0][0], ("name".into(), Value::Scalar("x".into())));
            assert_eq!(inputs[0][2].1, Value::List(vec![Value::Scalar("-1".into()), Value::Scalar("4".into())]));
        }

        #[test]
        fn refuses_broken_text() {
            assert!(parse("input [ { name: \"x\" ").is_err());
            assert!(parse("name: \"unterminated").is_err());
            let deep = format!("a {}{}", "{ b ".repeat(100_000), "}".repeat(100_000));
            assert!(
                parse(&deep).unwrap_err().contains("nested more than"),
                "deep nesting is refused, not a stack overflow"
            );
            let lists = format!("a: {}{}", "[".repeat(100_000), "]".repeat(100_000));
            assert!(parse(&lists).is_err());
        }
    }
}
