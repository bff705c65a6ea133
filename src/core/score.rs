//! Batch scoring of a CSV or Parquet file of any size.
//!
//! Named threads overlap the stages, joined by bounded channels so memory stays flat:
//! `mirador-read` (cut and parse a batch) → `mirador-convert` (check values, build tensors) →
//! `mirador-infer-N` (one ONNX Runtime session each, single-threaded, taking batches in turn) → the
//! calling thread (puts batches back in order, reports progress) → `mirador-write` (format and
//! append). Output rows are in input order. The output file appears atomically at the end; an error
//! or a cancellation leaves no file behind.
//!
//! Why whole batches per worker rather than ONNX Runtime's intra-op threads: an intra-op parallel
//! step waits for its slowest thread, and on a machine whose cores the other stages share, one
//! preempted thread stalls them all. Independent single-threaded sessions never wait for each other.

use std::path::{Path, PathBuf};
use std::time::Instant;

use crossbeam_channel::{Receiver, Sender, bounded};
use polars::prelude::*;
use serde::Serialize;

use super::cancel::CancelToken;
use super::contract::{Binding, ColumnMapping, ContractReport, plan_binding};
use super::convert::{BatchContext, Findings, InputTensor, convert_batch};
use super::deadline::StopReason;
use super::error::{Error, Location, Result};
use super::model::Model;
use super::problem::Problem;
use super::session::{BatchPredictions, DEFAULT_INFERENCE_TIMEOUT, output_columns};
use super::settings;
use super::table::{Batch, ReadPlan, TableReader};
use super::writer::PredictionWriter;

/// Rows per batch unless asked otherwise: small enough that the workers finish together and the
/// pipeline fills quickly, large enough that per-batch costs vanish (measured on the sample models).
pub const DEFAULT_BATCH_SIZE: usize = 16_384;

/// How to score a file.
#[derive(Debug, Clone)]
pub struct ScoreOptions {
    /// Columns copied from the input to the output, before the predictions.
    pub id_columns: Vec<String>,
    /// Rows per batch (the memory knob).
    pub batch_size: usize,
    /// Inference workers, each an ONNX Runtime session with one thread (0 = one per core).
    pub workers: usize,
    /// Column names for packed inputs.
    pub mapping: ColumnMapping,
    /// How long one batch's inference may take before it is stopped (see [`crate::core::deadline`]).
    pub inference_timeout: std::time::Duration,
    /// Rows that fail the contract go to this file (CSV or Parquet: the row number, the rule that
    /// caught it, the row's values) and the others are scored; none: the first bad row fails the run.
    pub quarantine: Option<PathBuf>,
}

impl Default for ScoreOptions {
    fn default() -> Self {
        Self {
            id_columns: Vec::new(),
            batch_size: DEFAULT_BATCH_SIZE,
            workers: 0,
            mapping: ColumnMapping::default(),
            inference_timeout: DEFAULT_INFERENCE_TIMEOUT,
            quarantine: None,
        }
    }
}

/// Progress of a scoring run.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Progress {
    /// Rows scored and written so far.
    pub rows_done: u64,
    /// Total rows, when known in advance (Parquet).
    pub rows_total: Option<u64>,
    /// Share of the input consumed, 0..=1.
    pub fraction: f64,
    /// Seconds since the start.
    pub elapsed_secs: f64,
    /// Throughput so far.
    pub rows_per_sec: f64,
}

impl Progress {
    /// Estimated seconds left, from the fraction consumed.
    pub fn eta_secs(&self) -> Option<f64> {
        (self.fraction > 0.0 && self.fraction < 1.0).then(|| self.elapsed_secs * (1.0 - self.fraction) / self.fraction)
    }
}

/// What a finished scoring run did.
#[derive(Debug, Clone, Serialize)]
pub struct ScoreSummary {
    /// Model file.
    pub model: PathBuf,
    /// Input file.
    pub input: PathBuf,
    /// Output file.
    pub output: PathBuf,
    /// Rows scored.
    pub rows: u64,
    /// Batches.
    pub batches: u64,
    /// Wall time.
    pub elapsed_secs: f64,
    /// Throughput.
    pub rows_per_sec: f64,
    /// Output columns (after the id columns).
    pub prediction_columns: Vec<String>,
    /// Non-blocking problems seen in the data (unseen categories, infinities).
    pub warnings: Vec<Problem>,
    /// What the run adjusted or cleaned up on the way (a capped worker count, stale temporaries).
    pub notes: Vec<String>,
    /// Rows that failed the contract and went to the quarantine file instead.
    pub quarantined: u64,
    /// The quarantine file, when one was asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quarantine: Option<PathBuf>,
}

