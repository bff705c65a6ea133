//! What `mirador serve` serves and how: models (files, registry references, bundles), the address,
//! request limits, dynamic batching, workers and the prediction log. Built from command-line flags
//! or from a TOML file with the same options; [`ServeConfig::check`] refuses out-of-range values.
//!
//! ```toml
//! host = "127.0.0.1"
//! port = 8080
//! log_dir = "prediction-log"
//!
//! [[models]]
//! source = "sample-models/churn_v1.onnx"
//!
//! [[models]]
//! source = "churn@production"   # NAME@STAGE or NAME@VERSION from the registry
//! name = "churn"
//!
//! [limits]
//! max_body_bytes = 16777216
//! max_rows = 100000
//! request_timeout_secs = 30
//!
//! [batching]
//! max_rows = 1024
//! max_delay_us = 0
//! queue_requests = 1024
//!
//! [[routes]]                     # a name over a champion and a challenger
//! name = "churn-rollout"
//! champion = "churn@production"
//! challenger = "churn@staging"
//! strategy = "canary:5,25,50,100@60s"
//! sticky_key = "customer_id"
//! gate = "score_psi <= 0.2; positive_rate_diff <= 0.05; error_rate <= 0.01"
//!
//! [[routes]]                     # no challenger: each new version of the stage rolls out
//! name = "churn"                 # as a canary first (a retrain's promotion reaches clients
//! champion = "churn@production"  # only through this gate)
//! strategy = "canary:10,50,100@5m"
//! gate = "score_psi <= 0.2; error_rate <= 0.01"
//! ```

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::core::error::{Error, Result};
use crate::core::rollout::Strategy;
use crate::core::runtime;
use crate::core::settings;

/// One model to serve.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelSpec {
    /// A model file, a bundle folder or `.tar.gz`, or a registry reference (`NAME@STAGE`,
    /// `NAME@VERSION`).
    pub source: String,
    /// The protocol name (default: the file's stem, the registry name or the bundle's name).
    #[serde(default)]
    pub name: Option<String>,
}

impl ModelSpec {
    /// A spec from `--model REF` or `--model NAME=REF`.
    pub fn parse(arg: &str) -> Self {
        match arg.split_once('=') {
            Some((name, source)) if !name.is_empty() && !name.contains(['/', '@', '.']) => {
                Self { source: source.to_string(), name: Some(name.to_string()) }
            }
            _ => Self { source: arg.to_string(), name: None },
        }
    }
}

/// A route: a served name over a champion and, for blue/green, canary and shadow, a challenger.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RouteSpec {
    /// The name clients call.
    pub name: String,
    /// The version serving now: a model file, a bundle, or `NAME@STAGE` / `NAME@VERSION`. A route
    /// on `NAME@STAGE` with no challenger follows the stage: when it moves, a basic route swaps
    /// the new version in (with the fallback); a canary or shadow route rolls it out as the
    /// challenger, through the gate, and moves the stage back if the gate aborts it.
    pub champion: String,
    /// The version rolling out.
    #[serde(default)]
    pub challenger: Option<String>,
    /// `basic`, `blue-green`, `canary:5,25,50,100@60s`, `shadow[:PCT][@INTERVAL]`.
    #[serde(default = "basic")]
    pub strategy: String,
    /// The column (or the request parameter `key`) whose value keeps a customer on one version.
    #[serde(default)]
    pub sticky_key: Option<String>,
    /// Gate rules on the challenger, `;`-separated (see `mirador replay --help`).
    #[serde(default)]
    pub gate: String,
    /// Failed measurements tolerated before aborting.
    #[serde(default)]
    pub failure_limit: u32,
    /// Rows the challenger needs in an interval for a measurement (fewer: inconclusive).
    #[serde(default = "default_min_rows")]
    pub min_rows: u64,
}

impl RouteSpec {
    /// Whether the route follows its champion's registry stage and rolls each new version out by
    /// its canary or shadow strategy (no challenger named; the champion is `NAME@STAGE`).
    pub fn rolls_out_stage(&self) -> bool {
        Strategy::parse(&self.strategy).is_ok_and(|s| rolls_out_stage(&s, &self.champion, self.challenger.as_deref()))
    }
}

/// Whether a route with `strategy` over `champion` and `challenger` follows the champion's
/// registry stage and rolls each new version out: a canary or shadow strategy, no challenger, a
/// champion that is `NAME@STAGE`.
pub fn rolls_out_stage(strategy: &Strategy, champion: &str, challenger: Option<&str>) -> bool {
    challenger.is_none() && strategy.interval_secs().is_some() && stage_ref(champion).is_some()
}

