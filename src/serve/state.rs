//! What every request handler shares: the served models, the metrics, whether the server still
//! takes requests; and the steps every inference route takes (read the body within its limit,
//! queue the rows, wait for their predictions).

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Instant;

use axum::body::Body;
use axum::http::StatusCode;

use super::metrics::{Metrics, ModelLabels};
use crate::core::error::{Error, Result};
use crate::core::serving::dispatch::Routing;
use crate::core::serving::{Answer, Endpoint, Service};

/// What every handler shares.
pub struct AppState {
    /// The served models.
    pub service: Service,
    /// The metrics.
    pub metrics: Metrics,
    /// False once the server is stopping.
    pub ready: AtomicBool,
    /// Payload events waiting for their partner (servers with a log).
    pub collector: Option<Arc<std::sync::Mutex<crate::core::serving::collect::Collector>>>,
    next_id: AtomicU64,
    id_prefix: String,
}

/// Shared state.
pub type Shared = Arc<AppState>;

impl AppState {
    /// State over a started service.
    pub fn new(service: Service) -> Self {
        // Payload events wait at most a minute for their partner, at most 10,000 at once.
        let collector = service.log().map(|log| {
            let c =
                crate::core::serving::collect::Collector::new(log.dir(), 10_000, std::time::Duration::from_secs(60));
            Arc::new(std::sync::Mutex::new(c))
        });
        let counts =
            collector.as_ref().map(|c| Arc::clone(&c.lock().unwrap_or_else(std::sync::PoisonError::into_inner).counts));
        let metrics = Metrics::new(
            service.log().map(|l| Arc::clone(l.counts())),
            Arc::clone(service.route_table()),
            Arc::clone(service.quality().state()),
            counts,
        );
        for e in service.endpoints() {
            metrics.set_ready(&labels(&e), true);
        }
        let id_prefix = format!("{:x}", chrono::Utc::now().timestamp_millis());
        Self { service, metrics, ready: AtomicBool::new(true), collector, next_id: AtomicU64::new(1), id_prefix }
    }

    /// An id for a request that brought none (for the prediction log).
    pub fn new_request_id(&self) -> String {
        format!("{}-{}", self.id_prefix, self.next_id.fetch_add(1, Ordering::Relaxed))
    }

    /// The served model, when the server is ready.
    pub fn endpoint(&self, name: &str, version: Option<&str>) -> Result<Arc<Endpoint>> {
        if !self.ready.load(Ordering::SeqCst) {
            return Err(Error::Unavailable("the server is stopping and takes no new requests".into()));
        }
        self.service.find(name, version)
    }

    /// Refuse a request of more rows than the server takes (before its rows are assembled).
    pub fn check_rows(&self, rows: usize) -> Result<()> {
        let limit = self.service.config().limits.max_rows;
        if rows > limit {
            return Err(Error::TooLarge(format!(
                "the request has {rows} rows; this server takes at most {limit} per request (max_rows)"
            )));
        }
        Ok(())
    }

    /// Count an answered request in the metrics and the window's figures.
    pub fn answered(&self, model: &ModelLabels, status: StatusCode, rows: usize, started: Instant) {
        let secs = started.elapsed().as_secs_f64();
        self.metrics.request(model, status.as_u16(), rows, secs);
        self.service.stats().record(crate::core::serving::stats::RequestRecord {
            at: std::time::SystemTime::now(),
            model: model.model.clone(),
            status: status.as_u16(),
            rows,
            latency_secs: secs,
        });
    }
}

/// The metric labels of a served model.
pub fn labels(e: &Endpoint) -> ModelLabels {
    ModelLabels { model: e.served.name.clone(), version: e.served.version.clone() }
}

/// The path's model and optional version.
pub fn model_and_version(params: &HashMap<String, String>) -> (&str, Option<&str>) {
    (params.get("model").map_or("", String::as_str), params.get("version").map(String::as_str))
}

/// Read the body (refusing one over the limit), then the request.
pub async fn read_body(s: &Shared, body: Body) -> Result<axum::body::Bytes> {
    let limit = s.service.config().limits.max_body_bytes;
    axum::body::to_bytes(body, limit).await.map_err(|e| {
        if std::error::Error::source(&e).is_some_and(|s| s.is::<http_body_util::LengthLimitError>()) {
            Error::TooLarge(format!("the request body is over this server's limit of {limit} bytes (max_body_bytes)"))
        } else {
            Error::Invalid(format!("the request body could not be read: {e}"))
        }
    })
}

/// Route the rows and wait for their predictions.
pub async fn submit(
    s: &Shared,
    endpoint: &Arc<Endpoint>,
    routing: Routing,
    frame: &polars::prelude::DataFrame,
    request_id: String,
) -> Result<Answer> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    let state = Arc::clone(s);
    let name = endpoint.served.name.clone();
    s.service.infer(&endpoint.served.name, routing, frame, request_id, move |answer| {
        if let Ok(a) = &answer
            && a.batch_rows > 0
        {
            let model = ModelLabels { model: name.clone(), version: a.version.clone() };
            state.metrics.scored(&model, a.queue_secs, a.first_in_batch.then_some(a.batch_rows));
        }
        let _ = tx.send(answer);
    })?;
    rx.await.map_err(|_| Error::internal("the inference worker stopped before answering"))?
}

/// The sticky keys of a request: the route's key column when the rows carry it (taken out of
/// `columns`, which the model does not read), else the request's `key` parameter for every row.
pub fn sticky_keys(
    s: &Shared,
    name: &str,
    rows: usize,
    column: Option<Vec<Option<String>>>,
    parameter: Option<&serde_json::Value>,
) -> Option<Vec<Option<String>>> {
    if let Some(keys) = column {
        return Some(keys);
    }
    let key = match parameter? {
        serde_json::Value::String(k) => k.clone(),
        serde_json::Value::Number(n) => n.to_string(),
        _ => return None,
    };
    s.service.route(name).ok()?;
    Some(vec![Some(key); rows])
}

/// The route's sticky key column, when it has one the model does not read.
pub fn key_column(s: &Shared, endpoint: &Endpoint) -> Option<String> {
    let route = s.service.route(&endpoint.served.name).ok()?;
    route.sticky_key.clone().filter(|k| !endpoint.served.columns.contains(k))
}
