//! Turning what `--model` names into a model ready to serve: a model file, a registry reference
//! (`churn@production`, `churn@3`; the stored file checked against its registered hash) or a bundle
//! folder or archive (verified first: a tampered bundle is refused, naming the file).

use std::path::{Path, PathBuf};

use super::config::{ModelSpec, valid_name};
use crate::core::bundle::{OpenedBundle, open_verified};
use crate::core::contract::{Binding, ColumnMapping, expected_columns, plan_binding};
use crate::core::drift::ReferenceProfile;
use crate::core::error::{Error, Result};
use crate::core::model::Model;
use crate::core::registry::Registry;

/// A model ready to serve, with its protocol name and version and the columns it reads.
pub struct ServedModel {
    /// The protocol name (`/v2/models/{name}`).
    pub name: String,
    /// The version it answers as (`model_version`).
    pub version: String,
    /// The model, with its pool of sessions.
    pub model: Model,
    /// Where it came from, for people (`file …`, `registry churn@3`, `bundle …`).
    pub source: String,
    /// The data columns it reads, in input order (packed inputs by their columns' names).
    pub columns: Vec<String>,
    /// How those columns feed its inputs.
    pub binding: Binding,
    /// The reference profile a bundle carries (for live drift).
    pub reference: Option<ReferenceProfile>,
    _bundle: Option<OpenedBundle>,
}

impl ServedModel {
    /// Resolve and load `spec`; registry references are looked up in `registry`.
    pub fn load(spec: &ModelSpec, registry: &Path) -> Result<Self> {
        let path = PathBuf::from(&spec.source);
        let archive = spec.source.ends_with(".tar.gz") || spec.source.ends_with(".tgz");
        let (name, version, model, source, reference, bundle) = if path.is_dir() || (archive && path.is_file()) {
            let bundle = open_verified(&path)?;
            let model = Model::load(bundle.dir.join("model.onnx"))?;
            let profile = bundle.dir.join("reference_profile.json");
            let reference = profile.is_file().then(|| ReferenceProfile::load(&profile)).transpose()?;
            let (name, version) = (bundle.manifest.name.clone(), bundle.manifest.version.to_string());
            (name, version, model, format!("bundle {}", path.display()), reference, Some(bundle))
        } else if spec.source.contains('@') && !path.exists() {
            let registry = Registry::open(registry);
            let (name, version) = registry.resolve(&spec.source)?;
            let model = registry.load(&name, version)?;
            let source = format!("registry {} = {name}@{version} ({})", spec.source, registry.root().display());
            (name, version.to_string(), model, source, None, None)
        } else {
            let model = Model::load(&path)?;
            let name = model.info().name.clone();
            (name, "1".to_string(), model, format!("file {}", path.display()), None, None)
        };
        let name = spec.name.clone().unwrap_or(name);
        if !valid_name(&name) {
            return Err(Error::Invalid(format!(
                "'{name}' cannot be served as a name; give one with --model NAME=REF (letters, digits, '-', '_', '.')"
            )));
        }
        let columns = expected_columns(model.info());
        let (binding, problems) = plan_binding(model.info(), &columns, &ColumnMapping::default(), &[]);
        let binding = binding.ok_or_else(|| {
            let reasons: Vec<String> = problems.iter().map(|p| p.message.clone()).collect();
            Error::Invalid(format!("{name} cannot be served: {} — {}", reasons.join("; "), model.info().path.display()))
        })?;
        Ok(Self { name, version, model, source, columns, binding, reference, _bundle: bundle })
    }
}