/// `(NAME, STAGE)` when `source` is a registry stage (`churn@production`: not a version number,
/// not an existing path).
pub fn stage_ref(source: &str) -> Option<(String, String)> {
    let (name, stage) = source.rsplit_once('@')?;
    let is_path = Path::new(source).exists();
    (!is_path && !name.is_empty() && stage.parse::<u32>().is_err() && valid_name(stage))
        .then(|| (name.to_string(), stage.to_string()))
}

fn basic() -> String {
    "basic".into()
}

fn default_min_rows() -> u64 {
    100
}

/// Limits on one request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Limits {
    /// Largest request body, bytes (413 beyond).
    pub max_body_bytes: usize,
    /// Most rows in one request (413 beyond).
    pub max_rows: usize,
    /// Longest a request may take, seconds (504 beyond).
    pub request_timeout_secs: f64,
}

impl Default for Limits {
    fn default() -> Self {
        Self { max_body_bytes: 16 << 20, max_rows: 100_000, request_timeout_secs: 30.0 }
    }
}

/// Dynamic batching: rows of requests that wait together are scored in one ONNX Runtime call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Batching {
    /// Most rows in one call (a single larger request is scored alone).
    pub max_rows: usize,
    /// How long the first request of a batch may wait for others, microseconds. 0: take what is
    /// already waiting and go (no added latency; batches still form under load).
    pub max_delay_us: u64,
    /// Requests that may wait per model; beyond, the server answers 503 (overloaded).
    pub queue_requests: usize,
}

impl Default for Batching {
    fn default() -> Self {
        Self { max_rows: 1024, max_delay_us: 0, queue_requests: 1024 }
    }
}

/// The prediction log: every served row, as Parquet segments in a folder per model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct LogSettings {
    /// A segment is closed after this many rows.
    pub segment_rows: usize,
    /// …or after this many seconds.
    pub segment_secs: f64,
    /// Rows that may wait for the writer; beyond, rows are dropped (and counted).
    pub queue_rows: usize,
}

impl Default for LogSettings {
    fn default() -> Self {
        Self { segment_rows: 100_000, segment_secs: 60.0, queue_rows: 200_000 }
    }
}

/// Everything `mirador serve` needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ServeConfig {
    /// The models.
    pub models: Vec<ModelSpec>,
    /// Address to listen on (loopback unless told otherwise).
    pub host: String,
    /// Port (0: any free port).
    pub port: u16,
    /// The registry folder, for `NAME@STAGE` references.
    pub registry: PathBuf,
    /// Request limits.
    pub limits: Limits,
    /// Dynamic batching.
    pub batching: Batching,
    /// Inference workers per model (each with its own ONNX Runtime session); 0: one per core.
    pub workers: usize,
    /// Where the prediction log goes (none when unset).
    pub log_dir: Option<PathBuf>,
    /// Prediction log settings.
    pub log: LogSettings,
    /// Seconds in-flight requests get to finish after SIGTERM / SIGINT.
    pub shutdown_grace_secs: f64,
    /// Routes over a champion and a challenger.
    pub routes: Vec<RouteSpec>,
    /// Seconds between looks at the registry, for routes that follow a stage.
    pub follow_secs: f64,
    /// Seconds a followed stage's new version is watched after the switch, the old one kept warm
    /// to fall back to when its errors spike (0: no fallback).
    pub fallback_secs: f64,
    /// Reference data (CSV or Parquet) for the live drift of models that bring no reference
    /// profile (a bundle brings its own).
    pub reference: Option<PathBuf>,
    /// The live drift's rolling window.
    pub live: super::live::LiveSettings,
    /// Alert rules on the live drift (`share_drifted > 0.3; drift:monthly_charges > 0.2`).
    pub alerts: String,
    /// Seconds a breach must last before its alert fires.
    pub alert_for_secs: f64,
    /// An `http://` address that receives alerts in Alertmanager's webhook format.
    pub alert_webhook: Option<String>,
    /// The alert log (JSON lines; default: `alerts.jsonl` in the prediction log's folder).
    pub alert_log: Option<PathBuf>,
    /// The token `/admin` requires (`Authorization: Bearer …`); none: `/admin` is off. Also read
    /// from `MIRADOR_ADMIN_TOKEN`.
    pub admin_token: Option<String>,
}

impl Default for ServeConfig {
    fn default() -> Self {
        Self {
            models: Vec::new(),
            host: "127.0.0.1".into(),
            port: 8080,
            registry: PathBuf::from("mirador-registry"),
            limits: Limits::default(),
            batching: Batching::default(),
            workers: 0,
            log_dir: None,
            log: LogSettings::default(),
            shutdown_grace_secs: 10.0,
            routes: Vec::new(),
            follow_secs: 2.0,
            fallback_secs: 60.0,
            reference: None,
            live: super::live::LiveSettings::default(),
            alerts: String::new(),
            alert_for_secs: 60.0,
            alert_webhook: None,
            alert_log: None,
            admin_token: None,
        }
    }
}

