//! Writing predictions to CSV or Parquet. The file appears only when complete: rows go to a
//! temporary file beside the target, which is renamed over it at the end; a failed or cancelled run
//! drops the temporary file and leaves nothing behind.

use std::fs::File;
use std::io::Write;
use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};

use polars::prelude::*;

use super::error::{Error, Result};
use super::session::{BatchPredictions, Labels};
use super::table::Format;

/// Rows polars formats per `write` call on the output file (about 200 KB of predictions).
const CSV_BLOCK_ROWS: NonZeroUsize = NonZeroUsize::new(4096).expect("non-zero");

/// Streams prediction batches into a temporary file and publishes it atomically.
pub struct PredictionWriter {
    target: PathBuf,
    temp: super::atomic::Temporary,
    sink: Sink,
    rows: u64,
    /// Reused buffer for formatted CSV rows.
    text: Vec<u8>,
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
        Ok(Self { target: target.to_path_buf(), temp, sink, rows: 0, text: Vec::new() })
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

    /// Append a batch of predictions with its pass-through id columns. CSV is formatted straight
    /// from the predictions ([`prediction_csv`]); other formats, and id columns of types that path
    /// does not format, go through [`prediction_frame`] and polars.
    pub fn write_predictions(&mut self, ids: &DataFrame, pred: &BatchPredictions, columns: &[String]) -> Result<()> {
        if let Sink::Csv { out, header_written } = &mut self.sink {
            self.text.clear();
            if prediction_csv(ids, pred, columns, !*header_written, &mut self.text).is_some() {
                out.write_all(&self.text).map_err(|e| Error::io("write the output file", &self.target, e))?;
                *header_written = true;
                self.rows += pred.rows as u64;
                return Ok(());
            }
        }
        self.write(&mut prediction_frame(ids, pred, columns)?)
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
        self.temp.persist(&target).map_err(io)?;
        Ok(self.rows)
    }
}

/// Write a whole table to `path` (CSV or Parquet by extension), atomically.
pub fn write_frame(path: &Path, frame: &mut DataFrame) -> Result<u64> {
    let mut writer = PredictionWriter::create(path)?;
    writer.write(frame)?;
    writer.finish()
}

/// Copy the table at `source` to `target` (CSV or Parquet each, by extension), a batch at a time
/// so a file of any size copies in bounded memory; `target` appears only when complete.
pub fn copy_table(source: &Path, target: &Path, cancel: &crate::core::CancelToken) -> Result<u64> {
    if source.canonicalize().ok().is_some_and(|s| Some(s) == target.canonicalize().ok()) {
        return Err(Error::Invalid(format!("the copy would overwrite its source — {}", target.display())));
    }
    let mut reader = crate::core::table::TableReader::open(source, 65_536)?;
    let mut writer = PredictionWriter::create(target)?;
    while let Some(mut batch) = reader.next_batch()? {
        cancel.check()?;
        writer.write(&mut batch.frame)?;
    }
    writer.finish()
}

/// Rows `start..start + len` of a Parquet file (a page of a table too big to hold in memory).
pub fn read_rows(path: &Path, start: usize, len: usize) -> Result<DataFrame> {
    let file = File::open(path).map_err(|e| Error::io("read the table", path, e))?;
    ParquetReader::new(file).with_slice(Some((start, len))).finish().map_err(|e| {
        Error::data(
            format!("cannot read rows {}..{}: {e}", start + 1, start + len),
            crate::core::Location::file(Some(path)),
        )
    })
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
    DataFrame::new(pred.rows, out).map_err(|e| Error::internal(format!("cannot assemble predictions: {e}")))
}

/// One pass-through column, borrowed from the batch, ready to format row by row.
enum Cells<'a> {
    Text(Vec<Option<&'a str>>),
    Int(Vec<Option<i64>>),
    F32(Vec<Option<f32>>),
    F64(Vec<Option<f64>>),
}

