//! Background jobs: long work (checking, scoring, comparing, monitoring, exporting) runs on a named
//! thread, reports progress over a bounded crossbeam channel, wakes the UI, and can be cancelled.
//! The UI thread only polls; it never waits on a job.

use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender, bounded};

use super::outputs::JobOutput;
use crate::core::{CancelToken, Error};

/// Identifies a job for its whole life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct JobId(pub u64);

/// What a job is for, so its result (or failure) reaches the right screen.
#[derive(Debug, Clone, PartialEq)]
pub enum JobKind {
    /// Opening a model file.
    OpenModel(std::path::PathBuf),
    /// The contract check on the Score screen.
    Check,
    /// Scoring a file.
    Score,
    /// One prediction from the form (not listed: there is one per keystroke).
    Predict,
    /// The prediction form's defaults (not listed).
    FormDefaults,
    /// A page of a table read from its file (not listed).
    Page,
    /// Comparing versions.
    Compare,
    /// Monitoring.
    Monitor,
    /// Writing an export.
    Export,
    /// Reading or changing the registry.
    Registry,
    /// Starting or stopping the server.
    Serve,
    /// Replaying a rollout.
    Replay,
    /// Running a promotion gate.
    Gate,
    /// Retraining a registered model.
    Retrain,
}

impl JobKind {
    /// Whether the job list leaves it out.
    pub fn is_quiet(&self) -> bool {
        matches!(self, Self::Predict | Self::FormDefaults | Self::Page)
    }
}

/// Where a job stands.
#[derive(Debug, Clone, PartialEq)]
pub enum JobStatus {
    /// Still working.
    Running,
    /// Finished with a result (already handed to the app).
    Done,
    /// Failed; the message says what and where.
    Failed(String),
    /// Stopped at the user's request.
    Cancelled,
}

/// Progress a job reports while it works.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct JobProgress {
    /// Share done, 0..=1, when known.
    pub fraction: Option<f64>,
    /// Rows processed so far.
    pub rows_done: u64,
    /// Throughput, rows per second.
    pub rows_per_sec: f64,
    /// Estimated seconds left.
    pub eta_secs: Option<f64>,
    /// What the job is doing now, for jobs that go through steps rather than rows.
    pub stage: Option<String>,
}

enum Event {
    Progress(JobProgress),
    Finished(crate::core::Result<JobOutput>),
}

/// The handle a job's thread reports through. Progress is lossy (a full channel drops an update,
/// the next one carries the news); the final result is always delivered.
pub struct Reporter {
    tx: Sender<Event>,
    ctx: egui::Context,
}

impl Reporter {
    /// Report progress and wake the UI.
    pub fn progress(&self, progress: JobProgress) {
        // A full channel drops this update (the next one carries the news); a closed one means
        // the app has gone and nobody is watching.
        let _ = self.tx.try_send(Event::Progress(progress));
        self.ctx.request_repaint_after(Duration::from_millis(30));
    }

    /// Report `rows` done and the share of the work, with the throughput since `start`.
    pub fn rows(&self, rows: u64, fraction: f64, start: Instant) {
        let elapsed = start.elapsed().as_secs_f64();
        let eta = (fraction > 0.0 && fraction < 1.0).then(|| elapsed * (1.0 - fraction) / fraction);
        self.progress(JobProgress {
            fraction: Some(fraction),
            rows_done: rows,
            rows_per_sec: rows as f64 / elapsed.max(1e-9),
            eta_secs: eta,
            stage: None,
        });
    }

    /// Report that step `step` of `steps` has started, doing `what`.
    pub fn stage(&self, step: usize, steps: usize, what: &str) {
        self.progress(JobProgress {
            fraction: Some(step.saturating_sub(1) as f64 / steps.max(1) as f64),
            stage: Some(format!("{step}/{steps}: {what}")),
            ..JobProgress::default()
        });
    }

    /// Report progress from a scoring run.
    pub fn scoring(&self, p: &crate::core::Progress) {
        self.progress(JobProgress {
            fraction: Some(p.fraction),
            rows_done: p.rows_done,
            rows_per_sec: p.rows_per_sec,
            eta_secs: p.eta_secs(),
            stage: None,
        });
    }
}

/// One job as the UI sees it.
pub struct Job {
    /// Its id.
    pub id: JobId,
    /// What it does, in the user's words (e.g. "Score churn_current.csv with churn_v1").
    pub name: String,
    /// What it is for.
    pub kind: JobKind,
    /// Latest progress.
    pub progress: JobProgress,
    /// Where it stands.
    pub status: JobStatus,
    /// When it started.
    pub started: Instant,
    /// How long it took, once finished.
    pub took: Option<Duration>,
    cancel: CancelToken,
    /// The job's channel, dropped once it has finished (finished jobs hold nothing).
    rx: Option<Receiver<Event>>,
}

