//! Parquet in batches: row slices read through polars, with the file's metadata parsed once.

use std::fs::File;
use std::path::Path;

use polars::prelude::*;

use crate::core::error::{Error, Location, Result};

/// An open Parquet file, read a slice of rows at a time.
pub(super) struct ParquetSource {
    columns: Vec<String>,
    wanted: Vec<String>,
    metadata: polars::io::parquet::metadata::FileMetadataRef,
    total_rows: usize,
    next_offset: usize,
}

impl ParquetSource {
    /// Open `path` and read its schema and metadata.
    pub(super) fn open(path: &Path) -> Result<Self> {
        let file = File::open(path).map_err(|e| Error::io("open the data file", path, e))?;
        let bad = |e: PolarsError| Error::data(format!("not a readable Parquet file: {e}"), Location::file(Some(path)));
        let mut reader = ParquetReader::new(file);
        let schema = reader.schema().map_err(bad)?;
        let total_rows = reader.num_rows().map_err(bad)?;
        let metadata = reader.get_metadata().map_err(bad)?.clone();
        let columns: Vec<String> = schema.iter_names().map(ToString::to_string).collect();
        Ok(Self { wanted: columns.clone(), columns, metadata, total_rows, next_offset: 0 })
    }

    /// The file's columns.
    pub(super) fn columns(&self) -> &[String] {
        &self.columns
    }

    /// Read only these columns from now on.
    pub(super) fn set_wanted(&mut self, wanted: Vec<String>) {
        self.wanted = wanted;
    }

    /// Rows in the file.
    pub(super) fn total_rows(&self) -> u64 {
        self.total_rows as u64
    }

    /// Share of the rows read, 0..=1.
    pub(super) fn fraction_done(&self) -> f64 {
        if self.total_rows == 0 { 1.0 } else { self.next_offset as f64 / self.total_rows as f64 }
    }

    /// The next `rows` rows (fewer at the end), or `None` at the end.
    pub(super) fn next_frame(&mut self, path: &Path, rows: usize) -> Result<Option<DataFrame>> {
        if self.next_offset >= self.total_rows {
            return Ok(None);
        }
        let len = rows.min(self.total_rows - self.next_offset);
        let file = File::open(path).map_err(|e| Error::io("open the data file", path, e))?;
        let mut reader =
            ParquetReader::new(file).with_columns(Some(self.wanted.clone())).with_slice(Some((self.next_offset, len)));
        reader.set_metadata(self.metadata.clone());
        let frame = reader.finish().map_err(|e| {
            Error::data(
                format!("could not read the Parquet data: {e}"),
                Location::file(Some(path)).row(self.next_offset as u64 + 1),
            )
        })?;
        self.next_offset += len;
        Ok(Some(frame))
    }
}
