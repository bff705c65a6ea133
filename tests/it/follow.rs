//! Following a registry stage on a real `mirador serve` over real HTTP: a promotion under load
//! swaps the served version with no failed request; a new version whose errors or latency spike
//! falls back, and one whose file is corrupt is never served (the stage rolled back each time); a
//! canary or shadow route rolls a promoted version out through its gate first — a bad one is
//! aborted and the stage goes back, a good one takes over.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::common::rollout::*;
use crate::common::server::{Server, try_request};

#[test]
fn a_registry_promotion_under_load_swaps_the_served_version_with_no_failed_request() {
    let dir = tempfile::tempdir().unwrap();
    let reg = dir.path().to_path_buf();
    registry_with(&reg, &["tests/fixtures/slow_v1.onnx"]);
    let server = Arc::new(following_production(&reg, &[]));
    let stop = Arc::new(AtomicBool::new(false));
    let (failed, sent) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let data = Arc::new(current());
    let versions = Arc::new(std::sync::Mutex::new(Vec::new()));
    let clients: Vec<_> = (0..4)
        .map(|t| {
            let (stop, failed, sent, data, versions, port) = (
                Arc::clone(&stop),
                Arc::clone(&failed),
                Arc::clone(&sent),
                Arc::clone(&data),
                Arc::clone(&versions),
                server.port,
            );
            std::thread::Builder::new()
                .name(format!("load-{t}"))
                .spawn(move || {
                    let mut i = t;
                    while !stop.load(Ordering::SeqCst) {
                        let body = request_for(&data, &[i % data.rows()], false, None);
                        let reply = try_request(port, "POST", "/v2/models/churn/infer", &[], body.as_bytes()).unwrap();
                        sent.fetch_add(1, Ordering::SeqCst);
                        if reply.status == 200 {
                            versions.lock().unwrap().push(reply.json()["model_version"].as_str().unwrap().to_string());
                        } else {
                            failed.fetch_add(1, Ordering::SeqCst);
                        }
                        i += 4;
                    }
                })
                .unwrap()
        })
        .collect();
    std::thread::sleep(Duration::from_millis(700));
    registry_cli(&reg, &["promote", "churn@2", "--stage", "production", "--reason", "swap under load"]);
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline && versions.lock().unwrap().iter().filter(|v| *v == "2").count() < 50 {
        std::thread::sleep(Duration::from_millis(50));
    }
    stop.store(true, Ordering::SeqCst);
    for c in clients {
        c.join().unwrap();
    }
    let versions = versions.lock().unwrap();
    assert_eq!(failed.load(Ordering::SeqCst), 0, "of {} requests", sent.load(Ordering::SeqCst));
    let first_new = versions.iter().position(|v| v == "2").expect("version 2 answered after the promotion");
    assert!(first_new > 0 && versions[..first_new].iter().all(|v| v == "1"), "version 1 answered before");
    assert!(versions.iter().filter(|v| *v == "2").count() >= 50);
}

