//! Replay: a rollout played offline on recorded traffic (a prediction log folder or any file with
//! a timestamp column), window by window, the way it would have happened live — before anything
//! ships.
//!
//! Both models score every row. Each window (one interval of the time column) sends rows to the
//! arms as the live server would at that step (sticky keys hashed the same way; rows without a
//! key split by request id, or by row); the gate measures the window exactly as live
//! ([`super::analysis`]); the canary advances, promotes or aborts. The report has the timeline,
//! the verdict with the exposure before an abort, the time a real rollout would take, and the two
//! models' agreement on all rows (κ, churn, the flip table with example rows).
//!
//! Offline there is no serving latency and no failed request: rules on `error_rate` and
//! `latency_*` are listed as not measured, never counted as passed.

use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;

use polars::prelude::*;
use serde::Serialize;

use super::analysis::{Analysis, Gate, Measurement, Outcome};
use super::strategy::{Strategy, to_challenger};
use super::window::{IntervalStats, Outcomes};
use crate::core::cancel::CancelToken;
use crate::core::error::{Error, Location, Result};
use crate::core::model::Model;
use crate::core::model::info::Task;
use crate::core::monitor::chunks::precise_epoch_seconds;
use crate::core::score::{ScoreOptions, score_in_memory};

/// What to replay.
#[derive(Debug, Clone, PartialEq)]
pub struct ReplayRequest {
    /// The recorded traffic (a file, or a prediction log's folder).
    pub data: PathBuf,
    /// Its timestamp column (RFC 3339 / ISO 8601, or seconds since the epoch).
    pub time_column: String,
    /// The strategy (canary or shadow).
    pub strategy: Strategy,
    /// The gate.
    pub gate: Gate,
    /// The true label's column, when known.
    pub target: Option<String>,
    /// The sticky key's column (e.g. `customer_id`).
    pub sticky_key: Option<String>,
    /// The route's name, salting the sticky hash (the live server uses the served name).
    pub route: String,
}

/// One window of the replay.
#[derive(Debug, Clone, Serialize)]
pub struct WindowReport {
    /// When it starts and ends (as in the data).
    pub start: String,
    /// Its last row's time.
    pub end: String,
    /// Rows in it.
    pub rows: u64,
    /// The challenger's answering share (0 for shadow).
    pub weight: f64,
    /// Rows the challenger scored (answered, or mirrored for shadow).
    pub challenger_rows: u64,
    /// The gate's measurement of it.
    pub measurement: Measurement,
    /// Each metric on the rows each arm served in the window, with the change and its interval.
    pub changes: Vec<ArmDelta>,
}

/// How the rollout ends.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum Verdict {
    /// Every step passed.
    WouldPromote {
        /// The window's end at which it would promote.
        at: String,
    },
    /// The gate failed beyond the failure limit.
    WouldAbort {
        /// When.
        at: String,
        /// The failing measurement.
        reason: String,
    },
    /// A shadow test's gate held (promotion is a person's call).
    WouldPass {
        /// When it first held.
        at: String,
    },
    /// The data ran out first.
    Undecided {
        /// Why (the step reached; inconclusive windows).
        reason: String,
    },
}

/// What the challenger served before the verdict.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Exposure {
    /// Rows it answered (canary) or scored (shadow).
    pub rows: u64,
    /// Distinct sticky keys among them (when a key column is given).
    pub distinct_keys: Option<u64>,
}

/// Rows whose decision differs, by class pair.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct FlipCell {
    /// The champion's class.
    pub champion: String,
    /// The challenger's class.
    pub challenger: String,
    /// Rows.
    pub rows: u64,
}

/// One flipped row, to look at.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct FlipRow {
    /// 1-based data row.
    pub row: u64,
    /// Its key (sticky key or request id), when there is one.
    pub key: Option<String>,
    /// The champion's class and score.
    pub champion: String,
    /// The challenger's class and score.
    pub challenger: String,
}

/// The two models on every row.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct AgreementReport {
    /// Rows.
    pub rows: u64,
    /// Share decided alike.
    pub agreement: Option<f64>,
    /// Share decided differently (prediction churn).
    pub churn: Option<f64>,
    /// Cohen's κ.
    pub kappa: Option<f64>,
    /// Rows that changed decision, by class pair.
    pub flips: Vec<FlipCell>,
    /// The first flipped rows.
    pub examples: Vec<FlipRow>,
}

