//! Deployment strategies on a real `mirador serve` over real HTTP: the canary's share and
//! stickiness, a shadow that fails or sleeps, a bad challenger aborted by its gate (the rollback in
//! the registry's history), a good one promoted, replay, the bundle's PromQL, SIGHUP. Routes that
//! follow a registry stage are in `follow.rs`.
//!
//! Expected answers come from outside the code under test: Python onnxruntime's goldens for churn_v1
//! (within 1e-5: ONNX Runtime's float32 kernels round a row scored alone an ulp or two away from the
//! same row in the golden's whole-file batch);
//! for `constant_class` (every coefficient zero, intercepts (3, −3)) the logistic function's value
//! 1 / (1 + e³); shares from the binomial distribution.

use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::common::rollout::*;
use crate::common::server::{Server, promtool};
use crate::common::{TOLERANCE, golden, mirador_bin, repo};

/// P(churn) of the constant challenger: sigmoid(−3).
fn constant_p1() -> f64 {
    1.0 / (1.0 + 3f64.exp())
}

/// Share within `p ± 4σ` of `n` draws.
fn assert_binomial(hits: usize, n: usize, p: f64, what: &str) {
    let sigma = (n as f64 * p * (1.0 - p)).sqrt();
    let expected = n as f64 * p;
    assert!(
        (hits as f64 - expected).abs() <= 4.0 * sigma,
        "{what}: {hits} of {n}, expected {expected:.0} ± {:.0} (4σ)",
        4.0 * sigma
    );
}

