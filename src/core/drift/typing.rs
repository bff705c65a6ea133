//! Typing a column for drift, as Evidently does: numbers or categories, missing values counted and
//! dropped, and the column's kind (numeric, categorical, or free text that is not tested).

use std::collections::{BTreeMap, BTreeSet};

use foldhash::HashMap;
use polars::prelude::*;

use super::stats;
use super::types::ColumnKind;
use crate::core::error::{Error, Result};

/// A column's values after typing: numbers or categories, missing values counted and dropped.
#[derive(Debug, Clone, PartialEq)]
pub enum Values {
    /// Present numbers, sorted ascending (total order).
    Numbers {
        /// The numbers.
        values: Vec<f64>,
        /// Whether every value is an integer (and none was missing).
        integers: bool,
    },
    /// Text values, counted.
    Categories(BTreeMap<String, f64>),
}

/// A typed column: its present values (or, from a profile, a quantile sketch of them), how many
/// values were present, missing, and in all.
#[derive(Debug, Clone)]
pub struct Typed {
    /// The present values.
    pub values: Values,
    /// Present values represented (can exceed the sketch's length).
    pub rows: usize,
    /// Missing values (empty, NaN, ±inf).
    pub missing: usize,
    /// Values in all.
    pub total: usize,
}

/// Counts of text values. Categorical columns have few distinct values, so a short list searched
/// in order (the common values first, as they were met first) beats hashing every value; past
/// 32 distinct values it moves to a hash map.
#[derive(Default)]
struct TextCounts<'a> {
    few: Vec<(&'a str, f64)>,
    many: HashMap<&'a str, f64>,
}

impl<'a> TextCounts<'a> {
    fn add(&mut self, v: &'a str) {
        if self.many.is_empty() {
            if let Some(slot) = self.few.iter_mut().find(|(k, _)| *k == v) {
                slot.1 += 1.0;
                return;
            }
            if self.few.len() < 32 {
                self.few.push((v, 1.0));
                return;
            }
            self.many.extend(self.few.drain(..));
        }
        *self.many.entry(v).or_insert(0.0) += 1.0;
    }

    fn into_map(self) -> HashMap<&'a str, f64> {
        let mut map = self.many;
        map.extend(self.few);
        map
    }
}

/// [`str::trim`], without its Unicode search when the value starts and ends with a visible ASCII
/// character (nearly every category), which no whitespace can be.
fn trim(v: &str) -> &str {
    let bytes = v.as_bytes();
    match (bytes.first(), bytes.last()) {
        (Some(a), Some(b)) if a.is_ascii_graphic() && b.is_ascii_graphic() => v,
        _ => v.trim(),
    }
}

/// Widest span of an integer column sorted by counting (4 Mi slots of 4 bytes).
const MAX_COUNTED_SPAN: u64 = 1 << 22;

/// An integer column's values as sorted floats, by counting each value in its span and writing the
/// counts out in order — cheaper than casting, copying and sorting when the span is small (ages,
/// counts, flags). `None` when the column is not integers or spans too widely.
fn integer_values_by_counting(series: &Series) -> Result<Option<Vec<f64>>> {
    if !series.dtype().is_integer() || series.len() < 4096 {
        return Ok(None);
    }
    let cast = series.cast(&DataType::Int64).map_err(|e| Error::Invalid(e.to_string()))?;
    let ca = cast.i64().map_err(|e| Error::Invalid(e.to_string()))?;
    let (Some(min), Some(max)) = (ca.min(), ca.max()) else { return Ok(None) };
    let span = max.abs_diff(min);
    if span >= MAX_COUNTED_SPAN {
        return Ok(None);
    }
    let mut counts = vec![0u32; span as usize + 1];
    for chunk in ca.downcast_iter() {
        for v in chunk.iter().flatten() {
            counts[v.abs_diff(min) as usize] += 1;
        }
    }
    let mut values = Vec::with_capacity(ca.len() - ca.null_count());
    for (offset, &count) in counts.iter().enumerate() {
        values.extend(std::iter::repeat_n((min + offset as i64) as f64, count as usize));
    }
    Ok(Some(values))
}

