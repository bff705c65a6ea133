//! `mirador serve`: the HTTP shell over [`crate::core::serving`]. It speaks the Open Inference
//! Protocol (KServe V2) as Triton, KServe and MLServer clients do — JSON and Triton's binary tensor
//! extension — plus KServe V1 and Prometheus metrics. It imports the core only, never the window or
//! the command line; the binary hands it a config.
//!
//! - [`app`]: the routes; [`state`]: what they share; [`v2`], [`v1`]: inference;
//! - [`wire`]: the V2 JSON; [`tensors`]: request tensors to the model's rows; [`binary`]: the
//!   binary extension (predictions become V2 tensors in [`crate::core::serving::protocol`]);
//! - [`feedback`]: late labels in, realised metrics out; [`collect`]: KServe's payload events in,
//!   the prediction log out;
//! - [`metrics`]: `/metrics`; [`reply`]: JSON answers and error statuses.
//!
//! HTTP runs on a tokio runtime of its own threads; inference runs on each model's batcher workers
//! (plain threads holding ONNX Runtime sessions), so a slow model never stalls the accept loop.

pub mod admin;
pub mod app;
pub mod binary;
pub mod collect;
pub mod feedback;
pub mod live_metrics;
pub mod metrics;
pub mod quality_metrics;
pub mod reply;
pub mod route_metrics;
pub mod state;
pub mod tensors;
pub mod v1;
pub mod v2;
pub mod wire;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use crate::core::error::{Error, Result};
use crate::core::serving::Service;
use crate::core::serving::config::ServeConfig;
use crate::core::serving::launch::{Launcher, ServerHandle};
use crate::core::serving::stats::ServeStats;

/// A running server.
pub struct Server {
    addr: SocketAddr,
    models: Vec<(String, String, String)>,
    routes: Arc<crate::core::serving::routes::RouteTable>,
    workers: usize,
    stats: Arc<ServeStats>,
    quality: Arc<crate::core::serving::quality::QualityState>,
    log_dir: Option<std::path::PathBuf>,
    notes: Vec<String>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<Result<String>>>,
    ready_after: Duration,
}

/// Load and warm every model, bind the address, and serve on background threads. Returns once the
/// server answers (ready), or the reason it cannot start.
pub fn start(config: ServeConfig) -> Result<Server> {
    let begun = Instant::now();
    config.check()?;
    let service = Service::start(&config)?;
    let address = format!("{}:{}", config.host, config.port);
    let listener = std::net::TcpListener::bind(&address).map_err(|e| {
        let hint = if e.kind() == std::io::ErrorKind::AddrInUse {
            " (another server uses that port: pick one with --port)"
        } else {
            ""
        };
        Error::Unavailable(format!("cannot listen on {address}: {e}{hint}"))
    })?;
    listener.set_nonblocking(true).map_err(|e| Error::internal(format!("cannot set up the listener: {e}")))?;
    let addr = listener.local_addr().map_err(|e| Error::internal(format!("cannot read the bound address: {e}")))?;
    let models = service
        .routes()
        .iter()
        .map(|r| {
            let arms = r.arms();
            let mut source = arms.champion.served.source.clone();
            if let Some(c) = &arms.challenger {
                source = format!(
                    "{source}; {} with challenger version {} ({})",
                    r.strategy.describe(),
                    c.served.version,
                    c.served.source
                );
            }
            (r.name.clone(), arms.champion.served.version.clone(), source)
        })
        .collect();
    let routes = Arc::clone(service.route_table());
    let workers = config.workers().0;
    let stats = Arc::clone(service.stats());
    let quality = Arc::clone(service.quality().state());
    let log_dir = config.log_dir.clone();
    let notes = service.notes().to_vec();
    let grace = Duration::from_secs_f64(config.shutdown_grace_secs);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(crate::core::runtime::cores().max(1))
        .thread_name("mirador-http")
        .enable_all()
        .build()
        .map_err(|e| Error::internal(format!("cannot start the HTTP runtime: {e}")))?;
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let (ready_tx, ready_rx) = std::sync::mpsc::sync_channel::<Result<()>>(1);
    let thread = std::thread::Builder::new()
        .name("mirador-serve".into())
        .spawn(move || serve(runtime, listener, service, stop_rx, ready_tx, grace))
        .map_err(|e| Error::internal(format!("cannot start the server thread: {e}")))?;
    match ready_rx.recv() {
        Ok(Ok(())) => {}
        Ok(Err(e)) => return Err(e),
        Err(_) => return Err(Error::internal("the server thread stopped while starting")),
    }
    Ok(Server {
        addr,
        models,
        routes,
        workers,
        stats,
        quality,
        log_dir,
        notes,
        stop: Some(stop_tx),
        thread: Some(thread),
        ready_after: begun.elapsed(),
    })
}

