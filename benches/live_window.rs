//! Floors and per-row costs for the analytics benchmark (run by `benches/analytics_bench.py`, not a
//! test), on a reference and a current CSV:
//! - `parse_s`: polars reads both files whole (type inference, every column), best of three — the
//!   floor `mirador drift` on the same files is compared with; `parse_cold_s` the first of the
//!   three, in a fresh process as `mirador drift` runs;
//! - the live drift window of `mirador serve`: `offer_ns_per_row` is what a request pays to hand
//!   its rows over (`try_send`, never waiting), measured over every current row in requests of
//!   `REQUEST_ROWS`; `measure_ms` is one measurement of a full window (`WINDOW` rows against the
//!   reference profile), which the monitor makes at most every refresh whatever the traffic, so
//!   the cost per row falls as traffic grows; `window_ns_per_row_at_1000_rps` spreads it over
//!   1,000 rows per second with the default 2 s refresh.
//!
//! `cargo bench --bench live_window -- REF.csv CUR.csv` prints one JSON line.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::time::{Duration, Instant};

use mirador::core::drift::profile::ReferenceProfile;
use mirador::core::drift::{DriftOptions, drift_profile, read_rows};
use mirador::core::serving::alerting::AlertSettings;
use mirador::core::serving::live::{LiveDrift, LiveSettings};
use polars::prelude::*;

const REQUEST_ROWS: usize = 10;
const WINDOW: usize = 1000;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| a != "--bench").collect();
    let [reference, current, ..] = args.as_slice() else {
        eprintln!("usage: cargo bench --bench live_window -- REF.csv CUR.csv");
        std::process::exit(2);
    };
    let parse = |path: &str| {
        CsvReadOptions::default()
            .with_has_header(true)
            .with_infer_schema_length(Some(10_000))
            .try_into_reader_with_file_path(Some(path.into()))
            .unwrap()
            .finish()
            .unwrap()
    };
    let parses: Vec<f64> = (0..3)
        .map(|_| {
            let start = Instant::now();
            let (r, c) = (parse(reference), parse(current));
            assert!(r.height() > 0 && c.height() > 0);
            start.elapsed().as_secs_f64()
        })
        .collect();
    // The first parse is the cold one (the process's memory fresh from the OS, as `mirador drift`
    // starts); the best is the warm floor.
    let (parse_cold_s, parse_s) = (parses[0], parses.iter().copied().fold(f64::INFINITY, f64::min));

    let exclude = vec!["customer_id".to_string()];
    let reference = read_rows(reference.as_ref(), &exclude).unwrap();
    let current = read_rows(current.as_ref(), &exclude).unwrap();
    let profile = ReferenceProfile::from_frame(&reference, "reference", &[]).unwrap();

    // One full window measured, as the monitor does it at each refresh.
    let window = current.slice(0, WINDOW);
    let measure_ms = (0..20)
        .map(|_| {
            let start = Instant::now();
            drift_profile(&profile, &window, &DriftOptions::default()).unwrap();
            start.elapsed().as_secs_f64() * 1e3
        })
        .fold(f64::INFINITY, f64::min);

    // The request path: every current row offered in small requests, as fast as possible.
    let settings = LiveSettings { window_rows: WINDOW, ..LiveSettings::default() };
    let live = LiveDrift::start("bench", profile, &settings, AlertSettings::default()).unwrap();
    let requests: Vec<DataFrame> =
        (0..current.height()).step_by(REQUEST_ROWS).map(|s| current.slice(s as i64, REQUEST_ROWS)).collect();
    let start = Instant::now();
    for r in &requests {
        live.offer(r);
    }
    let offer_s = start.elapsed().as_secs_f64();
    let state = std::sync::Arc::clone(live.state());
    std::thread::sleep(Duration::from_millis(2500));
    let seen = state.rows_seen.load(std::sync::atomic::Ordering::Relaxed);
    let dropped = state.rows_dropped.load(std::sync::atomic::Ordering::Relaxed);
    let window_rows = state.window_rows.load(std::sync::atomic::Ordering::Relaxed);
    drop(live);
    let rows = current.height() as f64;
    println!(
        "{}",
        serde_json::json!({
            "parse_s": parse_s,
            "parse_cold_s": parse_cold_s,
            "rows": current.height(),
            "offer_ns_per_row": offer_s * 1e9 / rows,
            "measure_ms": measure_ms,
            "window_ns_per_row_at_1000_rps": measure_ms * 1e6 / (1000.0 * settings.refresh_secs),
            "rows_seen": seen,
            "rows_dropped": dropped,
            "window_rows": window_rows,
        })
    );
}
