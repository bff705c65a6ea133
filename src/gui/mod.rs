//! The desktop app (eframe/egui): a thin shell over [`crate::core`]. One struct per screen
//! ([`panels`]), one enum of actions ([`command::Command`]) carried out in one place
//! ([`app::MiradorApp::handle`]), long work in named background jobs ([`jobs`]), all text in
//! English and Spanish ([`i18n`]), the workspace saved across restarts ([`state`]).

mod actions;
mod actions_registry;
mod actions_serve;
pub mod app;
mod autopilot;
pub mod command;
pub mod ctx;
pub mod files;
pub mod fonts;
mod handle;
pub mod i18n;
pub mod jobs;
mod layout;
pub mod outputs;
pub mod panels;
mod route;
pub mod shots;
pub mod stamp;
pub mod state;
pub mod tab;
pub mod table;
pub mod widgets;
pub mod words;

use std::path::PathBuf;
use std::process::ExitCode;

pub use app::MiradorApp;
pub use command::Tab;
pub use shots::Autopilot;
pub use state::Workspace;

/// Where the samples live: the working directory when it has them, else the source checkout.
pub fn samples_root() -> PathBuf {
    let cwd = PathBuf::from(".");
    if cwd.join("sample-models").is_dir() { cwd } else { PathBuf::from(env!("CARGO_MANIFEST_DIR")) }
}

/// Open the window; returns when it is closed. `open` are models to open (`mirador churn.onnx`,
/// as Netron does), beside the saved workspace's. With `autopilot`, show one screen with its work
/// done, save a screenshot and close (a fresh workspace: the samples, not the saved state).
pub fn run(
    autopilot: Option<Autopilot>,
    open: Vec<PathBuf>,
    launcher: Option<crate::core::serving::launch::Launcher>,
) -> ExitCode {
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default().with_title("Mirador").with_inner_size([1280.0, 900.0]),
        persist_window: autopilot.is_none(),
        ..Default::default()
    };
    let result = eframe::run_native(
        "Mirador",
        options,
        Box::new(move |cc| {
            let root = samples_root();
            let saved = cc.storage.and_then(|s| eframe::get_value::<Workspace>(s, state::STORAGE_KEY));
            let mut ws = match (&autopilot, saved) {
                (None, Some(ws)) => ws,
                _ => Workspace::first_run(&root),
            };
            for path in open.iter().map(|p| files::canonical(p)) {
                if !ws.models.contains(&path) {
                    ws.models.push(path.clone());
                }
                ws.selected = ws.models.iter().position(|m| m == &path).unwrap_or(0);
                ws.tab = Tab::Model;
            }
            let mut app = MiradorApp::new(ws, root);
            if let Some(launcher) = launcher {
                app = app.with_launcher(launcher);
            }
            Ok(Box::new(match autopilot {
                Some(a) => app.with_autopilot(a),
                None => app,
            }))
        }),
    );
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!(
                "error: could not open the window: {e}\n(on a machine without a display, use a subcommand: mirador --help)"
            );
            ExitCode::FAILURE
        }
    }
}
