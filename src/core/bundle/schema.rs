//! `schema.json`: the JSON Schema (2020-12) of one request row — types, allowed categories,
//! required columns — and its check: the golden rows must fit it.

use std::path::Path;

use serde_json::{Value, json};

use super::examples::Example;
use super::files::read;
use crate::core::model::info::ElemType;

/// One column of a request row.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    /// Column name.
    pub name: String,
    /// JSON type: `number`, `integer`, `string` or `boolean`.
    pub json_type: &'static str,
    /// Allowed values (text columns whose categories the model knows).
    pub allowed: Vec<String>,
}

/// The JSON type an element type takes in a request.
pub fn json_type(elem: &ElemType) -> &'static str {
    match elem {
        ElemType::String => "string",
        ElemType::Int64 | ElemType::Int32 => "integer",
        ElemType::Bool => "boolean",
        _ => "number",
    }
}

/// JSON Schema (2020-12) of one request row.
pub fn request_schema(name: &str, fields: &[Field]) -> Value {
    let mut properties = serde_json::Map::new();
    for f in fields {
        // A float input takes a missing value (NaN), sent as null.
        let ty = if f.json_type == "number" { json!(["number", "null"]) } else { json!(f.json_type) };
        let mut p = json!({ "type": ty });
        if !f.allowed.is_empty() {
            p["enum"] = json!(f.allowed);
        }
        properties.insert(f.name.clone(), p);
    }
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": format!("{name} request row"),
        "type": "object",
        "properties": properties,
        "required": fields.iter().map(|f| f.name.clone()).collect::<Vec<_>>(),
        "additionalProperties": true,
    })
}

/// Check `row` against a schema made by [`request_schema`]; returns what is wrong, if anything.
pub fn schema_problems(schema: &Value, row: &serde_json::Map<String, Value>) -> Vec<String> {
    let mut problems = Vec::new();
    for name in schema["required"].as_array().into_iter().flatten().filter_map(Value::as_str) {
        let Some(value) = row.get(name) else {
            problems.push(format!("'{name}' is missing"));
            continue;
        };
        let spec = &schema["properties"][name];
        let types: Vec<&str> = match &spec["type"] {
            Value::String(t) => vec![t.as_str()],
            Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        let ok = types.iter().any(|t| match *t {
            "number" => value.is_number(),
            "integer" => value.is_i64() || value.is_u64(),
            "string" => value.is_string(),
            "boolean" => value.is_boolean(),
            "null" => value.is_null(),
            _ => false,
        });
        if !ok {
            problems.push(format!("'{name}' = {value} is not of type {}", spec["type"]));
        }
        if let Some(allowed) = spec["enum"].as_array()
            && !allowed.contains(value)
        {
            problems.push(format!("'{name}' = {value} is not an allowed value"));
        }
    }
    problems
}

pub(super) fn check_schema(dir: &Path, examples: &[Example]) -> std::result::Result<String, String> {
    let schema: serde_json::Value = serde_json::from_str(&read(dir, "schema.json")?).map_err(|e| e.to_string())?;
    if schema["type"] != "object" || !schema["properties"].is_object() {
        return Err("not an object schema with properties".into());
    }
    for (i, e) in examples.iter().enumerate() {
        let row: serde_json::Map<String, serde_json::Value> = e
            .inputs
            .iter()
            .map(|(k, v)| {
                let spec = &schema["properties"][k]["type"];
                let ty = spec.as_str().or_else(|| spec.as_array().and_then(|a| a.first()).and_then(Value::as_str));
                let value = match ty.unwrap_or("string") {
                    _ if v.is_empty() => Value::Null,
                    "integer" => v.parse::<f64>().map(|x| json!(x as i64)).unwrap_or(json!(v)),
                    "number" => v.parse::<f64>().map(|x| json!(x)).unwrap_or(json!(v)),
                    _ => json!(v),
                };
                (k.clone(), value)
            })
            .collect();
        let problems = schema_problems(&schema, &row);
        if !problems.is_empty() {
            return Err(format!("example row {} does not fit: {}", i + 1, problems.join("; ")));
        }
    }
    Ok(format!("{} properties; the example rows fit", schema["properties"].as_object().map_or(0, |o| o.len())))
}
