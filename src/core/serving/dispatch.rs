//! One request through its route: which rows each arm scores, what the client gets back, what is
//! logged and what the gate counts.
//!
//! - The rows are checked and typed once, against the champion's contract (a challenger reads the
//!   same columns; [`super::route::same_answers`]).
//! - **Canary**: each row with a key goes to the challenger when its sticky bucket is below the
//!   weight; rows without one are drawn per request. The challenger answers its rows; the champion
//!   answers the others and also scores the challenger's rows (off the path when it answers none),
//!   so the gate compares both arms' decisions on the same rows.
//! - **Shadow**: the champion answers; a share of requests is copied to the challenger with
//!   `try_send` — a full queue drops the copy (counted), its failure or slowness never reaches the
//!   response.
//! - **Blue/green** is a canary whose weight is 0 or 1. **Pinned**: a request naming a version
//!   (`/v2/models/churn/versions/2/infer`) goes to that version alone.
//!
//! Every logged row carries its arm; a mirrored request's two answers share its request id.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use polars::prelude::{BooleanChunked, DataFrame, NewChunkedArray};

use super::batcher::{Scored, copy_error};
use super::predlog::LogEntry;
use super::route::{Arm, Route};
use super::{Answer, Endpoint, Service, rows};
use crate::core::error::{Error, Result};
use crate::core::rollout::strategy::to_challenger;
use crate::core::rollout::window::Outcomes;
use crate::core::session::BatchPredictions;

/// A request's routing inputs besides its rows.
#[derive(Debug, Clone, Default)]
pub struct Routing {
    /// The version asked for in the path, if any.
    pub version: Option<String>,
    /// Each row's sticky key (a column, or the request's `key` parameter repeated).
    pub keys: Option<Vec<Option<String>>>,
    /// Answer the rows that fit the contract and list the others, instead of refusing the request.
    pub quarantine: bool,
    /// The request carried the client's own id, so a late label can name it (with `keys`, what
    /// makes an answer worth remembering for feedback).
    pub client_id: bool,
}

/// Rows left out of a request, each with the rule that caught it.
type Quarantined = Vec<(usize, String)>;

/// Draws for requests without a key.
static DRAWS: AtomicU64 = AtomicU64::new(0);

type ReplyFn = Box<dyn FnOnce(Result<Answer>) + Send>;

/// Everything a request's callbacks share.
struct Ctx {
    route: Arc<Route>,
    log: Option<Arc<super::predlog::PredictionLog>>,
    stats: Arc<super::stats::ServeStats>,
    request_id: String,
    time: String,
    arrived: Instant,
    /// Each row's sticky key, for the log (empty: none had one, or there is no log).
    keys: Vec<Option<String>>,
}

impl Ctx {
    fn latency_ms(&self) -> f64 {
        self.arrived.elapsed().as_secs_f64() * 1e3
    }

    /// Count `scored` as one request `endpoint` answered (or failed), with its latency so far.
    fn answered(&self, endpoint: &Endpoint, scored: &Result<Scored>) {
        let rows = scored.as_ref().map_or(0, |s| s.predictions.rows as u64);
        endpoint.answered.add(scored.is_ok(), self.latency_ms(), rows);
    }

    /// Log `inputs` (the request's rows at `positions`; empty: all of them, in order).
    fn log(
        &self,
        arm: Arm,
        endpoint: &Endpoint,
        inputs: DataFrame,
        predictions: BatchPredictions,
        keys: Vec<Option<String>>,
        positions: Vec<u32>,
    ) {
        if let Some(log) = &self.log {
            log.record(LogEntry {
                model: self.route.name.clone(),
                version: endpoint.served.version.clone(),
                arm: arm.as_str(),
                keys,
                request_id: self.request_id.clone(),
                positions,
                time: self.time.clone(),
                latency_ms: self.latency_ms(),
                inputs,
                predictions,
                output_columns: Arc::clone(&endpoint.output_columns),
                rejected: None,
            });
        }
    }
}