struct ReadBatch {
    first_row: u64,
    rows: usize,
    inputs: Vec<InputTensor>,
    ids: DataFrame,
    fraction: f64,
}

/// Where a run's predictions go.
enum Sink {
    /// Appended to a file that appears when the run completes.
    File(PredictionWriter),
    /// Kept in memory (evaluation, comparison).
    Memory(Vec<(DataFrame, BatchPredictions)>),
}

impl Sink {
    fn accept(&mut self, ids: DataFrame, pred: BatchPredictions, columns: &[String]) -> Result<()> {
        match self {
            Self::File(writer) => writer.write_predictions(&ids, &pred, columns),
            Self::Memory(batches) => {
                batches.push((ids, pred));
                Ok(())
            }
        }
    }
}

/// Predictions held in memory, with the requested pass-through columns.
#[derive(Debug, Clone)]
pub struct ScoredRows {
    /// The pass-through (`id_columns`) values, one row per input row.
    pub ids: DataFrame,
    /// The predictions, in input order.
    pub predictions: BatchPredictions,
}

/// Score `input` with `model` into `output`, calling `progress` after each batch.
pub fn score_file(
    model: &Model,
    input: &Path,
    output: &Path,
    options: &ScoreOptions,
    cancel: &CancelToken,
    progress: &mut dyn FnMut(&Progress),
) -> Result<ScoreSummary> {
    score_file_observed(model, input, output, options, cancel, progress, &mut |_| {})
}

/// [`score_file`], also handing every batch's predictions, in input order, to `observe` (the
/// window builds its score histogram this way, without keeping the predictions).
pub fn score_file_observed(
    model: &Model,
    input: &Path,
    output: &Path,
    options: &ScoreOptions,
    cancel: &CancelToken,
    progress: &mut dyn FnMut(&Progress),
    observe: &mut dyn FnMut(&BatchPredictions),
) -> Result<ScoreSummary> {
    if input.canonicalize().ok().is_some_and(|i| Some(i) == output.canonicalize().ok()) {
        return Err(Error::Invalid(format!("the output would overwrite the input — {}", output.display())));
    }
    let stale = super::atomic::remove_stale_temporaries(output);
    let sink = Sink::File(PredictionWriter::create(output)?);
    let (sink, mut summary) = run(model, input, options, sink, cancel, progress, observe)?;
    summary.notes.extend(stale);
    if let Sink::File(writer) = sink {
        writer.finish()?;
    }
    summary.output = output.to_path_buf();
    Ok(summary)
}

/// Score `input` with `model`, keeping the predictions (and the `id_columns`) in memory.
pub fn score_in_memory(
    model: &Model,
    input: &Path,
    options: &ScoreOptions,
    cancel: &CancelToken,
    progress: &mut dyn FnMut(&Progress),
) -> Result<(ScoredRows, ScoreSummary)> {
    let (sink, summary) = run(model, input, options, Sink::Memory(Vec::new()), cancel, progress, &mut |_| {})?;
    let Sink::Memory(batches) = sink else { return Err(Error::internal("a memory sink came back as a file")) };
    let mut batches = batches.into_iter();
    let (mut ids, mut predictions) =
        batches.next().ok_or_else(|| Error::data("the file has no data rows", Location::file(Some(input))))?;
    for (more_ids, more) in batches {
        ids.vstack_mut(&more_ids).map_err(|e| Error::internal(format!("cannot join the batches: {e}")))?;
        predictions.append(more);
    }
    Ok((ScoredRows { ids, predictions }, summary))
}

