//! Monitoring from files: read the reference and current data, score them with the model when one
//! is given, and run [`monitor`] — what `mirador drift --chunk` and the Monitor screen both call.

use std::path::PathBuf;

use super::{AlertRule, Chunking, ModelOutputs, MonitorReport, monitor};
use crate::core::drift::DriftOptions;
use crate::core::evaluate::labelled_scores;
use crate::core::{Model, Result, read_table_inferred};

/// What to monitor.
#[derive(Debug, Clone)]
pub struct MonitorRequest {
    /// Reference data.
    pub reference: PathBuf,
    /// Current data (e.g. a production log).
    pub current: PathBuf,
    /// Chunking.
    pub chunking: Chunking,
    /// Drift settings.
    pub options: DriftOptions,
    /// Optional model for prediction drift and performance.
    pub model: Option<PathBuf>,
    /// Optional label column.
    pub target: Option<String>,
    /// Alert rules.
    pub rules: Vec<AlertRule>,
}

/// Read, score (when a model is given) and monitor.
pub fn monitor_files(request: &MonitorRequest) -> Result<MonitorReport> {
    // The timestamp column stays: it cuts the chunks.
    let exclude = &request.options.exclude;
    let reference = read_table_inferred(&request.reference, exclude)?;
    let current = read_table_inferred(&request.current, exclude)?;
    let outputs = match &request.model {
        Some(path) => {
            let model = Model::load(path)?;
            let (reference_scores, reference_labelled) =
                labelled_scores(&model, &request.reference, request.target.as_deref())?;
            let (current_scores, current_labelled) =
                labelled_scores(&model, &request.current, request.target.as_deref())?;
            let binary =
                matches!(&model.info().task, crate::core::Task::Classification { classes, .. } if classes.len() == 2);
            Some(ModelOutputs { reference_scores, current_scores, reference_labelled, current_labelled, binary })
        }
        None => None,
    };
    monitor(&reference, &current, &request.chunking, &request.options, outputs.as_ref(), &request.rules)
}
