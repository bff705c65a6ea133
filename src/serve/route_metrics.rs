//! The routes' figures on `/metrics`, read at each scrape: what each arm served, the challenger's
//! weight and shadow share, the shadow copies' fate, and where each rollout stands — the series an
//! Argo Rollouts `AnalysisTemplate` or a Grafana panel queries.
//!
//! | series | labels |
//! |---|---|
//! | `mirador_route_requests_total` | `model`, `arm` (champion / canary / shadow), `outcome` (ok / error) |
//! | `mirador_route_rows_total` | `model`, `arm` |
//! | `mirador_route_challenger_weight` | `model` — the challenger's answering share |
//! | `mirador_route_shadow_share` | `model` — the share copied to a shadow |
//! | `mirador_route_shadow_dropped_total` | `model` — copies dropped (the challenger's queue was full) |
//! | `mirador_contract_failures_total` | `model` — rows refused because a value did not fit the contract |
//! | `mirador_rollout_failed_measurements` | `model` |
//! | `mirador_rollout_state` | `model`, `state` (running / promoted / aborted): 1 for the current one |

use std::sync::Arc;
use std::sync::atomic::Ordering;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;

use crate::core::rollout::Outcome;
use crate::core::serving::route::{ARMS, Route};
use crate::core::serving::routes::RouteTable;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ArmOutcome {
    model: String,
    arm: String,
    outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ArmLabels {
    model: String,
    arm: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    model: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StateLabels {
    model: String,
    state: String,
}

/// The routes, read at each scrape (those with a challenger are exported).
pub struct RouteCollector(pub Arc<RouteTable>);

impl std::fmt::Debug for RouteCollector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("RouteCollector").field(&self.0.all()).finish()
    }
}

impl Collector for RouteCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let all = self.0.all();
        let mut m = encoder.encode_descriptor(
            "mirador_contract_failures",
            "Rows refused because a value did not fit the model's contract (logged in <log>/<model>/rejected/)",
            None,
            ConstCounter::new(0u64).metric_type(),
        )?;
        for r in &all {
            let n = r.contract_failures.load(Ordering::Relaxed);
            ConstCounter::new(n).encode(m.encode_family(&RouteLabels { model: r.name.clone() })?)?;
        }
        let routes: Vec<Arc<Route>> = all.into_iter().filter(|r| r.arms().challenger.is_some()).collect();
        if routes.is_empty() {
            return Ok(());
        }
        let routes = &routes;
        let mut m = encoder.encode_descriptor(
            "mirador_route_requests",
            "Requests each arm of a route scored (shadow: copies), by outcome",
            None,
            ConstCounter::new(0u64).metric_type(),
        )?;
        for r in routes {
            for (arm, c) in ARMS.iter().zip(&r.counters) {
                let (all, errors) = (c.requests.load(Ordering::Relaxed), c.errors.load(Ordering::Relaxed));
                for (outcome, n) in [("ok", all.saturating_sub(errors)), ("error", errors)] {
                    let labels =
                        ArmOutcome { model: r.name.clone(), arm: arm.as_str().into(), outcome: outcome.into() };
                    ConstCounter::new(n).encode(m.encode_family(&labels)?)?;
                }
            }
        }
        let mut m = encoder.encode_descriptor(
            "mirador_route_rows",
            "Rows each arm of a route scored",
            None,
            ConstCounter::new(0u64).metric_type(),
        )?;
        for r in routes {
            for (arm, c) in ARMS.iter().zip(&r.counters) {
                let labels = ArmLabels { model: r.name.clone(), arm: arm.as_str().into() };
                ConstCounter::new(c.rows.load(Ordering::Relaxed)).encode(m.encode_family(&labels)?)?;
            }
        }
        for (name, help, value) in [
            (
                "mirador_route_challenger_weight",
                "The share of a route's traffic the challenger answers",
                (|r: &Route| r.weight()) as fn(&Route) -> f64,
            ),
            ("mirador_route_shadow_share", "The share of a route's requests copied to a shadow challenger", |r| {
                r.mirror()
            }),
        ] {
            let mut m = encoder.encode_descriptor(name, help, None, ConstGauge::new(0.0f64).metric_type())?;
            for r in routes {
                ConstGauge::new(value(r)).encode(m.encode_family(&RouteLabels { model: r.name.clone() })?)?;
            }
        }
        let mut m = encoder.encode_descriptor(
            "mirador_route_shadow_dropped",
            "Shadow copies dropped because the challenger's queue was full",
            None,
            ConstCounter::new(0u64).metric_type(),
        )?;
        for r in routes {
            let n = r.shadow.dropped.load(Ordering::Relaxed);
            ConstCounter::new(n).encode(m.encode_family(&RouteLabels { model: r.name.clone() })?)?;
        }
        let statuses: Vec<_> = routes.iter().map(|r| (r.name.clone(), r.status())).collect();
        let mut m = encoder.encode_descriptor(
            "mirador_rollout_failed_measurements",
            "Failed gate measurements of a route's rollout",
            None,
            ConstGauge::new(0i64).metric_type(),
        )?;
        for (name, s) in &statuses {
            if let Some(f) = s.failures {
                ConstGauge::new(i64::from(f)).encode(m.encode_family(&RouteLabels { model: name.clone() })?)?;
            }
        }
        let mut m = encoder.encode_descriptor(
            "mirador_rollout_state",
            "Where a route's rollout stands: 1 for its current state",
            None,
            ConstGauge::new(0i64).metric_type(),
        )?;
        for (name, s) in &statuses {
            let Some(state) = &s.state else { continue };
            let now = match state {
                Outcome::Running => "running",
                Outcome::Promoted { .. } => "promoted",
                Outcome::Aborted { .. } => "aborted",
            };
            for candidate in ["running", "promoted", "aborted"] {
                let labels = StateLabels { model: name.clone(), state: candidate.into() };
                ConstGauge::new(i64::from(candidate == now)).encode(m.encode_family(&labels)?)?;
            }
        }
        Ok(())
    }
}
