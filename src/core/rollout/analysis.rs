//! The rollout's gate, measured every interval with the semantics of Argo Rollouts' analysis:
//! each measurement is **Successful** (every rule holds), **Failed** (a rule does not) or
//! **Inconclusive** (too few rows to judge, or a metric with no value yet — accuracy before any
//! label — never counted as a pass); the rollout aborts when
//! failures exceed the failure limit (default 0: the first failure aborts). A successful measurement
//! moves a canary to its next step; after the last step the challenger is promoted. An inconclusive
//! one holds the current step.
//!
//! Rules are the promotion gate's grammar ([`GateRule`]) over the metrics of
//! [`super::window`]: `error_rate <= 0.01`, `latency_p99_ms <= champion + 5`,
//! `score_psi <= 0.2`, `positive_rate_diff <= 0.05`, `agreement >= 0.9`, `accuracy drop <= 2%`.

use serde::Serialize;

use super::strategy::Strategy;
use super::window::{ArmSummary, GATE_METRICS, IntervalStats, is_pairwise};
use crate::core::compare::gate::{GateRule, RuleResult};
use crate::core::error::{Error, Result};

/// The gate: rules, the failure limit and the rows a measurement needs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Gate {
    /// The rules, each judged on the challenger.
    pub rules: Vec<GateRule>,
    /// Failed measurements tolerated; one more aborts (Argo's `failureLimit`).
    pub failure_limit: u32,
    /// Rows the challenger (and, for pairwise rules, the pair) must have in an interval, else the
    /// measurement is inconclusive.
    pub min_rows: u64,
}

impl Default for Gate {
    fn default() -> Self {
        Self { rules: Vec::new(), failure_limit: 0, min_rows: 100 }
    }
}

impl Gate {
    /// Rules from text (`;`-separated), refusing metrics a rollout cannot measure.
    pub fn parse(rules: &str, failure_limit: u32, min_rows: u64) -> Result<Self> {
        let rules = GateRule::parse_all(rules)?;
        for r in &rules {
            if !GATE_METRICS.contains(&r.metric.as_str()) {
                let hint = crate::core::text::did_you_mean(&r.metric, GATE_METRICS.iter().copied());
                return Err(Error::Invalid(format!(
                    "a rollout gate cannot measure '{}'{hint}; it measures {}",
                    r.metric,
                    GATE_METRICS.join(", ")
                )));
            }
        }
        if min_rows == 0 || min_rows > 100_000_000 {
            return Err(Error::Invalid(format!("the gate's minimum rows must be from 1 to 100000000; got {min_rows}")));
        }
        Ok(Self { rules, failure_limit, min_rows })
    }

    /// The rules as written, `;`-separated.
    pub fn text(&self) -> String {
        self.rules.iter().map(|r| r.text.as_str()).collect::<Vec<_>>().join("; ")
    }
}

/// A measurement's outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Every rule held.
    Successful,
    /// A rule did not hold.
    Failed,
    /// Too few rows to judge.
    Inconclusive,
}

/// One gate measurement.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Measurement {
    /// 1, 2, 3, …
    pub index: usize,
    /// When (the interval's end: a timestamp, or seconds since the start).
    pub at: String,
    /// The canary step it judged (0-based) and its weight.
    pub step: usize,
    /// The challenger's answering share during the interval.
    pub weight: f64,
    /// Its outcome.
    pub phase: Phase,
    /// Why, in words (the failing rules, or the missing rows).
    pub reason: String,
    /// Each rule's result.
    pub results: Vec<RuleResult>,
    /// Failed measurements so far, including this one.
    pub failures: u32,
    /// The champion's figures in the interval.
    pub champion: ArmSummary,
    /// The challenger's.
    pub challenger: ArmSummary,
    /// Rows both scored, and the share on which they agreed.
    pub paired_rows: u64,
    /// Agreement on those rows.
    pub agreement: Option<f64>,
}

/// Where a rollout stands.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Outcome {
    /// Still measuring.
    Running,
    /// Every step passed: the challenger takes over.
    Promoted {
        /// When.
        at: String,
    },
    /// Failures exceeded the limit: all traffic back to the champion.
    Aborted {
        /// When.
        at: String,
        /// The failing measurement, in words.
        reason: String,
    },
}

