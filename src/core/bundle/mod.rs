//! Deployment bundles: one folder (and optionally a `.tar.gz`) with everything operations need to
//! run a model and watch it, each file listed with its SHA-256 in `manifest.json`.
//!
//! ```text
//! model.onnx                     the model (and model.optimized.onnx when ORT's optimised copy is faster)
//! MODEL_CARD.md, MODEL_CARD.html purpose, inputs/outputs, data, metrics with intervals, plots, limits, history
//! plots/*.png                    ROC and calibration curves (when evaluated)
//! schema.json                    JSON Schema of one request row
//! openapi.yaml                   what `mirador serve` answers for it (V2, V1, health, metrics)
//! examples.json                  golden rows and the outputs the model gave for them
//! reference_profile.json         the drift reference; alerts.json and prometheus_rules.yaml the alerts
//! Dockerfile                     a small image running `mirador serve` on the bundle
//! bin/mirador, lib/…             the server-only binary and ONNX Runtime (with `with_server`)
//! kserve/servingruntime.yaml     that image as a KServe V2 runtime
//! kserve/inferenceservice.yaml   a KServe InferenceService on it with a canary share
//! monitoring/prometheusrule.yaml the alerting rules as a Prometheus Operator PrometheusRule
//! monitoring/grafana-dashboard.json  a Grafana dashboard over mirador serve's series
//! rollout/argo-rollout.yaml      an Argo Rollouts canary with the rollout strategy's steps
//! rollout/argo-analysis.yaml     its gate: Prometheus queries on mirador serve's metrics
//! rollout/seldon-canary.yaml     a Seldon Core 2 Experiment splitting traffic at the first step
//! rollout/seldon-shadow.yaml     a Seldon Core 2 Experiment mirroring traffic to the new version
//! schedule/retrain-cronjob.yaml  a weekly Kubernetes CronJob running `mirador retrain` (gated)
//! schedule/mirador-retrain.{service,timer}  the same as a systemd service and timer
//! triton/<name>/config.pbtxt     a Triton model repository (…/<version>/model.onnx), dynamic
//!                                batching where the model batches; triton/Dockerfile serves it
//! manifest.json                  SHA-256 of every file, the Mirador version, the source version
//! ```
//!
//! The bundle is built in a temporary folder beside the target and renamed into place at the end,
//! so a failure leaves nothing half-made. [`verify`] re-checks a bundle offline.

mod archive;
mod docker;
mod examples;
mod files;
mod kserve;
mod manifest;
mod monitoring;
mod openapi;
mod plot;
mod prometheus;
mod rollout;
mod schedule;
pub mod schema;
mod triton;
mod verify;
pub mod yaml;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use serde_json::json;
use sha2::Digest;

pub use examples::{Example, golden_rows_contract};
pub use files::file_sha256;
pub use manifest::{FORMAT_VERSION, Manifest, OptimisedLatency, read_manifest};
pub use verify::{OpenedBundle, VerifyCheck, VerifyReport, open_verified, verify};

use super::CancelToken;
use super::card::{CardContext, model_card};
use super::contract::{ColumnMapping, plan_binding};
use super::drift::{DriftTest, ReferenceProfile};
use super::error::{Error, Location, Result};
use super::evaluate::{EvaluateRequest, Evaluation, evaluate_file};
use super::model::Model;
use super::predict::Predictor;
use super::registry::Registry;
use super::session::Prediction;
use super::table::cell_text;
use files::{checksums, json_bytes, put};
use schema::Field;

/// Golden example rows kept in a bundle.
const EXAMPLES: usize = 5;

/// What to bundle.
#[derive(Debug, Clone)]
pub struct BundleRequest {
    /// The model file.
    pub model: PathBuf,
    /// Where it comes from, for the manifest (e.g. `registry churn@3` or `file churn_v1.onnx`).
    pub source: String,
    /// The serving name.
    pub name: String,
    /// The serving version (the registry version, else 1).
    pub version: u32,
    /// Reference data: evaluation (with `target`), drift profile, golden rows.
    pub reference: Option<PathBuf>,
    /// The label column in the reference data.
    pub target: Option<String>,
    /// Version history lines for the card (newest first).
    pub history: Vec<String>,
    /// Share of traffic the KServe canary gets.
    pub canary_percent: u8,
    /// The rollout strategy written into `rollout/` (default: a canary from `canary_percent` to
    /// 50 % to 100 %, five minutes a step).
    pub rollout: Option<crate::core::rollout::Strategy>,
    /// Share of drifted columns at which the dataset alert fires.
    pub drift_share: f64,
    /// Also write `<output>.tar.gz`.
    pub tar: bool,
    /// The SHA-256 the model file must have (a registered version's); a file changed since is refused.
    pub expected_sha256: Option<String>,
    /// A server-only `mirador` build to carry in `bin/` (with ONNX Runtime's library in `lib/`), so
    /// the bundle's Dockerfile builds as it is.
    pub with_server: Option<PathBuf>,
    /// The training command the schedule runs (`mirador retrain --command`; default: a
    /// placeholder for your training code).
    pub retrain_command: Option<String>,
    /// The image the `CronJob` retrains in (default: the serving image, which has no training
    /// code's dependencies).
    pub retrain_image: Option<String>,
}

