//! Verifying a bundle offline: every checksum, no file outside the manifest, no path leaving the
//! bundle, the model loads, the golden rows still give the recorded outputs, and every config is
//! well-formed. A `.tar.gz` is unpacked into a temporary folder first, refusing unsafe entries.

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::archive::{safe_relative, unpack};
use super::docker::check_dockerfile;
use super::examples::{read_examples, reproduce};
use super::files::{file_sha256, files_under, relative};
use super::kserve::check_kserve;
use super::manifest::read_manifest;
use super::monitoring::check_monitoring;
use super::openapi::check_openapi;
use super::prometheus::check_prometheus;
use super::rollout::check_rollout;
use super::schedule::check_schedule;
use super::schema::check_schema;
use super::triton::check_triton;
use crate::core::error::{Error, Result};
use crate::core::model::Model;

/// One check's outcome.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VerifyCheck {
    /// What was checked.
    pub check: String,
    /// Whether it holds.
    pub ok: bool,
    /// What was found.
    pub detail: String,
}

/// Every check of a bundle.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VerifyReport {
    /// The bundle.
    pub bundle: PathBuf,
    /// The checks, in order.
    pub checks: Vec<VerifyCheck>,
    /// Whether all hold.
    pub passed: bool,
}

/// Verify the bundle folder (or `.tar.gz`) at `path`.
pub fn verify(path: &Path) -> Result<VerifyReport> {
    let name = path.to_string_lossy();
    if name.ends_with(".tar.gz") || name.ends_with(".tgz") {
        let temp = tempfile::tempdir().map_err(|e| Error::io("create a temporary folder", path, e))?;
        let root = unpack(path, temp.path())?;
        let mut report = verify_dir(&root)?;
        report.bundle = path.to_path_buf();
        return Ok(report);
    }
    verify_dir(path)
}

/// A bundle opened for use: verified, and (for an archive) unpacked into a temporary folder that
/// lives as long as this value.
pub struct OpenedBundle {
    /// The bundle's folder.
    pub dir: PathBuf,
    /// Its manifest.
    pub manifest: super::Manifest,
    /// The verification that passed.
    pub report: VerifyReport,
    _unpacked: Option<tempfile::TempDir>,
}

/// Open the bundle folder (or `.tar.gz`) at `path` for use, refusing one that does not verify
/// (a tampered file, a missing file, a model that no longer gives its golden rows), naming what failed.
pub fn open_verified(path: &Path) -> Result<OpenedBundle> {
    let name = path.to_string_lossy();
    let (dir, unpacked) = if name.ends_with(".tar.gz") || name.ends_with(".tgz") {
        let temp = tempfile::tempdir().map_err(|e| Error::io("create a temporary folder", path, e))?;
        let root = unpack(path, temp.path())?;
        (root, Some(temp))
    } else {
        (path.to_path_buf(), None)
    };
    let mut report = verify_dir(&dir)?;
    report.bundle = path.to_path_buf();
    if !report.passed {
        let failed: Vec<String> =
            report.checks.iter().filter(|c| !c.ok).map(|c| format!("{}: {}", c.check, c.detail)).collect();
        return Err(Error::Invalid(format!(
            "the bundle does not verify, so it is not served — {} — {}",
            failed.join("; "),
            path.display()
        )));
    }
    let manifest = read_manifest(&dir)?;
    Ok(OpenedBundle { dir, manifest, report, _unpacked: unpacked })
}

fn verify_dir(dir: &Path) -> Result<VerifyReport> {
    let manifest = read_manifest(dir)?;
    let mut checks = Vec::new();
    let mut check =
        |check: &str, ok: bool, detail: String| checks.push(VerifyCheck { check: check.into(), ok, detail });

    // Checksums, and nothing outside the manifest.
    let mut tampered = Vec::new();
    for (rel, want) in &manifest.files {
        let path = dir.join(rel);
        if !safe_relative(Path::new(rel)) {
            tampered.push(format!("{rel}: leaves the bundle"));
        } else if path.symlink_metadata().map(|m| !m.file_type().is_file()).unwrap_or(true) {
            tampered.push(format!("{rel}: missing or not a regular file"));
        } else {
            let found = file_sha256(&path)?;
            if &found != want {
                tampered.push(format!("{rel}: SHA-256 {found}, manifest says {want}"));
            }
        }
    }
    let listed: Vec<String> = files_under(dir)?.iter().map(|p| relative(dir, p)).collect();
    for rel in &listed {
        if rel != "manifest.json" && !manifest.files.contains_key(rel) {
            tampered.push(format!("{rel}: not in the manifest"));
        }
    }
    let detail =
        if tampered.is_empty() { format!("{} files match", manifest.files.len()) } else { tampered.join("; ") };
    check("checksums", tampered.is_empty(), detail);

    // The model loads and is the one the manifest names.
    let model = Model::load(dir.join("model.onnx"));
    match &model {
        Ok(m) => {
            check("model", m.info().sha256 == manifest.model_sha256, format!("loads; SHA-256 {}", m.info().sha256))
        }
        Err(e) => check("model", false, e.to_string()),
    }

    // Golden rows.
    let examples = read_examples(dir);
    let reproduced = match (&model, &examples) {
        (Ok(m), Ok(e)) => reproduce(m, e),
        (Err(e), _) => Err(Error::Invalid(e.to_string())),
        (_, Err(e)) => Err(Error::Invalid(e.to_string())),
    };
    match reproduced {
        Ok((n, problems)) => {
            let detail = if problems.is_empty() { format!("{n} rows reproduce") } else { problems.join("; ") };
            check("examples", problems.is_empty(), detail);
        }
        Err(e) => check("examples", false, e.to_string()),
    }

    // Configs.
    let results = [
        ("schema.json", examples.map_err(|e| e.to_string()).and_then(|e| check_schema(dir, &e))),
        ("openapi.yaml", check_openapi(dir)),
        (
            "triton config.pbtxt",
            model.map_err(|e| e.to_string()).and_then(|m| check_triton(dir, &m, &manifest.name, manifest.version)),
        ),
        ("kserve inferenceservice.yaml", check_kserve(dir)),
        ("rollout/ (Argo, Seldon)", check_rollout(dir)),
        ("schedule/ (CronJob, systemd timer)", check_schedule(dir)),
        ("prometheus_rules.yaml", check_prometheus(dir)),
        ("monitoring/ (PrometheusRule, Grafana)", check_monitoring(dir)),
        ("Dockerfile", check_dockerfile(dir)),
    ];
    for (name, result) in results {
        match result {
            Ok(detail) => check(name, true, detail),
            Err(e) => check(name, false, e),
        }
    }
    let passed = checks.iter().all(|c| c.ok);
    Ok(VerifyReport { bundle: dir.to_path_buf(), checks, passed })
}
