//! Writing files the user owns without ever leaving them half-written: the bytes go to a temporary
//! file in the same folder, which is flushed to disk and then renamed over the target.

use std::io::Write;
use std::path::Path;

use super::error::{Error, Result};

/// Write `bytes` to `path` atomically; `what` names the file in errors ("write the profile").
pub fn write_atomic(path: &Path, bytes: &[u8], what: &str) -> Result<()> {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let mut temp = tempfile::Builder::new()
        .prefix(".mirador-")
        .suffix(".partial")
        .tempfile_in(dir)
        .map_err(|e| Error::io(what, path, e))?;
    temp.write_all(bytes).map_err(|e| Error::io(what, path, e))?;
    temp.as_file().sync_all().map_err(|e| Error::io(what, path, e))?;
    temp.persist(path).map_err(|e| Error::io(what, path, e.error))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_the_file_and_leaves_no_temporary_behind() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("card.md");
        std::fs::write(&path, "old").expect("seed");
        write_atomic(&path, b"new", "write the card").expect("written");
        assert_eq!(std::fs::read_to_string(&path).expect("read"), "new");
        let names: Vec<_> = std::fs::read_dir(dir.path()).expect("list").flatten().map(|e| e.file_name()).collect();
        assert_eq!(names, vec![std::ffi::OsString::from("card.md")]);
    }

    #[test]
    fn a_missing_folder_is_an_error_naming_the_file() {
        let err = write_atomic(Path::new("/nonexistent-dir/x.md"), b"x", "write the card").expect_err("fails");
        assert!(err.to_string().contains("x.md"), "{err}");
    }
}