/// A rollout's analysis: the step it is at, its measurements and its outcome.
#[derive(Debug, Clone, Serialize)]
pub struct Analysis {
    /// The strategy.
    pub strategy: Strategy,
    /// The gate.
    pub gate: Gate,
    /// The current step (0-based).
    pub step: usize,
    /// Failed measurements so far.
    pub failures: u32,
    /// Every measurement, oldest first (the live server keeps the last 100).
    pub measurements: Vec<Measurement>,
    /// Where it stands.
    pub outcome: Outcome,
    /// Whether passing the last step promotes (a shadow test only reports by default).
    pub auto_promote: bool,
}

impl Analysis {
    /// A fresh analysis at step 0.
    pub fn new(strategy: Strategy, gate: Gate) -> Self {
        let auto_promote = matches!(strategy, Strategy::Canary { .. });
        Self { strategy, gate, step: 0, failures: 0, measurements: Vec::new(), outcome: Outcome::Running, auto_promote }
    }

    /// The challenger's answering share now (0 once aborted, 1 once promoted).
    pub fn weight(&self) -> f64 {
        match self.outcome {
            Outcome::Running => self.strategy.weight_at(self.step),
            Outcome::Promoted { .. } => 1.0,
            Outcome::Aborted { .. } => 0.0,
        }
    }

    /// Judge one interval, ending at `at`; returns the measurement (also kept).
    pub fn measure(&mut self, stats: &IntervalStats, at: &str) -> &Measurement {
        let results: Vec<RuleResult> = self
            .gate
            .rules
            .iter()
            .map(|r| {
                let (challenger, champion) = stats.values(&r.metric);
                r.evaluate(challenger, champion)
            })
            .collect();
        let short = self.short_of_rows(stats);
        // A metric with no value (no labels yet for accuracy, no request for latency) cannot be
        // judged: like a thin window, it makes the measurement inconclusive, never a failure.
        let undefined: Vec<&str> = results.iter().filter(|r| r.value.is_none()).map(|r| r.metric.as_str()).collect();
        let failed: Vec<&RuleResult> = results.iter().filter(|r| !r.passed && r.value.is_some()).collect();
        let (phase, reason) = if let Some(why) = short {
            (Phase::Inconclusive, why)
        } else if !failed.is_empty() {
            let why: Vec<String> = failed.iter().map(|r| format!("{} ({})", r.rule, r.reason)).collect();
            (Phase::Failed, why.join("; "))
        } else if !undefined.is_empty() {
            (Phase::Inconclusive, format!("no value yet for {}", undefined.join(", ")))
        } else {
            (Phase::Successful, "every rule held".to_string())
        };
        if phase == Phase::Failed {
            self.failures += 1;
        }
        let measurement = Measurement {
            index: self.measurements.len() + 1,
            at: at.to_string(),
            step: self.step,
            weight: self.weight(),
            phase,
            reason: reason.clone(),
            results,
            failures: self.failures,
            champion: stats.champion.summary(),
            challenger: stats.challenger.summary(),
            paired_rows: stats.pairs.rows,
            agreement: stats.values("agreement").0,
        };
        if self.outcome == Outcome::Running {
            match phase {
                Phase::Failed if self.failures > self.gate.failure_limit => {
                    self.outcome = Outcome::Aborted {
                        at: at.to_string(),
                        reason: format!(
                            "{} failed measurement(s) > failure limit {}: {reason}",
                            self.failures, self.gate.failure_limit
                        ),
                    };
                }
                Phase::Successful => {
                    if self.step + 1 >= self.strategy.steps() {
                        if self.auto_promote {
                            self.outcome = Outcome::Promoted { at: at.to_string() };
                        }
                    } else {
                        self.step += 1;
                    }
                }
                Phase::Failed | Phase::Inconclusive => {}
            }
        }
        self.measurements.push(measurement);
        if self.measurements.len() > 1000 {
            self.measurements.remove(0);
        }
        self.measurements.last().expect("just pushed")
    }

