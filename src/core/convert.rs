//! Turning a batch of rows into the model's input tensors.
//!
//! This is the one place where values are checked against the model's types, so every problem —
//! a value that does not parse, a missing value where the model cannot take one, an unseen category —
//! is named with its row, column and value. In fail-fast mode (scoring) the first blocking problem
//! stops the run; in collect mode (the contract check) every problem is gathered and counted.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::ffi::CString;
use std::path::Path;

use ort::memory::Allocator;
use ort::value::{DynTensor, DynValue, Tensor, TensorElementType};
use polars::prelude::*;

use super::contract::{Binding, InputBinding};
use super::error::{Error, Location, Result};
use super::model::info::{ElemType, ModelInfo};
use super::problem::{Problem, ProblemKind, Severity};
use super::text::quote;

/// Where a batch sits in its file, for error locations.
#[derive(Debug, Clone, Copy)]
pub struct BatchContext<'a> {
    /// The data file.
    pub file: Option<&'a Path>,
    /// 0-based index of the batch's first row.
    pub first_row: u64,
}

/// Problems found while converting, per (kind, column): the first occurrence and a count.
pub struct Findings {
    fail_fast: bool,
    categories: HashMap<String, HashSet<String>>,
    found: BTreeMap<(ProblemKind, String), Problem>,
}

const MAX_LISTED_CATEGORIES: usize = 10;

impl Findings {
    /// Stop at the first blocking problem (scoring).
    pub fn fail_fast(info: &ModelInfo) -> Self {
        Self::new(info, true)
    }

    /// Gather every problem (the contract check).
    pub fn collect(info: &ModelInfo) -> Self {
        Self::new(info, false)
    }

    fn new(info: &ModelInfo, fail_fast: bool) -> Self {
        let categories = info.known_categories.iter().map(|(k, v)| (k.clone(), v.iter().cloned().collect())).collect();
        Self { fail_fast, categories, found: BTreeMap::new() }
    }

    /// The problems found so far.
    pub fn into_problems(self) -> Vec<Problem> {
        self.found.into_values().collect()
    }

    /// Non-blocking problems found so far (for a scoring summary).
    pub fn warnings(&self) -> Vec<Problem> {
        self.found.values().filter(|p| p.severity != Severity::Blocking).cloned().collect()
    }

    #[allow(clippy::too_many_arguments)]
    fn report(
        &mut self,
        kind: ProblemKind,
        col: &str,
        input: &str,
        row: u64,
        value: Option<&str>,
        expected: &str,
        ctx: &BatchContext,
    ) -> Result<()> {
        let severity = kind.severity();
        let shown = quote(value.unwrap_or(""));
        let message = match kind {
            ProblemKind::BadValue => {
                format!("column '{col}' has {shown} at row {row}, which is not a valid {expected}")
            }
            ProblemKind::MissingValue => {
                format!("column '{col}' is empty at row {row} but model input '{input}' cannot take a missing value")
            }
            ProblemKind::NonFinite => format!("column '{col}' has the non-finite value {shown} at row {row}"),
            ProblemKind::UnseenCategory => {
                format!("column '{col}' has categories the model was not trained on, first {shown} at row {row}")
            }
            _ => format!("column '{col}': problem at row {row}"),
        };
        if severity == Severity::Blocking && self.fail_fast {
            let location = Location::file(ctx.file).row(row).column(col);
            let text = match kind {
                ProblemKind::BadValue => format!("{shown} is not a valid {expected}"),
                _ => format!("empty value, but model input '{input}' cannot take a missing value"),
            };
            return Err(Error::data(text, location));
        }
        let entry = self.found.entry((kind, col.to_string())).or_insert_with(|| Problem {
            kind,
            severity,
            column: Some(col.to_string()),
            input: Some(input.to_string()),
            row: Some(row),
            value: value.map(|v| if v.len() > 4 * super::text::QUOTE_LIMIT { quote(v) } else { v.to_string() }),
            count: 0,
            message,
        });
        entry.count += 1;
        if kind == ProblemKind::UnseenCategory
            && let Some(v) = value
            && entry.count <= MAX_LISTED_CATEGORIES as u64
            && !entry.message.contains(&quote(v))
        {
            entry.message.push_str(&format!(", {}", quote(v)));
        }
        Ok(())
    }
}