impl ServeConfig {
    /// Read a TOML config file.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io("read the server config", path, e))?;
        let config: Self = toml::from_str(&text)
            .map_err(|e| Error::Invalid(format!("the server config is not valid: {e} — {}", path.display())))?;
        Ok(config)
    }

    /// Refuse settings out of range, naming the setting.
    pub fn check(&self) -> Result<()> {
        let mut names = std::collections::BTreeSet::new();
        if self.models.is_empty() && self.routes.is_empty() {
            return Err(Error::Invalid(
                "nothing to serve: name at least one model (--model REF) or route (--route NAME --champion REF)".into(),
            ));
        }
        for r in &self.routes {
            if !valid_name(&r.name) {
                return Err(Error::Invalid(format!(
                    "'{}' cannot be a route's name: use letters, digits, '-', '_' and '.'",
                    r.name
                )));
            }
            if !names.insert(r.name.clone()) {
                return Err(Error::Invalid(format!("two models are served as '{}'", r.name)));
            }
            let strategy = Strategy::parse(&r.strategy)?;
            if strategy.needs_challenger() != r.challenger.is_some() && !r.rolls_out_stage() {
                return Err(Error::Invalid(if r.challenger.is_some() {
                    format!("route '{}': a challenger needs a strategy: blue-green, canary:PCT… or shadow", r.name)
                } else if strategy.interval_secs().is_some() {
                    format!(
                        "route '{}': the {} strategy needs a challenger (--challenger REF), or a champion that is a registry stage (NAME@STAGE) whose new versions it rolls out",
                        r.name,
                        strategy.kind()
                    )
                } else {
                    format!(
                        "route '{}': the {} strategy needs a challenger (--challenger REF)",
                        r.name,
                        strategy.kind()
                    )
                }));
            }
            crate::core::rollout::Gate::parse(&r.gate, r.failure_limit, r.min_rows)?;
        }
        if !(self.fallback_secs.is_finite() && (0.0..=86_400.0).contains(&self.fallback_secs)) {
            return Err(Error::Invalid(format!(
                "the fallback window (fallback_secs) must be from 0 (off) to 86400 seconds; got {}",
                self.fallback_secs
            )));
        }
        if !(self.follow_secs.is_finite() && (0.05..=3600.0).contains(&self.follow_secs)) {
            return Err(Error::Invalid(format!(
                "the registry polling interval (follow_secs) must be from 0.05 to 3600 seconds; got {}",
                self.follow_secs
            )));
        }
        settings::count("rows in the live drift window (live.window_rows)", self.live.window_rows, 10, 10_000_000)?;
        settings::count(
            "labelled rows in the realised metrics' window (live.labelled_rows)",
            self.live.labelled_rows,
            1,
            10_000_000,
        )?;
        settings::count(
            "answered rows waiting for labels (live.pending_rows)",
            self.live.pending_rows,
            0,
            100_000_000,
        )?;
        if !(self.live.window_secs.is_finite() && (0.0..=31_536_000.0).contains(&self.live.window_secs)) {
            return Err(Error::Invalid(format!(
                "the live drift window's time (live.window_secs) must be from 0 (no limit) to a year; got {}",
                self.live.window_secs
            )));
        }
        if !(self.live.labelled_secs.is_finite() && (1.0..=31_536_000.0).contains(&self.live.labelled_secs)) {
            return Err(Error::Invalid(format!(
                "the realised metrics' window (live.labelled_secs) must be from 1 s to a year; got {}",
                self.live.labelled_secs
            )));
        }
        if !(self.live.refresh_secs.is_finite() && (0.05..=3600.0).contains(&self.live.refresh_secs)) {
            return Err(Error::Invalid(format!(
                "the live drift's refresh (live.refresh_secs) must be from 0.05 to 3600 seconds; got {}",
                self.live.refresh_secs
            )));
        }
        self.alert_settings()?;
        if self.admin_token.as_ref().is_some_and(|t| t.trim().len() < 16) {
            return Err(Error::Invalid("the admin token (admin_token) must have at least 16 characters".into()));
        }
        for m in &self.models {
            if let Some(name) = &m.name
                && !valid_name(name)
            {
                return Err(Error::Invalid(format!(
                    "'{name}' cannot be a served model's name: use letters, digits, '-', '_' and '.'"
                )));
            }
            if let Some(name) = &m.name
                && !names.insert(name.clone())
            {
                return Err(Error::Invalid(format!("two models are served as '{name}'")));
            }
        }
        settings::count("the largest request body (max_body_bytes)", self.limits.max_body_bytes, 1024, 1 << 30)?;
        settings::count("rows per request (max_rows)", self.limits.max_rows, 1, settings::MAX_BATCH_SIZE)?;
        settings::seconds("the request timeout (request_timeout_secs)", self.limits.request_timeout_secs)?;
        settings::count("rows per batch (batching.max_rows)", self.batching.max_rows, 1, settings::MAX_BATCH_SIZE)?;
        settings::count("waiting requests (batching.queue_requests)", self.batching.queue_requests, 1, 1 << 20)?;
        if self.batching.max_delay_us > 1_000_000 {
            return Err(Error::Invalid(format!(
                "the batching delay (max_delay_us) must be at most 1000000 µs (a second); got {}",
                self.batching.max_delay_us
            )));
        }
        settings::count("rows per log segment (log.segment_rows)", self.log.segment_rows, 1, 100_000_000)?;
        settings::seconds("seconds per log segment (log.segment_secs)", self.log.segment_secs)?;
        settings::count("rows waiting for the log (log.queue_rows)", self.log.queue_rows, 1, 100_000_000)?;
        settings::seconds("the shutdown grace (shutdown_grace_secs)", self.shutdown_grace_secs)?;
        Ok(())
    }

    /// The alert settings, checked (the log defaults to `alerts.jsonl` beside the prediction log).
    pub fn alert_settings(&self) -> Result<super::alerting::AlertSettings> {
        let log = self.alert_log.clone().or_else(|| self.log_dir.as_ref().map(|d| d.join("alerts.jsonl")));
        super::alerting::AlertSettings::parse(&self.alerts, self.alert_for_secs, self.alert_webhook.clone(), log)
    }

    /// Inference workers per model, capped at the machine's sane maximum.
    pub fn workers(&self) -> (usize, Option<String>) {
        match self.workers {
            0 => (runtime::cores(), None),
            n => settings::workers(n),
        }
    }
}

