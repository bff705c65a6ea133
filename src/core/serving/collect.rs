//! Payload logs from models served elsewhere: KServe's inference logger sends every request and
//! every response as a CloudEvent (HTTP binary mode — `ce-id`, `ce-type:
//! org.kubeflow.serving.inference.request` / `.response`, the body as it was — or structured mode,
//! `application/cloudevents+json`). Here they are read, checked and paired by `ce-id`; the HTTP
//! shell decodes each pair with the served model's contract and writes it to the prediction log,
//! so a fleet's traffic is monitored like the server's own.
//!
//! Nothing is lost and nothing grows without bound: a malformed event, a pair that cannot be
//! decoded, and an event whose partner never came (after `ttl`, or pushed out when more than
//! `limit` wait) are counted and kept aside, as JSON lines, in `<log>/_set_aside/events.jsonl`.

use std::collections::{HashMap, VecDeque};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::core::error::{Error, Result};

/// The CloudEvents type of a logged request.
pub const REQUEST_TYPE: &str = "org.kubeflow.serving.inference.request";
/// The CloudEvents type of a logged response.
pub const RESPONSE_TYPE: &str = "org.kubeflow.serving.inference.response";

/// One payload event.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// `ce-id`: a request and its response share it.
    pub id: String,
    /// Whether it is the request (else the response).
    pub request: bool,
    /// `ce-time`, when given.
    pub time: Option<String>,
    /// `ce-inferenceservicename`, when given.
    pub service: Option<String>,
    /// `ce-endpoint` (`default` or `canary`), when given.
    pub endpoint: Option<String>,
    /// The body's content type.
    pub content_type: String,
    /// The request or response body, as it was.
    pub body: Vec<u8>,
}

impl Event {
    /// A binary-mode event: the `ce-*` headers (names in lower case; values percent-encoded, as
    /// the HTTP binding says) and the body.
    pub fn binary(headers: &[(String, String)], body: Vec<u8>) -> Result<Self> {
        let get = |name: &str| {
            let (_, v) = headers.iter().find(|(k, _)| k == name)?;
            Some(percent_encoding::percent_decode_str(v).decode_utf8_lossy().into_owned())
        };
        let content_type = get("content-type").unwrap_or_else(|| "application/json".into());
        Self::build(&get, content_type, body)
    }

    /// A structured-mode event: one JSON object with the attributes and `data` (JSON) or
    /// `data_base64`.
    pub fn structured(body: &[u8]) -> Result<Self> {
        let event: Value = serde_json::from_slice(body)
            .map_err(|e| Error::Invalid(format!("a structured CloudEvent is one JSON object: {e}")))?;
        let get = |name: &str| match event.get(name) {
            Some(Value::String(s)) => Some(s.clone()),
            Some(v @ (Value::Number(_) | Value::Bool(_))) => Some(v.to_string()),
            _ => None,
        };
        let data = match (event.get("data"), event.get("data_base64")) {
            (_, Some(Value::String(b64))) => {
                decode_base64(b64).ok_or_else(|| Error::Invalid("the CloudEvent's data_base64 is not base64".into()))?
            }
            (Some(Value::String(text)), None) => text.clone().into_bytes(),
            (Some(v), None) => v.to_string().into_bytes(),
            (None, None) => return Err(Error::Invalid("the CloudEvent has no data".into())),
            (_, Some(_)) => return Err(Error::Invalid("the CloudEvent's data_base64 is not a string".into())),
        };
        let content_type = get("datacontenttype").unwrap_or_else(|| "application/json".into());
        Self::build(&|n: &str| get(n.strip_prefix("ce-").unwrap_or(n)), content_type, data)
    }