impl Job {
    /// Whether the job is still working.
    pub fn is_running(&self) -> bool {
        self.status == JobStatus::Running
    }
}

/// A job that has just finished, for the app to route.
pub struct Finished {
    /// Which job.
    pub id: JobId,
    /// Its name.
    pub name: String,
    /// What it was for.
    pub kind: JobKind,
    /// The result: the output, or the error.
    pub result: Result<JobOutput, Error>,
}

/// Finished jobs kept in the list (older ones are forgotten).
const KEEP_FINISHED: usize = 200;

/// All jobs of this session, running and finished.
#[derive(Default)]
pub struct Jobs {
    next: u64,
    jobs: Vec<Job>,
}

impl Jobs {
    /// Start `work` on a thread named after the job.
    pub fn spawn(
        &mut self,
        ctx: &egui::Context,
        kind: JobKind,
        name: impl Into<String>,
        work: impl FnOnce(&Reporter, &CancelToken) -> crate::core::Result<JobOutput> + Send + 'static,
    ) -> JobId {
        let name = name.into();
        self.next += 1;
        let id = JobId(self.next);
        let (tx, rx) = bounded(64);
        let cancel = CancelToken::new();
        let reporter = Reporter { tx: tx.clone(), ctx: ctx.clone() };
        let token = cancel.clone();
        let spawned = std::thread::Builder::new().name(format!("mirador-job-{}", id.0)).spawn(move || {
            // A job that panics is a failed job with a message, never one that runs for ever.
            let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| work(&reporter, &token)))
                .unwrap_or_else(|p| Err(Error::panicked("job", p.as_ref())));
            // The receiver lives as long as the job list; a send error means the app has gone.
            let _ = reporter.tx.send(Event::Finished(result));
            reporter.ctx.request_repaint();
        });
        let status = match spawned {
            Ok(_) => JobStatus::Running,
            Err(e) => JobStatus::Failed(format!("could not start a thread: {e}")),
        };
        self.jobs.push(Job {
            id,
            name,
            kind,
            progress: JobProgress::default(),
            status,
            started: Instant::now(),
            took: None,
            cancel,
            rx: Some(rx),
        });
        id
    }

    /// Ask a job to stop; it ends as [`JobStatus::Cancelled`] at its next check.
    pub fn cancel(&self, id: JobId) {
        if let Some(job) = self.jobs.iter().find(|j| j.id == id) {
            job.cancel.cancel();
        }
    }

    /// Drain every job's channel; returns the jobs that finished since the last call. A finished
    /// job lets go of its channel; quiet jobs (one per keystroke) leave the list.
    pub fn poll(&mut self) -> Vec<Finished> {
        let mut finished = Vec::new();
        for job in self.jobs.iter_mut().filter(|j| j.is_running()) {
            let Some(rx) = &job.rx else { continue };
            let mut ended = None;
            while let Ok(event) = rx.try_recv() {
                match event {
                    Event::Progress(p) => job.progress = p,
                    Event::Finished(result) => ended = Some(result),
                }
            }
            let Some(result) = ended else { continue };
            job.took = Some(job.started.elapsed());
            job.status = match &result {
                Ok(_) => JobStatus::Done,
                Err(e) if e.is_cancelled() => JobStatus::Cancelled,
                Err(e) => JobStatus::Failed(e.to_string()),
            };
            job.rx = None;
            finished.push(Finished { id: job.id, name: job.name.clone(), kind: job.kind.clone(), result });
        }
        self.jobs.retain(|j| j.is_running() || !j.kind.is_quiet());
        let done = self.jobs.iter().filter(|j| !j.is_running()).count();
        if done > KEEP_FINISHED {
            let mut drop = done - KEEP_FINISHED;
            self.jobs.retain(|j| {
                let forget = drop > 0 && !j.is_running();
                drop -= usize::from(forget);
                !forget
            });
        }
        finished
    }

    /// Every job, oldest first.
    pub fn all(&self) -> &[Job] {
        &self.jobs
    }

    /// The job with this id.
    pub fn get(&self, id: JobId) -> Option<&Job> {
        self.jobs.iter().find(|j| j.id == id)
    }

    /// Whether any job is still working.
    pub fn any_running(&self) -> bool {
        self.jobs.iter().any(Job::is_running)
    }

    /// Forget finished jobs.
    pub fn clear_finished(&mut self) {
        self.jobs.retain(Job::is_running);
    }
}
