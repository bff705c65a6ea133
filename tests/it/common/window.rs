//! Driving the app headless with egui_kittest: step frames until something holds, and ask whether
//! a text is on screen.

use std::time::{Duration, Instant};

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use mirador::gui::MiradorApp;

/// Step frames until `done` holds (jobs run on real threads meanwhile), at most two minutes.
pub fn wait_for(
    h: &mut Harness<'static, MiradorApp>,
    what: &str,
    done: impl Fn(&Harness<'static, MiradorApp>) -> bool,
) {
    wait_within(h, what, Duration::from_secs(120), done);
}

/// [`wait_for`] with its own limit; on timeout, the jobs and how they stand are in the message.
pub fn wait_within(
    h: &mut Harness<'static, MiradorApp>,
    what: &str,
    limit: Duration,
    done: impl Fn(&Harness<'static, MiradorApp>) -> bool,
) {
    let start = Instant::now();
    loop {
        h.step();
        if done(h) {
            h.step();
            return;
        }
        if start.elapsed() > limit {
            let jobs: Vec<String> =
                h.state().jobs.all().iter().map(|j| format!("{}: {:?}", j.name, j.status)).collect();
            panic!("timed out waiting for {what}; jobs: {jobs:#?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Whether a widget whose label contains `text` is on screen.
pub fn shows(h: &Harness<'static, MiradorApp>, text: &str) -> bool {
    h.query_all_by_label_contains(text).next().is_some()
}
