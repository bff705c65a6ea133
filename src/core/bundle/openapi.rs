//! `openapi.yaml`: the OpenAPI 3.0 description of what `mirador serve` serves for the bundle — the
//! Open Inference Protocol (KServe V2) paths with this model's inputs and outputs, KServe V1, health
//! and metrics — with example requests made from the golden rows. A test holds every documented path
//! and schema against the running server. And its check.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::{Value, json};

use super::yaml::{read_yaml, to_yaml};
use crate::core::contract::Binding;
use crate::core::error::Result;
use crate::core::model::info::{ElemType, ModelInfo, Task};
use crate::core::serving::protocol::{input_datatype, output_specs};

/// What the description is made from.
pub struct ApiFacts<'a> {
    /// The model (named as served).
    pub info: &'a ModelInfo,
    /// The served version.
    pub version: u32,
    /// How the data columns feed the model's inputs.
    pub binding: &'a Binding,
    /// The JSON Schema of one row (`schema.json`).
    pub row_schema: &'a Value,
    /// Golden rows, for the examples.
    pub rows: &'a [BTreeMap<String, String>],
}

fn error_response(what: &str) -> Value {
    json!({"description": what, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}})
}

fn ok(schema: Value) -> Value {
    json!({"description": "OK", "content": {"application/json": {"schema": schema}}})
}

/// A cell of a golden row as JSON for an input of `elem` (numbers as numbers, empty as null).
fn cell(elem: &ElemType, text: &str) -> Value {
    match elem {
        ElemType::String => json!(text),
        ElemType::Bool => json!(matches!(text.trim().to_ascii_lowercase().as_str(), "true" | "1" | "yes")),
        _ if text.trim().is_empty() => Value::Null,
        _ => text
            .trim()
            .parse::<f64>()
            .map_or(Value::Null, |x| if x.fract() == 0.0 && x.abs() < 9e15 { json!(x as i64) } else { json!(x) }),
    }
}

/// A V2 request for `rows` in the model's tensor form.
fn v2_example(facts: &ApiFacts) -> Value {
    let n = facts.rows.len();
    let inputs: Vec<Value> = facts
        .binding
        .inputs
        .iter()
        .map(|b| {
            let data: Vec<Value> = facts
                .rows
                .iter()
                .flat_map(|r| b.columns.iter().map(|c| cell(&b.elem, r.get(c).map_or("", String::as_str))))
                .collect();
            json!({"name": b.input, "shape": [n, b.columns.len()], "datatype": input_datatype(&b.elem).as_str(), "data": data})
        })
        .collect();
    json!({"id": "example-1", "inputs": inputs})
}

/// A V1 request: one object per golden row.
fn v1_example(facts: &ApiFacts) -> Value {
    let instances: Vec<Value> = facts
        .rows
        .iter()
        .map(|r| {
            let obj: serde_json::Map<String, Value> = facts
                .binding
                .inputs
                .iter()
                .flat_map(|b| {
                    b.columns.iter().map(move |c| (c.clone(), cell(&b.elem, r.get(c).map_or("", String::as_str))))
                })
                .collect();
            Value::Object(obj)
        })
        .collect();
    json!({ "instances": instances })
}

