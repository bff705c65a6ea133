//! The screens of the window and the data slots they fill: a leaf the command enum, the strings,
//! the workspace and the panels all name.

use serde::{Deserialize, Serialize};

/// The screens of the main area.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Tab {
    /// The open model's properties.
    #[default]
    Model,
    /// One prediction from a form.
    Predict,
    /// Score a whole file.
    Score,
    /// Compare versions.
    Compare,
    /// Drift and performance over time.
    Monitor,
    /// Registered versions, stages and bundles.
    Versions,
    /// Serve the open models over HTTP.
    Serve,
    /// Roll a new version out (canary, shadow, blue/green), live or replayed.
    Deploy,
    /// Running and finished jobs.
    Jobs,
}

impl Tab {
    /// Every tab, in menu order.
    pub const ALL: [Tab; 9] = [
        Tab::Model,
        Tab::Predict,
        Tab::Score,
        Tab::Compare,
        Tab::Monitor,
        Tab::Versions,
        Tab::Serve,
        Tab::Deploy,
        Tab::Jobs,
    ];

    /// The screen's name on the command line (`mirador gui --screen NAME`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Model => "model",
            Self::Predict => "predict",
            Self::Score => "score",
            Self::Compare => "compare",
            Self::Monitor => "monitor",
            Self::Versions => "versions",
            Self::Serve => "serve",
            Self::Deploy => "deploy",
            Self::Jobs => "jobs",
        }
    }
}

/// Which data file a file choice is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum DataSlot {
    /// The file to score.
    Score,
    /// The labelled data versions are compared on.
    Compare,
    /// Monitoring's reference data.
    Reference,
    /// Monitoring's current data (or production log).
    Current,
}
