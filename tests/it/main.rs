//! Mirador's integration tests, in one binary: each test binary links the whole
//! stack (polars, ONNX Runtime bindings, egui), so one link instead of ten keeps
//! the build fast and its disk use small.

#![allow(clippy::unwrap_used)]

mod common;

mod bad_input;
mod bundle;
mod cli;
mod collect;
mod compare_golden;
mod contract_check;
mod corpus;
mod drift_golden;
mod follow;
#[cfg(feature = "gui")]
mod gui;
#[cfg(feature = "gui")]
mod gui_deploy;
#[cfg(feature = "gui")]
mod gui_retrain;
#[cfg(feature = "gui")]
mod gui_serve;
#[cfg(feature = "gui")]
mod gui_trust;
mod live_drift;
mod live_quality;
mod metrics_golden;
mod monitor;
mod profile_drift;
mod properties;
mod registry;
mod retrain;
mod rollout;
mod scoring_golden;
mod serve;
mod serve_faults;
#[cfg(feature = "gui")]
mod window;
