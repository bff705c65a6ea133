//! A route: the name clients call, over a champion and (for blue/green, canary and shadow) a
//! challenger, with its strategy, its live gate and what it has done. The split of one request's
//! rows is in [`super::dispatch`]; the clock that measures the gate is in [`super::controller`],
//! and following registry stages in [`super::follow`].
//!
//! The arms are swapped atomically (a write lock held for the time of a pointer swap); a request
//! takes its snapshot of them when it arrives and finishes on the versions it started on, so a
//! swap never fails a request. The weights are atomics read without a lock.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::Instant;

use serde::Serialize;

use super::Endpoint;
use crate::core::error::{Error, Result};
use crate::core::rollout::window::{IntervalStats, Outcomes};
use crate::core::rollout::{Analysis, Gate, Measurement, Outcome, Strategy};

/// Which arm scored a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Arm {
    /// The version serving everyone else.
    Champion,
    /// The challenger answering its share of the traffic.
    Canary,
    /// The challenger scoring a copy, never answering.
    Shadow,
}

/// The arms, in the order of [`Route::counters`].
pub const ARMS: [Arm; 3] = [Arm::Champion, Arm::Canary, Arm::Shadow];

impl Arm {
    /// The arm's name in logs and metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Champion => "champion",
            Self::Canary => "canary",
            Self::Shadow => "shadow",
        }
    }
}

/// The loaded versions of a route.
#[derive(Clone)]
pub struct Arms {
    /// The version answering by default.
    pub champion: Arc<Endpoint>,
    /// The version rolling out, if any.
    pub challenger: Option<Arc<Endpoint>>,
}

/// Something a route did (a step, an abort, a swap), for the log, the window and `/admin`.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RouteEvent {
    /// When (RFC 3339).
    pub at: String,
    /// What, in words.
    pub what: String,
}

/// Counters of the challenger's copies (shadow) that never reach a client.
#[derive(Debug, Default)]
pub struct ShadowCounts {
    /// Requests copied and scored.
    pub scored: AtomicU64,
    /// Copies that failed.
    pub failed: AtomicU64,
    /// Copies dropped because the challenger's queue was full.
    pub dropped: AtomicU64,
}

/// What one arm has done since the server started (for `/metrics`).
#[derive(Debug, Default)]
pub struct ArmCounters {
    /// Requests (or shadow copies) scored or failed.
    pub requests: AtomicU64,
    /// Those that failed.
    pub errors: AtomicU64,
    /// Rows scored.
    pub rows: AtomicU64,
    /// The requests' latencies added up, microseconds.
    pub latency_us: AtomicU64,
}

