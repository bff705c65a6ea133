//! The live drift on `/metrics`, read at each scrape from each served model's monitor (models with
//! a reference profile): the series the bundle's `prometheus_rules.yaml` already queries.
//!
//! | series | labels |
//! |---|---|
//! | `mirador_drift_score` | `model`, `column`, `test` — the test's score (a p-value or a distance) |
//! | `mirador_drift_threshold` | `model`, `column`, `test` — its threshold |
//! | `mirador_drift_detected` | `model`, `column` — 1 when the column drifted |
//! | `mirador_missing_share` | `model`, `column` — share of missing values in the window |
//! | `mirador_share_drifted` | `model` — share of tested columns that drifted |
//! | `mirador_dataset_drift` | `model` — 1 when that share reaches the dataset threshold |
//! | `mirador_drift_window_rows` | `model` — rows in the window measured |
//! | `mirador_drift_rows_dropped_total` | `model` — rows the monitor was too busy to take |
//! | `mirador_alert_firing` | `model`, `rule` — 1 while the rule fires (drift and realised-metric rules) |

use std::sync::Arc;
use std::sync::atomic::Ordering;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;

use crate::core::drift::DriftReport;
use crate::core::serving::live::LiveState;
use crate::core::serving::quality::QualityState;
use crate::core::serving::routes::RouteTable;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TestLabels {
    model: String,
    column: String,
    test: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ColumnLabels {
    model: String,
    column: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RuleLabels {
    model: String,
    rule: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ModelLabel {
    model: String,
}

/// The served models' live drift, read at each scrape, and the alert rules' states (the drift's
/// and the feedback monitor's).
pub struct LiveCollector(pub Arc<RouteTable>, pub Arc<QualityState>);

impl std::fmt::Debug for LiveCollector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("LiveCollector").finish_non_exhaustive()
    }
}

impl Collector for LiveCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let watched: Vec<(String, Arc<LiveState>, Option<DriftReport>)> = self
            .0
            .all()
            .iter()
            .filter_map(|r| {
                let champion = r.arms().champion;
                let state = Arc::clone(champion.live.as_ref()?.state());
                let report = state.report();
                Some((r.name.clone(), state, report))
            })
            .collect();
        let gauge = ConstGauge::new(0.0f64).metric_type();
        let mut firing: Vec<(RuleLabels, bool)> = Vec::new();
        for (model, state, _) in &watched {
            let alerts = state.alerts.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone();
            firing.extend(alerts.into_iter().map(|a| (RuleLabels { model: model.clone(), rule: a.rule }, a.firing)));
        }
        for (model, q) in self.1.snapshot() {
            firing.extend(q.alerts.into_iter().map(|a| (RuleLabels { model: model.clone(), rule: a.rule }, a.firing)));
        }
        if !firing.is_empty() {
            let mut m = encoder.encode_descriptor(
                "mirador_alert_firing",
                "1 while a live alert rule fires (after its duration), else 0",
                None,
                gauge,
            )?;
            for (labels, on) in &firing {
                ConstGauge::new(f64::from(u8::from(*on))).encode(m.encode_family(labels)?)?;
            }
        }
        if watched.is_empty() {
            return Ok(());
        }
        for (name, help, value) in [
            ("mirador_drift_score", "Live drift per column: the test's score (p-value or distance) over the window", 0),
            ("mirador_drift_threshold", "The threshold the column's drift score is judged against", 1),
        ] {
            let mut m = encoder.encode_descriptor(name, help, None, gauge)?;
            for (model, _, report) in &watched {
                for c in report.iter().flat_map(|r| &r.columns) {
                    let labels =
                        TestLabels { model: model.clone(), column: c.column.clone(), test: c.test.as_str().into() };
                    let v = if value == 0 { c.score } else { c.threshold };
                    ConstGauge::new(v).encode(m.encode_family(&labels)?)?;
                }
            }
        }
        type PerColumn = fn(&crate::core::drift::ColumnDrift) -> f64;
        let per_column: [(&str, &str, PerColumn); 2] = [
            ("mirador_drift_detected", "1 when the column drifted in the window", |c| f64::from(u8::from(c.drift))),
            ("mirador_missing_share", "Share of the window's rows with no value in the column", |c| c.current_missing),
        ];
        for (name, help, read) in per_column {
            let mut m = encoder.encode_descriptor(name, help, None, gauge)?;
            for (model, _, report) in &watched {
                for c in report.iter().flat_map(|r| &r.columns) {
                    let labels = ColumnLabels { model: model.clone(), column: c.column.clone() };
                    ConstGauge::new(read(c)).encode(m.encode_family(&labels)?)?;
                }
            }
        }
        type Read = fn(&LiveState, &DriftReport) -> f64;
        let per_model: [(&str, &str, Read); 3] = [
            ("mirador_share_drifted", "Share of tested columns that drifted in the window", |_, r| r.share_drifted),
            ("mirador_dataset_drift", "1 when the share of drifted columns reaches the dataset threshold", |_, r| {
                f64::from(u8::from(r.dataset_drift))
            }),
            ("mirador_drift_window_rows", "Rows in the window the live drift was measured on", |s, _| {
                s.window_rows.load(Ordering::Relaxed) as f64
            }),
        ];
        for (name, help, read) in per_model {
            let mut m = encoder.encode_descriptor(name, help, None, gauge)?;
            for (model, state, report) in &watched {
                if let Some(r) = report {
                    ConstGauge::new(read(state, r)).encode(m.encode_family(&ModelLabel { model: model.clone() })?)?;
                }
            }
        }
        let mut m = encoder.encode_descriptor(
            "mirador_drift_rows_dropped",
            "Rows the live drift monitor was too busy to take",
            None,
            ConstCounter::new(0u64).metric_type(),
        )?;
        for (model, state, _) in &watched {
            let n = state.rows_dropped.load(Ordering::Relaxed);
            ConstCounter::new(n).encode(m.encode_family(&ModelLabel { model: model.clone() })?)?;
        }
        Ok(())
    }
}
