//! Writing files the user owns without ever leaving them half-written: the bytes go to a temporary
//! file in the same folder, which is flushed to disk and then renamed over the target.
//!
//! Temporaries are named after their target and the process writing them —
//! `.predictions.csv.mirador-<pid>-<random>.partial` — so that what a killed process left behind
//! (nothing can clean up after a SIGKILL) is recognised and removed by the next run that writes the
//! same target ([`remove_stale_temporaries`]). While a temporary exists it is listed, so a signal
//! handler can remove every one before the process exits ([`remove_live_temporaries`]).

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};
use std::time::SystemTime;

use super::error::{Error, Result};

/// Temporaries this process has open, by path.
static LIVE: Mutex<BTreeSet<PathBuf>> = Mutex::new(BTreeSet::new());

/// When this process first wrote a file (a temporary older than that is not ours).
static STARTED: std::sync::LazyLock<SystemTime> = std::sync::LazyLock::new(SystemTime::now);

/// The name prefix of `target`'s temporaries (any process).
fn prefix_of(target: &Path) -> String {
    let name = target.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    // Keep the whole temporary name well under the 255 bytes most file systems allow.
    let name: String = name.chars().take(100).collect();
    format!(".{name}.mirador-")
}

/// A temporary file beside `path`, readable by others like any file the user saves (tempfile
/// creates it private, 0600, which would surprise whoever opens the published file).
pub fn temp_beside(path: &Path, what: &str) -> Result<Temporary> {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let _ = *STARTED;
    let temp = tempfile::Builder::new()
        .prefix(&format!("{}{}-", prefix_of(path), std::process::id()))
        .suffix(".partial")
        .tempfile_in(dir)
        .map_err(|e| Error::io(what, path, e))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = temp.as_file().set_permissions(std::fs::Permissions::from_mode(0o644));
    }
    LIVE.lock().unwrap_or_else(PoisonError::into_inner).insert(temp.path().to_path_buf());
    Ok(Temporary { file: Some(temp) })
}

/// A temporary file that is removed when dropped, unless [`persist`](Self::persist)ed over its
/// target.
pub struct Temporary {
    file: Option<tempfile::NamedTempFile>,
}

impl Temporary {
    /// The open file.
    pub fn as_file(&self) -> &std::fs::File {
        // Present until `persist` consumes `self`.
        self.file.as_ref().map_or_else(|| unreachable!("a temporary is open until persisted"), |f| f.as_file())
    }

    /// Its path.
    pub fn path(&self) -> &Path {
        self.file.as_ref().map_or(Path::new(""), |f| f.path())
    }

    /// Rename it over `target`.
    pub fn persist(mut self, target: &Path) -> std::io::Result<()> {
        let Some(file) = self.file.take() else { return Ok(()) };
        let path = file.path().to_path_buf();
        let result = file.persist(target).map(|_| ()).map_err(|e| e.error);
        LIVE.lock().unwrap_or_else(PoisonError::into_inner).remove(&path);
        result
    }
}

impl Drop for Temporary {
    fn drop(&mut self) {
        if let Some(file) = self.file.take() {
            let path = file.path().to_path_buf();
            drop(file); // removes it
            LIVE.lock().unwrap_or_else(PoisonError::into_inner).remove(&path);
        }
    }
}

/// Remove every temporary this process has open (a signal handler's last act before exiting).
pub fn remove_live_temporaries() {
    let live = std::mem::take(&mut *LIVE.lock().unwrap_or_else(PoisonError::into_inner));
    for path in live {
        let _ = std::fs::remove_file(path);
    }
}

/// Remove the temporaries of `target` that a process no longer running left behind (killed
/// mid-write), older than this process. Returns a note saying what was removed, if anything.
pub fn remove_stale_temporaries(target: &Path) -> Option<String> {
    let dir = target.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    remove_stale(dir, &prefix_of(target), target)
}

