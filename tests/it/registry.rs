//! The model registry: round trips, history, rollback, deletion, a corrupt index, two writers at
//! once, and writers killed mid-write.

use std::process::Command;
use std::time::Duration;

use mirador::core::registry::{Action, Registration, Registry};

use crate::common::repo;

fn registration(note: &str) -> Registration {
    Registration { by: "ana".into(), note: note.into(), ..Default::default() }
}

fn two_versions() -> (tempfile::TempDir, Registry) {
    let dir = tempfile::tempdir().unwrap();
    let registry = Registry::open(dir.path().join("reg"));
    assert_eq!(registry.add("churn", &repo("sample-models/churn_v1.onnx"), &registration("logistic")).unwrap(), 1);
    assert_eq!(registry.add("churn", &repo("sample-models/churn_v2.onnx"), &registration("boosted")).unwrap(), 2);
    (dir, registry)
}

#[test]
fn register_promote_rollback_and_the_full_history() {
    let (_dir, registry) = two_versions();
    registry.promote("churn", 1, "production", "ana", "launch").unwrap();
    registry.promote("churn", 2, "production", "ben", "better AUC offline").unwrap();
    assert_eq!(registry.entry("churn").unwrap().stages["production"], 2);
    let back = registry.rollback("churn", "production", "ana", "complaints from the field").unwrap();
    assert_eq!(back, 1);
    let entry = registry.entry("churn").unwrap();
    assert_eq!(entry.stages["production"], 1);
    let steps: Vec<(Action, Option<u32>, Option<u32>, &str)> =
        entry.history.iter().map(|e| (e.action, e.from, e.to, e.reason.as_str())).collect();
    assert_eq!(
        steps,
        vec![
            (Action::Register, None, Some(1), "logistic"),
            (Action::Register, None, Some(2), "boosted"),
            (Action::Promote, None, Some(1), "launch"),
            (Action::Promote, Some(1), Some(2), "better AUC offline"),
            (Action::Rollback, Some(2), Some(1), "complaints from the field"),
        ]
    );
    assert_eq!(entry.history[3].by, "ben");
    let v2 = entry.version(2).unwrap();
    assert_eq!(v2.replaces, Some(1), "lineage");
    assert_eq!(v2.inputs.len(), 9, "the contract is recorded");
    assert_eq!(registry.resolve("churn@production").unwrap(), ("churn".into(), 1));
    // A rollback needs a reason and an earlier version.
    assert!(registry.rollback("churn", "production", "ana", "  ").is_err());
    registry.promote("churn", 2, "staging", "ana", "try").unwrap();
    let err = registry.rollback("churn", "staging", "ana", "why not").unwrap_err().to_string();
    assert!(err.contains("no earlier version"), "{err}");
}

#[test]
fn versions_are_immutable_and_content_addressed() {
    let (_dir, registry) = two_versions();
    let stored = registry.model_path("churn", 1).unwrap();
    assert!(stored.ends_with(format!("models/{}.onnx", registry.entry("churn").unwrap().versions[0].sha256)));
    assert!(std::fs::metadata(&stored).unwrap().permissions().readonly());
    let err = registry.add("churn", &repo("sample-models/churn_v1.onnx"), &registration("again")).unwrap_err();
    assert!(err.to_string().contains("already churn@1"), "{err}");
    assert!(registry.add("bad@name", &repo("sample-models/churn_v1.onnx"), &registration("x")).is_err());
}

#[test]
fn deleting_keeps_the_history_and_frees_the_stages() {
    let (_dir, registry) = two_versions();
    registry.promote("churn", 1, "production", "ana", "launch").unwrap();
    registry.promote("churn", 2, "production", "ana", "upgrade").unwrap();
    registry.delete("churn", 1, "ana", "leaked training data").unwrap();
    let entry = registry.entry("churn").unwrap();
    assert!(entry.version(1).unwrap().deleted);
    assert_eq!(entry.history.len(), 5);
    assert_eq!(entry.history[4].action, Action::Delete);
    assert!(
        registry.rollback("churn", "production", "ana", "revert").is_err(),
        "a deleted version is never staged again"
    );
    assert!(registry.promote("churn", 1, "staging", "ana", "x").is_err());
}

