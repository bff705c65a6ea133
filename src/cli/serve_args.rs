//! `mirador serve`'s flags, and the server config they make (a config file first, then each flag
//! given on top of it). The server itself is started by the binary (`src/main.rs`) through the
//! server shell; the command line only parses.

use std::path::PathBuf;

use clap::Args;

use crate::core::error::Result;
use crate::core::serving::config::{ModelSpec, RouteSpec, ServeConfig};

/// Serve models over HTTP (Open Inference Protocol / KServe V2, KServe V1, Prometheus metrics).
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// A model to serve: a .onnx file, a bundle folder or .tar.gz (verified first), or a registry
    /// reference (NAME@STAGE, NAME@VERSION); NAME=REF serves it under another name. Repeatable.
    #[arg(long = "model", value_name = "[NAME=]REF")]
    pub models: Vec<String>,
    /// A TOML file with the same options (and several models); flags given here override it.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Address to listen on [default: 127.0.0.1; anything else exposes the server beyond this machine].
    #[arg(long)]
    pub host: Option<String>,
    /// Port (0: any free port) [default: 8080].
    #[arg(long)]
    pub port: Option<u16>,
    /// The registry folder, for NAME@STAGE references.
    #[arg(long, env = "MIRADOR_REGISTRY")]
    pub registry: Option<PathBuf>,
    /// Largest request body in bytes (413 beyond) [default: 16777216].
    #[arg(long)]
    pub max_body_bytes: Option<usize>,
    /// Most rows in one request (413 beyond) [default: 100000].
    #[arg(long)]
    pub max_rows: Option<usize>,
    /// Seconds a request may take (504 beyond) [default: 30].
    #[arg(long)]
    pub request_timeout: Option<f64>,
    /// Most rows scored in one ONNX Runtime call by dynamic batching [default: 1024].
    #[arg(long)]
    pub batch_max_rows: Option<usize>,
    /// Microseconds a batch's first request may wait for others (0: take what is waiting and go)
    /// [default: 0].
    #[arg(long)]
    pub batch_delay_us: Option<u64>,
    /// Requests that may wait per model; beyond, 503 [default: 1024].
    #[arg(long)]
    pub queue: Option<usize>,
    /// Inference workers per model, each with its own ONNX Runtime session (0: one per core).
    #[arg(long)]
    pub workers: Option<usize>,
    /// Write every served row to Parquet segments in this folder (one subfolder per model).
    #[arg(long)]
    pub log_dir: Option<PathBuf>,
    /// Close a log segment after this many rows [default: 100000].
    #[arg(long)]
    pub log_segment_rows: Option<usize>,
    /// Close a log segment after this many seconds [default: 60].
    #[arg(long)]
    pub log_segment_secs: Option<f64>,
    /// Seconds in-flight requests get to finish after SIGTERM / SIGINT [default: 10].
    #[arg(long)]
    pub shutdown_grace: Option<f64>,
    /// A route: a served name over a champion and a challenger (with --champion, --challenger,
    /// --strategy, …). A route on NAME@STAGE with no challenger follows the stage as it moves: a
    /// basic one swaps each new version in; a canary or shadow one rolls it out through --gate first.
    #[arg(long, value_name = "NAME")]
    pub route: Option<String>,
    /// The route's champion: a .onnx file, a bundle, or NAME@STAGE / NAME@VERSION.
    #[arg(long, value_name = "REF", requires = "route")]
    pub champion: Option<String>,
    /// The route's challenger (none, with a canary or shadow strategy on NAME@STAGE: each new
    /// version of the stage becomes the challenger).
    #[arg(long, value_name = "REF", requires = "route")]
    pub challenger: Option<String>,
    /// basic | blue-green | canary:PCT[,PCT…][@INTERVAL] | shadow[:PCT][@INTERVAL] [default: basic].
    #[arg(long, requires = "route")]
    pub strategy: Option<String>,
    /// The column (or the request parameter "key") whose value keeps a customer on one version.
    #[arg(long, value_name = "COL", requires = "route")]
    pub sticky_key: Option<String>,
    /// Gate rules on the challenger, ';'-separated, e.g. 'score_psi <= 0.2; error_rate <= 0.01'.
    #[arg(long, requires = "route")]
    pub gate: Option<String>,
    /// Failed gate measurements tolerated before the rollout aborts [default: 0].
    #[arg(long, requires = "route")]
    pub failure_limit: Option<u32>,
    /// Rows the challenger needs in an interval for a measurement (fewer: inconclusive) [default: 100].
    #[arg(long, requires = "route")]
    pub min_rows: Option<u64>,
    /// Seconds between looks at the registry for routes that follow a stage [default: 2].
    #[arg(long)]
    pub follow_secs: Option<f64>,
    /// Seconds a followed stage's new version is watched after a switch: if more than half of its
    /// first requests (at least 10) fail, the old version answers again and the stage is rolled
    /// back (0: off) [default: 60].
    #[arg(long)]
    pub fallback_secs: Option<f64>,
    /// Reference data (CSV or Parquet) for the live drift of models that bring no reference profile
    /// (a bundle brings its own); drift gauges appear on /metrics.
    #[arg(long)]
    pub reference: Option<PathBuf>,
    /// Rows in the live drift's rolling window [default: 1000].
    #[arg(long)]
    pub drift_window: Option<usize>,
    /// Seconds between two live drift measurements [default: 2].
    #[arg(long)]
    pub drift_refresh: Option<f64>,
    /// Alert rules on the live drift and the realised metrics (from POST …/feedback), ';'-separated:
    /// 'share_drifted > 0.3; drift:monthly_charges > 0.2; accuracy < 0.8'.
    #[arg(long)]
    pub alert: Option<String>,
    /// Answered rows remembered while they wait for a late label (POST …/feedback); 0: none, and
    /// feedback finds no row [default: 20000].
    #[arg(long)]
    pub feedback_rows: Option<usize>,
    /// Seconds a row stays in the live drift's window (0: no limit by time) [default: 0].
    #[arg(long)]
    pub drift_window_secs: Option<f64>,
    /// Labelled rows in the realised metrics' rolling window, per model and version [default: 1000].
    #[arg(long)]
    pub label_window: Option<usize>,
    /// Seconds a labelled row stays in the realised metrics' window [default: 86400].
    #[arg(long)]
    pub label_window_secs: Option<f64>,
    /// Seconds a breach must last before its alert fires (like Prometheus' `for:`) [default: 60].
    #[arg(long)]
    pub alert_for: Option<f64>,
    /// An http:// address that receives alerts in Alertmanager's webhook format.
    #[arg(long)]
    pub alert_webhook: Option<String>,
    /// The alert log, JSON lines [default: alerts.jsonl in --log-dir].
    #[arg(long)]
    pub alert_log: Option<PathBuf>,
    /// The token /admin requires (Authorization: Bearer …); without one /admin is off.
    #[arg(long, env = "MIRADOR_ADMIN_TOKEN", hide_env_values = true)]
    pub admin_token: Option<String>,
}

