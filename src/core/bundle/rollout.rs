//! `rollout/`: the bundle's rollout strategy written for the platforms ops use when one machine is
//! not enough — an Argo Rollouts canary whose `AnalysisTemplate` queries the Prometheus metrics
//! `mirador serve` exports (the gate, measured every step; abort at the first failure), and Seldon
//! Core 2 `Experiment`s for the canary split and for a shadow (`mirror`). KServe's
//! `canaryTrafficPercent` is in `kserve/`. And their check, for `bundle verify`.

use std::path::Path;

use serde_json::json;

use super::yaml::{read_yaml, to_yaml};
use crate::core::error::Result;
use crate::core::rollout::Strategy;
use crate::core::rollout::strategy::format_duration;

/// The Prometheus server the analysis asks (edit for your cluster).
pub const PROMETHEUS: &str = "http://prometheus.monitoring.svc:9090";

/// Series the analysis queries; each is exported by `mirador serve` (checked by the tests).
pub const QUERIED_SERIES: [&str; 2] =
    ["mirador_inference_requests_total", "mirador_inference_request_duration_seconds_bucket"];

fn k8s_name(name: &str) -> String {
    name.replace('_', "-").to_lowercase()
}

/// The canary steps (shares) and the interval of `strategy`; shadow and the others become one
/// step at their share.
fn steps(strategy: &Strategy) -> (Vec<f64>, f64) {
    match strategy {
        Strategy::Canary { steps, interval_secs } => (steps.clone(), *interval_secs),
        Strategy::Shadow { interval_secs, .. } => (vec![1.0], *interval_secs),
        Strategy::Basic | Strategy::BlueGreen => (vec![1.0], 60.0),
    }
}

/// An Argo Rollouts `Rollout` of `image` (version `version`) with the canary steps of `strategy`,
/// the gate analysis running in the background from the first step.
pub fn argo_rollout_yaml(name: &str, version: u32, image: &str, strategy: &Strategy) -> Result<String> {
    let n = k8s_name(name);
    let (shares, interval) = steps(strategy);
    let mut argo_steps = Vec::new();
    for s in &shares {
        argo_steps.push(json!({"setWeight": (s * 100.0).round() as i64}));
        argo_steps.push(json!({"pause": {"duration": format_duration(interval)}}));
    }
    let doc = json!({
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Rollout",
        "metadata": {"name": n},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": n}},
            "template": {
                "metadata": {"labels": {"app": n}},
                "spec": {"containers": [{
                    "name": "mirador",
                    "image": image,
                    "args": ["--host", "0.0.0.0", "--port", "8080"],
                    "ports": [{"containerPort": 8080}],
                    "readinessProbe": {"httpGet": {"path": "/v2/health/ready", "port": 8080}},
                }]},
            },
            "strategy": {"canary": {
                "analysis": {
                    "templates": [{"templateName": format!("{n}-gate")}],
                    "startingStep": 1,
                    "args": [{"name": "model", "value": name}, {"name": "version", "value": version.to_string()}],
                },
                "steps": argo_steps,
            }},
        },
    });
    to_yaml(&doc)
}

/// The gate as an Argo `AnalysisTemplate`: the new version's error rate (5xx share) and p99
/// latency from Mirador's metrics, measured every `interval`; the first failure aborts
/// (`failureLimit: 0`, Argo's default).
pub fn argo_analysis_yaml(name: &str, strategy: &Strategy) -> Result<String> {
    let (_, interval) = steps(strategy);
    let selector = r#"model="{{args.model}}",version="{{args.version}}""#;
    // Both conditions, so no traffic yet (NaN) is Inconclusive, as a thin window is in Mirador.
    let metric = |metric: &str, limit: f64, query: String| {
        json!({
            "name": metric,
            "interval": format_duration(interval),
            "failureLimit": 0,
            "successCondition": format!("result[0] <= {limit}"),
            "failureCondition": format!("result[0] > {limit}"),
            "provider": {"prometheus": {"address": PROMETHEUS, "query": query}},
        })
    };
    let doc = json!({
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "AnalysisTemplate",
        "metadata": {"name": format!("{}-gate", k8s_name(name))},
        "spec": {
            "args": [{"name": "model"}, {"name": "version"}],
            "metrics": [
                metric(
                    "error-rate",
                    0.01,
                    format!(
                        "sum(rate(mirador_inference_requests_total{{{selector},status=~\"5..\"}}[{i}])) / \
                         sum(rate(mirador_inference_requests_total{{{selector}}}[{i}]))",
                        i = format_duration(interval)
                    ),
                ),
                metric(
                    "latency-p99",
                    0.25,
                    format!(
                        "histogram_quantile(0.99, sum by (le) (rate(mirador_inference_request_duration_seconds_bucket{{{selector}}}[{}])))",
                        format_duration(interval)
                    ),
                ),
            ],
        },
    });
    to_yaml(&doc)
}

/// Seldon Core 2 `Experiment`s: the canary split at its first step, and a shadow mirroring the
/// share of `strategy` (all of it unless it is a shadow with a share).
pub fn seldon_yaml(name: &str, version: u32, strategy: &Strategy) -> Result<(String, String)> {
    let (stable, candidate) = (k8s_name(name), format!("{}-v{version}", k8s_name(name)));
    let first = (steps(strategy).0.first().copied().unwrap_or(0.1) * 100.0).round() as i64;
    let canary = json!({
        "apiVersion": "mlops.seldon.io/v1alpha1",
        "kind": "Experiment",
        "metadata": {"name": format!("{candidate}-canary")},
        "spec": {
            "default": stable,
            "candidates": [{"name": stable, "weight": 100 - first}, {"name": candidate, "weight": first}],
        },
    });
    let mirror = match strategy {
        Strategy::Shadow { share, .. } => (share * 100.0).round() as i64,
        _ => 100,
    };
    let shadow = json!({
        "apiVersion": "mlops.seldon.io/v1alpha1",
        "kind": "Experiment",
        "metadata": {"name": format!("{candidate}-shadow")},
        "spec": {
            "default": stable,
            "candidates": [{"name": stable, "weight": 100}],
            "mirror": {"name": candidate, "percent": mirror},
        },
    });
    Ok((to_yaml(&canary)?, to_yaml(&shadow)?))
}

