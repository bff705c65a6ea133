//! Text for messages: values quoted with a bound (a 10 MB field is never echoed whole), the known
//! name closest to a typo, and ONNX Runtime's raw errors summarised to one readable line.

/// Characters of a value shown in a message before it is cut.
pub const QUOTE_LIMIT: usize = 80;

/// `'value'`, or its start and its size when it is longer than [`QUOTE_LIMIT`] characters:
/// `'aaaa…' (10.0 MB)`.
pub fn quote(value: &str) -> String {
    match value.char_indices().nth(QUOTE_LIMIT) {
        None => format!("'{value}'"),
        Some((cut, _)) => format!("'{}…' ({})", &value[..cut], size(value.len() as u64)),
    }
}

/// A byte count in the largest unit that keeps it at least 1 (`512 B`, `3.4 KB`, `10.0 MB`).
pub fn size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KB", "MB", "GB", "TB"];
    if bytes < 1000 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1000.0;
    let mut unit = 0;
    while value >= 1000.0 && unit + 1 < UNITS.len() {
        value /= 1000.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

/// Levenshtein distance between two strings, by characters.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    let mut current = vec![0; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        current[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitute = previous[j] + usize::from(ca != *cb);
            current[j + 1] = substitute.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        std::mem::swap(&mut previous, &mut current);
    }
    previous[b.len()]
}

/// The candidate closest to `name` (case-insensitive edit distance), when it is close enough to be
/// a plausible typo: at most a third of the name's length, and at least one edit allowed.
pub fn closest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let lower = name.to_lowercase();
    let allowed = (name.chars().count() / 3).max(1);
    candidates
        .into_iter()
        .map(|c| (distance(&lower, &c.to_lowercase()), c))
        .filter(|(d, _)| *d <= allowed)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// `" (did you mean 'x'?)"` when a candidate is close to `name`, else `""`.
pub fn did_you_mean<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> String {
    closest(name, candidates).map(|c| format!(" (did you mean '{c}'?)")).unwrap_or_default()
}

/// ONNX Runtime's error text made readable: source paths, C++ signatures and template
/// instantiations (`[with T = …]`) removed, whitespace collapsed, cut at 300 characters. The raw
/// text stays available to `--verbose`.
pub fn summarise_runtime(raw: &str) -> String {
    let mut text = raw.to_string();
    // "…/file.h:556 size_t ns::Class<…>::Method(…) [with … = …] The actual message" → the message.
    if let Some(with) = text.find(" [with ") {
        let mut depth = 0usize;
        let mut end = None;
        for (i, c) in text[with + 1..].char_indices() {
            match c {
                '[' => depth += 1,
                ']' => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        end = Some(with + 1 + i + 1);
                        break;
                    }
                }
                _ => {}
            }
        }
        if let Some(end) = end {
            let head = text[..with].to_string();
            let tail = text[end..].trim().to_string();
            let prefix = head.split(" /").next().unwrap_or("").trim_end_matches(':').trim().to_string();
            text = if prefix.is_empty() { tail } else { format!("{prefix}: {tail}") };
        }
    }
    // Bare source locations: "/onnxruntime_src/onnxruntime/core/x.cc:123 " → "".
    let words: Vec<&str> = text.split_whitespace().filter(|w| !(w.starts_with('/') && w.contains(".cc:"))).collect();
    let text = words.join(" ");
    match text.char_indices().nth(300) {
        None => text,
        Some((cut, _)) => format!("{}…", &text[..cut]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_values_are_cut_with_their_size() {
        assert_eq!(quote("abc"), "'abc'");
        let big = "x".repeat(10_485_950);
        let q = quote(&big);
        assert!(q.len() < 120, "{q}");
        assert!(q.ends_with("(10.5 MB)"), "{q}");
        let multibyte = "é".repeat(200);
        assert!(quote(&multibyte).starts_with("'éé"), "cut on a character boundary");
    }

    #[test]
    fn typos_find_their_name() {
        let names = ["roc_auc", "recall", "precision", "accuracy"];
        assert_eq!(closest("recal", names), Some("recall"));
        assert_eq!(closest("ROC_AUC", names), Some("roc_auc"));
        assert_eq!(closest("zzz", names), None);
        assert_eq!(did_you_mean("acuracy", names), " (did you mean 'accuracy'?)");
    }

    #[test]
    fn runtime_errors_lose_their_cpp_noise() {
        let raw = "Exception during initialization: /onnxruntime_src/onnxruntime/core/providers/cpu/ml/tree_ensemble_common.h:556 size_t onnxruntime::ml::detail::TreeEnsembleCommon<InputType, ThresholdType, OutputType>::AddNodes(size_t, gsl::span<const long int>) [with InputType = float; onnxruntime::InlinedVector<std::pair<a, b> > = absl::InlinedVector<std::pair<a, b>, 2>] False node must always be the next node, but it isn't at index 9 with flags 2\n";
        let s = summarise_runtime(raw);
        assert_eq!(
            s,
            "Exception during initialization: False node must always be the next node, but it isn't at index 9 with flags 2"
        );
        assert!(summarise_runtime(&"y".repeat(5000)).chars().count() <= 301);
    }
}
