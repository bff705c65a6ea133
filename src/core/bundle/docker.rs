//! `Dockerfile`: the image that serves the bundle, and its check.

use std::path::Path;

use super::files::read;

/// A Dockerfile serving the Triton repository with NVIDIA's Triton image.
pub fn dockerfile(name: &str) -> String {
    format!(
        "# Serves {name} with Triton Inference Server (ONNX Runtime backend), KServe v2 protocol on 8000.\n\
         FROM nvcr.io/nvidia/tritonserver:24.08-py3\n\
         COPY triton /models\n\
         COPY reference_profile.json alerts.json MODEL_CARD.md manifest.json /bundle/\n\
         EXPOSE 8000 8001 8002\n\
         HEALTHCHECK CMD curl -fsS localhost:8000/v2/health/ready || exit 1\n\
         CMD [\"tritonserver\", \"--model-repository=/models\", \"--strict-model-config=true\"]\n"
    )
}

pub(super) fn check_dockerfile(dir: &Path) -> std::result::Result<String, String> {
    let text = read(dir, "Dockerfile")?;
    let first = text.lines().map(str::trim).find(|l| !l.is_empty() && !l.starts_with('#')).unwrap_or_default();
    if !first.starts_with("FROM ") {
        return Err("the first instruction is not FROM".into());
    }
    Ok(first.to_string())
}
