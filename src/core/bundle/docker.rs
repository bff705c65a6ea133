//! `Dockerfile`: a small image running `mirador serve` on the bundle (the server-only build and ONNX
//! Runtime's shared library on a slim Debian), readiness and liveness on the V2 health endpoints;
//! `triton/Dockerfile`: the same model on Triton, the second target. And their check.

use std::path::Path;

use super::files::read;

/// Where the server binary and ONNX Runtime go in the bundle when it carries them (`bin/`, `lib/`).
pub const SERVER_BINARY: &str = "bin/mirador";
/// ONNX Runtime's shared library in the bundle.
pub const RUNTIME_LIBRARY: &str = "lib/libonnxruntime.so.1.31.1";

/// The Dockerfile serving the bundle with `mirador serve` on port 8080.
pub fn dockerfile(name: &str, carries_server: bool) -> String {
    let fetch = if carries_server {
        "# This bundle carries the server-only `mirador` (bin/) and ONNX Runtime (lib/): build it as it is.\n"
    } else {
        "# Before building, put the server-only `mirador` in bin/ and ONNX Runtime's library in lib/ —\n\
         # `mirador bundle create … --with-server` does it — or build with `cargo build --release\n\
         # --no-default-features` and copy target/release/mirador and libonnxruntime.so.1.31.1 there.\n"
    };
    format!(
        "# Serves {name} with `mirador serve`: the Open Inference Protocol (KServe V2) and KServe V1 on 8080,\n\
         # Prometheus metrics on /metrics. The bundle is verified when the server starts.\n\
         {fetch}\
         FROM debian:bookworm-slim\n\
         RUN apt-get update && apt-get install -y --no-install-recommends curl ca-certificates \\\n    \
         && rm -rf /var/lib/apt/lists/* && useradd --system --uid 10001 mirador\n\
         COPY {SERVER_BINARY} /usr/local/bin/mirador\n\
         COPY {RUNTIME_LIBRARY} /usr/local/lib/\n\
         COPY . /bundle\n\
         ENV ORT_DYLIB_PATH=/usr/local/lib/libonnxruntime.so.1.31.1 MIRADOR_CACHE_DIR=/tmp\n\
         USER mirador\n\
         EXPOSE 8080\n\
         HEALTHCHECK --interval=10s --timeout=2s CMD curl -fsS localhost:8080/v2/health/ready || exit 1\n\
         ENTRYPOINT [\"mirador\", \"serve\"]\n\
         CMD [\"--model\", \"{name}=/bundle\", \"--host\", \"0.0.0.0\", \"--port\", \"8080\", \"--log-dir\", \"/tmp/prediction-log\"]\n"
    )
}

/// Triton serving the bundle's model repository, the second target.
pub fn triton_dockerfile(name: &str) -> String {
    format!(
        "# Serves {name} with Triton Inference Server (ONNX Runtime backend), KServe V2 on 8000.\n\
         # Build from the bundle folder: docker build -f triton/Dockerfile .\n\
         FROM nvcr.io/nvidia/tritonserver:24.08-py3\n\
         COPY triton /models\n\
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
    if !text.contains("\"mirador\", \"serve\"") || !text.contains("/v2/health/ready") {
        return Err("the image does not run mirador serve with a readiness check".into());
    }
    let carried = [SERVER_BINARY, RUNTIME_LIBRARY].iter().filter(|f| dir.join(f).is_file()).count();
    let note = match carried {
        2 => "carries the server and ONNX Runtime",
        0 => "needs bin/mirador and lib/ (see its comments)",
        _ => return Err(format!("only one of {SERVER_BINARY} and {RUNTIME_LIBRARY} is in the bundle")),
    };
    Ok(format!("{first}; {note}"))
}