/// The server thread: serve until told to stop, give in-flight requests `grace`, then close the
/// prediction log. Returns a line saying how it stopped.
fn serve(
    runtime: tokio::runtime::Runtime,
    listener: std::net::TcpListener,
    service: Service,
    stop: tokio::sync::oneshot::Receiver<()>,
    ready: std::sync::mpsc::SyncSender<Result<()>>,
    grace: Duration,
) -> Result<String> {
    let state = Arc::new(state::AppState::new(service));
    let router = app::router(Arc::clone(&state));
    let outcome = runtime.block_on(async {
        let listener = match tokio::net::TcpListener::from_std(listener) {
            Ok(l) => l,
            Err(e) => {
                let _ = ready.send(Err(Error::internal(format!("cannot listen: {e}"))));
                return Ok("not started".to_string());
            }
        };
        let _ = ready.send(Ok(()));
        let (begun_tx, begun_rx) = tokio::sync::oneshot::channel::<()>();
        let stopping = Arc::clone(&state);
        let signal = async move {
            let _ = stop.await;
            stopping.ready.store(false, Ordering::SeqCst);
            let _ = begun_tx.send(());
        };
        // Answers go out at once (no Nagle delay waiting for the client's ACK).
        let listener = axum::serve::ListenerExt::tap_io(listener, |tcp: &mut tokio::net::TcpStream| {
            let _ = tcp.set_nodelay(true);
        });
        let router = router.into_make_service_with_connect_info::<std::net::SocketAddr>();
        let server = tokio::spawn(axum::serve(listener, router).with_graceful_shutdown(signal).into_future());
        tokio::pin!(server);
        tokio::select! {
            done = &mut server => return done
                .map_err(|e| Error::internal(format!("the server task failed: {e}")))?
                .map(|()| "stopped".to_string())
                .map_err(|e| Error::internal(format!("the server failed: {e}"))),
            _ = begun_rx => {}
        }
        match tokio::time::timeout(grace, &mut server).await {
            Ok(_) => Ok("stopped after the requests in flight finished".to_string()),
            Err(_) => {
                Ok(format!("stopped; requests still running after the {} s grace were cut off", grace.as_secs_f64()))
            }
        }
    });
    runtime.shutdown_timeout(Duration::from_millis(200));
    let mut line: String = outcome?;
    let log = state.service.log().map(|l| (l.dir().to_path_buf(), Arc::clone(l.counts())));
    // A request cut off after the grace may still hold the state; the log then closes when it drops.
    if let Ok(state) = Arc::try_unwrap(state) {
        state.service.shutdown()?;
    }
    if let Some((dir, counts)) = log {
        let n = |c: &std::sync::atomic::AtomicU64| c.load(Ordering::SeqCst);
        line.push_str(&format!(
            "; prediction log {}: {} rows written in {} segments, {} dropped",
            dir.display(),
            n(&counts.written),
            n(&counts.segments),
            n(&counts.dropped)
        ));
    }
    Ok(line)
}

impl Server {
    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// How long start-up took (loading and warming the models included).
    pub fn ready_after(&self) -> Duration {
        self.ready_after
    }

    /// What start-up adjusted (e.g. a capped worker count).
    pub fn notes(&self) -> &[String] {
        &self.notes
    }

    /// The served models: (name, version, source).
    pub fn served(&self) -> &[(String, String, String)] {
        &self.models
    }

    /// Apply a re-read config's models and routes (the rest stays as started).
    pub fn reload(&self, config: &ServeConfig) -> Result<Vec<String>> {
        self.routes.reload(config, self.workers)
    }

