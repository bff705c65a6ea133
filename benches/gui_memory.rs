//! Peak memory of the window scoring a big file (a benchmark, not a test; CI does not run it).
//!
//! `cargo bench --bench gui_memory -- [ROWS]` (default 10,000,000) writes
//! `target/bench/churn_ROWS.csv` (the sample rows repeated) if it is missing, then drives the real
//! app headless (egui_kittest): the Score screen checks the file, scores it with `churn_v1`, and the
//! predictions table reads pages from the start, the middle and the end. It prints the process's
//! peak resident memory (VmHWM) before scoring and at the end, with the file's size: the window
//! streams predictions to a file and holds a few pages, so the peak does not grow with the rows.

#![allow(clippy::unwrap_used, missing_docs)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use mirador::gui::command::Command;
use mirador::gui::{MiradorApp, Tab, Workspace};

/// Peak resident set size of this process so far, in MiB (Linux).
fn peak_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kib: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(f64::NAN);
    kib / 1024.0
}

fn make_csv(root: &Path, rows: usize) -> PathBuf {
    let path = root.join(format!("target/bench/churn_{rows}.csv"));
    if path.is_file() {
        return path;
    }
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let text = std::fs::read_to_string(root.join("sample-data/churn_current.csv")).unwrap();
    let (header, body) = text.split_once('\n').unwrap();
    let lines: Vec<&str> = body.lines().collect();
    let partial = path.with_extension("partial");
    let mut out = std::io::BufWriter::new(std::fs::File::create(&partial).unwrap());
    writeln!(out, "{header}").unwrap();
    for i in 0..rows {
        writeln!(out, "{}", lines[i % lines.len()]).unwrap();
    }
    out.flush().unwrap();
    drop(out);
    std::fs::rename(&partial, &path).unwrap();
    path
}

fn step_until(h: &mut Harness<'static, MiradorApp>, what: &str, done: impl Fn(&Harness<'static, MiradorApp>) -> bool) {
    let start = Instant::now();
    while !done(h) {
        h.step();
        std::thread::sleep(Duration::from_millis(10));
        assert!(start.elapsed() < Duration::from_secs(1800), "{what} did not finish");
    }
}

fn main() {
    let rows: usize = std::env::args().skip(1).find_map(|a| a.parse().ok()).unwrap_or(10_000_000);
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let csv = make_csv(&root, rows);
    let mut ws = Workspace::first_run(&root);
    ws.models = vec![root.join("sample-models/churn_v1.onnx")];
    ws.selected = 0;
    ws.tab = Tab::Score;
    ws.score_data = Some(csv.clone());
    let app = MiradorApp::new(ws, root.clone());
    let mut h =
        Harness::builder().with_size([1400.0, 1000.0]).build_ui_state(|ui, app: &mut MiradorApp| app.ui(ui), app);
    step_until(&mut h, "the check", |h| h.query_all_by_label_contains("Contract check passed").next().is_some());
    let before = peak_mib();
    let start = Instant::now();
    h.state_mut().send(Command::Score);
    step_until(&mut h, "scoring", |h| h.state().panels.score.result.is_some());
    let seconds = start.elapsed().as_secs_f64();
    let (file, scored) = {
        let r = h.state().panels.score.result.as_ref().unwrap();
        (r.file.clone(), r.rows)
    };
    for page in [0, scored / 2 / mirador::gui::table::PAGE_ROWS, (scored - 1) / mirador::gui::table::PAGE_ROWS] {
        h.state_mut().send(Command::LoadPage(file.clone(), page));
    }
    for _ in 0..200 {
        h.step();
        std::thread::sleep(Duration::from_millis(5));
    }
    let result = serde_json::json!({
        "rows": scored,
        "csv_mib": std::fs::metadata(&csv).map(|m| m.len() as f64 / 1048576.0).unwrap_or(f64::NAN),
        "predictions_file_mib": std::fs::metadata(&file).map(|m| m.len() as f64 / 1048576.0).unwrap_or(f64::NAN),
        "scoring_seconds": seconds,
        "peak_rss_mib_before_scoring": before,
        "peak_rss_mib_after": peak_mib(),
    });
    println!("{}", serde_json::to_string_pretty(&result).unwrap());
}
