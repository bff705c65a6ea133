//! Writing predictions to CSV or Parquet. The file appears only when complete: rows go to a
//! temporary file beside the target, which is renamed over it at the end; a failed or cancelled run
//! drops the temporary file and leaves nothing behind.

use std::fs::File;
use std::io::Write;
use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};

use polars::prelude::*;
use tempfile::NamedTempFile;

use super::error::{Error, Result};
use super::predict::{BatchPredictions, Labels};
use super::table::Format;

/// Rows polars formats per `write` call on the output file (about 200 KB of predictions).
const CSV_BLOCK_ROWS: NonZeroUsize = NonZeroUsize::new(4096).expect("non-zero");

/// Streams prediction batches into a temporary file and publishes it atomically.
pub struct PredictionWriter {
    target: PathBuf,
    temp: NamedTempFile,
    sink: Sink,
    rows: u64,
}

enum Sink {
    Csv { out: File, header_written: bool },
    Parquet(Option<Box<polars::io::parquet::write::BatchedWriter<File>>>),
}

impl PredictionWriter {
    /// Prepare to write `target` (format by extension). Nothing appears at `target` until [`finish`](Self::finish).
    pub fn create(target: &Path) -> Result<Self> {
        let format = Format::from_path(target)?;
        let temp = super::atomic::temp_beside(target, "create the output file")?;
        let file = temp.as_file().try_clone().map_err(|e| Error::io("create the output file", target, e))?;
        let sink = match format {
            Format::Csv => Sink::Csv { out: file, header_written: false },
            Format::Parquet => Sink::Parquet(None),
        };
        Ok(Self { target: target.to_path_buf(), temp, sink, rows: 0 })
    }

    /// Append a batch.
    pub fn write(&mut self, frame: &mut DataFrame) -> Result<()> {
        let fail =
            |e: PolarsError| Error::io("write the output file", &self.target, std::io::Error::other(e.to_string()));
        match &mut self.sink {
            Sink::Csv { out, header_written } => {
                // polars formats blocks of rows into its own buffer and writes each block whole.
                CsvWriter::new(out)
                    .include_header(!*header_written)
                    .n_threads(1)
                    .with_batch_size(CSV_BLOCK_ROWS)
                    .finish(frame)
                    .map_err(fail)?;
                *header_written = true;
            }
            Sink::Parquet(writer) => {
                if writer.is_none() {
                    let file = self
                        .temp
                        .as_file()
                        .try_clone()
                        .map_err(|e| Error::io("write the output file", &self.target, e))?;
                    *writer = Some(Box::new(
                        ParquetWriter::new(file)
                            .with_compression(ParquetCompression::Zstd(None))
                            .batched(frame.schema())
                            .map_err(fail)?,
                    ));
                }
                if let Some(w) = writer {
                    frame.align_chunks(); // the Parquet writer needs every column chunked alike
                    w.write_batch(frame).map_err(fail)?;
                }
            }
        }
        self.rows += frame.height() as u64;
        Ok(())
    }

    /// Flush, sync and rename the temporary file over the target.
    pub fn finish(self) -> Result<u64> {
        let target = self.target;
        let io = |e: std::io::Error| Error::io("write the output file", &target, e);
        match self.sink {
            Sink::Csv { mut out, .. } => out.flush().map_err(io)?,
            Sink::Parquet(Some(w)) => {
                w.finish().map_err(|e| io(std::io::Error::other(e.to_string())))?;
            }
            Sink::Parquet(None) => {}
        }
        self.temp.as_file().sync_all().map_err(io)?;
        self.temp.persist(&target).map_err(|e| io(e.error))?;
        Ok(self.rows)
    }
}

/// Write a whole table to `path` (CSV or Parquet by extension), atomically.
pub fn write_frame(path: &Path, frame: &mut DataFrame) -> Result<u64> {
    let mut writer = PredictionWriter::create(path)?;
    writer.write(frame)?;
    writer.finish()
}

/// The output frame for a batch: pass-through id columns, then the prediction columns.
pub fn prediction_frame(ids: &DataFrame, pred: &BatchPredictions, columns: &[String]) -> Result<DataFrame> {
    let mut out: Vec<Column> = ids.columns().to_vec();
    let mut names = columns.iter();
    if let Some(labels) = &pred.labels {
        let name: PlSmallStr = names.next().map_or("label", String::as_str).into();
        out.push(match labels {
            Labels::Int(v) => Column::new(name, v),
            Labels::Str(v) => Column::new(name, v),
        });
    }
    let matrix = pred.probabilities.as_ref().or(pred.values.as_ref());
    if let Some(values) = matrix {
        let names: Vec<&String> = names.collect();
        let width = names.len().max(1);
        for (j, name) in names.iter().enumerate() {
            let col: Vec<f64> = values.iter().skip(j).step_by(width).copied().collect();
            let column = if pred.single_precision {
                Column::new(name.as_str().into(), col.iter().map(|&x| x as f32).collect::<Vec<f32>>())
            } else {
                Column::new(name.as_str().into(), col)
            };
            out.push(column);
        }
    }
    DataFrame::new(pred.rows, out).map_err(|e| Error::Invalid(format!("cannot assemble predictions: {e}")))
}
