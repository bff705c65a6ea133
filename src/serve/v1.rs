//! KServe V1, for clients that speak the older form: `GET /v1/models` (`{"models":[…]}`),
//! `GET /v1/models/{m}` (`{"name","ready"}`) and `POST /v1/models/{m}:predict` with
//! `{"instances": [{column: value, …}, …]}` (or rows as lists, in the model's column order) →
//! `{"predictions": […]}` — labels for a classifier (with `probabilities` and `classes` beside
//! them), values for a regressor. Instances become rows the way a file's lines do: a column whose
//! values are all numbers is numeric, one with text is text, and the contract check names a bad
//! value by its row (instance) and column.

use std::time::Instant;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use polars::prelude::*;
use serde_json::{Value, json};

use super::metrics::ModelLabels;
use super::reply;
use super::state::{Shared, key_column, labels, read_body, sticky_keys, submit};
use crate::core::error::{Error, Result};
use crate::core::model::info::Task;
use crate::core::serving::dispatch::Routing;
use crate::core::serving::{Answer, Endpoint};
use crate::core::session::Labels;

/// `GET /v1/models`.
pub async fn list(State(s): State<Shared>) -> Response {
    let names: Vec<String> = s.service.routes().iter().map(|r| r.name.clone()).collect();
    reply::json(StatusCode::OK, &json!({ "models": names }))
}

/// `GET /v1/models/{m}`.
pub async fn status(State(s): State<Shared>, Path(name): Path<String>) -> Response {
    match s.endpoint(&name, None) {
        Ok(e) => reply::json(StatusCode::OK, &json!({"name": e.served.name, "ready": true})),
        Err(e) => reply::error(&e),
    }
}

/// `POST /v1/models/{m}:predict`.
pub async fn predict(State(s): State<Shared>, Path(name): Path<String>, body: Body) -> Response {
    let started = Instant::now();
    let Some(name) = name.strip_suffix(":predict") else {
        let e = Error::NotFound(format!(
            "POST /v1/models/{name} is not a KServe V1 verb; predict with POST /v1/models/{name}:predict"
        ));
        return reply::error(&e);
    };
    let endpoint = match s.endpoint(name, None) {
        Ok(e) => e,
        Err(e) => {
            let response = reply::error(&e);
            s.answered(&ModelLabels { model: String::new(), version: String::new() }, response.status(), 0, started);
            return response;
        }
    };
    let mut model = labels(&endpoint);
    let _in_flight = s.metrics.in_flight(&model);
    let (response, rows) = match handle(&s, &endpoint, body).await {
        Ok((response, rows, version)) => {
            model.version = version;
            (response, rows)
        }
        Err(e) => (reply::error(&e), 0),
    };
    s.answered(&model, response.status(), rows, started);
    response
}

async fn handle(s: &Shared, endpoint: &std::sync::Arc<Endpoint>, body: Body) -> Result<(Response, usize, String)> {
    let body = read_body(s, body).await?;
    let request: Value = serde_json::from_slice(&body)
        .map_err(|e| Error::Invalid(format!("the request body is not valid JSON: {e}")))?;
    let instances =
        request.get("instances").or_else(|| request.get("inputs")).and_then(Value::as_array).ok_or_else(|| {
            Error::Invalid("a V1 request is {\"instances\": [ … ]}: one object (column → value) per row".into())
        })?;
    s.check_rows(instances.len())?;
    let mut frame = instances_frame(instances, &endpoint.served.columns)?;
    let rows = frame.height();
    let column_keys = match key_column(s, endpoint) {
        Some(k) if frame.column(&k).is_ok() => {
            let keys = frame
                .column(&k)
                .and_then(|c| c.cast(&DataType::String))
                .map_err(|e| Error::Invalid(format!("the key column '{k}' cannot be read as text: {e}")))?;
            let keys: Vec<Option<String>> =
                keys.str().map_err(|e| Error::internal(e.to_string()))?.iter().map(|v| v.map(str::to_string)).collect();
            frame = frame.drop(&k).map_err(|e| Error::internal(e.to_string()))?;
            Some(keys)
        }
        _ => None,
    };
    let keys = sticky_keys(s, &endpoint.served.name, rows, column_keys, request.get("key"));
    let request_id = s.new_request_id();
    let answer = tokio::time::timeout(
        std::time::Duration::from_secs_f64(s.service.config().limits.request_timeout_secs),
        submit(
            s,
            endpoint,
            Routing {
                version: None,
                keys,
                quarantine: request.get("quarantine").and_then(Value::as_bool).unwrap_or(false),
                // V1 has no request id: a late label finds a V1 answer by its key only.
                client_id: false,
            },
            &frame,
            request_id,
        ),
    )
    .await
    .map_err(|_| Error::Timeout("the request took longer than the server's request_timeout_secs".into()))??;
    let mut body = predictions(endpoint, &answer);
    if !answer.quarantined.is_empty() {
        let rows: Vec<Value> = answer.quarantined.iter().map(|(row, rule)| json!({"row": row, "rule": rule})).collect();
        body["quarantined"] = json!(rows);
    }
    Ok((reply::json(StatusCode::OK, &body), rows, answer.version))
}

