//! `mirador`: with no arguments, the desktop app; with a subcommand, the headless CLI. This file
//! wires the shells together (they never import each other).

use clap::Parser;

/// mimalloc: the server allocates many small buffers on several threads at once, where glibc's
/// allocator spent a quarter of its time (measured with perf under wrk).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
use mirador::cli::{Cli, Command};

/// ONNX Runtime 1.31's Linux build records telemetry events in a database under
/// `~/.cache/Microsoft/DeveloperTools/` (for upload) unless `ORT_DISABLE_TELEMETRY` is set when the
/// library loads; the API switch ort's `with_telemetry(false)` uses comes too late to stop it.
#[allow(unsafe_code)]
fn main() -> std::process::ExitCode {
    if std::env::var_os("ORT_DISABLE_TELEMETRY").is_none() {
        // SAFETY: the first statement of `main`: no other thread exists yet that could read the
        // environment while it changes.
        unsafe { std::env::set_var("ORT_DISABLE_TELEMETRY", "1") };
    }
    let cli = Cli::parse();
    match cli.command {
        #[cfg(feature = "gui")]
        None => mirador::gui::run(None, cli.files, Some(mirador::serve::launcher())),
        #[cfg(feature = "gui")]
        Some(Command::Gui { screen, screenshot }) => {
            let autopilot = screen.zip(screenshot).map(|(screen, path)| {
                let tab = mirador::gui::Tab::ALL.into_iter().find(|t| t.as_str() == screen).unwrap_or_default();
                mirador::gui::Autopilot::new(tab, path)
            });
            mirador::gui::run(autopilot, cli.files, Some(mirador::serve::launcher()))
        }
        Some(Command::Serve(args)) => match args.config() {
            Ok(config) => {
                let reread: Option<mirador::serve::Reread> =
                    args.config.is_some().then(|| Box::new(move || args.config()) as mirador::serve::Reread);
                mirador::serve::run(config, cli.verbose, reread)
            }
            Err(e) => {
                eprintln!("error: {e}");
                std::process::ExitCode::FAILURE
            }
        },
        Some(Command::Collect(args)) => match args.config() {
            Ok(config) => mirador::serve::run(config, cli.verbose, None),
            Err(e) => {
                eprintln!("error: {e}");
                std::process::ExitCode::FAILURE
            }
        },
        #[cfg(not(feature = "gui"))]
        None => mirador::cli::run(Command::Gui { screen: None, screenshot: None }, cli.verbose),
        Some(command) => mirador::cli::run(command, cli.verbose),
    }
}