impl Service {
    /// For a quarantining request whose rows do not all fit the contract: the rows that do (and
    /// their keys, in `routing`), and the others with the rule that caught each — logged as
    /// refused. `None` when every row fits (or the request does not quarantine).
    fn quarantine(
        &self,
        route: &Route,
        arms: &super::route::Arms,
        routing: &mut Routing,
        frame: &DataFrame,
        request_id: &str,
    ) -> Result<Option<(DataFrame, Quarantined)>> {
        if !routing.quarantine {
            return Ok(None);
        }
        let endpoint = match (&routing.version, &arms.challenger) {
            (Some(v), Some(c)) if *v == c.served.version => c,
            _ => &arms.champion,
        };
        let (info, binding) = (endpoint.served.model.info(), &endpoint.served.binding);
        // An error that is not a row's (a missing column) fails the request as it would have.
        let bad = rows::failing_rows(info, binding, frame)?;
        if bad.is_empty() {
            return Ok(None);
        }
        if bad.len() == frame.height() {
            return Err(Error::Invalid(format!(
                "every row of the request fails the model's contract; the first: {}",
                bad[0].1
            )));
        }
        route.contract_failures.fetch_add(bad.len() as u64, Ordering::Relaxed);
        if let Some(log) = &self.log {
            let time = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
            for (i, rule) in &bad {
                let entry = refused(endpoint, &route.name, request_id, &time, frame.slice(*i as i64, 1), rule.clone());
                log.record(LogEntry { positions: vec![*i as u32], ..entry });
            }
        }
        let keep: Vec<bool> = (0..frame.height()).map(|i| bad.binary_search_by_key(&i, |b| b.0).is_err()).collect();
        let mask = BooleanChunked::from_iter_values("keep".into(), keep.iter().copied());
        let good = frame.filter(&mask).map_err(|e| Error::internal(format!("cannot set bad rows aside: {e}")))?;
        if let Some(keys) = routing.keys.take() {
            routing.keys = Some(keys.into_iter().zip(&keep).filter(|(_, k)| **k).map(|(key, _)| key).collect());
        }
        Ok(Some((good, bad)))
    }

    /// Route `frame` (one request's rows) on the route `name` and call `reply` with what the
    /// client gets, from the worker that finished last. Refused at once: an unknown name or
    /// version (`NotFound`), too many rows (`TooLarge`), a value that does not fit (`Input`, naming
    /// row and column), a full queue (`Unavailable`).
    pub fn infer(
        &self,
        name: &str,
        routing: Routing,
        frame: &DataFrame,
        request_id: String,
        reply: impl FnOnce(Result<Answer>) + Send + 'static,
    ) -> Result<()> {
        let arrived = Instant::now();
        let limit = self.config.limits.max_rows;
        if frame.height() > limit {
            return Err(Error::TooLarge(format!(
                "the request has {} rows; this server takes at most {limit} per request (max_rows)",
                frame.height()
            )));
        }
        if frame.height() == 0 {
            return Err(Error::Invalid("the request has no rows".into()));
        }
        let route = self.route(name)?;
        let arms = route.arms();
        let mut routing = routing;
        let (kept, quarantined) = match self.quarantine(&route, &arms, &mut routing, frame, &request_id)? {
            Some((rows, bad)) => (Some(rows), bad),
            None => (None, Vec::new()),
        };
        let frame = kept.as_ref().unwrap_or(frame);
        let n = frame.height();
        // The keys go to the log only: no copy when there is none.
        let keys = if self.log.is_some() { routing.keys.clone().unwrap_or_default() } else { Vec::new() };
        let ctx = Arc::new(Ctx {
            route: Arc::clone(&route),
            log: self.log.clone(),
            stats: Arc::clone(&self.stats),
            request_id,
            time: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            arrived,
            keys,
        });
        let deadline = Duration::from_secs_f64(self.config.limits.request_timeout_secs);
        // Only an answer a late label can find is remembered: one with the client's id or a key.
        let findable = routing.client_id || routing.keys.is_some();
        let reply: ReplyFn = if self.quality.remembers() && findable {
            remembered(Arc::clone(&self.quality), &ctx, &arms.champion, routing.keys.clone(), reply)
        } else {
            Box::new(reply)
        };
        let reply: ReplyFn = if quarantined.is_empty() {
            reply
        } else {
            Box::new(move |r: Result<Answer>| reply(r.map(|a| Answer { quarantined, ..a })))
        };
        if let Some(v) = &routing.version {
            let (endpoint, arm) = match &arms.challenger {
                _ if *v == arms.champion.served.version => (Arc::clone(&arms.champion), Arm::Champion),
                Some(c) if *v == c.served.version => (Arc::clone(c), Arm::Canary),
                _ => {
                    let mut have = vec![arms.champion.served.version.clone()];
                    have.extend(arms.challenger.as_ref().map(|c| c.served.version.clone()));
                    return Err(Error::NotFound(format!(
                        "model '{name}' has no version '{v}' here; it serves version {}",
                        have.join(" and ")
                    )));
                }
            };
            let rows = checked(&ctx, &endpoint, frame)?;
            if let Some(live) = &endpoint.live {
                live.offer(&rows);
            }
            return single(ctx, endpoint, arm, rows, deadline, reply, false);
        }
        let champion = &arms.champion;
        let rows = checked(&ctx, champion, frame)?;
        if let Some(live) = &champion.live {
            live.offer(&rows);
        }
        let Some(challenger) = arms.challenger.clone() else {
            return single(ctx, Arc::clone(champion), Arm::Champion, rows, deadline, reply, false);
        };
        let unkeyed_bucket_key = format!("{}#{}", ctx.request_id, DRAWS.fetch_add(1, Ordering::Relaxed));
        let key_of = |i: usize| -> &str {
            routing.keys.as_ref().and_then(|k| k.get(i)).and_then(Option::as_deref).unwrap_or(&unkeyed_bucket_key)
        };
        let weight = route.weight();
        let to_canary: Vec<bool> =
            (0..n).map(|i| weight > 0.0 && (weight >= 1.0 || to_challenger(&route.name, key_of(i), weight))).collect();
        let canary_rows = to_canary.iter().filter(|&&c| c).count();
        let mirror = route.mirror();
        if canary_rows == 0 {
            let copy = mirror > 0.0 && (mirror >= 1.0 || to_challenger(&route.name, key_of(0), mirror));
            if !copy {
                return single(ctx, Arc::clone(champion), Arm::Champion, rows, deadline, reply, true);
            }
            return shadowed(ctx, Arc::clone(champion), challenger, rows, deadline, reply);
        }
        split(ctx, Arc::clone(champion), challenger, rows, &to_canary, deadline, reply)
    }
}

