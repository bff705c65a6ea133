//! Late labels: the true outcome of served rows, known days after the prediction. They are kept
//! beside the prediction log, in `<log>/<model>/labels/`, as Parquet files that appear whole
//! (written to a temporary, then renamed) — the server's feedback route and `mirador feedback`
//! write them, monitoring joins them to the logged rows.
//!
//! A label names its row either by the request (`request_id` and the row's position in it, as
//! the log records them) or by a key (`key_column` and its value: a customer id, an account
//! number — any column the log holds). A later label for the same row replaces an earlier one.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use polars::prelude::*;

use crate::core::atomic::temp_beside;
use crate::core::error::{Error, Location, Result};
use crate::core::table::cell_text;

/// The columns of a labels file.
pub const LABEL_COLUMNS: [&str; 6] = ["time", "request_id", "row", "key_column", "key", "label"];

/// One late label.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelRecord {
    /// When it arrived (RFC 3339, UTC).
    pub time: String,
    /// The request it is for (with `row`), or none when it goes by key.
    pub request_id: Option<String>,
    /// The row's position in its request (0 when not given).
    pub row: Option<u32>,
    /// The column `key` is a value of, when it goes by key.
    pub key_column: Option<String>,
    /// The key's value.
    pub key: Option<String>,
    /// The true value, as text (a class label or a number).
    pub label: String,
}

/// The labels folder of `model` in the prediction log `log_dir`.
pub fn labels_dir(log_dir: &Path, model: &str) -> PathBuf {
    log_dir.join(model).join("labels")
}

/// Write `records` as a new file in `dir` (created if needed); returns its path.
pub fn write_labels(dir: &Path, records: &[LabelRecord]) -> Result<PathBuf> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io("create the labels folder", dir, e))?;
    let n = records.len();
    let text = |f: fn(&LabelRecord) -> Option<&str>| -> Vec<Option<&str>> { records.iter().map(f).collect() };
    let mut frame = DataFrame::new(
        n,
        vec![
            Column::new("time".into(), records.iter().map(|r| r.time.as_str()).collect::<Vec<_>>()),
            Column::new("request_id".into(), text(|r| r.request_id.as_deref())),
            Column::new("row".into(), records.iter().map(|r| r.row).collect::<Vec<Option<u32>>>()),
            Column::new("key_column".into(), text(|r| r.key_column.as_deref())),
            Column::new("key".into(), text(|r| r.key.as_deref())),
            Column::new("label".into(), records.iter().map(|r| r.label.as_str()).collect::<Vec<_>>()),
        ],
    )
    .map_err(|e| Error::internal(format!("cannot assemble the labels: {e}")))?;
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%S%.6fZ");
    let target = dir.join(format!("{stamp}-{}.parquet", std::process::id()));
    let temp = temp_beside(&target, "write the labels")?;
    let file = temp.as_file().try_clone().map_err(|e| Error::io("write the labels", &target, e))?;
    ParquetWriter::new(file)
        .finish(&mut frame)
        .map_err(|e| Error::io("write the labels", &target, std::io::Error::other(e.to_string())))?;
    temp.as_file().sync_all().map_err(|e| Error::io("write the labels", &target, e))?;
    temp.persist(&target).map_err(|e| Error::io("write the labels", &target, e))?;
    Ok(target)
}

/// Every label in `dir`, oldest file first (none when the folder does not exist).
pub fn read_labels(dir: &Path) -> Result<Vec<LabelRecord>> {
    if !dir.is_dir() {
        return Ok(Vec::new());
    }
    let frame = crate::core::table::read_table(dir, &Default::default())?;
    let text = |name: &str| -> Result<Vec<Option<String>>> {
        let column = frame
            .column(name)
            .map_err(|_| Error::data("a labels file lacks this column", Location::file(Some(dir)).column(name)))?;
        Ok((0..frame.height()).map(|i| column.get(i).ok().filter(|v| !v.is_null()).map(|v| cell_text(&v))).collect())
    };
    let (time, ids, rows, key_columns, keys, labels) =
        (text("time")?, text("request_id")?, text("row")?, text("key_column")?, text("key")?, text("label")?);
    let mut out = Vec::with_capacity(frame.height());
    for i in 0..frame.height() {
        let Some(label) = labels[i].clone() else { continue };
        out.push(LabelRecord {
            time: time[i].clone().unwrap_or_default(),
            request_id: ids[i].clone(),
            row: rows[i].as_deref().and_then(|r| r.parse().ok()),
            key_column: key_columns[i].clone(),
            key: keys[i].clone(),
            label,
        });
    }
    Ok(out)
}

