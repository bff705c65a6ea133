//! Verifying a bundle offline: every checksum, no file outside the manifest, no path leaving the
//! bundle, the model loads, the golden rows still give the recorded outputs, and every config is
//! well-formed. A `.tar.gz` is unpacked into a temporary folder first, refusing unsafe entries.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

use serde::Serialize;
use yaml_rust2::Yaml;

use super::serving::{parse_yaml, schema_problems};
use super::{Example, file_sha256, files_under, read_manifest, relative};
use crate::core::contract::{ColumnMapping, plan_binding};
use crate::core::error::{Error, Result};
use crate::core::model::Model;
use crate::core::predict::Predictor;

/// One check's outcome.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VerifyCheck {
    /// What was checked.
    pub check: String,
    /// Whether it holds.
    pub ok: bool,
    /// What was found.
    pub detail: String,
}

/// Every check of a bundle.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VerifyReport {
    /// The bundle.
    pub bundle: PathBuf,
    /// The checks, in order.
    pub checks: Vec<VerifyCheck>,
    /// Whether all hold.
    pub passed: bool,
}

/// Tolerance for reproduced outputs (the same model on the same runtime gives the same numbers;
/// this absorbs float32 → decimal → float32 round trips of the inputs).
const TOLERANCE: f64 = 1e-6;

/// Verify the bundle folder (or `.tar.gz`) at `path`.
pub fn verify(path: &Path) -> Result<VerifyReport> {
    let name = path.to_string_lossy();
    if name.ends_with(".tar.gz") || name.ends_with(".tgz") {
        let temp = tempfile::tempdir().map_err(|e| Error::io("create a temporary folder", path, e))?;
        let root = unpack(path, temp.path())?;
        let mut report = verify_dir(&root)?;
        report.bundle = path.to_path_buf();
        return Ok(report);
    }
    verify_dir(path)
}

/// Unpack a bundle archive, refusing absolute paths, `..`, links and special files.
fn unpack(archive: &Path, into: &Path) -> Result<PathBuf> {
    let file = std::fs::File::open(archive).map_err(|e| Error::io("open the bundle archive", archive, e))?;
    let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(file));
    let bad = |why: String| Error::Invalid(format!("the bundle archive is refused: {why} — {}", archive.display()));
    let mut top: Option<String> = None;
    for entry in tar.entries().map_err(|e| Error::io("read the bundle archive", archive, e))? {
        let mut entry = entry.map_err(|e| Error::io("read the bundle archive", archive, e))?;
        let rel = entry.path().map_err(|e| Error::io("read the bundle archive", archive, e))?.into_owned();
        if !safe_relative(&rel) {
            return Err(bad(format!("entry '{}' leaves the bundle", rel.display())));
        }
        let kind = entry.header().entry_type();
        if !(kind.is_file() || kind.is_dir()) {
            return Err(bad(format!("entry '{}' is a link or special file", rel.display())));
        }
        let first = rel.components().next().map(|c| c.as_os_str().to_string_lossy().into_owned()).unwrap_or_default();
        if top.get_or_insert_with(|| first.clone()) != &first {
            return Err(bad("entries are not under one folder".into()));
        }
        let target = into.join(&rel);
        if kind.is_dir() {
            std::fs::create_dir_all(&target).map_err(|e| Error::io("unpack", &target, e))?;
        } else {
            if let Some(p) = target.parent() {
                std::fs::create_dir_all(p).map_err(|e| Error::io("unpack", p, e))?;
            }
            entry.unpack(&target).map_err(|e| Error::io("unpack", &target, e))?;
        }
    }
    top.map(|t| into.join(t)).ok_or_else(|| bad("it is empty".into()))
}

/// A relative path with only normal components.
fn safe_relative(path: &Path) -> bool {
    !path.as_os_str().is_empty() && path.components().all(|c| matches!(c, Component::Normal(_) | Component::CurDir))
}

