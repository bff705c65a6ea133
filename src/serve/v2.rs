//! `POST /v2/models/{m}[/versions/{v}]/infer`: a V2 request (JSON, or JSON plus binary tensors)
//! read into the model's rows, queued for its batch, answered with the outputs asked for — JSON or
//! binary, as the client asked — and counted.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use serde::Serialize;
use serde_json::json;

use super::binary::{self, Tail};
use super::metrics::ModelLabels;
use super::reply;
use super::state::{Shared, key_column, labels, model_and_version, read_body, sticky_keys, submit};
use super::tensors::{Tensor, check_shape, from_json, to_frame};
use super::wire::{Datatype, InferRequest, flag, parse_request, rewrite_non_finite};
use crate::core::error::{Error, Result};
use crate::core::serving::dispatch::Routing;
use crate::core::serving::protocol::{OutputData, OutputSpec, output_specs, output_tensor};
use crate::core::serving::{Answer, Endpoint};

/// The handler.
pub async fn infer(
    State(s): State<Shared>,
    Path(params): Path<HashMap<String, String>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let started = Instant::now();
    let (name, version) = model_and_version(&params);
    let endpoint = match s.endpoint(name, version) {
        Ok(e) => e,
        Err(e) => {
            let response = reply::error(&e);
            s.answered(&ModelLabels { model: String::new(), version: String::new() }, response.status(), 0, started);
            return response;
        }
    };
    let mut model = labels(&endpoint);
    let _in_flight = s.metrics.in_flight(&model);
    let limit = s.service.config().limits.request_timeout_secs;
    let pinned = version.map(str::to_string);
    let outcome =
        match tokio::time::timeout(Duration::from_secs_f64(limit), handle(&s, &endpoint, pinned, &headers, body)).await
        {
            Ok(outcome) => outcome,
            Err(_) => Err(Error::Timeout(format!(
                "the request took longer than {limit} s (the server's request_timeout_secs) and was abandoned"
            ))),
        };
    let (response, rows) = match outcome {
        Ok((response, rows, version)) => {
            model.version = version;
            (response, rows)
        }
        Err(e) => (reply::error(&e), 0),
    };
    s.answered(&model, response.status(), rows, started);
    response
}

async fn handle(
    s: &Shared,
    endpoint: &Arc<Endpoint>,
    pinned: Option<String>,
    headers: &HeaderMap,
    body: Body,
) -> Result<(Response, usize, String)> {
    let body = read_body(s, body).await?;
    let (json_part, tail) = match headers.get(binary::HEADER) {
        Some(v) => binary::split(&body, v.to_str().unwrap_or("?"))?,
        None => (&body[..], &body[..0]),
    };
    let rewritten = rewrite_non_finite(json_part);
    let request = parse_request(rewritten.as_deref().unwrap_or(json_part))?;
    let specs = output_specs(endpoint.served.model.info());
    let wanted = wanted_outputs(&request, &specs)?;
    let mut tensors = read_tensors(&request, tail)?;
    s.check_rows(tensors.iter().map(|t| t.shape[0]).max().unwrap_or(0))?;
    let column_keys = key_column(s, endpoint)
        .and_then(|k| tensors.iter().position(|t| t.name == k))
        .map(|i| tensors.remove(i).values.as_keys());
    let frame = to_frame(tensors, &endpoint.served.binding)?;
    let rows = frame.height();
    let key_parameter = request.parameters.as_ref().and_then(|p| p.get("key"));
    let keys = sticky_keys(s, &endpoint.served.name, rows, column_keys, key_parameter);
    let request_id = request.id.clone().unwrap_or_else(|| s.new_request_id());
    let quarantine = flag(request.parameters.as_ref(), "quarantine");
    let routing = Routing { version: pinned, keys, quarantine, client_id: request.id.is_some() };
    let answer = submit(s, endpoint, routing, &frame, request_id).await?;
    let response = respond(endpoint, request.id.as_deref(), &wanted, &answer)?;
    Ok((response, rows, answer.version))
}

