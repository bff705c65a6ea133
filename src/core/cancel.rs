//! Cooperative cancellation for long work: a flag checked between batches, plus hooks that stop
//! work already in flight (an ONNX Runtime `RunOptions::terminate`).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use super::error::{Error, Result};

type Hook = Box<dyn Fn() + Send + Sync>;
type Hooks = Vec<(u64, Hook)>;

/// A cloneable cancellation token; every clone sees the same state.
#[derive(Clone, Default)]
pub struct CancelToken {
    inner: Arc<Inner>,
}

#[derive(Default)]
struct Inner {
    cancelled: AtomicBool,
    hooks: Mutex<Hooks>,
    next_hook: std::sync::atomic::AtomicU64,
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
            for (_, hook) in hooks.iter() {
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

    /// Run `hook` on cancellation (at once if already cancelled) for as long as the returned guard
    /// lives: work that ends drops its hook, so a later cancel reaches nothing it has handed on.
    pub fn on_cancel(&self, hook: impl Fn() + Send + Sync + 'static) -> CancelHook {
        let id = self.inner.next_hook.fetch_add(1, Ordering::Relaxed);
        let mut hooks = self.inner.hooks.lock().unwrap_or_else(PoisonError::into_inner);
        if self.is_cancelled() {
            drop(hooks);
            hook();
        } else {
            hooks.push((id, Box::new(hook)));
        }
        CancelHook { token: self.clone(), id }
    }
}

/// A registered cancellation hook; dropping it unregisters the hook.
#[must_use = "the hook is unregistered when this guard is dropped"]
pub struct CancelHook {
    token: CancelToken,
    id: u64,
}

impl Drop for CancelHook {
    fn drop(&mut self) {
        self.token.inner.hooks.lock().unwrap_or_else(PoisonError::into_inner).retain(|(id, _)| *id != self.id);
    }
}

impl std::fmt::Debug for CancelToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CancelToken").field("cancelled", &self.is_cancelled()).finish()
    }
}
