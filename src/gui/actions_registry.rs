//! The Versions screen's work: reading and changing the registry and running the promotion gate,
//! each in a background job.

use super::app::MiradorApp;
use super::jobs::JobKind;
use super::outputs::{GateResult, JobOutput};
use super::panels::versions::gate_stamp;
use crate::core::compare::compare_files;
use crate::core::registry::{Registration, Registry};
use crate::core::{Error, Result};

impl MiradorApp {
    /// Retrain in a job: the training command's output line by line as the job's progress; a
    /// cancel kills its process group.
    pub(super) fn retrain(&mut self, ctx: &egui::Context, request: crate::core::retrain::RetrainRequest) {
        let name = format!("{} {}", self.strings().job_retrain, request.name);
        let job = self.jobs.spawn(ctx, JobKind::Retrain, name, move |reporter, cancel| {
            let report = crate::core::retrain::retrain(&request, cancel, &mut |line| reporter.stage(1, 1, line))?;
            Ok(JobOutput::Retrained(Box::new(report)))
        });
        self.panels.retrain.job = Some(job);
    }

    /// Run `change` on the registry in a job, then read it back for the Versions screen.
    pub(super) fn registry_job(
        &mut self,
        ctx: &egui::Context,
        change: impl FnOnce(&Registry) -> Result<String> + Send + 'static,
    ) {
        let registry = Registry::open(&self.ws.registry);
        let name = format!("{} {}", self.strings().job_registry, self.ws.registry.display());
        self.jobs.spawn(ctx, JobKind::Registry, name, move |_, _| {
            let done = change(&registry)?;
            Ok(JobOutput::Registry { index: registry.index()?, done })
        });
    }

    /// Register the current model under `name`.
    pub(super) fn register(&mut self, ctx: &egui::Context, name: String, note: String) {
        let Some(model) = self.model_or_note() else { return };
        let path = model.info().path.clone();
        self.registry_job(ctx, move |r| {
            let version = r.add(&name, &path, &Registration { note, ..Default::default() })?;
            Ok(format!("{name}@{version}"))
        });
    }

    /// Compare `name@version` with the version `stage` holds, on the Compare screen's data and rules.
    pub(super) fn check_gate(&mut self, ctx: &egui::Context, name: String, version: u32, stage: String) {
        let Some(data) = self.ws.compare.data.clone() else { return };
        let settings = self.ws.compare.clone();
        let registry = Registry::open(&self.ws.registry);
        let job = format!("{} {name}@{version} → {stage}", self.strings().job_gate);
        self.jobs.spawn(ctx, JobKind::Gate, job, move |reporter, cancel| {
            let entry = registry.entry(&name)?;
            let current =
                *entry.stages.get(&stage).ok_or_else(|| Error::Invalid(format!("{name} has no stage '{stage}'")))?;
            let champion = registry.load(&name, current)?;
            let challenger = registry.load(&name, version)?;
            let request = settings.request(&champion, 0, 0)?;
            let models = [champion, challenger];
            let comparison = compare_files(&models, &data, &request, cancel, &mut |_, p| reporter.scoring(p))?;
            let stamp = gate_stamp(&name, version, &stage, Some(current), &settings);
            Ok(JobOutput::Gate(Box::new(GateResult {
                name,
                version,
                stage,
                comparison,
                champion: current,
                data,
                rules: settings.gate.clone(),
                stamp,
            })))
        });
    }
}
