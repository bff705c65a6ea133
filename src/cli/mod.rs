//! The `mirador` command line. Every command is a thin layer over [`crate::core`]; `--json` prints the
//! machine-readable form. Exit codes: 0 success, 1 error, 2 usage error, 3 a check that did not pass,
//! 130 / 143 interrupted by SIGINT / SIGTERM (nothing half-written is left behind).
//!
//! The window and the server are started by the binary (`src/main.rs`), which parses with
//! [`Cli`] and hands every other command to [`run`].

mod args;
mod commands;
mod feedback;
mod render;
mod replay_args;
mod retrain;
mod retrain_args;
mod rollout;
mod serve_args;
mod signals;
mod versions;
mod versions_args;

use std::process::ExitCode;

pub use args::{Cli, CollectArgs, ColumnArgs, Command, EXIT_CHECK_FAILED, LabelledArgs, ServeArgs};
pub use versions_args::{BundleAction, RegistryAction};

/// Run one headless command and turn the outcome into an exit code; errors are printed once, to
/// stderr (with ONNX Runtime's raw text under `--verbose`).
pub fn run(command: Command, verbose: bool) -> ExitCode {
    let interrupt = signals::install();
    let outcome = commands::run(command, &interrupt.cancel);
    if let Some(code) = interrupt.exit_code() {
        crate::core::atomic::remove_live_temporaries();
        eprintln!("interrupted; nothing was left half-written");
        return ExitCode::from(code);
    }
    match outcome {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {}", if verbose { e.verbose() } else { e.to_string() });
            ExitCode::FAILURE
        }
    }
}
