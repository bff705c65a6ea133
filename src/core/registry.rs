//! The model registry: a folder of plain files a person can read, diff and put under git.
//!
//! ```text
//! <registry>/
//!   registry.json          every model, version, stage and the full history of changes
//!   models/<sha256>.onnx   the model files, content-addressed and read-only once registered
//!   .lock                  held while writing, so two writers never interleave
//! ```
//!
//! Versions are immutable once registered. Stages (`staging`, `production`, `archived`, or any
//! name) point at versions; every change of a stage is an event in the history (who, when, from
//! which version to which, why). A rollback is one action: the stage goes back to the version it
//! held before, and the event records the reason. Deleting a version hides it and frees its
//! stages, but never removes its history. Every write goes to a temporary file that is renamed
//! over `registry.json`, so a crash leaves the previous state; an index that does not parse is an
//! error naming the file and the line — never a silent reset.

use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::atomic::write_atomic;
use super::error::{Error, Result};
use sha2::Digest;

use super::model::Model;
use super::model::info::IoSpec;

const INDEX: &str = "registry.json";
const FORMAT_VERSION: u32 = 1;

/// One registered version of a model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Version {
    /// 1, 2, 3, … per model name.
    pub version: u32,
    /// SHA-256 of the model file.
    pub sha256: String,
    /// The stored file, relative to the registry folder.
    pub file: String,
    /// Who registered it.
    pub registered_by: String,
    /// When (RFC 3339, UTC).
    pub registered_at: String,
    /// Why, in the registrant's words.
    pub note: String,
    /// The model's inputs.
    pub inputs: Vec<IoSpec>,
    /// The model's outputs.
    pub outputs: Vec<IoSpec>,
    /// The version it replaces (lineage).
    #[serde(default)]
    pub replaces: Option<u32>,
    /// How it was trained, when known.
    #[serde(default)]
    pub training_command: Option<String>,
    /// The data it was evaluated on: (file name, SHA-256).
    #[serde(default)]
    pub evaluated_on: Option<(String, String)>,
    /// Its metrics on that data.
    #[serde(default)]
    pub metrics: BTreeMap<String, Option<f64>>,
    /// Deleted versions stay listed in the history but cannot be staged.
    #[serde(default)]
    pub deleted: bool,
    /// Where a retrained version came from (`mirador retrain`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lineage: Option<Lineage>,
}

/// How a retrained version was made: the run, its command and data, its parent, its log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Lineage {
    /// The run's id.
    pub run_id: String,
    /// The training command as run (placeholders substituted), one argument per item.
    pub command: Vec<String>,
    /// The training data: file name and SHA-256.
    pub data: (String, String),
    /// The version it was trained to replace.
    pub parent: Option<u32>,
    /// The run log, relative to the registry folder, and its SHA-256.
    pub run_log: (String, String),
    /// Seconds the training command took.
    pub duration_secs: f64,
}

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// A version was registered.
    Register,
    /// A stage was pointed at a version.
    Promote,
    /// A stage went back to its previous version.
    Rollback,
    /// A version was deleted (hidden; its history stays).
    Delete,
    /// A version was refused promotion to a stage (by the gate or its contract); the stage stayed.
    Refuse,
}

impl Action {
    /// The action's name (JSON, CLI, cards).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Register => "register",
            Self::Promote => "promote",
            Self::Rollback => "rollback",
            Self::Delete => "delete",
            Self::Refuse => "refuse",
        }
    }
}

/// One entry of a model's history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// When (RFC 3339, UTC).
    pub at: String,
    /// Who.
    pub by: String,
    /// What.
    pub action: Action,
    /// The stage concerned (promote, rollback).
    #[serde(default)]
    pub stage: Option<String>,
    /// The version the stage pointed at before.
    #[serde(default)]
    pub from: Option<u32>,
    /// The version concerned (registered, deleted, or the stage's new version).
    #[serde(default)]
    pub to: Option<u32>,
    /// Why.
    pub reason: String,
    /// The promotion gate behind a promotion, when one ran (or was overridden).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gate: Option<GateRecord>,
}