fn verify_dir(dir: &Path) -> Result<VerifyReport> {
    let manifest = read_manifest(dir)?;
    let mut checks = Vec::new();
    let mut check =
        |check: &str, ok: bool, detail: String| checks.push(VerifyCheck { check: check.into(), ok, detail });

    // Checksums, and nothing outside the manifest.
    let mut tampered = Vec::new();
    for (rel, want) in &manifest.files {
        let path = dir.join(rel);
        if !safe_relative(Path::new(rel)) {
            tampered.push(format!("{rel}: leaves the bundle"));
        } else if path.symlink_metadata().map(|m| !m.file_type().is_file()).unwrap_or(true) {
            tampered.push(format!("{rel}: missing or not a regular file"));
        } else {
            let found = file_sha256(&path)?;
            if &found != want {
                tampered.push(format!("{rel}: SHA-256 {found}, manifest says {want}"));
            }
        }
    }
    let listed: Vec<String> = files_under(dir)?.iter().map(|p| relative(dir, p)).collect();
    for rel in &listed {
        if rel != "manifest.json" && !manifest.files.contains_key(rel) {
            tampered.push(format!("{rel}: not in the manifest"));
        }
    }
    let detail =
        if tampered.is_empty() { format!("{} files match", manifest.files.len()) } else { tampered.join("; ") };
    check("checksums", tampered.is_empty(), detail);

    // The model loads and is the one the manifest names.
    let model = Model::load(dir.join("model.onnx"));
    match &model {
        Ok(m) => {
            check("model", m.info().sha256 == manifest.model_sha256, format!("loads; SHA-256 {}", m.info().sha256))
        }
        Err(e) => check("model", false, e.to_string()),
    }

    // Golden rows.
    let examples = examples(dir);
    let reproduced = match (&model, &examples) {
        (Ok(m), Ok(e)) => reproduce(m, e),
        (Err(e), _) => Err(Error::Invalid(e.to_string())),
        (_, Err(e)) => Err(Error::Invalid(e.to_string())),
    };
    match reproduced {
        Ok((n, problems)) => {
            let detail = if problems.is_empty() { format!("{n} rows reproduce") } else { problems.join("; ") };
            check("examples", problems.is_empty(), detail);
        }
        Err(e) => check("examples", false, e.to_string()),
    }

    // Configs.
    let results = [
        ("schema.json", examples.map_err(|e| e.to_string()).and_then(|e| check_schema(dir, &e))),
        ("openapi.yaml", check_openapi(dir)),
        (
            "triton config.pbtxt",
            model.map_err(|e| e.to_string()).and_then(|m| check_triton(dir, &m, &manifest.name, manifest.version)),
        ),
        ("kserve inferenceservice.yaml", check_kserve(dir)),
        ("prometheus_rules.yaml", check_prometheus(dir)),
        ("Dockerfile", check_dockerfile(dir)),
    ];
    for (name, result) in results {
        match result {
            Ok(detail) => check(name, true, detail),
            Err(e) => check(name, false, e),
        }
    }
    let passed = checks.iter().all(|c| c.ok);
    Ok(VerifyReport { bundle: dir.to_path_buf(), checks, passed })
}

fn read(dir: &Path, rel: &str) -> std::result::Result<String, String> {
    std::fs::read_to_string(dir.join(rel)).map_err(|e| format!("cannot read {rel}: {e}"))
}

fn examples(dir: &Path) -> Result<Vec<Example>> {
    let text = std::fs::read_to_string(dir.join("examples.json"))
        .map_err(|e| Error::io("read the examples", dir.join("examples.json"), e))?;
    serde_json::from_str(&text).map_err(|e| Error::Invalid(format!("examples.json is not valid: {e}")))
}