/// The request's rows checked against `endpoint`'s contract and typed. Rows that fail it are
/// counted and logged, as sent, with the reason (data-quality monitoring), and the error returned.
fn checked(ctx: &Ctx, endpoint: &Endpoint, frame: &DataFrame) -> Result<DataFrame> {
    rows::prepare(endpoint.served.model.info(), &endpoint.served.binding, frame).inspect_err(|e| {
        if e.kind() != crate::core::error::ErrorKind::Input {
            return;
        }
        ctx.route.contract_failures.fetch_add(frame.height() as u64, Ordering::Relaxed);
        if let Some(log) = &ctx.log {
            let entry = refused(endpoint, &ctx.route.name, &ctx.request_id, &ctx.time, frame.clone(), e.to_string());
            log.record(LogEntry { latency_ms: ctx.latency_ms(), ..entry });
        }
    })
}

/// A log entry for rows `endpoint` refused (they failed its contract), with the reason.
fn refused(
    endpoint: &Endpoint,
    model: &str,
    request_id: &str,
    time: &str,
    inputs: DataFrame,
    reason: String,
) -> LogEntry {
    LogEntry {
        model: model.to_string(),
        version: endpoint.served.version.clone(),
        arm: Arm::Champion.as_str(),
        keys: Vec::new(),
        request_id: request_id.to_string(),
        positions: Vec::new(),
        time: time.to_string(),
        latency_ms: 0.0,
        inputs,
        predictions: BatchPredictions {
            rows: 0,
            labels: None,
            probabilities: None,
            values: None,
            single_precision: false,
        },
        output_columns: Arc::clone(&endpoint.output_columns),
        rejected: Some(reason),
    }
}

/// `reply`, after handing what the client got to the feedback monitor (late labels join it).
fn remembered(
    quality: Arc<super::quality::LiveQuality>,
    ctx: &Ctx,
    champion: &Endpoint,
    keys: Option<Vec<Option<String>>>,
    reply: impl FnOnce(Result<Answer>) + Send + 'static,
) -> ReplyFn {
    let (model, request_id, answers) = (ctx.route.name.clone(), ctx.request_id.clone(), Arc::clone(&champion.answers));
    Box::new(move |result: Result<Answer>| {
        if let Ok(a) = &result {
            quality.offer(super::quality::Answered {
                model,
                request_id,
                version: a.version.clone(),
                row_versions: a.row_versions.clone(),
                keys,
                predictions: a.predictions.clone(),
                answers,
            });
        }
        reply(result);
    })
}