/// The model a bundle is made from.
#[derive(Debug, Clone, PartialEq)]
pub enum ModelSource {
    /// A model file (the bundle documents what is known).
    File(PathBuf),
    /// A registered version (its history goes into the card).
    Registry {
        /// The model's name.
        name: String,
        /// The version.
        version: u32,
    },
}

impl BundleRequest {
    /// A request for `source` with default settings (10 % canary, dataset drift at half the
    /// columns, no archive); `target` is used only with `reference`.
    pub fn new(
        registry: &Registry,
        source: ModelSource,
        reference: Option<PathBuf>,
        target: Option<String>,
    ) -> Result<Self> {
        let (model, source, name, version, history, expected_sha256) = match source {
            ModelSource::File(path) => {
                let name = path.file_stem().map_or_else(|| "model".into(), |s| s.to_string_lossy().into_owned());
                (path.clone(), format!("file {}", path.display()), name, 1, Vec::new(), None)
            }
            ModelSource::Registry { name, version } => {
                let entry = registry.entry(&name)?;
                let history = entry
                    .history
                    .iter()
                    .rev()
                    .map(|e| {
                        let to = e.to.map(|v| format!(" v{v}")).unwrap_or_default();
                        format!("{} {}{to} by {} — {}", e.at, e.action.as_str(), e.by, e.reason)
                    })
                    .collect();
                let source = format!("registry {name}@{version} ({})", registry.root().display());
                let sha = entry.version(version).map(|v| v.sha256.clone());
                (registry.model_path(&name, version)?, source, name, version, history, sha)
            }
        };
        let target = target.filter(|_| reference.is_some());
        Ok(Self {
            model,
            source,
            name,
            version,
            reference,
            target,
            history,
            canary_percent: 10,
            rollout: None,
            drift_share: 0.5,
            tar: false,
            expected_sha256,
            with_server: None,
            retrain_command: None,
            retrain_image: None,
        })
    }
}

/// Build the bundle for `request` at `output` (which must not exist yet); returns the manifest.
pub fn create_bundle(request: &BundleRequest, output: &Path) -> Result<Manifest> {
    if let Some(command) = &request.retrain_command {
        crate::core::command_template::check_command(command)?;
    }
    if output.exists() {
        return Err(Error::Invalid(format!(
            "the bundle folder already exists; choose another or remove it — {}",
            output.display()
        )));
    }
    let parent = output.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).map_err(|e| Error::io("create the bundle's folder", parent, e))?;
    let temp = tempfile::Builder::new()
        .prefix(".mirador-bundle-")
        .tempdir_in(parent)
        .map_err(|e| Error::io("create a temporary folder", parent, e))?;
    let manifest = build(request, temp.path())?;
    let built = temp.keep();
    std::fs::rename(&built, output).map_err(|e| {
        let _ = std::fs::remove_dir_all(&built);
        Error::io("move the bundle into place", output, e)
    })?;
    if request.tar {
        archive::write_tar_gz(output)?;
    }
    Ok(manifest)
}

/// Copy the server binary and ONNX Runtime's library into the bundle (executable, for the image).
fn carry_server(dir: &Path, server: &Path) -> Result<()> {
    let library = super::runtime::library_path()?;
    for (from, rel) in [(server, docker::SERVER_BINARY), (library.as_path(), docker::RUNTIME_LIBRARY)] {
        let bytes = std::fs::read(from).map_err(|e| Error::io("read the file to carry in the bundle", from, e))?;
        put(dir, rel, &bytes)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let target = dir.join(rel);
            std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o755))
                .map_err(|e| Error::io("make the server executable", &target, e))?;
        }
    }
    Ok(())
}

