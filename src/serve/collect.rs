//! `POST /` and `POST /collect`: the sink for KServe's inference logger (what `mirador collect`
//! runs, and any `mirador serve` with a log has). Each event is read (binary or structured
//! CloudEvents mode), paired with its partner by `ce-id` ([`crate::core::serving::collect`]), and
//! the pair — the request's rows read with the model's contract, the response's outputs — is
//! written to the prediction log exactly as `mirador serve` writes what it answers itself.
//!
//! Answers: 202 an event waits for its partner, 200 a pair was logged (`{"logged": rows}`), 400 an
//! event or pair that cannot be read (kept aside, counted), 404 no log to write to.

use std::sync::atomic::Ordering;
use std::sync::{Arc, PoisonError};

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use polars::prelude::DataFrame;
use serde_json::{Value, json};

use super::binary::Tail;
use super::reply;
use super::state::{Shared, read_body};
use super::tensors::{Values, to_frame};
use super::wire::{parse_request, rewrite_non_finite};
use crate::core::error::{Error, Result};
use crate::core::model::info::Task;
use crate::core::serving::collect::{Event, Pair};
use crate::core::serving::predlog::LogEntry;
use crate::core::serving::protocol::{Datatype, output_specs, predictions_from_outputs};
use crate::core::serving::{Endpoint, rows};
use crate::core::session::{BatchPredictions, Labels};

/// The handler.
pub async fn ingest(State(s): State<Shared>, headers: HeaderMap, body: Body) -> Response {
    let Some(collector) = s.collector.as_ref().map(Arc::clone) else {
        return reply::error(&Error::NotFound(
            "this server keeps no prediction log (start it with --log-dir), so it collects no payload events".into(),
        ));
    };
    let body = match read_body(&s, body).await {
        Ok(b) => b.to_vec(),
        Err(e) => return reply::error(&e),
    };
    let structured = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("application/cloudevents+json"));
    let event = if structured {
        Event::structured(&body)
    } else {
        let pairs: Vec<(String, String)> = headers
            .iter()
            .filter_map(|(k, v)| Some((k.as_str().to_ascii_lowercase(), v.to_str().ok()?.to_string())))
            .collect();
        Event::binary(&pairs, body.clone())
    };
    let mut c = collector.lock().unwrap_or_else(PoisonError::into_inner);
    let event = match event {
        Ok(e) => e,
        Err(e) => {
            c.counts.received.fetch_add(1, Ordering::Relaxed);
            c.counts.malformed.fetch_add(1, Ordering::Relaxed);
            c.keep_aside(&e.to_string(), None, Some(&body));
            return reply::error(&e);
        }
    };
    let Some(pair) = c.add(event) else {
        return reply::json(StatusCode::ACCEPTED, &json!({"waiting": c.waiting()}));
    };
    match log_pair(&s, &pair) {
        Ok(rows) => {
            c.counts.logged.fetch_add(1, Ordering::Relaxed);
            reply::json(StatusCode::OK, &json!({"logged": rows}))
        }
        Err(e) => {
            c.counts.undecodable.fetch_add(1, Ordering::Relaxed);
            let why = format!("the pair cannot be read: {e}");
            c.keep_aside(&why, Some(&pair.request), None);
            c.keep_aside(&why, Some(&pair.response), None);
            reply::error(&Error::Invalid(format!("event {}: {why}", pair.request.id)))
        }
    }
}