    /// Why an interval is too thin to judge, if it is.
    fn short_of_rows(&self, stats: &IntervalStats) -> Option<String> {
        let min = self.gate.min_rows;
        if stats.challenger.rows < min {
            return Some(format!("the challenger scored {} rows; a measurement needs {min}", stats.challenger.rows));
        }
        let pairwise = self.gate.rules.iter().any(|r| is_pairwise(&r.metric) && r.metric != "score_psi");
        if pairwise && stats.pairs.rows < min {
            return Some(format!("both arms scored {} rows alike; the agreement rules need {min}", stats.pairs.rows));
        }
        None
    }

    /// Shortest time to promotion with these settings (Flagger: interval × steps), seconds.
    pub fn time_to_promote_secs(&self) -> Option<f64> {
        self.strategy.interval_secs().map(|i| i * self.strategy.steps() as f64)
    }

    /// Shortest time to roll back after the first failure (Flagger: interval × threshold), seconds.
    pub fn time_to_rollback_secs(&self) -> Option<f64> {
        self.strategy.interval_secs().map(|i| i * f64::from(self.gate.failure_limit + 1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::rollout::window::Outcomes;

    fn interval(rows: usize, challenger_positive: bool) -> IntervalStats {
        let mut s = IntervalStats::default();
        let champ = Outcomes { scores: vec![0.2; rows], decisions: Some(vec![0; rows]), positive: Some(1), classes: 2 };
        let class = usize::from(challenger_positive);
        let chal =
            Outcomes { scores: vec![0.2; rows], decisions: Some(vec![class; rows]), positive: Some(1), classes: 2 };
        s.champion.rows(&champ);
        s.challenger.rows(&chal);
        s.pairs.add(&vec![0; rows], &vec![class; rows], 2);
        for _ in 0..rows {
            s.champion.request(true, 1.0);
            s.challenger.request(true, 1.0);
        }
        s
    }

    #[test]
    fn steps_advance_promote_and_abort_like_argo() {
        let strategy = Strategy::parse("canary:10,50@1m").unwrap();
        let gate = Gate::parse("agreement >= 0.9; error_rate <= 0.01", 1, 50).unwrap();
        let mut a = Analysis::new(strategy.clone(), gate.clone());
        assert_eq!(a.measure(&interval(10, false), "t1").phase, Phase::Inconclusive);
        assert_eq!(a.step, 0, "inconclusive holds the step");
        assert_eq!(a.measure(&interval(100, false), "t2").phase, Phase::Successful);
        assert_eq!((a.step, a.weight()), (1, 0.5));
        a.measure(&interval(100, false), "t3");
        assert_eq!(a.outcome, Outcome::Promoted { at: "t3".into() });
        assert_eq!(a.time_to_promote_secs(), Some(120.0));

        let mut b = Analysis::new(strategy, gate);
        assert_eq!(b.measure(&interval(100, true), "t1").phase, Phase::Failed);
        assert_eq!(b.outcome, Outcome::Running, "failure limit 1 tolerates one failure");
        b.measure(&interval(100, true), "t2");
        let Outcome::Aborted { reason, .. } = &b.outcome else { panic!("{:?}", b.outcome) };
        assert!(
            reason.contains("2 failed measurement(s) > failure limit 1") && reason.contains("agreement"),
            "{reason}"
        );
        assert_eq!(b.weight(), 0.0);
        assert!(Gate::parse("roc_auc >= 0.7", 0, 10).unwrap_err().to_string().contains("cannot measure"));
        // No labels: accuracy has no value, so the measurement is inconclusive, not a failure.
        let mut c =
            Analysis::new(Strategy::parse("canary:10@1m").unwrap(), Gate::parse("accuracy >= 0.8", 0, 50).unwrap());
        let m = c.measure(&interval(100, false), "t1");
        assert_eq!((m.phase, m.failures), (Phase::Inconclusive, 0), "{}", m.reason);
        assert!(m.reason.contains("no value yet for accuracy"), "{}", m.reason);
    }
}