/// One version answers every row.
fn single(
    ctx: Arc<Ctx>,
    endpoint: Arc<Endpoint>,
    arm: Arm,
    rows: DataFrame,
    deadline: Duration,
    reply: ReplyFn,
    measure: bool,
) -> Result<()> {
    let logged = ctx.log.as_ref().map(|_| rows.clone());
    let e = Arc::clone(&endpoint);
    endpoint.batcher.submit(rows, deadline, move |scored: Result<Scored>| {
        ctx.answered(&e, &scored);
        if measure {
            let outcomes = scored.as_ref().ok().map(|s| Outcomes::of(&s.predictions, &e.served.model.info().task));
            ctx.route.record(arm, scored.is_ok(), ctx.latency_ms(), outcomes.as_ref());
        } else {
            ctx.route.count(arm, scored.is_ok(), ctx.latency_ms());
        }
        let answer = scored.map(|s| answer(&ctx, &s, e.served.version.clone(), None));
        if let (Ok(a), Some(inputs)) = (&answer, logged) {
            ctx.log(arm, &e, inputs, a.predictions.clone(), ctx.keys.clone(), Vec::new());
        }
        reply(answer);
    })
}

/// The champion answers; the challenger scores a copy off the path.
fn shadowed(
    ctx: Arc<Ctx>,
    champion: Arc<Endpoint>,
    challenger: Arc<Endpoint>,
    rows: DataFrame,
    deadline: Duration,
    reply: ReplyFn,
) -> Result<()> {
    let pair: Arc<Mutex<Pair>> = Arc::default();
    let (copy, logged) = (rows.clone(), ctx.log.as_ref().map(|_| rows.clone()));
    let (c1, p1, e1) = (Arc::clone(&ctx), Arc::clone(&pair), Arc::clone(&champion));
    champion.batcher.submit(rows, deadline, move |scored: Result<Scored>| {
        c1.answered(&e1, &scored);
        let outcomes = scored.as_ref().ok().map(|s| Outcomes::of(&s.predictions, &e1.served.model.info().task));
        c1.route.record(Arm::Champion, scored.is_ok(), c1.latency_ms(), outcomes.as_ref());
        if let Some(o) = outcomes {
            pair_champion(&c1.route, &p1, o);
        }
        let answer = scored.map(|s| answer(&c1, &s, e1.served.version.clone(), None));
        if let (Ok(a), Some(inputs)) = (&answer, logged) {
            c1.log(Arm::Champion, &e1, inputs, a.predictions.clone(), c1.keys.clone(), Vec::new());
        }
        reply(answer);
    })?;
    let logged = ctx.log.as_ref().map(|_| copy.clone());
    let e2 = Arc::clone(&challenger);
    let c2 = Arc::clone(&ctx);
    let sent = challenger.batcher.submit(copy, deadline, move |scored: Result<Scored>| {
        let outcomes = scored.as_ref().ok().map(|s| Outcomes::of(&s.predictions, &e2.served.model.info().task));
        c2.route.record(Arm::Shadow, scored.is_ok(), c2.latency_ms(), outcomes.as_ref());
        match scored {
            Ok(s) => {
                c2.route.shadow.scored.fetch_add(1, Ordering::Relaxed);
                if let Some(inputs) = logged {
                    c2.log(Arm::Shadow, &e2, inputs, s.predictions.clone(), c2.keys.clone(), Vec::new());
                }
                if let Some(o) = outcomes {
                    pair_challenger(&c2.route, &pair, o);
                }
            }
            Err(_) => {
                c2.route.shadow.failed.fetch_add(1, Ordering::Relaxed);
            }
        }
    });
    if sent.is_err() {
        ctx.route.shadow.dropped.fetch_add(1, Ordering::Relaxed);
    }
    Ok(())
}

/// Both arms' decisions on the same rows, whichever arrives first waiting for the other.
#[derive(Default)]
struct Pair {
    champion: Option<Outcomes>,
    challenger: Option<Outcomes>,
}

fn pair_champion(route: &Route, pair: &Mutex<Pair>, o: Outcomes) {
    let mut p = pair.lock().unwrap_or_else(PoisonError::into_inner);
    match p.challenger.take() {
        Some(c) => route.record_pairs(&o, &c),
        None => p.champion = Some(o),
    }
}