fn reproduce(model: &Model, examples: &[Example]) -> Result<(usize, Vec<String>)> {
    let columns: Vec<String> = examples.first().map(|e| e.inputs.keys().cloned().collect()).unwrap_or_default();
    let (binding, _) = plan_binding(model.info(), &columns, &ColumnMapping::default(), &[]);
    let binding = binding.ok_or_else(|| Error::Invalid("the example rows cannot feed the model".into()))?;
    let mut predictor = Predictor::new(model, binding)?;
    let mut problems = Vec::new();
    for (i, e) in examples.iter().enumerate() {
        let p = predictor.predict_row(&e.inputs)?;
        if p.label != e.label {
            problems.push(format!("row {}: label {:?}, recorded {:?}", i + 1, p.label, e.label));
        }
        let got: BTreeMap<String, f64> = p.probabilities.iter().cloned().collect();
        for (class, want) in &e.probabilities {
            let have = got.get(class).copied().unwrap_or(f64::NAN);
            if (have - want).abs() > TOLERANCE || have.is_nan() {
                problems.push(format!("row {}: p({class}) = {have}, recorded {want}", i + 1));
            }
        }
        if p.values.len() != e.values.len() || p.values.iter().zip(&e.values).any(|(a, b)| (a - b).abs() > TOLERANCE) {
            problems.push(format!("row {}: values {:?}, recorded {:?}", i + 1, p.values, e.values));
        }
    }
    Ok((examples.len(), problems))
}

fn check_schema(dir: &Path, examples: &[Example]) -> std::result::Result<String, String> {
    let schema: serde_json::Value = serde_json::from_str(&read(dir, "schema.json")?).map_err(|e| e.to_string())?;
    if schema["type"] != "object" || !schema["properties"].is_object() {
        return Err("not an object schema with properties".into());
    }
    for (i, e) in examples.iter().enumerate() {
        let row: serde_json::Map<String, serde_json::Value> = e
            .inputs
            .iter()
            .map(|(k, v)| {
                let ty = schema["properties"][k]["type"].as_str().unwrap_or("string");
                let value = match ty {
                    "integer" => v.parse::<f64>().map(|x| serde_json::json!(x as i64)).unwrap_or(serde_json::json!(v)),
                    "number" => v.parse::<f64>().map(|x| serde_json::json!(x)).unwrap_or(serde_json::json!(v)),
                    _ => serde_json::json!(v),
                };
                (k.clone(), value)
            })
            .collect();
        let problems = schema_problems(&schema, &row);
        if !problems.is_empty() {
            return Err(format!("example row {} does not fit: {}", i + 1, problems.join("; ")));
        }
    }
    Ok(format!("{} properties; the example rows fit", schema["properties"].as_object().map_or(0, |o| o.len())))
}

fn yaml(dir: &Path, rel: &str) -> std::result::Result<Yaml, String> {
    parse_yaml(&read(dir, rel)?).map_err(|e| format!("{rel}: {e}"))
}

fn check_openapi(dir: &Path) -> std::result::Result<String, String> {
    let doc = yaml(dir, "openapi.yaml")?;
    let version = doc["openapi"].as_str().unwrap_or_default();
    if !version.starts_with("3.") {
        return Err(format!("openapi version '{version}', expected 3.x"));
    }
    if doc["paths"].as_hash().is_none_or(|p| p.is_empty()) {
        return Err("no paths".into());
    }
    Ok(format!("OpenAPI {version}"))
}

fn check_kserve(dir: &Path) -> std::result::Result<String, String> {
    let doc = yaml(dir, "kserve/inferenceservice.yaml")?;
    if doc["apiVersion"].as_str() != Some("serving.kserve.io/v1beta1")
        || doc["kind"].as_str() != Some("InferenceService")
    {
        return Err("not a serving.kserve.io/v1beta1 InferenceService".into());
    }
    let predictor = &doc["spec"]["predictor"];
    let canary = predictor["canaryTrafficPercent"].as_i64().ok_or("no canaryTrafficPercent")?;
    if !(0..=100).contains(&canary) {
        return Err(format!("canaryTrafficPercent {canary} is not 0–100"));
    }
    if predictor["model"]["modelFormat"]["name"].as_str() != Some("onnx")
        || predictor["model"]["storageUri"].as_str().is_none()
    {
        return Err("spec.predictor.model needs modelFormat.name 'onnx' and a storageUri".into());
    }
    Ok(format!("canary {canary} %"))
}

