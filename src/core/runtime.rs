//! Finding, fetching and loading the ONNX Runtime shared library.
//!
//! Mirador links ONNX Runtime dynamically (ort's `load-dynamic`). The library is looked for, in order:
//! 1. `ORT_DYLIB_PATH` — for people who already have it;
//! 2. beside the executable (`<bin>/` and `<bin>/../lib/`): a container image ships it there;
//! 3. the cache: `$MIRADOR_CACHE_DIR`, else `.cache/` in the source checkout (when the binary runs
//!    where it was built), else `$XDG_CACHE_HOME/mirador` or `~/.cache/mirador`;
//! 4. otherwise it is fetched once into the cache from PyPI's `onnxruntime` wheel with
//!    `python3 -m pip download`, which carries `onnxruntime/capi/<library>`.
//!
//! When all of that fails, the error lists every place looked.
//!
//! A failure at any step becomes one [`Error::RuntimeUnavailable`] with the fix, never a panic.

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use ort::environment::Environment;

use super::error::{Error, Result};

/// The ONNX Runtime release Mirador is built and tested against.
pub const ORT_VERSION: &str = "1.31.1";

#[cfg(target_os = "linux")]
const LIBRARY_NAME: &str = "libonnxruntime.so.1.31.1";
#[cfg(target_os = "macos")]
const LIBRARY_NAME: &str = "libonnxruntime.1.31.1.dylib";
#[cfg(target_os = "windows")]
const LIBRARY_NAME: &str = "onnxruntime.dll";

static ENVIRONMENT: OnceLock<std::result::Result<Environment, (String, String)>> = OnceLock::new();

/// The process-wide ONNX Runtime environment, loading (and if needed fetching) the library on first use.
pub fn environment() -> Result<&'static Environment> {
    let loaded = ENVIRONMENT.get_or_init(|| {
        let path = library_path().map_err(|e| match e {
            Error::RuntimeUnavailable { reason, fix, .. } => (reason, fix),
            other => (other.to_string(), reinstall_fix()),
        })?;
        let builder =
            ort::init_from(&path).map_err(|e| (format!("could not load {}: {e}", path.display()), reinstall_fix()))?;
        let env = builder
            .with_name("mirador")
            .with_telemetry(false)
            .build()
            .map_err(|e| (format!("could not start ONNX Runtime from {}: {e}", path.display()), reinstall_fix()))?;
        // ONNX Runtime would also print its errors to stderr, raw; Mirador reports each one itself,
        // once, summarised.
        env.set_log_level(ort::logging::LogLevel::Fatal);
        Ok(env)
    });
    loaded.as_ref().map_err(|(reason, fix)| unavailable(reason.clone(), fix.clone()))
}

/// The cores this process may use (at least one): the default for thread and worker counts.
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZero::get)
}

/// Where the shared library is, fetching it into the cache when it is nowhere yet.
pub fn library_path() -> Result<PathBuf> {
    if let Some(path) = std::env::var_os("ORT_DYLIB_PATH") {
        let path = PathBuf::from(path);
        if path.is_file() {
            return Ok(path);
        }
        return Err(unavailable(
            format!("ORT_DYLIB_PATH is set to {}, which is not a file", path.display()),
            "point ORT_DYLIB_PATH at libonnxruntime, or unset it to let Mirador fetch ONNX Runtime itself".into(),
        ));
    }
    let dir = cache_dir().join(format!("onnxruntime-{ORT_VERSION}"));
    let target = dir.join(LIBRARY_NAME);
    let mut looked: Vec<PathBuf> = beside_executable();
    looked.push(target.clone());
    if let Some(found) = looked.iter().find(|p| p.is_file()) {
        return Ok(found.clone());
    }
    fetch_into(&dir, &target).map_err(|e| match e {
        Error::RuntimeUnavailable { version, reason, fix } => {
            let places: Vec<String> = looked.iter().map(|p| p.display().to_string()).collect();
            Error::RuntimeUnavailable {
                version,
                reason: format!(
                    "{reason} (looked for {LIBRARY_NAME} at: {}; ORT_DYLIB_PATH is not set)",
                    places.join(", ")
                ),
                fix,
            }
        }
        other => other,
    })?;
    Ok(target)
}