/// The instances as rows: objects by key, lists in `columns` order.
pub(super) fn instances_frame(instances: &[Value], columns: &[String]) -> Result<DataFrame> {
    if instances.is_empty() {
        return Err(Error::Invalid("the request has no instances".into()));
    }
    let mut names: Vec<String> = Vec::new();
    let mut cells: Vec<Vec<&Value>> = Vec::new();
    const NULL: &Value = &Value::Null;
    for (i, instance) in instances.iter().enumerate() {
        match instance {
            Value::Object(map) => {
                for (key, value) in map {
                    let j = match names.iter().position(|n| n == key) {
                        Some(j) => j,
                        None => {
                            names.push(key.clone());
                            cells.push(vec![NULL; i]);
                            names.len() - 1
                        }
                    };
                    cells[j].push(value);
                }
            }
            Value::Array(values) if values.len() == columns.len() => {
                for (j, (key, value)) in columns.iter().zip(values).enumerate() {
                    if names.len() <= j || names[j] != *key {
                        if names.len() != j {
                            return Err(Error::Invalid("instances must all be objects or all be lists".into()));
                        }
                        names.push(key.clone());
                        cells.push(vec![NULL; i]);
                    }
                    cells[j].push(value);
                }
            }
            Value::Array(values) => {
                return Err(Error::Invalid(format!(
                    "instance {} has {} values; as a list it needs one per column, in order: {}",
                    i + 1,
                    values.len(),
                    columns.join(", ")
                )));
            }
            other => {
                return Err(Error::Invalid(format!(
                    "instance {} is {}, not an object of column → value",
                    i + 1,
                    kind(other)
                )));
            }
        }
        // A key this instance lacks is missing in its row.
        for column in &mut cells {
            if column.len() == i {
                column.push(NULL);
            }
        }
    }
    let n = instances.len();
    let columns: Vec<Column> =
        names.iter().zip(&cells).map(|(name, values)| column(name, values)).collect::<Result<_>>()?;
    DataFrame::new(n, columns).map_err(|e| Error::internal(format!("cannot assemble the instances: {e}")))
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "text",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// A column typed as a file's would be: numbers (whole or not), booleans, or else text.
fn column(name: &str, values: &[&Value]) -> Result<Column> {
    if let Some((i, v)) = values.iter().enumerate().find(|(_, v)| v.is_array() || v.is_object()) {
        return Err(Error::Invalid(format!(
            "instance {} has {} in '{name}'; an instance holds one value per column",
            i + 1,
            kind(v)
        )));
    }
    let present = || values.iter().filter(|v| !v.is_null());
    if present().all(|v| v.is_i64()) {
        return Ok(Column::new(name.into(), values.iter().map(|v| v.as_i64()).collect::<Vec<_>>()));
    }
    if present().all(|v| v.is_number()) {
        return Ok(Column::new(name.into(), values.iter().map(|v| v.as_f64()).collect::<Vec<_>>()));
    }
    if present().all(|v| v.is_boolean()) {
        return Ok(Column::new(name.into(), values.iter().map(|v| v.as_bool()).collect::<Vec<_>>()));
    }
    let text: Vec<Option<String>> = values
        .iter()
        .map(|v| match v {
            Value::Null => None,
            Value::String(s) => Some(s.clone()),
            other => Some(other.to_string()),
        })
        .collect();
    Ok(Column::new(name.into(), text))
}

fn predictions(endpoint: &Endpoint, answer: &Answer) -> Value {
    let p = &answer.predictions;
    match &endpoint.served.model.info().task {
        Task::Classification { classes, .. } => {
            let labels = match &p.labels {
                Some(Labels::Int(v)) => json!(v),
                Some(Labels::Str(v)) => json!(v),
                None => json!([]),
            };
            let mut out = json!({ "predictions": labels });
            if let Some(probs) = &p.probabilities {
                let k = classes.len().max(1);
                let rows: Vec<&[f64]> = probs.chunks(k).collect();
                out["probabilities"] = json!(rows);
                out["classes"] = json!(classes);
            }
            out
        }
        Task::Regression { .. } => {
            let values = p.values.clone().unwrap_or_default();
            let w = p.width().max(1);
            if w == 1 {
                json!({ "predictions": values })
            } else {
                json!({ "predictions": values.chunks(w).collect::<Vec<_>>() })
            }
        }
    }
}