/// A metric on each arm's rows, with the change and its 95 % interval.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ArmDelta {
    /// The metric.
    pub metric: String,
    /// On the rows the champion served.
    pub champion: Option<f64>,
    /// On the rows the challenger served (or scored, for shadow).
    pub challenger: Option<f64>,
    /// Challenger − champion.
    pub change: Option<f64>,
    /// 95 % interval of the change (normal approximation).
    pub interval: Option<(f64, f64)>,
}

/// The replay's result.
#[derive(Debug, Clone, Serialize)]
pub struct ReplayReport {
    /// The champion and challenger, as named.
    pub champion: String,
    /// The challenger.
    pub challenger: String,
    /// The strategy as written.
    pub strategy: String,
    /// The gate's rules, failure limit and minimum rows.
    pub gate: Gate,
    /// Rows replayed.
    pub rows: u64,
    /// The windows, up to the verdict.
    pub windows: Vec<WindowReport>,
    /// How it ends.
    pub verdict: Verdict,
    /// What the challenger served before it.
    pub exposure: Exposure,
    /// Shortest time a live rollout with these settings takes to promote (interval × steps), seconds.
    pub time_to_promote_secs: Option<f64>,
    /// …and to roll back after the first failure (interval × (failure limit + 1)), seconds.
    pub time_to_rollback_secs: Option<f64>,
    /// Both models on every row.
    pub agreement: AgreementReport,
    /// Metrics per arm over the replayed rows.
    pub arms: Vec<ArmDelta>,
    /// Rules that cannot be measured offline.
    pub not_measured: Vec<String>,
    /// What to keep in mind reading it.
    pub caveats: Vec<String>,
}

impl ReplayReport {
    /// Whether the rollout would abort (the command line's exit code 3).
    pub fn would_abort(&self) -> bool {
        matches!(self.verdict, Verdict::WouldAbort { .. })
    }
}

/// Rows with their time, key, truth and both models' outcomes.
struct Rows {
    times: Vec<f64>,
    stamps: Vec<String>,
    keys: Vec<Option<String>>,
    truth: Option<Vec<Option<usize>>>,
    champion: Outcomes,
    challenger: Outcomes,
}

