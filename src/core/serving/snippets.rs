//! Ready-to-paste client code for a served model, built from its own inputs: a `curl` call of the
//! V2 protocol and a Python script (standard library only) of KServe V1, so a business application
//! can be wired to the server at once. The values are an example row: the first known category of
//! each text column, and 0 for numbers.

use serde_json::{Value, json};

use super::protocol::input_datatype;
use crate::core::contract::Binding;
use crate::core::model::info::{ElemType, ModelInfo};

/// An example value for `column` of type `elem`.
fn example_value(info: &ModelInfo, column: &str, elem: &ElemType) -> Value {
    match elem {
        ElemType::String => json!(info.known_categories.get(column).and_then(|c| c.first()).map_or("", String::as_str)),
        ElemType::Bool => json!(false),
        ElemType::Float32 | ElemType::Float64 => json!(0.0),
        _ => json!(0),
    }
}

/// The V2 request body for one example row, in the model's tensor form.
pub fn v2_body(info: &ModelInfo, binding: &Binding) -> Value {
    let inputs: Vec<Value> = binding
        .inputs
        .iter()
        .map(|b| {
            let data: Vec<Value> = b.columns.iter().map(|c| example_value(info, c, &b.elem)).collect();
            json!({"name": b.input, "shape": [1, b.columns.len()], "datatype": input_datatype(&b.elem).as_str(), "data": data})
        })
        .collect();
    json!({ "inputs": inputs })
}

/// One example row as column → value.
pub fn example_row(info: &ModelInfo, binding: &Binding) -> serde_json::Map<String, Value> {
    binding
        .inputs
        .iter()
        .flat_map(|b| b.columns.iter().map(move |c| (c.clone(), example_value(info, c, &b.elem))))
        .collect()
}

/// `curl` calling `POST {base}/v2/models/{name}/infer` with an example row.
pub fn curl(base: &str, name: &str, info: &ModelInfo, binding: &Binding) -> String {
    let body = v2_body(info, binding).to_string().replace('\'', "'\\''");
    format!("curl -s {base}/v2/models/{name}/infer -H 'Content-Type: application/json' -d '{body}'")
}

/// A Python script (standard library only) predicting an example row through KServe V1.
pub fn python(base: &str, name: &str, info: &ModelInfo, binding: &Binding) -> String {
    // A Python dict literal: JSON's strings and numbers read the same in Python; booleans do not.
    let fields: Vec<String> = example_row(info, binding)
        .iter()
        .map(|(k, v)| {
            let value = match v {
                Value::Bool(true) => "True".to_string(),
                Value::Bool(false) => "False".to_string(),
                other => other.to_string(),
            };
            format!("    {}: {value},", Value::from(k.as_str()))
        })
        .collect();
    let row = format!("{{\n{}\n}}", fields.join("\n"));
    format!(
        "import json\nimport urllib.request\n\nrow = {row}\nrequest = urllib.request.Request(\n    \"{base}/v1/models/{name}:predict\",\n    data=json.dumps({{\"instances\": [row]}}).encode(),\n    headers={{\"Content-Type\": \"application/json\"}},\n)\nwith urllib.request.urlopen(request) as response:\n    print(json.load(response))\n"
    )
}
