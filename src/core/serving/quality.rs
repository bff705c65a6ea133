//! Realised quality from late labels, live: every answer a client gets is remembered for a while
//! (its request id, each row's version, scores and key); a label posted later
//! (`POST /v2/models/{m}/feedback`) finds its row by request id and position, or by key, and joins
//! a rolling window of labelled rows per model and version — the last `labelled_rows` rows, none
//! older than `labelled_secs`. On the window: accuracy, precision, recall, F1, ROC AUC and the error
//! rate (classifiers, computed as `mirador evaluate` does), MAE and RMSE (regressors). Alert rules
//! on them (`accuracy < 0.8`) fire after their duration like the drift's.
//!
//! Bounded cost: answers are handed over with `try_send` (a full queue drops them, counted); at
//! most `pending_rows` answered rows wait for a label, the oldest forgotten first. Every label is
//! also written to the prediction log's `labels/` folder (when there is a log), matched or not, so
//! monitoring the log later joins it too.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender, TrySendError, bounded};
use serde::Serialize;

pub use super::alerting::QUALITY_METRICS as METRICS;
use super::alerting::{AlertSettings, AlertState, Alerts, is_quality_rule};
use super::live::LiveSettings;
use crate::core::error::{Error, Result};
use crate::core::metrics::{BootstrapOptions, ClassificationData, EvaluateOptions, evaluate_classification};
use crate::core::monitor::labels::{LabelRecord, labels_dir, write_labels};
use crate::core::session::BatchPredictions;

/// What a model answers, so a label can be compared with it.
#[derive(Debug, Clone, PartialEq)]
pub enum Answers {
    /// Class probabilities over `classes` (in output order); `positive` for the binary metrics.
    Classes {
        /// Class labels.
        classes: Vec<String>,
        /// Index of the positive class.
        positive: usize,
    },
    /// A predicted value (the first output column).
    Values,
}

/// One answered request, to be remembered until its labels come.
pub struct Answered {
    /// The served name.
    pub model: String,
    /// Its request id.
    pub request_id: String,
    /// The version that answered.
    pub version: String,
    /// Each row's version, when they differ (a canary request split between two).
    pub row_versions: Option<Vec<String>>,
    /// Each row's key (the request's `key` parameter or the route's sticky key column).
    pub keys: Option<Vec<Option<String>>>,
    /// Its predictions.
    pub predictions: BatchPredictions,
    /// What they are.
    pub answers: Arc<Answers>,
}

/// One label as posted.
#[derive(Debug, Clone, PartialEq)]
pub struct Feedback {
    /// The request it is for.
    pub id: Option<String>,
    /// The row's position in it (default 0).
    pub row: Option<u32>,
    /// Or the row's key.
    pub key: Option<String>,
    /// The true value, as text (a class label or a number).
    pub label: String,
}

/// What became of a batch of labels.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct FeedbackOutcome {
    /// Labels received.
    pub received: usize,
    /// Labels that found their row among the remembered answers.
    pub matched: usize,
    /// Labels that did not (unknown or forgotten request, row or key): kept in the labels log only.
    pub unmatched: usize,
}

/// One window's figures.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Figures {
    /// Labelled rows in the window.
    pub rows: usize,
    /// Metric → value (absent when undefined, e.g. ROC AUC with one class).
    pub metrics: BTreeMap<String, f64>,
}

/// A model's figures: per version, and over every version (what clients got).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ModelQuality {
    /// Per version.
    pub versions: BTreeMap<String, Figures>,
    /// All versions together (what alert rules judge).
    pub overall: Figures,
    /// Labels matched / not matched since start.
    pub matched: u64,
    /// Labels that found no row.
    pub unmatched: u64,
    /// Answered rows waiting for a label.
    pub pending_rows: usize,
    /// The quality alert rules' states.
    pub alerts: Vec<AlertState>,
}

/// What the feedback monitor shows.
#[derive(Debug, Default)]
pub struct QualityState {
    /// Per served name.
    pub models: Mutex<BTreeMap<String, ModelQuality>>,
    /// Answers dropped because the monitor was behind.
    pub dropped: AtomicU64,
}

impl QualityState {
    /// A copy of the figures.
    pub fn snapshot(&self) -> BTreeMap<String, ModelQuality> {
        self.models.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }
}

enum Msg {
    Answered(Box<Answered>),
    Feedback(String, Vec<Feedback>, Sender<FeedbackOutcome>),
}

