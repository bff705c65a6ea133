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
//! - [`route`]: a served name over a champion and a challenger, with its strategy and live gate;
//!   [`routes`]: the table of them, partly replaced when the config is read again;
//!   [`dispatch`]: one request's rows split between them; [`controller`]: the clock that measures
//!   the gate, steps, promotes or aborts; [`follow`]: registry stages followed, each new version
//!   swapped in on probation or rolled out through the route's gate;
//! - [`live`]: drift of the rows served, against a reference; [`quality`]: realised metrics from
//!   late labels; [`alerting`]: rules on both, firing after their duration;
//! - [`collect`]: payload events from KServe's logger, paired for the log;
//! - [`stats`]: live figures for the window; [`launch`]: how the window starts a server.
//!
//! [`Service`] ties them together: the routes, each version with its batcher, and the log.

pub mod alerting;
pub mod batcher;
pub mod collect;
pub mod config;
pub mod controller;
pub mod dispatch;
pub mod follow;
pub mod launch;
pub mod live;
pub mod predlog;
pub mod protocol;
pub mod quality;
pub mod route;
pub mod routes;
pub mod rows;
pub mod snippets;
pub mod source;
pub mod stats;

use std::sync::Arc;

use crate::core::error::{Error, Result};
use crate::core::session::{BatchPredictions, output_columns};
use batcher::Batcher;
use config::ServeConfig;
use predlog::PredictionLog;
use route::Route;
use routes::RouteTable;
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
    /// Its live drift monitor, when it has a reference profile.
    pub live: Option<live::LiveDrift>,
    /// What it answers, for comparing late labels with it.
    pub answers: Arc<quality::Answers>,
    /// The requests it has answered or failed since it started, and their latency: what a new
    /// version's probation judges (a route's arm counters also hold requests of the version before).
    pub answered: route::ArmCounters,
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
    /// The version that answered (`1,2` when a canary request's rows were split between two).
    pub version: String,
    /// Each row's version, when they differ.
    pub row_versions: Option<Vec<String>>,
    /// Rows of the request left out because they failed the contract (a quarantining request):
    /// each row's index in the request and the rule that caught it. The predictions are the other
    /// rows', in order.
    pub quarantined: Vec<(usize, String)>,
}

/// Everything a server serves: the routes, the log, the live figures.
pub struct Service {
    routes: Arc<RouteTable>,
    log: Option<Arc<PredictionLog>>,
    stats: Arc<ServeStats>,
    config: ServeConfig,
    workers: usize,
    notes: Vec<String>,
    controller: Option<controller::Controller>,
    quality: Arc<quality::LiveQuality>,
}

impl Service {
    /// Load every model (bundles verified, registry files checked against their hash), start and
    /// warm their workers, open the prediction log, start the routes' clock. Ready when this
    /// returns.
    pub fn start(config: &ServeConfig) -> Result<Self> {
        config.check()?;
        let (workers, note) = config.workers();
        let routes = Arc::new(RouteTable::start(config, workers)?);
        let log = config.log_dir.as_ref().map(|dir| PredictionLog::start(dir, &config.log)).transpose()?.map(Arc::new);
        let controller = Some(controller::Controller::start(Arc::clone(&routes), config)?);
        let quality =
            Arc::new(quality::LiveQuality::start(&config.live, &config.alert_settings()?, config.log_dir.clone())?);
        Ok(Self {
            quality,
            routes,
            log,
            stats: Arc::new(ServeStats::default()),
            config: config.clone(),
            workers,
            notes: note.into_iter().collect(),
            controller,
        })
    }

    /// The routes now.
    pub fn routes(&self) -> Vec<Arc<Route>> {
        self.routes.all()
    }

    /// The route table (shared with the metrics and the window, which read it as it changes).
    pub fn route_table(&self) -> &Arc<RouteTable> {
        &self.routes
    }