/// The pipeline shared by every sink.
fn run(
    model: &Model,
    input: &Path,
    options: &ScoreOptions,
    sink: Sink,
    cancel: &CancelToken,
    progress: &mut dyn FnMut(&Progress),
    observe: &mut dyn FnMut(&BatchPredictions),
) -> Result<(Sink, ScoreSummary)> {
    let start = Instant::now();
    let batch_size = settings::count("rows per batch (--batch-size)", options.batch_size, 1, settings::MAX_BATCH_SIZE)?;
    let (workers, workers_note) = settings::workers(options.workers);
    let columns = output_columns(model.info());
    let mut reader = TableReader::open(input, batch_size)?;
    for id in &options.id_columns {
        if !reader.columns().contains(id) {
            return Err(Error::data("the column is not in the file", Location::file(Some(input)).column(id.clone())));
        }
        if columns.contains(id) {
            return Err(Error::Invalid(format!(
                "id column '{id}' would clash with the prediction column of the same name"
            )));
        }
    }
    let (binding, problems) = plan_binding(model.info(), reader.columns(), &options.mapping, &options.id_columns);
    let report =
        ContractReport { file: Some(input.to_path_buf()), rows_checked: 0, binding: binding.clone(), problems };
    let binding = report.into_result()?.binding.ok_or_else(|| Error::internal("a passing contract has no binding"))?;
    let mut wanted = binding.columns();
    for id in &options.id_columns {
        if !wanted.contains(id) {
            wanted.push(id.clone());
        }
    }
    let mut dtypes = binding.read_dtypes();
    for id in &options.id_columns {
        dtypes.entry(id.clone()).or_insert(DataType::String);
    }
    reader.set_plan(&ReadPlan { columns: wanted, dtypes })?;
    let rows_total = reader.total_rows();

    let timeout = options.inference_timeout;
    let (read_tx, read_rx) = bounded::<Result<(Batch, f64)>>(2);
    let (to_workers, from_convert): (Vec<_>, Vec<_>) = (0..workers).map(|_| bounded::<Result<ReadBatch>>(1)).unzip();
    let (to_merge, from_workers): (Vec<_>, Vec<_>) = (0..workers).map(|_| bounded::<Result<Scored>>(1)).unzip();
    let (write_tx, write_rx) = bounded::<(DataFrame, BatchPredictions)>(2);
    let info = model.info();
    let id_columns = options.id_columns.clone();
    let quarantine = options.quarantine.as_deref().map(PredictionWriter::create).transpose()?;

    std::thread::scope(|scope| -> Result<(Sink, ScoreSummary)> {
        let spawn_failed = |e: std::io::Error| Error::internal(format!("cannot start a scoring thread: {e}"));
        let read_cancel = cancel.clone();
        let reader_thread = std::thread::Builder::new()
            .name(format!("mirador-read({})", input.display()))
            .spawn_scoped(scope, move || read_stage(reader, &read_cancel, &read_tx))
            .map_err(spawn_failed)?;
        let convert_thread = std::thread::Builder::new()
            .name("mirador-convert".into())
            .spawn_scoped(scope, move || {
                convert_stage(input, &binding, info, &id_columns, &read_rx, &to_workers, quarantine)
            })
            .map_err(spawn_failed)?;
        // Each worker opens its own session, in parallel with the first batches being read.
        for (i, (rx, tx)) in from_convert.into_iter().zip(to_merge).enumerate() {
            std::thread::Builder::new()
                .name(format!("mirador-infer-{i}"))
                .spawn_scoped(scope, move || infer_stage(model, cancel, timeout, &rx, &tx))
                .map_err(spawn_failed)?;
        }
        let columns_ref = &columns;
        let writer_thread = std::thread::Builder::new()
            .name("mirador-write".into())
            .spawn_scoped(scope, move || write_stage(sink, &write_rx, columns_ref))
            .map_err(spawn_failed)?;

        let merged = merge_stage(&from_workers, &write_tx, cancel, start, rows_total, progress, observe);
        drop(write_tx);
        drop(from_workers);
        let reader = reader_thread.join().map_err(|p| Error::panicked("reader", p.as_ref()));
        let converted = convert_thread.join().unwrap_or_else(|p| Err(Error::panicked("convert", p.as_ref())));
        let written = writer_thread.join().unwrap_or_else(|p| Err(Error::panicked("writer", p.as_ref())));
        reader?;
        cancel.check()?;
        let (rows, batches) = merged?;
        let (warnings, quarantine) = converted?;
        let sink = written?;
        // The quarantine file appears with the predictions, only when the run completes.
        let quarantined = match quarantine {
            Some(q) => q.finish()?,
            None => 0,
        };
        if rows == 0 && quarantined == 0 {
            return Err(Error::data("the file has a header but no data rows", Location::file(Some(input))));
        }
        let elapsed_secs = start.elapsed().as_secs_f64();
        let summary = ScoreSummary {
            model: model.info().path.clone(),
            input: input.to_path_buf(),
            output: PathBuf::new(),
            rows,
            batches,
            elapsed_secs,
            rows_per_sec: rows as f64 / elapsed_secs.max(1e-9),
            prediction_columns: columns.clone(),
            warnings,
            notes: workers_note.into_iter().collect(),
            quarantined,
            quarantine: options.quarantine.clone(),
        };
        Ok((sink, summary))
    })
}

