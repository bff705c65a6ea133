//! Retraining: the user's own training command run on new data, and its model let through only when
//! it is as good as the one it would replace — what `mirador retrain` does.
//!
//! 1. The command is an argv template (`python train.py --data {data} --out {output}`): split like a
//!    shell line but run without a shell, each placeholder substituted whole (an argument naming a
//!    file that exists relative to where Mirador runs is made absolute), in a fresh working
//!    folder, with a clean environment (`PATH`, `HOME`, `LANG`, `PYTHONPATH`, `VIRTUAL_ENV` kept) plus
//!    `MIRADOR_DATA`, `MIRADOR_OUTPUT`, `MIRADOR_HOLDOUT`, `MIRADOR_RUN_ID`, `MIRADOR_PARENT_VERSION`,
//!    in a process group of its own that a timeout (or a cancel) kills whole. Its output goes to a run
//!    log in the registry (`runs/<run>.log`) and to the caller line by line.
//! 2. The model it writes is loaded (a corrupt file is refused) and its contract compared with the
//!    champion's: the same inputs (names and types) and the same classes, or the differences named.
//! 3. Candidate and champion are compared on the holdout with the promotion gate.
//! 4. The candidate is registered with its lineage, then promoted to the stage when everything
//!    passed (unless the caller promotes it itself: the window asks first); otherwise the
//!    refusal, with every failing rule, goes in the registry's history and the stage keeps its
//!    version. A run that fails, times out or writes no model registers nothing, and
//!    its working folder is removed.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde::Serialize;

use super::cancel::CancelToken;
use super::command_template::substitute;
use super::compare::{CompareRequest, Comparison, GateRule, compare_files};
use super::error::{Error, Result};
use super::evaluate::EvaluateRequest;
use super::model::Model;
use super::model::info::{IoType, ModelInfo, Task};
use super::registry::{GateRecord, Lineage, Registration, Registry, current_user};

/// What to retrain, and how to judge it.
#[derive(Debug, Clone, PartialEq)]
pub struct RetrainRequest {
    /// The registry folder.
    pub registry: PathBuf,
    /// The registered model's name.
    pub name: String,
    /// The training command template, as one line (split like a shell line, run without a shell).
    pub command: String,
    /// The new training data.
    pub data: PathBuf,
    /// Labelled data the candidate and the champion are compared on.
    pub holdout: PathBuf,
    /// The holdout's label column.
    pub target: String,
    /// Promotion rules, `;`-separated (`roc_auc >= champion - 0.005; recall drop <= 2%`).
    pub gate: String,
    /// The stage the candidate would replace (its version is the champion and the parent).
    pub stage: String,
    /// Longest the training command may run.
    pub timeout: Duration,
    /// Accept a candidate whose contract differs from the champion's (the differences are still
    /// reported).
    pub allow_contract_change: bool,
    /// The champion's bundle (folder or `.tar.gz`): its golden rows must go through the candidate.
    pub bundle: Option<PathBuf>,
    /// Promote a candidate that passes (the command line's default); otherwise it is registered and
    /// judged, and promoting it is left to the caller (the window's Promote button).
    pub promote: bool,
}

/// What a retrain did.
#[derive(Debug, Clone, Serialize)]
pub struct RetrainReport {
    /// The registered model's name.
    pub name: String,
    /// The run's id.
    pub run_id: String,
    /// The champion it was judged against (the stage's version), the candidate's parent.
    pub champion: u32,
    /// The candidate's version, when it was registered.
    pub candidate: Option<u32>,
    /// Whether it passed every check (contract, golden rows, gate).
    pub passed: bool,
    /// Whether it was promoted to the stage.
    pub promoted: bool,
    /// The stage.
    pub stage: String,
    /// The command as run.
    pub command: Vec<String>,
    /// Seconds the training command took.
    pub duration_secs: f64,
    /// The run log.
    pub run_log: PathBuf,
    /// How the candidate's contract differs from the champion's.
    pub contract_differences: Vec<String>,
    /// Each gate rule's outcome, in words.
    pub gate: Vec<String>,
    /// The candidate's metrics on the holdout, and the champion's.
    pub metrics: Vec<(String, Option<f64>, Option<f64>)>,
    /// Why it was refused, when it was.
    pub refused_because: Vec<String>,
    /// The gate's outcome as the registry keeps it (promoting a candidate that passed records it).
    pub gate_record: Option<GateRecord>,
    /// The whole comparison on the holdout — metrics with paired intervals, curves, agreement and
    /// flipped rows, latency — for the window's Compare view (not in the JSON report).
    #[serde(skip)]
    pub comparison: Option<Comparison>,
}

