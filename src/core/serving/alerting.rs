//! Alerts on a served model's live figures: rules in `mirador drift --alert`'s grammar
//! (`share_drifted > 0.3`, `drift:monthly_charges > 0.2`, `accuracy < 0.8`, `rmse > 12`), judged at
//! every live measurement — drift by the drift monitor, realised metrics by the feedback
//! monitor ([`super::quality`]) — firing
//! only after the breach has lasted `for_secs` (Prometheus' `for:`), resolved when it stops. Each
//! change goes to the alert log (JSON lines), to `/metrics`, and — when a webhook is set — is
//! POSTed in Alertmanager's webhook format (plain HTTP, a short timeout, off the request path).

use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::json;

use crate::core::drift::DriftReport;
use crate::core::error::{Error, Result};
use crate::core::monitor::AlertRule;

/// Where alerts go and when they fire.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AlertSettings {
    /// The rules.
    pub rules: Vec<AlertRule>,
    /// Seconds a breach must last before the alert fires.
    pub for_secs: f64,
    /// An `http://host:port/path` receiving Alertmanager-style webhooks.
    pub webhook: Option<String>,
    /// A file the alert changes are appended to (JSON lines).
    pub log: Option<PathBuf>,
}

impl AlertSettings {
    /// Rules from text, refusing those the server cannot judge (bands, estimates, unknown names).
    pub fn parse(rules: &str, for_secs: f64, webhook: Option<String>, log: Option<PathBuf>) -> Result<Self> {
        let rules = AlertRule::parse_all(rules)?;
        for r in &rules {
            if r.is_band() || !(is_drift_rule(r) || is_quality_rule(r)) {
                return Err(Error::Invalid(format!(
                    "the server judges 'share_drifted', 'drift:<column>', 'missing:<column>' and realised-metric rules ({}) with > or <; '{}' needs a reference band or an estimate, which only `mirador drift --chunk` has",
                    QUALITY_METRICS.join(", "),
                    r.text
                )));
            }
        }
        if !(for_secs.is_finite() && (0.0..=86_400.0).contains(&for_secs)) {
            return Err(Error::Invalid(format!(
                "an alert's duration (--alert-for) must be from 0 to 86400 s; got {for_secs}"
            )));
        }
        if let Some(w) = &webhook
            && !w.starts_with("http://")
        {
            return Err(Error::Invalid(format!("the alert webhook '{w}' must be an http:// address")));
        }
        Ok(Self { rules, for_secs, webhook, log })
    }
}

/// The realised metrics the feedback monitor computes (and alert rules may watch).
pub const QUALITY_METRICS: [&str; 8] =
    ["accuracy", "precision", "recall", "f1", "roc_auc", "error_rate", "mae", "rmse"];

/// Whether `rule` watches the live drift's window (drift scores, the share drifted, a column's
/// share of missing values: `missing:<column>`).
pub fn is_drift_rule(rule: &AlertRule) -> bool {
    rule.key() == "share_drifted" || rule.key().starts_with("drift:") || rule.key().starts_with("missing:")
}

/// Whether `rule` watches a realised metric (from feedback).
pub fn is_quality_rule(rule: &AlertRule) -> bool {
    QUALITY_METRICS.contains(&rule.key())
}

/// The rules of `text` the server can judge live (the others — bands, estimates — need
/// `mirador drift --chunk`), `;`-separated; unreadable rules are left out too.
pub fn servable_rules(text: &str) -> String {
    let kept: Vec<String> = text
        .split(';')
        .filter_map(|r| AlertRule::parse(r.trim()).ok())
        .filter(|r| !r.is_band() && (is_drift_rule(r) || is_quality_rule(r)))
        .map(|r| r.text)
        .collect();
    kept.join("; ")
}

impl AlertSettings {
    /// The same settings with only the rules `keep` accepts.
    pub fn only(&self, keep: fn(&AlertRule) -> bool) -> Self {
        Self { rules: self.rules.iter().filter(|r| keep(r)).cloned().collect(), ..self.clone() }
    }
}

/// One rule's state.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct AlertState {
    /// The rule as written.
    pub rule: String,
    /// Whether it fires now.
    pub firing: bool,
    /// Since when it has been breached (RFC 3339), while it is.
    pub since: Option<String>,
    /// The last breach, in words.
    pub message: String,
    #[serde(skip)]
    breached_at: Option<Instant>,
}

/// A model's alerts.
#[derive(Debug, Clone)]
pub struct Alerts {
    model: String,
    /// The `alertname` label of what it sends (`MiradorLiveDrift`, `MiradorLiveQuality`).
    name: &'static str,
    settings: AlertSettings,
    /// Each rule's state, in rule order.
    pub states: Vec<AlertState>,
}

impl Alerts {
    /// The alerts of `model`, none firing; `name` is their `alertname`.
    pub fn new(model: &str, name: &'static str, settings: AlertSettings) -> Self {
        let states = settings
            .rules
            .iter()
            .map(|r| AlertState {
                rule: r.text.clone(),
                firing: false,
                since: None,
                message: String::new(),
                breached_at: None,
            })
            .collect();
        Self { model: model.to_string(), name, settings, states }
    }

    /// Whether a rule is breached but not firing yet (waiting out its duration).
    pub fn pending(&self) -> bool {
        self.states.iter().any(|s| s.breached_at.is_some() && !s.firing)
    }

