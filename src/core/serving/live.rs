//! Live drift: the rows a served model receives, compared with its reference profile (the one a
//! bundle carries, or `--reference`) over a rolling window of the last rows, with the same tests
//! and thresholds as `mirador drift`. The server exports the result as Prometheus gauges.
//!
//! Bounded cost: the request path hands its already-typed rows over with `try_send` (never
//! waiting; when the monitor is behind, the rows are dropped and counted); a thread keeps at most
//! `window_rows` rows and recomputes the drift at most every `refresh_secs`, only when rows came.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender, TrySendError, bounded};
use polars::prelude::DataFrame;
use serde::{Deserialize, Serialize};

use crate::core::drift::profile::ReferenceProfile;
use crate::core::drift::{DriftOptions, DriftReport, drift_profile};
use crate::core::error::{Error, Result};

/// The rolling window's settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct LiveSettings {
    /// Rows kept: the drift is measured on the last this many rows.
    pub window_rows: usize,
    /// Seconds a row stays in the window (0: no limit by time; the rows limit holds either way).
    pub window_secs: f64,
    /// Seconds between two measurements (at most; none when no row came).
    pub refresh_secs: f64,
    /// Labelled rows kept for the realised metrics (per model and version).
    pub labelled_rows: usize,
    /// Seconds a labelled row stays in the realised metrics' window.
    pub labelled_secs: f64,
    /// Answered rows remembered while they wait for a label (the oldest forgotten first).
    pub pending_rows: usize,
}

impl Default for LiveSettings {
    fn default() -> Self {
        Self {
            window_rows: 1000,
            window_secs: 0.0,
            refresh_secs: 2.0,
            labelled_rows: 1000,
            labelled_secs: 86_400.0,
            pending_rows: 20_000,
        }
    }
}

/// The last measurement and the window's counts.
#[derive(Debug, Default)]
pub struct LiveState {
    /// The drift of the window at the last measurement.
    pub report: Mutex<Option<DriftReport>>,
    /// Rows in the window at the last measurement.
    pub window_rows: AtomicU64,
    /// Rows received since start.
    pub rows_seen: AtomicU64,
    /// Rows dropped because the monitor was behind.
    pub rows_dropped: AtomicU64,
    /// Measurements made.
    pub measurements: AtomicU64,
    /// The alert rules' states after the last measurement.
    pub alerts: Mutex<Vec<super::alerting::AlertState>>,
}

impl LiveState {
    /// The last report (a copy).
    pub fn report(&self) -> Option<DriftReport> {
        self.report.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }
}

/// A served model's live drift monitor; dropping it stops its thread.
pub struct LiveDrift {
    tx: Sender<DataFrame>,
    state: Arc<LiveState>,
}

impl LiveDrift {
    /// Start monitoring `model`'s rows against `reference`.
    pub fn start(
        model: &str,
        reference: ReferenceProfile,
        settings: &LiveSettings,
        alerts: super::alerting::AlertSettings,
    ) -> Result<Self> {
        let (tx, rx) = bounded(256);
        let state = Arc::new(LiveState::default());
        let (s, settings) = (Arc::clone(&state), settings.clone());
        let mut alerts =
            super::alerting::Alerts::new(model, "MiradorLiveDrift", alerts.only(super::alerting::is_drift_rule));
        std::thread::Builder::new()
            .name(format!("mirador-live-{model}"))
            .spawn(move || watch(&rx, &reference, &settings, &s, &mut alerts))
            .map_err(|e| Error::internal(format!("cannot start the live drift monitor: {e}")))?;
        Ok(Self { tx, state })
    }

    /// Hand rows over without waiting (dropped and counted when the monitor is behind).
    pub fn offer(&self, rows: &DataFrame) {
        let n = rows.height() as u64;
        self.state.rows_seen.fetch_add(n, Ordering::Relaxed);
        if let Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) = self.tx.try_send(rows.clone()) {
            self.state.rows_dropped.fetch_add(n, Ordering::Relaxed);
        }
    }

    /// What it measured.
    pub fn state(&self) -> &Arc<LiveState> {
        &self.state
    }
}