/// The request's input tensors, each read from JSON or from its binary bytes.
pub(super) fn read_tensors(request: &InferRequest<'_>, tail: &[u8]) -> Result<Vec<Tensor>> {
    if request.inputs.is_empty() {
        return Err(Error::Invalid("the request has no inputs".into()));
    }
    let mut tail = Tail::new(tail);
    let mut tensors = Vec::with_capacity(request.inputs.len());
    for input in &request.inputs {
        let name = input.name.as_str();
        if tensors.iter().any(|t: &Tensor| t.name == name) {
            return Err(Error::Invalid(format!("input '{name}' is given twice")));
        }
        let datatype = Datatype::parse(&input.datatype).ok_or_else(|| {
            Error::Invalid(format!(
                "input '{name}' has datatype {}; V2 datatypes are BOOL, INT8, INT16, INT32, INT64, UINT8, UINT16, \
                 UINT32, UINT64, FP16, FP32, FP64 and BYTES",
                crate::core::text::quote(&input.datatype)
            ))
        })?;
        let (shape, count) = check_shape(name, &input.shape)?;
        let binary_size = input.parameters.as_ref().and_then(|p| p.get("binary_data_size"));
        let values = match (binary_size, input.data) {
            (Some(size), None) => {
                let size = size.as_u64().and_then(|n| usize::try_from(n).ok()).ok_or_else(|| {
                    Error::Invalid(format!("input '{name}' has binary_data_size {size}, which is not a byte count"))
                })?;
                binary::decode(name, datatype, count, tail.take(name, size)?)?
            }
            (None, Some(data)) => from_json(name, datatype, &shape, count, data)?,
            (Some(_), Some(_)) => {
                return Err(Error::Invalid(format!("input '{name}' has both data and binary_data_size; send one")));
            }
            (None, None) => return Err(Error::Invalid(format!("input '{name}' has no data"))),
        };
        tensors.push(Tensor { name: name.to_string(), shape, values });
    }
    tail.finish()?;
    Ok(tensors)
}

/// The outputs to answer with, each with whether it goes as binary data.
fn wanted_outputs<'s>(request: &InferRequest<'_>, specs: &'s [OutputSpec]) -> Result<Vec<(&'s OutputSpec, bool)>> {
    let all_binary = flag(request.parameters.as_ref(), "binary_data_output");
    let Some(asked) = &request.outputs else {
        return Ok(specs.iter().map(|s| (s, all_binary)).collect());
    };
    let mut out = Vec::with_capacity(asked.len());
    for o in asked {
        let spec = specs.iter().find(|s| s.name == o.name).ok_or_else(|| {
            let names: Vec<&str> = specs.iter().map(|s| s.name.as_str()).collect();
            let hint = crate::core::text::did_you_mean(&o.name, names.iter().copied());
            Error::Invalid(format!("the model has no output '{}'{hint}; its outputs are {}", o.name, names.join(", ")))
        })?;
        let binary = match o.parameters.as_ref().and_then(|p| p.get("binary_data")) {
            Some(v) => v.as_bool().unwrap_or(false),
            None => all_binary,
        };
        out.push((spec, binary));
    }
    Ok(out)
}

#[derive(Serialize)]
struct ResponseOutput<'a> {
    name: &'a str,
    datatype: &'static str,
    shape: &'a [usize],
    #[serde(skip_serializing_if = "Option::is_none")]
    parameters: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    data: Option<&'a OutputData>,
}

#[derive(Serialize)]
struct InferResponse<'a> {
    model_name: &'a str,
    model_version: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<&'a str>,
    /// Each row's version, when a canary split the rows between two.
    #[serde(skip_serializing_if = "Option::is_none")]
    parameters: Option<serde_json::Value>,
    outputs: Vec<ResponseOutput<'a>>,
}

fn respond(endpoint: &Endpoint, id: Option<&str>, wanted: &[(&OutputSpec, bool)], answer: &Answer) -> Result<Response> {
    let tensors: Vec<_> = wanted
        .iter()
        .map(|(spec, binary)| output_tensor(spec, &answer.predictions).map(|t| (t, *binary)))
        .collect::<Result<_>>()?;
    let mut tail = Vec::new();
    let mut outputs = Vec::with_capacity(tensors.len());
    for (t, binary) in &tensors {
        let (parameters, data) = if *binary {
            let bytes = t.data.to_bytes();
            let size = bytes.len();
            tail.extend_from_slice(&bytes);
            (Some(json!({ "binary_data_size": size })), None)
        } else {
            (None, Some(&t.data))
        };
        outputs.push(ResponseOutput {
            name: &t.name,
            datatype: t.datatype.as_str(),
            shape: &t.shape,
            parameters,
            data,
        });
    }
    let mut parameters = answer.row_versions.as_ref().map(|v| json!({ "model_versions": v }));
    if !answer.quarantined.is_empty() {
        // The rows left out, by their index in the request, with the rule that caught each.
        let rows: Vec<_> = answer.quarantined.iter().map(|(row, rule)| json!({"row": row, "rule": rule})).collect();
        parameters.get_or_insert_with(|| json!({}))["quarantined"] = json!(rows);
    }
    let body =
        InferResponse { model_name: &endpoint.served.name, model_version: &answer.version, id, parameters, outputs };
    let mut json = serde_json::to_vec(&body).map_err(|e| Error::internal(format!("cannot write the answer: {e}")))?;
    if tail.is_empty() {
        return Ok(reply::bytes(StatusCode::OK, "application/json", json));
    }
    let json_len = json.len();
    json.extend_from_slice(&tail);
    let mut response = reply::bytes(StatusCode::OK, "application/octet-stream", json);
    let headers = response.headers_mut();
    headers.insert(binary::HEADER, HeaderValue::from(json_len));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}