/// `<bin>/LIB` and `<bin>/../lib/LIB` for the running executable.
fn beside_executable() -> Vec<PathBuf> {
    let Some(bin) = std::env::current_exe().ok().and_then(|e| e.parent().map(Path::to_path_buf)) else {
        return Vec::new();
    };
    vec![bin.join(LIBRARY_NAME), bin.join("..").join("lib").join(LIBRARY_NAME)]
}

/// The folder holding fetched runtime files.
pub fn cache_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("MIRADOR_CACHE_DIR") {
        return PathBuf::from(dir);
    }
    let checkout = Path::new(env!("CARGO_MANIFEST_DIR"));
    if checkout.join("Cargo.toml").is_file() {
        return checkout.join(".cache");
    }
    if let Some(dir) = std::env::var_os("XDG_CACHE_HOME") {
        return PathBuf::from(dir).join("mirador");
    }
    std::env::var_os("HOME").map_or_else(|| PathBuf::from(".cache"), |h| PathBuf::from(h).join(".cache/mirador"))
}

/// Fetch the wheel with pip and extract the library; a file lock makes concurrent first runs wait
/// for one download instead of racing.
fn fetch_into(dir: &Path, target: &Path) -> Result<()> {
    fs::create_dir_all(dir).map_err(|e| unavailable(format!("cannot create {}: {e}", dir.display()), cache_fix()))?;
    let lock_path = dir.join(".fetch.lock");
    let lock = File::create(&lock_path)
        .map_err(|e| unavailable(format!("cannot create {}: {e}", lock_path.display()), cache_fix()))?;
    lock.lock().map_err(|e| unavailable(format!("cannot lock {}: {e}", lock_path.display()), cache_fix()))?;
    if target.is_file() {
        return Ok(()); // another process fetched it while we waited
    }
    eprintln!("Fetching ONNX Runtime {ORT_VERSION} from PyPI (first run only) into {} ...", dir.display());
    let download = tempfile::tempdir_in(dir)
        .map_err(|e| unavailable(format!("cannot create a temporary folder in {}: {e}", dir.display()), cache_fix()))?;
    let python = std::env::var("MIRADOR_PYTHON").unwrap_or_else(|_| "python3".into());
    let output = Command::new(&python)
        .args(["-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--disable-pip-version-check", "--quiet"])
        .arg("--dest")
        .arg(download.path())
        .arg(format!("onnxruntime=={ORT_VERSION}"))
        .output()
        .map_err(|e| unavailable(format!("could not run `{python} -m pip`: {e}"), reinstall_fix()))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let last = stderr.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("no output");
        return Err(unavailable(format!("`pip download onnxruntime=={ORT_VERSION}` failed: {last}"), reinstall_fix()));
    }
    let wheel = fs::read_dir(download.path())
        .ok()
        .and_then(|entries| entries.flatten().map(|e| e.path()).find(|p| p.extension().is_some_and(|x| x == "whl")))
        .ok_or_else(|| unavailable("pip reported success but left no wheel".into(), reinstall_fix()))?;
    let partial = download.path().join(LIBRARY_NAME);
    let extract =
        "import sys, zipfile\nz = zipfile.ZipFile(sys.argv[1])\nopen(sys.argv[3], 'wb').write(z.read(sys.argv[2]))";
    let status = Command::new(&python)
        .args(["-c", extract])
        .arg(&wheel)
        .arg(format!("onnxruntime/capi/{LIBRARY_NAME}"))
        .arg(&partial)
        .status()
        .map_err(|e| unavailable(format!("could not run {python} to unpack the wheel: {e}"), reinstall_fix()))?;
    if !status.success() {
        return Err(unavailable(format!("the wheel {} has no {LIBRARY_NAME}", wheel.display()), reinstall_fix()));
    }
    fs::rename(&partial, target)
        .map_err(|e| unavailable(format!("cannot move the library into {}: {e}", target.display()), cache_fix()))
}

fn unavailable(reason: String, fix: String) -> Error {
    Error::RuntimeUnavailable { version: ORT_VERSION, reason, fix }
}

fn reinstall_fix() -> String {
    format!(
        "make sure `python3 -m pip download onnxruntime=={ORT_VERSION}` works (Python 3 with pip and access to PyPI), \
         or download libonnxruntime {ORT_VERSION} yourself and set ORT_DYLIB_PATH to it"
    )
}

fn cache_fix() -> String {
    "set MIRADOR_CACHE_DIR to a writable folder, or ORT_DYLIB_PATH to an existing libonnxruntime".into()
}