/// Replay `request` through `champion` and `challenger`.
pub fn replay(
    champion: &Model,
    challenger: &Model,
    request: &ReplayRequest,
    cancel: &CancelToken,
) -> Result<ReplayReport> {
    if !matches!(request.strategy, Strategy::Canary { .. } | Strategy::Shadow { .. }) {
        return Err(Error::Invalid(format!(
            "replay plays canary and shadow rollouts; {} switches all traffic at once (compare the versions instead)",
            request.strategy.kind()
        )));
    }
    check_same_task(champion, challenger)?;
    let rows = load(champion, challenger, request, cancel)?;
    let (measurable, not_measured): (Vec<_>, Vec<_>) = request
        .gate
        .rules
        .iter()
        .cloned()
        .partition(|r| !(r.metric == "error_rate" || r.metric.starts_with("latency_")));
    let gate = Gate { rules: measurable, ..request.gate.clone() };
    let mut analysis = Analysis::new(request.strategy.clone(), gate);
    let interval = request.strategy.interval_secs().unwrap_or(60.0);
    let shadow_share = match request.strategy {
        Strategy::Shadow { share, .. } => Some(share),
        _ => None,
    };
    let sticky = request.sticky_key.is_some();
    let order = {
        let mut o: Vec<usize> = (0..rows.times.len()).collect();
        o.sort_by(|&a, &b| rows.times[a].total_cmp(&rows.times[b]).then(a.cmp(&b)));
        o
    };
    let start = order.first().map_or(0.0, |&i| rows.times[i]);
    let mut windows = Vec::new();
    let mut exposure_rows = 0u64;
    let mut exposure_keys: HashSet<String> = HashSet::new();
    let mut passed_at = None;
    let (mut served_by_champion, mut served_by_challenger) = (Vec::new(), Vec::new());
    let mut cursor = 0;
    while cursor < order.len() && analysis.outcome == Outcome::Running {
        cancel.check()?;
        let index = ((rows.times[order[cursor]] - start) / interval).floor();
        let end_time = start + (index + 1.0) * interval;
        let first = cursor;
        while cursor < order.len() && rows.times[order[cursor]] < end_time {
            cursor += 1;
        }
        let members = &order[first..cursor];
        let weight = analysis.weight();
        let mut stats = IntervalStats::default();
        let mut challenger_rows = 0;
        let (mut window_champion, mut window_challenger) = (Vec::new(), Vec::new());
        for &i in members {
            let key = rows.keys[i].clone().unwrap_or_else(|| format!("row-{i}"));
            let (answers, mirrored) = match shadow_share {
                Some(share) => (false, to_challenger(&request.route, &key, share)),
                None => (to_challenger(&request.route, &key, weight), false),
            };
            let champion_rows = !answers;
            if champion_rows {
                window_champion.push(i);
                add_row(&mut stats.champion, &rows.champion, i, rows.truth.as_ref());
            }
            if answers || mirrored {
                window_challenger.push(i);
                challenger_rows += 1;
                add_row(&mut stats.challenger, &rows.challenger, i, rows.truth.as_ref());
                stats.pairs.add_outcomes(&one_row(&rows.champion, i), &one_row(&rows.challenger, i));
                if sticky && let Some(k) = &rows.keys[i] {
                    exposure_keys.insert(k.clone());
                }
            }
        }
        exposure_rows += challenger_rows;
        let last = members.last().map_or(String::new(), |&i| rows.stamps[i].clone());
        let measurement = analysis.measure(&stats, &last).clone();
        if passed_at.is_none() && shadow_share.is_some() && measurement.phase == super::analysis::Phase::Successful {
            passed_at = Some(last.clone());
        }
        window_champion.sort_unstable();
        window_challenger.sort_unstable();
        windows.push(WindowReport {
            start: members.first().map_or(String::new(), |&i| rows.stamps[i].clone()),
            end: last,
            rows: members.len() as u64,
            weight,
            challenger_rows,
            measurement,
            changes: arm_deltas(&rows, &window_champion, &window_challenger),
        });
        served_by_champion.extend(window_champion);
        served_by_challenger.extend(window_challenger);
        if passed_at.is_some() {
            break;
        }
    }
    let verdict = match (&analysis.outcome, passed_at) {
        (Outcome::Promoted { at }, _) => Verdict::WouldPromote { at: at.clone() },
        (Outcome::Aborted { at, reason }, _) => Verdict::WouldAbort { at: at.clone(), reason: reason.clone() },
        (Outcome::Running, Some(at)) => Verdict::WouldPass { at },
        (Outcome::Running, None) => Verdict::Undecided {
            reason: format!(
                "the data ended at step {} of {} ({} of {} windows inconclusive)",
                analysis.step + 1,
                analysis.strategy.steps(),
                windows.iter().filter(|w| w.measurement.phase == super::analysis::Phase::Inconclusive).count(),
                windows.len()
            ),
        },
    };
    let mut caveats = vec![
        "offline latency is not serving latency: latency and error-rate rules are measured only live".to_string(),
        "a window with fewer rows than the gate's minimum is inconclusive, never a pass".to_string(),
    ];
    if rows.truth.is_some() {
        caveats.push(
            "the labels recorded were caused by the champion's decisions (a feedback loop): the challenger's accuracy on them can be biased"
                .to_string(),
        );
    }
    Ok(ReplayReport {
        champion: champion.info().name.clone(),
        challenger: challenger.info().name.clone(),
        strategy: request.strategy.describe(),
        gate: request.gate.clone(),
        rows: rows.times.len() as u64,
        windows,
        verdict,
        exposure: Exposure { rows: exposure_rows, distinct_keys: sticky.then_some(exposure_keys.len() as u64) },
        time_to_promote_secs: analysis.time_to_promote_secs(),
        time_to_rollback_secs: analysis.time_to_rollback_secs(),
        agreement: agreement(&rows, champion.info()),
        arms: {
            served_by_champion.sort_unstable();
            served_by_challenger.sort_unstable();
            arm_deltas(&rows, &served_by_champion, &served_by_challenger)
        },
        not_measured: not_measured.iter().map(|r| r.text.clone()).collect(),
        caveats,
    })
}

fn check_same_task(champion: &Model, challenger: &Model) -> Result<()> {
    match (&champion.info().task, &challenger.info().task) {
        (Task::Classification { classes: a, .. }, Task::Classification { classes: b, .. }) if a == b => Ok(()),
        (Task::Regression { .. }, Task::Regression { .. }) => Ok(()),
        (a, b) => Err(Error::Invalid(format!(
            "{} and {} do not answer alike ({} vs {}): a rollout replaces a model by one with the same task and classes",
            champion.info().name,
            challenger.info().name,
            describe_task(a),
            describe_task(b)
        ))),
    }
}

