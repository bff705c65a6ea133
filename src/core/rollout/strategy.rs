//! How a route shares its traffic between a champion and a challenger, written the way the command
//! line takes it:
//!
//! | text | strategy |
//! |---|---|
//! | `basic` | one version; follows its registry stage |
//! | `blue-green` | both loaded and warm, one answering; switch and switch back at once |
//! | `canary:5,25,50,100@60s` | the challenger answers 5 %, then 25 %, … each step lasting an interval |
//! | `canary:10` | a fixed 10 % (one step, measured every 60 s) |
//! | `shadow` / `shadow:25` | the challenger gets a copy of all (25 %) of the traffic, never answering |
//!
//! A canary or shadow route on a registry stage with no challenger of its own rolls each new
//! version of the stage out this way ([`crate::core::serving::follow`]).
//!
//! Stickiness: a key (a customer id) is hashed into a bucket in [0, 1) —
//! `u64(sha256(route ‖ 0x00 ‖ key)[..8]) / 2⁶⁴` — and goes to the challenger when its bucket is
//! below the challenger's weight. The same key always lands in the same bucket, so a customer in at
//! 30 % stays in at 50 % (weights only grow).

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::core::error::{Error, Result};

/// The default interval between gate measurements, seconds.
pub const DEFAULT_INTERVAL_SECS: f64 = 60.0;

/// A rollout strategy.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Strategy {
    /// One version answering; replaced when its stage moves.
    Basic,
    /// Both versions warm; `active` answers (the champion until switched).
    BlueGreen,
    /// The challenger answers a growing share of the traffic.
    Canary {
        /// The challenger's share at each step, in (0, 1], growing.
        steps: Vec<f64>,
        /// Seconds each step lasts (and between gate measurements).
        interval_secs: f64,
    },
    /// The challenger scores a copy of a share of the traffic; its answers are logged, never returned.
    Shadow {
        /// The share of requests copied, in (0, 1].
        share: f64,
        /// Seconds between gate measurements.
        interval_secs: f64,
    },
}

impl Strategy {
    /// Parse the command line's form (see the module's table).
    pub fn parse(text: &str) -> Result<Self> {
        let text = text.trim();
        let bad = |why: &str| {
            Error::Invalid(format!(
                "cannot read the strategy '{text}': {why}; write basic, blue-green, canary:5,25,50,100@60s or shadow[:PCT][@INTERVAL]"
            ))
        };
        let (head, interval) = match text.split_once('@') {
            Some((h, i)) => {
                (h, Some(parse_duration(i).map_err(|_| bad("the interval is not a duration like 60s, 5m or 1h"))?))
            }
            None => (text, None),
        };
        let interval_secs = interval.unwrap_or(DEFAULT_INTERVAL_SECS);
        let (kind, arg) = match head.split_once(':') {
            Some((k, a)) => (k, Some(a)),
            None => (head, None),
        };
        match (kind, arg) {
            ("basic", None) if interval.is_none() => Ok(Self::Basic),
            ("blue-green" | "bluegreen", None) if interval.is_none() => Ok(Self::BlueGreen),
            ("canary", Some(steps)) => {
                let mut parsed = Vec::new();
                for s in steps.split(',') {
                    let pct = parse_percent(s).map_err(|_| bad(&format!("'{s}' is not a percentage")))?;
                    if parsed.last().is_some_and(|last| pct <= *last) {
                        return Err(bad("the canary's steps must grow"));
                    }
                    parsed.push(pct);
                }
                Ok(Self::Canary { steps: parsed, interval_secs })
            }
            ("canary", None) => Err(bad("a canary needs its share, e.g. canary:10")),
            ("shadow", arg) => {
                let share = match arg {
                    Some(a) => parse_percent(a).map_err(|_| bad(&format!("'{a}' is not a percentage")))?,
                    None => 1.0,
                };
                Ok(Self::Shadow { share, interval_secs })
            }
            _ => Err(bad("unknown strategy")),
        }
    }

