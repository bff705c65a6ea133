//! YAML for the bundle's configs: written from JSON values, read back to check them.

use serde_json::Value;
use yaml_rust2::{Yaml, YamlEmitter, YamlLoader};

use crate::core::error::{Error, Result};

/// JSON value → YAML text.
pub fn to_yaml(value: &Value) -> Result<String> {
    let mut out = String::new();
    YamlEmitter::new(&mut out)
        .dump(&json_to_yaml(value))
        .map_err(|e| Error::Invalid(format!("cannot write YAML: {e}")))?;
    out.push('\n');
    Ok(out)
}

fn json_to_yaml(value: &Value) -> Yaml {
    match value {
        Value::Null => Yaml::Null,
        Value::Bool(b) => Yaml::Boolean(*b),
        Value::Number(n) => match n.as_i64() {
            Some(i) => Yaml::Integer(i),
            None => Yaml::Real(n.to_string()),
        },
        Value::String(s) => Yaml::String(s.clone()),
        Value::Array(a) => Yaml::Array(a.iter().map(json_to_yaml).collect()),
        Value::Object(o) => Yaml::Hash(o.iter().map(|(k, v)| (Yaml::String(k.clone()), json_to_yaml(v))).collect()),
    }
}

/// Parse YAML text (one document).
pub fn parse_yaml(text: &str) -> Result<Yaml> {
    let mut docs = YamlLoader::load_from_str(text).map_err(|e| Error::Invalid(format!("not valid YAML: {e}")))?;
    if docs.len() != 1 {
        return Err(Error::Invalid(format!("expected one YAML document, found {}", docs.len())));
    }
    Ok(docs.remove(0))
}

/// The YAML file `rel` of the bundle, parsed.
pub(super) fn read_yaml(dir: &std::path::Path, rel: &str) -> std::result::Result<Yaml, String> {
    parse_yaml(&super::files::read(dir, rel)?).map_err(|e| format!("{rel}: {e}"))
}
