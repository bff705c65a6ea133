//! Serving models: what `mirador serve` does, apart from HTTP. The formats and policies live here,
//! shared by the server, the window and the tests, and testable without a socket:
//!
//! - [`config`]: what to serve and how (flags or a TOML file), checked;
//! - [`source`]: a model file, a registry reference or a verified bundle, loaded and bound;
//! - [`rows`]: a request's rows checked against the contract (the same conversion as a file) and
//!   typed as the model reads them;
//! - [`batcher`]: dynamic batching over a bounded queue, each request getting its own rows back;
//! - [`predlog`]: the prediction log, Parquet segments that appear whole, never blocking inference;
//! - [`protocol`]: the V2 datatypes and a model's outputs as V2 tensors (what the server answers
//!   and the bundle's OpenAPI documents);
//! - [`snippets`]: ready-to-paste `curl` and Python for a served model;
//! - [`stats`]: live figures for the window; [`launch`]: how the window starts a server.
//!
//! [`Service`] ties them together: the served models, each with its batcher, and the log.

pub mod batcher;
pub mod config;
pub mod launch;
pub mod predlog;
pub mod protocol;
pub mod rows;
pub mod snippets;
pub mod source;
pub mod stats;

use std::sync::Arc;
use std::time::{Duration, Instant};

use polars::prelude::DataFrame;

use crate::core::error::{Error, Result};
use crate::core::session::{BatchPredictions, output_columns};
use batcher::{Batcher, Scored};
use config::ServeConfig;
use predlog::{LogEntry, PredictionLog};
use source::ServedModel;
use stats::ServeStats;

/// A served model with its batcher.
pub struct Endpoint {
    /// The model, its name, version and columns.
    pub served: ServedModel,
    /// Its queue and workers.
    pub batcher: Batcher,
    /// The prediction columns Mirador writes for it (`label`, `p_<class>`, `prediction`).
    pub output_columns: Arc<Vec<String>>,
}

/// One request's answer.
#[derive(Debug, Clone)]
pub struct Answer {
    /// Its rows' predictions.
    pub predictions: BatchPredictions,
    /// Seconds it waited for its batch.
    pub queue_secs: f64,
    /// Seconds its batch's inference took.
    pub infer_secs: f64,
    /// Rows in that batch.
    pub batch_rows: usize,
    /// Whether it was its batch's first request (so each batch is counted once).
    pub first_in_batch: bool,
}

/// Everything a server serves: the models, the log, the live figures.
pub struct Service {
    endpoints: Vec<Arc<Endpoint>>,
    log: Option<Arc<PredictionLog>>,
    stats: Arc<ServeStats>,
    config: ServeConfig,
    notes: Vec<String>,
}

impl Service {
    /// Load every model (bundles verified, registry files checked against their hash), start and
    /// warm their workers, open the prediction log. Ready when this returns.
    pub fn start(config: &ServeConfig) -> Result<Self> {
        config.check()?;
        let (workers, note) = config.workers();
        let mut endpoints = Vec::with_capacity(config.models.len());
        for spec in &config.models {
            let served = ServedModel::load(spec, &config.registry)?;
            if endpoints.iter().any(|e: &Arc<Endpoint>| e.served.name == served.name) {
                return Err(Error::Invalid(format!(
                    "two models would be served as '{}': name one with --model NAME=REF",
                    served.name
                )));
            }
            let batcher = Batcher::start(&served.model, &served.binding, &config.batching, workers)?;
            let output_columns = Arc::new(output_columns(served.model.info()));
            endpoints.push(Arc::new(Endpoint { served, batcher, output_columns }));
        }
        let log = config.log_dir.as_ref().map(|dir| PredictionLog::start(dir, &config.log)).transpose()?.map(Arc::new);
        Ok(Self {
            endpoints,
            log,
            stats: Arc::new(ServeStats::default()),
            config: config.clone(),
            notes: note.into_iter().collect(),
        })
    }

    /// The served models.
    pub fn endpoints(&self) -> &[Arc<Endpoint>] {
        &self.endpoints
    }