#[test]
fn a_new_version_whose_errors_spike_after_the_switch_falls_back_and_the_stage_is_rolled_back() {
    let dir = tempfile::tempdir().unwrap();
    let reg = dir.path().to_path_buf();
    // Version 2 loads and warms (its inputs are churn_v1's) but fails every request.
    registry_with(&reg, &["tests/fixtures/failing_v1.onnx"]);
    let server = following_production(&reg, &["--fallback-secs", "30"]);
    let data = current();
    let ask = |i: usize| {
        let body = request_for(&data, &[i % data.rows()], false, None);
        try_request(server.port, "POST", "/v2/models/churn/infer", &[], body.as_bytes()).unwrap()
    };
    assert_eq!(ask(0).status, 200);
    registry_cli(&reg, &["promote", "churn@2", "--stage", "production", "--reason", "a bad release"]);
    // Requests fail once version 2 answers, until the server sends it back.
    let deadline = Instant::now() + Duration::from_secs(30);
    let (mut failed, mut recovered) = (0, false);
    let mut i = 0;
    while Instant::now() < deadline {
        let reply = ask(i);
        i += 1;
        if reply.status != 200 {
            failed += 1;
        } else if failed > 0 {
            assert_eq!(reply.json()["model_version"], json!("1"), "the old version answers again");
            recovered = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(failed >= 10 && recovered, "{failed} failed requests, recovered: {recovered}");
    assert!(failed < 200, "it fell back soon: {failed} failed requests");
    let history = history(&reg);
    let last = history.as_array().unwrap().last().unwrap();
    assert_eq!(
        (last["action"].as_str(), last["from"].as_u64(), last["to"].as_u64()),
        (Some("rollback"), Some(2), Some(1))
    );
    let reason = last["reason"].as_str().unwrap();
    assert!(reason.contains("version 2 failed") && reason.contains("of its first"), "{reason}");
    // The stage is back on version 1, so the route stays there.
    std::thread::sleep(Duration::from_millis(600));
    for k in 0..20 {
        let reply = ask(i + k);
        assert_eq!((reply.status, reply.json()["model_version"].clone()), (200, json!("1")));
    }
}

#[test]
fn a_promoted_version_whose_file_is_corrupt_is_never_served_and_the_stage_goes_back() {
    let dir = tempfile::tempdir().unwrap();
    let reg = dir.path().to_path_buf();
    registry_with(&reg, &["tests/fixtures/slow_v1.onnx"]);
    let server = following_production(&reg, &[]);
    // Version 2's stored file is damaged on disk after it was registered.
    let show: Value = serde_json::from_str(&registry_cli(&reg, &["show", "churn@2", "--json"])).unwrap();
    let stored = reg.join(show["file"].as_str().unwrap());
    let mut perms = std::fs::metadata(&stored).unwrap().permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    perms.set_readonly(false);
    std::fs::set_permissions(&stored, perms).unwrap();
    std::fs::write(&stored, b"not a model any more").unwrap();
    registry_cli(&reg, &["promote", "churn@2", "--stage", "production", "--reason", "release"]);
    let deadline = Instant::now() + Duration::from_secs(20);
    let reason = loop {
        let h = history(&reg);
        let last = h.as_array().unwrap().last().unwrap().clone();
        if last["action"] == "rollback" {
            break last["reason"].as_str().unwrap().to_string();
        }
        assert!(Instant::now() < deadline, "the stage was never rolled back: {h}");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(reason.contains("churn@2 failed to load"), "{reason}");
    let data = current();
    for i in 0..10 {
        let body = request_for(&data, &[i], false, None);
        let reply = try_request(server.port, "POST", "/v2/models/churn/infer", &[], body.as_bytes()).unwrap();
        assert_eq!((reply.status, reply.json()["model_version"].clone()), (200, json!("1")));
    }
}

#[test]
fn a_new_version_whose_latency_spikes_after_the_switch_falls_back() {
    let dir = tempfile::tempdir().unwrap();
    let reg = dir.path().to_path_buf();
    // Version 2 gives churn_v1's answers, about 12 ms a row slower: 40-row requests take ~0.5 s.
    registry_with(&reg, &["tests/fixtures/slow_v1.onnx"]);
    let server = following_production(&reg, &["--fallback-secs", "60"]);
    let data = current();
    let rows: Vec<usize> = (0..40).collect();
    let body = request_for(&data, &rows, false, None);
    for _ in 0..10 {
        assert_eq!(infer(&server, "churn", &body)["model_version"], json!("1"));
    }
    registry_cli(&reg, &["promote", "churn@2", "--stage", "production", "--reason", "a slow release"]);
    let deadline = Instant::now() + Duration::from_secs(60);
    let (mut slow, mut back) = (0, false);
    while Instant::now() < deadline {
        let answer = infer(&server, "churn", &body);
        match answer["model_version"].as_str() {
            Some("2") => slow += 1,
            Some("1") if slow > 0 => {
                back = true;
                break;
            }
            _ => {}
        }
    }
    assert!(back && slow >= 10, "{slow} slow answers, back on version 1: {back}");
    let history = history(&reg);
    let last = history.as_array().unwrap().last().unwrap();
    assert_eq!((last["action"].as_str(), last["to"].as_u64()), (Some("rollback"), Some(1)));
    assert!(last["reason"].as_str().unwrap().contains("(latency)"), "{last}");
}

/// The registry's version of `churn@production`.
fn production(reg: &std::path::Path) -> u64 {
    let show: Value = serde_json::from_str(&registry_cli(reg, &["show", "churn", "--json"])).unwrap();
    show["stages"]["production"].as_u64().unwrap()
}

/// Send 10-row requests (keyed by customer id) until `done`; the versions that answered.
fn answers_until(server: &Server, limit: Duration, done: impl Fn(&Value) -> bool) -> Vec<String> {
    let data = current();
    let start = Instant::now();
    let mut versions = Vec::new();
    let mut i = 0;
    while start.elapsed() < limit && !done(&route_state(server)) {
        let rows: Vec<usize> = (0..10).map(|k| (i * 10 + k) % data.rows()).collect();
        let answer = infer(server, "churn", &request_for(&data, &rows, true, None));
        versions.push(answer["model_version"].as_str().unwrap().to_string());
        i += 1;
    }
    versions
}

#[test]
fn a_promoted_version_rolls_out_as_a_canary_first_and_a_bad_one_is_aborted_and_the_stage_goes_back() {
    let dir = tempfile::tempdir().unwrap();
    let reg = dir.path().to_path_buf();
    registry_with(&reg, &["tests/fixtures/constant_class.onnx"]);
    let gate = ["--gate", "agreement >= 0.6; score_psi <= 0.2", "--min-rows", "20", "--sticky-key", "customer_id"];
    let mut flags = vec!["--strategy", "canary:50,100@1s", "--admin-token", TOKEN];
    flags.extend_from_slice(&gate);
    let server = following_production(&reg, &flags);
    // No challenger yet: version 1 answers everything and nothing rolls out.
    let state = route_state(&server);
    assert_eq!((state["champion"].as_str(), state["challenger"].as_str()), (Some("1"), None), "{state}");
    assert!(state["state"].is_null(), "{state}");
    assert_eq!(state["follows"], "churn@production", "{state}");
    let (code, text) = rollout_cli(&server, &["status"]);
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("champion 1, weight 0%, waiting for churn@production's next version"), "{text}");

    // A release (as `mirador retrain` would promote it): the stage moves at once, the traffic not.
    registry_cli(&reg, &["promote", "churn@2", "--stage", "production", "--reason", "a bad release"]);
    let started = answers_until(&server, Duration::from_secs(10), |s| s["challenger"] == json!("2"));
    // (The last request may have been sent just as the rollout began.)
    let before = &started[..started.len().saturating_sub(1)];
    assert!(before.iter().all(|v| v == "1"), "only version 1 answered before the rollout: {started:?}");
    let state = route_state(&server);
    assert_eq!((state["state"]["state"].as_str(), state["weight"].as_f64()), (Some("running"), Some(0.5)), "{state}");

    let during = answers_until(&server, Duration::from_secs(30), |s| s["state"]["state"] != "running");
    let state = route_state(&server);
    assert_eq!(state["state"]["state"], "aborted", "{state}");
    assert!(!during.is_empty(), "traffic ran during the rollout");
    assert!(state["challenger"].is_null(), "the aborted version is let go: {state}");
    let m = &state["measurements"][0];
    assert!(
        m["results"].as_array().unwrap().iter().any(|r| r["metric"] == "score_psi" && r["passed"] == json!(false)),
        "the gate caught it: {m}"
    );
    // The stage is back on version 1, the abort is the rollback's reason, and it stays there.
    assert_eq!(production(&reg), 1);
    let events = history(&reg);
    let last = events.as_array().unwrap().last().unwrap();
    assert_eq!(
        (last["action"].as_str(), last["from"].as_u64(), last["to"].as_u64(), last["by"].as_str()),
        (Some("rollback"), Some(2), Some(1), Some("mirador serve")),
        "{last}"
    );
    let reason = last["reason"].as_str().unwrap();
    assert!(reason.contains("canary rollout of churn@2") && reason.contains("score_psi"), "{reason}");
    std::thread::sleep(Duration::from_millis(600));
    let after = answers_until(&server, Duration::from_millis(500), |_| false);
    assert!(!after.is_empty() && after.iter().all(|v| v == "1"), "{after:?}");
    assert!(route_state(&server)["challenger"].is_null());
    let (_, text) = rollout_cli(&server, &["status"]);
    assert!(text.contains("waiting for churn@production's next version (last rollout aborted)"), "{text}");
}

#[test]
fn a_retrained_model_promoted_to_the_stage_is_shadowed_first_then_takes_over_when_its_gate_passes() {
    let dir = tempfile::tempdir().unwrap();
    let reg = dir.path().to_path_buf();
    registry_with(&reg, &[]);
    // The "training" writes churn_v1's graph again, with a doc string appended (ModelProto field
    // 6), so it is a new file with the same answers: it passes the retrain's holdout gate.
    let mut retrained = std::fs::read(crate::common::repo("sample-models/churn_v1.onnx")).unwrap();
    retrained.extend_from_slice(&[0x32, 9]);
    retrained.extend_from_slice(b"retrained");
    let trained = dir.path().join("trained.onnx");
    std::fs::write(&trained, retrained).unwrap();
    let gate =
        ["--gate", "error_rate <= 0.01; latency_p99_ms <= 5000", "--min-rows", "20", "--sticky-key", "customer_id"];
    let mut flags = vec!["--strategy", "shadow@1s", "--admin-token", TOKEN];
    flags.extend_from_slice(&gate);
    let server = following_production(&reg, &flags);
    // The retrain promotes it, so the stage names version 2 at once.
    let out = std::process::Command::new(crate::common::mirador_bin())
        .args(["retrain", "--registry", reg.to_str().unwrap(), "--name", "churn"])
        .args(["--command", &format!("cp {} {{output}}", trained.display())])
        .args(["--data", "sample-data/churn_production_log.csv", "--holdout", "sample-data/churn_current.csv"])
        .args(["--target", "churned", "--gate", "roc_auc >= champion - 0.005"])
        .current_dir(crate::common::repo(""))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(production(&reg), 2);
    // Shadowed: version 2 scores copies while version 1 answers every request.
    let shadowed = answers_until(&server, Duration::from_secs(10), |s| s["challenger"] == json!("2"));
    let during = answers_until(&server, Duration::from_secs(30), |s| s["state"]["state"] != "running");
    assert!(!during.is_empty(), "traffic ran during the shadow test: {}", route_state(&server));
    // (The last request may have been sent just as it was promoted.)
    let shadow_phase = &during[..during.len() - 1];
    assert!(shadowed.iter().chain(shadow_phase).all(|v| v == "1"), "a shadow never answers: {during:?}");
    let state = route_state(&server);
    assert_eq!(state["state"]["state"], "promoted", "{state}");
    assert!(state["shadow_scored"].as_u64().unwrap() >= 2, "{state}");
    assert_eq!((state["champion"].as_str(), state["challenger"].as_str()), (Some("2"), None), "{state}");
    let after = answers_until(&server, Duration::from_millis(300), |_| false);
    assert!(!after.is_empty() && after.iter().all(|v| v == "2"), "{after:?}");
    // The registry already named version 2: the server adds no second promotion.
    let events = history(&reg);
    let last = events.as_array().unwrap().last().unwrap();
    assert_eq!((last["action"].as_str(), last["to"].as_u64()), (Some("promote"), Some(2)), "{last}");
    assert_ne!(last["by"], "mirador serve", "the retrain's promotion is the last event: {last}");
    assert_eq!(production(&reg), 2);
}

#[test]
fn a_version_that_answers_other_outputs_never_rolls_out_and_the_stage_goes_back() {
    let dir = tempfile::tempdir().unwrap();
    let reg = dir.path().to_path_buf();
    // churn_v2 reads churn_v1's columns but names its output tensors differently: a client of the
    // route could not read both, and the gate could not pair them.
    registry_with(&reg, &["sample-models/churn_v2.onnx"]);
    let server = following_production(&reg, &["--strategy", "canary:10@1s", "--admin-token", TOKEN]);
    registry_cli(&reg, &["promote", "churn@2", "--stage", "production", "--reason", "release"]);
    let deadline = Instant::now() + Duration::from_secs(20);
    while production(&reg) != 1 {
        assert!(Instant::now() < deadline, "the stage was never rolled back: {}", history(&reg));
        std::thread::sleep(Duration::from_millis(100));
    }
    let events = history(&reg);
    let last = events.as_array().unwrap().last().unwrap();
    assert_eq!(
        (last["action"].as_str(), last["from"].as_u64(), last["to"].as_u64()),
        (Some("rollback"), Some(2), Some(1))
    );
    let reason = last["reason"].as_str().unwrap();
    assert!(reason.contains("churn@2 cannot roll out") && reason.contains("output tensors differ"), "{reason}");
    let state = route_state(&server);
    assert!(state["challenger"].is_null() && state["state"].is_null(), "{state}");
    let data = current();
    let answer = infer(&server, "churn", &request_for(&data, &[0, 1, 2], false, None));
    assert_eq!(answer["model_version"], json!("1"));
}
