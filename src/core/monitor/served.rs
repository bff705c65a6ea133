//! Monitoring what was served: a prediction log folder read as current data, its logged outputs
//! used as they are (no re-scoring — they are what the clients got), its late labels joined
//! ([`super::labels`]). Shadow rows are left out: nobody received them.

use std::path::Path;

use polars::prelude::*;

use super::labels::{join_labels, read_labels};
use crate::core::error::{Error, Location, Result};
use crate::core::metrics::ClassificationData;
use crate::core::model::info::{ModelInfo, Task};

/// The columns every prediction log row starts with, before the model's inputs and outputs (the
/// server writes them: [`crate::core::serving::predlog`]). `request_id` and `row` (the row's
/// position in its request) are what late labels are joined on.
pub const META_COLUMNS: [&str; 9] =
    ["time", "request_id", "row", "model", "version", "arm", "sticky", "key", "latency_ms"];

/// A prediction log read for monitoring.
#[derive(Debug, Clone)]
pub struct ServedRows {
    /// The rows clients were answered for: the logged inputs, and `time`.
    pub inputs: DataFrame,
    /// The logged output columns (`label`, `p_<class>`, `prediction`), row for row.
    pub outputs: DataFrame,
    /// Each row's late label, where one arrived.
    pub labels: Vec<Option<String>>,
    /// Labels that matched no logged row.
    pub unmatched_labels: usize,
    /// Rows refused because they failed the model's contract (`rejected/`): each reason with its
    /// count of rows, the most frequent first.
    pub rejected: Vec<(String, usize)>,
}

impl ServedRows {
    /// Rows refused in all.
    pub fn rejected_rows(&self) -> usize {
        self.rejected.iter().map(|(_, n)| n).sum()
    }
}

/// Whether `path` is a prediction log's model folder (Parquet segments with the log's columns).
pub fn is_prediction_log(path: &Path) -> bool {
    path.is_dir()
        && crate::core::table::TableReader::open(path, 1)
            .is_ok_and(|r| ["request_id", "arm", "version", "time"].iter().all(|c| r.columns().iter().any(|x| x == c)))
}

/// Whether `column` is one of the output columns Mirador writes: exactly the model's, when it is
/// known (an input named `p_x` stays an input); else by their form (`label`, `p_<class>`,
/// `prediction…`).
fn is_output(column: &str, outputs: Option<&[String]>) -> bool {
    match outputs {
        Some(names) => names.iter().any(|n| n == column),
        None => {
            column == "label" || column == "prediction" || column.starts_with("p_") || column.starts_with("prediction_")
        }
    }
}

/// Read the log folder `path`: the rows clients got (not the shadow's), split into inputs and
/// outputs — `outputs` names the model's output columns ([`crate::core::session::output_columns`])
/// when the model is known — with their labels.
pub fn read_served(path: &Path, outputs: Option<&[String]>) -> Result<ServedRows> {
    let frame = crate::core::table::read_table(path, &Default::default())?;
    let arm = frame
        .column("arm")
        .and_then(|c| c.cast(&DataType::String))
        .map_err(|_| Error::data("the prediction log has no 'arm' column", Location::file(Some(path))))?;
    let served = arm
        .str()
        .map_err(|e| Error::internal(e.to_string()))?
        .iter()
        .map(|a| a != Some("shadow"))
        .collect::<BooleanChunked>();
    let frame = frame.filter(&served).map_err(|e| Error::internal(format!("cannot read the log's rows: {e}")))?;
    if frame.height() == 0 {
        return Err(Error::data("the prediction log has no served rows yet", Location::file(Some(path))));
    }
    let labels_dir = path.join("labels");
    let joined = join_labels(&frame, &read_labels(&labels_dir)?)?;
    let names: Vec<String> = frame.get_column_names().iter().map(|c| c.to_string()).collect();
    let pick = |keep: &dyn Fn(&str) -> bool| -> Result<DataFrame> {
        frame
            .select(names.iter().filter(|c| keep(c)).map(String::as_str))
            .map_err(|e| Error::internal(format!("cannot read the log's columns: {e}")))
    };
    let inputs = pick(&|c| (c == "time" || !META_COLUMNS.contains(&c)) && !is_output(c, outputs))?;
    let outputs = pick(&|c| is_output(c, outputs))?;
    Ok(ServedRows {
        inputs,
        outputs,
        labels: joined.labels,
        unmatched_labels: joined.unmatched,
        rejected: rejected(path)?,
    })
}

