//! `mirador serve` under bad requests, concurrency and signals, and what `/metrics` says about it.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use serde_json::{Value, json};

use crate::common::server::{ChurnForm, Reply, Server, churn_request, promtool, try_request};
use crate::common::{golden, read_text, repo};

/// A good one-row request for churn_v1 (column form, row 1 of the current data).
const GOOD: &str = r#"{"inputs":[
  {"name":"tenure_months","shape":[1,1],"datatype":"INT64","data":[24]},
  {"name":"monthly_charges","shape":[1,1],"datatype":"FP32","data":[33.33]},
  {"name":"total_charges","shape":[1,1],"datatype":"FP32","data":[824.3]},
  {"name":"senior_citizen","shape":[1,1],"datatype":"INT64","data":[0]},
  {"name":"support_calls","shape":[1,1],"datatype":"INT64","data":[1]},
  {"name":"contract","shape":[1,1],"datatype":"BYTES","data":["One year"]},
  {"name":"internet_service","shape":[1,1],"datatype":"BYTES","data":["No"]},
  {"name":"payment_method","shape":[1,1],"datatype":"BYTES","data":["Electronic check"]},
  {"name":"paperless_billing","shape":[1,1],"datatype":"BYTES","data":["No"]}]}"#;

/// `GOOD` with one input replaced by `replacement` (a JSON object), or removed when it is null.
fn good_with(input: &str, replacement: Value) -> String {
    let mut request: Value = serde_json::from_str(GOOD).unwrap();
    let inputs = request["inputs"].as_array_mut().unwrap();
    let i = inputs.iter().position(|x| x["name"] == input).unwrap();
    if replacement.is_null() {
        inputs.remove(i);
    } else {
        inputs[i] = replacement;
    }
    request.to_string()
}

struct Case {
    what: &'static str,
    path: String,
    headers: Vec<(&'static str, String)>,
    body: Vec<u8>,
    status: u16,
    says: Vec<&'static str>,
}

fn case(what: &'static str, body: impl Into<Vec<u8>>, status: u16, says: &[&'static str]) -> Case {
    Case {
        what,
        path: "/v2/models/churn_v1/infer".into(),
        headers: Vec::new(),
        body: body.into(),
        status,
        says: says.to_vec(),
    }
}

/// A binary-extension request: JSON header of `json_len` bytes (as claimed), then `tail`.
fn binary(what: &'static str, json: &str, claimed_len: Option<usize>, tail: &[u8], says: &[&'static str]) -> Case {
    let mut body = json.as_bytes().to_vec();
    body.extend_from_slice(tail);
    let len = claimed_len.unwrap_or(json.len()).to_string();
    Case { headers: vec![("Inference-Header-Content-Length", len)], ..case(what, body, 400, says) }
}

