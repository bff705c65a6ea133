//! `manifest.json`: every file's SHA-256, the Mirador version, where the model came from.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::core::error::{Error, Result};

/// Bundle format version (in the manifest).
pub const FORMAT_VERSION: u32 = 1;

/// Latency of one row before and after ORT's offline optimisation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OptimisedLatency {
    /// Median per-row latency of the original model, ms.
    pub original_p50_ms: f64,
    /// Median per-row latency of the optimised copy, ms.
    pub optimized_p50_ms: f64,
    /// Whether the optimised copy is in the bundle (it is when at least 5 % faster).
    pub kept: bool,
}

/// The manifest: every file's checksum and where the bundle came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// Bundle format version.
    pub format_version: u32,
    /// Mirador's version.
    pub mirador_version: String,
    /// When (RFC 3339, UTC).
    pub created_at: String,
    /// Where the model came from.
    pub source: String,
    /// Serving name.
    pub name: String,
    /// Serving version.
    pub version: u32,
    /// SHA-256 of `model.onnx`.
    pub model_sha256: String,
    /// Latency before/after optimisation.
    pub latency: Option<OptimisedLatency>,
    /// Relative path → SHA-256, for every file but the manifest.
    pub files: BTreeMap<String, String>,
    /// Relative path → size in bytes (bounds what unpacking an archive may write).
    #[serde(default)]
    pub sizes: BTreeMap<String, u64>,
}

/// The manifest's JSON, for tests and tools.
pub fn read_manifest(dir: &Path) -> Result<Manifest> {
    let path = dir.join("manifest.json");
    let text = std::fs::read_to_string(&path).map_err(|e| Error::io("read the manifest", &path, e))?;
    serde_json::from_str(&text)
        .map_err(|e| Error::Invalid(format!("the manifest is not valid ({e}) — {}", path.display())))
}