/// Remove every stale temporary in `dir` (a folder Mirador owns, such as a registry's `models/`),
/// whatever its target.
pub fn remove_stale_in(dir: &Path) -> Option<String> {
    remove_stale(dir, ".", dir)
}

/// Remove the temporaries in `dir` whose names start with `prefix`, that a dead process left,
/// older than this one; `shown` is what the note says they were beside.
fn remove_stale(dir: &Path, prefix: &str, shown: &Path) -> Option<String> {
    let started = *STARTED;
    let mut removed = Vec::new();
    for entry in std::fs::read_dir(dir).ok()?.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(rest) = name.strip_prefix(prefix).filter(|_| name.ends_with(".partial")) else { continue };
        // What follows ".mirador-" is "<pid>-<random>.partial".
        let ours =
            if prefix.ends_with(".mirador-") { Some(rest) } else { rest.rsplit_once(".mirador-").map(|(_, b)| b) };
        let Some(ours) = ours else { continue };
        let pid: Option<u32> = ours.split('-').next().and_then(|p| p.parse().ok());
        if pid.is_some_and(process_alive) {
            continue;
        }
        let older = entry.metadata().and_then(|m| m.modified()).is_ok_and(|m| m < started);
        if older && std::fs::remove_file(entry.path()).is_ok() {
            removed.push(name);
        }
    }
    (!removed.is_empty()).then(|| {
        format!(
            "removed {} unfinished file(s) an interrupted run left beside {}: {}",
            removed.len(),
            shown.display(),
            removed.join(", ")
        )
    })
}

/// Whether a process with this id is running (Linux: `/proc`; elsewhere assume it is, so nothing
/// of a live writer is ever removed).
fn process_alive(pid: u32) -> bool {
    if pid == std::process::id() {
        return true;
    }
    if cfg!(target_os = "linux") { Path::new(&format!("/proc/{pid}")).exists() } else { true }
}

/// Write `bytes` to `path` atomically; `what` names the file in errors ("write the profile").
pub fn write_atomic(path: &Path, bytes: &[u8], what: &str) -> Result<()> {
    let mut temp = temp_beside(path, what)?;
    let file = temp.file.as_mut().ok_or_else(|| Error::internal("a new temporary file is missing"))?;
    file.write_all(bytes).map_err(|e| Error::io(what, path, e))?;
    temp.as_file().sync_all().map_err(|e| Error::io(what, path, e))?;
    temp.persist(path).map_err(|e| Error::io(what, path, e))?;
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

    #[test]
    fn a_dead_writers_temporary_is_removed_and_a_live_ones_kept() {
        let dir = tempfile::tempdir().expect("temp dir");
        let target = dir.path().join("out.csv");
        let _ = *STARTED;
        // pid 0 is never a user process: a writer that is gone.
        let dead = dir.path().join(".out.csv.mirador-0-abc123.partial");
        let other = dir.path().join(".other.csv.mirador-0-abc123.partial");
        std::fs::write(&dead, "half").expect("seed");
        std::fs::write(&other, "half").expect("seed");
        let old = SystemTime::now() - std::time::Duration::from_secs(3600);
        for p in [&dead, &other] {
            std::fs::File::options().write(true).open(p).and_then(|f| f.set_modified(old)).expect("age");
        }
        let live = temp_beside(&target, "write").expect("temporary");
        let note = remove_stale_temporaries(&target).expect("something removed");
        assert!(note.contains(".out.csv.mirador-0-abc123.partial"), "{note}");
        assert!(!dead.exists(), "the dead writer's file is gone");
        assert!(other.exists(), "another target's file is left alone");
        assert!(live.path().exists(), "this process's own temporary is kept");
        // A folder Mirador owns is cleaned whatever the target.
        let note = remove_stale_in(dir.path()).expect("the other target's leftover");
        assert!(note.contains(".other.csv.mirador-0-abc123.partial") && !other.exists(), "{note}");
        assert!(live.path().exists());
    }
}
