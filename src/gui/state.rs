//! The workspace: what the user opened and chose, saved across restarts as RON (through eframe's
//! storage). Every field has a default, so state files from older versions still load.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::i18n::Lang;
use super::stamp::Stamp;
use super::tab::{DataSlot, Tab};
use crate::core::EvaluateRequest;
use crate::core::compare::{CompareRequest, GateRule};
use crate::core::metrics::EvaluateOptions;

/// The key the workspace is stored under.
pub const STORAGE_KEY: &str = "mirador-workspace";

/// Settings of the Compare screen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CompareSettings {
    /// Labelled data.
    pub data: Option<PathBuf>,
    /// Target column.
    pub target: String,
    /// Promotion gate rules, `;`-separated.
    pub gate: String,
    /// Bootstrap resamples for the intervals.
    pub bootstrap: usize,
    /// Decision threshold.
    pub threshold: f64,
    /// A column naming each row, shown beside the flipped rows (empty: none).
    pub id_column: String,
}

impl Default for CompareSettings {
    fn default() -> Self {
        Self {
            data: None,
            target: String::new(),
            gate: "roc_auc >= champion - 0.005; recall drop <= 2%".into(),
            bootstrap: 200,
            threshold: 0.5,
            id_column: String::new(),
        }
    }
}

impl CompareSettings {
    /// What a comparison of `models` under these settings depends on.
    pub fn stamp(&self, models: &[crate::core::Model]) -> Stamp {
        let names: Vec<String> =
            models.iter().map(|m| format!("{} ({})", m.info().name, &m.info().sha256[..12])).collect();
        Stamp::new()
            .with("models", names.join(", "))
            .with("data", self.data.as_ref().map(|d| d.display().to_string()).unwrap_or_default())
            .with(
                "settings",
                format!("target={} threshold={} bootstrap={}", self.target, self.threshold, self.bootstrap),
            )
            .with("rules", &self.gate)
    }

    /// The comparison these settings ask for, with `champion` (whose `target` metadata stands in
    /// for an empty target column) first. `latency_rows` and `max_flips` as in [`CompareRequest`].
    pub fn request(
        &self,
        champion: &crate::core::Model,
        latency_rows: usize,
        max_flips: usize,
    ) -> crate::core::Result<CompareRequest> {
        let target = match self.target.trim() {
            "" => champion.info().metadata.get("target").cloned().unwrap_or_default(),
            t => t.to_string(),
        };
        let mut options = EvaluateOptions { threshold: self.threshold, ..Default::default() };
        options.bootstrap.resamples = self.bootstrap;
        Ok(CompareRequest {
            evaluate: EvaluateRequest { target, options, ..Default::default() },
            gate: GateRule::parse_all(&self.gate)?,
            latency_rows,
            max_flips,
            id_column: Some(self.id_column.trim().to_string()).filter(|c| !c.is_empty()),
        })
    }
}

/// Settings of the Monitor screen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct MonitorSettings {
    /// Reference data.
    pub reference: Option<PathBuf>,
    /// Current data or production log.
    pub current: Option<PathBuf>,
    /// Chunks: `1w`, `1d`, `12h` or a row count.
    pub chunk: String,
    /// Timestamp column (for period chunks).
    pub time_column: String,
    /// Label column, when the data has one.
    pub target: String,
    /// Alert rules, `;`-separated.
    pub alerts: String,
    /// Whether to score the current model for prediction drift and performance.
    pub use_model: bool,
    /// Share of drifted columns at which the dataset drifts.
    pub drift_share: f64,
    /// Columns left out of drift (ids), comma-separated.
    pub exclude: String,
    /// Run again whenever the current data changes (a prediction log gaining segments).
    pub follow: bool,
}

impl MonitorSettings {
    /// What a monitoring run under these settings (with `model`, when one is used) depends on.
    pub fn stamp(&self, model: Option<&crate::core::Model>) -> Stamp {
        let path = |p: &Option<PathBuf>| p.as_ref().map(|d| d.display().to_string()).unwrap_or_default();
        let model = model.filter(|_| self.use_model).map(|m| format!("{} ({})", m.info().name, &m.info().sha256[..12]));
        Stamp::new()
            .with("model", model.unwrap_or_default())
            .with("reference", path(&self.reference))
            .with("data", path(&self.current))
            .with(
                "settings",
                format!(
                    "chunk={} time={} target={} share={} exclude={}",
                    self.chunk.trim(),
                    self.time_column.trim(),
                    self.target.trim(),
                    self.drift_share,
                    self.exclude.trim()
                ),
            )
            .with("rules", self.alerts.trim())
    }
}

