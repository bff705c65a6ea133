//! `mirador registry …` and `mirador bundle …`: versions with stages and history, and deployment
//! bundles for operations.

use std::fmt::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Subcommand;

use super::EXIT_CHECK_FAILED;
use super::commands::emit;
use crate::core::bundle::{BundleRequest, ModelSource, VerifyReport, create_bundle, verify};
use crate::core::compare::{CompareRequest, GateRule, compare_files};
use crate::core::registry::{Entry, Registration, Registry, current_user};
use crate::core::{CancelToken, EvaluateRequest, Evaluation, Model, Result, evaluate_file};

/// Registry actions.
#[derive(Debug, Subcommand)]
pub enum RegistryAction {
    /// Register a model file as the next version of NAME.
    Add {
        /// The model's name in the registry.
        name: String,
        /// The .onnx file.
        model: PathBuf,
        /// Why this version exists.
        #[arg(long, default_value = "")]
        note: String,
        /// Who registers it (default: $USER).
        #[arg(long, default_value = "")]
        by: String,
        /// The command that trained it.
        #[arg(long)]
        training_command: Option<String>,
        /// Labelled data to evaluate it on (its SHA-256 and the metrics are recorded).
        #[arg(long, requires = "target")]
        data: Option<PathBuf>,
        /// The label column of --data.
        #[arg(long)]
        target: Option<String>,
    },
    /// List models, versions and stages.
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Show one model (NAME) or version (NAME@VERSION, NAME@STAGE).
    Show {
        /// NAME or NAME@VERSION.
        spec: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Point a stage at a version (NAME@VERSION). With --data, the promotion gate runs first against
    /// the version the stage holds now, and a failing gate refuses the promotion.
    Promote {
        /// NAME@VERSION.
        spec: String,
        /// The stage, e.g. staging, production, archived.
        #[arg(long)]
        stage: String,
        /// Why.
        #[arg(long, default_value = "")]
        reason: String,
        /// Who (default: $USER).
        #[arg(long, default_value = "")]
        by: String,
        /// Labelled data for the promotion gate.
        #[arg(long, requires = "target")]
        data: Option<PathBuf>,
        /// The label column of --data.
        #[arg(long)]
        target: Option<String>,
        /// Gate rules, ';'-separated.
        #[arg(long, default_value = "roc_auc >= champion - 0.005")]
        gate: String,
    },
    /// Put a stage back to the version it held before.
    Rollback {
        /// The model's name.
        name: String,
        /// The stage.
        #[arg(long)]
        stage: String,
        /// Why (required).
        #[arg(long)]
        reason: String,
        /// Who (default: $USER).
        #[arg(long, default_value = "")]
        by: String,
    },
    /// Every change to a model: registrations, promotions, rollbacks, deletions.
    History {
        /// The model's name.
        name: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Delete a version (NAME@VERSION): it leaves its stages; its history stays.
    Delete {
        /// NAME@VERSION.
        spec: String,
        /// Why.
        #[arg(long)]
        reason: String,
    },
}

/// Bundle actions.
#[derive(Debug, Subcommand)]
pub enum BundleAction {
    /// Build a deployment bundle for a model file or a registered version.
    Create {
        /// A .onnx file, or NAME@VERSION / NAME@STAGE from the registry.
        #[arg(long)]
        model: String,
        /// Reference data (drift profile, golden rows; with --target, the evaluation).
        #[arg(long)]
        reference: Option<PathBuf>,
        /// The label column of the reference data.
        #[arg(long)]
        target: Option<String>,
        /// The bundle folder to create.
        #[arg(long)]
        output: PathBuf,
        /// Also write OUTPUT.tar.gz.
        #[arg(long)]
        tar: bool,
        /// Share of traffic the KServe canary gets, in percent.
        #[arg(long, default_value_t = 10)]
        canary_percent: u8,
    },
    /// Re-check a bundle offline: checksums, model, golden rows, configs (exit 3 on a failure).
    Verify {
        /// The bundle folder or .tar.gz.
        bundle: PathBuf,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

/// Run a registry action against the registry in `dir`.
pub fn registry(dir: PathBuf, action: RegistryAction) -> Result<ExitCode> {
    let registry = Registry::open(dir);
    match action {
        RegistryAction::Add { name, model, note, by, training_command, data, target } => {
            let mut registration = Registration { by, note, training_command, ..Default::default() };
            if let (Some(data), Some(target)) = (data, target) {
                let loaded = Model::load(&model)?;
                let request = EvaluateRequest { target, ..Default::default() };
                let evaluation = evaluate_file(&loaded, &data, &request, &CancelToken::new(), &mut |_| {})?;
                registration.metrics = match &evaluation {
                    Evaluation::Classification(r) => r.metrics.clone(),
                    Evaluation::Regression(r) => r.metrics.clone(),
                };
                let file_name = data.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
                registration.evaluated_on = Some((file_name, crate::core::bundle::file_sha256(&data)?));
            }
            let version = registry.add(&name, &model, &registration)?;
            println!("registered {name}@{version}");
        }
        RegistryAction::List { json } => {
            let index = registry.index()?;
            emit(json, &index.models, |models| {
                let mut out = String::new();
                for (name, entry) in models {
                    let live = entry.versions.iter().filter(|v| !v.deleted).count();
                    let stages: Vec<String> = entry.stages.iter().map(|(s, v)| format!("{s}={v}")).collect();
                    let _ = writeln!(out, "{name}: {live} version(s); {}", stages.join(", "));
                }
                if out.is_empty() {
                    out.push_str("the registry is empty\n");
                }
                out
            })?;
        }
        RegistryAction::Show { spec, json } => {
            let (name, version) = match spec.split_once('@') {
                Some(_) => {
                    let (n, v) = registry.resolve(&spec)?;
                    (n, Some(v))
                }
                None => (spec.clone(), None),
            };
            let entry = registry.entry(&name)?;
            match version {
                Some(v) => {
                    let version = entry.version(v).cloned();
                    emit(json, &version, |v| format!("{v:#?}\n"))?;
                }
                None => emit(json, &entry, show_entry)?,
            }
        }
        RegistryAction::Promote { spec, stage, reason, by, data, target, gate } => {
            let (name, version) = registry.resolve(&spec)?;
            let entry = registry.entry(&name)?;
            if let (Some(data), Some(target), Some(&current)) = (data, target, entry.stages.get(&stage))
                && current != version
            {
                let champion = Model::load(registry.model_path(&name, current)?)?;
                let challenger = Model::load(registry.model_path(&name, version)?)?;
                let request = CompareRequest {
                    evaluate: EvaluateRequest { target, ..Default::default() },
                    gate: GateRule::parse_all(&gate)?,
                    latency_rows: 0,
                    max_flips: 0,
                };
                let comparison =
                    compare_files(&[champion, challenger], &data, &request, &CancelToken::new(), &mut |_, _| {})?;
                for verdict in &comparison.gate {
                    for r in &verdict.results {
                        println!("gate: {} {} — {}", if r.passed { "pass" } else { "FAIL" }, r.rule, r.reason);
                    }
                }
                if !comparison.passed {
                    eprintln!("not promoted: {name}@{version} fails the gate against {name}@{current} ({stage})");
                    return Ok(ExitCode::from(EXIT_CHECK_FAILED));
                }
            }
            registry.promote(&name, version, &stage, &by, &reason)?;
            println!("{name}@{stage} → version {version}");
        }
        RegistryAction::Rollback { name, stage, reason, by } => {
            let version = registry.rollback(&name, &stage, &by, &reason)?;
            println!("{name}@{stage} rolled back to version {version}");
        }
        RegistryAction::History { name, json } => {
            let entry = registry.entry(&name)?;
            emit(json, &entry.history, |history| {
                let mut out = String::new();
                for e in history {
                    let stage = e.stage.as_deref().map(|s| format!(" {s}")).unwrap_or_default();
                    let from = e.from.map(|v| format!(" from {v}")).unwrap_or_default();
                    let to = e.to.map(|v| format!(" to {v}")).unwrap_or_default();
                    let _ = writeln!(out, "{}  {:<8} {:?}{stage}{from}{to} — {}", e.at, e.by, e.action, e.reason);
                }
                out
            })?;
        }
        RegistryAction::Delete { spec, reason } => {
            let (name, version) = registry.resolve(&spec)?;
            registry.delete(&name, version, &current_user(), &reason)?;
            println!("deleted {name}@{version} (its history stays)");
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn show_entry(entry: &Entry) -> String {
    let mut out = String::new();
    for v in &entry.versions {
        let stages: Vec<&str> =
            entry.stages.iter().filter(|(_, n)| **n == v.version).map(|(s, _)| s.as_str()).collect();
        let _ = writeln!(
            out,
            "v{}{}  {}  {} by {}  {}{}",
            v.version,
            if v.deleted { " (deleted)" } else { "" },
            &v.sha256[..12],
            v.registered_at,
            v.registered_by,
            v.note,
            if stages.is_empty() { String::new() } else { format!("  [{}]", stages.join(", ")) }
        );
    }
    out
}

/// Run a bundle action; `registry_dir` resolves NAME@VERSION models.
pub fn bundle(registry_dir: PathBuf, action: BundleAction) -> Result<ExitCode> {
    match action {
        BundleAction::Create { model, reference, target, output, tar, canary_percent } => {
            let registry = Registry::open(registry_dir);
            let source = if model.contains('@') && !model.ends_with(".onnx") {
                let (name, version) = registry.resolve(&model)?;
                ModelSource::Registry { name, version }
            } else {
                ModelSource::File(PathBuf::from(&model))
            };
            let mut request = BundleRequest::new(&registry, source, reference, target)?;
            request.canary_percent = canary_percent.min(100);
            request.tar = tar;
            let manifest = create_bundle(&request, &output)?;
            println!(
                "bundle {} ({} files, model {})",
                output.display(),
                manifest.files.len() + 1,
                &manifest.model_sha256[..12]
            );
            if let Some(l) = &manifest.latency {
                println!(
                    "latency per row: {:.3} ms original, {:.3} ms optimised ({})",
                    l.original_p50_ms,
                    l.optimized_p50_ms,
                    if l.kept { "optimised copy kept" } else { "optimised copy not faster, left out" }
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        BundleAction::Verify { bundle, json } => {
            let report = verify(&bundle)?;
            emit(json, &report, render_verify)?;
            Ok(if report.passed { ExitCode::SUCCESS } else { ExitCode::from(EXIT_CHECK_FAILED) })
        }
    }
}

fn render_verify(report: &VerifyReport) -> String {
    let mut out = String::new();
    for c in &report.checks {
        let _ = writeln!(out, "{} {:<30} {}", if c.ok { "ok  " } else { "FAIL" }, c.check, c.detail);
    }
    let _ = writeln!(out, "{}", if report.passed { "bundle verified" } else { "bundle FAILED verification" });
    out
}
