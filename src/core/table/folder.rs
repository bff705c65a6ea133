//! A folder of Parquet files read as one table, file after file in name order: how a prediction
//! log's segments are read. Hidden files (a segment still being written) are left out; every file
//! must have the first one's columns.

use std::path::{Path, PathBuf};

use polars::prelude::DataFrame;

use super::parquet::ParquetSource;
use crate::core::error::{Error, Location, Result};

/// An open folder of Parquet files.
pub(super) struct FolderSource {
    files: Vec<(PathBuf, ParquetSource)>,
    columns: Vec<String>,
    current: usize,
    total_rows: u64,
    rows_done: u64,
}

impl FolderSource {
    /// Open every `*.parquet` file in `dir` (not hidden), refusing an empty folder.
    pub(super) fn open(dir: &Path) -> Result<Self> {
        let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
            .map_err(|e| Error::io("list the data folder", dir, e))?
            .flatten()
            .map(|e| e.path())
            .filter(|p| {
                p.extension().is_some_and(|x| x == "parquet")
                    && !p.file_name().is_some_and(|n| n.to_string_lossy().starts_with('.'))
            })
            .collect();
        paths.sort();
        if paths.is_empty() {
            return Err(Error::data(
                "the folder holds no Parquet file (no prediction log yet?)",
                Location::file(Some(dir)),
            ));
        }
        let mut files = Vec::with_capacity(paths.len());
        let mut columns: Option<Vec<String>> = None;
        let mut total_rows = 0;
        for path in paths {
            let source = ParquetSource::open(&path)?;
            match &columns {
                None => columns = Some(source.columns().to_vec()),
                Some(first) if first.as_slice() != source.columns() => {
                    return Err(Error::data(
                        format!("this file's columns differ from the folder's first file ({})", first.join(", ")),
                        Location::file(Some(&path)),
                    ));
                }
                Some(_) => {}
            }
            total_rows += source.total_rows();
            files.push((path, source));
        }
        Ok(Self { files, columns: columns.unwrap_or_default(), current: 0, total_rows, rows_done: 0 })
    }

    /// The columns every file has.
    pub(super) fn columns(&self) -> &[String] {
        &self.columns
    }

    /// Read only these columns from now on.
    pub(super) fn set_wanted(&mut self, wanted: &[String]) {
        for (_, source) in &mut self.files {
            source.set_wanted(wanted.to_vec());
        }
    }

    /// Rows in all the files.
    pub(super) fn total_rows(&self) -> u64 {
        self.total_rows
    }

    /// Share of the rows read, 0..=1.
    pub(super) fn fraction_done(&self) -> f64 {
        if self.total_rows == 0 { 1.0 } else { self.rows_done as f64 / self.total_rows as f64 }
    }

    /// The next rows (at most `rows`, from one file), or `None` after the last file.
    pub(super) fn next_frame(&mut self, rows: usize) -> Result<Option<DataFrame>> {
        while let Some((path, source)) = self.files.get_mut(self.current) {
            if let Some(frame) = source.next_frame(path, rows)? {
                self.rows_done += frame.height() as u64;
                return Ok(Some(frame));
            }
            self.current += 1;
        }
        Ok(None)
    }
}
