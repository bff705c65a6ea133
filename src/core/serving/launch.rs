//! How the window starts and stops a server without depending on the server's code: the binary
//! hands the window a [`Launcher`] (the server shell's `start`), and the window holds the
//! [`ServerHandle`] it returns. The server runs on its own threads; nothing here waits on it.

use std::sync::Arc;

use super::config::ServeConfig;
use super::stats::ServeStats;
use crate::core::error::Result;

/// A running server.
pub trait ServerHandle: Send {
    /// Its base URL, e.g. `http://127.0.0.1:8080`.
    fn url(&self) -> String;
    /// The models it serves: (name, version).
    fn models(&self) -> Vec<(String, String)>;
    /// Its live figures.
    fn stats(&self) -> Arc<ServeStats>;
    /// Its routes (each served name, with its champion and any challenger).
    fn routes(&self) -> Vec<Arc<super::route::Route>>;
    /// Its realised metrics from late labels, and their alerts.
    fn quality(&self) -> Arc<super::quality::QualityState>;
    /// Its prediction log folder, when it keeps one.
    fn log_dir(&self) -> Option<std::path::PathBuf>;
    /// Stop accepting, let in-flight requests finish, flush the log; returns when stopped.
    fn stop(self: Box<Self>) -> Result<()>;
}

/// Starts a server with a config; returns once it is ready (models loaded and warmed).
pub type Launcher = Arc<dyn Fn(ServeConfig) -> Result<Box<dyn ServerHandle>> + Send + Sync>;
