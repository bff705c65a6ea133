//! The routes' clock, on its own thread: every interval it measures each rolling-out route's gate
//! and acts on the outcome — the next canary step, an abort (all traffic back to the champion,
//! a rollback recorded in the registry with the failing measurement as the reason) or a promotion
//! (the challenger takes over; recorded as a promotion of its stage). It also follows registry
//! stages: a basic route on `NAME@STAGE` loads and warms the stage's new version when the stage
//! moves (a promote or rollback from the command line, the window or another process) and swaps it
//! in; requests in flight finish on the old one. **Fallback**: a new version that fails to load or
//! warm up is not served and the stage is rolled back; one whose error rate or latency spikes in
//! its first `fallback_secs` (more than half of at least [`FALLBACK_MIN_REQUESTS`] requests fail,
//! or their mean latency is over [`FALLBACK_LATENCY_FACTOR`] times the old version's and
//! [`FALLBACK_LATENCY_MARGIN_MS`] above it) is swapped back to the version it replaced (still
//! warm) and the stage is rolled back, the measurement as the reason in the registry's history.
//!
//! Manual actions (promote, abort, a weight, a blue/green switch) go through [`act`], from the
//! server's `/admin` endpoint or the window.

use std::sync::atomic::Ordering;
use std::sync::{Arc, PoisonError};
use std::time::{Duration, Instant};

use crossbeam_channel::{RecvTimeoutError, Sender, bounded};
use serde::Deserialize;

use super::config::{ModelSpec, ServeConfig};
use super::route::{Arms, Route};
use super::source::ServedModel;
use super::{Endpoint, config};
use crate::core::error::{Error, Result};
use crate::core::registry::Registry;
use crate::core::rollout::{Outcome, Phase, Strategy};

/// Who the registry records for actions the server takes.
pub const SERVER_USER: &str = "mirador serve";

/// Requests a new version must answer before its error rate can send it back.
pub const FALLBACK_MIN_REQUESTS: u64 = 10;
/// The share of failed requests (in the fallback window) that sends a new version back.
pub const FALLBACK_ERROR_RATE: f64 = 0.5;
/// How many times the old version's mean latency the new one's may reach before it goes back…
pub const FALLBACK_LATENCY_FACTOR: f64 = 5.0;
/// …provided it is also this much slower (so a fast model's small jitter never counts).
pub const FALLBACK_LATENCY_MARGIN_MS: f64 = 250.0;

