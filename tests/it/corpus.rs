//! The bad-input corpus: hostile files, absurd settings and mutated models run through the real
//! binary, as a user or a script would. Every case asserts the exit code, what the message names,
//! and what is on disk afterwards; none may panic (exit 101), abort, or run past its deadline.
//! Add a case here for every new way in.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::{mirador_bin, repo};

/// What a run of the binary did.
struct Outcome {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

/// Run `mirador ARGS` in the checkout, killing it (and failing) after `deadline`.
fn run_with(args: &[String], deadline: Duration, env: &[(&str, &Path)]) -> Outcome {
    let mut command = Command::new(mirador_bin());
    command.args(args).current_dir(repo("")).stdout(Stdio::piped()).stderr(Stdio::piped());
    for (k, v) in env {
        command.env(k, v);
    }
    let mut child = command.spawn().expect("binary runs");
    let start = Instant::now();
    loop {
        if child.try_wait().expect("wait").is_some() {
            break;
        }
        if start.elapsed() > deadline {
            let _ = child.kill();
            panic!("`mirador {}` ran past its {deadline:?} deadline", args.join(" "));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().expect("output");
    Outcome {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn run(args: &[String]) -> Outcome {
    run_with(args, Duration::from_secs(90), &[])
}

fn args(text: &[&str]) -> Vec<String> {
    text.iter().map(|s| (*s).to_string()).collect()
}

/// Exit `code`, no panic, and stderr naming every one of `says`.
fn expect(o: &Outcome, code: i32, says: &[&str], case: &str) {
    assert!(!o.stderr.contains("panicked"), "{case}: a panic\n{}", o.stderr);
    assert_eq!(o.code, Some(code), "{case}: exit code\nstdout: {}\nstderr: {}", o.stdout, o.stderr);
    for s in says {
        assert!(o.stderr.contains(s), "{case}: the message does not say {s:?}\n{}", o.stderr);
    }
}

/// Nothing half-written is left in `dir`.
fn no_partials(dir: &Path) {
    let left: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".partial") || n.starts_with(".mirador"))
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");
}

fn path(p: &Path) -> String {
    p.display().to_string()
}

#[test]
fn a_model_whose_tree_loops_is_refused_on_load_naming_the_node() {
    let cycle = repo("tests/fixtures/churn_v2_cycle.onnx");
    let o = run(&args(&["inspect", &path(&cycle)]));
    expect(&o, 1, &["not a usable ONNX model", "tree 0", "node 2", "churn_v2_cycle.onnx"], "inspect");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.csv");
    let o = run(&args(&[
        "score",
        "--model",
        &path(&cycle),
        "--input",
        "sample-data/churn_current.csv",
        "--output",
        &path(&out),
    ]));
    expect(&o, 1, &["cycle", "churn_v2_cycle.onnx"], "score");
    assert!(!out.exists());
    no_partials(dir.path());
}

#[test]
fn malformed_models_of_other_kinds_end_with_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.csv");
    let score = |model: &Path| {
        run(&args(&[
            "score",
            "--model",
            &path(model),
            "--input",
            "sample-data/churn_current.csv",
            "--output",
            &path(&out),
        ]))
    };
    // A probability tensor narrower than the classes the model names.
    let o = run(&args(&[
        "score",
        "--model",
        "tests/fixtures/wrong_width.onnx",
        "--input",
        &path(&repo("sample-data/churn_current.csv")),
        "--output",
        &path(&out),
        "--columns",
        "x=monthly_charges,total_charges",
    ]));
    expect(&o, 1, &["2 values per row", "3 classes"], "narrow probabilities");
    // Every sample model with one byte of its tree region or graph flipped: Ok or a clear error.
    let model = std::fs::read(repo("sample-models/churn_v2.onnx")).unwrap();
    for at in [100usize, 12_000, 30_000, 54_901, 60_000] {
        let mut bytes = model.clone();
        bytes[at] ^= 0x55;
        let mutated = dir.path().join(format!("flip_{at}.onnx"));
        std::fs::write(&mutated, &bytes).unwrap();
        let o = score(&mutated);
        assert!(!o.stderr.contains("panicked") && matches!(o.code, Some(0 | 1)), "byte {at}: {o:?}", o = o.stderr);
    }
    // An ONNX Runtime refusal is summarised (no source paths or C++ signatures); --verbose gives
    // its raw text. Here one flipped bit leaves a tree's class weights one short of its class ids.
    let mut bytes = model.clone();
    bytes[11_830] ^= 0x10;
    let refused = dir.path().join("short_weights.onnx");
    std::fs::write(&refused, &bytes).unwrap();
    let o = score(&refused);
    expect(
        &o,
        1,
        &["ONNX Runtime rejected it", "target_class_weights must be empty or match", "short_weights.onnx"],
        "ORT refusal",
    );
    assert!(!o.stderr.contains("onnxruntime_src"), "summarised: {}", o.stderr);
    assert!(!o.stderr.contains("[E:onnxruntime"), "ONNX Runtime's own log line is not printed: {}", o.stderr);
    let o = run(&args(&["--verbose", "inspect", &path(&refused)]));
    expect(&o, 1, &["tree_ensemble_attribute.h"], "--verbose");
    no_partials(dir.path());
}

#[test]
fn absurd_settings_are_refused_naming_the_setting_and_the_range() {
    let dir = tempfile::tempdir().unwrap();
    let out = path(&dir.path().join("out.csv"));
    let evaluate = |extra: &[&str]| {
        let mut a = args(&[
            "evaluate",
            "--model",
            "sample-models/churn_v1.onnx",
            "--data",
            "sample-data/churn_current.csv",
            "--target",
            "churned",
        ]);
        a.extend(args(extra));
        run(&a)
    };
    expect(&evaluate(&["--bootstrap", "10000000000000"]), 1, &["--bootstrap", "0 to 100000"], "bootstrap");
    expect(&evaluate(&["--threshold", "2"]), 1, &["--threshold", "0 to 1"], "threshold 2");
    expect(&evaluate(&["--threshold", "NaN"]), 1, &["--threshold", "0 to 1"], "threshold NaN");
    let score = |extra: &[&str]| {
        let mut a = args(&[
            "score",
            "--model",
            "sample-models/churn_v1.onnx",
            "--input",
            "sample-data/churn_current.csv",
            "--output",
            &out,
        ]);
        a.extend(args(extra));
        run(&a)
    };
    expect(&score(&["--batch-size", "0"]), 1, &["--batch-size", "1 to"], "batch size 0");
    let capped = score(&["--threads", "10000", "--json"]);
    expect(&capped, 0, &["10000 workers asked for; using"], "threads capped");
    expect(&score(&["--inference-timeout=-1"]), 1, &["--inference-timeout"], "timeout");
    let drift = |share: &str| {
        run(&args(&[
            "drift",
            "--reference",
            "sample-data/churn_reference.csv",
            "--current",
            "sample-data/churn_current.csv",
            &format!("--drift-share={share}"),
        ]))
    };
    expect(&drift("-1"), 1, &["--drift-share", "above 0"], "drift share -1");
    expect(&drift("2"), 1, &["--drift-share", "at most 1"], "drift share 2");
    let compare = |models: &[&str], gate: &str| {
        let mut a = args(&["compare", "--models"]);
        a.extend(args(models));
        a.extend(args(&[
            "--data",
            "sample-data/churn_current.csv",
            "--target",
            "churned",
            "--latency-rows",
            "0",
            "--bootstrap",
            "0",
            "--gate",
            gate,
        ]));
        run(&a)
    };
    let o = compare(&["sample-models/churn_v1.onnx", "sample-models/churn_v2.onnx"], "recal drop <= 2%");
    expect(&o, 1, &["unknown metric 'recal'", "did you mean 'recall'"], "gate typo");
    let o = compare(&["sample-models/churn_v1.onnx", "sample-models/spend_regressor.onnx"], "roc_auc >= 0.5");
    expect(&o, 1, &["churn_v1 is a classifier but spend_regressor is a regressor"], "tasks differ");
    let o = run(&args(&[
        "drift",
        "--reference",
        "sample-data/churn_reference.csv",
        "--current",
        "sample-data/churn_production_log.csv",
        "--chunk",
        "1w",
        "--time-col",
        "timestamp",
        "--exclude",
        "customer_id",
        "--alert",
        "drift:incme > 0.2",
    ]));
    expect(&o, 1, &["alert rule 'drift:incme > 0.2'", "column the data does not have"], "alert on an unknown column");
    let o = run(&args(&[
        "predict",
        "--model",
        "sample-models/churn_v1.onnx",
        "--values",
        "tenure_month=2,monthly_charges=95.5,total_charges=190,contract=Month-to-month,internet_service=Fiber optic,payment_method=Electronic check,paperless_billing=Yes,senior_citizen=1,support_calls=4",
    ]));
    expect(&o, 1, &["tenure_months"], "predict with a typo");
    for chunk in ["", "1é", "99999999999999999999w"] {
        let o = run(&args(&[
            "drift",
            "--reference",
            "sample-data/churn_reference.csv",
            "--current",
            "sample-data/churn_current.csv",
            "--chunk",
            chunk,
        ]));
        assert!(!o.stderr.contains("panicked") && matches!(o.code, Some(0 | 1 | 3)), "--chunk {chunk:?}: {}", o.stderr);
    }
    no_partials(dir.path());
}

#[test]
fn bad_data_is_named_by_file_and_row_and_values_are_quoted_with_a_bound() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(repo("sample-data/churn_current.csv")).unwrap();
    let mut lines: Vec<String> = text.lines().take(30).map(String::from).collect();
    let header = lines[0].clone();
    // Drift: a header-only current file, and a ragged row.
    let empty = dir.path().join("header_only.csv");
    std::fs::write(&empty, format!("{header}\n")).unwrap();
    let o = run(&args(&["drift", "--reference", "sample-data/churn_reference.csv", "--current", &path(&empty)]));
    expect(&o, 1, &["no data rows", "header_only.csv"], "drift on no data");
    lines[7].push_str(",extra");
    let ragged = dir.path().join("ragged.csv");
    std::fs::write(&ragged, lines.join("\n") + "\n").unwrap();
    let o = run(&args(&["drift", "--reference", "sample-data/churn_reference.csv", "--current", &path(&ragged)]));
    expect(&o, 1, &["row 7", "ragged.csv", "fields"], "ragged drift");
    // A 10 MB field in a numeric column: the message quotes its start and its size.
    let mut big = text.lines().take(3).map(String::from).collect::<Vec<_>>();
    let fields: Vec<&str> = big[1].split(',').collect();
    let mut fields: Vec<String> = fields.iter().map(|f| (*f).to_string()).collect();
    fields[2] = "9".repeat(10 << 20) + "x";
    big[1] = fields.join(",");
    let huge = dir.path().join("huge_field.csv");
    std::fs::write(&huge, big.join("\n") + "\n").unwrap();
    let out = dir.path().join("out.csv");
    let o = run(&args(&[
        "score",
        "--model",
        "sample-models/churn_v1.onnx",
        "--input",
        &path(&huge),
        "--output",
        &path(&out),
    ]));
    expect(&o, 1, &["MB)", "row 1", "monthly_charges"], "huge field");
    assert!(o.stderr.len() < 500, "the message is {} bytes", o.stderr.len());
    // A header whose quote never closes, and a "header" of 20 MB with no line end: refused at once.
    let unclosed = dir.path().join("unclosed.csv");
    std::fs::write(&unclosed, "\"abc").unwrap();
    let o = run(&args(&["check", "--model", "sample-models/churn_v1.onnx", "--input", &path(&unclosed)]));
    expect(&o, 1, &["never closed", "the header row", "unclosed.csv"], "unclosed quote");
    let endless = dir.path().join("endless.csv");
    std::fs::write(&endless, "x".repeat(20 << 20)).unwrap();
    let o = run(&args(&["check", "--model", "sample-models/churn_v1.onnx", "--input", &path(&endless)]));
    expect(&o, 1, &["longer than 16.8 MB", "endless.csv"], "endless header");
    no_partials(dir.path());
}

#[test]
fn integrity_a_changed_registered_file_and_hostile_archives_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let reg = dir.path().join("reg");
    let add = run(&args(&["registry", "--dir", &path(&reg), "add", "churn", "sample-models/churn_v1.onnx"]));
    expect(&add, 0, &[], "add");
    // Change the stored file on disk (it is read-only: a determined user changes that too).
    let stored = std::fs::read_dir(reg.join("models"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|e| e == "onnx"))
        .unwrap();
    let mut perms = std::fs::metadata(&stored).unwrap().permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    perms.set_readonly(false);
    std::fs::set_permissions(&stored, perms).unwrap();
    let mut bytes = std::fs::read(&stored).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    std::fs::write(&stored, &bytes).unwrap();
    let out = dir.path().join("bundle");
    let o = run(&args(&["bundle", "--registry", &path(&reg), "create", "--model", "churn@1", "--output", &path(&out)]));
    expect(
        &o,
        1,
        &["changed since it was registered", &stored.file_name().unwrap().to_string_lossy()],
        "tampered registry file",
    );
    assert!(!out.exists());

