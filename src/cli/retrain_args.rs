//! The flags of `mirador retrain` (the command itself is in [`super::retrain`]).

use std::path::PathBuf;

use clap::Args;

/// The flags of `mirador retrain`.
#[derive(Debug, Clone, Args)]
pub struct RetrainArgs {
    /// The registry folder.
    #[arg(long, env = "MIRADOR_REGISTRY", default_value = "mirador-registry")]
    pub registry: PathBuf,
    /// The registered model to retrain.
    #[arg(long)]
    pub name: String,
    /// The training command, e.g. 'python3 train.py --data {data} --out {output}' (run without a
    /// shell; {data} {output} {holdout} {run_id} {workdir} {parent} are filled in).
    #[arg(long)]
    pub command: String,
    /// The new training data.
    #[arg(long)]
    pub data: PathBuf,
    /// Labelled data the candidate and the stage's version are compared on.
    #[arg(long)]
    pub holdout: PathBuf,
    /// The holdout's label column.
    #[arg(long)]
    pub target: String,
    /// Promotion rules, ';'-separated.
    #[arg(long, default_value = "roc_auc >= champion - 0.005")]
    pub gate: String,
    /// The stage the candidate would take over (its version is the champion).
    #[arg(long, default_value = "production")]
    pub promote_to: String,
    /// Register and judge the candidate but leave the stage alone (exit 0 when it passed; promote
    /// it later with `mirador registry promote`).
    #[arg(long)]
    pub no_promote: bool,
    /// Longest the training command may run (30s, 10m, 2h).
    #[arg(long, default_value = "1h")]
    pub timeout: String,
    /// Accept a candidate whose inputs or classes differ from the champion's.
    #[arg(long)]
    pub allow_contract_change: bool,
    /// The champion's deployment bundle: its golden rows must go through the candidate (same classes).
    #[arg(long)]
    pub bundle: Option<PathBuf>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}