/// A name clients can put in a URL path.
pub fn valid_name(name: &str) -> bool {
    !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_config_file_reads_and_is_checked() {
        let text = r#"
            port = 9000
            [[models]]
            source = "sample-models/churn_v1.onnx"
            [[models]]
            source = "churn@production"
            name = "churn"
            [batching]
            max_rows = 64
        "#;
        let config: ServeConfig = toml::from_str(text).unwrap();
        assert_eq!(config.port, 9000);
        assert_eq!(config.host, "127.0.0.1", "loopback unless told otherwise");
        assert_eq!(config.models[1].name.as_deref(), Some("churn"));
        assert_eq!(config.batching.max_rows, 64);
        assert_eq!(config.limits, Limits::default());
        config.check().unwrap();
        let mut bad = config.clone();
        bad.batching.max_rows = 0;
        assert!(bad.check().unwrap_err().to_string().contains("batching.max_rows"));
        assert!(ServeConfig::default().check().is_err(), "no model");
        assert_eq!(ModelSpec::parse("v2=churn@2").name.as_deref(), Some("v2"));
        assert_eq!(ModelSpec::parse("churn@2").name, None);
        assert_eq!(ModelSpec::parse("./models/x=y.onnx").name, None);
    }

    #[test]
    fn a_canary_or_shadow_route_without_a_challenger_must_follow_a_stage() {
        let route = |champion: &str, strategy: &str| RouteSpec {
            name: "churn".into(),
            champion: champion.into(),
            challenger: None,
            strategy: strategy.into(),
            sticky_key: None,
            gate: String::new(),
            failure_limit: 0,
            min_rows: 100,
        };
        let check = |r: RouteSpec| ServeConfig { routes: vec![r], ..ServeConfig::default() }.check();
        for strategy in ["canary:10,100@1m", "shadow"] {
            assert!(route("churn@production", strategy).rolls_out_stage());
            check(route("churn@production", strategy)).unwrap();
            for fixed in ["churn@3", "sample-models/churn_v1.onnx"] {
                assert!(!route(fixed, strategy).rolls_out_stage());
                let e = check(route(fixed, strategy)).unwrap_err().to_string();
                assert!(e.contains("needs a challenger") && e.contains("NAME@STAGE"), "{e}");
            }
        }
        let e = check(route("churn@production", "blue-green")).unwrap_err().to_string();
        assert!(e.contains("blue-green strategy needs a challenger"), "{e}");
        assert!(!route("churn@production", "basic").rolls_out_stage(), "basic swaps; it rolls nothing out");
    }
}
