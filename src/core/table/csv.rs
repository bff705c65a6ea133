//! CSV in batches of whole records: the header read and checked, records cut by [`Scan`], and each
//! batch parsed by polars' record parser (its two halves on two threads) with a fixed schema. A
//! value that does not parse makes the batch re-read as text, so the converter can name it.

use std::collections::HashMap;
use std::fs::File;
use std::io::Read;
use std::path::Path;
use std::sync::Arc;

use polars::prelude::_csv_read_internal::read_chunk;
use polars::prelude::*;

use super::scan::{QUOTE, Scan};
use crate::core::text::size;

/// The longest header read before the file is taken for something other than a CSV.
const MAX_HEADER_BYTES: usize = 16 << 20;
use crate::core::error::{Error, Location, Result};

/// An open CSV file, read a batch of records at a time.
pub(super) struct CsvSource {
    file: File,
    separator: u8,
    header: Vec<String>,
    /// Bytes read from the file but not yet returned as records (always starts at a record start).
    carry: Vec<u8>,
    /// How far `carry` has been scanned.
    scan: Scan,
    eof: bool,
    /// The smallest block read at a time.
    read_size: usize,
    bytes_done: u64,
    total_bytes: u64,
    typed_schema: SchemaRef,
    text_schema: SchemaRef,
    /// Indices of the wanted columns in the header, ascending (as polars returns them).
    projection: Vec<usize>,
    parse_options: CsvParseOptions,
}

impl CsvSource {
    /// Open `path` and read its header.
    pub(super) fn open(path: &Path) -> Result<Self> {
        let file = File::open(path).map_err(|e| Error::io("open the data file", path, e))?;
        let total_bytes = file.metadata().map(|m| m.len()).unwrap_or(0);
        let mut source = Self {
            file,
            separator: b',',
            header: Vec::new(),
            carry: Vec::new(),
            scan: Scan::default(),
            eof: false,
            read_size: 256 << 10,
            bytes_done: 0,
            total_bytes,
            typed_schema: Arc::new(Schema::default()),
            text_schema: Arc::new(Schema::default()),
            projection: Vec::new(),
            parse_options: CsvParseOptions::default(),
        };
        source.read_header(path)?;
        source.set_plan(&source.header.clone(), &HashMap::new());
        Ok(source)
    }

    /// Append up to `block` more bytes to `carry`; returns false at end of file.
    fn fill(&mut self, path: &Path, block: usize) -> Result<bool> {
        if self.eof {
            return Ok(false);
        }
        // `read_to_end` appends into the buffer's spare capacity, which earlier batches have
        // already grown, so a batch costs no new allocation and no zeroing.
        let limit = u64::try_from(block).unwrap_or(u64::MAX);
        let n = (&mut self.file)
            .take(limit)
            .read_to_end(&mut self.carry)
            .map_err(|e| Error::io("read the data file", path, e))?;
        if (n as u64) < limit {
            self.eof = true;
        }
        Ok(n > 0)
    }

    fn read_header(&mut self, path: &Path) -> Result<()> {
        let at = Location::file(Some(path));
        // Whether a newline was added to end a last line that had none.
        let mut padded = false;
        loop {
            if let Some(end) = first_record_end(&self.carry) {
                let mut line = &self.carry[..end];
                if let Some(rest) = line.strip_prefix(b"\xEF\xBB\xBF".as_slice()) {
                    line = rest;
                }
                let text = std::str::from_utf8(line)
                    .map_err(|_| Error::data("the header row is not valid UTF-8 text", at.clone().row(0)))?;
                let text = text.trim_end_matches(['\n', '\r']);
                if text.trim().is_empty() {
                    return Err(Error::data("the first line (the header) is empty", at));
                }
                self.separator = detect_separator(text);
                self.header = split_record(text, self.separator);
                check_header(&self.header, &at)?;
                self.bytes_done = end as u64;
                self.carry.drain(..end);
                return Ok(());
            }
            if self.carry.len() > MAX_HEADER_BYTES {
                return Err(Error::data(
                    format!(
                        "the first line (the header) is longer than {}: is this a CSV file?",
                        size(MAX_HEADER_BYTES as u64)
                    ),
                    at,
                ));
            }
            if !self.fill(path, self.read_size)? {
                if self.carry.iter().all(u8::is_ascii_whitespace) {
                    return Err(Error::data("the file is empty", at));
                }
                if padded {
                    return Err(Error::data("the header row has a quote (\") that is never closed", at.row(0)));
                }
                self.carry.push(b'\n'); // a header with no trailing newline
                padded = true;
            }
        }
    }

    /// The header's column names.
    pub(super) fn header(&self) -> &[String] {
        &self.header
    }

    /// The field separator found in the header.
    pub(super) fn separator(&self) -> u8 {
        self.separator
    }

    /// Share of the file's bytes consumed, 0..=1.
    pub(super) fn fraction_done(&self) -> f64 {
        if self.total_bytes == 0 { 1.0 } else { self.bytes_done as f64 / self.total_bytes as f64 }
    }

