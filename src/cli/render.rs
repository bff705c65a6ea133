//! What the command line prints: JSON (`--json`) or human-readable text, written so that a closed
//! pipe (`mirador … | head`) ends the program quietly instead of with a panic.

use std::fmt::Write;
use std::io::Write as _;

use crate::core::compare::Comparison;
use crate::core::drift::DriftReport;
use crate::core::metrics::Interval;
use crate::core::model::IoSpec;
use crate::core::monitor::MonitorReport;
use crate::core::{ContractReport, Error, Evaluation, ModelInfo, Prediction, Result, ScoreSummary, Severity, Task};

/// Print `value` as JSON (`--json`) or as the text `render` makes of it.
pub fn emit<T: serde::Serialize>(json: bool, value: &T, render: fn(&T) -> String) -> Result<()> {
    if json {
        let text =
            serde_json::to_string_pretty(value).map_err(|e| Error::internal(format!("cannot write JSON: {e}")))?;
        say(&format!("{text}\n"))
    } else {
        say(&render(value))
    }
}

/// Write `text` to standard output. When the reader has gone (a closed pipe), the program ends
/// quietly with success: there is nobody left to tell.
pub fn say(text: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => std::process::exit(0),
        Err(e) => Err(Error::io("write to standard output", "stdout", e)),
    }
}

/// `mirador inspect`.
pub fn model_info(info: &ModelInfo) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "{}  ({})", info.name, info.path.display());
    let _ = writeln!(s, "  size        {} bytes, sha256 {}", info.file_size_bytes, info.sha256);
    let _ = writeln!(s, "  producer    {} {}", info.producer_name, info.producer_version);
    let _ = writeln!(
        s,
        "  ir version  {}   model version {}   domain {}",
        info.ir_version, info.model_version, info.domain
    );
    let opsets: Vec<String> = info.opsets.iter().map(|o| format!("{} {}", o.domain, o.version)).collect();
    let _ = writeln!(s, "  opsets      {}", opsets.join(", "));
    if !info.doc_string.is_empty() {
        let _ = writeln!(s, "  doc         {}", info.doc_string);
    }
    match &info.task {
        Task::Classification { classes, zipmap, .. } => {
            let form = if *zipmap { "ZipMap" } else { "tensor" };
            let _ =
                writeln!(s, "  task        classification, classes [{}], probabilities as {form}", classes.join(", "));
        }
        Task::Regression { .. } => {
            let _ = writeln!(s, "  task        regression");
        }
    }
    let io = |s: &mut String, title: &str, specs: &[IoSpec]| {
        let _ = writeln!(s, "{title}");
        for spec in specs {
            let _ = writeln!(s, "  {:<24} {}", spec.name, spec.ty);
        }
    };
    io(&mut s, "inputs", &info.inputs);
    io(&mut s, "outputs", &info.outputs);
    if !info.metadata.is_empty() {
        let _ = writeln!(s, "metadata");
        for (k, v) in &info.metadata {
            let _ = writeln!(s, "  {k:<24} {v}");
        }
    }
    if !info.known_categories.is_empty() {
        let _ = writeln!(s, "known categories");
        for (k, v) in &info.known_categories {
            let _ = writeln!(s, "  {k:<24} {}", v.join(" | "));
        }
    }
    s
}

/// `mirador check`.
pub fn contract_report(report: &ContractReport) -> String {
    let mut s = String::new();
    let verdict = if report.passed() { "PASS" } else { "FAIL" };
    let file = report.file.as_ref().map(|f| f.display().to_string()).unwrap_or_default();
    let _ = writeln!(s, "{verdict}: {} rows checked in {file}", report.rows_checked);
    if let Some(binding) = &report.binding {
        for b in &binding.inputs {
            let _ = writeln!(s, "  input {:<20} <- {} ({})", b.input, b.columns.join(", "), b.source.as_str());
        }
    }
    for p in &report.problems {
        let tag = match p.severity {
            Severity::Blocking => "BLOCKING",
            Severity::Warning => "warning ",
            Severity::Info => "info    ",
        };
        let count = if p.count > 1 { format!(" [{} rows]", p.count) } else { String::new() };
        let _ = writeln!(s, "  {tag} {}{count}", p.message);
    }
    s
}

