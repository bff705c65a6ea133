//! Mirador's headless core: models, data, scoring — and, as they arrive, metrics, drift, registry and
//! bundles. Nothing here imports egui, eframe or rfd; the GUI, the CLI and the tests all call in here.
//!
//! ```no_run
//! use mirador::core::{CancelToken, Model, ScoreOptions, score_file};
//! let model = Model::load("sample-models/churn_v1.onnx")?;
//! let summary = score_file(
//!     &model,
//!     "sample-data/churn_current.csv".as_ref(),
//!     "predictions.csv".as_ref(),
//!     &ScoreOptions::default(),
//!     &CancelToken::new(),
//!     &mut |p| eprintln!("{} rows", p.rows_done),
//! )?;
//! println!("{} rows at {:.0} rows/s", summary.rows, summary.rows_per_sec);
//! # Ok::<(), mirador::core::Error>(())
//! ```

pub mod atomic;
pub mod bundle;
pub mod cancel;
pub mod card;
pub mod check;
pub mod command_template;
pub mod compare;
pub mod contract;
pub mod convert;
pub mod deadline;
pub mod drift;
pub mod error;
pub mod evaluate;
pub mod http;
pub mod metrics;
pub mod model;
pub mod monitor;
pub mod onnx_proto;
pub mod pool;
pub mod predict;
pub mod problem;
pub mod registry;
pub mod retrain;
pub mod rollout;
pub mod runtime;
pub mod score;
pub mod serving;
pub mod session;
pub mod settings;
pub mod table;
pub mod text;
pub mod writer;

pub use cancel::CancelToken;
pub use check::{CheckOptions, check_file};
pub use contract::{Binding, ColumnMapping, ContractReport, expected_columns, plan_binding};
pub use error::{Error, ErrorKind, Location, Result};
pub use evaluate::{EvaluateRequest, Evaluation, evaluate_file};
pub use model::{Model, ModelInfo, SessionOptions, Task};
pub use predict::{Predictor, predict_frame, predict_one};
pub use problem::{Problem, ProblemKind, Severity};
pub use score::{Progress, ScoreOptions, ScoreSummary, ScoredRows, score_file, score_file_observed, score_in_memory};
pub use session::{BatchPredictions, Prediction, output_columns};
pub use table::{Format, ReadPlan, TableReader, read_table, read_table_inferred};