    /// Read only `wanted`, typing the columns `dtypes` names (the others as text).
    pub(super) fn set_plan(&mut self, wanted: &[String], dtypes: &HashMap<String, DataType>) {
        let mut typed = Schema::default();
        let mut text = Schema::default();
        for name in &self.header {
            let name = PlSmallStr::from(name.as_str());
            typed.insert(name.clone(), dtypes.get(name.as_str()).cloned().unwrap_or(DataType::String));
            text.insert(name, DataType::String);
        }
        self.typed_schema = Arc::new(typed);
        self.text_schema = Arc::new(text);
        self.projection = wanted.iter().filter_map(|w| self.header.iter().position(|h| h == w)).collect();
        self.projection.sort_unstable();
        self.parse_options = CsvParseOptions::default().with_separator(self.separator);
    }

    /// The next `rows` records (fewer at the end), or `None` at the end of the file.
    pub(super) fn next_frame(&mut self, path: &Path, first_row: u64, rows: usize) -> Result<Option<DataFrame>> {
        let expected = self.header.len();
        if self.scan.records() == 0 {
            self.scan.set_split(rows / 2);
        }
        loop {
            self.scan.advance(&self.carry, self.separator, rows, expected, self.eof);
            if let Some((record, fields)) = self.scan.ragged() {
                return Err(Error::data(
                    format!("row has {fields} fields but the header has {expected}"),
                    Location::file(Some(path)).row(first_row + record as u64 + 1),
                ));
            }
            if self.scan.records() >= rows || self.eof {
                break;
            }
            // Not enough whole records yet: read about what the missing rows need (from the bytes
            // per row seen so far), so the buffer stays near one batch whatever the file's size.
            let (records, end) = (self.scan.records(), self.scan.end());
            let per_row = end.checked_div(records).unwrap_or(0);
            let missing = rows.saturating_sub(records);
            let block = per_row.saturating_mul(missing.saturating_add(1)).max(self.read_size).min(64 << 20);
            self.fill(path, block)?;
        }
        let scan = std::mem::take(&mut self.scan);
        let (records, end, mid) = (scan.records(), scan.end(), scan.mid());
        if records == 0 {
            self.bytes_done = self.total_bytes;
            return Ok(None);
        }
        let chunk = &self.carry[..end];
        self.bytes_done += chunk.len() as u64;
        if let Err(e) = std::str::from_utf8(chunk) {
            let (record, field) = position_of(chunk, e.valid_up_to(), self.separator);
            let column = self.header.get(field).cloned().unwrap_or_default();
            return Err(Error::data(
                "the text is not valid UTF-8 (save the file as UTF-8)",
                Location::file(Some(path)).row(first_row + record as u64 + 1).column(column),
            ));
        }
        // Typed parse first; if a value does not parse, re-read as text so the converter can name
        // the exact row, column and value.
        let split = (mid > 0).then_some(mid);
        let parsed = match self.parse(chunk, &self.typed_schema, split, records) {
            Ok(frame) => Ok(Some(frame)),
            Err(_) => self.parse(chunk, &self.text_schema, None, records).map(Some).map_err(|e| {
                let last = first_row + records as u64;
                let text = crate::core::text::summarise_runtime(&e.to_string());
                Error::data(
                    format!("could not parse the CSV: {text} (somewhere in rows {}..={last})", first_row + 1),
                    Location::file(Some(path)).row(first_row + 1),
                )
            }),
        };
        // The frame owns its values; the bytes after the batch move to the front of the buffer.
        self.carry.drain(..end);
        parsed
    }

    /// Parse whole records with polars' record parser, the two halves of the batch on two threads
    /// when `split` (a record boundary near the middle) is known. polars' reader would first count
    /// the lines again and cut the batch into 32 parts, leaving 32 chunks in every column.
    fn parse(&self, chunk: &[u8], schema: &Schema, split: Option<usize>, records: usize) -> PolarsResult<DataFrame> {
        let parse = |bytes: &[u8], rows: usize| {
            read_chunk(
                bytes,
                &self.parse_options,
                schema,
                false,
                &self.projection,
                0,
                rows + 1,
                None,
                usize::MAX,
                bytes.len(),
                Some(0),
            )
        };
        let Some(mid) = split.filter(|&m| m > 0 && m < chunk.len()) else {
            return parse(chunk, records);
        };
        let (first, second) = chunk.split_at(mid);
        let (first, second) = std::thread::scope(|scope| {
            let spawned = std::thread::Builder::new()
                .name("mirador-parse".into())
                .spawn_scoped(scope, || parse(first, records / 2));
            let second = parse(second, records - records / 2);
            let first = match spawned {
                Ok(handle) => handle.join().map_err(|_| polars_err!(ComputeError: "the CSV parsing thread panicked")),
                Err(_) => Ok(parse(first, records / 2)), // no thread to be had: parse it here
            };
            (first, second)
        });
        let mut frame = first??;
        frame.vstack_mut_owned(second?)?;
        Ok(frame)
    }
}