/// `mirador predict`.
pub fn prediction(p: &Prediction) -> String {
    let mut s = String::new();
    if let Some(label) = &p.label {
        let _ = writeln!(s, "label: {label}");
    }
    for (class, prob) in &p.probabilities {
        let _ = writeln!(s, "  p({class}) = {prob:.6}");
    }
    for (i, v) in p.values.iter().enumerate() {
        let _ = writeln!(s, "prediction{}: {v}", if p.values.len() > 1 { format!("_{i}") } else { String::new() });
    }
    let _ = writeln!(s, "latency: {:.3} ms", p.latency_ms);
    s
}

/// `mirador score`.
pub fn score_summary(summary: &ScoreSummary) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "scored {} rows in {:.2} s ({:.0} rows/s) -> {}",
        summary.rows,
        summary.elapsed_secs,
        summary.rows_per_sec,
        summary.output.display()
    );
    if let Some(q) = &summary.quarantine {
        let _ = writeln!(s, "quarantined {} rows that fail the contract -> {}", summary.quarantined, q.display());
    }
    for w in &summary.warnings {
        let _ = writeln!(s, "  warning: {} [{} rows]", w.message, w.count);
    }
    s
}

/// `mirador evaluate`.
pub fn evaluation(e: &Evaluation) -> String {
    let mut s = String::new();
    let (rows, metrics, intervals) = match e {
        Evaluation::Classification(r) => {
            let _ = writeln!(
                s,
                "classification: {} rows, positive class '{}', threshold {}",
                r.rows, r.positive_class, r.threshold
            );
            (r.rows, &r.metrics, &r.intervals)
        }
        Evaluation::Regression(r) => {
            let _ = writeln!(s, "regression: {} rows", r.rows);
            (r.rows, &r.metrics, &r.intervals)
        }
    };
    let _ = rows;
    let _ = writeln!(s, "  {:<20} {:>10}   95% interval", "metric", "value");
    for (name, value) in metrics {
        let value = value.map_or_else(|| "undefined".to_string(), |v| format!("{v:.4}"));
        let interval =
            intervals.get(name).map_or_else(String::new, |Interval { low, high }| format!("[{low:.4}, {high:.4}]"));
        let _ = writeln!(s, "  {name:<20} {value:>10}   {interval}");
    }
    if let Evaluation::Classification(r) = e {
        let _ = writeln!(s, "confusion matrix (rows: true, columns: predicted) [{}]", r.classes.join(", "));
        for (class, row) in r.classes.iter().zip(&r.confusion_matrix.counts) {
            let cells: Vec<String> = row.iter().map(|c| format!("{c:>8}")).collect();
            let _ = writeln!(s, "  {class:>8} {}", cells.join(""));
        }
    }
    s
}

/// `mirador drift`.
pub fn drift(report: &DriftReport) -> String {
    let mut s = String::new();
    let verdict = if report.dataset_drift { "DRIFT" } else { "no drift" };
    let drifted = report.columns.iter().filter(|c| c.drift).count();
    let _ = writeln!(
        s,
        "{verdict}: {drifted} of {} columns drifted ({:.0}%, dataset threshold {:.0}%)",
        report.columns.len(),
        report.share_drifted * 100.0,
        report.drift_share * 100.0
    );
    let _ =
        writeln!(s, "  {:<20} {:<12} {:<14} {:>10} {:>10}  verdict", "column", "kind", "test", "score", "threshold");
    for c in &report.columns {
        let (kind, test) = (c.kind.as_str(), c.test.as_str());
        let verdict = if c.drift { "DRIFT" } else { "ok" };
        let _ =
            writeln!(s, "  {:<20} {kind:<12} {test:<14} {:>10.4} {:>10}  {verdict}", c.column, c.score, c.threshold);
        if !c.new_categories.is_empty() {
            let _ = writeln!(s, "    new categories: {}", c.new_categories.join(", "));
        }
    }
    for (name, reason) in &report.skipped {
        let _ = writeln!(s, "  skipped {name}: {reason}");
    }
    s
}