/// Labels joined to a log's rows.
#[derive(Debug, Clone, PartialEq)]
pub struct Joined {
    /// Per log row, its label (the latest one that names it).
    pub labels: Vec<Option<String>>,
    /// Labels that named a row of the log.
    pub matched: usize,
    /// Labels that named none (an unknown request or key, or a column the log lacks).
    pub unmatched: usize,
}

/// Join `records` to `log`'s rows: by `request_id` and `row` (a log without a `row` column: 0),
/// or by a key column's value.
pub fn join_labels(log: &DataFrame, records: &[LabelRecord]) -> Result<Joined> {
    let n = log.height();
    let column_text = |name: &str| -> Option<Vec<String>> {
        let c = log.column(name).ok()?;
        let s = c.cast(&DataType::String).ok()?;
        let s = s.str().ok()?;
        Some(s.iter().map(|v| v.unwrap_or_default().to_string()).collect())
    };
    let mut by_request: HashMap<(String, u32), Vec<usize>> = HashMap::new();
    if let Some(ids) = column_text("request_id") {
        let positions: Vec<u32> = match column_text("row") {
            Some(r) => r.iter().map(|v| v.parse().unwrap_or(0)).collect(),
            None => vec![0; n],
        };
        for (i, (id, row)) in ids.into_iter().zip(positions).enumerate() {
            by_request.entry((id, row)).or_default().push(i);
        }
    }
    let mut by_key: HashMap<String, HashMap<String, Vec<usize>>> = HashMap::new();
    let mut labels = vec![None; n];
    let (mut matched, mut unmatched) = (0, 0);
    for r in records {
        let rows: Option<&Vec<usize>> = match (&r.request_id, &r.key_column, &r.key) {
            (Some(id), _, _) => by_request.get(&(id.clone(), r.row.unwrap_or(0))),
            (None, Some(column), Some(key)) => {
                if !by_key.contains_key(column)
                    && let Some(values) = column_text(column)
                {
                    let mut index: HashMap<String, Vec<usize>> = HashMap::new();
                    for (i, v) in values.into_iter().enumerate() {
                        index.entry(v).or_default().push(i);
                    }
                    by_key.insert(column.clone(), index);
                }
                by_key.get(column).and_then(|index| index.get(key))
            }
            _ => None,
        };
        match rows {
            Some(rows) => {
                matched += 1;
                for &i in rows {
                    labels[i] = Some(r.label.clone());
                }
            }
            None => unmatched += 1,
        }
    }
    Ok(Joined { labels, matched, unmatched })
}

/// What importing a labels file did.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Imported {
    /// The model whose log the labels joined.
    pub model: String,
    /// Labels read from the file (rows with an empty key or label are skipped).
    pub labels: usize,
    /// Labels that named a row of the log.
    pub matched: usize,
    /// Labels that named none.
    pub unmatched: usize,
    /// Logged rows now labelled, out of all logged rows.
    pub labelled_rows: usize,
    /// Logged rows.
    pub logged_rows: usize,
    /// The labels file written into the log.
    pub written: PathBuf,
}

/// The model folders of a prediction log.
pub fn logged_models(log_dir: &Path) -> Result<Vec<String>> {
    let entries = std::fs::read_dir(log_dir).map_err(|e| Error::io("read the prediction log", log_dir, e))?;
    let mut models: Vec<String> = entries
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with('.'))
        .collect();
    models.sort();
    Ok(models)
}