#[test]
fn the_canary_gets_its_share_and_a_customer_keeps_their_version_across_requests_and_weights() {
    let server = Server::start(&[
        "--route",
        "churn",
        "--champion",
        "sample-models/churn_v1.onnx",
        "--challenger",
        "tests/fixtures/constant_class.onnx",
        "--strategy",
        "canary:20@1h",
        "--sticky-key",
        "customer_id",
        "--admin-token",
        TOKEN,
    ]);
    assert!(server.banner.contains("canary:20@1h with challenger version constant_class"), "{}", server.banner);
    let data = current();
    let gold = golden("churn_v1");
    // 600 customers, one request each, the key as the request parameter.
    let n = 600;
    let mut first: Vec<String> = Vec::with_capacity(n);
    for i in 0..n {
        let answer = infer(&server, "churn", &request_for(&data, &[i], false, Some(&data.column("customer_id")[i])));
        let version = answer["model_version"].as_str().unwrap().to_string();
        let p1 = answer["outputs"][1]["data"][1].as_f64().unwrap();
        match version.as_str() {
            "1" => assert!((p1 - gold.floats("p_1")[i]).abs() <= TOLERANCE, "row {i}: the champion's own answer"),
            "constant_class" => assert!((p1 - constant_p1()).abs() < 1e-6, "row {i}: {p1}"),
            other => panic!("unknown version {other}"),
        }
        first.push(version);
    }
    let in_canary = first.iter().filter(|v| *v == "constant_class").count();
    assert_binomial(in_canary, n, 0.2, "canary share at 20 %");
    // The same customers again, all in one request with the key as a column: each row keeps its
    // version, and the response says which answered each row.
    let rows: Vec<usize> = (0..n).collect();
    let answer = infer(&server, "churn", &request_for(&data, &rows, true, None));
    let per_row = answer["parameters"]["model_versions"].as_array().expect("a split request names each row's version");
    for i in 0..n {
        assert_eq!(
            per_row[i].as_str().unwrap(),
            first[i],
            "customer {} changed version",
            data.column("customer_id")[i]
        );
    }
    assert_eq!(answer["model_version"], json!("1,constant_class"));
    // Up to 50 % (from the command line): everyone in at 20 % stays in.
    let (code, out) = rollout_cli(&server, &["weight", "churn", "50"]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("canary:20@1h — champion 1 ← challenger constant_class, weight 50%, running"), "{out}");
    let mut now_in = 0;
    for (i, before) in first.iter().enumerate() {
        let answer = infer(&server, "churn", &request_for(&data, &[i], false, Some(&data.column("customer_id")[i])));
        let version = answer["model_version"].as_str().unwrap();
        if before == "constant_class" {
            assert_eq!(version, "constant_class", "customer {i} was in the canary at 20 % and left it at 50 %");
        }
        now_in += usize::from(version == "constant_class");
    }
    assert_binomial(now_in, n, 0.5, "canary share at 50 %");
    // Without a key, requests are split one by one (not sticky): about half each way.
    let unkeyed = (0..200)
        .filter(|i| {
            infer(&server, "churn", &request_for(&data, &[*i], false, None))["model_version"] == "constant_class"
        })
        .count();
    assert_binomial(unkeyed, 200, 0.5, "unkeyed requests at 50 %");
    // /admin is loopback-and-token only.
    let refused = server.request("GET", "/admin/routes", &[("Authorization", "Bearer wrong")], b"");
    assert_eq!(refused.status, 403, "{}", refused.text());
    assert!(refused.error().contains("token"), "{}", refused.text());
    // /metrics carries each arm, and Prometheus reads it.
    let metrics = server.get("/metrics").text();
    assert!(metrics.contains(r#"mirador_route_challenger_weight{model="churn"} 0.5"#), "{metrics}");
    assert!(metrics.contains(r#"mirador_route_rows_total{model="churn",arm="canary"}"#), "{metrics}");
    assert!(
        metrics.contains(r#"mirador_inference_requests_total{model="churn",version="constant_class",status="200"}"#),
        "{metrics}"
    );
    let classic = server.request("GET", "/metrics", &[("Accept", "text/plain")], b"").text();
    if let Some(out) = promtool(&["check", "metrics"], &classic) {
        assert!(out.status.success(), "promtool: {}", String::from_utf8_lossy(&out.stderr));
    }
}

#[test]
fn blue_green_switches_and_switches_back_at_once() {
    let server = Server::start(&[
        "--route",
        "churn",
        "--champion",
        "sample-models/churn_v1.onnx",
        "--challenger",
        "tests/fixtures/constant_class.onnx",
        "--strategy",
        "blue-green",
        "--admin-token",
        TOKEN,
    ]);
    let data = current();
    let versions = |server: &Server| -> Vec<String> {
        (0..30)
            .map(|i| {
                infer(server, "churn", &request_for(&data, &[i], false, None))["model_version"]
                    .as_str()
                    .unwrap()
                    .to_string()
            })
            .collect()
    };
    assert!(versions(&server).iter().all(|v| v == "1"), "blue answers first");
    assert_eq!(rollout_cli(&server, &["weight", "churn", "100"]).0, Some(0));
    assert!(versions(&server).iter().all(|v| v == "constant_class"), "green answers after the switch");
    assert_eq!(rollout_cli(&server, &["weight", "churn", "0"]).0, Some(0));
    assert!(versions(&server).iter().all(|v| v == "1"), "and blue again after switching back");
    // Both stay loaded: each answers by its version at any time.
    let pinned = infer(&server, "churn/versions/constant_class", &request_for(&data, &[0], false, None));
    assert_eq!(pinned["model_version"], json!("constant_class"));
    let (code, out) = rollout_cli(&server, &["weight", "churn", "101"]);
    assert_eq!(code, Some(1), "{out}");
    let (code, out) = Command::new(mirador_bin())
        .args([
            "rollout",
            "--server",
            &format!("http://127.0.0.1:{}", server.port),
            "--token",
            "not-the-token",
            "status",
        ])
        .output()
        .map(|o| (o.status.code(), String::from_utf8_lossy(&o.stderr).into_owned()))
        .unwrap();
    assert_eq!(code, Some(1));
    assert!(out.contains("token"), "{out}");
}

/// Median of a sample.
fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

#[test]
fn a_shadow_that_fails_or_sleeps_never_changes_an_answer_or_slows_it_beyond_noise() {
    let log = tempfile::tempdir().unwrap();
    let log_dir = log.path().to_str().unwrap();
    let plain = Server::start(&["--model", "churn=sample-models/churn_v1.onnx", "--workers", "1"]);
    let route = |challenger: &str, extra: &[&str]| {
        let mut args = vec![
            "--route",
            "churn",
            "--champion",
            "sample-models/churn_v1.onnx",
            "--challenger",
            challenger,
            "--strategy",
            "shadow@1h",
            "--workers",
            "1",
            "--admin-token",
            TOKEN,
        ];
        args.extend_from_slice(extra);
        Server::start(&args)
    };
    let slow = route("tests/fixtures/slow_v1.onnx", &["--log-dir", log_dir, "--log-segment-secs", "1", "--queue", "8"]);
    let failing = route("tests/fixtures/failing_v1.onnx", &[]);
    let data = current();
    let gold = golden("churn_v1");
    let mut times: [Vec<f64>; 3] = [Vec::new(), Vec::new(), Vec::new()];
    // Interleaved, so the machine's moods fall on all three alike.
    for i in 0..300 {
        let row = i % data.rows();
        let body = request_for(&data, &[row], false, None);
        for (k, server) in [&plain, &slow, &failing].into_iter().enumerate() {
            let started = Instant::now();
            let answer = infer(server, "churn", &body);
            times[k].push(started.elapsed().as_secs_f64() * 1e3);
            assert_eq!(answer["model_version"], json!("1"), "the champion answers");
            let p1 = answer["outputs"][1]["data"][1].as_f64().unwrap();
            assert!((p1 - gold.floats("p_1")[row]).abs() <= TOLERANCE, "row {row}: the answer is the champion's");
        }
    }
    let [p, s, f] = times.map(median);
    eprintln!("median latency: plain {p:.3} ms, slow shadow {s:.3} ms, failing shadow {f:.3} ms");
    for (what, t) in [("a slow shadow", s), ("a failing shadow", f)] {
        assert!(t <= p * 1.5 + 1.0, "{what} slowed the answers: median {t:.3} ms vs {p:.3} ms without");
    }
    // The copies run off the request path: the last ones may still be on their way when the
    // last answer arrives, so wait (boundedly) for the count to settle.
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut status = admin(&failing, "GET", "/admin/routes", "");
    while status["routes"][0]["shadow_failed"] != json!(300) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
        status = admin(&failing, "GET", "/admin/routes", "");
    }
    assert_eq!(status["routes"][0]["shadow_failed"], json!(300), "every copy failed: {status}");
    let status = admin(&slow, "GET", "/admin/routes", "");
    let r = &status["routes"][0];
    let (scored, dropped) = (r["shadow_scored"].as_u64().unwrap(), r["shadow_dropped"].as_u64().unwrap());
    assert!(scored > 0, "{status}");
    assert!(scored + dropped <= 300, "{status}");
    // The log: both answers of a mirrored request under one request id, each with its arm.
    slow.signal("TERM");
    let (code, _) = slow.wait(Duration::from_secs(30));
    assert_eq!(code, Some(0));
    let frame = mirador::core::table::read_table(log.path().join("churn"), &Default::default()).unwrap();
    let text = |c: &str| -> Vec<String> {
        let s = frame.column(c).unwrap().cast(&polars::prelude::DataType::String).unwrap();
        s.str().unwrap().iter().map(|v| v.unwrap_or_default().to_string()).collect()
    };
    let (arms, ids, versions) = (text("arm"), text("request_id"), text("version"));
    let shadow_ids: Vec<&String> = ids.iter().zip(&arms).filter(|(_, a)| *a == "shadow").map(|(i, _)| i).collect();
    assert!(!shadow_ids.is_empty(), "shadow rows are logged");
    for id in &shadow_ids {
        assert!(ids.iter().zip(&arms).any(|(i, a)| i == *id && a == "champion"), "request {id}: no champion row");
    }
    assert_eq!(arms.iter().filter(|a| *a == "champion").count(), 300);
    assert!(versions.iter().zip(&arms).all(|(v, a)| (a == "shadow") == (v == "slow_v1")), "versions by arm");
    assert!(text("sticky").iter().all(|s| s == "false"), "no key: no row is sticky");
}

#[test]
fn a_bad_challenger_is_aborted_by_its_gate_and_a_good_one_is_promoted_both_written_to_the_registry() {
    let dir = tempfile::tempdir().unwrap();
    let reg = dir.path();
    registry_with(reg, &["tests/fixtures/constant_class.onnx", "tests/fixtures/slow_v1.onnx"]);
    let reg_arg = reg.to_str().unwrap();
    let serve = |challenger: &str, gate: &str| {
        Server::start(&[
            "--registry",
            reg_arg,
            "--route",
            "churn",
            "--champion",
            "churn@production",
            "--challenger",
            challenger,
            "--strategy",
            "canary:50,100@1s",
            "--sticky-key",
            "customer_id",
            "--gate",
            gate,
            "--min-rows",
            "20",
            "--admin-token",
            TOKEN,
        ])
    };
    // Always "no churn": it agrees with a champion that rarely predicts churn on most rows, so an
    // agreement rule alone would let it through; the score distribution gives it away.
    let bad = serve("churn@2", "agreement >= 0.6; score_psi <= 0.2");
    let failed = traffic(&bad, Duration::from_secs(20), || route_state(&bad)["state"]["state"] != "running");
    assert_eq!(failed, 0);
    let state = route_state(&bad);
    assert_eq!(state["state"]["state"], "aborted", "{state}");
    assert_eq!(state["weight"], json!(0.0));
    let m = &state["measurements"][0];
    assert_eq!(m["phase"], "failed", "{state}");
    let results = m["results"].as_array().unwrap();
    assert!(results.iter().any(|r| r["metric"] == "agreement" && r["passed"] == json!(true)), "agreement held: {m}");
    assert!(results.iter().any(|r| r["metric"] == "score_psi" && r["passed"] == json!(false)), "PSI caught it: {m}");
    // After the abort every answer is the champion's.
    let data = current();
    for i in 0..20 {
        let answer = infer(&bad, "churn", &request_for(&data, &[i], true, None));
        assert_eq!(answer["model_version"], json!("1"));
    }
    drop(bad);
    let events = history(reg);
    let rollback = events
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "rollback")
        .unwrap_or_else(|| panic!("no rollback in {events}"));
    assert_eq!(
        (rollback["from"].clone(), rollback["to"].clone(), rollback["stage"].clone()),
        (json!(2), json!(1), json!("production"))
    );
    let reason = rollback["reason"].as_str().unwrap();
    assert!(reason.contains("score_psi") && reason.contains("aborted"), "{reason}");
    assert_eq!(rollback["by"], "mirador serve");

    // The same answers as the champion (slower): every step passes and it is promoted.
    let good = serve("churn@3", "agreement >= 0.99; score_psi <= 0.25; error_rate <= 0.01");
    let failed = traffic(&good, Duration::from_secs(30), || route_state(&good)["state"]["state"] != "running");
    assert_eq!(failed, 0);
    let state = route_state(&good);
    assert_eq!(state["state"]["state"], "promoted", "{state}");
    assert_eq!(state["champion"], json!("3"), "{state}");
    let answer = infer(&good, "churn", &request_for(&data, &[0], true, None));
    assert_eq!(answer["model_version"], json!("3"));
    drop(good);
    let events = history(reg);
    let last = events.as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        (last["action"].clone(), last["to"].clone(), last["stage"].clone()),
        (json!("promote"), json!(3), json!("production")),
        "{last}"
    );
}

fn replay(args: &[&str]) -> (Option<i32>, Value) {
    let out =
        Command::new(mirador_bin()).arg("replay").args(args).arg("--json").current_dir(repo("")).output().unwrap();
    let json = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!("{e}: {} {}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
    });
    (out.status.code(), json)
}

#[test]
fn replay_gives_the_known_verdicts_on_recorded_traffic() {
    // Eight weeks of traffic; weekly windows. The constant challenger never predicts churn: its
    // positive rate differs from the champion's by the champion's whole rate in the first window.
    let common = [
        "--data",
        "sample-data/churn_production_log.csv",
        "--time-col",
        "timestamp",
        "--champion",
        "sample-models/churn_v1.onnx",
        "--sticky-key",
        "customer_id",
        "--target",
        "churned",
        "--min-rows",
        "30",
    ];
    let mut bad = common.to_vec();
    bad.extend(["--challenger", "tests/fixtures/constant_class.onnx", "--strategy", "canary:10,50,100@7d"]);
    bad.extend(["--gate", "positive_rate_diff <= 0.1; latency_p99_ms <= 50"]);
    let (code, report) = replay(&bad);
    assert_eq!(code, Some(3), "{report}");
    assert_eq!(report["verdict"]["verdict"], "would_abort", "{report}");
    assert_eq!(report["windows"].as_array().unwrap().len(), 1, "aborted in the first week");
    let w = &report["windows"][0];
    assert_eq!(report["verdict"]["at"], w["end"]);
    assert_eq!(report["exposure"]["rows"], w["challenger_rows"]);
    assert!(report["exposure"]["distinct_keys"].as_u64().unwrap() > 0);
    assert_eq!(w["measurement"]["challenger"]["positive_rate"], json!(0.0));
    // The window's metrics per arm, with the change and its interval: a fall the interval is sure of.
    let change = w["changes"].as_array().unwrap().iter().find(|c| c["metric"] == "positive_rate").unwrap().clone();
    assert_eq!(change["challenger"], json!(0.0));
    assert!(change["change"].as_f64().unwrap() < 0.0 && change["interval"][1].as_f64().unwrap() < 0.0, "{change}");
    assert_eq!(report["not_measured"], json!(["latency_p99_ms <= 50"]));
    let share = w["challenger_rows"].as_f64().unwrap() / w["rows"].as_f64().unwrap();
    assert!((0.04..0.2).contains(&share), "about 10 % of the first week: {share}");
    assert_eq!(report["time_to_rollback_secs"], json!(604800.0));
    // The champion's own file as the challenger: identical answers, every step passes.
    let mut good = common.to_vec();
    good.extend(["--challenger", "sample-models/churn_v1.onnx", "--strategy", "canary:10,50,100@7d"]);
    good.extend(["--gate", "agreement >= 0.999; positive_rate_diff <= 0.1"]);
    let (code, report) = replay(&good);
    assert_eq!(code, Some(0), "{report}");
    assert_eq!(report["verdict"]["verdict"], "would_promote", "{report}");
    assert_eq!(report["windows"].as_array().unwrap().len(), 3, "three weekly steps");
    assert_eq!(report["agreement"]["churn"], json!(0.0));
    assert_eq!(report["agreement"]["kappa"], json!(1.0));
    assert_eq!(report["time_to_promote_secs"], json!(3.0 * 604800.0));
    let weights: Vec<f64> =
        report["windows"].as_array().unwrap().iter().map(|w| w["weight"].as_f64().unwrap()).collect();
    assert_eq!(weights, vec![0.1, 0.5, 1.0]);
    // A challenger that is not a replacement is refused, naming why.
    let out = Command::new(mirador_bin())
        .arg("replay")
        .args(&common[..6])
        .args(["--challenger", "sample-models/spend_regressor.onnx", "--strategy", "canary:10"])
        .current_dir(repo(""))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("do not answer alike"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn the_bundles_rollout_gate_is_valid_promql_on_series_the_server_exports() {
    let dir = tempfile::tempdir().unwrap();
    let bundle = dir.path().join("bundle");
    let out = Command::new(mirador_bin())
        .args([
            "bundle",
            "create",
            "--model",
            "sample-models/churn_v1.onnx",
            "--strategy",
            "canary:5,25,100@2m",
            "--output",
        ])
        .arg(&bundle)
        .current_dir(repo(""))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let verify =
        Command::new(mirador_bin()).args(["bundle", "verify"]).arg(&bundle).current_dir(repo("")).output().unwrap();
    let report = String::from_utf8_lossy(&verify.stdout);
    assert!(verify.status.success() && report.contains("Argo canary 5% → 25% → 100%"), "{report}");
    let analysis = std::fs::read_to_string(bundle.join("rollout/argo-analysis.yaml")).unwrap();
    let doc = &yaml_rust2::YamlLoader::load_from_str(&analysis).unwrap()[0];
    let queries: Vec<String> = doc["spec"]["metrics"]
        .as_vec()
        .unwrap()
        .iter()
        .map(|m| {
            let q = m["provider"]["prometheus"]["query"].as_str().unwrap();
            q.replace("{{args.model}}", "churn_v1").replace("{{args.version}}", "1")
        })
        .collect();
    assert_eq!(queries.len(), 2);
    // PromQL checked by Prometheus' own parser (as recording rules).
    let rules: Vec<Value> =
        queries.iter().enumerate().map(|(i, q)| json!({"record": format!("mirador:gate_{i}"), "expr": q})).collect();
    let file = dir.path().join("gate_rules.yaml");
    std::fs::write(&file, json!({"groups": [{"name": "gate", "rules": rules}]}).to_string()).unwrap();
    if let Some(out) = promtool(&["check", "rules", file.to_str().unwrap()], "") {
        assert!(
            out.status.success(),
            "promtool: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // Every series the queries use is on a live server's /metrics, with those labels.
    let server = Server::start(&["--model", "sample-models/churn_v1.onnx"]);
    infer(&server, "churn_v1", &request_for(&current(), &[0], false, None));
    let metrics = server.get("/metrics").text();
    for series in ["mirador_inference_requests_total", "mirador_inference_request_duration_seconds_bucket"] {
        assert!(queries.iter().any(|q| q.contains(series)), "{series} is queried");
        let line = metrics
            .lines()
            .find(|l| l.starts_with(series) && l.contains(r#"model="churn_v1""#) && l.contains(r#"version="1""#));
        assert!(line.is_some(), "{series} is not exported: {metrics}");
    }
}

#[test]
fn sighup_applies_a_changed_config_file_and_a_broken_one_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("serve.toml");
    let canary = r#"
        [[routes]]
        name = "churn"
        champion = "sample-models/churn_v1.onnx"
        challenger = "tests/fixtures/constant_class.onnx"
        strategy = "canary:100@1h"
    "#;
    std::fs::write(&file, canary).unwrap();
    let server = Server::start(&["--config", file.to_str().unwrap()]);
    let data = current();
    let version =
        |server: &Server| infer(server, "churn", &request_for(&data, &[0], false, None))["model_version"].clone();
    assert_eq!(version(&server), json!("constant_class"), "a 100 % canary: the challenger answers");
    // A broken file: reported, nothing changes.
    std::fs::write(&file, "[[routes]\nname = ").unwrap();
    server.signal("HUP");
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(version(&server), json!("constant_class"), "a config that does not parse changes nothing");
    // The route becomes basic on the champion, and a second model appears.
    let basic = r#"
        [[models]]
        source = "sample-models/spend_regressor.onnx"
        [[routes]]
        name = "churn"
        champion = "sample-models/churn_v1.onnx"
    "#;
    std::fs::write(&file, basic).unwrap();
    server.signal("HUP");
    let deadline = Instant::now() + Duration::from_secs(20);
    while version(&server) != json!("1") {
        assert!(Instant::now() < deadline, "the reloaded route never answered with the champion");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(server.get("/v2/models/spend_regressor/ready").status, 200, "the new model is served");
    server.signal("TERM");
    let (code, stderr) = server.wait(Duration::from_secs(30));
    assert_eq!(code, Some(0));
    assert!(stderr.contains("SIGHUP: the config was not applied, nothing changed"), "{stderr}");
    assert!(
        stderr.contains("SIGHUP: config read again: added spend_regressor (basic); changed churn (basic)"),
        "{stderr}"
    );
}