/// Retrain `request.name`; `line` gets the training command's output as it comes. Errors: the run
/// failed (non-zero exit, timeout, cancel, no model or a corrupt one) — nothing registered.
pub fn retrain(request: &RetrainRequest, cancel: &CancelToken, line: &mut dyn FnMut(&str)) -> Result<RetrainReport> {
    let registry = Registry::open(&request.registry);
    let entry = registry.entry(&request.name)?;
    let champion_version = *entry.stages.get(&request.stage).ok_or_else(|| {
        Error::Invalid(format!(
            "{} has no stage '{}' to retrain against; promote a version to it first",
            request.name, request.stage
        ))
    })?;
    let gate = GateRule::parse_all(&request.gate)?;
    let template = shlex::split(&request.command).filter(|a| !a.is_empty()).ok_or_else(|| {
        Error::Invalid(format!("cannot read the training command '{}' (an unclosed quote?)", request.command))
    })?;
    for path in [&request.data, &request.holdout] {
        if !path.is_file() {
            return Err(Error::io("read the data", path, std::io::Error::from(std::io::ErrorKind::NotFound)));
        }
    }
    let champion = registry.load(&request.name, champion_version)?;

    let run_id = format!("{}-{}", chrono::Utc::now().format("%Y%m%dT%H%M%SZ"), std::process::id());
    let runs = request.registry.join("runs");
    std::fs::create_dir_all(&runs).map_err(|e| Error::io("create the run log folder", &runs, e))?;
    let run_log = runs.join(format!("{}-{run_id}.log", request.name));
    let work = tempfile::Builder::new()
        .prefix(&format!(".retrain-{run_id}-"))
        .tempdir_in(&runs)
        .map_err(|e| Error::io("create the working folder", &runs, e))?;
    let output = work.path().join("model.onnx");
    let absolute = |p: &Path| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
    let values = [
        absolute(&request.data).display().to_string(),
        output.display().to_string(),
        absolute(&request.holdout).display().to_string(),
        run_id.clone(),
        work.path().display().to_string(),
        champion_version.to_string(),
    ];
    let argv = substitute(&template, &values)?;

    let started = Instant::now();
    let ran = run_command(&argv, work.path(), &values, &run_log, request.timeout, cancel, line);
    let duration_secs = started.elapsed().as_secs_f64();
    ran?;
    if !output.is_file() {
        return Err(Error::Invalid(format!(
            "the training command exited 0 but wrote no model at {{output}}; see the run log {}",
            run_log.display()
        )));
    }
    let candidate = Model::load(&output).map_err(|e| {
        Error::Invalid(format!(
            "the model the training command wrote cannot be used: {e}; see the run log {}",
            run_log.display()
        ))
    })?;
    let mut differences = contract_differences(champion.info(), candidate.info());
    if let Some(bundle) = &request.bundle {
        let opened = super::bundle::open_verified(bundle)?;
        let (_, problems) = super::bundle::golden_rows_contract(&opened.dir, &candidate)?;
        differences.extend(problems);
    }
    let mut report = RetrainReport {
        name: request.name.clone(),
        run_id: run_id.clone(),
        champion: champion_version,
        candidate: None,
        passed: false,
        promoted: false,
        stage: request.stage.clone(),
        command: argv.clone(),
        duration_secs,
        run_log: run_log.clone(),
        contract_differences: differences.clone(),
        gate: Vec::new(),
        metrics: Vec::new(),
        refused_because: Vec::new(),
        gate_record: None,
        comparison: None,
    };
    let by = current_user();
    if !differences.is_empty() && !request.allow_contract_change {
        report.refused_because = differences.iter().map(|d| format!("contract: {d}")).collect();
        let reason = format!(
            "retrain {run_id}: the candidate's contract differs from version {champion_version}'s: {}",
            differences.join("; ")
        );
        registry.record_refusal(&request.name, None, &request.stage, &by, &reason, None)?;
        return Ok(report);
    }

    let compare = CompareRequest {
        evaluate: EvaluateRequest { target: request.target.clone(), ..Default::default() },
        gate,
        latency_rows: 200,
        max_flips: 500,
        id_column: None,
    };
    let comparison = compare_files(&[champion, candidate], &request.holdout, &compare, cancel, &mut |_, _| {})?;
    let record = gate_record(&comparison, &request.holdout, &request.gate)?;
    report.gate = record.results.clone();
    report.metrics = metric_pairs(&comparison);
    let log_sha = super::bundle::file_sha256(&run_log)?;
    let data_sha = super::bundle::file_sha256(&request.data)?;
    let file_name = |p: &Path| p.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default();
    let holdout_sha = super::bundle::file_sha256(&request.holdout)?;
    let registration = Registration {
        by: by.clone(),
        note: format!("retrained by run {run_id} on {}", file_name(&request.data)),
        replaces: Some(champion_version),
        training_command: Some(argv.join(" ")),
        evaluated_on: Some((file_name(&request.holdout), holdout_sha)),
        metrics: comparison.models.get(1).map(|m| metrics_of(&m.evaluation)).unwrap_or_default(),
        lineage: Some(Lineage {
            run_id: run_id.clone(),
            command: argv,
            data: (file_name(&request.data), data_sha),
            parent: Some(champion_version),
            run_log: (format!("runs/{}", file_name(&run_log)), log_sha),
            duration_secs,
        }),
    };
    let version = registry.add(&request.name, &output, &registration)?;
    report.candidate = Some(version);
    report.passed = comparison.passed;
    report.gate_record = Some(record.clone());
    if comparison.passed && request.promote {
        let reason = format!(
            "retrain {run_id}: passed the gate against version {champion_version} on {}",
            file_name(&request.holdout)
        );
        registry.promote_gated(&request.name, version, &request.stage, &by, &reason, Some(record))?;
        report.promoted = true;
    } else if !comparison.passed {
        report.refused_because = record.results.iter().filter(|r| r.starts_with("FAIL")).cloned().collect();
        let reason = format!("retrain {run_id}: version {version} failed the gate against version {champion_version}");
        registry.record_refusal(&request.name, Some(version), &request.stage, &by, &reason, Some(record))?;
    }
    report.comparison = Some(comparison);
    Ok(report)
}

