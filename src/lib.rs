//! Mirador: take ONNX models from the analyst's laptop to production and keep watch over them there.
//!
//! - [`core`] — the headless engine (models, data, scoring); never imports the GUI toolkit.
//! - [`cli`] — the `mirador` command line over the core.
//! - [`gui`] — the desktop window over the core.

pub mod cli;
pub mod core;
pub mod gui;