impl Default for MonitorSettings {
    fn default() -> Self {
        Self {
            reference: None,
            current: None,
            chunk: "1w".into(),
            time_column: String::new(),
            target: String::new(),
            alerts: "share_drifted > 0.3; roc_auc outside band".into(),
            use_model: true,
            drift_share: 0.5,
            exclude: String::new(),
            follow: false,
        }
    }
}

/// What the window remembers for retraining.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RetrainSettings {
    /// The training command, per registered model name.
    pub commands: std::collections::BTreeMap<String, String>,
    /// The new training data.
    pub data: String,
    /// The holdout.
    pub holdout: String,
    /// The holdout's label column.
    pub target: String,
    /// Promotion rules.
    pub gate: String,
    /// The stage the candidate would take over.
    pub stage: String,
    /// Longest the training command may run, seconds.
    pub timeout_secs: f64,
}

impl Default for RetrainSettings {
    fn default() -> Self {
        Self {
            commands: Default::default(),
            data: String::new(),
            holdout: String::new(),
            target: String::new(),
            gate: "roc_auc >= champion - 0.005".into(),
            stage: "production".into(),
            timeout_secs: 3600.0,
        }
    }
}

/// Everything that persists.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Workspace {
    /// Open models, in order.
    pub models: Vec<PathBuf>,
    /// The current model.
    pub selected: usize,
    /// Models ticked for comparison (by path; the first ticked is the champion).
    pub compare_models: Vec<PathBuf>,
    /// Recently opened files, newest first.
    pub recent: Vec<PathBuf>,
    /// The screen shown.
    pub tab: Tab,
    /// UI language.
    pub lang: Lang,
    /// Dark theme.
    pub dark: bool,
    /// The file to score.
    pub score_data: Option<PathBuf>,
    /// Reference data for the prediction form's defaults.
    pub form_reference: Option<PathBuf>,
    /// Compare settings.
    pub compare: CompareSettings,
    /// Monitor settings.
    pub monitor: MonitorSettings,
    /// The model registry folder.
    pub registry: PathBuf,
    /// Retrain… settings (the Versions screen).
    pub retrain: RetrainSettings,
    /// The folder last used for each kind of file (opening models, data, each kind of save).
    pub last_dirs: std::collections::BTreeMap<String, PathBuf>,
}

impl Default for Workspace {
    fn default() -> Self {
        Self {
            models: Vec::new(),
            selected: 0,
            compare_models: Vec::new(),
            recent: Vec::new(),
            tab: Tab::Model,
            lang: Lang::En,
            dark: true,
            score_data: None,
            form_reference: None,
            compare: CompareSettings::default(),
            monitor: MonitorSettings::default(),
            registry: PathBuf::from("mirador-registry"),
            retrain: RetrainSettings::default(),
            last_dirs: std::collections::BTreeMap::new(),
        }
    }
}

impl Workspace {
    /// A first run: the sample models open and the sample data chosen, so there is something real
    /// to try at once. Samples that are missing are left out.
    pub fn first_run(samples: &Path) -> Self {
        let models_dir = samples.join("sample-models");
        let data = |name: &str| Some(samples.join("sample-data").join(name)).filter(|p| p.is_file());
        let mut models: Vec<PathBuf> = std::fs::read_dir(&models_dir)
            .map(|entries| {
                entries.flatten().map(|e| e.path()).filter(|p| p.extension().is_some_and(|x| x == "onnx")).collect()
            })
            .unwrap_or_default();
        models.sort();
        let compare_models = ["churn_v1.onnx", "churn_v2.onnx"]
            .iter()
            .map(|m| models_dir.join(m))
            .filter(|p| models.contains(p))
            .collect();
        Self {
            selected: models.iter().position(|p| p.ends_with("churn_v1.onnx")).unwrap_or(0),
            models,
            compare_models,
            score_data: data("churn_current.csv"),
            form_reference: data("churn_reference.csv"),
            compare: CompareSettings {
                data: data("churn_current.csv"),
                target: "churned".into(),
                id_column: "customer_id".into(),
                ..Default::default()
            },
            monitor: MonitorSettings {
                reference: data("churn_reference.csv"),
                current: data("churn_production_log.csv"),
                time_column: "timestamp".into(),
                target: "churned".into(),
                exclude: "customer_id".into(),
                ..Default::default()
            },
            registry: samples.join("mirador-registry"),
            retrain: sample_retrain(samples),
            ..Default::default()
        }
    }

