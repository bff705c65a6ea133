//! The flags of `mirador replay` (the command itself is in [`super::rollout`]).

use std::path::PathBuf;

use clap::Args;

/// The flags of `mirador replay`.
#[derive(Debug, Clone, Args)]
pub struct ReplayArgs {
    /// Recorded traffic: a prediction log folder or any CSV/Parquet file with a timestamp column.
    #[arg(long)]
    pub data: PathBuf,
    /// The timestamp column.
    #[arg(long, default_value = "time")]
    pub time_col: String,
    /// The version serving now: a .onnx file, a bundle, or NAME@STAGE / NAME@VERSION.
    #[arg(long)]
    pub champion: String,
    /// The version rolling out.
    #[arg(long)]
    pub challenger: String,
    /// canary:5,25,50,100@60s or shadow[:PCT][@INTERVAL].
    #[arg(long)]
    pub strategy: String,
    /// Gate rules on the challenger, ';'-separated, e.g. 'score_psi <= 0.2; positive_rate_diff <= 0.05'.
    #[arg(long, default_value = "")]
    pub gate: String,
    /// Failed measurements tolerated before aborting (Argo's failureLimit).
    #[arg(long, default_value_t = 0)]
    pub failure_limit: u32,
    /// Rows the challenger needs in a window for a measurement (fewer: inconclusive).
    #[arg(long, default_value_t = 100)]
    pub min_rows: u64,
    /// The true label's column, when the data has one.
    #[arg(long)]
    pub target: Option<String>,
    /// The column whose value keeps a customer on one version (e.g. customer_id).
    #[arg(long)]
    pub sticky_key: Option<String>,
    /// The route's name (salts the sticky hash as the server does; default: the champion's name).
    #[arg(long)]
    pub route: Option<String>,
    /// The registry, for NAME@STAGE references.
    #[arg(long, env = "MIRADOR_REGISTRY", default_value = "mirador-registry")]
    pub registry: PathBuf,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// What `mirador rollout` asks a running server.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum RolloutAction {
    /// Every route: versions, weights, the gate's measurements, what it did.
    Status,
    /// The challenger takes over now (recorded in the registry when both are registry versions).
    Promote {
        /// The route.
        route: String,
        /// Why.
        #[arg(long)]
        reason: Option<String>,
    },
    /// All traffic back to the champion now (recorded as a rollback).
    Abort {
        /// The route.
        route: String,
        /// Why.
        #[arg(long)]
        reason: Option<String>,
    },
    /// Set the challenger's share (canary; blue/green: 0 or 100 switches; shadow: the copied share).
    Weight {
        /// The route.
        route: String,
        /// Percent, 0 to 100.
        percent: f64,
    },
}

/// The flags of `mirador rollout`.
#[derive(Debug, Clone, Args)]
pub struct RolloutArgs {
    /// The server (loopback only: /admin answers no one else).
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    pub server: String,
    /// The server's admin token.
    #[arg(long, env = "MIRADOR_ADMIN_TOKEN", hide_env_values = true)]
    pub token: String,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
    /// What to do.
    #[command(subcommand)]
    pub action: RolloutAction,
}