    // A good bundle, then an archive whose model is 64 MB of zeros (a few KB compressed).
    let good = dir.path().join("good");
    let o =
        run(&args(&["bundle", "create", "--model", "sample-models/churn_v1.onnx", "--output", &path(&good), "--tar"]));
    expect(&o, 0, &[], "bundle");
    let bomb = dir.path().join("bomb.tar.gz");
    {
        let file = std::fs::File::create(&bomb).unwrap();
        let gz = flate2::write::GzEncoder::new(file, flate2::Compression::best());
        let mut tar = tar::Builder::new(gz);
        for entry in std::fs::read_dir(&good).unwrap().flatten() {
            let p = entry.path();
            if p.is_file() && p.file_name().unwrap() != "model.onnx" {
                tar.append_path_with_name(&p, format!("good/{}", p.file_name().unwrap().to_string_lossy())).unwrap();
            }
        }
        let zeros = vec![0u8; 64 << 20];
        let mut header = tar::Header::new_gnu();
        header.set_size(zeros.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        tar.append_data(&mut header, "good/model.onnx", zeros.as_slice()).unwrap();
        tar.into_inner().unwrap().finish().unwrap();
    }
    let scratch = dir.path().join("tmp");
    std::fs::create_dir_all(&scratch).unwrap();
    let o = run_with(&args(&["bundle", "verify", &path(&bomb)]), Duration::from_secs(60), &[("TMPDIR", &scratch)]);
    expect(&o, 1, &["refused", "model.onnx", "more than", "bomb.tar.gz"], "archive bomb");
    // A truncated archive: the message names the archive, not a temporary path.
    let archive = std::fs::read(dir.path().join("good.tar.gz")).unwrap();
    let cut = dir.path().join("cut.tar.gz");
    std::fs::write(&cut, &archive[..archive.len() / 2]).unwrap();
    let o = run_with(&args(&["bundle", "verify", &path(&cut)]), Duration::from_secs(60), &[("TMPDIR", &scratch)]);
    expect(&o, 1, &["cut.tar.gz"], "truncated archive");
    assert!(!o.stderr.contains(&path(&scratch)), "no temporary path in the message: {}", o.stderr);
    let left: Vec<_> = std::fs::read_dir(&scratch).unwrap().flatten().collect();
    assert!(left.is_empty(), "nothing left in TMPDIR: {left:?}");
}

#[test]
fn monitoring_a_classifier_without_probabilities_is_a_clear_error() {
    let o = run(&args(&[
        "drift",
        "--reference",
        "sample-data/churn_reference.csv",
        "--current",
        "sample-data/churn_current.csv",
        "--chunk",
        "1000",
        "--model",
        "tests/fixtures/labels_only.onnx",
    ]));
    expect(&o, 1, &["gives labels but no probabilities", "labels_only.onnx"], "labels only");
}

#[test]
fn output_piped_into_head_ends_quietly() {
    let mut child = Command::new(mirador_bin())
        .args([
            "evaluate",
            "--model",
            "sample-models/churn_v1.onnx",
            "--data",
            "sample-data/churn_current.csv",
            "--target",
            "churned",
            "--bootstrap",
            "0",
            "--json",
        ])
        .current_dir(repo(""))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Read one line, then close the pipe as `head -1` would.
    let mut stdout = child.stdout.take().unwrap();
    let mut first = [0u8; 1];
    std::io::Read::read_exact(&mut stdout, &mut first).unwrap();
    drop(stdout);
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked") && !stderr.contains("Broken pipe"), "{stderr}");
    assert_eq!(out.status.code(), Some(0), "{stderr}");
}

/// The sample rows repeated `times` times, as a CSV in `dir`.
fn big_csv(dir: &Path, times: usize) -> std::path::PathBuf {
    let text = std::fs::read_to_string(repo("sample-data/churn_current.csv")).unwrap();
    let (header, body) = text.split_once('\n').unwrap();
    let mut out = format!("{header}\n");
    for _ in 0..times {
        out.push_str(body);
    }
    let path = dir.join("big.csv");
    std::fs::write(&path, out).unwrap();
    path
}

fn partials(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".partial"))
        .collect()
}

