//! The subcommands' bodies.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::process::ExitCode;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::args::{ColumnArgs, Command, EXIT_CHECK_FAILED, LabelledArgs};
use super::render::{self, emit, say};
use crate::core::compare::{CompareRequest, GateRule, compare_files};
use crate::core::drift::profile::ReferenceProfile;
use crate::core::drift::{DriftOptions, drift_files};
use crate::core::monitor::{AlertRule, Chunking};
use crate::core::monitor::{MonitorRequest, monitor_files};
use crate::core::{
    CancelToken, CheckOptions, ColumnMapping, Error, EvaluateRequest, Model, Result, ScoreOptions, check_file,
    evaluate_file, predict_one, score_file,
};

/// Run one headless command; `cancel` is cancelled when the user interrupts (Ctrl+C).
pub fn run(command: Command, cancel: &CancelToken) -> Result<ExitCode> {
    match command {
        Command::Gui { .. } => Err(Error::Invalid(
            "this mirador was built without the window (cargo feature `gui`); use a subcommand — see mirador --help"
                .into(),
        )),
        Command::Serve(_) | Command::Collect(_) => {
            Err(Error::internal("mirador serve and collect are started by the binary, not the command line"))
        }
        Command::Replay(args) => super::rollout::run(*args, cancel),
        Command::Rollout(args) => super::rollout::admin(&args),
        Command::Feedback(args) => super::feedback::run(&args),
        Command::Retrain(args) => super::retrain::run(&args, cancel),
        Command::Registry { dir, action } => super::versions::registry(dir, action, cancel),
        Command::Bundle { registry, action } => super::versions::bundle(registry, action),
        Command::Inspect { model, json } => {
            let model = Model::load(&model)?;
            emit(json, model.info(), render::model_info)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Check { model, input, columns, max_rows, json } => {
            let model = Model::load(&model)?;
            let options = CheckOptions { max_rows, not_features: columns.id_cols.clone(), mapping: mapping(&columns)? };
            let report = check_file(model.info(), &input, &options, &mut |_, _| cancel.check())?;
            emit(json, &report, render::contract_report)?;
            Ok(if report.passed() { ExitCode::SUCCESS } else { ExitCode::from(EXIT_CHECK_FAILED) })
        }
        Command::Predict { model, values, columns, json } => {
            let model = Model::load(&model)?;
            let row = parse_values(&values)?;
            let mapping = mapping(&columns)?;
            let given: Vec<String> = row.keys().cloned().collect();
            if let Some(e) = crate::core::predict::unread_column(&model, &given, &mapping) {
                return Err(e);
            }
            let prediction = predict_one(&model, &row, &mapping)?;
            emit(json, &prediction, render::prediction)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Evaluate { model, labelled, columns, json } => {
            let model = Model::load(&model)?;
            let request = evaluate_request(&labelled, &columns)?;
            let data = labelled.data;
            let bar = progress_bar();
            let evaluation = evaluate_file(&model, &data, &request, cancel, &mut |p| {
                bar.set_position((p.fraction * 1000.0) as u64);
            });
            bar.finish_and_clear();
            let evaluation = evaluation?;
            emit(json, &evaluation, render::evaluation)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Compare { models, labelled, gate, latency_rows, columns, json } => {
            let models = models.iter().map(Model::load).collect::<Result<Vec<_>>>()?;
            let request = CompareRequest {
                evaluate: evaluate_request(&labelled, &columns)?,
                gate: gate.as_deref().map(GateRule::parse_all).transpose()?.unwrap_or_default(),
                latency_rows,
                max_flips: 1000,
                id_column: columns.id_cols.first().cloned(),
            };
            let data = labelled.data;
            let comparison = compare_files(&models, &data, &request, cancel, &mut |_, _| {})?;
            emit(json, &comparison, render::comparison)?;
            Ok(if comparison.passed { ExitCode::SUCCESS } else { ExitCode::from(EXIT_CHECK_FAILED) })
        }
        Command::Profile { reference, output, exclude } => {
            let frame = crate::core::drift::read_rows(&reference, &exclude)?;
            let source = reference.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default();
            let profile = ReferenceProfile::from_frame(&frame, &source, &exclude)?;
            profile.save(&output)?;
            say(&format!(
                "profiled {} rows, {} columns -> {}\n",
                profile.rows,
                profile.columns.len(),
                output.display()
            ))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Drift { reference, current, exclude, drift_share, chunk, time_col, model, target, alert, json } => {
            let options = DriftOptions { exclude, drift_share, ..DriftOptions::default() };
            options.check()?;
            if let Some(chunk) = chunk {
                // A prediction log is chunked by its logged time unless told otherwise.
                let log = crate::core::monitor::served::is_prediction_log(&current);
                let time_col = time_col.or_else(|| log.then(|| "time".to_string()));
                let chunking = Chunking::parse(&chunk, time_col.as_deref())?;
                let rules = alert.as_deref().map(AlertRule::parse_all).transpose()?.unwrap_or_default();
                let request = MonitorRequest { reference, current, chunking, options, model, target, rules };
                let report = monitor_files(&request, &mut |_, _| cancel.check())?;
                emit(json, &report, render::monitor)?;
                return Ok(if report.alerts.is_empty() {
                    ExitCode::SUCCESS
                } else {
                    ExitCode::from(EXIT_CHECK_FAILED)
                });
            }
            let report = drift_files(&reference, &current, &options)?;
            emit(json, &report, render::drift)?;
            Ok(if report.dataset_drift { ExitCode::from(EXIT_CHECK_FAILED) } else { ExitCode::SUCCESS })
        }
        Command::Score { model, input, output, columns, batch_size, threads, inference_timeout, quarantine, json } => {
            let model = Model::load(&model)?;
            let options = ScoreOptions {
                id_columns: columns.id_cols.clone(),
                batch_size,
                workers: threads,
                mapping: mapping(&columns)?,
                inference_timeout: crate::core::settings::seconds("--inference-timeout", inference_timeout)?,
                quarantine,
            };
            let bar = progress_bar();
            let summary = score_file(&model, &input, &output, &options, cancel, &mut |p| {
                bar.set_position((p.fraction * 1000.0) as u64);
                bar.set_message(format!("{} rows, {:.0} rows/s", p.rows_done, p.rows_per_sec));
            });
            bar.finish_and_clear();
            let summary = summary?;
            for note in &summary.notes {
                eprintln!("note: {note}");
            }
            emit(json, &summary, render::score_summary)?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// The evaluation request `evaluate` and `compare` share.
fn evaluate_request(labelled: &LabelledArgs, columns: &ColumnArgs) -> Result<EvaluateRequest> {
    let mut request = EvaluateRequest {
        target: labelled.target.clone(),
        positive: labelled.positive.clone(),
        ..EvaluateRequest::default()
    };
    request.options.threshold = labelled.threshold;
    request.options.bootstrap.resamples = labelled.bootstrap;
    request.options.bootstrap.seed = labelled.seed;
    if labelled.intervals == "roc_auc" {
        request.options.bootstrap.scope = crate::core::metrics::IntervalScope::RocAuc;
    }
    request.score.id_columns = columns.id_cols.clone();
    request.score.mapping = mapping(columns)?;
    Ok(request)
}

fn mapping(args: &ColumnArgs) -> Result<ColumnMapping> {
    let mut mapping = ColumnMapping::default();
    for arg in &args.columns {
        mapping.add_arg(arg)?;
    }
    Ok(mapping)
}

/// `col=v,col=v` or a JSON object of scalars.
fn parse_values(text: &str) -> Result<BTreeMap<String, String>> {
    let text = text.trim();
    if text.starts_with('{') {
        let map: BTreeMap<String, serde_json::Value> =
            serde_json::from_str(text).map_err(|e| Error::Invalid(format!("--values is not a JSON object: {e}")))?;
        return Ok(map
            .into_iter()
            .map(|(k, v)| {
                let v = match v {
                    serde_json::Value::String(s) => s,
                    serde_json::Value::Null => String::new(),
                    other => other.to_string(),
                };
                (k, v)
            })
            .collect());
    }
    let mut row = BTreeMap::new();
    for pair in text.split(',').filter(|p| !p.trim().is_empty()) {
        let (k, v) = pair.split_once('=').ok_or_else(|| {
            Error::Invalid(format!("--values expects col=value pairs separated by commas; '{pair}' has no '='"))
        })?;
        row.insert(k.trim().to_string(), v.trim().to_string());
    }
    if row.is_empty() {
        return Err(Error::Invalid("--values is empty".into()));
    }
    Ok(row)
}

fn progress_bar() -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(1000), ProgressDrawTarget::stderr());
    if !std::io::stderr().is_terminal() {
        bar.set_draw_target(ProgressDrawTarget::hidden());
    }
    if let Ok(style) =
        ProgressStyle::with_template("{spinner} [{elapsed_precise}] {bar:40} {percent:>3}% {msg} (ETA {eta})")
    {
        bar.set_style(style);
    }
    bar
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_parse_from_pairs_and_json() {
        let row = parse_values("a=1, b = x").unwrap();
        assert_eq!(row.get("b").map(String::as_str), Some("x"));
        let row = parse_values(r#"{"a": 1.5, "b": "x", "c": null}"#).unwrap();
        assert_eq!(row.get("a").map(String::as_str), Some("1.5"));
        assert_eq!(row.get("c").map(String::as_str), Some(""));
        assert!(parse_values("a").is_err());
    }
}
