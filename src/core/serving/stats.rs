//! Live figures of a running server for the window: requests per second, latency percentiles,
//! errors by status, batch sizes, the last requests. Fixed memory whatever the traffic: counters,
//! and rings of the most recent values.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime};

/// Latencies and batch sizes kept for percentiles.
const KEEP: usize = 4096;
/// Requests kept for the list of the last ones.
const LAST: usize = 50;

/// One answered request.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestRecord {
    /// When it was answered.
    pub at: SystemTime,
    /// The model asked.
    pub model: String,
    /// The HTTP status.
    pub status: u16,
    /// Rows in it.
    pub rows: usize,
    /// Seconds from arrival to answer.
    pub latency_secs: f64,
}

#[derive(Default)]
struct Inner {
    requests: u64,
    rows: u64,
    by_status: BTreeMap<u16, u64>,
    latencies: VecDeque<f64>,
    batches: VecDeque<usize>,
    last: VecDeque<RequestRecord>,
    /// (when, requests so far) a few seconds apart, for the rate.
    marks: VecDeque<(Instant, u64)>,
}

/// The figures, shared between the server (which records) and the window (which reads).
#[derive(Default)]
pub struct ServeStats {
    inner: Mutex<Inner>,
}

/// What the window shows.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StatsSnapshot {
    /// Requests answered.
    pub requests: u64,
    /// Rows scored.
    pub rows: u64,
    /// Requests per second over the last few seconds.
    pub requests_per_sec: f64,
    /// Median latency of the recent requests, seconds.
    pub p50_secs: f64,
    /// 99th percentile latency of the recent requests, seconds.
    pub p99_secs: f64,
    /// Answers by HTTP status.
    pub by_status: BTreeMap<u16, u64>,
    /// Rows per batch of the recent batches: (size, how many).
    pub batch_sizes: BTreeMap<usize, u64>,
    /// The last requests, newest first.
    pub last: Vec<RequestRecord>,
}

impl ServeStats {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Record an answered request.
    pub fn record(&self, record: RequestRecord) {
        let mut s = self.lock();
        s.requests += 1;
        s.rows += record.rows as u64;
        *s.by_status.entry(record.status).or_default() += 1;
        if s.latencies.len() == KEEP {
            s.latencies.pop_front();
        }
        s.latencies.push_back(record.latency_secs);
        if s.last.len() == LAST {
            s.last.pop_front();
        }
        s.last.push_back(record);
    }

    /// Record a batch of `rows` rows.
    pub fn record_batch(&self, rows: usize) {
        let mut s = self.lock();
        if s.batches.len() == KEEP {
            s.batches.pop_front();
        }
        s.batches.push_back(rows);
    }

    /// The figures now.
    pub fn snapshot(&self) -> StatsSnapshot {
        let mut s = self.lock();
        let now = Instant::now();
        let requests = s.requests;
        if s.marks.back().is_none_or(|(at, _)| now.duration_since(*at) >= Duration::from_millis(250)) {
            s.marks.push_back((now, requests));
        }
        while s.marks.len() > 2
            && s.marks.front().is_some_and(|(at, _)| now.duration_since(*at) > Duration::from_secs(5))
        {
            s.marks.pop_front();
        }
        let requests_per_sec = match s.marks.front() {
            Some((at, n)) if now.duration_since(*at).as_secs_f64() > 0.2 => {
                (requests - n) as f64 / now.duration_since(*at).as_secs_f64()
            }
            _ => 0.0,
        };
        let mut latencies: Vec<f64> = s.latencies.iter().copied().collect();
        latencies.sort_by(f64::total_cmp);
        let pick = |q: f64| {
            latencies.get(((latencies.len().saturating_sub(1)) as f64 * q).round() as usize).copied().unwrap_or(0.0)
        };
        let mut batch_sizes = BTreeMap::new();
        for b in &s.batches {
            *batch_sizes.entry(*b).or_default() += 1;
        }
        StatsSnapshot {
            requests,
            rows: s.rows,
            requests_per_sec,
            p50_secs: pick(0.5),
            p99_secs: pick(0.99),
            by_status: s.by_status.clone(),
            batch_sizes,
            last: s.last.iter().rev().cloned().collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_follow_the_records_in_fixed_memory() {
        let stats = ServeStats::default();
        for i in 0..10_000 {
            let status = if i % 100 == 0 { 400 } else { 200 };
            let record = RequestRecord {
                at: SystemTime::now(),
                model: "m".into(),
                status,
                rows: 2,
                latency_secs: (i % 10) as f64,
            };
            stats.record(record);
            stats.record_batch(1 + i % 3);
        }
        let s = stats.snapshot();
        assert_eq!((s.requests, s.rows), (10_000, 20_000));
        assert_eq!(s.by_status[&400], 100);
        assert_eq!(s.last.len(), LAST);
        assert_eq!(s.batch_sizes.values().sum::<u64>(), KEEP as u64);
        assert!((s.p50_secs - 4.0).abs() <= 1.0 && s.p99_secs == 9.0);
    }
}