    fn build(get: &dyn Fn(&str) -> Option<String>, content_type: String, body: Vec<u8>) -> Result<Self> {
        let id =
            get("ce-id").filter(|i| !i.is_empty()).ok_or_else(|| Error::Invalid("the event has no ce-id".into()))?;
        let kind = get("ce-type").ok_or_else(|| Error::Invalid(format!("event {id} has no ce-type")))?;
        let request = match kind.as_str() {
            REQUEST_TYPE => true,
            RESPONSE_TYPE => false,
            other => {
                return Err(Error::Invalid(format!(
                    "event {id} has ce-type '{other}'; Mirador collects {REQUEST_TYPE} and {RESPONSE_TYPE}"
                )));
            }
        };
        if let Some(v) = get("ce-specversion").filter(|v| v != "1.0") {
            return Err(Error::Invalid(format!("event {id} is CloudEvents {v}; Mirador reads 1.0")));
        }
        Ok(Self {
            id,
            request,
            time: get("ce-time"),
            service: get("ce-inferenceservicename"),
            endpoint: get("ce-endpoint"),
            content_type,
            body,
        })
    }

    /// The event as a JSON object, to be kept aside.
    fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "type": if self.request { REQUEST_TYPE } else { RESPONSE_TYPE },
            "time": self.time,
            "inferenceservicename": self.service,
            "endpoint": self.endpoint,
            "datacontenttype": self.content_type,
            "data": String::from_utf8_lossy(&self.body),
        })
    }
}

/// A request event with its response.
#[derive(Debug, Clone, PartialEq)]
pub struct Pair {
    /// The request.
    pub request: Event,
    /// Its response.
    pub response: Event,
}

/// What the collector has seen.
#[derive(Debug, Default)]
pub struct CollectCounts {
    /// Events received.
    pub received: AtomicU64,
    /// Events that could not be read (no id, unknown type, bad JSON).
    pub malformed: AtomicU64,
    /// Pairs written to the log.
    pub logged: AtomicU64,
    /// Pairs that could not be decoded with the model's contract.
    pub undecodable: AtomicU64,
    /// Events whose partner never came.
    pub unpaired: AtomicU64,
}

/// Events waiting for their partner, and the place for those set aside.
pub struct Collector {
    waiting: HashMap<String, (Instant, Event)>,
    order: VecDeque<String>,
    limit: usize,
    ttl: Duration,
    aside: PathBuf,
    /// The counts (shared with `/metrics`).
    pub counts: Arc<CollectCounts>,
}

impl Collector {
    /// A collector keeping aside into `<log_dir>/_set_aside/`; at most `limit` events wait, each
    /// at most `ttl`.
    pub fn new(log_dir: &Path, limit: usize, ttl: Duration) -> Self {
        Self {
            waiting: HashMap::new(),
            order: VecDeque::new(),
            limit: limit.max(1),
            ttl,
            aside: log_dir.join("_set_aside"),
            counts: Arc::default(),
        }
    }

    /// Take an event; returns the pair it completes, if it does.
    pub fn add(&mut self, event: Event) -> Option<Pair> {
        self.counts.received.fetch_add(1, Ordering::Relaxed);
        self.expire();
        if let Some((_, other)) = self.waiting.remove(&event.id) {
            if other.request != event.request {
                let (request, response) = if event.request { (event, other) } else { (other, event) };
                return Some(Pair { request, response });
            }
            // The same half twice: the older one is kept aside, the newer one waits.
            self.counts.unpaired.fetch_add(1, Ordering::Relaxed);
            self.keep_aside("a second event of the same kind with this ce-id", Some(&other), None);
        }
        self.order.push_back(event.id.clone());
        self.waiting.insert(event.id.clone(), (Instant::now(), event));
        while self.waiting.len() > self.limit {
            self.drop_oldest("its partner had not come when the collector was full");
        }
        None
    }

    /// Events waiting now.
    pub fn waiting(&self) -> usize {
        self.waiting.len()
    }

    /// Set aside the events that waited longer than the ttl.
    pub fn expire(&mut self) {
        while let Some(id) = self.order.front() {
            match self.waiting.get(id) {
                Some((at, _)) if at.elapsed() <= self.ttl => break,
                Some(_) => self.drop_oldest("its partner did not come in time"),
                None => {
                    self.order.pop_front();
                }
            }
        }
    }

