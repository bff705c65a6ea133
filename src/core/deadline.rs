//! Stopping an inference already inside ONNX Runtime: by the user (cancel) or by the clock (a
//! deadline). ONNX Runtime offers one lever, `RunOptions::terminate`, pulled from another thread;
//! a [`Stop`] remembers *why* it was pulled, so the failed run becomes `Cancelled` or `Timeout`
//! without reading ONNX Runtime's message.
//!
//! Deadlines are watched by one thread for the whole process (`mirador-watchdog`): a run registers
//! its deadline before it starts ([`Stop::arm`]) and the returned guard removes it when the run
//! ends, so a run that finishes in time costs a lock and a map insert. The watchdog is woken only
//! when a deadline comes before the time it sleeps until — not for every run, which would add a
//! thread switch to each of a server's requests.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use ort::session::RunOptions;

/// Why a run was stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopReason {
    /// The user or client cancelled.
    Cancelled,
    /// The deadline passed.
    Timeout,
}

const RUNNING: u8 = 0;
const CANCELLED: u8 = 1;
const TIMED_OUT: u8 = 2;

/// The lever that stops a session's run in flight, and why it was pulled.
pub struct Stop {
    run_options: RunOptions,
    reason: AtomicU8,
}

impl std::fmt::Debug for Stop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stop").field("reason", &self.reason()).finish()
    }
}

impl Stop {
    /// A lever over `run_options` (the options every run of the session uses).
    pub fn new(run_options: RunOptions) -> Self {
        Self { run_options, reason: AtomicU8::new(RUNNING) }
    }

    /// The options to run with.
    pub fn run_options(&self) -> &RunOptions {
        &self.run_options
    }

    /// Stop the run in flight (and any that starts before [`reset`](Self::reset)) for `reason`;
    /// the first reason given wins.
    pub fn stop(&self, reason: StopReason) {
        let code = match reason {
            StopReason::Cancelled => CANCELLED,
            StopReason::Timeout => TIMED_OUT,
        };
        if self.reason.compare_exchange(RUNNING, code, Ordering::SeqCst, Ordering::SeqCst).is_ok() {
            // A failure here leaves the run going; there is nothing better to do than let it end.
            let _ = self.run_options.terminate();
        }
    }

    /// Why the session was stopped, if it was.
    pub fn reason(&self) -> Option<StopReason> {
        match self.reason.load(Ordering::SeqCst) {
            CANCELLED => Some(StopReason::Cancelled),
            TIMED_OUT => Some(StopReason::Timeout),
            _ => None,
        }
    }

    /// Make the session usable again after a stop.
    pub fn reset(&self) {
        if self.reason.swap(RUNNING, Ordering::SeqCst) != RUNNING {
            let _ = self.run_options.unterminate();
        }
    }

    /// Watch `deadline` for the run about to start; the guard stops watching when dropped.
    pub fn arm(self: &Arc<Self>, deadline: Duration) -> Armed {
        let watchdog = watchdog();
        let id = watchdog.next.fetch_add(1, Ordering::Relaxed);
        let at = Instant::now() + deadline;
        let mut state = watchdog.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.due.insert((at, id), Arc::clone(self));
        let sooner = state.sleeping_until.is_none_or(|until| at < until);
        drop(state);
        if sooner {
            watchdog.wake.notify_one();
        }
        Armed { key: (at, id) }
    }
}

/// A deadline being watched; dropping it stops the watch.
#[must_use = "the deadline is only watched while the guard lives"]
pub struct Armed {
    key: (Instant, u64),
}

impl Drop for Armed {
    fn drop(&mut self) {
        watchdog().state.lock().unwrap_or_else(PoisonError::into_inner).due.remove(&self.key);
    }
}

struct Watchdog {
    state: Mutex<Watched>,
    wake: Condvar,
    next: AtomicU64,
}

/// The deadlines, and when the watchdog will look at them next (`None`: when woken).
struct Watched {
    due: BTreeMap<(Instant, u64), Arc<Stop>>,
    sleeping_until: Option<Instant>,
}

/// The process's watchdog, its thread started on first use. If the thread cannot be started, the
/// deadlines are simply not enforced (runs still end on their own or by cancel).
fn watchdog() -> &'static Watchdog {
    static WATCHDOG: OnceLock<Watchdog> = OnceLock::new();
    static STARTED: OnceLock<()> = OnceLock::new();
    let w = WATCHDOG.get_or_init(|| Watchdog {
        state: Mutex::new(Watched { due: BTreeMap::new(), sleeping_until: None }),
        wake: Condvar::new(),
        next: AtomicU64::new(0),
    });
    STARTED.get_or_init(|| {
        let _ = std::thread::Builder::new().name("mirador-watchdog".into()).spawn(|| watch(w));
    });
    w
}

fn watch(w: &'static Watchdog) {
    let mut state = w.state.lock().unwrap_or_else(PoisonError::into_inner);
    loop {
        let now = Instant::now();
        while let Some(entry) = state.due.first_entry() {
            if entry.key().0 > now {
                break;
            }
            entry.remove().stop(StopReason::Timeout);
        }
        let next = state.due.keys().next().map(|(at, _)| *at);
        state.sleeping_until = next;
        state = match next {
            Some(at) => {
                w.wake.wait_timeout(state, at.saturating_duration_since(now)).unwrap_or_else(PoisonError::into_inner).0
            }
            None => w.wake.wait(state).unwrap_or_else(PoisonError::into_inner),
        };
    }
}
