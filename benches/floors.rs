//! Floors for the scoring benchmark (run by `benches/score_bench.py`, not a test): each stage of
//! `mirador score` measured alone, on all cores, on the same file —
//! - parsing: polars reads the whole CSV (type inference, all columns);
//! - inference: ONNX Runtime on arrays already in memory (the column values as plain `Vec`s, as
//!   numpy arrays would be in Python), timing tensor creation — ORT's input marshalling, a copy per
//!   string — and `Session::run`, in batches of the same size `mirador score` uses. Two ways of
//!   using every core are timed and the faster is the floor: one session with an intra-op thread
//!   per core, and one single-threaded session per core taking batches in turn (what `mirador
//!   score` does);
//! - writing: polars writes the predictions frame (id, label, two probabilities) built beforehand.
//!
//! `cargo bench --bench floors -- INPUT.csv MODEL.onnx [BATCH_ROWS]` prints one JSON line:
//! `{"parse_s": .., "inference_s": .., "write_s": .., "rows": .., ..}` (`inference_s` is the faster of
//! `inference_intra_op_s` and `inference_session_per_core_s`).

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::time::Instant;

use mirador::core::contract::InputBinding;
use mirador::core::model::ElemType;
use mirador::core::{Model, ScoreOptions, SessionOptions, plan_binding};
use ort::value::{DynValue, Tensor};
use polars::prelude::*;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| a != "--bench").collect();
    let [input, model_path, rest @ ..] = args.as_slice() else {
        eprintln!("usage: cargo bench --bench floors -- INPUT.csv MODEL.onnx [BATCH_ROWS]");
        std::process::exit(2);
    };
    let batch_rows: usize = rest.first().and_then(|b| b.parse().ok()).unwrap_or(ScoreOptions::default().batch_size);

    // Parsing alone: polars reads the whole file with type inference, on all cores.
    let start = Instant::now();
    let frame = CsvReadOptions::default()
        .with_has_header(true)
        .try_into_reader_with_file_path(Some(input.into()))
        .unwrap()
        .finish()
        .unwrap();
    let parse_s = start.elapsed().as_secs_f64();
    let rows = frame.height();

    // Inference alone: plain arrays prepared first (not timed); tensor creation + run timed.
    let model = Model::load(model_path).unwrap();
    let columns: Vec<String> = frame.get_column_names().iter().map(|c| c.to_string()).collect();
    let (binding, _) = plan_binding(model.info(), &columns, &Default::default(), &["customer_id".into()]);
    let binding = binding.expect("sample data fits the model");
    let mut arrays: Vec<Vec<(String, Vec<usize>, Array)>> = Vec::new();
    let mut offset = 0;
    while offset < rows {
        let n = batch_rows.min(rows - offset);
        let slice = frame.slice(offset as i64, n);
        arrays.push(
            binding
                .inputs
                .iter()
                .map(|b| (b.input.clone(), shape(b.rank, n, b.columns.len()), array(&slice, b)))
                .collect(),
        );
        offset += n;
    }
    let intra_op = {
        let mut session = model.ort_session(Default::default()).unwrap();
        let start = Instant::now();
        for batch in &arrays {
            run(&mut session, batch);
        }
        start.elapsed().as_secs_f64()
    };
    let cores = mirador::core::runtime::cores();
    let per_core = {
        let mut sessions: Vec<_> =
            (0..cores).map(|_| model.ort_session(SessionOptions { intra_threads: 1 }).unwrap()).collect();
        let start = Instant::now();
        std::thread::scope(|scope| {
            for (i, session) in sessions.iter_mut().enumerate() {
                let arrays = &arrays;
                scope.spawn(move || {
                    for batch in arrays.iter().skip(i).step_by(cores) {
                        run(session, batch);
                    }
                });
            }
        });
        start.elapsed().as_secs_f64()
    };
    let inference_s = intra_op.min(per_core);

    // Writing alone: the output frame (id, label, two probabilities) built first, then written.
    let n = rows;
    let mut out = DataFrame::new(
        n,
        vec![
            frame.column("customer_id").unwrap().clone(),
            Column::new("label".into(), (0..n as i64).map(|i| i % 2).collect::<Vec<i64>>()),
            Column::new("p_0".into(), (0..n).map(|i| (i % 1000) as f32 / 1000.0 + 0.000_123).collect::<Vec<f32>>()),
            Column::new(
                "p_1".into(),
                (0..n).map(|i| 1.0 - (i % 1000) as f32 / 1000.0 - 0.000_123).collect::<Vec<f32>>(),
            ),
        ],
    )
    .unwrap();
    let target = std::env::temp_dir().join("mirador_floor_write.csv");
    let start = Instant::now();
    let mut file = std::fs::File::create(&target).unwrap();
    CsvWriter::new(&mut file).finish(&mut out).unwrap();
    let write_s = start.elapsed().as_secs_f64();
    let _ = std::fs::remove_file(&target);

    println!(
        r#"{{"parse_s": {parse_s:.4}, "inference_s": {inference_s:.4}, "write_s": {write_s:.4}, "rows": {rows}, "inference_intra_op_s": {intra_op:.4}, "inference_session_per_core_s": {per_core:.4}}}"#
    );
}