fn watch(
    rx: &Receiver<DataFrame>,
    reference: &ReferenceProfile,
    settings: &LiveSettings,
    state: &LiveState,
    alerts: &mut super::alerting::Alerts,
) {
    let mut window: VecDeque<(Instant, DataFrame)> = VecDeque::new();
    let mut rows = 0usize;
    let max_age = (settings.window_secs > 0.0).then(|| Duration::from_secs_f64(settings.window_secs));
    let mut fresh = false;
    let every = Duration::from_secs_f64(settings.refresh_secs.max(0.05));
    let mut last = Instant::now();
    let options = DriftOptions::default();
    loop {
        match rx.recv_timeout(every) {
            Ok(frame) => {
                rows += frame.height();
                window.push_back((Instant::now(), frame));
                fresh = true;
                // Keep the last `window_rows` rows: whole frames off the front, then a slice.
                while rows > settings.window_rows {
                    let Some((_, front)) = window.front_mut() else { break };
                    let excess = rows - settings.window_rows;
                    if front.height() <= excess {
                        rows -= front.height();
                        window.pop_front();
                    } else {
                        *front = front.slice(excess as i64, front.height() - excess);
                        rows -= excess;
                    }
                }
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => return,
        }
        // Rows older than the window's time leave it (a quiet hour empties a one-hour window).
        if let Some(age) = max_age {
            while window.front().is_some_and(|(at, _)| at.elapsed() > age) {
                if let Some((_, old)) = window.pop_front() {
                    rows -= old.height();
                    fresh = !window.is_empty();
                }
            }
            // An empty window measures nothing: its gauges go rather than show old rows.
            if window.is_empty() && state.report().is_some() {
                *state.report.lock().unwrap_or_else(PoisonError::into_inner) = None;
                state.window_rows.store(0, Ordering::Relaxed);
            }
        }
        if last.elapsed() < every {
            continue;
        }
        if fresh {
            last = Instant::now();
            fresh = false;
            let measured = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                let mut frames = window.iter().map(|(_, f)| f);
                let mut all = frames.next().cloned().unwrap_or_default();
                for f in frames {
                    all.vstack_mut(f).map_err(|e| Error::internal(e.to_string()))?;
                }
                drift_profile(reference, &all, &options)
            }));
            if let Ok(Ok(report)) = measured {
                judge(alerts, &report, state);
                *state.report.lock().unwrap_or_else(PoisonError::into_inner) = Some(report);
                state.window_rows.store(rows as u64, Ordering::Relaxed);
                state.measurements.fetch_add(1, Ordering::Relaxed);
            }
        } else if alerts.pending() {
            // No new rows, but a breach is waiting out its duration: judge the last measurement
            // again, as Prometheus evaluates `for:` on a clock.
            last = Instant::now();
            if let Some(report) = state.report() {
                judge(alerts, &report, state);
            }
        }
    }
}

/// Judge `report` against the alert rules; say what changed.
fn judge(alerts: &mut super::alerting::Alerts, report: &DriftReport, state: &LiveState) {
    let changes = alerts.judge(report);
    *state.alerts.lock().unwrap_or_else(PoisonError::into_inner) = alerts.states.clone();
    for change in &changes {
        let status = if change.firing { "firing" } else { "resolved" };
        eprintln!("mirador serve: alert {status}: {} — {}", change.rule, change.message);
        alerts.deliver(change);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use polars::prelude::*;

    #[test]
    fn rows_leave_a_timed_window_and_an_empty_window_shows_nothing() {
        let reference = df!("x" => (0..200).map(f64::from).collect::<Vec<_>>()).unwrap();
        let profile = ReferenceProfile::from_frame(&reference, "test", &[]).unwrap();
        let settings = LiveSettings { window_secs: 0.3, refresh_secs: 0.05, ..LiveSettings::default() };
        let live = LiveDrift::start("m", profile, &settings, Default::default()).unwrap();
        live.offer(&df!("x" => (0..100).map(f64::from).collect::<Vec<_>>()).unwrap());
        let waited = Instant::now();
        while live.state().report().is_none() {
            assert!(waited.elapsed() < Duration::from_secs(5), "never measured");
            std::thread::sleep(Duration::from_millis(10));
        }
        assert_eq!(live.state().window_rows.load(Ordering::Relaxed), 100);
        while live.state().report().is_some() {
            assert!(waited.elapsed() < Duration::from_secs(5), "the rows never left the window");
            std::thread::sleep(Duration::from_millis(10));
        }
        assert!(waited.elapsed() >= Duration::from_millis(300), "not before their time");
        assert_eq!(live.state().window_rows.load(Ordering::Relaxed), 0);
    }
}