fn build(request: &BundleRequest, dir: &Path) -> Result<Manifest> {
    // The model is read once: the bytes checked are the bytes loaded and the bytes shipped.
    let model_bytes: std::sync::Arc<[u8]> =
        std::fs::read(&request.model).map_err(|e| Error::io("read the model", &request.model, e))?.into();
    if let Some(expected) = &request.expected_sha256 {
        let found = super::model::hex(&sha2::Sha256::digest(&model_bytes));
        if &found != expected {
            return Err(Error::Invalid(format!(
                "the model file has changed since it was registered (SHA-256 {found}, registered {expected}); \
                 restore it or register the new file as a new version — {}",
                request.model.display()
            )));
        }
    }
    let model = Model::from_bytes(&request.model, std::sync::Arc::clone(&model_bytes))?;
    let name = &request.name;
    // In the bundle the model is `model.onnx`, served as `name` (a registry stores it by hash).
    let mut info = model.info().clone();
    info.name = name.clone();
    info.path = PathBuf::from("model.onnx");
    put(dir, "model.onnx", &model_bytes)?;

    let frame = request.reference.as_ref().map(|r| super::drift::read_rows(r, &[])).transpose()?;
    let columns: Vec<String> = frame
        .as_ref()
        .map(|f| f.get_column_names().iter().map(|c| c.to_string()).collect())
        .unwrap_or_else(|| super::contract::expected_columns(&info));
    let (binding, problems) = plan_binding(&info, &columns, &ColumnMapping::default(), &[]);
    let binding = binding.ok_or_else(|| {
        let reasons: Vec<String> = problems.iter().map(|p| p.message.clone()).collect();
        Error::Invalid(format!("the reference data cannot feed the model: {}", reasons.join("; ")))
    })?;
    let fields: Vec<Field> = binding
        .inputs
        .iter()
        .flat_map(|b| {
            b.columns.iter().map(|c| Field {
                name: c.clone(),
                json_type: schema::json_type(&b.elem),
                allowed: info.known_categories.get(c).cloned().unwrap_or_default(),
            })
        })
        .collect();

    // Golden rows: the first reference rows the model accepts (missing values kept as they are),
    // or one row of neutral values.
    let mut predictor = Predictor::new(&model, binding.clone())?;
    let pairs: Vec<(BTreeMap<String, String>, Prediction)> = match (&frame, &request.reference) {
        (Some(df), Some(path)) => golden_rows(&mut predictor, &fields, df, path)?,
        _ => {
            let row: BTreeMap<String, String> = fields
                .iter()
                .map(|f| (f.name.clone(), f.allowed.first().cloned().unwrap_or_else(|| "0".into())))
                .collect();
            let prediction = predictor.predict_row(&row)?;
            vec![(row, prediction)]
        }
    };
    drop(predictor);
    let rows: Vec<BTreeMap<String, String>> = pairs.iter().map(|(r, _)| r.clone()).collect();
    let examples: Vec<Example> = pairs.into_iter().map(|(row, p)| Example::from_prediction(row, &p)).collect();
    put(dir, "examples.json", &json_bytes(&examples)?)?;

    let binding_for_docs = binding.clone();
    let latency = optimise(&model, dir, &rows, binding)?;

    let schema = schema::request_schema(name, &fields);
    put(dir, "schema.json", &json_bytes(&schema)?)?;
    let facts = openapi::ApiFacts {
        info: &info,
        version: request.version,
        binding: &binding_for_docs,
        row_schema: &schema,
        rows: &rows,
    };
    put(dir, "openapi.yaml", openapi::openapi_yaml(&facts)?.as_bytes())?;

    // Evaluation, plots and the drift reference.
    let evaluation = match (&request.reference, &request.target) {
        (Some(data), Some(target)) => Some(evaluate_file(
            &model,
            data,
            &EvaluateRequest { target: target.clone(), ..Default::default() },
            &CancelToken::new(),
            &mut |_| {},
        )?),
        _ => None,
    };
    let mut images = Vec::new();
    if let Some(Evaluation::Classification(r)) = &evaluation {
        if let Some(roc) = &r.roc {
            put(
                dir,
                "plots/roc.png",
                &plot::line_plot_png(&[roc.x.iter().copied().zip(roc.y.iter().copied()).collect()], true)?,
            )?;
            images.push((
                "ROC curve (x: false positive rate, y: true positive rate)".to_string(),
                "plots/roc.png".to_string(),
            ));
        }
        let cal = &r.calibration;
        let points = cal.mean_predicted.iter().copied().zip(cal.fraction_positive.iter().copied()).collect();
        put(dir, "plots/calibration.png", &plot::line_plot_png(&[points], true)?)?;
        images.push((
            "Calibration (x: mean predicted probability, y: fraction positive)".into(),
            "plots/calibration.png".into(),
        ));
    }
    let reference_accuracy = evaluation.as_ref().and_then(|e| e.metric("accuracy"));
    let mut thresholds = Vec::new();
    if let (Some(df), Some(reference)) = (&frame, &request.reference) {
        let profile = ReferenceProfile::from_frame(df, &reference.display().to_string(), &[])?;
        put(dir, "reference_profile.json", &json_bytes(&profile)?)?;
        // The tests Evidently's defaults pick for data like the reference (the profile against itself).
        let report = super::drift::drift_profile(&profile, df, &super::drift::DriftOptions::default())?;
        for c in &report.columns {
            thresholds.push((c.column.clone(), test_key(c.test), c.threshold, c.test.is_p_value()));
        }
    }
    let alerts = json!({
        "drift_share": request.drift_share,
        "columns": thresholds.iter().map(|(c, t, th, p)| json!({"column": c, "test": t, "threshold": th, "drift_when": if *p {"below"} else {"at_or_above"}})).collect::<Vec<_>>(),
        "rules": ["share_drifted >= drift_share", "roc_auc outside band"],
    });
    put(dir, "alerts.json", &json_bytes(&alerts)?)?;
    put(
        dir,
        "prometheus_rules.yaml",
        prometheus::prometheus_rules(name, &thresholds, request.drift_share, reference_accuracy)?.as_bytes(),
    )?;
    let groups = prometheus::rule_groups(name, &thresholds, request.drift_share, reference_accuracy);
    put(dir, "monitoring/prometheusrule.yaml", monitoring::prometheus_rule_yaml(name, &groups)?.as_bytes())?;
    put(dir, "monitoring/grafana-dashboard.json", monitoring::grafana_dashboard(name)?.as_bytes())?;

    let data_name = request.reference.as_ref().map(|p| p.display().to_string());
    let card_context = CardContext {
        evaluation: evaluation.as_ref().zip(data_name.as_deref()),
        reference: data_name.as_deref(),
        history: request.history.clone(),
        images,
    };
    let card = model_card(&info, &card_context);
    put(dir, "MODEL_CARD.md", card.as_bytes())?;
    put(dir, "MODEL_CARD.html", markdown_html(&info.name, &card).as_bytes())?;

    put(dir, &format!("triton/{name}/config.pbtxt"), triton::triton_config(name, &info).as_bytes())?;
    put(dir, &format!("triton/{name}/{}/model.onnx", request.version), &model_bytes)?;
    put(dir, "triton/Dockerfile", docker::triton_dockerfile(name).as_bytes())?;
    let storage = format!("s3://models/{name}/{}", request.version);
    put(dir, "kserve/inferenceservice.yaml", kserve::kserve_yaml(name, &storage, request.canary_percent)?.as_bytes())?;
    let image = format!("registry.example.com/{}-mirador:{}", name.replace('_', "-"), request.version);
    put(dir, "kserve/servingruntime.yaml", kserve::serving_runtime_yaml(&image)?.as_bytes())?;
    let strategy = request.rollout.clone().unwrap_or_else(|| {
        let first = f64::from(request.canary_percent.clamp(1, 49)) / 100.0;
        crate::core::rollout::Strategy::Canary { steps: vec![first, 0.5, 1.0], interval_secs: 300.0 }
    });
    put(
        dir,
        "rollout/argo-rollout.yaml",
        rollout::argo_rollout_yaml(name, request.version, &image, &strategy)?.as_bytes(),
    )?;
    put(dir, "rollout/argo-analysis.yaml", rollout::argo_analysis_yaml(name, &strategy)?.as_bytes())?;
    let (seldon_canary, seldon_shadow) = rollout::seldon_yaml(name, request.version, &strategy)?;
    put(dir, "rollout/seldon-canary.yaml", seldon_canary.as_bytes())?;
    put(dir, "rollout/seldon-shadow.yaml", seldon_shadow.as_bytes())?;
    let retrain = schedule::Schedule {
        name,
        target: request.target.as_deref().unwrap_or("label"),
        command: request.retrain_command.as_deref().unwrap_or(schedule::PLACEHOLDER_COMMAND),
        image: request.retrain_image.as_deref().unwrap_or(&image),
    };
    put(dir, "schedule/retrain-cronjob.yaml", schedule::cronjob_yaml(&retrain)?.as_bytes())?;
    let (service, timer) = schedule::systemd_units(&retrain);
    put(dir, "schedule/mirador-retrain.service", service.as_bytes())?;
    put(dir, "schedule/mirador-retrain.timer", timer.as_bytes())?;
    if let Some(server) = &request.with_server {
        carry_server(dir, server)?;
    }
    put(dir, "Dockerfile", docker::dockerfile(name, request.with_server.is_some()).as_bytes())?;

    let manifest = Manifest {
        format_version: FORMAT_VERSION,
        mirador_version: env!("CARGO_PKG_VERSION").to_string(),
        created_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        source: request.source.clone(),
        name: name.clone(),
        version: request.version,
        model_sha256: info.sha256.clone(),
        latency,
        files: checksums(dir)?,
        sizes: files::sizes(dir)?,
    };
    put(dir, "manifest.json", &json_bytes(&manifest)?)?;
    Ok(manifest)
}