/// `mirador compare`.
pub fn comparison(c: &Comparison) -> String {
    let mut s = String::new();
    let names: Vec<&str> = c.models.iter().map(|m| m.name.as_str()).collect();
    let _ = writeln!(s, "champion: {}; challengers: {}", c.champion, names[1..].join(", "));
    let _ = writeln!(
        s,
        "  {:<20} {:>10} {:>10} {:>10}   95% interval of the change",
        "metric", "champion", "challenger", "change"
    );
    let fmt = |v: Option<f64>| v.map_or_else(|| "undefined".to_string(), |v| format!("{v:.4}"));
    for d in &c.deltas {
        let interval = d.interval.map_or_else(String::new, |i| format!("[{:+.4}, {:+.4}]", i.low, i.high));
        let change = d.delta.map_or_else(|| "-".to_string(), |v| format!("{v:+.4}"));
        let _ = writeln!(
            s,
            "  {:<20} {:>10} {:>10} {:>10}   {interval}  ({})",
            d.metric,
            fmt(d.champion),
            fmt(d.value),
            change,
            d.challenger
        );
    }
    for m in &c.models {
        if let Some(l) = m.latency {
            let _ = writeln!(
                s,
                "  latency {:<16} p50 {:.3} ms  p95 {:.3} ms  p99 {:.3} ms ({} rows)",
                m.name, l.p50_ms, l.p95_ms, l.p99_ms, l.rows
            );
        }
    }
    for a in &c.agreement {
        let kappa = a.cohen_kappa.map_or_else(|| "undefined".to_string(), |k| format!("{k:.4}"));
        let _ = writeln!(
            s,
            "  {} vs {}: agree on {:.2}% of rows, kappa {kappa}, {} flips; McNemar p = {:.4} (only champion right {}, only challenger right {})",
            c.champion,
            a.challenger,
            a.agreement_rate * 100.0,
            a.flip_count,
            a.mcnemar.p_value,
            a.mcnemar.champion_only,
            a.mcnemar.challenger_only
        );
    }
    for g in &c.gate {
        let _ = writeln!(s, "gate for {}: {}", g.challenger, if g.passed { "PASS" } else { "FAIL" });
        for r in &g.results {
            let _ = writeln!(s, "  [{}] {} — {}", if r.passed { "ok" } else { "FAIL" }, r.rule, r.reason);
        }
    }
    s
}

/// `mirador drift --chunk ...`.
pub fn monitor(report: &MonitorReport) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "monitoring {} ({} chunks)", report.chunking, report.chunks.len());
    let late = report.chunks.iter().any(|c| c.labelled_share.is_some());
    let _ = writeln!(
        s,
        "  {:<22} {:>7} {:>9} {:>11} {:>9} {:>9}{}",
        "chunk",
        "rows",
        "drifted",
        "pred drift",
        "roc_auc",
        "est. auc",
        if late { "  labelled" } else { "" }
    );
    for c in &report.chunks {
        let pred = c.prediction_drift.map_or_else(|| "-".to_string(), |v| format!("{v:.4}"));
        let auc =
            c.performance.get("roc_auc").copied().flatten().map_or_else(|| "-".to_string(), |v| format!("{v:.4}"));
        let est =
            c.estimated_performance.get("estimated_roc_auc").map_or_else(|| "-".to_string(), |v| format!("{v:.4}"));
        let share = c.share_drifted * 100.0;
        let labelled = c.labelled_share.map_or_else(String::new, |v| format!(" {:>8.1}%", v * 100.0));
        let _ = writeln!(s, "  {:<22} {:>7} {share:>8.0}% {pred:>11} {auc:>9} {est:>9}{labelled}", c.label, c.rows);
    }
    if let Some(b) = report.bands.get("roc_auc") {
        let _ = writeln!(s, "  reference band roc_auc: [{:.4}, {:.4}] (mean ± 3σ)", b.lower, b.upper);
    }
    for note in &report.notes {
        let _ = writeln!(s, "note: {note}");
    }
    let _ = writeln!(s, "{} alert(s)", report.alerts.len());
    for a in &report.alerts {
        let _ = writeln!(s, "  [{}] {}: {} ({})", a.severity.as_str(), a.chunk, a.message, a.rule);
    }
    s
}