/// One model input, converted and handed to ONNX Runtime.
#[derive(Debug)]
pub struct InputTensor {
    /// Input name.
    pub name: String,
    /// Rows in the batch.
    pub rows: usize,
    /// The tensor (`[N]` or `[N, k]`).
    pub value: DynValue,
}

/// The rows (by index, ascending) of a batch of `len` rows that fail, each with its message: halves
/// are checked until each failing row stands alone, so a few bad rows cost a few checks, not one per
/// row. `check(start, len)` says whether those rows pass (`Ok(None)`) or fail (`Ok(Some(message))`);
/// an `Err` — a failure that is no row's — stops the search and is returned. The first check is of
/// every row, so a batch that passes costs one.
pub fn failing_rows_by_halves<E>(
    len: usize,
    mut check: impl FnMut(usize, usize) -> std::result::Result<Option<String>, E>,
) -> std::result::Result<Vec<(usize, String)>, E> {
    let mut bad = Vec::new();
    let mut parts = vec![(0usize, len)];
    while let Some((start, len)) = parts.pop() {
        if len == 0 {
            continue;
        }
        match check(start, len)? {
            None => {}
            Some(message) if len == 1 => bad.push((start, message)),
            Some(_) => {
                let half = len / 2;
                parts.push((start + half, len - half));
                parts.push((start, half));
            }
        }
    }
    bad.sort_by_key(|b| b.0);
    Ok(bad)
}

/// Convert `frame` into one tensor per bound input.
pub fn convert_batch(
    frame: &DataFrame,
    binding: &Binding,
    ctx: &BatchContext,
    findings: &mut Findings,
) -> Result<Vec<InputTensor>> {
    binding.inputs.iter().map(|b| convert_input(frame, b, ctx, findings)).collect()
}

/// Check `frame`'s values for every bound input (as [`convert_batch`] does, naming each bad value)
/// and return the bound columns typed as the model reads them — floats as `Float64` (missing as
/// null), integers as `Int64`, text and booleans as `String` — in binding order, each once. Rows so
/// typed stack with other rows so typed, whatever types they arrived in.
pub fn canonical_columns(
    frame: &DataFrame,
    binding: &Binding,
    ctx: &BatchContext,
    findings: &mut Findings,
) -> Result<Vec<Column>> {
    let mut out: Vec<Column> = Vec::new();
    for b in &binding.inputs {
        for col in &b.columns {
            if out.iter().any(|c| c.name().as_str() == col) {
                continue;
            }
            let column = frame
                .column(col)
                .map_err(|_| Error::data("column not found", Location::file(ctx.file).column(col.clone())))?;
            let s = column.as_materialized_series();
            let typed = match &b.elem {
                ElemType::Float32 | ElemType::Float64 => {
                    Column::new(col.as_str().into(), floats(s, &b.input, ctx, findings)?)
                }
                ElemType::Int64 | ElemType::Int32 => {
                    Column::new(col.as_str().into(), integers(s, &b.input, ctx, findings)?)
                }
                ElemType::Bool => {
                    booleans(s, &b.input, ctx, findings)?;
                    as_text(s, ctx)?.into_column()
                }
                ElemType::String => {
                    let text = as_text(s, ctx)?;
                    strings(&text, &b.input, ctx, findings)?;
                    text.into_column()
                }
                ElemType::Other(t) => {
                    return Err(Error::Invalid(format!("model input '{}' has the unsupported type {t}", b.input)));
                }
            };
            out.push(typed);
        }
    }
    Ok(out)
}