fn bad_cases() -> Vec<Case> {
    let tenure = |data: Value, datatype: &str, shape: Value| json!({"name":"tenure_months","shape":shape,"datatype":datatype,"data":data});
    let contract_bin =
        r#"{"inputs":[{"name":"contract","shape":[1,1],"datatype":"BYTES","parameters":{"binary_data_size":9}}]}"#;
    let many_rows: Vec<i64> = vec![1; 5000];
    let mut cases = vec![
        case("malformed JSON", r#"{"inputs": [ {"name": "#, 400, &["not valid JSON"]),
        case("not an object", "[1, 2, 3]", 400, &["V2 inference format"]),
        case("no inputs field", "{}", 400, &["inputs"]),
        case("empty inputs", r#"{"inputs":[]}"#, 400, &["no inputs"]),
        case("non-UTF-8 body", vec![b'{', 0xff, 0xfe, b'}'], 400, &["not valid JSON"]),
        case(
            "unknown datatype",
            good_with("tenure_months", tenure(json!([24]), "FLOAT", json!([1, 1]))),
            400,
            &["tenure_months", "FLOAT", "V2 datatypes"],
        ),
        case(
            "shape and data disagree",
            good_with("tenure_months", tenure(json!([24, 25]), "INT64", json!([1, 1]))),
            400,
            &["tenure_months", "holds 1 values", "has 2"],
        ),
        case(
            "negative dimension",
            good_with("tenure_months", tenure(json!([24]), "INT64", json!([-1, 1]))),
            400,
            &["actual sizes"],
        ),
        case(
            "three dimensions",
            good_with("tenure_months", tenure(json!([24]), "INT64", json!([1, 1, 1]))),
            400,
            &["[rows]"],
        ),
        case("missing input", good_with("tenure_months", Value::Null), 400, &["lacks a column", "tenure_months"]),
        case(
            "unknown input",
            good_with("tenure_months", json!({"name":"tenure_month","shape":[1,1],"datatype":"INT64","data":[24]})),
            400,
            &["tenure_month'", "did you mean 'tenure_months'"],
        ),
        case(
            "text in a numeric input",
            good_with("tenure_months", tenure(json!(["two years"]), "INT64", json!([1, 1]))),
            400,
            &["tenure_months", "two years", "row 1", "whole number"],
        ),
        case(
            "NaN where an integer is needed",
            good_with("tenure_months", tenure(json!(["NAN_PLACEHOLDER"]), "INT64", json!([1, 1])))
                .replace("\"NAN_PLACEHOLDER\"", "NaN"),
            400,
            &["tenure_months", "NaN", "row 1", "missing"],
        ),
        case(
            "a fraction where an integer is needed",
            good_with("tenure_months", tenure(json!([2.5]), "INT64", json!([1, 1]))),
            400,
            &["2.5", "row 1"],
        ),
        case(
            "FP32 text where an integer is needed",
            good_with("tenure_months", tenure(json!([2.5]), "FP32", json!([1, 1]))),
            400,
            &["tenure_months", "2.5", "row 1"],
        ),
        case(
            "missing text",
            good_with("contract", json!({"name":"contract","shape":[1,1],"datatype":"BYTES","data":[null]})),
            400,
            &["contract", "row 1", "missing value"],
        ),
        case(
            "number in a BYTES input",
            good_with("contract", json!({"name":"contract","shape":[1,1],"datatype":"BYTES","data":[3]})),
            400,
            &["contract", "row 1", "JSON strings"],
        ),
        case(
            "FP16 as JSON",
            good_with(
                "monthly_charges",
                json!({"name":"monthly_charges","shape":[1,1],"datatype":"FP16","data":[1.0]}),
            ),
            400,
            &["FP16", "binary"],
        ),
        case(
            "rows differ between inputs",
            good_with("tenure_months", tenure(json!([24, 25]), "INT64", json!([2, 1]))),
            400,
            &["has 2", "same rows"],
        ),
        case(
            "input given twice",
            GOOD.replacen(
                r#"{"name":"support_calls""#,
                r#"{"name":"tenure_months","shape":[1,1],"datatype":"INT64","data":[1]},{"name":"support_calls""#,
                1,
            ),
            400,
            &["tenure_months", "twice"],
        ),
        case(
            "input without data",
            good_with("tenure_months", json!({"name":"tenure_months","shape":[1,1],"datatype":"INT64"})),
            400,
            &["tenure_months", "no data"],
        ),
        case(
            "unknown output asked for",
            GOOD.replacen("{\"inputs\"", "{\"outputs\":[{\"name\":\"probs\"}],\"inputs\"", 1),
            400,
            &["no output 'probs'", "probabilities"],
        ),
        case(
            "id that is not text",
            GOOD.replacen("{\"inputs\"", "{\"id\":42,\"inputs\"", 1),
            400,
            &["V2 inference format"],
        ),
        binary("binary header longer than the body", GOOD, Some(1_000_000), b"", &["1000000 bytes", "only"]),
        binary("binary header that is not a number", GOOD, None, b"", &[]),
        binary("binary size beyond the body", contract_bin, None, b"\x08\0\0\0One", &["binary_data_size 9", "only 7"]),
        binary(
            "binary bytes nobody claims",
            contract_bin,
            None,
            b"\x05\0\0\0abcdeXYZW",
            &["4 binary bytes", "no input"],
        ),
        binary(
            "BYTES element longer than its bytes",
            contract_bin,
            None,
            b"\x50\0\0\0abcde",
            &["says it has 80 bytes"],
        ),
        binary("BYTES element not UTF-8", contract_bin, None, b"\x05\0\0\0ab\xffde", &["not UTF-8"]),
        Case {
            what: "rows over the limit",
            ..case(
                "",
                good_with("tenure_months", tenure(json!(many_rows), "INT64", json!([5000, 1]))),
                413,
                &["5000 rows", "at most 1000"],
            )
        },
        Case {
            what: "body over the limit",
            ..case("", vec![b' '; 300_000], 413, &["over this server's limit", "max_body_bytes"])
        },
        Case {
            what: "unknown model",
            path: "/v2/models/churn_v9/infer".into(),
            ..case("", GOOD, 404, &["churn_v9", "served:"])
        },
        Case {
            what: "unknown version",
            path: "/v2/models/churn_v1/versions/3/infer".into(),
            ..case("", GOOD, 404, &["version '3'"])
        },
        Case {
            what: "V1 instance that is not an object",
            path: "/v1/models/churn_v1:predict".into(),
            ..case("", r#"{"instances":[7]}"#, 400, &["instance 1", "a number"])
        },
        Case {
            what: "V1 without instances",
            path: "/v1/models/churn_v1:predict".into(),
            ..case("", r#"{"rows":[]}"#, 400, &["instances"])
        },
        Case {
            what: "V1 instance lacking a column",
            path: "/v1/models/churn_v1:predict".into(),
            ..case("", r#"{"instances":[{"tenure_months":3}]}"#, 400, &["lacks columns", "monthly_charges"])
        },
    ];
    // The header that is not a number: its status is 400 and it names the header.
    let header_case = cases.iter_mut().find(|c| c.what == "binary header that is not a number").unwrap();
    header_case.headers = vec![("Inference-Header-Content-Length", "twelve".into())];
    header_case.says = vec!["Inference-Header-Content-Length", "twelve"];
    cases
}

#[test]
fn bad_requests_get_the_right_status_and_a_message_and_the_server_answers_the_next() {
    let server =
        Server::start(&["--model", "sample-models/churn_v1.onnx", "--max-rows", "1000", "--max-body-bytes", "200000"]);
    let cases = bad_cases();
    assert!(cases.len() >= 25, "{} cases", cases.len());
    for c in &cases {
        let headers: Vec<(&str, &str)> = c.headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let reply = server.request("POST", &c.path, &headers, &c.body);
        assert_eq!(reply.status, c.status, "{}: {}", c.what, reply.text());
        let error = reply.error();
        for fragment in &c.says {
            assert!(
                error.to_lowercase().contains(&fragment.to_lowercase()),
                "{}: '{fragment}' not in: {error}",
                c.what
            );
        }
        let next = server.post("/v2/models/churn_v1/infer", GOOD);
        assert_eq!(next.status, 200, "after {}: {}", c.what, next.text());
        assert_eq!(next.json()["outputs"][0]["data"], json!([golden_label(0)]), "after {}", c.what);
    }
}

fn golden_label(row: usize) -> i64 {
    golden("churn_v1").column("label")[row].parse().unwrap()
}

/// A V2 request for churn_v1 with the current data's rows `rows` (column form, `[rows, 1]`).
fn request_for(current: &crate::common::Table, rows: &[usize]) -> String {
    churn_request(current, rows, ChurnForm { two_dim: true, ..ChurnForm::default() })
}

#[test]
fn concurrent_clients_get_exactly_their_own_rows_back_under_dynamic_batching() {
    let server =
        Server::start(&["--model", "sample-models/churn_v1.onnx", "--batch-delay-us", "3000", "--workers", "1"]);
    let current = Arc::new(read_text(&repo("sample-data/churn_current.csv")));
    let gold = Arc::new(golden("churn_v1"));
    let port = server.port;
    let threads: Vec<_> = (0..16)
        .map(|t| {
            let (current, gold) = (Arc::clone(&current), Arc::clone(&gold));
            std::thread::Builder::new()
                .name(format!("client-{t}"))
                .spawn(move || {
                    let mut seed = 0x9e37_79b9_u64.wrapping_mul(t + 1);
                    for _ in 0..25 {
                        seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
                        let n = 1 + (seed >> 60) as usize % 7;
                        let rows: Vec<usize> =
                            (0..n).map(|i| ((seed >> 20) as usize + i * 389) % current.rows()).collect();
                        let reply = try_request(
                            port,
                            "POST",
                            "/v2/models/churn_v1/infer",
                            &[],
                            request_for(&current, &rows).as_bytes(),
                        )
                        .unwrap();
                        assert_eq!(reply.status, 200, "{}", reply.text());
                        let answer = reply.json();
                        let labels = answer["outputs"][0]["data"].as_array().unwrap();
                        let probs = answer["outputs"][1]["data"].as_array().unwrap();
                        assert_eq!(labels.len(), n);
                        for (i, &r) in rows.iter().enumerate() {
                            assert_eq!(labels[i].to_string(), gold.column("label")[r], "thread {t}: row {r}");
                            // Within float32 rounding: a row's place in a batch can move it an ulp or two.
                            let p1 = probs[2 * i + 1].as_f64().unwrap();
                            assert!((p1 - gold.floats("p_1")[r]).abs() <= 1e-6, "thread {t}: row {r}: {p1}");
                        }
                    }
                })
                .unwrap()
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let metrics = server.get("/metrics").text();
    let batches = sample(&metrics, "mirador_inference_batch_rows_count", r#"model="churn_v1""#);
    let rows = sample(&metrics, "mirador_inference_batch_rows_sum", r#"model="churn_v1""#);
    let requests = sample(&metrics, "mirador_inference_requests_total", r#"status="200""#);
    assert_eq!(requests, 400.0);
    assert!(batches < requests, "requests were coalesced: {batches} batches for {requests} requests");
    assert_eq!(rows, sample(&metrics, "mirador_inference_rows_total", r#"model="churn_v1""#), "every row scored once");
}

/// The value of the sample `name{…}` whose labels contain `labels`.
fn sample(text: &str, name: &str, labels: &str) -> f64 {
    text.lines()
        .find(|l| l.starts_with(&format!("{name}{{")) && l.contains(labels))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no {name} with {labels} in:\n{text}"))
}

#[test]
fn metrics_parse_as_prometheus_text_and_count_what_was_sent() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log");
    let log_arg = log.display().to_string();
    let server = Server::start(&[
        "--model",
        "sample-models/churn_v1.onnx",
        "--model",
        "sample-models/spend_regressor.onnx",
        "--log-dir",
        &log_arg,
    ]);
    let current = read_text(&repo("sample-data/churn_current.csv"));
    for rows in [[0, 1], [2, 3], [4, 5]] {
        assert_eq!(server.post("/v2/models/churn_v1/infer", &request_for(&current, &rows)).status, 200);
    }
    for _ in 0..2 {
        assert_eq!(server.post("/v2/models/churn_v1/infer", "{").status, 400);
    }
    assert_eq!(server.post("/v2/models/nope/infer", GOOD).status, 404);

    let text = server.get("/metrics");
    assert!(text.header("content-type").unwrap().starts_with("text/plain; version=0.0.4"));
    let text = text.text();
    assert_eq!(sample(&text, "mirador_inference_requests_total", r#"model="churn_v1",version="1",status="200""#), 3.0);
    assert_eq!(sample(&text, "mirador_inference_requests_total", r#"model="churn_v1",version="1",status="400""#), 2.0);
    assert_eq!(sample(&text, "mirador_inference_requests_total", r#"model="",version="",status="404""#), 1.0);
    assert_eq!(sample(&text, "mirador_inference_rows_total", r#"model="churn_v1""#), 6.0);
    assert_eq!(sample(&text, "mirador_inference_request_duration_seconds_count", r#"model="churn_v1""#), 3.0);
    assert_eq!(
        sample(&text, "mirador_inference_request_duration_seconds_bucket", r#"le="+Inf",model="churn_v1""#),
        3.0
    );
    assert!(text.contains(r#"le="0.0005""#), "sub-millisecond buckets");
    assert_eq!(sample(&text, "mirador_model_ready", r#"model="spend_regressor""#), 1.0);
    assert_eq!(sample(&text, "mirador_build_info", "version="), 1.0);
    assert_eq!(sample(&text, "mirador_inference_requests_in_flight", r#"model="churn_v1""#), 0.0);
    // The log's writer runs apart: its count reaches the rows soon after.
    let mut written = 0.0;
    for _ in 0..100 {
        written = server
            .get("/metrics")
            .text()
            .lines()
            .find(|l| l.starts_with("mirador_prediction_log_rows_written_total"))
            .unwrap()
            .rsplit(' ')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        if written == 6.0 {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(written, 6.0);
    assert_exposition_format(&text);

    // Prometheus asks for OpenMetrics and gets it.
    let open = server.request("GET", "/metrics", &[("Accept", "application/openmetrics-text;version=1.0.0")], b"");
    assert!(open.header("content-type").unwrap().starts_with("application/openmetrics-text"));
    assert!(open.text().ends_with("# EOF\n"));

    // .ci/run installs Prometheus' promtool and sets MIRADOR_REQUIRE_SERVER_TOOLS, so CI always
    // runs this part (the format checks above run everywhere).
    if let Some(out) = promtool(&["check", "metrics"], &text) {
        assert!(out.status.success(), "promtool check metrics: {}", String::from_utf8_lossy(&out.stderr));
    }
}

/// The classic text format, line by line: `# HELP` / `# TYPE` before a family's samples, sample
/// names valid and belonging to the family typed just before, every value a number.
fn assert_exposition_format(text: &str) {
    let mut family = String::new();
    let mut kind = String::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# HELP ") {
            family = rest.split(' ').next().unwrap().to_string();
            continue;
        }
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, k) = rest.split_once(' ').unwrap();
            assert_eq!(name, family, "TYPE follows its HELP");
            kind = k.to_string();
            continue;
        }
        let (name_labels, value) = line.rsplit_once(' ').unwrap_or_else(|| panic!("not a sample: {line}"));
        let name = name_labels.split('{').next().unwrap();
        assert!(name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') && name.starts_with("mirador_"), "{line}");
        let belongs = match kind.as_str() {
            "histogram" => ["_bucket", "_sum", "_count"].iter().any(|s| name == format!("{family}{s}")),
            _ => name == family,
        };
        assert!(belongs, "{name} under # TYPE {family} {kind}");
        assert!(value.parse::<f64>().is_ok() || value == "+Inf", "{line}");
        if kind == "counter" {
            assert!(name.ends_with("_total"), "{name}");
        }
    }
}

#[test]
fn sigterm_during_load_finishes_in_flight_requests_and_leaves_whole_log_segments() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log");
    let log_arg = log.display().to_string();
    let server =
        Server::start(&["--model", "sample-models/churn_v1.onnx", "--log-dir", &log_arg, "--log-segment-rows", "300"]);
    let current = Arc::new(read_text(&repo("sample-data/churn_current.csv")));
    let port = server.port;
    let answered = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let clients: Vec<_> = (0..6)
        .map(|t| {
            let (current, answered, stop) = (Arc::clone(&current), Arc::clone(&answered), Arc::clone(&stop));
            std::thread::Builder::new()
                .name(format!("load-{t}"))
                .spawn(move || {
                    let mut bad: Vec<String> = Vec::new();
                    for i in 0.. {
                        if stop.load(Ordering::SeqCst) {
                            break;
                        }
                        let rows: Vec<usize> = (0..5).map(|k| (t * 500 + i * 5 + k) % 3000).collect();
                        match try_request(
                            port,
                            "POST",
                            "/v2/models/churn_v1/infer",
                            &[],
                            request_for(&current, &rows).as_bytes(),
                        ) {
                            Ok(Reply { status: 200, body, .. }) => {
                                let v: Value = serde_json::from_slice(&body).expect("a whole answer");
                                assert_eq!(v["outputs"][0]["data"].as_array().unwrap().len(), 5);
                                answered.fetch_add(1, Ordering::SeqCst);
                            }
                            // Stopping: refused at the door, never half-answered.
                            Ok(Reply { status: 503, .. }) => break,
                            Ok(other) => bad.push(format!("{} {}", other.status, other.text())),
                            Err(_) => break,
                        }
                    }
                    bad
                })
                .unwrap()
        })
        .collect();
    std::thread::sleep(Duration::from_millis(1500));
    let before = answered.load(Ordering::SeqCst);
    assert!(before > 0, "the load ran");
    server.signal("TERM");
    let (code, stderr) = server.wait(Duration::from_secs(20));
    stop.store(true, Ordering::SeqCst);
    for c in clients {
        let bad = c.join().unwrap();
        assert!(bad.is_empty(), "unexpected answers: {bad:?}");
    }
    assert_eq!(code, Some(0), "a clean stop exits 0: {stderr}");
    assert!(stderr.contains("SIGTERM"), "{stderr}");

    // Every answered row is in the log, in whole Parquet segments; nothing half-written remains.
    let folder = log.join("churn_v1");
    let names: Vec<String> =
        std::fs::read_dir(&folder).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    assert!(names.iter().all(|n| n.ends_with(".parquet") && !n.starts_with('.')), "{names:?}");
    assert!(names.len() > 1, "segments rotated by size: {names:?}");
    let logged = mirador::core::read_table(&folder, &mirador::core::ReadPlan::default()).unwrap();
    assert_eq!(logged.height(), answered.load(Ordering::SeqCst) * 5, "every answered row was logged");
    for column in
        ["time", "request_id", "row", "model", "version", "latency_ms", "tenure_months", "contract", "label", "p_1"]
    {
        assert!(logged.column(column).is_ok(), "the log has {column}");
    }
}

#[test]
fn the_prediction_log_is_current_data_for_drift_with_the_same_scores_as_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log");
    let log_arg = log.display().to_string();
    let server = Server::start(&["--model", "sample-models/churn_v1.onnx", "--log-dir", &log_arg]);
    let current = read_text(&repo("sample-data/churn_current.csv"));
    for start in (0..current.rows()).step_by(250) {
        let rows: Vec<usize> = (start..(start + 250).min(current.rows())).collect();
        assert_eq!(server.post("/v2/models/churn_v1/infer", &request_for(&current, &rows)).status, 200);
    }
    server.signal("INT");
    assert_eq!(server.wait(Duration::from_secs(15)).0, Some(0));
    let drift = |current: &std::path::Path| -> Value {
        let out = std::process::Command::new(crate::common::mirador_bin())
            .current_dir(repo(""))
            .args(["drift", "--reference", "sample-data/churn_reference.csv", "--json", "--current"])
            .arg(current)
            .output()
            .unwrap();
        serde_json::from_slice(&out.stdout).unwrap_or_else(|_| panic!("{}", String::from_utf8_lossy(&out.stderr)))
    };
    let from_log = drift(&log.join("churn_v1"));
    let from_file = drift(&repo("sample-data/churn_current.csv"));
    let columns = from_log["columns"].as_array().unwrap();
    assert_eq!(columns.len(), 9, "the model's nine input columns (meta and output columns are not in the reference)");
    for c in columns {
        let name = c["column"].as_str().unwrap();
        let same = from_file["columns"].as_array().unwrap().iter().find(|f| f["column"] == name).unwrap();
        assert_eq!(c["test"], same["test"], "{name}");
        assert_eq!(c["current_rows"], same["current_rows"], "{name}");
        assert_eq!(c["current_missing"], same["current_missing"], "{name}: missing values stay missing in the log");
        let (a, b) = (c["score"].as_f64().unwrap(), same["score"].as_f64().unwrap());
        assert!((a - b).abs() <= 1e-12, "{name}: {a} from the log, {b} from the file");
    }
}