    /// The config it runs with.
    pub fn config(&self) -> &ServeConfig {
        &self.config
    }

    /// What start-up adjusted (a capped worker count).
    pub fn notes(&self) -> &[String] {
        &self.notes
    }

    /// The live figures.
    pub fn stats(&self) -> &Arc<ServeStats> {
        &self.stats
    }

    /// The prediction log, when one is kept.
    pub fn log(&self) -> Option<&Arc<PredictionLog>> {
        self.log.as_ref()
    }

    /// The model served as `name` (and `version`, when given): not found otherwise, saying what is.
    pub fn find(&self, name: &str, version: Option<&str>) -> Result<Arc<Endpoint>> {
        let Some(e) = self.endpoints.iter().find(|e| e.served.name == name) else {
            let served: Vec<&str> = self.endpoints.iter().map(|e| e.served.name.as_str()).collect();
            let hint = crate::core::text::did_you_mean(name, served.iter().copied());
            return Err(Error::NotFound(format!(
                "no model '{name}' is served here{hint}; served: {}",
                served.join(", ")
            )));
        };
        match version {
            Some(v) if v != e.served.version => Err(Error::NotFound(format!(
                "model '{name}' has no version '{v}' here; it serves version {}",
                e.served.version
            ))),
            _ => Ok(Arc::clone(e)),
        }
    }

    /// Check `frame` (one request's rows) against `endpoint`'s model, queue it, and call `reply`
    /// with its predictions from the worker that scores it. The rows (and predictions) go to the
    /// prediction log when one is kept. Refused at once: too many rows (`TooLarge`), a value that
    /// does not fit (`Input`, naming row and column), a full queue (`Unavailable`).
    pub fn infer(
        &self,
        endpoint: &Arc<Endpoint>,
        frame: &DataFrame,
        request_id: String,
        reply: impl FnOnce(Result<Answer>) + Send + 'static,
    ) -> Result<()> {
        let arrived = Instant::now();
        let time = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        let limit = self.config.limits.max_rows;
        if frame.height() > limit {
            return Err(Error::TooLarge(format!(
                "the request has {} rows; this server takes at most {limit} per request (max_rows)",
                frame.height()
            )));
        }
        if frame.height() == 0 {
            return Err(Error::Invalid("the request has no rows".into()));
        }
        let served = &endpoint.served;
        let rows = rows::prepare(served.model.info(), &served.binding, frame)?;
        let deadline = Duration::from_secs_f64(self.config.limits.request_timeout_secs);
        let log = self.log.clone();
        let stats = Arc::clone(&self.stats);
        let logged = log.as_ref().map(|_| rows.clone());
        let (model, version, columns) =
            (served.name.clone(), served.version.clone(), Arc::clone(&endpoint.output_columns));
        endpoint.batcher.submit(rows, deadline, move |scored: Result<Scored>| {
            let answer = scored.map(|s| Answer {
                predictions: s.predictions,
                queue_secs: s.queue_secs,
                infer_secs: s.infer_secs,
                batch_rows: s.batch_rows,
                first_in_batch: s.first_in_batch,
            });
            if let Ok(a) = &answer {
                if a.first_in_batch {
                    stats.record_batch(a.batch_rows);
                }
                if let (Some(log), Some(inputs)) = (log, logged) {
                    log.record(LogEntry {
                        model,
                        version,
                        request_id,
                        time,
                        latency_ms: arrived.elapsed().as_secs_f64() * 1e3,
                        inputs,
                        predictions: a.predictions.clone(),
                        output_columns: columns,
                    });
                }
            }
            reply(answer);
        })
    }

    /// Stop: the workers end when the last request is answered; the log writes what is waiting and
    /// closes its segments.
    pub fn shutdown(self) -> Result<()> {
        let Self { endpoints, log, .. } = self;
        drop(endpoints);
        match log.map(Arc::try_unwrap) {
            Some(Ok(log)) => log.close(),
            // Still shared by a request in flight: its drop will flush.
            Some(Err(_)) | None => Ok(()),
        }
    }
}
