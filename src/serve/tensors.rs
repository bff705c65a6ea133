//! A V2 request's input tensors turned into rows: each tensor's values read once into a typed
//! column (from JSON, nested or flat, or from the binary extension's bytes), its shape checked
//! against its data, and the tensors mapped onto the model's columns.
//!
//! An input may be sent as the model's own tensor (`numeric` `[N,4]` is split into the four
//! columns the model's metadata names, as a file's columns would be packed) or as one tensor per
//! data column (`[N]` or `[N,1]`, as MLServer's pandas codec sends them). Either way the rows then
//! go through the same contract check and conversion as a file's rows, so a bad value is named by
//! its row and column just as in a CSV.

use polars::prelude::*;
use serde::de::{DeserializeSeed, SeqAccess, Visitor};
use serde_json::value::RawValue;

use super::wire::{Datatype, INF_TOKEN, NAN_TOKEN, NEG_INF_TOKEN};
use crate::core::contract::Binding;
use crate::core::error::{Error, Result};
use crate::core::text::{did_you_mean, quote};

/// One tensor's values, flat and row-major; `None` is a missing value.
#[derive(Debug, Clone, PartialEq)]
pub enum Values {
    /// FP16 / FP32 / FP64.
    Float(Vec<Option<f64>>),
    /// INT* / UINT*.
    Int(Vec<Option<i64>>),
    /// BOOL.
    Bool(Vec<Option<bool>>),
    /// BYTES.
    Text(Vec<Option<String>>),
}

impl Values {
    /// The values as sticky keys (text; numbers written as JSON writes them; missing stays missing).
    pub fn as_keys(&self) -> Vec<Option<String>> {
        match self {
            Self::Float(v) => v.iter().map(|x| x.map(|x| x.to_string())).collect(),
            Self::Int(v) => v.iter().map(|x| x.map(|x| x.to_string())).collect(),
            Self::Bool(v) => v.iter().map(|x| x.map(|x| x.to_string())).collect(),
            Self::Text(v) => v.clone(),
        }
    }

    /// Empty values of the kind `datatype` holds, room for `n`.
    pub fn with_capacity(datatype: Datatype, n: usize) -> Self {
        match datatype {
            Datatype::F16 | Datatype::F32 | Datatype::F64 => Self::Float(Vec::with_capacity(n)),
            Datatype::Int(_) | Datatype::UInt(_) => Self::Int(Vec::with_capacity(n)),
            Datatype::Bool => Self::Bool(Vec::with_capacity(n)),
            Datatype::Bytes => Self::Text(Vec::with_capacity(n)),
        }
    }