fn test_key(test: DriftTest) -> String {
    test.as_str().to_string()
}

/// The first [`EXAMPLES`] rows of the reference `df` the model accepts, with its predictions. Rows it
/// refuses (a missing value where it cannot take one) are skipped; when none of the first thousand
/// is accepted, the first refusal is the error, naming the reference file and its row.
fn golden_rows(
    predictor: &mut Predictor,
    fields: &[Field],
    df: &polars::prelude::DataFrame,
    path: &Path,
) -> Result<Vec<(BTreeMap<String, String>, Prediction)>> {
    let mut out = Vec::new();
    let mut first_refusal = None;
    for i in 0..df.height().min(1000) {
        let row: BTreeMap<String, String> = fields
            .iter()
            .map(|f| {
                let v = df.column(&f.name).ok().and_then(|c| c.get(i).ok()).map(|v| cell_text(&v));
                (f.name.clone(), v.unwrap_or_default())
            })
            .collect();
        match predictor.predict_row(&row) {
            Ok(p) => out.push((row, p)),
            Err(Error::Data { message, location }) => {
                let location = Location { file: Some(path.to_path_buf()), row: Some(i as u64 + 1), ..location };
                first_refusal.get_or_insert(Error::Data { message, location });
            }
            Err(e) => return Err(e),
        }
        if out.len() == EXAMPLES {
            break;
        }
    }
    match (out.is_empty(), first_refusal) {
        (true, Some(e)) => Err(e),
        _ => Ok(out),
    }
}