fn pair_challenger(route: &Route, pair: &Mutex<Pair>, o: Outcomes) {
    let mut p = pair.lock().unwrap_or_else(PoisonError::into_inner);
    match p.champion.take() {
        Some(c) => route.record_pairs(&c, &o),
        None => p.challenger = Some(o),
    }
}

/// A canary request: the challenger answers its rows, the champion the rest (and scores the
/// challenger's rows too, for the agreement).
struct Join {
    champion: Option<Result<BatchPredictions>>,
    challenger: Option<Result<BatchPredictions>>,
    reply: Option<ReplyFn>,
    versions: (String, String),
}

fn split(
    ctx: Arc<Ctx>,
    champion: Arc<Endpoint>,
    challenger: Arc<Endpoint>,
    rows: DataFrame,
    to_canary: &[bool],
    deadline: Duration,
    reply: ReplyFn,
) -> Result<()> {
    let mask: Arc<Vec<bool>> = Arc::new(to_canary.to_vec());
    let canary_idx: Vec<usize> = (0..mask.len()).filter(|&i| mask[i]).collect();
    let champion_needed = canary_idx.len() < mask.len();
    let filter = |keep: bool| -> Result<DataFrame> {
        let m = BooleanChunked::from_iter_values("m".into(), mask.iter().map(|&c| c == keep));
        rows.filter(&m).map_err(|e| Error::internal(format!("cannot split the request's rows: {e}")))
    };
    let canary_frame = filter(true)?;
    let join = Arc::new(Mutex::new(Join {
        champion: None,
        challenger: None,
        reply: Some(reply),
        versions: (champion.served.version.clone(), challenger.served.version.clone()),
    }));
    // The challenger first: if its queue is full, nothing has been sent yet.
    let (c2, j2, e2, m2) = (Arc::clone(&ctx), Arc::clone(&join), Arc::clone(&challenger), Arc::clone(&mask));
    let logged = ctx.log.as_ref().map(|_| canary_frame.clone());
    let canary_keys: Vec<Option<String>> = canary_idx.iter().map(|&i| ctx.keys.get(i).cloned().flatten()).collect();
    let canary_positions: Vec<u32> = canary_idx.iter().map(|&i| i as u32).collect();
    challenger.batcher.submit(canary_frame, deadline, move |scored: Result<Scored>| {
        c2.answered(&e2, &scored);
        let outcomes = scored.as_ref().ok().map(|s| Outcomes::of(&s.predictions, &e2.served.model.info().task));
        c2.route.record(Arm::Canary, scored.is_ok(), c2.latency_ms(), outcomes.as_ref());
        if let (Ok(s), Some(inputs)) = (&scored, logged) {
            c2.log(Arm::Canary, &e2, inputs, s.predictions.clone(), canary_keys, canary_positions);
        }
        finish(&c2, &j2, &m2, champion_needed, None, Some(scored.map(|s| s.predictions)));
    })?;
    let (c1, j1, e1, m1) = (Arc::clone(&ctx), Arc::clone(&join), Arc::clone(&champion), Arc::clone(&mask));
    let champion_rows = if ctx.log.is_some() && champion_needed { Some(filter(false)?) } else { None };
    let sent = champion.batcher.submit(rows, deadline, move |scored: Result<Scored>| {
        c1.answered(&e1, &scored);
        if champion_needed {
            let outcomes = scored.as_ref().ok().map(|s| {
                let idx: Vec<usize> = (0..m1.len()).filter(|&i| !m1[i]).collect();
                Outcomes::of(&pick(&s.predictions, &idx), &e1.served.model.info().task)
            });
            c1.route.record(Arm::Champion, scored.is_ok(), c1.latency_ms(), outcomes.as_ref());
        }
        if let (Ok(s), Some(inputs)) = (&scored, champion_rows) {
            let idx: Vec<usize> = (0..m1.len()).filter(|&i| !m1[i]).collect();
            let keys = idx.iter().map(|&i| c1.keys.get(i).cloned().flatten()).collect();
            let positions = idx.iter().map(|&i| i as u32).collect();
            c1.log(Arm::Champion, &e1, inputs, pick(&s.predictions, &idx), keys, positions);
        }
        finish(&c1, &j1, &m1, champion_needed, Some(scored.map(|s| s.predictions)), None);
    });
    match sent {
        Ok(()) => Ok(()),
        // Off the path (every row is the challenger's): no agreement for this request, nothing else.
        Err(_) if !champion_needed => Ok(()),
        Err(e) => {
            let reply = join.lock().unwrap_or_else(PoisonError::into_inner).reply.take();
            if let Some(reply) = reply {
                reply(Err(e));
            }
            Ok(())
        }
    }
}

