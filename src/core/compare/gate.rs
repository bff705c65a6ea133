//! The promotion gate: rules a challenger must pass against the champion before it ships.
//!
//! Rule syntax (one rule per string; several with `;`):
//! - `METRIC >= champion - 0.005`, `METRIC <= champion + 0.01` — against the champion's value;
//! - `METRIC >= 0.7`, `METRIC <= 0.3` — absolute;
//! - `METRIC drop <= 2%` — the relative fall from the champion's value is at most 2 %;
//! - `METRIC rise <= 10%` — the relative rise (losses, latency) is at most 10 %.
//!
//! METRIC is any metric of the evaluation (`roc_auc`, `recall`, `log_loss`, `rmse`, ...) or a
//! latency (`latency_p50_ms`, `latency_p95_ms`, `latency_p99_ms`).

use serde::Serialize;

use crate::core::error::{Error, Result};

/// A parsed rule.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GateRule {
    /// The rule as written.
    pub text: String,
    /// The metric it is about.
    pub metric: String,
    check: Check,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
enum Check {
    AtLeast(Bound),
    AtMost(Bound),
    MaxDrop(f64),
    MaxRise(f64),
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
enum Bound {
    Absolute(f64),
    Champion(f64),
}

/// What a rule compares (for a shell to word a verdict in its own language).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleCheck {
    /// The value must be at least the limit.
    AtLeast,
    /// The value must be at most the limit.
    AtMost,
    /// The relative fall from the champion must be at most the limit.
    MaxDrop,
    /// The relative rise from the champion must be at most the limit.
    MaxRise,
}

/// One rule's outcome.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RuleResult {
    /// The rule.
    pub rule: String,
    /// Whether it holds.
    pub passed: bool,
    /// The numbers behind the verdict, in words (English).
    pub reason: String,
    /// The metric.
    pub metric: String,
    /// What was compared.
    pub check: RuleCheck,
    /// The challenger's value (`None`: undefined).
    pub value: Option<f64>,
    /// The champion's value, when the rule uses it.
    pub champion: Option<f64>,
    /// The limit the value (or, for drop / rise, the relative change) was held to.
    pub limit: Option<f64>,
    /// For drop / rise rules: the relative change measured.
    pub change: Option<f64>,
}

impl GateRule {
    /// Parse one rule.
    pub fn parse(text: &str) -> Result<Self> {
        let bad = || {
            Error::Invalid(format!(
                "cannot read gate rule '{text}': write e.g. 'roc_auc >= champion - 0.005', 'recall drop <= 2%' or 'accuracy >= 0.7'"
            ))
        };
        let words: Vec<&str> = text.split_whitespace().collect();
        let number = |s: &str| s.trim_end_matches('%').parse::<f64>().map_err(|_| bad());
        let check = match words.as_slice() {
            [_, kind @ ("drop" | "rise"), "<=", pct] if pct.ends_with('%') => {
                let limit = number(pct)? / 100.0;
                if *kind == "drop" { Check::MaxDrop(limit) } else { Check::MaxRise(limit) }
            }
            [_, op @ (">=" | "<="), rest @ ..] => {
                let bound = match rest {
                    ["champion"] => Bound::Champion(0.0),
                    ["champion", "+", x] => Bound::Champion(number(x)?),
                    ["champion", "-", x] => Bound::Champion(-number(x)?),
                    [x] => Bound::Absolute(number(x)?),
                    _ => return Err(bad()),
                };
                if *op == ">=" { Check::AtLeast(bound) } else { Check::AtMost(bound) }
            }
            _ => return Err(bad()),
        };
        Ok(Self { text: text.trim().to_string(), metric: words[0].to_string(), check })
    }

    /// Parse rules separated by `;`.
    pub fn parse_all(text: &str) -> Result<Vec<Self>> {
        text.split(';').map(str::trim).filter(|r| !r.is_empty()).map(Self::parse).collect()
    }

    /// Evaluate against the challenger's and the champion's values.
    pub fn evaluate(&self, challenger: Option<f64>, champion: Option<f64>) -> RuleResult {
        let m = &self.metric;
        let check = match self.check {
            Check::AtLeast(_) => RuleCheck::AtLeast,
            Check::AtMost(_) => RuleCheck::AtMost,
            Check::MaxDrop(_) => RuleCheck::MaxDrop,
            Check::MaxRise(_) => RuleCheck::MaxRise,
        };
        let template = RuleResult {
            rule: self.text.clone(),
            passed: false,
            reason: String::new(),
            metric: m.clone(),
            check,
            value: challenger,
            champion,
            limit: None,
            change: None,
        };
        let result = |passed: bool, reason: String| RuleResult { passed, reason, ..template.clone() };
        let Some(value) = challenger else {
            return result(false, format!("{m} is undefined for the challenger"));
        };
        let needs_champion =
            !matches!(self.check, Check::AtLeast(Bound::Absolute(_)) | Check::AtMost(Bound::Absolute(_)));
        let base = champion.unwrap_or(f64::NAN);
        if needs_champion && !base.is_finite() {
            return result(false, format!("{m} is undefined for the champion"));
        }
        let limit = |b: Bound| match b {
            Bound::Absolute(x) => x,
            Bound::Champion(d) => base + d,
        };
        let with = |r: RuleResult, limit: f64, change: Option<f64>| RuleResult { limit: Some(limit), change, ..r };
        match self.check {
            Check::AtLeast(b) => {
                let l = limit(b);
                let r = result(value >= l, format!("{m} {value:.4} {} {l:.4}", if value >= l { "≥" } else { "<" }));
                with(r, l, None)
            }
            Check::AtMost(b) => {
                let l = limit(b);
                let r = result(value <= l, format!("{m} {value:.4} {} {l:.4}", if value <= l { "≤" } else { ">" }));
                with(r, l, None)
            }
            Check::MaxDrop(max) => {
                let drop = (base - value) / base.abs();
                let ok = drop <= max + 1e-12;
                let r = result(
                    ok,
                    format!("{m} fell {:.2}% ({base:.4} → {value:.4}), limit {:.2}%", drop * 100.0, max * 100.0),
                );
                with(r, max, Some(drop))
            }
            Check::MaxRise(max) => {
                let rise = (value - base) / base.abs();
                let ok = rise <= max + 1e-12;
                let r = result(
                    ok,
                    format!("{m} rose {:.2}% ({base:.4} → {value:.4}), limit {:.2}%", rise * 100.0, max * 100.0),
                );
                with(r, max, Some(rise))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_parse_and_judge() {
        let r = GateRule::parse("roc_auc >= champion - 0.005").unwrap();
        assert!(r.evaluate(Some(0.726), Some(0.730)).passed);
        assert!(!r.evaluate(Some(0.724), Some(0.730)).passed);
        let r = GateRule::parse("recall drop <= 2%").unwrap();
        assert!(r.evaluate(Some(0.99), Some(1.0)).passed);
        assert!(!r.evaluate(Some(0.97), Some(1.0)).passed);
        let r = GateRule::parse("accuracy >= 0.7").unwrap();
        assert!(!r.evaluate(Some(0.69), None).passed);
        assert!(GateRule::parse("auc > 1").is_err());
        assert_eq!(GateRule::parse_all("a >= 1; b rise <= 5%").unwrap().len(), 2);
        assert!(!GateRule::parse("log_loss rise <= 1%").unwrap().evaluate(None, Some(0.5)).passed);
    }
}