fn convert_input(
    frame: &DataFrame,
    b: &InputBinding,
    ctx: &BatchContext,
    findings: &mut Findings,
) -> Result<InputTensor> {
    let rows = frame.height();
    let width = b.columns.len();
    let shape = if b.rank == 1 { vec![rows] } else { vec![rows, width] };
    let mut columns = Vec::with_capacity(width);
    for col in &b.columns {
        let column = frame
            .column(col)
            .map_err(|_| Error::data("column not found", Location::file(ctx.file).column(col.clone())))?;
        columns.push(column.as_materialized_series());
    }
    let value = match &b.elem {
        ElemType::Float32 | ElemType::Float64 => {
            let cols = columns.iter().map(|s| floats(s, &b.input, ctx, findings)).collect::<Result<Vec<_>>>()?;
            if b.elem == ElemType::Float32 {
                tensor(shape, interleave(&cols, rows, |v| *v as f32))?
            } else {
                tensor(shape, interleave(&cols, rows, |v| *v))?
            }
        }
        ElemType::Int64 | ElemType::Int32 => {
            let cols = columns.iter().map(|s| integers(s, &b.input, ctx, findings)).collect::<Result<Vec<_>>>()?;
            if b.elem == ElemType::Int64 {
                tensor(shape, interleave(&cols, rows, |v| *v))?
            } else {
                tensor(shape, interleave(&cols, rows, |v| *v as i32))?
            }
        }
        ElemType::String => {
            // Each distinct value is copied once into a `CString`, then by ONNX Runtime into the tensor.
            let texts = columns.iter().map(|s| as_text(s, ctx)).collect::<Result<Vec<_>>>()?;
            string_tensor(&texts, shape, &b.input, ctx, findings)?
        }
        ElemType::Bool => {
            let cols = columns.iter().map(|s| booleans(s, &b.input, ctx, findings)).collect::<Result<Vec<_>>>()?;
            tensor(shape, interleave(&cols, rows, |v| *v))?
        }
        ElemType::Other(t) => {
            return Err(Error::Invalid(format!("model input '{}' has the unsupported type {t}", b.input)));
        }
    };
    Ok(InputTensor { name: b.input.clone(), rows, value })
}

fn string_tensor(
    texts: &[Series],
    shape: Vec<usize>,
    input: &str,
    ctx: &BatchContext,
    findings: &mut Findings,
) -> Result<DynValue> {
    let rows = shape[0];
    let mut cols = Vec::with_capacity(texts.len());
    for text in texts {
        cols.push(strings(text, input, ctx, findings)?);
    }
    let pointers: Vec<Vec<*const std::ffi::c_char>> = cols.iter().map(Interned::pointers).collect();
    let flat = interleave(&pointers, rows, |p| *p);
    let mut tensor = DynTensor::new(&Allocator::default(), TensorElementType::String, shape)?;
    fill_strings(&mut tensor, &flat)?;
    Ok(tensor.into_dyn())
}

/// Copy NUL-terminated strings into a string tensor of the same element count.
///
/// One of the crate's two `unsafe` blocks (the other, in `main`, switches off ONNX Runtime's
/// telemetry before any thread starts). `ort`'s safe `Tensor::from_string_array` allocates a
/// `CString` per element (a million rows of five text columns: five million allocations), so the
/// text is handed over as pointers to each distinct value's single `CString` instead.
#[allow(unsafe_code)]
fn fill_strings(tensor: &mut DynTensor, pointers: &[*const std::ffi::c_char]) -> Result<()> {
    use ort::AsPointer;
    let elements: usize = tensor.shape().iter().map(|&d| d.max(0) as usize).product();
    if elements != pointers.len() {
        return Err(Error::internal(format!("{} strings for a tensor of {elements}", pointers.len())));
    }
    // SAFETY: `tensor` is a live CPU string tensor of exactly `pointers.len()` elements, created by
    // `DynTensor::new`; every pointer points into a `CString` owned by the caller's `Interned`
    // dictionaries, alive for the whole call. ONNX Runtime copies each string into the tensor and
    // keeps no pointer, and the returned status is owned and released by `result_from_status`.
    unsafe {
        let status = (ort::api().FillStringTensor)(tensor.ptr_mut(), pointers.as_ptr(), pointers.len());
        ort::Error::result_from_status(status)?;
    }
    Ok(())
}

fn tensor<T: ort::value::PrimitiveTensorElementType + std::fmt::Debug + Clone + 'static>(
    shape: Vec<usize>,
    data: Vec<T>,
) -> Result<DynValue> {
    Ok(Tensor::from_array((shape, data.into_boxed_slice()))?.into_dyn())
}

/// Row-major `[rows, cols.len()]` from column vectors.
fn interleave<T, U>(cols: &[Vec<T>], rows: usize, f: impl Fn(&T) -> U) -> Vec<U> {
    if cols.len() == 1 {
        return cols[0].iter().map(f).collect();
    }
    let mut out = Vec::with_capacity(rows * cols.len());
    for r in 0..rows {
        for c in cols {
            out.push(f(&c[r]));
        }
    }
    out
}

fn row_of(ctx: &BatchContext, i: usize) -> u64 {
    ctx.first_row + i as u64 + 1
}