/// Store one arm's part; answer when every part the client needs is in; count the agreement when
/// both are.
fn finish(
    ctx: &Ctx,
    join: &Mutex<Join>,
    mask: &[bool],
    champion_needed: bool,
    champion: Option<Result<BatchPredictions>>,
    challenger: Option<Result<BatchPredictions>>,
) {
    let mut j = join.lock().unwrap_or_else(PoisonError::into_inner);
    if champion.is_some() {
        j.champion = champion;
    }
    if challenger.is_some() {
        j.challenger = challenger;
    }
    if let (Some(Ok(a)), Some(Ok(b))) = (&j.champion, &j.challenger) {
        let canary_idx: Vec<usize> = (0..mask.len()).filter(|&i| mask[i]).collect();
        let arms = ctx.route.arms();
        let task = &arms.champion.served.model.info().task;
        ctx.route.record_pairs(&Outcomes::of(&pick(a, &canary_idx), task), &Outcomes::of(b, task));
    }
    let ready = j.challenger.is_some() && (!champion_needed || j.champion.is_some());
    if !ready || j.reply.is_none() {
        return;
    }
    let reply = j.reply.take();
    let versions = j.versions.clone();
    let result = match (&j.champion, &j.challenger) {
        (_, Some(Err(e))) => Err(copy_error(e)),
        (Some(Err(e)), _) if champion_needed => Err(copy_error(e)),
        (Some(Ok(a)), Some(Ok(b))) if champion_needed => Ok(interleave(a, b, mask)),
        (_, Some(Ok(b))) if !champion_needed => Ok(b.clone()),
        _ => Err(Error::internal("a canary request lost its answer")),
    };
    drop(j);
    let answer = result.map(|predictions| {
        let version = if champion_needed { format!("{},{}", versions.0, versions.1) } else { versions.1.clone() };
        let row_versions = champion_needed
            .then(|| mask.iter().map(|&c| if c { versions.1.clone() } else { versions.0.clone() }).collect());
        Answer {
            predictions,
            queue_secs: 0.0,
            infer_secs: 0.0,
            batch_rows: 0,
            first_in_batch: false,
            version,
            row_versions,
            quarantined: Vec::new(),
        }
    });
    if let Some(reply) = reply {
        reply(answer);
    }
}

fn answer(ctx: &Ctx, s: &Scored, version: String, row_versions: Option<Vec<String>>) -> Answer {
    if s.first_in_batch {
        ctx.stats.record_batch(s.batch_rows);
    }
    Answer {
        predictions: s.predictions.clone(),
        queue_secs: s.queue_secs,
        infer_secs: s.infer_secs,
        batch_rows: s.batch_rows,
        first_in_batch: s.first_in_batch,
        version,
        row_versions,
        quarantined: Vec::new(),
    }
}

/// Rows `idx` (ascending) of `p`, copied in runs.
pub fn pick(p: &BatchPredictions, idx: &[usize]) -> BatchPredictions {
    let mut out: Option<BatchPredictions> = None;
    let mut i = 0;
    while i < idx.len() {
        let start = idx[i];
        let mut end = start + 1;
        while i + 1 < idx.len() && idx[i + 1] == end {
            i += 1;
            end += 1;
        }
        let part = p.slice(start, end);
        match &mut out {
            Some(o) => o.append(part),
            None => out = Some(part),
        }
        i += 1;
    }
    out.unwrap_or_else(|| p.slice(0, 0))
}

/// The champion's rows where `mask` is false and the challenger's (in order) where it is true.
pub fn interleave(champion: &BatchPredictions, challenger: &BatchPredictions, mask: &[bool]) -> BatchPredictions {
    let mut out: Option<BatchPredictions> = None;
    let (mut i, mut j) = (0, 0);
    while i < mask.len() {
        let from_challenger = mask[i];
        let start = i;
        while i < mask.len() && mask[i] == from_challenger {
            i += 1;
        }
        let part = if from_challenger {
            let part = challenger.slice(j, j + (i - start));
            j += i - start;
            part
        } else {
            champion.slice(start, i)
        };
        match &mut out {
            Some(o) => o.append(part),
            None => out = Some(part),
        }
    }
    out.unwrap_or_else(|| champion.slice(0, 0))
}
