//! SIGINT and SIGTERM for the command line: the first one cancels the running command (which then
//! stops between batches and removes its temporary files); a second one, or a command still running
//! three seconds later, removes every temporary file at once and exits. Either way the exit code is
//! 128 + the signal (130, 143).

use std::sync::Arc;
use std::sync::atomic::{AtomicI32, Ordering};

use crate::core::CancelToken;

/// How long a cancelled command may take to stop before the process exits anyway.
const GRACE: std::time::Duration = std::time::Duration::from_secs(3);

/// What the signal thread shares with the command.
pub struct Interrupt {
    /// Cancelled on the first signal.
    pub cancel: CancelToken,
    signal: Arc<AtomicI32>,
}

impl Interrupt {
    /// The exit code for the signal received, if one was.
    pub fn exit_code(&self) -> Option<u8> {
        match self.signal.load(Ordering::SeqCst) {
            0 => None,
            s => u8::try_from(128 + s).ok(),
        }
    }
}

/// Start watching for SIGINT and SIGTERM. Without the ability to watch (no thread), commands run
/// as before and the default handlers apply.
pub fn install() -> Interrupt {
    let cancel = CancelToken::new();
    let signal = Arc::new(AtomicI32::new(0));
    #[cfg(unix)]
    {
        use signal_hook::consts::{SIGINT, SIGTERM};
        if let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM]) {
            let (token, seen) = (cancel.clone(), Arc::clone(&signal));
            let _ = std::thread::Builder::new().name("mirador-signals".into()).spawn(move || {
                let Some(s) = signals.forever().next() else { return };
                seen.store(s, Ordering::SeqCst);
                token.cancel();
                // The command stops at its next check; if it has not within the grace period (or a
                // second signal comes), remove its temporaries and exit anyway.
                let deadline = std::time::Instant::now() + GRACE;
                while std::time::Instant::now() < deadline {
                    if signals.pending().next().is_some() {
                        break;
                    }
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
                crate::core::atomic::remove_live_temporaries();
                std::process::exit(128 + s);
            });
        }
    }
    Interrupt { cancel, signal }
}