    /// Stop accepting, let in-flight requests finish (within the grace), close the log.
    pub fn shutdown(mut self) -> Result<String> {
        self.finish()
    }

    fn finish(&mut self) -> Result<String> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        match self.thread.take().map(std::thread::JoinHandle::join) {
            Some(Ok(result)) => result,
            Some(Err(p)) => Err(Error::panicked("server", p.as_ref())),
            None => Ok("stopped".into()),
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.finish();
    }
}

impl ServerHandle for Server {
    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn models(&self) -> Vec<(String, String)> {
        self.models.iter().map(|(n, v, _)| (n.clone(), v.clone())).collect()
    }

    fn stats(&self) -> Arc<ServeStats> {
        Arc::clone(&self.stats)
    }

    fn routes(&self) -> Vec<Arc<crate::core::serving::route::Route>> {
        self.routes.all()
    }

    fn quality(&self) -> Arc<crate::core::serving::quality::QualityState> {
        Arc::clone(&self.quality)
    }

    fn log_dir(&self) -> Option<std::path::PathBuf> {
        self.log_dir.clone()
    }

    fn stop(self: Box<Self>) -> Result<()> {
        self.shutdown().map(|_| ())
    }
}

/// How the window starts a server.
pub fn launcher() -> Launcher {
    Arc::new(|config| Ok(Box::new(start(config)?) as Box<dyn ServerHandle>))
}

/// How `run` reads the config again on SIGHUP (the file, with the command line's flags on top).
pub type Reread = Box<dyn Fn() -> Result<ServeConfig>>;

/// `mirador serve`: start, say where each model is, serve until SIGTERM or SIGINT, then stop
/// gracefully (a second signal stops at once). Exit 0 after a clean stop. SIGHUP reads the config
/// again (`reread`) and applies its models and routes (see `RouteTable::reload`); a config that
/// does not load changes nothing and is reported.
pub fn run(config: ServeConfig, verbose: bool, reread: Option<Reread>) -> std::process::ExitCode {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    let mut signals = match signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP]) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: cannot listen for signals: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let log_dir = config.log_dir.clone();
    let server = match start(config) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {}", if verbose { e.verbose() } else { e.to_string() });
            return std::process::ExitCode::FAILURE;
        }
    };
    for note in server.notes() {
        eprintln!("note: {note}");
    }
    let base = format!("http://{}", server.addr());
    for (name, version, source) in server.served() {
        println!("serving {name} (version {version}, {source}) at {base}/v2/models/{name}");
    }
    if let Some(dir) = &log_dir {
        println!("prediction log: {}", dir.display());
    }
    println!("ready in {} ms: {base}/v2/health/ready, metrics at {base}/metrics", server.ready_after().as_millis());
    let mut signal = None;
    for s in signals.forever() {
        if s != SIGHUP {
            signal = Some(s);
            break;
        }
        let outcome = reread
            .as_ref()
            .ok_or_else(|| Error::Invalid("nothing to read again: start with --config FILE".into()))
            .and_then(|reread| reread())
            .and_then(|config| server.reload(&config));
        match outcome {
            Ok(changes) if changes.is_empty() => eprintln!("SIGHUP: config read again; no model or route changed"),
            Ok(changes) => eprintln!("SIGHUP: config read again: {}", changes.join("; ")),
            Err(e) => eprintln!("SIGHUP: the config was not applied, nothing changed: {e}"),
        }
    }
    let first = Instant::now();
    eprintln!(
        "received {}; finishing the requests in flight",
        if signal == Some(SIGINT) { "SIGINT" } else { "SIGTERM" }
    );
    let handle = signals.handle();
    let _second = std::thread::Builder::new().name("mirador-second-signal".into()).spawn(move || {
        // The same signal often arrives twice at once (sent to the process and to its group, as
        // `timeout` does); only one sent later means "stop now".
        for _ in signals.forever() {
            if first.elapsed() > Duration::from_secs(1) {
                eprintln!("second signal: stopping at once; rows not yet in a closed log segment are lost");
                std::process::exit(1);
            }
        }
    });
    let outcome = server.shutdown();
    handle.close();
    match outcome {
        Ok(line) => {
            println!("{line}");
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