/// The feedback monitor of a server; dropping it writes the labels waiting and stops its thread.
pub struct LiveQuality {
    remembers: bool,
    tx: Option<Sender<Msg>>,
    state: Arc<QualityState>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl LiveQuality {
    /// Start it; labels are written under `log_dir` when given.
    pub fn start(settings: &LiveSettings, alerts: &AlertSettings, log_dir: Option<PathBuf>) -> Result<Self> {
        let (tx, rx) = bounded(4096);
        let state = Arc::new(QualityState::default());
        let mut monitor = Monitor {
            settings: settings.clone(),
            alerts: alerts.only(is_quality_rule),
            log_dir,
            models: BTreeMap::new(),
            unwritten: BTreeMap::new(),
            state: Arc::clone(&state),
        };
        let thread = std::thread::Builder::new()
            .name("mirador-feedback".into())
            .spawn(move || monitor.run(&rx))
            .map_err(|e| Error::internal(format!("cannot start the feedback monitor: {e}")))?;
        Ok(Self { remembers: settings.pending_rows > 0, tx: Some(tx), state, thread: Some(thread) })
    }

    /// Whether answers are remembered at all (`live.pending_rows` > 0).
    pub fn remembers(&self) -> bool {
        self.remembers
    }

    /// Remember an answer, without waiting (dropped and counted when the monitor is behind).
    pub fn offer(&self, answered: Answered) {
        let sent = self.tx.as_ref().map(|tx| tx.try_send(Msg::Answered(Box::new(answered))));
        if let Some(Err(TrySendError::Full(_) | TrySendError::Disconnected(_))) = sent {
            self.state.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Join `labels` to `model`'s answers; waits at most five seconds for the monitor.
    pub fn feedback(&self, model: &str, labels: Vec<Feedback>) -> Result<FeedbackOutcome> {
        let busy = || Error::Unavailable("the feedback monitor is busy; send the labels again".into());
        let (reply_tx, reply_rx) = bounded(1);
        let tx = self.tx.as_ref().ok_or_else(busy)?;
        tx.send_timeout(Msg::Feedback(model.to_string(), labels, reply_tx), Duration::from_secs(5))
            .map_err(|_| busy())?;
        reply_rx.recv_timeout(Duration::from_secs(5)).map_err(|_| busy())
    }

    /// What it measured.
    pub fn state(&self) -> &Arc<QualityState> {
        &self.state
    }
}

impl Drop for LiveQuality {
    fn drop(&mut self) {
        self.tx = None;
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// An answered request waiting for labels.
struct Pending {
    version: String,
    /// Each row's version, when they differ.
    row_versions: Option<Vec<String>>,
    rows: usize,
    /// Row-major scores: class probabilities, or the value.
    scores: Vec<f64>,
    width: usize,
    keys: Vec<Option<String>>,
    /// Rows already labelled (a label sent again is matched, not counted twice).
    labelled: Vec<bool>,
}

/// A labelled row in a window.
struct Labelled {
    at: Instant,
    truth: f64,
    scores: Box<[f64]>,
}

#[derive(Default)]
struct Window(VecDeque<Labelled>);

impl Window {
    fn push(&mut self, row: Labelled, max_rows: usize) {
        self.0.push_back(row);
        while self.0.len() > max_rows {
            self.0.pop_front();
        }
    }

    fn trim(&mut self, max_age: Duration) {
        while self.0.front().is_some_and(|r| r.at.elapsed() > max_age) {
            self.0.pop_front();
        }
    }

    fn figures(&self, answers: &Answers) -> Figures {
        let rows = self.0.len();
        let mut metrics = BTreeMap::new();
        if rows == 0 {
            return Figures { rows, metrics };
        }
        match answers {
            Answers::Classes { classes, positive } => {
                let data = ClassificationData {
                    classes: classes.clone(),
                    positive: *positive,
                    y_true: self.0.iter().map(|r| r.truth as usize).collect(),
                    proba: self.0.iter().flat_map(|r| r.scores.iter().copied()).collect(),
                };
                let options = EvaluateOptions {
                    bootstrap: BootstrapOptions { resamples: 0, ..BootstrapOptions::default() },
                    ..EvaluateOptions::default()
                };
                let report = evaluate_classification(&data, &options);
                for m in ["accuracy", "precision", "recall", "f1", "roc_auc"] {
                    if let Some(v) = report.metrics.get(m).copied().flatten().filter(|v| v.is_finite()) {
                        metrics.insert(m.to_string(), v);
                    }
                }
                if let Some(a) = metrics.get("accuracy").copied() {
                    metrics.insert("error_rate".into(), 1.0 - a);
                }
            }
            Answers::Values => {
                let y: Vec<f64> = self.0.iter().map(|r| r.truth).collect();
                let pred: Vec<f64> = self.0.iter().map(|r| r.scores.first().copied().unwrap_or(f64::NAN)).collect();
                let m = crate::core::metrics::regression::regression_metrics(&y, &pred, None);
                for (name, v) in [("mae", m.mae), ("rmse", m.rmse)] {
                    if v.is_finite() {
                        metrics.insert(name.into(), v);
                    }
                }
            }
        }
        Figures { rows, metrics }
    }
}

/// One model's memory.
struct ModelMemory {
    answers: Arc<Answers>,
    pending: HashMap<String, Pending>,
    order: VecDeque<String>,
    pending_rows: usize,
    by_key: HashMap<String, (String, u32)>,
    windows: BTreeMap<String, Window>,
    overall: Window,
    alerts: Alerts,
    matched: u64,
    unmatched: u64,
}

struct Monitor {
    settings: LiveSettings,
    alerts: AlertSettings,
    log_dir: Option<PathBuf>,
    models: BTreeMap<String, ModelMemory>,
    unwritten: BTreeMap<String, Vec<LabelRecord>>,
    state: Arc<QualityState>,
}

impl Monitor {
    fn run(&mut self, rx: &Receiver<Msg>) {
        let every = Duration::from_secs_f64(self.settings.refresh_secs.max(0.05));
        let mut last_write = Instant::now();
        loop {
            match rx.recv_timeout(every) {
                Ok(Msg::Answered(a)) => self.remember(*a),
                Ok(Msg::Feedback(model, labels, reply)) => {
                    let outcome = self.join(&model, labels);
                    let _ = reply.send(outcome);
                    self.publish(&model);
                }
                Err(RecvTimeoutError::Timeout) => {
                    // The clock: old rows leave the windows, breaches wait out their duration.
                    let names: Vec<String> = self.models.keys().cloned().collect();
                    for name in names {
                        self.publish(&name);
                    }
                }
                Err(RecvTimeoutError::Disconnected) => break,
            }
            if last_write.elapsed() >= every * 5 {
                self.write_labels();
                last_write = Instant::now();
            }
        }
        self.write_labels();
    }

    fn memory(&mut self, model: &str, answers: &Arc<Answers>) -> &mut ModelMemory {
        let alerts = &self.alerts;
        self.models.entry(model.to_string()).or_insert_with(|| ModelMemory {
            answers: Arc::clone(answers),
            pending: HashMap::new(),
            order: VecDeque::new(),
            pending_rows: 0,
            by_key: HashMap::new(),
            windows: BTreeMap::new(),
            overall: Window::default(),
            alerts: Alerts::new(model, "MiradorLiveQuality", alerts.clone()),
            matched: 0,
            unmatched: 0,
        })
    }

    fn remember(&mut self, a: Answered) {
        let n = a.predictions.rows;
        let (scores, width) = match (&*a.answers, &a.predictions.probabilities, &a.predictions.values) {
            (Answers::Classes { classes, .. }, Some(p), _) if p.len() == n * classes.len() => {
                (p.clone(), classes.len())
            }
            (Answers::Values, _, Some(v)) if n > 0 && v.len() % n == 0 => {
                let w = v.len() / n;
                ((0..n).map(|i| v[i * w]).collect(), 1)
            }
            _ => return,
        };
        let limit = self.settings.pending_rows;
        let memory = self.memory(&a.model, &a.answers);
        memory.answers = Arc::clone(&a.answers);
        let keys = a.keys.unwrap_or_default();
        for (row, key) in keys.iter().enumerate() {
            if let Some(k) = key {
                memory.by_key.insert(k.clone(), (a.request_id.clone(), row as u32));
            }
        }
        let row_versions = a.row_versions.filter(|v| v.len() == n);
        let pending =
            Pending { version: a.version, row_versions, rows: n, scores, width, keys, labelled: vec![false; n] };
        match memory.pending.insert(a.request_id.clone(), pending) {
            // A request id used again replaces the earlier answer.
            Some(old) => memory.pending_rows -= old.rows,
            None => memory.order.push_back(a.request_id),
        }
        memory.pending_rows += n;
        while memory.pending_rows > limit {
            let Some(oldest) = memory.order.pop_front() else { break };
            if let Some(p) = memory.pending.remove(&oldest) {
                memory.pending_rows -= p.rows;
                for k in p.keys.iter().flatten() {
                    if memory.by_key.get(k).is_some_and(|(id, _)| *id == oldest) {
                        memory.by_key.remove(k);
                    }
                }
            }
        }
    }

    fn join(&mut self, model: &str, labels: Vec<Feedback>) -> FeedbackOutcome {
        let mut outcome = FeedbackOutcome { received: labels.len(), ..FeedbackOutcome::default() };
        let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        let max_rows = self.settings.labelled_rows;
        let mut records = Vec::with_capacity(labels.len());
        if let Some(memory) = self.models.get_mut(model) {
            for f in labels {
                let place = match (&f.id, &f.key) {
                    (Some(id), _) => Some((id.clone(), f.row.unwrap_or(0))),
                    (None, Some(k)) => memory.by_key.get(k).cloned(),
                    (None, None) => None,
                };
                let found = place.as_ref().and_then(|(id, row)| {
                    let p = memory.pending.get_mut(id)?;
                    let r = *row as usize;
                    if r >= p.rows {
                        return None;
                    }
                    let version = p.row_versions.as_ref().map_or(&p.version, |v| &v[r]).clone();
                    let scores: Box<[f64]> = p.scores.get(r * p.width..(r + 1) * p.width)?.into();
                    let again = std::mem::replace(p.labelled.get_mut(r)?, true);
                    Some((version, scores, again))
                });
                let truth = truth_of(&memory.answers, &f.label);
                match (found, truth) {
                    // Labelled before: matched, but the window counts each row once.
                    (Some((_, _, true)), Some(_)) => outcome.matched += 1,
                    (Some((version, scores, false)), Some(truth)) => {
                        let at = Instant::now();
                        let row = || Labelled { at, truth, scores: scores.clone() };
                        memory.windows.entry(version).or_default().push(row(), max_rows);
                        memory.overall.push(row(), max_rows);
                        outcome.matched += 1;
                    }
                    _ => outcome.unmatched += 1,
                }
                // Written by request when the row was found (a key resolved), else as posted.
                let (request_id, row) = match &place {
                    Some((id, row)) => (Some(id.clone()), Some(*row)),
                    None => (None, None),
                };
                let by_key = request_id.is_none();
                records.push(LabelRecord {
                    time: now.clone(),
                    request_id,
                    row,
                    key_column: by_key.then(|| "key".to_string()),
                    key: if by_key { f.key.clone() } else { None },
                    label: f.label,
                });
            }
            memory.matched += outcome.matched as u64;
            memory.unmatched += outcome.unmatched as u64;
        } else {
            outcome.unmatched = outcome.received;
            records.extend(labels.into_iter().map(|f| LabelRecord {
                time: now.clone(),
                request_id: f.id.clone(),
                row: f.id.as_ref().map(|_| f.row.unwrap_or(0)),
                key_column: f.id.is_none().then(|| "key".to_string()),
                key: f.key,
                label: f.label,
            }));
        }
        self.unwritten.entry(model.to_string()).or_default().extend(records);
        outcome
    }

    /// Recompute `model`'s figures, judge its alerts, and show the result.
    fn publish(&mut self, model: &str) {
        let max_age = Duration::from_secs_f64(self.settings.labelled_secs);
        let Some(memory) = self.models.get_mut(model) else { return };
        memory.overall.trim(max_age);
        let mut versions = BTreeMap::new();
        for (version, window) in &mut memory.windows {
            window.trim(max_age);
            versions.insert(version.clone(), window.figures(&memory.answers));
        }
        let overall = memory.overall.figures(&memory.answers);
        let changes = memory.alerts.judge_with(|key| overall.metrics.get(key).copied());
        for change in &changes {
            let status = if change.firing { "firing" } else { "resolved" };
            eprintln!("mirador serve: alert {status}: {} — {}", change.rule, change.message);
            memory.alerts.deliver(change);
        }
        let quality = ModelQuality {
            versions,
            overall,
            matched: memory.matched,
            unmatched: memory.unmatched,
            pending_rows: memory.pending_rows,
            alerts: memory.alerts.states.clone(),
        };
        self.state.models.lock().unwrap_or_else(PoisonError::into_inner).insert(model.to_string(), quality);
    }

    /// Write the labels received since the last write into the log's `labels/` folders.
    fn write_labels(&mut self) {
        let Some(dir) = &self.log_dir else {
            self.unwritten.clear();
            return;
        };
        for (model, records) in std::mem::take(&mut self.unwritten) {
            if records.is_empty() {
                continue;
            }
            if let Err(e) = write_labels(&labels_dir(dir, &model), &records) {
                eprintln!("mirador serve: cannot write {} labels of '{model}': {e}", records.len());
            }
        }
    }
}

/// A label as the window holds it: the class's index, or the number; none when it is neither.
fn truth_of(answers: &Answers, label: &str) -> Option<f64> {
    match answers {
        Answers::Classes { classes, .. } => classes.iter().position(|c| c == label).map(|i| i as f64),
        Answers::Values => label.trim().parse::<f64>().ok().filter(|v| v.is_finite()),
    }
}
