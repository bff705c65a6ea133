//! Following a registry stage: when the stage a route follows moves (a promote or rollback from
//! the command line, the window, `mirador retrain` or another process), the route loads and warms
//! the stage's new version, then
//!
//! - **basic**: swaps it in (requests in flight finish on the old one) and keeps it on
//!   **probation** for `fallback_secs`: if more than half of at least [`FALLBACK_MIN_REQUESTS`]
//!   requests fail, or their mean latency is over [`FALLBACK_LATENCY_FACTOR`] times the old
//!   version's and [`FALLBACK_LATENCY_MARGIN_MS`] above it, the old version (still warm) answers
//!   again and the stage is rolled back, the measurement as the reason in the registry's history;
//! - **canary or shadow** (a route with no challenger of its own): rolls it out as the challenger,
//!   from the strategy's first step, judged by the route's gate. The clock promotes it when every
//!   step passes, or aborts it — the old version answers everything and the stage goes back, the
//!   failing measurement as the reason. So a scheduled retrain reaches clients only through the
//!   gate.
//!
//! Either way, a new version that fails to load or warm up (or, for a rollout, answers other
//! columns or outputs than the old one) is never served, and the stage is rolled back.

use std::sync::atomic::Ordering;
use std::sync::{Arc, PoisonError};
use std::time::Instant;

use super::Endpoint;
use super::config::{ModelSpec, ServeConfig};
use super::route::{Arms, Probation, Route};
use super::source::ServedModel;
use crate::core::error::Result;
use crate::core::registry::Registry;
use crate::core::rollout::{Outcome, Strategy};

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

/// What the clock needs to load a new version.
#[derive(Clone)]
pub(super) struct Loader {
    pub(super) config: ServeConfig,
    workers: usize,
}

impl Loader {
    pub(super) fn new(config: &ServeConfig) -> Self {
        Self { config: config.clone(), workers: config.workers().0 }
    }
}

/// Load the stage's version when it moved, and swap it in or roll it out.
pub(super) fn follow_stage(route: &Route, loader: &Loader) -> Result<()> {
    let Some((name, stage)) = route.follows_stage() else { return Ok(()) };
    let registry = Registry::open(&loader.config.registry);
    let (_, version) = registry.resolve(&format!("{name}@{stage}"))?;
    let version_text = version.to_string();
    let arms = route.arms();
    let current = arms.champion;
    if current.served.version == version_text {
        *route.refused.lock().unwrap_or_else(PoisonError::into_inner) = None;
        if let Some(challenger) = arms.challenger
            && route.strategy != Strategy::Basic
        {
            // The stage went back (by hand) while its new version rolled out: the rollout ends.
            stop_rollout(route, &format!("{name}@{stage} went back to version {version} in the registry"));
            route.note(format!("version {} no longer rolls out", challenger.served.version));
        }
        return Ok(());
    }
    let rolling_out = arms.challenger.as_ref().is_some_and(|c| c.served.version == version_text);
    let refused = route.refused.lock().unwrap_or_else(PoisonError::into_inner).as_deref() == Some(&version_text);
    if rolling_out || refused {
        return Ok(());
    }
    let spec = ModelSpec { source: format!("{name}@{version}"), name: Some(route.name.clone()) };
    let loaded = ServedModel::load(&spec, &loader.config.registry)
        .and_then(|served| Endpoint::start(served, &loader.config, loader.workers));
    let endpoint = match loaded {
        Ok(e) => Arc::new(e),
        Err(e) => {
            let why = format!("{name}@{version} failed to load or warm up on route {}: {e}", route.name);
            never_served(route, &registry, (&name, &stage), &current.served.version, &why);
            return Ok(());
        }
    };
    let same = super::route::same_answers(&route.name, &current, &endpoint);
    if route.strategy == Strategy::Basic {
        if let Err(e) = same {
            // A new version with other inputs still replaces the old one (the stage says so); say so.
            route.note(format!("note: {e}"));
        }
        swap_in(route, loader, endpoint, &current);
        route.note(format!(
            "{name}@{stage} moved from version {} to {version}: version {version} now answers",
            current.served.version
        ));
        return Ok(());
    }
    if let Err(e) = same {
        // A canary is judged against the old version on the same rows: it must answer alike.
        let why = format!("{name}@{version} cannot roll out on route {}: {e}", route.name);
        never_served(route, &registry, (&name, &stage), &current.served.version, &why);
        return Ok(());
    }
    if arms.challenger.is_some() {
        stop_rollout(route, &format!("{name}@{stage} moved on to version {version}"));
    }
    route.begin_rollout(endpoint);
    route.note(format!(
        "{name}@{stage} moved from version {} to {version}: version {version} rolls out by {} first; version {} answers the rest until the gate passes",
        current.served.version,
        route.strategy.describe(),
        current.served.version
    ));
    Ok(())
}

/// A new version that will not be served: the old one keeps answering and the stage goes back,
/// so the registry says what actually answers.
fn never_served(route: &Route, registry: &Registry, (name, stage): (&str, &str), current: &str, why: &str) {
    route.note(format!("fallback: version {current} keeps answering — {why}"));
    if let Err(e) = registry.rollback(name, stage, SERVER_USER, why) {
        route.note(format!("could not roll the stage back in the registry: {e}"));
    }
}

/// End a followed stage's rollout with no promotion (the stage moved on or back by hand).
fn stop_rollout(route: &Route, reason: &str) {
    route.settle(|at| Outcome::Aborted { at, reason: reason.to_string() });
    route.end_rollout();
}

/// A basic route's switch: the new version answers, the old one stays warm on probation.
fn swap_in(route: &Route, loader: &Loader, endpoint: Arc<Endpoint>, current: &Arc<Endpoint>) {
    route.swap(Arms { champion: endpoint, challenger: None });
    if loader.config.fallback_secs > 0.0 {
        *route.probation.lock().unwrap_or_else(PoisonError::into_inner) =
            Some(Probation { previous: Arc::clone(current), since: Instant::now() });
    }
}

/// A new version on probation: swap the old one back when its error rate or latency spikes;
/// release the old one when the window passes.
pub(super) fn on_probation(route: &Route, loader: &Loader) {
    let mut probation = route.probation.lock().unwrap_or_else(PoisonError::into_inner);
    let Some(p) = probation.as_ref() else { return };
    // Each version's own requests: none of the old version's in-flight ones count for the new.
    let champion = route.arms().champion;
    let (new, old) = (&champion.answered, &p.previous.answered);
    let requests = new.requests.load(Ordering::Relaxed);
    let errors = new.errors.load(Ordering::Relaxed);
    let version = champion.served.version.clone();
    let mean_ms = |c: &super::route::ArmCounters| {
        let n = c.requests.load(Ordering::Relaxed);
        (n > 0).then(|| c.latency_us.load(Ordering::Relaxed) as f64 / n as f64 / 1e3)
    };
    let (new_mean, old_mean) = (mean_ms(new), mean_ms(old));
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
        if let Some((name, stage)) = route.follows_stage()
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