/// Import a file of late labels (CSV or Parquet: a key column and a label column) into the
/// prediction log `log_dir` of `model` (default: its only model): joined by `key` — `request_id`
/// (with a `row` column when requests had several rows) or any logged column — and written to
/// the model's `labels/` folder, matched or not, for monitoring to join.
pub fn import_labels(
    log_dir: &Path,
    model: Option<&str>,
    file: &Path,
    key: &str,
    target: Option<&str>,
) -> Result<Imported> {
    let models = logged_models(log_dir)?;
    let model = match model {
        Some(m) if models.iter().any(|x| x == m) => m.to_string(),
        Some(m) => {
            return Err(Error::NotFound(format!(
                "the prediction log {} has no model '{m}'{}; it has: {}",
                log_dir.display(),
                crate::core::text::did_you_mean(m, models.iter().map(String::as_str)),
                models.join(", ")
            )));
        }
        None if models.len() == 1 => models[0].clone(),
        None => {
            return Err(Error::Invalid(format!(
                "the prediction log {} holds {} models ({}); name one with --model",
                log_dir.display(),
                models.len(),
                models.join(", ")
            )));
        }
    };
    let log = crate::core::table::read_table(log_dir.join(&model), &Default::default())?;
    let labels = crate::core::table::read_table(file, &Default::default())?;
    let names: Vec<String> = labels.get_column_names().iter().map(|c| c.to_string()).collect();
    let need = |column: &str, frame: &DataFrame, path: &Path, what: &str| -> Result<()> {
        if frame.column(column).is_ok() {
            return Ok(());
        }
        let have: Vec<String> = frame.get_column_names().iter().map(|c| c.to_string()).collect();
        Err(Error::data(
            format!(
                "the {what} has no such column{}",
                crate::core::text::did_you_mean(column, have.iter().map(String::as_str))
            ),
            Location::file(Some(path)).column(column),
        ))
    };
    need(key, &labels, file, "labels file")?;
    need(key, &log, &log_dir.join(&model), "prediction log")?;
    let target = match target {
        Some(t) => {
            need(t, &labels, file, "labels file")?;
            t.to_string()
        }
        None => {
            let others: Vec<&String> = names.iter().filter(|c| *c != key && *c != "row").collect();
            match others.as_slice() {
                [only] => (*only).clone(),
                _ => {
                    return Err(Error::Invalid(format!(
                        "the labels file {} has columns {}; name the label column with --target",
                        file.display(),
                        names.join(", ")
                    )));
                }
            }
        }
    };
    let text = |column: &str| -> Vec<Option<String>> {
        let Ok(c) = labels.column(column) else { return vec![None; labels.height()] };
        (0..labels.height()).map(|i| c.get(i).ok().filter(|v| !v.is_null()).map(|v| cell_text(&v))).collect()
    };
    let (keys, values) = (text(key), text(&target));
    let rows: Vec<Option<u32>> = text("row").iter().map(|r| r.as_deref().and_then(|r| r.parse().ok())).collect();
    let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let by_request = key == "request_id";
    let records: Vec<LabelRecord> = keys
        .into_iter()
        .zip(values)
        .zip(rows)
        .filter_map(|((k, label), row)| {
            let (k, label) = (k.filter(|k| !k.is_empty())?, label.filter(|l| !l.is_empty())?);
            Some(LabelRecord {
                time: now.clone(),
                request_id: by_request.then(|| k.clone()),
                row: if by_request { Some(row.unwrap_or(0)) } else { None },
                key_column: (!by_request).then(|| key.to_string()),
                key: (!by_request).then_some(k),
                label,
            })
        })
        .collect();
    if records.is_empty() {
        return Err(Error::data("the labels file has no row with both a key and a label", Location::file(Some(file))));
    }
    let joined = join_labels(&log, &records)?;
    let mut all = read_labels(&labels_dir(log_dir, &model))?;
    all.extend(records.iter().cloned());
    let labelled_rows = join_labels(&log, &all)?.labels.iter().filter(|l| l.is_some()).count();
    let written = write_labels(&labels_dir(log_dir, &model), &records)?;
    Ok(Imported {
        model,
        labels: records.len(),
        matched: joined.matched,
        unmatched: joined.unmatched,
        labelled_rows,
        logged_rows: log.height(),
        written,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(id: Option<&str>, row: Option<u32>, key: Option<(&str, &str)>, label: &str) -> LabelRecord {
        LabelRecord {
            time: "2026-12-02T10:00:00.000Z".into(),
            request_id: id.map(str::to_string),
            row,
            key_column: key.map(|k| k.0.to_string()),
            key: key.map(|k| k.1.to_string()),
            label: label.into(),
        }
    }

    #[test]
    fn labels_round_trip_and_join_by_request_row_or_key() {
        let dir = tempfile::tempdir().unwrap();
        let records = vec![
            record(Some("a"), Some(1), None, "1"),
            record(Some("b"), None, None, "0"),
            record(None, None, Some(("customer_id", "C3")), "1"),
            record(Some("zzz"), Some(0), None, "1"),
            record(None, None, Some(("nope", "x")), "0"),
        ];
        write_labels(dir.path(), &records).unwrap();
        let read = read_labels(dir.path()).unwrap();
        assert_eq!(read, records);
        let log = df!(
            "request_id" => ["a", "a", "b", "c"],
            "row" => [0u32, 1, 0, 0],
            "customer_id" => ["C1", "C2", "C2", "C3"],
        )
        .unwrap();
        let joined = join_labels(&log, &read).unwrap();
        assert_eq!(joined.labels, vec![None, Some("1".into()), Some("0".into()), Some("1".into())]);
        assert_eq!((joined.matched, joined.unmatched), (3, 2));
        assert!(read_labels(&dir.path().join("absent")).unwrap().is_empty());
    }
}
