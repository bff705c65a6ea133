//! Reading tabular files — CSV and Parquet — in bounded batches, so a file of any size streams
//! through in constant memory.
//!
//! - [`csv`]: CSV cut into batches of whole records by a quote-aware [`scan`] (which also catches
//!   ragged rows and invalid UTF-8 with their row and column, and notes the record boundary nearest
//!   the middle); polars' record parser reads the two halves of each batch on two threads with a
//!   fixed schema;
//! - [`parquet`]: row slices read through polars with the file's metadata parsed once.

mod csv;
mod folder;
mod parquet;
mod scan;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use polars::prelude::*;

use crate::core::error::{Error, Location, Result};
use csv::CsvSource;
pub use csv::split_record;
use folder::FolderSource;
use parquet::ParquetSource;

/// A tabular file format, chosen by file extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Comma- (or semicolon-/tab-) separated text with a header row.
    Csv,
    /// Apache Parquet.
    Parquet,
}

impl Format {
    /// The format for `path`'s extension (`.csv`, `.tsv`, `.txt` → CSV; `.parquet`, `.pq` → Parquet).
    pub fn from_path(path: &Path) -> Result<Self> {
        let ext = path.extension().map(|e| e.to_string_lossy().to_lowercase()).unwrap_or_default();
        match ext.as_str() {
            "csv" | "tsv" | "txt" => Ok(Self::Csv),
            "parquet" | "pq" => Ok(Self::Parquet),
            _ => Err(Error::Invalid(format!(
                "unsupported file type '.{ext}': use .csv or .parquet — {}",
                path.display()
            ))),
        }
    }
}

/// Which columns to read and how to type them. Columns without a dtype are read as text.
#[derive(Debug, Clone, Default)]
pub struct ReadPlan {
    /// Columns to read, in the order wanted; empty means all.
    pub columns: Vec<String>,
    /// Dtype per column for CSV parsing (`Float64`, `Int64` or `String`); Parquet keeps its own types.
    pub dtypes: HashMap<String, DataType>,
}

/// One batch of rows.
#[derive(Debug, Clone)]
pub struct Batch {
    /// 0-based index of the batch's first data row in the file.
    pub first_row: u64,
    /// The rows.
    pub frame: DataFrame,
}

/// A streaming reader over a CSV or Parquet file.
pub struct TableReader {
    path: PathBuf,
    columns: Vec<String>,
    rows_per_batch: usize,
    rows_done: u64,
    source: Source,
}

enum Source {
    Csv(Box<CsvSource>),
    Parquet(ParquetSource),
    Folder(FolderSource),
}

impl TableReader {
    /// Open `path` and read its header (CSV) or metadata (Parquet). Batches hold about
    /// `rows_per_batch` rows (exactly, except the last).
    pub fn open(path: impl AsRef<Path>, rows_per_batch: usize) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        let rows_per_batch = rows_per_batch.max(1);
        if path.is_dir() {
            let folder = FolderSource::open(&path)?;
            let columns = folder.columns().to_vec();
            return Ok(Self { path, columns, rows_per_batch, rows_done: 0, source: Source::Folder(folder) });
        }
        let (columns, source) = match Format::from_path(&path)? {
            Format::Csv => {
                let csv = CsvSource::open(&path)?;
                (csv.header().to_vec(), Source::Csv(Box::new(csv)))
            }
            Format::Parquet => {
                let pq = ParquetSource::open(&path)?;
                (pq.columns().to_vec(), Source::Parquet(pq))
            }
        };
        Ok(Self { path, columns, rows_per_batch, rows_done: 0, source })
    }

    /// The file's columns, in file order.
    pub fn columns(&self) -> &[String] {
        &self.columns
    }

    /// The file being read.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Restrict and type the columns read from now on.
    pub fn set_plan(&mut self, plan: &ReadPlan) -> Result<()> {
        for col in &plan.columns {
            if !self.columns.contains(col) {
                return Err(Error::data("no such column", Location::file(Some(&self.path)).column(col.clone())));
            }
        }
        let wanted: Vec<String> = if plan.columns.is_empty() { self.columns.clone() } else { plan.columns.clone() };
        match &mut self.source {
            Source::Csv(csv) => csv.set_plan(&wanted, &plan.dtypes),
            Source::Parquet(pq) => pq.set_wanted(wanted),
            Source::Folder(folder) => folder.set_wanted(&wanted),
        }
        Ok(())
    }

    /// Total data rows, when known without reading the whole file (Parquet).
    pub fn total_rows(&self) -> Option<u64> {
        match &self.source {
            Source::Csv(_) => None,
            Source::Parquet(pq) => Some(pq.total_rows()),
            Source::Folder(folder) => Some(folder.total_rows()),
        }
    }

    /// Share of the file consumed so far, 0..=1 (bytes for CSV, rows for Parquet).
    pub fn fraction_done(&self) -> f64 {
        match &self.source {
            Source::Csv(csv) => csv.fraction_done(),
            Source::Parquet(pq) => pq.fraction_done(),
            Source::Folder(folder) => folder.fraction_done(),
        }
    }

    /// Data rows returned so far.
    pub fn rows_done(&self) -> u64 {
        self.rows_done
    }

    /// The next batch, or `None` at the end of the file.
    pub fn next_batch(&mut self) -> Result<Option<Batch>> {
        let first_row = self.rows_done;
        let frame = match &mut self.source {
            Source::Csv(csv) => csv.next_frame(&self.path, first_row, self.rows_per_batch)?,
            Source::Parquet(pq) => pq.next_frame(&self.path, self.rows_per_batch)?,
            Source::Folder(folder) => folder.next_frame(self.rows_per_batch)?,
        };
        Ok(frame.map(|frame| {
            self.rows_done += frame.height() as u64;
            Batch { first_row, frame }
        }))
    }
}

