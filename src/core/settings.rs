//! Bounds on every number a user can type. Each check refuses a value up front with a message
//! naming the setting and the allowed range, so an absurd flag never reaches an allocation
//! (`--bootstrap 10000000000000` once asked for a terabyte) or quietly does something odd
//! (`--threshold NaN`). The window, the command line and the server all go through these.

use super::error::{Error, Result};
use super::runtime;

/// Bootstrap resamples allowed (each costs a pass over the rows).
pub const MAX_BOOTSTRAP: usize = 100_000;
/// Rows per scoring batch allowed (memory grows with it).
pub const MAX_BATCH_SIZE: usize = 1 << 22;
/// Rows timed one at a time for latency.
pub const MAX_LATENCY_ROWS: usize = 100_000;
/// Inference workers allowed per core.
pub const WORKERS_PER_CORE: usize = 4;

/// `value` as a probability threshold: a finite number in [0, 1].
pub fn threshold(setting: &str, value: f64) -> Result<f64> {
    if value.is_finite() && (0.0..=1.0).contains(&value) {
        Ok(value)
    } else {
        Err(Error::Invalid(format!("{setting} must be a number from 0 to 1; got {value}")))
    }
}

/// `value` as a share: a finite number in (0, 1].
pub fn share(setting: &str, value: f64) -> Result<f64> {
    if value.is_finite() && value > 0.0 && value <= 1.0 {
        Ok(value)
    } else {
        Err(Error::Invalid(format!("{setting} must be a share above 0 and at most 1 (e.g. 0.5); got {value}")))
    }
}

/// `value` within `min..=max`.
pub fn count(setting: &str, value: usize, min: usize, max: usize) -> Result<usize> {
    if (min..=max).contains(&value) {
        Ok(value)
    } else {
        Err(Error::Invalid(format!("{setting} must be from {min} to {max}; got {value}")))
    }
}

/// Workers for `requested` (0: one per core), capped at [`WORKERS_PER_CORE`] per core; the note
/// says when the cap applied.
pub fn workers(requested: usize) -> (usize, Option<String>) {
    let cores = runtime::cores();
    let cap = cores * WORKERS_PER_CORE;
    match requested {
        0 => (cores, None),
        n if n > cap => (
            cap,
            Some(format!(
                "{n} workers asked for; using {cap} ({WORKERS_PER_CORE} per core on this machine's {cores} cores): more only compete for the same cores"
            )),
        ),
        n => (n, None),
    }
}

/// Seconds as a duration: finite and positive, at most a day.
pub fn seconds(setting: &str, value: f64) -> Result<std::time::Duration> {
    if value.is_finite() && value > 0.0 && value <= 86_400.0 {
        Ok(std::time::Duration::from_secs_f64(value))
    } else {
        Err(Error::Invalid(format!("{setting} must be a number of seconds above 0 and at most 86400; got {value}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absurd_values_are_refused_with_the_range() {
        assert!(threshold("--threshold", 0.5).is_ok());
        for bad in [2.0, -0.1, f64::NAN, f64::INFINITY] {
            let e = threshold("--threshold", bad).expect_err("refused").to_string();
            assert!(e.contains("--threshold") && e.contains("0 to 1"), "{e}");
        }
        assert!(share("--drift-share", 1.0).is_ok());
        assert!(share("--drift-share", 0.0).is_err());
        assert!(share("--drift-share", -1.0).is_err());
        assert!(share("--drift-share", 2.0).is_err());
        let e = count("--bootstrap", 10_000_000_000_000, 0, MAX_BOOTSTRAP).expect_err("refused").to_string();
        assert!(e.contains("--bootstrap must be from 0 to 100000"), "{e}");
        let (n, note) = workers(10_000);
        assert_eq!(n, runtime::cores() * WORKERS_PER_CORE);
        assert!(note.is_some_and(|n| n.contains("10000 workers")));
        assert_eq!(workers(0), (runtime::cores(), None));
        assert!(seconds("--timeout", 0.0).is_err());
    }
}