/// Decode `pair` with its model's contract and hand it to the log; returns its rows.
fn log_pair(s: &Shared, pair: &Pair) -> Result<usize> {
    let log = s.service.log().ok_or_else(|| Error::NotFound("this server keeps no prediction log".into()))?;
    let (request, request_tail) = split_body(&pair.request, "request")?;
    let (response, response_tail) = split_body(&pair.response, "response")?;
    let endpoint = model_of(s, &response, pair.request.service.as_deref())?;
    let info = endpoint.served.model.info();
    let (inputs, v2_id) = if request.get("inputs").is_some() {
        let bytes = serde_json::to_vec(&request).map_err(|e| Error::internal(e.to_string()))?;
        let rewritten = rewrite_non_finite(&bytes);
        let parsed = parse_request(rewritten.as_deref().unwrap_or(&bytes))?;
        let mut tensors = super::v2::read_tensors(&parsed, request_tail)?;
        tensors.retain(|t| {
            endpoint.served.binding.inputs.iter().any(|b| b.input == t.name || b.columns.contains(&t.name))
        });
        (to_frame(tensors, &endpoint.served.binding)?, parsed.id.clone())
    } else if let Some(instances) = request.get("instances").and_then(Value::as_array) {
        (super::v1::instances_frame(instances, &endpoint.served.columns)?, None)
    } else {
        return Err(Error::Invalid("the request is neither V2 ({\"inputs\": …}) nor V1 ({\"instances\": …})".into()));
    };
    let inputs: DataFrame = rows::prepare(info, &endpoint.served.binding, &inputs)?;
    let predictions = match response.get("outputs").and_then(Value::as_array) {
        Some(outputs) => predictions_from_outputs(&output_specs(info), &output_data(outputs, response_tail)?)?,
        None => v1_predictions(&endpoint, &response)?,
    };
    if predictions.rows != inputs.height() {
        return Err(Error::Invalid(format!(
            "the response has {} rows for the request's {}",
            predictions.rows,
            inputs.height()
        )));
    }
    let rows = inputs.height();
    let request_time = pair.request.time.as_deref().and_then(parse_time);
    let latency_ms = match (request_time, pair.response.time.as_deref().and_then(parse_time)) {
        (Some(a), Some(b)) => ((b - a).num_microseconds().unwrap_or(0) as f64 / 1e3).max(0.0),
        _ => 0.0,
    };
    let time = request_time.unwrap_or_else(chrono::Utc::now).to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let version = response
        .get("model_version")
        .and_then(Value::as_str)
        .map_or_else(|| endpoint.served.version.clone(), str::to_string);
    log.record(LogEntry {
        model: endpoint.served.name.clone(),
        version,
        arm: if pair.request.endpoint.as_deref() == Some("canary") { "canary" } else { "champion" },
        keys: Vec::new(),
        request_id: v2_id.unwrap_or_else(|| pair.request.id.clone()),
        positions: Vec::new(),
        time,
        latency_ms,
        inputs,
        predictions,
        output_columns: Arc::clone(&endpoint.output_columns),
        rejected: None,
    });
    Ok(rows)
}

/// An event's body as JSON, and the bytes after it: Triton's binary extension (its client's
/// default) sends the JSON part followed by raw tensor bytes, and the logger keeps no header with
/// the JSON part's length — it ends where its first value does. A body with bare `NaN`s (no binary
/// part) is read after they are rewritten.
fn split_body<'e>(event: &'e Event, what: &str) -> Result<(Value, &'e [u8])> {
    let mut values = serde_json::Deserializer::from_slice(&event.body).into_iter::<Value>();
    if let Some(Ok(value)) = values.next() {
        let tail = &event.body[values.byte_offset()..];
        let binary = ["inputs", "outputs"].iter().any(|k| {
            let tensors = value.get(k).and_then(Value::as_array);
            tensors.is_some_and(|a| a.iter().any(|t| t.pointer("/parameters/binary_data_size").is_some()))
        });
        if binary {
            return Ok((value, tail));
        }
        if tail.iter().all(u8::is_ascii_whitespace) {
            return Ok((value, &[]));
        }
        return Err(Error::Invalid(format!(
            "the {what} event's body has {} bytes after its JSON, and no tensor says binary_data_size",
            tail.len()
        )));
    }
    let text = rewrite_non_finite(&event.body);
    let value = serde_json::from_slice(text.as_deref().unwrap_or(&event.body)).map_err(|e| {
        Error::Invalid(format!(
            "the {what} event's body is not JSON, nor JSON and binary tensors ({}): {e}",
            event.content_type
        ))
    })?;
    Ok((value, &[]))
}

