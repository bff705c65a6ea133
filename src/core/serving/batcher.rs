//! Dynamic batching: rows of requests that wait together are scored in one ONNX Runtime call, and
//! each request gets exactly its own rows back.
//!
//! Each model has a bounded queue and a few workers, each holding a session from the model's pool.
//! A worker takes the first waiting request, then whatever else is waiting (up to `max_rows`,
//! waiting up to `max_delay_us` for more when that is set), stacks their rows — already checked
//! against the contract and typed alike — converts them through the same code a file goes through,
//! runs them, and cuts the predictions back into each request's rows. A full queue refuses a new
//! request at once (503), so memory stays bounded whatever the load. Scoring rows together gives the
//! same labels as scoring them apart, and probabilities within float32 rounding: the models'
//! operators compute each row on its own, but ONNX Runtime's float32 kernels may round a row an ulp
//! or two differently depending on its place in the batch.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender, TrySendError, bounded};
use polars::prelude::DataFrame;

use super::config::Batching;
use crate::core::contract::Binding;
use crate::core::convert::BatchContext;
use crate::core::error::{Error, Result};
use crate::core::model::Model;
use crate::core::session::BatchPredictions;

/// A request's rows, checked and typed, waiting to be scored.
pub struct Job {
    /// The rows (the model's columns, in canonical types).
    pub frame: DataFrame,
    /// When it was queued.
    pub queued: Instant,
    /// How long its inference may take.
    pub deadline: Duration,
    /// Called with its predictions, on the worker that scored it.
    pub reply: Reply,
}

/// What a request does with its predictions (called once, on a worker thread; must not block).
pub type Reply = Box<dyn FnOnce(Result<Scored>) + Send>;

/// One request's predictions, and how they were made.
#[derive(Debug, Clone)]
pub struct Scored {
    /// Its rows' predictions, in its order.
    pub predictions: BatchPredictions,
    /// Seconds it waited before its batch started.
    pub queue_secs: f64,
    /// Seconds the batch's inference took (conversion and ONNX Runtime).
    pub infer_secs: f64,
    /// Rows in the batch it was scored in.
    pub batch_rows: usize,
    /// Whether it was its batch's first request (so each batch is counted once).
    pub first_in_batch: bool,
}

/// A model's queue and workers.
pub struct Batcher {
    tx: Sender<Job>,
}

impl Batcher {
    /// Start `workers` workers for `model`, fed through `binding`; each opens its session now (a
    /// server is ready only when its sessions are).
    pub fn start(model: &Model, binding: &Binding, settings: &Batching, workers: usize) -> Result<Self> {
        let (tx, rx) = bounded::<Job>(settings.queue_requests.max(1));
        model.pool().warm(workers)?;
        for i in 0..workers.max(1) {
            let (model, binding, rx) = (model.clone(), binding.clone(), rx.clone());
            let (max_rows, delay) = (settings.max_rows.max(1), Duration::from_micros(settings.max_delay_us));
            std::thread::Builder::new()
                .name(format!("mirador-batch-{}-{i}", model.info().name))
                .spawn(move || work(&model, &binding, &rx, max_rows, delay))
                .map_err(|e| Error::internal(format!("cannot start an inference worker: {e}")))?;
        }
        Ok(Self { tx })
    }

    /// Queue `frame` for scoring; `reply` is called with its predictions. A full queue is refused
    /// at once (`Unavailable`), and `reply` is then never called.
    pub fn submit(
        &self,
        frame: DataFrame,
        deadline: Duration,
        reply: impl FnOnce(Result<Scored>) + Send + 'static,
    ) -> Result<()> {
        let job = Job { frame, queued: Instant::now(), deadline, reply: Box::new(reply) };
        match self.tx.try_send(job) {
            Ok(()) => Ok(()),
            Err(TrySendError::Full(_)) => {
                Err(Error::Unavailable("the server is overloaded: too many requests are waiting; try again".into()))
            }
            Err(TrySendError::Disconnected(_)) => Err(Error::Unavailable("the model's workers have stopped".into())),
        }
    }

    /// Requests waiting now.
    pub fn waiting(&self) -> usize {
        self.tx.len()
    }
}

fn work(model: &Model, binding: &Binding, rx: &Receiver<Job>, max_rows: usize, delay: Duration) {
    let mut session = match model.pool().get() {
        Ok(session) => session,
        Err(e) => {
            // No session: answer every request with the reason until the queue closes.
            let reason = Arc::new(e.to_string());
            for job in rx {
                (job.reply)(Err(Error::internal(reason.as_str().to_string())));
            }
            return;
        }
    };
    while let Ok(first) = rx.recv() {
        let mut rows = first.frame.height();
        let until = first.queued + delay;
        let mut batch = vec![first];
        while rows < max_rows {
            let next = match rx.try_recv() {
                Ok(job) => Ok(job),
                Err(_) if delay.is_zero() => break,
                Err(_) => rx.recv_deadline(until).map_err(|e| e == RecvTimeoutError::Disconnected),
            };
            match next {
                Ok(job) => {
                    rows += job.frame.height();
                    batch.push(job);
                }
                Err(_) => break,
            }
        }
        score(&mut session, binding, batch, rows);
    }
}

/// Score the jobs' rows in one call and hand each its own.
fn score(session: &mut crate::core::session::Session, binding: &Binding, batch: Vec<Job>, rows: usize) {
    let started = Instant::now();
    let deadline = batch.iter().map(|j| j.deadline).min().unwrap_or(Duration::from_secs(30));
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let mut frames = batch.iter().map(|j| &j.frame);
        let mut all = frames.next().cloned().unwrap_or_default();
        for f in frames {
            all.vstack_mut(f).map_err(|e| Error::internal(format!("cannot stack the batch's rows: {e}")))?;
        }
        session.predict_frame(&all, binding, &BatchContext { file: None, first_row: 0 }, deadline)
    }))
    .unwrap_or_else(|p| Err(Error::panicked("inference", p.as_ref())));
    let infer_secs = started.elapsed().as_secs_f64();
    let mut start = 0;
    for (i, job) in batch.into_iter().enumerate() {
        let n = job.frame.height();
        let answer = match &result {
            Ok(p) => Ok(Scored {
                predictions: p.slice(start, start + n),
                queue_secs: started.duration_since(job.queued).as_secs_f64(),
                infer_secs,
                batch_rows: rows,
                first_in_batch: i == 0,
            }),
            Err(e) => Err(copy_error(e)),
        };
        start += n;
        // A reply that panics must not take the worker (and every later request) with it.
        let reply = job.reply;
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || reply(answer)));
    }
}

/// The same error for each request of a failed batch (errors are not `Clone`: their I/O sources).
pub fn copy_error(e: &Error) -> Error {
    match e {
        Error::Cancelled => Error::Cancelled,
        Error::Timeout(m) => Error::Timeout(m.clone()),
        Error::Inference { summary, raw } => Error::Inference { summary: summary.clone(), raw: raw.clone() },
        Error::Data { message, location } => Error::Data { message: message.clone(), location: location.clone() },
        Error::Invalid(m) => Error::Invalid(m.clone()),
        other => Error::internal(other.to_string()),
    }
}
