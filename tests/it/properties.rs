//! Property-based tests: random CSV bytes and mutated ONNX models (byte flips, and edits of
//! protobuf values that keep the message well-formed) go through the reader, the contract check,
//! `Model::load` and a scoring pass. Each case must end in `Ok` or `Err` — never a panic — within
//! its time limit (a hang fails the test).

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use mirador::core::{CancelToken, CheckOptions, Model, ScoreOptions, TableReader, check_file, score_in_memory};
use proptest::prelude::*;

use crate::common::{model, repo};

/// Each case's time limit.
const LIMIT: Duration = Duration::from_secs(20);

/// Run `work` on its own thread; fail if it panics or outlives [`LIMIT`].
fn within_limit<T: Send + 'static>(what: &str, work: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::sync_channel(1);
    let spawned = std::thread::Builder::new().name(format!("case-{what}")).spawn(move || {
        let _ = tx.send(std::panic::catch_unwind(std::panic::AssertUnwindSafe(work)));
    });
    assert!(spawned.is_ok(), "could not start the case's thread");
    match rx.recv_timeout(LIMIT) {
        Ok(Ok(value)) => value,
        Ok(Err(_)) => panic!("{what}: panicked"),
        Err(_) => panic!("{what}: ran past {LIMIT:?}"),
    }
}

fn write_temp(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

/// Read every batch; check it against churn_v1; score it with churn_v1 in memory.
fn read_check_score(path: PathBuf) {
    within_limit("csv", move || {
        if let Ok(mut reader) = TableReader::open(&path, 7) {
            while let Ok(Some(_)) = reader.next_batch() {}
        }
        let m = model("churn_v1");
        let _ = check_file(m.info(), &path, &CheckOptions::default(), &mut |_, _| Ok(()));
        let options = ScoreOptions { batch_size: 5, workers: 2, ..ScoreOptions::default() };
        let _ = score_in_memory(&m, &path, &options, &CancelToken::new(), &mut |_| {});
    });
}

/// The sample header, then up to 30 rows of fields drawn from awkward pieces of text.
fn csv_like() -> impl Strategy<Value = Vec<u8>> {
    let field = prop_oneof![
        Just(String::new()),
        Just("\"".to_string()),
        Just("\"a,b\"".to_string()),
        Just("\"x\ny\"".to_string()),
        Just("NaN".to_string()),
        Just("inf".to_string()),
        Just("-0".to_string()),
        Just("1e308".to_string()),
        Just("99999999999999999999".to_string()),
        Just("Month-to-month".to_string()),
        Just("é\u{0}\u{feff}".to_string()),
        Just("  12  ".to_string()),
        "[0-9]{1,4}",
        "\\PC{0,8}",
    ];
    let row = prop::collection::vec(field, 0..15).prop_map(|f| f.join(","));
    let ending = prop_oneof![Just("\n"), Just("\r\n"), Just("")];
    (prop::collection::vec(row, 0..30), ending).prop_map(|(rows, end)| {
        let header = "customer_id,tenure_months,monthly_charges,total_charges,contract,internet_service,payment_method,paperless_billing,senior_citizen,support_calls,churned,next_month_spend";
        let mut text = format!("{header}\n{}", rows.join("\n"));
        text.push_str(end);
        text.into_bytes()
    })
}

proptest! {
    // Shrinking is bounded in time: a case that hangs takes the whole limit each try.
    #![proptest_config(ProptestConfig {
        cases: 48,
        failure_persistence: None,
        max_shrink_time: 60_000,
        ..ProptestConfig::default()
    })]

    /// Arbitrary bytes as a CSV file.
    #[test]
    fn random_bytes_never_panic_the_reader_the_check_or_scoring(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
        let dir = tempfile::tempdir().unwrap();
        read_check_score(write_temp(dir.path(), "random.csv", &bytes));
    }

    /// CSV-shaped text with quotes, missing and extreme values, ragged rows and odd line ends.
    #[test]
    fn csv_shaped_text_never_panics(bytes in csv_like()) {
        let dir = tempfile::tempdir().unwrap();
        read_check_score(write_temp(dir.path(), "shaped.csv", &bytes));
    }

    /// A sample model with a few bytes flipped: loads or is refused; a scoring pass ends either way.
    #[test]
    fn flipped_bytes_in_a_model_never_panic_or_hang(
        which in 0usize..4,
        flips in prop::collection::vec((any::<prop::sample::Index>(), 1u8..=255), 1..4),
    ) {
        let name = ["churn_v1", "churn_v2", "churn_numeric", "spend_regressor"][which];
        let mut bytes = std::fs::read(repo(&format!("sample-models/{name}.onnx"))).unwrap();
        for (at, mask) in flips {
            let i = at.index(bytes.len());
            bytes[i] ^= mask;
        }
        load_and_score(bytes);
    }

    /// A sample model with protobuf values edited in place (a varint set to a nearby or extreme
    /// value, at any depth), so the file stays well-formed protobuf and reaches ONNX Runtime.
    #[test]
    fn edited_protobuf_values_never_panic_or_hang(which in 0usize..4, seed in any::<u64>(), edits in 1usize..4) {
        let name = ["churn_v1", "churn_v2", "churn_numeric", "spend_regressor"][which];
        let mut bytes = std::fs::read(repo(&format!("sample-models/{name}.onnx"))).unwrap();
        let mut state = seed | 1;
        for _ in 0..edits {
            bytes = wire::edit_a_varint(&bytes, &mut state);
        }
        load_and_score(bytes);
    }
}