impl ArmCounters {
    /// Count one request (or shadow copy): whether it was answered, its latency, its rows.
    pub fn add(&self, ok: bool, latency_ms: f64, rows: u64) {
        self.requests.fetch_add(1, Ordering::Relaxed);
        self.latency_us.fetch_add((latency_ms * 1e3) as u64, Ordering::Relaxed);
        if ok {
            self.rows.fetch_add(rows, Ordering::Relaxed);
        } else {
            self.errors.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// The gate's live state.
pub(super) struct Control {
    pub(super) analysis: Option<Analysis>,
    pub(super) interval: IntervalStats,
    pub(super) interval_started: Instant,
    pub(super) events: VecDeque<RouteEvent>,
    /// The last measured interval's scores of both arms on the same rows.
    pub(super) last_pairs: (Vec<f64>, Vec<f64>),
}

/// A served name over one or two versions.
pub struct Route {
    /// The name clients call.
    pub name: String,
    /// How traffic is shared.
    pub strategy: Strategy,
    /// The column (or request parameter) whose value keeps a customer on one version.
    pub sticky_key: Option<String>,
    /// Where the champion came from (`churn@production`, a file), for registry actions.
    pub champion_source: String,
    /// Where the challenger came from.
    pub challenger_source: Option<String>,
    arms: RwLock<Arms>,
    weight: AtomicU64,
    mirror: AtomicU64,
    pub(super) control: Mutex<Control>,
    /// Shadow copies' fate.
    pub shadow: ShadowCounts,
    /// Per arm (champion, canary, shadow), since start.
    pub counters: [ArmCounters; 3],
    /// Rows refused because they failed the model's contract (a value that does not fit).
    pub contract_failures: std::sync::atomic::AtomicU64,
    /// After a followed stage moved: the version it replaced, kept warm while the new one proves
    /// itself (the clock swaps it back when the new one's errors spike).
    pub(super) probation: Mutex<Option<Probation>>,
    /// The gate a challenger is judged by (kept to judge each new version of a followed stage).
    gate: Gate,
    /// A version of the followed stage this route aborted, not rolled out again while the stage
    /// still names it (should the registry not have taken the rollback).
    pub(super) refused: Mutex<Option<String>>,
}

/// A new version on probation after a switch (judged on its own [`Endpoint::answered`]).
pub(super) struct Probation {
    /// The version it replaced, still warm.
    pub(super) previous: Arc<Endpoint>,
    /// When it started answering.
    pub(super) since: Instant,
}

impl Route {
    /// A route over `arms`, sharing traffic by `strategy`, its challenger judged by `gate`.
    pub fn new(
        name: String,
        strategy: Strategy,
        gate: Gate,
        sticky_key: Option<String>,
        arms: Arms,
        sources: (String, Option<String>),
    ) -> Result<Self> {
        let rolls_out_stage =
            arms.challenger.is_none() && super::config::rolls_out_stage(&strategy, &sources.0, sources.1.as_deref());
        if strategy.needs_challenger() != arms.challenger.is_some() && !rolls_out_stage {
            return Err(Error::Invalid(if strategy.needs_challenger() {
                format!("route '{name}': the {} strategy needs a challenger (--challenger REF)", strategy.kind())
            } else {
                format!(
                    "route '{name}': a basic route serves one version; give --strategy canary, shadow or blue-green for a challenger"
                )
            }));
        }
        if let Some(c) = &arms.challenger {
            same_answers(&name, &arms.champion, c)?;
        }
        let analysis = strategy
            .interval_secs()
            .filter(|_| arms.challenger.is_some())
            .map(|_| Analysis::new(strategy.clone(), gate.clone()));
        let weight = analysis.as_ref().map_or(0.0, Analysis::weight);
        let mirror = match strategy {
            Strategy::Shadow { share, .. } if arms.challenger.is_some() => share,
            _ => 0.0,
        };
        let now = Instant::now();
        Ok(Self {
            name,
            strategy,
            sticky_key,
            champion_source: sources.0,
            challenger_source: sources.1,
            arms: RwLock::new(arms),
            weight: AtomicU64::new(weight.to_bits()),
            mirror: AtomicU64::new(mirror.to_bits()),
            control: Mutex::new(Control {
                analysis,
                interval: IntervalStats::default(),
                interval_started: now,
                events: VecDeque::new(),
                last_pairs: (Vec::new(), Vec::new()),
            }),
            shadow: ShadowCounts::default(),
            counters: Default::default(),
            contract_failures: std::sync::atomic::AtomicU64::new(0),
            probation: Mutex::new(None),
            gate,
            refused: Mutex::new(None),
        })
    }

    /// `(NAME, STAGE)` when the route follows its champion's registry stage: a basic route on
    /// `NAME@STAGE`, or a canary or shadow route on one with no challenger of its own (it rolls
    /// each new version of the stage out as its challenger).
    pub fn follows_stage(&self) -> Option<(String, String)> {
        let follows = match self.strategy {
            Strategy::Basic => true,
            Strategy::Canary { .. } | Strategy::Shadow { .. } => self.challenger_source.is_none(),
            Strategy::BlueGreen => false,
        };
        follows.then(|| super::config::stage_ref(&self.champion_source)).flatten()
    }

    /// A followed stage moved: `challenger` rolls out over the champion by the route's strategy,
    /// from its first step, judged by the route's gate; passing the last step promotes it (a
    /// shadow too: the stage already names it).
    pub(super) fn begin_rollout(&self, challenger: Arc<Endpoint>) {
        let mut analysis = Analysis::new(self.strategy.clone(), self.gate.clone());
        analysis.auto_promote = true;
        let weight = analysis.weight();
        {
            let mut c = self.lock();
            c.analysis = Some(analysis);
            c.interval = IntervalStats::default();
            c.interval_started = Instant::now();
            c.last_pairs = (Vec::new(), Vec::new());
        }
        let champion = self.arms().champion;
        self.swap(Arms { champion, challenger: Some(challenger) });
        self.set_weight(weight);
        self.set_mirror(match self.strategy {
            Strategy::Shadow { share, .. } => share,
            _ => 0.0,
        });
    }

    /// End a running rollout with the outcome `make` gives for now (a rollout already ended
    /// keeps its outcome).
    pub(super) fn settle(&self, make: impl FnOnce(String) -> Outcome) {
        let mut c = self.lock();
        if let Some(a) = c.analysis.as_mut()
            && a.outcome == Outcome::Running
        {
            a.outcome = make(chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true));
        }
    }

    /// A followed stage's rollout ended without a promotion: the challenger is let go, the
    /// champion answers everything.
    pub(super) fn end_rollout(&self) {
        self.set_weight(0.0);
        self.set_mirror(0.0);
        let champion = self.arms().champion;
        self.swap(Arms { champion, challenger: None });
    }

    /// The versions now (a request keeps this snapshot to its end).
    pub fn arms(&self) -> Arms {
        self.arms.read().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// Replace the versions (a registry stage moved, a promotion): in-flight requests finish on
    /// the old ones.
    pub fn swap(&self, arms: Arms) {
        *self.arms.write().unwrap_or_else(PoisonError::into_inner) = arms;
    }

    /// The challenger's answering share now, in [0, 1].
    pub fn weight(&self) -> f64 {
        f64::from_bits(self.weight.load(Ordering::Relaxed))
    }

    /// The share of requests copied to a shadow challenger now.
    pub fn mirror(&self) -> f64 {
        f64::from_bits(self.mirror.load(Ordering::Relaxed))
    }

    pub(super) fn set_weight(&self, w: f64) {
        self.weight.store(w.clamp(0.0, 1.0).to_bits(), Ordering::Relaxed);
    }

    pub(super) fn set_mirror(&self, w: f64) {
        self.mirror.store(w.clamp(0.0, 1.0).to_bits(), Ordering::Relaxed);
    }

    pub(super) fn lock(&self) -> std::sync::MutexGuard<'_, Control> {
        self.control.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Note something the route did (kept: the last 200).
    pub fn note(&self, what: String) {
        let at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        eprintln!("mirador serve: route {}: {what}", self.name);
        let mut c = self.lock();
        c.events.push_back(RouteEvent { at, what });
        if c.events.len() > 200 {
            c.events.pop_front();
        }
    }

    /// Count one arm's request in the current interval: `ok`, its latency, its rows' outcomes.
    pub fn record(&self, arm: Arm, ok: bool, latency_ms: f64, outcomes: Option<&Outcomes>) {
        self.counters[arm as usize].add(ok, latency_ms, outcomes.map_or(0, |o| o.scores.len() as u64));
        let mut c = self.lock();
        if !c.analysis.as_ref().is_some_and(|a| a.outcome == Outcome::Running) {
            return;
        }
        let stats = if arm == Arm::Champion { &mut c.interval.champion } else { &mut c.interval.challenger };
        stats.request(ok, latency_ms);
        if let Some(o) = outcomes {
            stats.rows(o);
        }
    }

    /// Count a request of `arm` that takes no part in a gate (a route with one version).
    pub fn count(&self, arm: Arm, ok: bool, latency_ms: f64) {
        self.counters[arm as usize].add(ok, latency_ms, 0);
    }

    /// Count rows both arms scored.
    pub fn record_pairs(&self, champion: &Outcomes, challenger: &Outcomes) {
        let mut c = self.lock();
        if c.analysis.as_ref().is_some_and(|a| a.outcome == Outcome::Running) {
            c.interval.pairs.add_outcomes(champion, challenger);
        }
    }

    /// Both arms' scores on the same rows: the interval under way, or the last one measured.
    pub fn paired_scores(&self) -> (Vec<f64>, Vec<f64>) {
        let c = self.lock();
        let p = &c.interval.pairs;
        if p.champion_scores.values.is_empty() {
            c.last_pairs.clone()
        } else {
            (p.champion_scores.values.clone(), p.challenger_scores.values.clone())
        }
    }

    /// What the route is doing, for `/admin` and the window.
    pub fn status(&self) -> RouteStatus {
        let arms = self.arms();
        let c = self.lock();
        RouteStatus {
            name: self.name.clone(),
            strategy: self.strategy.describe(),
            follows: self.follows_stage().map(|(name, stage)| format!("{name}@{stage}")),
            champion: arms.champion.served.version.clone(),
            challenger: arms.challenger.as_ref().map(|e| e.served.version.clone()),
            weight: self.weight(),
            mirror: self.mirror(),
            sticky_key: self.sticky_key.clone(),
            state: c.analysis.as_ref().map(|a| a.outcome.clone()),
            step: c.analysis.as_ref().map(|a| a.step),
            failures: c.analysis.as_ref().map(|a| a.failures),
            gate: c.analysis.as_ref().map(|a| a.gate.text()),
            measurements: c.analysis.as_ref().map(|a| a.measurements.clone()).unwrap_or_default(),
            shadow_scored: self.shadow.scored.load(Ordering::Relaxed),
            shadow_failed: self.shadow.failed.load(Ordering::Relaxed),
            shadow_dropped: self.shadow.dropped.load(Ordering::Relaxed),
            events: c.events.iter().cloned().collect(),
        }
    }
}

impl std::fmt::Debug for Route {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Route").field("name", &self.name).field("strategy", &self.strategy).finish_non_exhaustive()
    }
}

/// A route's state, as `/admin/routes` answers it.
#[derive(Debug, Clone, Serialize)]
pub struct RouteStatus {
    /// The served name.
    pub name: String,
    /// The strategy as written.
    pub strategy: String,
    /// The registry stage the route follows (`churn@production`), when it does.
    pub follows: Option<String>,
    /// The champion's version.
    pub champion: String,
    /// The challenger's version.
    pub challenger: Option<String>,
    /// The challenger's answering share.
    pub weight: f64,
    /// The share copied to a shadow.
    pub mirror: f64,
    /// The sticky key.
    pub sticky_key: Option<String>,
    /// Running, promoted or aborted (canary and shadow).
    pub state: Option<Outcome>,
    /// The canary step.
    pub step: Option<usize>,
    /// Failed measurements so far.
    pub failures: Option<u32>,
    /// The gate's rules.
    pub gate: Option<String>,
    /// The gate's measurements.
    pub measurements: Vec<Measurement>,
    /// Shadow copies scored.
    pub shadow_scored: u64,
    /// Shadow copies that failed.
    pub shadow_failed: u64,
    /// Shadow copies dropped (the challenger's queue was full).
    pub shadow_dropped: u64,
    /// What it did.
    pub events: Vec<RouteEvent>,
}

/// Refuse a challenger that does not answer like the champion: the same columns in, the same
/// outputs and classes out (a response is written with the champion's output names).
pub fn same_answers(route: &str, champion: &Endpoint, challenger: &Endpoint) -> Result<()> {
    let (a, b) = (&champion.served, &challenger.served);
    if a.columns != b.columns {
        return Err(Error::Invalid(format!(
            "route '{route}': the challenger reads other columns than the champion ({} vs {})",
            b.columns.join(", "),
            a.columns.join(", ")
        )));
    }
    if champion.output_columns != challenger.output_columns {
        return Err(Error::Invalid(format!(
            "route '{route}': the challenger answers other outputs than the champion ({} vs {})",
            challenger.output_columns.join(", "),
            champion.output_columns.join(", ")
        )));
    }
    let specs = |e: &Endpoint| super::protocol::output_specs(e.served.model.info());
    let (sa, sb) = (specs(champion), specs(challenger));
    let names = |s: &[super::protocol::OutputSpec]| s.iter().map(|o| (o.name.clone(), o.datatype)).collect::<Vec<_>>();
    if names(&sa) != names(&sb) {
        return Err(Error::Invalid(format!(
            "route '{route}': the challenger's output tensors differ from the champion's; a client could not read both"
        )));
    }
    Ok(())
}

impl super::config::RouteSpec {
    /// Load the route's versions (warm) and build it.
    pub fn start(&self, config: &super::config::ServeConfig, workers: usize) -> Result<Route> {
        let strategy = Strategy::parse(&self.strategy)?;
        let gate = Gate::parse(&self.gate, self.failure_limit, self.min_rows)?;
        let load = |source: &str| {
            let spec = super::config::ModelSpec { source: source.to_string(), name: Some(self.name.clone()) };
            super::source::ServedModel::load(&spec, &config.registry)
        };
        let champion = load(&self.champion)?;
        let mut challenger = self.challenger.as_deref().map(load).transpose()?;
        if let Some(c) = &mut challenger
            && c.version == champion.version
        {
            // Two files both answer as version 1: tell them apart by the challenger's own name.
            let own = c.model.info().name.clone();
            c.version =
                if own != champion.version && super::config::valid_name(&own) { own } else { "challenger".into() };
        }
        let champion = Arc::new(Endpoint::start(champion, config, workers)?);
        let challenger = challenger.map(|c| Endpoint::start(c, config, workers).map(Arc::new)).transpose()?;
        Route::new(
            self.name.clone(),
            strategy,
            gate,
            self.sticky_key.clone(),
            Arms { champion, challenger },
            (self.champion.clone(), self.challenger.clone()),
        )
    }
}