/// The gate's outcome as the registry keeps it.
pub fn gate_record(comparison: &Comparison, data: &Path, rules: &str) -> Result<GateRecord> {
    let file = data.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default();
    let sha = super::bundle::file_sha256(data)?;
    Ok(GateRecord {
        passed: comparison.passed,
        data: format!("{file} (SHA-256 {})", &sha[..12]),
        rules: rules.to_string(),
        results: comparison
            .gate
            .iter()
            .flat_map(|v| v.results.iter())
            .map(|r| format!("{} {} — {}", if r.passed { "pass" } else { "FAIL" }, r.rule, r.reason))
            .collect(),
        override_reason: None,
    })
}

/// (metric, candidate, champion) for every metric both have.
fn metric_pairs(comparison: &Comparison) -> Vec<(String, Option<f64>, Option<f64>)> {
    let (Some(champion), Some(candidate)) = (comparison.models.first(), comparison.models.get(1)) else {
        return Vec::new();
    };
    let (a, b) = (metrics_of(&champion.evaluation), metrics_of(&candidate.evaluation));
    b.iter().map(|(k, v)| (k.clone(), *v, a.get(k).copied().flatten())).collect()
}

/// An evaluation's metrics by name.
fn metrics_of(e: &super::evaluate::Evaluation) -> std::collections::BTreeMap<String, Option<f64>> {
    match e {
        super::evaluate::Evaluation::Classification(r) => r.metrics.clone(),
        super::evaluate::Evaluation::Regression(r) => r.metrics.clone(),
    }
}