impl ServeArgs {
    /// The config: the file's (or the defaults), with every given flag on top; checked.
    pub fn config(&self) -> Result<ServeConfig> {
        let mut c = match &self.config {
            Some(path) => ServeConfig::load(path)?,
            None => ServeConfig::default(),
        };
        c.models.extend(self.models.iter().map(|m| ModelSpec::parse(m)));
        macro_rules! set {
            ($flag:expr => $field:expr) => {
                if let Some(v) = $flag.clone() {
                    $field = v;
                }
            };
        }
        set!(self.host => c.host);
        set!(self.port => c.port);
        set!(self.registry => c.registry);
        set!(self.max_body_bytes => c.limits.max_body_bytes);
        set!(self.max_rows => c.limits.max_rows);
        set!(self.request_timeout => c.limits.request_timeout_secs);
        set!(self.batch_max_rows => c.batching.max_rows);
        set!(self.batch_delay_us => c.batching.max_delay_us);
        set!(self.queue => c.batching.queue_requests);
        set!(self.workers => c.workers);
        set!(self.log_segment_rows => c.log.segment_rows);
        set!(self.log_segment_secs => c.log.segment_secs);
        set!(self.shutdown_grace => c.shutdown_grace_secs);
        set!(self.follow_secs => c.follow_secs);
        set!(self.fallback_secs => c.fallback_secs);
        set!(self.drift_window => c.live.window_rows);
        set!(self.label_window => c.live.labelled_rows);
        set!(self.drift_window_secs => c.live.window_secs);
        set!(self.feedback_rows => c.live.pending_rows);
        set!(self.label_window_secs => c.live.labelled_secs);
        set!(self.alert => c.alerts);
        set!(self.alert_for => c.alert_for_secs);
        if self.alert_webhook.is_some() {
            c.alert_webhook = self.alert_webhook.clone();
        }
        if self.alert_log.is_some() {
            c.alert_log = self.alert_log.clone();
        }
        set!(self.drift_refresh => c.live.refresh_secs);
        if self.reference.is_some() {
            c.reference = self.reference.clone();
        }
        if self.log_dir.is_some() {
            c.log_dir = self.log_dir.clone();
        }
        if self.admin_token.is_some() {
            c.admin_token = self.admin_token.clone();
        }
        if let Some(name) = &self.route {
            let champion = self.champion.clone().ok_or_else(|| {
                crate::core::Error::Invalid(format!("route '{name}' needs its champion: --champion REF"))
            })?;
            c.routes.push(RouteSpec {
                name: name.clone(),
                champion,
                challenger: self.challenger.clone(),
                strategy: self.strategy.clone().unwrap_or_else(|| "basic".into()),
                sticky_key: self.sticky_key.clone(),
                gate: self.gate.clone().unwrap_or_default(),
                failure_limit: self.failure_limit.unwrap_or(0),
                min_rows: self.min_rows.unwrap_or(100),
            });
        }
        c.check()?;
        Ok(c)
    }
}