    /// How many values.
    pub fn len(&self) -> usize {
        match self {
            Self::Float(v) => v.len(),
            Self::Int(v) => v.len(),
            Self::Bool(v) => v.len(),
            Self::Text(v) => v.len(),
        }
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every `stride`-th value from `start` as a column named `name`.
    fn column(&self, name: &str, start: usize, stride: usize) -> Column {
        fn pick<T: Clone>(v: &[T], start: usize, stride: usize) -> Vec<T> {
            v.iter().skip(start).step_by(stride.max(1)).cloned().collect()
        }
        match self {
            Self::Float(v) => Column::new(name.into(), pick(v, start, stride)),
            Self::Int(v) => Column::new(name.into(), pick(v, start, stride)),
            Self::Bool(v) => Column::new(name.into(), pick(v, start, stride)),
            Self::Text(v) => Column::new(name.into(), pick(v, start, stride)),
        }
    }
}

/// One input tensor of a request, read.
#[derive(Debug, Clone)]
pub struct Tensor {
    /// Its name (a model input or a data column).
    pub name: String,
    /// Its shape: rows first.
    pub shape: Vec<usize>,
    /// Its values.
    pub values: Values,
}

impl Tensor {
    /// Values per row.
    pub fn width(&self) -> usize {
        self.shape.iter().skip(1).product()
    }
}

/// Check a request's `shape` (sizes, not -1) and return it with its number of elements.
pub fn check_shape(input: &str, shape: &[i64]) -> Result<(Vec<usize>, usize)> {
    if shape.is_empty() {
        return Err(Error::Invalid(format!(
            "input '{input}' has an empty shape; give [rows] or [rows, values per row]"
        )));
    }
    let mut dims = Vec::with_capacity(shape.len());
    let mut count: usize = 1;
    for &d in shape {
        let d = usize::try_from(d).map_err(|_| {
            Error::Invalid(format!(
                "input '{input}' has shape {shape:?}; a request's shape gives actual sizes, not {d}"
            ))
        })?;
        count = count
            .checked_mul(d)
            .filter(|&c| c <= 1 << 40)
            .ok_or_else(|| Error::TooLarge(format!("input '{input}' has shape {shape:?}, too many values")))?;
        dims.push(d);
    }
    if dims.len() > 2 {
        return Err(Error::Invalid(format!(
            "input '{input}' has shape {shape:?}; tabular models take [rows] or [rows, values per row]"
        )));
    }
    Ok((dims, count))
}

/// Read an input's JSON `data` (nested or flat) as `datatype` values, checking the count against
/// its shape. A value of the wrong kind is named by its row, as a file's bad value is.
pub fn from_json(input: &str, datatype: Datatype, shape: &[usize], count: usize, data: &RawValue) -> Result<Values> {
    if datatype == Datatype::F16 {
        return Err(Error::Invalid(format!(
            "input '{input}' is FP16, which has no JSON form; send it as binary data or as FP32"
        )));
    }
    let per_row = shape.iter().skip(1).product::<usize>().max(1);
    let mut values = Values::with_capacity(datatype, count.min(1 << 20));
    let mut problem = None;
    let seed = Sink { values: &mut values, input, per_row, datatype, problem: &mut problem };
    let mut de = serde_json::Deserializer::from_str(data.get());
    seed.deserialize(&mut de)
        .map_err(|e| Error::Invalid(format!("input '{input}' has data that is not a tensor's values: {e}")))?;
    if let Some(problem) = problem {
        return Err(Error::Invalid(problem));
    }
    if values.len() != count {
        return Err(Error::Invalid(format!(
            "input '{input}' has shape {shape:?}, which holds {count} values, but its data has {}",
            values.len()
        )));
    }
    Ok(values)
}

/// A JSON scalar as it arrives.
enum Cell<'a> {
    Null,
    Bool(bool),
    Int(i64),
    UInt(u64),
    Float(f64),
    Text(&'a str),
}

impl Cell<'_> {
    fn shown(&self) -> String {
        match self {
            Self::Null => "null".into(),
            Self::Bool(b) => b.to_string(),
            Self::Int(i) => i.to_string(),
            Self::UInt(u) => u.to_string(),
            Self::Float(f) => f.to_string(),
            Self::Text(t) if *t == NAN_TOKEN => "NaN".into(),
            Self::Text(t) if *t == INF_TOKEN => "Infinity".into(),
            Self::Text(t) if *t == NEG_INF_TOKEN => "-Infinity".into(),
            Self::Text(t) => quote(t),
        }
    }
}

/// Push `value` when it converted; whether it did.
fn put<T>(v: &mut Vec<Option<T>>, value: Option<Option<T>>) -> bool {
    match value {
        Some(x) => {
            v.push(x);
            true
        }
        None => false,
    }
}

/// A scalar as a float input's value (`None` inside: missing); `None` when it cannot be one.
fn float_of(cell: &Cell<'_>) -> Option<Option<f64>> {
    match cell {
        Cell::Null => Some(None),
        Cell::Int(i) => Some(Some(*i as f64)),
        Cell::UInt(u) => Some(Some(*u as f64)),
        Cell::Float(f) => Some(Some(*f)),
        Cell::Text(t) if *t == NAN_TOKEN => Some(None),
        Cell::Text(t) if *t == INF_TOKEN => Some(Some(f64::INFINITY)),
        Cell::Text(t) if *t == NEG_INF_TOKEN => Some(Some(f64::NEG_INFINITY)),
        _ => None,
    }
}

fn int_of(cell: &Cell<'_>) -> Option<Option<i64>> {
    match cell {
        Cell::Null => Some(None),
        Cell::Int(i) => Some(Some(*i)),
        Cell::UInt(u) => i64::try_from(*u).ok().map(Some),
        Cell::Float(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Some(Some(*f as i64)),
        _ => None,
    }
}

fn bool_of(cell: &Cell<'_>) -> Option<Option<bool>> {
    match cell {
        Cell::Null => Some(None),
        Cell::Bool(b) => Some(Some(*b)),
        _ => None,
    }
}

fn text_of(cell: &Cell<'_>) -> Option<Option<String>> {
    match cell {
        Cell::Null => Some(None),
        Cell::Text(t) if [NAN_TOKEN, INF_TOKEN, NEG_INF_TOKEN].contains(t) => Some(None),
        Cell::Text(t) => Some(Some((*t).to_string())),
        _ => None,
    }
}

/// Flattens nested arrays into `values`, converting each scalar to the datatype's kind.
struct Sink<'s> {
    values: &'s mut Values,
    input: &'s str,
    per_row: usize,
    datatype: Datatype,
    problem: &'s mut Option<String>,
}

