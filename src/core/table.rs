//! Reading tabular files — CSV and Parquet — in bounded batches, so a file of any size streams
//! through in constant memory.
//!
//! CSV is cut into batches of whole records by a quote-aware scan (which also catches ragged rows
//! and invalid UTF-8 with their row and column, and notes the record boundary nearest the middle),
//! and polars' record parser reads the two halves of each batch on two threads with a fixed schema. Parquet batches are row slices read through polars with the file's metadata parsed once.

use std::collections::HashMap;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use polars::prelude::_csv_read_internal::read_chunk;
use polars::prelude::*;

use super::error::{Error, Location, Result};

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
}

impl TableReader {
    /// Open `path` and read its header (CSV) or metadata (Parquet). Batches hold about
    /// `rows_per_batch` rows (exactly, except the last).
    pub fn open(path: impl AsRef<Path>, rows_per_batch: usize) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        let rows_per_batch = rows_per_batch.max(1);
        let (columns, source) = match Format::from_path(&path)? {
            Format::Csv => {
                let csv = CsvSource::open(&path)?;
                (csv.header.clone(), Source::Csv(Box::new(csv)))
            }
            Format::Parquet => {
                let pq = ParquetSource::open(&path)?;
                (pq.columns.clone(), Source::Parquet(pq))
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
            Source::Parquet(pq) => pq.wanted = wanted,
        }
        Ok(())
    }

    /// Total data rows, when known without reading the whole file (Parquet).
    pub fn total_rows(&self) -> Option<u64> {
        match &self.source {
            Source::Csv(_) => None,
            Source::Parquet(pq) => Some(pq.total_rows as u64),
        }
    }

    /// Share of the file consumed so far, 0..=1 (bytes for CSV, rows for Parquet).
    pub fn fraction_done(&self) -> f64 {
        match &self.source {
            Source::Csv(csv) => {
                if csv.total_bytes == 0 {
                    1.0
                } else {
                    csv.bytes_done as f64 / csv.total_bytes as f64
                }
            }
            Source::Parquet(pq) => {
                if pq.total_rows == 0 {
                    1.0
                } else {
                    pq.next_offset as f64 / pq.total_rows as f64
                }
            }
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
        };
        Ok(frame.map(|frame| {
            self.rows_done += frame.height() as u64;
            Batch { first_row, frame }
        }))
    }
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
    let separator = csv.separator;
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
    read(Some(10_000))
        .or_else(|_| read(None))
        .map_err(|e| Error::data(format!("could not read the CSV: {e}"), Location::file(Some(path))))
}

// ---------------------------------------------------------------- CSV

struct CsvSource {
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

const QUOTE: u8 = b'"';

impl CsvSource {
    fn open(path: &Path) -> Result<Self> {
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
            if !self.fill(path, self.read_size)? {
                if self.carry.iter().all(u8::is_ascii_whitespace) {
                    return Err(Error::data("the file is empty", at));
                }
                self.carry.push(b'\n'); // a header with no trailing newline
            }
        }
    }