/// `mirador collect`: a payload-log sink for models served elsewhere (KServe's inference logger).
/// It is a server with the models' contracts and a prediction log, started like `mirador serve`.
#[derive(Debug, Clone, Args)]
pub struct CollectArgs {
    /// A model whose traffic is collected (its contract reads the logged requests): a .onnx file, a
    /// bundle, or NAME@STAGE / NAME@VERSION; NAME=REF names it as the events do. Repeatable.
    #[arg(long = "model", value_name = "[NAME=]REF", required = true)]
    pub models: Vec<String>,
    /// The prediction log folder the events are written to.
    #[arg(long)]
    pub log_dir: PathBuf,
    /// Address to listen on [default: 127.0.0.1].
    #[arg(long, default_value = "127.0.0.1")]
    pub host: String,
    /// Port (0: any free port).
    #[arg(long, default_value_t = 8081)]
    pub port: u16,
    /// The registry folder, for NAME@STAGE references.
    #[arg(long, env = "MIRADOR_REGISTRY")]
    pub registry: Option<PathBuf>,
    /// Seconds before a segment of the log is closed [default: 60].
    #[arg(long)]
    pub log_segment_secs: Option<f64>,
}

impl CollectArgs {
    /// The server config: the models (one worker each: they are not asked to predict), the log.
    pub fn config(&self) -> Result<ServeConfig> {
        let mut c = ServeConfig {
            host: self.host.clone(),
            port: self.port,
            log_dir: Some(self.log_dir.clone()),
            workers: 1,
            ..ServeConfig::default()
        };
        c.models.extend(self.models.iter().map(|m| ModelSpec::parse(m)));
        if let Some(r) = &self.registry {
            c.registry = r.clone();
        }
        if let Some(s) = self.log_segment_secs {
            c.log.segment_secs = s;
        }
        c.check()?;
        Ok(c)
    }
}
