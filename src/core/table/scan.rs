//! A resumable, quote-aware walk over the whole records at the start of a buffer: it finds where
//! each record ends, counts fields (catching ragged rows), skips blank lines, and notes a record
//! boundary near the middle so a batch can be parsed in two halves.

/// The quote character (RFC 4180).
pub(super) const QUOTE: u8 = b'"';

/// A record whose field count differs from the header's.
struct Ragged {
    record: usize,
    fields: usize,
}

/// A resumable walk over whole records at the start of a buffer: more bytes can be appended and the
/// walk continues where it stopped. Only separators, newlines and quotes are visited (memchr).
/// Blank lines are not records (polars skips them too); at end of file an unterminated last record
/// counts.
#[derive(Default)]
pub(super) struct Scan {
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
    /// Note the offset just past record number `records` (for a two-way split).
    pub(super) fn set_split(&mut self, records: usize) {
        self.split_at = records;
    }

    /// Whole records found.
    pub(super) fn records(&self) -> usize {
        self.records
    }

    /// Offset just past the last whole record.
    pub(super) fn end(&self) -> usize {
        self.end
    }

    /// Offset just past the split record (0 until seen).
    pub(super) fn mid(&self) -> usize {
        self.mid
    }

    /// The first ragged record (its index among the records, its field count), if any.
    pub(super) fn ragged(&self) -> Option<(usize, usize)> {
        self.ragged.as_ref().map(|r| (r.record, r.fields))
    }

    /// Walk on through `buf` (which may have grown since the last call) until `max_records` whole
    /// records are found, a ragged one turns up, or the bytes run out.
    pub(super) fn advance(&mut self, buf: &[u8], sep: u8, max_records: usize, expected_fields: usize, at_eof: bool) {
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
