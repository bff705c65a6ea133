//! The routes' clock, on its own thread: every interval it measures each rolling-out route's gate
//! and acts on the outcome — the next canary step, an abort (all traffic back to the champion,
//! a rollback recorded in the registry with the failing measurement as the reason) or a promotion
//! (the challenger takes over; recorded as a promotion of its stage). Every `follow_secs` it also
//! looks at the registry stages routes follow and, when one moved, lets [`super::follow`] load the
//! new version (swapped in, or rolled out by the route's strategy) and watch it on probation.
//!
//! Manual actions (promote, abort, a weight, a blue/green switch) go through [`act`], from the
//! server's `/admin` endpoint or the window.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_channel::{RecvTimeoutError, Sender, bounded};
use serde::Deserialize;

use super::config::{ServeConfig, stage_ref};
use super::follow::{Loader, SERVER_USER, follow_stage, on_probation};
use super::route::{Arms, Route};
use crate::core::error::{Error, Result};
use crate::core::registry::Registry;
use crate::core::rollout::{Outcome, Phase, Strategy};

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

impl Controller {
    /// Start the clock over `routes` (as they change): it measures the routes with a gate and
    /// follows the stages of those that follow one.
    pub fn start(routes: Arc<super::routes::RouteTable>, config: &ServeConfig) -> Result<Self> {
        let (tx, rx) = bounded::<()>(1);
        let loader = Loader::new(config);
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
                        .filter(|r| r.strategy.interval_secs().is_some() || r.follows_stage().is_some());
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
        let (outcome, weight) = (analysis.outcome.clone(), analysis.weight());
        // A final outcome shows once abort or promote below has acted on it (traffic moved, the
        // registry written), so whoever reads the state finds both done.
        analysis.outcome = Outcome::Running;
        (m, outcome, weight)
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
        Outcome::Promoted { .. } => {
            let why =
                if route.strategy.steps() > 1 { "every canary step passed its gate" } else { "it passed its gate" };
            promote(route, registry, why, SERVER_USER);
        }
    }
}

/// All traffic back to the champion; the abort is recorded in the registry when both versions
/// are registry versions of one model. A route rolling out its followed stage's new version also
/// lets the challenger go, and the stage goes back to the champion. The route's state says
/// aborted only once all that is done.
fn abort(route: &Route, registry: &std::path::Path, reason: &str, by: &str) {
    route.set_weight(0.0);
    route.set_mirror(0.0);
    let arms = route.arms();
    if let Some(challenger) = &arms.challenger {
        if route.follows_stage().is_some() {
            *route.refused.lock().unwrap_or_else(std::sync::PoisonError::into_inner) =
                Some(challenger.served.version.clone());
            route.end_rollout();
        }
        if let (Some((name, stage)), Ok(from), Ok(to)) = (
            stage_ref(&route.champion_source),
            challenger.served.version.parse::<u32>(),
            arms.champion.served.version.parse::<u32>(),
        ) {
            let why =
                format!("{} rollout of {name}@{from} on route {} aborted: {reason}", route.strategy.kind(), route.name);
            if let Err(e) = Registry::open(registry).record_aborted_rollout(&name, &stage, from, to, by, &why) {
                route.note(format!("could not record the rollback in the registry: {e}"));
            }
        }
    }
    route.settle(|at| Outcome::Aborted { at, reason: reason.to_string() });
    route.note(format!("rollback: all traffic to the champion — {reason}"));
}

/// The challenger takes over; recorded as a promotion of the champion's stage when both are
/// registry versions (unless the stage already names it: a followed stage's rollout completing).
/// The route's state says promoted only once the challenger answers and the registry has it.
fn promote(route: &Route, registry: &std::path::Path, reason: &str, by: &str) {
    let arms = route.arms();
    let Some(challenger) = arms.challenger.clone() else { return };
    route.set_weight(1.0);
    route.set_mirror(0.0);
    route.swap(Arms { champion: Arc::clone(&challenger), challenger: None });
    let version = challenger.served.version.clone();
    if let (Some((name, stage)), Ok(number)) = (stage_ref(&route.champion_source), version.parse::<u32>()) {
        let registry = Registry::open(registry);
        if registry.resolve(&format!("{name}@{stage}")).is_ok_and(|(_, v)| v == number) {
            route.note(format!("{name}@{stage} already names version {number} in the registry"));
        } else {
            let why = format!("{} rollout on route {}: {reason}", route.strategy.kind(), route.name);
            if let Err(e) = registry.promote(&name, number, &stage, by, &why) {
                route.note(format!("could not record the promotion in the registry: {e}"));
            }
        }
    }
    route.settle(|at| Outcome::Promoted { at });
    route.note(format!("promotion completed: version {version} serves all traffic ({reason})"));
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