    /// Each route's champion now (what a client gets by default).
    pub fn endpoints(&self) -> Vec<Arc<Endpoint>> {
        self.routes.all().iter().map(|r| r.arms().champion).collect()
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

    /// The feedback monitor (realised metrics from late labels).
    pub fn quality(&self) -> &Arc<quality::LiveQuality> {
        &self.quality
    }

    /// Join late labels to `name`'s answers. A label that is not one of the model's classes (or,
    /// for a regressor, not a number) is refused, naming it; a label whose row is unknown or
    /// forgotten is counted unmatched and still kept in the labels log.
    pub fn feedback(&self, name: &str, labels: Vec<quality::Feedback>) -> Result<quality::FeedbackOutcome> {
        let answers = Arc::clone(&self.route(name)?.arms().champion.answers);
        for (i, f) in labels.iter().enumerate() {
            let known = match &*answers {
                quality::Answers::Classes { classes, .. } => classes.contains(&f.label),
                quality::Answers::Values => f.label.trim().parse::<f64>().is_ok_and(f64::is_finite),
            };
            if !known {
                let expected = match &*answers {
                    quality::Answers::Classes { classes, .. } => format!("one of the classes {}", classes.join(", ")),
                    quality::Answers::Values => "a finite number".into(),
                };
                return Err(Error::Invalid(format!(
                    "label {i} is {}; model '{name}' expects {expected}",
                    crate::core::text::quote(&f.label)
                )));
            }
            if f.id.is_none() && f.key.is_none() {
                return Err(Error::Invalid(format!(
                    "label {i} names no row: give its request \"id\" (and \"row\") or its \"key\""
                )));
            }
        }
        self.quality.feedback(name, labels)
    }

    /// The prediction log, when one is kept.
    pub fn log(&self) -> Option<&Arc<PredictionLog>> {
        self.log.as_ref()
    }

    /// The route served as `name`: not found otherwise, saying what is.
    pub fn route(&self, name: &str) -> Result<Arc<Route>> {
        self.routes.get(name).ok_or_else(|| {
            let all = self.routes.all();
            let served: Vec<&str> = all.iter().map(|r| r.name.as_str()).collect();
            let hint = crate::core::text::did_you_mean(name, served.iter().copied());
            Error::NotFound(format!("no model '{name}' is served here{hint}; served: {}", served.join(", ")))
        })
    }

    /// Apply a re-read config's models and routes (see [`RouteTable::reload`]); the other settings
    /// (address, limits, batching, log) stay as started. Returns what changed, in words.
    pub fn reload(&self, config: &ServeConfig) -> Result<Vec<String>> {
        self.routes.reload(config, self.workers)
    }

    /// The version of `name` a client reaches: `version` when given (the champion's or the
    /// challenger's), else the champion.
    pub fn find(&self, name: &str, version: Option<&str>) -> Result<Arc<Endpoint>> {
        let arms = self.route(name)?.arms();
        match version {
            None => Ok(arms.champion),
            Some(v) if v == arms.champion.served.version => Ok(arms.champion),
            Some(v) => match arms.challenger {
                Some(c) if c.served.version == v => Ok(c),
                _ => Err(Error::NotFound(format!(
                    "model '{name}' has no version '{v}' here; it serves version {}",
                    arms.champion.served.version
                ))),
            },
        }
    }

    /// Stop: the routes' clock stops; the workers end when the last request is answered; the log
    /// writes what is waiting and closes its segments.
    pub fn shutdown(self) -> Result<()> {
        let Self { routes, log, controller, config, quality, .. } = self;
        drop(controller);
        // Its labels are written as it stops.
        drop(quality);
        drop(routes);
        let Some(mut log) = log else { return Ok(()) };
        // Requests still queued (a shadow's copies) hold the log until they are scored: wait for
        // them, within the shutdown grace, so their rows and the open segments are written.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs_f64(config.shutdown_grace_secs);
        loop {
            match Arc::try_unwrap(log) {
                Ok(log) => return log.close(),
                Err(shared) if std::time::Instant::now() < deadline => {
                    log = shared;
                    std::thread::sleep(std::time::Duration::from_millis(10));
                }
                // Still shared past the grace: the last request's drop flushes what it can.
                Err(_) => return Ok(()),
            }
        }
    }
}

impl Endpoint {
    /// Start `served`'s workers (warm: its sessions open now).
    pub fn start(served: ServedModel, config: &ServeConfig, workers: usize) -> Result<Self> {
        let batcher = Batcher::start(&served.model, &served.binding, &config.batching, workers)?;
        let output_columns = Arc::new(output_columns(served.model.info()));
        let reference = match (&served.reference, &config.reference) {
            (Some(profile), _) => Some(profile.clone()),
            (None, Some(path)) => {
                let frame = crate::core::drift::read_rows(path, &[])?;
                let source = path.display().to_string();
                Some(crate::core::drift::profile::ReferenceProfile::from_frame(&frame, &source, &[])?)
            }
            (None, None) => None,
        };
        let alerts = config.alert_settings()?;
        let live = reference.map(|r| live::LiveDrift::start(&served.name, r, &config.live, alerts)).transpose()?;
        let info = served.model.info();
        let answers = Arc::new(match &info.task {
            crate::core::model::info::Task::Classification { classes, .. } => quality::Answers::Classes {
                classes: classes.clone(),
                positive: crate::core::evaluate::positive_index(info, classes, None)
                    .unwrap_or(classes.len().saturating_sub(1)),
            },
            crate::core::model::info::Task::Regression { .. } => quality::Answers::Values,
        });
        Ok(Self { served, batcher, output_columns, live, answers, answered: route::ArmCounters::default() })
    }
}