fn check_prometheus(dir: &Path) -> std::result::Result<String, String> {
    let doc = yaml(dir, "prometheus_rules.yaml")?;
    let groups = doc["groups"].as_vec().ok_or("no groups")?;
    let mut n = 0;
    for g in groups {
        for r in g["rules"].as_vec().ok_or("a group has no rules")? {
            if r["alert"].as_str().is_none() || r["expr"].as_str().is_none() {
                return Err("a rule lacks 'alert' or 'expr'".into());
            }
            n += 1;
        }
    }
    Ok(format!("{n} alerting rules"))
}

fn check_dockerfile(dir: &Path) -> std::result::Result<String, String> {
    let text = read(dir, "Dockerfile")?;
    let first = text.lines().map(str::trim).find(|l| !l.is_empty() && !l.starts_with('#')).unwrap_or_default();
    if !first.starts_with("FROM ") {
        return Err("the first instruction is not FROM".into());
    }
    Ok(first.to_string())
}

fn check_triton(dir: &Path, model: &Model, name: &str, version: u32) -> std::result::Result<String, String> {
    let config = pbtxt::parse(&read(dir, &format!("triton/{name}/config.pbtxt"))?)?;
    let scalar = |key: &str| config.iter().find(|(k, _)| k == key).and_then(|(_, v)| v.as_scalar());
    if scalar("name") != Some(name) {
        return Err(format!("name is {:?}, the folder is '{name}'", scalar("name")));
    }
    if scalar("platform") != Some("onnxruntime_onnx") {
        return Err("platform is not onnxruntime_onnx".into());
    }
    for (key, specs) in [("input", &model.info().inputs), ("output", &model.info().outputs)] {
        let names: Vec<&str> = config
            .iter()
            .filter(|(k, _)| k == key)
            .flat_map(|(_, v)| v.items())
            .filter_map(|m| m.iter().find(|(k, _)| k == "name").and_then(|(_, v)| v.as_scalar()))
            .collect();
        for spec in specs.iter().filter(|s| matches!(s.ty, crate::core::model::IoType::Tensor { .. })) {
            if !names.contains(&spec.name.as_str()) {
                return Err(format!("{key} '{}' of the model is not in config.pbtxt", spec.name));
            }
        }
    }
    let copy = dir.join(format!("triton/{name}/{version}/model.onnx"));
    let same = file_sha256(&copy).map_err(|e| e.to_string())? == model.info().sha256;
    if !same {
        return Err(format!("triton/{name}/{version}/model.onnx differs from model.onnx"));
    }
    Ok(format!("{name} version {version}, inputs and outputs match the model"))
}

/// A parser for the protobuf text format Triton configs use: fields `key: value`, messages
/// `key { … }`, lists `key [ … ]`.
mod pbtxt {
    /// A value.
    #[derive(Debug, Clone, PartialEq)]
    pub enum Value {
        /// A number, identifier or string.
        Scalar(String),
        /// A nested message.
        Message(Vec<(String, Value)>),
        /// A list.
        List(Vec<Value>),
    }

    impl Value {
        pub fn as_scalar(&self) -> Option<&str> {
            match self {
                Self::Scalar(s) => Some(s),
                _ => None,
            }
        }

        /// The messages in a list (or the message itself).
        pub fn items(&self) -> Vec<&Vec<(String, Value)>> {
            match self {
                Self::Message(m) => vec![m],
                Self::List(l) => l.iter().flat_map(Value::items).collect(),
                Self::Scalar(_) => Vec::new(),
            }
        }
    }