/// Median latency of one row over the golden rows, ms.
fn median_latency(model: &Model, binding: super::contract::Binding, rows: &[BTreeMap<String, String>]) -> Result<f64> {
    let mut predictor = Predictor::new(model, binding)?;
    let mut times = Vec::new();
    for _ in 0..20 {
        for row in rows {
            let start = Instant::now();
            predictor.predict_row(row)?;
            times.push(start.elapsed().as_secs_f64() * 1000.0);
        }
    }
    times.sort_by(f64::total_cmp);
    Ok(times[times.len() / 2])
}

/// Write ORT's optimised copy, time both, keep the copy only when it is at least 5 % faster.
fn optimise(
    model: &Model,
    dir: &Path,
    rows: &[BTreeMap<String, String>],
    binding: super::contract::Binding,
) -> Result<Option<OptimisedLatency>> {
    let path = dir.join("model.optimized.onnx");
    model.save_optimized(&path)?;
    let optimised = Model::load(&path)?;
    let original_p50_ms = median_latency(model, binding.clone(), rows)?;
    let optimized_p50_ms = median_latency(&optimised, binding, rows)?;
    let kept = optimized_p50_ms < original_p50_ms * 0.95;
    if !kept {
        std::fs::remove_file(&path).map_err(|e| Error::io("remove", &path, e))?;
    }
    Ok(Some(OptimisedLatency { original_p50_ms, optimized_p50_ms, kept }))
}

/// The card as a standalone HTML page.
fn markdown_html(title: &str, markdown: &str) -> String {
    let parser = pulldown_cmark::Parser::new_ext(markdown, pulldown_cmark::Options::ENABLE_TABLES);
    let mut body = String::new();
    pulldown_cmark::html::push_html(&mut body, parser);
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Model card — {title}</title>\n\
         <style>body{{font-family:sans-serif;max-width:60em;margin:2em auto;line-height:1.5}}\
         table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:.2em .6em}}\
         code{{background:#f4f4f4}}</style></head>\n<body>\n{body}</body></html>\n"
    )
}
