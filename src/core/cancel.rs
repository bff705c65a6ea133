//! Cooperative cancellation for long work: a flag checked between batches, plus hooks that stop
//! work already in flight (an ONNX Runtime `RunOptions::terminate`).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use super::error::{Error, Result};

type Hook = Box<dyn Fn() + Send + Sync>;

/// A cloneable cancellation token; every clone sees the same state.
#[derive(Clone, Default)]
pub struct CancelToken {
    inner: Arc<Inner>,
}

#[derive(Default)]
struct Inner {
    cancelled: AtomicBool,
    hooks: Mutex<Vec<Hook>>,
}

impl CancelToken {
    /// A fresh, not-cancelled token.
    pub fn new() -> Self {
        Self::default()
    }

    /// Ask the work to stop; runs the registered hooks once.
    pub fn cancel(&self) {
        if !self.inner.cancelled.swap(true, Ordering::SeqCst) {
            let hooks = self.inner.hooks.lock().unwrap_or_else(PoisonError::into_inner);
            for hook in hooks.iter() {
                hook();
            }
        }
    }

    /// Whether cancellation was asked for.
    pub fn is_cancelled(&self) -> bool {
        self.inner.cancelled.load(Ordering::SeqCst)
    }

    /// `Err(Error::Cancelled)` once cancelled.
    pub fn check(&self) -> Result<()> {
        if self.is_cancelled() { Err(Error::Cancelled) } else { Ok(()) }
    }

    /// Run `hook` on cancellation (at once if already cancelled).
    pub fn on_cancel(&self, hook: impl Fn() + Send + Sync + 'static) {
        if self.is_cancelled() {
            hook();
            return;
        }
        self.inner.hooks.lock().unwrap_or_else(PoisonError::into_inner).push(Box::new(hook));
    }
}

impl std::fmt::Debug for CancelToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CancelToken").field("cancelled", &self.is_cancelled()).finish()
    }
}
