//! `.tar.gz` bundles: packing a bundle folder, and unpacking one safely: no absolute paths, no
//! `..`, no links or special files, and bounded sizes — each file no larger than the manifest says
//! (a tampered archive whose model is a gigabyte of zeros is refused from its header, before a byte
//! is written), nothing outside the manifest over a few kilobytes, and all of it under a hard cap.

use std::io::Read;
use std::path::{Component, Path, PathBuf};

use super::manifest::Manifest;
use crate::core::atomic::write_atomic;
use crate::core::error::{Error, Result};
use crate::core::text::size;

/// The most an archive may unpack to, whatever its manifest says.
pub const MAX_UNPACKED_BYTES: u64 = 2 << 30;
/// The largest manifest read.
const MAX_MANIFEST_BYTES: u64 = 4 << 20;
/// The largest file not in the manifest that is unpacked (to be reported as unlisted).
const MAX_UNLISTED_BYTES: u64 = 64 << 10;

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

fn refused(archive: &Path, why: String) -> Error {
    Error::Invalid(format!("the bundle archive is refused: {why} — {}", archive.display()))
}

fn unreadable(archive: &Path, e: &std::io::Error) -> Error {
    Error::Invalid(format!(
        "the bundle archive cannot be read ({e}); it may be truncated or not a .tar.gz — {}",
        archive.display()
    ))
}

fn entries(archive: &Path) -> Result<tar::Archive<flate2::read::GzDecoder<std::fs::File>>> {
    let file = std::fs::File::open(archive).map_err(|e| Error::io("open the bundle archive", archive, e))?;
    Ok(tar::Archive::new(flate2::read::GzDecoder::new(file)))
}

/// The manifest inside the archive (a first pass over its entries, reading only that file).
fn manifest_of(archive: &Path) -> Result<Option<Manifest>> {
    let mut tar = entries(archive)?;
    for entry in tar.entries().map_err(|e| unreadable(archive, &e))? {
        let entry = entry.map_err(|e| unreadable(archive, &e))?;
        let rel = entry.path().map_err(|e| unreadable(archive, &e))?.into_owned();
        if rel.components().count() == 2 && rel.ends_with("manifest.json") {
            if entry.header().size().unwrap_or(u64::MAX) > MAX_MANIFEST_BYTES {
                return Err(refused(archive, format!("its manifest is over {}", size(MAX_MANIFEST_BYTES))));
            }
            let mut text = String::new();
            entry.take(MAX_MANIFEST_BYTES).read_to_string(&mut text).map_err(|e| unreadable(archive, &e))?;
            return Ok(serde_json::from_str(&text).ok());
        }
    }
    Ok(None)
}

/// Unpack a bundle archive into `into`, refusing unsafe entries and entries larger than the
/// manifest allows; returns the bundle's folder.
pub(super) fn unpack(archive: &Path, into: &Path) -> Result<PathBuf> {
    let manifest = manifest_of(archive)?;
    let allowed = |rel: &str| -> u64 {
        match (rel, &manifest) {
            ("manifest.json", _) => MAX_MANIFEST_BYTES,
            (_, Some(m)) if !m.sizes.is_empty() => m.sizes.get(rel).copied().unwrap_or(MAX_UNLISTED_BYTES),
            (_, Some(m)) if !m.files.contains_key(rel) => MAX_UNLISTED_BYTES,
            _ => MAX_UNPACKED_BYTES,
        }
    };
    let mut tar = entries(archive)?;
    let mut top: Option<String> = None;
    let mut total = 0u64;
    for entry in tar.entries().map_err(|e| unreadable(archive, &e))? {
        let mut entry = entry.map_err(|e| unreadable(archive, &e))?;
        let rel = entry.path().map_err(|e| unreadable(archive, &e))?.into_owned();
        if !safe_relative(&rel) {
            return Err(refused(archive, format!("entry '{}' leaves the bundle", rel.display())));
        }
        let kind = entry.header().entry_type();
        if !(kind.is_file() || kind.is_dir()) {
            return Err(refused(archive, format!("entry '{}' is a link or special file", rel.display())));
        }
        let first = rel.components().next().map(|c| c.as_os_str().to_string_lossy().into_owned()).unwrap_or_default();
        if top.get_or_insert_with(|| first.clone()) != &first {
            return Err(refused(archive, "entries are not under one folder".into()));
        }
        let target = into.join(&rel);
        if kind.is_dir() {
            std::fs::create_dir_all(&target).map_err(|e| Error::io("unpack the bundle archive", archive, e))?;
            continue;
        }
        let inner: String =
            rel.components().skip(1).map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/");
        let len = entry.header().size().map_err(|e| unreadable(archive, &e))?;
        let limit = allowed(&inner);
        if len > limit {
            return Err(refused(
                archive,
                format!("'{inner}' would unpack to {}, more than the {} its manifest allows", size(len), size(limit)),
            ));
        }
        total = total.saturating_add(len);
        if total > MAX_UNPACKED_BYTES {
            return Err(refused(archive, format!("it would unpack to more than {}", size(MAX_UNPACKED_BYTES))));
        }
        if let Some(p) = target.parent() {
            std::fs::create_dir_all(p).map_err(|e| Error::io("unpack the bundle archive", archive, e))?;
        }
        // The header's size was checked; `take` holds the copy to it whatever the stream holds.
        let mut out = std::fs::File::create(&target).map_err(|e| Error::io("unpack the bundle archive", archive, e))?;
        std::io::copy(&mut (&mut entry).take(len), &mut out).map_err(|e| unreadable(archive, &e))?;
    }
    top.map(|t| into.join(t)).ok_or_else(|| refused(archive, "it is empty".into()))
}

/// A relative path with only normal components.
pub(super) fn safe_relative(path: &Path) -> bool {
    !path.as_os_str().is_empty() && path.components().all(|c| matches!(c, Component::Normal(_) | Component::CurDir))
}
