//! The prediction log: every served row — when, which request, which model, version and arm
//! (champion, canary, shadow), its position in its request, its sticky key (`key`, and `sticky`), its input
//! columns, its outputs, how long it took — written by a background thread as Parquet segments, one
//! folder per model. A segment is written to a hidden temporary file and renamed when it closes
//! (after so many rows or seconds), so a reader never sees half a file; a folder of segments is read
//! like one table ([`crate::core::table::TableReader`] opens folders).
//!
//! Logging never slows or blocks inference: rows are handed over without waiting, and when the
//! writer falls behind (more than `queue_rows` waiting) new rows are dropped and counted.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender, bounded};
use polars::prelude::*;

use super::config::LogSettings;
use crate::core::atomic::{Temporary, temp_beside};
use crate::core::error::{Error, Result};
use crate::core::session::BatchPredictions;
use crate::core::writer::prediction_frame;

pub use crate::core::monitor::served::META_COLUMNS;

/// One request's rows, to be logged.
pub struct LogEntry {
    /// The served model's name.
    pub model: String,
    /// The version that answered.
    pub version: String,
    /// Its arm: `champion`, `canary` or `shadow`.
    pub arm: &'static str,
    /// Per row: its sticky key, which chose its version (empty: none had one). Logged as `key`
    /// (what late labels sent by key join on, offline too) and `sticky` (whether there was one).
    pub keys: Vec<Option<String>>,
    /// The request's id.
    pub request_id: String,
    /// Each row's position in its request (empty: 0, 1, 2, …; a canary request's rows are split
    /// between two entries).
    pub positions: Vec<u32>,
    /// When it arrived (RFC 3339, UTC, milliseconds).
    pub time: String,
    /// How long it took, milliseconds.
    pub latency_ms: f64,
    /// Its input rows (the model's columns).
    pub inputs: DataFrame,
    /// Its predictions.
    pub predictions: BatchPredictions,
    /// The prediction columns' names (`label`, `p_<class>`, `prediction`).
    pub output_columns: Arc<Vec<String>>,
    /// Why the rows were refused, when they failed the model's contract: they are then logged in
    /// `<model>/rejected/`, their inputs as the client sent them (as text), with this reason.
    pub rejected: Option<String>,
}

/// Counts a running log keeps.
#[derive(Debug, Default)]
pub struct LogCounts {
    /// Rows written to segments.
    pub written: AtomicU64,
    /// Rows dropped because the writer was behind.
    pub dropped: AtomicU64,
    /// Segments closed.
    pub segments: AtomicU64,
    /// Rows handed over and not yet written.
    waiting: AtomicUsize,
}

/// A running prediction log.
pub struct PredictionLog {
    tx: Option<Sender<LogEntry>>,
    counts: Arc<LogCounts>,
    limit: usize,
    thread: Option<std::thread::JoinHandle<Result<()>>>,
    dir: PathBuf,
}

impl PredictionLog {
    /// Start logging into `dir` (created if needed).
    pub fn start(dir: &Path, settings: &LogSettings) -> Result<Self> {
        std::fs::create_dir_all(dir).map_err(|e| Error::io("create the prediction log folder", dir, e))?;
        let (tx, rx) = bounded(settings.queue_rows.clamp(1, 1 << 20));
        let counts = Arc::new(LogCounts::default());
        let (writer_counts, writer_dir, writer_settings) = (Arc::clone(&counts), dir.to_path_buf(), settings.clone());
        let thread = std::thread::Builder::new()
            .name("mirador-prediction-log".into())
            .spawn(move || write_loop(&rx, &writer_dir, &writer_settings, &writer_counts))
            .map_err(|e| Error::internal(format!("cannot start the prediction log's writer: {e}")))?;
        Ok(Self { tx: Some(tx), counts, limit: settings.queue_rows, thread: Some(thread), dir: dir.to_path_buf() })
    }

    /// The log's folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The counts (written, dropped, segments).
    pub fn counts(&self) -> &Arc<LogCounts> {
        &self.counts
    }

