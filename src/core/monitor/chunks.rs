//! Splitting data into chunks: by N rows, or by calendar period of a timestamp column
//! (`YYYY-MM-DD`, optionally followed by `THH:MM[:SS]` or a space and the time; weeks start on
//! Monday, as ISO weeks do). Rows whose timestamp does not parse are an error naming the row.

use std::fmt;

use polars::prelude::*;

use crate::core::error::{Error, Location, Result};

/// How to chunk.
#[derive(Debug, Clone, PartialEq)]
pub enum Chunking {
    /// One chunk: all the rows.
    Whole,
    /// Every N rows, in file order.
    Rows(usize),
    /// By period of a timestamp column.
    Period {
        /// The timestamp column.
        column: String,
        /// Period length in seconds (a day, a week, N hours...).
        seconds: i64,
    },
}

/// One chunk: its label and the rows (indices into the frame) it holds, in time order.
pub(crate) struct Chunk {
    pub(crate) label: String,
    pub(crate) rows: Vec<usize>,
}

impl fmt::Display for Chunking {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Whole => f.write_str("all rows as one chunk"),
            Self::Rows(n) => write!(f, "every {n} rows"),
            Self::Period { column, seconds } => write!(f, "by {} of '{column}'", describe(*seconds)),
        }
    }
}

fn describe(seconds: i64) -> String {
    match seconds {
        604_800 => "week".into(),
        86_400 => "day".into(),
        s if s % 86_400 == 0 => format!("{} days", s / 86_400),
        s => format!("{} hours", s / 3600),
    }
}

impl Chunking {
    /// Parse `--chunk`: `1000` (rows), `1d`, `7d`, `1w`, `12h`; a period needs `time_column`. An
    /// empty text means no chunking (one chunk of all the rows). Never panics, whatever the text.
    pub fn parse(spec: &str, time_column: Option<&str>) -> Result<Self> {
        let spec = spec.trim();
        if spec.is_empty() {
            return Ok(Self::Whole);
        }
        let shown = crate::core::text::quote(spec);
        let bad = || Error::Invalid(format!("--chunk expects N (rows) or a period like 1d, 1w, 12h; got {shown}"));
        if let Ok(n) = spec.parse::<usize>() {
            return if n > 0 { Ok(Self::Rows(n)) } else { Err(bad()) };
        }
        let Some((cut, unit)) = spec.char_indices().last() else { return Err(bad()) };
        let n: i64 = spec[..cut].parse().map_err(|_| bad())?;
        let per = match unit {
            'h' => 3600,
            'd' => 86_400,
            'w' => 604_800,
            _ => return Err(bad()),
        };
        // At most about a century per chunk.
        let seconds = n.checked_mul(per).filter(|s| *s <= 100 * 366 * 86_400).ok_or_else(bad)?;
        let column = time_column.ok_or_else(|| {
            Error::Invalid(format!("--chunk {spec} is a period: name the timestamp column with --time-col"))
        })?;
        if n <= 0 {
            return Err(bad());
        }
        Ok(Self::Period { column: column.to_string(), seconds })
    }

    pub(crate) fn split(&self, frame: &DataFrame) -> Result<Vec<Chunk>> {
        match self {
            Self::Whole => Ok(vec![Chunk { label: "all rows".into(), rows: (0..frame.height()).collect() }]),
            Self::Rows(n) => Ok((0..frame.height())
                .step_by(*n)
                .map(|start| {
                    let end = (start + n).min(frame.height());
                    Chunk { label: format!("rows {}-{}", start + 1, end), rows: (start..end).collect() }
                })
                .collect()),
            Self::Period { column, seconds } => {
                let series = frame
                    .column(column)
                    .map_err(|_| {
                        Error::data(
                            "the timestamp column is not in the data",
                            Location::default().column(column.clone()),
                        )
                    })?
                    .as_materialized_series()
                    .cast(&DataType::String)
                    .map_err(|e| Error::Invalid(e.to_string()))?;
                let values = series.str().map_err(|e| Error::Invalid(e.to_string()))?;
                let mut stamped = Vec::with_capacity(frame.height());
                for (i, v) in values.iter().enumerate() {
                    let t = v.and_then(epoch_seconds).ok_or_else(|| {
                        Error::data(
                            format!("'{}' is not a timestamp (use YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS)", v.unwrap_or("")),
                            Location::default().row(i as u64 + 1).column(column.clone()),
                        )
                    })?;
                    stamped.push((t, i));
                }
                stamped.sort_unstable();
                // Weeks start on Monday: 1970-01-01 was a Thursday, so shift by 3 days.
                let offset = if *seconds % 604_800 == 0 { 3 * 86_400 } else { 0 };
                let mut chunks: Vec<Chunk> = Vec::new();
                let mut current: Option<i64> = None;
                for (t, i) in stamped {
                    let period = (t + offset).div_euclid(*seconds);
                    if current != Some(period) {
                        current = Some(period);
                        chunks
                            .push(Chunk { label: format_start(period * seconds - offset, *seconds), rows: Vec::new() });
                    }
                    if let Some(last) = chunks.last_mut() {
                        last.rows.push(i);
                    }
                }
                Ok(chunks)
            }
        }
    }
}

