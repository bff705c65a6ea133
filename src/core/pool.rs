//! A model's pool of ready sessions. Opening an ONNX Runtime session costs milliseconds (the graph
//! is parsed and optimised), running one row costs microseconds, and `Session::run` needs `&mut`:
//! so sessions are opened once, lent to one user at a time and given back.
//!
//! The pool is bounded: it opens sessions lazily up to its limit (by default four per core, enough
//! for every scoring worker and server thread) and then makes borrowers wait. Idle sessions stay
//! open for the next borrower; a session whose borrower panicked is dropped, not reused.

use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::Duration;

use super::error::{Error, Result};
use super::model::info::{ModelInfo, SessionOptions};
use super::runtime;
use super::session::{Session, open_ort_session};

/// Sessions a pool opens at most, per core, unless told otherwise.
pub const SESSIONS_PER_CORE: usize = 4;

/// A bounded pool of single-threaded sessions of one model.
pub struct SessionPool {
    info: Arc<ModelInfo>,
    /// The bytes sessions are opened from (for ZipMap models, the graph with the ZipMap's input
    /// added as an output).
    bytes: Arc<[u8]>,
    limit: usize,
    state: Mutex<State>,
    returned: Condvar,
}

struct State {
    idle: Vec<Session>,
    /// Sessions open, idle or lent.
    open: usize,
}

impl SessionPool {
    /// A pool for the model `info` describes, opening sessions from `bytes`; `first` is an already
    /// open session of those bytes to start with.
    pub fn new(info: Arc<ModelInfo>, bytes: Arc<[u8]>, first: Option<ort::session::Session>) -> Result<Self> {
        let mut idle = Vec::new();
        if let Some(session) = first {
            idle.push(Session::new(Arc::clone(&info), session)?);
        }
        let open = idle.len();
        Ok(Self {
            info,
            bytes,
            limit: runtime::cores() * SESSIONS_PER_CORE,
            state: Mutex::new(State { idle, open }),
            returned: Condvar::new(),
        })
    }

    /// The bytes sessions are opened from.
    pub fn session_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Sessions open at most.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// Sessions open now (idle or lent).
    pub fn open_sessions(&self) -> usize {
        self.lock().open
    }

    /// Open sessions until `n` are ready (a server warms its pool before it says it is ready).
    pub fn warm(&self, n: usize) -> Result<()> {
        let n = n.min(self.limit);
        while self.lock().open < n {
            let session = self.open_session()?;
            let mut state = self.lock();
            state.open += 1;
            state.idle.push(session);
        }
        Ok(())
    }

    /// Borrow a session, opening one when none is idle and the limit allows, else waiting for one.
    pub fn get(self: &Arc<Self>) -> Result<PooledSession> {
        self.get_within(None)?.ok_or_else(|| Error::internal("the session pool gave nothing without a deadline"))
    }

    /// Borrow a session, waiting at most `wait` for one when all are lent (`None`: as long as it
    /// takes); `Ok(None)` when the wait ran out.
    pub fn get_within(self: &Arc<Self>, wait: Option<Duration>) -> Result<Option<PooledSession>> {
        let deadline = wait.map(|w| std::time::Instant::now() + w);
        let mut state = self.lock();
        loop {
            if let Some(session) = state.idle.pop() {
                return Ok(Some(PooledSession { pool: Arc::clone(self), session: Some(session) }));
            }
            if state.open < self.limit {
                state.open += 1;
                drop(state);
                return match self.open_session() {
                    Ok(session) => Ok(Some(PooledSession { pool: Arc::clone(self), session: Some(session) })),
                    Err(e) => {
                        self.lock().open -= 1;
                        self.returned.notify_one();
                        Err(e)
                    }
                };
            }
            state = match deadline {
                None => self.returned.wait(state).unwrap_or_else(PoisonError::into_inner),
                Some(at) => {
                    let left = at.saturating_duration_since(std::time::Instant::now());
                    if left.is_zero() {
                        return Ok(None);
                    }
                    self.returned.wait_timeout(state, left).unwrap_or_else(PoisonError::into_inner).0
                }
            };
        }
    }

    fn open_session(&self) -> Result<Session> {
        let session = open_ort_session(&self.bytes, SessionOptions { intra_threads: 1 }, &self.info.path)?;
        Session::new(Arc::clone(&self.info), session)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn give_back(&self, session: Option<Session>) {
        let mut state = self.lock();
        match session {
            Some(s) => {
                s.stopper().reset();
                state.idle.push(s);
            }
            None => state.open -= 1,
        }
        drop(state);
        self.returned.notify_one();
    }
}

/// A session borrowed from a pool; it goes back when dropped.
pub struct PooledSession {
    pool: Arc<SessionPool>,
    session: Option<Session>,
}

impl std::ops::Deref for PooledSession {
    type Target = Session;

    fn deref(&self) -> &Session {
        // Always `Some` until `drop` takes it.
        self.session.as_ref().unwrap_or_else(|| unreachable!("a pooled session is present until dropped"))
    }
}

impl std::ops::DerefMut for PooledSession {
    fn deref_mut(&mut self) -> &mut Session {
        self.session.as_mut().unwrap_or_else(|| unreachable!("a pooled session is present until dropped"))
    }
}

impl Drop for PooledSession {
    fn drop(&mut self) {
        // A session whose user panicked may be mid-run or half-reset: close it rather than lend it.
        let session = self.session.take().filter(|_| !std::thread::panicking());
        self.pool.give_back(session);
    }
}
