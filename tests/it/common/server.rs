//! A real `mirador serve` for the server tests: the binary started as a process on a free port,
//! a small raw HTTP/1.1 client (so malformed requests can be sent exactly as written), and Python
//! with Triton's own client.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::{mirador_bin, repo};

/// A running server; killed when dropped if still running.
pub struct Server {
    pub child: Child,
    pub port: u16,
    /// What it printed before it was ready.
    pub banner: String,
}

impl Server {
    /// Start `mirador serve ARGS --port 0` and wait until it says it is ready.
    pub fn start(args: &[&str]) -> Self {
        let child = Command::new(mirador_bin())
            .arg("serve")
            .args(args)
            .args(["--port", "0"])
            .current_dir(repo(""))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("mirador serve starts");
        Self::adopt(child)
    }

    /// Wait until a started `mirador serve` (stdout and stderr piped, `--port 0`) is ready.
    pub fn adopt(mut child: Child) -> Self {
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = crossbeam_channel::bounded(1);
        let reader = std::thread::Builder::new().name("serve-stdout".into()).spawn(move || {
            let mut banner = String::new();
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                banner.push_str(&line);
                banner.push('\n');
                if line.starts_with("ready in") {
                    let _ = tx.try_send(banner.clone());
                }
            }
        });
        reader.expect("a thread reads the server's output");
        let banner = match rx.recv_timeout(Duration::from_secs(30)) {
            Ok(b) => b,
            Err(_) => {
                let _ = child.kill();
                let mut err = String::new();
                let _ = child.stderr.take().map(|mut e| e.read_to_string(&mut err));
                panic!("mirador serve did not become ready: {err}");
            }
        };
        let port = banner
            .lines()
            .find_map(|l| l.strip_prefix("ready in").and_then(|r| r.split("http://127.0.0.1:").nth(1)))
            .and_then(|r| r.split('/').next())
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("no port in {banner}"));
        Self { child, port, banner }
    }

    /// `host:port`, as tritonclient wants it.
    pub fn address(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Send a request; the answer.
    pub fn request(&self, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Reply {
        request(self.port, method, path, headers, body)
    }

    /// `GET path`.
    pub fn get(&self, path: &str) -> Reply {
        self.request("GET", path, &[], b"")
    }

    /// `POST path` with a JSON body.
    pub fn post(&self, path: &str, body: &str) -> Reply {
        self.request("POST", path, &[("Content-Type", "application/json")], body.as_bytes())
    }

    /// Send `signal` (`TERM`, `INT`) to the server.
    pub fn signal(&self, signal: &str) {
        let ok = Command::new("kill").args([&format!("-{signal}"), &self.child.id().to_string()]).status().unwrap();
        assert!(ok.success());
    }

    /// Wait for the process to end (at most `limit`); its exit code and stdout/stderr rest.
    pub fn wait(mut self, limit: Duration) -> (Option<i32>, String) {
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                let mut err = String::new();
                let _ = self.child.stderr.take().map(|mut e| e.read_to_string(&mut err));
                return (status.code(), err);
            }
            assert!(start.elapsed() < limit, "the server did not stop within {limit:?}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An HTTP answer.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// The `error` of a JSON error body.
    pub fn error(&self) -> String {
        self.json()["error"].as_str().unwrap_or_else(|| panic!("no error in {}", self.text())).to_string()
    }
}

/// One request on its own connection (`Connection: close`), the answer read to the end.
pub fn request(port: u16, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Reply {
    try_request(port, method, path, headers, body).unwrap_or_else(|e| panic!("{method} {path}: {e}"))
}

/// As [`request`], with connection failures returned.
pub fn try_request(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> std::io::Result<Reply> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(60)))?;
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n");
    if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("content-length")) {
        head.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes())?;
    // The server may answer (413) before reading everything; a broken pipe then is fine.
    let _ = stream.write_all(body);
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    parse(&raw).ok_or_else(|| std::io::Error::other(format!("not an HTTP answer: {}", String::from_utf8_lossy(&raw))))
}

fn parse(raw: &[u8]) -> Option<Reply> {
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = std::str::from_utf8(&raw[..split]).ok()?;
    let mut lines = head.split("\r\n");
    let status = lines.next()?.split(' ').nth(1)?.parse().ok()?;
    let headers: Vec<(String, String)> =
        lines.filter_map(|l| l.split_once(':').map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))).collect();
    let mut body = raw[split + 4..].to_vec();
    let chunked = headers.iter().any(|(k, v)| k.eq_ignore_ascii_case("transfer-encoding") && v.contains("chunked"));
    if chunked {
        body = dechunk(&body)?;
    }
    Some(Reply { status, headers, body })
}

fn dechunk(mut raw: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let line_end = raw.windows(2).position(|w| w == b"\r\n")?;
        let size = usize::from_str_radix(std::str::from_utf8(&raw[..line_end]).ok()?.trim(), 16).ok()?;
        raw = &raw[line_end + 2..];
        if size == 0 {
            return Some(out);
        }
        out.extend_from_slice(raw.get(..size)?);
        raw = raw.get(size + 2..)?;
    }
}