impl<'a> Cells<'a> {
    /// The column's cells, or `None` for a type [`prediction_csv`] leaves to polars.
    fn of(column: &'a Column) -> Option<Self> {
        Some(match column.dtype() {
            DataType::String => Self::Text(column.str().ok()?.iter().collect()),
            DataType::Int64 => Self::Int(column.i64().ok()?.iter().collect()),
            DataType::Int32 => Self::Int(column.i32().ok()?.iter().map(|v| v.map(i64::from)).collect()),
            DataType::Float32 => Self::F32(column.f32().ok()?.iter().collect()),
            DataType::Float64 => Self::F64(column.f64().ok()?.iter().collect()),
            _ => return None,
        })
    }

    fn write(&self, row: usize, out: &mut Vec<u8>) {
        match self {
            Self::Text(v) => v[row].map_or((), |s| write_text(s, out)),
            Self::Int(v) => v[row].map_or((), |x| out.extend_from_slice(itoa::Buffer::new().format(x).as_bytes())),
            Self::F32(v) => v[row].map_or((), |x| write_float(x, out)),
            Self::F64(v) => v[row].map_or((), |x| write_float(x, out)),
        }
    }
}

fn write_float<F: zmij::Float>(x: F, out: &mut Vec<u8>) {
    out.extend_from_slice(zmij::Buffer::new().format(x).as_bytes());
}

/// Text as polars writes it: quoted when it holds a separator, quote or line break (quotes
/// doubled), `""` when empty (an empty field is a missing value).
fn write_text(s: &str, out: &mut Vec<u8>) {
    let bytes = s.as_bytes();
    if bytes.is_empty() {
        out.extend_from_slice(b"\"\"");
    } else if memchr::memchr3(b',', b'\n', b'\r', bytes).is_none() && memchr::memchr(b'"', bytes).is_none() {
        out.extend_from_slice(bytes);
    } else {
        out.push(b'"');
        for part in s.split('"').enumerate() {
            if part.0 > 0 {
                out.extend_from_slice(b"\"\"");
            }
            out.extend_from_slice(part.1.as_bytes());
        }
        out.push(b'"');
    }
}