fn unsupported_dtype(s: &Series, ctx: &BatchContext) -> Error {
    Error::data(
        format!("columns of type {} cannot feed this model input", s.dtype()),
        Location::file(ctx.file).column(s.name().to_string()),
    )
}

fn floats(s: &Series, input: &str, ctx: &BatchContext, f: &mut Findings) -> Result<Vec<f64>> {
    let col = s.name().as_str();
    let mut out = Vec::with_capacity(s.len());
    if let Ok(text) = s.str() {
        for (i, v) in text.iter().enumerate() {
            let v = v.map(str::trim).filter(|v| !v.is_empty());
            match v.map(|t| (t, t.parse::<f64>())) {
                None => out.push(f64::NAN),
                Some((_, Ok(x))) => {
                    if x.is_infinite() {
                        f.report(ProblemKind::NonFinite, col, input, row_of(ctx, i), v, "number", ctx)?;
                    }
                    out.push(x);
                }
                Some((t, Err(_))) => {
                    f.report(ProblemKind::BadValue, col, input, row_of(ctx, i), Some(t), "number", ctx)?;
                    out.push(f64::NAN);
                }
            }
        }
        return Ok(out);
    }
    if !(s.dtype().is_primitive_numeric() || s.dtype().is_bool()) {
        return Err(unsupported_dtype(s, ctx));
    }
    let cast = s.cast(&DataType::Float64).map_err(|_| unsupported_dtype(s, ctx))?;
    let ca = cast.f64().map_err(|_| unsupported_dtype(s, ctx))?;
    if ca.null_count() == 0 {
        out.extend(ca.into_no_null_iter());
        if let Some(i) = out.iter().position(|x| x.is_infinite()) {
            for (j, x) in out.iter().enumerate().skip(i).filter(|(_, x)| x.is_infinite()) {
                f.report(ProblemKind::NonFinite, col, input, row_of(ctx, j), Some(&x.to_string()), "number", ctx)?;
            }
        }
        return Ok(out);
    }
    for (i, v) in ca.iter().enumerate() {
        let x = v.unwrap_or(f64::NAN);
        if x.is_infinite() {
            f.report(ProblemKind::NonFinite, col, input, row_of(ctx, i), Some(&x.to_string()), "number", ctx)?;
        }
        out.push(x);
    }
    Ok(out)
}

fn integers(s: &Series, input: &str, ctx: &BatchContext, f: &mut Findings) -> Result<Vec<i64>> {
    let col = s.name().as_str();
    let mut out = Vec::with_capacity(s.len());
    let whole = |x: f64| (x.is_finite() && x.fract() == 0.0 && x.abs() < 9.0e15).then_some(x as i64);
    if let Ok(text) = s.str() {
        for (i, v) in text.iter().enumerate() {
            let v = v.map(str::trim).filter(|v| !v.is_empty());
            let parsed = v.map(|t| t.parse::<i64>().ok().or_else(|| t.parse::<f64>().ok().and_then(whole)));
            match parsed {
                Some(Some(x)) => out.push(x),
                Some(None) => {
                    f.report(ProblemKind::BadValue, col, input, row_of(ctx, i), v, "whole number", ctx)?;
                    out.push(0);
                }
                None => {
                    f.report(ProblemKind::MissingValue, col, input, row_of(ctx, i), None, "whole number", ctx)?;
                    out.push(0);
                }
            }
        }
        return Ok(out);
    }
    if s.dtype().is_integer() || s.dtype().is_bool() {
        let cast = s.cast(&DataType::Int64).map_err(|_| unsupported_dtype(s, ctx))?;
        let ca = cast.i64().map_err(|_| unsupported_dtype(s, ctx))?;
        if ca.null_count() == 0 {
            out.extend(ca.into_no_null_iter());
            return Ok(out);
        }
        for (i, v) in ca.iter().enumerate() {
            if v.is_none() {
                f.report(ProblemKind::MissingValue, col, input, row_of(ctx, i), None, "whole number", ctx)?;
            }
            out.push(v.unwrap_or(0));
        }
        return Ok(out);
    }
    if s.dtype().is_float() {
        let cast = s.cast(&DataType::Float64).map_err(|_| unsupported_dtype(s, ctx))?;
        for (i, v) in cast.f64().map_err(|_| unsupported_dtype(s, ctx))?.iter().enumerate() {
            match v.filter(|x| !x.is_nan()) {
                None => f.report(ProblemKind::MissingValue, col, input, row_of(ctx, i), None, "whole number", ctx)?,
                Some(x) if whole(x).is_none() => {
                    f.report(
                        ProblemKind::BadValue,
                        col,
                        input,
                        row_of(ctx, i),
                        Some(&x.to_string()),
                        "whole number",
                        ctx,
                    )?;
                }
                Some(_) => {}
            }
            out.push(v.and_then(whole).unwrap_or(0));
        }
        return Ok(out);
    }
    Err(unsupported_dtype(s, ctx))
}