/// What the promotion gate said about a promotion, kept in the history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GateRecord {
    /// Whether every rule passed.
    pub passed: bool,
    /// The labelled data it ran on (file name and SHA-256 when known).
    pub data: String,
    /// The rules, as written.
    pub rules: String,
    /// Each rule's outcome, in words.
    pub results: Vec<String>,
    /// When the gate failed and the promotion went ahead anyway: why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub override_reason: Option<String>,
}

/// A named model: its versions, its stages and its history.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    /// Versions, oldest first.
    pub versions: Vec<Version>,
    /// Stage → version.
    pub stages: BTreeMap<String, u32>,
    /// Every change, oldest first.
    pub history: Vec<Event>,
}

impl Entry {
    /// The version numbered `v`.
    pub fn version(&self, v: u32) -> Option<&Version> {
        self.versions.iter().find(|x| x.version == v)
    }
}

/// The whole index.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Index {
    /// Format version of this file.
    pub format_version: u32,
    /// Name → model.
    pub models: BTreeMap<String, Entry>,
}

/// What to register.
#[derive(Debug, Clone, Default)]
pub struct Registration {
    /// Who registers (default: `$USER`).
    pub by: String,
    /// Why.
    pub note: String,
    /// The version it replaces (default: the latest one).
    pub replaces: Option<u32>,
    /// How it was trained.
    pub training_command: Option<String>,
    /// The evaluation data: (file name, SHA-256), and the metrics on it.
    pub evaluated_on: Option<(String, String)>,
    /// Metrics on the evaluation data.
    pub metrics: BTreeMap<String, Option<f64>>,
    /// Where a retrained version came from.
    pub lineage: Option<Lineage>,
}

/// A registry folder.
pub struct Registry {
    root: PathBuf,
}

/// The current user, for `by` fields: `$USER` (or `LOGNAME`, `USERNAME`), else the account name of
/// the process's user id (a container or a service often has no `$USER`), else its number.
pub fn current_user() -> String {
    ["USER", "LOGNAME", "USERNAME"]
        .iter()
        .find_map(|k| std::env::var(k).ok().filter(|v| !v.is_empty()))
        .or_else(account_name)
        .unwrap_or_else(|| "unknown".into())
}

/// The account name of this process's real user id, from `/proc/self/status` and `/etc/passwd`
/// (Linux); `uid N` when the id has no name there.
fn account_name() -> Option<String> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let uid: u32 = status.lines().find_map(|l| l.strip_prefix("Uid:"))?.split_whitespace().next()?.parse().ok()?;
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
    let name = passwd.lines().find_map(|line| {
        let mut fields = line.split(':');
        let name = fields.next()?;
        (fields.nth(1)?.parse::<u32>().ok()? == uid).then(|| name.to_string())
    });
    Some(name.unwrap_or_else(|| format!("uid {uid}")))
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