#[test]
fn a_corrupt_index_is_an_error_and_is_left_as_it_is() {
    let (_dir, registry) = two_versions();
    let index = registry.root().join("registry.json");
    std::fs::write(&index, "{ \"format_version\": 1, \"models\": { oops").unwrap();
    let err = registry.index().unwrap_err().to_string();
    assert!(err.contains("not valid") && err.contains("registry.json"), "{err}");
    assert!(registry.promote("churn", 1, "production", "ana", "x").is_err());
    assert_eq!(std::fs::read_to_string(&index).unwrap(), "{ \"format_version\": 1, \"models\": { oops", "never reset");
}

#[test]
fn two_writers_at_once_lose_nothing() {
    let (_dir, registry) = two_versions();
    let root = registry.root().to_path_buf();
    let writers: Vec<_> = ["a", "b"]
        .into_iter()
        .map(|stage| {
            let root = root.clone();
            std::thread::Builder::new()
                .name(format!("writer-{stage}"))
                .spawn(move || {
                    let registry = Registry::open(root);
                    for i in 0..10 {
                        registry.promote("churn", 1 + (i % 2), stage, "ana", &format!("{stage}{i}")).unwrap();
                    }
                })
                .unwrap()
        })
        .collect();
    for w in writers {
        w.join().unwrap();
    }
    let entry = registry.entry("churn").unwrap();
    assert_eq!(entry.history.iter().filter(|e| e.action == Action::Promote).count(), 20, "every write kept");
}

#[test]
fn a_writer_killed_mid_write_leaves_a_readable_registry() {
    let (_dir, registry) = two_versions();
    let root = registry.root().to_path_buf();
    let mut finished = 0;
    for i in 0..24u64 {
        let version = 1 + (i % 2);
        let mut child = Command::new(crate::common::mirador_bin())
            .args(["registry", "--dir"])
            .arg(&root)
            .args(["promote", &format!("churn@{version}"), "--stage", "production", "--reason", "kill test"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        // Kill at a different moment each time: before, during or after the write.
        std::thread::sleep(Duration::from_millis(i * 3 % 40));
        let _ = child.kill();
        if child.wait().unwrap().success() {
            finished += 1;
        }
        let entry = registry.entry("churn").expect("the index parses after every kill");
        if let Some(stage) = entry.stages.get("production") {
            let last = entry.history.iter().rev().find(|e| e.stage.as_deref() == Some("production")).unwrap();
            assert_eq!(last.to, Some(*stage), "the stage and its history agree");
        }
    }
    eprintln!("{finished} of 24 writers finished before the kill");
}

#[test]
fn the_cli_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let reg = dir.path().join("reg");
    let run = |args: &[&str]| {
        let out = Command::new(crate::common::mirador_bin())
            .arg("registry")
            .arg("--dir")
            .arg(&reg)
            .args(args)
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let v1 = repo("sample-models/churn_v1.onnx");
    let v2 = repo("sample-models/churn_v2.onnx");
    let data = repo("sample-data/churn_current.csv");
    let data = data.to_str().unwrap();
    assert_eq!(
        run(&["add", "churn", v1.to_str().unwrap(), "--note", "first", "--data", data, "--target", "churned"]).0,
        Some(0)
    );
    assert_eq!(run(&["add", "churn", v2.to_str().unwrap(), "--note", "second"]).0, Some(0));
    assert_eq!(run(&["promote", "churn@1", "--stage", "production", "--reason", "launch"]).0, Some(0));
    // churn_v2's ROC AUC is lower on this data, so the gate refuses it (exit 3) and nothing changes.
    let (code, stdout, stderr) =
        run(&["promote", "churn@2", "--stage", "production", "--data", data, "--target", "churned", "--reason", "try"]);
    assert_eq!(code, Some(3), "{stdout}{stderr}");
    assert!(stdout.contains("gate: FAIL roc_auc"), "{stdout}");
    let (_, json, _) = run(&["show", "churn", "--json"]);
    let entry: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(entry["stages"]["production"], 1);
    assert!(entry["versions"][0]["metrics"]["roc_auc"].as_f64().unwrap() > 0.7);
    assert_eq!(entry["versions"][0]["evaluated_on"][0], "churn_current.csv");
    let (_, history, _) = run(&["history", "churn"]);
    assert_eq!(history.lines().count(), 3, "{history}");
}