fn as_text(s: &Series, ctx: &BatchContext) -> Result<Series> {
    if s.dtype() == &DataType::String {
        Ok(s.clone())
    } else {
        s.cast(&DataType::String).map_err(|_| unsupported_dtype(s, ctx))
    }
}

/// Distinct values kept per column before interning stops (high-cardinality text is not repeated).
const MAX_INTERNED: usize = 4096;

/// A text column as NUL-terminated values: each distinct value stored once, one index per row.
struct Interned {
    values: Vec<CString>,
    rows: Vec<u32>,
}

impl Interned {
    /// One pointer per row, into `values` (valid while `self` lives).
    fn pointers(&self) -> Vec<*const std::ffi::c_char> {
        let values: Vec<*const std::ffi::c_char> = self.values.iter().map(|v| v.as_ptr()).collect();
        self.rows.iter().map(|&i| values[i as usize]).collect()
    }
}

/// The column's values with repeats shared (categories repeat, so most rows cost a lookup, not an
/// allocation), checking each distinct value against the model's known categories once.
fn strings(text: &Series, input: &str, ctx: &BatchContext, f: &mut Findings) -> Result<Interned> {
    let col = text.name().as_str();
    let known = f.categories.get(col).or_else(|| f.categories.get(input)).cloned();
    let values = text.str().map_err(|_| unsupported_dtype(text, ctx))?;
    let mut index: HashMap<&str, (u32, bool), foldhash::fast::RandomState> = HashMap::default();
    let mut out = Interned { values: vec![CString::default()], rows: Vec::with_capacity(text.len()) };
    for (i, v) in values.iter().enumerate() {
        let Some(v) = v else {
            f.report(ProblemKind::MissingValue, col, input, row_of(ctx, i), None, "text", ctx)?;
            out.rows.push(0);
            continue;
        };
        let (code, seen) = match index.get(v) {
            Some(&found) => found,
            None => {
                let seen = known.as_ref().is_none_or(|k| k.contains(v));
                let value = CString::new(v).map_err(|_| {
                    Error::data(
                        "the text contains a NUL byte",
                        Location::file(ctx.file).row(row_of(ctx, i)).column(col),
                    )
                })?;
                let code = u32::try_from(out.values.len())
                    .map_err(|_| Error::TooLarge(format!("column '{col}' has more than 4 billion distinct values")))?;
                out.values.push(value);
                if index.len() < MAX_INTERNED {
                    index.insert(v, (code, seen));
                }
                (code, seen)
            }
        };
        if !seen {
            f.report(ProblemKind::UnseenCategory, col, input, row_of(ctx, i), Some(v), "text", ctx)?;
        }
        out.rows.push(code);
    }
    Ok(out)
}

fn booleans(s: &Series, input: &str, ctx: &BatchContext, f: &mut Findings) -> Result<Vec<bool>> {
    let col = s.name().as_str();
    let mut out = Vec::with_capacity(s.len());
    let text = s.cast(&DataType::String).map_err(|_| unsupported_dtype(s, ctx))?;
    for (i, v) in text.str().map_err(|_| unsupported_dtype(s, ctx))?.iter().enumerate() {
        let parsed = v.map(|t| match t.trim().to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" => Some(true),
            "false" | "0" | "no" => Some(false),
            _ => None,
        });
        match parsed {
            Some(Some(b)) => out.push(b),
            Some(None) => {
                f.report(ProblemKind::BadValue, col, input, row_of(ctx, i), v, "true/false value", ctx)?;
                out.push(false);
            }
            None => {
                f.report(ProblemKind::MissingValue, col, input, row_of(ctx, i), None, "true/false value", ctx)?;
                out.push(false);
            }
        }
    }
    Ok(out)
}
