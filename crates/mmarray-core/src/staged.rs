//! New files that appear under their name only when complete, for outputs that are
//! not arrays (such as text exports): temporary names of the same pattern and the
//! same link-or-rename as [`DynArray::create_staged`](crate::DynArray::create_staged).

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::sys;

/// A new file written under a temporary name in the folder of its destination.
///
/// [`persist`](StagedFile::persist) syncs it and moves it to the destination;
/// dropping it unpersisted (after an error, or when the command is interrupted
/// and unwinds) deletes it. So the destination only ever appears complete.
///
/// ```
/// use std::io::Write;
/// use mmarray_core::StagedFile;
/// # let dir = tempfile::tempdir()?;
/// let path = dir.path().join("out.txt");
/// let mut f = StagedFile::create(&path)?;
/// f.write_all(b"1 2 3\n")?;
/// assert!(!path.exists());
/// f.persist(false)?;
/// assert_eq!(std::fs::read(&path)?, b"1 2 3\n");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct StagedFile {
    file: File,
    tmp: PathBuf,
    dest: PathBuf,
    done: bool,
}

impl StagedFile {
    /// Creates an empty file under a new temporary name next to `dest`.
    pub fn create(dest: impl AsRef<Path>) -> Result<StagedFile> {
        let dest = dest.as_ref();
        for attempt in 0..100u32 {
            let tmp = temp_path(dest, attempt);
            match OpenOptions::new().write(true).create_new(true).open(&tmp) {
                Ok(file) => {
                    return Ok(StagedFile {
                        file,
                        tmp,
                        dest: dest.to_owned(),
                        done: false,
                    });
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(Error::io(dest, "create", e)),
            }
        }
        Err(Error::Exists {
            path: dest.to_owned(),
        })
    }

    /// The open file, for positional writes (`pwrite`) and `set_len` (an `.npz`
    /// writer goes back to its local header once the CRC-32 is known).
    #[must_use]
    pub fn file(&self) -> &File {
        &self.file
    }

    /// The temporary name the data is written under until [`persist`](StagedFile::persist).
    #[must_use]
    pub fn temp_path(&self) -> &Path {
        &self.tmp
    }

    /// Syncs the data and moves the file to its destination; replaces an existing
    /// file there only if `overwrite` (else [`Error::Exists`], checked atomically).
    pub fn persist(mut self, overwrite: bool) -> Result<()> {
        let dest = self.dest.clone();
        self.file
            .sync_all()
            .map_err(|e| Error::io(&dest, "sync", e))?;
        if overwrite {
            std::fs::rename(&self.tmp, &dest)
                .map_err(|e| Error::io(&dest, "rename into place", e))?;
        } else {
            // A hard link fails if `dest` exists: an atomic "rename unless it exists".
            std::fs::hard_link(&self.tmp, &dest).map_err(|e| {
                if e.kind() == io::ErrorKind::AlreadyExists {
                    Error::Exists { path: dest.clone() }
                } else {
                    Error::io(&dest, "link into place", e)
                }
            })?;
            // The data is in place; a temporary name left behind is only untidy.
            let _ = std::fs::remove_file(&self.tmp);
        }
        self.done = true;
        if let Some(dir) = dest.parent().filter(|p| !p.as_os_str().is_empty()) {
            sys::sync_dir(dir).map_err(|e| Error::io(dir, "sync folder", e))?;
        }
        Ok(())
    }
}

impl Write for StagedFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.file.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

/// A temporary name for a new file that is to appear as `path`, with the pattern
/// of staged arrays (`.NAME.PID.N.mmarray-tmp`): in the same folder, hidden, and
/// unique to this process and call (`attempt` varies it after a collision).
fn temp_path(path: &Path, attempt: u32) -> PathBuf {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::from(d.subsec_nanos()));
    let n = nanos ^ (COUNTER.fetch_add(1, Ordering::Relaxed) << 32) ^ u64::from(attempt);
    dir.join(format!(".{name}.{}.{n}.mmarray-tmp", std::process::id()))
}

impl Drop for StagedFile {
    fn drop(&mut self) {
        if !self.done {
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn dropped_or_refused_files_leave_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("out.txt");
        let mut f = StagedFile::create(&dest).unwrap();
        f.write_all(b"half").unwrap();
        assert!(f.temp_path().exists());
        assert_eq!(f.temp_path().parent(), Some(dir.path()));
        drop(f);
        assert!(names(dir.path()).is_empty());

        std::fs::write(&dest, b"old").unwrap();
        let mut f = StagedFile::create(&dest).unwrap();
        f.write_all(b"new").unwrap();
        assert!(matches!(f.persist(false), Err(Error::Exists { .. })));
        assert_eq!(names(dir.path()), ["out.txt"]);
        assert_eq!(std::fs::read(&dest).unwrap(), b"old");

        let mut f = StagedFile::create(&dest).unwrap();
        f.write_all(b"new").unwrap();
        f.persist(true).unwrap();
        assert_eq!(names(dir.path()), ["out.txt"]);
        assert_eq!(std::fs::read(&dest).unwrap(), b"new");
    }
}
