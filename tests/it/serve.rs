//! `mirador serve` driven by real clients: Triton's Python client (JSON and binary tensors), curl,
//! and raw HTTP. Predictions are compared with Python onnxruntime's goldens, never with numbers
//! Mirador produced.

use std::process::Command;

use serde_json::{Value, json};

use crate::common::server::{Server, run_python};
use crate::common::{MODELS, Table, assert_matches_golden, golden, read_text, repo};

/// Every sample model, served under its file's stem.
fn all_models() -> Vec<String> {
    MODELS.iter().flat_map(|m| ["--model".to_string(), format!("sample-models/{m}.onnx")]).collect()
}

fn start_all(extra: &[&str]) -> Server {
    let mut args = all_models();
    args.extend(extra.iter().map(|s| s.to_string()));
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    Server::start(&refs)
}

#[test]
fn triton_client_json_and_binary_match_python_onnxruntime_for_every_model() {
    let server = start_all(&[]);
    let dir = tempfile::tempdir().unwrap();
    for model in MODELS {
        for mode in ["json", "binary"] {
            for form in ["tensor", "columns"] {
                let out = dir.path().join(format!("{model}-{mode}-{form}.csv"));
                let args: Vec<String> = [
                    "--url",
                    &server.address(),
                    "--model",
                    model,
                    "--data",
                    "sample-data/churn_current.csv",
                    "--mode",
                    mode,
                    "--form",
                    form,
                    "--out",
                    &out.display().to_string(),
                ]
                .iter()
                .map(|s| s.to_string())
                .collect();
                run_python(&repo("tests/serve/triton_client.py"), &args);
                assert_matches_golden(&read_text(&out), &golden(model), &format!("tritonclient {model} {mode} {form}"));
            }
        }
    }
}

/// The first `n` rows of the current sample data, as text.
fn current_rows(n: usize) -> Table {
    let all = read_text(&repo("sample-data/churn_current.csv"));
    Table { columns: all.columns.clone(), cells: all.cells.iter().map(|c| c[..n].to_vec()).collect() }
}

/// A JSON value for a text cell of a V2 `datatype`.
fn value(datatype: &str, cell: &str) -> Value {
    match datatype {
        "BYTES" => json!(cell),
        _ if cell.is_empty() => Value::Null,
        "INT64" | "INT32" => json!(cell.parse::<i64>().unwrap()),
        _ => json!(cell.parse::<f64>().unwrap()),
    }
}

/// A V2 request for `rows` in the model's tensor form, built from its metadata as a client would.
fn v2_request(metadata: &Value, rows: &Table) -> Value {
    let n = rows.rows();
    let packed = &metadata["parameters"]["input_columns"];
    let inputs: Vec<Value> = metadata["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|input| {
            let name = input["name"].as_str().unwrap();
            let datatype = input["datatype"].as_str().unwrap();
            let columns: Vec<String> = match packed.get(name) {
                Some(cols) => cols.as_array().unwrap().iter().map(|c| c.as_str().unwrap().to_string()).collect(),
                None => vec![name.to_string()],
            };
            let data: Vec<Vec<Value>> =
                (0..n).map(|r| columns.iter().map(|c| value(datatype, &rows.column(c)[r])).collect()).collect();
            json!({"name": name, "datatype": datatype, "shape": [n, columns.len()], "data": data})
        })
        .collect();
    json!({"id": "curl-1", "inputs": inputs})
}

