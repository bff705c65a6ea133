//! The HTTP routes and what they share. Every route answers JSON; an unknown path or method gets a
//! JSON 404 / 405 naming what is served; a handler that panics gets a 500 and the server carries on.
//!
//! | route | answer |
//! |---|---|
//! | `GET /v2/health/live`, `/v2/health/ready` | `{"live":true}`, `{"ready":true}` (503 while stopping) |
//! | `GET /v2` | server metadata |
//! | `GET /v2/models/{m}[/versions/{v}]` | model metadata |
//! | `GET /v2/models/{m}[/versions/{v}]/ready` | `{"name":…,"ready":true}` |
//! | `POST /v2/models/{m}[/versions/{v}]/infer` | V2 inference ([`super::v2`]) |
//! | `GET /v1/models`, `GET /v1/models/{m}`, `POST /v1/models/{m}:predict` | KServe V1 ([`super::v1`]) |
//! | `GET /` | `{"status":"alive"}` (KServe V1 liveness) |
//! | `GET /metrics` | Prometheus metrics ([`super::metrics`]) |
//! | `GET /admin/routes`, `POST /admin/routes/{name}` | routes' state; promote, abort, weight ([`super::admin`]) |

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::Ordering;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{Method, StatusCode, Uri};
use axum::response::Response;
use axum::routing::{get, post};
use serde::Serialize;
use serde_json::json;

use super::reply;
use super::state::{Shared, model_and_version};
use crate::core::error::Error;
use crate::core::model::info::{IoType, Task};
use crate::core::serving::protocol::{input_datatype, metadata_shape, output_specs};

/// The routes over `state`.
pub fn router(state: Shared) -> Router {
    Router::new()
        .route(
            "/",
            get(|| async { reply::json(StatusCode::OK, &json!({"status": "alive"})) }).post(super::collect::ingest),
        )
        .route("/collect", post(super::collect::ingest))
        .route("/v2", get(server_metadata))
        .route("/v2/health/live", get(|| async { reply::json(StatusCode::OK, &json!({"live": true})) }))
        .route("/v2/health/ready", get(server_ready))
        .route("/v2/models/{model}", get(model_metadata))
        .route("/v2/models/{model}/versions/{version}", get(model_metadata))
        .route("/v2/models/{model}/ready", get(model_ready))
        .route("/v2/models/{model}/versions/{version}/ready", get(model_ready))
        .route("/v2/models/{model}/infer", post(super::v2::infer))
        .route("/v2/models/{model}/versions/{version}/infer", post(super::v2::infer))
        .route("/v2/models/{model}/feedback", post(super::feedback::post).get(super::feedback::get))
        .route("/v1/models", get(super::v1::list))
        .route("/v1/models/{model}", get(super::v1::status).post(super::v1::predict))
        .route("/metrics", get(metrics))
        .route("/admin/routes", get(super::admin::routes))
        .route("/admin/routes/{name}", post(super::admin::change))
        .fallback(not_found)
        .method_not_allowed_fallback(not_allowed)
        .with_state(state)
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(panicked))
}

async fn server_metadata() -> Response {
    reply::json(
        StatusCode::OK,
        &json!({"name": "mirador", "version": env!("CARGO_PKG_VERSION"), "extensions": ["binary_tensor_data"]}),
    )
}

async fn server_ready(State(s): State<Shared>) -> Response {
    let ready = s.ready.load(Ordering::SeqCst);
    let status = if ready { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    reply::json(status, &json!({ "ready": ready }))
}

async fn model_ready(State(s): State<Shared>, Path(params): Path<HashMap<String, String>>) -> Response {
    let (name, version) = model_and_version(&params);
    match s.endpoint(name, version) {
        Ok(e) => reply::json(StatusCode::OK, &json!({"name": e.served.name, "ready": true})),
        Err(e) if e.kind() == crate::core::error::ErrorKind::Unavailable => {
            reply::json(StatusCode::SERVICE_UNAVAILABLE, &json!({"name": name, "ready": false}))
        }
        Err(e) => reply::error(&e),
    }
}

/// A tensor in model metadata.
#[derive(Serialize)]
struct TensorMetadata {
    name: String,
    datatype: &'static str,
    shape: Vec<i64>,
}

async fn model_metadata(State(s): State<Shared>, Path(params): Path<HashMap<String, String>>) -> Response {
    let (name, version) = model_and_version(&params);
    let e = match s.service.find(name, version) {
        Ok(e) => e,
        Err(e) => return reply::error(&e),
    };
    let info = e.served.model.info();
    let inputs: Vec<TensorMetadata> = info
        .inputs
        .iter()
        .filter_map(|i| match &i.ty {
            IoType::Tensor { elem, shape } => Some(TensorMetadata {
                name: i.name.clone(),
                datatype: input_datatype(elem).as_str(),
                shape: metadata_shape(shape),
            }),
            _ => None,
        })
        .collect();
    let outputs: Vec<TensorMetadata> = output_specs(info)
        .into_iter()
        .map(|o| TensorMetadata { name: o.name, datatype: o.datatype.as_str(), shape: o.shape })
        .collect();
    let mut parameters = BTreeMap::new();
    parameters.insert("columns", json!(e.served.columns));
    match &info.task {
        Task::Classification { classes, .. } => {
            parameters.insert("task", json!("classification"));
            parameters.insert("classes", json!(classes));
        }
        Task::Regression { .. } => {
            parameters.insert("task", json!("regression"));
        }
    }
    let packed: BTreeMap<&str, &Vec<String>> = e
        .served
        .binding
        .inputs
        .iter()
        .filter(|b| b.columns.len() > 1 || b.columns.first() != Some(&b.input))
        .map(|b| (b.input.as_str(), &b.columns))
        .collect();
    if !packed.is_empty() {
        parameters.insert("input_columns", json!(packed));
    }
    reply::json(
        StatusCode::OK,
        &json!({
            "name": e.served.name,
            "versions": [e.served.version],
            "platform": "onnx_onnxv1",
            "inputs": inputs,
            "outputs": outputs,
            "parameters": parameters,
        }),
    )
}

/// OpenMetrics when the scraper asks for it (Prometheus does), else the classic text format.
async fn metrics(State(s): State<Shared>, headers: axum::http::HeaderMap) -> Response {
    let accept = headers.get(axum::http::header::ACCEPT).and_then(|v| v.to_str().ok()).unwrap_or("");
    if accept.contains("application/openmetrics-text") {
        reply::bytes(
            StatusCode::OK,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
            s.metrics.encode().into_bytes(),
        )
    } else {
        reply::bytes(
            StatusCode::OK,
            "text/plain; version=0.0.4; charset=utf-8",
            s.metrics.encode_classic().into_bytes(),
        )
    }
}

async fn not_found(method: Method, uri: Uri) -> Response {
    reply::error_with(
        StatusCode::NOT_FOUND,
        &format!(
            "nothing is served at {method} {}; this server answers the Open Inference Protocol under /v2 \
             (GET /v2/models/NAME for a model's inputs, POST /v2/models/NAME/infer), KServe V1 under /v1/models, \
             and /metrics",
            uri.path()
        ),
    )
}

async fn not_allowed(method: Method, uri: Uri) -> Response {
    reply::error_with(StatusCode::METHOD_NOT_ALLOWED, &format!("{method} is not allowed on {}", uri.path()))
}

fn panicked(payload: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let e = Error::panicked("request", payload.as_ref());
    reply::error_with(
        StatusCode::INTERNAL_SERVER_ERROR,
        &format!("an internal fault stopped this request ({e}); the server carries on"),
    )
}
