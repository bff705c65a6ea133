//! The command line's grammar (clap): every subcommand and its options. Parsing only; the bodies
//! are in [`super::commands`] and [`super::versions`].

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

pub use super::replay_args::{ReplayArgs, RolloutAction, RolloutArgs};
pub use super::serve_args::{CollectArgs, ServeArgs};
pub use super::versions_args::{BundleAction, RegistryAction};

/// Exit code for a check or gate that did not pass (distinct from errors).
pub const EXIT_CHECK_FAILED: u8 = 3;

/// Take ONNX models from the analyst's laptop to production and keep watch over them there.
#[derive(Debug, Parser)]
#[command(name = "mirador", version, about, long_about = None)]
pub struct Cli {
    /// Print every detail of an error (ONNX Runtime's own message in full).
    #[arg(long, short, global = true)]
    pub verbose: bool,
    /// Models to open in the window (`mirador churn.onnx`), without a command.
    #[arg(value_name = "MODEL.onnx")]
    pub files: Vec<PathBuf>,
    /// What to do; without a command the desktop app opens.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Open the desktop app (the default).
    Gui {
        /// Show this screen with its work done (sample data), save a screenshot and close.
        #[arg(long, requires = "screenshot", value_parser = ["model", "predict", "score", "compare", "monitor", "versions", "serve", "deploy", "jobs"])]
        screen: Option<String>,
        /// Where the screenshot (PNG) goes.
        #[arg(long, requires = "screen")]
        screenshot: Option<PathBuf>,
    },
    /// Show a model's metadata and input/output contract.
    Inspect {
        /// The .onnx file.
        model: PathBuf,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Check that a data file fits a model's input contract (exit code 3 when it does not).
    Check {
        /// The .onnx file.
        #[arg(long)]
        model: PathBuf,
        /// CSV or Parquet data.
        #[arg(long)]
        input: PathBuf,
        /// Id columns and column mappings.
        #[command(flatten)]
        columns: ColumnArgs,
        /// Only check the first N rows.
        #[arg(long)]
        max_rows: Option<u64>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Predict one row.
    Predict {
        /// The .onnx file.
        #[arg(long)]
        model: PathBuf,
        /// The row: 'col=value,col=value,...' or a JSON object.
        #[arg(long)]
        values: String,
        /// Id columns and column mappings.
        #[command(flatten)]
        columns: ColumnArgs,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Evaluate a model on labelled data: metrics with bootstrap intervals, curves, confusion matrix.
    Evaluate {
        /// The .onnx file.
        #[arg(long)]
        model: PathBuf,
        /// Labelled data and metric settings.
        #[command(flatten)]
        labelled: LabelledArgs,
        /// Id columns and column mappings.
        #[command(flatten)]
        columns: ColumnArgs,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Compare model versions on the same labelled data (exit code 3 when the gate fails).
    Compare {
        /// The .onnx files, champion first.
        #[arg(long, num_args = 2.., required = true)]
        models: Vec<PathBuf>,
        /// Labelled data and metric settings.
        #[command(flatten)]
        labelled: LabelledArgs,
        /// Promotion rules, ';'-separated, e.g. 'roc_auc >= champion - 0.005; recall drop <= 2%'.
        #[arg(long)]
        gate: Option<String>,
        /// Rows timed one at a time for latency (0 = skip).
        #[arg(long, default_value_t = 200)]
        latency_rows: usize,
        /// Id columns and column mappings.
        #[command(flatten)]
        columns: ColumnArgs,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Summarise reference data into a profile (JSON) that drift can be computed against later.
    Profile {
        /// Reference data (CSV or Parquet).
        #[arg(long)]
        reference: PathBuf,
        /// Where to write the profile (.json).
        #[arg(long)]
        output: PathBuf,
        /// Columns to leave out, comma-separated.
        #[arg(long, value_delimiter = ',')]
        exclude: Vec<String>,
    },
    /// Data drift between a reference and a current dataset (exit code 3 when the dataset drifts).
    Drift {
        /// Reference data (CSV or Parquet), or a profile (.json) made by `mirador profile`.
        #[arg(long)]
        reference: PathBuf,
        /// Current data (CSV or Parquet), or a prediction log's model folder (`LOG/churn`): its
        /// logged outputs are used as they are, its late labels give the realised performance.
        #[arg(long)]
        current: PathBuf,
        /// Columns to leave out, comma-separated (ids, timestamps).
        #[arg(long, value_delimiter = ',')]
        exclude: Vec<String>,
        /// Share of drifted columns at which the dataset drifts.
        #[arg(long, default_value_t = 0.5)]
        drift_share: f64,
        /// Monitor over time: chunk the current data every N rows (`1000`) or by period (`1d`, `1w`, `12h`).
        #[arg(long)]
        chunk: Option<String>,
        /// Timestamp column for period chunks [default for a prediction log: time].
        #[arg(long)]
        time_col: Option<String>,
        /// A model whose prediction drift (and, with --target, performance) is monitored too.
        #[arg(long)]
        model: Option<PathBuf>,
        /// The label column, for realised performance per chunk.
        #[arg(long)]
        target: Option<String>,
        /// Alert rules, ';'-separated, e.g. 'roc_auc outside band; share_drifted > 0.3'.
        #[arg(long)]
        alert: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// The model registry: versions, stages (staging, production, …), history, rollback.
    Registry {
        /// The registry folder (plain JSON and model files; put it under git if you like).
        #[arg(long, env = "MIRADOR_REGISTRY", default_value = "mirador-registry")]
        dir: PathBuf,
        /// What to do.
        #[command(subcommand)]
        action: RegistryAction,
    },
    /// Deployment bundles: create one for ops, or verify one.
    Bundle {
        /// The registry folder, for NAME@VERSION models.
        #[arg(long, env = "MIRADOR_REGISTRY", default_value = "mirador-registry")]
        registry: PathBuf,
        /// What to do.
        #[command(subcommand)]
        action: BundleAction,
    },
    /// Serve models over HTTP: the Open Inference Protocol (KServe V2, as Triton and KServe
    /// clients speak it), KServe V1, Prometheus metrics, and a prediction log.
    Serve(Box<ServeArgs>),
    /// Collect payload logs of models served elsewhere: a sink for KServe's inference logger
    /// (CloudEvents; `POST /`), writing the same prediction log `mirador serve` writes.
    Collect(Box<CollectArgs>),
    /// Play a canary or shadow rollout offline on recorded traffic (a prediction log or any
    /// timestamped file): the timeline, the gate's measurements and the verdict (exit code 3 when
    /// it would abort).
    Replay(Box<ReplayArgs>),
    /// Retrain: run your training command on new data, gate the candidate against the stage's
    /// version on a holdout, promote it only when everything passes (exit 3 when refused).
    Retrain(Box<super::retrain_args::RetrainArgs>),
    /// Late labels: join a file of true values to a prediction log (by request id or a key
    /// column), for monitoring to measure realised performance.
    Feedback(super::feedback::FeedbackArgs),
    /// A running server's routes: status, or promote, abort or weigh a challenger by hand
    /// (through its loopback /admin endpoint and token).
    Rollout(RolloutArgs),
    /// Score a CSV or Parquet file into a CSV or Parquet file of predictions.
    Score {
        /// The .onnx file.
        #[arg(long)]
        model: PathBuf,
        /// CSV or Parquet data.
        #[arg(long)]
        input: PathBuf,
        /// Where to write predictions (.csv or .parquet).
        #[arg(long)]
        output: PathBuf,
        /// Id columns and column mappings.
        #[command(flatten)]
        columns: ColumnArgs,
        /// Rows per batch (bounds memory).
        #[arg(long, default_value_t = crate::core::score::DEFAULT_BATCH_SIZE)]
        batch_size: usize,
        /// Inference workers, each an ONNX Runtime session on one thread scoring whole batches
        /// (0 = one per core).
        #[arg(long, default_value_t = 0)]
        threads: usize,
        /// Seconds one batch's inference may take before it is stopped (a model whose trees loop
        /// would otherwise run for ever).
        #[arg(long, default_value_t = 60.0)]
        inference_timeout: f64,
        /// Score the rows that fit the model's contract and write the others here (.csv or .parquet:
        /// row number, the rule that caught it, its values) instead of failing the whole file.
        #[arg(long)]
        quarantine: Option<PathBuf>,
        /// Print a JSON summary instead of text.
        #[arg(long)]
        json: bool,
    },
}

/// Labelled data and how to evaluate on it (`evaluate`, `compare`).
#[derive(Debug, Clone, Args)]
pub struct LabelledArgs {
    /// Labelled CSV or Parquet data.
    #[arg(long)]
    pub data: PathBuf,
    /// The column with the true label or value.
    #[arg(long)]
    pub target: String,
    /// Positive class for binary metrics (default: the model's `positive_class`, else its last class).
    #[arg(long)]
    pub positive: Option<String>,
    /// Decision threshold on the positive class's probability.
    #[arg(long, default_value_t = 0.5)]
    pub threshold: f64,
    /// Bootstrap resamples for the confidence intervals (0 = none).
    #[arg(long, default_value_t = 1000)]
    pub bootstrap: usize,
    /// Bootstrap seed.
    #[arg(long, default_value_t = 20_261_101)]
    pub seed: u64,
    /// Which metrics get intervals: every headline metric, or ROC AUC only (faster).
    #[arg(long, value_parser = ["all", "roc_auc"], default_value = "all")]
    pub intervals: String,
}

/// Options naming columns.
#[derive(Debug, Clone, Args)]
pub struct ColumnArgs {
    /// Columns copied to the output and never used as features, comma-separated.
    #[arg(long, value_delimiter = ',')]
    pub id_cols: Vec<String>,
    /// Columns for a packed input: INPUT=col_a,col_b,... (repeatable).
    #[arg(long = "columns", value_name = "INPUT=COLS")]
    pub columns: Vec<String>,
}