    fn drop_oldest(&mut self, why: &str) {
        while let Some(id) = self.order.pop_front() {
            if let Some((_, event)) = self.waiting.remove(&id) {
                self.counts.unpaired.fetch_add(1, Ordering::Relaxed);
                self.keep_aside(why, Some(&event), None);
                return;
            }
        }
    }

    /// Append an event (or raw bytes that were not one) to the set-aside file, with why.
    pub fn keep_aside(&self, why: &str, event: Option<&Event>, raw: Option<&[u8]>) {
        let mut line =
            json!({"at": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true), "why": why});
        if let Some(e) = event {
            line["event"] = e.to_json();
        }
        if let Some(raw) = raw {
            line["raw"] = json!(String::from_utf8_lossy(raw));
        }
        let path = self.aside.join("events.jsonl");
        let written = std::fs::create_dir_all(&self.aside)
            .and_then(|()| std::fs::OpenOptions::new().create(true).append(true).open(&path))
            .and_then(|mut f| writeln!(f, "{line}"));
        if let Err(e) = written {
            eprintln!("mirador: cannot keep an event aside in {}: {e}", path.display());
        }
    }
}

impl Drop for Collector {
    fn drop(&mut self) {
        // Events still waiting when the collector stops are kept aside too.
        while !self.waiting.is_empty() {
            self.drop_oldest("the collector stopped before its partner came");
        }
    }
}

/// Standard base64 (padded or not); none when it is not.
fn decode_base64(text: &str) -> Option<Vec<u8>> {
    use base64::Engine;
    let engine = base64::engine::GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        base64::engine::GeneralPurposeConfig::new()
            .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
    );
    engine.decode(text.trim()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(id: &str, kind: &str) -> Vec<(String, String)> {
        vec![("ce-id".into(), id.into()), ("ce-type".into(), kind.into()), ("ce-specversion".into(), "1.0".into())]
    }

    #[test]
    fn events_pair_by_id_in_either_order_and_the_rest_is_kept_aside() {
        let dir = tempfile::tempdir().unwrap();
        let mut c = Collector::new(dir.path(), 2, Duration::from_secs(60));
        let req = Event::binary(&headers("a", REQUEST_TYPE), b"{}".to_vec()).unwrap();
        let resp = Event::binary(&headers("a", RESPONSE_TYPE), b"{}".to_vec()).unwrap();
        assert!(c.add(resp.clone()).is_none());
        let pair = c.add(req.clone()).unwrap();
        assert!(pair.request.request && !pair.response.request);
        for id in ["x", "y", "z"] {
            assert!(c.add(Event::binary(&headers(id, REQUEST_TYPE), vec![]).unwrap()).is_none());
        }
        assert_eq!((c.waiting(), c.counts.unpaired.load(Ordering::Relaxed)), (2, 1), "the oldest was pushed out");
        let kept = std::fs::read_to_string(dir.path().join("_set_aside/events.jsonl")).unwrap();
        assert!(kept.contains("\"id\":\"x\""), "{kept}");
        assert!(Event::binary(&headers("", REQUEST_TYPE), vec![]).is_err());
        assert!(Event::binary(&headers("b", "io.seldon.serving.feedback"), vec![]).is_err());
        let structured = br#"{"specversion":"1.0","id":"s","type":"org.kubeflow.serving.inference.response","source":"x","data_base64":"eyJhIjoxfQ=="}"#;
        let e = Event::structured(structured).unwrap();
        assert_eq!((e.id.as_str(), e.request, e.body.as_slice()), ("s", false, &br#"{"a":1}"#[..]));
        drop(c);
        let kept = std::fs::read_to_string(dir.path().join("_set_aside/events.jsonl")).unwrap();
        assert_eq!(kept.lines().count(), 3, "the two still waiting are kept aside on stop: {kept}");
    }
}