/// Seconds since 1970-01-01T00:00:00 (no time zone) of an ISO-8601-like timestamp.
fn epoch_seconds(text: &str) -> Option<i64> {
    iso_seconds(text).map(|s| s.floor() as i64)
}

/// [`epoch_seconds`] keeping fractions of a second (`2026-12-02T10:00:00.125Z`), or a bare number
/// of seconds since the epoch.
pub fn precise_epoch_seconds(text: &str) -> Option<f64> {
    match text.trim().parse::<f64>() {
        Ok(secs) => secs.is_finite().then_some(secs),
        Err(_) => iso_seconds(text),
    }
}

fn iso_seconds(text: &str) -> Option<f64> {
    let text = text.trim();
    let (date, time) = text.split_once(['T', ' ']).unwrap_or((text, ""));
    let mut d = date.split('-');
    let (y, m, day): (i64, i64, i64) = (d.next()?.parse().ok()?, d.next()?.parse().ok()?, d.next()?.parse().ok()?);
    if d.next().is_some() || !(1..=12).contains(&m) || !(1..=31).contains(&day) {
        return None;
    }
    let mut secs = 0.0;
    if !time.is_empty() {
        let time = time.trim_end_matches('Z').trim_end_matches("+00:00");
        let mut t = time.split(':');
        let h: i64 = t.next()?.parse().ok()?;
        let min: i64 = t.next()?.parse().ok()?;
        let s: f64 = t.next().map_or(Some(0.0), |s| s.parse().ok())?;
        if !(0.0..61.0).contains(&s) {
            return None;
        }
        secs = (h * 3600 + min * 60) as f64 + s;
    }
    Some((days_from_civil(y, m, day) * 86_400) as f64 + secs)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn format_start(epoch: i64, period: i64) -> String {
    let days = epoch.div_euclid(86_400);
    // Inverse of days_from_civil.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    if period % 86_400 == 0 {
        format!("{y:04}-{m:02}-{d:02}")
    } else {
        format!("{y:04}-{m:02}-{d:02}T{:02}:00", epoch.rem_euclid(86_400) / 3600)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_and_weeks() {
        assert_eq!(epoch_seconds("1970-01-02"), Some(86_400));
        assert_eq!(epoch_seconds("2026-09-07T01:02:03"), Some(days_from_civil(2026, 9, 7) * 86_400 + 3723));
        assert_eq!(epoch_seconds("2026-13-01"), None);
        assert_eq!(format_start(days_from_civil(2024, 2, 29) * 86_400, 86_400), "2024-02-29");
        // 2026-09-10 (a Thursday) falls in the week starting Monday 2026-09-07.
        let t = epoch_seconds("2026-09-10T12:00:00").unwrap();
        let week = 604_800;
        let start = (t + 3 * 86_400).div_euclid(week) * week - 3 * 86_400;
        assert_eq!(format_start(start, week), "2026-09-07");
        assert!(Chunking::parse("1w", None).is_err());
        assert_eq!(Chunking::parse("500", None).unwrap(), Chunking::Rows(500));
        // Text a user may type: never a panic.
        assert_eq!(Chunking::parse("", None).unwrap(), Chunking::Whole);
        assert_eq!(Chunking::parse("   ", Some("t")).unwrap(), Chunking::Whole);
        for bad in [
            "1é",
            "é",
            "d",
            "-3d",
            "0",
            "0h",
            "99999999999999999999d",
            "9223372036854775807w",
            "1.5d",
            "x".repeat(10_000).as_str(),
        ] {
            let e = Chunking::parse(bad, Some("t")).expect_err(bad).to_string();
            assert!(e.contains("--chunk expects") && e.len() < 300, "{e}");
        }
    }
}
