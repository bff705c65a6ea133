//! `.tar.gz` bundles: packing a bundle folder, and unpacking one safely (no absolute paths, no
//! `..`, no links or special files, sizes bounded).

use std::path::{Component, Path, PathBuf};

use crate::core::atomic::write_atomic;
use crate::core::error::{Error, Result};

/// Pack `dir` as `<dir>.tar.gz` (entries under the folder's name), atomically.
pub(super) fn write_tar_gz(dir: &Path) -> Result<PathBuf> {
    let target = PathBuf::from(format!("{}.tar.gz", dir.display()));
    let folder = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "bundle".into());
    let mut bytes = Vec::new();
    {
        let gz = flate2::write::GzEncoder::new(&mut bytes, flate2::Compression::default());
        let mut tar = tar::Builder::new(gz);
        tar.append_dir_all(&folder, dir).map_err(|e| Error::io("pack the bundle", dir, e))?;
        tar.into_inner().and_then(|gz| gz.finish()).map_err(|e| Error::io("pack the bundle", dir, e))?;
    }
    write_atomic(&target, &bytes, "write the bundle archive")?;
    Ok(target)
}

/// Unpack a bundle archive, refusing absolute paths, `..`, links and special files.
pub(super) fn unpack(archive: &Path, into: &Path) -> Result<PathBuf> {
    let file = std::fs::File::open(archive).map_err(|e| Error::io("open the bundle archive", archive, e))?;
    let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(file));
    let bad = |why: String| Error::Invalid(format!("the bundle archive is refused: {why} — {}", archive.display()));
    let mut top: Option<String> = None;
    for entry in tar.entries().map_err(|e| Error::io("read the bundle archive", archive, e))? {
        let mut entry = entry.map_err(|e| Error::io("read the bundle archive", archive, e))?;
        let rel = entry.path().map_err(|e| Error::io("read the bundle archive", archive, e))?.into_owned();
        if !safe_relative(&rel) {
            return Err(bad(format!("entry '{}' leaves the bundle", rel.display())));
        }
        let kind = entry.header().entry_type();
        if !(kind.is_file() || kind.is_dir()) {
            return Err(bad(format!("entry '{}' is a link or special file", rel.display())));
        }
        let first = rel.components().next().map(|c| c.as_os_str().to_string_lossy().into_owned()).unwrap_or_default();
        if top.get_or_insert_with(|| first.clone()) != &first {
            return Err(bad("entries are not under one folder".into()));
        }
        let target = into.join(&rel);
        if kind.is_dir() {
            std::fs::create_dir_all(&target).map_err(|e| Error::io("unpack", &target, e))?;
        } else {
            if let Some(p) = target.parent() {
                std::fs::create_dir_all(p).map_err(|e| Error::io("unpack", p, e))?;
            }
            entry.unpack(&target).map_err(|e| Error::io("unpack", &target, e))?;
        }
    }
    top.map(|t| into.join(t)).ok_or_else(|| bad("it is empty".into()))
}

/// A relative path with only normal components.
pub(super) fn safe_relative(path: &Path) -> bool {
    !path.as_os_str().is_empty() && path.components().all(|c| matches!(c, Component::Normal(_) | Component::CurDir))
}
