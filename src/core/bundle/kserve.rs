//! `kserve/`: a KServe `ServingRuntime` that runs the bundle's image (`mirador serve`) as a V2
//! predictor, and an `InferenceService` using it with a canary share — so canary traffic and
//! autoscaling come from KServe when one machine is not enough. And their check.

use std::path::Path;

use serde_json::json;

use super::yaml::{read_yaml, to_yaml};
use crate::core::error::Result;

/// The runtime's name in the cluster.
pub const RUNTIME: &str = "mirador";

/// A `ServingRuntime` running `image` (the bundle's Dockerfile) on the model KServe downloads to
/// `/mnt/models`, speaking V2 on 8080, ready and live on the V2 health endpoints.
pub fn serving_runtime_yaml(image: &str) -> Result<String> {
    let probe = |path: &str| json!({"httpGet": {"path": path, "port": 8080}, "periodSeconds": 5});
    let doc = json!({
        "apiVersion": "serving.kserve.io/v1alpha1",
        "kind": "ServingRuntime",
        "metadata": {"name": RUNTIME},
        "spec": {
            "supportedModelFormats": [{"name": "onnx", "version": "1", "autoSelect": false}],
            "protocolVersions": ["v2"],
            "containers": [{
                "name": "kserve-container",
                "image": image,
                "args": ["--model", "{{.Name}}=/mnt/models", "--host", "0.0.0.0", "--port", "8080"],
                "ports": [{"containerPort": 8080, "protocol": "TCP"}],
                "readinessProbe": probe("/v2/health/ready"),
                "livenessProbe": probe("/v2/health/live"),
                "resources": {"requests": {"cpu": "1", "memory": "128Mi"}, "limits": {"memory": "512Mi"}},
            }],
        },
    });
    to_yaml(&doc)
}

/// An `InferenceService` for the bundle (uploaded to `storage_uri`) on the Mirador runtime, V2
/// protocol, with `canary_percent` of the traffic on a new revision.
pub fn kserve_yaml(name: &str, storage_uri: &str, canary_percent: u8) -> Result<String> {
    let doc = json!({
        "apiVersion": "serving.kserve.io/v1beta1",
        "kind": "InferenceService",
        "metadata": {"name": name.replace('_', "-"), "annotations": {"serving.kserve.io/deploymentMode": "Serverless"}},
        "spec": {"predictor": {
            "canaryTrafficPercent": canary_percent,
            "minReplicas": 1,
            "model": {"modelFormat": {"name": "onnx"}, "runtime": RUNTIME, "storageUri": storage_uri,
                      "protocolVersion": "v2"}}},
    });
    to_yaml(&doc)
}

pub(super) fn check_kserve(dir: &Path) -> std::result::Result<String, String> {
    let doc = read_yaml(dir, "kserve/inferenceservice.yaml")?;
    if doc["apiVersion"].as_str() != Some("serving.kserve.io/v1beta1")
        || doc["kind"].as_str() != Some("InferenceService")
    {
        return Err("not a serving.kserve.io/v1beta1 InferenceService".into());
    }
    let predictor = &doc["spec"]["predictor"];
    let canary = predictor["canaryTrafficPercent"].as_i64().ok_or("no canaryTrafficPercent")?;
    if !(0..=100).contains(&canary) {
        return Err(format!("canaryTrafficPercent {canary} is not 0–100"));
    }
    let model = &predictor["model"];
    if model["modelFormat"]["name"].as_str() != Some("onnx") || model["storageUri"].as_str().is_none() {
        return Err("spec.predictor.model needs modelFormat.name 'onnx' and a storageUri".into());
    }
    if model["protocolVersion"].as_str() != Some("v2") {
        return Err("spec.predictor.model.protocolVersion is not v2".into());
    }
    let runtime = read_yaml(dir, "kserve/servingruntime.yaml")?;
    if runtime["kind"].as_str() != Some("ServingRuntime")
        || runtime["metadata"]["name"].as_str() != model["runtime"].as_str()
    {
        return Err("kserve/servingruntime.yaml does not define the runtime the InferenceService names".into());
    }
    let container = &runtime["spec"]["containers"][0];
    if container["readinessProbe"]["httpGet"]["path"].as_str() != Some("/v2/health/ready") {
        return Err("the runtime's readiness probe is not /v2/health/ready".into());
    }
    Ok(format!("V2 predictor on the {RUNTIME} runtime, canary {canary} %"))
}
