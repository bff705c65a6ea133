//! Every action the user can take, as one enum: menus, buttons, shortcuts and drops all send a
//! [`Command`], and [`crate::gui::app::MiradorApp::handle`] carries it out in one place.

use std::path::PathBuf;

use super::i18n::Lang;
use super::jobs::JobId;
pub use super::tab::{DataSlot, Tab};

/// Something to export.
#[derive(Debug, Clone, PartialEq)]
pub enum Export {
    /// The scored predictions (CSV or Parquet).
    Predictions,
    /// The comparison's metric table (CSV).
    CompareTable,
    /// The monitor's drift table (CSV).
    DriftTable,
    /// The contract check's problems (CSV).
    ProblemsTable,
    /// The selected model's card (Markdown).
    ModelCard,
    /// The reference profile of the monitor's reference data (JSON).
    ReferenceProfile,
    /// A plot as shown on screen (PNG), by where it is, in points.
    Plot(egui::Rect),
    /// A deployment bundle (a folder, with the Monitor's reference data and the Compare target).
    Bundle(crate::core::bundle::ModelSource),
}

impl Export {
    /// The kind of thing exported (for remembering where such files were saved last).
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Predictions => "predictions",
            Self::CompareTable | Self::DriftTable | Self::ProblemsTable => "table",
            Self::ModelCard => "card",
            Self::ReferenceProfile => "profile",
            Self::Plot(_) => "plot",
            Self::Bundle(_) => "bundle",
        }
    }
}

/// An action, handled by the app in one place.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// Ask for a model file (native dialog, else the in-app picker).
    OpenModelDialog,
    /// Open the model at this path (in a job).
    OpenModel(PathBuf),
    /// Close the model at this index.
    CloseModel(usize),
    /// Make this model the current one.
    SelectModel(usize),
    /// Ask for a data file for `slot`.
    OpenDataDialog(DataSlot),
    /// Use this data file for `slot`.
    SetData(DataSlot, PathBuf),
    /// Run the contract check of the score file against the current model.
    CheckData,
    /// Score the score file with the current model.
    Score,
    /// Predict the form's row with the current model.
    PredictRow,
    /// Prepare the prediction form of the current model.
    LoadFormDefaults,
    /// Fill the prediction form with row N (1-based) of the Score screen's data file.
    LoadFormRow(u64),
    /// Read a page of a table kept in a file (rows `page * PAGE_ROWS ..`).
    LoadPage(PathBuf, usize),
    /// Show the predictions sorted by a column.
    SortTable(crate::core::writer::SortOrder),
    /// Compare the models ticked for comparison.
    Compare,
    /// Run the monitor.
    Monitor,
    /// Run whatever the current screen runs (Ctrl+Enter).
    RunCurrent,
    /// Stop a job.
    CancelJob(JobId),
    /// Stop every running job (Esc).
    CancelAll,
    /// Forget finished jobs.
    ClearFinishedJobs,
    /// Ask where to save, then save.
    ExportDialog(Export),
    /// Save to this path (in a job).
    ExportTo(Export, PathBuf),
    /// Save a plot, as shown, to a PNG file chosen by the user.
    SavePlot {
        /// What the plot shows (used for the file name).
        name: String,
        /// Where it is on screen, in points.
        rect: egui::Rect,
    },
    /// Show a screen.
    SetTab(Tab),
    /// Switch the UI language.
    SetLanguage(Lang),
    /// Switch between light and dark.
    ToggleTheme,
    /// Dismiss a notification.
    Dismiss(usize),
    /// Read the registry again.
    RefreshRegistry,
    /// Close the window (File ▸ Quit).
    Quit,
    /// Start serving with this config (in a job).
    StartServer(Box<crate::core::serving::config::ServeConfig>),
    /// Stop the running server (in a job).
    StopServer,
    /// Promote, abort or weigh a live route's challenger (in a job: it writes the registry).
    RouteAction(RouteRef, crate::core::serving::controller::Action),
    /// Replay a rollout on recorded traffic (in a job).
    Replay(Box<ReplaySpec>),
    /// Register the current model under a name.
    Register {
        /// The registry name.
        name: String,
        /// Why.
        note: String,
    },
    /// Retrain a registered model: its training command, the candidate gated and promoted.
    Retrain(Box<crate::core::retrain::RetrainRequest>),
    /// Run the promotion gate: `name@version` against the version `stage` holds now.
    CheckGate {
        /// The model's name.
        name: String,
        /// The candidate version.
        version: u32,
        /// The stage.
        stage: String,
    },
    /// Point `stage` at `name@version`.
    Promote {
        /// The model's name.
        name: String,
        /// The version.
        version: u32,
        /// The stage.
        stage: String,
        /// Why.
        reason: String,
        /// The gate behind it (an override when it failed), recorded in the history.
        gate: Option<Box<crate::core::registry::GateRecord>>,
    },
    /// Put `stage` back to its previous version.
    Rollback {
        /// The model's name.
        name: String,
        /// The stage.
        stage: String,
        /// Why.
        reason: String,
    },
}

/// A live route, compared by identity.
#[derive(Debug, Clone)]
pub struct RouteRef(pub std::sync::Arc<crate::core::serving::route::Route>);

impl PartialEq for RouteRef {
    fn eq(&self, other: &Self) -> bool {
        std::sync::Arc::ptr_eq(&self.0, &other.0)
    }
}

/// A replay to run: the two versions (files or registry references) and the rollout to play.
#[derive(Debug, Clone, PartialEq)]
pub struct ReplaySpec {
    /// The champion: a model file, or `NAME@STAGE` / `NAME@VERSION`.
    pub champion: String,
    /// The challenger.
    pub challenger: String,
    /// The registry the references are in.
    pub registry: PathBuf,
    /// What to replay and how.
    pub request: crate::core::rollout::ReplayRequest,
    /// The settings, as text, that made it (the result is stale when they change).
    pub key: String,
}
