//! `mirador registry …` and `mirador bundle …`: versions with stages and history, and deployment
//! bundles for operations.

use std::fmt::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use super::args::{BundleAction, EXIT_CHECK_FAILED, RegistryAction};
use super::render::{emit, say};
use crate::core::bundle::{BundleRequest, ModelSource, VerifyReport, create_bundle, verify};
use crate::core::compare::{CompareRequest, GateRule, compare_files};
use crate::core::registry::{Entry, GateRecord, Registration, Registry, current_user};
use crate::core::{CancelToken, EvaluateRequest, Evaluation, Model, Result, evaluate_file};

/// Run a registry action against the registry in `dir`.
pub fn registry(dir: PathBuf, action: RegistryAction, cancel: &CancelToken) -> Result<ExitCode> {
    let registry = Registry::open(dir);
    match action {
        RegistryAction::Add { name, model, note, by, training_command, data, target } => {
            let mut registration = Registration { by, note, training_command, ..Default::default() };
            if let (Some(data), Some(target)) = (data, target) {
                let loaded = Model::load(&model)?;
                let request = EvaluateRequest { target, ..Default::default() };
                let evaluation = evaluate_file(&loaded, &data, &request, cancel, &mut |_| {})?;
                registration.metrics = match &evaluation {
                    Evaluation::Classification(r) => r.metrics.clone(),
                    Evaluation::Regression(r) => r.metrics.clone(),
                };
                let file_name = data.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
                registration.evaluated_on = Some((file_name, crate::core::bundle::file_sha256(&data)?));
            }
            let version = registry.add(&name, &model, &registration)?;
            say(&format!("registered {name}@{version}\n"))?;
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
        RegistryAction::Promote { spec, stage, reason, by, data, target, gate, override_gate } => {
            let (name, version) = registry.resolve(&spec)?;
            let entry = registry.entry(&name)?;
            let mut record = None;
            if let (Some(data), Some(target), Some(&current)) = (data, target, entry.stages.get(&stage))
                && current != version
            {
                let champion = registry.load(&name, current)?;
                let challenger = registry.load(&name, version)?;
                let request = CompareRequest {
                    evaluate: EvaluateRequest { target, ..Default::default() },
                    gate: GateRule::parse_all(&gate)?,
                    latency_rows: 0,
                    max_flips: 0,
                    id_column: None,
                };
                let comparison = compare_files(&[champion, challenger], &data, &request, cancel, &mut |_, _| {})?;
                for verdict in &comparison.gate {
                    for r in &verdict.results {
                        say(&format!("gate: {} {} — {}\n", if r.passed { "pass" } else { "FAIL" }, r.rule, r.reason))?;
                    }
                }
                let override_reason = override_gate.filter(|r| !r.trim().is_empty() && !comparison.passed);
                if !comparison.passed && override_reason.is_none() {
                    eprintln!(
                        "not promoted: {name}@{version} fails the gate against {name}@{current} ({stage}); \
                         --override-gate REASON promotes it anyway, recorded as an override"
                    );
                    return Ok(ExitCode::from(EXIT_CHECK_FAILED));
                }
                record = Some(GateRecord {
                    override_reason,
                    ..crate::core::retrain::gate_record(&comparison, &data, &gate)?
                });
            }
            let overridden = record.as_ref().is_some_and(|r| !r.passed);
            registry.promote_gated(&name, version, &stage, &by, &reason, record)?;
            let note = if overridden { " (the gate failed: recorded as an override)" } else { "" };
            say(&format!("{name}@{stage} → version {version}{note}\n"))?;
        }
        RegistryAction::Rollback { name, stage, reason, by } => {
            let version = registry.rollback(&name, &stage, &by, &reason)?;
            say(&format!("{name}@{stage} rolled back to version {version}\n"))?;
        }
        RegistryAction::History { name, json } => {
            let entry = registry.entry(&name)?;
            emit(json, &entry.history, |history| {
                let mut out = String::new();
                for e in history {
                    let stage = e.stage.as_deref().map(|s| format!(" {s}")).unwrap_or_default();
                    let refused = e.action == crate::core::registry::Action::Refuse;
                    // A refusal names the candidate, and the version the stage kept.
                    let (from, to) = if refused {
                        (
                            e.to.map(|v| format!(" version {v}")).unwrap_or_default(),
                            e.from.map(|v| format!(" (stays {v})")).unwrap_or_default(),
                        )
                    } else {
                        (
                            e.from.map(|v| format!(" from {v}")).unwrap_or_default(),
                            e.to.map(|v| format!(" to {v}")).unwrap_or_default(),
                        )
                    };
                    let _ =
                        writeln!(out, "{}  {:<8} {}{stage}{from}{to} — {}", e.at, e.by, e.action.as_str(), e.reason);
                }
                out
            })?;
        }
        RegistryAction::Delete { spec, reason } => {
            let (name, version) = registry.resolve(&spec)?;
            registry.delete(&name, version, &current_user(), &reason)?;
            say(&format!("deleted {name}@{version} (its history stays)\n"))?;
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
        BundleAction::Create {
            model,
            reference,
            target,
            output,
            tar,
            canary_percent,
            strategy,
            with_server,
            retrain_command,
            retrain_image,
        } => {
            let registry = Registry::open(registry_dir);
            let source = if model.contains('@') && !model.ends_with(".onnx") {
                let (name, version) = registry.resolve(&model)?;
                ModelSource::Registry { name, version }
            } else {
                ModelSource::File(PathBuf::from(&model))
            };
            let mut request = BundleRequest::new(&registry, source, reference, target)?;
            request.canary_percent = canary_percent.min(100);
            if let Some(text) = strategy {
                let strategy = crate::core::rollout::Strategy::parse(&text)?;
                if let crate::core::rollout::Strategy::Canary { steps, .. } = &strategy {
                    request.canary_percent =
                        steps.first().map_or(request.canary_percent, |s| (s * 100.0).round() as u8);
                }
                request.rollout = Some(strategy);
            }
            request.tar = tar;
            request.with_server = with_server;
            request.retrain_command = retrain_command;
            request.retrain_image = retrain_image;
            let manifest = create_bundle(&request, &output)?;
            say(&format!(
                "bundle {} ({} files, model {})\n",
                output.display(),
                manifest.files.len() + 1,
                &manifest.model_sha256[..12]
            ))?;
            if let Some(l) = &manifest.latency {
                say(&format!(
                    "latency per row: {:.3} ms original, {:.3} ms optimised ({})\n",
                    l.original_p50_ms,
                    l.optimized_p50_ms,
                    if l.kept { "optimised copy kept" } else { "optimised copy not faster, left out" }
                ))?;
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