/// The reasons rows were refused, with their counts (none when no row was).
fn rejected(path: &Path) -> Result<Vec<(String, usize)>> {
    let dir = path.join("rejected");
    if !dir.is_dir() {
        return Ok(Vec::new());
    }
    let frame = crate::core::table::read_table(&dir, &Default::default())?;
    let errors = frame
        .column("error")
        .and_then(|c| c.cast(&DataType::String))
        .map_err(|_| Error::data("the refused rows have no 'error' column", Location::file(Some(&dir))))?;
    let mut counts: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for e in errors.str().map_err(|e| Error::internal(e.to_string()))?.iter() {
        *counts.entry(e.unwrap_or_default().to_string()).or_default() += 1;
    }
    let mut out: Vec<(String, usize)> = counts.into_iter().collect();
    out.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    Ok(out)
}

/// A classifier's logged rows as metrics data, with which of them have a late label.
pub type LateLabels = (ClassificationData, Vec<bool>);

impl ServedRows {
    /// Each row's score as the model gave it — the positive-class probability of a classifier
    /// (`p_<class>`), the value of a regressor (`prediction`) — and, for a classifier, the rows
    /// with a label as metrics data plus which rows those are.
    pub fn scores(&self, info: &ModelInfo) -> Result<(Vec<f64>, Option<LateLabels>)> {
        let floats = |column: &str| -> Result<Vec<f64>> {
            let c = self.outputs.column(column).map_err(|_| {
                Error::data(
                    format!("the prediction log has no '{column}' column, so it is not {}'s log", info.name),
                    Location::default().column(column),
                )
            })?;
            let c = c.cast(&DataType::Float64).map_err(|e| Error::internal(e.to_string()))?;
            Ok(c.f64().map_err(|e| Error::internal(e.to_string()))?.iter().map(|v| v.unwrap_or(f64::NAN)).collect())
        };
        match &info.task {
            Task::Classification { classes, .. } => {
                let positive = crate::core::evaluate::positive_index(info, classes, None)?;
                let columns: Vec<Vec<f64>> =
                    classes.iter().map(|c| floats(&format!("p_{c}"))).collect::<Result<_>>()?;
                let n = self.outputs.height();
                let k = classes.len();
                let mut proba = Vec::with_capacity(n * k);
                for i in 0..n {
                    proba.extend(columns.iter().map(|c| c[i]));
                }
                let scores = columns[positive].clone();
                let mut mask = vec![false; n];
                let mut y_true = vec![0; n];
                for (i, label) in self.labels.iter().enumerate() {
                    if let Some(index) = label.as_ref().and_then(|l| classes.iter().position(|c| c == l)) {
                        mask[i] = true;
                        y_true[i] = index;
                    }
                }
                let data = ClassificationData::new(classes.clone(), positive, y_true, proba)?;
                Ok((scores, Some((data, mask))))
            }
            Task::Regression { .. } => {
                let first =
                    self.outputs.get_column_names().iter().find(|c| c.starts_with("prediction")).map(|c| c.to_string());
                let column = first.unwrap_or_else(|| "prediction".into());
                Ok((floats(&column)?, None))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_models_output_columns_decide_which_logged_columns_are_outputs() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("m");
        std::fs::create_dir_all(&log).unwrap();
        let n = 2;
        let mut frame = DataFrame::new(
            n,
            vec![
                Column::new("time".into(), ["2026-12-02T10:00:00Z"; 2]),
                Column::new("request_id".into(), ["a", "b"]),
                Column::new("row".into(), [0i64, 0]),
                Column::new("model".into(), ["m"; 2]),
                Column::new("version".into(), ["1"; 2]),
                Column::new("arm".into(), ["champion", "shadow"]),
                Column::new("sticky".into(), [false; 2]),
                Column::new("latency_ms".into(), [1.0; 2]),
                // An input whose name looks like an output column.
                Column::new("p_extra".into(), [0.5, 0.6]),
                Column::new("label".into(), [1i64, 0]),
                Column::new("p_0".into(), [0.2f32, 0.9]),
                Column::new("p_1".into(), [0.8f32, 0.1]),
            ],
        )
        .unwrap();
        let file = std::fs::File::create(log.join("segment.parquet")).unwrap();
        ParquetWriter::new(file).finish(&mut frame).unwrap();
        let names = ["label", "p_0", "p_1"].map(String::from);
        let known = read_served(&log, Some(&names)).unwrap();
        let columns = |f: &DataFrame| f.get_column_names().iter().map(|c| c.to_string()).collect::<Vec<_>>();
        assert_eq!(columns(&known.outputs), names);
        assert_eq!(columns(&known.inputs), ["time", "p_extra"]);
        assert_eq!(known.inputs.height(), 1, "the shadow's row is left out");
        // Without the model, the names' form decides, and p_extra is taken for an output.
        let guessed = read_served(&log, None).unwrap();
        assert_eq!(columns(&guessed.outputs), ["p_extra", "label", "p_0", "p_1"]);
    }
}
