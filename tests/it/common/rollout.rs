//! Helpers for the rollout and stage-following tests: churn requests, the admin endpoint, a
//! registry driven through the command line, a server following `churn@production`.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::server::{ChurnForm, Server, churn_request};
use super::{Table, mirador_bin, read_text, repo};

pub const TOKEN: &str = "test-token-0123456789";

/// A V2 request for churn models: the current data's `rows` (column form), with the customer id
/// as an extra input when `with_key`, and `key` as the request's parameter.
pub fn request_for(current: &Table, rows: &[usize], with_key: bool, key: Option<&str>) -> String {
    churn_request(current, rows, ChurnForm { customer_id: with_key, key, ..ChurnForm::default() })
}

pub fn infer(server: &Server, model: &str, body: &str) -> Value {
    let reply = server.post(&format!("/v2/models/{model}/infer"), body);
    assert_eq!(reply.status, 200, "{}", reply.text());
    reply.json()
}

pub fn admin(server: &Server, method: &str, path: &str, body: &str) -> Value {
    let auth = format!("Bearer {TOKEN}");
    let reply = server.request(
        method,
        path,
        &[("Authorization", auth.as_str()), ("Content-Type", "application/json")],
        body.as_bytes(),
    );
    assert_eq!(reply.status, 200, "{method} {path}: {}", reply.text());
    reply.json()
}

pub fn current() -> Table {
    read_text(&repo("sample-data/churn_current.csv"))
}

/// `mirador registry --dir DIR ARGS`, which must succeed; its output.
pub fn registry_cli(dir: &Path, args: &[&str]) -> String {
    let out = Command::new(mirador_bin())
        .arg("registry")
        .arg("--dir")
        .arg(dir)
        .args(args)
        .current_dir(repo(""))
        .output()
        .unwrap();
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A registry holding churn_v1 as churn v1 (production) and `challengers` as v2, v3, …
pub fn registry_with(dir: &Path, challengers: &[&str]) {
    registry_cli(dir, &["add", "churn", "sample-models/churn_v1.onnx", "--note", "champion"]);
    registry_cli(dir, &["promote", "churn@1", "--stage", "production", "--reason", "launch"]);
    for c in challengers {
        registry_cli(dir, &["add", "churn", c, "--note", "challenger"]);
    }
}

pub fn history(dir: &Path) -> Value {
    serde_json::from_str(&registry_cli(dir, &["history", "churn", "--json"])).unwrap()
}

/// A server whose route `churn` follows `churn@production` in the registry `reg` (looked at every
/// 0.2 s), with `extra` flags.
pub fn following_production(reg: &Path, extra: &[&str]) -> Server {
    let mut args = vec!["--registry", reg.to_str().unwrap(), "--route", "churn", "--champion", "churn@production"];
    args.extend_from_slice(&["--follow-secs", "0.2"]);
    args.extend_from_slice(extra);
    Server::start(&args)
}

/// Send traffic until `done` says stop or `limit` passes; the count of non-200 answers.
pub fn traffic(server: &Server, limit: Duration, done: impl Fn() -> bool) -> usize {
    let data = current();
    let start = Instant::now();
    let mut failed = 0;
    let mut i = 0;
    while start.elapsed() < limit && !done() {
        let rows: Vec<usize> = (0..10).map(|k| (i * 10 + k) % data.rows()).collect();
        let body = request_for(&data, &rows, true, None);
        let reply = server.post("/v2/models/churn/infer", &body);
        failed += usize::from(reply.status != 200);
        i += 1;
    }
    failed
}

pub fn route_state(server: &Server) -> Value {
    admin(server, "GET", "/admin/routes", "")["routes"][0].clone()
}

/// `mirador rollout ARGS` against `server`; exit code and output.
pub fn rollout_cli(server: &Server, args: &[&str]) -> (Option<i32>, String) {
    let url = format!("http://127.0.0.1:{}", server.port);
    let out = Command::new(mirador_bin())
        .args(["rollout", "--server", &url, "--token", TOKEN])
        .args(args)
        .current_dir(repo(""))
        .output()
        .unwrap();
    (out.status.code(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}