    /// The name used in logs, metrics and files (`basic`, `blue-green`, `canary`, `shadow`).
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Basic => "basic",
            Self::BlueGreen => "blue-green",
            Self::Canary { .. } => "canary",
            Self::Shadow { .. } => "shadow",
        }
    }

    /// Whether the strategy needs a challenger.
    pub fn needs_challenger(&self) -> bool {
        !matches!(self, Self::Basic)
    }

    /// Seconds between gate measurements (none for basic and blue/green).
    pub fn interval_secs(&self) -> Option<f64> {
        match self {
            Self::Canary { interval_secs, .. } | Self::Shadow { interval_secs, .. } => Some(*interval_secs),
            Self::Basic | Self::BlueGreen => None,
        }
    }

    /// Gate measurements a rollout needs before it promotes (one per canary step; one for shadow).
    pub fn steps(&self) -> usize {
        match self {
            Self::Canary { steps, .. } => steps.len(),
            Self::Shadow { .. } => 1,
            Self::Basic | Self::BlueGreen => 0,
        }
    }

    /// The challenger's answering share at step `i` (0 for shadow: it never answers).
    pub fn weight_at(&self, i: usize) -> f64 {
        match self {
            Self::Canary { steps, .. } => steps.get(i).or(steps.last()).copied().unwrap_or(0.0),
            Self::Basic | Self::BlueGreen | Self::Shadow { .. } => 0.0,
        }
    }

    /// The strategy as the command line writes it.
    pub fn describe(&self) -> String {
        match self {
            Self::Basic => "basic".into(),
            Self::BlueGreen => "blue-green".into(),
            Self::Canary { steps, interval_secs } => {
                let steps: Vec<String> = steps.iter().map(|s| format_pct(*s)).collect();
                format!("canary:{}@{}", steps.join(","), format_duration(*interval_secs))
            }
            Self::Shadow { share, interval_secs } => {
                format!("shadow:{}@{}", format_pct(*share), format_duration(*interval_secs))
            }
        }
    }
}

/// The bucket of `key` on route `salt`: a number in [0, 1), the same for the same key every time.
pub fn bucket(salt: &str, key: &str) -> f64 {
    let mut hash = Sha256::new();
    hash.update(salt.as_bytes());
    hash.update([0u8]);
    hash.update(key.as_bytes());
    let digest = hash.finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    // 53 significant bits, so the division is exact and the result stays below 1.
    (u64::from_be_bytes(first) >> 11) as f64 / (1u64 << 53) as f64
}

/// Whether the row keyed `key` goes to the challenger at `weight`.
pub fn to_challenger(salt: &str, key: &str, weight: f64) -> bool {
    bucket(salt, key) < weight
}

/// A duration such as `500ms`, `60s`, `5m`, `1h`, `7d` or a bare number of seconds.
pub fn parse_duration(text: &str) -> Result<f64> {
    let t = text.trim();
    let (number, unit) = match t.find(|c: char| c.is_ascii_alphabetic()) {
        Some(i) => (&t[..i], &t[i..]),
        None => (t, "s"),
    };
    let scale = match unit {
        "ms" => 0.001,
        "s" => 1.0,
        "m" | "min" => 60.0,
        "h" => 3600.0,
        "d" => 86_400.0,
        _ => return Err(Error::Invalid(format!("'{text}' is not a duration: write e.g. 500ms, 60s, 5m, 1h or 7d"))),
    };
    let value: f64 = number
        .trim()
        .parse()
        .map_err(|_| Error::Invalid(format!("'{text}' is not a duration: write e.g. 500ms, 60s, 5m or 1h")))?;
    let secs = value * scale;
    if !(secs.is_finite() && (0.05..=7.0 * 86_400.0).contains(&secs)) {
        return Err(Error::Invalid(format!("the duration '{text}' must be from 50ms to 7 days")));
    }
    Ok(secs)
}