    fn tokens(text: &str) -> Result<Vec<String>, String> {
        let mut out = Vec::new();
        let mut chars = text.chars().peekable();
        while let Some(&c) = chars.peek() {
            match c {
                c if c.is_whitespace() => {
                    chars.next();
                }
                '#' => while chars.next().is_some_and(|c| c != '\n') {},
                '{' | '}' | '[' | ']' | ':' | ',' => {
                    out.push(c.to_string());
                    chars.next();
                }
                '"' => {
                    chars.next();
                    let mut s = String::new();
                    loop {
                        match chars.next() {
                            Some('"') => break,
                            Some('\\') => s.extend(chars.next()),
                            Some(c) => s.push(c),
                            None => return Err("an unterminated string".into()),
                        }
                    }
                    out.push(format!("\"{s}"));
                }
                c if c.is_alphanumeric() || "_-.+".contains(c) => {
                    let mut s = String::new();
                    while let Some(&c) = chars.peek().filter(|c| c.is_alphanumeric() || "_-.+".contains(**c)) {
                        s.push(c);
                        chars.next();
                    }
                    out.push(s);
                }
                c => return Err(format!("unexpected character '{c}'")),
            }
        }
        Ok(out)
    }

    /// Parse a whole config into its top-level fields.
    pub fn parse(text: &str) -> Result<Vec<(String, Value)>, String> {
        let tokens = tokens(text)?;
        let mut pos = 0;
        let fields = message(&tokens, &mut pos, None)?;
        Ok(fields)
    }

    fn message(t: &[String], pos: &mut usize, close: Option<&str>) -> Result<Vec<(String, Value)>, String> {
        let mut fields = Vec::new();
        loop {
            match t.get(*pos).map(String::as_str) {
                None if close.is_none() => return Ok(fields),
                None => return Err("a message is not closed".into()),
                Some(c) if Some(c) == close => {
                    *pos += 1;
                    return Ok(fields);
                }
                Some(",") => *pos += 1,
                Some(key) if key.chars().next().is_some_and(|c| c.is_alphabetic() || c == '_') => {
                    *pos += 1;
                    if t.get(*pos).map(String::as_str) == Some(":") {
                        *pos += 1;
                    }
                    fields.push((key.to_string(), value(t, pos)?));
                }
                Some(other) => return Err(format!("expected a field name, found '{other}'")),
            }
        }
    }

    fn value(t: &[String], pos: &mut usize) -> Result<Value, String> {
        let token = t.get(*pos).ok_or("a value is missing")?.clone();
        *pos += 1;
        match token.as_str() {
            "{" => Ok(Value::Message(message(t, pos, Some("}"))?)),
            "[" => {
                let mut items = Vec::new();
                loop {
                    match t.get(*pos).map(String::as_str) {
                        Some("]") => {
                            *pos += 1;
                            return Ok(Value::List(items));
                        }
                        Some(",") => *pos += 1,
                        Some(_) => items.push(value(t, pos)?),
                        None => return Err("a list is not closed".into()),
                    }
                }
            }
            "}" | "]" | ":" | "," => Err(format!("unexpected '{token}'")),
            s => Ok(Value::Scalar(s.strip_prefix('"').unwrap_or(s).to_string())),
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn parses_a_triton_config() {
            let c = parse("name: \"m\"\nplatform: \"onnxruntime_onnx\"\ninput [ { name: \"x\" data_type: TYPE_FP32 dims: [ -1, 4 ] } ]").unwrap();
            assert_eq!(c[0], ("name".into(), Value::Scalar("m".into())));
            let inputs = c[2].1.items();
            assert_eq!(inputs[0][0], ("name".into(), Value::Scalar("x".into())));
            assert_eq!(inputs[0][2].1, Value::List(vec![Value::Scalar("-1".into()), Value::Scalar("4".into())]));
        }

        #[test]
        fn refuses_broken_text() {
            assert!(parse("input [ { name: \"x\" ").is_err());
            assert!(parse("name: \"unterminated").is_err());
        }
    }
}