impl Registry {
    /// The registry in `root` (created on the first write).
    pub fn open(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// Its folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Read the index (empty when the registry has none yet).
    pub fn index(&self) -> Result<Index> {
        let path = self.root.join(INDEX);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(Index { format_version: FORMAT_VERSION, models: BTreeMap::new() });
            }
            Err(e) => return Err(Error::io("read the registry index", &path, e)),
        };
        let index: Index = serde_json::from_str(&text).map_err(|e| {
            Error::Invalid(format!(
                "the registry index is not valid ({e}); fix it or restore it (e.g. from git) — Mirador does not reset it — {}",
                path.display()
            ))
        })?;
        if index.format_version != FORMAT_VERSION {
            return Err(Error::Invalid(format!(
                "the registry index has format version {}, this Mirador reads {FORMAT_VERSION} — {}",
                index.format_version,
                path.display()
            )));
        }
        Ok(index)
    }

    /// One model's entry.
    pub fn entry(&self, name: &str) -> Result<Entry> {
        self.index()?.models.remove(name).ok_or_else(|| self.unknown(name))
    }

    fn unknown(&self, name: &str) -> Error {
        Error::NotFound(format!("no model named '{name}' in the registry — {}", self.root.display()))
    }

    /// The stored file of `name@version` (not checked: use [`load`](Self::load) to read it).
    pub fn model_path(&self, name: &str, version: u32) -> Result<PathBuf> {
        Ok(self.root.join(&self.live_version(name, version)?.file))
    }

    fn live_version(&self, name: &str, version: u32) -> Result<Version> {
        let entry = self.entry(name)?;
        entry
            .version(version)
            .filter(|v| !v.deleted)
            .cloned()
            .ok_or_else(|| Error::NotFound(format!("{name} has no version {version}")))
    }

    /// The bytes of `name@version`'s stored file, after checking they are the bytes registered: a
    /// file changed on disk since is refused, naming it.
    pub fn verified_bytes(&self, name: &str, version: u32) -> Result<(PathBuf, std::sync::Arc<[u8]>)> {
        let v = self.live_version(name, version)?;
        let path = self.root.join(&v.file);
        let bytes = std::fs::read(&path).map_err(|e| Error::io("read the registered model", &path, e))?;
        let found = super::model::hex(&sha2::Sha256::digest(&bytes));
        if found != v.sha256 {
            return Err(Error::Invalid(format!(
                "{name}@{version} has changed on disk since it was registered (SHA-256 {found}, registered {}); \
                 restore the file or register the new one as a new version — {}",
                v.sha256,
                path.display()
            )));
        }
        Ok((path, bytes.into()))
    }

    /// Load `name@version`, refusing a stored file that is not the one registered.
    pub fn load(&self, name: &str, version: u32) -> Result<Model> {
        let (path, bytes) = self.verified_bytes(name, version)?;
        Model::from_bytes(&path, bytes)
    }

    /// Resolve `NAME@VERSION` or `NAME@STAGE` (e.g. `churn@3`, `churn@production`).
    pub fn resolve(&self, spec: &str) -> Result<(String, u32)> {
        let (name, which) = spec
            .split_once('@')
            .ok_or_else(|| Error::Invalid(format!("write NAME@VERSION or NAME@STAGE, not '{spec}'")))?;
        let entry = self.entry(name)?;
        let version = match which.parse::<u32>() {
            Ok(v) => v,
            Err(_) => {
                *entry.stages.get(which).ok_or_else(|| Error::Invalid(format!("{name} has no stage '{which}'")))?
            }
        };
        Ok((name.to_string(), version))
    }

    /// Run `change` on the index under the lock and write the result atomically.
    fn update<T>(&self, change: impl FnOnce(&mut Index) -> Result<T>) -> Result<T> {
        std::fs::create_dir_all(self.root.join("models"))
            .map_err(|e| Error::io("create the registry folder", &self.root, e))?;
        let lock_path = self.root.join(".lock");
        let lock = File::create(&lock_path).map_err(|e| Error::io("lock the registry", &lock_path, e))?;
        lock.lock().map_err(|e| Error::io("lock the registry", &lock_path, e))?;
        // Model files a killed `registry add` left half-written.
        let _ = super::atomic::remove_stale_in(&self.root.join("models"));
        let mut index = self.index()?;
        let out = change(&mut index)?;
        let text = serde_json::to_string_pretty(&index).map_err(|e| Error::Invalid(e.to_string()))?;
        write_atomic(&self.root.join(INDEX), format!("{text}\n").as_bytes(), "write the registry index")?;
        Ok(out)
    }

    /// Register `model_path` as a new version of `name`; returns the version number. A file
    /// already registered under this name (same SHA-256) is refused.
    pub fn add(&self, name: &str, model_path: &Path, registration: &Registration) -> Result<u32> {
        if name.is_empty() || name.contains(['@', '/', '\\']) {
            return Err(Error::Invalid(format!("'{name}' cannot be a model name (no '@', '/' or '\\')")));
        }
        let model = Model::load(model_path)?;
        let info = model.info();
        let file = format!("models/{}.onnx", info.sha256);
        self.update(|index| {
            let entry = index.models.entry(name.to_string()).or_default();
            if let Some(v) = entry.versions.iter().find(|v| v.sha256 == info.sha256 && !v.deleted) {
                return Err(Error::Invalid(format!("this file is already {name}@{}", v.version)));
            }
            let stored = self.root.join(&file);
            if !stored.exists() {
                let bytes = std::fs::read(model_path).map_err(|e| Error::io("read the model", model_path, e))?;
                write_atomic(&stored, &bytes, "store the model")?;
                let mut perms =
                    std::fs::metadata(&stored).map_err(|e| Error::io("store the model", &stored, e))?.permissions();
                perms.set_readonly(true);
                std::fs::set_permissions(&stored, perms).map_err(|e| Error::io("store the model", &stored, e))?;
            }
            let version = entry.versions.iter().map(|v| v.version).max().unwrap_or(0) + 1;
            let by = if registration.by.is_empty() { current_user() } else { registration.by.clone() };
            let at = now();
            entry.versions.push(Version {
                version,
                sha256: info.sha256.clone(),
                file: file.clone(),
                registered_by: by.clone(),
                registered_at: at.clone(),
                note: registration.note.clone(),
                inputs: info.inputs.clone(),
                outputs: info.outputs.clone(),
                replaces: registration.replaces.or((version > 1).then(|| version - 1)),
                training_command: registration.training_command.clone(),
                evaluated_on: registration.evaluated_on.clone(),
                metrics: registration.metrics.clone(),
                deleted: false,
                lineage: registration.lineage.clone(),
            });
            entry.history.push(Event {
                at,
                by,
                action: Action::Register,
                stage: None,
                from: None,
                to: Some(version),
                reason: registration.note.clone(),
                gate: None,
            });
            Ok(version)
        })
    }

    /// Point `stage` of `name` at `version`, recording who and why.
    pub fn promote(&self, name: &str, version: u32, stage: &str, by: &str, reason: &str) -> Result<()> {
        self.promote_gated(name, version, stage, by, reason, None)
    }

    /// [`promote`](Self::promote), recording the gate behind it. A failed gate must carry an
    /// override reason (the promotion is then recorded as an override of the gate).
    pub fn promote_gated(
        &self,
        name: &str,
        version: u32,
        stage: &str,
        by: &str,
        reason: &str,
        gate: Option<GateRecord>,
    ) -> Result<()> {
        if let Some(g) = &gate
            && !g.passed
            && g.override_reason.as_deref().is_none_or(|r| r.trim().is_empty())
        {
            return Err(Error::Invalid(format!(
                "{name}@{version} failed the promotion gate for {stage}; promoting anyway needs an override reason"
            )));
        }
        if stage.is_empty() || stage.parse::<u32>().is_ok() {
            return Err(Error::Invalid(format!("'{stage}' cannot be a stage name")));
        }
        self.update(|index| {
            let entry = index.models.get_mut(name).ok_or_else(|| self.unknown(name))?;
            if entry.version(version).is_none_or(|v| v.deleted) {
                return Err(Error::Invalid(format!("{name} has no version {version} to promote")));
            }
            let from = entry.stages.insert(stage.to_string(), version);
            if from == Some(version) {
                return Err(Error::Invalid(format!("{name}@{stage} is already version {version}")));
            }
            let mut e = event(by, Action::Promote, Some(stage), from, Some(version), reason);
            e.gate = gate;
            entry.history.push(e);
            Ok(())
        })
    }

    /// Put `stage` back to the version it held before its current one; returns that version.
    pub fn rollback(&self, name: &str, stage: &str, by: &str, reason: &str) -> Result<u32> {
        if reason.trim().is_empty() {
            return Err(Error::Invalid("a rollback needs a reason".into()));
        }
        self.update(|index| {
            let entry = index.models.get_mut(name).ok_or_else(|| self.unknown(name))?;
            let current =
                *entry.stages.get(stage).ok_or_else(|| Error::Invalid(format!("{name} has no stage '{stage}'")))?;
            // The stage's earlier versions, newest first, skipping the current one and deleted ones.
            let previous = entry
                .history
                .iter()
                .rev()
                .filter(|e| e.stage.as_deref() == Some(stage) && e.action != Action::Delete)
                .filter_map(|e| e.to)
                .find(|v| *v != current && entry.versions.iter().any(|x| x.version == *v && !x.deleted))
                .ok_or_else(|| Error::Invalid(format!("{name}@{stage} has no earlier version to roll back to")))?;
            entry.stages.insert(stage.to_string(), previous);
            entry.history.push(event(by, Action::Rollback, Some(stage), Some(current), Some(previous), reason));
            Ok(previous)
        })
    }

    /// Record that `version` was refused promotion to `stage` (the stage unchanged), with the gate
    /// and every reason.
    pub fn record_refusal(
        &self,
        name: &str,
        version: Option<u32>,
        stage: &str,
        by: &str,
        reason: &str,
        gate: Option<GateRecord>,
    ) -> Result<()> {
        self.update(|index| {
            let entry = index.models.get_mut(name).ok_or_else(|| self.unknown(name))?;
            let current = entry.stages.get(stage).copied();
            let mut e = event(by, Action::Refuse, Some(stage), current, version, reason);
            e.gate = gate;
            entry.history.push(e);
            Ok(())
        })
    }

    /// Record that a rollout of `from` over `stage` (serving `to`) was aborted: a rollback event
    /// with the reason. A stage that names `from` (a server rolling out the stage's new version
    /// canary- or shadow-first) goes back to `to`; otherwise it never left `to` and is unchanged.
    pub fn record_aborted_rollout(
        &self,
        name: &str,
        stage: &str,
        from: u32,
        to: u32,
        by: &str,
        reason: &str,
    ) -> Result<()> {
        if reason.trim().is_empty() {
            return Err(Error::Invalid("a rollback needs a reason".into()));
        }
        self.update(|index| {
            let entry = index.models.get_mut(name).ok_or_else(|| self.unknown(name))?;
            if entry.version(from).is_none() || entry.version(to).is_none() {
                return Err(Error::Invalid(format!("{name} has no version {from} or {to}")));
            }
            if entry.stages.get(stage) == Some(&from) {
                entry.stages.insert(stage.to_string(), to);
            }
            entry.history.push(event(by, Action::Rollback, Some(stage), Some(from), Some(to), reason));
            Ok(())
        })
    }

    /// Delete `version` of `name`: it leaves every stage and can no longer be staged; its file and
    /// its history stay.
    pub fn delete(&self, name: &str, version: u32, by: &str, reason: &str) -> Result<()> {
        self.update(|index| {
            let entry = index.models.get_mut(name).ok_or_else(|| self.unknown(name))?;
            let v = entry
                .versions
                .iter_mut()
                .find(|v| v.version == version && !v.deleted)
                .ok_or_else(|| Error::Invalid(format!("{name} has no version {version} to delete")))?;
            v.deleted = true;
            entry.stages.retain(|_, v| *v != version);
            entry.history.push(event(by, Action::Delete, None, None, Some(version), reason));
            Ok(())
        })
    }
}

fn event(by: &str, action: Action, stage: Option<&str>, from: Option<u32>, to: Option<u32>, reason: &str) -> Event {
    Event {
        at: now(),
        by: if by.is_empty() { current_user() } else { by.to_string() },
        action,
        stage: stage.map(String::from),
        from,
        to,
        reason: reason.to_string(),
        gate: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn action_names_are_the_json_names() {
        for a in [Action::Register, Action::Promote, Action::Rollback, Action::Delete] {
            assert_eq!(serde_json::to_value(a).unwrap(), a.as_str());
        }
    }
}