    /// The data file chosen for `slot`.
    pub fn data(&self, slot: DataSlot) -> Option<&PathBuf> {
        match slot {
            DataSlot::Score => self.score_data.as_ref(),
            DataSlot::Compare => self.compare.data.as_ref(),
            DataSlot::Reference => self.monitor.reference.as_ref(),
            DataSlot::Current => self.monitor.current.as_ref(),
        }
    }

    /// Choose the data file for `slot`.
    pub fn set_data(&mut self, slot: DataSlot, path: PathBuf) {
        self.remember(&path);
        match slot {
            DataSlot::Score => self.score_data = Some(path),
            DataSlot::Compare => self.compare.data = Some(path),
            DataSlot::Reference => self.monitor.reference = Some(path),
            DataSlot::Current => self.monitor.current = Some(path),
        }
    }

    /// Put `path` first in the recent files (at most 10).
    pub fn remember(&mut self, path: &Path) {
        self.recent.retain(|p| p != path);
        self.recent.insert(0, path.to_path_buf());
        self.recent.truncate(10);
    }

    /// Read a workspace from RON text.
    pub fn from_ron(text: &str) -> Result<Self, String> {
        ron::from_str(text).map_err(|e| e.to_string())
    }

    /// The workspace as RON text.
    pub fn to_ron(&self) -> Result<String, String> {
        ron::ser::to_string_pretty(self, ron::ser::PrettyConfig::default()).map_err(|e| e.to_string())
    }
}

/// Retrain… ready to try on the samples: the sample training script for `churn` (the name
/// Register suggests for churn_v1), the production log's labelled weeks as new data, the current
/// data as holdout.
fn sample_retrain(samples: &Path) -> RetrainSettings {
    let file = |rel: &str| Some(samples.join(rel)).filter(|p| p.is_file()).map(|p| p.display().to_string());
    let mut settings = RetrainSettings::default();
    if let (Some(script), Some(data), Some(holdout)) = (
        file("sample-models/train_churn.py"),
        file("sample-data/churn_production_log.csv"),
        file("sample-data/churn_current.csv"),
    ) && let Ok(script) = shlex::try_quote(&script)
    {
        settings.commands.insert("churn".into(), format!("python3 {script} --data {{data}} --out {{output}}"));
        settings.data = data;
        settings.holdout = holdout;
        settings.target = "churned".into();
    }
    settings
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_ron() {
        let mut ws = Workspace::first_run(Path::new(env!("CARGO_MANIFEST_DIR")));
        ws.lang = Lang::Es;
        ws.tab = Tab::Monitor;
        ws.monitor.drift_share = 0.25;
        let text = ws.to_ron().expect("serialises");
        assert_eq!(Workspace::from_ron(&text).expect("parses"), ws);
    }

    #[test]
    fn an_old_state_file_with_missing_fields_still_loads() {
        let ws = Workspace::from_ron("(models: [\"a.onnx\"], lang: Es, compare: (target: \"y\"))").expect("loads");
        assert_eq!(ws.models, vec![PathBuf::from("a.onnx")]);
        assert_eq!(ws.lang, Lang::Es);
        assert_eq!(ws.compare.target, "y");
        assert_eq!(ws.compare.bootstrap, CompareSettings::default().bootstrap);
        assert_eq!(ws.monitor, MonitorSettings::default());
    }

    #[test]
    fn first_run_opens_the_samples() {
        let ws = Workspace::first_run(Path::new(env!("CARGO_MANIFEST_DIR")));
        assert_eq!(ws.models.len(), 4);
        assert!(ws.models[ws.selected].ends_with("churn_v1.onnx"));
        assert_eq!(ws.compare_models.len(), 2);
        assert!(ws.monitor.current.as_ref().is_some_and(|p| p.ends_with("churn_production_log.csv")));
        assert!(ws.retrain.commands["churn"].contains("train_churn.py --data {data} --out {output}"));
        assert!(ws.retrain.holdout.ends_with("churn_current.csv") && ws.retrain.target == "churned");
    }
}