    /// Hand `entry` to the writer without waiting; when it is behind, the rows are dropped and
    /// counted instead.
    pub fn record(&self, entry: LogEntry) {
        let rows = entry.inputs.height();
        let waiting = self.counts.waiting.fetch_add(rows, Ordering::SeqCst);
        let sent = waiting + rows <= self.limit && self.tx.as_ref().is_some_and(|tx| tx.try_send(entry).is_ok());
        if !sent {
            self.counts.waiting.fetch_sub(rows, Ordering::SeqCst);
            self.counts.dropped.fetch_add(rows as u64, Ordering::Relaxed);
        }
    }

    /// Write what is waiting, close the open segments and stop.
    pub fn close(mut self) -> Result<()> {
        self.tx = None;
        match self.thread.take().map(std::thread::JoinHandle::join) {
            Some(Ok(result)) => result,
            Some(Err(p)) => Err(Error::panicked("prediction log", p.as_ref())),
            None => Ok(()),
        }
    }
}

impl Drop for PredictionLog {
    fn drop(&mut self) {
        self.tx = None;
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Rows gathered before they are written as one Parquet row group (a row group per request would
/// cost kilobytes of metadata per row).
const ROW_GROUP_ROWS: usize = 8192;

/// An open segment of one model's log.
struct Segment {
    temp: Temporary,
    target: PathBuf,
    writer: polars::io::parquet::write::BatchedWriter<std::fs::File>,
    schema: SchemaRef,
    rows: usize,
    opened: Instant,
    /// Rows not yet written.
    pending: Option<DataFrame>,
}

impl Segment {
    /// Write the gathered rows as one row group.
    fn flush(&mut self) -> Result<()> {
        if let Some(mut frame) = self.pending.take() {
            frame.align_chunks();
            self.writer.write_batch(&frame).map_err(|e| {
                Error::io("write the prediction log", &self.target, std::io::Error::other(e.to_string()))
            })?;
        }
        Ok(())
    }
}

fn write_loop(rx: &Receiver<LogEntry>, dir: &Path, settings: &LogSettings, counts: &LogCounts) -> Result<()> {
    let mut open: BTreeMap<String, Segment> = BTreeMap::new();
    let max_age = Duration::from_secs_f64(settings.segment_secs);
    let mut failure = None;
    loop {
        let entry = match rx.recv_timeout(Duration::from_millis(500)) {
            Ok(entry) => Some(entry),
            Err(RecvTimeoutError::Timeout) => None,
            Err(RecvTimeoutError::Disconnected) => break,
        };
        if let Some(entry) = entry {
            let rows = entry.inputs.height();
            let model = folder_of(&entry);
            match append(&mut open, dir, entry) {
                Ok(()) => {
                    counts.written.fetch_add(rows as u64, Ordering::Relaxed);
                }
                Err(e) => {
                    counts.dropped.fetch_add(rows as u64, Ordering::Relaxed);
                    failure.get_or_insert(e);
                }
            }
            counts.waiting.fetch_sub(rows, Ordering::SeqCst);
            if open.get(&model).is_some_and(|s| s.rows >= settings.segment_rows) {
                close_segment(&mut open, &model, counts)?;
            }
        }
        let old: Vec<String> =
            open.iter().filter(|(_, s)| s.opened.elapsed() >= max_age).map(|(m, _)| m.clone()).collect();
        for model in old {
            close_segment(&mut open, &model, counts)?;
        }
    }
    let models: Vec<String> = open.keys().cloned().collect();
    for model in models {
        close_segment(&mut open, &model, counts)?;
    }
    failure.map_or(Ok(()), Err)
}

/// The folder (under the log's) an entry's rows go to.
fn folder_of(entry: &LogEntry) -> String {
    if entry.rejected.is_some() { format!("{}/rejected", entry.model) } else { entry.model.clone() }
}

/// The rows of `entry` as one table: the meta columns, the inputs, the outputs (or, for rows that
/// failed the contract, the reason and the inputs as text).
fn entry_frame(entry: &LogEntry) -> Result<DataFrame> {
    let n = entry.inputs.height();
    let mut columns = vec![
        Column::new("time".into(), vec![entry.time.as_str(); n]),
        Column::new("request_id".into(), vec![entry.request_id.as_str(); n]),
        Column::new(
            "row".into(),
            (0..n).map(|i| entry.positions.get(i).copied().unwrap_or(i as u32)).collect::<Vec<u32>>(),
        ),
        Column::new("model".into(), vec![entry.model.as_str(); n]),
        Column::new("version".into(), vec![entry.version.as_str(); n]),
        Column::new("arm".into(), vec![entry.arm; n]),
        Column::new(
            "sticky".into(),
            (0..n).map(|i| entry.keys.get(i).is_some_and(Option::is_some)).collect::<Vec<bool>>(),
        ),
        Column::new(
            "key".into(),
            (0..n).map(|i| entry.keys.get(i).cloned().flatten()).collect::<Vec<Option<String>>>(),
        ),
        Column::new("latency_ms".into(), vec![entry.latency_ms; n]),
    ];
    if let Some(reason) = &entry.rejected {
        columns.push(Column::new("error".into(), vec![reason.as_str(); n]));
        for c in entry.inputs.columns() {
            let text =
                c.cast(&DataType::String).map_err(|e| Error::internal(format!("cannot log a refused row: {e}")))?;
            columns.push(text);
        }
        return DataFrame::new(n, columns).map_err(|e| Error::internal(format!("cannot assemble the log's rows: {e}")));
    }
    columns.extend(entry.inputs.columns().iter().cloned());
    let outputs = prediction_frame(&DataFrame::empty(), &entry.predictions, &entry.output_columns)?;
    columns.extend(outputs.columns().iter().cloned());
    DataFrame::new(n, columns).map_err(|e| Error::internal(format!("cannot assemble the log's rows: {e}")))
}

fn append(open: &mut BTreeMap<String, Segment>, dir: &Path, entry: LogEntry) -> Result<()> {
    let frame = entry_frame(&entry)?;
    let schema = frame.schema().clone();
    let key = folder_of(&entry);
    // A new version with other outputs (or refused rows with other columns) starts a new segment.
    if open.get(&key).is_some_and(|s| *s.schema != *schema) {
        let closing = open.remove(&key);
        if let Some(segment) = closing {
            finish(segment)?;
        }
    }
    if !open.contains_key(&key) {
        let folder = dir.join(&key);
        std::fs::create_dir_all(&folder).map_err(|e| Error::io("create the prediction log folder", &folder, e))?;
        let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%S%.3fZ");
        let target = folder.join(format!("{stamp}-{}.parquet", std::process::id()));
        let temp = temp_beside(&target, "write the prediction log")?;
        let file = temp.as_file().try_clone().map_err(|e| Error::io("write the prediction log", &target, e))?;
        let writer = ParquetWriter::new(file)
            .with_compression(ParquetCompression::Zstd(None))
            .batched(&schema)
            .map_err(|e| Error::io("write the prediction log", &target, std::io::Error::other(e.to_string())))?;
        let opened = Instant::now();
        open.insert(key.clone(), Segment { temp, target, writer, schema, rows: 0, opened, pending: None });
    }
    let segment = open.get_mut(&key).ok_or_else(|| Error::internal("a segment vanished"))?;
    segment.rows += frame.height();
    match &mut segment.pending {
        Some(pending) => {
            pending.vstack_mut(&frame).map_err(|e| Error::internal(format!("cannot gather the log's rows: {e}")))?;
        }
        None => segment.pending = Some(frame),
    }
    if segment.pending.as_ref().is_some_and(|p| p.height() >= ROW_GROUP_ROWS) {
        segment.flush()?;
    }
    Ok(())
}

fn close_segment(open: &mut BTreeMap<String, Segment>, model: &str, counts: &LogCounts) -> Result<()> {
    if let Some(segment) = open.remove(model) {
        finish(segment)?;
        counts.segments.fetch_add(1, Ordering::Relaxed);
    }
    Ok(())
}

/// Close a segment's Parquet file and make it appear under its name.
fn finish(mut segment: Segment) -> Result<()> {
    segment.flush()?;
    let Segment { temp, target, writer, .. } = segment;
    writer
        .finish()
        .map_err(|e| Error::io("write the prediction log", &target, std::io::Error::other(e.to_string())))?;
    temp.as_file().sync_all().map_err(|e| Error::io("write the prediction log", &target, e))?;
    temp.persist(&target).map_err(|e| Error::io("write the prediction log", &target, e))
}