    fn set_plan(&mut self, wanted: &[String], dtypes: &HashMap<String, DataType>) {
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

    fn next_frame(&mut self, path: &Path, first_row: u64, rows: usize) -> Result<Option<DataFrame>> {
        let expected = self.header.len();
        if self.scan.records == 0 {
            self.scan.split_at = rows / 2;
        }
        loop {
            self.scan.advance(&self.carry, self.separator, rows, expected, self.eof);
            if let Some(bad) = &self.scan.ragged {
                return Err(Error::data(
                    format!("row has {} fields but the header has {expected}", bad.fields),
                    Location::file(Some(path)).row(first_row + bad.record as u64 + 1),
                ));
            }
            if self.scan.records >= rows || self.eof {
                break;
            }
            // Not enough whole records yet: read about what the missing rows need (from the bytes
            // per row seen so far), so the buffer stays near one batch whatever the file's size.
            let per_row = self.scan.end.checked_div(self.scan.records).unwrap_or(0);
            let missing = rows - self.scan.records;
            let block = (per_row * missing + per_row).max(self.read_size).min(64 << 20);
            self.fill(path, block)?;
        }
        let scan = std::mem::take(&mut self.scan);
        if scan.records == 0 {
            self.bytes_done = self.total_bytes;
            return Ok(None);
        }
        let chunk = &self.carry[..scan.end];
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
        let split = (scan.mid > 0).then_some(scan.mid);
        let parsed = match self.parse(chunk, &self.typed_schema, split, scan.records) {
            Ok(frame) => Ok(Some(frame)),
            Err(_) => self.parse(chunk, &self.text_schema, None, scan.records).map(Some).map_err(|e| {
                let last = first_row + scan.records as u64;
                Error::data(format!("could not parse the CSV: {e}"), Location::file(Some(path)).row(first_row + 1))
                    .with_note(format!("somewhere in rows {}..={last}", first_row + 1))
            }),
        };
        // The frame owns its values; the bytes after the batch move to the front of the buffer.
        self.carry.drain(..scan.end);
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

impl Error {
    /// Append a note to a data error's message (other errors are returned unchanged).
    fn with_note(self, note: String) -> Self {
        match self {
            Self::Data { message, location } => Self::Data { message: format!("{message} ({note})"), location },
            other => other,
        }
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

struct Ragged {
    record: usize,
    fields: usize,
}

/// A resumable walk over whole records at the start of a buffer: more bytes can be appended and the
/// walk continues where it stopped. Only separators, newlines and quotes are visited (memchr).
/// Blank lines are not records (polars skips them too); at end of file an unterminated last record
/// counts.
#[derive(Default)]
struct Scan {
    /// Next byte to look at.
    pos: usize,
    in_quotes: bool,
    /// Fields seen so far in the current record.
    fields: usize,
    record_start: usize,
    /// Whole records found.
    records: usize,
    /// Offset just past the last whole record.
    end: usize,
    /// Record count after which to note a split point (0: none).
    split_at: usize,
    /// Offset just past record number `split_at` (0 until it is seen).
    mid: usize,
    ragged: Option<Ragged>,
}

impl Scan {
    fn advance(&mut self, buf: &[u8], sep: u8, max_records: usize, expected_fields: usize, at_eof: bool) {
        if self.fields == 0 {
            self.fields = 1;
        }
        if !self.in_quotes {
            self.advance_unquoted(buf, sep, max_records, expected_fields);
        }
        while self.records < max_records && self.ragged.is_none() {
            let Some(offset) = memchr::memchr3(sep, b'\n', QUOTE, &buf[self.pos..]) else {
                self.pos = buf.len();
                break;
            };
            let i = self.pos + offset;
            self.pos = i + 1;
            match buf[i] {
                QUOTE => self.in_quotes = !self.in_quotes,
                _ if self.in_quotes => {}
                b'\n' => self.end_record(buf, i + 1, expected_fields),
                _ => self.fields += 1,
            }
        }
        if at_eof && self.records < max_records && self.ragged.is_none() && self.record_start < buf.len() {
            self.end_record(buf, buf.len(), expected_fields);
        }
    }

    /// The fast path for the records before the next quote: a newline search per record and a
    /// vectorised count of its separators, instead of a stop at every separator. Leaves `pos` at the
    /// start of the first record it could not finish, for the quote-aware walk to continue from.
    fn advance_unquoted(&mut self, buf: &[u8], sep: u8, max_records: usize, expected_fields: usize) {
        let quote = memchr::memchr(QUOTE, &buf[self.record_start..]).map_or(buf.len(), |q| self.record_start + q);
        self.pos = self.record_start;
        self.fields = 1;
        while self.records < max_records && self.ragged.is_none() {
            let Some(offset) = memchr::memchr(b'\n', &buf[self.pos..quote]) else { break };
            let end = self.pos + offset + 1;
            self.fields = 1 + memchr::memchr_iter(sep, &buf[self.record_start..end]).count();
            self.pos = end;
            self.end_record(buf, end, expected_fields);
        }
    }

    fn end_record(&mut self, buf: &[u8], end: usize, expected_fields: usize) {
        let blank = buf[self.record_start..end].iter().all(|&b| b == b'\r' || b == b'\n');
        if !blank {
            if self.fields != expected_fields {
                self.ragged = Some(Ragged { record: self.records, fields: self.fields });
                return;
            }
            self.records += 1;
            if self.records == self.split_at {
                self.mid = end;
            }
        }
        self.end = end;
        self.record_start = end;
        self.fields = 1;
    }
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

// ---------------------------------------------------------------- Parquet

struct ParquetSource {
    columns: Vec<String>,
    wanted: Vec<String>,
    metadata: polars::io::parquet::metadata::FileMetadataRef,
    total_rows: usize,
    next_offset: usize,
}

impl ParquetSource {
    fn open(path: &Path) -> Result<Self> {
        let file = File::open(path).map_err(|e| Error::io("open the data file", path, e))?;
        let bad = |e: PolarsError| Error::data(format!("not a readable Parquet file: {e}"), Location::file(Some(path)));
        let mut reader = ParquetReader::new(file);
        let schema = reader.schema().map_err(bad)?;
        let total_rows = reader.num_rows().map_err(bad)?;
        let metadata = reader.get_metadata().map_err(bad)?.clone();
        let columns: Vec<String> = schema.iter_names().map(ToString::to_string).collect();
        Ok(Self { wanted: columns.clone(), columns, metadata, total_rows, next_offset: 0 })
    }

    fn next_frame(&mut self, path: &Path, rows: usize) -> Result<Option<DataFrame>> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_record_honours_quotes() {
        assert_eq!(split_record(r#"a,"b,c","say ""hi""",d"#, b','), vec!["a", "b,c", "say \"hi\"", "d"]);
        assert_eq!(split_record("x;y", b';'), vec!["x", "y"]);
    }

    fn scan(buf: &[u8], max: usize, eof: bool) -> Scan {
        let mut scan = Scan::default();
        scan.advance(buf, b',', max, 3, eof);
        scan
    }

    #[test]
    fn scan_stops_at_record_boundaries_and_finds_ragged_rows() {
        let buf = b"1,\"a\nb\",3\n4,5,6\n7,8";
        let s = scan(buf, 10, false);
        assert_eq!((s.records, s.end), (2, 16));
        let s = scan(buf, 10, true);
        assert_eq!(s.records, 2, "the unterminated last record has 2 fields, not 3");
        assert_eq!(s.ragged.map(|r| (r.record, r.fields)), Some((2, 2)));
        assert_eq!(scan(b"1,2,3\n\n4,5,6\r\n", 10, true).records, 2, "blank lines are not records");
        assert_eq!(scan(buf, 1, true).end, 10, "stops after max records");
    }

    #[test]
    fn scan_resumes_after_more_bytes_arrive() {
        let full = b"1,\"x,\ny\",3\n4,5,6\n";
        let mut s = Scan::default();
        s.advance(&full[..5], b',', 10, 3, false);
        assert_eq!(s.records, 0);
        s.advance(full, b',', 10, 3, false);
        assert_eq!((s.records, s.end, s.ragged.is_none()), (2, full.len(), true));
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
