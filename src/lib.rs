//! Mirador: take ONNX models from the analyst's laptop to production and keep watch over them there.
//!
//! - [`core`] — the headless engine (models, data, scoring); never imports the GUI toolkit.
//! - [`cli`] — the `mirador` command line over the core.
//! - [`gui`] — the desktop window over the core (cargo feature `gui`).
//! - [`serve`] — `mirador serve`, the HTTP server over the core.
//!
//! The shells import the core and never each other; the binary (`src/main.rs`) wires them.

pub mod cli;
pub mod core;
#[cfg(feature = "gui")]
pub mod gui;
pub mod serve;
