//! The table of routes a server answers, shared by the request handlers, the routes' clock, the
//! metrics and the window — and replaced in part when the config file is read again (SIGHUP):
//! a route whose settings changed is loaded and warmed beside the old one, then swapped in; routes
//! no longer listed go, new ones come; unchanged routes keep their state (a canary keeps its
//! step). Requests in flight finish on the route they started on.

use std::sync::{Arc, PoisonError, RwLock};

use super::Endpoint;
use super::config::{ModelSpec, RouteSpec, ServeConfig};
use super::route::{Arms, Route};
use super::source::ServedModel;
use crate::core::error::{Error, Result};
use crate::core::rollout::{Gate, Strategy};

/// What a route was built from (to tell, on a reload, whether it changed).
#[derive(Debug, Clone, PartialEq)]
enum Origin {
    Model(ModelSpec),
    Route(RouteSpec),
}

/// The routes, by name.
#[derive(Default)]
pub struct RouteTable {
    list: RwLock<Vec<(Origin, Arc<Route>)>>,
}

impl RouteTable {
    /// Load every model and route of `config` (warm).
    pub fn start(config: &ServeConfig, workers: usize) -> Result<Self> {
        let table = Self::default();
        let mut list = Vec::new();
        for (origin, name) in origins(config) {
            if list.iter().any(|(_, r): &(Origin, Arc<Route>)| r.name == name) {
                return Err(duplicate(&name));
            }
            let route = build(&origin, config, workers)?;
            if list.iter().any(|(_, r): &(Origin, Arc<Route>)| r.name == route.name) {
                return Err(duplicate(&route.name));
            }
            list.push((origin, route));
        }
        *table.list.write().unwrap_or_else(PoisonError::into_inner) = list;
        Ok(table)
    }

    /// Every route now.
    pub fn all(&self) -> Vec<Arc<Route>> {
        self.list.read().unwrap_or_else(PoisonError::into_inner).iter().map(|(_, r)| Arc::clone(r)).collect()
    }

    /// The route served as `name`.
    pub fn get(&self, name: &str) -> Option<Arc<Route>> {
        self.list
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .find(|(_, r)| r.name == name)
            .map(|(_, r)| Arc::clone(r))
    }

    /// Apply a re-read config's models and routes: changed ones are rebuilt (loaded and warmed
    /// before the swap), removed ones go, new ones come. Nothing changes when any of them fails to
    /// load. Returns what changed, in words.
    pub fn reload(&self, config: &ServeConfig, workers: usize) -> Result<Vec<String>> {
        config.check()?;
        let current: Vec<(Origin, Arc<Route>)> = self.list.read().unwrap_or_else(PoisonError::into_inner).clone();
        let mut next = Vec::new();
        let mut changes = Vec::new();
        for (origin, name) in origins(config) {
            match current.iter().find(|(o, r)| *o == origin && (r.name == name || name.is_empty())) {
                Some((o, r)) => next.push((o.clone(), Arc::clone(r))),
                None => {
                    let route = build(&origin, config, workers)?;
                    let verb = if current.iter().any(|(_, r)| r.name == route.name) { "changed" } else { "added" };
                    changes.push(format!("{verb} {} ({})", route.name, route.strategy.describe()));
                    next.push((origin, route));
                }
            }
        }
        for i in 0..next.len() {
            if next[..i].iter().any(|(_, r)| r.name == next[i].1.name) {
                return Err(duplicate(&next[i].1.name));
            }
        }
        for (_, old) in &current {
            if !next.iter().any(|(_, r)| r.name == old.name) {
                changes.push(format!("removed {}", old.name));
            }
        }
        *self.list.write().unwrap_or_else(PoisonError::into_inner) = next;
        Ok(changes)
    }
}

fn duplicate(name: &str) -> Error {
    Error::Invalid(format!("two models would be served as '{name}': name one with --model NAME=REF"))
}

/// The config's models and routes, with the name each asks for (empty: the model's own).
fn origins(config: &ServeConfig) -> Vec<(Origin, String)> {
    let models = config.models.iter().map(|m| (Origin::Model(m.clone()), m.name.clone().unwrap_or_default()));
    let routes = config.routes.iter().map(|r| (Origin::Route(r.clone()), r.name.clone()));
    models.chain(routes).collect()
}

fn build(origin: &Origin, config: &ServeConfig, workers: usize) -> Result<Arc<Route>> {
    match origin {
        Origin::Model(spec) => {
            let champion = Arc::new(Endpoint::start(ServedModel::load(spec, &config.registry)?, config, workers)?);
            let name = champion.served.name.clone();
            let arms = Arms { champion, challenger: None };
            Ok(Arc::new(Route::new(name, Strategy::Basic, Gate::default(), None, arms, (spec.source.clone(), None))?))
        }
        Origin::Route(spec) => Ok(Arc::new(spec.start(config, workers)?)),
    }
}