/// Run `argv` in `dir` in a process group of its own, its output to `log` and `line`; kill the
/// whole group at the timeout or a cancel.
fn run_command(
    argv: &[String],
    dir: &Path,
    values: &[String; 6],
    log: &Path,
    timeout: Duration,
    cancel: &CancelToken,
    line: &mut dyn FnMut(&str),
) -> Result<()> {
    use std::os::unix::process::CommandExt;
    let mut file = std::fs::File::create(log).map_err(|e| Error::io("write the run log", log, e))?;
    let _ = writeln!(
        file,
        "$ {}",
        argv.iter()
            .map(|a| shlex::try_quote(a).map_or_else(|_| a.clone(), |q| q.into_owned()))
            .collect::<Vec<_>>()
            .join(" ")
    );
    let mut command = Command::new(&argv[0]);
    command.args(&argv[1..]).current_dir(dir).env_clear().process_group(0);
    for key in ["PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "PYTHONPATH", "VIRTUAL_ENV"] {
        if let Some(v) = std::env::var_os(key) {
            command.env(key, v);
        }
    }
    for (key, value) in ["MIRADOR_DATA", "MIRADOR_OUTPUT", "MIRADOR_HOLDOUT", "MIRADOR_RUN_ID"].iter().zip(values) {
        command.env(key, value);
    }
    command.env("MIRADOR_PARENT_VERSION", &values[5]);
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| Error::Invalid(format!("cannot start the training command '{}': {e}", argv[0])))?;
    let group = child.id();
    let (tx, rx) = crossbeam_channel::bounded::<String>(1024);
    let mut readers = Vec::new();
    for (stream, name) in [
        (child.stdout.take().map(|s| Box::new(s) as Box<dyn std::io::Read + Send>), "stdout"),
        (child.stderr.take().map(|s| Box::new(s) as Box<dyn std::io::Read + Send>), "stderr"),
    ] {
        let (Some(stream), tx) = (stream, tx.clone()) else { continue };
        let reader = std::thread::Builder::new()
            .name(format!("mirador-retrain-{name}"))
            .spawn(move || {
                for l in BufReader::new(stream).lines().map_while(std::result::Result::ok) {
                    if tx.send(l).is_err() {
                        break;
                    }
                }
            })
            .map_err(|e| Error::internal(format!("cannot read the training command's output: {e}")))?;
        readers.push(reader);
    }
    drop(tx);
    let started = Instant::now();
    let mut stopped: Option<String> = None;
    let status = loop {
        while let Ok(l) = rx.try_recv() {
            let _ = writeln!(file, "{l}");
            line(&l);
        }
        if let Some(status) =
            child.try_wait().map_err(|e| Error::internal(format!("cannot wait for the training command: {e}")))?
        {
            break status;
        }
        let why = if started.elapsed() > timeout {
            Some(format!(
                "it ran past its timeout of {:.0} s and was killed with its whole process group",
                timeout.as_secs_f64()
            ))
        } else if cancel.is_cancelled() {
            Some("it was cancelled and killed with its whole process group".to_string())
        } else {
            None
        };
        if let Some(why) = why.filter(|_| stopped.is_none()) {
            kill_group(group);
            stopped = Some(why);
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    // The group may outlive its leader (a child in the background): kill what is left of it.
    kill_group(group);
    for r in readers {
        let _ = r.join();
    }
    while let Ok(l) = rx.try_recv() {
        let _ = writeln!(file, "{l}");
        line(&l);
    }
    let verdict = match (&stopped, status.code()) {
        (Some(why), _) => Some(format!("the training command stopped: {why}")),
        (None, Some(0)) => None,
        (None, Some(code)) => Some(format!("the training command failed with exit code {code}")),
        (None, None) => Some("the training command was killed by a signal".to_string()),
    };
    let _ = writeln!(file, "# {}", verdict.as_deref().unwrap_or("the training command finished (exit code 0)"));
    let _ = file.sync_all();
    match verdict {
        Some(_) if stopped.is_some() && cancel.is_cancelled() => Err(Error::Cancelled),
        Some(v) => Err(Error::Invalid(format!("{v}; nothing was registered — see the run log {}", log.display()))),
        None => Ok(()),
    }
}

/// SIGKILL to every process of group `group` (ignored when none is left).
fn kill_group(group: u32) {
    let _ = Command::new("kill")
        .args(["-KILL", "--", &format!("-{group}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

/// How `candidate`'s contract differs from `champion`'s: inputs added, removed or of another type;
/// another task or other classes.
pub fn contract_differences(champion: &ModelInfo, candidate: &ModelInfo) -> Vec<String> {
    let describe = |t: &IoType| format!("{t:?}");
    let mut out = Vec::new();
    for i in &champion.inputs {
        match candidate.inputs.iter().find(|c| c.name == i.name) {
            None => out.push(format!("input '{}' is gone", i.name)),
            Some(c) if describe(&c.ty) != describe(&i.ty) => {
                out.push(format!("input '{}' is {} instead of {}", i.name, describe(&c.ty), describe(&i.ty)));
            }
            Some(_) => {}
        }
    }
    for c in &candidate.inputs {
        if !champion.inputs.iter().any(|i| i.name == c.name) {
            out.push(format!("input '{}' is new", c.name));
        }
    }
    match (&champion.task, &candidate.task) {
        (Task::Classification { classes: a, .. }, Task::Classification { classes: b, .. }) if a != b => {
            out.push(format!("the classes are {} instead of {}", b.join(", "), a.join(", ")));
        }
        (Task::Classification { .. }, Task::Regression { .. }) => {
            out.push("it is a regressor, not a classifier".into())
        }
        (Task::Regression { .. }, Task::Classification { .. }) => {
            out.push("it is a classifier, not a regressor".into())
        }
        _ => {}
    }
    out
}