    /// Judge a new drift measurement; returns the changes (fired, resolved) it caused, for
    /// [`deliver`](Self::deliver).
    pub fn judge(&mut self, report: &DriftReport) -> Vec<AlertState> {
        let column = |name: &str| report.columns.iter().find(|c| c.column == name);
        self.judge_with(|key| {
            if let Some(name) = key.strip_prefix("drift:") {
                column(name).map(|c| c.score)
            } else if let Some(name) = key.strip_prefix("missing:") {
                column(name).map(|c| c.current_missing)
            } else {
                Some(report.share_drifted)
            }
        })
    }

    /// Judge the figures `value` gives by rule key (none: no value yet, not breached).
    pub fn judge_with(&mut self, value: impl Fn(&str) -> Option<f64>) -> Vec<AlertState> {
        let now = Instant::now();
        let mut changes = Vec::new();
        for (rule, state) in self.settings.rules.iter().zip(&mut self.states) {
            match value(rule.key()).and_then(|v| rule.breach(v)) {
                Some(message) => {
                    let since = *state.breached_at.get_or_insert(now);
                    if state.since.is_none() {
                        state.since = Some(chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true));
                    }
                    state.message = message;
                    if !state.firing && now.duration_since(since) >= Duration::from_secs_f64(self.settings.for_secs) {
                        state.firing = true;
                        changes.push(state.clone());
                    }
                }
                None => {
                    let was = state.firing;
                    state.breached_at = None;
                    state.since = None;
                    if was {
                        state.firing = false;
                        changes.push(state.clone());
                    }
                }
            }
        }
        changes
    }

    /// Append a change to the alert log and POST it to the webhook (failures go to stderr: an
    /// alert that cannot be delivered must not stop the monitor).
    pub fn deliver(&self, change: &AlertState) {
        let status = if change.firing { "firing" } else { "resolved" };
        let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        if let Some(path) = &self.settings.log {
            let line = json!({"at": now, "model": self.model, "rule": change.rule, "status": status, "message": change.message});
            let written = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .and_then(|mut f| writeln!(f, "{line}"));
            if let Err(e) = written {
                eprintln!("mirador serve: cannot write the alert log {}: {e}", path.display());
            }
        }
        if let Some(url) = &self.settings.webhook {
            let alert = json!({
                "status": status,
                "labels": {"alertname": self.name, "model": self.model, "rule": change.rule, "severity": "warning"},
                "annotations": {"summary": change.message},
                "startsAt": change.since.clone().unwrap_or_else(|| now.clone()),
                "endsAt": if change.firing { "0001-01-01T00:00:00Z".to_string() } else { now.clone() },
                "generatorURL": "",
            });
            let body = json!({
                "version": "4",
                "groupKey": format!("{{}}:{{model=\"{}\"}}", self.model),
                "status": status,
                "receiver": "mirador",
                "groupLabels": {"model": self.model},
                "commonLabels": {"alertname": self.name, "model": self.model},
                "commonAnnotations": {},
                "externalURL": "",
                "alerts": [alert],
            });
            if let Err(e) = post(url, &body.to_string()) {
                eprintln!("mirador serve: the alert webhook {url} did not take the alert: {e}");
            }
        }
    }
}

/// POST `body` (JSON) to an `http://host:port/path`, waiting at most two seconds.
fn post(url: &str, body: &str) -> std::io::Result<()> {
    let headers = [("Content-Type", "application/json")];
    let (status, _) = crate::core::http::send(url, "POST", &headers, body, Duration::from_secs(2))?;
    if (200..300).contains(&status) { Ok(()) } else { Err(std::io::Error::other(format!("answered {status}"))) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(share: f64) -> DriftReport {
        DriftReport {
            columns: Vec::new(),
            share_drifted: share,
            dataset_drift: false,
            drift_share: 0.5,
            skipped: Default::default(),
        }
    }

    #[test]
    fn an_alert_fires_after_its_duration_and_resolves() {
        let settings = AlertSettings::parse("share_drifted > 0.3", 0.05, None, None).unwrap();
        let mut alerts = Alerts::new("churn", "MiradorLiveDrift", settings);
        assert!(alerts.judge(&report(0.5)).is_empty(), "breached, not yet for long enough");
        std::thread::sleep(Duration::from_millis(60));
        let fired = alerts.judge(&report(0.5));
        assert_eq!(fired.len(), 1);
        assert!(fired[0].firing && fired[0].message.contains("0.5000 is above 0.3"), "{fired:?}");
        assert!(alerts.judge(&report(0.6)).is_empty(), "still firing: no new change");
        let resolved = alerts.judge(&report(0.1));
        assert!(resolved.len() == 1 && !resolved[0].firing);
        assert!(AlertSettings::parse("roc_auc outside band", 0.0, None, None).is_err(), "needs a band");
        assert!(AlertSettings::parse("estimated_roc_auc < 0.7", 0.0, None, None).is_err(), "an estimate");
        let both = AlertSettings::parse("accuracy < 0.8; share_drifted > 0.3", 0.0, None, None).unwrap();
        assert_eq!(both.only(is_quality_rule).rules.len(), 1);
        assert_eq!(both.only(is_drift_rule).rules[0].text, "share_drifted > 0.3");
        assert!(AlertSettings::parse("share_drifted > 0.3", 0.0, Some("https://x".into()), None).is_err());
    }
}
