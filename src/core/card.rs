//! The model card: what a model is for, what it reads and returns, what is known about its data and
//! performance, and its limits — in Markdown, for people who will use or operate the model.

use std::fmt::Write;

use super::evaluate::Evaluation;
use super::model::info::{ModelInfo, Task};
use super::session::output_columns;

/// What else is known about a model, beyond its file.
#[derive(Debug, Clone, Default)]
pub struct CardContext<'a> {
    /// The evaluation on labelled data, with the file it ran on.
    pub evaluation: Option<(&'a Evaluation, &'a str)>,
    /// The reference data the drift profile was made from.
    pub reference: Option<&'a str>,
    /// Version history lines (newest first), e.g. from the registry.
    pub history: Vec<String>,
    /// Images to embed: (caption, relative path).
    pub images: Vec<(String, String)>,
}

/// The model card, in Markdown.
pub fn model_card(info: &ModelInfo, context: &CardContext<'_>) -> String {
    let mut md = String::new();
    let meta = |k: &str| info.metadata.get(k).filter(|v| !v.is_empty()).cloned();
    let _ = writeln!(md, "# Model card — {}\n", info.name);
    let purpose = meta("description").or_else(|| Some(info.doc_string.clone()).filter(|d| !d.is_empty()));
    let _ = writeln!(md, "## Purpose\n\n{}\n", purpose.unwrap_or_else(|| "Not stated in the model file.".into()));
    let task = match &info.task {
        Task::Classification { classes, .. } => format!("classification into {}", classes.join(", ")),
        Task::Regression { .. } => "regression".into(),
    };
    let _ = writeln!(md, "## Facts\n\n| | |\n|---|---|");
    let mut fact = |k: &str, v: String| {
        let _ = writeln!(md, "| {k} | {} |", v.replace('|', "\\|"));
    };
    fact("Task", task);
    fact(
        "File",
        format!(
            "`{}` ({} bytes)",
            info.path.file_name().map(|n| n.to_string_lossy()).unwrap_or_default(),
            info.file_size_bytes
        ),
    );
    fact("SHA-256", format!("`{}`", info.sha256));
    fact("Producer", format!("{} {}", info.producer_name, info.producer_version));
    fact("ONNX IR version", info.ir_version.to_string());
    let opsets: Vec<String> = info.opsets.iter().map(|o| format!("{} {}", o.domain, o.version)).collect();
    fact("Opsets", opsets.join(", "));
    if let Some(target) = meta("target") {
        fact("Target", format!("`{target}`"));
    }
    if let Some(d) = meta("training_data") {
        fact("Training data", d);
    }
    if let Some(d) = meta("training_date") {
        fact("Training date", d);
    }

    let _ = writeln!(md, "\n## Inputs\n\n| name | type | allowed categories |\n|---|---|---|");
    for input in &info.inputs {
        let cats = info.known_categories.get(&input.name).map(|c| c.join(", ")).unwrap_or_default();
        let _ = writeln!(md, "| `{}` | `{}` | {} |", input.name, input.ty, cats);
    }
    if let Some(names) = meta("feature_names") {
        let _ = writeln!(md, "\nFeature columns, in order: {names}.");
    }
    let _ = writeln!(md, "\n## Outputs\n\n| graph output | type |\n|---|---|");
    for output in &info.outputs {
        let _ = writeln!(md, "| `{}` | `{}` |", output.name, output.ty);
    }
    let _ = writeln!(md, "\nMirador writes the columns: {}.", output_columns(info).join(", "));

    let _ = writeln!(md, "\n## Performance\n");
    match context.evaluation {
        Some((evaluation, data)) => {
            let (metrics, intervals) = match evaluation {
                Evaluation::Classification(r) => (&r.metrics, &r.intervals),
                Evaluation::Regression(r) => (&r.metrics, &r.intervals),
            };
            let _ = writeln!(md, "Evaluated on `{data}`.\n\n| metric | value | 95 % interval |\n|---|---|---|");
            for (name, value) in metrics {
                let v = value.map_or_else(|| "undefined".into(), |v| format!("{v:.4}"));
                let i = intervals.get(name).map_or_else(String::new, |i| format!("[{:.4}, {:.4}]", i.low, i.high));
                let _ = writeln!(md, "| {name} | {v} | {i} |");
            }
        }
        None => {
            let _ = writeln!(md, "Not evaluated yet: run `mirador evaluate` on labelled data.");
        }
    }
    for (caption, path) in &context.images {
        let _ = writeln!(md, "\n![{caption}]({path})");
    }
    let _ = writeln!(md, "\n## Drift reference\n");
    match context.reference {
        Some(r) => {
            let _ = writeln!(
                md,
                "Reference profile made from `{r}`; production data is compared with it per column (Evidently's default tests)."
            );
        }
        None => {
            let _ = writeln!(md, "No reference profile yet.");
        }
    }
    let _ = writeln!(md, "\n## Known limits\n");
    let _ = writeln!(
        md,
        "- Categories not seen in training are encoded as all-zero (one-hot) and deserve a look; Mirador's contract check flags them."
    );
    let _ = writeln!(
        md,
        "- Performance figures hold for data like the evaluation data; monitor drift to know when they stop holding."
    );
    if let Some(limits) = meta("limitations") {
        let _ = writeln!(md, "- {limits}");
    }
    if !context.history.is_empty() {
        let _ = writeln!(md, "\n## Version history\n");
        for line in &context.history {
            let _ = writeln!(md, "- {line}");
        }
    }
    let _ = writeln!(md, "\n## Metadata\n\n| key | value |\n|---|---|");
    for (k, v) in &info.metadata {
        let _ = writeln!(md, "| `{k}` | {} |", v.replace('|', "\\|"));
    }
    md
}
