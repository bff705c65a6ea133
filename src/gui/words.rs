//! Results in the window's language: gate verdicts, alerts, column kinds, drift tests and p-values
//! worded from the core's numbers (the core's own sentences are English, for logs and JSON).

use crate::core::compare::{RuleCheck, RuleResult};
use crate::core::drift::{ColumnKind, DriftTest};
use crate::core::monitor::{Alert, AlertSeverity, Breach};
use crate::gui::i18n::Strings;

/// A p-value with four decimals, or "< 0.0001" (never "0.0000").
pub fn p_value(p: f64) -> String {
    if p.is_finite() && p < 0.0001 { "< 0.0001".into() } else { format!("{p:.4}") }
}

/// A drift test's short name.
pub fn test_name(test: DriftTest) -> &'static str {
    match test {
        DriftTest::Ks => "K-S p-value",
        DriftTest::Chisquare => "χ² p-value",
        DriftTest::Z => "Z-test p-value",
        DriftTest::Wasserstein => "Wasserstein (normed)",
        DriftTest::Jensenshannon => "Jensen-Shannon",
        DriftTest::Psi => "PSI",
        DriftTest::Hellinger => "Hellinger",
    }
}

/// A column kind in the window's language.
pub fn kind(s: &Strings, kind: ColumnKind) -> &'static str {
    match kind {
        ColumnKind::Numeric => s.kind_numeric,
        ColumnKind::Categorical => s.kind_categorical,
    }
}

/// An alert's severity in the window's language.
pub fn severity(s: &Strings, severity: AlertSeverity) -> &'static str {
    match severity {
        AlertSeverity::Critical => s.severity_critical,
        AlertSeverity::Warning => s.severity_warning,
    }
}

/// Why a gate rule passed or failed, from its numbers.
pub fn rule_reason(s: &Strings, r: &RuleResult) -> String {
    let m = &r.metric;
    let Some(value) = r.value else { return format!("{m} {} {}", s.rule_undefined, s.the_challenger) };
    let needs_champion = matches!(r.check, RuleCheck::MaxDrop | RuleCheck::MaxRise) || r.limit.is_none();
    if needs_champion && r.champion.is_none_or(|c| !c.is_finite()) {
        return format!("{m} {} {}", s.rule_undefined, s.the_champion);
    }
    let base = r.champion.unwrap_or(f64::NAN);
    match (r.check, r.limit, r.change) {
        (RuleCheck::AtLeast, Some(l), _) => format!("{m} {value:.4} {} {l:.4}", if value >= l { "≥" } else { "<" }),
        (RuleCheck::AtMost, Some(l), _) => format!("{m} {value:.4} {} {l:.4}", if value <= l { "≤" } else { ">" }),
        (RuleCheck::MaxDrop | RuleCheck::MaxRise, Some(l), Some(change)) => {
            let verb = if r.check == RuleCheck::MaxDrop { s.rule_fell } else { s.rule_rose };
            format!("{m} {verb} {:.2} % ({base:.4} → {value:.4}), {} {:.2} %", change * 100.0, s.rule_limit, l * 100.0)
        }
        _ => r.reason.clone(),
    }
}

/// What an alert says, from its numbers.
pub fn alert_message(s: &Strings, a: &Alert) -> String {
    match a.breach {
        Breach::DatasetDrift { share, threshold } => {
            format!("{:.0} % {} {:.0} % ({})", share * 100.0, s.alert_dataset, threshold * 100.0, a.columns.join(", "))
        }
        Breach::Above { value, limit } => format!("{} = {value:.4} {} {limit}", a.key, s.alert_above),
        Breach::Below { value, limit } => format!("{} = {value:.4} {} {limit}", a.key, s.alert_below),
        Breach::OutsideBand { value, lower, upper } => {
            format!("{} = {value:.4} {} [{lower:.4}, {upper:.4}]", a.key, s.alert_band)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiny_p_values_are_not_zero() {
        assert_eq!(p_value(0.00001), "< 0.0001");
        assert_eq!(p_value(0.0123), "0.0123");
    }
}
