//! The bundle's files: written atomically, listed, hashed, read back.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::core::atomic::write_atomic;
use crate::core::error::{Error, Result};

/// SHA-256 of a file, lowercase hex.
pub fn file_sha256(path: &Path) -> Result<String> {
    use std::io::Read;
    // Streamed: a file of any size is hashed in a 64 KiB buffer.
    let mut file = std::fs::File::open(path).map_err(|e| Error::io("read", path, e))?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 64 << 10];
    loop {
        let n = file.read(&mut buffer).map_err(|e| Error::io("read", path, e))?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
    }
    Ok(crate::core::model::hex(&hasher.finalize()))
}

/// Every file under `dir` but the manifest → its size in bytes.
pub(super) fn sizes(dir: &Path) -> Result<BTreeMap<String, u64>> {
    let mut out = BTreeMap::new();
    for path in files_under(dir)? {
        let rel = relative(dir, &path);
        if rel != "manifest.json" {
            let len = std::fs::metadata(&path).map_err(|e| Error::io("read", &path, e))?.len();
            out.insert(rel, len);
        }
    }
    Ok(out)
}

pub(super) fn put(dir: &Path, rel: &str, bytes: &[u8]) -> Result<()> {
    let path = dir.join(rel);
    if let Some(p) = path.parent() {
        std::fs::create_dir_all(p).map_err(|e| Error::io("create a folder", p, e))?;
    }
    write_atomic(&path, bytes, "write the bundle")
}

pub(super) fn json_bytes(value: &impl Serialize) -> Result<Vec<u8>> {
    let mut text = serde_json::to_vec_pretty(value).map_err(|e| Error::Invalid(e.to_string()))?;
    text.push(b'\n');
    Ok(text)
}

/// Every file under `dir` (relative, `/`-separated) → SHA-256, except the manifest.
pub(super) fn checksums(dir: &Path) -> Result<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    for path in files_under(dir)? {
        let rel = relative(dir, &path);
        if rel != "manifest.json" {
            out.insert(rel, file_sha256(&path)?);
        }
    }
    Ok(out)
}

/// Every regular file under `dir`, recursively (symbolic links are listed as files so that
/// verification can refuse them).
pub(super) fn files_under(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).map_err(|e| Error::io("list", &d, e))? {
            let entry = entry.map_err(|e| Error::io("list", &d, e))?;
            let kind = entry.file_type().map_err(|e| Error::io("list", entry.path(), e))?;
            if kind.is_dir() {
                stack.push(entry.path());
            } else {
                out.push(entry.path());
            }
        }
    }
    out.sort();
    Ok(out)
}

pub(super) fn relative(dir: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(dir).unwrap_or(path);
    rel.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect::<Vec<_>>().join("/")
}

/// The text of `rel` in the bundle, or what went wrong reading it.
pub(super) fn read(dir: &Path, rel: &str) -> std::result::Result<String, String> {
    std::fs::read_to_string(dir.join(rel)).map_err(|e| format!("cannot read {rel}: {e}"))
}
