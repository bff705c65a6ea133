//! `kserve/inferenceservice.yaml`: a KServe `InferenceService` with a canary share, and its check.

use std::path::Path;

use serde_json::json;

use super::yaml::{read_yaml, to_yaml};
use crate::core::error::Result;

/// A KServe `InferenceService` serving the bundle's Triton repository, with a canary share.
pub fn kserve_yaml(name: &str, storage_uri: &str, canary_percent: u8) -> Result<String> {
    let doc = json!({
        "apiVersion": "serving.kserve.io/v1beta1",
        "kind": "InferenceService",
        "metadata": {"name": name.replace('_', "-"), "annotations": {"serving.kserve.io/deploymentMode": "Serverless"}},
        "spec": {"predictor": {
            "canaryTrafficPercent": canary_percent,
            "model": {"modelFormat": {"name": "onnx"}, "runtime": "kserve-tritonserver", "storageUri": storage_uri,
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
    if predictor["model"]["modelFormat"]["name"].as_str() != Some("onnx")
        || predictor["model"]["storageUri"].as_str().is_none()
    {
        return Err("spec.predictor.model needs modelFormat.name 'onnx' and a storageUri".into());
    }
    Ok(format!("canary {canary} %"))
}