/// Read batches (with the share of the file consumed) until the end, an error, or cancellation.
fn read_stage(mut reader: TableReader, cancel: &CancelToken, tx: &Sender<Result<(Batch, f64)>>) {
    while !cancel.is_cancelled() {
        let item = match reader.next_batch() {
            Ok(Some(batch)) => Ok((batch, reader.fraction_done())),
            Ok(None) => return,
            Err(e) => Err(e),
        };
        let failed = item.is_err();
        if tx.send(item).is_err() || failed {
            return;
        }
    }
}

/// Convert batches into tensors and id columns. With a quarantine, a batch's rows that fail the
/// contract are found (halving the batch until each bad row stands alone), written there with the
/// rule that caught each, and the others go on. Returns the warnings seen, and the quarantine.
fn convert_stage(
    path: &Path,
    binding: &Binding,
    info: &super::model::ModelInfo,
    id_columns: &[String],
    rx: &Receiver<Result<(Batch, f64)>>,
    workers: &[Sender<Result<ReadBatch>>],
    mut quarantine: Option<PredictionWriter>,
) -> Result<(Vec<Problem>, Option<PredictionWriter>)> {
    let mut findings = Findings::fail_fast(info);
    let mut wrote_header = false;
    for (item, tx) in rx.iter().zip(workers.iter().cycle()) {
        let converted = item.and_then(|(batch, fraction)| {
            let ctx = BatchContext { file: Some(path), first_row: batch.first_row };
            let mut frame = batch.frame;
            let inputs = match (convert_batch(&frame, binding, &ctx, &mut findings), &mut quarantine) {
                (Ok(inputs), _) => inputs,
                (Err(e), Some(q)) if e.kind() == super::error::ErrorKind::Input => {
                    let bad = failing_rows(&frame, binding, info, &ctx);
                    if bad.is_empty() {
                        return Err(e);
                    }
                    q.write(&mut quarantine_frame(&frame, &bad, batch.first_row)?)?;
                    wrote_header = true;
                    let keep: BooleanChunked =
                        (0..frame.height()).map(|i| bad.binary_search_by_key(&i, |b| b.0).is_err()).collect();
                    frame =
                        frame.filter(&keep).map_err(|e| Error::internal(format!("cannot set bad rows aside: {e}")))?;
                    if frame.height() == 0 { Vec::new() } else { convert_batch(&frame, binding, &ctx, &mut findings)? }
                }
                (Err(e), _) => return Err(e),
            };
            let ids = frame
                .select(id_columns.iter().map(String::as_str))
                .map_err(|e| Error::data(e.to_string(), Location::file(Some(path))))?;
            Ok(ReadBatch { first_row: batch.first_row, rows: frame.height(), inputs, ids, fraction })
        });
        let failed = converted.is_err();
        if tx.send(converted).is_err() || failed {
            break;
        }
    }
    if let (Some(q), false) = (&mut quarantine, wrote_header) {
        // No bad row: the file still says so, with its header.
        let mut empty = quarantine_frame(&DataFrame::empty(), &[], 0)?;
        q.write(&mut empty)?;
    }
    Ok((findings.warnings(), quarantine))
}

/// The rows of `frame` (by index, ascending) that fail the contract, each with the rule that
/// caught it: halves are converted until each bad row stands alone (so a batch with a few bad rows
/// costs a few conversions, not one per row).
fn failing_rows(
    frame: &DataFrame,
    binding: &Binding,
    info: &super::model::ModelInfo,
    ctx: &BatchContext,
) -> Vec<(usize, String)> {
    super::convert::failing_rows_by_halves(frame.height(), |start, len| {
        let part = frame.slice(start as i64, len);
        let at = BatchContext { file: ctx.file, first_row: ctx.first_row + start as u64 };
        match convert_batch(&part, binding, &at, &mut Findings::fail_fast(info)) {
            Ok(_) => Ok(None),
            Err(e) if e.kind() == super::error::ErrorKind::Input => Ok(Some(e.to_string())),
            Err(_) => Err(()),
        }
    })
    .unwrap_or_default()
}