/// POST `body` to `url` with curl (`.ci/run` installs it); where curl is missing, with the tests'
/// own HTTP client, saying so.
fn curl(url: &str, body: &str) -> Value {
    use std::io::Write;
    let spawned = Command::new("curl")
        .args([
            "-sS",
            "--fail-with-body",
            "-X",
            "POST",
            "-H",
            "Content-Type: application/json",
            "--data-binary",
            "@-",
            url,
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn();
    let mut child = match spawned {
        Ok(child) => child,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            assert!(
                std::env::var_os("MIRADOR_REQUIRE_SERVER_TOOLS").is_none(),
                "curl is required here (apt-get install curl)"
            );
            eprintln!("curl is not installed here: this request went through the tests' own HTTP client");
            let (port, path) = url.trim_start_matches("http://127.0.0.1:").split_once('/').unwrap();
            let reply = crate::common::server::request(
                port.parse().unwrap(),
                "POST",
                &format!("/{path}"),
                &[],
                body.as_bytes(),
            );
            assert_eq!(reply.status, 200, "{}", reply.text());
            return reply.json();
        }
        Err(e) => panic!("curl: {e}"),
    };
    child.stdin.take().unwrap().write_all(body.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "curl {url} failed: {}", String::from_utf8_lossy(&out.stdout));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Check a response's outputs against the golden's first rows.
fn assert_outputs_match(model: &str, outputs: &Value, rows: usize) {
    let gold = golden(model);
    let first = &outputs[0];
    if gold.columns.iter().any(|c| c == "label") {
        let labels: Vec<String> =
            first["data"].as_array().unwrap().iter().map(|v| v.to_string().trim_matches('"').to_string()).collect();
        assert_eq!(labels, gold.column("label")[..rows], "{model}: labels");
        let probs: Vec<f64> = outputs[1]["data"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
        let k = gold.columns.len() - 2;
        assert_eq!(outputs[1]["shape"], json!([rows, k]));
        for (j, col) in gold.columns[2..].iter().enumerate() {
            for r in 0..rows {
                let want = gold.floats(col)[r];
                // FP32 outputs are written in their shortest exact form: compare as float32.
                assert_eq!(probs[r * k + j] as f32, want as f32, "{model}: {col} row {}", r + 1);
            }
        }
    } else {
        let values: Vec<f64> = first["data"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
        for (r, want) in gold.floats("prediction")[..rows].iter().enumerate() {
            assert_eq!(values[r] as f32, *want as f32, "{model}: row {}", r + 1);
        }
    }
}

#[test]
fn curl_v2_and_v1_requests_match_python_onnxruntime() {
    let server = start_all(&[]);
    let rows = current_rows(40);
    for model in MODELS {
        let metadata = server.get(&format!("/v2/models/{model}")).json();
        let base = format!("http://{}", server.address());
        let answer = curl(&format!("{base}/v2/models/{model}/infer"), &v2_request(&metadata, &rows).to_string());
        assert_eq!(answer["id"], "curl-1", "the id is echoed");
        assert_eq!(answer["model_name"], model);
        assert_outputs_match(model, &answer["outputs"], rows.rows());
        // The same through a version path, asking for one output only.
        let mut one = v2_request(&metadata, &rows);
        let first_output = metadata["outputs"][0]["name"].clone();
        one["outputs"] = json!([{"name": first_output}]);
        let answer = curl(&format!("{base}/v2/models/{model}/versions/1/infer"), &one.to_string());
        assert_eq!(answer["outputs"].as_array().unwrap().len(), 1, "requested outputs are honoured");
        assert_eq!(answer["outputs"][0]["name"], first_output);

        // KServe V1: one object per row.
        let columns = metadata["parameters"]["columns"].as_array().unwrap();
        let instances: Vec<Value> = (0..rows.rows())
            .map(|r| {
                let mut obj = serde_json::Map::new();
                for c in columns {
                    let c = c.as_str().unwrap();
                    let cell = &rows.column(c)[r];
                    let v = if cell.is_empty() {
                        Value::Null
                    } else {
                        cell.parse::<f64>().map_or_else(|_| json!(cell), |x| json!(x))
                    };
                    obj.insert(c.to_string(), v);
                }
                Value::Object(obj)
            })
            .collect();
        let answer = curl(&format!("{base}/v1/models/{model}:predict"), &json!({ "instances": instances }).to_string());
        let gold = golden(model);
        let predictions = answer["predictions"].as_array().unwrap();
        assert_eq!(predictions.len(), rows.rows());
        if gold.columns.iter().any(|c| c == "label") {
            let labels: Vec<String> = predictions.iter().map(|v| v.to_string().trim_matches('"').to_string()).collect();
            assert_eq!(labels, gold.column("label")[..rows.rows()], "{model}: V1 labels");
            let p1 = gold.floats(&gold.columns[3]);
            for (r, p) in answer["probabilities"].as_array().unwrap().iter().enumerate() {
                assert!(
                    (p[1].as_f64().unwrap() - p1[r]).abs() <= crate::common::TOLERANCE,
                    "{model}: V1 row {}",
                    r + 1
                );
            }
        } else {
            for (r, p) in predictions.iter().enumerate() {
                let want = gold.floats("prediction")[r];
                assert!((p.as_f64().unwrap() - want).abs() <= crate::common::TOLERANCE, "{model}: V1 row {}", r + 1);
            }
        }
    }
}

#[test]
fn health_metadata_and_listing_say_what_is_served() {
    let server = start_all(&[]);
    for model in MODELS {
        assert!(server.banner.contains(&format!("/v2/models/{model}")), "start-up prints each model's URL");
    }
    assert_eq!(server.get("/v2/health/live").json(), json!({"live": true}));
    assert_eq!(server.get("/v2/health/ready").json(), json!({"ready": true}));
    assert_eq!(server.get("/").json(), json!({"status": "alive"}));
    let meta = server.get("/v2").json();
    assert_eq!(meta["name"], "mirador");
    assert!(meta["extensions"].as_array().unwrap().contains(&json!("binary_tensor_data")));

    // ZipMap model: served as tensors, classes in the metadata.
    let v2 = server.get("/v2/models/churn_v2").json();
    assert_eq!(v2["outputs"][1], json!({"name": "output_probability", "datatype": "FP32", "shape": [-1, 2]}));
    assert_eq!(v2["outputs"][0]["datatype"], "INT64");
    assert_eq!(v2["parameters"]["classes"], json!(["0", "1"]));
    assert_eq!(v2["versions"], json!(["1"]));
    let spend = server.get("/v2/models/spend_regressor/versions/1").json();
    assert_eq!(spend["inputs"][0], json!({"name": "numeric", "datatype": "FP64", "shape": [-1, 4]}));
    assert_eq!(spend["parameters"]["input_columns"]["numeric"][0], "tenure_months");
    assert_eq!(server.get("/v2/models/churn_v1/ready").json(), json!({"name": "churn_v1", "ready": true}));
    assert_eq!(server.get("/v1/models").json()["models"].as_array().unwrap().len(), 4);
    assert_eq!(server.get("/v1/models/churn_numeric").json(), json!({"name": "churn_numeric", "ready": true}));

    let unknown = server.get("/v2/models/churn_v3");
    assert_eq!(unknown.status, 404);
    assert!(unknown.error().contains("churn_v3") && unknown.error().contains("did you mean"), "{}", unknown.error());
    let version = server.get("/v2/models/churn_v1/versions/7/ready");
    assert_eq!(version.status, 404);
    assert!(version.error().contains("version '7'"), "{}", version.error());
    let nowhere = server.get("/v3/anything");
    assert_eq!(nowhere.status, 404);
    assert!(nowhere.error().contains("/v2"), "{}", nowhere.error());
    assert_eq!(server.request("DELETE", "/v2/models/churn_v1", &[], b"").status, 405);
}

#[test]
fn a_bundle_is_served_after_it_verifies_and_a_tampered_one_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let bundle = dir.path().join("bundle");
    let out = Command::new(crate::common::mirador_bin())
        .current_dir(repo(""))
        .args([
            "bundle",
            "create",
            "--model",
            "sample-models/churn_v1.onnx",
            "--reference",
            "sample-data/churn_reference.csv",
            "--output",
        ])
        .arg(&bundle)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let bundle_arg = format!("served={}", bundle.display());
    let server = Server::start(&["--model", &bundle_arg]);
    assert!(server.banner.contains("bundle"), "{}", server.banner);
    assert_eq!(server.get("/v2/models/served/ready").status, 200);
    drop(server);

    // One byte of the model changed: refused, naming the file.
    let model = bundle.join("model.onnx");
    let mut bytes = std::fs::read(&model).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    std::fs::write(&model, bytes).unwrap();
    let out = Command::new(crate::common::mirador_bin())
        .current_dir(repo(""))
        .args(["serve", "--port", "0", "--model"])
        .arg(&bundle)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("does not verify") && err.contains("model.onnx"), "{err}");
}

/// YAML (as yaml-rust2 reads it) to JSON.
fn yaml_json(y: &yaml_rust2::Yaml) -> Value {
    use yaml_rust2::Yaml;
    match y {
        Yaml::Real(r) => json!(r.parse::<f64>().unwrap()),
        Yaml::Integer(i) => json!(i),
        Yaml::String(s) => json!(s),
        Yaml::Boolean(b) => json!(b),
        Yaml::Array(a) => Value::Array(a.iter().map(yaml_json).collect()),
        Yaml::Hash(h) => {
            Value::Object(h.iter().map(|(k, v)| (k.as_str().unwrap().to_string(), yaml_json(v))).collect())
        }
        _ => Value::Null,
    }
}

/// Check `value` against an OpenAPI schema (the subset the bundle uses: type, required,
/// properties, items, enum, oneOf, $ref); the first mismatch, with its JSON path.
fn check_schema(value: &Value, schema: &Value, doc: &Value, at: &str) -> Result<(), String> {
    if let Some(r) = schema["$ref"].as_str() {
        let name = r.rsplit('/').next().unwrap();
        return check_schema(value, &doc["components"]["schemas"][name], doc, at);
    }
    if let Some(options) = schema["oneOf"].as_array() {
        return if options.iter().any(|o| check_schema(value, o, doc, at).is_ok()) {
            Ok(())
        } else {
            Err(format!("{at}: {value} matches no oneOf"))
        };
    }
    if value.is_null() && schema["nullable"] == json!(true) {
        return Ok(());
    }
    let fits = match schema["type"].as_str() {
        Some("object") => value.is_object(),
        Some("array") => value.is_array(),
        Some("string") => value.is_string(),
        Some("integer") => value.is_i64() || value.is_u64(),
        Some("number") => value.is_number(),
        Some("boolean") => value.is_boolean(),
        _ => true,
    };
    if !fits {
        return Err(format!("{at}: {value} is not of type {}", schema["type"]));
    }
    if let Some(allowed) = schema["enum"].as_array()
        && !allowed.contains(value)
    {
        return Err(format!("{at}: {value} is not one of {allowed:?}"));
    }
    for key in schema["required"].as_array().into_iter().flatten() {
        let key = key.as_str().unwrap();
        if value.get(key).is_none() {
            return Err(format!("{at}: '{key}' is required"));
        }
    }
    if let (Some(props), Some(obj)) = (schema["properties"].as_object(), value.as_object()) {
        for (k, v) in obj {
            if let Some(s) = props.get(k) {
                check_schema(v, s, doc, &format!("{at}.{k}"))?;
            }
        }
    }
    if let (Some(items), Some(arr)) = (schema.get("items"), value.as_array()) {
        for (i, v) in arr.iter().enumerate() {
            check_schema(v, items, doc, &format!("{at}[{i}]"))?;
        }
    }
    Ok(())
}

#[test]
fn every_path_of_the_bundles_openapi_is_answered_as_documented() {
    let dir = tempfile::tempdir().unwrap();
    for model in ["churn_v2", "spend_regressor"] {
        let bundle = dir.path().join(model);
        let out = Command::new(crate::common::mirador_bin())
            .current_dir(repo(""))
            .args([
                "bundle",
                "create",
                "--model",
                &format!("sample-models/{model}.onnx"),
                "--reference",
                "sample-data/churn_reference.csv",
                "--output",
            ])
            .arg(&bundle)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let text = std::fs::read_to_string(bundle.join("openapi.yaml")).unwrap();
        let doc = yaml_json(&yaml_rust2::YamlLoader::load_from_str(&text).unwrap()[0]);
        let bundle_arg = bundle.display().to_string();
        let server = Server::start(&["--model", &bundle_arg]);
        let paths = doc["paths"].as_object().unwrap();
        assert!(paths.len() >= 14, "{} paths", paths.len());
        for (template, operations) in paths {
            for (method, op) in operations.as_object().unwrap() {
                let mut path = template.clone();
                for p in op["parameters"].as_array().into_iter().flatten() {
                    let value = p["schema"]["enum"][0].as_str().unwrap();
                    path = path.replace(&format!("{{{}}}", p["name"].as_str().unwrap()), value);
                }
                let body = op["requestBody"]["content"]["application/json"]["example"].to_string();
                let reply = if method == "post" { server.post(&path, &body) } else { server.get(&path) };
                let what = format!("{model}: {} {path}", method.to_uppercase());
                let documented = &op["responses"][reply.status.to_string()];
                assert!(documented.is_object(), "{what}: status {} is not documented: {}", reply.status, reply.text());
                assert_eq!(reply.status, 200, "{what}: the documented example is answered: {}", reply.text());
                if let Some(schema) = documented["content"].get("application/json").map(|c| &c["schema"]) {
                    assert!(reply.header("content-type").unwrap().starts_with("application/json"), "{what}");
                    check_schema(&reply.json(), schema, &doc, "$").unwrap_or_else(|e| panic!("{what}: {e}"));
                } else {
                    assert!(reply.header("content-type").unwrap().starts_with("text/plain"), "{what}");
                }
            }
        }
        // A documented error answers in the documented shape.
        let bad = server.post(&format!("/v2/models/{model}/infer"), r#"{"inputs":[]}"#);
        check_schema(&bad.json(), &json!({"$ref": "#/components/schemas/Error"}), &doc, "$").unwrap();
    }
}

#[test]
fn a_bundle_carrying_the_server_runs_as_its_image_would() {
    let dir = tempfile::tempdir().unwrap();
    let bundle = dir.path().join("bundle");
    let out = Command::new(crate::common::mirador_bin())
        .current_dir(repo(""))
        .args([
            "bundle",
            "create",
            "--model",
            "sample-models/churn_numeric.onnx",
            "--reference",
            "sample-data/churn_reference.csv",
            "--with-server",
        ])
        .arg(crate::common::mirador_bin())
        .arg("--output")
        .arg(&bundle)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let verify = Command::new(crate::common::mirador_bin()).args(["bundle", "verify"]).arg(&bundle).output().unwrap();
    let report = String::from_utf8_lossy(&verify.stdout);
    assert!(verify.status.success() && report.contains("carries the server and ONNX Runtime"), "{report}");
    // What the Dockerfile's CMD runs, with the files it copies: the carried binary and library only.
    let child = Command::new(bundle.join("bin/mirador"))
        .args(["serve", "--port", "0", "--model"])
        .arg(format!("churn_numeric={}", bundle.display()))
        .env("ORT_DYLIB_PATH", bundle.join("lib/libonnxruntime.so.1.31.1"))
        .env("MIRADOR_CACHE_DIR", dir.path().join("empty-cache"))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let server = Server::adopt(child);
    let answer = server.post("/v1/models/churn_numeric:predict", r#"{"instances":[{"tenure_months":24,"monthly_charges":33.33,"total_charges":824.3,"senior_citizen":0,"support_calls":1}]}"#);
    assert_eq!(answer.status, 200, "{}", answer.text());
    server.signal("TERM");
    assert_eq!(server.wait(std::time::Duration::from_secs(15)).0, Some(0));
}