/// The CSV text of a batch of predictions — the same bytes polars' CSV writer makes of
/// [`prediction_frame`] (zmij for floats, itoa for integers, quotes only where needed), written
/// straight from the predictions without building that frame. `None` when an id column has a type
/// this does not format (the caller falls back to polars).
pub fn prediction_csv(
    ids: &DataFrame,
    pred: &BatchPredictions,
    columns: &[String],
    header: bool,
    out: &mut Vec<u8>,
) -> Option<()> {
    let cells: Vec<Cells> = ids.columns().iter().map(Cells::of).collect::<Option<_>>()?;
    if header {
        let names = ids.get_column_names().into_iter().map(|n| n.as_str()).chain(columns.iter().map(String::as_str));
        for (i, name) in names.enumerate() {
            if i > 0 {
                out.push(b',');
            }
            write_text(name, out);
        }
        out.push(b'\n');
    }
    let matrix = pred.probabilities.as_ref().or(pred.values.as_ref());
    let width = columns.len() - usize::from(pred.labels.is_some());
    // Every cell is followed by a comma; the row's last comma becomes its line end.
    for row in 0..pred.rows {
        for column in &cells {
            column.write(row, out);
            out.push(b',');
        }
        match &pred.labels {
            Some(Labels::Int(v)) => out.extend_from_slice(itoa::Buffer::new().format(v[row]).as_bytes()),
            Some(Labels::Str(v)) => write_text(&v[row], out),
            None => {}
        }
        if pred.labels.is_some() {
            out.push(b',');
        }
        if let Some(values) = matrix {
            for &x in &values[row * width..(row + 1) * width] {
                if pred.single_precision {
                    write_float(x as f32, out)
                } else {
                    write_float(x, out)
                }
                out.push(b',');
            }
        }
        if out.last() == Some(&b',') {
            out.pop();
        }
        out.push(b'\n');
    }
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn polars_csv(ids: &DataFrame, pred: &BatchPredictions, columns: &[String]) -> String {
        let mut frame = prediction_frame(ids, pred, columns).unwrap();
        let mut out = Vec::new();
        CsvWriter::new(&mut out).finish(&mut frame).unwrap();
        String::from_utf8(out).unwrap()
    }

    fn ours(ids: &DataFrame, pred: &BatchPredictions, columns: &[String]) -> String {
        let mut out = Vec::new();
        prediction_csv(ids, pred, columns, true, &mut out).expect("supported types");
        String::from_utf8(out).unwrap()
    }

    /// The direct formatter writes, byte for byte, what polars writes for the same predictions:
    /// awkward text, missing values, extreme and non-finite numbers, every prediction layout.
    #[test]
    fn prediction_csv_is_what_polars_writes() {
        let text = [Some("plain"), Some(""), None, Some("a,b"), Some("say \"hi\""), Some("two\nlines"), Some("cr\r")];
        let rows = text.len();
        let ids = DataFrame::new(
            rows,
            vec![
                Column::new("id".into(), text.to_vec()),
                Column::new("n".into(), [Some(1i64), None, Some(-7), Some(i64::MAX), Some(0), Some(42), Some(3)]),
                Column::new("x".into(), [1.5f64, f64::NAN, f64::INFINITY, -0.0, 1e-7, 1e22, 0.1]),
                Column::new(
                    "y".into(),
                    [Some(0.1f32), None, Some(f32::NEG_INFINITY), Some(3.0), Some(1e-9), Some(7e30), Some(2.5)],
                ),
            ],
        )
        .unwrap();
        let probabilities: Vec<f64> = (0..rows * 2).map(|i| f64::from(i as f32 / 7.0)).collect();
        let classifier = BatchPredictions {
            rows,
            labels: Some(Labels::Int((0..rows as i64).collect())),
            probabilities: Some(probabilities.clone()),
            values: None,
            single_precision: true,
        };
        let columns: Vec<String> = ["label", "p_0", "p_1"].map(String::from).to_vec();
        assert_eq!(ours(&ids, &classifier, &columns), polars_csv(&ids, &classifier, &columns));

        let text_labels = BatchPredictions {
            labels: Some(Labels::Str(text.iter().map(|t| t.unwrap_or("none").to_string()).collect())),
            single_precision: false,
            probabilities: Some(probabilities.iter().map(|p| p / 3.0).collect()),
            ..classifier.clone()
        };
        assert_eq!(ours(&ids, &text_labels, &columns), polars_csv(&ids, &text_labels, &columns));

        let regressor = BatchPredictions {
            rows,
            labels: None,
            probabilities: None,
            values: Some(probabilities.iter().map(|p| p * 1e6 - 3.0).collect()),
            single_precision: false,
        };
        let columns: Vec<String> = ["prediction_0", "prediction_1"].map(String::from).to_vec();
        let no_ids = DataFrame::empty();
        assert_eq!(ours(&ids, &regressor, &columns), polars_csv(&ids, &regressor, &columns));
        assert_eq!(ours(&no_ids, &regressor, &columns), polars_csv(&no_ids, &regressor, &columns));
    }

    #[test]
    fn other_id_types_are_left_to_polars() {
        let ids = DataFrame::new(1, vec![Column::new("flag".into(), [true])]).unwrap();
        let pred = BatchPredictions {
            rows: 1,
            labels: None,
            probabilities: None,
            values: Some(vec![1.0]),
            single_precision: false,
        };
        assert!(prediction_csv(&ids, &pred, &["prediction".into()], true, &mut Vec::new()).is_none());
    }
}

/// The order a table is shown or written in: by a column, descending or not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SortOrder {
    /// The column.
    pub column: String,
    /// Largest first.
    pub descending: bool,
}

/// Write `source`'s rows to `target` sorted by `order` (missing values last). The table is sorted
/// in memory: callers bound its size.
pub fn sort_file(source: &Path, target: &Path, order: &SortOrder) -> Result<u64> {
    let frame = crate::core::read_table(source, &crate::core::ReadPlan::default())?;
    let options = SortMultipleOptions::default().with_order_descending(order.descending).with_nulls_last(true);
    let mut sorted = frame
        .sort([order.column.as_str()], options)
        .map_err(|e| Error::internal(format!("cannot sort the table by '{}': {e}", order.column)))?;
    write_frame(target, &mut sorted)
}
