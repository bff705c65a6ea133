//! `monitoring/`: the bundle's alerting rules as a Prometheus Operator `PrometheusRule` resource,
//! and a Grafana dashboard over the series `mirador serve` exports (a `DS_PROMETHEUS` input to
//! pick the data source on import; `model` and `feature` variables). And their check.

use std::path::Path;

use serde_json::{Value, json};

use super::yaml::{read_yaml, to_yaml};
use crate::core::error::{Error, Result};

/// Series the dashboard queries; each is exported by `mirador serve` (checked by the tests).
pub const DASHBOARD_SERIES: [&str; 9] = [
    "mirador_inference_requests_total",
    "mirador_inference_request_duration_seconds_bucket",
    "mirador_drift_score",
    "mirador_share_drifted",
    "mirador_alert_firing",
    "mirador_route_challenger_weight",
    "mirador_model_ready",
    "mirador_quality",
    "mirador_contract_failures_total",
];

/// The bundle's alerting rules (`groups`, as in `prometheus_rules.yaml`) as a `PrometheusRule`.
pub fn prometheus_rule_yaml(name: &str, groups: &Value) -> Result<String> {
    let doc = json!({
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": {"name": format!("mirador-{}", name.replace('_', "-")), "labels": {"app.kubernetes.io/part-of": "mirador"}},
        "spec": {"groups": groups["groups"]},
    });
    to_yaml(&doc)
}

/// A Grafana dashboard for the served model: traffic, latency, live drift, alerts, rollout,
/// realised metrics and refused rows.
pub fn grafana_dashboard(name: &str) -> Result<String> {
    let ds = json!({"type": "prometheus", "uid": "${DS_PROMETHEUS}"});
    let panel = |id: u32, title: &str, expr: &str, legend: &str, x: u32, y: u32| {
        json!({
            "id": id, "title": title, "type": "timeseries", "datasource": ds,
            "gridPos": {"h": 8, "w": 12, "x": x, "y": y},
            "targets": [{"refId": "A", "datasource": ds, "expr": expr, "legendFormat": legend}],
        })
    };
    let doc = json!({
        "__inputs": [{"name": "DS_PROMETHEUS", "label": "Prometheus", "type": "datasource", "pluginId": "prometheus", "pluginName": "Prometheus"}],
        "__requires": [{"type": "datasource", "id": "prometheus", "name": "Prometheus", "version": "1.0.0"}],
        "title": format!("Mirador — {name}"),
        "uid": format!("mirador-{}", name.replace('_', "-")),
        "schemaVersion": 39,
        "version": 1,
        "time": {"from": "now-6h", "to": "now"},
        "refresh": "30s",
        "templating": {"list": [
            {"name": "model", "label": "Model", "type": "query", "datasource": ds, "query": "label_values(mirador_model_ready, model)",
             "current": {"text": name, "value": name}, "refresh": 1},
            {"name": "feature", "label": "Feature", "type": "query", "datasource": ds, "multi": true, "includeAll": true,
             "query": "label_values(mirador_drift_score{model=\"$model\"}, column)", "refresh": 2},
        ]},
        "panels": [
            panel(1, "Requests per second by status", "sum by (status) (rate(mirador_inference_requests_total{model=\"$model\"}[5m]))", "{{status}}", 0, 0),
            panel(2, "Latency p99 (s)", "histogram_quantile(0.99, sum by (le, version) (rate(mirador_inference_request_duration_seconds_bucket{model=\"$model\"}[5m])))", "v{{version}}", 12, 0),
            panel(3, "Drift score per feature", "mirador_drift_score{model=\"$model\",column=~\"$feature\"}", "{{column}} ({{test}})", 0, 8),
            panel(4, "Share of drifted features", "mirador_share_drifted{model=\"$model\"}", "share drifted", 12, 8),
            panel(5, "Alerts firing", "mirador_alert_firing{model=\"$model\"}", "{{rule}}", 0, 16),
            panel(6, "Challenger's share of traffic", "mirador_route_challenger_weight{model=\"$model\"}", "challenger", 12, 16),
            panel(7, "Realised metrics (late labels)", "mirador_quality{model=\"$model\",version=\"all\"}", "{{metric}}", 0, 24),
            panel(8, "Rows refused by the contract per second", "rate(mirador_contract_failures_total{model=\"$model\"}[5m])", "refused", 12, 24),
        ],
    });
    serde_json::to_string_pretty(&doc).map_err(|e| Error::internal(format!("cannot write the dashboard: {e}")))
}

/// Check `monitoring/`: the `PrometheusRule` carries `prometheus_rules.yaml`'s groups with a `for:`
/// on every rule; the dashboard has its data source input, its variables, and queries only series
/// Mirador exports.
pub(super) fn check_monitoring(dir: &Path) -> std::result::Result<String, String> {
    let resource = read_yaml(dir, "monitoring/prometheusrule.yaml")?;
    if resource["apiVersion"].as_str() != Some("monitoring.coreos.com/v1")
        || resource["kind"].as_str() != Some("PrometheusRule")
    {
        return Err("monitoring/prometheusrule.yaml is not a monitoring.coreos.com/v1 PrometheusRule".into());
    }
    let plain = read_yaml(dir, "prometheus_rules.yaml")?;
    if resource["spec"]["groups"] != plain["groups"] {
        return Err("monitoring/prometheusrule.yaml's groups differ from prometheus_rules.yaml".into());
    }
    let rules: Vec<&yaml_rust2::Yaml> = resource["spec"]["groups"]
        .as_vec()
        .into_iter()
        .flatten()
        .flat_map(|g| g["rules"].as_vec().into_iter().flatten())
        .collect();
    if rules.is_empty() || rules.iter().any(|r| r["for"].as_str().is_none()) {
        return Err("every alerting rule needs a 'for:' duration".into());
    }
    let text = std::fs::read_to_string(dir.join("monitoring/grafana-dashboard.json"))
        .map_err(|e| format!("monitoring/grafana-dashboard.json: {e}"))?;
    let dash: Value =
        serde_json::from_str(&text).map_err(|e| format!("monitoring/grafana-dashboard.json is not JSON: {e}"))?;
    if !dash["__inputs"].as_array().is_some_and(|i| i.iter().any(|x| x["name"] == "DS_PROMETHEUS")) {
        return Err("the dashboard has no DS_PROMETHEUS input".into());
    }
    let vars: Vec<&str> =
        dash["templating"]["list"].as_array().into_iter().flatten().filter_map(|v| v["name"].as_str()).collect();
    if !(vars.contains(&"model") && vars.contains(&"feature")) {
        return Err(format!("the dashboard's variables are {vars:?}; it needs model and feature"));
    }
    let panels = dash["panels"].as_array().ok_or("the dashboard has no panels")?;
    for p in panels {
        for t in p["targets"].as_array().into_iter().flatten() {
            let expr = t["expr"].as_str().ok_or("a panel target has no expr")?;
            if !DASHBOARD_SERIES.iter().any(|s| expr.contains(s)) {
                return Err(format!("the panel '{}' queries no series mirador serve exports: {expr}", p["title"]));
            }
        }
    }
    Ok(format!("PrometheusRule with {} rule(s); Grafana dashboard with {} panels", rules.len(), panels.len()))
}