/// Type one column: numbers (sorted, missing and non-finite values dropped) or category counts.
pub fn type_column(series: &Series) -> Result<Typed> {
    let total = series.len();
    if series.dtype().is_primitive_numeric() || series.dtype().is_bool() {
        let integers = series.dtype().is_integer() || series.dtype().is_bool();
        let has_null = series.null_count() > 0;
        let values = match integer_values_by_counting(series)? {
            Some(values) => values,
            None => {
                let cast = series.cast(&DataType::Float64).map_err(|e| Error::Invalid(e.to_string()))?;
                let ca = cast.f64().map_err(|e| Error::Invalid(e.to_string()))?;
                let mut values: Vec<f64> =
                    if has_null { ca.iter().flatten().collect() } else { ca.into_no_null_iter().collect() };
                values.retain(|v| v.is_finite());
                stats::sort_numbers(&mut values);
                values
            }
        };
        return Ok(Typed {
            missing: total - values.len(),
            rows: values.len(),
            values: Values::Numbers { values, integers: integers && !has_null },
            total,
        });
    }
    let text = series.cast(&DataType::String).map_err(|e| Error::Invalid(e.to_string()))?;
    let ca = text.str().map_err(|e| Error::Invalid(e.to_string()))?;
    let mut counts = TextCounts::default();
    let mut present = 0usize;
    for v in ca.iter().flatten().map(trim).filter(|v| !v.is_empty()) {
        counts.add(v);
        present += 1;
    }
    let counts = counts.into_map();
    // Text that parses as numbers is numbers (as pandas reads a CSV).
    if present > 0 && counts.keys().all(|k| k.parse::<f64>().is_ok()) {
        let integers = present == total && counts.keys().all(|k| k.parse::<i64>().is_ok());
        let mut values: Vec<f64> =
            ca.iter().flatten().map(trim).filter_map(|v| v.parse::<f64>().ok()).filter(|v| v.is_finite()).collect();
        stats::sort_numbers(&mut values);
        return Ok(Typed {
            missing: total - values.len(),
            rows: values.len(),
            values: Values::Numbers { values, integers },
            total,
        });
    }
    Ok(Typed {
        missing: total - present,
        rows: present,
        values: Values::Categories(counts.into_iter().map(|(k, c)| (k.to_string(), c)).collect()),
        total,
    })
}

/// Distinct values.
pub(super) fn distinct_count(values: &Values) -> usize {
    match values {
        Values::Numbers { values, .. } => stats::distinct_sorted(values),
        Values::Categories(counts) => counts.len(),
    }
}

/// Distinct values of both sides together.
pub(super) fn distinct_union(a: &Values, b: &Values) -> usize {
    match (a, b) {
        (Values::Numbers { values: x, .. }, Values::Numbers { values: y, .. }) => stats::distinct_union_sorted(x, y),
        _ => category_counts(a).keys().chain(category_counts(b).keys()).collect::<BTreeSet<_>>().len(),
    }
}

/// Value → count, numbers formatted like pandas prints them.
pub(super) fn category_counts(values: &Values) -> BTreeMap<String, f64> {
    match values {
        Values::Categories(counts) => counts.clone(),
        Values::Numbers { values, .. } => {
            // Sorted: equal values are neighbours, so each run is one category.
            let mut counts = BTreeMap::new();
            let mut i = 0;
            while i < values.len() {
                let bits = values[i].to_bits();
                let run = values[i..].iter().take_while(|v| v.to_bits() == bits).count();
                counts.insert(format_number(values[i]), run as f64);
                i += run;
            }
            counts
        }
    }
}

/// Evidently's kind for a column (from the current data), or `None` for free text.
pub(super) fn infer_kind(current: &Values) -> Option<ColumnKind> {
    match current {
        Values::Numbers { integers: false, .. } => Some(ColumnKind::Numeric),
        v @ Values::Numbers { integers: true, .. } => {
            Some(if distinct_count(v) <= 10 { ColumnKind::Categorical } else { ColumnKind::Numeric })
        }
        Values::Categories(counts) => {
            let present: f64 = counts.values().sum();
            (counts.len() as f64 <= present * 0.5).then_some(ColumnKind::Categorical)
        }
    }
}

pub(super) fn format_number(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 { format!("{}", v as i64) } else { format!("{v}") }
}

pub(super) fn numbers(values: &Values) -> Option<Vec<f64>> {
    match values {
        Values::Numbers { values, .. } => Some(values.clone()),
        Values::Categories(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use polars::prelude::*;

    /// Counting an integer column gives the values, and so every statistic, that casting and
    /// sorting gives: negatives, repeats, missing values, a wide span that falls back.
    #[test]
    fn counted_integers_equal_cast_and_sorted() {
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for span in [2u64, 73, 100_000, 1 << 40] {
            let values: Vec<Option<i64>> =
                (0..20_000).map(|i| (i % 97 != 0).then(|| (next() % span) as i64 - (span / 2) as i64)).collect();
            let series = Series::new("n".into(), values.clone());
            let mut expected: Vec<f64> = values.iter().flatten().map(|&v| v as f64).collect();
            expected.sort_by(f64::total_cmp);
            let counted = super::integer_values_by_counting(&series).unwrap();
            assert_eq!(counted.is_some(), span < super::MAX_COUNTED_SPAN, "span {span}");
            if let Some(counted) = counted {
                assert_eq!(counted, expected, "span {span}");
            }
            let typed = super::type_column(&series).unwrap();
            let super::Values::Numbers { values: got, integers } = typed.values else { panic!("numbers") };
            assert_eq!(got, expected, "span {span}");
            assert!(!integers, "a column with missing values is not treated as integers");
            assert_eq!(typed.missing, values.iter().filter(|v| v.is_none()).count());
        }
    }

    #[test]
    fn trim_is_str_trim() {
        for v in ["", " ", "a", " a", "a ", "\ta\n", "\u{a0}x\u{a0}", "x\u{2003}", "One year", "é", " é "] {
            assert_eq!(super::trim(v), v.trim(), "{v:?}");
        }
    }
}