/// The OpenAPI 3.0 description as YAML.
pub fn openapi_yaml(facts: &ApiFacts) -> Result<String> {
    let info = facts.info;
    let name = &info.name;
    let model = json!({"name": "model", "in": "path", "required": true, "schema": {"type": "string", "enum": [name]}});
    let version = json!({"name": "version", "in": "path", "required": true, "schema": {"type": "string", "enum": [facts.version.to_string()]}});
    let metadata_get = |params: Vec<Value>| {
        json!({"get": {"summary": "Model metadata: inputs and outputs with V2 datatypes and shapes (-1: any size)",
        "parameters": params, "responses": {"200": ok(json!({"$ref": "#/components/schemas/ModelMetadata"})), "404": error_response("Unknown model or version")}}})
    };
    let ready_get = |params: Vec<Value>| {
        json!({"get": {"summary": "Model ready", "parameters": params,
        "responses": {"200": ok(json!({"$ref": "#/components/schemas/ModelReady"})), "404": error_response("Unknown model or version"),
                      "503": ok(json!({"$ref": "#/components/schemas/ModelReady"}))}}})
    };
    let errors = |mut responses: serde_json::Map<String, Value>| {
        for (code, what) in [
            ("400", "A bad request: the message names the input, the row and the value"),
            ("404", "Unknown model or version"),
            ("413", "Too many rows, or a body over the limit"),
            ("503", "Overloaded (the queue is full) or stopping"),
            ("504", "The request took longer than the server's timeout"),
        ] {
            responses.insert(code.into(), error_response(what));
        }
        Value::Object(responses)
    };
    let infer_post = |params: Vec<Value>| {
        let mut responses = serde_json::Map::new();
        responses.insert("200".into(), ok(json!({"$ref": "#/components/schemas/InferResponse"})));
        json!({"post": {"summary": "Inference (JSON; Triton's binary tensor extension is accepted too)", "parameters": params,
            "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/InferRequest"},
                "example": v2_example(facts)}}},
            "responses": errors(responses)}})
    };
    let mut v1_responses = serde_json::Map::new();
    v1_responses.insert("200".into(), ok(json!({"$ref": "#/components/schemas/V1Response"})));
    let paths = json!({
        "/": {"get": {"summary": "Alive (KServe V1)", "responses": {"200": ok(json!({"type": "object", "required": ["status"], "properties": {"status": {"type": "string"}}}))}}},
        "/v2": {"get": {"summary": "Server metadata", "responses": {"200": ok(json!({"$ref": "#/components/schemas/ServerMetadata"}))}}},
        "/v2/health/live": {"get": {"summary": "Live", "responses": {"200": ok(json!({"type": "object", "required": ["live"], "properties": {"live": {"type": "boolean"}}}))}}},
        "/v2/health/ready": {"get": {"summary": "Ready (every model loaded and warmed)", "responses": {
            "200": ok(json!({"type": "object", "required": ["ready"], "properties": {"ready": {"type": "boolean"}}})),
            "503": ok(json!({"type": "object", "required": ["ready"], "properties": {"ready": {"type": "boolean"}}}))}}},
        "/v2/models/{model}": metadata_get(vec![model.clone()]),
        "/v2/models/{model}/versions/{version}": metadata_get(vec![model.clone(), version.clone()]),
        "/v2/models/{model}/ready": ready_get(vec![model.clone()]),
        "/v2/models/{model}/versions/{version}/ready": ready_get(vec![model.clone(), version.clone()]),
        "/v2/models/{model}/infer": infer_post(vec![model.clone()]),
        "/v2/models/{model}/versions/{version}/infer": infer_post(vec![model.clone(), version]),
        "/v1/models": {"get": {"summary": "Served models (KServe V1)", "responses": {"200": ok(json!({"type": "object", "required": ["models"],
            "properties": {"models": {"type": "array", "items": {"type": "string"}}}}))}}},
        "/v1/models/{model}": {"get": {"summary": "Model status (KServe V1)", "parameters": [model.clone()],
            "responses": {"200": ok(json!({"$ref": "#/components/schemas/ModelReady"})), "404": error_response("Unknown model")}}},
        "/v1/models/{model}:predict": {"post": {"summary": "Predict rows (KServe V1): one object per row", "parameters": [model],
            "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/V1Request"},
                "example": v1_example(facts)}}},
            "responses": errors(v1_responses)}},
        "/metrics": {"get": {"summary": "Prometheus metrics (OpenMetrics when asked for, else the text format 0.0.4)",
            "responses": {"200": {"description": "OK", "content": {"text/plain": {"schema": {"type": "string"}}}}}}},
    });
    let output_names: Vec<String> = output_specs(info).into_iter().map(|o| o.name).collect();
    let prediction = match &info.task {
        Task::Classification { .. } => json!({"oneOf": [{"type": "integer"}, {"type": "string"}]}),
        Task::Regression { .. } => {
            json!({"oneOf": [{"type": "number"}, {"type": "array", "items": {"type": "number"}}]})
        }
    };
    let mut row = facts.row_schema.clone();
    if let Some(o) = row.as_object_mut() {
        o.remove("$schema");
    }
    let tensor_meta = json!({"type": "object", "required": ["name", "datatype", "shape"], "properties": {
        "name": {"type": "string"}, "datatype": {"type": "string"}, "shape": {"type": "array", "items": {"type": "integer"}}}});
    let schemas = json!({
        "Error": {"type": "object", "required": ["error"], "properties": {"error": {"type": "string"}}},
        "ServerMetadata": {"type": "object", "required": ["name", "version", "extensions"], "properties": {
            "name": {"type": "string"}, "version": {"type": "string"}, "extensions": {"type": "array", "items": {"type": "string"}}}},
        "ModelReady": {"type": "object", "required": ["name", "ready"], "properties": {"name": {"type": "string"}, "ready": {"type": "boolean"}}},
        "ModelMetadata": {"type": "object", "required": ["name", "versions", "platform", "inputs", "outputs"], "properties": {
            "name": {"type": "string", "enum": [name]}, "versions": {"type": "array", "items": {"type": "string"}},
            "platform": {"type": "string"}, "inputs": {"type": "array", "items": tensor_meta},
            "outputs": {"type": "array", "items": tensor_meta}, "parameters": {"type": "object"}}},
        "InferRequest": {"type": "object", "required": ["inputs"], "properties": {
            "id": {"type": "string"}, "parameters": {"type": "object"},
            "inputs": {"type": "array", "items": {"type": "object", "required": ["name", "shape", "datatype"], "properties": {
                "name": {"type": "string", "description": "A model input, or a data column (one [N] or [N,1] input per column)"},
                "shape": {"type": "array", "items": {"type": "integer", "minimum": 0}},
                "datatype": {"type": "string", "enum": ["BOOL", "UINT8", "UINT16", "UINT32", "UINT64", "INT8", "INT16", "INT32", "INT64", "FP16", "FP32", "FP64", "BYTES"]},
                "parameters": {"type": "object"}, "data": {"type": "array"}}}},
            "outputs": {"type": "array", "items": {"type": "object", "required": ["name"], "properties": {
                "name": {"type": "string", "enum": output_names}, "parameters": {"type": "object"}}}}}},
        "InferResponse": {"type": "object", "required": ["model_name", "model_version", "outputs"], "properties": {
            "model_name": {"type": "string"}, "model_version": {"type": "string"}, "id": {"type": "string"},
            "outputs": {"type": "array", "items": {"type": "object", "required": ["name", "datatype", "shape"], "properties": {
                "name": {"type": "string", "enum": output_names}, "datatype": {"type": "string"},
                "shape": {"type": "array", "items": {"type": "integer"}}, "parameters": {"type": "object"}, "data": {"type": "array"}}}}}},
        "V1Request": {"type": "object", "required": ["instances"], "properties": {"instances": {"type": "array", "items": {"$ref": "#/components/schemas/Row"}}}},
        "V1Response": {"type": "object", "required": ["predictions"], "properties": {
            "predictions": {"type": "array", "items": prediction},
            "probabilities": {"type": "array", "items": {"type": "array", "items": {"type": "number"}}},
            "classes": {"type": "array", "items": {"type": "string"}}}},
        "Row": row,
    });
    let doc = json!({
        "openapi": "3.0.3",
        "info": {"title": format!("{name} — mirador serve"), "version": info.sha256[..12].to_string(),
                 "description": "The Open Inference Protocol (KServe V2) and KServe V1 as `mirador serve` answers them for this model. \
                                 Generated by Mirador from the model's input/output contract."},
        "servers": [{"url": "http://127.0.0.1:8080"}],
        "paths": paths,
        "components": {"schemas": schemas},
    });
    to_yaml(&doc)
}

pub(super) fn check_openapi(dir: &Path) -> std::result::Result<String, String> {
    let doc = read_yaml(dir, "openapi.yaml")?;
    let version = doc["openapi"].as_str().unwrap_or_default();
    if !version.starts_with("3.") {
        return Err(format!("openapi version '{version}', expected 3.x"));
    }
    let paths = doc["paths"].as_hash().ok_or("no paths")?;
    for required in ["/v2/models/{model}/infer", "/v2/health/ready", "/v1/models/{model}:predict"] {
        if !paths.keys().any(|k| k.as_str() == Some(required)) {
            return Err(format!("the path {required} is not documented"));
        }
    }
    Ok(format!("OpenAPI {version}, {} paths", paths.len()))
}