fn int(v: &yaml_rust2::Yaml) -> Option<i64> {
    v.as_i64()
}

/// Check `rollout/`: the kinds, growing canary weights within 0–100, the analysis the Rollout
/// names, queries on series Mirador exports, Seldon weights and mirror within range.
pub(super) fn check_rollout(dir: &Path) -> std::result::Result<String, String> {
    let rollout = read_yaml(dir, "rollout/argo-rollout.yaml")?;
    if rollout["apiVersion"].as_str() != Some("argoproj.io/v1alpha1") || rollout["kind"].as_str() != Some("Rollout") {
        return Err("rollout/argo-rollout.yaml is not an argoproj.io/v1alpha1 Rollout".into());
    }
    let canary = &rollout["spec"]["strategy"]["canary"];
    let steps = canary["steps"].as_vec().ok_or("the Rollout has no canary steps")?;
    let weights: Vec<i64> = steps.iter().filter_map(|s| int(&s["setWeight"])).collect();
    if weights.is_empty() || weights.windows(2).any(|w| w[0] >= w[1]) || weights.iter().any(|w| !(1..=100).contains(w))
    {
        return Err(format!("the canary's weights {weights:?} must grow within 1–100"));
    }
    let template =
        canary["analysis"]["templates"][0]["templateName"].as_str().ok_or("the Rollout names no analysis")?;
    let analysis = read_yaml(dir, "rollout/argo-analysis.yaml")?;
    if analysis["kind"].as_str() != Some("AnalysisTemplate") || analysis["metadata"]["name"].as_str() != Some(template)
    {
        return Err(format!("rollout/argo-analysis.yaml does not define the AnalysisTemplate '{template}'"));
    }
    let metrics = analysis["spec"]["metrics"].as_vec().ok_or("the AnalysisTemplate has no metrics")?;
    for m in metrics {
        let query = m["provider"]["prometheus"]["query"].as_str().ok_or("a metric has no Prometheus query")?;
        if !QUERIED_SERIES.iter().any(|s| query.contains(s)) {
            return Err(format!("the query '{query}' asks for no series mirador serve exports"));
        }
        if m["successCondition"].as_str().is_none() || m["failureCondition"].as_str().is_none() {
            return Err("a metric needs a successCondition and a failureCondition (else no data fails it)".into());
        }
    }
    let mut seldon = 0;
    for file in ["rollout/seldon-canary.yaml", "rollout/seldon-shadow.yaml"] {
        let doc = read_yaml(dir, file)?;
        if doc["apiVersion"].as_str() != Some("mlops.seldon.io/v1alpha1") || doc["kind"].as_str() != Some("Experiment")
        {
            return Err(format!("{file} is not a Seldon mlops.seldon.io/v1alpha1 Experiment"));
        }
        let candidates = doc["spec"]["candidates"].as_vec().ok_or(format!("{file} has no candidates"))?;
        let total: i64 = candidates.iter().filter_map(|c| int(&c["weight"])).sum();
        if total != 100 {
            return Err(format!("{file}: the candidates' weights add up to {total}, not 100"));
        }
        if let Some(p) = int(&doc["spec"]["mirror"]["percent"])
            && !(1..=100).contains(&p)
        {
            return Err(format!("{file}: mirror percent {p} is not 1–100"));
        }
        seldon += 1;
    }
    Ok(format!(
        "Argo canary {} with {} gate metric(s); {seldon} Seldon experiments",
        weights.iter().map(|w| format!("{w}%")).collect::<Vec<_>>().join(" → "),
        metrics.len()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, file: &str, text: &str) {
        std::fs::create_dir_all(dir.join("rollout")).unwrap();
        std::fs::write(dir.join(file), text).unwrap();
    }

    #[test]
    fn the_rollout_files_check_and_a_bad_one_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let strategy = Strategy::parse("canary:5,25,100@2m").unwrap();
        write(dir.path(), "rollout/argo-rollout.yaml", &argo_rollout_yaml("churn_v1", 2, "img", &strategy).unwrap());
        write(dir.path(), "rollout/argo-analysis.yaml", &argo_analysis_yaml("churn_v1", &strategy).unwrap());
        let (canary, shadow) = seldon_yaml("churn_v1", 2, &strategy).unwrap();
        write(dir.path(), "rollout/seldon-canary.yaml", &canary);
        write(dir.path(), "rollout/seldon-shadow.yaml", &shadow);
        let ok = check_rollout(dir.path()).unwrap();
        assert!(ok.contains("5% → 25% → 100%"), "{ok}");
        let rollout = std::fs::read_to_string(dir.path().join("rollout/argo-rollout.yaml")).unwrap();
        write(dir.path(), "rollout/argo-rollout.yaml", &rollout.replace("setWeight: 25", "setWeight: 2"));
        assert!(check_rollout(dir.path()).unwrap_err().contains("must grow"));
        write(dir.path(), "rollout/argo-rollout.yaml", &rollout);
        write(dir.path(), "rollout/seldon-canary.yaml", &canary.replace("weight: 5", "weight: 15"));
        assert!(check_rollout(dir.path()).unwrap_err().contains("add up to 110"));
    }
}
