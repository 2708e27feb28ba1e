//! New files that appear under their name only when complete, for outputs that are
//! not arrays (such as text exports): made as [`DynArray::create_staged`] makes its
//! files (unnamed where the filesystem allows it, else under a hidden temporary
//! name), and moved into place the same way.
//!
//! [`DynArray::create_staged`]: crate::DynArray::create_staged

use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::{staging, sys};

/// A new file written unnamed (or under a temporary name) in the folder of its
/// destination.
///
/// [`persist`](StagedFile::persist) syncs it and moves it to the destination;
/// dropping it unpersisted (after an error) deletes it, and
/// [`abandon_staged`](crate::abandon_staged) removes it too. So the destination
/// only ever appears complete.
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
    /// The temporary name, for a named staged file.
    tmp: Option<PathBuf>,
    dest: PathBuf,
    ticket: staging::Ticket,
    done: bool,
}

impl StagedFile {
    /// Creates an empty file that is to become `dest`: unnamed in its folder where
    /// the filesystem allows it, else under a new temporary name there.
    pub fn create(dest: impl AsRef<Path>) -> Result<StagedFile> {
        let dest = dest.as_ref();
        let (file, tmp, ticket) = staging::open(dest)?;
        Ok(StagedFile {
            file,
            tmp,
            dest: dest.to_owned(),
            ticket,
            done: false,
        })
    }

    /// The open file, for positional writes (`pwrite`) and `set_len` (an `.npz`
    /// writer goes back to its local header once the CRC-32 is known).
    #[must_use]
    pub fn file(&self) -> &File {
        &self.file
    }

    /// The temporary name the data is written under until
    /// [`persist`](StagedFile::persist); `None` for an unnamed file.
    #[must_use]
    pub fn temp_path(&self) -> Option<&Path> {
        self.tmp.as_deref()
    }

    /// Syncs the data and moves the file to its destination; replaces an existing
    /// file there only if `overwrite` (else [`Error::Exists`], checked atomically).
    pub fn persist(mut self, overwrite: bool) -> Result<()> {
        let dest = self.dest.clone();
        self.file
            .sync_all()
            .map_err(|e| Error::io(&dest, "sync", e))?;
        staging::commit(&self.ticket, || {
            staging::move_into_place(&self.file, self.tmp.as_deref(), &dest, overwrite)
        })
        .ok_or_else(|| Error::Interrupted { path: dest.clone() })??;
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

impl Drop for StagedFile {
    fn drop(&mut self) {
        if !self.done {
            staging::discard(&self.ticket);
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
        match f.temp_path() {
            // Named: hidden in the destination's folder.
            Some(tmp) => {
                assert!(tmp.exists());
                assert_eq!(tmp.parent(), Some(dir.path()));
            }
            // Unnamed: nothing shows.
            None => assert!(names(dir.path()).is_empty()),
        }
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
