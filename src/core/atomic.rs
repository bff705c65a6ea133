//! Writing files the user owns without ever leaving them half-written: the bytes go to a temporary
//! file in the same folder, which is flushed to disk and then renamed over the target.

use std::io::Write;
use std::path::Path;

use super::error::{Error, Result};

/// A temporary file beside `path`, readable by others like any file the user saves (tempfile
/// creates it private, 0600, which would surprise whoever opens the published file).
pub fn temp_beside(path: &Path, what: &str) -> Result<tempfile::NamedTempFile> {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let temp = tempfile::Builder::new()
        .prefix(".mirador-")
        .suffix(".partial")
        .tempfile_in(dir)
        .map_err(|e| Error::io(what, path, e))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = temp.as_file().set_permissions(std::fs::Permissions::from_mode(0o644));
    }
    Ok(temp)
}

/// Write `bytes` to `path` atomically; `what` names the file in errors ("write the profile").
pub fn write_atomic(path: &Path, bytes: &[u8], what: &str) -> Result<()> {
    let mut temp = temp_beside(path, what)?;
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
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).expect("metadata").permissions().mode();
            assert_eq!(mode & 0o777, 0o644, "published files are readable like any saved file");
        }
        let names: Vec<_> = std::fs::read_dir(dir.path()).expect("list").flatten().map(|e| e.file_name()).collect();
        assert_eq!(names, vec![std::ffi::OsString::from("card.md")]);
    }

    #[test]
    fn a_missing_folder_is_an_error_naming_the_file() {
        let err = write_atomic(Path::new("/nonexistent-dir/x.md"), b"x", "write the card").expect_err("fails");
        assert!(err.to_string().contains("x.md"), "{err}");
    }
}