fn load_and_score(bytes: Vec<u8>) {
    within_limit("model", move || {
        let dir = tempfile::tempdir().unwrap();
        let path = write_temp(dir.path(), "mutated.onnx", &bytes);
        let Ok(m) = Model::load(&path) else { return };
        let options =
            ScoreOptions { batch_size: 256, inference_timeout: Duration::from_secs(5), ..ScoreOptions::default() };
        let _ = score_in_memory(&m, &repo("sample-data/churn_current.csv"), &options, &CancelToken::new(), &mut |_| {});
    });
}

/// Just enough of the protobuf wire format to edit one varint value anywhere in a message while
/// keeping every length prefix right.
mod wire {
    fn next(state: &mut u64) -> u64 {
        *state ^= *state << 13;
        *state ^= *state >> 7;
        *state ^= *state << 17;
        *state
    }

    fn read_varint(b: &[u8], pos: &mut usize) -> Option<u64> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let byte = *b.get(*pos)?;
            *pos += 1;
            v |= u64::from(byte & 0x7f) << shift;
            if byte < 0x80 {
                return Some(v);
            }
        }
        None
    }

    fn put_varint(out: &mut Vec<u8>, mut v: u64) {
        while v >= 0x80 {
            out.push((v as u8) | 0x80);
            v >>= 7;
        }
        out.push(v as u8);
    }

    /// (field start, key, value start, value end) of each field; `None` when not a message.
    fn fields(b: &[u8]) -> Option<Vec<(usize, u64, usize, usize)>> {
        let mut out = Vec::new();
        let mut pos = 0;
        while pos < b.len() {
            let start = pos;
            let key = read_varint(b, &mut pos)?;
            let value = pos;
            let end = match key & 7 {
                0 => {
                    read_varint(b, &mut pos)?;
                    pos
                }
                1 => pos.checked_add(8)?,
                2 => {
                    let len = usize::try_from(read_varint(b, &mut pos)?).ok()?;
                    pos.checked_add(len)?
                }
                5 => pos.checked_add(4)?,
                _ => return None,
            };
            if end > b.len() || key >> 3 == 0 {
                return None;
            }
            out.push((start, key, if key & 7 == 2 { pos } else { value }, end));
            pos = end;
        }
        Some(out)
    }

    /// `b` with one varint field (chosen at random, descending into nested messages) given a new
    /// value: ±1, zero, or a large one.
    pub fn edit_a_varint(b: &[u8], state: &mut u64) -> Vec<u8> {
        let Some(all) = fields(b).filter(|f| !f.is_empty()) else { return b.to_vec() };
        let (start, key, value, end) = all[(next(state) % all.len() as u64) as usize];
        let mut out = b[..start].to_vec();
        match key & 7 {
            0 => {
                let mut p = value;
                let old = read_varint(b, &mut p).unwrap_or(0);
                let new = match next(state) % 4 {
                    0 => old.wrapping_add(1),
                    1 => old.wrapping_sub(1),
                    2 => 0,
                    _ => next(state) % 100_000,
                };
                put_varint(&mut out, key);
                put_varint(&mut out, new);
            }
            2 if fields(&b[value..end]).is_some() && !next(state).is_multiple_of(4) => {
                let inner = edit_a_varint(&b[value..end], state);
                put_varint(&mut out, key);
                put_varint(&mut out, inner.len() as u64);
                out.extend_from_slice(&inner);
            }
            _ => out.extend_from_slice(&b[start..end]),
        }
        out.extend_from_slice(&b[end..]);
        out
    }
}