/// A V2 response's outputs as `(name, datatype, data)`: the JSON `data`, or the bytes of those sent
/// as binary (`parameters.binary_data_size`, in output order, from `tail`).
fn output_data(outputs: &[Value], tail: &[u8]) -> Result<Vec<(String, String, Value)>> {
    let mut tail = Tail::new(tail);
    let mut out = Vec::with_capacity(outputs.len());
    for o in outputs {
        let text = |k: &str| o.get(k).and_then(Value::as_str).unwrap_or_default().to_string();
        let (name, datatype) = (text("name"), text("datatype"));
        let size = o.get("parameters").and_then(|p| p.get("binary_data_size")).and_then(Value::as_u64);
        let data = match (size, Datatype::parse(&datatype)) {
            (Some(size), Some(dt)) => {
                let size =
                    usize::try_from(size).map_err(|_| Error::Invalid(format!("output '{name}' is too large")))?;
                let shape: Vec<u64> =
                    o.get("shape").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_u64).collect();
                let count = shape.iter().try_fold(1usize, |n, d| n.checked_mul(usize::try_from(*d).ok()?));
                let count = count.ok_or_else(|| Error::Invalid(format!("output '{name}' has no usable shape")))?;
                values_json(super::binary::decode(&name, dt, count, tail.take(&name, size)?)?)
            }
            _ => o.get("data").cloned().unwrap_or(Value::Null),
        };
        out.push((name, datatype, data));
    }
    tail.finish()?;
    Ok(out)
}

/// Decoded tensor values as a JSON array (missing values as `null`).
fn values_json(values: Values) -> Value {
    match values {
        Values::Float(v) => v.into_iter().map(|x| x.map_or(Value::Null, Value::from)).collect(),
        Values::Int(v) => v.into_iter().map(|x| x.map_or(Value::Null, Value::from)).collect(),
        Values::Bool(v) => v.into_iter().map(|x| x.map_or(Value::Null, Value::from)).collect(),
        Values::Text(v) => v.into_iter().map(|x| x.map_or(Value::Null, Value::from)).collect(),
    }
}

/// The served model a pair is for: the response's `model_name`, else the inference service's
/// name, else the only model served.
fn model_of(s: &Shared, response: &Value, service: Option<&str>) -> Result<Arc<Endpoint>> {
    let named = response.get("model_name").and_then(Value::as_str);
    for name in named.into_iter().chain(service) {
        if let Ok(e) = s.service.find(name, None) {
            return Ok(e);
        }
    }
    let all = s.service.endpoints();
    match all.as_slice() {
        [only] => Ok(Arc::clone(only)),
        _ => Err(Error::NotFound(format!(
            "the events name no served model (model_name {named:?}, inference service {service:?})"
        ))),
    }
}

/// A V1 response's predictions: labels (with `probabilities` when given) or values.
fn v1_predictions(endpoint: &Endpoint, response: &Value) -> Result<BatchPredictions> {
    let predictions = response.get("predictions").and_then(Value::as_array).ok_or_else(|| {
        Error::Invalid("the response is neither V2 ({\"outputs\": …}) nor V1 ({\"predictions\": …})".into())
    })?;
    let info = endpoint.served.model.info();
    let single = output_specs(info).iter().any(|s| s.datatype == Datatype::F32);
    let floats = |v: &Value| -> Result<Vec<f64>> {
        let mut out = Vec::new();
        for x in v.as_array().map_or_else(|| vec![v], |a| a.iter().collect()) {
            out.push(x.as_f64().ok_or_else(|| Error::Invalid(format!("'{x}' is not a number")))?);
        }
        Ok(out)
    };
    let mut pred = BatchPredictions {
        rows: predictions.len(),
        labels: None,
        probabilities: None,
        values: None,
        single_precision: single,
    };
    match &info.task {
        Task::Classification { .. } => {
            let ints: Option<Vec<i64>> = predictions.iter().map(Value::as_i64).collect();
            pred.labels = Some(match ints {
                Some(v) => Labels::Int(v),
                None => Labels::Str(
                    predictions.iter().map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string)).collect(),
                ),
            });
            if let Some(rows) = response.get("probabilities").and_then(Value::as_array) {
                let mut all = Vec::new();
                for r in rows {
                    all.extend(floats(r)?);
                }
                pred.probabilities = Some(all);
            }
        }
        Task::Regression { .. } => {
            let mut all = Vec::new();
            for r in predictions {
                all.extend(floats(r)?);
            }
            pred.values = Some(all);
        }
    }
    Ok(pred)
}

fn parse_time(text: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    chrono::DateTime::parse_from_rfc3339(text).ok().map(|t| t.with_timezone(&chrono::Utc))
}