/// A Python that can import `tritonclient.http`: this machine's, or one with the pinned client
/// installed (once) under `.cache/python-serve` by pip — the same first-use set-up as ONNX Runtime.
pub fn python_with_tritonclient() -> (PathBuf, Vec<(String, String)>) {
    let imports = "import tritonclient.http, pandas, numpy, cloudevents.core.bindings.http";
    (PathBuf::from("python3"), python_env("tests/serve/requirements.txt", imports, ".cache/python-serve"))
}

/// Environment variables, as pairs.
type PythonEnv = Vec<(String, String)>;

/// The environment under which `python3` runs `imports`: none when this machine's Python can,
/// else `PYTHONPATH` on `requirements` installed (once per test run, and kept) into `cache` by pip.
pub fn python_env(requirements: &str, imports: &str, cache: &str) -> Vec<(String, String)> {
    static READY: std::sync::Mutex<Vec<(String, PythonEnv)>> = std::sync::Mutex::new(Vec::new());
    let mut ready = READY.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some((_, env)) = ready.iter().find(|(r, _)| r == requirements) {
        return env.clone();
    }
    let can_import = |env: &[(String, String)]| {
        Command::new("python3")
            .args(["-c", imports])
            .envs(env.iter().map(|(k, v)| (k, v)))
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    let env = if can_import(&[]) {
        Vec::new()
    } else {
        let target = repo(cache);
        let env = vec![("PYTHONPATH".to_string(), target.display().to_string())];
        if !can_import(&env) {
            let status = Command::new("python3")
                .args(["-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--target"])
                .arg(&target)
                .arg("-r")
                .arg(repo(requirements))
                .status()
                .expect("pip runs");
            assert!(status.success(), "pip could not install {requirements}");
        }
        assert!(can_import(&env), "{imports} still fails with {}", target.display());
        env
    };
    ready.push((requirements.to_string(), env.clone()));
    env
}

/// Run a Python script with Triton's client importable; panics with its stderr when it fails.
pub fn run_python(script: &Path, args: &[String]) -> String {
    let (python, env) = python_with_tritonclient();
    let out = Command::new(python)
        .arg(script)
        .args(args)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .current_dir(repo(""))
        .output()
        .expect("python runs");
    assert!(out.status.success(), "{} failed:\n{}", script.display(), String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// How [`churn_request`] writes a V2 request for the churn models.
#[derive(Debug, Clone, Copy)]
pub struct ChurnForm<'a> {
    /// The float columns' datatype (`FP32`, `FP64`).
    pub float: &'a str,
    /// Shape `[rows, 1]` per column (else `[rows]`).
    pub two_dim: bool,
    /// Also send `customer_id` (a column the models do not read: a sticky key).
    pub customer_id: bool,
    /// The request's `parameters.key`.
    pub key: Option<&'a str>,
}

impl Default for ChurnForm<'_> {
    fn default() -> Self {
        Self { float: "FP32", two_dim: false, customer_id: false, key: None }
    }
}

/// A V2 request for the churn models with the rows `rows` of `data` (one tensor per column; an
/// empty numeric cell is `null`).
pub fn churn_request(data: &super::Table, rows: &[usize], form: ChurnForm<'_>) -> String {
    use serde_json::{Value, json};
    let mut spec = vec![
        ("tenure_months", "INT64"),
        ("monthly_charges", form.float),
        ("total_charges", form.float),
        ("senior_citizen", "INT64"),
        ("support_calls", "INT64"),
        ("contract", "BYTES"),
        ("internet_service", "BYTES"),
        ("payment_method", "BYTES"),
        ("paperless_billing", "BYTES"),
    ];
    if form.customer_id {
        spec.push(("customer_id", "BYTES"));
    }
    let shape = if form.two_dim { json!([rows.len(), 1]) } else { json!([rows.len()]) };
    let inputs: Vec<Value> = spec
        .iter()
        .map(|(name, datatype)| {
            let values: Vec<Value> = rows
                .iter()
                .map(|&r| {
                    let cell = &data.column(name)[r];
                    match *datatype {
                        "BYTES" => json!(cell),
                        _ if cell.is_empty() => Value::Null,
                        _ => json!(cell.parse::<f64>().unwrap()),
                    }
                })
                .collect();
            json!({"name": name, "datatype": datatype, "shape": shape, "data": values})
        })
        .collect();
    let mut body = json!({ "inputs": inputs });
    if let Some(k) = form.key {
        body["parameters"] = json!({ "key": k });
    }
    body.to_string()
}

/// `promtool ARGS` with `stdin`; `None` where promtool is missing — never under CI, which installs
/// it and sets `MIRADOR_REQUIRE_SERVER_TOOLS` (then a missing promtool fails the test).
pub fn promtool(args: &[&str], stdin: &str) -> Option<std::process::Output> {
    let child =
        Command::new("promtool").args(args).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn();
    let Ok(mut child) = child else {
        assert!(
            std::env::var_os("MIRADOR_REQUIRE_SERVER_TOOLS").is_none(),
            "promtool is required here (apt-get install prometheus)"
        );
        eprintln!("promtool is not installed here: its check was skipped");
        return None;
    };
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    Some(child.wait_with_output().unwrap())
}
