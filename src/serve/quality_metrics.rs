//! The realised metrics on `/metrics`, read at each scrape from the feedback monitor.
//!
//! | series | labels |
//! |---|---|
//! | `mirador_quality` | `model`, `version` (`all`: every version), `metric` — on the labelled window |
//! | `mirador_quality_window_rows` | `model`, `version` — labelled rows in that window |
//! | `mirador_feedback_labels` (counter) | `model`, `outcome` (`matched`, `unmatched`) |
//! | `mirador_feedback_pending_rows` | `model` — answered rows waiting for a label |
//! | `mirador_feedback_answers_dropped` (counter) | answers the monitor was too busy to remember |
//!
//! The realised-metric alert rules appear in `mirador_alert_firing` with the drift's
//! ([`super::live_metrics`]).

use std::sync::Arc;
use std::sync::atomic::Ordering;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;

use crate::core::serving::quality::QualityState;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct MetricLabels {
    model: String,
    version: String,
    metric: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct VersionLabels {
    model: String,
    version: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    model: String,
    outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ModelLabel {
    model: String,
}

/// The feedback monitor's figures, read at each scrape.
#[derive(Debug)]
pub struct QualityCollector(pub Arc<QualityState>);

impl Collector for QualityCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let models = self.0.snapshot();
        let gauge = ConstGauge::new(0.0f64).metric_type();
        let counter = ConstCounter::new(0u64).metric_type();
        let dropped = self.0.dropped.load(Ordering::Relaxed);
        let mut m = encoder.encode_descriptor(
            "mirador_feedback_answers_dropped",
            "Answers the feedback monitor was too busy to remember (their labels will not match)",
            None,
            counter,
        )?;
        ConstCounter::new(dropped).encode(m.encode_family(&ModelLabel { model: String::new() })?)?;
        if models.is_empty() {
            return Ok(());
        }
        let windows = |q: &crate::core::serving::quality::ModelQuality| {
            let mut all = vec![("all".to_string(), q.overall.clone())];
            all.extend(q.versions.iter().map(|(v, f)| (v.clone(), f.clone())));
            all
        };
        let mut m = encoder.encode_descriptor(
            "mirador_quality",
            "Realised metric on the window of labelled rows (accuracy, precision, recall, f1, roc_auc, error_rate, mae, rmse)",
            None,
            gauge,
        )?;
        for (model, q) in &models {
            for (version, figures) in windows(q) {
                for (metric, value) in &figures.metrics {
                    let labels =
                        MetricLabels { model: model.clone(), version: version.clone(), metric: metric.clone() };
                    ConstGauge::new(*value).encode(m.encode_family(&labels)?)?;
                }
            }
        }
        let mut m =
            encoder.encode_descriptor("mirador_quality_window_rows", "Labelled rows in the window", None, gauge)?;
        for (model, q) in &models {
            for (version, figures) in windows(q) {
                let labels = VersionLabels { model: model.clone(), version };
                ConstGauge::new(figures.rows as f64).encode(m.encode_family(&labels)?)?;
            }
        }
        let mut m = encoder.encode_descriptor(
            "mirador_feedback_labels",
            "Labels received, by whether they found their served row",
            None,
            counter,
        )?;
        for (model, q) in &models {
            for (outcome, n) in [("matched", q.matched), ("unmatched", q.unmatched)] {
                let labels = OutcomeLabels { model: model.clone(), outcome: outcome.into() };
                ConstCounter::new(n).encode(m.encode_family(&labels)?)?;
            }
        }
        let mut m = encoder.encode_descriptor(
            "mirador_feedback_pending_rows",
            "Answered rows remembered while they wait for a label",
            None,
            gauge,
        )?;
        for (model, q) in &models {
            ConstGauge::new(q.pending_rows as f64).encode(m.encode_family(&ModelLabel { model: model.clone() })?)?;
        }
        Ok(())
    }
}