/// Start scoring `input` into `out`; return once its temporary file exists (it is mid-write).
fn scoring(input: &Path, out: &Path) -> std::process::Child {
    let child = Command::new(mirador_bin())
        .args(["score", "--model", "sample-models/churn_v2.onnx", "--input"])
        .arg(input)
        .arg("--output")
        .arg(out)
        .args(["--batch-size", "2000"])
        .current_dir(repo(""))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let dir = out.parent().unwrap();
    let start = Instant::now();
    while partials(dir).is_empty() {
        assert!(start.elapsed() < Duration::from_secs(30), "scoring never started writing");
        std::thread::sleep(Duration::from_millis(5));
    }
    child
}

fn signal(child: &std::process::Child, sig: &str) {
    let ok = Command::new("kill").args([sig, &child.id().to_string()]).status().unwrap().success();
    assert!(ok, "kill {sig}");
}

#[test]
fn interrupted_scoring_leaves_nothing_behind_and_a_killed_ones_leftovers_are_removed() {
    let dir = tempfile::tempdir().unwrap();
    let input_dir = tempfile::tempdir().unwrap();
    let input = big_csv(input_dir.path(), 200);
    let out = dir.path().join("out.csv");
    for (sig, code) in [("-INT", 130), ("-TERM", 143)] {
        std::fs::write(&out, "the previous predictions\n").unwrap();
        let child = scoring(&input, &out);
        signal(&child, sig);
        let o = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(code), "{sig}: {stderr}");
        assert!(stderr.contains("interrupted"), "{stderr}");
        assert!(partials(dir.path()).is_empty(), "{sig}: {:?}", partials(dir.path()));
        assert_eq!(std::fs::read_to_string(&out).unwrap(), "the previous predictions\n", "the old file is intact");
    }
    // SIGKILL: nothing can clean up; the next run that writes there does.
    let child = scoring(&input, &out);
    signal(&child, "-KILL");
    let _ = child.wait_with_output();
    let left = partials(dir.path());
    assert_eq!(left.len(), 1, "a killed run leaves its temporary: {left:?}");
    let o = run(&args(&[
        "score",
        "--model",
        "sample-models/churn_v1.onnx",
        "--input",
        "sample-data/churn_current.csv",
        "--output",
        &path(&out),
    ]));
    expect(&o, 0, &["removed 1 unfinished file(s)", &left[0]], "the next run");
    assert!(partials(dir.path()).is_empty());

    // A registry add killed while storing its model: the next change to the registry removes it.
    let reg = dir.path().join("reg");
    let models = reg.join("models");
    std::fs::create_dir_all(&models).unwrap();
    let stale = models.join(".0123abcd.onnx.mirador-0-x1y2z3.partial");
    std::fs::write(&stale, b"half a model").unwrap();
    let old = std::time::SystemTime::now() - Duration::from_secs(600);
    std::fs::File::options().write(true).open(&stale).unwrap().set_modified(old).unwrap();
    let o = run(&args(&["registry", "--dir", &path(&reg), "add", "churn", "sample-models/churn_v1.onnx"]));
    expect(&o, 0, &[], "registry add");
    assert!(!stale.exists(), "the half-written model is gone");
}