fn describe_task(task: &Task) -> String {
    match task {
        Task::Classification { classes, .. } => format!("classes {}", classes.join(", ")),
        Task::Regression { .. } => "a regressor".into(),
    }
}

/// Row `i` of `outcomes` alone.
fn one_row(outcomes: &Outcomes, i: usize) -> Outcomes {
    Outcomes {
        scores: outcomes.scores.get(i).copied().into_iter().collect(),
        decisions: outcomes.decisions.as_ref().map(|d| d.get(i).copied().into_iter().collect()),
        positive: outcomes.positive,
        classes: outcomes.classes,
    }
}

fn add_row(arm: &mut super::window::ArmStats, outcomes: &Outcomes, i: usize, truth: Option<&Vec<Option<usize>>>) {
    arm.request(true, 0.0);
    arm.rows(&one_row(outcomes, i));
    if let (Some(Some(t)), Some(d)) = (truth.map(|t| t.get(i).copied().flatten()), &outcomes.decisions)
        && let Some(&d) = d.get(i)
    {
        arm.labels(&[t], &[d]);
    }
}

/// Read the data and score it with both models.
fn load(champion: &Model, challenger: &Model, request: &ReplayRequest, cancel: &CancelToken) -> Result<Rows> {
    let reader = crate::core::table::TableReader::open(&request.data, 1)?;
    let present: Vec<String> = reader.columns().to_vec();
    let missing = |c: &str| {
        let hint = crate::core::text::did_you_mean(c, present.iter().map(String::as_str));
        Error::data(format!("the data has no column '{c}'{hint}"), Location::file(Some(&request.data)).column(c))
    };
    let mut ids = vec![request.time_column.clone()];
    for c in [&request.sticky_key, &request.target].into_iter().flatten() {
        ids.push(c.clone());
    }
    let request_column = present.iter().any(|c| c == "request_id").then(|| "request_id".to_string());
    ids.extend(request_column.clone());
    for c in &ids {
        if !present.contains(c) {
            return Err(missing(c));
        }
    }
    ids.dedup();
    let options = ScoreOptions { id_columns: ids, ..ScoreOptions::default() };
    let (a, _) = score_in_memory(champion, &request.data, &options, cancel, &mut |_| {})?;
    let (b, _) = score_in_memory(challenger, &request.data, &options, cancel, &mut |_| {})?;
    let text = |name: &str| -> Result<Vec<Option<String>>> {
        let column = a.ids.column(name).map_err(|_| missing(name))?;
        let strings = column.cast(&DataType::String).map_err(|e| Error::internal(e.to_string()))?;
        let strings = strings.str().map_err(|e| Error::internal(e.to_string()))?;
        Ok(strings.iter().map(|v| v.map(str::to_string)).collect())
    };
    let stamps = text(&request.time_column)?;
    let mut times = Vec::with_capacity(stamps.len());
    for (i, s) in stamps.iter().enumerate() {
        let t = s.as_deref().and_then(precise_epoch_seconds).ok_or_else(|| {
            Error::data(
                format!(
                    "'{}' is not a timestamp (RFC 3339, YYYY-MM-DDTHH:MM:SS, or seconds since 1970)",
                    s.as_deref().unwrap_or("")
                ),
                Location::file(Some(&request.data)).row(i as u64 + 1).column(request.time_column.clone()),
            )
        })?;
        times.push(t);
    }
    let keys = match (&request.sticky_key, &request_column) {
        (Some(k), _) => text(k)?,
        (None, Some(r)) => text(r)?,
        (None, None) => vec![None; times.len()],
    };
    let truth = match (&request.target, &champion.info().task) {
        (Some(t), Task::Classification { classes, .. }) => {
            Some(text(t)?.into_iter().map(|v| v.and_then(|v| class_index(classes, &v))).collect())
        }
        _ => None,
    };
    Ok(Rows {
        stamps: stamps.into_iter().map(Option::unwrap_or_default).collect(),
        times,
        keys,
        truth,
        champion: Outcomes::of(&a.predictions, &champion.info().task),
        challenger: Outcomes::of(&b.predictions, &challenger.info().task),
    })
}

/// A label's class index: the class written the same way, or the same number (`1` and `1.0`).
fn class_index(classes: &[String], value: &str) -> Option<usize> {
    classes.iter().position(|c| c == value).or_else(|| {
        let v: f64 = value.trim().parse().ok()?;
        classes.iter().position(|c| c.parse::<f64>().ok() == Some(v))
    })
}