/// The quarantined rows: their number in the file (1-based, as errors name them), the rule, and
/// their values as text.
fn quarantine_frame(frame: &DataFrame, bad: &[(usize, String)], first_row: u64) -> Result<DataFrame> {
    let idx = IdxCa::from_vec("idx".into(), bad.iter().map(|b| b.0 as IdxSize).collect());
    let rows = frame.take(&idx).map_err(|e| Error::internal(format!("cannot set bad rows aside: {e}")))?;
    let mut columns = vec![
        Column::new("row".into(), bad.iter().map(|b| first_row + b.0 as u64 + 1).collect::<Vec<u64>>()),
        Column::new("rule".into(), bad.iter().map(|b| b.1.as_str()).collect::<Vec<&str>>()),
    ];
    for c in rows.columns() {
        columns
            .push(c.cast(&DataType::String).map_err(|e| Error::internal(format!("cannot set bad rows aside: {e}")))?);
    }
    DataFrame::new(bad.len(), columns).map_err(|e| Error::internal(format!("cannot set bad rows aside: {e}")))
}

/// A batch's predictions, with what the merge needs to put it back in place.
struct Scored {
    first_row: u64,
    ids: DataFrame,
    predictions: BatchPredictions,
    fraction: f64,
}

/// Borrow a session from the model's pool (stopped when the run is cancelled), then score each
/// batch this worker is given, until its input closes or its output is dropped. A panic while
/// scoring a batch is reported as that batch's error.
fn infer_stage(
    model: &Model,
    cancel: &CancelToken,
    timeout: std::time::Duration,
    rx: &Receiver<Result<ReadBatch>>,
    tx: &Sender<Result<Scored>>,
) {
    let mut session = match model.pool().get() {
        Ok(session) => session,
        Err(e) => {
            let _ = tx.send(Err(e));
            return;
        }
    };
    let stop = session.stopper();
    // Dropped before the session goes back to the pool: a later cancel stops nobody else's run.
    let _hook = cancel.on_cancel(move || stop.stop(StopReason::Cancelled));
    for batch in rx {
        let scored = batch.and_then(|b| {
            if b.rows == 0 {
                // Every row of the batch was quarantined: nothing to score, its turn kept.
                let none = BatchPredictions {
                    rows: 0,
                    labels: None,
                    probabilities: None,
                    values: None,
                    single_precision: false,
                };
                return Ok(Scored { first_row: b.first_row, ids: b.ids, predictions: none, fraction: b.fraction });
            }
            let predictions = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| session.run(b.inputs, timeout)))
                .unwrap_or_else(|p| Err(Error::panicked("inference", p.as_ref())))?;
            Ok(Scored { first_row: b.first_row, ids: b.ids, predictions, fraction: b.fraction })
        });
        let failed = scored.is_err();
        if tx.send(scored).is_err() || failed {
            return;
        }
    }
}

/// Take batches from the workers in the order they were dealt (so rows stay in input order), pass
/// them to the writer and report progress. Ends when the worker whose turn it is has finished.
fn merge_stage(
    workers: &[Receiver<Result<Scored>>],
    tx: &Sender<(DataFrame, BatchPredictions)>,
    cancel: &CancelToken,
    start: Instant,
    rows_total: Option<u64>,
    progress: &mut dyn FnMut(&Progress),
    observe: &mut dyn FnMut(&BatchPredictions),
) -> Result<(u64, u64)> {
    let (mut rows, mut batches) = (0u64, 0u64);
    for worker in workers.iter().cycle() {
        let Ok(scored) = worker.recv() else { break };
        cancel.check()?;
        let scored = scored?;
        // Quarantined rows leave gaps; the order holds.
        debug_assert!(scored.first_row >= rows);
        if scored.predictions.rows == 0 {
            continue;
        }
        rows += scored.predictions.rows as u64;
        batches += 1;
        observe(&scored.predictions);
        if tx.send((scored.ids, scored.predictions)).is_err() {
            break; // the writer failed; its error is reported when it is joined
        }
        let elapsed_secs = start.elapsed().as_secs_f64();
        progress(&Progress {
            rows_done: rows,
            rows_total,
            fraction: scored.fraction,
            elapsed_secs,
            rows_per_sec: rows as f64 / elapsed_secs.max(1e-9),
        });
    }
    Ok((rows, batches))
}

fn write_stage(mut sink: Sink, rx: &Receiver<(DataFrame, BatchPredictions)>, columns: &[String]) -> Result<Sink> {
    for (ids, pred) in rx {
        sink.accept(ids, pred, columns)?;
    }
    Ok(sink)
}