/// The running clock; dropping it stops the thread.
pub struct Controller {
    stop: Option<Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for Controller {
    fn drop(&mut self) {
        self.stop = None;
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// What the clock needs to load a new version.
#[derive(Clone)]
struct Loader {
    config: ServeConfig,
    workers: usize,
}

impl Controller {
    /// Start the clock over `routes` (as they change): it measures the routes with a gate and
    /// follows the stages of those that follow one.
    pub fn start(routes: Arc<super::routes::RouteTable>, config: &ServeConfig) -> Result<Self> {
        let (tx, rx) = bounded::<()>(1);
        let loader = Loader { config: config.clone(), workers: config.workers().0 };
        let tick = Duration::from_secs_f64(config.follow_secs.min(0.25));
        let thread = std::thread::Builder::new()
            .name("mirador-routes".into())
            .spawn(move || {
                let mut last_follow = Instant::now();
                while let Err(RecvTimeoutError::Timeout) = rx.recv_timeout(tick) {
                    let follow = last_follow.elapsed().as_secs_f64() >= loader.config.follow_secs;
                    if follow {
                        last_follow = Instant::now();
                    }
                    let busy = routes
                        .all()
                        .into_iter()
                        .filter(|r| r.strategy.interval_secs().is_some() || follows(r).is_some());
                    for route in busy {
                        measure(&route, &loader.config.registry);
                        on_probation(&route, &loader);
                        if follow && let Err(e) = follow_stage(&route, &loader) {
                            route.note(format!("could not follow the registry: {e}"));
                        }
                    }
                }
            })
            .map_err(|e| Error::internal(format!("cannot start the routes' clock: {e}")))?;
        Ok(Self { stop: Some(tx), thread: Some(thread) })
    }
}

/// `(name, stage)` when the route's champion is a registry stage it follows (basic routes only).
fn follows(route: &Route) -> Option<(String, String)> {
    if route.strategy != Strategy::Basic {
        return None;
    }
    registry_stage(&route.champion_source)
}

/// `NAME@STAGE` (a stage, not a version number), when `source` is one and is not a path.
fn registry_stage(source: &str) -> Option<(String, String)> {
    let (name, stage) = source.rsplit_once('@')?;
    let is_path = std::path::Path::new(source).exists();
    (!is_path && !name.is_empty() && stage.parse::<u32>().is_err() && config::valid_name(stage))
        .then(|| (name.to_string(), stage.to_string()))
}

/// Measure the gate when an interval has passed, and act on the outcome.
fn measure(route: &Route, registry: &std::path::Path) {
    let Some(interval) = route.strategy.interval_secs() else { return };
    let (measurement, outcome, weight) = {
        let mut c = route.lock();
        let due = c.interval_started.elapsed().as_secs_f64() >= interval;
        let Some(analysis) = c.analysis.as_ref() else { return };
        if !due || analysis.outcome != Outcome::Running {
            return;
        }
        let stats = std::mem::take(&mut c.interval);
        c.interval_started = Instant::now();
        c.last_pairs = (stats.pairs.champion_scores.values.clone(), stats.pairs.challenger_scores.values.clone());
        let at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        let Some(analysis) = c.analysis.as_mut() else { return };
        let m = analysis.measure(&stats, &at).clone();
        (m, analysis.outcome.clone(), analysis.weight())
    };
    let phase = match measurement.phase {
        Phase::Successful => "successful",
        Phase::Failed => "failed",
        Phase::Inconclusive => "inconclusive",
    };
    route.note(format!("measurement {} {phase}: {}", measurement.index, measurement.reason));
    match outcome {
        Outcome::Running => {
            if matches!(route.strategy, Strategy::Canary { .. }) {
                route.set_weight(weight);
                if measurement.phase == Phase::Successful && (weight - measurement.weight).abs() > 1e-12 {
                    route.note(format!("advance canary weight {:.0}%", weight * 100.0));
                }
            }
        }
        Outcome::Aborted { reason, .. } => abort(route, registry, &reason, SERVER_USER),
        Outcome::Promoted { .. } => promote(route, registry, "every canary step passed its gate", SERVER_USER),
    }
}

/// All traffic back to the champion; the abort is recorded in the registry when both versions
/// are registry versions of one model.
fn abort(route: &Route, registry: &std::path::Path, reason: &str, by: &str) {
    route.set_weight(0.0);
    route.set_mirror(0.0);
    {
        let mut c = route.lock();
        if let Some(a) = c.analysis.as_mut()
            && a.outcome == Outcome::Running
        {
            let at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
            a.outcome = Outcome::Aborted { at, reason: reason.to_string() };
        }
    }
    route.note(format!("rollback: all traffic to the champion — {reason}"));
    let arms = route.arms();
    if let (Some((name, stage)), Some(challenger)) = (registry_stage(&route.champion_source), &arms.challenger)
        && let (Ok(from), Ok(to)) =
            (challenger.served.version.parse::<u32>(), arms.champion.served.version.parse::<u32>())
    {
        let reason =
            format!("{} rollout of {name}@{from} on route {} aborted: {reason}", route.strategy.kind(), route.name);
        if let Err(e) = Registry::open(registry).record_aborted_rollout(&name, &stage, from, to, by, &reason) {
            route.note(format!("could not record the rollback in the registry: {e}"));
        }
    }
}

/// The challenger takes over; recorded as a promotion of the champion's stage when both are
/// registry versions.
fn promote(route: &Route, registry: &std::path::Path, reason: &str, by: &str) {
    let arms = route.arms();
    let Some(challenger) = arms.challenger.clone() else { return };
    {
        let mut c = route.lock();
        if let Some(a) = c.analysis.as_mut()
            && a.outcome == Outcome::Running
        {
            let at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
            a.outcome = Outcome::Promoted { at };
        }
    }
    route.set_weight(1.0);
    route.set_mirror(0.0);
    route.swap(Arms { champion: Arc::clone(&challenger), challenger: None });
    route.note(format!("promotion completed: version {} serves all traffic ({reason})", challenger.served.version));
    if let (Some((name, stage)), Ok(version)) =
        (registry_stage(&route.champion_source), challenger.served.version.parse::<u32>())
    {
        let reason = format!("{} rollout on route {}: {reason}", route.strategy.kind(), route.name);
        if let Err(e) = Registry::open(registry).promote(&name, version, &stage, by, &reason) {
            route.note(format!("could not record the promotion in the registry: {e}"));
        }
    }
}

/// Load the stage's version when it moved, and swap it in.
fn follow_stage(route: &Route, loader: &Loader) -> Result<()> {
    let Some((name, stage)) = follows(route) else { return Ok(()) };
    let registry = Registry::open(&loader.config.registry);
    let (_, version) = registry.resolve(&format!("{name}@{stage}"))?;
    let current = route.arms().champion;
    if current.served.version == version.to_string() {
        return Ok(());
    }
    let spec = ModelSpec { source: format!("{name}@{version}"), name: Some(route.name.clone()) };
    let loaded = ServedModel::load(&spec, &loader.config.registry)
        .and_then(|served| Endpoint::start(served, &loader.config, loader.workers));
    let endpoint = match loaded {
        Ok(e) => Arc::new(e),
        Err(e) => {
            // Never served: the stage goes back, so the registry says what actually answers.
            let reason = format!("{name}@{version} failed to load or warm up on route {}: {e}", route.name);
            route.note(format!("fallback: version {} keeps answering — {reason}", current.served.version));
            if let Err(e) = registry.rollback(&name, &stage, SERVER_USER, &reason) {
                route.note(format!("could not roll the stage back in the registry: {e}"));
            }
            return Ok(());
        }
    };
    super::route::same_answers(&route.name, &current, &endpoint).or_else(|e| {
        // A new version with other inputs still replaces the old one (the stage says so); say so.
        route.note(format!("note: {e}"));
        Ok::<(), Error>(())
    })?;
    let counters = &route.counters[super::route::Arm::Champion as usize];
    let base = (
        counters.requests.load(Ordering::Relaxed),
        counters.errors.load(Ordering::Relaxed),
        counters.latency_us.load(Ordering::Relaxed),
    );
    route.swap(Arms { champion: endpoint, challenger: None });
    if loader.config.fallback_secs > 0.0 {
        let previous = Arc::clone(&current);
        *route.probation.lock().unwrap_or_else(PoisonError::into_inner) =
            Some(super::route::Probation { previous, since: Instant::now(), base });
    }
    route.note(format!(
        "{name}@{stage} moved from version {} to {version}: version {version} now answers",
        current.served.version
    ));
    Ok(())
}

/// A new version on probation: swap the old one back when its error rate spikes; release the old
/// one when the window passes.
fn on_probation(route: &Route, loader: &Loader) {
    let mut probation = route.probation.lock().unwrap_or_else(PoisonError::into_inner);
    let Some(p) = probation.as_ref() else { return };
    let counters = &route.counters[super::route::Arm::Champion as usize];
    let requests = counters.requests.load(Ordering::Relaxed).saturating_sub(p.base.0);
    let errors = counters.errors.load(Ordering::Relaxed).saturating_sub(p.base.1);
    let version = route.arms().champion.served.version.clone();
    let mean_ms = |latency_us: u64, n: u64| (n > 0).then(|| latency_us as f64 / n as f64 / 1e3);
    let new_mean = mean_ms(counters.latency_us.load(Ordering::Relaxed).saturating_sub(p.base.2), requests);
    let old_mean = mean_ms(p.base.2, p.base.0);
    let within = format!("within {:.0} s of the switch on route {}", loader.config.fallback_secs, route.name);
    let spike = if requests < FALLBACK_MIN_REQUESTS {
        None
    } else if errors as f64 / requests as f64 > FALLBACK_ERROR_RATE {
        Some(format!(
            "version {version} failed {errors} of its first {requests} requests ({:.0} %) {within}",
            100.0 * errors as f64 / requests as f64
        ))
    } else if let (Some(new), Some(old)) = (new_mean, old_mean)
        && new > FALLBACK_LATENCY_FACTOR * old
        && new > old + FALLBACK_LATENCY_MARGIN_MS
    {
        Some(format!(
            "version {version}'s first {requests} requests took {new:.1} ms on average, against {old:.1} ms before (latency) {within}"
        ))
    } else {
        None
    };
    if let Some(reason) = spike {
        let previous = Arc::clone(&p.previous);
        *probation = None;
        drop(probation);
        let back = previous.served.version.clone();
        route.swap(Arms { champion: previous, challenger: None });
        route.note(format!("fallback: version {back} answers again — {reason}"));
        if let Some((name, stage)) = follows(route)
            && let Err(e) = Registry::open(&loader.config.registry).rollback(&name, &stage, SERVER_USER, &reason)
        {
            route.note(format!("could not roll the stage back in the registry: {e}"));
        }
    } else if p.since.elapsed().as_secs_f64() >= loader.config.fallback_secs {
        *probation = None;
        drop(probation);
        route.note(format!(
            "version {version} held through its first {:.0} s ({errors} of {requests} requests failed)",
            loader.config.fallback_secs
        ));
    }
}

/// A manual action on a route.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Action {
    /// The challenger takes over now.
    Promote {
        /// Why (recorded).
        #[serde(default)]
        reason: Option<String>,
    },
    /// All traffic back to the champion now.
    Abort {
        /// Why (recorded).
        #[serde(default)]
        reason: Option<String>,
    },
    /// Set the challenger's answering share (canary, blue/green: 0 or 1).
    Weight {
        /// The share, 0 to 1.
        weight: f64,
    },
}

/// Apply `action` to `route` (by `by`, recorded in the registry when it promotes or aborts).
pub fn act(route: &Route, action: &Action, registry: &std::path::Path, by: &str) -> Result<()> {
    let has_challenger = route.arms().challenger.is_some();
    if !has_challenger {
        return Err(Error::Invalid(format!(
            "route '{}' serves one version; there is nothing to promote, abort or weigh",
            route.name
        )));
    }
    match action {
        Action::Promote { reason } => {
            promote(route, registry, reason.as_deref().unwrap_or("promoted by hand"), by);
        }
        Action::Abort { reason } => {
            abort(route, registry, reason.as_deref().unwrap_or("aborted by hand"), by);
        }
        Action::Weight { weight } => {
            if !(weight.is_finite() && (0.0..=1.0).contains(weight)) {
                return Err(Error::Invalid(format!("a weight is a share from 0 to 1; got {weight}")));
            }
            if matches!(route.strategy, Strategy::Shadow { .. }) {
                route.set_mirror(*weight);
                route.note(format!("shadow share set to {:.0}% by {by}", weight * 100.0));
            } else {
                route.set_weight(*weight);
                route.note(format!("challenger weight set to {:.0}% by {by}", weight * 100.0));
            }
        }
    }
    Ok(())
}
