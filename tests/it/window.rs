//! The real binary in a real window under Xvfb: every main screen opens, does its work on the
//! sample data and draws something that is not blank. The screenshots are the README's
//! (`MIRADOR_UPDATE_SCREENSHOTS=1 cargo test window` rewrites `assets/screenshots/`).
//!
//! Without `xvfb-run` the test says so and passes, unless `MIRADOR_REQUIRE_XVFB=1` (set by
//! `.ci/run`, which installs Xvfb), where a missing Xvfb is a failure.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::common::repo;

const SCREENS: [&str; 7] = ["model", "predict", "score", "compare", "monitor", "serve", "deploy"];

fn on_path(exe: &str) -> bool {
    std::env::var_os("PATH").is_some_and(|paths| std::env::split_paths(&paths).any(|d| d.join(exe).is_file()))
}

fn screenshot(screen: &str, out: &Path) {
    let mut child = Command::new("xvfb-run")
        .args(["-a", "-s", "-screen 0 1280x1024x24", env!("CARGO_BIN_EXE_mirador"), "gui", "--screen", screen])
        .arg("--screenshot")
        .arg(out)
        .current_dir(repo(""))
        .spawn()
        .expect("xvfb-run starts");
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if start.elapsed() > Duration::from_secs(240) {
            let _ = child.kill();
            panic!("the {screen} screen did not finish within 240 s");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(status.success(), "the {screen} screen exited with {status}");
}

/// Not blank: a real window size, many colours, and a good share of pixels off the background.
fn assert_drawn(path: &Path) {
    let image = image::open(path).expect("a PNG").to_rgba8();
    let (w, h) = image.dimensions();
    assert!(w >= 1000 && h >= 700, "{}: {w}×{h}", path.display());
    let background = *image.get_pixel(w - 2, h / 2);
    let mut colours = std::collections::HashSet::new();
    let mut off = 0u64;
    for p in image.pixels() {
        colours.insert(p.0);
        off += u64::from(*p != background);
    }
    assert!(colours.len() > 50, "{}: only {} colours", path.display(), colours.len());
    let share = off as f64 / f64::from(w * h);
    assert!(share > 0.05, "{}: only {:.1} % of pixels drawn", path.display(), share * 100.0);
}

#[test]
fn every_main_screen_draws_in_a_real_window() {
    if !on_path("xvfb-run") {
        assert!(
            std::env::var("MIRADOR_REQUIRE_XVFB").is_err(),
            "MIRADOR_REQUIRE_XVFB is set but xvfb-run is missing (apt-get install xvfb)"
        );
        eprintln!("skipped: xvfb-run is not installed (apt-get install xvfb); .ci/run installs it");
        return;
    }
    let temp = tempfile::tempdir().expect("temp dir");
    let dir: PathBuf = if std::env::var("MIRADOR_UPDATE_SCREENSHOTS").is_ok() {
        repo("assets/screenshots")
    } else {
        temp.path().to_path_buf()
    };
    std::fs::create_dir_all(&dir).expect("screenshot folder");
    for screen in SCREENS {
        let out = dir.join(format!("{screen}.png"));
        screenshot(screen, &out);
        assert_drawn(&out);
    }
}
