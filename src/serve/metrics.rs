//! `GET /metrics`: the server's figures in the Prometheus exposition format (OpenMetrics text), with
//! Prometheus' naming conventions (`mirador_` prefix, `_total` counters, `_seconds` units) and
//! sub-millisecond latency buckets (a request here takes well under the 5 ms where Prometheus'
//! default buckets start). No label has a request's id or other unbounded values.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric};
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use crate::core::serving::predlog::LogCounts;

/// Seconds: 50 µs to 10 s.
const LATENCY_BUCKETS: [f64; 18] = [
    0.00005, 0.0001, 0.00025, 0.0005, 0.00075, 0.001, 0.0025, 0.005, 0.0075, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0,
    2.5, 10.0,
];
/// Rows per batch.
const BATCH_BUCKETS: [f64; 12] = [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 1024.0, 4096.0, 65536.0];

/// A served model.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ModelLabels {
    /// Its protocol name.
    pub model: String,
    /// Its version.
    pub version: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    model: String,
    version: String,
    status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct BuildLabels {
    version: String,
}

type Histograms = Family<ModelLabels, Histogram, fn() -> Histogram>;

/// The server's metrics.
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    rows: Family<ModelLabels, Counter>,
    duration: Histograms,
    queue: Histograms,
    batch: Histograms,
    in_flight: Family<ModelLabels, Gauge>,
    ready: Family<ModelLabels, Gauge>,
}

impl Metrics {
    /// The metrics, with the prediction log's counts when a log is kept, and the figures of the
    /// routes that have a challenger.
    pub fn new(
        log: Option<Arc<LogCounts>>,
        routes: Arc<crate::core::serving::routes::RouteTable>,
        quality: Arc<crate::core::serving::quality::QualityState>,
        collect: Option<Arc<crate::core::serving::collect::CollectCounts>>,
    ) -> Self {
        let mut registry = Registry::default();
        let requests = Family::default();
        let rows = Family::default();
        let latency: fn() -> Histogram = || Histogram::new(LATENCY_BUCKETS);
        let duration = Family::new_with_constructor(latency);
        let queue = Family::new_with_constructor(latency);
        let batch = Family::new_with_constructor((|| Histogram::new(BATCH_BUCKETS)) as fn() -> Histogram);
        let in_flight = Family::default();
        let ready = Family::default();
        registry.register(
            "mirador_inference_requests",
            "Inference requests answered, by model, version and HTTP status",
            requests.clone(),
        );
        registry.register("mirador_inference_rows", "Rows scored, by model and version", rows.clone());
        registry.register(
            "mirador_inference_request_duration_seconds",
            "Time from a request's arrival to its answer, seconds",
            duration.clone(),
        );
        registry.register(
            "mirador_inference_queue_duration_seconds",
            "Time a request waited for its batch to start, seconds",
            queue.clone(),
        );
        registry.register(
            "mirador_inference_batch_rows",
            "Rows per ONNX Runtime call (dynamic batching coalesces concurrent requests)",
            batch.clone(),
        );
        registry.register(
            "mirador_inference_requests_in_flight",
            "Inference requests being handled now",
            in_flight.clone(),
        );
        registry.register("mirador_model_ready", "1 when the model is loaded and answering", ready.clone());
        let build = Family::<BuildLabels, Gauge>::default();
        build.get_or_create(&BuildLabels { version: env!("CARGO_PKG_VERSION").into() }).set(1);
        registry.register("mirador_build_info", "The running Mirador's version", build);
        if let Some(counts) = log {
            registry.register_collector(Box::new(LogCollector(counts)));
        }
        if let Some(counts) = collect {
            registry.register_collector(Box::new(EventCollector(counts)));
        }
        registry.register_collector(Box::new(super::live_metrics::LiveCollector(
            Arc::clone(&routes),
            Arc::clone(&quality),
        )));
        registry.register_collector(Box::new(super::quality_metrics::QualityCollector(quality)));
        registry.register_collector(Box::new(super::route_metrics::RouteCollector(routes)));
        Self { registry, requests, rows, duration, queue, batch, in_flight, ready }
    }

    /// Count an answered request (any status; `model` empty when none was found).
    pub fn request(&self, model: &ModelLabels, status: u16, rows: usize, seconds: f64) {
        let labels =
            RequestLabels { model: model.model.clone(), version: model.version.clone(), status: status.to_string() };
        self.requests.get_or_create(&labels).inc();
        if status == 200 {
            self.rows.get_or_create(model).inc_by(rows as u64);
            self.duration.get_or_create(model).observe(seconds);
        }
    }

