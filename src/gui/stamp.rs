//! What produced a result: the model (name and SHA-256), the data files, the settings and rules.
//! Every screen keeps the stamp of its result beside it and compares it, each frame, with the stamp
//! of what is chosen now; when they differ the result is shown as out of date, naming what changed —
//! never relabelled with the new choice.

use std::fmt::Display;

/// The inputs a result was computed from, as named parts in a fixed order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stamp {
    parts: Vec<(&'static str, String)>,
}

impl Stamp {
    /// An empty stamp.
    pub fn new() -> Self {
        Self::default()
    }

    /// This stamp with one more part.
    #[must_use]
    pub fn with(mut self, name: &'static str, value: impl Display) -> Self {
        self.parts.push((name, value.to_string()));
        self
    }

    /// The value of part `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.parts.iter().find(|(n, _)| *n == name).map(|(_, v)| v.as_str())
    }

    /// The names of the parts whose values differ from `now`'s (all of them when the parts differ).
    pub fn changed(&self, now: &Stamp) -> Vec<&'static str> {
        if self.parts.len() != now.parts.len() || self.parts.iter().zip(&now.parts).any(|(a, b)| a.0 != b.0) {
            return self.parts.iter().map(|(n, _)| *n).collect();
        }
        self.parts.iter().zip(&now.parts).filter(|(a, b)| a.1 != b.1).map(|(a, _)| a.0).collect()
    }
}

/// A banner saying the result below is out of date and what changed, when it is; the result stays
/// on screen under it.
pub fn out_of_date_ui(ui: &mut egui::Ui, s: &crate::gui::i18n::Strings, produced: &Stamp, now: &Stamp, what: &str) {
    let changed = produced.changed(now);
    if changed.is_empty() {
        return;
    }
    let names: Vec<&str> = changed.iter().map(|c| s.stamp_part(c)).collect();
    egui::Frame::group(ui.style()).fill(ui.visuals().warn_fg_color.gamma_multiply(0.15)).show(ui, |ui| {
        ui.colored_label(
            ui.visuals().warn_fg_color,
            format!("⚠ {} — {what} ({}: {}). {}", s.out_of_date, s.changed_since, names.join(", "), s.rerun_hint),
        );
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_name_the_parts_that_differ() {
        let a = Stamp::new().with("model", "churn_v1 1234").with("data", "a.csv");
        let b = Stamp::new().with("model", "churn_v2 5678").with("data", "a.csv");
        assert_eq!(a.changed(&a.clone()), Vec::<&str>::new());
        assert_eq!(a.changed(&b), vec!["model"]);
        assert_eq!(a.get("data"), Some("a.csv"));
        assert_eq!(a.changed(&Stamp::new()), vec!["model", "data"]);
    }
}