impl Sink<'_> {
    fn push(self, cell: Cell<'_>) {
        let at = self.values.len();
        let fits = match &mut *self.values {
            Values::Float(v) => put(v, float_of(&cell)),
            Values::Int(v) => put(v, int_of(&cell)),
            Values::Bool(v) => put(v, bool_of(&cell)),
            Values::Text(v) => put(v, text_of(&cell)),
        };
        if !fits {
            self.mismatch(at, &cell);
        }
    }

    fn mismatch(self, at: usize, cell: &Cell<'_>) {
        // Keep the count right so the shape check still speaks of the real length.
        match &mut *self.values {
            Values::Float(v) => v.push(None),
            Values::Int(v) => v.push(None),
            Values::Bool(v) => v.push(None),
            Values::Text(v) => v.push(None),
        }
        if self.problem.is_some() {
            return;
        }
        let row = at / self.per_row + 1;
        let (input, datatype) = (self.input, self.datatype.as_str());
        let expected = match self.values {
            Values::Float(_) => "number".to_string(),
            Values::Int(_) => match cell {
                Cell::Text(t) if *t == NAN_TOKEN => {
                    *self.problem = Some(format!(
                        "input '{input}' has NaN at row {row}, but it is {datatype}, which cannot hold a missing value"
                    ));
                    return;
                }
                _ => "whole number".to_string(),
            },
            Values::Bool(_) => "true/false value".to_string(),
            Values::Text(_) => "text (BYTES values are JSON strings)".to_string(),
        };
        *self.problem = Some(format!(
            "input '{input}' has {} at row {row}, which is not a valid {expected} (the input is {datatype})",
            cell.shown()
        ));
    }

    fn reborrow(&mut self) -> Sink<'_> {
        Sink {
            values: self.values,
            input: self.input,
            per_row: self.per_row,
            datatype: self.datatype,
            problem: self.problem,
        }
    }
}

impl<'de> DeserializeSeed<'de> for Sink<'_> {
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> std::result::Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Sink<'_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("numbers, strings, booleans or null, in arrays (nested or flat)")
    }

    fn visit_seq<A: SeqAccess<'de>>(mut self, mut seq: A) -> std::result::Result<(), A::Error> {
        while seq.next_element_seed(self.reborrow())?.is_some() {}
        Ok(())
    }

    fn visit_unit<E>(self) -> std::result::Result<(), E> {
        self.push(Cell::Null);
        Ok(())
    }

    fn visit_none<E>(self) -> std::result::Result<(), E> {
        self.push(Cell::Null);
        Ok(())
    }

    fn visit_bool<E>(self, v: bool) -> std::result::Result<(), E> {
        self.push(Cell::Bool(v));
        Ok(())
    }

    fn visit_i64<E>(self, v: i64) -> std::result::Result<(), E> {
        self.push(Cell::Int(v));
        Ok(())
    }

    fn visit_u64<E>(self, v: u64) -> std::result::Result<(), E> {
        self.push(Cell::UInt(v));
        Ok(())
    }

    fn visit_f64<E>(self, v: f64) -> std::result::Result<(), E> {
        self.push(Cell::Float(v));
        Ok(())
    }

    fn visit_str<E>(self, v: &str) -> std::result::Result<(), E> {
        self.push(Cell::Text(v));
        Ok(())
    }
}