fn agreement(rows: &Rows, info: &crate::core::model::ModelInfo) -> AgreementReport {
    let (Some(a), Some(b)) = (&rows.champion.decisions, &rows.challenger.decisions) else {
        return AgreementReport {
            rows: rows.times.len() as u64,
            agreement: None,
            churn: None,
            kappa: None,
            flips: Vec::new(),
            examples: Vec::new(),
        };
    };
    let classes = match &info.task {
        Task::Classification { classes, .. } => classes.clone(),
        Task::Regression { .. } => Vec::new(),
    };
    let mut pairs = super::window::PairStats::default();
    pairs.add(a, b, classes.len());
    let stats = IntervalStats { pairs, ..IntervalStats::default() };
    let mut cells: BTreeMap<(usize, usize), u64> = BTreeMap::new();
    let mut examples = Vec::new();
    for (i, (&x, &y)) in a.iter().zip(b).enumerate() {
        if x != y {
            *cells.entry((x, y)).or_default() += 1;
            if examples.len() < 20 {
                let name = |c: usize| classes.get(c).cloned().unwrap_or_default();
                examples.push(FlipRow {
                    row: i as u64 + 1,
                    key: rows.keys[i].clone(),
                    champion: format!("{} ({:.3})", name(x), rows.champion.scores[i]),
                    challenger: format!("{} ({:.3})", name(y), rows.challenger.scores[i]),
                });
            }
        }
    }
    let name = |c: usize| classes.get(c).cloned().unwrap_or_default();
    let flips =
        cells.into_iter().map(|((x, y), n)| FlipCell { champion: name(x), challenger: name(y), rows: n }).collect();
    let (agreement, churn, kappa) = (stats.values("agreement").0, stats.values("churn").0, stats.values("kappa").0);
    AgreementReport { rows: a.len() as u64, agreement, churn, kappa, flips, examples }
}

/// Metrics on the rows each arm served (`ia`, `ib`: row indices), with the change and its interval.
fn arm_deltas(rows: &Rows, ia: &[usize], ib: &[usize]) -> Vec<ArmDelta> {
    let mut out = Vec::new();
    let mean_var = |o: &Outcomes, idx: &[usize]| -> Option<(f64, f64, f64)> {
        let v: Vec<f64> = idx.iter().map(|&i| o.scores[i]).filter(|v| v.is_finite()).collect();
        let n = v.len() as f64;
        (n >= 2.0).then(|| {
            let m = v.iter().sum::<f64>() / n;
            (m, v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0), n)
        })
    };
    out.push(delta("mean_score", mean_var(&rows.champion, ia), mean_var(&rows.challenger, ib)));
    if let (Some(pa), Some(pb)) = (rows.champion.positive, rows.challenger.positive) {
        let rate = |o: &Outcomes, idx: &[usize], positive: usize| -> Option<(f64, f64, f64)> {
            let d = o.decisions.as_ref()?;
            let n = idx.len() as f64;
            (n > 0.0).then(|| {
                let p = idx.iter().filter(|&&i| d[i] == positive).count() as f64 / n;
                (p, p * (1.0 - p), n)
            })
        };
        out.push(delta("positive_rate", rate(&rows.champion, ia, pa), rate(&rows.challenger, ib, pb)));
    }
    if let Some(truth) = &rows.truth {
        let accuracy = |o: &Outcomes, idx: &[usize]| -> Option<(f64, f64, f64)> {
            let d = o.decisions.as_ref()?;
            let labelled: Vec<usize> = idx.iter().copied().filter(|&i| truth[i].is_some()).collect();
            let n = labelled.len() as f64;
            (n > 0.0).then(|| {
                let p = labelled.iter().filter(|&&i| truth[i] == Some(d[i])).count() as f64 / n;
                (p, p * (1.0 - p), n)
            })
        };
        out.push(delta("accuracy", accuracy(&rows.champion, ia), accuracy(&rows.challenger, ib)));
    }
    out
}

/// The change between two (value, variance, n) with a normal 95 % interval.
fn delta(metric: &str, a: Option<(f64, f64, f64)>, b: Option<(f64, f64, f64)>) -> ArmDelta {
    let change = a.zip(b).map(|(a, b)| b.0 - a.0);
    let interval = a.zip(b).map(|(a, b)| {
        let se = (a.1 / a.2 + b.1 / b.2).sqrt();
        (b.0 - a.0 - 1.959_964 * se, b.0 - a.0 + 1.959_964 * se)
    });
    ArmDelta { metric: metric.into(), champion: a.map(|a| a.0), challenger: b.map(|b| b.0), change, interval }
}
