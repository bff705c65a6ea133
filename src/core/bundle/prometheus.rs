//! `prometheus_rules.yaml`: Prometheus alerting rules on the drift gauges, the share of rows
//! refused by the contract and (when the bundle knows the reference accuracy) the realised
//! accuracy from late labels; and their check.

use std::path::Path;

use serde_json::json;

use super::yaml::{read_yaml, to_yaml};
use crate::core::error::Result;

/// Prometheus alerting rules on the live drift gauges `mirador serve` exports for a model with a
/// reference profile (`mirador_drift_score{model,column,test}`, `mirador_share_drifted{model}`).
pub fn prometheus_rules(
    name: &str,
    thresholds: &[(String, String, f64, bool)],
    drift_share: f64,
    accuracy: Option<f64>,
) -> Result<String> {
    to_yaml(&rule_groups(name, thresholds, drift_share, accuracy))
}

/// How far (in accuracy) the realised accuracy may fall below the reference's before it alerts.
pub const ACCURACY_DROP: f64 = 0.05;

/// The rules of [`prometheus_rules`] as a JSON value (`{"groups": [...]}`), for the
/// `PrometheusRule` resource too.
pub fn rule_groups(
    name: &str,
    thresholds: &[(String, String, f64, bool)],
    drift_share: f64,
    accuracy: Option<f64>,
) -> serde_json::Value {
    let mut rules = Vec::new();
    for (column, test, threshold, p_value) in thresholds {
        let op = if *p_value { "<" } else { ">=" };
        rules.push(json!({
            "alert": format!("MiradorDrift_{}_{}", name, column),
            "expr": format!("mirador_drift_score{{model=\"{name}\",column=\"{column}\",test=\"{test}\"}} {op} {threshold}"),
            "for": "1h",
            "labels": {"severity": "warning", "model": name},
            "annotations": {"summary": format!("{column} of {name} drifted ({test} {op} {threshold})")},
        }));
    }
    rules.push(json!({
        "alert": format!("MiradorDatasetDrift_{name}"),
        "expr": format!("mirador_share_drifted{{model=\"{name}\"}} >= {drift_share}"),
        "for": "1h",
        "labels": {"severity": "critical", "model": name},
        "annotations": {"summary": format!("At least {}% of {name}'s columns drifted", drift_share * 100.0)},
    }));
    let refused = format!("sum(rate(mirador_contract_failures_total{{model=\"{name}\"}}[15m]))");
    let served = format!("sum(rate(mirador_inference_rows_total{{model=\"{name}\"}}[15m]))");
    rules.push(json!({
        "alert": format!("MiradorContractFailures_{name}"),
        "expr": format!("{refused} / ({served} + {refused}) > 0.01"),
        "for": "15m",
        "labels": {"severity": "warning", "model": name},
        "annotations": {"summary": format!("More than 1% of the rows sent to {name} do not fit its contract (see the log's rejected/ folder)")},
    }));
    if let Some(a) = accuracy {
        let limit = a - ACCURACY_DROP;
        rules.push(json!({
            "alert": format!("MiradorAccuracy_{name}"),
            "expr": format!("mirador_quality{{model=\"{name}\",version=\"all\",metric=\"accuracy\"}} < {limit:.4}"),
            "for": "1h",
            "labels": {"severity": "critical", "model": name},
            "annotations": {"summary": format!("{name}'s accuracy on late labels fell below {limit:.4} (the reference's {a:.4} minus {ACCURACY_DROP})")},
        }));
    }
    json!({"groups": [{"name": format!("mirador-{name}"), "rules": rules}]})
}

pub(super) fn check_prometheus(dir: &Path) -> std::result::Result<String, String> {
    let doc = read_yaml(dir, "prometheus_rules.yaml")?;
    let groups = doc["groups"].as_vec().ok_or("no groups")?;
    let mut n = 0;
    for g in groups {
        for r in g["rules"].as_vec().ok_or("a group has no rules")? {
            if r["alert"].as_str().is_none() || r["expr"].as_str().is_none() {
                return Err("a rule lacks 'alert' or 'expr'".into());
            }
            n += 1;
        }
    }
    Ok(format!("{n} alerting rules"))
}
