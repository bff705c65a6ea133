//! One struct per screen, each with a `ui` method; none does I/O or inference itself.

pub mod compare;
pub mod deploy;
pub mod jobs;
pub mod model;
pub mod models;
pub mod monitor;
pub mod predict;
pub mod retrain;
pub mod score;
pub mod serve;
pub mod versions;

/// Every panel's state.
#[derive(Default)]
pub struct Panels {
    /// Model properties.
    pub model: model::ModelPanel,
    /// The open models.
    pub models: models::ModelsPanel,
    /// One prediction.
    pub predict: predict::PredictPanel,
    /// Batch scoring.
    pub score: score::ScorePanel,
    /// Version comparison.
    pub compare: compare::ComparePanel,
    /// Drift and performance over time.
    pub monitor: monitor::MonitorPanel,
    /// Registered versions.
    pub versions: versions::VersionsPanel,
    /// The local server.
    pub serve: serve::ServePanel,
    /// Rollouts, live and replayed.
    pub deploy: deploy::DeployPanel,
    /// The job list.
    pub jobs: jobs::JobsPanel,
    /// Retrain… on the Versions screen.
    pub retrain: retrain::RetrainPanel,
}