fn check_header(header: &[String], at: &Location) -> Result<()> {
    let mut seen = std::collections::HashSet::new();
    for (i, name) in header.iter().enumerate() {
        if name.is_empty() {
            return Err(Error::data(format!("header column {} has no name", i + 1), at.clone()));
        }
        if !seen.insert(name) {
            return Err(Error::data(format!("the header names column '{name}' twice"), at.clone()));
        }
    }
    Ok(())
}

/// `;` or tab when the header uses them and no commas; `,` otherwise.
fn detect_separator(header: &str) -> u8 {
    if header.contains(',') {
        b','
    } else if header.contains(';') {
        b';'
    } else if header.contains('\t') {
        b'\t'
    } else {
        b','
    }
}

/// Split one CSV record (no trailing newline) into fields, honouring quotes and `""` escapes.
pub fn split_record(line: &str, separator: u8) -> Vec<String> {
    let sep = separator as char;
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut in_quotes = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if in_quotes && chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            '"' => in_quotes = !in_quotes,
            c if c == sep && !in_quotes => fields.push(std::mem::take(&mut field)),
            c => field.push(c),
        }
    }
    fields.push(field);
    fields.into_iter().map(|f| f.trim().to_string()).collect()
}

/// End offset (after the newline) of the first record, if the buffer holds a whole one.
fn first_record_end(buf: &[u8]) -> Option<usize> {
    let mut in_quotes = false;
    for (i, &b) in buf.iter().enumerate() {
        match b {
            QUOTE => in_quotes = !in_quotes,
            b'\n' if !in_quotes => return Some(i + 1),
            _ => {}
        }
    }
    None
}

/// (record index, field index) of byte `offset` in `chunk`.
fn position_of(chunk: &[u8], offset: usize, sep: u8) -> (usize, usize) {
    let (mut record, mut field, mut in_quotes) = (0, 0, false);
    for &b in &chunk[..offset.min(chunk.len())] {
        match b {
            QUOTE => in_quotes = !in_quotes,
            b'\n' if !in_quotes => {
                record += 1;
                field = 0;
            }
            b if b == sep && !in_quotes => field += 1,
            _ => {}
        }
    }
    (record, field)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::table::{ReadPlan, TableReader};

    #[test]
    fn split_record_honours_quotes() {
        assert_eq!(split_record(r#"a,"b,c","say ""hi""",d"#, b','), vec!["a", "b,c", "say \"hi\"", "d"]);
        assert_eq!(split_record("x;y", b';'), vec!["x", "y"]);
    }

    /// Every batch size cuts and parses a file with quotes, embedded separators and newlines,
    /// doubled quotes, empty fields and CRLF line ends into the same table polars' own reader
    /// makes of the whole file.
    #[test]
    fn batches_of_any_size_read_like_polars_reads_the_whole_file() {
        let mut text = String::from("id,name,amount,note\r\n");
        for i in 0..500 {
            let name = match i % 5 {
                0 => "plain".to_string(),
                1 => "\"with, comma\"".to_string(),
                2 => "\"two\nlines\"".to_string(),
                3 => "\"say \"\"hi\"\"\"".to_string(),
                _ => String::new(),
            };
            let amount = if i % 7 == 0 { String::new() } else { format!("{}.{}", i, i % 10) };
            let end = if i % 3 == 0 { "\r\n" } else { "\n" };
            text.push_str(&format!("{i},{name},{amount},n{}{end}", i % 4));
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mixed.csv");
        std::fs::write(&path, &text).unwrap();
        let mut dtypes = HashMap::new();
        dtypes.insert("amount".to_string(), DataType::Float64);
        dtypes.insert("id".to_string(), DataType::Int64);
        let plan = ReadPlan { columns: vec!["id".into(), "name".into(), "amount".into()], dtypes };
        let schema = Schema::from_iter([
            Field::new("id".into(), DataType::Int64),
            Field::new("name".into(), DataType::String),
            Field::new("amount".into(), DataType::Float64),
            Field::new("note".into(), DataType::String),
        ]);
        let expected = CsvReadOptions::default()
            .with_has_header(true)
            .with_schema(Some(Arc::new(schema)))
            .with_columns(Some(["id", "name", "amount"].into_iter().map(PlSmallStr::from).collect()))
            .try_into_reader_with_file_path(Some(path.clone()))
            .unwrap()
            .finish()
            .unwrap();
        assert_eq!(expected.height(), 500);
        for batch in [1, 2, 3, 7, 64, 499, 500, 4096] {
            let mut reader = TableReader::open(&path, batch).unwrap();
            reader.set_plan(&plan).unwrap();
            let mut frames = Vec::new();
            while let Some(b) = reader.next_batch().unwrap() {
                assert_eq!(b.first_row, frames.iter().map(DataFrame::height).sum::<usize>() as u64);
                frames.push(b.frame);
            }
            let mut all = frames.remove(0);
            for f in frames {
                all.vstack_mut_owned(f).unwrap();
            }
            assert!(all.equals_missing(&expected), "batch size {batch}: {all} vs {expected}");
        }
    }

    #[test]
    fn position_of_counts_records_and_fields() {
        assert_eq!(position_of(b"a,b\nc,\"d,e\",f", 12, b','), (1, 2));
    }
}