/// The request's tensors as the model's data columns: a tensor named after a model input is split
/// into that input's columns; a tensor named after a column is that column. Every tensor must have
/// the same rows; no column may be given twice.
pub fn to_frame(tensors: Vec<Tensor>, binding: &Binding) -> Result<DataFrame> {
    let Some(rows) = tensors.first().map(|t| t.shape[0]) else {
        return Err(Error::Invalid("the request has no inputs".into()));
    };
    let mut columns: Vec<Column> = Vec::new();
    let mut given: Vec<(String, String)> = Vec::new();
    for t in &tensors {
        if t.shape[0] != rows {
            return Err(Error::Invalid(format!(
                "input '{}' has {} rows but input '{}' has {rows}; every input needs the same rows",
                t.name, t.shape[0], tensors[0].name
            )));
        }
        let width = t.width();
        let names: Vec<String> = if let Some(b) = binding.inputs.iter().find(|b| b.input == t.name) {
            if width != b.columns.len() {
                return Err(Error::Invalid(format!(
                    "input '{}' takes {} value(s) per row ({}), but the request's shape {:?} gives {width}",
                    t.name,
                    b.columns.len(),
                    b.columns.join(", "),
                    t.shape
                )));
            }
            b.columns.clone()
        } else if binding.inputs.iter().any(|b| b.columns.contains(&t.name)) {
            if width != 1 {
                return Err(Error::Invalid(format!(
                    "input '{}' is a data column, so it takes one value per row ([rows] or [rows, 1]), not shape {:?}",
                    t.name, t.shape
                )));
            }
            vec![t.name.clone()]
        } else {
            return Err(unknown_input(&t.name, binding));
        };
        for (j, name) in names.iter().enumerate() {
            if let Some((_, first)) = given.iter().find(|(c, _)| c == name) {
                return Err(Error::Invalid(format!(
                    "column '{name}' is given twice: by input '{first}' and by input '{}'",
                    t.name
                )));
            }
            given.push((name.clone(), t.name.clone()));
            columns.push(t.values.column(name, j, width));
        }
    }
    DataFrame::new(rows, columns).map_err(|e| Error::internal(format!("cannot assemble the request's rows: {e}")))
}

fn unknown_input(name: &str, binding: &Binding) -> Error {
    let inputs: Vec<&str> = binding.inputs.iter().map(|b| b.input.as_str()).collect();
    let columns: Vec<&str> = binding.inputs.iter().flat_map(|b| b.columns.iter().map(String::as_str)).collect();
    let hint = did_you_mean(name, inputs.iter().chain(columns.iter()).copied());
    Error::Invalid(format!(
        "the model has no input or column '{name}'{hint}; its inputs are {}, or send one input per column: {}",
        inputs.join(", "),
        columns.join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(datatype: Datatype, shape: &[i64], json: &str) -> Result<Values> {
        let (dims, count) = check_shape("x", shape)?;
        let raw: Box<RawValue> = serde_json::from_str(json).unwrap();
        from_json("x", datatype, &dims, count, &raw)
    }

    #[test]
    fn nested_and_flat_data_read_the_same() {
        let flat = read(Datatype::F32, &[2, 2], "[1, 2.5, null, 4]").unwrap();
        let nested = read(Datatype::F32, &[2, 2], "[[1, 2.5], [null, 4]]").unwrap();
        assert_eq!(flat, nested);
        assert_eq!(flat, Values::Float(vec![Some(1.0), Some(2.5), None, Some(4.0)]));
        let text = read(Datatype::Bytes, &[2], r#"["a", "b\"c"]"#).unwrap();
        assert_eq!(text, Values::Text(vec![Some("a".into()), Some("b\"c".into())]));
    }

    #[test]
    fn wrong_values_are_named_by_row() {
        let e = read(Datatype::Int(8), &[3, 1], r#"[1, 2, "abc"]"#).unwrap_err().to_string();
        assert!(e.contains("'x'") && e.contains("'abc'") && e.contains("row 3") && e.contains("INT64"), "{e}");
        let e = read(Datatype::Int(8), &[2, 2], "[1, 2, 3.5, 4]").unwrap_err().to_string();
        assert!(e.contains("3.5") && e.contains("row 2"), "{e}");
        let e = read(Datatype::Int(8), &[1], &format!("[\"{}\"]", "\\u0000NaN")).unwrap_err().to_string();
        assert!(e.contains("NaN") && e.contains("missing"), "{e}");
        let e = read(Datatype::F32, &[3], "[1, 2]").unwrap_err().to_string();
        assert!(e.contains("holds 3 values") && e.contains("has 2"), "{e}");
        assert!(read(Datatype::F32, &[1], r#"[{"a": 1}]"#).is_err());
        assert!(read(Datatype::F32, &[-1], "[1]").unwrap_err().to_string().contains("actual sizes"));
        assert!(read(Datatype::F32, &[1, 1, 1], "[1]").is_err());
        assert!(read(Datatype::F16, &[1], "[1]").unwrap_err().to_string().contains("binary"));
    }
}