/// A cell as the text a CSV would hold: a missing value is empty (never the word "null"), text is
/// unquoted, numbers are written in full.
pub fn cell_text(value: &AnyValue<'_>) -> String {
    match value {
        AnyValue::Null => String::new(),
        AnyValue::String(s) => (*s).to_string(),
        AnyValue::StringOwned(s) => s.to_string(),
        AnyValue::Float64(x) if x.is_nan() => String::new(),
        AnyValue::Float32(x) if x.is_nan() => String::new(),
        other => other.to_string(),
    }
}

/// Row `row` of `frame` as column → text (see [`cell_text`]).
pub fn row_text(frame: &DataFrame, row: usize) -> std::collections::BTreeMap<String, String> {
    frame
        .columns()
        .iter()
        .map(|c| (c.name().to_string(), c.get(row).map(|v| cell_text(&v)).unwrap_or_default()))
        .collect()
}

/// Read a whole (small) file into one frame with the given plan — previews, reference data, tests.
pub fn read_table(path: impl AsRef<Path>, plan: &ReadPlan) -> Result<DataFrame> {
    let mut reader = TableReader::open(path, 1 << 20)?;
    reader.set_plan(plan)?;
    let mut frames = Vec::new();
    while let Some(batch) = reader.next_batch()? {
        frames.push(batch.frame);
    }
    let mut frames = frames.into_iter();
    let Some(mut all) = frames.next() else {
        return Ok(DataFrame::empty());
    };
    for frame in frames {
        all.vstack_mut(&frame).map_err(|e| Error::data(e.to_string(), Location::file(Some(reader.path()))))?;
    }
    Ok(all)
}

/// Read a whole file, minus the `exclude`d columns, with types inferred (CSV: polars' inference over
/// the first 10,000 rows, then over the whole file if a later value contradicts it; Parquet: its own
/// types). For analyses that need every value, such as drift; scoring uses [`TableReader`] and the
/// model's types instead.
pub fn read_table_inferred(path: impl AsRef<Path>, exclude: &[String]) -> Result<DataFrame> {
    let path = path.as_ref();
    // Validates the header (and names empty files) the same way the streaming reader does.
    let reader = TableReader::open(path, 1)?;
    let keep: Vec<String> = reader.columns().iter().filter(|c| !exclude.contains(c)).cloned().collect();
    let Source::Csv(csv) = &reader.source else {
        return read_table(path, &ReadPlan { columns: keep, dtypes: HashMap::new() });
    };
    let separator = csv.separator();
    let columns: Arc<[PlSmallStr]> = keep.iter().map(|c| PlSmallStr::from(c.as_str())).collect();
    let read = |rows: Option<usize>| {
        CsvReadOptions::default()
            .with_has_header(true)
            .with_columns(Some(columns.clone()))
            .with_infer_schema_length(rows)
            .with_parse_options(CsvParseOptions::default().with_separator(separator))
            .try_into_reader_with_file_path(Some(path.to_path_buf()))
            .and_then(CsvReader::finish)
    };
    let frame = read(Some(10_000)).or_else(|_| read(None)).map_err(|e| {
        // Name the row as scoring would: the streaming reader finds ragged rows and bad bytes with
        // their row and column; polars' own message is the fallback.
        first_structural_error(path).unwrap_or_else(|| {
            let text = crate::core::text::summarise_runtime(&e.to_string());
            Error::data(format!("could not read the CSV: {text}"), Location::file(Some(path)))
        })
    })?;
    Ok(frame)
}

/// The first ragged row or invalid byte in `path`, read as scoring reads it, if there is one.
fn first_structural_error(path: &Path) -> Option<Error> {
    let mut reader = TableReader::open(path, 65_536).ok()?;
    loop {
        match reader.next_batch() {
            Ok(Some(_)) => {}
            Ok(None) => return None,
            Err(e) => return Some(e),
        }
    }
}