    /// Record how long a request queued, and its batch's size when it was the batch's first.
    pub fn scored(&self, model: &ModelLabels, queue_secs: f64, batch_rows: Option<usize>) {
        self.queue.get_or_create(model).observe(queue_secs);
        if let Some(rows) = batch_rows {
            self.batch.get_or_create(model).observe(rows as f64);
        }
    }

    /// One more request in flight for `model`, until the guard drops.
    pub fn in_flight(&self, model: &ModelLabels) -> InFlight {
        let gauge = self.in_flight.get_or_create(model).clone();
        gauge.inc();
        InFlight(gauge)
    }

    /// Mark `model` ready (or not).
    pub fn set_ready(&self, model: &ModelLabels, ready: bool) {
        self.ready.get_or_create(model).set(i64::from(ready));
    }

    /// The OpenMetrics text (what Prometheus asks for first).
    pub fn encode(&self) -> String {
        let mut out = String::with_capacity(8192);
        // Writing to a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }

    /// The classic Prometheus text format (0.0.4), for scrapers and tools that do not ask for
    /// OpenMetrics.
    pub fn encode_classic(&self) -> String {
        openmetrics_to_classic(&self.encode())
    }
}

/// OpenMetrics text as the classic Prometheus format: a counter's `HELP` and `TYPE` name its
/// `_total` series, and the `# EOF` and `# UNIT` lines go.
pub fn openmetrics_to_classic(text: &str) -> String {
    let counters: Vec<&str> =
        text.lines().filter_map(|l| l.strip_prefix("# TYPE ")?.strip_suffix(" counter")).collect();
    let mut out = String::with_capacity(text.len() + 256);
    for line in text.lines() {
        if line == "# EOF" || line.starts_with("# UNIT ") {
            continue;
        }
        let named = ["# HELP ", "# TYPE "].iter().find_map(|p| line.strip_prefix(p).map(|rest| (p, rest)));
        match named {
            Some((prefix, rest)) => {
                let (name, tail) = rest.split_once(' ').unwrap_or((rest, ""));
                if counters.contains(&name) {
                    out.push_str(&format!("{prefix}{name}_total {tail}"));
                } else {
                    out.push_str(line);
                }
            }
            None => out.push_str(line),
        }
        out.push('\n');
    }
    out
}

/// Decrements the in-flight gauge when dropped (also when a client goes away mid-request).
pub struct InFlight(Gauge);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.dec();
    }
}

/// The prediction log's counts, read at each scrape.
#[derive(Debug)]
struct LogCollector(Arc<LogCounts>);

/// The payload events collected (`POST /collect`), by outcome.
#[derive(Debug)]
struct EventCollector(Arc<crate::core::serving::collect::CollectCounts>);

#[derive(Clone, Debug, Hash, PartialEq, Eq, prometheus_client::encoding::EncodeLabelSet)]
struct OutcomeLabel {
    outcome: String,
}

impl Collector for EventCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let c = &self.0;
        let counter = ConstCounter::new(0u64);
        let mut m = encoder.encode_descriptor(
            "mirador_collect_events",
            "Payload events received: received, and the outcome of those that ended (logged pairs, malformed, undecodable or unpaired events)",
            None,
            counter.metric_type(),
        )?;
        for (outcome, value) in [
            ("received", &c.received),
            ("logged", &c.logged),
            ("malformed", &c.malformed),
            ("undecodable", &c.undecodable),
            ("unpaired", &c.unpaired),
        ] {
            let labels = OutcomeLabel { outcome: outcome.into() };
            ConstCounter::new(value.load(Ordering::Relaxed)).encode(m.encode_family(&labels)?)?;
        }
        Ok(())
    }
}

impl Collector for LogCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let c = &self.0;
        for (name, help, value) in [
            ("mirador_prediction_log_rows_written", "Rows written to the prediction log", &c.written),
            (
                "mirador_prediction_log_rows_dropped",
                "Rows dropped because the prediction log's writer was behind",
                &c.dropped,
            ),
            ("mirador_prediction_log_segments", "Prediction log segments completed", &c.segments),
        ] {
            let counter = ConstCounter::new(value.load(Ordering::Relaxed));
            let metric = encoder.encode_descriptor(name, help, None, counter.metric_type())?;
            counter.encode(metric)?;
        }
        Ok(())
    }
}