/// `25` or `25%` as 0.25, refusing anything outside (0, 100].
fn parse_percent(text: &str) -> Result<f64> {
    let t = text.trim().trim_end_matches('%');
    let v: f64 = t.parse().map_err(|_| Error::Invalid(format!("'{text}' is not a percentage")))?;
    if v.is_finite() && v > 0.0 && v <= 100.0 {
        Ok(v / 100.0)
    } else {
        Err(Error::Invalid(format!("the percentage '{text}' must be above 0 and at most 100")))
    }
}

fn format_pct(share: f64) -> String {
    let pct = share * 100.0;
    if (pct - pct.round()).abs() < 1e-9 { format!("{}", pct.round()) } else { format!("{pct}") }
}

/// Seconds as the shortest of `ms`, `s`, `m`, `h` that is whole.
pub fn format_duration(secs: f64) -> String {
    if secs >= 86_400.0 && (secs / 86_400.0).fract() == 0.0 {
        format!("{}d", secs / 86_400.0)
    } else if secs >= 3600.0 && (secs / 3600.0).fract() == 0.0 {
        format!("{}h", secs / 3600.0)
    } else if secs >= 60.0 && (secs / 60.0).fract() == 0.0 {
        format!("{}m", secs / 60.0)
    } else if secs.fract() == 0.0 {
        format!("{secs}s")
    } else {
        format!("{}ms", (secs * 1000.0).round())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strategies_parse_and_print_back() {
        assert_eq!(Strategy::parse("basic").unwrap(), Strategy::Basic);
        assert_eq!(Strategy::parse("blue-green").unwrap(), Strategy::BlueGreen);
        let c = Strategy::parse("canary:5,25,50,100@30s").unwrap();
        assert_eq!(c, Strategy::Canary { steps: vec![0.05, 0.25, 0.5, 1.0], interval_secs: 30.0 });
        assert_eq!(c.describe(), "canary:5,25,50,100@30s");
        assert_eq!(c.weight_at(1), 0.25);
        assert_eq!(Strategy::parse("shadow").unwrap(), Strategy::Shadow { share: 1.0, interval_secs: 60.0 });
        assert_eq!(Strategy::parse("shadow:25@5m").unwrap().describe(), "shadow:25@5m");
        for bad in ["", "canary", "canary:50,25", "canary:0", "canary:101", "shadow:x", "basic@5s", "canary:5@0s", "zz"]
        {
            assert!(Strategy::parse(bad).is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn buckets_are_stable_uniform_and_monotonic_in_the_weight() {
        let b = bucket("churn", "cust-17");
        assert_eq!(b, bucket("churn", "cust-17"));
        assert_ne!(b, bucket("other-route", "cust-17"));
        // A key in at 30 % is in at 50 %.
        let keys: Vec<String> = (0..20_000).map(|i| format!("cust-{i}")).collect();
        let at = |w: f64| keys.iter().filter(|k| to_challenger("churn", k, w)).count();
        let (thirty, fifty) = (at(0.3), at(0.5));
        assert!(keys.iter().filter(|k| to_challenger("churn", k, 0.3)).all(|k| to_challenger("churn", k, 0.5)));
        // Binomial: 20 000 × 0.3 = 6 000 ± 4σ (σ ≈ 65).
        assert!((5_740..=6_260).contains(&thirty), "{thirty}");
        assert!((9_740..=10_260).contains(&fifty), "{fifty}");
    }

    #[test]
    fn durations_read() {
        assert_eq!(parse_duration("500ms").unwrap(), 0.5);
        assert_eq!(parse_duration("5m").unwrap(), 300.0);
        assert_eq!(parse_duration("2").unwrap(), 2.0);
        assert!(parse_duration("1y").is_err());
        assert!(parse_duration("-3s").is_err());
        assert_eq!(format_duration(300.0), "5m");
        assert_eq!(format_duration(0.5), "500ms");
    }
}
