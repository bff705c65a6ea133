//! `mirador retrain`: the user's training command on new data, the candidate gated against the
//! stage's version and promoted only when everything passes.

use std::process::ExitCode;

use super::args::EXIT_CHECK_FAILED;
use super::render::emit;
use super::retrain_args::RetrainArgs;
use crate::core::retrain::{RetrainReport, RetrainRequest, retrain};
use crate::core::rollout::strategy::parse_duration;
use crate::core::{CancelToken, Result};

/// Run it: exit 0 promoted (or passed, with `--no-promote`), 3 refused (by the gate or its
/// contract), 1 error (nothing registered).
pub fn run(args: &RetrainArgs, cancel: &CancelToken) -> Result<ExitCode> {
    let request = RetrainRequest {
        registry: args.registry.clone(),
        name: args.name.clone(),
        command: args.command.clone(),
        data: args.data.clone(),
        holdout: args.holdout.clone(),
        target: args.target.clone(),
        gate: args.gate.clone(),
        stage: args.promote_to.clone(),
        timeout: std::time::Duration::from_secs_f64(parse_duration(&args.timeout)?),
        allow_contract_change: args.allow_contract_change,
        bundle: args.bundle.clone(),
        promote: !args.no_promote,
    };
    // The training command's output, live, on stderr (stdout carries the report).
    let report = retrain(&request, cancel, &mut |line| eprintln!("  | {line}"))?;
    emit(args.json, &report, render)?;
    Ok(if report.passed { ExitCode::SUCCESS } else { ExitCode::from(EXIT_CHECK_FAILED) })
}

fn render(r: &RetrainReport) -> String {
    let mut s = format!("retrain {}: trained in {:.1} s (log: {})\n", r.run_id, r.duration_secs, r.run_log.display());
    for d in &r.contract_differences {
        s.push_str(&format!("contract: {d}\n"));
    }
    let shown = ["accuracy", "precision", "recall", "f1", "roc_auc", "mae", "rmse", "r2"];
    for (metric, candidate, champion) in r.metrics.iter().filter(|(m, _, _)| shown.contains(&m.as_str())) {
        let f = |v: &Option<f64>| v.map_or_else(|| "—".to_string(), |v| format!("{v:.4}"));
        s.push_str(&format!(
            "  {metric:<20} candidate {:>8}   version {} {:>8}\n",
            f(candidate),
            r.champion,
            f(champion)
        ));
    }
    for g in &r.gate {
        s.push_str(&format!("gate: {g}\n"));
    }
    match (r.candidate, r.promoted) {
        (Some(v), true) => s.push_str(&format!("promoted: version {v} is now {}\n", r.stage)),
        (Some(v), false) if r.passed => s.push_str(&format!(
            "passed, not promoted (--no-promote): version {v} is registered; {} stays version {} until `mirador registry promote {}@{v} --stage {}`\n",
            r.stage, r.champion, r.name, r.stage
        )),
        (Some(v), false) => s.push_str(&format!(
            "refused: version {v} is registered as a candidate; {} stays version {}\n",
            r.stage, r.champion
        )),
        (None, _) => s.push_str(&format!("refused: nothing registered; {} stays version {}\n", r.stage, r.champion)),
    }
    s
}