/// One batch through `session`: tensors made from the plain arrays, then `run`.
fn run(session: &mut ort::session::Session, batch: &[(String, Vec<usize>, Array)]) {
    let feed: Vec<(String, DynValue)> =
        batch.iter().map(|(name, shape, data)| (name.clone(), data.tensor(shape.clone()))).collect();
    let outputs = session.run(feed).unwrap();
    std::hint::black_box(outputs.len());
}

/// Column values for one input, row-major, as plain arrays.
enum Array {
    F32(Vec<f32>),
    F64(Vec<f64>),
    I64(Vec<i64>),
    Str(Vec<String>),
}

impl Array {
    fn tensor(&self, shape: Vec<usize>) -> DynValue {
        match self {
            Self::F32(v) => Tensor::from_array((shape, v.clone().into_boxed_slice())).unwrap().into_dyn(),
            Self::F64(v) => Tensor::from_array((shape, v.clone().into_boxed_slice())).unwrap().into_dyn(),
            Self::I64(v) => Tensor::from_array((shape, v.clone().into_boxed_slice())).unwrap().into_dyn(),
            Self::Str(v) => Tensor::from_string_array((shape, v.as_slice())).unwrap().into_dyn(),
        }
    }
}

fn shape(rank: usize, rows: usize, width: usize) -> Vec<usize> {
    if rank == 1 { vec![rows] } else { vec![rows, width] }
}

fn array(frame: &DataFrame, b: &InputBinding) -> Array {
    let cols: Vec<Series> =
        b.columns.iter().map(|c| frame.column(c).unwrap().as_materialized_series().clone()).collect();
    let rows = frame.height();
    let floats = || -> Vec<f64> {
        let cols: Vec<Vec<f64>> = cols
            .iter()
            .map(|s| s.cast(&DataType::Float64).unwrap().f64().unwrap().iter().map(|v| v.unwrap_or(f64::NAN)).collect())
            .collect();
        (0..rows).flat_map(|r| cols.iter().map(move |c| c[r])).collect()
    };
    match b.elem {
        ElemType::Float32 => Array::F32(floats().into_iter().map(|v| v as f32).collect()),
        ElemType::Float64 => Array::F64(floats()),
        ElemType::Int64 => Array::I64(floats().into_iter().map(|v| v as i64).collect()),
        _ => {
            let cols: Vec<Vec<String>> = cols
                .iter()
                .map(|s| {
                    s.cast(&DataType::String)
                        .unwrap()
                        .str()
                        .unwrap()
                        .iter()
                        .map(|v| v.unwrap_or("").to_string())
                        .collect()
                })
                .collect();
            Array::Str((0..rows).flat_map(|r| cols.iter().map(move |c| c[r].clone())).collect())
        }
    }
}
