//! A request's rows made ready for the batcher: every column the model reads must be there, every
//! value goes through the same conversion a file goes through (so a bad value is named by its row
//! and column exactly as in a CSV), and the columns are typed as the model reads them, so that rows
//! of different requests stack.

use polars::prelude::*;

use crate::core::contract::Binding;
use crate::core::convert::{BatchContext, Findings, canonical_columns};
use crate::core::error::{Error, Result};
use crate::core::model::info::ModelInfo;
use crate::core::text::did_you_mean;

/// Check `frame` (one request's rows, any column types) against the model and return the model's
/// columns typed as it reads them.
pub fn prepare(info: &ModelInfo, binding: &Binding, frame: &DataFrame) -> Result<DataFrame> {
    prepare_at(info, binding, frame, 0)
}

/// The rows of `frame` (by index, ascending) that fail the contract, each with the rule that
/// caught it (naming its row in the request, 1-based): halves are checked until each bad row
/// stands alone. Empty when every row fits; the error itself when the request fails for another
/// reason (a missing column).
pub fn failing_rows(info: &ModelInfo, binding: &Binding, frame: &DataFrame) -> Result<Vec<(usize, String)>> {
    crate::core::convert::failing_rows_by_halves(frame.height(), |start, len| {
        match prepare_at(info, binding, &frame.slice(start as i64, len), start as u64) {
            Ok(_) => Ok(None),
            Err(e @ Error::Data { .. }) => Ok(Some(e.to_string())),
            Err(e) => Err(e),
        }
    })
}

/// [`prepare`] for rows that start at row `first_row` of the request (for the rows its errors name).
fn prepare_at(info: &ModelInfo, binding: &Binding, frame: &DataFrame, first_row: u64) -> Result<DataFrame> {
    let present: Vec<&str> = frame.get_column_names().iter().map(|c| c.as_str()).collect();
    let missing: Vec<String> = binding
        .inputs
        .iter()
        .flat_map(|b| b.columns.iter().filter(|c| !present.contains(&c.as_str())).map(move |c| (c, &b.input)))
        .map(|(c, input)| if c == input { format!("'{c}'") } else { format!("'{c}' (for model input '{input}')") })
        .collect();
    if let Some(first) = missing.first() {
        let name = first.split('\'').nth(1).unwrap_or_default();
        let hint = did_you_mean(name, present.iter().copied());
        return Err(Error::Invalid(format!(
            "the request lacks {} the model needs: {}{hint}",
            if missing.len() == 1 { "a column" } else { "columns" },
            missing.join(", ")
        )));
    }
    let mut findings = Findings::fail_fast(info);
    let columns = canonical_columns(frame, binding, &BatchContext { file: None, first_row }, &mut findings)?;
    DataFrame::new(frame.height(), columns).map_err(|e| Error::internal(format!("cannot assemble the rows: {e}")))
}
