//! The grammar of `mirador registry …` and `mirador bundle …`.

use std::path::PathBuf;

use clap::Subcommand;

/// Registry actions.
#[derive(Debug, Subcommand)]
pub enum RegistryAction {
    /// Register a model file as the next version of NAME.
    Add {
        /// The model's name in the registry.
        name: String,
        /// The .onnx file.
        model: PathBuf,
        /// Why this version exists.
        #[arg(long, default_value = "")]
        note: String,
        /// Who registers it (default: $USER).
        #[arg(long, default_value = "")]
        by: String,
        /// The command that trained it.
        #[arg(long)]
        training_command: Option<String>,
        /// Labelled data to evaluate it on (its SHA-256 and the metrics are recorded).
        #[arg(long, requires = "target")]
        data: Option<PathBuf>,
        /// The label column of --data.
        #[arg(long)]
        target: Option<String>,
    },
    /// List models, versions and stages.
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Show one model (NAME) or version (NAME@VERSION, NAME@STAGE).
    Show {
        /// NAME or NAME@VERSION.
        spec: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Point a stage at a version (NAME@VERSION). With --data, the promotion gate runs first against
    /// the version the stage holds now, and a failing gate refuses the promotion.
    Promote {
        /// NAME@VERSION.
        spec: String,
        /// The stage, e.g. staging, production, archived.
        #[arg(long)]
        stage: String,
        /// Why.
        #[arg(long, default_value = "")]
        reason: String,
        /// Who (default: $USER).
        #[arg(long, default_value = "")]
        by: String,
        /// Labelled data for the promotion gate.
        #[arg(long, requires = "target")]
        data: Option<PathBuf>,
        /// The label column of --data.
        #[arg(long)]
        target: Option<String>,
        /// Gate rules, ';'-separated.
        #[arg(long, default_value = "roc_auc >= champion - 0.005")]
        gate: String,
        /// Promote even though the gate fails, for this reason (recorded in the history as an
        /// override of the gate).
        #[arg(long, value_name = "REASON")]
        override_gate: Option<String>,
    },
    /// Put a stage back to the version it held before.
    Rollback {
        /// The model's name.
        name: String,
        /// The stage.
        #[arg(long)]
        stage: String,
        /// Why (required).
        #[arg(long)]
        reason: String,
        /// Who (default: $USER).
        #[arg(long, default_value = "")]
        by: String,
    },
    /// Every change to a model: registrations, promotions, rollbacks, deletions.
    History {
        /// The model's name.
        name: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Delete a version (NAME@VERSION): it leaves its stages; its history stays.
    Delete {
        /// NAME@VERSION.
        spec: String,
        /// Why.
        #[arg(long)]
        reason: String,
    },
}

/// Bundle actions.
#[derive(Debug, Subcommand)]
pub enum BundleAction {
    /// Build a deployment bundle for a model file or a registered version.
    Create {
        /// A .onnx file, or NAME@VERSION / NAME@STAGE from the registry.
        #[arg(long)]
        model: String,
        /// Reference data (drift profile, golden rows; with --target, the evaluation).
        #[arg(long)]
        reference: Option<PathBuf>,
        /// The label column of the reference data.
        #[arg(long)]
        target: Option<String>,
        /// The bundle folder to create.
        #[arg(long)]
        output: PathBuf,
        /// Also write OUTPUT.tar.gz.
        #[arg(long)]
        tar: bool,
        /// Share of traffic the KServe canary gets, in percent.
        #[arg(long, default_value_t = 10)]
        canary_percent: u8,
        /// The rollout written into rollout/ (Argo Rollouts, Seldon): canary:5,25,50,100@5m or
        /// shadow[:PCT][@INTERVAL] [default: canary from --canary-percent to 50 % to 100 %, 5m a step].
        #[arg(long)]
        strategy: Option<String>,
        /// Carry this server-only `mirador` (`cargo build --release --no-default-features`) and ONNX
        /// Runtime's library in the bundle, so its Dockerfile builds as it is.
        #[arg(long, value_name = "MIRADOR_BINARY")]
        with_server: Option<PathBuf>,
        /// The training command schedule/ runs weekly through `mirador retrain` (its placeholders:
        /// {data} {output} {holdout} {run_id} {workdir} {parent}) [default: a placeholder].
        #[arg(long, value_name = "ARGV_TEMPLATE")]
        retrain_command: Option<String>,
        /// The image the retrain CronJob runs in, with mirador and your training code's
        /// dependencies [default: the serving image].
        #[arg(long, value_name = "IMAGE")]
        retrain_image: Option<String>,
    },
    /// Re-check a bundle offline: checksums, model, golden rows, configs (exit 3 on a failure).
    Verify {
        /// The bundle folder or .tar.gz.
        bundle: PathBuf,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}
