//! A training command as `mirador retrain` takes it: an argv template split like a shell line (run
//! without a shell), its placeholders filled in whole. Shared by the retrain and the bundle's
//! schedule, which checks a command before writing it.

use std::path::Path;

use super::error::{Error, Result};

/// The placeholders a command template may use.
pub const PLACEHOLDERS: [&str; 6] = ["{data}", "{output}", "{holdout}", "{run_id}", "{workdir}", "{parent}"];

/// Refuse a training command template that cannot run: one that does not split like a shell line,
/// or uses a placeholder Mirador does not fill (what a schedule is checked with before it is
/// written).
pub fn check_command(command: &str) -> Result<()> {
    let template = shlex::split(command).filter(|a| !a.is_empty()).ok_or_else(|| {
        Error::Invalid(format!("cannot read the training command '{command}' (empty, or an unclosed quote?)"))
    })?;
    substitute(&template, &PLACEHOLDERS.map(|_| "x".to_string())).map(|_| ())
}

/// Each argument of `template` with the placeholders replaced by `values` (in [`PLACEHOLDERS`]
/// order); an unknown `{name}` is refused, naming the known ones.
pub fn substitute(template: &[String], values: &[String; 6]) -> Result<Vec<String>> {
    template
        .iter()
        .map(|arg| {
            // The command runs in a fresh folder: a relative path that exists here is made absolute.
            if !arg.contains('{') && !arg.starts_with('-') && Path::new(arg).is_relative() && Path::new(arg).exists() {
                return Ok(std::path::absolute(arg).map_or_else(|_| arg.clone(), |p| p.display().to_string()));
            }
            let mut out = arg.clone();
            for (p, v) in PLACEHOLDERS.iter().zip(values) {
                out = out.replace(p, v);
            }
            if let Some(start) = out.find('{')
                && let Some(len) = out[start..].find('}')
                && out[start + 1..start + len].chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                && len > 1
            {
                return Err(Error::Invalid(format!(
                    "the training command uses {}, which Mirador does not fill; it fills {}",
                    &out[start..=start + len],
                    PLACEHOLDERS.join(", ")
                )));
            }
            Ok(out)
        })
        .collect()
}
